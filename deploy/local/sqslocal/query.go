package sqslocal

import (
	"bytes"
	"encoding/base64"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"net/url"
	"reflect"
	"regexp"
	"sort"
	"strconv"
	"strings"

	"github.com/cognito-email-otp/cognito-email-otp/deploy/local/awslocal"
)

// The SQS Query protocol: what SQS spoke before JSON (November 2023) and
// still answers, and what older clients speak exclusively (aws-sdk-go v1
// before v1.47.6, Debian's awscli 2.9 and python3-boto3 1.26). A request is a form POST (or a GET) of Action, Version and
// the input's members flattened into names like MessageAttribute.1.Name;
// the answer is XML. The same operations serve both protocols: the Query
// side only translates parameters into the operation's input struct and
// its output struct into XML, led by each struct's json tag and, where the
// Query name differs, its query tag:
//
//	query:"AttributeName"       a list, sent as AttributeName.1, AttributeName.2, ...
//	query:"Attribute,Name,Value" a map, sent as Attribute.1.Name and Attribute.1.Value
//	query:"-"                   not in the Query protocol
//
// Names follow the awsQuery traits of the SQS model (xmlName, xmlFlattened),
// which are the same in aws-sdk-go v1's last Query model and in the current
// Smithy model.

const (
	queryVersion   = "2012-11-05"
	queryNamespace = "http://queue.amazonaws.com/doc/" + queryVersion + "/"
	formType       = "application/x-www-form-urlencoded"
	xmlType        = "text/xml"
	// maxQueryBytes bounds a form body: a 1 MiB batch whose every byte is
	// percent-encoded grows threefold, base64 binary values up to fourfold.
	maxQueryBytes = 8 << 20
)

var (
	// queuePathRE is the path of an SQS queue URL: a 12-digit account ID
	// and a queue name.
	queuePathRE = regexp.MustCompile(`^/\d{12}/[A-Za-z0-9_-]{1,80}/?$`)
)

// IsQueryRequest reports whether a dispatcher in front of several AWS
// services should hand r to ServeHTTP as an SQS Query-protocol request. It
// reads headers and the URL only, never the body, so a dispatcher can ask
// before routing elsewhere.
//
// A request with an X-Amz-Target header is not one (JSON protocols carry
// their operation there; route on TargetPrefix instead). A SigV4-signed
// request is one exactly when its credential scope names the service sqs,
// whether signed in the Authorization header or presigned
// (X-Amz-Credential): the scope is what tells SQS from other Query or REST
// services (S3, SES) on the same port. An unsigned request, which ServeHTTP
// only answers with an authentication error, is one when it is a form POST,
// or a GET with an Action parameter, to / or to a queue URL path
// (/<12-digit account>/<queue>), so that HTML forms on other paths of the
// same server are left alone.
func IsQueryRequest(r *http.Request) bool {
	if r.Header.Get("X-Amz-Target") != "" {
		return false
	}
	if service, ok := awslocal.SignedService(r); ok {
		return service == "sqs"
	}
	if r.URL.Path != "/" && !queuePathRE.MatchString(r.URL.Path) {
		return false
	}
	return isQueryProtocol(r) && (r.Method == http.MethodPost || r.URL.Query().Has("Action"))
}

// isQueryProtocol tells the two protocols apart once a request is known to
// be for SQS: JSON requests are POSTs with X-Amz-Target; Query requests
// have none and are form POSTs or GETs.
func isQueryProtocol(r *http.Request) bool {
	if r.Header.Get("X-Amz-Target") != "" {
		return false
	}
	switch r.Method {
	case http.MethodGet:
		return true
	case http.MethodPost:
		mt, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type"))
		return mt == formType
	}
	return false
}

func (s *Server) serveQuery(w http.ResponseWriter, r *http.Request) (op string, out any, err error) {
	params, err := queryParameters(w, r)
	if err != nil {
		return "", nil, err
	}
	op = params["Action"]
	if op == "" {
		return "", nil, errMissingAction()
	}
	handler, ok := operations[op]
	if !ok {
		return op, nil, errInvalidAction("The action %s is not valid for this endpoint.", op)
	}
	// SQS once served older API versions with other shapes; sqslocal knows
	// only the one every maintained client sends, and says so rather than
	// answering in a shape the client does not expect.
	switch v, ok := params["Version"]; {
	case !ok:
		return op, nil, errMissingParameter("Version")
	case v != queryVersion:
		return op, nil, errInvalidParameterValue("Value %s for parameter Version is invalid. Reason: sqslocal serves only API version %s.", v, queryVersion)
	}
	sender, aerr := checkSigV4(r)
	if aerr != nil {
		return op, nil, aerr
	}
	rc := &reqCtx{ctx: r.Context(), base: requestBase(r), senderID: sender}
	if err := queueFromPath(params, rc.base, r.URL.Path); err != nil {
		return op, nil, err
	}
	out, err = handler(s, rc, func(in any) error { return decodeQuery(params, in) })
	return op, out, err
}

