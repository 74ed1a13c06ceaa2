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
	"slices"
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
//
// Kinds other than the sign-in code have more per-message values (the
// username sentence, what happened, the takeover's details and links) and
// some of them are optional: a detail Cognito did not report, a link that
// is not https, is left out, not shown empty. Optional values come in
// lists (see list): hermes renders each item of a list from the same
// template text, so the text between two items is the same wherever it
// is, and leaving items out is joining the others with it.
//
// Where a marker sits inside an HTML comment (the Outlook-only copy of the
// code box and of the buttons, in <!--[if mso]> ... <![endif]-->), the
// value is escaped as x/net/html escapes comments (CommentEscape). Where
// it sits in a link, html/template has percent-encoded it; FromHermes
// decodes the markers back.
const (
	MarkOpen     = "\uE000"
	MarkClose    = "\uE001"
	MarkGreeting = MarkOpen + "G" + MarkClose
	MarkExpiry   = MarkOpen + "E" + MarkClose
	MarkCode     = MarkOpen + "C" + MarkClose
	MarkDivider  = MarkOpen + "D" + MarkClose
)

// Slot names a per-message value.
type Slot uint8

// The slots. A kind's email uses some of them (see Shape).
const (
	slotLiteral  Slot = iota
	SlotGreeting      // the heading, with the name
	SlotExpiry        // the expiry or validity sentence, with its count
	SlotCode          // the code, or an invitation's temporary password
	slotDivider       // the dashes around the heading in the plain text
	SlotUsername      // an invitation's username sentence
	SlotHappened      // a takeover notice: what happened
	SlotDetail0       // a takeover notice's details: time, IP address, location, device (a list)
	SlotDetail1
	SlotDetail2
	SlotDetail3
	SlotLinkInstructions0 // a takeover notice's links: the sentence above each button (a list)
	SlotLinkInstructions1
	SlotLinkLabel0 // the button's label
	SlotLinkLabel1
	SlotLink0 // the link itself
	SlotLink1
	NSlots
)

var slotNames = [NSlots]string{"", "G", "E", "C", "D", "U", "A", "T0", "T1", "T2", "T3", "I0", "I1", "B0", "B1", "L0", "L1"}

// Mark is the marker of a slot.
func Mark(s Slot) string { return MarkOpen + slotNames[s] + MarkClose }

// MarkPadded is the marker of a slot at least n bytes long: hermes sizes
// a button by its label's length in bytes, so a label's marker must be as
// long as the label for the button around it to come out as wide.
func MarkPadded(s Slot, n int) string {
	m := Mark(s)
	if pad := n - len(m); pad > 0 {
		m = MarkOpen + slotNames[s] + strings.Repeat("~", pad) + MarkClose
	}
	return m
}

var markSlots = func() map[string]Slot {
	m := make(map[string]Slot, NSlots)
	for s := SlotGreeting; s < NSlots; s++ {
		m[slotNames[s]] = s
	}
	return m
}()

// Lists: which slots are items of which list, and the slot whose value
// says an item is there.
type listID uint8

const (
	noList listID = iota
	listDetails
	listLinks
)

type listRef struct {
	list listID
	item int
}

var slotLists = [NSlots]listRef{
	SlotDetail0: {listDetails, 0}, SlotDetail1: {listDetails, 1}, SlotDetail2: {listDetails, 2}, SlotDetail3: {listDetails, 3},
	SlotLinkInstructions0: {listLinks, 0}, SlotLinkInstructions1: {listLinks, 1},
	SlotLinkLabel0: {listLinks, 0}, SlotLinkLabel1: {listLinks, 1},
	SlotLink0: {listLinks, 0}, SlotLink1: {listLinks, 1},
}

// presence is the slot whose value being empty leaves an item out.
var presence = map[listID][]Slot{
	listDetails: {SlotDetail0, SlotDetail1, SlotDetail2, SlotDetail3},
	listLinks:   {SlotLink0, SlotLink1},
}

type piece struct {
	slot    Slot
	lit     string
	comment bool  // HTML: inside <!-- ... -->
	list    *list // a list of optional items, in place of a slot
}

// list is the items of a list as one region of a body renders them: each
// item from its first marker to its last, and the text hermes puts
// between two items.
type list struct {
	id    listID
	items [][]piece
	sep   string
}

// layout is a rendered body cut at its markers.
type layout struct {
	pieces  []piece
	litSize int
	count   [NSlots]int
}

