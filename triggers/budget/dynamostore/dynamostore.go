// Package dynamostore keeps the failure budget in a DynamoDB table: one item
// per user, written with conditional UpdateItem calls on a version number,
// so concurrent sign-ins of one user never lose a count. The table has a
// string partition key "pk" and a TTL attribute "ttl" (deploy/template.yaml).
package dynamostore

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/aws/retry"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/cognito-email-otp/cognito-email-otp/triggers/budget"
)

// API is the DynamoDB calls the store makes.
type API interface {
	GetItem(ctx context.Context, in *dynamodb.GetItemInput, opts ...func(*dynamodb.Options)) (*dynamodb.GetItemOutput, error)
	UpdateItem(ctx context.Context, in *dynamodb.UpdateItemInput, opts ...func(*dynamodb.Options)) (*dynamodb.UpdateItemOutput, error)
}

// Store implements budget.Store.
type Store struct {
	Client API
	Table  string
	// Timeout bounds each call, so that a slow table fails the code step
	// well inside Cognito's five seconds for a trigger.
	Timeout time.Duration
}

// Attribute names. Short, since every sign-in reads and writes them.
const (
	attrKey         = "pk"
	attrFailures    = "fails"
	attrLockedUntil = "lockedUntil" // Unix milliseconds
	attrLive        = "live"
	attrLiveExpires = "liveExp" // Unix seconds
	attrWindowStart = "winStart"
	attrWindowCodes = "winCodes"
	attrVersion     = "ver"
	attrUpdatedAt   = "updatedAt"
	// AttrTTL is the table's TTL attribute (Unix seconds).
	AttrTTL = "ttl"
	// KeyAttribute is the table's partition key.
	KeyAttribute = attrKey
)

// Key is the item key of a user: the sub, prefixed so the table could hold
// other kinds of record later.
func Key(user string) string { return "user#" + user }

func (s Store) call(ctx context.Context) (context.Context, context.CancelFunc) {
	if s.Timeout <= 0 {
		return ctx, func() {}
	}
	return context.WithTimeout(ctx, s.Timeout)
}

// Load reads the user's item with a strongly consistent read: an eventually
// consistent one could miss the failure just counted.
func (s Store) Load(ctx context.Context, user string) (budget.State, budget.Version, error) {
	ctx, cancel := s.call(ctx)
	defer cancel()
	out, err := s.Client.GetItem(ctx, &dynamodb.GetItemInput{
		TableName:      aws.String(s.Table),
		Key:            map[string]types.AttributeValue{attrKey: &types.AttributeValueMemberS{Value: Key(user)}},
		ConsistentRead: aws.Bool(true),
	})
	if err != nil {
		return budget.State{}, 0, fmt.Errorf("dynamodb GetItem %s: %w", s.Table, err)
	}
	if len(out.Item) == 0 {
		return budget.State{}, 0, nil
	}
	return decode(out.Item)
}

func decode(item map[string]types.AttributeValue) (budget.State, budget.Version, error) {
	var st budget.State
	num := func(name string) (int64, error) {
		v, ok := item[name]
		if !ok {
			return 0, nil
		}
		n, ok := v.(*types.AttributeValueMemberN)
		if !ok {
			return 0, fmt.Errorf("attribute %s is not a number", name)
		}
		return strconv.ParseInt(n.Value, 10, 64)
	}
	var vals [6]int64
	for i, name := range []string{attrFailures, attrLockedUntil, attrLiveExpires, attrWindowStart, attrWindowCodes, attrVersion} {
		n, err := num(name)
		if err != nil {
			return st, 0, fmt.Errorf("decode budget item: %w", err)
		}
		vals[i] = n
	}
	st.Failures = int(vals[0])
	if vals[1] > 0 {
		st.LockedUntil = time.UnixMilli(vals[1]).UTC()
	}
	if vals[2] > 0 {
		st.LiveExpires = time.Unix(vals[2], 0).UTC()
	}
	if vals[3] > 0 {
		st.WindowStart = time.Unix(vals[3], 0).UTC()
	}
	st.WindowCodes = int(vals[4])
	if v, ok := item[attrLive].(*types.AttributeValueMemberS); ok {
		st.Live = v.Value
	}
	if vals[5] < 1 {
		return st, 0, errors.New("decode budget item: version missing")
	}
	return st, budget.Version(vals[5]), nil
}

