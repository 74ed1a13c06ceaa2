package doctor

import (
	"context"
	"fmt"
	"slices"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/lambda"
	lambdatypes "github.com/aws/aws-sdk-go-v2/service/lambda/types"
)

// function is what the checks learnt of the mailer function.
type function struct {
	timeout int               // seconds; 0 unknown
	env     map[string]string // nil: not readable
}

// function reads the mailer's configuration (GetFunctionConfiguration).
func (d *doctor) function(ctx context.Context) (*function, Result) {
	res := Result{Check: CheckFunction, Subject: d.Function}
	if d.Lambda == nil {
		res.State, res.Detail, res.Fix = Fail, "no Lambda client", "internal: doctor.Config.Lambda is required with Function"
		return nil, res
	}
	out, err := d.Lambda.GetFunctionConfiguration(ctx, &lambda.GetFunctionConfigurationInput{FunctionName: aws.String(d.Function)})
	switch {
	case is[*lambdatypes.ResourceNotFoundException](err):
		res.State = Fail
		res.Detail = fmt.Sprintf("function %s does not exist in %s", d.Function, d.Region)
		res.Fix = "name the stack's mailer function with --function (its physical name, or its ARN)"
		return nil, res
	case err != nil:
		res.State, res.Detail, res.Fix = Fail, describe("Lambda GetFunctionConfiguration "+d.Function, err), permissionFix("lambda:GetFunctionConfiguration")
		return nil, res
	}
	fn := &function{timeout: int(aws.ToInt32(out.Timeout))}
	if e := out.Environment; e != nil && e.Error == nil {
		fn.env = e.Variables
		if fn.env == nil {
			fn.env = map[string]string{}
		}
	}
	detail := fmt.Sprintf("%s: timeout %ds, %d MB, %s, %s", d.Function, fn.timeout, aws.ToInt32(out.MemorySize), orDash(string(out.Runtime)), orDash(string(out.State)))
	switch {
	case out.State != "" && out.State != lambdatypes.StateActive:
		res.State = Fail
		res.Detail = fmt.Sprintf("%s is %s, not Active: %s", d.Function, out.State, orDash(aws.ToString(out.StateReason)))
		res.Fix = "see the function's StateReasonCode; a failed function must be fixed and deployed again"
	case out.LastUpdateStatus == lambdatypes.LastUpdateStatusFailed:
		res.State = Fail
		res.Detail = fmt.Sprintf("%s's last update failed: %s", d.Function, orDash(aws.ToString(out.LastUpdateStatusReason)))
		res.Fix = "deploy the function again"
	default:
		res.State, res.Detail = OK, detail
		if fn.env == nil {
			res.Detail += "; its environment is not readable, so the sender and configuration set checked are the ones given"
		}
	}
	return fn, res
}

// minMaximumConcurrency is the smallest ScalingConfig.MaximumConcurrency
// Lambda accepts.
const minMaximumConcurrency = 2

// mappings checks the mailer's event source mapping from the send queue.
func (d *doctor) mappings(ctx context.Context, fn *function, q queues) []Result {
	res := Result{Check: CheckMapping, Subject: d.Function}
	switch {
	case fn == nil:
		res.State, res.Detail = Skip, "needs the function"
		return []Result{res}
	case !q.send.ok || q.send.arn == "":
		res.State, res.Detail = Skip, "needs the send queue"
		return []Result{res}
	}
	var list []lambdatypes.EventSourceMappingConfiguration
	in := &lambda.ListEventSourceMappingsInput{FunctionName: aws.String(d.Function), EventSourceArn: aws.String(q.send.arn)}
	for {
		out, err := d.Lambda.ListEventSourceMappings(ctx, in)
		if err != nil {
			res.State, res.Detail, res.Fix = Fail, describe("Lambda ListEventSourceMappings", err), permissionFix("lambda:ListEventSourceMappings")
			return []Result{res}
		}
		list = append(list, out.EventSourceMappings...)
		if aws.ToString(out.NextMarker) == "" {
			break
		}
		in.Marker = out.NextMarker
	}
	if len(list) == 0 {
		res.State = Fail
		res.Detail = fmt.Sprintf("no event source mapping from %s to %s: nothing sends the queued codes", q.send.name, d.Function)
		res.Fix = fmt.Sprintf("create it as the SAM template does: aws lambda create-event-source-mapping --function-name %s --event-source-arn %s --batch-size 10 --function-response-types ReportBatchItemFailures --scaling-config MaximumConcurrency=10",
			d.Function, q.send.arn)
		return []Result{res}
	}
	var rows []Result
	for _, m := range list {
		rows = append(rows, mappingRow(d.Function, q.send.name, m))
	}
	return rows
}

func mappingRow(fn, queue string, m lambdatypes.EventSourceMappingConfiguration) Result {
	id := aws.ToString(m.UUID)
	res := Result{Check: CheckMapping, Subject: fn}
	var problems, fixes []string
	if state := aws.ToString(m.State); state != "Enabled" {
		problems = append(problems, fmt.Sprintf("it is %s, not Enabled: queued codes wait until they expire", orDash(state)))
		fixes = append(fixes, fmt.Sprintf("aws lambda update-event-source-mapping --uuid %s --enabled", id))
	}
	if !slices.Contains(m.FunctionResponseTypes, lambdatypes.FunctionResponseTypeReportBatchItemFailures) {
		// The mailer reports a failed send as a batch item failure and
		// returns success; without this setting Lambda ignores the list
		// and deletes the whole batch.
		problems = append(problems, "it lacks ReportBatchItemFailures: Lambda deletes every message of a batch the mailer returns, failed sends too, so those codes are lost, not retried")
		fixes = append(fixes, fmt.Sprintf("aws lambda update-event-source-mapping --uuid %s --function-response-types ReportBatchItemFailures", id))
	}
	concurrency := 0
	if m.ScalingConfig != nil {
		concurrency = int(aws.ToInt32(m.ScalingConfig.MaximumConcurrency))
	}
	if concurrency < minMaximumConcurrency {
		// Without a cap, a burst of sign-ins can scale the mailer into the
		// account's concurrency, and the Cognito triggers, which share it,
		// are throttled: sign-ins fail.
		problems = append(problems, "it has no ScalingConfig.MaximumConcurrency of at least 2: a burst can take the account's Lambda concurrency from the Cognito triggers, and sign-ins fail")
		fixes = append(fixes, fmt.Sprintf("aws lambda update-event-source-mapping --uuid %s --scaling-config MaximumConcurrency=10", id))
	}
	if len(problems) > 0 {
		res.State = Fail
		res.Detail = fmt.Sprintf("mapping %s from %s: %s", id, queue, strings.Join(problems, "; "))
		res.Fix = strings.Join(fixes, "; ")
		return res
	}
	res.State = OK
	res.Detail = fmt.Sprintf("mapping %s from %s: Enabled, batch %d, ReportBatchItemFailures, maximum concurrency %d", id, queue, aws.ToInt32(m.BatchSize), concurrency)
	return res
}
