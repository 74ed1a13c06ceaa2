package triggers

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/cognito-email-otp/cognito-email-otp/internal/pseudonym"
)

// KeySource reads the HMAC key's current and previous versions (Secrets
// Manager's AWSCURRENT and AWSPREVIOUS). previous is nil when there is none.
type KeySource interface {
	Keys(ctx context.Context) (current, previous []byte, err error)
}

// Keyring holds the HMAC keys a trigger may use. Create signs with the
// current key and records its id in the challenge; Verify accepts the
// current and the previous key, so a rotation never fails a sign-in that
// started before it. A key from a secret is re-read every refresh interval,
// and at once (rate-limited) when Verify meets a key id it does not know:
// another container may have picked up a rotation first.
type Keyring struct {
	src     KeySource
	refresh time.Duration
	now     func() time.Time

	mu       sync.Mutex
	current  signingKey
	previous *signingKey
	loadedAt time.Time
	triedAt  time.Time // last reload, successful or not
}

type signingKey struct {
	id  string
	key []byte
}

// KeyID is a key's id: 12 characters derived from the key itself, so the
// same key has the same id in every container and in otp-local, and an id
// reveals nothing of its key. Log lines carry it (key_id).
func KeyID(key []byte) string { return keyID(key) }

func keyID(key []byte) string {
	m := hmac.New(sha256.New, key)
	m.Write([]byte("cognito-email-otp key id"))
	return base64.RawURLEncoding.EncodeToString(m.Sum(nil)[:9])
}

func validKeyID(id string) bool {
	b, err := base64.RawURLEncoding.DecodeString(id)
	return err == nil && len(b) == 9 && base64.RawURLEncoding.EncodeToString(b) == id
}

func newSigningKey(key []byte) (signingKey, error) {
	if len(key) < MinKeyBytes {
		return signingKey{}, fmt.Errorf("HMAC key is %d bytes, want at least %d", len(key), MinKeyBytes)
	}
	return signingKey{id: keyID(key), key: key}, nil
}

// Refresh timing of keys read from a secret.
const (
	// KeyRefresh is OTP_KEY_REFRESH's default: how old the keys may get
	// before a trigger re-reads them.
	KeyRefresh = 5 * time.Minute
	// keyRetry spaces reloads on unknown key ids and failed reads. Key ids
	// come from Cognito's private parameters, not from the client, so an
	// unknown one means a rotation this container has not seen yet: reload
	// at once, but not more than once a second.
	keyRetry = time.Second
)

// NewKeyring returns a ring of fixed keys: current and, optionally,
// previous (local runs, tests).
func NewKeyring(current, previous []byte) (*Keyring, error) {
	cur, err := newSigningKey(current)
	if err != nil {
		return nil, err
	}
	r := &Keyring{current: cur, now: time.Now}
	if len(previous) > 0 {
		prev, err := newSigningKey(previous)
		if err != nil {
			return nil, fmt.Errorf("previous key: %w", err)
		}
		r.previous = &prev
	}
	return r, nil
}

// LoadKeyring reads the keys from src once (the cold start fails without
// them) and re-reads them every refresh.
func LoadKeyring(ctx context.Context, src KeySource, refresh time.Duration) (*Keyring, error) {
	r := &Keyring{src: src, refresh: refresh, now: time.Now}
	if err := r.reload(ctx); err != nil {
		return nil, err
	}
	return r, nil
}

// reload replaces the keys from the source. Caller holds no lock.
func (r *Keyring) reload(ctx context.Context) error {
	cur, prev, err := r.src.Keys(ctx)
	r.mu.Lock()
	defer r.mu.Unlock()
	r.triedAt = r.now()
	if err != nil {
		return fmt.Errorf("read HMAC keys: %w", err)
	}
	c, err := newSigningKey(cur)
	if err != nil {
		return fmt.Errorf("current HMAC key: %w", err)
	}
	r.current, r.previous, r.loadedAt = c, nil, r.now()
	if len(prev) > 0 {
		if p, err := newSigningKey(prev); err == nil {
			r.previous = &p
		}
	}
	return nil
}

// signing returns the key new codes are signed with, re-reading the source
// when the keys are older than the refresh interval. A failed re-read keeps
// the keys in hand: a sign-in should not fail because the secret could not
// be read a second time.
func (r *Keyring) signing(ctx context.Context) (signingKey, error) {
	r.mu.Lock()
	stale := r.src != nil && r.now().Sub(r.loadedAt) >= r.refresh && r.now().Sub(r.triedAt) >= keyRetry
	r.mu.Unlock()
	var err error
	if stale {
		err = r.reload(ctx)
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.current, err
}

// errUnknownKey: the challenge names a key that is neither current nor
// previous, even after re-reading the source.
var errUnknownKey = errors.New("challenge signed with an unknown key")

// lookup returns the key with id, re-reading the source once if it is
// unknown. reloadErr reports a failed re-read, for the log.
func (r *Keyring) lookup(ctx context.Context, id string) (key []byte, reloadErr error, err error) {
	find := func() []byte {
		r.mu.Lock()
		defer r.mu.Unlock()
		if r.current.id == id {
			return r.current.key
		}
		if r.previous != nil && r.previous.id == id {
			return r.previous.key
		}
		return nil
	}
	if k := find(); k != nil {
		return k, nil, nil
	}
	r.mu.Lock()
	retry := r.src != nil && r.now().Sub(r.triedAt) >= keyRetry
	r.mu.Unlock()
	if retry {
		reloadErr = r.reload(ctx)
		if k := find(); k != nil {
			return k, reloadErr, nil
		}
	}
	return nil, reloadErr, errUnknownKey
}

// Pseudonym is the keyed hash of a user id that log lines carry instead of
// the id: an operator who knows a user's sub finds their attempts with
// `otpctl user pseudonym`, a reader of the logs alone learns nothing. It
// changes when the key rotates.
func (r *Keyring) Pseudonym(sub string) string {
	if sub == "" {
		return ""
	}
	r.mu.Lock()
	key := r.current.key
	r.mu.Unlock()
	return Pseudonym(key, sub)
}

// Pseudonym is Keyring.Pseudonym for one key.
func Pseudonym(key []byte, sub string) string { return pseudonym.User(key, sub) }

// ToHash is the keyed hash of a recipient address that log lines carry as
// to_hash instead of the address (pseudonym.ToHash under the current key):
// the Create trigger's enqueue line, the mailer's sent line and the
// feedback function's event lines all carry it, so an operator who knows
// the address finds all three. It changes when the key rotates.
func (r *Keyring) ToHash(address string) string {
	r.mu.Lock()
	key := r.current.key
	r.mu.Unlock()
	return pseudonym.ToHash(key, address)
}

// CurrentToHash is ToHash after re-reading the keys when they are older
// than the refresh interval, as signing a code does: for a function that
// only hashes (the feedback function), so that its hashes follow a
// rotation. A failed re-read keeps the keys in hand and is returned for
// the caller to log.
func (r *Keyring) CurrentToHash(ctx context.Context, address string) (string, error) {
	_, err := r.signing(ctx)
	return r.ToHash(address), err
}

// PreviousToHash is ToHash under the previous key, "" when there is none,
// for searches that span a rotation.
func (r *Keyring) PreviousToHash(address string) string {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.previous == nil {
		return ""
	}
	return pseudonym.ToHash(r.previous.key, address)
}

// PreviousPseudonym is the pseudonym under the previous key, if there is
// one, for log searches that span a rotation.
func (r *Keyring) PreviousPseudonym(sub string) string {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.previous == nil || sub == "" {
		return ""
	}
	return Pseudonym(r.previous.key, sub)
}
