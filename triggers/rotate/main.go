// Command rotate is the Secrets Manager rotation Lambda of the triggers'
// HMAC key.
package main

import (
	"os"

	"github.com/aws/aws-lambda-go/lambda"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"

	"github.com/cognito-email-otp/cognito-email-otp/internal/awsenv"
	"github.com/cognito-email-otp/cognito-email-otp/internal/startup"
	"github.com/cognito-email-otp/cognito-email-otp/triggers"
	"github.com/cognito-email-otp/cognito-email-otp/triggers/secret"
)

func main() {
	cfg, err := secret.LoadRotateConfig()
	startup.ExitOnError("rotate", err)
	awsCfg, err := awsenv.Config()
	startup.ExitOnError("rotate", err)
	r := secret.Rotator{Client: secretsmanager.NewFromConfig(awsCfg), Log: triggers.NewLogger(os.Stdout, cfg.LogLevel)}
	if startup.Check() {
		startup.Ready("rotate")
	}
	lambda.Start(r.Handle)
}
