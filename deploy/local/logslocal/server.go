package logslocal

import (
	"bytes"
	"cmp"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"mime"
	"net/http"
	"regexp"
	"slices"
	"strings"
	"time"
)

const (
	// TargetPrefix is the X-Amz-Target prefix of every CloudWatch Logs
	// request (JSON 1.1). A dispatcher sends requests whose target starts
	// with it to ServeHTTP.
	TargetPrefix = "Logs_20140328."

	contentType     = "application/x-amz-json-1.1"
	maxRequestBytes = 1 << 20
	// maxPageBytes is FilterLogEvents' page: "up to 1 MB of log events or
	// up to 10,000 log events".
	maxPageBytes = 1 << 20
	maxPageCount = 10_000
)

// Server answers CloudWatch Logs requests from a Store.
type Server struct {
	store *Store
	log   *slog.Logger
}

// NewServer serves store; logger receives one debug line per request
// (never a message) and may be nil.
func NewServer(store *Store, logger *slog.Logger) *Server {
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	return &Server{store: store, log: logger}
}

var operations = map[string]func(*Server, []byte) (any, error){
	"FilterLogEvents":   (*Server).filterLogEvents,
	"DescribeLogGroups": (*Server).describeLogGroups,
}

// ServeHTTP answers one request (a POST with X-Amz-Target
// Logs_20140328.<Operation>). It serves any path, so it can sit behind a
// dispatcher.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	requestID := newRequestID()
	start := time.Now()
	op, out, err := s.serve(w, r)
	if err != nil {
		var ae *apiError
		if !errors.As(err, &ae) {
			s.log.Error("logslocal: internal error", "op", op, "request_id", requestID, "error", err)
			ae = &apiError{status: http.StatusInternalServerError, code: "ServiceUnavailableException", message: "internal error in logslocal; see its log"}
		}
		writeJSON(w, requestID, ae.status, map[string]string{"__type": ae.code, "message": ae.message})
		s.log.Debug("logslocal request", "op", op, "request_id", requestID, "status", ae.status,
			"error_code", ae.code, "duration_ms", time.Since(start).Milliseconds())
		return
	}
	writeJSON(w, requestID, http.StatusOK, out)
	s.log.Debug("logslocal request", "op", op, "request_id", requestID, "status", http.StatusOK,
		"duration_ms", time.Since(start).Milliseconds())
}

func (s *Server) serve(w http.ResponseWriter, r *http.Request) (string, any, error) {
	target := r.Header.Get("X-Amz-Target")
	op := strings.TrimPrefix(target, TargetPrefix)
	if r.Header.Get("Origin") != "" || r.Header.Get("Sec-Fetch-Mode") != "" {
		return op, nil, errFromBrowser()
	}
	handler, ok := operations[op]
	if r.Method != http.MethodPost || !strings.HasPrefix(target, TargetPrefix) || !ok {
		return op, nil, errUnknownOperation(r.Method + " " + target)
	}
	if mt, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type")); mt != contentType {
		return op, nil, errSerialization("Content-Type must be %s, got %q", contentType, r.Header.Get("Content-Type"))
	}
	if aerr := checkSigV4(r); aerr != nil {
		return op, nil, aerr
	}
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, maxRequestBytes))
	if err != nil {
		return op, nil, errSerialization("body unreadable or larger than %d bytes: %v", maxRequestBytes, err)
	}
	if len(bytes.TrimSpace(body)) == 0 {
		body = []byte("{}")
	}
	out, err := handler(s, body)
	return op, out, err
}

var (
	authHeaderRE = regexp.MustCompile(`^AWS4-HMAC-SHA256 Credential=([^/, ]+)/(\d{8})/([a-z0-9-]+)/([a-z0-9-]+)/aws4_request, ?SignedHeaders=([a-z0-9;_.-]+), ?Signature=([0-9a-f]{64})$`)
	amzDateRE    = regexp.MustCompile(`^\d{8}T\d{6}Z$`)
)

// checkSigV4 accepts any signature but insists on the shape the SDKs send,
// for the signing name "logs", so a client without credentials fails here
// as it would against AWS.
func checkSigV4(r *http.Request) *apiError {
	auth := r.Header.Get("Authorization")
	if auth == "" {
		return errMissingAuthenticationToken()
	}
	m := authHeaderRE.FindStringSubmatch(auth)
	switch {
	case m == nil:
		return errIncompleteSignature("want AWS4-HMAC-SHA256 Credential=<key>/<date>/<region>/logs/aws4_request, SignedHeaders=..., Signature=<64 hex>")
	case m[4] != "logs":
		return errIncompleteSignature(fmt.Sprintf("credential scope names service %q, want logs", m[4]))
	case !amzDateRE.MatchString(r.Header.Get("X-Amz-Date")):
		return errIncompleteSignature("X-Amz-Date header missing or not in 20060102T150405Z form")
	}
	return nil
}

