package cognitoidp

import (
	"context"
	"crypto/rand"
	"crypto/rsa"
	"encoding/base64"
	"encoding/json"
	"errors"
	"math/big"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	cognitosrp "github.com/alexrudd/cognito-srp/v4"
	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-lambda-go/lambda"
	"github.com/aws/aws-sdk-go-v2/aws"
	cip "github.com/aws/aws-sdk-go-v2/service/cognitoidentityprovider"
	"github.com/aws/aws-sdk-go-v2/service/cognitoidentityprovider/types"
	"github.com/aws/smithy-go"
	"github.com/golang-jwt/jwt/v5"

	"github.com/cognito-email-otp/cognito-email-otp/deploy/local/awslocal"
)

const (
	poolID   = "us-east-1_OtpLocal1"
	clientID = "localclient123"
	email    = "rosa@example.com"
	password = "correct horse battery staple"
	answer   = "424242"
)

var (
	keyOnce sync.Once
	testKey *rsa.PrivateKey
)

func signingKey() *rsa.PrivateKey {
	keyOnce.Do(func() { testKey, _ = rsa.GenerateKey(rand.Reader, 2048) })
	return testKey
}

// stubTriggers are the AWS documentation's custom-auth example: password,
// then a fixed answer, three tries. They record the events they receive.
type stubTriggers struct {
	mu          sync.Mutex
	events      map[string][]json.RawMessage
	createError error
	defineNoSRP bool // ask for the code straight away, as a passwordless flow would
}

func (st *stubTriggers) record(name string, ev any) {
	st.mu.Lock()
	defer st.mu.Unlock()
	if st.events == nil {
		st.events = map[string][]json.RawMessage{}
	}
	b, _ := json.Marshal(ev)
	st.events[name] = append(st.events[name], b)
}

func (st *stubTriggers) handlers() Triggers {
	define := func(ev events.CognitoEventUserPoolsDefineAuthChallenge) (events.CognitoEventUserPoolsDefineAuthChallenge, error) {
		st.record("define", ev)
		s := ev.Request.Session
		last := func() *events.CognitoEventUserPoolsChallengeResult { return s[len(s)-1] }
		switch {
		case st.defineNoSRP && len(s) == 0:
			ev.Response.ChallengeName = challengeCustom
		case len(s) == 1 && s[0].ChallengeName == challengeSRPA:
			ev.Response.ChallengeName = challengePassword
		case len(s) == 2 && last().ChallengeName == challengePassword && last().ChallengeResult && !ev.Request.UserNotFound:
			ev.Response.ChallengeName = challengeCustom
		case len(s) >= 3 && last().ChallengeResult:
			ev.Response.IssueTokens = true
		case len(s) >= 3 && len(s) < 5:
			ev.Response.ChallengeName = challengeCustom
		default:
			ev.Response.FailAuthentication = true
		}
		return ev, nil
	}
	create := func(ev events.CognitoEventUserPoolsCreateAuthChallenge) (events.CognitoEventUserPoolsCreateAuthChallenge, error) {
		st.record("create", ev)
		if st.createError != nil {
			return ev, st.createError
		}
		ev.Response.PublicChallengeParameters = map[string]string{"hint": "six digits"}
		ev.Response.PrivateChallengeParameters = map[string]string{"answer": answer}
		ev.Response.ChallengeMetadata = "round-" + string(rune('0'+len(ev.Request.Session)))
		return ev, nil
	}
	verify := func(ev events.CognitoEventUserPoolsVerifyAuthChallenge) (events.CognitoEventUserPoolsVerifyAuthChallenge, error) {
		st.record("verify", ev)
		ev.Response.AnswerCorrect = ev.Request.ChallengeAnswer == ev.Request.PrivateChallengeParameters["answer"]
		return ev, nil
	}
	return Triggers{
		Define: st.raw("define-raw", lambda.NewHandler(define)),
		Create: st.raw("create-raw", lambda.NewHandler(create)),
		Verify: st.raw("verify-raw", lambda.NewHandler(verify)),
	}
}

