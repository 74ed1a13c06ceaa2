package sender

import (
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/kelseyhightower/envconfig"

	"github.com/cognito-email-otp/cognito-email-otp/triggers"
)

// Config is the Custom Email Sender function's environment.
type Config struct {
	LogLevel slog.Level `envconfig:"LOG_LEVEL" default:"INFO"`
	QueueURL string     `envconfig:"QUEUE_URL" required:"true"` // the mailer's send queue
	DLQURL   string     `envconfig:"DLQ_URL" required:"true"`   // its dead-letter queue, for events no retry can send
	// KMSKeyARN is the user pool's KMSKeyID: the only key codes may be
	// encrypted under.
	KMSKeyARN string `envconfig:"KMS_KEY_ARN" required:"true"`
	// UserPoolID, when set, is the only pool whose events and codes are
	// taken. Empty (the SAM template: the pool names this function, so the
	// function cannot name the pool), each code must name the pool of the
	// event carrying it, and only the pool may invoke the function.
	UserPoolID string `envconfig:"USER_POOL_ID"`
	// InvitationValidDays is the pool's TemporaryPasswordValidityDays: an
	// invitation still queued after it carries a password that no longer
	// works.
	InvitationValidDays int               `envconfig:"INVITATION_VALID_DAYS" default:"7"`
	Tenants             map[string]string `envconfig:"TENANTS"` // app client id -> tenant, as the other triggers read it
	// MFACodeTTL is how long an email MFA or email OTP code of Cognito's
	// own works (CustomEmailSender_Authentication).
	MFACodeTTL time.Duration `envconfig:"MFA_CODE_TTL" default:"3m"`
}

// LoadConfig reads and checks the function's environment.
func LoadConfig() (Config, error) {
	var c Config
	if err := envconfig.Process(triggers.EnvPrefix, &c); err != nil {
		return c, fmt.Errorf("read sender config: %w", err)
	}
	return c, c.Validate()
}

// Validate checks what envconfig cannot.
func (c Config) Validate() error {
	fail := func(err error) error { return fmt.Errorf("sender config: %w", err) }
	switch {
	case c.QueueURL == "":
		return fail(errors.New("OTP_QUEUE_URL is empty: set the URL of the send queue"))
	case c.DLQURL == "":
		return fail(errors.New("OTP_DLQ_URL is empty: set the URL of the send queue's dead-letter queue"))
	case c.KMSKeyARN == "":
		return fail(errors.New("OTP_KMS_KEY_ARN is empty: set the ARN of the user pool's custom sender key (its KMSKeyID)"))
	case c.InvitationValidDays < 1 || c.InvitationValidDays > 365:
		return fail(fmt.Errorf("OTP_INVITATION_VALID_DAYS=%d: want 1..365, the pool's TemporaryPasswordValidityDays", c.InvitationValidDays))
	case c.MFACodeTTL < time.Minute || c.MFACodeTTL > 15*time.Minute:
		return fail(fmt.Errorf("OTP_MFA_CODE_TTL=%s: want 1m..15m", c.MFACodeTTL))
	}
	if err := triggers.ValidateTenants(c.Tenants); err != nil {
		return fail(err)
	}
	return nil
}
