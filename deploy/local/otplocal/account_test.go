package otplocal

import (
	"net/mail"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/cognito-email-otp/cognito-email-otp/templates"
)

// TestDefaultSeedVerifiesEverySender: every sender the mailer uses with
// the embedded sets (theirs, or FromAddress for a set naming none) is
// covered by a verified identity of the default seed, with DKIM on, so a
// fresh otp-local sends everything, as a correctly set-up account does.
func TestDefaultSeedVerifiesEverySender(t *testing.T) {
	lib, err := templates.Load(templates.Embedded())
	if err != nil {
		t.Fatal(err)
	}
	fallback, err := mail.ParseAddress(FromAddress)
	if err != nil {
		t.Fatal(err)
	}
	opts, err := Options{Seed: DefaultSeed()}.sesOptions("")
	if err != nil {
		t.Fatal(err)
	}
	for _, set := range lib.Sets() {
		addr, _ := lib.Sender(set)
		if addr == "" {
			addr = fallback.Address
		}
		_, domain, _ := strings.Cut(addr, "@")
		covered := false
		for _, id := range opts.Identities {
			if (id.Name == addr || id.Name == domain || strings.HasSuffix(domain, "."+id.Name)) && id.Status == "" && !id.DKIMSigningDisabled {
				covered = true
			}
		}
		if !covered {
			t.Errorf("set %s sends from %s, which no verified, DKIM-signing identity of the default seed covers", set, addr)
		}
	}
}

func TestSeedSES(t *testing.T) {
	for _, tc := range []struct {
		name    string
		json    string
		o       Options
		want    []string // identity name/status/dkim
		sandbox bool
		err     string
	}{
		{name: "a seed file without ses gets the default account", json: `{"clients":[{"id":"c1","name":"web"}]}`,
			want: []string{"otp-local.example//true", "acme.example//true", "globex.example//true"}},
		{name: "a seed's identities replace the default", json: `{"clients":[{"id":"c1","name":"web"}],"ses":{"identities":[
			{"name":"initech.example","dkim":false},{"name":"ops@initrode.example","status":"PENDING"}],"configurationSets":["otp"],"sandbox":true}}`,
			want: []string{"initech.example//false", "ops@initrode.example/PENDING/true"}, sandbox: true},
		{name: "the flag puts the default account in the sandbox", json: `{"clients":[{"id":"c1","name":"web"}]}`, o: Options{SESSandbox: true},
			want: []string{"otp-local.example//true", "acme.example//true", "globex.example//true"}, sandbox: true},
		{name: "ses without identities is refused", json: `{"clients":[{"id":"c1","name":"web"}],"ses":{"identities":[]}}`,
			err: "ses lists no identities"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "seed.json")
			if err := os.WriteFile(path, []byte(tc.json), 0o600); err != nil {
				t.Fatal(err)
			}
			seed, err := LoadSeed(path)
			if err != nil {
				t.Fatal(err)
			}
			tc.o.Seed = seed
			opts, err := tc.o.sesOptions("")
			if tc.err != "" {
				if err == nil || !strings.Contains(err.Error(), tc.err) {
					t.Fatalf("err %v, want %q", err, tc.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			var got []string
			for _, id := range opts.Identities {
				got = append(got, id.Name+"/"+id.Status+"/"+map[bool]string{true: "false", false: "true"}[id.DKIMSigningDisabled])
			}
			if strings.Join(got, " ") != strings.Join(tc.want, " ") || opts.Sandbox != tc.sandbox {
				t.Errorf("identities %v sandbox %v, want %v sandbox %v", got, opts.Sandbox, tc.want, tc.sandbox)
			}
		})
	}
}
