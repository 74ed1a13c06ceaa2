package seslocal

import (
	"fmt"
	"net/mail"
	"regexp"
	"sort"
	"strings"
	"sync"
	"time"
)

// Verification statuses, as SES v2 spells them in VerificationStatus,
// DkimAttributes.Status and MailFromAttributes.MailFromDomainStatus.
const (
	StatusSuccess          = "SUCCESS"
	StatusPending          = "PENDING"
	StatusFailed           = "FAILED"
	StatusTemporaryFailure = "TEMPORARY_FAILURE"
	StatusNotStarted       = "NOT_STARTED"
)

// Identity describes one SES identity of the account: an email address or
// a domain. The zero value of every field but Name is the common case, a
// verified identity that signs with Easy DKIM.
type Identity struct {
	// Name is an email address (no display name) or a domain.
	Name string
	// Status is the verification status; "" means StatusSuccess. Only a
	// verified identity can send, or receive in the sandbox.
	Status string
	// DKIMSigningDisabled reports DKIM signing turned off for a domain
	// (PutEmailIdentityDkimAttributes SigningEnabled=false). SES v2 verifies
	// domains through DKIM, so a domain's DKIM status is its Status.
	DKIMSigningDisabled bool
	// ConfigurationSet is the identity's default configuration set, used by
	// a send that names none. An address's default overrides its domain's.
	// Naming a set that is not in Options.ConfigurationSets emulates a
	// deleted default set: SES then fails every send through the identity.
	ConfigurationSet string
	// MailFromDomain is a custom MAIL FROM domain (a subdomain of the
	// identity's domain) and MailFromStatus its status ("" = StatusSuccess).
	MailFromDomain string
	MailFromStatus string
	// MailFromRejectOnMXFailure is BehaviorOnMxFailure REJECT_MESSAGE: while
	// the MAIL FROM domain is not verified, SES refuses to send with
	// MailFromDomainNotVerifiedException instead of falling back to
	// amazonses.com.
	MailFromRejectOnMXFailure bool
}

// IsDomain reports whether the identity is a domain rather than an address.
func (id Identity) IsDomain() bool { return !strings.Contains(id.Name, "@") }

func (id Identity) verified() bool { return id.Status == StatusSuccess }

var (
	domainRE    = regexp.MustCompile(`^(?:[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$`)
	configSetRE = regexp.MustCompile(`^[A-Za-z0-9_-]{1,64}$`)
	statuses    = map[string]bool{StatusSuccess: true, StatusPending: true, StatusFailed: true, StatusTemporaryFailure: true, StatusNotStarted: true}
)

// normalize checks an identity and fills in its defaults.
func (id Identity) normalize() (Identity, error) {
	id.Name = strings.ToLower(strings.TrimSpace(id.Name))
	if id.Status == "" {
		id.Status = StatusSuccess
	}
	if !statuses[id.Status] {
		return id, fmt.Errorf("seslocal: identity %q: unknown status %q", id.Name, id.Status)
	}
	domain := id.Name
	if !id.IsDomain() {
		a, err := mail.ParseAddress(id.Name)
		if err != nil || a.Address != id.Name || a.Name != "" {
			return id, fmt.Errorf("seslocal: identity %q is neither a bare email address nor a domain", id.Name)
		}
		_, domain, _ = strings.Cut(id.Name, "@")
	}
	if !domainRE.MatchString(domain) {
		return id, fmt.Errorf("seslocal: identity %q: %q is not a domain name", id.Name, domain)
	}
	if id.ConfigurationSet != "" && !configSetRE.MatchString(id.ConfigurationSet) {
		return id, fmt.Errorf("seslocal: identity %q: configuration set name %q is not 1-64 letters, digits, '_' or '-'", id.Name, id.ConfigurationSet)
	}
	if id.MailFromDomain == "" {
		if id.MailFromStatus != "" || id.MailFromRejectOnMXFailure {
			return id, fmt.Errorf("seslocal: identity %q: MailFromStatus and MailFromRejectOnMXFailure need a MailFromDomain", id.Name)
		}
		return id, nil
	}
	id.MailFromDomain = strings.ToLower(strings.TrimSpace(id.MailFromDomain))
	// SES requires the MAIL FROM domain to be a subdomain of the identity's.
	if !domainRE.MatchString(id.MailFromDomain) || !strings.HasSuffix(id.MailFromDomain, "."+domain) {
		return id, fmt.Errorf("seslocal: identity %q: MAIL FROM domain %q is not a subdomain of %s", id.Name, id.MailFromDomain, domain)
	}
	if id.MailFromStatus == "" {
		id.MailFromStatus = StatusSuccess
	}
	if !statuses[id.MailFromStatus] || id.MailFromStatus == StatusNotStarted {
		return id, fmt.Errorf("seslocal: identity %q: unknown MAIL FROM status %q", id.Name, id.MailFromStatus)
	}
	return id, nil
}

