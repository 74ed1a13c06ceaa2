package store

import (
	"log/slog"

	"github.com/aws/aws-sdk-go-v2/aws"

	"github.com/cognito-email-otp/cognito-email-otp/mailer"
	"github.com/cognito-email-otp/cognito-email-otp/templates/compiled"
)

// ForMailer is the mailer Lambda's templates: base (the embedded sets and
// OTP_TEMPLATES_DIR's) with OTP_TEMPLATES_BUCKET's store over it, or base
// alone without a bucket. It makes no S3 call until Sync or Refresh.
func ForMailer(cfg mailer.Config, awsCfg aws.Config, base *compiled.Bundle) *Live {
	o := Options{Bucket: cfg.TemplatesBucket, Prefix: cfg.TemplatesPrefix, Refresh: cfg.TemplatesRefresh}
	if cfg.TemplatesBucket != "" {
		o.Client = NewClient(awsCfg)
	}
	return NewLive(base, o)
}

// ReportTo sends failed refreshes to log and failures (the mailer's logger
// and its EMF metrics, which exist only once the handler does). Call it
// before the first Sync or Refresh.
func (l *Live) ReportTo(log *slog.Logger, failures FailureCounter) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if log != nil {
		l.o.Log = log
	}
	l.o.Failures = failures
}
