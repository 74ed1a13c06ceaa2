package ops

import (
	"context"
	"errors"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatch"
	cwtypes "github.com/aws/aws-sdk-go-v2/service/cloudwatch/types"
	"github.com/aws/smithy-go"

	"github.com/cognito-email-otp/cognito-email-otp/deploy/local/awslocal"
	"github.com/cognito-email-otp/cognito-email-otp/deploy/local/cloudwatchlocal"
)

type fakeCloudWatch struct {
	in  *cloudwatch.GetMetricDataInput
	out *cloudwatch.GetMetricDataOutput
	err error
}

func (f *fakeCloudWatch) GetMetricData(_ context.Context, in *cloudwatch.GetMetricDataInput, _ ...func(*cloudwatch.Options)) (*cloudwatch.GetMetricDataOutput, error) {
	f.in = in
	return f.out, f.err
}

func twoQueues() []QueueStatus {
	return []QueueStatus{{Role: "send", Name: "otp-send"}, {Role: "dead-letter", Name: "otp-send-dlq"}}
}

var now = time.Date(2026, 3, 1, 12, 7, 30, 0, time.UTC)

func TestOldestAgesAsksForTheLatestMaximum(t *testing.T) {
	cw := &fakeCloudWatch{out: &cloudwatch.GetMetricDataOutput{MetricDataResults: []cwtypes.MetricDataResult{
		{Id: aws.String("q0"), Values: []float64{42, 30}, Timestamps: []time.Time{now.Truncate(time.Minute), now.Add(-time.Minute).Truncate(time.Minute)}},
		{Id: aws.String("q1")}, // no datapoint: an empty DLQ
	}}}
	status := twoQueues()
	if err := OldestAges(t.Context(), cw, status, now); err != nil {
		t.Fatal(err)
	}
	if s := status[0]; s.OldestAgeSeconds == nil || *s.OldestAgeSeconds != 42 || !s.OldestAgeAt.Equal(time.Date(2026, 3, 1, 12, 7, 0, 0, time.UTC)) {
		t.Errorf("send: %v at %v, want 42 at 12:07", s.OldestAgeSeconds, s.OldestAgeAt)
	}
	if status[1].OldestAgeSeconds != nil {
		t.Errorf("dlq: %v, want no age", *status[1].OldestAgeSeconds)
	}
	in := cw.in
	if !in.StartTime.Equal(time.Date(2026, 3, 1, 12, 2, 0, 0, time.UTC)) || !in.EndTime.Equal(time.Date(2026, 3, 1, 12, 8, 0, 0, time.UTC)) {
		t.Errorf("window %v to %v, want 12:02 to 12:08", in.StartTime, in.EndTime)
	}
	for i, q := range in.MetricDataQueries {
		ms := q.MetricStat
		if aws.ToString(ms.Metric.Namespace) != "AWS/SQS" || aws.ToString(ms.Metric.MetricName) != "ApproximateAgeOfOldestMessage" ||
			aws.ToString(ms.Stat) != "Maximum" || aws.ToInt32(ms.Period) != 60 || len(ms.Metric.Dimensions) != 1 ||
			aws.ToString(ms.Metric.Dimensions[0].Name) != "QueueName" || aws.ToString(ms.Metric.Dimensions[0].Value) != status[i].Name {
			t.Errorf("query %d: %+v %+v", i, ms, ms.Metric)
		}
	}
}

func TestOldestAgesErrors(t *testing.T) {
	for _, tc := range []struct {
		name   string
		err    error
		denied bool
		want   string
	}{
		{"IAM refuses", &smithy.GenericAPIError{Code: "AccessDenied",
			Message: "User: arn:aws:sts::123456789012:assumed-role/ops/rosa is not authorized to perform: cloudwatch:GetMetricData"},
			true, "the age of the oldest message is missing: CloudWatch refused GetMetricData; the caller needs cloudwatch:GetMetricData (AccessDenied: User: arn:aws:sts::123456789012:assumed-role/ops/rosa is not authorized to perform: cloudwatch:GetMetricData)"},
		{"anything else", errors.New("dial tcp 10.0.0.1:443: i/o\ntimeout"),
			false, "the age of the oldest message is missing: CloudWatch GetMetricData (cloudwatch:GetMetricData) failed: dial tcp 10.0.0.1:443: i/o timeout"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			status := twoQueues()
			err := OldestAges(t.Context(), &fakeCloudWatch{err: tc.err}, status, now)
			var ae *AgeError
			if !errors.As(err, &ae) || ae.Denied != tc.denied || err.Error() != tc.want || !errors.Is(err, tc.err) {
				t.Errorf("got %v (denied %v)\nwant %s", err, ae != nil && ae.Denied, tc.want)
			}
			if strings.Contains(err.Error(), "\n") {
				t.Errorf("not one line: %q", err)
			}
			if status[0].OldestAgeSeconds != nil {
				t.Errorf("an age despite the error")
			}
		})
	}
}

// TestOldestAgesThroughTheSDK: the real client against otp-local's
// CloudWatch.
func TestOldestAgesThroughTheSDK(t *testing.T) {
	store := cloudwatchlocal.NewStore(cloudwatchlocal.Options{Now: func() time.Time { return now }})
	srv := httptest.NewServer(cloudwatchlocal.NewServer(store, cloudwatchlocal.ServerOptions{}))
	t.Cleanup(srv.Close)
	age := cloudwatchlocal.Metric{Namespace: "AWS/SQS", Name: "ApproximateAgeOfOldestMessage", Dimensions: []cloudwatchlocal.Dimension{{Name: "QueueName", Value: "otp-send"}}}
	store.Put(age, "Seconds", now.Add(-3*time.Minute), 7)
	store.Put(age, "Seconds", now.Add(-2*time.Minute), 19)
	store.Put(age, "Seconds", now.Add(-10*time.Minute), 900) // outside the window
	status := twoQueues()
	if err := OldestAges(t.Context(), cloudwatch.NewFromConfig(awslocal.Config(srv.URL)), status, now); err != nil {
		t.Fatal(err)
	}
	if s := status[0].OldestAgeSeconds; s == nil || *s != 19 {
		t.Errorf("send: %v, want 19 (the newest)", s)
	}
	if status[1].OldestAgeSeconds != nil {
		t.Errorf("dlq: %v, want none", *status[1].OldestAgeSeconds)
	}
}
