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
)

// Enqueuer puts one send request on the mailer's queue.
type Enqueuer interface {
	Enqueue(ctx context.Context, r contract.SendRequest) error
}

// Create is the Create Auth Challenge trigger.
type Create struct {
	Config CreateConfig
	Key    []byte
	Queue  Enqueuer
	Log    *slog.Logger
	Now    func() time.Time
	Random io.Reader // crypto/rand when nil
}

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
)

// Create's outcomes, as logged.
const (
	outcomeSent       = "code_enqueued"
	outcomeSameCode   = "same_code"
	outcomeCreateFail = "error"
)

// Handle issues a new code or presents the current one again. A new code is
// enqueued for the mailer; a repeat sends nothing. Errors fail the sign-in
// (Cognito answers UserLambdaValidationException).
func (c *Create) Handle(ctx context.Context, ev events.CognitoEventUserPoolsCreateAuthChallenge) (events.CognitoEventUserPoolsCreateAuthChallenge, error) {
	tenant, tenantSource, tenantRefused := Tenants{ByClient: c.Config.Tenants}.Resolve(ev.CallerContext.ClientID, ev.Request.UserAttributes)
	loc, localeRefused := locale(ev.Request.UserAttributes, ev.Request.ClientMetadata)
	resp, gen, outcome, note, err := c.create(ctx, ev, tenant, loc)
	extra := []slog.Attr{slog.String("tenant_source", tenantSource)}
	for _, refused := range []string{tenantRefused, localeRefused} {
		if refused != "" {
			extra = append(extra, slog.String("refused_attribute", refused))
		}
	}
	if err != nil {
		outcomeLog(ctx, c.Log, slog.LevelError, "create", ev.CognitoEventUserPoolsHeader, tenant, gen, outcomeCreateFail, contract.ScrubAddresses(err.Error()), extra...)
		return ev, err
	}
	if note != "" {
		extra = append(extra, slog.String("note", note))
	}
	outcomeLog(ctx, c.Log, slog.LevelInfo, "create", ev.CognitoEventUserPoolsHeader, tenant, gen, outcome, "", extra...)
	ev.Response = resp
	return ev, nil
}

func (c *Create) create(ctx context.Context, ev events.CognitoEventUserPoolsCreateAuthChallenge, tenant, loc string) (
	resp events.CognitoEventUserPoolsCreateAuthChallengeResponse, generation int, outcome, note string, err error) {
	req := ev.Request
	if req.ChallengeName != challengeCustom {
		return resp, 0, "", "", fmt.Errorf("create: asked for challenge %q, this trigger only makes %s", req.ChallengeName, challengeCustom)
	}
	if req.UserNotFound {
		return resp, 0, "", "", errors.New("create: user not found; define should have failed the sign-in")
	}
	email := req.UserAttributes["email"]
	if err := contract.ValidateRecipient(email); err != nil {
		return resp, 0, "", "", fmt.Errorf("create: email attribute: %w", err)
	}
	if c.Config.RequireVerifiedEmail && req.UserAttributes["email_verified"] != "true" {
		return resp, 0, "", "", errors.New("create: refusing to send a code to an unverified email address")
	}
	h, err := readHistory(req.Session)
	if err != nil {
		return resp, 0, "", "", fmt.Errorf("create: %w", err)
	}

	now := c.now()
	prev := h.last()
	var next round
	switch {
	case prev == nil:
		next, err = c.issue(ctx, ev, tenant, loc, email, 1, now)
		outcome = outcomeSent
	case wantsResend(req.ClientMetadata) && now.Sub(prev.IssuedAt) >= c.Config.ResendCooldown:
		next, err = c.issue(ctx, ev, tenant, loc, email, prev.Generation+1, now)
		outcome, note = outcomeSent, "resend"
	case wantsResend(req.ClientMetadata):
		next, outcome, note = *prev, outcomeSameCode, "resend_in_cooldown"
		next.Kind = kindEarlyRequest
	default:
		next, outcome, note = *prev, outcomeSameCode, "wrong_answer"
		next.Kind = kindAfterWrong
	}
	if err != nil {
		return resp, prev.generationOr(1), "", "", err
	}

	h.rounds = append(h.rounds, next)
	left := h.countRounds()
	resendIn := max(0, c.Config.ResendCooldown-now.Sub(next.IssuedAt))
	resp = events.CognitoEventUserPoolsCreateAuthChallengeResponse{
		PublicChallengeParameters: map[string]string{
			ParamEmail:            contract.MaskEmail(email),
			ParamCodeLength:       strconv.Itoa(c.Config.CodeLength),
			ParamExpiresAt:        next.ExpiresAt.Format(time.RFC3339),
			ParamExpiresInSeconds: strconv.Itoa(max(0, int(next.ExpiresAt.Sub(now).Seconds()))),
			ParamResendInSeconds:  strconv.Itoa(int(math.Ceil(resendIn.Seconds()))),
			ParamResendsLeft:      strconv.Itoa(max(0, c.Config.MaxResends-left.ResendsHonored)),
			ParamAttemptsLeft:     strconv.Itoa(max(0, c.Config.MaxWrongAnswers-left.WrongAnswers)),
			ParamNewCode:          strconv.FormatBool(outcome == outcomeSent),
		},
		PrivateChallengeParameters: map[string]string{
			privVersion:     "1",
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
	return resp, next.Generation, outcome, note, nil
}

// issue makes a new code, enqueues it and returns the round that records
// its MAC. The code does not outlive this call.
func (c *Create) issue(ctx context.Context, ev events.CognitoEventUserPoolsCreateAuthChallenge, tenant, loc, email string, generation int, now time.Time) (round, error) {
	random := c.Random
	if random == nil {
		random = defaultRandom
	}
	code, err := newCode(random, c.Config.CodeLength)
	if err != nil {
		return round{}, fmt.Errorf("create: %w", err)
	}
	id, err := newChallengeID(random)
	if err != nil {
		return round{}, fmt.Errorf("create: %w", err)
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
		MAC:         codeMAC(c.Key, id, code),
	}
	sr := contract.SendRequest{
		V:      contract.SendRequestVersion,
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
	if err := c.Queue.Enqueue(ctx, sr); err != nil {
		return round{}, fmt.Errorf("create: enqueue send request %s: %w", id, err)
	}
	return r, nil
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
