package cognitoidp

import (
	"context"
	"encoding/json"
	"errors"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	cognitosrp "github.com/alexrudd/cognito-srp/v4"
	"github.com/aws/aws-sdk-go-v2/aws"
	cip "github.com/aws/aws-sdk-go-v2/service/cognitoidentityprovider"
	"github.com/aws/aws-sdk-go-v2/service/cognitoidentityprovider/types"
)

// TestNewPasswordRequired: an administrator creates a user with a
// temporary password. After the password step Cognito asks for a new
// password itself, without Define; answering it makes the user CONFIRMED
// and issues tokens through pre token generation as
// TokenGeneration_NewPasswordChallenge, so a trigger there can refuse them
// and send the user round the whole flow again.
func TestNewPasswordRequired(t *testing.T) {
	p := newPool(t)
	var sources []string
	var refuse atomic.Bool
	refuse.Store(true)
	handlers := p.triggers.handlers()
	handlers.PreTokenGeneration = invokeFunc(func(_ context.Context, payload []byte) ([]byte, error) {
		var ev struct {
			TriggerSource string `json:"triggerSource"`
		}
		_ = json.Unmarshal(payload, &ev)
		sources = append(sources, ev.TriggerSource)
		if refuse.Load() && ev.TriggerSource == "TokenGeneration_NewPasswordChallenge" {
			return nil, errors.New("sign in again")
		}
		return payload, nil
	})
	p.srv.SetTriggers(handlers)
	ctx := t.Context()
	if _, err := p.client.AdminCreateUser(ctx, &cip.AdminCreateUserInput{UserPoolId: aws.String(poolID), Username: aws.String("new@example.com"),
		TemporaryPassword: aws.String("temporary-pass-1"), UserAttributes: []types.AttributeType{{Name: aws.String("email_verified"), Value: aws.String("true")}}}); err != nil {
		t.Fatal(err)
	}
	definesBefore := len(p.triggers.events["define"])
	out, err := p.signIn(ctx, "new@example.com", "temporary-pass-1", nil)
	if err != nil {
		t.Fatal(err)
	}
	if out.ChallengeName != types.ChallengeNameTypeNewPasswordRequired || out.ChallengeParameters["requiredAttributes"] != "[]" ||
		!strings.Contains(out.ChallengeParameters["userAttributes"], "new@example.com") {
		t.Fatalf("after the temporary password: %s %v", out.ChallengeName, out.ChallengeParameters)
	}
	if n := len(p.triggers.events["define"]) - definesBefore; n != 1 {
		t.Errorf("Define ran %d times, want once (for SRP_A) before NEW_PASSWORD_REQUIRED", n)
	}
	respond := func(session *string, responses map[string]string) (*cip.RespondToAuthChallengeOutput, error) {
		return p.client.RespondToAuthChallenge(ctx, &cip.RespondToAuthChallengeInput{ClientId: aws.String(clientID),
			ChallengeName: types.ChallengeNameTypeNewPasswordRequired, Session: session, ChallengeResponses: responses})
	}
	if _, err := respond(out.Session, map[string]string{"USERNAME": out.ChallengeParameters["USER_ID_FOR_SRP"], "NEW_PASSWORD": "short"}); apiCode(err) != "InvalidPasswordException: Password did not conform with policy: Password not long enough" {
		t.Fatalf("short new password: %s", apiCode(err))
	}
	out, err = p.signIn(ctx, "new@example.com", "temporary-pass-1", nil)
	if err != nil {
		t.Fatal(err)
	}
	_, err = respond(out.Session, map[string]string{"USERNAME": out.ChallengeParameters["USER_ID_FOR_SRP"], "NEW_PASSWORD": "my-own-password-1"})
	if apiCode(err) != "UserLambdaValidationException: PreTokenGeneration failed with error sign in again." {
		t.Fatalf("refused by pre token generation: %s", apiCode(err))
	}
	got, _ := p.client.AdminGetUser(ctx, &cip.AdminGetUserInput{UserPoolId: aws.String(poolID), Username: aws.String("new@example.com")})
	if got.UserStatus != types.UserStatusTypeConfirmed {
		t.Errorf("after the new password: status %s, want CONFIRMED", got.UserStatus)
	}
	// The next sign-in goes through the custom flow with the new password.
	out, err = p.signIn(ctx, "new@example.com", "my-own-password-1", nil)
	if err != nil || out.ChallengeName != types.ChallengeNameTypeCustomChallenge {
		t.Fatalf("sign-in with the new password: %v, %v", out, err)
	}
	res, err := p.client.RespondToAuthChallenge(ctx, &cip.RespondToAuthChallengeInput{ClientId: aws.String(clientID), ChallengeName: types.ChallengeNameTypeCustomChallenge,
		Session: out.Session, ChallengeResponses: map[string]string{"USERNAME": "new@example.com", "ANSWER": answer}})
	if err != nil || res.AuthenticationResult == nil {
		t.Fatalf("the code step: %v", err)
	}
	if strings.Join(sources, " ") != "TokenGeneration_NewPasswordChallenge TokenGeneration_Authentication" {
		t.Errorf("pre token generation sources %v", sources)
	}
	// Without a refusing trigger, Cognito would issue the tokens right away:
	// the custom challenge never runs. That is why the product refuses them.
	refuse.Store(false)
	_, _ = p.client.AdminSetUserPassword(ctx, &cip.AdminSetUserPasswordInput{UserPoolId: aws.String(poolID), Username: aws.String("new@example.com"), Password: aws.String("temporary-pass-2")})
	out, err = p.signIn(ctx, "new@example.com", "temporary-pass-2", nil)
	if err != nil {
		t.Fatal(err)
	}
	res, err = respond(out.Session, map[string]string{"USERNAME": "new@example.com", "NEW_PASSWORD": "my-own-password-2"})
	if err != nil || res.AuthenticationResult == nil {
		t.Errorf("an admin's non-permanent password, then a new one: %v", err)
	}
}

