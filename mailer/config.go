package mailer

import (
	"errors"
	"fmt"
	"log/slog"
	"net/mail"
	"time"

	"github.com/kelseyhightower/envconfig"
)

// Config is the mailer function's environment (prefix OTP_).
type Config struct {
	LogLevel slog.Level `envconfig:"LOG_LEVEL" default:"INFO"`
	// DLQURL receives messages that no retry can deliver, with the reason.
	DLQURL string `envconfig:"DLQ_URL" required:"true"`
	// FromAddress is used when a template set's theme names no sender:
	// "Example <no-reply@example.com>" or a bare address. It must be an SES
	// verified identity.
	FromAddress string `envconfig:"FROM_ADDRESS" required:"true"`
	// ConfigurationSet is the SES configuration set for event publishing
	// (bounces, complaints, deliveries); empty for none.
	ConfigurationSet string `envconfig:"SES_CONFIGURATION_SET"`
	// Concurrency bounds the messages of one batch processed at once. SES's
	// default sending rate is 14/s in production; the retries absorb bursts.
	Concurrency int `envconfig:"CONCURRENCY" default:"10"`
	// RetryBudget is the time one message may spend retrying transient SES
	// failures in-process before SQS redelivery takes over. Keep it well
	// under the Lambda timeout.
	RetryBudget time.Duration `envconfig:"RETRY_BUDGET" default:"8s"`
	// TemplatesDir holds templates.bundle.json, written by otpctl templates
	// compile; its sets override the embedded ones by name. Empty for the
	// embedded sets only.
	TemplatesDir string `envconfig:"TEMPLATES_DIR"`
	// MetricsNamespace is the CloudWatch namespace of the EMF metrics.
	MetricsNamespace string `envconfig:"METRICS_NAMESPACE" default:"CognitoEmailOTP"`
	// MaxReceives is the send queue's maxReceiveCount. On that receive a
	// message that fails transiently is dead-lettered by the mailer, with
	// its last error and without its code; 0 leaves it to SQS's redrive
	// policy, which moves it as it is.
	MaxReceives int `envconfig:"MAX_RECEIVES" default:"5"`
}

// LoadConfig reads and checks the mailer's environment.
func LoadConfig() (Config, error) {
	var c Config
	if err := envconfig.Process("OTP", &c); err != nil {
		return c, fmt.Errorf("read mailer config: %w", err)
	}
	return c, c.Validate()
}

// Validate checks what envconfig cannot.
func (c Config) Validate() error {
	fail := func(err error) error { return fmt.Errorf("mailer config: %w", err) }
	if c.DLQURL == "" {
		return fail(errors.New("OTP_DLQ_URL is empty: set the URL of the dead-letter queue"))
	}
	if _, err := mail.ParseAddress(c.FromAddress); err != nil {
		return fail(fmt.Errorf("OTP_FROM_ADDRESS=%q: %w", c.FromAddress, err))
	}
	if c.Concurrency < 1 || c.Concurrency > 100 {
		return fail(fmt.Errorf("OTP_CONCURRENCY=%d: want 1..100", c.Concurrency))
	}
	if c.RetryBudget < 0 || c.RetryBudget > 5*time.Minute {
		return fail(fmt.Errorf("OTP_RETRY_BUDGET=%s: want 0..5m", c.RetryBudget))
	}
	if c.MetricsNamespace == "" {
		return fail(errors.New("OTP_METRICS_NAMESPACE is empty"))
	}
	if c.MaxReceives < 0 || c.MaxReceives > 1000 {
		return fail(fmt.Errorf("OTP_MAX_RECEIVES=%d: want 0..1000 (the queue's maxReceiveCount)", c.MaxReceives))
	}
	return nil
}
