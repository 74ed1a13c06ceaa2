package secretslocal_test

import (
	"context"
	"encoding/hex"
	"encoding/json"
	"errors"
	"reflect"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/lambda"
	"github.com/aws/aws-sdk-go-v2/aws"
	sm "github.com/aws/aws-sdk-go-v2/service/secretsmanager"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager/types"

	"github.com/cognito-email-otp/cognito-email-otp/deploy/local/lambdart"
	"github.com/cognito-email-otp/cognito-email-otp/deploy/local/secretslocal"
	"github.com/cognito-email-otp/cognito-email-otp/triggers"
	"github.com/cognito-email-otp/cognito-email-otp/triggers/secret"
)

const rotatorARN = "arn:aws:lambda:us-east-1:000000000000:function:otp-rotate-hmac-key"

type invokeFunc func(ctx context.Context, payload []byte) ([]byte, error)

func (f invokeFunc) Invoke(ctx context.Context, payload []byte) ([]byte, error) {
	return f(ctx, payload)
}

// recorder sits between secretslocal and the rotation function: it keeps
// the events exactly as sent and can fail a step before the function sees
// it, as a crashed or timed-out invocation would.
type recorder struct {
	mu       sync.Mutex
	events   []secretslocal.RotationEvent
	raw      []map[string]any
	failStep string
}

func (r *recorder) wrap(h lambda.Handler) lambda.Handler {
	return invokeFunc(func(ctx context.Context, payload []byte) ([]byte, error) {
		var ev secretslocal.RotationEvent
		var raw map[string]any
		if err := json.Unmarshal(payload, &ev); err != nil {
			return nil, err
		}
		_ = json.Unmarshal(payload, &raw)
		r.mu.Lock()
		r.events, r.raw = append(r.events, ev), append(r.raw, raw)
		fail := r.failStep == ev.Step
		r.mu.Unlock()
		if fail {
			return nil, errors.New("injected failure in " + ev.Step)
		}
		return h.Invoke(ctx, payload)
	})
}

func (r *recorder) take() []secretslocal.RotationEvent {
	r.mu.Lock()
	defer r.mu.Unlock()
	ev := r.events
	r.events = nil
	return ev
}

func (r *recorder) fail(step string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.failStep = step
}

func steps(evs []secretslocal.RotationEvent) []string {
	var s []string
	for _, e := range evs {
		s = append(s, e.Step)
	}
	return s
}

// rotationEnv seeds an HMAC key as otp-local would and registers the
// project's real rotation function, talking to secretslocal through the SDK.
func rotationEnv(t *testing.T) (*env, *recorder, string, string) {
	t.Helper()
	e := newEnv(t, secretslocal.Options{})
	initial, err := secret.NewKeyValue()
	if err != nil {
		t.Fatal(err)
	}
	arn, err := e.srv.CreateSecret("otp/hmac-key", initial)
	if err != nil {
		t.Fatal(err)
	}
	rec := &recorder{}
	e.srv.SetRotationFunction(rotatorARN, rec.wrap(lambdart.NewInProcess(secret.Rotator{Client: e.client}.Handle)))
	return e, rec, arn, initial
}

func isHexKey(s string) bool {
	b, err := hex.DecodeString(s)
	return err == nil && len(b) == 32
}

