package reliability

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sqs"

	"github.com/cognito-email-otp/cognito-email-otp/deploy/local/awslocal"
	"github.com/cognito-email-otp/cognito-email-otp/deploy/local/otplocal"
	"github.com/cognito-email-otp/cognito-email-otp/deploy/local/seslocal"
	"github.com/cognito-email-otp/cognito-email-otp/mailer/contract"
)

// sqsMaxBody is SQS's message size limit: 1 MiB (body and attributes)
// since 2025, the default for a new queue.
const sqsMaxBody = 1 << 20

// TestPoisonMessagesEndInTheDLQWithAReason puts every kind of bad send
// request on the queue between good ones, through the real mailer binary.
// Each bad one must end in the DLQ with its reason, or be sent through the
// documented fallback; none may crash a batch or hold up the good ones.
func TestPoisonMessagesEndInTheDLQWithAReason(t *testing.T) {
	bin := binaries(t)
	sys := start(t, otplocal.Options{FunctionsDir: bin, Instances: 2, QueueVisibility: time.Second,
		SESRejectRecipients: []string{"@suppressed.otp-local.example"}})

	valid := func(id string, change func(*contract.SendRequest)) string {
		now := time.Now()
		r := contract.SendRequest{V: contract.SendRequestVersion, Kind: contract.KindSignInCode, ID: id, Tenant: "acme", Locale: "en",
			To: id + "@poison.otp-local.example", Name: "Pat", Code: "424242", IssuedAt: now, ExpiresAt: now.Add(5 * time.Minute)}
		if change != nil {
			change(&r)
		}
		b, err := json.Marshal(r)
		if err != nil {
			t.Fatal(err)
		}
		return string(b)
	}
	// padded pads a request's name until its body is n bytes.
	padded := func(id string, n int) string {
		b := valid(id, nil)
		return strings.Replace(b, `"name":"Pat"`, `"name":"`+strings.Repeat("A", n-len(b)+len(`"Pat"`)-2)+`"`, 1)
	}

	tests := []struct {
		name, body string
		// want is the DLQ reason, or "sent" for a documented fallback.
		want  string
		check func(t *testing.T, e seslocal.Email)
	}{
		{"malformed JSON", `{"v":1,"id":"broken"`, "malformed", nil},
		{"not JSON at all", `<?xml version="1.0"?><sendRequest code="123456"/>`, "malformed", nil},
		{"unknown version", strings.Replace(valid("v99", nil), `"v":2`, `"v":99`, 1), "unknown_version", nil},
		{"unknown kind", valid("newsletter", func(r *contract.SendRequest) { r.Kind = "newsletter" }), "unknown_kind", nil},
		{"a kind no mailer knows, with a temporary password", valid("invite", func(r *contract.SendRequest) {
			r.Kind, r.Code, r.Username, r.TemporaryPassword = "welcome_gift", "", "pat", "Tmp-424242-pw"
		}), "unknown_kind", nil},
		{"missing recipient", valid("noto", func(r *contract.SendRequest) { r.To = "" }), "invalid_recipient", nil},
		{"missing code", valid("nocode", func(r *contract.SendRequest) { r.Code = "" }), "invalid_request", nil},
		{"line break in the name", valid("crlfname", func(r *contract.SendRequest) { r.Name = "Pat\r\nBcc: x@evil.example" }), "invalid_request", nil},
		{"header injection in the recipient", valid("crlfto", func(r *contract.SendRequest) { r.To = "a@poison.otp-local.example\r\nBcc: x@evil.example" }), "invalid_recipient", nil},
		{"two recipients", valid("twoto", func(r *contract.SendRequest) { r.To = "a@poison.otp-local.example, b@poison.otp-local.example" }), "invalid_recipient", nil},
		{"path in the locale", valid("pathlocale", func(r *contract.SendRequest) { r.Locale = "../../etc/passwd" }), "invalid_request", nil},
		{"path in the tenant", valid("pathtenant", func(r *contract.SendRequest) { r.Tenant = "../acme" }), "invalid_request", nil},
		{"256 KB body", padded("big", 256_000), "invalid_request", nil},
		// At SQS's limit the mailer cannot copy the message to the DLQ
		// with its reason attributes (they count against the same limit),
		// so it is redelivered until the queue's redrive policy moves it.
		{"body at SQS's 1 MiB limit", padded("huge", sqsMaxBody), "max_receives", nil},
		{"SES rejects the recipient", valid("suppressed", func(r *contract.SendRequest) { r.To = "someone@suppressed.otp-local.example" }), "rejected", nil},
		{"unknown tenant: the default set", valid("unknowntenant", func(r *contract.SendRequest) { r.Tenant = "nosuchtenant" }), "sent",
			func(t *testing.T, e seslocal.Email) {
				if !strings.Contains(e.Text, "424242") || e.Tenant != "nosuchtenant" {
					t.Errorf("tenant %q, text %q", e.Tenant, e.Text)
				}
			}},
		{"unknown locale: the set's default", valid("unknownlocale", func(r *contract.SendRequest) { r.Locale = "tlh-Piqd" }), "sent",
			func(t *testing.T, e seslocal.Email) {
				if !strings.Contains(e.Subject, "Acme") {
					t.Errorf("subject %q, want the acme set's English", e.Subject)
				}
			}},
		{"hostile name: escaped", valid("scriptname", func(r *contract.SendRequest) { r.Name = `<script>alert("x")</script> & <b>` }), "sent",
			func(t *testing.T, e seslocal.Email) {
				if strings.Contains(e.HTML, "<script>") || !strings.Contains(e.HTML, "&lt;script&gt;") {
					t.Error("the name's markup reached the HTML unescaped")
				}
			}},
		{"version 1 body from a trigger deployed before kinds: sent as a sign-in code",
			strings.Replace(strings.Replace(valid("version1", nil), `"v":2`, `"v":1`, 1), `"kind":"signin_code",`, "", 1), "sent",
			func(t *testing.T, e seslocal.Email) {
				if !strings.Contains(e.Text, "424242") {
					t.Errorf("text %q lacks the code", e.Text)
				}
			}},
		{"invalid UTF-8 in the name: replaced", strings.Replace(valid("badutf8", nil), `"name":"Pat"`, `"name":"Pat \ud800 \udfff"`, 1), "sent",
			func(t *testing.T, e seslocal.Email) {
				if !strings.Contains(e.Text, "Pat") {
					t.Errorf("text %q", e.Text)
				}
			}},
	}

	client := sqs.NewFromConfig(awslocal.Config(sys.URL))
	queue := aws.String(sys.Queues().SendQueue)
	var good []contract.SendRequest
	for i, tc := range tests {
		if _, err := client.SendMessage(t.Context(), &sqs.SendMessageInput{QueueUrl: queue, MessageBody: aws.String(tc.body)}); err != nil {
			t.Fatalf("%s: enqueue: %v", tc.name, err)
		}
		// Good requests between the bad ones share their batches.
		for j := range 3 {
			r := requests(1, 0)[0]
			r.ID, r.To = fmt.Sprintf("good-%02d-%d", i, j), fmt.Sprintf("good-%02d-%d@poison.otp-local.example", i, j)
			good = append(good, r)
		}
	}
	if err := enqueue(t.Context(), sys, good); err != nil {
		t.Fatal(err)
	}
	waitDrained(t, sys, 2*time.Minute)

	l := account(t, sys)
	for _, r := range good {
		if l.sent[r.ID] != 1 {
			t.Errorf("good request %s sent %d times", r.ID, l.sent[r.ID])
		}
	}
	dls, err := sys.Queues().ListDeadLetters(context.Background(), 1000, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	byRequest := map[string]string{}
	got := map[string]int{}
	for _, d := range dls {
		got[d.Reason]++
		if d.RequestID != "" {
			byRequest[d.RequestID] = d.Reason
		}
	}
	want := map[string]int{}
	outbox := sys.SES.Outbox()
	for _, tc := range tests {
		var id struct{ ID string }
		_ = json.Unmarshal([]byte(tc.body), &id)
		if tc.want != "sent" {
			want[tc.want]++
		}
		t.Run(tc.name, func(t *testing.T) {
			if tc.want == "sent" {
				if l.sent[id.ID] != 1 {
					t.Fatalf("sent %d times, want once through the fallback", l.sent[id.ID])
				}
				tc.check(t, outbox.List(seslocal.Filter{To: id.ID + "@poison.otp-local.example"})[0])
				return
			}
			if l.sent[id.ID] > 0 {
				t.Errorf("sent %d times", l.sent[id.ID])
			}
			if reason, ok := byRequest[id.ID]; id.ID != "" && ok && reason != tc.want {
				t.Errorf("dead-lettered as %q, want %q", reason, tc.want)
			}
		})
	}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("DLQ reasons %v, want %v", got, want)
	}
}
