package cognitoidp

import (
	"context"
	"crypto/hmac"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"log/slog"
	"math/big"
	"net/http"
	"regexp"
	"strings"
	"sync"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-lambda-go/lambda"
)

// Challenge names.
const (
	challengeSRPA        = "SRP_A"
	challengePassword    = "PASSWORD_VERIFIER"
	challengeCustom      = "CUSTOM_CHALLENGE"
	challengeNewPassword = "NEW_PASSWORD_REQUIRED"
)

// authSession is a sign-in between calls. The client holds only an opaque,
// single-use token for it.
type authSession struct {
	clientID     string
	username     string // as the client gave it
	user         *User  // nil when the user does not exist
	userID       string // internal username, or a stand-in for an unknown user
	history      []*events.CognitoEventUserPoolsChallengeResult
	expect       string
	started      time.Time
	validity     time.Duration // the app client's AuthSessionValidity, per session token
	sdkVersion   string
	srpA         *big.Int
	srpKey       serverKey
	verifier     *big.Int
	secretBlock  []byte
	private      map[string]string
	challengeMD  string
	userNotFound bool
	issuer       string // from the latest request's host: tokens carry it as iss
}

// sessions keeps live session tokens and remembers used ones long enough
// to say "can only be used once" rather than "invalid".
//
// Cognito "creates a session token for each API request in an
// authentication flow. AuthSessionValidity is the duration, in minutes, of
// that session token" (API reference, AuthSessionValidity): each token
// lives its own validity from when it was issued, so a sign-in as a whole
// may outlast it; the code's own expiry bounds the code step.
type sessions struct {
	mu   sync.Mutex
	live map[string]liveToken
	used map[string]time.Time
}

type liveToken struct {
	a       *authSession
	expires time.Time
}

func newSessions() *sessions {
	return &sessions{live: map[string]liveToken{}, used: map[string]time.Time{}}
}

func (ss *sessions) put(a *authSession, now time.Time) string {
	token := base64.RawURLEncoding.EncodeToString([]byte(randomToken(48)))
	ss.mu.Lock()
	defer ss.mu.Unlock()
	ss.live[token] = liveToken{a: a, expires: now.Add(a.validity)}
	return token
}

// take consumes a session token: each one answers exactly one call.
func (ss *sessions) take(token string, now time.Time) (*authSession, error) {
	ss.mu.Lock()
	defer ss.mu.Unlock()
	for k, lt := range ss.live { // sweep, so abandoned sign-ins do not pile up
		if now.After(lt.expires.Add(time.Minute)) {
			delete(ss.live, k)
			ss.used[k] = now
		}
	}
	for k, t := range ss.used {
		if now.Sub(t) > time.Hour {
			delete(ss.used, k)
		}
	}
	lt, ok := ss.live[token]
	if !ok {
		if _, used := ss.used[token]; used {
			return nil, errSessionUsed
		}
		return nil, errSessionBad
	}
	delete(ss.live, token)
	ss.used[token] = now
	if !now.Before(lt.expires) {
		return nil, errSessionExpiry
	}
	return lt.a, nil
}

type initiateAuthInput struct {
	AuthFlow       string            `json:"AuthFlow"`
	ClientID       string            `json:"ClientId"`
	AuthParameters map[string]string `json:"AuthParameters"`
	ClientMetadata map[string]string `json:"ClientMetadata"`
}

type authOutput struct {
	ChallengeName        string            `json:"ChallengeName,omitempty"`
	ChallengeParameters  map[string]string `json:"ChallengeParameters"`
	Session              string            `json:"Session,omitempty"`
	AuthenticationResult *authResult       `json:"AuthenticationResult,omitempty"`
}

type authResult struct {
	AccessToken  string `json:"AccessToken"`
	ExpiresIn    int    `json:"ExpiresIn"`
	IDToken      string `json:"IdToken"`
	RefreshToken string `json:"RefreshToken,omitempty"`
	TokenType    string `json:"TokenType"`
}

