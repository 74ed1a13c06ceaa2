package cognitoidp

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	cip "github.com/aws/aws-sdk-go-v2/service/cognitoidentityprovider"
	"github.com/aws/aws-sdk-go-v2/service/cognitoidentityprovider/types"
)

// reversible stands in for the Encryption SDK in this package's tests
// (otp-local's tests run the real one against its KMS): it only has to
// show that the event never carries the plaintext.
type reversible struct{ fail error }

func (r reversible) Encrypt(_ context.Context, p []byte) (string, error) {
	if r.fail != nil {
		return "", r.fail
	}
	return base64.StdEncoding.EncodeToString(append([]byte("sealed:"), p...)), nil
}

func unseal(t *testing.T, ct *string) string {
	t.Helper()
	if ct == nil {
		t.Fatal("the event has no code")
	}
	b, err := base64.StdEncoding.DecodeString(*ct)
	if err != nil || !strings.HasPrefix(string(b), "sealed:") {
		t.Fatalf("code %q is not a ciphertext", *ct)
	}
	return strings.TrimPrefix(string(b), "sealed:")
}

// mailbox records the custom email sender's events.
type mailbox struct {
	mu     sync.Mutex
	events []senderEvent
	raw    []string
	fails  int // invocations to fail before succeeding
	calls  int
}

func (m *mailbox) Invoke(_ context.Context, payload []byte) ([]byte, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.calls++
	if m.fails > 0 {
		m.fails--
		return nil, errors.New("sender: KMS unavailable")
	}
	var ev senderEvent
	if err := json.Unmarshal(payload, &ev); err != nil {
		return nil, err
	}
	m.events = append(m.events, ev)
	m.raw = append(m.raw, string(payload))
	return []byte(`{}`), nil
}

func (m *mailbox) take(t *testing.T, srv *Server) []senderEvent {
	t.Helper()
	srv.WaitEmails()
	m.mu.Lock()
	defer m.mu.Unlock()
	out := m.events
	m.events = nil
	return out
}

func newSenderPool(t *testing.T) (*pool, *mailbox) {
	t.Helper()
	p := newPool(t)
	mb := &mailbox{}
	p.srv.SetEmailSender(&EmailSender{Function: mb, Encryptor: reversible{}, RetryDelays: []time.Duration{time.Millisecond, time.Millisecond}})
	return p, mb
}

func only(t *testing.T, evs []senderEvent, source string) senderEvent {
	t.Helper()
	if len(evs) != 1 || evs[0].TriggerSource != source {
		var got []string
		for _, e := range evs {
			got = append(got, e.TriggerSource)
		}
		t.Fatalf("emails: %v, want one %s", got, source)
	}
	ev := evs[0]
	if ev.Version != "1" || ev.Request.Type != "customEmailSenderRequestV1" || ev.UserPoolID != poolID || ev.Region != "us-east-1" {
		t.Errorf("event header %+v", ev)
	}
	return ev
}

func TestSignUpEmailsTheConfirmationCodeThroughTheSender(t *testing.T) {
	p, mb := newSenderPool(t)
	ctx := t.Context()
	const who = "layla@example.com"
	su, err := p.client.SignUp(ctx, &cip.SignUpInput{ClientId: aws.String(clientID), Username: aws.String(who), Password: aws.String("hunter2hunter2"),
		UserAttributes: []types.AttributeType{{Name: aws.String("locale"), Value: aws.String("ar")}},
		ClientMetadata: map[string]string{"page": "sign-up"}})
	if err != nil {
		t.Fatal(err)
	}
	if d := su.CodeDeliveryDetails; d == nil || aws.ToString(d.Destination) != "l***@example.com" || d.DeliveryMedium != types.DeliveryMediumTypeEmail {
		t.Errorf("CodeDeliveryDetails %+v", d)
	}
	ev := only(t, mb.take(t, p.srv), SourceSignUp)
	first := unseal(t, ev.Request.Code)
	if stored, _ := p.srv.ConfirmationCode(who); first != stored || len(first) != 6 {
		t.Errorf("emailed code %q, pool expects %q", first, stored)
	}
	if ev.UserName != aws.ToString(su.UserSub) || ev.CallerContext.ClientID != clientID || ev.Request.ClientMetadata["page"] != "sign-up" {
		t.Errorf("event names %q client %q metadata %v", ev.UserName, ev.CallerContext.ClientID, ev.Request.ClientMetadata)
	}
	if a := ev.Request.UserAttributes; a["email"] != who || a["locale"] != "ar" || a["email_verified"] != "false" || a["cognito:user_status"] != StatusUnconfirmed {
		t.Errorf("userAttributes %v", a)
	}
	if strings.Contains(mb.raw[0], first) {
		t.Error("the event carries the plaintext code")
	}

	// A resent code replaces the first one.
	if _, err := p.client.ResendConfirmationCode(ctx, &cip.ResendConfirmationCodeInput{ClientId: aws.String(clientID), Username: aws.String(who)}); err != nil {
		t.Fatal(err)
	}
	second := unseal(t, only(t, mb.take(t, p.srv), SourceResendCode).Request.Code)
	confirm := func(code string) error {
		_, err := p.client.ConfirmSignUp(ctx, &cip.ConfirmSignUpInput{ClientId: aws.String(clientID), Username: aws.String(who), ConfirmationCode: aws.String(code)})
		return err
	}
	if first != second {
		if err := confirm(first); apiCode(err) != "CodeMismatchException: Invalid verification code provided, please try again." {
			t.Errorf("the replaced code: %v", apiCode(err))
		}
	}
	if err := confirm(second); err != nil {
		t.Fatal(err)
	}
	if _, err := p.client.ResendConfirmationCode(ctx, &cip.ResendConfirmationCodeInput{ClientId: aws.String(clientID), Username: aws.String(who)}); apiCode(err) != "InvalidParameterException: User is already confirmed." {
		t.Errorf("resend to a confirmed user: %v", apiCode(err))
	}
	// No one learns from ResendConfirmationCode whether an account exists.
	out, err := p.client.ResendConfirmationCode(ctx, &cip.ResendConfirmationCodeInput{ClientId: aws.String(clientID), Username: aws.String("nobody@example.com")})
	if err != nil || aws.ToString(out.CodeDeliveryDetails.Destination) != "n***@example.com" {
		t.Errorf("unknown user: %+v %v", out, err)
	}
	if evs := mb.take(t, p.srv); len(evs) != 0 {
		t.Errorf("emails for a confirmed and an unknown user: %d", len(evs))
	}
}

