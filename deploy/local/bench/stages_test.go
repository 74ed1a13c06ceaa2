package bench_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-lambda-go/lambda"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	sqstypes "github.com/aws/aws-sdk-go-v2/service/sqs/types"

	"github.com/cognito-email-otp/cognito-email-otp/deploy/local/awslocal"
	"github.com/cognito-email-otp/cognito-email-otp/deploy/local/bench"
	"github.com/cognito-email-otp/cognito-email-otp/deploy/local/dynamolocal"
	"github.com/cognito-email-otp/cognito-email-otp/deploy/local/lambdart"
	"github.com/cognito-email-otp/cognito-email-otp/deploy/local/otplocal"
	"github.com/cognito-email-otp/cognito-email-otp/deploy/local/seslocal"
	"github.com/cognito-email-otp/cognito-email-otp/deploy/local/sqslocal"
	"github.com/cognito-email-otp/cognito-email-otp/mailer"
	"github.com/cognito-email-otp/cognito-email-otp/mailer/contract"
	"github.com/cognito-email-otp/cognito-email-otp/mailer/queue"
	"github.com/cognito-email-otp/cognito-email-otp/templates"
	"github.com/cognito-email-otp/cognito-email-otp/triggers"
	"github.com/cognito-email-otp/cognito-email-otp/triggers/budget/dynamostore"
)

// sesLatency is a realistic SES v2 SendEmail round trip from Lambda.
const sesLatency = 80 * time.Millisecond

// BenchmarkCreateTrigger times the Create Auth Challenge handler, invoked
// with Cognito's event JSON as the Lambda runtime would, in two designs:
//
//   - enqueue: this project's, which puts a send request on SQS
//     (otp-local's, over loopback) and returns;
//   - send-inline: the baseline that renders and sends the email with SES v2
//     inside the trigger (otp-local's SES, with 80 ms of latency), which is
//     what the sign-in would wait for without the queue.
//
// Besides ns/op it reports p50 and p99 in milliseconds; benchstat compares
// the two sub-benchmarks.
func BenchmarkCreateTrigger(b *testing.B) {
	event, err := os.ReadFile("../../../triggers/testdata/create-auth-challenge.json")
	if err != nil {
		b.Fatal(err)
	}
	keys, err := triggers.NewKeyring(bytes.Repeat([]byte{7}, triggers.MinKeyBytes), nil)
	if err != nil {
		b.Fatal(err)
	}
	// The benchmark signs the same user in again and again, so the budget's
	// hourly code limit is lifted; every invocation still reads and writes
	// the budget in DynamoDB, as on AWS.
	budgetCfg := triggers.BudgetConfig{BudgetTable: otplocal.BudgetTable, BudgetTimeout: time.Second, BackoffAfter: 10,
		BackoffBase: time.Minute, BackoffMax: time.Hour, MaxFailures: 100, MaxCodesPerHour: 1 << 30}
	cfg := triggers.CreateConfig{Limits: triggers.Limits{MaxWrongAnswers: 3, MaxResends: 2, ResendCooldown: 30 * time.Second},
		BudgetConfig: budgetCfg, CodeLength: 6, CodeTTL: 3 * time.Minute, AuthSessionValidity: 3 * time.Minute,
		QueueURL: "set below", RequireVerifiedEmail: true}
	ledger := triggers.NewLedger(budgetCfg, startDynamoDB(b))

	sqsURL, queueURL := startSQS(b)
	cfg.QueueURL = queueURL
	enqueue := queue.SQS{Client: sqs.NewFromConfig(awslocal.Config(sqsURL)), URL: queueURL}

	ses := startSES(b, seslocal.Faults{Latency: sesLatency})
	lib, err := templates.Load(templates.Embedded())
	if err != nil {
		b.Fatal(err)
	}
	inline := sendInline{h: mailer.New(mailer.Config{DLQURL: queueURL, FromAddress: otplocal.FromAddress, Concurrency: 1,
		RetryBudget: time.Second}, awslocal.Config(ses.url), templates.ForMailer(lib), io.Discard)}

	for _, design := range []struct {
		name string
		q    triggers.Enqueuer
	}{{"enqueue", enqueue}, {"send-inline", inline}} {
		b.Run(design.name, func(b *testing.B) {
			h := lambda.NewHandler(triggers.NewCreate(cfg, keys, design.q, ledger, io.Discard).Handle)
			ctx := context.Background()
			if _, err := h.Invoke(ctx, event); err != nil { // connections warm, as in a warm Lambda
				b.Fatal(err)
			}
			times := make([]time.Duration, 0, b.N)
			b.ReportAllocs()
			for b.Loop() {
				start := time.Now()
				out, err := h.Invoke(ctx, event)
				times = append(times, time.Since(start))
				if err != nil || !bytes.Contains(out, []byte(`"privateChallengeParameters":{`)) {
					b.Fatalf("invoke: %v %s", err, out)
				}
			}
			p := bench.Summarize(times)
			b.ReportMetric(ms(p.P50), "p50-ms")
			b.ReportMetric(ms(p.P99), "p99-ms")
		})
	}
}