// raw records the exact payload the pool sends, before any Go decoding.
func (st *stubTriggers) raw(name string, h lambda.Handler) lambda.Handler {
	return invokeFunc(func(ctx context.Context, payload []byte) ([]byte, error) {
		st.mu.Lock()
		if st.events == nil {
			st.events = map[string][]json.RawMessage{}
		}
		st.events[name] = append(st.events[name], append(json.RawMessage(nil), payload...))
		st.mu.Unlock()
		return h.Invoke(ctx, payload)
	})
}

type invokeFunc func(ctx context.Context, payload []byte) ([]byte, error)

func (f invokeFunc) Invoke(ctx context.Context, payload []byte) ([]byte, error) {
	return f(ctx, payload)
}

type clock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *clock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
}

type pool struct {
	srv      *Server
	url      string
	client   *cip.Client
	triggers *stubTriggers
	clock    *clock
	user     *User
}

func newPool(t *testing.T, clients ...Client) *pool {
	t.Helper()
	if len(clients) == 0 {
		clients = []Client{{ID: clientID, ExplicitAuthFlows: []string{FlowCustomAuth, FlowRefreshToken}}}
	}
	st := &stubTriggers{}
	ck := &clock{now: time.Now().UTC()}
	srv, err := New(Config{PoolID: poolID, Clients: clients, Triggers: st.handlers(), SigningKey: signingKey(), Now: ck.Now})
	if err != nil {
		t.Fatal(err)
	}
	u, err := srv.CreateUser(NewUser{Email: email, Password: password, Attributes: map[string]string{"name": "Rosa Díaz", "locale": "es"}})
	if err != nil {
		t.Fatal(err)
	}
	hs := httptest.NewServer(srv)
	t.Cleanup(hs.Close)
	return &pool{srv: srv, url: hs.URL, client: cip.NewFromConfig(awslocal.Config(hs.URL)), triggers: st, clock: ck, user: u}
}

// signIn runs InitiateAuth with SRP_A and answers PASSWORD_VERIFIER with
// the independent SRP client, as Amplify's CUSTOM_WITH_SRP does.
func (p *pool) signIn(ctx context.Context, username, pw string, meta map[string]string) (*cip.RespondToAuthChallengeOutput, error) {
	srp, err := cognitosrp.NewCognitoSRP(username, pw, poolID, clientID, nil)
	if err != nil {
		return nil, err
	}
	params := srp.GetAuthParams()
	params["CHALLENGE_NAME"] = challengeSRPA
	init, err := p.client.InitiateAuth(ctx, &cip.InitiateAuthInput{AuthFlow: types.AuthFlowTypeCustomAuth, ClientId: aws.String(clientID),
		AuthParameters: params, ClientMetadata: meta})
	if err != nil {
		return nil, err
	}
	if init.ChallengeName != types.ChallengeNameTypePasswordVerifier {
		return nil, errors.New("no PASSWORD_VERIFIER challenge: " + string(init.ChallengeName))
	}
	resp, err := srp.PasswordVerifierChallenge(init.ChallengeParameters, p.clock.Now())
	if err != nil {
		return nil, err
	}
	return p.client.RespondToAuthChallenge(ctx, &cip.RespondToAuthChallengeInput{ClientId: aws.String(clientID),
		ChallengeName: types.ChallengeNameTypePasswordVerifier, ChallengeResponses: resp, Session: init.Session, ClientMetadata: meta})
}

func (p *pool) answer(ctx context.Context, session *string, ans string, meta map[string]string) (*cip.RespondToAuthChallengeOutput, error) {
	return p.client.RespondToAuthChallenge(ctx, &cip.RespondToAuthChallengeInput{ClientId: aws.String(clientID),
		ChallengeName: types.ChallengeNameTypeCustomChallenge, Session: session,
		ChallengeResponses: map[string]string{"USERNAME": email, "ANSWER": ans}, ClientMetadata: meta})
}

func apiCode(err error) string {
	var ae smithy.APIError
	if errors.As(err, &ae) {
		return ae.ErrorCode() + ": " + ae.ErrorMessage()
	}
	if err == nil {
		return "<nil>"
	}
	return err.Error()
}

