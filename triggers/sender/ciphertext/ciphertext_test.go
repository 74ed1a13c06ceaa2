package ciphertext_test

import (
	"bytes"
	"context"
	"encoding/base64"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	mpl "github.com/aws/aws-cryptographic-material-providers-library/releases/go/mpl/awscryptographymaterialproviderssmithygenerated"
	mpltypes "github.com/aws/aws-cryptographic-material-providers-library/releases/go/mpl/awscryptographymaterialproviderssmithygeneratedtypes"
	esdk "github.com/aws/aws-encryption-sdk/releases/go/encryption-sdk/awscryptographyencryptionsdksmithygenerated"
	esdktypes "github.com/aws/aws-encryption-sdk/releases/go/encryption-sdk/awscryptographyencryptionsdksmithygeneratedtypes"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/kms"

	"github.com/cognito-email-otp/cognito-email-otp/deploy/local/awslocal"
	"github.com/cognito-email-otp/cognito-email-otp/deploy/local/kmslocal"
	"github.com/cognito-email-otp/cognito-email-otp/triggers/sender/ciphertext"
)

const (
	pool = "us-east-1_OtpLocal1"
	code = "493817"
)

// env is otp-local's KMS on a loopback port, counting its requests, a real
// SDK client for it, and two keys.
type env struct {
	srv              *kmslocal.Server
	client           *kms.Client
	keyARN, otherARN string
	calls            atomic.Int64
}

func newEnv(t *testing.T) *env {
	t.Helper()
	srv, err := kmslocal.New(kmslocal.Options{})
	if err != nil {
		t.Fatal(err)
	}
	e := &env{srv: srv}
	hs := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		e.calls.Add(1)
		srv.ServeHTTP(w, r)
	}))
	t.Cleanup(hs.Close)
	if e.keyARN, err = srv.EnsureKey("alias/otp-custom-sender", "custom sender"); err != nil {
		t.Fatal(err)
	}
	if e.otherARN, err = srv.EnsureKey("alias/another-pool", "another pool's key"); err != nil {
		t.Fatal(err)
	}
	e.client = kmsClient(hs.URL)
	return e
}

func kmsClient(url string) *kms.Client {
	return kms.NewFromConfig(awslocal.Config(url), func(o *kms.Options) { o.RetryMaxAttempts = 1 })
}

func (e *env) decrypter(t *testing.T, cfg ciphertext.DecrypterConfig) *ciphertext.Decrypter {
	t.Helper()
	if cfg.KeyARN == "" {
		cfg.KeyARN = e.keyARN
	}
	d, err := ciphertext.NewDecrypter(e.client, cfg)
	if err != nil {
		t.Fatal(err)
	}
	return d
}

func (e *env) encrypt(t *testing.T, keyARN, poolID, plaintext string) string {
	t.Helper()
	enc, err := ciphertext.NewEncryptor(e.client, ciphertext.EncryptorConfig{KeyARN: keyARN, UserPoolID: poolID})
	if err != nil {
		t.Fatal(err)
	}
	b64, err := enc.Encrypt(context.Background(), []byte(plaintext))
	if err != nil {
		t.Fatal(err)
	}
	return b64
}

// TestCognitoShapedRoundTrip: what the Encryptor makes is what Cognito
// sends (suite 0x0378, userpool-id, one aws-kms data key naming the key
// ARN), and the Decrypter reads it.
func TestCognitoShapedRoundTrip(t *testing.T) {
	e := newEnv(t)
	b64 := e.encrypt(t, e.keyARN, pool, code)
	got, err := e.decrypter(t, ciphertext.DecrypterConfig{UserPoolID: pool}).Decrypt(context.Background(), b64)
	if err != nil || string(got) != code {
		t.Fatalf("Decrypt = %q, %v", got, err)
	}
	message, _ := base64.StdEncoding.DecodeString(b64)
	if bytes.Count(message, []byte(e.keyARN)) != 1 {
		t.Errorf("the message names the key ARN %d times, want once (one data key)", bytes.Count(message, []byte(e.keyARN)))
	}
	// The SDK itself reports the suite and the context.
	out := sdkDecrypt(t, e, mpltypes.ESDKCommitmentPolicyRequireEncryptAllowDecrypt, message)
	if out.AlgorithmSuiteId != ciphertext.Suite || out.EncryptionContext[ciphertext.PoolContextKey] != pool || out.EncryptionContext["aws-crypto-public-key"] == "" {
		t.Errorf("suite %s, context %v; want %s with userpool-id and the signing key", out.AlgorithmSuiteId, out.EncryptionContext, ciphertext.Suite)
	}
}

