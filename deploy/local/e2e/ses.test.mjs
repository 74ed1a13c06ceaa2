// Proves that the AWS JS SDK v3 SES v2 client (REST JSON, typed errors)
// works against seslocal. Run by deploy/local/seslocal's Go tests through
// internal/nodetest, with SES_ENDPOINT set to a server the Go test started
// (configured with RejectRecipients ["rejected@example.com"]). Prints one
// JSON line with the MessageId, which the Go test looks up in the outbox.
import assert from "node:assert/strict";
import { SESv2Client, SendEmailCommand, MessageRejected } from "@aws-sdk/client-sesv2";

const endpoint = process.env.SES_ENDPOINT;
assert.ok(endpoint, "SES_ENDPOINT must be set");

const ses = new SESv2Client({
  region: "eu-central-1",
  endpoint,
  credentials: { accessKeyId: "AKIDNODETEST", secretAccessKey: "secret" },
  maxAttempts: 1,
});

const email = (to) => ({
  FromEmailAddress: "Acme <no-reply@acme.test>",
  Destination: { ToAddresses: [to] },
  Content: {
    Simple: {
      Subject: { Data: "Dein Anmeldecode", Charset: "UTF-8" },
      Body: {
        Html: { Data: "<p>Code: <b>654321</b></p>", Charset: "UTF-8" },
        Text: { Data: "Code: 654321", Charset: "UTF-8" },
      },
    },
  },
  EmailTags: [{ Name: "tenant", Value: "acme" }],
  ConfigurationSetName: "otp",
});

const sent = await ses.send(new SendEmailCommand(email("jürgen@example.com")));
assert.match(sent.MessageId, /^[0-9a-f]{16}-[0-9a-f-]{36}-000000$/);

try {
  await ses.send(new SendEmailCommand(email("rejected@example.com")));
  assert.fail("SendEmail to a rejected recipient succeeded");
} catch (err) {
  assert.ok(err instanceof MessageRejected, `want MessageRejected, got ${err.name}: ${err.message}`);
  assert.equal(err.$metadata.httpStatusCode, 400);
  assert.match(err.message, /rejected@example\.com/);
}

console.log(JSON.stringify({ ok: true, messageId: sent.MessageId }));
