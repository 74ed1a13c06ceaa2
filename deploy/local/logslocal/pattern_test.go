package logslocal

import (
	"errors"
	"strings"
	"testing"
)

// A mailer line and a Create line as the functions write them.
const (
	sentLine   = `{"time":"2026-12-02T10:00:01.5Z","level":"INFO","msg":"sent","request_id":"AbC-d_12","tenant":"acme","outcome":"sent","ses_message_id":"0100-x/y","attempts":1,"latency_ms":80.5,"nested":{"a":[1,"two",null,true]},"none":null}`
	createLine = `{"time":"2026-12-02T10:00:00Z","msg":"create code_enqueued","trigger":"create","outcome":"code_enqueued","to_hash":"258e7ac622d8e3f5","request_id":"AbC-d_12"}`
)

func TestPatternMatches(t *testing.T) {
	tests := []struct {
		name, pattern, message string
		want                   bool
	}{
		{"empty matches everything", "", "anything at all", true},
		{"blank matches everything", "   ", "anything", true},
		{"a word", "ERROR", "[ERROR 401] UNAUTHORIZED", true},
		{"words are case sensitive", "error", "[ERROR 401]", false},
		{"every term must occur", "ERROR 401", "[ERROR 401] x", true},
		{"a missing term fails", "ERROR 402", "[ERROR 401] x", false},
		{"a quoted phrase", `"code_enqueued"`, createLine, true},
		{"a quoted phrase with a space", `"ERROR 401"`, "[ERROR 401]", true},
		{"a quoted phrase is one term", `"401 ERROR"`, "[ERROR 401]", false},
		{"an escaped quote", `"say \"hi\""`, `they say "hi" here`, true},

		{"json equality", `{ $.request_id = "AbC-d_12" }`, sentLine, true},
		{"json equality without spaces", `{$.request_id="AbC-d_12"}`, sentLine, true},
		{"json equality, another value", `{ $.request_id = "AbC-d_13" }`, sentLine, false},
		{"json values are case sensitive", `{ $.tenant = "ACME" }`, sentLine, false},
		{"json bare value", `{ $.tenant = acme }`, sentLine, true},
		{"json inequality", `{ $.tenant != "globex" }`, sentLine, true},
		{"json inequality, same value", `{ $.tenant != "acme" }`, sentLine, false},
		{"json missing field: = is false", `{ $.to_hash = "x" }`, sentLine, false},
		{"json missing field: != is false too", `{ $.to_hash != "x" }`, sentLine, false},
		{"json wildcard suffix", `{ $.ses_message_id = "0100*" }`, sentLine, true},
		{"json wildcard across a slash", `{ $.ses_message_id = "0100*y" }`, sentLine, true},
		{"json wildcard prefix", `{ $.tenant = "*me" }`, sentLine, true},
		{"json wildcard does not match", `{ $.tenant = "glo*" }`, sentLine, false},
		{"json string value against a number field", `{ $.attempts = "1" }`, sentLine, false},
		{"json number equality", `{ $.attempts = 1 }`, sentLine, true},
		{"json number inequality", `{ $.attempts != 2 }`, sentLine, true},
		{"json number greater", `{ $.latency_ms > 80 }`, sentLine, true},
		{"json number less or equal", `{ $.latency_ms <= 80 }`, sentLine, false},
		{"json nested member and index", `{ $.nested.a[1] = "two" }`, sentLine, true},
		{"json index past the end", `{ $.nested.a[9] = "two" }`, sentLine, false},
		{"json IS NULL", `{ $.none IS NULL }`, sentLine, true},
		{"json IS NULL of a string", `{ $.tenant IS NULL }`, sentLine, false},
		{"json IS TRUE", `{ $.nested.a[3] IS TRUE }`, sentLine, true},
		{"json IS FALSE of true", `{ $.nested.a[3] IS FALSE }`, sentLine, false},
		{"json NOT EXISTS", `{ $.to_hash NOT EXISTS }`, sentLine, true},
		{"json NOT EXISTS of a field", `{ $.tenant NOT EXISTS }`, sentLine, false},
		{"json or: the second holds", `{ ($.request_id = "zzz") || ($.request_id = "AbC-d_12") }`, sentLine, true},
		{"json or: neither holds", `{ ($.request_id = "zzz") || ($.request_id = "yyy") }`, sentLine, false},
		{"json and", `{ ($.tenant = "acme") && ($.outcome = "sent") }`, sentLine, true},
		{"json and: one fails", `{ ($.tenant = "acme") && ($.outcome = "dlq_rejected") }`, sentLine, false},
		{"json && binds tighter than ||", `{ $.tenant = "x" && $.outcome = "x" || $.attempts = 1 }`, sentLine, true},
		{"json nested parentheses", `{ (($.to_hash = "258e7ac622d8e3f5") || ($.to_hash = "ffff")) && $.trigger = "create" }`, createLine, true},
		{"json pattern on a plain message", `{ $.tenant = "acme" }`, "tenant acme", false},
		{"json pattern on a JSON array", `{ $.tenant = "acme" }`, `[{"tenant":"acme"}]`, false},
		{"json pattern on a line with a trailing newline", `{ $.tenant = "acme" }`, sentLine + "\n", true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			p, err := ParsePattern(tc.pattern)
			if err != nil {
				t.Fatalf("ParsePattern(%q): %v", tc.pattern, err)
			}
			if got := p.Match(tc.message); got != tc.want {
				t.Errorf("%q on %s: %v, want %v", tc.pattern, tc.message, got, tc.want)
			}
		})
	}
}

// TestPatternRefusals: what otp-local cannot read, or AWS would refuse, is
// an error, never a pattern that quietly matches something else.
func TestPatternRefusals(t *testing.T) {
	tests := []struct{ name, pattern, says string }{
		{"unclosed brace", `{ $.a = "b"`, "If a filter pattern starts with '{' it must end with '}'"},
		{"no selector", `{ a = "b" }`, "expected a selector"},
		{"no operator", `{ $.a "b" }`, "expected an operator"},
		{"no value", `{ $.a = }`, "expected a value"},
		{"unterminated string", `{ $.a = "b }`, "unterminated"},
		{"trailing junk", `{ $.a = "b" $.c }`, "unexpected"},
		{"unbalanced parenthesis", `{ ($.a = "b" }`, "missing ')'"},
		{"ordering a string", `{ $.a > "b" }`, "compares numbers"},
		{"a name index", `{ $.a['b'] = 1 }`, "numeric array indexes"},
		{"space-delimited", `[ip, user]`, "space-delimited"},
		{"regex", `%ERR.R%`, "regular expressions"},
		{"or terms", `?ERROR ?WARN`, "OR and exclusion"},
		{"exclusion", `ERROR -DEBUG`, "OR and exclusion"},
		{"unquoted punctuation", `rosa@example.com`, "Invalid character(s) in term 'rosa@example.com'"},
		{"unterminated phrase", `"ERROR 401`, "unterminated"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := ParsePattern(tc.pattern)
			var pe *patternError
			if !errors.As(err, &pe) || !strings.Contains(err.Error(), tc.says) {
				t.Errorf("ParsePattern(%q) = %v, want a pattern error saying %q", tc.pattern, err, tc.says)
			}
		})
	}
}