// queryParameters reads a GET's URL query or a POST's form body. Each name
// may appear once: no client sends one twice, and a server that picked one
// of them would hide the client's bug.
func queryParameters(w http.ResponseWriter, r *http.Request) (map[string]string, error) {
	raw := r.URL.RawQuery
	if r.Method == http.MethodPost {
		body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, maxQueryBytes))
		if err != nil {
			return nil, errInvalidParameterValue("request body unreadable or larger than %d bytes: %v", maxQueryBytes, err)
		}
		raw = string(body)
	}
	values, err := url.ParseQuery(raw)
	if err != nil {
		return nil, errMalformedQueryString(err)
	}
	params := make(map[string]string, len(values))
	for name, v := range values {
		if len(v) > 1 {
			return nil, errInvalidQueryParameter("The parameter %s appears %d times; each parameter may appear once.", name, len(v))
		}
		params[name] = v[0]
	}
	return params, nil
}

// queueFromPath lets the request path name the queue: a queue URL is also
// an endpoint, and older clients send queue actions to it. When the
// request also carries QueueUrl, the two must agree.
func queueFromPath(params map[string]string, base, path string) error {
	p := strings.Trim(path, "/")
	if p == "" {
		return nil
	}
	q, ok := params["QueueUrl"]
	if !ok {
		params["QueueUrl"] = base + "/" + p
		return nil
	}
	u, err := url.Parse(q)
	if err != nil || strings.Trim(u.Path, "/") != p {
		return errInvalidParameterValue("Value %s for parameter QueueUrl is invalid. Reason: the request was sent to %s, another queue's URL.", q, path)
	}
	return nil
}

// ---- parameters to input structs ----

// queryField is how one struct field travels in the Query protocol.
type queryField struct {
	name       string // parameter or element name; for lists and maps, each member's
	key, value string // names of a map entry's two members
	tagged     bool   // has a query tag: lists and maps must
	omitEmpty  bool
}

func fieldOf(f reflect.StructField) (queryField, bool) {
	name, opts, _ := strings.Cut(f.Tag.Get("json"), ",")
	if name == "-" {
		return queryField{}, false
	}
	if name == "" {
		name = f.Name
	}
	qf := queryField{name: name, omitEmpty: strings.Contains(","+opts+",", ",omitempty,")}
	if tag, ok := f.Tag.Lookup("query"); ok {
		if tag == "-" {
			return queryField{}, false
		}
		parts := strings.Split(tag, ",")
		qf.name, qf.tagged = parts[0], true
		if len(parts) == 3 {
			qf.key, qf.value = parts[1], parts[2]
		}
	}
	return qf, true
}

type queryParams map[string]string

// decodeQuery fills the struct in points to. Parameters it does not know
// are ignored, as the JSON side ignores unknown members.
func decodeQuery(params map[string]string, in any) error {
	v := reflect.ValueOf(in)
	if v.Kind() != reflect.Pointer || v.Elem().Kind() != reflect.Struct {
		return fmt.Errorf("sqslocal: decode query parameters into %T: want a pointer to a struct", in)
	}
	return queryParams(params).decodeStruct("", v.Elem())
}

func (p queryParams) decodeStruct(prefix string, v reflect.Value) error {
	t := v.Type()
	for i := range t.NumField() {
		f := t.Field(i)
		if f.Anonymous {
			if err := p.decodeStruct(prefix, v.Field(i)); err != nil {
				return err
			}
			continue
		}
		qf, ok := fieldOf(f)
		if !ok || !f.IsExported() {
			continue
		}
		if err := p.decode(prefix+qf.name, qf, v.Field(i)); err != nil {
			return err
		}
	}
	return nil
}

