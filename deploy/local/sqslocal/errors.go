package sqslocal

import (
	"fmt"
	"net/http"
)

// apiError is an SQS error as the JSON protocol carries it: the Smithy shape
// in the body's __type, and the legacy query-protocol code in the
// x-amzn-query-error header. aws-sdk-go-v2 picks the typed error from
// __type and overrides ErrorCode() with the header's code; the JS SDK v3
// reads the header first and falls back to a base SQSServiceException named
// after the code. Status codes and legacy codes come from the awsQueryError
// traits in the SQS Smithy model (aws-sdk-go-v2/service/sqs/schemas).
type apiError struct {
	status    int
	shape     string // fully qualified __type, e.g. com.amazonaws.sqs#QueueDoesNotExist
	queryCode string // legacy code, e.g. AWS.SimpleQueueService.NonExistentQueue
	receiver  bool   // server fault rather than sender fault
	message   string
}

func (e *apiError) Error() string { return e.queryCode + ": " + e.message }

// Code is the legacy error code, the one batch results and the SDKs show.
func (e *apiError) Code() string { return e.queryCode }

func (e *apiError) faultName() string {
	if e.receiver {
		return "Receiver"
	}
	return "Sender"
}

// modeled returns an error whose shape exists in the SQS model.
func modeled(status int, shape, queryCode, format string, args ...any) *apiError {
	return &apiError{status: status, shape: "com.amazonaws.sqs#" + shape, queryCode: queryCode, message: fmt.Sprintf(format, args...)}
}

// common returns one of SQS's common errors, which have no shape in the
// model; the SDKs surface them by their legacy code only.
func common(status int, code, format string, args ...any) *apiError {
	return &apiError{status: status, shape: "com.amazon.coral.service#" + code + "Exception", queryCode: code, message: fmt.Sprintf(format, args...)}
}

func errQueueDoesNotExist() *apiError {
	return modeled(http.StatusBadRequest, "QueueDoesNotExist", "AWS.SimpleQueueService.NonExistentQueue", "The specified queue does not exist.")
}

func errQueueNameExists(attr string) *apiError {
	return modeled(http.StatusBadRequest, "QueueNameExists", "QueueAlreadyExists",
		"A queue already exists with the same name and a different value for attribute %s", attr)
}

func errQueueDeletedRecently(name string) *apiError {
	return modeled(http.StatusBadRequest, "QueueDeletedRecently", "AWS.SimpleQueueService.QueueDeletedRecently",
		"You must wait 60 seconds after deleting a queue before you can create another with the same name (%s).", name)
}

func errReceiptHandleIsInvalid(handle string) *apiError {
	return modeled(http.StatusNotFound, "ReceiptHandleIsInvalid", "ReceiptHandleIsInvalid",
		"The input receipt handle %q is not a valid receipt handle.", handle)
}

func errEmptyBatchRequest(entryType string) *apiError {
	return modeled(http.StatusBadRequest, "EmptyBatchRequest", "AWS.SimpleQueueService.EmptyBatchRequest",
		"There should be at least one %s in the request.", entryType)
}

func errTooManyEntriesInBatchRequest(n int) *apiError {
	return modeled(http.StatusBadRequest, "TooManyEntriesInBatchRequest", "AWS.SimpleQueueService.TooManyEntriesInBatchRequest",
		"Maximum number of entries per request are %d. You have sent %d.", maxBatchEntries, n)
}

func errBatchEntryIdsNotDistinct(id string) *apiError {
	return modeled(http.StatusBadRequest, "BatchEntryIdsNotDistinct", "AWS.SimpleQueueService.BatchEntryIdsNotDistinct",
		"Id %s repeated.", id)
}

func errInvalidBatchEntryID() *apiError {
	return modeled(http.StatusBadRequest, "InvalidBatchEntryId", "AWS.SimpleQueueService.InvalidBatchEntryId",
		"A batch entry id can only contain alphanumeric characters, hyphens and underscores. It can be at most 80 letters long.")
}

func errBatchRequestTooLong(limit, got int) *apiError {
	return modeled(http.StatusBadRequest, "BatchRequestTooLong", "AWS.SimpleQueueService.BatchRequestTooLong",
		"Batch requests cannot be longer than %d bytes. You have sent %d bytes.", limit, got)
}

func errInvalidAttributeName(format string, args ...any) *apiError {
	return modeled(http.StatusBadRequest, "InvalidAttributeName", "InvalidAttributeName", format, args...)
}

func errInvalidAttributeValue(format string, args ...any) *apiError {
	return modeled(http.StatusBadRequest, "InvalidAttributeValue", "InvalidAttributeValue", format, args...)
}

func errInvalidMessageContents(format string, args ...any) *apiError {
	return modeled(http.StatusBadRequest, "InvalidMessageContents", "InvalidMessageContents", format, args...)
}

func errPurgeQueueInProgress(name string) *apiError {
	return modeled(http.StatusForbidden, "PurgeQueueInProgress", "AWS.SimpleQueueService.PurgeQueueInProgress",
		"Only one PurgeQueue operation on %s is allowed every 60 seconds.", name)
}

func errResourceNotFound(format string, args ...any) *apiError {
	return modeled(http.StatusNotFound, "ResourceNotFoundException", "ResourceNotFoundException", format, args...)
}

func errUnsupportedOperation(format string, args ...any) *apiError {
	return modeled(http.StatusBadRequest, "UnsupportedOperation", "AWS.SimpleQueueService.UnsupportedOperation", format, args...)
}

func errInvalidParameterValue(format string, args ...any) *apiError {
	return common(http.StatusBadRequest, "InvalidParameterValue", format, args...)
}

func errMissingParameter(name string) *apiError {
	return common(http.StatusBadRequest, "MissingParameter", "The request must contain the parameter %s.", name)
}

func errInvalidAction(format string, args ...any) *apiError {
	e := common(http.StatusBadRequest, "InvalidAction", format, args...)
	e.shape = "com.amazon.coral.service#UnknownOperationException"
	return e
}

func errMalformedRequest(err error) *apiError {
	e := common(http.StatusBadRequest, "MalformedQueryString", "The request body is not valid JSON for this operation: %v", err)
	e.shape = "com.amazon.coral.service#SerializationException"
	return e
}

func errMissingAuthenticationToken() *apiError {
	return common(http.StatusForbidden, "MissingAuthenticationToken", "Request is missing Authentication Token")
}

func errIncompleteSignature(reason string) *apiError {
	return common(http.StatusBadRequest, "IncompleteSignature", "Authorization header is not a well-formed AWS SigV4 header: %s", reason)
}

func errMissingAction() *apiError {
	return common(http.StatusBadRequest, "MissingAction", "The request must contain the parameter Action.")
}

func errInvalidQueryParameter(format string, args ...any) *apiError {
	return common(http.StatusBadRequest, "InvalidQueryParameter", format, args...)
}

func errMalformedQueryString(err error) *apiError {
	return common(http.StatusBadRequest, "MalformedQueryString", "The query string is not valid application/x-www-form-urlencoded: %v", err)
}
