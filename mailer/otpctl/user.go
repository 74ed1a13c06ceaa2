package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	cip "github.com/aws/aws-sdk-go-v2/service/cognitoidentityprovider"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"

	"github.com/cognito-email-otp/cognito-email-otp/triggers"
	"github.com/cognito-email-otp/cognito-email-otp/triggers/budget"
	"github.com/cognito-email-otp/cognito-email-otp/triggers/budget/dynamostore"
	smsecret "github.com/cognito-email-otp/cognito-email-otp/triggers/secret"
)

// otp-local's names, the defaults when nothing else is configured.
const (
	localPoolID      = "us-east-1_OtpLocal1"
	localBudgetTable = "otp-budget"
	localHMACSecret  = "otp/hmac-key"
)

// userFlags reach the failure budget's table and, to turn an email address
// into the sub the budget is kept by, the user pool.
type userFlags struct {
	pool, table, hmacSecret *string
	maxFailures             *int
}

func addUserFlags(fs *flag.FlagSet) userFlags {
	return userFlags{
		pool:  fs.String("user-pool", envOr("OTP_USER_POOL_ID", localPoolID), "user pool id, to look up an email address; env OTP_USER_POOL_ID"),
		table: fs.String("table", envOr("OTP_BUDGET_TABLE", localBudgetTable), "the failure budget's DynamoDB table; env OTP_BUDGET_TABLE"),
		hmacSecret: fs.String("hmac-secret", envOr("OTP_HMAC_SECRET_ARN", localHMACSecret),
			"the HMAC key's Secrets Manager secret, to print the user's log pseudonym; env OTP_HMAC_SECRET_ARN"),
		maxFailures: fs.Int("max-failures", envInt("OTP_MAX_FAILURES", budget.NISTMaxFailures),
			"the deployment's OTP_MAX_FAILURES, to tell a locked account from one backing off; env OTP_MAX_FAILURES"),
	}
}

// resolve returns the user's sub: the argument itself, or the sub of the
// user whose email (username) it is.
func (f userFlags) resolve(ctx context.Context, cfg aws.Config, user string) (string, error) {
	if !strings.Contains(user, "@") {
		return user, nil
	}
	out, err := cip.NewFromConfig(cfg).AdminGetUser(ctx, &cip.AdminGetUserInput{UserPoolId: f.pool, Username: aws.String(user)})
	if err != nil {
		return "", fmt.Errorf("look up %s in user pool %s: %w", user, *f.pool, err)
	}
	for _, a := range out.UserAttributes {
		if aws.ToString(a.Name) == "sub" {
			return aws.ToString(a.Value), nil
		}
	}
	return "", fmt.Errorf("user %s has no sub attribute", user)
}

func (f userFlags) ledger(cfg aws.Config) *budget.Ledger {
	// The policy does not matter for reading and resetting a record.
	return &budget.Ledger{Policy: budget.DefaultPolicy, Store: dynamostore.New(cfg, *f.table)}
}

// userStanding is what otpctl shows of one user's budget.
type userStanding struct {
	Sub         string    `json:"sub"`
	Failures    int       `json:"failures"`
	LockedUntil time.Time `json:"lockedUntil,omitzero"`
	Locked      bool      `json:"locked"` // at the budget's end: only an unlock helps
	LiveCode    bool      `json:"liveCode"`
	LiveExpires time.Time `json:"liveExpires,omitzero"`
	CodesHour   int       `json:"codesThisHour"`
	// LogUser is the user field of the triggers' log lines under the
	// current key (and LogUserBefore under the previous one), for a search.
	LogUser       string `json:"logUser,omitempty"`
	LogUserBefore string `json:"logUserBeforeRotation,omitempty"`
	LogUserError  string `json:"logUserError,omitempty"`
}

// pseudonyms returns the user's log pseudonym under the current and the
// previous HMAC key.
func (f userFlags) pseudonyms(ctx context.Context, cfg aws.Config, sub string) (current, previous string, err error) {
	cur, prev, err := smsecret.Source{Client: secretsmanager.NewFromConfig(cfg), ID: *f.hmacSecret}.Keys(ctx)
	if err != nil {
		return "", "", err
	}
	current = triggers.Pseudonym(cur, sub)
	if len(prev) > 0 {
		previous = triggers.Pseudonym(prev, sub)
	}
	return current, previous, nil
}

