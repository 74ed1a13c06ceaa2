package kmslocal

import (
	"crypto/rand"
	"fmt"
	"slices"
	"strings"
)

// Limits from the KMS API reference's request syntax.
const (
	maxKeyIDLen       = 2048
	maxPlaintext      = 4096 // Encrypt's Plaintext
	maxCiphertextBlob = 6144 // Decrypt's CiphertextBlob
	minDataKeyBytes   = 1    // GenerateDataKey's NumberOfBytes
	maxDataKeyBytes   = 1024
	maxGrantTokens    = 10
	maxDescription    = 8192
	maxAliasName      = 256
	algSymmetric      = "SYMMETRIC_DEFAULT"
)

var encryptionAlgorithms = []string{"SYMMETRIC_DEFAULT", "RSAES_OAEP_SHA_1", "RSAES_OAEP_SHA_256", "SM2PKE"}

// keyMetadata is KeyMetadata as DescribeKey and CreateKey return it.
type keyMetadata struct {
	AWSAccountID          string   `json:"AWSAccountId"`
	KeyID                 string   `json:"KeyId"`
	Arn                   string   `json:"Arn"`
	CreationDate          epoch    `json:"CreationDate"`
	Enabled               bool     `json:"Enabled"`
	Description           string   `json:"Description"`
	KeyUsage              string   `json:"KeyUsage"`
	KeyState              string   `json:"KeyState"`
	Origin                string   `json:"Origin"`
	KeyManager            string   `json:"KeyManager"`
	CustomerMasterKeySpec string   `json:"CustomerMasterKeySpec"`
	KeySpec               string   `json:"KeySpec"`
	EncryptionAlgorithms  []string `json:"EncryptionAlgorithms,omitempty"`
	MacAlgorithms         []string `json:"MacAlgorithms,omitempty"`
	MultiRegion           bool     `json:"MultiRegion"`
}

func (s *Server) metadata(k *key) keyMetadata {
	m := keyMetadata{AWSAccountID: s.accountID, KeyID: k.ID, Arn: s.keyARN(k.ID), CreationDate: epoch(k.Created),
		Enabled: k.Enabled, Description: k.Description, KeyUsage: k.Usage, KeyState: "Enabled", Origin: "AWS_KMS",
		KeyManager: "CUSTOMER", CustomerMasterKeySpec: k.Spec, KeySpec: k.Spec}
	if !k.Enabled {
		m.KeyState = "Disabled"
	}
	if k.Usage == UsageEncrypt {
		m.EncryptionAlgorithms = []string{algSymmetric}
	} else {
		m.MacAlgorithms = []string{hmacSpecs[k.Spec]}
	}
	return m
}

// checkKeyID applies the model's constraints on a KeyId member.
func checkKeyID(id *string, member string, required bool) *apiError {
	switch {
	case id == nil && required:
		return errMissing(member)
	case id == nil:
		return nil
	case len(*id) < 1:
		return errValidation(id, member, "Member must have length greater than or equal to 1")
	case len(*id) > maxKeyIDLen:
		return errValidation(id, member, fmt.Sprintf("Member must have length less than or equal to %d", maxKeyIDLen))
	}
	return nil
}

func checkGrantTokens(tokens []string) *apiError {
	if len(tokens) > maxGrantTokens {
		return errValidation(nil, "grantTokens", fmt.Sprintf("Member must have length less than or equal to %d", maxGrantTokens))
	}
	return nil
}

func checkAlgorithm(alg *string) *apiError {
	if alg != nil && !slices.Contains(encryptionAlgorithms, *alg) {
		return errValidation(alg, "encryptionAlgorithm", "Member must satisfy enum value set: ["+strings.Join(encryptionAlgorithms, ", ")+"]")
	}
	return nil
}

// symmetricOnly refuses an asymmetric algorithm with a symmetric key; the
// text follows the recorded "Algorithm HMAC_SHA_256 is incompatible with key
// spec HMAC_224."
func symmetricOnly(alg *string, k *key) *apiError {
	if alg != nil && *alg != algSymmetric {
		return newError("InvalidKeyUsageException", "Algorithm %s is incompatible with key spec %s.", *alg, k.Spec)
	}
	return nil
}

type createKeyInput struct {
	Description           *string
	KeyUsage              *string
	KeySpec               *string
	CustomerMasterKeySpec *string
	Origin                *string
	MultiRegion           *bool
	CustomKeyStoreID      *string `json:"CustomKeyStoreId"`
}

