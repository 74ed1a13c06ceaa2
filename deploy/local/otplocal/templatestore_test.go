package otplocal

import (
	"bytes"
	"context"
	"io"
	"io/fs"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/cognito-email-otp/cognito-email-otp/deploy/local/awslocal"
	"github.com/cognito-email-otp/cognito-email-otp/deploy/local/seslocal"
	"github.com/cognito-email-otp/cognito-email-otp/templates"
	"github.com/cognito-email-otp/cognito-email-otp/templates/compiled"
	"github.com/cognito-email-otp/cognito-email-otp/templates/publish"
)

// globexClient is the seed's globex app client (acmeClient is beside the
// abuse tests).
const globexClient = "otplocalglobexweb00000001"

// setsDir copies embedded sets to a directory, as an operator starts
// editing one (README: copy templates/sets/acme).
func setsDir(t *testing.T, sets ...string) string {
	t.Helper()
	dir := t.TempDir()
	for _, set := range sets {
		src := filepath.Join("..", "..", "..", "templates", "sets", set)
		err := filepath.WalkDir(src, func(p string, d fs.DirEntry, err error) error {
			if err != nil {
				return err
			}
			rel, _ := filepath.Rel(src, p)
			if d.IsDir() {
				return os.MkdirAll(filepath.Join(dir, set, rel), 0o755)
			}
			data, err := os.ReadFile(p)
			if err != nil {
				return err
			}
			return os.WriteFile(filepath.Join(dir, set, rel), data, 0o644)
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

// rename changes a set's product name: its new look.
func rename(t *testing.T, dir, set, product string) {
	t.Helper()
	path := filepath.Join(dir, set, "theme.yaml")
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(string(data), "\n")
	for i, l := range lines {
		if strings.HasPrefix(l, "product: ") {
			lines[i] = "product: " + product
		}
	}
	// A later modification time even on a coarse clock: the watcher
	// compares size and time, and the new name may be as long as the old.
	if err := os.WriteFile(path, []byte(strings.Join(lines, "\n")), 0o644); err != nil {
		t.Fatal(err)
	}
	later := time.Now().Add(time.Second)
	_ = os.Chtimes(path, later, later)
}

// signInEmail runs a password step and returns the email it produced.
func signInEmail(t *testing.T, sys *System, clientID, user string) seslocal.Email {
	t.Helper()
	n := len(sys.SES.Outbox().List(seslocal.Filter{To: user}))
	if _, err := client(sys, clientID).Start(t.Context(), user, DemoPassword); err != nil {
		t.Fatal(err)
	}
	e, _ := inbox(t, sys, user, n+1)
	return e
}

func lookOf(e seslocal.Email) (version, product string) {
	product = "?"
	for _, p := range []string{"Acme Rebrand", "Acme", "Globex"} {
		if strings.Contains(e.HTML, p) {
			product = p
			break
		}
	}
	return e.Tags["template_version"], product
}

// TestPublishReachesTheNextEmail is the operator's loop against otp-local
// with the real SDK clients: sign in (old look), publish a changed set for
// acme, and the next sign-in after OTP_TEMPLATES_REFRESH gets the new look
// and version in its SES tags while globex stays as it was; roll back, and
// the next email is the old one again.
func TestPublishReachesTheNextEmail(t *testing.T) {
	const refresh = 500 * time.Millisecond
	sys, logs := start(t, Options{TemplatesRefresh: refresh, PublishSets: []string{"acme", "globex"}})
	ctx := t.Context()
	admin := sys.TemplateAdmin()
	idx, _, err := admin.Index(ctx)
	if err != nil {
		t.Fatal(err)
	}
	seeded, globexV := idx.Sets["acme"].Version, idx.Sets["globex"].Version
	if seeded == "" || globexV == "" {
		t.Fatalf("PublishSets did not seed the store: %+v", idx.Sets)
	}

	type step struct {
		name, client, user, wantVersion, wantProduct string
	}
	check := func(s step) {
		t.Helper()
		e := signInEmail(t, sys, s.client, s.user)
		v, p := lookOf(e)
		if v != s.wantVersion || p != s.wantProduct || e.Tags["template_set"] != e.Tenant {
			t.Errorf("%s: email tags %v, product %q; want version %s, product %q", s.name, e.Tags, p, s.wantVersion, s.wantProduct)
		}
	}
	check(step{"before", acmeClient, "rosa@example.com", seeded, "Acme"})

	dir := setsDir(t, "acme")
	rename(t, dir, "acme", "Acme Rebrand")
	published := time.Now()
	changes, report, err := publish.Dir(ctx, admin, dir, nil, "arn:aws:iam::000000000000:user/test")
	if err != nil || !report.OK() || len(changes) != 1 || changes[0].From != seeded {
		t.Fatalf("publish: %+v %v %v", changes, report.Problems, err)
	}
	rebrand := changes[0].To
	time.Sleep(refresh)
	check(step{"after publish", acmeClient, "rosa@example.com", rebrand, "Acme Rebrand"})
	t.Logf("publish -> email with the new look: %v (refresh %v)", time.Since(published).Round(time.Millisecond), refresh)
	check(step{"another tenant", globexClient, "yuki@example.com", globexV, "Globex"})

	if c, err := admin.Rollback(ctx, "acme", "", "arn:aws:iam::000000000000:user/test"); err != nil || c.To != seeded {
		t.Fatalf("rollback: %+v %v", c, err)
	}
	time.Sleep(refresh)
	check(step{"after rollback", acmeClient, "rosa@example.com", seeded, "Acme"})

	if !strings.Contains(logs.String(), `"msg":"template store: sets updated"`) {
		t.Error("the mailer did not log the swap")
	}
	if n := sys.TemplateLoadFailures(); n != 0 {
		t.Errorf("%d template load failures", n)
	}
}

// TestBrokenBundleKeepsTheLastGoodVersion: a bundle put straight into the
// bucket with the S3 client, bypassing the checker, leaves the mailer on
// the last good version, counted and logged, and no email is lost.
func TestBrokenBundleKeepsTheLastGoodVersion(t *testing.T) {
	const refresh = 300 * time.Millisecond
	sys, logs := start(t, Options{TemplatesRefresh: refresh, PublishSets: []string{"acme"}})
	ctx := t.Context()
	idx, _, err := sys.TemplateAdmin().Index(ctx)
	if err != nil {
		t.Fatal(err)
	}
	good := idx.Sets["acme"].Version
	raw := s3.NewFromConfig(awslocal.Config(sys.URL), func(o *s3.Options) { o.UsePathStyle = true })
	put := func(key string, data []byte) {
		t.Helper()
		if _, err := raw.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String(TemplateBucket), Key: aws.String(TemplatePrefix + key), Body: bytes.NewReader(data)}); err != nil {
			t.Fatal(err)
		}
	}
	// A bundle with an empty subject: valid JSON, it hashes to its key,
	// and the index points at it, as a hand edit would.
	data, err := publish.Embedded("acme")
	if err != nil {
		t.Fatal(err)
	}
	broken := bytes.Replace(data[0].Data, []byte(`"subject": "Your Acme verification code"`), []byte(`"subject": ""`), 1)
	if bytes.Equal(broken, data[0].Data) {
		t.Fatal("the bundle has no English subject to break")
	}
	v := compiled.VersionOf(broken)
	put("sets/acme/"+v+".json", broken)
	put("index.json", []byte(`{"format":1,"sets":{"acme":{"version":"`+v+`","updatedAt":"2026-01-01T00:00:00Z"}}}`))

	users := []string{"rosa@example.com", "lena@example.com"}
	time.Sleep(refresh)
	for _, u := range users {
		e := signInEmail(t, sys, acmeClient, u)
		if got, p := lookOf(e); got != good || p != "Acme" {
			t.Errorf("%s: version %s product %q, want the last good %s", u, got, p, good)
		}
	}
	if n := sys.TemplateLoadFailures(); n == 0 {
		t.Error("the broken bundle was not counted (TemplateLoadFailures)")
	}
	if !strings.Contains(logs.String(), "emails keep the last good templates") || !strings.Contains(logs.String(), `"template_version":"`+v+`"`) {
		t.Error("the log does not say which version failed")
	}
	if n := sys.SES.Outbox().Count(); n != len(users) {
		t.Errorf("%d emails for %d sign-ins", n, len(users))
	}
	if st, err := sys.Queues().Status(ctx); err != nil || st[1].Visible+st[1].InFlight != 0 {
		t.Errorf("dead letters: %+v %v", st, err)
	}
}

// TestTemplatesDirIsWatched: with --templates-dir, an edit to the YAML
// reaches the next email without a restart; a broken edit keeps the last
// good templates; a directory holding only a compiled bundle works too.
func TestTemplatesDirIsWatched(t *testing.T) {
	t.Run("YAML sets", func(t *testing.T) {
		dir := setsDir(t, "acme")
		sys, logs := start(t, Options{TemplatesDir: dir})
		e := signInEmail(t, sys, acmeClient, "rosa@example.com")
		v1, p := lookOf(e)
		if !strings.HasPrefix(v1, compiled.DirVersionPrefix) || p != "Acme" {
			t.Fatalf("first email: version %s product %q", v1, p)
		}
		rename(t, dir, "acme", "Acme Rebrand")
		e = signInEmail(t, sys, acmeClient, "rosa@example.com")
		if v2, p := lookOf(e); v2 == v1 || !strings.HasPrefix(v2, compiled.DirVersionPrefix) || p != "Acme Rebrand" {
			t.Errorf("after the edit: version %s product %q", v2, p)
		}
		if err := os.WriteFile(filepath.Join(dir, "acme", "locales", "en.yaml"), []byte("subject: [unclosed\n"), 0o644); err != nil {
			t.Fatal(err)
		}
		e = signInEmail(t, sys, acmeClient, "rosa@example.com")
		if _, p := lookOf(e); p != "Acme Rebrand" {
			t.Errorf("after a broken edit: product %q, want the last good", p)
		}
		if !strings.Contains(logs.String(), "--templates-dir changed but does not load") {
			t.Error("the broken edit was not logged")
		}
	})
	t.Run("a compiled bundle alone", func(t *testing.T) {
		src := setsDir(t, "acme")
		rename(t, src, "acme", "Acme Rebrand")
		lib, err := templates.Load(publish.Sources(src)...)
		if err != nil {
			t.Fatal(err)
		}
		data, err := templates.Compile(lib, "acme")
		if err != nil {
			t.Fatal(err)
		}
		dir := t.TempDir()
		if err := os.WriteFile(filepath.Join(dir, compiled.BundleFile), data, 0o644); err != nil {
			t.Fatal(err)
		}
		sys, _ := start(t, Options{TemplatesDir: dir})
		e := signInEmail(t, sys, acmeClient, "rosa@example.com")
		if v, p := lookOf(e); v != compiled.DirVersionPrefix+compiled.VersionOf(data)[:12] || p != "Acme Rebrand" {
			t.Errorf("version %s product %q", v, p)
		}
	})
	t.Run("neither", func(t *testing.T) {
		_, err := Start(context.Background(), Options{Addr: "127.0.0.1:0", TemplatesDir: t.TempDir()})
		if err == nil || !strings.Contains(err.Error(), "holds neither") {
			t.Errorf("an empty --templates-dir: %v", err)
		}
	})
}

// TestS3AndSTSRoutes: S3 requests are told from the other APIs on the port
// by their SigV4 scope; unsigned ones and browser pages are refused as S3
// refuses anonymous access to a private bucket; STS names the caller.
func TestS3AndSTSRoutes(t *testing.T) {
	sys, _ := start(t, Options{})
	for _, tc := range []struct {
		name, method, path, auth, origin string
		want                             int
		wantBody                         string
	}{
		{"unsigned GET of the bucket", "GET", "/" + TemplateBucket + "/templates/index.json", "", "", 403, "AccessDenied"},
		{"browser page", "GET", "/" + TemplateBucket + "/templates/index.json",
			"AWS4-HMAC-SHA256 Credential=otp-local/20260101/us-east-1/s3/aws4_request, SignedHeaders=host, Signature=00", "http://evil.example", 403, "browser"},
		{"signed, empty store", "GET", "/" + TemplateBucket + "/templates/index.json",
			"AWS4-HMAC-SHA256 Credential=otp-local/20260101/us-east-1/s3/aws4_request, SignedHeaders=host, Signature=00", "", 404, "NoSuchKey"},
		{"the sign-in page is not S3", "GET", "/", "", "", 200, "<html"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			status, body := rawRequest(t, sys, tc.method, tc.path, tc.auth, tc.origin)
			if status != tc.want || !strings.Contains(body, tc.wantBody) {
				t.Errorf("%s %s: %d %q, want %d with %q", tc.method, tc.path, status, body, tc.want, tc.wantBody)
			}
		})
	}
	arn, err := publish.CallerARN(t.Context(), awslocal.Config(sys.URL))
	if err != nil || arn != "arn:aws:iam::000000000000:user/otp-local" {
		t.Errorf("GetCallerIdentity: %q %v", arn, err)
	}
}

func rawRequest(t *testing.T, sys *System, method, path, auth, origin string) (int, string) {
	t.Helper()
	req, err := http.NewRequestWithContext(t.Context(), method, sys.URL+path, nil)
	if err != nil {
		t.Fatal(err)
	}
	if auth != "" {
		req.Header.Set("Authorization", auth)
		req.Header.Set("X-Amz-Date", time.Now().UTC().Format("20060102T150405Z"))
	}
	if origin != "" {
		req.Header.Set("Origin", origin)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(body)
}

// TestAWSCLIReadsTheTemplateStore: Debian's awscli (make awscli) lists and
// reads the store on otp-local's port, and asks STS who it is, as an
// operator would with --endpoint-url.
func TestAWSCLIReadsTheTemplateStore(t *testing.T) {
	const aws = "/usr/bin/aws"
	if _, err := os.Stat(aws); err != nil {
		if os.Getenv("OTP_E2E") == "require" {
			t.Fatalf("OTP_E2E=require but %s is missing (run: make awscli)", aws)
		}
		t.Skipf("no %s (make awscli)", aws)
	}
	sys, _ := start(t, Options{PublishSets: []string{"acme"}})
	home := t.TempDir()
	run := func(args ...string) string {
		t.Helper()
		cmd := exec.CommandContext(t.Context(), aws, append(args, "--endpoint-url", sys.URL, "--output", "json")...)
		cmd.Env = []string{"HOME=" + home, "PATH=/usr/bin:/bin", "AWS_ACCESS_KEY_ID=operator", "AWS_SECRET_ACCESS_KEY=otp-local",
			"AWS_DEFAULT_REGION=us-east-1", "AWS_CONFIG_FILE=/dev/null", "AWS_SHARED_CREDENTIALS_FILE=/dev/null", "AWS_PAGER="}
		out, err := cmd.CombinedOutput()
		if err != nil {
			t.Fatalf("aws %v: %v\n%s", args, err, out)
		}
		return string(out)
	}
	if out := run("s3", "ls", "--recursive", "s3://"+TemplateBucket+"/"); !strings.Contains(out, TemplatePrefix+"index.json") || !strings.Contains(out, TemplatePrefix+"sets/acme/") {
		t.Errorf("aws s3 ls:\n%s", out)
	}
	if out := run("s3", "cp", "s3://"+TemplateBucket+"/"+TemplatePrefix+"index.json", "-"); !strings.Contains(out, `"acme"`) {
		t.Errorf("aws s3 cp index.json -:\n%s", out)
	}
	if out := run("sts", "get-caller-identity"); !strings.Contains(out, "arn:aws:iam::000000000000:user/operator") {
		t.Errorf("aws sts get-caller-identity:\n%s", out)
	}
}
