package triggers

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"
)

// TestNoSecretInLogs runs sign-ins that touch every log line the triggers
// write and checks that no code, no key, no MAC and no full email address
// appears in them.
func TestNoSecretInLogs(t *testing.T) {
	r := newRig(t)
	flows := []func(s *signIn){
		func(s *signIn) { s.start(true).password(true).answer(s.wrongCode()).answer(s.code()) },
		func(s *signIn) {
			s.start(true).password(true).resend()
			s.r.clock.Advance(time.Minute)
			s.resend().answer(s.wrongCode()).answer("12x456").answer(s.code())
		},
		func(s *signIn) {
			s.start(true).password(true)
			s.r.clock.Advance(5 * time.Minute)
			s.answer(s.code())
		},
		func(s *signIn) { s.start(true).password(false) },
		func(s *signIn) { s.start(false) },
	}
	var secrets []string
	for _, flow := range flows {
		s := r.signIn(t, nil)
		flow(s)
		secrets = append(secrets, s.meta)
		for k, v := range s.private {
			// The MAC. Not the challenge id: it is the send request's id,
			// which the mailer logs as request_id, SES tags the email with
			// and the email's X-Entity-Ref-ID header carries; Create's
			// enqueue line names it too, so a trace follows one code. Only
			// the key makes a MAC, and the key is checked below.
			if k != privChallengeID && len(v) > 20 {
				secrets = append(secrets, v)
			}
		}
	}
	r.queue.mu.Lock()
	for _, req := range r.queue.sent {
		secrets = append(secrets, req.Code.Reveal())
	}
	r.queue.mu.Unlock()
	secrets = append(secrets, string(testKey), "rosa@example.com")

	logs := r.logs.String()
	if strings.Count(logs, "\n") < 20 {
		t.Fatalf("expected a log line per trigger call, got:\n%s", logs)
	}
	for _, line := range strings.Split(strings.TrimSpace(logs), "\n") {
		var fields map[string]any
		if err := json.Unmarshal([]byte(line), &fields); err != nil {
			t.Fatalf("log line is not JSON: %s", line)
		}
		for _, key := range []string{"trigger", "user_pool_id", "client_id", "outcome"} {
			if _, ok := fields[key]; !ok {
				t.Errorf("log line lacks %q: %s", key, line)
			}
		}
		// The timestamp is the logger's, not ours: its nanoseconds hold a
		// six-digit code by chance about once in 200,000 runs per line.
		delete(fields, "time")
		rest, _ := json.Marshal(fields)
		for _, secret := range secrets {
			if secret != "" && strings.Contains(string(rest), secret) {
				t.Errorf("log line contains a secret %q: %s", secret, line)
			}
		}
	}
	if !containsAll(logs, `"tenant":"default"`, `"generation":2`, `"reason":"code_expired"`, `"reason":"wrong_password"`, `"reason":"no_password_step"`) {
		t.Errorf("logs lack expected fields:\n%s", logs)
	}
}

// TestChallengeParametersCarryNoCode checks what Cognito keeps and what the
// client sees after Create: no code anywhere, the address masked.
func TestChallengeParametersCarryNoCode(t *testing.T) {
	r := newRig(t)
	s := r.signIn(t, nil).start(true).password(true)
	code := s.code()
	all, _ := json.Marshal([]any{s.public, s.private, s.meta})
	if strings.Contains(string(all), code) {
		t.Errorf("challenge parameters contain the code %s: %s", code, all)
	}
	want := map[string]string{
		ParamEmail: "r***@example.com", ParamCodeLength: "6", ParamExpiresInSeconds: "180",
		ParamResendInSeconds: "30", ParamResendsLeft: "2", ParamAttemptsLeft: "3", ParamNewCode: "true",
		ParamExpiresAt: "2026-11-24T09:03:00Z",
	}
	for k, v := range want {
		if s.public[k] != v {
			t.Errorf("public %s = %q, want %q", k, s.public[k], v)
		}
	}
	if len(s.public) != len(want) {
		t.Errorf("public parameters %v, want exactly %v", s.public, want)
	}
}

// TestEnqueueLineCarriesTheRecipientsHash: Create's lines name the
// recipient by to_hash, the same keyed hash the mailer's sent line and the
// feedback function's event lines carry (pseudonym.ToHash), and never by
// the address.
func TestEnqueueLineCarriesTheRecipientsHash(t *testing.T) {
	r := newRig(t)
	r.signIn(t, nil).start(true).password(true)
	want := testKeys(t).ToHash(" Rosa@Example.com")
	var enqueued int
	for _, line := range strings.Split(strings.TrimSpace(r.logs.String()), "\n") {
		var fields map[string]any
		if err := json.Unmarshal([]byte(line), &fields); err != nil {
			t.Fatalf("log line is not JSON: %s", line)
		}
		if fields["trigger"] != "create" {
			continue
		}
		if fields["outcome"] == "code_enqueued" {
			enqueued++
		}
		if fields["to_hash"] != want {
			t.Errorf("create line's to_hash %v, want %s (the normalised address's): %s", fields["to_hash"], want, line)
		}
	}
	if enqueued != 1 {
		t.Errorf("%d enqueue lines, want 1:\n%s", enqueued, r.logs.String())
	}
}

// TestEnqueueLineNamesTheSendRequest: Create's enqueue line carries the
// send request's id as request_id, the field the mailer's and the feedback
// function's lines carry it in, so that otpctl trace joins the three, and
// its IssuedAt as issued_at; the lines that enqueue nothing carry neither.
func TestEnqueueLineNamesTheSendRequest(t *testing.T) {
	r := newRig(t)
	s := r.signIn(t, nil).start(true).password(true)
	s.answer(s.wrongCode())
	r.queue.mu.Lock()
	var sent []string
	var issued time.Time
	for _, req := range r.queue.sent {
		sent, issued = append(sent, req.ID), req.IssuedAt
	}
	r.queue.mu.Unlock()
	if len(sent) != 1 {
		t.Fatalf("%d send requests, want 1", len(sent))
	}
	tests := map[string]string{"code_enqueued": sent[0], "same_code": ""}
	seen := map[string]bool{}
	for _, line := range strings.Split(strings.TrimSpace(r.logs.String()), "\n") {
		var fields map[string]any
		if err := json.Unmarshal([]byte(line), &fields); err != nil {
			t.Fatalf("log line is not JSON: %s", line)
		}
		want, ok := tests[fmt.Sprint(fields["outcome"])]
		if fields["trigger"] != "create" || !ok {
			continue
		}
		seen[fmt.Sprint(fields["outcome"])] = true
		if got, _ := fields["request_id"].(string); got != want {
			t.Errorf("create %s line: request_id %q, want %q: %s", fields["outcome"], got, want, line)
		}
		at, _ := time.Parse(time.RFC3339Nano, fmt.Sprint(fields["issued_at"]))
		if enqueued := want != ""; enqueued != (fields["issued_at"] != nil) || enqueued && !at.Equal(issued) {
			t.Errorf("create %s line: issued_at %v, want the request's IssuedAt %v on an enqueue only: %s", fields["outcome"], fields["issued_at"], issued, line)
		}
	}
	if len(seen) != len(tests) {
		t.Errorf("create lines seen %v, want %d outcomes:\n%s", seen, len(tests), r.logs.String())
	}
}
