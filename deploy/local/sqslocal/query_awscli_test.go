package sqslocal_test

import (
	"bytes"
	"context"
	"crypto/md5"
	"encoding/hex"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	"github.com/aws/aws-sdk-go-v2/service/sqs/types"

	"github.com/cognito-email-otp/cognito-email-otp/deploy/local/sqslocal"
)

// debianAWS is Debian 12's awscli 2.9, whose bundled botocore speaks the
// SQS Query protocol; `make awscli` installs it. The aws on PATH may be a
// newer one that speaks JSON, so the test names this one.
const debianAWS = "/usr/bin/aws"

func requireDebianAWS(t *testing.T) {
	t.Helper()
	if _, err := os.Stat(debianAWS); err == nil {
		return
	}
	if os.Getenv("OTP_E2E") == "require" {
		t.Fatalf("OTP_E2E=require but %s is missing (run: make awscli)", debianAWS)
	}
	t.Skipf("no %s (Debian's awscli); set OTP_E2E=require to make this a failure", debianAWS)
}

// TestQueryDebianAWSCLI runs Debian's awscli against sqslocal: the client
// people reach for first, in the Query protocol.
func TestQueryDebianAWSCLI(t *testing.T) {
	requireDebianAWS(t)
	srv := sqslocal.New(sqslocal.Options{Region: "eu-central-1", AccountID: "123456789012"})
	var mu sync.Mutex
	protocols := map[string]bool{}
	hs := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if strings.HasPrefix(r.UserAgent(), "aws-cli/") {
			mu.Lock()
			protocols[r.Header.Get("Content-Type")+" target="+r.Header.Get("X-Amz-Target")] = true
			mu.Unlock()
		}
		srv.ServeHTTP(w, r)
	}))
	t.Cleanup(func() {
		srv.Close()
		hs.Close()
	})
	home := t.TempDir()
	env := []string{
		"PATH=/usr/bin:/bin",
		"HOME=" + home,
		"AWS_CONFIG_FILE=" + filepath.Join(home, "config"),
		"AWS_SHARED_CREDENTIALS_FILE=" + filepath.Join(home, "credentials"),
		"AWS_ACCESS_KEY_ID=AKIDAWSCLI",
		"AWS_SECRET_ACCESS_KEY=secret",
		"AWS_DEFAULT_REGION=eu-central-1",
		"AWS_MAX_ATTEMPTS=1",
		"AWS_PAGER=",
		"AWS_EC2_METADATA_DISABLED=true",
	}
	// run returns the command's JSON output, or its stderr when wantFail.
	run := func(wantFail bool, args ...string) []byte {
		t.Helper()
		ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
		defer cancel()
		cmd := exec.CommandContext(ctx, debianAWS, append([]string{"--endpoint-url", hs.URL, "--output", "json", "sqs"}, args...)...)
		cmd.Env = env
		var stdout, stderr bytes.Buffer
		cmd.Stdout, cmd.Stderr = &stdout, &stderr
		err := cmd.Run()
		switch {
		case wantFail && err == nil:
			t.Fatalf("aws sqs %s succeeded, want a failure; output %s", args[0], stdout.Bytes())
		case wantFail:
			return stderr.Bytes()
		case err != nil:
			t.Fatalf("aws sqs %s: %v\n%s", args[0], err, stderr.Bytes())
		}
		return stdout.Bytes()
	}
	decode := func(raw []byte, v any) {
		t.Helper()
		if err := json.Unmarshal(raw, v); err != nil {
			t.Fatalf("aws output %s: %v", raw, err)
		}
	}

	var created struct{ QueueUrl string }
	decode(run(false, "create-queue", "--queue-name", "cli", "--attributes", "VisibilityTimeout=40", "--tags", "env=cli"), &created)
	if created.QueueUrl != hs.URL+"/123456789012/cli" {
		t.Fatalf("QueueUrl = %q", created.QueueUrl)
	}
	q := created.QueueUrl

	const msg = "code 123456 <b>&amp;</b> ünïcödé 😀"
	attrs := `{"kind":{"DataType":"String","StringValue":"otp & <send>"},"blob":{"DataType":"Binary","BinaryValue":"AAEC/v8="}}`
	var sent struct{ MessageId, MD5OfMessageBody, MD5OfMessageAttributes string }
	decode(run(false, "send-message", "--queue-url", q, "--message-body", msg, "--message-attributes", attrs), &sent)
	if sum := md5.Sum([]byte(msg)); sent.MD5OfMessageBody != hex.EncodeToString(sum[:]) {
		t.Errorf("MD5OfMessageBody = %q, want %x", sent.MD5OfMessageBody, sum)
	}
	// The JSON client checks MD5OfMessageAttributes itself; the CLI's must
	// be the digest it accepts for the same attributes.
	v2 := sqs.New(sqs.Options{Region: "eu-central-1", BaseEndpoint: aws.String(hs.URL),
		Credentials: credentials.NewStaticCredentialsProvider("AKIDAWSCLI", "secret", ""), RetryMaxAttempts: 1})
	ref, err := v2.SendMessage(t.Context(), &sqs.SendMessageInput{QueueUrl: aws.String(q), MessageBody: aws.String("ref"), MessageAttributes: map[string]types.MessageAttributeValue{
		"kind": {DataType: aws.String("String"), StringValue: aws.String("otp & <send>")},
		"blob": {DataType: aws.String("Binary"), BinaryValue: []byte{0, 1, 2, 0xfe, 0xff}},
	}})
	if err != nil {
		t.Fatalf("v2 SendMessage: %v", err)
	}
	if sent.MD5OfMessageAttributes != aws.ToString(ref.MD5OfMessageAttributes) {
		t.Errorf("MD5OfMessageAttributes = %q, the JSON client's %q", sent.MD5OfMessageAttributes, aws.ToString(ref.MD5OfMessageAttributes))
	}

	var batch struct {
		Successful []struct{ Id string }
		Failed     []struct{ Id, Code string }
	}
	decode(run(false, "send-message-batch", "--queue-url", q, "--entries", `[{"Id":"a","MessageBody":"one"},{"Id":"b","MessageBody":"two","DelaySeconds":0}]`), &batch)
	if len(batch.Successful) != 2 || len(batch.Failed) != 0 {
		t.Errorf("send-message-batch = %+v", batch)
	}

	var received struct {
		Messages []struct {
			MessageId, ReceiptHandle, Body string
			Attributes                     map[string]string
			MessageAttributes              map[string]struct{ DataType, StringValue, BinaryValue string }
		}
	}
	decode(run(false, "receive-message", "--queue-url", q, "--attribute-names", "All", "--message-attribute-names", "All",
		"--max-number-of-messages", "10", "--wait-time-seconds", "1"), &received)
	if len(received.Messages) != 4 {
		t.Fatalf("received %d messages, want 4", len(received.Messages))
	}
	entries := []map[string]string{}
	for i, m := range received.Messages {
		entries = append(entries, map[string]string{"Id": "m" + string(rune('0'+i)), "ReceiptHandle": m.ReceiptHandle})
		if m.MessageId != sent.MessageId {
			continue
		}
		if m.Body != msg || m.Attributes["SenderId"] != "AKIDAWSCLI" {
			t.Errorf("message = %+v", m)
		}
		if a := m.MessageAttributes["kind"]; a.StringValue != "otp & <send>" || a.DataType != "String" {
			t.Errorf("attribute kind = %+v", a)
		}
		if a := m.MessageAttributes["blob"]; a.BinaryValue != "AAEC/v8=" || a.DataType != "Binary" {
			t.Errorf("attribute blob = %+v", a)
		}
	}
	raw, _ := json.Marshal(entries)
	var deleted struct{ Successful []struct{ Id string } }
	decode(run(false, "delete-message-batch", "--queue-url", q, "--entries", string(raw)), &deleted)
	if len(deleted.Successful) != 4 {
		t.Errorf("delete-message-batch = %+v", deleted)
	}

	var attrsOut struct{ Attributes map[string]string }
	decode(run(false, "get-queue-attributes", "--queue-url", q, "--attribute-names", "All"), &attrsOut)
	if attrsOut.Attributes["VisibilityTimeout"] != "40" || attrsOut.Attributes["ApproximateNumberOfMessages"] != "0" || attrsOut.Attributes["ApproximateNumberOfMessagesNotVisible"] != "0" {
		t.Errorf("attributes = %v", attrsOut.Attributes)
	}

	if stderr := run(true, "get-queue-url", "--queue-name", "missing"); !bytes.Contains(stderr, []byte("(AWS.SimpleQueueService.NonExistentQueue)")) {
		t.Errorf("get-queue-url of a missing queue: %s", stderr)
	}

	mu.Lock()
	defer mu.Unlock()
	for p := range protocols {
		if !strings.HasPrefix(p, "application/x-www-form-urlencoded") || !strings.HasSuffix(p, " target=") {
			t.Errorf("awscli sent %q; this test is about the Query protocol", p)
		}
	}
	if len(protocols) == 0 {
		t.Error("saw no awscli request")
	}
}
