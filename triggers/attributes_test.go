package triggers

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"
)

// TestSendRequestFromAttributes checks what the mailer receives for a
// sign-in, including hostile attribute values.
func TestSendRequestFromAttributes(t *testing.T) {
	tests := []struct {
		name                   string
		clientTenants          map[string]string
		attrs                  map[string]string
		wantTenant, wantLocale string
		wantName               string
		wantLogged             string
	}{
		{name: "defaults", attrs: copyAttrs(nil), wantTenant: "default", wantLocale: "es", wantName: "Rosa Díaz"},
		{name: "tenant from the app client wins over the attribute",
			clientTenants: map[string]string{"4abcdefghij5klmnop6qrstuvw": "acme"},
			attrs:         copyAttrs(map[string]string{"custom:tenant": "globex"}), wantTenant: "acme", wantLocale: "es", wantName: "Rosa Díaz"},
		{name: "tenant from the user attribute", attrs: copyAttrs(map[string]string{"custom:tenant": " Globex "}),
			wantTenant: "globex", wantLocale: "es", wantName: "Rosa Díaz"},
		{name: "path in the tenant attribute falls back to default", attrs: copyAttrs(map[string]string{"custom:tenant": "../../etc/passwd"}),
			wantTenant: "default", wantLocale: "es", wantName: "Rosa Díaz", wantLogged: "custom:tenant is not a tenant name"},
		{name: "POSIX locale is turned into BCP 47", attrs: copyAttrs(map[string]string{"locale": "pt_BR"}),
			wantTenant: "default", wantLocale: "pt-BR", wantName: "Rosa Díaz"},
		{name: "hostile locale is dropped", attrs: copyAttrs(map[string]string{"locale": "en\r\nX-Evil: 1"}),
			wantTenant: "default", wantLocale: "", wantName: "Rosa Díaz", wantLogged: "locale attribute is not a BCP 47 tag"},
		{name: "hostile name is cleaned, not rejected",
			attrs:      copyAttrs(map[string]string{"name": "Eve\r\nBcc: all@example.com\u202e" + strings.Repeat("x", 10_000)}),
			wantTenant: "default", wantLocale: "es", wantName: "Eve Bcc: all@example.com" + strings.Repeat("x", 100-24)},
		{name: "given_name when there is no name", attrs: copyAttrs(map[string]string{"name": "<delete>", "given_name": "Rosa"}),
			wantTenant: "default", wantLocale: "es", wantName: "Rosa"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r := newRig(t, func(d *DefineConfig, c *CreateConfig) { d.Tenants, c.Tenants = tc.clientTenants, tc.clientTenants })
			r.signIn(t, tc.attrs).start(true).password(true)
			if r.queue.count() != 1 {
				t.Fatalf("%d requests enqueued, want 1\n%s", r.queue.count(), r.logs)
			}
			got := r.queue.sent[0]
			if got.Tenant != tc.wantTenant || got.Locale != tc.wantLocale || got.Name != tc.wantName {
				t.Errorf("tenant %q locale %q name %q\nwant   %q locale %q name %q", got.Tenant, got.Locale, got.Name, tc.wantTenant, tc.wantLocale, tc.wantName)
			}
			if err := got.Validate(); err != nil {
				t.Errorf("enqueued request breaks the contract: %v", err)
			}
			if !got.ExpiresAt.Equal(got.IssuedAt.Add(3*time.Minute)) || got.To != tc.attrs["email"] {
				t.Errorf("request %v: want a 3 minute code to %s", got, tc.attrs["email"])
			}
			if tc.wantLogged != "" && !strings.Contains(r.logs.String(), tc.wantLogged) {
				t.Errorf("logs lack %q:\n%s", tc.wantLogged, r.logs)
			}
		})
	}
}

func TestCreateFailsWhenTheQueueFails(t *testing.T) {
	r := newRig(t)
	r.queue.err = errors.New("sqs: connection refused")
	s := r.signIn(t, nil).start(true).password(true)
	if s.state != stateError {
		t.Fatalf("state %q, want the create trigger to fail the request", s.state)
	}
	if !strings.Contains(r.logs.String(), "connection refused") {
		t.Errorf("the queue error is not logged:\n%s", r.logs)
	}
}

func TestConfigValidation(t *testing.T) {
	valid := CreateConfig{
		Limits: Limits{MaxWrongAnswers: 3, MaxResends: 2}, CodeLength: 6, CodeTTL: 3 * time.Minute,
		AuthSessionValidity: 3 * time.Minute, ResendCooldown: 30 * time.Second, QueueURL: "q",
	}
	tests := []struct {
		name    string
		mutate  func(*CreateConfig)
		wantErr string
	}{
		{"defaults are valid", func(*CreateConfig) {}, ""},
		{"code length 5", func(c *CreateConfig) { c.CodeLength = 5 }, "OTP_CODE_LENGTH=5"},
		{"code length 11", func(c *CreateConfig) { c.CodeLength = 11 }, "OTP_CODE_LENGTH=11"},
		{"code outlives the session", func(c *CreateConfig) { c.CodeTTL = 4 * time.Minute }, "cannot outlive"},
		{"longer session allows a longer code", func(c *CreateConfig) { c.CodeTTL, c.AuthSessionValidity = 10*time.Minute, 15*time.Minute }, ""},
		{"session longer than Cognito allows", func(c *CreateConfig) { c.AuthSessionValidity = 16 * time.Minute }, "OTP_AUTH_SESSION_VALIDITY"},
		{"cooldown as long as the code", func(c *CreateConfig) { c.ResendCooldown = 3 * time.Minute }, "OTP_RESEND_COOLDOWN"},
		{"no wrong answers allowed", func(c *CreateConfig) { c.MaxWrongAnswers = 0 }, "OTP_MAX_WRONG_ANSWERS"},
		{"negative resends", func(c *CreateConfig) { c.MaxResends = -1 }, "OTP_MAX_RESENDS"},
		{"tenant that is a path", func(c *CreateConfig) { c.Tenants = map[string]string{"client": "../x"} }, "OTP_TENANTS"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			c := valid
			tc.mutate(&c)
			err := c.Validate()
			if tc.wantErr == "" && err != nil || tc.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tc.wantErr)) {
				t.Errorf("Validate() = %v, want error containing %q", err, tc.wantErr)
			}
		})
	}
}

