package templates

import (
	"slices"
	"strings"

	"go.yaml.in/yaml/v3"
	"golang.org/x/text/feature/plural"

	"github.com/cognito-email-otp/cognito-email-otp/mailer/contract"
	"github.com/cognito-email-otp/cognito-email-otp/templates/internal/render"
)

// A locale file's top-level keys are the sign-in code email, as they were
// before there were kinds, so sets written then still load. Every other
// kind is a section keyed by its name, sharing the file's greeting,
// greeting_no_name and signature:
//
//	signup_verification:
//	  subject: "Confirm your {product} account"
//	  ...
//
// A set that has no section for a kind renders it with the default set's
// wording in its own theme (a kind fallback), so the default set must have
// every section.

// kindSpec is what a kind's wording is made of.
type kindSpec struct {
	kind    contract.Kind
	section string   // the YAML key; "" for the sign-in code's top-level keys
	keys    []string // every required key, in the order problems and docs list them
	// units are what the kind's expiry sentence may count; nil when the
	// kind has no expiry sentence.
	units []render.Unit
	rules map[string]keyRule // keys beyond {product}-only ones
	shape render.Shape
}

var codeKeys = []string{"subject", "intro", "instructions", "expiry", "not_requested"}

// Takeover keys, in the order of the Wording arrays.
var (
	takeoverHappened = []string{"blocked", "challenged", "allowed"}
	takeoverDetails  = []string{"time", "ip", "location", "device"}
)

var kindSpecs = func() map[contract.Kind]*kindSpec {
	code := func(k contract.Kind, units ...render.Unit) *kindSpec {
		return &kindSpec{kind: k, section: string(k), keys: codeKeys, units: units, shape: render.ShapeCode}
	}
	specs := []*kindSpec{
		{kind: contract.KindSignInCode, keys: codeKeys, units: []render.Unit{render.UnitMinutes}, shape: render.ShapeCode},
		code(contract.KindSignUpVerification, render.UnitMinutes, render.UnitHours),
		{
			kind: contract.KindInvitation, section: string(contract.KindInvitation),
			keys:  []string{"subject", "intro", "username", "instructions", "expiry", "sign_in"},
			units: []render.Unit{render.UnitDays},
			rules: map[string]keyRule{"username": {allowed: []string{phUsername, phProduct}, required: phUsername}},
			shape: render.ShapeInvitation,
		},
		code(contract.KindAttributeVerification, render.UnitMinutes, render.UnitHours),
		code(contract.KindPasswordReset, render.UnitMinutes, render.UnitHours),
		code(contract.KindMFACode, render.UnitMinutes, render.UnitHours),
		{
			kind: contract.KindAccountTakeover, section: string(contract.KindAccountTakeover),
			keys: append(append(append([]string{"subject"}, takeoverHappened...), takeoverDetails...),
				"confirm_instructions", "confirm_button", "report_instructions", "report_button", "button_help", "what_to_do"),
			rules: map[string]keyRule{
				"time":        {allowed: []string{phTime, phProduct}, required: phTime},
				"ip":          {allowed: []string{phIP, phProduct}, required: phIP},
				"location":    {allowed: []string{phLocation, phProduct}, required: phLocation},
				"device":      {allowed: []string{phDevice, phProduct}, required: phDevice},
				"button_help": {allowed: []string{phButton, phProduct}, required: phButton},
			},
			shape: render.ShapeTakeover,
		},
	}
	m := map[contract.Kind]*kindSpec{}
	for _, s := range specs {
		m[s.kind] = s
	}
	return m
}()

// sectionGreetings are the keys a section may have beyond its kind's: a
// greeting of its own where the file's does not fit (a sign-up email
// should not say "welcome back").
var sectionGreetings = []string{"greeting", "greeting_no_name"}

// rule is the placeholder rule of one of the kind's keys.
func (k *kindSpec) rule(key string) keyRule {
	if slices.Contains(sectionGreetings, key) {
		return keyRules[key]
	}
	if r, ok := k.rules[key]; ok {
		return r
	}
	if r, ok := keyRules[key]; ok && k.section == "" {
		return r
	}
	return keyRule{allowed: []string{phProduct}}
}

// keyName is a key as problems name it: "intro" for the sign-in code,
// "invitation.intro" for another kind.
func (k *kindSpec) keyName(key string) string {
	if k.section == "" {
		return key
	}
	return k.section + "." + key
}

// kindText is one locale file's wording for one kind, {product} not yet
// filled in: a kind fallback fills in another set's product.
type kindText struct {
	spec    *kindSpec
	phrases map[string]phrase
	expiry  map[plural.Form]phrase
	unit    render.Unit
}

// section is a kind's section of a locale file, kept as YAML nodes so that
// each key is checked against the kind's own list.
type section struct {
	set     bool
	line    int
	bad     string
	entries []sectionEntry
}

type sectionEntry struct {
	key  string
	line int
	node *yaml.Node
}

func (s *section) UnmarshalYAML(n *yaml.Node) error {
	if n.Kind == yaml.AliasNode && n.Alias != nil {
		n = n.Alias
	}
	s.set, s.line = true, n.Line
	if n.Kind != yaml.MappingNode {
		s.bad = "must be a mapping of the email's keys"
		return nil
	}
	for i := 0; i+1 < len(n.Content); i += 2 {
		s.entries = append(s.entries, sectionEntry{key: n.Content[i].Value, line: n.Content[i].Line, node: n.Content[i+1]})
	}
	return nil
}

