package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"strings"
	"text/tabwriter"

	"github.com/aws/aws-sdk-go-v2/service/lambda"
	"github.com/aws/aws-sdk-go-v2/service/sesv2"
	"github.com/aws/aws-sdk-go-v2/service/sqs"

	"github.com/cognito-email-otp/cognito-email-otp/mailer/doctor"
)

// doctorCmd checks a deployment before its first sign-in. Exit 1 on any
// failure (and with --strict on a warning), so a deploy pipeline can gate
// on it.
func doctorCmd(fs *flag.FlagSet) func(context.Context, env, []string) int {
	templatesDir := fs.String("templates-dir", "", "the template sets shipped with the mailer (its OTP_TEMPLATES_DIR), layered over the embedded ones as templates check does")
	from := fs.String("from", os.Getenv("OTP_FROM_ADDRESS"), "the mailer's OTP_FROM_ADDRESS, the sender of sets that name none (read from the function with --function); env OTP_FROM_ADDRESS")
	configSet := fs.String("configuration-set", os.Getenv("OTP_SES_CONFIGURATION_SET"), "the mailer's OTP_SES_CONFIGURATION_SET (read from the function with --function); env OTP_SES_CONFIGURATION_SET")
	function := fs.String("function", "", "the mailer Lambda's name or ARN: check its timeout, environment and event source mapping (otp-local: otp-mailer)")
	strict := fs.Bool("strict", false, "exit 1 on warnings too")
	return func(ctx context.Context, e env, args []string) int {
		if len(args) > 0 {
			return usageError(e, "doctor takes no arguments, got %q", args)
		}
		cfg, err := e.aws.config(ctx)
		if errors.Is(err, errNoRegion) {
			// Every check would fail alike without one; say it once.
			return usageError(e, "doctor: %v", err)
		}
		if err != nil {
			return fail(e, err)
		}
		r := doctor.Run(ctx, doctor.Config{
			SES: sesv2.NewFromConfig(cfg), SQS: sqs.NewFromConfig(cfg), Lambda: lambda.NewFromConfig(cfg), Region: cfg.Region,
			Templates: sourcesFor(*templatesDir), FromAddress: *from, ConfigurationSet: *configSet,
			SendQueue: e.aws.queue, DeadLetterQueue: e.aws.dlq, Function: *function,
		})
		if e.json {
			writeJSON(e.stdout, r)
		} else {
			printDoctor(e, r)
		}
		if !r.OK || (*strict && r.Warnings > 0) {
			return exitProblems
		}
		return exitOK
	}
}

func printDoctor(e env, r doctor.Report) {
	w := tabwriter.NewWriter(e.stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(w, "CHECK\tSTATE\tWHAT TO DO")
	for _, c := range r.Checks {
		name := c.Check
		if c.Subject != "" {
			name += " " + c.Subject
		}
		state, todo := string(c.State), c.Detail
		if c.State == doctor.Fail || c.State == doctor.Warn {
			state = strings.ToUpper(state)
			if c.Fix != "" {
				todo += " → " + c.Fix
			}
		}
		fmt.Fprintf(w, "%s\t%s\t%s\n", name, state, todo)
	}
	_ = w.Flush()
	plural := func(n int, word string) string {
		if n == 1 {
			return fmt.Sprintf("%d %s", n, word)
		}
		return fmt.Sprintf("%d %ss", n, word)
	}
	verdict := "ready for the first sign-in"
	if !r.OK {
		verdict = "not ready: fix the failures above"
	}
	fmt.Fprintf(e.stdout, "%s, %s in %s: %s\n", plural(r.Failures, "failure"), plural(r.Warnings, "warning"), orRegion(r.Region), verdict)
}

func orRegion(region string) string {
	if region == "" {
		return "no region"
	}
	return region
}
