// Proves the Encryption SDK for JavaScript and the Go decrypter agree on
// messages made against otp-local's KMS. Run by deploy/local/otplocal's
// TestEncryptionSDKAcrossImplementations, which passes otp-local's URL, the
// custom sender key (ARN and alias), the pool id, GO_CIPHERTEXT (a code the
// Go Encryptor made, the way Cognito does) and GO_PLAINTEXT. It decrypts the
// Go message as AWS's custom sender example does, encrypts two codes of its
// own (with the example's keyring, and the way Cognito does) and prints
// them as one JSON line for the Go test to decrypt.
import assert from 'node:assert/strict';
import {
  buildClient, CommitmentPolicy, KmsKeyringNode, getClient, KMS, AlgorithmSuiteIdentifier,
} from '@aws-crypto/client-node';
import { env } from './lib.mjs';

const url = env('OTP_URL');
const keyARN = env('OTP_KMS_KEY_ARN');
const keyAlias = env('OTP_KMS_KEY_ALIAS');
const poolID = env('OTP_POOL_ID');

// The keyring's KMS client, pointed at otp-local. An alias names no
// Region, so the client needs a default one, as in a Lambda (AWS_REGION).
const clientProvider = getClient(KMS, {
  region: 'us-east-1',
  endpoint: url,
  credentials: { accessKeyId: 'otp-local', secretAccessKey: 'otp-local' },
  maxAttempts: 1,
});

// As in AWS's custom email sender example (Cognito developer guide): a
// REQUIRE_ENCRYPT_ALLOW_DECRYPT client, a keyring of the alias as generator
// and the key's ARN, and decrypt(keyring, bytes of event.request.code).
const { encrypt, decrypt } = buildClient(CommitmentPolicy.REQUIRE_ENCRYPT_ALLOW_DECRYPT);
const keyring = new KmsKeyringNode({ clientProvider, generatorKeyId: keyAlias, keyIds: [keyARN] });

// (b) the Go Encryptor's message, read by JavaScript.
const goMessage = Buffer.from(env('GO_CIPHERTEXT'), 'base64');
const { plaintext, messageHeader } = await decrypt(keyring, goMessage);
assert.equal(plaintext.toString('utf8'), env('GO_PLAINTEXT'));
assert.equal(messageHeader.suiteId, AlgorithmSuiteIdentifier.ALG_AES256_GCM_IV12_TAG16_HKDF_SHA384_ECDSA_P384,
  'the Go Encryptor does not use the suite Cognito uses');
assert.equal(messageHeader.encryptionContext['userpool-id'], poolID);
assert.deepEqual(messageHeader.encryptedDataKeys.map((k) => [k.providerId, k.providerInfo]), [['aws-kms', keyARN]]);

// A flipped byte near the end (the body or the signature) is refused here
// too.
const tampered = Buffer.from(goMessage);
tampered[tampered.length - 1] ^= 1;
await assert.rejects(decrypt(keyring, tampered));

// The default policy refuses Cognito's suite: why the example sets another.
const strict = buildClient(CommitmentPolicy.REQUIRE_ENCRYPT_REQUIRE_DECRYPT);
await assert.rejects(strict.decrypt(keyring, goMessage), /committ/i);

// (a) two messages for the Go decrypter: one from the example's keyring
// (this client encrypts with a committing suite, two data keys: the
// alias's and the ARN's), one made as Cognito makes them (suite 0x0378,
// FORBID_ENCRYPT_ALLOW_DECRYPT, one data key, userpool-id).
const context = { 'userpool-id': poolID };
const docs = await encrypt(keyring, '204518', { encryptionContext: context });
const cognito = buildClient(CommitmentPolicy.FORBID_ENCRYPT_ALLOW_DECRYPT);
const cognitoShaped = await cognito.encrypt(new KmsKeyringNode({ clientProvider, generatorKeyId: keyARN }), 'Temp0rary!Passw0rd', {
  encryptionContext: context,
  suiteId: AlgorithmSuiteIdentifier.ALG_AES256_GCM_IV12_TAG16_HKDF_SHA384_ECDSA_P384,
});
assert.equal(cognitoShaped.messageHeader.encryptedDataKeys.length, 1);

console.log(JSON.stringify({
  docs: Buffer.from(docs.result).toString('base64'),
  docsSuite: docs.messageHeader.suiteId,
  cognito: Buffer.from(cognitoShaped.result).toString('base64'),
}));
