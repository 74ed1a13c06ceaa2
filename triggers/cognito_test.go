package triggers

import (
	"bytes"
	"context"
	"encoding/json"
	"log/slog"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-lambda-go/lambda"

	"github.com/cognito-email-otp/cognito-email-otp/mailer/contract"
	"github.com/cognito-email-otp/cognito-email-otp/triggers/budget"
)

// testKey is an HMAC key for tests only.
var testKey = []byte("test-key-0123456789abcdef0123456789abcdef")

// testKeys is a key ring of testKey alone.
func testKeys(t testing.TB) *Keyring {
	t.Helper()
	k, err := NewKeyring(testKey, nil)
	if err != nil {
		t.Fatal(err)
	}
	return k
}

// testBudgetConfig is the failure budget's default policy, as envconfig
// would fill it.
func testBudgetConfig() BudgetConfig {
	return BudgetConfig{BudgetTable: "otp-budget", BudgetTimeout: time.Second, BackoffAfter: 10, BackoffBase: time.Minute,
		BackoffMax: time.Hour, MaxFailures: 100, MaxCodesPerHour: 10}
}

type fakeClock struct {
	mu  sync.Mutex
	now time.Time
}

func newClock() *fakeClock { return &fakeClock{now: time.Date(2026, 11, 24, 9, 0, 0, 0, time.UTC)} }
func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}
func (c *fakeClock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
}

// recordingQueue keeps what Create enqueues; it stands in for SQS in unit
// tests (the SQS path itself is tested against otp-local's SQS).
type recordingQueue struct {
	mu   sync.Mutex
	sent []contract.SendRequest
	err  error
}

func (q *recordingQueue) Enqueue(_ context.Context, r contract.SendRequest) error {
	q.mu.Lock()
	defer q.mu.Unlock()
	if q.err != nil {
		return q.err
	}
	q.sent = append(q.sent, r)
	return nil
}

func (q *recordingQueue) count() int {
	q.mu.Lock()
	defer q.mu.Unlock()
	return len(q.sent)
}

func (q *recordingQueue) lastCode(t *testing.T) string {
	t.Helper()
	q.mu.Lock()
	defer q.mu.Unlock()
	if len(q.sent) == 0 {
		t.Fatal("no code was enqueued")
	}
	return q.sent[len(q.sent)-1].Code.Reveal()
}

// rig is the three triggers wired as a deployment would wire them.
type rig struct {
	clock  *fakeClock
	queue  *recordingQueue
	store  *budget.MemoryStore
	ledger *budget.Ledger
	logs   *bytes.Buffer
	define lambda.Handler
	create lambda.Handler
	verify lambda.Handler
	limits Limits
}

func newRig(t *testing.T, mutate ...func(*DefineConfig, *CreateConfig)) *rig {
	t.Helper()
	return newRigWithQueue(t, nil, mutate...)
}

// newRigWithQueue wires Create to queue instead of the recording fake.
func newRigWithQueue(t *testing.T, queue Enqueuer, mutate ...func(*DefineConfig, *CreateConfig)) *rig {
	t.Helper()
	return newRigWith(t, queue, nil, nil, mutate...)
}

// newRigWithKeys is r's configuration again, with the triggers signing and
// verifying with ring, and r's clock.
func newRigWithKeys(t *testing.T, r *rig, ring *Keyring) *rig {
	t.Helper()
	return newRigWith(t, nil, ring, r.clock)
}

