package main

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"os"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	cwl "github.com/aws/aws-sdk-go-v2/service/cloudwatchlogs"
	cwltypes "github.com/aws/aws-sdk-go-v2/service/cloudwatchlogs/types"
	cip "github.com/aws/aws-sdk-go-v2/service/cognitoidentityprovider"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"

	"github.com/cognito-email-otp/cognito-email-otp/deploy/local/awslocal"
	"github.com/cognito-email-otp/cognito-email-otp/deploy/local/otplocal"
	"github.com/cognito-email-otp/cognito-email-otp/deploy/local/seslocal"
	"github.com/cognito-email-otp/cognito-email-otp/deploy/local/signin"
	"github.com/cognito-email-otp/cognito-email-otp/mailer/trace"
)

// startTraced is startLocal without the operator's trace settings leaking
// into the flags' defaults.
func startTraced(t *testing.T, o otplocal.Options) *otplocal.System {
	t.Helper()
	for _, k := range []string{"OTP_LOG_GROUPS", "OTP_STACK", "OTP_HMAC_SECRET_ARN"} {
		t.Setenv(k, "")
	}
	return startLocal(t, o)
}

// signInFor starts a sign-in through the password step, so Create
// enqueues a code, and returns the code the outbox received (when want).
func signInFor(t *testing.T, sys *otplocal.System, clientID, user string, want bool) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), 20*time.Second)
	defer cancel()
	c := signin.Client{Cognito: cip.NewFromConfig(awslocal.Config(sys.URL)), PoolID: otplocal.PoolID, ClientID: clientID}
	if _, err := c.Start(ctx, user, otplocal.DemoPassword); err != nil {
		t.Fatal(err)
	}
	if !want {
		return ""
	}
	e, err := signin.WaitEmail(ctx, sys.SES.Outbox(), user, 1)
	if err != nil {
		t.Fatal(err)
	}
	return signin.CodeIn(e)
}

