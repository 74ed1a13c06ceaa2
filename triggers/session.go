package triggers

import (
	"bytes"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/aws/aws-lambda-go/events"
)

// Challenge names as Cognito spells them.
const (
	challengeSRPA             = "SRP_A"
	challengePasswordVerifier = "PASSWORD_VERIFIER"
	challengeCustom           = "CUSTOM_CHALLENGE"
)

// The client asks for a new code with clientMetadata {"otp_action":"resend"}
// on RespondToAuthChallenge; the answer it sends alongside is ignored.
const (
	clientMetadataAction = "otp_action"
	actionResend         = "resend"
)

func wantsResend(clientMetadata map[string]string) bool {
	return clientMetadata[clientMetadataAction] == actionResend
}

// How a round came about. Each CUSTOM_CHALLENGE round's metadata is written
// by Create when the round starts, so the kind of round i+1 records how
// round i was answered. That is what lets Define count wrong answers and
// resends from the session alone.
type roundKind byte

const (
	kindNewCode      roundKind = 'n' // first code, or a resend that was honoured
	kindAfterWrong   roundKind = 'w' // previous round was a wrong answer: same code
	kindEarlyRequest roundKind = 'e' // previous round asked for a resend inside the cooldown: same code
)

// metadataPrefix versions the challengeMetadata format, so a future format
// change is detected rather than misread. otp2 added the key id.
const metadataPrefix = "otp2"

// metadataFields is how many dot-separated fields the format has.
const metadataFields = 8

// round is one CUSTOM_CHALLENGE entry's metadata: what Define needs to count,
// and what Create needs to present the same code again. It never holds the
// code, only its HMAC.
type round struct {
	Generation  int
	Kind        roundKind
	ChallengeID string
	IssuedAt    time.Time
	ExpiresAt   time.Time
	KeyID       string // the HMAC key the MAC was made with
	MAC         []byte
}

func (r round) encode() string {
	return strings.Join([]string{
		metadataPrefix,
		strconv.Itoa(r.Generation),
		string(r.Kind),
		r.ChallengeID,
		strconv.FormatInt(r.IssuedAt.Unix(), 10),
		strconv.FormatInt(r.ExpiresAt.Unix(), 10),
		r.KeyID,
		encodeMAC(r.MAC),
	}, ".")
}

var errMalformedMetadata = errors.New("malformed challenge metadata")

func parseRound(s string) (round, error) {
	parts := strings.Split(s, ".")
	if len(parts) != metadataFields || parts[0] != metadataPrefix {
		return round{}, fmt.Errorf("%w: want %d dot-separated fields starting %q", errMalformedMetadata, metadataFields, metadataPrefix)
	}
	gen, err := strconv.Atoi(parts[1])
	if err != nil || gen < 1 || gen > 1000 {
		return round{}, fmt.Errorf("%w: generation", errMalformedMetadata)
	}
	if len(parts[2]) != 1 {
		return round{}, fmt.Errorf("%w: kind", errMalformedMetadata)
	}
	kind := roundKind(parts[2][0])
	switch kind {
	case kindNewCode, kindAfterWrong, kindEarlyRequest:
	default:
		return round{}, fmt.Errorf("%w: kind", errMalformedMetadata)
	}
	if !validChallengeID(parts[3]) {
		return round{}, fmt.Errorf("%w: challenge id", errMalformedMetadata)
	}
	iat, err1 := strconv.ParseInt(parts[4], 10, 64)
	exp, err2 := strconv.ParseInt(parts[5], 10, 64)
	if err1 != nil || err2 != nil || exp <= iat {
		return round{}, fmt.Errorf("%w: issue and expiry times", errMalformedMetadata)
	}
	if !validKeyID(parts[6]) {
		return round{}, fmt.Errorf("%w: key id", errMalformedMetadata)
	}
	mac, ok := decodeMAC(parts[7])
	if !ok {
		return round{}, fmt.Errorf("%w: mac", errMalformedMetadata)
	}
	r := round{
		Generation:  gen,
		Kind:        kind,
		ChallengeID: parts[3],
		IssuedAt:    time.Unix(iat, 0).UTC(),
		ExpiresAt:   time.Unix(exp, 0).UTC(),
		KeyID:       parts[6],
		MAC:         mac,
	}
	// Atoi, ParseInt and base64 also read "+2", "01" and a line break in a
	// MAC; Create writes none of those, so they are not its metadata.
	if r.encode() != s {
		return round{}, fmt.Errorf("%w: not in canonical form", errMalformedMetadata)
	}
	return r, nil
}

