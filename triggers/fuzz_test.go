package triggers

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"io"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-lambda-go/lambda"

	"github.com/cognito-email-otp/cognito-email-otp/triggers/budget"
)

// fuzzStart is when the genuine sign-in behind the fuzz seeds begins; the
// Define under test runs some seconds after it.
var fuzzStart = time.Date(2026, 11, 24, 9, 0, 0, 0, time.UTC)

func fuzzLimits() Limits {
	return Limits{MaxWrongAnswers: 3, MaxResends: 2, ResendCooldown: 30 * time.Second}
}

// fuzzLedger is a budget with nothing spent.
func fuzzLedger(now time.Time) *budget.Ledger {
	return &budget.Ledger{Policy: budget.DefaultPolicy, Store: &budget.MemoryStore{}, Now: func() time.Time { return now }}
}

func fuzzDefine(now time.Time) *Define {
	d := NewDefine(DefineConfig{Limits: fuzzLimits(), BudgetConfig: testBudgetConfig(), RequireVerifiedEmail: true}, nil, fuzzLedger(now), io.Discard)
	d.Now = func() time.Time { return now }
	return d
}

// fuzzCreate is Create with a fixed clock and random source.
func fuzzCreate(tb testing.TB, now *time.Time, random io.Reader) *Create {
	return &Create{
		Config: CreateConfig{
			Limits: fuzzLimits(), BudgetConfig: testBudgetConfig(), CodeLength: 6, CodeTTL: 3 * time.Minute, AuthSessionValidity: 3 * time.Minute,
			QueueURL: "https://sqs.example/q", RequireVerifiedEmail: true,
		},
		Keys: testKeys(tb), Queue: &recordingQueue{}, Log: NewLogger(io.Discard, 0),
		Budget: fuzzLedger(*now), Now: func() time.Time { return *now }, Random: random,
	}
}

// genuineMetadata runs the real Create through one sign-in (first code, a
// wrong answer, an early resend, an honoured resend, a wrong answer, another
// honoured resend) and returns the challengeMetadata of each round, so the
// fuzzer starts from exactly what Create writes rather than from a copy of
// the format that could drift from it.
func genuineMetadata(tb testing.TB) []string {
	tb.Helper()
	now := fuzzStart
	c := fuzzCreate(tb, &now, rand.NewChaCha8([32]byte{'f', 'u', 'z', 'z'}))
	c.Budget.Now = func() time.Time { return now }
	session := []*events.CognitoEventUserPoolsChallengeResult{
		{ChallengeName: challengeSRPA, ChallengeResult: true},
		{ChallengeName: challengePasswordVerifier, ChallengeResult: true},
	}
	resend := map[string]string{clientMetadataAction: actionResend}
	var metas []string
	for _, step := range []struct {
		after    time.Duration
		metadata map[string]string
	}{{0, nil}, {5 * time.Second, nil}, {10 * time.Second, resend}, {40 * time.Second, resend}, {50 * time.Second, nil}, {90 * time.Second, resend}} {
		now = fuzzStart.Add(step.after)
		var ev events.CognitoEventUserPoolsCreateAuthChallenge
		ev.Request.ChallengeName = challengeCustom
		ev.Request.UserAttributes = map[string]string{"sub": "7f3e2a10-5c4b-4d21-9e8f-0a1b2c3d4e5f", "email": "rosa@example.com", "email_verified": "true", "name": "Rosa"}
		ev.Request.Session = session
		ev.Request.ClientMetadata = step.metadata
		out, err := c.Handle(context.Background(), ev)
		if err != nil {
			tb.Fatalf("create: %v", err)
		}
		m := out.Response.ChallengeMetadata
		metas = append(metas, m)
		session = append(session, &events.CognitoEventUserPoolsChallengeResult{ChallengeName: challengeCustom, ChallengeMetadata: m})
	}
	return metas
}

var otherChallenges = []string{"SMS_MFA", "SOFTWARE_TOKEN_MFA", "", "custom_challenge", "DEVICE_SRP_AUTH", "SRP_A ", "NEW_PASSWORD_REQUIRED", "EMAIL_OTP"}