func (s *Server) initiateAuth(ctx context.Context, r *http.Request, body []byte) (any, error) {
	var in initiateAuthInput
	if err := decode(body, &in); err != nil {
		return nil, err
	}
	c, err := s.client(in.ClientID)
	if err != nil {
		return nil, err
	}
	switch in.AuthFlow {
	case "CUSTOM_AUTH":
		if !c.allows(FlowCustomAuth) {
			return nil, fault("InvalidParameterException", "CUSTOM_AUTH flow not enabled for this client")
		}
		return s.startCustomAuth(ctx, r, c, in)
	case "REFRESH_TOKEN_AUTH", "REFRESH_TOKEN":
		if !c.allows(FlowRefreshToken) {
			return nil, fault("InvalidParameterException", "REFRESH_TOKEN_AUTH flow not enabled for this client")
		}
		return s.refreshTokens(r, c, in.AuthParameters["REFRESH_TOKEN"])
	case "USER_SRP_AUTH":
		// Only an error here: a client allowed this flow could sign in
		// with the password alone and skip the emailed code.
		if !c.allows(FlowUserSRPAuth) {
			return nil, fault("InvalidParameterException", "USER_SRP_AUTH is not enabled for the client.")
		}
		return nil, fault("InvalidParameterException", "otp-local implements USER_SRP_AUTH only as a refusal; use CUSTOM_AUTH with SRP_A")
	default:
		return nil, fault("InvalidParameterException", "%s flow not enabled for this client", in.AuthFlow)
	}
}

func (s *Server) startCustomAuth(ctx context.Context, r *http.Request, c Client, in initiateAuthInput) (any, error) {
	name := in.AuthParameters["USERNAME"]
	if name == "" {
		return nil, fault("InvalidParameterException", "Missing required parameter USERNAME")
	}
	s.stats.Started.Add(1)
	now := s.cfg.Now()
	a := &authSession{clientID: c.ID, username: name, started: now, validity: c.AuthSessionValidity, sdkVersion: sdkVersion(r), issuer: s.issuer(r)}
	if u := s.users.lookup(name); u != nil {
		if !u.Enabled {
			return nil, s.failed(fault("NotAuthorizedException", "User is disabled."))
		}
		// Both before any password, as Cognito answers them (docs/FIDELITY.md).
		if u.Status == StatusUnconfirmed {
			return nil, s.failed(fault("UserNotConfirmedException", "User is not confirmed."))
		}
		if u.Status == StatusResetRequired {
			return nil, s.failed(fault("PasswordResetRequiredException", "Password reset required for the user"))
		}
		a.user, a.userID = u, u.Username
	} else {
		if c.PreventUserExistenceErrors != "ENABLED" {
			return nil, s.failed(fault("UserNotFoundException", "User does not exist."))
		}
		a.userNotFound, a.userID = true, s.fakeUserID(name)
	}
	if hexA := in.AuthParameters["SRP_A"]; hexA != "" || in.AuthParameters["CHALLENGE_NAME"] == challengeSRPA {
		A, err := parseA(hexA)
		if err != nil {
			return nil, s.failed(fault("InvalidParameterException", "SRP_A is not a valid value"))
		}
		a.srpA = A
		a.history = append(a.history, &events.CognitoEventUserPoolsChallengeResult{ChallengeName: challengeSRPA, ChallengeResult: true})
	}
	// InitiateAuth's ClientMetadata goes to the pre sign-up, pre
	// authentication and user migration triggers only, not to Define or
	// Create (API reference, InitiateAuth ClientMetadata).
	return s.next(ctx, a, nil)
}

