package feedback

import (
	"bytes"
	"context"
	"encoding/json"
	"flag"
	"log/slog"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"

	"github.com/cognito-email-otp/cognito-email-otp/internal/pseudonym"
	"github.com/cognito-email-otp/cognito-email-otp/triggers"
)

var update = flag.Bool("update", false, "rewrite testdata/golden")

var testKey = []byte("0123456789abcdef0123456789abcdef")

// sameJSON reports whether two documents hold the same values.
func sameJSON(t *testing.T, a, b []byte) bool {
	t.Helper()
	var x, y any
	if err := json.Unmarshal(a, &x); err != nil {
		t.Fatalf("decode %s: %v", a, err)
	}
	if err := json.Unmarshal(b, &y); err != nil {
		t.Fatalf("decode %s: %v", b, err)
	}
	return reflect.DeepEqual(x, y)
}

func fixtures(t *testing.T) []string {
	t.Helper()
	files, err := filepath.Glob("testdata/sns-*.json")
	if err != nil || len(files) < 15 {
		t.Fatalf("fixtures: %v, %d files", err, len(files))
	}
	return files
}

func load(t *testing.T, file string) (raw []byte, ev events.SNSEvent) {
	t.Helper()
	raw, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(raw, &ev); err != nil {
		t.Fatalf("%s: %v", file, err)
	}
	return raw, ev
}

// TestFixturesRoundTrip: every fixture, an SNS event as Lambda receives it
// with an SES event record as its message, decodes and re-encodes without
// losing a field, the envelope with aws-lambda-go's events.SNSEvent and
// the record with Event.
func TestFixturesRoundTrip(t *testing.T) {
	for _, file := range fixtures(t) {
		t.Run(filepath.Base(file), func(t *testing.T) {
			raw, ev := load(t, file)
			again, err := json.Marshal(ev)
			if err != nil {
				t.Fatal(err)
			}
			if !sameJSON(t, raw, again) {
				t.Errorf("the SNS envelope changed:\n got %s\nwant %s", again, raw)
			}
			if strings.Contains(file, "malformed") {
				return
			}
			msg := []byte(ev.Records[0].SNS.Message)
			var e Event
			if err := json.Unmarshal(msg, &e); err != nil {
				t.Fatal(err)
			}
			out, err := json.Marshal(e)
			if err != nil {
				t.Fatal(err)
			}
			if !sameJSON(t, msg, out) {
				t.Errorf("the SES record changed:\n got %s\nwant %s", out, msg)
			}
		})
	}
}

// run handles one fixture and returns the lines written, the time field
// removed (the golden files would change every run).
func run(t *testing.T, ev events.SNSEvent) (logs []map[string]any, emf []map[string]any, out []byte) {
	t.Helper()
	var buf bytes.Buffer
	keys, err := triggers.NewKeyring(testKey, nil)
	if err != nil {
		t.Fatal(err)
	}
	now := time.Date(2026, 12, 2, 14, 3, 11, 0, time.UTC)
	h := &Handler{Keys: keys, Metrics: NewMetrics(&buf, "CognitoEmailOTP"), Now: func() time.Time { return now },
		Log: slog.New(slog.NewJSONHandler(&buf, &slog.HandlerOptions{ReplaceAttr: func(_ []string, a slog.Attr) slog.Attr {
			if a.Key == slog.TimeKey {
				return slog.Attr{}
			}
			return a
		}}))}
	if err := h.Handle(context.Background(), ev); err != nil {
		t.Fatalf("Handle: %v (a record must never make SNS redeliver)", err)
	}
	for _, line := range bytes.Split(bytes.TrimSpace(buf.Bytes()), []byte("\n")) {
		var m map[string]any
		if err := json.Unmarshal(line, &m); err != nil {
			t.Fatalf("not JSON: %s", line)
		}
		if _, ok := m["_aws"]; ok {
			emf = append(emf, m)
		} else {
			logs = append(logs, m)
		}
	}
	return logs, emf, buf.Bytes()
}

