package bench_test

import (
	"context"
	"io"
	"testing"
	"time"

	"github.com/cognito-email-otp/cognito-email-otp/deploy/local/bench"
	"github.com/cognito-email-otp/cognito-email-otp/deploy/local/otplocal"
)

func startSystem(tb testing.TB, o otplocal.Options) *otplocal.System {
	tb.Helper()
	o.Addr, o.Seed, o.Logs = "127.0.0.1:0", otplocal.DefaultSeed(), io.Discard
	sys, err := otplocal.Start(context.Background(), o)
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { _ = sys.Close() })
	return sys
}

// BenchmarkSignIn is the end-to-end scenario: 50 people signing in at once
// through the Cognito API, password then emailed code. One op is one
// completed sign-in.
func BenchmarkSignIn(b *testing.B) {
	sys := startSystem(b, otplocal.Options{})
	const concurrency = 50
	r, err := bench.Run(b.Context(), sys.BenchTarget(), bench.Options{Concurrency: concurrency, SignIns: max(b.N, concurrency)})
	if err != nil {
		b.Fatal(err)
	}
	if r.Lost+r.Unexpected+r.Failed > 0 {
		b.Fatalf("lost %d, unexpected %d, failed %d", r.Lost, r.Unexpected, r.Failed)
	}
	b.ReportMetric(float64(r.Wall.Nanoseconds())/float64(r.SignIns), "ns/op")
	b.ReportMetric(ms(r.PasswordToEmail.P50), "pw-email-p50-ms")
	b.ReportMetric(ms(r.PasswordToEmail.P99), "pw-email-p99-ms")
	b.ReportMetric(r.Throughput(), "sign-ins/s")
}

func ms(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }
