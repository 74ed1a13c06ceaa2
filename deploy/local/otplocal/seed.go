package otplocal

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"time"

	"github.com/cognito-email-otp/cognito-email-otp/deploy/local/cognitoidp"
	"github.com/cognito-email-otp/cognito-email-otp/deploy/local/web"
	"github.com/cognito-email-otp/cognito-email-otp/templates"
)

// Seed is the pool's initial content: app clients, each mapped to a tenant
// (the OTP_TENANTS of the SAM template), and users. The first client is the
// sign-in page's; the first user is the demo user the banner prints.
type Seed struct {
	Clients []SeedClient `json:"clients"`
	Users   []SeedUser   `json:"users"`
	// SES is the SES account: its verified identities, configuration sets
	// and the sandbox. Without it, the default seed's account: the example
	// tenants' sending domains and otp-local's own, verified with DKIM.
	SES *SeedSES `json:"ses,omitempty"`
}

// SeedSES describes the SES account. SendEmail then checks what SES checks,
// so a template set whose from_address no identity covers is refused here
// as it would be on AWS.
type SeedSES struct {
	Identities        []SeedIdentity `json:"identities"`
	ConfigurationSets []string       `json:"configurationSets,omitempty"`
	// Sandbox: recipients must be verified identities too, and the quota
	// is the sandbox's 200 a day, 1 a second.
	Sandbox bool `json:"sandbox,omitempty"`
	// Tenants are SES tenants (a template set's ses_tenant) with the
	// identities and configuration sets associated with them; SES sends
	// through a tenant only what they cover.
	Tenants []SeedTenant `json:"tenants,omitempty"`
}

// SeedTenant is an SES tenant and its resource associations, by name.
type SeedTenant struct {
	Name              string   `json:"name"`
	Identities        []string `json:"identities,omitempty"`
	ConfigurationSets []string `json:"configurationSets,omitempty"`
}

// SeedIdentity is a domain or email address identity.
type SeedIdentity struct {
	Name string `json:"name"`
	// DKIM is Easy DKIM signing; missing means on.
	DKIM *bool `json:"dkim,omitempty"`
	// Status is the verification status (SUCCESS, PENDING, FAILED,
	// TEMPORARY_FAILURE, NOT_STARTED); missing means SUCCESS.
	Status string `json:"status,omitempty"`
}

// SeedClient is an app client and the tenant its sign-ins belong to.
type SeedClient struct {
	ID     string `json:"id"`
	Name   string `json:"name"`
	Tenant string `json:"tenant"`
}

// SeedUser is a confirmed user. Note is what the sign-in page says the
// user shows.
type SeedUser struct {
	Email         string `json:"email"`
	Password      string `json:"password"`
	Name          string `json:"name,omitempty"`
	Locale        string `json:"locale,omitempty"`
	Tenant        string `json:"tenant,omitempty"` // custom:tenant
	EmailVerified *bool  `json:"emailVerified,omitempty"`
	Note          string `json:"note,omitempty"`
}

// DemoPassword is the demo users' password. otp-local is a local tool;
// these accounts exist nowhere else.
const DemoPassword = "otp-local-demo"

// DefaultSeed is what `make run` starts with: two branded tenants, a demo
// user per language family worth showing, and one unverified address.
// A user with a tenant signs in through that tenant's client (the page
// lists them there); the others through any.
func DefaultSeed() Seed {
	no := false
	return Seed{
		Clients: []SeedClient{
			{ID: "otplocalacmeweb0000000001", Name: "acme-web", Tenant: "acme"},
			{ID: "otplocalglobexweb00000001", Name: "globex-web", Tenant: "globex"},
			{ID: "otplocaldefaultweb0000001", Name: "default-web"},
		},
		Users: []SeedUser{
			{Email: "rosa@example.com", Password: DemoPassword, Name: "Rosa Díaz", Locale: "en", Note: "English"},
			{Email: "lena@example.com", Password: DemoPassword, Name: "Lena Schmidt", Locale: "de-AT", Note: "German (Austria)"},
			{Email: "yuki@example.com", Password: DemoPassword, Name: "山田 由紀", Locale: "ja", Tenant: "globex", Note: "Japanese"},
			{Email: "omar@example.com", Password: DemoPassword, Name: "عمر", Locale: "ar", Tenant: "globex", Note: "Arabic, right to left"},
			{Email: "unverified@example.com", Password: DemoPassword, Name: "Una Verified", EmailVerified: &no, Note: "address not verified: refused"},
		},
		// The senders of FromAddress and of the embedded sets' from_address,
		// and the SES tenant the globex set sends through, holding its
		// sender's domain and the configuration set the mailer names.
		SES: &SeedSES{Identities: []SeedIdentity{{Name: "otp-local.example"}, {Name: "acme.example"}, {Name: "globex.example"}},
			Tenants: []SeedTenant{{Name: "globex", Identities: []string{"globex.example"}, ConfigurationSets: []string{EventsConfigurationSet}}}},
	}
}