// TestHandleGolden: each fixture's log and EMF lines, as golden files
// (go test -run TestHandleGolden -update rewrites them).
func TestHandleGolden(t *testing.T) {
	for _, file := range fixtures(t) {
		name := strings.TrimSuffix(filepath.Base(file), ".json")
		t.Run(name, func(t *testing.T) {
			_, ev := load(t, file)
			_, _, out := run(t, ev)
			golden := filepath.Join("testdata", "golden", name+".jsonl")
			if *update {
				if err := os.MkdirAll(filepath.Dir(golden), 0o755); err != nil {
					t.Fatal(err)
				}
				if err := os.WriteFile(golden, out, 0o644); err != nil {
					t.Fatal(err)
				}
			}
			want, err := os.ReadFile(golden)
			if err != nil {
				t.Fatalf("%v (run with -update)", err)
			}
			if !bytes.Equal(out, want) {
				t.Errorf("output changed (-update to accept):\n got %s\nwant %s", out, want)
			}
		})
	}
}

// emfMetrics is each metric of the EMF lines with its value and the
// dimension sets it is published under, "Name[dim,dim|]" style:
// "Bounced{bounce_type,tenant}" -> value.
func emfMetrics(t *testing.T, lines []map[string]any) map[string]any {
	t.Helper()
	out := map[string]any{}
	for _, l := range lines {
		aws := l["_aws"].(map[string]any)
		for _, d := range aws["CloudWatchMetrics"].([]any) {
			dir := d.(map[string]any)
			if dir["Namespace"] != "CognitoEmailOTP" {
				t.Errorf("namespace %v", dir["Namespace"])
			}
			var sets []string
			for _, ds := range dir["Dimensions"].([]any) {
				var names []string
				for _, n := range ds.([]any) {
					names = append(names, n.(string))
				}
				sets = append(sets, "["+strings.Join(names, ",")+"]")
			}
			for _, m := range dir["Metrics"].([]any) {
				name := m.(map[string]any)["Name"].(string)
				out[name+strings.Join(sets, "")] = l[name]
			}
		}
	}
	return out
}

