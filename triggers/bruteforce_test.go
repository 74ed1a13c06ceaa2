package triggers

import (
	"bytes"
	"encoding/json"
	"fmt"
	"log/slog"
	"math"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/kelseyhightower/envconfig"

	"github.com/cognito-email-otp/cognito-email-otp/triggers/budget"
)

// testSub is the sub of the rig's user (testdata's Cognito events).
const testSub = "7f3e2a10-5c4b-4d21-9e8f-0a1b2c3d4e5f"

// defaultConfigs returns Define's and Create's configuration as envconfig
// builds it from the struct tags' defaults alone, so the figures below follow
// the shipped defaults instead of copies of them. The prefix is one no
// environment sets, so a developer's OTP_* variables cannot leak in; only the
// queue URL, which has no default, is supplied.
func defaultConfigs(t *testing.T) (DefineConfig, CreateConfig) {
	t.Helper()
	const prefix = "OTPBRUTEFORCEDEFAULTS"
	t.Setenv(prefix+"_QUEUE_URL", "https://sqs.example/q")
	t.Setenv(prefix+"_BUDGET_TABLE", "otp-budget")
	var dc DefineConfig
	var cc CreateConfig
	if err := envconfig.Process(prefix, &dc); err != nil {
		t.Fatal(err)
	}
	if err := envconfig.Process(prefix, &cc); err != nil {
		t.Fatal(err)
	}
	if err := dc.Validate(); err != nil {
		t.Fatal(err)
	}
	if err := cc.Validate(); err != nil {
		t.Fatal(err)
	}
	if dc.Limits != cc.Limits {
		t.Fatalf("define limits %+v differ from create limits %+v", dc.Limits, cc.Limits)
	}
	return dc, cc
}

// guessSuccess is the probability that a guesser who makes guesses[i]
// distinct guesses at the i-th code of a sign-in hits one of them: each code
// is uniform over 10^length values and independent of the others (a resend
// draws a new one), so the sign-in survives with prod(1 - k_i/10^length).
// log1p/expm1 keep the tiny differences exact in floating point.
func guessSuccess(guesses []int, length int) float64 {
	space := math.Pow10(length)
	logMiss := 0.0
	for _, k := range guesses {
		logMiss += math.Log1p(-float64(k) / space)
	}
	return -math.Expm1(logMiss)
}

// verifyLine is the part of a trigger's log line these tests read.
type verifyLine struct {
	Trigger    string `json:"trigger"`
	Outcome    string `json:"outcome"`
	Reason     string `json:"reason"`
	Generation int    `json:"generation"`
}

func logLines(t *testing.T, logs string) []verifyLine {
	t.Helper()
	var out []verifyLine
	for _, line := range strings.Split(strings.TrimSpace(logs), "\n") {
		if line == "" {
			continue
		}
		var l verifyLine
		if err := json.Unmarshal([]byte(line), &l); err != nil {
			t.Fatalf("log line is not JSON: %s", line)
		}
		out = append(out, l)
	}
	return out
}

// compared reports whether Verify reached the HMAC comparison: only then does
// it log "correct" or "wrong" (see Verify.check; every earlier return has its
// own outcome).
func (l verifyLine) compared() bool {
	return l.Trigger == "verify" && (l.Outcome == outcomeCorrect || l.Outcome == outcomeWrong)
}