// next asks Define what follows the session so far and acts on it.
func (s *Server) next(ctx context.Context, a *authSession, clientMetadata map[string]string) (any, error) {
	resp, err := s.define(ctx, a, clientMetadata)
	if err != nil {
		return nil, s.failed(err)
	}
	switch {
	case resp.FailAuthentication:
		return nil, s.failed(errNotAuthorized)
	case resp.IssueTokens:
		if a.userNotFound || a.user == nil {
			return nil, s.failed(errNotAuthorized)
		}
		return s.issueTokensVia(ctx, a, "TokenGeneration_Authentication", clientMetadata)
	case resp.ChallengeName == challengePassword:
		if a.srpA == nil {
			return nil, s.failed(fault("InvalidParameterException", "PASSWORD_VERIFIER requires SRP_A in AuthParameters"))
		}
		return s.passwordChallenge(a)
	case resp.ChallengeName == challengeCustom:
		return s.customChallenge(ctx, a, clientMetadata)
	default:
		return nil, s.failed(fault("InvalidLambdaResponseException", "Invalid lambda response: DefineAuthChallenge returned challenge %q", resp.ChallengeName))
	}
}

func (s *Server) failed(err error) error {
	s.stats.Failed.Add(1)
	return err
}

// passwordChallenge starts SRP: B, the salt, and a secret block that ties
// the answer to this exchange.
func (s *Server) passwordChallenge(a *authSession) (any, error) {
	var salt *big.Int
	if a.user != nil {
		var ok bool
		if salt, a.verifier, ok = a.user.srpValues(); !ok {
			// A user without a password (created without one) cannot pass.
			salt, a.verifier = s.fakeSRP(a.userID)
		}
	} else {
		salt, a.verifier = s.fakeSRP(a.userID)
	}
	k, err := newServerKey(a.verifier)
	if err != nil {
		return nil, err
	}
	a.srpKey = k
	a.secretBlock = make([]byte, 64)
	_, _ = rand.Read(a.secretBlock)
	a.expect = challengePassword
	return authOutput{
		ChallengeName: challengePassword,
		ChallengeParameters: map[string]string{
			"SALT":            padHex(salt),
			"SRP_B":           padHex(k.B),
			"SECRET_BLOCK":    base64.StdEncoding.EncodeToString(a.secretBlock),
			"USER_ID_FOR_SRP": a.userID,
			"USERNAME":        a.userID,
		},
		Session: s.sessions.put(a, s.cfg.Now()),
	}, nil
}

// fakeUserID and fakeSRP give an unknown user stable, plausible SRP values,
// so nothing in the exchange tells them apart from a real user with a wrong
// password.
func (s *Server) fakeUserID(name string) string {
	sum := hmacSHA256(s.secret, []byte("user:"+strings.ToLower(name)))
	sum[6] = sum[6]&0x0f | 0x40
	sum[8] = sum[8]&0x3f | 0x80
	return fmt.Sprintf("%x-%x-%x-%x-%x", sum[0:4], sum[4:6], sum[6:8], sum[8:10], sum[10:16])
}

func (s *Server) fakeSRP(userID string) (salt, v *big.Int) {
	salt = new(big.Int).SetBytes(hmacSHA256(s.secret, []byte("salt:"+userID))[:16])
	password := base64.StdEncoding.EncodeToString(hmacSHA256(s.secret, []byte("password:"+userID)))
	return salt, verifier(s.poolName, userID, password, salt)
}

func (s *Server) customChallenge(ctx context.Context, a *authSession, clientMetadata map[string]string) (any, error) {
	resp, err := s.create(ctx, a, clientMetadata)
	if err != nil {
		return nil, s.failed(err)
	}
	a.private, a.challengeMD, a.expect = resp.PrivateChallengeParameters, resp.ChallengeMetadata, challengeCustom
	params := map[string]string{}
	for k, v := range resp.PublicChallengeParameters {
		params[k] = v
	}
	params["USERNAME"] = a.userID
	return authOutput{ChallengeName: challengeCustom, ChallengeParameters: params, Session: s.sessions.put(a, s.cfg.Now())}, nil
}

type respondInput struct {
	ClientID           string            `json:"ClientId"`
	ChallengeName      string            `json:"ChallengeName"`
	Session            string            `json:"Session"`
	ChallengeResponses map[string]string `json:"ChallengeResponses"`
	ClientMetadata     map[string]string `json:"ClientMetadata"`
}

