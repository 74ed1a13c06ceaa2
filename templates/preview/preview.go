// Package preview writes a gallery of every template set in every locale:
// HTML and plain text side by side with an index page, and optionally PNG
// screenshots taken with headless Chromium, for reviewing copy and branding
// and for the README's pictures.
//
// It is an operator's and a developer's tool: the mailer never imports it,
// so that the Lambda binary carries no browser-driving code. It never sends
// anything and never reaches the network: Chromium runs with every host
// name unresolvable, so a logo URL is not fetched (it shows as missing).
package preview

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"html/template"
	"image"
	"image/png"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"time"

	"github.com/cognito-email-otp/cognito-email-otp/templates"
	"golang.org/x/text/language"
)

// Options control a gallery.
type Options struct {
	// Code and TTL of the sample message; zero values mean "123456" and
	// 10 minutes.
	Code string
	TTL  time.Duration
	// Screenshots takes a PNG of every HTML page with Chromium.
	Screenshots bool
	// Chromium is the browser binary; empty means /usr/bin/chromium.
	Chromium string
	// Width of the screenshots in CSS pixels; zero means 720.
	Width int
}

// Page is one rendered (set, locale) in the gallery. Paths are relative to
// the gallery directory.
type Page struct {
	Set      string `json:"set"`
	Locale   string `json:"locale"`
	Subject  string `json:"subject"`
	HTMLFile string `json:"html"`
	TextFile string `json:"text"`
	PNGFile  string `json:"png,omitempty"`
	HTMLSize int    `json:"htmlBytes"`
	Name     string `json:"sampleName"`
}

// sampleNames gives each language a plausible recipient, so that a
// screenshot shows how a local name sits in the greeting.
var sampleNames = map[string]string{
	"ar": "ليلى", "de": "Jonas", "en": "Alex", "es": "Lucía", "fr": "Camille",
	"it": "Giulia", "ja": "佐藤", "pt": "João", "zh": "王芳",
}

func sampleName(locale string) string {
	base, _ := language.Make(locale).Base()
	if n, ok := sampleNames[base.String()]; ok {
		return n
	}
	return "Alex"
}

// Write renders every set x locale of lib into dir (created if needed) as
// <set>/<locale>.html and .txt, plus index.html, and with
// opt.Screenshots a <set>/<locale>.png each. It returns the pages written.
func Write(ctx context.Context, lib *templates.Library, dir string, opt Options) ([]Page, error) {
	if opt.Code == "" {
		opt.Code = "123456"
	}
	if opt.TTL == 0 {
		opt.TTL = 10 * time.Minute
	}
	var pages []Page
	for _, set := range lib.Sets() {
		if err := os.MkdirAll(filepath.Join(dir, set), 0o755); err != nil {
			return nil, err
		}
		for _, loc := range lib.Locales(set) {
			name := sampleName(loc)
			e, err := lib.Render(templates.Message{Tenant: set, Locale: loc, Name: name, Code: opt.Code, TTL: opt.TTL})
			if err != nil {
				return nil, fmt.Errorf("render %s/%s: %w", set, loc, err)
			}
			p := Page{
				Set: set, Locale: loc, Subject: e.Subject, Name: name,
				HTMLFile: set + "/" + loc + ".html",
				TextFile: set + "/" + loc + ".txt",
				HTMLSize: len(e.HTML),
			}
			if err := os.WriteFile(filepath.Join(dir, filepath.FromSlash(p.HTMLFile)), []byte(e.HTML), 0o644); err != nil {
				return nil, err
			}
			if err := os.WriteFile(filepath.Join(dir, filepath.FromSlash(p.TextFile)), []byte(e.Text+"\n"), 0o644); err != nil {
				return nil, err
			}
			pages = append(pages, p)
		}
	}
	if opt.Screenshots {
		for i := range pages {
			p := &pages[i]
			png := strings.TrimSuffix(p.HTMLFile, ".html") + ".png"
			if err := Screenshot(ctx, opt.Chromium, filepath.Join(dir, filepath.FromSlash(p.HTMLFile)), filepath.Join(dir, filepath.FromSlash(png)), opt.Width); err != nil {
				return nil, fmt.Errorf("screenshot %s/%s: %w", p.Set, p.Locale, err)
			}
			p.PNGFile = png
		}
	}
	var b bytes.Buffer
	if err := indexTmpl.Execute(&b, pages); err != nil {
		return nil, err
	}
	if err := os.WriteFile(filepath.Join(dir, "index.html"), b.Bytes(), 0o644); err != nil {
		return nil, err
	}
	return pages, nil
}

