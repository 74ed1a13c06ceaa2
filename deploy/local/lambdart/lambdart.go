// Package lambdart runs real Lambda bootstrap binaries on this machine. It
// serves the Lambda Runtime API (2018-06-01) that a provided.al2023
// function polls, hands it invocations and returns what it answers, so
// benchmarks measure the binary AWS would run, its start-up and its memory,
// rather than an in-process copy of its handler.
//
// Each instance gets its own Runtime API listener, as each Lambda execution
// environment has its own: an instance handles one invocation at a time.
package lambdart

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// Function describes the binary to run.
type Function struct {
	Name      string   // for ARNs and errors
	Path      string   // the bootstrap executable
	Env       []string // its environment (OTP_*, AWS_*), added to a minimal one
	Instances int      // execution environments to start (default 1)
	Timeout   time.Duration
	Stdout    io.Writer // the function's logs (default discard)
}

// Runtime is the running function.
type Runtime struct {
	fn      Function
	queue   chan *invocation
	nextID  atomic.Int64
	closing atomic.Bool

	mu        sync.Mutex
	instances []*instance
	restarts  int
}

type invocation struct {
	id       string
	payload  []byte
	deadline time.Time
	done     chan result
}

type result struct {
	body []byte
	err  error
}

type instance struct {
	rt       *Runtime
	ln       net.Listener
	srv      *http.Server
	cmd      *exec.Cmd
	started  time.Time
	ready    chan struct{}
	readyAt  time.Duration
	readyOne sync.Once
	mu       sync.Mutex
	current  *invocation
	exited   chan struct{} // closed when the process has exited
	exitErr  error
	dead     bool         // under mu: the process has exited; take no more work
	initErr  atomic.Value // string
}

// Start launches the instances and returns once every one of them has
// asked for its first invocation, i.e. finished its cold start.
func Start(ctx context.Context, fn Function) (*Runtime, error) {
	if fn.Instances < 1 {
		fn.Instances = 1
	}
	if fn.Timeout <= 0 {
		fn.Timeout = 15 * time.Second
	}
	if fn.Stdout == nil {
		fn.Stdout = io.Discard
	}
	rt := &Runtime{fn: fn, queue: make(chan *invocation)}
	var started []*instance
	for range fn.Instances {
		in, err := rt.startInstance()
		if err != nil {
			rt.Close()
			return nil, err
		}
		started = append(started, in)
		rt.mu.Lock()
		rt.instances = append(rt.instances, in)
		rt.mu.Unlock()
	}
	for _, in := range started {
		select {
		case <-in.ready:
		case <-in.exited:
			rt.Close()
			msg, _ := in.initErr.Load().(string)
			return nil, fmt.Errorf("lambdart: %s exited during start-up (%v) %s", fn.Name, in.exitErr, msg)
		case <-ctx.Done():
			rt.Close()
			return nil, ctx.Err()
		}
	}
	return rt, nil
}

func (rt *Runtime) startInstance() (*instance, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	in := &instance{rt: rt, ln: ln, ready: make(chan struct{}), exited: make(chan struct{})}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /2018-06-01/runtime/invocation/next", in.next)
	mux.HandleFunc("POST /2018-06-01/runtime/invocation/{id}/response", in.respond)
	mux.HandleFunc("POST /2018-06-01/runtime/invocation/{id}/error", in.fail)
	mux.HandleFunc("POST /2018-06-01/runtime/init/error", in.initError)
	in.srv = &http.Server{Handler: mux}

	cmd := exec.Command(rt.fn.Path)
	cmd.Env = append([]string{
		"PATH=" + os.Getenv("PATH"),
		"AWS_LAMBDA_RUNTIME_API=" + ln.Addr().String(),
		"AWS_LAMBDA_FUNCTION_NAME=" + rt.fn.Name,
		"AWS_LAMBDA_FUNCTION_MEMORY_SIZE=128",
		"_HANDLER=bootstrap",
	}, rt.fn.Env...)
	cmd.Stdout, cmd.Stderr = rt.fn.Stdout, rt.fn.Stdout
	in.started = time.Now()
	// Serving starts after started is set, so that the handlers read it
	// safely; the process cannot connect before the listener exists anyway.
	go func() { _ = in.srv.Serve(ln) }()
	if err := cmd.Start(); err != nil {
		_ = in.srv.Close()
		return nil, fmt.Errorf("lambdart: start %s: %w", rt.fn.Path, err)
	}
	in.cmd = cmd
	go func() {
		in.exitErr = cmd.Wait()
		close(in.exited)
		in.died()
	}()
	return in, nil
}

