package logslocal

import (
	"encoding/json"
	"fmt"
	"path"
	"strconv"
	"strings"
	"unicode"
)

// Pattern is a parsed CloudWatch Logs filter pattern: the subset otp-local
// understands, which is what otpctl and an operator at a terminal use. No
// existing Go implementation of the syntax was found, so this is
// otp-local's own (docs/FIDELITY.md lists what it covers):
//
//   - "" matches every event;
//   - terms: words of letters and digits, or "quoted phrases", separated by
//     spaces; an event matches when its message contains every one, case
//     sensitively;
//   - JSON: { selector op value } with selectors $.a.b and $.a[0], the
//     operators = and != (strings, with * wildcards, and numbers), <, >,
//     <=, >= (numbers), IS NULL, IS TRUE, IS FALSE, NOT EXISTS, joined with
//     && and || and grouped with parentheses. An event matches only when
//     its message is a JSON object; a comparison on a field the message
//     lacks is false, whatever the operator.
//
// Space-delimited patterns ([a, b]), regular expressions (%…%), OR terms
// (?a ?b) and exclusions (-a) are refused as invalid rather than matched
// wrongly, so a pattern that works here means the same on AWS.
type Pattern struct {
	terms []string // all must occur in the message
	json  node     // nil unless a JSON pattern
}

// patternError is why a pattern does not parse; the server answers it as
// InvalidParameterException.
type patternError struct{ why string }

func (e *patternError) Error() string { return e.why }

func badPattern(format string, args ...any) error {
	return &patternError{why: fmt.Sprintf(format, args...)}
}

// ParsePattern parses a filter pattern.
func ParsePattern(s string) (*Pattern, error) {
	trimmed := strings.TrimSpace(s)
	switch {
	case trimmed == "":
		return &Pattern{}, nil
	case strings.HasPrefix(trimmed, "{"):
		if !strings.HasSuffix(trimmed, "}") {
			// AWS's own words for this mistake (jorgebastida/awslogs#210).
			return nil, badPattern("If a filter pattern starts with '{' it must end with '}'")
		}
		p := &parser{src: trimmed[1 : len(trimmed)-1]}
		n, err := p.or()
		if err != nil {
			return nil, err
		}
		if p.skipSpace(); p.pos < len(p.src) {
			return nil, badPattern("unexpected %q at offset %d of the JSON pattern", p.src[p.pos:], p.pos+1)
		}
		return &Pattern{json: n}, nil
	case strings.HasPrefix(trimmed, "["):
		return nil, badPattern("otp-local does not support space-delimited filter patterns")
	case strings.HasPrefix(trimmed, "%"):
		return nil, badPattern("otp-local does not support regular expressions in filter patterns")
	}
	terms, err := parseTerms(trimmed)
	if err != nil {
		return nil, err
	}
	return &Pattern{terms: terms}, nil
}

func parseTerms(s string) ([]string, error) {
	var terms []string
	for i := 0; i < len(s); {
		switch c := s[i]; {
		case c == ' ' || c == '\t':
			i++
		case c == '"':
			phrase, n, err := quoted(s[i:])
			if err != nil {
				return nil, err
			}
			terms = append(terms, phrase)
			i += n
		case c == '?' || c == '-':
			return nil, badPattern("otp-local does not support %q terms (OR and exclusion)", string(c))
		default:
			j := i
			for j < len(s) && s[j] != ' ' && s[j] != '\t' {
				j++
			}
			word := s[i:j]
			for _, r := range word {
				if r > unicode.MaxASCII || !unicode.IsLetter(r) && !unicode.IsDigit(r) {
					// AWS asks for quotes around any term with other
					// characters ("Invalid character(s) in term").
					return nil, badPattern("Invalid character(s) in term '%s'", word)
				}
			}
			terms = append(terms, word)
			i = j
		}
	}
	return terms, nil
}

// quoted reads a double-quoted string at the start of s, with \" and \\
// escapes, and returns it and how many bytes it took.
func quoted(s string) (string, int, error) {
	var b strings.Builder
	for i := 1; i < len(s); i++ {
		switch s[i] {
		case '\\':
			if i+1 < len(s) && (s[i+1] == '"' || s[i+1] == '\\') {
				b.WriteByte(s[i+1])
				i++
				continue
			}
			b.WriteByte('\\')
		case '"':
			return b.String(), i + 1, nil
		default:
			b.WriteByte(s[i])
		}
	}
	return "", 0, badPattern("unterminated quoted string %s", s)
}

