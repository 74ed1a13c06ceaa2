package mailer

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"regexp"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/aws"
	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	"github.com/aws/aws-sdk-go-v2/service/sesv2"
	sestypes "github.com/aws/aws-sdk-go-v2/service/sesv2/types"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	"github.com/aws/smithy-go"
	smithyhttp "github.com/aws/smithy-go/transport/http"
	"github.com/cognito-email-otp/cognito-email-otp/mailer/contract"
	"github.com/cognito-email-otp/cognito-email-otp/mailer/feedback"
)

var t0 = time.Date(2026, 11, 24, 9, 0, 0, 0, time.UTC)

// clock is a fake clock that sleeping advances, so retries run instantly
// but budgets still run out.
type clock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *clock) Sleep(ctx context.Context, d time.Duration) error {
	c.mu.Lock()
	c.now = c.now.Add(d)
	c.mu.Unlock()
	return ctx.Err()
}

// fakeSES answers each SendEmail with the next error from script(to) or
// accepts the email.
type fakeSES struct {
	mu     sync.Mutex
	script func(to string, attempt int) error
	calls  map[string]int
	sent   []*sesv2.SendEmailInput
}

func (f *fakeSES) SendEmail(_ context.Context, in *sesv2.SendEmailInput, _ ...func(*sesv2.Options)) (*sesv2.SendEmailOutput, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	to := in.Destination.ToAddresses[0]
	if f.calls == nil {
		f.calls = map[string]int{}
	}
	f.calls[to]++
	if f.script != nil {
		if err := f.script(to, f.calls[to]); err != nil {
			return nil, err
		}
	}
	f.sent = append(f.sent, in)
	return &sesv2.SendEmailOutput{MessageId: aws.String(fmt.Sprintf("ses-%d", len(f.sent)))}, nil
}

type fakeDLQ struct {
	mu   sync.Mutex
	err  error
	msgs []*sqs.SendMessageInput
}

func (f *fakeDLQ) SendMessage(_ context.Context, in *sqs.SendMessageInput, _ ...func(*sqs.Options)) (*sqs.SendMessageOutput, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.err != nil {
		return nil, f.err
	}
	// SQS's own limit: a dead letter with more attributes is refused, and
	// would stay on the send queue forever.
	if n := len(in.MessageAttributes); n > 10 {
		return nil, fmt.Errorf("InvalidParameterValue: Number of message attributes [%d] exceeds the allowed maximum [10]", n)
	}
	f.msgs = append(f.msgs, in)
	return &sqs.SendMessageOutput{MessageId: aws.String(fmt.Sprintf("dlq-%d", len(f.msgs)))}, nil
}

type fakeRenderer struct{ err error }

func (f fakeRenderer) Render(_ context.Context, r contract.SendRequest) (Email, error) {
	if f.err != nil {
		return Email{}, f.err
	}
	return Email{Subject: "Your code", HTML: "<p>" + r.Code.Reveal() + "</p>", Text: r.Code.Reveal(), Set: r.Tenant, Locale: "en"}, nil
}

type harness struct {
	h       *Handler
	clock   *clock
	ses     *fakeSES
	dlq     *fakeDLQ
	logs    *bytes.Buffer
	metrics *bytes.Buffer
}

func newHarness() *harness {
	x := &harness{clock: &clock{now: t0.Add(10 * time.Second)}, ses: &fakeSES{}, dlq: &fakeDLQ{},
		logs: &bytes.Buffer{}, metrics: &bytes.Buffer{}}
	x.h = &Handler{
		Config: Config{DLQURL: "https://sqs.example/dlq", FromAddress: "Example <no-reply@example.com>",
			Concurrency: 4, RetryBudget: 8 * time.Second, MetricsNamespace: "Test"},
		Renderer: fakeRenderer{},
		SES:      x.ses,
		DLQ:      x.dlq,
		Metrics:  NewMetrics(&lockedBuffer{b: x.metrics}, "Test"),
		// Without timestamps, whose digits could look like a leaked code.
		Log: slog.New(slog.NewJSONHandler(&lockedBuffer{b: x.logs}, &slog.HandlerOptions{
			ReplaceAttr: func(_ []string, a slog.Attr) slog.Attr {
				if a.Key == slog.TimeKey {
					return slog.Attr{}
				}
				return a
			}})),
		Now:   x.clock.Now,
		Sleep: x.clock.Sleep,
	}
	return x
}

