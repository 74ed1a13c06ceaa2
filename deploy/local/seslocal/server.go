package seslocal

import (
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	mrand "math/rand/v2"
	"net/http"
	"net/mail"
	"regexp"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

const (
	// PathPrefix is where the SES v2 API lives; a dispatcher sends every
	// request under it to ServeHTTP.
	PathPrefix = "/v2/email/"
	sendPath   = "/v2/email/outbound-emails"

	// maxMessageBytes is SES v2's limit for a whole message (40 MB), which
	// also bounds the request body (base64 makes raw content a third larger).
	maxMessageBytes = 40 << 20
	maxRequestBytes = maxMessageBytes*4/3 + 1<<20
	// maxRecipients is SES's per-message recipient limit.
	maxRecipients = 50
)

// Faults are injected into SendEmail calls. They can change at runtime
// (Server.SetFaults), so a developer can watch the mailer back off.
type Faults struct {
	// FailRate is the fraction of calls answered with a server error
	// (500 InternalFailure, or FailStatus). The SDKs retry these.
	FailRate float64
	// FailStatus picks the server error: 500 (InternalFailure, the default)
	// or 503 (ServiceUnavailable).
	FailStatus int
	// ThrottleRate is the fraction of calls answered 429
	// TooManyRequestsException, which the SDKs retry as throttling.
	ThrottleRate float64
	// Latency is added to every call before it is answered; a caller that
	// gives up (context cancelled) gets no answer.
	Latency time.Duration
	// SpikeRate is the fraction of calls that wait Spike on top of
	// Latency: the occasional slow SendEmail that a retry budget and a
	// Lambda timeout must survive.
	SpikeRate float64
	Spike     time.Duration
}

func (f Faults) validate() error {
	if f.FailRate < 0 || f.FailRate > 1 || f.ThrottleRate < 0 || f.ThrottleRate > 1 {
		return fmt.Errorf("seslocal: fault rates must be between 0 and 1, got fail %v, throttle %v", f.FailRate, f.ThrottleRate)
	}
	if f.FailStatus != 0 && f.FailStatus != http.StatusInternalServerError && f.FailStatus != http.StatusServiceUnavailable {
		return fmt.Errorf("seslocal: FailStatus must be 500 or 503, got %d", f.FailStatus)
	}
	if f.Latency < 0 || f.Spike < 0 {
		return fmt.Errorf("seslocal: Latency and Spike must not be negative, got %v, %v", f.Latency, f.Spike)
	}
	if f.SpikeRate < 0 || f.SpikeRate > 1 {
		return fmt.Errorf("seslocal: SpikeRate must be between 0 and 1, got %v", f.SpikeRate)
	}
	return nil
}

// DefaultAccountID is the account seslocal's identity ARNs name unless
// Options.AccountID says otherwise; sqslocal uses the same.
const DefaultAccountID = "000000000000"

// Options configures a Server. The zero value accepts every well-formed
// email into a memory-only outbox.
//
// Naming any identity or configuration set, or the sandbox, describes the
// SES account, and SendEmail then checks what SES checks: the From address
// (and FeedbackForwardingEmailAddress) must be covered by a verified
// identity, and ConfigurationSetName must be one of ConfigurationSets
// (none listed: none exist). A send through an SES tenant (TenantName)
// needs the tenant whether or not the account is described.
type Options struct {
	// Identities describe the account's email address and domain
	// identities. A verified domain covers every address at it and at its
	// subdomains, as in SES.
	Identities []Identity
	// VerifiedIdentities are email addresses and domains SES has verified,
	// with DKIM signing on: shorthand for Identities with only a Name. An
	// entry also in Identities is described by Identities.
	VerifiedIdentities []string
	// ConfigurationSets are the names of the account's configuration sets.
	ConfigurationSets []string
	// Sandbox puts the account in the SES sandbox: recipients (To, Cc and
	// Bcc) must be verified too, mailbox simulator addresses excepted, and
	// the quota defaults to the sandbox's 200 recipients a day, 1 a second.
	Sandbox bool
	// SendingPaused is the account's sending switched off (GetAccount
	// SendingEnabled false): SendEmail fails with SendingPausedException.
	SendingPaused bool
	// Max24HourSend is the most recipients SendEmail accepts over a rolling
	// 24 hours (mailbox simulator recipients do not count); past it,
	// LimitExceededException "Daily message quota exceeded.". MaxSendRate
	// is the most recipients a second (simulator recipients count); past
	// it, TooManyRequestsException "Maximum sending rate exceeded.". Zero
	// means the sandbox's quota in the sandbox and unlimited outside it; a
	// negative value means unlimited (GetAccount reports -1).
	Max24HourSend float64
	MaxSendRate   float64
	// AccountID is the account that identity ARNs must name
	// (FromEmailAddressIdentityArn). Default DefaultAccountID.
	AccountID string
	// RejectRecipients are addresses, or "@domain" entries, that SendEmail
	// rejects with MessageRejected: a local stand-in for a recipient SES
	// will not send to.
	RejectRecipients []string
	// BounceRecipients and ComplaintRecipients are addresses, or
	// "@domain" entries, whose mailboxes hard-bounce or complain as the
	// simulator's bounce@ and complaint@ do; unlike those, they go on the
	// account's suppression list, as a real address does.
	BounceRecipients, ComplaintRecipients []string
	// Publisher receives the events of configuration sets with an SNS
	// event destination (EventDestinations, or
	// CreateConfigurationSetEventDestination). Nil: no events.
	Publisher Publisher
	// EventDestinations are the configuration sets' initial event
	// destinations.
	EventDestinations []EventDestination
	// EventDelay is how long after acceptance the recipient's server
	// answers (the Delivery or Bounce event). Default DefaultEventDelay.
	EventDelay time.Duration
	// Tenants are the account's SES tenants (multi-tenant sending) at New.
	// A SendEmail with a TenantName is refused unless the tenant exists, is
	// not disabled and, when the account is described, the identity and
	// configuration set the send uses are associated with it. Tenants do
	// not describe the account on their own.
	Tenants []Tenant
	// Faults are the initial fault settings.
	Faults Faults
	// DataDir, when set, keeps one JSON file per email there; the outbox is
	// reloaded from it by New.
	DataDir string
	// Region appears in error messages as SES words them when the request's
	// credential scope names none, and is the region of the tenants and of
	// the resource ARNs associated with them. Default us-east-1.
	Region string
	// Logger receives one line per SendEmail outcome (id, tenant, outcome;
	// never subject, body or address). Default: discard.
	Logger *slog.Logger
	// Rand returns numbers in [0,1) for fault injection; tests make it
	// deterministic. Default math/rand/v2.
	Rand func() float64
	// Now is the clock of the sending quota; tests move it. Default
	// time.Now.
	Now func() time.Time
}

// Server is an SES v2 endpoint with an outbox. It is safe for concurrent use.
type Server struct {
	outbox    *Outbox
	account   *account
	reject    map[string]bool
	region    string
	log       *slog.Logger
	rand      func() float64
	randMu    sync.Mutex // math/rand/v2's global source is safe; a caller's may not be
	faultsMu  sync.RWMutex
	faults    Faults
	sendCalls atomic.Int64

	bounce, complain map[string]bool
	destinations     destinations
	suppression      suppressionList
	tenants          tenantStore
	publisher        Publisher
	eventDelay       time.Duration
	pending          sync.WaitGroup
	repliesMu        sync.Mutex
	replies          []AutoReply
}

// New returns a Server; with Options.DataDir it loads the emails kept there.
func New(opts Options) (*Server, error) {
	if err := opts.Faults.validate(); err != nil {
		return nil, err
	}
	now := opts.Now
	if now == nil {
		now = time.Now
	}
	acct, err := newAccount(opts, now)
	if err != nil {
		return nil, err
	}
	outbox, err := newOutbox(opts.DataDir)
	if err != nil {
		return nil, err
	}
	s := &Server{
		outbox:  outbox,
		account: acct,
		reject:  lowerSet(opts.RejectRecipients),
		region:  opts.Region,
		log:     opts.Logger,
		rand:    opts.Rand,
		faults:  opts.Faults,

		bounce:     lowerSet(opts.BounceRecipients),
		complain:   lowerSet(opts.ComplaintRecipients),
		publisher:  opts.Publisher,
		eventDelay: opts.EventDelay,
	}
	s.suppression.now = now
	s.tenants.now = now
	if s.region == "" {
		s.region = "us-east-1"
	}
	if err := s.seedTenants(opts.Tenants); err != nil {
		return nil, err
	}
	if s.eventDelay <= 0 {
		s.eventDelay = DefaultEventDelay
	}
	for _, d := range opts.EventDestinations {
		if !acct.configSets[d.ConfigurationSet] {
			return nil, fmt.Errorf("seslocal: event destination %s: configuration set %q is not in ConfigurationSets", d.Name, d.ConfigurationSet)
		}
		if err := s.destinations.put(d, true); err != nil {
			return nil, fmt.Errorf("seslocal: event destination %s: %s", d.Name, err.message)
		}
	}
	if s.log == nil {
		s.log = slog.New(slog.DiscardHandler)
	}
	if s.rand == nil {
		s.rand = mrand.Float64
	}
	return s, nil
}

func lowerSet(list []string) map[string]bool {
	m := map[string]bool{}
	for _, v := range list {
		if v = strings.ToLower(strings.TrimSpace(v)); v != "" {
			m[v] = true
		}
	}
	return m
}

// Outbox returns the outbox the server fills.
func (s *Server) Outbox() *Outbox { return s.outbox }

// SetFaults replaces the fault settings, for flags and the ops page.
func (s *Server) SetFaults(f Faults) error {
	if err := f.validate(); err != nil {
		return err
	}
	s.faultsMu.Lock()
	defer s.faultsMu.Unlock()
	s.faults = f
	return nil
}

// Faults returns the current fault settings.
func (s *Server) Faults() Faults {
	s.faultsMu.RLock()
	defer s.faultsMu.RUnlock()
	return s.faults
}

// SendQuota returns the account's quota and the recipients counted against
// it over the last 24 hours, as GetAccount reports them.
func (s *Server) SendQuota() SendQuota {
	return s.account.quota.snapshot()
}

// SendCalls returns how many SendEmail calls reached the server, faults and
// rejections included; with the outbox count it shows retries at work.
func (s *Server) SendCalls() int64 {
	return s.sendCalls.Load()
}

// apiError is an SES v2 error: its type travels in X-Amzn-ErrorType, which
// both SDKs read first for REST JSON, and its text in the body's "message".
type apiError struct {
	status  int
	code    string
	message string
}

func (e *apiError) Error() string { return e.code + ": " + e.message }

func badRequest(format string, args ...any) *apiError {
	return &apiError{http.StatusBadRequest, "BadRequestException", fmt.Sprintf(format, args...)}
}

func messageRejected(format string, args ...any) *apiError {
	return &apiError{http.StatusBadRequest, "MessageRejected", fmt.Sprintf(format, args...)}
}

func writeError(w http.ResponseWriter, requestID string, e *apiError) {
	w.Header().Set("X-Amzn-ErrorType", e.code)
	writeJSON(w, requestID, e.status, map[string]string{"message": e.message})
}

func writeJSON(w http.ResponseWriter, requestID string, status int, v any) {
	b, err := json.Marshal(v)
	if err != nil {
		status, b = http.StatusInternalServerError, []byte(`{"message":"response encoding failed"}`)
	}
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("X-Amzn-RequestId", requestID)
	w.WriteHeader(status)
	_, _ = w.Write(b)
}

// maxReadRequestBytes bounds the body of the operations other than
// SendEmail, whose requests are a few small members.
const maxReadRequestBytes = 1 << 20

// ServeHTTP answers SES v2 API requests (paths under PathPrefix):
// SendEmail, GetAccount, GetEmailIdentity, ListEmailIdentities,
// GetConfigurationSet, the configuration sets' event destinations, the
// account's suppression list and the tenants (CreateTenant, GetTenant,
// ListTenants, DeleteTenant, {Create,Delete}TenantResourceAssociation,
// ListTenantResources, ListResourceTenants). Other operations get an
// UnknownOperationException.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	requestID := newID()
	if r.URL.Path == sendPath && r.Method == http.MethodPost {
		s.sendEmail(w, r, requestID)
		return
	}
	op, ok := s.route(r)
	if !ok {
		writeError(w, requestID, &apiError{http.StatusNotFound, "UnknownOperationException",
			fmt.Sprintf("seslocal implements SendEmail, GetAccount, GetEmailIdentity, ListEmailIdentities, GetConfigurationSet, "+
				"{Create,Get,Update,Delete}ConfigurationSetEventDestination(s), {Put,Get,Delete,List}SuppressedDestination(s), "+
				"{Create,Get,List,Delete}Tenant(s), {Create,Delete}TenantResourceAssociation, ListTenantResources and ListResourceTenants; got %s %s", r.Method, r.URL.Path)})
		return
	}
	if _, aerr := checkSigV4(r); aerr != nil {
		writeError(w, requestID, aerr)
		return
	}
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, maxReadRequestBytes))
	if err != nil {
		writeError(w, requestID, badRequest("request body unreadable or above %d bytes: %v", maxReadRequestBytes, err))
		return
	}
	out, aerr := op(body)
	if aerr != nil {
		writeError(w, requestID, aerr)
		return
	}
	writeJSON(w, requestID, http.StatusOK, out)
}

