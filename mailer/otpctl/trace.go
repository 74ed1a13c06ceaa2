package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	cwl "github.com/aws/aws-sdk-go-v2/service/cloudwatchlogs"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"
	"github.com/aws/aws-sdk-go-v2/service/sesv2"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	"github.com/aws/smithy-go"

	"github.com/cognito-email-otp/cognito-email-otp/internal/pseudonym"
	"github.com/cognito-email-otp/cognito-email-otp/mailer/contract"
	"github.com/cognito-email-otp/cognito-email-otp/mailer/ops"
	"github.com/cognito-email-otp/cognito-email-otp/mailer/trace"
	smsecret "github.com/cognito-email-otp/cognito-email-otp/triggers/secret"
)

// init lists trace after the user commands, the other per-user look-up.
func init() {
	at := len(commands)
	for i, c := range commands {
		if c.name == "user unlock" {
			at = i + 1
		}
	}
	commands = slices.Insert(commands, at, command{name: "trace", args: "ADDRESS|REQUEST-ID [--since 1h] [--stack NAME | --log-groups G,G] [--hmac-secret ID]",
		summary: "what became of the codes sent to one address (or one request): enqueued, sent, delivered or bounced, dead-lettered, with the gaps; and SES's suppression list; exit 1 if nothing was found", flags: traceCmd})
}

// localLogGroups are otp-local's log groups of the functions a trace
// reads: the Create trigger's (enqueued), the mailer's (sent,
// dead-lettered) and the feedback function's (SES's delivery events).
var localLogGroups = []string{"/aws/lambda/otp-create", "/aws/lambda/otp-mailer", "/aws/lambda/otp-feedback"}

// stackFunctions are the logical ids, in deploy/template.yaml, of the
// functions whose log groups a trace reads. Without a FunctionName,
// CloudFormation names a function <stack>-<logical id>-<random suffix>,
// and Lambda logs to /aws/lambda/<that name>.
var stackFunctions = []string{"CreateFunction", "MailerFunction", "FeedbackFunction"}

// LogGroupsAPI is what finding a stack's log groups needs.
type logGroupsAPI interface {
	DescribeLogGroups(ctx context.Context, in *cwl.DescribeLogGroupsInput, opts ...func(*cwl.Options)) (*cwl.DescribeLogGroupsOutput, error)
}

// stackLogGroups finds the log groups of the stack's functions by the
// names CloudFormation gives them.
func stackLogGroups(ctx context.Context, api logGroupsAPI, stack string) ([]string, error) {
	prefix := "/aws/lambda/" + stack + "-"
	var names []string
	p := cwl.NewDescribeLogGroupsPaginator(api, &cwl.DescribeLogGroupsInput{LogGroupNamePrefix: aws.String(prefix)})
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			return nil, fmt.Errorf("list the log groups of stack %s (logs:DescribeLogGroups): %w", stack, err)
		}
		for _, g := range page.LogGroups {
			names = append(names, aws.ToString(g.LogGroupName))
		}
	}
	var out []string
	for _, fn := range stackFunctions {
		for _, n := range names {
			if strings.HasPrefix(strings.TrimPrefix(n, prefix), fn+"-") {
				out = append(out, n)
			}
		}
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("stack %s: no log group named %s{%s}-…; give the groups with --log-groups (the stack's TraceLogGroups output)",
			stack, prefix, strings.Join(stackFunctions, ","))
	}
	return out, nil
}

