package ciphertext

import (
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"

	mpl "github.com/aws/aws-cryptographic-material-providers-library/releases/go/mpl/awscryptographymaterialproviderssmithygenerated"
	mpltypes "github.com/aws/aws-cryptographic-material-providers-library/releases/go/mpl/awscryptographymaterialproviderssmithygeneratedtypes"
	esdk "github.com/aws/aws-encryption-sdk/releases/go/encryption-sdk/awscryptographyencryptionsdksmithygenerated"
	esdktypes "github.com/aws/aws-encryption-sdk/releases/go/encryption-sdk/awscryptographyencryptionsdksmithygeneratedtypes"
	"github.com/aws/aws-sdk-go-v2/service/kms"
	"github.com/aws/smithy-go"
)

// DecrypterConfig configures a Decrypter.
type DecrypterConfig struct {
	// KeyARN is the user pool's custom sender key (the pool's KMSKeyID),
	// as a key ARN. Messages under any other key are refused.
	KeyARN string
	// UserPoolID, when set, must be the message's userpool-id: a key
	// shared by two pools then still cannot carry one pool's codes into the
	// other's trigger.
	UserPoolID string
}

// Decrypter decrypts Cognito's custom sender codes. It is safe for
// concurrent use.
type Decrypter struct {
	client  *esdk.Client
	keyring mpltypes.IKeyring
	cfg     DecrypterConfig
}

// NewDecrypter builds the Encryption SDK client and the AWS KMS keyring.
// The Material Providers Library takes the concrete *kms.Client (no
// interface), and calls it with context.Background(): the client's own
// HTTP timeouts and retry settings bound each KMS call, so give it
// deadlines shorter than the trigger's; Decrypt's ctx only stops the
// waiting.
func NewDecrypter(kmsClient *kms.Client, cfg DecrypterConfig) (*Decrypter, error) {
	if err := checkKeyARN(cfg.KeyARN); err != nil {
		return nil, err
	}
	if kmsClient == nil {
		return nil, errors.New("ciphertext: NewDecrypter needs a KMS client")
	}
	_ = takeTurn(context.Background())
	defer endTurn()
	keyring, err := kmsKeyring(kmsClient, cfg.KeyARN)
	if err != nil {
		return nil, err
	}
	// Cognito's suite is not key-committing (package comment), so the
	// stricter default would refuse every code; never encrypt with this
	// client.
	policy := mpltypes.ESDKCommitmentPolicyRequireEncryptAllowDecrypt
	maxKeys := int64(maxDataKeys)
	client, err := esdk.NewClient(esdktypes.AwsEncryptionSdkConfig{CommitmentPolicy: &policy, MaxEncryptedDataKeys: &maxKeys})
	if err != nil {
		return nil, fmt.Errorf("ciphertext: Encryption SDK client: %w", err)
	}
	return &Decrypter{client: client, keyring: keyring, cfg: cfg}, nil
}

func kmsKeyring(kmsClient *kms.Client, keyARN string) (mpltypes.IKeyring, error) {
	providers, err := mpl.NewClient(mpltypes.MaterialProvidersConfig{})
	if err != nil {
		return nil, fmt.Errorf("ciphertext: Material Providers Library: %w", err)
	}
	keyring, err := providers.CreateAwsKmsKeyring(context.Background(), mpltypes.CreateAwsKmsKeyringInput{KmsClient: kmsClient, KmsKeyId: keyARN})
	if err != nil {
		return nil, fmt.Errorf("ciphertext: AWS KMS keyring for %s: %w", keyARN, err)
	}
	return keyring, nil
}

// Decrypt returns the plaintext of a base64 Encryption SDK message, such as
// a custom sender event's request.code. Every failure is an *Error with a
// Reason; only ReasonKMSUnavailable is worth a retry. The caller owns the
// plaintext and should not keep it longer than it needs to.
func (d *Decrypter) Decrypt(ctx context.Context, ciphertextB64 string) ([]byte, error) {
	return d.DecryptFor(ctx, ciphertextB64, "")
}

// DecryptFor is Decrypt for a code that came in an event from pool: the
// message must name pool as well as the configured UserPoolID (each when
// not empty), so a code lifted from one pool's event cannot be replayed in
// another's.
func (d *Decrypter) DecryptFor(ctx context.Context, ciphertextB64, pool string) ([]byte, error) {
	message, err := base64.StdEncoding.DecodeString(strings.TrimSpace(ciphertextB64))
	if err != nil {
		return nil, &Error{Reason: ReasonMalformed, detail: "not standard base64", cause: err}
	}
	if len(message) == 0 {
		return nil, &Error{Reason: ReasonMalformed, detail: "empty"}
	}
	type result struct {
		out *esdktypes.DecryptOutput
		err error
	}
	seen := &observer{inner: d.keyring}
	if err := ctx.Err(); err != nil {
		return nil, &Error{Reason: ReasonKMSUnavailable, detail: "the caller gave up", cause: err}
	}
	if err := takeTurn(ctx); err != nil {
		return nil, &Error{Reason: ReasonKMSUnavailable, detail: "gave up waiting for the Encryption SDK", cause: err}
	}
	done := make(chan result, 1)
	// The SDK takes no deadline down to KMS (see NewDecrypter), so wait for
	// it here and let a late answer go.
	go func() {
		defer endTurn()
		out, err := d.client.Decrypt(context.Background(), esdktypes.DecryptInput{Ciphertext: message, Keyring: seen})
		done <- result{out, err}
	}()
	var r result
	select {
	case r = <-done:
	case <-ctx.Done():
		return nil, &Error{Reason: ReasonKMSUnavailable, detail: "gave up waiting for KMS", cause: ctx.Err()}
	}
	if r.err != nil {
		return nil, d.classify(seen, r.err)
	}
	for _, want := range []string{d.cfg.UserPoolID, pool} {
		if got := r.out.EncryptionContext[PoolContextKey]; want != "" && got != want {
			clear(r.out.Plaintext)
			return nil, &Error{Reason: ReasonWrongPool, detail: fmt.Sprintf("the message names user pool %q, not %q", brief([]byte(got)), brief([]byte(want)))}
		}
	}
	return r.out.Plaintext, nil
}

