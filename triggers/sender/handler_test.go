package sender_test

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"errors"
	"net/http/httptest"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/kms"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	sqstypes "github.com/aws/aws-sdk-go-v2/service/sqs/types"

	"github.com/cognito-email-otp/cognito-email-otp/deploy/local/awslocal"
	"github.com/cognito-email-otp/cognito-email-otp/deploy/local/kmslocal"
	"github.com/cognito-email-otp/cognito-email-otp/deploy/local/sqslocal"
	"github.com/cognito-email-otp/cognito-email-otp/mailer"
	"github.com/cognito-email-otp/cognito-email-otp/mailer/contract"
	"github.com/cognito-email-otp/cognito-email-otp/mailer/ops"
	"github.com/cognito-email-otp/cognito-email-otp/mailer/queue"
	"github.com/cognito-email-otp/cognito-email-otp/triggers/sender"
	"github.com/cognito-email-otp/cognito-email-otp/triggers/sender/ciphertext"
)

const (
	pool     = "us-east-1_Ab12Cd34E"
	code     = "493817"
	password = "Tq9#vL2p-first"
)

var now = time.Date(2026, 3, 2, 9, 30, 0, 0, time.UTC)

func fixture(t *testing.T, name string) sender.Event {
	t.Helper()
	var ev sender.Event
	if err := json.Unmarshal(readFixture(t, name), &ev); err != nil {
		t.Fatal(err)
	}
	return ev
}

