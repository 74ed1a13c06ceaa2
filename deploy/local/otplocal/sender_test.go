package otplocal

import (
	"context"
	"encoding/base64"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	cip "github.com/aws/aws-sdk-go-v2/service/cognitoidentityprovider"
	ciptypes "github.com/aws/aws-sdk-go-v2/service/cognitoidentityprovider/types"
	"github.com/aws/aws-sdk-go-v2/service/sqs"

	"github.com/cognito-email-otp/cognito-email-otp/deploy/local/awslocal"
	"github.com/cognito-email-otp/cognito-email-otp/deploy/local/seslocal"
)

// TestSignUpThroughTheCustomEmailSender: a new Globex user signs up in
// Arabic, confirms with the emailed code, and signs in with the password
// and the emailed sign-in code. Cognito encrypts the confirmation code with
// the Encryption SDK under otp-local's KMS key, the sender decrypts it and
// enqueues it, and the mailer renders both emails in Globex's brand, right
// to left.
func TestSignUpThroughTheCustomEmailSender(t *testing.T) {
	sys, logs := start(t, Options{})
	ctx := t.Context()
	const who = "noor@example.com"
	globex := sys.Clients[1].ID
	c := cip.NewFromConfig(awslocal.Config(sys.URL))
	if _, err := c.SignUp(ctx, &cip.SignUpInput{ClientId: aws.String(globex), Username: aws.String(who), Password: aws.String(DemoPassword),
		UserAttributes: []ciptypes.AttributeType{{Name: aws.String("name"), Value: aws.String("نور")}, {Name: aws.String("locale"), Value: aws.String("ar")}}}); err != nil {
		t.Fatal(err)
	}
	confirmation, code := inbox(t, sys, who, 1)
	wantEmail(t, confirmation, "signup_verification", "globex", "ar")
	if !strings.Contains(confirmation.HTML, `dir="rtl"`) || !strings.Contains(confirmation.Text, "نور") {
		t.Errorf("the confirmation is not Arabic, right to left: %.300s", confirmation.Text)
	}
	if _, err := c.ConfirmSignUp(ctx, &cip.ConfirmSignUpInput{ClientId: aws.String(globex), Username: aws.String(who), ConfirmationCode: aws.String(code)}); err != nil {
		t.Fatalf("confirm with the emailed code: %v", err)
	}
	attempt, err := client(sys, globex).Start(ctx, who, DemoPassword)
	if err != nil {
		t.Fatal(err)
	}
	signInEmail, signInCode := inbox(t, sys, who, 2)
	wantEmail(t, signInEmail, "signin_code", "globex", "ar")
	if err := attempt.Answer(ctx, signInCode, nil); err != nil || attempt.Result == nil {
		t.Fatalf("sign in with the emailed code: %v", err)
	}
	for _, secret := range []string{code, signInCode} {
		if strings.Contains(logs.String(), secret) {
			t.Errorf("a log line carries the code %s", secret)
		}
	}
}

// TestInvitationThroughTheCustomEmailSender: an administrator invites a
// user; the invitation carries the username and the temporary password,
// which no log shows; the user sets a new password and signs in.
func TestInvitationThroughTheCustomEmailSender(t *testing.T) {
	sys, logs := start(t, Options{})
	ctx := t.Context()
	const who = "hana@example.com"
	const temporary = "Welcome-2-Acme!"
	c := cip.NewFromConfig(awslocal.Config(sys.URL))
	if _, err := c.AdminCreateUser(ctx, &cip.AdminCreateUserInput{UserPoolId: aws.String(PoolID), Username: aws.String(who),
		TemporaryPassword: aws.String(temporary), DesiredDeliveryMediums: []ciptypes.DeliveryMediumType{ciptypes.DeliveryMediumTypeEmail},
		UserAttributes: []ciptypes.AttributeType{{Name: aws.String("custom:tenant"), Value: aws.String("acme")}, {Name: aws.String("locale"), Value: aws.String("de")},
			{Name: aws.String("email_verified"), Value: aws.String("true")}}}); err != nil {
		t.Fatal(err)
	}
	invitation, _ := inbox(t, sys, who, 1)
	wantEmail(t, invitation, "invitation", "acme", "de")
	if !strings.Contains(invitation.Text, who) || !strings.Contains(invitation.Text, temporary) {
		t.Errorf("the invitation lacks the username or the temporary password:\n%s", invitation.Text)
	}
	if strings.Contains(logs.String(), temporary) {
		t.Error("a log line carries the temporary password")
	}

	const chosen = "my-own-long-password"
	attempt, err := client(sys, sys.Clients[0].ID).Start(ctx, who, temporary)
	if err != nil {
		t.Fatal(err)
	}
	if err := attempt.NewPassword(ctx, chosen); err != nil {
		t.Fatalf("set a new password: %v", err)
	}
	again, err := client(sys, sys.Clients[0].ID).Start(ctx, who, chosen)
	if err != nil {
		t.Fatal(err)
	}
	_, code := inbox(t, sys, who, 2)
	if err := again.Answer(ctx, code, nil); err != nil || again.Result == nil {
		t.Fatalf("sign in with the new password and the code: %v", err)
	}
}

