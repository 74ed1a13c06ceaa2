// Package secretslocal is an in-memory AWS Secrets Manager endpoint for
// otp-local: the subset cognito-email-otp uses to keep the triggers' HMAC
// key and rotate it (CreateSecret, GetSecretValue, PutSecretValue,
// UpdateSecretVersionStage, DescribeSecret, ListSecretVersionIds,
// RotateSecret, DeleteSecret, RestoreSecret), spoken over the AWS JSON 1.1
// protocol as aws-sdk-go-v2 sends it, so that unmodified SDK clients can
// point at it with an endpoint override.
//
// Where the code under test depends on Secrets Manager's rules it follows
// them as AWS applies them, with AWS's error types and, where they are on
// record, its messages: staging labels (AWSCURRENT, AWSPREVIOUS moving with
// it, AWSPENDING), ClientRequestToken idempotency and immutable versions,
// UpdateSecretVersionStage's RemoveFromVersionId rule, deprecated versions,
// and the rotation protocol: RotateSecret opens an empty AWSPENDING version
// named by its ClientRequestToken and invokes the rotation function's four
// steps (createSecret, setSecret, testSecret, finishSecret) in order with
// the event Secrets Manager sends, in the background, as the asynchronous
// AWS operation does. A failed step leaves AWSPENDING on the new version;
// the next RotateSecret answers that a previous rotation isn't complete and
// retries it. Rotation functions are lambda.Handlers registered by ARN.
//
// There is no rotation schedule (Rotate does what it would), no KMS, no
// resource policies, no replication and no signature verification (only
// the SigV4 header's shape is checked). Secret values are never logged;
// with a DataDir they are written to one file readable by its owner only.
package secretslocal
