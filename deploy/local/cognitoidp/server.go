package cognitoidp

import (
	"context"
	"crypto/rand"
	"crypto/rsa"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/aws/aws-lambda-go/lambda"
)

// TargetPrefix is the X-Amz-Target prefix of this API.
const TargetPrefix = "AWSCognitoIdentityProviderService."

// Auth flows an app client may allow, as Cognito names them.
const (
	FlowCustomAuth   = "ALLOW_CUSTOM_AUTH"
	FlowUserSRPAuth  = "ALLOW_USER_SRP_AUTH"
	FlowRefreshToken = "ALLOW_REFRESH_TOKEN_AUTH"
)

// Client is an app client.
type Client struct {
	ID, Name          string
	ExplicitAuthFlows []string
	// PreventUserExistenceErrors is "ENABLED" (the default here, as in
	// new Cognito pools) or "LEGACY".
	PreventUserExistenceErrors string
	// AuthSessionValidity bounds a sign-in's session (Cognito: 3..15 min).
	AuthSessionValidity time.Duration
	// WriteAttributes are the attributes SignUp may set through this
	// client; nil means every attribute, as Cognito's default. The SAM
	// template's client leaves out email and custom:tenant.
	WriteAttributes      []string
	AccessTokenValidity  time.Duration
	IDTokenValidity      time.Duration
	RefreshTokenValidity time.Duration
}

func (c Client) allows(flow string) bool { return slices.Contains(c.ExplicitAuthFlows, flow) }

// Triggers are the pool's Lambda functions: the custom-auth three and,
// optionally, pre token generation (V1_0).
type Triggers struct {
	Define, Create, Verify lambda.Handler
	PreTokenGeneration     lambda.Handler
}

// Config describes the pool.
type Config struct {
	// PoolID is "<region>_<name>"; SRP uses the part after the underscore.
	PoolID   string
	Clients  []Client
	Triggers Triggers
	// DataDir keeps users and the signing key across restarts; empty keeps
	// them in memory.
	DataDir string
	// SigningKey overrides the generated RSA key (tests share one).
	SigningKey *rsa.PrivateKey
	Now        func() time.Time
	Log        *slog.Logger
	// AllowAdminCreateUserOnly refuses SignUp, as a pool whose
	// AdminCreateUserConfig says so (the SAM template's default).
	AllowAdminCreateUserOnly bool
	// TemporaryPasswordValidity is how long AdminCreateUser's temporary
	// password works; 0 means the pool default, 7 days
	// (TemporaryPasswordValidityDays).
	TemporaryPasswordValidity time.Duration
	// UpdateEmailWithoutVerification changes a user's email at once when it
	// is updated, unverified, as a pool without
	// UserAttributeUpdateSettings does. The default keeps the verified
	// address until the new one is verified
	// (AttributesRequireVerificationBeforeUpdate: [email]), as the SAM
	// template's pool does: the email is the second factor, and an
	// unverified one would lock the user out of signing in to verify it.
	UpdateEmailWithoutVerification bool
	// TriggerTimeout is how long a trigger invocation may take before
	// Cognito retries it; 0 means Cognito's 5 s. Tests shorten it.
	TriggerTimeout time.Duration
	// AllowedOrigins are the browser origins (scheme://host:port) that may
	// call the API: otp-local's own pages, and a developer's app given with
	// --cors-origin. Cognito itself answers any origin; otp-local holds
	// codes on a machine's loopback and has no authentication, so another
	// site open in the same browser must not be able to drive it.
	AllowedOrigins []string
}

// Server serves the API.
type Server struct {
	cfg      Config
	region   string
	poolName string
	clients  map[string]Client
	users    *users
	signer   *signer
	sessions *sessions
	refresh  sync.Map // refresh token -> refreshGrant
	revoked  sync.Map // username -> time of GlobalSignOut
	secret   []byte   // derives fake SRP values for unknown users
	lockout  lockouts
	stats    Stats
	senderMu sync.Mutex
	sender   *EmailSender
	async    sync.WaitGroup // custom email sender invocations in flight
}

// Stats count sign-ins, for the ops page.
type Stats struct {
	Started, Succeeded, Failed atomic.Int64
}