func TestSignIn(t *testing.T) {
	tests := []struct {
		name    string
		run     func(t *testing.T, p *pool) (*cip.RespondToAuthChallengeOutput, error)
		wantErr string
	}{
		{"password then answer signs in", func(t *testing.T, p *pool) (*cip.RespondToAuthChallengeOutput, error) {
			out, err := p.signIn(t.Context(), email, password, nil)
			if err != nil {
				return nil, err
			}
			if out.ChallengeName != types.ChallengeNameTypeCustomChallenge || out.ChallengeParameters["hint"] != "six digits" || out.ChallengeParameters["USERNAME"] != p.user.Username {
				t.Errorf("custom challenge %+v", out)
			}
			return p.answer(t.Context(), out.Session, answer, nil)
		}, ""},
		{"wrong answer then right answer signs in", func(t *testing.T, p *pool) (*cip.RespondToAuthChallengeOutput, error) {
			out, err := p.signIn(t.Context(), email, password, nil)
			if err != nil {
				return nil, err
			}
			if out, err = p.answer(t.Context(), out.Session, "000000", nil); err != nil || out.ChallengeName != types.ChallengeNameTypeCustomChallenge {
				t.Fatalf("after a wrong answer: %v %v", out, err)
			}
			return p.answer(t.Context(), out.Session, answer, nil)
		}, ""},
		{"an afternoon TIMESTAMP from a client on a 12-hour clock signs in", func(t *testing.T, p *pool) (*cip.RespondToAuthChallengeOutput, error) {
			p.clock.now = time.Date(2026, 11, 25, 21, 5, 7, 0, time.UTC) // cognito-srp writes "09:05:07"
			out, err := p.signIn(t.Context(), email, password, nil)
			if err != nil {
				return nil, err
			}
			return p.answer(t.Context(), out.Session, answer, nil)
		}, ""},
		{"sign in by internal username", func(t *testing.T, p *pool) (*cip.RespondToAuthChallengeOutput, error) {
			out, err := p.signIn(t.Context(), p.user.Username, password, nil)
			if err != nil {
				return nil, err
			}
			return p.answer(t.Context(), out.Session, answer, nil)
		}, ""},
		{"wrong password", func(t *testing.T, p *pool) (*cip.RespondToAuthChallengeOutput, error) {
			return p.signIn(t.Context(), email, "wrong password!", nil)
		}, "NotAuthorizedException: Incorrect username or password."},
		{"unknown user fails exactly like a wrong password", func(t *testing.T, p *pool) (*cip.RespondToAuthChallengeOutput, error) {
			return p.signIn(t.Context(), "nobody@example.com", password, nil)
		}, "NotAuthorizedException: Incorrect username or password."},
		{"three wrong answers fail", func(t *testing.T, p *pool) (*cip.RespondToAuthChallengeOutput, error) {
			out, err := p.signIn(t.Context(), email, "correct horse battery staple", nil)
			for i := 0; err == nil && i < 3; i++ {
				out, err = p.answer(t.Context(), out.Session, "000000", nil)
			}
			return out, err
		}, "NotAuthorizedException: Incorrect username or password."},
		{"a session answers only once", func(t *testing.T, p *pool) (*cip.RespondToAuthChallengeOutput, error) {
			out, err := p.signIn(t.Context(), email, password, nil)
			if err != nil {
				return nil, err
			}
			if _, err := p.answer(t.Context(), out.Session, "000000", nil); err != nil {
				return nil, err
			}
			return p.answer(t.Context(), out.Session, answer, nil)
		}, "NotAuthorizedException: Invalid session for the user, session can only be used once."},
		{"a session expires", func(t *testing.T, p *pool) (*cip.RespondToAuthChallengeOutput, error) {
			out, err := p.signIn(t.Context(), email, password, nil)
			if err != nil {
				return nil, err
			}
			p.clock.Advance(3*time.Minute + time.Second)
			return p.answer(t.Context(), out.Session, answer, nil)
		}, "NotAuthorizedException: Invalid session for the user, session is expired."},
		{"a made-up session", func(t *testing.T, p *pool) (*cip.RespondToAuthChallengeOutput, error) {
			return p.answer(t.Context(), aws.String("bogus"), answer, nil)
		}, "NotAuthorizedException: Invalid session for the user."},
		{"a trigger error", func(t *testing.T, p *pool) (*cip.RespondToAuthChallengeOutput, error) {
			p.triggers.createError = errors.New("queue unavailable")
			return p.signIn(t.Context(), email, password, nil)
		}, "UserLambdaValidationException: CreateAuthChallenge failed with error queue unavailable."},
		{"custom auth without SRP_A where Define fails", func(t *testing.T, p *pool) (*cip.RespondToAuthChallengeOutput, error) {
			_, err := p.client.InitiateAuth(t.Context(), &cip.InitiateAuthInput{AuthFlow: types.AuthFlowTypeCustomAuth, ClientId: aws.String(clientID),
				AuthParameters: map[string]string{"USERNAME": email}})
			return nil, err
		}, "NotAuthorizedException: Incorrect username or password."},
		{"an SRP_A of zero", func(t *testing.T, p *pool) (*cip.RespondToAuthChallengeOutput, error) {
			_, err := p.client.InitiateAuth(t.Context(), &cip.InitiateAuthInput{AuthFlow: types.AuthFlowTypeCustomAuth, ClientId: aws.String(clientID),
				AuthParameters: map[string]string{"USERNAME": email, "SRP_A": padHex(srpN), "CHALLENGE_NAME": "SRP_A"}})
			return nil, err
		}, "InvalidParameterException: SRP_A is not a valid value"},
		{"password-only sign-in is refused", func(t *testing.T, p *pool) (*cip.RespondToAuthChallengeOutput, error) {
			_, err := p.client.InitiateAuth(t.Context(), &cip.InitiateAuthInput{AuthFlow: types.AuthFlowTypeUserSrpAuth, ClientId: aws.String(clientID),
				AuthParameters: map[string]string{"USERNAME": email, "SRP_A": "abc"}})
			return nil, err
		}, "InvalidParameterException: USER_SRP_AUTH is not enabled for the client."},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			p := newPool(t)
			out, err := tc.run(t, p)
			if got := apiCode(err); tc.wantErr != "" && got != tc.wantErr || tc.wantErr == "" && err != nil {
				t.Fatalf("error %q, want %q", got, tc.wantErr)
			}
			if tc.wantErr == "" && (out.AuthenticationResult == nil || aws.ToString(out.AuthenticationResult.IdToken) == "") {
				t.Fatalf("no tokens: %+v", out)
			}
		})
	}
}

