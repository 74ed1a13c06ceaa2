package seslocal

import (
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
)

// The read-only operations seslocal answers besides SendEmail: enough of
// the account for a deployment check or a test to ask SES what it would
// do, in the member names and shapes of the SES v2 model.

// getAccountOutput is GetAccount's response.
type getAccountOutput struct {
	DedicatedIpAutoWarmupEnabled bool `json:"DedicatedIpAutoWarmupEnabled"`
	EnforcementStatus            string
	ProductionAccessEnabled      bool
	SendQuota                    struct {
		Max24HourSend   float64
		MaxSendRate     float64
		SentLast24Hours float64
	}
	SendingEnabled        bool
	SuppressionAttributes struct {
		SuppressedReasons []string
	}
}

func (s *Server) getAccount() (any, *apiError) {
	var out getAccountOutput
	q := s.account.quota.snapshot()
	out.EnforcementStatus = "HEALTHY"
	out.ProductionAccessEnabled = !s.account.sandbox
	out.SendQuota.Max24HourSend, out.SendQuota.MaxSendRate, out.SendQuota.SentLast24Hours = q.Max24HourSend, q.MaxSendRate, q.SentLast24Hours
	out.SendingEnabled = !s.account.sendingPaused
	// Accounts created since November 2019 suppress both by default.
	out.SuppressionAttributes.SuppressedReasons = []string{"BOUNCE", "COMPLAINT"}
	return out, nil
}

type dkimAttributes struct {
	SigningEnabled          bool
	Status                  string
	Tokens                  []string `json:",omitempty"`
	SigningAttributesOrigin string
	NextSigningKeyLength    string
	CurrentSigningKeyLength string `json:",omitempty"`
}

type mailFromAttributes struct {
	MailFromDomain       string `json:",omitempty"`
	MailFromDomainStatus string `json:",omitempty"`
	BehaviorOnMxFailure  string
}

type getEmailIdentityOutput struct {
	IdentityType             string
	FeedbackForwardingStatus bool
	VerifiedForSendingStatus bool
	DkimAttributes           dkimAttributes
	MailFromAttributes       mailFromAttributes
	Policies                 map[string]string
	Tags                     []struct{}
	ConfigurationSetName     string `json:",omitempty"`
	VerificationStatus       string
	VerificationInfo         struct{}
}

func identityType(id Identity) string {
	if id.IsDomain() {
		return "DOMAIN"
	}
	return "EMAIL_ADDRESS"
}

func (s *Server) getEmailIdentity(name string) (any, *apiError) {
	id, ok := s.account.identities[strings.ToLower(name)]
	if !ok {
		return nil, &apiError{http.StatusNotFound, "NotFoundException", fmt.Sprintf("Identity %s does not exist.", name)}
	}
	out := getEmailIdentityOutput{
		IdentityType:             identityType(id),
		FeedbackForwardingStatus: true,
		VerifiedForSendingStatus: id.verified(),
		Policies:                 map[string]string{},
		Tags:                     []struct{}{},
		ConfigurationSetName:     id.ConfigurationSet,
		VerificationStatus:       id.Status,
	}
	signing, status, domainKey := s.account.dkim(id)
	out.DkimAttributes = dkimAttributes{SigningEnabled: signing, Status: status, SigningAttributesOrigin: "AWS_SES", NextSigningKeyLength: "RSA_1024_BIT"}
	if domainKey {
		out.DkimAttributes.NextSigningKeyLength, out.DkimAttributes.CurrentSigningKeyLength = "RSA_2048_BIT", "RSA_2048_BIT"
		out.DkimAttributes.Tokens = dkimTokens(id.Name)
	}
	out.MailFromAttributes.BehaviorOnMxFailure = "USE_DEFAULT_VALUE"
	if id.MailFromDomain != "" {
		out.MailFromAttributes.MailFromDomain, out.MailFromAttributes.MailFromDomainStatus = id.MailFromDomain, id.MailFromStatus
		if id.MailFromRejectOnMXFailure {
			out.MailFromAttributes.BehaviorOnMxFailure = "REJECT_MESSAGE"
		}
	}
	return out, nil
}

// dkimTokens stands in for the three Easy DKIM selectors; derived from the
// name, they stay the same across restarts like the real ones.
func dkimTokens(name string) []string {
	out := make([]string, 3)
	for i := range out {
		h := sha256.Sum256([]byte(fmt.Sprintf("%d/%s", i, name)))
		out[i] = hex.EncodeToString(h[:16])
	}
	return out
}