// sendEmail is the SendEmail operation, faults included.
func (s *Server) sendEmail(w http.ResponseWriter, r *http.Request, requestID string) {
	s.sendCalls.Add(1)

	region, aerr := checkSigV4(r)
	if aerr != nil {
		writeError(w, requestID, aerr)
		return
	}
	if region == "" {
		region = s.region
	}
	// Read the body before any injected latency: net/http notices a caller
	// that hangs up (and cancels r.Context) only once the body is consumed.
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, maxRequestBytes))
	if err != nil {
		writeError(w, requestID, badRequest("request body unreadable or above %d bytes: %v", maxRequestBytes, err))
		return
	}
	faults := s.Faults()
	delay := faults.Latency
	if faults.SpikeRate > 0 {
		s.randMu.Lock()
		if s.rand() < faults.SpikeRate {
			delay += faults.Spike
		}
		s.randMu.Unlock()
	}
	if delay > 0 {
		t := time.NewTimer(delay)
		select {
		case <-t.C:
		case <-r.Context().Done():
			t.Stop()
			s.log.Info("seslocal: SendEmail abandoned by the caller during injected latency", "request_id", requestID, "outcome", "abandoned")
			return
		}
	}
	if err := s.injectFault(faults); err != nil {
		s.log.Info("seslocal: SendEmail fault injected", "request_id", requestID, "outcome", err.code)
		if err.status == http.StatusServiceUnavailable || err.status == http.StatusTooManyRequests {
			w.Header().Set("Retry-After", "1")
		}
		writeError(w, requestID, err)
		return
	}
	email, aerr := s.accept(body, region)
	if aerr != nil {
		s.log.Info("seslocal: SendEmail rejected", "request_id", requestID, "outcome", aerr.code)
		writeError(w, requestID, aerr)
		return
	}
	s.log.Info("seslocal: SendEmail accepted", "request_id", requestID, "message_id", email.ID,
		"tenant", email.Tenant, "ses_tenant", email.SESTenant, "recipients", len(email.Recipients()), "format", email.Format, "outcome", "accepted")
	writeJSON(w, requestID, http.StatusOK, map[string]string{"MessageId": email.ID})
}