type lockedBuffer struct {
	mu sync.Mutex
	b  *bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func request(i int) contract.SendRequest {
	return contract.SendRequest{V: contract.SendRequestVersion, Kind: contract.KindSignInCode, ID: fmt.Sprintf("req-%04d", i), Tenant: "acme", Locale: "de", To: fmt.Sprintf("user%d@example.com", i),
		Name: "Rosa", Code: contract.Code(fmt.Sprintf("%06d", 100000+i)), IssuedAt: t0, ExpiresAt: t0.Add(3 * time.Minute)}
}

func invitation(i int) contract.SendRequest {
	r := request(i)
	r.Kind, r.Code, r.Username, r.TemporaryPassword = contract.KindInvitation, "", "rosa", "Tmp-9xQ!wv2#Lm"
	return r
}

// feedbackToken is in both of takeover's links: it must reach no log and
// no dead letter.
const feedbackToken = "fbtok-7Qz"

func takeover(i int) contract.SendRequest {
	r := request(i)
	r.Kind, r.Code = contract.KindAccountTakeover, ""
	r.Takeover = &contract.Takeover{EventID: "ev-1", Action: "BLOCK", LoginTime: t0, IPAddress: "203.0.113.9",
		ThisWasMe: "https://feedback.example/ok?t=" + feedbackToken, ThisWasNotMe: "https://feedback.example/no?t=" + feedbackToken}
	return r
}

func record(id, body string) events.SQSMessage {
	return events.SQSMessage{MessageId: id, Body: body, Attributes: map[string]string{"SentTimestamp": "1795510800000", "ApproximateReceiveCount": "1"}}
}

func body(r contract.SendRequest) string {
	b, err := json.Marshal(r)
	if err != nil {
		panic(err)
	}
	return string(b)
}

func apiError(status int, err error) error {
	return &awshttp.ResponseError{ResponseError: &smithyhttp.ResponseError{
		Response: &smithyhttp.Response{Response: &http.Response{StatusCode: status}}, Err: err}}
}

func TestHandleOneMessage(t *testing.T) {
	throttled := apiError(429, &sestypes.TooManyRequestsException{Message: aws.String("Maximum sending rate exceeded.")})
	unavailable := apiError(503, errors.New("service unavailable"))
	refused := &net.OpError{Op: "dial", Net: "tcp", Err: syscall.ECONNREFUSED}
	tests := []struct {
		name        string
		body        string
		at          time.Duration // after issue
		ses         func(attempt int) error
		dlqErr      error
		render      error
		wantOutcome Outcome
		wantSESCall int
		wantRetry   bool // reported as a batch item failure
		wantDLQ     bool
	}{
		{name: "sent", body: body(request(1)), wantOutcome: OutcomeSent, wantSESCall: 1},
		{name: "expired request is dropped unsent", body: body(request(1)), at: 3 * time.Minute, wantOutcome: OutcomeExpired},
		{name: "malformed JSON is dead-lettered", body: `{"v":1,"code":"123`, wantOutcome: DeadLettered(ReasonMalformed), wantDLQ: true},
		{name: "empty body is dead-lettered", body: ``, wantOutcome: DeadLettered(ReasonMalformed), wantDLQ: true},
		{name: "unknown version is dead-lettered", body: strings.Replace(body(request(1)), `"v":2`, `"v":7`, 1),
			wantOutcome: DeadLettered(ReasonUnknownVersion), wantDLQ: true},
		{name: "version 1 body from an older trigger is sent",
			body:        strings.Replace(strings.Replace(body(request(1)), `"v":2`, `"v":1`, 1), `"kind":"signin_code",`, "", 1),
			wantOutcome: OutcomeSent, wantSESCall: 1},
		{name: "unknown kind is dead-lettered", body: strings.Replace(body(request(1)), `"kind":"signin_code"`, `"kind":"newsletter"`, 1),
			wantOutcome: DeadLettered(ReasonUnknownKind), wantDLQ: true},
		{name: "an invitation is sent", body: body(invitation(1)), wantOutcome: OutcomeSent, wantSESCall: 1},
		{name: "a takeover notice is sent", body: body(takeover(1)), wantOutcome: OutcomeSent, wantSESCall: 1},
		{name: "an invitation that does not render is dead-lettered without its password", body: body(invitation(1)), render: errors.New("no template"),
			wantOutcome: DeadLettered(ReasonRenderFailed), wantDLQ: true},
		{name: "a takeover notice SES refuses is dead-lettered without its links", body: body(takeover(1)),
			ses: func(int) error {
				return apiError(400, &sestypes.MessageRejected{Message: aws.String("Address blacklisted.")})
			},
			wantOutcome: DeadLettered(ReasonRejected), wantSESCall: 1, wantDLQ: true},
		{name: "invalid recipient is dead-lettered", body: strings.Replace(body(request(1)), `user1@example.com`, `user1@example.com, eve@example.com`, 1),
			wantOutcome: DeadLettered(ReasonInvalidRecipient), wantDLQ: true},
		{name: "render failure is dead-lettered", body: body(request(1)), render: errors.New("no template"),
			wantOutcome: DeadLettered(ReasonRenderFailed), wantDLQ: true},
		{name: "SES MessageRejected is dead-lettered", body: body(request(1)),
			ses: func(int) error {
				return apiError(400, &sestypes.MessageRejected{Message: aws.String("Address blacklisted.")})
			},
			wantOutcome: DeadLettered(ReasonRejected), wantSESCall: 1, wantDLQ: true},
		{name: "SES unverified sender is dead-lettered", body: body(request(1)),
			ses: func(int) error {
				return apiError(400, &sestypes.MessageRejected{Message: aws.String(
					"Email address is not verified. The following identities failed the check in region US-EAST-1: Example <no-reply@example.com>")})
			},
			wantOutcome: DeadLettered(ReasonSenderNotVerified), wantSESCall: 1, wantDLQ: true},
		{name: "SES unverified sender without the list of identities", body: body(request(1)),
			ses: func(int) error {
				return apiError(400, &sestypes.MessageRejected{Message: aws.String("Email address is not verified.")})
			},
			wantOutcome: DeadLettered(ReasonSenderNotVerified), wantSESCall: 1, wantDLQ: true},
		{name: "SES sandbox recipient is dead-lettered as rejected", body: body(request(1)),
			ses: func(int) error {
				return apiError(400, &sestypes.MessageRejected{Message: aws.String(
					"Email address is not verified. The following identities failed the check in region US-EAST-1: user1@example.com")})
			},
			wantOutcome: DeadLettered(ReasonRejected), wantSESCall: 1, wantDLQ: true},
		{name: "SES unverified mail-from is dead-lettered", body: body(request(1)),
			ses:         func(int) error { return apiError(400, &sestypes.MailFromDomainNotVerifiedException{}) },
			wantOutcome: DeadLettered(ReasonMailFromNotVerified), wantSESCall: 1, wantDLQ: true},
		{name: "SES daily quota is dead-lettered at once", body: body(request(1)),
			ses: func(int) error {
				return apiError(400, &sestypes.LimitExceededException{Message: aws.String("Daily message quota exceeded.")})
			},
			wantOutcome: DeadLettered(ReasonQuotaExceeded), wantSESCall: 1, wantDLQ: true},
		{name: "SES daily quota worded as throttling is dead-lettered at once", body: body(request(1)),
			ses: func(int) error {
				return apiError(400, &smithy.GenericAPIError{Code: "ThrottlingException", Message: "Daily message quota exceeded"})
			},
			wantOutcome: DeadLettered(ReasonQuotaExceeded), wantSESCall: 1, wantDLQ: true},
		{name: "SES sending paused is dead-lettered", body: body(request(1)),
			ses:         func(int) error { return apiError(400, &sestypes.SendingPausedException{}) },
			wantOutcome: DeadLettered(ReasonSendingPaused), wantSESCall: 1, wantDLQ: true},
		{name: "throttling twice then sent", body: body(request(1)),
			ses: func(n int) error {
				if n <= 2 {
					return throttled
				}
				return nil
			}, wantOutcome: OutcomeSent, wantSESCall: 3},
		{name: "connection refused once then sent", body: body(request(1)),
			ses: func(n int) error {
				if n == 1 {
					return refused
				}
				return nil
			}, wantOutcome: OutcomeSent, wantSESCall: 2},
		{name: "5xx until the budget runs out is retried later", body: body(request(1)),
			ses: func(int) error { return unavailable }, wantOutcome: OutcomeRetryLater, wantRetry: true, wantSESCall: -1},
		{name: "timeouts until the budget runs out are retried later", body: body(request(1)),
			ses: func(int) error { return context.DeadlineExceeded }, wantOutcome: OutcomeRetryLater, wantRetry: true, wantSESCall: -1},
		{name: "throttled until the code expires is dropped as expired", body: body(request(1)), at: 175 * time.Second,
			ses: func(int) error { return throttled }, wantOutcome: OutcomeExpired, wantSESCall: -1},
		{name: "DLQ unreachable leaves the message for redelivery", body: `not json`, dlqErr: errors.New("AccessDenied"),
			wantOutcome: OutcomeRetryLater, wantRetry: true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			x := newHarness()
			x.clock.now = t0.Add(tc.at)
			x.dlq.err = tc.dlqErr
			if tc.render != nil {
				x.h.Renderer = fakeRenderer{err: tc.render}
			}
			if tc.ses != nil {
				x.ses.script = func(_ string, n int) error { return tc.ses(n) }
			}
			resp, err := x.h.Handle(t.Context(), events.SQSEvent{Records: []events.SQSMessage{record("m-1", tc.body)}})
			if err != nil {
				t.Fatal(err)
			}
			if got := len(resp.BatchItemFailures) == 1; got != tc.wantRetry {
				t.Errorf("batch item failures %v, want retry %v", resp.BatchItemFailures, tc.wantRetry)
			}
			calls := x.ses.calls["user1@example.com"]
			if tc.wantSESCall >= 0 && calls != tc.wantSESCall || tc.wantSESCall < 0 && calls < 3 {
				t.Errorf("%d SES calls, want %d (-1: several)", calls, tc.wantSESCall)
			}
			if got := len(x.dlq.msgs) == 1; got != tc.wantDLQ {
				t.Errorf("%d DLQ messages, want dead-lettered %v", len(x.dlq.msgs), tc.wantDLQ)
			}
			if !strings.Contains(x.metrics.String(), `"outcome":"`+string(tc.wantOutcome)+`"`) {
				t.Errorf("metrics lack outcome %s:\n%s", tc.wantOutcome, x.metrics)
			}
			assertNoSecrets(t, x)
		})
	}
}

