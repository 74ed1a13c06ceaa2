package main

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	cip "github.com/aws/aws-sdk-go-v2/service/cognitoidentityprovider"
	"github.com/aws/aws-sdk-go-v2/service/sesv2"

	"github.com/cognito-email-otp/cognito-email-otp/deploy/local/awslocal"
	"github.com/cognito-email-otp/cognito-email-otp/deploy/local/otplocal"
	"github.com/cognito-email-otp/cognito-email-otp/deploy/local/signin"
	"github.com/cognito-email-otp/cognito-email-otp/mailer/doctor"
	"github.com/cognito-email-otp/cognito-email-otp/mailer/ops"
)

// startLocal runs an otp-local for one test, without the operator's
// environment leaking into otpctl's flag defaults.
func startLocal(t *testing.T, o otplocal.Options) *otplocal.System {
	t.Helper()
	for _, k := range []string{"OTP_ENDPOINT", "OTP_QUEUE_URL", "OTP_DLQ_URL", "OTP_FROM_ADDRESS", "OTP_SES_CONFIGURATION_SET"} {
		t.Setenv(k, "")
	}
	o.Addr = "127.0.0.1:0"
	if len(o.Seed.Users) == 0 {
		o.Seed = otplocal.DefaultSeed()
	}
	sys, err := otplocal.Start(context.Background(), o)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = sys.Close() })
	return sys
}

func doctorJSON(t *testing.T, args ...string) (int, doctor.Report, string) {
	t.Helper()
	var out, errOut bytes.Buffer
	code := run(t.Context(), append([]string{"--json", "doctor"}, args...), &out, &errOut)
	var r doctor.Report
	if err := json.Unmarshal(out.Bytes(), &r); err != nil {
		t.Fatalf("doctor --json: %v\n%s%s", err, out.String(), errOut.String())
	}
	return code, r, out.String()
}

func find(r doctor.Report, check, subject string) (doctor.Result, bool) {
	for _, c := range r.Checks {
		if c.Check == check && c.Subject == subject {
			return c, true
		}
	}
	return doctor.Result{}, false
}

// TestDoctorOnAFreshOTPLocal: what make run starts is a deployment ready
// for its first sign-in, as doctor sees it through the real SDK clients.
func TestDoctorOnAFreshOTPLocal(t *testing.T) {
	sys := startLocal(t, otplocal.Options{})
	at := []string{"--endpoint", sys.URL}
	for _, tc := range []struct {
		name   string
		args   []string
		want   int
		has    []string
		hasNot []string
	}{
		{name: "passes with the mailer named", args: []string{"--function", otplocal.MailerFunction}, want: exitOK,
			has: []string{"CHECK", "STATE", "WHAT TO DO", "ses.sender acme", "security@acme.example is verified by the domain identity acme.example",
				"lambda.mapping otp-mailer", "ReportBatchItemFailures", "VisibilityTimeout 90s is at least 6x otp-mailer's timeout 15s",
				"0 failures, 0 warnings in us-east-1: ready for the first sign-in"},
			hasNot: []string{"FAIL", "WARN"}},
		{name: "a sender that disagrees with the mailer's is a warning", args: []string{"--function", otplocal.MailerFunction, "--from", "ops@acme.example"}, want: exitOK,
			has: []string{"mailer.from otp-mailer", "WARN", `but --from says "ops@acme.example"`, "0 failures, 1 warning"}},
		{name: "--strict fails on it", args: []string{"--function", otplocal.MailerFunction, "--from", "ops@acme.example", "--strict"}, want: exitProblems,
			has: []string{"0 failures, 1 warning"}},
		{name: "passes with the sender given instead", args: []string{"--from", otplocal.FromAddress}, want: exitOK,
			has: []string{"no-reply@otp-local.example is verified", "lambda.function", "skip"}},
		{name: "without either, the default set's sender is unknown", want: exitProblems,
			has: []string{"ses.sender default", "FAIL", "names no from_address", "--from"}},
		{name: "an unknown function", args: []string{"--function", "otp-mailr", "--from", otplocal.FromAddress}, want: exitProblems,
			has: []string{"lambda.function otp-mailr", "function otp-mailr does not exist in us-east-1"}},
		{name: "an unknown queue", args: []string{"--function", otplocal.MailerFunction, "--queue", "otp-sned"}, want: exitProblems,
			has: []string{"sqs.queue otp-sned", "queue otp-sned does not exist", "lambda.mapping otp-mailer         skip   needs the send queue"}},
		{name: "a configuration set otp-local does not have", args: []string{"--from", otplocal.FromAddress, "--configuration-set", "otp"}, want: exitProblems,
			has: []string{"ses.configuration_set otp", "configuration set otp does not exist in us-east-1"}},
		{name: "arguments are a usage error", args: []string{"now"}, want: exitUsage, has: []string{"doctor takes no arguments"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			code, out := otpctl(t, "", append(append([]string{"doctor"}, at...), tc.args...)...)
			if code != tc.want {
				t.Errorf("exit %d, want %d\n%s", code, tc.want, out)
			}
			for _, s := range tc.has {
				if !strings.Contains(out, s) {
					t.Errorf("output lacks %q:\n%s", s, out)
				}
			}
			for _, s := range tc.hasNot {
				if strings.Contains(out, s) {
					t.Errorf("output has %q:\n%s", s, out)
				}
			}
		})
	}
}

