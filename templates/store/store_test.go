package store_test

import (
	"bytes"
	"context"
	"errors"
	"io/fs"
	"log/slog"
	"net/http/httptest"
	"os"
	"reflect"
	"strings"
	"sync"
	"testing"
	"testing/fstest"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/cognito-email-otp/cognito-email-otp/deploy/local/awslocal"
	"github.com/cognito-email-otp/cognito-email-otp/deploy/local/s3local"
	"github.com/cognito-email-otp/cognito-email-otp/mailer/contract"
	"github.com/cognito-email-otp/cognito-email-otp/templates"
	"github.com/cognito-email-otp/cognito-email-otp/templates/compiled"
	"github.com/cognito-email-otp/cognito-email-otp/templates/store"
)

const (
	bucket = "otp-templates"
	prefix = "templates/"
)

// counting is the real S3 client (to gofakes3 through s3local), counting
// calls and failing them on demand.
type counting struct {
	c    *s3.Client
	mu   sync.Mutex
	gets map[string]int // key -> GETs
	cond int            // conditional GETs (If-None-Match)
	puts int
	fail error // returned by every call while set
}

func (c *counting) record(key string, conditional bool) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.gets == nil {
		c.gets = map[string]int{}
	}
	c.gets[key]++
	if conditional {
		c.cond++
	}
	return c.fail
}

func (c *counting) setFail(err error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.fail = err
}

func (c *counting) snapshot() (total, conditional, puts int) {
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, n := range c.gets {
		total += n
	}
	return total, c.cond, c.puts
}

func (c *counting) GetObject(ctx context.Context, in *s3.GetObjectInput, opts ...func(*s3.Options)) (*s3.GetObjectOutput, error) {
	if err := c.record(aws.ToString(in.Key), in.IfNoneMatch != nil); err != nil {
		return nil, err
	}
	return c.c.GetObject(ctx, in, opts...)
}

func (c *counting) PutObject(ctx context.Context, in *s3.PutObjectInput, opts ...func(*s3.Options)) (*s3.PutObjectOutput, error) {
	c.mu.Lock()
	c.puts++
	err := c.fail
	c.mu.Unlock()
	if err != nil {
		return nil, err
	}
	return c.c.PutObject(ctx, in, opts...)
}

func (c *counting) HeadObject(ctx context.Context, in *s3.HeadObjectInput, opts ...func(*s3.Options)) (*s3.HeadObjectOutput, error) {
	return c.c.HeadObject(ctx, in, opts...)
}

func (c *counting) ListObjectsV2(ctx context.Context, in *s3.ListObjectsV2Input, opts ...func(*s3.Options)) (*s3.ListObjectsV2Output, error) {
	return c.c.ListObjectsV2(ctx, in, opts...)
}

// newStore is an empty template store on gofakes3, as otp-local serves it.
func newStore(t testing.TB) (*store.Admin, *counting) {
	t.Helper()
	srv, err := s3local.New(s3local.Options{Buckets: []string{bucket}})
	if err != nil {
		t.Fatal(err)
	}
	hs := httptest.NewServer(srv)
	t.Cleanup(hs.Close)
	c := &counting{c: store.NewClient(awslocal.Config(hs.URL))}
	clock := time.Date(2026, 3, 1, 9, 0, 0, 0, time.UTC)
	var mu sync.Mutex
	return &store.Admin{Client: c, Bucket: bucket, Prefix: prefix, Now: func() time.Time {
		mu.Lock()
		defer mu.Unlock()
		clock = clock.Add(time.Minute) // distinct publish times, in order
		return clock
	}}, c
}

