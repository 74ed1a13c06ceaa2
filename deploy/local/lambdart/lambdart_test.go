package lambdart

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// buildEcho compiles a real aws-lambda-go function (with lambda.norpc, as
// the Makefile builds them) that echoes its event or fails on demand.
func buildEcho(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	src := filepath.Join(dir, "main.go")
	code := `package main

import (
	"context"
	"errors"
	"github.com/aws/aws-lambda-go/lambda"
	"github.com/aws/aws-lambda-go/lambdacontext"
	"time"
)

type event struct{ Say string ` + "`json:\"say\"`" + ` }

func main() {
	lambda.Start(func(ctx context.Context, e event) (map[string]string, error) {
		if e.Say == "fail" {
			return nil, errors.New("asked to fail")
		}
		if e.Say == "sleep" {
			time.Sleep(time.Minute)
		}
		lc, _ := lambdacontext.FromContext(ctx)
		return map[string]string{"said": e.Say, "request": lc.AwsRequestID}, nil
	})
}
`
	if err := writeFile(src, code); err != nil {
		t.Fatal(err)
	}
	bin := filepath.Join(dir, "bootstrap")
	cmd := exec.Command("go", "build", "-tags", "lambda.norpc", "-o", bin, src)
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Run(); err != nil {
		t.Fatalf("build: %v\n%s", err, out.String())
	}
	return bin
}

func TestRunsARealFunction(t *testing.T) {
	rt, err := Start(t.Context(), Function{Name: "echo", Path: buildEcho(t), Instances: 2, Timeout: 5 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	defer rt.Close()
	out, err := rt.Invoke(t.Context(), []byte(`{"say":"hello"}`))
	if err != nil {
		t.Fatal(err)
	}
	var got map[string]string
	if err := json.Unmarshal(out, &got); err != nil || got["said"] != "hello" || got["request"] == "" {
		t.Errorf("response %s", out)
	}
	_, err = rt.Invoke(t.Context(), []byte(`{"say":"fail"}`))
	var fe *FunctionError
	if !errors.As(err, &fe) || !strings.Contains(fe.Message, "asked to fail") {
		t.Errorf("function error %v", err)
	}
	for _, in := range rt.Instances() {
		if in.Ready <= 0 || in.Ready > 5*time.Second || in.PeakRSS < 1<<20 {
			t.Errorf("instance %+v: want a start-up time and a resident set", in)
		}
	}
	// Both instances serve: two slow-free invocations in parallel complete.
	ctx, cancel := context.WithTimeout(t.Context(), 5*time.Second)
	defer cancel()
	errs := make(chan error, 4)
	for range 4 {
		go func() { _, err := rt.Invoke(ctx, []byte(`{"say":"x"}`)); errs <- err }()
	}
	for range 4 {
		if err := <-errs; err != nil {
			t.Error(err)
		}
	}
}

func TestStartReportsACrash(t *testing.T) {
	_, err := Start(t.Context(), Function{Name: "false", Path: "/bin/false"})
	if err == nil || !strings.Contains(err.Error(), "exited during start-up") {
		t.Errorf("err %v", err)
	}
}

func writeFile(path, content string) error {
	return os.WriteFile(path, []byte(content), 0o644)
}

// TestAKilledInstanceFailsItsInvocationAndIsReplaced is Lambda's behaviour
// on a crash: the running invocation fails with Runtime.ExitError and a
// new environment serves the next one.
func TestAKilledInstanceFailsItsInvocationAndIsReplaced(t *testing.T) {
	rt, err := Start(t.Context(), Function{Name: "echo", Path: buildEcho(t), Instances: 1, Timeout: 10 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	defer rt.Close()
	before := rt.Instances()[0].PID
	done := make(chan error, 1)
	go func() {
		_, err := rt.Invoke(context.Background(), []byte(`{"say":"sleep"}`))
		done <- err
	}()
	deadline := time.Now().Add(5 * time.Second)
	for !rt.KillBusy() {
		if time.Now().After(deadline) {
			t.Fatal("the invocation never became busy")
		}
		time.Sleep(time.Millisecond)
	}
	var fe *FunctionError
	if err := <-done; !errors.As(err, &fe) || fe.Type != "Runtime.ExitError" {
		t.Fatalf("the killed invocation returned %v, want Runtime.ExitError", err)
	}
	out, err := rt.Invoke(t.Context(), []byte(`{"say":"again"}`))
	if err != nil || !strings.Contains(string(out), "again") {
		t.Fatalf("after the kill: %s, %v", out, err)
	}
	if after := rt.Instances()[0].PID; after == before || rt.Restarts() != 1 {
		t.Errorf("pid %d -> %d, restarts %d: want a fresh instance", before, after, rt.Restarts())
	}
}