// Match reports whether an event's message matches.
func (p *Pattern) Match(message string) bool {
	if p.json != nil {
		var doc any
		if json.Unmarshal([]byte(message), &doc) != nil {
			return false
		}
		if _, ok := doc.(map[string]any); !ok {
			return false
		}
		return p.json.eval(doc)
	}
	for _, t := range p.terms {
		if !strings.Contains(message, t) {
			return false
		}
	}
	return true
}

// node is one part of a JSON pattern.
type node interface{ eval(doc any) bool }

type andNode []node
type orNode []node

func (n andNode) eval(doc any) bool {
	for _, c := range n {
		if !c.eval(doc) {
			return false
		}
	}
	return true
}

func (n orNode) eval(doc any) bool {
	for _, c := range n {
		if c.eval(doc) {
			return true
		}
	}
	return false
}

// step is one part of a selector: a member name or an array index.
type step struct {
	name  string
	index int // when name == ""
}

type comparison struct {
	selector []step
	op       string // = != < > <= >= or IS NULL, IS TRUE, IS FALSE, NOT EXISTS
	str      string // the value as written (a string value may hold * wildcards)
	num      float64
	isNum    bool // the value is a bare number
}

func (c comparison) eval(doc any) bool {
	v, ok := lookup(doc, c.selector)
	switch c.op {
	case "NOT EXISTS":
		return !ok
	case "IS NULL":
		return ok && v == nil
	case "IS TRUE", "IS FALSE":
		b, isBool := v.(bool)
		return ok && isBool && b == (c.op == "IS TRUE")
	}
	if !ok {
		return false
	}
	if f, isNum := v.(float64); isNum && c.isNum {
		switch c.op {
		case "=":
			return f == c.num
		case "!=":
			return f != c.num
		case "<":
			return f < c.num
		case ">":
			return f > c.num
		case "<=":
			return f <= c.num
		case ">=":
			return f >= c.num
		}
	}
	s, isString := v.(string)
	if !isString {
		return false
	}
	switch c.op {
	case "=":
		return wildcard(c.str, s)
	case "!=":
		return !wildcard(c.str, s)
	}
	return false // an ordering of a string: numbers only
}

// wildcard matches s against a value whose * stand for any run of
// characters; nothing else in it is special.
func wildcard(pattern, s string) bool {
	if !strings.Contains(pattern, "*") {
		return pattern == s
	}
	// path.Match treats ?, [ and \ specially too: escape them first.
	var b strings.Builder
	for _, r := range pattern {
		if r == '?' || r == '[' || r == '\\' || r == ']' {
			b.WriteByte('\\')
		}
		b.WriteRune(r)
	}
	// path.Match stops * at '/'; replace it in both with a byte neither holds.
	const sep = "\x00"
	ok, err := path.Match(strings.ReplaceAll(b.String(), "/", sep), strings.ReplaceAll(s, "/", sep))
	return err == nil && ok
}

func lookup(doc any, sel []step) (any, bool) {
	cur := doc
	for _, st := range sel {
		if st.name != "" {
			m, ok := cur.(map[string]any)
			if !ok {
				return nil, false
			}
			if cur, ok = m[st.name]; !ok {
				return nil, false
			}
			continue
		}
		a, ok := cur.([]any)
		if !ok || st.index >= len(a) {
			return nil, false
		}
		cur = a[st.index]
	}
	return cur, true
}

// parser reads the inside of a JSON pattern's braces. && binds tighter
// than ||, as in every language the syntax borrows from; AWS's reference
// shows both only inside parentheses, and otpctl always writes them so.
type parser struct {
	src string
	pos int
}

func (p *parser) skipSpace() {
	for p.pos < len(p.src) && (p.src[p.pos] == ' ' || p.src[p.pos] == '\t' || p.src[p.pos] == '\n') {
		p.pos++
	}
}

func (p *parser) eat(tok string) bool {
	p.skipSpace()
	if strings.HasPrefix(p.src[p.pos:], tok) {
		p.pos += len(tok)
		return true
	}
	return false
}

func (p *parser) or() (node, error) {
	first, err := p.and()
	if err != nil {
		return nil, err
	}
	n := orNode{first}
	for p.eat("||") {
		next, err := p.and()
		if err != nil {
			return nil, err
		}
		n = append(n, next)
	}
	if len(n) == 1 {
		return first, nil
	}
	return n, nil
}

