// Package deploy_test checks the SAM template against the code it deploys:
// the functions the Makefile builds, the environment each function's
// envconfig struct reads, the IAM each function's code needs, and the
// queue, client and alarm settings the design depends on.
package deploy_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"go/build"
	"os"
	"path/filepath"
	"reflect"
	"regexp"
	"slices"
	"sort"
	"strings"
	"testing"

	"github.com/kelseyhightower/envconfig"

	"github.com/cognito-email-otp/cognito-email-otp/deploy/local/health"
	"github.com/cognito-email-otp/cognito-email-otp/mailer"
	"github.com/cognito-email-otp/cognito-email-otp/mailer/feedback"
	"github.com/cognito-email-otp/cognito-email-otp/triggers"
	"github.com/cognito-email-otp/cognito-email-otp/triggers/budget/dynamostore"
	"github.com/cognito-email-otp/cognito-email-otp/triggers/secret"
	"github.com/cognito-email-otp/cognito-email-otp/triggers/sender"
)

func template(t *testing.T) map[string]any {
	t.Helper()
	tpl, err := loadTemplate("template.yaml")
	if err != nil {
		t.Fatal(err)
	}
	return tpl
}

func resource(t *testing.T, tpl map[string]any, name string) map[string]any {
	t.Helper()
	r, ok := tpl["Resources"].(map[string]any)[name].(map[string]any)
	if !ok {
		t.Fatalf("template has no resource %s", name)
	}
	return r
}

func props(t *testing.T, tpl map[string]any, name string) map[string]any {
	t.Helper()
	p, _ := resource(t, tpl, name)["Properties"].(map[string]any)
	return p
}

// functions maps each function resource to its Makefile name and the
// envconfig struct its main reads.
var functions = []struct {
	resource, name string
	config         any
	// localOnly are variables the struct reads that AWS must not set, with
	// the reason.
	localOnly map[string]string
}{
	{"DefineFunction", "define", triggers.DefineConfig{}, localKey},
	{"CreateFunction", "create", triggers.CreateConfig{}, localKey},
	{"VerifyFunction", "verify", triggers.VerifyConfig{}, localKey},
	{"MailerFunction", "mailer", mailer.Config{}, nil},
	{"RotateFunction", "rotate", secret.RotateConfig{}, nil},
	{"TokensFunction", "tokens", triggers.TokensConfig{}, nil},
	{"SenderFunction", "sender", sender.Config{}, nil},
	{"FeedbackFunction", "feedback", feedback.Config{}, map[string]string{"OTP_HMAC_KEY": localKey["OTP_HMAC_KEY"]}},
}

var localKey = map[string]string{
	"OTP_HMAC_KEY":          "on AWS the key is a Secrets Manager secret (OTP_HMAC_SECRET_ARN)",
	"OTP_HMAC_PREVIOUS_KEY": "on AWS the previous key is the secret's AWSPREVIOUS version",
}

func TestEveryFunctionIsABuiltBinary(t *testing.T) {
	tpl := template(t)
	makefile, err := os.ReadFile("../Makefile")
	if err != nil {
		t.Fatal(err)
	}
	lambdas := regexp.MustCompile(`(?m)^LAMBDAS\s*:=\s*(.+)$`).FindSubmatch(makefile)
	if lambdas == nil {
		t.Fatal("Makefile has no LAMBDAS list")
	}
	built := strings.Fields(string(lambdas[1]))
	globals := tpl["Globals"].(map[string]any)["Function"].(map[string]any)
	if globals["Handler"] != "bootstrap" || globals["Runtime"] != "provided.al2023" || fmt.Sprint(globals["Architectures"]) != "[arm64]" {
		t.Errorf("function globals %v: want bootstrap on provided.al2023 arm64, as the Makefile builds", globals)
	}
	var inTemplate []string
	for name, r := range tpl["Resources"].(map[string]any) {
		if r.(map[string]any)["Type"] == "AWS::Serverless::Function" {
			inTemplate = append(inTemplate, name)
		}
	}
	if len(inTemplate) != len(functions) {
		t.Errorf("template functions %v, want %d", inTemplate, len(functions))
	}
	for _, fn := range functions {
		if !slices.Contains(built, fn.name) {
			t.Errorf("Makefile LAMBDAS %v lacks %s", built, fn.name)
		}
		if got, want := props(t, tpl, fn.resource)["CodeUri"], "../bin/lambda/"+fn.name+"/"; got != want {
			t.Errorf("%s CodeUri %v, want %s (where `make build` writes its bootstrap)", fn.resource, got, want)
		}
		path := regexp.MustCompile(`(?m)^pkg_` + fn.name + `\s*:=\s*(\S+)$`).FindSubmatch(makefile)
		if path == nil {
			t.Errorf("Makefile has no pkg_%s", fn.name)
			continue
		}
		dir := filepath.Join("..", string(path[1]))
		pkg, err := build.ImportDir(dir, 0)
		if err != nil || pkg.Name != "main" {
			t.Errorf("%s: %s is not a main package (%v)", fn.name, dir, err)
		}
	}
}

// envKeys lists the variables an envconfig struct reads, as envconfig
// itself names them.
func envKeys(t *testing.T, spec any) []string {
	t.Helper()
	var out bytes.Buffer
	ptr := reflect.New(reflect.TypeOf(spec)).Interface()
	if err := envconfig.Usagef(triggers.EnvPrefix, ptr, &out, "{{range .}}{{usage_key .}}\n{{end}}"); err != nil {
		t.Fatal(err)
	}
	return strings.Fields(out.String())
}

func TestEnvironmentMatchesConfigStructs(t *testing.T) {
	tpl := template(t)
	for _, fn := range functions {
		t.Run(fn.name, func(t *testing.T) {
			env, _ := props(t, tpl, fn.resource)["Environment"].(map[string]any)["Variables"].(map[string]any)
			var set []string
			for k := range env {
				set = append(set, k)
			}
			var want []string
			for _, k := range envKeys(t, fn.config) {
				if _, local := fn.localOnly[k]; !local {
					want = append(want, k)
				}
			}
			sort.Strings(set)
			sort.Strings(want)
			if !slices.Equal(set, want) {
				t.Errorf("template sets %v\nstruct reads  %v", set, want)
			}
		})
	}
}

// TestDefaultsAreAValidConfig feeds each function the environment the
// template gives it with every parameter at its default, through the same
// loader the function's main uses.
func TestDefaultsAreAValidConfig(t *testing.T) {
	tpl := template(t)
	params := tpl["Parameters"].(map[string]any)
	example := map[string]string{"SenderAddress": "Example <no-reply@example.com>"}
	resolve := func(v any) string {
		switch v := v.(type) {
		case map[string]any:
			if ref, ok := v["Ref"].(string); ok {
				if p, ok := params[ref].(map[string]any); ok {
					if d, ok := p["Default"]; ok {
						return fmt.Sprint(d)
					}
					return example[ref]
				}
				if strings.HasSuffix(ref, "Bucket") {
					return "stack-" + strings.ToLower(ref) + "-1a2b3c4d5e6f" // a generated bucket name
				}
				return "https://sqs.us-east-1.amazonaws.com/123456789012/" + ref // a queue URL or ARN
			}
			if sub, ok := v["Fn::Sub"].(string); ok {
				return regexp.MustCompile(`\$\{(\w+)\}`).ReplaceAllStringFunc(sub, func(m string) string {
					return fmt.Sprint(params[m[2:len(m)-1]].(map[string]any)["Default"])
				})
			}
		}
		return fmt.Sprint(v)
	}
	loaders := map[string]func() error{
		"define":   func() error { _, err := triggers.LoadDefineConfig(); return err },
		"create":   func() error { _, err := triggers.LoadCreateConfig(); return err },
		"verify":   func() error { _, err := triggers.LoadVerifyConfig(); return err },
		"mailer":   func() error { _, err := mailer.LoadConfig(); return err },
		"rotate":   func() error { _, err := secret.LoadRotateConfig(); return err },
		"tokens":   func() error { _, err := triggers.LoadTokensConfig(); return err },
		"sender":   func() error { _, err := sender.LoadConfig(); return err },
		"feedback": func() error { _, err := feedback.LoadConfig(); return err },
	}
	for _, fn := range functions {
		t.Run(fn.name, func(t *testing.T) {
			env := props(t, tpl, fn.resource)["Environment"].(map[string]any)["Variables"].(map[string]any)
			for k, v := range env {
				t.Setenv(k, resolve(v))
			}
			if err := loaders[fn.name](); err != nil {
				t.Errorf("the template's defaults are not a valid %s config: %v", fn.name, err)
			}
		})
	}
}

