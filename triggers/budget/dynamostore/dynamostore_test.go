package dynamostore_test

import (
	"context"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/cognito-email-otp/cognito-email-otp/deploy/local/dynamolocal"
	"github.com/cognito-email-otp/cognito-email-otp/triggers/budget"
	"github.com/cognito-email-otp/cognito-email-otp/triggers/budget/dynamostore"
)

// dynalite starts otp-local's DynamoDB (an existing implementation, not
// ours) and returns the real SDK client pointed at it, with the table made.
func dynalite(t *testing.T) (dynamostore.Store, *dynamodb.Client, *dynamolocal.Server) {
	t.Helper()
	srv, err := dynamolocal.Start(t.Context(), dynamolocal.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = srv.Close() })
	cfg := aws.Config{Region: "us-east-1", Credentials: credentials.NewStaticCredentialsProvider("otp-local", "otp-local", ""), BaseEndpoint: aws.String(srv.Endpoint)}
	store := dynamostore.New(cfg, "otp-budget")
	client := dynamodb.NewFromConfig(cfg)
	if err := dynamostore.CreateTable(t.Context(), client, "otp-budget"); err != nil {
		t.Fatal(err)
	}
	if err := dynamostore.CreateTable(t.Context(), client, "otp-budget"); err != nil {
		t.Fatalf("creating the table twice must be fine: %v", err)
	}
	return store, client, srv
}

func TestStoreRoundTripAndConditions(t *testing.T) {
	store, client, _ := dynalite(t)
	ctx := t.Context()
	s, v, err := store.Load(ctx, "sub-1")
	if err != nil || v != 0 || s != (budget.State{}) {
		t.Fatalf("no item: %+v v%d %v", s, v, err)
	}
	want := budget.State{Failures: 3, LockedUntil: time.UnixMilli(1_795_000_000_123).UTC(), Live: "challenge-1",
		LiveExpires: time.Unix(1_795_000_180, 0).UTC(), WindowStart: time.Unix(1_795_000_000, 0).UTC(), WindowCodes: 2}
	if err := store.Save(ctx, "sub-1", want, time.Time{}, 0); err != nil {
		t.Fatal(err)
	}
	got, v, err := store.Load(ctx, "sub-1")
	if err != nil || v != 1 || got != want {
		t.Fatalf("loaded %+v v%d %v, want %+v v1", got, v, err, want)
	}
	// A writer that read before this one's save loses, as DynamoDB's
	// ConditionalCheckFailedException says.
	if err := store.Save(ctx, "sub-1", want, time.Time{}, 0); err != budget.ErrConflict {
		t.Errorf("save over an existing item with version 0: %v, want ErrConflict", err)
	}
	if err := store.Save(ctx, "sub-1", want, time.Time{}, 7); err != budget.ErrConflict {
		t.Errorf("save with a stale version: %v, want ErrConflict", err)
	}
	// Clearing the live code and setting a TTL removes and adds attributes.
	cleared := budget.State{WindowStart: want.WindowStart, WindowCodes: 2}
	ttl := time.Unix(1_795_003_600, 0)
	if err := store.Save(ctx, "sub-1", cleared, ttl, 1); err != nil {
		t.Fatal(err)
	}
	out, err := client.GetItem(ctx, &dynamodb.GetItemInput{TableName: aws.String("otp-budget"), ConsistentRead: aws.Bool(true),
		Key: map[string]types.AttributeValue{dynamostore.KeyAttribute: &types.AttributeValueMemberS{Value: dynamostore.Key("sub-1")}}})
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := out.Item["live"]; ok {
		t.Error("the live attribute is still there after the code was cleared")
	}
	if n, ok := out.Item[dynamostore.AttrTTL].(*types.AttributeValueMemberN); !ok || n.Value != "1795003601" {
		t.Errorf("ttl attribute %v, want 1795003601", out.Item[dynamostore.AttrTTL])
	}
	if got, _, _ := store.Load(ctx, "sub-1"); got != cleared {
		t.Errorf("loaded %+v, want %+v", got, cleared)
	}
}

// TestConcurrentSignInsNeverExceedTheBudget: 20 sign-ins of one user race
// their wrong answers through the real SDK against DynamoDB's conditional
// writes; the answers allowed to be compared stop exactly at the budget.
func TestConcurrentSignInsNeverExceedTheBudget(t *testing.T) {
	store, _, _ := dynalite(t)
	p := budget.Policy{BackoffAfter: 25, BackoffBase: time.Hour, BackoffMax: time.Hour, MaxFailures: 25, CodesPerWindow: 10, CodeWindow: time.Hour}
	ledger := &budget.Ledger{Policy: p, Store: store}
	ctx := context.Background()
	if _, err := ledger.Issue(ctx, "sub-racer", "c1", time.Now().Add(time.Hour)); err != nil {
		t.Fatal(err)
	}
	var allowed, refused, failed atomic.Int64
	var wg sync.WaitGroup
	for range 20 {
		wg.Go(func() {
			for range 3 {
				st, err := ledger.Reserve(ctx, "sub-racer", "c1")
				switch {
				case err != nil:
					failed.Add(1) // fails closed: not compared either
				case st.Refused == "":
					allowed.Add(1)
				default:
					refused.Add(1)
				}
			}
		})
	}
	wg.Wait()
	if allowed.Load() > 25 {
		t.Fatalf("%d answers allowed to be compared, the budget is 25", allowed.Load())
	}
	if allowed.Load() != 25 {
		t.Errorf("%d answers allowed (%d refused, %d store errors), want the whole budget of 25 used", allowed.Load(), refused.Load(), failed.Load())
	}
	s, err := ledger.Inspect(ctx, "sub-racer")
	if err != nil || s.Failures != 25 {
		t.Errorf("stored failures %d, %v; want 25", s.Failures, err)
	}
}

func TestUnreachableTableFailsWithinTheDeadline(t *testing.T) {
	store, _, srv := dynalite(t)
	srv.Kill()
	ledger := &budget.Ledger{Policy: budget.DefaultPolicy, Store: store}
	ctx, cancel := context.WithTimeout(context.Background(), time.Second)
	defer cancel()
	start := time.Now()
	_, err := ledger.Reserve(ctx, "sub-1", "c1")
	if err == nil {
		t.Fatal("a dead table answered")
	}
	if d := time.Since(start); d > 1500*time.Millisecond {
		t.Errorf("gave up after %s, want within the 1 s deadline", d)
	}
}