// history is what the session says about the code step so far.
type history struct {
	rounds []round // one per CUSTOM_CHALLENGE entry, in order
	// results[i] is Cognito's challengeResult for rounds[i].
	results []bool
}

// errUnexpectedSession covers every session shape this flow never produces:
// a missing password step, a foreign challenge, metadata that does not chain.
var errUnexpectedSession = errors.New("unexpected session")

// readHistory checks that the session is exactly SRP_A, a successful
// PASSWORD_VERIFIER, then a chain of CUSTOM_CHALLENGE rounds whose metadata
// is well formed and consistent, and returns those rounds.
func readHistory(session []*events.CognitoEventUserPoolsChallengeResult) (history, error) {
	if len(session) < 2 || session[0] == nil || session[1] == nil ||
		session[0].ChallengeName != challengeSRPA || !session[0].ChallengeResult ||
		session[1].ChallengeName != challengePasswordVerifier || !session[1].ChallengeResult {
		return history{}, fmt.Errorf("%w: code step without a successful password step", errUnexpectedSession)
	}
	var h history
	for i, entry := range session[2:] {
		if entry == nil || entry.ChallengeName != challengeCustom {
			return history{}, fmt.Errorf("%w: entry %d is not %s", errUnexpectedSession, i+2, challengeCustom)
		}
		r, err := parseRound(entry.ChallengeMetadata)
		if err != nil {
			return history{}, fmt.Errorf("%w: entry %d: %w", errUnexpectedSession, i+2, err)
		}
		if err := chains(h.last(), r); err != nil {
			return history{}, fmt.Errorf("%w: entry %d: %w", errUnexpectedSession, i+2, err)
		}
		if entry.ChallengeResult && i != len(session)-3 {
			return history{}, fmt.Errorf("%w: entry %d was answered correctly but the session went on", errUnexpectedSession, i+2)
		}
		h.rounds = append(h.rounds, r)
		h.results = append(h.results, entry.ChallengeResult)
	}
	return h, nil
}

// chains reports whether next can follow prev: a new code starts the next
// generation, any other round repeats the current code exactly.
func chains(prev *round, next round) error {
	if prev == nil {
		if next.Kind != kindNewCode || next.Generation != 1 {
			return errors.New("the first code round must be generation 1, kind new")
		}
		return nil
	}
	if next.Kind == kindNewCode {
		if next.Generation != prev.Generation+1 || next.ChallengeID == prev.ChallengeID {
			return errors.New("a new code must start the next generation with a new challenge id")
		}
		return nil
	}
	if next.Generation != prev.Generation || next.ChallengeID != prev.ChallengeID ||
		!next.IssuedAt.Equal(prev.IssuedAt) || !next.ExpiresAt.Equal(prev.ExpiresAt) ||
		next.KeyID != prev.KeyID || !bytes.Equal(next.MAC, prev.MAC) {
		return errors.New("a repeated round must carry the same code as the round before it")
	}
	return nil
}

func (h history) last() *round {
	if len(h.rounds) == 0 {
		return nil
	}
	return &h.rounds[len(h.rounds)-1]
}

// counts for the current (latest) generation, given how the latest round was
// answered: answeredWithResend is read from the request's clientMetadata,
// because no later round exists yet to record it.
type counts struct {
	Generation     int
	ResendsHonored int // generations after the first
	WrongAnswers   int // wrong answers to the current code
	EarlyRequests  int // resend requests refused (cooldown) for the current code
}

// countRounds classifies every answered round except the last by the kind of
// the round that followed it.
func (h history) countRounds() counts {
	cur := h.last()
	if cur == nil {
		return counts{}
	}
	c := counts{Generation: cur.Generation, ResendsHonored: cur.Generation - 1}
	for i := 1; i < len(h.rounds); i++ {
		if h.rounds[i].Generation != cur.Generation {
			continue
		}
		switch h.rounds[i].Kind {
		case kindAfterWrong:
			c.WrongAnswers++
		case kindEarlyRequest:
			c.EarlyRequests++
		}
	}
	return c
}
