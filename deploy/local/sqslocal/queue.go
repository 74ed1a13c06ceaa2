package sqslocal

import (
	"crypto/rand"
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"net/url"
	"strings"
	"time"
)

// attributeValue is a message attribute as the JSON protocol carries it.
// Binary values travel as base64, which encoding/json does for []byte.
// The list members are reserved by SQS ("not implemented") and dropped.
type attributeValue struct {
	DataType         string   `json:"DataType"`
	StringValue      *string  `json:"StringValue,omitempty"`
	BinaryValue      []byte   `json:"BinaryValue,omitempty"`
	StringListValues []string `json:"StringListValues,omitempty" query:"StringListValue"`
	BinaryListValues [][]byte `json:"BinaryListValues,omitempty" query:"BinaryListValue"`
}

func (a attributeValue) stringValue() string {
	if a.StringValue == nil {
		return ""
	}
	return *a.StringValue
}

// size is what the attribute counts towards the message size limit:
// name, data type and value, all in bytes.
func (a attributeValue) size(name string) int {
	return len(name) + len(a.DataType) + len(a.stringValue()) + len(a.BinaryValue)
}

// message is one message in one queue. A message moved to a DLQ keeps its
// ID, body, attributes and enqueue time (retention runs from the original
// send for standard queues); a message moved by a move task is a new message.
type message struct {
	id          string
	seq         uint64 // server-wide enqueue order
	body        string
	attrs       map[string]attributeValue
	sysAttrs    map[string]attributeValue // AWSTraceHeader only
	md5Body     string
	md5Attrs    string
	md5SysAttrs string
	size        int
	senderID    string
	sent        time.Time // original enqueue time: retention and SentTimestamp
	arrived     time.Time // when it entered this queue: age of oldest message
	// receivesBefore is receiveCount when the message entered this queue
	// (non-zero after a redrive policy moved it), so that the poison-pill
	// rule of the age metric counts receives from this queue only.
	receivesBefore int
	visibleAt      time.Time // end of delay or visibility timeout
	inFlight       bool      // received and not yet visible again (vs. delayed)
	receiveCount   int
	firstReceive   time.Time
	lastReceive    time.Time
	receipt        string // the most recent receipt handle; older ones no longer act
	dlqSourceArn   string // set when redrive moved the message here
}

func (m *message) visible(now time.Time) bool { return !m.visibleAt.After(now) }

// queue is a standard queue. Messages stay in enqueue order; a message whose
// visibility timeout expires is redelivered from its original position.
type queue struct {
	name     string
	arn      string
	cfg      queueConfig
	created  time.Time
	modified time.Time
	tags     map[string]string
	msgs     []*message
	byID     map[string]*message

	// changed is closed, and replaced, whenever a message may have become
	// receivable; long polls wait on it.
	changed   chan struct{}
	pollers   int
	lastPurge time.Time
	deleted   bool

	// What SQS counts for CloudWatch's NumberOfMessagesSent, ...Received
	// and ...Deleted, since the queue was created; a sampler takes the
	// difference each minute.
	sentCount, receivedCount, deletedCount int64
}

func newQueue(name, arn string, cfg queueConfig, tags map[string]string, now time.Time) *queue {
	if tags == nil {
		tags = map[string]string{}
	}
	return &queue{
		name: name, arn: arn, cfg: cfg, created: now, modified: now, tags: tags,
		byID: map[string]*message{}, changed: make(chan struct{}),
	}
}

// signal wakes every long poll on the queue.
func (q *queue) signal() {
	close(q.changed)
	q.changed = make(chan struct{})
}

func (q *queue) add(m *message) {
	q.msgs = append(q.msgs, m)
	q.byID[m.id] = m
	q.signal()
}

func (q *queue) removeAt(i int) *message {
	m := q.msgs[i]
	copy(q.msgs[i:], q.msgs[i+1:])
	q.msgs[len(q.msgs)-1] = nil
	q.msgs = q.msgs[:len(q.msgs)-1]
	delete(q.byID, m.id)
	return m
}

func (q *queue) remove(m *message) {
	for i, p := range q.msgs {
		if p == m {
			q.removeAt(i)
			return
		}
	}
}

// expire drops messages older than the retention period. Every operation
// that looks at messages calls it first, so expiry needs no background work.
func (q *queue) expire(now time.Time) {
	retention := time.Duration(q.cfg.retentionSeconds) * time.Second
	kept := q.msgs[:0]
	for _, m := range q.msgs {
		if now.Sub(m.sent) >= retention {
			delete(q.byID, m.id)
			continue
		}
		kept = append(kept, m)
	}
	for i := len(kept); i < len(q.msgs); i++ {
		q.msgs[i] = nil
	}
	q.msgs = kept
}