func readFixture(t *testing.T, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", "custom-email-sender-"+name+".json"))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// TestFixturesRoundTrip: every event as Cognito sends it decodes into Event
// and encodes back field for field, nulls included.
func TestFixturesRoundTrip(t *testing.T) {
	files, _ := filepath.Glob("testdata/custom-email-sender-*.json")
	if len(files) != 8 {
		t.Fatalf("%d fixtures, want one per trigger source (8)", len(files))
	}
	sources := map[string]bool{}
	for _, f := range files {
		t.Run(filepath.Base(f), func(t *testing.T) {
			raw, _ := os.ReadFile(f)
			var ev sender.Event
			if err := json.Unmarshal(raw, &ev); err != nil {
				t.Fatal(err)
			}
			if _, ok := sender.KindOf(ev.TriggerSource); !ok {
				t.Errorf("fixture source %q has no kind", ev.TriggerSource)
			}
			sources[ev.TriggerSource] = true
			again, err := json.Marshal(ev)
			if err != nil {
				t.Fatal(err)
			}
			var want, got any
			_ = json.Unmarshal(raw, &want)
			_ = json.Unmarshal(again, &got)
			if !reflect.DeepEqual(want, got) {
				t.Errorf("re-encoded\n%s\nwant\n%s", again, raw)
			}
		})
	}
	if len(sources) != 8 {
		t.Errorf("fixtures cover %d distinct sources, want 8", len(sources))
	}
}

// rig is the sender against otp-local's KMS and SQS, with the real
// Encryption SDK.
type rig struct {
	kms            *kmslocal.Server
	kmsClient      *kms.Client
	keyARN, other  string
	sqs            *sqs.Client
	sendURL        string
	dlqURL         string
	logs           bytes.Buffer
	h              *sender.Handler
	encryptorCache map[string]*ciphertext.Encryptor
}

func newRig(t *testing.T, cfg sender.Config) *rig {
	t.Helper()
	r := &rig{encryptorCache: map[string]*ciphertext.Encryptor{}}
	var err error
	if r.kms, err = kmslocal.New(kmslocal.Options{}); err != nil {
		t.Fatal(err)
	}
	ks := httptest.NewServer(r.kms)
	t.Cleanup(ks.Close)
	if r.keyARN, err = r.kms.EnsureKey("alias/otp-custom-sender", "custom sender"); err != nil {
		t.Fatal(err)
	}
	if r.other, err = r.kms.EnsureKey("alias/another-pool", "another pool's key"); err != nil {
		t.Fatal(err)
	}
	r.kmsClient = kms.NewFromConfig(awslocal.Config(ks.URL), func(o *kms.Options) { o.RetryMaxAttempts = 1 })

	local := sqslocal.New(sqslocal.Options{})
	qs := httptest.NewServer(local)
	t.Cleanup(func() { local.Close(); qs.Close() })
	r.sqs = sqs.NewFromConfig(awslocal.Config(qs.URL), func(o *sqs.Options) { o.RetryMaxAttempts = 1 })
	for name, url := range map[string]*string{"otp-send": &r.sendURL, "otp-send-dlq": &r.dlqURL} {
		out, err := r.sqs.CreateQueue(t.Context(), &sqs.CreateQueueInput{QueueName: aws.String(name)})
		if err != nil {
			t.Fatal(err)
		}
		*url = aws.ToString(out.QueueUrl)
	}

	cfg.KMSKeyARN, cfg.QueueURL, cfg.DLQURL = r.keyARN, r.sendURL, r.dlqURL
	if cfg.InvitationValidDays == 0 {
		cfg.InvitationValidDays = 7
	}
	if cfg.MFACodeTTL == 0 {
		cfg.MFACodeTTL = 3 * time.Minute
	}
	if err := cfg.Validate(); err != nil {
		t.Fatal(err)
	}
	dec, err := ciphertext.NewDecrypter(r.kmsClient, ciphertext.DecrypterConfig{KeyARN: r.keyARN, UserPoolID: cfg.UserPoolID})
	if err != nil {
		t.Fatal(err)
	}
	r.h = sender.New(cfg, dec, queue.SQS{Client: r.sqs, URL: r.sendURL}, r.sqs, &r.logs)
	r.h.Now = func() time.Time { return now }
	return r
}

// encrypt makes request.code as Cognito does: the Encryption SDK under
// keyARN, with the pool in the encryption context.
func (r *rig) encrypt(t *testing.T, keyARN, poolID, plaintext string) string {
	t.Helper()
	enc, ok := r.encryptorCache[keyARN+poolID]
	if !ok {
		var err error
		if enc, err = ciphertext.NewEncryptor(r.kmsClient, ciphertext.EncryptorConfig{KeyARN: keyARN, UserPoolID: poolID}); err != nil {
			t.Fatal(err)
		}
		r.encryptorCache[keyARN+poolID] = enc
	}
	b64, err := enc.Encrypt(t.Context(), []byte(plaintext))
	if err != nil {
		t.Fatal(err)
	}
	return b64
}

func (r *rig) receive(t *testing.T, url string) []sqstypes.Message {
	t.Helper()
	out, err := r.sqs.ReceiveMessage(t.Context(), &sqs.ReceiveMessageInput{
		QueueUrl: aws.String(url), MaxNumberOfMessages: 10, MessageAttributeNames: []string{"All"},
	})
	if err != nil {
		t.Fatal(err)
	}
	return out.Messages
}

// logLines decodes the handler's JSON lines.
func (r *rig) logLines(t *testing.T) []map[string]any {
	t.Helper()
	var lines []map[string]any
	dec := json.NewDecoder(bytes.NewReader(r.logs.Bytes()))
	for dec.More() {
		var m map[string]any
		if err := dec.Decode(&m); err != nil {
			t.Fatalf("the log is not JSON lines: %v\n%s", err, r.logs.String())
		}
		lines = append(lines, m)
	}
	return lines
}

// sendOne hands the handler ev and returns the one send request it
// enqueued, and the message that carried it.
func (r *rig) sendOne(t *testing.T, ev sender.Event) (contract.SendRequest, sqstypes.Message) {
	t.Helper()
	if _, err := r.h.Handle(t.Context(), ev); err != nil {
		t.Fatalf("Handle: %v", err)
	}
	msgs := r.receive(t, r.sendURL)
	if len(msgs) != 1 {
		t.Fatalf("%d messages on the send queue, want 1", len(msgs))
	}
	req, err := contract.DecodeSendRequest([]byte(aws.ToString(msgs[0].Body)))
	if err != nil {
		t.Fatalf("queued body is no send request: %v", err)
	}
	return req, msgs[0]
}

// secretsOf are the strings of an event that must reach no log line and no
// dead letter: its secrets, its ciphertext, its links and full addresses.
func secretsOf(ev sender.Event, plaintext string) []string {
	out := []string{plaintext}
	if ev.Request.Code != nil && *ev.Request.Code != "" {
		c := *ev.Request.Code
		out = append(out, c, c[:min(40, len(c))])
	}
	for _, k := range []string{"email", "USER_NAME", "ONE_CLICK_LINK_VALID", "ONE_CLICK_LINK_INVALID", "FEEDBACK_TOKEN"} {
		if v := ev.Request.UserAttributes[k]; v != "" {
			out = append(out, v)
		}
	}
	return out
}

func assertNoSecret(t *testing.T, where, text string, secrets []string) {
	t.Helper()
	for _, s := range secrets {
		if s != "" && strings.Contains(text, s) {
			t.Errorf("%s contains a secret (%d characters): %s", where, len(s), text)
		}
	}
}

func TestEachSourceEnqueuesItsKind(t *testing.T) {
	tests := []struct {
		fixture   string
		plaintext string
		kind      contract.Kind
		to        string
		tenant    string
		locale    string
		lifetime  time.Duration
		username  string
	}{
		{"signup", code, contract.KindSignUpVerification, "rosa@example.com", "default", "es", 24 * time.Hour, ""},
		{"resend-code", code, contract.KindSignUpVerification, "rosa@example.com", "default", "es", 24 * time.Hour, ""},
		{"forgot-password", code, contract.KindPasswordReset, "rosa@example.com", "default", "es", time.Hour, ""},
		{"update-user-attribute", code, contract.KindAttributeVerification, "rosa.diaz@example.org", "globex", "es", 24 * time.Hour, ""},
		{"verify-user-attribute", code, contract.KindAttributeVerification, "rosa@example.com", "globex", "es", 24 * time.Hour, ""},
		{"admin-create-user", password, contract.KindInvitation, "rosa@example.com", "acme", "de-AT", 7 * 24 * time.Hour, "rosa@example.com"},
		{"authentication", code, contract.KindMFACode, "rosa@example.com", "default", "es", 3 * time.Minute, ""},
		{"account-takeover-notification", "", contract.KindAccountTakeover, "rosa@example.com", "default", "", 24 * time.Hour, ""},
	}
	r := newRig(t, sender.Config{})
	for _, tc := range tests {
		t.Run(tc.fixture, func(t *testing.T) {
			r.logs.Reset()
			ev := fixture(t, tc.fixture)
			if tc.plaintext != "" {
				b64 := r.encrypt(t, r.keyARN, ev.UserPoolID, tc.plaintext)
				ev.Request.Code = &b64
			}
			req, msg := r.sendOne(t, ev)
			if req.Kind != tc.kind || req.To != tc.to || req.Tenant != tc.tenant || req.Locale != tc.locale ||
				!req.IssuedAt.Equal(now) || !req.ExpiresAt.Equal(now.Add(tc.lifetime)) || req.Username != tc.username {
				t.Errorf("send request %v (username %q, issued %s, expires %s); want kind %s to %s tenant %s locale %q, expires after %s, username %q",
					req, req.Username, req.IssuedAt, req.ExpiresAt, tc.kind, tc.to, tc.tenant, tc.locale, tc.lifetime, tc.username)
			}
			switch tc.kind {
			case contract.KindInvitation:
				if req.TemporaryPassword.Reveal() != tc.plaintext || req.Code != "" {
					t.Error("the invitation does not carry the decrypted temporary password (and no code)")
				}
			case contract.KindAccountTakeover:
				tk := req.Takeover
				if tk == nil || tk.Action != "BLOCK" || tk.City != "Lisbon" || tk.IPAddress != "203.0.113.7" ||
					!tk.LoginTime.Equal(time.Date(2021, 3, 19, 14, 25, 0, 0, time.UTC)) ||
					tk.ThisWasMe.Reveal() != ev.Request.UserAttributes["ONE_CLICK_LINK_VALID"] ||
					tk.ThisWasNotMe.Reveal() != ev.Request.UserAttributes["ONE_CLICK_LINK_INVALID"] {
					t.Errorf("takeover %+v", tk)
				}
			default:
				if req.Code.Reveal() != tc.plaintext {
					t.Error("the send request does not carry the decrypted code")
				}
				if req.Name != "Rosa Díaz" {
					t.Errorf("name %q", req.Name)
				}
			}
			attrs := msg.MessageAttributes
			if aws.ToString(attrs[contract.AttrKind].StringValue) != string(tc.kind) || aws.ToString(attrs[contract.AttrTenant].StringValue) != tc.tenant {
				t.Errorf("message attributes %v", attrs)
			}
			if len(r.receive(t, r.dlqURL)) != 0 {
				t.Error("a dead letter for an event that was enqueued")
			}
			lines := r.logLines(t)
			if len(lines) != 1 {
				t.Fatalf("%d log lines, want one per event:\n%s", len(lines), r.logs.String())
			}
			l := lines[0]
			if l["outcome"] != sender.OutcomeEnqueued || l["kind"] != string(tc.kind) || l["tenant"] != tc.tenant ||
				l["request_id"] != req.ID || l["trigger_source"] != ev.TriggerSource || l["trigger"] != "sender" {
				t.Errorf("log line %v", l)
			}
			assertNoSecret(t, "the log", r.logs.String(), secretsOf(ev, tc.plaintext))
		})
	}
}

func TestRequestIDsAreUnique(t *testing.T) {
	r := newRig(t, sender.Config{})
	ids := map[string]bool{}
	for range 3 {
		ev := fixture(t, "signup")
		b64 := r.encrypt(t, r.keyARN, pool, code)
		ev.Request.Code = &b64
		if _, err := r.h.Handle(t.Context(), ev); err != nil {
			t.Fatal(err)
		}
	}
	for _, m := range r.receive(t, r.sendURL) {
		req, _ := contract.DecodeSendRequest([]byte(aws.ToString(m.Body)))
		ids[req.ID] = true
	}
	if len(ids) != 3 {
		t.Errorf("3 events got %d distinct request ids", len(ids))
	}
}

// flip alters the last byte of a message: its signature no longer holds.
func flip(b64 string) string {
	m, _ := base64.StdEncoding.DecodeString(b64)
	m[len(m)-1] ^= 0x01
	return base64.StdEncoding.EncodeToString(m)
}

func TestPermanentFailuresAreDeadLettered(t *testing.T) {
	tests := []struct {
		name    string
		cfg     sender.Config
		fixture string
		event   func(r *rig, t *testing.T, ev *sender.Event)
		reason  string
	}{
		{name: "unknown trigger source", fixture: "signup", reason: sender.ReasonUnknownSource,
			event: func(r *rig, t *testing.T, ev *sender.Event) {
				ev.TriggerSource = "CustomEmailSender_SomethingNew"
				b64 := r.encrypt(t, r.keyARN, pool, code)
				ev.Request.Code = &b64
			}},
		{name: "tampered ciphertext", fixture: "forgot-password", reason: "ciphertext_tampered",
			event: func(r *rig, t *testing.T, ev *sender.Event) {
				b64 := flip(r.encrypt(t, r.keyARN, pool, code))
				ev.Request.Code = &b64
			}},
		{name: "another key", fixture: "signup", reason: "ciphertext_wrong_key",
			event: func(r *rig, t *testing.T, ev *sender.Event) {
				b64 := r.encrypt(t, r.other, pool, code)
				ev.Request.Code = &b64
			}},
		{name: "a code from another pool's event", fixture: "authentication", reason: "ciphertext_wrong_pool",
			event: func(r *rig, t *testing.T, ev *sender.Event) {
				b64 := r.encrypt(t, r.keyARN, "us-east-1_Other0000", code)
				ev.Request.Code = &b64
			}},
		{name: "not base64", fixture: "signup", reason: "ciphertext_malformed",
			event: func(r *rig, t *testing.T, ev *sender.Event) {
				b64 := "not base64 at all: " + code
				ev.Request.Code = &b64
			}},
		{name: "no code", fixture: "admin-create-user", reason: sender.ReasonInvalidEvent,
			event: func(r *rig, t *testing.T, ev *sender.Event) { ev.Request.Code = nil }},
		{name: "no email attribute", fixture: "signup", reason: sender.ReasonInvalidEvent,
			event: func(r *rig, t *testing.T, ev *sender.Event) {
				delete(ev.Request.UserAttributes, "email")
				b64 := r.encrypt(t, r.keyARN, pool, code)
				ev.Request.Code = &b64
			}},
		{name: "takeover notice without an address", fixture: "account-takeover-notification", reason: sender.ReasonInvalidEvent,
			event: func(r *rig, t *testing.T, ev *sender.Event) { ev.Request.UserAttributes["USER_NAME"] = "rosa" }},
		{name: "takeover action Cognito does not have", fixture: "account-takeover-notification", reason: sender.ReasonInvalidEvent,
			event: func(r *rig, t *testing.T, ev *sender.Event) {
				ev.Request.UserAttributes["ACCOUNT_TAKE_OVER_ACTION"] = "PANIC"
			}},
		{name: "a decrypted code that is no code", fixture: "signup", reason: sender.ReasonInvalidEvent,
			event: func(r *rig, t *testing.T, ev *sender.Event) {
				b64 := r.encrypt(t, r.keyARN, pool, "12ab")
				ev.Request.Code = &b64
			}},
		{name: "an event from another pool", cfg: sender.Config{UserPoolID: "us-east-1_Configured"}, fixture: "signup", reason: sender.ReasonWrongPool,
			event: func(r *rig, t *testing.T, ev *sender.Event) {
				b64 := r.encrypt(t, r.keyARN, pool, code)
				ev.Request.Code = &b64
			}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r := newRig(t, tc.cfg)
			ev := fixture(t, tc.fixture)
			tc.event(r, t, &ev)
			if _, err := r.h.Handle(t.Context(), ev); err != nil {
				t.Fatalf("Handle returned %v; a permanent failure is dead-lettered and returns nil, or Lambda retries it for nothing", err)
			}
			if n := len(r.receive(t, r.sendURL)); n != 0 {
				t.Errorf("%d messages on the send queue, want none", n)
			}
			secrets := append(secretsOf(ev, code), password)
			q := ops.Queues{Client: r.sqs, SendQueue: r.sendURL, DeadLetterQueue: r.dlqURL, ShortPoll: true}
			dead, err := q.ListDeadLetters(t.Context(), 10, now)
			if err != nil {
				t.Fatal(err)
			}
			if len(dead) != 1 {
				t.Fatalf("%d dead letters, want 1", len(dead))
			}
			d := dead[0]
			if d.Reason != tc.reason || d.CodeState() != "removed" || d.RequestID == "" || d.Tenant == "" {
				t.Errorf("dead letter as otpctl lists it: reason %q (want %q), code %s (want removed), request %q, tenant %q",
					d.Reason, tc.reason, d.CodeState(), d.RequestID, d.Tenant)
			}
			raw, _ := json.Marshal(d)
			assertNoSecret(t, "the dead letter's listing", string(raw), secrets)
			assertNoSecret(t, "the log", r.logs.String(), secrets)
			if l := r.logLines(t); len(l) != 1 || l[0]["outcome"] != sender.OutcomeDeadLettered || l[0]["reason"] != tc.reason {
				t.Errorf("log lines %v", l)
			}
		})
	}
}

