package sqslocal

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
	"sync/atomic"
	"time"
)

const (
	// DefaultRegion and DefaultAccountID are what New uses when Options leaves
	// them empty; the account matches what LocalStack and most emulators use.
	DefaultRegion    = "us-east-1"
	DefaultAccountID = "000000000000"
	// DefaultBaseURL is otp-local's default listen address; queue URLs
	// returned by the Go API (not by HTTP requests) are built on it.
	DefaultBaseURL = "http://127.0.0.1:7070"

	// TargetPrefix is the X-Amz-Target prefix of every SQS JSON request.
	// A dispatcher sends requests whose target starts with it to ServeHTTP.
	TargetPrefix = "AmazonSQS."

	contentType = "application/x-amz-json-1.0"
	// maxRequestBytes bounds a request body: a 1 MiB batch whose binary
	// attributes grow by a third in base64, plus JSON framing.
	maxRequestBytes = 4 << 20
)

// Options configures a Server. The zero value is usable.
type Options struct {
	// Region goes into queue ARNs. Default DefaultRegion.
	Region string
	// AccountID goes into queue URLs and ARNs. Default DefaultAccountID.
	AccountID string
	// Clock drives every timeout; default RealClock(). Tests pass a FakeClock.
	Clock Clock
	// BaseURL ("http://host:port") is the origin of queue URLs returned by the
	// Go API. HTTP responses build queue URLs from the request's Host instead,
	// as SQS does. Default DefaultBaseURL; see also SetBaseURL.
	BaseURL string
	// Logger receives one line per redrive and move task and, at debug level,
	// one per request. It never receives bodies or attribute values.
	// Default: discard.
	Logger *slog.Logger
}

// Server is an in-memory SQS endpoint. Create it with New, serve it with
// ServeHTTP, and call Close on shutdown so that long polls end at once
// (http.Server.Shutdown waits for them otherwise): for example
// httpServer.RegisterOnShutdown(sqs.Close). It is safe for concurrent use.
type Server struct {
	region    string
	accountID string
	clock     Clock
	log       *slog.Logger

	mu        sync.Mutex
	baseURL   string
	queues    map[string]*queue    // by name
	deletedAt map[string]time.Time // name -> DeleteQueue time, for QueueDeletedRecently
	tasks     []*moveTask          // every move task, oldest first
	seq       uint64               // enqueue counter, orders messages across queues

	stall atomic.Int64 // SendMessage delay, for fault-injection tests

	done      chan struct{}
	closeOnce sync.Once
	wg        sync.WaitGroup // move-task goroutines
}

// StallSendMessage delays every SendMessage (JSON protocol) by d before it
// is handled; 0 ends the stall. Tests use it to show that a slow SQS fails
// the Create trigger once, within Cognito's wait.
func (s *Server) StallSendMessage(d time.Duration) { s.stall.Store(int64(d)) }

// New returns a Server with no queues.
func New(opts Options) *Server {
	s := &Server{
		region:    opts.Region,
		accountID: opts.AccountID,
		clock:     opts.Clock,
		log:       opts.Logger,
		baseURL:   strings.TrimSuffix(opts.BaseURL, "/"),
		queues:    map[string]*queue{},
		deletedAt: map[string]time.Time{},
		done:      make(chan struct{}),
	}
	if s.region == "" {
		s.region = DefaultRegion
	}
	if s.accountID == "" {
		s.accountID = DefaultAccountID
	}
	if s.clock == nil {
		s.clock = RealClock()
	}
	if s.log == nil {
		s.log = slog.New(slog.DiscardHandler)
	}
	if s.baseURL == "" {
		s.baseURL = DefaultBaseURL
	}
	return s
}

// SetBaseURL changes the origin of queue URLs returned by the Go API, for a
// caller that learns its listen address only after New.
func (s *Server) SetBaseURL(base string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.baseURL = strings.TrimSuffix(base, "/")
}

// Close ends every long poll (each returns an empty result) and stops move
// tasks. The server keeps answering requests, but without waiting.
func (s *Server) Close() {
	s.closeOnce.Do(func() { close(s.done) })
	s.wg.Wait()
}

// reqCtx is what an operation needs to know about its HTTP request.
type reqCtx struct {
	ctx      context.Context
	base     string // scheme://host the client used, for queue URLs
	senderID string // access key id from the credential scope
}

// decoder fills an operation's input struct from the request, whichever
// protocol it came in; the operations never see the wire format.
type decoder func(in any) error

type handlerFunc func(s *Server, rc *reqCtx, decode decoder) (any, error)

