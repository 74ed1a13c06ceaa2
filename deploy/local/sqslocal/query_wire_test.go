package sqslocal_test

import (
	"crypto/md5"
	"encoding/hex"
	"encoding/xml"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"

	"github.com/cognito-email-otp/cognito-email-otp/deploy/local/sqslocal"
)

// queryCall sends one hand-made Query request: a form POST of params, or a
// GET with them in the URL. sign adds the SigV4 headers the SDKs send.
func queryCall(t *testing.T, method, target string, params url.Values, sign bool) (*http.Response, string) {
	t.Helper()
	var req *http.Request
	var err error
	if method == http.MethodGet {
		req, err = http.NewRequest(method, target+"?"+params.Encode(), nil)
	} else {
		req, err = http.NewRequest(method, target, strings.NewReader(params.Encode()))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded; charset=utf-8")
	}
	if err != nil {
		t.Fatal(err)
	}
	if sign {
		req.Header.Set("Authorization", goodAuth)
		req.Header.Set("X-Amz-Date", "20250301T120000Z")
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp, string(raw)
}

type xmlError struct {
	XMLName xml.Name  `xml:"http://queue.amazonaws.com/doc/2012-11-05/ ErrorResponse"`
	Type    string    `xml:"Error>Type"`
	Code    string    `xml:"Error>Code"`
	Message string    `xml:"Error>Message"`
	Detail  *struct{} `xml:"Error>Detail"`
	ReqID   string    `xml:"RequestId"`
}

func form(kv ...string) url.Values {
	v := url.Values{}
	for i := 0; i+1 < len(kv); i += 2 {
		v.Add(kv[i], kv[i+1])
	}
	return v
}

// TestQueryWireErrors pins the ErrorResponse document, its status and its
// legacy codes for the request-level checks that no SDK would let a test
// provoke.
func TestQueryWireErrors(t *testing.T) {
	e := newEnv(t, true)
	e.createQueue("q", nil)
	queue := e.url + "/123456789012/q"
	tests := []struct {
		name       string
		method     string
		target     string
		params     url.Values
		unsigned   bool
		wantStatus int
		wantCode   string
		wantType   string
	}{
		{"unsigned", http.MethodPost, e.url + "/", form("Action", "ListQueues", "Version", "2012-11-05"), true,
			403, "MissingAuthenticationToken", "Sender"},
		{"no Action", http.MethodPost, e.url + "/", form("Version", "2012-11-05"), false,
			400, "MissingAction", "Sender"},
		{"unknown Action", http.MethodPost, e.url + "/", form("Action", "FlyToTheMoon", "Version", "2012-11-05"), false,
			400, "InvalidAction", "Sender"},
		{"no Version", http.MethodPost, e.url + "/", form("Action", "ListQueues"), false,
			400, "MissingParameter", "Sender"},
		{"older Version", http.MethodPost, e.url + "/", form("Action", "ListQueues", "Version", "2011-10-01"), false,
			400, "InvalidParameterValue", "Sender"},
		{"parameter twice", http.MethodPost, e.url + "/", form("Action", "GetQueueUrl", "Version", "2012-11-05", "QueueName", "q", "QueueName", "r"), false,
			400, "InvalidQueryParameter", "Sender"},
		{"list with a gap", http.MethodPost, e.url + "/", form("Action", "GetQueueAttributes", "Version", "2012-11-05", "QueueUrl", queue, "AttributeName.2", "All"), false,
			400, "InvalidQueryParameter", "Sender"},
		{"list index with a leading zero", http.MethodPost, e.url + "/", form("Action", "GetQueueAttributes", "Version", "2012-11-05", "QueueUrl", queue, "AttributeName.01", "All"), false,
			400, "InvalidQueryParameter", "Sender"},
		{"map entry without its value", http.MethodPost, e.url + "/", form("Action", "SetQueueAttributes", "Version", "2012-11-05", "QueueUrl", queue, "Attribute.1.Name", "DelaySeconds"), false,
			400, "MissingParameter", "Sender"},
		{"map entry without its name", http.MethodPost, e.url + "/", form("Action", "SendMessage", "Version", "2012-11-05", "QueueUrl", queue, "MessageBody", "x",
			"MessageAttribute.1.Value.DataType", "String", "MessageAttribute.1.Value.StringValue", "v"), false,
			400, "MissingParameter", "Sender"},
		{"integer that is not one", http.MethodPost, e.url + "/", form("Action", "ReceiveMessage", "Version", "2012-11-05", "QueueUrl", queue, "MaxNumberOfMessages", "ten"), false,
			400, "InvalidParameterValue", "Sender"},
		{"binary value that is not base64", http.MethodPost, e.url + "/", form("Action", "SendMessage", "Version", "2012-11-05", "QueueUrl", queue, "MessageBody", "x",
			"MessageAttribute.1.Name", "b", "MessageAttribute.1.Value.DataType", "Binary", "MessageAttribute.1.Value.BinaryValue", "*not base64*"), false,
			400, "InvalidParameterValue", "Sender"},
		{"QueueUrl naming another queue than the path", http.MethodPost, e.url + "/123456789012/q", form("Action", "PurgeQueue", "Version", "2012-11-05", "QueueUrl", e.url+"/123456789012/other"), false,
			400, "InvalidParameterValue", "Sender"},
		{"queue path of a missing queue", http.MethodGet, e.url + "/123456789012/missing", form("Action", "ReceiveMessage", "Version", "2012-11-05"), false,
			400, "AWS.SimpleQueueService.NonExistentQueue", "Sender"},
		{"receipt handle of another queue's format", http.MethodPost, queue, form("Action", "DeleteMessage", "Version", "2012-11-05", "ReceiptHandle", "AQEB"), false,
			404, "ReceiptHandleIsInvalid", "Sender"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			resp, raw := queryCall(t, tc.method, tc.target, tc.params, !tc.unsigned)
			if resp.StatusCode != tc.wantStatus {
				t.Errorf("status = %d, want %d (body %s)", resp.StatusCode, tc.wantStatus, raw)
			}
			if ct := resp.Header.Get("Content-Type"); ct != "text/xml" {
				t.Errorf("Content-Type = %q, want text/xml", ct)
			}
			var got xmlError
			if err := xml.Unmarshal([]byte(raw), &got); err != nil {
				t.Fatalf("body is not an ErrorResponse: %v\n%s", err, raw)
			}
			if got.Code != tc.wantCode || got.Type != tc.wantType || got.Message == "" || got.Detail == nil {
				t.Errorf("error = %+v, want code %s, type %s, a message and an empty Detail", got, tc.wantCode, tc.wantType)
			}
			if rid := resp.Header.Get("X-Amzn-Requestid"); len(rid) != 36 || got.ReqID != rid {
				t.Errorf("RequestId %q, header %q: want the same UUID", got.ReqID, rid)
			}
		})
	}
}