// TestGuessingAttackerSuccessProbability bounds what an attacker who has the
// password can get out of one sign-in by guessing the emailed code.
//
// The documented bound multiplies the limits: MaxWrongAnswers guesses at
// each of 1+MaxResends codes. The enforced bound is found by driving the real
// Define/Create/Verify handlers, as Cognito would, through every strategy of
// "answer wrong w times, then ask for a new code once the cooldown has
// passed" (with and without extra resend requests inside the cooldown), and
// counting the answers Verify compares before Define fails the sign-in.
func TestGuessingAttackerSuccessProbability(t *testing.T) {
	dc, cc := defaultConfigs(t)
	perCode, codes := cc.MaxWrongAnswers, 1+cc.MaxResends
	t.Logf("defaults: code length %d, %d wrong answers per code, %d resends (%d codes), cooldown %s, code lifetime %s",
		cc.CodeLength, perCode, cc.MaxResends, codes, cc.ResendCooldown, cc.CodeTTL)

	// The loose bound, wrong answers per code x codes: 3 x (1+2) = 9.
	bound := perCode * codes
	boundGuesses := make([]int, codes)
	for i := range boundGuesses {
		boundGuesses[i] = perCode
	}
	pBound := guessSuccess(boundGuesses, cc.CodeLength)
	t.Logf("loose bound: %d guesses per sign-in, success probability %.6e (1 in %.0f)", bound, pBound, 1/pBound)
	if bound != 9 || math.Abs(pBound-9.0e-6) > 0.05e-6 {
		t.Errorf("loose bound %d guesses, p = %.6e; want 9 guesses, p ~ 9.0e-6 under the defaults", bound, pBound)
	}

	// The enforced bound. Define fails the sign-in on the MaxWrongAnswers-th
	// wrong answer to a code, so an attacker who wants the next code must ask
	// for it with one attempt left: every code but the last yields
	// MaxWrongAnswers-1 guesses.
	wantMax := cc.MaxResends*(perCode-1) + perCode
	var best *attackRun
	var runs []attackRun
	for _, plan := range plans(codes-1, perCode) {
		for _, early := range []bool{false, true} {
			r := attack(t, dc, cc, plan, early)
			runs = append(runs, r)
		}
	}
	for i := range runs {
		if best == nil || runs[i].compared > best.compared {
			best = &runs[i]
		}
	}
	if best == nil {
		t.Fatal("no strategy ran")
	}
	var bestGuesses []int
	for gen := 1; gen <= codes; gen++ {
		bestGuesses = append(bestGuesses, best.perGen[gen])
	}
	pBest := guessSuccess(bestGuesses, cc.CodeLength)
	t.Logf("enforced bound over %d strategies: %d compared answers per sign-in (per code %v, plan %v, early resends %v, ends %s), success probability %.6e (1 in %.0f)",
		len(runs), best.compared, bestGuesses, best.plan, best.early, best.reason, pBest, 1/pBest)
	if best.compared != wantMax {
		t.Errorf("the best strategy got %d answers compared, want %d = %d resends x (%d-1) + %d", best.compared, wantMax, cc.MaxResends, perCode, perCode)
	}
	if best.compared > bound || pBest > pBound {
		t.Errorf("an attacker got %d guesses (p = %.6e), more than the documented %d (p = %.6e)", best.compared, pBest, bound, pBound)
	}
	if math.Abs(pBest-7.0e-6) > 0.05e-6 {
		t.Errorf("enforced success probability %.6e, want ~7.0e-6 with the defaults", pBest)
	}

	// The strategy the limits invite, named for the record: guess until one
	// attempt is left, then resend as soon as the cooldown allows.
	greedy := attack(t, dc, cc, repeatInt(perCode-1, codes-1), false)
	if greedy.compared != wantMax {
		t.Errorf("greedy strategy: %d answers compared, want %d", greedy.compared, wantMax)
	}
}

// plans lists every vector of n wrong-answer counts in 0..max.
func plans(n, max int) [][]int {
	out := [][]int{{}}
	for range n {
		var next [][]int
		for _, p := range out {
			for w := 0; w <= max; w++ {
				next = append(next, append(append([]int{}, p...), w))
			}
		}
		out = next
	}
	return out
}

func repeatInt(v, n int) []int {
	out := make([]int, n)
	for i := range out {
		out[i] = v
	}
	return out
}

// attackRun is one attacker's sign-in, as Verify and Define logged it.
type attackRun struct {
	plan     []int       // wrong answers before each resend
	early    bool        // also sent a resend request inside the cooldown before each guess
	perGen   map[int]int // answers compared, by code generation
	compared int         // answers compared in all
	reason   string      // why Define failed the sign-in
}

