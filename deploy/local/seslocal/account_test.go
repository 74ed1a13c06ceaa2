package seslocal_test

import (
	"encoding/json"
	"errors"
	"net/http"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	"github.com/aws/aws-sdk-go-v2/service/sesv2"
	"github.com/aws/aws-sdk-go-v2/service/sesv2/types"
	"github.com/aws/smithy-go"

	"github.com/cognito-email-otp/cognito-email-otp/deploy/local/seslocal"
)

// notVerified is SES's MessageRejected text for unverified identities in
// the test client's region.
const notVerified = "Email address is not verified. The following identities failed the check in region EU-WEST-1: "

// wantAPIError checks that err is the SES error code with HTTP status and
// exactly message, and that the SDK decoded it into typed.
func wantAPIError(t *testing.T, err error, status int, code, message string, typed any) {
	t.Helper()
	var apiErr smithy.APIError
	if !errors.As(err, &apiErr) {
		t.Fatalf("error = %v (%T), want API error %s", err, err, code)
	}
	if apiErr.ErrorCode() != code || apiErr.ErrorMessage() != message {
		t.Errorf("error = %s %q\nwant    %s %q", apiErr.ErrorCode(), apiErr.ErrorMessage(), code, message)
	}
	var respErr *awshttp.ResponseError
	if !errors.As(err, &respErr) || respErr.HTTPStatusCode() != status {
		t.Errorf("HTTP status = %v, want %d", respErr, status)
	}
	if typed != nil && !errors.As(err, typed) {
		t.Errorf("errors.As(%T) failed for %v", typed, err)
	}
}

func from(in *sesv2.SendEmailInput, addr string) *sesv2.SendEmailInput {
	in.FromEmailAddress = aws.String(addr)
	return in
}

func TestSenderMustBeVerified(t *testing.T) {
	domain := []string{"acme.test"}
	tests := []struct {
		name    string
		opts    seslocal.Options
		in      *sesv2.SendEmailInput
		wantErr string // "" accepted; else the exact MessageRejected text
	}{
		{name: "verified domain", opts: seslocal.Options{VerifiedIdentities: domain}, in: simple("rita@example.com", "x")},
		{name: "verified domain covers a subdomain", opts: seslocal.Options{VerifiedIdentities: domain},
			in: from(simple("rita@example.com", "x"), "otp@mail.eu.acme.test")},
		{name: "verified address", opts: seslocal.Options{VerifiedIdentities: []string{"no-reply@acme.test"}}, in: simple("rita@example.com", "x")},
		{name: "identities match without regard to case", opts: seslocal.Options{VerifiedIdentities: []string{"No-Reply@ACME.test"}},
			in: from(simple("rita@example.com", "x"), "NO-REPLY@acme.TEST")},
		{name: "a pending address inherits its verified domain", opts: seslocal.Options{Identities: []seslocal.Identity{
			{Name: "acme.test"}, {Name: "no-reply@acme.test", Status: seslocal.StatusPending}}}, in: simple("rita@example.com", "x")},
		{name: "unverified sender is named as written, display name and all", opts: seslocal.Options{VerifiedIdentities: []string{"other.test"}},
			in: simple("rita@example.com", "x"), wantErr: notVerified + "Acme Sign-in <no-reply@acme.test>"},
		{name: "a verified address does not cover its domain's other addresses", opts: seslocal.Options{VerifiedIdentities: []string{"otp@acme.test"}},
			in: simple("rita@example.com", "x"), wantErr: notVerified + "Acme Sign-in <no-reply@acme.test>"},
		{name: "a verified subdomain does not cover its parent", opts: seslocal.Options{VerifiedIdentities: []string{"mail.acme.test"}},
			in: from(simple("rita@example.com", "x"), "no-reply@acme.test"), wantErr: notVerified + "no-reply@acme.test"},
		{name: "a domain still pending verification", opts: seslocal.Options{Identities: []seslocal.Identity{{Name: "acme.test", Status: seslocal.StatusPending}}},
			in: simple("rita@example.com", "x"), wantErr: notVerified + "Acme Sign-in <no-reply@acme.test>"},
		{name: "a failed domain", opts: seslocal.Options{Identities: []seslocal.Identity{{Name: "acme.test", Status: seslocal.StatusFailed}}},
			in: simple("rita@example.com", "x"), wantErr: notVerified + "Acme Sign-in <no-reply@acme.test>"},
		{name: "the sandbox with no identity refuses the sender too", opts: seslocal.Options{Sandbox: true},
			in: simple("success@simulator.amazonses.com", "x"), wantErr: notVerified + "Acme Sign-in <no-reply@acme.test>"},
		{name: "a configuration set alone describes the account", opts: seslocal.Options{ConfigurationSets: []string{"otp"}},
			in: simple("rita@example.com", "x"), wantErr: notVerified + "Acme Sign-in <no-reply@acme.test>"},
		{name: "unverified feedback forwarding address", opts: seslocal.Options{VerifiedIdentities: domain},
			in: func() *sesv2.SendEmailInput {
				in := simple("rita@example.com", "x")
				in.FeedbackForwardingEmailAddress = aws.String("bounces@other.test")
				return in
			}(), wantErr: notVerified + "bounces@other.test"},
		{name: "identity ARN of a verified domain of this account", opts: seslocal.Options{VerifiedIdentities: domain},
			in: func() *sesv2.SendEmailInput {
				in := simple("rita@example.com", "x")
				in.FromEmailAddressIdentityArn = aws.String("arn:aws:ses:eu-west-1:000000000000:identity/acme.test")
				return in
			}()},
		{name: "identity ARN of another account", opts: seslocal.Options{VerifiedIdentities: domain},
			in: func() *sesv2.SendEmailInput {
				in := simple("rita@example.com", "x")
				in.FromEmailAddressIdentityArn = aws.String("arn:aws:ses:eu-west-1:123456789012:identity/acme.test")
				return in
			}(), wantErr: notVerified + "Acme Sign-in <no-reply@acme.test>"},
		{name: "identity ARN in another region", opts: seslocal.Options{VerifiedIdentities: domain},
			in: func() *sesv2.SendEmailInput {
				in := simple("rita@example.com", "x")
				in.FromEmailAddressIdentityArn = aws.String("arn:aws:ses:us-east-1:000000000000:identity/acme.test")
				return in
			}(), wantErr: notVerified + "Acme Sign-in <no-reply@acme.test>"},
		{name: "identity ARN that does not cover the From address", opts: seslocal.Options{VerifiedIdentities: []string{"acme.test", "other.test"}},
			in: func() *sesv2.SendEmailInput {
				in := simple("rita@example.com", "x")
				in.FromEmailAddressIdentityArn = aws.String("arn:aws:ses:eu-west-1:000000000000:identity/other.test")
				return in
			}(), wantErr: notVerified + "Acme Sign-in <no-reply@acme.test>"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			e := newSES(t, tc.opts)
			_, err := e.client.SendEmail(ctx(t), tc.in)
			if tc.wantErr == "" {
				if err != nil {
					t.Fatalf("SendEmail: %v", err)
				}
				return
			}
			wantAPIError(t, err, 400, "MessageRejected", tc.wantErr, new(*types.MessageRejected))
			if n := e.srv.Outbox().Count(); n != 0 {
				t.Errorf("outbox holds %d emails after a refused send", n)
			}
		})
	}
	t.Run("a malformed identity ARN is a bad request", func(t *testing.T) {
		e := newSES(t, seslocal.Options{VerifiedIdentities: domain})
		in := simple("rita@example.com", "x")
		in.FromEmailAddressIdentityArn = aws.String("acme.test")
		_, err := e.client.SendEmail(ctx(t), in)
		wantAPIError(t, err, 400, "BadRequestException", "Invalid identity ARN acme.test.", new(*types.BadRequestException))
	})
}

