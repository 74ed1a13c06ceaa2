package cloudwatchlocal_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatch"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatch/types"
	"github.com/aws/smithy-go"
	"github.com/aws/smithy-go/middleware"
	"github.com/fxamacker/cbor/v2"

	"github.com/cognito-email-otp/cognito-email-otp/deploy/local/awslocal"
	"github.com/cognito-email-otp/cognito-email-otp/deploy/local/cloudwatchlocal"
)

var t0 = time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)

type env struct {
	store  *cloudwatchlocal.Store
	client *cloudwatch.Client
	url    string
}

// newEnv serves a store whose clock reads 12:10 through the real SDK
// client, as otpctl and otp-local's tests use it.
func newEnv(t *testing.T) env {
	t.Helper()
	store := cloudwatchlocal.NewStore(cloudwatchlocal.Options{Now: func() time.Time { return t0.Add(10 * time.Minute) }})
	hs := httptest.NewServer(cloudwatchlocal.NewServer(store, cloudwatchlocal.ServerOptions{})) // 127.0.0.1
	t.Cleanup(hs.Close)
	cfg := awslocal.Config(hs.URL)
	cfg.RetryMaxAttempts = 1
	return env{store: store, client: cloudwatch.NewFromConfig(cfg), url: hs.URL}
}

var sendQueue = []types.Dimension{{Name: aws.String("QueueName"), Value: aws.String("otp-send")}}

func ageQuery(id string, dims []types.Dimension, stat string) types.MetricDataQuery {
	return types.MetricDataQuery{Id: aws.String(id), MetricStat: &types.MetricStat{
		Metric: &types.Metric{Namespace: aws.String("AWS/SQS"), MetricName: aws.String("ApproximateAgeOfOldestMessage"), Dimensions: dims},
		Period: aws.Int32(60), Stat: aws.String(stat),
	}}
}

