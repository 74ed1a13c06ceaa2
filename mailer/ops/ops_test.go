package ops

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	"github.com/aws/aws-sdk-go-v2/service/sqs/types"

	"github.com/cognito-email-otp/cognito-email-otp/deploy/local/awslocal"
	"github.com/cognito-email-otp/cognito-email-otp/deploy/local/sqslocal"
	"github.com/cognito-email-otp/cognito-email-otp/mailer"
	"github.com/cognito-email-otp/cognito-email-otp/mailer/contract"
)

func setup(t *testing.T) (Queues, *sqs.Client) {
	t.Helper()
	local := sqslocal.New(sqslocal.Options{})
	srv := httptest.NewServer(local)
	t.Cleanup(func() { local.Close(); srv.Close() })
	client := sqs.NewFromConfig(awslocal.Config(srv.URL))
	if _, err := local.CreateQueue("otp-send-dlq", nil); err != nil {
		t.Fatal(err)
	}
	redrive := fmt.Sprintf(`{"deadLetterTargetArn":%q,"maxReceiveCount":"5"}`, local.QueueARN("otp-send-dlq"))
	if _, err := local.CreateQueue("otp-send", map[string]string{"RedrivePolicy": redrive}); err != nil {
		t.Fatal(err)
	}
	q, err := Open(t.Context(), client, "otp-send", "otp-send-dlq")
	if err != nil {
		t.Fatal(err)
	}
	return q, client
}

func sendRequest(code, to string, expires time.Time) string {
	b, _ := json.Marshal(contract.SendRequest{V: contract.SendRequestVersion, Kind: contract.KindSignInCode, ID: "req-" + to[:1], Tenant: "acme", To: to, Name: "Rosa Díaz",
		Code: contract.Code(code), IssuedAt: expires.Add(-3 * time.Minute), ExpiresAt: expires})
	return string(b)
}

// deadLetter puts a message on the DLQ the way the mailer does.
func deadLetter(t *testing.T, c *sqs.Client, q Queues, body, reason string) {
	t.Helper()
	attrs := map[string]types.MessageAttributeValue{}
	if reason != "" {
		attrs[mailer.AttrReason] = types.MessageAttributeValue{DataType: aws.String("String"), StringValue: aws.String(reason)}
		attrs[mailer.AttrError] = types.MessageAttributeValue{DataType: aws.String("String"),
			StringValue: aws.String("MessageRejected: Email address is not verified: rosa@example.com")}
	}
	if _, err := c.SendMessage(t.Context(), &sqs.SendMessageInput{QueueUrl: aws.String(q.DeadLetterQueue), MessageBody: aws.String(body), MessageAttributes: attrs}); err != nil {
		t.Fatal(err)
	}
}

