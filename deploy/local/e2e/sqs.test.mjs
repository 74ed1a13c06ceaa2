// Proves that the AWS JS SDK v3 SQS client (AWS JSON 1.0 protocol, its MD5
// checks and its query-compatible error handling) works against sqslocal.
// Run by deploy/local/sqslocal's Go tests through internal/nodetest, with
// SQS_ENDPOINT set to a server the Go test started. Prints one JSON line.
import assert from "node:assert/strict";
import {
  SQSClient,
  CreateQueueCommand,
  GetQueueUrlCommand,
  SendMessageCommand,
  SendMessageBatchCommand,
  ReceiveMessageCommand,
  DeleteMessageCommand,
  DeleteMessageBatchCommand,
  GetQueueAttributesCommand,
  QueueDoesNotExist,
  ReceiptHandleIsInvalid,
  TooManyEntriesInBatchRequest,
  SQSServiceException,
} from "@aws-sdk/client-sqs";

const endpoint = process.env.SQS_ENDPOINT;
assert.ok(endpoint, "SQS_ENDPOINT must be set");

const sqs = new SQSClient({
  region: "us-east-1",
  endpoint,
  credentials: { accessKeyId: "AKIDNODETEST", secretAccessKey: "secret" },
  maxAttempts: 1,
});

async function expectError(promise, Type, code) {
  try {
    await promise;
  } catch (err) {
    assert.ok(err instanceof Type, `want ${Type.name}, got ${err.name}: ${err.message}`);
    assert.equal(err.name, code.name ?? Type.name);
    if (code.queryCode) assert.equal(err.Code, code.queryCode);
    assert.equal(err.$fault, "client");
    return err;
  }
  assert.fail(`want ${Type.name}, got success`);
}

const { QueueUrl } = await sqs.send(
  new CreateQueueCommand({ QueueName: "node-e2e", Attributes: { VisibilityTimeout: "30" } }),
);
assert.ok(QueueUrl.endsWith("/node-e2e"), QueueUrl);

// Send with attributes, receive them back (the SDK checks MD5OfBody).
const sent = await sqs.send(
  new SendMessageCommand({
    QueueUrl,
    MessageBody: JSON.stringify({ v: 1, to: "ü@example.com" }),
    MessageAttributes: {
      tenant: { DataType: "String", StringValue: "acme" },
      version: { DataType: "Number", StringValue: "1" },
      blob: { DataType: "Binary", BinaryValue: new Uint8Array([0, 1, 254, 255]) },
    },
  }),
);
assert.match(sent.MessageId, /^[0-9a-f-]{36}$/);
assert.match(sent.MD5OfMessageAttributes, /^[0-9a-f]{32}$/);

const received = await sqs.send(
  new ReceiveMessageCommand({
    QueueUrl,
    MaxNumberOfMessages: 10,
    WaitTimeSeconds: 1,
    MessageSystemAttributeNames: ["All"],
    MessageAttributeNames: ["All"],
  }),
);
assert.equal(received.Messages.length, 1);
const msg = received.Messages[0];
assert.equal(msg.MessageId, sent.MessageId);
assert.deepEqual(JSON.parse(msg.Body), { v: 1, to: "ü@example.com" });
assert.equal(msg.MD5OfMessageAttributes, sent.MD5OfMessageAttributes);
assert.equal(msg.MessageAttributes.tenant.StringValue, "acme");
assert.equal(msg.MessageAttributes.version.DataType, "Number");
assert.deepEqual([...msg.MessageAttributes.blob.BinaryValue], [0, 1, 254, 255]);
assert.equal(msg.Attributes.ApproximateReceiveCount, "1");
assert.equal(msg.Attributes.SenderId, "AKIDNODETEST");
assert.match(msg.Attributes.SentTimestamp, /^\d{13}$/);

await sqs.send(new DeleteMessageCommand({ QueueUrl, ReceiptHandle: msg.ReceiptHandle }));

// Batch send, receive, batch delete with one bad handle.
const batch = await sqs.send(
  new SendMessageBatchCommand({
    QueueUrl,
    Entries: [
      { Id: "a", MessageBody: "first" },
      { Id: "b", MessageBody: "second" },
      { Id: "late", MessageBody: "x", DelaySeconds: 901 },
    ],
  }),
);
assert.deepEqual(batch.Successful.map((e) => e.Id).sort(), ["a", "b"]);
assert.equal(batch.Failed.length, 1);
assert.equal(batch.Failed[0].Id, "late");
assert.equal(batch.Failed[0].Code, "InvalidParameterValue");
assert.equal(batch.Failed[0].SenderFault, true);

const two = await sqs.send(new ReceiveMessageCommand({ QueueUrl, MaxNumberOfMessages: 10 }));
assert.deepEqual(two.Messages.map((m) => m.Body).sort(), ["first", "second"]);
const deleted = await sqs.send(
  new DeleteMessageBatchCommand({
    QueueUrl,
    Entries: [
      ...two.Messages.map((m, i) => ({ Id: `m${i}`, ReceiptHandle: m.ReceiptHandle })),
      { Id: "bogus", ReceiptHandle: "bogus" },
    ],
  }),
);
assert.equal(deleted.Successful.length, 2);
assert.equal(deleted.Failed[0].Code, "ReceiptHandleIsInvalid");

const attrs = await sqs.send(
  new GetQueueAttributesCommand({ QueueUrl, AttributeNames: ["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"] }),
);
assert.deepEqual(attrs.Attributes, { ApproximateNumberOfMessages: "0", ApproximateNumberOfMessagesNotVisible: "0" });

// Errors surface as the SDK's modeled exception classes.
const missing = await expectError(
  sqs.send(new GetQueueUrlCommand({ QueueName: "does-not-exist" })),
  QueueDoesNotExist,
  { queryCode: "AWS.SimpleQueueService.NonExistentQueue" },
);
assert.equal(missing.$metadata.httpStatusCode, 400);
await expectError(
  sqs.send(new DeleteMessageCommand({ QueueUrl, ReceiptHandle: "not-a-receipt-handle" })),
  ReceiptHandleIsInvalid,
  {},
);
await expectError(
  sqs.send(
    new SendMessageBatchCommand({
      QueueUrl,
      Entries: Array.from({ length: 11 }, (_, i) => ({ Id: `e${i}`, MessageBody: "x" })),
    }),
  ),
  TooManyEntriesInBatchRequest,
  { queryCode: "AWS.SimpleQueueService.TooManyEntriesInBatchRequest" },
);
// An unmodeled common error keeps its legacy code as the name.
await expectError(
  sqs.send(new ReceiveMessageCommand({ QueueUrl, MaxNumberOfMessages: 11 })),
  SQSServiceException,
  { name: "InvalidParameterValue" },
);

console.log(JSON.stringify({ ok: true, messageId: sent.MessageId }));