// grant is one IAM permission: an action on a resource, with the resource
// written as the template writes it. A statement's conditions follow its
// action in brackets: the template condition it exists under and its IAM
// Condition, "ses:SendEmail [If:HasSESTenants StringEquals:ses:TenantName=Ref:SESTenants]".
type grant struct{ action, resource string }

func grants(t *testing.T, tpl map[string]any, fn string) []grant {
	t.Helper()
	var out []grant
	for _, st := range statements(t, tpl, fn) {
		s := st.s
		if s["Effect"] != "Allow" {
			t.Errorf("%s: statement %v is not an Allow", fn, s)
		}
		for _, not := range []string{"NotAction", "NotResource"} {
			if _, ok := s[not]; ok {
				t.Errorf("%s: statement %v has %s: it grants all but what it names", fn, s, not)
			}
		}
		for _, a := range asList(s["Action"]) {
			for _, r := range asList(s["Resource"]) {
				out = append(out, grant{fmt.Sprint(a) + st.conditions(), compact(r)})
			}
		}
	}
	sort.Slice(out, func(i, j int) bool { return fmt.Sprint(out[i]) < fmt.Sprint(out[j]) })
	return out
}

// statement is one statement of a function's policies, with the template
// condition it exists under ("" for always): a statement may be
// !If [Condition, {...}, !Ref AWS::NoValue].
type statement struct {
	when string
	s    map[string]any
}

func statements(t *testing.T, tpl map[string]any, fn string) []statement {
	t.Helper()
	var out []statement
	policies, _ := props(t, tpl, fn)["Policies"].([]any)
	for _, p := range policies {
		for _, st := range p.(map[string]any)["Statement"].([]any) {
			s, _ := st.(map[string]any)
			when := ""
			if branches, ok := s["Fn::If"].([]any); ok {
				if len(branches) != 3 || compact(branches[2]) != "Ref:AWS::NoValue" {
					t.Errorf("%s: conditional statement %v: want !If [Condition, statement, !Ref AWS::NoValue]", fn, s)
					continue
				}
				when = fmt.Sprint(branches[0])
				s, _ = branches[1].(map[string]any)
			}
			out = append(out, statement{when, s})
		}
	}
	return out
}

// conditions writes the statement's template condition and IAM Condition
// as " [If:Name Operator:key=value ...]", or "" when it has neither.
func (st statement) conditions() string {
	var iam []string
	cond, _ := st.s["Condition"].(map[string]any)
	for op, kv := range cond {
		m, ok := kv.(map[string]any)
		if !ok {
			iam = append(iam, fmt.Sprintf("%s:%v", op, kv))
		}
		for k, v := range m {
			iam = append(iam, fmt.Sprintf("%s:%s=%s", op, k, compact(v)))
		}
	}
	sort.Strings(iam)
	if st.when != "" {
		iam = append([]string{"If:" + st.when}, iam...)
	}
	if len(iam) == 0 {
		return ""
	}
	return " [" + strings.Join(iam, " ") + "]"
}

func asList(v any) []any {
	if l, ok := v.([]any); ok {
		return l
	}
	return []any{v}
}

// compact writes an intrinsic as a short string: Ref:X, GetAtt:X.Arn, Sub:...
func compact(v any) string {
	m, ok := v.(map[string]any)
	if !ok {
		return fmt.Sprint(v)
	}
	for k, val := range m {
		switch k {
		case "Ref":
			return "Ref:" + fmt.Sprint(val)
		case "Fn::GetAtt":
			l := val.([]any)
			return fmt.Sprintf("GetAtt:%v.%v", l[0], l[1])
		case "Fn::Sub":
			return "Sub:" + fmt.Sprint(val)
		case "Fn::If":
			l := val.([]any)
			return fmt.Sprintf("If:%v?%s", l[0], compact(l[1]))
		}
	}
	return fmt.Sprint(v)
}

// TestIAMGrantsOnlyWhatEachFunctionCalls pins each function's permissions
// to the AWS calls its code makes (see the *API interfaces in the code).
func TestIAMGrantsOnlyWhatEachFunctionCalls(t *testing.T) {
	tpl := template(t)
	const (
		sendWithoutTenant  = " [Null:ses:TenantName=true]"
		sendThroughTenants = " [If:HasSESTenants StringEquals:ses:TenantName=Ref:SESTenants]"
	)
	sendQueue := "Sub:arn:${AWS::Partition}:sqs:${AWS::Region}:${AWS::AccountId}:${AWS::StackName}-send"
	budget := []grant{
		{"dynamodb:GetItem", "GetAtt:BudgetTable.Arn"}, // dynamostore.API
		{"dynamodb:UpdateItem", "GetAtt:BudgetTable.Arn"},
		{"secretsmanager:GetSecretValue", "Ref:HmacKeySecret"}, // secret.GetSecretValueAPI
	}
	want := map[string][]grant{
		"DefineFunction": budget,
		"CreateFunction": append(slices.Clone(budget),
			grant{"sqs:SendMessage", sendQueue}, // queue.SendMessageAPI
		),
		"VerifyFunction": budget,
		"TokensFunction": nil, // no AWS calls
		"RotateFunction": { // secret.RotationAPI
			{"secretsmanager:DescribeSecret", "Ref:HmacKeySecret"},
			{"secretsmanager:GetSecretValue", "Ref:HmacKeySecret"},
			{"secretsmanager:PutSecretValue", "Ref:HmacKeySecret"},
			{"secretsmanager:UpdateSecretVersionStage", "Ref:HmacKeySecret"},
		},
		"MailerFunction": {
			// mailer.SESAPI, through the parameter's configuration set or
			// the stack's own: without a tenant, or through one of
			// SESTenants (TestMailerSendsThroughTheStacksTenantsOnly).
			{"ses:SendEmail" + sendWithoutTenant, "If:HasConfigurationSet?Sub:arn:${AWS::Partition}:ses:${AWS::Region}:${AWS::AccountId}:configuration-set/${SESConfigurationSet}"},
			{"ses:SendEmail" + sendWithoutTenant, "Sub:arn:${AWS::Partition}:ses:${AWS::Region}:${AWS::AccountId}:identity/${SenderIdentity}"},
			{"ses:SendEmail" + sendThroughTenants, "If:HasConfigurationSet?Sub:arn:${AWS::Partition}:ses:${AWS::Region}:${AWS::AccountId}:configuration-set/${SESConfigurationSet}"},
			{"ses:SendEmail" + sendThroughTenants, "Sub:arn:${AWS::Partition}:ses:${AWS::Region}:${AWS::AccountId}:identity/${SenderIdentity}"},
			// The event source mapping polls with the function's role.
			{"sqs:ChangeMessageVisibility", sendQueue},
			{"sqs:DeleteMessage", sendQueue},
			{"sqs:GetQueueAttributes", sendQueue},
			{"sqs:ReceiveMessage", sendQueue},
			{"sqs:SendMessage", sendQueue + "-dlq"}, // Handler.DLQ
			// store.GetObjectAPI, on the template store
			{"s3:GetObject", "Sub:${TemplateBucket.Arn}/templates/*"},
			{"s3:ListBucket", "GetAtt:TemplateBucket.Arn"},
		},
		// queue.SendMessageAPI and sender.DLQAPI; kms:Decrypt is the key
		// policy's alone (TestCustomSenderKey).
		"SenderFunction": {
			{"sqs:SendMessage", sendQueue},
			{"sqs:SendMessage", sendQueue + "-dlq"},
		},
		// Its logs and EMF lines need nothing but SAM's basic execution
		// role; the HMAC key is for the recipients' to_hash.
		"FeedbackFunction": {{"secretsmanager:GetSecretValue", "Ref:HmacKeySecret"}},
	}
	for fn, w := range want {
		got := grants(t, tpl, fn)
		sort.Slice(w, func(i, j int) bool { return fmt.Sprint(w[i]) < fmt.Sprint(w[j]) })
		if fmt.Sprint(got) != fmt.Sprint(w) {
			t.Errorf("%s grants\n%v\nwant\n%v", fn, got, w)
		}
		for _, g := range got {
			if strings.Contains(g.action, "*") || g.resource == "*" {
				t.Errorf("%s: wildcard grant %v", fn, g)
			}
		}
		if _, managed := props(t, tpl, fn)["Events"]; managed {
			t.Errorf("%s uses SAM Events, which attach broad managed policies; use an explicit event source mapping", fn)
		}
	}
}

