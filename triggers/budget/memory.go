package budget

import (
	"context"
	"sync"
	"time"
)

// MemoryStore keeps records in memory with the same conditional-write rule
// as the DynamoDB store. It is for unit tests of the triggers; otp-local and
// AWS use dynamostore. SetError makes it fail as an unreachable table
// would.
type MemoryStore struct {
	mu      sync.Mutex
	records map[string]memoryRecord
	err     error
}

type memoryRecord struct {
	state   State
	version Version
	ttl     time.Time
}

// Load returns the user's record, or the zero State and version 0.
func (m *MemoryStore) Load(_ context.Context, user string) (State, Version, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.err != nil {
		return State{}, 0, m.err
	}
	r := m.records[user]
	return r.state, r.version, nil
}

// Save writes if the record is still at prev.
func (m *MemoryStore) Save(_ context.Context, user string, s State, ttl time.Time, prev Version) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.err != nil {
		return m.err
	}
	if m.records == nil {
		m.records = map[string]memoryRecord{}
	}
	if m.records[user].version != prev {
		return ErrConflict
	}
	m.records[user] = memoryRecord{state: s, version: prev + 1, ttl: ttl}
	return nil
}

// SetError makes every later call fail with err (nil heals the store).
func (m *MemoryStore) SetError(err error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.err = err
}
