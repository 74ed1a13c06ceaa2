package mailer

import (
	"io"
	"log/slog"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sesv2"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
)

// New wires a Handler to SES and the dead-letter queue. The Lambda main
// and otp-local both build it here. Logs and EMF metrics go to out (stdout
// in Lambda, where CloudWatch Logs turns the EMF lines into metrics).
//
// A renderer that is also a Refresher (the template store) is refreshed
// before each batch.
func New(cfg Config, awsCfg aws.Config, renderer Renderer, out io.Writer) *Handler {
	refresher, _ := renderer.(Refresher)
	return &Handler{
		Refresher: refresher,
		Config:    cfg,
		Renderer:  renderer,
		// The handler classifies SES errors and retries within its budget
		// itself; the SDK's own retries would multiply the attempts and
		// blur the budget.
		SES:     sesv2.NewFromConfig(awsCfg, func(o *sesv2.Options) { o.RetryMaxAttempts = 1 }),
		DLQ:     sqs.NewFromConfig(awsCfg),
		Metrics: NewMetrics(out, cfg.MetricsNamespace),
		Log:     slog.New(slog.NewJSONHandler(out, &slog.HandlerOptions{Level: cfg.LogLevel})),
	}
}
