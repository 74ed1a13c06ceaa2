package otplocal

import (
	"context"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"github.com/aws/aws-lambda-go/lambda"
	"github.com/cognito-email-otp/cognito-email-otp/deploy/local/awslocal"
	"github.com/cognito-email-otp/cognito-email-otp/deploy/local/lambdart"
	"github.com/cognito-email-otp/cognito-email-otp/mailer"
	"github.com/cognito-email-otp/cognito-email-otp/templates/compiled"
	"github.com/cognito-email-otp/cognito-email-otp/triggers"
	"github.com/cognito-email-otp/cognito-email-otp/triggers/sender"
)

// startFunctions runs the real Lambda binaries with the environment the SAM
// template would give them, pointed at this otp-local: the triggers read
// their HMAC key from otp-local's Secrets Manager, and the mailer its
// templates from the template store, as on AWS.
func (sys *System) startFunctions(o Options, d triggers.DefineConfig, c triggers.CreateConfig, v triggers.VerifyConfig, m mailer.Config,
	sc sender.Config, dirBundle []byte, logs func(fn string) io.Writer) ([]*lambdart.Runtime, error) {
	mailerEnv := append(mailerEnv(m), templatesEnv(o)...)
	if dirBundle != nil {
		dir, err := writeTemplatesDir(dirBundle)
		if err != nil {
			return nil, err
		}
		sys.tempDirs = append(sys.tempDirs, dir)
		mailerEnv = append(mailerEnv, "OTP_TEMPLATES_DIR="+dir)
	}
	base := []string{
		"AWS_REGION=" + awslocal.Region, "AWS_ACCESS_KEY_ID=otp-local", "AWS_SECRET_ACCESS_KEY=otp-local",
		"AWS_ENDPOINT_URL=" + sys.URL, "OTP_LOG_LEVEL=INFO",
	}
	tenants := tenantsEnv(c.Tenants)
	limits := func(l triggers.Limits) []string {
		return []string{fmt.Sprintf("OTP_MAX_WRONG_ANSWERS=%d", l.MaxWrongAnswers), fmt.Sprintf("OTP_MAX_RESENDS=%d", l.MaxResends),
			"OTP_RESEND_COOLDOWN=" + l.ResendCooldown.String()}
	}
	specs := []struct {
		name string
		env  []string
	}{
		{"define", concat(limits(d.Limits), budgetEnv(d.BudgetConfig), keyEnv(d.Key), []string{
			"OTP_REQUIRE_VERIFIED_EMAIL=true", "OTP_TENANTS=" + tenants,
		})},
		{"create", concat(limits(c.Limits), budgetEnv(c.BudgetConfig), keyEnv(c.Key), []string{
			fmt.Sprintf("OTP_CODE_LENGTH=%d", c.CodeLength), "OTP_CODE_TTL=" + c.CodeTTL.String(),
			"OTP_AUTH_SESSION_VALIDITY=" + c.AuthSessionValidity.String(),
			"OTP_QUEUE_URL=" + c.QueueURL, "OTP_REQUIRE_VERIFIED_EMAIL=true", "OTP_TENANTS=" + tenants,
		})},
		{"verify", concat(budgetEnv(v.BudgetConfig), keyEnv(v.Key))},
		{"mailer", mailerEnv},
		{"rotate", nil},
		{"tokens", []string{"OTP_TENANTS=" + tenants}},
		{"sender", []string{"OTP_QUEUE_URL=" + sc.QueueURL, "OTP_DLQ_URL=" + sc.DLQURL, "OTP_KMS_KEY_ARN=" + sc.KMSKeyARN,
			"OTP_USER_POOL_ID=" + sc.UserPoolID, fmt.Sprintf("OTP_INVITATION_VALID_DAYS=%d", sc.InvitationValidDays),
			"OTP_MFA_CODE_TTL=" + sc.MFACodeTTL.String(), "OTP_TENANTS=" + tenants}},
	}
	instances := o.Instances
	if instances == 0 {
		instances = 2
	}
	var out []*lambdart.Runtime
	for _, sp := range specs {
		timeout := 5 * time.Second // the triggers' timeout in the SAM template, and Cognito's wait
		switch sp.name {
		case "mailer":
			timeout = 15 * time.Second
		case "sender":
			timeout = 10 * time.Second // the SAM template's: KMS and SQS, invoked asynchronously
		}
		rt, err := lambdart.Start(context.Background(), lambdart.Function{
			Name: sp.name, Path: filepath.Join(o.FunctionsDir, sp.name, "bootstrap"),
			Env: append(append([]string{}, base...), sp.env...), Instances: instances, Timeout: timeout, Stdout: logs(sp.name),
		})
		if err != nil {
			for _, r := range out {
				_ = r.Close()
			}
			return nil, fmt.Errorf("otp-local: run %s: %w", sp.name, err)
		}
		out = append(out, rt)
	}
	sys.runtimes = out
	return out, nil
}

