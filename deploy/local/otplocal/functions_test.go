package otplocal

import (
	"bytes"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// buildFunctions compiles the four Lambda mains for this machine, as
// `make host-functions` does.
func buildFunctions(t testing.TB) string {
	t.Helper()
	dir := t.TempDir()
	for name, pkg := range map[string]string{"define": "triggers/define", "create": "triggers/create", "verify": "triggers/verify", "mailer": "mailer/function"} {
		cmd := exec.Command("go", "build", "-tags", "lambda.norpc", "-trimpath", "-o", filepath.Join(dir, name, "bootstrap"), "../../../"+pkg)
		var out bytes.Buffer
		cmd.Stdout, cmd.Stderr = &out, &out
		if err := cmd.Run(); err != nil {
			t.Fatalf("build %s: %v\n%s", name, err, out.String())
		}
	}
	return dir
}

// TestSignInThroughTheRealBinaries runs the Lambda binaries themselves,
// each behind a Lambda Runtime API, and signs in through them.
func TestSignInThroughTheRealBinaries(t *testing.T) {
	if testing.Short() {
		t.Skip("builds four binaries")
	}
	sys, logs := start(t, Options{FunctionsDir: buildFunctions(t), Instances: 1})
	ctx := t.Context()
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
	if sys.metrics.stats().Sent != 1 {
		t.Errorf("the mailer binary's EMF metrics did not reach the ops page: %+v", sys.metrics.stats())
	}
}
