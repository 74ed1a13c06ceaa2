package cognitoidp

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"math/big"
	"strings"
)

// The SRP-6a group Cognito uses: the 3072-bit MODP prime of RFC 3526
// (RFC 5054's 3072-bit group), generator 2, SHA-256.
var (
	srpN, _ = new(big.Int).SetString(""+
		"FFFFFFFFFFFFFFFFC90FDAA22168C234C4C6628B80DC1CD1"+
		"29024E088A67CC74020BBEA63B139B22514A08798E3404DD"+
		"EF9519B3CD3A431B302B0A6DF25F14374FE1356D6D51C245"+
		"E485B576625E7EC6F44C42E9A637ED6B0BFF5CB6F406B7ED"+
		"EE386BFB5A899FA5AE9F24117C4B1FE649286651ECE45B3D"+
		"C2007CB8A163BF0598DA48361C55D39A69163FA8FD24CF5F"+
		"83655D23DCA3AD961C62F356208552BB9ED529077096966D"+
		"670C354E4ABC9804F1746C08CA18217C32905E462E36CE3B"+
		"E39E772C180E86039B2783A2EC07A28FB5C55DF06F4C52C9"+
		"DE2BCBF6955817183995497CEA956AE515D2261898FA0510"+
		"15728E5A8AAAC42DAD33170D04507A33A85521ABDF1CBA64"+
		"ECFB850458DBEF0A8AEA71575D060C7DB3970F85A6E1E4C7"+
		"ABF5AE8CDB0933D71E8C94E04A25619DCEE3D2261AD2EE6B"+
		"F12FFA06D98A0864D87602733EC86A64521F2B18177B200C"+
		"BBE117577A615D6C770988C0BAD946E208E24FA074E5AB31"+
		"43DB5BFCE0FD108E4B82D120A93AD2CAFFFFFFFFFFFFFFFF", 16)
	srpG = big.NewInt(2)
	srpK = hashHexInt(padHex(srpN) + padHex(srpG))
)

// padHex is Cognito's (and Amplify's) integer encoding: even-length hex
// with a leading 00 when the top bit is set, so the bytes read as a
// positive two's-complement number. Hashes are taken over these bytes, so
// the server must encode exactly as the clients do.
func padHex(n *big.Int) string {
	h := n.Text(16)
	if len(h)%2 == 1 {
		h = "0" + h
	}
	if strings.IndexByte("89abcdef", h[0]) >= 0 {
		h = "00" + h
	}
	return h
}

func hashHexInt(hexStr string) *big.Int {
	b, _ := hex.DecodeString(hexStr)
	sum := sha256.Sum256(b)
	return new(big.Int).SetBytes(sum[:])
}

// passwordX is x = H(salt | H(poolName | userID | ":" | password)).
func passwordX(poolName, userID, password string, salt *big.Int) *big.Int {
	inner := sha256.Sum256([]byte(poolName + userID + ":" + password))
	return hashHexInt(padHex(salt) + hex.EncodeToString(inner[:]))
}

// verifier is v = g^x mod N: all the server keeps of a password.
func verifier(poolName, userID, password string, salt *big.Int) *big.Int {
	return new(big.Int).Exp(srpG, passwordX(poolName, userID, password, salt), srpN)
}

// newSalt is 128 random bits, as Cognito issues.
func newSalt() (*big.Int, error) {
	b := make([]byte, 16)
	if _, err := rand.Read(b); err != nil {
		return nil, err
	}
	return new(big.Int).SetBytes(b), nil
}

// serverKey is one SRP exchange's server side: b secret, B public.
type serverKey struct {
	b, B *big.Int
}

// newServerKey computes B = k*v + g^b mod N with a fresh b.
func newServerKey(v *big.Int) (serverKey, error) {
	raw := make([]byte, 32)
	if _, err := rand.Read(raw); err != nil {
		return serverKey{}, err
	}
	b := new(big.Int).SetBytes(raw)
	B := new(big.Int).Mul(srpK, v)
	B.Add(B, new(big.Int).Exp(srpG, b, srpN))
	B.Mod(B, srpN)
	return serverKey{b: b, B: B}, nil
}

var errBadA = errors.New("SRP_A is not a valid value")

// parseA reads the client's public value and refuses A = 0 mod N, which
// would let a client force the shared secret to zero.
func parseA(hexA string) (*big.Int, error) {
	A, ok := new(big.Int).SetString(hexA, 16)
	if !ok || A.Sign() <= 0 || new(big.Int).Mod(A, srpN).Sign() == 0 {
		return nil, errBadA
	}
	return A, nil
}

// sessionKey derives the 16-byte key both sides sign with:
// S = (A * v^u)^b mod N, u = H(A | B), key = HKDF-SHA256(ikm=S, salt=u,
// info="Caldera Derived Key") as Cognito defines it.
func sessionKey(A, v *big.Int, k serverKey) ([]byte, error) {
	u := hashHexInt(padHex(A) + padHex(k.B))
	if u.Sign() == 0 {
		return nil, errors.New("SRP: u is zero")
	}
	S := new(big.Int).Exp(v, u, srpN)
	S.Mul(S, A)
	S.Mod(S, srpN)
	S.Exp(S, k.b, srpN)
	ikm, _ := hex.DecodeString(padHex(S))
	salt, _ := hex.DecodeString(padHex(u))
	prk := hmacSHA256(salt, ikm)
	return hmacSHA256(prk, []byte("Caldera Derived Key\x01"))[:16], nil
}

// claimSignature is what the client must send as PASSWORD_CLAIM_SIGNATURE:
// HMAC(key, poolName | userID | secretBlock | timestamp).
func claimSignature(key []byte, poolName, userID string, secretBlock []byte, timestamp string) []byte {
	m := hmac.New(sha256.New, key)
	m.Write([]byte(poolName))
	m.Write([]byte(userID))
	m.Write(secretBlock)
	m.Write([]byte(timestamp))
	return m.Sum(nil)
}

func hmacSHA256(key, data []byte) []byte {
	m := hmac.New(sha256.New, key)
	m.Write(data)
	return m.Sum(nil)
}