// Sandbox sending quotas, which SES gives every new account.
const (
	sandboxMax24HourSend = 200
	sandboxMaxSendRate   = 1
)

// account is what the Options describe of the SES account. Everything but
// the quota counters is fixed at New, so it is read without locks.
type account struct {
	// described: the Options name identities, configuration sets or the
	// sandbox. Only then are senders and configuration sets checked; the
	// zero Options keep accepting every well-formed email.
	described     bool
	identities    map[string]Identity
	names         []string // sorted, for ListEmailIdentities paging
	configSets    map[string]bool
	sandbox       bool
	sendingPaused bool
	accountID     string
	quota         *sendQuota
}

func newAccount(opts Options, now func() time.Time) (*account, error) {
	a := &account{
		identities:    map[string]Identity{},
		configSets:    map[string]bool{},
		sandbox:       opts.Sandbox,
		sendingPaused: opts.SendingPaused,
		accountID:     opts.AccountID,
	}
	if a.accountID == "" {
		a.accountID = DefaultAccountID
	}
	for _, name := range opts.ConfigurationSets {
		if !configSetRE.MatchString(name) {
			return nil, fmt.Errorf("seslocal: configuration set name %q is not 1-64 letters, digits, '_' or '-'", name)
		}
		a.configSets[name] = true
	}
	for _, id := range opts.Identities {
		id, err := id.normalize()
		if err != nil {
			return nil, err
		}
		if _, dup := a.identities[id.Name]; dup {
			return nil, fmt.Errorf("seslocal: identity %q is listed twice in Identities", id.Name)
		}
		a.identities[id.Name] = id
	}
	for _, name := range opts.VerifiedIdentities {
		id, err := Identity{Name: name}.normalize()
		if err != nil {
			return nil, err
		}
		if _, ok := a.identities[id.Name]; !ok { // Identities describe it more fully
			a.identities[id.Name] = id
		}
	}
	for name := range a.identities {
		a.names = append(a.names, name)
	}
	sort.Strings(a.names)
	a.described = len(a.identities) > 0 || len(a.configSets) > 0 || a.sandbox

	max24, rate := opts.Max24HourSend, opts.MaxSendRate
	if max24 == 0 {
		max24 = -1
		if a.sandbox {
			max24 = sandboxMax24HourSend
		}
	}
	if rate == 0 {
		rate = -1
		if a.sandbox {
			rate = sandboxMaxSendRate
		}
	}
	if max24 < 0 {
		max24 = -1
	}
	if rate < 0 {
		rate = -1
	}
	a.quota = &sendQuota{max24: max24, rate: rate, now: now, tokens: max(rate, 1), last: now()}
	return a, nil
}

// chain returns the identities that can vouch for addr, most specific
// first: the address itself, its domain, then each parent domain. SES lets
// a verified domain cover its addresses and all its subdomains.
func (a *account) chain(addr string) []Identity {
	addr = strings.ToLower(addr)
	var out []Identity
	if id, ok := a.identities[addr]; ok {
		out = append(out, id)
	}
	_, domain, found := strings.Cut(addr, "@")
	if !found {
		domain = addr
	}
	for domain != "" {
		if id, ok := a.identities[domain]; ok {
			out = append(out, id)
		}
		_, domain, _ = strings.Cut(domain, ".")
	}
	return out
}

// verified reports whether some verified identity covers addr. An address
// identity that is still pending does not block its verified domain: the
// address inherits the domain's verification, as SES documents.
func (a *account) verified(addr string) bool {
	for _, id := range a.chain(addr) {
		if id.verified() {
			return true
		}
	}
	return false
}

