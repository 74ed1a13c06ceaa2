package trace

import (
	"context"
	"errors"
	"fmt"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatchlogs"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatchlogs/types"
	"github.com/aws/aws-sdk-go-v2/service/sesv2"
	sestypes "github.com/aws/aws-sdk-go-v2/service/sesv2/types"
	"github.com/aws/smithy-go"

	"github.com/cognito-email-otp/cognito-email-otp/deploy/local/awslocal"
	"github.com/cognito-email-otp/cognito-email-otp/deploy/local/logslocal"
	"github.com/cognito-email-otp/cognito-email-otp/mailer/ops"
)

var t0 = time.Date(2026, 12, 2, 14, 2, 11, 204_000_000, time.UTC)

func at(d time.Duration) string { return t0.Add(d).Format(time.RFC3339Nano) }

// Lines as the functions write them (the field names of triggers/log.go,
// mailer/handler.go and the feedback function's handler).
// enqueueLine is written 30 ms after the code was issued and enqueued, as
// Create writes its line when it returns.
func enqueueLine(d time.Duration, req, toHash string) string {
	return fmt.Sprintf(`{"time":%q,"level":"INFO","msg":"create code_enqueued","trigger":"create","user_pool_id":"p","client_id":"c","tenant":"acme","generation":1,"outcome":"code_enqueued","tenant_source":"client","user":"u1","to_hash":%q,"key_id":"k1","request_id":%q,"issued_at":%q}`, at(d+30*time.Millisecond), toHash, req, at(d))
}

func sentLine(d time.Duration, req string) string {
	return fmt.Sprintf(`{"time":%q,"level":"INFO","msg":"sent","message_id":"m1","request_id":%q,"tenant":"acme","template_set":"acme","template_version":"b73dfb87f77e83ef","outcome":"sent","locale":"en","ses_message_id":"0100-%s","attempts":1,"ses_latency":80000000,"time_to_send":800000000}`, at(d), req, req)
}

func deadLine(d time.Duration, req string) string {
	return fmt.Sprintf(`{"time":%q,"level":"WARN","msg":"dead-lettered","message_id":"m2","request_id":%q,"tenant":"acme","template_set":"acme","template_version":"b73dfb87f77e83ef","outcome":"dlq_rejected","reason":"rejected","error":"ses: MessageRejected: Email address is not verified. The following identities failed the check: r***@example.com"}`, at(d), req)
}

func feedbackLine(d time.Duration, req, toHash, event, outcome, extra string) string {
	return fmt.Sprintf(`{"time":%q,"level":"INFO","msg":"ses event","event":%q,"tenant":"acme","request_id":%q,"outcome":%q,"ses_message_id":"0100-%s","sns_message_id":"sns1","template_set":"acme","template_version":"b73dfb87f77e83ef","locale":"en","kind":"sign_in_code","to_hash":%q%s}`, at(d), event, req, outcome, req, toHash, extra)
}

func event(msg string) types.FilteredLogEvent {
	return types.FilteredLogEvent{Message: aws.String(msg), Timestamp: aws.Int64(t0.UnixMilli()), EventId: aws.String("1")}
}