func TestGetMetricDataThroughTheSDK(t *testing.T) {
	e := newEnv(t)
	m := cloudwatchlocal.Metric{Namespace: "AWS/SQS", Name: "ApproximateAgeOfOldestMessage", Dimensions: []cloudwatchlocal.Dimension{{Name: "QueueName", Value: "otp-send"}}}
	e.store.Put(m, "Seconds", t0.Add(5*time.Minute), 30)
	e.store.Put(m, "Seconds", t0.Add(6*time.Minute), 90)
	e.store.Put(m, "Seconds", t0.Add(6*time.Minute+30*time.Second), 120)

	hidden := ageQuery("hidden", sendQueue, "Sum")
	hidden.ReturnData = aws.Bool(false)
	labelled := ageQuery("labelled", sendQueue, "SampleCount")
	labelled.Label = aws.String("samples")
	out, err := e.client.GetMetricData(t.Context(), &cloudwatch.GetMetricDataInput{
		StartTime: aws.Time(t0), EndTime: aws.Time(t0.Add(10 * time.Minute)),
		MetricDataQueries: []types.MetricDataQuery{
			ageQuery("send", sendQueue, "Maximum"),
			ageQuery("dlq", []types.Dimension{{Name: aws.String("QueueName"), Value: aws.String("otp-send-dlq")}}, "Maximum"),
			hidden, labelled,
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(out.MetricDataResults) != 3 {
		t.Fatalf("%d results, want 3 (ReturnData false is left out): %+v", len(out.MetricDataResults), out.MetricDataResults)
	}
	send, dlq, samples := out.MetricDataResults[0], out.MetricDataResults[1], out.MetricDataResults[2]
	// Newest first, as TimestampDescending is the default.
	if aws.ToString(send.Id) != "send" || aws.ToString(send.Label) != "ApproximateAgeOfOldestMessage" || send.StatusCode != types.StatusCodeComplete ||
		fmt.Sprint(send.Values) != "[120 30]" || len(send.Timestamps) != 2 ||
		!send.Timestamps[0].Equal(t0.Add(6*time.Minute)) || !send.Timestamps[1].Equal(t0.Add(5*time.Minute)) {
		t.Errorf("send: %s %s %s %v %v", aws.ToString(send.Id), aws.ToString(send.Label), send.StatusCode, send.Values, send.Timestamps)
	}
	if len(dlq.Values) != 0 || len(dlq.Timestamps) != 0 || dlq.StatusCode != types.StatusCodeComplete {
		t.Errorf("dlq (no data): %+v", dlq)
	}
	if aws.ToString(samples.Label) != "samples" || fmt.Sprint(samples.Values) != "[2 1]" {
		t.Errorf("labelled: %s %v", aws.ToString(samples.Label), samples.Values)
	}

	out, err = e.client.GetMetricData(t.Context(), &cloudwatch.GetMetricDataInput{
		StartTime: aws.Time(t0), EndTime: aws.Time(t0.Add(10 * time.Minute)), ScanBy: types.ScanByTimestampAscending,
		MetricDataQueries: []types.MetricDataQuery{ageQuery("p", sendQueue, "p50")},
	})
	if err != nil {
		t.Fatal(err)
	}
	if r := out.MetricDataResults[0]; fmt.Sprint(r.Values) != "[30 90]" || !r.Timestamps[0].Before(r.Timestamps[1]) {
		t.Errorf("ascending p50: %v %v", r.Values, r.Timestamps)
	}
}

// TestGetMetricDataPages: MaxDatapoints cuts a result short (PartialData)
// and NextToken carries on, so the SDK's paginator gets every point once.
func TestGetMetricDataPages(t *testing.T) {
	e := newEnv(t)
	m := cloudwatchlocal.Metric{Namespace: "N", Name: "M"}
	for i := range 7 {
		e.store.Put(m, "", t0.Add(time.Duration(i)*time.Minute), float64(i))
	}
	q := func(id string) types.MetricDataQuery {
		return types.MetricDataQuery{Id: aws.String(id), MetricStat: &types.MetricStat{
			Metric: &types.Metric{Namespace: aws.String("N"), MetricName: aws.String("M")}, Period: aws.Int32(60), Stat: aws.String("Sum")}}
	}
	p := cloudwatch.NewGetMetricDataPaginator(e.client, &cloudwatch.GetMetricDataInput{
		StartTime: aws.Time(t0), EndTime: aws.Time(t0.Add(10 * time.Minute)), MaxDatapoints: aws.Int32(3),
		MetricDataQueries: []types.MetricDataQuery{q("a"), q("b")},
	})
	points := map[string]int{}
	pages := 0
	for p.HasMorePages() {
		out, err := p.NextPage(t.Context())
		if err != nil {
			t.Fatal(err)
		}
		pages++
		n := 0
		for _, r := range out.MetricDataResults {
			points[aws.ToString(r.Id)] += len(r.Values)
			n += len(r.Values)
			if r.StatusCode == types.StatusCodePartialData && out.NextToken == nil {
				t.Errorf("PartialData without a NextToken")
			}
		}
		if n > 3 {
			t.Errorf("page %d has %d points, MaxDatapoints is 3", pages, n)
		}
	}
	if points["a"] != 7 || points["b"] != 7 || pages != 5 {
		t.Errorf("points %v in %d pages, want 7 each in 5", points, pages)
	}
	_, err := e.client.GetMetricData(t.Context(), &cloudwatch.GetMetricDataInput{
		StartTime: aws.Time(t0), EndTime: aws.Time(t0.Add(time.Minute)), NextToken: aws.String("forged"),
		MetricDataQueries: []types.MetricDataQuery{q("a")},
	})
	var bad *types.InvalidNextToken
	if !errors.As(err, &bad) {
		t.Errorf("a forged NextToken: %v, want *types.InvalidNextToken", err)
	}
}

// withoutClientValidation lets the SDK send what it would refuse itself,
// to see the server's answer to a raw request.
func withoutClientValidation(o *cloudwatch.Options) {
	o.APIOptions = append(o.APIOptions, func(s *middleware.Stack) error {
		_, err := s.Initialize.Remove("OperationInputValidation")
		return err
	})
}

func TestGetMetricDataErrors(t *testing.T) {
	e := newEnv(t)
	good := func() *cloudwatch.GetMetricDataInput {
		return &cloudwatch.GetMetricDataInput{StartTime: aws.Time(t0), EndTime: aws.Time(t0.Add(5 * time.Minute)),
			MetricDataQueries: []types.MetricDataQuery{ageQuery("send", sendQueue, "Maximum")}}
	}
	many := make([]types.MetricDataQuery, 501)
	for i := range many {
		many[i] = ageQuery(fmt.Sprintf("q%d", i), sendQueue, "Maximum")
	}
	for _, tc := range []struct {
		name   string
		change func(*cloudwatch.GetMetricDataInput)
		as     any    // a pointer to the SDK's typed error
		code   string // ErrorCode(): the Query-era code
		msg    string // the whole message
	}{
		{"StartTime equals EndTime (to the second)", func(in *cloudwatch.GetMetricDataInput) {
			in.StartTime, in.EndTime = aws.Time(t0.Add(20*time.Millisecond)), aws.Time(t0.Add(987*time.Millisecond))
		}, new(*types.ValidationException), "ValidationError", "The parameter StartTime must not equal parameter EndTime.\n"},
		{"StartTime after EndTime", func(in *cloudwatch.GetMetricDataInput) { in.StartTime, in.EndTime = in.EndTime, in.StartTime },
			new(*types.ValidationException), "ValidationError", "The parameter EndTime must be greater than StartTime.\n"},
		{"more than 500 queries", func(in *cloudwatch.GetMetricDataInput) { in.MetricDataQueries = many },
			new(*types.ValidationException), "ValidationError", "The collection MetricDataQueries must not have a size greater than 500.\n"},
		{"every problem of the queries at once", func(in *cloudwatch.GetMetricDataInput) {
			a, b, c := ageQuery("5xx_rate", sendQueue, "Maximum"), ageQuery("ok", sendQueue, "Median"), ageQuery("ok", sendQueue, "Sum")
			b.MetricStat.Period = aws.Int32(90)
			in.MetricDataQueries = []types.MetricDataQuery{a, b, c}
		}, new(*types.ValidationException), "ValidationError",
			"The value 5xx_rate for parameter MetricDataQueries.member.1.Id is not matching the expected pattern ^[a-z][a-zA-Z0-9_]*$.\n" +
				"The parameter MetricDataQueries.member.2.MetricStat.Period must be a value in the set [ 1, 5, 10, 20, 30 ] or a multiple of 60.\n" +
				"The value Median for parameter MetricDataQueries.member.2.MetricStat.Stat is not a valid statistic.\n" +
				"The values for parameter id in MetricDataQueries are not unique.\n"},
		{"neither MetricStat nor Expression", func(in *cloudwatch.GetMetricDataInput) {
			in.MetricDataQueries = []types.MetricDataQuery{{Id: aws.String("result1"), Label: aws.String("e1")}}
		}, new(*types.ValidationException), "ValidationError", "The parameter MetricDataQueries.member.1.MetricStat is required.\n"},
		{"both MetricStat and Expression", func(in *cloudwatch.GetMetricDataInput) { in.MetricDataQueries[0].Expression = aws.String("send*2") },
			new(*types.InvalidParameterCombinationException), "InvalidParameterCombination",
			"The parameters MetricDataQueries.member.1.MetricStat and MetricDataQueries.member.1.Expression are mutually exclusive and you have specified both."},
		{"an expression: not in otp-local", func(in *cloudwatch.GetMetricDataInput) {
			in.MetricDataQueries = append(in.MetricDataQueries, types.MetricDataQuery{Id: aws.String("double"), Expression: aws.String("send*2")})
		}, new(*types.ValidationException), "ValidationError",
			"otp-local implements MetricStat queries only; MetricDataQueries.member.2.Expression (metric math or Metrics Insights) is not supported.\n"},
		{"a sub-minute period: AWS's high resolution, not in otp-local", func(in *cloudwatch.GetMetricDataInput) { in.MetricDataQueries[0].MetricStat.Period = aws.Int32(10) },
			new(*types.ValidationException), "ValidationError",
			"otp-local keeps one-minute data only: MetricDataQueries.member.1.MetricStat.Period 10 is valid on AWS for high-resolution metrics, which otp-local has none of; use a multiple of 60.\n"},
		{"a statistic AWS has and otp-local does not", func(in *cloudwatch.GetMetricDataInput) { in.MetricDataQueries[0].MetricStat.Stat = aws.String("tm99") },
			new(*types.ValidationException), "ValidationError",
			"otp-local computes Sum, Average, Minimum, Maximum, SampleCount and percentiles; MetricDataQueries.member.1.MetricStat.Stat tm99 is valid on AWS but not implemented here.\n"},
		{"a ScanBy outside the enum", func(in *cloudwatch.GetMetricDataInput) { in.ScanBy = "Newest" },
			new(*types.ValidationException), "ValidationError",
			"1 validation error detected: Value 'Newest' at 'scanBy' failed to satisfy constraint: Member must satisfy enum value set: [TimestampDescending, TimestampAscending]"},
		{"no StartTime (the SDK checks this itself)", func(in *cloudwatch.GetMetricDataInput) { in.StartTime = nil },
			new(*types.MissingRequiredParameterException), "MissingParameter", "The parameter StartTime is required."},
		{"no queries (the SDK checks this itself)", func(in *cloudwatch.GetMetricDataInput) { in.MetricDataQueries = nil },
			new(*types.MissingRequiredParameterException), "MissingParameter", "The parameter MetricDataQueries is required."},
	} {
		t.Run(tc.name, func(t *testing.T) {
			in := good()
			tc.change(in)
			_, err := e.client.GetMetricData(t.Context(), in, withoutClientValidation)
			if err == nil {
				t.Fatal("accepted")
			}
			if !errors.As(err, tc.as) {
				t.Fatalf("error %T %v, want %T", errors.Unwrap(err), err, tc.as)
			}
			var ae smithy.APIError
			errors.As(err, &ae)
			if ae.ErrorCode() != tc.code || ae.ErrorMessage() != tc.msg {
				t.Errorf("code %q, message %q\nwant %q, %q", ae.ErrorCode(), ae.ErrorMessage(), tc.code, tc.msg)
			}
			var re interface{ HTTPStatusCode() int }
			if errors.As(err, &re) && re.HTTPStatusCode() != http.StatusBadRequest {
				t.Errorf("HTTP %d, want 400", re.HTTPStatusCode())
			}
		})
	}
}

// raw posts body to path with the headers a signed SDK request carries,
// changed by edit, and decodes the CBOR error.
func raw(t *testing.T, url, path string, edit func(http.Header)) (int, http.Header, map[string]any) {
	t.Helper()
	body, _ := cbor.Marshal(map[string]any{})
	req, _ := http.NewRequestWithContext(context.Background(), http.MethodPost, url+path, bytes.NewReader(body))
	req.Header.Set("Smithy-Protocol", "rpc-v2-cbor")
	req.Header.Set("Content-Type", "application/cbor")
	req.Header.Set("X-Amz-Date", "20260301T120000Z")
	req.Header.Set("Authorization", "AWS4-HMAC-SHA256 Credential=otp-local/20260301/us-east-1/monitoring/aws4_request, SignedHeaders=host;x-amz-date, Signature="+strings.Repeat("0", 64))
	if edit != nil {
		edit(req.Header)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	var m map[string]any
	if err := cbor.Unmarshal(b, &m); err != nil {
		t.Fatalf("response is not CBOR: %v (%q)", err, b)
	}
	return resp.StatusCode, resp.Header, m
}

func TestRefusesUnsignedBrowserAndOtherRequests(t *testing.T) {
	e := newEnv(t)
	const op = "/service/GraniteServiceVersion20100801/operation/GetMetricData"
	for _, tc := range []struct {
		name   string
		path   string
		edit   func(http.Header)
		status int
		typ    string
		query  string
	}{
		{"no signature", op, func(h http.Header) { h.Del("Authorization") }, 403, "com.amazon.coral.service#MissingAuthenticationTokenException", "MissingAuthenticationToken;Sender"},
		{"signed for another service", op, func(h http.Header) {
			h.Set("Authorization", strings.Replace(h.Get("Authorization"), "/monitoring/", "/sqs/", 1))
		}, 403, "com.amazon.coral.service#IncompleteSignatureException", "IncompleteSignature;Sender"},
		{"not a SigV4 header", op, func(h http.Header) { h.Set("Authorization", "Bearer x") }, 403, "com.amazon.coral.service#IncompleteSignatureException", "IncompleteSignature;Sender"},
		{"no X-Amz-Date", op, func(h http.Header) { h.Del("X-Amz-Date") }, 403, "com.amazon.coral.service#IncompleteSignatureException", "IncompleteSignature;Sender"},
		{"from a web page", op, func(h http.Header) { h.Set("Origin", "http://127.0.0.1:7070") }, 403, "com.amazon.coral.service#AccessDeniedException", "AccessDenied;Sender"},
		{"from a web page, no Origin", op, func(h http.Header) { h.Set("Sec-Fetch-Mode", "cors") }, 403, "com.amazon.coral.service#AccessDeniedException", "AccessDenied;Sender"},
		{"another operation", "/service/GraniteServiceVersion20100801/operation/PutMetricData", nil, 400, "com.amazon.coral.service#UnknownOperationException", "UnknownOperation;Sender"},
		{"the JSON 1.0 protocol", "/", func(h http.Header) { h.Set("X-Amz-Target", "GraniteServiceVersion20100801.GetMetricData") },
			400, "com.amazon.coral.service#UnknownOperationException", "UnknownOperation;Sender"},
		{"no smithy-protocol header", op, func(h http.Header) { h.Del("Smithy-Protocol") }, 400, "com.amazon.coral.service#SerializationException", "SerializationException;Sender"},
		{"JSON, not CBOR", op, func(h http.Header) { h.Set("Content-Type", "application/json") }, 400, "com.amazon.coral.service#SerializationException", "SerializationException;Sender"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			status, h, body := raw(t, e.url, tc.path, tc.edit)
			if status != tc.status || body["__type"] != tc.typ || h.Get("X-Amzn-Query-Error") != tc.query {
				t.Errorf("HTTP %d %v %q; want %d %s %s", status, body, h.Get("X-Amzn-Query-Error"), tc.status, tc.typ, tc.query)
			}
			if h.Get("Smithy-Protocol") != "rpc-v2-cbor" || h.Get("Content-Type") != "application/cbor" || h.Get("X-Amzn-Requestid") == "" {
				t.Errorf("headers %v", h)
			}
			if _, ok := body["message"].(string); !ok {
				t.Errorf("no message: %v", body)
			}
		})
	}

	// The SDK without credentials sends no signature, and hears why.
	anon := cloudwatch.NewFromConfig(awslocal.Config(e.url), func(o *cloudwatch.Options) {
		o.Credentials = aws.AnonymousCredentials{}
		o.RetryMaxAttempts = 1
	})
	_, err := anon.GetMetricData(t.Context(), &cloudwatch.GetMetricDataInput{StartTime: aws.Time(t0), EndTime: aws.Time(t0.Add(time.Minute)),
		MetricDataQueries: []types.MetricDataQuery{ageQuery("send", sendQueue, "Maximum")}})
	var ae smithy.APIError
	if !errors.As(err, &ae) || ae.ErrorCode() != "MissingAuthenticationToken" {
		t.Errorf("anonymous SDK call: %v", err)
	}
}

// TestTimestampsOnTheWire: as AWS encodes them, tag 1 around a float64.
func TestTimestampsOnTheWire(t *testing.T) {
	e := newEnv(t)
	e.store.Put(cloudwatchlocal.Metric{Namespace: "N", Name: "M"}, "", t0, 1)
	body, _ := cbor.Marshal(map[string]any{
		"StartTime": cbor.Tag{Number: 1, Content: float64(t0.Unix())}, "EndTime": cbor.Tag{Number: 1, Content: float64(t0.Add(time.Minute).Unix())},
		"MetricDataQueries": []any{map[string]any{"Id": "m", "MetricStat": map[string]any{
			"Metric": map[string]any{"Namespace": "N", "MetricName": "M"}, "Period": 60, "Stat": "Sum"}}},
	})
	req, _ := http.NewRequest(http.MethodPost, e.url+"/service/GraniteServiceVersion20100801/operation/GetMetricData", bytes.NewReader(body))
	req.Header.Set("Smithy-Protocol", "rpc-v2-cbor")
	req.Header.Set("Content-Type", "application/cbor")
	req.Header.Set("X-Amz-Date", "20260301T120000Z")
	req.Header.Set("Authorization", "AWS4-HMAC-SHA256 Credential=k/20260301/us-east-1/monitoring/aws4_request, SignedHeaders=host, Signature=00")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != 200 || !bytes.Contains(b, []byte("Timestamps\x81\xc1\xfb")) {
		t.Errorf("HTTP %d, body %q: want Timestamps as [tag 1, float64]", resp.StatusCode, b)
	}
}

func TestIsRequest(t *testing.T) {
	for _, tc := range []struct {
		name   string
		path   string
		header map[string]string
		want   bool
	}{
		{"RPC v2 CBOR", "/service/GraniteServiceVersion20100801/operation/GetMetricData", nil, true},
		{"JSON 1.0", "/", map[string]string{"X-Amz-Target": "GraniteServiceVersion20100801.GetMetricData"}, true},
		{"Query, signed for monitoring", "/", map[string]string{"Authorization": "AWS4-HMAC-SHA256 Credential=k/20260301/us-east-1/monitoring/aws4_request, SignedHeaders=host, Signature=00"}, true},
		{"SQS", "/", map[string]string{"Authorization": "AWS4-HMAC-SHA256 Credential=k/20260301/us-east-1/sqs/aws4_request, SignedHeaders=host, Signature=00"}, false},
		{"the sign-in page", "/", nil, false},
	} {
		r := httptest.NewRequest(http.MethodPost, tc.path, nil)
		for k, v := range tc.header {
			r.Header.Set(k, v)
		}
		if got := cloudwatchlocal.IsRequest(r); got != tc.want {
			t.Errorf("%s: %v, want %v", tc.name, got, tc.want)
		}
	}
}
