package triggers

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/kelseyhightower/envconfig"

	"github.com/cognito-email-otp/cognito-email-otp/triggers/budget"
)

// EnvPrefix is the prefix of every variable the Lambdas read.
const EnvPrefix = "OTP"

// Limits bound a sign-in. Define enforces them; Create reports what is left
// to the client. Both must see the same values (the SAM template sets them
// from the same parameters).
type Limits struct {
	MaxWrongAnswers int `envconfig:"MAX_WRONG_ANSWERS" default:"3"` // wrong answers per code before the sign-in fails
	MaxResends      int `envconfig:"MAX_RESENDS" default:"2"`       // new codes per sign-in after the first
	// ResendCooldown is how long after a code a resend request is honoured.
	// Create keeps the same code before that; Define needs it to tell an
	// early request (bounded) from one it lets through.
	ResendCooldown time.Duration `envconfig:"RESEND_COOLDOWN" default:"30s"`
}

func (l Limits) validate() error {
	if l.MaxWrongAnswers < 1 || l.MaxWrongAnswers > 10 {
		return fmt.Errorf("OTP_MAX_WRONG_ANSWERS=%d: want 1..10", l.MaxWrongAnswers)
	}
	if l.MaxResends < 0 || l.MaxResends > 10 {
		return fmt.Errorf("OTP_MAX_RESENDS=%d: want 0..10", l.MaxResends)
	}
	if l.ResendCooldown < 0 || l.ResendCooldown > 15*time.Minute {
		return fmt.Errorf("OTP_RESEND_COOLDOWN=%s: want 0..15m", l.ResendCooldown)
	}
	return nil
}

// maxEarlyRequests bounds resend requests refused for being inside the
// cooldown, per code, so that a client cannot keep a session going forever:
// the request after this many early ones ends the sign-in.
func (l Limits) maxEarlyRequests() int { return l.MaxWrongAnswers }

// BudgetConfig is the per-user failure budget (package budget): its table
// and its policy. All three triggers read the same variables.
type BudgetConfig struct {
	BudgetTable string `envconfig:"BUDGET_TABLE" required:"true"` // DynamoDB table, partition key "pk", TTL attribute "ttl"
	// BudgetTimeout bounds each budget operation (a read and a conditional
	// write, with their retries), inside Cognito's 5 s for a trigger.
	BudgetTimeout time.Duration `envconfig:"BUDGET_TIMEOUT" default:"1s"`
	// BudgetFailOpen lets the code step go on, unbounded across sign-ins,
	// when the table cannot be reached. The default refuses the code step:
	// an outage must not reopen guessing.
	BudgetFailOpen  bool          `envconfig:"BUDGET_FAIL_OPEN" default:"false"`
	BackoffAfter    int           `envconfig:"BACKOFF_AFTER" default:"10"`      // consecutive failures free of back-off
	BackoffBase     time.Duration `envconfig:"BACKOFF_BASE" default:"1m"`       // first back-off; doubles per failure
	BackoffMax      time.Duration `envconfig:"BACKOFF_MAX" default:"1h"`        // longest back-off
	MaxFailures     int           `envconfig:"MAX_FAILURES" default:"100"`      // consecutive failures before the code step is locked (NIST: <= 100)
	MaxCodesPerHour int           `envconfig:"MAX_CODES_PER_HOUR" default:"10"` // codes emailed per user per hour
}

// Policy is the budget policy the configuration describes.
func (b BudgetConfig) Policy() budget.Policy {
	return budget.Policy{
		BackoffAfter: b.BackoffAfter, BackoffBase: b.BackoffBase, BackoffMax: b.BackoffMax,
		MaxFailures: b.MaxFailures, CodesPerWindow: b.MaxCodesPerHour, CodeWindow: time.Hour,
	}
}

func (b BudgetConfig) validate() error {
	if b.BudgetTable == "" {
		return errors.New("OTP_BUDGET_TABLE is empty: set the name of the failure budget's DynamoDB table")
	}
	if err := b.Policy().Validate(); err != nil {
		return fmt.Errorf("OTP_BACKOFF_AFTER, OTP_BACKOFF_BASE, OTP_BACKOFF_MAX, OTP_MAX_FAILURES, OTP_MAX_CODES_PER_HOUR: %w", err)
	}
	if b.BudgetTimeout < 100*time.Millisecond || b.BudgetTimeout > 2*time.Second {
		return fmt.Errorf("OTP_BUDGET_TIMEOUT=%s: want 100ms..2s (Cognito waits 5 s for a trigger)", b.BudgetTimeout)
	}
	return nil
}

