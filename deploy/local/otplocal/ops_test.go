package otplocal

import (
	"context"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sqs"

	"github.com/cognito-email-otp/cognito-email-otp/deploy/local/awslocal"
)

// TestOpsOldestAgrees: the queue table's Oldest for the dead-letter queue
// and the dead letter's "In DLQ" count from the same moment, the
// dead-lettering, while "Requested" counts from the code's request.
func TestOpsOldestAgrees(t *testing.T) {
	sys, _ := start(t, Options{})
	ctx, cancel := context.WithTimeout(t.Context(), 30*time.Second)
	defer cancel()
	q := sqs.NewFromConfig(awslocal.Config(sys.URL))
	if _, err := q.SendMessage(ctx, &sqs.SendMessageInput{QueueUrl: aws.String(sys.Queues().SendQueue), MessageBody: aws.String(`{"v":1`)}); err != nil {
		t.Fatal(err)
	}
	for {
		st, err := sys.OpsStatus(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if len(st.DeadLetters) == 1 {
			break
		}
		if ctx.Err() != nil {
			t.Fatal("the malformed message was not dead-lettered")
		}
		time.Sleep(50 * time.Millisecond)
	}
	time.Sleep(2500 * time.Millisecond) // let both ages grow past rounding
	st, err := sys.OpsStatus(ctx)
	if err != nil {
		t.Fatal(err)
	}
	d := st.DeadLetters[0]
	var oldest time.Duration
	for _, row := range st.Queues {
		if row.Role == "dead-letter" {
			oldest = row.OldestAge
		}
	}
	inQueue, err := time.ParseDuration(d.InQueue)
	if err != nil || d.DeadLetteredAt.IsZero() || d.MovedBySQS {
		t.Fatalf("dead letter %+v: in queue %q (%v)", d, d.InQueue, err)
	}
	if diff := oldest - inQueue; diff < -time.Second || diff > time.Second || oldest < 2*time.Second {
		t.Errorf("queue Oldest %v, dead letter In DLQ %v: they should agree", oldest, inQueue)
	}
	if d.CodeState() != "none" || d.Sendable() {
		t.Errorf("a malformed dead letter's code state is %q", d.CodeState())
	}
}
