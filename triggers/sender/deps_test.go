package sender_test

import (
	"os/exec"
	"strings"
	"testing"
)

// esdkPackages mark the AWS Encryption SDK and the Material Providers
// Library, about 9 MB of binary and a cold start's worth of Dafny runtime.
var esdkPackages = []string{"github.com/aws/aws-encryption-sdk/", "github.com/aws/aws-cryptographic-material-providers-library/"}

// TestOnlyTheSenderLinksTheEncryptionSDK: the sign-in triggers must start
// fast inside Cognito's 5 s and never need the SDK; the mailer takes
// plaintext codes off the queue. Only the sender decrypts.
func TestOnlyTheSenderLinksTheEncryptionSDK(t *testing.T) {
	for _, tc := range []struct {
		pkg   string
		links bool
	}{
		{"../define", false},
		{"../create", false},
		{"../verify", false},
		{"../tokens", false},
		{"../../mailer/function", false},
		{"./function", true},
	} {
		out, err := exec.Command("go", "list", "-deps", tc.pkg).CombinedOutput()
		if err != nil {
			t.Fatalf("go list -deps %s: %v\n%s", tc.pkg, err, out)
		}
		links := false
		for _, p := range esdkPackages {
			links = links || strings.Contains(string(out), p)
		}
		if links != tc.links {
			t.Errorf("%s links the Encryption SDK: %t, want %t", tc.pkg, links, tc.links)
		}
	}
}
