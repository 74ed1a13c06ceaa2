package templates

import (
	"bytes"
	"errors"
	"io"
	"regexp"
	"strconv"
	"strings"

	"go.yaml.in/yaml/v3"
)

// text is a YAML string that remembers where it was and whether it was
// there at all, so that "missing key" and "empty value" are different
// problems, and both name a line.
type text struct {
	value string
	line  int
	set   bool
	bad   string // why the node is not a string, if it is not
}

func (t *text) UnmarshalYAML(n *yaml.Node) error {
	if n.Kind == yaml.AliasNode && n.Alias != nil {
		n = n.Alias
	}
	t.set, t.line = true, n.Line
	switch {
	case n.Kind != yaml.ScalarNode:
		t.bad = "must be a string, not a list or a mapping"
	case n.Tag == "!!null":
		t.value = ""
	default:
		t.value = n.Value
	}
	return nil
}

// pluralText is a string per CLDR plural category. A plain string is
// shorthand for {other: ...}, which suits languages without plural forms.
type pluralText struct {
	forms   map[string]text
	order   []string // keys as written, for stable problem order
	line    int
	set     bool
	bad     string
	unknown []keyAt // keys that are not plural categories
}

type keyAt struct {
	key  string
	line int
}

func (p *pluralText) UnmarshalYAML(n *yaml.Node) error {
	if n.Kind == yaml.AliasNode && n.Alias != nil {
		n = n.Alias
	}
	p.set, p.line = true, n.Line
	p.forms = map[string]text{}
	switch n.Kind {
	case yaml.ScalarNode:
		var t text
		_ = t.UnmarshalYAML(n)
		p.forms["other"] = t
		p.order = []string{"other"}
	case yaml.MappingNode:
		for i := 0; i+1 < len(n.Content); i += 2 {
			k, v := n.Content[i], n.Content[i+1]
			if _, ok := pluralForms[k.Value]; !ok {
				p.unknown = append(p.unknown, keyAt{k.Value, k.Line})
				continue
			}
			if _, dup := p.forms[k.Value]; dup {
				p.unknown = append(p.unknown, keyAt{k.Value + " (again)", k.Line})
				continue
			}
			var t text
			_ = t.UnmarshalYAML(v)
			p.forms[k.Value] = t
			p.order = append(p.order, k.Value)
		}
	default:
		p.bad = "must be a string or a mapping of plural categories (zero, one, two, few, many, other)"
	}
	return nil
}

// maxFileSize bounds what a directory source can make us read.
const maxFileSize = 256 << 10

var (
	unknownFieldRe = regexp.MustCompile(`^line (\d+): field (.+) not found in type [\w.]*?(\w+)$`)
	lineRe         = regexp.MustCompile(`^(?:yaml: )?line (\d+): (.*)$`)
)

// decodeStrict decodes one YAML document into v, rejecting unknown keys,
// and reports every problem the decoder found rather than the first.
// prefixes maps a Go type name to the key path it is decoded at, so that an
// unknown key inside "colors" is reported as "colors.foo".
func decodeStrict(data []byte, v any, ps problems, prefixes map[string]string) {
	if len(data) > maxFileSize {
		ps.at(0, "file is larger than %d KiB", maxFileSize>>10)
		return
	}
	dec := yaml.NewDecoder(bytes.NewReader(data))
	dec.KnownFields(true)
	err := dec.Decode(v)
	if errors.Is(err, io.EOF) {
		ps.at(0, "file is empty")
		return
	}
	var te *yaml.TypeError
	switch {
	case errors.As(err, &te):
		for _, e := range te.Errors {
			if m := unknownFieldRe.FindStringSubmatch(e); m != nil {
				line, _ := strconv.Atoi(m[1])
				ps.add(prefixes[m[3]]+m[2], line, "unknown key (check the spelling; see docs/rendering.md for the keys)")
				continue
			}
			if m := lineRe.FindStringSubmatch(e); m != nil {
				line, _ := strconv.Atoi(m[1])
				ps.at(line, "%s", m[2])
				continue
			}
			ps.at(0, "%s", e)
		}
	case err != nil:
		msg := strings.TrimPrefix(err.Error(), "yaml: ")
		if m := lineRe.FindStringSubmatch(msg); m != nil {
			line, _ := strconv.Atoi(m[1])
			ps.at(line, "invalid YAML: %s", m[2])
			return
		}
		ps.at(0, "invalid YAML: %s", msg)
		return
	}
	var extra yaml.Node
	if err := dec.Decode(&extra); err == nil {
		ps.at(extra.Line, "more than one YAML document; a file holds exactly one")
	}
}
