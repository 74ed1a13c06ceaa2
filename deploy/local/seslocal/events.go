package seslocal

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net/mail"
	"strings"
	"time"
)

// Publisher delivers a message to an SNS topic, as SES's event publishing
// does through an SNS event destination. otp-local's SNS (snslocal) is one.
type Publisher interface {
	Publish(ctx context.Context, topicARN, subject, message string) error
}

// EventSubject is the Subject of the SNS notifications SES event
// publishing sends.
const EventSubject = "Amazon SES Email Event Notification"

// DefaultEventDelay is how long after the Send event the recipient's
// server "answers": the Delivery or Bounce event; a Complaint comes the
// same time again after the Delivery.
const DefaultEventDelay = 200 * time.Millisecond

// eicar is the EICAR anti-virus test signature. SES rejects an email that
// carries it after accepting it (a Reject event), the way it tests for a
// virus ("Testing Reject events", SES developer guide).
const eicar = `X5O!P%@AP[4\PZX54(P^)7CC)7}$EICAR-STANDARD-ANTIVIRUS-TEST-FILE!$H+H*`

// verdictKind is what the recipient's side does with one recipient.
type verdictKind int

const (
	vDelivered verdictKind = iota
	vComplaint
	vBounce        // 550 5.1.1, Permanent General
	vSuppressed    // the simulator's suppressionlist@: SES's global list
	vAccountListed // on the account's suppression list: not attempted
	vOOTO          // delivered, and an auto-reply to the sender (no event)
)

// outcome is a recipient's fate, decided at acceptance: an address on
// the account's suppression list is not attempted, whatever it is;
// Options.BounceRecipients and ComplaintRecipients stand in for real
// mailboxes that bounce or complain.
func (s *Server) outcome(d Delivery) Outcome {
	addr := strings.ToLower(d.Recipient)
	if _, listed := s.suppression.get(addr); listed {
		return OutcomeAccountSuppressed
	}
	if d.Simulated {
		return d.Outcome
	}
	_, domain, _ := strings.Cut(addr, "@")
	switch {
	case s.bounce[addr] || s.bounce["@"+domain]:
		return OutcomeBounce
	case s.complain[addr] || s.complain["@"+domain]:
		return OutcomeComplaint
	}
	return d.Outcome
}

func verdictOf(o Outcome) verdictKind {
	switch o {
	case OutcomeBounce:
		return vBounce
	case OutcomeComplaint:
		return vComplaint
	case OutcomeSuppressed:
		return vSuppressed
	case OutcomeAccountSuppressed:
		return vAccountListed
	case OutcomeOOTO:
		return vOOTO
	}
	return vDelivered
}

// record is the SES event record, in the field names and order SES
// writes ("Contents of event data that Amazon SES publishes to Amazon
// SNS").
type record struct {
	EventType     string         `json:"eventType"`
	Bounce        map[string]any `json:"bounce,omitempty"`
	Complaint     map[string]any `json:"complaint,omitempty"`
	Mail          map[string]any `json:"mail"`
	Delivery      map[string]any `json:"delivery,omitempty"`
	Send          *struct{}      `json:"send,omitempty"`
	Reject        map[string]any `json:"reject,omitempty"`
	DeliveryDelay map[string]any `json:"deliveryDelay,omitempty"`
}

// sesTime is SES's timestamp: ISO 8601 in UTC with milliseconds.
func sesTime(t time.Time) string { return t.UTC().Format("2006-01-02T15:04:05.000Z") }

