// Command create is the Create Auth Challenge Lambda.
package main

import (
	"context"
	"os"

	"github.com/aws/aws-lambda-go/lambda"
	"github.com/aws/aws-sdk-go-v2/service/sqs"

	"github.com/cognito-email-otp/cognito-email-otp/mailer"
	"github.com/cognito-email-otp/cognito-email-otp/triggers"
)

func main() {
	cfg, err := triggers.LoadCreateConfig()
	triggers.ExitOnError("create", err)
	ctx, cancel := context.WithTimeout(context.Background(), triggers.StartupTimeout)
	defer cancel()
	awsCfg, err := triggers.LoadAWS(ctx)
	triggers.ExitOnError("create", err)
	key, err := triggers.LoadKey(ctx, cfg.Key, awsCfg)
	triggers.ExitOnError("create", err)
	h := &triggers.Create{
		Config: cfg,
		Key:    key,
		Queue:  mailer.Queue{Client: sqs.NewFromConfig(awsCfg), URL: cfg.QueueURL},
		Log:    triggers.NewLogger(os.Stdout, cfg.LogLevel),
	}
	lambda.Start(h.Handle)
}
