package triggers

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math"
	"strconv"
	"time"

	"github.com/aws/aws-lambda-go/events"

	"github.com/cognito-email-otp/cognito-email-otp/mailer/contract"
	"github.com/cognito-email-otp/cognito-email-otp/triggers/budget"
)

// Enqueuer puts one send request on the mailer's queue.
type Enqueuer interface {
	Enqueue(ctx context.Context, r contract.SendRequest) error
}

// Create is the Create Auth Challenge trigger.
type Create struct {
	Config CreateConfig
	Keys   *Keyring
	Queue  Enqueuer
	// Budget records each new code as the user's one live code, and refuses
	// one the user may not get (locked, backing off, too many this hour).
	// Nil refuses every new code, as an unreachable budget does.
	Budget *budget.Ledger
	Log    *slog.Logger
	Now    func() time.Time
	Random io.Reader // crypto/rand when nil
}

// ErrCodeStepFailed is the only error Create returns. Cognito passes a
// trigger's error text to the client ("CreateAuthChallenge failed with
// error ..."), so the detail (a queue URL, an SDK error) goes to the log,
// never to the caller.
var ErrCodeStepFailed = errors.New("the sign-in code could not be sent; please sign in again")

// enqueueTimeout bounds the SendMessage call and its retries, so a slow
// SQS fails the sign-in once and clearly, well inside Cognito's 5 s, rather
// than timing the trigger out (which Cognito retries, emailing a second
// code whose first never worked).
const enqueueTimeout = 2 * time.Second

// Public challenge parameters, as the client (Amplify's nextStep.additionalInfo)
// sees them. All values are strings, as Cognito requires.
const (
	ParamEmail            = "email"            // masked: r***@example.com
	ParamCodeLength       = "codeLength"       // digits to type
	ParamExpiresAt        = "expiresAt"        // RFC 3339, UTC
	ParamExpiresInSeconds = "expiresInSeconds" // relative, for clients with a wrong clock
	ParamResendInSeconds  = "resendInSeconds"  // 0 when a resend would be honoured now
	ParamResendsLeft      = "resendsLeft"
	ParamAttemptsLeft     = "attemptsLeft" // wrong answers left for this code
	ParamNewCode          = "newCode"      // "true" when this round emailed a new code
)

// Private challenge parameters, for Verify only.
const (
	privVersion     = "v"
	privChallengeID = "challengeId"
	privMAC         = "mac"
	privIssuedAt    = "issuedAt"
	privExpiresAt   = "expiresAt"
	privCodeLength  = "codeLength"
	privTenant      = "tenant"
	privGeneration  = "generation"
	privKeyID       = "keyId"
)

// privVersionCurrent is the private parameters' format: 2 binds the user
// into the MAC and names the key.
const privVersionCurrent = "2"

// Create's outcomes, as logged.
const (
	outcomeSent       = "code_enqueued"
	outcomeSameCode   = "same_code"
	outcomeCreateFail = "error"
)

// Handle issues a new code or presents the current one again. A new code is
// enqueued for the mailer; a repeat sends nothing. An error fails the
// sign-in (Cognito answers UserLambdaValidationException) and is always
// ErrCodeStepFailed; what went wrong is logged.
func (c *Create) Handle(ctx context.Context, ev events.CognitoEventUserPoolsCreateAuthChallenge) (events.CognitoEventUserPoolsCreateAuthChallenge, error) {
	tenant, tenantSource, tenantRefused := Tenants{ByClient: c.Config.Tenants}.Resolve(ev.CallerContext.ClientID, ev.Request.UserAttributes)
	loc, localeRefused := locale(ev.Request.UserAttributes, ev.Request.ClientMetadata)
	cr := c.create(ctx, ev, tenant, loc)
	extra := []slog.Attr{slog.String("tenant_source", tenantSource)}
	if c.Keys != nil && ev.Request.UserAttributes["sub"] != "" {
		extra = append(extra, slog.String(fieldUser, c.Keys.Pseudonym(ev.Request.UserAttributes["sub"])))
	}
	if c.Keys != nil && ev.Request.UserAttributes["email"] != "" {
		// The recipient as a keyed hash, the same the mailer's sent line
		// and the feedback function's event lines carry: an operator with
		// the address follows one code from here to the inbox.
		extra = append(extra, slog.String(fieldToHash, c.Keys.ToHash(ev.Request.UserAttributes["email"])))
	}
	for _, refused := range []string{tenantRefused, localeRefused} {
		if refused != "" {
			extra = append(extra, slog.String("refused_attribute", refused))
		}
	}
	extra = append(extra, cr.budget.attrs()...)
	extra = append(extra, metricAttrs(c.Config.MetricsNamespace, c.now(), cr.budget.metrics()...)...)
	if cr.err != nil {
		outcomeLog(ctx, c.Log, slog.LevelError, "create", ev.CognitoEventUserPoolsHeader, tenant, cr.generation, outcomeCreateFail, contract.ScrubAddresses(cr.err.Error()), extra...)
		return ev, ErrCodeStepFailed
	}
	if cr.note != "" {
		extra = append(extra, slog.String("note", cr.note))
	}
	if cr.outcome == outcomeSent {
		// request_id is the send request's id (the challenge id), the same
		// the mailer's and the feedback function's lines carry: it joins
		// this enqueue to the email's send and delivery (otpctl trace).
		// issued_at is the request's IssuedAt, before the enqueue: this
		// line is written after it, when the mailer may have sent already.
		extra = append(extra, slog.String(fieldKeyID, cr.resp.PrivateChallengeParameters[privKeyID]),
			slog.String(fieldSendRequestID, cr.resp.PrivateChallengeParameters[privChallengeID]),
			slog.Time(fieldIssuedAt, cr.issuedAt))
	}
	outcomeLog(ctx, c.Log, slog.LevelInfo, "create", ev.CognitoEventUserPoolsHeader, tenant, cr.generation, cr.outcome, "", extra...)
	ev.Response = cr.resp
	return ev, nil
}

