package mailer_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sqs"

	"github.com/cognito-email-otp/cognito-email-otp/deploy/local/awslocal"
	"github.com/cognito-email-otp/cognito-email-otp/deploy/local/seslocal"
	"github.com/cognito-email-otp/cognito-email-otp/deploy/local/sqslocal"
	"github.com/cognito-email-otp/cognito-email-otp/internal/nodetest"
	"github.com/cognito-email-otp/cognito-email-otp/mailer"
	"github.com/cognito-email-otp/cognito-email-otp/mailer/contract"
	"github.com/cognito-email-otp/cognito-email-otp/templates"
)

// startSESv2Local runs aws-ses-v2-local, an SES v2 implementation that is
// not ours, on a free loopback port and returns its URL.
func startSESv2Local(t *testing.T) string {
	t.Helper()
	nodetest.Require(t)
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := l.Addr().(*net.TCPAddr).Port
	l.Close()
	cmd := exec.Command("node", filepath.Join(nodetest.Dir(), "node_modules", "aws-ses-v2-local", "dist", "cli.js"),
		"--host", "127.0.0.1", "--port", fmt.Sprint(port))
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = cmd.Process.Kill(); _ = cmd.Wait() })
	url := fmt.Sprintf("http://127.0.0.1:%d", port)
	deadline := time.Now().Add(15 * time.Second)
	for {
		resp, err := http.Get(url + "/health-check")
		if err == nil {
			resp.Body.Close()
			return url
		}
		if time.Now().After(deadline) {
			t.Fatalf("aws-ses-v2-local did not start: %v\n%s", err, out.String())
		}
		time.Sleep(100 * time.Millisecond)
	}
}

type storedEmail struct {
	MessageID   string `json:"messageId"`
	From        string `json:"from"`
	Subject     string `json:"subject"`
	Destination struct {
		To []string `json:"to"`
	} `json:"destination"`
	Body struct {
		HTML string `json:"html"`
		Text string `json:"text"`
	} `json:"body"`
}

// loadTemplates loads the embedded sets once per test binary: a Library
// is immutable, and loading renders every set x locale x kind.
func loadTemplates(t testing.TB) mailer.Renderer {
	t.Helper()
	lib, err := embeddedLib()
	if err != nil {
		t.Fatal(err)
	}
	return templates.ForMailer(lib)
}

var embeddedLib = sync.OnceValues(func() (*templates.Library, error) { return templates.Load(templates.Embedded()) })

func newRequest(i int, tenant, locale string, now time.Time) contract.SendRequest {
	return contract.SendRequest{V: contract.SendRequestVersion, Kind: contract.KindSignInCode, ID: fmt.Sprintf("req%06d", i), Tenant: tenant, Locale: locale,
		To: fmt.Sprintf("user%d@example.com", i), Name: "Rosa Díaz", Code: contract.Code(fmt.Sprintf("%06d", 314159+i)),
		IssuedAt: now, ExpiresAt: now.Add(3 * time.Minute)}
}

func records(reqs ...contract.SendRequest) events.SQSEvent {
	var ev events.SQSEvent
	for i, r := range reqs {
		b, _ := r.Encode()
		ev.Records = append(ev.Records, events.SQSMessage{MessageId: fmt.Sprintf("m-%d", i), Body: string(b)})
	}
	return ev
}

