package store

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sort"
	"sync"
	"sync/atomic"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/cognito-email-otp/cognito-email-otp/mailer"
	"github.com/cognito-email-otp/cognito-email-otp/mailer/contract"
	"github.com/cognito-email-otp/cognito-email-otp/templates/compiled"
)

// Failure kinds, the reason of a TemplateLoadFailures metric line.
const (
	ReasonS3            = "s3_error"       // S3 did not answer, or refused
	ReasonInvalidIndex  = "invalid_index"  // index.json does not parse
	ReasonInvalidBundle = "invalid_bundle" // a bundle does not hash to its version, parse, or render
)

// FailureCounter counts failed refreshes; mailer.Metrics is one (the EMF
// metric TemplateLoadFailures).
type FailureCounter interface {
	TemplateLoadFailure(now time.Time, reason string) error
}

// Options configure a Live's template store.
type Options struct {
	// Client reads the store; nil for no store (the base sets only).
	Client         GetObjectAPI
	Bucket, Prefix string
	// Refresh is how long a view of the store is good for: Refresh asks
	// S3 again once this long has passed since it last asked.
	Refresh time.Duration
	// Timeout bounds one refresh, index and bundles (default 2 s): the
	// batch that carries it waits, so it must stay well inside the
	// mailer's timeout, and a slow S3 must cost a batch seconds at most.
	Timeout time.Duration
	Log     *slog.Logger
	// Failures counts failed refreshes (may be nil).
	Failures FailureCounter
	// Now is the clock (tests).
	Now func() time.Time
}

// Live is the mailer's templates: a base bundle (the embedded sets, with
// OTP_TEMPLATES_DIR's over them) with the template store's sets over that.
// It implements mailer.Renderer and mailer.Refresher.
//
// What emails render from is one immutable *compiled.Bundle behind an
// atomic pointer. Render loads it once, so an email renders entirely from
// one version of its set however a refresh races it; a refresh builds a
// new bundle, validates every part of it, and only then swaps the
// pointer. No S3 call is made on the per-email path.
type Live struct {
	cur atomic.Pointer[compiled.Bundle]
	// due is when the next refresh is due, in Unix nanoseconds: checked
	// without a lock before every batch.
	due atomic.Int64

	o      Options
	layout Layout

	mu   sync.Mutex // one refresh at a time; guards what follows
	base *compiled.Bundle
	// etag is the index's ETag when everything it names loaded; "" makes
	// the next refresh read the index in full again.
	etag string
	// sets are the store's sets in use, each a one-set bundle: the version
	// the index names, or the last good one while that one fails.
	sets map[string]*compiled.Bundle
}

var (
	_ mailer.Renderer  = (*Live)(nil)
	_ mailer.Refresher = (*Live)(nil)
)

