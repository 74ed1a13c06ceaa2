// Package otplocal runs the whole system on one machine: SQS, SES v2,
// Cognito, Secrets Manager, KMS, DynamoDB, CloudWatch and CloudWatch Logs
// endpoints on one loopback
// port, the three triggers and the mailer wired to them through the real
// AWS SDK clients, an event source mapping between the queue and the
// mailer, and the sign-in, outbox and ops pages. cmd otp-local (deploy/local) is its command line; tests start it
// in-process on a free port.
package otplocal

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/aws/aws-lambda-go/lambda"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/kms"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"
	"github.com/aws/aws-sdk-go-v2/service/sqs"

	"github.com/cognito-email-otp/cognito-email-otp/deploy/local/awslocal"
	"github.com/cognito-email-otp/cognito-email-otp/deploy/local/cloudwatchlocal"
	"github.com/cognito-email-otp/cognito-email-otp/deploy/local/cognitoidp"
	"github.com/cognito-email-otp/cognito-email-otp/deploy/local/dynamolocal"
	"github.com/cognito-email-otp/cognito-email-otp/deploy/local/esm"
	"github.com/cognito-email-otp/cognito-email-otp/deploy/local/kmslocal"
	"github.com/cognito-email-otp/cognito-email-otp/deploy/local/lambdart"
	"github.com/cognito-email-otp/cognito-email-otp/deploy/local/logslocal"
	"github.com/cognito-email-otp/cognito-email-otp/deploy/local/s3local"
	"github.com/cognito-email-otp/cognito-email-otp/deploy/local/secretslocal"
	"github.com/cognito-email-otp/cognito-email-otp/deploy/local/seslocal"
	"github.com/cognito-email-otp/cognito-email-otp/deploy/local/snslocal"
	"github.com/cognito-email-otp/cognito-email-otp/deploy/local/sqslocal"
	"github.com/cognito-email-otp/cognito-email-otp/deploy/local/stslocal"
	"github.com/cognito-email-otp/cognito-email-otp/deploy/local/web"
	"github.com/cognito-email-otp/cognito-email-otp/mailer"
	"github.com/cognito-email-otp/cognito-email-otp/mailer/ops"
	"github.com/cognito-email-otp/cognito-email-otp/mailer/queue"
	"github.com/cognito-email-otp/cognito-email-otp/templates"
	"github.com/cognito-email-otp/cognito-email-otp/templates/store"
	"github.com/cognito-email-otp/cognito-email-otp/triggers"
	"github.com/cognito-email-otp/cognito-email-otp/triggers/budget"
	"github.com/cognito-email-otp/cognito-email-otp/triggers/budget/dynamostore"
	smsecret "github.com/cognito-email-otp/cognito-email-otp/triggers/secret"
	"github.com/cognito-email-otp/cognito-email-otp/triggers/sender"
	"github.com/cognito-email-otp/cognito-email-otp/triggers/sender/ciphertext"
)

// Names otp-local gives its resources; otpctl defaults to the same.
const (
	PoolID        = "us-east-1_OtpLocal1"
	SendQueue     = "otp-send"
	DeadLetters   = "otp-send-dlq"
	FromAddress   = "Example <no-reply@otp-local.example>"
	DefaultAddr   = "127.0.0.1:7070"
	MaxReceiveCnt = 5
	// BudgetTable is the failure budget's DynamoDB table (dynalite here).
	BudgetTable = "otp-budget"
	// MetricsNamespace is where the functions' EMF metrics go, as the SAM
	// template's OTP_METRICS_NAMESPACE.
	MetricsNamespace = "CognitoEmailOTP"
)

