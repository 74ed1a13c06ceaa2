// Command verify is the Verify Auth Challenge Response Lambda.
package main

import (
	"context"
	"os"

	"github.com/aws/aws-lambda-go/lambda"

	"github.com/cognito-email-otp/cognito-email-otp/internal/awsenv"
	"github.com/cognito-email-otp/cognito-email-otp/internal/startup"
	"github.com/cognito-email-otp/cognito-email-otp/triggers"
	"github.com/cognito-email-otp/cognito-email-otp/triggers/budget/dynamostore"
	"github.com/cognito-email-otp/cognito-email-otp/triggers/secret"
)

func main() {
	cfg, err := triggers.LoadVerifyConfig()
	startup.ExitOnError("verify", err)
	awsCfg, err := awsenv.Config()
	startup.ExitOnError("verify", err)
	ctx, cancel := context.WithTimeout(context.Background(), startup.Timeout)
	defer cancel()
	keys, err := secret.LoadKeyring(ctx, cfg.Key, awsCfg)
	startup.ExitOnError("verify", err)
	ledger := triggers.NewLedger(cfg.BudgetConfig, dynamostore.New(awsCfg, cfg.BudgetTable))
	h := triggers.NewVerify(cfg, keys, ledger, os.Stdout)
	if startup.Check() {
		startup.Ready("verify")
	}
	lambda.Start(h.Handle)
}