func TestRotateSecretWithProjectRotator(t *testing.T) {
	e, rec, arn, initial := rotationEnv(t)
	firstVersion, err := e.client.GetSecretValue(ctx(t), &sm.GetSecretValueInput{SecretId: aws.String(arn)})
	if err != nil {
		t.Fatal(err)
	}

	out, err := e.client.RotateSecret(ctx(t), &sm.RotateSecretInput{SecretId: aws.String(arn), RotationLambdaARN: aws.String(rotatorARN),
		RotationRules: &types.RotationRulesType{AutomaticallyAfterDays: aws.Int64(30)}})
	if err != nil {
		t.Fatal(err)
	}
	token := aws.ToString(out.VersionId)
	if aws.ToString(out.ARN) != arn || len(token) != 36 {
		t.Fatalf("RotateSecret answered %s %s", aws.ToString(out.ARN), token)
	}
	if err := e.srv.WaitRotation(ctx(t), arn); err != nil {
		t.Fatalf("rotation failed: %v", err)
	}

	evs := rec.take()
	if got, want := steps(evs), []string{"createSecret", "setSecret", "testSecret", "finishSecret"}; !reflect.DeepEqual(got, want) {
		t.Fatalf("steps %v, want %v", got, want)
	}
	for _, ev := range evs {
		if ev.SecretID != arn || ev.ClientRequestToken != token || ev.RotationToken == "" || ev.RotationToken != evs[0].RotationToken {
			t.Errorf("event %+v: want SecretId %s, ClientRequestToken %s and one RotationToken", ev, arn, token)
		}
	}
	if len(rec.raw[0]) != 4 {
		t.Errorf("event has members %v, want Step, SecretId, ClientRequestToken, RotationToken", rec.raw[0])
	}

	current, previous := e.value(t, arn, "AWSCURRENT"), e.value(t, arn, "AWSPREVIOUS")
	if !isHexKey(current) || current == initial {
		t.Errorf("AWSCURRENT %q: want a new 64-hex key", current)
	}
	if previous != initial {
		t.Errorf("AWSPREVIOUS %q, want the seeded key", previous)
	}
	cur, prev, err := secret.Source{Client: e.client, ID: arn}.Keys(ctx(t))
	if err != nil || string(cur) != current || string(prev) != initial {
		t.Errorf("Source.Keys = %q, %q, %v; want the new and the seeded key", cur, prev, err)
	}
	if _, err := triggers.LoadKeyring(ctx(t), secret.Source{Client: e.client, ID: arn}, time.Minute); err != nil {
		t.Errorf("the triggers' key ring does not load the rotated secret: %v", err)
	}

	d, err := e.client.DescribeSecret(ctx(t), &sm.DescribeSecretInput{SecretId: aws.String(arn)})
	if err != nil {
		t.Fatal(err)
	}
	if !aws.ToBool(d.RotationEnabled) || aws.ToString(d.RotationLambdaARN) != rotatorARN || d.RotationRules == nil ||
		aws.ToInt64(d.RotationRules.AutomaticallyAfterDays) != 30 || d.LastRotatedDate == nil {
		t.Errorf("describe after rotation: %+v", d)
	}
	// AWSPENDING is gone once the rotation finished.
	if want := map[string][]string{token: {"AWSCURRENT"}, aws.ToString(firstVersion.VersionId): {"AWSPREVIOUS"}}; !reflect.DeepEqual(d.VersionIdsToStages, want) {
		t.Errorf("VersionIdsToStages %v, want %v", d.VersionIdsToStages, want)
	}

	// Rotating again, as the schedule would: the first rotated key becomes
	// AWSPREVIOUS and the seeded one is deprecated.
	second, err := e.srv.Rotate(ctx(t), arn)
	if err != nil {
		t.Fatal(err)
	}
	if got := e.value(t, arn, "AWSPREVIOUS"); got != current {
		t.Errorf("after the second rotation AWSPREVIOUS is %q, want the first rotated key", got)
	}
	if got := e.stages(t, arn); len(got) != 2 || !reflect.DeepEqual(got[second], []string{"AWSCURRENT"}) || !reflect.DeepEqual(got[token], []string{"AWSPREVIOUS"}) {
		t.Errorf("after the second rotation %v", got)
	}
	// RotateSecret with no configuration reuses the stored one.
	if _, err := e.client.RotateSecret(ctx(t), &sm.RotateSecretInput{SecretId: aws.String("otp/hmac-key")}); err != nil {
		t.Fatal(err)
	}
	if err := e.srv.WaitRotation(ctx(t), arn); err != nil {
		t.Fatal(err)
	}
	if got := steps(rec.take()); len(got) != 8 {
		t.Errorf("steps of the two later rotations %v, want 8", got)
	}
}

// A failed step leaves AWSPENDING on the new version and AWSCURRENT where
// it was; the next RotateSecret says so and reattempts the same version.
func TestRotationFailureLeavesPendingAndIsRetried(t *testing.T) {
	for _, failStep := range []string{"createSecret", "setSecret", "testSecret", "finishSecret"} {
		t.Run(failStep, func(t *testing.T) {
			e, rec, arn, initial := rotationEnv(t)
			rec.fail(failStep)
			out, err := e.client.RotateSecret(ctx(t), &sm.RotateSecretInput{SecretId: aws.String(arn), RotationLambdaARN: aws.String(rotatorARN)})
			if err != nil {
				t.Fatalf("RotateSecret: %v (a failing function fails the rotation, not the call)", err)
			}
			token := aws.ToString(out.VersionId)
			err = e.srv.WaitRotation(ctx(t), arn)
			if !errors.Is(err, secretslocal.ErrRotationFailed) {
				t.Fatalf("WaitRotation: %v, want ErrRotationFailed", err)
			}
			if got := steps(rec.take()); got[len(got)-1] != failStep {
				t.Errorf("steps %v did not stop at %s", got, failStep)
			}
			if e.value(t, arn, "AWSCURRENT") != initial {
				t.Error("AWSCURRENT moved although the rotation failed")
			}
			if got := e.stages(t, arn)[token]; !reflect.DeepEqual(got, []string{"AWSPENDING"}) {
				t.Errorf("the new version has %v, want [AWSPENDING]", got)
			}
			pending, err := e.client.GetSecretValue(ctx(t), &sm.GetSecretValueInput{SecretId: aws.String(arn), VersionStage: aws.String("AWSPENDING")})
			if failStep == "createSecret" {
				wantErr(t, err, "ResourceNotFoundException", "Secrets Manager can't find the specified secret value for staging label: AWSPENDING")
			} else if err != nil || !isHexKey(aws.ToString(pending.SecretString)) {
				t.Errorf("AWSPENDING after %s failed: %v, %v", failStep, pending, err)
			}

			rec.fail("")
			_, err = e.client.RotateSecret(ctx(t), &sm.RotateSecretInput{SecretId: aws.String(arn)})
			wantErr(t, err, "InvalidRequestException", "A previous rotation isn't complete. That rotation will be reattempted.")
			if err := e.srv.WaitRotation(ctx(t), arn); err != nil {
				t.Fatalf("the reattempt failed: %v", err)
			}
			for _, ev := range rec.take() {
				if ev.ClientRequestToken != token {
					t.Errorf("the reattempt rotated version %s, want %s", ev.ClientRequestToken, token)
				}
			}
			if got := e.value(t, arn, "AWSCURRENT"); !isHexKey(got) || got == initial || (failStep != "createSecret" && got != aws.ToString(pending.SecretString)) {
				t.Errorf("after the reattempt AWSCURRENT is %q", got)
			}
			if e.value(t, arn, "AWSPREVIOUS") != initial {
				t.Error("after the reattempt AWSPREVIOUS is not the seeded key")
			}
		})
	}
}

