package triggers

import (
	"context"
	"errors"
	"fmt"
	"log/slog"

	"github.com/aws/aws-lambda-go/events"
	"github.com/kelseyhightower/envconfig"
)

// TokensConfig is the Pre Token Generation function's environment.
type TokensConfig struct {
	Common
	Tenants map[string]string `envconfig:"TENANTS"`
}

// LoadTokensConfig reads the Pre Token Generation function's environment.
func LoadTokensConfig() (TokensConfig, error) {
	var c TokensConfig
	if err := envconfig.Process(EnvPrefix, &c); err != nil {
		return c, fmt.Errorf("read tokens config: %w", err)
	}
	if err := validateTenants(c.Tenants); err != nil {
		return c, fmt.Errorf("tokens config: %w", err)
	}
	return c, nil
}

// Pre Token Generation trigger sources (V1_0 events).
const (
	TokenSourceAuthentication       = "TokenGeneration_Authentication"
	TokenSourceNewPasswordChallenge = "TokenGeneration_NewPasswordChallenge"
	TokenSourceRefreshTokens        = "TokenGeneration_RefreshTokens"
)

// ErrSignInAgain refuses the tokens Cognito issues right after a user
// replaces a temporary password. Cognito gives the client this text.
var ErrSignInAgain = errors.New("your new password is set; sign in again with it to get your code")

// Tokens is the Pre Token Generation trigger: the last word before Cognito
// issues tokens. A user whose password an administrator set (invitation,
// reset) gets Cognito's own NEW_PASSWORD_REQUIRED after the password step,
// and once they answer it Cognito issues tokens without running the custom
// challenge again (amazon-cognito-identity-js#341): the emailed code would
// be skipped, and a temporary password that leaked would be enough. So
// those tokens are refused; the password is already changed, and the next
// sign-in, with the new password, goes through the code.
type Tokens struct {
	Config TokensConfig
	Log    *slog.Logger
}

// NewTokens builds the Pre Token Generation trigger.
func NewTokens(cfg TokensConfig, log *slog.Logger) *Tokens { return &Tokens{Config: cfg, Log: log} }

// Handle refuses tokens that did not come through the emailed code, and
// lets every other issue through unchanged.
func (t *Tokens) Handle(ctx context.Context, ev events.CognitoEventUserPoolsPreTokenGen) (events.CognitoEventUserPoolsPreTokenGen, error) {
	tenant, _, _ := Tenants{ByClient: t.Config.Tenants}.Resolve(ev.CallerContext.ClientID, ev.Request.UserAttributes)
	if ev.TriggerSource == TokenSourceNewPasswordChallenge {
		outcomeLog(ctx, t.Log, slog.LevelInfo, "tokens", ev.CognitoEventUserPoolsHeader, tenant, 0, "refused", "new_password_without_code",
			slog.String("trigger_source", ev.TriggerSource))
		return ev, ErrSignInAgain
	}
	outcomeLog(ctx, t.Log, slog.LevelDebug, "tokens", ev.CognitoEventUserPoolsHeader, tenant, 0, "issued", "", slog.String("trigger_source", ev.TriggerSource))
	return ev, nil
}
