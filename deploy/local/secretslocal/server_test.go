package secretslocal_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	sm "github.com/aws/aws-sdk-go-v2/service/secretsmanager"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager/types"
	"github.com/aws/smithy-go"

	"github.com/cognito-email-otp/cognito-email-otp/deploy/local/awslocal"
	"github.com/cognito-email-otp/cognito-email-otp/deploy/local/secretslocal"
)

// env is a secretslocal server on a loopback httptest server and a real
// SDK client pointed at it.
type env struct {
	srv    *secretslocal.Server
	url    string
	client *sm.Client
	clock  *clock
	logs   *syncBuffer
}

type clock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *clock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
}

type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.String()
}

func newEnv(t *testing.T, opts secretslocal.Options) *env {
	t.Helper()
	e := &env{clock: &clock{now: time.Date(2025, 3, 1, 12, 0, 0, 0, time.UTC)}, logs: &syncBuffer{}}
	if opts.Now == nil {
		opts.Now = e.clock.Now
	}
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.NewJSONHandler(e.logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	}
	srv, err := secretslocal.New(opts)
	if err != nil {
		t.Fatal(err)
	}
	hs := httptest.NewServer(srv)
	t.Cleanup(func() {
		srv.Close()
		hs.Close()
	})
	e.srv, e.url = srv, hs.URL
	e.client = sm.NewFromConfig(awslocal.Config(hs.URL))
	return e
}

func ctx(t *testing.T) context.Context {
	c, cancel := context.WithTimeout(t.Context(), 20*time.Second)
	t.Cleanup(cancel)
	return c
}

func (e *env) create(t *testing.T, name, value string) *sm.CreateSecretOutput {
	t.Helper()
	out, err := e.client.CreateSecret(ctx(t), &sm.CreateSecretInput{Name: aws.String(name), SecretString: aws.String(value)})
	if err != nil {
		t.Fatalf("CreateSecret(%s): %v", name, err)
	}
	return out
}

func (e *env) put(t *testing.T, id, value string, stages ...string) *sm.PutSecretValueOutput {
	t.Helper()
	out, err := e.client.PutSecretValue(ctx(t), &sm.PutSecretValueInput{SecretId: aws.String(id), SecretString: aws.String(value), VersionStages: stages})
	if err != nil {
		t.Fatalf("PutSecretValue(%s): %v", id, err)
	}
	return out
}

func (e *env) stages(t *testing.T, id string) map[string][]string {
	t.Helper()
	out, err := e.client.DescribeSecret(ctx(t), &sm.DescribeSecretInput{SecretId: aws.String(id)})
	if err != nil {
		t.Fatalf("DescribeSecret(%s): %v", id, err)
	}
	return out.VersionIdsToStages
}

func (e *env) value(t *testing.T, id, stage string) string {
	t.Helper()
	out, err := e.client.GetSecretValue(ctx(t), &sm.GetSecretValueInput{SecretId: aws.String(id), VersionStage: aws.String(stage)})
	if err != nil {
		t.Fatalf("GetSecretValue(%s, %s): %v", id, stage, err)
	}
	return aws.ToString(out.SecretString)
}

// wantErr checks an error's code and, when msg is not empty, its message,
// and that the SDK decoded it into the modeled type the code names.
func wantErr(t *testing.T, err error, code, msg string) {
	t.Helper()
	if err == nil {
		t.Fatalf("got no error, want %s", code)
	}
	var ae smithy.APIError
	if !errors.As(err, &ae) {
		t.Fatalf("error %v is not an API error", err)
	}
	if ae.ErrorCode() != code {
		t.Fatalf("error code %s (%v), want %s", ae.ErrorCode(), err, code)
	}
	if msg != "" && ae.ErrorMessage() != msg {
		t.Fatalf("error message\n  %q\nwant\n  %q", ae.ErrorMessage(), msg)
	}
	var typed bool
	switch code {
	case "ResourceNotFoundException":
		var x *types.ResourceNotFoundException
		typed = errors.As(err, &x)
	case "InvalidRequestException":
		var x *types.InvalidRequestException
		typed = errors.As(err, &x)
	case "InvalidParameterException":
		var x *types.InvalidParameterException
		typed = errors.As(err, &x)
	case "ResourceExistsException":
		var x *types.ResourceExistsException
		typed = errors.As(err, &x)
	case "InvalidNextTokenException":
		var x *types.InvalidNextTokenException
		typed = errors.As(err, &x)
	default:
		var x *smithy.GenericAPIError
		typed = errors.As(err, &x) // not in the model, as on AWS
	}
	if !typed {
		t.Fatalf("error %T (%v) is not the SDK's type for %s", err, err, code)
	}
}

const token1 = "11111111-1111-4111-8111-111111111111"

