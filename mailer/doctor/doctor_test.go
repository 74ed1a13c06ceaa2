package doctor

import (
	"context"
	"errors"
	"io/fs"
	"os"
	"strings"
	"sync"
	"testing"
	"testing/fstest"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/lambda"
	lambdatypes "github.com/aws/aws-sdk-go-v2/service/lambda/types"
	"github.com/aws/aws-sdk-go-v2/service/sesv2"
	sestypes "github.com/aws/aws-sdk-go-v2/service/sesv2/types"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	sqstypes "github.com/aws/aws-sdk-go-v2/service/sqs/types"
	"github.com/aws/smithy-go"

	"github.com/cognito-email-otp/cognito-email-otp/templates"
)

const (
	sendARN = "arn:aws:sqs:eu-west-1:123456789012:otp-send"
	dlqARN  = "arn:aws:sqs:eu-west-1:123456789012:otp-send-dlq"
	baseURL = "https://sqs.eu-west-1.amazonaws.com/123456789012/"
)

// world is a fake account: what SES, SQS and Lambda answer. It starts as
// a deployment with nothing wrong; each case breaks one thing.
type world struct {
	account    sesv2.GetAccountOutput
	identities map[string]*sesv2.GetEmailIdentityOutput
	configSets map[string]*sesv2.GetConfigurationSetOutput
	tenants    map[string]*sestypes.Tenant
	resources  map[string][]string          // tenant -> associated ARNs
	queues     map[string]map[string]string // name -> attributes
	fn         *lambda.GetFunctionConfigurationOutput
	mappings   []lambdatypes.EventSourceMappingConfiguration
	fail       map[string]error // operation -> error
}

func domainIdentity() *sesv2.GetEmailIdentityOutput {
	return &sesv2.GetEmailIdentityOutput{IdentityType: sestypes.IdentityTypeDomain, VerifiedForSendingStatus: true,
		VerificationStatus: sestypes.VerificationStatusSuccess,
		DkimAttributes:     &sestypes.DkimAttributes{SigningEnabled: true, Status: sestypes.DkimStatusSuccess}}
}

func healthy() *world {
	return &world{
		account: sesv2.GetAccountOutput{ProductionAccessEnabled: true, SendingEnabled: true, EnforcementStatus: aws.String("HEALTHY"),
			SendQuota: &sestypes.SendQuota{Max24HourSend: 50000, MaxSendRate: 14, SentLast24Hours: 120}},
		identities: map[string]*sesv2.GetEmailIdentityOutput{
			"acme.example": domainIdentity(), "globex.example": domainIdentity(), "example.com": domainIdentity(),
		},
		configSets: map[string]*sesv2.GetConfigurationSetOutput{"otp": {SendingOptions: &sestypes.SendingOptions{SendingEnabled: true}}},
		tenants: map[string]*sestypes.Tenant{"globex": {TenantName: aws.String("globex"), SendingStatus: sestypes.SendingStatusEnabled,
			TenantArn: aws.String("arn:aws:ses:eu-west-1:123456789012:tenant/globex/tn-1")}},
		resources: map[string][]string{"globex": {
			"arn:aws:ses:eu-west-1:123456789012:identity/globex.example",
			"arn:aws:ses:eu-west-1:123456789012:configuration-set/otp",
		}},
		queues: map[string]map[string]string{
			"otp-send": {"QueueArn": sendARN, "VisibilityTimeout": "90",
				"RedrivePolicy": `{"deadLetterTargetArn":"` + dlqARN + `","maxReceiveCount":5}`},
			"otp-send-dlq": {"QueueArn": dlqARN},
		},
		fn: &lambda.GetFunctionConfigurationOutput{FunctionName: aws.String("mailer"), Timeout: aws.Int32(15), MemorySize: aws.Int32(256),
			Runtime: lambdatypes.RuntimeProvidedal2023, State: lambdatypes.StateActive,
			Environment: &lambdatypes.EnvironmentResponse{Variables: map[string]string{
				"OTP_FROM_ADDRESS": "Example <no-reply@example.com>", "OTP_SES_CONFIGURATION_SET": "otp",
				"OTP_DLQ_URL": baseURL + "otp-send-dlq", "OTP_MAX_RECEIVES": "5",
			}}},
		mappings: []lambdatypes.EventSourceMappingConfiguration{{UUID: aws.String("u-1"), State: aws.String("Enabled"), BatchSize: aws.Int32(10),
			FunctionResponseTypes: []lambdatypes.FunctionResponseType{lambdatypes.FunctionResponseTypeReportBatchItemFailures},
			ScalingConfig:         &lambdatypes.ScalingConfig{MaximumConcurrency: aws.Int32(10)}}},
		fail: map[string]error{},
	}
}

