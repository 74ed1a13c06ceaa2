package triggers

import (
	"context"
	"crypto/hmac"
	"errors"
	"fmt"
	"log/slog"
	"strconv"
	"time"

	"github.com/aws/aws-lambda-go/events"

	"github.com/cognito-email-otp/cognito-email-otp/triggers/budget"
)

// Verify is the Verify Auth Challenge Response trigger.
type Verify struct {
	Config VerifyConfig
	Keys   *Keyring
	// Budget is charged for every answer before it is compared, refuses
	// answers to a superseded code, and is reset by a correct answer. Nil
	// refuses every answer, as an unreachable budget does.
	Budget *budget.Ledger
	Log    *slog.Logger
	Now    func() time.Time
}

// Verify's outcomes, as logged.
const (
	outcomeCorrect         = "correct"
	outcomeWrong           = "wrong"
	outcomeExpired         = "expired"
	outcomeMalformedAnswer = "malformed_answer"
	outcomeResendRequest   = "resend_request"
	outcomeBadParameters   = "bad_parameters"
	outcomeRefused         = "refused"            // the budget refused the answer: not compared
	outcomeBudgetDown      = "budget_unavailable" // the budget could not be consulted: not compared
)

// challenge is what Create left in privateChallengeParameters.
type challenge struct {
	id         string
	mac        []byte
	expiresAt  time.Time
	codeLength int
	tenant     string
	generation int
	keyID      string
}

// Handle sets answerCorrect. It never returns an error: an answer it cannot
// check is a wrong answer, and Define decides what follows.
func (v *Verify) Handle(ctx context.Context, ev events.CognitoEventUserPoolsVerifyAuthChallenge) (events.CognitoEventUserPoolsVerifyAuthChallenge, error) {
	ch, err := readChallenge(ev.Request.PrivateChallengeParameters)
	res := v.check(ctx, ev.Request, ch, err)
	ev.Response.AnswerCorrect = res.outcome == outcomeCorrect
	level := slog.LevelInfo
	if res.outcome == outcomeBadParameters || res.budget.err != nil {
		level = slog.LevelError
	}
	var extra []slog.Attr
	if sub := ev.Request.UserAttributes["sub"]; v.Keys != nil && sub != "" {
		extra = append(extra, slog.String(fieldUser, v.Keys.Pseudonym(sub)))
	}
	extra = append(extra, res.budget.attrs()...)
	if res.note != "" {
		extra = append(extra, slog.String("note", res.note))
	}
	if res.outcome == outcomeCorrect || res.outcome == outcomeWrong {
		extra = append(extra, slog.String(fieldKeyID, ch.keyID))
	}
	metrics := res.budget.metrics()
	if res.outcome == outcomeWrong {
		metrics = append(metrics, MetricWrongCodes)
	}
	extra = append(extra, metricAttrs(v.Config.MetricsNamespace, v.now(), metrics...)...)
	outcomeLog(ctx, v.Log, level, "verify", ev.CognitoEventUserPoolsHeader, ch.tenant, ch.generation, res.outcome, res.reason, extra...)
	return ev, nil
}

type verifyResult struct {
	outcome, reason string
	note            string
	budget          verdict
}

func (v *Verify) check(ctx context.Context, req events.CognitoEventUserPoolsVerifyAuthChallengeRequest, ch challenge, chErr error) (res verifyResult) {
	if chErr != nil {
		return verifyResult{outcome: outcomeBadParameters, reason: chErr.Error()}
	}
	if req.UserNotFound {
		return verifyResult{outcome: outcomeWrong, reason: ReasonUserNotFound}
	}
	// A resend request carries a placeholder answer; comparing it would
	// only cost the user an attempt.
	if wantsResend(req.ClientMetadata) {
		return verifyResult{outcome: outcomeResendRequest}
	}
	sub := req.UserAttributes["sub"]
	if sub == "" {
		return verifyResult{outcome: outcomeBadParameters, reason: "the event has no sub attribute"}
	}
	// Every answer spends budget before anything is compared, atomically
	// across this user's sign-ins; a refused one is not compared at all.
	res.budget = newGuard(v.Budget, v.Config.BudgetConfig).consult(ctx, func(ctx context.Context, l *budget.Ledger) (budget.Standing, error) {
		return l.Reserve(ctx, sub, ch.id)
	})
	if !res.budget.allow {
		if res.budget.err != nil {
			res.outcome = outcomeBudgetDown
		} else {
			res.outcome, res.reason = outcomeRefused, res.budget.standing.Refused
		}
		return res
	}
	answer, isString := req.ChallengeAnswer.(string)
	if !isString {
		res.outcome, res.reason = outcomeMalformedAnswer, "answer is not a string"
		return res
	}
	digits, ok := normalizeAnswer(answer, ch.codeLength)
	if !ok {
		res.outcome, res.reason = outcomeMalformedAnswer, fmt.Sprintf("answer is not %d digits", ch.codeLength)
		return res
	}
	if !v.now().Before(ch.expiresAt) {
		res.outcome = outcomeExpired
		return res
	}
	if v.Keys == nil {
		res.outcome, res.reason = outcomeBadParameters, "no HMAC keys configured"
		return res
	}
	key, reloadErr, err := v.Keys.lookup(ctx, ch.keyID)
	if reloadErr != nil {
		res.note = "HMAC keys not refreshed: " + reloadErr.Error()
	}
	if err != nil {
		res.outcome, res.reason = outcomeBadParameters, err.Error()
		return res
	}
	if !hmac.Equal(codeMAC(key, ch.id, sub, digits), ch.mac) {
		res.outcome = outcomeWrong
		return res
	}
	res.outcome = outcomeCorrect
	// The user proved they hold the code: the budget starts over and the
	// code is retired. If that write fails the answer still stands; the
	// failures stay counted, which errs on the safe side.
	reset := newGuard(v.Budget, v.Config.BudgetConfig).consult(ctx, func(ctx context.Context, l *budget.Ledger) (budget.Standing, error) {
		return budget.Standing{}, l.Succeed(ctx, sub, ch.id)
	})
	if reset.err != nil {
		res.note = "budget not reset after a correct answer: " + reset.err.Error()
		res.budget.err = reset.err
	}
	res.budget.standing.Failures = 0
	return res
}

func readChallenge(p map[string]string) (challenge, error) {
	var ch challenge
	ch.tenant = p[privTenant]
	ch.generation, _ = strconv.Atoi(p[privGeneration])
	if p[privVersion] != privVersionCurrent {
		return ch, errors.New("private challenge parameters: unknown version")
	}
	ch.keyID = p[privKeyID]
	if !validKeyID(ch.keyID) {
		return ch, errors.New("private challenge parameters: bad key id")
	}
	ch.id = p[privChallengeID]
	if !validChallengeID(ch.id) {
		return ch, errors.New("private challenge parameters: bad challenge id")
	}
	var ok bool
	if ch.mac, ok = decodeMAC(p[privMAC]); !ok {
		return ch, errors.New("private challenge parameters: bad mac")
	}
	exp, err := strconv.ParseInt(p[privExpiresAt], 10, 64)
	if err != nil {
		return ch, errors.New("private challenge parameters: bad expiry")
	}
	ch.expiresAt = time.Unix(exp, 0)
	ch.codeLength, err = strconv.Atoi(p[privCodeLength])
	if err != nil || ch.codeLength < MinCodeLength || ch.codeLength > MaxCodeLength {
		return ch, errors.New("private challenge parameters: bad code length")
	}
	return ch, nil
}

func (v *Verify) now() time.Time {
	if v.Now != nil {
		return v.Now()
	}
	return time.Now()
}
