// Shared by the node tests: the otp-local endpoints a Go test started, and
// reading a code from the outbox as a user would read their inbox.
import assert from 'node:assert/strict';

export const env = (name) => {
  const v = process.env[name];
  assert.ok(v, `${name} is not set: run this through the Go test that starts otp-local`);
  return v;
};

// codeFor waits for the n-th email to `to` and returns its code.
export async function codeFor(url, to, n = 1) {
  const deadline = Date.now() + 20_000;
  while (Date.now() < deadline) {
    const res = await fetch(`${url}/outbox/api/emails?to=${encodeURIComponent(to)}&wait=2s`);
    assert.equal(res.status, 200);
    const { emails } = await res.json();
    if (emails.length >= n) {
      const code = emails[0].text.match(/\b\d{6}\b/)?.[0];
      assert.ok(code, 'the newest email has no 6-digit code');
      return code;
    }
  }
  throw new Error(`no email ${n} to ${to}`);
}

export function otherCode(code) {
  return String((Number(code[0]) + 1) % 10) + code.slice(1);
}