// mailObject is the record's mail: the email as SES accepted it.
func (s *Server) mailObject(e Email, region string, outgoing bool) map[string]any {
	from := e.From
	fromAddr := from
	if a, err := mail.ParseAddress(from); err == nil {
		fromAddr = a.Address
	}
	_, fromDomain, _ := strings.Cut(strings.ToLower(fromAddr), "@")
	identity := fromDomain
	if chain := s.account.sender(fromAddr); len(chain) > 0 {
		identity = chain[0].Name
	}
	headers := []map[string]string{{"name": "From", "value": from}}
	if len(e.To) > 0 {
		headers = append(headers, map[string]string{"name": "To", "value": strings.Join(e.To, ", ")})
	}
	headers = append(headers, map[string]string{"name": "Subject", "value": e.Subject}, map[string]string{"name": "MIME-Version", "value": "1.0"},
		map[string]string{"name": "Content-Type", "value": "multipart/alternative; boundary=\"----=_Part_" + e.ID[:16] + "\""})
	for _, h := range e.Headers {
		headers = append(headers, map[string]string{"name": h.Name, "value": h.Value})
	}
	common := map[string]any{"from": []string{from}, "messageId": e.ID, "subject": e.Subject}
	if len(e.To) > 0 {
		common["to"] = e.To
	}
	tags := map[string][]string{
		"ses:configuration-set": {e.ConfigurationSet}, "ses:source-ip": {"127.0.0.1"},
		"ses:from-domain": {fromDomain}, "ses:caller-identity": {"otp-local"},
	}
	if outgoing {
		tags["ses:outgoing-ip"] = []string{"127.0.0.1"}
	}
	for k, v := range e.Tags {
		tags[k] = []string{v}
	}
	return map[string]any{
		"timestamp": sesTime(e.ReceivedAt), "source": from,
		"sourceArn":        fmt.Sprintf("arn:aws:ses:%s:%s:identity/%s", region, s.account.accountID, identity),
		"sendingAccountId": s.account.accountID, "messageId": e.ID, "destination": e.Recipients(),
		"headersTruncated": false, "headers": headers, "commonHeaders": common, "tags": tags,
	}
}

func feedbackID() string {
	var b [16]byte
	_, _ = rand.Read(b[:])
	return fmt.Sprintf("%016x-%s-000000", time.Now().UnixMilli(), hex.EncodeToString(b[:]))
}

// scheduled is one event and when it is due after acceptance.
type scheduled struct {
	after time.Duration
	kind  string // SES v2's MatchingEventTypes name
	rec   record
}

// events decides what SES would report for an accepted email, and adds
// hard bounces and complaints of real addresses to the suppression list
// when they happen (simulator addresses never go on it).
func (s *Server) events(e Email, region string, virus bool) []scheduled {
	at := e.ReceivedAt
	delay := s.eventDelay
	out := []scheduled{{0, "SEND", record{EventType: "Send", Mail: s.mailObject(e, region, false), Send: &struct{}{}}}}
	if virus {
		return append(out, scheduled{delay, "REJECT", record{EventType: "Reject", Mail: s.mailObject(e, region, false),
			Reject: map[string]any{"reason": "Bad content"}}})
	}
	// Bounces of one request come as one event per kind, as SES combines
	// the simulator's bounce responses.
	bounces := map[verdictKind][]Delivery{}
	var order []verdictKind
	for _, d := range e.Deliveries {
		v := verdictOf(d.Outcome)
		switch v {
		case vDelivered, vOOTO, vComplaint:
			out = append(out, scheduled{delay, "DELIVERY", record{EventType: "Delivery", Mail: s.mailObject(e, region, true),
				Delivery: map[string]any{"timestamp": sesTime(at.Add(delay)), "processingTimeMillis": delay.Milliseconds(),
					"recipients": []string{d.Recipient}, "smtpResponse": "250 2.6.0 Message received", "reportingMTA": "a1-2.smtp-out.otp-local.example"}}})
			if v == vOOTO {
				s.autoReply(e, d.Recipient)
			}
			if v == vComplaint {
				fid := feedbackID()
				out = append(out, scheduled{2 * delay, "COMPLAINT", record{EventType: "Complaint", Mail: s.mailObject(e, region, false),
					Complaint: map[string]any{"complainedRecipients": []map[string]string{{"emailAddress": d.Recipient}},
						"timestamp": sesTime(at.Add(2 * delay)), "feedbackId": fid, "userAgent": "otp-local mailbox simulator",
						"complaintFeedbackType": "abuse", "arrivalDate": sesTime(at.Add(2 * delay))}}})
				if !d.Simulated {
					s.suppression.put(Suppressed{Address: d.Recipient, Reason: ReasonComplaint, MessageID: e.ID, FeedbackID: fid})
				}
			}
		default:
			if len(bounces[v]) == 0 {
				order = append(order, v)
			}
			bounces[v] = append(bounces[v], d)
		}
	}
	for _, v := range order {
		fid := feedbackID()
		sub, status, diag, mta, after := "General", "5.1.1", "smtp; 550 5.1.1 user unknown", "dsn; a1-2.smtp-out.otp-local.example", delay
		switch v {
		case vSuppressed:
			sub, diag = "Suppressed", "Amazon SES has suppressed sending to this address because it has a recent history of bouncing as an invalid address."
			mta, after = "dns; amazonses.com", delay/2
		case vAccountListed:
			sub, diag = "OnAccountSuppressionList", "Amazon SES did not send the message to this address because it is on the suppression list for your account."
			mta, after = "dns; amazonses.com", delay/2
		}
		var recips []map[string]string
		for _, d := range bounces[v] {
			recips = append(recips, map[string]string{"emailAddress": d.Recipient, "action": "failed", "status": status, "diagnosticCode": diag})
			if v == vBounce && !d.Simulated {
				s.suppression.put(Suppressed{Address: d.Recipient, Reason: ReasonBounce, MessageID: e.ID, FeedbackID: fid})
			}
		}
		out = append(out, scheduled{after, "BOUNCE", record{EventType: "Bounce", Mail: s.mailObject(e, region, false),
			Bounce: map[string]any{"bounceType": "Permanent", "bounceSubType": sub, "bouncedRecipients": recips,
				"timestamp": sesTime(at.Add(after)), "feedbackId": fid, "reportingMTA": mta}}})
	}
	return out
}