// traceJSON runs otpctl trace --json until the report's last request has
// the steps want (the mailer writes its line after SES answers, so the
// outbox can be a moment ahead of the logs), and returns it with the exit
// status and the output; it fails the test after ten seconds.
func traceJSON(t *testing.T, want []string, args ...string) (int, trace.Report, string) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		code, out := otpctl(t, "", append([]string{"--json", "trace"}, args...)...)
		var r trace.Report
		if err := json.Unmarshal([]byte(out), &r); err != nil {
			t.Fatalf("trace --json: %v\n%s", err, out)
		}
		if len(r.Requests) > 0 && fmt.Sprint(steps(r.Requests[len(r.Requests)-1])) == fmt.Sprint(want) {
			return code, r, out
		}
		if time.Now().After(deadline) {
			t.Fatalf("trace %v never showed the steps %v: exit %d\n%s", args, want, code, out)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func steps(r trace.Request) []string {
	var out []string
	for _, s := range r.Steps {
		out = append(out, s.Step)
	}
	return out
}

// assertNoSecrets: no output of a trace holds the code or the address.
func assertNoSecrets(t *testing.T, out, code, address string) {
	t.Helper()
	if code != "" && strings.Contains(out, code) {
		t.Errorf("trace printed the code %s:\n%s", code, out)
	}
	if strings.Contains(strings.ToLower(out), strings.ToLower(address)) {
		t.Errorf("trace printed the address %s:\n%s", address, out)
	}
}

// TestTraceASignIn: an operator traces the address of a user who signed
// in. otpctl computes its to_hash from otp-local's HMAC key, finds
// Create's enqueue and the mailer's send in otp-local's CloudWatch Logs
// (the same FilterLogEvents as on AWS), shows them in order with the gap,
// names the SES message and the template version, says what SES's
// suppression list holds, and never prints the code or the address. The
// request id it prints traces the same request.
func TestTraceASignIn(t *testing.T) {
	sys := startTraced(t, otplocal.Options{})
	code := signInFor(t, sys, sys.Clients[0].ID, "rosa@example.com", true)
	email := sys.SES.Outbox().List(seslocal.Filter{})[0]

	exit, r, raw := traceJSON(t, []string{"enqueued", "sent", "delivered"}, "Rosa@Example.com ", "--endpoint", sys.URL)
	if exit != exitOK || !r.Found || len(r.Requests) != 1 {
		t.Fatalf("trace: exit %d, %+v\n%s", exit, r, raw)
	}
	req := r.Requests[0]
	if got := steps(req); fmt.Sprint(got) != "[enqueued sent delivered]" {
		t.Fatalf("steps %v, want enqueued, sent, then SES's delivery (the feedback function's)\n%s", got, raw)
	}
	if d := req.Steps[2]; d.Source != "feedback" || d.Event != "Delivery" || d.SESMessageID != email.ID || d.GapMillis == nil {
		t.Errorf("the delivery step %+v", d)
	}
	sent := req.Steps[1]
	if req.Tenant != "acme" || req.ID == "" || sent.SESMessageID != email.ID || sent.TemplateSet != "acme" || sent.TemplateVersion == "" ||
		sent.GapMillis == nil || *sent.GapMillis < 0 || !req.Steps[0].Time.Before(sent.Time.Add(time.Millisecond)) {
		t.Errorf("request %+v; want tenant acme, the outbox's message id %s, the set and version, a gap", req, email.ID)
	}
	if r.Address != "r***@example.com" || len(r.ToHashes) != 1 || r.ToHashes[0] != sys.Keys.ToHash("rosa@example.com") {
		t.Errorf("address %q, hashes %v; want the masked address and its hash under the one key", r.Address, r.ToHashes)
	}
	// SES's suppression list: the address is not on it.
	if r.Suppression == nil || r.Suppression.Status != trace.NotSuppressed {
		t.Errorf("suppression %+v", r.Suppression)
	}
	// The feedback function's log group is searched too, once it exists.
	if fmt.Sprint(r.LogGroups) != "[/aws/lambda/otp-create /aws/lambda/otp-mailer /aws/lambda/otp-feedback]" {
		t.Errorf("log groups %v", r.LogGroups)
	}
	assertNoSecrets(t, raw, code, "rosa@example.com")

	exit, text := otpctl(t, "", "trace", "rosa@example.com", "--endpoint", sys.URL)
	lines := regexp.MustCompile(`(?m)^\s*(\d\d:\d\d:\d\d\.\d{3}|\+[0-9.]+m?s)\s+(enqueued|sent|delivered)\s+(.*)$`).FindAllStringSubmatch(text, -1)
	if exit != exitOK || len(lines) != 3 || !strings.HasPrefix(lines[1][1], "+") ||
		!strings.Contains(lines[0][3], "request "+req.ID) || !strings.Contains(lines[0][3], "tenant acme") || !strings.Contains(lines[0][3], "(Create)") ||
		!strings.Contains(lines[1][3], "ses id "+email.ID) || !strings.Contains(lines[1][3], "acme@") {
		t.Errorf("the timeline: exit %d, lines %q\n%s", exit, lines, text)
	}
	for _, want := range []string{"trace r***@example.com", "searched /aws/lambda/otp-create", "SES suppression list: r***@example.com is not suppressed"} {
		if !strings.Contains(text, want) {
			t.Errorf("the report lacks %q:\n%s", want, text)
		}
	}
	assertNoSecrets(t, text, code, "rosa@example.com")

	// The request id, as printed, traces the same request.
	exit, byID, raw := traceJSON(t, []string{"enqueued", "sent", "delivered"}, req.ID, "--endpoint", sys.URL)
	if exit != exitOK || len(byID.Requests) != 1 || byID.Requests[0].ID != req.ID || byID.RequestID != req.ID || byID.Suppression != nil {
		t.Errorf("trace %s: exit %d\n%s", req.ID, exit, raw)
	}
	assertNoSecrets(t, raw, code, "rosa@example.com")
}

// TestTraceABounceAndAComplaint: codes to SES's mailbox simulator, one
// for each tenant (Globex's through its SES tenant). The trace of the
// bounce ends in SES's hard bounce, the complaint's in the delivery and
// then the complaint, each with SES's details and the gap since the step
// before; simulator addresses never go on the account's suppression list.
func TestTraceABounceAndAComplaint(t *testing.T) {
	seed := otplocal.DefaultSeed()
	seed.Users = append(seed.Users,
		otplocal.SeedUser{Email: "bounce@simulator.amazonses.com", Password: otplocal.DemoPassword, Tenant: "acme"},
		otplocal.SeedUser{Email: "complaint@simulator.amazonses.com", Password: otplocal.DemoPassword, Tenant: "globex"})
	sys := startTraced(t, otplocal.Options{Seed: seed, SESEventDelay: 50 * time.Millisecond})
	for _, tc := range []struct {
		user, client, tenant string
		want                 []string
		check                func(last trace.Step) bool
	}{
		{"bounce@simulator.amazonses.com", "otplocalacmeweb0000000001", "acme", []string{"enqueued", "sent", "bounced"},
			func(s trace.Step) bool {
				return s.Event == "Bounce" && s.BounceType == "Permanent" && s.BounceSubType == "General"
			}},
		{"complaint@simulator.amazonses.com", "otplocalglobexweb00000001", "globex", []string{"enqueued", "sent", "delivered", "complained"},
			func(s trace.Step) bool { return s.Event == "Complaint" && s.Detail != "" }},
	} {
		t.Run(tc.user, func(t *testing.T) {
			code := signInFor(t, sys, tc.client, tc.user, true)
			exit, r, raw := traceJSON(t, tc.want, tc.user, "--endpoint", sys.URL)
			if exit != exitOK || len(r.Requests) != 1 || r.Requests[0].Tenant != tc.tenant {
				t.Fatalf("trace: exit %d\n%s", exit, raw)
			}
			st := r.Requests[0].Steps
			last := st[len(st)-1]
			if last.Source != "feedback" || last.SESMessageID != st[1].SESMessageID || last.GapMillis == nil || !tc.check(last) {
				t.Errorf("the last step %+v; want SES's event for the sent message, with its details and the gap", last)
			}
			if r.Suppression == nil || r.Suppression.Status != trace.NotSuppressed {
				t.Errorf("suppression %+v; the simulator's addresses are never listed", r.Suppression)
			}
			assertNoSecrets(t, raw, code, tc.user)

			exit, text := otpctl(t, "", "trace", tc.user, "--endpoint", sys.URL)
			if exit != exitOK || !regexp.MustCompile(`\+[0-9.]+m?s\s+`+tc.want[len(tc.want)-1]+`\s`).MatchString(text) {
				t.Errorf("the timeline lacks the %s step with its gap: exit %d\n%s", tc.want[len(tc.want)-1], exit, text)
			}
			assertNoSecrets(t, text, code, tc.user)
		})
	}
}

// TestTraceADeadLetter: SES refuses the recipient for good (MessageRejected,
// as for a suppressed address); the trace shows the enqueue, the
// dead-lettering with its reason and SES's words (address masked), and
// that the dead letter still waits in the queue, for the address and for
// the request id.
func TestTraceADeadLetter(t *testing.T) {
	sys := startTraced(t, otplocal.Options{SESRejectRecipients: []string{"lena@example.com"}})
	signInFor(t, sys, sys.Clients[0].ID, "lena@example.com", false)

	exit, r, raw := traceJSON(t, []string{"enqueued", "dead-lettered"}, "lena@example.com", "--endpoint", sys.URL)
	if exit != exitOK || len(r.Requests) != 1 || fmt.Sprint(steps(r.Requests[0])) != "[enqueued dead-lettered]" {
		t.Fatalf("trace: exit %d\n%s", exit, raw)
	}
	dead := r.Requests[0].Steps[1]
	if dead.Reason != "rejected" || !strings.Contains(dead.Error, "MessageRejected") || dead.Source != "mailer" {
		t.Errorf("dead-lettered step %+v; want reason rejected and SES's error", dead)
	}
	if d := r.Requests[0].DeadLetter; d == nil || d.Reason != "rejected" || d.CodeState != "removed" {
		t.Errorf("dead letter %+v; want it still in the queue, its code removed", d)
	}
	assertNoSecrets(t, raw, "", "lena@example.com")

	exit, text := otpctl(t, "", "trace", r.Requests[0].ID, "--endpoint", sys.URL)
	if exit != exitOK || !regexp.MustCompile(`\+[0-9.]+m?s\s+dead-lettered\s+rejected: `).MatchString(text) ||
		!strings.Contains(text, "still in the dead-letter queue (the mailer removed its code; a redrive drops it): otpctl dlq list --reason rejected") {
		t.Errorf("trace by request id: exit %d\n%s", exit, text)
	}
	assertNoSecrets(t, text, "", "lena@example.com")
}

// TestTraceAcrossAKeyRotation: the HMAC key rotates after the code was
// sent, so its lines carry the previous key's to_hash; the trace searches
// both and still finds them.
func TestTraceAcrossAKeyRotation(t *testing.T) {
	sys := startTraced(t, otplocal.Options{})
	code := signInFor(t, sys, sys.Clients[1].ID, "yuki@example.com", true) // Globex, in Japanese
	if exit, _, raw := traceJSON(t, []string{"enqueued", "sent"}, "yuki@example.com", "--endpoint", sys.URL); exit != exitOK {
		t.Fatalf("before the rotation: exit %d\n%s", exit, raw)
	}
	sm := secretsmanager.NewFromConfig(awslocal.Config(sys.URL))
	if _, err := sm.RotateSecret(t.Context(), &secretsmanager.RotateSecretInput{SecretId: aws.String(otplocal.HMACKeySecret),
		RotationLambdaARN: aws.String(otplocal.RotateFunctionARN)}); err != nil {
		t.Fatal(err)
	}
	if err := sys.Secrets.WaitRotation(t.Context(), otplocal.HMACKeySecret); err != nil {
		t.Fatal(err)
	}
	exit, r, raw := traceJSON(t, []string{"enqueued", "sent"}, "yuki@example.com", "--endpoint", sys.URL)
	if exit != exitOK || len(r.ToHashes) != 2 || r.ToHashes[1] != sys.Keys.ToHash("yuki@example.com") || len(r.Requests) != 1 {
		t.Errorf("after the rotation: exit %d, hashes %v (the old key's %s)\n%s", exit, r.ToHashes, sys.Keys.ToHash("yuki@example.com"), raw)
	}
	assertNoSecrets(t, raw, code, "yuki@example.com")
}

// TestTraceFindsNothing: an address no code went to exits 1 and says what
// was searched; arguments that are neither are usage errors.
func TestTraceFindsNothing(t *testing.T) {
	sys := startTraced(t, otplocal.Options{})
	exit, out := otpctl(t, "", "trace", "nobody@example.com", "--endpoint", sys.URL, "--since", "10m")
	for _, want := range []string{"trace n***@example.com", "searched /aws/lambda/otp-create, /aws/lambda/otp-mailer, /aws/lambda/otp-feedback",
		"(the last 10m0s)", "nothing found", "SES suppression list"} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %q", want)
		}
	}
	if exit != exitProblems || strings.Contains(out, "nobody@example.com") {
		t.Errorf("exit %d\n%s", exit, out)
	}
	exit, out = otpctl(t, "", "--json", "trace", "ZZZZZZZZZZZZZZZZZZZZZZ", "--endpoint", sys.URL)
	var r trace.Report
	if err := json.Unmarshal([]byte(out), &r); err != nil || exit != exitProblems || r.Found || r.Requests == nil || len(r.Requests) != 0 {
		t.Errorf("an unknown request id: exit %d, %v\n%s", exit, err, out)
	}
	// Log groups that do not exist: said, and exit 1.
	if exit, out := otpctl(t, "", "trace", "rosa@example.com", "--endpoint", sys.URL, "--log-groups", "/aws/lambda/nothing"); exit != exitProblems ||
		!strings.Contains(out, "none of the log groups exists: /aws/lambda/nothing") || !strings.Contains(out, "--stack NAME or --log-groups") {
		t.Errorf("missing groups: exit %d\n%s", exit, out)
	}
	for _, args := range [][]string{
		{"trace"},
		{"trace", "a", "b"},
		{"trace", `not an id"`},
		{"trace", "rosa@example.com", "--since", "-1h"},
		{"trace", "rosa@example.com", "--stack", "otp", "--log-groups", "/aws/lambda/x"},
		{"trace", "ro sa@example.com"},
	} {
		if exit, out := otpctl(t, "", append(args, "--endpoint", sys.URL)...); exit != exitUsage {
			t.Errorf("%v: exit %d, want %d\n%s", args, exit, exitUsage, out)
		}
	}
}

