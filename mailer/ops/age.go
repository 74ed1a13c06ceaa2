package ops

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatch"
	cwtypes "github.com/aws/aws-sdk-go-v2/service/cloudwatch/types"
	"github.com/aws/smithy-go"
)

// MetricsAPI is the CloudWatch call queue status needs.
type MetricsAPI interface {
	GetMetricData(ctx context.Context, in *cloudwatch.GetMetricDataInput, opts ...func(*cloudwatch.Options)) (*cloudwatch.GetMetricDataOutput, error)
}

// GetMetricDataAction is the IAM action OldestAges needs.
const GetMetricDataAction = "cloudwatch:GetMetricData"

// AgeWindow is how far back OldestAges looks for the latest datapoint:
// SQS publishes once a minute and CloudWatch shows it a minute or more
// later, so the last minute alone is often empty.
const AgeWindow = 5 * time.Minute

// ageWait bounds the CloudWatch call: queue status prints the depths
// anyway, and should not hang on the age.
const ageWait = 10 * time.Second

// AgeError says why the oldest message's age is missing. The depths it
// came with are right all the same.
type AgeError struct {
	// Denied is true when CloudWatch refused the caller: its policy lacks
	// GetMetricDataAction.
	Denied bool
	Err    error
}

func (e *AgeError) Error() string {
	cause := e.Err.Error()
	// The API's own words, without the SDK's wrapping of operation,
	// status and request id.
	if ae := smithy.APIError(nil); errors.As(e.Err, &ae) {
		cause = ae.ErrorCode() + ": " + ae.ErrorMessage()
	}
	cause = strings.Join(strings.Fields(cause), " ") // CloudWatch's messages end in newlines
	if e.Denied {
		return fmt.Sprintf("the age of the oldest message is missing: CloudWatch refused GetMetricData; the caller needs %s (%s)", GetMetricDataAction, cause)
	}
	return fmt.Sprintf("the age of the oldest message is missing: CloudWatch GetMetricData (%s) failed: %s", GetMetricDataAction, cause)
}

func (e *AgeError) Unwrap() error { return e.Err }

// OldestAges sets each queue's OldestAgeSeconds from CloudWatch: AWS/SQS
// ApproximateAgeOfOldestMessage by QueueName, the Maximum over one-minute
// periods, the latest datapoint within AgeWindow of now. On an error
// (*AgeError) the statuses keep no age.
func OldestAges(ctx context.Context, cw MetricsAPI, status []QueueStatus, now time.Time) error {
	if len(status) == 0 {
		return nil
	}
	queries := make([]cwtypes.MetricDataQuery, len(status))
	for i, s := range status {
		queries[i] = cwtypes.MetricDataQuery{
			Id: aws.String(fmt.Sprintf("q%d", i)),
			MetricStat: &cwtypes.MetricStat{
				Metric: &cwtypes.Metric{Namespace: aws.String("AWS/SQS"), MetricName: aws.String("ApproximateAgeOfOldestMessage"),
					Dimensions: []cwtypes.Dimension{{Name: aws.String("QueueName"), Value: aws.String(s.Name)}}},
				Period: aws.Int32(60), Stat: aws.String("Maximum"),
			},
		}
	}
	ctx, cancel := context.WithTimeout(ctx, ageWait)
	defer cancel()
	out, err := cw.GetMetricData(ctx, &cloudwatch.GetMetricDataInput{
		// Whole minutes, as CloudWatch answers fastest; the end is
		// exclusive, so it is the start of the next minute.
		StartTime: aws.Time(now.Add(-AgeWindow).Truncate(time.Minute)), EndTime: aws.Time(now.Truncate(time.Minute).Add(time.Minute)),
		ScanBy: cwtypes.ScanByTimestampDescending, MetricDataQueries: queries,
	})
	if err != nil {
		return &AgeError{Denied: accessDenied(err), Err: err}
	}
	for _, r := range out.MetricDataResults {
		var i int
		if _, err := fmt.Sscanf(aws.ToString(r.Id), "q%d", &i); err != nil || i < 0 || i >= len(status) ||
			len(r.Values) == 0 || len(r.Timestamps) != len(r.Values) {
			continue
		}
		// Newest first; take the newest even if the order were otherwise.
		newest := 0
		for j := range r.Timestamps {
			if r.Timestamps[j].After(r.Timestamps[newest]) {
				newest = j
			}
		}
		v, at := r.Values[newest], r.Timestamps[newest].UTC()
		status[i].OldestAgeSeconds, status[i].OldestAgeAt = &v, &at
	}
	return nil
}

// accessDenied recognises IAM's refusal, in the codes CloudWatch's
// protocols give it.
func accessDenied(err error) bool {
	var ae smithy.APIError
	if !errors.As(err, &ae) {
		return false
	}
	switch ae.ErrorCode() {
	case "AccessDenied", "AccessDeniedException", "UnauthorizedOperation":
		return true
	}
	return false
}
