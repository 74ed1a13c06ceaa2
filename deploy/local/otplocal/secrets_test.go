package otplocal

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"regexp"
	"strings"
	"testing"
	"text/tabwriter"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"
	"github.com/aws/aws-sdk-go-v2/service/sqs"

	"github.com/cognito-email-otp/cognito-email-otp/deploy/local/awslocal"
	"github.com/cognito-email-otp/cognito-email-otp/deploy/local/seslocal"
	"github.com/cognito-email-otp/cognito-email-otp/deploy/local/signin"
	"github.com/cognito-email-otp/cognito-email-otp/mailer/contract"
	"github.com/cognito-email-otp/cognito-email-otp/mailer/ops"
	"github.com/cognito-email-otp/cognito-email-otp/triggers"
	smsecret "github.com/cognito-email-otp/cognito-email-otp/triggers/secret"
)

// secret is something no operator-facing output may contain.
type secret struct {
	kind  string // "code", "key" or "address"
	value string
}

// A code is six digits, so plain substring search would find it by chance
// in timestamps, nanosecond durations and hex ids. A code counts as leaked
// when it stands as its own token: not glued to other letters or digits.
// That still catches "code":"123456", code=123456 and "123456".
func codePattern(code string) *regexp.Regexp {
	return regexp.MustCompile(`(^|[^0-9A-Za-z])` + regexp.QuoteMeta(code) + `($|[^0-9A-Za-z])`)
}

// Measurements are numbers whose digits mean nothing: the log time, and
// JSON fields holding durations and timestamps (ses_latency, time_to_send,
// expired_for in nanoseconds, the EMF Timestamp and millisecond arrays, the
// ops page's ages and percentiles). They are blanked before codes are
// searched for, so that a latency of 482913 ns cannot fail the test; every
// other value, strings included, is searched as written.
var measurements = []struct {
	re   *regexp.Regexp
	with string
}{
	{regexp.MustCompile(`("time":\s*)"[^"]*"`), `${1}""`},
	{regexp.MustCompile(`("(?:ses_latency|time_to_send|expired_for|Timestamp|oldestAge|timeToSendP50|timeToSendP99|latency)":\s*)-?[0-9][0-9.eE+-]*`), `${1}0`},
	{regexp.MustCompile(`("(?:SESLatency|TimeToSend)":\s*)\[[^\]]*\]`), `${1}[]`},
}

func withoutMeasurements(s string) string {
	for _, m := range measurements {
		s = m.re.ReplaceAllString(s, m.with)
	}
	return s
}

// leaks lists the secrets found in text.
func leaks(text string, secrets []secret) []secret {
	codesText := withoutMeasurements(text)
	lower := strings.ToLower(text)
	var out []secret
	for _, s := range secrets {
		var found bool
		switch s.kind {
		case "code":
			found = codePattern(s.value).MatchString(codesText)
		case "address":
			found = strings.Contains(lower, strings.ToLower(s.value))
		case "key":
			// The whole key, or a recognisable part of it.
			found = strings.Contains(text, s.value) || strings.Contains(text, s.value[:16]) || strings.Contains(text, s.value[len(s.value)-16:])
		}
		if found {
			out = append(out, s)
		}
	}
	return out
}

// waitFor polls cond until it holds or 20 s have passed.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func queueDepth(sys *System, name string) (visible, inFlight int) {
	for _, q := range sys.SQS.Stats() {
		if q.Name == name {
			return q.Visible, q.InFlight
		}
	}
	return 0, 0
}

// renderDeadLetters prints a listing as `otpctl dlq list` does (its table),
// plus every field of every entry with %+v, the way a careless debug print
// would show them.
func renderDeadLetters(list []ops.DeadLetter) string {
	var b strings.Builder
	w := tabwriter.NewWriter(&b, 0, 4, 2, ' ', 0)
	fmt.Fprintln(w, "AGE\tREASON\tTENANT\tTO\tREQUEST\tCODE\tERROR")
	for _, d := range list {
		state := "redacted"
		if d.Expired {
			state = "expired"
		}
		fmt.Fprintf(w, "%s\t%s\t%s\t%s\t%s\t%s\t%s\n", d.Age, d.Reason, d.Tenant, d.To, d.RequestID, state, d.Error)
	}
	_ = w.Flush()
	for _, d := range list {
		fmt.Fprintf(&b, "%+v\n", d)
	}
	return b.String()
}

func httpGet(t *testing.T, url string) string {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil || resp.StatusCode != http.StatusOK {
		t.Fatalf("GET %s: %d %v\n%s", url, resp.StatusCode, err, b)
	}
	return string(b)
}

