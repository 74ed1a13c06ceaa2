package deploy_test

import (
	"fmt"
	"os"
	"strings"

	"go.yaml.in/yaml/v3"
)

// loadTemplate parses a CloudFormation/SAM template, turning the short-form
// intrinsic tags (!Ref, !Sub, !GetAtt, !If, ...) into the long form
// CloudFormation itself uses ({"Ref": ...}, {"Fn::Sub": ...}), so tests
// can walk plain maps.
func loadTemplate(path string) (map[string]any, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	var doc yaml.Node
	if err := yaml.Unmarshal(b, &doc); err != nil {
		return nil, fmt.Errorf("parse %s: %w", path, err)
	}
	v, err := cfnValue(&doc)
	if err != nil {
		return nil, fmt.Errorf("parse %s: %w", path, err)
	}
	m, ok := v.(map[string]any)
	if !ok {
		return nil, fmt.Errorf("parse %s: top level is not a mapping", path)
	}
	return m, nil
}

func cfnValue(n *yaml.Node) (any, error) {
	var v any
	switch n.Kind {
	case yaml.DocumentNode:
		return cfnValue(n.Content[0])
	case yaml.AliasNode:
		return cfnValue(n.Alias)
	case yaml.MappingNode:
		m := make(map[string]any, len(n.Content)/2)
		for i := 0; i < len(n.Content); i += 2 {
			val, err := cfnValue(n.Content[i+1])
			if err != nil {
				return nil, err
			}
			m[n.Content[i].Value] = val
		}
		v = m
	case yaml.SequenceNode:
		s := make([]any, 0, len(n.Content))
		for _, c := range n.Content {
			val, err := cfnValue(c)
			if err != nil {
				return nil, err
			}
			s = append(s, val)
		}
		v = s
	case yaml.ScalarNode:
		if strings.HasPrefix(n.Tag, "!!") || n.Tag == "" {
			var scalar any
			if err := n.Decode(&scalar); err != nil {
				return nil, err
			}
			return scalar, nil
		}
		v = n.Value
	}
	if n.Tag == "" || strings.HasPrefix(n.Tag, "!!") {
		return v, nil
	}
	name := strings.TrimPrefix(n.Tag, "!")
	switch name {
	case "Ref", "Condition":
		return map[string]any{name: v}, nil
	case "GetAtt":
		if s, ok := v.(string); ok {
			resource, attr, _ := strings.Cut(s, ".")
			v = []any{resource, attr}
		}
		return map[string]any{"Fn::GetAtt": v}, nil
	case "Sub", "If", "Equals", "Not", "And", "Or", "Join", "Select", "Split", "FindInMap", "Base64", "Cidr", "ImportValue", "GetAZs", "Transform", "ToJsonString", "Length":
		return map[string]any{"Fn::" + name: v}, nil
	}
	return nil, fmt.Errorf("line %d: unknown tag %s", n.Line, n.Tag)
}