func (p queryParams) decode(key string, qf queryField, v reflect.Value) error {
	switch v.Kind() {
	case reflect.Pointer:
		if _, ok := p[key]; !ok {
			return nil
		}
		n := reflect.New(v.Type().Elem())
		if err := p.decode(key, qf, n.Elem()); err != nil {
			return err
		}
		v.Set(n)
	case reflect.String:
		if s, ok := p[key]; ok {
			v.SetString(s)
		}
	case reflect.Int, reflect.Int64:
		s, ok := p[key]
		if !ok {
			return nil
		}
		n, err := strconv.ParseInt(s, 10, v.Type().Bits())
		if err != nil {
			return errInvalidParameterValue("Value %s for parameter %s is invalid. Reason: must be an integer.", s, key)
		}
		v.SetInt(n)
	case reflect.Struct:
		return p.decodeStruct(key+".", v)
	case reflect.Slice:
		if v.Type().Elem().Kind() == reflect.Uint8 {
			s, ok := p[key]
			if !ok {
				return nil
			}
			b, err := base64.StdEncoding.DecodeString(s)
			if err != nil {
				return errInvalidParameterValue("Value for parameter %s is invalid. Reason: binary values are base64-encoded.", key)
			}
			v.SetBytes(b)
			return nil
		}
		if !qf.tagged {
			return fmt.Errorf("sqslocal: list field for %s has no query tag", key)
		}
		n, err := p.count(key)
		if err != nil || n == 0 {
			return err
		}
		list := reflect.MakeSlice(v.Type(), n, n)
		for i := range n {
			if err := p.decode(key+"."+strconv.Itoa(i+1), queryField{}, list.Index(i)); err != nil {
				return err
			}
		}
		v.Set(list)
	case reflect.Map:
		if !qf.tagged || qf.key == "" {
			return fmt.Errorf("sqslocal: map field for %s has no query tag naming its key and value", key)
		}
		n, err := p.count(key)
		if err != nil || n == 0 {
			return err
		}
		m := reflect.MakeMapWithSize(v.Type(), n)
		for i := range n {
			entry := key + "." + strconv.Itoa(i+1) + "."
			k, ok := p[entry+qf.key]
			if !ok {
				return errMissingParameter(entry + qf.key)
			}
			if m.MapIndex(reflect.ValueOf(k)).IsValid() {
				return errInvalidParameterValue("Value %s for parameter %s is invalid. Reason: the name appears twice in %s.", k, entry+qf.key, key)
			}
			val := reflect.New(v.Type().Elem()).Elem()
			if _, ok := p[entry+qf.value]; !ok && val.Kind() == reflect.String {
				return errMissingParameter(entry + qf.value)
			}
			if err := p.decode(entry+qf.value, queryField{}, val); err != nil {
				return err
			}
			m.SetMapIndex(reflect.ValueOf(k), val)
		}
		v.Set(m)
	default:
		return fmt.Errorf("sqslocal: no query decoding for %s (%s)", key, v.Type())
	}
	return nil
}

// count returns how many members the flattened list or map key has. SQS
// numbers them from 1; sqslocal insists on 1..n without gaps or leading
// zeros, which every client sends, rather than guess what a gap means.
func (p queryParams) count(key string) (int, error) {
	prefix := key + "."
	seen := map[int]bool{}
	for name := range p {
		rest, ok := strings.CutPrefix(name, prefix)
		if !ok {
			continue
		}
		idx, _, _ := strings.Cut(rest, ".")
		i, err := strconv.Atoi(idx)
		if err != nil || i < 1 || strconv.Itoa(i) != idx {
			return 0, errInvalidQueryParameter("The parameter %s is malformed: members of %s are numbered %s1, %s2, and so on.", name, key, prefix, prefix)
		}
		seen[i] = true
	}
	for i := 1; i <= len(seen); i++ {
		if !seen[i] {
			return 0, errInvalidQueryParameter("The parameters of %s skip %s%d: members are numbered from 1 without gaps.", key, prefix, i)
		}
	}
	return len(seen), nil
}

// ---- output structs to XML ----

// writeXML answers with <OpResponse><OpResult>...</OpResult><ResponseMetadata>,
// leaving out OpResult for operations whose output is empty, as SQS does.
// It returns the status written.
func (s *Server) writeXML(w http.ResponseWriter, requestID, op string, out any) int {
	var buf bytes.Buffer
	buf.WriteString(`<?xml version="1.0"?>`)
	fmt.Fprintf(&buf, `<%sResponse xmlns="%s">`, op, queryNamespace)
	v := reflect.ValueOf(out)
	if v.Kind() == reflect.Struct && v.NumField() > 0 {
		fmt.Fprintf(&buf, "<%sResult>", op)
		if err := writeFields(&buf, v); err != nil {
			ae := s.asAPIError(op, requestID, fmt.Errorf("encode %s result as XML: %w", op, err))
			writeXMLError(w, requestID, ae)
			return ae.status
		}
		fmt.Fprintf(&buf, "</%sResult>", op)
	}
	buf.WriteString("<ResponseMetadata><RequestId>")
	writeText(&buf, requestID)
	fmt.Fprintf(&buf, "</RequestId></ResponseMetadata></%sResponse>", op)
	writeXMLBody(w, requestID, http.StatusOK, buf.Bytes())
	return http.StatusOK
}