func TestCreateSecret(t *testing.T) {
	e := newEnv(t, secretslocal.Options{})
	first, err := e.client.CreateSecret(ctx(t), &sm.CreateSecretInput{Name: aws.String("app/key"), SecretString: aws.String("v1"),
		ClientRequestToken: aws.String(token1), Description: aws.String("the key")})
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(aws.ToString(first.ARN), "arn:aws:secretsmanager:us-east-1:000000000000:secret:app/key-") ||
		len(aws.ToString(first.ARN)) != len("arn:aws:secretsmanager:us-east-1:000000000000:secret:app/key-")+6 {
		t.Errorf("ARN %s, want the name, a hyphen and six characters", aws.ToString(first.ARN))
	}
	if aws.ToString(first.VersionId) != token1 {
		t.Errorf("VersionId %s, want the ClientRequestToken", aws.ToString(first.VersionId))
	}
	bin, err := e.client.CreateSecret(ctx(t), &sm.CreateSecretInput{Name: aws.String("bin"), SecretBinary: []byte{0, 1, 2, 255}})
	if err != nil {
		t.Fatal(err)
	}
	got, err := e.client.GetSecretValue(ctx(t), &sm.GetSecretValueInput{SecretId: bin.ARN})
	if err != nil || !bytes.Equal(got.SecretBinary, []byte{0, 1, 2, 255}) || got.SecretString != nil {
		t.Errorf("binary secret reads back %v, %v, %v", got.SecretBinary, got.SecretString, err)
	}
	empty, err := e.client.CreateSecret(ctx(t), &sm.CreateSecretInput{Name: aws.String("empty")})
	if err != nil || empty.VersionId != nil {
		t.Errorf("CreateSecret without a value: %v, VersionId %v (want none)", err, empty.VersionId)
	}

	tests := []struct {
		name      string
		in        sm.CreateSecretInput
		code, msg string
	}{
		{"same token, same value: the first answer again", sm.CreateSecretInput{Name: aws.String("app/key"), SecretString: aws.String("v1"), ClientRequestToken: aws.String(token1)}, "", ""},
		{"same token, other value", sm.CreateSecretInput{Name: aws.String("app/key"), SecretString: aws.String("v2"), ClientRequestToken: aws.String(token1)},
			"ResourceExistsException", "You can't use ClientRequestToken " + token1 + " because that value is already in use for a version of secret " + aws.ToString(first.ARN) + "."},
		{"same name, new token", sm.CreateSecretInput{Name: aws.String("app/key"), SecretString: aws.String("v1")},
			"ResourceExistsException", "The operation failed because the secret app/key already exists."},
		{"invalid name", sm.CreateSecretInput{Name: aws.String("Inv Name"), SecretString: aws.String("v")},
			"ValidationException", "Invalid name. Must be a valid name containing alphanumeric characters, or any of the following: -/_+=.@!"},
		{"string and binary", sm.CreateSecretInput{Name: aws.String("both"), SecretString: aws.String("v"), SecretBinary: []byte("v")}, "InvalidParameterException", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			out, err := e.client.CreateSecret(ctx(t), &tt.in)
			if tt.code == "" {
				if err != nil {
					t.Fatal(err)
				}
				if aws.ToString(out.ARN) != aws.ToString(first.ARN) || aws.ToString(out.VersionId) != token1 {
					t.Errorf("retry answered %s %s, want %s %s", aws.ToString(out.ARN), aws.ToString(out.VersionId), aws.ToString(first.ARN), token1)
				}
				return
			}
			wantErr(t, err, tt.code, tt.msg)
		})
	}
	if v := e.value(t, "app/key", "AWSCURRENT"); v != "v1" {
		t.Errorf("value after the failed creates %q, want v1", v)
	}
}