var keySpecs = []string{"RSA_2048", "RSA_3072", "RSA_4096", "ECC_NIST_P256", "ECC_NIST_P384", "ECC_NIST_P521", "ECC_SECG_P256K1",
	"SYMMETRIC_DEFAULT", "HMAC_224", "HMAC_256", "HMAC_384", "HMAC_512", "SM2", "ML_DSA_44", "ML_DSA_65", "ML_DSA_87", "ECC_NIST_EDWARDS25519"}

var keyUsages = []string{"SIGN_VERIFY", "ENCRYPT_DECRYPT", "GENERATE_VERIFY_MAC", "KEY_AGREEMENT"}

func (s *Server) opCreateKey(body []byte) (any, error) {
	var in createKeyInput
	if err := decode(body, &in); err != nil {
		return nil, err
	}
	spec := SpecSymmetric
	switch {
	case in.KeySpec != nil:
		spec = *in.KeySpec
	case in.CustomerMasterKeySpec != nil:
		spec = *in.CustomerMasterKeySpec
	}
	if !slices.Contains(keySpecs, spec) {
		return nil, errValidation(&spec, "keySpec", "Member must satisfy enum value set: ["+strings.Join(keySpecs, ", ")+"]")
	}
	if in.KeyUsage != nil && !slices.Contains(keyUsages, *in.KeyUsage) {
		return nil, errValidation(in.KeyUsage, "keyUsage", "Member must satisfy enum value set: ["+strings.Join(keyUsages, ", ")+"]")
	}
	if in.Description != nil && len(*in.Description) > maxDescription {
		return nil, errValidation(nil, "description", fmt.Sprintf("Member must have length less than or equal to %d", maxDescription))
	}
	usage := UsageEncrypt
	switch _, isHMAC := hmacSpecs[spec]; {
	case spec == SpecSymmetric:
		if in.KeyUsage != nil && *in.KeyUsage != UsageEncrypt {
			return nil, newError("ValidationException", "KeyUsage %s is not compatible with KeySpec %s", *in.KeyUsage, spec)
		}
	case isHMAC:
		if in.KeyUsage == nil {
			return nil, errKeyUsageRequired()
		}
		if *in.KeyUsage != UsageMAC {
			return nil, newError("ValidationException", "KeyUsage %s is not compatible with KeySpec %s", *in.KeyUsage, spec)
		}
		usage = UsageMAC
	default:
		return nil, errUnsupported("otp-local's KMS creates only SYMMETRIC_DEFAULT and HMAC keys, not %s", spec)
	}
	if in.Origin != nil && *in.Origin != "AWS_KMS" {
		return nil, errUnsupported("otp-local's KMS creates only keys of origin AWS_KMS, not %s", *in.Origin)
	}
	if in.MultiRegion != nil && *in.MultiRegion {
		return nil, errUnsupported("otp-local's KMS has one Region; it creates no multi-Region keys")
	}
	if in.CustomKeyStoreID != nil {
		return nil, errUnsupported("otp-local's KMS has no custom key stores")
	}
	description := ""
	if in.Description != nil {
		description = *in.Description
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	k, err := s.newKeyLocked(description, spec, usage)
	if err != nil {
		return nil, err
	}
	if err := s.saveLocked(); err != nil {
		return nil, err
	}
	return struct{ KeyMetadata keyMetadata }{s.metadata(k)}, nil
}

type keyIDInput struct {
	KeyID       *string  `json:"KeyId"`
	GrantTokens []string `json:"GrantTokens"`
}

func (s *Server) opDescribeKey(body []byte) (any, error) {
	var in keyIDInput
	if err := decode(body, &in); err != nil {
		return nil, err
	}
	if aerr := checkKeyID(in.KeyID, "keyId", true); aerr != nil {
		return nil, aerr
	}
	if aerr := checkGrantTokens(in.GrantTokens); aerr != nil {
		return nil, aerr
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	k, aerr := s.resolveLocked(*in.KeyID, true)
	if aerr != nil {
		return nil, aerr
	}
	return struct{ KeyMetadata keyMetadata }{s.metadata(k)}, nil
}

func (s *Server) opEnableKey(body []byte) (any, error)  { return s.setEnabled(body, true) }
func (s *Server) opDisableKey(body []byte) (any, error) { return s.setEnabled(body, false) }

// setEnabled is EnableKey and DisableKey, which take a key id or key ARN,
// never an alias.
func (s *Server) setEnabled(body []byte, enabled bool) (any, error) {
	var in keyIDInput
	if err := decode(body, &in); err != nil {
		return nil, err
	}
	if aerr := checkKeyID(in.KeyID, "keyId", true); aerr != nil {
		return nil, aerr
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	k, aerr := s.resolveLocked(*in.KeyID, false)
	if aerr != nil {
		return nil, aerr
	}
	k.Enabled = enabled
	if err := s.saveLocked(); err != nil {
		return nil, err
	}
	return struct{}{}, nil
}

type createAliasInput struct {
	AliasName   *string
	TargetKeyID *string `json:"TargetKeyId"`
}

func (s *Server) opCreateAlias(body []byte) (any, error) {
	var in createAliasInput
	if err := decode(body, &in); err != nil {
		return nil, err
	}
	if in.AliasName == nil {
		return nil, errMissing("aliasName")
	}
	if aerr := checkKeyID(in.TargetKeyID, "targetKeyId", true); aerr != nil {
		return nil, aerr
	}
	name := *in.AliasName
	switch {
	case len(name) < 1 || len(name) > maxAliasName:
		return nil, errValidation(&name, "aliasName", fmt.Sprintf("Member must have length between 1 and %d", maxAliasName))
	case !aliasPart.MatchString(name):
		return nil, errValidation(&name, "aliasName", "Member must satisfy regular expression pattern: ^[a-zA-Z0-9:/_-]+$")
	case !strings.HasPrefix(name, "alias/"):
		return nil, errAliasPrefix()
	case strings.HasPrefix(name, "alias/aws/"):
		return nil, errReservedAlias(name)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	k, aerr := s.resolveLocked(*in.TargetKeyID, false)
	if aerr != nil {
		return nil, aerr
	}
	if s.aliases[name] != nil {
		return nil, errAliasExists(s.aliasARN(name))
	}
	s.aliases[name] = &alias{Name: name, KeyID: k.ID, Created: s.now()}
	if err := s.saveLocked(); err != nil {
		return nil, err
	}
	return struct{}{}, nil
}

type generateDataKeyInput struct {
	KeyID             *string `json:"KeyId"`
	NumberOfBytes     *int
	KeySpec           *string
	EncryptionContext map[string]string
	GrantTokens       []string
	DryRun            *bool
	Recipient         any
}

func (s *Server) opGenerateDataKey(body []byte) (any, error) {
	var in generateDataKeyInput
	if err := decode(body, &in); err != nil {
		return nil, err
	}
	// The model's constraints first, then the either-or rule, then the key:
	// a ValidationException comes back even for a disabled key.
	if aerr := checkKeyID(in.KeyID, "keyId", true); aerr != nil {
		return nil, aerr
	}
	if n := in.NumberOfBytes; n != nil && (*n < minDataKeyBytes || *n > maxDataKeyBytes) {
		v := fmt.Sprint(*n)
		if *n < minDataKeyBytes {
			return nil, errValidation(&v, "numberOfBytes", fmt.Sprintf("Member must have value greater than or equal to %d", minDataKeyBytes))
		}
		return nil, errValidation(&v, "numberOfBytes", fmt.Sprintf("Member must have value less than or equal to %d", maxDataKeyBytes))
	}
	if in.KeySpec != nil && *in.KeySpec != "AES_256" && *in.KeySpec != "AES_128" {
		return nil, errValidation(in.KeySpec, "keySpec", "Member must satisfy enum value set: [AES_256, AES_128]")
	}
	if aerr := checkGrantTokens(in.GrantTokens); aerr != nil {
		return nil, aerr
	}
	if (in.KeySpec == nil) == (in.NumberOfBytes == nil) {
		return nil, errEitherBytesOrSpec()
	}
	if in.Recipient != nil {
		return nil, errUnsupported("otp-local's KMS has no Nitro Enclaves attestation (Recipient)")
	}
	n := 32
	switch {
	case in.NumberOfBytes != nil:
		n = *in.NumberOfBytes
	case *in.KeySpec == "AES_128":
		n = 16
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	k, aerr := s.usableLocked(*in.KeyID, "GenerateDataKey")
	if aerr != nil {
		return nil, aerr
	}
	if in.DryRun != nil && *in.DryRun {
		return nil, errDryRun()
	}
	plaintext := make([]byte, n)
	if _, err := rand.Read(plaintext); err != nil {
		return nil, fmt.Errorf("kmslocal: data key: %w", err)
	}
	blob, err := seal(k, plaintext, in.EncryptionContext)
	if err != nil {
		return nil, err
	}
	return struct {
		CiphertextBlob []byte
		Plaintext      []byte
		KeyID          string `json:"KeyId"`
	}{blob, plaintext, s.keyARN(k.ID)}, nil
}

type encryptInput struct {
	KeyID               *string `json:"KeyId"`
	Plaintext           []byte
	EncryptionContext   map[string]string
	GrantTokens         []string
	EncryptionAlgorithm *string
	DryRun              *bool
}

func (s *Server) opEncrypt(body []byte) (any, error) {
	var in encryptInput
	if err := decode(body, &in); err != nil {
		return nil, err
	}
	if aerr := checkKeyID(in.KeyID, "keyId", true); aerr != nil {
		return nil, aerr
	}
	switch {
	case in.Plaintext == nil:
		return nil, errMissing("plaintext")
	// The plaintext's value is sensitive, so AWS leaves it out of the text.
	case len(in.Plaintext) < 1:
		return nil, errValidation(nil, "plaintext", "Member must have length greater than or equal to 1")
	case len(in.Plaintext) > maxPlaintext:
		return nil, errValidation(nil, "plaintext", fmt.Sprintf("Member must have length less than or equal to %d", maxPlaintext))
	}
	if aerr := checkGrantTokens(in.GrantTokens); aerr != nil {
		return nil, aerr
	}
	if aerr := checkAlgorithm(in.EncryptionAlgorithm); aerr != nil {
		return nil, aerr
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	k, aerr := s.usableLocked(*in.KeyID, "Encrypt")
	if aerr != nil {
		return nil, aerr
	}
	if aerr := symmetricOnly(in.EncryptionAlgorithm, k); aerr != nil {
		return nil, aerr
	}
	if in.DryRun != nil && *in.DryRun {
		return nil, errDryRun()
	}
	blob, err := seal(k, in.Plaintext, in.EncryptionContext)
	if err != nil {
		return nil, err
	}
	return struct {
		CiphertextBlob      []byte
		KeyID               string `json:"KeyId"`
		EncryptionAlgorithm string
	}{blob, s.keyARN(k.ID), algSymmetric}, nil
}

type decryptInput struct {
	CiphertextBlob      []byte
	EncryptionContext   map[string]string
	GrantTokens         []string
	KeyID               *string `json:"KeyId"`
	EncryptionAlgorithm *string
	DryRun              *bool
	Recipient           any
}

func (s *Server) opDecrypt(body []byte) (any, error) {
	var in decryptInput
	if err := decode(body, &in); err != nil {
		return nil, err
	}
	switch {
	case in.CiphertextBlob == nil:
		return nil, errMissing("ciphertextBlob")
	case len(in.CiphertextBlob) < 1:
		return nil, errValidation(nil, "ciphertextBlob", "Member must have length greater than or equal to 1")
	case len(in.CiphertextBlob) > maxCiphertextBlob:
		return nil, errValidation(nil, "ciphertextBlob", fmt.Sprintf("Member must have length less than or equal to %d", maxCiphertextBlob))
	}
	if aerr := checkKeyID(in.KeyID, "keyId", false); aerr != nil {
		return nil, aerr
	}
	if aerr := checkGrantTokens(in.GrantTokens); aerr != nil {
		return nil, aerr
	}
	if aerr := checkAlgorithm(in.EncryptionAlgorithm); aerr != nil {
		return nil, aerr
	}
	if in.Recipient != nil {
		return nil, errUnsupported("otp-local's KMS has no Nitro Enclaves attestation (Recipient)")
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	var named *key
	if in.KeyID != nil {
		k, aerr := s.resolveLocked(*in.KeyID, true)
		if aerr != nil {
			return nil, aerr
		}
		named = k
	}
	id, ok := blobKeyID(in.CiphertextBlob)
	if !ok {
		return nil, errInvalidCiphertext()
	}
	// "If you identify a different KMS key, the Decrypt operation throws an
	// IncorrectKeyException" (API reference), before anything else is known
	// about the blob.
	if named != nil && named.ID != id {
		return nil, errIncorrectKey()
	}
	k := s.keys[id]
	if k == nil {
		// A blob naming a key this account does not have (another account's,
		// or bytes altered in the key id): undocumented; refused as the
		// ciphertext it is not.
		return nil, errInvalidCiphertext()
	}
	if k.Usage != UsageEncrypt {
		return nil, errKeyUsage(s.keyARN(k.ID), k.Usage, "Decrypt")
	}
	if !k.Enabled {
		return nil, errDisabled(s.keyARN(k.ID))
	}
	if aerr := symmetricOnly(in.EncryptionAlgorithm, k); aerr != nil {
		return nil, aerr
	}
	plaintext, ok := open(k, in.CiphertextBlob, in.EncryptionContext)
	if !ok {
		return nil, errInvalidCiphertext()
	}
	if in.DryRun != nil && *in.DryRun {
		return nil, errDryRun()
	}
	return struct {
		KeyID               string `json:"KeyId"`
		Plaintext           []byte
		EncryptionAlgorithm string
	}{s.keyARN(k.ID), plaintext, algSymmetric}, nil
}
