// Proves that the AWS JS SDK v3 SES v2 client (REST JSON, typed errors)
// works against seslocal. Run by deploy/local/seslocal's Go tests through
// internal/nodetest, with SES_ENDPOINT set to a server the Go test started
// (configured with RejectRecipients ["rejected@example.com"]) and
// SES_SANDBOX_ENDPOINT to one describing a sandboxed account (identities
// acme.test and rita@example.com, configuration set otp, the sandbox
// quota). Prints one JSON line with the MessageIds, which the Go test looks
// up in the outboxes.
import assert from "node:assert/strict";
import {
  SESv2Client, SendEmailCommand, GetAccountCommand, GetEmailIdentityCommand, ListEmailIdentitiesCommand,
  GetConfigurationSetCommand, MessageRejected, NotFoundException,
} from "@aws-sdk/client-sesv2";

const client = (endpoint) => new SESv2Client({
  region: "eu-central-1",
  endpoint,
  credentials: { accessKeyId: "AKIDNODETEST", secretAccessKey: "secret" },
  maxAttempts: 1,
});
const endpoint = process.env.SES_ENDPOINT;
assert.ok(endpoint, "SES_ENDPOINT must be set");
const ses = client(endpoint);
const sandboxEndpoint = process.env.SES_SANDBOX_ENDPOINT;
assert.ok(sandboxEndpoint, "SES_SANDBOX_ENDPOINT must be set");
const sandbox = client(sandboxEndpoint);

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

const account = await sandbox.send(new GetAccountCommand({}));
assert.equal(account.ProductionAccessEnabled, false);
assert.equal(account.SendingEnabled, true);
assert.equal(account.EnforcementStatus, "HEALTHY");
assert.deepEqual(account.SendQuota, { Max24HourSend: 200, MaxSendRate: 1, SentLast24Hours: 0 });

const domain = await sandbox.send(new GetEmailIdentityCommand({ EmailIdentity: "acme.test" }));
assert.equal(domain.IdentityType, "DOMAIN");
assert.equal(domain.VerifiedForSendingStatus, true);
assert.equal(domain.VerificationStatus, "SUCCESS");
assert.equal(domain.DkimAttributes.SigningEnabled, true);
assert.equal(domain.DkimAttributes.Status, "SUCCESS");

const listed = await sandbox.send(new ListEmailIdentitiesCommand({ PageSize: 1 }));
assert.deepEqual(listed.EmailIdentities.map((i) => i.IdentityName), ["acme.test"]);
const rest = await sandbox.send(new ListEmailIdentitiesCommand({ PageSize: 1, NextToken: listed.NextToken }));
assert.deepEqual(rest.EmailIdentities.map((i) => i.IdentityName), ["rita@example.com"]);
assert.equal(rest.NextToken, undefined);

const set = await sandbox.send(new GetConfigurationSetCommand({ ConfigurationSetName: "otp" }));
assert.equal(set.ConfigurationSetName, "otp");

const refused = async (client, input, type, message) => {
  try {
    await client.send(new SendEmailCommand(input));
  } catch (err) {
    assert.ok(err instanceof type, `want ${type.name}, got ${err.name}: ${err.message}`);
    assert.equal(err.message, message);
    return;
  }
  assert.fail(`SendEmail succeeded, want ${type.name}`);
};
await refused(sandbox, email("sam@example.com"), MessageRejected,
  "Email address is not verified. The following identities failed the check in region EU-CENTRAL-1: sam@example.com");
await refused(sandbox, { ...email("rita@example.com"), ConfigurationSetName: "otp-events" }, NotFoundException,
  "Configuration set <otp-events> does not exist.");
for (const name of ["GetEmailIdentity", "GetConfigurationSet"]) {
  try {
    await sandbox.send(name === "GetEmailIdentity"
      ? new GetEmailIdentityCommand({ EmailIdentity: "nobody@example.com" })
      : new GetConfigurationSetCommand({ ConfigurationSetName: "nope" }));
    assert.fail(`${name} of an unknown resource succeeded`);
  } catch (err) {
    assert.ok(err instanceof NotFoundException, `${name}: want NotFoundException, got ${err.name}`);
    assert.equal(err.$metadata.httpStatusCode, 404);
  }
}
const simulated = await sandbox.send(new SendEmailCommand(email("bounce@simulator.amazonses.com")));

console.log(JSON.stringify({ ok: true, messageId: sent.MessageId, simulatedId: simulated.MessageId }));