func sdkDecrypt(t *testing.T, e *env, policy mpltypes.ESDKCommitmentPolicy, message []byte) *esdktypes.DecryptOutput {
	t.Helper()
	client, err := esdk.NewClient(esdktypes.AwsEncryptionSdkConfig{CommitmentPolicy: &policy})
	if err != nil {
		t.Fatal(err)
	}
	out, err := client.Decrypt(context.Background(), esdktypes.DecryptInput{Ciphertext: message, Keyring: kmsKeyring(t, e.client, e.keyARN)})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

func kmsKeyring(t *testing.T, client *kms.Client, arn string) mpltypes.IKeyring {
	t.Helper()
	providers, err := mpl.NewClient(mpltypes.MaterialProvidersConfig{})
	if err != nil {
		t.Fatal(err)
	}
	k, err := providers.CreateAwsKmsKeyring(context.Background(), mpltypes.CreateAwsKmsKeyringInput{KmsClient: client, KmsKeyId: arn})
	if err != nil {
		t.Fatal(err)
	}
	return k
}

// TestTheDefaultPolicyRefusesCognitosMessages is why the Decrypter sets
// REQUIRE_ENCRYPT_ALLOW_DECRYPT: the Go SDK's default refuses the suite
// Cognito uses.
func TestTheDefaultPolicyRefusesCognitosMessages(t *testing.T) {
	e := newEnv(t)
	message, _ := base64.StdEncoding.DecodeString(e.encrypt(t, e.keyARN, pool, code))
	client, err := esdk.NewClient(esdktypes.AwsEncryptionSdkConfig{})
	if err != nil {
		t.Fatal(err)
	}
	_, err = client.Decrypt(context.Background(), esdktypes.DecryptInput{Ciphertext: message, Keyring: kmsKeyring(t, e.client, e.keyARN)})
	if err == nil || !strings.Contains(err.Error(), "committing") {
		t.Fatalf("the default policy decrypted a non-committing message: %v", err)
	}
}

func flip(b64 string, at func(message []byte) int) string {
	message, _ := base64.StdEncoding.DecodeString(b64)
	message[at(message)] ^= 0x01
	return base64.StdEncoding.EncodeToString(message)
}

// rawAESMessage is a well-formed message whose data key a raw AES keyring
// wrapped: not something KMS or Cognito made. n keyrings give n data keys.
func rawAESMessage(t *testing.T, n int) string {
	t.Helper()
	providers, err := mpl.NewClient(mpltypes.MaterialProvidersConfig{})
	if err != nil {
		t.Fatal(err)
	}
	var keyrings []mpltypes.IKeyring
	for i := range n {
		k, err := providers.CreateRawAesKeyring(context.Background(), mpltypes.CreateRawAesKeyringInput{KeyName: "key" + string(rune('a'+i)), KeyNamespace: "otp-test",
			WrappingAlg: mpltypes.AesWrappingAlgAlgAes256GcmIv12Tag16, WrappingKey: bytes.Repeat([]byte{byte(i + 1)}, 32)})
		if err != nil {
			t.Fatal(err)
		}
		keyrings = append(keyrings, k)
	}
	keyring := keyrings[0]
	if n > 1 {
		if keyring, err = providers.CreateMultiKeyring(context.Background(), mpltypes.CreateMultiKeyringInput{Generator: keyrings[0], ChildKeyrings: keyrings[1:]}); err != nil {
			t.Fatal(err)
		}
	}
	policy := mpltypes.ESDKCommitmentPolicyForbidEncryptAllowDecrypt
	client, err := esdk.NewClient(esdktypes.AwsEncryptionSdkConfig{CommitmentPolicy: &policy})
	if err != nil {
		t.Fatal(err)
	}
	out, err := client.Encrypt(context.Background(), esdktypes.EncryptInput{Plaintext: []byte(code), Keyring: keyring, EncryptionContext: map[string]string{ciphertext.PoolContextKey: pool}})
	if err != nil {
		t.Fatal(err)
	}
	return base64.StdEncoding.EncodeToString(out.Ciphertext)
}

func TestRefusals(t *testing.T) {
	e := newEnv(t)
	good := e.encrypt(t, e.keyARN, pool, code)
	// The data key's KMS blob follows the key ARN and a 2-byte length in the
	// header; 10 bytes into it is well inside.
	inDataKey := func(m []byte) int { return bytes.Index(m, []byte(e.keyARN)) + len(e.keyARN) + 2 + 10 }
	tests := []struct {
		name         string
		cfg          ciphertext.DecrypterConfig
		ciphertext   string
		want         ciphertext.Reason
		wantNoKMS    bool // refused without asking KMS
		wantInDetail string
	}{
		{name: "not base64", ciphertext: "%%% not base64 %%%", want: ciphertext.ReasonMalformed, wantNoKMS: true},
		{name: "empty", ciphertext: "", want: ciphertext.ReasonMalformed, wantNoKMS: true},
		{name: "base64 of garbage", ciphertext: base64.StdEncoding.EncodeToString([]byte("garbage, not an Encryption SDK message")), want: ciphertext.ReasonMalformed, wantNoKMS: true},
		{name: "a flipped version byte", ciphertext: flip(good, func([]byte) int { return 0 }), want: ciphertext.ReasonMalformed, wantNoKMS: true},
		{name: "a flipped byte in the data key", ciphertext: flip(good, inDataKey), want: ciphertext.ReasonTampered},
		{name: "a flipped byte in the body", ciphertext: flip(good, func(m []byte) int { return len(m) - 120 }), want: ciphertext.ReasonTampered},
		{name: "a flipped byte in the signature", ciphertext: flip(good, func(m []byte) int { return len(m) - 1 }), want: ciphertext.ReasonTampered},
		{name: "under another KMS key", ciphertext: e.encrypt(t, e.otherARN, pool, code), want: ciphertext.ReasonWrongKey, wantNoKMS: true, wantInDetail: e.otherARN},
		{name: "a raw AES keyring's", ciphertext: rawAESMessage(t, 1), want: ciphertext.ReasonNotKMS, wantNoKMS: true, wantInDetail: "otp-test"},
		{name: "more data keys than Cognito writes", ciphertext: rawAESMessage(t, 3), want: ciphertext.ReasonMalformed, wantNoKMS: true},
		{name: "another user pool's", cfg: ciphertext.DecrypterConfig{UserPoolID: pool}, ciphertext: e.encrypt(t, e.keyARN, "us-east-1_Other", code), want: ciphertext.ReasonWrongPool},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			d := e.decrypter(t, tc.cfg)
			before := e.calls.Load()
			got, err := d.Decrypt(context.Background(), tc.ciphertext)
			if got != nil || ciphertext.ReasonOf(err) != tc.want {
				t.Fatalf("Decrypt = %q, %v; want reason %s", got, err, tc.want)
			}
			if ciphertext.IsTransient(err) {
				t.Errorf("%v is transient", err)
			}
			if tc.wantNoKMS && e.calls.Load() != before {
				t.Errorf("%d KMS calls for a ciphertext refused on its face", e.calls.Load()-before)
			}
			if !strings.Contains(err.Error(), tc.wantInDetail) {
				t.Errorf("%q does not name %q", err, tc.wantInDetail)
			}
			if strings.Contains(err.Error(), code) {
				t.Errorf("the error shows the plaintext: %v", err)
			}
		})
	}
}

