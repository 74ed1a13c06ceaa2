package kmslocal_test

import (
	"bytes"
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/kms"
	"github.com/aws/aws-sdk-go-v2/service/kms/types"
	"github.com/aws/smithy-go"

	"github.com/cognito-email-otp/cognito-email-otp/deploy/local/awslocal"
	"github.com/cognito-email-otp/cognito-email-otp/deploy/local/kmslocal"
)

const testAlias = "alias/otp-test"

// env is a kmslocal server on a loopback httptest server, a real SDK
// client pointed at it and one seeded key.
type env struct {
	srv    *kmslocal.Server
	url    string
	client *kms.Client
	keyARN string
}

func newEnv(t *testing.T, dir string) *env {
	t.Helper()
	srv, err := kmslocal.New(kmslocal.Options{DataDir: dir})
	if err != nil {
		t.Fatal(err)
	}
	hs := httptest.NewServer(srv)
	t.Cleanup(hs.Close)
	arn, err := srv.EnsureKey(testAlias, "test key")
	if err != nil {
		t.Fatal(err)
	}
	client := kms.NewFromConfig(awslocal.Config(hs.URL), func(o *kms.Options) { o.RetryMaxAttempts = 1 })
	return &env{srv: srv, url: hs.URL, client: client, keyARN: arn}
}

func keyID(arn string) string { return arn[strings.LastIndex(arn, "/")+1:] }

// apiCode returns the error code and message of an SDK error.
func apiCode(t *testing.T, err error) (string, string) {
	t.Helper()
	var ae smithy.APIError
	if !errors.As(err, &ae) {
		t.Fatalf("want an API error, got %v", err)
	}
	return ae.ErrorCode(), ae.ErrorMessage()
}

func (e *env) newKey(t *testing.T, in *kms.CreateKeyInput) string {
	t.Helper()
	out, err := e.client.CreateKey(context.Background(), in)
	if err != nil {
		t.Fatal(err)
	}
	return *out.KeyMetadata.Arn
}

func TestEncryptDecryptRoundTrip(t *testing.T) {
	e := newEnv(t, "")
	ctx := context.Background()
	ec := map[string]string{"userpool-id": "us-east-1_OtpLocal1", "b": "2"}
	for _, id := range []string{e.keyARN, keyID(e.keyARN), testAlias, "arn:aws:kms:us-east-1:000000000000:" + testAlias} {
		t.Run(id, func(t *testing.T) {
			enc, err := e.client.Encrypt(ctx, &kms.EncryptInput{KeyId: &id, Plaintext: []byte("493817"), EncryptionContext: ec})
			if err != nil {
				t.Fatal(err)
			}
			if *enc.KeyId != e.keyARN || enc.EncryptionAlgorithm != types.EncryptionAlgorithmSpecSymmetricDefault {
				t.Errorf("Encrypt answered key %s, algorithm %s; want %s, SYMMETRIC_DEFAULT", *enc.KeyId, enc.EncryptionAlgorithm, e.keyARN)
			}
			if bytes.Contains(enc.CiphertextBlob, []byte("493817")) {
				t.Error("the blob contains the plaintext")
			}
			// The context's order does not matter; its content does.
			dec, err := e.client.Decrypt(ctx, &kms.DecryptInput{CiphertextBlob: enc.CiphertextBlob, EncryptionContext: map[string]string{"b": "2", "userpool-id": "us-east-1_OtpLocal1"}})
			if err != nil {
				t.Fatal(err)
			}
			if string(dec.Plaintext) != "493817" || *dec.KeyId != e.keyARN {
				t.Errorf("Decrypt = %q under %s", dec.Plaintext, *dec.KeyId)
			}
		})
	}
}

