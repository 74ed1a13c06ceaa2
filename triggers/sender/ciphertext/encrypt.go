package ciphertext

import (
	"context"
	"encoding/base64"
	"errors"
	"fmt"

	mpltypes "github.com/aws/aws-cryptographic-material-providers-library/releases/go/mpl/awscryptographymaterialproviderssmithygeneratedtypes"
	esdk "github.com/aws/aws-encryption-sdk/releases/go/encryption-sdk/awscryptographyencryptionsdksmithygenerated"
	esdktypes "github.com/aws/aws-encryption-sdk/releases/go/encryption-sdk/awscryptographyencryptionsdksmithygeneratedtypes"
	"github.com/aws/aws-sdk-go-v2/service/kms"
)

// EncryptorConfig configures an Encryptor.
type EncryptorConfig struct {
	// KeyARN is the user pool's custom sender key, as a key ARN: the
	// message then names it as Cognito's do.
	KeyARN string
	// UserPoolID goes into the encryption context as userpool-id.
	UserPoolID string
}

// Encryptor makes custom sender codes as Cognito does, for otp-local's
// Cognito: algorithm suite 0x0378 (signed, not committing), the encryption
// context {userpool-id: pool}, one data key from the AWS KMS keyring. It
// is safe for concurrent use.
type Encryptor struct {
	client  *esdk.Client
	keyring mpltypes.IKeyring
	context map[string]string
}

// NewEncryptor builds the Encryption SDK client and the keyring; see
// NewDecrypter for what bounds the KMS calls.
func NewEncryptor(kmsClient *kms.Client, cfg EncryptorConfig) (*Encryptor, error) {
	if err := checkKeyARN(cfg.KeyARN); err != nil {
		return nil, err
	}
	if kmsClient == nil {
		return nil, errors.New("ciphertext: NewEncryptor needs a KMS client")
	}
	if cfg.UserPoolID == "" {
		return nil, errors.New("ciphertext: NewEncryptor needs the user pool id Cognito puts in the encryption context")
	}
	_ = takeTurn(context.Background())
	defer endTurn()
	keyring, err := kmsKeyring(kmsClient, cfg.KeyARN)
	if err != nil {
		return nil, err
	}
	// A non-committing suite can only be written under
	// FORBID_ENCRYPT_ALLOW_DECRYPT; that is what Cognito's messages are.
	policy := mpltypes.ESDKCommitmentPolicyForbidEncryptAllowDecrypt
	client, err := esdk.NewClient(esdktypes.AwsEncryptionSdkConfig{CommitmentPolicy: &policy})
	if err != nil {
		return nil, fmt.Errorf("ciphertext: Encryption SDK client: %w", err)
	}
	return &Encryptor{client: client, keyring: keyring, context: map[string]string{PoolContextKey: cfg.UserPoolID}}, nil
}

// Encrypt returns plaintext as a base64 Encryption SDK message, the form of
// a custom sender event's request.code.
func (e *Encryptor) Encrypt(ctx context.Context, plaintext []byte) (string, error) {
	if len(plaintext) == 0 {
		return "", errors.New("ciphertext: nothing to encrypt")
	}
	suite := Suite
	type result struct {
		out *esdktypes.EncryptOutput
		err error
	}
	if err := ctx.Err(); err != nil {
		return "", &Error{Reason: ReasonKMSUnavailable, detail: "encrypt: the caller gave up", cause: err}
	}
	if err := takeTurn(ctx); err != nil {
		return "", &Error{Reason: ReasonKMSUnavailable, detail: "encrypt: gave up waiting for the Encryption SDK", cause: err}
	}
	done := make(chan result, 1)
	go func() {
		defer endTurn()
		out, err := e.client.Encrypt(context.Background(), esdktypes.EncryptInput{Plaintext: plaintext, Keyring: e.keyring,
			AlgorithmSuiteId: &suite, EncryptionContext: e.context})
		done <- result{out, err}
	}()
	select {
	case r := <-done:
		if r.err != nil {
			f := kmsFailure(r.err)
			f.detail = "encrypt: " + f.detail
			return "", f
		}
		return base64.StdEncoding.EncodeToString(r.out.Ciphertext), nil
	case <-ctx.Done():
		return "", &Error{Reason: ReasonKMSUnavailable, detail: "encrypt: gave up waiting for KMS", cause: ctx.Err()}
	}
}