// died is the process ending, expectedly or not. As on Lambda, the
// invocation it was running fails with Runtime.ExitError (an event source
// mapping then leaves the whole batch for redelivery), and a fresh
// execution environment takes its place for the invocations to come.
func (in *instance) died() {
	in.mu.Lock()
	in.dead = true
	if in.current != nil {
		in.current.done <- result{err: &FunctionError{Type: "Runtime.ExitError",
			Message: fmt.Sprintf("RequestId: %s Error: Runtime exited with error: %v", in.current.id, in.exitErr)}}
		in.current = nil
	}
	in.mu.Unlock()
	_ = in.srv.Close()
	rt := in.rt
	if rt.closing.Load() {
		return
	}
	select {
	case <-in.ready:
	default:
		return // it never started: Start reports that
	}
	fresh, err := rt.startInstance()
	if err != nil {
		return
	}
	rt.mu.Lock()
	defer rt.mu.Unlock()
	if rt.closing.Load() {
		go func() { _ = fresh.cmd.Process.Kill(); <-fresh.exited }()
		return
	}
	for i, old := range rt.instances {
		if old == in {
			rt.instances[i] = fresh
		}
	}
	rt.restarts++
}

// KillBusy kills, with SIGKILL, one instance that is running an invocation,
// as a crash or an out-of-memory kill would; it reports whether there was
// one. The runtime replaces it.
func (rt *Runtime) KillBusy() bool {
	rt.mu.Lock()
	defer rt.mu.Unlock()
	for _, in := range rt.instances {
		in.mu.Lock()
		busy := in.current != nil && !in.dead
		in.mu.Unlock()
		if busy {
			return in.cmd.Process.Kill() == nil
		}
	}
	return false
}

// Restarts is how many instances died and were replaced.
func (rt *Runtime) Restarts() int {
	rt.mu.Lock()
	defer rt.mu.Unlock()
	return rt.restarts
}

// next is the instance asking for work: the first call marks it ready.
func (in *instance) next(w http.ResponseWriter, r *http.Request) {
	in.readyOne.Do(func() {
		in.readyAt = time.Since(in.started)
		close(in.ready)
	})
	select {
	case inv := <-in.rt.queue:
		in.mu.Lock()
		if in.dead { // it died between asking and getting: someone else runs it
			in.mu.Unlock()
			go func() { in.rt.queue <- inv }()
			return
		}
		in.current = inv
		in.mu.Unlock()
		h := w.Header()
		h.Set("Lambda-Runtime-Aws-Request-Id", inv.id)
		h.Set("Lambda-Runtime-Deadline-Ms", strconv.FormatInt(inv.deadline.UnixMilli(), 10))
		h.Set("Lambda-Runtime-Invoked-Function-Arn", "arn:aws:lambda:us-east-1:000000000000:function:"+in.rt.fn.Name)
		h.Set("Lambda-Runtime-Trace-Id", "Root=1-00000000-000000000000000000000000;Sampled=0")
		h.Set("Content-Type", "application/json")
		_, _ = w.Write(inv.payload)
	case <-r.Context().Done():
	}
}

func (in *instance) finish(id string, res result) bool {
	in.mu.Lock()
	defer in.mu.Unlock()
	if in.current == nil || in.current.id != id {
		return false
	}
	in.current.done <- res
	in.current = nil
	return true
}

