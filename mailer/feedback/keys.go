package feedback

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/cognito-email-otp/cognito-email-otp/internal/pseudonym"
)

// KeySource reads the project's HMAC key: Secrets Manager's AWSCURRENT
// (and AWSPREVIOUS, unused here), as triggers/secret.Source does.
type KeySource interface {
	Keys(ctx context.Context) (current, previous []byte, err error)
}

// Keys hashes recipients under the current HMAC key, as the Create trigger
// and the mailer do, re-reading the key every refresh so that the hashes
// follow a rotation. A failed re-read keeps the key in hand: a log line
// under the previous key is still found by otpctl trace, which searches
// both.
type Keys struct {
	src     KeySource
	refresh time.Duration
	now     func() time.Time

	mu      sync.Mutex
	key     []byte
	triedAt time.Time
}

// minKeyBytes is the triggers' shortest key (triggers.MinKeyBytes).
const minKeyBytes = 32

// FixedKeys hashes under one key (local runs, tests).
func FixedKeys(key []byte) (*Keys, error) {
	if len(key) < minKeyBytes {
		return nil, fmt.Errorf("HMAC key is %d bytes, want at least %d", len(key), minKeyBytes)
	}
	return &Keys{key: key, now: time.Now}, nil
}

// LoadKeys reads the key from src once (a cold start fails without it).
func LoadKeys(ctx context.Context, src KeySource, refresh time.Duration) (*Keys, error) {
	if refresh <= 0 {
		refresh = 5 * time.Minute
	}
	k := &Keys{src: src, refresh: refresh, now: time.Now}
	if err := k.reload(ctx); err != nil {
		return nil, err
	}
	return k, nil
}

func (k *Keys) reload(ctx context.Context) error {
	cur, _, err := k.src.Keys(ctx)
	k.mu.Lock()
	defer k.mu.Unlock()
	k.triedAt = k.now()
	if err != nil {
		return fmt.Errorf("read HMAC key: %w", err)
	}
	if len(cur) < minKeyBytes {
		return errors.New("current HMAC key is too short")
	}
	k.key = cur
	return nil
}

// ToHash is pseudonym.ToHash of address under the current key; it reports
// a failed re-read of the key, which the caller logs.
func (k *Keys) ToHash(ctx context.Context, address string) (string, error) {
	var err error
	k.mu.Lock()
	stale := k.src != nil && k.now().Sub(k.triedAt) >= k.refresh
	k.mu.Unlock()
	if stale {
		err = k.reload(ctx)
	}
	k.mu.Lock()
	key := k.key
	k.mu.Unlock()
	return pseudonym.ToHash(key, address), err
}
