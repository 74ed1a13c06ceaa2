package render

import (
	"errors"
	"strconv"
	"strings"
	"unicode/utf8"
)

// A kind's HTML body is mostly its locale's sign-in code body: the same
// head, style sheet, masthead and footer, and much of the card. A bundle
// stores it as a delta against that body, which keeps the bundle (and
// the mailer's cold start, which decodes it) a fraction of the size.
//
// A delta is the body's text with each run copied from the base written
// as DeltaOpen + offset + "," + length + DeltaClose. The two are
// private-use characters that no body holds (markers use MarkOpen and
// MarkClose; locale and theme strings may hold none), so a delta is one
// readable JSON string.
const (
	DeltaOpen  = "\uE002"
	DeltaClose = "\uE003"
)

// deltaMinMatch is the shortest copy worth a reference: shorter runs stay
// literal.
const deltaMinMatch = 24

// MakeDelta encodes target against base, greedily taking the longest
// match at each position. The result is deterministic.
func MakeDelta(base, target string) string {
	index := map[string][]int{}
	for i := 0; i+deltaMinMatch <= len(base); i++ {
		k := base[i : i+deltaMinMatch]
		if len(index[k]) < 8 {
			index[k] = append(index[k], i)
		}
	}
	var b strings.Builder
	for i := 0; i < len(target); {
		best, bestLen := 0, 0
		// Copies start and end on rune boundaries, so that the literals
		// between them stay valid UTF-8 (JSON would replace a split rune).
		if i+deltaMinMatch <= len(target) && utf8.RuneStart(target[i]) {
			for _, p := range index[target[i:i+deltaMinMatch]] {
				n := deltaMinMatch
				for p+n < len(base) && i+n < len(target) && base[p+n] == target[i+n] {
					n++
				}
				for i+n < len(target) && !utf8.RuneStart(target[i+n]) {
					n--
				}
				if n >= deltaMinMatch && n > bestLen {
					best, bestLen = p, n
				}
			}
		}
		if bestLen == 0 {
			b.WriteByte(target[i])
			i++
			continue
		}
		b.WriteString(DeltaOpen + strconv.Itoa(best) + "," + strconv.Itoa(bestLen) + DeltaClose)
		i += bestLen
	}
	return b.String()
}

// ApplyDelta rebuilds a body from its delta and base.
func ApplyDelta(base, delta string) (string, error) {
	var b strings.Builder
	b.Grow(len(base) + len(delta))
	for {
		i := strings.Index(delta, DeltaOpen)
		if i < 0 {
			if strings.Contains(delta, DeltaClose) {
				return "", errors.New("delta: a reference end without a start")
			}
			b.WriteString(delta)
			return b.String(), nil
		}
		b.WriteString(delta[:i])
		delta = delta[i+len(DeltaOpen):]
		j := strings.Index(delta, DeltaClose)
		if j < 0 {
			return "", errors.New("delta: unterminated reference")
		}
		from, n, ok := strings.Cut(delta[:j], ",")
		f, err1 := strconv.Atoi(from)
		l, err2 := strconv.Atoi(n)
		if !ok || err1 != nil || err2 != nil || f < 0 || l <= 0 || f > len(base)-l {
			return "", errors.New("delta: a reference outside the base")
		}
		b.WriteString(base[f : f+l])
		delta = delta[j+len(DeltaClose):]
	}
}
