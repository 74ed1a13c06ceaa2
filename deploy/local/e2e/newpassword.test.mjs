// An administrator creates a user with a temporary password (AdminCreateUser,
// as an operator's SDK would); the user signs in on the page, is asked for a
// new password, sets it, and goes on to the emailed code and into the app.
import assert from 'node:assert/strict';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { AdminCreateUserCommand, AdminGetUserCommand, CognitoIdentityProviderClient } from '@aws-sdk/client-cognito-identity-provider';
import { chromium } from 'playwright-core';
import { codeFor, env } from './lib.mjs';

const url = env('OTP_URL');
const artifacts = process.env.OTP_ARTIFACTS || 'artifacts';
mkdirSync(artifacts, { recursive: true });
const user = 'invited@example.com';
const temporary = 'Temporary-pass-42';
const chosen = 'my own password 7';

const cognito = new CognitoIdentityProviderClient({
  region: 'us-east-1', endpoint: url, credentials: { accessKeyId: 'otp-local', secretAccessKey: 'otp-local' },
});
await cognito.send(new AdminCreateUserCommand({
  UserPoolId: env('OTP_POOL_ID'), Username: user, TemporaryPassword: temporary, MessageAction: 'SUPPRESS',
  UserAttributes: [{ Name: 'email_verified', Value: 'true' }, { Name: 'name', Value: 'Ivy Invited' }],
}));

const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
  args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking',
    '--disable-component-update', '--disable-sync'],
});
const errors = [];
try {
  const page = await browser.newPage({ viewport: { width: 520, height: 720 }, deviceScaleFactor: 2, locale: 'en-US' });
  page.on('pageerror', (e) => errors.push(String(e)));
  await page.goto(url);
  await page.locator('#view-signin').getByLabel('Email').fill(user);
  await page.locator('#view-signin').getByLabel('Password', { exact: true }).fill(temporary);
  await page.getByRole('button', { name: 'Sign in' }).click();

  await page.getByRole('heading', { name: 'Choose a new password' }).waitFor({ timeout: 15_000 });
  await page.screenshot({ path: join(artifacts, 'newpassword-1-asked.png') });
  await page.getByLabel('New password').fill('short');
  await page.getByRole('button', { name: 'Set password and continue' }).click();
  // The browser's own minlength check keeps a short password from leaving the page.
  assert.equal(await page.getByRole('heading', { name: 'Choose a new password' }).isVisible(), true);
  await page.getByLabel('New password').fill(chosen);
  await page.getByRole('button', { name: 'Set password and continue' }).click();

  await page.getByRole('heading', { name: 'Check your email' }).waitFor({ timeout: 15_000 });
  assert.match(await page.locator('#code-notice').textContent(), /Your new password is set/);
  await page.screenshot({ path: join(artifacts, 'newpassword-2-code.png') });
  await page.locator('#view-code').getByLabel('Code').fill(await codeFor(url, user));
  await page.getByRole('heading', { name: /Welcome, Ivy Invited!/ }).waitFor({ timeout: 10_000 });

  const got = await cognito.send(new AdminGetUserCommand({ UserPoolId: env('OTP_POOL_ID'), Username: user }));
  assert.equal(got.UserStatus, 'CONFIRMED');
} finally {
  await browser.close();
}
assert.deepEqual(errors, [], 'the page threw errors');
console.log('newpassword: an invited user set a password, then signed in with the emailed code');
