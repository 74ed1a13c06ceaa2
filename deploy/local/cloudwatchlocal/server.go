package cloudwatchlocal

import (
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"mime"
	"net/http"
	"regexp"
	"strings"
	"time"

	"github.com/fxamacker/cbor/v2"
)

// The Smithy RPC v2 CBOR protocol
// (https://smithy.io/2.0/additional-specs/protocols/smithy-rpc-v2.html):
// POST /service/<service shape name>/operation/<operation>, a CBOR body, the
// smithy-protocol header on both sides.
const (
	// PathPrefix is the path of every CloudWatch request in RPC v2 CBOR; a
	// dispatcher sends requests under it to ServeHTTP.
	PathPrefix     = "/service/GraniteServiceVersion20100801/operation/"
	protocolHeader = "Smithy-Protocol"
	protocolName   = "rpc-v2-cbor"
	cborType       = "application/cbor"
	// 500 queries of a few hundred bytes each, with room to spare.
	maxRequestBytes = 2 << 20
)

// ServerOptions configure a Server. The zero value is usable.
type ServerOptions struct {
	// Logger receives one line per request at debug level. Default: discard.
	Logger *slog.Logger
}

// Server answers CloudWatch's GetMetricData from a Store. It is safe for
// concurrent use.
type Server struct {
	store *Store
	log   *slog.Logger
}

// NewServer serves store.
func NewServer(store *Store, o ServerOptions) *Server {
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	return &Server{store: store, log: o.Logger}
}

var (
	encMode = func() cbor.EncMode {
		// Timestamps as AWS sends them: tag 1 around a float64 of epoch
		// seconds (LocalStack's AWS-validated test checks for
		// "Timestamps\x9f\xc1\xfb").
		em, err := cbor.EncOptions{Time: cbor.TimeUnixMicro, TimeTag: cbor.EncTagRequired}.EncMode()
		if err != nil {
			panic(err)
		}
		return em
	}()
	decMode = func() cbor.DecMode {
		dm, err := cbor.DecOptions{
			DupMapKey:         cbor.DupMapKeyEnforcedAPF,
			FieldNameMatching: cbor.FieldNameMatchingCaseSensitive,
			MaxNestedLevels:   16,
		}.DecMode()
		if err != nil {
			panic(err)
		}
		return dm
	}()
)

// ServeHTTP answers one RPC v2 CBOR request.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	requestID := newRequestID()
	start := time.Now()
	op := strings.TrimPrefix(r.URL.Path, PathPrefix)
	out, err := s.serve(w, r, op)
	h := w.Header()
	h.Set(protocolHeader, protocolName)
	h.Set("Content-Type", cborType)
	h.Set("X-Amzn-Requestid", requestID)
	if err != nil {
		var ae *apiError
		if !errors.As(err, &ae) {
			s.log.Error("cloudwatchlocal: internal error", "op", op, "request_id", requestID, "error", err)
			ae = &apiError{http.StatusInternalServerError, serviceNS + "InternalServiceFault", "InternalServiceError", "otp-local: internal error"}
		}
		fault := "Sender"
		if ae.status >= 500 {
			fault = "Receiver"
		}
		// CloudWatch is awsQueryCompatible: the SDK takes the Query-era
		// code (ValidationError, InvalidParameterValue, …) from here and
		// the error's shape from the body's __type.
		h.Set("X-Amzn-Query-Error", ae.query+";"+fault)
		body, _ := encMode.Marshal(errorBody{Type: ae.shape, Message: ae.message})
		w.WriteHeader(ae.status)
		_, _ = w.Write(body)
		s.log.Debug("cloudwatchlocal request", "op", op, "request_id", requestID, "status", ae.status,
			"error_code", ae.query, "duration_ms", time.Since(start).Milliseconds())
		return
	}
	body, err := encMode.Marshal(out)
	if err != nil {
		s.log.Error("cloudwatchlocal: encode response", "op", op, "request_id", requestID, "error", err)
		w.WriteHeader(http.StatusInternalServerError)
		return
	}
	_, _ = w.Write(body)
	s.log.Debug("cloudwatchlocal request", "op", op, "request_id", requestID, "status", http.StatusOK,
		"duration_ms", time.Since(start).Milliseconds())
}