// Options configure a System. The zero value, plus Seed, is a working
// demo; tests change the knobs they exercise.
type Options struct {
	// Addr is where to listen; it must be a loopback address. Port 0 picks a
	// free one.
	Addr string
	// DataDir keeps users, the token signing key, the HMAC key and the
	// outbox across restarts; empty keeps everything in memory.
	DataDir string
	Seed    Seed
	// TemplatesDir overrides embedded template sets by name, as
	// OTP_TEMPLATES_DIR does for the mailer Lambda: YAML sets, reloaded
	// when they change, or a compiled templates.bundle.json.
	TemplatesDir string
	SES          seslocal.Faults
	// SESRejectRecipients are addresses or "@domain"s that SES answers
	// with MessageRejected, as it does for a suppressed address.
	SESRejectRecipients []string
	// SESSandbox puts the SES account in the sandbox (so does the seed's
	// ses.sandbox): recipients must be verified, 200 a day, 1 a second.
	SESSandbox bool
	// Limits and code policy for the triggers; zero fields take the
	// defaults the Lambdas use.
	CodeTTL, ResendCooldown     time.Duration
	MaxWrongAnswers, MaxResends int
	// Budget is the per-user failure budget's policy; zero fields take the
	// Lambdas' defaults (budget.DefaultPolicy). Tests shrink it to reach a
	// lockout in seconds.
	Budget budget.Policy
	// BudgetFailOpen is OTP_BUDGET_FAIL_OPEN.
	BudgetFailOpen bool
	// KeyRefresh is OTP_KEY_REFRESH: how often the functions re-read the
	// HMAC key from Secrets Manager (default 5m; tests rotate faster).
	KeyRefresh time.Duration
	// QueueVisibility is the send queue's visibility timeout: how soon a
	// failed message comes back. Default 90s, six times the mailer's
	// timeout, as in the SAM template; fault tests shorten it.
	QueueVisibility time.Duration
	// Mapping is the event source mapping; zero fields take defaults.
	Mapping esm.Config
	// MailerRetryBudget bounds in-process SES retries (default 8s).
	MailerRetryBudget time.Duration
	// SenderRetryDelays are the waits before Lambda retries a failed
	// custom email sender invocation (default 1 and 2 minutes, as Lambda's
	// asynchronous invocations); tests shorten them.
	SenderRetryDelays []time.Duration
	// Logs receives the triggers' and the mailer's JSON log lines, as
	// CloudWatch Logs would. Default: discard.
	Logs io.Writer
	// CORSOrigins are browser origins besides otp-local's own pages that may
	// call its Cognito API: a developer's app on another port.
	CORSOrigins []string
	// FunctionsDir, when set, runs the real Lambda binaries instead of the
	// handlers in-process: <dir>/{define,create,verify,mailer}/bootstrap,
	// built for this machine (make host-functions), each behind its own
	// Lambda Runtime API. Instances is how many of each (default 2).
	FunctionsDir string
	Instances    int

	// TemplatesRefresh is the mailer's OTP_TEMPLATES_REFRESH (default
	// DefaultTemplatesRefresh); PublishSets are embedded sets published
	// into an empty template store at start (make run: acme, globex).
	TemplatesRefresh time.Duration
	PublishSets      []string
	// SESEventDelay is how long after acceptance SES reports a delivery or
	// a bounce (default DefaultSESEventDelay); FeedbackRetryDelays are the
	// waits before the retries of a failed feedback invocation (default
	// Lambda's: 1 and 2 minutes).
	SESEventDelay       time.Duration
	FeedbackRetryDelays []time.Duration
	// MetricsInterval is how often the queues are sampled for CloudWatch's
	// AWS/SQS metrics. Default a minute, at the top of the minute, as SQS
	// publishes them; tests that cannot wait shorten it or call
	// System.SampleMetrics.
	MetricsInterval time.Duration
}