// injectFault draws once: below ThrottleRate throttles, below
// ThrottleRate+FailRate fails.
func (s *Server) injectFault(f Faults) *apiError {
	if f.FailRate == 0 && f.ThrottleRate == 0 {
		return nil
	}
	s.randMu.Lock()
	u := s.rand()
	s.randMu.Unlock()
	switch {
	case u < f.ThrottleRate:
		return &apiError{http.StatusTooManyRequests, "TooManyRequestsException", "Maximum sending rate exceeded (injected by seslocal)."}
	case u < f.ThrottleRate+f.FailRate:
		if f.FailStatus == http.StatusServiceUnavailable {
			return &apiError{http.StatusServiceUnavailable, "ServiceUnavailable", "Service is unavailable (injected by seslocal)."}
		}
		return &apiError{http.StatusInternalServerError, "InternalFailure", "The request processing has failed because of an unknown error (injected by seslocal)."}
	}
	return nil
}

// sendEmailInput is the SendEmail request body (REST JSON, member names as
// in the SES v2 model). Blob members arrive base64-encoded, which
// encoding/json decodes into []byte.
type sendEmailInput struct {
	FromEmailAddress string `json:"FromEmailAddress"`
	Destination      *struct {
		ToAddresses  []string `json:"ToAddresses"`
		CcAddresses  []string `json:"CcAddresses"`
		BccAddresses []string `json:"BccAddresses"`
	} `json:"Destination"`
	ReplyToAddresses []string `json:"ReplyToAddresses"`
	Content          struct {
		Simple   *simpleContent   `json:"Simple"`
		Raw      *rawContent      `json:"Raw"`
		Template *templateContent `json:"Template"`
	} `json:"Content"`
	EmailTags []struct {
		Name  string `json:"Name"`
		Value string `json:"Value"`
	} `json:"EmailTags"`
	ConfigurationSetName string `json:"ConfigurationSetName"`
	// TenantName is the SES tenant to send through; nil: none.
	TenantName *string `json:"TenantName"`

	FromEmailAddressIdentityArn               string `json:"FromEmailAddressIdentityArn"`
	FeedbackForwardingEmailAddress            string `json:"FeedbackForwardingEmailAddress"`
	FeedbackForwardingEmailAddressIdentityArn string `json:"FeedbackForwardingEmailAddressIdentityArn"`
}