// acme compiles the embedded acme set with its product renamed, so that
// each product name is a distinct version whose emails say which it is.
func acme(t testing.TB, product string) store.Upload {
	t.Helper()
	sets := fstest.MapFS{}
	err := fs.WalkDir(os.DirFS("../sets/acme"), ".", func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		data, err := os.ReadFile("../sets/acme/" + p)
		if p == "theme.yaml" {
			data = bytes.Replace(data, []byte("product: Acme\n"), []byte("product: "+product+"\n"), 1)
		}
		sets["acme/"+p] = &fstest.MapFile{Data: data}
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	lib, err := templates.Load(templates.Embedded(), templates.FromFS("test", sets))
	if err != nil {
		t.Fatal(err)
	}
	data, err := templates.Compile(lib, "acme")
	if err != nil {
		t.Fatal(err)
	}
	return store.Upload{Set: "acme", Data: data}
}

func embedded(t testing.TB) *compiled.Bundle {
	t.Helper()
	b, err := compiled.Embedded()
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func request(tenant string) contract.SendRequest {
	now := time.Now()
	return contract.SendRequest{V: contract.SendRequestVersion, Kind: contract.KindSignInCode, ID: "r1", Tenant: tenant, Locale: "en", To: "a@example.com",
		Name: "Ana", Code: "123456", IssuedAt: now, ExpiresAt: now.Add(3 * time.Minute)}
}

func render(t testing.TB, l *store.Live, tenant string) (version, product string) {
	t.Helper()
	e, err := l.Render(context.Background(), request(tenant))
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range []string{"Acme Blue", "Acme Green"} {
		if strings.Contains(e.HTML, p) && strings.Contains(e.Text, p) {
			return e.Version, p
		}
	}
	if strings.Contains(e.HTML, "Acme") {
		return e.Version, "Acme"
	}
	return e.Version, ""
}

type failures struct {
	mu      sync.Mutex
	reasons []string
}

func (f *failures) TemplateLoadFailure(_ time.Time, reason string) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.reasons = append(f.reasons, reason)
	return nil
}

func (f *failures) list() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]string(nil), f.reasons...)
}

func TestPublishVersionsRollback(t *testing.T) {
	admin, c := newStore(t)
	ctx := t.Context()
	blue, green := acme(t, "Acme Blue"), acme(t, "Acme Green")
	vBlue, vGreen := compiled.VersionOf(blue.Data), compiled.VersionOf(green.Data)

	steps := []struct {
		name      string
		do        func() (store.Change, error)
		want      store.Change
		wantPuts  int // PUTs the step makes
		wantIndex string
	}{
		{"first publish", func() (store.Change, error) {
			return one(admin.Publish(ctx, []store.Upload{blue}, "arn:aws:iam::1:user/ana"))
		},
			store.Change{Set: "acme", From: "", To: vBlue, Uploaded: true}, 2, vBlue},
		{"same bundle again writes nothing", func() (store.Change, error) { return one(admin.Publish(ctx, []store.Upload{blue}, "x")) },
			store.Change{Set: "acme", From: vBlue, To: vBlue, Unchanged: true}, 0, vBlue},
		{"a changed set", func() (store.Change, error) {
			return one(admin.Publish(ctx, []store.Upload{green}, "arn:aws:iam::1:user/bo"))
		},
			store.Change{Set: "acme", From: vBlue, To: vGreen, Uploaded: true}, 2, vGreen},
		{"rollback to the previous", func() (store.Change, error) { return admin.Rollback(ctx, "acme", "", "bo") },
			store.Change{Set: "acme", From: vGreen, To: vBlue}, 1, vBlue},
		{"rollback again toggles", func() (store.Change, error) { return admin.Rollback(ctx, "acme", "", "bo") },
			store.Change{Set: "acme", From: vBlue, To: vGreen}, 1, vGreen},
		{"rollback to a version by prefix", func() (store.Change, error) { return admin.Rollback(ctx, "acme", vBlue[:6], "bo") },
			store.Change{Set: "acme", From: vGreen, To: vBlue}, 1, vBlue},
		{"republishing an old version only moves the pointer", func() (store.Change, error) {
			return one(admin.Publish(ctx, []store.Upload{green}, "bo"))
		}, store.Change{Set: "acme", From: vBlue, To: vGreen}, 2, vGreen},
		{"rollback to none serves the built-in set", func() (store.Change, error) { return admin.Rollback(ctx, "acme", "none", "bo") },
			store.Change{Set: "acme", From: vGreen, To: ""}, 1, ""},
		{"and back", func() (store.Change, error) { return admin.Rollback(ctx, "acme", "", "bo") },
			store.Change{Set: "acme", From: "", To: vGreen}, 1, vGreen},
	}
	for _, s := range steps {
		_, _, before := c.snapshot()
		got, err := s.do()
		if err != nil {
			t.Fatalf("%s: %v", s.name, err)
		}
		got.Bytes, got.Locales = 0, nil
		if !reflect.DeepEqual(got, s.want) {
			t.Errorf("%s: %+v, want %+v", s.name, got, s.want)
		}
		if _, _, after := c.snapshot(); after-before != s.wantPuts {
			t.Errorf("%s: %d PUTs, want %d", s.name, after-before, s.wantPuts)
		}
		idx, _, err := admin.Index(ctx)
		if err != nil || idx.Sets["acme"].Version != s.wantIndex {
			t.Errorf("%s: index %+v %v, want acme at %q", s.name, idx.Sets, err, s.wantIndex)
		}
	}

	versions, err := admin.Versions(ctx, "acme")
	if err != nil || len(versions) != 2 {
		t.Fatalf("versions %+v %v", versions, err)
	}
	// Newest first, with who published each and what it holds.
	if v := versions[0]; v.Version != vGreen || !v.Current || v.PublishedBy != "arn:aws:iam::1:user/bo" || strings.Join(v.Locales, " ") != "de en fr" || v.Bytes != int64(len(green.Data)) {
		t.Errorf("newest %+v", v)
	}
	if v := versions[1]; v.Version != vBlue || v.Current || v.PublishedBy != "arn:aws:iam::1:user/ana" || !v.PublishedAt.Before(versions[0].PublishedAt) {
		t.Errorf("older %+v", v)
	}

	for _, tc := range []struct{ name, set, to, want string }{
		{"unknown version", "acme", "ffff", "no such version"},
		{"unpublished set", "globex", "", "never published"},
		{"bad set name", "../acme", "", "set name"},
	} {
		if _, err := admin.Rollback(ctx, tc.set, tc.to, "x"); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("rollback %s: %v, want %q", tc.name, err, tc.want)
		}
	}
}

