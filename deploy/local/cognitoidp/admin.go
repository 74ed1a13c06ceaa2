package cognitoidp

import (
	"context"
	"errors"
	"net/http"
	"slices"
	"strings"
	"time"
)

// NewUser is what seeding needs: a confirmed user with a password.
type NewUser struct {
	Email      string
	Password   string
	Attributes map[string]string // name, locale, custom:tenant, ...
	// EmailVerified defaults to true; otp-local's users are seeded by an
	// operator who vouches for the address.
	EmailVerified *bool
}

// CreateUser adds a confirmed user, as AdminCreateUser followed by
// AdminSetUserPassword(Permanent) would.
func (s *Server) CreateUser(n NewUser) (*User, error) {
	attrs := map[string]string{}
	for k, v := range n.Attributes {
		attrs[k] = v
	}
	attrs["email"] = n.Email
	attrs["email_verified"] = "true"
	if n.EmailVerified != nil && !*n.EmailVerified {
		attrs["email_verified"] = "false"
	}
	u, err := s.newUser(attrs, StatusConfirmed)
	if err != nil {
		return nil, err
	}
	if err := s.checkPassword(n.Password); err != nil {
		return nil, err
	}
	if err := setPassword(u, s.poolName, n.Password); err != nil {
		return nil, err
	}
	if err := s.users.add(u); err != nil {
		return nil, mapUserErr(err)
	}
	return u.clone(), nil
}

// Users lists the pool's users.
func (s *Server) Users() []*User { return s.users.list() }

// ConfirmationCode is the code ConfirmSignUp expects for a signed-up user:
// otp-local sends no sign-up email, so a test or page can ask for it.
func (s *Server) ConfirmationCode(username string) (string, bool) {
	s.users.mu.RLock()
	defer s.users.mu.RUnlock()
	for _, u := range s.users.byName {
		if u.Username == username || strings.EqualFold(u.email(), username) {
			return u.confirmation.value, u.confirmation.pending()
		}
	}
	return "", false
}

func (s *Server) newUser(attrs map[string]string, status string) (*User, error) {
	email := attrs["email"]
	if email == "" || !strings.Contains(email, "@") {
		return nil, fault("InvalidParameterException", "Invalid email address format.")
	}
	id := newUUID()
	attrs["sub"] = id
	now := time.Now().UTC()
	return &User{Username: id, Attributes: attrs, Status: status, Enabled: true, Created: now, Modified: now}, nil
}

// generatedPassword is a temporary password that meets any policy: upper,
// lower, digits and a symbol.
func generatedPassword() string {
	return "Tmp-" + randomToken(6) + "a9Z!"
}

func (s *Server) checkPassword(p string) error {
	if len(p) < MinPasswordLength {
		return fault("InvalidPasswordException", "Password did not conform with policy: Password not long enough")
	}
	return nil
}

func mapUserErr(err error) error {
	switch {
	case errors.Is(err, errUserExists):
		return fault("UsernameExistsException", "An account with the given email already exists.")
	case errors.Is(err, errUserNotFound):
		return fault("UserNotFoundException", "User does not exist.")
	}
	return err
}

// mayWrite refuses attributes the app client may not write, with Cognito's
// answer (aws/aws-sdk-js#1319): a client that could set custom:tenant could
// pick another tenant's sender, and email_verified is never client-written.
func (c Client) mayWrite(attrs map[string]string) error {
	for name := range attrs {
		if name == "email_verified" || name == "phone_number_verified" ||
			c.WriteAttributes != nil && !slices.Contains(c.WriteAttributes, name) {
			return fault("NotAuthorizedException", "A client attempted to write unauthorized attribute")
		}
	}
	return nil
}

// attributesFrom turns a request's attribute list into a map, refusing the
// attributes only Cognito sets.
func attributesFrom(list []attribute) (map[string]string, error) {
	m := map[string]string{}
	for _, a := range list {
		if a.Name == "sub" || strings.HasPrefix(a.Name, "cognito:") {
			return nil, fault("InvalidParameterException", "Cannot modify an immutable attribute: %s", a.Name)
		}
		m[a.Name] = a.Value
	}
	return m, nil
}

