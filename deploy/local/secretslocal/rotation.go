package secretslocal

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"regexp"
	"slices"

	"github.com/aws/aws-lambda-go/lambda"
)

// The rotation function's four steps, in the order Secrets Manager invokes
// them. RotateImmediately=false runs testSecret alone.
var (
	rotationSteps = []string{"createSecret", "setSecret", "testSecret", "finishSecret"}
	testOnlySteps = []string{"testSecret"}
)

// RotationEvent is the JSON event Secrets Manager invokes a rotation
// function with (the user guide's "Rotation by Lambda function").
type RotationEvent struct {
	Step               string `json:"Step"`
	SecretID           string `json:"SecretId"` // the secret's ARN
	ClientRequestToken string `json:"ClientRequestToken"`
	RotationToken      string `json:"RotationToken"`
}

// rotation is one run of the rotation function's steps.
type rotation struct {
	version string
	done    chan struct{} // closed when err is set
	err     error
}

func (r *rotation) running() bool {
	select {
	case <-r.done:
		return false
	default:
		return true
	}
}

// ErrRotationFailed wraps the error a rotation step returned, so callers of
// Rotate and WaitRotation can tell it from a refused request.
var ErrRotationFailed = errors.New("secretslocal: rotation failed")

type rotateSecretInput struct {
	SecretID           *string `json:"SecretId"`
	ClientRequestToken *string
	RotationLambdaARN  *string
	RotationRules      *RotationRules
	RotateImmediately  *bool
}

var (
	// durationRE is RotationRules.Duration: a window of 1 to 24 hours.
	durationRE = regexp.MustCompile(`^([1-9]|1[0-9]|2[0-4])h$`)
	scheduleRE = regexp.MustCompile(`^(rate|cron)\(.+\)$`)
)

func validRules(r *RotationRules) error {
	if r == nil {
		return nil
	}
	if d := r.AutomaticallyAfterDays; d != nil && (*d < 1 || *d > 1000) {
		return errInvalidParameter("RotationRules.AutomaticallyAfterDays must be within 1-1000.")
	}
	if r.AutomaticallyAfterDays != nil && r.ScheduleExpression != nil {
		return errInvalidParameter("You can't specify both AutomaticallyAfterDays and ScheduleExpression in RotationRules.")
	}
	if e := r.ScheduleExpression; e != nil && !scheduleRE.MatchString(*e) {
		return errInvalidParameter("RotationRules.ScheduleExpression %q is not a rate() or cron() expression.", *e)
	}
	if d := r.Duration; d != nil && !durationRE.MatchString(*d) {
		return errInvalidParameter("RotationRules.Duration %q must be between 1h and 24h.", *d)
	}
	return nil
}

// opRotateSecret configures rotation and starts one. As on AWS the call
// returns as soon as the rotation has started; the steps run in the
// background, and their failure is not this call's: it shows as an
// AWSPENDING label left on a version that is not AWSCURRENT, which the
// next RotateSecret reports as a previous rotation not complete (and
// retries).
func (s *Server) opRotateSecret(_ context.Context, body []byte) (any, error) {
	var in rotateSecretInput
	if err := decode(body, &in); err != nil {
		return nil, err
	}
	id, err := validSecretID(in.SecretID)
	if err != nil {
		return nil, err
	}
	token, err := validToken(in.ClientRequestToken)
	if err != nil {
		return nil, err
	}
	if err := validRules(in.RotationRules); err != nil {
		return nil, err
	}
	if a := in.RotationLambdaARN; a != nil && len(*a) > 2048 {
		return nil, errValidation("rotationLambdaARN", "Member must have length less than or equal to 2048")
	}
	immediate := in.RotateImmediately == nil || *in.RotateImmediately

	s.mu.Lock()
	defer s.mu.Unlock()
	x, err := s.liveLocked(id)
	if err != nil {
		return nil, err
	}
	fnARN := deref(in.RotationLambdaARN)
	if fnARN == "" && x.Rotation != nil {
		fnARN = x.Rotation.LambdaARN
	}
	if fnARN == "" {
		return nil, errNoRotationFunction()
	}
	fn := s.functions[fnARN]
	if fn == nil {
		// The configuration is not saved: AWS checks that it can invoke the
		// function before it changes the secret.
		return nil, errCannotInvoke()
	}
	if p := x.holder(StagePending); p != nil && !p.has(StageCurrent) {
		if _, err := s.retryLocked(x, p.ID, fn); err != nil {
			return nil, err
		}
		return nil, errRotationInProgress()
	}
	rules := in.RotationRules
	if rules == nil && x.Rotation != nil {
		rules = x.Rotation.Rules
	}
	now := s.now()
	x.Rotation = &rotationConfig{Enabled: true, LambdaARN: fnARN, Rules: rules}
	x.Changed = now
	out := versionOutput{ARN: x.ARN, Name: x.Name, VersionID: token}
	if x.version(token) != nil {
		// A retried RotateSecret whose rotation already finished.
		return out, s.saveLocked()
	}
	if _, err := s.beginLocked(x, token, fn, immediate); err != nil {
		return nil, err
	}
	return out, s.saveLocked()
}

