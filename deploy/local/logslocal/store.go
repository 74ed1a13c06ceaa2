package logslocal

import (
	"cmp"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"slices"
	"strings"
	"sync"
	"time"
)

// Defaults of Options.
const (
	DefaultRegion    = "us-east-1"
	DefaultAccountID = "000000000000"
	// DefaultMaxEvents bounds each log group: about 10 MB of the
	// functions' lines, hours of a developer's sign-ins, seconds of a
	// benchmark's.
	DefaultMaxEvents = 10_000
	// DefaultRetention is how long an event is kept, the same three hours
	// otp-local's CloudWatch keeps metrics for.
	DefaultRetention = 3 * time.Hour
)

// Options configure a Store. The zero value is usable.
type Options struct {
	Region, AccountID string
	// MaxEvents and Retention bound every log group: the oldest events go
	// first, so otp-local's memory does not grow with traffic.
	MaxEvents int
	Retention time.Duration
	// Now is the clock events are stamped with (default time.Now).
	Now func() time.Time
}

// Store holds log groups and their events in memory. It is safe for
// concurrent use.
type Store struct {
	region, account string
	maxEvents       int
	retention       time.Duration
	now             func() time.Time

	mu     sync.Mutex
	seq    uint64
	groups map[string]*group
}

type group struct {
	name    string
	created time.Time
	streams map[string]time.Time // name -> creation
	events  []Event              // in ingestion order
	dropped int64                // events the bounds removed
}

// Event is one stored log event.
type Event struct {
	Seq       uint64 // ingestion order, unique in the store
	Stream    string
	Timestamp time.Time
	Ingested  time.Time
	Message   string
}

// ID is the event's id as FilterLogEvents returns it: AWS's are 56 decimal
// digits; these are too, the timestamp and the ingestion sequence.
func (e Event) ID() string {
	return fmt.Sprintf("%032d%024d", e.Timestamp.UnixMilli(), e.Seq)
}

// New returns an empty Store.
func New(o Options) *Store {
	s := &Store{region: o.Region, account: o.AccountID, maxEvents: o.MaxEvents, retention: o.Retention, now: o.Now,
		groups: map[string]*group{}}
	if s.region == "" {
		s.region = DefaultRegion
	}
	if s.account == "" {
		s.account = DefaultAccountID
	}
	if s.maxEvents <= 0 {
		s.maxEvents = DefaultMaxEvents
	}
	if s.retention <= 0 {
		s.retention = DefaultRetention
	}
	if s.now == nil {
		s.now = time.Now
	}
	return s
}

// CreateGroup makes the log group name if it does not exist, as the SAM
// template's AWS::Logs::LogGroup resources do for each function.
func (s *Store) CreateGroup(name string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.groupLocked(name)
}

func (s *Store) groupLocked(name string) *group {
	g := s.groups[name]
	if g == nil {
		g = &group{name: name, created: s.now(), streams: map[string]time.Time{}}
		s.groups[name] = g
	}
	return g
}

// Put stores one event, stamped with t (the time the line was written),
// creating the group and the stream if needed. A trailing newline is not
// part of the message, as Lambda's log capture strips it.
func (s *Store) Put(groupName, stream string, t time.Time, message string) {
	message = strings.TrimRight(message, "\r\n")
	if message == "" {
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	g := s.groupLocked(groupName)
	if _, ok := g.streams[stream]; !ok {
		g.streams[stream] = t
	}
	s.seq++
	now := s.now()
	g.events = append(g.events, Event{Seq: s.seq, Stream: stream, Timestamp: t, Ingested: now, Message: message})
	// The bounds: the oldest by ingestion go first, past the retention or
	// the count. Reslicing keeps this O(1); append reallocates, and so
	// frees, the dropped front from time to time.
	cut := 0
	for cut < len(g.events) && (len(g.events)-cut > s.maxEvents || g.events[cut].Ingested.Before(now.Add(-s.retention))) {
		cut++
	}
	if cut > 0 {
		g.dropped += int64(cut)
		g.events = g.events[cut:]
	}
}

// Stream writes lines into one log stream.
type Stream struct {
	store       *Store
	group, name string
	mu          sync.Mutex // one writer's lines at a time
	partial     []byte
}

// Stream returns a writer for the log stream Lambda would name for one
// execution environment of function group: "YYYY/MM/DD/[$LATEST]" and 32
// hex digits.
func (s *Store) Stream(groupName string) *Stream {
	var b [16]byte
	_, _ = rand.Read(b[:])
	name := s.now().UTC().Format("2006/01/02") + "/[$LATEST]" + hex.EncodeToString(b[:])
	s.CreateGroup(groupName)
	return &Stream{store: s, group: groupName, name: name}
}

// Name is the stream's name.
func (st *Stream) Name() string { return st.name }

// PutLine stores one complete line, stamped now.
func (st *Stream) PutLine(line []byte) {
	st.store.Put(st.group, st.name, st.store.now(), string(line))
}

// Write stores every complete line of p; a line split across writes is
// joined first.
func (st *Stream) Write(p []byte) (int, error) {
	st.mu.Lock()
	defer st.mu.Unlock()
	st.partial = append(st.partial, p...)
	for {
		i := slices.Index(st.partial, '\n')
		if i < 0 {
			break
		}
		st.PutLine(st.partial[:i])
		st.partial = st.partial[i+1:]
	}
	return len(p), nil
}

// GroupInfo describes a log group as DescribeLogGroups does.
type GroupInfo struct {
	Name        string
	Created     time.Time
	StoredBytes int64
	Events      int
	Dropped     int64
}

// Groups lists the log groups in name order.
func (s *Store) Groups() []GroupInfo {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]GroupInfo, 0, len(s.groups))
	for _, g := range s.groups {
		var bytes int64
		for _, e := range g.events {
			bytes += int64(len(e.Message))
		}
		out = append(out, GroupInfo{Name: g.name, Created: g.created, StoredBytes: bytes, Events: len(g.events), Dropped: g.dropped})
	}
	slices.SortFunc(out, func(a, b GroupInfo) int { return strings.Compare(a.Name, b.Name) })
	return out
}

// ARN is the log group's ARN as DescribeLogGroups' logGroupArn has it.
func (s *Store) ARN(groupName string) string {
	return fmt.Sprintf("arn:aws:logs:%s:%s:log-group:%s", s.region, s.account, groupName)
}

// query is what FilterLogEvents asks of one group.
type query struct {
	start, end   *int64 // ms, both inclusive
	pattern      *Pattern
	streams      []string
	streamPrefix string
}

// events returns the group's matching events sorted by timestamp, then
// ingestion, and whether the group exists.
func (s *Store) events(groupName string, q query) ([]Event, bool) {
	s.mu.Lock()
	g := s.groups[groupName]
	if g == nil {
		s.mu.Unlock()
		return nil, false
	}
	all := slices.Clone(g.events)
	s.mu.Unlock()
	out := all[:0]
	for _, e := range all {
		ms := e.Timestamp.UnixMilli()
		switch {
		case q.start != nil && ms < *q.start, q.end != nil && ms > *q.end:
		case len(q.streams) > 0 && !slices.Contains(q.streams, e.Stream):
		case q.streamPrefix != "" && !strings.HasPrefix(e.Stream, q.streamPrefix):
		case q.pattern != nil && !q.pattern.Match(e.Message):
		default:
			out = append(out, e)
		}
	}
	slices.SortStableFunc(out, func(a, b Event) int {
		if c := a.Timestamp.Compare(b.Timestamp); c != 0 {
			return c
		}
		return cmp.Compare(a.Seq, b.Seq)
	})
	return out, true
}
