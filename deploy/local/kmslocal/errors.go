package kmslocal

import (
	"fmt"
	"net/http"
)

// apiError is a KMS error as the JSON 1.1 protocol carries it: the shape
// name in __type and the text in message. aws-sdk-go-v2 maps the names the
// KMS model declares (NotFoundException, InvalidCiphertextException, ...) to
// its typed errors in service/kms/types; the others (ValidationException,
// AccessDeniedException, the SigV4 errors) arrive as a
// smithy.GenericAPIError with that code.
type apiError struct {
	status  int
	code    string
	message string
	// noMessage leaves the message member out of the body, as KMS does for
	// InvalidCiphertextException (the SDKs then show an empty or "UnknownError"
	// message).
	noMessage bool
}

func (e *apiError) Error() string { return e.code + ": " + e.message }

func newError(code, format string, args ...any) *apiError {
	return &apiError{status: http.StatusBadRequest, code: code, message: fmt.Sprintf(format, args...)}
}

// Texts marked "recorded" were captured from AWS (LocalStack's
// AWS-validated snapshot tests/aws/services/kms/test_kms.snapshot.json,
// users' reports of real responses); the others follow the API reference,
// which names the error but not its text.

func errKeyNotFound(arn string) *apiError { // recorded
	return newError("NotFoundException", "Key '%s' does not exist", arn)
}

func errInvalidKeyID(id string) *apiError { // recorded
	return newError("NotFoundException", "Invalid keyId '%s'", id)
}

func errInvalidARN(region string) *apiError { // recorded (a key ARN of another Region)
	return newError("NotFoundException", "Invalid arn %s", region)
}

func errAliasNotFound(aliasARN string) *apiError {
	return newError("NotFoundException", "Alias %s is not found.", aliasARN)
}

// errInvalidCiphertext has no message: LocalStack's AWS snapshot records
// Message "" for a Decrypt with the wrong encryption context, and the JS
// SDK reports "InvalidCiphertextException: UnknownError" from AWS
// (aws/aws-sdk-js-v3#4768).
func errInvalidCiphertext() *apiError { // recorded
	return &apiError{status: http.StatusBadRequest, code: "InvalidCiphertextException", noMessage: true}
}

func errIncorrectKey() *apiError { // recorded
	return newError("IncorrectKeyException", "The key ID in the request does not identify a CMK that can perform this operation.")
}

func errKeyUsage(arn, usage, op string) *apiError { // recorded
	return newError("InvalidKeyUsageException", "%s key usage is %s which is not valid for %s.", arn, usage, op)
}

// errDisabled: the message starts with the key's ARN
// (aws/aws-encryption-sdk-python#142 quotes "DisabledException ... when
// calling the Encrypt operation: arn:aws:kms:eu-west-2:…"); " is disabled."
// follows the recorded "<arn> is pending import." of the same family.
func errDisabled(arn string) *apiError {
	return newError("DisabledException", "%s is disabled.", arn)
}

// errEitherBytesOrSpec: moto, floci and LocalStack agree on this text; the
// AWS snapshot does not record it.
func errEitherBytesOrSpec() *apiError {
	return newError("ValidationException", "Please specify either number of bytes or key spec.")
}

func errAliasPrefix() *apiError { // recorded
	return newError("ValidationException", `Alias must start with the prefix "alias/". Please see https://docs.aws.amazon.com/kms/latest/developerguide/kms-alias.html`)
}

func errReservedAlias(name string) *apiError {
	return newError("NotAuthorizedException", "%s must not begin with alias/aws/: the prefix is reserved for AWS managed keys.", name)
}

func errAliasExists(aliasARN string) *apiError {
	return newError("AlreadyExistsException", "An alias with the name %s already exists", aliasARN)
}

func errKeyUsageRequired() *apiError { // recorded
	return newError("ValidationException", "You must specify a KeyUsage value for all KMS keys except for symmetric encryption keys.")
}

func errDryRun() *apiError {
	return newError("DryRunOperationException", "The request would have succeeded, but the DryRun option is set.")
}

func errUnsupported(format string, args ...any) *apiError {
	return newError("UnsupportedOperationException", format, args...)
}

// errValidation is the coral framework's answer to a member outside a
// length, range or enum constraint of the model, worded as AWS words it
// (recorded: "1 validation error detected: Value '1025' at 'numberOfBytes'
// failed to satisfy constraint: Member must have value less than or equal
// to 1024").
func errValidation(value *string, member, constraint string) *apiError {
	v := ""
	if value != nil {
		v = fmt.Sprintf(" '%s'", *value)
	}
	return newError("ValidationException", "1 validation error detected: Value%s at '%s' failed to satisfy constraint: %s", v, member, constraint)
}

func errMissing(member string) *apiError {
	return newError("ValidationException", "1 validation error detected: Value null at '%s' failed to satisfy constraint: Member must not be null", member)
}

func errSerialization(err error) *apiError {
	return newError("SerializationException", "Request body is not valid JSON for this operation: %v", err)
}

func errUnknownOperation(target string) *apiError {
	return newError("UnknownOperationException", "kmslocal does not implement %q.", target)
}

func errMissingAuthenticationToken() *apiError {
	return newError("MissingAuthenticationTokenException", "Missing Authentication Token")
}

func errIncompleteSignature(detail string) *apiError {
	return newError("IncompleteSignatureException", "Authorization header is not a SigV4 signature: %s", detail)
}

func errFromBrowser() *apiError {
	return &apiError{status: http.StatusForbidden, code: "AccessDeniedException",
		message: "otp-local: KMS is not accepted from a browser page; it turns ciphertext into codes"}
}

func errInternal() *apiError {
	return &apiError{status: http.StatusInternalServerError, code: "KMSInternalException", message: "internal error in kmslocal; see its log"}
}
