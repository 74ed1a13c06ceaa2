package seslocal_test

import (
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sesv2/types"

	"github.com/cognito-email-otp/cognito-email-otp/deploy/local/seslocal"
)

// TestOutboxShowsTheTemplateVersion: the list has a column with the set
// and version the mailer's tags name, so a publish or rollback is visible
// email by email.
func TestOutboxShowsTheTemplateVersion(t *testing.T) {
	e := newSES(t, seslocal.Options{})
	in := simple("rita@example.com", "Your code")
	in.EmailTags = append(in.EmailTags,
		types.MessageTag{Name: aws.String("template_set"), Value: aws.String("acme")},
		types.MessageTag{Name: aws.String("template_version"), Value: aws.String("0123456789abcdef")})
	e.send(in)
	e.send(simple("bo@example.com", "No tags"))
	_, _, body := get(t, e.url+"/outbox")
	if !strings.Contains(body, "<th>Template</th>") || !strings.Contains(body, ">acme@0123456789abcdef<") {
		t.Errorf("the list does not show the template version:\n%s", body)
	}
	if n := strings.Count(body, "@0123456789abcdef"); n != 1 {
		t.Errorf("version shown %d times, want once (the untagged email shows none)", n)
	}
}

// TestOutboxShowsTheKind: sign-up confirmations, invitations and sign-in
// codes are told apart at a glance.
func TestOutboxShowsTheKind(t *testing.T) {
	e := newSES(t, seslocal.Options{})
	in := simple("noor@example.com", "Confirm your account")
	in.EmailTags = append(in.EmailTags, types.MessageTag{Name: aws.String("kind"), Value: aws.String("signup_verification")})
	e.send(in)
	_, _, body := get(t, e.url+"/outbox")
	if !strings.Contains(body, "<th>Kind</th>") || !strings.Contains(body, ">signup_verification<") {
		t.Errorf("the list does not show the kind:\n%s", body)
	}
}