func TestQueuesAreEncryptedAndRedriven(t *testing.T) {
	tpl := template(t)
	q, dlq := props(t, tpl, "SendQueue"), props(t, tpl, "DeadLetterQueue")
	if compact(q["KmsMasterKeyId"]) != "Ref:QueueKey" || compact(dlq["KmsMasterKeyId"]) != "Ref:QueueKey" {
		t.Error("queues must be encrypted with the project's own KMS key: they carry codes")
	}
	for _, name := range []string{"SendQueue", "DeadLetterQueue"} {
		if arn := "Sub:arn:${AWS::Partition}:sqs:${AWS::Region}:${AWS::AccountId}:" + strings.TrimPrefix(compact(props(t, tpl, name)["QueueName"]), "Sub:"); !slices.ContainsFunc(grants(t, tpl, "MailerFunction"), func(g grant) bool { return g.resource == arn }) {
			t.Errorf("%s's name %v is not the one the mailer's policy grants (%s)", name, props(t, tpl, name)["QueueName"], arn)
		}
	}
	redrive, _ := q["RedrivePolicy"].(map[string]any)
	if compact(redrive["deadLetterTargetArn"]) != "GetAtt:DeadLetterQueue.Arn" || redrive["maxReceiveCount"] == nil {
		t.Errorf("send queue redrive policy %v: want the DLQ with a maxReceiveCount", redrive)
	}
	if dlq["MessageRetentionPeriod"] != 1209600 {
		t.Errorf("DLQ retention %v, want 14 days", dlq["MessageRetentionPeriod"])
	}
	params := tpl["Parameters"].(map[string]any)
	retention := params["SendQueueRetentionSeconds"].(map[string]any)["Default"].(int)
	if ttl := params["CodeTTL"].(map[string]any)["Default"]; ttl != "3m" || retention <= 180 || retention > 600 {
		t.Errorf("send queue retention %ds with code TTL %v: want just over the code's lifetime", retention, ttl)
	}
}

func TestEventSourceMappingReportsBatchItemFailures(t *testing.T) {
	tpl := template(t)
	esm := props(t, tpl, "MailerEventSourceMapping")
	if fmt.Sprint(esm["FunctionResponseTypes"]) != "[ReportBatchItemFailures]" {
		t.Errorf("FunctionResponseTypes %v: without ReportBatchItemFailures one failure redelivers the whole batch", esm["FunctionResponseTypes"])
	}
	if compact(esm["EventSourceArn"]) != "GetAtt:SendQueue.Arn" || compact(esm["FunctionName"]) != "Ref:MailerFunction" {
		t.Errorf("mapping %v: want SendQueue -> MailerFunction", esm)
	}
	if b, _ := esm["BatchSize"].(int); b < 1 || b > 10 {
		t.Errorf("BatchSize %v: want 1..10", esm["BatchSize"])
	}
	if _, ok := esm["ScalingConfig"].(map[string]any)["MaximumConcurrency"]; !ok {
		t.Error("mapping has no MaximumConcurrency: a burst could exceed the SES sending rate")
	}
}

func TestUserPoolAndClient(t *testing.T) {
	tpl := template(t)
	client := props(t, tpl, "UserPoolClient")
	if got := fmt.Sprint(client["ExplicitAuthFlows"]); got != "[ALLOW_CUSTOM_AUTH ALLOW_REFRESH_TOKEN_AUTH]" {
		t.Errorf("ExplicitAuthFlows %s: want exactly custom auth (which carries SRP) and refresh; USER_SRP_AUTH or USER_PASSWORD_AUTH would skip the emailed code", got)
	}
	if client["PreventUserExistenceErrors"] != "ENABLED" || compact(client["AuthSessionValidity"]) != "Ref:AuthSessionValidityMinutes" {
		t.Errorf("client %v", client)
	}
	for _, a := range client["WriteAttributes"].([]any) {
		if a == "custom:tenant" || a == "email" {
			t.Errorf("users can write %v: they could pick another tenant or move their second factor", a)
		}
	}
	pool := props(t, tpl, "UserPool")
	recovery := pool["AccountRecoverySetting"].(map[string]any)["RecoveryMechanisms"].([]any)
	for _, m := range recovery {
		if n := m.(map[string]any)["Name"]; n == "verified_email" {
			t.Error("account recovery by email would let the mailbox reset the password: both factors in one place")
		}
	}
	if got := fmt.Sprint(pool["UserAttributeUpdateSettings"]); got != "map[AttributesRequireVerificationBeforeUpdate:[email]]" {
		t.Errorf("UserAttributeUpdateSettings %s: an unverified new email would replace the verified one, and sign-in refuses unverified addresses", got)
	}
	lc := pool["LambdaConfig"].(map[string]any)
	pre := lc["PreTokenGenerationConfig"].(map[string]any)
	if compact(pre["LambdaArn"]) != "GetAtt:TokensFunction.Arn" || pre["LambdaVersion"] != "V1_0" {
		t.Errorf("PreTokenGenerationConfig %v: the tokens Cognito issues after a new password would skip the code", pre)
	}
	lc["PreTokenGeneration"] = pre["LambdaArn"]
	for trigger, fn := range map[string]string{"DefineAuthChallenge": "DefineFunction", "CreateAuthChallenge": "CreateFunction",
		"VerifyAuthChallengeResponse": "VerifyFunction", "PreTokenGeneration": "TokensFunction"} {
		if compact(lc[trigger]) != "GetAtt:"+fn+".Arn" {
			t.Errorf("LambdaConfig %s = %v, want %s", trigger, lc[trigger], fn)
		}
		perm := props(t, tpl, strings.TrimSuffix(fn, "Function")+"Permission")
		if compact(perm["FunctionName"]) != "Ref:"+fn || perm["Principal"] != "cognito-idp.amazonaws.com" || compact(perm["SourceArn"]) != "GetAtt:UserPool.Arn" {
			t.Errorf("%s: Cognito cannot invoke it: %v", fn, perm)
		}
	}
}

