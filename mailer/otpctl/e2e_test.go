package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	cip "github.com/aws/aws-sdk-go-v2/service/cognitoidentityprovider"
	"github.com/aws/aws-sdk-go-v2/service/sqs"

	"github.com/cognito-email-otp/cognito-email-otp/deploy/local/awslocal"
	"github.com/cognito-email-otp/cognito-email-otp/deploy/local/otplocal"
	"github.com/cognito-email-otp/cognito-email-otp/deploy/local/seslocal"
	"github.com/cognito-email-otp/cognito-email-otp/deploy/local/signin"
	"github.com/cognito-email-otp/cognito-email-otp/mailer/ops"
)

func otpctl(t *testing.T, stdinText string, args ...string) (int, string) {
	t.Helper()
	stdin = strings.NewReader(stdinText)
	var out, errOut bytes.Buffer
	code := run(t.Context(), args, &out, &errOut)
	return code, out.String() + errOut.String()
}

// TestOperatorRecoversFromAnSESOutage against otp-local: with SES failing,
// real sign-ins' codes and two poison messages end in the DLQ; the operator
// sees them, fixes SES and redrives. The mailer took the codes out of the
// dead letters it wrote (they outlive the codes by days), so the redrive
// delivers nothing: the mailer counts and drops those, and the users sign
// in again and get a code at once.
func TestOperatorRecoversFromAnSESOutage(t *testing.T) {
	sys, err := otplocal.Start(context.Background(), otplocal.Options{
		Addr: "127.0.0.1:0", Seed: otplocal.DefaultSeed(),
		SES:             seslocal.Faults{FailRate: 1, FailStatus: 503},
		QueueVisibility: time.Second, MailerRetryBudget: 50 * time.Millisecond,
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = sys.Close() })
	ctx, cancel := context.WithTimeout(t.Context(), 90*time.Second)
	defer cancel()
	endpoint := []string{"--endpoint", sys.URL}

	// Two users sign in; their codes cannot be sent.
	client := signin.Client{Cognito: cip.NewFromConfig(awslocal.Config(sys.URL)), PoolID: otplocal.PoolID, ClientID: sys.Clients[0].ID}
	users := []string{"rosa@example.com", "lena@example.com"}
	for _, u := range users {
		if _, err := client.Start(ctx, u, otplocal.DemoPassword); err != nil {
			t.Fatal(err)
		}
	}
	// Two poison messages, one carrying something code-like.
	q := sqs.NewFromConfig(awslocal.Config(sys.URL))
	for _, body := range []string{`{"v":1,"code":"555123"`, `{"v":9,"code":"555456"}`} {
		if _, err := q.SendMessage(ctx, &sqs.SendMessageInput{QueueUrl: aws.String(sys.Queues().SendQueue), MessageBody: aws.String(body)}); err != nil {
			t.Fatal(err)
		}
	}

	// The poison goes to the DLQ at once; the real ones after maxReceiveCount
	// deliveries. queue status exits 1 while dead letters wait.
	for {
		code, out := otpctl(t, "", append([]string{"--json", "queue", "status"}, endpoint...)...)
		var status []ops.QueueStatus
		_ = json.Unmarshal([]byte(out), &status)
		if code == exitProblems && len(status) == 2 && status[1].Visible == 4 {
			break
		}
		if ctx.Err() != nil {
			t.Fatalf("dead letters did not arrive: exit %d, %s", code, out)
		}
		time.Sleep(200 * time.Millisecond)
	}

	code, out := otpctl(t, "", append([]string{"--json", "dlq", "list"}, endpoint...)...)
	var dead []ops.DeadLetter
	if err := json.Unmarshal([]byte(out), &dead); err != nil || code != exitOK {
		t.Fatalf("dlq list: exit %d, %v\n%s", code, err, out)
	}
	reasons := map[string]int{}
	for _, d := range dead {
		reasons[d.Reason]++
	}
	if fmt.Sprint(reasons) != "map[malformed:1 max_receives:2 unknown_version:1]" {
		t.Errorf("dead letters by reason %v", reasons)
	}
	// Every code on the DLQ, read behind otpctl's back, is absent from its
	// output; and the dead letters the mailer wrote hold none at all.
	raw, _ := sys.SQS.Messages(otplocal.DeadLetters)
	codes := regexp.MustCompile(`"code":"(\d+)"`)
	for _, m := range raw {
		for _, c := range codes.FindAllStringSubmatch(m.Body, -1) {
			if strings.Contains(out, c[1]) {
				t.Errorf("dlq list shows a code: %s", c[1])
			}
			if strings.Contains(m.Body, "@example.com") {
				t.Errorf("a dead letter of a real sign-in holds its code: %s", c[1])
			}
		}
	}
	for _, d := range dead {
		if d.Reason == "max_receives" && (!d.CodeRemoved || !strings.Contains(d.Error, "503")) {
			t.Errorf("max_receives dead letter: code removed %v, error %q; want the code removed and SES's last error", d.CodeRemoved, d.Error)
		}
	}
	_, table := otpctl(t, "", append([]string{"dlq", "list"}, endpoint...)...)
	if !strings.Contains(table, "max_receives") || !strings.Contains(table, "r***@example.com") || strings.Contains(table, "rosa@example.com") {
		t.Errorf("dlq list table:\n%s", table)
	}

	// Without confirmation nothing moves.
	if code, out := otpctl(t, "n\n", append([]string{"dlq", "redrive", "--reason", "max_receives"}, endpoint...)...); code != exitProblems || !strings.Contains(out, "not confirmed") {
		t.Errorf("unconfirmed redrive: exit %d\n%s", code, out)
	}

	// SES recovers; the operator redrives what can now be delivered.
	if err := sys.SetSESFaults(0, 0, 0); err != nil {
		t.Fatal(err)
	}
	code, out = otpctl(t, "", append([]string{"dlq", "redrive", "--reason", "max_receives", "--yes"}, endpoint...)...)
	if code != exitOK || !strings.Contains(out, "moved 2 dead letters") {
		t.Fatalf("redrive: exit %d\n%s", code, out)
	}
	for sys.MailerStats().ByOutcome["redacted"] < 2 {
		if ctx.Err() != nil {
			t.Fatalf("the redriven dead letters were not dropped: %+v", sys.MailerStats())
		}
		time.Sleep(100 * time.Millisecond)
	}
	if n := sys.SES.Outbox().Count(); n != 0 {
		t.Errorf("%d emails sent from dead letters without codes", n)
	}
	for _, u := range users {
		again, err := client.Start(ctx, u, otplocal.DemoPassword)
		if err != nil {
			t.Fatal(err)
		}
		e, err := signin.WaitEmail(ctx, sys.SES.Outbox(), u, 1)
		if err != nil {
			t.Fatal(err)
		}
		if err := again.Answer(ctx, signin.CodeIn(e), nil); err != nil || again.Result == nil {
			t.Errorf("%s could not sign in again once SES recovered: %v", u, err)
		}
	}
	// The poison stays for a human to look at.
	if code, out := otpctl(t, "", append([]string{"--json", "queue", "status"}, endpoint...)...); code != exitProblems || !strings.Contains(out, `"visible": 2`) {
		t.Errorf("after redrive: exit %d\n%s", code, out)
	}
}