// TestDeadLetterBodiesHoldNoSecret reads the dead letter itself, not the
// listing's redacted form: the queue keeps it for 14 days.
func TestDeadLetterBodiesHoldNoSecret(t *testing.T) {
	r := newRig(t, sender.Config{})
	ev := fixture(t, "admin-create-user")
	b64 := flip(r.encrypt(t, r.keyARN, pool, password))
	ev.Request.Code = &b64
	if _, err := r.h.Handle(t.Context(), ev); err != nil {
		t.Fatal(err)
	}
	msgs := r.receive(t, r.dlqURL)
	if len(msgs) != 1 {
		t.Fatalf("%d dead letters", len(msgs))
	}
	m := msgs[0]
	var whole strings.Builder
	whole.WriteString(aws.ToString(m.Body))
	for k, v := range m.MessageAttributes {
		whole.WriteString(k + "=" + aws.ToString(v.StringValue) + "\n")
	}
	assertNoSecret(t, "the dead letter", whole.String(), secretsOf(ev, password))
	assertNoSecret(t, "the log", r.logs.String(), secretsOf(ev, password))
	attrs := m.MessageAttributes
	for name, want := range map[string]string{
		mailer.AttrReason: "ciphertext_tampered", mailer.AttrRedacted: "true", contract.AttrKind: "invitation",
		contract.AttrTenant: "acme", "otp_trigger_source": sender.SourceAdminCreateUser,
	} {
		if got := aws.ToString(attrs[name].StringValue); got != want {
			t.Errorf("attribute %s = %q, want %q", name, got, want)
		}
	}
	// When is the dead letter's own SentTimestamp, as otpctl reads it.
	if aws.ToString(attrs[mailer.AttrError].StringValue) == "" {
		t.Errorf("attributes %v lack why", attrs)
	}
	lines := r.logLines(t)
	if len(lines) != 1 || lines[0]["outcome"] != sender.OutcomeDeadLettered || lines[0]["reason"] != "ciphertext_tampered" {
		t.Errorf("log lines %v", lines)
	}
	// A redrive sends it to the mailer, which drops what has no secret.
	var body map[string]any
	if err := json.Unmarshal([]byte(aws.ToString(m.Body)), &body); err != nil || body["to"] != "r***@example.com" {
		t.Errorf("dead letter body %s: want JSON naming the masked address", aws.ToString(m.Body))
	}
}