// createResult is what one Create call did.
type createResult struct {
	resp       events.CognitoEventUserPoolsCreateAuthChallengeResponse
	generation int
	issuedAt   time.Time // a new code's send request's IssuedAt
	outcome    string
	note       string
	budget     verdict
	err        error
}

func (c *Create) create(ctx context.Context, ev events.CognitoEventUserPoolsCreateAuthChallenge, tenant, loc string) (cr createResult) {
	fail := func(err error) createResult { cr.err = err; return cr }
	req := ev.Request
	if req.ChallengeName != challengeCustom {
		return fail(fmt.Errorf("create: asked for challenge %q, this trigger only makes %s", req.ChallengeName, challengeCustom))
	}
	if req.UserNotFound {
		return fail(errors.New("create: user not found; define should have failed the sign-in"))
	}
	email := req.UserAttributes["email"]
	if err := contract.ValidateRecipient(email); err != nil {
		return fail(fmt.Errorf("create: email attribute: %w", err))
	}
	if c.Config.RequireVerifiedEmail && req.UserAttributes["email_verified"] != "true" {
		return fail(errors.New("create: refusing to send a code to an unverified email address"))
	}
	sub := req.UserAttributes["sub"]
	if sub == "" {
		return fail(errors.New("create: the event has no sub attribute: the code is bound to the user"))
	}
	h, err := readHistory(req.Session)
	if err != nil {
		return fail(fmt.Errorf("create: %w", err))
	}

	now := c.now()
	prev := h.last()
	var next round
	switch {
	case prev == nil:
		next, cr.budget, err = c.issue(ctx, ev, tenant, loc, email, sub, 1, now)
		cr.outcome = outcomeSent
	case wantsResend(req.ClientMetadata) && now.Sub(prev.IssuedAt) >= c.Config.ResendCooldown:
		next, cr.budget, err = c.issue(ctx, ev, tenant, loc, email, sub, prev.Generation+1, now)
		cr.outcome, cr.note = outcomeSent, "resend"
	case wantsResend(req.ClientMetadata):
		next, cr.outcome, cr.note = *prev, outcomeSameCode, "resend_in_cooldown"
		next.Kind = kindEarlyRequest
	default:
		next, cr.outcome, cr.note = *prev, outcomeSameCode, "wrong_answer"
		next.Kind = kindAfterWrong
	}
	if err != nil {
		cr.generation = prev.generationOr(1)
		return fail(err)
	}

	h.rounds = append(h.rounds, next)
	left := h.countRounds()
	resendIn := max(0, c.Config.ResendCooldown-now.Sub(next.IssuedAt))
	cr.generation = next.Generation
	if cr.outcome == outcomeSent {
		cr.issuedAt = now.UTC()
	}
	cr.resp = events.CognitoEventUserPoolsCreateAuthChallengeResponse{
		PublicChallengeParameters: map[string]string{
			ParamEmail:            contract.MaskEmail(email),
			ParamCodeLength:       strconv.Itoa(c.Config.CodeLength),
			ParamExpiresAt:        next.ExpiresAt.Format(time.RFC3339),
			ParamExpiresInSeconds: strconv.Itoa(max(0, int(next.ExpiresAt.Sub(now).Seconds()))),
			ParamResendInSeconds:  strconv.Itoa(int(math.Ceil(resendIn.Seconds()))),
			ParamResendsLeft:      strconv.Itoa(max(0, c.Config.MaxResends-left.ResendsHonored)),
			ParamAttemptsLeft:     strconv.Itoa(max(0, c.Config.MaxWrongAnswers-left.WrongAnswers)),
			ParamNewCode:          strconv.FormatBool(cr.outcome == outcomeSent),
		},
		PrivateChallengeParameters: map[string]string{
			privVersion:     privVersionCurrent,
			privKeyID:       next.KeyID,
			privChallengeID: next.ChallengeID,
			privMAC:         encodeMAC(next.MAC),
			privIssuedAt:    strconv.FormatInt(next.IssuedAt.Unix(), 10),
			privExpiresAt:   strconv.FormatInt(next.ExpiresAt.Unix(), 10),
			privCodeLength:  strconv.Itoa(c.Config.CodeLength),
			privTenant:      tenant,
			privGeneration:  strconv.Itoa(next.Generation),
		},
		ChallengeMetadata: next.encode(),
	}
	return cr
}