// sections lists the locale file's kind sections by kind.
func (lf *localeFile) sections() map[contract.Kind]*section {
	return map[contract.Kind]*section{
		contract.KindSignUpVerification:    &lf.SignUpVerification,
		contract.KindInvitation:            &lf.Invitation,
		contract.KindAttributeVerification: &lf.AttributeVerification,
		contract.KindPasswordReset:         &lf.PasswordReset,
		contract.KindMFACode:               &lf.MFACode,
		contract.KindAccountTakeover:       &lf.AccountTakeover,
	}
}

// sectionKinds lists the kinds the file has a section for.
func (lf *localeFile) sectionKinds() []contract.Kind {
	var out []contract.Kind
	for _, kind := range contract.Kinds {
		if sec, ok := lf.sections()[kind]; ok && sec.set {
			out = append(out, kind)
		}
	}
	return out
}

// signInValues is the sign-in code's wording, the file's top-level keys,
// as a section.
func (lf *localeFile) signInValues() (map[string]text, pluralText) {
	return map[string]text{
		"subject": lf.Subject, "intro": lf.Intro, "instructions": lf.Instructions, "not_requested": lf.NotRequested,
	}, lf.Expiry
}

// parseSection checks one kind's section. It returns nil after recording
// why when anything in it is unusable.
func parseSection(spec *kindSpec, sec *section, ps problems) *kindText {
	if sec.bad != "" {
		ps.add(spec.section, sec.line, "%s", sec.bad)
		return nil
	}
	texts := map[string]text{}
	var expiry pluralText
	seen := map[string]bool{}
	for _, e := range sec.entries {
		switch {
		case seen[e.key]:
			ps.add(spec.keyName(e.key), e.line, "appears twice")
			continue
		case !slices.Contains(spec.keys, e.key) && !slices.Contains(sectionGreetings, e.key):
			ps.add(spec.keyName(e.key), e.line, "unknown key (the %s email has: %s, and may have its own %s; see docs/rendering.md)",
				spec.kind, strings.Join(spec.keys, ", "), strings.Join(sectionGreetings, " and "))
			continue
		}
		seen[e.key] = true
		if e.key == "expiry" {
			_ = expiry.UnmarshalYAML(e.node)
			continue
		}
		var t text
		_ = t.UnmarshalYAML(e.node)
		texts[e.key] = t
	}
	return parseKindText(spec, texts, expiry, sec.line, ps)
}

// parseKindText checks a kind's strings and expiry sentence.
// line is the section's, where a missing key is reported (0 for the
// top-level keys).
func parseKindText(spec *kindSpec, texts map[string]text, expiry pluralText, line int, ps problems) *kindText {
	before := len(*ps.list)
	kt := &kindText{spec: spec, phrases: map[string]phrase{}}
	for _, key := range spec.keys {
		if key == "expiry" {
			continue
		}
		t, ok := texts[key]
		if !ok || !t.set {
			ps.missingAt(spec.keyName(key), line)
			continue
		}
		if p := checkPhrase(spec.keyName(key), t, spec.rule(key), ps); p != nil {
			kt.phrases[key] = p
		}
	}
	for _, key := range sectionGreetings {
		if t, ok := texts[key]; ok && t.set {
			if p := checkPhrase(spec.keyName(key), t, spec.rule(key), ps); p != nil {
				kt.phrases[key] = p
			}
		}
	}
	if spec.units != nil {
		kt.expiry, kt.unit = checkExpiry(spec, expiry, line, ps)
	}
	if len(*ps.list) > before {
		return nil
	}
	return kt
}

// checkExpiry checks an expiry sentence per plural category. Its "other"
// form picks the unit, one of those the kind allows; every form counts in
// that unit.
func checkExpiry(spec *kindSpec, e pluralText, line int, ps problems) (map[plural.Form]phrase, render.Unit) {
	key := spec.keyName("expiry")
	out := map[plural.Form]phrase{}
	switch {
	case !e.set:
		ps.missingAt(key, line)
		return out, ""
	case e.bad != "":
		ps.add(key, e.line, "%s", e.bad)
		return out, ""
	}
	for _, u := range e.unknown {
		ps.add(key+"."+u.key, u.line, "not a plural category; use zero, one, two, few, many or other")
	}
	allowed := []string{phProduct}
	for _, u := range spec.units {
		allowed = append(allowed, string(u))
	}
	var unit render.Unit
	other, ok := e.forms["other"]
	var otherPhrase phrase
	if ok {
		otherPhrase = checkPhrase(key+".other", other, keyRule{allowed: allowed}, ps)
		if otherPhrase != nil {
			var used []render.Unit
			for _, u := range spec.units {
				if otherPhrase.uses(string(u)) {
					used = append(used, u)
				}
			}
			switch len(used) {
			case 1:
				unit = used[0]
				out[plural.Other] = otherPhrase
			case 0:
				ps.add(key+".other", other.line, "must contain %s", oneOf(spec.units))
			default:
				ps.add(key+".other", other.line, "counts in one unit only: use one of %s", oneOf(spec.units))
			}
		}
	} else {
		ps.add(key, e.line, "missing plural category \"other\"; it is used for every count no other category covers")
	}
	for _, form := range e.order {
		if form == "other" {
			continue
		}
		rule := keyRule{allowed: allowed}
		if unit != "" {
			rule.allowed = []string{phProduct, string(unit)}
		}
		if p := checkPhrase(key+"."+form, e.forms[form], rule, ps); p != nil {
			out[pluralForms[form]] = p
		}
	}
	return out, unit
}

func oneOf(units []render.Unit) string {
	names := make([]string, len(units))
	for i, u := range units {
		names[i] = string(u)
	}
	if len(names) == 1 {
		return "{" + names[0] + "}"
	}
	return braceList(names[:len(names)-1]) + " or {" + names[len(names)-1] + "}"
}