func TestUnknownUserLooksLikeARealOne(t *testing.T) {
	p := newPool(t)
	challenge := func(name string) map[string]string {
		srp, _ := cognitosrp.NewCognitoSRP(name, password, poolID, clientID, nil)
		params := srp.GetAuthParams()
		params["CHALLENGE_NAME"] = challengeSRPA
		out, err := p.client.InitiateAuth(t.Context(), &cip.InitiateAuthInput{AuthFlow: types.AuthFlowTypeCustomAuth, ClientId: aws.String(clientID), AuthParameters: params})
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		return out.ChallengeParameters
	}
	real, fake := challenge(email), challenge("nobody@example.com")
	for _, k := range []string{"SALT", "SRP_B", "SECRET_BLOCK", "USER_ID_FOR_SRP", "USERNAME"} {
		if (real[k] == "") != (fake[k] == "") || len(real[k]) > 0 && abs(len(real[k])-len(fake[k])) > 4 {
			t.Errorf("%s differs in shape: %q vs %q", k, real[k], fake[k])
		}
	}
	if again := challenge("nobody@example.com"); again["SALT"] != fake["SALT"] || again["USER_ID_FOR_SRP"] != fake["USER_ID_FOR_SRP"] {
		t.Error("an unknown user's salt changes between attempts; a real user's does not")
	}
}

func abs(x int) int {
	if x < 0 {
		return -x
	}
	return x
}

