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
)

// Verify is the Verify Auth Challenge Response trigger.
type Verify struct {
	Key []byte
	Log *slog.Logger
	Now func() time.Time
}

// Verify's outcomes, as logged.
const (
	outcomeCorrect         = "correct"
	outcomeWrong           = "wrong"
	outcomeExpired         = "expired"
	outcomeMalformedAnswer = "malformed_answer"
	outcomeResendRequest   = "resend_request"
	outcomeBadParameters   = "bad_parameters"
)

// challenge is what Create left in privateChallengeParameters.
type challenge struct {
	id         string
	mac        []byte
	expiresAt  time.Time
	codeLength int
	tenant     string
	generation int
}

// Handle sets answerCorrect. It never returns an error: an answer it cannot
// check is a wrong answer, and Define decides what follows.
func (v *Verify) Handle(ctx context.Context, ev events.CognitoEventUserPoolsVerifyAuthChallenge) (events.CognitoEventUserPoolsVerifyAuthChallenge, error) {
	ch, err := readChallenge(ev.Request.PrivateChallengeParameters)
	outcome, reason := v.check(ev.Request, ch, err)
	ev.Response.AnswerCorrect = outcome == outcomeCorrect
	level := slog.LevelInfo
	if outcome == outcomeBadParameters {
		level = slog.LevelError
	}
	outcomeLog(ctx, v.Log, level, "verify", ev.CognitoEventUserPoolsHeader, ch.tenant, ch.generation, outcome, reason)
	return ev, nil
}

func (v *Verify) check(req events.CognitoEventUserPoolsVerifyAuthChallengeRequest, ch challenge, chErr error) (outcome, reason string) {
	if chErr != nil {
		return outcomeBadParameters, chErr.Error()
	}
	if req.UserNotFound {
		return outcomeWrong, ReasonUserNotFound
	}
	// A resend request carries a placeholder answer; comparing it would
	// only cost the user an attempt.
	if wantsResend(req.ClientMetadata) {
		return outcomeResendRequest, ""
	}
	answer, isString := req.ChallengeAnswer.(string)
	if !isString {
		return outcomeMalformedAnswer, "answer is not a string"
	}
	digits, ok := normalizeAnswer(answer, ch.codeLength)
	if !ok {
		return outcomeMalformedAnswer, fmt.Sprintf("answer is not %d digits", ch.codeLength)
	}
	if !v.now().Before(ch.expiresAt) {
		return outcomeExpired, ""
	}
	if !hmac.Equal(codeMAC(v.Key, ch.id, digits), ch.mac) {
		return outcomeWrong, ""
	}
	return outcomeCorrect, ""
}

func readChallenge(p map[string]string) (challenge, error) {
	var ch challenge
	ch.tenant = p[privTenant]
	ch.generation, _ = strconv.Atoi(p[privGeneration])
	if p[privVersion] != "1" {
		return ch, errors.New("private challenge parameters: unknown version")
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
