package sqslocal

import (
	"encoding/base64"
	"sort"
	"strings"
)

// Queue-level operations. Each op* decodes its input, takes s.mu for the
// whole operation (one lock keeps cross-queue moves simple and is plenty
// for one machine), and returns a value that encodes to the output shape.

type createQueueInput struct {
	QueueName  string            `json:"QueueName"`
	Attributes map[string]string `json:"Attributes" query:"Attribute,Name,Value"`
	Tags       map[string]string `json:"tags" query:"Tag,Key,Value"` // lower-case in the model
}

type queueURLOutput struct {
	QueueURL string `json:"QueueUrl"`
}

func (s *Server) opCreateQueue(rc *reqCtx, decode decoder) (any, error) {
	var in createQueueInput
	if err := decode(&in); err != nil {
		return nil, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if err := s.createQueue(in.QueueName, in.Attributes, in.Tags); err != nil {
		return nil, err
	}
	return queueURLOutput{s.queueURL(rc.base, in.QueueName)}, nil
}

// createQueue is CreateQueue's logic: idempotent when every attribute given
// matches the existing queue, QueueNameExists otherwise. Callers hold s.mu.
func (s *Server) createQueue(name string, attrs, tags map[string]string) error {
	if name == "" {
		return errMissingParameter("QueueName")
	}
	if strings.HasSuffix(name, ".fifo") {
		return errInvalidParameterValue("sqslocal supports standard queues only; %s would be a FIFO queue.", name)
	}
	if !validQueueName(name) {
		return errInvalidParameterValue("Can only include alphanumeric characters, hyphens, or underscores. 1 to 80 in length")
	}
	if len(tags) > maxTagsPerQueue {
		return errInvalidParameterValue("Too many tags: %d; a queue can have at most %d.", len(tags), maxTagsPerQueue)
	}
	now := s.clock.Now()
	arn := s.queueARN(name)
	cfg := defaultQueueConfig()
	if err := s.applyAttributes(&cfg, attrs, arn); err != nil {
		return err
	}
	if existing := s.queues[name]; existing != nil {
		probe := &queue{cfg: cfg}
		names := make([]string, 0, len(attrs))
		for n := range attrs {
			names = append(names, n)
		}
		sort.Strings(names)
		for _, n := range names {
			want, _ := probe.attribute(n, now)
			got, _ := existing.attribute(n, now)
			if want != got {
				return errQueueNameExists(n)
			}
		}
		return nil
	}
	if t, ok := s.deletedAt[name]; ok && now.Sub(t) < queueCoolDown {
		return errQueueDeletedRecently(name)
	}
	copied := make(map[string]string, len(tags))
	for k, v := range tags {
		copied[k] = v
	}
	s.queues[name] = newQueue(name, arn, cfg, copied, now)
	return nil
}

type getQueueURLInput struct {
	QueueName              string `json:"QueueName"`
	QueueOwnerAWSAccountID string `json:"QueueOwnerAWSAccountId"`
}

func (s *Server) opGetQueueURL(rc *reqCtx, decode decoder) (any, error) {
	var in getQueueURLInput
	if err := decode(&in); err != nil {
		return nil, err
	}
	if in.QueueName == "" {
		return nil, errMissingParameter("QueueName")
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if in.QueueOwnerAWSAccountID != "" && in.QueueOwnerAWSAccountID != s.accountID {
		return nil, errQueueDoesNotExist()
	}
	if s.queues[in.QueueName] == nil {
		return nil, errQueueDoesNotExist()
	}
	return queueURLOutput{s.queueURL(rc.base, in.QueueName)}, nil
}

type listQueuesInput struct {
	QueueNamePrefix string `json:"QueueNamePrefix"`
	NextToken       string `json:"NextToken"`
	MaxResults      *int   `json:"MaxResults"`
}

type listQueuesOutput struct {
	QueueUrls []string `json:"QueueUrls,omitempty" query:"QueueUrl"`
	NextToken string   `json:"NextToken,omitempty"`
}

func (s *Server) opListQueues(rc *reqCtx, decode decoder) (any, error) {
	var in listQueuesInput
	if err := decode(&in); err != nil {
		return nil, err
	}
	s.mu.Lock()
	names := make([]string, 0, len(s.queues))
	for n := range s.queues {
		if strings.HasPrefix(n, in.QueueNamePrefix) {
			names = append(names, n)
		}
	}
	s.mu.Unlock()
	sort.Strings(names)
	page, next, err := paginate(names, in.NextToken, in.MaxResults)
	if err != nil {
		return nil, err
	}
	out := listQueuesOutput{NextToken: next}
	for _, n := range page {
		out.QueueUrls = append(out.QueueUrls, s.queueURL(rc.base, n))
	}
	return out, nil
}

// paginate pages a sorted name list. Without MaxResults SQS returns up to
// 1000 entries and no token; with it, a token that resumes after the last
// name returned.
func paginate(names []string, token string, maxResults *int) (page []string, next string, err error) {
	limit := 1000
	if maxResults != nil {
		if *maxResults < 1 || *maxResults > 1000 {
			return nil, "", errInvalidParameterValue("Value %d for parameter MaxResults is invalid. Reason: MaxResults must be an integer between 1 and 1000.", *maxResults)
		}
		limit = *maxResults
	}
	if token != "" {
		after, decErr := base64.RawURLEncoding.DecodeString(token)
		if decErr != nil {
			return nil, "", errInvalidParameterValue("Invalid NextToken value.")
		}
		i := sort.SearchStrings(names, string(after))
		for i < len(names) && names[i] <= string(after) {
			i++
		}
		names = names[i:]
	}
	if len(names) > limit {
		page = names[:limit]
		if maxResults != nil {
			next = base64.RawURLEncoding.EncodeToString([]byte(page[len(page)-1]))
		}
		return page, next, nil
	}
	return names, "", nil
}

type queueURLInput struct {
	QueueURL string `json:"QueueUrl"`
}

type empty struct{}

func (s *Server) opDeleteQueue(_ *reqCtx, decode decoder) (any, error) {
	var in queueURLInput
	if err := decode(&in); err != nil {
		return nil, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	q, err := s.queueByURL(in.QueueURL)
	if err != nil {
		return nil, err
	}
	s.deleteQueue(q)
	return empty{}, nil
}

func (s *Server) deleteQueue(q *queue) {
	delete(s.queues, q.name)
	s.deletedAt[q.name] = s.clock.Now()
	q.deleted = true
	q.signal() // long polls on it return empty
}

type getQueueAttributesInput struct {
	QueueURL       string   `json:"QueueUrl"`
	AttributeNames []string `json:"AttributeNames" query:"AttributeName"`
}

type attributesOutput struct {
	Attributes map[string]string `json:"Attributes,omitempty" query:"Attribute,Name,Value"`
}

func (s *Server) opGetQueueAttributes(_ *reqCtx, decode decoder) (any, error) {
	var in getQueueAttributesInput
	if err := decode(&in); err != nil {
		return nil, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	q, err := s.queueByURL(in.QueueURL)
	if err != nil {
		return nil, err
	}
	now := s.clock.Now()
	q.expire(now)
	names := []string{}
	for _, n := range in.AttributeNames {
		switch {
		case n == "All":
			names = append(names, allAttributes...)
		case contains(allAttributes, n):
			names = append(names, n)
		case contains(fifoAttributes, n):
			// FIFO attributes of a standard queue: nothing to report.
		default:
			return nil, errInvalidAttributeName("Unknown Attribute %s.", n)
		}
	}
	out := attributesOutput{}
	for _, n := range names {
		if v, ok := q.attribute(n, now); ok {
			if out.Attributes == nil {
				out.Attributes = map[string]string{}
			}
			out.Attributes[n] = v
		}
	}
	return out, nil
}

type setQueueAttributesInput struct {
	QueueURL   string            `json:"QueueUrl"`
	Attributes map[string]string `json:"Attributes" query:"Attribute,Name,Value"`
}

func (s *Server) opSetQueueAttributes(_ *reqCtx, decode decoder) (any, error) {
	var in setQueueAttributesInput
	if err := decode(&in); err != nil {
		return nil, err
	}
	if len(in.Attributes) == 0 {
		return nil, errMissingParameter("Attributes")
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	q, err := s.queueByURL(in.QueueURL)
	if err != nil {
		return nil, err
	}
	cfg := q.cfg // validate everything before changing anything
	if err := s.applyAttributes(&cfg, in.Attributes, q.arn); err != nil {
		return nil, err
	}
	q.cfg = cfg
	q.modified = s.clock.Now()
	q.signal() // a shorter wait time or delay may concern current pollers
	return empty{}, nil
}

func (s *Server) opPurgeQueue(_ *reqCtx, decode decoder) (any, error) {
	var in queueURLInput
	if err := decode(&in); err != nil {
		return nil, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	q, err := s.queueByURL(in.QueueURL)
	if err != nil {
		return nil, err
	}
	now := s.clock.Now()
	if !q.lastPurge.IsZero() && now.Sub(q.lastPurge) < queueCoolDown {
		return nil, errPurgeQueueInProgress(q.name)
	}
	q.lastPurge = now
	// SQS deletes within 60 seconds; deleting at once is within that promise.
	for _, m := range q.msgs {
		delete(q.byID, m.id)
	}
	q.msgs = nil
	return empty{}, nil
}

type tagQueueInput struct {
	QueueURL string            `json:"QueueUrl"`
	Tags     map[string]string `json:"Tags" query:"Tag,Key,Value"`
}

func (s *Server) opTagQueue(_ *reqCtx, decode decoder) (any, error) {
	var in tagQueueInput
	if err := decode(&in); err != nil {
		return nil, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	q, err := s.queueByURL(in.QueueURL)
	if err != nil {
		return nil, err
	}
	n := len(q.tags)
	for k := range in.Tags {
		if _, ok := q.tags[k]; !ok {
			n++
		}
	}
	if n > maxTagsPerQueue {
		return nil, errInvalidParameterValue("Too many tags: a queue can have at most %d.", maxTagsPerQueue)
	}
	for k, v := range in.Tags {
		q.tags[k] = v
	}
	return empty{}, nil
}

type untagQueueInput struct {
	QueueURL string   `json:"QueueUrl"`
	TagKeys  []string `json:"TagKeys" query:"TagKey"`
}

func (s *Server) opUntagQueue(_ *reqCtx, decode decoder) (any, error) {
	var in untagQueueInput
	if err := decode(&in); err != nil {
		return nil, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	q, err := s.queueByURL(in.QueueURL)
	if err != nil {
		return nil, err
	}
	for _, k := range in.TagKeys {
		delete(q.tags, k)
	}
	return empty{}, nil
}

type listQueueTagsOutput struct {
	Tags map[string]string `json:"Tags,omitempty" query:"Tag,Key,Value"`
}

func (s *Server) opListQueueTags(_ *reqCtx, decode decoder) (any, error) {
	var in queueURLInput
	if err := decode(&in); err != nil {
		return nil, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	q, err := s.queueByURL(in.QueueURL)
	if err != nil {
		return nil, err
	}
	out := listQueueTagsOutput{}
	if len(q.tags) > 0 {
		out.Tags = make(map[string]string, len(q.tags))
		for k, v := range q.tags {
			out.Tags[k] = v
		}
	}
	return out, nil
}

type listDLQSourcesInput struct {
	QueueURL   string `json:"QueueUrl"`
	NextToken  string `json:"NextToken"`
	MaxResults *int   `json:"MaxResults"`
}

type listDLQSourcesOutput struct {
	QueueUrls []string `json:"queueUrls" query:"QueueUrl"` // lower-case in the model
	NextToken string   `json:"NextToken,omitempty"`
}

func (s *Server) opListDeadLetterSourceQueues(rc *reqCtx, decode decoder) (any, error) {
	var in listDLQSourcesInput
	if err := decode(&in); err != nil {
		return nil, err
	}
	s.mu.Lock()
	q, err := s.queueByURL(in.QueueURL)
	var names []string
	if err == nil {
		for _, src := range s.sourcesOf(q) {
			names = append(names, src.name)
		}
	}
	s.mu.Unlock()
	if err != nil {
		return nil, err
	}
	sort.Strings(names)
	page, next, err := paginate(names, in.NextToken, in.MaxResults)
	if err != nil {
		return nil, err
	}
	out := listDLQSourcesOutput{QueueUrls: []string{}, NextToken: next}
	for _, n := range page {
		out.QueueUrls = append(out.QueueUrls, s.queueURL(rc.base, n))
	}
	return out, nil
}
