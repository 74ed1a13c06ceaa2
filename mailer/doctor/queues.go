package doctor

import (
	"context"
	"encoding/json"
	"fmt"
	"net/url"
	"strconv"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	sqstypes "github.com/aws/aws-sdk-go-v2/service/sqs/types"
)

// queue is what the checks learnt of one queue.
type queue struct {
	name, url, arn string
	attrs          map[string]string
	ok             bool
}

type queues struct {
	rows      []Result
	send, dlq queue
}

// queues checks that both queues exist, that the send queue redrives to
// the dead-letter queue, and its visibility timeout against the mailer's.
func (d *doctor) queues(ctx context.Context, fn *function) queues {
	var q queues
	var row Result
	q.send, row = d.queue(ctx, CheckQueue, d.SendQueue, "--queue (the stack's SendQueueUrl output; env OTP_QUEUE_URL)",
		sqstypes.QueueAttributeNameQueueArn, sqstypes.QueueAttributeNameVisibilityTimeout, sqstypes.QueueAttributeNameRedrivePolicy)
	q.rows = append(q.rows, row)
	q.dlq, row = d.queue(ctx, CheckDeadLetterQueue, d.DeadLetterQueue, "--dlq (the stack's DeadLetterQueueUrl output; env OTP_DLQ_URL)",
		sqstypes.QueueAttributeNameQueueArn)
	if q.dlq.ok && fn != nil && fn.env != nil {
		// The mailer writes its dead letters itself, to OTP_DLQ_URL; the
		// redrive policy only catches what it could not.
		if v, ok := fn.env["OTP_DLQ_URL"]; ok && !sameQueue(v, q.dlq.url) {
			row.State = Fail
			row.Detail = fmt.Sprintf("%s exists, but the mailer's OTP_DLQ_URL is %s: its dead letters go there, where otpctl dlq and the alarm do not look", q.dlq.name, v)
			row.Fix = "set the function's OTP_DLQ_URL to " + q.dlq.url + ", or pass the queue the mailer uses as --dlq"
		}
	}
	q.rows = append(q.rows, row, d.redrive(q, fn), d.visibility(q, fn))
	return q
}

func (d *doctor) queue(ctx context.Context, check, nameOrURL, flag string, attrs ...sqstypes.QueueAttributeName) (queue, Result) {
	q := queue{name: nameOrURL, url: nameOrURL}
	if u, err := url.Parse(nameOrURL); err == nil && u.Scheme != "" {
		q.name = u.Path[strings.LastIndexByte(u.Path, '/')+1:]
	}
	res := Result{Check: check, Subject: q.name}
	missing := func() (queue, Result) {
		res.State = Fail
		res.Detail = fmt.Sprintf("queue %s does not exist in %s", nameOrURL, d.Region)
		res.Fix = "deploy the stack (sam deploy), or name the right queue with " + flag
		return q, res
	}
	if q.url == q.name {
		out, err := d.SQS.GetQueueUrl(ctx, &sqs.GetQueueUrlInput{QueueName: aws.String(nameOrURL)})
		switch {
		case is[*sqstypes.QueueDoesNotExist](err):
			return missing()
		case err != nil:
			res.State, res.Detail, res.Fix = Fail, describe("SQS GetQueueUrl "+nameOrURL, err), permissionFix("sqs:GetQueueUrl")
			return q, res
		}
		q.url = aws.ToString(out.QueueUrl)
	}
	out, err := d.SQS.GetQueueAttributes(ctx, &sqs.GetQueueAttributesInput{QueueUrl: aws.String(q.url), AttributeNames: attrs})
	switch {
	case is[*sqstypes.QueueDoesNotExist](err):
		return missing()
	case err != nil:
		res.State, res.Detail, res.Fix = Fail, describe("SQS GetQueueAttributes "+q.name, err), permissionFix("sqs:GetQueueAttributes")
		return q, res
	}
	q.attrs, q.arn, q.ok = out.Attributes, out.Attributes[string(sqstypes.QueueAttributeNameQueueArn)], true
	res.State, res.Detail = OK, fmt.Sprintf("%s exists (%s)", q.name, q.url)
	return q, res
}

// sameQueue compares queue URLs by account and name: SQS answers with
// more than one host name for the same queue.
func sameQueue(a, b string) bool {
	tail := func(s string) string {
		u, err := url.Parse(s)
		if err != nil {
			return s
		}
		return strings.Trim(u.Path, "/")
	}
	return tail(a) == tail(b)
}

// redrivePolicy is the send queue's RedrivePolicy. SQS writes
// maxReceiveCount as a number; older tools and otp-local as a string.
type redrivePolicy struct {
	DeadLetterTargetArn string          `json:"deadLetterTargetArn"`
	MaxReceiveCount     json.RawMessage `json:"maxReceiveCount"`
}