func TestGetSecretValue(t *testing.T) {
	e := newEnv(t, secretslocal.Options{})
	created := e.create(t, "db", "one")
	arn := aws.ToString(created.ARN)
	v1 := aws.ToString(created.VersionId)
	v2 := aws.ToString(e.put(t, "db", "two").VersionId)
	missing := "99999999-9999-4999-8999-999999999999"
	empty, err := e.client.CreateSecret(ctx(t), &sm.CreateSecretInput{Name: aws.String("nothing")})
	if err != nil {
		t.Fatal(err)
	}

	tests := []struct {
		name         string
		id           string
		version      string
		stage        string
		want         string
		wantStages   []string
		code, errMsg string
	}{
		{"by name, default AWSCURRENT", "db", "", "", "two", []string{"AWSCURRENT"}, "", ""},
		{"by ARN", arn, "", "", "two", []string{"AWSCURRENT"}, "", ""},
		{"by partial ARN", strings.TrimSuffix(arn, arn[len(arn)-7:]), "", "", "two", []string{"AWSCURRENT"}, "", ""},
		{"by stage AWSPREVIOUS", "db", "", "AWSPREVIOUS", "one", []string{"AWSPREVIOUS"}, "", ""},
		{"by version id", "db", v1, "", "one", []string{"AWSPREVIOUS"}, "", ""},
		{"by version id and its stage", "db", v2, "AWSCURRENT", "two", []string{"AWSCURRENT"}, "", ""},
		{"unknown secret", "nope", "", "", "", nil, "ResourceNotFoundException", "Secrets Manager can't find the specified secret."},
		{"wrong ARN suffix", arn[:len(arn)-6] + "AAAAAA", "", "", "", nil, "ResourceNotFoundException", "Secrets Manager can't find the specified secret."},
		{"unknown stage", "db", "", "AWSPENDING", "", nil, "ResourceNotFoundException", "Secrets Manager can't find the specified secret value for staging label: AWSPENDING"},
		{"unknown version", "db", missing, "", "", nil, "ResourceNotFoundException", "Secrets Manager can't find the specified secret value for VersionId: " + missing},
		{"version and a stage it lacks", "db", v1, "AWSCURRENT", "", nil, "InvalidRequestException", "You provided a VersionStage that is not associated to the provided VersionId."},
		{"secret without a value", aws.ToString(empty.ARN), "", "", "", nil, "ResourceNotFoundException", "Secrets Manager can't find the specified secret value for staging label: AWSCURRENT"},
		{"version id too short", "db", "abc", "", "", nil, "ValidationException", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			in := &sm.GetSecretValueInput{SecretId: aws.String(tt.id)}
			if tt.version != "" {
				in.VersionId = aws.String(tt.version)
			}
			if tt.stage != "" {
				in.VersionStage = aws.String(tt.stage)
			}
			out, err := e.client.GetSecretValue(ctx(t), in)
			if tt.code != "" {
				wantErr(t, err, tt.code, tt.errMsg)
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if aws.ToString(out.SecretString) != tt.want || !reflect.DeepEqual(out.VersionStages, tt.wantStages) ||
				aws.ToString(out.ARN) != arn || aws.ToString(out.Name) != "db" || out.CreatedDate == nil {
				t.Errorf("got %q %v %s %s %v, want %q %v", aws.ToString(out.SecretString), out.VersionStages,
					aws.ToString(out.ARN), aws.ToString(out.Name), out.CreatedDate, tt.want, tt.wantStages)
			}
		})
	}
}

func TestPutSecretValue(t *testing.T) {
	e := newEnv(t, secretslocal.Options{})
	v1 := aws.ToString(e.create(t, "k", "one").VersionId)
	p2 := e.put(t, "k", "two")
	v2 := aws.ToString(p2.VersionId)
	if !reflect.DeepEqual(p2.VersionStages, []string{"AWSCURRENT"}) {
		t.Errorf("put answered stages %v, want [AWSCURRENT]", p2.VersionStages)
	}
	if got, want := e.stages(t, "k"), map[string][]string{v1: {"AWSPREVIOUS"}, v2: {"AWSCURRENT"}}; !reflect.DeepEqual(got, want) {
		t.Errorf("after the second put %v, want %v", got, want)
	}
	v3 := aws.ToString(e.put(t, "k", "three").VersionId)
	if got, want := e.stages(t, "k"), map[string][]string{v2: {"AWSPREVIOUS"}, v3: {"AWSCURRENT"}}; !reflect.DeepEqual(got, want) {
		t.Errorf("after the third put %v, want %v (the first deprecated, so not listed)", got, want)
	}
	if e.value(t, "k", "AWSPREVIOUS") != "two" || e.value(t, "k", "AWSCURRENT") != "three" {
		t.Error("AWSPREVIOUS/AWSCURRENT do not hold two/three")
	}
	// A deprecated version is still readable by id.
	if out, err := e.client.GetSecretValue(ctx(t), &sm.GetSecretValueInput{SecretId: aws.String("k"), VersionId: aws.String(v1)}); err != nil ||
		aws.ToString(out.SecretString) != "one" || len(out.VersionStages) != 0 {
		t.Errorf("deprecated version: %v, %v", out, err)
	}

	pending := e.put(t, "k", "four", "AWSPENDING")
	v4 := aws.ToString(pending.VersionId)
	if e.value(t, "k", "AWSCURRENT") != "three" {
		t.Error("a put with VersionStages [AWSPENDING] moved AWSCURRENT")
	}

	t.Run("idempotent retry reports the version as it stands", func(t *testing.T) {
		out, err := e.client.PutSecretValue(ctx(t), &sm.PutSecretValueInput{SecretId: aws.String("k"), SecretString: aws.String("four"), ClientRequestToken: aws.String(v4)})
		if err != nil {
			t.Fatal(err)
		}
		if aws.ToString(out.VersionId) != v4 || !reflect.DeepEqual(out.VersionStages, []string{"AWSPENDING"}) || e.value(t, "k", "AWSCURRENT") != "three" {
			t.Errorf("retry answered %s %v and moved labels", aws.ToString(out.VersionId), out.VersionStages)
		}
	})
	t.Run("same token, other value", func(t *testing.T) {
		_, err := e.client.PutSecretValue(ctx(t), &sm.PutSecretValueInput{SecretId: aws.String("k"), SecretString: aws.String("changed"), ClientRequestToken: aws.String(v4)})
		arn, _ := e.srv.ARN("k")
		wantErr(t, err, "ResourceExistsException", "You can't use ClientRequestToken "+v4+" because that value is already in use for a version of secret "+arn+".")
	})
	t.Run("unknown secret", func(t *testing.T) {
		_, err := e.client.PutSecretValue(ctx(t), &sm.PutSecretValueInput{SecretId: aws.String("nope"), SecretString: aws.String("x")})
		wantErr(t, err, "ResourceNotFoundException", "Secrets Manager can't find the specified secret.")
	})
	t.Run("custom labels move, AWSCURRENT stays", func(t *testing.T) {
		a := aws.ToString(e.put(t, "k", "a", "one", "two", "three").VersionId)
		b := aws.ToString(e.put(t, "k", "b", "one", "two", "four").VersionId)
		got := e.stages(t, "k")
		if !reflect.DeepEqual(got[a], []string{"three"}) || !reflect.DeepEqual(got[b], []string{"four", "one", "two"}) ||
			!reflect.DeepEqual(got[v3], []string{"AWSCURRENT"}) {
			t.Errorf("labels %v", got)
		}
	})
}