// TestKMSFailures: an unreachable or failing KMS is transient; a key KMS
// refuses is not.
func TestKMSFailures(t *testing.T) {
	e := newEnv(t)
	good := e.encrypt(t, e.keyARN, pool, code)
	closed := httptest.NewServer(e.srv)
	closed.Close() // nothing listens there now
	tests := []struct {
		name   string
		client *kms.Client
		setup  func(t *testing.T) func()
		ctx    func() (context.Context, context.CancelFunc)
		want   ciphertext.Reason
	}{
		{name: "KMS not listening", client: kmsClient(closed.URL), want: ciphertext.ReasonKMSUnavailable},
		{name: "KMS failing (500)", setup: func(*testing.T) func() {
			e.srv.SetOutage(true)
			return func() { e.srv.SetOutage(false) }
		}, want: ciphertext.ReasonKMSUnavailable},
		{name: "the caller gives up", ctx: func() (context.Context, context.CancelFunc) {
			ctx, cancel := context.WithCancel(context.Background())
			cancel()
			return ctx, cancel
		}, want: ciphertext.ReasonKMSUnavailable},
		{name: "the key disabled", setup: func(t *testing.T) func() {
			if _, err := e.client.DisableKey(context.Background(), &kms.DisableKeyInput{KeyId: aws.String(e.keyARN)}); err != nil {
				t.Fatal(err)
			}
			return func() {
				_, _ = e.client.EnableKey(context.Background(), &kms.EnableKeyInput{KeyId: aws.String(e.keyARN)})
			}
		}, want: ciphertext.ReasonKMSRefused},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if tc.setup != nil {
				defer tc.setup(t)()
			}
			client := tc.client
			if client == nil {
				client = e.client
			}
			d, err := ciphertext.NewDecrypter(client, ciphertext.DecrypterConfig{KeyARN: e.keyARN})
			if err != nil {
				t.Fatal(err)
			}
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			if tc.ctx != nil {
				ctx, cancel = tc.ctx()
			}
			defer cancel()
			got, err := d.Decrypt(ctx, good)
			if got != nil || ciphertext.ReasonOf(err) != tc.want {
				t.Fatalf("Decrypt = %q, %v; want reason %s", got, err, tc.want)
			}
			if ciphertext.IsTransient(err) != (tc.want == ciphertext.ReasonKMSUnavailable) {
				t.Errorf("transient %v for %v", ciphertext.IsTransient(err), err)
			}
		})
	}
	// And once KMS is back, the same ciphertext decrypts.
	if got, err := e.decrypter(t, ciphertext.DecrypterConfig{}).Decrypt(context.Background(), good); err != nil || string(got) != code {
		t.Errorf("after the failures: %q, %v", got, err)
	}
}

