// Package mailer owns the asynchronous half of the sign-in: the send-request
// contract that the Create Auth Challenge trigger puts on SQS, and the SQS
// batch handler that renders each request and sends it with SES v2.
//
// It must never let a one-time code reach a log line, a metric, an error
// message or an operator's view of the dead-letter queue: the code travels
// only inside the SQS message body and the email itself.
package mailer
