// Command function is the mailer Lambda: it consumes send requests from SQS
// and emails each code with SES v2.
package main

import (
	"context"
	"os"

	"github.com/aws/aws-lambda-go/lambda"

	"github.com/cognito-email-otp/cognito-email-otp/internal/awsenv"
	"github.com/cognito-email-otp/cognito-email-otp/internal/startup"
	"github.com/cognito-email-otp/cognito-email-otp/mailer"
	"github.com/cognito-email-otp/cognito-email-otp/templates/compiled"
	"github.com/cognito-email-otp/cognito-email-otp/templates/store"
)

func main() {
	cfg, err := mailer.LoadConfig()
	startup.ExitOnError("mailer", err)
	// The sets were checked and pre-rendered by otpctl templates compile
	// (the embedded ones by go generate); start-up only decodes and
	// validates the bundles, so a bad OTP_TEMPLATES_DIR still fails the
	// first invocation loudly instead of each email, without hermes in the
	// binary or on the cold-start path.
	bundle, err := compiled.Load(cfg.TemplatesDir)
	startup.ExitOnError("mailer", err)
	awsCfg, err := awsenv.Config()
	startup.ExitOnError("mailer", err)
	// The template store (OTP_TEMPLATES_BUCKET) goes over those sets. It
	// is read now and then before a batch once OTP_TEMPLATES_REFRESH has
	// passed; a store that cannot be read is logged and counted, never a
	// failed start: the embedded sets are the floor.
	templates := store.ForMailer(cfg, awsCfg, bundle)
	h := mailer.New(cfg, awsCfg, templates, os.Stdout)
	templates.ReportTo(h.Log, h.Metrics)
	_ = templates.Sync(context.Background())
	if startup.Check() {
		startup.Ready("mailer")
	}
	lambda.Start(h.Handle)
}