// System is a running otp-local.
type System struct {
	URL     string
	SQS     *sqslocal.Server
	SES     *seslocal.Server
	Cognito *cognitoidp.Server
	// DynamoDB is dynalite, serving the failure budget's table.
	DynamoDB *dynamolocal.Server
	// Secrets is Secrets Manager; seed it with Secrets.EnsureSecret and
	// register rotation functions with Secrets.SetRotationFunction.
	Secrets *secretslocal.Server
	// S3 (gofakes3) holds the template store; STS answers who is calling;
	// Templates is what the in-process mailer renders from.
	S3        *s3local.Server
	STS       *stslocal.Server
	Templates *store.Live
	// SNS carries SES's delivery events (EventsTopicARN) to the feedback
	// function (feedback.go).
	SNS            *snslocal.Server
	EventsTopicARN string
	// KMS is otp-local's KMS, holding the user pool's custom sender key.
	KMS *kmslocal.Server
	// CustomSenderKeyARN is the ARN of that key (alias CustomSenderKeyAlias),
	// the pool's KMSKeyID: Cognito's custom sender codes are encrypted
	// under it. A data dir keeps it across restarts.
	CustomSenderKeyARN string
	// Metrics is CloudWatch's metric store: the AWS/SQS metrics sampled
	// from the queues and every EMF metric of the functions' logs, per
	// minute, for GetMetricData and otp-local's own pages (Metrics.Series).
	Metrics    *cloudwatchlocal.Store
	cloudWatch *cloudwatchlocal.Server
	// Logs is CloudWatch Logs: every function's log lines in its log
	// group (LogGroup), for FilterLogEvents (otpctl trace).
	Logs       *logslocal.Store
	logsServer *logslocal.Server
	sampler    *cloudwatchlocal.SQSSampler
	// Budget is the triggers' failure budget, for tests and the ops page.
	Budget *budget.Ledger
	// Keys are the triggers' HMAC keys (pseudonyms in logs).
	Keys     *triggers.Keyring
	Mapping  *esm.Poller
	lambda   *esm.API // Lambda's API for Mapping; see lambdaAPI
	Clients  []SeedClient
	DemoUser *SeedUser
	queues   ops.Queues
	// mailerStats is the mailer's EMF metrics as the ops page shows them.
	mailerStats *mailerStats
	serve       handover
	runtimes    []*lambdart.Runtime
	sender      lambda.Handler // the custom email sender function
	tempDirs    []string       // removed by Close
	http        *http.Server
	cancel      context.CancelFunc
	wg          sync.WaitGroup
}

// Start brings the system up and returns once it serves.
func Start(ctx context.Context, o Options) (*System, error) {
	o.defaults()
	ln, err := listenLoopback(o.Addr)
	if err != nil {
		return nil, err
	}
	sys := &System{URL: "http://" + ln.Addr().String(), Clients: o.Seed.Clients}
	// The port serves while the rest is built: the template store's
	// publish at start, and the --functions binaries' cold start, read S3
	// as on AWS, where S3 is there before any function. Until the services
	// are built only S3 and STS answer (handover).
	sys.http = &http.Server{Handler: &sys.serve, ReadHeaderTimeout: 10 * time.Second}
	sys.wg.Go(func() { _ = sys.http.Serve(ln) })
	b, err := sys.buildServices(ctx, o)
	if err != nil {
		_ = sys.http.Close()
		sys.wg.Wait()
		sys.closeChildren()
		return nil, err
	}
	runCtx, cancel := context.WithCancel(context.WithoutCancel(ctx))
	sys.cancel = cancel
	sys.http.RegisterOnShutdown(sys.SQS.Close)
	sys.serve.ready(sys.routes(o, b))
	// The functions start as on AWS: they read their key from Secrets
	// Manager over the wire, so the endpoints must already answer.
	if err := sys.buildFunctions(ctx, o, b); err != nil {
		_ = sys.Close()
		return nil, err
	}
	sys.wg.Go(func() { _ = sys.Mapping.Run(runCtx) })
	sys.wg.Go(func() { sys.sampler.Run(runCtx, o.MetricsInterval) })
	return sys, nil
}

func (o *Options) defaults() {
	if o.Addr == "" {
		o.Addr = DefaultAddr
	}
	if o.Logs == nil {
		o.Logs = io.Discard
	}
	if len(o.Seed.Clients) == 0 {
		o.Seed.Clients = DefaultSeed().Clients
	}
	if o.QueueVisibility == 0 {
		o.QueueVisibility = 90 * time.Second
	}
	if o.MailerRetryBudget == 0 {
		o.MailerRetryBudget = 8 * time.Second
	}
	m := &o.Mapping
	if m.BatchSize == 0 {
		m.BatchSize = 10
	}
	if m.MaxConcurrency == 0 {
		m.MaxConcurrency = 4
	}
	if m.InvokeTimeout == 0 {
		m.InvokeTimeout = 15 * time.Second
	}
}

// ownOrigins are the origins otp-local's own pages load from: the URL it
// listens on, and the same port under localhost and [::1].
func ownOrigins(url string) []string {
	_, port, _ := net.SplitHostPort(strings.TrimPrefix(url, "http://"))
	return []string{url, "http://localhost:" + port, "http://127.0.0.1:" + port, "http://[::1]:" + port}
}