func (p *parser) and() (node, error) {
	first, err := p.unary()
	if err != nil {
		return nil, err
	}
	n := andNode{first}
	for p.eat("&&") {
		next, err := p.unary()
		if err != nil {
			return nil, err
		}
		n = append(n, next)
	}
	if len(n) == 1 {
		return first, nil
	}
	return n, nil
}

func (p *parser) unary() (node, error) {
	if p.eat("(") {
		n, err := p.or()
		if err != nil {
			return nil, err
		}
		if !p.eat(")") {
			return nil, badPattern("missing ')' at offset %d of the JSON pattern", p.pos+1)
		}
		return n, nil
	}
	return p.comparison()
}

func (p *parser) comparison() (node, error) {
	p.skipSpace()
	sel, err := p.selector()
	if err != nil {
		return nil, err
	}
	c := comparison{selector: sel}
	for _, kw := range []string{"IS NULL", "IS TRUE", "IS FALSE", "NOT EXISTS"} {
		if p.eat(kw) {
			c.op = kw
			return c, nil
		}
	}
	for _, op := range []string{"!=", "<=", ">=", "=", "<", ">"} {
		if p.eat(op) {
			c.op = op
			break
		}
	}
	if c.op == "" {
		return nil, badPattern("expected an operator after the selector at offset %d of the JSON pattern", p.pos+1)
	}
	p.skipSpace()
	switch {
	case p.pos < len(p.src) && p.src[p.pos] == '"':
		s, n, err := quoted(p.src[p.pos:])
		if err != nil {
			return nil, err
		}
		c.str = s
		p.pos += n
	default:
		start := p.pos
		for p.pos < len(p.src) && isBare(p.src[p.pos]) {
			p.pos++
		}
		c.str = p.src[start:p.pos]
		if c.str == "" {
			return nil, badPattern("expected a value at offset %d of the JSON pattern", p.pos+1)
		}
		if f, err := strconv.ParseFloat(c.str, 64); err == nil {
			c.num, c.isNum = f, true
		}
	}
	if !c.isNum && c.op != "=" && c.op != "!=" {
		return nil, badPattern("%s compares numbers; %q is not one", c.op, c.str)
	}
	return c, nil
}

// isBare is a character of an unquoted value: letters, digits and what
// numbers and simple tokens hold.
func isBare(b byte) bool {
	return b >= 'a' && b <= 'z' || b >= 'A' && b <= 'Z' || b >= '0' && b <= '9' ||
		b == '.' || b == '-' || b == '+' || b == '_' || b == '*'
}

func (p *parser) selector() ([]step, error) {
	if p.pos >= len(p.src) || p.src[p.pos] != '$' {
		return nil, badPattern("expected a selector ($.field) at offset %d of the JSON pattern", p.pos+1)
	}
	p.pos++
	var sel []step
	for p.pos < len(p.src) {
		switch p.src[p.pos] {
		case '.':
			p.pos++
			start := p.pos
			for p.pos < len(p.src) && isIdent(p.src[p.pos]) {
				p.pos++
			}
			if p.pos == start {
				return nil, badPattern("expected a field name after '.' at offset %d of the JSON pattern", p.pos+1)
			}
			sel = append(sel, step{name: p.src[start:p.pos]})
		case '[':
			end := strings.IndexByte(p.src[p.pos:], ']')
			if end < 0 {
				return nil, badPattern("missing ']' in the selector at offset %d of the JSON pattern", p.pos+1)
			}
			i, err := strconv.Atoi(p.src[p.pos+1 : p.pos+end])
			if err != nil || i < 0 {
				return nil, badPattern("otp-local supports only numeric array indexes in selectors, not %s", p.src[p.pos:p.pos+end+1])
			}
			sel = append(sel, step{index: i})
			p.pos += end + 1
		default:
			if len(sel) == 0 {
				return nil, badPattern("expected a selector ($.field) at offset %d of the JSON pattern", p.pos+1)
			}
			return sel, nil
		}
	}
	if len(sel) == 0 {
		return nil, badPattern("expected a selector ($.field) at offset %d of the JSON pattern", p.pos+1)
	}
	return sel, nil
}

func isIdent(b byte) bool {
	return b >= 'a' && b <= 'z' || b >= 'A' && b <= 'Z' || b >= '0' && b <= '9' || b == '_' || b == '-' || b == '@'
}
