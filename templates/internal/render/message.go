package render

import (
	"errors"
	"fmt"
	"strconv"
	"time"

	"golang.org/x/text/feature/plural"
	"golang.org/x/text/language"
	"golang.org/x/text/unicode/bidi"
)

// ErrInvalidMessage marks a message that cannot be rendered whatever the
// templates say: a code that is not 4..10 ASCII digits, or a lifetime that is
// not positive. Errors wrapping it never quote the code.
var ErrInvalidMessage = errors.New("invalid message")

const (
	minCodeLen = 4
	maxCodeLen = 10
)

// CheckMessage rejects what no template can render.
func CheckMessage(code string, ttl time.Duration) error {
	if len(code) < minCodeLen || len(code) > maxCodeLen {
		return fmt.Errorf("%w: code must be 4..10 ASCII digits", ErrInvalidMessage)
	}
	for i := 0; i < len(code); i++ {
		if code[i] < '0' || code[i] > '9' {
			return fmt.Errorf("%w: code must be 4..10 ASCII digits", ErrInvalidMessage)
		}
	}
	if ttl <= 0 {
		return fmt.Errorf("%w: ttl must be positive", ErrInvalidMessage)
	}
	return nil
}

// Minutes rounds a lifetime up to whole minutes, so that a code with 30 s
// left reads "1 minute", never "0 minutes".
func Minutes(ttl time.Duration) int64 {
	m := int64(ttl / time.Minute)
	if ttl%time.Minute != 0 {
		m++
	}
	return m
}

// PluralForm is the CLDR category the language uses for a count of
// minutes; counts beyond what the plural rules take are "other".
func PluralForm(tag language.Tag, mins int64) plural.Form {
	if mins > int64(^uint32(0)>>1) {
		return plural.Other
	}
	return plural.Cardinal.MatchPlural(tag, int(mins), 0, 0, 0, 0)
}

// FormNames are the plural categories as locale files and bundles spell
// them.
var FormNames = map[plural.Form]string{
	plural.Zero: "zero", plural.One: "one", plural.Two: "two",
	plural.Few: "few", plural.Many: "many", plural.Other: "other",
}

// FormatMinutes is how the count appears in the expiry sentence.
func FormatMinutes(mins int64) string { return strconv.FormatInt(mins, 10) }

const (
	fsi = "\u2068" // first strong isolate
	pdi = "\u2069" // pop directional isolate
)

// IsolateName wraps the name in first-strong-isolate / pop-directional-isolate
// when the surrounding text or the name is right-to-left, so that a Latin
// name in an Arabic greeting (or an Arabic name ending in digits in an
// English one) cannot reorder the punctuation around it. Left-to-right text
// in a left-to-right email is left alone: the marks are invisible but some
// plain-text readers show them as boxes.
func IsolateName(name string, rtl bool) string {
	if !rtl && !hasRTL(name) {
		return name
	}
	return fsi + name + pdi
}

func hasRTL(s string) bool {
	for _, r := range s {
		if r < 0x0590 { // nothing right-to-left below Hebrew
			continue
		}
		p, _ := bidi.LookupRune(r)
		if c := p.Class(); c == bidi.R || c == bidi.AL {
			return true
		}
	}
	return false
}

// MaxLocaleLen bounds what we hand the BCP 47 parser; real tags are short
// (RFC 5646 asks for 35 characters to be supported).
const MaxLocaleLen = 64

// PickLocale matches a requested tag against a set's n locales, listed to
// the matcher default first: the exact tag, then whatever x/text's matcher
// rates as a High match (de-AT -> de, fr-BE -> fr, pt-PT -> pt-BR), then the
// default (index 0). A Low match, such as zh-TW -> zh-Hans, is not taken:
// a set that wants Traditional Chinese readers served in Simplified can say
// so by adding the file. fallback reports a non-empty request that did not
// match.
func PickLocale(m language.Matcher, n int, requested string) (idx int, fallback bool) {
	if requested == "" {
		return 0, false
	}
	if len(requested) > MaxLocaleLen {
		return 0, true
	}
	tag, err := language.Parse(requested)
	if err != nil && tag == language.Und {
		return 0, true
	}
	_, idx, conf := m.Match(tag)
	if conf < language.High || idx < 0 || idx >= n {
		return 0, true
	}
	return idx, false
}