// assertNoSecrets: codes (the 6-digit 1000xx values) and full addresses
// never reach logs, metrics, or DLQ attributes.
func assertNoSecrets(t *testing.T, x *harness) {
	t.Helper()
	var dlqAttrs bytes.Buffer
	for _, m := range x.dlq.msgs {
		// SQS refuses a message with more than 10 attributes, and the
		// dead letter would then never be written.
		if n := len(m.MessageAttributes); n > 10 {
			t.Fatalf("a dead letter has %d message attributes; SQS takes at most 10", n)
		}
		for k, v := range m.MessageAttributes {
			fmt.Fprintf(&dlqAttrs, "%s=%s\n", k, aws.ToString(v.StringValue))
		}
	}
	for name, text := range map[string]string{"logs": x.logs.String(), "metrics": x.metrics.String(), "DLQ attributes": dlqAttrs.String()} {
		// Codes are 1000xx; a longer run of digits (a timestamp) is not one.
		for _, run := range digitRuns.FindAllString(text, -1) {
			if len(run) == 6 && strings.HasPrefix(run, "1") {
				t.Fatalf("%s contain code %s:\n%s", name, run, text)
			}
		}
		if strings.Contains(text, "user1@example.com") {
			t.Fatalf("%s contain a full address:\n%s", name, text)
		}
		if strings.Contains(text, "Tmp-9xQ") || strings.Contains(text, feedbackToken) {
			t.Fatalf("%s contain the temporary password or a feedback link:\n%s", name, text)
		}
	}
	for _, m := range x.dlq.msgs {
		if b := aws.ToString(m.MessageBody); strings.Contains(b, "Tmp-9xQ") || strings.Contains(b, feedbackToken) {
			t.Fatalf("a dead letter holds the temporary password or a feedback link: %s", b)
		}
	}
}