// observer is the KMS keyring with a window: it records the encrypted data
// keys the Encryption SDK parsed out of the message, and what the keyring
// made of them, so that a failure can be told apart without reading the
// message format ourselves. One per Decrypt call.
type observer struct {
	inner mpltypes.IKeyring

	mu      sync.Mutex
	called  bool
	keys    []mpltypes.EncryptedDataKey
	failure error // the keyring's own error, if it failed
}

func (o *observer) OnEncrypt(in mpltypes.OnEncryptInput) (*mpltypes.OnEncryptOutput, error) {
	return nil, errors.New("ciphertext: the decrypter does not encrypt")
}

func (o *observer) OnDecrypt(in mpltypes.OnDecryptInput) (*mpltypes.OnDecryptOutput, error) {
	out, err := o.inner.OnDecrypt(in)
	o.mu.Lock()
	defer o.mu.Unlock()
	o.called, o.keys, o.failure = true, slices.Clone(in.EncryptedDataKeys), err
	return out, err
}

// classify turns the Encryption SDK's error into a Reason, from what the
// keyring saw rather than from the SDK's message texts, which are not an
// API.
func (d *Decrypter) classify(seen *observer, err error) *Error {
	seen.mu.Lock()
	defer seen.mu.Unlock()
	if !seen.called {
		// The SDK stopped before asking for a data key: the header did not
		// parse, or broke a rule of the client (too many data keys).
		return &Error{Reason: ReasonMalformed, detail: "not an Encryption SDK message this client accepts", cause: err}
	}
	var providers, ours []string
	for _, k := range seen.keys {
		if k.KeyProviderId != kmsProviderID {
			providers = append(providers, brief([]byte(k.KeyProviderId)))
			continue
		}
		info := string(k.KeyProviderInfo)
		if info == d.cfg.KeyARN {
			ours = append(ours, info)
		} else {
			providers = append(providers, brief(k.KeyProviderInfo))
		}
	}
	switch {
	case len(ours) == 0 && !slices.ContainsFunc(seen.keys, func(k mpltypes.EncryptedDataKey) bool { return k.KeyProviderId == kmsProviderID }):
		return &Error{Reason: ReasonNotKMS, detail: fmt.Sprintf("its data keys are from %v, not aws-kms", providers), cause: err}
	case len(ours) == 0:
		return &Error{Reason: ReasonWrongKey, detail: fmt.Sprintf("encrypted under %v, not %s", providers, d.cfg.KeyARN), cause: err}
	case seen.failure == nil:
		// KMS gave the data key, and then the message's own authentication
		// (header, body frames, signature) failed.
		return &Error{Reason: ReasonTampered, detail: "the message fails its authentication", cause: err}
	}
	return kmsFailure(seen.failure)
}

// KMS error codes that a later call may not meet: the service's own
// faults and its throttling. The KMS model documents them so:
// KMSInternalException "The request can be retried", KeyUnavailableException
// and DependencyTimeoutException "You can retry the request".
var transientCodes = []string{"KMSInternalException", "DependencyTimeoutException", "KeyUnavailableException",
	"ThrottlingException", "ServiceUnavailableException", "InternalFailure", "RequestTimeout", "RequestTimeoutException"}

// kmsFailure reads the keyring's error: the KMS errors it collected, typed
// as aws-sdk-go-v2's service/kms/types or the SDK's operation errors.
func kmsFailure(err error) *Error {
	var apiErrs []smithy.APIError
	transport := false
	for _, e := range flatten(err) {
		var ae smithy.APIError
		if errors.As(e, &ae) {
			apiErrs = append(apiErrs, ae)
		} else if _, isOp := e.(*smithy.OperationError); isOp || errors.Is(e, context.DeadlineExceeded) {
			transport = true
		}
	}
	for _, ae := range apiErrs {
		switch code := ae.ErrorCode(); {
		case code == "InvalidCiphertextException" || code == "IncorrectKeyException":
			// The data key's blob, or the encryption context it is bound to,
			// is not what KMS made.
			return &Error{Reason: ReasonTampered, detail: "KMS refused the data key as altered (" + code + ")", cause: err}
		case slices.Contains(transientCodes, code) || ae.ErrorFault() == smithy.FaultServer:
			return &Error{Reason: ReasonKMSUnavailable, detail: "KMS failed (" + code + ")", cause: err}
		default:
			return &Error{Reason: ReasonKMSRefused, detail: "KMS refused the key (" + code + "): " + ae.ErrorMessage(), cause: err}
		}
	}
	if transport {
		return &Error{Reason: ReasonKMSUnavailable, detail: "KMS could not be reached", cause: err}
	}
	// The keyring failed without a KMS error: KMS answered with something
	// the keyring rejects (another key id, a data key of the wrong length).
	return &Error{Reason: ReasonKMSRefused, detail: "the KMS keyring refused KMS's answer", cause: err}
}

// flatten lists the errors inside the Material Providers Library's
// CollectionOfErrors (which has no Unwrap), depth first.
func flatten(err error) []error {
	var coe mpltypes.CollectionOfErrors
	if !errors.As(err, &coe) {
		return []error{err}
	}
	var out []error
	for _, e := range coe.ListOfErrors {
		out = append(out, flatten(e)...)
	}
	return out
}
