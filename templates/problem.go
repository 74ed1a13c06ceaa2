package templates

import (
	"fmt"
	"strconv"
	"strings"
)

// Problem is one thing wrong with a template set, located as precisely as
// the checker can: the set, the file inside it, the YAML key and its line.
type Problem struct {
	Set     string `json:"set,omitempty"`
	Source  string `json:"source,omitempty"` // "embedded", "dir /etc/otp/templates"
	File    string `json:"file,omitempty"`   // path inside the set: "theme.yaml", "locales/de.yaml"
	Key     string `json:"key,omitempty"`    // "intro", "expiry.few", "colors.accent"
	Line    int    `json:"line,omitempty"`
	Message string `json:"message"` // complete sentence after the location, e.g. `missing key "intro"`
}

// String reads `set "acme": locales/de.yaml:7: key "intro": unknown placeholder "{nmae}"`.
func (p Problem) String() string {
	if p.Set == "" {
		return p.Source + ": " + p.Message
	}
	return "set " + strconv.Quote(p.Set) + ": " + p.where()
}

// where is the problem without its set: `locales/de.yaml: missing key "intro"`.
func (p Problem) where() string {
	var b strings.Builder
	if p.File != "" {
		b.WriteString(p.File)
		if p.Line > 0 {
			fmt.Fprintf(&b, ":%d", p.Line)
		}
		b.WriteString(": ")
	}
	b.WriteString(p.Message)
	return b.String()
}

// LoadError is returned by Load when any effective set has a problem. Load
// validates everything up front, so that a bad set fails a deploy or a cold
// start instead of one user's email.
type LoadError struct {
	Problems []Problem
}

// Error reports the first problem in the form
// `load template set "acme": locales/de.yaml: missing key "intro"`
// and counts the rest; Problems has them all.
func (e *LoadError) Error() string {
	if len(e.Problems) == 0 {
		return "load templates: no problems recorded"
	}
	p := e.Problems[0]
	var s string
	if p.Set == "" {
		s = "load templates: " + p.String()
	} else {
		s = fmt.Sprintf("load template set %q: %s", p.Set, p.where())
	}
	if n := len(e.Problems) - 1; n > 0 {
		s += fmt.Sprintf(" (and %d more; run `otpctl templates check` to list them)", n)
	}
	return s
}

// problems collects the problems of one file.
type problems struct {
	set, source, file string
	list              *[]Problem
}

func (ps problems) add(key string, line int, format string, args ...any) {
	msg := fmt.Sprintf(format, args...)
	if key != "" {
		msg = fmt.Sprintf("key %q: %s", key, msg)
	}
	*ps.list = append(*ps.list, Problem{Set: ps.set, Source: ps.source, File: ps.file, Key: key, Line: line, Message: msg})
}

func (ps problems) missing(key string) {
	*ps.list = append(*ps.list, Problem{Set: ps.set, Source: ps.source, File: ps.file, Key: key, Message: fmt.Sprintf("missing key %q", key)})
}

// missingAt is missing for a key of a section, at the section's line.
func (ps problems) missingAt(key string, line int) {
	*ps.list = append(*ps.list, Problem{Set: ps.set, Source: ps.source, File: ps.file, Key: key, Line: line, Message: fmt.Sprintf("missing key %q", key)})
}

func (ps problems) at(line int, format string, args ...any) {
	*ps.list = append(*ps.list, Problem{Set: ps.set, Source: ps.source, File: ps.file, Line: line, Message: fmt.Sprintf(format, args...)})
}