// AWS's recorded behaviour: after UpdateSecretVersionStage made a version
// AWSCURRENT and left AWSPENDING on it, a plain put moves AWSCURRENT on and
// the old version keeps AWSPREVIOUS only.
func TestPutAfterFinishedRotationDropsPending(t *testing.T) {
	e := newEnv(t, secretslocal.Options{})
	v1 := aws.ToString(e.create(t, "k", "one").VersionId)
	v2 := aws.ToString(e.put(t, "k", "two", "AWSPENDING").VersionId)
	if _, err := e.client.UpdateSecretVersionStage(ctx(t), &sm.UpdateSecretVersionStageInput{SecretId: aws.String("k"),
		VersionStage: aws.String("AWSCURRENT"), MoveToVersionId: aws.String(v2), RemoveFromVersionId: aws.String(v1)}); err != nil {
		t.Fatal(err)
	}
	if got, want := e.stages(t, "k"), map[string][]string{v1: {"AWSPREVIOUS"}, v2: {"AWSCURRENT", "AWSPENDING"}}; !reflect.DeepEqual(got, want) {
		t.Errorf("after the move %v, want %v", got, want)
	}
	v3 := aws.ToString(e.put(t, "k", "three").VersionId)
	if got, want := e.stages(t, "k"), map[string][]string{v2: {"AWSPREVIOUS"}, v3: {"AWSCURRENT"}}; !reflect.DeepEqual(got, want) {
		t.Errorf("after the put %v, want %v", got, want)
	}
}

