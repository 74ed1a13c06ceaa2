package mailer_test

import (
	"bytes"
	"html"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/cognito-email-otp/cognito-email-otp/deploy/local/awslocal"
	"github.com/cognito-email-otp/cognito-email-otp/deploy/local/seslocal"
	"github.com/cognito-email-otp/cognito-email-otp/mailer"
	"github.com/cognito-email-otp/cognito-email-otp/mailer/contract"
	"github.com/cognito-email-otp/cognito-email-otp/templates/compiled"
)

// TestEveryKindIsSent sends one email of every kind, rendered from the
// mailer's own compiled bundle, through the real sesv2 client, and reads
// them back: each says what it is for, shows its code, password or links,
// carries its kind as a tag, and the log shows none of its secrets.
func TestEveryKindIsSent(t *testing.T) {
	ses, err := seslocal.New(seslocal.Options{})
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(ses)
	t.Cleanup(srv.Close)
	bundle, err := compiled.Embedded()
	if err != nil {
		t.Fatal(err)
	}
	cfg := mailer.Config{DLQURL: "http://127.0.0.1:1/unused", FromAddress: "no-reply@example.com", Concurrency: 4, RetryBudget: time.Second, MetricsNamespace: "Test"}
	var logs bytes.Buffer
	h := mailer.New(cfg, awslocal.Config(srv.URL), bundle, &logs)
	now := time.Now().UTC().Truncate(time.Second)
	const (
		password = `Tmp-9xQ!<w"v2&#'+`
		token    = "fbtok-Zq81"
	)
	var reqs []contract.SendRequest
	shows := map[string][]string{}
	for i, kind := range contract.Kinds {
		r := newRequest(i, "acme", "de", now)
		r.Kind = kind
		switch kind {
		case contract.KindInvitation:
			r.Code, r.Username, r.TemporaryPassword = "", "rosa.diaz", password
			r.ExpiresAt = now.Add(7 * 24 * time.Hour)
			shows[r.To] = []string{"rosa.diaz", html.EscapeString(password)}
		case contract.KindAccountTakeover:
			r.Code = ""
			r.Takeover = &contract.Takeover{EventID: "ev-1", Action: "BLOCK", LoginTime: now, IPAddress: "203.0.113.9", City: "Wien",
				ThisWasMe: "https://feedback.example/ok?t=" + token, ThisWasNotMe: "https://feedback.example/no?t=" + token}
			shows[r.To] = []string{"Wien", `href="https://feedback.example/no?t=` + token + `"`}
		default:
			shows[r.To] = []string{r.Code.Reveal()}
		}
		reqs = append(reqs, r)
	}
	resp, err := h.Handle(t.Context(), records(reqs...))
	if err != nil || len(resp.BatchItemFailures) > 0 {
		t.Fatalf("batch: %v %v\n%s", resp, err, logs.String())
	}
	subjects := map[string]bool{}
	for _, r := range reqs {
		got := ses.Outbox().List(seslocal.Filter{To: r.To})
		if len(got) != 1 {
			t.Fatalf("%s: %d emails", r.Kind, len(got))
		}
		e := got[0]
		if e.Tags["kind"] != string(r.Kind) || e.Tags["template_set"] != "acme" || !strings.Contains(e.From, "security@acme.example") {
			t.Errorf("%s: tags %v, from %s; want its kind, Acme's set and sender", r.Kind, e.Tags, e.From)
		}
		for _, s := range shows[r.To] {
			if !strings.Contains(e.HTML, s) {
				t.Errorf("%s: HTML lacks %q", r.Kind, s)
			}
		}
		subjects[e.Subject] = true
	}
	if len(subjects) != len(contract.Kinds) {
		t.Errorf("%d different subjects for %d kinds: %v", len(subjects), len(contract.Kinds), subjects)
	}
	for _, secret := range []string{"Tmp-9xQ", token, "user1@example.com"} {
		if strings.Contains(logs.String(), secret) {
			t.Errorf("the log holds %q:\n%s", secret, logs.String())
		}
	}
	if !strings.Contains(logs.String(), `"kind":"invitation"`) || !strings.Contains(logs.String(), "no wording for this kind") {
		t.Errorf("the log does not name the kinds and the kind fallbacks:\n%s", logs.String())
	}
}
