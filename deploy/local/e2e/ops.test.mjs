// The ops page's health in headless Chromium (Debian's): a chart and a
// state for every line of /ops/api/health, the banner while SES faults
// are injected, the fault form surviving the 3-second refresh, and the
// layout on a wide and a narrow window. Screenshots go to OTP_ARTIFACTS.
import assert from 'node:assert/strict';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { chromium } from 'playwright-core';
import { env } from './lib.mjs';

const url = env('OTP_URL');
const artifacts = process.env.OTP_ARTIFACTS || 'artifacts';
mkdirSync(artifacts, { recursive: true });

const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
  args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking',
    '--disable-component-update', '--disable-sync'],
});
const errors = [];
try {
  const page = await browser.newPage({ viewport: { width: 1100, height: 900 }, deviceScaleFactor: 2, locale: 'en-US' });
  page.on('pageerror', (e) => errors.push(String(e)));
  page.on('console', (m) => { if (m.type() === 'error') errors.push(m.text()); });
  const shot = async (name, opts = {}) => page.screenshot({ path: join(artifacts, `${name}.png`), ...opts });

  // Every line of the JSON is on the page, in the same state, with a chart
  // whose accessible name says what it shows.
  const health = await (await fetch(`${url}/ops/api/health`)).json();
  await page.goto(`${url}/ops?refresh=0`);
  await page.getByRole('heading', { name: 'otp-local · ops' }).waitFor();
  assert.equal(await page.locator('#fault-banner').count(), 0, 'a fault banner without faults');
  const lines = page.locator('section.line');
  assert.equal(await lines.count(), health.lines.length);
  for (const l of health.lines) {
    const row = page.locator(`section.line[data-line="${l.id}"]`);
    assert.equal(await row.getAttribute('data-state'), l.state, `${l.id}'s state`);
    assert.equal(await row.locator('.rule').textContent().then((s) => s.startsWith(l.rule.text)), true, `${l.id}'s rule`);
    const chart = row.getByRole('img', { name: `${l.title}, per minute, the last hour`, exact: true });
    assert.equal(await chart.count(), 1, `${l.id} has no chart`);
    // Its legend names every series; its clock labels are there.
    const legend = await row.locator('svg.chart .legend').allTextContents().then((t) => t.join(' '));
    for (const s of l.series) assert.ok(legend.includes(s.label), `${l.id}'s legends lack ${s.label}: ${legend}`);
    assert.ok(await chart.locator('text.tick').count() >= 4, `${l.id} has no axis labels`);
  }
  // What the Go test set up: an hour of traffic, a dead letter now.
  assert.equal(await page.locator('[data-line="dead-letter-queue"]').getAttribute('data-state'), 'red');
  assert.match(await page.locator('[data-line="dead-letter-queue"] .says').textContent(), /^\d+ waiting$/);
  assert.ok(await page.locator('[data-line="emails"] path.bar').count() >= 1, 'no bars of emails sent');
  assert.ok(await page.locator('[data-line="oldest-message"] path.step').count() >= 1, 'no steps of the oldest message');
  // The dead-letter queue's oldest message, days old where the send
  // queue's is seconds, has a chart and a scale of its own.
  assert.equal(await page.getByRole('img', { name: 'Oldest message (dead-letter queue), per minute, the last hour' }).count(), 1);
  // The summary pills link to their lines and say the state in words.
  assert.equal(await page.locator('.states a.pill').count(), health.lines.length);
  assert.match(await page.locator('.states a[href="#line-dead-letter-queue"]').textContent(), /Red$/);
  // The axis labels are readable: 11px text, not scaled with the chart
  // (the box includes the label's 3px halo).
  const tick = page.locator('[data-line="send-queue"] svg.chart text.tick').first();
  assert.equal(await tick.evaluate((el) => getComputedStyle(el).fontSize), '11px');
  const box = await tick.boundingBox();
  assert.ok(box.height >= 11 && box.height <= 24, `axis label ${box.height}px high`);

  // SES faults: the banner says what is injected and that the charts
  // show it.
  await page.goto(`${url}/ops`);
  await page.getByLabel('failure rate').fill('0.2');
  await page.getByLabel('throttle rate').fill('0.05');
  await page.getByLabel('latency').fill('80ms');
  await page.getByRole('button', { name: 'Apply' }).click();
  const banner = page.locator('#fault-banner');
  await banner.waitFor();
  assert.match(await banner.textContent(), /SES faults are being injected: 5 % of SendEmail calls are throttled \(429 TooManyRequestsException\); 20 % fail \(500 InternalFailure\); every call waits 80ms longer\./);
  assert.match(await banner.textContent(), /The charts and states below show what that does/);
  assert.equal(await banner.getAttribute('role'), 'status');
  // The README's screenshot: the page as an operator opens it.
  await page.goto(`${url}/ops?refresh=0`);
  await banner.waitFor();
  await shot('ops-1-wide');
  await shot('ops-1-wide-full', { fullPage: true });

  // The figures and charts refresh; what is typed into the fault form,
  // outside the refreshed part, stays; so does the banner.
  await page.goto(`${url}/ops`);
  const updated = await page.locator('#updated').textContent();
  await page.getByLabel('failure rate').fill('0.5');
  await page.locator('#updated').filter({ hasNotText: updated }).waitFor({ timeout: 10_000 });
  assert.equal(await page.getByLabel('failure rate').inputValue(), '0.5', 'the refresh wiped the fault form');
  assert.equal(await banner.count(), 1, 'the refresh lost the banner');
  assert.equal(await lines.count(), health.lines.length, 'the refresh lost the charts');

  // A narrow window: one column, nothing wider than the window.
  await page.setViewportSize({ width: 390, height: 844 });
  await page.evaluate(() => window.scrollTo(0, 0));
  const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
  assert.ok(overflow <= 0, `the page is ${overflow}px wider than a 390px window`);
  const row = await page.locator('[data-line="oldest-message"]').boundingBox();
  const chartBox = await page.locator('[data-line="oldest-message"] svg.chart').first().boundingBox();
  assert.ok(chartBox.y > row.y + 40 && chartBox.width > 300, `on a narrow window the chart sits below its words, full width: ${JSON.stringify(chartBox)}`);
  await shot('ops-2-narrow');
  await page.evaluate(() => document.getElementById('line-oldest-message').scrollIntoView());
  await shot('ops-3-narrow-health');

  // Stop injecting, from the banner.
  await page.getByRole('button', { name: 'Stop injecting' }).click();
  await page.locator('.notice').getByText('SES faults updated').waitFor();
  assert.equal(await page.locator('#fault-banner').count(), 0, 'the banner stays after the faults stop');
  assert.equal(await page.getByLabel('failure rate').inputValue(), '0');
} finally {
  await browser.close();
}
assert.deepEqual(errors, [], 'the page threw errors');
console.log(`ops: health charts, states and the fault banner; screenshots in ${artifacts}`);