// timestampLayout is Cognito's TIMESTAMP: "Tue Nov 4 09:05:07 UTC 2026",
// the day of month not padded.
const timestampLayout = "Mon Jan 2 15:04:05 UTC 2006"

func (s *Server) respondToAuthChallenge(ctx context.Context, r *http.Request, body []byte) (any, error) {
	var in respondInput
	if err := decode(body, &in); err != nil {
		return nil, err
	}
	if _, err := s.client(in.ClientID); err != nil {
		return nil, err
	}
	a, err := s.sessions.take(in.Session, s.cfg.Now())
	if err != nil {
		return nil, err
	}
	if a.clientID != in.ClientID {
		return nil, errSessionBad
	}
	a.issuer = s.issuer(r)
	if in.ChallengeName != a.expect {
		return nil, fault("InvalidParameterException", "Invalid challenge name %q: expected %s", in.ChallengeName, a.expect)
	}
	switch in.ChallengeName {
	case challengePassword:
		if err := s.lockout.check(a.userID, s.cfg.Now()); err != nil {
			return nil, s.failed(err)
		}
		ok, err := s.checkPasswordClaim(a, in.ChallengeResponses)
		if err != nil {
			return nil, s.failed(err)
		}
		s.lockout.record(a.userID, ok, s.cfg.Now())
		a.history = append(a.history, &events.CognitoEventUserPoolsChallengeResult{ChallengeName: challengePassword, ChallengeResult: ok})
		if ok && a.user != nil && a.user.Status == StatusForceChangePassword {
			if exp := a.user.TemporaryPasswordExpires; !exp.IsZero() && !s.cfg.Now().Before(exp) {
				return nil, s.failed(fault("NotAuthorizedException", "Temporary password has expired and must be reset by an administrator."))
			}
			return s.newPasswordChallenge(a)
		}
	case challengeNewPassword:
		return s.completeNewPassword(ctx, a, in.ChallengeResponses, in.ClientMetadata)
	case challengeCustom:
		if err := s.checkUsername(a, in.ChallengeResponses); err != nil {
			return nil, s.failed(err)
		}
		answer, present := in.ChallengeResponses["ANSWER"]
		if !present {
			return nil, s.failed(fault("InvalidParameterException", "Missing required parameter ANSWER"))
		}
		correct, err := s.verify(ctx, a, answer, in.ClientMetadata)
		if err != nil {
			return nil, s.failed(err)
		}
		a.history = append(a.history, &events.CognitoEventUserPoolsChallengeResult{ChallengeName: challengeCustom, ChallengeResult: correct, ChallengeMetadata: a.challengeMD})
		a.private, a.challengeMD = nil, ""
	}
	return s.next(ctx, a, in.ClientMetadata)
}

// checkUsername requires the USERNAME every challenge response carries to
// name the session's user: the id Cognito gave it, the name it signed in
// with, or its email alias.
func (s *Server) checkUsername(a *authSession, resp map[string]string) error {
	name, ok := resp["USERNAME"]
	if !ok || name == "" {
		return fault("InvalidParameterException", "Missing required parameter USERNAME")
	}
	if name == a.userID || strings.EqualFold(name, a.username) || a.user != nil && strings.EqualFold(name, a.user.email()) {
		return nil
	}
	return fault("NotAuthorizedException", "Invalid session provided for the user.")
}

