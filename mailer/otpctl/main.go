// Command otpctl is the operator's tool for the send queue, its dead-letter
// queue and the email template sets. It talks to AWS with the default
// credential chain, or to otp-local with --endpoint.
//
// Global flags, before or after the command: --endpoint URL, --region R,
// --queue Q, --dlq Q, --json.
//
//	otpctl doctor [--function NAME] [--templates-dir DIR]
//	otpctl queue status
//	otpctl dlq list [--reason R] [--max N]
//	otpctl dlq redrive [--reason R] [--yes]
//	otpctl user status EMAIL|SUB
//	otpctl user unlock EMAIL|SUB
//	otpctl trace ADDRESS|REQUEST-ID [--since 1h] [--stack NAME | --log-groups G,G]
//	otpctl templates check [DIR]
//	otpctl templates compile [DIR] [-o FILE]
//	otpctl templates preview --out DIR [--screenshots] [--ttl D] [--set S] [--locale L] [--ttl D] [--set S] [--locale L]
//
// Exit status: 0 all good, 1 problems found (a non-empty dead-letter queue,
// a broken template set) or the work failed, 2 usage error.
package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"path/filepath"
	"slices"
	"strings"

	"github.com/cognito-email-otp/cognito-email-otp/templates"
	"github.com/cognito-email-otp/cognito-email-otp/templates/compiled"
	"github.com/cognito-email-otp/cognito-email-otp/templates/preview"
)

const (
	exitOK       = 0
	exitProblems = 1
	exitUsage    = 2
)

// env is what a command gets besides its arguments.
type env struct {
	stdout, stderr io.Writer
	json           bool
	aws            *globals
}

// globals are the flags every command takes, before or after its name
// ("otpctl --endpoint URL queue status" and "otpctl queue status
// --endpoint URL" are the same). Defaults come from the environment the
// SAM stack's outputs suggest, then otp-local's names.
type globals struct {
	json                         bool
	endpoint, region, queue, dlq string
}

func newGlobals() *globals {
	return &globals{
		endpoint: os.Getenv("OTP_ENDPOINT"),
		queue:    envOr("OTP_QUEUE_URL", "otp-send"),
		dlq:      envOr("OTP_DLQ_URL", "otp-send-dlq"),
	}
}

// register declares the global flags on fs with their current values as
// defaults, so a later parse keeps what an earlier one set.
func (g *globals) register(fs *flag.FlagSet) {
	fs.BoolVar(&g.json, "json", g.json, "machine-readable output")
	fs.StringVar(&g.endpoint, "endpoint", g.endpoint, "talk to otp-local (e.g. http://127.0.0.1:7070) instead of AWS; env OTP_ENDPOINT")
	fs.StringVar(&g.region, "region", g.region, "AWS region (default: from the AWS configuration)")
	fs.StringVar(&g.queue, "queue", g.queue, "send queue name or URL; env OTP_QUEUE_URL")
	fs.StringVar(&g.dlq, "dlq", g.dlq, "dead-letter queue name or URL; env OTP_DLQ_URL")
}

func envOr(key, def string) string {
	if v := os.Getenv(key); v != "" {
		return v
	}
	return def
}

// command is one entry of the dispatch table. name is the words that select
// it ("templates check"); flags declares its flags on fs and returns the
// function that runs it with the remaining arguments.
type command struct {
	name    string
	args    string // synopsis of the arguments, for usage
	summary string
	flags   func(fs *flag.FlagSet) func(ctx context.Context, e env, args []string) int
}

var commands = []command{
	{name: "doctor", args: "[--function NAME] [--templates-dir DIR] [--from ADDR] [--configuration-set CS] [--strict]", summary: "check SES senders, DKIM, sandbox, quota, the queues and the mailer's mapping before the first sign-in; exit 1 on any failure", flags: doctorCmd},
	{name: "queue status", args: "", summary: "depth of both queues and the age of their oldest message; exit 1 if dead letters wait", flags: queueStatus},
	{name: "dlq list", args: "[--reason R] [--max N]", summary: "dead letters with reason, tenant and age; codes redacted", flags: dlqList},
	{name: "dlq redrive", args: "[--reason R] [--yes]", summary: "move dead letters (all, or one reason) back to the send queue", flags: dlqRedrive},
	{name: "user status", args: "EMAIL|SUB [--user-pool ID] [--table T]", summary: "a user's failure budget: failed code steps, back-off or lock, live code", flags: userStatus},
	{name: "user unlock", args: "EMAIL|SUB [--user-pool ID] [--table T]", summary: "clear a user's failed code steps and back-off (after a lockout)", flags: userUnlock},
	{name: "templates check", args: "[DIR]", summary: "validate the embedded template sets, layered with DIR (a directory of sets, or one set)", flags: templatesCheck},
	{name: "templates compile", args: "[DIR] [-o FILE]", summary: "check as templates check does, then write DIR's sets (the embedded ones without DIR) as the bundle the mailer reads from OTP_TEMPLATES_DIR", flags: templatesCompile},
	{name: "templates preview", args: "--out DIR [--screenshots] [--ttl D] [--set S] [--locale L] [--dir DIR] [--quiet]", summary: "write every set x locale as HTML and text, with an index.html", flags: templatesPreview},
}

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	code := run(ctx, os.Args[1:], os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}