func TestParseLine(t *testing.T) {
	tests := []struct {
		name, line string
		want       string // the step; "" for none
		check      func(Step) string
	}{
		{"create's enqueue", enqueueLine(0, "req1", "h1"), StepEnqueued, func(s Step) string {
			if s.RequestID != "req1" || s.Tenant != "acme" || s.Generation != 1 || s.ToHash != "h1" || !s.Time.Equal(t0) || s.Source != "create" {
				return fmt.Sprintf("%+v", s)
			}
			return ""
		}},
		{"create's enqueue without issued_at (an older release)", `{"time":"` + at(time.Second) + `","trigger":"create","outcome":"code_enqueued","request_id":"r"}`,
			StepEnqueued, func(s Step) string {
				if !s.Time.Equal(t0.Add(time.Second)) {
					return fmt.Sprintf("time %v, want the line's", s.Time)
				}
				return ""
			}},
		{"create's failure", `{"time":"` + at(0) + `","trigger":"create","outcome":"error","reason":"create: failure budget refuses a new code: locked","to_hash":"h1","request_id":"x"}`,
			StepNotEnqueued, func(s Step) string {
				if s.RequestID != "" || !strings.Contains(s.Reason, "locked") {
					return fmt.Sprintf("%+v: a failure names no request, and says why", s)
				}
				return ""
			}},
		{"create's same code (a wrong answer)", `{"trigger":"create","outcome":"same_code","note":"wrong_answer","to_hash":"h1"}`, "", nil},
		{"define's line", `{"trigger":"define","outcome":"custom_challenge","request_id":"r"}`, "", nil},
		{"the mailer's send", sentLine(800*time.Millisecond, "req1"), StepSent, func(s Step) string {
			if s.SESMessageID != "0100-req1" || s.TemplateSet != "acme" || s.TemplateVersion != "b73dfb87f77e83ef" || s.Attempts != 1 || s.Source != "mailer" {
				return fmt.Sprintf("%+v", s)
			}
			return ""
		}},
		{"the mailer's dead letter", deadLine(0, "req2"), StepDeadLettered, func(s Step) string {
			if s.Reason != "rejected" || !strings.Contains(s.Error, "MessageRejected") {
				return fmt.Sprintf("%+v", s)
			}
			return ""
		}},
		{"a dead letter without a reason field", `{"msg":"dead-lettered","request_id":"r","outcome":"dlq_render_failed"}`, StepDeadLettered, func(s Step) string {
			if s.Reason != "render_failed" {
				return s.Reason
			}
			return ""
		}},
		{"a retry", `{"msg":"send failed, SQS will redeliver","request_id":"r","outcome":"retry_later","error":"ses: 503"}`, StepRetrying, nil},
		{"an expired code", `{"msg":"dropped expired code","request_id":"r","outcome":"expired"}`, StepExpired, nil},
		{"a duplicate", `{"msg":"duplicate delivery of a sent code","request_id":"r","outcome":"duplicate"}`, StepDuplicate, nil},
		{"a redriven dead letter", `{"msg":"redriven dead letter has no code: dropped; the user signs in again","request_id":"r","outcome":"redacted"}`, StepDropped, nil},
		{"a fallback", `{"msg":"unknown tenant: rendered with the default template set","request_id":"r","template_set":"default"}`, StepNote, func(s Step) string {
			if s.Note != "unknown tenant: rendered with the default template set" {
				return s.Note
			}
			return ""
		}},
		{"a delivery", feedbackLine(2*time.Second, "req1", "h1", "Delivery", "delivered", `,"time_to_delivery_ms":2900`), StepDelivered, func(s Step) string {
			if s.Event != "Delivery" || s.Source != "feedback" || s.SESMessageID != "0100-req1" {
				return fmt.Sprintf("%+v", s)
			}
			return ""
		}},
		{"a hard bounce", feedbackLine(0, "r", "h", "Bounce", "bounced", `,"bounce_type":"Permanent","bounce_sub_type":"General"`), StepBounced, func(s Step) string {
			if s.BounceType != "Permanent" || s.BounceSubType != "General" {
				return fmt.Sprintf("%+v", s)
			}
			return ""
		}},
		{"suppressed", feedbackLine(0, "r", "h", "Bounce", "suppressed", `,"bounce_type":"Permanent","bounce_sub_type":"Suppressed"`), StepSuppressed, nil},
		{"a complaint", feedbackLine(0, "r", "h", "Complaint", "complained", `,"complaint_feedback_type":"abuse"`), StepComplained, func(s Step) string {
			if s.Detail != "abuse" {
				return s.Detail
			}
			return ""
		}},
		{"a delay", feedbackLine(0, "r", "h", "DeliveryDelay", "delayed", `,"delay_type":"MailboxFull"`), StepDelayed, nil},
		{"SES's send event says what the mailer said", feedbackLine(0, "r", "h", "Send", "sent", ""), "", nil},
		{"an ignored record", `{"msg":"ses event ignored","outcome":"ignored","reason":"no_tags"}`, "", nil},
		{"the mailer's batch line", `{"msg":"metrics not written","error":"x"}`, "", nil},
		{"not JSON", "START RequestId: 1 Version: $LATEST", "", nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			s, ok := parseLine("/aws/lambda/otp-x", event(tc.line))
			if got := map[bool]string{true: s.Step}[ok]; got != tc.want {
				t.Fatalf("step %q, want %q: %+v", got, tc.want, s)
			}
			if ok && s.Time.IsZero() {
				t.Error("a step without a time")
			}
			if tc.check != nil {
				if msg := tc.check(s); msg != "" {
					t.Error(msg)
				}
			}
		})
	}
}