type simpleContent struct {
	Subject *content `json:"Subject"`
	Body    *struct {
		Text *content `json:"Text"`
		HTML *content `json:"Html"`
	} `json:"Body"`
	Headers     []Header `json:"Headers"`
	Attachments []struct {
		RawContent  []byte `json:"RawContent"`
		FileName    string `json:"FileName"`
		ContentType string `json:"ContentType"`
	} `json:"Attachments"`
}

type rawContent struct {
	Data []byte `json:"Data"`
}

type templateContent struct {
	TemplateName    string          `json:"TemplateName"`
	TemplateArn     string          `json:"TemplateArn"`
	TemplateContent json.RawMessage `json:"TemplateContent"`
}

type content struct {
	Data    string `json:"Data"`
	Charset string `json:"Charset"`
}

var tagRE = regexp.MustCompile(`^[A-Za-z0-9_-]{1,256}$`)

// accept validates a SendEmail request, applies the identity and recipient
// rules and stores the email.
func (s *Server) accept(body []byte, region string) (Email, *apiError) {
	var in sendEmailInput
	if err := json.Unmarshal(body, &in); err != nil {
		return Email{}, badRequest("request body is not a valid SendEmail request: %v", err)
	}
	e := Email{ID: newMessageID(), ReceivedAt: time.Now().UTC(), From: in.FromEmailAddress,
		ReplyTo: in.ReplyToAddresses, ConfigurationSet: in.ConfigurationSetName}
	if in.Destination != nil {
		e.To, e.Cc, e.Bcc = in.Destination.ToAddresses, in.Destination.CcAddresses, in.Destination.BccAddresses
	}
	c := in.Content
	switch n := countSet(c.Simple != nil, c.Raw != nil, c.Template != nil); {
	case n == 0:
		return Email{}, badRequest("Content must contain exactly one of Simple, Raw or Template.")
	case n > 1:
		return Email{}, badRequest("Content must contain exactly one of Simple, Raw or Template, not several.")
	case c.Template != nil:
		if c.Template.TemplateName != "" || c.Template.TemplateArn != "" {
			return Email{}, &apiError{http.StatusNotFound, "NotFoundException",
				fmt.Sprintf("Template %s does not exist.", c.Template.TemplateName+c.Template.TemplateArn)}
		}
		return Email{}, badRequest("seslocal does not render inline templates; send Simple or Raw content.")
	case c.Simple != nil:
		if err := fillSimple(&e, c.Simple); err != nil {
			return Email{}, err
		}
	default:
		if err := fillRaw(&e, c.Raw); err != nil {
			return Email{}, err
		}
	}
	for _, t := range in.EmailTags {
		if !tagRE.MatchString(t.Name) || !tagRE.MatchString(t.Value) {
			return Email{}, badRequest("Invalid tag %q=%q: names and values are 1 to 256 ASCII letters, digits, '_' or '-'.", t.Name, t.Value)
		}
		if e.Tags == nil {
			e.Tags = map[string]string{}
		}
		e.Tags[t.Name] = t.Value
	}
	e.Tenant = e.Tags["tenant"]
	if err := s.checkAddresses(&e, &in, region); err != nil {
		return Email{}, err
	}
	counted := 0
	for _, d := range e.Deliveries {
		if !d.Simulated {
			counted++
		}
	}
	release, qerr := s.account.quota.reserve(counted, len(e.Deliveries))
	if qerr != nil {
		return Email{}, qerr
	}
	for i, d := range e.Deliveries {
		e.Deliveries[i].Outcome = s.outcome(d)
	}
	if err := s.outbox.add(e); err != nil {
		release()
		s.log.Error("seslocal: store email", "message_id", e.ID, "error", err)
		return Email{}, &apiError{http.StatusInternalServerError, "InternalFailure", "seslocal could not store the email; see its log."}
	}
	s.publish(e, region, hasVirus(&in))
	return e, nil
}