func TestConfigurationSets(t *testing.T) {
	acme := seslocal.Identity{Name: "acme.test"}
	tests := []struct {
		name       string
		opts       seslocal.Options
		set        string // ConfigurationSetName of the request
		wantSet    string // recorded in the outbox
		wantStatus int
		wantCode   string
		wantMsg    string
		typed      any
	}{
		{name: "a known set", opts: seslocal.Options{Identities: []seslocal.Identity{acme}, ConfigurationSets: []string{"otp"}}, set: "otp", wantSet: "otp"},
		{name: "an unknown set", opts: seslocal.Options{Identities: []seslocal.Identity{acme}, ConfigurationSets: []string{"otp"}}, set: "otp-events",
			wantStatus: 404, wantCode: "NotFoundException", wantMsg: "Configuration set <otp-events> does not exist.", typed: new(*types.NotFoundException)},
		{name: "names are case-sensitive", opts: seslocal.Options{Identities: []seslocal.Identity{acme}, ConfigurationSets: []string{"otp"}}, set: "OTP",
			wantStatus: 404, wantCode: "NotFoundException", wantMsg: "Configuration set <OTP> does not exist.", typed: new(*types.NotFoundException)},
		{name: "no sets listed: none exist", opts: seslocal.Options{Identities: []seslocal.Identity{acme}}, set: "otp",
			wantStatus: 404, wantCode: "NotFoundException", wantMsg: "Configuration set <otp> does not exist.", typed: new(*types.NotFoundException)},
		{name: "the domain's default set when the send names none",
			opts: seslocal.Options{Identities: []seslocal.Identity{{Name: "acme.test", ConfigurationSet: "otp"}}, ConfigurationSets: []string{"otp"}}, wantSet: "otp"},
		{name: "the address's default overrides its domain's", opts: seslocal.Options{Identities: []seslocal.Identity{
			{Name: "acme.test", ConfigurationSet: "otp"}, {Name: "no-reply@acme.test", ConfigurationSet: "otp-strict"}},
			ConfigurationSets: []string{"otp", "otp-strict"}}, wantSet: "otp-strict"},
		{name: "a named set overrides the default",
			opts: seslocal.Options{Identities: []seslocal.Identity{{Name: "acme.test", ConfigurationSet: "otp"}}, ConfigurationSets: []string{"otp", "other"}},
			set:  "other", wantSet: "other"},
		{name: "a default set that no longer exists fails the send",
			opts:       seslocal.Options{Identities: []seslocal.Identity{{Name: "acme.test", ConfigurationSet: "deleted"}}, ConfigurationSets: []string{"otp"}},
			wantStatus: 400, wantCode: "BadRequestException", wantMsg: "Configuration set <deleted> does not exist.", typed: new(*types.BadRequestException)},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			e := newSES(t, tc.opts)
			in := simple("rita@example.com", "x")
			if tc.set != "" {
				in.ConfigurationSetName = aws.String(tc.set)
			}
			out, err := e.client.SendEmail(ctx(t), in)
			if tc.wantCode != "" {
				wantAPIError(t, err, tc.wantStatus, tc.wantCode, tc.wantMsg, tc.typed)
				return
			}
			if err != nil {
				t.Fatalf("SendEmail: %v", err)
			}
			if got, _ := e.srv.Outbox().Get(aws.ToString(out.MessageId)); got.ConfigurationSet != tc.wantSet {
				t.Errorf("outbox ConfigurationSet = %q, want %q", got.ConfigurationSet, tc.wantSet)
			}
		})
	}
}

