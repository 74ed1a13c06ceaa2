package otplocal

import (
	"errors"
	"fmt"
	"strings"

	"github.com/cognito-email-otp/cognito-email-otp/deploy/local/awslocal"
	"github.com/cognito-email-otp/cognito-email-otp/deploy/local/esm"
	"github.com/cognito-email-otp/cognito-email-otp/deploy/local/seslocal"
	"github.com/cognito-email-otp/cognito-email-otp/mailer"
)

// What otp-local's account looks like to a deployment check (otpctl
// doctor): the SES identities and sandbox, and the mailer as Lambda's API
// reports it.

// MailerFunction is the mailer's name in otp-local's Lambda API.
const MailerFunction = "otp-mailer"

// mailerMemoryMB is the SAM template's MemorySize for the mailer; otp-local
// limits no memory, so it reports the deployment's figure.
const mailerMemoryMB = 256

// sesOptions describes the SES account from the seed, and the sandbox from
// the seed or Options.SESSandbox.
func (o Options) sesOptions(outboxDir string) (seslocal.Options, error) {
	acct := o.Seed.ses()
	// An account without identities refuses every sender; a seed that says
	// "ses" but lists none is more likely a mistake than that wish (and
	// seslocal would take it as no account described, accepting anything).
	if len(acct.Identities) == 0 {
		return seslocal.Options{}, errors.New("otp-local: seed: ses lists no identities, so SES would refuse every email; name the sending domains, or leave ses out for the default seed's")
	}
	opts := seslocal.Options{DataDir: outboxDir, Faults: o.SES, RejectRecipients: o.SESRejectRecipients,
		ConfigurationSets: acct.ConfigurationSets, Sandbox: acct.Sandbox || o.SESSandbox, Region: awslocal.Region}
	for _, id := range acct.Identities {
		opts.Identities = append(opts.Identities, seslocal.Identity{
			Name: id.Name, Status: id.Status, DKIMSigningDisabled: id.DKIM != nil && !*id.DKIM,
		})
	}
	arn := func(kind, name string) string {
		return seslocal.ARN(awslocal.Region, seslocal.DefaultAccountID, kind, name)
	}
	for _, t := range acct.Tenants {
		tenant := seslocal.Tenant{Name: t.Name}
		for _, id := range t.Identities {
			tenant.Resources = append(tenant.Resources, arn("identity", id))
		}
		for _, cs := range t.ConfigurationSets {
			tenant.Resources = append(tenant.Resources, arn("configuration-set", cs))
		}
		opts.Tenants = append(opts.Tenants, tenant)
	}
	return opts, nil
}

// mailerEnv is the environment the SAM template gives the mailer, for this
// otp-local: what the real binary runs with (--functions) and what
// GetFunctionConfiguration reports.
func mailerEnv(m mailer.Config) []string {
	env := []string{
		"OTP_DLQ_URL=" + m.DLQURL, "OTP_FROM_ADDRESS=" + m.FromAddress, fmt.Sprintf("OTP_CONCURRENCY=%d", m.Concurrency),
		"OTP_RETRY_BUDGET=" + m.RetryBudget.String(), "OTP_METRICS_NAMESPACE=" + m.MetricsNamespace,
		fmt.Sprintf("OTP_MAX_RECEIVES=%d", m.MaxReceives),
	}
	if m.ConfigurationSet != "" {
		env = append(env, "OTP_SES_CONFIGURATION_SET="+m.ConfigurationSet)
	}
	return env
}

// lambdaAPI is otp-local's Lambda API. routes serves it before the
// functions start; publishMailer adds the mapping once it exists.
func (sys *System) lambdaAPI() *esm.API {
	if sys.lambda == nil {
		sys.lambda = esm.NewAPI()
	}
	return sys.lambda
}

// publishMailer describes the mailer to Lambda's API, as the SAM template
// deploys it, and publishes the mapping there. Call it before the mapping
// runs.
func (sys *System) publishMailer(m mailer.Config) {
	c := &sys.Mapping.Config
	c.FunctionName, c.MemorySize = MailerFunction, mailerMemoryMB
	c.Environment = map[string]string{}
	for _, kv := range mailerEnv(m) {
		k, v, _ := strings.Cut(kv, "=")
		c.Environment[k] = v
	}
	sys.lambdaAPI().Add(sys.Mapping)
}
