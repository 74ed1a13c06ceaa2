package seslocal_test

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/aws/retry"
	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	"github.com/aws/aws-sdk-go-v2/service/sesv2"
	"github.com/aws/aws-sdk-go-v2/service/sesv2/types"
	"github.com/aws/smithy-go"

	"github.com/cognito-email-otp/cognito-email-otp/deploy/local/seslocal"
)

func TestSendSimpleEmail(t *testing.T) {
	e := newSES(t, seslocal.Options{})
	in := simple("Rita <rita@example.com>", "Your sign-in code")
	in.Destination.CcAddresses = []string{"cc@example.com"}
	in.Destination.BccAddresses = []string{"bcc@example.com"}
	in.ReplyToAddresses = []string{"help@acme.test"}
	in.ConfigurationSetName = aws.String("otp")
	in.EmailTags = append(in.EmailTags, types.MessageTag{Name: aws.String("locale"), Value: aws.String("de-AT")})
	in.Content.Simple.Headers = []types.MessageHeader{{Name: aws.String("X-OTP-Generation"), Value: aws.String("2")}}
	id := e.send(in)

	got, ok := e.srv.Outbox().Get(id)
	if !ok {
		t.Fatalf("email %s not in the outbox", id)
	}
	want := seslocal.Email{
		ID: id, ReceivedAt: got.ReceivedAt, Format: "simple",
		From: "Acme Sign-in <no-reply@acme.test>", To: []string{"Rita <rita@example.com>"},
		Cc: []string{"cc@example.com"}, Bcc: []string{"bcc@example.com"}, ReplyTo: []string{"help@acme.test"},
		Subject: "Your sign-in code", HTML: "<p>Your code is <b>123456</b></p>", Text: "Your code is 123456",
		Headers:          []seslocal.Header{{Name: "X-OTP-Generation", Value: "2"}},
		Tags:             map[string]string{"tenant": "acme", "locale": "de-AT"},
		Tenant:           "acme",
		ConfigurationSet: "otp",
		Deliveries: []seslocal.Delivery{
			{Recipient: "rita@example.com", Outcome: seslocal.OutcomeDelivered},
			{Recipient: "cc@example.com", Outcome: seslocal.OutcomeDelivered},
			{Recipient: "bcc@example.com", Outcome: seslocal.OutcomeDelivered},
		},
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("outbox email =\n%+v\nwant\n%+v", got, want)
	}
	if time.Since(got.ReceivedAt) > time.Minute {
		t.Errorf("ReceivedAt = %v", got.ReceivedAt)
	}
	if !strings.HasSuffix(id, "-000000") || len(id) != 60 {
		t.Errorf("MessageId %q is not shaped like an SES message id", id)
	}
}

