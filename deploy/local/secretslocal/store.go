package secretslocal

import (
	"crypto/rand"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"time"
)

// Secrets Manager's staging labels.
const (
	StageCurrent  = "AWSCURRENT"
	StagePrevious = "AWSPREVIOUS"
	StagePending  = "AWSPENDING"
)

// Version retention, from the PutSecretValue reference: Secrets Manager
// keeps the 100 most recent versions but never removes one created in the
// last 24 hours, and never one that carries a label.
const (
	keepVersions   = 100
	keepRecentFor  = 24 * time.Hour
	maxStageLabels = 20 // per request; SecretVersionStagesType's max
)

// secret is one secret and all its versions. Fields are exported for the
// data-dir file only.
type secret struct {
	ARN         string          `json:"arn"`
	Name        string          `json:"name"`
	Description *string         `json:"description,omitempty"`
	KmsKeyID    string          `json:"kmsKeyId,omitempty"`
	Tags        []Tag           `json:"tags,omitempty"`
	Created     time.Time       `json:"created"`
	Changed     time.Time       `json:"changed"`
	Accessed    time.Time       `json:"accessed,omitzero"`
	Deleted     time.Time       `json:"deleted,omitzero"`   // DeletedDate: when DeleteSecret was called
	PurgeAt     time.Time       `json:"purgeAt,omitzero"`   // when a scheduled deletion takes effect
	Rotation    *rotationConfig `json:"rotation,omitempty"` // nil until RotateSecret first succeeds
	LastRotated time.Time       `json:"lastRotated,omitzero"`
	Versions    []*version      `json:"versions"` // oldest first
}

// Tag is a secret's tag.
type Tag struct {
	Key   string `json:"Key"`
	Value string `json:"Value"`
}

type rotationConfig struct {
	Enabled   bool           `json:"enabled"`
	LambdaARN string         `json:"lambdaArn"`
	Rules     *RotationRules `json:"rules,omitempty"`
}

// RotationRules is RotationRulesType as it travels on the wire.
type RotationRules struct {
	AutomaticallyAfterDays *int64  `json:"AutomaticallyAfterDays,omitempty"`
	Duration               *string `json:"Duration,omitempty"`
	ScheduleExpression     *string `json:"ScheduleExpression,omitempty"`
}

// version is one secret value. A version RotateSecret opened for its
// rotation function has no value until createSecret puts one.
type version struct {
	ID       string    `json:"id"`
	String   *string   `json:"string,omitempty"`
	Binary   []byte    `json:"binary,omitempty"`
	HasValue bool      `json:"hasValue"`
	Stages   []string  `json:"stages,omitempty"` // sorted, as AWS lists them
	Created  time.Time `json:"created"`
	Accessed time.Time `json:"accessed,omitzero"`
}

func (v *version) has(stage string) bool { return slices.Contains(v.Stages, stage) }

func (v *version) add(stage string) {
	if !v.has(stage) {
		v.Stages = append(v.Stages, stage)
		sort.Strings(v.Stages)
	}
}

func (v *version) remove(stage string) {
	v.Stages = slices.DeleteFunc(v.Stages, func(s string) bool { return s == stage })
}

// sameValue reports whether a request's value is the one this version
// holds, for ClientRequestToken idempotency.
func (v *version) sameValue(str *string, bin []byte) bool {
	if (str == nil) != (v.String == nil) {
		return false
	}
	if str != nil && *str != *v.String {
		return false
	}
	return string(bin) == string(v.Binary)
}

func (s *secret) version(id string) *version {
	for _, v := range s.Versions {
		if v.ID == id {
			return v
		}
	}
	return nil
}

// holder is the version a staging label is attached to, or nil.
func (s *secret) holder(stage string) *version {
	for _, v := range s.Versions {
		if v.has(stage) {
			return v
		}
	}
	return nil
}

func (s *secret) deleted() bool { return !s.Deleted.IsZero() }

// attach moves stage to v. Moving AWSCURRENT off a version puts AWSPREVIOUS
// on that version, as the API reference says every operation that moves
// AWSCURRENT does.
func (s *secret) attach(v *version, stage string) {
	from := s.holder(stage)
	if from == v {
		return
	}
	if from != nil {
		from.remove(stage)
	}
	v.add(stage)
	if stage == StageCurrent && from != nil {
		s.attach(from, StagePrevious)
	}
}

