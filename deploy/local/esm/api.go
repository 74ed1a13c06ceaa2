package esm

import (
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"math"
	"net/http"
	"net/url"
	"regexp"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"time"
)

// The read-only part of Lambda's REST API (version 2015-03-31) that a
// deployment check calls: the mapping and the function it invokes, in the
// member names and shapes of the Lambda model, and Lambda's errors, so
// that the real SDK clients decode both.

// APIPathPrefix is where Lambda's API lives; a dispatcher sends every
// request under it to API.
const APIPathPrefix = "/2015-03-31/"

// DefaultAccountID is the account in the ARNs the API reports unless
// Config.AccountID says otherwise; sqslocal and seslocal use the same.
const DefaultAccountID = "000000000000"

// Mapping is an event source mapping as ListEventSourceMappings and
// GetEventSourceMapping report it. The field names are the model's, so it
// marshals as Lambda's JSON.
type Mapping struct {
	UUID                           string
	EventSourceMappingArn          string
	EventSourceArn                 string
	FunctionArn                    string
	State                          string // "Enabled" or "Disabled"
	StateTransitionReason          string
	BatchSize                      int
	MaximumBatchingWindowInSeconds int
	// FunctionResponseTypes is always ReportBatchItemFailures: the poller
	// honours a function's batchItemFailures, and nothing else.
	FunctionResponseTypes []string
	ScalingConfig         *ScalingConfig `json:",omitempty"`
	// LastModified is epoch seconds, as Lambda's restJson timestamps are.
	LastModified float64
}

// ScalingConfig is the mapping's ScalingConfig.
type ScalingConfig struct {
	MaximumConcurrency int
}

// identity gives the mapping its UUID and creation time once.
func (p *Poller) identity() {
	p.created.Do(func() {
		p.uuid = newUUID()
		p.since = time.Now()
	})
}

func (p *Poller) account() string {
	if p.Config.AccountID != "" {
		return p.Config.AccountID
	}
	return DefaultAccountID
}

func (p *Poller) functionARN() string {
	return fmt.Sprintf("arn:aws:lambda:%s:%s:function:%s", p.Config.Region, p.account(), p.Config.FunctionName)
}

// Mapping returns the mapping's state. It is "Enabled" until Run returns,
// as on AWS, where State is the mapping's setting, not whether a poller
// happens to be receiving at the moment.
func (p *Poller) Mapping() Mapping {
	p.identity()
	state := "Enabled"
	if p.Config.Disabled || p.stopped.Load() {
		state = "Disabled"
	}
	m := Mapping{
		UUID:                           p.uuid,
		EventSourceMappingArn:          fmt.Sprintf("arn:aws:lambda:%s:%s:event-source-mapping:%s", p.Config.Region, p.account(), p.uuid),
		EventSourceArn:                 p.Config.QueueARN,
		FunctionArn:                    p.functionARN(),
		State:                          state,
		StateTransitionReason:          "USER_INITIATED",
		BatchSize:                      p.Config.BatchSize,
		MaximumBatchingWindowInSeconds: int(p.Config.BatchingWindow / time.Second),
		FunctionResponseTypes:          []string{"ReportBatchItemFailures"},
		LastModified:                   float64(p.since.UnixMilli()) / 1000,
	}
	if p.Config.MaxConcurrency > 0 {
		m.ScalingConfig = &ScalingConfig{MaximumConcurrency: p.Config.MaxConcurrency}
	}
	return m
}

// FunctionConfiguration is GetFunctionConfiguration's answer, in the
// model's member names.
type FunctionConfiguration struct {
	FunctionName     string
	FunctionArn      string
	Runtime          string
	Role             string
	Handler          string
	CodeSize         int64
	Description      string
	Timeout          int // seconds
	MemorySize       int // MB
	LastModified     string
	CodeSha256       string
	Version          string
	Environment      *environment `json:",omitempty"`
	TracingConfig    struct{ Mode string }
	RevisionId       string
	State            string
	LastUpdateStatus string
	PackageType      string
	Architectures    []string
	EphemeralStorage struct{ Size int }
	LoggingConfig    struct{ LogFormat, LogGroup string }
}

type environment struct {
	Variables map[string]string
}

// lambdaTime is how Lambda writes FunctionConfiguration.LastModified (a
// string in the model, not a timestamp).
const lambdaTime = "2006-01-02T15:04:05.000-0700"