func TestConfirmationCodesExpireAfter24Hours(t *testing.T) {
	p, mb := newSenderPool(t)
	ctx := t.Context()
	if _, err := p.client.SignUp(ctx, &cip.SignUpInput{ClientId: aws.String(clientID), Username: aws.String("late@example.com"), Password: aws.String("hunter2hunter2")}); err != nil {
		t.Fatal(err)
	}
	code := unseal(t, only(t, mb.take(t, p.srv), SourceSignUp).Request.Code)
	p.clock.Advance(24 * time.Hour)
	_, err := p.client.ConfirmSignUp(ctx, &cip.ConfirmSignUpInput{ClientId: aws.String(clientID), Username: aws.String("late@example.com"), ConfirmationCode: aws.String(code)})
	if apiCode(err) != "ExpiredCodeException: Invalid code provided, please request a code again." {
		t.Errorf("a day-old code: %v", apiCode(err))
	}
}

func TestInvitationCarriesTheTemporaryPassword(t *testing.T) {
	p, mb := newSenderPool(t)
	ctx := t.Context()
	create := func(who string, action types.MessageActionType, mediums ...types.DeliveryMediumType) error {
		_, err := p.client.AdminCreateUser(ctx, &cip.AdminCreateUserInput{UserPoolId: aws.String(poolID), Username: aws.String(who),
			UserAttributes: []types.AttributeType{{Name: aws.String("custom:tenant"), Value: aws.String("globex")}},
			MessageAction:  action, DesiredDeliveryMediums: mediums, TemporaryPassword: aws.String("Temp-pass-42!")})
		return err
	}
	if err := create("new@example.com", "", types.DeliveryMediumTypeEmail); err != nil {
		t.Fatal(err)
	}
	ev := only(t, mb.take(t, p.srv), SourceAdminCreateUser)
	if got := unseal(t, ev.Request.Code); got != "Temp-pass-42!" {
		t.Errorf("invitation secret %q", got)
	}
	if ev.CallerContext.ClientID != clientNotApplicable || ev.Request.UserAttributes["custom:tenant"] != "globex" ||
		ev.Request.UserAttributes["cognito:user_status"] != StatusForceChangePassword {
		t.Errorf("invitation event %+v", ev)
	}
	// SMS is Cognito's default medium, and SUPPRESS sends nothing.
	if err := create("sms@example.com", ""); err != nil {
		t.Fatal(err)
	}
	if err := create("quiet@example.com", types.MessageActionTypeSuppress, types.DeliveryMediumTypeEmail); err != nil {
		t.Fatal(err)
	}
	if evs := mb.take(t, p.srv); len(evs) != 0 {
		t.Errorf("%d invitations without EMAIL or with SUPPRESS", len(evs))
	}
	if err := create("new@example.com", types.MessageActionTypeResend, types.DeliveryMediumTypeEmail); err != nil {
		t.Fatal(err)
	}
	only(t, mb.take(t, p.srv), SourceAdminCreateUser)

	// The temporary password works for the pool's 7 days, then only an
	// administrator can help.
	if out, err := p.signIn(ctx, "new@example.com", "Temp-pass-42!", nil); err != nil || out.ChallengeName != types.ChallengeNameTypeNewPasswordRequired {
		t.Fatalf("temporary password sign-in: %+v %v", out, err)
	}
	p.clock.Advance(7 * 24 * time.Hour)
	if _, err := p.signIn(ctx, "new@example.com", "Temp-pass-42!", nil); apiCode(err) != "NotAuthorizedException: Temporary password has expired and must be reset by an administrator." {
		t.Errorf("an expired temporary password: %v", apiCode(err))
	}
}

