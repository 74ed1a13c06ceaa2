package triggers

import (
	"context"
	"log/slog"
	"slices"
	"time"

	"github.com/aws/aws-lambda-go/events"

	"github.com/cognito-email-otp/cognito-email-otp/triggers/budget"
)

// Define is the Define Auth Challenge trigger.
type Define struct {
	Config DefineConfig
	// Budget is the per-user failure budget. Define asks it before every
	// code round (a locked user gets no code, and so no email) and charges
	// it when a sign-in ends for early-resend abuse. Nil refuses the code
	// step, as an unreachable budget does.
	Budget *budget.Ledger
	// Keys give log lines the user's pseudonym; nil leaves it out.
	Keys *Keyring
	Log  *slog.Logger
	Now  func() time.Time
}

// Define's outcomes, as logged.
const (
	outcomeAskPassword = "ask_password"
	outcomeAskCode     = "ask_code"
	outcomeTokens      = "issue_tokens"
	outcomeFail        = "fail"
)

// Reasons a sign-in fails, as logged.
const (
	ReasonNoPasswordStep      = "no_password_step"
	ReasonWrongPassword       = "wrong_password"
	ReasonUserNotFound        = "user_not_found"
	ReasonUnexpectedSession   = "unexpected_session"
	ReasonNoEmail             = "no_email"
	ReasonEmailUnverified     = "email_unverified"
	ReasonTooManyWrongAnswers = "too_many_wrong_answers"
	ReasonCodeExpired         = "code_expired"
	ReasonResendLimit         = "resend_limit"
	ReasonTooManyEarlyResends = "too_many_early_resends"
	// The budget refused the code step: budget_locked, budget_backoff,
	// budget_code_limit; or could not be consulted.
	ReasonBudgetUnavailable = "budget_unavailable"
)

// What a decision asks of the budget.
type budgetStep int

const (
	budgetNone     budgetStep = iota
	budgetNewCode             // a code is about to be issued: locked, back-off and code window
	budgetSameCode            // the same code is asked for again: locked and back-off
	budgetPenalize            // the sign-in ends for early-resend abuse: one failure
)

type defineDecision struct {
	challenge  string // next challenge, when neither tokens nor failure
	tokens     bool
	failReason string
	generation int
	note       string // why the code step repeats: wrong_answer, resend_requested, resend_early
	budget     budgetStep
}

// Handle decides the next step. It never returns an error: every sign-in
// it refuses is a failAuthentication, so the user sees Cognito's usual
// "Incorrect username or password" and learns nothing about why.
func (d *Define) Handle(ctx context.Context, ev events.CognitoEventUserPoolsDefineAuthChallenge) (events.CognitoEventUserPoolsDefineAuthChallenge, error) {
	dec := d.decide(ev.Request)
	ev.Response = events.CognitoEventUserPoolsDefineAuthChallengeResponse{}
	tenant, _, _ := Tenants{ByClient: d.Config.Tenants}.Resolve(ev.CallerContext.ClientID, ev.Request.UserAttributes)
	sub := ev.Request.UserAttributes["sub"]
	var extra []slog.Attr
	if ev.Request.UserNotFound {
		extra = append(extra, slog.Bool(fieldUserNotFound, true))
	} else if d.Keys != nil && sub != "" {
		extra = append(extra, slog.String(fieldUser, d.Keys.Pseudonym(sub)))
	}
	var metrics []string
	if dec.budget != budgetNone {
		v := d.consultBudget(ctx, dec, sub)
		extra = append(extra, v.attrs()...)
		metrics = v.metrics()
		if !v.allow && dec.failReason == "" {
			dec = defineDecision{failReason: v.failReason(), generation: dec.generation}
		}
	}
	extra = append(extra, metricAttrs(d.Config.MetricsNamespace, d.now(), metrics...)...)
	level := slog.LevelInfo
	if slices.Contains(metrics, MetricBudgetUnavailable) {
		level = slog.LevelError
	}
	switch {
	case dec.failReason != "":
		ev.Response.FailAuthentication = true
		outcomeLog(ctx, d.Log, level, "define", ev.CognitoEventUserPoolsHeader, tenant, dec.generation, outcomeFail, dec.failReason, extra...)
	case dec.tokens:
		ev.Response.IssueTokens = true
		outcomeLog(ctx, d.Log, level, "define", ev.CognitoEventUserPoolsHeader, tenant, dec.generation, outcomeTokens, "", extra...)
	default:
		ev.Response.ChallengeName = dec.challenge
		outcome := outcomeAskCode
		if dec.challenge == challengePasswordVerifier {
			outcome = outcomeAskPassword
		}
		outcomeLog(ctx, d.Log, level, "define", ev.CognitoEventUserPoolsHeader, tenant, dec.generation, outcome, dec.note, extra...)
	}
	return ev, nil
}