func (s *Server) signUp(ctx context.Context, r *http.Request, body []byte) (any, error) {
	var in struct {
		ClientID       string            `json:"ClientId"`
		Username       string            `json:"Username"`
		Password       string            `json:"Password"`
		UserAttributes []attribute       `json:"UserAttributes"`
		ClientMetadata map[string]string `json:"ClientMetadata"`
	}
	if err := decode(body, &in); err != nil {
		return nil, err
	}
	c, err := s.client(in.ClientID)
	if err != nil {
		return nil, err
	}
	if s.cfg.AllowAdminCreateUserOnly {
		return nil, fault("NotAuthorizedException", "SignUp is not permitted for this user pool")
	}
	attrs, err := attributesFrom(in.UserAttributes)
	if err != nil {
		return nil, err
	}
	if err := c.mayWrite(attrs); err != nil {
		return nil, err
	}
	if attrs["email"] == "" {
		attrs["email"] = in.Username // email is the username attribute
	}
	attrs["email_verified"] = "false"
	u, err := s.newUser(attrs, StatusUnconfirmed)
	if err != nil {
		return nil, err
	}
	if err := s.checkPassword(in.Password); err != nil {
		return nil, err
	}
	if err := setPassword(u, s.poolName, in.Password); err != nil {
		return nil, err
	}
	if err := u.confirmation.issue(newCode(), s.cfg.Now(), confirmationCodeValidity); err != nil {
		return nil, err
	}
	email, err := s.seal(ctx, outgoing{source: SourceSignUp, user: u.clone(), secret: u.confirmation.value,
		clientID: in.ClientID, sdk: sdkVersion(r), clientMetadata: in.ClientMetadata})
	if err != nil {
		return nil, err
	}
	if err := s.users.add(u); err != nil {
		return nil, mapUserErr(err)
	}
	s.dispatch(email)
	return map[string]any{
		"UserConfirmed":       false,
		"UserSub":             u.Username,
		"CodeDeliveryDetails": deliveryDetails("email", attrs["email"]),
	}, nil
}

// confirmationCodeValidity is how long a sign-up confirmation code works:
// Cognito's codes for confirming an account are valid for 24 hours.
const confirmationCodeValidity = 24 * time.Hour

// resendConfirmationCode replaces an unconfirmed user's code and emails the
// new one (CustomEmailSender_ResendCode). With PreventUserExistenceErrors
// an unknown user gets the same answer as a real one, a code "sent" to a
// simulated destination.
func (s *Server) resendConfirmationCode(ctx context.Context, r *http.Request, body []byte) (any, error) {
	var in struct {
		ClientID       string            `json:"ClientId"`
		Username       string            `json:"Username"`
		ClientMetadata map[string]string `json:"ClientMetadata"`
	}
	if err := decode(body, &in); err != nil {
		return nil, err
	}
	c, err := s.client(in.ClientID)
	if err != nil {
		return nil, err
	}
	u := s.users.lookup(in.Username)
	if u == nil {
		if c.PreventUserExistenceErrors == "ENABLED" {
			return map[string]any{"CodeDeliveryDetails": deliveryDetails("email", in.Username)}, nil
		}
		return nil, mapUserErr(errUserNotFound)
	}
	if u.Status != StatusUnconfirmed {
		return nil, fault("InvalidParameterException", "User is already confirmed.")
	}
	code := newCode()
	email, err := s.seal(ctx, outgoing{source: SourceResendCode, user: u, secret: code,
		clientID: in.ClientID, sdk: sdkVersion(r), clientMetadata: in.ClientMetadata})
	if err != nil {
		return nil, err
	}
	if _, err := s.users.update(u.Username, func(x *User) error {
		if x.Status != StatusUnconfirmed {
			return fault("InvalidParameterException", "User is already confirmed.")
		}
		return x.confirmation.issue(code, s.cfg.Now(), confirmationCodeValidity)
	}); err != nil {
		return nil, mapUserErr(err)
	}
	s.dispatch(email)
	return map[string]any{"CodeDeliveryDetails": deliveryDetails("email", u.email())}, nil
}

