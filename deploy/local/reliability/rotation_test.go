package reliability

import (
	"context"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	cip "github.com/aws/aws-sdk-go-v2/service/cognitoidentityprovider"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"

	"github.com/cognito-email-otp/cognito-email-otp/deploy/local/awslocal"
	"github.com/cognito-email-otp/cognito-email-otp/deploy/local/otplocal"
	"github.com/cognito-email-otp/cognito-email-otp/deploy/local/signin"
	"github.com/cognito-email-otp/cognito-email-otp/triggers"
	smsecret "github.com/cognito-email-otp/cognito-email-otp/triggers/secret"
)

// TestKeyRotationMidSignIn rotates the HMAC key as the SAM template's
// schedule would (Secrets Manager invoking the real rotation binary)
// between one user's email and their answer. That sign-in completes with
// the code made under the old key; a sign-in that starts after the
// functions picked up the rotation is signed and verified with the new one.
func TestKeyRotationMidSignIn(t *testing.T) {
	if testing.Short() {
		t.Skip("the real binaries")
	}
	bin := binaries(t)
	logs := &logSink{}
	sys := start(t, otplocal.Options{FunctionsDir: bin, KeyRefresh: time.Second, Logs: logs})
	ctx, cancel := context.WithTimeout(t.Context(), time.Minute)
	defer cancel()
	client := signin.Client{Cognito: cip.NewFromConfig(awslocal.Config(sys.URL)), PoolID: otplocal.PoolID, ClientID: sys.Clients[0].ID}
	sm := secretsmanager.NewFromConfig(awslocal.Config(sys.URL))
	source := smsecret.Source{Client: sm, ID: otplocal.HMACKeySecret}
	before, _, err := source.Keys(ctx)
	if err != nil {
		t.Fatal(err)
	}

	early, err := client.Start(ctx, "rosa@example.com", otplocal.DemoPassword)
	if err != nil {
		t.Fatal(err)
	}
	earlyEmail, err := signin.WaitEmail(ctx, sys.SES.Outbox(), "rosa@example.com", 1)
	if err != nil {
		t.Fatal(err)
	}

	if _, err := sm.RotateSecret(ctx, &secretsmanager.RotateSecretInput{SecretId: aws.String(otplocal.HMACKeySecret),
		RotationLambdaARN: aws.String(otplocal.RotateFunctionARN)}); err != nil {
		t.Fatal(err)
	}
	if err := sys.Secrets.WaitRotation(ctx, otplocal.HMACKeySecret); err != nil {
		t.Fatalf("rotation: %v", err)
	}
	current, previous, err := source.Keys(ctx)
	if err != nil || string(previous) != string(before) || string(current) == string(before) {
		t.Fatalf("after the rotation: current changed %v, previous is the old key %v, %v", string(current) != string(before), string(previous) == string(before), err)
	}
	time.Sleep(1500 * time.Millisecond) // past OTP_KEY_REFRESH: Create signs with the new key

	late, err := client.Start(ctx, "lena@example.com", otplocal.DemoPassword)
	if err != nil {
		t.Fatal(err)
	}
	lateEmail, err := signin.WaitEmail(ctx, sys.SES.Outbox(), "lena@example.com", 1)
	if err != nil {
		t.Fatal(err)
	}
	if err := late.Answer(ctx, signin.CodeIn(lateEmail), nil); err != nil || late.Result == nil {
		t.Errorf("a sign-in after the rotation: %v", err)
	}
	if err := early.Answer(ctx, signin.CodeIn(earlyEmail), nil); err != nil || early.Result == nil {
		t.Errorf("the sign-in that began before the rotation failed after it: %v", err)
	}

	// Which key made and checked each code, from the functions' logs.
	oldID, newID := triggers.KeyID(before), triggers.KeyID(current)
	made, checked := map[string]bool{}, map[string]bool{}
	for _, l := range logs.lines() {
		id, _ := l["key_id"].(string)
		switch {
		case l["trigger"] == "create" && l["outcome"] == "code_enqueued":
			made[id] = true
		case l["trigger"] == "verify" && l["outcome"] == "correct":
			checked[id] = true
		}
	}
	if !made[oldID] || !made[newID] || !checked[oldID] || !checked[newID] {
		t.Errorf("codes made with %v and checked with %v; want both the old key %s and the new key %s", made, checked, oldID, newID)
	}
}
