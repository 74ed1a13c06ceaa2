// Package secret reads the triggers' HMAC key from AWS Secrets Manager, its
// current and previous versions, and rotates it (the rotation Lambda's
// logic). Only functions that need the key link it.
package secret

import (
	"context"
	"errors"
	"fmt"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager/types"

	"github.com/cognito-email-otp/cognito-email-otp/triggers"
)

// GetSecretValueAPI is the one Secrets Manager call the triggers make.
type GetSecretValueAPI interface {
	GetSecretValue(ctx context.Context, in *secretsmanager.GetSecretValueInput, opts ...func(*secretsmanager.Options)) (*secretsmanager.GetSecretValueOutput, error)
}

// Source reads a secret's AWSCURRENT and AWSPREVIOUS versions; it is a
// triggers.KeySource.
type Source struct {
	Client GetSecretValueAPI
	ID     string
}

// Secrets Manager's staging labels.
const (
	StageCurrent  = "AWSCURRENT"
	StagePrevious = "AWSPREVIOUS"
	StagePending  = "AWSPENDING"
)

// Keys returns the current key and, after a rotation, the previous one.
func (s Source) Keys(ctx context.Context) (current, previous []byte, err error) {
	cur, err := s.stage(ctx, StageCurrent)
	if err != nil {
		return nil, nil, err
	}
	prev, err := s.stage(ctx, StagePrevious)
	var notFound *types.ResourceNotFoundException
	switch {
	case errors.As(err, &notFound):
		// A secret that was never rotated has no AWSPREVIOUS.
	case err != nil:
		return nil, nil, err
	}
	return cur, prev, nil
}

func (s Source) stage(ctx context.Context, stage string) ([]byte, error) {
	out, err := s.Client.GetSecretValue(ctx, &secretsmanager.GetSecretValueInput{SecretId: aws.String(s.ID), VersionStage: aws.String(stage)})
	if err != nil {
		return nil, fmt.Errorf("get %s: %w", stage, err)
	}
	if out.SecretString == nil {
		return nil, fmt.Errorf("%s has no SecretString", stage)
	}
	return []byte(*out.SecretString), nil
}

// LoadKeyring builds the key ring from the environment's key or, when
// OTP_HMAC_SECRET_ARN is set, from Secrets Manager.
func LoadKeyring(ctx context.Context, k triggers.Key, cfg aws.Config) (*triggers.Keyring, error) {
	client := secretsmanager.NewFromConfig(cfg)
	return k.Keyring(ctx, func(arn string) triggers.KeySource { return Source{Client: client, ID: arn} })
}