var digitRuns = regexp.MustCompile(`[0-9]+`)

func TestSESRequestShape(t *testing.T) {
	x := newHarness()
	x.h.Config.ConfigurationSet = "otp-events"
	x.h.Renderer = rendererFunc(func(r contract.SendRequest) Email {
		return Email{Subject: "Dein contract.Code", HTML: "<b>x</b>", Text: "x", FromAddress: "login@acme.example", FromName: "Acme Anmeldung – Süd", Set: "acme", Locale: "de"}
	})
	if _, err := x.h.Handle(t.Context(), events.SQSEvent{Records: []events.SQSMessage{record("m-1", body(request(7)))}}); err != nil {
		t.Fatal(err)
	}
	if len(x.ses.sent) != 1 {
		t.Fatalf("%d emails sent", len(x.ses.sent))
	}
	in := x.ses.sent[0]
	tags := map[string]string{}
	for _, tag := range in.EmailTags {
		tags[aws.ToString(tag.Name)] = aws.ToString(tag.Value)
	}
	checks := []struct{ what, got, want string }{
		{"from", aws.ToString(in.FromEmailAddress), "=?utf-8?q?Acme_Anmeldung_=E2=80=93_S=C3=BCd?= <login@acme.example>"},
		{"to", in.Destination.ToAddresses[0], "user7@example.com"},
		{"subject", aws.ToString(in.Content.Simple.Subject.Data), "Dein contract.Code"},
		{"configuration set", aws.ToString(in.ConfigurationSetName), "otp-events"},
		{"ref header", aws.ToString(in.Content.Simple.Headers[0].Name) + ": " + aws.ToString(in.Content.Simple.Headers[0].Value), "X-Entity-Ref-ID: req-0007"},
		{"tags", fmt.Sprint(tags), fmt.Sprintf("map[issued_at:%d kind:signin_code locale:de request_id:req-0007 template_set:acme template_version:none tenant:acme]", request(7).IssuedAt.UnixMilli())},
	}
	// SES hands these tags back in each delivery event: they are the names
	// the feedback function reads.
	for _, name := range []string{feedback.TagTenant, feedback.TagRequestID, feedback.TagTemplateSet, feedback.TagTemplateVersion,
		feedback.TagLocale, feedback.TagKind, feedback.TagIssuedAt} {
		if _, ok := tags[name]; !ok {
			t.Errorf("the email has no %s tag, which the feedback function reads", name)
		}
	}
	for _, c := range checks {
		if c.got != c.want {
			t.Errorf("%s = %q, want %q", c.what, c.got, c.want)
		}
	}
}

