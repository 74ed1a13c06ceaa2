package mailer

import (
	"context"
	"fmt"
	"strconv"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	"github.com/aws/aws-sdk-go-v2/service/sqs/types"
)

// Message attribute names on send requests. They let otpctl and the ops page
// group messages by tenant without opening bodies, which hold codes.
const (
	AttrVersion = "otp_version"
	AttrTenant  = "otp_tenant"
)

// SQSSendAPI is the one SQS call the Create trigger makes.
type SQSSendAPI interface {
	SendMessage(ctx context.Context, in *sqs.SendMessageInput, opts ...func(*sqs.Options)) (*sqs.SendMessageOutput, error)
}

// Queue enqueues send requests on the mailer's SQS queue.
type Queue struct {
	Client SQSSendAPI
	URL    string
}

// Enqueue validates and sends one request. The error names the request id,
// never the body.
func (q Queue) Enqueue(ctx context.Context, r SendRequest) error {
	body, err := r.Encode()
	if err != nil {
		return fmt.Errorf("enqueue %s: %w", r.ID, err)
	}
	_, err = q.Client.SendMessage(ctx, &sqs.SendMessageInput{
		QueueUrl:    aws.String(q.URL),
		MessageBody: aws.String(string(body)),
		MessageAttributes: map[string]types.MessageAttributeValue{
			AttrVersion: {DataType: aws.String("Number"), StringValue: aws.String(strconv.Itoa(r.V))},
			AttrTenant:  {DataType: aws.String("String"), StringValue: aws.String(r.Tenant)},
		},
	})
	if err != nil {
		return fmt.Errorf("enqueue %s: sqs SendMessage: %w", r.ID, err)
	}
	return nil
}
