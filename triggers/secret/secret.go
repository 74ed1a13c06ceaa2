// Package secret reads the triggers' HMAC key from AWS Secrets Manager,
// once, at cold start. Only the Create and Verify Lambdas link it.
package secret

import (
	"context"
	"errors"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"

	"github.com/cognito-email-otp/cognito-email-otp/triggers"
)

// GetSecretValueAPI is the one Secrets Manager call made.
type GetSecretValueAPI interface {
	GetSecretValue(ctx context.Context, in *secretsmanager.GetSecretValueInput, opts ...func(*secretsmanager.Options)) (*secretsmanager.GetSecretValueOutput, error)
}

// Source adapts Secrets Manager to triggers.SecretSource.
type Source struct{ Client GetSecretValueAPI }

// SecretString returns the secret's string value; a binary secret is an
// error, as the key is generated as a string.
func (s Source) SecretString(ctx context.Context, id string) (string, error) {
	out, err := s.Client.GetSecretValue(ctx, &secretsmanager.GetSecretValueInput{SecretId: aws.String(id)})
	if err != nil {
		return "", err
	}
	if out.SecretString == nil {
		return "", errors.New("the secret has no SecretString")
	}
	return *out.SecretString, nil
}

// LoadKey reads the HMAC key from the environment or, when
// OTP_HMAC_SECRET_ARN is set, from Secrets Manager.
func LoadKey(ctx context.Context, k triggers.Key, cfg aws.Config) ([]byte, error) {
	var src triggers.SecretSource
	if k.HMACSecretARN != "" {
		src = Source{Client: secretsmanager.NewFromConfig(cfg)}
	}
	return k.Load(ctx, src)
}