func TestAlarmsWatchWhatTheREADMEDescribes(t *testing.T) {
	tpl := template(t)
	want := map[string]string{
		"DeadLetterQueueNotEmptyAlarm": "AWS/SQS ApproximateNumberOfMessagesVisible",
		"OldestMessageAgeAlarm":        "AWS/SQS ApproximateAgeOfOldestMessage",
		"MailerErrorsAlarm":            "AWS/Lambda Errors",
		"MailerThrottlesAlarm":         "AWS/Lambda Throttles",
		"SendFailuresAlarm":            "CognitoEmailOTP " + mailer.MetricDeadLettered,
		"CreateErrorsAlarm":            "AWS/Lambda Errors",
		"SenderErrorsAlarm":            "AWS/Lambda Errors",
	}
	readme, _ := os.ReadFile("../README.md")
	for name, metric := range want {
		p := props(t, tpl, name)
		if got := fmt.Sprint(p["Namespace"], " ", p["MetricName"]); got != metric {
			t.Errorf("%s watches %s, want %s", name, got, metric)
		}
		if compact(p["AlarmActions"]) == "" || p["AlarmDescription"] == "" {
			t.Errorf("%s has no actions or description", name)
		}
		if !bytes.Contains(readme, []byte(name)) {
			t.Errorf("README does not explain %s", name)
		}
	}
}

func TestDashboardIsValidJSON(t *testing.T) {
	tpl := template(t)
	sub := props(t, tpl, "Dashboard")["DashboardBody"].(map[string]any)["Fn::Sub"].([]any)
	body := regexp.MustCompile(`\$\{[\w:.]+\}`).ReplaceAllString(sub[0].(string), "x")
	var v map[string]any
	if err := json.Unmarshal([]byte(body), &v); err != nil {
		t.Fatalf("dashboard body is not JSON: %v", err)
	}
	for _, metric := range []string{mailer.MetricTimeToSend, mailer.MetricMessages, mailer.MetricDeadLettered, "ApproximateAgeOfOldestMessage", "ApproximateNumberOfMessagesNotVisible"} {
		if !strings.Contains(body, metric) {
			t.Errorf("dashboard lacks %s", metric)
		}
	}
}

// TestFailureBudgetTable pins the table to what dynamostore reads and
// writes, and to the settings its purpose needs.
func TestFailureBudgetTable(t *testing.T) {
	tpl := template(t)
	tbl := props(t, tpl, "BudgetTable")
	if tbl["BillingMode"] != "PAY_PER_REQUEST" {
		t.Errorf("BillingMode %v: sign-ins come in bursts; on-demand has no capacity to run out of", tbl["BillingMode"])
	}
	key := tbl["KeySchema"].([]any)[0].(map[string]any)
	if key["AttributeName"] != dynamostore.KeyAttribute || key["KeyType"] != "HASH" {
		t.Errorf("key schema %v, want %s as the partition key", key, dynamostore.KeyAttribute)
	}
	ttl := tbl["TimeToLiveSpecification"].(map[string]any)
	if ttl["AttributeName"] != dynamostore.AttrTTL || ttl["Enabled"] != true {
		t.Errorf("TTL %v, want %s enabled", ttl, dynamostore.AttrTTL)
	}
	if tbl["SSESpecification"].(map[string]any)["SSEEnabled"] != true ||
		tbl["PointInTimeRecoverySpecification"].(map[string]any)["PointInTimeRecoveryEnabled"] != true || tbl["DeletionProtectionEnabled"] != true {
		t.Errorf("table %v: want KMS encryption, point-in-time recovery and deletion protection (a lost table resets every budget)", tbl)
	}
	if r := resource(t, tpl, "BudgetTable"); r["DeletionPolicy"] != "Retain" {
		t.Errorf("DeletionPolicy %v, want Retain", r["DeletionPolicy"])
	}
}

// TestQueueKeyAndPolicy: only the functions (and the ops role) may use the
// queues' key and the queues themselves; the account manages the key but
// cannot read codes with it.
func TestQueueKeyAndPolicy(t *testing.T) {
	tpl := template(t)
	key := props(t, tpl, "QueueKey")
	if key["EnableKeyRotation"] != true {
		t.Error("the queue key does not rotate")
	}
	users := map[string][]string{}
	for _, st := range key["KeyPolicy"].(map[string]any)["Statement"].([]any) {
		s := st.(map[string]any)
		var principals []string
		for _, p := range asList(s["Principal"].(map[string]any)["AWS"]) {
			principals = append(principals, compact(p))
		}
		for _, a := range asList(s["Action"]) {
			users[fmt.Sprint(a)] = append(users[fmt.Sprint(a)], principals...)
		}
	}
	for _, use := range []string{"kms:Decrypt", "kms:GenerateDataKey", "kms:Encrypt", "kms:*"} {
		for _, p := range users[use] {
			if strings.Contains(p, ":root") {
				t.Errorf("the account root may %s: any IAM policy could then read codes", use)
			}
		}
	}
	if got := fmt.Sprint(users["kms:Decrypt"]); got != "[GetAtt:CreateFunctionRole.Arn If:HasCustomEmailSender?GetAtt:SenderFunctionRole.Arn GetAtt:MailerFunctionRole.Arn If:HasOpsRole?Ref:OpsRoleArn]" {
		t.Errorf("kms:Decrypt granted to %s", got)
	}
	qp := props(t, tpl, "QueuePolicy")["PolicyDocument"].(map[string]any)["Statement"].([]any)[0].(map[string]any)
	allowed := qp["Condition"].(map[string]any)["ArnNotEquals"].(map[string]any)["aws:PrincipalArn"]
	if qp["Effect"] != "Deny" || fmt.Sprint(compactAll(allowed)) != "[GetAtt:CreateFunctionRole.Arn GetAtt:MailerFunctionRole.Arn If:HasCustomEmailSender?GetAtt:SenderFunctionRole.Arn If:HasOpsRole?Ref:OpsRoleArn]" {
		t.Errorf("queue policy %v", qp)
	}
}

func compactAll(v any) []string {
	var out []string
	for _, x := range asList(v) {
		out = append(out, compact(x))
	}
	return out
}