// TestDoctorFindsAnIncompleteSESTenant: Globex's set sends through the SES
// tenant globex; on an otp-local whose tenant lacks the configuration set
// the mailer sends through, doctor fails that row with the command that
// fixes it, and passes once the association is made.
func TestDoctorFindsAnIncompleteSESTenant(t *testing.T) {
	seed := otplocal.DefaultSeed()
	ses := *seed.SES
	ses.Tenants = []otplocal.SeedTenant{{Name: "globex", Identities: []string{"globex.example"}}}
	seed.SES = &ses
	sys := startLocal(t, otplocal.Options{Seed: seed})
	args := []string{"doctor", "--endpoint", sys.URL, "--function", otplocal.MailerFunction}
	arn := "arn:aws:ses:us-east-1:000000000000:configuration-set/" + otplocal.EventsConfigurationSet
	code, out := otpctl(t, "", args...)
	for _, s := range []string{"ses.tenant globex", "ses.tenant_resources globex", "FAIL",
		"the configuration set otp-events is not associated with the SES tenant globex", "ses_tenant",
		"aws sesv2 create-tenant-resource-association --tenant-name globex --resource-arn " + arn,
		"the identity globex.example is associated with the tenant globex", "1 failure"} {
		if !strings.Contains(out, s) {
			t.Errorf("output lacks %q:\n%s", s, out)
		}
	}
	if code != exitProblems {
		t.Errorf("exit %d, want %d", code, exitProblems)
	}
	if _, err := sesv2.NewFromConfig(awslocal.Config(sys.URL)).CreateTenantResourceAssociation(t.Context(),
		&sesv2.CreateTenantResourceAssociationInput{TenantName: aws.String("globex"), ResourceArn: aws.String(arn)}); err != nil {
		t.Fatal(err)
	}
	if code, out := otpctl(t, "", args...); code != exitOK || !strings.Contains(out, "the configuration set otp-events is associated with the tenant globex") {
		t.Errorf("after the association: exit %d\n%s", code, out)
	}
}