// TestHandleEvents: what each event type counts, per tenant and for the
// account, and what its log line says; the names are the ones the stack's
// alarms and otp-local's health lines read.
func TestHandleEvents(t *testing.T) {
	hash := pseudonym.ToHash(testKey, "recipient@example.com")
	tests := []struct {
		fixture string
		metrics map[string]any
		log     map[string]any
	}{
		{"send", map[string]any{"Sent[tenant][]": 1.0},
			map[string]any{"msg": "ses event", "event": "Send", "outcome": "sent", "level": "INFO"}},
		{"delivery", map[string]any{"Delivered[tenant][]": 1.0, "BounceRate[tenant][]": 0.0, "ComplaintRate[tenant][]": 0.0,
			"TimeToDelivery[tenant][]": 12232.0},
			map[string]any{"outcome": "delivered", "time_to_delivery_ms": 12232.0, "time_to_delivery_from": "issued_at",
				"smtp_response": "250 2.6.0 Message received"}},
		{"delivery-no-issued-at", map[string]any{"Delivered[tenant][]": 1.0, "BounceRate[tenant][]": 0.0, "ComplaintRate[tenant][]": 0.0,
			"TimeToDelivery[tenant][]": 11893.0},
			map[string]any{"outcome": "delivered", "time_to_delivery_ms": 11893.0, "time_to_delivery_from": "ses_accepted"}},
		{"bounce", map[string]any{"Bounced[tenant,bounce_type][bounce_type]": 1.0, "BounceRate[tenant][]": 1.0},
			map[string]any{"outcome": "bounced", "bounce_type": "Permanent", "bounce_sub_type": "General", "smtp_status": "5.1.1",
				"diagnostic": "smtp; 550 5.1.1 <r***@example.com>: user unknown", "level": "WARN"}},
		{"bounce-transient", map[string]any{"Bounced[tenant,bounce_type][bounce_type]": 1.0, "BounceRate[tenant][]": 0.0},
			map[string]any{"outcome": "bounced", "bounce_type": "Transient", "bounce_sub_type": "MailboxFull"}},
		{"bounce-suppressed", map[string]any{"Suppressed[tenant][]": 1.0},
			map[string]any{"outcome": "suppressed", "bounce_type": "Permanent", "bounce_sub_type": "OnAccountSuppressionList"}},
		{"complaint", map[string]any{"Complained[tenant][]": 1.0, "ComplaintRate[tenant][]": 1.0},
			map[string]any{"outcome": "complained", "complaint_feedback_type": "abuse"}},
		{"delivery-delay", map[string]any{"Delayed[tenant][]": 1.0},
			map[string]any{"outcome": "delayed", "delay_type": "TransientCommunicationFailure", "smtp_status": "4.4.1"}},
		{"reject", map[string]any{"Rejected[tenant][]": 1.0}, map[string]any{"outcome": "rejected", "reject_reason": "Bad content"}},
		{"rendering-failure", map[string]any{"RenderingFailed[tenant][]": 1.0},
			map[string]any{"outcome": "rendering_failed", "event": "Rendering Failure", "level": "ERROR"}},
		{"open", map[string]any{"Ignored[reason][]": 1.0},
			map[string]any{"msg": "ses event ignored", "outcome": "ignored", "reason": "untracked_event", "event": "Open"}},
		{"click", map[string]any{"Ignored[reason][]": 1.0}, map[string]any{"reason": "untracked_event", "event": "Click"}},
		{"subscription", map[string]any{"Ignored[reason][]": 1.0}, map[string]any{"reason": "untracked_event", "event": "Subscription"}},
		{"send-no-tags", map[string]any{"Ignored[reason][]": 1.0}, map[string]any{"reason": "no_tags", "event": "Send"}},
		{"malformed", map[string]any{"Ignored[reason][]": 1.0}, map[string]any{"reason": "malformed", "sns_message_id": "95df01b4-ee98-5cb9-9903-4c221d41eb5e"}},
	}
	for _, tc := range tests {
		t.Run(tc.fixture, func(t *testing.T) {
			_, ev := load(t, "testdata/sns-"+tc.fixture+".json")
			logs, emf, out := run(t, ev)
			if got := emfMetrics(t, emf); !reflect.DeepEqual(got, tc.metrics) {
				t.Errorf("metrics\n got %v\nwant %v", got, tc.metrics)
			}
			if len(logs) != 1 {
				t.Fatalf("%d log lines, want one per event: %s", len(logs), out)
			}
			l := logs[0]
			for k, v := range tc.log {
				if l[k] != v {
					t.Errorf("log %s = %v, want %v", k, l[k], v)
				}
			}
			if l["outcome"] != "ignored" {
				// Matched to the send request by the mailer's tags.
				want := map[string]any{"tenant": "acme", "request_id": "0a1b2c3d4e5f60718293a4b5c6d7e8f9", "template_set": "acme",
					"template_version": "b73dfb87f77e83ef", "locale": "en", "kind": "signin_code", "to_hash": hash,
					"ses_message_id": "EXAMPLE7c191be45-e9aedb9a-02f9-4d12-a87d-dd0099a07f8a-000000",
					"sns_message_id": "95df01b4-ee98-5cb9-9903-4c221d41eb5e"}
				for k, v := range want {
					if l[k] != v {
						t.Errorf("log %s = %v, want %v", k, l[k], v)
					}
				}
				for _, m := range emf {
					if m["tenant"] != "acme" {
						t.Errorf("EMF tenant %v", m["tenant"])
					}
				}
			} else if l["tenant"] != nil || l["to_hash"] != nil {
				t.Errorf("an ignored record names no tenant or recipient: %v", l)
			}
			if bytes.Contains(bytes.ToLower(out), []byte("recipient@example.com")) {
				t.Errorf("the full address reached the output: %s", out)
			}
		})
	}
}