// run is main without the process: tests call it.
func run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	g := newGlobals()
	e := env{stdout: stdout, stderr: stderr, aws: g}
	global := flag.NewFlagSet("otpctl", flag.ContinueOnError)
	global.SetOutput(stderr)
	g.register(global)
	global.Usage = func() { usage(stderr) }
	if err := global.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return exitOK
		}
		return exitUsage
	}
	rest := global.Args()
	cmd, rest := lookup(rest)
	if cmd == nil {
		given := strings.Join(global.Args(), " ")
		switch near := commandsUnder(global.Args()); {
		case len(global.Args()) == 0:
			fmt.Fprintln(stderr, "otpctl: no command given")
		case len(near) > 0:
			fmt.Fprintf(stderr, "otpctl: %q needs one more word: %s\n", given, strings.Join(near, ", "))
			for _, c := range commands {
				if slices.Contains(near, "otpctl "+c.name) {
					fmt.Fprintf(stderr, "  %-20s %s\n", c.name, c.summary)
				}
			}
			return exitUsage
		default:
			fmt.Fprintf(stderr, "otpctl: unknown command %q\n", given)
		}
		usage(stderr)
		return exitUsage
	}
	fs := flag.NewFlagSet("otpctl "+cmd.name, flag.ContinueOnError)
	fs.SetOutput(stderr)
	g.register(fs)
	fs.Usage = func() {
		fmt.Fprintf(stderr, "usage: otpctl %s %s\n  %s\n", cmd.name, cmd.args, cmd.summary)
		fs.PrintDefaults()
	}
	runCmd := cmd.flags(fs)
	// Flags may come after the arguments too ("user status EMAIL --endpoint
	// URL"): the flag package stops at the first argument, so parse again
	// after each one.
	var positional []string
	for {
		if err := fs.Parse(rest); err != nil {
			if errors.Is(err, flag.ErrHelp) {
				return exitOK
			}
			return exitUsage
		}
		if fs.NArg() == 0 {
			break
		}
		positional = append(positional, fs.Arg(0))
		rest = fs.Args()[1:]
	}
	e.json = g.json
	return runCmd(ctx, e, positional)
}

// commandsUnder lists the commands that begin with the words given
// ("queue" → "otpctl queue status"), for a command typed half.
func commandsUnder(words []string) []string {
	var out []string
	for _, c := range commands {
		if strings.HasPrefix(c.name+" ", strings.Join(words, " ")+" ") && len(words) > 0 {
			out = append(out, "otpctl "+c.name)
		}
	}
	return out
}

// lookup finds the command whose words start args, longest name first.
func lookup(args []string) (*command, []string) {
	var best *command
	for i := range commands {
		words := strings.Fields(commands[i].name)
		if len(words) > len(args) {
			continue
		}
		match := true
		for j, w := range words {
			if args[j] != w {
				match = false
				break
			}
		}
		if match && (best == nil || len(words) > len(strings.Fields(best.name))) {
			best = &commands[i]
		}
	}
	if best == nil {
		return nil, args
	}
	return best, args[len(strings.Fields(best.name)):]
}

func usage(w io.Writer) {
	fmt.Fprintln(w, "usage: otpctl [global flags] <command> [flags] [args]")
	fmt.Fprintln(w, "global flags, before or after the command: --endpoint URL (otp-local), --region R, --queue Q, --dlq Q, --json")
	fmt.Fprintln(w, "commands:")
	for _, c := range commands {
		fmt.Fprintf(w, "  %-20s %s\n      %s\n", c.name, c.args, c.summary)
	}
	fmt.Fprintln(w, "exit status: 0 ok, 1 problems found, 2 usage error")
}