// TestNoSecretLeaks runs the flows that write every kind of log line (a
// sign-in, wrong and malformed answers, a resend, an expired code, poison
// messages that end in the dead-letter queue, a code that expired in the
// queue) with every output an operator can see captured, and checks that
// none holds a code, the HMAC key or a full recipient address:
//
//   - Options.Logs: the triggers' JSON lines, the mailer's ordinary lines and
//     the event source mapping's lines (system.go gives esm.Poller a logger
//     on Options.Logs; it gives sqslocal, seslocal and cognitoidp none, so
//     they log nowhere);
//   - the mailer's EMF metric lines, which the EMF sink would swallow;
//   - the dead-letter listing (ops.Queues.ListDeadLetters via sys.Queues()),
//     as otpctl's table, as %+v, and as JSON;
//   - the ops page and its JSON API, which show the same dead letters.
//
// The outbox is not checked: it is the email, and holds the code on purpose.
func TestNoSecretLeaks(t *testing.T) {
	t.Parallel()
	dataDir := t.TempDir()
	// 30 s is the shortest code lifetime Create accepts; the expired-code
	// flow starts first and the others run while its code ages.
	const cooldown, ttl = 400 * time.Millisecond, 30 * time.Second
	// Options.Logs receives everything the triggers and the mailer write,
	// its EMF metric lines included, as CloudWatch Logs would.
	sys, logs := start(t, Options{DataDir: dataDir, ResendCooldown: cooldown, CodeTTL: ttl})
	mailerOut := logs
	ctx := t.Context()

	// otp-local's HMAC key, read as the triggers read it: from the
	// Secrets Manager secret.
	cur, _, err := smsecret.Source{Client: secretsmanager.NewFromConfig(awslocal.Config(sys.URL)), ID: HMACKeySecret}.Keys(ctx)
	key := cur
	if err != nil || len(key) < triggers.MinKeyBytes {
		t.Fatalf("HMAC key: %d bytes, %v", len(key), err)
	}

	// An expired code: started now, answered after its lifetime.
	const lateUser = "lena@example.com"
	late, err := client(sys, "otplocaldefaultweb0000001").Start(ctx, lateUser, DemoPassword)
	if err != nil {
		t.Fatal(err)
	}
	lateExpiry, err := time.Parse(time.RFC3339, late.Params["expiresAt"])
	if err != nil {
		t.Fatal(err)
	}
	_, lateCode := inbox(t, sys, lateUser, 1)

	// A sign-in with a wrong and a seven-digit answer before the right one.
	u, err := client(sys, acmeClient).Start(ctx, "rosa@example.com", DemoPassword)
	if err != nil {
		t.Fatal(err)
	}
	_, code := inbox(t, sys, "rosa@example.com", 1)
	for _, answer := range []string{wrongCode(code), code + "0", code} {
		if err := u.Answer(ctx, answer, nil); err != nil {
			t.Fatal(err)
		}
	}
	if u.Result == nil {
		t.Fatal("demo: not signed in")
	}

	// Wrong answers until Cognito refuses.
	u, err = client(sys, "otplocalglobexweb00000001").Start(ctx, "omar@example.com", DemoPassword)
	if err != nil {
		t.Fatal(err)
	}
	_, code = inbox(t, sys, "omar@example.com", 1)
	for i := 1; ; i++ {
		err := u.Answer(ctx, wrongCode(code), nil)
		if err == nil && i < 3 {
			continue
		}
		if errCode(err) != notAuth || i != 3 {
			t.Fatalf("wrong answer %d: %v, want the third refused", i, err)
		}
		break
	}

	// A resend (after the cooldown), the old code, then the new one.
	u, err = client(sys, "otplocalglobexweb00000001").Start(ctx, "yuki@example.com", DemoPassword)
	if err != nil {
		t.Fatal(err)
	}
	_, oldCode := inbox(t, sys, "yuki@example.com", 1)
	time.Sleep(cooldown)
	if err := u.Resend(ctx); err != nil || u.Params["newCode"] != "true" {
		t.Fatalf("resend: %v %v", err, u.Params)
	}
	_, newCode := inbox(t, sys, "yuki@example.com", 2)
	for _, answer := range []string{oldCode, newCode} {
		if answer == oldCode && oldCode == newCode {
			continue // one run in a million draws the same code twice
		}
		if err := u.Answer(ctx, answer, nil); err != nil {
			t.Fatal(err)
		}
	}
	if u.Result == nil {
		t.Fatal("yuki: not signed in")
	}

	// Poison on the send queue, each carrying a code and addresses: what a
	// broken or hostile producer could put there.
	now := time.Now().UTC()
	poison := []struct {
		name, body, code string
		to               []string
		reason           string // dead-letter reason; "" when the mailer drops it instead
	}{
		{"malformed JSON", `{"v":1,"id":"poison-malformed","tenant":"acme","to":"mallory.malformed@example.com","code":"739152","name":"Mallory`,
			"739152", []string{"mallory.malformed@example.com"}, "malformed"},
		{"unknown version", mustJSON(t, map[string]any{"v": 3, "id": "poison-v3", "tenant": "acme", "to": "victor.version@example.com",
			"name": "Victor Version", "code": "604817", "issuedAt": now, "expiresAt": now.Add(3 * time.Minute)}),
			"604817", []string{"victor.version@example.com"}, "unknown_version"},
		{"a kind no mailer knows, with a temporary password", mustJSON(t, map[string]any{"v": contract.SendRequestVersion, "kind": "welcome_gift",
			"id": "poison-kind", "tenant": "acme", "to": "ivan.invite@example.com", "name": "Ivan", "username": "ivan",
			"temporaryPassword": "Tmp-5150-Pw!", "issuedAt": now, "expiresAt": now.Add(3 * time.Minute)}),
			"Tmp-5150-Pw!", []string{"ivan.invite@example.com"}, "unknown_kind"},
		{"invalid recipient", mustJSON(t, contract.SendRequest{V: contract.SendRequestVersion, Kind: contract.KindSignInCode, ID: "poison-recipient", Tenant: "acme",
			To: "ivy.invalid@example.com, bcc.spy@evil.example", Name: "Ivy", Code: "281946", IssuedAt: now, ExpiresAt: now.Add(3 * time.Minute)}),
			"281946", []string{"ivy.invalid@example.com", "bcc.spy@evil.example"}, "invalid_recipient"},
		{"expired in the queue", mustJSON(t, contract.SendRequest{V: contract.SendRequestVersion, Kind: contract.KindSignInCode, ID: "poison-expired", Tenant: "acme", Locale: "en",
			To: "larry.late@example.com", Name: "Larry", Code: "550382", IssuedAt: now.Add(-5 * time.Minute), ExpiresAt: now.Add(-2 * time.Minute)}),
			"550382", []string{"larry.late@example.com"}, ""},
	}
	sqsClient := sqs.NewFromConfig(awslocal.Config(sys.URL))
	for _, p := range poison {
		if !strings.Contains(p.body, p.code) {
			t.Fatalf("poison %s does not carry its code", p.name)
		}
		if _, err := sqsClient.SendMessage(ctx, &sqs.SendMessageInput{QueueUrl: aws.String(sys.Queues().SendQueue), MessageBody: aws.String(p.body)}); err != nil {
			t.Fatal(err)
		}
	}
	waitFor(t, "four dead letters", func() bool { v, f := queueDepth(sys, DeadLetters); return v+f == 4 })

	// The expired code: wait out its lifetime, then answer it correctly.
	time.Sleep(time.Until(lateExpiry) + time.Second)
	if err := late.Answer(ctx, lateCode, nil); errCode(err) != notAuth {
		t.Fatalf("expired code: %v, want %s", err, notAuth)
	}

	// Let the mailer finish, so that every line it will write is written.
	waitFor(t, "an empty send queue", func() bool { v, f := queueDepth(sys, SendQueue); return v+f == 0 })

	// The dead-letter listing, as operators see it.
	list, err := sys.Queues().ListDeadLetters(ctx, 50, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	listJSON, err := json.MarshalIndent(list, "", "  ")
	if err != nil {
		t.Fatal(err)
	}
	outputs := []struct{ name, text string }{
		{"Options.Logs", logs.String()},
		{"mailer output (logs and EMF)", mailerOut.String()},
		{"dead-letter listing (text)", renderDeadLetters(list)},
		{"dead-letter listing (JSON)", string(listJSON)},
		{"ops page", httpGet(t, sys.URL+"/ops?refresh=0")},
		{"ops API", httpGet(t, sys.URL+"/ops/api/status")},
		{"ops health API", httpGet(t, sys.URL+"/ops/api/health")},
	}

	// What must not appear.
	var secrets []secret
	emails := sys.SES.Outbox().List(seslocal.Filter{})
	for _, e := range emails {
		c := signin.CodeIn(e)
		if c == "" {
			t.Fatalf("email %s to %v has no code", e.ID, e.To)
		}
		secrets = append(secrets, secret{"code", c})
	}
	for _, p := range poison {
		secrets = append(secrets, secret{"code", p.code})
		for _, to := range p.to {
			secrets = append(secrets, secret{"address", to})
		}
	}
	for _, user := range DefaultSeed().Users {
		secrets = append(secrets, secret{"address", user.Email})
	}
	secrets = append(secrets, secret{"key", string(key)})

	// The test must not pass for want of anything to look at.
	if len(emails) != 5 {
		t.Errorf("%d emails sent, want 5 (lena, demo, omar, yuki twice)", len(emails))
	}
	logText := logs.String()
	logLines := strings.Split(strings.TrimSpace(logText), "\n")
	for _, line := range logLines {
		if !json.Valid([]byte(line)) {
			t.Errorf("log line is not JSON: %s", line)
		}
	}
	var emf []string
	for _, line := range strings.Split(mailerOut.String(), "\n") {
		if strings.Contains(line, `"_aws"`) {
			emf = append(emf, line)
		}
	}
	emfText := strings.Join(emf, "\n")
	outputs = append(outputs, struct{ name, text string }{"EMF lines", emfText})
	for _, want := range []struct {
		where, text, sub string
		min              int
	}{
		{"logs", logText, `"trigger":"define"`, 15},
		{"logs", logText, `"trigger":"create"`, 8},
		{"logs", logText, `"trigger":"verify"`, 10},
		{"logs", logText, `"outcome":"malformed_answer"`, 1},
		{"logs", logText, `"reason":"code_expired"`, 1},
		{"logs", logText, `"reason":"too_many_wrong_answers"`, 1},
		{"logs", logText, `"note":"resend"`, 1},
		{"logs", logText, `"msg":"sent"`, 5},
		{"logs", logText, `"msg":"dead-lettered"`, 4},
		{"logs", logText, `"msg":"dropped expired code"`, 1},
		{"EMF", emfText, `"outcome":"sent"`, 1},
		{"EMF", emfText, `"outcome":"expired"`, 1},
		{"EMF", emfText, `"outcome":"dlq_malformed"`, 1},
		{"EMF", emfText, `"outcome":"dlq_unknown_version"`, 1},
		{"EMF", emfText, `"outcome":"dlq_unknown_kind"`, 1},
		{"EMF", emfText, `"outcome":"dlq_invalid_recipient"`, 1},
	} {
		if n := strings.Count(want.text, want.sub); n < want.min {
			t.Errorf("%s: %d lines with %s, want at least %d: the flows did not run as planned", want.where, n, want.sub, want.min)
		}
	}
	if len(logLines) < 40 {
		t.Errorf("only %d log lines captured", len(logLines))
	}
	reasons := map[string]bool{}
	for _, d := range list {
		reasons[d.Reason] = true
	}
	for _, p := range poison {
		if p.reason != "" && !reasons[p.reason] {
			t.Errorf("dead-letter listing lacks reason %s: %+v", p.reason, list)
		}
	}
	if len(list) != 4 {
		t.Errorf("%d dead letters listed, want 4", len(list))
	}
	// The listing still says whom each message was for, masked.
	if !strings.Contains(string(listJSON), `"to": "i***@evil.example"`) || !strings.Contains(string(listJSON), `"to": "v***@example.com"`) {
		t.Errorf("dead-letter listing lacks masked recipients:\n%s", listJSON)
	}
	// The detector itself finds what it looks for.
	for _, s := range secrets {
		for _, planted := range []string{`{"code":"` + s.value + `"}`, "x " + s.value + " y"} {
			if len(leaks(planted, []secret{s})) != 1 {
				t.Fatalf("the leak check cannot see %s %q in %s", s.kind, s.value, planted)
			}
		}
	}
	if t.Failed() {
		t.Fatalf("captured too little to trust the leak check; logs:\n%s", logText)
	}

	for _, out := range outputs {
		if strings.TrimSpace(out.text) == "" {
			t.Errorf("%s: nothing captured", out.name)
			continue
		}
		for _, s := range leaks(out.text, secrets) {
			t.Errorf("%s contains a %s: %q", out.name, s.kind, s.value)
		}
	}
	if t.Failed() {
		t.Logf("logs:\n%s\nmailer output:\n%s\ndead letters:\n%s", logText, mailerOut.String(), listJSON)
	}
	t.Logf("checked %d secrets (%d emailed codes, %d poison codes, addresses, the key) against %d log lines, %d EMF lines, %d dead letters and the ops page",
		len(secrets), len(emails), len(poison), len(logLines), len(emf), len(list))
}

func mustJSON(t *testing.T, v any) string {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}