// TestHandleEdges: SES's other readings, made from the fixtures.
func TestHandleEdges(t *testing.T) {
	edit := func(fixture string, change func(*Event)) events.SNSEvent {
		_, ev := load(t, "testdata/sns-"+fixture+".json")
		var e Event
		if err := json.Unmarshal([]byte(ev.Records[0].SNS.Message), &e); err != nil {
			t.Fatal(err)
		}
		change(&e)
		b, _ := json.Marshal(e)
		ev.Records[0].SNS.Message = string(b)
		return ev
	}
	sub := SubAccountList
	tests := []struct {
		name    string
		ev      events.SNSEvent
		metrics map[string]any
		outcome string
	}{
		{"an undetermined bounce counts as hard (the stricter reading)", edit("bounce", func(e *Event) {
			e.Bounce.BounceType, e.Bounce.BounceSubType = BounceUndetermined, BounceUndetermined
		}), map[string]any{"Bounced[tenant,bounce_type][bounce_type]": 1.0, "BounceRate[tenant][]": 1.0}, "bounced"},
		{"SES's global suppression list: suppressed, and still a hard bounce", edit("bounce", func(e *Event) {
			e.Bounce.BounceSubType = SubSuppressed
		}), map[string]any{"Suppressed[tenant][]": 1.0, "Bounced[tenant,bounce_type][bounce_type]": 1.0, "BounceRate[tenant][]": 1.0}, "suppressed"},
		{"a complaint SES never sent (on the account's list)", edit("complaint", func(e *Event) {
			e.Complaint.ComplaintSubType = &sub
		}), map[string]any{"Suppressed[tenant][]": 1.0}, "suppressed"},
		{"RenderingFailure without the space", edit("rendering-failure", func(e *Event) {
			e.EventType = "RenderingFailure"
		}), map[string]any{"RenderingFailed[tenant][]": 1.0}, "rendering_failed"},
		{"an event type SES never documented", edit("send", func(e *Event) { e.EventType = "Teleport" }),
			map[string]any{"Ignored[reason][]": 1.0}, "ignored"},
		{"a request id but no tenant", edit("send", func(e *Event) { delete(e.Mail.Tags, TagTenant) }),
			map[string]any{"Ignored[reason][]": 1.0}, "ignored"},
		{"a delivery before its issue (clocks): no negative time in the metric", edit("delivery", func(e *Event) {
			e.Mail.Tags[TagIssuedAt] = []string{"1476919264200"}
		}), map[string]any{"Delivered[tenant][]": 1.0, "BounceRate[tenant][]": 0.0, "ComplaintRate[tenant][]": 0.0, "TimeToDelivery[tenant][]": 0.0}, "delivered"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			logs, emf, _ := run(t, tc.ev)
			if got := emfMetrics(t, emf); !reflect.DeepEqual(got, tc.metrics) {
				t.Errorf("metrics\n got %v\nwant %v", got, tc.metrics)
			}
			if len(logs) != 1 || logs[0]["outcome"] != tc.outcome {
				t.Errorf("logs %v, want one line with outcome %s", logs, tc.outcome)
			}
		})
	}
}

// TestSeveralRecipients: one line and one count per recipient an event
// names, so the rates count recipients as SES does.
func TestSeveralRecipients(t *testing.T) {
	_, ev := load(t, "testdata/sns-bounce.json")
	var e Event
	_ = json.Unmarshal([]byte(ev.Records[0].SNS.Message), &e)
	e.Bounce.BouncedRecipients = append(e.Bounce.BouncedRecipients, Recipient{EmailAddress: "Lena@Example.org "})
	b, _ := json.Marshal(e)
	ev.Records[0].SNS.Message = string(b)
	ev.Records = append(ev.Records, ev.Records[0])
	logs, emf, _ := run(t, ev)
	if len(logs) != 4 || len(emf) != 4 {
		t.Fatalf("%d log and %d EMF lines, want 4 of each (2 records × 2 recipients)", len(logs), len(emf))
	}
	if logs[1]["to_hash"] != pseudonym.ToHash(testKey, "lena@example.org") {
		t.Errorf("to_hash %v is not the normalised address's", logs[1]["to_hash"])
	}
}

func TestConfig(t *testing.T) {
	ok := Config{MetricsNamespace: "CognitoEmailOTP", HMACSecretARN: "arn:aws:secretsmanager:us-east-1:1:secret:k", KeyRefresh: 5 * time.Minute}
	tests := []struct {
		name   string
		change func(*Config)
		want   string
	}{
		{"the secret", func(*Config) {}, ""},
		{"a local key", func(c *Config) { c.HMACSecretARN, c.HMACKey = "", string(testKey) }, ""},
		{"no key at all", func(c *Config) { c.HMACSecretARN = "" }, "OTP_HMAC_SECRET_ARN"},
		{"both", func(c *Config) { c.HMACKey = string(testKey) }, "only one"},
		{"a short key", func(c *Config) { c.HMACSecretARN, c.HMACKey = "", "short" }, "at least 32"},
		{"no namespace", func(c *Config) { c.MetricsNamespace = "" }, "OTP_METRICS_NAMESPACE"},
		{"refresh too fast", func(c *Config) { c.KeyRefresh = time.Millisecond }, "OTP_KEY_REFRESH"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			c := ok
			tc.change(&c)
			err := c.Validate()
			switch {
			case tc.want == "" && err != nil:
				t.Errorf("unexpected %v", err)
			case tc.want != "" && (err == nil || !strings.Contains(err.Error(), tc.want)):
				t.Errorf("error %v, want one naming %q", err, tc.want)
			case err != nil && strings.Contains(err.Error(), "short"):
				t.Errorf("the error quotes the key: %v", err)
			}
		})
	}
}