func (s *Server) confirmSignUp(_ context.Context, _ *http.Request, body []byte) (any, error) {
	var in struct {
		ClientID, Username, ConfirmationCode string
	}
	if err := decode(body, &in); err != nil {
		return nil, err
	}
	if _, err := s.client(in.ClientID); err != nil {
		return nil, err
	}
	u := s.users.lookup(in.Username)
	if u == nil {
		return nil, mapUserErr(errUserNotFound)
	}
	_, err := s.users.update(u.Username, func(x *User) error {
		if err := x.confirmation.use(in.ConfirmationCode, s.cfg.Now()); err != nil {
			return err
		}
		x.Status = StatusConfirmed
		x.Attributes["email_verified"] = "true"
		return nil
	})
	if err != nil {
		return nil, mapUserErr(err)
	}
	return struct{}{}, nil
}

func (s *Server) adminCreateUser(ctx context.Context, r *http.Request, body []byte) (any, error) {
	var in struct {
		UserPoolID             string            `json:"UserPoolId"`
		Username               string            `json:"Username"`
		UserAttributes         []attribute       `json:"UserAttributes"`
		TemporaryPassword      string            `json:"TemporaryPassword"`
		MessageAction          string            `json:"MessageAction"`
		DesiredDeliveryMediums []string          `json:"DesiredDeliveryMediums"`
		ClientMetadata         map[string]string `json:"ClientMetadata"`
	}
	if err := decode(body, &in); err != nil {
		return nil, err
	}
	if err := s.checkPool(in.UserPoolID); err != nil {
		return nil, err
	}
	switch in.MessageAction {
	case "", "SUPPRESS", "RESEND":
	default:
		return nil, fault("InvalidParameterException", "1 validation error detected: Value '%s' at 'messageAction' failed to satisfy constraint: Member must satisfy enum value set: [RESEND, SUPPRESS]", in.MessageAction)
	}
	// Cognito's default medium is SMS: the invitation is emailed only when
	// the caller asks for EMAIL.
	invite := in.MessageAction != "SUPPRESS" && slices.Contains(in.DesiredDeliveryMediums, "EMAIL")
	if in.MessageAction == "RESEND" {
		return s.resendInvitation(ctx, r, in.Username, in.TemporaryPassword, invite, in.ClientMetadata)
	}
	attrs, err := attributesFrom(in.UserAttributes)
	if err != nil {
		return nil, err
	}
	if attrs["email"] == "" {
		attrs["email"] = in.Username
	}
	u, err := s.newUser(attrs, StatusForceChangePassword)
	if err != nil {
		return nil, err
	}
	// Without one, Cognito makes the temporary password itself and sends it
	// in the invitation.
	temporary := in.TemporaryPassword
	if temporary == "" {
		temporary = generatedPassword()
	} else if err := s.checkPassword(temporary); err != nil {
		return nil, err
	}
	if err := setPassword(u, s.poolName, temporary); err != nil {
		return nil, err
	}
	u.TemporaryPasswordExpires = s.cfg.Now().Add(s.cfg.temporaryPasswordValidity())
	var email *sealed
	if invite {
		if email, err = s.seal(ctx, outgoing{source: SourceAdminCreateUser, user: u.clone(), secret: temporary,
			clientID: clientNotApplicable, sdk: sdkVersion(r), clientMetadata: in.ClientMetadata}); err != nil {
			return nil, err
		}
	}
	if err := s.users.add(u); err != nil {
		return nil, mapUserErr(err)
	}
	s.dispatch(email)
	return map[string]any{"User": userType(u)}, nil
}

// resendInvitation is AdminCreateUser with MessageAction RESEND: a user
// still waiting to set a password gets a new temporary password, valid
// again for the pool's TemporaryPasswordValidityDays, and a new invitation.
func (s *Server) resendInvitation(ctx context.Context, r *http.Request, username, temporary string, invite bool, meta map[string]string) (any, error) {
	u := s.users.lookup(username)
	if u == nil {
		return nil, mapUserErr(errUserNotFound)
	}
	if u.Status != StatusForceChangePassword {
		return nil, fault("UnsupportedUserStateException", "Resend not possible. %s status is not FORCE_CHANGE_PASSWORD", u.Username)
	}
	if temporary == "" {
		temporary = generatedPassword()
	} else if err := s.checkPassword(temporary); err != nil {
		return nil, err
	}
	var email *sealed
	var err error
	if invite {
		if email, err = s.seal(ctx, outgoing{source: SourceAdminCreateUser, user: u, secret: temporary,
			clientID: clientNotApplicable, sdk: sdkVersion(r), clientMetadata: meta}); err != nil {
			return nil, err
		}
	}
	u, err = s.users.update(u.Username, func(x *User) error {
		x.TemporaryPasswordExpires = s.cfg.Now().Add(s.cfg.temporaryPasswordValidity())
		return setPassword(x, s.poolName, temporary)
	})
	if err != nil {
		return nil, mapUserErr(err)
	}
	s.dispatch(email)
	return map[string]any{"User": userType(u)}, nil
}