func TestSandboxRecipients(t *testing.T) {
	sandbox := seslocal.Options{VerifiedIdentities: []string{"acme.test", "rita@example.com", "verified.test"}, Sandbox: true, MaxSendRate: -1}
	tests := []struct {
		name         string
		opts         seslocal.Options
		to, cc, bcc  []string
		wantRejected string // exact MessageRejected text; "" accepted
	}{
		{name: "verified recipient address", opts: sandbox, to: []string{"rita@example.com"}},
		{name: "recipient at a verified domain and its subdomains", opts: sandbox, to: []string{"a@verified.test", "b@x.verified.test"}},
		{name: "simulator addresses, with and without labels", opts: sandbox,
			to: []string{"success@simulator.amazonses.com"}, cc: []string{"bounce+run-7@simulator.amazonses.com"}, bcc: []string{"ooto@simulator.amazonses.com"}},
		{name: "unverified To", opts: sandbox, to: []string{"sam@example.com"}, wantRejected: notVerified + "sam@example.com"},
		{name: "every unverified recipient is named, To, Cc then Bcc, as written", opts: sandbox,
			to: []string{"rita@example.com", "Sam <sam@example.com>"}, cc: []string{"cc@example.com"}, bcc: []string{"bcc@example.com"},
			wantRejected: notVerified + "Sam <sam@example.com>, cc@example.com, bcc@example.com"},
		{name: "an address at the simulator domain that is not a simulator scenario", opts: sandbox,
			to: []string{"nobody@simulator.amazonses.com"}, wantRejected: notVerified + "nobody@simulator.amazonses.com"},
		{name: "unverified sender and recipient together, the sender first",
			opts: seslocal.Options{VerifiedIdentities: []string{"other.test"}, Sandbox: true}, to: []string{"sam@example.com"},
			wantRejected: notVerified + "Acme Sign-in <no-reply@acme.test>, sam@example.com"},
		{name: "outside the sandbox anyone can receive", opts: seslocal.Options{VerifiedIdentities: []string{"acme.test"}},
			to: []string{"sam@example.com"}, bcc: []string{"nobody@simulator.amazonses.com"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			e := newSES(t, tc.opts)
			in := simple("x@example.com", "x")
			in.Destination = &types.Destination{ToAddresses: tc.to, CcAddresses: tc.cc, BccAddresses: tc.bcc}
			_, err := e.client.SendEmail(ctx(t), in)
			if tc.wantRejected == "" {
				if err != nil {
					t.Fatalf("SendEmail: %v", err)
				}
				return
			}
			wantAPIError(t, err, 400, "MessageRejected", tc.wantRejected, new(*types.MessageRejected))
		})
	}
}