// Common is read by all three triggers.
type Common struct {
	LogLevel slog.Level `envconfig:"LOG_LEVEL" default:"INFO"`
	// MetricsNamespace is the CloudWatch namespace of the EMF metrics the
	// triggers write (wrong codes, lockouts, budget outages).
	MetricsNamespace string `envconfig:"METRICS_NAMESPACE" default:"CognitoEmailOTP"`
}

// DefineConfig is the Define Auth Challenge function's environment.
type DefineConfig struct {
	Common
	Limits
	BudgetConfig
	Key // for the user pseudonym in log lines
	// RequireVerifiedEmail fails the sign-in, before any code is made, when
	// the user's email_verified is not "true": sending codes to an address
	// nobody proved they own would make the second factor meaningless.
	RequireVerifiedEmail bool              `envconfig:"REQUIRE_VERIFIED_EMAIL" default:"true"`
	Tenants              map[string]string `envconfig:"TENANTS"` // app client id -> tenant, "id1:acme,id2:globex"
}

// CreateConfig is the Create Auth Challenge function's environment.
type CreateConfig struct {
	Common
	Limits
	BudgetConfig
	Key
	CodeLength int           `envconfig:"CODE_LENGTH" default:"6"`
	CodeTTL    time.Duration `envconfig:"CODE_TTL" default:"3m"`
	// AuthSessionValidity is the app client's AuthSessionValidity: the whole
	// code step must fit in Cognito's session, so the code cannot outlive it.
	AuthSessionValidity  time.Duration     `envconfig:"AUTH_SESSION_VALIDITY" default:"3m"`
	QueueURL             string            `envconfig:"QUEUE_URL" required:"true"`
	RequireVerifiedEmail bool              `envconfig:"REQUIRE_VERIFIED_EMAIL" default:"true"`
	Tenants              map[string]string `envconfig:"TENANTS"`
}

// VerifyConfig is the Verify Auth Challenge Response function's environment.
type VerifyConfig struct {
	Common
	BudgetConfig
	Key
}

// Key says where the HMAC key comes from: values (local runs, tests) or a
// Secrets Manager secret whose AWSCURRENT and AWSPREVIOUS versions are read
// at cold start and every KeyRefresh after (AWS).
type Key struct {
	HMACKey string `envconfig:"HMAC_KEY"`
	// HMACPreviousKey is the key before a local rotation: still accepted by
	// Verify, never used to sign.
	HMACPreviousKey string `envconfig:"HMAC_PREVIOUS_KEY"`
	HMACSecretARN   string `envconfig:"HMAC_SECRET_ARN"`
	// KeyRefresh is how often a secret's keys are re-read, so that after a
	// rotation Create signs with the new key within it.
	KeyRefresh time.Duration `envconfig:"KEY_REFRESH" default:"5m"`
}

// MinKeyBytes is the shortest HMAC key accepted: SHA-256's block of
// security, 256 bits.
const MinKeyBytes = 32

// SecretKeySource builds the KeySource for a secret. triggers/secret
// provides it with Secrets Manager; this package links no AWS client.
type SecretKeySource func(arn string) KeySource

// Keyring returns the key ring the configuration describes. secrets is
// used only when the key comes from a secret. Errors never contain a key.
func (k Key) Keyring(ctx context.Context, secrets SecretKeySource) (*Keyring, error) {
	switch {
	case k.HMACKey != "" && k.HMACSecretARN != "":
		return nil, errors.New("set only one of OTP_HMAC_KEY and OTP_HMAC_SECRET_ARN")
	case k.HMACPreviousKey != "" && k.HMACKey == "":
		return nil, errors.New("OTP_HMAC_PREVIOUS_KEY needs OTP_HMAC_KEY (with a secret, AWSPREVIOUS is the previous key)")
	case k.HMACKey != "":
		r, err := NewKeyring([]byte(k.HMACKey), []byte(k.HMACPreviousKey))
		if err != nil {
			return nil, fmt.Errorf("OTP_HMAC_KEY: %w", err)
		}
		return r, nil
	case k.HMACSecretARN != "":
		if secrets == nil {
			return nil, errors.New("OTP_HMAC_SECRET_ARN is set but no Secrets Manager client was given")
		}
		refresh := k.KeyRefresh
		if refresh <= 0 {
			refresh = KeyRefresh
		}
		r, err := LoadKeyring(ctx, secrets(k.HMACSecretARN), refresh)
		if err != nil {
			return nil, fmt.Errorf("secret %s: %w", k.HMACSecretARN, err)
		}
		return r, nil
	default:
		return nil, errors.New("set OTP_HMAC_KEY (local runs) or OTP_HMAC_SECRET_ARN (AWS)")
	}
}

