// Command define is the Define Auth Challenge Lambda.
package main

import (
	"os"

	"github.com/aws/aws-lambda-go/lambda"

	"github.com/cognito-email-otp/cognito-email-otp/internal/startup"
	"github.com/cognito-email-otp/cognito-email-otp/triggers"
)

func main() {
	cfg, err := triggers.LoadDefineConfig()
	startup.ExitOnError("define", err)
	h := triggers.NewDefine(cfg, os.Stdout)
	if startup.Check() {
		startup.Ready("define")
	}
	lambda.Start(h.Handle)
}