// writeXMLError writes the Query protocol's error document. Its Code is
// the legacy code that the JSON protocol carries in x-amzn-query-error,
// and the status is the same in both protocols.
func writeXMLError(w http.ResponseWriter, requestID string, e *apiError) {
	var buf bytes.Buffer
	buf.WriteString(`<?xml version="1.0"?>`)
	fmt.Fprintf(&buf, `<ErrorResponse xmlns="%s"><Error><Type>%s</Type><Code>`, queryNamespace, e.faultName())
	writeText(&buf, e.queryCode)
	buf.WriteString("</Code><Message>")
	writeText(&buf, e.message)
	buf.WriteString("</Message><Detail/></Error><RequestId>")
	writeText(&buf, requestID)
	buf.WriteString("</RequestId></ErrorResponse>")
	writeXMLBody(w, requestID, e.status, buf.Bytes())
}

func writeXMLBody(w http.ResponseWriter, requestID string, status int, body []byte) {
	h := w.Header()
	h.Set("Content-Type", xmlType)
	h.Set("X-Amzn-RequestId", requestID)
	w.WriteHeader(status)
	_, _ = w.Write(body)
}

// writeText escapes s as XML character data. encoding/xml also escapes
// CR, LF and tab, so a body keeps them through the client's XML parser.
func writeText(buf *bytes.Buffer, s string) {
	_ = xml.EscapeText(buf, []byte(s)) // writes to a bytes.Buffer never fail
}

func writeFields(buf *bytes.Buffer, v reflect.Value) error {
	t := v.Type()
	for i := range t.NumField() {
		f := t.Field(i)
		if f.Anonymous {
			if err := writeFields(buf, v.Field(i)); err != nil {
				return err
			}
			continue
		}
		qf, ok := fieldOf(f)
		if !ok || !f.IsExported() {
			continue
		}
		fv := v.Field(i)
		if qf.omitEmpty && isEmpty(fv) {
			continue
		}
		if err := writeValue(buf, qf, fv); err != nil {
			return err
		}
	}
	return nil
}

func isEmpty(v reflect.Value) bool {
	switch v.Kind() {
	case reflect.Slice, reflect.Map, reflect.String:
		return v.Len() == 0
	}
	return v.IsZero()
}

func writeValue(buf *bytes.Buffer, qf queryField, v reflect.Value) error {
	switch v.Kind() {
	case reflect.Pointer:
		if v.IsNil() {
			return nil
		}
		return writeValue(buf, qf, v.Elem())
	case reflect.String:
		writeElement(buf, qf.name, v.String())
	case reflect.Int, reflect.Int64:
		writeElement(buf, qf.name, strconv.FormatInt(v.Int(), 10))
	case reflect.Bool:
		writeElement(buf, qf.name, strconv.FormatBool(v.Bool()))
	case reflect.Struct:
		fmt.Fprintf(buf, "<%s>", qf.name)
		if err := writeFields(buf, v); err != nil {
			return err
		}
		fmt.Fprintf(buf, "</%s>", qf.name)
	case reflect.Slice:
		if v.Type().Elem().Kind() == reflect.Uint8 {
			writeElement(buf, qf.name, base64.StdEncoding.EncodeToString(v.Bytes()))
			return nil
		}
		if !qf.tagged {
			return fmt.Errorf("list field %s has no query tag", qf.name)
		}
		for i := range v.Len() {
			if err := writeValue(buf, queryField{name: qf.name}, v.Index(i)); err != nil {
				return err
			}
		}
	case reflect.Map:
		if !qf.tagged || qf.key == "" {
			return fmt.Errorf("map field %s has no query tag naming its key and value", qf.name)
		}
		keys := make([]string, 0, v.Len())
		for _, k := range v.MapKeys() {
			keys = append(keys, k.String())
		}
		sort.Strings(keys)
		for _, k := range keys {
			fmt.Fprintf(buf, "<%s>", qf.name)
			writeElement(buf, qf.key, k)
			if err := writeValue(buf, queryField{name: qf.value}, v.MapIndex(reflect.ValueOf(k))); err != nil {
				return err
			}
			fmt.Fprintf(buf, "</%s>", qf.name)
		}
	default:
		return errors.New("no XML encoding for field " + qf.name + " of type " + v.Type().String())
	}
	return nil
}

func writeElement(buf *bytes.Buffer, name, text string) {
	fmt.Fprintf(buf, "<%s>", name)
	writeText(buf, text)
	fmt.Fprintf(buf, "</%s>", name)
}