// LoadDefineConfig reads and checks the Define function's environment.
func LoadDefineConfig() (DefineConfig, error) {
	var c DefineConfig
	if err := envconfig.Process(EnvPrefix, &c); err != nil {
		return c, fmt.Errorf("read define config: %w", err)
	}
	return c, c.Validate()
}

// LoadCreateConfig reads and checks the Create function's environment.
func LoadCreateConfig() (CreateConfig, error) {
	var c CreateConfig
	if err := envconfig.Process(EnvPrefix, &c); err != nil {
		return c, fmt.Errorf("read create config: %w", err)
	}
	return c, c.Validate()
}

// LoadVerifyConfig reads and checks the Verify function's environment.
func LoadVerifyConfig() (VerifyConfig, error) {
	var c VerifyConfig
	if err := envconfig.Process(EnvPrefix, &c); err != nil {
		return c, fmt.Errorf("read verify config: %w", err)
	}
	return c, c.Validate()
}

// Validate checks what envconfig cannot.
func (c VerifyConfig) Validate() error {
	if err := c.BudgetConfig.validate(); err != nil {
		return fmt.Errorf("verify config: %w", err)
	}
	return nil
}

// Validate checks what envconfig cannot.
func (c DefineConfig) Validate() error {
	if err := c.Limits.validate(); err != nil {
		return fmt.Errorf("define config: %w", err)
	}
	if err := c.BudgetConfig.validate(); err != nil {
		return fmt.Errorf("define config: %w", err)
	}
	if err := validateTenants(c.Tenants); err != nil {
		return fmt.Errorf("define config: %w", err)
	}
	return nil
}

// Validate checks what envconfig cannot, including that a code cannot
// outlive the Cognito session it belongs to.
func (c CreateConfig) Validate() error {
	fail := func(err error) error { return fmt.Errorf("create config: %w", err) }
	if err := c.Limits.validate(); err != nil {
		return fail(err)
	}
	if err := c.BudgetConfig.validate(); err != nil {
		return fail(err)
	}
	if err := validateTenants(c.Tenants); err != nil {
		return fail(err)
	}
	switch {
	case c.QueueURL == "":
		return fail(errors.New("OTP_QUEUE_URL is empty: set the URL of the send queue"))
	case c.CodeLength < MinCodeLength || c.CodeLength > MaxCodeLength:
		return fail(fmt.Errorf("OTP_CODE_LENGTH=%d: want %d..%d", c.CodeLength, MinCodeLength, MaxCodeLength))
	case c.AuthSessionValidity < 3*time.Minute || c.AuthSessionValidity > 15*time.Minute:
		return fail(fmt.Errorf("OTP_AUTH_SESSION_VALIDITY=%s: Cognito allows 3m..15m", c.AuthSessionValidity))
	case c.CodeTTL < 30*time.Second || c.CodeTTL > c.AuthSessionValidity:
		return fail(fmt.Errorf("OTP_CODE_TTL=%s: want 30s..OTP_AUTH_SESSION_VALIDITY (%s); a code cannot outlive its sign-in session", c.CodeTTL, c.AuthSessionValidity))
	case c.CodeTTL%time.Second != 0:
		return fail(fmt.Errorf("OTP_CODE_TTL=%s: want whole seconds", c.CodeTTL))
	case c.ResendCooldown < 0 || c.ResendCooldown >= c.CodeTTL:
		return fail(fmt.Errorf("OTP_RESEND_COOLDOWN=%s: want 0..OTP_CODE_TTL (%s)", c.ResendCooldown, c.CodeTTL))
	}
	return nil
}

func validateTenants(m map[string]string) error {
	for client, tenant := range m {
		if !validTenant(tenant) {
			return fmt.Errorf("OTP_TENANTS: client %s: tenant %q must be 1..63 of a-z, 0-9, - and _, starting with a letter or digit", client, tenant)
		}
	}
	return nil
}

// ValidateTenants checks an OTP_TENANTS map as the triggers do, for the
// pool's other functions that read it (the custom email sender).
func ValidateTenants(m map[string]string) error { return validateTenants(m) }
