package secret

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager/types"

	"github.com/cognito-email-otp/cognito-email-otp/triggers"
)

type fake struct {
	stages map[string]*secretsmanager.GetSecretValueOutput // by version stage
	err    error
	got    []string
}

func (f *fake) GetSecretValue(_ context.Context, in *secretsmanager.GetSecretValueInput, _ ...func(*secretsmanager.Options)) (*secretsmanager.GetSecretValueOutput, error) {
	f.got = append(f.got, aws.ToString(in.SecretId)+"@"+aws.ToString(in.VersionStage))
	if f.err != nil {
		return nil, f.err
	}
	out, ok := f.stages[aws.ToString(in.VersionStage)]
	if !ok {
		return nil, &types.ResourceNotFoundException{Message: aws.String("Secrets Manager can't find the specified secret value for staging label: " + aws.ToString(in.VersionStage))}
	}
	return out, nil
}

func TestSourceKeys(t *testing.T) {
	cur, prev := strings.Repeat("c", 64), strings.Repeat("p", 64)
	str := func(s string) *secretsmanager.GetSecretValueOutput {
		return &secretsmanager.GetSecretValueOutput{SecretString: aws.String(s)}
	}
	const arn = "arn:aws:secretsmanager:us-east-1:1:secret:otp"
	tests := []struct {
		name      string
		f         *fake
		wantPrev  string
		wantErr   string
		wantCalls []string
	}{
		{"never rotated", &fake{stages: map[string]*secretsmanager.GetSecretValueOutput{StageCurrent: str(cur)}}, "", "",
			[]string{arn + "@AWSCURRENT", arn + "@AWSPREVIOUS"}},
		{"rotated", &fake{stages: map[string]*secretsmanager.GetSecretValueOutput{StageCurrent: str(cur), StagePrevious: str(prev)}}, prev, "", nil},
		{"binary secret", &fake{stages: map[string]*secretsmanager.GetSecretValueOutput{StageCurrent: {SecretBinary: []byte(cur)}}}, "", "no SecretString", nil},
		{"access denied", &fake{err: errors.New("AccessDeniedException")}, "", "AccessDeniedException", nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			c, p, err := Source{Client: tc.f, ID: arn}.Keys(t.Context())
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) || strings.Contains(err.Error(), cur) {
					t.Fatalf("err %v, want one naming %q without the key", err, tc.wantErr)
				}
				return
			}
			if err != nil || string(c) != cur || string(p) != tc.wantPrev {
				t.Errorf("got %q, %q, %v", c, p, err)
			}
			if tc.wantCalls != nil && strings.Join(tc.f.got, " ") != strings.Join(tc.wantCalls, " ") {
				t.Errorf("calls %v, want %v", tc.f.got, tc.wantCalls)
			}
		})
	}
}

func TestLoadKeyringFromTheEnvironment(t *testing.T) {
	ring, err := LoadKeyring(t.Context(), triggers.Key{HMACKey: strings.Repeat("k", 40)}, aws.Config{Region: "us-east-1"})
	if err != nil || ring == nil {
		t.Fatalf("LoadKeyring: %v", err)
	}
}
