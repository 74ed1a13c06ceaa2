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

	"github.com/aws/aws-sdk-go-v2/service/cloudwatch"
	"github.com/aws/aws-sdk-go-v2/service/sqs"

	"github.com/cognito-email-otp/cognito-email-otp/mailer"
	"github.com/cognito-email-otp/cognito-email-otp/mailer/ops"
)

// stdin answers redrive's confirmation; tests replace it.
var stdin io.Reader = os.Stdin

// openQueues connects to the queues the global flags name.
func openQueues(ctx context.Context, g *globals) (ops.Queues, error) {
	cfg, err := g.config(ctx)
	if err != nil {
		return ops.Queues{}, err
	}
	return ops.Open(ctx, sqs.NewFromConfig(cfg), g.queue, g.dlq)
}

func fail(e env, err error) int {
	fmt.Fprintln(e.stderr, "otpctl:", err)
	return exitProblems
}

// queueStatus prints both queues' depth (SQS) and the age of their oldest
// message (CloudWatch). Exit 1 when the dead-letter queue holds anything,
// so a script can page on it.
func queueStatus(fs *flag.FlagSet) func(context.Context, env, []string) int {
	return func(ctx context.Context, e env, args []string) int {
		if len(args) > 0 {
			return usageError(e, "queue status takes no arguments")
		}
		cfg, err := e.aws.config(ctx)
		if err != nil {
			return fail(e, err)
		}
		q, err := ops.Open(ctx, sqs.NewFromConfig(cfg), e.aws.queue, e.aws.dlq)
		if err != nil {
			return fail(e, err)
		}
		status, err := q.Status(ctx)
		if err != nil {
			return fail(e, err)
		}
		// The age is CloudWatch's; without it the depths still stand, and
		// the exit status stays theirs.
		if err := ops.OldestAges(ctx, cloudwatch.NewFromConfig(cfg), status, time.Now()); err != nil {
			fmt.Fprintln(e.stderr, "otpctl:", err)
		}
		if e.json {
			writeJSON(e.stdout, status)
		} else {
			w := tabwriter.NewWriter(e.stdout, 0, 4, 2, ' ', 0)
			fmt.Fprintln(w, "QUEUE\tNAME\tWAITING\tIN FLIGHT\tDELAYED\tOLDEST")
			for _, s := range status {
				fmt.Fprintf(w, "%s\t%s\t%d\t%d\t%d\t%s\n", s.Role, s.Name, s.Visible, s.InFlight, s.Delayed, age(s.OldestAgeSeconds))
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
	max := fs.Int("max", 100, "list at most this many dead letters")
	reason := fs.String("reason", "", "only dead letters with this reason")
	return func(ctx context.Context, e env, args []string) int {
		if len(args) > 0 {
			return usageError(e, "dlq list takes no arguments")
		}
		if err := checkReason(*reason); err != nil {
			return usageError(e, "dlq list: %v", err)
		}
		q, err := openQueues(ctx, e.aws)
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
		// AGE counts from the code's request, IN DLQ from the dead-lettering
		// (queue status's OLDEST for the dead-letter queue is the largest).
		fmt.Fprintln(w, "AGE\tIN DLQ\tREASON\tTENANT\tTO\tREQUEST\tCODE\tTEMPLATE\tERROR")
		for _, d := range shown {
			// The set and version that rendered it, when it was rendered.
			template := "-"
			if d.TemplateSet != "" {
				template = d.TemplateSet + "@" + d.TemplateVersion
			}
			fmt.Fprintf(w, "%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n", d.Age, dash(d.InQueue), d.Reason, dash(d.Tenant), dash(d.To), dash(d.RequestID), d.CodeState(), template, dash(oneLine(errorOf(d), 80)))
		}
		_ = w.Flush()
		fmt.Fprintln(e.stdout, count(len(shown), "dead letter", "dead letters"))
		return exitOK
	}
}

func dlqRedrive(fs *flag.FlagSet) func(context.Context, env, []string) int {
	reason := fs.String("reason", "", "only dead letters with this reason (default: all)")
	yes := fs.Bool("yes", false, "do not ask for confirmation")
	return func(ctx context.Context, e env, args []string) int {
		if len(args) > 0 {
			return usageError(e, "dlq redrive takes no arguments")
		}
		if err := checkReason(*reason); err != nil {
			return usageError(e, "dlq redrive: %v", err)
		}
		q, err := openQueues(ctx, e.aws)
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
		if n == 0 {
			if *reason != "" {
				fmt.Fprintf(e.stdout, "no dead letters with reason %s to redrive\n", *reason)
			} else {
				fmt.Fprintln(e.stdout, "no dead letters to redrive")
			}
			return exitOK
		}
		if !*yes {
			fmt.Fprintf(e.stderr, "%s [y/N] ", redrivePrompt(n, unsendable, *reason, q.SendQueue))
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
			fmt.Fprintf(e.stdout, "moved %s to %s\n", count(moved, "dead letter", "dead letters"), q.SendQueue)
		}
		return exitOK
	}
}

// age prints CloudWatch's age of the oldest message, "–" without a
// datapoint.
func age(seconds *float64) string {
	if seconds == nil {
		return "–"
	}
	return (time.Duration(*seconds) * time.Second).String()
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

// checkReason refuses a --reason no dead letter can have: a typo would
// otherwise list nothing, or redrive nothing, and look like good news.
func checkReason(reason string) error {
	if reason == "" {
		return nil
	}
	var valid []string
	for _, r := range mailer.Reasons {
		if string(r) == reason {
			return nil
		}
		valid = append(valid, string(r))
	}
	return fmt.Errorf("unknown --reason %q; the reasons are %s", reason, strings.Join(valid, ", "))
}

// redrivePrompt is the question dlq redrive asks, in one sentence per fact.
func redrivePrompt(n, unsendable int, reason, queue string) string {
	what := count(n, "dead letter", "dead letters")
	if reason != "" {
		what += " with reason " + reason
	} else if n > 1 {
		what = "all " + what
	}
	q := fmt.Sprintf("Move %s back to %s?", what, queue)
	switch {
	case unsendable == 0:
		return q
	case unsendable == n && n == 1:
		return q + " It holds no code that can still be sent (removed or expired): the mailer will count it and drop it."
	case unsendable == n:
		return q + " None of them holds a code that can still be sent (removed or expired): the mailer will count them and drop them."
	default:
		return q + fmt.Sprintf(" %s no code that can still be sent (removed or expired): the mailer will count and drop those.",
			count(unsendable, "of them holds", "of them hold"))
	}
}

// count says "1 dead letter" and "2 dead letters".
func count(n int, one, many string) string {
	if n == 1 {
		return "1 " + one
	}
	return fmt.Sprintf("%d %s", n, many)
}

// errorOf is a dead letter's error, or for one SQS's redrive policy moved
// (the mailer never saw its last receive through) where to look instead.
func errorOf(d ops.DeadLetter) string {
	if d.Error == "" && d.MovedBySQS {
		return fmt.Sprintf("moved by the queue's redrive policy after %d receives; the mailer's logs for this request hold the errors", d.ReceiveCount)
	}
	return d.Error
}