func TestSESTenantGoesToSES(t *testing.T) {
	for _, tc := range []struct{ name, sesTenant, wantTag string }{
		{"a set with an SES tenant", "globex", "globex"},
		{"a set without", "", "(none)"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			x := newHarness()
			x.h.Renderer = rendererFunc(func(r contract.SendRequest) Email {
				return Email{Subject: "Code", HTML: "<b>x</b>", Text: "x", SESTenant: tc.sesTenant, Set: "globex", Locale: "en"}
			})
			if _, err := x.h.Handle(t.Context(), events.SQSEvent{Records: []events.SQSMessage{record("m-1", body(request(7)))}}); err != nil {
				t.Fatal(err)
			}
			if len(x.ses.sent) != 1 {
				t.Fatalf("%d emails sent", len(x.ses.sent))
			}
			in := x.ses.sent[0]
			if got := aws.ToString(in.TenantName); got != tc.sesTenant {
				t.Errorf("TenantName %q, want %q", got, tc.sesTenant)
			}
			tag := "(none)"
			for _, t := range in.EmailTags {
				if aws.ToString(t.Name) == "ses_tenant" {
					tag = aws.ToString(t.Value)
				}
			}
			if tag != tc.wantTag {
				t.Errorf("ses_tenant tag %q, want %q", tag, tc.wantTag)
			}
			if strings.Contains(x.logs.String(), `"ses_tenant"`) != (tc.sesTenant != "") {
				t.Errorf("the log's ses_tenant field does not match the set's:\n%s", x.logs.String())
			}
		})
	}
}

type rendererFunc func(contract.SendRequest) Email

func (f rendererFunc) Render(_ context.Context, r contract.SendRequest) (Email, error) {
	return f(r), nil
}

func TestDeadLetterAttributes(t *testing.T) {
	x := newHarness()
	x.ses.script = func(string, int) error {
		return apiError(400, &sestypes.MessageRejected{Message: aws.String("Address blacklisted.")})
	}
	if _, err := x.h.Handle(t.Context(), events.SQSEvent{Records: []events.SQSMessage{record("m-9", body(request(1)))}}); err != nil {
		t.Fatal(err)
	}
	if len(x.dlq.msgs) != 1 {
		t.Fatalf("%d DLQ messages", len(x.dlq.msgs))
	}
	m := x.dlq.msgs[0]
	redacted, _ := contract.Redact([]byte(body(request(1))))
	if got := aws.ToString(m.MessageBody); got != string(redacted) || strings.Contains(got, string(request(1).Code)) {
		t.Errorf("DLQ body %q: want the original body without its code", got)
	}
	want := map[string]string{AttrReason: "rejected", contract.AttrTenant: "acme", AttrSourceMessageID: "m-9", AttrFirstSent: "1795510800000",
		AttrReceiveCount: "1", AttrRedacted: "true"}
	for k, v := range want {
		if got := aws.ToString(m.MessageAttributes[k].StringValue); got != v {
			t.Errorf("attribute %s = %q, want %q", k, got, v)
		}
	}
	if e := aws.ToString(m.MessageAttributes[AttrError].StringValue); !strings.Contains(e, "Address blacklisted") {
		t.Errorf("error attribute %q lacks SES's message", e)
	}
}