func (w *world) GetAccount(context.Context, *sesv2.GetAccountInput, ...func(*sesv2.Options)) (*sesv2.GetAccountOutput, error) {
	if err := w.fail["GetAccount"]; err != nil {
		return nil, err
	}
	out := w.account
	return &out, nil
}

func (w *world) GetEmailIdentity(_ context.Context, in *sesv2.GetEmailIdentityInput, _ ...func(*sesv2.Options)) (*sesv2.GetEmailIdentityOutput, error) {
	if err := w.fail["GetEmailIdentity"]; err != nil {
		return nil, err
	}
	if id, ok := w.identities[aws.ToString(in.EmailIdentity)]; ok {
		return id, nil
	}
	return nil, &sestypes.NotFoundException{Message: aws.String("Identity does not exist.")}
}

func (w *world) GetConfigurationSet(_ context.Context, in *sesv2.GetConfigurationSetInput, _ ...func(*sesv2.Options)) (*sesv2.GetConfigurationSetOutput, error) {
	if cs, ok := w.configSets[aws.ToString(in.ConfigurationSetName)]; ok {
		return cs, nil
	}
	return nil, &sestypes.NotFoundException{Message: aws.String("Configuration set does not exist.")}
}

func (w *world) GetTenant(_ context.Context, in *sesv2.GetTenantInput, _ ...func(*sesv2.Options)) (*sesv2.GetTenantOutput, error) {
	if err := w.fail["GetTenant"]; err != nil {
		return nil, err
	}
	if t, ok := w.tenants[aws.ToString(in.TenantName)]; ok {
		return &sesv2.GetTenantOutput{Tenant: t}, nil
	}
	return nil, &sestypes.NotFoundException{Message: aws.String("Tenant does not exist.")}
}

// ListTenantResources answers one ARN a page, so that doctor's paging is
// exercised by every case with a tenant.
func (w *world) ListTenantResources(_ context.Context, in *sesv2.ListTenantResourcesInput, _ ...func(*sesv2.Options)) (*sesv2.ListTenantResourcesOutput, error) {
	arns := w.resources[aws.ToString(in.TenantName)]
	i := 0
	if in.NextToken != nil {
		i = int(aws.ToString(in.NextToken)[0] - '0')
	}
	out := &sesv2.ListTenantResourcesOutput{}
	if i < len(arns) {
		out.TenantResources = []sestypes.TenantResource{{ResourceArn: aws.String(arns[i])}}
		if i+1 < len(arns) {
			out.NextToken = aws.String(string(rune('0' + i + 1)))
		}
	}
	return out, nil
}

func (w *world) GetQueueUrl(_ context.Context, in *sqs.GetQueueUrlInput, _ ...func(*sqs.Options)) (*sqs.GetQueueUrlOutput, error) {
	if _, ok := w.queues[aws.ToString(in.QueueName)]; !ok {
		return nil, &sqstypes.QueueDoesNotExist{Message: aws.String("The specified queue does not exist.")}
	}
	return &sqs.GetQueueUrlOutput{QueueUrl: aws.String(baseURL + aws.ToString(in.QueueName))}, nil
}

func (w *world) GetQueueAttributes(_ context.Context, in *sqs.GetQueueAttributesInput, _ ...func(*sqs.Options)) (*sqs.GetQueueAttributesOutput, error) {
	attrs, ok := w.queues[strings.TrimPrefix(aws.ToString(in.QueueUrl), baseURL)]
	if !ok {
		return nil, &sqstypes.QueueDoesNotExist{Message: aws.String("The specified queue does not exist.")}
	}
	return &sqs.GetQueueAttributesOutput{Attributes: attrs}, nil
}