func countSet(bs ...bool) int {
	n := 0
	for _, b := range bs {
		if b {
			n++
		}
	}
	return n
}

func fillSimple(e *Email, m *simpleContent) *apiError {
	e.Format = "simple"
	if e.From == "" {
		return badRequest("Missing required parameter FromEmailAddress.")
	}
	if m.Subject == nil {
		return badRequest("Simple content must have a Subject.")
	}
	if m.Body == nil || (m.Body.Text == nil && m.Body.HTML == nil) {
		return badRequest("Simple content must have a Body with Text, Html or both.")
	}
	e.Subject = m.Subject.Data
	if m.Body.Text != nil {
		e.Text = m.Body.Text.Data
	}
	if m.Body.HTML != nil {
		e.HTML = m.Body.HTML.Data
	}
	e.Headers = m.Headers
	for _, a := range m.Attachments {
		e.Attachments = append(e.Attachments, Attachment{FileName: a.FileName, ContentType: a.ContentType, Size: len(a.RawContent)})
	}
	return nil
}

func fillRaw(e *Email, raw *rawContent) *apiError {
	e.Format = "raw"
	if len(raw.Data) == 0 {
		return badRequest("Raw content must have Data.")
	}
	if len(raw.Data) > maxMessageBytes {
		return messageRejected("Message length is more than %d bytes long: %d.", maxMessageBytes, len(raw.Data))
	}
	m, err := parseRaw(raw.Data)
	if err != nil {
		return messageRejected("Could not parse the raw message: %v", err)
	}
	e.Subject, e.HTML, e.Text, e.Headers, e.Attachments = m.subject, m.html, m.text, m.headers, m.attachments
	if e.From == "" {
		e.From = m.from
	}
	if e.From == "" {
		return badRequest("Missing required parameter FromEmailAddress, and the raw message has no From header.")
	}
	if len(e.ReplyTo) == 0 {
		e.ReplyTo = m.replyTo
	}
	// SES sends a raw message to Destination when given, else to the
	// message's own recipient headers.
	if len(e.To)+len(e.Cc)+len(e.Bcc) == 0 {
		e.To, e.Cc, e.Bcc = m.to, m.cc, m.bcc
	}
	return nil
}