func TestEmailChangeWaitsForVerification(t *testing.T) {
	p, mb := newSenderPool(t)
	ctx := t.Context()
	const newEmail = "rosa.diaz@example.org"
	if _, err := p.client.AdminUpdateUserAttributes(ctx, &cip.AdminUpdateUserAttributesInput{UserPoolId: aws.String(poolID), Username: aws.String(email),
		UserAttributes: []types.AttributeType{{Name: aws.String("email"), Value: aws.String(newEmail)}}}); err != nil {
		t.Fatal(err)
	}
	ev := only(t, mb.take(t, p.srv), SourceUpdateUserAttribute)
	code := unseal(t, ev.Request.Code)
	if ev.Request.UserAttributes["email"] != newEmail {
		t.Errorf("the verification goes to %q, want the new address", ev.Request.UserAttributes["email"])
	}
	got, _ := p.client.AdminGetUser(ctx, &cip.AdminGetUserInput{UserPoolId: aws.String(poolID), Username: aws.String(email)})
	if attr(got.UserAttributes, "email") != email || attr(got.UserAttributes, "email_verified") != "true" {
		t.Fatalf("before verification the user has %v", got.UserAttributes)
	}

	// The user signs in at the verified address, asks for another code,
	// and verifies the new address with it.
	out, err := p.signIn(ctx, email, password, nil)
	if err != nil {
		t.Fatal(err)
	}
	tokens, err := p.answer(ctx, out.Session, answer, nil)
	if err != nil || tokens.AuthenticationResult == nil {
		t.Fatalf("sign-in: %v", err)
	}
	access := tokens.AuthenticationResult.AccessToken
	if _, err := p.client.GetUserAttributeVerificationCode(ctx, &cip.GetUserAttributeVerificationCodeInput{AccessToken: access, AttributeName: aws.String("email")}); err != nil {
		t.Fatal(err)
	}
	again := only(t, mb.take(t, p.srv), SourceVerifyUserAttribute)
	if again.Request.UserAttributes["email"] != newEmail {
		t.Errorf("the new code goes to %q", again.Request.UserAttributes["email"])
	}
	if _, err := p.client.VerifyUserAttribute(ctx, &cip.VerifyUserAttributeInput{AccessToken: access, AttributeName: aws.String("email"), Code: aws.String(code)}); code != unseal(t, again.Request.Code) && apiCode(err) != "CodeMismatchException: Invalid verification code provided, please try again." {
		t.Errorf("the replaced code: %v", apiCode(err))
	}
	if _, err := p.client.VerifyUserAttribute(ctx, &cip.VerifyUserAttributeInput{AccessToken: access, AttributeName: aws.String("email"), Code: aws.String(unseal(t, again.Request.Code))}); err != nil {
		t.Fatal(err)
	}
	got, _ = p.client.AdminGetUser(ctx, &cip.AdminGetUserInput{UserPoolId: aws.String(poolID), Username: aws.String(newEmail)})
	if got == nil || attr(got.UserAttributes, "email") != newEmail || attr(got.UserAttributes, "email_verified") != "true" {
		t.Fatalf("after verification: %+v", got)
	}
	// The app client may not write email itself (the SAM template's does not).
	p.srv.clients[clientID] = Client{ID: clientID, ExplicitAuthFlows: []string{FlowCustomAuth}, WriteAttributes: []string{"name", "locale"}}
	if _, err := p.client.UpdateUserAttributes(ctx, &cip.UpdateUserAttributesInput{AccessToken: access,
		UserAttributes: []types.AttributeType{{Name: aws.String("email"), Value: aws.String("evil@example.net")}}}); apiCode(err) != "NotAuthorizedException: A client attempted to write unauthorized attribute" {
		t.Errorf("client writes email: %v", apiCode(err))
	}
}

func attr(list []types.AttributeType, name string) string {
	for _, a := range list {
		if aws.ToString(a.Name) == name {
			return aws.ToString(a.Value)
		}
	}
	return ""
}

