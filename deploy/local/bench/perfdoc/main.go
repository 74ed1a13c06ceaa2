// Command perfdoc writes docs/PERFORMANCE.md from the figures `make bench`
// measured: the raw `go test -bench` output, benchstat's summary of it,
// `otp-local bench`'s JSON and the Lambda binaries' sizes. Every number in
// the document comes from those files, so the document cannot claim what
// the last run did not measure.
//
//	perfdoc -raw docs/bench/raw.txt -benchstat docs/bench/benchstat.txt \
//	  -e2e docs/bench/e2e.json -lambdas bin/lambda > docs/PERFORMANCE.md
package main

import (
	"bytes"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"text/template"
	"time"

	"golang.org/x/perf/benchfmt"

	"github.com/cognito-email-otp/cognito-email-otp/deploy/local/bench"
)

func main() {
	if err := run(os.Args[1:], os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "perfdoc:", err)
		os.Exit(1)
	}
}

func run(args []string, out io.Writer) error {
	fs := flag.NewFlagSet("perfdoc", flag.ContinueOnError)
	rawPath := fs.String("raw", "docs/bench/raw.txt", "go test -bench output")
	statPath := fs.String("benchstat", "docs/bench/benchstat.txt", "benchstat's summary of -raw")
	e2ePath := fs.String("e2e", "docs/bench/e2e.json", "otp-local bench -json output, closed loop")
	thinkPath := fs.String("e2e-think", "", "otp-local bench -json output with a think time (optional)")
	lambdaDir := fs.String("lambdas", "bin/lambda", "directory of <function>/bootstrap built for linux/arm64")
	if err := fs.Parse(args); err != nil {
		return err
	}
	raw, err := os.ReadFile(*rawPath)
	if err != nil {
		return err
	}
	figs, cpu, err := readFigures(raw, *rawPath)
	if err != nil {
		return err
	}
	stat, err := os.ReadFile(*statPath)
	if err != nil {
		return err
	}
	e2e, err := readResults(*e2ePath)
	if err != nil {
		return err
	}
	var think []bench.Result
	if *thinkPath != "" {
		if think, err = readResults(*thinkPath); err != nil {
			return err
		}
	}
	sizes := map[string]float64{}
	for _, fn := range []string{"define", "create", "verify", "mailer"} {
		st, err := os.Stat(filepath.Join(*lambdaDir, fn, "bootstrap"))
		if err != nil {
			return fmt.Errorf("lambda size: %w (run make package first)", err)
		}
		sizes[fn] = float64(st.Size()) / 1e6
	}
	d := doc{Date: time.Now().UTC().Format("2006-01-02"), CPU: cpu, Cores: runtime.NumCPU(), Go: runtime.Version(),
		Benchstat: strings.TrimSpace(string(stat)), figs: figs, sizes: sizes, e2e: e2e, think: think}
	if d.E2ETable, err = table(e2e); err != nil {
		return err
	}
	if d.ThinkTable, err = table(think); err != nil {
		return err
	}
	d.Targets = d.targets()
	return page.Execute(out, d)
}

func readResults(path string) ([]bench.Result, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	var rs []bench.Result
	if err := json.Unmarshal(b, &rs); err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return rs, nil
}

func table(rs []bench.Result) (string, error) {
	if len(rs) == 0 {
		return "", nil
	}
	var b bytes.Buffer
	if err := bench.WriteTable(&b, rs); err != nil {
		return "", err
	}
	return strings.TrimSpace(b.String()), nil
}

// figures are the median of every (benchmark, unit) over the -count runs.
type figures map[string]map[string]float64

func (f figures) get(name, unit string) (float64, bool) {
	v, ok := f[name][unit]
	return v, ok
}

func readFigures(raw []byte, name string) (figures, string, error) {
	all := map[string]map[string][]float64{}
	cpu := ""
	r := benchfmt.NewReader(bytes.NewReader(raw), name)
	for r.Scan() {
		res, ok := r.Result().(*benchfmt.Result)
		if !ok {
			continue
		}
		if c := res.GetConfig("cpu"); c != "" {
			cpu = c
		}
		prefix, _ := splitProcs(res.Name.Full())
		key := "Benchmark" + string(prefix) // benchfmt drops the prefix; the page names benchmarks as go test does
		if all[key] == nil {
			all[key] = map[string][]float64{}
		}
		for _, v := range res.Values {
			all[key][v.Unit] = append(all[key][v.Unit], v.Value)
		}
	}
	if err := r.Err(); err != nil {
		return nil, "", err
	}
	out := figures{}
	for k, units := range all {
		out[k] = map[string]float64{}
		for u, vs := range units {
			slices.Sort(vs)
			out[k][u] = vs[len(vs)/2]
		}
	}
	return out, cpu, nil
}

// splitProcs drops the "-2" GOMAXPROCS suffix of a benchmark name.
func splitProcs(full []byte) ([]byte, []byte) {
	i := bytes.LastIndexByte(full, '-')
	if i < 0 || i == len(full)-1 {
		return full, nil
	}
	for _, c := range full[i+1:] {
		if c < '0' || c > '9' {
			return full, nil
		}
	}
	return full[:i], full[i+1:]
}

type doc struct {
	Date, CPU, Go string
	Cores         int
	Targets       []target
	Benchstat     string
	E2ETable      string
	ThinkTable    string
	figs          figures
	sizes         map[string]float64
	e2e, think    []bench.Result
}

