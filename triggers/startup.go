package triggers

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	awsconfig "github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"
)

// StartupTimeout bounds cold-start work (reading the key from Secrets
// Manager), well inside Cognito's 5 second wait for a trigger.
const StartupTimeout = 3 * time.Second

// ExitOnError ends a cold start that cannot produce a working handler, with
// one JSON line naming what is wrong. Lambda reports the init failure and
// Cognito fails the sign-in; there is nothing better to do.
func ExitOnError(trigger string, err error) {
	if err == nil {
		return
	}
	NewLogger(os.Stderr, slog.LevelInfo).Error(trigger+" start-up failed",
		slog.String(fieldTrigger, trigger), slog.String(fieldOutcome, "startup_failed"), slog.String(fieldReason, err.Error()))
	os.Exit(1)
}

// LoadAWS loads the SDK configuration from the Lambda environment.
func LoadAWS(ctx context.Context) (aws.Config, error) {
	cfg, err := awsconfig.LoadDefaultConfig(ctx)
	if err != nil {
		return cfg, fmt.Errorf("load AWS config: %w", err)
	}
	return cfg, nil
}

// LoadKey reads the HMAC key, from the environment or Secrets Manager.
func LoadKey(ctx context.Context, k Key, awsCfg aws.Config) ([]byte, error) {
	var sm SecretGetter
	if k.HMACSecretARN != "" {
		sm = secretsmanager.NewFromConfig(awsCfg)
	}
	return k.Load(ctx, sm)
}