// fakeGroups answers DescribeLogGroups with a stack's groups, as
// CloudFormation names its functions.
type fakeGroups []string

func (f fakeGroups) DescribeLogGroups(_ context.Context, in *cwl.DescribeLogGroupsInput, _ ...func(*cwl.Options)) (*cwl.DescribeLogGroupsOutput, error) {
	out := &cwl.DescribeLogGroupsOutput{}
	for _, g := range f {
		if strings.HasPrefix(g, aws.ToString(in.LogGroupNamePrefix)) {
			out.LogGroups = append(out.LogGroups, cwltypes.LogGroup{LogGroupName: aws.String(g)})
		}
	}
	return out, nil
}

func TestStackLogGroups(t *testing.T) {
	groups := fakeGroups{
		"/aws/lambda/otp-prod-CreateFunction-AbC123dEf456", "/aws/lambda/otp-prod-DefineFunction-XyZ",
		"/aws/lambda/otp-prod-MailerFunction-Qr5", "/aws/lambda/otp-prod-2-CreateFunction-Other",
		"/aws/lambda/otp-prod-FeedbackFunction-Fb1",
	}
	tests := []struct {
		stack string
		want  []string
		fails bool
	}{
		{"otp-prod", []string{"/aws/lambda/otp-prod-CreateFunction-AbC123dEf456", "/aws/lambda/otp-prod-MailerFunction-Qr5", "/aws/lambda/otp-prod-FeedbackFunction-Fb1"}, false},
		{"otp-prod-2", []string{"/aws/lambda/otp-prod-2-CreateFunction-Other"}, false},
		{"otp-staging", nil, true},
	}
	for _, tc := range tests {
		got, err := stackLogGroups(t.Context(), groups, tc.stack)
		if (err != nil) != tc.fails || fmt.Sprint(got) != fmt.Sprint(tc.want) {
			t.Errorf("stack %s: %v, %v; want %v", tc.stack, got, err, tc.want)
		}
	}
}