type target struct {
	Stage, Goal, Measured, Status string
}

func status(ok, known bool) string {
	switch {
	case !known:
		return "not measured"
	case ok:
		return "met"
	default:
		return "**missed**"
	}
}

func (d doc) targets() []target {
	var ts []target
	enqP99, ok1 := d.figs.get("BenchmarkCreateTrigger/enqueue", "p99-ms")
	enqP50, _ := d.figs.get("BenchmarkCreateTrigger/enqueue", "p50-ms")
	inlineP50, ok2 := d.figs.get("BenchmarkCreateTrigger/send-inline", "p50-ms")
	inlineP99, _ := d.figs.get("BenchmarkCreateTrigger/send-inline", "p99-ms")
	ts = append(ts, target{"Create trigger, enqueue on SQS", "p99 ≤ 10 ms",
		fmt.Sprintf("p50 %.2f ms, p99 %.2f ms", enqP50, enqP99), status(enqP99 <= 10, ok1)})
	if ok1 && ok2 && enqP50 > 0 {
		ts = append(ts, target{"… against sending with SES inside the trigger (80 ms SES)", "ratio reported",
			fmt.Sprintf("p50 %.1f ms, p99 %.1f ms: %.0f× slower at p50", inlineP50, inlineP99, inlineP50/enqP50), "reported"})
	}
	worst, okR := 0.0, false
	for _, n := range []string{"default-en", "acme-de", "globex-ar", "hostile-name"} {
		if v, ok := d.figs.get("BenchmarkCompiledRender/"+n, "emails/s"); ok && (!okR || v < worst) {
			worst, okR = v, true
		}
	}
	best, _ := d.figs.get("BenchmarkCompiledRender/default-en", "emails/s")
	uncached, _ := d.figs.get("BenchmarkRenderUncached/default-en", "emails/s")
	ts = append(ts, target{"Rendering from the compiled bundle (the mailer's path), one core", "≥ 20,000 emails/s",
		fmt.Sprintf("%s emails/s (default-en); slowest message %s; uncached hermes %s", thousands(best), thousands(worst), thousands(uncached)),
		status(worst >= 20000, okR)})
	rate, okP := d.figs.get("BenchmarkPipeline", "emails/s")
	lost, _ := d.figs.get("BenchmarkPipeline", "lost")
	rss, _ := d.figs.get("BenchmarkPipeline", "mailer-peak-RSS-B") // benchfmt turns the MB the benchmark reports into B
	rss /= 1e6
	ts = append(ts, target{"Pipeline SQS → mailer binary → SES, 10,000 messages", "≥ 2,000 emails/s, 0 lost, mailer peak RSS ≤ 64 MB",
		fmt.Sprintf("%s emails/s, %.0f lost, %.1f MB", thousands(rate), lost, rss), status(rate >= 2000 && lost == 0 && rss <= 64, okP)})
	for _, run := range []struct {
		label string
		rs    []bench.Result
	}{{"End to end, 50 concurrent sign-ins, closed loop (the machine saturated)", d.e2e}, {"End to end, 50 people signing in, each taking %s to type the code", d.think}} {
		for _, r := range run.rs {
			if r.Concurrency != 50 {
				continue
			}
			label := run.label
			if strings.Contains(label, "%s") {
				label = fmt.Sprintf(label, r.Think)
			}
			p := r.PasswordToEmail
			ts = append(ts, target{label, "password → email p50 ≤ 50 ms, p99 ≤ 250 ms",
				fmt.Sprintf("p50 %s, p99 %s; %.0f sign-ins/s; lost %d", msStr(p.P50), msStr(p.P99), r.Throughput(), r.Lost),
				status(p.P50 <= 50*time.Millisecond && p.P99 <= 250*time.Millisecond && r.Lost == 0, true)})
		}
	}
	var sizes []string
	maxSize := 0.0
	for _, fn := range []string{"define", "create", "verify", "mailer"} {
		sizes = append(sizes, fmt.Sprintf("%s %.1f MB", fn, d.sizes[fn]))
		maxSize = max(maxSize, d.sizes[fn])
	}
	ts = append(ts, target{"Lambda binaries (linux/arm64, stripped)", "≤ 12 MB each", strings.Join(sizes, ", "), status(maxSize <= 12, true)})
	var ready []string
	maxReady, okC := 0.0, false
	for _, fn := range []string{"define", "create", "verify", "mailer"} {
		if v, ok := d.figs.get("BenchmarkColdStart/"+fn, "ready-p50-ms"); ok {
			ready = append(ready, fmt.Sprintf("%s %.1f ms", fn, v))
			maxReady, okC = max(maxReady, v), true
		}
	}
	ts = append(ts, target{"Cold start: exec to ready for the first event", "≤ 20 ms", strings.Join(ready, ", "), status(maxReady <= 20, okC)})
	return ts
}

func msStr(d time.Duration) string {
	return fmt.Sprintf("%.1f ms", float64(d)/float64(time.Millisecond))
}

func thousands(v float64) string {
	s := fmt.Sprintf("%.0f", v)
	var b strings.Builder
	for i, c := range s {
		if i > 0 && (len(s)-i)%3 == 0 {
			b.WriteByte(',')
		}
		b.WriteRune(c)
	}
	return b.String()
}

var page = template.Must(template.New("perf").Parse(pageText))
