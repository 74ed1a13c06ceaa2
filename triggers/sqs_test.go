package triggers

import (
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	sqstypes "github.com/aws/aws-sdk-go-v2/service/sqs/types"

	"github.com/cognito-email-otp/cognito-email-otp/deploy/local/awslocal"
	"github.com/cognito-email-otp/cognito-email-otp/deploy/local/sqslocal"
	"github.com/cognito-email-otp/cognito-email-otp/mailer/contract"
	"github.com/cognito-email-otp/cognito-email-otp/mailer/queue"
)

// TestCreateEnqueuesOnSQS runs a sign-in whose Create trigger enqueues with
// the real SQS client over HTTP, reads the message back as the mailer
// would, and signs in with the code it carries.
func TestCreateEnqueuesOnSQS(t *testing.T) {
	local := sqslocal.New(sqslocal.Options{})
	srv := httptest.NewServer(local)
	t.Cleanup(func() { local.Close(); srv.Close() })
	client := sqs.NewFromConfig(awslocal.Config(srv.URL))
	q, err := client.CreateQueue(t.Context(), &sqs.CreateQueueInput{QueueName: aws.String("otp-send")})
	if err != nil {
		t.Fatal(err)
	}

	r := newRigWithQueue(t, queue.SQS{Client: client, URL: aws.ToString(q.QueueUrl)})
	s := r.signIn(t, copyAttrs(map[string]string{"custom:tenant": "globex", "locale": "fr-CA"})).start(true).password(true)
	s.expect(stateWantCode)

	out, err := client.ReceiveMessage(t.Context(), &sqs.ReceiveMessageInput{
		QueueUrl: q.QueueUrl, MaxNumberOfMessages: 10, WaitTimeSeconds: 1, MessageAttributeNames: []string{"All"},
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(out.Messages) != 1 {
		t.Fatalf("%d messages on the queue, want 1", len(out.Messages))
	}
	m := out.Messages[0]
	req, err := contract.DecodeSendRequest([]byte(aws.ToString(m.Body)))
	if err != nil {
		t.Fatalf("queued body is not a send request: %v", err)
	}
	if req.Tenant != "globex" || req.Locale != "fr-CA" || req.To != "rosa@example.com" || req.ID != s.private[privChallengeID] {
		t.Errorf("send request %v", req)
	}
	attrs := map[string]sqstypes.MessageAttributeValue(m.MessageAttributes)
	if aws.ToString(attrs[contract.AttrTenant].StringValue) != "globex" || aws.ToString(attrs[contract.AttrVersion].StringValue) != "2" ||
		aws.ToString(attrs[contract.AttrKind].StringValue) != "signin_code" {
		t.Errorf("message attributes %v", attrs)
	}
	if strings.Contains(s.logs(), req.Code.Reveal()) {
		t.Error("the code reached the logs")
	}
	s.answer(req.Code.Reveal())
	if s.state != stateTokens {
		t.Errorf("signing in with the queued code: state %s", s.state)
	}
}
