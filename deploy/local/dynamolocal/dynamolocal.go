// Package dynamolocal gives otp-local a DynamoDB: dynalite, an existing
// implementation of the DynamoDB API (npm, github.com/architect/dynalite),
// run as a child process on a free loopback port and reached through
// otp-local's own port by a reverse proxy. otp-local does not implement
// DynamoDB itself; it only starts, routes to and stops dynalite.
//
// dynalite validates requests as DynamoDB does (names, expression syntax,
// conditional writes, ConditionalCheckFailedException) but does not
// implement TTL: expired items are never deleted, which is DynamoDB's
// documented worst case (deletion "typically within a few days"), so code
// that ignores expired state itself behaves the same on both.
package dynamolocal

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httputil"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"time"
)

// TargetPrefix is the X-Amz-Target prefix of the DynamoDB API, by which
// otp-local's dispatcher routes requests here.
const TargetPrefix = "DynamoDB_20120810."

// nodeDir is where dynalite is installed, relative to the module root.
const nodeDir = "deploy/local/dynamolocal/node"

// DirEnv names the directory holding serve.js and node_modules/dynalite,
// for an otp-local binary run away from its source tree.
const DirEnv = "OTP_LOCAL_DYNALITE_DIR"

// Options configure Start.
type Options struct {
	// Dir holds serve.js and node_modules/dynalite; empty: Locate().
	Dir string
	// DataDir keeps the tables on disk (LevelDB); empty keeps them in memory.
	DataDir string
	// Stderr receives dynalite's own error output. Default: discard.
	Stderr io.Writer
}

// Server is a running dynalite.
type Server struct {
	// Endpoint is dynalite's own address, http://127.0.0.1:<port>.
	Endpoint string
	cmd      *exec.Cmd
	stdin    io.Closer
	proxy    *httputil.ReverseProxy
	done     chan struct{}
	waitErr  error
	once     sync.Once
}

// Locate finds dynalite's directory: $OTP_LOCAL_DYNALITE_DIR, or
// deploy/local/dynamolocal/node in the source tree above the working
// directory or the executable (bin/otp-local in a checkout).
func Locate() (string, error) {
	if d := os.Getenv(DirEnv); d != "" {
		if installed(d) {
			return d, nil
		}
		return "", fmt.Errorf("dynamolocal: %s=%s holds no node_modules/dynalite: run npm ci there", DirEnv, d)
	}
	var starts []string
	if wd, err := os.Getwd(); err == nil {
		starts = append(starts, wd)
	}
	if exe, err := os.Executable(); err == nil {
		starts = append(starts, filepath.Dir(exe))
	}
	for _, start := range starts {
		for dir := start; ; dir = filepath.Dir(dir) {
			if d := filepath.Join(dir, nodeDir); installed(d) {
				return d, nil
			}
			if filepath.Dir(dir) == dir {
				break
			}
		}
	}
	return "", errors.New("dynamolocal: dynalite is not installed: run `make dynamodb-deps` (npm ci in " + nodeDir + "), or set " + DirEnv)
}

func installed(dir string) bool {
	_, err1 := os.Stat(filepath.Join(dir, "serve.js"))
	_, err2 := os.Stat(filepath.Join(dir, "node_modules", "dynalite", "package.json"))
	return err1 == nil && err2 == nil
}

// startTimeout bounds dynalite's start-up; it takes about 150 ms.
const startTimeout = 15 * time.Second

// Start runs dynalite and returns once it listens.
func Start(ctx context.Context, o Options) (*Server, error) {
	dir := o.Dir
	if dir == "" {
		var err error
		if dir, err = Locate(); err != nil {
			return nil, err
		}
	}
	node, err := exec.LookPath("node")
	if err != nil {
		return nil, errors.New("dynamolocal: node is not on PATH: otp-local's DynamoDB (dynalite) needs Node.js 20 or later")
	}
	// Not CommandContext: the process must live as long as the Server,
	// not as long as the context that started it.
	cmd := exec.Command(node, "serve.js")
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "DYNALITE_PATH=")
	if o.DataDir != "" {
		// Absolute: dynalite runs in its package directory, where a
		// relative --data-dir would put the tables beside node_modules.
		path, err := filepath.Abs(o.DataDir)
		if err != nil {
			return nil, fmt.Errorf("dynamolocal: %w", err)
		}
		if err := os.MkdirAll(path, 0o700); err != nil {
			return nil, fmt.Errorf("dynamolocal: %w", err)
		}
		cmd.Env = append(cmd.Env, "DYNALITE_PATH="+path)
	}
	cmd.Stderr = o.Stderr
	if cmd.Stderr == nil {
		cmd.Stderr = io.Discard
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		return nil, fmt.Errorf("dynamolocal: %w", err)
	}
	stdin, err := cmd.StdinPipe()
	if err != nil {
		return nil, fmt.Errorf("dynamolocal: %w", err)
	}
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("dynamolocal: start node: %w", err)
	}
	s := &Server{cmd: cmd, stdin: stdin, done: make(chan struct{})}
	ready := make(chan string, 1)
	go func() {
		line, _ := bufio.NewReader(stdout).ReadString('\n')
		ready <- line
		_, _ = io.Copy(io.Discard, stdout)
	}()
	go func() { s.waitErr = cmd.Wait(); close(s.done) }()

	timer := time.NewTimer(startTimeout)
	defer timer.Stop()
	select {
	case line := <-ready:
		var hello struct {
			Port int `json:"port"`
		}
		if err := json.Unmarshal([]byte(line), &hello); err != nil || hello.Port == 0 {
			_ = s.Close()
			return nil, fmt.Errorf("dynamolocal: dynalite did not start (it printed %q); see its error output", strings.TrimSpace(line))
		}
		s.Endpoint = fmt.Sprintf("http://127.0.0.1:%d", hello.Port)
	case <-timer.C:
		_ = s.Close()
		return nil, fmt.Errorf("dynamolocal: dynalite did not listen within %s", startTimeout)
	case <-ctx.Done():
		_ = s.Close()
		return nil, ctx.Err()
	}
	target, _ := url.Parse(s.Endpoint)
	s.proxy = httputil.NewSingleHostReverseProxy(target)
	s.proxy.ErrorHandler = func(w http.ResponseWriter, _ *http.Request, err error) {
		// What DynamoDB's clients retry: a 500 with an AWS error shape.
		w.Header().Set("Content-Type", "application/x-amz-json-1.0")
		w.WriteHeader(http.StatusInternalServerError)
		_, _ = fmt.Fprintf(w, `{"__type":"com.amazonaws.dynamodb.v20120810#InternalServerError","message":%q}`, "otp-local: DynamoDB (dynalite) is unreachable: "+err.Error())
	}
	return s, nil
}

// ServeHTTP forwards a DynamoDB request to dynalite unchanged; the SigV4
// signature covers only headers the proxy keeps.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) { s.proxy.ServeHTTP(w, r) }

// Close ends dynalite: closing its stdin makes serve.js exit; a process
// that does not is killed.
func (s *Server) Close() error {
	s.once.Do(func() {
		_ = s.stdin.Close()
		select {
		case <-s.done:
		case <-time.After(3 * time.Second):
			_ = s.cmd.Process.Kill()
			<-s.done
		}
	})
	return nil
}

// Kill stops dynalite at once, as a lost database would be (outage tests).
func (s *Server) Kill() {
	_ = s.cmd.Process.Kill()
	<-s.done
}
