package triggers

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/cognito-email-otp/cognito-email-otp/internal/pseudonym"
	"github.com/cognito-email-otp/cognito-email-otp/triggers/budget"
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
		Limits: Limits{MaxWrongAnswers: 3, MaxResends: 2, ResendCooldown: 30 * time.Second}, BudgetConfig: testBudgetConfig(),
		CodeLength: 6, CodeTTL: 3 * time.Minute, AuthSessionValidity: 3 * time.Minute, QueueURL: "q",
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
		{"more failures than NIST allows", func(c *CreateConfig) { c.MaxFailures = 101 }, "OTP_MAX_FAILURES"},
		{"back-off after more failures than the lock", func(c *CreateConfig) { c.BackoffAfter = 200 }, "OTP_BACKOFF_AFTER"},
		{"no codes per hour", func(c *CreateConfig) { c.MaxCodesPerHour = 0 }, "OTP_MAX_CODES_PER_HOUR"},
		{"budget deadline past Cognito's", func(c *CreateConfig) { c.BudgetTimeout = 6 * time.Second }, "OTP_BUDGET_TIMEOUT"},
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
	t.Setenv("OTP_BUDGET_TABLE", "otp-budget")
	t.Setenv("OTP_TENANTS", "client1:acme,client2:globex")
	t.Setenv("OTP_CODE_LENGTH", "8")
	c, err := LoadCreateConfig()
	if err != nil {
		t.Fatal(err)
	}
	if c.CodeLength != 8 || c.CodeTTL != 3*time.Minute || c.ResendCooldown != 30*time.Second || c.MaxWrongAnswers != 3 ||
		c.MaxResends != 2 || !c.RequireVerifiedEmail || c.Tenants["client2"] != "globex" ||
		c.Policy() != budget.DefaultPolicy || c.BudgetFailOpen || c.BudgetTimeout != time.Second {
		t.Errorf("config %+v", c)
	}
	t.Setenv("OTP_BUDGET_TABLE", "")
	if _, err := LoadCreateConfig(); err == nil || !strings.Contains(err.Error(), "BUDGET_TABLE") {
		t.Errorf("missing budget table: err %v, want it named", err)
	}
	t.Setenv("OTP_BUDGET_TABLE", "otp-budget")
	t.Setenv("OTP_QUEUE_URL", "")
	if _, err := LoadCreateConfig(); err == nil || !strings.Contains(err.Error(), "OTP_QUEUE_URL") {
		t.Errorf("missing queue URL: err %v, want it named", err)
	}
}

type fakeKeys struct {
	current, previous string
	err               error
	calls             int
}

func (f *fakeKeys) Keys(context.Context) ([]byte, []byte, error) {
	f.calls++
	if f.err != nil {
		return nil, nil, f.err
	}
	var prev []byte
	if f.previous != "" {
		prev = []byte(f.previous)
	}
	return []byte(f.current), prev, nil
}

func TestKeyring(t *testing.T) {
	long := strings.Repeat("k", 40)
	short := "short-key"
	tests := []struct {
		name    string
		key     Key
		src     *fakeKeys
		want    string
		wantErr string
	}{
		{"from the environment", Key{HMACKey: long}, nil, long, ""},
		{"from Secrets Manager", Key{HMACSecretARN: "arn:aws:secretsmanager:us-east-1:1:secret:k"}, &fakeKeys{current: long}, long, ""},
		{"both set", Key{HMACKey: long, HMACSecretARN: "arn"}, nil, "", "only one"},
		{"neither set", Key{}, nil, "", "OTP_HMAC_KEY"},
		{"too short", Key{HMACKey: short}, nil, "", "at least 32"},
		{"previous key too short", Key{HMACKey: long, HMACPreviousKey: short}, nil, "", "at least 32"},
		{"previous key alone", Key{HMACPreviousKey: long}, nil, "", "needs OTP_HMAC_KEY"},
		{"secret read fails", Key{HMACSecretARN: "arn:x"}, &fakeKeys{err: errors.New("AccessDenied")}, "", "AccessDenied"},
		{"secret too short", Key{HMACSecretARN: "arn:x"}, &fakeKeys{current: short}, "", "at least 32"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var src SecretKeySource
			if tc.src != nil {
				src = func(string) KeySource { return tc.src }
			}
			ring, err := tc.key.Keyring(t.Context(), src)
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("err %v, want %q", err, tc.wantErr)
				}
				if strings.Contains(err.Error(), short) {
					t.Errorf("error reveals the key: %v", err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			k, err := ring.signing(t.Context())
			if err != nil || string(k.key) != tc.want || k.id != keyID([]byte(tc.want)) {
				t.Errorf("signing key %q (id %s), %v; want %q", k.key, k.id, err, tc.want)
			}
		})
	}
}

