package trace

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/url"
	"regexp"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sesv2"
	sestypes "github.com/aws/aws-sdk-go-v2/service/sesv2/types"
	"github.com/aws/smithy-go"

	"github.com/cognito-email-otp/cognito-email-otp/mailer/contract"
	"github.com/cognito-email-otp/cognito-email-otp/mailer/ops"
)

// Report is what otpctl trace shows: the query, what the logs and the
// dead-letter queue hold, and SES's suppression list.
type Report struct {
	Address   string    `json:"address,omitempty"` // masked
	RequestID string    `json:"requestId,omitempty"`
	ToHashes  []string  `json:"toHashes,omitempty"`
	Since     string    `json:"since"`
	Start     time.Time `json:"start"`
	End       time.Time `json:"end"`
	LogGroups []string  `json:"logGroups"`
	Found     bool      `json:"found"`
	Result
	// Suppression is whether SES's account suppression list holds the
	// address; nil for a request id (the logs hold no address to ask with).
	Suppression *Suppression `json:"suppression,omitempty"`
}

// Suppression states.
const (
	NotSuppressed = "not_suppressed"
	Suppressed    = "suppressed"
	Unknown       = "unknown"
)

// Suppression is the address's entry on SES's account suppression list.
type Suppression struct {
	Status     string    `json:"status"`
	Reason     string    `json:"reason,omitempty"` // BOUNCE or COMPLAINT
	LastUpdate time.Time `json:"lastUpdate,omitzero"`
	Detail     string    `json:"detail,omitempty"` // why Unknown
}

// SuppressionAPI is the SES v2 call that reads the suppression list.
type SuppressionAPI interface {
	GetSuppressedDestination(ctx context.Context, in *sesv2.GetSuppressedDestinationInput, opts ...func(*sesv2.Options)) (*sesv2.GetSuppressedDestinationOutput, error)
}

// LookupSuppression asks SES whether address is on the account's
// suppression list. NotFoundException is SES's "not on it"; an endpoint
// that does not know the operation (otp-local's SES before it has a
// suppression list), a caller without ses:GetSuppressedDestination and any
// other failure make the answer Unknown, with why. The address never
// appears in the answer: an error's text quotes the request's path.
func LookupSuppression(ctx context.Context, api SuppressionAPI, address string) Suppression {
	out, err := api.GetSuppressedDestination(ctx, &sesv2.GetSuppressedDestinationInput{EmailAddress: aws.String(address)})
	var notFound *sestypes.NotFoundException
	var apiErr smithy.APIError
	switch {
	case err == nil && out.SuppressedDestination != nil:
		d := out.SuppressedDestination
		return Suppression{Status: Suppressed, Reason: string(d.Reason), LastUpdate: aws.ToTime(d.LastUpdateTime).UTC()}
	case err == nil:
		return Suppression{Status: Unknown, Detail: "SES answered without a destination"}
	case errors.As(err, &notFound):
		return Suppression{Status: NotSuppressed}
	case errors.As(err, &apiErr) && apiErr.ErrorCode() == "UnknownOperationException":
		// otp-local's SES before its suppression list; its message lists
		// what it does implement, which says nothing more here.
		return Suppression{Status: Unknown, Detail: "this SES endpoint does not implement GetSuppressedDestination"}
	case errors.As(err, &apiErr) && strings.Contains(apiErr.ErrorCode(), "AccessDenied"):
		return Suppression{Status: Unknown, Detail: "the caller may not read the suppression list (ses:GetSuppressedDestination): " + scrub(apiErr.ErrorMessage(), address)}
	case errors.As(err, &apiErr):
		return Suppression{Status: Unknown, Detail: apiErr.ErrorCode() + ": " + scrub(apiErr.ErrorMessage(), address)}
	}
	return Suppression{Status: Unknown, Detail: scrub(err.Error(), address)}
}

// scrub removes address, also as a URL path quotes it, and any other.
func scrub(s, address string) string {
	for _, form := range []string{address, url.PathEscape(address), url.QueryEscape(address)} {
		if form != "" {
			s = strings.ReplaceAll(s, form, contract.MaskEmail(address))
		}
	}
	return contract.ScrubAddresses(s)
}