// NewLive serves base until the first refresh brings in the store's sets.
func NewLive(base *compiled.Bundle, o Options) *Live {
	if o.Timeout == 0 {
		o.Timeout = 2 * time.Second
	}
	if o.Log == nil {
		o.Log = slog.New(slog.DiscardHandler)
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	l := &Live{o: o, layout: Layout{Prefix: o.Prefix}, base: base}
	l.cur.Store(base)
	return l
}

// Render renders from the current bundle; see compiled.Bundle.Render.
func (l *Live) Render(ctx context.Context, r contract.SendRequest) (mailer.Email, error) {
	return l.cur.Load().Render(ctx, r)
}

// Current is the bundle emails render from now.
func (l *Live) Current() *compiled.Bundle { return l.cur.Load() }

// Refresh brings the store's sets up to date if the last look is older
// than Options.Refresh; otherwise it returns at once. A failure is logged
// and counted, and the templates stay as they were.
func (l *Live) Refresh(ctx context.Context) {
	if l.o.Client == nil || l.o.Now().UnixNano() < l.due.Load() {
		return
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.o.Now().UnixNano() < l.due.Load() {
		return // another batch refreshed while this one waited
	}
	_ = l.refreshLocked(ctx)
}

// Sync refreshes now, whatever the interval: at cold start, and in tests.
// The error is also logged and counted.
func (l *Live) Sync(ctx context.Context) error {
	if l.o.Client == nil {
		return nil
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.refreshLocked(ctx)
}

// SetBase replaces the sets under the store's (otp-local's
// --templates-dir, edited while it runs).
func (l *Live) SetBase(base *compiled.Bundle) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.base = base
	l.swap()
}

func (l *Live) refreshLocked(ctx context.Context) error {
	ctx, cancel := context.WithTimeout(ctx, l.o.Timeout)
	defer cancel()
	err := l.fetch(ctx)
	// "At most every Refresh": counted from the end of this one, so a slow
	// or failing S3 is not asked more often.
	l.due.Store(l.o.Now().Add(l.o.Refresh).UnixNano())
	return err
}

// fetch does one conditional GET of the index and, when it changed, GETs
// the bundles of the versions not yet loaded.
func (l *Live) fetch(ctx context.Context) error {
	key := l.layout.Index()
	in := &s3.GetObjectInput{Bucket: aws.String(l.o.Bucket), Key: aws.String(key)}
	if l.etag != "" {
		in.IfNoneMatch = aws.String(l.etag)
	}
	out, err := l.o.Client.GetObject(ctx, in)
	switch {
	case notModified(err):
		return nil
	case notFound(err):
		// An empty store: the base sets alone. (An index that is deleted
		// takes the store's sets away with it.)
		if len(l.sets) > 0 {
			l.o.Log.WarnContext(ctx, "template store: no index; rendering from the built-in sets",
				slog.String("bucket", l.o.Bucket), slog.String("key", key))
		}
		l.sets, l.etag = nil, ""
		l.swap()
		return nil
	case err != nil:
		return l.failed(ctx, ReasonS3, "", "", fmt.Errorf("get s3://%s/%s: %w", l.o.Bucket, key, err))
	}
	data, err := readAll(out.Body, maxIndexBytes, key)
	if err != nil {
		return l.failed(ctx, ReasonS3, "", "", err)
	}
	idx, err := ParseIndex(data)
	if err != nil {
		return l.failed(ctx, ReasonInvalidIndex, "", "", fmt.Errorf("s3://%s/%s: %w", l.o.Bucket, key, err))
	}

	next := make(map[string]*compiled.Bundle, len(idx.Sets))
	var errs []error
	var changed []any
	for _, name := range idx.Names() {
		version := idx.Sets[name].Version
		old := l.sets[name]
		if version == "" {
			continue // rolled back to the built-in set
		}
		if old != nil && old.Version(name) == version {
			next[name] = old
			continue
		}
		b, reason, err := l.loadBundle(ctx, name, version)
		if err != nil {
			errs = append(errs, l.failed(ctx, reason, name, version, err))
			if old != nil {
				next[name] = old // the last good version stays
			}
			continue
		}
		next[name] = b
		changed = append(changed, slog.String(name, versionOf(old, name)+" -> "+version))
	}
	for name, old := range l.sets {
		if _, ok := next[name]; !ok {
			changed = append(changed, slog.String(name, versionOf(old, name)+" -> (built-in)"))
		}
	}
	l.sets = next
	l.swap()
	if len(changed) > 0 {
		l.o.Log.InfoContext(ctx, "template store: sets updated", slog.Group("sets", changed...))
	}
	if len(errs) > 0 {
		// Not remembering the ETag makes the next refresh read the index
		// again and retry what failed (a transient S3 error heals; a broken
		// bundle keeps being counted, so its alarm stays on).
		l.etag = ""
		return errors.Join(errs...)
	}
	l.etag = aws.ToString(out.ETag)
	return nil
}

func versionOf(b *compiled.Bundle, set string) string {
	if b == nil {
		return "(built-in)"
	}
	return b.Version(set)
}

// loadBundle fetches and fully validates one version of a set.
func (l *Live) loadBundle(ctx context.Context, set, version string) (*compiled.Bundle, string, error) {
	key := l.layout.Bundle(set, version)
	out, err := l.o.Client.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String(l.o.Bucket), Key: aws.String(key)})
	if err != nil {
		return nil, ReasonS3, fmt.Errorf("get s3://%s/%s: %w", l.o.Bucket, key, err)
	}
	data, err := readAll(out.Body, maxBundleBytes, key)
	if err != nil {
		return nil, ReasonS3, err
	}
	// The trial render goes over the base the bundle will be layered on,
	// already decoded, rather than a second copy of the embedded sets.
	b, err := verifyBundle(key, set, version, data, l.base)
	if err != nil {
		return nil, ReasonInvalidBundle, err
	}
	return b, "", nil
}

