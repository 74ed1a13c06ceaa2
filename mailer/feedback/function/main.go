// Command function is the feedback Lambda: SES's delivery events for the
// configuration set, delivered by SNS, become per-tenant metrics and the
// log lines otpctl trace reads.
package main

import (
	"context"
	"os"

	"github.com/aws/aws-lambda-go/lambda"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"

	"github.com/cognito-email-otp/cognito-email-otp/internal/awsenv"
	"github.com/cognito-email-otp/cognito-email-otp/internal/startup"
	"github.com/cognito-email-otp/cognito-email-otp/mailer/feedback"
	"github.com/cognito-email-otp/cognito-email-otp/triggers"
	"github.com/cognito-email-otp/cognito-email-otp/triggers/secret"
)

func main() {
	cfg, err := feedback.LoadConfig()
	startup.ExitOnError("feedback", err)
	var keys *triggers.Keyring
	if cfg.HMACKey != "" {
		keys, err = triggers.NewKeyring([]byte(cfg.HMACKey), nil)
	} else {
		awsCfg, cerr := awsenv.Config()
		startup.ExitOnError("feedback", cerr)
		ctx, cancel := context.WithTimeout(context.Background(), startup.Timeout)
		src := secret.Source{Client: secretsmanager.NewFromConfig(awsCfg), ID: cfg.HMACSecretARN}
		keys, err = triggers.LoadKeyring(ctx, src, cfg.KeyRefresh)
		cancel()
	}
	startup.ExitOnError("feedback", err)
	h := feedback.New(cfg, keys, os.Stdout)
	if startup.Check() {
		startup.Ready("feedback")
	}
	lambda.Start(h.Handle)
}
