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
	u, err := acme.Start(ctx, "demo@example.com", DemoPassword)
	if err != nil {
		t.Fatal(err)
	}
	_, code := inbox(t, sys, "demo@example.com", 1)
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
	body, err := contract.SendRequest{V: contract.SendRequestVersion, ID: "outage-0001", Tenant: "acme", To: "pipeline@example.com",
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