func TestLegacyClientSaysUserNotFound(t *testing.T) {
	p := newPool(t, Client{ID: clientID, ExplicitAuthFlows: []string{FlowCustomAuth}, PreventUserExistenceErrors: "LEGACY"})
	_, err := p.signIn(t.Context(), "nobody@example.com", password, nil)
	var nf *types.UserNotFoundException
	if !errors.As(err, &nf) {
		t.Errorf("err %v, want UserNotFoundException", err)
	}
}

func TestClientWithoutCustomAuth(t *testing.T) {
	p := newPool(t, Client{ID: clientID, ExplicitAuthFlows: []string{FlowRefreshToken}})
	_, err := p.signIn(t.Context(), email, password, nil)
	var ip *types.InvalidParameterException
	if !errors.As(err, &ip) {
		t.Errorf("err %v, want InvalidParameterException", err)
	}
}

// TestTokens verifies the tokens with golang-jwt against the pool's JWKS,
// then uses them: GetUser, refresh, GlobalSignOut.
func TestTokens(t *testing.T) {
	p := newPool(t)
	out, err := p.signIn(t.Context(), email, password, nil)
	if err != nil {
		t.Fatal(err)
	}
	out, err = p.answer(t.Context(), out.Session, answer, nil)
	if err != nil {
		t.Fatal(err)
	}
	res := out.AuthenticationResult
	keys := fetchJWKS(t, p.url+"/"+poolID+"/.well-known/jwks.json")
	parse := func(tok string) jwt.MapClaims {
		claims := jwt.MapClaims{}
		_, err := jwt.ParseWithClaims(tok, claims, func(tk *jwt.Token) (any, error) { return keys[tk.Header["kid"].(string)], nil },
			jwt.WithValidMethods([]string{"RS256"}), jwt.WithIssuer(p.url+"/"+poolID), jwt.WithExpirationRequired())
		if err != nil {
			t.Fatalf("token does not verify against the JWKS: %v", err)
		}
		return claims
	}
	id, access := parse(aws.ToString(res.IdToken)), parse(aws.ToString(res.AccessToken))
	if id["token_use"] != "id" || id["aud"] != clientID || id["email"] != email || id["email_verified"] != true ||
		id["cognito:username"] != p.user.Username || id["name"] != "Rosa Díaz" || id["sub"] != p.user.Username {
		t.Errorf("id token claims %v", id)
	}
	if access["token_use"] != "access" || access["client_id"] != clientID || access["username"] != p.user.Username ||
		access["scope"] != "aws.cognito.signin.user.admin" || access["origin_jti"] != id["origin_jti"] {
		t.Errorf("access token claims %v", access)
	}
	if res.ExpiresIn != 3600 || aws.ToString(res.TokenType) != "Bearer" || aws.ToString(res.RefreshToken) == "" {
		t.Errorf("result %+v", res)
	}

	user, err := p.client.GetUser(t.Context(), &cip.GetUserInput{AccessToken: res.AccessToken})
	if err != nil || aws.ToString(user.Username) != p.user.Username {
		t.Fatalf("GetUser: %v %v", user, err)
	}
	refreshed, err := p.client.InitiateAuth(t.Context(), &cip.InitiateAuthInput{AuthFlow: types.AuthFlowTypeRefreshTokenAuth, ClientId: aws.String(clientID),
		AuthParameters: map[string]string{"REFRESH_TOKEN": aws.ToString(res.RefreshToken)}})
	if err != nil || refreshed.AuthenticationResult == nil {
		t.Fatalf("refresh: %v", err)
	}
	p.clock.Advance(time.Second)
	if _, err := p.client.GlobalSignOut(t.Context(), &cip.GlobalSignOutInput{AccessToken: res.AccessToken}); err != nil {
		t.Fatal(err)
	}
	if _, err := p.client.GetUser(t.Context(), &cip.GetUserInput{AccessToken: res.AccessToken}); apiCode(err) != "NotAuthorizedException: Access Token has been revoked" {
		t.Errorf("GetUser after sign-out: %v", err)
	}
	if _, err := p.client.InitiateAuth(t.Context(), &cip.InitiateAuthInput{AuthFlow: types.AuthFlowTypeRefreshTokenAuth, ClientId: aws.String(clientID),
		AuthParameters: map[string]string{"REFRESH_TOKEN": aws.ToString(res.RefreshToken)}}); apiCode(err) != "NotAuthorizedException: Invalid Refresh Token" {
		t.Errorf("refresh after sign-out: %v", err)
	}
}

