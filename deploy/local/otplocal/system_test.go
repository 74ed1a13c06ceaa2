package otplocal

import (
	"bytes"
	"context"
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

	cip "github.com/aws/aws-sdk-go-v2/service/cognitoidentityprovider"
	"github.com/aws/smithy-go"

	"github.com/cognito-email-otp/cognito-email-otp/deploy/local/awslocal"
	"github.com/cognito-email-otp/cognito-email-otp/deploy/local/seslocal"
	"github.com/cognito-email-otp/cognito-email-otp/deploy/local/signin"
)

type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// start runs otp-local on a free loopback port for one test.
func start(t testing.TB, o Options) (*System, *syncBuffer) {
	t.Helper()
	logs := &syncBuffer{}
	o.Addr = "127.0.0.1:0"
	o.Logs = logs
	if len(o.Seed.Users) == 0 {
		o.Seed = DefaultSeed()
	}
	sys, err := Start(context.Background(), o)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = sys.Close() })
	return sys, logs
}

func client(sys *System, clientID string) signin.Client {
	return signin.Client{Cognito: cip.NewFromConfig(awslocal.Config(sys.URL)), PoolID: PoolID, ClientID: clientID}
}

// inbox waits for the n-th email to `to` and returns it and its code.
func inbox(t testing.TB, sys *System, to string, n int) (seslocal.Email, string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	e, err := signin.WaitEmail(ctx, sys.SES.Outbox(), to, n)
	if err != nil {
		t.Fatal(err)
	}
	return e, signin.CodeIn(e)
}

func errCode(err error) string {
	var ae smithy.APIError
	if errors.As(err, &ae) {
		return ae.ErrorCode()
	}
	return ""
}

func TestSignInEndToEnd(t *testing.T) {
	sys, logs := start(t, Options{})
	ctx := t.Context()
	u, err := client(sys, "otplocalacmeweb0000000001").Start(ctx, "rosa@example.com", DemoPassword)
	if err != nil {
		t.Fatal(err)
	}
	if u.Params["email"] != "r***@example.com" || u.Params["codeLength"] != "6" {
		t.Errorf("challenge parameters %v", u.Params)
	}
	email, code := inbox(t, sys, "rosa@example.com", 1)
	if email.Tenant != "acme" || !strings.Contains(email.From, "acme") || !strings.Contains(email.HTML, code) || code == "" {
		t.Errorf("email: tenant %q from %q code %q", email.Tenant, email.From, code)
	}
	wrong := []byte(code)
	wrong[0] = '0' + (wrong[0]-'0'+1)%10
	if err := u.Answer(ctx, string(wrong), nil); err != nil || u.Result != nil || u.Params["attemptsLeft"] != "2" {
		t.Fatalf("wrong code: %v, params %v", err, u.Params)
	}
	if err := u.Answer(ctx, code, nil); err != nil || u.Result == nil {
		t.Fatalf("right code: %v", err)
	}
	if n := sys.SES.Outbox().Count(); n != 1 {
		t.Errorf("%d emails sent, want 1: a wrong answer must not send another", n)
	}
	if strings.Contains(logs.String(), code) {
		t.Errorf("logs contain the code %s", code)
	}
	for _, want := range []string{`"trigger":"create"`, `"outcome":"code_enqueued"`, `"trigger":"verify"`, `"outcome":"wrong"`, `"outcome":"issue_tokens"`, `"msg":"sent"`} {
		if !strings.Contains(logs.String(), want) {
			t.Errorf("logs lack %s", want)
		}
	}
}

func TestResendOverTheWire(t *testing.T) {
	sys, _ := start(t, Options{ResendCooldown: time.Second})
	ctx := t.Context()
	u, err := client(sys, "otplocalglobexweb00000001").Start(ctx, "yuki@example.com", DemoPassword)
	if err != nil {
		t.Fatal(err)
	}
	first, oldCode := inbox(t, sys, "yuki@example.com", 1)
	if first.Tenant != "globex" || !strings.Contains(first.Text, "山田") {
		t.Errorf("first email: tenant %s, text %q", first.Tenant, first.Text)
	}
	time.Sleep(1100 * time.Millisecond)
	if err := u.Resend(ctx); err != nil || u.Params["newCode"] != "true" {
		t.Fatalf("resend: %v %v", err, u.Params)
	}
	_, newCode := inbox(t, sys, "yuki@example.com", 2)
	// Two random codes are equal once in a million runs; then the old one
	// cannot be told apart and only the new one is checked.
	if newCode != oldCode {
		if err := u.Answer(ctx, oldCode, nil); err != nil || u.Result != nil {
			t.Fatalf("old code after a resend: %v, tokens %v", err, u.Result != nil)
		}
	}
	if err := u.Answer(ctx, newCode, nil); err != nil || u.Result == nil {
		t.Fatalf("new code: %v", err)
	}
}

func TestRefusedSignInsSendNothing(t *testing.T) {
	sys, _ := start(t, Options{})
	ctx := t.Context()
	for _, tc := range []struct{ name, email, password, want string }{
		{"unverified email", "unverified@example.com", DemoPassword, "NotAuthorizedException"},
		{"wrong password", "rosa@example.com", "not the password", "NotAuthorizedException"},
		{"unknown user", "nobody@example.com", DemoPassword, "NotAuthorizedException"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := client(sys, "otplocalacmeweb0000000001").Start(ctx, tc.email, tc.password)
			if errCode(err) != tc.want {
				t.Errorf("err %v, want %s", err, tc.want)
			}
		})
	}
	time.Sleep(200 * time.Millisecond)
	if n := sys.SES.Outbox().Count(); n != 0 {
		t.Errorf("%d emails sent for refused sign-ins", n)
	}
}

func TestOnlyLoopback(t *testing.T) {
	if _, err := Start(context.Background(), Options{Addr: "0.0.0.0:0"}); err == nil || !strings.Contains(err.Error(), "loopback") {
		t.Errorf("listening on all interfaces: %v", err)
	}
}