func traceCmd(fs *flag.FlagSet) func(context.Context, env, []string) int {
	since := fs.Duration("since", time.Hour, "how far back to look")
	stack := fs.String("stack", envOr("OTP_STACK", ""), "the SAM stack's name: trace reads its functions' log groups (logs:DescribeLogGroups finds them); env OTP_STACK")
	groups := fs.String("log-groups", envOr("OTP_LOG_GROUPS", ""),
		"the log groups to search, comma-separated (the stack's TraceLogGroups output); default otp-local's "+strings.Join(localLogGroups, ",")+"; env OTP_LOG_GROUPS")
	hmacSecret := fs.String("hmac-secret", envOr("OTP_HMAC_SECRET_ARN", localHMACSecret),
		"the HMAC key's Secrets Manager secret, to compute the address's to_hash; env OTP_HMAC_SECRET_ARN")
	return func(ctx context.Context, e env, args []string) int {
		if len(args) != 1 {
			return usageError(e, "trace takes one address or one request id, got %d arguments", len(args))
		}
		if *since <= 0 {
			return usageError(e, "trace --since %s: want a positive duration such as 1h", *since)
		}
		if *stack != "" && *groups != "" {
			return usageError(e, "trace: give --stack or --log-groups, not both")
		}
		arg := strings.TrimSpace(args[0])
		address := ""
		switch {
		case strings.Contains(arg, "@"):
			if err := contract.ValidateRecipient(arg); err != nil {
				return usageError(e, "trace: %s is not an email address: %v", contract.MaskEmail(arg), err)
			}
			// As the functions hash it: trimmed, in lower case.
			address = pseudonym.NormalizeAddress(arg)
		case !trace.ValidRequestID(arg):
			return usageError(e, "trace: %q is neither an email address nor a request id (the request_id of the functions' log lines)", arg)
		}
		cfg, err := e.aws.config(ctx)
		if err != nil {
			return fail(e, err)
		}
		logs := cwl.NewFromConfig(cfg)
		end := time.Now()
		report := trace.Report{Since: since.String(), Start: end.Add(-*since), End: end}
		switch {
		case *stack != "":
			if report.LogGroups, err = stackLogGroups(ctx, logs, *stack); err != nil {
				return fail(e, err)
			}
		case *groups != "":
			for _, g := range strings.Split(*groups, ",") {
				if g = strings.TrimSpace(g); g != "" && !slices.Contains(report.LogGroups, g) {
					report.LogGroups = append(report.LogGroups, g)
				}
			}
		default:
			report.LogGroups = localLogGroups
		}
		q := trace.Query{Groups: report.LogGroups, Start: report.Start, End: report.End}
		if address != "" {
			// The logs name the recipient by its keyed hash only; a rotation
			// changes the hash, so the previous key's is searched too.
			cur, prev, err := smsecret.Source{Client: secretsmanager.NewFromConfig(cfg), ID: *hmacSecret}.Keys(ctx)
			if err != nil {
				return fail(e, fmt.Errorf("read the HMAC key (%s, secretsmanager:GetSecretValue) to compute the address's to_hash: %w", *hmacSecret, err))
			}
			q.ToHashes = []string{pseudonym.ToHash(cur, address)}
			if len(prev) > 0 {
				q.ToHashes = append(q.ToHashes, pseudonym.ToHash(prev, address))
			}
			report.Address, report.ToHashes = contract.MaskEmail(address), q.ToHashes
		} else {
			q.RequestID, report.RequestID = arg, arg
		}
		res, err := trace.Search(ctx, logs, q)
		if err != nil {
			var api smithy.APIError
			switch {
			case errors.Is(err, trace.ErrNoLogGroups):
				return fail(e, fmt.Errorf("%w; on AWS give --stack NAME or --log-groups (the stack's TraceLogGroups output)", err))
			case errors.As(err, &api) && strings.Contains(api.ErrorCode(), "AccessDenied"):
				return fail(e, fmt.Errorf("%w (the caller needs logs:FilterLogEvents on the log groups)", err))
			}
			return fail(e, err)
		}
		report.Result = res
		// What is still in the dead-letter queue, for requests the logs
		// show (and for a request id, even one they no longer show).
		if res.Found() || q.RequestID != "" {
			if letters, err := deadLetters(ctx, e.aws, sqs.NewFromConfig(cfg)); err != nil {
				report.Warnings = append(report.Warnings, "the dead-letter queue was not read: "+contract.ScrubAddresses(err.Error()))
			} else {
				report.AttachDeadLetters(letters, q.RequestID)
			}
		}
		if address != "" {
			s := trace.LookupSuppression(ctx, sesv2.NewFromConfig(cfg), address)
			report.Suppression = &s
		}
		report.Found = report.Result.Found()
		if e.json {
			if report.Requests == nil {
				report.Requests = []trace.Request{}
			}
			writeJSON(e.stdout, report)
		} else {
			report.WriteText(e.stdout)
		}
		if !report.Found {
			return exitProblems
		}
		return exitOK
	}
}

// maxDeadLetters is how many dead letters a trace looks through.
const maxDeadLetters = 500

func deadLetters(ctx context.Context, g *globals, client *sqs.Client) ([]ops.DeadLetter, error) {
	q, err := ops.Open(ctx, client, g.queue, g.dlq)
	if err != nil {
		return nil, err
	}
	// otp-local answers a short poll from every message, not from a sample
	// of servers as SQS does, so it needs no second's wait.
	q.ShortPoll = g.endpoint != ""
	return q.ListDeadLetters(ctx, maxDeadLetters, time.Now())
}