func TestDeliveriesRecordEachRecipientsOutcome(t *testing.T) {
	e := newSES(t, seslocal.Options{})
	in := simple("rita@example.com", "x")
	in.Destination.CcAddresses = []string{"Bounce <bounce@simulator.amazonses.com>", "complaint+x@simulator.amazonses.com"}
	in.Destination.BccAddresses = []string{"suppressionlist@simulator.amazonses.com", "OOTO@Simulator.AmazonSES.com", "success@simulator.amazonses.com"}
	got, _ := e.srv.Outbox().Get(e.send(in))
	want := []seslocal.Delivery{
		{Recipient: "rita@example.com", Outcome: seslocal.OutcomeDelivered},
		{Recipient: "bounce@simulator.amazonses.com", Outcome: seslocal.OutcomeBounce, Simulated: true},
		{Recipient: "complaint+x@simulator.amazonses.com", Outcome: seslocal.OutcomeComplaint, Simulated: true},
		{Recipient: "suppressionlist@simulator.amazonses.com", Outcome: seslocal.OutcomeSuppressed, Simulated: true},
		{Recipient: "OOTO@Simulator.AmazonSES.com", Outcome: seslocal.OutcomeOOTO, Simulated: true},
		{Recipient: "success@simulator.amazonses.com", Outcome: seslocal.OutcomeDelivered, Simulated: true},
	}
	if !reflect.DeepEqual(got.Deliveries, want) {
		t.Errorf("Deliveries =\n%+v\nwant\n%+v", got.Deliveries, want)
	}
	if got.Simulator != "bounce" {
		t.Errorf("Simulator = %q, want the first scenario, bounce", got.Simulator)
	}
}

// clock is a settable time for the quota.
type clock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *clock) Add(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
}

func TestDailyQuota(t *testing.T) {
	c := &clock{now: time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)}
	e := newSES(t, seslocal.Options{VerifiedIdentities: []string{"acme.test"}, Max24HourSend: 3, Now: c.Now})
	two := simple("a@example.com", "x")
	two.Destination.CcAddresses = []string{"b@example.com", "success@simulator.amazonses.com"}
	e.send(two) // 2 counted: the simulator recipient is free
	c.Add(time.Hour)

	steps := []struct {
		name     string
		to       []string
		advance  time.Duration
		wantErr  bool
		wantSent float64
	}{
		{name: "a message that would pass the quota is refused whole", to: []string{"c@example.com", "d@example.com"}, wantErr: true, wantSent: 2},
		{name: "one recipient still fits", to: []string{"c@example.com"}, wantSent: 3},
		{name: "the quota is used up", to: []string{"e@example.com"}, wantErr: true, wantSent: 3},
		{name: "simulator recipients still go", to: []string{"bounce@simulator.amazonses.com"}, wantSent: 3},
		{name: "the first sends leave the window 24 hours after them", to: []string{"f@example.com"}, advance: 23 * time.Hour, wantSent: 2},
	}
	for _, st := range steps {
		t.Run(st.name, func(t *testing.T) {
			c.Add(st.advance)
			in := simple("x@example.com", "x")
			in.Destination = &types.Destination{ToAddresses: st.to}
			_, err := e.client.SendEmail(ctx(t), in)
			if st.wantErr {
				wantAPIError(t, err, 400, "LimitExceededException", "Daily message quota exceeded.", new(*types.LimitExceededException))
			} else if err != nil {
				t.Fatalf("SendEmail: %v", err)
			}
			acct, err := e.client.GetAccount(ctx(t), &sesv2.GetAccountInput{})
			if err != nil {
				t.Fatal(err)
			}
			if got := acct.SendQuota.SentLast24Hours; got != st.wantSent {
				t.Errorf("SentLast24Hours = %v, want %v", got, st.wantSent)
			}
		})
	}
}

func TestMaxSendRate(t *testing.T) {
	c := &clock{now: time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)}
	e := newSES(t, seslocal.Options{VerifiedIdentities: []string{"acme.test"}, MaxSendRate: 2, Now: c.Now})
	send := func() error {
		_, err := e.client.SendEmail(ctx(t), simple("success@simulator.amazonses.com", "x"))
		return err
	}
	for i := range 2 {
		if err := send(); err != nil {
			t.Fatalf("send %d of 2 in one second: %v", i+1, err)
		}
	}
	// Simulator recipients count toward the rate, as SES documents.
	wantAPIError(t, send(), 429, "TooManyRequestsException", "Maximum sending rate exceeded.", new(*types.TooManyRequestsException))
	c.Add(500 * time.Millisecond)
	if err := send(); err != nil {
		t.Fatalf("half a second later, one token is back: %v", err)
	}
	wantAPIError(t, send(), 429, "TooManyRequestsException", "Maximum sending rate exceeded.", new(*types.TooManyRequestsException))
}

func TestSandboxQuotaDefaults(t *testing.T) {
	c := &clock{now: time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)}
	e := newSES(t, seslocal.Options{VerifiedIdentities: []string{"acme.test"}, Sandbox: true, Now: c.Now})
	if _, err := e.client.SendEmail(ctx(t), simple("success@simulator.amazonses.com", "x")); err != nil {
		t.Fatal(err)
	}
	_, err := e.client.SendEmail(ctx(t), simple("success@simulator.amazonses.com", "x"))
	wantAPIError(t, err, 429, "TooManyRequestsException", "Maximum sending rate exceeded.", new(*types.TooManyRequestsException))
	if q := e.srv.SendQuota(); q != (seslocal.SendQuota{Max24HourSend: 200, MaxSendRate: 1}) {
		t.Errorf("sandbox SendQuota = %+v, want SES's 200 a day, 1 a second", q)
	}
}