func fetchJWKS(t *testing.T, url string) map[string]*rsa.PublicKey {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var set struct {
		Keys []struct{ Kid, N, E, Alg, Kty string }
	}
	if err := json.NewDecoder(resp.Body).Decode(&set); err != nil {
		t.Fatal(err)
	}
	keys := map[string]*rsa.PublicKey{}
	for _, k := range set.Keys {
		n, _ := base64.RawURLEncoding.DecodeString(k.N)
		e, _ := base64.RawURLEncoding.DecodeString(k.E)
		if k.Alg != "RS256" || k.Kty != "RSA" {
			t.Errorf("JWKS key %+v", k)
		}
		keys[k.Kid] = &rsa.PublicKey{N: new(big.Int).SetBytes(n), E: int(new(big.Int).SetBytes(e).Int64())}
	}
	return keys
}

// TestTriggerEvents pins the JSON the pool sends each trigger: the shape
// Cognito documents, with the ClientMetadata of RespondToAuthChallenge
// passed through and InitiateAuth's not (the golden first Define event has
// none, though signIn sent the same metadata on both calls, as Amplify does).
func TestTriggerEvents(t *testing.T) {
	p := newPool(t)
	meta := map[string]string{"locale": "de-AT"}
	out, err := p.signIn(t.Context(), email, password, meta)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := p.answer(t.Context(), out.Session, answer, map[string]string{"otp_action": "resend"}); err != nil {
		t.Fatal(err)
	}
	p.triggers.mu.Lock()
	defer p.triggers.mu.Unlock()
	first := normalize(t, p.triggers.events["define-raw"][0], p.user.Username)
	golden := filepath.Join("testdata", "define-event.json")
	if os.Getenv("UPDATE_GOLDEN") != "" {
		_ = os.WriteFile(golden, []byte(first+"\n"), 0o644)
	}
	want, err := os.ReadFile(golden)
	if err != nil {
		t.Fatal(err)
	}
	if first != strings.TrimSpace(string(want)) {
		t.Errorf("define event\n got %s\nwant %s", first, want)
	}
	var verify events.CognitoEventUserPoolsVerifyAuthChallenge
	_ = json.Unmarshal(p.triggers.events["verify"][0], &verify)
	if verify.TriggerSource != "VerifyAuthChallengeResponse_Authentication" || verify.Request.ClientMetadata["otp_action"] != "resend" ||
		verify.Request.ChallengeAnswer != answer || verify.Request.PrivateChallengeParameters["answer"] != answer {
		t.Errorf("verify event %+v", verify)
	}
	var create events.CognitoEventUserPoolsCreateAuthChallenge
	_ = json.Unmarshal(p.triggers.events["create"][0], &create)
	if create.Request.ChallengeName != challengeCustom || len(create.Request.Session) != 2 || create.Request.ClientMetadata["locale"] != "de-AT" ||
		create.Request.UserAttributes["email"] != email || create.CallerContext.ClientID != clientID {
		t.Errorf("create event %+v", create)
	}
	var last events.CognitoEventUserPoolsDefineAuthChallenge
	defines := p.triggers.events["define"]
	_ = json.Unmarshal(defines[len(defines)-1], &last)
	if n := len(last.Request.Session); n != 3 || last.Request.Session[2].ChallengeMetadata != "round-2" || !last.Request.Session[2].ChallengeResult {
		t.Errorf("last define session %+v", last.Request.Session)
	}
}

// normalize replaces the per-run values in an event: the user's id and
// the SDK version the test happens to link.
func normalize(t *testing.T, raw json.RawMessage, username string) string {
	t.Helper()
	var v map[string]any
	if err := json.Unmarshal([]byte(strings.ReplaceAll(string(raw), username, "<sub>")), &v); err != nil {
		t.Fatal(err)
	}
	v["callerContext"].(map[string]any)["awsSdkVersion"] = "<aws-sdk-go-v2>"
	var b strings.Builder
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	enc.SetIndent("", "  ")
	_ = enc.Encode(v)
	return strings.TrimSpace(b.String())
}

