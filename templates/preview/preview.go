// Package preview writes a gallery of every template set in every locale
// and every kind of email:
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
	"io"
	"os"
	"os/exec"
	"path"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/cognito-email-otp/cognito-email-otp/mailer/contract"
	"github.com/cognito-email-otp/cognito-email-otp/templates"
	"golang.org/x/text/language"
	"golang.org/x/text/language/display"
)

// DefaultTTL is the code lifetime a preview shows when none is given: the
// Create trigger's default (OTP_CODE_TTL, triggers.CreateConfig.CodeTTL),
// so that the expiry sentence reads as it does in the emails a deployment
// with default settings sends. A test holds the two together.
const DefaultTTL = 3 * time.Minute

// DefaultCode is the sample code.
const DefaultCode = "123456"

// ErrFilter marks a --set or --locale filter that names nothing: a
// typing mistake, reported rather than answered with an empty gallery.
var ErrFilter = errors.New("nothing to preview")

// Options control a gallery.
type Options struct {
	// Code and TTL of the sample message; zero values mean DefaultCode and
	// DefaultTTL. Pass the deployment's OTP_CODE_TTL to see its wording.
	Code string
	TTL  time.Duration
	// Sets, when not empty, limits the gallery to these set names.
	Sets []string
	// Kinds are the kinds of email to show: contract.Kinds for every one.
	// Empty means the sign-in code alone, as galleries were before kinds,
	// so a caller that does not ask gets the pages it always got. TTL is
	// the sign-in code's lifetime; the other kinds show KindTTL's.
	Kinds []contract.Kind
	// Locales, when not empty, limits it to these BCP 47 tags: a tag
	// selects the locale of that name ("fr-CA"), and a bare language also
	// selects its regional and script variants ("fr" selects fr and fr-CA,
	// "zh" selects zh-Hans). Each must select something in some set.
	Locales []string
	// Screenshots takes a PNG of every HTML page with Chromium.
	Screenshots bool
	// Chromium is the browser binary; empty means /usr/bin/chromium.
	Chromium string
	// Width of the screenshots in CSS pixels; zero means 720.
	Width int
	// Progress, when not nil, gets one line per page as it is written
	// ("[ 3/17] acme/fr 2.1s"): with screenshots a gallery takes about two
	// seconds a page.
	Progress io.Writer
}

