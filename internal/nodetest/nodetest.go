// Package nodetest runs the Node-side tests in deploy/local/e2e from Go
// tests, so that the AWS JS SDK, Amplify and headless Chromium talk to
// servers the Go test started on 127.0.0.1 and stops again.
//
// A machine without Node or without `npm ci` in deploy/local/e2e skips these
// tests, unless OTP_E2E=require is set, which `make test` and CI do: there a
// missing dependency is a failure, never a silent skip.
package nodetest

import (
	"bytes"
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"sort"
	"testing"
	"time"
)

// Dir is the absolute path of deploy/local/e2e.
func Dir() string {
	_, file, _, _ := runtime.Caller(0)
	return filepath.Join(filepath.Dir(file), "..", "..", "deploy", "local", "e2e")
}

// Require skips or fails t when Node or the e2e packages are missing.
func Require(t testing.TB) {
	t.Helper()
	missing := ""
	if _, err := exec.LookPath("node"); err != nil {
		missing = "node is not on PATH"
	} else if _, err := os.Stat(filepath.Join(Dir(), "node_modules")); err != nil {
		missing = "deploy/local/e2e/node_modules is missing (run: make e2e-deps)"
	}
	if missing == "" {
		return
	}
	if os.Getenv("OTP_E2E") == "require" {
		t.Fatalf("OTP_E2E=require but %s", missing)
	}
	t.Skipf("%s; set OTP_E2E=require to make this a failure", missing)
}

// Run executes `node script` in deploy/local/e2e with env added to the
// environment and fails t, showing the script's output, if it exits
// non-zero. It returns the script's stdout.
func Run(t testing.TB, script string, env map[string]string, timeout time.Duration) string {
	t.Helper()
	Require(t)
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, "node", script)
	cmd.Dir = Dir()
	cmd.Env = os.Environ()
	keys := make([]string, 0, len(env))
	for k := range env {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		cmd.Env = append(cmd.Env, k+"="+env[k])
	}
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		t.Fatalf("node %s: %v\n--- stdout\n%s\n--- stderr\n%s", script, err, stdout.String(), stderr.String())
	}
	return stdout.String()
}