func TestSendRawEmail(t *testing.T) {
	const multipart = "From: =?UTF-8?Q?J=C3=BCrgen?= <otp@acme.test>\r\n" +
		"To: rita@example.com, Sam <sam@example.com>\r\n" +
		"Subject: =?UTF-8?B?RGVpbiBDb2RlOiAxMjM0NTY=?=\r\n" +
		"MIME-Version: 1.0\r\n" +
		"X-Tenant: acme\r\n" +
		"Content-Type: multipart/mixed; boundary=outer\r\n" +
		"\r\n" +
		"--outer\r\n" +
		"Content-Type: multipart/alternative; boundary=inner\r\n" +
		"\r\n" +
		"--inner\r\n" +
		"Content-Type: text/plain; charset=UTF-8\r\n" +
		"Content-Transfer-Encoding: quoted-printable\r\n" +
		"\r\n" +
		"Gr=C3=BC=C3=9Fe, dein Code ist 123456 und diese Zeile ist l=\r\n" +
		"ang.\r\n" +
		"--inner\r\n" +
		"Content-Type: text/html; charset=UTF-8\r\n" +
		"Content-Transfer-Encoding: base64\r\n" +
		"\r\n" +
		"PHA+R3LDvMOfZSwgZGVpbiBDb2RlIGlzdCA8Yj4xMjM0NTY8L2I+PC9w\r\n" +
		"Pg==\r\n" +
		"--inner--\r\n" +
		"--outer\r\n" +
		"Content-Type: application/pdf; name=\"terms.pdf\"\r\n" +
		"Content-Disposition: attachment; filename=\"terms.pdf\"\r\n" +
		"Content-Transfer-Encoding: base64\r\n" +
		"\r\n" +
		"JVBERi0xLjQK\r\n" +
		"--outer--\r\n"
	const latin1 = "From: otp@acme.test\r\n" +
		"To: rita@example.com\r\n" +
		"Subject: Code\r\n" +
		"Content-Type: text/plain; charset=ISO-8859-1\r\n" +
		"Content-Transfer-Encoding: 8bit\r\n" +
		"\r\n" +
		"Gr\xfc\xdfe\r\n"

	tests := []struct {
		name        string
		raw         string
		destination *types.Destination
		from        string
		want        seslocal.Email // compared on the fields set here
	}{
		{
			name: "multipart with encoded subject, quoted-printable text, base64 html and an attachment",
			raw:  multipart,
			want: seslocal.Email{
				From: "Jürgen <otp@acme.test>", To: []string{"rita@example.com", "Sam <sam@example.com>"},
				Subject:     "Dein Code: 123456",
				Text:        "Grüße, dein Code ist 123456 und diese Zeile ist lang.", // the CRLF before a boundary belongs to the boundary
				HTML:        "<p>Grüße, dein Code ist <b>123456</b></p>",
				Attachments: []seslocal.Attachment{{FileName: "terms.pdf", ContentType: "application/pdf", Size: 9}},
			},
		},
		{
			name:        "Destination overrides the recipient headers, FromEmailAddress the From header",
			raw:         multipart,
			destination: &types.Destination{ToAddresses: []string{"only@example.com"}},
			from:        "bounces@acme.test",
			want:        seslocal.Email{From: "bounces@acme.test", To: []string{"only@example.com"}, Subject: "Dein Code: 123456"},
		},
		{
			name: "single part in ISO-8859-1",
			raw:  latin1,
			want: seslocal.Email{From: "otp@acme.test", To: []string{"rita@example.com"}, Subject: "Code", Text: "Grüße\r\n"},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			e := newSES(t, seslocal.Options{})
			in := &sesv2.SendEmailInput{
				Destination: tc.destination,
				Content:     &types.EmailContent{Raw: &types.RawMessage{Data: []byte(tc.raw)}},
				EmailTags:   []types.MessageTag{{Name: aws.String("tenant"), Value: aws.String("acme")}},
			}
			if tc.from != "" {
				in.FromEmailAddress = aws.String(tc.from)
			}
			got, ok := e.srv.Outbox().Get(e.send(in))
			if !ok {
				t.Fatal("email not in the outbox")
			}
			if got.Format != "raw" || got.Tenant != "acme" {
				t.Errorf("Format %q, Tenant %q", got.Format, got.Tenant)
			}
			check := func(field string, g, w any) {
				if !reflect.ValueOf(w).IsZero() && !reflect.DeepEqual(g, w) {
					t.Errorf("%s = %q, want %q", field, g, w)
				}
			}
			check("From", got.From, tc.want.From)
			check("To", got.To, tc.want.To)
			check("Subject", got.Subject, tc.want.Subject)
			check("Text", got.Text, tc.want.Text)
			check("HTML", got.HTML, tc.want.HTML)
			check("Attachments", got.Attachments, tc.want.Attachments)
		})
	}
}

