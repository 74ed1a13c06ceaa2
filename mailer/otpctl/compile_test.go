package main

import (
	"bytes"
	"context"
	"encoding/json"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/cognito-email-otp/cognito-email-otp/mailer/contract"
	"github.com/cognito-email-otp/cognito-email-otp/templates"
	"github.com/cognito-email-otp/cognito-email-otp/templates/compiled"
)

// copySet copies the embedded acme set to dir/name, as an operator starts a
// tenant's set.
func copySet(t *testing.T, dir, name string) {
	t.Helper()
	src := "../../templates/sets/acme"
	err := filepath.WalkDir(src, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(src, p)
		dst := filepath.Join(dir, name, rel)
		if d.IsDir() {
			return os.MkdirAll(dst, 0o755)
		}
		data, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		data = bytes.ReplaceAll(data, []byte("Acme"), []byte("Initech"))
		return os.WriteFile(dst, data, 0o644)
	})
	if err != nil {
		t.Fatal(err)
	}
}

func runCmd(t *testing.T, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	var o, e bytes.Buffer
	code = run(context.Background(), args, &o, &e)
	return code, o.String(), e.String()
}

func TestTemplatesCompile(t *testing.T) {
	dir := t.TempDir()
	copySet(t, dir, "initech")
	bundle := filepath.Join(dir, compiled.BundleFile)

	for _, tc := range []struct {
		name      string
		args      []string
		want      int
		stdoutHas string
		stderrHas string
	}{
		{"a directory of sets, -o after DIR", []string{"templates", "compile", dir, "-o", bundle}, exitOK, "wrote " + bundle + ": 1 sets (initech)", ""},
		{"check still passes with the bundle beside the sets", []string{"templates", "check", dir}, exitOK, "ok: 4 sets, no problems", ""},
		{"-o before DIR", []string{"templates", "compile", "-o", filepath.Join(t.TempDir(), "b.json"), dir}, exitOK, "1 sets (initech)", ""},
		{"one set directory", []string{"templates", "compile", filepath.Join(dir, "initech"), "-o", filepath.Join(t.TempDir(), "b.json")}, exitOK, "1 sets (initech)", ""},
		{"a broken set writes nothing", []string{"templates", "compile", brokenSet, "-o", filepath.Join(dir, "broken.json")}, exitProblems, "2 problems; no bundle written", ""},
		{"a missing directory", []string{"templates", "compile", "no/such/dir", "-o", filepath.Join(dir, "missing.json")}, exitProblems, "dir no/such/dir: open:", ""},
		{"two directories", []string{"templates", "compile", dir, "other"}, exitUsage, "", "at most one DIR"},
		{"empty -o", []string{"templates", "compile", "-o", ""}, exitUsage, "", "-o must name a file"},
		{"unknown flag after DIR", []string{"templates", "compile", dir, "--colour"}, exitUsage, "", "flag provided but not defined: -colour"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			code, stdout, stderr := runCmd(t, tc.args...)
			if code != tc.want {
				t.Errorf("exit %d, want %d\nstdout:\n%s\nstderr:\n%s", code, tc.want, stdout, stderr)
			}
			if !strings.Contains(stdout, tc.stdoutHas) || !strings.Contains(stderr, tc.stderrHas) {
				t.Errorf("stdout %q lacks %q or stderr %q lacks %q", stdout, tc.stdoutHas, stderr, tc.stderrHas)
			}
		})
	}
	if _, err := os.Stat(filepath.Join(dir, "broken.json")); err == nil {
		t.Error("a bundle was written for a broken set")
	}

	// The mailer's view: the embedded sets plus initech, rendering what
	// otp-local (templates.Load of the YAML) renders.
	b, err := compiled.Load(dir)
	if err != nil {
		t.Fatal(err)
	}
	if got := strings.Join(b.Sets(), " "); got != "acme default globex initech" {
		t.Errorf("sets %q", got)
	}
	lib, err := templates.Load(templates.Embedded(), templates.Dir(dir))
	if err != nil {
		t.Fatal(err)
	}
	issued := time.Now()
	r := contract.SendRequest{V: contract.SendRequestVersion, Kind: contract.KindSignInCode, ID: "c", Tenant: "initech", Locale: "de-AT", To: "a@example.com", Name: "Jörg", Code: "123456", IssuedAt: issued, ExpiresAt: issued.Add(5 * time.Minute)}
	want, err := templates.ForMailer(lib).Render(context.Background(), r)
	if err != nil {
		t.Fatal(err)
	}
	got, err := b.Render(context.Background(), r)
	if err != nil {
		t.Fatal(err)
	}
	// Only the bundle knows its version: OTP_TEMPLATES_DIR's sets are "dir-…".
	if !strings.HasPrefix(got.Version, compiled.DirVersionPrefix) {
		t.Errorf("version %q", got.Version)
	}
	got.Version = ""
	if got != want || !strings.Contains(got.HTML, "Initech") {
		t.Errorf("compiled initech differs from the YAML's render (or lacks the product name)")
	}
}

func TestTemplatesCompileEmbeddedIsTheEmbeddedBundle(t *testing.T) {
	code, stdout, stderr := runCmd(t, "templates", "compile", "-o", "-")
	if code != exitOK {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	want, err := os.ReadFile("../../templates/compiled/embedded.bundle.json")
	if err != nil {
		t.Fatal(err)
	}
	if stdout != string(want) {
		t.Error("templates compile without DIR differs from templates/compiled/embedded.bundle.json (run go generate ./templates/...)")
	}
}

func TestTemplatesCompileJSON(t *testing.T) {
	dir := t.TempDir()
	copySet(t, dir, "initech")
	out := filepath.Join(t.TempDir(), "b.json")
	code, stdout, stderr := runCmd(t, "--json", "templates", "compile", dir, "-o", out)
	if code != exitOK {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	var r struct {
		File  string   `json:"file"`
		Sets  []string `json:"sets"`
		Bytes int      `json:"bytes"`
	}
	if err := json.Unmarshal([]byte(stdout), &r); err != nil {
		t.Fatalf("stdout is not JSON: %v\n%s", err, stdout)
	}
	st, err := os.Stat(out)
	if err != nil {
		t.Fatal(err)
	}
	if r.File != out || len(r.Sets) != 1 || r.Sets[0] != "initech" || int64(r.Bytes) != st.Size() {
		t.Errorf("report %+v, file of %d bytes", r, st.Size())
	}
}