func TestUpdateSecretVersionStage(t *testing.T) {
	type state = map[string][]string
	tests := []struct {
		name                string
		stage               string
		moveTo, removeFrom  string // "v1".."v3", "" or "missing"
		code, msg           string // the error, or "" for success
		want                state  // labels afterwards, by "v1".."v3"
		needsRemoveFromName string
	}{
		{name: "move AWSCURRENT with RemoveFromVersionId: AWSPREVIOUS follows", stage: "AWSCURRENT", moveTo: "v3", removeFrom: "v2",
			want: state{"v2": {"AWSPREVIOUS"}, "v3": {"AWSCURRENT", "AWSPENDING"}}},
		{name: "move AWSCURRENT without RemoveFromVersionId", stage: "AWSCURRENT", moveTo: "v3", code: "InvalidParameterException",
			msg: "The parameter RemoveFromVersionId can't be empty. Staging label AWSCURRENT is currently attached to version v2, so you must explicitly reference that version in RemoveFromVersionId."},
		{name: "RemoveFromVersionId not the holder", stage: "AWSCURRENT", moveTo: "v3", removeFrom: "v1", code: "InvalidParameterException"},
		{name: "remove AWSCURRENT outright", stage: "AWSCURRENT", removeFrom: "v2", code: "InvalidParameterException",
			msg: "You can only move staging label AWSCURRENT to a different secret version. It can’t be completely removed."},
		{name: "remove AWSPENDING", stage: "AWSPENDING", removeFrom: "v3", want: state{"v1": {"AWSPREVIOUS"}, "v2": {"AWSCURRENT"}}},
		{name: "remove a label from a version without it", stage: "AWSPENDING", removeFrom: "v2", code: "InvalidParameterException"},
		{name: "move a new label: no RemoveFromVersionId needed", stage: "MINE", moveTo: "v1",
			want: state{"v1": {"AWSPREVIOUS", "MINE"}, "v2": {"AWSCURRENT"}, "v3": {"AWSPENDING"}}},
		{name: "move AWSPENDING needs RemoveFromVersionId too", stage: "AWSPENDING", moveTo: "v1", code: "InvalidParameterException"},
		{name: "move AWSPREVIOUS back", stage: "AWSPREVIOUS", moveTo: "v3", removeFrom: "v1",
			want: state{"v2": {"AWSCURRENT"}, "v3": {"AWSPENDING", "AWSPREVIOUS"}}},
		{name: "move onto the holder is a no-op", stage: "AWSCURRENT", moveTo: "v2",
			want: state{"v1": {"AWSPREVIOUS"}, "v2": {"AWSCURRENT"}, "v3": {"AWSPENDING"}}},
		{name: "unknown MoveToVersionId", stage: "AWSCURRENT", moveTo: "missing", removeFrom: "v2", code: "InvalidParameterException"},
		{name: "neither version id", stage: "AWSCURRENT", code: "InvalidParameterException"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newEnv(t, secretslocal.Options{})
			ids := map[string]string{"missing": "99999999-9999-4999-8999-999999999999"}
			ids["v1"] = aws.ToString(e.create(t, "k", "one").VersionId)
			ids["v2"] = aws.ToString(e.put(t, "k", "two").VersionId)
			ids["v3"] = aws.ToString(e.put(t, "k", "three", "AWSPENDING").VersionId)
			in := &sm.UpdateSecretVersionStageInput{SecretId: aws.String("k"), VersionStage: aws.String(tt.stage)}
			if tt.moveTo != "" {
				in.MoveToVersionId = aws.String(ids[tt.moveTo])
			}
			if tt.removeFrom != "" {
				in.RemoveFromVersionId = aws.String(ids[tt.removeFrom])
			}
			out, err := e.client.UpdateSecretVersionStage(ctx(t), in)
			if tt.code != "" {
				msg := strings.ReplaceAll(tt.msg, "version v2", "version "+ids["v2"])
				wantErr(t, err, tt.code, msg)
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if aws.ToString(out.Name) != "k" || out.ARN == nil {
				t.Errorf("answer %v", out)
			}
			want := map[string][]string{}
			for k, v := range tt.want {
				want[ids[k]] = v
			}
			if got := e.stages(t, "k"); !reflect.DeepEqual(got, want) {
				t.Errorf("labels %v, want %v (v1..v3 = %s %s %s)", got, want, ids["v1"], ids["v2"], ids["v3"])
			}
		})
	}
}