func (in *instance) respond(w http.ResponseWriter, r *http.Request) {
	body, err := io.ReadAll(r.Body)
	if err != nil || !in.finish(r.PathValue("id"), result{body: body}) {
		http.Error(w, `{"errorMessage":"unknown invocation","errorType":"InvalidRequestID"}`, http.StatusBadRequest)
		return
	}
	w.WriteHeader(http.StatusAccepted)
}

// FunctionError is what a function reported for an invocation.
type FunctionError struct {
	Type, Message string
}

func (e *FunctionError) Error() string { return e.Type + ": " + e.Message }

func (in *instance) fail(w http.ResponseWriter, r *http.Request) {
	var e struct {
		Message string `json:"errorMessage"`
		Type    string `json:"errorType"`
	}
	body, _ := io.ReadAll(r.Body)
	_ = json.Unmarshal(body, &e)
	if !in.finish(r.PathValue("id"), result{err: &FunctionError{Type: e.Type, Message: e.Message}}) {
		http.Error(w, `{"errorMessage":"unknown invocation","errorType":"InvalidRequestID"}`, http.StatusBadRequest)
		return
	}
	w.WriteHeader(http.StatusAccepted)
}

func (in *instance) initError(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	in.initErr.Store(string(body))
	w.WriteHeader(http.StatusAccepted)
}

// Invoke runs one invocation on whichever instance is free, as Lambda
// would, and returns the function's response. It satisfies esm.Function.
func (rt *Runtime) Invoke(ctx context.Context, payload []byte) ([]byte, error) {
	ctx, cancel := context.WithTimeout(ctx, rt.fn.Timeout)
	defer cancel()
	inv := &invocation{
		id:       fmt.Sprintf("%08d-0000-4000-8000-%012d", rt.nextID.Add(1), time.Now().UnixNano()%1e12),
		payload:  payload,
		deadline: time.Now().Add(rt.fn.Timeout),
		done:     make(chan result, 1),
	}
	select {
	case rt.queue <- inv:
	case <-ctx.Done():
		return nil, fmt.Errorf("lambdart: %s: no instance free: %w", rt.fn.Name, ctx.Err())
	}
	select {
	case res := <-inv.done:
		return res.body, res.err
	case <-ctx.Done():
		return nil, fmt.Errorf("lambdart: %s: invocation timed out: %w", rt.fn.Name, ctx.Err())
	}
}

// Instance reports one execution environment's measurements.
type Instance struct {
	PID int
	// Ready is the time from exec to the first /next request: the cold
	// start Lambda bills as Init Duration, on this machine.
	Ready time.Duration
	// PeakRSS is the process's high-water resident set (VmHWM), bytes.
	PeakRSS int64
}

// Instances measures every instance now.
func (rt *Runtime) Instances() []Instance {
	rt.mu.Lock()
	defer rt.mu.Unlock()
	var out []Instance
	for _, in := range rt.instances {
		out = append(out, Instance{PID: in.cmd.Process.Pid, Ready: in.readyAt, PeakRSS: peakRSS(in.cmd.Process.Pid)})
	}
	return out
}

// peakRSS reads VmHWM from /proc (Linux).
func peakRSS(pid int) int64 {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0
	}
	for _, line := range strings.Split(string(b), "\n") {
		if rest, ok := strings.CutPrefix(line, "VmHWM:"); ok {
			f := strings.Fields(rest)
			if len(f) == 2 && f[1] == "kB" {
				kb, _ := strconv.ParseInt(f[0], 10, 64)
				return kb * 1024
			}
		}
	}
	return 0
}

// Close stops the instances.
func (rt *Runtime) Close() error {
	rt.closing.Store(true)
	rt.mu.Lock()
	instances := append([]*instance(nil), rt.instances...)
	rt.mu.Unlock()
	var errs []error
	for _, in := range instances {
		if in.cmd != nil && in.cmd.Process != nil {
			_ = in.cmd.Process.Kill()
			<-in.exited
		}
		errs = append(errs, in.srv.Close())
	}
	return errors.Join(errs...)
}