// Page is one rendered (set, locale) in the gallery. Paths are relative to
// the gallery directory.
type Page struct {
	Set    string        `json:"set"`
	Locale string        `json:"locale"`
	Kind   contract.Kind `json:"kind"`
	// KindFallback says the set has no wording of its own for the kind:
	// the page shows the default set's, in the set's theme.
	KindFallback bool   `json:"kindFallback,omitempty"`
	Language     string `json:"language"` // the locale's name in English, then in itself
	Dir          string `json:"dir"`      // "ltr" or "rtl"
	Subject      string `json:"subject"`
	HTMLFile     string `json:"html"`
	TextFile     string `json:"text"`
	PNGFile      string `json:"png,omitempty"`
	HTMLSize     int    `json:"htmlBytes"`
	Name         string `json:"sampleName"`
	text         string // the plain-text part, shown on the index page
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

// languageName is "German · Deutsch": the English name for the reviewer,
// the locale's own name for the translator.
func languageName(locale string) string {
	tag := language.Make(locale)
	en, self := display.English.Tags().Name(tag), display.Self.Name(tag)
	switch {
	case en == "":
		return self
	case self == "" || self == en:
		return en
	}
	return en + " · " + self
}

type pick struct {
	set, locale string
	kind        contract.Kind
}

// KindTTL is the lifetime a preview shows for each kind but the sign-in
// code (whose lifetime is Options.TTL): what a user pool with Cognito's
// defaults gives its codes and temporary passwords (a sign-up or attribute
// code lasts 24 hours, a password reset code one hour, a temporary
// password 7 days). The Custom Email Sender trigger sets the real ones.
var KindTTL = map[contract.Kind]time.Duration{
	contract.KindSignUpVerification:    24 * time.Hour,
	contract.KindInvitation:            7 * 24 * time.Hour,
	contract.KindAttributeVerification: 24 * time.Hour,
	contract.KindPasswordReset:         time.Hour,
	contract.KindMFACode:               3 * time.Minute,
	contract.KindAccountTakeover:       time.Hour,
}

// SampleTakeover is what a preview's takeover notice reports.
func SampleTakeover() *contract.Takeover {
	return &contract.Takeover{EventID: "preview", Action: "BLOCK", LoginTime: time.Date(2026, 3, 14, 15, 9, 0, 0, time.UTC),
		IPAddress: "203.0.113.24", City: "Lyon", Country: "France", Device: "Firefox 128, Windows 11",
		ThisWasMe:    "https://example.com/feedback?answer=valid",
		ThisWasNotMe: "https://example.com/feedback?answer=invalid"}
}

// SampleUsername and SamplePassword are an invitation's, the password with
// the symbols that need escaping.
const (
	SampleUsername = "alex.martin"
	SamplePassword = "Tmp-7&k<Q9\"x!"
)

// sampleMessage is the message a page renders.
func sampleMessage(pk pick, opt Options) templates.Message {
	m := templates.Message{Tenant: pk.set, Locale: pk.locale, Kind: pk.kind, Name: sampleName(pk.locale), Code: opt.Code, TTL: opt.TTL}
	if pk.kind == contract.KindSignInCode {
		return m
	}
	m.TTL = KindTTL[pk.kind]
	switch pk.kind {
	case contract.KindInvitation:
		m.Code, m.Username, m.TemporaryPassword = "", SampleUsername, SamplePassword
	case contract.KindAccountTakeover:
		m.Code, m.Takeover = "", SampleTakeover()
	}
	return m
}

// selectPages lists the (set, locale, kind) triples the filters let
// through, in set, kind, then locale order.
func selectPages(lib *templates.Library, sets, locales []string, kinds []contract.Kind) ([]pick, error) {
	for _, k := range kinds {
		if !k.Known() {
			var names []string
			for _, known := range contract.Kinds {
				names = append(names, string(known))
			}
			return nil, fmt.Errorf("%w: kind %s: no such kind; there are %s", ErrFilter, k, strings.Join(names, ", "))
		}
	}
	if len(kinds) == 0 {
		kinds = []contract.Kind{contract.KindSignInCode}
	}
	all := lib.Sets()
	for _, s := range sets {
		if !slices.Contains(all, s) {
			return nil, fmt.Errorf("%w: set %s: no such set; there are %s", ErrFilter, s, strings.Join(all, ", "))
		}
	}
	type filter struct {
		arg  string
		tag  language.Tag
		bare bool // a language alone: selects its variants too
		used bool
	}
	filters := make([]*filter, 0, len(locales))
	for _, l := range locales {
		tag, err := language.Parse(l)
		if err != nil {
			return nil, fmt.Errorf("%w: locale %s: %v", ErrFilter, l, err)
		}
		base, script, region := tag.Raw()
		bare := script == language.Script{} && region == language.Region{} && tag.String() == base.String()
		filters = append(filters, &filter{arg: l, tag: tag, bare: bare})
	}
	var picks []pick
	for _, s := range all {
		if len(sets) > 0 && !slices.Contains(sets, s) {
			continue
		}
		for _, loc := range lib.Locales(s) {
			keep := len(filters) == 0
			locTag := language.Make(loc)
			lb, _ := locTag.Base()
			for _, f := range filters {
				fb, _ := f.tag.Base()
				if locTag.String() == f.tag.String() || f.bare && fb == lb {
					f.used, keep = true, true
				}
			}
			if keep {
				picks = append(picks, pick{set: s, locale: loc})
			}
		}
	}
	// Every kind of each set, its locales together.
	var out []pick
	for i := 0; i < len(picks); {
		j := i
		for j < len(picks) && picks[j].set == picks[i].set {
			j++
		}
		for _, k := range contract.Kinds {
			if !slices.Contains(kinds, k) {
				continue
			}
			for _, p := range picks[i:j] {
				p.kind = k
				out = append(out, p)
			}
		}
		i = j
	}
	for _, f := range filters {
		if !f.used {
			var have []string
			for _, s := range all {
				if len(sets) == 0 || slices.Contains(sets, s) {
					have = append(have, s+": "+strings.Join(lib.Locales(s), " "))
				}
			}
			return nil, fmt.Errorf("%w: locale %s: no such locale in %s", ErrFilter, f.arg, strings.Join(have, "; "))
		}
	}
	return out, nil
}

// Write renders every set x locale of lib (or those opt's filters select)
// into dir (created if needed) as <set>/<locale>.html and .txt, plus
// index.html, and with opt.Screenshots a <set>/<locale>.png each. It
// returns the pages written. A filter that selects nothing fails with an
// error wrapping ErrFilter, before anything is written.
func Write(ctx context.Context, lib *templates.Library, dir string, opt Options) ([]Page, error) {
	if opt.Code == "" {
		opt.Code = DefaultCode
	}
	if opt.TTL == 0 {
		opt.TTL = DefaultTTL
	}
	if opt.TTL < 0 {
		return nil, fmt.Errorf("preview: lifetime %s: want a positive duration", opt.TTL)
	}
	picks, err := selectPages(lib, opt.Sets, opt.Locales, opt.Kinds)
	if err != nil {
		return nil, err
	}
	pages := make([]Page, 0, len(picks))
	for i, pk := range picks {
		if err := ctx.Err(); err != nil {
			return nil, fmt.Errorf("preview: %w", err)
		}
		started := time.Now()
		p, err := writePage(ctx, lib, dir, pk, opt)
		if err != nil {
			return nil, err
		}
		pages = append(pages, p)
		if opt.Progress != nil {
			took := ""
			if opt.Screenshots {
				took = " " + time.Since(started).Round(100*time.Millisecond).String()
			}
			fmt.Fprintf(opt.Progress, "[%*d/%d] %s%s\n", len(fmt.Sprint(len(picks))), i+1, len(picks), pk, took)
		}
	}
	var b bytes.Buffer
	if err := indexTmpl.Execute(&b, indexData{Pages: pages, Sets: groupBySet(lib, pages), Code: opt.Code, TTL: opt.TTL, Screenshots: opt.Screenshots}); err != nil {
		return nil, fmt.Errorf("preview: index.html: %w", err)
	}
	if err := os.WriteFile(filepath.Join(dir, "index.html"), b.Bytes(), 0o644); err != nil {
		return nil, fmt.Errorf("preview: %w", err)
	}
	return pages, nil
}

// String is "acme/de" for the sign-in code, "acme/de invitation" for
// another kind.
func (pk pick) String() string {
	if pk.kind == contract.KindSignInCode {
		return pk.set + "/" + pk.locale
	}
	return pk.set + "/" + pk.locale + " " + string(pk.kind)
}

// path is the page's files' path without the extension: <set>/<locale>
// for the sign-in code, <set>/<kind>/<locale> for the others (as the
// golden files are laid out).
func (pk pick) path() string {
	if pk.kind == contract.KindSignInCode {
		return pk.set + "/" + pk.locale
	}
	return pk.set + "/" + string(pk.kind) + "/" + pk.locale
}

// writePage renders one (set, locale, kind) as the mailer would and
// writes its files.
func writePage(ctx context.Context, lib *templates.Library, dir string, pk pick, opt Options) (Page, error) {
	if err := os.MkdirAll(filepath.Join(dir, filepath.FromSlash(path.Dir(pk.path()))), 0o755); err != nil {
		return Page{}, fmt.Errorf("preview: %w", err)
	}
	m := sampleMessage(pk, opt)
	e, err := lib.Render(m)
	if err != nil {
		return Page{}, fmt.Errorf("render %s: %w", pk, err)
	}
	dirAttr := direction(lib, pk.set, pk.locale)
	p := Page{
		Set: pk.set, Locale: pk.locale, Kind: pk.kind, KindFallback: e.KindFallback,
		Language: languageName(pk.locale), Dir: dirAttr,
		Subject: e.Subject, Name: m.Name,
		HTMLFile: pk.path() + ".html",
		TextFile: pk.path() + ".txt",
		HTMLSize: len(e.HTML),
		text:     e.Text,
	}
	if err := os.WriteFile(filepath.Join(dir, filepath.FromSlash(p.HTMLFile)), []byte(e.HTML), 0o644); err != nil {
		return Page{}, fmt.Errorf("preview: %w", err)
	}
	if err := os.WriteFile(filepath.Join(dir, filepath.FromSlash(p.TextFile)), []byte(e.Text+"\n"), 0o644); err != nil {
		return Page{}, fmt.Errorf("preview: %w", err)
	}
	if opt.Screenshots {
		png := strings.TrimSuffix(p.HTMLFile, ".html") + ".png"
		if err := Screenshot(ctx, opt.Chromium, filepath.Join(dir, filepath.FromSlash(p.HTMLFile)), filepath.Join(dir, filepath.FromSlash(png)), opt.Width); err != nil {
			return Page{}, fmt.Errorf("screenshot %s: %w", pk, err)
		}
		p.PNGFile = png
	}
	return p, nil
}

// direction is the locale's writing direction, "ltr" or "rtl", as its
// emails' dir attribute says: the text part has no markup to say it, so the
// index aligns it.
func direction(lib *templates.Library, set, locale string) string {
	b, _ := lib.Branding(set)
	for _, l := range b.Locales {
		if l.Tag == locale {
			return l.Dir
		}
	}
	return "ltr"
}

type setGroup struct {
	Name, Source string
	Pages        []Page
}

type indexData struct {
	Pages       []Page
	Sets        []setGroup
	Code        string
	TTL         time.Duration
	Screenshots bool
}

func groupBySet(lib *templates.Library, pages []Page) []setGroup {
	var groups []setGroup
	for _, p := range pages {
		if len(groups) == 0 || groups[len(groups)-1].Name != p.Set {
			groups = append(groups, setGroup{Name: p.Set, Source: lib.Source(p.Set)})
		}
		g := &groups[len(groups)-1]
		g.Pages = append(g.Pages, p)
	}
	return groups
}

var indexTmpl = template.Must(template.New("index").Funcs(template.FuncMap{
	"text": func(p Page) string { return p.text },
	"ttl":  formatTTL,
}).Parse(`<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>OTP email previews</title>
<style>
body { font-family: system-ui, sans-serif; margin: 2rem; color: #222; background: #f6f6f6; }
nav a { margin-right: 1rem; }
h2 { margin-top: 2.5rem; border-bottom: 2px solid #ccc; padding-bottom: .3rem; }
h2 small { font-weight: normal; color: #666; font-size: .9rem; }
.grid { display: grid; grid-template-columns: repeat(auto-fill, minmax(380px, 1fr)); gap: 1.2rem; }
.card { background: #fff; border: 1px solid #ddd; border-radius: 6px; padding: .9rem; }
.card h3 { margin: 0 0 .5rem; font-size: 1.05rem; }
.card h3 span { font-weight: normal; color: #555; }
.card h3 .kind { float: right; font-size: .85rem; font-family: monospace; }
.thumb { display: block; margin: .3rem 0 .6rem; }
.thumb img { width: 100%; max-width: 360px; border: 1px solid #ccc; }
.subject { font-size: 1.05rem; margin: .4rem 0; }
.meta { color: #555; font-size: .9rem; margin: .4rem 0; }
pre { white-space: pre-wrap; background: #fafafa; border: 1px solid #eee; padding: .6rem; font-size: .85rem; }
/* Right-to-left text reads from the right edge, in the index as in the email. */
[dir="rtl"] { text-align: right; }
</style>
</head>
<body>
<h1>OTP email previews</h1>
<p>{{len .Pages}} email{{if ne (len .Pages) 1}}s{{end}}, rendered as the mailer renders them: sample code {{.Code}}, sign-in code lifetime {{ttl .TTL}}
(the expiry sentence reads as in an email from a Create trigger with <code>OTP_CODE_TTL={{ttl .TTL}}</code>); the other kinds with Cognito's default lifetimes.
A kind marked "the default set's wording" is one the set has no wording for: it borrows the default set's, in the set's own theme.</p>
<nav>{{range .Sets}}<a href="#set-{{.Name}}">{{.Name}}</a> {{end}}</nav>
{{range .Sets}}
<h2 id="set-{{.Name}}">{{.Name}} <small>{{len .Pages}} email{{if ne (len .Pages) 1}}s{{end}} · {{.Source}}</small></h2>
<div class="grid">
{{range .Pages}}<section class="card" id="{{.Set}}-{{if ne .Kind "signin_code"}}{{.Kind}}-{{end}}{{.Locale}}">
<h3>{{.Locale}} <span>{{.Language}}</span> <span class="kind">{{.Kind}}{{if .KindFallback}} · the default set's wording{{end}}</span></h3>
<p class="subject" lang="{{.Locale}}" dir="{{.Dir}}">{{.Subject}}</p>
{{if .PNGFile}}<a class="thumb" href="{{.HTMLFile}}"><img src="{{.PNGFile}}" alt="{{.Set}} {{.Locale}} screenshot" loading="lazy"></a>{{end}}
<p class="meta"><a href="{{.HTMLFile}}">HTML</a> · <a href="{{.TextFile}}">text</a>{{if .PNGFile}} · <a href="{{.PNGFile}}">PNG</a>{{end}}
· {{.HTMLSize}} bytes · {{.Dir}} · sample name <span lang="{{.Locale}}">{{.Name}}</span></p>
<details><summary>Plain-text part</summary><pre lang="{{.Locale}}" dir="{{.Dir}}">{{text .}}</pre></details>
</section>
{{end}}</div>
{{end}}
</body>
</html>
`))

// formatTTL writes a lifetime as an operator writes OTP_CODE_TTL: "3m",
// not time.Duration's "3m0s".
func formatTTL(d time.Duration) string {
	s := d.String()
	if d >= time.Minute && d%time.Minute == 0 {
		s = strings.TrimSuffix(s, "0s")
		if d%time.Hour == 0 {
			s = strings.TrimSuffix(s, "0m")
		}
	}
	return s
}

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
