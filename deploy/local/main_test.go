package main

import (
	"bytes"
	"net"
	"regexp"
	"strings"
	"testing"
)

// TestHelp: --help is an answer, not an error; it names bench and, for
// every flag, the environment variable that sets it.
func TestHelp(t *testing.T) {
	for _, arg := range []string{"-h", "--help"} {
		var stdout, stderr bytes.Buffer
		if code := run([]string{arg}, &stdout, &stderr); code != 0 || stderr.Len() > 0 {
			t.Fatalf("%s: exit %d, stderr %q", arg, code, stderr.String())
		}
		out := stdout.String()
		if !strings.Contains(out, "otp-local bench [flags]") {
			t.Errorf("%s does not mention bench:\n%s", arg, out)
		}
		flags := regexp.MustCompile(`(?m)^  -(\S+)[^\n]*\n\s+([^\n]*)`).FindAllStringSubmatch(out, -1)
		if len(flags) < 15 {
			t.Fatalf("%d flags in the help:\n%s", len(flags), out)
		}
		for _, f := range flags {
			if !regexp.MustCompile(`\(env OTP_[A-Z_]+\)`).MatchString(f[2]) {
				t.Errorf("flag -%s names no environment variable: %s", f[1], f[2])
			}
		}
	}
}

// TestAddressInUse: a second otp-local on a taken port says so once, with
// the way out, instead of a raw bind error.
func TestAddressInUse(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	var stdout, stderr bytes.Buffer
	code := run([]string{"--addr", ln.Addr().String()}, &stdout, &stderr)
	lines := strings.Split(strings.TrimSpace(stderr.String()), "\n")
	if code != 1 || len(lines) != 1 || strings.Count(lines[0], "otp-local:") != 1 ||
		!strings.Contains(lines[0], ln.Addr().String()+" is in use") || !strings.Contains(lines[0], "OTP_LOCAL_ADDR=127.0.0.1:7071") {
		t.Errorf("exit %d, stderr:\n%s", code, stderr.String())
	}
}

func TestUnexpectedArgument(t *testing.T) {
	var stdout, stderr bytes.Buffer
	if code := run([]string{"serve"}, &stdout, &stderr); code != 2 || !strings.Contains(stderr.String(), `unexpected argument "serve"`) {
		t.Errorf("exit %d, stderr %q", code, stderr.String())
	}
}