// sender returns the verified identities that cover addr, most specific
// first; SES takes the default configuration set and the MAIL FROM setup
// from them.
func (a *account) sender(addr string) []Identity {
	var out []Identity
	for _, id := range a.chain(addr) {
		if id.verified() {
			out = append(out, id)
		}
	}
	return out
}

// covers reports whether identity name vouches for addr (the address
// itself, or an address of the domain or of one of its subdomains).
func covers(name, addr string) bool {
	name, addr = strings.ToLower(name), strings.ToLower(addr)
	if name == addr {
		return true
	}
	_, domain, _ := strings.Cut(addr, "@")
	return !strings.Contains(name, "@") && (domain == name || strings.HasSuffix(domain, "."+name))
}

// dkim returns the DKIM attributes GetEmailIdentity reports. A domain has
// its own; an address reports those of the domain identity that covers it,
// or none started.
func (a *account) dkim(id Identity) (signing bool, status string, isDomainKey bool) {
	if id.IsDomain() {
		return !id.DKIMSigningDisabled, id.Status, true
	}
	for _, d := range a.chain(id.Name)[1:] {
		if d.IsDomain() {
			return !d.DKIMSigningDisabled, d.Status, true
		}
	}
	return false, StatusNotStarted, false
}

// sendQuota counts the recipients sent to over a rolling 24 hours and
// meters the sending rate with a token bucket. SES counts recipients, not
// messages, for both.
type sendQuota struct {
	max24 float64 // -1: unlimited
	rate  float64 // -1: unlimited
	now   func() time.Time

	mu     sync.Mutex
	window []quotaSecond // oldest first, at most one entry per second
	sent   int
	tokens float64
	last   time.Time
}

type quotaSecond struct {
	at int64 // Unix second
	n  int
}

// SendQuota is the account's sending quota as GetAccount reports it.
// Max24HourSend and MaxSendRate are -1 when unlimited.
type SendQuota struct {
	Max24HourSend   float64
	MaxSendRate     float64
	SentLast24Hours float64
}

func (q *sendQuota) prune(now time.Time) {
	cut := now.Add(-24 * time.Hour).Unix()
	i := 0
	for i < len(q.window) && q.window[i].at <= cut {
		q.sent -= q.window[i].n
		i++
	}
	q.window = q.window[i:]
}

func (q *sendQuota) snapshot() SendQuota {
	q.mu.Lock()
	defer q.mu.Unlock()
	q.prune(q.now())
	return SendQuota{Max24HourSend: q.max24, MaxSendRate: q.rate, SentLast24Hours: float64(q.sent)}
}

// reserve takes a message with counted recipients toward the daily quota
// (mailbox simulator recipients excluded, as SES excludes them) and all
// recipients toward the rate. A message is let through while the bucket
// holds a token and may leave it in debt, so a many-recipient message is
// not refused forever at a low rate but the sends after it wait.
func (q *sendQuota) reserve(counted, all int) (release func(), err *apiError) {
	q.mu.Lock()
	defer q.mu.Unlock()
	now := q.now()
	q.prune(now)
	if q.max24 >= 0 && float64(q.sent+counted) > q.max24 {
		return nil, &apiError{400, "LimitExceededException", "Daily message quota exceeded."}
	}
	if q.rate > 0 {
		if elapsed := now.Sub(q.last).Seconds(); elapsed > 0 {
			q.tokens = min(max(q.rate, 1), q.tokens+elapsed*q.rate)
		}
		q.last = now
		if q.tokens < 1 {
			return nil, &apiError{429, "TooManyRequestsException", "Maximum sending rate exceeded."}
		}
		q.tokens -= float64(all)
	}
	at := now.Unix()
	if n := len(q.window); n > 0 && q.window[n-1].at == at {
		q.window[n-1].n += counted
	} else {
		q.window = append(q.window, quotaSecond{at: at, n: counted})
	}
	q.sent += counted
	return func() {
		q.mu.Lock()
		defer q.mu.Unlock()
		for i := range q.window {
			if q.window[i].at == at {
				q.window[i].n -= counted
				q.sent -= counted
				break
			}
		}
		if q.rate > 0 {
			q.tokens += float64(all)
		}
	}, nil
}