// attack runs one sign-in where the attacker passes the password step and
// then never knows the code: for each planned code it answers wrong
// plan[i] times, waits out the cooldown (on the handlers' injected clock)
// and asks for a new code; after the plan it answers wrong until Define
// ends the sign-in. It returns how many answers Verify compared.
func attack(t *testing.T, dc DefineConfig, cc CreateConfig, plan []int, early bool) (r attackRun) {
	t.Helper()
	rig := newRig(t, func(d *DefineConfig, c *CreateConfig) { *d, *c = dc, cc })
	s := rig.signIn(t, nil).start(true).password(true)
	// Each step is one RespondToAuthChallenge; the cap proves termination.
	steps := 0
	step := func(f func()) bool {
		if s.state != stateWantCode {
			return false
		}
		if steps++; steps > 100 {
			t.Fatalf("plan %v: the sign-in is still open after 100 answers", plan)
		}
		f()
		return true
	}
	guess := func() bool {
		if early {
			step(func() { s.resend() }) // inside the cooldown: same code, nothing sent
		}
		return step(func() { s.answer(s.wrongCode()) })
	}
	for _, w := range plan {
		for range w {
			guess()
		}
		rig.clock.Advance(cc.ResendCooldown)
		step(func() { s.resend() })
	}
	for guess() {
	}
	if s.state != stateFailed {
		t.Fatalf("plan %v early %v: sign-in ended in state %q, want failed\n%s", plan, early, s.state, s.logs())
	}
	r.plan, r.early, r.perGen = plan, early, map[int]int{}
	for _, l := range logLines(t, s.logs()) {
		if l.compared() {
			if l.Outcome == outcomeCorrect {
				t.Fatalf("plan %v: a wrong guess was accepted", plan)
			}
			r.compared++
			r.perGen[l.Generation]++
		}
		if l.Trigger == "define" && l.Outcome == outcomeFail {
			r.reason = l.Reason
		}
	}
	if rig.queue.count() > 1+cc.MaxResends {
		t.Errorf("plan %v: %d codes sent, limit %d", plan, rig.queue.count(), 1+cc.MaxResends)
	}
	return r
}

