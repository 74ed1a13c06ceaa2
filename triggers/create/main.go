// Command create is the Create Auth Challenge Lambda.
package main

import (
	"context"
	"os"

	"github.com/aws/aws-lambda-go/lambda"

	"github.com/cognito-email-otp/cognito-email-otp/internal/startup"
	"github.com/cognito-email-otp/cognito-email-otp/triggers"
)

func main() {
	cfg, err := triggers.LoadCreateConfig()
	startup.ExitOnError("create", err)
	ctx, cancel := context.WithTimeout(context.Background(), startup.Timeout)
	defer cancel()
	awsCfg, err := startup.LoadAWS(ctx)
	startup.ExitOnError("create", err)
	key, err := triggers.LoadKey(ctx, cfg.Key, awsCfg)
	startup.ExitOnError("create", err)
	h := triggers.NewCreate(cfg, key, awsCfg, os.Stdout)
	if startup.Check() {
		startup.Ready("create")
	}
	lambda.Start(h.Handle)
}