func TestPasswordResetRequired(t *testing.T) {
	p := newPool(t)
	ctx := t.Context()
	if _, err := p.client.AdminResetUserPassword(ctx, &cip.AdminResetUserPasswordInput{UserPoolId: aws.String(poolID), Username: aws.String(email)}); err != nil {
		t.Fatal(err)
	}
	defines := len(p.triggers.events["define"])
	if _, err := p.signIn(ctx, email, password, nil); apiCode(err) != "PasswordResetRequiredException: Password reset required for the user" {
		t.Fatalf("after AdminResetUserPassword: %s", apiCode(err))
	}
	if len(p.triggers.events["define"]) != defines {
		t.Error("Define ran for a user whose password must be reset")
	}
	if _, err := p.client.AdminSetUserPassword(ctx, &cip.AdminSetUserPasswordInput{UserPoolId: aws.String(poolID), Username: aws.String(email),
		Password: aws.String("a brand new password"), Permanent: true}); err != nil {
		t.Fatal(err)
	}
	if out, err := p.signIn(ctx, email, "a brand new password", nil); err != nil || out.ChallengeName != types.ChallengeNameTypeCustomChallenge {
		t.Errorf("after a new permanent password: %v", err)
	}
}

// TestPasswordLockout: five wrong passwords, then Cognito locks the user
// out for a second, doubling with each further failure; attempts during
// the lockout are refused with "Password attempts exceeded", whatever the
// password, and do not count. Unknown users are locked out the same way.
func TestPasswordLockout(t *testing.T) {
	p := newPool(t)
	ctx := t.Context()
	for _, user := range []string{email, "nobody@example.com"} {
		for i := 1; i <= 5; i++ {
			if _, err := p.signIn(ctx, user, "wrong password!", nil); apiCode(err) != "NotAuthorizedException: Incorrect username or password." {
				t.Fatalf("%s, wrong password %d: %s", user, i, apiCode(err))
			}
		}
		if _, err := p.signIn(ctx, user, password, nil); apiCode(err) != "NotAuthorizedException: Password attempts exceeded" {
			t.Fatalf("%s during the lockout: %s", user, apiCode(err))
		}
	}
	p.clock.Advance(1100 * time.Millisecond)
	if _, err := p.signIn(ctx, email, "wrong password!", nil); apiCode(err) != "NotAuthorizedException: Incorrect username or password." {
		t.Fatalf("sixth wrong password after the lockout: %s", apiCode(err))
	}
	p.clock.Advance(1100 * time.Millisecond)
	if _, err := p.signIn(ctx, email, password, nil); apiCode(err) != "NotAuthorizedException: Password attempts exceeded" {
		t.Fatalf("the second lockout lasts 2 s: %s", apiCode(err))
	}
	p.clock.Advance(time.Second)
	if out, err := p.signIn(ctx, email, password, nil); err != nil || out.ChallengeName != types.ChallengeNameTypeCustomChallenge {
		t.Fatalf("the right password after the lockout: %v", err)
	}
	for i := 0; i < 5; i++ {
		_, _ = p.signIn(ctx, email, "wrong password!", nil)
	}
	if _, err := p.signIn(ctx, email, "wrong password!", nil); apiCode(err) != "NotAuthorizedException: Password attempts exceeded" {
		t.Errorf("a success reset the count, five more failures lock again: %s", apiCode(err))
	}
}