// AttachDeadLetters marks the requests still waiting in the dead-letter
// queue. For a trace of one request id, a dead letter of it that the logs
// no longer show (older than the window) becomes its one step.
func (r *Result) AttachDeadLetters(letters []ops.DeadLetter, requestID string) {
	for _, d := range letters {
		if d.RequestID == "" {
			continue
		}
		dl := &DeadLetter{Reason: d.Reason, CodeState: d.CodeState(), DeadLetteredAt: d.DeadLetteredAt, Error: d.Error}
		matched := false
		for i := range r.Requests {
			if r.Requests[i].ID == d.RequestID {
				r.Requests[i].DeadLetter, matched = dl, true
			}
		}
		if matched || d.RequestID != requestID {
			continue
		}
		at := d.DeadLetteredAt
		if at.IsZero() {
			at = d.SentAt
		}
		r.Requests = append(r.Requests, Request{ID: d.RequestID, Tenant: d.Tenant, DeadLetter: dl, Steps: []Step{{
			Time: at, Step: StepDeadLettered, Source: "dlq", RequestID: d.RequestID, Tenant: d.Tenant,
			Reason: d.Reason, Error: d.Error, TemplateSet: d.TemplateSet, TemplateVersion: d.TemplateVersion,
		}}})
	}
}

// WriteText writes the report for a person: one block per request, one
// line per step, the first with its time (UTC) and the rest with the gap
// since the step before.
func (r Report) WriteText(w io.Writer) {
	switch {
	case r.Address != "":
		fmt.Fprintf(w, "trace %s", r.Address)
		if len(r.ToHashes) > 0 {
			fmt.Fprintf(w, "  (to_hash %s", r.ToHashes[0])
			if len(r.ToHashes) > 1 {
				fmt.Fprintf(w, "; before the last key rotation %s", strings.Join(r.ToHashes[1:], ", "))
			}
			fmt.Fprint(w, ")")
		}
		fmt.Fprintln(w)
	default:
		fmt.Fprintf(w, "trace request %s\n", r.RequestID)
	}
	fmt.Fprintf(w, "searched %s from %s to %s UTC (the last %s)\n", strings.Join(r.LogGroups, ", "),
		r.Start.UTC().Format("2006-01-02 15:04:05"), r.End.UTC().Format("15:04:05"), r.Since)
	multiDay := r.Start.UTC().YearDay() != r.End.UTC().YearDay() || r.Start.UTC().Year() != r.End.UTC().Year()
	for _, req := range r.Requests {
		fmt.Fprintln(w)
		for i, s := range req.Steps {
			when := s.Time.UTC().Format("15:04:05.000")
			if multiDay {
				when = s.Time.UTC().Format("01-02 15:04:05.000")
			}
			if i > 0 && s.GapMillis != nil {
				when = gap(time.Duration(*s.GapMillis) * time.Millisecond)
			}
			fmt.Fprintf(w, "%*s  %-16s %s\n", len(when0(multiDay)), when, s.Step, details(s, i == 0))
		}
		if d := req.DeadLetter; d != nil {
			fmt.Fprintf(w, "%*s  %-16s %s\n", len(when0(multiDay)), "", "", deadLetterLine(*d))
		}
	}
	if !r.Found {
		fmt.Fprintln(w)
		what := "this address"
		if r.Address == "" {
			what = "this request"
		}
		fmt.Fprintf(w, "nothing found: no line in those log groups names %s in that window.\n", what)
		fmt.Fprintln(w, "  An older code needs a longer --since. With none at all, the sign-in may have stopped before the code step")
		fmt.Fprintln(w, "  (a wrong password, a locked or unverified account: otpctl user status EMAIL), or the account's address is another one.")
	}
	if len(r.Warnings) > 0 {
		fmt.Fprintln(w)
		for _, warn := range r.Warnings {
			fmt.Fprintln(w, "note:", warn)
		}
	}
	if s := r.Suppression; s != nil {
		fmt.Fprintln(w)
		switch s.Status {
		case Suppressed:
			fmt.Fprintf(w, "SES suppression list: %s is suppressed (%s, since %s): SES drops every email to it. Remove it with\n",
				r.Address, s.Reason, s.LastUpdate.Format("2006-01-02 15:04:05 UTC"))
			fmt.Fprintln(w, "  aws sesv2 delete-suppressed-destination --email-address ADDRESS, once the mailbox works again")
		case NotSuppressed:
			fmt.Fprintf(w, "SES suppression list: %s is not suppressed\n", r.Address)
		default:
			fmt.Fprintf(w, "SES suppression list: unknown (%s)\n", s.Detail)
		}
	}
}

