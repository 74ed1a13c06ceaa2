package render

import (
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"golang.org/x/net/html"
	"golang.org/x/text/language"
)

// TestCommentEscapeIsNetHTMLRoundTrip: a value inside a comment comes out
// of x/net/html's parse and render as CommentEscape says, wherever the
// neighbours are not "!", "-" or ">" (which Parse refuses).
func TestCommentEscapeIsNetHTMLRoundTrip(t *testing.T) {
	for _, v := range []string{"plain", "a&b", "<x>", `"q" 'x' +`, "->", "!>", ">", "x>y", "&amp;", "-->", "--!>", "a--b"} {
		doc := "<html><body><!--[if mso]> " + TemplateEscapeForTest(v) + " <![endif]--></body></html>"
		n, err := html.Parse(strings.NewReader(doc))
		if err != nil {
			t.Fatal(err)
		}
		var b strings.Builder
		if err := html.Render(&b, n); err != nil {
			t.Fatal(err)
		}
		want := "<!--[if mso]> " + CommentEscape(v) + " <![endif]-->"
		if !strings.Contains(b.String(), want) {
			t.Errorf("value %q: rendered %s, want it to contain %s", v, b.String(), want)
		}
	}
}

// TemplateEscapeForTest is html/template's escaping of text, which hermes'
// templates apply before premailer parses the comment.
func TemplateEscapeForTest(s string) string {
	return strings.NewReplacer(`"`, "&#34;", `&`, "&amp;", `'`, "&#39;", `+`, "&#43;", `<`, "&lt;", `>`, "&gt;").Replace(s)
}

func TestListsLeaveItemsOut(t *testing.T) {
	const (
		html = "<h1>" + MarkGreeting + "</h1><p>\uE000A\uE001</p>\n <p>\uE000T0\uE001</p>\n <p>\uE000T1\uE001</p>\n <p>\uE000T2\uE001</p>\n <p>\uE000T3\uE001</p><p>bye</p>"
		text = MarkDivider + "\n" + MarkGreeting + "\n" + MarkDivider + "\n\n\uE000A\uE001\n\n\uE000T0\uE001\n\n\uE000T1\uE001\n\n\uE000T2\uE001\n\n\uE000T3\uE001\n\nbye"
	)
	b, err := Parse(ShapeTakeoverNoLinks, html, text)
	if err != nil {
		t.Fatal(err)
	}
	v := &Values{SlotGreeting: "Hi", SlotHappened: "Blocked.", SlotDetail0: "When: now", SlotDetail2: "Where: <here>"}
	h, x := b.Render(v)
	if want := "<h1>Hi</h1><p>Blocked.</p>\n <p>When: now</p>\n <p>Where: &lt;here&gt;</p><p>bye</p>"; h != want {
		t.Errorf("HTML\n got  %q\n want %q", h, want)
	}
	if want := "--\nHi\n--\n\nBlocked.\n\nWhen: now\n\nWhere: <here>\n\nbye"; x != want {
		t.Errorf("text\n got  %q\n want %q", x, want)
	}
	if m, _ := b.Marked(); m != html {
		t.Errorf("Marked does not give the bundle's form back:\n%q", m)
	}
	bad := strings.Replace(html, "</p>\n <p>\uE000T2", "</p>\n  <p>\uE000T2", 1)
	if _, err := Parse(ShapeTakeoverNoLinks, bad, text); err == nil || !strings.Contains(err.Error(), "differs") {
		t.Errorf("uneven separators: error %v", err)
	}
	if _, err := Parse(ShapeTakeoverNoLinks, html+"<!-- \uE000U\uE001 -->", text); err == nil {
		t.Error("a username marker in a takeover body was accepted")
	}
}

func TestCommentNeighboursRefused(t *testing.T) {
	const text = MarkDivider + "\n" + MarkGreeting + "\n" + MarkDivider + "\n\n" + MarkExpiry + "\n\n" + MarkCode
	for _, c := range []string{"<!--x!" + MarkCode + "-->", "<!--x-" + MarkCode + "-->", "<!--x" + MarkCode + ">-->"} {
		html := "<h1>" + MarkGreeting + "</h1><p>" + MarkExpiry + "</p>" + c
		if _, err := Parse(ShapeCode, html, text); err == nil || !strings.Contains(err.Error(), "in a comment") {
			t.Errorf("%q: error %v", c, err)
		}
	}
}

