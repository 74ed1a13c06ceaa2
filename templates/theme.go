package templates

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/matcornic/hermes/v2"

	"github.com/cognito-email-otp/cognito-email-otp/mailer/contract"
)

// theme is a hermes theme (default or flat) with a few edits for one
// (set, locale): the document language and subject, the set's colours, an
// alt text for the logo, and no hard-coded punctuation around the
// signature. The edits are exact string replacements on hermes' own
// templates; each must match exactly once, so a hermes upgrade that moves
// them fails Load (and the tests) instead of rendering something half-edited.
//
// The fields are unexported on purpose: hermes merges its defaults into the
// Hermes value with mergo v0.3.6, which walks into a theme struct with
// exported fields, indexes hermes.Default's (zero) fields and panics.
type theme struct {
	name string
	html string
	text string
}

func (t *theme) Name() string              { return t.name }
func (t *theme) HTMLTemplate() string      { return t.html }
func (t *theme) PlainTextTemplate() string { return t.text }

// edit replaces old, which must occur exactly once after the first
// occurrence of after (or in the whole template when after is empty).
type edit struct{ old, new, after string }

func buildTheme(s *set, kl *kindLocale) (*theme, error) {
	var base hermes.Theme = new(hermes.Default)
	flat := s.hermesTheme == "flat"
	if flat {
		base = new(hermes.Flat)
	}
	c := s.colors

	htmlEdits := []edit{
		// lang lets screen readers pick a voice and browsers pick CJK glyphs
		// (the same Han character is drawn differently for ja and zh-Hans).
		// dir as well as lang on the root, and again on the outermost
		// table: hermes puts it on <body> only, which Gmail, Outlook.com
		// and most webmail drop along with <html>, so an Arabic email would
		// lose its direction everywhere but in desktop clients.
		{`<html xmlns="http://www.w3.org/1999/xhtml">`, `<html xmlns="http://www.w3.org/1999/xhtml" lang="` + kl.id + `" dir="{{.Hermes.TextDirection}}">`, ""},
		{`<table class="email-wrapper" width="100%" cellpadding="0" cellspacing="0">`, `<table class="email-wrapper" dir="{{.Hermes.TextDirection}}" width="100%" cellpadding="0" cellspacing="0">`, ""},
		// The subject as the document title: shown by some clients and by
		// every browser preview. It goes in as a Go string literal so that
		// braces in it cannot become template actions.
		{"<head>\n", "<head>\n  <title>{{ " + strconv.Quote(kl.subject) + " }}</title>\n", ""},
		{`<img src="{{.Hermes.Product.Logo | url }}" class="email-logo" />`, `<img src="{{.Hermes.Product.Logo | url }}" class="email-logo" alt="{{.Hermes.Product.Name}}" />`, ""},
		// hermes writes "{{Signature}}," but a closing's punctuation is the
		// translator's: German "Viele Grüße" takes none, Japanese ends in "。".
		{"{{.Email.Body.Signature}},\n", "{{.Email.Body.Signature}}\n", ""},
		{"  </style>\n", brandCSS(c) + kindCSS(kl.kind) + "  </style>\n", ""},
		// hermes closes the block Outlook must skip with "<![endif]-->",
		// which an HTML5 parser (premailer's) reads as a bogus comment and
		// writes back as "<!--[endif]---->"; Outlook then never sees the end
		// of the block and hides the rest of the email. "<!--<![endif]-->"
		// is the form that survives parsing and that Outlook knows.
		{`{{safe "<![endif]-->" }}`, `{{safe "<!--<![endif]-->" }}`, `{{safe "<!--[if !mso]><!-- -->"}}`},
	}
	if c.code != "" || c.codeBackground != "" {
		// The Outlook-only copy of the code box has its colours inline.
		code, bg := "#555", "#eee"
		if c.code != "" {
			code = c.code
		}
		if c.codeBackground != "" {
			bg = c.codeBackground
		}
		htmlEdits = append(htmlEdits, edit{"color:#555;background-color:#eee;", "color:" + code + ";background-color:" + bg + ";", ""})
	}
	if kl.kind == contract.KindInvitation {
		// The Outlook-only copy of the password box, as kindCSS does for
		// the other.
		htmlEdits = append(htmlEdits, edit{"letter-spacing:8px;", "letter-spacing:2px;direction:ltr;unicode-bidi:embed;", ""})
	}
	textEdits := []edit{
		{"<p>{{.Email.Body.Signature}},<br>", "<p>{{.Email.Body.Signature}}<br>", ""},
	}
	if flat {
		// flat's plain text appends a comma even to a Title.
		textEdits = append(textEdits, edit{"{{ end }},</h2>", "{{ end }}</h2>", ""})
	}

	html, err := applyEdits(base.HTMLTemplate(), htmlEdits)
	if err != nil {
		return nil, fmt.Errorf("hermes theme %s (HTML): %w", base.Name(), err)
	}
	text, err := applyEdits(base.PlainTextTemplate(), textEdits)
	if err != nil {
		return nil, fmt.Errorf("hermes theme %s (plain text): %w", base.Name(), err)
	}
	return &theme{name: base.Name(), html: html, text: text}, nil
}