func TestListDeadLettersRedacts(t *testing.T) {
	q, c := setup(t)
	future := time.Now().Add(time.Minute).UTC().Truncate(time.Second)
	deadLetter(t, c, q, sendRequest("482913", "rosa@example.com", future), string(mailer.ReasonRejected))
	deadLetter(t, c, q, `{"v":1,"code":"771234","to":"rosa@example.com","nested":{"code":"771234"}}`, string(mailer.ReasonInvalidRequest))
	deadLetter(t, c, q, `garbage 991122 rosa@example.com`, string(mailer.ReasonMalformed))
	deadLetter(t, c, q, sendRequest("650001", "rosa@example.com", future), "") // moved by the redrive policy

	list, err := q.ListDeadLetters(t.Context(), 100, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	if len(list) != 4 {
		t.Fatalf("%d dead letters listed, want 4", len(list))
	}
	all, _ := json.Marshal(list)
	for _, secret := range []string{"482913", "771234", "991122", "650001", "rosa@example.com", "Rosa"} {
		if strings.Contains(string(all), secret) {
			t.Errorf("listing reveals %q:\n%s", secret, all)
		}
	}
	reasons := map[string]int{}
	for _, d := range list {
		reasons[d.Reason]++
	}
	if fmt.Sprint(reasons) != "map[invalid_request:1 malformed:1 max_receives:1 rejected:1]" {
		t.Errorf("reasons %v", reasons)
	}
	if d := list[0]; d.RequestID != "req-r" || d.Tenant != "acme" || d.To != "r***@example.com" || d.Expired || !strings.Contains(d.Error, "r***@example.com") {
		t.Errorf("first dead letter %+v", d)
	}
	// Listing is a peek: everything is still there, and visible.
	status, err := q.Status(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	if status[1].Role != "dead-letter" || status[1].Visible != 4 || status[1].InFlight != 0 {
		t.Errorf("after listing: %+v, want 4 visible dead letters", status[1])
	}
}

func TestRedriveByReason(t *testing.T) {
	q, c := setup(t)
	future := time.Now().Add(time.Minute)
	deadLetter(t, c, q, sendRequest("111111", "a@example.com", future), string(mailer.ReasonSenderNotVerified))
	deadLetter(t, c, q, sendRequest("222222", "b@example.com", future), string(mailer.ReasonSenderNotVerified))
	deadLetter(t, c, q, `not json`, string(mailer.ReasonMalformed))

	moved, err := q.Redrive(t.Context(), string(mailer.ReasonSenderNotVerified))
	if err != nil || moved != 2 {
		t.Fatalf("moved %d, %v; want 2", moved, err)
	}
	status, _ := q.Status(t.Context())
	if status[0].Visible != 2 || status[1].Visible != 1 {
		t.Errorf("after redrive: send %+v, dlq %+v", status[0], status[1])
	}
	out, _ := c.ReceiveMessage(t.Context(), &sqs.ReceiveMessageInput{QueueUrl: aws.String(q.SendQueue), MaxNumberOfMessages: 10, MessageAttributeNames: []string{"All"}})
	for _, m := range out.Messages {
		if _, err := contract.DecodeSendRequest([]byte(aws.ToString(m.Body))); err != nil {
			t.Errorf("redriven body is no longer a send request: %v", err)
		}
		if _, ok := m.MessageAttributes[mailer.AttrReason]; ok {
			t.Error("redriven message still carries its dead-letter reason")
		}
	}
	if _, err := q.Redrive(t.Context(), string(mailer.ReasonRejected)); !errors.Is(err, ErrNothingToRedrive) {
		t.Errorf("redrive of an absent reason: %v", err)
	}
}

func TestRedriveAllUsesAMoveTask(t *testing.T) {
	q, c := setup(t)
	for i := range 3 {
		deadLetter(t, c, q, sendRequest(fmt.Sprintf("33333%d", i), "a@example.com", time.Now().Add(time.Minute)), string(mailer.ReasonRejected))
	}
	ctx, cancel := context.WithTimeout(t.Context(), 20*time.Second)
	defer cancel()
	moved, err := q.Redrive(ctx, "")
	if err != nil || moved != 3 {
		t.Fatalf("moved %d, %v; want 3", moved, err)
	}
	status, _ := q.Status(t.Context())
	if status[0].Visible != 3 || status[1].Visible != 0 {
		t.Errorf("after redrive all: %+v", status)
	}
}

// TestRedriveAllWaitsForDeadLettersInFlight: a move task skips messages in
// flight (here, one another reader holds); redriving everything waits for
// it to come back and moves it too, or says what it could not move.
func TestRedriveAllWaitsForDeadLettersInFlight(t *testing.T) {
	tests := []struct {
		name       string
		hold       int32 // seconds the other reader hides one message
		wait       time.Duration
		wantMoved  int
		wantErrMsg string
	}{
		{"it comes back in time", 1, 5 * time.Second, 3, ""},
		{"it does not", 60, 1500 * time.Millisecond, 2, "1 dead letters stayed in flight"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			q, c := setup(t)
			q.InFlightWait = tc.wait
			for i := range 3 {
				deadLetter(t, c, q, sendRequest(fmt.Sprintf("44444%d", i), "a@example.com", time.Now().Add(time.Minute)), string(mailer.ReasonRejected))
			}
			if _, err := c.ReceiveMessage(t.Context(), &sqs.ReceiveMessageInput{QueueUrl: aws.String(q.DeadLetterQueue), MaxNumberOfMessages: 1, VisibilityTimeout: tc.hold}); err != nil {
				t.Fatal(err)
			}
			ctx, cancel := context.WithTimeout(t.Context(), 20*time.Second)
			defer cancel()
			moved, err := q.Redrive(ctx, "")
			if moved != tc.wantMoved || (tc.wantErrMsg == "") != (err == nil) || err != nil && !strings.Contains(err.Error(), tc.wantErrMsg) {
				t.Errorf("moved %d, %v; want %d, %q", moved, err, tc.wantMoved, tc.wantErrMsg)
			}
		})
	}
}
