package otplocal

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/kms"

	"github.com/cognito-email-otp/cognito-email-otp/deploy/local/awslocal"
	"github.com/cognito-email-otp/cognito-email-otp/internal/nodetest"
	"github.com/cognito-email-otp/cognito-email-otp/triggers/sender/ciphertext"
)

func kmsCrypters(t *testing.T, sys *System) (*ciphertext.Encryptor, *ciphertext.Decrypter) {
	t.Helper()
	client := kms.NewFromConfig(awslocal.Config(sys.URL))
	enc, err := ciphertext.NewEncryptor(client, ciphertext.EncryptorConfig{KeyARN: sys.CustomSenderKeyARN, UserPoolID: PoolID})
	if err != nil {
		t.Fatal(err)
	}
	dec, err := ciphertext.NewDecrypter(client, ciphertext.DecrypterConfig{KeyARN: sys.CustomSenderKeyARN, UserPoolID: PoolID})
	if err != nil {
		t.Fatal(err)
	}
	return enc, dec
}

// TestKMSRoute reaches KMS through otp-local's one port: the seeded custom
// sender key, a code encrypted and decrypted with the Encryption SDK, the
// same key and code after a restart on the same data dir, and no answer to
// a page.
func TestKMSRoute(t *testing.T) {
	dir := t.TempDir()
	sys, _ := start(t, Options{DataDir: dir})
	ctx := t.Context()
	d, err := kms.NewFromConfig(awslocal.Config(sys.URL)).DescribeKey(ctx, &kms.DescribeKeyInput{KeyId: aws.String(CustomSenderKeyAlias)})
	if err != nil || aws.ToString(d.KeyMetadata.Arn) != sys.CustomSenderKeyARN || !d.KeyMetadata.Enabled {
		t.Fatalf("DescribeKey(%s) = %+v, %v; want %s", CustomSenderKeyAlias, d, err, sys.CustomSenderKeyARN)
	}
	enc, dec := kmsCrypters(t, sys)
	code, err := enc.Encrypt(ctx, []byte("493817"))
	if err != nil {
		t.Fatal(err)
	}
	if got, err := dec.Decrypt(ctx, code); err != nil || string(got) != "493817" {
		t.Fatalf("Decrypt = %q, %v", got, err)
	}

	req, _ := http.NewRequest(http.MethodPost, sys.URL, strings.NewReader(`{"KeyId":"`+CustomSenderKeyAlias+`"}`))
	req.Header.Set("X-Amz-Target", "TrentService.DescribeKey")
	req.Header.Set("Content-Type", "application/x-amz-json-1.1")
	req.Header.Set("Origin", sys.URL) // otp-local's own page
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusForbidden {
		t.Errorf("KMS from a page: %d, want 403", resp.StatusCode)
	}

	arn := sys.CustomSenderKeyARN
	if err := sys.Close(); err != nil {
		t.Fatal(err)
	}
	again, _ := start(t, Options{DataDir: dir})
	if again.CustomSenderKeyARN != arn {
		t.Fatalf("after a restart the key is %s, before %s", again.CustomSenderKeyARN, arn)
	}
	_, dec = kmsCrypters(t, again)
	if got, err := dec.Decrypt(ctx, code); err != nil || string(got) != "493817" {
		t.Errorf("after a restart Decrypt = %q, %v", got, err)
	}
}

// TestEncryptionSDKAcrossImplementations: the AWS Encryption SDK for
// JavaScript (@aws-crypto/client-node, as AWS's custom sender example uses
// it) and the Go decrypter and encryptor read each other's messages,
// through otp-local's KMS.
func TestEncryptionSDKAcrossImplementations(t *testing.T) {
	nodetest.Require(t)
	sys, _ := start(t, Options{})
	enc, dec := kmsCrypters(t, sys)
	goMessage, err := enc.Encrypt(t.Context(), []byte("731946"))
	if err != nil {
		t.Fatal(err)
	}
	out := nodetest.Run(t, "kms.test.mjs", map[string]string{
		"OTP_URL": sys.URL, "OTP_KMS_KEY_ARN": sys.CustomSenderKeyARN, "OTP_KMS_KEY_ALIAS": CustomSenderKeyAlias,
		"OTP_POOL_ID": PoolID, "GO_CIPHERTEXT": goMessage, "GO_PLAINTEXT": "731946",
	}, time.Minute)
	var js struct {
		Docs      string `json:"docs"`
		DocsSuite int    `json:"docsSuite"`
		Cognito   string `json:"cognito"`
	}
	if err := json.Unmarshal([]byte(strings.TrimSpace(out)), &js); err != nil {
		t.Fatalf("node printed %q: %v", out, err)
	}
	for name, tc := range map[string]struct{ message, want string }{
		"the example's keyring (committing suite, two data keys)": {js.Docs, "204518"},
		"made as Cognito makes them (0x0378, one data key)":       {js.Cognito, "Temp0rary!Passw0rd"},
	} {
		got, err := dec.Decrypt(t.Context(), tc.message)
		if err != nil || string(got) != tc.want {
			t.Errorf("%s: Decrypt = %q, %v; want %q", name, got, err, tc.want)
		}
	}
	if js.DocsSuite != 0x0578 {
		t.Errorf("the example's client encrypted with suite %#x, want the committing 0x0578", js.DocsSuite)
	}
}