func (s *Server) adminSetUserPassword(_ context.Context, _ *http.Request, body []byte) (any, error) {
	var in struct {
		UserPoolID string `json:"UserPoolId"`
		Username   string `json:"Username"`
		Password   string `json:"Password"`
		Permanent  bool   `json:"Permanent"`
	}
	if err := decode(body, &in); err != nil {
		return nil, err
	}
	if err := s.checkPool(in.UserPoolID); err != nil {
		return nil, err
	}
	if err := s.checkPassword(in.Password); err != nil {
		return nil, err
	}
	u := s.users.lookup(in.Username)
	if u == nil {
		return nil, mapUserErr(errUserNotFound)
	}
	_, err := s.users.update(u.Username, func(x *User) error {
		if in.Permanent {
			x.Status, x.TemporaryPasswordExpires = StatusConfirmed, time.Time{}
		} else {
			x.Status, x.TemporaryPasswordExpires = StatusForceChangePassword, s.cfg.Now().Add(s.cfg.temporaryPasswordValidity())
		}
		return setPassword(x, s.poolName, in.Password)
	})
	return struct{}{}, mapUserErr(err)
}

// adminResetUserPassword puts the user in RESET_REQUIRED: the password no
// longer works, and sign-in answers PasswordResetRequiredException until an
// administrator sets a new one (account recovery is by an administrator in
// this project's pools).
func (s *Server) adminResetUserPassword(_ context.Context, _ *http.Request, body []byte) (any, error) {
	var in struct{ UserPoolId, Username string }
	if err := decode(body, &in); err != nil {
		return nil, err
	}
	if err := s.checkPool(in.UserPoolId); err != nil {
		return nil, err
	}
	u := s.users.lookup(in.Username)
	if u == nil {
		return nil, mapUserErr(errUserNotFound)
	}
	_, err := s.users.update(u.Username, func(x *User) error {
		if x.Status == StatusUnconfirmed {
			return fault("NotAuthorizedException", "User password cannot be reset in the current state.")
		}
		x.Status = StatusResetRequired
		return nil
	})
	return struct{}{}, mapUserErr(err)
}

func (s *Server) adminConfirmSignUp(_ context.Context, _ *http.Request, body []byte) (any, error) {
	var in struct{ UserPoolId, Username string }
	if err := decode(body, &in); err != nil {
		return nil, err
	}
	if err := s.checkPool(in.UserPoolId); err != nil {
		return nil, err
	}
	u := s.users.lookup(in.Username)
	if u == nil {
		return nil, mapUserErr(errUserNotFound)
	}
	_, err := s.users.update(u.Username, func(x *User) error {
		x.Status, x.confirmation = StatusConfirmed, emailedCode{}
		return nil
	})
	return struct{}{}, mapUserErr(err)
}

func (s *Server) adminGetUser(_ context.Context, _ *http.Request, body []byte) (any, error) {
	var in struct{ UserPoolId, Username string }
	if err := decode(body, &in); err != nil {
		return nil, err
	}
	if err := s.checkPool(in.UserPoolId); err != nil {
		return nil, err
	}
	u := s.users.lookup(in.Username)
	if u == nil {
		return nil, mapUserErr(errUserNotFound)
	}
	t := userType(u)
	t["UserAttributes"] = t["Attributes"]
	delete(t, "Attributes")
	return t, nil
}