// counts returns the ApproximateNumberOfMessages* figures.
func (q *queue) counts(now time.Time) (visible, inFlight, delayed int) {
	for _, m := range q.msgs {
		switch {
		case m.visible(now):
			visible++
		case m.inFlight:
			inFlight++
		default:
			delayed++
		}
	}
	return visible, inFlight, delayed
}

// nextWake is the earliest moment after now at which a delayed or in-flight
// message becomes visible, or the zero time if none will.
func (q *queue) nextWake(now time.Time) time.Time {
	var next time.Time
	for _, m := range q.msgs {
		if m.visibleAt.After(now) && (next.IsZero() || m.visibleAt.Before(next)) {
			next = m.visibleAt
		}
	}
	return next
}

func (s *Server) queueURL(base, name string) string {
	return base + "/" + s.accountID + "/" + name
}

func (s *Server) queueARN(name string) string {
	return "arn:aws:sqs:" + s.region + ":" + s.accountID + ":" + name
}

// queueByURL resolves a QueueUrl from any host: SQS routes on the path's
// account and name, and clients keep URLs they got from another endpoint
// spelling (localhost vs 127.0.0.1, sqs.<region>.amazonaws.com).
func (s *Server) queueByURL(queueURL string) (*queue, error) {
	if queueURL == "" {
		return nil, errMissingParameter("QueueUrl")
	}
	u, err := url.Parse(queueURL)
	if err != nil {
		return nil, errQueueDoesNotExist()
	}
	parts := strings.Split(strings.Trim(u.Path, "/"), "/")
	if len(parts) < 2 || parts[len(parts)-2] != s.accountID {
		return nil, errQueueDoesNotExist()
	}
	q := s.queues[parts[len(parts)-1]]
	if q == nil {
		return nil, errQueueDoesNotExist()
	}
	return q, nil
}

func (s *Server) queueByARN(arn string) *queue {
	name, ok := s.nameFromARN(arn)
	if !ok {
		return nil
	}
	return s.queues[name]
}

func (s *Server) nameFromARN(arn string) (string, bool) {
	prefix := "arn:aws:sqs:" + s.region + ":" + s.accountID + ":"
	if !strings.HasPrefix(arn, prefix) {
		return "", false
	}
	name := strings.TrimPrefix(arn, prefix)
	return name, validQueueName(name)
}

// sourcesOf lists the queues whose redrive policy targets dlq, by name.
func (s *Server) sourcesOf(dlq *queue) []*queue {
	var out []*queue
	for _, q := range s.queues {
		if q.cfg.redrive != nil && q.cfg.redrive.DeadLetterTargetArn == dlq.arn {
			out = append(out, q)
		}
	}
	return out
}

func (s *Server) nextSeq() uint64 {
	s.seq++
	return s.seq
}

// Receipt handles are opaque to clients. Ours encode the queue and message
// so that DeleteMessage can tell a malformed handle (ReceiptHandleIsInvalid)
// from a stale one (accepted, no effect), as SQS documents.
const receiptPrefix = "sqslocal1"

func newReceiptHandle(queueName, msgID string, receiveCount int) string {
	var nonce [12]byte
	_, _ = rand.Read(nonce[:])
	raw := fmt.Sprintf("%s\x00%s\x00%s\x00%d\x00%s", receiptPrefix, queueName, msgID, receiveCount, hex.EncodeToString(nonce[:]))
	return base64.StdEncoding.EncodeToString([]byte(raw))
}

func parseReceiptHandle(h string) (queueName, msgID string, ok bool) {
	raw, err := base64.StdEncoding.DecodeString(h)
	if err != nil {
		return "", "", false
	}
	parts := strings.Split(string(raw), "\x00")
	if len(parts) != 5 || parts[0] != receiptPrefix {
		return "", "", false
	}
	return parts[1], parts[2], true
}

func newMessageID() string {
	var b [16]byte
	_, _ = rand.Read(b[:])
	b[6] = b[6]&0x0f | 0x40 // version 4
	b[8] = b[8]&0x3f | 0x80 // RFC 4122 variant
	h := hex.EncodeToString(b[:])
	return h[0:8] + "-" + h[8:12] + "-" + h[12:16] + "-" + h[16:20] + "-" + h[20:32]
}
