package main

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// brokenSet is the templates package's deliberately broken set.
const brokenSet = "../../templates/testdata/broken"

func TestExitCodes(t *testing.T) {
	out := t.TempDir()
	for _, tc := range []struct {
		name       string
		args       []string
		want       int
		stdoutHas  []string
		stderrHas  []string
		stderrIs   *string
		createsDir string
	}{
		{name: "check embedded sets passes", args: []string{"templates", "check"}, want: exitOK, stdoutHas: []string{"ok: 3 sets, no problems"}},
		{
			name: "check a broken set reports both problems", args: []string{"templates", "check", brokenSet}, want: exitProblems,
			stdoutHas: []string{
				`problem: set "broken": locales/de.yaml: missing key "intro"`,
				`problem: set "broken": locales/en.yaml:2: key "greeting": unknown placeholder "{nmae}"`,
				"2 problems",
			},
		},
		{name: "check a directory that does not exist", args: []string{"templates", "check", "no/such/dir"}, want: exitProblems, stdoutHas: []string{"dir no/such/dir: open:"}},
		{name: "check takes one directory", args: []string{"templates", "check", "a", "b"}, want: exitUsage, stderrHas: []string{"at most one DIR"}},
		{name: "no command", args: nil, want: exitUsage, stderrHas: []string{"no command given", "usage: otpctl"}},
		{name: "unknown command", args: []string{"queue", "purge"}, want: exitUsage, stderrHas: []string{`unknown command "queue purge"`}},
		{name: "half a command", args: []string{"templates"}, want: exitUsage, stderrHas: []string{`"templates" needs one more word: otpctl templates check, otpctl templates compile`}},
		{name: "queue alone", args: []string{"queue"}, want: exitUsage, stderrHas: []string{`"queue" needs one more word: otpctl queue status`, "depth of both queues"}},
		{name: "dlq alone", args: []string{"--endpoint", "http://127.0.0.1:1", "dlq"}, want: exitUsage, stderrHas: []string{"otpctl dlq list, otpctl dlq redrive"}},
		{
			name: "unknown reason", args: []string{"dlq", "list", "--reason", "sender_unverified"}, want: exitUsage,
			stderrHas: []string{`unknown --reason "sender_unverified"; the reasons are malformed, unknown_version,`, "sender_not_verified", "max_receives"},
		},
		{name: "unknown reason to redrive", args: []string{"dlq", "redrive", "--reason", "nope", "--yes"}, want: exitUsage, stderrHas: []string{`unknown --reason "nope"`}},
		{name: "global flags on a local command", args: []string{"--endpoint", "http://127.0.0.1:1", "templates", "check", "--region", "eu-west-1"}, want: exitOK},
		{name: "unknown flag", args: []string{"templates", "check", "--colour"}, want: exitUsage, stderrHas: []string{"flag provided but not defined: -colour"}},
		{name: "help is not an error", args: []string{"templates", "check", "-h"}, want: exitOK, stderrHas: []string{"usage: otpctl templates check [DIR]"}},
		{name: "preview needs --out", args: []string{"templates", "preview"}, want: exitUsage, stderrHas: []string{"needs --out DIR"}},
		{
			name: "preview writes a gallery", args: []string{"templates", "preview", "--out", out}, want: exitOK,
			stdoutHas: []string{"wrote 17 previews"}, stderrHas: []string{"[ 1/17] acme/de", "[17/17] globex/ja"}, createsDir: out,
		},
		{
			name: "preview filters by set and locale", args: []string{"templates", "preview", "--out", t.TempDir(), "--set", "default", "--set", "globex", "--locale", "ar,ja", "--ttl", "5m"},
			want: exitOK, stdoutHas: []string{"wrote 4 previews"}, stderrHas: []string{"[1/4] default/ar", "[2/4] default/ja", "[3/4] globex/ar", "[4/4] globex/ja"},
		},
		{
			name: "preview --quiet", args: []string{"templates", "preview", "--out", t.TempDir(), "--set", "acme", "--locale", "de", "--quiet"},
			want: exitOK, stdoutHas: []string{"wrote 1 preview;"}, stderrIs: ptr(""),
		},
		{
			name: "preview of an unknown set", args: []string{"templates", "preview", "--out", t.TempDir(), "--set", "initech"},
			want: exitUsage, stderrHas: []string{"set initech: no such set; there are acme, default, globex"},
		},
		{
			name: "preview of a locale no set has", args: []string{"templates", "preview", "--out", t.TempDir(), "--locale", "sv"},
			want: exitUsage, stderrHas: []string{"locale sv: no such locale"},
		},
		{
			name: "preview with a lifetime of zero", args: []string{"templates", "preview", "--out", t.TempDir(), "--ttl", "0s"},
			want: exitUsage, stderrHas: []string{"--ttl 0s: want a positive duration"},
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var stdout, stderr bytes.Buffer
			if got := run(context.Background(), tc.args, &stdout, &stderr); got != tc.want {
				t.Errorf("exit %d, want %d\nstdout:\n%s\nstderr:\n%s", got, tc.want, stdout.String(), stderr.String())
			}
			for _, s := range tc.stdoutHas {
				if !strings.Contains(stdout.String(), s) {
					t.Errorf("stdout lacks %q:\n%s", s, stdout.String())
				}
			}
			for _, s := range tc.stderrHas {
				if !strings.Contains(stderr.String(), s) {
					t.Errorf("stderr lacks %q:\n%s", s, stderr.String())
				}
			}
			if tc.stderrIs != nil && stderr.String() != *tc.stderrIs {
				t.Errorf("stderr is %q, want %q", stderr.String(), *tc.stderrIs)
			}
			if tc.createsDir != "" {
				for _, f := range []string{"index.html", "default/ar.html", "default/ar.txt", "acme/en.html", "globex/ar.txt"} {
					if _, err := os.Stat(filepath.Join(tc.createsDir, f)); err != nil {
						t.Error(err)
					}
				}
			}
		})
	}
}

