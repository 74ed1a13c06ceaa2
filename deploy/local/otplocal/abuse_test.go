package otplocal

import (
	"context"
	"encoding/json"
	"strconv"
	"strings"
	"testing"
	"time"

	cognitosrp "github.com/alexrudd/cognito-srp/v4"
	"github.com/aws/aws-sdk-go-v2/aws"
	cip "github.com/aws/aws-sdk-go-v2/service/cognitoidentityprovider"
	"github.com/aws/aws-sdk-go-v2/service/cognitoidentityprovider/types"

	"github.com/cognito-email-otp/cognito-email-otp/deploy/local/awslocal"
	"github.com/cognito-email-otp/cognito-email-otp/deploy/local/seslocal"
)

// These tests play an attacker who has the victim's password and talks to
// Cognito's API with the real SDK client, as any script could: everything
// the triggers promise about guessing, resending and replaying has to hold
// over the wire, not only in the handlers.

const (
	acmeClient = "otplocalacmeweb0000000001"
	notAuth    = "NotAuthorizedException"
)

// wrongCode is a well-formed code that differs from code.
func wrongCode(code string) string {
	c := []byte(code)
	c[0] = '0' + (c[0]-'0'+1)%10
	return string(c)
}

// triggerLine is the part of a trigger's log line these tests read.
type triggerLine struct {
	Trigger string `json:"trigger"`
	Outcome string `json:"outcome"`
	Reason  string `json:"reason"`
	Note    string `json:"note"`
}

// triggerLines returns the triggers' log lines in logs (the mailer's and the
// mapping's lines have no "trigger" field).
func triggerLines(t *testing.T, logs string) []triggerLine {
	t.Helper()
	var out []triggerLine
	for _, line := range strings.Split(logs, "\n") {
		if !strings.Contains(line, `"trigger":`) {
			continue
		}
		var l triggerLine
		if err := json.Unmarshal([]byte(line), &l); err != nil {
			t.Fatalf("trigger log line is not JSON: %s", line)
		}
		out = append(out, l)
	}
	return out
}

func countLines(lines []triggerLine, trigger, outcome string) int {
	n := 0
	for _, l := range lines {
		if l.Trigger == trigger && l.Outcome == outcome {
			n++
		}
	}
	return n
}

// sentTo is how many emails to reached the outbox.
func sentTo(sys *System, to string) int { return len(sys.SES.Outbox().List(seslocal.Filter{To: to})) }

