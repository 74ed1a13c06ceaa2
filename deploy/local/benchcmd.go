package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strconv"
	"strings"
	"syscall"

	"github.com/cognito-email-otp/cognito-email-otp/deploy/local/bench"
	"github.com/cognito-email-otp/cognito-email-otp/deploy/local/otplocal"
	"github.com/cognito-email-otp/cognito-email-otp/deploy/local/seslocal"
	"github.com/cognito-email-otp/cognito-email-otp/triggers/budget"
)

// runBench is `otp-local bench`: it starts a private otp-local on a free
// port, signs people in at each concurrency level, prints a table, and
// fails if any email was lost, misdelivered or any sign-in failed.
func runBench(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("otp-local bench", flag.ContinueOnError)
	fs.SetOutput(stderr)
	levels := fs.String("concurrency", "50", "comma-separated concurrency levels, e.g. 1,10,50,100")
	perPerson := fs.Int("sign-ins-per-person", 10, "sign-ins each concurrent person completes at each level")
	functions := fs.String("functions", "", "run the real Lambda binaries from DIR (make host-functions: bin/host)")
	latency := fs.Duration("ses-latency", 0, "latency added to every SES call")
	think := fs.Duration("think", 0, "time each person takes to read the email and type the code (0: a closed loop that saturates the machine)")
	plotPath := fs.String("plot", "", "write a PNG of password→email percentiles against concurrency here")
	tablePath := fs.String("table", "", "also write the Markdown table here")
	jsonPath := fs.String("json", "", "also write the results as JSON here")
	quiet := fs.Bool("quiet", false, "no progress bar")
	logPath := fs.String("logs", "", "write the triggers' and the mailer's JSON logs here (what CloudWatch Logs would ingest)")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	var concurrency []int
	for _, s := range strings.Split(*levels, ",") {
		n, err := strconv.Atoi(strings.TrimSpace(s))
		if err != nil || n < 1 {
			fmt.Fprintf(stderr, "otp-local bench: concurrency %q is not a positive number\n", s)
			return 2
		}
		concurrency = append(concurrency, n)
	}

	logs := io.Discard
	if *logPath != "" {
		f, err := os.Create(*logPath)
		if err != nil {
			fmt.Fprintln(stderr, "otp-local bench:", err)
			return 1
		}
		defer f.Close()
		logs = f
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	// Each person signs in many times a minute, far more often than the
	// failure budget's ten codes an hour allow a real user; the rest of the
	// budget (and every DynamoDB call it makes) stays as deployed.
	sys, err := otplocal.Start(ctx, otplocal.Options{Addr: "127.0.0.1:0", Seed: otplocal.DefaultSeed(),
		FunctionsDir: *functions, SES: seslocal.Faults{Latency: *latency}, Logs: logs,
		Budget: budget.Policy{CodesPerWindow: 1 << 30}})
	if err != nil {
		fmt.Fprintln(stderr, "otp-local bench:", err)
		return 1
	}
	defer sys.Close()
	mode := "in-process handlers"
	if *functions != "" {
		mode = "Lambda binaries from " + *functions
	}
	fmt.Fprintf(stderr, "otp-local bench: %s, %s, SES latency %s, think time %s\n", sys.URL, mode, *latency, *think)

	var results []bench.Result
	progress := stderr
	if *quiet {
		progress = nil
	}
	for _, c := range concurrency {
		fmt.Fprintf(stderr, "%d concurrent sign-ins:\n", c)
		r, err := bench.Run(ctx, sys.BenchTarget(), bench.Options{Concurrency: c, SignIns: c * *perPerson, Progress: progress, Think: *think})
		if err != nil {
			fmt.Fprintln(stderr, "otp-local bench:", err)
			return 1
		}
		results = append(results, r)
	}
	fmt.Fprintln(stdout)
	if err := bench.WriteTable(stdout, results); err != nil {
		fmt.Fprintln(stderr, "otp-local bench:", err)
		return 1
	}
	if err := writeOutputs(results, *tablePath, *jsonPath, *plotPath); err != nil {
		fmt.Fprintln(stderr, "otp-local bench:", err)
		return 1
	}
	bad := 0
	for _, r := range results {
		bad += r.Lost + r.Unexpected + r.Failed
		for _, e := range r.Errors {
			fmt.Fprintf(stderr, "otp-local bench: %d concurrent: %s\n", r.Concurrency, e)
		}
	}
	if bad > 0 {
		fmt.Fprintf(stderr, "otp-local bench: %d sign-ins lost an email, got a stray one or failed\n", bad)
		return 1
	}
	return 0
}

func writeOutputs(results []bench.Result, tablePath, jsonPath, plotPath string) error {
	if tablePath != "" {
		f, err := os.Create(tablePath)
		if err != nil {
			return err
		}
		if err := bench.WriteTable(f, results); err != nil {
			f.Close()
			return err
		}
		if err := f.Close(); err != nil {
			return err
		}
	}
	if jsonPath != "" {
		b, err := json.MarshalIndent(results, "", "  ")
		if err != nil {
			return err
		}
		if err := os.WriteFile(jsonPath, append(b, '\n'), 0o644); err != nil {
			return err
		}
	}
	if plotPath != "" {
		return bench.Plot(plotPath, results)
	}
	return nil
}
