package otplocal

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatch"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatch/types"
	"github.com/aws/aws-sdk-go-v2/service/sqs"

	"github.com/cognito-email-otp/cognito-email-otp/deploy/local/awslocal"
	"github.com/cognito-email-otp/cognito-email-otp/deploy/local/esm"
)

func metricQuery(id, namespace, name string, stat string, dims ...string) types.MetricDataQuery {
	var ds []types.Dimension
	for i := 0; i+1 < len(dims); i += 2 {
		ds = append(ds, types.Dimension{Name: aws.String(dims[i]), Value: aws.String(dims[i+1])})
	}
	return types.MetricDataQuery{Id: aws.String(id), MetricStat: &types.MetricStat{
		Metric: &types.Metric{Namespace: aws.String(namespace), MetricName: aws.String(name), Dimensions: ds},
		Period: aws.Int32(60), Stat: aws.String(stat)}}
}

// latest asks otp-local's CloudWatch, through the SDK, for the last five
// minutes of each query, newest first.
func latest(ctx context.Context, t *testing.T, cw *cloudwatch.Client, qs ...types.MetricDataQuery) map[string][]float64 {
	t.Helper()
	now := time.Now()
	out, err := cw.GetMetricData(ctx, &cloudwatch.GetMetricDataInput{
		StartTime: aws.Time(now.Add(-5 * time.Minute)), EndTime: aws.Time(now.Add(time.Minute)), MetricDataQueries: qs})
	if err != nil {
		t.Fatalf("GetMetricData: %v", err)
	}
	got := map[string][]float64{}
	for _, r := range out.MetricDataResults {
		got[aws.ToString(r.Id)] = r.Values
	}
	return got
}