var operations = map[string]handlerFunc{
	"CreateQueue":                  (*Server).opCreateQueue,
	"GetQueueUrl":                  (*Server).opGetQueueURL,
	"ListQueues":                   (*Server).opListQueues,
	"DeleteQueue":                  (*Server).opDeleteQueue,
	"GetQueueAttributes":           (*Server).opGetQueueAttributes,
	"SetQueueAttributes":           (*Server).opSetQueueAttributes,
	"PurgeQueue":                   (*Server).opPurgeQueue,
	"TagQueue":                     (*Server).opTagQueue,
	"UntagQueue":                   (*Server).opUntagQueue,
	"ListQueueTags":                (*Server).opListQueueTags,
	"ListDeadLetterSourceQueues":   (*Server).opListDeadLetterSourceQueues,
	"SendMessage":                  (*Server).opSendMessage,
	"SendMessageBatch":             (*Server).opSendMessageBatch,
	"ReceiveMessage":               (*Server).opReceiveMessage,
	"DeleteMessage":                (*Server).opDeleteMessage,
	"DeleteMessageBatch":           (*Server).opDeleteMessageBatch,
	"ChangeMessageVisibility":      (*Server).opChangeMessageVisibility,
	"ChangeMessageVisibilityBatch": (*Server).opChangeMessageVisibilityBatch,
	"StartMessageMoveTask":         (*Server).opStartMessageMoveTask,
	"ListMessageMoveTasks":         (*Server).opListMessageMoveTasks,
	"CancelMessageMoveTask":        (*Server).opCancelMessageMoveTask,
	"AddPermission":                unsupported("AddPermission"),
	"RemovePermission":             unsupported("RemovePermission"),
}

func unsupported(op string) handlerFunc {
	return func(*Server, *reqCtx, decoder) (any, error) {
		return nil, errUnsupportedOperation("sqslocal does not implement %s; queue policies are not enforced locally.", op)
	}
}

// ServeHTTP answers one SQS request in either protocol: the AWS JSON 1.0
// protocol (an X-Amz-Target header) or the Query protocol (a form POST or
// a GET, without X-Amz-Target; see IsQueryRequest). It serves any path, so
// it can sit behind a dispatcher; Query requests may name their queue by
// the path, as they do against SQS.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	requestID := newRequestID()
	start := time.Now()
	if d := time.Duration(s.stall.Load()); d > 0 && r.Header.Get("X-Amz-Target") == TargetPrefix+"SendMessage" {
		// A stall holds the request before SQS acts on it; then it is acted
		// on whether or not the caller still waits, as a request that
		// reached SQS would be.
		time.Sleep(d)
	}
	query := isQueryProtocol(r)
	var op string
	var out any
	var err error
	if query {
		op, out, err = s.serveQuery(w, r)
	} else {
		op, out, err = s.serve(w, r)
	}
	status := http.StatusOK
	switch {
	case err != nil:
		ae := s.asAPIError(op, requestID, err)
		status = ae.status
		if query {
			writeXMLError(w, requestID, ae)
		} else {
			writeError(w, requestID, ae)
		}
		s.log.Debug("sqslocal request", "op", op, "query_protocol", query, "request_id", requestID, "status", status,
			"error_code", ae.queryCode, "duration_ms", time.Since(start).Milliseconds())
		return
	case query:
		status = s.writeXML(w, requestID, op, out)
	default:
		writeJSON(w, requestID, http.StatusOK, out)
	}
	s.log.Debug("sqslocal request", "op", op, "query_protocol", query, "request_id", requestID, "status", status,
		"duration_ms", time.Since(start).Milliseconds())
}

// asAPIError passes API errors through and turns anything else, a bug in
// sqslocal, into InternalError after logging it.
func (s *Server) asAPIError(op, requestID string, err error) *apiError {
	var ae *apiError
	if errors.As(err, &ae) {
		return ae
	}
	s.log.Error("sqslocal: internal error", "op", op, "request_id", requestID, "error", err)
	return &apiError{status: http.StatusInternalServerError, shape: "com.amazon.coral.service#InternalFailure",
		queryCode: "AWS.SimpleQueueService.InternalError", receiver: true, message: "internal error in sqslocal; see its log"}
}