// TestAbuseGuessingIsBounded counts, for several attacker strategies, the
// guesses Cognito accepts before it answers NotAuthorizedException. The
// limits are read from the first challenge (attemptsLeft, resendsLeft),
// which is what the deployed triggers report; the defaults are 3 and 2.
//
// A guess that is compared can be right, so the bound on success is the
// number of guesses sent, the last one included (Cognito refuses the call
// after Verify has compared it). The most an attacker gets is (resends) x
// (wrong answers - 1) + (wrong answers) = 7: the last wrong answer to a code
// ends the sign-in, so to reach the next code one attempt must be left
// unused. The README's "3 wrong answers per code, 2 resends" (9) is an upper
// bound that the state machine never reaches.
func TestAbuseGuessingIsBounded(t *testing.T) {
	t.Parallel()
	// A short cooldown keeps the test fast; every resend below waits it out,
	// so each one is honoured exactly as a 30 s cooldown would be.
	const cooldown = 400 * time.Millisecond
	type action int
	const (
		guess action = iota
		resend
	)
	tests := []struct {
		name string
		next func(attemptsLeft, resendsLeft int) action
		// want guesses, emails and Define's last reason for limits w, r
		wantGuesses func(w, r int) int
		wantEmails  func(w, r int) int
		wantReason  string
	}{
		{
			name: "guess until one attempt is left, then resend (the best strategy)",
			next: func(a, r int) action {
				if a == 1 && r > 0 {
					return resend
				}
				return guess
			},
			wantGuesses: func(w, r int) int { return r*(w-1) + w },
			wantEmails:  func(w, r int) int { return 1 + r },
			wantReason:  "too_many_wrong_answers",
		},
		{
			name: "resend as soon as allowed, then guess",
			next: func(a, r int) action {
				if r > 0 {
					return resend
				}
				return guess
			},
			wantGuesses: func(w, r int) int { return w },
			wantEmails:  func(w, r int) int { return 1 + r },
			wantReason:  "too_many_wrong_answers",
		},
		{
			name:        "never resend",
			next:        func(a, r int) action { return guess },
			wantGuesses: func(w, r int) int { return w },
			wantEmails:  func(w, r int) int { return 1 },
			wantReason:  "too_many_wrong_answers",
		},
		{
			name:        "only resend, one more than allowed",
			next:        func(a, r int) action { return resend },
			wantGuesses: func(w, r int) int { return 0 },
			wantEmails:  func(w, r int) int { return 1 + r },
			wantReason:  "resend_limit",
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			sys, logs := start(t, Options{ResendCooldown: cooldown})
			ctx := t.Context()
			const victim = "rosa@example.com"
			u, err := client(sys, acmeClient).Start(ctx, victim, DemoPassword)
			if err != nil {
				t.Fatal(err)
			}
			maxWrong, err1 := strconv.Atoi(u.Params["attemptsLeft"])
			maxResends, err2 := strconv.Atoi(u.Params["resendsLeft"])
			if err1 != nil || err2 != nil || maxWrong != 3 || maxResends != 2 {
				t.Fatalf("first challenge %v: want attemptsLeft 3 and resendsLeft 2, the documented defaults", u.Params)
			}
			emails := 1
			_, code := inbox(t, sys, victim, emails)
			guesses, accepted := 0, 0
			var refused error
			for step := 0; refused == nil; step++ {
				if step > 50 {
					t.Fatal("still signing in after 50 calls: nothing bounds this strategy")
				}
				a, _ := strconv.Atoi(u.Params["attemptsLeft"])
				r, _ := strconv.Atoi(u.Params["resendsLeft"])
				if tc.next(a, r) == resend {
					time.Sleep(cooldown)
					if refused = u.Resend(ctx); refused != nil {
						break
					}
					if u.Params["newCode"] != "true" {
						t.Fatalf("resend after the cooldown sent no new code: %v", u.Params)
					}
					emails++
					_, code = inbox(t, sys, victim, emails)
					continue
				}
				guesses++
				if refused = u.Answer(ctx, wrongCode(code), nil); refused != nil {
					break
				}
				if u.Result != nil {
					t.Fatal("a wrong code signed the attacker in")
				}
				accepted++
			}
			if errCode(refused) != notAuth {
				t.Fatalf("the sign-in ended with %v, want %s", refused, notAuth)
			}
			wantGuesses := tc.wantGuesses(maxWrong, maxResends)
			t.Logf("%d guesses compared (%d answered with a new challenge), %d codes emailed, then %s; want %d guesses",
				guesses, accepted, emails, errCode(refused), wantGuesses)
			if guesses != wantGuesses {
				t.Errorf("%d guesses, want %d", guesses, wantGuesses)
			}
			if guesses > maxWrong*(1+maxResends) {
				t.Errorf("%d guesses exceed the documented bound %d", guesses, maxWrong*(1+maxResends))
			}
			if wantEmails := tc.wantEmails(maxWrong, maxResends); emails != wantEmails {
				t.Errorf("%d new codes, want %d", emails, wantEmails)
			}
			// Every guess, the refused one too, reached Verify's comparison,
			// and nothing else did.
			lines := triggerLines(t, logs.String())
			if n := countLines(lines, "verify", "wrong"); n != guesses {
				t.Errorf("verify compared %d answers, want %d", n, guesses)
			}
			if n := countLines(lines, "verify", "correct"); n != 0 {
				t.Errorf("verify found %d correct answers", n)
			}
			if last := lines[len(lines)-1]; last.Trigger != "define" || last.Outcome != "fail" || last.Reason != tc.wantReason {
				t.Errorf("last trigger line %+v, want define fail %s", last, tc.wantReason)
			}
			// No late email either: the refused call sent nothing.
			time.Sleep(300 * time.Millisecond)
			if n := sentTo(sys, victim); n != emails {
				t.Errorf("%d emails in the outbox, want %d", n, emails)
			}
		})
	}
}