// TestQueryWireQueuePath covers what only hand-made requests do: GET
// requests, and queue actions sent to the queue URL without QueueUrl.
func TestQueryWireQueuePath(t *testing.T) {
	e := newEnv(t, true)
	e.createQueue("q", nil)
	queue := e.url + "/123456789012/q"

	resp, raw := queryCall(t, http.MethodGet, queue, form("Action", "SendMessage", "Version", "2012-11-05", "MessageBody", "via GET & path"), true)
	if resp.StatusCode != 200 {
		t.Fatalf("GET SendMessage: %d %s", resp.StatusCode, raw)
	}
	var sent struct {
		XMLName xml.Name `xml:"http://queue.amazonaws.com/doc/2012-11-05/ SendMessageResponse"`
		Result  struct {
			MessageID string  `xml:"MessageId"`
			MD5       string  `xml:"MD5OfMessageBody"`
			MD5Attrs  *string `xml:"MD5OfMessageAttributes"`
		} `xml:"SendMessageResult"`
		ReqID string `xml:"ResponseMetadata>RequestId"`
	}
	if err := xml.Unmarshal([]byte(raw), &sent); err != nil {
		t.Fatalf("SendMessageResponse: %v\n%s", err, raw)
	}
	if sum := md5.Sum([]byte("via GET & path")); sent.Result.MD5 != hex.EncodeToString(sum[:]) {
		t.Errorf("MD5OfMessageBody = %q, want %x", sent.Result.MD5, sum)
	}
	if sent.Result.MD5Attrs != nil {
		t.Errorf("MD5OfMessageAttributes = %q for a message without attributes; SQS leaves it out", *sent.Result.MD5Attrs)
	}
	if sent.ReqID != resp.Header.Get("X-Amzn-Requestid") || len(sent.Result.MessageID) != 36 {
		t.Errorf("SendMessageResponse = %+v", sent)
	}

	resp, raw = queryCall(t, http.MethodPost, queue+"/", form("Action", "ReceiveMessage", "Version", "2012-11-05", "AttributeName.1", "SenderId"), true)
	if resp.StatusCode != 200 || !strings.Contains(raw, "<Body>via GET &amp; path</Body>") ||
		!strings.Contains(raw, "<Attribute><Name>SenderId</Name><Value>AKIDEXAMPLE</Value></Attribute>") {
		t.Fatalf("ReceiveMessage at the queue path: %d %s", resp.StatusCode, raw)
	}

	// Operations without output answer with ResponseMetadata alone.
	resp, raw = queryCall(t, http.MethodPost, e.url+"/", form("Action", "DeleteQueue", "Version", "2012-11-05", "QueueUrl", queue), true)
	want := `<?xml version="1.0"?><DeleteQueueResponse xmlns="http://queue.amazonaws.com/doc/2012-11-05/"><ResponseMetadata><RequestId>` +
		resp.Header.Get("X-Amzn-Requestid") + `</RequestId></ResponseMetadata></DeleteQueueResponse>`
	if resp.StatusCode != 200 || raw != want {
		t.Errorf("DeleteQueue = %d\n%s\nwant\n%s", resp.StatusCode, raw, want)
	}
}