// TestDoctorJSON pins the machine-readable shape: member names, states,
// check names and the quota.
func TestDoctorJSON(t *testing.T) {
	sys := startLocal(t, otplocal.Options{})
	code, r, raw := doctorJSON(t, "--endpoint", sys.URL, "--function", otplocal.MailerFunction)
	if code != exitOK || !r.OK || r.Failures != 0 || r.Warnings != 0 || r.Region != "us-east-1" {
		t.Errorf("exit %d, ok %v, %d failures, %d warnings, region %q", code, r.OK, r.Failures, r.Warnings, r.Region)
	}
	if r.Quota == nil || r.Quota.Max24HourSend != -1 || r.Quota.MaxSendRate != -1 || r.Quota.SentLast24Hours != 0 {
		t.Errorf("quota %+v; otp-local is unlimited and has sent nothing", r.Quota)
	}
	var shape struct {
		Top    map[string]json.RawMessage
		Checks []map[string]json.RawMessage `json:"checks"`
	}
	if err := json.Unmarshal([]byte(raw), &shape.Top); err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal([]byte(raw), &shape); err != nil {
		t.Fatal(err)
	}
	var top []string
	for k := range shape.Top {
		top = append(top, k)
	}
	slices.Sort(top)
	if strings.Join(top, " ") != "checks failures ok quota region warnings" {
		t.Errorf("top-level members %v", top)
	}
	var quota map[string]json.RawMessage
	_ = json.Unmarshal(shape.Top["quota"], &quota)
	if _, ok := quota["max24HourSend"]; !ok || len(quota) != 3 {
		t.Errorf("quota members %v", quota)
	}
	allowed := map[string]bool{"check": true, "subject": true, "address": true, "state": true, "detail": true, "fix": true}
	for _, c := range shape.Checks {
		for k := range c {
			if !allowed[k] {
				t.Errorf("check member %q", k)
			}
		}
		for _, k := range []string{"check", "state", "detail"} {
			if _, ok := c[k]; !ok {
				t.Errorf("check without %q: %v", k, c)
			}
		}
	}
	var checks []string
	for _, c := range r.Checks {
		checks = append(checks, c.Check+"/"+c.Subject+"/"+string(c.State))
	}
	want := []string{
		"ses.production_access//ok", "ses.sending//ok", "ses.quota//ok",
		"ses.sender/acme/ok", "ses.dkim/acme/ok", "ses.sender/default/ok", "ses.dkim/default/ok", "ses.sender/globex/ok", "ses.dkim/globex/ok",
		"ses.tenant/globex/ok", "ses.tenant_resources/globex/ok", "ses.tenant_resources/globex/ok",
		"ses.configuration_set/otp-events/ok", "sqs.queue/otp-send/ok", "sqs.dlq/otp-send-dlq/ok", "sqs.redrive/otp-send/ok", "sqs.visibility/otp-send/ok",
		"lambda.function/otp-mailer/ok", "lambda.mapping/otp-mailer/ok",
	}
	if strings.Join(checks, " ") != strings.Join(want, " ") {
		t.Errorf("checks\n got %v\nwant %v", checks, want)
	}
	if c, _ := find(r, doctor.CheckSender, "globex"); c.Address != "no-reply@globex.example" {
		t.Errorf("globex sender row %+v", c)
	}
}

// setFromAddress rewrites a set's sender in its theme.yaml.
func setFromAddress(t *testing.T, set, address string) {
	t.Helper()
	theme := filepath.Join(set, "theme.yaml")
	b, err := os.ReadFile(theme)
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(string(b), "\n")
	for i, l := range lines {
		if strings.HasPrefix(l, "from_address:") {
			lines[i] = "from_address: " + address
		}
	}
	if err := os.WriteFile(theme, []byte(strings.Join(lines, "\n")), 0o644); err != nil {
		t.Fatal(err)
	}
}

