package triggers

import (
	"context"
	"io"
	"log/slog"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-lambda-go/lambdacontext"

	"github.com/cognito-email-otp/cognito-email-otp/internal/pseudonym"
)

// NewLogger returns the JSON logger every trigger writes through. Field
// names are stable; dashboards and alarms filter on them.
func NewLogger(w io.Writer, level slog.Level) *slog.Logger {
	return slog.New(slog.NewJSONHandler(w, &slog.HandlerOptions{Level: level}))
}

// Log field names.
const (
	fieldTrigger      = "trigger"
	fieldRequestID    = "aws_request_id"
	fieldUserPoolID   = "user_pool_id"
	fieldClientID     = "client_id"
	fieldTenant       = "tenant"
	fieldGeneration   = "generation"
	fieldOutcome      = "outcome"
	fieldReason       = "reason"
	fieldUserNotFound = "user_not_found"
	// fieldUser is the user's pseudonym (Keyring.Pseudonym), never the sub.
	fieldUser        = "user"
	fieldRefused     = "refused"
	fieldFailures    = "failures"
	fieldRetryAfter  = "retry_after_s"
	fieldLockout     = "lockout"
	fieldBudgetError = "budget_error"
	fieldKeyID       = "key_id" // the HMAC key a code was made or checked with
	// fieldToHash is the recipient's keyed hash (Keyring.ToHash), never the
	// address; the mailer and the feedback function log the same field.
	fieldToHash = pseudonym.FieldToHash
	// fieldSendRequestID is the send request's id on Create's enqueue line,
	// named as the mailer names it; fieldRequestID is Lambda's own.
	fieldSendRequestID = "request_id"
	// fieldIssuedAt is when Create issued the code and so enqueued its
	// send request (the request's IssuedAt), on the enqueue line.
	fieldIssuedAt = "issued_at"
)

// EMF metrics the triggers write on their outcome line: CloudWatch turns
// them into metrics without a PutMetricData call. By tenant and in total,
// so one alarm covers the account and a Metrics Insights alarm each tenant.
const (
	MetricWrongCodes        = "WrongCodes"        // answers compared and wrong
	MetricLockouts          = "Lockouts"          // back-offs started and accounts locked
	MetricCodeStepRefused   = "CodeStepRefused"   // code steps refused by the budget
	MetricBudgetUnavailable = "BudgetUnavailable" // the budget's table could not be used
)

// DefaultMetricsNamespace is OTP_METRICS_NAMESPACE's default.
const DefaultMetricsNamespace = "CognitoEmailOTP"

type emfMetric struct {
	Name string `json:"Name"`
	Unit string `json:"Unit"`
}

type emfDirective struct {
	Namespace  string      `json:"Namespace"`
	Dimensions [][]string  `json:"Dimensions"`
	Metrics    []emfMetric `json:"Metrics"`
}

type emfMeta struct {
	Timestamp         int64          `json:"Timestamp"`
	CloudWatchMetrics []emfDirective `json:"CloudWatchMetrics"`
}

// metricAttrs makes an outcome line also an EMF document counting one of
// each metric, by tenant and in total. The line's own tenant field is the
// dimension's value.
func metricAttrs(namespace string, now time.Time, metrics ...string) []slog.Attr {
	if len(metrics) == 0 {
		return nil
	}
	if namespace == "" {
		namespace = DefaultMetricsNamespace
	}
	d := emfDirective{Namespace: namespace, Dimensions: [][]string{{fieldTenant}, {}}}
	attrs := make([]slog.Attr, 0, len(metrics)+1)
	for _, m := range metrics {
		d.Metrics = append(d.Metrics, emfMetric{Name: m, Unit: "Count"})
		attrs = append(attrs, slog.Int(m, 1))
	}
	return append(attrs, slog.Any("_aws", emfMeta{Timestamp: now.UnixMilli(), CloudWatchMetrics: []emfDirective{d}}))
}

// outcomeLog writes the one line a trigger invocation produces.
func outcomeLog(ctx context.Context, log *slog.Logger, level slog.Level, trigger string,
	h events.CognitoEventUserPoolsHeader, tenant string, generation int, outcome, reason string, extra ...slog.Attr) {
	attrs := make([]slog.Attr, 0, 8+len(extra))
	attrs = append(attrs,
		slog.String(fieldTrigger, trigger),
		slog.String(fieldUserPoolID, h.UserPoolID),
		slog.String(fieldClientID, h.CallerContext.ClientID),
	)
	if lc, ok := lambdacontext.FromContext(ctx); ok {
		attrs = append(attrs, slog.String(fieldRequestID, lc.AwsRequestID))
	}
	if tenant != "" {
		attrs = append(attrs, slog.String(fieldTenant, tenant))
	}
	if generation > 0 {
		attrs = append(attrs, slog.Int(fieldGeneration, generation))
	}
	attrs = append(attrs, slog.String(fieldOutcome, outcome))
	if reason != "" {
		attrs = append(attrs, slog.String(fieldReason, reason))
	}
	attrs = append(attrs, extra...)
	log.LogAttrs(ctx, level, trigger+" "+outcome, attrs...)
}

// LogOutcome writes the one line an invocation of another of the pool's
// triggers (the custom email sender) produces, with the same fields.
func LogOutcome(ctx context.Context, log *slog.Logger, level slog.Level, trigger string,
	h events.CognitoEventUserPoolsHeader, tenant, outcome, reason string, extra ...slog.Attr) {
	outcomeLog(ctx, log, level, trigger, h, tenant, 0, outcome, reason, extra...)
}