// countingBody records whether anyone read the request body.
type countingBody struct {
	io.Reader
	read bool
}

func (c *countingBody) Read(p []byte) (int, error) {
	c.read = true
	return c.Reader.Read(p)
}

func (c *countingBody) Close() error { return nil }

func TestIsQueryRequest(t *testing.T) {
	const (
		sqsAuth = goodAuth
		s3Auth  = "AWS4-HMAC-SHA256 Credential=AKID/20250301/us-east-1/s3/aws4_request, SignedHeaders=host;x-amz-date, Signature=0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"
		sesAuth = "AWS4-HMAC-SHA256 Credential=AKID/20250301/us-east-1/ses/aws4_request, SignedHeaders=host;x-amz-date, Signature=0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"
		formCT  = "application/x-www-form-urlencoded; charset=utf-8"
	)
	tests := []struct {
		name        string
		method, url string
		ctype, auth string
		target      string
		want        bool
	}{
		{"signed sqs form POST", "POST", "/", formCT, sqsAuth, "", true},
		{"signed sqs form POST to a queue URL", "POST", "/123456789012/q", formCT, sqsAuth, "", true},
		{"signed sqs GET", "GET", "/123456789012/q?Action=ReceiveMessage", "", sqsAuth, "", true},
		{"signed sqs, no form: still SQS's to answer", "POST", "/", "text/plain", sqsAuth, "", true},
		{"presigned sqs GET", "GET", "/?Action=ListQueues&X-Amz-Credential=AKID%2F20250301%2Fus-east-1%2Fsqs%2Faws4_request&X-Amz-Signature=00", "", "", "", true},
		{"unsigned form POST to /", "POST", "/", formCT, "", "", true},
		{"unsigned form POST to a queue URL", "POST", "/000000000000/otp-send", "application/x-www-form-urlencoded", "", "", true},
		{"unsigned GET with Action", "GET", "/?Action=ListQueues&Version=2012-11-05", "", "", "", true},
		{"SQS JSON", "POST", "/", "application/x-amz-json-1.0", sqsAuth, "AmazonSQS.SendMessage", false},
		{"Cognito JSON", "POST", "/", "application/x-amz-json-1.1", "", "AWSCognitoIdentityProviderService.InitiateAuth", false},
		{"form POST with an X-Amz-Target", "POST", "/", formCT, sqsAuth, "AmazonSQS.SendMessage", false},
		{"S3 path-style PUT", "PUT", "/bucket/key", "application/octet-stream", s3Auth, "", false},
		{"S3 form POST", "POST", "/", formCT, s3Auth, "", false},
		{"presigned S3 GET", "GET", "/bucket/key?X-Amz-Credential=AKID%2F20250301%2Fus-east-1%2Fs3%2Faws4_request&X-Amz-Signature=00", "", "", "", false},
		{"SES v2", "POST", "/v2/email/outbound-emails", "application/json", sesAuth, "", false},
		{"an HTML form on another path", "POST", "/ops/redrive", "application/x-www-form-urlencoded", "", "", false},
		{"sign-in page", "GET", "/", "", "", "", false},
		{"outbox with a query", "GET", "/outbox?Action=x", "", "", "", false},
		{"unsigned JSON POST", "POST", "/", "application/json", "", "", false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			b := &countingBody{Reader: strings.NewReader("Action=ListQueues&Version=2012-11-05")}
			r := httptest.NewRequest(tc.method, tc.url, nil)
			r.Body = b
			if tc.ctype != "" {
				r.Header.Set("Content-Type", tc.ctype)
			}
			if tc.auth != "" {
				r.Header.Set("Authorization", tc.auth)
			}
			if tc.target != "" {
				r.Header.Set("X-Amz-Target", tc.target)
			}
			if got := sqslocal.IsQueryRequest(r); got != tc.want {
				t.Errorf("IsQueryRequest = %v, want %v", got, tc.want)
			}
			if b.read {
				t.Error("IsQueryRequest read the body")
			}
		})
	}
}