func (w *world) GetFunctionConfiguration(_ context.Context, in *lambda.GetFunctionConfigurationInput, _ ...func(*lambda.Options)) (*lambda.GetFunctionConfigurationOutput, error) {
	if w.fn == nil || aws.ToString(in.FunctionName) != aws.ToString(w.fn.FunctionName) {
		return nil, &lambdatypes.ResourceNotFoundException{Message: aws.String("Function not found")}
	}
	return w.fn, nil
}

func (w *world) ListEventSourceMappings(_ context.Context, in *lambda.ListEventSourceMappingsInput, _ ...func(*lambda.Options)) (*lambda.ListEventSourceMappingsOutput, error) {
	if err := w.fail["ListEventSourceMappings"]; err != nil {
		return nil, err
	}
	// One mapping a page, to prove the checks follow NextMarker.
	i := 0
	if in.Marker != nil {
		i = int(aws.ToString(in.Marker)[0] - '0')
	}
	if aws.ToString(in.EventSourceArn) != sendARN || i >= len(w.mappings) {
		return &lambda.ListEventSourceMappingsOutput{}, nil
	}
	out := &lambda.ListEventSourceMappingsOutput{EventSourceMappings: w.mappings[i : i+1]}
	if i+1 < len(w.mappings) {
		out.NextMarker = aws.String(string(rune('0' + i + 1)))
	}
	return out, nil
}

