package templates

import (
	"fmt"
	"strings"
	"unicode"
	"unicode/utf8"

	"golang.org/x/net/html"
)

// The render cache.
//
// hermes renders an email in three steps: html/template executes the theme,
// premailer parses the result with x/net/html, inlines the CSS and
// serialises the tree again, and (for the plain-text part) html2text parses
// that and walks it. Load runs this once per (set, locale) with marker
// strings in place of the three per-message values (the greeting, which
// holds the name; the expiry sentence, which holds the minutes; the code),
// splits the output at the markers, and Render joins the pieces with each
// value transformed exactly as the pipeline would have transformed it:
//
// HTML. html/template escapes & ' < > " + and NUL as entities; the parser
// decodes them (and would turn CR into LF); the serialiser escapes & ' < > "
// and CR again, as x/net/html's EscapeString does. The values never hold NUL
// or CR (CleanName strips control characters and locale strings may not
// hold them), so the net effect is html.EscapeString from the same x/net:
// "+" comes out as "+", "'" as "&#39;", '"' as "&#34;".
//
// Text. html2text collapses every run of space, tab, CR and LF in a text
// node to one space and trims spaces at both ends (textNode). The greeting
// is hermes' title, an <h2>, which html2text frames with dashes as long as
// the title in runes, after emitting one leading space that its final pass
// removes again ("\n " becomes "\n"). That holds when the title starts with
// neither a space-like rune nor a "." (html2text adds no space then, and
// the frame is one rune shorter); those rare titles are rendered by hermes
// instead (see simpleTitle). The values hold no line breaks, so html2text's
// final newline folding cannot reach across them.
//
// The markers are private-use characters, which locale and theme strings may
// not contain, so a marker cannot appear anywhere but where it was put.
const (
	markOpen     = "\uE000"
	markClose    = "\uE001"
	markGreeting = markOpen + "G" + markClose
	markExpiry   = markOpen + "E" + markClose
	markCode     = markOpen + "C" + markClose
	markDivider  = markOpen + "D" + markClose
)

type slot uint8

const (
	slotLiteral slot = iota
	slotGreeting
	slotExpiry
	slotCode
	slotDivider
)

var markSlots = map[string]slot{
	markGreeting: slotGreeting,
	markExpiry:   slotExpiry,
	markCode:     slotCode,
	markDivider:  slotDivider,
}

type piece struct {
	slot slot
	lit  string
}

// layout is a rendered body cut at its markers.
type layout struct {
	pieces  []piece
	litSize int
	count   [slotDivider + 1]int
}

// cache holds one (set, locale)'s pre-rendered bodies.
type cache struct {
	html, text layout
}

func newCache(htmlOut, textOut string) (*cache, error) {
	h, err := split(htmlOut)
	if err != nil {
		return nil, fmt.Errorf("HTML: %w", err)
	}
	// Frame the title with divider slots; see the comment above.
	frame := strings.Repeat("-", utf8.RuneCountInString(markGreeting))
	framed := frame + "\n" + markGreeting + "\n" + frame
	if n := strings.Count(textOut, framed); n != 1 {
		return nil, fmt.Errorf("plain text: expected the title framed by dashes once, found it %d times", n)
	}
	textOut = strings.Replace(textOut, framed, markDivider+"\n"+markGreeting+"\n"+markDivider, 1)
	t, err := split(textOut)
	if err != nil {
		return nil, fmt.Errorf("plain text: %w", err)
	}
	for _, c := range []struct {
		name string
		l    layout
		s    slot
		want int // 0: at least one
	}{
		{"HTML greeting", h, slotGreeting, 1},
		{"HTML expiry", h, slotExpiry, 1},
		{"HTML code", h, slotCode, 0},
		{"text greeting", t, slotGreeting, 1},
		{"text expiry", t, slotExpiry, 1},
		{"text code", t, slotCode, 0},
	} {
		if got := c.l.count[c.s]; got == 0 || c.want > 0 && got != c.want {
			return nil, fmt.Errorf("%s: marker found %d times", c.name, got)
		}
	}
	return &cache{html: h, text: t}, nil
}

func split(s string) (layout, error) {
	var l layout
	for {
		i := strings.Index(s, markOpen)
		if i < 0 {
			break
		}
		j := strings.Index(s[i:], markClose)
		if j < 0 {
			return l, fmt.Errorf("unterminated marker")
		}
		mark := s[i : i+j+len(markClose)]
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
	if s != "" {
		l.pieces = append(l.pieces, piece{lit: s})
		l.litSize += len(s)
	}
	return l, nil
}

// fill joins a layout with values indexed by slot.
func (l *layout) fill(values *[slotDivider + 1]string) string {
	n := l.litSize
	for s := slotGreeting; s <= slotDivider; s++ {
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

// render fills both bodies. ok is false when the greeting is one of the
// shapes the text substitution does not reproduce; the caller then asks
// hermes.
func (c *cache) render(greeting, expiry, code string) (htmlOut, textOut string, ok bool) {
	title := textNode(greeting)
	if !simpleTitle(title) {
		return "", "", false
	}
	var v [slotDivider + 1]string
	v[slotGreeting] = html.EscapeString(greeting)
	v[slotExpiry] = html.EscapeString(expiry)
	v[slotCode] = code
	htmlOut = c.html.fill(&v)

	v[slotGreeting] = title
	v[slotExpiry] = textNode(expiry)
	v[slotDivider] = strings.Repeat("-", utf8.RuneCountInString(title))
	textOut = c.text.fill(&v)
	return htmlOut, textOut, true
}

// textNode is what html2text makes of a text node outside <pre>: runs of
// space, tab, CR and LF become one space, and spaces are trimmed.
func textNode(s string) string {
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

// simpleTitle reports whether html2text frames this title the common way:
// it puts a space before a title unless the title starts with a space-like
// rune or a ".", and an empty title gets no frame at all.
func simpleTitle(title string) bool {
	if title == "" || title[0] == '.' {
		return false
	}
	r, _ := utf8.DecodeRuneInString(title)
	return !unicode.IsSpace(r)
}