func (s *Server) serve(w http.ResponseWriter, r *http.Request) (op string, out any, err error) {
	if r.Method != http.MethodPost {
		return "", nil, errInvalidAction("SQS JSON requests are POSTs; got %s.", r.Method)
	}
	target := r.Header.Get("X-Amz-Target")
	if !strings.HasPrefix(target, TargetPrefix) {
		return "", nil, errInvalidAction("missing or foreign X-Amz-Target %q; sqslocal speaks the AWS JSON 1.0 protocol (AmazonSQS.<Operation>) and the Query protocol (a form POST without X-Amz-Target).", target)
	}
	op = strings.TrimPrefix(target, TargetPrefix)
	handler, ok := operations[op]
	if !ok {
		return op, nil, errInvalidAction("The action %s is not valid for this endpoint.", op)
	}
	if mt, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type")); mt != contentType {
		return op, nil, errInvalidAction("Content-Type must be %s, got %q.", contentType, r.Header.Get("Content-Type"))
	}
	sender, aerr := checkSigV4(r)
	if aerr != nil {
		return op, nil, aerr
	}
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, maxRequestBytes))
	if err != nil {
		return op, nil, errInvalidParameterValue("request body unreadable or larger than %d bytes: %v", maxRequestBytes, err)
	}
	if len(bytes.TrimSpace(body)) == 0 {
		body = []byte("{}")
	}
	rc := &reqCtx{ctx: r.Context(), base: requestBase(r), senderID: sender}
	out, err = handler(s, rc, func(in any) error { return decodeJSON(body, in) })
	return op, out, err
}

// requestBase is the origin the client used, which queue URLs in responses
// are built on.
func requestBase(r *http.Request) string {
	scheme := "http"
	if r.TLS != nil {
		scheme = "https"
	}
	return scheme + "://" + r.Host
}

var (
	authHeaderRE = regexp.MustCompile(`^AWS4-HMAC-SHA256 Credential=([^/, ]+)/(\d{8})/([a-z0-9-]+)/([a-z0-9-]+)/aws4_request, ?SignedHeaders=([a-z0-9;_.-]+), ?Signature=([0-9a-f]{64})$`)
	amzDateRE    = regexp.MustCompile(`^\d{8}T\d{6}Z$`)
)

// checkSigV4 accepts any signature but insists on the shape the SDKs send,
// so that a misconfigured client (no credentials, wrong signer) fails here
// the way it would fail against AWS. It returns the access key id, which
// SQS reports as the message's SenderId.
func checkSigV4(r *http.Request) (string, *apiError) {
	auth := r.Header.Get("Authorization")
	if auth == "" {
		if q := r.URL.Query(); q.Get("X-Amz-Signature") != "" && q.Get("X-Amz-Credential") != "" {
			akid, _, _ := strings.Cut(q.Get("X-Amz-Credential"), "/")
			return akid, nil
		}
		return "", errMissingAuthenticationToken()
	}
	m := authHeaderRE.FindStringSubmatch(auth)
	if m == nil {
		return "", errIncompleteSignature("expected AWS4-HMAC-SHA256 Credential=<key>/<date>/<region>/sqs/aws4_request, SignedHeaders=..., Signature=<64 hex>")
	}
	if m[4] != "sqs" {
		return "", errIncompleteSignature(fmt.Sprintf("credential scope names service %q, want sqs", m[4]))
	}
	if !strings.Contains(";"+m[5]+";", ";host;") {
		return "", errIncompleteSignature("SignedHeaders must include host")
	}
	date := r.Header.Get("X-Amz-Date")
	if !amzDateRE.MatchString(date) {
		return "", errIncompleteSignature("X-Amz-Date header missing or not in 20060102T150405Z form")
	}
	if date[:8] != m[2] {
		return "", errIncompleteSignature("credential scope date does not match X-Amz-Date")
	}
	return m[1], nil
}

func writeJSON(w http.ResponseWriter, requestID string, status int, v any) {
	body, err := json.Marshal(v)
	if err != nil {
		// Only our own response types reach here; they always marshal.
		status = http.StatusInternalServerError
		body = []byte(`{"__type":"com.amazon.coral.service#InternalFailure","message":"response encoding failed"}`)
	}
	h := w.Header()
	h.Set("Content-Type", contentType)
	h.Set("X-Amzn-RequestId", requestID)
	w.WriteHeader(status)
	_, _ = w.Write(body)
}

func writeError(w http.ResponseWriter, requestID string, e *apiError) {
	w.Header().Set("X-Amzn-Query-Error", e.queryCode+";"+e.faultName())
	writeJSON(w, requestID, e.status, struct {
		Type    string `json:"__type"`
		Message string `json:"message"`
	}{e.shape, e.message})
}

// decodeJSON unmarshals a request body. Unknown members are ignored, as
// newer SDKs may send members this emulator does not know yet.
func decodeJSON(body []byte, v any) error {
	if err := json.Unmarshal(body, v); err != nil {
		return errMalformedRequest(err)
	}
	return nil
}

func newRequestID() string {
	var b [16]byte
	_, _ = rand.Read(b[:])
	h := hex.EncodeToString(b[:])
	return h[0:8] + "-" + h[8:12] + "-" + h[12:16] + "-" + h[16:20] + "-" + h[20:32]
}
