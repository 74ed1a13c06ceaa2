package mailer

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/aws"
	sestypes "github.com/aws/aws-sdk-go-v2/service/sesv2/types"

	"github.com/cognito-email-otp/cognito-email-otp/mailer/contract"
)

// versioned renders like fakeRenderer and says which version did.
type versioned struct {
	version   string
	refreshes atomic.Int32
}

func (v *versioned) Render(_ context.Context, r contract.SendRequest) (Email, error) {
	return Email{Subject: "Your code", HTML: "<p>" + r.Code.Reveal() + "</p>", Text: r.Code.Reveal(), Set: r.Tenant, Locale: "en", Version: v.version}, nil
}

func (v *versioned) Refresh(context.Context) { v.refreshes.Add(1) }

// TestEveryEmailSaysWhatRenderedIt: the set and version reach the SES
// tags, the log line, and a dead letter written after rendering.
func TestEveryEmailSaysWhatRenderedIt(t *testing.T) {
	for _, tc := range []struct {
		name      string
		ses       error
		renderErr bool
		wantDLQ   bool
		wantAttrs bool
	}{
		{name: "sent"},
		{name: "refused by SES after rendering", ses: apiError(400, &sestypes.MessageRejected{Message: aws.String("Address blacklisted.")}), wantDLQ: true, wantAttrs: true},
		{name: "not rendered", renderErr: true, wantDLQ: true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			x := newHarness()
			r := &versioned{version: "0123456789abcdef"}
			x.h.Renderer, x.h.Refresher = r, r
			if tc.renderErr {
				x.h.Renderer = fakeRenderer{err: errors.New("no such locale")}
			}
			if tc.ses != nil {
				x.ses.script = func(string, int) error { return tc.ses }
			}
			if _, err := x.h.Handle(t.Context(), events.SQSEvent{Records: []events.SQSMessage{record("m-1", body(request(1)))}}); err != nil {
				t.Fatal(err)
			}
			if tc.ses == nil && !tc.renderErr {
				tags := map[string]string{}
				for _, tag := range x.ses.sent[0].EmailTags {
					tags[aws.ToString(tag.Name)] = aws.ToString(tag.Value)
				}
				if tags["template_set"] != "acme" || tags["template_version"] != "0123456789abcdef" {
					t.Errorf("tags %v", tags)
				}
				if !strings.Contains(x.logs.String(), `"msg":"sent"`) || !strings.Contains(x.logs.String(), `"template_set":"acme","template_version":"0123456789abcdef"`) {
					t.Errorf("the sent line does not name the version:\n%s", x.logs)
				}
			}
			if got := len(x.dlq.msgs) == 1; got != tc.wantDLQ {
				t.Fatalf("dead-lettered %v, want %v", got, tc.wantDLQ)
			}
			if tc.wantDLQ {
				attrs := x.dlq.msgs[0].MessageAttributes
				set, version := aws.ToString(attrs[AttrTemplateSet].StringValue), aws.ToString(attrs[AttrTemplateVersion].StringValue)
				if tc.wantAttrs && (set != "acme" || version != "0123456789abcdef") || !tc.wantAttrs && (set != "" || version != "") {
					t.Errorf("dead letter names set %q version %q; want them only after rendering", set, version)
				}
			}
			assertNoSecrets(t, x)
		})
	}
}

// TestRefreshOncePerBatch: the templates are brought up to date before a
// batch, never per email.
func TestRefreshOncePerBatch(t *testing.T) {
	x := newHarness()
	r := &versioned{version: "v"}
	x.h.Renderer, x.h.Refresher = r, r
	var recs []events.SQSMessage
	for i := range 10 {
		recs = append(recs, record(fmt.Sprintf("m-%d", i), body(request(i))))
	}
	if _, err := x.h.Handle(t.Context(), events.SQSEvent{Records: recs}); err != nil {
		t.Fatal(err)
	}
	if n := r.refreshes.Load(); n != 1 {
		t.Errorf("%d refreshes for a batch of 10, want 1", n)
	}
	if h := New(Config{MetricsNamespace: "x"}, aws.Config{}, r, &lockedBuffer{b: &bytes.Buffer{}}); h.Refresher == nil {
		t.Error("New did not take the renderer as its refresher")
	}
}

