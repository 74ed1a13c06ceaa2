// Package trace follows the codes sent to one address, or one send
// request, through the functions' CloudWatch Logs: the Create trigger's
// enqueue, the mailer's send or dead-lettering, and the feedback
// function's delivery events from SES, in time order with the gaps between
// them. otpctl trace is its command; it works the same against AWS and
// otp-local, which serves the same FilterLogEvents.
//
// The logs carry no address: every line names its recipient by to_hash
// (pseudonym.ToHash under the HMAC key), so a search by address is a
// search for the hashes of that address under the current and the previous
// key. The lines carry no code either, and nothing here would print one.
package trace

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"regexp"
	"slices"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatchlogs"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatchlogs/types"

	"github.com/cognito-email-otp/cognito-email-otp/internal/pseudonym"
)

// LogsAPI is the CloudWatch Logs call a trace makes.
type LogsAPI interface {
	FilterLogEvents(ctx context.Context, in *cloudwatchlogs.FilterLogEventsInput, opts ...func(*cloudwatchlogs.Options)) (*cloudwatchlogs.FilterLogEventsOutput, error)
}

// Query is what to look for, where and when.
type Query struct {
	// ToHashes are the address's to_hash under the current and previous
	// HMAC keys (a rotation changes the hash); or RequestID is one send
	// request's id. One of the two.
	ToHashes  []string
	RequestID string
	// Groups are the log groups to search: the Create trigger's, the
	// mailer's and the feedback function's. Lines are told apart by what
	// they say, not by the group they came from.
	Groups     []string
	Start, End time.Time
}

// token is what a hash or a request id may be: it goes into a filter
// pattern between quotes, so nothing that could close them is allowed.
var token = regexp.MustCompile(`^[A-Za-z0-9_-]{1,128}$`)

// ValidRequestID reports whether s can be a send request's id.
func ValidRequestID(s string) bool { return token.MatchString(s) }

// Step kinds, the words the timeline shows.
const (
	StepEnqueued     = "enqueued"      // Create put the send request on the queue
	StepNotEnqueued  = "not enqueued"  // Create failed: no request, no email
	StepSent         = "sent"          // SES accepted the email
	StepRetrying     = "retrying"      // a transient failure; SQS redelivers
	StepDeadLettered = "dead-lettered" // no retry could fix it
	StepExpired      = "expired"       // the code expired before it could be sent
	StepDuplicate    = "duplicate"     // a second delivery of a sent request, not sent again
	StepDropped      = "dropped"       // a redriven dead letter without its code
	StepNote         = "note"          // a mailer line about the request (a fallback)
	// The feedback function's outcomes, SES's events.
	StepDelivered       = "delivered"
	StepBounced         = "bounced"
	StepComplained      = "complained"
	StepSuppressed      = "suppressed"
	StepDelayed         = "delayed"
	StepRejected        = "rejected"
	StepRenderingFailed = "rendering failed"
)

// Step is one thing that happened to a request, from one log line (or,
// for a dead letter the logs no longer show, from the queue).
type Step struct {
	Time   time.Time `json:"time"`
	Step   string    `json:"step"`
	Source string    `json:"source"` // create, mailer, feedback, dlq
	// GapMillis is the time since the previous step of the same request;
	// absent on the first.
	GapMillis       *int64 `json:"gapMs,omitempty"`
	LogGroup        string `json:"logGroup,omitempty"`
	RequestID       string `json:"requestId,omitempty"`
	Tenant          string `json:"tenant,omitempty"`
	Generation      int    `json:"generation,omitempty"`
	Note            string `json:"note,omitempty"`
	SESMessageID    string `json:"sesMessageId,omitempty"`
	TemplateSet     string `json:"templateSet,omitempty"`
	TemplateVersion string `json:"templateVersion,omitempty"`
	Attempts        int    `json:"attempts,omitempty"`
	Reason          string `json:"reason,omitempty"`
	Error           string `json:"error,omitempty"`
	Event           string `json:"event,omitempty"`
	BounceType      string `json:"bounceType,omitempty"`
	BounceSubType   string `json:"bounceSubType,omitempty"`
	Detail          string `json:"detail,omitempty"` // delay type, complaint feedback type, reject reason
	ToHash          string `json:"toHash,omitempty"`
	eventID         string
}

