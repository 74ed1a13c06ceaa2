package cognitoidp

import (
	"context"
	"net/http"
	"strings"
	"time"
)

// verificationCodeValidity is how long an attribute verification code
// works: 24 hours, as Cognito's.
const verificationCodeValidity = 24 * time.Hour

// updateAttributes applies an attribute update and, when the email
// changes without email_verified=true from an administrator, emails a
// verification code to the new address (CustomEmailSender_UpdateUserAttribute).
// Unless the pool updates emails without verification, the new address
// waits, unverified and unused, until VerifyUserAttribute: the user keeps
// signing in, and receiving sign-in codes, at the verified one. It
// returns the code delivery details, empty when no code was sent.
func (s *Server) updateAttributes(ctx context.Context, u *User, attrs map[string]string, admin bool, clientID, sdk string, meta map[string]string) ([]map[string]string, error) {
	newEmail, hasEmail := attrs["email"]
	changes := hasEmail && !strings.EqualFold(newEmail, u.email())
	verifiedByAdmin := admin && attrs["email_verified"] == "true"
	if hasEmail && (newEmail == "" || !strings.Contains(newEmail, "@")) {
		return nil, fault("InvalidParameterException", "Invalid email address format.")
	}
	if changes {
		if other := s.users.lookup(newEmail); other != nil && other.Username != u.Username {
			return nil, fault("AliasExistsException", "An account with the given email already exists.")
		}
	}
	sendCode := changes && !verifiedByAdmin
	pending := sendCode && !s.cfg.UpdateEmailWithoutVerification
	var email *sealed
	code := ""
	if sendCode {
		code = newCode()
		next := u.clone()
		for k, v := range attrs {
			if k != "email" {
				next.Attributes[k] = v
			}
		}
		var err error
		if email, err = s.seal(ctx, outgoing{source: SourceUpdateUserAttribute, user: next, to: newEmail, secret: code,
			clientID: clientID, sdk: sdk, clientMetadata: meta}); err != nil {
			return nil, err
		}
	}
	_, err := s.users.update(u.Username, func(x *User) error {
		// The code first: refused, the update changes nothing.
		if sendCode {
			if err := x.verification.issue(code, s.cfg.Now(), verificationCodeValidity); err != nil {
				return err
			}
		}
		for k, v := range attrs {
			if k == "email" && pending {
				continue
			}
			x.Attributes[k] = v
		}
		switch {
		case pending:
			x.pendingEmail = newEmail
		case sendCode:
			x.Attributes["email_verified"] = "false"
			x.pendingEmail = ""
		case changes:
			x.pendingEmail = ""
		}
		return nil
	})
	if err != nil {
		return nil, mapUserErr(err)
	}
	s.dispatch(email)
	if !sendCode {
		return []map[string]string{}, nil
	}
	return []map[string]string{deliveryDetails("email", newEmail)}, nil
}

// updateUserAttributes is the signed-in user's own update, limited to the
// app client's write attributes.
func (s *Server) updateUserAttributes(ctx context.Context, r *http.Request, body []byte) (any, error) {
	var in struct {
		AccessToken    string            `json:"AccessToken"`
		UserAttributes []attribute       `json:"UserAttributes"`
		ClientMetadata map[string]string `json:"ClientMetadata"`
	}
	if err := decode(body, &in); err != nil {
		return nil, err
	}
	u, clientID, err := s.tokenUser(in.AccessToken)
	if err != nil {
		return nil, err
	}
	attrs, err := attributesFrom(in.UserAttributes)
	if err != nil {
		return nil, err
	}
	if err := s.clients[clientID].mayWrite(attrs); err != nil {
		return nil, err
	}
	list, err := s.updateAttributes(ctx, u, attrs, false, clientID, sdkVersion(r), in.ClientMetadata)
	if err != nil {
		return nil, err
	}
	return map[string]any{"CodeDeliveryDetailsList": list}, nil
}

// getUserAttributeVerificationCode emails a new code for the email the
// user is verifying: the pending one, or the unverified current one
// (CustomEmailSender_VerifyUserAttribute).
func (s *Server) getUserAttributeVerificationCode(ctx context.Context, r *http.Request, body []byte) (any, error) {
	var in struct {
		AccessToken    string            `json:"AccessToken"`
		AttributeName  string            `json:"AttributeName"`
		ClientMetadata map[string]string `json:"ClientMetadata"`
	}
	if err := decode(body, &in); err != nil {
		return nil, err
	}
	u, clientID, err := s.tokenUser(in.AccessToken)
	if err != nil {
		return nil, err
	}
	if in.AttributeName != "email" {
		return nil, fault("InvalidParameterException", "Invalid attribute name: only email can be verified in this user pool.")
	}
	to := u.pendingEmail
	if to == "" {
		if u.Attributes["email_verified"] == "true" {
			return nil, fault("InvalidParameterException", "The email is already verified.")
		}
		to = u.email()
	}
	code := newCode()
	email, err := s.seal(ctx, outgoing{source: SourceVerifyUserAttribute, user: u, to: to, secret: code,
		clientID: clientID, sdk: sdkVersion(r), clientMetadata: in.ClientMetadata})
	if err != nil {
		return nil, err
	}
	if _, err := s.users.update(u.Username, func(x *User) error {
		return x.verification.issue(code, s.cfg.Now(), verificationCodeValidity)
	}); err != nil {
		return nil, mapUserErr(err)
	}
	s.dispatch(email)
	return map[string]any{"CodeDeliveryDetails": deliveryDetails("email", to)}, nil
}

// verifyUserAttribute checks the code and verifies the email: a pending
// address becomes the user's email (and sign-in name) only now.
func (s *Server) verifyUserAttribute(_ context.Context, _ *http.Request, body []byte) (any, error) {
	var in struct {
		AccessToken   string `json:"AccessToken"`
		AttributeName string `json:"AttributeName"`
		Code          string `json:"Code"`
	}
	if err := decode(body, &in); err != nil {
		return nil, err
	}
	u, _, err := s.tokenUser(in.AccessToken)
	if err != nil {
		return nil, err
	}
	if in.AttributeName != "email" {
		return nil, fault("InvalidParameterException", "Invalid attribute name: only email can be verified in this user pool.")
	}
	if u.pendingEmail != "" {
		if other := s.users.lookup(u.pendingEmail); other != nil && other.Username != u.Username {
			return nil, fault("AliasExistsException", "An account with the given email already exists.")
		}
	}
	_, err = s.users.update(u.Username, func(x *User) error {
		if err := x.verification.use(in.Code, s.cfg.Now()); err != nil {
			return err
		}
		if x.pendingEmail != "" {
			x.Attributes["email"], x.pendingEmail = x.pendingEmail, ""
		}
		x.Attributes["email_verified"] = "true"
		return nil
	})
	if err != nil {
		return nil, mapUserErr(err)
	}
	return struct{}{}, nil
}
