package triggers

import (
	"context"
	"log/slog"
	"time"

	"github.com/aws/aws-lambda-go/events"
)

// Define is the Define Auth Challenge trigger.
type Define struct {
	Config DefineConfig
	Log    *slog.Logger
	Now    func() time.Time
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
)

type defineDecision struct {
	challenge  string // next challenge, when neither tokens nor failure
	tokens     bool
	failReason string
	generation int
	note       string // why the code step repeats: wrong_answer, resend_requested
}

// Handle decides the next step. It returns an error only for events it
// cannot read at all; every sign-in it refuses is a failAuthentication, so
// the user sees Cognito's usual "Incorrect username or password".
func (d *Define) Handle(ctx context.Context, ev events.CognitoEventUserPoolsDefineAuthChallenge) (events.CognitoEventUserPoolsDefineAuthChallenge, error) {
	dec := d.decide(ev.Request)
	ev.Response = events.CognitoEventUserPoolsDefineAuthChallengeResponse{}
	tenant, _, _ := Tenants{ByClient: d.Config.Tenants}.Resolve(ev.CallerContext.ClientID, ev.Request.UserAttributes)
	extra := []slog.Attr{}
	if ev.Request.UserNotFound {
		extra = append(extra, slog.Bool(fieldUserNotFound, true))
	}
	switch {
	case dec.failReason != "":
		ev.Response.FailAuthentication = true
		outcomeLog(ctx, d.Log, slog.LevelInfo, "define", ev.CognitoEventUserPoolsHeader, tenant, dec.generation, outcomeFail, dec.failReason, extra...)
	case dec.tokens:
		ev.Response.IssueTokens = true
		outcomeLog(ctx, d.Log, slog.LevelInfo, "define", ev.CognitoEventUserPoolsHeader, tenant, dec.generation, outcomeTokens, "", extra...)
	default:
		ev.Response.ChallengeName = dec.challenge
		outcome := outcomeAskCode
		if dec.challenge == challengePasswordVerifier {
			outcome = outcomeAskPassword
		}
		outcomeLog(ctx, d.Log, slog.LevelInfo, "define", ev.CognitoEventUserPoolsHeader, tenant, dec.generation, outcome, dec.note, extra...)
	}
	return ev, nil
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
		return defineDecision{challenge: challengeCustom, generation: 1}
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
		if c.EarlyRequests >= d.Config.maxEarlyRequests() {
			return fail(ReasonTooManyEarlyResends, cur.Generation)
		}
		return defineDecision{challenge: challengeCustom, generation: cur.Generation, note: "resend_requested"}
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
	return defineDecision{challenge: challengeCustom, generation: cur.Generation, note: "wrong_answer"}
}

func (d *Define) now() time.Time {
	if d.Now != nil {
		return d.Now()
	}
	return time.Now()
}
