// Command otp-local runs the whole cognito-email-otp system on one machine
// with no AWS account: Cognito, SQS and SES v2 endpoints that the real AWS
// SDKs and Amplify talk to, the triggers and the mailer, and the sign-in,
// outbox and ops pages. It listens on 127.0.0.1 only.
//
//	otp-local [flags]
//	otp-local bench [-concurrency 1,10,50] [-functions bin/host] [-plot FILE]
package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/cognito-email-otp/cognito-email-otp/deploy/local/otplocal"
	"github.com/cognito-email-otp/cognito-email-otp/deploy/local/seslocal"
)

func main() {
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
}

func run(args []string, stdout, stderr io.Writer) int {
	if len(args) > 0 && args[0] == "bench" {
		return runBench(args[1:], stdout, stderr)
	}
	fs := flag.NewFlagSet("otp-local", flag.ContinueOnError)
	fs.SetOutput(stderr)
	addr := fs.String("addr", env("OTP_LOCAL_ADDR", otplocal.DefaultAddr), "listen address, loopback only (env OTP_LOCAL_ADDR)")
	dataDir := fs.String("data-dir", env("OTP_LOCAL_DATA_DIR", ""), "keep users, keys and the outbox here across restarts; empty: in memory (env OTP_LOCAL_DATA_DIR)")
	seedFile := fs.String("seed", env("OTP_LOCAL_SEED", ""), "JSON file with app clients (tenants) and users; default: the demo seed (env OTP_LOCAL_SEED)")
	templatesDir := fs.String("templates-dir", env("OTP_TEMPLATES_DIR", ""), "template sets overriding the embedded ones by name (env OTP_TEMPLATES_DIR)")
	failRate := fs.Float64("ses-fail-rate", envFloat("OTP_LOCAL_SES_FAIL_RATE", 0), "fraction of SES calls that fail with a 5xx")
	throttleRate := fs.Float64("ses-throttle-rate", envFloat("OTP_LOCAL_SES_THROTTLE_RATE", 0), "fraction of SES calls that are throttled (429)")
	latency := fs.Duration("ses-latency", envDuration("OTP_LOCAL_SES_LATENCY", 0), "latency added to every SES call, e.g. 80ms")
	sandbox := fs.Bool("ses-sandbox", envBool("OTP_LOCAL_SES_SANDBOX", false), "put the SES account in the sandbox: only verified recipients, 200 a day, 1 a second (env OTP_LOCAL_SES_SANDBOX)")
	quiet := fs.Bool("quiet", false, "do not print the triggers' and mailer's JSON logs")
	functions := fs.String("functions", env("OTP_LOCAL_FUNCTIONS", ""), "run the real Lambda binaries from DIR/<name>/bootstrap (make host-functions: bin/host) instead of in-process handlers")
	corsOrigins := fs.String("cors-origin", env("OTP_LOCAL_CORS_ORIGINS", ""), "comma-separated browser origins besides otp-local's own that may call its Cognito API, e.g. http://localhost:5173 (env OTP_LOCAL_CORS_ORIGINS)")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	seed := otplocal.DefaultSeed()
	if *seedFile != "" {
		var err error
		if seed, err = otplocal.LoadSeed(*seedFile); err != nil {
			fmt.Fprintln(stderr, "otp-local:", err)
			return 1
		}
	}
	if *dataDir != "" {
		if err := os.MkdirAll(*dataDir, 0o700); err != nil {
			fmt.Fprintln(stderr, "otp-local:", err)
			return 1
		}
	}
	var logs io.Writer = stderr
	if *quiet {
		logs = io.Discard
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	sys, err := otplocal.Start(ctx, otplocal.Options{
		Addr: *addr, DataDir: *dataDir, Seed: seed, TemplatesDir: *templatesDir, Logs: logs, FunctionsDir: *functions,
		CORSOrigins: splitList(*corsOrigins),
		SES:         seslocal.Faults{FailRate: *failRate, ThrottleRate: *throttleRate, Latency: *latency},
		SESSandbox:  *sandbox,
	})
	if err != nil {
		fmt.Fprintln(stderr, "otp-local:", err)
		return 1
	}
	banner(stdout, sys, seed, *sandbox || (seed.SES != nil && seed.SES.Sandbox))
	<-ctx.Done()
	fmt.Fprintln(stdout, "\notp-local: stopping")
	if err := sys.Close(); err != nil {
		fmt.Fprintln(stderr, "otp-local:", err)
		return 1
	}
	return 0
}

func banner(w io.Writer, sys *otplocal.System, seed otplocal.Seed, sandbox bool) {
	u := sys.URL
	fmt.Fprintf(w, "\notp-local is running at %s\n\n", u)
	if d := sys.DemoUser; d != nil {
		fmt.Fprintf(w, "  Sign in   %s/            as %s / %s\n", u, d.Email, d.Password)
	}
	fmt.Fprintf(w, "  Outbox    %s/outbox      the emailed codes land here\n", u)
	fmt.Fprintf(w, "  Ops       %s/ops         queue depth, dead letters, SES fault injection\n\n", u)
	fmt.Fprintf(w, "  AWS endpoint for any SDK: %s (region us-east-1, any credentials)\n", u)
	fmt.Fprintf(w, "    Cognito user pool %s\n", otplocal.PoolID)
	for _, c := range seed.Clients {
		tenant := c.Tenant
		if tenant == "" {
			tenant = "default"
		}
		fmt.Fprintf(w, "      app client %-10s %s  tenant %s\n", c.Name, c.ID, tenant)
	}
	fmt.Fprintf(w, "    SQS queues %s, %s\n    SES v2 SendEmail; verified: %s\n", otplocal.SendQueue, otplocal.DeadLetters, identities(seed))
	if sandbox {
		fmt.Fprintln(w, "      in the SES sandbox: only verified recipients, 200 a day, 1 a second")
	}
	fmt.Fprintf(w, "    Lambda function %s, its event source mapping from %s\n\n", otplocal.MailerFunction, otplocal.SendQueue)
	fmt.Fprintf(w, "  Other users (password %s): ", otplocal.DemoPassword)
	for i, s := range seed.Users[min(1, len(seed.Users)):] {
		if i > 0 {
			fmt.Fprint(w, ", ")
		}
		fmt.Fprint(w, s.Email)
	}
	fmt.Fprintf(w, "\n  otpctl:   bin/otpctl queue status --endpoint %s\n", u)
	fmt.Fprintf(w, "            bin/otpctl doctor --endpoint %s --function %s\n\nPress Ctrl-C to stop.\n", u, otplocal.MailerFunction)
}

// identities names the SES identities the seed verifies.
func identities(seed otplocal.Seed) string {
	ses := otplocal.DefaultSeed().SES
	if seed.SES != nil {
		ses = seed.SES
	}
	var names []string
	for _, id := range ses.Identities {
		if id.Status == "" || id.Status == seslocal.StatusSuccess {
			names = append(names, id.Name)
		}
	}
	if len(names) == 0 {
		return "none"
	}
	return strings.Join(names, ", ")
}

func splitList(s string) []string {
	var out []string
	for _, v := range strings.Split(s, ",") {
		if v = strings.TrimSpace(v); v != "" {
			out = append(out, v)
		}
	}
	return out
}

func env(key, def string) string {
	if v := os.Getenv(key); v != "" {
		return v
	}
	return def
}

func envFloat(key string, def float64) float64 {
	if f, err := strconv.ParseFloat(os.Getenv(key), 64); err == nil {
		return f
	}
	return def
}

func envBool(key string, def bool) bool {
	if b, err := strconv.ParseBool(os.Getenv(key)); err == nil {
		return b
	}
	return def
}

func envDuration(key string, def time.Duration) time.Duration {
	if d, err := time.ParseDuration(os.Getenv(key)); err == nil {
		return d
	}
	return def
}