const simulatorDomain = "simulator.amazonses.com"

// simulatorOutcomes are the mailbox simulator's addresses (by local part,
// before any +label) and what SES does with each.
var simulatorOutcomes = map[string]Outcome{
	"success":         OutcomeDelivered,
	"bounce":          OutcomeBounce,
	"complaint":       OutcomeComplaint,
	"suppressionlist": OutcomeSuppressed,
	"ooto":            OutcomeOOTO,
}

// simulated returns the simulator scenario of a bare, lowercase address.
func simulated(addr string) (scenario string, o Outcome, ok bool) {
	local, domain, _ := strings.Cut(addr, "@")
	if domain != simulatorDomain {
		return "", "", false
	}
	scenario, _, _ = strings.Cut(local, "+")
	o, ok = simulatorOutcomes[scenario]
	return scenario, o, ok
}

// checkAddresses applies SES's sender, recipient and configuration set
// rules, fills in e.Deliveries and resolves the configuration set.
func (s *Server) checkAddresses(e *Email, in *sendEmailInput, region string) *apiError {
	from, err := mail.ParseAddress(e.From)
	if err != nil {
		return badRequest("Invalid FromEmailAddress %q: %v", e.From, err)
	}
	recipients := e.Recipients()
	if len(recipients) == 0 {
		return badRequest("Destination must contain at least one recipient.")
	}
	if len(recipients) > maxRecipients {
		return badRequest("Recipient count exceeds %d.", maxRecipients)
	}
	acct := s.account
	if acct.described && acct.sendingPaused {
		return &apiError{http.StatusBadRequest, "SendingPausedException", "Sending is paused for this account."}
	}
	// A send through an SES tenant needs the tenant, sending, even when the
	// Options describe no account: an unknown tenant is a mistake SES would
	// not let through either.
	var tenant TenantInfo
	if in.TenantName != nil {
		t, aerr := s.sendingTenant(*in.TenantName)
		if aerr != nil {
			return aerr
		}
		tenant, e.SESTenant = t, t.Name
	}
	if acct.described && e.ConfigurationSet != "" && !acct.configSets[e.ConfigurationSet] {
		return configSetNotFound(e.ConfigurationSet)
	}
	// SES names every identity that failed, the sender first, as each was
	// written in the request (display name included).
	var unverified []string
	if acct.described {
		ok, aerr := s.senderVerified(from.Address, in.FromEmailAddressIdentityArn, region)
		if aerr != nil {
			return aerr
		}
		if !ok {
			unverified = append(unverified, strings.TrimSpace(e.From))
		}
		if fb := strings.TrimSpace(in.FeedbackForwardingEmailAddress); fb != "" {
			a, err := mail.ParseAddress(fb)
			if err != nil {
				return badRequest("Invalid FeedbackForwardingEmailAddress %q: %v", fb, err)
			}
			ok, aerr := s.senderVerified(a.Address, in.FeedbackForwardingEmailAddressIdentityArn, region)
			if aerr != nil {
				return aerr
			}
			if !ok {
				unverified = append(unverified, fb)
			}
		}
	}
	e.Deliveries = make([]Delivery, 0, len(recipients))
	for _, r := range recipients {
		a, err := mail.ParseAddress(r)
		if err != nil {
			return badRequest("Invalid recipient address %q: %v", r, err)
		}
		addr := strings.ToLower(a.Address)
		_, domain, _ := strings.Cut(addr, "@")
		if scenario, outcome, ok := simulated(addr); ok {
			if e.Simulator == "" {
				e.Simulator = scenario
			}
			e.Deliveries = append(e.Deliveries, Delivery{Recipient: a.Address, Outcome: outcome, Simulated: true})
			continue
		}
		if s.reject[addr] || s.reject["@"+domain] {
			return messageRejected("Recipient address rejected: %s is configured as rejected in seslocal.", a.Address)
		}
		if acct.sandbox && !acct.verified(addr) {
			unverified = append(unverified, strings.TrimSpace(r))
		}
		e.Deliveries = append(e.Deliveries, Delivery{Recipient: a.Address, Outcome: OutcomeDelivered})
	}
	if len(unverified) > 0 {
		return messageRejected("Email address is not verified. The following identities failed the check in region %s: %s",
			strings.ToUpper(region), strings.Join(unverified, ", "))
	}
	if !acct.described {
		return nil
	}
	chain := acct.sender(from.Address)
	defaultOf := "" // the identity whose default configuration set applies
	if e.ConfigurationSet == "" {
		for _, id := range chain {
			if id.ConfigurationSet != "" {
				// SES fails a send through an identity whose default set
				// is gone with a bad request rather than dropping the set.
				if !acct.configSets[id.ConfigurationSet] {
					return badRequest("Configuration set <%s> does not exist.", id.ConfigurationSet)
				}
				e.ConfigurationSet, defaultOf = id.ConfigurationSet, id.Name
				break
			}
		}
	}
	for _, id := range chain {
		if id.MailFromDomain == "" {
			continue
		}
		if id.MailFromStatus != StatusSuccess && id.MailFromRejectOnMXFailure {
			return &apiError{http.StatusBadRequest, "MailFromDomainNotVerifiedException",
				fmt.Sprintf("The message can't be sent because the MAIL FROM domain %s of identity %s isn't verified.", id.MailFromDomain, id.Name)}
		}
		break
	}
	if in.TenantName != nil {
		return s.checkTenantResources(tenant, e, in, from.Address, defaultOf)
	}
	return nil
}