func TestGetAccount(t *testing.T) {
	tests := []struct {
		name       string
		opts       seslocal.Options
		production bool
		sending    bool
		quota      types.SendQuota
	}{
		{"zero options", seslocal.Options{}, true, true, types.SendQuota{Max24HourSend: -1, MaxSendRate: -1}},
		{"sandbox", seslocal.Options{Sandbox: true}, false, true, types.SendQuota{Max24HourSend: 200, MaxSendRate: 1}},
		{"production with a quota", seslocal.Options{VerifiedIdentities: []string{"acme.test"}, Max24HourSend: 50000, MaxSendRate: 14}, true, true,
			types.SendQuota{Max24HourSend: 50000, MaxSendRate: 14}},
		{"sending paused", seslocal.Options{VerifiedIdentities: []string{"acme.test"}, SendingPaused: true}, true, false,
			types.SendQuota{Max24HourSend: -1, MaxSendRate: -1}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			e := newSES(t, tc.opts)
			out, err := e.client.GetAccount(ctx(t), &sesv2.GetAccountInput{})
			if err != nil {
				t.Fatal(err)
			}
			if out.ProductionAccessEnabled != tc.production || out.SendingEnabled != tc.sending || aws.ToString(out.EnforcementStatus) != "HEALTHY" ||
				out.DedicatedIpAutoWarmupEnabled {
				t.Errorf("ProductionAccessEnabled %v, SendingEnabled %v, EnforcementStatus %q, DedicatedIpAutoWarmupEnabled %v",
					out.ProductionAccessEnabled, out.SendingEnabled, aws.ToString(out.EnforcementStatus), out.DedicatedIpAutoWarmupEnabled)
			}
			if out.SendQuota == nil || *out.SendQuota != tc.quota {
				t.Errorf("SendQuota = %+v, want %+v", out.SendQuota, tc.quota)
			}
			if out.SuppressionAttributes == nil || !reflect.DeepEqual(out.SuppressionAttributes.SuppressedReasons,
				[]types.SuppressionListReason{types.SuppressionListReasonBounce, types.SuppressionListReasonComplaint}) {
				t.Errorf("SuppressionAttributes = %+v", out.SuppressionAttributes)
			}
		})
	}
	t.Run("SentLast24Hours counts accepted recipients", func(t *testing.T) {
		e := newSES(t, seslocal.Options{})
		in := simple("a@example.com", "x")
		in.Destination.BccAddresses = []string{"b@example.com"}
		e.send(in)
		out, err := e.client.GetAccount(ctx(t), &sesv2.GetAccountInput{})
		if err != nil || out.SendQuota.SentLast24Hours != 2 {
			t.Errorf("GetAccount = %+v, %v; want SentLast24Hours 2", out.SendQuota, err)
		}
	})
}

func TestSendingPaused(t *testing.T) {
	e := newSES(t, seslocal.Options{VerifiedIdentities: []string{"acme.test"}, SendingPaused: true})
	_, err := e.client.SendEmail(ctx(t), simple("rita@example.com", "x"))
	wantAPIError(t, err, 400, "SendingPausedException", "Sending is paused for this account.", new(*types.SendingPausedException))
}

func TestMailFromDomain(t *testing.T) {
	tests := []struct {
		name    string
		id      seslocal.Identity
		wantErr bool
	}{
		{"verified MAIL FROM domain", seslocal.Identity{Name: "acme.test", MailFromDomain: "bounce.acme.test"}, false},
		{"pending, falling back to amazonses.com", seslocal.Identity{Name: "acme.test", MailFromDomain: "bounce.acme.test", MailFromStatus: seslocal.StatusPending}, false},
		{"pending, REJECT_MESSAGE on MX failure", seslocal.Identity{Name: "acme.test", MailFromDomain: "bounce.acme.test", MailFromStatus: seslocal.StatusPending,
			MailFromRejectOnMXFailure: true}, true},
		{"failed, REJECT_MESSAGE on MX failure", seslocal.Identity{Name: "acme.test", MailFromDomain: "bounce.acme.test", MailFromStatus: seslocal.StatusFailed,
			MailFromRejectOnMXFailure: true}, true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			e := newSES(t, seslocal.Options{Identities: []seslocal.Identity{tc.id}})
			_, err := e.client.SendEmail(ctx(t), simple("rita@example.com", "x"))
			if !tc.wantErr {
				if err != nil {
					t.Fatalf("SendEmail: %v", err)
				}
				return
			}
			wantAPIError(t, err, 400, "MailFromDomainNotVerifiedException",
				"The message can't be sent because the MAIL FROM domain bounce.acme.test of identity acme.test isn't verified.",
				new(*types.MailFromDomainNotVerifiedException))
		})
	}
}