// TestUserStatusAndUnlock: an operator looks up a user the failure budget
// holds back, finds their log lines by the pseudonym otpctl prints, and
// unlocks them.
func TestUserStatusAndUnlock(t *testing.T) {
	sys, err := otplocal.Start(context.Background(), otplocal.Options{Addr: "127.0.0.1:0", Seed: otplocal.DefaultSeed()})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = sys.Close() })
	var sub string
	for _, u := range sys.Cognito.Users() {
		if u.Attributes["email"] == "lena@example.com" {
			sub = u.Attributes["sub"]
		}
	}
	for range 12 {
		if _, err := sys.Budget.Penalize(t.Context(), sub); err != nil {
			t.Fatal(err)
		}
	}
	code, out := otpctl(t, "", "user", "status", "lena@example.com", "--endpoint", sys.URL, "--json")
	var st struct {
		Sub         string    `json:"sub"`
		Failures    int       `json:"failures"`
		LockedUntil time.Time `json:"lockedUntil"`
		LogUser     string    `json:"logUser"`
	}
	if err := json.Unmarshal([]byte(out), &st); err != nil || code != exitOK {
		t.Fatalf("user status: exit %d, %v\n%s", code, err, out)
	}
	if st.Sub != sub || st.Failures != 12 || st.LockedUntil.IsZero() || st.LogUser != sys.Keys.Pseudonym(sub) {
		t.Errorf("user status %+v, want sub %s, 12 failures, a back-off and the log pseudonym %s", st, sub, sys.Keys.Pseudonym(sub))
	}
	_, table := otpctl(t, "", "user", "status", "lena@example.com", "--endpoint", sys.URL)
	if !strings.Contains(table, "backing off until") || !strings.Contains(table, "user="+st.LogUser) {
		t.Errorf("user status table:\n%s", table)
	}
	if code, out := otpctl(t, "", "user", "unlock", sub, "--endpoint", sys.URL); code != exitOK || !strings.Contains(out, "cleared 12 failed code steps") {
		t.Errorf("unlock by sub: exit %d\n%s", code, out)
	}
	if s, _ := sys.Budget.Inspect(t.Context(), sub); s.Failures != 0 || !s.LockedUntil.IsZero() {
		t.Errorf("after the unlock: %+v", s)
	}
	if code, out := otpctl(t, "", "user", "status", "nobody@example.com", "--endpoint", sys.URL); code != exitProblems || !strings.Contains(out, "nobody@example.com") {
		t.Errorf("unknown user: exit %d\n%s", code, out)
	}
}

