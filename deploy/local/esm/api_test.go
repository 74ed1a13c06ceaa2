package esm

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/lambda"
	"github.com/aws/aws-sdk-go-v2/service/lambda/types"
	"github.com/aws/smithy-go"

	"github.com/cognito-email-otp/cognito-email-otp/deploy/local/awslocal"
)

const (
	testQueueARN = "arn:aws:sqs:us-east-1:000000000000:otp-send"
	testFnARN    = "arn:aws:lambda:us-east-1:000000000000:function:otp-mailer"
)

func apiServer(t *testing.T, pollers ...*Poller) *lambda.Client {
	t.Helper()
	srv := httptest.NewServer(NewAPI(pollers...))
	t.Cleanup(srv.Close)
	return lambda.NewFromConfig(awslocal.Config(srv.URL), func(o *lambda.Options) { o.RetryMaxAttempts = 1 })
}

func mailerPoller() *Poller {
	return &Poller{Config: Config{
		QueueURL: "http://127.0.0.1/000000000000/otp-send", QueueARN: testQueueARN, Region: "us-east-1",
		BatchSize: 10, MaxConcurrency: 4, InvokeTimeout: 15 * time.Second,
		FunctionName: "otp-mailer", MemorySize: 256, Environment: map[string]string{"OTP_FROM_ADDRESS": "no-reply@otp-local.example"},
	}}
}

// TestLambdaAPIThroughTheSDK: the real Lambda client decodes what the API
// answers, mappings and function configuration alike.
func TestLambdaAPIThroughTheSDK(t *testing.T) {
	p := mailerPoller()
	c := apiServer(t, p)
	ctx := t.Context()

	for _, fn := range []string{"otp-mailer", testFnARN, "000000000000:function:otp-mailer"} {
		out, err := c.ListEventSourceMappings(ctx, &lambda.ListEventSourceMappingsInput{FunctionName: aws.String(fn), EventSourceArn: aws.String(testQueueARN)})
		if err != nil {
			t.Fatalf("FunctionName %s: %v", fn, err)
		}
		if len(out.EventSourceMappings) != 1 {
			t.Fatalf("FunctionName %s: %d mappings", fn, len(out.EventSourceMappings))
		}
		m := out.EventSourceMappings[0]
		if aws.ToString(m.State) != "Enabled" || aws.ToInt32(m.BatchSize) != 10 || aws.ToString(m.EventSourceArn) != testQueueARN ||
			aws.ToString(m.FunctionArn) != testFnARN || m.ScalingConfig == nil || aws.ToInt32(m.ScalingConfig.MaximumConcurrency) != 4 ||
			len(m.FunctionResponseTypes) != 1 || m.FunctionResponseTypes[0] != types.FunctionResponseTypeReportBatchItemFailures {
			t.Errorf("mapping %+v", m)
		}
		if m.LastModified == nil || time.Since(*m.LastModified) > time.Minute {
			t.Errorf("LastModified %v", m.LastModified)
		}
		got, err := c.GetEventSourceMapping(ctx, &lambda.GetEventSourceMappingInput{UUID: m.UUID})
		if err != nil || aws.ToString(got.UUID) != aws.ToString(m.UUID) || aws.ToString(got.FunctionArn) != testFnARN {
			t.Errorf("GetEventSourceMapping: %+v, %v", got, err)
		}
	}

	fc, err := c.GetFunctionConfiguration(ctx, &lambda.GetFunctionConfigurationInput{FunctionName: aws.String("otp-mailer")})
	if err != nil {
		t.Fatal(err)
	}
	if aws.ToString(fc.FunctionName) != "otp-mailer" || aws.ToString(fc.FunctionArn) != testFnARN || aws.ToInt32(fc.Timeout) != 15 ||
		aws.ToInt32(fc.MemorySize) != 256 || fc.Runtime != types.RuntimeProvidedal2023 || aws.ToString(fc.Handler) != "bootstrap" ||
		fc.State != types.StateActive || fc.Environment == nil || fc.Environment.Variables["OTP_FROM_ADDRESS"] != "no-reply@otp-local.example" {
		t.Errorf("function configuration %+v", fc)
	}
	if _, err := time.Parse(lambdaTime, aws.ToString(fc.LastModified)); err != nil {
		t.Errorf("LastModified %q: %v", aws.ToString(fc.LastModified), err)
	}
	if _, err := c.GetFunctionConfiguration(ctx, &lambda.GetFunctionConfigurationInput{FunctionName: aws.String("otp-mailer"), Qualifier: aws.String("$LATEST")}); err != nil {
		t.Errorf("$LATEST: %v", err)
	}

	other, err := c.ListEventSourceMappings(ctx, &lambda.ListEventSourceMappingsInput{FunctionName: aws.String("otp-mailer"), EventSourceArn: aws.String("arn:aws:sqs:us-east-1:000000000000:other")})
	if err != nil || len(other.EventSourceMappings) != 0 {
		t.Errorf("another queue's mappings: %+v, %v", other, err)
	}
}