// TestParseLineScrubsAddresses: whatever a line says, an address does
// not reach the timeline.
func TestParseLineScrubsAddresses(t *testing.T) {
	s, ok := parseLine("g", event(`{"msg":"dead-lettered","request_id":"r","outcome":"dlq_rejected","error":"refused rosa@example.com"}`))
	if !ok || strings.Contains(s.Error, "rosa@example.com") {
		t.Errorf("%+v", s)
	}
}

func TestGroupOrdersStepsAndGaps(t *testing.T) {
	steps := []Step{
		{Time: t0.Add(3 * time.Second), Step: StepDelivered, RequestID: "a"},
		{Time: t0.Add(time.Minute), Step: StepEnqueued, RequestID: "b", Tenant: "globex"},
		{Time: t0, Step: StepEnqueued, RequestID: "a", Tenant: "acme"},
		{Time: t0.Add(800 * time.Millisecond), Step: StepSent, RequestID: "a"},
		{Time: t0.Add(30 * time.Second), Step: StepNotEnqueued},
		// The mailer's fallback note, on each of two deliveries: once.
		{Time: t0.Add(100 * time.Millisecond), Step: StepNote, RequestID: "a", Note: "locale not in the template set: rendered in its default locale"},
		{Time: t0.Add(700 * time.Millisecond), Step: StepNote, RequestID: "a", Note: "locale not in the template set: rendered in its default locale"},
		// The mailer's host a little behind Create's: the enqueue still
		// first, the gap negative.
		{Time: t0.Add(2*time.Minute + 5*time.Millisecond), Step: StepEnqueued, RequestID: "c"},
		{Time: t0.Add(2 * time.Minute), Step: StepSent, RequestID: "c"},
		// The same millisecond: the send before SES's event.
		{Time: t0.Add(time.Minute + time.Second), Step: StepDelivered, RequestID: "b"},
		{Time: t0.Add(time.Minute + time.Second), Step: StepSent, RequestID: "b"},
	}
	got := Group(steps)
	var shape []string
	for _, r := range got {
		var s []string
		for _, st := range r.Steps {
			g := "-"
			if st.GapMillis != nil {
				g = fmt.Sprint(*st.GapMillis)
			}
			s = append(s, st.Step+"/"+g)
		}
		shape = append(shape, r.ID+"("+r.Tenant+"):"+strings.Join(s, ","))
	}
	want := []string{
		"a(acme):enqueued/-,note/100,sent/700,delivered/2200",
		"():not enqueued/-",
		"b(globex):enqueued/-,sent/1000,delivered/0",
		"c():enqueued/-,sent/-5",
	}
	if strings.Join(shape, " ") != strings.Join(want, " ") {
		t.Errorf("requests\n got %v\nwant %v", shape, want)
	}
}

