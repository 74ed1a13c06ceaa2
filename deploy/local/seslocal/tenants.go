package seslocal

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net/http"
	"net/mail"
	"regexp"
	"sort"
	"strings"
	"sync"
	"time"
	"unicode/utf8"
)

// SES tenants (SES v2 multi-tenant sending): a tenant groups identities,
// configuration sets and templates, and a SendEmail that names a
// TenantName succeeds only if every resource it uses is associated with
// that tenant. Tenants live in the server's region (Options.Region) and
// account (Options.AccountID); their ARNs, and the resource ARNs they are
// associated with, name those. Like the identities, they live in memory:
// Options.Tenants seeds them at New.

// Tenant sending statuses (SES v2 SendingStatus).
const (
	TenantEnabled    = "ENABLED"
	TenantReinstated = "REINSTATED"
	TenantDisabled   = "DISABLED"
)

// Resource types of tenant resources (SES v2 ResourceType).
const (
	ResourceEmailIdentity    = "EMAIL_IDENTITY"
	ResourceConfigurationSet = "CONFIGURATION_SET"
	ResourceEmailTemplate    = "EMAIL_TEMPLATE"
)

// Tenant seeds an SES tenant at New.
type Tenant struct {
	// Name is 1 to 64 letters, digits, '-' or '_'.
	Name string
	// Resources are the ARNs of the identities and configuration sets
	// associated with the tenant: arn:aws:ses:REGION:ACCOUNT:identity/NAME
	// or ...:configuration-set/NAME, of the server's region and account.
	// Each must be one of Options' identities or configuration sets.
	Resources []string
	// SendingStatus is TenantEnabled (""), TenantReinstated or
	// TenantDisabled; a disabled tenant's sends fail with
	// SendingPausedException.
	SendingStatus string
}

// TenantInfo is a tenant as the server holds it now.
type TenantInfo struct {
	Name, ID, ARN string
	SendingStatus string
	Created       time.Time
	Tags          map[string]string
	// Resources are the associated resources in ARN order.
	Resources []TenantResource
}

// TenantResource is one resource associated with a tenant.
type TenantResource struct {
	ARN        string
	Type       string // ResourceEmailIdentity, ResourceConfigurationSet
	Associated time.Time
}

var tenantNameRE = regexp.MustCompile(`^[A-Za-z0-9_-]{1,64}$`)

// tenantTag is a tag of a tenant, in the SES v2 Tag shape.
type tenantTag struct {
	Key   string `json:"Key"`
	Value string `json:"Value"`
}

type tenant struct {
	name, id, arn, status string
	created               time.Time
	tags                  []tenantTag
	resources             map[string]TenantResource // by canonical ARN
}

func (t *tenant) info() TenantInfo {
	ti := TenantInfo{Name: t.name, ID: t.id, ARN: t.arn, SendingStatus: t.status, Created: t.created}
	if len(t.tags) > 0 {
		ti.Tags = map[string]string{}
		for _, tg := range t.tags {
			ti.Tags[tg.Key] = tg.Value
		}
	}
	for _, r := range t.resources {
		ti.Resources = append(ti.Resources, r)
	}
	sort.Slice(ti.Resources, func(i, j int) bool { return ti.Resources[i].ARN < ti.Resources[j].ARN })
	return ti
}

// tenantStore holds the account's tenants; unlike the account, they change
// at runtime, so they have their own lock.
type tenantStore struct {
	mu  sync.RWMutex
	m   map[string]*tenant
	now func() time.Time
}

func tenantNotFound(name string) *apiError {
	return &apiError{http.StatusNotFound, "NotFoundException", fmt.Sprintf("Tenant %s does not exist.", name)}
}

func checkTenantName(name string) *apiError {
	if !tenantNameRE.MatchString(name) {
		return badRequest("Invalid TenantName %q: a tenant name is 1 to 64 letters, digits, '-' or '_'.", name)
	}
	return nil
}