// checkPasswordClaim verifies PASSWORD_CLAIM_SIGNATURE. A wrong password
// is not an error here: it is a failed challenge that Define decides on.
func (s *Server) checkPasswordClaim(a *authSession, resp map[string]string) (bool, error) {
	if name := resp["USERNAME"]; name != a.userID && !strings.EqualFold(name, a.username) {
		return false, errNotAuthorized
	}
	block, err := base64.StdEncoding.DecodeString(resp["PASSWORD_CLAIM_SECRET_BLOCK"])
	if err != nil || !hmac.Equal(block, a.secretBlock) {
		return false, fault("NotAuthorizedException", "Incorrect username or password.")
	}
	// Cognito parses TIMESTAMP as "EEE MMM d HH:mm:ss z yyyy" (its own
	// error says so) and checks the signature over its own rendering of the
	// parsed time: an hour past 23 is a format error, and a zero-padded day
	// or a weekday that does not match the date fails the signature
	// (docs/FIDELITY.md). The clock itself is not compared with ours: no
	// window is documented, and alexrudd/cognito-srp v4, a widely used Go
	// client that writes the hour on a 12-hour clock, has no report of
	// failing in the afternoon.
	ts, err := time.Parse(timestampLayout, resp["TIMESTAMP"])
	if err != nil {
		return false, fault("InvalidParameterException", "TIMESTAMP format should be EEE MMM d HH:mm:ss z yyyy in english.")
	}
	canonical := ts.UTC().Format(timestampLayout)
	sig, err := base64.StdEncoding.DecodeString(resp["PASSWORD_CLAIM_SIGNATURE"])
	if err != nil {
		return false, nil
	}
	key, err := sessionKey(a.srpA, a.verifier, a.srpKey)
	if err != nil {
		return false, nil
	}
	ok := hmac.Equal(sig, claimSignature(key, s.poolName, a.userID, a.secretBlock, canonical))
	return ok && !a.userNotFound, nil
}

// sdkVersion is callerContext.awsSdkVersion: Cognito reports the caller's
// SDK from its user agent.
var sdkAgent = regexp.MustCompile(`aws-sdk-([a-z0-9-]+?)/([0-9.]+)`)

func sdkVersion(r *http.Request) string {
	for _, h := range []string{r.Header.Get("X-Amz-User-Agent"), r.Header.Get("User-Agent")} {
		if m := sdkAgent.FindStringSubmatch(h); m != nil {
			return "aws-sdk-" + m[1] + "-" + m[2]
		}
	}
	return "aws-sdk-unknown-unknown"
}

// Trigger events: the common part Cognito sends, with nulls in the
// response as Cognito leaves them.
type triggerHeader struct {
	Version       string                                    `json:"version"`
	TriggerSource string                                    `json:"triggerSource"`
	Region        string                                    `json:"region"`
	UserPoolID    string                                    `json:"userPoolId"`
	UserName      string                                    `json:"userName"`
	CallerContext events.CognitoEventUserPoolsCallerContext `json:"callerContext"`
}

func (s *Server) header(a *authSession, source string) triggerHeader {
	name := a.userID
	if a.userNotFound {
		name = a.username
	}
	return triggerHeader{Version: "1", TriggerSource: source, Region: s.region, UserPoolID: s.cfg.PoolID, UserName: name,
		CallerContext: events.CognitoEventUserPoolsCallerContext{AWSSDKVersion: a.sdkVersion, ClientID: a.clientID}}
}

func (s *Server) userAttributes(a *authSession) map[string]string {
	attrs := map[string]string{}
	if a.user == nil {
		return attrs
	}
	for k, v := range a.user.Attributes {
		attrs[k] = v
	}
	attrs["cognito:user_status"] = a.user.Status
	if e := a.user.email(); e != "" {
		attrs["cognito:email_alias"] = e
	}
	return attrs
}

// sessionEntry is a session element as Cognito serialises it: metadata is
// null, not "", on the entries that have none (SRP_A, PASSWORD_VERIFIER).
type sessionEntry struct {
	ChallengeName     string  `json:"challengeName"`
	ChallengeResult   bool    `json:"challengeResult"`
	ChallengeMetadata *string `json:"challengeMetadata"`
}

func sessionJSON(history []*events.CognitoEventUserPoolsChallengeResult) []sessionEntry {
	out := make([]sessionEntry, len(history))
	for i, h := range history {
		out[i] = sessionEntry{ChallengeName: h.ChallengeName, ChallengeResult: h.ChallengeResult}
		if h.ChallengeMetadata != "" {
			md := h.ChallengeMetadata
			out[i].ChallengeMetadata = &md
		}
	}
	return out
}

