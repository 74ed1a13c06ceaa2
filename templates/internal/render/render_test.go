package render

import (
	"strings"
	"testing"
	"time"

	"golang.org/x/net/html"
)

func TestEscapeHTMLIsNetHTMLEscapeString(t *testing.T) {
	for _, s := range []string{
		"", "plain", `<script>&'"+</script>`, "a\r\nb", "&amp;", "\x00", "ليلى", strings.Repeat("<&>'\"", 100),
	} {
		if got, want := EscapeHTML(s), html.EscapeString(s); got != want {
			t.Errorf("EscapeHTML(%q) = %q, want %q", s, got, want)
		}
	}
}

func TestFinalPass(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"\n.\n\n\nWe", ".\n\nWe"},
		{"\n\n\n\nWe\nare\n\n", "We\nare"},
		{"\n\u3000\n\n\nWe", "We"},
		{"a\n\nb", "a\n\nb"},
	} {
		if got := finalPass(tc.in); got != tc.want {
			t.Errorf("finalPass(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
}

func TestParseRejects(t *testing.T) {
	const (
		html = "<h1>" + MarkGreeting + "</h1><p>" + MarkExpiry + "</p><b>" + MarkCode + "</b>"
		text = MarkDivider + "\n" + MarkGreeting + "\n" + MarkDivider + "\n\n" + MarkExpiry + "\n\n" + MarkCode + "\n\nBye"
	)
	if _, err := Parse(ShapeCode, html, text); err != nil {
		t.Fatalf("the good shape: %v", err)
	}
	for _, tc := range []struct{ name, html, text, want string }{
		{"no code in HTML", strings.Replace(html, MarkCode, "", 1), text, "HTML code: marker found 0 times"},
		{"two greetings", html + MarkGreeting, text, "HTML greeting: marker found 2 times"},
		{"divider in HTML", html + MarkDivider, text, "HTML divider"},
		{"one divider", html, strings.Replace(text, MarkDivider, "", 1), "text divider: marker found 1 times"},
		{"unframed", html, strings.Replace(text, "\n"+MarkGreeting, "\n\n"+MarkGreeting, 1), "not framed"},
		{"three newlines", html, text + "\n\n\nmore", "three line breaks"},
		{"trailing space", html, text + " ", "white space"},
		{"unterminated", html + MarkOpen, text, "unterminated marker"},
		{"stray end", html + MarkClose, text, "marker end without a start"},
		{"unknown", html + MarkOpen + "Q" + MarkClose, text, "unknown marker"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Parse(ShapeCode, tc.html, tc.text)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("error %v, want one saying %q", err, tc.want)
			}
		})
	}
}

func TestMinutesAndCheck(t *testing.T) {
	if Minutes(30*time.Second) != 1 || Minutes(time.Minute) != 1 || Minutes(61*time.Second) != 2 {
		t.Error("Minutes does not round up")
	}
	for _, code := range []string{"123", "12345678901", "12a4", ""} {
		if CheckMessage(code, time.Minute) == nil {
			t.Errorf("code %q accepted", code)
		}
	}
	if CheckMessage("1234", 0) == nil || CheckMessage("1234", time.Minute) != nil {
		t.Error("lifetime check")
	}
}

func TestTextWidth(t *testing.T) {
	for _, tc := range []struct {
		name string
		s    string
		want int
	}{
		{"empty", "", 0},
		{"ASCII", "Hi Alex,", 8},
		{"Latin with a precomposed accent", "Zoë", 3},
		{"Latin with a combining accent", "Zoe\u0308", 3},
		{"Japanese", "佐藤 様", 7},
		{"Chinese with fullwidth punctuation", "王芳，您好！", 12},
		{"halfwidth katakana", "ｶﾀｶﾅ", 4},
		{"ideographic space", "\u3000", 2},
		{"Arabic with vowel marks", "مرحبًا", 5},
		{"isolates around a name", "\u2068ليلى\u2069", 4},
		{"joiners", "a\u200db\u200cc", 3},
		{"ambiguous width counts one", "§±×", 3},
		{"Hangul", "안녕", 4},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := TextWidth(tc.s); got != tc.want {
				t.Errorf("TextWidth(%q) = %d, want %d", tc.s, got, tc.want)
			}
		})
	}
}

func TestFrameLen(t *testing.T) {
	for _, tc := range []struct {
		title string
		want  int
	}{
		{"Hi Alex,", 8},
		{"佐藤 様", 7},
		{"王芳，您好！", 12},
		{"مرحبًا \u2068ليلى\u2069،", 11},
		{".bob", 4},      // html2text draws 3: it counts the title without the space it did not emit
		{"\u00a0Zoë", 4}, // likewise
		{".", 0},         // html2text draws no frame, and folds the lines around it
		{"", 0},
		{".\u0301", 1}, // html2text draws one dash; at least one stays
	} {
		if got := FrameLen(tc.title); got != tc.want {
			t.Errorf("FrameLen(%q) = %d, want %d", tc.title, got, tc.want)
		}
	}
}

func TestReframe(t *testing.T) {
	for _, tc := range []struct {
		name, in, greeting, want, err string
	}{
		{"ASCII unchanged", "--\nHi\n--\n\nBody", "Hi", "--\nHi\n--\n\nBody", ""},
		{"CJK widened", "------\n王芳，您好！\n------\n\nBody", "王芳，您好！", "------------\n王芳，您好！\n------------\n\nBody", ""},
		{"marks narrowed", "------\nمرحبًا\n------\n\nBody", "مرحبًا", "-----\nمرحبًا\n-----\n\nBody", ""},
		{"collapsed white space in the greeting", "---\n王 芳\n---\n\nBody", "王 \n 芳", "-----\n王 芳\n-----\n\nBody", ""},
		{"no frame where one is due", "王芳\n\nBody", "王芳", "", "not framed"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := Reframe(tc.in, tc.greeting)
			if tc.err != "" {
				if err == nil || !strings.Contains(err.Error(), tc.err) {
					t.Fatalf("error %v, want one saying %q", err, tc.err)
				}
				return
			}
			if err != nil || got != tc.want {
				t.Errorf("Reframe = %q, %v; want %q", got, err, tc.want)
			}
		})
	}
}