func TestDescribeAndListVersions(t *testing.T) {
	e := newEnv(t, secretslocal.Options{})
	created, err := e.client.CreateSecret(ctx(t), &sm.CreateSecretInput{Name: aws.String("k"), SecretString: aws.String("one"),
		Description: aws.String("d"), Tags: []types.Tag{{Key: aws.String("team"), Value: aws.String("auth")}}})
	if err != nil {
		t.Fatal(err)
	}
	v1 := aws.ToString(created.VersionId)
	e.clock.Advance(time.Minute)
	v2 := aws.ToString(e.put(t, "k", "two").VersionId)
	e.clock.Advance(time.Minute)
	v3 := aws.ToString(e.put(t, "k", "three").VersionId)
	e.value(t, "k", "AWSCURRENT")

	d, err := e.client.DescribeSecret(ctx(t), &sm.DescribeSecretInput{SecretId: created.ARN})
	if err != nil {
		t.Fatal(err)
	}
	if aws.ToString(d.Name) != "k" || aws.ToString(d.ARN) != aws.ToString(created.ARN) || aws.ToString(d.Description) != "d" ||
		len(d.Tags) != 1 || d.RotationEnabled != nil || d.RotationLambdaARN != nil || d.LastRotatedDate != nil || d.DeletedDate != nil {
		t.Errorf("describe: %+v", d)
	}
	if d.CreatedDate == nil || !d.CreatedDate.Equal(time.Date(2025, 3, 1, 12, 0, 0, 0, time.UTC)) ||
		d.LastChangedDate == nil || !d.LastChangedDate.Equal(time.Date(2025, 3, 1, 12, 2, 0, 0, time.UTC)) ||
		d.LastAccessedDate == nil || !d.LastAccessedDate.Equal(time.Date(2025, 3, 1, 0, 0, 0, 0, time.UTC)) {
		t.Errorf("dates: created %v changed %v accessed %v", d.CreatedDate, d.LastChangedDate, d.LastAccessedDate)
	}
	if want := map[string][]string{v2: {"AWSPREVIOUS"}, v3: {"AWSCURRENT"}}; !reflect.DeepEqual(d.VersionIdsToStages, want) {
		t.Errorf("VersionIdsToStages %v, want %v", d.VersionIdsToStages, want)
	}

	list := func(deprecated bool, max int32, next *string) *sm.ListSecretVersionIdsOutput {
		t.Helper()
		in := &sm.ListSecretVersionIdsInput{SecretId: aws.String("k"), IncludeDeprecated: aws.Bool(deprecated), NextToken: next}
		if max > 0 {
			in.MaxResults = aws.Int32(max)
		}
		out, err := e.client.ListSecretVersionIds(ctx(t), in)
		if err != nil {
			t.Fatal(err)
		}
		return out
	}
	ids := func(out *sm.ListSecretVersionIdsOutput) []string {
		var s []string
		for _, v := range out.Versions {
			s = append(s, aws.ToString(v.VersionId))
		}
		return s
	}
	if got := ids(list(false, 0, nil)); !reflect.DeepEqual(got, []string{v2, v3}) {
		t.Errorf("versions %v, want %v", got, []string{v2, v3})
	}
	all := list(true, 0, nil)
	if got := ids(all); !reflect.DeepEqual(got, []string{v1, v2, v3}) || all.Versions[0].VersionStages != nil ||
		!reflect.DeepEqual(all.Versions[0].KmsKeyIds, []string{"DefaultEncryptionKey"}) {
		t.Errorf("versions with deprecated %v (%+v)", got, all.Versions[0])
	}
	page1 := list(true, 2, nil)
	page2 := list(true, 2, page1.NextToken)
	if got := append(ids(page1), ids(page2)...); !reflect.DeepEqual(got, []string{v1, v2, v3}) || page2.NextToken != nil {
		t.Errorf("pages %v then %v (next %v)", ids(page1), ids(page2), page2.NextToken)
	}
	_, err = e.client.ListSecretVersionIds(ctx(t), &sm.ListSecretVersionIdsInput{SecretId: aws.String("k"), NextToken: aws.String("garbage!")})
	wantErr(t, err, "InvalidNextTokenException", "")
	_, err = e.client.ListSecretVersionIds(ctx(t), &sm.ListSecretVersionIdsInput{SecretId: aws.String("nope")})
	wantErr(t, err, "ResourceNotFoundException", "Secrets Manager can't find the specified secret.")
	_, err = e.client.DescribeSecret(ctx(t), &sm.DescribeSecretInput{SecretId: aws.String("nope")})
	wantErr(t, err, "ResourceNotFoundException", "Secrets Manager can't find the specified secret.")
}

// Versions beyond 100 are forgotten only when unlabelled and older than a
// day; labelled versions never are.
func TestVersionRetention(t *testing.T) {
	e := newEnv(t, secretslocal.Options{})
	e.create(t, "k", "v0")
	tagged := aws.ToString(e.put(t, "k", "tagged", "KEEP").VersionId)
	for i := range 104 {
		e.put(t, "k", fmt.Sprint("v", i+1))
	}
	count := func() int {
		n := 0
		var next *string
		for {
			out, err := e.client.ListSecretVersionIds(ctx(t), &sm.ListSecretVersionIdsInput{SecretId: aws.String("k"), IncludeDeprecated: aws.Bool(true), NextToken: next})
			if err != nil {
				t.Fatal(err)
			}
			n += len(out.Versions)
			if next = out.NextToken; next == nil {
				return n
			}
		}
	}
	if n := count(); n != 106 {
		t.Errorf("%d versions within a day, want all 106", n)
	}
	e.clock.Advance(25 * time.Hour)
	e.put(t, "k", "later")
	if n := count(); n != 100 {
		t.Errorf("%d versions a day later, want 100", n)
	}
	if got := e.stages(t, "k")[tagged]; !reflect.DeepEqual(got, []string{"KEEP"}) {
		t.Errorf("the labelled old version has %v, want [KEEP]", got)
	}
}