func TestLambdaAPIErrors(t *testing.T) {
	c := apiServer(t, mailerPoller())
	ctx := t.Context()
	for _, tc := range []struct {
		name     string
		call     func() error
		code     string
		message  string
		notFound bool
	}{
		{name: "unknown function", code: "ResourceNotFoundException", notFound: true,
			message: "Function not found: arn:aws:lambda:us-east-1:000000000000:function:nope",
			call: func() error {
				_, err := c.GetFunctionConfiguration(ctx, &lambda.GetFunctionConfigurationInput{FunctionName: aws.String("nope")})
				return err
			}},
		{name: "a function in another region", code: "ResourceNotFoundException", notFound: true,
			message: "Function not found: arn:aws:lambda:eu-west-1:000000000000:function:otp-mailer",
			call: func() error {
				_, err := c.GetFunctionConfiguration(ctx, &lambda.GetFunctionConfigurationInput{FunctionName: aws.String("arn:aws:lambda:eu-west-1:000000000000:function:otp-mailer")})
				return err
			}},
		{name: "an alias otp-local never published", code: "ResourceNotFoundException", notFound: true,
			message: "Function not found: arn:aws:lambda:us-east-1:000000000000:function:otp-mailer:live",
			call: func() error {
				_, err := c.GetFunctionConfiguration(ctx, &lambda.GetFunctionConfigurationInput{FunctionName: aws.String("otp-mailer"), Qualifier: aws.String("live")})
				return err
			}},
		{name: "qualifiers that disagree", code: "InvalidParameterValueException",
			message: "The derived qualifier from the function name does not match the specified qualifier.",
			call: func() error {
				_, err := c.GetFunctionConfiguration(ctx, &lambda.GetFunctionConfigurationInput{FunctionName: aws.String("otp-mailer:live"), Qualifier: aws.String("$LATEST")})
				return err
			}},
		{name: "mappings of an unknown function", code: "ResourceNotFoundException", notFound: true,
			message: "Function not found: arn:aws:lambda:us-east-1:000000000000:function:otp-mailr",
			call: func() error {
				_, err := c.ListEventSourceMappings(ctx, &lambda.ListEventSourceMappingsInput{FunctionName: aws.String("otp-mailr")})
				return err
			}},
		{name: "unknown mapping", code: "ResourceNotFoundException", notFound: true,
			message: "The resource you requested does not exist.",
			call: func() error {
				_, err := c.GetEventSourceMapping(ctx, &lambda.GetEventSourceMappingInput{UUID: aws.String("a1b2c3d4-5678-90ab-cdef-11111EXAMPLE")})
				return err
			}},
		{name: "malformed function name", code: "ValidationException",
			message: "1 validation error detected: Value 'no spaces' at 'functionName' failed to satisfy constraint",
			call: func() error {
				_, err := c.GetFunctionConfiguration(ctx, &lambda.GetFunctionConfigurationInput{FunctionName: aws.String("no spaces")})
				return err
			}},
		{name: "malformed event source ARN", code: "ValidationException",
			message: "at 'eventSourceArn' failed to satisfy constraint",
			call: func() error {
				_, err := c.ListEventSourceMappings(ctx, &lambda.ListEventSourceMappingsInput{EventSourceArn: aws.String("otp-send")})
				return err
			}},
		{name: "MaxItems out of range", code: "ValidationException",
			message: "Value '0' at 'maxItems'",
			call: func() error {
				_, err := c.ListEventSourceMappings(ctx, &lambda.ListEventSourceMappingsInput{MaxItems: aws.Int32(0)})
				return err
			}},
		{name: "an operation otp-local does not implement", code: "UnknownOperationException",
			message: "got POST /2015-03-31/event-source-mappings",
			call: func() error {
				_, err := c.CreateEventSourceMapping(ctx, &lambda.CreateEventSourceMappingInput{FunctionName: aws.String("otp-mailer"), EventSourceArn: aws.String(testQueueARN)})
				return err
			}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := tc.call()
			var apiErr smithy.APIError
			if !errors.As(err, &apiErr) || apiErr.ErrorCode() != tc.code || !strings.Contains(apiErr.ErrorMessage(), tc.message) {
				t.Fatalf("got %v, want %s containing %q", err, tc.code, tc.message)
			}
			var rnf *types.ResourceNotFoundException
			if errors.As(err, &rnf) != tc.notFound {
				t.Errorf("decoded as *types.ResourceNotFoundException: %v, want %v (%T)", !tc.notFound, tc.notFound, apiErr)
			}
		})
	}
}