// Body is one (set, locale, kind)'s pre-rendered HTML and text, cut at
// markers. It is immutable and safe for concurrent use.
type Body struct {
	html, text layout
}

// Shape is how many times each slot's marker appears in a kind's bodies:
// 0 never, -1 at least once, n exactly n times.
type Shape struct {
	Name       string
	HTML, Text [NSlots]int
}

func shape(name string, html, text map[Slot]int) Shape {
	s := Shape{Name: name}
	for k, v := range html {
		s.HTML[k] = v
	}
	for k, v := range text {
		s.Text[k] = v
	}
	s.Text[slotDivider] = 2
	return s
}

// The shapes of the kinds' bodies.
var (
	ShapeCode       = shape("code", map[Slot]int{SlotGreeting: 1, SlotExpiry: 1, SlotCode: -1}, map[Slot]int{SlotGreeting: 1, SlotExpiry: 1, SlotCode: -1})
	ShapeInvitation = shape("invitation", map[Slot]int{SlotGreeting: 1, SlotUsername: 1, SlotExpiry: 1, SlotCode: -1},
		map[Slot]int{SlotGreeting: 1, SlotUsername: 1, SlotExpiry: 1, SlotCode: -1})
	ShapeTakeoverNoLinks = shape("account takeover without links",
		map[Slot]int{SlotGreeting: 1, SlotHappened: 1, SlotDetail0: 1, SlotDetail1: 1, SlotDetail2: 1, SlotDetail3: 1},
		map[Slot]int{SlotGreeting: 1, SlotHappened: 1, SlotDetail0: 1, SlotDetail1: 1, SlotDetail2: 1, SlotDetail3: 1})
	ShapeTakeover = shape("account takeover",
		map[Slot]int{SlotGreeting: 1, SlotHappened: 1, SlotDetail0: 1, SlotDetail1: 1, SlotDetail2: 1, SlotDetail3: 1,
			SlotLinkInstructions0: 1, SlotLinkInstructions1: 1, SlotLinkLabel0: 3, SlotLinkLabel1: 3, SlotLink0: 4, SlotLink1: 4},
		map[Slot]int{SlotGreeting: 1, SlotHappened: 1, SlotDetail0: 1, SlotDetail1: 1, SlotDetail2: 1, SlotDetail3: 1,
			SlotLinkInstructions0: 1, SlotLinkInstructions1: 1, SlotLink0: 1, SlotLink1: 1})
)

// FromHermes cuts hermes' output for a render with markers as the values.
func FromHermes(sh Shape, htmlOut, textOut string) (*Body, error) {
	// Frame the title with divider slots; see the comment above.
	frame := strings.Repeat("-", utf8.RuneCountInString(MarkGreeting))
	framed := frame + "\n" + MarkGreeting + "\n" + frame
	if n := strings.Count(textOut, framed); n != 1 {
		return nil, fmt.Errorf("plain text: expected the title framed by dashes once, found it %d times", n)
	}
	textOut = strings.Replace(textOut, framed, MarkDivider+"\n"+MarkGreeting+"\n"+MarkDivider, 1)
	// A marker in an href, as html/template's URL normaliser writes it.
	htmlOut = urlMarks.Replace(htmlOut)
	return Parse(sh, htmlOut, textOut)
}

var urlMarks = strings.NewReplacer("%ee%80%80", MarkOpen, "%ee%80%81", MarkClose, "%EE%80%80", MarkOpen, "%EE%80%81", MarkClose)

// Parse cuts marked bodies (as Marked returns them) and checks that they
// have the shape Render relies on.
func Parse(sh Shape, htmlMarked, textMarked string) (*Body, error) {
	h, err := split(htmlMarked, true)
	if err != nil {
		return nil, fmt.Errorf("HTML: %w", err)
	}
	t, err := split(textMarked, false)
	if err != nil {
		return nil, fmt.Errorf("plain text: %w", err)
	}
	for s := SlotGreeting; s < NSlots; s++ {
		for _, c := range []struct {
			part string
			l    *layout
			want int
		}{{"HTML", &h, sh.HTML[s]}, {"text", &t, sh.Text[s]}} {
			if got := c.l.count[s]; c.want < 0 && got == 0 || c.want >= 0 && got != c.want {
				return nil, fmt.Errorf("%s %s: marker found %d times", c.part, slotTitle(s), got)
			}
		}
	}
	if err := t.checkText(); err != nil {
		return nil, fmt.Errorf("plain text: %w", err)
	}
	return &Body{html: h, text: t}, nil
}

