// Package ciphertext turns the codes Cognito hands a custom sender trigger
// back into plaintext, and, for otp-local's Cognito, makes them the way
// Cognito does.
//
// Cognito encrypts each code and temporary password it gives a
// CustomEmailSender or CustomSMSSender trigger with the AWS Encryption SDK
// under the user pool's customer managed KMS key, and puts the message,
// base64-encoded, in event.request.code. A real one (from
// awslabs/aws-sdk-rust#1250) is a version 1 message of algorithm suite
// 0x0378, AES_256_GCM_IV12_TAG16_HKDF_SHA384_ECDSA_P384: signed, but not
// key-committing; its encryption context is the signing key
// (aws-crypto-public-key) and userpool-id; its one encrypted data key is
// from provider aws-kms, naming the key's ARN; frames of 4096 bytes. That
// suite is why AWS's examples build their client with
// REQUIRE_ENCRYPT_ALLOW_DECRYPT: the Encryption SDKs' default,
// REQUIRE_ENCRYPT_REQUIRE_DECRYPT, refuses every message Cognito sends
// ("Commitment policy requires only committing algorithm suites").
//
// Both directions use the official AWS Encryption SDK for Go and the
// Material Providers Library's AWS KMS keyring; nothing here reads the
// message format itself. The Decrypter's keyring is bound to the one key
// ARN it is configured with, so a message under any other key is refused
// without a KMS call, and every refusal carries a Reason a caller can
// branch on and an operator can alarm on. Neither type ever puts plaintext
// in an error or a log line.
package ciphertext

import (
	"context"
	"errors"
	"fmt"
	"regexp"
	"strings"

	mpltypes "github.com/aws/aws-cryptographic-material-providers-library/releases/go/mpl/awscryptographymaterialproviderssmithygeneratedtypes"
)

// What Cognito's messages are (see the package comment).
const (
	// Suite is the algorithm suite Cognito encrypts with.
	Suite = mpltypes.ESDKAlgorithmSuiteIdAlgAes256GcmIv12Tag16HkdfSha384EcdsaP384
	// PoolContextKey is the encryption context pair naming the user pool.
	PoolContextKey = "userpool-id"
	// kmsProviderID is the key provider id of AWS KMS encrypted data keys.
	kmsProviderID = "aws-kms"
	// maxDataKeys bounds the encrypted data keys a message may carry.
	// Cognito writes one; AWS's JS example keyring (a generator and a key)
	// two. Each one under our key is a KMS call, so a hostile message with
	// hundreds of them would be hundreds of calls.
	maxDataKeys = 2
)

// Reason says why a ciphertext was refused. The values are stable: logs,
// metrics and alarms use them.
type Reason string

const (
	// ReasonMalformed: not base64, or not an Encryption SDK message this
	// client accepts (a damaged header, too many data keys).
	ReasonMalformed Reason = "malformed"
	// ReasonNotKMS: a well-formed message whose data keys no AWS KMS key
	// protects (a raw AES or RSA keyring made it): not from Cognito.
	ReasonNotKMS Reason = "not_kms"
	// ReasonWrongKey: encrypted under a KMS key other than the configured
	// one. The refusal costs no KMS call.
	ReasonWrongKey Reason = "wrong_key"
	// ReasonTampered: under the configured key, but KMS or the message's
	// own authentication refused it: altered bytes, or an encryption
	// context other than the one it was made with.
	ReasonTampered Reason = "tampered"
	// ReasonWrongPool: decrypts, but names another user pool than the
	// configured one (Decrypter.UserPoolID).
	ReasonWrongPool Reason = "wrong_pool"
	// ReasonKMSUnavailable: KMS could not be reached or answered with a
	// server error or throttling. Transient: retry.
	ReasonKMSUnavailable Reason = "kms_unavailable"
	// ReasonKMSRefused: KMS refused the configured key: disabled, pending
	// deletion, not found, not for encryption, or access denied. Permanent
	// until an operator fixes the key or its policy.
	ReasonKMSRefused Reason = "kms_refused"
)

// Error is a refused ciphertext or a failed encryption. Its text never
// contains plaintext.
type Error struct {
	Reason Reason
	detail string
	cause  error
}

func (e *Error) Error() string {
	if e.detail == "" {
		return "ciphertext: " + string(e.Reason)
	}
	return "ciphertext: " + string(e.Reason) + ": " + e.detail
}

// Unwrap returns the Encryption SDK's or KMS's error, which names keys and
// providers but, like every error here, no plaintext.
func (e *Error) Unwrap() error { return e.cause }

// Transient reports whether trying again later may succeed.
func (e *Error) Transient() bool { return e.Reason == ReasonKMSUnavailable }

// ReasonOf returns the Reason of an error from this package, or "".
func ReasonOf(err error) Reason {
	var e *Error
	if errors.As(err, &e) {
		return e.Reason
	}
	return ""
}

// IsTransient reports whether err is a failure worth retrying.
func IsTransient(err error) bool {
	var e *Error
	return errors.As(err, &e) && e.Transient()
}

// sdkTurn lets one goroutine at a time into the Encryption SDK. Its Dafny
// runtime marks shared string constants as it reads them, unsynchronised,
// so concurrent calls race (aws/aws-encryption-sdk#902, open for v0.3.0 and
// seen here in v0.4.0 under go test -race). A custom sender Lambda
// decrypts one code per invocation, and otp-local's KMS answers in
// microseconds, so waiting costs nothing that matters.
var sdkTurn = make(chan struct{}, 1)

// takeTurn waits for the SDK, or for ctx.
func takeTurn(ctx context.Context) error {
	select {
	case sdkTurn <- struct{}{}:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

func endTurn() { <-sdkTurn }

var keyARNRE = regexp.MustCompile(`^arn:aws[a-z-]*:kms:[a-z0-9-]+:\d{12}:key/[a-zA-Z0-9-]+$`)

// checkKeyARN insists on a key ARN. The keyring matches a message's data
// keys by the exact identifier it was given, and Cognito's name the key by
// its ARN, so a key id or an alias would refuse every code as wrong_key.
func checkKeyARN(arn string) error {
	if !keyARNRE.MatchString(arn) {
		return fmt.Errorf("ciphertext: %q is not a KMS key ARN (arn:aws:kms:<region>:<account>:key/<id>); an alias or key id cannot match the key ARN Cognito's messages name", arn)
	}
	return nil
}

// brief keeps a value from hostile input printable and short enough for a
// log line.
func brief(b []byte) string {
	s := fmt.Sprintf("%q", b)
	if len(s) > 100 {
		s = s[:97] + "..."
	}
	return strings.Trim(s, `"`)
}