func (d *doctor) redrive(q queues, fn *function) Result {
	res := Result{Check: CheckRedrive, Subject: q.send.name}
	if !q.send.ok || !q.dlq.ok {
		res.State, res.Detail = Skip, "needs both queues"
		return res
	}
	raw := q.send.attrs[string(sqstypes.QueueAttributeNameRedrivePolicy)]
	if raw == "" {
		res.State = Fail
		res.Detail = fmt.Sprintf("%s has no redrive policy: a message the mailer cannot handle comes back until it expires, and no alarm sees it", q.send.name)
		res.Fix = fmt.Sprintf("set its RedrivePolicy to %s with maxReceiveCount 5, as the SAM template does", q.dlq.name)
		return res
	}
	var p redrivePolicy
	if err := json.Unmarshal([]byte(raw), &p); err != nil {
		res.State, res.Detail, res.Fix = Fail, fmt.Sprintf("%s's RedrivePolicy is not JSON: %v", q.send.name, err), "set the RedrivePolicy again"
		return res
	}
	n, err := strconv.Atoi(strings.Trim(string(p.MaxReceiveCount), `"`))
	switch {
	case p.DeadLetterTargetArn != q.dlq.arn:
		res.State = Fail
		res.Detail = fmt.Sprintf("%s redrives to %s, not to %s (%s)", q.send.name, orDash(p.DeadLetterTargetArn), q.dlq.name, q.dlq.arn)
		res.Fix = fmt.Sprintf("point the RedrivePolicy's deadLetterTargetArn at %s, or pass the queue it names as --dlq", q.dlq.arn)
		return res
	case err != nil || n < 1:
		res.State = Fail
		res.Detail = fmt.Sprintf("%s's RedrivePolicy has no valid maxReceiveCount (%s)", q.send.name, orDash(string(p.MaxReceiveCount)))
		res.Fix = "set maxReceiveCount to 5, as the SAM template does"
		return res
	}
	res.State, res.Detail = OK, fmt.Sprintf("%s redrives to %s after %d receives", q.send.name, q.dlq.name, n)
	if fn != nil && fn.env != nil {
		// The mailer dead-letters a message itself, code removed, on its
		// last receive; it must know which receive that is.
		if v, ok := fn.env["OTP_MAX_RECEIVES"]; ok {
			m, err := strconv.Atoi(v)
			switch {
			case err != nil:
				res.State, res.Detail = Fail, fmt.Sprintf("the mailer's OTP_MAX_RECEIVES %q is not a number", v)
				res.Fix = fmt.Sprintf("set OTP_MAX_RECEIVES to %d, the queue's maxReceiveCount", n)
			case m > n:
				res.State = Fail
				res.Detail = fmt.Sprintf("the mailer's OTP_MAX_RECEIVES is %d, above the queue's maxReceiveCount %d: SQS moves failing messages first, codes and all", m, n)
				res.Fix = fmt.Sprintf("set OTP_MAX_RECEIVES to %d", n)
			case m > 0 && m < n:
				res.State = Fail
				res.Detail = fmt.Sprintf("the mailer's OTP_MAX_RECEIVES is %d, below the queue's maxReceiveCount %d: it gives up on a send %d receives early", m, n, n-m)
				res.Fix = fmt.Sprintf("set OTP_MAX_RECEIVES to %d", n)
			case m == 0:
				res.Detail += "; the mailer leaves the last receive to SQS (OTP_MAX_RECEIVES 0), so those dead letters keep their codes"
			default:
				res.Detail += ", the mailer's OTP_MAX_RECEIVES"
			}
		}
	}
	return res
}

// visibilityFactor is AWS's guidance for a queue that feeds Lambda: a
// visibility timeout at least six times the function's timeout, so that a
// batch Lambda retries after a throttle is not redelivered meanwhile
// (https://docs.aws.amazon.com/lambda/latest/dg/services-sqs-configure.html).
// Lambda itself refuses only a mapping whose function timeout exceeds the
// visibility timeout.
const visibilityFactor = 6

func (d *doctor) visibility(q queues, fn *function) Result {
	res := Result{Check: CheckVisibility, Subject: q.send.name}
	if !q.send.ok {
		res.State, res.Detail = Skip, "needs the send queue"
		return res
	}
	vis, err := strconv.Atoi(q.send.attrs[string(sqstypes.QueueAttributeNameVisibilityTimeout)])
	if err != nil {
		res.State, res.Detail, res.Fix = Fail, "the send queue reported no VisibilityTimeout", permissionFix("sqs:GetQueueAttributes")
		return res
	}
	if fn == nil || fn.timeout <= 0 {
		res.State, res.Detail = Skip, fmt.Sprintf("VisibilityTimeout %ds; give --function to compare it with the mailer's timeout", vis)
		return res
	}
	t := fn.timeout
	switch {
	case vis < t:
		// Lambda refuses to create or update such a mapping; one made
		// before the timeout grew redelivers batches still being sent.
		res.State = Fail
		res.Detail = fmt.Sprintf("VisibilityTimeout %ds is shorter than %s's timeout %ds: a batch still being sent reappears, and another mailer may send its codes again", vis, d.Function, t)
		res.Fix = fmt.Sprintf("raise the queue's VisibilityTimeout to %ds (six times the timeout), or lower the function's timeout", visibilityFactor*t)
	case vis < visibilityFactor*t:
		// Guidance that Lambda does not enforce, failed all the same: a batch
		// Lambda retries after a throttle reappears on the queue meanwhile,
		// is received again, and its receive count runs towards the DLQ.
		res.State = Fail
		res.Detail = fmt.Sprintf("VisibilityTimeout %ds is %.1fx %s's timeout %ds; Lambda's guide for SQS event sources asks for at least %dx (%ds), so that a batch Lambda retries after a throttle is not redelivered meanwhile",
			vis, float64(vis)/float64(t), d.Function, t, visibilityFactor, visibilityFactor*t)
		res.Fix = fmt.Sprintf("raise VisibilityTimeout to %ds, as the SAM template has it", visibilityFactor*t)
		if lower := vis / visibilityFactor; lower >= 1 {
			res.Fix += fmt.Sprintf(", or lower the function's timeout to %ds", lower)
		}
	default:
		res.State, res.Detail = OK, fmt.Sprintf("VisibilityTimeout %ds is at least %dx %s's timeout %ds", vis, visibilityFactor, d.Function, t)
	}
	return res
}