// TestAnyOfStaysWithinTheLimit: many request ids split into patterns of at
// most 1024 characters, each one otp-local (and so AWS's grammar) reads,
// every id in exactly one.
func TestAnyOfStaysWithinTheLimit(t *testing.T) {
	for _, n := range []int{1, 2, 20, 60} {
		var ids []string
		for i := range n {
			ids = append(ids, fmt.Sprintf("Zk2x9QvP4mN7bR1sT8uW%02d", i))
		}
		patterns := anyOf("request_id", ids)
		count := 0
		for _, p := range patterns {
			if len(p) > maxPattern {
				t.Errorf("%d ids: a pattern of %d characters", n, len(p))
			}
			parsed, err := logslocal.ParsePattern(p)
			if err != nil {
				t.Fatalf("%d ids: %v: %s", n, err, p)
			}
			for _, id := range ids {
				if parsed.Match(`{"request_id":"` + id + `"}`) {
					count++
				}
			}
		}
		if count != n {
			t.Errorf("%d ids: %d matches over %d patterns, want each id once", n, count, len(patterns))
		}
	}
}

// logs is otp-local's CloudWatch Logs on a loopback port, with the SDK's
// client for it.
func logs(t *testing.T) (*logslocal.Store, *cloudwatchlogs.Client) {
	t.Helper()
	store := logslocal.New(logslocal.Options{Now: func() time.Time { return t0.Add(time.Hour) }})
	srv := httptest.NewServer(logslocal.NewServer(store, nil))
	t.Cleanup(srv.Close)
	return store, cloudwatchlogs.NewFromConfig(awslocal.Config(srv.URL))
}

const (
	create   = "/aws/lambda/otp-create"
	mailer   = "/aws/lambda/otp-mailer"
	feedback = "/aws/lambda/otp-feedback"
)

func TestSearch(t *testing.T) {
	store, client := logs(t)
	put := func(group string, lines ...string) {
		for _, l := range lines {
			store.Put(group, "s", t0, l)
		}
	}
	// Rosa's first code, under the previous key, delivered; her second,
	// under the current key, dead-lettered (a line that names no
	// recipient); Lena's, which must not show.
	put(create, enqueueLine(0, "req1", "oldhash"), enqueueLine(time.Minute, "req2", "newhash"), enqueueLine(2*time.Minute, "req3", "lenahash"),
		`{"trigger":"create","outcome":"same_code","note":"wrong_answer","to_hash":"newhash"}`)
	put(mailer, sentLine(800*time.Millisecond, "req1"), deadLine(time.Minute+100*time.Millisecond, "req2"), sentLine(2*time.Minute+time.Second, "req3"))
	put(feedback, feedbackLine(3*time.Second, "req1", "oldhash", "Delivery", "delivered", ""), feedbackLine(2*time.Minute+2*time.Second, "req3", "lenahash", "Delivery", "delivered", ""))
	window := func(q Query) Query { q.Start, q.End = t0.Add(-time.Minute), t0.Add(time.Hour); return q }

	tests := []struct {
		name     string
		q        Query
		want     []string
		warnings int
		err      error
	}{
		{"an address under both keys", window(Query{ToHashes: []string{"newhash", "oldhash"}, Groups: []string{create, mailer, feedback}}),
			[]string{"req1:enqueued,sent,delivered", "req2:enqueued,dead-lettered"}, 0, nil},
		{"only the current key's hash", window(Query{ToHashes: []string{"newhash"}, Groups: []string{create, mailer, feedback}}),
			[]string{"req2:enqueued,dead-lettered"}, 0, nil},
		{"a request id", window(Query{RequestID: "req3", Groups: []string{create, mailer, feedback}}),
			[]string{"req3:enqueued,sent,delivered"}, 0, nil},
		{"the feedback function not deployed", window(Query{ToHashes: []string{"oldhash"}, Groups: []string{create, mailer, "/aws/lambda/otp-nofeedback"}}),
			[]string{"req1:enqueued,sent"}, 1, nil},
		{"a window that ends before", Query{ToHashes: []string{"oldhash"}, Groups: []string{create, mailer, feedback}, Start: t0.Add(-time.Hour), End: t0.Add(-time.Minute)},
			nil, 0, nil},
		{"an unknown address", window(Query{ToHashes: []string{"nobody"}, Groups: []string{create, mailer, feedback}}), nil, 0, nil},
		{"no group exists", window(Query{ToHashes: []string{"oldhash"}, Groups: []string{"/aws/lambda/a", "/aws/lambda/b"}}), nil, 2, ErrNoLogGroups},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			res, err := Search(t.Context(), client, tc.q)
			if !errors.Is(err, tc.err) {
				t.Fatalf("err %v, want %v", err, tc.err)
			}
			var got []string
			for _, r := range res.Requests {
				var steps []string
				for _, s := range r.Steps {
					steps = append(steps, s.Step)
				}
				got = append(got, r.ID+":"+strings.Join(steps, ","))
			}
			if fmt.Sprint(got) != fmt.Sprint(tc.want) || len(res.Warnings) != tc.warnings {
				t.Errorf("got %v, warnings %v; want %v and %d warnings", got, res.Warnings, tc.want, tc.warnings)
			}
			if res.Found() != (len(tc.want) > 0) {
				t.Errorf("Found() = %v", res.Found())
			}
		})
	}
	if _, err := Search(t.Context(), client, Query{RequestID: `x" || $.a = "b`, Groups: []string{create}}); err == nil {
		t.Error("a request id that would change the pattern was searched for")
	}
}