func slotTitle(s Slot) string {
	switch s {
	case SlotGreeting:
		return "greeting"
	case SlotExpiry:
		return "expiry"
	case SlotCode:
		return "code"
	case slotDivider:
		return "divider"
	case SlotUsername:
		return "username"
	case SlotHappened:
		return "what happened"
	}
	return "marker " + slotNames[s]
}

// checkText verifies what Render's handling of an empty frame assumes: the
// title sits between its two frames, and the literal text is already in the
// shape html2text's final pass gives it.
func (l *layout) checkText() error {
	framed := false
	for i, p := range l.pieces {
		if p.slot == SlotGreeting {
			framed = i >= 2 && i+2 < len(l.pieces) &&
				l.pieces[i-2].slot == slotDivider && l.pieces[i-1].isLit("\n") &&
				l.pieces[i+1].isLit("\n") && l.pieces[i+2].slot == slotDivider
		}
		if p.slot == slotLiteral && strings.Contains(p.lit, "\n\n\n") {
			return errors.New("three line breaks in a row; not html2text output")
		}
	}
	if !framed {
		return errors.New("the greeting is not framed by dividers on the lines above and below")
	}
	first, last := l.pieces[0], l.pieces[len(l.pieces)-1]
	if first.slot == slotLiteral && first.list == nil && strings.TrimLeftFunc(first.lit, unicode.IsSpace) != first.lit ||
		last.slot == slotLiteral && last.list == nil && strings.TrimRightFunc(last.lit, unicode.IsSpace) != last.lit {
		return errors.New("starts or ends with white space; not html2text output")
	}
	return nil
}

func (p piece) isLit(s string) bool { return p.slot == slotLiteral && p.list == nil && p.lit == s }

func split(s string, html bool) (layout, error) {
	var (
		flat    []piece
		comment bool
		l       layout
	)
	lit := func(v string) {
		if v == "" {
			return
		}
		flat = append(flat, piece{lit: v})
		if html {
			comment = commentState(v, comment)
		}
	}
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
		name := strings.TrimRight(mark[len(MarkOpen):len(mark)-len(MarkClose)], "~")
		sl, ok := markSlots[name]
		if !ok {
			return l, fmt.Errorf("unknown marker %q", mark)
		}
		lit(s[:i])
		flat = append(flat, piece{slot: sl, comment: comment})
		l.count[sl]++
		s = s[i+len(mark):]
	}
	if strings.Contains(s, MarkClose) {
		return l, errors.New("marker end without a start")
	}
	lit(s)
	if len(flat) == 0 {
		return l, errors.New("empty")
	}
	for i, p := range flat {
		if !p.comment || p.slot == slotLiteral {
			continue
		}
		if i > 0 && flat[i-1].slot == slotLiteral && strings.HasSuffix(flat[i-1].lit, "!") || i > 0 && strings.HasSuffix(flat[i-1].lit, "-") ||
			i+1 < len(flat) && strings.HasPrefix(flat[i+1].lit, ">") {
			return l, fmt.Errorf("marker %s in a comment next to \"!\", \"-\" or \">\", whose escaping depends on the value", slotNames[p.slot])
		}
	}
	pieces, err := groupLists(flat)
	if err != nil {
		return l, err
	}
	l.pieces = pieces
	for _, p := range l.pieces {
		l.litSize += len(p.lit)
	}
	return l, nil
}

// commentState reports whether the text after lit is inside an HTML
// comment, given whether lit starts inside one.
func commentState(lit string, in bool) bool {
	for {
		if in {
			i := strings.Index(lit, "-->")
			if i < 0 {
				return true
			}
			lit, in = lit[i+3:], false
			continue
		}
		i := strings.Index(lit, "<!--")
		if i < 0 {
			return false
		}
		lit, in = lit[i+4:], true
	}
}

