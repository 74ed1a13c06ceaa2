// Package signin plays a person signing in: the client side of the
// password (SRP) then emailed-code flow, with the real Cognito SDK client,
// and reading the code from otp-local's outbox. Tests and `otp-local bench`
// use it; it is what a mobile or web app does.
package signin

import (
	"context"
	"errors"
	"fmt"
	"regexp"
	"strings"
	"time"

	cognitosrp "github.com/alexrudd/cognito-srp/v4"
	"github.com/aws/aws-sdk-go-v2/aws"
	cip "github.com/aws/aws-sdk-go-v2/service/cognitoidentityprovider"
	"github.com/aws/aws-sdk-go-v2/service/cognitoidentityprovider/types"

	"github.com/cognito-email-otp/cognito-email-otp/deploy/local/seslocal"
)

// Client signs users in to one app client of a pool.
type Client struct {
	Cognito  *cip.Client
	PoolID   string
	ClientID string
}

// Attempt is one sign-in in progress.
type Attempt struct {
	c       Client
	email   string
	session *string
	// Params are the latest challenge's public parameters.
	Params map[string]string
	// Result holds the tokens once signed in.
	Result *types.AuthenticationResultType
	// PasswordAt is when the password step was sent: the request that
	// makes Cognito call the Create trigger, which enqueues the email.
	PasswordAt time.Time
}

// Start runs the password step: InitiateAuth with CUSTOM_AUTH and SRP_A,
// then PASSWORD_VERIFIER, as Amplify's CUSTOM_WITH_SRP does. It returns
// once the code has been requested.
func (c Client) Start(ctx context.Context, email, password string) (*Attempt, error) {
	srp, err := cognitosrp.NewCognitoSRP(email, password, c.PoolID, c.ClientID, nil)
	if err != nil {
		return nil, err
	}
	params := srp.GetAuthParams()
	params["CHALLENGE_NAME"] = "SRP_A"
	init, err := c.Cognito.InitiateAuth(ctx, &cip.InitiateAuthInput{AuthFlow: types.AuthFlowTypeCustomAuth, ClientId: aws.String(c.ClientID), AuthParameters: params})
	if err != nil {
		return nil, err
	}
	if init.ChallengeName != types.ChallengeNameTypePasswordVerifier {
		return nil, fmt.Errorf("sign-in: got challenge %q, want PASSWORD_VERIFIER", init.ChallengeName)
	}
	answer, err := srp.PasswordVerifierChallenge(init.ChallengeParameters, time.Now())
	if err != nil {
		return nil, err
	}
	passwordAt := time.Now()
	out, err := c.Cognito.RespondToAuthChallenge(ctx, &cip.RespondToAuthChallengeInput{ClientId: aws.String(c.ClientID),
		ChallengeName: types.ChallengeNameTypePasswordVerifier, Session: init.Session, ChallengeResponses: answer})
	if err != nil {
		return nil, err
	}
	return &Attempt{c: c, email: email, session: out.Session, Params: out.ChallengeParameters, Result: out.AuthenticationResult, PasswordAt: passwordAt}, nil
}

// Answer sends a code, or with meta {"otp_action":"resend"} asks for a new
// one. A wrong code is not an error: Params then says what is left.
func (a *Attempt) Answer(ctx context.Context, code string, meta map[string]string) error {
	if a.Result != nil {
		return errors.New("sign-in: already signed in")
	}
	out, err := a.c.Cognito.RespondToAuthChallenge(ctx, &cip.RespondToAuthChallengeInput{ClientId: aws.String(a.c.ClientID),
		ChallengeName: types.ChallengeNameTypeCustomChallenge, Session: a.session,
		ChallengeResponses: map[string]string{"USERNAME": a.email, "ANSWER": code}, ClientMetadata: meta})
	if err != nil {
		return err
	}
	a.session, a.Params, a.Result = out.Session, out.ChallengeParameters, out.AuthenticationResult
	return nil
}

// NewPassword answers Cognito's NEW_PASSWORD_REQUIRED, which follows the
// password step of a user with a temporary password (an invitation). The
// tokens Cognito then issues are refused by the pre token generation
// trigger (triggers.ErrSignInAgain), because they skipped the emailed
// code: the password is set all the same, and the user signs in again
// with it. That refusal is the expected answer, not an error.
func (a *Attempt) NewPassword(ctx context.Context, password string) error {
	if a.Params == nil || a.Result != nil {
		return errors.New("sign-in: no new password was asked for")
	}
	_, err := a.c.Cognito.RespondToAuthChallenge(ctx, &cip.RespondToAuthChallengeInput{ClientId: aws.String(a.c.ClientID),
		ChallengeName: types.ChallengeNameTypeNewPasswordRequired, Session: a.session,
		ChallengeResponses: map[string]string{"USERNAME": a.email, "NEW_PASSWORD": password}})
	var refused *types.UserLambdaValidationException
	if errors.As(err, &refused) && strings.Contains(aws.ToString(refused.Message), "new password is set") {
		return nil
	}
	if err == nil {
		return errors.New("sign-in: tokens were issued without the emailed code")
	}
	return err
}

// Resend asks for a new code.
func (a *Attempt) Resend(ctx context.Context) error {
	return a.Answer(ctx, "resend", map[string]string{"otp_action": "resend"})
}

var sixToTenDigits = regexp.MustCompile(`\b\d{6,10}\b`)

// CodeIn reads the code from an email's plain text, as a person would.
func CodeIn(e seslocal.Email) string { return sixToTenDigits.FindString(e.Text) }

// WaitEmail waits until `to` has at least n emails and returns the newest.
func WaitEmail(ctx context.Context, outbox *seslocal.Outbox, to string, n int) (seslocal.Email, error) {
	for {
		list := outbox.List(seslocal.Filter{To: to}) // newest first
		if len(list) >= n {
			return list[0], nil
		}
		known := make(map[string]bool, len(list))
		for _, e := range list {
			known[e.ID] = true
		}
		// Wait re-examines every email on each arrival; match only new ones.
		if _, err := outbox.Wait(ctx, func(e seslocal.Email) bool {
			return len(e.To) == 1 && e.To[0] == to && !known[e.ID]
		}); err != nil {
			return seslocal.Email{}, fmt.Errorf("email %d to %s: %w", n, to, err)
		}
	}
}