// TestTraceShowsRetries: with SES failing, the code is retried, not
// lost; the trace shows the enqueue and the retry with SES's error as it
// happens.
func TestTraceShowsRetries(t *testing.T) {
	sys := startTraced(t, otplocal.Options{SES: seslocal.Faults{FailRate: 1, FailStatus: 503}, QueueVisibility: time.Second, MailerRetryBudget: 50 * time.Millisecond})
	signInFor(t, sys, sys.Clients[0].ID, "rosa@example.com", false)
	exit, r, raw := traceJSON(t, []string{"enqueued", "retrying"}, "rosa@example.com", "--endpoint", sys.URL)
	if exit != exitOK || len(r.Requests) != 1 || fmt.Sprint(steps(r.Requests[0])) != "[enqueued retrying]" || !strings.Contains(r.Requests[0].Steps[1].Error, "503") {
		t.Errorf("exit %d\n%s", exit, raw)
	}
}

// TestStackNamesAreTheTemplates: --stack finds the log groups by the
// logical ids of deploy/template.yaml's functions, each of which has a
// LogGroup named as Lambda names it, and the TraceLogGroups output lists
// them for --log-groups. FeedbackFunction joins with the feedback Lambda.
func TestStackNamesAreTheTemplates(t *testing.T) {
	b, err := os.ReadFile("../../deploy/template.yaml")
	if err != nil {
		t.Fatal(err)
	}
	tmpl := string(b)
	var inOutput []string
	for _, fn := range stackFunctions {
		if !strings.Contains(tmpl, "\n  "+fn+":\n    Type: AWS::Serverless::Function") {
			if fn == "FeedbackFunction" {
				continue // not in this template yet
			}
			t.Errorf("the template has no function %s", fn)
			continue
		}
		group := strings.TrimSuffix(fn, "Function") + "LogGroup"
		if !strings.Contains(tmpl, "\n  "+group+":\n    Type: AWS::Logs::LogGroup\n    Properties:\n      LogGroupName: !Sub \"/aws/lambda/${"+fn+"}\"") {
			t.Errorf("the template has no log group %s for %s", group, fn)
		}
		inOutput = append(inOutput, "${"+group+"}")
	}
	if want := "  TraceLogGroups:\n    Description: The log groups otpctl trace reads (--log-groups, OTP_LOG_GROUPS)\n    Value: !Sub \"" + strings.Join(inOutput, ",") + "\""; !strings.Contains(tmpl, want) {
		t.Errorf("the template lacks\n%s", want)
	}
}