func (s *Server) serve(w http.ResponseWriter, r *http.Request, op string) (any, error) {
	if r.Method != http.MethodPost || !strings.HasPrefix(r.URL.Path, PathPrefix) || op != "GetMetricData" {
		return nil, &apiError{http.StatusBadRequest, coralService + "UnknownOperationException", "UnknownOperation",
			fmt.Sprintf("otp-local's CloudWatch implements GetMetricData only, in RPC v2 CBOR (POST %sGetMetricData); got %s %s", PathPrefix, r.Method, r.URL.Path)}
	}
	// Metrics name tenants and show traffic; like Lambda's API in
	// otp-local, only an operator's signed request may read them, never
	// a web page that happens to reach the loopback port.
	if r.Header.Get("Origin") != "" || r.Header.Get("Sec-Fetch-Mode") != "" {
		return nil, &apiError{http.StatusForbidden, coralService + "AccessDeniedException", "AccessDenied",
			"otp-local: CloudWatch's API is not accepted from a browser page"}
	}
	if err := checkSigV4(r); err != nil {
		return nil, err
	}
	if got := r.Header.Get(protocolHeader); got != protocolName {
		return nil, serialization(fmt.Sprintf("the %s header must be %s, got %q", protocolHeader, protocolName, got))
	}
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, maxRequestBytes))
	if err != nil {
		return nil, serialization(fmt.Sprintf("body unreadable or larger than %d bytes: %v", maxRequestBytes, err))
	}
	var in getMetricDataInput
	if len(body) > 0 {
		if mt, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type")); mt != cborType {
			return nil, serialization(fmt.Sprintf("Content-Type must be %s, got %q", cborType, r.Header.Get("Content-Type")))
		}
		if err := decMode.Unmarshal(body, &in); err != nil {
			return nil, serialization("the body is not a GetMetricData input in CBOR: " + err.Error())
		}
	}
	return s.getMetricData(in)
}

// jsonTargetPrefix is the X-Amz-Target of CloudWatch's JSON 1.0 protocol,
// which otp-local does not serve.
const jsonTargetPrefix = "GraniteServiceVersion20100801."

var scopeRE = regexp.MustCompile(`Credential=[^/, ]+/\d{8}/[a-z0-9-]+/monitoring/aws4_request`)

// IsRequest reports whether r is for CloudWatch: RPC v2 CBOR by its path,
// and the JSON 1.0 and Query protocols (by X-Amz-Target, or a signature
// for "monitoring"), which ServeHTTP refuses with a word on what it
// serves rather than let another service answer them.
func IsRequest(r *http.Request) bool {
	return strings.HasPrefix(r.URL.Path, PathPrefix) || strings.HasPrefix(r.Header.Get("X-Amz-Target"), jsonTargetPrefix) ||
		scopeRE.MatchString(r.Header.Get("Authorization"))
}

var authRE = regexp.MustCompile(`^AWS4-(?:HMAC-SHA256|ECDSA-P256-SHA256) Credential=[^/, ]+/(\d{8})/(?:[a-z0-9-]+/)?([a-z0-9-]+)/aws4_request, ?SignedHeaders=[a-z0-9;_.-]+, ?Signature=[0-9a-f]+$`)

// checkSigV4 requires a request signed for CloudWatch, whose signing name
// is "monitoring". otp-local does not verify the signature (any
// credentials work), only its shape, so that a client without credentials
// fails here as it would against AWS.
func checkSigV4(r *http.Request) error {
	auth := r.Header.Get("Authorization")
	if auth == "" {
		return &apiError{http.StatusForbidden, coralService + "MissingAuthenticationTokenException", "MissingAuthenticationToken", "Missing Authentication Token"}
	}
	m := authRE.FindStringSubmatch(auth)
	switch {
	case m == nil:
		return &apiError{http.StatusForbidden, coralService + "IncompleteSignatureException", "IncompleteSignature",
			"Authorization header is not a well-formed AWS SigV4 header: want AWS4-HMAC-SHA256 Credential=<key>/<date>/<region>/monitoring/aws4_request, SignedHeaders=..., Signature=<hex>"}
	case m[2] != "monitoring":
		return &apiError{http.StatusForbidden, coralService + "IncompleteSignatureException", "IncompleteSignature",
			fmt.Sprintf("Credential should be scoped to correct service: 'monitoring', not %q.", m[2])}
	case r.Header.Get("X-Amz-Date") == "":
		return &apiError{http.StatusForbidden, coralService + "IncompleteSignatureException", "IncompleteSignature", "Missing X-Amz-Date header."}
	}
	return nil
}

func newRequestID() string {
	var b [16]byte
	_, _ = rand.Read(b[:])
	h := hex.EncodeToString(b[:])
	return h[:8] + "-" + h[8:12] + "-" + h[12:16] + "-" + h[16:20] + "-" + h[20:]
}