// labelled maps version ids to their labels, leaving out deprecated
// (unlabelled) versions, as DescribeSecret's VersionIdsToStages does.
func (s *secret) labelled() map[string][]string {
	out := map[string][]string{}
	for _, v := range s.Versions {
		if len(v.Stages) > 0 {
			out[v.ID] = slices.Clone(v.Stages)
		}
	}
	return out
}

// prune forgets deprecated versions beyond the 100 most recent, except
// those younger than a day.
func (s *secret) prune(now time.Time) {
	excess := len(s.Versions) - keepVersions
	if excess <= 0 {
		return
	}
	s.Versions = slices.DeleteFunc(s.Versions, func(v *version) bool {
		if excess > 0 && len(v.Stages) == 0 && now.Sub(v.Created) >= keepRecentFor {
			excess--
			return true
		}
		return false
	})
}

// arnSuffixChars are what Secrets Manager appends to a secret's name in its
// ARN: a hyphen and six random letters and digits.
const arnSuffixChars = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"

func (s *Server) newARN(name string) string {
	b := make([]byte, 6)
	_, _ = rand.Read(b)
	for i := range b {
		b[i] = arnSuffixChars[int(b[i])%len(arnSuffixChars)]
	}
	return s.arnPrefix() + name + "-" + string(b)
}

func (s *Server) arnPrefix() string {
	return "arn:aws:secretsmanager:" + s.region + ":" + s.accountID + ":secret:"
}

// lookupLocked finds a secret by name, full ARN or partial ARN (the ARN
// without its random suffix), which the API reference says SecretId may be.
// A secret whose scheduled deletion has come due is gone.
func (s *Server) lookupLocked(id string) *secret {
	var found *secret
	if strings.HasPrefix(id, "arn:") {
		for _, x := range s.secrets {
			if x.ARN == id {
				found = x
				break
			}
		}
		if found == nil {
			if name, ok := strings.CutPrefix(id, s.arnPrefix()); ok {
				found = s.secrets[name]
			}
		}
	} else {
		found = s.secrets[id]
	}
	if found != nil && found.deleted() && !s.now().Before(found.PurgeAt) {
		delete(s.secrets, found.Name)
		_ = s.saveLocked()
		return nil
	}
	return found
}

// live finds a secret the operation may change or read the value of.
func (s *Server) liveLocked(id string) (*secret, error) {
	x := s.lookupLocked(id)
	if x == nil {
		return nil, errSecretNotFound()
	}
	if x.deleted() {
		return nil, errMarkedForDeletion()
	}
	return x, nil
}

// dataFile is the layout of <DataDir>/secrets.json.
type dataFile struct {
	Secrets []*secret `json:"secrets"`
}

const dataFileName = "secrets.json"

func (s *Server) load() error {
	if s.path == "" {
		return nil
	}
	b, err := os.ReadFile(s.path)
	if errors.Is(err, os.ErrNotExist) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("secretslocal: read %s: %w", s.path, err)
	}
	var f dataFile
	if err := json.Unmarshal(b, &f); err != nil {
		return fmt.Errorf("secretslocal: %s is not a secretslocal data file: %w", s.path, err)
	}
	for _, x := range f.Secrets {
		s.secrets[x.Name] = x
	}
	return nil
}

// saveLocked writes the data file atomically, readable by its owner only:
// it holds the secret values.
func (s *Server) saveLocked() error {
	if s.path == "" {
		return nil
	}
	f := dataFile{Secrets: make([]*secret, 0, len(s.secrets))}
	for _, x := range s.secrets {
		f.Secrets = append(f.Secrets, x)
	}
	sort.Slice(f.Secrets, func(i, j int) bool { return f.Secrets[i].Name < f.Secrets[j].Name })
	b, err := json.MarshalIndent(f, "", "  ")
	if err != nil {
		return fmt.Errorf("secretslocal: encode data file: %w", err)
	}
	tmp := s.path + ".tmp"
	if err := os.WriteFile(tmp, b, 0o600); err != nil {
		return fmt.Errorf("secretslocal: save secrets: %w", err)
	}
	if err := os.Rename(tmp, s.path); err != nil {
		return fmt.Errorf("secretslocal: save secrets: %w", err)
	}
	return nil
}

func dataPath(dir string) string {
	if dir == "" {
		return ""
	}
	return filepath.Join(dir, dataFileName)
}