func newRigWith(t *testing.T, queue Enqueuer, keys *Keyring, clock *fakeClock, mutate ...func(*DefineConfig, *CreateConfig)) *rig {
	t.Helper()
	if clock == nil {
		clock = newClock()
	}
	r := &rig{clock: clock, queue: &recordingQueue{}, logs: &bytes.Buffer{}}
	var enqueuer Enqueuer = r.queue
	if queue != nil {
		enqueuer = queue
	}
	log := NewLogger(&syncWriter{w: r.logs}, slog.LevelDebug)
	limits := Limits{MaxWrongAnswers: 3, MaxResends: 2, ResendCooldown: 30 * time.Second}
	dc := DefineConfig{Limits: limits, BudgetConfig: testBudgetConfig(), RequireVerifiedEmail: true}
	cc := CreateConfig{
		Limits: limits, BudgetConfig: testBudgetConfig(), CodeLength: 6, CodeTTL: 3 * time.Minute, AuthSessionValidity: 3 * time.Minute,
		QueueURL: "https://sqs.example/q", RequireVerifiedEmail: true,
	}
	for _, m := range mutate {
		m(&dc, &cc)
	}
	if err := dc.Validate(); err != nil {
		t.Fatal(err)
	}
	if err := cc.Validate(); err != nil {
		t.Fatal(err)
	}
	r.limits = dc.Limits
	r.store = &budget.MemoryStore{}
	r.ledger = &budget.Ledger{Policy: dc.Policy(), Store: r.store, Now: r.clock.Now}
	if keys == nil {
		keys = testKeys(t)
	}
	r.define = lambda.NewHandler((&Define{Config: dc, Keys: keys, Budget: r.ledger, Log: log, Now: r.clock.Now}).Handle)
	// A seeded generator makes every run issue the same codes, so no test
	// depends on two random codes differing.
	random := rand.NewChaCha8([32]byte{'o', 't', 'p'})
	r.create = lambda.NewHandler((&Create{Config: cc, Keys: keys, Queue: enqueuer, Budget: r.ledger, Log: log, Now: r.clock.Now, Random: random}).Handle)
	vc := VerifyConfig{BudgetConfig: cc.BudgetConfig}
	r.verify = lambda.NewHandler((&Verify{Config: vc, Keys: keys, Budget: r.ledger, Log: log, Now: r.clock.Now}).Handle)
	return r
}

type syncWriter struct {
	mu sync.Mutex
	w  *bytes.Buffer
}

func (s *syncWriter) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.w.Write(p)
}

// loadEvent reads a fixture as Cognito sends it.
func loadEvent(t *testing.T, name string, into any) {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(b, into); err != nil {
		t.Fatalf("%s: %v", name, err)
	}
}

// invoke sends ev as JSON through the Lambda runtime's handler adapter and
// decodes the JSON it returns, as Cognito would see it.
func invoke[T any](t *testing.T, h lambda.Handler, ev T) (T, error) {
	t.Helper()
	payload, err := json.Marshal(ev)
	if err != nil {
		t.Fatal(err)
	}
	out, err := h.Invoke(context.Background(), payload)
	if err != nil {
		return ev, err
	}
	var resp T
	if err := json.Unmarshal(out, &resp); err != nil {
		t.Fatalf("handler returned invalid JSON %s: %v", out, err)
	}
	return resp, nil
}

// State of a sign-in as Cognito tracks it.
const (
	stateWantPassword = "PASSWORD_VERIFIER"
	stateWantCode     = "CUSTOM_CHALLENGE"
	stateTokens       = "tokens"
	stateFailed       = "failed"
	stateError        = "lambda error"
)

// signIn plays Cognito's part for one sign-in: it keeps the session, calls
// Define after every answer and Create whenever Define asks for a custom
// challenge, and carries the private parameters from Create to Verify.
type signIn struct {
	t            *testing.T
	r            *rig
	attrs        map[string]string
	userNotFound bool
	session      []*events.CognitoEventUserPoolsChallengeResult

	state   string
	public  map[string]string
	private map[string]string
	meta    string
	err     error // what Create returned, in stateError
}

func (r *rig) signIn(t *testing.T, attrs map[string]string) *signIn {
	var base events.CognitoEventUserPoolsDefineAuthChallenge
	loadEvent(t, "define-auth-challenge.json", &base)
	if attrs == nil {
		attrs = base.Request.UserAttributes
	}
	return &signIn{t: t, r: r, attrs: attrs}
}

// start is InitiateAuth with CUSTOM_AUTH; withSRP sends SRP_A as Amplify's
// CUSTOM_WITH_SRP does.
func (s *signIn) start(withSRP bool) *signIn {
	if withSRP {
		s.session = append(s.session, &events.CognitoEventUserPoolsChallengeResult{ChallengeName: challengeSRPA, ChallengeResult: true})
	}
	s.defineNext(nil)
	return s
}

func (s *signIn) password(correct bool) *signIn {
	s.t.Helper()
	s.expect(stateWantPassword)
	s.session = append(s.session, &events.CognitoEventUserPoolsChallengeResult{ChallengeName: challengePasswordVerifier, ChallengeResult: correct})
	s.defineNext(nil)
	return s
}

