package compiled_test

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/cognito-email-otp/cognito-email-otp/templates"
	"github.com/cognito-email-otp/cognito-email-otp/templates/compiled"
)

// TestVersions: every email names the bundle its set came from, and
// layering keeps each set's own version.
func TestVersions(t *testing.T) {
	lib := load(t, templates.Embedded())
	acme := compile(t, lib, "acme")
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, compiled.BundleFile), acme, 0o644); err != nil {
		t.Fatal(err)
	}
	fromDir, err := compiled.Load(dir)
	if err != nil {
		t.Fatal(err)
	}
	store, err := compiled.Parse("store", acme)
	if err != nil {
		t.Fatal(err)
	}
	emb, err := compiled.Embedded()
	if err != nil {
		t.Fatal(err)
	}
	v := compiled.VersionOf(acme)
	for _, tc := range []struct {
		name   string
		b      *compiled.Bundle
		tenant string
		want   string
	}{
		{"embedded", emb, "acme", compiled.EmbeddedVersionPrefix},
		{"OTP_TEMPLATES_DIR over embedded", fromDir, "acme", compiled.DirVersionPrefix + v[:12]},
		{"the rest stays embedded", fromDir, "globex", compiled.EmbeddedVersionPrefix},
		{"a store bundle is its hash", emb.Layer(store), "acme", v},
		{"unknown tenant: the default set's version", emb.Layer(store), "nobody", compiled.EmbeddedVersionPrefix},
		{"later layers win", emb.Layer(fromDir, store), "acme", v},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e, err := tc.b.Render(context.Background(), request(tc.tenant, "en", "Ana", "123456", 3*time.Minute))
			if err != nil {
				t.Fatal(err)
			}
			if !strings.HasPrefix(e.Version, tc.want) || e.Version != tc.b.Version(e.Set) {
				t.Errorf("version %q (bundle says %q), want %q", e.Version, tc.b.Version(e.Set), tc.want)
			}
		})
	}
	if len(v) != compiled.VersionLen || compiled.VersionOf(acme) != v || compiled.VersionOf(append([]byte(nil), acme[1:]...)) == v {
		t.Errorf("VersionOf is not a stable content hash: %s", v)
	}
}