func TestBudgetAlarmsAndPoolPerimeter(t *testing.T) {
	tpl := template(t)
	for alarm, metric := range map[string]string{"LockoutsAlarm": triggers.MetricLockouts, "WrongCodesAlarm": triggers.MetricWrongCodes} {
		m := props(t, tpl, alarm)["Metrics"].([]any)[0].(map[string]any)
		if !strings.Contains(m["Expression"].(string), "SUM("+metric+") FROM SCHEMA(CognitoEmailOTP, tenant) GROUP BY tenant") {
			t.Errorf("%s query %v: want %s per tenant", alarm, m["Expression"], metric)
		}
	}
	if p := props(t, tpl, "BudgetUnavailableAlarm"); p["MetricName"] != triggers.MetricBudgetUnavailable {
		t.Errorf("BudgetUnavailableAlarm watches %v", p["MetricName"])
	}
	readme, _ := os.ReadFile("../README.md")
	for _, name := range []string{"LockoutsAlarm", "WrongCodesAlarm", "BudgetUnavailableAlarm"} {
		if !bytes.Contains(readme, []byte(name)) {
			t.Errorf("README does not explain %s", name)
		}
	}
	params := tpl["Parameters"].(map[string]any)
	if params["AllowAdminCreateUserOnly"].(map[string]any)["Default"] != "true" || params["ThreatProtection"].(map[string]any)["Default"] != "OFF" {
		t.Error("open sign-up or paid threat protection by default")
	}
	pool := props(t, tpl, "UserPool")
	if pool["EmailConfiguration"].(map[string]any)["EmailSendingAccount"] != "DEVELOPER" {
		t.Error("the pool sends with Cognito's default sender (50 emails a day), not SES")
	}
	rot := props(t, tpl, "HmacKeyRotation")
	if compact(rot["RotationLambdaARN"]) != "GetAtt:RotateFunction.Arn" || compact(rot["SecretId"]) != "Ref:HmacKeySecret" {
		t.Errorf("rotation schedule %v", rot)
	}
	if perm := props(t, tpl, "RotatePermission"); perm["Principal"] != "secretsmanager.amazonaws.com" {
		t.Errorf("Secrets Manager cannot invoke the rotation function: %v", perm)
	}
	// The mailer dead-letters on the receive SQS would move the message on.
	redrive := props(t, tpl, "SendQueue")["RedrivePolicy"].(map[string]any)["maxReceiveCount"]
	mailerEnv := props(t, tpl, "MailerFunction")["Environment"].(map[string]any)["Variables"].(map[string]any)
	if fmt.Sprint(mailerEnv["OTP_MAX_RECEIVES"]) != fmt.Sprint(redrive) {
		t.Errorf("OTP_MAX_RECEIVES %v, queue maxReceiveCount %v: they must agree", mailerEnv["OTP_MAX_RECEIVES"], redrive)
	}
}

// TestQueueVisibilityFollowsLambdaGuidance: Lambda's guidance for an SQS
// event source is a visibility timeout of at least six times the function's
// timeout, and a maximum concurrency of at least 2 (its minimum).
func TestQueueVisibilityFollowsLambdaGuidance(t *testing.T) {
	tpl := template(t)
	visibility := props(t, tpl, "SendQueue")["VisibilityTimeout"].(int)
	timeout := props(t, tpl, "MailerFunction")["Timeout"].(int)
	if visibility < 6*timeout {
		t.Errorf("send queue visibility %d s, mailer timeout %d s: want at least 6x", visibility, timeout)
	}
	if min := tpl["Parameters"].(map[string]any)["MailerMaxConcurrency"].(map[string]any)["MinValue"].(int); min < 2 {
		t.Errorf("MailerMaxConcurrency may go down to %d; Lambda's minimum is 2", min)
	}
}

// TestCustomSender: the pool hands every email of its own to the sender,
// through a key only Cognito may encrypt with and only the sender may
// decrypt with; only this pool may invoke the sender; and all of it goes
// away with CustomEmailSender=Disabled.
func TestCustomSender(t *testing.T) {
	tpl := template(t)
	param := tpl["Parameters"].(map[string]any)["CustomEmailSender"].(map[string]any)
	if param["Default"] != "Enabled" || fmt.Sprint(param["AllowedValues"]) != "[Enabled Disabled]" {
		t.Errorf("CustomEmailSender parameter %v", param)
	}
	if got := compact(tpl["Conditions"].(map[string]any)["HasCustomEmailSender"]); !strings.Contains(got, "Ref:CustomEmailSender") || !strings.Contains(got, "Enabled") {
		t.Errorf("HasCustomEmailSender is %s", got)
	}
	for _, name := range []string{"CustomSenderKey", "CustomSenderKeyAlias", "SenderFunction", "SenderPermission", "SenderLogGroup", "SenderErrorsAlarm"} {
		if c := resource(t, tpl, name)["Condition"]; c != "HasCustomEmailSender" {
			t.Errorf("%s has condition %v, want HasCustomEmailSender", name, c)
		}
	}

	lc := props(t, tpl, "UserPool")["LambdaConfig"].(map[string]any)
	ces := lc["CustomEmailSender"].(map[string]any)["Fn::If"].([]any)
	if ces[0] != "HasCustomEmailSender" || compact(ces[1].(map[string]any)["LambdaArn"]) != "GetAtt:SenderFunction.Arn" ||
		ces[1].(map[string]any)["LambdaVersion"] != "V1_0" || compact(ces[2]) != "Ref:AWS::NoValue" {
		t.Errorf("LambdaConfig.CustomEmailSender %v", ces)
	}
	if got := compact(lc["KMSKeyID"]); got != "If:HasCustomEmailSender?GetAtt:CustomSenderKey.Arn" {
		t.Errorf("LambdaConfig.KMSKeyID %s", got)
	}
	perm := props(t, tpl, "SenderPermission")
	if compact(perm["FunctionName"]) != "Ref:SenderFunction" || perm["Principal"] != "cognito-idp.amazonaws.com" || compact(perm["SourceArn"]) != "GetAtt:UserPool.Arn" {
		t.Errorf("SenderPermission %v: only this pool may invoke the sender", perm)
	}
	env := props(t, tpl, "SenderFunction")["Environment"].(map[string]any)["Variables"].(map[string]any)
	if compact(env["OTP_KMS_KEY_ARN"]) != "GetAtt:CustomSenderKey.Arn" || compact(env["OTP_QUEUE_URL"]) != "Ref:SendQueue" || compact(env["OTP_DLQ_URL"]) != "Ref:DeadLetterQueue" {
		t.Errorf("sender environment %v", env)
	}
	if alias := props(t, tpl, "CustomSenderKeyAlias"); compact(alias["TargetKeyId"]) != "Ref:CustomSenderKey" {
		t.Errorf("alias %v", alias)
	}

	key := props(t, tpl, "CustomSenderKey")
	if key["EnableKeyRotation"] != true {
		t.Error("the custom sender key does not rotate")
	}
	who := map[string][]string{} // action -> principals
	for _, st := range key["KeyPolicy"].(map[string]any)["Statement"].([]any) {
		s := st.(map[string]any)
		if s["Effect"] != "Allow" {
			continue
		}
		principal := s["Principal"].(map[string]any)
		var principals []string
		for _, p := range asList(principal["AWS"]) {
			if p != nil {
				principals = append(principals, compact(p))
			}
		}
		if svc, ok := principal["Service"]; ok {
			principals = append(principals, fmt.Sprint(svc))
			cond, _ := s["Condition"].(map[string]any)
			account, _ := cond["StringEquals"].(map[string]any)
			arn, _ := cond["ArnLike"].(map[string]any)
			if compact(account["aws:SourceAccount"]) != "Ref:AWS::AccountId" ||
				compact(arn["aws:SourceArn"]) != "Sub:arn:${AWS::Partition}:cognito-idp:${AWS::Region}:${AWS::AccountId}:userpool/*" {
				t.Errorf("%v may use the key from any account or resource: condition %v", svc, cond)
			}
		}
		for _, a := range asList(s["Action"]) {
			who[fmt.Sprint(a)] = append(who[fmt.Sprint(a)], principals...)
		}
	}
	for action, want := range map[string]string{
		"kms:Encrypt": "[cognito-idp.amazonaws.com]",
		"kms:Decrypt": "[GetAtt:SenderFunctionRole.Arn]",
	} {
		if got := fmt.Sprint(who[action]); got != want {
			t.Errorf("%s granted to %s, want %s", action, got, want)
		}
	}
	for action := range who {
		if action == "kms:*" || strings.HasPrefix(action, "kms:ReEncrypt") || strings.HasPrefix(action, "kms:GenerateDataKey") {
			t.Errorf("the key policy grants %s to %v: more than encrypt for Cognito and decrypt for the sender", action, who[action])
		}
	}
}

