// The sign-in page per tenant and language, in headless Chromium: a
// Japanese browser on Globex's page gets a Globex page and a Globex email in
// Japanese; the tenant picker switches app client and branding; an Arabic
// browser gets a right-to-left page; the unverified user is told what may
// have happened; a code that expires leaves "sign in again", not a resend
// that cannot work. Screenshots go to OTP_ARTIFACTS.
import assert from 'node:assert/strict';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { chromium } from 'playwright-core';
import { codeFor, env } from './lib.mjs';

const url = env('OTP_URL');
const password = env('OTP_PASSWORD');
const artifacts = process.env.OTP_ARTIFACTS || 'artifacts';
mkdirSync(artifacts, { recursive: true });

const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
  args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking',
    '--disable-component-update', '--disable-sync'],
});
const errors = [];
const open = async (locale) => {
  const page = await (await browser.newContext({ viewport: { width: 520, height: 760 }, deviceScaleFactor: 2, locale })).newPage();
  page.on('pageerror', (e) => errors.push(String(e)));
  return page;
};
const signIn = async (page, user, button) => {
  await page.locator('#username').fill(user);
  await page.locator('#password').fill(password);
  await page.getByRole('button', { name: button, exact: true }).click();
};

try {
  // yuki: Globex, Japanese.
  {
    const page = await open('ja-JP');
    await page.goto(`${url}/?tenant=globex`);
    await page.getByRole('heading', { name: 'ログイン' }).waitFor();
    assert.equal(await page.locator('#product').textContent(), 'Globex');
    assert.equal(await page.evaluate(() => document.documentElement.lang), 'ja');
    assert.equal(await page.evaluate(() => getComputedStyle(document.querySelector('.logo')).backgroundColor), 'rgb(79, 70, 229)');
    await page.screenshot({ path: join(artifacts, 'tenant-1-globex-ja.png') });
    await signIn(page, 'yuki@example.com', 'ログイン');
    await page.getByRole('heading', { name: 'メールをご確認ください' }).waitFor({ timeout: 15_000 });
    const res = await fetch(`${url}/outbox/api/emails?to=yuki%40example.com&wait=5s`);
    const { emails } = await res.json();
    assert.equal(emails[0]?.subject, 'Globex ログイン確認コード', 'yuki gets a Globex email in Japanese');
    assert.match(emails[0].from, /globex\.example/);
    await page.screenshot({ path: join(artifacts, 'tenant-2-globex-ja-code.png') });
    await page.locator('#code').fill(await codeFor(url, 'yuki@example.com'));
    await page.getByRole('heading', { name: /ようこそ、山田 由紀 様/ }).waitFor({ timeout: 10_000 });
  }

  // The picker: Acme's page lists Acme's demo users; choosing Globex
  // reloads the page as Globex's, with Globex's users.
  {
    const page = await open('en-US');
    await page.goto(url);
    await page.getByRole('heading', { name: 'Sign in' }).waitFor();
    assert.equal(await page.locator('#product').textContent(), 'Acme');
    assert.doesNotMatch(await page.locator('#demo-hint').textContent(), /yuki@/);
    await page.getByLabel('Signing in to').selectOption('globex');
    await page.waitForURL(/tenant=globex/);
    await page.locator('#product').getByText('Globex').waitFor();
    assert.match(await page.locator('#demo-hint').textContent(), /yuki@example\.com · Japanese/);
    assert.equal(await page.locator('#username').inputValue(), 'rosa@example.com');
    await page.getByRole('button', { name: 'omar@example.com' }).click();
    assert.equal(await page.locator('#username').inputValue(), 'omar@example.com');
  }

  // omar's browser speaks Arabic: the page turns right to left.
  {
    const page = await open('ar');
    await page.goto(`${url}/?tenant=globex`);
    await page.getByRole('heading', { name: 'تسجيل الدخول' }).waitFor();
    assert.equal(await page.evaluate(() => document.documentElement.dir), 'rtl');
    await page.screenshot({ path: join(artifacts, 'tenant-3-globex-ar.png') });
    await signIn(page, 'omar@example.com', 'تسجيل الدخول');
    await page.getByRole('heading', { name: 'تحقق من بريدك الإلكتروني' }).waitFor({ timeout: 15_000 });

    // The outbox shows omar's email: its text part right to left, and the
    // HTML part whole, not cut off by its frame.
    const { emails } = await (await fetch(`${url}/outbox/api/emails?to=omar%40example.com&wait=5s`)).json();
    await page.goto(`${url}/outbox/${emails[0].id}`);
    const text = page.locator('pre');
    assert.deepEqual(await text.evaluate((el) => [getComputedStyle(el).direction, getComputedStyle(el).textAlign]), ['rtl', 'start']);
    const frame = page.frameLocator('iframe[title="HTML body"]');
    await frame.locator('body').waitFor();
    const content = await frame.locator('html').evaluate((el) => el.scrollHeight);
    const box = await page.locator('iframe[title="HTML body"]').boundingBox();
    assert.ok(box.height >= content, `the frame (${box.height}px) cuts the email (${content}px)`);
    await page.screenshot({ path: join(artifacts, 'tenant-3b-outbox-ar.png'), fullPage: true });
  }

  // The unverified user: Cognito's answer is the same as for a wrong
  // password, so the page names both without claiming either.
  {
    const page = await open('en-US');
    await page.goto(url);
    await signIn(page, 'unverified@example.com', 'Sign in');
    const error = page.locator('#signin-error');
    await error.waitFor({ timeout: 15_000 });
    const text = await error.textContent();
    assert.match(text, /password may be wrong/);
    assert.match(text, /not verified yet \(your administrator can verify it\)/);
    assert.doesNotMatch(text, /Incorrect username or password/);
    await page.screenshot({ path: join(artifacts, 'tenant-4-unverified.png') });
  }

  // Expiry: the page's clock runs ahead past the code's lifetime. The
  // session ends with the code, so the page offers a new sign-in and no
  // resend.
  {
    const page = await open('de-DE');
    await page.clock.install();
    await page.goto(url);
    await page.getByRole('heading', { name: 'Anmelden' }).waitFor();
    await signIn(page, 'lena@example.com', 'Anmelden');
    await page.getByRole('heading', { name: 'Sehen Sie in Ihr Postfach' }).waitFor({ timeout: 15_000 });
    assert.match(await page.locator('#expiry').textContent(), /^Der Code läuft in [0-3]:\d\d ab\.$/);
    await page.clock.fastForward('03:05');
    await page.getByText('Der Code ist abgelaufen.').waitFor();
    assert.equal(await page.locator('#resend').isVisible(), false, 'no resend after expiry');
    assert.equal(await page.locator('#verify').isVisible(), false);
    assert.equal(await page.locator('#code').isDisabled(), true);
    await page.screenshot({ path: join(artifacts, 'tenant-5-expired.png') });
    await page.getByRole('button', { name: 'Erneut anmelden' }).click();
    await page.getByRole('heading', { name: 'Anmelden' }).waitFor();
  }
} finally {
  await browser.close();
}
assert.deepEqual(errors, [], 'the page threw errors');
console.log(`tenants: Globex in Japanese, the picker, Arabic, the unverified user and expiry; screenshots in ${artifacts}`);
