package secretslocal

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"mime"
	"net/http"
	"regexp"
	"strings"
	"sync"
	"time"

	"github.com/aws/aws-lambda-go/lambda"
)

const (
	// DefaultRegion and DefaultAccountID go into ARNs when Options leaves
	// them empty; they match otp-local's other emulators.
	DefaultRegion    = "us-east-1"
	DefaultAccountID = "000000000000"

	// TargetPrefix is the X-Amz-Target prefix of every Secrets Manager
	// request. A dispatcher sends requests whose target starts with it to
	// ServeHTTP.
	TargetPrefix = "secretsmanager."

	contentType = "application/x-amz-json-1.1"
	// A secret value is at most 64 KiB, base64 makes a binary one a third
	// larger; the rest is JSON framing.
	maxRequestBytes = 1 << 20
	// DefaultRotationTimeout bounds each rotation step, as a Lambda
	// function's timeout would.
	DefaultRotationTimeout = 30 * time.Second
)

// Options configures a Server. The zero value is usable.
type Options struct {
	// Region and AccountID go into secret ARNs. Defaults DefaultRegion and
	// DefaultAccountID.
	Region    string
	AccountID string
	// DataDir, when set, keeps every secret and its versions in
	// <DataDir>/secrets.json (mode 0600) and reloads them in New. Empty keeps
	// them in memory.
	DataDir string
	// RotationFunctions are the rotation Lambda functions by ARN, the
	// RotationLambdaARN a RotateSecret request names. Each is invoked with
	// the JSON event Secrets Manager sends, one step at a time. A handler is
	// invoked from more than one goroutine when several secrets rotate at
	// once; wrap a lambda.NewHandler in lambdart.NewInProcess. See also
	// SetRotationFunction.
	RotationFunctions map[string]lambda.Handler
	// RotationTimeout bounds each step's invocation. Default
	// DefaultRotationTimeout.
	RotationTimeout time.Duration
	// Now is the clock (default time.Now); tests move it to reach version
	// retention and deletion windows.
	Now func() time.Time
	// Logger receives one line per request at debug level and one per
	// rotation step. It never receives a secret value. Default: discard.
	Logger *slog.Logger
}

// Server is an in-memory AWS Secrets Manager endpoint. Create it with New,
// serve it with ServeHTTP, and Close it on shutdown to stop rotations in
// flight. It is safe for concurrent use.
type Server struct {
	region    string
	accountID string
	now       func() time.Time
	log       *slog.Logger
	path      string
	timeout   time.Duration

	mu        sync.Mutex
	secrets   map[string]*secret // by name
	functions map[string]lambda.Handler
	rotations map[string]*rotation // by secret ARN: the latest one started
	closed    bool                 // no rotation starts after Close

	ctx    context.Context // cancelled by Close; rotations run under it
	cancel context.CancelFunc
	wg     sync.WaitGroup
}

// New returns a Server holding the secrets kept in Options.DataDir, if any.
func New(opts Options) (*Server, error) {
	ctx, cancel := context.WithCancel(context.Background())
	s := &Server{
		region:    opts.Region,
		accountID: opts.AccountID,
		now:       opts.Now,
		log:       opts.Logger,
		path:      dataPath(opts.DataDir),
		timeout:   opts.RotationTimeout,
		secrets:   map[string]*secret{},
		functions: map[string]lambda.Handler{},
		rotations: map[string]*rotation{},
		ctx:       ctx,
		cancel:    cancel,
	}
	if s.region == "" {
		s.region = DefaultRegion
	}
	if s.accountID == "" {
		s.accountID = DefaultAccountID
	}
	if s.now == nil {
		s.now = time.Now
	}
	if s.log == nil {
		s.log = slog.New(slog.DiscardHandler)
	}
	if s.timeout == 0 {
		s.timeout = DefaultRotationTimeout
	}
	for arn, h := range opts.RotationFunctions {
		s.functions[arn] = h
	}
	if err := s.load(); err != nil {
		cancel()
		return nil, err
	}
	return s, nil
}

// SetRotationFunction registers (or, with a nil handler, removes) the
// rotation function for arn, for a caller that builds the function after
// the server because the function calls it.
func (s *Server) SetRotationFunction(arn string, h lambda.Handler) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if h == nil {
		delete(s.functions, arn)
		return
	}
	s.functions[arn] = h
}

// Close cancels rotations in flight and waits for them. The server keeps
// answering requests.
func (s *Server) Close() {
	s.mu.Lock()
	s.closed = true
	s.mu.Unlock()
	s.cancel()
	s.wg.Wait()
}

type handlerFunc func(s *Server, ctx context.Context, body []byte) (any, error)

var operations = map[string]handlerFunc{
	"CreateSecret":             (*Server).opCreateSecret,
	"GetSecretValue":           (*Server).opGetSecretValue,
	"PutSecretValue":           (*Server).opPutSecretValue,
	"UpdateSecretVersionStage": (*Server).opUpdateSecretVersionStage,
	"DescribeSecret":           (*Server).opDescribeSecret,
	"ListSecretVersionIds":     (*Server).opListSecretVersionIds,
	"RotateSecret":             (*Server).opRotateSecret,
	"DeleteSecret":             (*Server).opDeleteSecret,
	"RestoreSecret":            (*Server).opRestoreSecret,
}