// --- SES's delivery events: the feedback function --------------------------

// eventsSet is how the template names the configuration set the mailer
// sends through: the parameter's, or the stack's own.
var eventsSet = map[string]any{"Fn::If": []any{"HasConfigurationSet", map[string]any{"Ref": "SESConfigurationSet"}, map[string]any{"Ref": "EventsConfigurationSet"}}}

// TestFeedbackEventDestination: the configuration set the mailer sends
// through publishes every event the feedback function counts to its topic.
func TestFeedbackEventDestination(t *testing.T) {
	tpl := template(t)
	d := props(t, tpl, "FeedbackEventDestination")
	if !reflect.DeepEqual(d["ConfigurationSetName"], eventsSet) {
		t.Errorf("event destination on %v, want the mailer's configuration set", d["ConfigurationSetName"])
	}
	mailerSet := props(t, tpl, "MailerFunction")["Environment"].(map[string]any)["Variables"].(map[string]any)["OTP_SES_CONFIGURATION_SET"]
	if !reflect.DeepEqual(mailerSet, eventsSet) {
		t.Errorf("the mailer sends through %v, not the set with the destination", mailerSet)
	}
	dest := d["EventDestination"].(map[string]any)
	var types []string
	for _, e := range dest["MatchingEventTypes"].([]any) {
		types = append(types, e.(string))
	}
	sort.Strings(types)
	if want := []string{"bounce", "complaint", "delivery", "deliveryDelay", "reject", "renderingFailure", "send"}; !slices.Equal(types, want) {
		t.Errorf("MatchingEventTypes %v, want %v (the events the feedback function counts; no opens, clicks, subscriptions)", types, want)
	}
	if dest["Enabled"] != true || compact(dest["SnsDestination"].(map[string]any)["TopicARN"]) != "Ref:FeedbackTopic" {
		t.Errorf("destination %v: want enabled, to FeedbackTopic", dest)
	}
	if fmt.Sprint(resource(t, tpl, "FeedbackEventDestination")["DependsOn"]) != "FeedbackTopicPolicy" {
		t.Error("the destination must wait for the topic policy: SES cannot publish before it")
	}
	cs := resource(t, tpl, "EventsConfigurationSet")
	conds := tpl["Conditions"].(map[string]any)
	if cs["Condition"] != "CreateEventsConfigurationSet" || compact(conds["CreateEventsConfigurationSet"]) != fmt.Sprint(map[string]any{"Fn::Equals": []any{map[string]any{"Ref": "SESConfigurationSet"}, ""}}) {
		t.Errorf("the stack's own set must exist exactly when the parameter names none: %v, %v", cs["Condition"], conds["CreateEventsConfigurationSet"])
	}
	// The mailer may send through whichever set it is.
	var sets []string
	for _, st := range props(t, tpl, "MailerFunction")["Policies"].([]any)[0].(map[string]any)["Statement"].([]any) {
		for _, r := range asList(st.(map[string]any)["Resource"]) {
			if m, ok := r.(map[string]any); ok && m["Fn::If"] != nil {
				for _, b := range m["Fn::If"].([]any)[1:] {
					sets = append(sets, compact(b))
				}
			}
		}
	}
	if fmt.Sprint(sets) != "[Sub:arn:${AWS::Partition}:ses:${AWS::Region}:${AWS::AccountId}:configuration-set/${SESConfigurationSet} "+
		"Sub:arn:${AWS::Partition}:ses:${AWS::Region}:${AWS::AccountId}:configuration-set/${EventsConfigurationSet}]" {
		t.Errorf("the mailer's ses:SendEmail on configuration sets %v", sets)
	}
}

// sourceCondition is SES's own publishing condition: this account, this
// configuration set.
func sourceCondition(t *testing.T, cond any) {
	t.Helper()
	eq, _ := cond.(map[string]any)["StringEquals"].(map[string]any)
	if len(cond.(map[string]any)) != 1 || len(eq) != 2 || compact(eq["aws:SourceAccount"]) != "Ref:AWS::AccountId" {
		t.Errorf("condition %v: want StringEquals on aws:SourceAccount and aws:SourceArn only", cond)
		return
	}
	want := map[string]any{"Fn::Sub": []any{"arn:${AWS::Partition}:ses:${AWS::Region}:${AWS::AccountId}:configuration-set/${Set}", map[string]any{"Set": eventsSet}}}
	if !reflect.DeepEqual(eq["aws:SourceArn"], want) {
		t.Errorf("aws:SourceArn %v, want the configuration set's ARN", eq["aws:SourceArn"])
	}
}

// TestFeedbackTopicPolicy: only SES, of this account and for this
// configuration set, may publish; the topic's key lets SES do only that.
func TestFeedbackTopicPolicy(t *testing.T) {
	tpl := template(t)
	p := props(t, tpl, "FeedbackTopicPolicy")
	if compact(p["Topics"].([]any)[0]) != "Ref:FeedbackTopic" {
		t.Errorf("policy on %v", p["Topics"])
	}
	sts := p["PolicyDocument"].(map[string]any)["Statement"].([]any)
	if len(sts) != 1 {
		t.Fatalf("%d statements, want one: SES's publish", len(sts))
	}
	st := sts[0].(map[string]any)
	if st["Effect"] != "Allow" || fmt.Sprint(st["Principal"]) != "map[Service:ses.amazonaws.com]" || st["Action"] != "sns:Publish" ||
		compact(st["Resource"]) != "Ref:FeedbackTopic" {
		t.Errorf("statement %v: want SES allowed sns:Publish on the topic, nothing else", st)
	}
	sourceCondition(t, st["Condition"])

	topic := props(t, tpl, "FeedbackTopic")
	if compact(topic["KmsMasterKeyId"]) != "Ref:FeedbackTopicKey" {
		t.Errorf("the topic carries recipients' addresses: encrypt it with its key, not %v", topic["KmsMasterKeyId"])
	}
	var ses []map[string]any
	for _, s := range props(t, tpl, "FeedbackTopicKey")["KeyPolicy"].(map[string]any)["Statement"].([]any) {
		st := s.(map[string]any)
		if pr, ok := st["Principal"].(map[string]any)["Service"]; ok {
			if pr != "ses.amazonaws.com" {
				t.Errorf("the key lets %v use it", pr)
			}
			ses = append(ses, st)
		}
	}
	if len(ses) != 1 || fmt.Sprint(ses[0]["Action"]) != "[kms:GenerateDataKey kms:Decrypt]" {
		t.Fatalf("SES's use of the key: %v", ses)
	}
	sourceCondition(t, ses[0]["Condition"])
}