// TestCloudWatchSQSMetrics: a send request that waits (no mailer polls
// here) shows in AWS/SQS ApproximateAgeOfOldestMessage once the
// once-a-minute sampler has run, as CloudWatch shows it; the empty DLQ has
// no age at all.
func TestCloudWatchSQSMetrics(t *testing.T) {
	sys, _ := start(t, Options{Mapping: esm.Config{Disabled: true}, MetricsInterval: 100 * time.Millisecond})
	ctx, cancel := context.WithTimeout(t.Context(), 20*time.Second)
	defer cancel()
	cw := cloudwatch.NewFromConfig(awslocal.Config(sys.URL))
	if _, err := sqs.NewFromConfig(awslocal.Config(sys.URL)).SendMessage(ctx, &sqs.SendMessageInput{
		QueueUrl: aws.String(sys.Queues().SendQueue), MessageBody: aws.String(`{"v":1}`)}); err != nil {
		t.Fatal(err)
	}
	qs := []types.MetricDataQuery{
		metricQuery("age", "AWS/SQS", "ApproximateAgeOfOldestMessage", "Maximum", "QueueName", SendQueue),
		metricQuery("visible", "AWS/SQS", "ApproximateNumberOfMessagesVisible", "Maximum", "QueueName", SendQueue),
		metricQuery("sent", "AWS/SQS", "NumberOfMessagesSent", "Sum", "QueueName", SendQueue),
		metricQuery("dlqage", "AWS/SQS", "ApproximateAgeOfOldestMessage", "Maximum", "QueueName", DeadLetters),
		metricQuery("dlqvisible", "AWS/SQS", "ApproximateNumberOfMessagesVisible", "Maximum", "QueueName", DeadLetters),
	}
	for {
		got := latest(ctx, t, cw, qs...)
		if age := got["age"]; len(age) > 0 && age[0] >= 1 {
			if v := got["visible"]; len(v) == 0 || v[0] != 1 {
				t.Errorf("visible %v, want 1", v)
			}
			if s := got["sent"]; len(s) == 0 || s[0] != 1 {
				t.Errorf("sent %v, want 1 (the sampler's counts per minute)", s)
			}
			if len(got["dlqage"]) != 0 || len(got["dlqvisible"]) == 0 || got["dlqvisible"][0] != 0 {
				t.Errorf("the empty DLQ: age %v, visible %v; want no age, 0 visible", got["dlqage"], got["dlqvisible"])
			}
			return
		}
		if ctx.Err() != nil {
			t.Fatalf("no age of the waiting message: %v", got)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// TestCloudWatchOnTheMinute: with the default interval nothing is sampled
// before the minute turns, as on AWS; SampleMetrics samples at once.
func TestCloudWatchOnTheMinute(t *testing.T) {
	if s := time.Now().Second(); s > 50 {
		time.Sleep(time.Duration(61-s) * time.Second) // stay inside one minute
	}
	sys, _ := start(t, Options{Mapping: esm.Config{Disabled: true}})
	cw := cloudwatch.NewFromConfig(awslocal.Config(sys.URL))
	q := metricQuery("visible", "AWS/SQS", "ApproximateNumberOfMessagesVisible", "Maximum", "QueueName", SendQueue)
	if got := latest(t.Context(), t, cw, q); len(got["visible"]) != 0 {
		t.Fatalf("a datapoint before the first minute's sample: %v", got)
	}
	sys.SampleMetrics()
	if got := latest(t.Context(), t, cw, q); len(got["visible"]) != 1 || got["visible"][0] != 0 {
		t.Fatalf("after SampleMetrics: %v, want [0]", got)
	}
}

// TestCloudWatchEMFMetrics: the triggers' and the mailer's EMF lines become
// CloudWatch metrics, as CloudWatch Logs extracts them: a wrong code is
// WrongCodes in total and by tenant, the email is Messages and TimeToSend
// by tenant and outcome.
func TestCloudWatchEMFMetrics(t *testing.T) {
	sys, _ := start(t, Options{})
	ctx := t.Context()
	u, err := client(sys, "otplocalacmeweb0000000001").Start(ctx, "rosa@example.com", DemoPassword)
	if err != nil {
		t.Fatal(err)
	}
	_, code := inbox(t, sys, "rosa@example.com", 1)
	wrong := []byte(code)
	wrong[0] = '0' + (wrong[0]-'0'+1)%10
	if err := u.Answer(ctx, string(wrong), nil); err != nil {
		t.Fatal(err)
	}
	cw := cloudwatch.NewFromConfig(awslocal.Config(sys.URL))
	got := latest(ctx, t, cw,
		metricQuery("wrong", "CognitoEmailOTP", "WrongCodes", "Sum"),
		metricQuery("wrongacme", "CognitoEmailOTP", "WrongCodes", "Sum", "tenant", "acme"),
		metricQuery("sent", "CognitoEmailOTP", "Messages", "Sum", "tenant", "acme", "outcome", "sent"),
		metricQuery("tts", "CognitoEmailOTP", "TimeToSend", "p99", "tenant", "acme", "outcome", "sent"),
		metricQuery("ttscount", "CognitoEmailOTP", "TimeToSend", "SampleCount", "outcome", "sent"),
	)
	for id, want := range map[string]float64{"wrong": 1, "wrongacme": 1, "sent": 1, "ttscount": 1} {
		if v := got[id]; len(v) != 1 || v[0] != want {
			t.Errorf("%s = %v, want [%v]", id, v, want)
		}
	}
	if v := got["tts"]; len(v) != 1 || v[0] <= 0 {
		t.Errorf("TimeToSend p99 = %v, want one positive value", v)
	}
}

// TestCloudWatchThroughOTPLocalsPort: the route, and the refusals.
func TestCloudWatchThroughOTPLocalsPort(t *testing.T) {
	sys, _ := start(t, Options{})
	post := func(edit func(*http.Request)) *http.Response {
		req, _ := http.NewRequest(http.MethodPost, sys.URL+"/service/GraniteServiceVersion20100801/operation/GetMetricData", strings.NewReader(""))
		req.Header.Set("Smithy-Protocol", "rpc-v2-cbor")
		edit(req)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp
	}
	if r := post(func(*http.Request) {}); r.StatusCode != http.StatusForbidden || r.Header.Get("X-Amzn-Query-Error") != "MissingAuthenticationToken;Sender" {
		t.Errorf("unsigned: %d %q", r.StatusCode, r.Header.Get("X-Amzn-Query-Error"))
	}
	if r := post(func(r *http.Request) { r.Header.Set("Origin", sys.URL) }); r.StatusCode != http.StatusForbidden || r.Header.Get("X-Amzn-Query-Error") != "AccessDenied;Sender" {
		t.Errorf("from a page: %d %q", r.StatusCode, r.Header.Get("X-Amzn-Query-Error"))
	}
	if r := post(func(r *http.Request) { r.Host = "evil.example:7070" }); r.StatusCode != http.StatusMisdirectedRequest {
		t.Errorf("another Host: %d, want 421", r.StatusCode)
	}
	_, err := cloudwatch.NewFromConfig(awslocal.Config(sys.URL)).GetMetricData(t.Context(), &cloudwatch.GetMetricDataInput{
		StartTime: aws.Time(time.Now()), EndTime: aws.Time(time.Now()),
		MetricDataQueries: []types.MetricDataQuery{metricQuery("a", "AWS/SQS", "ApproximateAgeOfOldestMessage", "Maximum", "QueueName", SendQueue)}})
	var ve *types.ValidationException
	if !errors.As(err, &ve) {
		t.Errorf("StartTime = EndTime through otp-local: %v, want *types.ValidationException", err)
	}
}