// sendInline is the synchronous baseline: the mailer's own render and SES
// send, run inside the trigger for one request.
type sendInline struct{ h *mailer.Handler }

func (s sendInline) Enqueue(ctx context.Context, r contract.SendRequest) error {
	body, err := r.Encode()
	if err != nil {
		return err
	}
	resp, err := s.h.Handle(ctx, events.SQSEvent{Records: []events.SQSMessage{{
		MessageId: r.ID, Body: string(body),
		Attributes: map[string]string{"ApproximateReceiveCount": "1", "SentTimestamp": strconv.FormatInt(time.Now().UnixMilli(), 10)},
	}}})
	if err != nil {
		return err
	}
	if len(resp.BatchItemFailures) > 0 {
		return errors.New("inline send failed")
	}
	return nil
}

type sesServer struct {
	srv *seslocal.Server
	url string
}

func startSES(tb testing.TB, f seslocal.Faults) sesServer {
	tb.Helper()
	srv, err := seslocal.New(seslocal.Options{Faults: f})
	if err != nil {
		tb.Fatal(err)
	}
	hs := httptest.NewServer(srv)
	tb.Cleanup(hs.Close)
	return sesServer{srv: srv, url: hs.URL}
}

// startDynamoDB starts dynalite with the budget's table.
func startDynamoDB(tb testing.TB) dynamostore.Store {
	tb.Helper()
	srv, err := dynamolocal.Start(context.Background(), dynamolocal.Options{})
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { _ = srv.Close() })
	cfg := awslocal.Config(srv.Endpoint)
	if err := dynamostore.CreateTable(context.Background(), dynamodb.NewFromConfig(cfg), otplocal.BudgetTable); err != nil {
		tb.Fatal(err)
	}
	return dynamostore.New(cfg, otplocal.BudgetTable)
}

func startSQS(tb testing.TB) (endpoint, queueURL string) {
	tb.Helper()
	local := sqslocal.New(sqslocal.Options{})
	hs := httptest.NewServer(local)
	tb.Cleanup(func() { local.Close(); hs.Close() })
	q, err := sqs.NewFromConfig(awslocal.Config(hs.URL)).CreateQueue(context.Background(), &sqs.CreateQueueInput{QueueName: aws.String("otp-send")})
	if err != nil {
		tb.Fatal(err)
	}
	return hs.URL, aws.ToString(q.QueueUrl)
}

var (
	buildOnce sync.Once
	builtDir  string
	buildErr  error
)

// functionsDir builds the four Lambda binaries for this machine once per
// test binary.
func functionsDir(tb testing.TB) string {
	tb.Helper()
	buildOnce.Do(func() {
		if builtDir, buildErr = os.MkdirTemp("", "otp-bench-functions-"); buildErr == nil {
			buildErr = otplocal.BuildFunctions(builtDir)
		}
	})
	if buildErr != nil {
		tb.Fatal(buildErr)
	}
	return builtDir
}