// TestTraceWithoutPermissions: IAM refuses the caller, as AWS would (the
// ops role lacks an action): without logs:FilterLogEvents the trace fails
// in one line naming it; without ses:GetSuppressedDestination it still
// shows the logs' answer, and says the suppression list is unknown and why.
func TestTraceWithoutPermissions(t *testing.T) {
	sys := startTraced(t, otplocal.Options{})
	signInFor(t, sys, sys.Clients[0].ID, "rosa@example.com", true)
	target, _ := url.Parse(sys.URL)
	proxy := httputil.NewSingleHostReverseProxy(target)
	refuse := func(logs bool) *httptest.Server {
		srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			switch {
			case logs && r.Header.Get("X-Amz-Target") == "Logs_20140328.FilterLogEvents":
				w.Header().Set("Content-Type", "application/x-amz-json-1.1")
				w.WriteHeader(http.StatusBadRequest)
				_, _ = w.Write([]byte(`{"__type":"AccessDeniedException","message":"User: arn:aws:sts::123456789012:assumed-role/ops/rosa is not authorized to perform: logs:FilterLogEvents on resource: arn:aws:logs:us-east-1:123456789012:log-group:/aws/lambda/otp-create:log-stream: because no identity-based policy allows the logs:FilterLogEvents action"}`))
			case !logs && strings.HasPrefix(r.URL.Path, "/v2/email/suppression/"):
				w.Header().Set("Content-Type", "application/json")
				w.Header().Set("X-Amzn-ErrorType", "AccessDeniedException")
				w.WriteHeader(http.StatusForbidden)
				_, _ = w.Write([]byte(`{"message":"User: arn:aws:sts::123456789012:assumed-role/ops/rosa is not authorized to perform: ses:GetSuppressedDestination"}`))
			default:
				proxy.ServeHTTP(w, r)
			}
		}))
		t.Cleanup(srv.Close)
		return srv
	}

	code, out, errOut := runSplit(t, "trace", "rosa@example.com", "--endpoint", refuse(true).URL)
	if lines := strings.Split(strings.TrimSpace(errOut), "\n"); code != exitProblems || len(lines) != 1 ||
		!strings.Contains(errOut, "the caller needs logs:FilterLogEvents on the log groups") || out != "" {
		t.Errorf("without logs:FilterLogEvents: exit %d, stdout %q, stderr %q", code, out, errOut)
	}
	deadline := time.Now().Add(10 * time.Second)
	for {
		code, out, _ = runSplit(t, "trace", "rosa@example.com", "--endpoint", refuse(false).URL)
		if strings.Contains(out, "sent ") || time.Now().After(deadline) {
			break
		}
		time.Sleep(50 * time.Millisecond)
	}
	if code != exitOK || !strings.Contains(out, "SES suppression list: unknown (the caller may not read the suppression list (ses:GetSuppressedDestination)") {
		t.Errorf("without ses:GetSuppressedDestination: exit %d\n%s", code, out)
	}
}