// TestLambdaAPIRefusesUnsignedAndBrowserRequests: the API shows the
// mailer's environment, so it answers only an operator's signed SDK call.
func TestLambdaAPIRefusesUnsignedAndBrowserRequests(t *testing.T) {
	srv := httptest.NewServer(NewAPI(mailerPoller()))
	t.Cleanup(srv.Close)
	for _, tc := range []struct {
		name   string
		header map[string]string
		code   string
	}{
		{name: "unsigned", code: "MissingAuthenticationTokenException"},
		{name: "signed for another service", header: map[string]string{"Authorization": "AWS4-HMAC-SHA256 Credential=AKID/20250101/us-east-1/sqs/aws4_request, SignedHeaders=host, Signature=00ff", "X-Amz-Date": "20250101T000000Z"},
			code: "IncompleteSignatureException"},
		{name: "from a web page", header: map[string]string{"Origin": "http://127.0.0.1:7070"}, code: "AccessDeniedException"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			req, _ := http.NewRequest(http.MethodGet, srv.URL+"/2015-03-31/functions/otp-mailer/configuration", nil)
			for k, v := range tc.header {
				req.Header.Set(k, v)
			}
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			if resp.StatusCode != http.StatusForbidden || resp.Header.Get("X-Amzn-ErrorType") != tc.code {
				t.Errorf("status %d, error type %q; want 403 %s", resp.StatusCode, resp.Header.Get("X-Amzn-ErrorType"), tc.code)
			}
		})
	}
}

func TestLambdaAPIMappingStateAndPaging(t *testing.T) {
	enabled, disabled := mailerPoller(), mailerPoller()
	disabled.Config.FunctionName, disabled.Config.Disabled = "otp-other", true
	c := apiServer(t, enabled, disabled)
	ctx := t.Context()

	first, err := c.ListEventSourceMappings(ctx, &lambda.ListEventSourceMappingsInput{MaxItems: aws.Int32(1)})
	if err != nil || len(first.EventSourceMappings) != 1 || first.NextMarker == nil {
		t.Fatalf("first page: %+v, %v", first, err)
	}
	second, err := c.ListEventSourceMappings(ctx, &lambda.ListEventSourceMappingsInput{MaxItems: aws.Int32(1), Marker: first.NextMarker})
	if err != nil || len(second.EventSourceMappings) != 1 || second.NextMarker != nil {
		t.Fatalf("second page: %+v, %v", second, err)
	}
	states := aws.ToString(first.EventSourceMappings[0].State) + " " + aws.ToString(second.EventSourceMappings[0].State)
	if states != "Enabled Disabled" {
		t.Errorf("states %s", states)
	}
	if _, err := c.ListEventSourceMappings(ctx, &lambda.ListEventSourceMappingsInput{Marker: aws.String("bogus")}); err == nil {
		t.Error("a bogus marker was accepted")
	}

	// A mapping whose poller has stopped is no longer enabled.
	stopped, cancel := context.WithCancel(ctx)
	cancel()
	if err := enabled.Run(stopped); err != nil {
		t.Fatal(err)
	}
	if s := enabled.Mapping().State; s != "Disabled" {
		t.Errorf("after Run returned: State %s", s)
	}
}
