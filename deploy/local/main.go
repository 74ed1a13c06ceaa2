// Command otp-local runs the whole cognito-email-otp system on one machine
// with no AWS account: Cognito, SQS and SES v2 endpoints that the real AWS
// SDKs and Amplify talk to, the triggers and the mailer, and the sign-in,
// outbox and ops pages. It listens on 127.0.0.1 only.
//
//	otp-local [flags]
//	otp-local bench [-concurrency 1,10,50] [-functions bin/host] [-plot FILE]
//
// The functions' JSON logs go to otp-local.log in --data-dir (make run:
// .otp-local/otp-local.log), to --log-file, or with --verbose to stderr.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"path/filepath"
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
	if asksForHelp(args) {
		fs.SetOutput(stdout) // asked for, so it is the output, not an error
	}
	addr := fs.String("addr", env("OTP_LOCAL_ADDR", otplocal.DefaultAddr), "listen address, loopback only (env OTP_LOCAL_ADDR)")
	dataDir := fs.String("data-dir", env("OTP_LOCAL_DATA_DIR", ""), "keep users, keys, the template store and the outbox here across restarts; empty: in memory (env OTP_LOCAL_DATA_DIR)")
	seedFile := fs.String("seed", env("OTP_LOCAL_SEED", ""), "JSON file with app clients (tenants), users and the SES account; default: the demo seed (env OTP_LOCAL_SEED)")
	templatesDir := fs.String("templates-dir", env("OTP_TEMPLATES_DIR", ""), "template sets overriding the embedded ones by name, reloaded when they change, or a compiled templates.bundle.json (env OTP_TEMPLATES_DIR)")
	templatesRefresh := fs.Duration("templates-refresh", envDuration("OTP_TEMPLATES_REFRESH", otplocal.DefaultTemplatesRefresh), "how often the mailer looks at the template store (env OTP_TEMPLATES_REFRESH)")
	publishSets := fs.String("publish-sets", env("OTP_LOCAL_PUBLISH_SETS", ""), "embedded sets to publish into the template store when it is empty, e.g. acme,globex (make run does) (env OTP_LOCAL_PUBLISH_SETS)")
	failRate := fs.Float64("ses-fail-rate", envFloat("OTP_LOCAL_SES_FAIL_RATE", 0), "fraction of SES calls that fail with a 5xx (env OTP_LOCAL_SES_FAIL_RATE)")
	throttleRate := fs.Float64("ses-throttle-rate", envFloat("OTP_LOCAL_SES_THROTTLE_RATE", 0), "fraction of SES calls that are throttled (429) (env OTP_LOCAL_SES_THROTTLE_RATE)")
	latency := fs.Duration("ses-latency", envDuration("OTP_LOCAL_SES_LATENCY", 0), "latency added to every SES call, e.g. 80ms (env OTP_LOCAL_SES_LATENCY)")
	sandbox := fs.Bool("ses-sandbox", envBool("OTP_LOCAL_SES_SANDBOX", false), "put the SES account in the sandbox: only verified recipients, 200 a day, 1 a second (env OTP_LOCAL_SES_SANDBOX)")
	verbose := fs.Bool("verbose", envBool("OTP_LOCAL_VERBOSE", false), "print the functions' JSON logs (what CloudWatch Logs would hold) here, on stderr (env OTP_LOCAL_VERBOSE)")
	logFile := fs.String("log-file", env("OTP_LOCAL_LOG_FILE", ""), "append the functions' JSON logs to FILE; default: otp-local.log in --data-dir, else none (env OTP_LOCAL_LOG_FILE)")
	quiet := fs.Bool("quiet", envBool("OTP_LOCAL_QUIET", false), "keep no logs at all (env OTP_LOCAL_QUIET)")
	functions := fs.String("functions", env("OTP_LOCAL_FUNCTIONS", ""), "run the real Lambda binaries from DIR/<name>/bootstrap (make host-functions: bin/host) instead of in-process handlers (env OTP_LOCAL_FUNCTIONS)")
	corsOrigins := fs.String("cors-origin", env("OTP_LOCAL_CORS_ORIGINS", ""), "comma-separated browser origins besides otp-local's own that may call its Cognito API, e.g. http://localhost:5173 (env OTP_LOCAL_CORS_ORIGINS)")
	fs.Usage = func() {
		fmt.Fprintf(fs.Output(), `usage: otp-local [flags]          the whole system on one machine, with the demo seed
       otp-local bench [flags]    sign people in at each concurrency level and report (otp-local bench -h)

flags (each also set by the environment variable it names):
`)
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return 0
		}
		return 2
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(stderr, "otp-local: unexpected argument %q (otp-local -h lists the flags)\n", fs.Arg(0))
		return 2
	}
	seed := otplocal.DefaultSeed()
	if *seedFile != "" {
		var err error
		if seed, err = otplocal.LoadSeed(*seedFile); err != nil {
			return fail(stderr, err)
		}
	}
	if *dataDir != "" {
		if err := os.MkdirAll(*dataDir, 0o700); err != nil {
			return fail(stderr, err)
		}
	}
	logs, logWhere, closeLogs, err := openLogs(*verbose, *quiet, *logFile, *dataDir, stderr)
	if err != nil {
		return fail(stderr, err)
	}
	defer closeLogs()
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	sys, err := otplocal.Start(ctx, otplocal.Options{
		Addr: *addr, DataDir: *dataDir, Seed: seed, TemplatesDir: *templatesDir, Logs: logs, FunctionsDir: *functions,
		TemplatesRefresh: *templatesRefresh, PublishSets: splitList(*publishSets),
		CORSOrigins: splitList(*corsOrigins),
		SES:         seslocal.Faults{FailRate: *failRate, ThrottleRate: *throttleRate, Latency: *latency},
		SESSandbox:  *sandbox,
	})
	if err != nil {
		return fail(stderr, err)
	}
	banner(stdout, sys, seed, *sandbox || (seed.SES != nil && seed.SES.Sandbox), logWhere)
	<-ctx.Done()
	fmt.Fprintln(stdout, "\notp-local: stopping")
	if err := sys.Close(); err != nil {
		return fail(stderr, err)
	}
	return 0
}