func (d *Define) consultBudget(ctx context.Context, dec defineDecision, sub string) verdict {
	g := newGuard(d.Budget, d.Config.BudgetConfig)
	return g.consult(ctx, func(ctx context.Context, l *budget.Ledger) (budget.Standing, error) {
		switch dec.budget {
		case budgetPenalize:
			return l.Penalize(ctx, sub)
		default:
			return l.Check(ctx, sub, dec.budget == budgetNewCode)
		}
	})
}

func (d *Define) decide(req events.CognitoEventUserPoolsDefineAuthChallengeRequest) defineDecision {
	s := req.Session
	fail := func(reason string, gen int) defineDecision {
		return defineDecision{failReason: reason, generation: gen}
	}

	// Without SRP_A the client started CUSTOM_AUTH with no password at all:
	// answering with a code alone must never sign anyone in.
	if len(s) == 0 || s[0] == nil || s[0].ChallengeName != challengeSRPA {
		return fail(ReasonNoPasswordStep, 0)
	}
	if len(s) == 1 {
		// An unknown user takes the same step as a known one, so that the
		// answer to InitiateAuth cannot tell them apart; Cognito's
		// simulated PASSWORD_VERIFIER then fails like a wrong password.
		return defineDecision{challenge: challengePasswordVerifier}
	}
	if req.UserNotFound {
		return fail(ReasonUserNotFound, 0)
	}
	// Cognito always marks SRP_A passed; anything else is a session this
	// flow never produced. Checked only from here on, so an unknown user's
	// first step above stays the same as a known user's.
	if !s[0].ChallengeResult || s[1] == nil || s[1].ChallengeName != challengePasswordVerifier {
		return fail(ReasonUnexpectedSession, 0)
	}
	if !s[1].ChallengeResult {
		return fail(ReasonWrongPassword, 0)
	}
	if len(s) == 2 {
		if req.UserAttributes["email"] == "" {
			return fail(ReasonNoEmail, 0)
		}
		if d.Config.RequireVerifiedEmail && req.UserAttributes["email_verified"] != "true" {
			return fail(ReasonEmailUnverified, 0)
		}
		return defineDecision{challenge: challengeCustom, generation: 1, budget: budgetNewCode}
	}

	h, err := readHistory(s)
	if err != nil {
		return fail(ReasonUnexpectedSession, 0)
	}
	cur := h.last()
	c := h.countRounds()
	// A session past any limit is one this Define never let happen; it
	// does not earn tokens however it ends.
	if c.WrongAnswers >= d.Config.MaxWrongAnswers || c.ResendsHonored > d.Config.MaxResends || c.EarlyRequests > d.Config.maxEarlyRequests() {
		return fail(ReasonUnexpectedSession, cur.Generation)
	}
	if h.results[len(h.results)-1] {
		return defineDecision{tokens: true, generation: cur.Generation}
	}
	if wantsResend(req.ClientMetadata) {
		if c.ResendsHonored >= d.Config.MaxResends {
			return fail(ReasonResendLimit, cur.Generation)
		}
		// Create honours a request once the cooldown has passed, however many
		// came early; only requests inside it are bounded. Same clock rule
		// as Create's, so both agree on which request is early.
		if d.now().Sub(cur.IssuedAt) < d.Config.ResendCooldown {
			if c.EarlyRequests >= d.Config.maxEarlyRequests() {
				dec := fail(ReasonTooManyEarlyResends, cur.Generation)
				dec.budget = budgetPenalize
				return dec
			}
			return defineDecision{challenge: challengeCustom, generation: cur.Generation, note: "resend_early", budget: budgetSameCode}
		}
		return defineDecision{challenge: challengeCustom, generation: cur.Generation, note: "resend_requested", budget: budgetNewCode}
	}
	// Verify rejects an expired code, so an expired round reads as a wrong
	// answer here; it ends the sign-in rather than costing an attempt. A
	// resend (above) is still allowed after expiry.
	if !d.now().Before(cur.ExpiresAt) {
		return fail(ReasonCodeExpired, cur.Generation)
	}
	if c.WrongAnswers+1 >= d.Config.MaxWrongAnswers {
		return fail(ReasonTooManyWrongAnswers, cur.Generation)
	}
	return defineDecision{challenge: challengeCustom, generation: cur.Generation, note: "wrong_answer", budget: budgetSameCode}
}

func (d *Define) now() time.Time {
	if d.Now != nil {
		return d.Now()
	}
	return time.Now()
}
