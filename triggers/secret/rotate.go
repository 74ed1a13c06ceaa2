package secret

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"slices"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager/types"
	"github.com/kelseyhightower/envconfig"

	"github.com/cognito-email-otp/cognito-email-otp/triggers"
)

// RotationAPI is what the rotation function calls.
type RotationAPI interface {
	GetSecretValueAPI
	DescribeSecret(ctx context.Context, in *secretsmanager.DescribeSecretInput, opts ...func(*secretsmanager.Options)) (*secretsmanager.DescribeSecretOutput, error)
	PutSecretValue(ctx context.Context, in *secretsmanager.PutSecretValueInput, opts ...func(*secretsmanager.Options)) (*secretsmanager.PutSecretValueOutput, error)
	UpdateSecretVersionStage(ctx context.Context, in *secretsmanager.UpdateSecretVersionStageInput, opts ...func(*secretsmanager.Options)) (*secretsmanager.UpdateSecretVersionStageOutput, error)
}

// RotationEvent is what Secrets Manager sends a rotation function.
type RotationEvent struct {
	SecretID           string `json:"SecretId"`
	ClientRequestToken string `json:"ClientRequestToken"`
	Step               string `json:"Step"`
}

// Rotator rotates the HMAC key. There is no other system to update (the
// key lives only in the secret), so setSecret does nothing; the triggers
// pick up the new AWSCURRENT within triggers.KeyRefresh and keep accepting
// AWSPREVIOUS, so a sign-in that started on the old key still completes.
type Rotator struct {
	Client RotationAPI
	Log    *slog.Logger
}

// Handle runs one step of Secrets Manager's four-step rotation.
func (r Rotator) Handle(ctx context.Context, ev RotationEvent) error {
	if ev.SecretID == "" || ev.ClientRequestToken == "" {
		return errors.New("rotate: SecretId and ClientRequestToken are required")
	}
	desc, err := r.Client.DescribeSecret(ctx, &secretsmanager.DescribeSecretInput{SecretId: aws.String(ev.SecretID)})
	if err != nil {
		return fmt.Errorf("rotate: describe secret: %w", err)
	}
	if !aws.ToBool(desc.RotationEnabled) {
		return errors.New("rotate: rotation is not enabled on the secret")
	}
	stages, ok := desc.VersionIdsToStages[ev.ClientRequestToken]
	if !ok {
		return fmt.Errorf("rotate: version %s is not a version of the secret", ev.ClientRequestToken)
	}
	if slices.Contains(stages, StageCurrent) {
		r.log(ctx, ev, "already current")
		return nil // a retried finishSecret
	}
	if !slices.Contains(stages, StagePending) {
		return fmt.Errorf("rotate: version %s is not AWSPENDING", ev.ClientRequestToken)
	}
	switch ev.Step {
	case "createSecret":
		err = r.create(ctx, ev)
	case "setSecret":
		// Nothing outside the secret holds the key.
	case "testSecret":
		err = r.test(ctx, ev)
	case "finishSecret":
		err = r.finish(ctx, ev, desc)
	default:
		return fmt.Errorf("rotate: unknown step %q", ev.Step)
	}
	if err != nil {
		return err
	}
	r.log(ctx, ev, "done")
	return nil
}

func (r Rotator) log(ctx context.Context, ev RotationEvent, outcome string) {
	if r.Log != nil {
		r.Log.InfoContext(ctx, "rotation step", slog.String("step", ev.Step), slog.String("version", ev.ClientRequestToken), slog.String("outcome", outcome))
	}
}

// NewKeyValue is a fresh key: 32 random bytes, hex, as the secret's string.
func NewKeyValue() (string, error) {
	b := make([]byte, 32)
	if _, err := rand.Read(b); err != nil {
		return "", fmt.Errorf("rotate: random key: %w", err)
	}
	return hex.EncodeToString(b), nil
}

func (r Rotator) create(ctx context.Context, ev RotationEvent) error {
	_, err := r.Client.GetSecretValue(ctx, &secretsmanager.GetSecretValueInput{
		SecretId: aws.String(ev.SecretID), VersionId: aws.String(ev.ClientRequestToken), VersionStage: aws.String(StagePending)})
	if err == nil {
		return nil // created by an earlier attempt of this step
	}
	var notFound *types.ResourceNotFoundException
	if !errors.As(err, &notFound) {
		return fmt.Errorf("rotate: read pending version: %w", err)
	}
	key, err := NewKeyValue()
	if err != nil {
		return err
	}
	_, err = r.Client.PutSecretValue(ctx, &secretsmanager.PutSecretValueInput{
		SecretId: aws.String(ev.SecretID), ClientRequestToken: aws.String(ev.ClientRequestToken),
		SecretString: aws.String(key), VersionStages: []string{StagePending},
	})
	if err != nil {
		return fmt.Errorf("rotate: put pending version: %w", err)
	}
	return nil
}

// test checks that the pending key is one the triggers would accept.
func (r Rotator) test(ctx context.Context, ev RotationEvent) error {
	out, err := r.Client.GetSecretValue(ctx, &secretsmanager.GetSecretValueInput{
		SecretId: aws.String(ev.SecretID), VersionId: aws.String(ev.ClientRequestToken), VersionStage: aws.String(StagePending)})
	if err != nil {
		return fmt.Errorf("rotate: read pending version: %w", err)
	}
	if _, err := triggers.NewKeyring([]byte(aws.ToString(out.SecretString)), nil); err != nil {
		return fmt.Errorf("rotate: pending key is unusable: %w", err)
	}
	return nil
}

// finish moves AWSCURRENT to the new version; Secrets Manager moves
// AWSPREVIOUS to the old one.
func (r Rotator) finish(ctx context.Context, ev RotationEvent, desc *secretsmanager.DescribeSecretOutput) error {
	current := ""
	for id, stages := range desc.VersionIdsToStages {
		if slices.Contains(stages, StageCurrent) {
			current = id
		}
	}
	_, err := r.Client.UpdateSecretVersionStage(ctx, &secretsmanager.UpdateSecretVersionStageInput{
		SecretId: aws.String(ev.SecretID), VersionStage: aws.String(StageCurrent),
		MoveToVersionId: aws.String(ev.ClientRequestToken), RemoveFromVersionId: aws.String(current),
	})
	if err != nil {
		return fmt.Errorf("rotate: make the new version current: %w", err)
	}
	return nil
}

// RotateConfig is the rotation function's environment.
type RotateConfig struct {
	LogLevel slog.Level `envconfig:"LOG_LEVEL" default:"INFO"`
}

// LoadRotateConfig reads the rotation function's environment.
func LoadRotateConfig() (RotateConfig, error) {
	var c RotateConfig
	if err := envconfig.Process(triggers.EnvPrefix, &c); err != nil {
		return c, fmt.Errorf("read rotate config: %w", err)
	}
	return c, nil
}
