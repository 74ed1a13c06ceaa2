// Amplify JS v6 signs in against otp-local exactly as it would against
// Cognito: CUSTOM_WITH_SRP (its own SRP client), then the emailed code.
import assert from 'node:assert/strict';
import { Amplify } from 'aws-amplify';
import { confirmSignIn, fetchAuthSession, signIn, signOut } from 'aws-amplify/auth';
import { codeFor, env, otherCode } from './lib.mjs';

const url = env('OTP_URL');
const username = env('OTP_USER');
Amplify.configure({
  Auth: { Cognito: { userPoolId: env('OTP_POOL_ID'), userPoolClientId: env('OTP_CLIENT_ID'), userPoolEndpoint: url } },
});

// A wrong password is refused at the password step, by Amplify's SRP.
await assert.rejects(
  signIn({ username, password: 'not-the-password', options: { authFlowType: 'CUSTOM_WITH_SRP' } }),
  (err) => err.name === 'NotAuthorizedException',
);

const first = await signIn({ username, password: env('OTP_PASSWORD'), options: { authFlowType: 'CUSTOM_WITH_SRP' } });
assert.equal(first.isSignedIn, false);
assert.equal(first.nextStep.signInStep, 'CONFIRM_SIGN_IN_WITH_CUSTOM_CHALLENGE');
const info = first.nextStep.additionalInfo;
assert.match(info.email, /^.\*\*\*@example\.com$/);
assert.equal(info.codeLength, '6');
assert.equal(info.attemptsLeft, '3');

const code = await codeFor(url, username);
const wrong = await confirmSignIn({ challengeResponse: otherCode(code) });
assert.equal(wrong.isSignedIn, false);
assert.equal(wrong.nextStep.signInStep, 'CONFIRM_SIGN_IN_WITH_CUSTOM_CHALLENGE');
assert.equal(wrong.nextStep.additionalInfo.attemptsLeft, '2');

const done = await confirmSignIn({ challengeResponse: code });
assert.equal(done.isSignedIn, true);
const session = await fetchAuthSession();
assert.equal(session.tokens.idToken.payload.email, username);
assert.equal(session.tokens.idToken.payload.token_use, 'id');
await signOut();
console.log('amplify: signed in with SRP and the emailed code');
