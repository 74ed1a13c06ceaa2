package seslocal_test

import (
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/cognito-email-otp/cognito-email-otp/deploy/local/seslocal"
	"github.com/cognito-email-otp/cognito-email-otp/internal/nodetest"
)

// TestJSSDK runs deploy/local/e2e/ses.test.mjs: the AWS JS SDK v3 SES v2
// client sends an email, gets typed MessageRejected and NotFoundException
// errors, and reads a sandboxed account's quota, identities and
// configuration set.
func TestJSSDK(t *testing.T) {
	nodetest.Require(t)
	e := newSES(t, seslocal.Options{RejectRecipients: []string{"rejected@example.com"}})
	sandbox := newSES(t, seslocal.Options{VerifiedIdentities: []string{"acme.test", "rita@example.com"},
		ConfigurationSets: []string{"otp"}, Sandbox: true})
	out := nodetest.Run(t, "ses.test.mjs", map[string]string{"SES_ENDPOINT": e.url, "SES_SANDBOX_ENDPOINT": sandbox.url}, 60*time.Second)

	lines := strings.Split(strings.TrimSpace(out), "\n")
	var result struct {
		OK          bool   `json:"ok"`
		MessageID   string `json:"messageId"`
		SimulatedID string `json:"simulatedId"`
	}
	if err := json.Unmarshal([]byte(lines[len(lines)-1]), &result); err != nil || !result.OK {
		t.Fatalf("script output %q: %v", out, err)
	}
	got, ok := e.srv.Outbox().Get(result.MessageID)
	if !ok {
		t.Fatalf("email %s from the script is not in the outbox", result.MessageID)
	}
	if got.Subject != "Dein Anmeldecode" || got.Text != "Code: 654321" || got.HTML != "<p>Code: <b>654321</b></p>" ||
		got.Tenant != "acme" || got.ConfigurationSet != "otp" || len(got.To) != 1 || got.To[0] != "jürgen@example.com" {
		t.Errorf("outbox email = %+v", got)
	}
	if n := e.srv.Outbox().Count(); n != 1 {
		t.Errorf("outbox holds %d emails, want 1 (the rejected one must not land)", n)
	}
	if got, ok := sandbox.srv.Outbox().Get(result.SimulatedID); !ok || got.Simulator != "bounce" || sandbox.srv.Outbox().Count() != 1 {
		t.Errorf("sandbox outbox: simulated email %+v (found %v), %d emails; want only the bounce", got, ok, sandbox.srv.Outbox().Count())
	}
}