// fakeSES answers GetSuppressedDestination with out or err.
type fakeSES struct {
	out *sesv2.GetSuppressedDestinationOutput
	err error
}

func (f fakeSES) GetSuppressedDestination(context.Context, *sesv2.GetSuppressedDestinationInput, ...func(*sesv2.Options)) (*sesv2.GetSuppressedDestinationOutput, error) {
	return f.out, f.err
}

func TestLookupSuppression(t *testing.T) {
	since := time.Date(2026, 11, 30, 8, 0, 0, 0, time.UTC)
	tests := []struct {
		name   string
		api    fakeSES
		status string
		says   string
	}{
		{"suppressed after a bounce", fakeSES{out: &sesv2.GetSuppressedDestinationOutput{SuppressedDestination: &sestypes.SuppressedDestination{
			EmailAddress: aws.String("rosa@example.com"), Reason: sestypes.SuppressionListReasonBounce, LastUpdateTime: aws.Time(since)}}}, Suppressed, ""},
		{"not on the list", fakeSES{err: &sestypes.NotFoundException{Message: aws.String("Email address rosa@example.com does not exist on your suppression list.")}}, NotSuppressed, ""},
		{"an SES without the operation", fakeSES{err: &smithy.GenericAPIError{Code: "UnknownOperationException",
			Message: "seslocal implements SendEmail, …; got GET /v2/email/suppression/addresses/rosa%40example.com"}}, Unknown, "does not implement GetSuppressedDestination"},
		{"no permission", fakeSES{err: &smithy.GenericAPIError{Code: "AccessDeniedException",
			Message: "User: arn:aws:iam::1:user/ops is not authorized to perform: ses:GetSuppressedDestination on resource rosa@example.com"}}, Unknown, "ses:GetSuppressedDestination"},
		{"throttled", fakeSES{err: &sestypes.TooManyRequestsException{Message: aws.String("Too many requests")}}, Unknown, "TooManyRequestsException"},
		{"no network", fakeSES{err: errors.New("dial tcp: connection refused for rosa@example.com")}, Unknown, "connection refused"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			s := LookupSuppression(t.Context(), tc.api, "rosa@example.com")
			if s.Status != tc.status || !strings.Contains(s.Detail, tc.says) {
				t.Errorf("%+v, want %s saying %q", s, tc.status, tc.says)
			}
			if strings.Contains(s.Detail, "rosa@") || strings.Contains(s.Detail, "rosa%40") {
				t.Errorf("the answer quotes the address: %s", s.Detail)
			}
			if tc.status == Suppressed && (s.Reason != "BOUNCE" || !s.LastUpdate.Equal(since)) {
				t.Errorf("%+v", s)
			}
		})
	}
}