// decode unmarshals a body. Unknown members are ignored, as newer SDKs
// send members an emulator does not know.
func decode(body []byte, v any) error {
	if err := json.Unmarshal(body, v); err != nil {
		return errSerialization("Request body is not valid JSON for this operation: %v", err)
	}
	return nil
}

// The model's constraints (botocore's logs service-2.json).
var (
	groupNameRE   = regexp.MustCompile(`^[\.\-_/#A-Za-z0-9]+$`)
	groupIDRE     = regexp.MustCompile(`^[\w#+=/:,.@-]*$`)
	streamNameRE  = regexp.MustCompile(`^[^:*]*$`)
	groupNameExpr = `[\.\-_/#A-Za-z0-9]+`
)

type filterInput struct {
	LogGroupName        *string  `json:"logGroupName"`
	LogGroupIdentifier  *string  `json:"logGroupIdentifier"`
	LogStreamNames      []string `json:"logStreamNames"`
	LogStreamNamePrefix *string  `json:"logStreamNamePrefix"`
	StartTime           *int64   `json:"startTime"`
	EndTime             *int64   `json:"endTime"`
	FilterPattern       *string  `json:"filterPattern"`
	NextToken           *string  `json:"nextToken"`
	Limit               *int     `json:"limit"`
	StartFromHead       *bool    `json:"startFromHead"`
	// interleaved is ignored, as AWS has ignored it since 2019.
}

type filteredEvent struct {
	LogStreamName string `json:"logStreamName"`
	Timestamp     int64  `json:"timestamp"`
	Message       string `json:"message"`
	IngestionTime int64  `json:"ingestionTime"`
	EventID       string `json:"eventId"`
}

type filterOutput struct {
	Events []filteredEvent `json:"events"`
	// SearchedLogStreams has been an empty list since May 2020.
	SearchedLogStreams []struct{} `json:"searchedLogStreams"`
	NextToken          *string    `json:"nextToken,omitempty"`
}

// groupOf resolves the log group a request names: logGroupName, or
// logGroupIdentifier (a name or an ARN of this account and region).
func (s *Server) groupOf(name, identifier *string) (string, error) {
	switch {
	case name != nil && identifier != nil:
		return "", errNameAndIdentifier()
	case name != nil:
		if len(*name) < 1 || len(*name) > 512 {
			return "", errLength("logGroupName", *name, 1, 512)
		}
		if !groupNameRE.MatchString(*name) {
			return "", errRegex("logGroupName", *name, groupNameExpr)
		}
		return *name, nil
	case identifier != nil:
		if len(*identifier) < 1 || len(*identifier) > 2048 {
			return "", errLength("logGroupIdentifier", *identifier, 1, 2048)
		}
		if !groupIDRE.MatchString(*identifier) {
			return "", errRegex("logGroupIdentifier", *identifier, `[\w#+=/:,.@-]*`)
		}
		prefix := fmt.Sprintf("arn:aws:logs:%s:%s:log-group:", s.store.region, s.store.account)
		if strings.HasPrefix(*identifier, "arn:") {
			if !strings.HasPrefix(*identifier, prefix) {
				return "", errGroupNotFound() // another account's or region's
			}
			return strings.TrimPrefix(*identifier, prefix), nil
		}
		return *identifier, nil
	}
	return "", errNoGroup()
}

