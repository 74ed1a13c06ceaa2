// Package cloudwatchlocal is otp-local's CloudWatch: a per-minute metric
// store, fed by otp-local's own sampler of the SQS queues (the AWS/SQS
// metrics, once a minute, as SQS publishes them) and by the functions'
// Embedded Metric Format log lines (every namespace, every dimension set,
// as CloudWatch Logs extracts them), and the GetMetricData operation over
// the Smithy RPC v2 CBOR protocol that aws-sdk-go-v2's CloudWatch client
// speaks.
//
// The store keeps what CloudWatch keeps at one-minute resolution, for a
// bounded time and a bounded number of metrics: it never grows with
// traffic. Its Go API (Store.Series) is for otp-local's own pages.
//
// It is only as strict as AWS where the product depends on it, and says
// so where it is stricter: docs/FIDELITY.md, "CloudWatch".
package cloudwatchlocal
