// Package sqslocal is an in-memory Amazon SQS endpoint for otp-local: the
// subset of SQS that cognito-email-otp uses (standard queues, long polling,
// visibility timeouts, dead-letter redrive and DLQ move tasks), spoken over
// the AWS JSON 1.0 protocol exactly as aws-sdk-go-v2 and the AWS JS SDK v3
// send it, so that unmodified SDK clients can point at it with an endpoint
// override. It also speaks the older Query protocol (form parameters in,
// XML out), which SQS still answers and which older clients use alone:
// aws-sdk-go v1 before v1.47.6, Debian's awscli 2.9 and python3-boto3 1.26.
// Both protocols run the same operations. A dispatcher that shares its
// port with other AWS APIs routes JSON requests on TargetPrefix and Query
// requests with IsQueryRequest.
//
// It owns queue state only. It never verifies signatures (it only checks
// that a SigV4 Authorization header is present and well formed), never
// persists anything, and never logs message bodies or attribute values:
// a body carries a one-time code.
//
// The behaviour follows the SQS API reference and developer guide, including
// the parts clients notice: typed errors with the x-amzn-query-error header
// (the same legacy codes in the Query protocol's ErrorResponse),
// MD5 digests of bodies and attributes, receipt-handle rules, redrive at the
// receive that would exceed maxReceiveCount, and the 60-second cool-downs
// after DeleteQueue and PurgeQueue. FIFO queues are not supported.
package sqslocal