type identityInfo struct {
	IdentityType       string
	IdentityName       string
	SendingEnabled     bool
	VerificationStatus string
}

type listEmailIdentitiesOutput struct {
	EmailIdentities []identityInfo
	NextToken       string `json:",omitempty"`
}

// SES v2 takes PageSize from 0 to 1000; it does not document the default.
const (
	defaultPageSize = 100
	maxPageSize     = 1000
)

// The list operations' NextToken is the next key (name, address, ARN),
// so a page boundary survives nothing moving; pageStart reads it back.
func nextToken(key string) string { return base64.RawURLEncoding.EncodeToString([]byte(key)) }

func pageStart(token string) (string, *apiError) {
	if token == "" {
		return "", nil
	}
	b, err := base64.RawURLEncoding.DecodeString(token)
	if err != nil || len(b) == 0 {
		return "", badRequest("Invalid NextToken.")
	}
	return string(b), nil
}

// listEmailIdentities pages through the identities in name order. The
// token is the next name, so a page boundary survives nothing moving.
func (s *Server) listEmailIdentities(pageSize int, token string, filter map[string]string) (any, *apiError) {
	if pageSize < 0 || pageSize > maxPageSize {
		return nil, badRequest("PageSize must be between 0 and %d, got %d.", maxPageSize, pageSize)
	}
	if pageSize == 0 {
		pageSize = defaultPageSize
	}
	start, aerr := pageStart(token)
	if aerr != nil {
		return nil, aerr
	}
	for k := range filter {
		switch k {
		case "IDENTITY_NAME_CONTAINS", "IDENTITY_TYPE", "VERIFICATION_STATUS":
		default:
			return nil, badRequest("Invalid filter key %s: valid keys are IDENTITY_NAME_CONTAINS, IDENTITY_TYPE and VERIFICATION_STATUS.", k)
		}
	}
	out := listEmailIdentitiesOutput{EmailIdentities: []identityInfo{}}
	for _, name := range s.account.names {
		if name < start {
			continue
		}
		id := s.account.identities[name]
		if v, ok := filter["IDENTITY_NAME_CONTAINS"]; ok && !strings.Contains(name, strings.ToLower(v)) {
			continue
		}
		if v, ok := filter["IDENTITY_TYPE"]; ok && v != identityType(id) {
			continue
		}
		if v, ok := filter["VERIFICATION_STATUS"]; ok && v != id.Status {
			continue
		}
		if len(out.EmailIdentities) == pageSize {
			out.NextToken = nextToken(name)
			break
		}
		out.EmailIdentities = append(out.EmailIdentities, identityInfo{
			IdentityType: identityType(id), IdentityName: id.Name, SendingEnabled: id.verified(), VerificationStatus: id.Status,
		})
	}
	return out, nil
}

type getConfigurationSetOutput struct {
	ConfigurationSetName string
	ReputationOptions    struct{ ReputationMetricsEnabled bool }
	SendingOptions       struct{ SendingEnabled bool }
	Tags                 []struct{}
}

func (s *Server) getConfigurationSet(name string) (any, *apiError) {
	if !s.account.configSets[name] {
		return nil, configSetNotFound(name)
	}
	out := getConfigurationSetOutput{ConfigurationSetName: name, Tags: []struct{}{}}
	out.ReputationOptions.ReputationMetricsEnabled = true
	out.SendingOptions.SendingEnabled = true
	return out, nil
}

func configSetNotFound(name string) *apiError {
	return &apiError{http.StatusNotFound, "NotFoundException", fmt.Sprintf("Configuration set <%s> does not exist.", name)}
}

// operation is one API call, given its request body.
type operation func(body []byte) (any, *apiError)

