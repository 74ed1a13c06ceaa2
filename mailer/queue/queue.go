// Package queue puts send requests on the mailer's SQS queue. Only the
// Create trigger (and otp-local) link it; the contract itself imports no
// AWS SDK.
package queue

import (
	"context"
	"fmt"
	"strconv"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/aws/retry"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	"github.com/aws/aws-sdk-go-v2/service/sqs/types"

	"github.com/cognito-email-otp/cognito-email-otp/mailer/contract"
)

// SendMessageAPI is the one SQS call the Create trigger makes.
type SendMessageAPI interface {
	SendMessage(ctx context.Context, in *sqs.SendMessageInput, opts ...func(*sqs.Options)) (*sqs.SendMessageOutput, error)
}

// SQS enqueues send requests on the mailer's queue.
type SQS struct {
	Client SendMessageAPI
	URL    string
}

// Enqueue validates and sends one request. The error names the request id,
// never the body.
func (q SQS) Enqueue(ctx context.Context, r contract.SendRequest) error {
	body, err := r.Encode()
	if err != nil {
		return fmt.Errorf("enqueue %s: %w", r.ID, err)
	}
	_, err = q.Client.SendMessage(ctx, &sqs.SendMessageInput{
		QueueUrl:    aws.String(q.URL),
		MessageBody: aws.String(string(body)),
		MessageAttributes: map[string]types.MessageAttributeValue{
			contract.AttrVersion: {DataType: aws.String("Number"), StringValue: aws.String(strconv.Itoa(r.V))},
			contract.AttrTenant:  {DataType: aws.String("String"), StringValue: aws.String(r.Tenant)},
			contract.AttrKind:    {DataType: aws.String("String"), StringValue: aws.String(string(r.Kind))},
		},
	})
	if err != nil {
		return fmt.Errorf("enqueue %s: sqs SendMessage: %w", r.ID, err)
	}
	return nil
}

// New returns an enqueuer whose client retries at most twice, quickly, so
// that the Create trigger's bounded enqueue (triggers.enqueueTimeout) ends
// in one clear failure rather than the SDK's default waits.
func New(cfg aws.Config, url string) SQS {
	client := sqs.NewFromConfig(cfg, func(o *sqs.Options) {
		o.Retryer = retry.NewStandard(func(so *retry.StandardOptions) {
			so.MaxAttempts = 3
			so.MaxBackoff = 200 * time.Millisecond
		})
	})
	return SQS{Client: client, URL: url}
}