func TestValidLink(t *testing.T) {
	for link, want := range map[string]bool{
		"https://example.com/feedback?t=a+b&v=1":           true,
		"https://cognito-idp.example/x/y%2Fz":              true,
		"http://example.com/":                              false,
		"javascript:alert(1)":                              false,
		"https://":                                         false,
		"https://user@example.com/":                        false,
		"https://example.com/a b":                          false,
		`https://example.com/"><script>`:                   false,
		"https://example.com/(paren)":                      false,
		"https://example.com/it's":                         false,
		"https://exämple.com/":                             false,
		"HTTPS://example.com/":                             false,
		"https://example.com/" + strings.Repeat("a", 2048): false,
	} {
		if got := ValidLink(link); got != want {
			t.Errorf("ValidLink(%q) = %v, want %v", link, got, want)
		}
	}
}

func TestFormatTime(t *testing.T) {
	at := time.Date(2026, 3, 4, 21, 5, 0, 0, time.FixedZone("CET", 3600))
	for tag, want := range map[string]string{
		"en":      "March 4, 2026, 8:05 PM UTC",
		"de":      "4. März 2026 um 20:05 UTC",
		"es":      "4 de marzo de 2026, 20:05 UTC",
		"fr-CA":   "4 mars 2026 à 20:05 UTC",
		"it":      "4 marzo 2026 alle 20:05 UTC",
		"pt-BR":   "4 de março de 2026 às 20:05 UTC",
		"ja":      "2026年3月4日 20:05 UTC",
		"zh-Hans": "2026年3月4日 20:05 UTC",
		"ar":      "4 مارس 2026، 20:05 UTC",
		"nl":      "2026-03-04 20:05 UTC",
	} {
		if got := FormatTime(language.MustParse(tag), at); got != want {
			t.Errorf("%s: %q, want %q", tag, got, want)
		}
	}
}

func TestUnitCount(t *testing.T) {
	for _, tc := range []struct {
		u    Unit
		ttl  time.Duration
		want int64
	}{
		{UnitMinutes, 30 * time.Second, 1}, {UnitHours, time.Hour, 1}, {UnitHours, 61 * time.Minute, 2},
		{UnitDays, 24 * time.Hour, 1}, {UnitDays, 24*time.Hour + time.Second, 2}, {UnitDays, time.Minute, 1},
	} {
		if got := tc.u.Count(tc.ttl); got != tc.want {
			t.Errorf("%s of %s = %d, want %d", tc.u, tc.ttl, got, tc.want)
		}
	}
}

func TestDeltaRoundTrip(t *testing.T) {
	base := strings.Repeat("<td style=\"color:#74787E\">مرحبًا بك في Example</td>\n", 20)
	for _, target := range []string{
		base, "", "x", strings.Replace(base, "Example", "Globex", 3), "مرحبًا" + base[7:] + "王芳",
		strings.Replace(base, "بك", "ـ", -1),
	} {
		d := MakeDelta(base, target)
		if !utf8.ValidString(d) {
			t.Errorf("delta of %d bytes is not valid UTF-8", len(target))
		}
		got, err := ApplyDelta(base, d)
		if err != nil || got != target {
			t.Errorf("round trip: %v; got %d bytes, want %d", err, len(got), len(target))
		}
	}
	if d := MakeDelta(base, base); len(d) > 20 {
		t.Errorf("the base against itself is %d bytes of delta, want one reference", len(d))
	}
	for _, bad := range []string{DeltaOpen + "0,9999" + DeltaClose, DeltaOpen + "-1,2" + DeltaClose, DeltaOpen + "1", "x" + DeltaClose, DeltaOpen + "a,b" + DeltaClose} {
		if _, err := ApplyDelta(base, bad); err == nil {
			t.Errorf("ApplyDelta(%q) succeeded", bad)
		}
	}
}