// TestFeedbackSubscription: the function is the topic's subscriber, and
// SNS may invoke it for that topic only.
func TestFeedbackSubscription(t *testing.T) {
	tpl := template(t)
	sub := props(t, tpl, "FeedbackSubscription")
	if sub["Protocol"] != "lambda" || compact(sub["Endpoint"]) != "GetAtt:FeedbackFunction.Arn" || compact(sub["TopicArn"]) != "Ref:FeedbackTopic" {
		t.Errorf("subscription %v", sub)
	}
	perm := props(t, tpl, "FeedbackPermission")
	if perm["Action"] != "lambda:InvokeFunction" || perm["Principal"] != "sns.amazonaws.com" || compact(perm["SourceArn"]) != "Ref:FeedbackTopic" ||
		compact(perm["FunctionName"]) != "GetAtt:FeedbackFunction.Arn" || compact(perm["SourceAccount"]) != "Ref:AWS::AccountId" {
		t.Errorf("permission %v: want sns.amazonaws.com for FeedbackTopic only", perm)
	}
	for name, r := range tpl["Resources"].(map[string]any) {
		p, _ := r.(map[string]any)["Properties"].(map[string]any)
		if r.(map[string]any)["Type"] == "AWS::Lambda::Permission" && strings.Contains(compact(p["FunctionName"]), "FeedbackFunction") && name != "FeedbackPermission" {
			t.Errorf("%s also lets something invoke the feedback function", name)
		}
	}
	if g := props(t, tpl, "FeedbackLogGroup"); g["RetentionInDays"] != 30 {
		t.Errorf("feedback log group %v", g)
	}
}

// TestFeedbackAlarms: the bounce and complaint rates for the account (with
// their volume guards) and per tenant, at half of SES's review thresholds,
// and the time to delivery's p99: the metric names the feedback function
// writes, and the thresholds otp-local's health lines judge by.
func TestFeedbackAlarms(t *testing.T) {
	tpl := template(t)
	params := tpl["Parameters"].(map[string]any)
	lines := map[string]health.Line{}
	for _, l := range health.Lines(health.Names{Namespace: "CognitoEmailOTP"}) {
		lines[l.ID] = l
	}
	metricMath := func(alarm string) map[string]map[string]any {
		out := map[string]map[string]any{}
		for _, m := range props(t, tpl, alarm)["Metrics"].([]any) {
			q := m.(map[string]any)
			out[q["Id"].(string)] = q
		}
		return out
	}
	stat := func(q map[string]any) string {
		ms := q["MetricStat"].(map[string]any)
		m := ms["Metric"].(map[string]any)
		dims := ""
		for _, d := range asList(m["Dimensions"]) {
			if d, ok := d.(map[string]any); ok {
				dims += fmt.Sprintf(" %v=%v", d["Name"], d["Value"])
			}
		}
		return fmt.Sprintf("%v %v%s %v/%v", m["Namespace"], m["MetricName"], dims, ms["Stat"], ms["Period"])
	}
	check := func(alarm string, threshold float64, op string) {
		p := props(t, tpl, alarm)
		if p["Threshold"] != threshold || p["ComparisonOperator"] != op || p["EvaluationPeriods"] != 1 || p["TreatMissingData"] != "notBreaching" ||
			compact(p["AlarmActions"]) == "" || p["AlarmDescription"] == "" {
			t.Errorf("%s: %v %v, %v periods, missing %v", alarm, p["ComparisonOperator"], p["Threshold"], p["EvaluationPeriods"], p["TreatMissingData"])
		}
	}

	b := metricMath("BounceRateAlarm")
	if got := []string{stat(b["delivered"]), stat(b["hard"]), stat(b["soft"])}; fmt.Sprint(got) != fmt.Sprint([]string{
		"CognitoEmailOTP " + feedback.MetricDelivered + " Sum/3600",
		"CognitoEmailOTP " + feedback.MetricBounced + " bounce_type=" + feedback.BounceHard + " Sum/3600",
		"CognitoEmailOTP " + feedback.MetricBounced + " bounce_type=" + feedback.BounceSoft + " Sum/3600"}) {
		t.Errorf("BounceRateAlarm reads %v", got)
	}
	if b["volume"]["Expression"] != "FILL(delivered, 0) + FILL(hard, 0) + FILL(soft, 0)" ||
		compact(b["rate"]["Expression"]) != "Sub:IF(volume >= ${BounceRateAlarmMinVolume}, 100 * FILL(hard, 0) / volume, 0)" || b["rate"]["ReturnData"] != true {
		t.Errorf("BounceRateAlarm's expressions: %v, %v", b["volume"]["Expression"], b["rate"]["Expression"])
	}
	check("BounceRateAlarm", *lines["bounces"].Rule.Amber, "GreaterThanOrEqualToThreshold")
	c := metricMath("ComplaintRateAlarm")
	if got := []string{stat(c["delivered"]), stat(c["complained"])}; fmt.Sprint(got) != fmt.Sprint([]string{
		"CognitoEmailOTP " + feedback.MetricDelivered + " Sum/3600", "CognitoEmailOTP " + feedback.MetricComplained + " Sum/3600"}) {
		t.Errorf("ComplaintRateAlarm reads %v", got)
	}
	if compact(c["rate"]["Expression"]) != "Sub:IF(FILL(delivered, 0) >= ${ComplaintRateAlarmMinVolume}, 100 * FILL(complained, 0) / FILL(delivered, 1), 0)" {
		t.Errorf("ComplaintRateAlarm's expression %v", c["rate"]["Expression"])
	}
	check("ComplaintRateAlarm", *lines["complaints"].Rule.Amber, "GreaterThanOrEqualToThreshold")
	for p, want := range map[string]int{"BounceRateAlarmMinVolume": 100, "ComplaintRateAlarmMinVolume": 1000} {
		if params[p].(map[string]any)["Default"] != want {
			t.Errorf("%s default %v, want %d", p, params[p].(map[string]any)["Default"], want)
		}
	}

	// Per tenant, as fractions: BounceRate and ComplaintRate are 0 or 1.
	for alarm, metric := range map[string]string{"TenantBounceRateAlarm": feedback.MetricBounceRate, "TenantComplaintRateAlarm": feedback.MetricComplaintRate} {
		q := metricMath(alarm)["rate"]
		if q["Expression"] != "SELECT AVG("+metric+") FROM SCHEMA(CognitoEmailOTP, tenant) GROUP BY tenant ORDER BY AVG() DESC" || q["Period"] != 3600 {
			t.Errorf("%s query %v", alarm, q)
		}
	}
	check("TenantBounceRateAlarm", *lines["bounces"].Rule.Amber/100, "GreaterThanOrEqualToThreshold")
	check("TenantComplaintRateAlarm", *lines["complaints"].Rule.Amber/100, "GreaterThanOrEqualToThreshold")

	ttd := props(t, tpl, "TimeToDeliveryAlarm")
	if ttd["Namespace"] != "CognitoEmailOTP" || ttd["MetricName"] != feedback.MetricTimeToDelivery || ttd["ExtendedStatistic"] != "p99" || ttd["Period"] != 300 ||
		compact(ttd["Threshold"]) != "Ref:TimeToDeliveryAlarmMs" || ttd["ComparisonOperator"] != "GreaterThanThreshold" {
		t.Errorf("TimeToDeliveryAlarm %v", ttd)
	}
	if d := params["TimeToDeliveryAlarmMs"].(map[string]any)["Default"]; fmt.Sprint(d) != fmt.Sprint(*lines["time-to-delivery"].Rule.Red) {
		t.Errorf("TimeToDeliveryAlarmMs default %v, the health line's red %v", d, *lines["time-to-delivery"].Rule.Red)
	}

	readme, _ := os.ReadFile("../README.md")
	for _, name := range []string{"BounceRateAlarm", "ComplaintRateAlarm", "TenantBounceRateAlarm", "TenantComplaintRateAlarm", "TimeToDeliveryAlarm"} {
		if !bytes.Contains(readme, []byte(name)) {
			t.Errorf("README does not explain %s", name)
		}
	}
	sub := props(t, tpl, "Dashboard")["DashboardBody"].(map[string]any)["Fn::Sub"].([]any)[0].(string)
	for _, m := range []string{feedback.MetricDelivered, feedback.MetricBounced, feedback.MetricComplained, feedback.MetricSuppressed,
		feedback.MetricTimeToDelivery, "AVG(" + feedback.MetricBounceRate + ")"} {
		if !strings.Contains(sub, m) {
			t.Errorf("the dashboard lacks %s", m)
		}
	}
}

