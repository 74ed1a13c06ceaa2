// Package stslocal answers the one STS call the product makes:
// GetCallerIdentity, with which otpctl templates publish and rollback
// record who moved a template set's pointer. It speaks STS's Query
// protocol (a form POST, an XML answer), as every SDK and the AWS CLI do.
//
// otp-local checks no signature, so the caller is whoever the access key
// says: arn:aws:iam::000000000000:user/<access key id>. Any other action
// is InvalidAction, as STS answers an action it does not have.
package stslocal

import (
	"crypto/rand"
	"encoding/hex"
	"encoding/xml"
	"net/http"

	"github.com/cognito-email-otp/cognito-email-otp/deploy/local/awslocal"
)

// Version is the STS API version every client sends.
const Version = "2011-06-15"

const xmlns = "https://sts.amazonaws.com/doc/2011-06-15/"

// DefaultAccountID is the account otp-local's other ARNs name too.
const DefaultAccountID = "000000000000"

// Server answers STS requests.
type Server struct {
	// AccountID is the caller's account; DefaultAccountID when empty.
	AccountID string
}

// IsRequest reports whether r was signed for STS. Unsigned requests are
// not claimed: STS answers them with an authentication error, and on
// otp-local's port they fall through to the pages.
func (s *Server) IsRequest(r *http.Request) bool {
	service, ok := awslocal.SignedService(r)
	return ok && service == "sts"
}

type identityResponse struct {
	XMLName xml.Name `xml:"GetCallerIdentityResponse"`
	Xmlns   string   `xml:"xmlns,attr"`
	Result  struct {
		Arn     string `xml:"Arn"`
		UserID  string `xml:"UserId"`
		Account string `xml:"Account"`
	} `xml:"GetCallerIdentityResult"`
	RequestID string `xml:"ResponseMetadata>RequestId"`
}

type errorResponse struct {
	XMLName xml.Name `xml:"ErrorResponse"`
	Xmlns   string   `xml:"xmlns,attr"`
	Error   struct {
		Type    string `xml:"Type"`
		Code    string `xml:"Code"`
		Message string `xml:"Message"`
	} `xml:"Error"`
	RequestID string `xml:"RequestId"`
}

// ServeHTTP answers one STS Query request.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodPost && r.Method != http.MethodGet {
		s.fail(w, http.StatusMethodNotAllowed, "InvalidAction", "STS takes POST or GET.")
		return
	}
	r.Body = http.MaxBytesReader(w, r.Body, 64<<10)
	if err := r.ParseForm(); err != nil {
		s.fail(w, http.StatusBadRequest, "MalformedInput", "The request is not a valid form: "+err.Error())
		return
	}
	switch action, version := r.Form.Get("Action"), r.Form.Get("Version"); {
	case action == "":
		s.fail(w, http.StatusBadRequest, "MissingAction", "Missing Action")
	case version != Version:
		s.fail(w, http.StatusBadRequest, "InvalidAction", "Could not find operation "+action+" for version "+version)
	case action != "GetCallerIdentity":
		s.fail(w, http.StatusBadRequest, "InvalidAction", "Could not find operation "+action+" for version "+version+" (otp-local answers only GetCallerIdentity)")
	default:
		key := awslocal.AccessKeyID(r)
		out := identityResponse{Xmlns: xmlns, RequestID: requestID()}
		out.Result.Account = s.account()
		out.Result.UserID = key
		out.Result.Arn = "arn:aws:iam::" + s.account() + ":user/" + key
		write(w, http.StatusOK, out)
	}
}

func (s *Server) account() string {
	if s.AccountID == "" {
		return DefaultAccountID
	}
	return s.AccountID
}

func (s *Server) fail(w http.ResponseWriter, status int, code, msg string) {
	e := errorResponse{Xmlns: xmlns, RequestID: requestID()}
	e.Error.Type, e.Error.Code, e.Error.Message = "Sender", code, msg
	write(w, status, e)
}

func write(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "text/xml")
	w.WriteHeader(status)
	_, _ = w.Write([]byte(xml.Header))
	_ = xml.NewEncoder(w).Encode(v)
}

func requestID() string {
	b := make([]byte, 16)
	_, _ = rand.Read(b)
	h := hex.EncodeToString(b)
	return h[:8] + "-" + h[8:12] + "-" + h[12:16] + "-" + h[16:20] + "-" + h[20:]
}