// loopbackHost reports whether a request's Host names this machine. A
// page on another site could make the browser resolve its own name to
// 127.0.0.1 (DNS rebinding) and then read the outbox as same-origin; the
// Host header still carries that other name, so it is refused.
func loopbackHost(host string) bool {
	h, _, err := net.SplitHostPort(host)
	if err != nil {
		h = host
	}
	if h == "localhost" {
		return true
	}
	ip := net.ParseIP(strings.Trim(h, "[]"))
	return ip != nil && ip.IsLoopback()
}

// ErrAddrInUse is Start's error when another process (often another
// otp-local) holds the address.
var ErrAddrInUse = errors.New("address in use")

// listenLoopback refuses anything but a loopback address: otp-local has no
// authentication and holds codes.
func listenLoopback(addr string) (net.Listener, error) {
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return nil, fmt.Errorf("otp-local: address %q: %w", addr, err)
	}
	if ip := net.ParseIP(host); host != "localhost" && (ip == nil || !ip.IsLoopback()) {
		return nil, fmt.Errorf("otp-local: address %q is not loopback; otp-local serves 127.0.0.1 only", addr)
	}
	ln, err := net.Listen("tcp", addr)
	if errors.Is(err, syscall.EADDRINUSE) {
		return nil, fmt.Errorf("otp-local: %s is in use, perhaps by another otp-local (make run) still running: stop it, or choose another port with --addr 127.0.0.1:7071 or OTP_LOCAL_ADDR=127.0.0.1:7071: %w", addr, ErrAddrInUse)
	}
	if err != nil {
		return nil, fmt.Errorf("otp-local: listen on %s: %w", addr, err)
	}
	return ln, nil
}

// built is what buildServices hands buildFunctions.
type built struct {
	queueURL, dlqURL string
	tenants          map[string]string
	keyARN           string
	lib              *templates.Library // the template sets, for the page's branding
	tmpl             localTemplates     // the in-process mailer's templates
	dirBundle        []byte             // --templates-dir compiled, for the mailer binary
}

// CustomSenderKeyAlias names the customer managed KMS key Cognito
// encrypts custom sender codes with, as the pool's KMSKeyID would.
const CustomSenderKeyAlias = "alias/otp-custom-sender"

// HMACKeySecret is the Secrets Manager secret holding the triggers' HMAC
// key, as the SAM template's HmacKeySecret; rotate it with
// RotateFunctionARN as the rotation function.
const (
	HMACKeySecret     = "otp/hmac-key"
	RotateFunctionARN = "arn:aws:lambda:us-east-1:000000000000:function:otp-rotate"
)

func (o Options) dir(sub string) string {
	if o.DataDir == "" {
		return ""
	}
	d := filepath.Join(o.DataDir, sub)
	_ = os.MkdirAll(d, 0o700)
	return d
}