// decodeSession turns fuzz input into a session. Each byte of shape is one
// entry: 0xff is a nil entry; otherwise the low two bits pick SRP_A,
// PASSWORD_VERIFIER, CUSTOM_CHALLENGE or another name (bits 3-5), and bit 2
// is challengeResult. metas holds the entries' challengeMetadata separated
// by "|"; "#k" stands for genuine[k], so the fuzzer can splice real rounds
// in any order as well as mutate them.
func decodeSession(shape []byte, metas string, genuine []string) []*events.CognitoEventUserPoolsChallengeResult {
	if len(shape) > 32 {
		shape = shape[:32]
	}
	pieces := strings.Split(metas, "|")
	session := make([]*events.CognitoEventUserPoolsChallengeResult, 0, len(shape))
	for i, b := range shape {
		if b == 0xff {
			session = append(session, nil)
			continue
		}
		e := &events.CognitoEventUserPoolsChallengeResult{ChallengeResult: b&4 != 0}
		switch b & 3 {
		case 0:
			e.ChallengeName = challengeSRPA
		case 1:
			e.ChallengeName = challengePasswordVerifier
		case 2:
			e.ChallengeName = challengeCustom
		default:
			e.ChallengeName = otherChallenges[(b>>3)&7]
		}
		if i < len(pieces) {
			e.ChallengeMetadata = pieces[i]
			if k, err := strconv.Atoi(strings.TrimPrefix(pieces[i], "#")); err == nil && strings.HasPrefix(pieces[i], "#") && k >= 0 && k < len(genuine) {
				e.ChallengeMetadata = genuine[k]
			}
		}
		session = append(session, e)
	}
	return session
}

// Shape bytes for decodeSession.
const (
	shapeSRP        = 0 | 4
	shapePasswordOK = 1 | 4
	shapePasswordNo = 1
	shapeCodeWrong  = 2
	shapeCodeRight  = 2 | 4
)

// refRound is one round as this test reads the metadata format, written
// independently of parseRound so that a lax parser shows up as a difference.
type refRound struct {
	gen      int
	kind     string
	id       string
	iat, exp int64
	kid, mac string
}

// refParse accepts exactly the strings Create writes: canonical decimals,
// canonical unpadded base64url of the right sizes.
func refParse(s string) (refRound, bool) {
	p := strings.Split(s, ".")
	if len(p) != 8 || p[0] != "otp2" {
		return refRound{}, false
	}
	gen, err := strconv.Atoi(p[1])
	if err != nil || gen < 1 || gen > 1000 || strconv.Itoa(gen) != p[1] {
		return refRound{}, false
	}
	if p[2] != "n" && p[2] != "w" && p[2] != "e" {
		return refRound{}, false
	}
	canonical := func(s string, size int) bool {
		b, err := base64.RawURLEncoding.Strict().DecodeString(s)
		return err == nil && len(b) == size && base64.RawURLEncoding.EncodeToString(b) == s
	}
	if !canonical(p[3], 16) || !canonical(p[6], 9) || !canonical(p[7], 32) {
		return refRound{}, false
	}
	iat, err1 := strconv.ParseInt(p[4], 10, 64)
	exp, err2 := strconv.ParseInt(p[5], 10, 64)
	if err1 != nil || err2 != nil || strconv.FormatInt(iat, 10) != p[4] || strconv.FormatInt(exp, 10) != p[5] || exp <= iat {
		return refRound{}, false
	}
	return refRound{gen: gen, kind: p[2], id: p[3], iat: iat, exp: exp, kid: p[6], mac: p[7]}, true
}

// validSuccess is the only session that may earn tokens: a known user, SRP_A
// and a passed PASSWORD_VERIFIER, then CUSTOM_CHALLENGE rounds of which only
// the last was answered correctly, whose metadata chains as Create writes
// it: generation 1 first, a new code starts the next generation under a new
// challenge id, and any other round repeats its predecessor's code exactly.
func validSuccess(s []*events.CognitoEventUserPoolsChallengeResult, userNotFound bool) bool {
	if userNotFound || len(s) < 3 {
		return false
	}
	if s[0] == nil || s[0].ChallengeName != challengeSRPA || !s[0].ChallengeResult ||
		s[1] == nil || s[1].ChallengeName != challengePasswordVerifier || !s[1].ChallengeResult {
		return false
	}
	var prev *refRound
	wrong, early := 0, 0 // for the current code
	lim := fuzzLimits()
	for i, e := range s[2:] {
		last := i == len(s)-3
		if e == nil || e.ChallengeName != challengeCustom || e.ChallengeResult != last {
			return false
		}
		r, ok := refParse(e.ChallengeMetadata)
		if !ok {
			return false
		}
		switch {
		case prev == nil:
			if r.gen != 1 || r.kind != "n" {
				return false
			}
		case r.kind == "n":
			if r.gen != prev.gen+1 || r.id == prev.id {
				return false
			}
		default:
			if r.gen != prev.gen || r.id != prev.id || r.iat != prev.iat || r.exp != prev.exp || r.kid != prev.kid || r.mac != prev.mac {
				return false
			}
		}
		if r.kind == "n" {
			wrong, early = 0, 0
		}
		switch r.kind {
		case "w":
			wrong++
		case "e":
			early++
		}
		// Past a limit Define would already have failed the sign-in.
		if wrong >= lim.MaxWrongAnswers || r.gen > 1+lim.MaxResends || early > lim.maxEarlyRequests() {
			return false
		}
		prev = &r
	}
	return true
}

