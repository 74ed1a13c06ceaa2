package kmslocal

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"time"
)

// Key specs and usages otp-local's KMS creates: symmetric encryption keys,
// the only kind the Encryption SDK's KMS keyring and Cognito use, and HMAC
// keys, so that a keyring pointed at a key of the wrong kind fails as on
// AWS (InvalidKeyUsageException).
const (
	SpecSymmetric = "SYMMETRIC_DEFAULT"
	UsageEncrypt  = "ENCRYPT_DECRYPT"
	UsageMAC      = "GENERATE_VERIFY_MAC"
)

var hmacSpecs = map[string]string{"HMAC_224": "HMAC_SHA_224", "HMAC_256": "HMAC_SHA_256", "HMAC_384": "HMAC_SHA_384", "HMAC_512": "HMAC_SHA_512"}

// key is one KMS key. Fields are exported for the data-dir file only.
type key struct {
	ID          string    `json:"id"`
	Description string    `json:"description"`
	Created     time.Time `json:"created"`
	Enabled     bool      `json:"enabled"`
	Spec        string    `json:"spec"`
	Usage       string    `json:"usage"`
	// Secret is the key material: 32 bytes, AES-256-GCM for symmetric keys.
	Secret []byte `json:"secret"`
}

type alias struct {
	Name    string    `json:"name"`
	KeyID   string    `json:"keyId"`
	Created time.Time `json:"created"`
}

func (s *Server) keyARN(id string) string {
	return fmt.Sprintf("arn:aws:kms:%s:%s:key/%s", s.region, s.accountID, id)
}

func (s *Server) aliasARN(name string) string {
	return fmt.Sprintf("arn:aws:kms:%s:%s:%s", s.region, s.accountID, name)
}

var (
	keyIDRE   = regexp.MustCompile(`^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$`)
	mrkIDRE   = regexp.MustCompile(`^mrk-[0-9a-f]{32}$`)
	kmsARNRE  = regexp.MustCompile(`^arn:aws:kms:([a-z0-9-]+):(\d{12}):((?:key|alias)/.+)$`)
	aliasPart = regexp.MustCompile(`^[a-zA-Z0-9:/_-]+$`)
)

// resolveLocked finds the key a KeyId names: a key id, a key ARN, an alias
// name or an alias ARN (aliases only where allowAlias), with the errors AWS
// gives for each kind of miss.
func (s *Server) resolveLocked(id string, allowAlias bool) (*key, *apiError) {
	ref := id
	if m := kmsARNRE.FindStringSubmatch(id); m != nil {
		if m[1] != s.region {
			return nil, errInvalidARN(m[1])
		}
		if m[2] != s.accountID {
			// Another account's key: not one this account can see.
			if strings.HasPrefix(m[3], "alias/") {
				return nil, errAliasNotFound(id)
			}
			return nil, errKeyNotFound(id)
		}
		ref = m[3]
		if k, ok := strings.CutPrefix(ref, "key/"); ok {
			ref = k
		}
	} else if strings.HasPrefix(id, "arn:") {
		return nil, errInvalidKeyID(id)
	}
	if strings.HasPrefix(ref, "alias/") {
		if !allowAlias {
			return nil, errInvalidKeyID(id)
		}
		a := s.aliases[ref]
		if a == nil {
			return nil, errAliasNotFound(s.aliasARN(ref))
		}
		return s.keys[a.KeyID], nil
	}
	if !keyIDRE.MatchString(ref) && !mrkIDRE.MatchString(ref) {
		return nil, errInvalidKeyID(id)
	}
	k := s.keys[ref]
	if k == nil {
		return nil, errKeyNotFound(s.keyARN(ref))
	}
	return k, nil
}

// usableLocked is resolveLocked plus the checks every cryptographic
// operation makes: the key must be for encryption and enabled.
func (s *Server) usableLocked(id, op string) (*key, *apiError) {
	k, aerr := s.resolveLocked(id, true)
	if aerr != nil {
		return nil, aerr
	}
	if k.Usage != UsageEncrypt {
		return nil, errKeyUsage(s.keyARN(k.ID), k.Usage, op)
	}
	if !k.Enabled {
		return nil, errDisabled(s.keyARN(k.ID))
	}
	return k, nil
}

func (s *Server) newKeyLocked(description, spec, usage string) (*key, error) {
	k := &key{ID: newUUID(), Description: description, Created: s.now(), Enabled: true, Spec: spec, Usage: usage, Secret: make([]byte, 32)}
	if _, err := rand.Read(k.Secret); err != nil {
		return nil, fmt.Errorf("kmslocal: key material: %w", err)
	}
	s.keys[k.ID] = k
	return k, nil
}

