package cognitoidp

import (
	"crypto/hmac"
	"encoding/base64"
	"math/big"
	"testing"
	"time"

	cognitosrp "github.com/alexrudd/cognito-srp/v4"
)

// TestSRPAgainstAnIndependentClient runs the server side against
// alexrudd/cognito-srp, a client written for the real Cognito.
func TestSRPAgainstAnIndependentClient(t *testing.T) {
	const pool, userID, password = "us-east-1_OtpLocal1", "7f3e2a10-5c4b-4d21-9e8f-0a1b2c3d4e5f", "correct horse battery staple"
	salt, _ := newSalt()
	v := verifier("OtpLocal1", userID, password, salt)
	for _, tc := range []struct {
		name     string
		password string
		want     bool
	}{
		{"right password", password, true},
		{"wrong password", password + "!", false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			client, err := cognitosrp.NewCognitoSRP(userID, tc.password, pool, "client", nil)
			if err != nil {
				t.Fatal(err)
			}
			A, err := parseA(client.GetAuthParams()["SRP_A"])
			if err != nil {
				t.Fatal(err)
			}
			k, err := newServerKey(v)
			if err != nil {
				t.Fatal(err)
			}
			secretBlock := []byte("opaque secret block")
			now := time.Date(2026, 11, 4, 9, 5, 7, 0, time.UTC)
			resp, err := client.PasswordVerifierChallenge(map[string]string{
				"SALT": padHex(salt), "SRP_B": padHex(k.B), "USER_ID_FOR_SRP": userID,
				"SECRET_BLOCK": base64.StdEncoding.EncodeToString(secretBlock),
			}, now)
			if err != nil {
				t.Fatal(err)
			}
			if resp["TIMESTAMP"] != "Wed Nov 4 09:05:07 UTC 2026" {
				t.Errorf("timestamp %q: the day of month is not zero-padded in Cognito's format", resp["TIMESTAMP"])
			}
			key, err := sessionKey(A, v, k)
			if err != nil {
				t.Fatal(err)
			}
			sig, _ := base64.StdEncoding.DecodeString(resp["PASSWORD_CLAIM_SIGNATURE"])
			got := hmac.Equal(sig, claimSignature(key, "OtpLocal1", userID, secretBlock, resp["TIMESTAMP"]))
			if got != tc.want {
				t.Errorf("signature accepted = %v, want %v", got, tc.want)
			}
		})
	}
}

func TestPadHex(t *testing.T) {
	for in, want := range map[int64]string{0x1: "01", 0x7f: "7f", 0x80: "0080", 0xabc: "0abc", 0x8abc: "008abc"} {
		if got := padHex(big.NewInt(in)); got != want {
			t.Errorf("padHex(%#x) = %s, want %s", in, got, want)
		}
	}
}

func TestParseARefusesZeroModN(t *testing.T) {
	for _, bad := range []string{"0", padHex(srpN), padHex(new(big.Int).Mul(srpN, big.NewInt(2))), "zz", ""} {
		if _, err := parseA(bad); err == nil {
			t.Errorf("parseA(%.12s...) accepted", bad)
		}
	}
}