// TestDoctorAndTheMailerAgreeOnAnUnverifiedSender: a tenant's set sends
// from a domain SES has not verified. doctor names the set and the
// address; a sign-in of that tenant is dead-lettered as
// sender_not_verified, exactly as doctor said; the other tenants keep
// getting their codes.
func TestDoctorAndTheMailerAgreeOnAnUnverifiedSender(t *testing.T) {
	dir := t.TempDir()
	copySet(t, dir, "initech")
	setFromAddress(t, filepath.Join(dir, "initech"), "no-reply@initech.example")
	seed := otplocal.DefaultSeed()
	initech := otplocal.SeedClient{ID: "otplocalinitechweb0000001", Name: "initech-web", Tenant: "initech"}
	seed.Clients = append(seed.Clients, initech)
	sys := startLocal(t, otplocal.Options{Seed: seed, TemplatesDir: dir})
	ctx, cancel := context.WithTimeout(t.Context(), 60*time.Second)
	defer cancel()

	code, r, raw := doctorJSON(t, "--endpoint", sys.URL, "--function", otplocal.MailerFunction, "--templates-dir", dir)
	sender, _ := find(r, doctor.CheckSender, "initech")
	if code != exitProblems || r.OK || r.Failures != 1 || sender.State != doctor.Fail || sender.Address != "no-reply@initech.example" ||
		!strings.Contains(sender.Detail, "set initech sends from no-reply@initech.example") || !strings.Contains(sender.Fix, "initech.example") {
		t.Fatalf("doctor: exit %d, %d failures, initech sender %+v\n%s", code, r.Failures, sender, raw)
	}
	code, table := otpctl(t, "", "doctor", "--endpoint", sys.URL, "--function", otplocal.MailerFunction, "--templates-dir", dir)
	if code != exitProblems || !strings.Contains(table, "ses.sender initech") || !strings.Contains(table, "no-reply@initech.example") ||
		!strings.Contains(table, "1 failure, 0 warnings") {
		t.Errorf("doctor table: exit %d\n%s", code, table)
	}

	cognito := cip.NewFromConfig(awslocal.Config(sys.URL))
	if _, err := (signin.Client{Cognito: cognito, PoolID: otplocal.PoolID, ClientID: initech.ID}).Start(ctx, "rosa@example.com", otplocal.DemoPassword); err != nil {
		t.Fatal(err)
	}
	for {
		code, out := otpctl(t, "", "--json", "dlq", "list", "--endpoint", sys.URL)
		var dead []ops.DeadLetter
		if err := json.Unmarshal([]byte(out), &dead); err != nil || code != exitOK {
			t.Fatalf("dlq list: exit %d, %v\n%s", code, err, out)
		}
		if len(dead) == 1 {
			if d := dead[0]; d.Reason != "sender_not_verified" || d.Tenant != "initech" || !d.CodeRemoved {
				t.Errorf("dead letter %+v; want reason sender_not_verified, tenant initech, code removed", d)
			}
			break
		}
		if ctx.Err() != nil {
			t.Fatalf("no dead letter for the initech sign-in: %s", out)
		}
		time.Sleep(100 * time.Millisecond)
	}

	// Acme's users still get their codes and sign in.
	acme := signin.Client{Cognito: cognito, PoolID: otplocal.PoolID, ClientID: sys.Clients[0].ID}
	a, err := acme.Start(ctx, "lena@example.com", otplocal.DemoPassword)
	if err != nil {
		t.Fatal(err)
	}
	e, err := signin.WaitEmail(ctx, sys.SES.Outbox(), "lena@example.com", 1)
	if err != nil {
		t.Fatal(err)
	}
	if e.Tenant != "acme" {
		t.Errorf("lena's email came from tenant %q", e.Tenant)
	}
	if err := a.Answer(ctx, signin.CodeIn(e), nil); err != nil || a.Result == nil {
		t.Errorf("acme sign-in with the emailed code: %v", err)
	}
	if n := sys.SES.Outbox().Count(); n != 1 {
		t.Errorf("%d emails in the outbox; only lena's should have gone", n)
	}
}

// TestDoctorReportsTheSandbox: an account in the SES sandbox sends to
// verified addresses only; doctor fails it and says how to leave.
func TestDoctorReportsTheSandbox(t *testing.T) {
	sys := startLocal(t, otplocal.Options{SESSandbox: true})
	code, r, raw := doctorJSON(t, "--endpoint", sys.URL, "--function", otplocal.MailerFunction)
	c, _ := find(r, doctor.CheckProductionAccess, "")
	if code != exitProblems || r.Failures != 1 || c.State != doctor.Fail || !strings.Contains(c.Detail, "sandbox") || !strings.Contains(c.Fix, "request production access") {
		t.Errorf("exit %d, %d failures, production access %+v\n%s", code, r.Failures, c, raw)
	}
	if r.Quota == nil || r.Quota.Max24HourSend != 200 || r.Quota.MaxSendRate != 1 {
		t.Errorf("quota %+v, want the sandbox's 200 a day, 1 a second", r.Quota)
	}
	if code, table := otpctl(t, "", "doctor", "--endpoint", sys.URL, "--function", otplocal.MailerFunction); code != exitProblems ||
		!strings.Contains(table, "ses.production_access") || !strings.Contains(table, "FAIL") || !strings.Contains(table, "request production access") {
		t.Errorf("doctor table: exit %d\n%s", code, table)
	}
}

// TestDoctorNeedsARegion: without one, every call would fail alike; doctor
// says so once, as a usage error, before calling anything.
func TestDoctorNeedsARegion(t *testing.T) {
	empty := filepath.Join(t.TempDir(), "none")
	for k, v := range map[string]string{"AWS_REGION": "", "AWS_DEFAULT_REGION": "", "AWS_PROFILE": "", "AWS_CONFIG_FILE": empty,
		"AWS_SHARED_CREDENTIALS_FILE": empty, "OTP_ENDPOINT": "", "AWS_EC2_METADATA_DISABLED": "true"} {
		t.Setenv(k, v)
	}
	if code, out := otpctl(t, "", "doctor"); code != exitUsage || !strings.Contains(out, "no AWS region") {
		t.Errorf("exit %d\n%s", code, out)
	}
}