// New builds a pool.
func New(cfg Config) (*Server, error) {
	region, name, ok := strings.Cut(cfg.PoolID, "_")
	if !ok || region == "" || name == "" {
		return nil, fmt.Errorf("cognito: pool id %q: want <region>_<name>", cfg.PoolID)
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.Log == nil {
		cfg.Log = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	u, err := newUsers(cfg.DataDir)
	if err != nil {
		return nil, err
	}
	key := cfg.SigningKey
	if key == nil {
		if key, err = loadOrCreateKey(cfg.DataDir); err != nil {
			return nil, err
		}
	}
	s := &Server{cfg: cfg, region: region, poolName: name, clients: map[string]Client{}, users: u,
		signer: newSigner(key), sessions: newSessions(), secret: make([]byte, 32)}
	_, _ = rand.Read(s.secret)
	for _, c := range cfg.Clients {
		if err := s.AddClient(c); err != nil {
			return nil, err
		}
	}
	return s, nil
}

// AddClient registers an app client, with Cognito's defaults for what it
// leaves out.
func (s *Server) AddClient(c Client) error {
	if c.ID == "" {
		return errors.New("cognito: client needs an id")
	}
	if c.PreventUserExistenceErrors == "" {
		c.PreventUserExistenceErrors = "ENABLED"
	}
	if c.AuthSessionValidity == 0 {
		c.AuthSessionValidity = 3 * time.Minute
	}
	if c.AuthSessionValidity < 3*time.Minute || c.AuthSessionValidity > 15*time.Minute {
		return fmt.Errorf("cognito: client %s: AuthSessionValidity %s: Cognito allows 3m..15m", c.ID, c.AuthSessionValidity)
	}
	c.AccessTokenValidity = cmpOr(c.AccessTokenValidity, time.Hour)
	c.IDTokenValidity = cmpOr(c.IDTokenValidity, time.Hour)
	c.RefreshTokenValidity = cmpOr(c.RefreshTokenValidity, 30*24*time.Hour)
	s.clients[c.ID] = c
	return nil
}

func cmpOr(d, def time.Duration) time.Duration {
	if d == 0 {
		return def
	}
	return d
}

func (c Config) temporaryPasswordValidity() time.Duration {
	if c.TemporaryPasswordValidity > 0 {
		return c.TemporaryPasswordValidity
	}
	return 7 * 24 * time.Hour
}

// SetTriggers plugs in the custom-auth functions.
func (s *Server) SetTriggers(t Triggers) { s.cfg.Triggers = t }

// PoolID returns the pool's id.
func (s *Server) PoolID() string { return s.cfg.PoolID }

// Stats returns the sign-in counters.
func (s *Server) Stats() *Stats { return &s.stats }

// apiError is an error as Cognito returns it.
type apiError struct {
	status  int
	code    string
	message string
}

func (e *apiError) Error() string { return e.code + ": " + e.message }

func fault(code, format string, args ...any) *apiError {
	return &apiError{status: http.StatusBadRequest, code: code, message: fmt.Sprintf(format, args...)}
}

var (
	errNotAuthorized = fault("NotAuthorizedException", "Incorrect username or password.")
	errSessionUsed   = fault("NotAuthorizedException", "Invalid session for the user, session can only be used once.")
	errSessionExpiry = fault("NotAuthorizedException", "Invalid session for the user, session is expired.")
	errSessionBad    = fault("NotAuthorizedException", "Invalid session for the user.")
)

// ServeHTTP answers API calls (POST with X-Amz-Target), CORS preflights,
// and the pool's JWKS and OpenID configuration.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	allowed := s.cors(w, r)
	switch {
	case r.Method == http.MethodOptions:
		if !allowed {
			http.Error(w, "otp-local: origin not allowed (start otp-local with --cors-origin "+r.Header.Get("Origin")+")", http.StatusForbidden)
			return
		}
		w.WriteHeader(http.StatusOK)
	case r.Method == http.MethodGet && r.URL.Path == "/"+s.cfg.PoolID+"/.well-known/jwks.json":
		writeJSON(w, http.StatusOK, s.signer.jwks())
	case r.Method == http.MethodGet && r.URL.Path == "/"+s.cfg.PoolID+"/.well-known/openid-configuration":
		iss := s.issuer(r)
		writeJSON(w, http.StatusOK, map[string]any{
			"issuer": iss, "jwks_uri": iss + "/.well-known/jwks.json",
			"id_token_signing_alg_values_supported": []string{"RS256"},
			"subject_types_supported":               []string{"public"},
			"response_types_supported":              []string{"code", "token"},
		})
	case r.Method == http.MethodPost && strings.HasPrefix(r.Header.Get("X-Amz-Target"), TargetPrefix):
		if !allowed {
			writeError(w, &apiError{status: http.StatusForbidden, code: "AccessDeniedException",
				message: "otp-local: requests from origin " + r.Header.Get("Origin") + " are not allowed; start otp-local with --cors-origin " + r.Header.Get("Origin")})
			return
		}
		s.serveAPI(w, r)
	default:
		http.NotFound(w, r)
	}
}

// cors answers a browser's cross-origin checks for the allowed origins
// only, and reports whether the request may proceed: it has no Origin (an
// SDK, curl) or an allowed one.
func (s *Server) cors(w http.ResponseWriter, r *http.Request) bool {
	origin := r.Header.Get("Origin")
	if origin == "" {
		return true
	}
	if !slices.Contains(s.cfg.AllowedOrigins, origin) {
		return false
	}
	h := w.Header()
	h.Set("Access-Control-Allow-Origin", origin)
	h.Set("Vary", "Origin")
	h.Set("Access-Control-Allow-Methods", "POST, GET, OPTIONS")
	h.Set("Access-Control-Allow-Headers", "content-type, x-amz-target, x-amz-user-agent, cache-control, amz-sdk-invocation-id, amz-sdk-request, authorization, x-amz-date, x-amz-content-sha256, x-amz-security-token")
	h.Set("Access-Control-Expose-Headers", "x-amzn-requestid, x-amzn-errortype, x-amzn-errormessage, date")
	h.Set("Access-Control-Max-Age", "600")
	return true
}

// adminOp reports whether an operation is one Cognito authorizes with IAM
// (SigV4) rather than an app client or an access token.
func adminOp(name string) bool {
	return strings.HasPrefix(name, "Admin") || name == "ListUsers"
}

// refuseAdmin keeps administrative calls to what an operator's SDK sends:
// signed with SigV4, as Cognito requires, and never from a web page, whose
// origin says a browser sent it.
func refuseAdmin(r *http.Request) *apiError {
	if r.Header.Get("Origin") != "" || r.Header.Get("Sec-Fetch-Mode") != "" {
		return &apiError{status: http.StatusForbidden, code: "AccessDeniedException", message: "otp-local: administrative calls are not accepted from a browser page"}
	}
	if !strings.HasPrefix(r.Header.Get("Authorization"), "AWS4-HMAC-SHA256 ") {
		return &apiError{status: http.StatusForbidden, code: "MissingAuthenticationTokenException", message: "Missing Authentication Token"}
	}
	return nil
}

func (s *Server) issuer(r *http.Request) string { return "http://" + r.Host + "/" + s.cfg.PoolID }

type op func(ctx context.Context, r *http.Request, body []byte) (any, error)

func (s *Server) ops() map[string]op {
	return map[string]op{
		"InitiateAuth":                     s.initiateAuth,
		"RespondToAuthChallenge":           s.respondToAuthChallenge,
		"SignUp":                           s.signUp,
		"ConfirmSignUp":                    s.confirmSignUp,
		"AdminCreateUser":                  s.adminCreateUser,
		"AdminSetUserPassword":             s.adminSetUserPassword,
		"AdminResetUserPassword":           s.adminResetUserPassword,
		"AdminConfirmSignUp":               s.adminConfirmSignUp,
		"AdminGetUser":                     s.adminGetUser,
		"AdminUpdateUserAttributes":        s.adminUpdateUserAttributes,
		"AdminDeleteUser":                  s.adminDeleteUser,
		"ListUsers":                        s.listUsers,
		"GetUser":                          s.getUser,
		"GlobalSignOut":                    s.globalSignOut,
		"ResendConfirmationCode":           s.resendConfirmationCode,
		"UpdateUserAttributes":             s.updateUserAttributes,
		"VerifyUserAttribute":              s.verifyUserAttribute,
		"GetUserAttributeVerificationCode": s.getUserAttributeVerificationCode,
	}
}

func (s *Server) serveAPI(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("x-amzn-RequestId", newUUID())
	name := strings.TrimPrefix(r.Header.Get("X-Amz-Target"), TargetPrefix)
	handler, ok := s.ops()[name]
	if !ok {
		writeError(w, &apiError{status: http.StatusBadRequest, code: "UnknownOperationException", message: "Unknown operation " + name})
		return
	}
	if adminOp(name) {
		if ae := refuseAdmin(r); ae != nil {
			writeError(w, ae)
			return
		}
	}
	body, err := io.ReadAll(io.LimitReader(r.Body, 1<<20))
	if err != nil {
		writeError(w, fault("InvalidParameterException", "could not read the request"))
		return
	}
	out, err := handler(r.Context(), r, body)
	if err != nil {
		var ae *apiError
		if !errors.As(err, &ae) {
			s.cfg.Log.Error("cognito internal error", slog.String("op", name), slog.String("error", err.Error()))
			ae = &apiError{status: http.StatusInternalServerError, code: "InternalErrorException", message: "Internal error"}
		}
		writeError(w, ae)
		return
	}
	writeJSON(w, http.StatusOK, out)
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/x-amz-json-1.1")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

func writeError(w http.ResponseWriter, e *apiError) {
	w.Header().Set("x-amzn-ErrorType", e.code+":")
	w.Header().Set("x-amzn-ErrorMessage", e.message)
	writeJSON(w, e.status, map[string]string{"__type": e.code, "message": e.message})
}

// decode reads a request body, reporting shape errors as Cognito does.
func decode(body []byte, into any) error {
	if err := json.Unmarshal(body, into); err != nil {
		return fault("SerializationException", "could not parse the request body")
	}
	return nil
}

// attribute is Cognito's {Name, Value}.
type attribute struct {
	Name  string `json:"Name"`
	Value string `json:"Value"`
}

func toAttributes(m map[string]string) []attribute {
	out := make([]attribute, 0, len(m))
	for k, v := range m {
		out = append(out, attribute{k, v})
	}
	slices.SortFunc(out, func(a, b attribute) int { return strings.Compare(a.Name, b.Name) })
	return out
}

func (s *Server) client(id string) (Client, error) {
	c, ok := s.clients[id]
	if !ok {
		return c, fault("ResourceNotFoundException", "User pool client %s does not exist.", id)
	}
	return c, nil
}

func (s *Server) checkPool(id string) error {
	if id != s.cfg.PoolID {
		return fault("ResourceNotFoundException", "User pool %s does not exist.", id)
	}
	return nil
}

func randomToken(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}