func TestTemplateLoadFailureIsEMF(t *testing.T) {
	var out bytes.Buffer
	m := NewMetrics(&out, "CognitoEmailOTP")
	if err := m.TemplateLoadFailure(time.UnixMilli(1_800_000_000_000), "invalid_bundle"); err != nil {
		t.Fatal(err)
	}
	var line struct {
		Failures int    `json:"TemplateLoadFailures"`
		Reason   string `json:"reason"`
		AWS      struct {
			Timestamp int64
			Metrics   []struct {
				Namespace  string
				Dimensions [][]string
				Metrics    []struct{ Name, Unit string }
			} `json:"CloudWatchMetrics"`
		} `json:"_aws"`
	}
	if err := json.Unmarshal(out.Bytes(), &line); err != nil {
		t.Fatalf("%v: %s", err, out.String())
	}
	d := line.AWS.Metrics[0]
	if line.Failures != 1 || line.Reason != "invalid_bundle" || d.Namespace != "CognitoEmailOTP" || len(d.Dimensions) != 1 || len(d.Dimensions[0]) != 0 ||
		d.Metrics[0].Name != MetricTemplateLoadFailures || line.AWS.Timestamp != 1_800_000_000_000 {
		t.Errorf("EMF line %s", out.String())
	}
}

func TestTagValue(t *testing.T) {
	for in, want := range map[string]string{
		"":                       "none",
		"0123456789abcdef":       "0123456789abcdef",
		"embedded-f9f95db27daa":  "embedded-f9f95db27daa",
		"zh-Hans":                "zh-Hans",
		"a b/c":                  "a_b_c",
		strings.Repeat("x", 300): strings.Repeat("x", 256),
	} {
		if got := tagValue(in); got != want {
			t.Errorf("tagValue(%q) = %q, want %q", in, got, want)
		}
	}
}

// TestRecentIDsStayBoundedCheaply: the duplicate filter keeps at most
// maxRecentIDs, and a full one does not sweep on every send.
func TestRecentIDsStayBoundedCheaply(t *testing.T) {
	var r recentIDs
	now := time.Now()
	sweeps := 0
	for i := range 3 * maxRecentIDs {
		before := len(r.ids)
		r.add(fmt.Sprint(i), now.Add(time.Hour), now)
		if len(r.ids) > maxRecentIDs {
			t.Fatalf("%d ids remembered", len(r.ids))
		}
		if len(r.ids) < before {
			sweeps++
		}
	}
	if sweeps > 3*maxRecentIDs/(maxRecentIDs/10) {
		t.Errorf("%d sweeps for %d sends", sweeps, 3*maxRecentIDs)
	}
	if !r.seen(fmt.Sprint(3*maxRecentIDs-1), now) {
		t.Error("the latest id was forgotten")
	}
}

// TestTemplateStoreConfig: the store's variables have defaults, and a bad
// value fails the cold start naming the variable.
func TestTemplateStoreConfig(t *testing.T) {
	for _, tc := range []struct {
		name string
		env  map[string]string
		want string // "" for valid
	}{
		{"defaults: no store", nil, ""},
		{"a bucket", map[string]string{"OTP_TEMPLATES_BUCKET": "stack-templatebucket-1a2b3c"}, ""},
		{"not a bucket name", map[string]string{"OTP_TEMPLATES_BUCKET": "s3://Bucket"}, "OTP_TEMPLATES_BUCKET"},
		{"a prefix without a slash", map[string]string{"OTP_TEMPLATES_PREFIX": "templates"}, "OTP_TEMPLATES_PREFIX"},
		{"a leading slash", map[string]string{"OTP_TEMPLATES_PREFIX": "/templates/"}, "OTP_TEMPLATES_PREFIX"},
		{"no prefix at all", map[string]string{"OTP_TEMPLATES_PREFIX": ""}, ""},
		{"refresh too often", map[string]string{"OTP_TEMPLATES_REFRESH": "100ms"}, "OTP_TEMPLATES_REFRESH"},
		{"refresh not a duration", map[string]string{"OTP_TEMPLATES_REFRESH": "soon"}, "TEMPLATES_REFRESH"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Setenv("OTP_DLQ_URL", "https://sqs.example/dlq")
			t.Setenv("OTP_FROM_ADDRESS", "no-reply@example.com")
			for k, v := range tc.env {
				t.Setenv(k, v)
			}
			c, err := LoadConfig()
			if tc.want == "" && err != nil || tc.want != "" && (err == nil || !strings.Contains(err.Error(), tc.want)) {
				t.Fatalf("LoadConfig: %v, want %q", err, tc.want)
			}
			if tc.env == nil && (c.TemplatesPrefix != "templates/" || c.TemplatesRefresh != 30*time.Second || c.TemplatesBucket != "") {
				t.Errorf("defaults %q %v %q", c.TemplatesPrefix, c.TemplatesRefresh, c.TemplatesBucket)
			}
		})
	}
}
