package sqslocal

import (
	"context"
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"
)

// ---- sending ----

type sendMessageInput struct {
	QueueURL                string                    `json:"QueueUrl"`
	MessageBody             *string                   `json:"MessageBody"`
	DelaySeconds            *int                      `json:"DelaySeconds"`
	MessageAttributes       map[string]attributeValue `json:"MessageAttributes" query:"MessageAttribute,Name,Value"`
	MessageSystemAttributes map[string]attributeValue `json:"MessageSystemAttributes" query:"MessageSystemAttribute,Name,Value"`
	MessageDeduplicationID  *string                   `json:"MessageDeduplicationId"`
	MessageGroupID          *string                   `json:"MessageGroupId"`
}

type sendMessageOutput struct {
	MessageID                    string `json:"MessageId"`
	MD5OfMessageBody             string `json:"MD5OfMessageBody"`
	MD5OfMessageAttributes       string `json:"MD5OfMessageAttributes,omitempty"`
	MD5OfMessageSystemAttributes string `json:"MD5OfMessageSystemAttributes,omitempty"`
}

func (s *Server) opSendMessage(rc *reqCtx, decode decoder) (any, error) {
	var in sendMessageInput
	if err := decode(&in); err != nil {
		return nil, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	q, err := s.queueByURL(in.QueueURL)
	if err != nil {
		return nil, err
	}
	m, err := s.newMessage(q, in, rc.senderID)
	if err != nil {
		return nil, err
	}
	q.expire(m.sent)
	q.add(m)
	q.sentCount++
	return sendMessageOutput{m.id, m.md5Body, m.md5Attrs, m.md5SysAttrs}, nil
}

// newMessage validates one message for q and builds it; it does not enqueue.
func (s *Server) newMessage(q *queue, in sendMessageInput, senderID string) (*message, error) {
	if in.MessageBody == nil || *in.MessageBody == "" {
		return nil, errMissingParameter("MessageBody")
	}
	body := *in.MessageBody
	if err := checkBodyCharacters(body); err != nil {
		return nil, err
	}
	if in.MessageGroupID != nil {
		return nil, errInvalidParameterValue("Value %s for parameter MessageGroupId is invalid. Reason: The request include parameter that is not valid for this queue type.", *in.MessageGroupID)
	}
	if in.MessageDeduplicationID != nil {
		return nil, errInvalidParameterValue("Value %s for parameter MessageDeduplicationId is invalid. Reason: The request include parameter that is not valid for this queue type.", *in.MessageDeduplicationID)
	}
	delay := q.cfg.delaySeconds
	if in.DelaySeconds != nil {
		if *in.DelaySeconds < 0 || *in.DelaySeconds > maxDelaySeconds {
			return nil, errInvalidParameterValue("Value %d for parameter DelaySeconds is invalid. Reason: DelaySeconds must be >= 0 and <= %d.", *in.DelaySeconds, maxDelaySeconds)
		}
		delay = *in.DelaySeconds
	}
	attrs, err := checkMessageAttributes(in.MessageAttributes)
	if err != nil {
		return nil, err
	}
	sysAttrs, err := checkSystemAttributes(in.MessageSystemAttributes)
	if err != nil {
		return nil, err
	}
	size := len(body)
	for n, a := range attrs {
		size += a.size(n)
	}
	if size > q.cfg.maxMessageSize {
		return nil, errInvalidParameterValue("One or more parameters are invalid. Reason: Message must be shorter than %d bytes.", q.cfg.maxMessageSize)
	}
	now := s.clock.Now()
	return &message{
		id:          newMessageID(),
		seq:         s.nextSeq(),
		body:        body,
		attrs:       attrs,
		sysAttrs:    sysAttrs,
		md5Body:     md5Hex(body),
		md5Attrs:    md5OfAttributes(attrs),
		md5SysAttrs: md5OfAttributes(sysAttrs),
		size:        size,
		senderID:    senderID,
		sent:        now,
		arrived:     now,
		visibleAt:   now.Add(time.Duration(delay) * time.Second),
	}, nil
}

// checkBodyCharacters enforces the XML 1.0 character set SQS allows.
func checkBodyCharacters(body string) error {
	for i, r := range body {
		if r == utf8.RuneError {
			if _, n := utf8.DecodeRuneInString(body[i:]); n <= 1 {
				return errInvalidMessageContents("Invalid binary character was found in the message body: the body is not valid UTF-8.")
			}
		}
		if !allowedRune(r) {
			return errInvalidMessageContents("Invalid binary character '#x%X' was found in the message body, the set of allowed characters is #x9 | #xA | #xD | #x20 to #xD7FF | #xE000 to #xFFFD | #x10000 to #x10FFFF", r)
		}
	}
	return nil
}

func allowedRune(r rune) bool {
	return r == 0x9 || r == 0xA || r == 0xD ||
		(r >= 0x20 && r <= 0xD7FF) || (r >= 0xE000 && r <= 0xFFFD) || (r >= 0x10000 && r <= 0x10FFFF)
}

var (
	attrNameRE = regexp.MustCompile(`^[A-Za-z0-9_.-]{1,256}$`)
	dataTypeRE = regexp.MustCompile(`^(String|Number|Binary)(\.[A-Za-z0-9_.-]+)?$`)
	numberRE   = regexp.MustCompile(`^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$`)
)

// checkMessageAttributes applies the message-attribute rules of the SQS
// developer guide and returns the attributes without the reserved list
// members.
func checkMessageAttributes(in map[string]attributeValue) (map[string]attributeValue, error) {
	if len(in) == 0 {
		return nil, nil
	}
	if len(in) > maxMessageAttributes {
		return nil, errInvalidParameterValue("Number of message attributes [%d] exceeds the allowed maximum [%d].", len(in), maxMessageAttributes)
	}
	out := make(map[string]attributeValue, len(in))
	for name, a := range in {
		lower := strings.ToLower(name)
		switch {
		case !attrNameRE.MatchString(name) || strings.HasPrefix(name, ".") || strings.HasSuffix(name, ".") || strings.Contains(name, ".."):
			return nil, errInvalidParameterValue("Message (user) attribute name '%s' is invalid: use up to 256 of A-Z a-z 0-9 _ - . without leading, trailing or doubled periods.", name)
		case strings.HasPrefix(lower, "aws.") || strings.HasPrefix(lower, "amazon."):
			return nil, errInvalidParameterValue("Message (user) attribute name '%s' is invalid: names starting with AWS. or Amazon. are reserved.", name)
		case a.DataType == "":
			return nil, errInvalidParameterValue("The message attribute '%s' must contain non-empty message attribute type.", name)
		case !dataTypeRE.MatchString(a.DataType) || len(a.DataType) > 256:
			return nil, errInvalidParameterValue("The type of message (user) attribute '%s' is invalid. You must use only the following supported type prefixes: Binary, Number, String.", name)
		}
		v := attributeValue{DataType: a.DataType}
		if isBinaryType(a.DataType) {
			if len(a.BinaryValue) == 0 || a.StringValue != nil {
				return nil, errInvalidParameterValue("Message (user) attribute '%s' must contain a non-empty value of message attribute type 'Binary'.", name)
			}
			v.BinaryValue = a.BinaryValue
		} else {
			if a.StringValue == nil || *a.StringValue == "" || a.BinaryValue != nil {
				return nil, errInvalidParameterValue("Message (user) attribute '%s' must contain a non-empty value of message attribute type '%s'.", name, strings.SplitN(a.DataType, ".", 2)[0])
			}
			if strings.HasPrefix(a.DataType, "Number") && !numberRE.MatchString(*a.StringValue) {
				return nil, errInvalidParameterValue("Can't cast the value of message (user) attribute '%s' to a number.", name)
			}
			if err := checkBodyCharacters(*a.StringValue); err != nil {
				return nil, errInvalidParameterValue("Message (user) attribute '%s' contains characters outside the allowed set.", name)
			}
			sv := *a.StringValue
			v.StringValue = &sv
		}
		out[name] = v
	}
	return out, nil
}

// checkSystemAttributes accepts the one system attribute a sender may set.
func checkSystemAttributes(in map[string]attributeValue) (map[string]attributeValue, error) {
	if len(in) == 0 {
		return nil, nil
	}
	out := map[string]attributeValue{}
	for name, a := range in {
		if name != "AWSTraceHeader" {
			return nil, errInvalidParameterValue("Message system attribute name '%s' is invalid.", name)
		}
		if a.DataType != "String" || a.StringValue == nil || *a.StringValue == "" {
			return nil, errInvalidParameterValue("Message system attribute 'AWSTraceHeader' must contain a non-empty value of type 'String'.")
		}
		sv := *a.StringValue
		out[name] = attributeValue{DataType: "String", StringValue: &sv}
	}
	return out, nil
}

// ---- batches ----

var batchIDRE = regexp.MustCompile(`^[A-Za-z0-9_-]{1,80}$`)

// checkBatchIDs applies the request-level batch rules shared by the three
// batch operations, in the order SQS reports them.
func checkBatchIDs(entryType string, ids []string) error {
	if len(ids) == 0 {
		return errEmptyBatchRequest(entryType)
	}
	if len(ids) > maxBatchEntries {
		return errTooManyEntriesInBatchRequest(len(ids))
	}
	seen := map[string]bool{}
	for _, id := range ids {
		if !batchIDRE.MatchString(id) {
			return errInvalidBatchEntryID()
		}
		if seen[id] {
			return errBatchEntryIdsNotDistinct(id)
		}
		seen[id] = true
	}
	return nil
}

type batchResultError struct {
	ID          string `json:"Id"`
	SenderFault bool   `json:"SenderFault"`
	Code        string `json:"Code"`
	Message     string `json:"Message,omitempty"`
}

func batchFailure(id string, err error) (batchResultError, error) {
	ae, ok := err.(*apiError)
	if !ok {
		return batchResultError{}, err
	}
	return batchResultError{ID: id, SenderFault: !ae.receiver, Code: ae.queryCode, Message: ae.message}, nil
}

type sendBatchEntry struct {
	ID string `json:"Id"`
	sendMessageInput
}

type sendMessageBatchInput struct {
	QueueURL string           `json:"QueueUrl"`
	Entries  []sendBatchEntry `json:"Entries" query:"SendMessageBatchRequestEntry"`
}

type sendBatchResult struct {
	ID string `json:"Id"`
	sendMessageOutput
}

type sendMessageBatchOutput struct {
	Successful []sendBatchResult  `json:"Successful" query:"SendMessageBatchResultEntry"`
	Failed     []batchResultError `json:"Failed" query:"BatchResultErrorEntry"`
}

func (s *Server) opSendMessageBatch(rc *reqCtx, decode decoder) (any, error) {
	var in sendMessageBatchInput
	if err := decode(&in); err != nil {
		return nil, err
	}
	ids := make([]string, len(in.Entries))
	total := 0
	for i, e := range in.Entries {
		ids[i] = e.ID
		if e.MessageBody != nil {
			total += len(*e.MessageBody)
		}
		for n, a := range e.MessageAttributes {
			total += a.size(n)
		}
	}
	if err := checkBatchIDs("SendMessageBatchRequestEntry", ids); err != nil {
		return nil, err
	}
	if total > maxBatchBytes {
		return nil, errBatchRequestTooLong(maxBatchBytes, total)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	q, err := s.queueByURL(in.QueueURL)
	if err != nil {
		return nil, err
	}
	q.expire(s.clock.Now())
	out := sendMessageBatchOutput{Successful: []sendBatchResult{}, Failed: []batchResultError{}}
	for _, e := range in.Entries {
		m, err := s.newMessage(q, e.sendMessageInput, rc.senderID)
		if err != nil {
			f, ferr := batchFailure(e.ID, err)
			if ferr != nil {
				return nil, ferr
			}
			out.Failed = append(out.Failed, f)
			continue
		}
		q.add(m)
		q.sentCount++
		out.Successful = append(out.Successful, sendBatchResult{e.ID, sendMessageOutput{m.id, m.md5Body, m.md5Attrs, m.md5SysAttrs}})
	}
	return out, nil
}

// ---- receiving ----

type receiveMessageInput struct {
	QueueURL       string   `json:"QueueUrl"`
	AttributeNames []string `json:"AttributeNames" query:"AttributeName"`
	// The model gives MessageSystemAttributeNames the Query name
	// AttributeName too, so Query requests fill AttributeNames only.
	MessageSystemAttributeNames []string `json:"MessageSystemAttributeNames" query:"-"`
	MessageAttributeNames       []string `json:"MessageAttributeNames" query:"MessageAttributeName"`
	MaxNumberOfMessages         *int     `json:"MaxNumberOfMessages"`
	VisibilityTimeout           *int     `json:"VisibilityTimeout"`
	WaitTimeSeconds             *int     `json:"WaitTimeSeconds"`
	ReceiveRequestAttemptID     *string  `json:"ReceiveRequestAttemptId"`
}

type outMessage struct {
	MessageID              string                    `json:"MessageId"`
	ReceiptHandle          string                    `json:"ReceiptHandle"`
	MD5OfBody              string                    `json:"MD5OfBody"`
	Body                   string                    `json:"Body"`
	Attributes             map[string]string         `json:"Attributes,omitempty" query:"Attribute,Name,Value"`
	MD5OfMessageAttributes string                    `json:"MD5OfMessageAttributes,omitempty"`
	MessageAttributes      map[string]attributeValue `json:"MessageAttributes,omitempty" query:"MessageAttribute,Name,Value"`
}

type receiveMessageOutput struct {
	Messages []outMessage `json:"Messages,omitempty" query:"Message"`
}

// systemAttributeNames are the names ReceiveMessage accepts in
// MessageSystemAttributeNames (and the deprecated AttributeNames). The FIFO
// ones are accepted and never present on a standard queue.
var systemAttributeNames = []string{
	"SenderId", "SentTimestamp", "ApproximateReceiveCount", "ApproximateFirstReceiveTimestamp",
	"AWSTraceHeader", "DeadLetterQueueSourceArn",
	"SequenceNumber", "MessageDeduplicationId", "MessageGroupId",
}

// receiveRequest is a validated ReceiveMessage.
type receiveRequest struct {
	max        int
	visibility time.Duration // < 0: the queue's default
	wait       time.Duration // < 0: the queue's ReceiveMessageWaitTimeSeconds
	sysAll     bool
	sysNames   map[string]bool
	attrAll    bool
	attrNames  map[string]bool
	attrPrefix []string
}

func parseReceive(in receiveMessageInput) (receiveRequest, error) {
	r := receiveRequest{max: 1, visibility: -1, wait: -1, sysNames: map[string]bool{}, attrNames: map[string]bool{}}
	if n := in.MaxNumberOfMessages; n != nil {
		if *n < 1 || *n > maxBatchEntries {
			return r, errInvalidParameterValue("Value %d for parameter MaxNumberOfMessages is invalid. Reason: Must be between 1 and 10, if provided.", *n)
		}
		r.max = *n
	}
	if v := in.VisibilityTimeout; v != nil {
		if *v < 0 || *v > maxVisibilitySeconds {
			return r, errInvalidParameterValue("Value %d for parameter VisibilityTimeout is invalid. Reason: Must be >= 0 and <= %d, if provided.", *v, maxVisibilitySeconds)
		}
		r.visibility = time.Duration(*v) * time.Second
	}
	if w := in.WaitTimeSeconds; w != nil {
		if *w < 0 || *w > maxWaitSeconds {
			return r, errInvalidParameterValue("Value %d for parameter WaitTimeSeconds is invalid. Reason: Must be >= 0 and <= %d, if provided.", *w, maxWaitSeconds)
		}
		r.wait = time.Duration(*w) * time.Second
	}
	for _, n := range append(append([]string{}, in.AttributeNames...), in.MessageSystemAttributeNames...) {
		switch {
		case n == "All":
			r.sysAll = true
		case contains(systemAttributeNames, n):
			r.sysNames[n] = true
		default:
			return r, errInvalidAttributeName("Unknown Attribute %s.", n)
		}
	}
	for _, n := range in.MessageAttributeNames {
		switch {
		case n == "All" || n == ".*":
			r.attrAll = true
		case strings.HasSuffix(n, ".*"):
			r.attrPrefix = append(r.attrPrefix, strings.TrimSuffix(n, "*"))
		default:
			r.attrNames[n] = true
		}
	}
	return r, nil
}

func (r receiveRequest) wantAttr(name string) bool {
	if r.attrAll || r.attrNames[name] {
		return true
	}
	for _, p := range r.attrPrefix {
		if strings.HasPrefix(name, p) {
			return true
		}
	}
	return false
}

func (s *Server) opReceiveMessage(rc *reqCtx, decode decoder) (any, error) {
	var in receiveMessageInput
	if err := decode(&in); err != nil {
		return nil, err
	}
	req, err := parseReceive(in)
	if err != nil {
		return nil, err
	}
	msgs, err := s.receive(rc.ctx, in.QueueURL, req)
	if err != nil {
		return nil, err
	}
	return receiveMessageOutput{Messages: msgs}, nil
}

// receive takes visible messages from the queue, long-polling up to the
// wait time. It returns as soon as at least one message is available, as
// SQS does, and returns empty when the wait ends, the request's context
// ends, the queue is deleted or the server closes.
func (s *Server) receive(ctx context.Context, queueURL string, req receiveRequest) ([]outMessage, error) {
	s.mu.Lock()
	q, err := s.queueByURL(queueURL)
	if err != nil {
		s.mu.Unlock()
		return nil, err
	}
	wait := req.wait
	if wait < 0 {
		wait = time.Duration(q.cfg.waitTimeSeconds) * time.Second
	}
	deadline := s.clock.Now().Add(wait)
	for {
		now := s.clock.Now()
		if q.deleted {
			s.mu.Unlock()
			return nil, nil
		}
		out := s.take(q, req, now)
		if len(out) > 0 || !now.Before(deadline) {
			s.mu.Unlock()
			return out, nil
		}
		until := deadline
		if next := q.nextWake(now); !next.IsZero() && next.Before(until) {
			until = next
		}
		changed := q.changed
		q.pollers++
		s.mu.Unlock()

		timer := s.clock.NewTimer(until.Sub(now))
		var stop bool
		select {
		case <-changed:
		case <-timer.C():
		case <-ctx.Done():
			stop = true
		case <-s.done:
			stop = true
		}
		timer.Stop()

		s.mu.Lock()
		q.pollers--
		if stop {
			s.mu.Unlock()
			return nil, nil
		}
	}
}

// take receives up to req.max visible messages from q. A message that has
// already been received maxReceiveCount times moves to the dead-letter
// queue at the receive that would exceed the count, instead of being
// returned. Callers hold s.mu.
func (s *Server) take(q *queue, req receiveRequest, now time.Time) []outMessage {
	q.expire(now)
	visibility := req.visibility
	if visibility < 0 {
		visibility = time.Duration(q.cfg.visibilitySeconds) * time.Second
	}
	var out []outMessage
	for i := 0; i < len(q.msgs) && len(out) < req.max; {
		m := q.msgs[i]
		if !m.visible(now) {
			i++
			continue
		}
		if rp := q.cfg.redrive; rp != nil && m.receiveCount >= rp.MaxReceiveCount {
			if dlq := s.queueByARN(rp.DeadLetterTargetArn); dlq != nil {
				q.removeAt(i)
				s.moveToDLQ(m, q, dlq, now)
				continue
			}
			// The DLQ is gone: SQS cannot move the message, so it stays.
		}
		m.receiveCount++
		if m.firstReceive.IsZero() {
			m.firstReceive = now
		}
		m.lastReceive = now
		m.inFlight = true
		m.visibleAt = now.Add(visibility)
		m.receipt = newReceiptHandle(q.name, m.id, m.receiveCount)
		q.receivedCount++
		out = append(out, render(m, req))
		i++
	}
	return out
}

func (s *Server) moveToDLQ(m *message, src, dlq *queue, now time.Time) {
	m.inFlight = false
	m.visibleAt = now
	m.receipt = ""
	m.dlqSourceArn = src.arn
	m.arrived = now
	m.receivesBefore = m.receiveCount
	dlq.expire(now)
	dlq.add(m)
	s.log.Info("sqslocal: message moved to dead-letter queue",
		"queue", src.name, "dlq", dlq.name, "message_id", m.id, "receive_count", m.receiveCount)
}

func render(m *message, req receiveRequest) outMessage {
	o := outMessage{MessageID: m.id, ReceiptHandle: m.receipt, MD5OfBody: m.md5Body, Body: m.body}
	sys := map[string]string{
		"SenderId":                         m.senderID,
		"SentTimestamp":                    millis(m.sent),
		"ApproximateReceiveCount":          strconv.Itoa(m.receiveCount),
		"ApproximateFirstReceiveTimestamp": millis(m.firstReceive),
	}
	if a, ok := m.sysAttrs["AWSTraceHeader"]; ok {
		sys["AWSTraceHeader"] = a.stringValue()
	}
	if m.dlqSourceArn != "" {
		sys["DeadLetterQueueSourceArn"] = m.dlqSourceArn
	}
	for n, v := range sys {
		if req.sysAll || req.sysNames[n] {
			if o.Attributes == nil {
				o.Attributes = map[string]string{}
			}
			o.Attributes[n] = v
		}
	}
	for n, a := range m.attrs {
		if req.wantAttr(n) {
			if o.MessageAttributes == nil {
				o.MessageAttributes = map[string]attributeValue{}
			}
			o.MessageAttributes[n] = a
		}
	}
	// The digest covers the attributes returned, which is what the SDKs
	// that check it recompute.
	o.MD5OfMessageAttributes = md5OfAttributes(o.MessageAttributes)
	return o
}

func millis(t time.Time) string { return strconv.FormatInt(t.UnixMilli(), 10) }

// ---- deleting and visibility ----

type deleteMessageInput struct {
	QueueURL      string `json:"QueueUrl"`
	ReceiptHandle string `json:"ReceiptHandle"`
}

func (s *Server) opDeleteMessage(_ *reqCtx, decode decoder) (any, error) {
	var in deleteMessageInput
	if err := decode(&in); err != nil {
		return nil, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	q, err := s.queueByURL(in.QueueURL)
	if err != nil {
		return nil, err
	}
	if err := s.deleteMessage(q, in.ReceiptHandle); err != nil {
		return nil, err
	}
	return empty{}, nil
}

// deleteMessage follows the DeleteMessage reference: a handle that is not a
// receipt handle of this queue is ReceiptHandleIsInvalid; a handle from an
// earlier receive of a message received again since "succeeds, but the
// message will not be deleted"; a handle of a message already gone succeeds.
func (s *Server) deleteMessage(q *queue, handle string) error {
	if handle == "" {
		return errMissingParameter("ReceiptHandle")
	}
	qname, id, ok := parseReceiptHandle(handle)
	if !ok || qname != q.name {
		return errReceiptHandleIsInvalid(handle)
	}
	m := q.byID[id]
	if m == nil || m.receipt != handle {
		return nil
	}
	q.remove(m)
	q.deletedCount++
	return nil
}

type changeVisibilityInput struct {
	QueueURL          string `json:"QueueUrl"`
	ReceiptHandle     string `json:"ReceiptHandle"`
	VisibilityTimeout *int   `json:"VisibilityTimeout"`
}

func (s *Server) opChangeMessageVisibility(_ *reqCtx, decode decoder) (any, error) {
	var in changeVisibilityInput
	if err := decode(&in); err != nil {
		return nil, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	q, err := s.queueByURL(in.QueueURL)
	if err != nil {
		return nil, err
	}
	if err := s.changeVisibility(q, in.ReceiptHandle, in.VisibilityTimeout); err != nil {
		return nil, err
	}
	return empty{}, nil
}

// changeVisibility restarts the visibility timeout of an in-flight message,
// counting from now. The total since the receive may not exceed 12 hours.
func (s *Server) changeVisibility(q *queue, handle string, timeout *int) error {
	if timeout == nil {
		return errMissingParameter("VisibilityTimeout")
	}
	if *timeout < 0 || *timeout > maxVisibilitySeconds {
		return errInvalidParameterValue("Value %d for parameter VisibilityTimeout is invalid. Reason: Must be >= 0 and <= %d, if provided.", *timeout, maxVisibilitySeconds)
	}
	if handle == "" {
		return errMissingParameter("ReceiptHandle")
	}
	qname, id, ok := parseReceiptHandle(handle)
	if !ok || qname != q.name {
		return errReceiptHandleIsInvalid(handle)
	}
	now := s.clock.Now()
	q.expire(now)
	m := q.byID[id]
	if m == nil || m.receipt != handle || !m.inFlight || m.visible(now) {
		return errInvalidParameterValue("Value %s for parameter ReceiptHandle is invalid. Reason: Message does not exist or is not available for visibility timeout change.", handle)
	}
	until := now.Add(time.Duration(*timeout) * time.Second)
	if until.Sub(m.lastReceive) > maxVisibilitySeconds*time.Second {
		return errInvalidParameterValue("Value %d for parameter VisibilityTimeout is invalid. Reason: Total VisibilityTimeout for the message is beyond the limit [%d seconds].", *timeout, maxVisibilitySeconds)
	}
	m.visibleAt = until
	if *timeout == 0 {
		q.signal()
	}
	return nil
}

type deleteBatchEntry struct {
	ID            string `json:"Id"`
	ReceiptHandle string `json:"ReceiptHandle"`
}

type deleteMessageBatchInput struct {
	QueueURL string             `json:"QueueUrl"`
	Entries  []deleteBatchEntry `json:"Entries" query:"DeleteMessageBatchRequestEntry"`
}

type batchIDResult struct {
	ID string `json:"Id"`
}

type batchIDsOutput struct {
	Successful []batchIDResult    `json:"Successful"`
	Failed     []batchResultError `json:"Failed"`
}

// The two batch outputs differ only in their Query member names.
type deleteMessageBatchOutput struct {
	Successful []batchIDResult    `json:"Successful" query:"DeleteMessageBatchResultEntry"`
	Failed     []batchResultError `json:"Failed" query:"BatchResultErrorEntry"`
}

type changeVisibilityBatchOutput struct {
	Successful []batchIDResult    `json:"Successful" query:"ChangeMessageVisibilityBatchResultEntry"`
	Failed     []batchResultError `json:"Failed" query:"BatchResultErrorEntry"`
}

func (s *Server) opDeleteMessageBatch(_ *reqCtx, decode decoder) (any, error) {
	var in deleteMessageBatchInput
	if err := decode(&in); err != nil {
		return nil, err
	}
	ids := make([]string, len(in.Entries))
	for i, e := range in.Entries {
		ids[i] = e.ID
	}
	if err := checkBatchIDs("DeleteMessageBatchRequestEntry", ids); err != nil {
		return nil, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	q, err := s.queueByURL(in.QueueURL)
	if err != nil {
		return nil, err
	}
	out, err := runBatch(ids, func(i int) error { return s.deleteMessage(q, in.Entries[i].ReceiptHandle) })
	if err != nil {
		return nil, err
	}
	return deleteMessageBatchOutput(out), nil
}

type changeVisibilityBatchEntry struct {
	ID                string `json:"Id"`
	ReceiptHandle     string `json:"ReceiptHandle"`
	VisibilityTimeout *int   `json:"VisibilityTimeout"`
}

type changeVisibilityBatchInput struct {
	QueueURL string                       `json:"QueueUrl"`
	Entries  []changeVisibilityBatchEntry `json:"Entries" query:"ChangeMessageVisibilityBatchRequestEntry"`
}

func (s *Server) opChangeMessageVisibilityBatch(_ *reqCtx, decode decoder) (any, error) {
	var in changeVisibilityBatchInput
	if err := decode(&in); err != nil {
		return nil, err
	}
	ids := make([]string, len(in.Entries))
	for i, e := range in.Entries {
		ids[i] = e.ID
	}
	if err := checkBatchIDs("ChangeMessageVisibilityBatchRequestEntry", ids); err != nil {
		return nil, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	q, err := s.queueByURL(in.QueueURL)
	if err != nil {
		return nil, err
	}
	out, err := runBatch(ids, func(i int) error {
		e := in.Entries[i]
		timeout := e.VisibilityTimeout
		if timeout == nil {
			zero := 0 // the SDKs always send it; SQS defaults it to 0
			timeout = &zero
		}
		return s.changeVisibility(q, e.ReceiptHandle, timeout)
	})
	if err != nil {
		return nil, err
	}
	return changeVisibilityBatchOutput(out), nil
}

// runBatch applies op to each entry and reports per-entry results.
func runBatch(ids []string, op func(i int) error) (batchIDsOutput, error) {
	out := batchIDsOutput{Successful: []batchIDResult{}, Failed: []batchResultError{}}
	for i, id := range ids {
		if err := op(i); err != nil {
			f, ferr := batchFailure(id, err)
			if ferr != nil {
				return batchIDsOutput{}, fmt.Errorf("batch entry %s: %w", id, ferr)
			}
			out.Failed = append(out.Failed, f)
			continue
		}
		out.Successful = append(out.Successful, batchIDResult{id})
	}
	return out, nil
}