func TestRotateSecretRefusals(t *testing.T) {
	e, rec, arn, _ := rotationEnv(t)
	unknown := "arn:aws:lambda:us-east-1:000000000000:function:nobody"
	tests := []struct {
		name      string
		in        sm.RotateSecretInput
		code, msg string
	}{
		{"no function configured", sm.RotateSecretInput{SecretId: aws.String(arn)},
			"InvalidRequestException", "No Lambda rotation function ARN is associated with this secret."},
		{"a function Secrets Manager cannot invoke", sm.RotateSecretInput{SecretId: aws.String(arn), RotationLambdaARN: aws.String(unknown)},
			"AccessDeniedException", "Secrets Manager cannot invoke the specified Lambda function. Ensure that the function policy grants access to the principal secretsmanager.amazonaws.com."},
		{"unknown secret", sm.RotateSecretInput{SecretId: aws.String("nope"), RotationLambdaARN: aws.String(rotatorARN)},
			"ResourceNotFoundException", "Secrets Manager can't find the specified secret."},
		{"AutomaticallyAfterDays out of range", sm.RotateSecretInput{SecretId: aws.String(arn), RotationLambdaARN: aws.String(rotatorARN),
			RotationRules: &types.RotationRulesType{AutomaticallyAfterDays: aws.Int64(1001)}}, "InvalidParameterException", ""},
		{"both schedule forms", sm.RotateSecretInput{SecretId: aws.String(arn), RotationLambdaARN: aws.String(rotatorARN),
			RotationRules: &types.RotationRulesType{AutomaticallyAfterDays: aws.Int64(1), ScheduleExpression: aws.String("rate(4 hours)")}}, "InvalidParameterException", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := e.client.RotateSecret(ctx(t), &tt.in)
			wantErr(t, err, tt.code, tt.msg)
		})
	}
	d, err := e.client.DescribeSecret(ctx(t), &sm.DescribeSecretInput{SecretId: aws.String(arn)})
	if err != nil {
		t.Fatal(err)
	}
	if d.RotationEnabled != nil || d.RotationLambdaARN != nil || len(d.VersionIdsToStages) != 1 {
		t.Errorf("a refused RotateSecret changed the secret: %+v", d)
	}
	if got := rec.take(); len(got) != 0 {
		t.Errorf("refused requests invoked the function: %v", got)
	}
}

// RotateImmediately=false only tests the configuration: testSecret runs
// against a temporary AWSPENDING copy of the current value, which is
// removed afterwards.
func TestRotateSecretNotImmediately(t *testing.T) {
	e, rec, arn, initial := rotationEnv(t)
	out, err := e.client.RotateSecret(ctx(t), &sm.RotateSecretInput{SecretId: aws.String(arn), RotationLambdaARN: aws.String(rotatorARN),
		RotateImmediately: aws.Bool(false), RotationRules: &types.RotationRulesType{ScheduleExpression: aws.String("rate(4 hours)")}})
	if err != nil {
		t.Fatal(err)
	}
	if err := e.srv.WaitRotation(ctx(t), arn); err != nil {
		t.Fatalf("testSecret failed: %v", err)
	}
	evs := rec.take()
	if got := steps(evs); !reflect.DeepEqual(got, []string{"testSecret"}) || evs[0].ClientRequestToken != aws.ToString(out.VersionId) {
		t.Errorf("steps %v (%+v), want testSecret alone", got, evs)
	}
	d, err := e.client.DescribeSecret(ctx(t), &sm.DescribeSecretInput{SecretId: aws.String(arn)})
	if err != nil {
		t.Fatal(err)
	}
	if len(d.VersionIdsToStages) != 1 || e.value(t, arn, "AWSCURRENT") != initial || !aws.ToBool(d.RotationEnabled) ||
		aws.ToString(d.RotationRules.ScheduleExpression) != "rate(4 hours)" || d.LastRotatedDate != nil {
		t.Errorf("after a test-only rotation: %+v", d)
	}
	// The configuration stands: an immediate rotation now needs no parameters.
	if _, err := e.srv.Rotate(ctx(t), arn); err != nil {
		t.Fatal(err)
	}
	if e.value(t, arn, "AWSPREVIOUS") != initial {
		t.Error("the later rotation did not keep the seeded key as AWSPREVIOUS")
	}
}