func nonEmpty(m map[string]string) map[string]string {
	if len(m) == 0 {
		return nil
	}
	return m
}

func (s *Server) define(ctx context.Context, a *authSession, clientMetadata map[string]string) (events.CognitoEventUserPoolsDefineAuthChallengeResponse, error) {
	ev := struct {
		triggerHeader
		Request struct {
			UserAttributes map[string]string `json:"userAttributes"`
			Session        []sessionEntry    `json:"session"`
			ClientMetadata map[string]string `json:"clientMetadata,omitempty"`
			UserNotFound   bool              `json:"userNotFound"`
		} `json:"request"`
		Response map[string]any `json:"response"`
	}{triggerHeader: s.header(a, "DefineAuthChallenge_Authentication"),
		Response: map[string]any{"challengeName": nil, "issueTokens": nil, "failAuthentication": nil}}
	ev.Request.UserAttributes, ev.Request.Session = s.userAttributes(a), sessionJSON(a.history)
	ev.Request.ClientMetadata, ev.Request.UserNotFound = nonEmpty(clientMetadata), a.userNotFound
	var out events.CognitoEventUserPoolsDefineAuthChallenge
	err := s.invoke(ctx, "DefineAuthChallenge", s.cfg.Triggers.Define, ev, &out)
	return out.Response, err
}

func (s *Server) create(ctx context.Context, a *authSession, clientMetadata map[string]string) (events.CognitoEventUserPoolsCreateAuthChallengeResponse, error) {
	ev := struct {
		triggerHeader
		Request struct {
			UserAttributes map[string]string `json:"userAttributes"`
			ChallengeName  string            `json:"challengeName"`
			Session        []sessionEntry    `json:"session"`
			ClientMetadata map[string]string `json:"clientMetadata,omitempty"`
			UserNotFound   bool              `json:"userNotFound"`
		} `json:"request"`
		Response map[string]any `json:"response"`
	}{triggerHeader: s.header(a, "CreateAuthChallenge_Authentication"),
		Response: map[string]any{"publicChallengeParameters": nil, "privateChallengeParameters": nil, "challengeMetadata": nil}}
	ev.Request.UserAttributes, ev.Request.ChallengeName, ev.Request.Session = s.userAttributes(a), challengeCustom, sessionJSON(a.history)
	ev.Request.ClientMetadata, ev.Request.UserNotFound = nonEmpty(clientMetadata), a.userNotFound
	var out events.CognitoEventUserPoolsCreateAuthChallenge
	if err := s.invoke(ctx, "CreateAuthChallenge", s.cfg.Triggers.Create, ev, &out); err != nil {
		return out.Response, err
	}
	if out.Response.PublicChallengeParameters == nil {
		out.Response.PublicChallengeParameters = map[string]string{}
	}
	return out.Response, nil
}

func (s *Server) verify(ctx context.Context, a *authSession, answer string, clientMetadata map[string]string) (bool, error) {
	ev := struct {
		triggerHeader
		Request struct {
			UserAttributes             map[string]string `json:"userAttributes"`
			PrivateChallengeParameters map[string]string `json:"privateChallengeParameters"`
			ChallengeAnswer            string            `json:"challengeAnswer"`
			ClientMetadata             map[string]string `json:"clientMetadata,omitempty"`
			UserNotFound               bool              `json:"userNotFound"`
		} `json:"request"`
		Response map[string]any `json:"response"`
	}{triggerHeader: s.header(a, "VerifyAuthChallengeResponse_Authentication"), Response: map[string]any{"answerCorrect": nil}}
	ev.Request.UserAttributes, ev.Request.PrivateChallengeParameters, ev.Request.ChallengeAnswer = s.userAttributes(a), a.private, answer
	ev.Request.ClientMetadata, ev.Request.UserNotFound = nonEmpty(clientMetadata), a.userNotFound
	var out events.CognitoEventUserPoolsVerifyAuthChallenge
	err := s.invoke(ctx, "VerifyAuthChallengeResponse", s.cfg.Triggers.Verify, ev, &out)
	return out.Response.AnswerCorrect, err
}

