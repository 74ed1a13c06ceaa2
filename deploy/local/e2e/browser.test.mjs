// The sign-in page in headless Chromium (Debian's): password, the emailed
// code read from the outbox, a wrong code, then the right one, and the
// signed-in page. Screenshots of each step go to OTP_ARTIFACTS.
import assert from 'node:assert/strict';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { chromium } from 'playwright-core';
import { codeFor, env, otherCode } from './lib.mjs';

const url = env('OTP_URL');
const user = env('OTP_USER');
const artifacts = process.env.OTP_ARTIFACTS || 'artifacts';
mkdirSync(artifacts, { recursive: true });

const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
  args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking',
    '--disable-component-update', '--disable-sync'],
});
const errors = [];
try {
  const page = await browser.newPage({ viewport: { width: 520, height: 720 }, deviceScaleFactor: 2, locale: 'en-US' });
  page.on('pageerror', (e) => errors.push(String(e)));
  const shot = async (name) => page.screenshot({ path: join(artifacts, `${name}.png`) });

  await page.goto(url);
  await page.getByLabel('Email').fill(user);
  await page.getByLabel('Password', { exact: true }).fill(env('OTP_PASSWORD'));
  await shot('1-sign-in');
  await page.getByRole('button', { name: 'Sign in' }).click();

  await page.getByRole('heading', { name: 'Check your email' }).waitFor({ timeout: 15_000 });
  assert.match(await page.locator('#code-email').textContent(), /^.\*\*\*@example\.com$/);
  assert.match(await page.locator('#resend').textContent(), /Resend code in \d+s/);
  assert.equal(await page.locator('#resend').isDisabled(), true, 'resend must wait for the cooldown');
  await shot('2-code-requested');

  const code = await codeFor(url, user);
  await page.getByLabel('Code').fill(otherCode(code)); // a full code submits itself
  await page.locator('#code-notice').getByText('That code is not right').waitFor({ timeout: 10_000 });
  assert.match(await page.locator('#attempts').textContent(), /2 attempts left/);
  await shot('3-wrong-code');

  await page.getByLabel('Code').fill(code);
  await page.getByRole('heading', { name: /Welcome, / }).waitFor({ timeout: 10_000 });
  const claims = await page.locator('#claims').textContent();
  assert.match(claims, new RegExp(`"${user.replace('.', '\\.')}"`));
  assert.match(claims, /token_use"id"/);
  await page.screenshot({ path: join(artifacts, '4-signed-in.png'), fullPage: true });

  await page.goto(`${url}/outbox`);
  await page.getByText(user).first().waitFor();
  await shot('5-outbox');
  await page.setViewportSize({ width: 1100, height: 900 });
  await page.goto(`${url}/ops?refresh=0`);
  await page.getByRole('heading', { name: 'otp-local · ops' }).waitFor();
  await shot('6-ops');
} finally {
  await browser.close();
}
assert.deepEqual(errors, [], 'the page threw errors');
console.log(`browser: signed in; screenshots in ${artifacts}`);