func TestDeleteAndRestoreSecret(t *testing.T) {
	e := newEnv(t, secretslocal.Options{})
	created := e.create(t, "k", "one")
	out, err := e.client.DeleteSecret(ctx(t), &sm.DeleteSecretInput{SecretId: aws.String("k"), RecoveryWindowInDays: aws.Int64(7)})
	if err != nil {
		t.Fatal(err)
	}
	if !out.DeletionDate.Equal(e.clock.Now().Add(7 * 24 * time.Hour)) {
		t.Errorf("DeletionDate %v", out.DeletionDate)
	}
	marked := "You can't perform this operation on the secret because it was marked for deletion."
	_, err = e.client.GetSecretValue(ctx(t), &sm.GetSecretValueInput{SecretId: aws.String("k")})
	wantErr(t, err, "InvalidRequestException", marked)
	_, err = e.client.PutSecretValue(ctx(t), &sm.PutSecretValueInput{SecretId: aws.String("k"), SecretString: aws.String("x")})
	wantErr(t, err, "InvalidRequestException", marked)
	_, err = e.client.DeleteSecret(ctx(t), &sm.DeleteSecretInput{SecretId: aws.String("k")})
	wantErr(t, err, "InvalidRequestException", marked)
	_, err = e.client.CreateSecret(ctx(t), &sm.CreateSecretInput{Name: aws.String("k"), SecretString: aws.String("x")})
	wantErr(t, err, "InvalidRequestException", "You can't create this secret because a secret with this name is already scheduled for deletion.")
	if d, err := e.client.DescribeSecret(ctx(t), &sm.DescribeSecretInput{SecretId: aws.String("k")}); err != nil || d.DeletedDate == nil {
		t.Errorf("describe of a deleted secret: %v, %v", d, err)
	}
	if _, err := e.client.RestoreSecret(ctx(t), &sm.RestoreSecretInput{SecretId: aws.String("k")}); err != nil {
		t.Fatal(err)
	}
	if e.value(t, "k", "AWSCURRENT") != "one" {
		t.Error("restored secret lost its value")
	}
	_, err = e.client.DeleteSecret(ctx(t), &sm.DeleteSecretInput{SecretId: aws.String("k"), RecoveryWindowInDays: aws.Int64(7), ForceDeleteWithoutRecovery: aws.Bool(true)})
	wantErr(t, err, "InvalidParameterException", "")
	if _, err := e.client.DeleteSecret(ctx(t), &sm.DeleteSecretInput{SecretId: aws.String("k"), ForceDeleteWithoutRecovery: aws.Bool(true)}); err != nil {
		t.Fatal(err)
	}
	again := e.create(t, "k", "two")
	if aws.ToString(again.ARN) == aws.ToString(created.ARN) {
		t.Error("a re-created secret has the old ARN; AWS gives it a new suffix")
	}
	if _, err := e.client.DeleteSecret(ctx(t), &sm.DeleteSecretInput{SecretId: aws.String("never"), ForceDeleteWithoutRecovery: aws.Bool(true)}); err != nil {
		t.Errorf("forced delete of a missing secret: %v (AWS answers as if it existed)", err)
	}
	_, err = e.client.DeleteSecret(ctx(t), &sm.DeleteSecretInput{SecretId: aws.String("never")})
	wantErr(t, err, "ResourceNotFoundException", "")

	// The recovery window ends the secret.
	e.create(t, "gone", "x")
	if _, err := e.client.DeleteSecret(ctx(t), &sm.DeleteSecretInput{SecretId: aws.String("gone"), RecoveryWindowInDays: aws.Int64(7)}); err != nil {
		t.Fatal(err)
	}
	e.clock.Advance(7*24*time.Hour + time.Second)
	_, err = e.client.DescribeSecret(ctx(t), &sm.DescribeSecretInput{SecretId: aws.String("gone")})
	wantErr(t, err, "ResourceNotFoundException", "")
}

func TestDataDir(t *testing.T) {
	dir := t.TempDir()
	e := newEnv(t, secretslocal.Options{DataDir: dir})
	arn, err := e.srv.CreateSecret("seeded", "first-value")
	if err != nil {
		t.Fatal(err)
	}
	v2 := aws.ToString(e.put(t, arn, "second-value").VersionId)
	info, err := os.Stat(filepath.Join(dir, "secrets.json"))
	if err != nil {
		t.Fatal(err)
	}
	if info.Mode().Perm() != 0o600 {
		t.Errorf("data file mode %v, want 0600", info.Mode().Perm())
	}

	again := newEnv(t, secretslocal.Options{DataDir: dir})
	got, err := again.client.GetSecretValue(ctx(t), &sm.GetSecretValueInput{SecretId: aws.String(arn)})
	if err != nil || aws.ToString(got.SecretString) != "second-value" || aws.ToString(got.VersionId) != v2 {
		t.Fatalf("after a restart: %v, %v", got, err)
	}
	if again.value(t, "seeded", "AWSPREVIOUS") != "first-value" {
		t.Error("AWSPREVIOUS lost in the restart")
	}
	called := false
	arn2, err := again.srv.EnsureSecret("seeded", func() (string, error) { called = true; return "other", nil })
	if err != nil || arn2 != arn || called {
		t.Errorf("EnsureSecret on an existing secret: %s, %v, value asked for: %v", arn2, err, called)
	}
	if _, err := again.srv.CreateSecret("seeded", "x"); !errors.Is(err, secretslocal.ErrSecretExists) {
		t.Errorf("CreateSecret of an existing name: %v, want ErrSecretExists", err)
	}
	arn3, err := again.srv.EnsureSecret("fresh", func() (string, error) { return "made", nil })
	if err != nil || again.value(t, arn3, "AWSCURRENT") != "made" {
		t.Errorf("EnsureSecret of a new name: %v", err)
	}
}

