package cloudwatchlocal

import (
	"fmt"
	"net/http"
	"strings"
)

// Error shapes. An RPC v2 CBOR error is the error structure with one more
// member, __type, the shape's ID; AWS sends CloudWatch's own errors in the
// namespace com.amazonaws.cloudwatch.v2010_08_01 (e.g.
// "com.amazonaws.cloudwatch.v2010_08_01#ResourceNotFound") and input
// validation as "com.amazon.coral.validate#ValidationException", with a
// lower-case "message" (LocalStack's AWS-recorded snapshots,
// tests/aws/services/cloudwatch/test_cloudwatch.snapshot.json,
// test_exception_serializing_with_no_shape_in_spec[smithy-rpc-v2-cbor]).
const (
	serviceNS    = "com.amazonaws.cloudwatch.v2010_08_01#"
	coralService = "com.amazon.coral.service#"
	coralValid   = "com.amazon.coral.validate#ValidationException"
)

// apiError is an error as the client sees it: the HTTP status, the shape in
// __type, the Query-era code in X-Amzn-Query-Error, and the message.
type apiError struct {
	status  int
	shape   string
	query   string
	message string
}

func (e *apiError) Error() string { return e.query + ": " + e.message }

type errorBody struct {
	Type    string `cbor:"__type"`
	Message string `cbor:"message,omitempty"`
}

// validation is CloudWatch's ValidationError (the SDK's
// *types.ValidationException). CloudWatch reports every problem of a
// GetMetricData request at once, one line each, every line ending in a
// newline: "The value … for parameter MetricDataQueries.member.1.Id is
// not matching the expected pattern ^[a-z][a-zA-Z0-9_]*$.\nThe value …
// member.2.Id …" (influxdata/telegraf#5420), "The parameter StartTime
// must not equal parameter EndTime.\n" (elastic/beats#32687).
func validation(lines ...string) *apiError {
	var b strings.Builder
	for _, l := range lines {
		b.WriteString(l)
		b.WriteByte('\n')
	}
	return &apiError{http.StatusBadRequest, coralValid, "ValidationError", b.String()}
}

// constraint is the model-level validation of Smithy services ("1
// validation error detected: Value 'INVALID' at 'stateValue' failed to
// satisfy constraint: Member must satisfy enum value set: [...]", recorded
// from AWS in LocalStack's snapshot for SetAlarmState).
func constraint(problems []string) *apiError {
	n := "1 validation error detected: "
	if len(problems) > 1 {
		n = fmt.Sprintf("%d validation errors detected: ", len(problems))
	}
	return &apiError{http.StatusBadRequest, coralValid, "ValidationError", n + strings.Join(problems, "; ")}
}

// missingParameter is MissingParameter (*types.MissingRequiredParameterException),
// AWS's common error "a required parameter for the specified action is not
// supplied". The SDKs check these members before sending, so only a raw
// request meets it.
func missingParameter(name string) *apiError {
	return &apiError{http.StatusBadRequest, serviceNS + "MissingRequiredParameterException", "MissingParameter",
		fmt.Sprintf("The parameter %s is required.", name)}
}

func invalidCombination(format string, args ...any) *apiError {
	return &apiError{http.StatusBadRequest, serviceNS + "InvalidParameterCombinationException", "InvalidParameterCombination", fmt.Sprintf(format, args...)}
}

func invalidNextToken() *apiError {
	return &apiError{http.StatusBadRequest, serviceNS + "InvalidNextToken", "InvalidNextToken", "The service cannot use the NextToken given; start again without it."}
}

func serialization(detail string) *apiError {
	return &apiError{http.StatusBadRequest, coralService + "SerializationException", "SerializationException", detail}
}
