// Package render holds what the hermes-backed templates.Library and the
// hermes-free templates/compiled bundle share: the pre-rendered bodies cut
// at markers, the per-message values and their transformations, locale
// matching, and the bundle's wire format. Keeping one copy means the two
// cannot drift apart; it must never import hermes or a YAML parser, since
// the mailer Lambda links it.
package render

import (
	"errors"
	"fmt"
	"strings"
	"unicode"
	"unicode/utf8"

	"golang.org/x/text/width"
)

// The render cache.
//
// hermes renders an email in three steps: html/template executes the theme,
// premailer parses the result with x/net/html, inlines the CSS and
// serialises the tree again, and (for the plain-text part) html2text parses
// that and walks it. templates.Load runs this once per (set, locale) with
// marker strings in place of the three per-message values (the greeting,
// which holds the name; the expiry sentence, which holds the minutes; the
// code), splits the output at the markers, and Render joins the pieces with
// each value transformed exactly as the pipeline would have transformed it:
//
// HTML. html/template escapes & ' < > " + and NUL as entities; the parser
// decodes them (and would turn CR into LF); the serialiser escapes & ' < > "
// and CR again, as x/net/html's EscapeString does. The values never hold NUL
// or CR (CleanName strips control characters and locale strings may not
// hold them), so the net effect is EscapeString: "+" comes out as "+", "'"
// as "&#39;", '"' as "&#34;".
//
// Text. html2text collapses every run of space, tab, CR and LF in a text
// node to one space and trims spaces at both ends (TextNode). The greeting
// is hermes' title, an <h2>, which html2text frames with dashes: it emits
// the title after one space, unless the title starts with a space-like rune
// or a ".", and makes the frame one rune shorter than what it emitted; its
// final pass removes the space again ("\n " becomes "\n"). So a common
// title gets a frame as many runes long as itself, and a title starting
// with "." or a space-like rune one a rune shorter. When that leaves no
// dashes at all (a one-rune title such as "."), the newlines around the
// empty frame run together and html2text's final pass (newline runs folded
// to "\n\n", then the whole text trimmed) reshapes the text around it;
// Render then applies the same pass, which leaves every other part alone
// because the layout is already its output and no value holds a line break.
//
// Counting runes draws a frame of the wrong length wherever a rune is not
// one column: a Japanese or Chinese greeting is twice as wide as its
// frame, and an Arabic one (vowel marks, the isolates around the name) is
// narrower. So where html2text draws a frame, this package draws it as
// wide as the title is on screen instead (FrameLen); the hermes path gets
// the same frame from Reframe, so the two still agree byte for byte.
//
// The markers are private-use characters, which locale and theme strings may
// not contain, so a marker cannot appear anywhere but where it was put.
const (
	MarkOpen     = "\uE000"
	MarkClose    = "\uE001"
	MarkGreeting = MarkOpen + "G" + MarkClose
	MarkExpiry   = MarkOpen + "E" + MarkClose
	MarkCode     = MarkOpen + "C" + MarkClose
	MarkDivider  = MarkOpen + "D" + MarkClose
)

type slot uint8

const (
	slotLiteral slot = iota
	slotGreeting
	slotExpiry
	slotCode
	slotDivider
	nSlots
)

var (
	markSlots = map[string]slot{
		MarkGreeting: slotGreeting,
		MarkExpiry:   slotExpiry,
		MarkCode:     slotCode,
		MarkDivider:  slotDivider,
	}
	slotMarks = [nSlots]string{"", MarkGreeting, MarkExpiry, MarkCode, MarkDivider}
)

type piece struct {
	slot slot
	lit  string
}

// layout is a rendered body cut at its markers.
type layout struct {
	pieces  []piece
	litSize int
	count   [nSlots]int
}

// Body is one (set, locale)'s pre-rendered HTML and text, cut at markers.
// It is immutable and safe for concurrent use.
type Body struct {
	html, text layout
}

// FromHermes cuts hermes' output for a render with MarkGreeting,
// MarkExpiry and MarkCode as the values.
func FromHermes(htmlOut, textOut string) (*Body, error) {
	// Frame the title with divider slots; see the comment above.
	frame := strings.Repeat("-", utf8.RuneCountInString(MarkGreeting))
	framed := frame + "\n" + MarkGreeting + "\n" + frame
	if n := strings.Count(textOut, framed); n != 1 {
		return nil, fmt.Errorf("plain text: expected the title framed by dashes once, found it %d times", n)
	}
	textOut = strings.Replace(textOut, framed, MarkDivider+"\n"+MarkGreeting+"\n"+MarkDivider, 1)
	return Parse(htmlOut, textOut)
}