// TestMalformedAnswersAreNotCompared checks how Verify treats answers that
// are not exactly CodeLength digits: it rejects them before the HMAC
// comparison. The evidence is Verify's logged outcome ("malformed_answer",
// never "wrong", which is logged only after hmac.Equal) and a canary: the
// challenge's MAC is made to match what a lenient check would compare (the
// answer cut or padded to the code length, or the raw string), so a Verify
// that compared such answers at all would sign the attacker in.
func TestMalformedAnswersAreNotCompared(t *testing.T) {
	_, cc := defaultConfigs(t)
	n := cc.CodeLength
	code := strings.Repeat("7", n-1) + "1" // any well-formed code
	fullWidth := func(s string) string {
		var b strings.Builder
		for _, r := range s {
			b.WriteRune('\uff10' + (r - '0'))
		}
		return b.String()
	}
	arabicIndic := func(s string) string {
		var b strings.Builder
		for _, r := range s {
			b.WriteRune('\u0660' + (r - '0'))
		}
		return b.String()
	}
	tests := []struct {
		name   string
		answer any
		canary string // what the challenge's MAC vouches for; "" means the code
		want   string
		reason string
	}{
		// Not compared: wrong length or not digits.
		{"one digit too many", code + "0", code, outcomeMalformedAnswer, fmt.Sprintf("answer is not %d digits", n)},
		{"one digit too many, MAC of all of them", code + "0", code + "0", outcomeMalformedAnswer, ""},
		{"one digit short", code[:n-1], code[:n-1], outcomeMalformedAnswer, ""},
		{"empty", "", "", outcomeMalformedAnswer, ""},
		{"only spaces", "   ", "", outcomeMalformedAnswer, ""},
		{"a letter in place of a digit", code[:n-1] + "a", code[:n-1] + "a", outcomeMalformedAnswer, ""},
		{"a letter added", code + "a", code, outcomeMalformedAnswer, ""},
		{"sign in front", "+" + code, code, outcomeMalformedAnswer, ""},
		{"NUL after the code", code + "\x00", code, outcomeMalformedAnswer, ""},
		{"full-width, one too many", fullWidth(code + "0"), code, outcomeMalformedAnswer, ""},
		{"Arabic-Indic, one short", arabicIndic(code[:n-1]), code[:n-1], outcomeMalformedAnswer, ""},
		{"Thai digits (not a mapped block)", strings.Repeat("\u0e51", n), strings.Repeat("1", n), outcomeMalformedAnswer, ""},
		{"superscript digits", strings.Repeat("\u00b9", n), strings.Repeat("1", n), outcomeMalformedAnswer, ""},
		{"ten kilobytes of digits", strings.Repeat("1", 10_000), strings.Repeat("1", n), outcomeMalformedAnswer, ""},
		{"a number, not a string", 771771, "771771", outcomeMalformedAnswer, "answer is not a string"},

		// Compared: exactly n digits after normalisation, so these reach
		// hmac.Equal and say so.
		{"the code", code, "", outcomeCorrect, ""},
		{"the code with spaces", " " + code[:3] + " " + code[3:] + " ", "", outcomeCorrect, ""},
		{"the code in full-width digits", fullWidth(code), "", outcomeCorrect, ""},
		{"the code in Arabic-Indic digits", arabicIndic(code), "", outcomeCorrect, ""},
		{"another well-formed code", strings.Repeat("0", n), "", outcomeWrong, ""},
	}
	clock := newClock()
	id, err := newChallengeID(bytes.NewReader(bytes.Repeat([]byte{42}, 16)))
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var logs bytes.Buffer
			ledger := &budget.Ledger{Policy: budget.DefaultPolicy, Store: &budget.MemoryStore{}, Now: clock.Now}
			if _, err := ledger.Issue(t.Context(), testSub, id, clock.Now().Add(cc.CodeTTL)); err != nil {
				t.Fatal(err)
			}
			v := &Verify{Config: VerifyConfig{BudgetConfig: testBudgetConfig()}, Keys: testKeys(t), Budget: ledger, Log: NewLogger(&logs, slog.LevelDebug), Now: clock.Now}
			canary := tc.canary
			if canary == "" {
				canary = code
			}
			var ev events.CognitoEventUserPoolsVerifyAuthChallenge
			ev.Request.UserAttributes = map[string]string{"sub": testSub}
			ev.Request.ChallengeAnswer = tc.answer
			ev.Request.PrivateChallengeParameters = map[string]string{
				privVersion: privVersionCurrent, privKeyID: keyID(testKey), privChallengeID: id, privMAC: encodeMAC(codeMAC(testKey, id, testSub, canary)),
				privIssuedAt:   strconv.FormatInt(clock.Now().Unix(), 10),
				privExpiresAt:  strconv.FormatInt(clock.Now().Add(cc.CodeTTL).Unix(), 10),
				privCodeLength: strconv.Itoa(n), privTenant: "default", privGeneration: "1",
			}
			out, err := v.Handle(t.Context(), ev)
			if err != nil {
				t.Fatal(err)
			}
			lines := logLines(t, logs.String())
			if len(lines) != 1 {
				t.Fatalf("want one log line, got %d:\n%s", len(lines), logs.String())
			}
			l := lines[0]
			if l.Outcome != tc.want {
				t.Errorf("outcome %q, want %q\n%s", l.Outcome, tc.want, logs.String())
			}
			if tc.reason != "" && l.Reason != tc.reason {
				t.Errorf("reason %q, want %q", l.Reason, tc.reason)
			}
			if out.Response.AnswerCorrect != (tc.want == outcomeCorrect) {
				t.Errorf("answerCorrect %v, want %v", out.Response.AnswerCorrect, tc.want == outcomeCorrect)
			}
		})
	}

	// A malformed answer compares nothing, but it is not free either: Define
	// counts it as a wrong answer (README: Verify "rejects anything that is
	// not exactly six digits without comparing"; Define decides what
	// follows). So malformed answers cannot be used to probe without cost.
	t.Run("malformed answers cost attempts and end the sign-in", func(t *testing.T) {
		dc, cc := defaultConfigs(t)
		rig := newRig(t, func(d *DefineConfig, c *CreateConfig) { *d, *c = dc, cc })
		s := rig.signIn(t, nil).start(true).password(true)
		for i := 1; i <= cc.MaxWrongAnswers; i++ {
			s.answer(s.code() + "0")
			if i < cc.MaxWrongAnswers && s.public[ParamAttemptsLeft] != strconv.Itoa(cc.MaxWrongAnswers-i) {
				t.Errorf("after %d malformed answers: attemptsLeft %q, want %d", i, s.public[ParamAttemptsLeft], cc.MaxWrongAnswers-i)
			}
		}
		if s.state != stateFailed {
			t.Fatalf("after %d malformed answers: state %q, want failed", cc.MaxWrongAnswers, s.state)
		}
		malformed := 0
		for _, l := range logLines(t, s.logs()) {
			if l.compared() {
				t.Errorf("an answer was compared: %+v", l)
			}
			if l.Trigger == "verify" && l.Outcome == outcomeMalformedAnswer {
				malformed++
			}
			if l.Trigger == "define" && l.Outcome == outcomeFail && l.Reason != ReasonTooManyWrongAnswers {
				t.Errorf("sign-in failed for %q, want %q", l.Reason, ReasonTooManyWrongAnswers)
			}
		}
		if malformed != cc.MaxWrongAnswers {
			t.Errorf("%d malformed_answer outcomes logged, want %d", malformed, cc.MaxWrongAnswers)
		}
	})
}

