// Command verify is the Verify Auth Challenge Response Lambda.
package main

import (
	"context"
	"os"

	"github.com/aws/aws-lambda-go/lambda"

	"github.com/cognito-email-otp/cognito-email-otp/internal/startup"
	"github.com/cognito-email-otp/cognito-email-otp/triggers"
)

func main() {
	cfg, err := triggers.LoadVerifyConfig()
	startup.ExitOnError("verify", err)
	ctx, cancel := context.WithTimeout(context.Background(), startup.Timeout)
	defer cancel()
	awsCfg, err := startup.LoadAWS(ctx)
	startup.ExitOnError("verify", err)
	key, err := triggers.LoadKey(ctx, cfg.Key, awsCfg)
	startup.ExitOnError("verify", err)
	h := triggers.NewVerify(cfg, key, os.Stdout)
	if startup.Check() {
		startup.Ready("verify")
	}
	lambda.Start(h.Handle)
}