func TestErrorsAreTyped(t *testing.T) {
	tests := []struct {
		name     string
		opts     seslocal.Options
		in       func() *sesv2.SendEmailInput
		status   int
		code     string
		typed    any
		inMesage string
	}{
		{
			name:   "From address not verified",
			opts:   seslocal.Options{VerifiedIdentities: []string{"other.test"}},
			in:     func() *sesv2.SendEmailInput { return simple("rita@example.com", "x") },
			status: 400, code: "MessageRejected", typed: new(*types.MessageRejected),
			inMesage: "Email address is not verified. The following identities failed the check in region EU-WEST-1: Acme Sign-in <no-reply@acme.test>",
		},
		{
			name:   "recipient not verified in the sandbox",
			opts:   seslocal.Options{VerifiedIdentities: []string{"acme.test"}, Sandbox: true},
			in:     func() *sesv2.SendEmailInput { return simple("rita@example.com", "x") },
			status: 400, code: "MessageRejected", typed: new(*types.MessageRejected), inMesage: "rita@example.com",
		},
		{
			name:   "recipient on the reject list",
			opts:   seslocal.Options{RejectRecipients: []string{"@blocked.test"}},
			in:     func() *sesv2.SendEmailInput { return simple("x@blocked.test", "x") },
			status: 400, code: "MessageRejected", typed: new(*types.MessageRejected),
		},
		{
			name: "no content",
			in: func() *sesv2.SendEmailInput {
				in := simple("rita@example.com", "x")
				in.Content = &types.EmailContent{}
				return in
			},
			status: 400, code: "BadRequestException", typed: new(*types.BadRequestException),
		},
		{
			name: "simple content without a body",
			in: func() *sesv2.SendEmailInput {
				in := simple("rita@example.com", "x")
				in.Content.Simple.Body = &types.Body{}
				return in
			},
			status: 400, code: "BadRequestException", typed: new(*types.BadRequestException),
		},
		{
			name: "invalid email tag",
			in: func() *sesv2.SendEmailInput {
				in := simple("rita@example.com", "x")
				in.EmailTags = []types.MessageTag{{Name: aws.String("tenant"), Value: aws.String("a b")}}
				return in
			},
			status: 400, code: "BadRequestException", typed: new(*types.BadRequestException),
		},
		{
			name: "more than 50 recipients",
			in: func() *sesv2.SendEmailInput {
				in := simple("rita@example.com", "x")
				for i := 0; i < 50; i++ {
					in.Destination.CcAddresses = append(in.Destination.CcAddresses, fmt.Sprintf("cc%d@example.com", i))
				}
				return in
			},
			status: 400, code: "BadRequestException", typed: new(*types.BadRequestException),
		},
		{
			name: "stored template that does not exist",
			in: func() *sesv2.SendEmailInput {
				in := simple("rita@example.com", "x")
				in.Content = &types.EmailContent{Template: &types.Template{TemplateName: aws.String("otp"), TemplateData: aws.String("{}")}}
				return in
			},
			status: 404, code: "NotFoundException", typed: new(*types.NotFoundException),
		},
		{
			name:   "throttled",
			opts:   seslocal.Options{Faults: seslocal.Faults{ThrottleRate: 1}},
			in:     func() *sesv2.SendEmailInput { return simple("rita@example.com", "x") },
			status: 429, code: "TooManyRequestsException", typed: new(*types.TooManyRequestsException),
		},
		{
			name:   "internal failure",
			opts:   seslocal.Options{Faults: seslocal.Faults{FailRate: 1}},
			in:     func() *sesv2.SendEmailInput { return simple("rita@example.com", "x") },
			status: 500, code: "InternalFailure",
		},
		{
			name:   "service unavailable",
			opts:   seslocal.Options{Faults: seslocal.Faults{FailRate: 1, FailStatus: 503}},
			in:     func() *sesv2.SendEmailInput { return simple("rita@example.com", "x") },
			status: 503, code: "ServiceUnavailable",
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			e := newSES(t, tc.opts) // RetryMaxAttempts 1: retries disabled
			_, err := e.client.SendEmail(ctx(t), tc.in())
			var apiErr smithy.APIError
			if !errors.As(err, &apiErr) {
				t.Fatalf("error = %v (%T), want an API error", err, err)
			}
			if apiErr.ErrorCode() != tc.code {
				t.Errorf("ErrorCode() = %q, want %q", apiErr.ErrorCode(), tc.code)
			}
			if !strings.Contains(apiErr.ErrorMessage(), tc.inMesage) {
				t.Errorf("ErrorMessage() = %q, want it to contain %q", apiErr.ErrorMessage(), tc.inMesage)
			}
			var respErr *awshttp.ResponseError
			if !errors.As(err, &respErr) || respErr.HTTPStatusCode() != tc.status {
				t.Errorf("HTTP status = %v, want %d", respErr, tc.status)
			}
			if tc.typed != nil && !errors.As(err, tc.typed) {
				t.Errorf("errors.As(%T) failed for %v", tc.typed, err)
			}
			if n := e.srv.Outbox().Count(); n != 0 {
				t.Errorf("outbox holds %d emails after a failed send", n)
			}
		})
	}
}

// sequence returns a Rand that yields vals in turn.
func sequence(vals ...float64) func() float64 {
	var mu sync.Mutex
	i := 0
	return func() float64 {
		mu.Lock()
		defer mu.Unlock()
		v := vals[i%len(vals)]
		i++
		return v
	}
}