func (s *Server) filterLogEvents(body []byte) (any, error) {
	var in filterInput
	if err := decode(body, &in); err != nil {
		return nil, err
	}
	groupName, err := s.groupOf(in.LogGroupName, in.LogGroupIdentifier)
	if err != nil {
		return nil, err
	}
	limit := maxPageCount
	if in.Limit != nil {
		switch {
		case *in.Limit > maxPageCount:
			return nil, errMax("limit", *in.Limit, maxPageCount)
		case *in.Limit < 1:
			return nil, errMin("limit", *in.Limit, 1)
		}
		limit = *in.Limit
	}
	for _, t := range []struct {
		name string
		v    *int64
	}{{"startTime", in.StartTime}, {"endTime", in.EndTime}} {
		if t.v != nil && *t.v < 0 {
			return nil, errMin(t.name, *t.v, 0)
		}
	}
	if in.FilterPattern != nil && len(*in.FilterPattern) > 1024 {
		return nil, errLength("filterPattern", *in.FilterPattern, 0, 1024)
	}
	if in.NextToken != nil && *in.NextToken == "" {
		return nil, errLength("nextToken", "", 1, 0)
	}
	if len(in.LogStreamNames) > 100 {
		return nil, newError("InvalidParameterException",
			"1 validation error detected: Value '%v' at 'logStreamNames' failed to satisfy constraint: Member must have length less than or equal to 100", in.LogStreamNames)
	}
	for _, n := range in.LogStreamNames {
		if len(n) < 1 || len(n) > 512 || !streamNameRE.MatchString(n) {
			return nil, errRegex("logStreamNames", n, "[^:*]*")
		}
	}
	if len(in.LogStreamNames) > 0 && in.LogStreamNamePrefix != nil {
		return nil, errStreamsAndPrefix()
	}
	q := query{start: in.StartTime, end: in.EndTime, streams: in.LogStreamNames}
	if in.LogStreamNamePrefix != nil {
		q.streamPrefix = *in.LogStreamNamePrefix
	}
	patternText := ""
	if in.FilterPattern != nil {
		patternText = *in.FilterPattern
	}
	if q.pattern, err = ParsePattern(patternText); err != nil {
		return nil, errInvalidPattern(err.Error())
	}
	// The token is bound to the query it continues: another group or
	// another filter with it is refused, as AWS refuses a token it did not
	// issue for the request.
	fingerprint := queryFingerprint(groupName, patternText, in)
	var after *cursor
	if in.NextToken != nil {
		c, ok := decodeToken(*in.NextToken, fingerprint)
		if !ok {
			return nil, errInvalidNextToken()
		}
		after = &c
	}
	events, ok := s.store.events(groupName, q)
	if !ok {
		return nil, errGroupNotFound()
	}
	newestFirst := in.StartFromHead != nil && !*in.StartFromHead
	if newestFirst {
		slices.Reverse(events)
	}
	if after != nil {
		// Whatever comes after the last event returned, in the page's
		// order: events that aged out meanwhile do not shift it.
		rest := events[:0]
		for _, e := range events {
			if c := after.compare(e); c < 0 && !newestFirst || c > 0 && newestFirst {
				rest = append(rest, e)
			}
		}
		events = rest
	}
	out := filterOutput{Events: []filteredEvent{}, SearchedLogStreams: []struct{}{}}
	size := 0
	for i, e := range events {
		if len(out.Events) == limit || len(out.Events) > 0 && size+len(e.Message) > maxPageBytes {
			last := events[i-1]
			tok := encodeToken(cursor{TS: last.Timestamp.UnixMilli(), Seq: last.Seq}, fingerprint)
			out.NextToken = &tok
			break
		}
		size += len(e.Message)
		out.Events = append(out.Events, filteredEvent{
			LogStreamName: e.Stream, Timestamp: e.Timestamp.UnixMilli(), Message: e.Message,
			IngestionTime: e.Ingested.UnixMilli(), EventID: e.ID(),
		})
	}
	return out, nil
}

// cursor is where a page ended.
type cursor struct {
	TS  int64  `json:"t"` // the last event's timestamp, ms
	Seq uint64 `json:"s"` // and its ingestion sequence
	Fp  string `json:"q"` // the query it belongs to
}

// compare orders the cursor against an event as FilterLogEvents sorts:
// by timestamp, then ingestion.
func (c cursor) compare(e Event) int {
	if n := cmp.Compare(c.TS, e.Timestamp.UnixMilli()); n != 0 {
		return n
	}
	return cmp.Compare(c.Seq, e.Seq)
}

func queryFingerprint(group, pattern string, in filterInput) string {
	h := sha256.New()
	fmt.Fprintf(h, "%s\x00%s\x00%v\x00%v\x00%q\x00%v\x00%v", group, pattern, deref(in.StartTime), deref(in.EndTime),
		in.LogStreamNames, in.LogStreamNamePrefix != nil && *in.LogStreamNamePrefix != "", in.StartFromHead != nil && !*in.StartFromHead)
	if in.LogStreamNamePrefix != nil {
		fmt.Fprintf(h, "\x00%s", *in.LogStreamNamePrefix)
	}
	return hex.EncodeToString(h.Sum(nil)[:8])
}

func deref(p *int64) any {
	if p == nil {
		return "-"
	}
	return *p
}

func encodeToken(c cursor, fingerprint string) string {
	c.Fp = fingerprint
	b, _ := json.Marshal(c)
	return base64.RawURLEncoding.EncodeToString(b)
}

func decodeToken(tok, fingerprint string) (cursor, bool) {
	b, err := base64.RawURLEncoding.DecodeString(tok)
	if err != nil {
		return cursor{}, false
	}
	var c cursor
	if json.Unmarshal(b, &c) != nil || c.Fp != fingerprint {
		return cursor{}, false
	}
	return c, true
}

type describeInput struct {
	LogGroupNamePrefix  *string  `json:"logGroupNamePrefix"`
	LogGroupNamePattern *string  `json:"logGroupNamePattern"`
	LogGroupIdentifiers []string `json:"logGroupIdentifiers"`
	NextToken           *string  `json:"nextToken"`
	Limit               *int     `json:"limit"`
}

