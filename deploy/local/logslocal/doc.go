// Package logslocal is otp-local's CloudWatch Logs: every function's log
// lines kept in memory per log group (/aws/lambda/otp-create, …), as Lambda
// ships them to CloudWatch Logs, and the two calls an operator's tool reads
// them with, FilterLogEvents and DescribeLogGroups, over the JSON 1.1
// protocol aws-sdk-go-v2's cloudwatchlogs client speaks
// (X-Amz-Target: Logs_20140328.<Operation>).
//
// Filter patterns are otp-local's own subset of AWS's syntax (pattern.go):
// terms, quoted phrases and JSON comparisons joined with && and ||; what it
// does not read is refused as an invalid pattern, never matched loosely.
// Errors carry AWS's types and, where they are on record, its words.
//
// Memory is bounded: each group keeps its newest events, at most
// Options.MaxEvents and none older than Options.Retention. Requests must
// carry a SigV4 header for the signing name "logs" (its shape is checked,
// not the signature), and a browser page is refused outright: the lines
// name tenants, request ids and pseudonyms.
package logslocal