func TestAttachDeadLetters(t *testing.T) {
	letters := []ops.DeadLetter{
		{RequestID: "req2", Reason: "rejected", CodeRemoved: true, DeadLetteredAt: t0.Add(time.Minute), Tenant: "acme"},
		{RequestID: "old", Reason: "sender_not_verified", CodeRemoved: true, DeadLetteredAt: t0.Add(-48 * time.Hour), Tenant: "initech"},
		{Reason: "malformed"},
	}
	res := Result{Requests: []Request{{ID: "req1"}, {ID: "req2"}}}
	res.AttachDeadLetters(letters, "")
	if res.Requests[0].DeadLetter != nil || res.Requests[1].DeadLetter == nil || res.Requests[1].DeadLetter.CodeState != "removed" || len(res.Requests) != 2 {
		t.Errorf("an address's trace: %+v", res.Requests)
	}
	// A request id whose log lines are older than the window: the queue
	// still tells what became of it.
	res = Result{}
	res.AttachDeadLetters(letters, "old")
	if len(res.Requests) != 1 || res.Requests[0].Steps[0].Step != StepDeadLettered || res.Requests[0].Steps[0].Source != "dlq" ||
		res.Requests[0].Tenant != "initech" || !res.Found() {
		t.Errorf("a request id's trace: %+v", res.Requests)
	}
}