func TestSDKRetriesInjectedFaults(t *testing.T) {
	withRetries := func(o *sesv2.Options) {
		o.RetryMaxAttempts = 0
		o.Retryer = retry.NewStandard(func(so *retry.StandardOptions) {
			so.MaxAttempts = 3
			so.Backoff = retry.BackoffDelayerFunc(func(int, error) (time.Duration, error) { return time.Millisecond, nil })
		})
	}
	tests := []struct {
		name      string
		faults    seslocal.Faults
		draws     []float64
		wantErr   string
		wantCalls int64
		wantMails int
	}{
		{"a 500 then success is retried", seslocal.Faults{FailRate: 0.5}, []float64{0.1, 0.9}, "", 2, 1},
		{"a 503 then success is retried", seslocal.Faults{FailRate: 0.5, FailStatus: 503}, []float64{0.1, 0.9}, "", 2, 1},
		{"a throttle then success is retried", seslocal.Faults{ThrottleRate: 0.5}, []float64{0.1, 0.9}, "", 2, 1},
		{"persistent failure gives up after 3 attempts", seslocal.Faults{FailRate: 1}, []float64{0.5}, "InternalFailure", 3, 0},
		{"a rejection is not retried", seslocal.Faults{}, nil, "MessageRejected", 1, 0},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			opts := seslocal.Options{Faults: tc.faults, RejectRecipients: []string{"rejected@example.com"}}
			to := "rita@example.com"
			if tc.draws == nil {
				to = "rejected@example.com"
			} else {
				opts.Rand = sequence(tc.draws...)
			}
			e := newSES(t, opts, withRetries)
			_, err := e.client.SendEmail(ctx(t), simple(to, "x"))
			var apiErr smithy.APIError
			switch {
			case tc.wantErr == "" && err != nil:
				t.Fatalf("SendEmail: %v", err)
			case tc.wantErr != "" && (!errors.As(err, &apiErr) || apiErr.ErrorCode() != tc.wantErr):
				t.Fatalf("SendEmail error = %v, want %s", err, tc.wantErr)
			}
			if got := e.srv.SendCalls(); got != tc.wantCalls {
				t.Errorf("server saw %d calls, want %d", got, tc.wantCalls)
			}
			if got := e.srv.Outbox().Count(); got != tc.wantMails {
				t.Errorf("outbox holds %d emails, want %d", got, tc.wantMails)
			}
		})
	}
}

func TestLatency(t *testing.T) {
	const latency = 400 * time.Millisecond
	e := newSES(t, seslocal.Options{Faults: seslocal.Faults{Latency: latency}})

	t.Run("every call waits the latency", func(t *testing.T) {
		start := time.Now()
		e.send(simple("rita@example.com", "slow"))
		if took := time.Since(start); took < latency {
			t.Errorf("SendEmail took %v, want at least %v", took, latency)
		}
	})
	t.Run("a caller that gives up gets no email sent", func(t *testing.T) {
		before := e.srv.Outbox().Count()
		c, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
		defer cancel()
		start := time.Now()
		_, err := e.client.SendEmail(c, simple("rita@example.com", "abandoned"))
		if !errors.Is(err, context.DeadlineExceeded) {
			t.Fatalf("SendEmail error = %v, want context.DeadlineExceeded", err)
		}
		if took := time.Since(start); took >= latency {
			t.Errorf("the cancelled call took %v; it should end with its context", took)
		}
		time.Sleep(latency + 100*time.Millisecond) // past the point the server would have accepted it
		if n := e.srv.Outbox().Count(); n != before {
			t.Errorf("outbox grew from %d to %d after an abandoned call", before, n)
		}
	})
	t.Run("latency changes at runtime", func(t *testing.T) {
		if err := e.srv.SetFaults(seslocal.Faults{}); err != nil {
			t.Fatal(err)
		}
		start := time.Now()
		e.send(simple("rita@example.com", "fast"))
		if took := time.Since(start); took >= latency {
			t.Errorf("SendEmail took %v after the latency was removed", took)
		}
	})
}

func TestLatencySpikes(t *testing.T) {
	const spike = 300 * time.Millisecond
	draws := []float64{0.05, 0.9} // the first call spikes, the second does not
	e := newSES(t, seslocal.Options{Faults: seslocal.Faults{SpikeRate: 0.1, Spike: spike}, Rand: func() float64 {
		u := draws[0]
		draws = append(draws[1:], u)
		return u
	}})
	start := time.Now()
	e.send(simple("rita@example.com", "spiked"))
	if took := time.Since(start); took < spike {
		t.Errorf("a drawn spike took %v, want at least %v", took, spike)
	}
	start = time.Now()
	e.send(simple("rita@example.com", "not spiked"))
	if took := time.Since(start); took >= spike {
		t.Errorf("an undrawn call took %v", took)
	}
}