// TestSessionTokensLiveFromTheirOwnIssue: each answer's session token is
// valid for AuthSessionValidity from when it was issued, so a sign-in can
// outlast the validity while each step is in time.
func TestSessionTokensLiveFromTheirOwnIssue(t *testing.T) {
	p := newPool(t)
	ctx := t.Context()
	out, err := p.signIn(ctx, email, password, nil)
	if err != nil {
		t.Fatal(err)
	}
	p.clock.Advance(2*time.Minute + 30*time.Second)
	if out, err = p.answer(ctx, out.Session, "000000", nil); err != nil {
		t.Fatal(err)
	}
	p.clock.Advance(2*time.Minute + 30*time.Second) // five minutes into a 3-minute validity
	res, err := p.answer(ctx, out.Session, answer, nil)
	if err != nil || res.AuthenticationResult == nil {
		t.Errorf("a token used within its own validity: %s", apiCode(err))
	}
}

// TestTriggerTimeoutsAreRetried: a trigger that does not answer in time is
// called again, three attempts in all, then the client gets
// UnexpectedLambdaException; a trigger's own error is not retried.
func TestTriggerTimeoutsAreRetried(t *testing.T) {
	p := newPool(t)
	p.srv.cfg.TriggerTimeout = 100 * time.Millisecond
	var calls atomic.Int32
	handlers := p.triggers.handlers()
	create := handlers.Create
	handlers.Create = invokeFunc(func(ctx context.Context, payload []byte) ([]byte, error) {
		calls.Add(1)
		select {
		case <-time.After(300 * time.Millisecond):
		case <-ctx.Done():
		}
		return create.Invoke(context.Background(), payload)
	})
	p.srv.SetTriggers(handlers)
	start := time.Now()
	_, err := p.signIn(t.Context(), email, password, nil)
	if apiCode(err) != "UnexpectedLambdaException: CreateAuthChallenge invocation failed due to error Socket timeout while invoking Lambda function." {
		t.Fatalf("a Create that stalls: %s", apiCode(err))
	}
	if calls.Load() != 3 || time.Since(start) > 2*time.Second {
		t.Errorf("%d calls in %s, want 3 attempts of 100 ms", calls.Load(), time.Since(start))
	}
	calls.Store(0)
	handlers.Create = invokeFunc(func(ctx context.Context, payload []byte) ([]byte, error) {
		calls.Add(1)
		return nil, errors.New("the sign-in code could not be sent")
	})
	p.srv.SetTriggers(handlers)
	if _, err := p.signIn(t.Context(), email, password, nil); apiCode(err) != "UserLambdaValidationException: CreateAuthChallenge failed with error the sign-in code could not be sent." || calls.Load() != 1 {
		t.Errorf("a Create that fails: %s after %d calls, want one", apiCode(err), calls.Load())
	}
}