// publish sends an accepted email's events to the topics of its
// configuration set's SNS destinations, each when it is due. Publishing
// is SES's business, after SendEmail has answered: a failure is logged,
// never the caller's.
func (s *Server) publish(e Email, region string, virus bool) {
	evs := s.events(e, region, virus)
	if e.ConfigurationSet == "" || s.publisher == nil {
		return
	}
	for _, ev := range evs {
		topics := s.destinations.topics(e.ConfigurationSet, ev.kind)
		if len(topics) == 0 {
			continue
		}
		body, err := json.Marshal(ev.rec)
		if err != nil {
			s.log.Error("seslocal: encode event", "message_id", e.ID, "event", ev.rec.EventType, "error", err)
			continue
		}
		s.pending.Add(1)
		time.AfterFunc(ev.after, func() {
			defer s.pending.Done()
			for _, topic := range topics {
				if err := s.publisher.Publish(context.Background(), topic, EventSubject, string(body)); err != nil {
					s.log.Warn("seslocal: publish event", "message_id", e.ID, "event", ev.rec.EventType, "topic", topic, "error", err)
				}
			}
		})
	}
}

// WaitEvents waits until every event already scheduled has been handed
// to the publisher, for tests.
func (s *Server) WaitEvents() { s.pending.Wait() }

// hasVirus reports whether the email carries the EICAR test signature.
func hasVirus(in *sendEmailInput) bool {
	c := in.Content
	switch {
	case c.Raw != nil:
		return strings.Contains(string(c.Raw.Data), eicar)
	case c.Simple != nil:
		m := c.Simple
		if m.Body != nil && (m.Body.Text != nil && strings.Contains(m.Body.Text.Data, eicar) || m.Body.HTML != nil && strings.Contains(m.Body.HTML.Data, eicar)) {
			return true
		}
		for _, a := range m.Attachments {
			if strings.Contains(string(a.RawContent), eicar) {
				return true
			}
		}
	}
	return false
}

// AutoReply is the out-of-the-office answer the simulator's ooto@ sends
// to the email's sender (its Return-Path, here the From address). SES
// publishes no event for it: it is mail to the sender, not about the
// send.
type AutoReply struct {
	MessageID string // the email it answers
	From, To  string // the simulator address; the sender
	Subject   string
	At        time.Time
}

func (s *Server) autoReply(e Email, recipient string) {
	s.repliesMu.Lock()
	defer s.repliesMu.Unlock()
	s.replies = append(s.replies, AutoReply{MessageID: e.ID, From: recipient, To: e.From,
		Subject: "Out of the office: " + e.Subject, At: e.ReceivedAt.Add(s.eventDelay)})
}

// AutoReplies returns the auto-replies sent back so far, oldest first.
func (s *Server) AutoReplies() []AutoReply {
	s.repliesMu.Lock()
	defer s.repliesMu.Unlock()
	return append([]AutoReply(nil), s.replies...)
}