// The wire as a raw client sees it: what the SDKs fill in is required, and
// errors carry __type and Message.
func TestWire(t *testing.T) {
	e := newEnv(t, secretslocal.Options{})
	e.create(t, "k", "v")
	post := func(target, body string, signed bool) (int, string) {
		t.Helper()
		req, err := http.NewRequestWithContext(ctx(t), http.MethodPost, e.url+"/", strings.NewReader(body))
		if err != nil {
			t.Fatal(err)
		}
		req.Header.Set("X-Amz-Target", target)
		req.Header.Set("Content-Type", "application/x-amz-json-1.1")
		if signed {
			req.Header.Set("X-Amz-Date", "20250301T120000Z")
			req.Header.Set("Authorization", "AWS4-HMAC-SHA256 Credential=AKID/20250301/us-east-1/secretsmanager/aws4_request, SignedHeaders=host;x-amz-date, Signature="+strings.Repeat("0", 64))
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		if ct := resp.Header.Get("Content-Type"); ct != "application/x-amz-json-1.1" {
			t.Errorf("Content-Type %q", ct)
		}
		return resp.StatusCode, string(b)
	}
	tests := []struct {
		name, target, body string
		signed             bool
		status             int
		want               string
	}{
		{"PutSecretValue without a token", "secretsmanager.PutSecretValue", `{"SecretId":"k","SecretString":"x"}`, true, 400,
			`{"__type":"InvalidRequestException","Message":"You must provide a ClientRequestToken value. We recommend a UUID-type value."}`},
		{"RotateSecret without a token", "secretsmanager.RotateSecret", `{"SecretId":"no-such-secret"}`, true, 400,
			`{"__type":"InvalidRequestException","Message":"You must provide a ClientRequestToken value. We recommend a UUID-type value."}`},
		{"unsigned", "secretsmanager.GetSecretValue", `{"SecretId":"k"}`, false, 400,
			`{"__type":"MissingAuthenticationTokenException","Message":"Missing Authentication Token"}`},
		{"not JSON", "secretsmanager.GetSecretValue", `{`, true, 400, `"__type":"SerializationException"`},
		{"unknown operation", "secretsmanager.ListSecrets", `{}`, true, 400, `"__type":"UnknownOperationException"`},
		{"epoch-second timestamps", "secretsmanager.DescribeSecret", `{"SecretId":"k"}`, true, 200, `"CreatedDate":1740830400.000`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			status, body := post(tt.target, tt.body, tt.signed)
			if status != tt.status || !strings.Contains(body, tt.want) {
				t.Errorf("%d %s\nwant %d containing %s", status, body, tt.status, tt.want)
			}
		})
	}
}

// No secret value reaches the log, whatever the operation or its outcome.
func TestLogsCarryNoValues(t *testing.T) {
	e := newEnv(t, secretslocal.Options{})
	values := []string{"s3cret-one-0123456789", "s3cret-two-0123456789", "s3cret-three-0123456789"}
	e.create(t, "k", values[0])
	e.put(t, "k", values[1])
	e.put(t, "k", values[2], "AWSPENDING")
	e.value(t, "k", "AWSCURRENT")
	_, _ = e.client.PutSecretValue(ctx(t), &sm.PutSecretValueInput{SecretId: aws.String("nope"), SecretString: aws.String(values[0])})
	_, _ = e.client.CreateSecret(ctx(t), &sm.CreateSecretInput{Name: aws.String("k"), SecretString: aws.String(values[1])})
	logs := e.logs.String()
	if !strings.Contains(logs, "PutSecretValue") {
		t.Fatalf("no request lines logged:\n%s", logs)
	}
	for _, v := range values {
		if strings.Contains(logs, v) || slices.ContainsFunc(strings.Split(logs, "\n"), func(l string) bool { return strings.Contains(l, v[:10]) }) {
			t.Errorf("log contains a secret value:\n%s", logs)
		}
	}
}