// partition is the ARN partition of a region.
func partition(region string) string {
	switch {
	case strings.HasPrefix(region, "cn-"):
		return "aws-cn"
	case strings.HasPrefix(region, "us-gov-"):
		return "aws-us-gov"
	}
	return "aws"
}

// ARN is the ARN of an SES resource: kind is identity, configuration-set,
// template or tenant.
func ARN(region, accountID, kind, name string) string {
	return fmt.Sprintf("arn:%s:ses:%s:%s:%s/%s", partition(region), region, accountID, kind, name)
}

func (s *Server) sesARN(kind, name string) string {
	return ARN(s.region, s.account.accountID, kind, name)
}

// tenantID stands in for SES's tenant IDs, whose format AWS does not
// document. A seeded tenant's ID is derived from its name, so it stays the
// same across restarts; a created one is random, so a tenant deleted and
// created again has a new ID, as in SES.
func tenantID(seed string) string {
	if seed == "" {
		seed = newID()
	}
	h := sha256.Sum256([]byte(seed))
	return "tn-" + hex.EncodeToString(h[:12])
}

var resourceARNRE = regexp.MustCompile(`^arn:(aws|aws-cn|aws-us-gov):ses:([a-z0-9-]+):(\d{12}):(identity|configuration-set|template)/(.+)$`)

// resource resolves a resource ARN to one of the account's resources, its
// ARN made canonical (an identity's name in lower case). SES does not say
// what CreateTenantResourceAssociation does with a resource that does not
// exist; seslocal, stricter, refuses it as not found, and refuses every
// template, having none.
func (s *Server) resource(arn string) (TenantResource, *apiError) {
	m := resourceARNRE.FindStringSubmatch(arn)
	if m == nil {
		return TenantResource{}, badRequest("Invalid ResourceArn %s: a tenant resource is an SES identity, configuration set or template ARN "+
			"(arn:aws:ses:REGION:ACCOUNT:identity/NAME, ...:configuration-set/NAME, ...:template/NAME).", arn)
	}
	if m[1] != partition(s.region) || m[2] != s.region || m[3] != s.account.accountID {
		return TenantResource{}, &apiError{http.StatusNotFound, "NotFoundException",
			fmt.Sprintf("Resource %s does not exist: seslocal is account %s in region %s.", arn, s.account.accountID, s.region)}
	}
	switch name := m[5]; m[4] {
	case "identity":
		id, ok := s.account.identities[strings.ToLower(name)]
		if !ok {
			return TenantResource{}, &apiError{http.StatusNotFound, "NotFoundException", fmt.Sprintf("Identity %s does not exist.", name)}
		}
		return TenantResource{ARN: s.sesARN("identity", id.Name), Type: ResourceEmailIdentity}, nil
	case "configuration-set":
		if !s.account.configSets[name] {
			return TenantResource{}, configSetNotFound(name)
		}
		return TenantResource{ARN: s.sesARN("configuration-set", name), Type: ResourceConfigurationSet}, nil
	default:
		return TenantResource{}, &apiError{http.StatusNotFound, "NotFoundException", fmt.Sprintf("Template %s does not exist.", name)}
	}
}

// seedTenants adds Options.Tenants.
func (s *Server) seedTenants(list []Tenant) error {
	for _, t := range list {
		if aerr := checkTenantName(t.Name); aerr != nil {
			return fmt.Errorf("seslocal: tenant %q: %s", t.Name, aerr.message)
		}
		status := t.SendingStatus
		if status == "" {
			status = TenantEnabled
		}
		if status != TenantEnabled && status != TenantReinstated && status != TenantDisabled {
			return fmt.Errorf("seslocal: tenant %s: SendingStatus %q is not ENABLED, REINSTATED or DISABLED", t.Name, t.SendingStatus)
		}
		nt := s.newTenant(t.Name, tenantID(s.account.accountID+"/"+s.region+"/"+t.Name), nil)
		nt.status = status
		for _, arn := range t.Resources {
			r, aerr := s.resource(arn)
			if aerr != nil {
				return fmt.Errorf("seslocal: tenant %s: resource %s: %s", t.Name, arn, aerr.message)
			}
			if _, dup := nt.resources[r.ARN]; dup {
				return fmt.Errorf("seslocal: tenant %s: resource %s is listed twice", t.Name, arn)
			}
			r.Associated = nt.created
			nt.resources[r.ARN] = r
		}
		if aerr := s.tenants.add(nt); aerr != nil {
			return fmt.Errorf("seslocal: tenant %s is listed twice in Tenants", t.Name)
		}
	}
	return nil
}