// initech is acme's set renamed, sending from a domain the world has not
// verified.
func initech(t *testing.T) templates.Source {
	t.Helper()
	m := fstest.MapFS{}
	src := os.DirFS("../../templates/sets/acme")
	err := fs.WalkDir(src, ".", func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := fs.ReadFile(src, path)
		if path == "theme.yaml" {
			b = []byte(strings.Replace(string(b), "security@acme.example", "no-reply@initech.example", 1))
		}
		m["initech/"+path] = &fstest.MapFile{Data: b}
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return templates.FromFS("dir initech", m)
}

type want struct {
	check, subject string
	state          State
	has            []string // in Detail + Fix
}

// embedded is the embedded sets, loaded once: a load renders every set
// and locale, too slow to repeat for each case under the race detector.
var embedded = sync.OnceValues(func() (*templates.Library, error) { return templates.Load(templates.Embedded()) })

func TestChecks(t *testing.T) {
	lib, err := embedded()
	if err != nil {
		t.Fatal(err)
	}
	deny := &smithy.GenericAPIError{Code: "AccessDeniedException", Message: "User is not authorized to perform ses:GetAccount"}
	for _, tc := range []struct {
		name   string
		change func(w *world, c *Config)
		want   []want
		ok     bool
	}{
		{name: "a healthy deployment passes every check", ok: true, want: []want{
			{CheckProductionAccess, "", OK, nil}, {CheckSending, "", OK, nil},
			{CheckQuota, "", OK, []string{"sent 120 of 50000", "14 a second"}},
			{CheckSender, "acme", OK, []string{"security@acme.example is verified by the domain identity acme.example"}},
			{CheckDKIM, "acme", OK, []string{"acme.example signs with DKIM"}},
			{CheckSender, "default", OK, []string{"no-reply@example.com"}},
			{CheckTenant, "globex", OK, []string{"sends through the SES tenant globex"}},
			{CheckTenantResources, "globex", OK, []string{"the identity globex.example is associated"}},
			{CheckTenantResources, "globex", OK, []string{"the configuration set otp is associated"}},
			{CheckConfigurationSet, "otp", OK, nil},
			{CheckQueue, "otp-send", OK, nil}, {CheckDeadLetterQueue, "otp-send-dlq", OK, nil},
			{CheckRedrive, "otp-send", OK, []string{"after 5 receives, the mailer's OTP_MAX_RECEIVES"}},
			{CheckVisibility, "otp-send", OK, []string{"90s is at least 6x"}},
			{CheckFunction, "mailer", OK, []string{"timeout 15s, 256 MB, provided.al2023"}},
			{CheckMapping, "mailer", OK, []string{"u-1", "maximum concurrency 10"}},
		}},
		{name: "sandbox", change: func(w *world, _ *Config) { w.account.ProductionAccessEnabled = false },
			want: []want{{CheckProductionAccess, "", Fail, []string{"in the sandbox in eu-west-1", "request production access"}}}},
		{name: "sending paused", change: func(w *world, _ *Config) { w.account.SendingEnabled = false },
			want: []want{{CheckSending, "", Fail, []string{"sending is paused", "sending_paused", "put-account-sending-attributes"}}}},
		{name: "probation", change: func(w *world, _ *Config) { w.account.EnforcementStatus = aws.String("PROBATION") }, ok: true,
			want: []want{{CheckSending, "", Warn, []string{"probation"}}}},
		{name: "daily quota used up", change: func(w *world, _ *Config) { w.account.SendQuota.SentLast24Hours = 50000 },
			want: []want{{CheckQuota, "", Fail, []string{"quota_exceeded", "higher sending quota"}}}},
		{name: "daily quota nearly used", change: func(w *world, _ *Config) { w.account.SendQuota.SentLast24Hours = 45000 }, ok: true,
			want: []want{{CheckQuota, "", Warn, []string{"90% of the daily quota"}}}},
		{name: "an unreadable account", change: func(w *world, _ *Config) { w.fail["GetAccount"] = deny },
			want: []want{{CheckProductionAccess, "", Fail, []string{"SES GetAccount failed", "not authorized", "ses:GetAccount"}}}},
		{name: "a set on an unverified domain is named with its address",
			change: func(_ *world, c *Config) { c.Templates = append(c.Templates, initech(t)) },
			want: []want{
				{CheckSender, "initech", Fail, []string{"set initech sends from no-reply@initech.example", "sender_not_verified", "verify the domain initech.example"}},
				{CheckDKIM, "initech", Skip, nil},
				{CheckSender, "acme", OK, nil},
			}},
		{name: "a pending domain does not cover its addresses", change: func(w *world, _ *Config) {
			w.identities["acme.example"].VerifiedForSendingStatus = false
			w.identities["acme.example"].VerificationStatus = sestypes.VerificationStatusPending
		}, want: []want{{CheckSender, "acme", Fail, []string{"acme.example is pending"}}}},
		{name: "a verified address without its domain is not DKIM-aligned", change: func(w *world, _ *Config) {
			delete(w.identities, "globex.example")
			w.identities["no-reply@globex.example"] = &sesv2.GetEmailIdentityOutput{IdentityType: sestypes.IdentityTypeEmailAddress,
				VerifiedForSendingStatus: true, VerificationStatus: sestypes.VerificationStatusSuccess}
		}, want: []want{
			{CheckSender, "globex", OK, []string{"the address identity no-reply@globex.example"}},
			{CheckDKIM, "globex", Fail, []string{"amazonses.com", "verify the domain globex.example with Easy DKIM"}},
		}},
		{name: "a parent domain covers a subdomain's sender", change: func(w *world, c *Config) {
			w.fn.Environment.Variables["OTP_FROM_ADDRESS"] = "otp@mail.example.com"
		}, ok: true, want: []want{{CheckSender, "default", OK, []string{"otp@mail.example.com is verified by the domain identity example.com"}}}},
		{name: "DKIM signing off", change: func(w *world, _ *Config) { w.identities["acme.example"].DkimAttributes.SigningEnabled = false },
			want: []want{{CheckDKIM, "acme", Fail, []string{"DKIM signing is off for acme.example", "spam"}}}},
		{name: "DKIM records not found yet", change: func(w *world, _ *Config) {
			w.identities["acme.example"].DkimAttributes.Status = sestypes.DkimStatusPending
		}, want: []want{{CheckDKIM, "acme", Fail, []string{"DKIM for acme.example is pending, not SUCCESS", "CNAME"}}}},
		{name: "identities unreadable", change: func(w *world, _ *Config) { w.fail["GetEmailIdentity"] = deny },
			want: []want{{CheckSender, "acme", Fail, []string{"SES GetEmailIdentity security@acme.example failed", "ses:GetEmailIdentity"}}}},
		{name: "no fallback sender known", change: func(w *world, c *Config) { c.Function, c.FromAddress = "", "" },
			want: []want{{CheckSender, "default", Fail, []string{"names no from_address", "--from"}}, {CheckFunction, "", Skip, nil}}},
		{name: "the function's sender wins over --from, with a warning", change: func(_ *world, c *Config) { c.FromAddress = "other@acme.example" }, ok: true,
			want: []want{{CheckMailerFrom, "mailer", Warn, []string{`"Example <no-reply@example.com>", but --from says "other@acme.example"`}},
				{CheckSender, "default", OK, []string{"no-reply@example.com"}}}},
		{name: "a missing configuration set", change: func(w *world, _ *Config) { delete(w.configSets, "otp") },
			want: []want{{CheckConfigurationSet, "otp", Fail, []string{"does not exist in eu-west-1", "ses_bad_request"}}}},
		{name: "a paused configuration set", change: func(w *world, _ *Config) { w.configSets["otp"].SendingOptions.SendingEnabled = false },
			want: []want{{CheckConfigurationSet, "otp", Fail, []string{"paused", "put-configuration-set-sending-options"}}}},
		{name: "no configuration set", change: func(w *world, _ *Config) { w.fn.Environment.Variables["OTP_SES_CONFIGURATION_SET"] = "" }, ok: true,
			want: []want{{CheckConfigurationSet, "", Skip, nil}}},
		{name: "a tenant that does not exist", change: func(w *world, _ *Config) { delete(w.tenants, "globex") },
			want: []want{{CheckTenant, "globex", Fail, []string{"SES tenant globex, which does not exist in eu-west-1", "ses_tenant", "aws sesv2 create-tenant --tenant-name globex"}}}},
		{name: "a tenant without the sender's identity", change: func(w *world, _ *Config) { w.resources["globex"] = w.resources["globex"][1:] },
			want: []want{{CheckTenantResources, "globex", Fail, []string{"identity globex.example is not associated", "ses_tenant",
				"aws sesv2 create-tenant-resource-association --tenant-name globex --resource-arn arn:aws:ses:eu-west-1:123456789012:identity/globex.example"}},
				{CheckTenantResources, "globex", OK, []string{"configuration set otp"}}}},
		{name: "a tenant without the configuration set", change: func(w *world, _ *Config) { w.resources["globex"] = w.resources["globex"][:1] },
			want: []want{{CheckTenantResources, "globex", Fail, []string{"configuration set otp is not associated",
				"--resource-arn arn:aws:ses:eu-west-1:123456789012:configuration-set/otp"}}}},
		{name: "a tenant that holds another identity than the sender's", change: func(w *world, _ *Config) {
			w.resources["globex"][0] = "arn:aws:ses:eu-west-1:123456789012:identity/acme.example"
		}, want: []want{{CheckTenantResources, "globex", Fail, []string{"identity globex.example is not associated"}}}},
		{name: "a paused tenant", change: func(w *world, _ *Config) { w.tenants["globex"].SendingStatus = sestypes.SendingStatusDisabled },
			want: []want{{CheckTenant, "globex", Fail, []string{"sending is paused for the SES tenant globex", "reinstate"}}}},
		{name: "a reinstated tenant", change: func(w *world, _ *Config) { w.tenants["globex"].SendingStatus = sestypes.SendingStatusReinstated }, ok: true,
			want: []want{{CheckTenant, "globex", Warn, []string{"REINSTATED"}}}},
		{name: "tenants unreadable", change: func(w *world, _ *Config) { w.fail["GetTenant"] = deny },
			want: []want{{CheckTenant, "globex", Fail, []string{"SES GetTenant globex failed", "ses:GetTenant"}}}},
		{name: "a missing send queue", change: func(w *world, _ *Config) { delete(w.queues, "otp-send") },
			want: []want{{CheckQueue, "otp-send", Fail, []string{"queue otp-send does not exist", "--queue"}},
				{CheckRedrive, "otp-send", Skip, nil}, {CheckVisibility, "otp-send", Skip, nil}, {CheckMapping, "mailer", Skip, nil}}},
		{name: "queues given as URLs", change: func(_ *world, c *Config) {
			c.SendQueue, c.DeadLetterQueue = baseURL+"otp-send", baseURL+"otp-send-dlq"
		}, ok: true, want: []want{{CheckQueue, "otp-send", OK, nil}, {CheckRedrive, "otp-send", OK, nil}}},
		{name: "a missing dead-letter queue", change: func(w *world, _ *Config) { delete(w.queues, "otp-send-dlq") },
			want: []want{{CheckDeadLetterQueue, "otp-send-dlq", Fail, []string{"--dlq"}}, {CheckRedrive, "otp-send", Skip, nil}}},
		{name: "the mailer dead-letters into another queue", change: func(w *world, _ *Config) {
			w.fn.Environment.Variables["OTP_DLQ_URL"] = baseURL + "old-dlq"
		}, want: []want{{CheckDeadLetterQueue, "otp-send-dlq", Fail, []string{"OTP_DLQ_URL is " + baseURL + "old-dlq"}}}},
		{name: "no redrive policy", change: func(w *world, _ *Config) { delete(w.queues["otp-send"], "RedrivePolicy") },
			want: []want{{CheckRedrive, "otp-send", Fail, []string{"no redrive policy"}}}},
		{name: "a redrive to another queue", change: func(w *world, _ *Config) {
			w.queues["otp-send"]["RedrivePolicy"] = `{"deadLetterTargetArn":"arn:aws:sqs:eu-west-1:123456789012:old-dlq","maxReceiveCount":"5"}`
		}, want: []want{{CheckRedrive, "otp-send", Fail, []string{"redrives to arn:aws:sqs:eu-west-1:123456789012:old-dlq, not to otp-send-dlq"}}}},
		{name: "a redrive without maxReceiveCount", change: func(w *world, _ *Config) {
			w.queues["otp-send"]["RedrivePolicy"] = `{"deadLetterTargetArn":"` + dlqARN + `"}`
		}, want: []want{{CheckRedrive, "otp-send", Fail, []string{"no valid maxReceiveCount"}}}},
		{name: "OTP_MAX_RECEIVES above maxReceiveCount", change: func(w *world, _ *Config) { w.fn.Environment.Variables["OTP_MAX_RECEIVES"] = "6" },
			want: []want{{CheckRedrive, "otp-send", Fail, []string{"codes and all", "set OTP_MAX_RECEIVES to 5"}}}},
		{name: "OTP_MAX_RECEIVES below maxReceiveCount", change: func(w *world, _ *Config) { w.fn.Environment.Variables["OTP_MAX_RECEIVES"] = "3" },
			want: []want{{CheckRedrive, "otp-send", Fail, []string{"2 receives early"}}}},
		{name: "visibility under the function's timeout", change: func(w *world, _ *Config) { w.queues["otp-send"]["VisibilityTimeout"] = "10" },
			want: []want{{CheckVisibility, "otp-send", Fail, []string{"shorter than mailer's timeout 15s", "send its codes again"}}}},
		{name: "visibility under six times the timeout (the SAM template's former 45s)", change: func(w *world, _ *Config) { w.queues["otp-send"]["VisibilityTimeout"] = "45" },
			want: []want{{CheckVisibility, "otp-send", Fail, []string{"3.0x", "at least 6x (90s)", "raise VisibilityTimeout to 90s, as the SAM template has it, or lower the function's timeout to 7s"}}}},
		{name: "visibility without a function to compare", change: func(_ *world, c *Config) { c.Function, c.FromAddress = "", "no-reply@example.com" }, ok: true,
			want: []want{{CheckVisibility, "otp-send", Skip, []string{"VisibilityTimeout 90s"}}}},
		{name: "an unknown function", change: func(_ *world, c *Config) { c.Function, c.FromAddress = "nope", "no-reply@example.com" },
			want: []want{{CheckFunction, "nope", Fail, []string{"function nope does not exist in eu-west-1"}}, {CheckMapping, "nope", Skip, nil},
				{CheckVisibility, "otp-send", Skip, nil}}},
		{name: "a failed function", change: func(w *world, _ *Config) {
			w.fn.State, w.fn.StateReason = lambdatypes.StateFailed, aws.String("subnet gone")
		}, want: []want{{CheckFunction, "mailer", Fail, []string{"Failed, not Active: subnet gone"}}}},
		{name: "no mapping", change: func(w *world, _ *Config) { w.mappings = nil },
			want: []want{{CheckMapping, "mailer", Fail, []string{"no event source mapping from otp-send to mailer", "create-event-source-mapping"}}}},
		{name: "a broken mapping names every problem", change: func(w *world, _ *Config) {
			w.mappings[0].State, w.mappings[0].FunctionResponseTypes, w.mappings[0].ScalingConfig = aws.String("Disabled"), nil, nil
		}, want: []want{{CheckMapping, "mailer", Fail, []string{"Disabled, not Enabled", "lacks ReportBatchItemFailures", "MaximumConcurrency", "--enabled"}}}},
		{name: "every mapping from the queue is checked", change: func(w *world, _ *Config) {
			second := w.mappings[0]
			second.UUID, second.ScalingConfig = aws.String("u-2"), &lambdatypes.ScalingConfig{MaximumConcurrency: aws.Int32(1)}
			w.mappings = append(w.mappings, second)
		}, want: []want{{CheckMapping, "mailer", OK, []string{"u-1"}}, {CheckMapping, "mailer", Fail, []string{"u-2", "at least 2"}}}},
		{name: "mappings unreadable", change: func(w *world, _ *Config) { w.fail["ListEventSourceMappings"] = errors.New("connection refused") },
			want: []want{{CheckMapping, "mailer", Fail, []string{"connection refused", "lambda:ListEventSourceMappings"}}}},
		{name: "broken template sets", change: func(_ *world, c *Config) {
			c.Templates = append(c.Templates, templates.SetDir("../../templates/testdata/broken"))
		},
			want: []want{{CheckTemplates, "", Fail, []string{"templates check"}}}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			w := healthy()
			c := Config{SES: w, SQS: w, Lambda: w, Region: "eu-west-1", Templates: []templates.Source{templates.Embedded()},
				SendQueue: "otp-send", DeadLetterQueue: "otp-send-dlq", Function: "mailer"}
			if tc.change != nil {
				tc.change(w, &c)
			}
			if len(c.Templates) == 1 {
				c.Library = lib
			}
			r := Run(t.Context(), c)
			if r.OK != tc.ok {
				t.Errorf("OK %v, want %v", r.OK, tc.ok)
			}
			used := map[int]bool{}
			for _, wnt := range tc.want {
				found := false
				for i, res := range r.Checks {
					if used[i] || res.Check != wnt.check || res.Subject != wnt.subject || res.State != wnt.state {
						continue
					}
					text := res.Detail + " " + res.Fix
					missing := ""
					for _, s := range wnt.has {
						if !strings.Contains(text, s) {
							missing = s
						}
					}
					if missing == "" {
						found, used[i] = true, true
						break
					}
				}
				if !found {
					t.Errorf("no %s %s %s with %q in:\n%s", wnt.check, wnt.subject, wnt.state, wnt.has, dump(r))
				}
			}
			if tc.ok {
				for _, res := range r.Checks {
					if res.State == Fail {
						t.Errorf("unexpected failure %+v", res)
					}
				}
			}
			// Every finding that asks for work says what to do.
			for _, res := range r.Checks {
				if (res.State == Fail || res.State == Warn) && res.Fix == "" {
					t.Errorf("%s %s: %s without a fix: %s", res.Check, res.Subject, res.State, res.Detail)
				}
			}
			fails, warns := 0, 0
			for _, res := range r.Checks {
				fails += map[bool]int{true: 1}[res.State == Fail]
				warns += map[bool]int{true: 1}[res.State == Warn]
			}
			if r.Failures != fails || r.Warnings != warns {
				t.Errorf("counts %d/%d, rows say %d/%d", r.Failures, r.Warnings, fails, warns)
			}
		})
	}
}

func dump(r Report) string {
	var b strings.Builder
	for _, c := range r.Checks {
		b.WriteString(string(c.State) + "\t" + c.Check + " " + c.Subject + "\t" + c.Detail + " | " + c.Fix + "\n")
	}
	return b.String()
}

func TestCandidates(t *testing.T) {
	for _, tc := range []struct{ addr, want string }{
		{"a@acme.example", "a@acme.example acme.example"},
		{"Otp@Mail.Example.COM", "otp@mail.example.com mail.example.com example.com"},
		{"a@localhost", "a@localhost"},
	} {
		if got := strings.Join(candidates(tc.addr), " "); got != tc.want {
			t.Errorf("candidates(%s) = %s, want %s", tc.addr, got, tc.want)
		}
	}
}
