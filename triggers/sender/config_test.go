package sender_test

import (
	"strings"
	"testing"
	"time"

	"github.com/cognito-email-otp/cognito-email-otp/triggers/sender"
)

func TestConfigNamesWhatIsWrong(t *testing.T) {
	valid := map[string]string{
		"OTP_QUEUE_URL":   "https://sqs.us-east-1.amazonaws.com/123456789012/otp-send",
		"OTP_DLQ_URL":     "https://sqs.us-east-1.amazonaws.com/123456789012/otp-send-dlq",
		"OTP_KMS_KEY_ARN": "arn:aws:kms:us-east-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab",
	}
	tests := []struct {
		name, key, value, want string
	}{
		{"defaults", "", "", ""},
		{"no key", "OTP_KMS_KEY_ARN", "", "OTP_KMS_KEY_ARN"},
		{"no dead-letter queue", "OTP_DLQ_URL", "", "OTP_DLQ_URL"},
		{"invitation lasting no day", "OTP_INVITATION_VALID_DAYS", "0", "OTP_INVITATION_VALID_DAYS=0"},
		{"invitation past Cognito's maximum", "OTP_INVITATION_VALID_DAYS", "366", "OTP_INVITATION_VALID_DAYS=366"},
		{"MFA code longer than any session", "OTP_MFA_CODE_TTL", "20m", "OTP_MFA_CODE_TTL=20m0s"},
		{"a tenant that is no set name", "OTP_TENANTS", "client1:../etc", "OTP_TENANTS"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			for k, v := range valid {
				t.Setenv(k, v)
			}
			if tc.key != "" {
				t.Setenv(tc.key, tc.value)
			}
			cfg, err := sender.LoadConfig()
			switch {
			case tc.want == "" && err != nil:
				t.Fatalf("LoadConfig: %v", err)
			case tc.want == "" && (cfg.InvitationValidDays != 7 || cfg.MFACodeTTL != 3*time.Minute || cfg.UserPoolID != ""):
				t.Errorf("defaults %+v", cfg)
			case tc.want != "" && (err == nil || !strings.Contains(err.Error(), tc.want)):
				t.Errorf("LoadConfig = %v, want an error naming %s", err, tc.want)
			}
		})
	}
}