func envInt(key string, def int) int {
	if n, err := strconv.Atoi(os.Getenv(key)); err == nil {
		return n
	}
	return def
}

func standing(sub string, s budget.State, maxFailures int, now time.Time) userStanding {
	u := userStanding{Sub: sub, Failures: s.Failures, Locked: s.Failures >= maxFailures}
	if now.Before(s.LockedUntil) {
		u.LockedUntil = s.LockedUntil
	}
	if s.Live != "" && now.Before(s.LiveExpires) {
		u.LiveCode, u.LiveExpires = true, s.LiveExpires
	}
	if now.Before(s.WindowStart.Add(time.Hour)) {
		u.CodesHour = s.WindowCodes
	}
	return u
}

func userStatus(fs *flag.FlagSet) func(context.Context, env, []string) int {
	uf := addUserFlags(fs)
	return func(ctx context.Context, e env, args []string) int {
		if len(args) != 1 {
			return usageError(e, "user status takes one user: an email address or a sub")
		}
		cfg, err := e.aws.config(ctx)
		if err != nil {
			return fail(e, err)
		}
		sub, err := uf.resolve(ctx, cfg, args[0])
		if err != nil {
			return fail(e, err)
		}
		s, err := uf.ledger(cfg).Inspect(ctx, sub)
		if err != nil {
			return fail(e, err)
		}
		u := standing(sub, s, *uf.maxFailures, time.Now())
		if cur, prev, err := uf.pseudonyms(ctx, cfg, sub); err != nil {
			u.LogUserError = err.Error()
		} else {
			u.LogUser, u.LogUserBefore = cur, prev
		}
		if e.json {
			writeJSON(e.stdout, u)
			return exitOK
		}
		w := tabwriter.NewWriter(e.stdout, 0, 4, 2, ' ', 0)
		fmt.Fprintf(w, "user\t%s\n", sub)
		fmt.Fprintf(w, "failed code steps\t%d in a row\n", u.Failures)
		switch {
		case u.Locked:
			fmt.Fprintf(w, "code step\tlocked until an administrator unlocks it (otpctl user unlock %s)\n", args[0])
		case !u.LockedUntil.IsZero():
			fmt.Fprintf(w, "code step\tbacking off until %s (%s from now)\n", u.LockedUntil.Format(time.RFC3339), time.Until(u.LockedUntil).Round(time.Second))
		default:
			fmt.Fprintln(w, "code step\topen")
		}
		if u.LiveCode {
			fmt.Fprintf(w, "live code\tyes, until %s\n", u.LiveExpires.Format(time.RFC3339))
		} else {
			fmt.Fprintln(w, "live code\tnone")
		}
		fmt.Fprintf(w, "codes this hour\t%d\n", u.CodesHour)
		switch {
		case u.LogUserError != "":
			fmt.Fprintf(w, "in the logs\tunknown: cannot read the HMAC key (%s)\n", u.LogUserError)
		case u.LogUserBefore != "":
			fmt.Fprintf(w, "in the logs\tuser=%s (before the last key rotation: user=%s)\n", u.LogUser, u.LogUserBefore)
		default:
			fmt.Fprintf(w, "in the logs\tuser=%s\n", u.LogUser)
		}
		_ = w.Flush()
		return exitOK
	}
}

func userUnlock(fs *flag.FlagSet) func(context.Context, env, []string) int {
	uf := addUserFlags(fs)
	return func(ctx context.Context, e env, args []string) int {
		if len(args) != 1 {
			return usageError(e, "user unlock takes one user: an email address or a sub")
		}
		cfg, err := e.aws.config(ctx)
		if err != nil {
			return fail(e, err)
		}
		sub, err := uf.resolve(ctx, cfg, args[0])
		if err != nil {
			return fail(e, err)
		}
		before, err := uf.ledger(cfg).Reset(ctx, sub)
		if err != nil {
			return fail(e, err)
		}
		if e.json {
			writeJSON(e.stdout, map[string]any{"sub": sub, "failuresCleared": before.Failures})
			return exitOK
		}
		fmt.Fprintf(e.stdout, "unlocked %s: cleared %d failed code steps; the next sign-in gets a code\n", args[0], before.Failures)
		return exitOK
	}
}