func (s *signIn) answer(answer string) *signIn { return s.respond(answer, nil) }

func (s *signIn) resend() *signIn {
	return s.respond("resend", map[string]string{clientMetadataAction: actionResend})
}

func (s *signIn) respond(answer string, clientMetadata map[string]string) *signIn {
	s.t.Helper()
	s.expect(stateWantCode)
	var ev events.CognitoEventUserPoolsVerifyAuthChallenge
	loadEvent(s.t, "verify-auth-challenge.json", &ev)
	ev.Request.UserAttributes = s.attrs
	ev.Request.PrivateChallengeParameters = s.private
	ev.Request.ChallengeAnswer = answer
	ev.Request.ClientMetadata = clientMetadata
	ev.Request.UserNotFound = s.userNotFound
	resp, err := invoke(s.t, s.r.verify, ev)
	if err != nil {
		s.t.Fatalf("verify returned an error: %v", err)
	}
	s.session = append(s.session, &events.CognitoEventUserPoolsChallengeResult{
		ChallengeName: challengeCustom, ChallengeResult: resp.Response.AnswerCorrect, ChallengeMetadata: s.meta,
	})
	s.defineNext(clientMetadata)
	return s
}

func (s *signIn) defineNext(clientMetadata map[string]string) {
	s.t.Helper()
	var ev events.CognitoEventUserPoolsDefineAuthChallenge
	loadEvent(s.t, "define-auth-challenge.json", &ev)
	ev.Request.UserAttributes = s.attrs
	ev.Request.Session = s.session
	ev.Request.ClientMetadata = clientMetadata
	ev.Request.UserNotFound = s.userNotFound
	resp, err := invoke(s.t, s.r.define, ev)
	switch {
	case err != nil:
		s.t.Fatalf("define returned an error: %v", err)
	case resp.Response.FailAuthentication:
		s.state = stateFailed
	case resp.Response.IssueTokens:
		s.state = stateTokens
	case resp.Response.ChallengeName == challengePasswordVerifier:
		s.state = stateWantPassword
	case resp.Response.ChallengeName == challengeCustom:
		s.createChallenge(clientMetadata)
	default:
		s.t.Fatalf("define answered %+v", resp.Response)
	}
}

func (s *signIn) createChallenge(clientMetadata map[string]string) {
	s.t.Helper()
	var ev events.CognitoEventUserPoolsCreateAuthChallenge
	loadEvent(s.t, "create-auth-challenge.json", &ev)
	ev.Request.UserAttributes = s.attrs
	ev.Request.Session = s.session
	ev.Request.ClientMetadata = clientMetadata
	ev.Request.UserNotFound = s.userNotFound
	resp, err := invoke(s.t, s.r.create, ev)
	if err != nil {
		s.state, s.err = stateError, err
		return
	}
	s.state = stateWantCode
	s.public = resp.Response.PublicChallengeParameters
	s.private = resp.Response.PrivateChallengeParameters
	s.meta = resp.Response.ChallengeMetadata
}

func (s *signIn) expect(state string) {
	s.t.Helper()
	if s.state != state {
		s.t.Fatalf("sign-in is in state %q, want %q", s.state, state)
	}
}

// code is the code the user received in the latest email.
func (s *signIn) code() string { return s.r.queue.lastCode(s.t) }

// wrongCode is a well-formed code that differs from the real one.
func (s *signIn) wrongCode() string {
	c := []byte(s.code())
	c[0] = '0' + (c[0]-'0'+1)%10
	return string(c)
}

func (s *signIn) logs() string { return s.r.logs.String() }

func copyAttrs(extra map[string]string) map[string]string {
	m := map[string]string{
		"sub":                 "7f3e2a10-5c4b-4d21-9e8f-0a1b2c3d4e5f",
		"email_verified":      "true",
		"cognito:user_status": "CONFIRMED",
		"name":                "Rosa Díaz",
		"locale":              "es",
		"email":               "rosa@example.com",
	}
	for k, v := range extra {
		if v == "<delete>" {
			delete(m, k)
			continue
		}
		m[k] = v
	}
	return m
}

func containsAll(s string, subs ...string) bool {
	for _, sub := range subs {
		if !strings.Contains(s, sub) {
			return false
		}
	}
	return true
}
