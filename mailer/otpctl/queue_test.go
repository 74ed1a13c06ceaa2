package main

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	"github.com/fxamacker/cbor/v2"

	"github.com/cognito-email-otp/cognito-email-otp/deploy/local/awslocal"
	"github.com/cognito-email-otp/cognito-email-otp/deploy/local/cloudwatchlocal"
	"github.com/cognito-email-otp/cognito-email-otp/deploy/local/esm"
	"github.com/cognito-email-otp/cognito-email-otp/deploy/local/otplocal"
	"github.com/cognito-email-otp/cognito-email-otp/mailer/ops"
)

// runSplit is run with stdout and stderr apart.
func runSplit(t *testing.T, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	var out, errOut bytes.Buffer
	code = run(t.Context(), args, &out, &errOut)
	return code, out.String(), errOut.String()
}

func send(t *testing.T, sys *otplocal.System, queueURL string) {
	t.Helper()
	if _, err := sqs.NewFromConfig(awslocal.Config(sys.URL)).SendMessage(t.Context(), &sqs.SendMessageInput{
		QueueUrl: aws.String(queueURL), MessageBody: aws.String(`{"v":1}`)}); err != nil {
		t.Fatal(err)
	}
}

// TestQueueStatusShowsTheOldestAge against otp-local: a send request waits
// (no mailer polls), and queue status shows its age from CloudWatch once
// the queues have been sampled, in the table and in --json; the empty DLQ
// has no age.
func TestQueueStatusShowsTheOldestAge(t *testing.T) {
	sys := startLocal(t, otplocal.Options{Mapping: esm.Config{Disabled: true}, MetricsInterval: 100 * time.Millisecond})
	send(t, sys, sys.Queues().SendQueue)
	ctx, cancel := context.WithTimeout(t.Context(), 20*time.Second)
	defer cancel()

	row := regexp.MustCompile(`(?m)^send\s+otp-send\s+1\s+0\s+0\s+([0-9]+s)$`)
	for {
		code, out, errOut := runSplit(t, "queue", "status", "--endpoint", sys.URL)
		if code != exitOK || errOut != "" {
			t.Fatalf("exit %d, stderr %q, stdout:\n%s", code, errOut, out)
		}
		if m := row.FindStringSubmatch(out); m != nil && m[1] != "0s" {
			if !strings.HasPrefix(out, "QUEUE") || !strings.Contains(strings.SplitN(out, "\n", 2)[0], "OLDEST") {
				t.Errorf("header: %q", strings.SplitN(out, "\n", 2)[0])
			}
			if !regexp.MustCompile(`(?m)^dead-letter\s+otp-send-dlq\s+0\s+0\s+0\s+–$`).MatchString(out) {
				t.Errorf("the empty DLQ's row, want no age (–):\n%s", out)
			}
			break
		}
		if ctx.Err() != nil {
			t.Fatalf("no age in:\n%s", out)
		}
		time.Sleep(100 * time.Millisecond)
	}

	code, out, errOut := runSplit(t, "--json", "queue", "status", "--endpoint", sys.URL)
	var status []ops.QueueStatus
	if err := json.Unmarshal([]byte(out), &status); err != nil || code != exitOK || errOut != "" {
		t.Fatalf("--json: exit %d, %v, %q\n%s", code, err, errOut, out)
	}
	if s := status[0]; s.OldestAgeSeconds == nil || *s.OldestAgeSeconds < 1 || s.OldestAgeAt == nil {
		t.Errorf("send: oldestAgeSeconds %v at %v, want at least 1", s.OldestAgeSeconds, s.OldestAgeAt)
	}
	if !strings.Contains(out, `"oldestAgeSeconds": null`) || status[1].OldestAgeSeconds != nil {
		t.Errorf("the DLQ's oldestAgeSeconds should be null:\n%s", out)
	}
}

// TestQueueStatusWithoutCloudWatch: CloudWatch refuses the caller (its
// policy lacks cloudwatch:GetMetricData), as AWS would; queue status still
// prints the depths, says in one line why the age is missing, and keeps
// the exit status the depths give (1: a dead letter waits).
func TestQueueStatusWithoutCloudWatch(t *testing.T) {
	sys := startLocal(t, otplocal.Options{})
	send(t, sys, sys.Queues().DeadLetterQueue)
	target, _ := url.Parse(sys.URL)
	proxy := httputil.NewSingleHostReverseProxy(target)
	denied := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !strings.HasPrefix(r.URL.Path, cloudwatchlocal.PathPrefix) {
			proxy.ServeHTTP(w, r)
			return
		}
		body, _ := cbor.Marshal(map[string]string{"__type": "com.amazon.coral.service#AccessDeniedException",
			"message": "User: arn:aws:sts::123456789012:assumed-role/ops/rosa is not authorized to perform: cloudwatch:GetMetricData because no identity-based policy allows the cloudwatch:GetMetricData action"})
		w.Header().Set("Smithy-Protocol", "rpc-v2-cbor")
		w.Header().Set("Content-Type", "application/cbor")
		w.Header().Set("X-Amzn-Query-Error", "AccessDenied;Sender")
		w.WriteHeader(http.StatusBadRequest)
		_, _ = w.Write(body)
	}))
	t.Cleanup(denied.Close)

	for _, args := range [][]string{{"queue", "status"}, {"--json", "queue", "status"}} {
		code, out, errOut := runSplit(t, append(args, "--endpoint", denied.URL)...)
		if code != exitProblems {
			t.Errorf("%v: exit %d, want 1 (a dead letter waits), as without CloudWatch", args, code)
		}
		if lines := strings.Split(strings.TrimSpace(errOut), "\n"); len(lines) != 1 ||
			!strings.Contains(errOut, "the caller needs cloudwatch:GetMetricData") {
			t.Errorf("%v: stderr %q, want one line naming cloudwatch:GetMetricData", args, errOut)
		}
		if args[0] == "--json" {
			var status []ops.QueueStatus
			if err := json.Unmarshal([]byte(out), &status); err != nil || len(status) != 2 || status[1].Visible != 1 || status[1].OldestAgeSeconds != nil {
				t.Errorf("--json: %v %+v", err, status)
			}
		} else if !regexp.MustCompile(`(?m)^dead-letter\s+otp-send-dlq\s+1\s+0\s+0\s+–$`).MatchString(out) {
			t.Errorf("table:\n%s", out)
		}
	}
}