func TestChallengeResponsesNameTheUser(t *testing.T) {
	p := newPool(t)
	ctx := t.Context()
	if _, err := p.srv.CreateUser(NewUser{Email: "other@example.com", Password: password}); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name, username, want string
	}{
		{"no USERNAME", "", "InvalidParameterException: Missing required parameter USERNAME"},
		{"another user's name", "other@example.com", "NotAuthorizedException: Invalid session provided for the user."},
	} {
		t.Run(tc.name, func(t *testing.T) {
			out, err := p.signIn(ctx, email, password, nil)
			if err != nil {
				t.Fatal(err)
			}
			responses := map[string]string{"ANSWER": answer}
			if tc.username != "" {
				responses["USERNAME"] = tc.username
			}
			_, err = p.client.RespondToAuthChallenge(ctx, &cip.RespondToAuthChallengeInput{ClientId: aws.String(clientID),
				ChallengeName: types.ChallengeNameTypeCustomChallenge, Session: out.Session, ChallengeResponses: responses})
			if apiCode(err) != tc.want {
				t.Errorf("%s, want %s", apiCode(err), tc.want)
			}
		})
	}
}

// TestPasswordVerifierTimestamp: Cognito parses TIMESTAMP as "EEE MMM d
// HH:mm:ss z yyyy" and signs its own rendering of it.
func TestPasswordVerifierTimestamp(t *testing.T) {
	p := newPool(t)
	ctx := t.Context()
	claim := func(rewrite func(ts string) string) error {
		srp, _ := cognitosrp.NewCognitoSRP(email, password, poolID, clientID, nil)
		params := srp.GetAuthParams()
		params["CHALLENGE_NAME"] = challengeSRPA
		init, err := p.client.InitiateAuth(ctx, &cip.InitiateAuthInput{AuthFlow: types.AuthFlowTypeCustomAuth, ClientId: aws.String(clientID), AuthParameters: params})
		if err != nil {
			return err
		}
		resp, err := srp.PasswordVerifierChallenge(init.ChallengeParameters, time.Date(2026, 12, 2, 9, 5, 7, 0, time.UTC))
		if err != nil {
			return err
		}
		resp["TIMESTAMP"] = rewrite(resp["TIMESTAMP"])
		_, err = p.client.RespondToAuthChallenge(ctx, &cip.RespondToAuthChallengeInput{ClientId: aws.String(clientID),
			ChallengeName: types.ChallengeNameTypePasswordVerifier, ChallengeResponses: resp, Session: init.Session})
		return err
	}
	for _, tc := range []struct {
		name    string
		rewrite func(string) string
		want    string
	}{
		{"as the client signed it", func(ts string) string { return ts }, "<nil>"},
		{"another time than the one signed", func(ts string) string { return strings.Replace(ts, ":05:07", ":05:08", 1) }, "NotAuthorizedException: Incorrect username or password."},
		// Signed as "Wed Dec 2 ...": the padded form renders to the same
		// string, so it verifies; a client that signed the padded form
		// itself is the one Cognito refuses (qwigo/warrant#12).
		{"a zero-padded day of the signed time", func(ts string) string { return strings.Replace(ts, " 2 ", " 02 ", 1) }, "<nil>"},
		{"hour 24", func(ts string) string { return strings.Replace(ts, "09:", "24:", 1) }, "InvalidParameterException: TIMESTAMP format should be EEE MMM d HH:mm:ss z yyyy in english."},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := apiCode(claim(tc.rewrite)); got != tc.want {
				t.Errorf("%s, want %s", got, tc.want)
			}
		})
	}
}