// checkDefineResponse holds for every session, well formed or not.
func checkDefineResponse(t *testing.T, s []*events.CognitoEventUserPoolsChallengeResult, userNotFound bool, resp events.CognitoEventUserPoolsDefineAuthChallengeResponse) {
	t.Helper()
	passwordDone := len(s) >= 2 && s[0] != nil && s[0].ChallengeName == challengeSRPA && s[0].ChallengeResult &&
		s[1] != nil && s[1].ChallengeName == challengePasswordVerifier && s[1].ChallengeResult
	switch {
	case resp.IssueTokens && resp.FailAuthentication:
		t.Fatalf("tokens and failure at once: %+v", resp)
	case resp.IssueTokens && !validSuccess(s, userNotFound):
		t.Fatalf("tokens for a session Create and Verify never produce (userNotFound %v):\n%s", userNotFound, describeSession(s))
	case resp.IssueTokens || resp.FailAuthentication:
		if resp.ChallengeName != "" {
			t.Fatalf("a final answer also names a challenge: %+v", resp)
		}
	case resp.ChallengeName == challengePasswordVerifier:
		if len(s) != 1 {
			t.Fatalf("asked for the password again:\n%s", describeSession(s))
		}
	case resp.ChallengeName == challengeCustom:
		// Asking for a code makes Create email one: never for an unknown
		// user, never before the password.
		if userNotFound || !passwordDone {
			t.Fatalf("asked for a code (userNotFound %v) without a passed password step:\n%s", userNotFound, describeSession(s))
		}
	default:
		t.Fatalf("no decision: %+v", resp)
	}
}

func describeSession(s []*events.CognitoEventUserPoolsChallengeResult) string {
	var b strings.Builder
	for i, e := range s {
		if e == nil {
			b.WriteString(strconv.Itoa(i) + ": nil\n")
			continue
		}
		b.WriteString(strconv.Itoa(i) + ": " + strconv.Quote(e.ChallengeName) + " " + strconv.FormatBool(e.ChallengeResult) + " " + strconv.Quote(e.ChallengeMetadata) + "\n")
	}
	return b.String()
}