func TestDecryptRefusals(t *testing.T) {
	e := newEnv(t, "")
	ctx := context.Background()
	ec := map[string]string{"userpool-id": "us-east-1_OtpLocal1"}
	enc, err := e.client.Encrypt(ctx, &kms.EncryptInput{KeyId: aws.String(e.keyARN), Plaintext: []byte("493817"), EncryptionContext: ec})
	if err != nil {
		t.Fatal(err)
	}
	blob := enc.CiphertextBlob
	other := e.newKey(t, &kms.CreateKeyInput{Description: aws.String("another key")})
	flip := func(i int) []byte {
		b := bytes.Clone(blob)
		b[i] ^= 0x01
		return b
	}
	tests := []struct {
		name     string
		in       kms.DecryptInput
		wantCode string
		wantMsg  string
	}{
		{"the version byte altered", kms.DecryptInput{CiphertextBlob: flip(0), EncryptionContext: ec}, "InvalidCiphertextException", ""},
		{"the key id altered", kms.DecryptInput{CiphertextBlob: flip(5), EncryptionContext: ec}, "InvalidCiphertextException", ""},
		{"the nonce altered", kms.DecryptInput{CiphertextBlob: flip(20), EncryptionContext: ec}, "InvalidCiphertextException", ""},
		{"the sealed bytes altered", kms.DecryptInput{CiphertextBlob: flip(30), EncryptionContext: ec}, "InvalidCiphertextException", ""},
		{"the tag altered", kms.DecryptInput{CiphertextBlob: flip(len(blob) - 1), EncryptionContext: ec}, "InvalidCiphertextException", ""},
		{"truncated", kms.DecryptInput{CiphertextBlob: blob[:len(blob)-1], EncryptionContext: ec}, "InvalidCiphertextException", ""},
		{"garbage", kms.DecryptInput{CiphertextBlob: []byte("not a ciphertext blob at all, just some bytes"), EncryptionContext: ec}, "InvalidCiphertextException", ""},
		{"no encryption context", kms.DecryptInput{CiphertextBlob: blob}, "InvalidCiphertextException", ""},
		{"another context value", kms.DecryptInput{CiphertextBlob: blob, EncryptionContext: map[string]string{"userpool-id": "us-east-1_Other"}}, "InvalidCiphertextException", ""},
		{"an extra context pair", kms.DecryptInput{CiphertextBlob: blob, EncryptionContext: map[string]string{"userpool-id": "us-east-1_OtpLocal1", "x": "y"}}, "InvalidCiphertextException", ""},
		{"KeyId names another key", kms.DecryptInput{CiphertextBlob: blob, EncryptionContext: ec, KeyId: aws.String(other)}, "IncorrectKeyException",
			"The key ID in the request does not identify a CMK that can perform this operation."},
		{"KeyId names no key", kms.DecryptInput{CiphertextBlob: blob, EncryptionContext: ec, KeyId: aws.String("11111111-2222-4333-8444-555555555555")}, "NotFoundException",
			"Key 'arn:aws:kms:us-east-1:000000000000:key/11111111-2222-4333-8444-555555555555' does not exist"},
		{"KeyId an unknown alias", kms.DecryptInput{CiphertextBlob: blob, EncryptionContext: ec, KeyId: aws.String("alias/nope")}, "NotFoundException",
			"Alias arn:aws:kms:us-east-1:000000000000:alias/nope is not found."},
		{"an empty blob", kms.DecryptInput{CiphertextBlob: []byte{}, EncryptionContext: ec}, "ValidationException",
			"1 validation error detected: Value at 'ciphertextBlob' failed to satisfy constraint: Member must have length greater than or equal to 1"},
		{"a blob over 6144 bytes", kms.DecryptInput{CiphertextBlob: make([]byte, 6145), EncryptionContext: ec}, "ValidationException",
			"1 validation error detected: Value at 'ciphertextBlob' failed to satisfy constraint: Member must have length less than or equal to 6144"},
		{"an asymmetric algorithm", kms.DecryptInput{CiphertextBlob: blob, EncryptionContext: ec, EncryptionAlgorithm: types.EncryptionAlgorithmSpecRsaesOaepSha256}, "InvalidKeyUsageException",
			"Algorithm RSAES_OAEP_SHA_256 is incompatible with key spec SYMMETRIC_DEFAULT."},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := e.client.Decrypt(ctx, &tc.in)
			code, msg := apiCode(t, err)
			if code != tc.wantCode || msg != tc.wantMsg {
				t.Errorf("got %s %q, want %s %q", code, msg, tc.wantCode, tc.wantMsg)
			}
		})
	}
	// The typed error is what the Encryption SDK's keyring sees.
	_, err = e.client.Decrypt(ctx, &kms.DecryptInput{CiphertextBlob: flip(30), EncryptionContext: ec})
	var ice *types.InvalidCiphertextException
	if !errors.As(err, &ice) {
		t.Errorf("want *types.InvalidCiphertextException, got %T", err)
	}
}