func one(cs []store.Change, err error) (store.Change, error) {
	if err != nil {
		return store.Change{}, err
	}
	if len(cs) != 1 {
		return store.Change{}, errors.New("not one change")
	}
	return cs[0], nil
}

// TestPublishRefusesInvalidBundles: what the mailer would refuse is never
// written.
func TestPublishRefusesInvalidBundles(t *testing.T) {
	admin, c := newStore(t)
	good := acme(t, "Acme Blue")
	for _, tc := range []struct {
		name string
		up   store.Upload
		want string
	}{
		{"not JSON", store.Upload{Set: "acme", Data: []byte("{")}, "not a bundle"},
		{"another set's name", store.Upload{Set: "globex", Data: good.Data}, `want exactly "globex"`},
		{"a path as set", store.Upload{Set: "../x", Data: good.Data}, "set name"},
		{"an empty subject", store.Upload{Set: "acme", Data: bytes.Replace(good.Data, []byte(`"subject": "Your Acme verification code"`), []byte(`"subject": ""`), 1)}, "empty subject"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := admin.Publish(t.Context(), []store.Upload{tc.up}, "x")
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("publish: %v, want an error with %q", err, tc.want)
			}
		})
	}
	if _, _, puts := c.snapshot(); puts != 0 {
		t.Errorf("%d PUTs for refused bundles", puts)
	}
}

// TestConcurrentPublishesLoseNothing: two operators publishing different
// sets at once both land, through the index's compare-and-swap.
func TestConcurrentPublishesLoseNothing(t *testing.T) {
	admin, _ := newStore(t)
	ctx := t.Context()
	lib, err := templates.Load(templates.Embedded())
	if err != nil {
		t.Fatal(err)
	}
	var uploads []store.Upload
	for _, name := range []string{"acme", "default", "globex"} {
		data, err := templates.Compile(lib, name)
		if err != nil {
			t.Fatal(err)
		}
		uploads = append(uploads, store.Upload{Set: name, Data: data})
	}
	var wg sync.WaitGroup
	errs := make([]error, len(uploads))
	for i, u := range uploads {
		wg.Go(func() { _, errs[i] = admin.Publish(ctx, []store.Upload{u}, "x") })
	}
	wg.Wait()
	idx, _, err := admin.Index(ctx)
	if err != nil {
		t.Fatal(err)
	}
	for i, u := range uploads {
		if errs[i] != nil || idx.Sets[u.Set].Version != compiled.VersionOf(u.Data) {
			t.Errorf("%s: %v, index %+v", u.Set, errs[i], idx.Sets[u.Set])
		}
	}
}