// TestGuessingAcrossSignIns: an attacker who has the password signs in again
// and again, at the best possible moments (the instant each back-off ends),
// guessing until each sign-in is ended. The failure budget, not the
// session, is what bounds them: the compared guesses per day and in total
// give the success probabilities docs/RELIABILITY.md reports.
func TestGuessingAcrossSignIns(t *testing.T) {
	dc, cc := defaultConfigs(t)
	r := newRig(t, func(d *DefineConfig, c *CreateConfig) { *d, *c = dc, cc })
	policy := dc.Policy()
	start := r.clock.Now()
	compared := func() int {
		n := 0
		for _, l := range logLines(t, r.logs.String()) {
			if l.compared() {
				n++
			}
		}
		return n
	}
	var perDay []int
	day := start.Add(24 * time.Hour)
	signIns, refused := 0, 0
	for range 10_000 {
		st, err := r.ledger.Inspect(t.Context(), testSub)
		if err != nil {
			t.Fatal(err)
		}
		if st.Failures >= policy.MaxFailures {
			break
		}
		if wait := st.LockedUntil.Sub(r.clock.Now()); wait > 0 {
			r.clock.Advance(wait)
		}
		if !r.clock.Now().Before(day) {
			perDay = append(perDay, compared())
			day = day.Add(24 * time.Hour)
		}
		s := r.signIn(t, nil).start(true).password(true)
		signIns++
		if s.state != stateWantCode {
			refused++
			r.clock.Advance(time.Minute) // the hourly code limit: come back later
			continue
		}
		for s.state == stateWantCode {
			s.answer(s.wrongCode())
		}
	}
	total := compared()
	elapsed := r.clock.Now().Sub(start)
	st, _ := r.ledger.Inspect(t.Context(), testSub)
	if st.Failures != policy.MaxFailures || total != policy.MaxFailures {
		t.Fatalf("the attacker got %d compared guesses (%d failures counted), want exactly the budget of %d", total, st.Failures, policy.MaxFailures)
	}
	if len(perDay) == 0 {
		t.Fatalf("the budget ran out within a day (%s); the back-off is too weak", elapsed)
	}
	firstDay := perDay[0]
	t.Logf("attacker: %d sign-ins (%d refused at the password step), %d compared guesses in all over %s, %d in the first day; locked after",
		signIns, refused, total, elapsed.Round(time.Minute), firstDay)
	for _, digits := range []int{6, 8} {
		space := math.Pow10(digits)
		t.Logf("%d digits: P(success in the first day) = %.2e, P(success ever, until an administrator unlocks) = %.2e",
			digits, float64(firstDay)/space, float64(total)/space)
	}
	// 10 free failures, back-offs of 1, 2, 4 ... 32 minutes, then one guess
	// an hour: 10 + 6 + 22 in the first 24 hours.
	if firstDay != 38 {
		t.Errorf("first day: %d compared guesses, want 38 under the default policy", firstDay)
	}
	// Locked for good: the next sign-in is refused before any email.
	r.clock.Advance(48 * time.Hour)
	before := r.queue.count()
	if s := r.signIn(t, nil).start(true).password(true); s.state != stateFailed || r.queue.count() != before {
		t.Errorf("after the budget: state %s, %d more emails; want refused, none", s.state, r.queue.count()-before)
	}
}