// Cognito waits 5 seconds for a trigger and retries a call that times out,
// three attempts in all ("Amazon Cognito invokes Lambda functions
// synchronously. When Amazon Cognito calls your Lambda function, it must
// respond within 5 seconds. If it does not, Amazon Cognito retries the
// call. After three unsuccessful attempts, the function times out.").
const (
	triggerTimeout  = 5 * time.Second
	triggerAttempts = 3
)

// invoke calls a trigger as Lambda would: JSON in, JSON out, within
// Cognito's deadline and retries. Its failures become the errors Cognito
// reports for them: a function's own error at once, as
// UserLambdaValidationException with its text; three timeouts as
// UnexpectedLambdaException.
func (s *Server) invoke(ctx context.Context, name string, h lambda.Handler, ev, out any) error {
	if h == nil {
		return fault("InvalidLambdaResponseException", "%s trigger is not configured", name)
	}
	payload, err := json.Marshal(ev)
	if err != nil {
		return err
	}
	for attempt := 1; ; attempt++ {
		result, timedOut, err := s.invokeOnce(ctx, h, payload)
		if timedOut {
			s.cfg.Log.Warn("trigger timed out", slog.String("trigger", name), slog.Int("attempt", attempt))
			if attempt < triggerAttempts && ctx.Err() == nil {
				continue
			}
			return fault("UnexpectedLambdaException", "%s invocation failed due to error Socket timeout while invoking Lambda function.", name)
		}
		if err != nil {
			s.cfg.Log.Warn("trigger failed", slog.String("trigger", name), slog.String("error", err.Error()))
			return fault("UserLambdaValidationException", "%s failed with error %s.", name, err.Error())
		}
		if err := json.Unmarshal(result, out); err != nil {
			return fault("InvalidLambdaResponseException", "Invalid lambda response from %s", name)
		}
		return nil
	}
}

// invokeOnce is one attempt. A late answer is dropped, as Cognito drops
// one that comes after it stopped waiting.
func (s *Server) invokeOnce(ctx context.Context, h lambda.Handler, payload []byte) (result []byte, timedOut bool, err error) {
	callCtx, cancel := context.WithTimeout(ctx, s.cfg.triggerTimeout())
	defer cancel()
	type answer struct {
		b   []byte
		err error
	}
	done := make(chan answer, 1)
	go func() {
		b, err := h.Invoke(callCtx, payload)
		done <- answer{b, err}
	}()
	select {
	case a := <-done:
		if callCtx.Err() != nil {
			return nil, true, nil
		}
		return a.b, false, a.err
	case <-callCtx.Done():
		return nil, true, nil
	}
}

// triggerTimeout is Cognito's 5 s, unless a test shortens it.
func (c Config) triggerTimeout() time.Duration {
	if c.TriggerTimeout > 0 {
		return c.TriggerTimeout
	}
	return triggerTimeout
}

// issueTokensVia runs the pre token generation trigger, when there is one,
// then issues the tokens; the trigger's error refuses them.
func (s *Server) issueTokensVia(ctx context.Context, a *authSession, source string, clientMetadata map[string]string) (any, error) {
	if h := s.cfg.Triggers.PreTokenGeneration; h != nil {
		ev := struct {
			triggerHeader
			Request struct {
				UserAttributes     map[string]string `json:"userAttributes"`
				GroupConfiguration map[string]any    `json:"groupConfiguration"`
				ClientMetadata     map[string]string `json:"clientMetadata,omitempty"`
			} `json:"request"`
			Response map[string]any `json:"response"`
		}{triggerHeader: s.header(a, source), Response: map[string]any{"claimsOverrideDetails": nil}}
		ev.Request.UserAttributes = s.userAttributes(a)
		ev.Request.GroupConfiguration = map[string]any{"groupsToOverride": []string{}, "iamRolesToOverride": []string{}, "preferredRole": nil}
		ev.Request.ClientMetadata = nonEmpty(clientMetadata)
		var out json.RawMessage
		if err := s.invoke(ctx, "PreTokenGeneration", h, ev, &out); err != nil {
			return nil, s.failed(err)
		}
	}
	s.stats.Succeeded.Add(1)
	return s.issueTokens(a)
}

