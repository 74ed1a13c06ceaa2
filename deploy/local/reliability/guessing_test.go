package reliability

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	cip "github.com/aws/aws-sdk-go-v2/service/cognitoidentityprovider"

	"github.com/cognito-email-otp/cognito-email-otp/deploy/local/awslocal"
	"github.com/cognito-email-otp/cognito-email-otp/deploy/local/otplocal"
	"github.com/cognito-email-otp/cognito-email-otp/deploy/local/seslocal"
	"github.com/cognito-email-otp/cognito-email-otp/deploy/local/signin"
	"github.com/cognito-email-otp/cognito-email-otp/triggers/budget"
)

// logSink keeps the functions' log lines, as CloudWatch Logs would.
type logSink struct {
	mu sync.Mutex
	b  strings.Builder
}

func (l *logSink) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

// lines decodes every JSON log line.
func (l *logSink) lines() []map[string]any {
	l.mu.Lock()
	text := l.b.String()
	l.mu.Unlock()
	var out []map[string]any
	sc := bufio.NewScanner(strings.NewReader(text))
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		var m map[string]any
		if json.Unmarshal(sc.Bytes(), &m) == nil {
			out = append(out, m)
		}
	}
	return out
}

// victimSub is the demo user's sub, read as an operator would.
func victimSub(t *testing.T, sys *otplocal.System, email string) string {
	t.Helper()
	for _, u := range sys.Cognito.Users() {
		if u.Attributes["email"] == email {
			return u.Attributes["sub"]
		}
	}
	t.Fatalf("no user %s", email)
	return ""
}

// TestGuessingIsBoundedAcrossSignIns is the attacker the failure budget is
// for: they have the password and run four loops of sign-ins, each guessing
// codes until Cognito ends it, through the real SDK and the real Lambda
// binaries. The budget (shrunk so the test takes seconds: back-off after 6
// failures, 100-400 ms waits, locked at 15) must stop the compared guesses
// at exactly 15, say so in the logs and metrics, stop the victim's emails,
// and let the victim in again after an administrator's unlock.
func TestGuessingIsBoundedAcrossSignIns(t *testing.T) {
	if testing.Short() {
		t.Skip("sign-ins through the real binaries")
	}
	bin := binaries(t)
	logs := &logSink{}
	policy := budget.Policy{BackoffAfter: 6, BackoffBase: 100 * time.Millisecond, BackoffMax: 400 * time.Millisecond,
		MaxFailures: 15, CodesPerWindow: 1000, CodeWindow: time.Hour}
	sys := start(t, otplocal.Options{FunctionsDir: bin, Logs: logs, Budget: policy})
	const victim = "rosa@example.com"
	sub := victimSub(t, sys, victim)
	pseudonym := sys.Keys.Pseudonym(sub)
	client := signin.Client{Cognito: cip.NewFromConfig(awslocal.Config(sys.URL)), PoolID: otplocal.PoolID, ClientID: sys.Clients[0].ID}

	ctx, cancel := context.WithTimeout(t.Context(), 2*time.Minute)
	defer cancel()
	var signIns, refused, codeSteps atomic.Int64
	locked := make(chan struct{})
	var once sync.Once
	var wg sync.WaitGroup
	for range 4 {
		wg.Go(func() {
			for ctx.Err() == nil {
				select {
				case <-locked:
					return
				default:
				}
				signIns.Add(1)
				a, err := client.Start(ctx, victim, otplocal.DemoPassword)
				if err != nil {
					refused.Add(1) // the budget ended it at the password step, or back-off
					if st, _ := sys.Budget.Inspect(ctx, sub); st.Failures >= policy.MaxFailures {
						once.Do(func() { close(locked) })
					}
					time.Sleep(20 * time.Millisecond)
					continue
				}
				codeSteps.Add(1)
				for i := 0; ; i++ {
					if err := a.Answer(ctx, fmt.Sprintf("%06d", (int(signIns.Load())*7+i)%1_000_000), nil); err != nil || a.Result != nil {
						break
					}
				}
			}
		})
	}
	wg.Wait()
	if ctx.Err() != nil {
		t.Fatalf("the account was never locked: %d sign-ins, %d refused", signIns.Load(), refused.Load())
	}

	compared, lockouts := 0, map[string]int{}
	for _, l := range logs.lines() {
		if l["trigger"] == "verify" && l["user"] == pseudonym && (l["outcome"] == "wrong" || l["outcome"] == "correct") {
			compared++
		}
		if lk, ok := l["lockout"].(string); ok && l["user"] == pseudonym {
			if _, emf := l["_aws"]; emf && l["Lockouts"] == float64(1) {
				lockouts[lk]++
			}
		}
	}
	emailsAtLock := len(sys.SES.Outbox().List(seslocal.Filter{To: victim}))
	t.Logf("attacker: %d sign-ins, %d reached the code step, %d refused; %d guesses compared; lockouts logged and counted %v; %d emails to the victim",
		signIns.Load(), codeSteps.Load(), refused.Load(), compared, lockouts, emailsAtLock)
	if compared != policy.MaxFailures {
		t.Errorf("%d guesses compared, want exactly the budget of %d", compared, policy.MaxFailures)
	}
	if lockouts[budget.LockoutBackoff] != 1 || lockouts[budget.LockoutLocked] != 1 {
		t.Errorf("lockouts logged with their metric: %v, want one back-off start and one lock", lockouts)
	}

	// Locked: more sign-ins email nothing.
	for range 3 {
		if _, err := client.Start(ctx, victim, otplocal.DemoPassword); err == nil {
			t.Fatal("a sign-in of the locked account reached the code step")
		}
	}
	time.Sleep(500 * time.Millisecond)
	if n := len(sys.SES.Outbox().List(seslocal.Filter{To: victim})); n != emailsAtLock {
		t.Errorf("the locked victim got %d more emails", n-emailsAtLock)
	}

	// The operator unlocks with otpctl; the victim signs in.
	out, err := exec.Command(filepath.Join(bin, "otpctl"), "user", "unlock", victim, "--endpoint", sys.URL).CombinedOutput()
	if err != nil || !strings.Contains(string(out), "cleared 15 failed code steps") {
		t.Fatalf("otpctl user unlock: %v\n%s", err, out)
	}
	a, err := client.Start(ctx, victim, otplocal.DemoPassword)
	if err != nil {
		t.Fatalf("after the unlock: %v", err)
	}
	e, err := signin.WaitEmail(ctx, sys.SES.Outbox(), victim, emailsAtLock+1)
	if err != nil {
		t.Fatal(err)
	}
	if err := a.Answer(ctx, signin.CodeIn(e), nil); err != nil || a.Result == nil {
		t.Fatalf("the victim's own sign-in after the unlock: %v", err)
	}
}

