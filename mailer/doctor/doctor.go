// Package doctor checks a deployment before its first sign-in: that SES
// will send from every template set's sender, signed with DKIM, out of the
// sandbox; that the send queue redrives to its dead-letter queue; and that
// the mailer's event source mapping is wired as the mailer needs it. It
// reads only (Get and List calls), so it is safe to run against
// production, and it runs every check whatever an earlier one found, so
// one run lists everything to fix.
//
// otpctl doctor prints a Report; otp-local answers every call it makes.
package doctor

import (
	"context"
	"errors"
	"fmt"
	"net/mail"
	"strings"

	"github.com/aws/aws-sdk-go-v2/service/lambda"
	"github.com/aws/aws-sdk-go-v2/service/sesv2"
	"github.com/aws/aws-sdk-go-v2/service/sqs"

	"github.com/cognito-email-otp/cognito-email-otp/templates"
)

// SESAPI is the SES v2 calls the checks make.
type SESAPI interface {
	GetAccount(ctx context.Context, in *sesv2.GetAccountInput, opts ...func(*sesv2.Options)) (*sesv2.GetAccountOutput, error)
	GetEmailIdentity(ctx context.Context, in *sesv2.GetEmailIdentityInput, opts ...func(*sesv2.Options)) (*sesv2.GetEmailIdentityOutput, error)
	GetConfigurationSet(ctx context.Context, in *sesv2.GetConfigurationSetInput, opts ...func(*sesv2.Options)) (*sesv2.GetConfigurationSetOutput, error)
	GetTenant(ctx context.Context, in *sesv2.GetTenantInput, opts ...func(*sesv2.Options)) (*sesv2.GetTenantOutput, error)
	ListTenantResources(ctx context.Context, in *sesv2.ListTenantResourcesInput, opts ...func(*sesv2.Options)) (*sesv2.ListTenantResourcesOutput, error)
}

// SQSAPI is the SQS calls the checks make.
type SQSAPI interface {
	GetQueueUrl(ctx context.Context, in *sqs.GetQueueUrlInput, opts ...func(*sqs.Options)) (*sqs.GetQueueUrlOutput, error)
	GetQueueAttributes(ctx context.Context, in *sqs.GetQueueAttributesInput, opts ...func(*sqs.Options)) (*sqs.GetQueueAttributesOutput, error)
}

// LambdaAPI is the Lambda calls the checks make.
type LambdaAPI interface {
	GetFunctionConfiguration(ctx context.Context, in *lambda.GetFunctionConfigurationInput, opts ...func(*lambda.Options)) (*lambda.GetFunctionConfigurationOutput, error)
	ListEventSourceMappings(ctx context.Context, in *lambda.ListEventSourceMappingsInput, opts ...func(*lambda.Options)) (*lambda.ListEventSourceMappingsOutput, error)
}

// Config is what to check and with which clients.
type Config struct {
	SES    SESAPI
	SQS    SQSAPI
	Lambda LambdaAPI // needed only with Function
	// Region names the region in findings; the clients decide where calls go.
	Region string
	// Templates are the sets the mailer loads, layered as it layers them
	// (templates.Embedded, then OTP_TEMPLATES_DIR's).
	Templates []templates.Source
	// Library, when set, is those sets already loaded; Templates is then
	// not read. Loading renders every set and locale, which takes a while.
	Library *templates.Library
	// FromAddress is the mailer's OTP_FROM_ADDRESS, the sender of sets that
	// name none, and ConfigurationSet its OTP_SES_CONFIGURATION_SET, as the
	// operator gives them. With Function, the function's own environment
	// is what the mailer uses, so it is what gets checked.
	FromAddress      string
	ConfigurationSet string
	// SendQueue and DeadLetterQueue are names or URLs.
	SendQueue, DeadLetterQueue string
	// Function is the mailer Lambda's name or ARN; empty skips the
	// function and mapping checks (and compares no timeout).
	Function string
}

// State is a check's outcome.
type State string

const (
	OK   State = "ok"
	Warn State = "warn" // works today, needs attention (probation, a filling quota, a stale flag); exit status 0
	Fail State = "fail" // sign-ins will fail or emails go missing
	Skip State = "skip" // not checked: the input it needs was not given or not found
)

// Check names, stable for scripts reading --json.
const (
	CheckProductionAccess = "ses.production_access"
	CheckSending          = "ses.sending"
	CheckQuota            = "ses.quota"
	CheckTemplates        = "templates"
	CheckMailerFrom       = "mailer.from"
	CheckMailerConfigSet  = "mailer.configuration_set"
	CheckSender           = "ses.sender"
	CheckDKIM             = "ses.dkim"
	CheckConfigurationSet = "ses.configuration_set"
	CheckTenant           = "ses.tenant"           // the SES tenant a set names exists and sends
	CheckTenantResources  = "ses.tenant_resources" // its identity and configuration set are associated with it
	CheckQueue            = "sqs.queue"
	CheckDeadLetterQueue  = "sqs.dlq"
	CheckRedrive          = "sqs.redrive"
	CheckVisibility       = "sqs.visibility"
	CheckFunction         = "lambda.function"
	CheckMapping          = "lambda.mapping"
)