// TestGlobalFlagsAnywhere: the line otp-local prints, and the same flags
// after the command, both reach otp-local; so do --queue and --json.
func TestGlobalFlagsAnywhere(t *testing.T) {
	sys := startLocal(t, otplocal.Options{Seed: otplocal.DefaultSeed()})
	for _, args := range [][]string{
		{"--endpoint", sys.URL, "queue", "status"},
		{"queue", "status", "--endpoint", sys.URL},
		{"--json", "queue", "status", "--endpoint=" + sys.URL, "--queue", otplocal.SendQueue},
		{"--endpoint", sys.URL, "--dlq", otplocal.DeadLetters, "dlq", "list", "--json"},
	} {
		t.Run(strings.Join(args, " "), func(t *testing.T) {
			code, out := otpctl(t, "", args...)
			if code != exitOK || !strings.Contains(out, otplocal.SendQueue) && !strings.Contains(out, "[]") {
				t.Errorf("exit %d\n%s", code, out)
			}
		})
	}
}

// TestWithoutCredentials: with no endpoint and no credentials anywhere,
// otpctl says what to set in one line instead of the SDK's IMDS error.
func TestWithoutCredentials(t *testing.T) {
	empty := filepath.Join(t.TempDir(), "none")
	for k, v := range map[string]string{"AWS_REGION": "eu-west-1", "AWS_PROFILE": "", "AWS_ACCESS_KEY_ID": "", "AWS_SECRET_ACCESS_KEY": "",
		"AWS_SESSION_TOKEN": "", "AWS_CONFIG_FILE": empty, "AWS_SHARED_CREDENTIALS_FILE": empty, "AWS_WEB_IDENTITY_TOKEN_FILE": "",
		"AWS_CONTAINER_CREDENTIALS_FULL_URI": "", "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI": "", "OTP_ENDPOINT": "", "AWS_EC2_METADATA_DISABLED": "true"} {
		t.Setenv(k, v)
	}
	for _, args := range [][]string{{"queue", "status"}, {"dlq", "list"}, {"user", "status", "rosa@example.com"}} {
		code, out := otpctl(t, "", args...)
		lines := strings.Split(strings.TrimSpace(out), "\n")
		if code != exitProblems || len(lines) != 1 || !strings.HasPrefix(lines[0], "otpctl: no AWS credentials found: set AWS_PROFILE") ||
			!strings.Contains(lines[0], "--endpoint http://127.0.0.1:7070") {
			t.Errorf("%v: exit %d\n%s", args, code, out)
		}
	}
	t.Setenv("AWS_REGION", "")
	t.Setenv("AWS_DEFAULT_REGION", "")
	if code, out := otpctl(t, "", "queue", "status"); code != exitProblems || !strings.Contains(out, "otpctl: no AWS region: give --region") {
		t.Errorf("no region: exit %d\n%s", code, out)
	}
}