// buildServices makes the AWS endpoints and their content: queues, SES,
// Secrets Manager with the HMAC key, the pool and its users, DynamoDB.
func (sys *System) buildServices(ctx context.Context, o Options) (b built, err error) {
	dir := o.dir
	// SQS: the send queue and its dead-letter queue, as the SAM template has them.
	sys.SQS = sqslocal.New(sqslocal.Options{BaseURL: sys.URL})
	dlqURL, err := sys.SQS.CreateQueue(DeadLetters, map[string]string{"MessageRetentionPeriod": "1209600"})
	if err != nil {
		return b, err
	}
	redrive := fmt.Sprintf(`{"deadLetterTargetArn":%q,"maxReceiveCount":"%d"}`, sys.SQS.QueueARN(DeadLetters), MaxReceiveCnt)
	queueURL, err := sys.SQS.CreateQueue(SendQueue, map[string]string{
		"VisibilityTimeout": fmt.Sprint(int(o.QueueVisibility.Seconds())), "MessageRetentionPeriod": "300", "RedrivePolicy": redrive,
	})
	if err != nil {
		return b, err
	}

	// CloudWatch: the metric store, its API, and the sampler that
	// publishes the queues' AWS/SQS metrics into it (cloudwatch.go).
	cwLog := slog.New(slog.NewJSONHandler(o.Logs, nil))
	sys.Metrics = cloudwatchlocal.NewStore(cloudwatchlocal.Options{Logger: cwLog})
	sys.cloudWatch = cloudwatchlocal.NewServer(sys.Metrics, cloudwatchlocal.ServerOptions{Logger: cwLog})
	sys.sampler = &cloudwatchlocal.SQSSampler{Store: sys.Metrics, Queues: sys.queueSamples}
	// CloudWatch Logs: the functions' log groups, fed by their log
	// streams (buildFunctions), as the SAM template's LogGroup resources.
	sys.Logs = logslocal.New(logslocal.Options{})
	sys.logsServer = logslocal.NewServer(sys.Logs, cwLog)

	sesOpts, err := o.sesOptions(dir("outbox")) // account.go: the seed's identities, the sandbox
	if err != nil {
		return b, err
	}
	if err := sys.withEvents(o, &sesOpts); err != nil { // feedback.go: SNS and the configuration set's destination
		return b, err
	}
	if sys.SES, err = seslocal.New(sesOpts); err != nil {
		return b, err
	}

	// The HMAC key lives in Secrets Manager, as on AWS; a data dir keeps it
	// (and its rotations), so sign-ins in progress survive a restart.
	if sys.Secrets, err = secretslocal.New(secretslocal.Options{DataDir: dir("secrets"), Logger: slog.New(slog.NewJSONHandler(o.Logs, nil))}); err != nil {
		return b, fmt.Errorf("otp-local: Secrets Manager: %w", err)
	}
	keyARN, err := sys.Secrets.EnsureSecret(HMACKeySecret, smsecret.NewKeyValue)
	if err != nil {
		return b, fmt.Errorf("otp-local: HMAC key: %w", err)
	}

	// KMS, with the customer managed key Cognito's custom sender codes are
	// encrypted under; a data dir keeps the key, so codes encrypted before
	// a restart still decrypt after it.
	if sys.KMS, err = kmslocal.New(kmslocal.Options{DataDir: dir("kms"), Logger: slog.New(slog.NewJSONHandler(o.Logs, nil))}); err != nil {
		return b, fmt.Errorf("otp-local: KMS: %w", err)
	}
	if sys.CustomSenderKeyARN, err = sys.KMS.EnsureKey(CustomSenderKeyAlias, "Cognito custom sender codes ("+PoolID+")"); err != nil {
		return b, fmt.Errorf("otp-local: KMS: custom sender key: %w", err)
	}

	sources := []templates.Source{templates.Embedded()}
	if o.TemplatesDir != "" {
		sources = append(sources, templates.Dir(o.TemplatesDir))
	}
	if b.lib, err = templates.Load(sources...); err != nil {
		return b, err
	}

	clients, tenants := o.Seed.clients()
	if sys.Cognito, err = cognitoidp.New(cognitoidp.Config{PoolID: PoolID, Clients: clients, DataDir: dir("cognito"),
		AllowedOrigins: append(ownOrigins(sys.URL), o.CORSOrigins...)}); err != nil {
		return b, err
	}
	if sys.DemoUser, err = o.Seed.apply(sys.Cognito); err != nil {
		return b, err
	}

	// DynamoDB for the failure budget: dynalite, reached through this port
	// like every other AWS API here.
	if sys.DynamoDB, err = dynamolocal.Start(ctx, dynamolocal.Options{DataDir: dir("dynamodb"), Stderr: o.Logs}); err != nil {
		return b, fmt.Errorf("otp-local: DynamoDB: %w", err)
	}
	if err := dynamostore.CreateTable(ctx, dynamodb.NewFromConfig(awslocal.Config(sys.DynamoDB.Endpoint)), BudgetTable); err != nil {
		return b, fmt.Errorf("otp-local: DynamoDB: %w", err)
	}
	// S3 and the template store, published into and read over the port
	// (handover) as the mailer's cold start reads it on AWS.
	if b.tmpl, b.dirBundle, err = sys.buildTemplates(o, dir("s3")); err != nil {
		return b, err
	}
	b.queueURL, b.dlqURL, b.tenants, b.keyARN = queueURL, dlqURL, tenants, keyARN
	return b, nil
}

