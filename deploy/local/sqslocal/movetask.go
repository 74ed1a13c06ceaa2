package sqslocal

import (
	"encoding/base64"
	"encoding/json"
	"time"
)

// Message move tasks: DLQ redrive through StartMessageMoveTask,
// ListMessageMoveTasks and CancelMessageMoveTask. A task moves the messages
// that were in the DLQ when it started, oldest first, either to
// DestinationArn or back to the queue each message was dead-lettered from.
// Moved messages are new messages (new ID, new enqueue time, receive count
// zero), as the SQS developer guide says of redrive.

const (
	taskRunning    = "RUNNING"
	taskCompleted  = "COMPLETED"
	taskCancelling = "CANCELLING"
	taskCancelled  = "CANCELLED"
	taskFailed     = "FAILED"

	maxMovesPerSecond = 500
	// unthrottledBatch is how many messages a task without a rate moves
	// per step; SQS picks its own rate, and a local run wants it quick.
	unthrottledBatch = 1000
)

type moveTask struct {
	id        string
	handle    string
	sourceArn string
	destArn   string // "" = each message's original source queue
	rate      *int
	status    string
	moved     int64
	toMove    int64
	failure   string
	started   time.Time
	cutoff    uint64 // only messages enqueued up to here are moved
}

type taskHandle struct {
	TaskID    string `json:"taskId"`
	SourceArn string `json:"sourceArn"`
}

type startMoveTaskInput struct {
	SourceArn                    string `json:"SourceArn"`
	DestinationArn               string `json:"DestinationArn"`
	MaxNumberOfMessagesPerSecond *int   `json:"MaxNumberOfMessagesPerSecond"`
}

type startMoveTaskOutput struct {
	TaskHandle string `json:"TaskHandle"`
}