func TestGetEmailIdentity(t *testing.T) {
	e := newSES(t, seslocal.Options{
		Identities: []seslocal.Identity{
			{Name: "acme.test", ConfigurationSet: "otp", MailFromDomain: "bounce.acme.test", MailFromRejectOnMXFailure: true},
			{Name: "no-reply@acme.test"},
			{Name: "globex.test", Status: seslocal.StatusPending, DKIMSigningDisabled: true},
			{Name: "ops+alerts@initech.test", Status: seslocal.StatusPending},
		},
		VerifiedIdentities: []string{"verified.test"},
		ConfigurationSets:  []string{"otp"},
	})
	type dkim struct {
		signing bool
		status  types.DkimStatus
		tokens  int
	}
	tests := []struct {
		identity    string
		typ         types.IdentityType
		verified    bool
		status      types.VerificationStatus
		dkim        dkim
		configSet   string
		mailFrom    string
		mxBehaviour types.BehaviorOnMxFailure
	}{
		{"acme.test", types.IdentityTypeDomain, true, types.VerificationStatusSuccess, dkim{true, types.DkimStatusSuccess, 3}, "otp",
			"bounce.acme.test", types.BehaviorOnMxFailureRejectMessage},
		{"ACME.test", types.IdentityTypeDomain, true, types.VerificationStatusSuccess, dkim{true, types.DkimStatusSuccess, 3}, "otp",
			"bounce.acme.test", types.BehaviorOnMxFailureRejectMessage},
		{"no-reply@acme.test", types.IdentityTypeEmailAddress, true, types.VerificationStatusSuccess, dkim{true, types.DkimStatusSuccess, 3}, "",
			"", types.BehaviorOnMxFailureUseDefaultValue},
		{"globex.test", types.IdentityTypeDomain, false, types.VerificationStatusPending, dkim{false, types.DkimStatusPending, 3}, "",
			"", types.BehaviorOnMxFailureUseDefaultValue},
		{"ops+alerts@initech.test", types.IdentityTypeEmailAddress, false, types.VerificationStatusPending, dkim{false, types.DkimStatusNotStarted, 0}, "",
			"", types.BehaviorOnMxFailureUseDefaultValue},
		{"verified.test", types.IdentityTypeDomain, true, types.VerificationStatusSuccess, dkim{true, types.DkimStatusSuccess, 3}, "",
			"", types.BehaviorOnMxFailureUseDefaultValue},
	}
	for _, tc := range tests {
		t.Run(tc.identity, func(t *testing.T) {
			out, err := e.client.GetEmailIdentity(ctx(t), &sesv2.GetEmailIdentityInput{EmailIdentity: aws.String(tc.identity)})
			if err != nil {
				t.Fatal(err)
			}
			if out.IdentityType != tc.typ || out.VerifiedForSendingStatus != tc.verified || out.VerificationStatus != tc.status ||
				!out.FeedbackForwardingStatus || aws.ToString(out.ConfigurationSetName) != tc.configSet {
				t.Errorf("IdentityType %s, VerifiedForSendingStatus %v, VerificationStatus %s, FeedbackForwardingStatus %v, ConfigurationSetName %q",
					out.IdentityType, out.VerifiedForSendingStatus, out.VerificationStatus, out.FeedbackForwardingStatus, aws.ToString(out.ConfigurationSetName))
			}
			d := out.DkimAttributes
			if d == nil || d.SigningEnabled != tc.dkim.signing || d.Status != tc.dkim.status || len(d.Tokens) != tc.dkim.tokens ||
				d.SigningAttributesOrigin != types.DkimSigningAttributesOriginAwsSes {
				t.Errorf("DkimAttributes = %+v, want %+v", d, tc.dkim)
			}
			m := out.MailFromAttributes
			if m == nil || aws.ToString(m.MailFromDomain) != tc.mailFrom || m.BehaviorOnMxFailure != tc.mxBehaviour {
				t.Errorf("MailFromAttributes = %+v", m)
			}
			if out.Policies == nil || out.Tags == nil {
				t.Errorf("Policies %v and Tags %v should be present and empty", out.Policies, out.Tags)
			}
		})
	}
	t.Run("an unknown identity", func(t *testing.T) {
		_, err := e.client.GetEmailIdentity(ctx(t), &sesv2.GetEmailIdentityInput{EmailIdentity: aws.String("sam@example.com")})
		wantAPIError(t, err, 404, "NotFoundException", "Identity sam@example.com does not exist.", new(*types.NotFoundException))
	})
	t.Run("an address covered only by its verified domain is no identity of its own", func(t *testing.T) {
		_, err := e.client.GetEmailIdentity(ctx(t), &sesv2.GetEmailIdentityInput{EmailIdentity: aws.String("other@acme.test")})
		wantAPIError(t, err, 404, "NotFoundException", "Identity other@acme.test does not exist.", new(*types.NotFoundException))
	})
}