// FuzzDefineSession runs the real Define over sessions built from fuzz input:
// tokens only for a session that a correct code after a passed password
// produces, never tokens and failure at once.
//
//	go test ./triggers -run '^$' -fuzz '^FuzzDefineSession$' -fuzztime 30s
func FuzzDefineSession(f *testing.F) {
	genuine := genuineMetadata(f)
	join := func(metas ...string) string { return "||" + strings.Join(metas, "|") }
	g := genuine
	seeds := []struct {
		shape        []byte
		metas        string
		userNotFound bool
		flags        uint8
	}{
		{[]byte{shapeSRP}, "", false, 0},
		{[]byte{shapeSRP}, "", true, 0},
		{[]byte{shapeSRP, shapePasswordOK}, "", false, 0},
		{[]byte{shapeSRP, shapePasswordOK}, "", false, 1 << 2},
		{[]byte{shapeSRP, shapePasswordNo}, "", false, 0},
		{[]byte{shapeSRP, shapePasswordOK, shapeCodeRight}, join(g[0]), false, 0},
		{[]byte{shapeSRP, shapePasswordOK, shapeCodeRight}, join(g[0]), true, 0},
		{[]byte{shapeSRP, shapePasswordOK, shapeCodeWrong, shapeCodeWrong, shapeCodeRight}, join(g[0], g[1], g[2]), false, 0},
		{[]byte{shapeSRP, shapePasswordOK, shapeCodeWrong, shapeCodeWrong, shapeCodeWrong, shapeCodeWrong, shapeCodeWrong, shapeCodeRight}, join(g...), false, 0},
		{[]byte{shapeSRP, shapePasswordOK, shapeCodeWrong, shapeCodeWrong, shapeCodeWrong, shapeCodeWrong}, join(g[:4]...), false, 1 | 3<<3},
		{[]byte{shapeSRP, shapePasswordOK, shapeCodeWrong}, join(g[0]), false, 20 << 3},
		{[]byte{shapeSRP, shapePasswordOK, shapeCodeWrong, shapeCodeRight}, "||#0|#3", false, 0},
		// Hostile: a code without the password step, a password step that
		// failed, SRP_A that did not pass, a correct round mid-session,
		// spliced and mutated metadata, nil and foreign entries.
		{[]byte{shapeCodeRight}, g[0], false, 0},
		{[]byte{shapeSRP, shapePasswordNo, shapeCodeRight}, join(g[0]), false, 0},
		{[]byte{shapeSRP &^ 4, shapePasswordOK, shapeCodeRight}, join(g[0]), false, 0},
		{[]byte{shapeSRP, shapePasswordOK, shapeCodeRight, shapeCodeRight}, join(g[0], g[1]), false, 0},
		{[]byte{shapeSRP, shapePasswordOK, shapeCodeWrong, shapeCodeRight}, join(g[0], g[0]), false, 0},
		{[]byte{shapeSRP, shapePasswordOK, shapeCodeRight}, join(strings.Replace(g[0], ".1.n.", ".01.n.", 1)), false, 0},
		{[]byte{shapeSRP, shapePasswordOK, shapeCodeWrong, shapeCodeRight}, join(g[0], g[1][:len(g[1])-1]+"A"), false, 0},
		{[]byte{shapeSRP, shapePasswordOK, shapeCodeRight}, join(strings.Replace(g[0], ".n.", ".x.", 1)), false, 0},
		{[]byte{shapeSRP, 0xff, shapeCodeRight}, join(g[0]), false, 0},
		{[]byte{shapeSRP, shapePasswordOK, 3 | 4, shapeCodeRight}, join("", g[0]), false, 0},
		{[]byte{shapeSRP, shapeSRP, shapePasswordOK, shapeCodeRight}, "|" + join(g[0]), false, 0},
	}
	for _, s := range seeds {
		f.Add(s.shape, s.metas, s.userNotFound, s.flags)
	}
	f.Fuzz(func(t *testing.T, shape []byte, metas string, userNotFound bool, flags uint8) {
		session := decodeSession(shape, metas, genuine)
		// flags: bit 0 asks for a resend, bits 1-2 take away the email or
		// its verification, bits 3-7 move the clock in 15 s steps past the
		// first code's expiry and the later generations'.
		attrs := map[string]string{"email": "rosa@example.com", "email_verified": "true"}
		if flags&2 != 0 {
			delete(attrs, "email")
		}
		if flags&4 != 0 {
			attrs["email_verified"] = "false"
		}
		var clientMetadata map[string]string
		if flags&1 != 0 {
			clientMetadata = map[string]string{clientMetadataAction: actionResend}
		}
		d := fuzzDefine(fuzzStart.Add(time.Duration(flags>>3) * 15 * time.Second))
		var ev events.CognitoEventUserPoolsDefineAuthChallenge
		ev.Request = events.CognitoEventUserPoolsDefineAuthChallengeRequest{
			UserAttributes: attrs, Session: session, ClientMetadata: clientMetadata, UserNotFound: userNotFound,
		}
		out, err := d.Handle(context.Background(), ev)
		if err != nil {
			t.Fatalf("define returned an error: %v", err)
		}
		checkDefineResponse(t, session, userNotFound, out.Response)
		// A correct code ends the sign-in whatever the clock and the
		// clientMetadata say: Verify has already checked expiry.
		if validSuccess(session, userNotFound) && !out.Response.IssueTokens {
			t.Fatalf("no tokens for a correct code:\n%s", describeSession(session))
		}
	})
}

