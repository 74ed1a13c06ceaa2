package triggers

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/kelseyhightower/envconfig"
)

// EnvPrefix is the prefix of every variable the Lambdas read.
const EnvPrefix = "OTP"

// Limits bound a sign-in. Define enforces them; Create reports what is left
// to the client. Both must see the same values (the SAM template sets them
// from the same parameters).
type Limits struct {
	MaxWrongAnswers int `envconfig:"MAX_WRONG_ANSWERS" default:"3"` // wrong answers per code before the sign-in fails
	MaxResends      int `envconfig:"MAX_RESENDS" default:"2"`       // new codes per sign-in after the first
}

func (l Limits) validate() error {
	if l.MaxWrongAnswers < 1 || l.MaxWrongAnswers > 10 {
		return fmt.Errorf("OTP_MAX_WRONG_ANSWERS=%d: want 1..10", l.MaxWrongAnswers)
	}
	if l.MaxResends < 0 || l.MaxResends > 10 {
		return fmt.Errorf("OTP_MAX_RESENDS=%d: want 0..10", l.MaxResends)
	}
	return nil
}

// maxEarlyRequests bounds resend requests refused for being inside the
// cooldown, per code, so that a client cannot keep a session going forever.
func (l Limits) maxEarlyRequests() int { return l.MaxWrongAnswers }

// Common is read by all three triggers.
type Common struct {
	LogLevel slog.Level `envconfig:"LOG_LEVEL" default:"INFO"`
}

// DefineConfig is the Define Auth Challenge function's environment.
type DefineConfig struct {
	Common
	Limits
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
	Key
	CodeLength int           `envconfig:"CODE_LENGTH" default:"6"`
	CodeTTL    time.Duration `envconfig:"CODE_TTL" default:"3m"`
	// AuthSessionValidity is the app client's AuthSessionValidity: the whole
	// code step must fit in Cognito's session, so the code cannot outlive it.
	AuthSessionValidity  time.Duration     `envconfig:"AUTH_SESSION_VALIDITY" default:"3m"`
	ResendCooldown       time.Duration     `envconfig:"RESEND_COOLDOWN" default:"30s"`
	QueueURL             string            `envconfig:"QUEUE_URL" required:"true"`
	RequireVerifiedEmail bool              `envconfig:"REQUIRE_VERIFIED_EMAIL" default:"true"`
	Tenants              map[string]string `envconfig:"TENANTS"`
}

// VerifyConfig is the Verify Auth Challenge Response function's environment.
type VerifyConfig struct {
	Common
	Key
}

// Key says where the HMAC key comes from: a value (local runs, tests) or a
// Secrets Manager secret read once at cold start (AWS).
type Key struct {
	HMACKey       string `envconfig:"HMAC_KEY"`
	HMACSecretARN string `envconfig:"HMAC_SECRET_ARN"`
}

// MinKeyBytes is the shortest HMAC key accepted: SHA-256's block of
// security, 256 bits.
const MinKeyBytes = 32

// SecretSource reads a secret's string value. triggers/secret implements
// it with Secrets Manager; the package itself links no AWS client, so the
// Define trigger does not pay for one at cold start.
type SecretSource interface {
	SecretString(ctx context.Context, id string) (string, error)
}

// Load returns the key bytes. sm is used only when the key comes from a
// secret and may be nil otherwise. Errors never contain the key.
func (k Key) Load(ctx context.Context, sm SecretSource) ([]byte, error) {
	var key string
	switch {
	case k.HMACKey != "" && k.HMACSecretARN != "":
		return nil, errors.New("set only one of OTP_HMAC_KEY and OTP_HMAC_SECRET_ARN")
	case k.HMACKey != "":
		key = k.HMACKey
	case k.HMACSecretARN != "":
		if sm == nil {
			return nil, errors.New("OTP_HMAC_SECRET_ARN is set but no Secrets Manager client was given")
		}
		v, err := sm.SecretString(ctx, k.HMACSecretARN)
		if err != nil {
			return nil, fmt.Errorf("read HMAC key from secret %s: %w", k.HMACSecretARN, err)
		}
		key = v
	default:
		return nil, errors.New("set OTP_HMAC_KEY (local runs) or OTP_HMAC_SECRET_ARN (AWS)")
	}
	if len(key) < MinKeyBytes {
		return nil, fmt.Errorf("HMAC key is %d bytes, want at least %d", len(key), MinKeyBytes)
	}
	return []byte(key), nil
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
	return c, nil
}

// Validate checks what envconfig cannot.
func (c DefineConfig) Validate() error {
	if err := c.Limits.validate(); err != nil {
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