// FunctionConfiguration returns the configuration of the function the
// mapping invokes.
func (p *Poller) FunctionConfiguration() FunctionConfiguration {
	p.identity()
	f := FunctionConfiguration{
		FunctionName: p.Config.FunctionName,
		FunctionArn:  p.functionARN(),
		// The mailer's bootstrap, as make package builds it for the SAM
		// template's provided.al2023 runtime.
		Runtime:          "provided.al2023",
		Role:             fmt.Sprintf("arn:aws:iam::%s:role/%s-role", p.account(), p.Config.FunctionName),
		Handler:          "bootstrap",
		Description:      "otp-local: in this process, invoked by the event source mapping",
		Timeout:          int(math.Ceil(p.invokeTimeout().Seconds())),
		MemorySize:       p.Config.MemorySize,
		LastModified:     p.since.UTC().Format(lambdaTime),
		Version:          "$LATEST",
		RevisionId:       p.uuid,
		State:            "Active",
		LastUpdateStatus: "Successful",
		PackageType:      "Zip",
		Architectures:    []string{architecture()},
	}
	if f.MemorySize == 0 {
		f.MemorySize = 128 // Lambda's default
	}
	sum := sha256.Sum256([]byte(f.FunctionArn))
	f.CodeSha256 = base64.StdEncoding.EncodeToString(sum[:])
	if len(p.Config.Environment) > 0 {
		f.Environment = &environment{Variables: p.Config.Environment}
	}
	f.TracingConfig.Mode = "PassThrough"
	f.EphemeralStorage.Size = 512
	f.LoggingConfig.LogFormat, f.LoggingConfig.LogGroup = "JSON", "/aws/lambda/"+p.Config.FunctionName
	return f
}

func architecture() string {
	if runtime.GOARCH == "arm64" {
		return "arm64"
	}
	return "x86_64"
}

// API serves Lambda's ListEventSourceMappings, GetEventSourceMapping and
// GetFunctionConfiguration for its mappings and the functions they invoke.
// Every other operation is refused as unknown, so a tool that needs more
// learns it here rather than after a deploy.
type API struct {
	mu       sync.RWMutex
	mappings []*Poller
}

// NewAPI returns an API serving the mappings.
func NewAPI(mappings ...*Poller) *API { return &API{mappings: mappings} }

// Add makes the API report p's mapping and function. It may be called
// while the API serves: otp-local answers requests before its functions
// (and so the mapping) exist.
func (a *API) Add(p *Poller) {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.mappings = append(a.mappings, p)
}

func (a *API) list() []*Poller {
	a.mu.RLock()
	defer a.mu.RUnlock()
	return a.mappings
}

// apiError is an error as Lambda's REST API sends it: the code in
// X-Amzn-ErrorType and a body of Type and Message.
type apiError struct {
	status  int
	code    string
	message string
}

func notFound(format string, args ...any) *apiError {
	return &apiError{http.StatusNotFound, "ResourceNotFoundException", fmt.Sprintf(format, args...)}
}

func validation(value, member, constraint string) *apiError {
	return &apiError{http.StatusBadRequest, "ValidationException",
		fmt.Sprintf("1 validation error detected: Value '%s' at '%s' failed to satisfy constraint: %s", value, member, constraint)}
}

func (a *API) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	out, aerr := a.serve(r)
	w.Header().Set("X-Amzn-Requestid", newUUID())
	w.Header().Set("Content-Type", "application/json")
	if aerr != nil {
		w.Header().Set("X-Amzn-Errortype", aerr.code)
		w.WriteHeader(aerr.status)
		_ = json.NewEncoder(w).Encode(struct{ Type, Message string }{"User", aerr.message})
		return
	}
	_ = json.NewEncoder(w).Encode(out)
}

const (
	mappingsPath  = APIPathPrefix + "event-source-mappings"
	functionsPath = APIPathPrefix + "functions/"
)