// TestSendsThroughAnIndependentSESImplementation renders real template sets
// and sends with the real sesv2 client to aws-ses-v2-local, then reads the
// stored emails back.
func TestSendsThroughAnIndependentSESImplementation(t *testing.T) {
	url := startSESv2Local(t)
	cfg := mailer.Config{DLQURL: "http://127.0.0.1:1/unused", FromAddress: "Example <no-reply@example.com>",
		Concurrency: 4, RetryBudget: 5 * time.Second, MetricsNamespace: "Test"}
	var logs bytes.Buffer
	h := mailer.New(cfg, awslocal.Config(url), loadTemplates(t), &logs)
	now := time.Now().UTC().Truncate(time.Second)
	reqs := []contract.SendRequest{newRequest(1, "acme", "de-AT", now), newRequest(2, "globex", "ar", now), newRequest(3, "unknown-tenant", "xx", now)}
	resp, err := h.Handle(t.Context(), records(reqs...))
	if err != nil || len(resp.BatchItemFailures) > 0 {
		t.Fatalf("batch: %v %v\n%s", resp, err, logs.String())
	}

	r, err := http.Get(url + "/store")
	if err != nil {
		t.Fatal(err)
	}
	defer r.Body.Close()
	var store struct {
		Emails []storedEmail `json:"emails"`
	}
	if err := json.NewDecoder(r.Body).Decode(&store); err != nil {
		t.Fatal(err)
	}
	byTo := map[string]storedEmail{}
	for _, e := range store.Emails {
		byTo[e.Destination.To[0]] = e
	}
	checks := []struct {
		req                  contract.SendRequest
		subject, brand, from string
	}{
		{reqs[0], "Acme", "Acme", "acme"},
		{reqs[1], "", "Globex", "globex"},
		{reqs[2], "", "Example", "no-reply@example.com"},
	}
	for _, c := range checks {
		e, ok := byTo[c.req.To]
		if !ok {
			t.Errorf("no email to %s in aws-ses-v2-local's store", c.req.To)
			continue
		}
		code := c.req.Code.Reveal()
		if !strings.Contains(e.Body.HTML, code) || !strings.Contains(e.Body.Text, code) {
			t.Errorf("%s: the code is not in both the HTML and the text", c.req.To)
		}
		if !strings.Contains(e.Body.HTML, c.brand) || !strings.Contains(e.Subject, c.subject) || !strings.Contains(strings.ToLower(e.From), c.from) {
			t.Errorf("%s: from %q subject %q lacks the tenant's branding %q", c.req.To, e.From, e.Subject, c.brand)
		}
		if strings.Contains(e.Subject, code) {
			t.Errorf("%s: the subject carries the code; SES event records would too", c.req.To)
		}
	}
	if de := byTo[reqs[0].To]; !strings.Contains(de.Body.Text, "Rosa Díaz") || !strings.Contains(de.Subject+de.Body.Text, "Code") {
		t.Errorf("German email: subject %q, text %q", de.Subject, de.Body.Text)
	}
	if ar := byTo[reqs[1].To]; !strings.Contains(ar.Body.HTML, `dir="rtl"`) {
		t.Error("Arabic email is not right-to-left")
	}
	if !strings.Contains(logs.String(), "unknown tenant: rendered with the default template set") {
		t.Errorf("the unknown tenant's fallback is not logged:\n%s", logs.String())
	}
}

// TestDeadLettersReachARealQueue sends a poison message through the
// handler with the real SQS client and finds it on otp-local's DLQ with its
// reason.
func TestDeadLettersReachARealQueue(t *testing.T) {
	q := sqslocal.New(sqslocal.Options{})
	srv := httptest.NewServer(q)
	t.Cleanup(func() { q.Close(); srv.Close() })
	dlq, err := q.CreateQueue("otp-send-dlq", nil)
	if err != nil {
		t.Fatal(err)
	}
	cfg := mailer.Config{DLQURL: dlq, FromAddress: "no-reply@example.com", Concurrency: 2, RetryBudget: time.Second, MetricsNamespace: "Test"}
	h := mailer.New(cfg, awslocal.Config(srv.URL), loadTemplates(t), io.Discard)
	ev := events.SQSEvent{Records: []events.SQSMessage{{MessageId: "m-1", Body: `{"v":3,"code":"999999"}`}}}
	if resp, err := h.Handle(t.Context(), ev); err != nil || len(resp.BatchItemFailures) != 0 {
		t.Fatalf("%v %v", resp, err)
	}
	client := sqs.NewFromConfig(awslocal.Config(srv.URL))
	out, err := client.ReceiveMessage(t.Context(), &sqs.ReceiveMessageInput{QueueUrl: aws.String(dlq), MessageAttributeNames: []string{"All"}})
	if err != nil || len(out.Messages) != 1 {
		t.Fatalf("DLQ: %v %v", out, err)
	}
	if got := aws.ToString(out.Messages[0].MessageAttributes[mailer.AttrReason].StringValue); got != string(mailer.ReasonUnknownVersion) {
		t.Errorf("reason %q", got)
	}
}

// BenchmarkBatchOfTen renders and sends a 10-message batch through the real
// sesv2 client to otp-local's SES over loopback: the mailer's per-invocation
// cost without the network of a real region.
func BenchmarkBatchOfTen(b *testing.B) {
	ses, err := seslocal.New(seslocal.Options{})
	if err != nil {
		b.Fatal(err)
	}
	srv := httptest.NewServer(ses)
	b.Cleanup(srv.Close)
	cfg := mailer.Config{DLQURL: "http://127.0.0.1:1/unused", FromAddress: "no-reply@example.com", Concurrency: 10, RetryBudget: time.Second, MetricsNamespace: "Bench"}
	h := mailer.New(cfg, awslocal.Config(srv.URL), loadTemplates(b), io.Discard)
	h.Log = slog.New(slog.NewJSONHandler(io.Discard, nil))
	ctx := context.Background()
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		now := time.Now()
		var reqs []contract.SendRequest
		for range 10 {
			i++
			reqs = append(reqs, newRequest(i, []string{"acme", "globex", "default"}[i%3], "en", now))
		}
		if resp, err := h.Handle(ctx, records(reqs...)); err != nil || len(resp.BatchItemFailures) != 0 {
			b.Fatalf("%v %v", resp, err)
		}
	}
	b.ReportMetric(float64(b.N*10)/b.Elapsed().Seconds(), "emails/s")
}
