// Command define is the Define Auth Challenge Lambda.
package main

import (
	"os"

	"github.com/aws/aws-lambda-go/lambda"

	"github.com/cognito-email-otp/cognito-email-otp/triggers"
)

func main() {
	cfg, err := triggers.LoadDefineConfig()
	triggers.ExitOnError("define", err)
	h := &triggers.Define{Config: cfg, Log: triggers.NewLogger(os.Stdout, cfg.LogLevel)}
	lambda.Start(h.Handle)
}