func (s *Server) newTenant(name, id string, tags []tenantTag) *tenant {
	return &tenant{name: name, id: id, arn: s.sesARN("tenant", name+"/"+id), status: TenantEnabled,
		created: s.tenants.now().UTC(), tags: tags, resources: map[string]TenantResource{}}
}

func (ts *tenantStore) add(t *tenant) *apiError {
	ts.mu.Lock()
	defer ts.mu.Unlock()
	if ts.m == nil {
		ts.m = map[string]*tenant{}
	}
	if _, ok := ts.m[t.name]; ok {
		return &apiError{http.StatusBadRequest, "AlreadyExistsException", fmt.Sprintf("Tenant %s already exists.", t.name)}
	}
	ts.m[t.name] = t
	return nil
}

// get returns a copy of the tenant.
func (ts *tenantStore) get(name string) (TenantInfo, *apiError) {
	ts.mu.RLock()
	defer ts.mu.RUnlock()
	t, ok := ts.m[name]
	if !ok {
		return TenantInfo{}, tenantNotFound(name)
	}
	return t.info(), nil
}

// with runs f on the tenant under the write lock.
func (ts *tenantStore) with(name string, f func(*tenant) *apiError) *apiError {
	ts.mu.Lock()
	defer ts.mu.Unlock()
	t, ok := ts.m[name]
	if !ok {
		return tenantNotFound(name)
	}
	return f(t)
}

func (ts *tenantStore) remove(name string) *apiError {
	ts.mu.Lock()
	defer ts.mu.Unlock()
	if _, ok := ts.m[name]; !ok {
		return tenantNotFound(name)
	}
	delete(ts.m, name)
	return nil
}