func TestWriteText(t *testing.T) {
	gap := func(ms int64) *int64 { return &ms }
	base := Report{Address: "r***@example.com", ToHashes: []string{"258e7ac622d8e3f5", "1111222233334444"}, Since: "1h0m0s",
		Start: t0.Add(-time.Hour), End: t0.Add(time.Minute), LogGroups: []string{create, mailer, feedback}}
	tests := []struct {
		name   string
		report func(Report) Report
		want   []string // in this order
		not    []string
	}{
		{"delivered", func(r Report) Report {
			r.Found = true
			r.Requests = []Request{{ID: "Zk2x9QvP4mN7bR1sT8uW0g", Tenant: "acme", Steps: []Step{
				{Time: t0, Step: StepEnqueued, RequestID: "Zk2x9QvP4mN7bR1sT8uW0g", Tenant: "acme", Generation: 1},
				{Time: t0.Add(800 * time.Millisecond), Step: StepSent, GapMillis: gap(800), SESMessageID: "0100-abc", TemplateSet: "acme", TemplateVersion: "b73dfb87f77e83ef", Tenant: "acme"},
				{Time: t0.Add(2900 * time.Millisecond), Step: StepDelivered, GapMillis: gap(2100)},
			}}}
			r.Suppression = &Suppression{Status: NotSuppressed}
			return r
		}, []string{
			"trace r***@example.com  (to_hash 258e7ac622d8e3f5; before the last key rotation 1111222233334444)",
			"searched /aws/lambda/otp-create, /aws/lambda/otp-mailer, /aws/lambda/otp-feedback from 2026-12-02 13:02:11 to 14:03:11 UTC (the last 1h0m0s)",
			"14:02:11.204  enqueued         request Zk2x9QvP4mN7bR1sT8uW0g  tenant acme  (Create)",
			"       +0.8s  sent             ses id 0100-abc  acme@b73dfb87f77e83ef",
			"       +2.1s  delivered",
			"SES suppression list: r***@example.com is not suppressed",
		}, []string{"nothing found", "note:"}},
		{"dead-lettered, still in the queue, a resend", func(r Report) Report {
			r.Found = true
			r.Requests = []Request{{ID: "req2", Steps: []Step{
				{Time: t0, Step: StepEnqueued, RequestID: "req2", Tenant: "acme", Generation: 2, Note: "resend"},
				{Time: t0.Add(40 * time.Millisecond), Step: StepDeadLettered, GapMillis: gap(40), Reason: "rejected", Error: "MessageRejected: Email address is on the suppression list"},
			}, DeadLetter: &DeadLetter{Reason: "rejected", CodeState: "removed"}}}
			r.Suppression = &Suppression{Status: Suppressed, Reason: "BOUNCE", LastUpdate: t0.Add(-24 * time.Hour)}
			return r
		}, []string{
			"(Create, a resend, code 2 of the sign-in)",
			"       +40ms  dead-lettered    rejected: MessageRejected: Email address is on the suppression list",
			"still in the dead-letter queue (the mailer removed its code; a redrive drops it): otpctl dlq list --reason rejected",
			"is suppressed (BOUNCE, since 2026-12-01 14:02:11 UTC)",
		}, nil},
		{"the mailer's error, without the SDK's call and HTTP details", func(r Report) Report {
			r.Found = true
			r.Requests = []Request{{ID: "req4", Steps: []Step{
				{Time: t0, Step: StepEnqueued, RequestID: "req4"},
				{Time: t0.Add(time.Second), Step: StepRetrying, GapMillis: gap(1000),
					Error: "ses: operation error SESv2: SendEmail, https response error StatusCode: 503, RequestID: 9f, api error ServiceUnavailable: Service is unavailable"},
				{Time: t0.Add(2 * time.Second), Step: StepDeadLettered, GapMillis: gap(1000), Reason: "rejected",
					Error: "rejected: operation error SESv2: SendEmail, https response error StatusCode: 400, RequestID: 3d, MessageRejected: Email address is not verified."},
			}}}
			return r
		}, []string{
			"       +1.0s  retrying         ses: api error ServiceUnavailable: Service is unavailable\n",
			"       +1.0s  dead-lettered    rejected: MessageRejected: Email address is not verified.\n",
		}, []string{"RequestID", "rejected: rejected"}},
		{"nothing found, a group missing, SES unknown", func(r Report) Report {
			r.Warnings = []string{"log group /aws/lambda/otp-feedback does not exist; its lines were not searched"}
			r.Suppression = &Suppression{Status: Unknown, Detail: "this SES endpoint does not implement GetSuppressedDestination"}
			return r
		}, []string{
			"nothing found: no line in those log groups names this address in that window.",
			"note: log group /aws/lambda/otp-feedback does not exist",
			"SES suppression list: unknown (this SES endpoint does not implement GetSuppressedDestination)",
		}, []string{"enqueued"}},
		{"a request id over two days", func(r Report) Report {
			r.Address, r.ToHashes, r.RequestID, r.Found = "", nil, "req3", true
			r.Start = t0.Add(-48 * time.Hour)
			r.Requests = []Request{{ID: "req3", Steps: []Step{{Time: t0.Add(-26 * time.Hour), Step: StepExpired, RequestID: "req3"}}}}
			return r
		}, []string{"trace request req3", "12-01 12:02:11.204  expired          request req3  the code expired before it could be sent"}, []string{"suppression"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var b strings.Builder
			tc.report(base).WriteText(&b)
			out := b.String()
			rest := out
			for _, w := range tc.want {
				i := strings.Index(rest, w)
				if i < 0 {
					t.Fatalf("output lacks %q (or has it out of order):\n%s", w, out)
				}
				rest = rest[i+len(w):]
			}
			for _, n := range tc.not {
				if strings.Contains(out, n) {
					t.Errorf("output has %q:\n%s", n, out)
				}
			}
		})
	}
}

func TestGap(t *testing.T) {
	tests := []struct {
		d    time.Duration
		want string
	}{
		{0, "+0ms"}, {45 * time.Millisecond, "+45ms"}, {800 * time.Millisecond, "+0.8s"}, {2100 * time.Millisecond, "+2.1s"},
		{-5 * time.Millisecond, "-5ms"}, {-1500 * time.Millisecond, "-1.5s"}, {59 * time.Second, "+59.0s"}, {65 * time.Second, "+1m05s"}, {3*time.Hour + 2*time.Minute, "+3h2m0s"},
	}
	for _, tc := range tests {
		if got := gap(tc.d); got != tc.want {
			t.Errorf("gap(%v) = %s, want %s", tc.d, got, tc.want)
		}
	}
}