func TestSenderFailures(t *testing.T) {
	t.Run("KMS cannot encrypt: the operation fails and changes nothing", func(t *testing.T) {
		p := newPool(t)
		mb := &mailbox{}
		p.srv.SetEmailSender(&EmailSender{Function: mb, Encryptor: reversible{fail: errors.New("KMSInvalidStateException")}})
		_, err := p.client.SignUp(t.Context(), &cip.SignUpInput{ClientId: aws.String(clientID), Username: aws.String("x@example.com"), Password: aws.String("hunter2hunter2")})
		if !strings.HasPrefix(apiCode(err), "CodeDeliveryFailureException: ") {
			t.Errorf("SignUp: %v", apiCode(err))
		}
		if p.srv.users.lookup("x@example.com") != nil {
			t.Error("the user was created without a code anyone could receive")
		}
	})
	t.Run("the function fails: Lambda retries it twice, the caller never knows", func(t *testing.T) {
		p, mb := newSenderPool(t)
		mb.fails = 2
		if _, err := p.client.SignUp(t.Context(), &cip.SignUpInput{ClientId: aws.String(clientID), Username: aws.String("y@example.com"), Password: aws.String("hunter2hunter2")}); err != nil {
			t.Fatal(err)
		}
		only(t, mb.take(t, p.srv), SourceSignUp)
		if mb.calls != 3 {
			t.Errorf("%d invocations, want 3", mb.calls)
		}
	})
}

func TestAdminOnlyPoolRefusesSignUp(t *testing.T) {
	p, mb := newSenderPool(t)
	p.srv.cfg.AllowAdminCreateUserOnly = true
	_, err := p.client.SignUp(t.Context(), &cip.SignUpInput{ClientId: aws.String(clientID), Username: aws.String("self@example.com"), Password: aws.String("hunter2hunter2")})
	if apiCode(err) != "NotAuthorizedException: SignUp is not permitted for this user pool" {
		t.Errorf("SignUp in an admin-only pool: %v", apiCode(err))
	}
	if evs := mb.take(t, p.srv); len(evs) != 0 || p.srv.users.lookup("self@example.com") != nil {
		t.Error("an admin-only pool signed a user up")
	}
}

// TestCodesCannotBeGuessed: whoever signs up with another person's address
// cannot try every confirmation code until the address is theirs, nor ask
// for codes without end.
func TestCodesCannotBeGuessed(t *testing.T) {
	p, mb := newSenderPool(t)
	ctx := t.Context()
	const who = "victim@example.com"
	if _, err := p.client.SignUp(ctx, &cip.SignUpInput{ClientId: aws.String(clientID), Username: aws.String(who), Password: aws.String("hunter2hunter2")}); err != nil {
		t.Fatal(err)
	}
	code := unseal(t, only(t, mb.take(t, p.srv), SourceSignUp).Request.Code)
	confirm := func(c string) string {
		_, err := p.client.ConfirmSignUp(ctx, &cip.ConfirmSignUpInput{ClientId: aws.String(clientID), Username: aws.String(who), ConfirmationCode: aws.String(c)})
		return apiCode(err)
	}
	wrong := string(rune('0'+(code[0]-'0'+1)%10)) + code[1:]
	for i := 1; i < maxWrongCodes; i++ {
		if got := confirm(wrong); got != "CodeMismatchException: Invalid verification code provided, please try again." {
			t.Fatalf("wrong code %d: %s", i, got)
		}
	}
	if got := confirm(wrong); got != "LimitExceededException: Attempt limit exceeded, please try after some time." {
		t.Fatalf("wrong code %d: %s", maxWrongCodes, got)
	}
	// The code is locked: even the right one no longer confirms.
	if got := confirm(code); got != "LimitExceededException: Attempt limit exceeded, please try after some time." {
		t.Errorf("the right code after the limit: %s", got)
	}

	// The sign-up's code and four resends make five in the hour; the sixth
	// is refused, and an hour later codes come again.
	resend := func() string {
		_, err := p.client.ResendConfirmationCode(ctx, &cip.ResendConfirmationCodeInput{ClientId: aws.String(clientID), Username: aws.String(who)})
		return apiCode(err)
	}
	for i := 1; i < maxCodesPerHour; i++ {
		if got := resend(); got != "<nil>" {
			t.Fatalf("resend %d: %s", i, got)
		}
	}
	if got := resend(); got != "LimitExceededException: Attempt limit exceeded, please try after some time." {
		t.Errorf("resend %d in the hour: %s", maxCodesPerHour, got)
	}
	if evs := mb.take(t, p.srv); len(evs) != maxCodesPerHour-1 {
		t.Errorf("%d resent emails, want %d", len(evs), maxCodesPerHour-1)
	}
	p.clock.Advance(time.Hour)
	if got := resend(); got != "<nil>" {
		t.Errorf("a resend an hour later: %s", got)
	}
	latest := unseal(t, only(t, mb.take(t, p.srv), SourceResendCode).Request.Code)
	if got := confirm(latest); got != "<nil>" {
		t.Errorf("the newest code: %s", got)
	}
}