func (ts *tenantStore) all() []TenantInfo {
	ts.mu.RLock()
	defer ts.mu.RUnlock()
	out := make([]TenantInfo, 0, len(ts.m))
	for _, t := range ts.m {
		out = append(out, t.info())
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out
}

// Tenants returns the SES tenants in name order, with their resources.
func (s *Server) Tenants() []TenantInfo { return s.tenants.all() }

// sendingTenant applies a SendEmail's TenantName: the tenant must exist
// and not be disabled. AWS does not document the error for a tenant that
// does not exist; seslocal's NotFoundException is its stricter reading
// (a send through no tenant at all is never what was meant).
func (s *Server) sendingTenant(name string) (TenantInfo, *apiError) {
	if aerr := checkTenantName(name); aerr != nil {
		return TenantInfo{}, aerr
	}
	t, aerr := s.tenants.get(name)
	if aerr != nil {
		return TenantInfo{}, aerr
	}
	if t.SendingStatus == TenantDisabled {
		return TenantInfo{}, &apiError{http.StatusBadRequest, "SendingPausedException", fmt.Sprintf("Sending is paused for tenant %s.", name)}
	}
	return t, nil
}

// resource returns the tenant's association of the resource ARN.
func (t TenantInfo) resource(arn string) (TenantResource, bool) {
	i := sort.Search(len(t.Resources), func(i int) bool { return t.Resources[i].ARN >= arn })
	if i < len(t.Resources) && t.Resources[i].ARN == arn {
		return t.Resources[i], true
	}
	return TenantResource{}, false
}

// associated reports whether the resource ARN is the tenant's.
func (t TenantInfo) associated(arn string) bool {
	_, ok := t.resource(arn)
	return ok
}

// vouching returns the identity SES sends addr through: the one an
// identity ARN names (sending authorization), else the most specific
// verified identity that covers it. The caller has checked that one does.
func (s *Server) vouching(addr, arn string) (Identity, bool) {
	if arn != "" {
		if m := identityARNRE.FindStringSubmatch(arn); m != nil {
			id, ok := s.account.identities[strings.ToLower(m[3])]
			return id, ok
		}
		return Identity{}, false
	}
	if chain := s.account.sender(addr); len(chain) > 0 {
		return chain[0], true
	}
	return Identity{}, false
}

// checkTenantResources refuses a send through a tenant that uses a
// resource not associated with it: the identity of the From address, that
// of the FeedbackForwardingEmailAddress (a referenced identity too: our
// stricter reading) and the configuration set, named or the identity's
// default. AWS does not publish the error code; seslocal answers
// BadRequestException naming the resource's ARN and the tenant.
func (s *Server) checkTenantResources(t TenantInfo, e *Email, in *sendEmailInput, from string, defaultSetOf string) *apiError {
	type use struct{ addr, arn string }
	uses := []use{{from, in.FromEmailAddressIdentityArn}}
	if fb := strings.TrimSpace(in.FeedbackForwardingEmailAddress); fb != "" {
		if a, err := mail.ParseAddress(fb); err == nil {
			uses = append(uses, use{a.Address, in.FeedbackForwardingEmailAddressIdentityArn})
		}
	}
	for _, u := range uses {
		id, ok := s.vouching(u.addr, u.arn)
		if !ok {
			continue
		}
		if arn := s.sesARN("identity", id.Name); !t.associated(arn) {
			return badRequest("Identity %s is not associated with tenant %s.", arn, t.Name)
		}
	}
	if e.ConfigurationSet != "" {
		arn := s.sesARN("configuration-set", e.ConfigurationSet)
		if !t.associated(arn) {
			if defaultSetOf != "" {
				return badRequest("Configuration set %s (the default configuration set of identity %s) is not associated with tenant %s.", arn, defaultSetOf, t.Name)
			}
			return badRequest("Configuration set %s is not associated with tenant %s.", arn, t.Name)
		}
	}
	return nil
}

// The tenant operations. Their requests are JSON bodies; SES documents the
// members but not the errors' words, which are seslocal's.

func decode(body []byte, op string, v any) *apiError {
	if len(body) == 0 {
		body = []byte("{}")
	}
	if err := json.Unmarshal(body, v); err != nil {
		return badRequest("request body is not a valid %s request: %v", op, err)
	}
	return nil
}

// tenantTagRE is the characters SES allows in tag keys and values: Unicode
// letters, digits, white space and _ . : / = + -.
var tenantTagRE = regexp.MustCompile(`^[\p{L}\p{N}\p{Z}\s_.:/=+\-]*$`)

// maxTags is SES's limit of tags per resource.
const maxTags = 50

func checkTags(tags []tenantTag) *apiError {
	if len(tags) > maxTags {
		return badRequest("Too many tags: a resource can have at most %d.", maxTags)
	}
	seen := map[string]bool{}
	for _, t := range tags {
		switch {
		case t.Key == "" || utf8.RuneCountInString(t.Key) > 128:
			return badRequest("Invalid tag key %q: 1 to 128 characters.", t.Key)
		case utf8.RuneCountInString(t.Value) > 256:
			return badRequest("Invalid tag value %q: at most 256 characters.", t.Value)
		case !tenantTagRE.MatchString(t.Key) || !tenantTagRE.MatchString(t.Value):
			return badRequest("Invalid tag %q=%q: letters, digits, white space and _ . : / = + - only.", t.Key, t.Value)
		case strings.HasPrefix(strings.ToLower(t.Key), "aws:"):
			return badRequest("Invalid tag key %q: the aws: prefix is reserved.", t.Key)
		case seen[t.Key]:
			return badRequest("Duplicate tag key %q.", t.Key)
		}
		seen[t.Key] = true
	}
	return nil
}

// tenantOutput is the Tenant shape of GetTenant, and CreateTenant's answer.
type tenantOutput struct {
	TenantName       string
	TenantId         string
	TenantArn        string
	CreatedTimestamp float64
	SendingStatus    string
	Tags             []tenantTag
}

func (s *Server) createTenant(body []byte) (any, *apiError) {
	var in struct {
		TenantName            string          `json:"TenantName"`
		Tags                  []tenantTag     `json:"Tags"`
		SuppressionAttributes json.RawMessage `json:"SuppressionAttributes"`
	}
	if aerr := decode(body, "CreateTenant", &in); aerr != nil {
		return nil, aerr
	}
	if aerr := checkTenantName(in.TenantName); aerr != nil {
		return nil, aerr
	}
	if aerr := checkTags(in.Tags); aerr != nil {
		return nil, aerr
	}
	if len(in.SuppressionAttributes) > 0 && string(in.SuppressionAttributes) != "null" {
		return nil, badRequest("seslocal does not implement tenant-level suppression; create the tenant without SuppressionAttributes.")
	}
	t := s.newTenant(in.TenantName, tenantID(""), in.Tags)
	if aerr := s.tenants.add(t); aerr != nil {
		return nil, aerr
	}
	return tenantOut(t.info(), in.Tags), nil
}

func tenantOut(t TenantInfo, tags []tenantTag) tenantOutput {
	if tags == nil {
		tags = []tenantTag{}
	}
	return tenantOutput{TenantName: t.Name, TenantId: t.ID, TenantArn: t.ARN,
		CreatedTimestamp: epochSeconds(t.Created), SendingStatus: t.SendingStatus, Tags: tags}
}

type tenantNameInput struct {
	TenantName string `json:"TenantName"`
}

func (s *Server) getTenant(body []byte) (any, *apiError) {
	var in tenantNameInput
	if aerr := decode(body, "GetTenant", &in); aerr != nil {
		return nil, aerr
	}
	if aerr := checkTenantName(in.TenantName); aerr != nil {
		return nil, aerr
	}
	s.tenants.mu.RLock()
	defer s.tenants.mu.RUnlock()
	t, ok := s.tenants.m[in.TenantName]
	if !ok {
		return nil, tenantNotFound(in.TenantName)
	}
	return map[string]any{"Tenant": tenantOut(t.info(), append([]tenantTag(nil), t.tags...))}, nil
}

func (s *Server) deleteTenant(body []byte) (any, *apiError) {
	var in tenantNameInput
	if aerr := decode(body, "DeleteTenant", &in); aerr != nil {
		return nil, aerr
	}
	if aerr := checkTenantName(in.TenantName); aerr != nil {
		return nil, aerr
	}
	if aerr := s.tenants.remove(in.TenantName); aerr != nil {
		return nil, aerr
	}
	return struct{}{}, nil
}

// page reads PageSize and NextToken as the tenant lists share them. Their
// PageSize (SES's MaxItems) has no documented range; seslocal takes 1 to
// 1000, default 100, as for the suppression list.
func page(size *int, token string) (int, string, *apiError) {
	n := defaultPageSize
	if size != nil {
		if *size < 1 || *size > maxPageSize {
			return 0, "", badRequest("PageSize must be between 1 and %d, got %d.", maxPageSize, *size)
		}
		n = *size
	}
	start, aerr := pageStart(token)
	return n, start, aerr
}

func (s *Server) listTenants(body []byte) (any, *apiError) {
	var in struct {
		Filter    map[string]string `json:"Filter"`
		NextToken string            `json:"NextToken"`
		PageSize  *int              `json:"PageSize"`
	}
	if aerr := decode(body, "ListTenants", &in); aerr != nil {
		return nil, aerr
	}
	size, start, aerr := page(in.PageSize, in.NextToken)
	if aerr != nil {
		return nil, aerr
	}
	for k, v := range in.Filter {
		switch k {
		case "TENANT_NAME_CONTAINS":
		case "SENDING_STATUS":
			if v != TenantEnabled && v != TenantReinstated && v != TenantDisabled {
				return nil, badRequest("Invalid SENDING_STATUS filter %q: ENABLED, REINSTATED or DISABLED.", v)
			}
		default:
			return nil, badRequest("Invalid filter key %s: valid keys are TENANT_NAME_CONTAINS and SENDING_STATUS.", k)
		}
	}
	type info struct {
		TenantName       string
		TenantId         string
		TenantArn        string
		CreatedTimestamp float64
		SendingStatus    string
	}
	out := struct {
		Tenants   []info
		NextToken string `json:",omitempty"`
	}{Tenants: []info{}}
	for _, t := range s.tenants.all() {
		if t.Name < start {
			continue
		}
		if v, ok := in.Filter["TENANT_NAME_CONTAINS"]; ok && !strings.Contains(t.Name, v) {
			continue
		}
		if v, ok := in.Filter["SENDING_STATUS"]; ok && t.SendingStatus != v {
			continue
		}
		if len(out.Tenants) == size {
			out.NextToken = nextToken(t.Name)
			break
		}
		out.Tenants = append(out.Tenants, info{t.Name, t.ID, t.ARN, epochSeconds(t.Created), t.SendingStatus})
	}
	return out, nil
}

type tenantResourceInput struct {
	TenantName  string `json:"TenantName"`
	ResourceArn string `json:"ResourceArn"`
}

func (s *Server) createTenantResourceAssociation(body []byte) (any, *apiError) {
	return s.changeAssociation(body, "CreateTenantResourceAssociation", func(t *tenant, r TenantResource) *apiError {
		if _, ok := t.resources[r.ARN]; ok {
			return &apiError{http.StatusBadRequest, "AlreadyExistsException",
				fmt.Sprintf("Resource %s is already associated with tenant %s.", r.ARN, t.name)}
		}
		r.Associated = s.tenants.now().UTC()
		t.resources[r.ARN] = r
		return nil
	})
}

func (s *Server) deleteTenantResourceAssociation(body []byte) (any, *apiError) {
	return s.changeAssociation(body, "DeleteTenantResourceAssociation", func(t *tenant, r TenantResource) *apiError {
		if _, ok := t.resources[r.ARN]; !ok {
			return &apiError{http.StatusNotFound, "NotFoundException",
				fmt.Sprintf("Resource %s is not associated with tenant %s.", r.ARN, t.name)}
		}
		delete(t.resources, r.ARN)
		return nil
	})
}

// changeAssociation decodes a {TenantName, ResourceArn} request, checks
// that both exist, and applies change to the tenant under its lock.
func (s *Server) changeAssociation(body []byte, op string, change func(*tenant, TenantResource) *apiError) (any, *apiError) {
	var in tenantResourceInput
	if aerr := decode(body, op, &in); aerr != nil {
		return nil, aerr
	}
	if aerr := checkTenantName(in.TenantName); aerr != nil {
		return nil, aerr
	}
	if _, aerr := s.tenants.get(in.TenantName); aerr != nil {
		return nil, aerr
	}
	r, aerr := s.resource(in.ResourceArn)
	if aerr != nil {
		return nil, aerr
	}
	if aerr := s.tenants.with(in.TenantName, func(t *tenant) *apiError { return change(t, r) }); aerr != nil {
		return nil, aerr
	}
	return struct{}{}, nil
}

var resourceTypes = map[string]bool{ResourceEmailIdentity: true, ResourceConfigurationSet: true, ResourceEmailTemplate: true}

func (s *Server) listTenantResources(body []byte) (any, *apiError) {
	var in struct {
		TenantName string            `json:"TenantName"`
		Filter     map[string]string `json:"Filter"`
		NextToken  string            `json:"NextToken"`
		PageSize   *int              `json:"PageSize"`
	}
	if aerr := decode(body, "ListTenantResources", &in); aerr != nil {
		return nil, aerr
	}
	if aerr := checkTenantName(in.TenantName); aerr != nil {
		return nil, aerr
	}
	size, start, aerr := page(in.PageSize, in.NextToken)
	if aerr != nil {
		return nil, aerr
	}
	for k, v := range in.Filter {
		if k != "RESOURCE_TYPE" {
			return nil, badRequest("Invalid filter key %s: the only valid key is RESOURCE_TYPE.", k)
		}
		if !resourceTypes[v] {
			return nil, badRequest("Invalid RESOURCE_TYPE filter %q: EMAIL_IDENTITY, CONFIGURATION_SET or EMAIL_TEMPLATE.", v)
		}
	}
	t, aerr := s.tenants.get(in.TenantName)
	if aerr != nil {
		return nil, aerr
	}
	type res struct {
		ResourceType string
		ResourceArn  string
	}
	out := struct {
		TenantResources []res
		NextToken       string `json:",omitempty"`
	}{TenantResources: []res{}}
	for _, r := range t.Resources {
		if r.ARN < start {
			continue
		}
		if v, ok := in.Filter["RESOURCE_TYPE"]; ok && r.Type != v {
			continue
		}
		if len(out.TenantResources) == size {
			out.NextToken = nextToken(r.ARN)
			break
		}
		out.TenantResources = append(out.TenantResources, res{r.Type, r.ARN})
	}
	return out, nil
}

func (s *Server) listResourceTenants(body []byte) (any, *apiError) {
	var in struct {
		ResourceArn string `json:"ResourceArn"`
		NextToken   string `json:"NextToken"`
		PageSize    *int   `json:"PageSize"`
	}
	if aerr := decode(body, "ListResourceTenants", &in); aerr != nil {
		return nil, aerr
	}
	size, start, aerr := page(in.PageSize, in.NextToken)
	if aerr != nil {
		return nil, aerr
	}
	r, aerr := s.resource(in.ResourceArn)
	if aerr != nil {
		return nil, aerr
	}
	type meta struct {
		TenantName          string
		TenantId            string
		ResourceArn         string
		AssociatedTimestamp float64
	}
	out := struct {
		ResourceTenants []meta
		NextToken       string `json:",omitempty"`
	}{ResourceTenants: []meta{}}
	for _, t := range s.tenants.all() {
		if t.Name < start {
			continue
		}
		assoc, ok := t.resource(r.ARN)
		if !ok {
			continue
		}
		if len(out.ResourceTenants) == size {
			out.NextToken = nextToken(t.Name)
			break
		}
		out.ResourceTenants = append(out.ResourceTenants, meta{t.Name, t.ID, r.ARN, epochSeconds(assoc.Associated)})
	}
	return out, nil
}

// routeTenants finds the tenant operations, all POSTs with a JSON body.
func (s *Server) routeTenants(r *http.Request) (operation, bool) {
	if r.Method != http.MethodPost {
		return nil, false
	}
	switch r.URL.Path {
	case PathPrefix + "tenants":
		return s.createTenant, true
	case PathPrefix + "tenants/get":
		return s.getTenant, true
	case PathPrefix + "tenants/list":
		return s.listTenants, true
	case PathPrefix + "tenants/delete":
		return s.deleteTenant, true
	case PathPrefix + "tenants/resources":
		return s.createTenantResourceAssociation, true
	case PathPrefix + "tenants/resources/delete":
		return s.deleteTenantResourceAssociation, true
	case PathPrefix + "tenants/resources/list":
		return s.listTenantResources, true
	case PathPrefix + "resources/tenants/list":
		return s.listResourceTenants, true
	}
	return nil, false
}