func TestTransientFailuresReturnAnError(t *testing.T) {
	t.Run("KMS down", func(t *testing.T) {
		r := newRig(t, sender.Config{})
		ev := fixture(t, "signup")
		b64 := r.encrypt(t, r.keyARN, pool, code)
		ev.Request.Code = &b64
		r.kms.SetOutage(true)
		_, err := r.h.Handle(t.Context(), ev)
		if !errors.Is(err, sender.ErrRetry) {
			t.Fatalf("Handle = %v, want ErrRetry so that Lambda invokes it again", err)
		}
		if len(r.receive(t, r.sendURL))+len(r.receive(t, r.dlqURL)) != 0 {
			t.Error("a transient failure left a message")
		}
		assertNoSecret(t, "the error", err.Error(), secretsOf(ev, code))
		if l := r.logLines(t); len(l) != 1 || l[0]["outcome"] != sender.OutcomeRetry {
			t.Errorf("log lines %v", l)
		}
		r.kms.SetOutage(false)
		if _, err := r.h.Handle(t.Context(), ev); err != nil {
			t.Fatalf("the retry: %v", err)
		}
		if len(r.receive(t, r.sendURL)) != 1 {
			t.Error("the retry enqueued nothing")
		}
	})
	t.Run("send queue unreachable", func(t *testing.T) {
		r := newRig(t, sender.Config{})
		r.h.Queue = queue.SQS{Client: r.sqs, URL: r.sendURL + "-gone"}
		ev := fixture(t, "forgot-password")
		b64 := r.encrypt(t, r.keyARN, pool, code)
		ev.Request.Code = &b64
		_, err := r.h.Handle(t.Context(), ev)
		if !errors.Is(err, sender.ErrRetry) {
			t.Fatalf("Handle = %v, want ErrRetry", err)
		}
		assertNoSecret(t, "the log", r.logs.String(), secretsOf(ev, code))
	})
	t.Run("dead-letter queue unreachable", func(t *testing.T) {
		r := newRig(t, sender.Config{})
		r.h.Config.DLQURL = r.dlqURL + "-gone"
		ev := fixture(t, "signup")
		ev.TriggerSource = "CustomEmailSender_SomethingNew"
		if _, err := r.h.Handle(t.Context(), ev); !errors.Is(err, sender.ErrRetry) {
			t.Fatalf("Handle = %v: an event neither sent nor dead-lettered must be retried, not lost", err)
		}
	})
}