func TestListEmailIdentities(t *testing.T) {
	names := []string{"a.test", "b@a.test", "c.test", "d@c.test", "e.test"}
	var ids []seslocal.Identity
	for _, n := range names {
		ids = append(ids, seslocal.Identity{Name: n})
	}
	ids[4].Status = seslocal.StatusPending
	e := newSES(t, seslocal.Options{Identities: ids})

	list := func(t *testing.T, in *sesv2.ListEmailIdentitiesInput) ([]string, int) {
		t.Helper()
		var got []string
		pages := 0
		for p := sesv2.NewListEmailIdentitiesPaginator(e.client, in); p.HasMorePages(); {
			out, err := p.NextPage(ctx(t))
			if err != nil {
				t.Fatal(err)
			}
			pages++
			for _, id := range out.EmailIdentities {
				got = append(got, aws.ToString(id.IdentityName))
			}
		}
		return got, pages
	}
	tests := []struct {
		name      string
		in        *sesv2.ListEmailIdentitiesInput
		want      []string
		wantPages int
	}{
		{"one page by default", &sesv2.ListEmailIdentitiesInput{}, names, 1},
		{"pages of two", &sesv2.ListEmailIdentitiesInput{PageSize: aws.Int32(2)}, names, 3},
		{"a page size of exactly the count", &sesv2.ListEmailIdentitiesInput{PageSize: aws.Int32(5)}, names, 1},
		{"domains only", &sesv2.ListEmailIdentitiesInput{Filter: map[string]string{"IDENTITY_TYPE": "DOMAIN"}, PageSize: aws.Int32(1)},
			[]string{"a.test", "c.test", "e.test"}, 3},
		{"pending only", &sesv2.ListEmailIdentitiesInput{Filter: map[string]string{"VERIFICATION_STATUS": "PENDING"}}, []string{"e.test"}, 1},
		{"name contains", &sesv2.ListEmailIdentitiesInput{Filter: map[string]string{"IDENTITY_NAME_CONTAINS": "C.T"}}, []string{"c.test", "d@c.test"}, 1},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, pages := list(t, tc.in)
			if !reflect.DeepEqual(got, tc.want) || pages != tc.wantPages {
				t.Errorf("listed %v in %d pages, want %v in %d", got, pages, tc.want, tc.wantPages)
			}
		})
	}
	t.Run("identity info", func(t *testing.T) {
		out, err := e.client.ListEmailIdentities(ctx(t), &sesv2.ListEmailIdentitiesInput{PageSize: aws.Int32(2)})
		if err != nil {
			t.Fatal(err)
		}
		want := []types.IdentityInfo{
			{IdentityName: aws.String("a.test"), IdentityType: types.IdentityTypeDomain, SendingEnabled: true, VerificationStatus: types.VerificationStatusSuccess},
			{IdentityName: aws.String("b@a.test"), IdentityType: types.IdentityTypeEmailAddress, SendingEnabled: true, VerificationStatus: types.VerificationStatusSuccess},
		}
		if !reflect.DeepEqual(out.EmailIdentities, want) || out.NextToken == nil {
			t.Errorf("page = %+v, NextToken %v", out.EmailIdentities, out.NextToken)
		}
		last, err := e.client.ListEmailIdentities(ctx(t), &sesv2.ListEmailIdentitiesInput{Filter: map[string]string{"IDENTITY_NAME_CONTAINS": "e."}})
		if err != nil || len(last.EmailIdentities) != 1 || last.EmailIdentities[0].SendingEnabled ||
			last.EmailIdentities[0].VerificationStatus != types.VerificationStatusPending || last.NextToken != nil {
			t.Errorf("pending identity = %+v, NextToken %v, %v", last.EmailIdentities, last.NextToken, err)
		}
	})
	bad := []struct {
		name, msg string
		in        *sesv2.ListEmailIdentitiesInput
	}{
		{"page size above 1000", "PageSize must be between 0 and 1000, got 1001.", &sesv2.ListEmailIdentitiesInput{PageSize: aws.Int32(1001)}},
		{"a token it did not issue", "Invalid NextToken.", &sesv2.ListEmailIdentitiesInput{NextToken: aws.String("not base64!")}},
		{"an unknown filter key", "Invalid filter key NAME: valid keys are IDENTITY_NAME_CONTAINS, IDENTITY_TYPE and VERIFICATION_STATUS.",
			&sesv2.ListEmailIdentitiesInput{Filter: map[string]string{"NAME": "x"}}},
	}
	for _, tc := range bad {
		t.Run(tc.name, func(t *testing.T) {
			_, err := e.client.ListEmailIdentities(ctx(t), tc.in)
			wantAPIError(t, err, 400, "BadRequestException", tc.msg, new(*types.BadRequestException))
		})
	}
	t.Run("the older GET form with query parameters", func(t *testing.T) {
		var got []string
		token := ""
		for range 10 {
			url := e.url + "/v2/email/identities?PageSize=3"
			if token != "" {
				url += "&NextToken=" + token
			}
			var page struct {
				EmailIdentities []struct{ IdentityName string }
				NextToken       string
			}
			getSigned(t, url, &page)
			for _, id := range page.EmailIdentities {
				got = append(got, id.IdentityName)
			}
			if token = page.NextToken; token == "" {
				break
			}
		}
		if !reflect.DeepEqual(got, names) {
			t.Errorf("listed %v, want %v", got, names)
		}
	})
}

