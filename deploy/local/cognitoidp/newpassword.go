package cognitoidp

import (
	"context"
	"encoding/json"
	"strings"

	"github.com/aws/aws-lambda-go/events"
)

// newPasswordChallenge answers a correct password of a user in
// FORCE_CHANGE_PASSWORD (AdminCreateUser, or AdminSetUserPassword with
// Permanent false) with Cognito's own NEW_PASSWORD_REQUIRED, without calling
// Define: the session Define sees never names that challenge (the developer
// guide lists SRP_A, PASSWORD_VERIFIER, CUSTOM_CHALLENGE and the MFA and
// device ones), and the only report of the flow (amazon-cognito-identity-js
// #341) has Cognito ask for the new password right after the password step.
func (s *Server) newPasswordChallenge(a *authSession) (any, error) {
	attrs := map[string]string{}
	for k, v := range a.user.Attributes {
		// Amplify shows userAttributes to the user; Cognito leaves out the
		// ones no one may write.
		if k == "sub" || strings.HasSuffix(k, "_verified") {
			continue
		}
		attrs[k] = v
	}
	userAttrs, _ := json.Marshal(attrs)
	a.expect = challengeNewPassword
	return authOutput{
		ChallengeName: challengeNewPassword,
		ChallengeParameters: map[string]string{
			"USER_ID_FOR_SRP":    a.userID,
			"requiredAttributes": "[]",
			"userAttributes":     string(userAttrs),
		},
		Session: s.sessions.put(a, s.cfg.Now()),
	}, nil
}

// completeNewPassword takes NEW_PASSWORD (and any userAttributes.*), makes
// the password permanent and the user CONFIRMED, and issues tokens as
// Cognito was seen to do: without calling Define again, so a custom
// challenge that was to follow the password never runs. The tokens pass
// through the pre token generation trigger as TokenGeneration_NewPasswordChallenge,
// which is where the product refuses them (triggers.PreTokenGeneration).
func (s *Server) completeNewPassword(ctx context.Context, a *authSession, resp map[string]string, clientMetadata map[string]string) (any, error) {
	if err := s.checkUsername(a, resp); err != nil {
		return nil, s.failed(err)
	}
	password, ok := resp["NEW_PASSWORD"]
	if !ok || password == "" {
		return nil, s.failed(fault("InvalidParameterException", "Missing required parameter NEW_PASSWORD"))
	}
	if err := s.checkPassword(password); err != nil {
		return nil, s.failed(err)
	}
	attrs := map[string]string{}
	for k, v := range resp {
		if name, ok := strings.CutPrefix(k, "userAttributes."); ok {
			attrs[name] = v
		}
	}
	if err := s.clients[a.clientID].mayWrite(attrs); err != nil {
		return nil, s.failed(err)
	}
	u, err := s.users.update(a.user.Username, func(x *User) error {
		for k, v := range attrs {
			x.Attributes[k] = v
		}
		x.Status = StatusConfirmed
		return setPassword(x, s.poolName, password)
	})
	if err != nil {
		return nil, s.failed(mapUserErr(err))
	}
	a.user = u
	a.history = append(a.history, &events.CognitoEventUserPoolsChallengeResult{ChallengeName: challengeNewPassword, ChallengeResult: true})
	return s.issueTokensVia(ctx, a, "TokenGeneration_NewPasswordChallenge", clientMetadata)
}
