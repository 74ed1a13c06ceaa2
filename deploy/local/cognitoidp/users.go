package cognitoidp

import (
	"crypto/rand"
	"encoding/json"
	"errors"
	"fmt"
	"math/big"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"time"
)

// User statuses as Cognito names them.
const (
	StatusConfirmed           = "CONFIRMED"
	StatusUnconfirmed         = "UNCONFIRMED"
	StatusForceChangePassword = "FORCE_CHANGE_PASSWORD"
	StatusResetRequired       = "RESET_REQUIRED"
)

// User is one account. Username is Cognito's internal user name (a UUID,
// also the sub): with email as the username attribute, people sign in with
// their email and Cognito resolves it.
type User struct {
	Username   string            `json:"username"`
	Attributes map[string]string `json:"attributes"`
	Status     string            `json:"status"`
	Enabled    bool              `json:"enabled"`
	Salt       string            `json:"salt,omitempty"`     // hex
	Verifier   string            `json:"verifier,omitempty"` // hex: g^x mod N, never the password
	Created    time.Time         `json:"created"`
	Modified   time.Time         `json:"modified"`
	// TemporaryPasswordExpires ends a FORCE_CHANGE_PASSWORD user's
	// temporary password (the pool's TemporaryPasswordValidityDays); zero
	// for users seeded with a permanent one.
	TemporaryPasswordExpires time.Time `json:"temporaryPasswordExpires,omitzero"`
	// confirmation is the code for ConfirmSignUp; verification, the code
	// for VerifyUserAttribute (UpdateUserAttributes,
	// GetUserAttributeVerificationCode), and pendingEmail the new address
	// while it waits for it (AttributesRequireVerificationBeforeUpdate).
	confirmation emailedCode
	verification emailedCode
	pendingEmail string
}

func (u *User) email() string { return u.Attributes["email"] }

// users is the directory, optionally persisted as users.json in a data dir.
type users struct {
	mu     sync.RWMutex
	byName map[string]*User // internal username -> user
	path   string
}

func newUsers(dataDir string) (*users, error) {
	u := &users{byName: map[string]*User{}}
	if dataDir == "" {
		return u, nil
	}
	u.path = filepath.Join(dataDir, "users.json")
	b, err := os.ReadFile(u.path)
	if errors.Is(err, os.ErrNotExist) {
		return u, nil
	}
	if err != nil {
		return nil, fmt.Errorf("read users: %w", err)
	}
	var list []*User
	if err := json.Unmarshal(b, &list); err != nil {
		return nil, fmt.Errorf("read users: %s: %w", u.path, err)
	}
	for _, x := range list {
		u.byName[x.Username] = x
	}
	return u, nil
}

// lookup finds a user by internal username or, case-insensitively, email.
func (u *users) lookup(name string) *User {
	u.mu.RLock()
	defer u.mu.RUnlock()
	if x, ok := u.byName[name]; ok {
		return x.clone()
	}
	for _, x := range u.byName {
		if e := x.email(); e != "" && strings.EqualFold(e, name) {
			return x.clone()
		}
	}
	return nil
}

func (x *User) clone() *User {
	c := *x
	c.Attributes = make(map[string]string, len(x.Attributes))
	for k, v := range x.Attributes {
		c.Attributes[k] = v
	}
	return &c
}

// update applies f to the stored user under the lock and persists.
func (u *users) update(username string, f func(*User) error) (*User, error) {
	u.mu.Lock()
	defer u.mu.Unlock()
	x, ok := u.byName[username]
	if !ok {
		return nil, errUserNotFound
	}
	if err := f(x); err != nil {
		return nil, err
	}
	x.Modified = time.Now().UTC()
	return x.clone(), u.saveLocked()
}

var (
	errUserNotFound = errors.New("user does not exist")
	errUserExists   = errors.New("an account with the given email already exists")
)

// add creates a user unless one with the same email exists.
func (u *users) add(x *User) error {
	u.mu.Lock()
	defer u.mu.Unlock()
	for _, y := range u.byName {
		if e := y.email(); e != "" && strings.EqualFold(e, x.email()) {
			return errUserExists
		}
	}
	u.byName[x.Username] = x
	return u.saveLocked()
}

func (u *users) remove(username string) error {
	u.mu.Lock()
	defer u.mu.Unlock()
	if _, ok := u.byName[username]; !ok {
		return errUserNotFound
	}
	delete(u.byName, username)
	return u.saveLocked()
}

func (u *users) list() []*User {
	u.mu.RLock()
	defer u.mu.RUnlock()
	out := make([]*User, 0, len(u.byName))
	for _, x := range u.byName {
		out = append(out, x.clone())
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Created.Before(out[j].Created) })
	return out
}

// saveLocked writes users.json atomically: a crash never leaves half a file.
func (u *users) saveLocked() error {
	if u.path == "" {
		return nil
	}
	list := make([]*User, 0, len(u.byName))
	for _, x := range u.byName {
		list = append(list, x)
	}
	sort.Slice(list, func(i, j int) bool { return list[i].Username < list[j].Username })
	b, err := json.MarshalIndent(list, "", "  ")
	if err != nil {
		return err
	}
	tmp := u.path + ".tmp"
	if err := os.WriteFile(tmp, b, 0o600); err != nil {
		return fmt.Errorf("save users: %w", err)
	}
	return os.Rename(tmp, u.path)
}

// setPassword stores a fresh salt and the verifier for password.
func setPassword(x *User, poolName, password string) error {
	salt, err := newSalt()
	if err != nil {
		return err
	}
	x.Salt = padHex(salt)
	x.Verifier = padHex(verifier(poolName, x.Username, password, salt))
	return nil
}

func (x *User) srpValues() (salt, v *big.Int, ok bool) {
	salt, ok1 := new(big.Int).SetString(x.Salt, 16)
	v, ok2 := new(big.Int).SetString(x.Verifier, 16)
	return salt, v, ok1 && ok2
}

// newUUID returns a random RFC 4122 version 4 UUID, Cognito's user name
// and sub format.
func newUUID() string {
	var b [16]byte
	_, _ = rand.Read(b[:])
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	return fmt.Sprintf("%x-%x-%x-%x-%x", b[0:4], b[4:6], b[6:8], b[8:10], b[10:16])
}

// MinPasswordLength is the pool's password policy (Cognito's default is 8
// with character classes; otp-local asks only for length).
const MinPasswordLength = 8