// Result is one row of the report.
type Result struct {
	Check string `json:"check"`
	// Subject is what the check was about: a template set, a queue, a
	// function, a configuration set.
	Subject string `json:"subject,omitempty"`
	// Address is the sender, for ses.sender and ses.dkim.
	Address string `json:"address,omitempty"`
	State   State  `json:"state"`
	Detail  string `json:"detail"`
	Fix     string `json:"fix,omitempty"`
}

// Quota is the account's sending quota; -1 is unlimited.
type Quota struct {
	Max24HourSend   float64 `json:"max24HourSend"`
	SentLast24Hours float64 `json:"sentLast24Hours"`
	MaxSendRate     float64 `json:"maxSendRate"`
}

// Report is every check's result, in the order a reader fixes them.
type Report struct {
	// OK: no check failed (warnings allowed).
	OK       bool     `json:"ok"`
	Region   string   `json:"region"`
	Failures int      `json:"failures"`
	Warnings int      `json:"warnings"`
	Quota    *Quota   `json:"quota,omitempty"`
	Checks   []Result `json:"checks"`
}

func (r *Report) add(res ...Result) { r.Checks = append(r.Checks, res...) }

// Run makes every check. It fails no check for a slow answer; ctx bounds
// the whole run.
func Run(ctx context.Context, c Config) Report {
	r := Report{Region: c.Region, Checks: []Result{}}
	d := &doctor{Config: c, identities: map[string]identity{}, tenantCache: map[string]tenant{}}

	// The function first, out of order: its environment says which sender
	// and configuration set the mailer really uses.
	var fn *function
	var fnRow Result
	if c.Function != "" {
		fn, fnRow = d.function(ctx)
	}

	r.add(d.account(ctx, &r)...)
	from, fromRows := d.effective(fn, "OTP_FROM_ADDRESS", c.FromAddress, "--from", CheckMailerFrom, sameAddress)
	configSet, csRows := d.effective(fn, "OTP_SES_CONFIGURATION_SET", c.ConfigurationSet, "--configuration-set", CheckMailerConfigSet,
		func(a, b string) bool { return a == b })
	r.add(fromRows...)
	r.add(csRows...)
	r.add(d.senders(ctx, from, configSet)...)
	r.add(d.configurationSet(ctx, configSet))

	q := d.queues(ctx, fn)
	r.add(q.rows...)

	if c.Function == "" {
		r.add(Result{Check: CheckFunction, State: Skip, Detail: "no mailer function given (--function): its timeout, event source mapping and environment are not checked"})
	} else {
		r.add(fnRow)
		r.add(d.mappings(ctx, fn, q)...)
	}

	for _, res := range r.Checks {
		switch res.State {
		case Fail:
			r.Failures++
		case Warn:
			r.Warnings++
		}
	}
	r.OK = r.Failures == 0
	return r
}

type doctor struct {
	Config
	identities  map[string]identity // GetEmailIdentity answers, by name
	tenantCache map[string]tenant   // SES tenants, by name
}

// effective picks the value the mailer uses: the function's environment
// when it could be read, else what the operator gave. A disagreement is a
// warning, since the operator's picture of the deployment is wrong.
func (d *doctor) effective(fn *function, key, given, flag, check string, same func(a, b string) bool) (string, []Result) {
	if fn == nil || fn.env == nil {
		return given, nil
	}
	actual, ok := fn.env[key]
	if !ok {
		return given, nil
	}
	if given != "" && !same(given, actual) {
		return actual, []Result{{Check: check, Subject: d.Function, State: Warn,
			Detail: fmt.Sprintf("%s's %s is %q, but %s says %q; checked %q, what the mailer uses", d.Function, key, actual, flag, given, actual),
			Fix:    fmt.Sprintf("drop %s, or set the function's %s to the value you meant", flag, key)}}
	}
	return actual, nil
}

func sameAddress(a, b string) bool {
	pa, errA := mail.ParseAddress(a)
	pb, errB := mail.ParseAddress(b)
	if errA != nil || errB != nil {
		return a == b
	}
	return strings.EqualFold(pa.Address, pb.Address)
}

// describe turns an error into a finding: the call, and what AWS said.
func describe(call string, err error) string {
	return fmt.Sprintf("%s failed: %v", call, err)
}

// permissionFix is the fix for a call that failed for a reason the checks
// do not know: usually credentials, the region or IAM.
func permissionFix(action string) string {
	return "check the credentials, the region and that they allow " + action + "; then run doctor again"
}

// is reports whether err is an AWS error of type T.
func is[T error](err error) bool {
	var target T
	return errors.As(err, &target)
}
