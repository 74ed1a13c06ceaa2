package sqslocal_test

import (
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"
)

const goodAuth = "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20250301/us-east-1/sqs/aws4_request, SignedHeaders=content-type;host;x-amz-date;x-amz-target, Signature=" +
	"0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"

// TestWireFormat pins the bytes that both SDKs depend on, beyond what the
// Go SDK tests cover: status, Content-Type, x-amzn-RequestId, the
// x-amzn-query-error header and the error body.
func TestWireFormat(t *testing.T) {
	e := newEnv(t, true)
	e.createQueue("q", nil)
	tests := []struct {
		name       string
		target     string
		ctype      string
		auth       string
		date       string
		body       string
		wantStatus int
		wantQuery  string // x-amzn-query-error
		wantType   string // __type
	}{
		{"nonexistent queue", "AmazonSQS.GetQueueUrl", "application/x-amz-json-1.0", goodAuth, "20250301T120000Z", `{"QueueName":"nope"}`,
			400, "AWS.SimpleQueueService.NonExistentQueue;Sender", "com.amazonaws.sqs#QueueDoesNotExist"},
		{"invalid receipt handle", "AmazonSQS.DeleteMessage", "application/x-amz-json-1.0", goodAuth, "20250301T120000Z", `{"QueueUrl":"http://x/123456789012/q","ReceiptHandle":"zzz"}`,
			404, "ReceiptHandleIsInvalid;Sender", "com.amazonaws.sqs#ReceiptHandleIsInvalid"},
		{"missing Authorization", "AmazonSQS.ListQueues", "application/x-amz-json-1.0", "", "20250301T120000Z", `{}`,
			403, "MissingAuthenticationToken;Sender", "com.amazon.coral.service#MissingAuthenticationTokenException"},
		{"Authorization that is not SigV4", "AmazonSQS.ListQueues", "application/x-amz-json-1.0", "Bearer abc", "20250301T120000Z", `{}`,
			400, "IncompleteSignature;Sender", "com.amazon.coral.service#IncompleteSignatureException"},
		{"SigV4 for another service", "AmazonSQS.ListQueues", "application/x-amz-json-1.0", strings.Replace(goodAuth, "/sqs/", "/ses/", 1), "20250301T120000Z", `{}`,
			400, "IncompleteSignature;Sender", "com.amazon.coral.service#IncompleteSignatureException"},
		{"no X-Amz-Date", "AmazonSQS.ListQueues", "application/x-amz-json-1.0", goodAuth, "", `{}`,
			400, "IncompleteSignature;Sender", "com.amazon.coral.service#IncompleteSignatureException"},
		{"unknown operation", "AmazonSQS.FlyToTheMoon", "application/x-amz-json-1.0", goodAuth, "20250301T120000Z", `{}`,
			400, "InvalidAction;Sender", "com.amazon.coral.service#UnknownOperationException"},
		{"query protocol content type", "AmazonSQS.ListQueues", "application/x-www-form-urlencoded", goodAuth, "20250301T120000Z", `Action=ListQueues`,
			400, "InvalidAction;Sender", "com.amazon.coral.service#UnknownOperationException"},
		{"malformed JSON", "AmazonSQS.ListQueues", "application/x-amz-json-1.0", goodAuth, "20250301T120000Z", `{"QueueNamePrefix":`,
			400, "MalformedQueryString;Sender", "com.amazon.coral.service#SerializationException"},
		{"ListQueues succeeds", "AmazonSQS.ListQueues", "application/x-amz-json-1.0", goodAuth, "20250301T120000Z", `{}`,
			200, "", ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			req, err := http.NewRequest(http.MethodPost, e.url+"/", strings.NewReader(tc.body))
			if err != nil {
				t.Fatal(err)
			}
			req.Header.Set("X-Amz-Target", tc.target)
			req.Header.Set("Content-Type", tc.ctype)
			if tc.auth != "" {
				req.Header.Set("Authorization", tc.auth)
			}
			if tc.date != "" {
				req.Header.Set("X-Amz-Date", tc.date)
			}
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			defer resp.Body.Close()
			raw, _ := io.ReadAll(resp.Body)
			if resp.StatusCode != tc.wantStatus {
				t.Errorf("status = %d, want %d (body %s)", resp.StatusCode, tc.wantStatus, raw)
			}
			if ct := resp.Header.Get("Content-Type"); ct != "application/x-amz-json-1.0" {
				t.Errorf("Content-Type = %q", ct)
			}
			if len(resp.Header.Get("X-Amzn-Requestid")) != 36 {
				t.Errorf("x-amzn-RequestId = %q, want a UUID", resp.Header.Get("X-Amzn-Requestid"))
			}
			if got := resp.Header.Get("X-Amzn-Query-Error"); got != tc.wantQuery {
				t.Errorf("x-amzn-query-error = %q, want %q", got, tc.wantQuery)
			}
			var body struct {
				Type    string `json:"__type"`
				Message string `json:"message"`
			}
			if err := json.Unmarshal(raw, &body); err != nil {
				t.Fatalf("body %s is not JSON: %v", raw, err)
			}
			if body.Type != tc.wantType {
				t.Errorf("__type = %q, want %q", body.Type, tc.wantType)
			}
			if tc.wantType != "" && body.Message == "" {
				t.Errorf("error body has no message: %s", raw)
			}
		})
	}
}

func TestServesAnyPathForDispatchers(t *testing.T) {
	e := newEnv(t, true)
	req, _ := http.NewRequest(http.MethodPost, e.url+"/123456789012/q", strings.NewReader(`{"QueueName":"q"}`))
	req.Header.Set("X-Amz-Target", "AmazonSQS.CreateQueue")
	req.Header.Set("Content-Type", "application/x-amz-json-1.0")
	req.Header.Set("Authorization", goodAuth)
	req.Header.Set("X-Amz-Date", time.Date(2025, 3, 1, 0, 0, 0, 0, time.UTC).Format("20060102T150405Z"))
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var out struct{ QueueUrl string }
	if err := json.NewDecoder(resp.Body).Decode(&out); err != nil || resp.StatusCode != 200 {
		t.Fatalf("status %d, decode %v", resp.StatusCode, err)
	}
	// The URL follows the Host the client used.
	if want := e.url + "/123456789012/q"; out.QueueUrl != want {
		t.Errorf("QueueUrl = %q, want %q", out.QueueUrl, want)
	}
}
