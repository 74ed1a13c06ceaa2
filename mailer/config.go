package mailer

import (
	"errors"
	"fmt"
	"log/slog"
	"net/mail"
	"regexp"
	"strings"
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
	// TemplatesBucket is the template store: the S3 bucket that otpctl
	// templates publish writes compiled sets to. Its sets replace the
	// embedded and TemplatesDir sets of the same name. Empty: no store.
	TemplatesBucket string `envconfig:"TEMPLATES_BUCKET"`
	// TemplatesPrefix is where in the bucket the store lives: the index and
	// the bundles are under it, and the mailer may read only that prefix.
	TemplatesPrefix string `envconfig:"TEMPLATES_PREFIX" default:"templates/"`
	// TemplatesRefresh is how old the mailer's view of the store may get:
	// before a batch, once this long has passed since it last asked, it
	// asks S3 again (a conditional GET of the index; a 304 when nothing
	// changed). It bounds how long a publish or a rollback takes to reach
	// the emails.
	TemplatesRefresh time.Duration `envconfig:"TEMPLATES_REFRESH" default:"30s"`
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
	if c.TemplatesBucket != "" && !bucketNameRE.MatchString(c.TemplatesBucket) {
		return fail(fmt.Errorf("OTP_TEMPLATES_BUCKET=%q: not an S3 bucket name (3..63 of a-z 0-9 . -)", c.TemplatesBucket))
	}
	if p := c.TemplatesPrefix; p != "" && (!strings.HasSuffix(p, "/") || strings.HasPrefix(p, "/") || strings.Contains(p, "//")) {
		return fail(fmt.Errorf("OTP_TEMPLATES_PREFIX=%q: want empty or a key prefix ending in / (templates/)", p))
	}
	if c.TemplatesRefresh < time.Second || c.TemplatesRefresh > time.Hour {
		return fail(fmt.Errorf("OTP_TEMPLATES_REFRESH=%s: want 1s..1h", c.TemplatesRefresh))
	}
	if c.MaxReceives < 0 || c.MaxReceives > 1000 {
		return fail(fmt.Errorf("OTP_MAX_RECEIVES=%d: want 0..1000 (the queue's maxReceiveCount)", c.MaxReceives))
	}
	return nil
}

// bucketNameRE is S3's general purpose bucket naming rule, loosely: the
// finer rules (no "..", not an IP address) are S3's to enforce.
var bucketNameRE = regexp.MustCompile(`^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$`)