// TestLastReceiveDeadLettersWithTheLastError: on the receive SQS would
// move the message for, the mailer dead-letters it itself, so the dead
// letter says what kept failing and holds no code.
func TestLastReceiveDeadLettersWithTheLastError(t *testing.T) {
	x := newHarness()
	x.ses.script = func(string, int) error {
		return apiError(503, &sestypes.InternalServiceErrorException{Message: aws.String("service unavailable")})
	}
	x.h.Config.RetryBudget = 0
	x.h.Config.MaxReceives = 5
	for _, tc := range []struct {
		receive  string
		wantDLQ  bool
		wantFail bool
	}{{"1", false, true}, {"4", false, true}, {"5", true, false}} {
		msg := record("m-"+tc.receive, body(request(1)))
		msg.Attributes["ApproximateReceiveCount"] = tc.receive
		before := len(x.dlq.msgs)
		resp, err := x.h.Handle(t.Context(), events.SQSEvent{Records: []events.SQSMessage{msg}})
		if err != nil {
			t.Fatal(err)
		}
		if got := len(resp.BatchItemFailures) == 1; got != tc.wantFail {
			t.Errorf("receive %s: batch item failure %v, want %v", tc.receive, got, tc.wantFail)
		}
		if got := len(x.dlq.msgs) > before; got != tc.wantDLQ {
			t.Fatalf("receive %s: dead-lettered %v, want %v", tc.receive, got, tc.wantDLQ)
		}
	}
	m := x.dlq.msgs[len(x.dlq.msgs)-1]
	if r := aws.ToString(m.MessageAttributes[AttrReason].StringValue); r != string(ReasonMaxReceives) {
		t.Errorf("reason %q, want %s", r, ReasonMaxReceives)
	}
	if e := aws.ToString(m.MessageAttributes[AttrError].StringValue); !strings.Contains(e, "service unavailable") || !strings.Contains(e, "receive 5 of 5") {
		t.Errorf("error %q: want the last SES error and the receive count", e)
	}
	if strings.Contains(aws.ToString(m.MessageBody), string(request(1).Code)) {
		t.Error("the dead letter holds the code")
	}
}

// TestRedrivenRedactedDeadLetterIsDropped: a dead letter redriven to the
// send queue has no code; the mailer counts and drops it, and does not
// dead-letter it again (which would loop).
func TestRedrivenRedactedDeadLetterIsDropped(t *testing.T) {
	x := newHarness()
	redacted, _ := contract.Redact([]byte(body(request(1))))
	msg := record("m-1", string(redacted))
	msg.MessageAttributes = map[string]events.SQSMessageAttribute{AttrRedacted: {DataType: "String", StringValue: aws.String("true")}}
	resp, err := x.h.Handle(t.Context(), events.SQSEvent{Records: []events.SQSMessage{msg}})
	if err != nil || len(resp.BatchItemFailures) != 0 {
		t.Fatalf("%v, failures %v", err, resp.BatchItemFailures)
	}
	if len(x.dlq.msgs) != 0 || len(x.ses.calls) != 0 {
		t.Errorf("%d dead letters, SES calls %v; want the request dropped", len(x.dlq.msgs), x.ses.calls)
	}
	if !strings.Contains(x.logs.String(), `"outcome":"redacted"`) {
		t.Errorf("the drop is not logged:\n%s", x.logs)
	}
}

func TestRedeliveredSentMessageIsNotSentTwice(t *testing.T) {
	x := newHarness()
	ev := events.SQSEvent{Records: []events.SQSMessage{record("m-1", body(request(1)))}}
	for range 2 {
		if _, err := x.h.Handle(t.Context(), ev); err != nil {
			t.Fatal(err)
		}
	}
	if len(x.ses.sent) != 1 {
		t.Errorf("%d emails for one request delivered twice, want 1", len(x.ses.sent))
	}
}