func TestConstructorsWantAKeyARN(t *testing.T) {
	e := newEnv(t)
	for _, id := range []string{"alias/otp-custom-sender", "arn:aws:kms:us-east-1:000000000000:alias/otp-custom-sender", e.keyARN[strings.LastIndex(e.keyARN, "/")+1:], ""} {
		if _, err := ciphertext.NewDecrypter(e.client, ciphertext.DecrypterConfig{KeyARN: id}); err == nil {
			t.Errorf("NewDecrypter took %q", id)
		}
		if _, err := ciphertext.NewEncryptor(e.client, ciphertext.EncryptorConfig{KeyARN: id, UserPoolID: pool}); err == nil {
			t.Errorf("NewEncryptor took %q", id)
		}
	}
	if _, err := ciphertext.NewEncryptor(e.client, ciphertext.EncryptorConfig{KeyARN: e.keyARN}); err == nil {
		t.Error("NewEncryptor took no user pool id")
	}
}

// TestConcurrentUse: the trigger and otp-local's Cognito call from many
// goroutines; under -race this fails if the SDK is entered concurrently
// (aws/aws-encryption-sdk#902).
func TestConcurrentUse(t *testing.T) {
	e := newEnv(t)
	d := e.decrypter(t, ciphertext.DecrypterConfig{UserPoolID: pool})
	enc, err := ciphertext.NewEncryptor(e.client, ciphertext.EncryptorConfig{KeyARN: e.keyARN, UserPoolID: pool})
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	errs := make(chan error, 8)
	for i := range 8 {
		wg.Go(func() {
			want := fmt.Sprintf("%06d", i)
			b64, err := enc.Encrypt(context.Background(), []byte(want))
			if err != nil {
				errs <- err
				return
			}
			if got, err := d.Decrypt(context.Background(), b64); err != nil || string(got) != want {
				errs <- fmt.Errorf("Decrypt = %q, %v; want %q", got, err, want)
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
}
