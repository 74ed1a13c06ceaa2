// Package reliability proves, against the whole system on one machine, that
// faults and bad input lose no send request: docs/RELIABILITY.md.
package reliability

import (
	"context"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	sqstypes "github.com/aws/aws-sdk-go-v2/service/sqs/types"

	"github.com/cognito-email-otp/cognito-email-otp/deploy/local/awslocal"
	"github.com/cognito-email-otp/cognito-email-otp/deploy/local/esm"
	"github.com/cognito-email-otp/cognito-email-otp/deploy/local/otplocal"
	"github.com/cognito-email-otp/cognito-email-otp/deploy/local/seslocal"
	"github.com/cognito-email-otp/cognito-email-otp/mailer"
	"github.com/cognito-email-otp/cognito-email-otp/mailer/contract"
	"github.com/cognito-email-otp/cognito-email-otp/mailer/ops"
)

var (
	buildOnce sync.Once
	builtDir  string
	buildErr  error
)

// binaries builds the four Lambda binaries and otpctl once per test run.
func binaries(t *testing.T) string {
	t.Helper()
	buildOnce.Do(func() {
		if builtDir, buildErr = os.MkdirTemp("", "otp-reliability-"); buildErr != nil {
			return
		}
		if buildErr = otplocal.BuildFunctions(builtDir); buildErr != nil {
			return
		}
		out, err := exec.Command("go", "build", "-o", filepath.Join(builtDir, "otpctl"), "../../../mailer/otpctl").CombinedOutput()
		if err != nil {
			buildErr = fmt.Errorf("build otpctl: %v\n%s", err, out)
		}
	})
	if buildErr != nil {
		t.Fatal(buildErr)
	}
	return builtDir
}

func start(t *testing.T, o otplocal.Options) *otplocal.System {
	t.Helper()
	o.Addr, o.Seed = "127.0.0.1:0", otplocal.DefaultSeed()
	if o.Logs == nil {
		o.Logs = io.Discard
	}
	sys, err := otplocal.Start(context.Background(), o)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = sys.Close() })
	return sys
}

// enqueue puts requests on the send queue as the Create trigger would.
func enqueue(ctx context.Context, sys *otplocal.System, reqs []contract.SendRequest) error {
	client := sqs.NewFromConfig(awslocal.Config(sys.URL))
	for i := 0; i < len(reqs); i += 10 {
		var entries []sqstypes.SendMessageBatchRequestEntry
		for j := i; j < min(i+10, len(reqs)); j++ {
			body, err := reqs[j].Encode()
			if err != nil {
				return err
			}
			entries = append(entries, sqstypes.SendMessageBatchRequestEntry{Id: aws.String(strconv.Itoa(j)), MessageBody: aws.String(string(body))})
		}
		out, err := client.SendMessageBatch(ctx, &sqs.SendMessageBatchInput{QueueUrl: aws.String(sys.Queues().SendQueue), Entries: entries})
		if err != nil {
			return err
		}
		if len(out.Failed) > 0 {
			return fmt.Errorf("enqueue: %d entries refused: %s", len(out.Failed), aws.ToString(out.Failed[0].Message))
		}
	}
	return nil
}

// waitDrained waits until the send queue holds nothing, visible or in
// flight: every message has been acked or moved to the DLQ.
func waitDrained(t *testing.T, sys *otplocal.System, timeout time.Duration) {
	t.Helper()
	waitQueues(t, sys, timeout, "the send queue to drain", func(send, _ ops.QueueStatus) bool {
		return send.Visible+send.InFlight+send.Delayed == 0
	})
}

// waitQueues polls both queues' counters until done says so, and on
// timeout lists what is still dead-lettered.
func waitQueues(t *testing.T, sys *otplocal.System, timeout time.Duration, what string, done func(send, dlq ops.QueueStatus) bool) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for {
		st, err := sys.Queues().Status(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		if done(st[0], st[1]) {
			return
		}
		if time.Now().After(deadline) {
			dls, _ := sys.Queues().ListDeadLetters(context.Background(), 100, time.Now())
			for _, d := range dls {
				t.Logf("still dead-lettered: %s %s receives=%d error=%q", d.RequestID, d.Reason, d.ReceiveCount, d.Error)
			}
			t.Fatalf("waited %v for %s: %+v", timeout, what, st)
		}
		time.Sleep(200 * time.Millisecond)
	}
}

