package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	cip "github.com/aws/aws-sdk-go-v2/service/cognitoidentityprovider"

	"github.com/cognito-email-otp/cognito-email-otp/deploy/local/awslocal"
	"github.com/cognito-email-otp/cognito-email-otp/deploy/local/otplocal"
	"github.com/cognito-email-otp/cognito-email-otp/deploy/local/signin"
	"github.com/cognito-email-otp/cognito-email-otp/templates/compiled"
)

// storeGolden is the operator's session below, as otpctl prints it;
// OTP_UPDATE_GOLDEN=1 rewrites it.
const storeGolden = "testdata/templates-store.golden"

// workingCopy copies an embedded set into dir/<name>, optionally renaming the
// product: the operator's working copy.
func workingCopy(t *testing.T, dir, name, product string) {
	t.Helper()
	src := filepath.Join("..", "..", "templates", "sets", name)
	err := filepath.Walk(src, func(p string, info os.FileInfo, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(src, p)
		dst := filepath.Join(dir, name, rel)
		if info.IsDir() {
			return os.MkdirAll(dst, 0o755)
		}
		data, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		if rel == "theme.yaml" && product != "" {
			data = regexp.MustCompile(`(?m)^product: .*$`).ReplaceAll(data, []byte("product: "+product))
		}
		return os.WriteFile(dst, data, 0o644)
	})
	if err != nil {
		t.Fatal(err)
	}
}

// TestTemplateStoreCommands drives publish, versions, rollback, current and
// the dead-letter listing against otp-local, and compares what an operator
// reads with a golden file (versions and sizes named, since they follow
// the example set's content).
func TestTemplateStoreCommands(t *testing.T) {
	sys, err := otplocal.Start(t.Context(), otplocal.Options{
		Addr: "127.0.0.1:0", Seed: otplocal.DefaultSeed(), TemplatesRefresh: 200 * time.Millisecond,
		SESRejectRecipients: []string{"lena@example.com"},
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = sys.Close() })
	clock := time.Date(2026, 3, 1, 9, 0, 0, 0, time.UTC)
	var mu sync.Mutex
	now = func() time.Time {
		mu.Lock()
		defer mu.Unlock()
		clock = clock.Add(time.Minute)
		return clock
	}
	t.Cleanup(func() { now = time.Now })
	ep := []string{"--endpoint", sys.URL}

	work := t.TempDir()
	orig, rebrand := filepath.Join(work, "orig"), filepath.Join(work, "rebrand")
	workingCopy(t, orig, "acme", "")
	workingCopy(t, rebrand, "acme", "Acme Rebrand")

	var transcript strings.Builder
	step := func(wantCode int, args ...string) string {
		t.Helper()
		code, out := otpctl(t, "", append(args, ep...)...)
		if code != wantCode {
			t.Fatalf("otpctl %s: exit %d, want %d\n%s", strings.Join(args, " "), code, wantCode, out)
		}
		transcript.WriteString("$ otpctl " + strings.Join(args, " ") + "\n" + out + "\n")
		return out
	}
	step(exitOK, "templates", "current")
	step(exitOK, "templates", "publish", orig)
	step(exitOK, "templates", "publish", rebrand, "--set", "acme")
	step(exitOK, "templates", "publish", rebrand)
	step(exitProblems, "templates", "publish", brokenSet)
	step(exitOK, "templates", "versions", "acme")
	step(exitOK, "templates", "rollback", "acme")
	step(exitProblems, "templates", "rollback", "acme", "--to", "ffff")
	step(exitOK, "templates", "versions", "globex")
	step(exitOK, "templates", "current")

	// A dead letter after rendering names the version that rendered it.
	time.Sleep(300 * time.Millisecond)
	c := signin.Client{Cognito: cip.NewFromConfig(awslocal.Config(sys.URL)), PoolID: otplocal.PoolID, ClientID: sys.Clients[0].ID}
	if _, err := c.Start(t.Context(), "lena@example.com", otplocal.DemoPassword); err != nil {
		t.Fatal(err)
	}
	var dl string
	for deadline := time.Now().Add(20 * time.Second); ; time.Sleep(100 * time.Millisecond) {
		_, dl = otpctl(t, "", append([]string{"dlq", "list"}, ep...)...)
		if strings.Contains(dl, "rejected") || time.Now().After(deadline) {
			break
		}
	}

	// Name what follows from the set's content, then compare.
	idx, _, err := sys.TemplateAdmin().Index(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	cur := idx.Sets["acme"]
	emb, _ := compiled.Embedded()
	pairs := []string{work, "<work>", cur.Version, "<acme-orig>", cur.Previous, "<acme-rebrand>", emb.Version("acme"), "<embedded>"}
	names := strings.NewReplacer(pairs...)
	got := names.Replace(transcript.String())
	got = regexp.MustCompile(`\b\d{5,6}\b`).ReplaceAllString(got, "<bytes>") // a set's bundle: tens to hundreds of KB
	// The versions table's header is as wide as the widest size, which
	// changes with every wording: one space stands for the padding.
	got = regexp.MustCompile(`BYTES +LOCALES`).ReplaceAllString(got, "BYTES  LOCALES")
	got = regexp.MustCompile(`embedded-[0-9a-f]{12}`).ReplaceAllString(got, "<embedded>")
	if os.Getenv("OTP_UPDATE_GOLDEN") == "1" {
		if err := os.WriteFile(storeGolden, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(storeGolden)
	if err != nil {
		t.Fatalf("%v (OTP_UPDATE_GOLDEN=1 writes it)", err)
	}
	if got != string(want) {
		t.Errorf("otpctl's template store session differs from %s (OTP_UPDATE_GOLDEN=1 rewrites it):\n%s", storeGolden, got)
	}
	if !strings.Contains(dl, "acme@"+cur.Version) {
		t.Errorf("dlq list does not name the template version %s:\n%s", cur.Version, dl)
	}

	// --json, on every command.
	for _, args := range [][]string{
		{"--json", "templates", "current"}, {"--json", "templates", "versions", "acme"},
		{"--json", "templates", "publish", orig}, {"--json", "templates", "rollback", "acme", "--to", "none"},
	} {
		code, out := otpctl(t, "", append(args, ep...)...)
		var v any
		if code != exitOK || json.Unmarshal([]byte(out), &v) != nil {
			t.Errorf("otpctl %v: exit %d, not JSON:\n%s", args, code, out)
		}
	}
}
