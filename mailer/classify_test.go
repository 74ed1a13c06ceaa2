package mailer

import (
	"errors"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	sestypes "github.com/aws/aws-sdk-go-v2/service/sesv2/types"
	"github.com/aws/smithy-go"
)

func TestSenderNotVerifiedReadsTheIdentityList(t *testing.T) {
	const prefix = "Email address is not verified. The following identities failed the check in region US-EAST-1: "
	tests := []struct {
		name, msg, from string
		want            bool
	}{
		{"the sender, bare", prefix + "no-reply@acme.test", "no-reply@acme.test", true},
		{"the sender with its display name", prefix + "Acme Sign-in <no-reply@acme.test>", "Acme Sign-in <no-reply@acme.test>", true},
		{"an encoded display name", prefix + "=?utf-8?q?Acme_S=C3=BCd?= <no-reply@acme.test>", "=?utf-8?q?Acme_S=C3=BCd?= <no-reply@acme.test>", true},
		{"a quoted display name with a comma", prefix + `"Acme, Inc" <no-reply@acme.test>, rita@example.com`, "no-reply@acme.test", true},
		{"another case", prefix + "No-Reply@ACME.test", "no-reply@acme.test", true},
		{"the sender first, the list cut short", prefix + "no-reply@acme.test, a@example.com, b@exa...", "no-reply@acme.test", true},
		{"no list at all", "Email address is not verified.", "no-reply@acme.test", true},
		{"a sandbox recipient only", prefix + "rita@example.com", "no-reply@acme.test", false},
		{"an address that merely ends like the sender", prefix + "xno-reply@acme.test", "no-reply@acme.test", false},
		{"another refusal", "Address blacklisted.", "no-reply@acme.test", false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := senderNotVerified(tc.msg, tc.from); got != tc.want {
				t.Errorf("senderNotVerified(%q, %q) = %v, want %v", tc.msg, tc.from, got, tc.want)
			}
		})
	}
}

func TestThrottlingIsTransientButTheDailyQuotaIsNot(t *testing.T) {
	tests := []struct {
		name string
		err  error
		want Reason // "" retried
	}{
		{"send rate", &sestypes.TooManyRequestsException{Message: aws.String("Maximum sending rate exceeded.")}, ""},
		{"throttling without a reason", &smithy.GenericAPIError{Code: "ThrottlingException", Message: "Rate exceeded"}, ""},
		{"daily quota, SES v2", &sestypes.LimitExceededException{Message: aws.String("Daily message quota exceeded.")}, ReasonQuotaExceeded},
		{"daily quota, worded as throttling", &smithy.GenericAPIError{Code: "Throttling", Message: "Daily message quota exceeded."}, ReasonQuotaExceeded},
		{"daily quota, as too many requests", &sestypes.TooManyRequestsException{Message: aws.String("Daily message quota exceeded.")}, ReasonQuotaExceeded},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			wantReason(t, classifySESError(tc.err, "no-reply@acme.test", ""), tc.want)
		})
	}
}

// wantReason: err dead-letters with want, or is retried when want is "".
func wantReason(t *testing.T, err error, want Reason) {
	t.Helper()
	var perm *PermanentError
	switch {
	case want == "" && errors.As(err, &perm):
		t.Errorf("dead-lettered as %s, want a retry", perm.Reason)
	case want != "" && (!errors.As(err, &perm) || perm.Reason != want):
		t.Errorf("classified as %v, want %s", err, want)
	}
}

func TestTenantRefusalsAreTheirOwnReason(t *testing.T) {
	tests := []struct {
		name, tenant string
		err          error
		want         Reason // "" retried
	}{
		{"unknown tenant", "globex", &sestypes.NotFoundException{Message: aws.String("Tenant globex does not exist.")}, ReasonSESTenant},
		{"identity not associated", "globex", &sestypes.BadRequestException{Message: aws.String("Identity arn:aws:ses:us-east-1:000000000000:identity/globex.example is not associated with tenant globex.")}, ReasonSESTenant},
		{"the role may not send through the tenant", "globex", &smithy.GenericAPIError{Code: "AccessDeniedException", Message: "User is not authorized to perform: ses:SendEmail"}, ReasonSESTenant},
		{"a paused tenant", "globex", &sestypes.SendingPausedException{Message: aws.String("Sending is paused for tenant globex.")}, ReasonSESTenant},
		{"a paused account while sending through a tenant", "globex", &sestypes.SendingPausedException{Message: aws.String("Sending is paused for this account.")}, ReasonSendingPaused},
		{"another bad request through a tenant", "globex", &sestypes.BadRequestException{Message: aws.String("Configuration set <otp> does not exist.")}, ReasonSESBadRequest},
		{"throttled while sending through a tenant", "globex", &sestypes.TooManyRequestsException{Message: aws.String("Maximum sending rate exceeded.")}, ""},
		{"the same words without a tenant", "", &sestypes.NotFoundException{Message: aws.String("Tenant globex does not exist.")}, ReasonSESBadRequest},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			wantReason(t, classifySESError(tc.err, "no-reply@globex.test", tc.tenant), tc.want)
		})
	}
}

func TestReasonsAreDistinct(t *testing.T) {
	seen := map[Reason]bool{}
	for _, r := range Reasons {
		if seen[r] {
			t.Errorf("reason %s is listed twice", r)
		}
		seen[r] = true
	}
	for _, r := range []Reason{ReasonSenderNotVerified, ReasonMailFromNotVerified, ReasonQuotaExceeded, ReasonRejected, ReasonSESTenant} {
		if !seen[r] {
			t.Errorf("Reasons lacks %s", r)
		}
	}
}