func TestPartialBatchFailure(t *testing.T) {
	x := newHarness()
	x.ses.script = func(to string, _ int) error {
		if to == "user2@example.com" || to == "user4@example.com" {
			return apiError(500, errors.New("internal failure"))
		}
		return nil
	}
	var ev events.SQSEvent
	for i := 1; i <= 5; i++ {
		ev.Records = append(ev.Records, record(fmt.Sprintf("m-%d", i), body(request(i))))
	}
	resp, err := x.h.Handle(t.Context(), ev)
	if err != nil {
		t.Fatal(err)
	}
	got, _ := json.Marshal(resp)
	if want := `{"batchItemFailures":[{"itemIdentifier":"m-2"},{"itemIdentifier":"m-4"}]}`; string(got) != want {
		t.Errorf("response %s\nwant     %s", got, want)
	}
	if len(x.ses.sent) != 3 {
		t.Errorf("%d sent, want 3", len(x.ses.sent))
	}
}

// TestNothingIsLost plays SQS for 1,000 messages with injected faults:
// failed items are redelivered until maxReceiveCount, then moved to the DLQ
// as the redrive policy does. Every message must end sent, expired or
// dead-lettered, exactly once.
func TestNothingIsLost(t *testing.T) {
	const n, maxReceiveCount, batchSize = 1000, 3, 10
	x := newHarness()
	x.h.Config.RetryBudget = 300 * time.Millisecond
	kind := func(i int) string {
		return []string{"ok", "ok", "ok", "flaky", "down", "rejected", "expired", "malformed", "v9", "ok"}[i%10]
	}
	x.ses.script = func(to string, attempt int) error {
		var i int
		fmt.Sscanf(to, "user%d@", &i)
		switch kind(i) {
		case "flaky":
			if attempt%3 != 0 {
				return apiError(503, errors.New("unavailable"))
			}
		case "down":
			return apiError(500, errors.New("internal failure"))
		case "rejected":
			return apiError(400, &sestypes.MessageRejected{Message: aws.String("rejected")})
		}
		return nil
	}
	type queued struct {
		msg      events.SQSMessage
		receives int
	}
	var queue []queued
	for i := range n {
		r := request(i)
		b := body(r)
		switch kind(i) {
		case "expired":
			r.IssuedAt, r.ExpiresAt = t0.Add(-10*time.Minute), t0.Add(-7*time.Minute)
			b = body(r)
		case "malformed":
			b = b[:len(b)/2]
		case "v9":
			b = strings.Replace(b, `"v":2`, `"v":9`, 1)
		}
		queue = append(queue, queued{msg: record(fmt.Sprintf("m-%04d", i), b)})
	}
	redriven := map[string]bool{}
	for round := 0; len(queue) > 0; round++ {
		if round > 100 {
			t.Fatal("messages keep coming back")
		}
		var next []queued
		for start := 0; start < len(queue); start += batchSize {
			batch := queue[start:min(start+batchSize, len(queue))]
			var ev events.SQSEvent
			for j := range batch {
				batch[j].receives++
				ev.Records = append(ev.Records, batch[j].msg)
			}
			resp, err := x.h.Handle(t.Context(), ev)
			if err != nil {
				t.Fatal(err)
			}
			failed := map[string]bool{}
			for _, f := range resp.BatchItemFailures {
				failed[f.ItemIdentifier] = true
			}
			for _, q := range batch {
				switch {
				case !failed[q.msg.MessageId]:
				case q.receives >= maxReceiveCount:
					redriven[q.msg.MessageId] = true
				default:
					next = append(next, q)
				}
			}
		}
		queue = next
		x.clock.Sleep(t.Context(), time.Second) // visibility timeout passes
	}

	sent := map[string]int{}
	for _, in := range x.ses.sent {
		sent[in.Destination.ToAddresses[0]]++
	}
	deadLettered := map[string]int{}
	for _, m := range x.dlq.msgs {
		deadLettered[aws.ToString(m.MessageAttributes[AttrSourceMessageID].StringValue)]++
	}
	expired := strings.Count(x.logs.String(), `"outcome":"expired"`)
	counts := map[string]int{}
	for i := range n {
		id, to := fmt.Sprintf("m-%04d", i), fmt.Sprintf("user%d@example.com", i)
		ends := sent[to] + deadLettered[id]
		if redriven[id] {
			ends++
		}
		switch {
		case kind(i) == "expired":
			if ends != 0 {
				t.Errorf("%s (expired) was also sent or dead-lettered", id)
			}
			counts["expired"]++
		case ends != 1:
			t.Errorf("%s (%s): sent %d, dead-lettered %d, redriven %v: want exactly one end", id, kind(i), sent[to], deadLettered[id], redriven[id])
		case sent[to] == 1:
			counts["sent"]++
		case deadLettered[id] == 1:
			counts["dead-lettered by the mailer"]++
		default:
			counts["redriven by SQS"]++
		}
	}
	if expired != 100 {
		t.Errorf("%d expired drops logged, want 100", expired)
	}
	want := map[string]int{"sent": 500, "expired": 100, "dead-lettered by the mailer": 300, "redriven by SQS": 100}
	if fmt.Sprint(counts) != fmt.Sprint(want) {
		t.Errorf("ends %v, want %v", counts, want)
	}
	assertNoSecrets(t, x)
}

