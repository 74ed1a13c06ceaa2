// The sign-in page in headless Chromium (Debian's): password, the emailed
// code read from the outbox, a wrong code, a new code, then the right one,
// and the signed-in page. Screenshots of each step go to OTP_ARTIFACTS.
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
  assert.match(await page.locator('link[rel=icon]').getAttribute('href'), /^data:image\/svg\+xml/);
  // The page brands itself once config.json is in: wait for it, as a
  // person would, rather than read the header mid-load.
  await page.getByRole('heading', { name: 'Sign in' }).waitFor();
  assert.equal(await page.locator('#product').textContent(), 'Acme');
  await page.locator('#view-signin').getByLabel('Email').fill(user);
  await page.locator('#view-signin').getByLabel('Password', { exact: true }).fill(env('OTP_PASSWORD'));
  await shot('1-sign-in');
  await page.getByRole('button', { name: 'Sign in' }).click();

  await page.getByRole('heading', { name: 'Check your email' }).waitFor({ timeout: 15_000 });
  assert.match(await page.locator('#code-sent').textContent(), /^We emailed a code to .\*\*\*@example\.com\.$/);
  const resend = page.locator('#resend');
  assert.match(await resend.textContent(), /^Send a new code in \d+s$/);
  assert.equal(await resend.isDisabled(), true, 'resend must wait for the cooldown');
  // A button that cannot be used yet must look it: grey, not the accent.
  const look = await resend.evaluate((el) => ({ cursor: getComputedStyle(el).cursor, color: getComputedStyle(el).color }));
  assert.deepEqual(look, { cursor: 'not-allowed', color: 'rgb(101, 109, 118)' });
  assert.equal(await page.locator('#codes-left').textContent(), 'New codes left: 2');
  assert.equal(await page.locator('#attempts').textContent(), 'Attempts left: 3');
  await shot('2-code-requested');

  const first = await codeFor(url, user);
  await page.locator('#view-code').getByLabel('Code').fill(otherCode(first)); // a full code submits itself
  const notice = page.locator('#code-notice');
  await notice.getByText('That code is not right').waitFor({ timeout: 10_000 });
  assert.equal(await notice.getAttribute('class'), 'error');
  assert.equal(await page.locator('#attempts').textContent(), 'Attempts left: 2');
  await shot('3-wrong-code');

  // A new code is good news, shown as a notice, and counts down the resends.
  await page.getByRole('button', { name: 'Send a new code', exact: true }).click({ timeout: 15_000 });
  await notice.getByText('We sent you a new code').waitFor({ timeout: 10_000 });
  assert.equal(await notice.getAttribute('class'), 'notice');
  assert.equal(await page.locator('#codes-left').textContent(), 'New codes left: 1');
  assert.equal(await resend.isDisabled(), true, 'the new code starts a new cooldown');
  await shot('3b-new-code');
  const second = await codeFor(url, user, 2);
  assert.notEqual(second, first, 'the newest email holds the new code');

  await page.locator('#view-code').getByLabel('Code').fill(second);
  await page.getByRole('heading', { name: /Welcome, / }).waitFor({ timeout: 10_000 });
  const claims = await page.locator('#claims').textContent();
  assert.match(claims, new RegExp(`"${user.replace('.', '\\.')}"`));
  assert.match(claims, /token_use"id"/);
  // The signed-in page is taller than the window: the card keeps a gap
  // above it instead of being centred off the top.
  const card = await page.locator('.card').boundingBox();
  assert.ok(card.height > 720 && card.y >= 16, `card at y=${card.y}, height ${card.height}`);
  await page.screenshot({ path: join(artifacts, '4-signed-in.png'), fullPage: true });

  await page.goto(`${url}/outbox`);
  await page.getByText(user).first().waitFor();
  await shot('5-outbox');
  await page.setViewportSize({ width: 1100, height: 900 });
  await page.goto(`${url}/ops?refresh=0`);
  await page.getByRole('heading', { name: 'otp-local · ops' }).waitFor();
  // Six cards in rows of three: no orphan.
  const tops = await page.locator('.card').evaluateAll((cards) => cards.map((c) => c.getBoundingClientRect().top));
  assert.deepEqual([tops.length, new Set(tops).size], [6, 2]);
  await shot('6-ops');

  // The figures refresh; what is being typed into the fault form stays.
  await page.goto(`${url}/ops`);
  const updated = await page.locator('#updated').textContent();
  await page.getByLabel('failure rate').fill('0.25');
  await page.locator('#updated').filter({ hasNotText: updated }).waitFor({ timeout: 10_000 });
  assert.equal(await page.getByLabel('failure rate').inputValue(), '0.25', 'the refresh wiped the fault form');
  await page.getByLabel('failure rate').fill('0');
} finally {
  await browser.close();
}
assert.deepEqual(errors, [], 'the page threw errors');
console.log(`browser: signed in; screenshots in ${artifacts}`);
