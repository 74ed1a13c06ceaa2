// Self sign-up on Globex's page in an Arabic browser: create an account,
// type the emailed confirmation code, and the page signs in with the same
// password, so the emailed sign-in code follows; both emails come through
// the custom email sender, the queue and the mailer, Globex-branded and in
// Arabic, right to left, and the outbox shows their kinds. Screenshots go
// to OTP_ARTIFACTS.
import assert from 'node:assert/strict';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { chromium } from 'playwright-core';
import { codeFor, env } from './lib.mjs';

const url = env('OTP_URL');
const artifacts = process.env.OTP_ARTIFACTS || 'artifacts';
mkdirSync(artifacts, { recursive: true });
const user = 'noor@example.com';
const password = 'كلمة-سر-طويلة-42';

async function emails(to) {
  const res = await fetch(`${url}/outbox/api/emails?to=${encodeURIComponent(to)}`);
  assert.equal(res.status, 200);
  return (await res.json()).emails; // newest first
}

const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
  args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking',
    '--disable-component-update', '--disable-sync'],
});
const errors = [];
try {
  const page = await (await browser.newContext({ viewport: { width: 520, height: 820 }, deviceScaleFactor: 2, locale: 'ar' })).newPage();
  page.on('pageerror', (e) => errors.push(String(e)));
  await page.goto(`${url}/?tenant=globex`);
  await page.getByRole('heading', { name: 'تسجيل الدخول' }).waitFor();
  assert.equal(await page.evaluate(() => document.documentElement.dir), 'rtl');
  await page.getByRole('button', { name: 'أنشئ حسابًا' }).click();

  await page.getByRole('heading', { name: 'أنشئ حسابك' }).waitFor();
  await page.locator('#signup-name').fill('نور');
  await page.locator('#signup-email').fill(user);
  await page.locator('#signup-password').fill(password);
  await page.screenshot({ path: join(artifacts, 'signup-1-form-globex-ar.png') });
  await page.getByRole('button', { name: 'إنشاء الحساب' }).click();

  await page.getByRole('heading', { name: 'أكّد بريدك الإلكتروني' }).waitFor({ timeout: 15_000 });
  const confirmation = await codeFor(url, user, 1);
  const [first] = await emails(user);
  assert.equal(first.tags.kind, 'signup_verification');
  assert.equal(first.tenant, 'globex');
  assert.equal(first.tags.locale, 'ar');
  assert.match(first.from, /globex\.example/);
  assert.match(first.html, /dir="rtl"/);
  await page.screenshot({ path: join(artifacts, 'signup-2-confirm-globex-ar.png') });

  // A wrong code is refused on the page, and the right one goes on.
  await page.locator('#confirm-code').fill(String((Number(confirmation[0]) + 1) % 10) + confirmation.slice(1));
  await page.getByRole('button', { name: 'تأكيد' }).click();
  await page.locator('#confirm-notice', { hasText: 'هذا الرمز غير صحيح' }).waitFor({ timeout: 10_000 });
  await page.locator('#confirm-code').fill(confirmation);
  await page.getByRole('button', { name: 'تأكيد' }).click();

  await page.getByRole('heading', { name: 'تحقق من بريدك الإلكتروني' }).waitFor({ timeout: 15_000 });
  assert.match(await page.locator('#code-notice').textContent(), /تم تأكيد حسابك/);
  const signInCode = await codeFor(url, user, 2);
  const [second] = await emails(user);
  assert.equal(second.tags.kind, 'signin_code');
  assert.equal(second.tenant, 'globex');
  assert.equal(second.tags.locale, 'ar');
  await page.screenshot({ path: join(artifacts, 'signup-3-code-globex-ar.png') });
  await page.locator('#code').fill(signInCode);
  await page.getByRole('heading', { name: /مرحبًا، نور/ }).waitFor({ timeout: 10_000 });
  await page.screenshot({ path: join(artifacts, 'signup-4-home-globex-ar.png') });

  // The outbox lists both emails with their kinds.
  const outbox = await (await browser.newContext({ viewport: { width: 1200, height: 700 }, deviceScaleFactor: 1 })).newPage();
  await outbox.goto(`${url}/outbox`);
  await outbox.getByText('signup_verification').first().waitFor({ timeout: 10_000 });
  await outbox.getByText('signin_code').first().waitFor();
  await outbox.screenshot({ path: join(artifacts, 'signup-5-outbox-kinds.png') });
  await outbox.goto(`${url}/outbox/${first.id}`);
  await outbox.waitForLoadState('networkidle');
  await outbox.screenshot({ path: join(artifacts, 'signup-6-confirmation-email.png'), fullPage: true });
} finally {
  await browser.close();
}
assert.deepEqual(errors, [], 'the page threw errors');
console.log('signup: a Globex user signed up in Arabic, confirmed with the emailed code, and signed in with the emailed sign-in code');
