// Command create is the Create Auth Challenge Lambda.
package main

import (
	"context"
	"os"

	"github.com/aws/aws-lambda-go/lambda"
	"github.com/aws/aws-sdk-go-v2/service/sqs"

	"github.com/cognito-email-otp/cognito-email-otp/internal/awsenv"
	"github.com/cognito-email-otp/cognito-email-otp/internal/startup"
	"github.com/cognito-email-otp/cognito-email-otp/mailer/queue"
	"github.com/cognito-email-otp/cognito-email-otp/triggers"
	"github.com/cognito-email-otp/cognito-email-otp/triggers/secret"
)

func main() {
	cfg, err := triggers.LoadCreateConfig()
	startup.ExitOnError("create", err)
	awsCfg, err := awsenv.Config()
	startup.ExitOnError("create", err)
	ctx, cancel := context.WithTimeout(context.Background(), startup.Timeout)
	defer cancel()
	key, err := secret.LoadKey(ctx, cfg.Key, awsCfg)
	startup.ExitOnError("create", err)
	q := queue.SQS{Client: sqs.NewFromConfig(awsCfg), URL: cfg.QueueURL}
	h := triggers.NewCreate(cfg, key, q, os.Stdout)
	if startup.Check() {
		startup.Ready("create")
	}
	lambda.Start(h.Handle)
}