func TestLiveRefresh(t *testing.T) {
	admin, c := newStore(t)
	ctx := t.Context()
	now := time.Date(2026, 3, 1, 9, 0, 0, 0, time.UTC)
	var mu sync.Mutex
	clock := func() time.Time { mu.Lock(); defer mu.Unlock(); return now }
	advance := func(d time.Duration) { mu.Lock(); defer mu.Unlock(); now = now.Add(d) }
	fails := &failures{}
	var logs syncBuffer
	live := store.NewLive(embedded(t), store.Options{Client: c, Bucket: bucket, Prefix: prefix, Refresh: 30 * time.Second,
		Failures: fails, Log: slog.New(slog.NewJSONHandler(&logs, nil)), Now: clock})

	// An empty store: the embedded sets, no failure.
	if err := live.Sync(ctx); err != nil {
		t.Fatal(err)
	}
	if v, p := render(t, live, "acme"); !strings.HasPrefix(v, compiled.EmbeddedVersionPrefix) || p != "Acme" {
		t.Errorf("empty store: acme renders %s %q", v, p)
	}

	blue := acme(t, "Acme Blue")
	if _, err := admin.Publish(ctx, []store.Upload{blue}, "x"); err != nil {
		t.Fatal(err)
	}
	// Not due yet: no S3 call, the old templates.
	total, _, _ := c.snapshot()
	live.Refresh(ctx)
	if t2, _, _ := c.snapshot(); t2 != total {
		t.Errorf("refresh before it was due made %d S3 calls", t2-total)
	}
	advance(30 * time.Second)
	live.Refresh(ctx)
	if v, p := render(t, live, "acme"); v != compiled.VersionOf(blue.Data) || p != "Acme Blue" {
		t.Errorf("after publish: acme renders %s %q", v, p)
	}
	if v, _ := render(t, live, "globex"); !strings.HasPrefix(v, compiled.EmbeddedVersionPrefix) {
		t.Errorf("globex changed with acme: %s", v)
	}

	// Unchanged store: one conditional GET, answered 304, nothing else.
	advance(30 * time.Second)
	total, cond, _ := c.snapshot()
	before := live.Current()
	live.Refresh(ctx)
	t2, cond2, _ := c.snapshot()
	if t2-total != 1 || cond2-cond != 1 || live.Current() != before {
		t.Errorf("unchanged store: %d GETs (%d conditional), bundle replaced %v; want one conditional GET and no swap", t2-total, cond2-cond, live.Current() != before)
	}
	if n := len(fails.list()); n != 0 {
		t.Fatalf("failures %v", fails.list())
	}

	// Broken stores: the mailer keeps Acme Blue, counts and logs each time.
	raw := store.NewClient(awslocal.Config(endpoint(t, c)))
	good := mustGet(t, raw, prefix+"index.json")
	garbage := []byte(`{"format":1,"sets":{"acme":{"version":"0123456789abcdef","updatedAt":"2026-01-01T00:00:00Z"}}}`)
	for _, tc := range []struct {
		name, reason string
		breakIt      func()
	}{
		{"index is not JSON", store.ReasonInvalidIndex, func() { mustPut(t, raw, prefix+"index.json", []byte("{not json")) }},
		{"index of another format", store.ReasonInvalidIndex, func() {
			mustPut(t, raw, prefix+"index.json", bytes.Replace(good, []byte(`"format": 1`), []byte(`"format": 2`), 1))
		}},
		{"pointer to a missing bundle", store.ReasonS3, func() { mustPut(t, raw, prefix+"index.json", garbage) }},
		{"bundle that is not its version", store.ReasonInvalidBundle, func() {
			mustPut(t, raw, prefix+"sets/acme/0123456789abcdef.json", acme(t, "Acme Green").Data)
			mustPut(t, raw, prefix+"index.json", garbage)
		}},
		{"bundle that does not parse", store.ReasonInvalidBundle, func() {
			bad := []byte(`{"version":1,"sets":[]}`)
			v := compiled.VersionOf(bad)
			mustPut(t, raw, prefix+"sets/acme/"+v+".json", bad)
			mustPut(t, raw, prefix+"index.json", bytes.Replace(garbage, []byte("0123456789abcdef"), []byte(v), 1))
		}},
		{"S3 unreachable", store.ReasonS3, func() { c.setFail(errors.New("connection refused")) }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			tc.breakIt()
			defer c.setFail(nil)
			n := len(fails.list())
			advance(30 * time.Second)
			live.Refresh(ctx)
			if v, p := render(t, live, "acme"); v != compiled.VersionOf(blue.Data) || p != "Acme Blue" {
				t.Errorf("acme renders %s %q, want the last good version", v, p)
			}
			if got := fails.list(); len(got) != n+1 || got[n] != tc.reason {
				t.Errorf("failures %v, want one more %s", got, tc.reason)
			}
			if !strings.Contains(logs.String(), "emails keep the last good templates") {
				t.Error("no log line says why")
			}
		})
	}
	// Repaired: the next refresh takes it.
	green := acme(t, "Acme Green")
	mustPut(t, raw, prefix+"index.json", good)
	if _, err := admin.Publish(ctx, []store.Upload{green}, "x"); err != nil {
		t.Fatal(err)
	}
	advance(30 * time.Second)
	live.Refresh(ctx)
	if v, p := render(t, live, "acme"); v != compiled.VersionOf(green.Data) || p != "Acme Green" {
		t.Errorf("after repair acme renders %s %q", v, p)
	}
}