var indexTmpl = template.Must(template.New("index").Parse(`<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>OTP email previews</title>
<style>
body { font-family: system-ui, sans-serif; margin: 2rem; color: #222; }
table { border-collapse: collapse; }
th, td { text-align: left; padding: .35rem .8rem; border-bottom: 1px solid #ddd; vertical-align: top; }
td.subject { max-width: 28rem; }
img { width: 240px; border: 1px solid #ccc; }
</style>
</head>
<body>
<h1>OTP email previews</h1>
<table>
<tr><th>Set</th><th>Locale</th><th>Subject</th><th>Files</th><th>HTML size</th>{{if and . (index . 0).PNGFile}}<th>Screenshot</th>{{end}}</tr>
{{range .}}<tr>
<td>{{.Set}}</td><td>{{.Locale}}</td><td class="subject" lang="{{.Locale}}">{{.Subject}}</td>
<td><a href="{{.HTMLFile}}">HTML</a> · <a href="{{.TextFile}}">text</a></td>
<td>{{.HTMLSize}} B</td>{{if .PNGFile}}<td><a href="{{.PNGFile}}"><img src="{{.PNGFile}}" alt="{{.Set}} {{.Locale}}"></a></td>{{end}}
</tr>
{{end}}</table>
</body>
</html>
`))

// DefaultChromium is where Debian's chromium package puts the browser.
const DefaultChromium = "/usr/bin/chromium"

// Screenshot renders htmlPath with headless Chromium into pngPath, width
// CSS pixels wide (0 means 720), cropped below the last line of content.
func Screenshot(ctx context.Context, chromium, htmlPath, pngPath string, width int) error {
	if chromium == "" {
		chromium = DefaultChromium
	}
	if width == 0 {
		width = 720
	}
	abs, err := filepath.Abs(htmlPath)
	if err != nil {
		return err
	}
	profile, err := os.MkdirTemp("", "otp-preview-chromium-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(profile)

	ctx, cancel := context.WithTimeout(ctx, 90*time.Second)
	defer cancel()
	// A tall window, cropped afterwards: headless Chromium's --screenshot
	// captures the viewport, not the page.
	const height = 1400
	cmd := exec.CommandContext(ctx, chromium,
		"--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
		"--disable-background-networking", "--disable-component-update", "--disable-sync",
		"--user-data-dir="+profile, "--hide-scrollbars",
		"--host-resolver-rules=MAP * ~NOTFOUND",
		"--force-device-scale-factor=1",
		fmt.Sprintf("--window-size=%d,%d", width, height),
		"--screenshot="+pngPath,
		"file://"+filepath.ToSlash(abs),
	)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	if err := cmd.Run(); err != nil {
		if errors.Is(err, exec.ErrNotFound) {
			return fmt.Errorf("%s not found; install it with: apt-get update && apt-get install -y chromium", chromium)
		}
		return fmt.Errorf("%s: %w: %s", chromium, err, lastLine(stderr.String()))
	}
	return cropBottom(pngPath, 32)
}

func lastLine(s string) string {
	lines := strings.Split(strings.TrimSpace(s), "\n")
	return lines[len(lines)-1]
}

// cropBottom cuts the uniform band at the bottom of a screenshot, keeping
// margin pixels of it.
func cropBottom(path string, margin int) error {
	f, err := os.Open(path)
	if err != nil {
		return err
	}
	img, err := png.Decode(f)
	f.Close()
	if err != nil {
		return err
	}
	b := img.Bounds()
	bg := img.At(b.Min.X, b.Max.Y-1)
	last := b.Min.Y
rows:
	for y := b.Max.Y - 1; y >= b.Min.Y; y-- {
		for x := b.Min.X; x < b.Max.X; x++ {
			if img.At(x, y) != bg {
				last = y
				break rows
			}
		}
	}
	bottom := min(last+1+margin, b.Max.Y)
	sub, ok := img.(interface {
		SubImage(image.Rectangle) image.Image
	})
	if !ok || bottom >= b.Max.Y {
		return nil
	}
	out, err := os.Create(path)
	if err != nil {
		return err
	}
	if err := png.Encode(out, sub.SubImage(image.Rect(b.Min.X, b.Min.Y, b.Max.X, bottom))); err != nil {
		out.Close()
		return err
	}
	return out.Close()
}