// --- SES tenants ----------------------------------------------------------

// The ARNs the mailer's SendEmail names: the sender identity, and the
// configuration set it sends through (the parameter's or the stack's own).
var (
	senderIdentityArn = map[string]any{"Fn::Sub": "arn:${AWS::Partition}:ses:${AWS::Region}:${AWS::AccountId}:identity/${SenderIdentity}"}
	eventsSetArn      = map[string]any{"Fn::If": []any{"HasConfigurationSet",
		map[string]any{"Fn::Sub": "arn:${AWS::Partition}:ses:${AWS::Region}:${AWS::AccountId}:configuration-set/${SESConfigurationSet}"},
		map[string]any{"Fn::Sub": "arn:${AWS::Partition}:ses:${AWS::Region}:${AWS::AccountId}:configuration-set/${EventsConfigurationSet}"}}}
)

// TestSESTenantsParameter: a list the stack deploys without (empty by
// default), and HasSESTenants true exactly when it names a tenant: an
// empty CommaDelimitedList is [""], which joins to "".
func TestSESTenantsParameter(t *testing.T) {
	tpl := template(t)
	p, ok := tpl["Parameters"].(map[string]any)["SESTenants"].(map[string]any)
	if !ok {
		t.Fatal("template has no SESTenants parameter")
	}
	if d, ok := p["Default"]; p["Type"] != "CommaDelimitedList" || !ok || d != "" {
		t.Errorf("SESTenants is %v with default %#v, want a CommaDelimitedList defaulting to \"\" (no tenants)", p["Type"], p["Default"])
	}
	desc := strings.ToLower(fmt.Sprint(p["Description"]))
	for _, says := range []string{"ses_tenant", "no others", "empty"} {
		if !strings.Contains(desc, says) {
			t.Errorf("SESTenants' description does not say %q: %s", says, desc)
		}
	}
	want := map[string]any{"Fn::Not": []any{map[string]any{"Fn::Equals": []any{
		map[string]any{"Fn::Join": []any{"", map[string]any{"Ref": "SESTenants"}}}, ""}}}}
	if got := tpl["Conditions"].(map[string]any)["HasSESTenants"]; !reflect.DeepEqual(got, want) {
		t.Errorf("HasSESTenants is %v, want %v", got, want)
	}
}

// allows reports whether an IAM Action element (an action or a list, with
// IAM's * and ? wildcards, case-insensitive) covers action. An element
// that is not a string, or absent (NotAction), is taken to cover it.
func allows(actions any, action string) bool {
	for _, a := range asList(actions) {
		s, ok := a.(string)
		if !ok {
			return true
		}
		glob := strings.NewReplacer(`\*`, ".*", `\?`, ".").Replace(regexp.QuoteMeta(s))
		if regexp.MustCompile("(?i)^" + glob + "$").MatchString(action) {
			return true
		}
	}
	return false
}

// TestMailerSendsThroughTheStacksTenantsOnly: ses:TenantName is the only
// thing that scopes a send to a tenant (a tenant is not a resource of
// SendEmail), so every statement that lets the mailer send must pin it:
// null (no tenant), or one of SESTenants, and only while it names some.
// Any other statement would let a leaked mailer role send through any
// tenant of the account, on its reputation.
func TestMailerSendsThroughTheStacksTenantsOnly(t *testing.T) {
	tpl := template(t)
	withoutTenant := map[string]any{"Null": map[string]any{"ses:TenantName": "true"}}
	throughTenants := map[string]any{"StringEquals": map[string]any{"ses:TenantName": map[string]any{"Ref": "SESTenants"}}}
	for _, tc := range []struct {
		name       string
		hasTenants bool
		want       []any // the Condition of each statement allowing ses:SendEmail
	}{
		{"SESTenants empty", false, []any{withoutTenant}},
		{"SESTenants set", true, []any{withoutTenant, throughTenants}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var got []any
			for _, st := range statements(t, tpl, "MailerFunction") {
				switch st.when {
				case "":
				case "HasSESTenants":
					if !tc.hasTenants {
						continue
					}
				default:
					t.Errorf("statement %v exists under %s; this test knows HasSESTenants only", st.s, st.when)
					continue
				}
				if st.s["Effect"] != "Allow" || !allows(st.s["Action"], "ses:SendEmail") {
					continue
				}
				for _, r := range asList(st.s["Resource"]) {
					if r == "*" {
						t.Errorf("statement %v allows ses:SendEmail on Resource \"*\"", st.s["Sid"])
					}
				}
				if !reflect.DeepEqual(st.s["Resource"], []any{senderIdentityArn, eventsSetArn}) {
					t.Errorf("statement %v allows ses:SendEmail on %v, want the sender identity and the mailer's configuration set only",
						st.s["Sid"], compactAll(st.s["Resource"]))
				}
				got = append(got, st.s["Condition"])
			}
			if !reflect.DeepEqual(got, tc.want) {
				t.Errorf("ses:SendEmail allowed under conditions\n%v\nwant\n%v\n(sends without a tenant; with SESTenants, through those tenants; none through any other)", got, tc.want)
			}
		})
	}
}

// TestSESTenantOutputs: the operator associates each tenant with the
// resources the mailer sends with (aws sesv2
// create-tenant-resource-association); the outputs give their ARNs, the
// very ones the mailer's SendEmail names.
func TestSESTenantOutputs(t *testing.T) {
	tpl := template(t)
	outputs := tpl["Outputs"].(map[string]any)
	for _, tc := range []struct {
		output string
		want   any
	}{
		{"EventsConfigurationSetArn", eventsSetArn},
		{"SenderIdentityArn", senderIdentityArn},
	} {
		o, ok := outputs[tc.output].(map[string]any)
		if !ok {
			t.Errorf("template has no output %s", tc.output)
			continue
		}
		if !reflect.DeepEqual(o["Value"], tc.want) {
			t.Errorf("%s is %v, want %v", tc.output, o["Value"], tc.want)
		}
		if c, ok := o["Condition"]; ok {
			t.Errorf("%s exists only under %v: a tenant needs it whatever the parameters", tc.output, c)
		}
		if d := fmt.Sprint(o["Description"]); !strings.Contains(d, "create-tenant-resource-association") {
			t.Errorf("%s's description does not say what it is for (create-tenant-resource-association): %s", tc.output, d)
		}
	}
	if got := props(t, tpl, "UserPool")["EmailConfiguration"].(map[string]any)["SourceArn"]; !reflect.DeepEqual(got, senderIdentityArn) {
		t.Errorf("the user pool sends as %v, not the identity the mailer does (%v)", got, senderIdentityArn)
	}
}
