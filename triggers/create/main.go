// Command create is the Create Auth Challenge Lambda.
package main

import (
	"context"
	"os"

	"github.com/aws/aws-lambda-go/lambda"

	"github.com/cognito-email-otp/cognito-email-otp/internal/awsenv"
	"github.com/cognito-email-otp/cognito-email-otp/internal/startup"
	"github.com/cognito-email-otp/cognito-email-otp/mailer/queue"
	"github.com/cognito-email-otp/cognito-email-otp/triggers"
	"github.com/cognito-email-otp/cognito-email-otp/triggers/budget/dynamostore"
	"github.com/cognito-email-otp/cognito-email-otp/triggers/secret"
)

func main() {
	cfg, err := triggers.LoadCreateConfig()
	startup.ExitOnError("create", err)
	awsCfg, err := awsenv.Config()
	startup.ExitOnError("create", err)
	ctx, cancel := context.WithTimeout(context.Background(), startup.Timeout)
	defer cancel()
	keys, err := secret.LoadKeyring(ctx, cfg.Key, awsCfg)
	startup.ExitOnError("create", err)
	ledger := triggers.NewLedger(cfg.BudgetConfig, dynamostore.New(awsCfg, cfg.BudgetTable))
	h := triggers.NewCreate(cfg, keys, queue.New(awsCfg, cfg.QueueURL), ledger, os.Stdout)
	if startup.Check() {
		startup.Ready("create")
	}
	lambda.Start(h.Handle)
}