// rawSignIn is the password step done by hand, as signin.Client.Start does,
// keeping every session token Cognito hands out so that they can be replayed.
type rawSignIn struct {
	cog      *cip.Client
	clientID string
	user     string
}

func (r rawSignIn) passwordStep(t *testing.T, password string) (initSession, codeSession *string) {
	t.Helper()
	ctx := t.Context()
	srp, err := cognitosrp.NewCognitoSRP(r.user, password, PoolID, r.clientID, nil)
	if err != nil {
		t.Fatal(err)
	}
	params := srp.GetAuthParams()
	params["CHALLENGE_NAME"] = "SRP_A"
	init, err := r.cog.InitiateAuth(ctx, &cip.InitiateAuthInput{AuthFlow: types.AuthFlowTypeCustomAuth, ClientId: aws.String(r.clientID), AuthParameters: params})
	if err != nil {
		t.Fatal(err)
	}
	answer, err := srp.PasswordVerifierChallenge(init.ChallengeParameters, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	out, err := r.cog.RespondToAuthChallenge(ctx, &cip.RespondToAuthChallengeInput{ClientId: aws.String(r.clientID),
		ChallengeName: types.ChallengeNameTypePasswordVerifier, Session: init.Session, ChallengeResponses: answer})
	if err != nil {
		t.Fatal(err)
	}
	if out.ChallengeName != types.ChallengeNameTypeCustomChallenge {
		t.Fatalf("after the password: challenge %q", out.ChallengeName)
	}
	return init.Session, out.Session
}

func (r rawSignIn) answer(ctx context.Context, session *string, answer string) (*cip.RespondToAuthChallengeOutput, error) {
	return r.cog.RespondToAuthChallenge(ctx, &cip.RespondToAuthChallengeInput{ClientId: aws.String(r.clientID),
		ChallengeName: types.ChallengeNameTypeCustomChallenge, Session: session,
		ChallengeResponses: map[string]string{"USERNAME": r.user, "ANSWER": answer}})
}

// TestAbuseReplayedSessionIsRefused: every session token answers one call.
// Replaying an older one must not buy a fresh set of attempts (replaying the
// session from before a wrong answer), a second set of tokens (replaying
// the session that was answered correctly), or a free comparison: a replay
// never reaches Verify.
func TestAbuseReplayedSessionIsRefused(t *testing.T) {
	t.Parallel()
	sys, logs := start(t, Options{})
	ctx := t.Context()
	const victim = "lena@example.com"
	r := rawSignIn{cog: cip.NewFromConfig(awslocal.Config(sys.URL)), clientID: acmeClient, user: victim}
	initSession, s1 := r.passwordStep(t, DemoPassword)
	_, code := inbox(t, sys, victim, 1)

	out, err := r.answer(ctx, s1, wrongCode(code))
	if err != nil || out.AuthenticationResult != nil || out.ChallengeParameters["attemptsLeft"] != "2" {
		t.Fatalf("wrong answer: %v, %+v", err, out)
	}
	s2 := out.Session
	out, err = r.answer(ctx, s2, code)
	if err != nil || out.AuthenticationResult == nil {
		t.Fatalf("right answer: %v", err)
	}
	verifies := countLines(triggerLines(t, logs.String()), "verify", "wrong") + countLines(triggerLines(t, logs.String()), "verify", "correct")

	for _, tc := range []struct {
		name    string
		session *string
		answer  string
	}{
		{"the session before the wrong answer, with the right code", s1, code},
		{"the session before the wrong answer, with another guess", s1, wrongCode(wrongCode(code))},
		{"the session answered correctly, again", s2, code},
		{"the InitiateAuth session, as a code answer", initSession, code},
	} {
		t.Run(tc.name, func(t *testing.T) {
			out, err := r.answer(ctx, tc.session, tc.answer)
			if errCode(err) != notAuth {
				t.Fatalf("replay: err %v, out %+v; want %s", err, out, notAuth)
			}
			if !strings.Contains(err.Error(), "only be used once") {
				t.Errorf("replay refused with %q, want Cognito's single-use message", err)
			}
		})
	}
	t.Run("the InitiateAuth session, as its own password step", func(t *testing.T) {
		_, err := r.cog.RespondToAuthChallenge(ctx, &cip.RespondToAuthChallengeInput{ClientId: aws.String(r.clientID),
			ChallengeName: types.ChallengeNameTypePasswordVerifier, Session: initSession,
			ChallengeResponses: map[string]string{"USERNAME": victim}})
		if errCode(err) != notAuth {
			t.Fatalf("replay of the password step: %v, want %s", err, notAuth)
		}
	})
	lines := triggerLines(t, logs.String())
	if n := countLines(lines, "verify", "wrong") + countLines(lines, "verify", "correct"); n != verifies {
		t.Errorf("replays reached Verify's comparison %d times", n-verifies)
	}
	if n := sentTo(sys, victim); n != 1 {
		t.Errorf("%d emails, want 1: a replay must not send a code", n)
	}
}

// TestAbuseResendInsideCooldown: with the default 30 s cooldown, a resend
// request sends no email and leaves the code in force; and such requests are
// bounded, so that they cannot keep a sign-in open for ever.
func TestAbuseResendInsideCooldown(t *testing.T) {
	t.Parallel()
	sys, logs := start(t, Options{})
	ctx := t.Context()

	t.Run("no email, the old code still works", func(t *testing.T) {
		const victim = "rosa@example.com"
		u, err := client(sys, acmeClient).Start(ctx, victim, DemoPassword)
		if err != nil {
			t.Fatal(err)
		}
		_, code := inbox(t, sys, victim, 1)
		before := sys.SES.Outbox().Count()
		if err := u.Resend(ctx); err != nil {
			t.Fatalf("early resend: %v", err)
		}
		if u.Params["newCode"] != "false" || u.Params["resendsLeft"] != "2" || u.Params["attemptsLeft"] != "3" {
			t.Errorf("early resend: params %v, want newCode false and nothing used up", u.Params)
		}
		if s, _ := strconv.Atoi(u.Params["resendInSeconds"]); s < 1 || s > 30 {
			t.Errorf("early resend: resendInSeconds %q, want 1..30", u.Params["resendInSeconds"])
		}
		// Nothing was enqueued, so nothing can arrive late; wait a little
		// anyway so a stray send would show.
		time.Sleep(500 * time.Millisecond)
		if n := sys.SES.Outbox().Count(); n != before {
			t.Errorf("outbox went from %d to %d emails on a resend inside the cooldown", before, n)
		}
		lines := triggerLines(t, logs.String())
		if n := countLines(lines, "create", "code_enqueued"); n != 1 {
			t.Errorf("create enqueued %d codes, want 1", n)
		}
		if n := countLines(lines, "create", "same_code"); n != 1 || lines[len(lines)-1].Note != "resend_in_cooldown" {
			t.Errorf("create: %d same_code lines, last %+v; want one, resend_in_cooldown", n, lines[len(lines)-1])
		}
		if err := u.Answer(ctx, code, nil); err != nil || u.Result == nil {
			t.Fatalf("the first code after an early resend: %v", err)
		}
	})

	t.Run("early requests are bounded", func(t *testing.T) {
		const victim = "yuki@example.com"
		u, err := client(sys, acmeClient).Start(ctx, victim, DemoPassword)
		if err != nil {
			t.Fatal(err)
		}
		inbox(t, sys, victim, 1)
		// Define allows as many early requests per code as wrong answers.
		maxWrong, _ := strconv.Atoi(u.Params["attemptsLeft"])
		for i := 1; i <= maxWrong; i++ {
			if err := u.Resend(ctx); err != nil {
				t.Fatalf("early request %d: %v", i, err)
			}
		}
		if err := u.Resend(ctx); errCode(err) != notAuth {
			t.Fatalf("early request %d: %v, want %s", maxWrong+1, err, notAuth)
		}
		time.Sleep(300 * time.Millisecond)
		if n := sentTo(sys, victim); n != 1 {
			t.Errorf("%d emails, want 1", n)
		}
		if last := triggerLines(t, logs.String()); last[len(last)-1].Reason != "too_many_early_resends" {
			t.Errorf("last trigger line %+v, want too_many_early_resends", last[len(last)-1])
		}
	})
}

// TestAbuseMalformedAnswer: an answer that is not six digits is refused by
// Verify without comparing it (logged outcome malformed_answer, never
// "wrong"), and, as triggers/verify.go documents ("an answer it cannot check
// is a wrong answer, and Define decides what follows"), it costs an attempt
// like a wrong answer; the code itself still works afterwards.
func TestAbuseMalformedAnswer(t *testing.T) {
	t.Parallel()
	sys, logs := start(t, Options{})
	ctx := t.Context()
	const victim = "omar@example.com"
	for _, tc := range []struct {
		name   string
		answer func(code string) string
	}{
		{"seven digits: the code and one more", func(c string) string { return c + "0" }},
		{"seven digits: one more in front", func(c string) string { return "0" + c }},
		{"five digits: the code cut short", func(c string) string { return c[:5] }},
		{"letters", func(c string) string { return c[:5] + "x" }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			n := sentTo(sys, victim) + 1 // before Start: its email may arrive at once
			u, err := client(sys, acmeClient).Start(ctx, victim, DemoPassword)
			if err != nil {
				t.Fatal(err)
			}
			_, code := inbox(t, sys, victim, n)
			mark := len(logs.String())
			if err := u.Answer(ctx, tc.answer(code), nil); err != nil || u.Result != nil {
				t.Fatalf("malformed answer: err %v, signed in %v", err, u.Result != nil)
			}
			if u.Params["attemptsLeft"] != "2" || u.Params["newCode"] != "false" {
				t.Errorf("after a malformed answer: params %v, want attemptsLeft 2 (it counts as wrong), newCode false", u.Params)
			}
			lines := triggerLines(t, logs.String()[mark:])
			if countLines(lines, "verify", "malformed_answer") != 1 || countLines(lines, "verify", "wrong") != 0 {
				t.Errorf("verify lines %+v, want one malformed_answer and no comparison", lines)
			}
			for _, l := range lines {
				if l.Trigger == "verify" && l.Reason != "answer is not 6 digits" {
					t.Errorf("verify reason %q", l.Reason)
				}
			}
			if err := u.Answer(ctx, code, nil); err != nil || u.Result == nil {
				t.Fatalf("the right code after a malformed answer: %v", err)
			}
		})
	}
	t.Run("three seven-digit answers end the sign-in", func(t *testing.T) {
		n := sentTo(sys, victim) + 1
		u, err := client(sys, acmeClient).Start(ctx, victim, DemoPassword)
		if err != nil {
			t.Fatal(err)
		}
		_, code := inbox(t, sys, victim, n)
		for i := 1; i <= 3; i++ {
			err := u.Answer(ctx, code+"0", nil)
			if i < 3 && err != nil {
				t.Fatalf("answer %d: %v", i, err)
			}
			if i == 3 && errCode(err) != notAuth {
				t.Fatalf("answer 3: %v, want %s", err, notAuth)
			}
		}
	})
}