// buildFunctions starts the triggers, the mailer, the rotation function
// and the event source mapping, pointed at the running endpoints.
func (sys *System) buildFunctions(ctx context.Context, o Options, b built) (err error) {
	// The components talk to each other as they would on AWS: real SDK
	// clients, over HTTP, to this process's own endpoints.
	awsCfg := awslocal.Config(sys.URL)
	queueURL, dlqURL, tenants := b.queueURL, b.dlqURL, b.tenants
	keyCfg := triggers.Key{HMACSecretARN: b.keyARN, KeyRefresh: orDur(o.KeyRefresh, triggers.KeyRefresh)}
	// Each function, like each Lambda, reads the key itself.
	keyring := func() (*triggers.Keyring, error) { return smsecret.LoadKeyring(ctx, keyCfg, awsCfg) }
	if sys.Keys, err = keyring(); err != nil {
		return fmt.Errorf("otp-local: HMAC key: %w", err)
	}
	budgetCfg := budgetConfig(o)
	sys.Budget = triggers.NewLedger(budgetCfg, dynamostore.New(awsCfg, BudgetTable))

	limits := triggers.Limits{MaxWrongAnswers: or(o.MaxWrongAnswers, 3), MaxResends: or(o.MaxResends, 2), ResendCooldown: orDur(o.ResendCooldown, 30*time.Second)}
	common := triggers.Common{MetricsNamespace: MetricsNamespace}
	defineCfg := triggers.DefineConfig{Common: common, Limits: limits, BudgetConfig: budgetCfg, Key: keyCfg, RequireVerifiedEmail: true, Tenants: tenants}
	createCfg := triggers.CreateConfig{Common: common, Limits: limits, BudgetConfig: budgetCfg, Key: keyCfg, CodeLength: 6, CodeTTL: orDur(o.CodeTTL, 3*time.Minute),
		AuthSessionValidity: 3 * time.Minute, QueueURL: queueURL, RequireVerifiedEmail: true, Tenants: tenants}
	verifyCfg := triggers.VerifyConfig{Common: common, BudgetConfig: budgetCfg, Key: keyCfg}
	if createCfg.CodeTTL > createCfg.AuthSessionValidity {
		createCfg.AuthSessionValidity = min(15*time.Minute, createCfg.CodeTTL)
	}
	if err := defineCfg.Validate(); err != nil {
		return err
	}
	if err := createCfg.Validate(); err != nil {
		return err
	}
	if err := verifyCfg.Validate(); err != nil {
		return err
	}
	tmpl, dirBundle := b.tmpl, b.dirBundle
	// Each function's log stream goes through its own EMF sink, as
	// CloudWatch Logs extracts the metrics of every log group.
	sys.mailerStats = &mailerStats{}
	logs := func(fn string) io.Writer {
		var stats *mailerStats
		if fn == "mailer" {
			stats = sys.mailerStats
		}
		return newEMFSink(o.Logs, sys.Metrics, stats, sys.Logs.Stream(LogGroup(fn)))
	}
	mailerCfg := mailer.Config{DLQURL: dlqURL, FromAddress: FromAddress, Concurrency: 10, ConfigurationSet: EventsConfigurationSet,
		RetryBudget: o.MailerRetryBudget, MetricsNamespace: MetricsNamespace, MaxReceives: MaxReceiveCnt}
	feedbackCfg := feedbackConfig(b.keyARN, keyCfg.KeyRefresh)
	tokensCfg := triggers.TokensConfig{Common: common, Tenants: tenants}
	senderCfg := sender.Config{LogLevel: slog.LevelInfo, QueueURL: queueURL, DLQURL: dlqURL, KMSKeyARN: sys.CustomSenderKeyARN,
		UserPoolID: PoolID, InvitationValidDays: 7, Tenants: tenants, MFACodeTTL: 3 * time.Minute}
	if err := senderCfg.Validate(); err != nil {
		return err
	}
	kmsClient := kms.NewFromConfig(awsCfg)
	var define, create, verify, rotate, tokens, senderFn lambda.Handler
	var mailerFn esm.Function
	var feedbackFn snslocal.Function
	if o.FunctionsDir != "" {
		fns, err := sys.startFunctions(o, defineCfg, createCfg, verifyCfg, mailerCfg, senderCfg, dirBundle, logs)
		if err != nil {
			return err
		}
		define, create, verify, mailerFn, rotate, tokens, senderFn = fns[0], fns[1], fns[2], fns[3], fns[4], fns[5], fns[6]
		feedbackFn, err = sys.startFeedback(o, feedbackCfg, logs)
		if err != nil {
			return err
		}
	} else {
		if feedbackFn, err = inProcessFeedback(ctx, feedbackCfg, awsCfg, logs("feedback")); err != nil {
			return err
		}
		dec, err := ciphertext.NewDecrypter(kmsClient, ciphertext.DecrypterConfig{KeyARN: sys.CustomSenderKeyARN, UserPoolID: PoolID})
		if err != nil {
			return fmt.Errorf("otp-local: custom email sender: %w", err)
		}
		q := queue.New(awsCfg, queueURL)
		senderFn = lambdart.NewInProcess(sender.New(senderCfg, dec, q, q.Client, logs("sender")).Handle)
		rings := make([]*triggers.Keyring, 3)
		for i := range rings {
			if rings[i], err = keyring(); err != nil {
				return fmt.Errorf("otp-local: HMAC key: %w", err)
			}
		}
		define = lambdart.NewInProcess(triggers.NewDefine(defineCfg, rings[0], sys.Budget, logs("define")).Handle)
		create = lambdart.NewInProcess(triggers.NewCreate(createCfg, rings[1], queue.New(awsCfg, queueURL), sys.Budget, logs("create")).Handle)
		verify = lambdart.NewInProcess(triggers.NewVerify(verifyCfg, rings[2], sys.Budget, logs("verify")).Handle)
		h := mailer.New(mailerCfg, awsCfg, tmpl, logs("mailer"))
		tmpl.ReportTo(h.Log, h.Metrics)
		mailerFn = lambdart.NewInProcess(h.Handle)
		rotate = lambdart.NewInProcess(smsecret.Rotator{Client: secretsmanager.NewFromConfig(awsCfg), Log: triggers.NewLogger(logs("rotate"), slog.LevelInfo)}.Handle)
		tokens = lambdart.NewInProcess(triggers.NewTokens(tokensCfg, triggers.NewLogger(logs("tokens"), slog.LevelInfo)).Handle)
	}
	if err := sys.subscribeFeedback(feedbackFn); err != nil {
		return err
	}
	sys.Cognito.SetTriggers(cognitoidp.Triggers{Define: define, Create: create, Verify: verify, PreTokenGeneration: tokens})
	// Cognito's side of the custom email sender: every email the pool
	// sends, its secret encrypted as Cognito does, under the pool's key.
	enc, err := ciphertext.NewEncryptor(kmsClient, ciphertext.EncryptorConfig{KeyARN: sys.CustomSenderKeyARN, UserPoolID: PoolID})
	if err != nil {
		return fmt.Errorf("otp-local: custom email sender: %w", err)
	}
	sys.sender = senderFn
	sys.Cognito.SetEmailSender(&cognitoidp.EmailSender{Function: senderFn, Encryptor: enc, RetryDelays: o.SenderRetryDelays})
	sys.Secrets.SetRotationFunction(RotateFunctionARN, rotate)

	sqsClient := sqs.NewFromConfig(awsCfg)
	mapping := o.Mapping
	mapping.QueueURL, mapping.QueueARN, mapping.Region = queueURL, sys.SQS.QueueARN(SendQueue), awslocal.Region
	sys.Mapping = &esm.Poller{Config: mapping, SQS: sqsClient, Function: mailerFn,
		Log: slog.New(slog.NewJSONHandler(o.Logs, nil))}
	sys.publishMailer(mailerCfg) // account.go: Lambda's API reports the mapping and the mailer
	sys.queues = ops.Queues{Client: sqsClient, SendQueue: queueURL, DeadLetterQueue: dlqURL, ShortPoll: true}
	return nil
}

