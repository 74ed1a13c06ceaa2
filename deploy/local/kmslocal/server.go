package kmslocal

import (
	"bytes"
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
)

const (
	// DefaultRegion and DefaultAccountID go into key ARNs when Options leaves
	// them empty; they match otp-local's other emulators.
	DefaultRegion    = "us-east-1"
	DefaultAccountID = "000000000000"

	// TargetPrefix is the X-Amz-Target prefix of every KMS request (the
	// service's Coral name is TrentService). A dispatcher sends requests
	// whose target starts with it to ServeHTTP.
	TargetPrefix = "TrentService."

	contentType = "application/x-amz-json-1.1"
	// The largest member is a 6144-byte ciphertext blob, a third larger in
	// base64; the rest is JSON framing and encryption context.
	maxRequestBytes = 1 << 20
)

// Options configures a Server. The zero value is usable.
type Options struct {
	// Region and AccountID go into key and alias ARNs. Defaults
	// DefaultRegion and DefaultAccountID.
	Region    string
	AccountID string
	// DataDir, when set, keeps every key (with its secret) and alias in
	// <DataDir>/kms.json (mode 0600) and reloads them in New, so ciphertext
	// made before a restart still decrypts after it. Empty keeps them in
	// memory.
	DataDir string
	// Now is the clock (default time.Now).
	Now func() time.Time
	// Logger receives one line per request at debug level. It never
	// receives plaintext, key material or ciphertext. Default: discard.
	Logger *slog.Logger
}

// Server is otp-local's KMS endpoint. Create it with New and serve it with
// ServeHTTP. It is safe for concurrent use.
type Server struct {
	region    string
	accountID string
	now       func() time.Time
	log       *slog.Logger
	path      string

	mu      sync.Mutex
	keys    map[string]*key   // by key id
	aliases map[string]*alias // by alias name ("alias/…")
	outage  bool              // see SetOutage
}

// New returns a Server holding the keys kept in Options.DataDir, if any.
func New(opts Options) (*Server, error) {
	s := &Server{
		region:    opts.Region,
		accountID: opts.AccountID,
		now:       opts.Now,
		log:       opts.Logger,
		path:      dataPath(opts.DataDir),
		keys:      map[string]*key{},
		aliases:   map[string]*alias{},
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
	if err := s.load(); err != nil {
		return nil, err
	}
	return s, nil
}

// SetOutage makes every request fail (true) or succeed again (false) with
// KMS's own 500 KMSInternalException, the answer of a KMS that is having a
// bad day: callers must treat it as transient, and tests use it to prove
// they do.
func (s *Server) SetOutage(down bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.outage = down
}

type handlerFunc func(s *Server, body []byte) (any, error)

var operations = map[string]handlerFunc{
	"CreateKey":       (*Server).opCreateKey,
	"DescribeKey":     (*Server).opDescribeKey,
	"CreateAlias":     (*Server).opCreateAlias,
	"EnableKey":       (*Server).opEnableKey,
	"DisableKey":      (*Server).opDisableKey,
	"GenerateDataKey": (*Server).opGenerateDataKey,
	"Encrypt":         (*Server).opEncrypt,
	"Decrypt":         (*Server).opDecrypt,
}

// ServeHTTP answers one KMS request (AWS JSON 1.1: a POST with X-Amz-Target
// TrentService.<Operation>). It serves any path, so it can sit behind a
// dispatcher.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	requestID := newUUID()
	start := time.Now()
	op, out, err := s.serve(w, r)
	if err != nil {
		var ae *apiError
		if !errors.As(err, &ae) {
			s.log.Error("kmslocal: internal error", "op", op, "request_id", requestID, "error", err)
			ae = errInternal()
		}
		body := map[string]string{"__type": ae.code}
		if !ae.noMessage {
			body["message"] = ae.message
		}
		writeJSON(w, requestID, ae.status, body)
		s.log.Debug("kmslocal request", "op", op, "request_id", requestID, "status", ae.status,
			"error_code", ae.code, "duration_ms", time.Since(start).Milliseconds())
		return
	}
	writeJSON(w, requestID, http.StatusOK, out)
	s.log.Debug("kmslocal request", "op", op, "request_id", requestID, "status", http.StatusOK,
		"duration_ms", time.Since(start).Milliseconds())
}

func (s *Server) serve(w http.ResponseWriter, r *http.Request) (op string, out any, err error) {
	target := r.Header.Get("X-Amz-Target")
	op = strings.TrimPrefix(target, TargetPrefix)
	// A page must never drive this endpoint, whatever it asks: KMS turns
	// ciphertext into codes, and otp-local checks no signature.
	if r.Header.Get("Origin") != "" || r.Header.Get("Sec-Fetch-Mode") != "" {
		return op, nil, errFromBrowser()
	}
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
	s.mu.Lock()
	down := s.outage
	s.mu.Unlock()
	if down {
		return op, nil, errInternal()
	}
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, maxRequestBytes))
	if err != nil {
		return op, nil, errSerialization(fmt.Errorf("body unreadable or larger than %d bytes: %w", maxRequestBytes, err))
	}
	if len(bytes.TrimSpace(body)) == 0 {
		body = []byte("{}")
	}
	out, err = handler(s, body)
	return op, out, err
}

// decode unmarshals a request body. Unknown members are ignored, as newer
// SDKs send members this emulator does not know; a blob member that is not
// base64 fails here, as it does on AWS.
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
		return errIncompleteSignature("want AWS4-HMAC-SHA256 Credential=<key>/<date>/<region>/kms/aws4_request, SignedHeaders=..., Signature=<64 hex>")
	case m[4] != "kms":
		return errIncompleteSignature(fmt.Sprintf("credential scope names service %q, want kms", m[4]))
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
		body = []byte(`{"__type":"KMSInternalException","message":"response encoding failed"}`)
	}
	h := w.Header()
	h.Set("Content-Type", contentType)
	h.Set("X-Amzn-RequestId", requestID)
	w.WriteHeader(status)
	_, _ = w.Write(body)
}

func newUUID() string {
	var b [16]byte
	_, _ = rand.Read(b[:])
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	return formatUUID(b)
}

func formatUUID(b [16]byte) string {
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