func TestSetFaultsValidates(t *testing.T) {
	e := newSES(t, seslocal.Options{})
	bad := []seslocal.Faults{
		{FailRate: -0.1}, {FailRate: 1.5}, {ThrottleRate: 2}, {FailStatus: 502}, {Latency: -time.Second},
		{SpikeRate: 1.1}, {SpikeRate: 0.5, Spike: -time.Second},
	}
	for _, f := range bad {
		if err := e.srv.SetFaults(f); err == nil {
			t.Errorf("SetFaults(%+v) accepted", f)
		}
	}
	good := seslocal.Faults{FailRate: 0.2, ThrottleRate: 0.1, FailStatus: 503, Latency: time.Second}
	if err := e.srv.SetFaults(good); err != nil || e.srv.Faults() != good {
		t.Errorf("SetFaults(%+v) = %v; Faults() = %+v", good, err, e.srv.Faults())
	}
	if _, err := seslocal.New(seslocal.Options{Faults: seslocal.Faults{FailRate: 3}}); err == nil {
		t.Error("New accepted FailRate 3")
	}
}

func TestMailboxSimulatorAddresses(t *testing.T) {
	// The sandbox lets simulator addresses through, as SES does; its 1 a
	// second rate is lifted so the scenarios need not wait for each other.
	e := newSES(t, seslocal.Options{VerifiedIdentities: []string{"acme.test"}, Sandbox: true, MaxSendRate: -1})
	for scenario, outcome := range map[string]seslocal.Outcome{"success": seslocal.OutcomeDelivered, "bounce": seslocal.OutcomeBounce,
		"complaint": seslocal.OutcomeComplaint, "ooto": seslocal.OutcomeOOTO, "suppressionlist": seslocal.OutcomeSuppressed} {
		t.Run(scenario, func(t *testing.T) {
			to := scenario + "+otp-test@simulator.amazonses.com"
			id := e.send(simple(to, "x"))
			got, _ := e.srv.Outbox().Get(id)
			if got.Simulator != scenario {
				t.Errorf("Simulator = %q, want %q", got.Simulator, scenario)
			}
			if want := []seslocal.Delivery{{Recipient: to, Outcome: outcome, Simulated: true}}; !reflect.DeepEqual(got.Deliveries, want) {
				t.Errorf("Deliveries = %+v, want %+v", got.Deliveries, want)
			}
		})
	}
	if q := e.srv.SendQuota(); q.SentLast24Hours != 0 {
		t.Errorf("SentLast24Hours = %v after simulator sends only, want 0: they do not count against the daily quota", q.SentLast24Hours)
	}
}

func TestUnsignedAndUnknownRequests(t *testing.T) {
	e := newSES(t, seslocal.Options{})
	tests := []struct {
		name, method, path, auth string
		status                   int
		errType                  string
	}{
		{"SendEmail without Authorization", "POST", "/v2/email/outbound-emails", "", 403, "MissingAuthenticationTokenException"},
		{"SendEmail signed for another service", "POST", "/v2/email/outbound-emails",
			"AWS4-HMAC-SHA256 Credential=AKID/20250301/us-east-1/sqs/aws4_request, SignedHeaders=host;x-amz-date, Signature=abcd", 403, "IncompleteSignatureException"},
		{"an operation seslocal does not implement", "GET", "/v2/email/templates", "", 404, "UnknownOperationException"},
		{"GetAccount without Authorization", "GET", "/v2/email/account", "", 403, "MissingAuthenticationTokenException"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			req, _ := http.NewRequest(tc.method, e.url+tc.path, strings.NewReader(`{}`))
			req.Header.Set("Content-Type", "application/json")
			req.Header.Set("X-Amz-Date", "20250301T120000Z")
			if tc.auth != "" {
				req.Header.Set("Authorization", tc.auth)
			}
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			if resp.StatusCode != tc.status || resp.Header.Get("X-Amzn-ErrorType") != tc.errType {
				t.Errorf("got %d %q, want %d %q", resp.StatusCode, resp.Header.Get("X-Amzn-ErrorType"), tc.status, tc.errType)
			}
		})
	}
}