func (s *Server) adminUpdateUserAttributes(ctx context.Context, r *http.Request, body []byte) (any, error) {
	var in struct {
		UserPoolID     string            `json:"UserPoolId"`
		Username       string            `json:"Username"`
		UserAttributes []attribute       `json:"UserAttributes"`
		ClientMetadata map[string]string `json:"ClientMetadata"`
	}
	if err := decode(body, &in); err != nil {
		return nil, err
	}
	if err := s.checkPool(in.UserPoolID); err != nil {
		return nil, err
	}
	attrs, err := attributesFrom(in.UserAttributes)
	if err != nil {
		return nil, err
	}
	u := s.users.lookup(in.Username)
	if u == nil {
		return nil, mapUserErr(errUserNotFound)
	}
	if _, err := s.updateAttributes(ctx, u, attrs, true, clientNotApplicable, sdkVersion(r), in.ClientMetadata); err != nil {
		return nil, err
	}
	return struct{}{}, nil
}

func (s *Server) adminDeleteUser(_ context.Context, _ *http.Request, body []byte) (any, error) {
	var in struct{ UserPoolId, Username string }
	if err := decode(body, &in); err != nil {
		return nil, err
	}
	if err := s.checkPool(in.UserPoolId); err != nil {
		return nil, err
	}
	u := s.users.lookup(in.Username)
	if u == nil {
		return nil, mapUserErr(errUserNotFound)
	}
	return struct{}{}, mapUserErr(s.users.remove(u.Username))
}

func (s *Server) listUsers(_ context.Context, _ *http.Request, body []byte) (any, error) {
	var in struct{ UserPoolId string }
	if err := decode(body, &in); err != nil {
		return nil, err
	}
	if err := s.checkPool(in.UserPoolId); err != nil {
		return nil, err
	}
	out := []map[string]any{}
	for _, u := range s.users.list() {
		out = append(out, userType(u))
	}
	return map[string]any{"Users": out}, nil
}

// getUser answers for the holder of an access token.
func (s *Server) getUser(_ context.Context, _ *http.Request, body []byte) (any, error) {
	var in struct{ AccessToken string }
	if err := decode(body, &in); err != nil {
		return nil, err
	}
	u, err := s.userFromAccessToken(in.AccessToken)
	if err != nil {
		return nil, err
	}
	return map[string]any{"Username": u.Username, "UserAttributes": toAttributes(u.Attributes)}, nil
}

func (s *Server) globalSignOut(_ context.Context, _ *http.Request, body []byte) (any, error) {
	var in struct{ AccessToken string }
	if err := decode(body, &in); err != nil {
		return nil, err
	}
	u, err := s.userFromAccessToken(in.AccessToken)
	if err != nil {
		return nil, err
	}
	s.revoked.Store(u.Username, s.cfg.Now())
	s.refresh.Range(func(k, v any) bool {
		if v.(refreshGrant).username == u.Username {
			s.refresh.Delete(k)
		}
		return true
	})
	return struct{}{}, nil
}

func (s *Server) userFromAccessToken(token string) (*User, error) {
	u, _, err := s.tokenUser(token)
	return u, err
}

// tokenUser is the holder of an access token, and the app client it was
// issued to.
func (s *Server) tokenUser(token string) (*User, string, error) {
	claims, err := s.signer.verify(token, s.cfg.Now())
	if err != nil || claims["token_use"] != "access" {
		return nil, "", fault("NotAuthorizedException", "Invalid Access Token")
	}
	name, _ := claims["username"].(string)
	if t, ok := s.revoked.Load(name); ok {
		if iat, _ := claims["iat"].(float64); int64(iat) <= t.(time.Time).Unix() {
			return nil, "", fault("NotAuthorizedException", "Access Token has been revoked")
		}
	}
	u := s.users.lookup(name)
	if u == nil {
		return nil, "", fault("NotAuthorizedException", "Invalid Access Token")
	}
	clientID, _ := claims["client_id"].(string)
	return u, clientID, nil
}

func userType(u *User) map[string]any {
	return map[string]any{
		"Username":             u.Username,
		"Attributes":           toAttributes(u.Attributes),
		"UserStatus":           u.Status,
		"Enabled":              u.Enabled,
		"UserCreateDate":       float64(u.Created.UnixMilli()) / 1000,
		"UserLastModifiedDate": float64(u.Modified.UnixMilli()) / 1000,
	}
}
