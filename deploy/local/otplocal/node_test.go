package otplocal

import (
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/cognito-email-otp/cognito-email-otp/internal/nodetest"
)

func nodeEnv(sys *System, user, clientID string) map[string]string {
	return map[string]string{"OTP_URL": sys.URL, "OTP_POOL_ID": PoolID, "OTP_CLIENT_ID": clientID, "OTP_USER": user, "OTP_PASSWORD": DemoPassword}
}

// TestAmplifySignsIn proves the SRP server against Amplify's own client.
func TestAmplifySignsIn(t *testing.T) {
	sys, _ := start(t, Options{})
	nodetest.Run(t, "amplify.test.mjs", nodeEnv(sys, "lena@example.com", sys.Clients[0].ID), 2*time.Minute)
}

func TestCognitoJSSDK(t *testing.T) {
	sys, _ := start(t, Options{})
	nodetest.Run(t, "cognito.test.mjs", nodeEnv(sys, "rosa@example.com", sys.Clients[0].ID), time.Minute)
}

// TestBrowserNewPassword: an invited user (AdminCreateUser with a temporary
// password) sets a new password on the page, then signs in with the code.
func TestBrowserNewPassword(t *testing.T) {
	requireBrowser(t)
	sys, _ := start(t, Options{})
	artifacts, _ := filepath.Abs("../../../build/e2e")
	env := nodeEnv(sys, "invited@example.com", sys.Clients[0].ID)
	env["OTP_ARTIFACTS"] = artifacts
	nodetest.Run(t, "newpassword.test.mjs", env, 3*time.Minute)
}

// TestBrowserSignUp: a new Globex user signs up on the page in Arabic,
// confirms with the emailed code, and signs in with the emailed sign-in
// code; both emails come through the custom email sender.
func TestBrowserSignUp(t *testing.T) {
	requireBrowser(t)
	sys, _ := start(t, Options{})
	artifacts, _ := filepath.Abs("../../../build/e2e")
	env := nodeEnv(sys, "noor@example.com", sys.Clients[1].ID)
	env["OTP_ARTIFACTS"] = artifacts
	nodetest.Run(t, "signup.test.mjs", env, 3*time.Minute)
}

func requireBrowser(t *testing.T) {
	t.Helper()
	if _, err := os.Stat("/usr/bin/chromium"); err != nil {
		if os.Getenv("OTP_E2E") == "require" {
			t.Fatal("OTP_E2E=require but /usr/bin/chromium is missing (run: make chromium)")
		}
		t.Skip("no /usr/bin/chromium; set OTP_E2E=require to make this a failure")
	}
	if _, err := os.Stat("../web/dist/app.js"); err != nil {
		t.Fatal("the sign-in page is not built (run: make ui); otp-local would serve a stub")
	}
}

// TestBrowserTenants: each demo user lands on their tenant and language.
func TestBrowserTenants(t *testing.T) {
	requireBrowser(t)
	sys, _ := start(t, Options{})
	artifacts, _ := filepath.Abs("../../../build/e2e")
	env := nodeEnv(sys, "yuki@example.com", sys.Clients[1].ID)
	env["OTP_ARTIFACTS"] = artifacts
	nodetest.Run(t, "tenants.test.mjs", env, 3*time.Minute)
	if os.Getenv("UPDATE_SCREENSHOTS") != "" {
		b, err := os.ReadFile(filepath.Join(artifacts, "tenant-2-globex-ja-code.png"))
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile("../../../docs/img/signin-globex-ja.png", b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

// TestBrowserSignIn drives the sign-in page in headless Chromium. Its
// screenshots land in build/e2e; UPDATE_SCREENSHOTS=1 copies two of them
// into docs/img for the README (TestBrowserOps makes the ops page's).
func TestBrowserSignIn(t *testing.T) {
	requireBrowser(t)
	// A short cooldown, so the page's resend can be clicked without a wait.
	sys, _ := start(t, Options{ResendCooldown: 2 * time.Second})
	artifacts, _ := filepath.Abs("../../../build/e2e")
	env := nodeEnv(sys, "rosa@example.com", sys.Clients[0].ID)
	env["OTP_ARTIFACTS"] = artifacts
	nodetest.Run(t, "browser.test.mjs", env, 3*time.Minute)
	if os.Getenv("UPDATE_SCREENSHOTS") != "" {
		for from, to := range map[string]string{"2-code-requested.png": "signin-code.png", "4-signed-in.png": "signin-done.png"} {
			b, err := os.ReadFile(filepath.Join(artifacts, from))
			if err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(filepath.Join("../../../docs/img", to), b, 0o644); err != nil {
				t.Fatal(err)
			}
		}
	}
}

// TestBrowserOps opens the ops page in headless Chromium over an hour of
// traffic (history: an SES outage half an hour ago, SES's feedback) with
// a sign-in and a dead letter now, and checks its health charts and
// states against /ops/api/health, the fault banner and the fault form
// across a refresh, on a wide and a narrow window. UPDATE_SCREENSHOTS=1
// copies the wide screenshot into docs/img/ops.png for the README.
func TestBrowserOps(t *testing.T) {
	requireBrowser(t)
	sys, _ := start(t, Options{})
	history(t, sys)
	if _, err := client(sys, sys.Clients[0].ID).Start(t.Context(), "rosa@example.com", DemoPassword); err != nil {
		t.Fatal(err)
	}
	inbox(t, sys, "rosa@example.com", 1)
	deadLetterNow(t, sys)
	artifacts, _ := filepath.Abs("../../../build/e2e")
	env := nodeEnv(sys, "rosa@example.com", sys.Clients[0].ID)
	env["OTP_ARTIFACTS"] = artifacts
	nodetest.Run(t, "ops.test.mjs", env, 2*time.Minute)
	if os.Getenv("UPDATE_SCREENSHOTS") != "" {
		b, err := os.ReadFile(filepath.Join(artifacts, "ops-1-wide.png"))
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile("../../../docs/img/ops.png", b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
}