// refreshGrant is what a refresh token stands for.
type refreshGrant struct {
	username, clientID, originJTI string
	authTime                      time.Time
	expires                       time.Time
}

func (s *Server) issueTokens(a *authSession) (any, error) {
	c := s.clients[a.clientID]
	now := s.cfg.Now()
	g := refreshGrant{username: a.user.Username, clientID: c.ID, originJTI: newUUID(), authTime: a.started, expires: now.Add(c.RefreshTokenValidity)}
	id, access, err := s.tokens(a.issuer, a.user, c, g, now)
	if err != nil {
		return nil, err
	}
	refresh := randomToken(64)
	s.refresh.Store(refresh, g)
	return authOutput{ChallengeParameters: map[string]string{}, AuthenticationResult: &authResult{
		AccessToken: access, IDToken: id, RefreshToken: refresh, ExpiresIn: int(c.AccessTokenValidity.Seconds()), TokenType: "Bearer",
	}}, nil
}

func (s *Server) refreshTokens(r *http.Request, c Client, token string) (any, error) {
	v, ok := s.refresh.Load(token)
	if !ok {
		return nil, fault("NotAuthorizedException", "Invalid Refresh Token")
	}
	g := v.(refreshGrant)
	now := s.cfg.Now()
	if g.clientID != c.ID || !now.Before(g.expires) {
		return nil, fault("NotAuthorizedException", "Invalid Refresh Token")
	}
	u := s.users.lookup(g.username)
	if u == nil || !u.Enabled {
		return nil, fault("NotAuthorizedException", "Invalid Refresh Token")
	}
	id, access, err := s.tokens(s.issuer(r), u, c, g, now)
	if err != nil {
		return nil, err
	}
	return authOutput{ChallengeParameters: map[string]string{}, AuthenticationResult: &authResult{
		AccessToken: access, IDToken: id, ExpiresIn: int(c.AccessTokenValidity.Seconds()), TokenType: "Bearer",
	}}, nil
}

// tokens signs an ID and an access token with the claims Cognito puts in
// them.
func (s *Server) tokens(iss string, u *User, c Client, g refreshGrant, now time.Time) (id, access string, err error) {
	eventID := newUUID()
	idClaims := map[string]any{
		"sub": u.Username, "iss": iss, "aud": c.ID, "token_use": "id", "cognito:username": u.Username,
		"origin_jti": g.originJTI, "event_id": eventID, "auth_time": g.authTime.Unix(),
		"iat": now.Unix(), "exp": now.Add(c.IDTokenValidity).Unix(), "jti": newUUID(),
	}
	for k, v := range u.Attributes {
		switch {
		case k == "sub":
		case k == "email_verified" || k == "phone_number_verified":
			idClaims[k] = v == "true"
		default:
			idClaims[k] = v
		}
	}
	accessClaims := map[string]any{
		"sub": u.Username, "iss": iss, "client_id": c.ID, "token_use": "access", "scope": "aws.cognito.signin.user.admin",
		"username": u.Username, "origin_jti": g.originJTI, "event_id": eventID, "auth_time": g.authTime.Unix(),
		"iat": now.Unix(), "exp": now.Add(c.AccessTokenValidity).Unix(), "jti": newUUID(),
	}
	if id, err = s.signer.sign(idClaims); err != nil {
		return "", "", err
	}
	access, err = s.signer.sign(accessClaims)
	return id, access, err
}

func randomInt(n int64) int64 {
	v, _ := rand.Int(rand.Reader, big.NewInt(n))
	return v.Int64()
}