// beginLocked opens the AWSPENDING version the rotation function fills and
// starts the steps. The version has no value: a rotation function's
// createSecret step finds out with GetSecretValue that it must put one. A
// test-only run (RotateImmediately=false) gives it the current value
// instead, for testSecret to read, and removes it afterwards.
func (s *Server) beginLocked(x *secret, token string, fn lambda.Handler, immediate bool) (*rotation, error) {
	if s.closed {
		return nil, errInternal()
	}
	v := &version{ID: token, Created: s.now()}
	steps := rotationSteps
	if !immediate {
		steps = testOnlySteps
		if cur := x.holder(StageCurrent); cur != nil && cur.HasValue {
			v.String, v.Binary, v.HasValue = cur.String, cur.Binary, true
		}
	}
	x.Versions = append(x.Versions, v)
	x.attach(v, StagePending)
	return s.startLocked(x, token, fn, steps, !immediate), nil
}

// retryLocked runs the steps again for the version an unfinished rotation
// left AWSPENDING on, unless that rotation is still running here.
func (s *Server) retryLocked(x *secret, token string, fn lambda.Handler) (*rotation, error) {
	if r := s.rotations[x.ARN]; r != nil && r.running() {
		return r, nil
	}
	if s.closed {
		return nil, errInternal()
	}
	return s.startLocked(x, token, fn, rotationSteps, false), nil
}

func (s *Server) startLocked(x *secret, token string, fn lambda.Handler, steps []string, testOnly bool) *rotation {
	r := &rotation{version: token, done: make(chan struct{})}
	s.rotations[x.ARN] = r
	arn, name := x.ARN, x.Name
	s.wg.Go(func() {
		r.err = s.run(arn, name, token, fn, steps, testOnly)
		close(r.done)
	})
	return r
}