// ServeHTTP answers one Secrets Manager request (AWS JSON 1.1: a POST with
// X-Amz-Target secretsmanager.<Operation>). It serves any path, so it can
// sit behind a dispatcher.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	requestID := newRequestID()
	start := time.Now()
	op, out, err := s.serve(w, r)
	if err != nil {
		var ae *apiError
		if !errors.As(err, &ae) {
			s.log.Error("secretslocal: internal error", "op", op, "request_id", requestID, "error", err)
			ae = errInternal()
		}
		writeJSON(w, requestID, ae.status, struct {
			Type    string `json:"__type"`
			Message string `json:"Message"`
		}{ae.code, ae.message})
		s.log.Debug("secretslocal request", "op", op, "request_id", requestID, "status", ae.status,
			"error_code", ae.code, "duration_ms", time.Since(start).Milliseconds())
		return
	}
	writeJSON(w, requestID, http.StatusOK, out)
	s.log.Debug("secretslocal request", "op", op, "request_id", requestID, "status", http.StatusOK,
		"duration_ms", time.Since(start).Milliseconds())
}

func (s *Server) serve(w http.ResponseWriter, r *http.Request) (op string, out any, err error) {
	target := r.Header.Get("X-Amz-Target")
	op = strings.TrimPrefix(target, TargetPrefix)
	handler, ok := operations[op]
	if r.Method != http.MethodPost || !strings.HasPrefix(target, TargetPrefix) || !ok {
		return op, nil, errUnknownOperation(r.Method + " " + target)
	}
	if mt, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type")); mt != contentType {
		return op, nil, errSerialization(fmt.Errorf("Content-Type must be %s, got %q", contentType, r.Header.Get("Content-Type")))
	}
	if aerr := checkSigV4(r); aerr != nil {
		return op, nil, aerr
	}
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, maxRequestBytes))
	if err != nil {
		return op, nil, errSerialization(fmt.Errorf("body unreadable or larger than %d bytes: %w", maxRequestBytes, err))
	}
	if len(bytes.TrimSpace(body)) == 0 {
		body = []byte("{}")
	}
	out, err = handler(s, r.Context(), body)
	return op, out, err
}

// decode unmarshals a request body. Unknown members are ignored, as newer
// SDKs send members this emulator does not know.
func decode(body []byte, v any) error {
	if err := json.Unmarshal(body, v); err != nil {
		return errSerialization(err)
	}
	return nil
}

var (
	authHeaderRE = regexp.MustCompile(`^AWS4-HMAC-SHA256 Credential=([^/, ]+)/(\d{8})/([a-z0-9-]+)/([a-z0-9-]+)/aws4_request, ?SignedHeaders=([a-z0-9;_.-]+), ?Signature=([0-9a-f]{64})$`)
	amzDateRE    = regexp.MustCompile(`^\d{8}T\d{6}Z$`)
)

// checkSigV4 accepts any signature but insists on the shape the SDKs send,
// so a client without credentials, or one signing for another service,
// fails here as it would against AWS.
func checkSigV4(r *http.Request) *apiError {
	auth := r.Header.Get("Authorization")
	if auth == "" {
		return errMissingAuthenticationToken()
	}
	m := authHeaderRE.FindStringSubmatch(auth)
	switch {
	case m == nil:
		return errIncompleteSignature("want AWS4-HMAC-SHA256 Credential=<key>/<date>/<region>/secretsmanager/aws4_request, SignedHeaders=..., Signature=<64 hex>")
	case m[4] != "secretsmanager":
		return errIncompleteSignature(fmt.Sprintf("credential scope names service %q, want secretsmanager", m[4]))
	case !amzDateRE.MatchString(r.Header.Get("X-Amz-Date")):
		return errIncompleteSignature("X-Amz-Date header missing or not in 20060102T150405Z form")
	}
	return nil
}

func writeJSON(w http.ResponseWriter, requestID string, status int, v any) {
	body, err := json.Marshal(v)
	if err != nil {
		// Only this package's response types reach here; they marshal.
		status = http.StatusInternalServerError
		body = []byte(`{"__type":"InternalServiceError","Message":"response encoding failed"}`)
	}
	h := w.Header()
	h.Set("Content-Type", contentType)
	h.Set("X-Amzn-RequestId", requestID)
	w.WriteHeader(status)
	_, _ = w.Write(body)
}

func newRequestID() string { return newUUID() }

func newUUID() string {
	var b [16]byte
	_, _ = rand.Read(b[:])
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	h := hex.EncodeToString(b[:])
	return h[0:8] + "-" + h[8:12] + "-" + h[12:16] + "-" + h[16:20] + "-" + h[20:32]
}

// epoch is a timestamp as the JSON protocols carry it: seconds since the
// epoch, with milliseconds.
type epoch time.Time

func (t epoch) MarshalJSON() ([]byte, error) {
	ms := time.Time(t).UnixMilli()
	return fmt.Appendf(nil, "%d.%03d", ms/1000, ms%1000), nil
}

func epochPtr(t time.Time) *epoch {
	if t.IsZero() {
		return nil
	}
	e := epoch(t)
	return &e
}
