package mailer_test

import (
	"bytes"
	"context"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sesv2"
	"github.com/aws/aws-sdk-go-v2/service/sesv2/types"
	"github.com/aws/aws-sdk-go-v2/service/sqs"

	"github.com/cognito-email-otp/cognito-email-otp/deploy/local/awslocal"
	"github.com/cognito-email-otp/cognito-email-otp/deploy/local/seslocal"
	"github.com/cognito-email-otp/cognito-email-otp/deploy/local/sqslocal"
	"github.com/cognito-email-otp/cognito-email-otp/mailer"
)

// TestSESErrorsReachTheirReasons sends one code through the mailer, the
// real sesv2 client and seslocal set up to fail the way SES does, and
// reads the dead-letter reason off a real queue: the classification is
// pinned to the errors the SDK actually decodes, not to hand-made ones.
func TestSESErrorsReachTheirReasons(t *testing.T) {
	const from = "Example <no-reply@example.com>" // the default template set's sender
	example := []string{"example.com"}
	tests := []struct {
		name      string
		opts      seslocal.Options
		configSet string
		// prime runs first, with a client of its own, to use up a quota.
		prime      func(t *testing.T, c *sesv2.Client)
		wantReason mailer.Reason // "" sent
		minCalls   int64         // SendEmail calls the server saw, prime included; exactly these when dead-lettered
	}{
		{name: "verified sender", opts: seslocal.Options{VerifiedIdentities: example}, minCalls: 1},
		{name: "unverified sender", opts: seslocal.Options{VerifiedIdentities: []string{"other.test"}},
			wantReason: mailer.ReasonSenderNotVerified, minCalls: 1},
		{name: "sender at a domain still pending", opts: seslocal.Options{Identities: []seslocal.Identity{{Name: "example.com", Status: seslocal.StatusPending}}},
			wantReason: mailer.ReasonSenderNotVerified, minCalls: 1},
		{name: "sandbox recipient not verified", opts: seslocal.Options{VerifiedIdentities: []string{"no-reply@example.com"}, Sandbox: true, MaxSendRate: -1},
			wantReason: mailer.ReasonRejected, minCalls: 1},
		{name: "sandbox with neither sender nor recipient verified", opts: seslocal.Options{Sandbox: true},
			wantReason: mailer.ReasonSenderNotVerified, minCalls: 1},
		{name: "recipient SES will not send to", opts: seslocal.Options{RejectRecipients: []string{"@example.com"}},
			wantReason: mailer.ReasonRejected, minCalls: 1},
		{name: "custom MAIL FROM domain without its MX record", opts: seslocal.Options{Identities: []seslocal.Identity{{Name: "example.com",
			MailFromDomain: "bounce.example.com", MailFromStatus: seslocal.StatusFailed, MailFromRejectOnMXFailure: true}}},
			wantReason: mailer.ReasonMailFromNotVerified, minCalls: 1},
		{name: "configuration set that does not exist", opts: seslocal.Options{VerifiedIdentities: example, ConfigurationSets: []string{"otp"}},
			configSet: "otp-events", wantReason: mailer.ReasonSESBadRequest, minCalls: 1},
		{name: "account sending paused", opts: seslocal.Options{VerifiedIdentities: example, SendingPaused: true},
			wantReason: mailer.ReasonSendingPaused, minCalls: 1},
		{name: "daily quota used up: dead-lettered on the first refusal", opts: seslocal.Options{VerifiedIdentities: example, Max24HourSend: 1},
			prime: sendOne, wantReason: mailer.ReasonQuotaExceeded, minCalls: 2},
		// Half a send a second: the mailer's first try lands inside the
		// prime's two-second window even on a loaded machine.
		{name: "send rate exceeded: retried until it passes", opts: seslocal.Options{VerifiedIdentities: example, MaxSendRate: 0.5},
			prime: sendOne, minCalls: 3},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if tc.wantReason != "" && !slices.Contains(mailer.Reasons, tc.wantReason) {
				t.Fatalf("reason %q is missing from mailer.Reasons", tc.wantReason)
			}
			ses, err := seslocal.New(tc.opts)
			if err != nil {
				t.Fatal(err)
			}
			q := sqslocal.New(sqslocal.Options{})
			mux := http.NewServeMux()
			mux.Handle(seslocal.PathPrefix, ses)
			mux.Handle("/", q)
			srv := httptest.NewServer(mux)
			t.Cleanup(func() { q.Close(); srv.Close() })
			dlq, err := q.CreateQueue("otp-send-dlq", nil)
			if err != nil {
				t.Fatal(err)
			}
			// The templates before the prime: loading them renders every
			// kind through hermes, which under -race could outlast the
			// throttling window the prime opens.
			renderer := loadTemplates(t)
			if tc.prime != nil {
				tc.prime(t, sesv2.NewFromConfig(awslocal.Config(srv.URL)))
			}

			cfg := mailer.Config{DLQURL: dlq, FromAddress: from, ConfigurationSet: tc.configSet, Concurrency: 1,
				RetryBudget: 5 * time.Second, MetricsNamespace: "Test"}
			var logs bytes.Buffer
			h := mailer.New(cfg, awslocal.Config(srv.URL), renderer, &logs)
			req := newRequest(1, "unknown-tenant", "en", time.Now().UTC())
			resp, err := h.Handle(t.Context(), records(req))
			if err != nil || len(resp.BatchItemFailures) != 0 {
				t.Fatalf("batch: %v %v\n%s", resp, err, logs.String())
			}
			switch got := ses.SendCalls(); {
			case got < tc.minCalls:
				t.Errorf("seslocal saw %d SendEmail calls, want at least %d", got, tc.minCalls)
			case tc.wantReason != "" && got != tc.minCalls:
				t.Errorf("seslocal saw %d SendEmail calls, want %d: a permanent refusal is not retried", got, tc.minCalls)
			}

			out, err := sqs.NewFromConfig(awslocal.Config(srv.URL)).ReceiveMessage(t.Context(),
				&sqs.ReceiveMessageInput{QueueUrl: aws.String(dlq), MessageAttributeNames: []string{"All"}})
			if err != nil {
				t.Fatal(err)
			}
			if tc.wantReason == "" {
				if len(out.Messages) != 0 {
					t.Fatalf("dead-lettered as %s, want sent:\n%s", aws.ToString(out.Messages[0].MessageAttributes[mailer.AttrReason].StringValue), logs.String())
				}
				if _, err := ses.Outbox().Wait(shortContext(t), seslocal.Filter{To: req.To}.Match); err != nil {
					t.Errorf("no email to the recipient in the outbox: %v\n%s", err, logs.String())
				}
				return
			}
			if len(out.Messages) != 1 {
				t.Fatalf("%d messages on the DLQ, want 1\n%s", len(out.Messages), logs.String())
			}
			attrs := out.Messages[0].MessageAttributes
			if got := aws.ToString(attrs[mailer.AttrReason].StringValue); got != string(tc.wantReason) {
				t.Errorf("reason %q, want %q (error %q)", got, tc.wantReason, aws.ToString(attrs[mailer.AttrError].StringValue))
			}
			if e := aws.ToString(attrs[mailer.AttrError].StringValue); strings.Contains(e, req.To) {
				t.Errorf("the error attribute carries the recipient's full address: %q", e)
			}
			if n := ses.Outbox().Count(); n > 1 {
				t.Errorf("outbox holds %d emails", n)
			}
		})
	}
}

// sendOne sends one email from the verified sender, using up one recipient
// of the daily quota or one token of the send rate.
func sendOne(t *testing.T, c *sesv2.Client) {
	t.Helper()
	_, err := c.SendEmail(t.Context(), &sesv2.SendEmailInput{
		FromEmailAddress: aws.String("no-reply@example.com"),
		Destination:      &types.Destination{ToAddresses: []string{"first@example.com"}},
		Content: &types.EmailContent{Simple: &types.Message{
			Subject: &types.Content{Data: aws.String("first")},
			Body:    &types.Body{Text: &types.Content{Data: aws.String("first")}},
		}},
	})
	if err != nil {
		t.Fatalf("priming send: %v", err)
	}
}

func shortContext(t *testing.T) context.Context {
	c, cancel := context.WithTimeout(t.Context(), 2*time.Second)
	t.Cleanup(cancel)
	return c
}
