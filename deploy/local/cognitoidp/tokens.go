package cognitoidp

import (
	"crypto"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"math/big"
	"os"
	"path/filepath"
	"strings"
	"time"
)

// signer issues and checks the pool's RS256 JWTs.
type signer struct {
	key *rsa.PrivateKey
	kid string
}

// loadOrCreateKey keeps the signing key in the data dir, so tokens stay
// valid across restarts; without a data dir the key lives in memory.
func loadOrCreateKey(dataDir string) (*rsa.PrivateKey, error) {
	var path string
	if dataDir != "" {
		path = filepath.Join(dataDir, "signing-key.pem")
		if b, err := os.ReadFile(path); err == nil {
			block, _ := pem.Decode(b)
			if block == nil {
				return nil, fmt.Errorf("read signing key %s: not PEM", path)
			}
			k, err := x509.ParsePKCS8PrivateKey(block.Bytes)
			if err != nil {
				return nil, fmt.Errorf("read signing key %s: %w", path, err)
			}
			rk, ok := k.(*rsa.PrivateKey)
			if !ok {
				return nil, fmt.Errorf("read signing key %s: not an RSA key", path)
			}
			return rk, nil
		}
	}
	k, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		return nil, fmt.Errorf("generate signing key: %w", err)
	}
	if path != "" {
		der, _ := x509.MarshalPKCS8PrivateKey(k)
		if err := os.WriteFile(path, pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der}), 0o600); err != nil {
			return nil, fmt.Errorf("save signing key: %w", err)
		}
	}
	return k, nil
}

func newSigner(k *rsa.PrivateKey) *signer {
	der, _ := x509.MarshalPKIXPublicKey(&k.PublicKey)
	sum := sha256.Sum256(der)
	return &signer{key: k, kid: base64.RawURLEncoding.EncodeToString(sum[:16])}
}

func (s *signer) sign(claims map[string]any) (string, error) {
	header, _ := json.Marshal(map[string]string{"kid": s.kid, "alg": "RS256"})
	payload, err := json.Marshal(claims)
	if err != nil {
		return "", err
	}
	unsigned := base64.RawURLEncoding.EncodeToString(header) + "." + base64.RawURLEncoding.EncodeToString(payload)
	digest := sha256.Sum256([]byte(unsigned))
	sig, err := rsa.SignPKCS1v15(rand.Reader, s.key, crypto.SHA256, digest[:])
	if err != nil {
		return "", err
	}
	return unsigned + "." + base64.RawURLEncoding.EncodeToString(sig), nil
}

var errBadToken = errors.New("invalid token")

// verify checks a token's signature and expiry and returns its claims.
func (s *signer) verify(token string, now time.Time) (map[string]any, error) {
	parts := strings.Split(token, ".")
	if len(parts) != 3 {
		return nil, errBadToken
	}
	sig, err := base64.RawURLEncoding.DecodeString(parts[2])
	if err != nil {
		return nil, errBadToken
	}
	digest := sha256.Sum256([]byte(parts[0] + "." + parts[1]))
	if rsa.VerifyPKCS1v15(&s.key.PublicKey, crypto.SHA256, digest[:], sig) != nil {
		return nil, errBadToken
	}
	payload, err := base64.RawURLEncoding.DecodeString(parts[1])
	if err != nil {
		return nil, errBadToken
	}
	var claims map[string]any
	if err := json.Unmarshal(payload, &claims); err != nil {
		return nil, errBadToken
	}
	if exp, _ := claims["exp"].(float64); now.Unix() >= int64(exp) {
		return nil, fmt.Errorf("%w: expired", errBadToken)
	}
	return claims, nil
}

// jwks is the public half, as /<pool>/.well-known/jwks.json serves it.
func (s *signer) jwks() map[string]any {
	pub := s.key.PublicKey
	return map[string]any{"keys": []map[string]string{{
		"alg": "RS256",
		"e":   base64.RawURLEncoding.EncodeToString(big.NewInt(int64(pub.E)).Bytes()),
		"kid": s.kid,
		"kty": "RSA",
		"n":   base64.RawURLEncoding.EncodeToString(pub.N.Bytes()),
		"use": "sig",
	}}}
}