// TestEventVariants: what else Cognito may put in an event.
func TestEventVariants(t *testing.T) {
	r := newRig(t, sender.Config{})
	t.Run("a takeover notice without city, country or device", func(t *testing.T) {
		raw := strings.NewReplacer(`"Lisbon"`, "null", `"Portugal"`, "null", `"Opera 74, Linux"`, "null").
			Replace(string(readFixture(t, "account-takeover-notification")))
		var ev sender.Event
		if err := json.Unmarshal([]byte(raw), &ev); err != nil {
			t.Fatal(err)
		}
		if req, _ := r.sendOne(t, ev); req.Takeover.City != "" || req.Takeover.Device != "" || req.Takeover.Action != "BLOCK" {
			t.Errorf("takeover %+v", req.Takeover)
		}
	})
	t.Run("an invitation in a pool with usernames of its own", func(t *testing.T) {
		ev := fixture(t, "admin-create-user")
		ev.UserName = "rosa.diaz"
		b64 := r.encrypt(t, r.keyARN, pool, password)
		ev.Request.Code = &b64
		if req, _ := r.sendOne(t, ev); req.Username != "rosa.diaz" {
			t.Errorf("username %q, want the userName the user signs in with", req.Username)
		}
	})
	t.Run("a tenant from the app client", func(t *testing.T) {
		r := newRig(t, sender.Config{Tenants: map[string]string{"4abcdefghij5klmnop6qrstuvw": "acme"}})
		ev := fixture(t, "update-user-attribute") // custom:tenant globex; the client's map wins
		b64 := r.encrypt(t, r.keyARN, pool, code)
		ev.Request.Code = &b64
		if req, _ := r.sendOne(t, ev); req.Tenant != "acme" {
			t.Errorf("tenant %q, want the app client's", req.Tenant)
		}
	})
}
