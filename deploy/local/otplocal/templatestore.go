package otplocal

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/cognito-email-otp/cognito-email-otp/deploy/local/awslocal"
	"github.com/cognito-email-otp/cognito-email-otp/deploy/local/s3local"
	"github.com/cognito-email-otp/cognito-email-otp/deploy/local/stslocal"
	"github.com/cognito-email-otp/cognito-email-otp/templates"
	"github.com/cognito-email-otp/cognito-email-otp/templates/compiled"
	"github.com/cognito-email-otp/cognito-email-otp/templates/publish"
	"github.com/cognito-email-otp/cognito-email-otp/templates/store"
)

// The template store otp-local serves, as the SAM template's bucket and
// OTP_TEMPLATES_PREFIX have it; otpctl templates defaults to the same.
const (
	TemplateBucket = "otp-templates"
	TemplatePrefix = "templates/"
	// DefaultTemplatesRefresh is otp-local's OTP_TEMPLATES_REFRESH: shorter
	// than the Lambda's 30 s, so that a publish shows in the next local
	// sign-in within seconds.
	DefaultTemplatesRefresh = 5 * time.Second
	// SeedPublisher is who otp-local's own publish (PublishSets) names.
	SeedPublisher = "arn:aws:iam::" + stslocal.DefaultAccountID + ":user/otp-local"
)

// localTemplates is the in-process mailer's templates: the template store
// over the --templates-dir sets, as the mailer Lambda has them, plus a
// look at --templates-dir before each batch so that an edited YAML file
// reaches the next email without a restart.
type localTemplates struct {
	*store.Live
	watch *dirWatch
}

// Refresh checks the directory (a few stat calls), then the store when due.
func (t localTemplates) Refresh(ctx context.Context) {
	if t.watch != nil {
		t.watch.check(ctx)
	}
	t.Live.Refresh(ctx)
}

// buildTemplates starts S3 and STS and builds the mailer's templates. It
// returns the --templates-dir sets compiled (nil without the flag), which
// the real mailer binary reads from OTP_TEMPLATES_DIR.
func (sys *System) buildTemplates(o Options, dataDir string) (localTemplates, []byte, error) {
	var err error
	if sys.S3, err = s3local.New(s3local.Options{DataDir: dataDir, Buckets: []string{TemplateBucket}}); err != nil {
		return localTemplates{}, nil, err
	}
	sys.STS = &stslocal.Server{}
	sys.serve.early(sys.S3, sys.STS)
	log := slog.New(slog.NewJSONHandler(o.Logs, nil))
	base, dirBundle, err := loadTemplatesDir(o.TemplatesDir)
	if err != nil {
		return localTemplates{}, nil, err
	}
	awsCfg := awslocal.Config(sys.URL)
	live := store.NewLive(base, store.Options{
		Client: store.NewClient(awsCfg), Bucket: TemplateBucket, Prefix: TemplatePrefix,
		Refresh: orDur(o.TemplatesRefresh, DefaultTemplatesRefresh), Log: log,
	})
	t := localTemplates{Live: live}
	if o.TemplatesDir != "" {
		t.watch = &dirWatch{dir: o.TemplatesDir, live: live, log: log, seen: fingerprint(o.TemplatesDir)}
	}
	sys.Templates = live
	if err := sys.startTemplateStore(context.Background(), o); err != nil {
		return localTemplates{}, nil, err
	}
	return t, dirBundle, nil
}

// startTemplateStore publishes Options.PublishSets into an empty store
// (make run: the example tenants), then reads the store as the mailer's
// cold start does. The port answers S3 by then (handover).
func (sys *System) startTemplateStore(ctx context.Context, o Options) error {
	admin := sys.TemplateAdmin()
	if len(o.PublishSets) > 0 {
		idx, _, err := admin.Index(ctx)
		if err != nil {
			return fmt.Errorf("otp-local: template store: %w", err)
		}
		if len(idx.Sets) == 0 {
			uploads, err := publish.Embedded(o.PublishSets...)
			if err != nil {
				return fmt.Errorf("otp-local: publish %v: %w", o.PublishSets, err)
			}
			if _, err := admin.Publish(ctx, uploads, SeedPublisher); err != nil {
				return fmt.Errorf("otp-local: publish %v: %w", o.PublishSets, err)
			}
		}
	}
	if err := sys.Templates.Sync(ctx); err != nil {
		return fmt.Errorf("otp-local: template store: %w", err)
	}
	return nil
}

// TemplateAdmin is what otpctl templates publish uses, against this
// otp-local.
func (sys *System) TemplateAdmin() *store.Admin {
	return &store.Admin{Client: store.NewClient(awslocal.Config(sys.URL)), Bucket: TemplateBucket, Prefix: TemplatePrefix}
}

// TemplateLoadFailures is the TemplateLoadFailures metric the mailer's EMF
// lines have counted.
func (sys *System) TemplateLoadFailures() int64 { return sys.mailerStats.templateFailures() }