// Request is one send request's steps, in time order.
type Request struct {
	// ID is the send request's id; "" for a step that made no request (a
	// Create failure), which then stands alone.
	ID         string      `json:"requestId"`
	Tenant     string      `json:"tenant,omitempty"`
	Steps      []Step      `json:"steps"`
	DeadLetter *DeadLetter `json:"deadLetter,omitempty"`
}

// DeadLetter is a request still waiting in the dead-letter queue.
type DeadLetter struct {
	Reason         string    `json:"reason"`
	CodeState      string    `json:"code"` // what a redrive would do: fresh, expired, removed, none
	DeadLetteredAt time.Time `json:"deadLetteredAt,omitzero"`
	Error          string    `json:"error,omitempty"`
}

// Result is what a search found.
type Result struct {
	Requests []Request `json:"requests"`
	// Warnings say what could not be searched (a log group that does not
	// exist: the feedback function not deployed, say).
	Warnings []string `json:"warnings,omitempty"`
}

// Found reports whether anything was found.
func (r Result) Found() bool { return len(r.Requests) > 0 }

// maxPattern is FilterLogEvents' filterPattern limit.
const maxPattern = 1024

// anyOf returns JSON filter patterns matching lines whose field is one of
// values, each pattern within maxPattern: { ($.f = "a") || ($.f = "b") }.
func anyOf(field string, values []string) []string {
	var out []string
	var terms []string
	flush := func() {
		if len(terms) > 0 {
			out = append(out, "{ "+strings.Join(terms, " || ")+" }")
			terms = nil
		}
	}
	size := 4
	for _, v := range values {
		term := fmt.Sprintf(`($.%s = "%s")`, field, v)
		if len(terms) > 0 && size+len(term)+4 > maxPattern {
			flush()
			size = 4
		}
		terms = append(terms, term)
		size += len(term) + 4
	}
	flush()
	return out
}

// maxEvents bounds what one search reads from one group: far more lines
// than one address's codes make in any window a person asks about.
const maxEvents = 10_000

// ErrNoLogGroups is Search's error when none of the groups exists.
var ErrNoLogGroups = errors.New("none of the log groups exists")

// Search reads the log groups for q and builds the timeline: first the
// lines naming the address (or the request), then, for an address, every
// line of the requests those named, which is how the mailer's dead-letter
// lines (which name no recipient) are found.
func Search(ctx context.Context, api LogsAPI, q Query) (Result, error) {
	var res Result
	var first []string
	switch {
	case q.RequestID != "":
		if !ValidRequestID(q.RequestID) {
			return res, fmt.Errorf("trace: %q is not a request id", q.RequestID)
		}
		first = anyOf("request_id", []string{q.RequestID})
	case len(q.ToHashes) > 0:
		for _, h := range q.ToHashes {
			if !token.MatchString(h) {
				return res, fmt.Errorf("trace: %q is not a to_hash", h)
			}
		}
		first = anyOf(pseudonym.FieldToHash, q.ToHashes)
	default:
		return res, errors.New("trace: nothing to search for")
	}
	seen := map[string]bool{} // group + event id
	var steps []Step
	groups := slices.Clone(q.Groups)
	search := func(patterns []string) error {
		for _, g := range slices.Clone(groups) {
			for _, p := range patterns {
				got, err := filter(ctx, api, g, p, q.Start, q.End)
				var missing *types.ResourceNotFoundException
				if errors.As(err, &missing) {
					res.Warnings = append(res.Warnings, fmt.Sprintf("log group %s does not exist; its lines were not searched", g))
					groups = slices.DeleteFunc(groups, func(x string) bool { return x == g })
					break
				}
				if err != nil {
					return fmt.Errorf("search log group %s: %w", g, err)
				}
				if len(got) == maxEvents {
					res.Warnings = append(res.Warnings, fmt.Sprintf("log group %s: stopped after %d lines; narrow --since", g, maxEvents))
				}
				for _, ev := range got {
					key := g + "\x00" + aws.ToString(ev.EventId)
					if seen[key] {
						continue
					}
					seen[key] = true
					if s, ok := parseLine(g, ev); ok {
						steps = append(steps, s)
					}
				}
			}
		}
		return nil
	}
	if err := search(first); err != nil {
		return res, err
	}
	if len(groups) == 0 {
		return res, fmt.Errorf("%w: %s", ErrNoLogGroups, strings.Join(q.Groups, ", "))
	}
	if q.RequestID == "" {
		var ids []string
		for _, s := range steps {
			if s.RequestID != "" && token.MatchString(s.RequestID) && !slices.Contains(ids, s.RequestID) {
				ids = append(ids, s.RequestID)
			}
		}
		if len(ids) > 0 {
			if err := search(anyOf("request_id", ids)); err != nil {
				return res, err
			}
		}
	}
	res.Requests = Group(steps)
	return res, nil
}