func applyEdits(tmpl string, edits []edit) (string, error) {
	for _, e := range edits {
		start := 0
		if e.after != "" {
			if strings.Count(tmpl, e.after) != 1 {
				return "", fmt.Errorf("expected %q once (did the hermes version change?)", e.after)
			}
			start = strings.Index(tmpl, e.after) + len(e.after)
		}
		head, tail := tmpl[:start], tmpl[start:]
		if n := strings.Count(tail, e.old); n < 1 || e.after == "" && n != 1 {
			return "", fmt.Errorf("expected %q once, found it %d times (did the hermes version change?)", e.old, n)
		}
		tmpl = head + strings.Replace(tail, e.old, e.new, 1)
	}
	return tmpl, nil
}

// kindCSS is what one kind's email adds to the style sheet. A temporary
// password is up to 256 characters, not ten digits: it wraps inside its
// box rather than push the card wider than the screen. And it is read
// left to right whatever the email's direction: in an Arabic email the
// bidi algorithm would otherwise show "Tmp-9xQ!+" as "+Tmp-9xQ!", moving
// the punctuation at its ends to the other side. CSS does it rather than
// isolate marks, which a reader copying the password would copy too.
func kindCSS(kind contract.Kind) string {
	if kind != contract.KindInvitation {
		return ""
	}
	return "    .invite-code { letter-spacing: 2px; overflow-wrap: anywhere; word-break: break-all; direction: ltr; unicode-bidi: embed; }\n"
}

// brandCSS is appended to the theme's style sheet. premailer inlines it
// after hermes' own rules of the same specificity, so it wins.
func brandCSS(c colors) string {
	var b strings.Builder
	b.WriteString("    /* Brand ------------------------------ */\n")
	if c.background != "" {
		fmt.Fprintf(&b, "    body, .email-wrapper { background-color: %s; }\n", c.background)
	}
	if c.masthead != "" {
		fmt.Fprintf(&b, "    .email-masthead_name { color: %s; text-shadow: none; font-size: 20px; }\n", c.masthead)
	}
	if c.accent != "" {
		fmt.Fprintf(&b, "    a { color: %s; }\n", c.accent)
		fmt.Fprintf(&b, "    .invite-code { border-bottom: 3px solid %s; }\n", c.accent)
	}
	if c.code != "" {
		fmt.Fprintf(&b, "    .invite-code { color: %s; }\n", c.code)
	}
	if c.codeBackground != "" {
		fmt.Fprintf(&b, "    .invite-code { background-color: %s; }\n", c.codeBackground)
	}
	// One click or tap selects the whole code, and a long name cannot push
	// the card wider than a phone screen.
	b.WriteString("    .invite-code { font-weight: bold; -webkit-user-select: all; user-select: all; }\n")
	// letter-spacing also follows the last digit, so hermes' even padding
	// leaves the code 4 px left of the box's centre; the right padding
	// gives the 8 px back.
	b.WriteString("    .invite-code { padding-right: 28px; }\n")
	b.WriteString("    h1 { overflow-wrap: anywhere; word-break: break-word; }\n")
	return b.String()
}