// ses is the seed's SES account, or the default seed's.
func (s Seed) ses() SeedSES {
	if s.SES == nil {
		return *DefaultSeed().SES
	}
	return *s.SES
}

// LoadSeed reads a seed file (JSON, the shape of Seed).
func LoadSeed(path string) (Seed, error) {
	var s Seed
	b, err := os.ReadFile(path)
	if err != nil {
		return s, fmt.Errorf("read seed: %w", err)
	}
	if err := json.Unmarshal(b, &s); err != nil {
		return s, fmt.Errorf("read seed %s: %w", path, err)
	}
	if len(s.Clients) == 0 {
		return s, fmt.Errorf("read seed %s: no clients: the sign-in page needs one", path)
	}
	return s, nil
}

func (s Seed) clients() ([]cognitoidp.Client, map[string]string) {
	var out []cognitoidp.Client
	tenants := map[string]string{}
	for _, c := range s.Clients {
		out = append(out, cognitoidp.Client{
			ID: c.ID, Name: c.Name, PreventUserExistenceErrors: "ENABLED", AuthSessionValidity: 3 * time.Minute,
			// As in the SAM template: the password step rides inside
			// CUSTOM_AUTH, and no flow signs in with the password alone.
			ExplicitAuthFlows: []string{cognitoidp.FlowCustomAuth, cognitoidp.FlowRefreshToken},
			// As in the SAM template: users may not pick their tenant (and
			// with it another tenant's sender) or their email.
			WriteAttributes: []string{"name", "given_name", "locale"},
		})
		if c.Tenant != "" {
			tenants[c.ID] = c.Tenant
		}
	}
	return out, tenants
}

// apply creates the users that do not exist yet (a data dir keeps them
// across restarts) and returns the demo user.
func (s Seed) apply(pool *cognitoidp.Server) (*SeedUser, error) {
	existing := map[string]bool{}
	for _, u := range pool.Users() {
		existing[u.Attributes["email"]] = true
	}
	for _, u := range s.Users {
		if existing[u.Email] {
			continue
		}
		attrs := map[string]string{}
		for k, v := range map[string]string{"name": u.Name, "locale": u.Locale, "custom:tenant": u.Tenant} {
			if v != "" {
				attrs[k] = v
			}
		}
		if _, err := pool.CreateUser(cognitoidp.NewUser{Email: u.Email, Password: u.Password, Attributes: attrs, EmailVerified: u.EmailVerified}); err != nil {
			return nil, fmt.Errorf("seed user %s: %w", u.Email, err)
		}
	}
	if len(s.Users) == 0 {
		return nil, nil
	}
	if len(s.Clients) == 0 {
		return nil, errors.New("seed: no clients")
	}
	demo := s.Users[0]
	return &demo, nil
}

// signInConfig is the sign-in page's view of the seed: one entry per app
// client, branded as the set its tenant's emails use (a client without a
// tenant, or with a tenant no set is named for, gets the default set, as
// the mailer does), and the demo users each client can sign in.
func (s Seed) signInConfig(lib *templates.Library) web.SignInConfig {
	// otp-local's pool lets users sign themselves up, and its custom email
	// sender emails the confirmation code in the tenant's brand.
	cfg := web.SignInConfig{UserPoolID: PoolID, SelfSignUp: true}
	for _, c := range s.Clients {
		b, ok := lib.Branding(c.Tenant)
		if !ok {
			b, _ = lib.Branding(templates.DefaultSet)
		}
		cfg.Tenants = append(cfg.Tenants, web.SignInTenant{ClientID: c.ID, ClientName: c.Name, Tenant: c.Tenant, Branding: b})
	}
	for _, u := range s.Users {
		cfg.DemoUsers = append(cfg.DemoUsers, web.DemoUser{Username: u.Email, Password: u.Password, Tenant: u.Tenant, Note: u.Note})
	}
	return cfg
}