func usageError(e env, format string, args ...any) int {
	fmt.Fprintf(e.stderr, "otpctl: "+format+"\n", args...)
	return exitUsage
}

func writeJSON(w io.Writer, v any) {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	_ = enc.Encode(v)
}

// sourcesFor layers DIR over the embedded sets, as the mailer does with
// OTP_TEMPLATES_DIR. A DIR holding theme.yaml is one set, not a directory
// of sets.
func sourcesFor(dir string) []templates.Source {
	sources := []templates.Source{templates.Embedded()}
	if dir == "" {
		return sources
	}
	if _, err := os.Stat(filepath.Join(dir, "theme.yaml")); err == nil {
		return append(sources, templates.SetDir(dir))
	}
	return append(sources, templates.Dir(dir))
}

func templatesCheck(_ *flag.FlagSet) func(context.Context, env, []string) int {
	return func(_ context.Context, e env, args []string) int {
		if len(args) > 1 {
			return usageError(e, "templates check takes at most one DIR, got %d arguments", len(args))
		}
		dir := ""
		if len(args) == 1 {
			dir = args[0]
		}
		r := templates.Check(sourcesFor(dir)...)
		if e.json {
			writeJSON(e.stdout, struct {
				OK bool `json:"ok"`
				templates.Report
			}{r.OK(), r})
		} else {
			for _, s := range r.Sets {
				locales := strings.Join(s.Locales, " ")
				if !s.Loaded {
					locales = "NOT LOADED (see problems)"
				}
				fmt.Fprintf(e.stdout, "set %-12s %-24s %s\n", s.Name, "("+s.Source+")", locales)
			}
			for _, p := range r.Problems {
				fmt.Fprintln(e.stdout, "problem:", p)
			}
			if r.OK() {
				fmt.Fprintf(e.stdout, "ok: %d sets, no problems\n", len(r.Sets))
			} else {
				fmt.Fprintf(e.stdout, "%d problems\n", len(r.Problems))
			}
		}
		if !r.OK() {
			return exitProblems
		}
		return exitOK
	}
}

func templatesCompile(fs *flag.FlagSet) func(context.Context, env, []string) int {
	out := fs.String("o", compiled.BundleFile, "file to write; - for standard output")
	return func(_ context.Context, e env, args []string) int {
		// Flags may follow DIR too (templates compile DIR -o FILE); the
		// flag package stops at the first argument.
		dir := ""
		if len(args) > 0 {
			dir = args[0]
			if err := fs.Parse(args[1:]); err != nil {
				return exitUsage
			}
			if args = fs.Args(); len(args) > 0 {
				return usageError(e, "templates compile takes at most one DIR, got %q after it", args)
			}
		}
		if *out == "" {
			return usageError(e, "templates compile: -o must name a file")
		}
		sources := sourcesFor(dir)
		// A bundle goes to production without another look, so it gets
		// every check templates check makes, not only Load's.
		if r := templates.Check(sources...); !r.OK() {
			if e.json {
				writeJSON(e.stdout, struct {
					OK bool `json:"ok"`
					templates.Report
				}{false, r})
			} else {
				for _, p := range r.Problems {
					fmt.Fprintln(e.stdout, "problem:", p)
				}
				fmt.Fprintf(e.stdout, "%d problems; no bundle written\n", len(r.Problems))
			}
			return exitProblems
		}
		lib, err := templates.Load(sources...)
		if err != nil {
			fmt.Fprintln(e.stderr, "otpctl:", err)
			return exitProblems
		}
		// With DIR, only DIR's sets (see OverridingSets).
		sets := lib.Sets()
		if dir != "" {
			sets = lib.OverridingSets()
		}
		if len(sets) == 0 {
			fmt.Fprintf(e.stderr, "otpctl: %s holds no template sets\n", dir)
			return exitProblems
		}
		data, err := templates.Compile(lib, sets...)
		if err != nil {
			fmt.Fprintln(e.stderr, "otpctl:", err)
			return exitProblems
		}
		// Read it back as the mailer will, so that a bundle this command
		// writes is one the mailer loads.
		if _, err := compiled.Parse(*out, data); err != nil {
			fmt.Fprintln(e.stderr, "otpctl: internal:", err)
			return exitProblems
		}
		if *out == "-" {
			_, _ = e.stdout.Write(data)
			return exitOK
		}
		if err := writeFileAtomic(*out, data); err != nil {
			fmt.Fprintln(e.stderr, "otpctl:", err)
			return exitProblems
		}
		if e.json {
			writeJSON(e.stdout, struct {
				File  string   `json:"file"`
				Sets  []string `json:"sets"`
				Bytes int      `json:"bytes"`
			}{*out, sets, len(data)})
		} else {
			fmt.Fprintf(e.stdout, "wrote %s: %d sets (%s), %d bytes\n", *out, len(sets), strings.Join(sets, " "), len(data))
		}
		return exitOK
	}
}

