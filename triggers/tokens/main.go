// Command tokens is the Pre Token Generation Lambda: it refuses the tokens
// Cognito would issue after a new password without the emailed code.
package main

import (
	"os"

	"github.com/aws/aws-lambda-go/lambda"

	"github.com/cognito-email-otp/cognito-email-otp/internal/startup"
	"github.com/cognito-email-otp/cognito-email-otp/triggers"
)

func main() {
	cfg, err := triggers.LoadTokensConfig()
	startup.ExitOnError("tokens", err)
	h := triggers.NewTokens(cfg, triggers.NewLogger(os.Stdout, cfg.LogLevel))
	if startup.Check() {
		startup.Ready("tokens")
	}
	lambda.Start(h.Handle)
}