func TestDisabledKey(t *testing.T) {
	e := newEnv(t, "")
	ctx := context.Background()
	enc, err := e.client.Encrypt(ctx, &kms.EncryptInput{KeyId: aws.String(testAlias), Plaintext: []byte("x")})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := e.client.DisableKey(ctx, &kms.DisableKeyInput{KeyId: aws.String(testAlias)}); err == nil {
		t.Error("DisableKey took an alias; it takes a key id or ARN")
	}
	if _, err := e.client.DisableKey(ctx, &kms.DisableKeyInput{KeyId: aws.String(e.keyARN)}); err != nil {
		t.Fatal(err)
	}
	want := e.keyARN + " is disabled."
	calls := map[string]func() error{
		"Encrypt": func() error {
			_, err := e.client.Encrypt(ctx, &kms.EncryptInput{KeyId: aws.String(e.keyARN), Plaintext: []byte("x")})
			return err
		},
		"Decrypt": func() error {
			_, err := e.client.Decrypt(ctx, &kms.DecryptInput{CiphertextBlob: enc.CiphertextBlob})
			return err
		},
		"GenerateDataKey": func() error {
			_, err := e.client.GenerateDataKey(ctx, &kms.GenerateDataKeyInput{KeyId: aws.String(testAlias), NumberOfBytes: aws.Int32(32)})
			return err
		},
	}
	for name, call := range calls {
		t.Run(name, func(t *testing.T) {
			var de *types.DisabledException
			if err := call(); !errors.As(err, &de) || de.ErrorMessage() != want {
				t.Errorf("got %v, want DisabledException %q", err, want)
			}
		})
	}
	d, err := e.client.DescribeKey(ctx, &kms.DescribeKeyInput{KeyId: aws.String(testAlias)})
	if err != nil || d.KeyMetadata.Enabled || d.KeyMetadata.KeyState != types.KeyStateDisabled {
		t.Errorf("DescribeKey after DisableKey: %+v, %v", d, err)
	}
	if _, err := e.client.EnableKey(ctx, &kms.EnableKeyInput{KeyId: aws.String(keyID(e.keyARN))}); err != nil {
		t.Fatal(err)
	}
	if err := calls["Decrypt"](); err != nil {
		t.Errorf("Decrypt after EnableKey: %v", err)
	}
}

