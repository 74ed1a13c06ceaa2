package reliability

import (
	"testing"
	"time"

	"github.com/cognito-email-otp/cognito-email-otp/deploy/local/bench"
	"github.com/cognito-email-otp/cognito-email-otp/deploy/local/otplocal"
	"github.com/cognito-email-otp/cognito-email-otp/triggers/budget"
)

// TestThousandSignInsAtAHundredConcurrent: 1,000 sign-ins through the
// Cognito API, 100 at a time, each reading its code from its own email.
// No email may be lost, none may reach someone else, every sign-in must end
// with tokens.
func TestThousandSignInsAtAHundredConcurrent(t *testing.T) {
	if testing.Short() {
		t.Skip("1,000 SRP sign-ins")
	}
	// 100 accounts sign in ten times each within seconds; a real user gets
	// ten codes an hour, so the hourly code limit is lifted. Every other
	// rule of the failure budget, and its DynamoDB calls, stay.
	sys := start(t, otplocal.Options{Budget: budget.Policy{CodesPerWindow: 1 << 30}})
	r, err := bench.Run(t.Context(), sys.BenchTarget(), bench.Options{Concurrency: 100, SignIns: 1000, EmailTimeout: time.Minute})
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("%d sign-ins in %v (%.0f/s); password→email p50 %v p99 %v; lost %d, wrong recipient %d, failed %d",
		r.SignIns, r.Wall.Round(time.Millisecond), r.Throughput(), r.PasswordToEmail.P50, r.PasswordToEmail.P99, r.Lost, r.Unexpected, r.Failed)
	if r.SignIns != 1000 || r.Lost != 0 || r.Unexpected != 0 || r.Failed != 0 {
		t.Errorf("signed in %d of 1000: lost %d, wrong recipient %d, failed %d: %v", r.SignIns, r.Lost, r.Unexpected, r.Failed, r.Errors)
	}
}
