package preview

import (
	"context"
	"image/png"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/cognito-email-otp/cognito-email-otp/templates"
)

func TestWrite(t *testing.T) {
	lib, err := templates.Load(templates.Embedded())
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	pages, err := Write(context.Background(), lib, dir, Options{})
	if err != nil {
		t.Fatal(err)
	}
	want := 0
	for _, set := range lib.Sets() {
		want += len(lib.Locales(set))
	}
	if len(pages) != want {
		t.Errorf("%d pages, want one per set and locale (%d)", len(pages), want)
	}
	index, err := os.ReadFile(filepath.Join(dir, "index.html"))
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range pages {
		for _, f := range []string{p.HTMLFile, p.TextFile} {
			b, err := os.ReadFile(filepath.Join(dir, filepath.FromSlash(f)))
			if err != nil {
				t.Fatal(err)
			}
			if !strings.Contains(string(b), "123456") {
				t.Errorf("%s lacks the sample code", f)
			}
		}
		if !strings.Contains(string(index), `href="`+p.HTMLFile+`"`) {
			t.Errorf("index.html does not link %s", p.HTMLFile)
		}
	}
}

func TestSampleName(t *testing.T) {
	for locale, want := range map[string]string{"ar": "ليلى", "pt-BR": "João", "zh-Hans": "王芳", "fr-CA": "Camille", "sv": "Alex"} {
		if got := sampleName(locale); got != want {
			t.Errorf("sampleName(%s) = %s, want %s", locale, got, want)
		}
	}
}

// TestScreenshot drives the real browser; it is skipped without one.
func TestScreenshot(t *testing.T) {
	if testing.Short() {
		t.Skip("starts Chromium")
	}
	if _, err := os.Stat(DefaultChromium); err != nil {
		t.Skipf("no %s (apt-get install -y chromium)", DefaultChromium)
	}
	lib, err := templates.Load(templates.Embedded())
	if err != nil {
		t.Fatal(err)
	}
	e, err := lib.Render(templates.Message{Tenant: "globex", Locale: "ar", Name: "ليلى", Code: "123456", TTL: 10 * time.Minute})
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	htmlPath, pngPath := filepath.Join(dir, "e.html"), filepath.Join(dir, "e.png")
	if err := os.WriteFile(htmlPath, []byte(e.HTML), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := Screenshot(context.Background(), "", htmlPath, pngPath, 600); err != nil {
		t.Fatal(err)
	}
	f, err := os.Open(pngPath)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	cfg, err := png.DecodeConfig(f)
	if err != nil {
		t.Fatal(err)
	}
	if cfg.Width != 600 || cfg.Height < 300 || cfg.Height >= 1400 {
		t.Errorf("screenshot is %dx%d; want 600 wide, cropped below 1400", cfg.Width, cfg.Height)
	}
}