func (a *API) serve(r *http.Request) (any, *apiError) {
	// The API exposes the mailer's environment; like Cognito's admin calls
	// in otp-local, only an operator's signed SDK request may read it,
	// never a web page.
	if r.Header.Get("Origin") != "" || r.Header.Get("Sec-Fetch-Mode") != "" {
		return nil, &apiError{http.StatusForbidden, "AccessDeniedException", "otp-local: Lambda's API is not accepted from a browser page"}
	}
	ep := r.URL.EscapedPath()
	var op func() (any, *apiError)
	switch {
	case r.Method == http.MethodGet && (ep == mappingsPath || ep == mappingsPath+"/"):
		op = func() (any, *apiError) { return a.listMappings(r.URL.Query()) }
	case r.Method == http.MethodGet && strings.HasPrefix(ep, mappingsPath+"/") && !strings.Contains(ep[len(mappingsPath)+1:], "/"):
		op = func() (any, *apiError) { return a.getMapping(ep[len(mappingsPath)+1:]) }
	case r.Method == http.MethodGet && strings.HasPrefix(ep, functionsPath) && strings.HasSuffix(ep, "/configuration") &&
		!strings.Contains(strings.TrimSuffix(ep[len(functionsPath):], "/configuration"), "/"):
		op = func() (any, *apiError) {
			name, err := url.PathUnescape(strings.TrimSuffix(ep[len(functionsPath):], "/configuration"))
			if err != nil {
				return nil, validation(ep, "functionName", "Member must be a valid path label")
			}
			return a.getFunctionConfiguration(name, r.URL.Query().Get("Qualifier"))
		}
	default:
		return nil, &apiError{http.StatusNotFound, "UnknownOperationException",
			fmt.Sprintf("otp-local's Lambda API implements ListEventSourceMappings, GetEventSourceMapping and GetFunctionConfiguration; got %s %s", r.Method, r.URL.Path)}
	}
	if aerr := checkSigV4(r); aerr != nil {
		return nil, aerr
	}
	return op()
}

var lambdaAuthRE = regexp.MustCompile(`^AWS4-(?:HMAC-SHA256|ECDSA-P256-SHA256) Credential=[^/, ]+/\d{8}/(?:[a-z0-9-]+/)?lambda/aws4_request, ?SignedHeaders=[a-z0-9;_.-]+, ?Signature=[0-9a-f]+$`)

// checkSigV4 requires a request signed for Lambda, as AWS does. otp-local
// does not verify the signature (any credentials work), only its shape.
func checkSigV4(r *http.Request) *apiError {
	auth := r.Header.Get("Authorization")
	switch {
	case auth == "":
		return &apiError{http.StatusForbidden, "MissingAuthenticationTokenException", "Missing Authentication Token"}
	case !lambdaAuthRE.MatchString(auth):
		return &apiError{http.StatusForbidden, "IncompleteSignatureException", "Authorization header is not a well-formed AWS SigV4 header for service lambda."}
	case r.Header.Get("X-Amz-Date") == "":
		return &apiError{http.StatusForbidden, "IncompleteSignatureException", "Missing X-Amz-Date header."}
	}
	return nil
}

// The model's patterns for FunctionName (name, ARN or partial ARN, with an
// optional qualifier) and an event source's ARN, from the API reference.
var (
	functionNameRE = regexp.MustCompile(`^(arn:(aws[a-zA-Z-]*)?:lambda:)?([a-z]{2}(-gov)?-[a-z]+-\d{1}:)?(\d{12}:)?(function:)?([a-zA-Z0-9-_\.]+)(:(\$LATEST|[a-zA-Z0-9-_]+))?$`)
	arnRE          = regexp.MustCompile(`^arn:(aws[a-zA-Z0-9-]*):([a-zA-Z0-9\-])+:([a-z]{2}(-gov)?-[a-z]+-\d{1})?:(\d{12})?:(.*)$`)
)

// functionRef is a FunctionName taken apart.
type functionRef struct {
	name, region, account, qualifier string
}

func parseFunctionName(s string) (functionRef, *apiError) {
	if len(s) < 1 || len(s) > 170 {
		return functionRef{}, validation(s, "functionName", "Member must have length between 1 and 170")
	}
	m := functionNameRE.FindStringSubmatch(s)
	if m == nil {
		return functionRef{}, validation(s, "functionName", "Member must satisfy regular expression pattern: "+functionNameRE.String())
	}
	// A bare name is limited to 64 characters; the 170 is for ARNs.
	if m[1] == "" && m[5] == "" && len(m[7]) > 64 {
		return functionRef{}, validation(s, "functionName", "Member must have length less than or equal to 64")
	}
	return functionRef{name: m[7], region: strings.TrimSuffix(m[3], ":"), account: strings.TrimSuffix(m[5], ":"), qualifier: m[9]}, nil
}

// function finds the mapping whose function ref names: same name, and the
// same region and account where the ref gives them.
func (a *API) function(ref functionRef) *Poller {
	for _, p := range a.list() {
		if p.Config.FunctionName == ref.name &&
			(ref.region == "" || ref.region == p.Config.Region) &&
			(ref.account == "" || ref.account == p.account()) {
			return p
		}
	}
	return nil
}