// TestRacingSignInsNeverExceedTheBudget: in rounds, twenty sign-ins of one
// user start at once (each new one supersedes the others' codes, racing
// their Issue against the others' Reserve in DynamoDB), then all twenty
// answer wrong codes at once. However they interleave, the answers compared
// stop at exactly the budget, and the budget counts every one of them.
func TestRacingSignInsNeverExceedTheBudget(t *testing.T) {
	if testing.Short() {
		t.Skip("concurrent SRP sign-ins")
	}
	logs := &logSink{}
	policy := budget.Policy{BackoffAfter: 10, BackoffBase: time.Hour, BackoffMax: time.Hour, MaxFailures: 10, CodesPerWindow: 10_000, CodeWindow: time.Hour}
	sys := start(t, otplocal.Options{Logs: logs, Budget: policy})
	const victim = "rosa@example.com"
	sub := victimSub(t, sys, victim)
	pseudonym := sys.Keys.Pseudonym(sub)
	client := signin.Client{Cognito: cip.NewFromConfig(awslocal.Config(sys.URL)), PoolID: otplocal.PoolID, ClientID: sys.Clients[0].ID}
	ctx, cancel := context.WithTimeout(t.Context(), 3*time.Minute)
	defer cancel()
	rounds := 0
	for ; ctx.Err() == nil; rounds++ {
		if st, _ := sys.Budget.Inspect(ctx, sub); st.Failures >= policy.MaxFailures {
			break
		}
		attempts := make([]*signin.Attempt, 20)
		var wg sync.WaitGroup
		for i := range attempts {
			wg.Go(func() { attempts[i], _ = client.Start(ctx, victim, otplocal.DemoPassword) })
		}
		wg.Wait()
		for i, a := range attempts {
			if a == nil {
				continue // refused at the code step: the budget is spent
			}
			wg.Go(func() {
				for j := 0; j < 3 && a.Answer(ctx, fmt.Sprintf("%02d%02d%02d", rounds%100, i, j), nil) == nil && a.Result == nil; j++ {
				}
			})
		}
		wg.Wait()
	}
	if ctx.Err() != nil {
		t.Fatalf("the account was not locked after %d rounds", rounds)
	}
	compared, superseded := 0, 0
	for _, l := range logs.lines() {
		if l["trigger"] != "verify" || l["user"] != pseudonym {
			continue
		}
		switch {
		case l["outcome"] == "wrong":
			compared++
		case l["outcome"] == "refused" && l["reason"] == budget.RefusedSuperseded:
			superseded++
		}
	}
	t.Logf("%d rounds of 20 concurrent sign-ins: %d answers compared, %d refused uncompared as answers to a superseded code", rounds, compared, superseded)
	if compared != policy.MaxFailures {
		t.Errorf("%d answers compared, want exactly the budget of %d", compared, policy.MaxFailures)
	}
	if st, err := sys.Budget.Inspect(t.Context(), sub); err != nil || st.Failures != compared {
		t.Errorf("budget records %d failures (%v), %d answers were compared", st.Failures, err, compared)
	}
}