func asksForHelp(args []string) bool {
	for _, a := range args {
		switch a {
		case "-h", "-help", "--help", "--h":
			return true
		case "--":
			return false
		}
	}
	return false
}

// fail prints err once, with one "otp-local:" in front of it.
func fail(stderr io.Writer, err error) int {
	fmt.Fprintln(stderr, "otp-local:", strings.TrimPrefix(err.Error(), "otp-local: "))
	return 1
}

// openLogs is where the functions' JSON logs go: stderr with --verbose, a
// file (--log-file, or otp-local.log in the data dir), or nowhere. Quiet by
// default, so the banner stays readable; where says where they are.
func openLogs(verbose, quiet bool, file, dataDir string, stderr io.Writer) (w io.Writer, where string, closeFn func(), err error) {
	none := func() {}
	switch {
	case quiet:
		return io.Discard, "", none, nil
	case verbose:
		return stderr, "stderr", none, nil
	case file == "" && dataDir != "":
		file = filepath.Join(dataDir, "otp-local.log")
	case file == "":
		return io.Discard, "", none, nil
	}
	f, err := os.OpenFile(file, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o600)
	if err != nil {
		return nil, "", none, fmt.Errorf("log file: %w", err)
	}
	return f, file, func() { _ = f.Close() }, nil
}

func banner(w io.Writer, sys *otplocal.System, seed otplocal.Seed, sandbox bool, logs string) {
	u := sys.URL
	fmt.Fprintf(w, "\notp-local is running at %s\n\n", u)
	if d := sys.DemoUser; d != nil {
		fmt.Fprintf(w, "  Sign in   %s/            as %s / %s\n", u, d.Email, d.Password)
		if len(seed.Clients) > 1 && seed.Clients[1].Tenant != "" {
			fmt.Fprintf(w, "            %s/?tenant=%s  (or the page's picker: one app client per tenant)\n", u, seed.Clients[1].Tenant)
		}
	}
	fmt.Fprintf(w, "  Outbox    %s/outbox      the emailed codes land here\n", u)
	fmt.Fprintf(w, "  Ops       %s/ops         health over the last hour, queues, dead letters, SES fault injection\n", u)
	switch logs {
	case "", "stderr":
		fmt.Fprintf(w, "  Logs      %s\n\n", map[string]string{"": "off (--verbose prints the functions' JSON logs, --log-file FILE keeps them)", "stderr": "the functions' JSON logs, on stderr"}[logs])
	default:
		fmt.Fprintf(w, "  Logs      %s   the functions' JSON logs (tail -f it; --verbose prints them here)\n\n", logs)
	}
	fmt.Fprintf(w, "  AWS endpoint for any SDK: %s (region us-east-1, any credentials)\n", u)
	fmt.Fprintf(w, "    Cognito user pool %s\n", otplocal.PoolID)
	for _, c := range seed.Clients {
		tenant := c.Tenant
		if tenant == "" {
			tenant = "default"
		}
		fmt.Fprintf(w, "      app client %-11s %s  tenant %s\n", c.Name, c.ID, tenant)
	}
	fmt.Fprintf(w, "    SQS queues %s, %s\n    SES v2 SendEmail; verified: %s\n", otplocal.SendQueue, otplocal.DeadLetters, identities(seed))
	for _, t := range sesAccount(seed).Tenants {
		fmt.Fprintf(w, "      SES tenant %s holds %s\n", t.Name, strings.Join(append(append([]string{}, t.Identities...), t.ConfigurationSets...), ", "))
	}
	if sandbox {
		fmt.Fprintln(w, "      in the SES sandbox: only verified recipients, 200 a day, 1 a second")
	}
	fmt.Fprintf(w, "    Lambda function %s, its event source mapping from %s\n", otplocal.MailerFunction, otplocal.SendQueue)
	fmt.Fprintf(w, "    S3 bucket %s (template store: bin/otpctl templates current --endpoint %s)\n", otplocal.TemplateBucket, u)
	fmt.Fprintf(w, "    CloudWatch Logs %s, %s, … (every function's log group)\n\n", otplocal.LogGroup("create"), otplocal.LogGroup("mailer"))
	fmt.Fprintf(w, "  Other users (password %s): ", otplocal.DemoPassword)
	for i, s := range seed.Users[min(1, len(seed.Users)):] {
		if i > 0 {
			fmt.Fprint(w, ", ")
		}
		fmt.Fprint(w, s.Email)
	}
	fmt.Fprintf(w, "\n  otpctl:   bin/otpctl queue status --endpoint %s\n", u)
	fmt.Fprintf(w, "            bin/otpctl doctor --endpoint %s --function %s\n", u, otplocal.MailerFunction)
	who := "EMAIL"
	if d := sys.DemoUser; d != nil {
		who = d.Email
	}
	fmt.Fprintf(w, "            bin/otpctl trace %s --endpoint %s   (what became of the codes sent to one address)\n\nPress Ctrl-C to stop.\n", who, u)
}

// identities names the SES identities the seed verifies.
// sesAccount is the seed's SES account, or the default seed's.
func sesAccount(seed otplocal.Seed) *otplocal.SeedSES {
	if seed.SES != nil {
		return seed.SES
	}
	return otplocal.DefaultSeed().SES
}

func identities(seed otplocal.Seed) string {
	ses := sesAccount(seed)
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
