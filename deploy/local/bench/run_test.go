package bench_test

import (
	"bytes"
	"context"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sesv2"
	sestypes "github.com/aws/aws-sdk-go-v2/service/sesv2/types"

	"github.com/cognito-email-otp/cognito-email-otp/deploy/local/awslocal"
	"github.com/cognito-email-otp/cognito-email-otp/deploy/local/bench"
	"github.com/cognito-email-otp/cognito-email-otp/deploy/local/otplocal"
	"github.com/cognito-email-otp/cognito-email-otp/deploy/local/seslocal"
)

func TestSummarize(t *testing.T) {
	var ds []time.Duration
	for i := 1; i <= 100; i++ {
		ds = append(ds, time.Duration(i)*time.Millisecond)
	}
	tests := []struct {
		name string
		in   []time.Duration
		want bench.Percentiles
	}{
		{"none", nil, bench.Percentiles{}},
		{"one", []time.Duration{7}, bench.Percentiles{N: 1, P50: 7, P90: 7, P99: 7, Max: 7}},
		{"1..100 ms, nearest rank", ds, bench.Percentiles{N: 100, P50: 50 * time.Millisecond, P90: 90 * time.Millisecond, P99: 99 * time.Millisecond, Max: 100 * time.Millisecond}},
		{"order does not matter", []time.Duration{3, 1, 2}, bench.Percentiles{N: 3, P50: 2, P90: 3, P99: 3, Max: 3}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := bench.Summarize(tc.in); got != tc.want {
				t.Errorf("Summarize = %+v, want %+v", got, tc.want)
			}
		})
	}
}

// TestConcurrentSignInsEachGetTheirOwnEmail runs the bench scenario small:
// every sign-in must finish with tokens from the code in its own email.
// It is also what caught otp-local sharing one aws-lambda-go handler
// between concurrent invocations (torn trigger responses).
func TestConcurrentSignInsEachGetTheirOwnEmail(t *testing.T) {
	sys := startSystem(t, otplocal.Options{})
	var progress bytes.Buffer
	r, err := bench.Run(t.Context(), sys.BenchTarget(), bench.Options{Concurrency: 8, SignIns: 40, Progress: &progress})
	if err != nil {
		t.Fatal(err)
	}
	if r.SignIns != 40 || r.Lost+r.Unexpected+r.Failed != 0 {
		t.Fatalf("signed in %d of 40; lost %d, unexpected %d, failed %d: %v", r.SignIns, r.Lost, r.Unexpected, r.Failed, r.Errors)
	}
	if r.PasswordToEmail.N != 40 || r.PasswordToEmail.P50 <= 0 || r.SignIn.P50 < r.PasswordToEmail.P50 {
		t.Errorf("timings %+v / %+v", r.PasswordToEmail, r.SignIn)
	}
	if !strings.Contains(progress.String(), "40/40") {
		t.Errorf("progress bar never showed completion: %q", progress.String())
	}
	var table bytes.Buffer
	if err := bench.WriteTable(&table, []bench.Result{r}); err != nil || !strings.Contains(table.String(), "| 8 ") {
		t.Errorf("table %q, %v", table.String(), err)
	}
}

// TestAnEmailNobodyWaitsForIsCounted: an email to a bench person who is
// not signing in (a duplicate, or a misdelivery) shows as unexpected.
func TestAnEmailNobodyWaitsForIsCounted(t *testing.T) {
	sys := startSystem(t, otplocal.Options{SES: sesLatencyFaults(150 * time.Millisecond)})
	ses := sesv2.NewFromConfig(awslocal.Config(sys.URL))
	go func() {
		time.Sleep(50 * time.Millisecond) // while the sign-in is under way
		_, _ = ses.SendEmail(context.Background(), &sesv2.SendEmailInput{
			FromEmailAddress: aws.String("no-reply@otp-local.example"),
			Destination:      &sestypes.Destination{ToAddresses: []string{bench.Account(1)}},
			Content: &sestypes.EmailContent{Simple: &sestypes.Message{Subject: &sestypes.Content{Data: aws.String("stray")},
				Body: &sestypes.Body{Text: &sestypes.Content{Data: aws.String("not a code")}}}},
		})
	}()
	r, err := bench.Run(t.Context(), sys.BenchTarget(), bench.Options{Concurrency: 1, SignIns: 4})
	if err != nil {
		t.Fatal(err)
	}
	if r.Unexpected != 1 || r.SignIns != 4 {
		t.Errorf("unexpected %d (want 1), signed in %d (want 4)", r.Unexpected, r.SignIns)
	}
}

func sesLatencyFaults(d time.Duration) seslocal.Faults { return seslocal.Faults{Latency: d} }