// Parse cuts marked bodies (as Marked returns them) and checks that they
// have the shape Render relies on.
func Parse(htmlMarked, textMarked string) (*Body, error) {
	h, err := split(htmlMarked)
	if err != nil {
		return nil, fmt.Errorf("HTML: %w", err)
	}
	t, err := split(textMarked)
	if err != nil {
		return nil, fmt.Errorf("plain text: %w", err)
	}
	for _, c := range []struct {
		name string
		l    layout
		s    slot
		want int // -1: at least one
	}{
		{"HTML greeting", h, slotGreeting, 1},
		{"HTML expiry", h, slotExpiry, 1},
		{"HTML code", h, slotCode, -1},
		{"HTML divider", h, slotDivider, 0},
		{"text greeting", t, slotGreeting, 1},
		{"text expiry", t, slotExpiry, 1},
		{"text code", t, slotCode, -1},
		{"text divider", t, slotDivider, 2},
	} {
		if got := c.l.count[c.s]; c.want < 0 && got == 0 || c.want >= 0 && got != c.want {
			return nil, fmt.Errorf("%s: marker found %d times", c.name, got)
		}
	}
	if err := t.checkText(); err != nil {
		return nil, fmt.Errorf("plain text: %w", err)
	}
	return &Body{html: h, text: t}, nil
}

// checkText verifies what Render's handling of an empty frame assumes: the
// title sits between its two frames, and the literal text is already in the
// shape html2text's final pass gives it.
func (l *layout) checkText() error {
	framed := false
	for i, p := range l.pieces {
		if p.slot == slotGreeting {
			framed = i >= 2 && i+2 < len(l.pieces) &&
				l.pieces[i-2].slot == slotDivider && l.pieces[i-1] == piece{lit: "\n"} &&
				l.pieces[i+1] == piece{lit: "\n"} && l.pieces[i+2].slot == slotDivider
		}
		if p.slot == slotLiteral && strings.Contains(p.lit, "\n\n\n") {
			return errors.New("three line breaks in a row; not html2text output")
		}
	}
	if !framed {
		return errors.New("the greeting is not framed by dividers on the lines above and below")
	}
	first, last := l.pieces[0], l.pieces[len(l.pieces)-1]
	if first.slot == slotLiteral && strings.TrimLeftFunc(first.lit, unicode.IsSpace) != first.lit ||
		last.slot == slotLiteral && strings.TrimRightFunc(last.lit, unicode.IsSpace) != last.lit {
		return errors.New("starts or ends with white space; not html2text output")
	}
	return nil
}

func split(s string) (layout, error) {
	var l layout
	for {
		i := strings.Index(s, MarkOpen)
		if i < 0 {
			break
		}
		j := strings.Index(s[i:], MarkClose)
		if j < 0 {
			return l, errors.New("unterminated marker")
		}
		mark := s[i : i+j+len(MarkClose)]
		sl, ok := markSlots[mark]
		if !ok {
			return l, fmt.Errorf("unknown marker %q", mark)
		}
		if i > 0 {
			l.pieces = append(l.pieces, piece{lit: s[:i]})
			l.litSize += i
		}
		l.pieces = append(l.pieces, piece{slot: sl})
		l.count[sl]++
		s = s[i+len(mark):]
	}
	if strings.Contains(s, MarkClose) {
		return l, errors.New("marker end without a start")
	}
	if s != "" {
		l.pieces = append(l.pieces, piece{lit: s})
		l.litSize += len(s)
	}
	if len(l.pieces) == 0 {
		return l, errors.New("empty")
	}
	return l, nil
}

// Marked returns the bodies with their markers, the form a bundle stores.
func (b *Body) Marked() (htmlMarked, textMarked string) {
	return b.html.marked(), b.text.marked()
}

func (l *layout) marked() string {
	var v [nSlots]string
	copy(v[:], slotMarks[:])
	return l.fill(&v)
}

// fill joins a layout with values indexed by slot.
func (l *layout) fill(values *[nSlots]string) string {
	n := l.litSize
	for s := slotGreeting; s < nSlots; s++ {
		n += l.count[s] * len(values[s])
	}
	var b strings.Builder
	b.Grow(n)
	for _, p := range l.pieces {
		if p.slot == slotLiteral {
			b.WriteString(p.lit)
		} else {
			b.WriteString(values[p.slot])
		}
	}
	return b.String()
}

// Render fills both bodies: byte for byte what hermes renders for these
// values.
func (b *Body) Render(greeting, expiry, code string) (htmlOut, textOut string) {
	var v [nSlots]string
	v[slotGreeting] = EscapeHTML(greeting)
	v[slotExpiry] = EscapeHTML(expiry)
	v[slotCode] = code
	htmlOut = b.html.fill(&v)

	title := TextNode(greeting)
	dashes := FrameLen(title)
	v[slotGreeting] = title
	v[slotExpiry] = TextNode(expiry)
	v[slotDivider] = strings.Repeat("-", dashes)
	textOut = b.text.fill(&v)
	if dashes == 0 {
		textOut = finalPass(textOut)
	}
	return htmlOut, textOut
}