// budgetConfig is the failure budget the triggers get: the Lambdas'
// defaults unless the options shrink them.
func budgetConfig(o Options) triggers.BudgetConfig {
	p, d := o.Budget, budget.DefaultPolicy
	return triggers.BudgetConfig{
		// The longest deadline the triggers accept: dynalite is one Node.js
		// process on a machine that also runs every client and function,
		// where DynamoDB answers in milliseconds.
		BudgetTable: BudgetTable, BudgetTimeout: 2 * time.Second, BudgetFailOpen: o.BudgetFailOpen,
		BackoffAfter: or(p.BackoffAfter, d.BackoffAfter), BackoffBase: orDur(p.BackoffBase, d.BackoffBase),
		BackoffMax: orDur(p.BackoffMax, d.BackoffMax), MaxFailures: or(p.MaxFailures, d.MaxFailures),
		MaxCodesPerHour: or(p.CodesPerWindow, d.CodesPerWindow),
	}
}

func or(v, def int) int {
	if v == 0 {
		return def
	}
	return v
}

func orDur(v, def time.Duration) time.Duration {
	if v == 0 {
		return def
	}
	return v
}

func (sys *System) routes(o Options, b built) http.Handler {
	mux := http.NewServeMux()
	outbox := sys.SES.OutboxHandler("/outbox")
	mux.Handle("/outbox", outbox)
	mux.Handle("/outbox/", outbox)
	mux.Handle("/v2/email/", sys.SES)
	mux.Handle("/"+PoolID+"/", sys.Cognito)
	mux.Handle(esm.APIPathPrefix, sys.lambdaAPI()) // Lambda: the mapping and the mailer (account.go)
	opsPage := web.Ops(sys)
	mux.Handle("/ops", opsPage)
	mux.Handle("/ops/", opsPage)
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, _ *http.Request) { _, _ = w.Write([]byte("ok\n")) })
	signIn := web.SignIn(o.Seed.signInConfig(b.lib))
	mux.Handle("/", signIn)
	// AWS APIs share the root path and differ by X-Amz-Target, as they do
	// behind a single LocalStack-style endpoint.
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !loopbackHost(r.Host) {
			http.Error(w, "otp-local answers only requests for 127.0.0.1, [::1] or localhost, not "+r.Host, http.StatusMisdirectedRequest)
			return
		}
		target := r.Header.Get("X-Amz-Target")
		switch {
		case sys.S3.IsRequest(r):
			// First: S3's paths are bucket names, and its requests carry no
			// X-Amz-Target; the SigV4 scope (or the bucket) says it is S3.
			sys.S3.ServeHTTP(w, r)
		case sys.STS.IsRequest(r):
			sys.STS.ServeHTTP(w, r)
		case strings.HasPrefix(target, sqslocal.TargetPrefix):
			sys.SQS.ServeHTTP(w, r)
		case sqslocal.IsQueryRequest(r):
			// SQS's Query protocol has no X-Amz-Target: awscli 2.9, boto3
			// 1.26 and aws-sdk-go v1 < 1.47.6 speak only it.
			sys.SQS.ServeHTTP(w, r)
		case strings.HasPrefix(target, cognitoidp.TargetPrefix):
			sys.Cognito.ServeHTTP(w, r)
		case strings.HasPrefix(target, dynamolocal.TargetPrefix):
			sys.DynamoDB.ServeHTTP(w, r)
		case strings.HasPrefix(target, secretslocal.TargetPrefix):
			sys.Secrets.ServeHTTP(w, r)
		case strings.HasPrefix(target, kmslocal.TargetPrefix):
			sys.KMS.ServeHTTP(w, r)
		case strings.HasPrefix(target, logslocal.TargetPrefix):
			sys.logsServer.ServeHTTP(w, r)
		case cloudwatchlocal.IsRequest(r):
			// CloudWatch: Smithy RPC v2 CBOR names the operation in the
			// path, not in X-Amz-Target; its JSON and Query forms land
			// there too, to be told what otp-local serves.
			sys.cloudWatch.ServeHTTP(w, r)
		case r.Method == http.MethodOptions && r.Header.Get("Access-Control-Request-Method") != "":
			sys.Cognito.ServeHTTP(w, r) // CORS preflight from a page on another origin
		default:
			mux.ServeHTTP(w, r)
		}
	})
}

// Close stops serving and polling, and the function processes.
func (sys *System) Close() error {
	sys.cancel()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	err := sys.http.Shutdown(ctx)
	sys.wg.Wait()
	sys.closeChildren()
	if errors.Is(err, http.ErrServerClosed) {
		err = nil
	}
	return err
}

// closeChildren stops what runs beside the HTTP server: the function
// processes and dynalite.
func (sys *System) closeChildren() {
	if sys.SNS != nil {
		sys.SNS.Close() // retries waiting for a function that is going away
	}
	for _, rt := range sys.runtimes {
		_ = rt.Close()
	}
	if sys.DynamoDB != nil {
		_ = sys.DynamoDB.Close()
	}
	if sys.Secrets != nil {
		sys.Secrets.Close() // rotations in flight call this process's endpoint
	}
	if sys.S3 != nil {
		_ = sys.S3.Close()
	}
	for _, dir := range sys.tempDirs {
		_ = os.RemoveAll(dir)
	}
}

// Queues is the send queue and its DLQ, for operators' tools.
func (sys *System) Queues() ops.Queues { return sys.queues }
