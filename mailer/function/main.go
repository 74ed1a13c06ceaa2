// Command function is the mailer Lambda: it consumes send requests from SQS
// and emails each code with SES v2.
package main

import (
	"os"

	"github.com/aws/aws-lambda-go/lambda"

	"github.com/cognito-email-otp/cognito-email-otp/internal/awsenv"
	"github.com/cognito-email-otp/cognito-email-otp/internal/startup"
	"github.com/cognito-email-otp/cognito-email-otp/mailer"
	"github.com/cognito-email-otp/cognito-email-otp/templates"
)

func main() {
	cfg, err := mailer.LoadConfig()
	startup.ExitOnError("mailer", err)
	// Every template set is parsed and pre-rendered now, once, so a broken
	// set fails the deploy's first invocation loudly instead of each email.
	sources := []templates.Source{templates.Embedded()}
	if cfg.TemplatesDir != "" {
		sources = append(sources, templates.Dir(cfg.TemplatesDir))
	}
	lib, err := templates.Load(sources...)
	startup.ExitOnError("mailer", err)
	awsCfg, err := awsenv.Config()
	startup.ExitOnError("mailer", err)
	h := mailer.New(cfg, awsCfg, templates.ForMailer(lib), os.Stdout)
	if startup.Check() {
		startup.Ready("mailer")
	}
	lambda.Start(h.Handle)
}
