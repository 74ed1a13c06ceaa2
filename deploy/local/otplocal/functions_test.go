package otplocal

import (
	"bytes"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	cwl "github.com/aws/aws-sdk-go-v2/service/cloudwatchlogs"

	"github.com/cognito-email-otp/cognito-email-otp/deploy/local/awslocal"
	"github.com/cognito-email-otp/cognito-email-otp/deploy/local/cloudwatchlocal"
)

// buildFunctions compiles the four Lambda mains for this machine, as
// `make host-functions` does.
func buildFunctions(t testing.TB) string {
	t.Helper()
	dir := t.TempDir()
	if err := BuildFunctions(dir); err != nil {
		t.Fatal(err)
	}
	return dir
}

// TestSignInThroughTheRealBinaries runs the Lambda binaries themselves,
// each behind a Lambda Runtime API, and signs in through them.
func TestSignInThroughTheRealBinaries(t *testing.T) {
	if testing.Short() {
		t.Skip("builds four binaries")
	}
	// A tenant's swapped set, as an operator ships it: otp-local compiles
	// it into the bundle the mailer binary reads.
	templatesDir := t.TempDir()
	copyDir(t, "../../../templates/sets/acme", filepath.Join(templatesDir, "acme"))
	en := filepath.Join(templatesDir, "acme", "locales", "en.yaml")
	b, err := os.ReadFile(en)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(en, bytes.Replace(b, []byte("Your Acme verification code"), []byte("Your swapped Acme code"), 1), 0o644); err != nil {
		t.Fatal(err)
	}
	sys, logs := start(t, Options{FunctionsDir: buildFunctions(t), Instances: 1, TemplatesDir: templatesDir})
	ctx := t.Context()
	if _, err := client(sys, sys.Clients[0].ID).Start(ctx, "rosa@example.com", DemoPassword); err != nil {
		t.Fatal(err)
	}
	if email, _ := inbox(t, sys, "rosa@example.com", 1); email.Subject != "Your swapped Acme code" {
		t.Errorf("the mailer binary used subject %q, not the --templates-dir set's", email.Subject)
	}
	u, err := client(sys, sys.Clients[1].ID).Start(ctx, "omar@example.com", DemoPassword)
	if err != nil {
		t.Fatal(err)
	}
	email, code := inbox(t, sys, "omar@example.com", 1)
	if email.Tenant != "globex" || !strings.Contains(email.HTML, `dir="rtl"`) {
		t.Errorf("email tenant %q, rtl %v", email.Tenant, strings.Contains(email.HTML, `dir="rtl"`))
	}
	if err := u.Answer(ctx, code, nil); err != nil || u.Result == nil {
		t.Fatalf("sign-in with the emailed code: %v", err)
	}
	for name, instances := range sys.Functions() {
		for _, in := range instances {
			if in.Ready <= 0 || in.PeakRSS <= 0 {
				t.Errorf("%s: %+v", name, in)
			}
		}
	}
	for _, want := range []string{`"trigger":"define"`, `"trigger":"create"`, `"outcome":"code_enqueued"`, `"trigger":"verify"`, `"outcome":"correct"`} {
		if !strings.Contains(logs.String(), want) {
			t.Errorf("the binaries' logs lack %s", want)
		}
	}
	if sys.MailerStats().Sent != 2 {
		t.Errorf("the mailer binary's EMF metrics did not reach the ops page: %+v", sys.MailerStats())
	}
	// The binaries' lines reach their log groups too.
	if got := lines(t, cwl.NewFromConfig(awslocal.Config(sys.URL)), LogGroup("create"), `{ $.outcome = "code_enqueued" }`); len(got) != 2 {
		t.Errorf("CloudWatch Logs holds %d of the create binary's enqueue lines, want 2", len(got))
	}
	// And CloudWatch, as CloudWatch Logs extracts them from the log group.
	pts, err := sys.Metrics.Series("CognitoEmailOTP", "Messages", []cloudwatchlocal.Dimension{{Name: "outcome", Value: "sent"}}, "Sum", time.Minute, time.Now().Add(-time.Hour))
	var sent float64
	for _, p := range pts {
		sent += p.Value
	}
	if err != nil || sent != 2 {
		t.Errorf("CloudWatch's Messages{outcome=sent}: %v (%v), want 2 in all", pts, err)
	}
}

func copyDir(t *testing.T, from, to string) {
	t.Helper()
	err := filepath.WalkDir(from, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(from, path)
		if d.IsDir() {
			return os.MkdirAll(filepath.Join(to, rel), 0o755)
		}
		b, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		return os.WriteFile(filepath.Join(to, rel), b, 0o644)
	})
	if err != nil {
		t.Fatal(err)
	}
}