func TestLoadCreateConfigFromEnvironment(t *testing.T) {
	t.Setenv("OTP_QUEUE_URL", "http://127.0.0.1:7070/000000000000/otp-send")
	t.Setenv("OTP_TENANTS", "client1:acme,client2:globex")
	t.Setenv("OTP_CODE_LENGTH", "8")
	c, err := LoadCreateConfig()
	if err != nil {
		t.Fatal(err)
	}
	if c.CodeLength != 8 || c.CodeTTL != 3*time.Minute || c.ResendCooldown != 30*time.Second || c.MaxWrongAnswers != 3 ||
		c.MaxResends != 2 || !c.RequireVerifiedEmail || c.Tenants["client2"] != "globex" {
		t.Errorf("config %+v", c)
	}
	t.Setenv("OTP_QUEUE_URL", "")
	if _, err := LoadCreateConfig(); err == nil || !strings.Contains(err.Error(), "OTP_QUEUE_URL") {
		t.Errorf("missing queue URL: err %v, want it named", err)
	}
}

type fakeSecrets struct {
	value string
	err   error
}

func (f fakeSecrets) SecretString(context.Context, string) (string, error) { return f.value, f.err }

func TestKeyLoad(t *testing.T) {
	long := strings.Repeat("k", 40)
	short := "short-key"
	tests := []struct {
		name    string
		key     Key
		sm      SecretSource
		want    string
		wantErr string
	}{
		{"from the environment", Key{HMACKey: long}, nil, long, ""},
		{"from Secrets Manager", Key{HMACSecretARN: "arn:aws:secretsmanager:us-east-1:1:secret:k"}, fakeSecrets{value: long}, long, ""},
		{"both set", Key{HMACKey: long, HMACSecretARN: "arn"}, nil, "", "only one"},
		{"neither set", Key{}, nil, "", "OTP_HMAC_KEY"},
		{"too short", Key{HMACKey: short}, nil, "", "at least 32"},
		{"secret read fails", Key{HMACSecretARN: "arn:x"}, fakeSecrets{err: errors.New("AccessDenied")}, "", "AccessDenied"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := tc.key.Load(t.Context(), tc.sm)
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("err %v, want %q", err, tc.wantErr)
				}
				if strings.Contains(err.Error(), short) {
					t.Errorf("error reveals the key: %v", err)
				}
				return
			}
			if err != nil || string(got) != tc.want {
				t.Errorf("got %q, %v", got, err)
			}
		})
	}
}

func TestRoundMetadataRoundTrips(t *testing.T) {
	r := round{Generation: 2, Kind: kindAfterWrong, ChallengeID: "AAAAAAAAAAAAAAAAAAAAAA",
		IssuedAt: time.Unix(1_795_000_000, 0).UTC(), ExpiresAt: time.Unix(1_795_000_180, 0).UTC(), MAC: make([]byte, macSize)}
	enc := r.encode()
	got, err := parseRound(enc)
	if err != nil || got.encode() != enc {
		t.Fatalf("round trip of %q: %+v, %v", enc, got, err)
	}
	for _, bad := range []string{"", "otp1", "otp2.2.w.AAAAAAAAAAAAAAAAAAAAAA.1.2.AAAA", enc + ".x",
		strings.Replace(enc, ".w.", ".z.", 1), strings.Replace(enc, "otp1.2", "otp1.0", 1),
		strings.Replace(enc, "1795000180", "1794999999", 1)} {
		if _, err := parseRound(bad); err == nil {
			t.Errorf("parseRound(%q) accepted malformed metadata", bad)
		}
	}
}

func TestValidLocaleAndTenant(t *testing.T) {
	for in, want := range map[string]bool{
		"en": true, "de-AT": true, "pt_BR": true, "zh-Hans-CN": true, "es-419": true, "x": false, "e1": false,
		"en-": false, "-en": false, "en--US": false, "en-US-": false, "toolonglang": false, "en-abcdefghi": false,
		"a-b-c-d-e-f-g-h": false, "en\r\nX": false, "": false, "12": false,
	} {
		if got := validLocale(in); got != want {
			t.Errorf("validLocale(%q) = %v, want %v", in, got, want)
		}
	}
	for in, want := range map[string]bool{
		"acme": true, "globex-eu": true, "a_b": true, "0day": true, "-acme": false, "_x": false, "Acme": false,
		"../x": false, "a b": false, "": false, strings.Repeat("a", 63): true, strings.Repeat("a", 64): false,
	} {
		if got := validTenant(in); got != want {
			t.Errorf("validTenant(%q) = %v, want %v", in, got, want)
		}
	}
}
