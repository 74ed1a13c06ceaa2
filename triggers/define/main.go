// Command define is the Define Auth Challenge Lambda.
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
	cfg, err := triggers.LoadDefineConfig()
	startup.ExitOnError("define", err)
	awsCfg, err := awsenv.Config()
	startup.ExitOnError("define", err)
	ctx, cancel := context.WithTimeout(context.Background(), startup.Timeout)
	defer cancel()
	keys, err := secret.LoadKeyring(ctx, cfg.Key, awsCfg)
	startup.ExitOnError("define", err)
	ledger := triggers.NewLedger(cfg.BudgetConfig, dynamostore.New(awsCfg, cfg.BudgetTable))
	h := triggers.NewDefine(cfg, keys, ledger, os.Stdout)
	if startup.Check() {
		startup.Ready("define")
	}
	lambda.Start(h.Handle)
}