// when0 is as wide as a step's time.
func when0(multiDay bool) string {
	if multiDay {
		return "01-02 15:04:05.000"
	}
	return "15:04:05.000"
}

// gap is the time between two steps as the timeline shows it: +45ms,
// +0.8s, +2m05s.
func gap(d time.Duration) string {
	switch {
	case d < 0:
		// Another host's clock, behind: said as it is.
		return "-" + gap(-d)[1:]
	case d < 100*time.Millisecond:
		return fmt.Sprintf("+%dms", d.Milliseconds())
	case d < time.Minute:
		return fmt.Sprintf("+%.1fs", d.Seconds())
	case d < time.Hour:
		return fmt.Sprintf("+%dm%02ds", int(d.Minutes()), int(d.Seconds())%60)
	}
	return "+" + d.Round(time.Minute).String()
}

// details is what a step's line says after its name.
func details(s Step, first bool) string {
	var parts []string
	add := func(format string, args ...any) { parts = append(parts, fmt.Sprintf(format, args...)) }
	if first && s.RequestID != "" {
		add("request %s", s.RequestID)
	}
	if first && s.Tenant != "" {
		add("tenant %s", s.Tenant)
	}
	switch s.Step {
	case StepEnqueued:
		source := "Create"
		if s.Note == "resend" {
			source = "Create, a resend"
		}
		if s.Generation > 1 {
			source += fmt.Sprintf(", code %d of the sign-in", s.Generation)
		}
		add("(%s)", source)
	case StepNotEnqueued:
		add("(Create: %s)", orDash(s.Reason))
	case StepSent:
		if s.SESMessageID != "" {
			add("ses id %s", s.SESMessageID)
		}
		if s.TemplateSet != "" {
			add("%s@%s", s.TemplateSet, s.TemplateVersion)
		}
		if s.Attempts > 1 {
			add("after %d attempts", s.Attempts)
		}
	case StepRetrying:
		add("%s", orDash(sdkNoise.ReplaceAllString(s.Error, "")))
	case StepDeadLettered:
		why := sdkNoise.ReplaceAllString(s.Error, "")
		switch {
		case why == "":
			add("%s", orDash(s.Reason))
		case strings.HasPrefix(why, s.Reason+": "):
			add("%s", why) // the mailer's error already leads with its reason
		default:
			add("%s: %s", s.Reason, why)
		}
		if s.Source == "dlq" {
			add("(from the dead-letter queue; its log lines are older than the window)")
		}
	case StepExpired:
		add("the code expired before it could be sent")
	case StepDuplicate:
		add("a second delivery of a request already sent; not sent again")
	case StepDropped:
		add("a redriven dead letter without its code; the user signs in again")
	case StepNote:
		add("%s", s.Note)
	case StepBounced:
		add("%s", strings.TrimSpace(s.BounceType+" "+paren(s.BounceSubType)))
	case StepDelayed, StepComplained, StepRejected:
		if s.Detail != "" {
			add("%s", s.Detail)
		}
	case StepSuppressed:
		add("SES did not send it: the address is on its suppression list")
	}
	return strings.Join(parts, "  ")
}

func deadLetterLine(d DeadLetter) string {
	what := map[string]string{
		"fresh":   "a redrive sends it",
		"expired": "its code expired; a redrive drops it",
		"removed": "the mailer removed its code; a redrive drops it",
		"none":    "not a send request",
	}[d.CodeState]
	if what == "" {
		what = d.CodeState
	}
	return fmt.Sprintf("still in the dead-letter queue (%s): otpctl dlq list --reason %s", what, d.Reason)
}

// sdkNoise is the part of an AWS SDK error that names the call and the
// HTTP exchange rather than what went wrong: "operation error SESv2:
// SendEmail, https response error StatusCode: 400, RequestID: …, ". The
// JSON output keeps the error whole.
var sdkNoise = regexp.MustCompile(`operation error [^,]+, (?:https response error StatusCode: \d+, RequestID: [^,]*, )?`)

func paren(s string) string {
	if s == "" {
		return ""
	}
	return "(" + s + ")"
}

func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}
