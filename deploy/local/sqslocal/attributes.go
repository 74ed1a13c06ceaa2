package sqslocal

import (
	"bytes"
	"encoding/json"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"time"
)

// Limits from the SQS developer guide and API reference.
const (
	defaultMaxMessageSize = 1 << 20 // 1 MiB, the default and maximum since 2025
	minMaxMessageSize     = 1024
	maxBatchBytes         = 1 << 20
	maxBatchEntries       = 10
	maxDelaySeconds       = 900
	maxVisibilitySeconds  = 12 * 60 * 60
	maxWaitSeconds        = 20
	maxMessageAttributes  = 10
	minRetentionSeconds   = 60
	maxRetentionSeconds   = 14 * 24 * 60 * 60
	defaultRetention      = 4 * 24 * 60 * 60
	defaultVisibility     = 30
	defaultKMSReuse       = 300
	maxReceiveCountLimit  = 1000
	maxTagsPerQueue       = 50
	queueCoolDown         = 60 * time.Second
)

// queueConfig is a queue's settable attributes, validated.
type queueConfig struct {
	delaySeconds      int
	maxMessageSize    int
	retentionSeconds  int
	waitTimeSeconds   int
	visibilitySeconds int
	redrive           *redrivePolicy
	redriveAllow      *redriveAllowPolicy
	policy            string
	sqsManagedSSE     bool
	kmsMasterKeyID    string
	kmsReuseSeconds   int
}

func defaultQueueConfig() queueConfig {
	return queueConfig{
		maxMessageSize:    defaultMaxMessageSize,
		retentionSeconds:  defaultRetention,
		visibilitySeconds: defaultVisibility,
		// New queues get SSE-SQS unless the caller picks KMS or turns it off,
		// as SQS has done since October 2022.
		sqsManagedSSE:   true,
		kmsReuseSeconds: defaultKMSReuse,
	}
}

type redrivePolicy struct {
	DeadLetterTargetArn string `json:"deadLetterTargetArn"`
	MaxReceiveCount     int    `json:"maxReceiveCount"`
}

type redriveAllowPolicy struct {
	RedrivePermission string   `json:"redrivePermission"`
	SourceQueueArns   []string `json:"sourceQueueArns,omitempty"`
}

// Attribute names, grouped by what GetQueueAttributes and SetQueueAttributes
// accept.
var (
	settableAttributes = []string{
		"DelaySeconds", "MaximumMessageSize", "MessageRetentionPeriod", "Policy",
		"ReceiveMessageWaitTimeSeconds", "VisibilityTimeout", "RedrivePolicy",
		"RedriveAllowPolicy", "KmsMasterKeyId", "KmsDataKeyReusePeriodSeconds",
		"SqsManagedSseEnabled",
	}
	readOnlyAttributes = []string{
		"ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible",
		"ApproximateNumberOfMessagesDelayed", "CreatedTimestamp",
		"LastModifiedTimestamp", "QueueArn",
	}
	fifoAttributes = []string{"FifoQueue", "ContentBasedDeduplication", "DeduplicationScope", "FifoThroughputLimit"}
)

func contains(list []string, s string) bool {
	for _, v := range list {
		if v == s {
			return true
		}
	}
	return false
}

