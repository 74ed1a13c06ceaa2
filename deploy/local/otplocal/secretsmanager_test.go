package otplocal

import (
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"

	"github.com/cognito-email-otp/cognito-email-otp/deploy/local/awslocal"
	"github.com/cognito-email-otp/cognito-email-otp/deploy/local/lambdart"
	smsecret "github.com/cognito-email-otp/cognito-email-otp/triggers/secret"
)

// TestSecretsManagerRoute reaches Secrets Manager through otp-local's one
// port with the SDK, rotates a seeded key with the project's rotation
// function, and finds the secret again after a restart on the same data
// dir.
func TestSecretsManagerRoute(t *testing.T) {
	dir := t.TempDir()
	sys, _ := start(t, Options{DataDir: dir})
	ctx := t.Context()
	client := secretsmanager.NewFromConfig(awslocal.Config(sys.URL))

	arn, err := sys.Secrets.EnsureSecret("otp/hmac-key", smsecret.NewKeyValue)
	if err != nil {
		t.Fatal(err)
	}
	seeded, err := client.GetSecretValue(ctx, &secretsmanager.GetSecretValueInput{SecretId: aws.String(arn)})
	if err != nil {
		t.Fatalf("GetSecretValue over otp-local's port: %v", err)
	}

	const fn = "arn:aws:lambda:us-east-1:000000000000:function:otp-rotate"
	sys.Secrets.SetRotationFunction(fn, lambdart.NewInProcess(smsecret.Rotator{Client: client}.Handle))
	if _, err := client.RotateSecret(ctx, &secretsmanager.RotateSecretInput{SecretId: aws.String(arn), RotationLambdaARN: aws.String(fn)}); err != nil {
		t.Fatal(err)
	}
	if err := sys.Secrets.WaitRotation(ctx, arn); err != nil {
		t.Fatal(err)
	}
	cur, prev, err := smsecret.Source{Client: client, ID: arn}.Keys(ctx)
	if err != nil || string(prev) != aws.ToString(seeded.SecretString) || string(cur) == string(prev) {
		t.Fatalf("after rotation Keys = %q, %q, %v", cur, prev, err)
	}
	if err := sys.Close(); err != nil {
		t.Fatal(err)
	}

	again, _ := start(t, Options{DataDir: dir})
	arn2, err := again.Secrets.EnsureSecret("otp/hmac-key", smsecret.NewKeyValue)
	if err != nil || arn2 != arn {
		t.Fatalf("after a restart EnsureSecret = %s, %v; want %s", arn2, err, arn)
	}
	got, err := secretsmanager.NewFromConfig(awslocal.Config(again.URL)).GetSecretValue(ctx, &secretsmanager.GetSecretValueInput{SecretId: aws.String(arn)})
	if err != nil || aws.ToString(got.SecretString) != string(cur) {
		t.Errorf("after a restart AWSCURRENT = %v, %v; want the rotated key", got, err)
	}
}
