package reliability

import (
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/cognito-email-otp/cognito-email-otp/deploy/local/otplocal"
	"github.com/cognito-email-otp/cognito-email-otp/deploy/local/seslocal"
	"github.com/cognito-email-otp/cognito-email-otp/templates/compiled"
	"github.com/cognito-email-otp/cognito-email-otp/templates/publish"
)

// TestPublishDuringABurst: 2,000 send requests through the real mailer
// binaries, and a new version of acme published while they are being
// sent. None may be lost, and every email must be rendered from exactly
// one version, the old or the new: its tag and its content agree, and all
// emails of one version and locale say the product the same number of
// times.
func TestPublishDuringABurst(t *testing.T) {
	if testing.Short() {
		t.Skip("2,000 messages through the real binaries")
	}
	const total = 2000
	bin := binaries(t)
	sys := start(t, otplocal.Options{
		FunctionsDir: bin, Instances: 2, TemplatesRefresh: time.Second, PublishSets: []string{"acme"},
		// Slow enough that the burst outlasts a refresh or two.
		SES: seslocal.Faults{Latency: 40 * time.Millisecond},
	})
	ctx := t.Context()
	admin := sys.TemplateAdmin()
	idx, _, err := admin.Index(ctx)
	if err != nil {
		t.Fatal(err)
	}
	old := idx.Sets["acme"].Version

	dir := t.TempDir()
	src := filepath.Join("..", "..", "..", "templates", "sets", "acme")
	if err := filepath.Walk(src, func(p string, info os.FileInfo, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(src, p)
		if info.IsDir() {
			return os.MkdirAll(filepath.Join(dir, "acme", rel), 0o755)
		}
		data, err := os.ReadFile(p)
		if rel == "theme.yaml" {
			data = regexp.MustCompile(`(?m)^product: .*$`).ReplaceAll(data, []byte("product: Acme Rebrand"))
		}
		if err != nil {
			return err
		}
		return os.WriteFile(filepath.Join(dir, "acme", rel), data, 0o644)
	}); err != nil {
		t.Fatal(err)
	}

	if err := enqueue(ctx, sys, requests(total, 0)); err != nil {
		t.Fatal(err)
	}
	for sys.SES.Outbox().Count() < total/6 {
		time.Sleep(20 * time.Millisecond)
	}
	changes, report, err := publish.Dir(ctx, admin, dir, nil, otplocal.SeedPublisher)
	if err != nil || !report.OK() {
		t.Fatalf("publish: %v %v", err, report.Problems)
	}
	fresh := changes[0].To
	publishedAt := sys.SES.Outbox().Count()
	waitDrained(t, sys, 3*time.Minute)

	l := account(t, sys)
	if len(l.sent) != total || len(l.deadLetter) != 0 || l.duplicates() != 0 {
		t.Fatalf("sent %d of %d, dead-lettered %d, duplicates %d", len(l.sent), total, len(l.deadLetter), l.duplicates())
	}
	byVersion := map[string]int{}
	mentions := map[string]int{} // version/locale -> times "Acme Rebrand" appears
	for _, e := range sys.SES.Outbox().List(seslocal.Filter{}) {
		v := e.Tags["template_version"]
		if e.Tenant != "acme" {
			if !strings.HasPrefix(v, compiled.EmbeddedVersionPrefix) {
				t.Errorf("%s email rendered from %s", e.Tenant, v)
			}
			continue
		}
		byVersion[v]++
		n := strings.Count(e.HTML, "Acme Rebrand") + strings.Count(e.Text, "Acme Rebrand")
		key := v + "/" + e.Tags["locale"]
		switch seen, ok := mentions[key]; {
		case v != old && v != fresh:
			t.Errorf("acme email rendered from %q, neither %s nor %s", v, old, fresh)
		case v == old && n != 0, v == fresh && n == 0:
			t.Errorf("acme email tagged %s says \"Acme Rebrand\" %d times: mixed versions", v, n)
		case ok && seen != n:
			t.Errorf("%s: emails of one version differ (%d and %d mentions): mixed versions", key, seen, n)
		default:
			mentions[key] = n
		}
	}
	t.Logf("%d emails; published after %d; acme: %d from the old version, %d from the new", total, publishedAt, byVersion[old], byVersion[fresh])
	if byVersion[old] == 0 || byVersion[fresh] == 0 {
		t.Errorf("versions seen %v: the publish did not land inside the burst", byVersion)
	}
	if n := sys.TemplateLoadFailures(); n != 0 {
		t.Errorf("%d template load failures", n)
	}
}