// unknownFunction is Lambda's wording for a function that does not exist,
// naming it by the ARN it would have.
func (a *API) unknownFunction(ref functionRef) *apiError {
	region, account := "us-east-1", DefaultAccountID
	if list := a.list(); len(list) > 0 {
		region, account = list[0].Config.Region, list[0].account()
	}
	if ref.region != "" {
		region = ref.region
	}
	if ref.account != "" {
		account = ref.account
	}
	arn := fmt.Sprintf("arn:aws:lambda:%s:%s:function:%s", region, account, ref.name)
	if ref.qualifier != "" {
		arn += ":" + ref.qualifier
	}
	return notFound("Function not found: %s", arn)
}

func (a *API) getFunctionConfiguration(name, qualifier string) (any, *apiError) {
	ref, aerr := parseFunctionName(name)
	if aerr != nil {
		return nil, aerr
	}
	if qualifier != "" {
		if ref.qualifier != "" && ref.qualifier != qualifier {
			return nil, &apiError{http.StatusBadRequest, "InvalidParameterValueException", "The derived qualifier from the function name does not match the specified qualifier."}
		}
		ref.qualifier = qualifier
	}
	p := a.function(ref)
	// otp-local publishes no versions or aliases: only $LATEST exists.
	if p == nil || (ref.qualifier != "" && ref.qualifier != "$LATEST") {
		return nil, a.unknownFunction(ref)
	}
	return p.FunctionConfiguration(), nil
}

// listPageSize is the most mappings one ListEventSourceMappings answer
// holds, whatever MaxItems asks for, as the API reference says.
const listPageSize = 100

func (a *API) listMappings(q url.Values) (any, *apiError) {
	var fn *Poller
	var qualified bool
	if v, ok := q["FunctionName"]; ok {
		ref, aerr := parseFunctionName(v[0])
		if aerr != nil {
			return nil, aerr
		}
		// Stricter than an empty list (AWS documents ResourceNotFound for
		// this operation but not when): a mistyped function is an error.
		if fn = a.function(ref); fn == nil {
			return nil, a.unknownFunction(ref)
		}
		qualified = ref.qualifier != ""
	}
	source, filterSource := "", false
	if v, ok := q["EventSourceArn"]; ok {
		if !arnRE.MatchString(v[0]) {
			return nil, validation(v[0], "eventSourceArn", "Member must satisfy regular expression pattern: "+arnRE.String())
		}
		source, filterSource = v[0], true
	}
	all := a.list()
	limit := listPageSize
	if v := q.Get("MaxItems"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > 10000 {
			return nil, validation(v, "maxItems", "Member must have value between 1 and 10000")
		}
		limit = min(n, listPageSize)
	}
	start := 0
	if v := q.Get("Marker"); v != "" {
		b, err := base64.RawURLEncoding.DecodeString(v)
		n, convErr := strconv.Atoi(string(b))
		if err != nil || convErr != nil || n < 0 || n > len(all) {
			return nil, &apiError{http.StatusBadRequest, "InvalidParameterValueException", "Invalid marker: " + v}
		}
		start = n
	}
	out := struct {
		EventSourceMappings []Mapping
		NextMarker          string `json:",omitempty"`
	}{EventSourceMappings: []Mapping{}}
	for i := start; i < len(all); i++ {
		p := all[i]
		// Every mapping here is on the unqualified function; one filtered
		// by a version or alias finds none.
		if (fn != nil && (p != fn || qualified)) || (filterSource && p.Config.QueueARN != source) {
			continue
		}
		if len(out.EventSourceMappings) == limit {
			out.NextMarker = base64.RawURLEncoding.EncodeToString([]byte(strconv.Itoa(i)))
			break
		}
		out.EventSourceMappings = append(out.EventSourceMappings, p.Mapping())
	}
	return out, nil
}

func (a *API) getMapping(escaped string) (any, *apiError) {
	id, err := url.PathUnescape(escaped)
	if err != nil || id == "" {
		return nil, validation(escaped, "uUID", "Member must be a valid path label")
	}
	for _, p := range a.list() {
		if m := p.Mapping(); m.UUID == id {
			return m, nil
		}
	}
	return nil, notFound("The resource you requested does not exist.")
}

func newUUID() string {
	var b [16]byte
	_, _ = rand.Read(b[:])
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	h := hex.EncodeToString(b[:])
	return h[0:8] + "-" + h[8:12] + "-" + h[12:16] + "-" + h[16:20] + "-" + h[20:32]
}
