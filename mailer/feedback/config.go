package feedback

import (
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/kelseyhightower/envconfig"

	"github.com/cognito-email-otp/cognito-email-otp/triggers"
)

// Config is the feedback function's environment (prefix OTP_).
type Config struct {
	LogLevel slog.Level `envconfig:"LOG_LEVEL" default:"INFO"`
	// MetricsNamespace is the CloudWatch namespace of the EMF metrics, the
	// mailer's and the triggers'.
	MetricsNamespace string `envconfig:"METRICS_NAMESPACE" default:"CognitoEmailOTP"`
	// The HMAC key the recipients' to_hash is computed with: the triggers'
	// secret on AWS (its AWSCURRENT, re-read every KeyRefresh), or a value
	// for local runs. The same variables as the triggers'.
	HMACKey       string        `envconfig:"HMAC_KEY"`
	HMACSecretARN string        `envconfig:"HMAC_SECRET_ARN"`
	KeyRefresh    time.Duration `envconfig:"KEY_REFRESH" default:"5m"`
}

// LoadConfig reads and checks the feedback function's environment.
func LoadConfig() (Config, error) {
	var c Config
	if err := envconfig.Process("OTP", &c); err != nil {
		return c, fmt.Errorf("read feedback config: %w", err)
	}
	return c, c.Validate()
}

// Validate checks what envconfig cannot. Errors never contain a key.
func (c Config) Validate() error {
	fail := func(err error) error { return fmt.Errorf("feedback config: %w", err) }
	switch {
	case c.HMACKey != "" && c.HMACSecretARN != "":
		return fail(errors.New("set only one of OTP_HMAC_KEY and OTP_HMAC_SECRET_ARN"))
	case c.HMACKey == "" && c.HMACSecretARN == "":
		return fail(errors.New("set OTP_HMAC_SECRET_ARN (AWS) or OTP_HMAC_KEY (local runs): the recipients' to_hash needs the project's HMAC key"))
	case c.HMACKey != "" && len(c.HMACKey) < triggers.MinKeyBytes:
		return fail(fmt.Errorf("OTP_HMAC_KEY is %d bytes, want at least %d", len(c.HMACKey), triggers.MinKeyBytes))
	case c.MetricsNamespace == "":
		return fail(errors.New("OTP_METRICS_NAMESPACE is empty"))
	case c.KeyRefresh < time.Second || c.KeyRefresh > 24*time.Hour:
		return fail(fmt.Errorf("OTP_KEY_REFRESH=%s: want 1s..24h", c.KeyRefresh))
	}
	return nil
}
