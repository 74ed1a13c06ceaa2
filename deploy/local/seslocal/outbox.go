package seslocal

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/mail"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"time"
)

// Email is one email SendEmail accepted.
type Email struct {
	// ID is the MessageId SendEmail returned.
	ID         string    `json:"id"`
	ReceivedAt time.Time `json:"receivedAt"`
	// Format is "simple" or "raw", after the Content member used.
	Format  string   `json:"format"`
	From    string   `json:"from"`
	To      []string `json:"to"`
	Cc      []string `json:"cc,omitempty"`
	Bcc     []string `json:"bcc,omitempty"`
	ReplyTo []string `json:"replyTo,omitempty"`
	Subject string   `json:"subject"`
	HTML    string   `json:"html,omitempty"`
	Text    string   `json:"text,omitempty"`
	// Headers are the custom headers of a simple email in request order, or
	// all headers of a raw one sorted by name.
	Headers     []Header     `json:"headers,omitempty"`
	Attachments []Attachment `json:"attachments,omitempty"`
	// Tags are the EmailTags; Tenant is the value of the "tenant" tag.
	Tags             map[string]string `json:"tags,omitempty"`
	Tenant           string            `json:"tenant,omitempty"`
	ConfigurationSet string            `json:"configurationSet,omitempty"`
	// SESTenant is the SES tenant the email was sent through (SendEmail
	// TenantName), unrelated to Tenant, the application's own tenant.
	SESTenant string `json:"sesTenant,omitempty"`
	// Simulator names the SES mailbox-simulator scenario (success, bounce,
	// ooto, complaint, suppressionlist) of the first recipient that is a
	// simulator address.
	Simulator string `json:"simulator,omitempty"`
	// Deliveries say, recipient by recipient in To, Cc, Bcc order, what SES
	// would go on to report for the email. SES accepts a send and reports
	// bounces and complaints later through event destinations; these are
	// what such events are to be made from.
	Deliveries []Delivery `json:"deliveries,omitempty"`
}

// Outcome is what becomes of one recipient of an accepted email.
type Outcome string

const (
	// OutcomeDelivered: the recipient's provider accepts the email
	// (success@simulator.amazonses.com, and every real address here).
	OutcomeDelivered Outcome = "delivered"
	// OutcomeBounce: a hard bounce, SMTP 550 5.1.1 (bounce@).
	OutcomeBounce Outcome = "bounce"
	// OutcomeComplaint: delivered, then marked as spam (complaint@).
	OutcomeComplaint Outcome = "complaint"
	// OutcomeSuppressed: SES bounces it as if the address were on the
	// suppression list (suppressionlist@).
	OutcomeSuppressed Outcome = "suppressed"
	// OutcomeOOTO: delivered, and an out-of-the-office reply comes back
	// (ooto@).
	OutcomeOOTO Outcome = "ooto"
	// OutcomeAccountSuppressed: the address is on the account's
	// suppression list; SES accepted the email and did not attempt it.
	OutcomeAccountSuppressed Outcome = "account_suppressed"
)

// Delivery is the outcome for one recipient.
type Delivery struct {
	// Recipient is the bare address, as written in the request.
	Recipient string  `json:"recipient"`
	Outcome   Outcome `json:"outcome"`
	// Simulated marks a mailbox simulator address, which SES does not count
	// against the daily quota.
	Simulated bool `json:"simulated,omitempty"`
}

// Header is one email header.
type Header struct {
	Name  string `json:"name"`
	Value string `json:"value"`
}

// Attachment describes an attachment; its content is not kept.
type Attachment struct {
	FileName    string `json:"fileName,omitempty"`
	ContentType string `json:"contentType,omitempty"`
	Size        int    `json:"size"`
}

// Recipients returns To, Cc and Bcc together.
func (e Email) Recipients() []string {
	out := make([]string, 0, len(e.To)+len(e.Cc)+len(e.Bcc))
	out = append(out, e.To...)
	out = append(out, e.Cc...)
	return append(out, e.Bcc...)
}

// Filter selects emails for Outbox.List. Zero fields match everything.
type Filter struct {
	// To matches any recipient (To, Cc or Bcc) by address, ignoring case and
	// display names.
	To     string
	Tenant string
	// Since keeps emails received at or after it.
	Since time.Time
	// Limit caps the number of emails returned (newest first).
	Limit int
}

// Match reports whether e passes the filter (Limit aside).
func (f Filter) Match(e Email) bool {
	if f.Tenant != "" && e.Tenant != f.Tenant {
		return false
	}
	if !f.Since.IsZero() && e.ReceivedAt.Before(f.Since) {
		return false
	}
	if f.To == "" {
		return true
	}
	want := addressOnly(f.To)
	for _, r := range e.Recipients() {
		if addressOnly(r) == want {
			return true
		}
	}
	return false
}

func addressOnly(s string) string {
	if a, err := mail.ParseAddress(s); err == nil {
		return strings.ToLower(a.Address)
	}
	return strings.ToLower(strings.TrimSpace(s))
}

// Outbox holds every accepted email. It is safe for concurrent use.
type Outbox struct {
	dir string // "" = memory only

	mu     sync.Mutex
	emails []Email       // oldest first
	added  chan struct{} // closed and replaced on every add
}