// route finds the operation other than SendEmail for a request; ok is
// false for a path and method seslocal does not implement.
func (s *Server) route(r *http.Request) (op operation, ok bool) {
	const identities, configSets = PathPrefix + "identities", PathPrefix + "configuration-sets/"
	p, ep := r.URL.Path, r.URL.EscapedPath() // labels are cut from the escaped path, then unescaped once
	if op, ok := s.routeEvents(r, ep); ok {
		return op, true
	}
	if op, ok := s.routeTenants(r); ok {
		return op, true
	}
	switch {
	case r.Method == http.MethodGet && p == PathPrefix+"account":
		return func([]byte) (any, *apiError) { return s.getAccount() }, true
	case r.Method == http.MethodGet && p == identities:
		// Before sesv2 v1.77 (and in older JS SDKs) ListEmailIdentities is
		// a GET with query parameters.
		return func([]byte) (any, *apiError) {
			q := r.URL.Query()
			size := 0
			if v := q.Get("PageSize"); v != "" {
				n, err := strconv.Atoi(v)
				if err != nil {
					return nil, badRequest("PageSize must be an integer, got %q.", v)
				}
				size = n
			}
			return s.listEmailIdentities(size, q.Get("NextToken"), nil)
		}, true
	case r.Method == http.MethodPost && p == PathPrefix+"list-identities":
		return func(body []byte) (any, *apiError) {
			var in struct {
				Filter    map[string]string `json:"Filter"`
				NextToken string            `json:"NextToken"`
				PageSize  *int              `json:"PageSize"`
			}
			if len(body) > 0 {
				if err := json.Unmarshal(body, &in); err != nil {
					return nil, badRequest("request body is not a valid ListEmailIdentities request: %v", err)
				}
			}
			size := 0
			if in.PageSize != nil {
				size = *in.PageSize
			}
			return s.listEmailIdentities(size, in.NextToken, in.Filter)
		}, true
	case r.Method == http.MethodGet && strings.HasPrefix(ep, identities+"/") && !strings.Contains(ep[len(identities)+1:], "/"):
		return func([]byte) (any, *apiError) {
			name, err := url.PathUnescape(ep[len(identities)+1:])
			if err != nil || name == "" {
				return nil, badRequest("Invalid EmailIdentity in the path %s.", ep)
			}
			return s.getEmailIdentity(name)
		}, true
	case r.Method == http.MethodGet && strings.HasPrefix(ep, configSets) && !strings.Contains(ep[len(configSets):], "/"):
		return func([]byte) (any, *apiError) {
			name, err := url.PathUnescape(ep[len(configSets):])
			if err != nil || name == "" {
				return nil, badRequest("Invalid ConfigurationSetName in the path %s.", ep)
			}
			return s.getConfigurationSet(name)
		}, true
	}
	return nil, false
}

// routeEvents finds the event destination and suppression list
// operations.
func (s *Server) routeEvents(r *http.Request, ep string) (operation, bool) {
	const suppression, configSets = PathPrefix + "suppression/addresses", PathPrefix + "configuration-sets/"
	label := func(l string) (string, *apiError) {
		v, err := url.PathUnescape(l)
		if err != nil || v == "" {
			return "", badRequest("Invalid path label in %s.", ep)
		}
		return v, nil
	}
	with := func(l string, f func(string) (any, *apiError)) operation {
		return func([]byte) (any, *apiError) {
			v, aerr := label(l)
			if aerr != nil {
				return nil, aerr
			}
			return f(v)
		}
	}
	switch {
	case ep == suppression && r.Method == http.MethodPut:
		return s.putSuppressedDestination, true
	case ep == suppression && r.Method == http.MethodGet:
		return func([]byte) (any, *apiError) { return s.listSuppressedDestinations(r.URL.Query()) }, true
	case strings.HasPrefix(ep, suppression+"/") && !strings.Contains(ep[len(suppression)+1:], "/"):
		addr := ep[len(suppression)+1:]
		switch r.Method {
		case http.MethodGet:
			return with(addr, s.getSuppressedDestination), true
		case http.MethodDelete:
			return with(addr, s.deleteSuppressedDestination), true
		}
	case strings.HasPrefix(ep, configSets):
		set, rest, _ := strings.Cut(ep[len(configSets):], "/")
		name, found := strings.CutPrefix(rest, "event-destinations")
		if !found || set == "" {
			return nil, false
		}
		switch {
		case name == "" && r.Method == http.MethodPost:
			return func(body []byte) (any, *apiError) {
				v, aerr := label(set)
				if aerr != nil {
					return nil, aerr
				}
				return s.createEventDestination(v, body)
			}, true
		case name == "" && r.Method == http.MethodGet:
			return with(set, s.getEventDestinations), true
		case strings.HasPrefix(name, "/") && !strings.Contains(name[1:], "/"):
			setName, aerr := label(set)
			switch r.Method {
			case http.MethodPut:
				return func(body []byte) (any, *apiError) {
					if aerr != nil {
						return nil, aerr
					}
					return with(name[1:], func(n string) (any, *apiError) { return s.updateEventDestination(setName, n, body) })(body)
				}, true
			case http.MethodDelete:
				return func(body []byte) (any, *apiError) {
					if aerr != nil {
						return nil, aerr
					}
					return with(name[1:], func(n string) (any, *apiError) { return s.deleteEventDestination(setName, n) })(body)
				}, true
			}
		}
	}
	return nil, false
}