// ledger is where every request ended: sent (with how many copies), in the
// DLQ (by reason), or nowhere.
type ledger struct {
	sent       map[string]int
	deadLetter map[string]string
}

func account(t *testing.T, sys *otplocal.System) ledger {
	t.Helper()
	l := ledger{sent: map[string]int{}, deadLetter: map[string]string{}}
	for _, e := range sys.SES.Outbox().List(seslocal.Filter{}) {
		for _, h := range e.Headers {
			if h.Name == "X-Entity-Ref-ID" {
				l.sent[h.Value]++
			}
		}
	}
	dls, err := sys.Queues().ListDeadLetters(context.Background(), 100_000, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	for _, d := range dls {
		l.deadLetter[d.RequestID] = d.Reason
	}
	return l
}

func (l ledger) duplicates() int {
	n := 0
	for _, copies := range l.sent {
		n += copies - 1
	}
	return n
}

func requests(n, expired int) []contract.SendRequest {
	now := time.Now()
	tenants := []string{"default", "acme", "globex"}
	locales := []string{"en", "de-AT", "fr-CA", "ja", "ar", "pt-BR"}
	out := make([]contract.SendRequest, n)
	for i := range out {
		issued, expires := now, now.Add(10*time.Minute)
		if i < expired { // sat in the queue past the code's life
			issued, expires = now.Add(-5*time.Minute), now.Add(-2*time.Minute)
		}
		out[i] = contract.SendRequest{V: contract.SendRequestVersion, Kind: contract.KindSignInCode, ID: fmt.Sprintf("rel-%05d", i),
			Tenant: tenants[i%len(tenants)], Locale: locales[i%len(locales)],
			To: fmt.Sprintf("person-%05d@reliability.otp-local.example", i), Name: "Person " + strconv.Itoa(i),
			Code: contract.Code(fmt.Sprintf("%06d", (i*7919)%1_000_000)), IssuedAt: issued, ExpiresAt: expires}
	}
	return out
}

// TestFaultsLoseNothing is the send pipeline under fire: 5,000 requests,
// a 20-second SES outage, then SES failing 30% of calls and throttling 20%
// with one call in twenty stalling for 400 ms, and mailer processes killed
// mid-batch. Every request must end sent, dropped as expired, or in the
// DLQ. Once SES recovers, `otpctl dlq redrive` moves the dead letters back:
// those the mailer wrote carry no code (it removes it) and are counted and
// dropped; only those SQS moved itself, after a mailer died on the last
// receive, still hold theirs and are delivered. Duplicates (a mailer killed
// after SES accepted but before SQS heard) are counted and reported, not
// hidden.
func TestFaultsLoseNothing(t *testing.T) {
	if testing.Short() {
		t.Skip("5,000 messages through the real binaries")
	}
	const total, expired = 5000, 100
	bin := binaries(t)
	degraded := seslocal.Faults{FailRate: 0.3, ThrottleRate: 0.2, SpikeRate: 0.05, Spike: 400 * time.Millisecond}
	sys := start(t, otplocal.Options{
		FunctionsDir: bin, Instances: 6,
		// SES starts with a 20-second outage, long enough for the first
		// batches to use up their five receives and reach the DLQ, and
		// then stays degraded.
		SES:             seslocal.Faults{FailRate: 1, FailStatus: 503},
		QueueVisibility: 3 * time.Second, MailerRetryBudget: time.Second,
		Mapping: esm.Config{BatchSize: 10, MaxConcurrency: 6},
	})
	ctx := t.Context()
	reqs := requests(total, expired)
	if err := enqueue(ctx, sys, reqs); err != nil {
		t.Fatal(err)
	}

	time.AfterFunc(20*time.Second, func() { _ = sys.SES.SetFaults(degraded) })

	// Kill a busy mailer every second while the faults last, up to 30
	// times: each kill loses a batch in flight, as a crash on Lambda would.
	stopKilling := make(chan struct{})
	killed := make(chan int, 1)
	go func() {
		n := 0
		tick := time.NewTicker(time.Second)
		defer tick.Stop()
		for {
			select {
			case <-tick.C:
				if n < 30 && sys.KillBusy("mailer") {
					n++
				}
			case <-stopKilling:
				killed <- n
				return
			}
		}
	}()
	waitDrained(t, sys, 4*time.Minute)
	close(stopKilling)
	kills := <-killed

	during := account(t, sys)
	lost := 0
	for _, r := range reqs[expired:] {
		if during.sent[r.ID] == 0 && during.deadLetter[r.ID] == "" {
			lost++
		}
	}
	reasons := map[string]int{}
	for _, reason := range during.deadLetter {
		reasons[reason]++
	}
	t.Logf("under faults: %d sent, %d duplicates, %d dead-lettered %v, %d lost; %d mailer kills, %d restarts",
		len(during.sent), during.duplicates(), len(during.deadLetter), reasons, lost, kills, sys.Restarts("mailer"))
	if lost != 0 {
		t.Errorf("%d requests neither sent nor dead-lettered", lost)
	}
	if kills == 0 {
		t.Error("no mailer was killed mid-batch: the test did not test that")
	}
	if len(during.deadLetter) == 0 {
		t.Error("nothing reached the DLQ: the faults were too gentle to test the redrive")
	}

	// SES recovers; the operator redrives with the real otpctl.
	if err := sys.SES.SetFaults(seslocal.Faults{}); err != nil {
		t.Fatal(err)
	}
	waitQueues(t, sys, time.Minute, "every dead letter to be visible", func(_, dlq ops.QueueStatus) bool { return dlq.InFlight == 0 })
	if st, err := sys.Queues().Status(ctx); err == nil {
		t.Logf("before the redrive: DLQ visible %d, in flight %d", st[1].Visible, st[1].InFlight)
	}
	dls, err := sys.Queues().ListDeadLetters(ctx, 100_000, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	// A request can be in the DLQ twice: the mailer dead-letters it on its
	// last receive (code removed) and is killed before the ack, so SQS moves
	// the redelivery as it is (code kept).
	removed, withCode := map[string]bool{}, map[string]bool{}
	for _, d := range dls {
		if d.CodeRemoved {
			removed[d.RequestID] = true
		} else {
			withCode[d.RequestID] = true
		}
	}
	raw, _ := sys.SQS.Messages(otplocal.DeadLetters)
	for _, m := range raw {
		if m.Attributes[mailer.AttrRedacted] == "true" && !strings.Contains(m.Body, `"code":""`) {
			t.Fatalf("a dead letter marked redacted holds a code")
		}
	}
	out, err := exec.Command(filepath.Join(bin, "otpctl"), "dlq", "redrive", "--yes", "--endpoint", sys.URL).CombinedOutput()
	if err != nil {
		t.Fatalf("otpctl dlq redrive: %v\n%s", err, out)
	}
	waitQueues(t, sys, time.Minute, "the DLQ to empty", func(_, dlq ops.QueueStatus) bool { return dlq.Visible+dlq.InFlight == 0 })
	waitDrained(t, sys, 2*time.Minute)

	after := account(t, sys)
	for _, r := range reqs[:expired] {
		if after.sent[r.ID] > 0 {
			t.Errorf("%s was sent after its code expired", r.ID)
		}
	}
	lost = 0
	for _, r := range reqs[expired:] {
		if removed[r.ID] && !withCode[r.ID] && after.sent[r.ID] > during.sent[r.ID] {
			t.Errorf("%s was sent from a dead letter without its code", r.ID)
		}
		if after.sent[r.ID] == 0 && !removed[r.ID] {
			lost++
		}
	}
	stats := sys.MailerStats()
	t.Logf("after redrive: %d of %d live requests sent, %d dead letters without their code dropped (users sign in again), %d duplicates, %d expired dropped, %d lost",
		len(after.sent), total-expired, stats.ByOutcome["redacted"], after.duplicates(), stats.Expired, lost)
	if lost != 0 {
		t.Errorf("%d requests were neither delivered nor dead-lettered without their code", lost)
	}
	if int(stats.ByOutcome["redacted"]) < len(removed) {
		t.Errorf("%d redriven dead letters without a code counted as dropped, want at least %d", stats.ByOutcome["redacted"], len(removed))
	}
	if stats.Expired < expired {
		t.Errorf("%d expired requests counted as dropped, want at least %d", stats.Expired, expired)
	}
}