func TestGenerateDataKey(t *testing.T) {
	e := newEnv(t, "")
	ctx := context.Background()
	hmac := e.newKey(t, &kms.CreateKeyInput{KeySpec: types.KeySpecHmac256, KeyUsage: types.KeyUsageTypeGenerateVerifyMac})
	tests := []struct {
		name     string
		in       kms.GenerateDataKeyInput
		wantLen  int
		wantCode string
		wantMsg  string
	}{
		{"32 bytes, as the Encryption SDK asks", kms.GenerateDataKeyInput{KeyId: aws.String(e.keyARN), NumberOfBytes: aws.Int32(32)}, 32, "", ""},
		{"1 byte", kms.GenerateDataKeyInput{KeyId: aws.String(testAlias), NumberOfBytes: aws.Int32(1)}, 1, "", ""},
		{"1024 bytes", kms.GenerateDataKeyInput{KeyId: aws.String(testAlias), NumberOfBytes: aws.Int32(1024)}, 1024, "", ""},
		{"AES_128", kms.GenerateDataKeyInput{KeyId: aws.String(testAlias), KeySpec: types.DataKeySpecAes128}, 16, "", ""},
		{"AES_256", kms.GenerateDataKeyInput{KeyId: aws.String(testAlias), KeySpec: types.DataKeySpecAes256}, 32, "", ""},
		{"0 bytes", kms.GenerateDataKeyInput{KeyId: aws.String(testAlias), NumberOfBytes: aws.Int32(0)}, 0, "ValidationException",
			"1 validation error detected: Value '0' at 'numberOfBytes' failed to satisfy constraint: Member must have value greater than or equal to 1"},
		{"1025 bytes", kms.GenerateDataKeyInput{KeyId: aws.String(testAlias), NumberOfBytes: aws.Int32(1025)}, 0, "ValidationException",
			"1 validation error detected: Value '1025' at 'numberOfBytes' failed to satisfy constraint: Member must have value less than or equal to 1024"},
		{"both KeySpec and NumberOfBytes", kms.GenerateDataKeyInput{KeyId: aws.String(testAlias), NumberOfBytes: aws.Int32(32), KeySpec: types.DataKeySpecAes256}, 0,
			"ValidationException", "Please specify either number of bytes or key spec."},
		{"neither", kms.GenerateDataKeyInput{KeyId: aws.String(testAlias)}, 0, "ValidationException", "Please specify either number of bytes or key spec."},
		{"an unknown KeySpec", kms.GenerateDataKeyInput{KeyId: aws.String(testAlias), KeySpec: "AES_512"}, 0, "ValidationException",
			"1 validation error detected: Value 'AES_512' at 'keySpec' failed to satisfy constraint: Member must satisfy enum value set: [AES_256, AES_128]"},
		{"an HMAC key", kms.GenerateDataKeyInput{KeyId: aws.String(hmac), NumberOfBytes: aws.Int32(32)}, 0, "InvalidKeyUsageException",
			hmac + " key usage is GENERATE_VERIFY_MAC which is not valid for GenerateDataKey."},
		{"11 grant tokens", kms.GenerateDataKeyInput{KeyId: aws.String(testAlias), NumberOfBytes: aws.Int32(32), GrantTokens: make([]string, 11)}, 0, "ValidationException",
			"1 validation error detected: Value at 'grantTokens' failed to satisfy constraint: Member must have length less than or equal to 10"},
		{"a dry run", kms.GenerateDataKeyInput{KeyId: aws.String(testAlias), NumberOfBytes: aws.Int32(32), DryRun: aws.Bool(true)}, 0, "DryRunOperationException",
			"The request would have succeeded, but the DryRun option is set."},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			out, err := e.client.GenerateDataKey(ctx, &tc.in)
			if tc.wantCode != "" {
				code, msg := apiCode(t, err)
				if code != tc.wantCode || msg != tc.wantMsg {
					t.Errorf("got %s %q, want %s %q", code, msg, tc.wantCode, tc.wantMsg)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if len(out.Plaintext) != tc.wantLen || *out.KeyId != e.keyARN {
				t.Fatalf("got %d bytes under %s, want %d under %s", len(out.Plaintext), *out.KeyId, tc.wantLen, e.keyARN)
			}
			dec, err := e.client.Decrypt(ctx, &kms.DecryptInput{CiphertextBlob: out.CiphertextBlob, KeyId: aws.String(e.keyARN)})
			if err != nil || !bytes.Equal(dec.Plaintext, out.Plaintext) {
				t.Errorf("the data key's blob does not decrypt to it: %v", err)
			}
		})
	}
}

func TestEncryptLimits(t *testing.T) {
	e := newEnv(t, "")
	ctx := context.Background()
	hmac := e.newKey(t, &kms.CreateKeyInput{KeySpec: types.KeySpecHmac512, KeyUsage: types.KeyUsageTypeGenerateVerifyMac})
	tests := []struct {
		name      string
		keyID     string
		plaintext []byte
		wantCode  string
		wantMsg   string
	}{
		{"4096 bytes", testAlias, make([]byte, 4096), "", ""},
		{"4097 bytes", testAlias, make([]byte, 4097), "ValidationException",
			"1 validation error detected: Value at 'plaintext' failed to satisfy constraint: Member must have length less than or equal to 4096"},
		{"empty", testAlias, []byte{}, "ValidationException",
			"1 validation error detected: Value at 'plaintext' failed to satisfy constraint: Member must have length greater than or equal to 1"},
		{"an HMAC key", hmac, []byte("x"), "InvalidKeyUsageException", hmac + " key usage is GENERATE_VERIFY_MAC which is not valid for Encrypt."},
		{"a key id that is no UUID", "fake-key-id", []byte("x"), "NotFoundException", "Invalid keyId 'fake-key-id'"},
		{"a key ARN of another Region", strings.Replace(e.keyARN, "us-east-1", "eu-west-1", 1), []byte("x"), "NotFoundException", "Invalid arn eu-west-1"},
		{"a key ARN of another account", strings.Replace(e.keyARN, "000000000000", "111111111111", 1), []byte("x"), "NotFoundException",
			"Key '" + strings.Replace(e.keyARN, "000000000000", "111111111111", 1) + "' does not exist"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := e.client.Encrypt(ctx, &kms.EncryptInput{KeyId: aws.String(tc.keyID), Plaintext: tc.plaintext})
			if tc.wantCode == "" {
				if err != nil {
					t.Fatal(err)
				}
				return
			}
			code, msg := apiCode(t, err)
			if code != tc.wantCode || msg != tc.wantMsg {
				t.Errorf("got %s %q, want %s %q", code, msg, tc.wantCode, tc.wantMsg)
			}
		})
	}
}

