package otplocal

import (
	"encoding/json"
	"errors"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	cwl "github.com/aws/aws-sdk-go-v2/service/cloudwatchlogs"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatchlogs/types"

	"github.com/cognito-email-otp/cognito-email-otp/deploy/local/awslocal"
)

// lines asks otp-local's CloudWatch Logs, through the SDK, for a group's
// events matching pattern, every page, decoded.
func lines(t *testing.T, logs *cwl.Client, group, pattern string) []map[string]any {
	t.Helper()
	var out []map[string]any
	p := cwl.NewFilterLogEventsPaginator(logs, &cwl.FilterLogEventsInput{LogGroupName: aws.String(group), FilterPattern: aws.String(pattern),
		StartTime: aws.Int64(time.Now().Add(-time.Hour).UnixMilli())})
	for p.HasMorePages() {
		page, err := p.NextPage(t.Context())
		if err != nil {
			t.Fatalf("FilterLogEvents %s %s: %v", group, pattern, err)
		}
		for _, e := range page.Events {
			var fields map[string]any
			if err := json.Unmarshal([]byte(aws.ToString(e.Message)), &fields); err != nil {
				t.Fatalf("event is not a JSON line: %s", aws.ToString(e.Message))
			}
			out = append(out, fields)
		}
	}
	return out
}

// TestCloudWatchLogsThroughOTPLocalsPort: every function's lines reach its
// log group, /aws/lambda/otp-<function>, as Lambda ships them; the SDK's
// CloudWatch Logs client finds a sign-in's enqueue and its send by the
// request id they share; no event carries the emailed code; and a browser
// page gets nothing.
func TestCloudWatchLogsThroughOTPLocalsPort(t *testing.T) {
	sys, _ := start(t, Options{})
	if _, err := client(sys, sys.Clients[0].ID).Start(t.Context(), "rosa@example.com", DemoPassword); err != nil {
		t.Fatal(err)
	}
	_, code := inbox(t, sys, "rosa@example.com", 1)
	logs := cwl.NewFromConfig(awslocal.Config(sys.URL))

	out, err := logs.DescribeLogGroups(t.Context(), &cwl.DescribeLogGroupsInput{LogGroupNamePrefix: aws.String("/aws/lambda/")})
	if err != nil {
		t.Fatal(err)
	}
	var groups []string
	for _, g := range out.LogGroups {
		groups = append(groups, aws.ToString(g.LogGroupName))
	}
	for _, fn := range []string{"define", "create", "verify", "mailer", "rotate", "tokens"} {
		if !slices.Contains(groups, LogGroup(fn)) {
			t.Errorf("log groups %v lack %s", groups, LogGroup(fn))
		}
	}
	if LogGroup("mailer") != "/aws/lambda/"+MailerFunction || !strings.HasSuffix(RotateFunctionARN, ":otp-rotate") {
		t.Errorf("the mailer's log group %s is not its Lambda function %s's", LogGroup("mailer"), MailerFunction)
	}

	enqueued := lines(t, logs, LogGroup("create"), `{ $.outcome = "code_enqueued" }`)
	if len(enqueued) != 1 || enqueued[0]["request_id"] == nil || enqueued[0]["to_hash"] != sys.Keys.ToHash("rosa@example.com") {
		t.Fatalf("create's enqueue lines %v; want one with the request id and rosa's to_hash", enqueued)
	}
	// The mailer may still be writing its line when the email lands.
	var sent []map[string]any
	for deadline := time.Now().Add(5 * time.Second); len(sent) == 0 && time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
		sent = lines(t, logs, LogGroup("mailer"), `{ ($.request_id = "`+enqueued[0]["request_id"].(string)+`") && ($.outcome = "sent") }`)
	}
	if len(sent) != 1 || sent[0]["ses_message_id"] == nil {
		t.Errorf("the mailer's sent lines for %v: %v", enqueued[0]["request_id"], sent)
	}
	for _, fn := range []string{"define", "create", "verify", "mailer"} {
		for _, l := range lines(t, logs, LogGroup(fn), "") {
			if b, _ := json.Marshal(l); strings.Contains(string(b), code) || strings.Contains(string(b), "rosa@example.com") {
				t.Errorf("%s's log group holds the code or the address: %s", fn, b)
			}
		}
	}

	_, err = logs.FilterLogEvents(t.Context(), &cwl.FilterLogEventsInput{LogGroupName: aws.String("/aws/lambda/otp-nothing")})
	var notFound *types.ResourceNotFoundException
	if !errors.As(err, &notFound) {
		t.Errorf("an unknown group: %v", err)
	}
	req, _ := http.NewRequest(http.MethodPost, sys.URL, strings.NewReader(`{"logGroupName":"/aws/lambda/otp-create"}`))
	req.Header.Set("X-Amz-Target", "Logs_20140328.FilterLogEvents")
	req.Header.Set("Content-Type", "application/x-amz-json-1.1")
	req.Header.Set("Origin", "http://127.0.0.1:1")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	_ = resp.Body.Close()
	if resp.StatusCode != http.StatusForbidden {
		t.Errorf("a page's request: %d, want 403", resp.StatusCode)
	}
}