// filter reads every page of one FilterLogEvents query, at most maxEvents.
func filter(ctx context.Context, api LogsAPI, group, pattern string, start, end time.Time) ([]types.FilteredLogEvent, error) {
	in := &cloudwatchlogs.FilterLogEventsInput{
		LogGroupName: aws.String(group), FilterPattern: aws.String(pattern),
		StartTime: aws.Int64(start.UnixMilli()), EndTime: aws.Int64(end.UnixMilli()),
	}
	var out []types.FilteredLogEvent
	p := cloudwatchlogs.NewFilterLogEventsPaginator(api, in)
	for p.HasMorePages() && len(out) < maxEvents {
		page, err := p.NextPage(ctx)
		if err != nil {
			return nil, err
		}
		out = append(out, page.Events...)
	}
	return out[:min(len(out), maxEvents)], nil
}

// Group sorts steps into requests, each in time order with the gaps
// between its steps, the requests in the order of their first step. A
// step without a request id stands alone.
func Group(steps []Step) []Request {
	byID := map[string]*Request{}
	var out []*Request
	for _, s := range steps {
		if s.RequestID == "" {
			out = append(out, &Request{Tenant: s.Tenant, Steps: []Step{s}})
			continue
		}
		r := byID[s.RequestID]
		if r == nil {
			r = &Request{ID: s.RequestID}
			byID[s.RequestID] = r
			out = append(out, r)
		}
		r.Steps = append(r.Steps, s)
	}
	for _, r := range out {
		slices.SortStableFunc(r.Steps, func(a, b Step) int {
			// The enqueue comes first whatever the clocks say: the
			// functions run on different hosts, whose clocks differ by
			// milliseconds, and a gap shows that as it is.
			if c := cmp.Compare(min(stepOrder(a.Step), 1), min(stepOrder(b.Step), 1)); c != 0 {
				return c
			}
			if c := a.Time.Compare(b.Time); c != 0 {
				return c
			}
			return stepOrder(a.Step) - stepOrder(b.Step)
		})
		// The mailer notes a fallback on every delivery of the request;
		// once says it.
		var notes []string
		r.Steps = slices.DeleteFunc(r.Steps, func(s Step) bool {
			if s.Step != StepNote {
				return false
			}
			if slices.Contains(notes, s.Note) {
				return true
			}
			notes = append(notes, s.Note)
			return false
		})
		for i := range r.Steps {
			r.Steps[i].GapMillis = nil
			if i > 0 {
				gap := r.Steps[i].Time.Sub(r.Steps[i-1].Time).Milliseconds()
				r.Steps[i].GapMillis = &gap
			}
			if r.Tenant == "" {
				r.Tenant = r.Steps[i].Tenant
			}
		}
	}
	slices.SortStableFunc(out, func(a, b *Request) int { return a.Steps[0].Time.Compare(b.Steps[0].Time) })
	requests := make([]Request, len(out))
	for i, r := range out {
		requests[i] = *r
	}
	return requests
}

// stepOrder breaks ties between steps logged in the same millisecond by
// the order they happen in.
func stepOrder(step string) int {
	switch step {
	case StepEnqueued, StepNotEnqueued:
		return 0
	case StepNote:
		return 1
	case StepRetrying:
		return 2
	case StepSent, StepDeadLettered, StepExpired, StepDuplicate, StepDropped:
		return 3
	}
	return 4 // SES's events come after the send
}
