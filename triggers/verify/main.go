// Command verify is the Verify Auth Challenge Response Lambda.
package main

import (
	"context"
	"os"

	"github.com/aws/aws-lambda-go/lambda"

	"github.com/cognito-email-otp/cognito-email-otp/triggers"
)

func main() {
	cfg, err := triggers.LoadVerifyConfig()
	triggers.ExitOnError("verify", err)
	ctx, cancel := context.WithTimeout(context.Background(), triggers.StartupTimeout)
	defer cancel()
	awsCfg, err := triggers.LoadAWS(ctx)
	triggers.ExitOnError("verify", err)
	key, err := triggers.LoadKey(ctx, cfg.Key, awsCfg)
	triggers.ExitOnError("verify", err)
	h := &triggers.Verify{Key: key, Log: triggers.NewLogger(os.Stdout, cfg.LogLevel)}
	lambda.Start(h.Handle)
}
