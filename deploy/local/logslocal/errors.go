package logslocal

import (
	"fmt"
	"net/http"
)

// apiError is a CloudWatch Logs error as the JSON 1.1 protocol carries it:
// the shape name in __type, the text in message. aws-sdk-go-v2 maps the
// names the Logs model declares (ResourceNotFoundException,
// InvalidParameterException, ValidationException, AccessDeniedException,
// …) to its typed errors in service/cloudwatchlogs/types; the SigV4 ones
// arrive as a smithy.GenericAPIError with that code.
type apiError struct {
	status  int
	code    string
	message string
}

func (e *apiError) Error() string { return e.code + ": " + e.message }

func newError(code, format string, args ...any) *apiError {
	return &apiError{status: http.StatusBadRequest, code: code, message: fmt.Sprintf(format, args...)}
}

// Texts marked "recorded" were captured from AWS: LocalStack's
// AWS-validated snapshots (tests/aws/services/logs/*.snapshot.json) and
// users' reports of real responses. The others follow the reference, which
// names the error but not its text.

func errGroupNotFound() *apiError { // recorded (test_logs_events, jorgebastida/awslogs#144)
	return newError("ResourceNotFoundException", "The specified log group does not exist.")
}

// errNameAndIdentifier: recorded for DescribeLogStreams, which takes the
// same pair as FilterLogEvents; the FilterLogEvents reference only says
// InvalidParameterException-or-not without the text.
func errNameAndIdentifier() *apiError { // recorded (test_logs_streams)
	return newError("ValidationException", "LogGroup name and LogGroup ARN are mutually exclusive parameters.")
}

func errNoGroup() *apiError { // not recorded
	return newError("ValidationException", "Either LogGroup name or LogGroup ARN must be specified.")
}

func errStreamsAndPrefix() *apiError { // the reference names the error, not its text
	return newError("InvalidParameterException", "logStreamNames and logStreamNamePrefix are mutually exclusive parameters.")
}

func errPrefixAndPattern() *apiError { // recorded (test_logs_groups)
	return newError("InvalidParameterException", "LogGroup name prefix and LogGroup name pattern are mutually exclusive parameters.")
}

func errInvalidNextToken() *apiError { // recorded (test_logs_filter_events)
	return newError("InvalidParameterException", "The specified nextToken is invalid.")
}

// errInvalidPattern: "Invalid filter pattern" is recorded
// (aws/aws-toolkit-jetbrains#3219); newer answers add the detail after a
// colon ("Invalid filter pattern: Invalid character(s) in term '\"\"'",
// DefangLabs/defang#1008), as this does with otp-local's own words.
func errInvalidPattern(detail string) *apiError {
	return newError("InvalidParameterException", "Invalid filter pattern: %s", detail)
}

// The coral framework's constraint errors, in the words recorded for
// FilterLogEvents' limit (test_logs_filter_events): CloudWatch Logs sends
// them as InvalidParameterException, not ValidationException.
func errMax(member string, value any, max int) *apiError { // recorded
	return newError("InvalidParameterException",
		"1 validation error detected: Value '%v' at '%s' failed to satisfy constraint: Member must have value less than or equal to %d", value, member, max)
}

func errMin(member string, value any, min int) *apiError {
	return newError("InvalidParameterException",
		"1 validation error detected: Value '%v' at '%s' failed to satisfy constraint: Member must have value greater than or equal to %d", value, member, min)
}

func errLength(member, value string, min, max int) *apiError {
	if len(value) < min {
		return newError("InvalidParameterException",
			"1 validation error detected: Value '%s' at '%s' failed to satisfy constraint: Member must have length greater than or equal to %d", value, member, min)
	}
	return newError("InvalidParameterException",
		"1 validation error detected: Value '%s' at '%s' failed to satisfy constraint: Member must have length less than or equal to %d", value, member, max)
}

func errRegex(member, value, re string) *apiError {
	return newError("InvalidParameterException",
		"1 validation error detected: Value '%s' at '%s' failed to satisfy constraint: Member must satisfy regular expression pattern: %s", value, member, re)
}

func errSerialization(format string, args ...any) *apiError {
	return newError("SerializationException", format, args...)
}

func errUnknownOperation(target string) *apiError {
	return newError("UnknownOperationException",
		"otp-local's CloudWatch Logs implements FilterLogEvents and DescribeLogGroups only; got %q", target)
}

func errMissingAuthenticationToken() *apiError {
	return &apiError{status: http.StatusBadRequest, code: "MissingAuthenticationTokenException", message: "Missing Authentication Token"}
}

func errIncompleteSignature(detail string) *apiError {
	return &apiError{status: http.StatusBadRequest, code: "IncompleteSignatureException", message: "Authorization header is not a SigV4 signature: " + detail}
}

// errFromBrowser: stricter than AWS on purpose. The functions' logs name
// tenants, request ids and pseudonyms; a page that reaches the loopback
// port must not read them.
func errFromBrowser() *apiError {
	return &apiError{status: http.StatusForbidden, code: "AccessDeniedException",
		message: "otp-local: CloudWatch Logs is not accepted from a browser page"}
}