func TestKeysAndAliases(t *testing.T) {
	e := newEnv(t, "")
	ctx := context.Background()
	d, err := e.client.DescribeKey(ctx, &kms.DescribeKeyInput{KeyId: aws.String("arn:aws:kms:us-east-1:000000000000:" + testAlias)})
	if err != nil {
		t.Fatal(err)
	}
	m := d.KeyMetadata
	if *m.Arn != e.keyARN || m.KeySpec != types.KeySpecSymmetricDefault || m.KeyUsage != types.KeyUsageTypeEncryptDecrypt ||
		m.KeyManager != types.KeyManagerTypeCustomer || m.Origin != types.OriginTypeAwsKms || !m.Enabled || m.CreationDate == nil ||
		len(m.EncryptionAlgorithms) != 1 || *m.AWSAccountId != "000000000000" {
		t.Errorf("DescribeKey = %+v", m)
	}
	tests := []struct {
		name     string
		in       kms.CreateAliasInput
		wantCode string
		wantMsg  string
	}{
		{"a new alias", kms.CreateAliasInput{AliasName: aws.String("alias/second"), TargetKeyId: aws.String(e.keyARN)}, "", ""},
		{"an alias in use", kms.CreateAliasInput{AliasName: aws.String(testAlias), TargetKeyId: aws.String(e.keyARN)}, "AlreadyExistsException",
			"An alias with the name arn:aws:kms:us-east-1:000000000000:alias/otp-test already exists"},
		{"no alias/ prefix", kms.CreateAliasInput{AliasName: aws.String("second"), TargetKeyId: aws.String(e.keyARN)}, "ValidationException",
			`Alias must start with the prefix "alias/". Please see https://docs.aws.amazon.com/kms/latest/developerguide/kms-alias.html`},
		{"the reserved alias/aws/ prefix", kms.CreateAliasInput{AliasName: aws.String("alias/aws/mine"), TargetKeyId: aws.String(e.keyARN)}, "NotAuthorizedException",
			"alias/aws/mine must not begin with alias/aws/: the prefix is reserved for AWS managed keys."},
		{"an alias as the target", kms.CreateAliasInput{AliasName: aws.String("alias/third"), TargetKeyId: aws.String(testAlias)}, "NotFoundException",
			"Invalid keyId 'alias/otp-test'"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := e.client.CreateAlias(ctx, &tc.in)
			if tc.wantCode == "" {
				if err != nil {
					t.Fatal(err)
				}
				return
			}
			code, msg := apiCode(t, err)
			if code != tc.wantCode || msg != tc.wantMsg {
				t.Errorf("got %s %q, want %s %q", code, msg, tc.wantCode, tc.wantMsg)
			}
		})
	}
	// CreateKey refuses what otp-local does not emulate rather than make a
	// key that would behave unlike AWS's.
	for _, in := range []*kms.CreateKeyInput{
		{KeySpec: types.KeySpecHmac256}, // HMAC without KeyUsage
		{KeySpec: types.KeySpecRsa2048, KeyUsage: types.KeyUsageTypeEncryptDecrypt},
		{MultiRegion: aws.Bool(true)},
	} {
		if _, err := e.client.CreateKey(ctx, in); err == nil {
			t.Errorf("CreateKey(%+v) succeeded", in)
		}
	}
}

