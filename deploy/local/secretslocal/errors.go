package secretslocal

import (
	"fmt"
	"net/http"
)

// apiError is a Secrets Manager error as the JSON 1.1 protocol carries it:
// the short shape name in __type and the text in Message, both as the
// service sends them. aws-sdk-go-v2 maps a modeled name (the exceptions in
// the Secrets Manager model) to its typed error, *types.ResourceNotFoundException
// and so on; any other name (AccessDeniedException, ValidationException,
// the common coral errors) arrives as a smithy.GenericAPIError with that code.
type apiError struct {
	status  int
	code    string
	message string
}

func (e *apiError) Error() string { return e.code + ": " + e.message }

func newError(status int, code, format string, args ...any) *apiError {
	return &apiError{status: status, code: code, message: fmt.Sprintf(format, args...)}
}

// Message texts below marked "recorded" were captured from AWS (LocalStack's
// and moto's AWS-validated snapshots, users' reports of real responses); the
// others follow the API reference where it names the error but not its text.

func errSecretNotFound() *apiError { // recorded
	return newError(http.StatusBadRequest, "ResourceNotFoundException", "Secrets Manager can't find the specified secret.")
}

func errNoValueForStage(stage string) *apiError { // recorded
	return newError(http.StatusBadRequest, "ResourceNotFoundException",
		"Secrets Manager can't find the specified secret value for staging label: %s", stage)
}

func errNoValueForVersion(id string) *apiError { // recorded
	return newError(http.StatusBadRequest, "ResourceNotFoundException",
		"Secrets Manager can't find the specified secret value for VersionId: %s", id)
}

func errStageNotOnVersion() *apiError { // recorded
	return newError(http.StatusBadRequest, "InvalidRequestException",
		"You provided a VersionStage that is not associated to the provided VersionId.")
}

func errMarkedForDeletion() *apiError { // recorded
	return newError(http.StatusBadRequest, "InvalidRequestException",
		"You can't perform this operation on the secret because it was marked for deletion.")
}

func errScheduledForDeletion() *apiError { // recorded
	return newError(http.StatusBadRequest, "InvalidRequestException",
		"You can't create this secret because a secret with this name is already scheduled for deletion.")
}

func errNoClientRequestToken() *apiError { // recorded
	return newError(http.StatusBadRequest, "InvalidRequestException",
		"You must provide a ClientRequestToken value. We recommend a UUID-type value.")
}

func errSecretExists(name string) *apiError { // recorded
	return newError(http.StatusBadRequest, "ResourceExistsException",
		"The operation failed because the secret %s already exists.", name)
}

func errTokenInUse(token, arn string) *apiError { // recorded
	return newError(http.StatusBadRequest, "ResourceExistsException",
		"You can't use ClientRequestToken %s because that value is already in use for a version of secret %s.", token, arn)
}

func errNoRotationFunction() *apiError { // recorded
	return newError(http.StatusBadRequest, "InvalidRequestException",
		"No Lambda rotation function ARN is associated with this secret.")
}

func errCannotInvoke() *apiError { // recorded
	return newError(http.StatusBadRequest, "AccessDeniedException",
		"Secrets Manager cannot invoke the specified Lambda function. Ensure that the function policy grants access to the principal secretsmanager.amazonaws.com.")
}

func errRotationInProgress() *apiError { // recorded
	return newError(http.StatusBadRequest, "InvalidRequestException",
		"A previous rotation isn't complete. That rotation will be reattempted.")
}

func errRemoveFromRequired(stage, holder string) *apiError { // recorded
	return newError(http.StatusBadRequest, "InvalidParameterException",
		"The parameter RemoveFromVersionId can't be empty. Staging label %s is currently attached to version %s, so you must explicitly reference that version in RemoveFromVersionId.",
		stage, holder)
}

func errCurrentCannotBeRemoved() *apiError { // recorded (terraform-provider-aws quotes it)
	return newError(http.StatusBadRequest, "InvalidParameterException",
		"You can only move staging label AWSCURRENT to a different secret version. It can’t be completely removed.")
}

func errInvalidName() *apiError { // recorded
	return newError(http.StatusBadRequest, "ValidationException",
		"Invalid name. Must be a valid name containing alphanumeric characters, or any of the following: -/_+=.@!")
}

func errInvalidParameter(format string, args ...any) *apiError {
	return newError(http.StatusBadRequest, "InvalidParameterException", format, args...)
}

func errInvalidRequest(format string, args ...any) *apiError {
	return newError(http.StatusBadRequest, "InvalidRequestException", format, args...)
}

// errValidation is the coral framework's answer to a member that breaks a
// length or range constraint of the model, worded as coral words it.
func errValidation(member, constraint string) *apiError {
	return newError(http.StatusBadRequest, "ValidationException",
		"1 validation error detected: Value at '%s' failed to satisfy constraint: %s", member, constraint)
}

func errMissingParameter(member string) *apiError {
	return newError(http.StatusBadRequest, "ValidationException",
		"1 validation error detected: Value null at '%s' failed to satisfy constraint: Member must not be null", member)
}

func errInvalidNextToken() *apiError {
	return newError(http.StatusBadRequest, "InvalidNextTokenException", "You provided an invalid NextToken value.")
}

func errSerialization(err error) *apiError {
	return newError(http.StatusBadRequest, "SerializationException", "Request body is not valid JSON for this operation: %v", err)
}

func errUnknownOperation(target string) *apiError {
	return newError(http.StatusBadRequest, "UnknownOperationException", "secretslocal does not implement %q.", target)
}

func errMissingAuthenticationToken() *apiError {
	return newError(http.StatusBadRequest, "MissingAuthenticationTokenException", "Missing Authentication Token")
}

func errIncompleteSignature(detail string) *apiError {
	return newError(http.StatusBadRequest, "IncompleteSignatureException", "Authorization header is not a SigV4 signature: %s", detail)
}

func errInternal() *apiError {
	return newError(http.StatusInternalServerError, "InternalServiceError", "internal error in secretslocal; see its log")
}