// run invokes the steps in order and stops at the first that fails, leaving
// the labels as the function left them: AWSPENDING stays on the new
// version, AWSCURRENT where it was.
func (s *Server) run(arn, name, token string, fn lambda.Handler, steps []string, testOnly bool) error {
	rotationToken := newUUID()
	log := s.log.With(slog.String("secret", name), slog.String("version", token))
	var failed error
	for _, step := range steps {
		payload, err := json.Marshal(RotationEvent{Step: step, SecretID: arn, ClientRequestToken: token, RotationToken: rotationToken})
		if err != nil {
			return fmt.Errorf("secretslocal: encode rotation event: %w", err)
		}
		ctx, cancel := context.WithTimeout(s.ctx, s.timeout)
		_, err = fn.Invoke(ctx, payload)
		cancel()
		if err != nil {
			log.Warn("secretslocal: rotation step failed", slog.String("step", step), slog.String("error", err.Error()))
			failed = fmt.Errorf("%w: secret %s, version %s, step %s: %w", ErrRotationFailed, name, token, step, err)
			break
		}
		log.Info("secretslocal: rotation step done", slog.String("step", step))
	}

	s.mu.Lock()
	defer s.mu.Unlock()
	x := s.secrets[name]
	if x == nil || x.ARN != arn {
		if failed == nil {
			failed = fmt.Errorf("%w: secret %s was deleted during its rotation", ErrRotationFailed, name)
		}
		return failed
	}
	switch v := x.version(token); {
	case testOnly:
		// The test version is removed whatever testSecret said, so that it
		// never blocks a later rotation.
		if v != nil && !v.has(StageCurrent) {
			x.Versions = slices.DeleteFunc(x.Versions, func(w *version) bool { return w == v })
		}
	case failed != nil:
	case v == nil || !v.has(StageCurrent):
		failed = fmt.Errorf("%w: secret %s: finishSecret returned without moving AWSCURRENT to version %s", ErrRotationFailed, name, token)
		log.Warn("secretslocal: rotation incomplete", slog.String("error", failed.Error()))
	default:
		// A finished rotation drops AWSPENDING from the version it made
		// current, as AWS's recorded DescribeSecret after a rotation shows.
		v.remove(StagePending)
		x.LastRotated = s.now()
		x.Changed = x.LastRotated
	}
	if err := s.saveLocked(); err != nil && failed == nil {
		failed = err
	}
	return failed
}

// Rotate does what the rotation schedule does on AWS: it rotates secretID
// with its configured rotation function, or, if an earlier rotation left
// AWSPENDING on a version that is not current, retries that one. It waits
// for the steps and returns the version id and the outcome (an error
// wrapping ErrRotationFailed if a step failed).
func (s *Server) Rotate(ctx context.Context, secretID string) (string, error) {
	s.mu.Lock()
	x, err := s.liveLocked(secretID)
	if err != nil {
		s.mu.Unlock()
		return "", fmt.Errorf("secretslocal: rotate %s: %w", secretID, err)
	}
	if x.Rotation == nil || x.Rotation.LambdaARN == "" {
		s.mu.Unlock()
		return "", fmt.Errorf("secretslocal: rotate %s: %w", secretID, errNoRotationFunction())
	}
	fn := s.functions[x.Rotation.LambdaARN]
	if fn == nil {
		s.mu.Unlock()
		return "", fmt.Errorf("secretslocal: rotate %s: no rotation function registered for %s", secretID, x.Rotation.LambdaARN)
	}
	var r *rotation
	if p := x.holder(StagePending); p != nil && !p.has(StageCurrent) {
		r, err = s.retryLocked(x, p.ID, fn)
	} else {
		r, err = s.beginLocked(x, newUUID(), fn, true)
		if err == nil {
			err = s.saveLocked()
		}
	}
	s.mu.Unlock()
	if err != nil {
		return "", fmt.Errorf("secretslocal: rotate %s: %w", secretID, err)
	}
	select {
	case <-r.done:
		return r.version, r.err
	case <-ctx.Done():
		return r.version, fmt.Errorf("secretslocal: rotate %s: %w", secretID, ctx.Err())
	}
}

// WaitRotation waits for the latest rotation of secretID (one RotateSecret
// or Rotate started) to end and returns its outcome; nil when none was
// started. Tests call it after RotateSecret, which, as on AWS, returns
// before the rotation function has run.
func (s *Server) WaitRotation(ctx context.Context, secretID string) error {
	s.mu.Lock()
	var r *rotation
	if x := s.lookupLocked(secretID); x != nil {
		r = s.rotations[x.ARN]
	}
	s.mu.Unlock()
	if r == nil {
		return nil
	}
	select {
	case <-r.done:
		return r.err
	case <-ctx.Done():
		return fmt.Errorf("secretslocal: wait for rotation of %s: %w", secretID, ctx.Err())
	}
}