// applyAttributes validates attrs and writes them into cfg. self is the ARN
// of the queue being configured (a queue cannot be its own DLQ).
func (s *Server) applyAttributes(cfg *queueConfig, attrs map[string]string, self string) error {
	names := make([]string, 0, len(attrs))
	for n := range attrs {
		names = append(names, n)
	}
	sort.Strings(names) // deterministic: the first bad attribute is reported
	for _, name := range names {
		v := attrs[name]
		var err error
		switch name {
		case "DelaySeconds":
			cfg.delaySeconds, err = intAttr(name, v, 0, maxDelaySeconds)
		case "MaximumMessageSize":
			cfg.maxMessageSize, err = intAttr(name, v, minMaxMessageSize, defaultMaxMessageSize)
		case "MessageRetentionPeriod":
			cfg.retentionSeconds, err = intAttr(name, v, minRetentionSeconds, maxRetentionSeconds)
		case "ReceiveMessageWaitTimeSeconds":
			cfg.waitTimeSeconds, err = intAttr(name, v, 0, maxWaitSeconds)
		case "VisibilityTimeout":
			cfg.visibilitySeconds, err = intAttr(name, v, 0, maxVisibilitySeconds)
		case "KmsDataKeyReusePeriodSeconds":
			cfg.kmsReuseSeconds, err = intAttr(name, v, 60, 86400)
		case "Policy":
			if v != "" && !json.Valid([]byte(v)) {
				err = errInvalidAttributeValue("Invalid value for the parameter Policy.")
			}
			cfg.policy = v
		case "KmsMasterKeyId":
			cfg.kmsMasterKeyID = v
			if v != "" {
				cfg.sqsManagedSSE = false
			}
		case "SqsManagedSseEnabled":
			switch v {
			case "true":
				if attrs["KmsMasterKeyId"] != "" {
					err = errInvalidAttributeName("You can use one type of server-side encryption (SSE) at one time. You can either enable KMS SSE or SQS SSE.")
				}
				cfg.sqsManagedSSE, cfg.kmsMasterKeyID = true, ""
			case "false":
				cfg.sqsManagedSSE = false
			default:
				err = errInvalidAttributeValue("Invalid value for the parameter SqsManagedSseEnabled.")
			}
		case "RedrivePolicy":
			cfg.redrive, err = s.parseRedrivePolicy(v, self)
		case "RedriveAllowPolicy":
			cfg.redriveAllow, err = parseRedriveAllowPolicy(v)
		case "FifoQueue":
			if v != "false" {
				err = errInvalidAttributeName("sqslocal supports standard queues only; FifoQueue=%s is not available.", v)
			}
		default:
			// Read-only, FIFO-only and unknown names alike.
			err = errInvalidAttributeName("Unknown Attribute %s.", name)
		}
		if err != nil {
			return err
		}
	}
	return nil
}

func intAttr(name, v string, lo, hi int) (int, error) {
	n, err := strconv.Atoi(strings.TrimSpace(v))
	if err != nil || n < lo || n > hi {
		return 0, errInvalidAttributeValue("Invalid value for the parameter %s.", name)
	}
	return n, nil
}

// parseRedrivePolicy accepts maxReceiveCount as a number or a string, as
// SQS does (CloudFormation sends numbers, the console strings). An empty
// value removes the policy.
func (s *Server) parseRedrivePolicy(v, self string) (*redrivePolicy, error) {
	if strings.TrimSpace(v) == "" {
		return nil, nil
	}
	invalid := func(reason string) error {
		return errInvalidParameterValue("Value %s for parameter RedrivePolicy is invalid. Reason: %s", v, reason)
	}
	var raw struct {
		DeadLetterTargetArn string          `json:"deadLetterTargetArn"`
		MaxReceiveCount     json.RawMessage `json:"maxReceiveCount"`
	}
	if err := json.Unmarshal([]byte(v), &raw); err != nil {
		return nil, invalid("Redrive policy is not a valid JSON map.")
	}
	countText := strings.Trim(string(bytes.TrimSpace(raw.MaxReceiveCount)), `"`)
	count, err := strconv.Atoi(countText)
	if err != nil || count < 1 || count > maxReceiveCountLimit {
		return nil, invalid("Invalid value for maxReceiveCount: " + countText + ", valid values are from 1 to 1000 both inclusive.")
	}
	if raw.DeadLetterTargetArn == "" {
		return nil, invalid("Redrive policy does not contain mandatory attribute: deadLetterTargetArn.")
	}
	if raw.DeadLetterTargetArn == self {
		return nil, invalid("A queue cannot be its own dead-letter queue.")
	}
	dlq := s.queueByARN(raw.DeadLetterTargetArn)
	if dlq == nil {
		return nil, invalid("Dead letter target does not exist.")
	}
	if p := dlq.cfg.redriveAllow; p != nil {
		allowed := p.RedrivePermission == "allowAll" ||
			(p.RedrivePermission == "byQueue" && contains(p.SourceQueueArns, self))
		if !allowed {
			return nil, invalid("Dead letter target's RedriveAllowPolicy does not allow this queue as a source.")
		}
	}
	return &redrivePolicy{DeadLetterTargetArn: raw.DeadLetterTargetArn, MaxReceiveCount: count}, nil
}