// Save writes the whole record if its version is still prev.
func (s Store) Save(ctx context.Context, user string, st budget.State, ttl time.Time, prev budget.Version) error {
	ctx, cancel := s.call(ctx)
	defer cancel()
	n := func(v int64) types.AttributeValue {
		return &types.AttributeValueMemberN{Value: strconv.FormatInt(v, 10)}
	}
	unix := func(t time.Time) int64 {
		if t.IsZero() {
			return 0
		}
		return t.Unix()
	}
	lockedUntil := int64(0)
	if !st.LockedUntil.IsZero() {
		lockedUntil = st.LockedUntil.UnixMilli()
	}
	names := map[string]string{
		"#f": attrFailures, "#l": attrLockedUntil, "#le": attrLiveExpires, "#ws": attrWindowStart,
		"#wc": attrWindowCodes, "#v": attrVersion, "#u": attrUpdatedAt, "#live": attrLive, "#ttl": AttrTTL,
	}
	values := map[string]types.AttributeValue{
		":f": n(int64(st.Failures)), ":l": n(lockedUntil), ":le": n(unix(st.LiveExpires)), ":ws": n(unix(st.WindowStart)),
		":wc": n(int64(st.WindowCodes)), ":v": n(int64(prev) + 1), ":u": n(time.Now().Unix()),
	}
	set := "SET #f = :f, #l = :l, #le = :le, #ws = :ws, #wc = :wc, #v = :v, #u = :u"
	var remove []string
	if st.Live != "" {
		set += ", #live = :live"
		values[":live"] = &types.AttributeValueMemberS{Value: st.Live}
	} else {
		remove = append(remove, "#live")
	}
	if !ttl.IsZero() {
		set += ", #ttl = :ttl"
		// A second of slack: TTL compares whole seconds.
		values[":ttl"] = n(ttl.Unix() + 1)
	} else {
		remove = append(remove, "#ttl")
	}
	expr := set
	if len(remove) > 0 {
		expr += " REMOVE " + remove[0]
		for _, r := range remove[1:] {
			expr += ", " + r
		}
	}
	cond := "#v = :prev"
	if prev == 0 {
		cond = "attribute_not_exists(#v)"
	} else {
		values[":prev"] = n(int64(prev))
	}
	_, err := s.Client.UpdateItem(ctx, &dynamodb.UpdateItemInput{
		TableName:                 aws.String(s.Table),
		Key:                       map[string]types.AttributeValue{attrKey: &types.AttributeValueMemberS{Value: Key(user)}},
		UpdateExpression:          aws.String(expr),
		ConditionExpression:       aws.String(cond),
		ExpressionAttributeNames:  names,
		ExpressionAttributeValues: values,
	})
	var conflict *types.ConditionalCheckFailedException
	if errors.As(err, &conflict) {
		return budget.ErrConflict
	}
	if err != nil {
		return fmt.Errorf("dynamodb UpdateItem %s: %w", s.Table, err)
	}
	return nil
}

// New returns a store on table with a client whose retries stay inside a
// trigger's deadline: three attempts at most, backing off no more than
// 100 ms, where the SDK's default for DynamoDB would wait seconds.
func New(cfg aws.Config, table string) Store {
	client := dynamodb.NewFromConfig(cfg, func(o *dynamodb.Options) {
		o.Retryer = retry.NewStandard(func(so *retry.StandardOptions) {
			so.MaxAttempts = 3
			so.MaxBackoff = 100 * time.Millisecond
		})
	})
	return Store{Client: client, Table: table}
}

// CreateTableAPI creates the table; otp-local and tests create it as the
// SAM template does on AWS.
type CreateTableAPI interface {
	CreateTable(ctx context.Context, in *dynamodb.CreateTableInput, opts ...func(*dynamodb.Options)) (*dynamodb.CreateTableOutput, error)
}

// CreateTable creates the budget table as deploy/template.yaml declares it:
// a string partition key, on-demand billing. An existing table is fine.
func CreateTable(ctx context.Context, c CreateTableAPI, table string) error {
	_, err := c.CreateTable(ctx, &dynamodb.CreateTableInput{
		TableName:            aws.String(table),
		BillingMode:          types.BillingModePayPerRequest,
		AttributeDefinitions: []types.AttributeDefinition{{AttributeName: aws.String(attrKey), AttributeType: types.ScalarAttributeTypeS}},
		KeySchema:            []types.KeySchemaElement{{AttributeName: aws.String(attrKey), KeyType: types.KeyTypeHash}},
	})
	var inUse *types.ResourceInUseException
	if err != nil && !errors.As(err, &inUse) {
		return fmt.Errorf("create table %s: %w", table, err)
	}
	return nil
}