// getSigned GETs url with a SigV4 signature for ses and decodes the JSON
// answer into v.
func getSigned(t *testing.T, url string, v any) {
	t.Helper()
	req, err := http.NewRequestWithContext(ctx(t), http.MethodGet, url, nil)
	if err != nil {
		t.Fatal(err)
	}
	const emptySHA256 = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
	creds := aws.Credentials{AccessKeyID: "AKIDSESLOCALTEST", SecretAccessKey: "secret"}
	if err := v4.NewSigner().SignHTTP(ctx(t), creds, req, emptySHA256, "ses", "eu-west-1", time.Now()); err != nil {
		t.Fatal(err)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("GET %s: %s", url, resp.Status)
	}
	if err := json.NewDecoder(resp.Body).Decode(v); err != nil {
		t.Fatal(err)
	}
}

func TestGetConfigurationSet(t *testing.T) {
	e := newSES(t, seslocal.Options{ConfigurationSets: []string{"otp", "otp-events"}})
	out, err := e.client.GetConfigurationSet(ctx(t), &sesv2.GetConfigurationSetInput{ConfigurationSetName: aws.String("otp-events")})
	if err != nil {
		t.Fatal(err)
	}
	if aws.ToString(out.ConfigurationSetName) != "otp-events" || out.SendingOptions == nil || !out.SendingOptions.SendingEnabled ||
		out.ReputationOptions == nil || !out.ReputationOptions.ReputationMetricsEnabled || out.Tags == nil {
		t.Errorf("GetConfigurationSet = name %q, sending %+v, reputation %+v, tags %v",
			aws.ToString(out.ConfigurationSetName), out.SendingOptions, out.ReputationOptions, out.Tags)
	}
	_, err = e.client.GetConfigurationSet(ctx(t), &sesv2.GetConfigurationSetInput{ConfigurationSetName: aws.String("nope")})
	wantAPIError(t, err, 404, "NotFoundException", "Configuration set <nope> does not exist.", new(*types.NotFoundException))
}

func TestNewValidatesTheAccount(t *testing.T) {
	bad := []seslocal.Options{
		{VerifiedIdentities: []string{"not a domain"}},
		{VerifiedIdentities: []string{"Rita <rita@example.com>"}},
		{Identities: []seslocal.Identity{{Name: "acme.test", Status: "VERIFIED"}}},
		{Identities: []seslocal.Identity{{Name: "acme.test"}, {Name: "ACME.test"}}},
		{Identities: []seslocal.Identity{{Name: "acme.test", MailFromDomain: "bounce.other.test"}}},
		{Identities: []seslocal.Identity{{Name: "acme.test", MailFromRejectOnMXFailure: true}}},
		{Identities: []seslocal.Identity{{Name: "acme.test", ConfigurationSet: "has space"}}},
		{ConfigurationSets: []string{"otp/events"}},
	}
	for _, opts := range bad {
		if _, err := seslocal.New(opts); err == nil || !strings.HasPrefix(err.Error(), "seslocal: ") {
			t.Errorf("New(%+v) = %v, want a seslocal error", opts, err)
		}
	}
	if _, err := seslocal.New(seslocal.Options{VerifiedIdentities: []string{"acme.test", "acme.test"},
		Identities: []seslocal.Identity{{Name: "acme.test", DKIMSigningDisabled: true}}}); err != nil {
		t.Errorf("a name both verified and described: %v", err)
	}
}

func TestConcurrentSendsShareTheQuota(t *testing.T) {
	const senders, quota = 8, 20
	e := newSES(t, seslocal.Options{VerifiedIdentities: []string{"acme.test"}, Max24HourSend: quota})
	var wg sync.WaitGroup
	var mu sync.Mutex
	codes := map[string]int{}
	for range senders {
		wg.Go(func() {
			for range 5 {
				_, err := e.client.SendEmail(ctx(t), simple("rita@example.com", "x"))
				code := "ok"
				var apiErr smithy.APIError
				if errors.As(err, &apiErr) {
					code = apiErr.ErrorCode()
				} else if err != nil {
					code = err.Error()
				}
				mu.Lock()
				codes[code]++
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	if codes["ok"] != quota || codes["LimitExceededException"] != senders*5-quota || len(codes) != 2 {
		t.Errorf("outcomes %v, want %d sent and the rest LimitExceededException", codes, quota)
	}
	if n := e.srv.Outbox().Count(); n != quota {
		t.Errorf("outbox holds %d, want %d", n, quota)
	}
}
