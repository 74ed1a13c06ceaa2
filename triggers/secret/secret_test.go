package secret

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"

	"github.com/cognito-email-otp/cognito-email-otp/triggers"
)

type fake struct {
	out *secretsmanager.GetSecretValueOutput
	err error
	got string
}

func (f *fake) GetSecretValue(_ context.Context, in *secretsmanager.GetSecretValueInput, _ ...func(*secretsmanager.Options)) (*secretsmanager.GetSecretValueOutput, error) {
	f.got = aws.ToString(in.SecretId)
	return f.out, f.err
}

func TestSource(t *testing.T) {
	key := strings.Repeat("k", 64)
	tests := []struct {
		name    string
		f       *fake
		wantErr string
	}{
		{"string secret", &fake{out: &secretsmanager.GetSecretValueOutput{SecretString: aws.String(key)}}, ""},
		{"binary secret", &fake{out: &secretsmanager.GetSecretValueOutput{SecretBinary: []byte(key)}}, "no SecretString"},
		{"access denied", &fake{err: errors.New("AccessDeniedException")}, "AccessDeniedException"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := triggers.Key{HMACSecretARN: "arn:aws:secretsmanager:us-east-1:1:secret:otp"}.Load(t.Context(), Source{Client: tc.f})
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) || strings.Contains(err.Error(), key) {
					t.Fatalf("err %v, want one naming %q without the key", err, tc.wantErr)
				}
				return
			}
			if err != nil || string(got) != key || tc.f.got != "arn:aws:secretsmanager:us-east-1:1:secret:otp" {
				t.Errorf("got %q, %v (asked for %q)", got, err, tc.f.got)
			}
		})
	}
}