func TestSignUpAndAdminUsers(t *testing.T) {
	p := newPool(t)
	ctx := t.Context()
	su, err := p.client.SignUp(ctx, &cip.SignUpInput{ClientId: aws.String(clientID), Username: aws.String("yuki@example.com"), Password: aws.String("hunter2hunter2"),
		UserAttributes: []types.AttributeType{{Name: aws.String("locale"), Value: aws.String("ja")}}})
	if err != nil || su.UserConfirmed || aws.ToString(su.UserSub) == "" {
		t.Fatalf("SignUp: %+v %v", su, err)
	}
	if _, err := p.signIn(ctx, "yuki@example.com", "hunter2hunter2", nil); apiCode(err) != "UserNotConfirmedException: User is not confirmed." {
		t.Errorf("unconfirmed sign-in: %v", err)
	}
	code, _ := p.srv.ConfirmationCode("yuki@example.com")
	if _, err := p.client.ConfirmSignUp(ctx, &cip.ConfirmSignUpInput{ClientId: aws.String(clientID), Username: aws.String("yuki@example.com"), ConfirmationCode: aws.String(code)}); err != nil {
		t.Fatal(err)
	}
	if _, err := p.client.SignUp(ctx, &cip.SignUpInput{ClientId: aws.String(clientID), Username: aws.String("YUKI@example.com"), Password: aws.String("hunter2hunter2")}); apiCode(err) != "UsernameExistsException: An account with the given email already exists." {
		t.Errorf("duplicate sign-up: %v", err)
	}
	if _, err := p.client.AdminCreateUser(ctx, &cip.AdminCreateUserInput{UserPoolId: aws.String(poolID), Username: aws.String("ops@example.com"), MessageAction: types.MessageActionTypeSuppress}); err != nil {
		t.Fatal(err)
	}
	if _, err := p.client.AdminSetUserPassword(ctx, &cip.AdminSetUserPasswordInput{UserPoolId: aws.String(poolID), Username: aws.String("ops@example.com"), Password: aws.String("longenough1"), Permanent: true}); err != nil {
		t.Fatal(err)
	}
	got, err := p.client.AdminGetUser(ctx, &cip.AdminGetUserInput{UserPoolId: aws.String(poolID), Username: aws.String("ops@example.com")})
	if err != nil || got.UserStatus != types.UserStatusTypeConfirmed {
		t.Fatalf("AdminGetUser %+v %v", got, err)
	}
	if out, err := p.signIn(ctx, "ops@example.com", "longenough1", nil); err != nil || out.ChallengeName != types.ChallengeNameTypeCustomChallenge {
		t.Errorf("admin-created user sign-in: %v", err)
	}
	if _, err := p.client.AdminGetUser(ctx, &cip.AdminGetUserInput{UserPoolId: aws.String("us-east-1_Other"), Username: aws.String("ops@example.com")}); apiCode(err) != "ResourceNotFoundException: User pool us-east-1_Other does not exist." {
		t.Errorf("other pool: %v", err)
	}
}

func TestDataDirKeepsUsersAndKey(t *testing.T) {
	dir := t.TempDir()
	a, err := New(Config{PoolID: poolID, DataDir: dir, Clients: []Client{{ID: clientID, ExplicitAuthFlows: []string{FlowCustomAuth}}}})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := a.CreateUser(NewUser{Email: email, Password: password}); err != nil {
		t.Fatal(err)
	}
	b, err := New(Config{PoolID: poolID, DataDir: dir})
	if err != nil {
		t.Fatal(err)
	}
	if len(b.Users()) != 1 || b.signer.kid != a.signer.kid {
		t.Errorf("after restart: %d users, key %s vs %s", len(b.Users()), b.signer.kid, a.signer.kid)
	}
	raw, _ := os.ReadFile(filepath.Join(dir, "users.json"))
	if strings.Contains(string(raw), password) {
		t.Error("users.json holds the password")
	}
}