func TestMetricsAreEMF(t *testing.T) {
	x := newHarness()
	x.ses.script = func(to string, _ int) error {
		if to == "user2@example.com" {
			return apiError(400, &sestypes.MessageRejected{})
		}
		return nil
	}
	ev := events.SQSEvent{Records: []events.SQSMessage{record("a", body(request(1))), record("b", body(request(2))), record("c", body(request(3)))}}
	if _, err := x.h.Handle(t.Context(), ev); err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSpace(x.metrics.String()), "\n")
	if len(lines) != 2 {
		t.Fatalf("want one line per (tenant, outcome), got:\n%s", x.metrics)
	}
	var dlq, sent map[string]any
	_ = json.Unmarshal([]byte(lines[0]), &dlq)
	_ = json.Unmarshal([]byte(lines[1]), &sent)
	if dlq["outcome"] != "dlq_rejected" || dlq[MetricDeadLettered] != 1.0 || dlq["tenant"] != "acme" {
		t.Errorf("dead-letter line %s", lines[0])
	}
	if sent["outcome"] != "sent" || sent[MetricMessages] != 2.0 || len(sent[MetricTimeToSend].([]any)) != 2 {
		t.Errorf("sent line %s", lines[1])
	}
	meta := sent["_aws"].(map[string]any)["CloudWatchMetrics"].([]any)[0].(map[string]any)
	if fmt.Sprint(meta["Dimensions"]) != "[[tenant outcome] [outcome]]" || meta["Namespace"] != "Test" {
		t.Errorf("EMF directive %v", meta)
	}
}

// TestKindOnTheEmailAndTheLog: the kind is an SES tag and on the log
// lines, and a kind fallback is logged with the set that rendered it.
func TestKindOnTheEmailAndTheLog(t *testing.T) {
	x := newHarness()
	x.h.Renderer = rendererFunc(func(r contract.SendRequest) Email {
		return Email{Subject: "Konto", HTML: "<p>x</p>", Text: "x", Set: "acme", Version: "v9", Locale: "de", Kind: r.Kind, KindFallback: true}
	})
	if _, err := x.h.Handle(t.Context(), events.SQSEvent{Records: []events.SQSMessage{record("m-1", body(invitation(3)))}}); err != nil {
		t.Fatal(err)
	}
	if len(x.ses.sent) != 1 {
		t.Fatalf("%d emails sent", len(x.ses.sent))
	}
	kind := ""
	for _, tag := range x.ses.sent[0].EmailTags {
		if aws.ToString(tag.Name) == "kind" {
			kind = aws.ToString(tag.Value)
		}
	}
	if kind != "invitation" {
		t.Errorf("kind tag %q, want invitation", kind)
	}
	var fallback, sent bool
	for _, line := range strings.Split(strings.TrimSpace(x.logs.String()), "\n") {
		var l map[string]any
		if err := json.Unmarshal([]byte(line), &l); err != nil {
			t.Fatalf("log line %q: %v", line, err)
		}
		if l["kind"] != "invitation" {
			t.Errorf("log line without the kind: %s", line)
		}
		fallback = fallback || strings.Contains(fmt.Sprint(l["msg"]), "no wording for this kind") && l[fieldTemplateSet] == "acme"
		sent = sent || l["msg"] == "sent"
	}
	if !fallback || !sent {
		t.Errorf("want a kind fallback line naming the set and a sent line:\n%s", x.logs.String())
	}
	assertNoSecrets(t, x)
}