// TestTamperedCodeIsDeadLetteredNeverSent: a custom sender event whose code
// was altered on the way is refused by the Encryption SDK; the sender
// dead-letters it with its reason and no secret, and nothing is emailed.
func TestTamperedCodeIsDeadLetteredNeverSent(t *testing.T) {
	sys, _ := start(t, Options{})
	ctx := t.Context()
	enc, _ := kmsCrypters(t, sys)
	ct, err := enc.Encrypt(ctx, []byte("123456"))
	if err != nil {
		t.Fatal(err)
	}
	msg, err := base64.StdEncoding.DecodeString(ct)
	if err != nil {
		t.Fatal(err)
	}
	msg[len(msg)-120] ^= 0x01 // a bit flipped in the encrypted body, before the signature
	b := []byte(base64.StdEncoding.EncodeToString(msg))
	event := `{"version":"1","triggerSource":"CustomEmailSender_SignUp","region":"us-east-1","userPoolId":"` + PoolID + `",
		"userName":"5a3e0b1c-0000-4000-8000-000000000001","callerContext":{"awsSdkVersion":"aws-sdk-unknown-unknown","clientId":"` + sys.Clients[0].ID + `"},
		"request":{"type":"customEmailSenderRequestV1","code":"` + string(b) + `","clientMetadata":null,
		"userAttributes":{"sub":"5a3e0b1c-0000-4000-8000-000000000001","email":"tampered@example.com","email_verified":"false","cognito:user_status":"UNCONFIRMED"}},"response":{}}`
	if _, err := sys.senderFunction().Invoke(ctx, []byte(event)); err != nil {
		t.Fatalf("a permanent failure must not ask Cognito to retry: %v", err)
	}
	q := sqs.NewFromConfig(awslocal.Config(sys.URL))
	dlq, err := q.GetQueueUrl(ctx, &sqs.GetQueueUrlInput{QueueName: aws.String(DeadLetters)})
	if err != nil {
		t.Fatal(err)
	}
	out, err := q.ReceiveMessage(ctx, &sqs.ReceiveMessageInput{QueueUrl: dlq.QueueUrl, MaxNumberOfMessages: 10, WaitTimeSeconds: 2, MessageAttributeNames: []string{"All"}})
	if err != nil || len(out.Messages) != 1 {
		t.Fatalf("dead letters: %v %v", out, err)
	}
	m := out.Messages[0]
	if r := aws.ToString(m.MessageAttributes["otp_reason"].StringValue); r != "ciphertext_tampered" {
		t.Errorf("reason %q, want ciphertext_tampered", r)
	}
	if body := aws.ToString(m.Body); strings.Contains(body, string(b)) || strings.Contains(body, "tampered@example.com") {
		t.Errorf("the dead letter carries the ciphertext or the address: %s", body)
	}
	waitCtx, cancel := context.WithTimeout(ctx, 2*time.Second)
	defer cancel()
	if _, err := sys.SES.Outbox().Wait(waitCtx, func(e seslocal.Email) bool { return true }); err == nil {
		t.Error("a tampered code was emailed")
	}
}

func wantEmail(t *testing.T, e seslocal.Email, kind, tenant, locale string) {
	t.Helper()
	if e.Tags["kind"] != kind || e.Tenant != tenant || e.Tags["locale"] != locale || !strings.Contains(e.From, tenant) {
		t.Errorf("email %q: kind %q tenant %q locale %q from %q; want %s, %s, %s", e.Subject, e.Tags["kind"], e.Tenant, e.Tags["locale"], e.From, kind, tenant, locale)
	}
}