// keyEnv is where a trigger finds its HMAC key, as the SAM template sets it.
func keyEnv(k triggers.Key) []string {
	return []string{"OTP_HMAC_SECRET_ARN=" + k.HMACSecretARN, "OTP_KEY_REFRESH=" + k.KeyRefresh.String()}
}

// budgetEnv is the failure budget's environment, as the SAM template sets it.
func budgetEnv(b triggers.BudgetConfig) []string {
	return []string{
		"OTP_BUDGET_TABLE=" + b.BudgetTable, "OTP_BUDGET_TIMEOUT=" + b.BudgetTimeout.String(),
		fmt.Sprintf("OTP_BUDGET_FAIL_OPEN=%t", b.BudgetFailOpen), fmt.Sprintf("OTP_BACKOFF_AFTER=%d", b.BackoffAfter),
		"OTP_BACKOFF_BASE=" + b.BackoffBase.String(), "OTP_BACKOFF_MAX=" + b.BackoffMax.String(),
		fmt.Sprintf("OTP_MAX_FAILURES=%d", b.MaxFailures), fmt.Sprintf("OTP_MAX_CODES_PER_HOUR=%d", b.MaxCodesPerHour),
	}
}

func concat(parts ...[]string) []string {
	var out []string
	for _, p := range parts {
		out = append(out, p...)
	}
	return out
}

func tenantsEnv(m map[string]string) string {
	var parts []string
	for k, v := range m {
		parts = append(parts, k+":"+v)
	}
	sort.Strings(parts)
	return strings.Join(parts, ",")
}

// Functions reports the function processes' start-up and memory, when
// otp-local runs the real binaries.
func (sys *System) Functions() map[string][]lambdart.Instance {
	out := map[string][]lambdart.Instance{}
	for _, name := range functionOrder {
		if rt := sys.runtime(name); rt != nil {
			out[name] = rt.Instances()
		}
	}
	return out
}

// runtime is the named function's runtime; nil unless otp-local runs the
// real binaries.
func (sys *System) runtime(name string) *lambdart.Runtime {
	for i, n := range functionOrder {
		if n == name && i < len(sys.runtimes) {
			return sys.runtimes[i]
		}
	}
	return nil
}

// writeTemplatesDir ships the --templates-dir sets, compiled as an
// operator does with otpctl templates compile, to the mailer binary: it
// reads a bundle, not YAML. (The binary reads it at start only; edits to
// the YAML reach the in-process mailer, or the binary through a publish.)
func writeTemplatesDir(data []byte) (string, error) {
	dir, err := os.MkdirTemp("", "otp-local-templates-")
	if err != nil {
		return "", fmt.Errorf("otp-local: compile --templates-dir: %w", err)
	}
	if err := os.WriteFile(filepath.Join(dir, compiled.BundleFile), data, 0o600); err != nil {
		_ = os.RemoveAll(dir)
		return "", fmt.Errorf("otp-local: compile --templates-dir: %w", err)
	}
	return dir, nil
}

// functionOrder is the order of System.runtimes.
var functionOrder = []string{"define", "create", "verify", "mailer", "rotate", "tokens", "sender", "feedback"}

// FunctionPackages are the Lambda mains, by function name.
var FunctionPackages = map[string]string{
	"define": "triggers/define", "create": "triggers/create", "verify": "triggers/verify", "mailer": "mailer/function",
	"rotate": "triggers/rotate", "tokens": "triggers/tokens", "sender": "triggers/sender/function",
	"feedback": "mailer/feedback/function",
}

// BuildFunctions compiles the Lambda mains for this machine into
// dir/<name>/bootstrap with the flags `make host-functions` uses, for tests
// and benchmarks that run the real binaries.
func BuildFunctions(dir string) error {
	gomod, err := exec.Command("go", "env", "GOMOD").Output()
	if err != nil {
		return fmt.Errorf("otp-local: find the module: %w", err)
	}
	root := filepath.Dir(strings.TrimSpace(string(gomod)))
	for name, pkg := range FunctionPackages {
		cmd := exec.Command("go", "build", "-tags", "lambda.norpc", "-trimpath", "-ldflags=-s -w",
			"-o", filepath.Join(dir, name, "bootstrap"), "./"+pkg)
		cmd.Dir = root
		cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
		if out, err := cmd.CombinedOutput(); err != nil {
			return fmt.Errorf("otp-local: build %s: %w\n%s", name, err, out)
		}
	}
	return nil
}

// KillBusy kills one instance of the named function that is running an
// invocation, as a crash would (fault-injection tests); it reports whether
// there was one. Only with FunctionsDir.
func (sys *System) KillBusy(name string) bool {
	rt := sys.runtime(name)
	return rt != nil && rt.KillBusy()
}

// Restarts is how many instances of the named function died and were
// replaced.
func (sys *System) Restarts(name string) int {
	if rt := sys.runtime(name); rt != nil {
		return rt.Restarts()
	}
	return 0
}

// senderFunction is the custom email sender as otp-local's Cognito invokes
// it, for tests that hand it events of their own.
func (sys *System) senderFunction() lambda.Handler { return sys.sender }