// FuzzDefineEventJSON feeds raw bytes through the Lambda runtime's handler
// adapter, as Cognito's invocation arrives. Tokens are possible for a
// well-formed successful session (one seed is such), so the property is
// that tokens only ever come for one, judged from the same bytes decoded as
// the adapter decodes them.
//
//	go test ./triggers -run '^$' -fuzz '^FuzzDefineEventJSON$' -fuzztime 30s
func FuzzDefineEventJSON(f *testing.F) {
	fixture, err := os.ReadFile(filepath.Join("testdata", "define-auth-challenge.json"))
	if err != nil {
		f.Fatal(err)
	}
	f.Add(fixture)
	var base events.CognitoEventUserPoolsDefineAuthChallenge
	if err := json.Unmarshal(fixture, &base); err != nil {
		f.Fatal(err)
	}
	genuine := genuineMetadata(f)
	withSession := func(shape []byte, metas string, userNotFound bool) []byte {
		ev := base
		ev.Request.Session = decodeSession(shape, metas, genuine)
		ev.Request.UserNotFound = userNotFound
		b, err := json.Marshal(ev)
		if err != nil {
			f.Fatal(err)
		}
		return b
	}
	f.Add(withSession([]byte{shapeSRP, shapePasswordOK, shapeCodeWrong, shapeCodeRight}, "||#0|#1", false))
	f.Add(withSession([]byte{shapeSRP, shapePasswordOK, shapeCodeRight}, "||#0", true))
	f.Add(withSession([]byte{shapeSRP &^ 4, shapePasswordOK, shapeCodeRight}, "||#0", false))
	f.Add(withSession([]byte{shapeCodeRight}, "#0", false))
	for _, raw := range []string{
		``, `null`, `[]`, `{"request":`, `{"request":{"session":"SRP_A"}}`,
		`{"request":{"session":[null,null,null]}}`,
		`{"request":{"session":[{"challengeName":"SRP_A","challengeResult":true},{"challengeName":"PASSWORD_VERIFIER","challengeResult":true},{"challengeName":"CUSTOM_CHALLENGE","challengeResult":true,"challengeMetadata":"otp1.1.n"}]}}`,
		`{"request":{"session":[{"challengeName":"SRP_A","challengeResult":true}],"userNotFound":true,"clientMetadata":{"otp_action":"resend"}},"response":{"issueTokens":true}}`,
		`{"request":{"SESSION":[{"CHALLENGENAME":"SRP_A"}]}} trailing`,
	} {
		f.Add([]byte(raw))
	}
	h := lambda.NewHandler(fuzzDefine(fuzzStart.Add(time.Minute)).Handle)
	f.Fuzz(func(t *testing.T, payload []byte) {
		out, err := h.Invoke(context.Background(), payload)
		if err != nil {
			return
		}
		var got events.CognitoEventUserPoolsDefineAuthChallenge
		if err := json.Unmarshal(out, &got); err != nil {
			t.Fatalf("define returned invalid JSON %q: %v", out, err)
		}
		// Decoded exactly as the adapter decodes: one value, trailing bytes
		// ignored, keys matched case-insensitively.
		var in events.CognitoEventUserPoolsDefineAuthChallenge
		if err := json.NewDecoder(bytes.NewReader(payload)).Decode(&in); err != nil {
			t.Fatalf("the adapter accepted an event this decoder refuses: %v", err)
		}
		checkDefineResponse(t, in.Request.Session, in.Request.UserNotFound, got.Response)
	})
}

// TestDefineRefusesASessionPastItsLimits: Cognito never builds a session
// with more wrong answers than Define allowed, but if one arrived it must
// not earn tokens because its last answer happens to be right.
func TestDefineRefusesASessionPastItsLimits(t *testing.T) {
	now := fuzzStart
	c := fuzzCreate(t, &now, nil)
	session := []*events.CognitoEventUserPoolsChallengeResult{
		{ChallengeName: challengeSRPA, ChallengeResult: true},
		{ChallengeName: challengePasswordVerifier, ChallengeResult: true},
	}
	for range 4 { // the first code, then a round after each of three wrong answers
		var ev events.CognitoEventUserPoolsCreateAuthChallenge
		ev.Request.ChallengeName = challengeCustom
		ev.Request.UserAttributes = map[string]string{"sub": "7f3e2a10-5c4b-4d21-9e8f-0a1b2c3d4e5f", "email": "rosa@example.com", "email_verified": "true"}
		ev.Request.Session = session
		out, err := c.Handle(context.Background(), ev)
		if err != nil {
			t.Fatal(err)
		}
		session = append(session, &events.CognitoEventUserPoolsChallengeResult{ChallengeName: challengeCustom, ChallengeMetadata: out.Response.ChallengeMetadata})
	}
	session[len(session)-1].ChallengeResult = true // three wrong answers, then the right one
	var ev events.CognitoEventUserPoolsDefineAuthChallenge
	ev.Request.Session = session
	ev.Request.UserAttributes = map[string]string{"sub": "7f3e2a10-5c4b-4d21-9e8f-0a1b2c3d4e5f", "email": "rosa@example.com", "email_verified": "true"}
	out, err := fuzzDefine(now).Handle(context.Background(), ev)
	if err != nil {
		t.Fatal(err)
	}
	if out.Response.IssueTokens || !out.Response.FailAuthentication {
		t.Errorf("a session with three wrong answers before the right one: tokens %v, fail %v", out.Response.IssueTokens, out.Response.FailAuthentication)
	}
	session = append(session[:4], session[len(session)-1]) // two wrong answers, then the right one: allowed
	ev.Request.Session = session
	if out, _ := fuzzDefine(now).Handle(context.Background(), ev); !out.Response.IssueTokens {
		t.Errorf("a session with two wrong answers before the right one got no tokens")
	}
}