// BenchmarkPipeline pushes 10,000 send requests onto otp-local's SQS queue
// and times them through the event source mapping, the real mailer binary
// (two execution environments behind a Lambda Runtime API) and SES into
// the outbox. It reports emails/s, lost (must be 0) and the mailer's peak
// RSS. One op is one email.
func BenchmarkPipeline(b *testing.B) {
	const messages = 10_000
	dir := functionsDir(b)
	for range b.N {
		sys := startSystem(b, otplocal.Options{FunctionsDir: dir, Instances: 2})
		client := sqs.NewFromConfig(awslocal.Config(sys.URL))
		queueURL := sys.Queues().SendQueue
		ctx := context.Background()
		if err := enqueueRequests(ctx, client, queueURL, messages); err != nil {
			b.Fatal(err)
		}
		start := time.Now()
		b.ResetTimer()
		deadline, cancel := context.WithTimeout(ctx, 2*time.Minute)
		_, err := sys.SES.Outbox().Since(deadline, messages-1)
		cancel()
		elapsed := time.Since(start)
		b.StopTimer()
		sent := sys.SES.Outbox().Count()
		if err != nil || sent != messages {
			b.Fatalf("%d of %d emails reached the outbox: %v", sent, messages, err)
		}
		var rss int64
		for _, in := range sys.Functions()["mailer"] {
			rss = max(rss, in.PeakRSS)
		}
		b.ReportMetric(float64(elapsed.Nanoseconds())/messages, "ns/op")
		b.ReportMetric(messages/elapsed.Seconds(), "emails/s")
		b.ReportMetric(float64(messages-sent), "lost")
		b.ReportMetric(float64(rss)/1e6, "mailer-peak-RSS-MB")
		_ = sys.Close()
	}
}

func enqueueRequests(ctx context.Context, client *sqs.Client, queueURL string, n int) error {
	now := time.Now()
	for i := 0; i < n; i += 10 {
		var entries []sqstypes.SendMessageBatchRequestEntry
		for j := i; j < min(i+10, n); j++ {
			req := contract.SendRequest{V: contract.SendRequestVersion, Kind: contract.KindSignInCode, ID: fmt.Sprintf("bench-%06d", j), Tenant: []string{"default", "acme", "globex"}[j%3],
				Locale: []string{"en", "de", "fr-CA", "ja", "ar"}[j%5], To: fmt.Sprintf("p%06d@bench.otp-local.example", j), Name: "Bench Person",
				Code: contract.Code("123456"), IssuedAt: now, ExpiresAt: now.Add(10 * time.Minute)}
			body, err := req.Encode()
			if err != nil {
				return err
			}
			entries = append(entries, sqstypes.SendMessageBatchRequestEntry{Id: aws.String(strconv.Itoa(j)), MessageBody: aws.String(string(body))})
		}
		out, err := client.SendMessageBatch(ctx, &sqs.SendMessageBatchInput{QueueUrl: aws.String(queueURL), Entries: entries})
		if err != nil {
			return err
		}
		if len(out.Failed) > 0 {
			return fmt.Errorf("enqueue: %d entries failed", len(out.Failed))
		}
	}
	return nil
}

// BenchmarkColdStart starts each Lambda binary behind a Lambda Runtime API
// and times exec to its first request for work: what Lambda bills as Init
// Duration, on this machine. It also reports the stripped binary's size.
func BenchmarkColdStart(b *testing.B) {
	dir := functionsDir(b)
	for _, name := range []string{"define", "create", "verify", "mailer"} {
		b.Run(name, func(b *testing.B) {
			path := filepath.Join(dir, name, "bootstrap")
			st, err := os.Stat(path)
			if err != nil {
				b.Fatal(err)
			}
			times := make([]time.Duration, 0, b.N)
			for b.Loop() {
				rt, err := lambdart.Start(context.Background(), lambdart.Function{Name: name, Path: path, Env: coldStartEnv})
				if err != nil {
					b.Fatal(err)
				}
				times = append(times, rt.Instances()[0].Ready)
				_ = rt.Close()
			}
			p := bench.Summarize(times)
			b.ReportMetric(ms(p.P50), "ready-p50-ms")
			b.ReportMetric(ms(p.P99), "ready-p99-ms")
			b.ReportMetric(float64(st.Size())/1e6, "binary-MB")
		})
	}
}

// coldStartEnv is every function's required configuration; the endpoints
// are never called during start-up.
var coldStartEnv = []string{
	"AWS_REGION=us-east-1", "AWS_ACCESS_KEY_ID=bench", "AWS_SECRET_ACCESS_KEY=bench",
	"AWS_ENDPOINT_URL=http://127.0.0.1:9",
	"OTP_HMAC_KEY=" + string(bytes.Repeat([]byte("k"), 44)),
	"OTP_QUEUE_URL=http://127.0.0.1:9/000000000000/otp-send",
	"OTP_DLQ_URL=http://127.0.0.1:9/000000000000/otp-send-dlq",
	"OTP_FROM_ADDRESS=no-reply@example.com",
}
