package secretslocal

import (
	"errors"
	"fmt"
)

// ErrSecretExists is returned by CreateSecret for a name already in use.
var ErrSecretExists = errors.New("secretslocal: a secret with this name already exists")

// CreateSecret creates a secret whose first version (AWSCURRENT) holds
// value, as CreateSecret with a SecretString would, and returns its ARN. It
// is for seeding the emulator at start-up; a name in use (even by a secret
// scheduled for deletion) is an error wrapping ErrSecretExists.
func (s *Server) CreateSecret(name, value string) (string, error) {
	if err := validName(name); err != nil {
		return "", fmt.Errorf("secretslocal: create secret %q: %w", name, err)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.lookupLocked(name) != nil {
		return "", fmt.Errorf("secretslocal: create secret %q: %w", name, ErrSecretExists)
	}
	now := s.now()
	x := &secret{ARN: s.newARN(name), Name: name, Created: now, Changed: now,
		Versions: []*version{{ID: newUUID(), String: &value, HasValue: true, Stages: []string{StageCurrent}, Created: now}}}
	s.secrets[name] = x
	if err := s.saveLocked(); err != nil {
		return "", fmt.Errorf("secretslocal: create secret %q: %w", name, err)
	}
	return x.ARN, nil
}

// EnsureSecret returns the ARN of the secret called name, creating it with
// the value newValue returns if it does not exist. With a DataDir, a
// restart therefore keeps the secret, and whatever rotations made of it,
// instead of seeding it afresh. newValue is not called for an existing
// secret.
func (s *Server) EnsureSecret(name string, newValue func() (string, error)) (string, error) {
	if arn, ok, err := s.existing(name); ok || err != nil {
		return arn, err
	}
	value, err := newValue()
	if err != nil {
		return "", fmt.Errorf("secretslocal: value for secret %q: %w", name, err)
	}
	arn, err := s.CreateSecret(name, value)
	if errors.Is(err, ErrSecretExists) {
		// Created concurrently; the other caller's value stands.
		if arn, ok, err := s.existing(name); ok || err != nil {
			return arn, err
		}
	}
	return arn, err
}

func (s *Server) existing(name string) (arn string, ok bool, err error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	x := s.lookupLocked(name)
	switch {
	case x == nil:
		return "", false, nil
	case x.deleted():
		return "", false, fmt.Errorf("secretslocal: secret %q: %w", name, errScheduledForDeletion())
	}
	return x.ARN, true, nil
}

// ARN returns the ARN of the secret name (or ARN) identifies, and whether
// it exists.
func (s *Server) ARN(secretID string) (string, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if x := s.lookupLocked(secretID); x != nil {
		return x.ARN, true
	}
	return "", false
}