func parseRedriveAllowPolicy(v string) (*redriveAllowPolicy, error) {
	if strings.TrimSpace(v) == "" {
		return nil, nil
	}
	invalid := func(reason string) error {
		return errInvalidParameterValue("Value %s for parameter RedriveAllowPolicy is invalid. Reason: %s", v, reason)
	}
	var p redriveAllowPolicy
	if err := json.Unmarshal([]byte(v), &p); err != nil {
		return nil, invalid("Redrive allow policy is not a valid JSON map.")
	}
	switch p.RedrivePermission {
	case "allowAll", "denyAll":
		if len(p.SourceQueueArns) > 0 {
			return nil, invalid("Only byQueue permission takes sourceQueueArns.")
		}
	case "byQueue":
		if len(p.SourceQueueArns) == 0 || len(p.SourceQueueArns) > 10 {
			return nil, invalid("byQueue needs 1 to 10 sourceQueueArns.")
		}
	default:
		return nil, invalid("redrivePermission must be allowAll, denyAll or byQueue.")
	}
	return &p, nil
}

// attribute renders one attribute of q as GetQueueAttributes returns it;
// ok is false for attributes the queue does not have (an unset policy).
func (q *queue) attribute(name string, now time.Time) (string, bool) {
	itoa := strconv.Itoa
	switch name {
	case "ApproximateNumberOfMessages":
		v, _, _ := q.counts(now)
		return itoa(v), true
	case "ApproximateNumberOfMessagesNotVisible":
		_, f, _ := q.counts(now)
		return itoa(f), true
	case "ApproximateNumberOfMessagesDelayed":
		_, _, d := q.counts(now)
		return itoa(d), true
	case "CreatedTimestamp":
		return strconv.FormatInt(q.created.Unix(), 10), true
	case "LastModifiedTimestamp":
		return strconv.FormatInt(q.modified.Unix(), 10), true
	case "QueueArn":
		return q.arn, true
	case "DelaySeconds":
		return itoa(q.cfg.delaySeconds), true
	case "MaximumMessageSize":
		return itoa(q.cfg.maxMessageSize), true
	case "MessageRetentionPeriod":
		return itoa(q.cfg.retentionSeconds), true
	case "ReceiveMessageWaitTimeSeconds":
		return itoa(q.cfg.waitTimeSeconds), true
	case "VisibilityTimeout":
		return itoa(q.cfg.visibilitySeconds), true
	case "SqsManagedSseEnabled":
		return strconv.FormatBool(q.cfg.sqsManagedSSE), true
	case "KmsMasterKeyId":
		return q.cfg.kmsMasterKeyID, q.cfg.kmsMasterKeyID != ""
	case "KmsDataKeyReusePeriodSeconds":
		return itoa(q.cfg.kmsReuseSeconds), q.cfg.kmsMasterKeyID != ""
	case "Policy":
		return q.cfg.policy, q.cfg.policy != ""
	case "RedrivePolicy":
		if q.cfg.redrive == nil {
			return "", false
		}
		b, _ := json.Marshal(q.cfg.redrive)
		return string(b), true
	case "RedriveAllowPolicy":
		if q.cfg.redriveAllow == nil {
			return "", false
		}
		b, _ := json.Marshal(q.cfg.redriveAllow)
		return string(b), true
	}
	return "", false
}

var allAttributes = append(append([]string{}, readOnlyAttributes...), settableAttributes...)

var queueNameRE = regexp.MustCompile(`^[A-Za-z0-9_-]{1,80}$`)

func validQueueName(name string) bool { return queueNameRE.MatchString(name) }
