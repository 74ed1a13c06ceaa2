// Package kmslocal is otp-local's AWS Key Management Service: the subset
// the AWS Encryption SDK's KMS keyring calls (GenerateDataKey, Encrypt,
// Decrypt) and what it takes to make and inspect a key (CreateKey,
// DescribeKey, CreateAlias, EnableKey, DisableKey), spoken over
// the AWS JSON 1.1 protocol (X-Amz-Target: TrentService.<Operation>) as
// aws-sdk-go-v2 and the JS SDK v3 send it, so that unmodified SDK clients,
// and the Encryption SDKs on top of them, can point at it with an endpoint
// override.
//
// It exists because Cognito's custom sender triggers receive every code
// encrypted by the Encryption SDK under a customer managed key, and the
// product's decrypter must fail here wherever it would fail on AWS. So the
// ciphertext blobs are opaque and authenticated: AES-256-GCM under a secret
// of the key's own, with the key's id and the encryption context bound as
// additional authenticated data. A flipped bit, another key or another
// context is InvalidCiphertextException, as on AWS; a Decrypt whose KeyId
// names another key is IncorrectKeyException; a disabled key is
// DisabledException; an HMAC key used to encrypt is
// InvalidKeyUsageException; sizes and enums outside the model's
// constraints are ValidationException, worded as AWS words them where that
// is on record (docs/FIDELITY.md, "KMS").
//
// There are no key policies, grants (grant tokens are accepted and
// ignored), rotations, deletions, asymmetric keys or multi-Region keys, and
// no signature verification: only the SigV4 header's shape is checked, and
// a request from a browser page is refused, since this endpoint turns
// ciphertext into codes. Key material is never logged; with a DataDir it is
// written to one file readable by its owner only.
package kmslocal