// EnsureKey returns the ARN of the symmetric encryption key aliasName
// (alias/…) points at, creating the key and the alias if the alias does
// not exist. With a DataDir, a restart therefore keeps the key, so
// ciphertext made before it still decrypts.
func (s *Server) EnsureKey(aliasName, description string) (string, error) {
	if !strings.HasPrefix(aliasName, "alias/") || strings.HasPrefix(aliasName, "alias/aws/") || !aliasPart.MatchString(aliasName) {
		return "", fmt.Errorf("kmslocal: %q is not an alias name of a customer managed key", aliasName)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if a := s.aliases[aliasName]; a != nil {
		return s.keyARN(a.KeyID), nil
	}
	k, err := s.newKeyLocked(description, SpecSymmetric, UsageEncrypt)
	if err != nil {
		return "", err
	}
	s.aliases[aliasName] = &alias{Name: aliasName, KeyID: k.ID, Created: k.Created}
	if err := s.saveLocked(); err != nil {
		return "", err
	}
	return s.keyARN(k.ID), nil
}

// Ciphertext blobs. KMS's own format is undocumented and opaque to callers;
// this one is
//
//	0x01 | key id (16 bytes) | nonce (12) | AES-256-GCM(plaintext) with tag (16)
//
// sealed under the key's secret, with the version, the key id and the
// canonical encryption context as additional data: a change to any byte,
// another key's secret or another context fails to open.
const (
	blobVersion  = 0x01
	blobOverhead = 1 + 16 + 12 + 16
)

func seal(k *key, plaintext []byte, ctx map[string]string) ([]byte, error) {
	id, err := rawID(k.ID)
	if err != nil {
		return nil, err
	}
	aead, err := newAEAD(k.Secret)
	if err != nil {
		return nil, err
	}
	head := make([]byte, 0, blobOverhead+len(plaintext))
	head = append(head, blobVersion)
	head = append(head, id[:]...)
	nonce := make([]byte, aead.NonceSize())
	if _, err := rand.Read(nonce); err != nil {
		return nil, fmt.Errorf("kmslocal: nonce: %w", err)
	}
	aad := additionalData(head, ctx)
	head = append(head, nonce...)
	return aead.Seal(head, nonce, plaintext, aad), nil
}

// blobKeyID returns the key id a blob names, or false for bytes that are no
// blob of this emulator's.
func blobKeyID(blob []byte) (string, bool) {
	if len(blob) < blobOverhead || blob[0] != blobVersion {
		return "", false
	}
	var id [16]byte
	copy(id[:], blob[1:17])
	return formatUUID(id), true
}

func open(k *key, blob []byte, ctx map[string]string) ([]byte, bool) {
	aead, err := newAEAD(k.Secret)
	if err != nil {
		return nil, false
	}
	head, nonce, sealed := blob[:17], blob[17:29], blob[29:]
	plaintext, err := aead.Open(nil, nonce, sealed, additionalData(head, ctx))
	return plaintext, err == nil
}

func newAEAD(secret []byte) (cipher.AEAD, error) {
	block, err := aes.NewCipher(secret)
	if err != nil {
		return nil, fmt.Errorf("kmslocal: key material: %w", err)
	}
	return cipher.NewGCM(block)
}

// additionalData binds the blob's header and the encryption context: pairs
// sorted by key, each length-prefixed, so that the context's order does
// not matter (as on AWS) but every byte of it does.
func additionalData(head []byte, ctx map[string]string) []byte {
	aad := append([]byte("kmslocal/v1"), head...)
	keys := make([]string, 0, len(ctx))
	for k := range ctx {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		aad = binary.BigEndian.AppendUint32(aad, uint32(len(k)))
		aad = append(aad, k...)
		aad = binary.BigEndian.AppendUint32(aad, uint32(len(ctx[k])))
		aad = append(aad, ctx[k]...)
	}
	return aad
}

func rawID(id string) ([16]byte, error) {
	var b [16]byte
	h, err := hex.DecodeString(strings.ReplaceAll(id, "-", ""))
	if err != nil || len(h) != 16 {
		return b, fmt.Errorf("kmslocal: key id %q is not a UUID", id)
	}
	copy(b[:], h)
	return b, nil
}

// dataFile is the layout of <DataDir>/kms.json.
type dataFile struct {
	Keys    []*key   `json:"keys"`
	Aliases []*alias `json:"aliases"`
}

const dataFileName = "kms.json"

func dataPath(dir string) string {
	if dir == "" {
		return ""
	}
	return filepath.Join(dir, dataFileName)
}

func (s *Server) load() error {
	if s.path == "" {
		return nil
	}
	b, err := os.ReadFile(s.path)
	if errors.Is(err, os.ErrNotExist) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("kmslocal: read %s: %w", s.path, err)
	}
	var f dataFile
	if err := json.Unmarshal(b, &f); err != nil {
		return fmt.Errorf("kmslocal: %s is not a kmslocal data file: %w", s.path, err)
	}
	for _, k := range f.Keys {
		if len(k.Secret) != 32 {
			return fmt.Errorf("kmslocal: %s: key %s has no 32-byte secret", s.path, k.ID)
		}
		s.keys[k.ID] = k
	}
	for _, a := range f.Aliases {
		s.aliases[a.Name] = a
	}
	return nil
}

// saveLocked writes the data file atomically, readable by its owner only:
// it holds the key material.
func (s *Server) saveLocked() error {
	if s.path == "" {
		return nil
	}
	f := dataFile{Keys: make([]*key, 0, len(s.keys)), Aliases: make([]*alias, 0, len(s.aliases))}
	for _, k := range s.keys {
		f.Keys = append(f.Keys, k)
	}
	for _, a := range s.aliases {
		f.Aliases = append(f.Aliases, a)
	}
	sort.Slice(f.Keys, func(i, j int) bool { return f.Keys[i].ID < f.Keys[j].ID })
	sort.Slice(f.Aliases, func(i, j int) bool { return f.Aliases[i].Name < f.Aliases[j].Name })
	b, err := json.MarshalIndent(f, "", "  ")
	if err != nil {
		return fmt.Errorf("kmslocal: encode data file: %w", err)
	}
	tmp := s.path + ".tmp"
	if err := os.WriteFile(tmp, b, 0o600); err != nil {
		return fmt.Errorf("kmslocal: save keys: %w", err)
	}
	if err := os.Rename(tmp, s.path); err != nil {
		return fmt.Errorf("kmslocal: save keys: %w", err)
	}
	return nil
}