// TestRefusesUnsignedAndBrowserRequests: a page must not turn ciphertext
// into codes, and an unsigned request fails as on AWS.
func TestRefusesUnsignedAndBrowserRequests(t *testing.T) {
	e := newEnv(t, "")
	signed := "AWS4-HMAC-SHA256 Credential=AKID/20260101/us-east-1/kms/aws4_request, SignedHeaders=host;x-amz-date, Signature=" + strings.Repeat("0", 64)
	tests := []struct {
		name       string
		headers    map[string]string
		wantStatus int
		wantCode   string
	}{
		{"unsigned", map[string]string{}, 400, "MissingAuthenticationTokenException"},
		{"signed for another service", map[string]string{"Authorization": strings.Replace(signed, "/kms/", "/sqs/", 1), "X-Amz-Date": "20260101T000000Z"}, 400, "IncompleteSignatureException"},
		{"from a page", map[string]string{"Authorization": signed, "X-Amz-Date": "20260101T000000Z", "Origin": "http://127.0.0.1:7070"}, 403, "AccessDeniedException"},
		{"fetch metadata of a page", map[string]string{"Authorization": signed, "X-Amz-Date": "20260101T000000Z", "Sec-Fetch-Mode": "cors"}, 403, "AccessDeniedException"},
		{"signed", map[string]string{"Authorization": signed, "X-Amz-Date": "20260101T000000Z"}, 200, ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			req, _ := http.NewRequest(http.MethodPost, e.url, strings.NewReader(`{"KeyId":"`+testAlias+`"}`))
			req.Header.Set("X-Amz-Target", "TrentService.DescribeKey")
			req.Header.Set("Content-Type", "application/x-amz-json-1.1")
			for k, v := range tc.headers {
				req.Header.Set(k, v)
			}
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			defer resp.Body.Close()
			var buf bytes.Buffer
			_, _ = buf.ReadFrom(resp.Body)
			if resp.StatusCode != tc.wantStatus || !strings.Contains(buf.String(), tc.wantCode) {
				t.Errorf("got %d %s, want %d %s", resp.StatusCode, buf.String(), tc.wantStatus, tc.wantCode)
			}
		})
	}
}

// TestDataDirKeepsKeys: a restart keeps the key and its secret, so codes
// encrypted before it decrypt after it; the file is the owner's only.
func TestDataDirKeepsKeys(t *testing.T) {
	dir := t.TempDir()
	ctx := context.Background()
	first := newEnv(t, dir)
	enc, err := first.client.Encrypt(ctx, &kms.EncryptInput{KeyId: aws.String(testAlias), Plaintext: []byte("493817")})
	if err != nil {
		t.Fatal(err)
	}
	second := newEnv(t, dir)
	if second.keyARN != first.keyARN {
		t.Fatalf("the alias points at %s after a restart, %s before", second.keyARN, first.keyARN)
	}
	dec, err := second.client.Decrypt(ctx, &kms.DecryptInput{CiphertextBlob: enc.CiphertextBlob})
	if err != nil || string(dec.Plaintext) != "493817" {
		t.Fatalf("after a restart: %q, %v", dec.Plaintext, err)
	}
	fi, err := os.Stat(filepath.Join(dir, "kms.json"))
	if err != nil || fi.Mode().Perm() != 0o600 {
		t.Errorf("kms.json: %v, %v; want mode 0600", fi, err)
	}
}

func TestOutageIsAServerError(t *testing.T) {
	e := newEnv(t, "")
	e.srv.SetOutage(true)
	_, err := e.client.Decrypt(context.Background(), &kms.DecryptInput{CiphertextBlob: []byte("x")})
	var re interface{ HTTPStatusCode() int }
	if code, _ := apiCode(t, err); code != "KMSInternalException" || !errors.As(err, &re) || re.HTTPStatusCode() != 500 {
		t.Errorf("during an outage: %v", err)
	}
	e.srv.SetOutage(false)
	if _, err := e.client.DescribeKey(context.Background(), &kms.DescribeKeyInput{KeyId: aws.String(testAlias)}); err != nil {
		t.Errorf("after the outage: %v", err)
	}
}
