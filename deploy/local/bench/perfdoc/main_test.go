package main

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestPageReportsEachTargetFromTheFigures feeds perfdoc a small run and
// checks that each target row carries the median it measured and says
// met or missed accordingly.
func TestPageReportsEachTargetFromTheFigures(t *testing.T) {
	dir := t.TempDir()
	for fn, size := range map[string]int64{"define": 6_400_000, "create": 7_900_000, "verify": 7_400_000, "mailer": 12_500_000} {
		p := filepath.Join(dir, "lambda", fn, "bootstrap")
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		f, err := os.Create(p)
		if err != nil {
			t.Fatal(err)
		}
		if err := f.Truncate(size); err != nil {
			t.Fatal(err)
		}
		f.Close()
	}
	stat := filepath.Join(dir, "benchstat.txt")
	if err := os.WriteFile(stat, []byte("benchstat says hello\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	var out bytes.Buffer
	err := run([]string{"-raw", "testdata/raw.txt", "-benchstat", stat, "-e2e", "testdata/e2e.json", "-e2e-think", "testdata/e2e-think.json", "-lambdas", filepath.Join(dir, "lambda")}, &out)
	if err != nil {
		t.Fatal(err)
	}
	page := out.String()
	for _, want := range []string{
		"Test CPU",
		"| Create trigger, enqueue on SQS | p99 ≤ 10 ms | p50 0.30 ms, p99 1.10 ms | met |", // medians of three runs
		"p50 81.0 ms, p99 82.0 ms: 270× slower at p50",
		"| Rendering from the compiled bundle (the mailer's path), one core | ≥ 20,000 emails/s | 261,933 emails/s (default-en); slowest message 19,000; uncached hermes 520 | **missed** |",
		"2,879 emails/s, 0 lost, 17.8 MB | met |",
		"| End to end, 50 concurrent sign-ins, closed loop (the machine saturated) | password → email p50 ≤ 50 ms, p99 ≤ 250 ms | p50 40.0 ms, p99 200.0 ms; 145 sign-ins/s; lost 0 | met |",
		"| End to end, 50 people signing in, each taking 2s to type the code | password → email p50 ≤ 50 ms, p99 ≤ 250 ms | p50 3.0 ms, p99 300.0 ms; 15 sign-ins/s; lost 0 | **missed** |",
		"| 50         | 2s    | 300      | 15.0       | 3.0 ms",
		"mailer 12.5 MB | **missed** |",
		"define 1.9 ms, mailer 25.0 ms | **missed** |",
		"benchstat says hello",
	} {
		if !strings.Contains(page, want) {
			t.Errorf("page lacks %q", want)
		}
	}
	if t.Failed() {
		t.Log(page)
	}
}
