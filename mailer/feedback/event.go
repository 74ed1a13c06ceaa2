package feedback

import (
	"encoding/json"
	"time"
)

// Event is one email sending event record as SES event publishing writes
// it to SNS ("Contents of event data that Amazon SES publishes to Amazon
// SNS", SES developer guide). Every field SES documents is kept, so a
// record decodes and re-encodes without loss (the fixtures under testdata
// hold it); timestamps stay strings for the same reason. The objects of
// events this package does not count (open, click, subscription) are kept
// as they came.
type Event struct {
	EventType     string          `json:"eventType"`
	Mail          Mail            `json:"mail"`
	Bounce        *Bounce         `json:"bounce,omitempty"`
	Complaint     *Complaint      `json:"complaint,omitempty"`
	Delivery      *Delivery       `json:"delivery,omitempty"`
	Send          *struct{}       `json:"send,omitempty"` // always {}
	Reject        *Reject         `json:"reject,omitempty"`
	Failure       *Failure        `json:"failure,omitempty"`
	DeliveryDelay *DeliveryDelay  `json:"deliveryDelay,omitempty"`
	Open          json.RawMessage `json:"open,omitempty"`
	Click         json.RawMessage `json:"click,omitempty"`
	Subscription  json.RawMessage `json:"subscription,omitempty"`
}

// The eventType values SES publishes. The rendering failure's is written
// with a space in the developer guide's examples and without one in its
// lists; both are accepted.
const (
	TypeSend             = "Send"
	TypeDelivery         = "Delivery"
	TypeBounce           = "Bounce"
	TypeComplaint        = "Complaint"
	TypeReject           = "Reject"
	TypeDeliveryDelay    = "DeliveryDelay"
	TypeRenderingFailure = "Rendering Failure"
	typeRenderingFailure = "RenderingFailure"
	TypeOpen             = "Open"
	TypeClick            = "Click"
	TypeSubscription     = "Subscription"
)

// Mail is the email that produced the event.
type Mail struct {
	Timestamp        string              `json:"timestamp"` // when SES accepted it
	Source           string              `json:"source"`
	SourceArn        string              `json:"sourceArn,omitempty"`
	SendingAccountID string              `json:"sendingAccountId,omitempty"`
	MessageID        string              `json:"messageId"`
	Destination      []string            `json:"destination"`
	HeadersTruncated bool                `json:"headersTruncated"`
	Headers          []Header            `json:"headers,omitempty"`
	CommonHeaders    *CommonHeaders      `json:"commonHeaders,omitempty"`
	Tags             map[string][]string `json:"tags,omitempty"`
}

// Header is one of the email's original headers.
type Header struct {
	Name  string `json:"name"`
	Value string `json:"value"`
}

// CommonHeaders are the email's commonly used headers.
type CommonHeaders struct {
	From       []string `json:"from,omitempty"`
	ReplyTo    []string `json:"replyTo,omitempty"`
	To         []string `json:"to,omitempty"`
	Cc         []string `json:"cc,omitempty"`
	Bcc        []string `json:"bcc,omitempty"`
	Sender     []string `json:"sender,omitempty"`
	ReturnPath string   `json:"returnPath,omitempty"`
	MessageID  string   `json:"messageId,omitempty"`
	Date       string   `json:"date,omitempty"`
	Subject    string   `json:"subject,omitempty"`
}

// Bounce types and the sub-types that mean SES did not try to deliver.
const (
	BouncePermanent    = "Permanent"
	BounceTransient    = "Transient"
	BounceUndetermined = "Undetermined"
	// SubSuppressed: SES's global suppression list; SubAccountList: the
	// account-level suppression list (not counted in SES's bounce rate).
	SubSuppressed  = "Suppressed"
	SubAccountList = "OnAccountSuppressionList"
)

// Bounce is a bounce event's object.
type Bounce struct {
	BounceType        string      `json:"bounceType"`
	BounceSubType     string      `json:"bounceSubType"`
	BouncedRecipients []Recipient `json:"bouncedRecipients"`
	Timestamp         string      `json:"timestamp"`
	FeedbackID        string      `json:"feedbackId"`
	ReportingMTA      string      `json:"reportingMTA,omitempty"`
	RemoteMTAIP       string      `json:"remoteMtaIp,omitempty"`
}

// Recipient is a bounced, complained or delayed recipient; the DSN fields
// are present when SES had one.
type Recipient struct {
	EmailAddress   string `json:"emailAddress"`
	Action         string `json:"action,omitempty"`
	Status         string `json:"status,omitempty"`
	DiagnosticCode string `json:"diagnosticCode,omitempty"`
}

// Complaint is a complaint event's object.
type Complaint struct {
	ComplainedRecipients  []Recipient `json:"complainedRecipients"`
	Timestamp             string      `json:"timestamp"`
	FeedbackID            string      `json:"feedbackId"`
	ComplaintSubType      *string     `json:"complaintSubType,omitempty"` // null or OnAccountSuppressionList
	UserAgent             string      `json:"userAgent,omitempty"`
	ComplaintFeedbackType string      `json:"complaintFeedbackType,omitempty"`
	ArrivalDate           string      `json:"arrivalDate,omitempty"`
}

// Delivery is a delivery event's object.
type Delivery struct {
	Timestamp            string   `json:"timestamp"` // when the recipient's server accepted it
	ProcessingTimeMillis int64    `json:"processingTimeMillis"`
	Recipients           []string `json:"recipients"`
	SMTPResponse         string   `json:"smtpResponse"`
	ReportingMTA         string   `json:"reportingMTA"`
	RemoteMTAIP          string   `json:"remoteMtaIp,omitempty"`
}

// Reject is a reject event's object ("Bad content": a virus).
type Reject struct {
	Reason string `json:"reason"`
}

// Failure is a rendering failure's object (SES templates; the mailer
// renders its own, so none is expected).
type Failure struct {
	ErrorMessage string `json:"errorMessage"`
	TemplateName string `json:"templateName"`
}

// DeliveryDelay is a delivery delay event's object.
type DeliveryDelay struct {
	Timestamp         string      `json:"timestamp"`
	DelayType         string      `json:"delayType"`
	ExpirationTime    string      `json:"expirationTime,omitempty"`
	DelayedRecipients []Recipient `json:"delayedRecipients"`
	ReportingMTA      string      `json:"reportingMTA,omitempty"`
}

// Tag returns the first value of a message tag, "" when it is absent.
func (m Mail) Tag(name string) string {
	if v := m.Tags[name]; len(v) > 0 {
		return v[0]
	}
	return ""
}

// parseTime reads SES's ISO 8601 timestamps.
func parseTime(s string) (time.Time, bool) {
	t, err := time.Parse(time.RFC3339Nano, s)
	return t, err == nil
}