// VerifyBundle checks that data is version of set: that it hashes to the
// version (so an object put under the wrong key, or edited in place, is
// refused), decodes and validates as a bundle holding exactly that set,
// and renders in every locale.
func VerifyBundle(name, set, version string, data []byte) (*compiled.Bundle, error) {
	base, err := embeddedBundle()
	if err != nil {
		return nil, err
	}
	return verifyBundle(name, set, version, data, base)
}

// verifyBundle is VerifyBundle with the trial render over base, which
// must hold a default set.
func verifyBundle(name, set, version string, data []byte, base *compiled.Bundle) (*compiled.Bundle, error) {
	if got := compiled.VersionOf(data); got != version {
		return nil, fmt.Errorf("template bundle %s: its content is version %s, not %s: the object was changed after publishing", name, got, version)
	}
	b, err := compiled.Parse(name, data)
	if err != nil {
		return nil, err
	}
	if sets := b.Sets(); len(sets) != 1 || sets[0] != set {
		return nil, fmt.Errorf("template bundle %s holds sets %v, want exactly %q", name, sets, set)
	}
	// A trial render per locale: Parse checked every marker, and Render
	// never panics, but an email that cannot be rendered must fail here,
	// not at a user's sign-in. (Render needs a default set beside it.)
	probe := base.Layer(b)
	issued := time.Unix(0, 0)
	for _, loc := range b.Locales(set) {
		_, err := probe.Render(context.Background(), contract.SendRequest{
			V: contract.SendRequestVersion, Kind: contract.KindSignInCode, ID: "verify", Tenant: set, Locale: loc, To: "verify@example.com",
			Name: "Verify", Code: "000000", IssuedAt: issued, ExpiresAt: issued.Add(3 * time.Minute),
		})
		if err != nil {
			return nil, fmt.Errorf("template bundle %s: locale %s does not render: %w", name, loc, err)
		}
	}
	return b, nil
}

var embeddedBundle = sync.OnceValues(compiled.Embedded)

// swap publishes base with the store's sets over it.
func (l *Live) swap() {
	names := make([]string, 0, len(l.sets))
	for n := range l.sets {
		names = append(names, n)
	}
	sort.Strings(names)
	over := make([]*compiled.Bundle, len(names))
	for i, n := range names {
		over[i] = l.sets[n]
	}
	l.cur.Store(l.base.Layer(over...))
}

// failed logs and counts a failed refresh and returns err.
func (l *Live) failed(ctx context.Context, reason, set, version string, err error) error {
	attrs := []any{slog.String("reason", reason), slog.String("bucket", l.o.Bucket), slog.String("error", err.Error())}
	if set != "" {
		attrs = append(attrs, slog.String("template_set", set), slog.String("template_version", version))
	}
	l.o.Log.ErrorContext(ctx, "template store: refresh failed; emails keep the last good templates", attrs...)
	if l.o.Failures != nil {
		if merr := l.o.Failures.TemplateLoadFailure(l.o.Now(), reason); merr != nil {
			l.o.Log.ErrorContext(ctx, "metrics not written", slog.String("error", merr.Error()))
		}
	}
	return err
}
