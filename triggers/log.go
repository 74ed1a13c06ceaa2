package triggers

import (
	"context"
	"io"
	"log/slog"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-lambda-go/lambdacontext"
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
)

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
