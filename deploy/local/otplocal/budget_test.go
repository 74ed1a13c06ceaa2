package otplocal

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sqs"

	"github.com/cognito-email-otp/cognito-email-otp/deploy/local/awslocal"
	"github.com/cognito-email-otp/cognito-email-otp/mailer/contract"
)

// TestBudgetOutageRefusesOnlyTheCodeStep: with the failure budget's table
// gone, a sign-in is refused at the code step, said so in an error log line
// with the alarm's metric, and no email goes out; the rest of the system
// (wrong passwords, the queue, the mailer) carries on.
func TestBudgetOutageRefusesOnlyTheCodeStep(t *testing.T) {
	sys, logs := start(t, Options{})
	ctx := t.Context()
	acme := client(sys, "otplocalacmeweb0000000001")
	u, err := acme.Start(ctx, "rosa@example.com", DemoPassword)
	if err != nil {
		t.Fatal(err)
	}
	_, code := inbox(t, sys, "rosa@example.com", 1)
	if err := u.Answer(ctx, code, nil); err != nil || u.Result == nil {
		t.Fatalf("before the outage: %v", err)
	}

	sys.DynamoDB.Kill()
	start := time.Now()
	if _, err := acme.Start(ctx, "lena@example.com", DemoPassword); errCode(err) != "NotAuthorizedException" {
		t.Fatalf("sign-in during the outage: %v, want NotAuthorizedException", err)
	}
	if d := time.Since(start); d > 4*time.Second {
		t.Errorf("the refusal took %s; Cognito gives a trigger 5 s", d)
	}
	if _, err := acme.Start(ctx, "lena@example.com", "not the password"); errCode(err) != "NotAuthorizedException" {
		t.Errorf("wrong password during the outage: %v", err)
	}
	var refusal string
	for _, line := range strings.Split(logs.String(), "\n") {
		if strings.Contains(line, `"reason":"budget_unavailable"`) {
			refusal = line
		}
	}
	if !strings.Contains(refusal, `"level":"ERROR"`) || !strings.Contains(refusal, `"BudgetUnavailable":1`) || !strings.Contains(refusal, `"budget_error"`) {
		t.Errorf("the refusal's log line lacks its level, metric or cause: %s", refusal)
	}

	// The pipeline does not depend on the budget.
	body, err := contract.SendRequest{V: contract.SendRequestVersion, Kind: contract.KindSignInCode, ID: "outage-0001", Tenant: "acme", To: "pipeline@example.com",
		Code: "123456", IssuedAt: time.Now(), ExpiresAt: time.Now().Add(time.Minute)}.Encode()
	if err != nil {
		t.Fatal(err)
	}
	if _, err := sqs.NewFromConfig(awslocal.Config(sys.URL)).SendMessage(ctx, &sqs.SendMessageInput{QueueUrl: aws.String(sys.Queues().SendQueue), MessageBody: aws.String(string(body))}); err != nil {
		t.Fatal(err)
	}
	inbox(t, sys, "pipeline@example.com", 1)
	waitCtx, cancel := context.WithTimeout(ctx, time.Second)
	defer cancel()
	<-waitCtx.Done()
	if n := sys.SES.Outbox().Count(); n != 2 {
		t.Errorf("%d emails, want the first sign-in's and the pipeline's: none for the refused sign-in", n)
	}
}

// TestCreateFailureTellsTheClientNothing: Cognito hands a trigger's error
// text to the client (UserLambdaValidationException "CreateAuthChallenge
// failed with error <text>."); with the send queue gone, the client sees
// one fixed sentence, and the queue URL and SDK error go to the log only.
func TestCreateFailureTellsTheClientNothing(t *testing.T) {
	sys, logs := start(t, Options{})
	ctx := t.Context()
	if _, err := sqs.NewFromConfig(awslocal.Config(sys.URL)).DeleteQueue(ctx, &sqs.DeleteQueueInput{QueueUrl: aws.String(sys.Queues().SendQueue)}); err != nil {
		t.Fatal(err)
	}
	_, err := client(sys, "otplocalacmeweb0000000001").Start(ctx, "rosa@example.com", DemoPassword)
	if errCode(err) != "UserLambdaValidationException" {
		t.Fatalf("err %v, want UserLambdaValidationException", err)
	}
	msg := err.Error()
	if !strings.Contains(msg, "CreateAuthChallenge failed with error the sign-in code could not be sent; please sign in again.") ||
		strings.Contains(msg, SendQueue) || strings.Contains(msg, "NonExistentQueue") || strings.Contains(msg, "000000000000") {
		t.Errorf("the client sees: %s", msg)
	}
	if !strings.Contains(logs.String(), "NonExistentQueue") && !strings.Contains(logs.String(), "QueueDoesNotExist") {
		t.Errorf("the cause is not in the log:\n%s", logs.String())
	}
}

// TestAStalledQueueFailsCreateOnceAndInTime: with SQS stalling past
// Cognito's 5 s, Create gives up on its own deadline and fails the sign-in
// with its one fixed error, well inside Cognito's wait, so Cognito never
// retries it into a second code and a second email.
func TestAStalledQueueFailsCreateOnceAndInTime(t *testing.T) {
	sys, logs := start(t, Options{})
	sys.SQS.StallSendMessage(6 * time.Second)
	start := time.Now()
	_, err := client(sys, "otplocalacmeweb0000000001").Start(t.Context(), "rosa@example.com", DemoPassword)
	took := time.Since(start)
	if errCode(err) != "UserLambdaValidationException" || !strings.Contains(err.Error(), "could not be sent") {
		t.Fatalf("err %v, want Create's fixed error", err)
	}
	if took > 4*time.Second {
		t.Errorf("the sign-in failed after %s; Cognito gives up on a trigger at 5 s and retries it", took)
	}
	if n := strings.Count(logs.String(), `"trigger":"create"`); n != 1 {
		t.Errorf("Create ran %d times, want once", n)
	}
	sys.SQS.StallSendMessage(0)
	time.Sleep(7 * time.Second) // the stalled request lands
	if n := sys.SES.Outbox().Count(); n > 1 {
		t.Errorf("%d emails for one failed sign-in", n)
	}
}
