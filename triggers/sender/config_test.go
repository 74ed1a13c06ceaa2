package sender_test

import (
	"strings"
	"testing"
	"time"

	"github.com/cognito-email-otp/cognito-email-otp/triggers/sender"
)

func setValidEnv(t *testing.T) {
	t.Setenv("OTP_QUEUE_URL", "https://sqs.us-east-1.amazonaws.com/123456789012/otp-send")
	t.Setenv("OTP_DLQ_URL", "https://sqs.us-east-1.amazonaws.com/123456789012/otp-send-dlq")
	t.Setenv("OTP_KMS_KEY_ARN", "arn:aws:kms:us-east-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab")
}

func TestConfigDefaults(t *testing.T) {
	setValidEnv(t)
	cfg, err := sender.LoadConfig()
	if err != nil {
		t.Fatal(err)
	}
	if cfg.InvitationValidDays != 7 || cfg.MFACodeTTL != 3*time.Minute || cfg.UserPoolID != "" {
		t.Errorf("defaults %+v: want Cognito's 7 days, 3 minutes, and no pool", cfg)
	}
}

// TestConfigNamesWhatIsWrong: each setting, wrong, fails start-up with a
// message naming its variable.
func TestConfigNamesWhatIsWrong(t *testing.T) {
	for _, setting := range []string{
		"OTP_KMS_KEY_ARN=",
		"OTP_DLQ_URL=",
		"OTP_INVITATION_VALID_DAYS=0",   // a password that never works
		"OTP_INVITATION_VALID_DAYS=366", // past Cognito's maximum
		"OTP_MFA_CODE_TTL=20m",          // longer than any sign-in session
		"OTP_TENANTS=client1:../etc",    // a path, not a set name
	} {
		t.Run(setting, func(t *testing.T) {
			setValidEnv(t)
			name, value, _ := strings.Cut(setting, "=")
			t.Setenv(name, value)
			if _, err := sender.LoadConfig(); err == nil || !strings.Contains(err.Error(), name) {
				t.Errorf("LoadConfig = %v, want an error naming %s", err, name)
			}
		})
	}
}