// TestRenderIsOneVersion: emails rendered while the pointer swaps back and
// forth are each wholly one version; the race detector watches the swap.
func TestRenderIsOneVersion(t *testing.T) {
	admin, c := newStore(t)
	ctx := t.Context()
	blue, green := acme(t, "Acme Blue"), acme(t, "Acme Green")
	want := map[string]string{compiled.VersionOf(blue.Data): "Acme Blue", compiled.VersionOf(green.Data): "Acme Green"}
	if _, err := admin.Publish(ctx, []store.Upload{blue}, "x"); err != nil {
		t.Fatal(err)
	}
	live := store.NewLive(embedded(t), store.Options{Client: c, Bucket: bucket, Prefix: prefix, Refresh: time.Nanosecond})
	if err := live.Sync(ctx); err != nil {
		t.Fatal(err)
	}
	stop := make(chan struct{})
	var wg sync.WaitGroup
	for range 4 {
		wg.Go(func() {
			for {
				select {
				case <-stop:
					return
				default:
				}
				if v, p := render(t, live, "acme"); want[v] != p {
					t.Errorf("version %s rendered %q", v, p)
					return
				}
			}
		})
	}
	for i := range 20 {
		u := blue
		if i%2 == 0 {
			u = green
		}
		if _, err := admin.Publish(ctx, []store.Upload{u}, "x"); err != nil {
			t.Error(err)
		}
		live.Refresh(ctx)
	}
	close(stop)
	wg.Wait()
}

type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

func endpoint(t testing.TB, c *counting) string {
	t.Helper()
	return aws.ToString(c.c.Options().BaseEndpoint)
}

func mustGet(t testing.TB, c *s3.Client, key string) []byte {
	t.Helper()
	out, err := c.GetObject(context.Background(), &s3.GetObjectInput{Bucket: aws.String(bucket), Key: aws.String(key)})
	if err != nil {
		t.Fatal(err)
	}
	defer out.Body.Close()
	var b bytes.Buffer
	if _, err := b.ReadFrom(out.Body); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

func mustPut(t testing.TB, c *s3.Client, key string, data []byte) {
	t.Helper()
	if _, err := c.PutObject(context.Background(), &s3.PutObjectInput{Bucket: aws.String(bucket), Key: aws.String(key), Body: bytes.NewReader(data)}); err != nil {
		t.Fatal(err)
	}
}