// hermesFrameLen is the number of dashes html2text frames the title (as
// TextNode leaves it) with: its rune count, one less for a tight title.
func hermesFrameLen(title string) int {
	n := utf8.RuneCountInString(title)
	if tightTitle(title) {
		n--
	}
	return max(n, 0)
}

// FrameLen is the number of dashes above and below the title (as TextNode
// leaves it) in the plain-text part: its display width, so that the frame
// is as wide as the line it frames in a monospaced view. Where html2text
// draws no frame at all (an empty title, or a one-rune title such as "."),
// neither does this, because html2text has by then folded the blank lines
// around the missing frame; and where it draws one, this draws at least
// one dash, so the text keeps the shape html2text gives it.
func FrameLen(title string) int {
	if hermesFrameLen(title) == 0 {
		return 0
	}
	return max(TextWidth(title), 1)
}

// Reframe resizes the title's frame in hermes' plain-text output (rendered
// with the given greeting) from html2text's rune count to FrameLen, so
// that the hermes path and Render agree. The title frame is the first
// thing hermes' text templates emit.
func Reframe(textOut, greeting string) (string, error) {
	title := TextNode(greeting)
	have, want := hermesFrameLen(title), FrameLen(title)
	if have == want {
		return textOut, nil
	}
	old := strings.Repeat("-", have) + "\n" + title + "\n" + strings.Repeat("-", have)
	i := strings.Index(textOut, old)
	if i < 0 {
		return "", errors.New("plain text: the title is not framed by dashes as html2text frames it (did the hermes version change?)")
	}
	frame := strings.Repeat("-", want)
	return textOut[:i] + frame + "\n" + title + "\n" + frame + textOut[i+len(old):], nil
}

// TextWidth is the number of columns s takes in a monospaced plain-text
// view: two for East Asian wide and fullwidth characters (CJK ideographs,
// kana, Hangul, fullwidth forms, most emoji), none for combining marks and
// format characters (Arabic vowel marks, accents typed as combining marks,
// joiners, bidi marks and isolates), one for everything else, ambiguous
// width included, as outside East Asian legacy encodings. It works rune by
// rune, so an emoji sequence joined into one picture counts once per part:
// a frame a little long is harmless, one half as long as a Chinese
// greeting is what this is for.
func TextWidth(s string) int {
	n := 0
	for _, r := range s {
		switch {
		case unicode.In(r, unicode.Mn, unicode.Me, unicode.Cf):
		case isWide(r):
			n += 2
		default:
			n++
		}
	}
	return n
}

func isWide(r rune) bool {
	if r < 0x1100 { // nothing wide below Hangul Jamo
		return false
	}
	switch width.LookupRune(r).Kind() {
	case width.EastAsianWide, width.EastAsianFullwidth:
		return true
	}
	return false
}

// tightTitle reports whether html2text emits the title without the space
// it puts before text: when the title starts with a space-like rune or ".".
func tightTitle(title string) bool {
	if title == "" {
		return false
	}
	if title[0] == '.' {
		return true
	}
	r, _ := utf8.DecodeRuneInString(title)
	return unicode.IsSpace(r)
}

// finalPass is html2text's last step minus its "\n " replacement (which
// the layout has had and which no value can bring back): newline runs fold
// to "\n\n" and the text is trimmed.
func finalPass(s string) string {
	var b strings.Builder
	b.Grow(len(s))
	for i := 0; i < len(s); {
		if s[i] != '\n' {
			b.WriteByte(s[i])
			i++
			continue
		}
		j := i
		for j < len(s) && s[j] == '\n' {
			j++
		}
		if j-i >= 2 {
			b.WriteString("\n\n")
		} else {
			b.WriteByte('\n')
		}
		i = j
	}
	return strings.TrimSpace(b.String())
}

var htmlEscaper = strings.NewReplacer(
	`&`, "&amp;",
	`'`, "&#39;",
	`<`, "&lt;",
	`>`, "&gt;",
	`"`, "&#34;",
	"\r", "&#13;",
)

// EscapeHTML is x/net/html's EscapeString, without linking x/net/html (its
// entity table) into the mailer.
func EscapeHTML(s string) string {
	if !strings.ContainsAny(s, "&'<>\"\r") {
		return s
	}
	return htmlEscaper.Replace(s)
}

// TextNode is what html2text makes of a text node outside <pre>: runs of
// space, tab, CR and LF become one space, and spaces are trimmed.
func TextNode(s string) string {
	if !strings.ContainsAny(s, "\t\n\r") && !strings.Contains(s, "  ") {
		return strings.Trim(s, " ")
	}
	var b strings.Builder
	b.Grow(len(s))
	space := false
	for i := 0; i < len(s); i++ {
		switch c := s[i]; c {
		case ' ', '\t', '\n', '\r':
			space = true
		default:
			if space {
				b.WriteByte(' ')
				space = false
			}
			b.WriteByte(c)
		}
	}
	if space {
		b.WriteByte(' ')
	}
	return strings.Trim(b.String(), " ")
}