// A rotation (Secrets Manager moves AWSCURRENT to a new version and
// AWSPREVIOUS to the old one) reaches a container two ways: its periodic
// refresh, and a key id it does not know yet.
func TestKeyringFollowsRotation(t *testing.T) {
	oldKey, newKey := strings.Repeat("o", 40), strings.Repeat("n", 40)
	src := &fakeKeys{current: oldKey}
	clock := newClock()
	ring := &Keyring{src: src, refresh: KeyRefresh, now: clock.Now}
	if err := ring.reload(t.Context()); err != nil {
		t.Fatal(err)
	}
	oldID := keyID([]byte(oldKey))

	src.current, src.previous = newKey, oldKey
	clock.Advance(time.Minute)
	if k, _ := ring.signing(t.Context()); k.id != oldID {
		t.Errorf("a minute after the rotation: signing with %s, want the old key until the refresh", k.id)
	}
	// Another container signed with the new key: this one looks it up.
	clock.Advance(keyRetry)
	if k, _, err := ring.lookup(t.Context(), keyID([]byte(newKey))); err != nil || string(k) != newKey {
		t.Fatalf("lookup of the new key id: %q, %v", k, err)
	}
	if k, _, err := ring.lookup(t.Context(), oldID); err != nil || string(k) != oldKey {
		t.Errorf("the previous key must still verify: %q, %v", k, err)
	}
	if k, _ := ring.signing(t.Context()); string(k.key) != newKey {
		t.Errorf("after the reload: signing with %q, want the new key", k.key)
	}
	// Unknown ids do not hammer Secrets Manager.
	calls := src.calls
	for range 5 {
		if _, _, err := ring.lookup(t.Context(), keyID([]byte(strings.Repeat("x", 40)))); !errors.Is(err, errUnknownKey) {
			t.Errorf("unknown key id: %v", err)
		}
	}
	if src.calls != calls {
		t.Errorf("%d secret reads for unknown key ids within %s, want none", src.calls-calls, keyRetry)
	}
	// A second rotation retires the oldest key.
	third := strings.Repeat("t", 40)
	src.current, src.previous = third, newKey
	clock.Advance(KeyRefresh)
	if k, _ := ring.signing(t.Context()); string(k.key) != third {
		t.Errorf("after the refresh interval: signing with %q, want the third key", k.key)
	}
	if _, _, err := ring.lookup(t.Context(), oldID); !errors.Is(err, errUnknownKey) {
		t.Errorf("a key two rotations old must be refused, got %v", err)
	}
	// A failed refresh keeps the keys in hand.
	src.err = errors.New("AccessDenied")
	clock.Advance(KeyRefresh)
	if k, err := ring.signing(t.Context()); string(k.key) != third || err == nil {
		t.Errorf("failed refresh: %q, %v; want the third key and the error", k.key, err)
	}
}

func TestRoundMetadataRoundTrips(t *testing.T) {
	r := round{Generation: 2, Kind: kindAfterWrong, ChallengeID: "AAAAAAAAAAAAAAAAAAAAAA",
		IssuedAt: time.Unix(1_795_000_000, 0).UTC(), ExpiresAt: time.Unix(1_795_000_180, 0).UTC(), KeyID: keyID(testKey), MAC: make([]byte, macSize)}
	enc := r.encode()
	got, err := parseRound(enc)
	if err != nil || got.encode() != enc {
		t.Fatalf("round trip of %q: %+v, %v", enc, got, err)
	}
	for _, bad := range []string{"", "otp1", "otp2.2.w.AAAAAAAAAAAAAAAAAAAAAA.1.2.AAAA", enc + ".x",
		strings.Replace(enc, ".w.", ".z.", 1), strings.Replace(enc, "otp2.2", "otp2.0", 1),
		strings.Replace(enc, "otp2.", "otp1.", 1), strings.Replace(enc, keyID(testKey), "short", 1),
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

// TestCurrentToHashFollowsARotation: a function that only hashes (the
// feedback function) follows the secret's current key after the refresh
// interval; a failed re-read keeps the key in hand and says so.
func TestCurrentToHashFollowsARotation(t *testing.T) {
	k1, k2 := strings.Repeat("1", 32), strings.Repeat("2", 32)
	src := &fakeKeys{current: k1}
	keys, err := LoadKeyring(context.Background(), src, time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	now := time.Now()
	keys.now = func() time.Time { return now }
	ctx := context.Background()
	if h, err := keys.CurrentToHash(ctx, "a@example.com"); err != nil || h != pseudonym.ToHash([]byte(k1), "a@example.com") {
		t.Fatalf("before the refresh: %s, %v", h, err)
	}
	src.current = k2
	now = now.Add(2 * time.Minute)
	if h, _ := keys.CurrentToHash(ctx, "a@example.com"); h != pseudonym.ToHash([]byte(k2), "a@example.com") {
		t.Errorf("after the refresh the hash is not the new key's")
	}
	src.err = errors.New("AccessDenied")
	now = now.Add(2 * time.Minute)
	h, err := keys.CurrentToHash(ctx, "a@example.com")
	if err == nil || h != pseudonym.ToHash([]byte(k2), "a@example.com") {
		t.Errorf("a failed re-read: %s, %v; want the key in hand and the error", h, err)
	}
	if _, err := LoadKeyring(ctx, &fakeKeys{err: errors.New("no")}, time.Minute); err == nil {
		t.Error("a cold start without the key must fail")
	}
}