// issue makes a new code, records it as the user's live code, enqueues it
// and returns the round that records its MAC. The code does not outlive
// this call.
func (c *Create) issue(ctx context.Context, ev events.CognitoEventUserPoolsCreateAuthChallenge, tenant, loc, email, sub string, generation int, now time.Time) (round, verdict, error) {
	random := c.Random
	if random == nil {
		random = defaultRandom
	}
	if c.Keys == nil {
		return round{}, verdict{}, errors.New("create: no HMAC keys configured")
	}
	key, err := c.Keys.signing(ctx)
	if err != nil {
		// Still signing with the key in hand; the re-read is retried later.
		c.Log.WarnContext(ctx, "HMAC keys not refreshed", slog.String(fieldTrigger, "create"), slog.String(fieldReason, err.Error()))
	}
	code, err := newCode(random, c.Config.CodeLength)
	if err != nil {
		return round{}, verdict{}, fmt.Errorf("create: %w", err)
	}
	id, err := newChallengeID(random)
	if err != nil {
		return round{}, verdict{}, fmt.Errorf("create: %w", err)
	}
	// Whole seconds: the metadata stores Unix seconds, and a repeated round
	// must compare equal to the one it repeats.
	issuedAt := now.Truncate(time.Second).UTC()
	r := round{
		Generation:  generation,
		Kind:        kindNewCode,
		ChallengeID: id,
		IssuedAt:    issuedAt,
		ExpiresAt:   issuedAt.Add(c.Config.CodeTTL),
		KeyID:       key.id,
		MAC:         codeMAC(key.key, id, sub, code),
	}
	// The budget first: a user who may not get a code is not emailed one,
	// and the new code supersedes every earlier one before it exists.
	v := newGuard(c.Budget, c.Config.BudgetConfig).consult(ctx, func(ctx context.Context, l *budget.Ledger) (budget.Standing, error) {
		return l.Issue(ctx, sub, id, r.ExpiresAt)
	})
	if !v.allow {
		if v.err != nil {
			return round{}, v, fmt.Errorf("create: failure budget: %w", v.err)
		}
		return round{}, v, fmt.Errorf("create: failure budget refuses a new code: %s", v.standing.Refused)
	}
	sr := contract.SendRequest{
		V:      contract.SendRequestVersion,
		Kind:   contract.KindSignInCode,
		ID:     id,
		Tenant: tenant,
		Locale: loc,
		To:     email,
		Name:   contract.CleanName(displayName(ev.Request.UserAttributes)),
		Code:   contract.Code(code),
		// The precise time, not the round's whole second: the mailer's
		// time-to-send metric starts here.
		IssuedAt:  now.UTC(),
		ExpiresAt: r.ExpiresAt,
	}
	enqCtx, cancel := context.WithTimeout(ctx, enqueueTimeout)
	defer cancel()
	if err := c.Queue.Enqueue(enqCtx, sr); err != nil {
		return round{}, v, fmt.Errorf("create: enqueue send request %s: %w", id, err)
	}
	return r, v, nil
}

func (r *round) generationOr(def int) int {
	if r == nil {
		return def
	}
	return r.Generation
}

func (c *Create) now() time.Time {
	if c.Now != nil {
		return c.Now()
	}
	return time.Now()
}