// writeFileAtomic replaces path in one step, so that a mailer starting
// while the bundle is rewritten never reads half of it.
func writeFileAtomic(path string, data []byte) error {
	tmp, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".*")
	if err != nil {
		return fmt.Errorf("write bundle: %w", err)
	}
	defer os.Remove(tmp.Name())
	if _, err := tmp.Write(data); err != nil {
		_ = tmp.Close()
		return fmt.Errorf("write bundle: %w", err)
	}
	if err := tmp.Chmod(0o644); err != nil {
		_ = tmp.Close()
		return fmt.Errorf("write bundle: %w", err)
	}
	if err := tmp.Close(); err != nil {
		return fmt.Errorf("write bundle: %w", err)
	}
	if err := os.Rename(tmp.Name(), path); err != nil {
		return fmt.Errorf("write bundle: %w", err)
	}
	return nil
}

func templatesPreview(fs *flag.FlagSet) func(context.Context, env, []string) int {
	out := fs.String("out", "", "directory to write the gallery into (required)")
	shots := fs.Bool("screenshots", false, "also take PNG screenshots with headless Chromium")
	chromium := fs.String("chromium", preview.DefaultChromium, "Chromium binary for --screenshots")
	dir := fs.String("dir", "", "template directory to layer over the embedded sets (as OTP_TEMPLATES_DIR)")
	// The default is the Create trigger's OTP_CODE_TTL default, so that
	// the expiry sentence says what a default deployment's emails say.
	ttl := fs.Duration("ttl", preview.DefaultTTL, "code lifetime the expiry sentence shows: the deployment's OTP_CODE_TTL")
	var sets, locales listFlag
	fs.Var(&sets, "set", "only this set (repeat, or separate with commas)")
	fs.Var(&locales, "locale", "only this locale; a bare language such as fr also selects fr-CA (repeat, or separate with commas)")
	quiet := fs.Bool("quiet", false, "no progress lines on standard error")
	return func(ctx context.Context, e env, args []string) int {
		if *out == "" {
			return usageError(e, "templates preview needs --out DIR")
		}
		if len(args) > 0 {
			return usageError(e, "templates preview takes no arguments, got %q", args)
		}
		if *ttl <= 0 {
			return usageError(e, "templates preview --ttl %s: want a positive duration such as 3m", *ttl)
		}
		lib, err := templates.Load(sourcesFor(*dir)...)
		if err != nil {
			fmt.Fprintln(e.stderr, "otpctl:", err)
			return exitProblems
		}
		opt := preview.Options{
			TTL: *ttl, Sets: sets, Locales: locales,
			Screenshots: *shots, Chromium: *chromium,
		}
		if !*quiet {
			opt.Progress = e.stderr
		}
		pages, err := preview.Write(ctx, lib, *out, opt)
		if errors.Is(err, preview.ErrFilter) {
			return usageError(e, "templates preview: %v", err)
		}
		if err != nil {
			fmt.Fprintln(e.stderr, "otpctl:", err)
			return exitProblems
		}
		index := filepath.Join(*out, "index.html")
		if e.json {
			writeJSON(e.stdout, struct {
				Index string         `json:"index"`
				Pages []preview.Page `json:"pages"`
			}{index, pages})
		} else {
			fmt.Fprintf(e.stdout, "wrote %s; open %s\n", count(len(pages), "preview", "previews"), index)
		}
		return exitOK
	}
}

// listFlag collects a flag given several times, each value possibly a
// comma-separated list: --set acme --set globex and --set acme,globex
// mean the same.
type listFlag []string

func (l *listFlag) String() string { return strings.Join(*l, ",") }

func (l *listFlag) Set(v string) error {
	for _, item := range strings.Split(v, ",") {
		if item = strings.TrimSpace(item); item != "" {
			*l = append(*l, item)
		}
	}
	return nil
}