// groupLists turns each region of a list into one list piece: the
// region holds the list's items in order, each from its first marker to
// its last, with the same text between each two. A list can have more
// than one region (the buttons, and the links under the email again):
// a region ends where the items start again from the first.
func groupLists(flat []piece) ([]piece, error) {
	var out []piece
	for i := 0; i < len(flat); {
		p := flat[i]
		ref := slotLists[p.slot]
		if p.slot == slotLiteral || ref.list == noList {
			out = append(out, p)
			i++
			continue
		}
		if ref.item != 0 {
			return nil, fmt.Errorf("a list starts at its item %d (%s)", ref.item, slotNames[p.slot])
		}
		l := &list{id: ref.list}
		item, start, last := 0, i, i
		for j := i + 1; j < len(flat); j++ {
			q := flat[j]
			if q.slot == slotLiteral {
				continue
			}
			r := slotLists[q.slot]
			if r.list != ref.list || r.item != item && r.item != item+1 {
				break
			}
			if r.item == item {
				last = j
				continue
			}
			if j-last != 2 {
				return nil, fmt.Errorf("list items %d and %d touch", item, r.item)
			}
			sep := flat[last+1].lit
			if item > 0 && sep != l.sep {
				return nil, fmt.Errorf("the text between list items %d and %d differs from that between the ones before", item, r.item)
			}
			l.sep = sep
			l.items = append(l.items, slices.Clone(flat[start:last+1]))
			item, start, last = r.item, j, j
		}
		l.items = append(l.items, slices.Clone(flat[start:last+1]))
		if want := len(presence[ref.list]); len(l.items) != want {
			return nil, fmt.Errorf("a list has %d items, want %d", len(l.items), want)
		}
		out = append(out, piece{list: l})
		i = last + 1
	}
	return out, nil
}

// Marked returns the bodies with their markers, the form a bundle stores.
func (b *Body) Marked() (htmlMarked, textMarked string) {
	return b.html.marked(), b.text.marked()
}

func (l *layout) marked() string {
	var v, h [NSlots]string
	for s := SlotGreeting; s < NSlots; s++ {
		v[s] = Mark(s)
		h[s] = v[s]
	}
	all := [NSlots]bool{}
	for s := range all {
		all[s] = true
	}
	return l.fill(&v, &h, &all)
}

// fill joins a layout with values indexed by slot, and hcom where the slot
// is inside an HTML comment; present says which list items are there.
func (l *layout) fill(values, hcom *[NSlots]string, present *[NSlots]bool) string {
	var b strings.Builder
	b.Grow(l.litSize + 256)
	writePieces(&b, l.pieces, values, hcom, present)
	return b.String()
}

func writePieces(b *strings.Builder, pieces []piece, values, hcom *[NSlots]string, present *[NSlots]bool) {
	for _, p := range pieces {
		switch {
		case p.list != nil:
			first := true
			for i, item := range p.list.items {
				if !present[presence[p.list.id][i]] {
					continue
				}
				if !first {
					b.WriteString(p.list.sep)
				}
				first = false
				writePieces(b, item, values, hcom, present)
			}
		case p.slot == slotLiteral:
			b.WriteString(p.lit)
		case p.comment:
			b.WriteString(hcom[p.slot])
		default:
			b.WriteString(values[p.slot])
		}
	}
}

// Values are one email's per-message values, by slot, as plain text:
// Render escapes them for HTML and reshapes them for the text part. An
// empty list item's presence slot (a detail, a link) leaves the item out.
type Values [NSlots]string

// Render fills both bodies: byte for byte what hermes renders for these
// values.
func (b *Body) Render(v *Values) (htmlOut, textOut string) {
	var html, hcom, text [NSlots]string
	var present [NSlots]bool
	for s := SlotGreeting; s < NSlots; s++ {
		if v[s] == "" {
			continue
		}
		present[s] = true
		html[s] = EscapeHTML(v[s])
		hcom[s] = CommentEscape(v[s])
		text[s] = TextNode(v[s])
	}
	htmlOut = b.html.fill(&html, &hcom, &present)

	title := text[SlotGreeting]
	dashes := FrameLen(title)
	text[slotDivider] = strings.Repeat("-", dashes)
	textOut = b.text.fill(&text, &text, &present)
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

// CommentEscape is what a value becomes inside an HTML comment: premailer's
// parser decodes html/template's entities and x/net/html writes the
// comment back escaping every "&", and a ">" after "!" or "-" (which could
// end the comment). Parse makes sure no marker in a comment sits right
// after a "!" or "-" or right before a ">", so the value alone decides.
func CommentEscape(s string) string {
	if !strings.ContainsAny(s, "&>") {
		return s
	}
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		switch c := s[i]; {
		case c == '&':
			b.WriteString("&amp;")
		case c == '>' && i > 0 && (s[i-1] == '!' || s[i-1] == '-'):
			b.WriteString("&gt;")
		default:
			b.WriteByte(c)
		}
	}
	return b.String()
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
