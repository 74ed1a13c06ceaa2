package triggers

import (
	"context"
	"errors"
	"log/slog"
	"time"

	"github.com/cognito-email-otp/cognito-email-otp/triggers/budget"
)

// errNoBudget stands in for a budget that was never wired: the code step
// is then refused like an unreachable one, never silently unbounded.
var errNoBudget = errors.New("no failure budget configured")

// guard is how a trigger consults the per-user failure budget: within a
// deadline, failing closed unless BudgetFailOpen says otherwise, and with
// what happened turned into log fields and metrics.
type guard struct {
	ledger   *budget.Ledger
	timeout  time.Duration
	failOpen bool
}

func newGuard(l *budget.Ledger, c BudgetConfig) guard {
	return guard{ledger: l, timeout: c.BudgetTimeout, failOpen: c.BudgetFailOpen}
}

// verdict is the budget's answer to one trigger call.
type verdict struct {
	standing budget.Standing
	err      error // the budget could not be consulted
	allow    bool  // the code step may go on
}

func (g guard) consult(ctx context.Context, op func(ctx context.Context, l *budget.Ledger) (budget.Standing, error)) verdict {
	if g.ledger == nil {
		return verdict{err: errNoBudget, allow: g.failOpen}
	}
	timeout := g.timeout
	if timeout <= 0 {
		timeout = time.Second
	}
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	st, err := op(ctx, g.ledger)
	if err != nil {
		return verdict{err: err, allow: g.failOpen}
	}
	return verdict{standing: st, allow: st.Refused == ""}
}

// attrs are the verdict's log fields.
func (v verdict) attrs() []slog.Attr {
	var out []slog.Attr
	st := v.standing
	if st.Refused != "" {
		out = append(out, slog.String(fieldRefused, st.Refused))
		if st.RetryAfter > 0 {
			out = append(out, slog.Int(fieldRetryAfter, int(st.RetryAfter.Round(time.Second)/time.Second)))
		}
	}
	if st.Failures > 0 {
		out = append(out, slog.Int(fieldFailures, st.Failures))
	}
	if st.Lockout != "" {
		out = append(out, slog.String(fieldLockout, st.Lockout))
	}
	if v.err != nil {
		out = append(out, slog.String(fieldBudgetError, v.err.Error()))
	}
	return out
}

// metrics are the verdict's EMF counts.
func (v verdict) metrics() []string {
	var out []string
	if v.err != nil {
		out = append(out, MetricBudgetUnavailable)
	}
	if v.standing.Refused != "" && v.standing.Refused != budget.RefusedSuperseded {
		out = append(out, MetricCodeStepRefused)
	}
	if v.standing.Lockout != "" {
		out = append(out, MetricLockouts)
	}
	return out
}

// failReason is why Define fails a sign-in the budget refused.
func (v verdict) failReason() string {
	if v.err != nil {
		return ReasonBudgetUnavailable
	}
	return "budget_" + v.standing.Refused
}
