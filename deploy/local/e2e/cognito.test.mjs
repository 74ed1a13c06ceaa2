// The AWS JS SDK v3's Cognito client against otp-local: the flows a client
// app must not be able to use, and the errors it must see.
import assert from 'node:assert/strict';
import { CognitoIdentityProviderClient, InitiateAuthCommand, SignUpCommand } from '@aws-sdk/client-cognito-identity-provider';
import { env } from './lib.mjs';

const client = new CognitoIdentityProviderClient({
  endpoint: env('OTP_URL'), region: 'us-east-1', credentials: { accessKeyId: 'x', secretAccessKey: 'x' },
});
const ClientId = env('OTP_CLIENT_ID');
const expectError = async (cmd, name, message) => {
  await assert.rejects(client.send(cmd), (err) => {
    assert.equal(err.name, name);
    if (message) assert.match(err.message, message);
    assert.equal(err.$metadata.httpStatusCode, 400);
    return true;
  });
};

// Custom auth without the password step: a code alone must never sign in.
await expectError(new InitiateAuthCommand({ AuthFlow: 'CUSTOM_AUTH', ClientId, AuthParameters: { USERNAME: env('OTP_USER') } }),
  'NotAuthorizedException', /Incorrect username or password/);
// Password-only sign-in is not enabled for the client.
await expectError(new InitiateAuthCommand({ AuthFlow: 'USER_SRP_AUTH', ClientId, AuthParameters: { USERNAME: env('OTP_USER'), SRP_A: 'abc' } }),
  'InvalidParameterException', /USER_SRP_AUTH is not enabled/);
await expectError(new InitiateAuthCommand({ AuthFlow: 'CUSTOM_AUTH', ClientId: 'no-such-client', AuthParameters: { USERNAME: 'x' } }),
  'ResourceNotFoundException');
await expectError(new SignUpCommand({ ClientId, Username: 'short@example.com', Password: 'short' }), 'InvalidPasswordException');
const ok = await client.send(new SignUpCommand({ ClientId, Username: `new-${Date.now()}@example.com`, Password: 'long enough password' }));
assert.equal(ok.UserConfirmed, false);
assert.match(ok.UserSub, /^[0-9a-f-]{36}$/);
console.log('cognito js sdk: errors and flows as expected');