var identityARNRE = regexp.MustCompile(`^arn:aws(?:-cn|-us-gov)?:ses:([a-z0-9-]+):(\d{12}):identity/(.+)$`)

// senderVerified reports whether a verified identity vouches for addr:
// with an identity ARN (sending authorization), that identity must be this
// account's, in this region, verified, and cover addr; seslocal has no
// other accounts whose policies could authorize the send.
func (s *Server) senderVerified(addr, arn, region string) (bool, *apiError) {
	if arn == "" {
		return s.account.verified(addr), nil
	}
	m := identityARNRE.FindStringSubmatch(arn)
	if m == nil {
		return false, badRequest("Invalid identity ARN %s.", arn)
	}
	if m[1] != region || m[2] != s.account.accountID {
		return false, nil
	}
	id, ok := s.account.identities[strings.ToLower(m[3])]
	return ok && id.verified() && covers(id.Name, addr), nil
}

var authRE = regexp.MustCompile(`^AWS4-(?:HMAC-SHA256|ECDSA-P256-SHA256) Credential=[^/, ]+/\d{8}/(?:([a-z0-9-]+)/)?ses/aws4_request, ?SignedHeaders=[a-z0-9;_.-]+, ?Signature=[0-9a-f]+$`)

// checkSigV4 accepts any signature of the right shape (SigV4, or SigV4a as
// multi-region endpoints use), like sqslocal, so that a client without
// credentials fails here as it would against SES. It returns the region of
// the credential scope, which is the region SES names in its errors.
func checkSigV4(r *http.Request) (string, *apiError) {
	auth := r.Header.Get("Authorization")
	if auth == "" {
		return "", &apiError{http.StatusForbidden, "MissingAuthenticationTokenException", "Missing Authentication Token"}
	}
	m := authRE.FindStringSubmatch(auth)
	if m == nil {
		return "", &apiError{http.StatusForbidden, "IncompleteSignatureException",
			"Authorization header is not a well-formed AWS SigV4 header for service ses."}
	}
	if r.Header.Get("X-Amz-Date") == "" {
		return "", &apiError{http.StatusForbidden, "IncompleteSignatureException", "Missing X-Amz-Date header."}
	}
	return m[1], nil
}

// newMessageID makes an ID shaped like SES's: a time-ordered hex prefix, a
// UUID and a suffix. Time order keeps the data directory listing sorted.
func newMessageID() string {
	return fmt.Sprintf("%016x-%s-000000", time.Now().UnixMilli(), newID())
}

func newID() string {
	var b [16]byte
	_, _ = rand.Read(b[:])
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	h := hex.EncodeToString(b[:])
	return h[0:8] + "-" + h[8:12] + "-" + h[12:16] + "-" + h[16:20] + "-" + h[20:32]
}