func TestCheckJSON(t *testing.T) {
	for _, args := range [][]string{
		{"--json", "templates", "check", brokenSet},
		{"templates", "check", "--json", brokenSet},
	} {
		t.Run(strings.Join(args, " "), func(t *testing.T) {
			var stdout, stderr bytes.Buffer
			if got := run(context.Background(), args, &stdout, &stderr); got != exitProblems {
				t.Fatalf("exit %d, want %d; stderr: %s", got, exitProblems, stderr.String())
			}
			var r struct {
				OK       bool `json:"ok"`
				Problems []struct {
					Set, File, Key, Message string
					Line                    int
				} `json:"problems"`
				Sets []struct {
					Name   string `json:"name"`
					Loaded bool   `json:"loaded"`
				} `json:"sets"`
			}
			if err := json.Unmarshal(stdout.Bytes(), &r); err != nil {
				t.Fatalf("stdout is not JSON: %v\n%s", err, stdout.String())
			}
			if r.OK || len(r.Problems) != 2 {
				t.Fatalf("ok %v with %d problems, want false with 2", r.OK, len(r.Problems))
			}
			if p := r.Problems[0]; p.Set != "broken" || p.File != "locales/de.yaml" || p.Key != "intro" {
				t.Errorf("first problem %+v", p)
			}
			if p := r.Problems[1]; p.File != "locales/en.yaml" || p.Key != "greeting" || p.Line != 2 {
				t.Errorf("second problem %+v", p)
			}
			if len(r.Sets) != 4 {
				t.Errorf("%d sets listed, want 4 (the broken one included)", len(r.Sets))
			}
		})
	}
}

func TestLookup(t *testing.T) {
	for _, tc := range []struct {
		name string
		args []string
		want string
		rest []string
	}{
		{"two words", []string{"templates", "check", "dir"}, "templates check", []string{"dir"}},
		{"flags after the command stay", []string{"templates", "preview", "--out", "x"}, "templates preview", []string{"--out", "x"}},
		{"no match", []string{"check", "templates"}, "", []string{"check", "templates"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cmd, rest := lookup(tc.args)
			got := ""
			if cmd != nil {
				got = cmd.name
			}
			if got != tc.want || strings.Join(rest, " ") != strings.Join(tc.rest, " ") {
				t.Errorf("lookup(%q) = %q, %q; want %q, %q", tc.args, got, rest, tc.want, tc.rest)
			}
		})
	}
}

func TestRedrivePrompt(t *testing.T) {
	for _, tc := range []struct {
		n, unsendable int
		reason, want  string
	}{
		{1, 0, "", "Move 1 dead letter back to q?"},
		{1, 1, "", "Move 1 dead letter back to q? It holds no code that can still be sent (removed or expired): the mailer will count it and drop it."},
		{3, 3, "max_receives", "Move 3 dead letters with reason max_receives back to q? None of them holds a code that can still be sent (removed or expired): the mailer will count them and drop them."},
		{3, 1, "", "Move all 3 dead letters back to q? 1 of them holds no code that can still be sent (removed or expired): the mailer will count and drop those."},
		{3, 2, "", "Move all 3 dead letters back to q? 2 of them hold no code that can still be sent (removed or expired): the mailer will count and drop those."},
	} {
		if got := redrivePrompt(tc.n, tc.unsendable, tc.reason, "q"); got != tc.want {
			t.Errorf("redrivePrompt(%d, %d, %q)\n got %s\nwant %s", tc.n, tc.unsendable, tc.reason, got, tc.want)
		}
	}
}

func ptr[T any](v T) *T { return &v }