func (s *Server) opStartMessageMoveTask(_ *reqCtx, decode decoder) (any, error) {
	var in startMoveTaskInput
	if err := decode(&in); err != nil {
		return nil, err
	}
	if in.SourceArn == "" {
		return nil, errMissingParameter("SourceArn")
	}
	if r := in.MaxNumberOfMessagesPerSecond; r != nil && (*r < 1 || *r > maxMovesPerSecond) {
		return nil, errInvalidParameterValue("Value %d for parameter MaxNumberOfMessagesPerSecond is invalid. Reason: Must be between 1 and %d.", *r, maxMovesPerSecond)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	src := s.queueByARN(in.SourceArn)
	if src == nil {
		return nil, errResourceNotFound("The resource that you specified for the SourceArn parameter doesn't exist.")
	}
	if len(s.sourcesOf(src)) == 0 {
		return nil, errInvalidParameterValue("Source queue must be configured as a Dead Letter Queue.")
	}
	if in.DestinationArn != "" && s.queueByARN(in.DestinationArn) == nil {
		return nil, errResourceNotFound("The resource that you specified for the DestinationArn parameter doesn't exist.")
	}
	for _, t := range s.tasks {
		if t.sourceArn == src.arn && (t.status == taskRunning || t.status == taskCancelling) {
			return nil, errInvalidParameterValue("There is already a task running. Only one active task is allowed for a source queue arn at a given time.")
		}
	}
	now := s.clock.Now()
	src.expire(now)
	t := &moveTask{
		id:        newMessageID(),
		sourceArn: src.arn,
		destArn:   in.DestinationArn,
		rate:      in.MaxNumberOfMessagesPerSecond,
		status:    taskRunning,
		started:   now,
		cutoff:    s.seq,
	}
	visible, _, _ := src.counts(now)
	t.toMove = int64(visible)
	h, _ := json.Marshal(taskHandle{TaskID: t.id, SourceArn: src.arn})
	t.handle = base64.StdEncoding.EncodeToString(h)
	s.tasks = append(s.tasks, t)
	s.wg.Add(1)
	go s.runMoveTask(t)
	s.log.Info("sqslocal: message move task started", "source", src.name, "destination", in.DestinationArn, "to_move", t.toMove)
	return startMoveTaskOutput{t.handle}, nil
}

// runMoveTask moves messages in steps: all due messages at once without a
// rate, else rate messages per clock second.
func (s *Server) runMoveTask(t *moveTask) {
	defer s.wg.Done()
	for {
		s.mu.Lock()
		done := s.moveStep(t)
		s.mu.Unlock()
		if done {
			return
		}
		wait := time.Duration(0)
		if t.rate != nil {
			wait = time.Second
		}
		timer := s.clock.NewTimer(wait)
		select {
		case <-timer.C():
		case <-s.done:
			timer.Stop()
			s.mu.Lock()
			if t.status == taskRunning || t.status == taskCancelling {
				t.status, t.failure = taskFailed, "ServiceShutdown"
			}
			s.mu.Unlock()
			return
		}
	}
}

// moveStep moves one step's worth of messages and reports whether the task
// has finished. Callers hold s.mu.
func (s *Server) moveStep(t *moveTask) bool {
	if t.status == taskCancelling {
		t.status = taskCancelled
		return true
	}
	src := s.queueByARN(t.sourceArn)
	if src == nil {
		t.status, t.failure = taskFailed, "AWS.SimpleQueueService.NonExistentQueue"
		return true
	}
	now := s.clock.Now()
	src.expire(now)
	budget := unthrottledBatch
	if t.rate != nil {
		budget = *t.rate
	}
	for i := 0; i < len(src.msgs) && budget > 0; {
		m := src.msgs[i]
		if m.seq > t.cutoff || !m.visible(now) {
			i++
			continue
		}
		destArn := t.destArn
		if destArn == "" {
			destArn = m.dlqSourceArn
		}
		if destArn == "" {
			// Sent straight to the DLQ: with exactly one source queue the
			// origin is unambiguous, otherwise SQS has nowhere to send it.
			if sources := s.sourcesOf(src); len(sources) == 1 {
				destArn = sources[0].arn
			}
		}
		dest := s.queueByARN(destArn)
		if dest == nil {
			t.status, t.failure = taskFailed, "AWS.SimpleQueueService.NonExistentQueue"
			return true
		}
		src.removeAt(i)
		s.redrive(m, dest, now)
		t.moved++
		budget--
	}
	for _, m := range src.msgs {
		if m.seq <= t.cutoff && m.visible(now) {
			return false
		}
	}
	t.status = taskCompleted
	s.log.Info("sqslocal: message move task completed", "source", src.name, "moved", t.moved)
	return true
}

// redrive enqueues m into dest as a new message.
func (s *Server) redrive(m *message, dest *queue, now time.Time) {
	dest.expire(now)
	// A move task sends anew, as a manual send would; only a redrive
	// policy's own move to a DLQ goes uncounted (see moveToDLQ).
	dest.sentCount++
	dest.add(&message{
		id:          newMessageID(),
		seq:         s.nextSeq(),
		body:        m.body,
		attrs:       m.attrs,
		sysAttrs:    m.sysAttrs,
		md5Body:     m.md5Body,
		md5Attrs:    m.md5Attrs,
		md5SysAttrs: m.md5SysAttrs,
		size:        m.size,
		senderID:    m.senderID,
		sent:        now,
		arrived:     now,
		visibleAt:   now.Add(time.Duration(dest.cfg.delaySeconds) * time.Second),
	})
}

type listMoveTasksInput struct {
	SourceArn  string `json:"SourceArn"`
	MaxResults *int   `json:"MaxResults"`
}

type moveTaskEntry struct {
	TaskHandle                        string `json:"TaskHandle,omitempty"`
	Status                            string `json:"Status"`
	SourceArn                         string `json:"SourceArn"`
	DestinationArn                    string `json:"DestinationArn,omitempty"`
	MaxNumberOfMessagesPerSecond      *int   `json:"MaxNumberOfMessagesPerSecond,omitempty"`
	ApproximateNumberOfMessagesMoved  int64  `json:"ApproximateNumberOfMessagesMoved"`
	ApproximateNumberOfMessagesToMove int64  `json:"ApproximateNumberOfMessagesToMove"`
	FailureReason                     string `json:"FailureReason,omitempty"`
	StartedTimestamp                  int64  `json:"StartedTimestamp"`
}

type listMoveTasksOutput struct {
	Results []moveTaskEntry `json:"Results" query:"ListMessageMoveTasksResultEntry"`
}

func (s *Server) opListMessageMoveTasks(_ *reqCtx, decode decoder) (any, error) {
	var in listMoveTasksInput
	if err := decode(&in); err != nil {
		return nil, err
	}
	if in.SourceArn == "" {
		return nil, errMissingParameter("SourceArn")
	}
	limit := 1
	if in.MaxResults != nil {
		if *in.MaxResults < 1 || *in.MaxResults > 10 {
			return nil, errInvalidParameterValue("Value %d for parameter MaxResults is invalid. Reason: Must be between 1 and 10.", *in.MaxResults)
		}
		limit = *in.MaxResults
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.queueByARN(in.SourceArn) == nil {
		return nil, errResourceNotFound("The resource that you specified for the SourceArn parameter doesn't exist.")
	}
	out := listMoveTasksOutput{Results: []moveTaskEntry{}}
	for i := len(s.tasks) - 1; i >= 0 && len(out.Results) < limit; i-- {
		t := s.tasks[i]
		if t.sourceArn != in.SourceArn {
			continue
		}
		e := moveTaskEntry{
			Status:                            t.status,
			SourceArn:                         t.sourceArn,
			DestinationArn:                    t.destArn,
			MaxNumberOfMessagesPerSecond:      t.rate,
			ApproximateNumberOfMessagesMoved:  t.moved,
			ApproximateNumberOfMessagesToMove: t.toMove,
			FailureReason:                     t.failure,
			StartedTimestamp:                  t.started.UnixMilli(),
		}
		if t.status == taskRunning {
			e.TaskHandle = t.handle // SQS shows the handle only while it can be cancelled
		}
		out.Results = append(out.Results, e)
	}
	return out, nil
}

type cancelMoveTaskInput struct {
	TaskHandle string `json:"TaskHandle"`
}

type cancelMoveTaskOutput struct {
	ApproximateNumberOfMessagesMoved int64 `json:"ApproximateNumberOfMessagesMoved"`
}

func (s *Server) opCancelMessageMoveTask(_ *reqCtx, decode decoder) (any, error) {
	var in cancelMoveTaskInput
	if err := decode(&in); err != nil {
		return nil, err
	}
	invalid := errInvalidParameterValue("Value for parameter TaskHandle is invalid.")
	raw, err := base64.StdEncoding.DecodeString(in.TaskHandle)
	if err != nil {
		return nil, invalid
	}
	var h taskHandle
	if json.Unmarshal(raw, &h) != nil || h.TaskID == "" || h.SourceArn == "" {
		return nil, invalid
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.queueByARN(h.SourceArn) == nil {
		return nil, errResourceNotFound("The resource that you specified for the SourceArn parameter doesn't exist.")
	}
	for _, t := range s.tasks {
		if t.id != h.TaskID || t.sourceArn != h.SourceArn {
			continue
		}
		if t.status != taskRunning {
			return nil, errInvalidParameterValue("Task is not running: only a task in RUNNING status can be cancelled.")
		}
		// The task goroutine finishes the cancellation at its next step,
		// as SQS reports CANCELLING before CANCELLED.
		t.status = taskCancelling
		return cancelMoveTaskOutput{t.moved}, nil
	}
	return nil, errResourceNotFound("Task does not exist.")
}