// logGroup is DescribeLogGroups' entry, with the members AWS returns for a
// new standard log group (LocalStack's recorded test_logs_groups).
type logGroup struct {
	Arn                       string `json:"arn"`
	CreationTime              int64  `json:"creationTime"`
	DeletionProtectionEnabled *bool  `json:"deletionProtectionEnabled,omitempty"`
	LogGroupArn               string `json:"logGroupArn"`
	LogGroupClass             string `json:"logGroupClass"`
	LogGroupName              string `json:"logGroupName"`
	MetricFilterCount         int    `json:"metricFilterCount"`
	StoredBytes               *int64 `json:"storedBytes,omitempty"`
}

type describeOutput struct {
	LogGroups []logGroup `json:"logGroups"`
	NextToken *string    `json:"nextToken,omitempty"`
}

func (s *Server) describeLogGroups(body []byte) (any, error) {
	var in describeInput
	if err := decode(body, &in); err != nil {
		return nil, err
	}
	if in.LogGroupNamePrefix != nil && in.LogGroupNamePattern != nil {
		return nil, errPrefixAndPattern()
	}
	if p := in.LogGroupNamePrefix; p != nil {
		if len(*p) < 1 || len(*p) > 512 {
			return nil, errLength("logGroupNamePrefix", *p, 1, 512)
		}
		if !groupNameRE.MatchString(*p) {
			return nil, errRegex("logGroupNamePrefix", *p, groupNameExpr)
		}
	}
	limit := 50
	if in.Limit != nil {
		switch {
		case *in.Limit > 50:
			return nil, errMax("limit", *in.Limit, 50)
		case *in.Limit < 1:
			return nil, errMin("limit", *in.Limit, 1)
		}
		limit = *in.Limit
	}
	sum := sha256.Sum256(fmt.Appendf(nil, "%v|%v|%q", deref32(in.LogGroupNamePrefix), deref32(in.LogGroupNamePattern), in.LogGroupIdentifiers))
	fingerprint := hex.EncodeToString(sum[:8])
	after := ""
	if in.NextToken != nil {
		b, err := base64.RawURLEncoding.DecodeString(*in.NextToken)
		name, fp, ok := strings.Cut(string(b), "\x00")
		if err != nil || !ok || fp != fingerprint {
			return nil, errInvalidNextToken()
		}
		after = name
	}
	out := describeOutput{LogGroups: []logGroup{}}
	for _, g := range s.store.Groups() {
		switch {
		case g.Name <= after && after != "":
			continue
		case in.LogGroupNamePrefix != nil && !strings.HasPrefix(g.Name, *in.LogGroupNamePrefix):
			continue
		case in.LogGroupNamePattern != nil && !strings.Contains(g.Name, *in.LogGroupNamePattern):
			continue
		case len(in.LogGroupIdentifiers) > 0 && !s.identifies(in.LogGroupIdentifiers, g.Name):
			continue
		}
		if len(out.LogGroups) == limit {
			tok := base64.RawURLEncoding.EncodeToString([]byte(out.LogGroups[limit-1].LogGroupName + "\x00" + fingerprint))
			out.NextToken = &tok
			break
		}
		lg := logGroup{
			Arn: s.store.ARN(g.Name) + ":*", CreationTime: g.Created.UnixMilli(), LogGroupArn: s.store.ARN(g.Name),
			LogGroupClass: "STANDARD", LogGroupName: g.Name,
		}
		// With logGroupNamePattern AWS leaves out the rest (recorded).
		if in.LogGroupNamePattern == nil {
			no, bytes := false, g.StoredBytes
			lg.DeletionProtectionEnabled, lg.StoredBytes = &no, &bytes
		}
		out.LogGroups = append(out.LogGroups, lg)
	}
	return out, nil
}

func (s *Server) identifies(ids []string, name string) bool {
	for _, id := range ids {
		if id == name || id == s.store.ARN(name) {
			return true
		}
	}
	return false
}

func deref32(p *string) string {
	if p == nil {
		return "\x01"
	}
	return *p
}

func writeJSON(w http.ResponseWriter, requestID string, status int, v any) {
	body, err := json.Marshal(v)
	if err != nil {
		status = http.StatusInternalServerError
		body = []byte(`{"__type":"ServiceUnavailableException","message":"response encoding failed"}`)
	}
	h := w.Header()
	h.Set("Content-Type", contentType)
	h.Set("X-Amzn-RequestId", requestID)
	w.WriteHeader(status)
	_, _ = w.Write(body)
}

func newRequestID() string {
	var b [16]byte
	_, _ = rand.Read(b[:])
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	h := hex.EncodeToString(b[:])
	return h[0:8] + "-" + h[8:12] + "-" + h[12:16] + "-" + h[16:20] + "-" + h[20:32]
}