// loadTemplatesDir builds the sets under the store's: the embedded ones,
// with dir's over them. dir holds YAML sets (compiled here, as an
// operator would with otpctl templates compile) or, with no sets in it,
// a compiled templates.bundle.json.
func loadTemplatesDir(dir string) (*compiled.Bundle, []byte, error) {
	base, err := compiled.Embedded()
	if err != nil || dir == "" {
		return base, nil, err
	}
	lib, err := templates.Load(templates.Embedded(), templates.Dir(dir))
	if err != nil {
		return nil, nil, fmt.Errorf("--templates-dir: %w", err)
	}
	var data []byte
	if sets := lib.OverridingSets(); len(sets) > 0 {
		if data, err = templates.Compile(lib, sets...); err != nil {
			return nil, nil, fmt.Errorf("--templates-dir: %w", err)
		}
	} else {
		data, err = os.ReadFile(filepath.Join(dir, compiled.BundleFile))
		if errors.Is(err, fs.ErrNotExist) {
			return nil, nil, fmt.Errorf("--templates-dir %s holds neither template sets (<set>/theme.yaml) nor a compiled %s", dir, compiled.BundleFile)
		}
		if err != nil {
			return nil, nil, fmt.Errorf("--templates-dir: %w", err)
		}
	}
	over, err := compiled.ParseDir(filepath.Join(dir, compiled.BundleFile), data)
	if err != nil {
		return nil, nil, fmt.Errorf("--templates-dir: %w", err)
	}
	return base.Layer(over), data, nil
}

// dirWatch reloads --templates-dir when a file in it changes.
type dirWatch struct {
	dir  string
	live *store.Live
	log  *slog.Logger
	mu   sync.Mutex
	seen string
}

func (w *dirWatch) check(ctx context.Context) {
	w.mu.Lock()
	defer w.mu.Unlock()
	now := fingerprint(w.dir)
	if now == w.seen {
		return
	}
	// Remembered even if the load fails: the same broken files are
	// reported once, and the next save is tried again.
	w.seen = now
	base, _, err := loadTemplatesDir(w.dir)
	if err != nil {
		w.log.ErrorContext(ctx, "otp-local: --templates-dir changed but does not load; emails keep the last good templates",
			slog.String("dir", w.dir), slog.String("error", err.Error()))
		return
	}
	w.live.SetBase(base)
	var versions []any
	for _, set := range base.Sets() {
		if v := base.Version(set); strings.HasPrefix(v, compiled.DirVersionPrefix) {
			versions = append(versions, slog.String(set, v))
		}
	}
	w.log.InfoContext(ctx, "otp-local: --templates-dir reloaded", slog.String("dir", w.dir), slog.Group("sets", versions...))
}

// fingerprint names every file under dir with its size and modification
// time: any save changes it.
func fingerprint(dir string) string {
	var parts []string
	_ = filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return nil
		}
		if info, err := d.Info(); err == nil {
			parts = append(parts, fmt.Sprintf("%s %d %d", p, info.Size(), info.ModTime().UnixNano()))
		}
		return nil
	})
	sort.Strings(parts)
	return strings.Join(parts, "\n")
}

// templatesEnv is the store's environment for the real mailer binary.
func templatesEnv(o Options) []string {
	refresh := max(time.Second, orDur(o.TemplatesRefresh, DefaultTemplatesRefresh)) // the Lambda's config takes 1s..1h
	return []string{"OTP_TEMPLATES_BUCKET=" + TemplateBucket, "OTP_TEMPLATES_PREFIX=" + TemplatePrefix, "OTP_TEMPLATES_REFRESH=" + refresh.String()}
}

// handover is what otp-local's port answers: while the system is being
// built, S3 and STS only (503 for the rest), then everything.
type handover struct {
	full atomic.Pointer[http.Handler]
	s3   atomic.Pointer[s3local.Server]
	sts  atomic.Pointer[stslocal.Server]
}

// early lets S3 and STS answer before the rest is built.
func (h *handover) early(s3 *s3local.Server, sts *stslocal.Server) {
	h.s3.Store(s3)
	h.sts.Store(sts)
}

// ready hands every request to the system's routes.
func (h *handover) ready(routes http.Handler) { h.full.Store(&routes) }

func (h *handover) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if full := h.full.Load(); full != nil {
		(*full).ServeHTTP(w, r)
		return
	}
	if !loopbackHost(r.Host) {
		http.Error(w, "otp-local answers only requests for 127.0.0.1, [::1] or localhost, not "+r.Host, http.StatusMisdirectedRequest)
		return
	}
	if s3 := h.s3.Load(); s3 != nil && s3.IsRequest(r) {
		s3.ServeHTTP(w, r)
		return
	}
	if sts := h.sts.Load(); sts != nil && sts.IsRequest(r) {
		sts.ServeHTTP(w, r)
		return
	}
	http.Error(w, "otp-local is starting", http.StatusServiceUnavailable)
}
