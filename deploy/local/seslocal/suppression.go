package seslocal

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/mail"
	"net/url"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"
)

// The account-level suppression list: SES adds an address after a hard
// bounce (reason BOUNCE) or a complaint (COMPLAINT), as an account made
// since November 2019 does by default, and then accepts a send to it but
// does not deliver: the send bounces with the sub-type
// OnAccountSuppressionList. Mailbox simulator addresses are never added.
// The list lives in memory; otp-local's data directory does not keep it.

// Suppression reasons.
const (
	ReasonBounce    = "BOUNCE"
	ReasonComplaint = "COMPLAINT"
)

// Suppressed is one address on the list.
type Suppressed struct {
	Address    string
	Reason     string
	LastUpdate time.Time
	// MessageID and FeedbackID name the email and the bounce or complaint
	// that put the address there; empty for PutSuppressedDestination.
	MessageID, FeedbackID string
}

type suppressionList struct {
	mu  sync.RWMutex
	m   map[string]Suppressed
	now func() time.Time
}

func (l *suppressionList) put(s Suppressed) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.m == nil {
		l.m = map[string]Suppressed{}
	}
	s.Address = strings.ToLower(s.Address)
	if s.LastUpdate.IsZero() {
		s.LastUpdate = l.now().UTC()
	}
	l.m[s.Address] = s
}

func (l *suppressionList) get(addr string) (Suppressed, bool) {
	l.mu.RLock()
	defer l.mu.RUnlock()
	s, ok := l.m[strings.ToLower(addr)]
	return s, ok
}

func (l *suppressionList) remove(addr string) bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	if _, ok := l.m[strings.ToLower(addr)]; !ok {
		return false
	}
	delete(l.m, strings.ToLower(addr))
	return true
}

func (l *suppressionList) all() []Suppressed {
	l.mu.RLock()
	defer l.mu.RUnlock()
	out := make([]Suppressed, 0, len(l.m))
	for _, s := range l.m {
		out = append(out, s)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Address < out[j].Address })
	return out
}

// Suppression returns the address's entry on the account's suppression
// list, if it is on it.
func (s *Server) Suppression(addr string) (Suppressed, bool) { return s.suppression.get(addr) }

// SuppressedDestinations returns the whole list in address order.
func (s *Server) SuppressedDestinations() []Suppressed { return s.suppression.all() }

func suppressionNotFound(addr string) *apiError {
	return &apiError{http.StatusNotFound, "NotFoundException", fmt.Sprintf("Email address %s does not exist on your suppression list.", addr)}
}

func bareAddress(s string) (string, *apiError) {
	a, err := mail.ParseAddress(s)
	if err != nil || a.Name != "" || a.Address != strings.TrimSpace(s) {
		return "", badRequest("Invalid EmailAddress %q.", s)
	}
	return a.Address, nil
}

func (s *Server) putSuppressedDestination(body []byte) (any, *apiError) {
	var in struct {
		EmailAddress string `json:"EmailAddress"`
		Reason       string `json:"Reason"`
	}
	if err := json.Unmarshal(body, &in); err != nil {
		return nil, badRequest("request body is not a valid PutSuppressedDestination request: %v", err)
	}
	addr, aerr := bareAddress(in.EmailAddress)
	if aerr != nil {
		return nil, aerr
	}
	if in.Reason != ReasonBounce && in.Reason != ReasonComplaint {
		return nil, badRequest("Invalid Reason %q: BOUNCE or COMPLAINT.", in.Reason)
	}
	s.suppression.put(Suppressed{Address: addr, Reason: in.Reason})
	return struct{}{}, nil
}

func (s *Server) getSuppressedDestination(addr string) (any, *apiError) {
	e, ok := s.suppression.get(addr)
	if !ok {
		return nil, suppressionNotFound(addr)
	}
	d := map[string]any{"EmailAddress": e.Address, "Reason": e.Reason, "LastUpdateTime": epochSeconds(e.LastUpdate)}
	if e.MessageID != "" || e.FeedbackID != "" {
		d["Attributes"] = map[string]string{"MessageId": e.MessageID, "FeedbackId": e.FeedbackID}
	}
	return map[string]any{"SuppressedDestination": d}, nil
}

func (s *Server) deleteSuppressedDestination(addr string) (any, *apiError) {
	if !s.suppression.remove(addr) {
		return nil, suppressionNotFound(addr)
	}
	return struct{}{}, nil
}

// epochSeconds is REST JSON's timestamp: seconds, with the fraction.
func epochSeconds(t time.Time) float64 { return float64(t.UnixMilli()) / 1000 }

// listSuppressedDestinations pages through the list in address order,
// filtered by reason and by LastUpdateTime (StartDate, EndDate).
func (s *Server) listSuppressedDestinations(q url.Values) (any, *apiError) {
	reasons := map[string]bool{}
	for _, r := range q["Reason"] {
		if r != ReasonBounce && r != ReasonComplaint {
			return nil, badRequest("Invalid Reason %q: BOUNCE or COMPLAINT.", r)
		}
		reasons[r] = true
	}
	var start, end time.Time
	for name, t := range map[string]*time.Time{"StartDate": &start, "EndDate": &end} {
		if v := q.Get(name); v != "" {
			parsed, err := time.Parse(time.RFC3339Nano, v)
			if err != nil {
				return nil, badRequest("Invalid %s %q.", name, v)
			}
			*t = parsed
		}
	}
	size := defaultPageSize
	if v := q.Get("PageSize"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > maxPageSize {
			return nil, badRequest("PageSize must be between 1 and %d, got %q.", maxPageSize, v)
		}
		size = n
	}
	from, aerr := pageStart(q.Get("NextToken"))
	if aerr != nil {
		return nil, aerr
	}
	out := struct {
		SuppressedDestinationSummaries []map[string]any
		NextToken                      string `json:",omitempty"`
	}{SuppressedDestinationSummaries: []map[string]any{}}
	for _, e := range s.suppression.all() {
		switch {
		case e.Address < from:
			continue
		case len(reasons) > 0 && !reasons[e.Reason]:
			continue
		case !start.IsZero() && e.LastUpdate.Before(start), !end.IsZero() && e.LastUpdate.After(end):
			continue
		}
		if len(out.SuppressedDestinationSummaries) == size {
			out.NextToken = nextToken(e.Address)
			break
		}
		out.SuppressedDestinationSummaries = append(out.SuppressedDestinationSummaries,
			map[string]any{"EmailAddress": e.Address, "Reason": e.Reason, "LastUpdateTime": epochSeconds(e.LastUpdate)})
	}
	return out, nil
}
