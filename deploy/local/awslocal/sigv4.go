package awslocal

import (
	"net/http"
	"regexp"
	"strings"
)

// credentialScopeRE finds the service in a SigV4 Authorization header's
// credential scope: Credential=<key>/<date>/<region>/<service>/aws4_request.
var credentialScopeRE = regexp.MustCompile(`Credential=[^/,\s]+/\d{8}/[^/,\s]+/([a-z0-9-]+)/aws4_request`)

// SignedService returns the service a request was signed for with SigV4,
// in its Authorization header or presigned (X-Amz-Credential), and whether
// it was signed at all. On one port serving several AWS APIs it is what
// tells a REST API such as S3 (whose paths are bucket names) from the
// Query APIs and the pages.
func SignedService(r *http.Request) (string, bool) {
	if auth := r.Header.Get("Authorization"); auth != "" {
		if m := credentialScopeRE.FindStringSubmatch(auth); m != nil {
			return m[1], true
		}
		return "", false
	}
	if cred := r.URL.Query().Get("X-Amz-Credential"); cred != "" {
		if parts := strings.Split(cred, "/"); len(parts) == 5 && parts[4] == "aws4_request" {
			return parts[3], true
		}
	}
	return "", false
}

// AccessKeyID is the access key a SigV4 request was signed with; "" if it
// was not.
func AccessKeyID(r *http.Request) string {
	cred := r.URL.Query().Get("X-Amz-Credential")
	if auth := r.Header.Get("Authorization"); auth != "" {
		_, after, ok := strings.Cut(auth, "Credential=")
		if !ok {
			return ""
		}
		cred = after
	}
	key, _, ok := strings.Cut(cred, "/")
	if !ok {
		return ""
	}
	return key
}