// newOutbox returns an outbox, loading the emails already in dir.
func newOutbox(dir string) (*Outbox, error) {
	o := &Outbox{dir: dir, added: make(chan struct{})}
	if dir == "" {
		return o, nil
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("seslocal: outbox directory %s: %w", dir, err)
	}
	files, err := filepath.Glob(filepath.Join(dir, "*.json"))
	if err != nil {
		return nil, fmt.Errorf("seslocal: list outbox directory %s: %w", dir, err)
	}
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			return nil, fmt.Errorf("seslocal: load outbox email %s: %w", f, err)
		}
		var e Email
		if err := json.Unmarshal(b, &e); err != nil || e.ID == "" {
			return nil, fmt.Errorf("seslocal: load outbox email %s: not an outbox email (%v); move it out of %s", f, err, dir)
		}
		o.emails = append(o.emails, e)
	}
	sort.SliceStable(o.emails, func(i, j int) bool { return o.emails[i].ReceivedAt.Before(o.emails[j].ReceivedAt) })
	return o, nil
}

// add stores e, on disk first when the outbox is persistent, so that an
// email SendEmail reported as accepted is never only half kept.
func (o *Outbox) add(e Email) error {
	if o.dir != "" {
		b, err := json.MarshalIndent(e, "", "  ")
		if err != nil {
			return fmt.Errorf("seslocal: encode email %s: %w", e.ID, err)
		}
		tmp := filepath.Join(o.dir, "."+e.ID+".tmp")
		if err := os.WriteFile(tmp, b, 0o600); err != nil {
			return fmt.Errorf("seslocal: write email %s: %w", e.ID, err)
		}
		if err := os.Rename(tmp, filepath.Join(o.dir, e.ID+".json")); err != nil {
			return fmt.Errorf("seslocal: write email %s: %w", e.ID, err)
		}
	}
	o.mu.Lock()
	defer o.mu.Unlock()
	o.emails = append(o.emails, e)
	close(o.added)
	o.added = make(chan struct{})
	return nil
}

// List returns the emails matching f, newest first.
func (o *Outbox) List(f Filter) []Email {
	o.mu.Lock()
	defer o.mu.Unlock()
	out := []Email{}
	for i := len(o.emails) - 1; i >= 0; i-- {
		if f.Limit > 0 && len(out) == f.Limit {
			break
		}
		if f.Match(o.emails[i]) {
			out = append(out, o.emails[i])
		}
	}
	return out
}

// Get returns the email with this ID.
func (o *Outbox) Get(id string) (Email, bool) {
	o.mu.Lock()
	defer o.mu.Unlock()
	for i := len(o.emails) - 1; i >= 0; i-- {
		if o.emails[i].ID == id {
			return o.emails[i], true
		}
	}
	return Email{}, false
}

// Count returns the number of emails.
func (o *Outbox) Count() int {
	o.mu.Lock()
	defer o.mu.Unlock()
	return len(o.emails)
}

// Wait returns the newest email matching match, blocking until one arrives
// or ctx ends. Emails already in the outbox count: to wait for a new email
// only, match on ReceivedAt or on something unique to it (a recipient
// address per test, say).
func (o *Outbox) Wait(ctx context.Context, match func(Email) bool) (Email, error) {
	var found Email
	err := o.await(ctx, func() bool {
		for i := len(o.emails) - 1; i >= 0; i-- {
			if match(o.emails[i]) {
				found = o.emails[i]
				return true
			}
		}
		return false
	})
	if err != nil {
		return Email{}, fmt.Errorf("seslocal: wait for email: %w", err)
	}
	return found, nil
}

// Since blocks until the outbox holds more than n emails and returns those
// after the first n, in arrival order. A reader that follows the outbox
// (otp-local bench, say) pays for each email once, where Wait re-examines
// them all on every arrival.
func (o *Outbox) Since(ctx context.Context, n int) ([]Email, error) {
	var out []Email
	err := o.await(ctx, func() bool {
		if len(o.emails) <= n {
			return false
		}
		out = append([]Email(nil), o.emails[n:]...)
		return true
	})
	if err != nil {
		return nil, fmt.Errorf("seslocal: wait for email %d: %w", n+1, err)
	}
	return out, nil
}

// await runs ready with the outbox locked, again after every add, until it
// reports true or ctx ends.
func (o *Outbox) await(ctx context.Context, ready func() bool) error {
	for {
		o.mu.Lock()
		if ready() {
			o.mu.Unlock()
			return nil
		}
		added := o.added
		o.mu.Unlock()
		select {
		case <-added:
		case <-ctx.Done():
			return ctx.Err()
		}
	}
}

// Clear deletes every email, from disk too.
func (o *Outbox) Clear() error {
	o.mu.Lock()
	defer o.mu.Unlock()
	var errs []error
	if o.dir != "" {
		for _, e := range o.emails {
			if err := os.Remove(filepath.Join(o.dir, e.ID+".json")); err != nil && !errors.Is(err, os.ErrNotExist) {
				errs = append(errs, err)
			}
		}
	}
	o.emails = nil
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("seslocal: clear outbox: %w", err)
	}
	return nil
}
