package main

import (
	"bufio"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	awsconfig "github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/sqs"

	"github.com/cognito-email-otp/cognito-email-otp/deploy/local/awslocal"
	"github.com/cognito-email-otp/cognito-email-otp/mailer/ops"
)

// stdin answers redrive's confirmation; tests replace it.
var stdin io.Reader = os.Stdin

// queueFlags are shared by the queue and dlq commands. Defaults come from
// the environment the SAM stack's outputs suggest, then otp-local's names.
type queueFlags struct {
	endpoint, region, queue, dlq *string
}

func addQueueFlags(fs *flag.FlagSet) queueFlags {
	return queueFlags{
		endpoint: fs.String("endpoint", os.Getenv("OTP_ENDPOINT"), "talk to otp-local (e.g. http://127.0.0.1:7070) instead of AWS; env OTP_ENDPOINT"),
		region:   fs.String("region", "", "AWS region (default: from the AWS configuration)"),
		queue:    fs.String("queue", envOr("OTP_QUEUE_URL", "otp-send"), "send queue name or URL; env OTP_QUEUE_URL"),
		dlq:      fs.String("dlq", envOr("OTP_DLQ_URL", "otp-send-dlq"), "dead-letter queue name or URL; env OTP_DLQ_URL"),
	}
}

func envOr(key, def string) string {
	if v := os.Getenv(key); v != "" {
		return v
	}
	return def
}

// open connects to AWS (default credential chain) or otp-local.
func (f queueFlags) open(ctx context.Context) (ops.Queues, error) {
	var cfg aws.Config
	if *f.endpoint != "" {
		cfg = awslocal.Config(*f.endpoint)
	} else {
		var err error
		if cfg, err = awsconfig.LoadDefaultConfig(ctx); err != nil {
			return ops.Queues{}, err
		}
	}
	if *f.region != "" {
		cfg.Region = *f.region
	}
	return ops.Open(ctx, sqs.NewFromConfig(cfg), *f.queue, *f.dlq)
}

func fail(e env, err error) int {
	fmt.Fprintln(e.stderr, "otpctl:", err)
	return exitProblems
}

// queueStatus prints both queues' depth. Exit 1 when the dead-letter queue
// holds anything, so a script can page on it.
func queueStatus(fs *flag.FlagSet) func(context.Context, env, []string) int {
	qf := addQueueFlags(fs)
	return func(ctx context.Context, e env, args []string) int {
		if len(args) > 0 {
			return usageError(e, "queue status takes no arguments")
		}
		q, err := qf.open(ctx)
		if err != nil {
			return fail(e, err)
		}
		status, err := q.Status(ctx)
		if err != nil {
			return fail(e, err)
		}
		if e.json {
			writeJSON(e.stdout, status)
		} else {
			w := tabwriter.NewWriter(e.stdout, 0, 4, 2, ' ', 0)
			fmt.Fprintln(w, "QUEUE\tNAME\tWAITING\tIN FLIGHT\tDELAYED")
			for _, s := range status {
				fmt.Fprintf(w, "%s\t%s\t%d\t%d\t%d\n", s.Role, s.Name, s.Visible, s.InFlight, s.Delayed)
			}
			_ = w.Flush()
		}
		for _, s := range status {
			if s.Role == "dead-letter" && s.Visible+s.InFlight > 0 {
				return exitProblems
			}
		}
		return exitOK
	}
}

func dlqList(fs *flag.FlagSet) func(context.Context, env, []string) int {
	qf := addQueueFlags(fs)
	max := fs.Int("max", 100, "list at most this many dead letters")
	reason := fs.String("reason", "", "only dead letters with this reason")
	return func(ctx context.Context, e env, args []string) int {
		if len(args) > 0 {
			return usageError(e, "dlq list takes no arguments")
		}
		q, err := qf.open(ctx)
		if err != nil {
			return fail(e, err)
		}
		list, err := q.ListDeadLetters(ctx, *max, time.Now())
		if err != nil {
			return fail(e, err)
		}
		var shown []ops.DeadLetter
		for _, d := range list {
			if *reason == "" || d.Reason == *reason {
				shown = append(shown, d)
			}
		}
		if e.json {
			if shown == nil {
				shown = []ops.DeadLetter{}
			}
			writeJSON(e.stdout, shown)
			return exitOK
		}
		w := tabwriter.NewWriter(e.stdout, 0, 4, 2, ' ', 0)
		fmt.Fprintln(w, "AGE\tREASON\tTENANT\tTO\tREQUEST\tCODE\tTEMPLATE\tERROR")
		for _, d := range shown {
			// Whether a redrive could still deliver it: "fresh" only then.
			state := "fresh"
			switch {
			case d.CodeRemoved:
				state = "removed"
			case d.Expired:
				state = "expired"
			}
			// The set and version that rendered it, when it was rendered.
			template := "-"
			if d.TemplateSet != "" {
				template = d.TemplateSet + "@" + d.TemplateVersion
			}
			fmt.Fprintf(w, "%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n", d.Age, d.Reason, dash(d.Tenant), dash(d.To), dash(d.RequestID), state, template, dash(oneLine(d.Error, 80)))
		}
		_ = w.Flush()
		fmt.Fprintf(e.stdout, "%d dead letters\n", len(shown))
		return exitOK
	}
}

func dlqRedrive(fs *flag.FlagSet) func(context.Context, env, []string) int {
	qf := addQueueFlags(fs)
	reason := fs.String("reason", "", "only dead letters with this reason (default: all)")
	yes := fs.Bool("yes", false, "do not ask for confirmation")
	return func(ctx context.Context, e env, args []string) int {
		if len(args) > 0 {
			return usageError(e, "dlq redrive takes no arguments")
		}
		q, err := qf.open(ctx)
		if err != nil {
			return fail(e, err)
		}
		list, err := q.ListDeadLetters(ctx, 10_000, time.Now())
		if err != nil {
			return fail(e, err)
		}
		n, unsendable := 0, 0
		for _, d := range list {
			if *reason == "" || d.Reason == *reason {
				n++
				if !d.Sendable() {
					unsendable++
				}
			}
		}
		what := "all dead letters"
		if *reason != "" {
			what = fmt.Sprintf("dead letters with reason %s", *reason)
		}
		if n == 0 {
			fmt.Fprintf(e.stdout, "no %s to redrive\n", strings.TrimPrefix(what, "all "))
			return exitOK
		}
		if !*yes {
			fmt.Fprintf(e.stderr, "Move %d %s back to %s? %d of them hold no code that can still be sent (removed or expired); the mailer will count and drop those. [y/N] ", n, what, q.SendQueue, unsendable)
			answer, _ := bufio.NewReader(stdin).ReadString('\n')
			if a := strings.ToLower(strings.TrimSpace(answer)); a != "y" && a != "yes" {
				fmt.Fprintln(e.stderr, "otpctl: not confirmed; nothing moved (use --yes in scripts)")
				return exitProblems
			}
		}
		moved, err := q.Redrive(ctx, *reason)
		if err != nil && !errors.Is(err, ops.ErrNothingToRedrive) {
			return fail(e, err)
		}
		if e.json {
			writeJSON(e.stdout, map[string]any{"moved": moved, "reason": *reason, "queue": q.SendQueue})
		} else {
			fmt.Fprintf(e.stdout, "moved %d dead letters to %s\n", moved, q.SendQueue)
		}
		return exitOK
	}
}

func dash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

func oneLine(s string, n int) string {
	s = strings.Join(strings.Fields(s), " ")
	if len(s) > n {
		return s[:n-1] + "…"
	}
	return s
}
