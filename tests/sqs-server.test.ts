/**
 * The local SQS server (local/sqs-server.ts) driven by the real @aws-sdk/client-sqs, which
 * speaks the AWS JSON 1.0 protocol and checks the MD5 digests of what it sends and receives.
 */
import {
  ChangeMessageVisibilityCommand,
  CreateQueueCommand,
  DeleteMessageBatchCommand,
  DeleteMessageCommand,
  DeleteQueueCommand,
  GetQueueAttributesCommand,
  GetQueueUrlCommand,
  ListQueuesCommand,
  Message,
  MessageNotInflight,
  PurgeQueueCommand,
  QueueDoesNotExist,
  QueueNameExists,
  ReceiptHandleIsInvalid,
  ReceiveMessageCommand,
  ReceiveMessageCommandInput,
  SendMessageBatchCommand,
  SendMessageCommand,
  SQSClient,
  SQSServiceException,
  TooManyEntriesInBatchRequest,
  UnsupportedOperation,
} from "@aws-sdk/client-sqs";
import { once } from "events";
import * as net from "net";
import { LocalSqs, startSqsServer } from "../local/sqs-server";
import { md5OfMessageAttributes } from "../local/sqs-messages";

let sqs: LocalSqs;
let client: SQSClient;

beforeAll(async () => {
  sqs = await startSqsServer();
  client = new SQSClient({ region: "us-east-1", endpoint: sqs.endpoint, credentials: { accessKeyId: "AKIDLOCAL", secretAccessKey: "local" } });
});

afterAll(async () => {
  client.destroy();
  await sqs.stop();
});

let queueCounter = 0;
async function createQueue(attributes: Record<string, string> = {}): Promise<{ url: string; arn: string }> {
  const name = `queue-${++queueCounter}`;
  const { QueueUrl } = await client.send(new CreateQueueCommand({ QueueName: name, Attributes: { VisibilityTimeout: "1", ...attributes } }));
  const { Attributes } = await client.send(new GetQueueAttributesCommand({ QueueUrl, AttributeNames: ["QueueArn"] }));
  return { url: QueueUrl!, arn: Attributes!.QueueArn! };
}

async function receive(queueUrl: string, input: Partial<ReceiveMessageCommandInput> = {}): Promise<Message[]> {
  const { Messages = [] } = await client.send(new ReceiveMessageCommand({ QueueUrl: queueUrl, MaxNumberOfMessages: 10, ...input }));
  return Messages;
}

async function counts(queueUrl: string): Promise<{ visible: number; inFlight: number }> {
  const { Attributes = {} } = await client.send(new GetQueueAttributesCommand({ QueueUrl: queueUrl, AttributeNames: ["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"] }));
  return { visible: Number(Attributes.ApproximateNumberOfMessages), inFlight: Number(Attributes.ApproximateNumberOfMessagesNotVisible) };
}

const bodies = (messages: Message[]) => messages.map((message) => message.Body).sort();

describe("queues", () => {
  it("creates idempotently for equal attributes, refuses different ones, and resolves URL, ARN and listing", async () => {
    const first = await client.send(new CreateQueueCommand({ QueueName: "orders", Attributes: { VisibilityTimeout: "5", KmsMasterKeyId: "alias/data" } }));
    expect(first.QueueUrl).toBe(`${sqs.endpoint}/000000000000/orders`);
    const again = await client.send(new CreateQueueCommand({ QueueName: "orders", Attributes: { VisibilityTimeout: "5", KmsMasterKeyId: "alias/data" } }));
    expect(again.QueueUrl).toBe(first.QueueUrl);
    await expect(client.send(new CreateQueueCommand({ QueueName: "orders", Attributes: { VisibilityTimeout: "6" } }))).rejects.toBeInstanceOf(QueueNameExists);

    const { QueueUrl } = await client.send(new GetQueueUrlCommand({ QueueName: "orders" }));
    expect(QueueUrl).toBe(first.QueueUrl);
    const { Attributes } = await client.send(new GetQueueAttributesCommand({ QueueUrl, AttributeNames: ["All"] }));
    expect(Attributes).toMatchObject({ QueueArn: "arn:aws:sqs:us-east-1:000000000000:orders", VisibilityTimeout: "5", KmsMasterKeyId: "alias/data", ApproximateNumberOfMessages: "0" });
    const { QueueUrls } = await client.send(new ListQueuesCommand({ QueueNamePrefix: "ord" }));
    expect(QueueUrls).toEqual([first.QueueUrl]);

    await client.send(new DeleteQueueCommand({ QueueUrl }));
    await expect(client.send(new GetQueueUrlCommand({ QueueName: "orders" }))).rejects.toBeInstanceOf(QueueDoesNotExist);
  });

  it("purges every message", async () => {
    const queue = await createQueue();
    await client.send(new SendMessageCommand({ QueueUrl: queue.url, MessageBody: "gone" }));
    await client.send(new PurgeQueueCommand({ QueueUrl: queue.url }));
    expect(await receive(queue.url)).toEqual([]);
  });
});

describe("messages", () => {
  it("sends, receives with system attributes, hides while in flight, and deletes", async () => {
    const queue = await createQueue();
    const sent = await client.send(new SendMessageCommand({ QueueUrl: queue.url, MessageBody: "héllo ✓" }));
    const [message, ...others] = await receive(queue.url, { MessageSystemAttributeNames: ["All"] });
    expect(others).toEqual([]);
    expect(message).toMatchObject({ MessageId: sent.MessageId, Body: "héllo ✓", MD5OfBody: sent.MD5OfMessageBody });
    expect(message.Attributes).toMatchObject({ ApproximateReceiveCount: "1", SenderId: "AKIDLOCAL" });
    expect(Number(message.Attributes!.SentTimestamp)).toBeLessThanOrEqual(Number(message.Attributes!.ApproximateFirstReceiveTimestamp));
    expect(await counts(queue.url)).toEqual({ visible: 0, inFlight: 1 });
    expect(await receive(queue.url)).toEqual([]);

    await client.send(new DeleteMessageCommand({ QueueUrl: queue.url, ReceiptHandle: message.ReceiptHandle }));
    expect(await counts(queue.url)).toEqual({ visible: 0, inFlight: 0 });
  });

  it("deletes exactly the messages deleted: the others come back after the visibility timeout with a new handle and receive count 2", async () => {
    const queue = await createQueue();
    for (const body of ["a", "b", "c", "d"]) await client.send(new SendMessageCommand({ QueueUrl: queue.url, MessageBody: body }));
    const first = await receive(queue.url);
    expect(bodies(first)).toEqual(["a", "b", "c", "d"]);
    expect(new Set(first.map((message) => message.ReceiptHandle)).size).toBe(4);

    const byBody = new Map(first.map((message) => [message.Body!, message]));
    await client.send(new DeleteMessageCommand({ QueueUrl: queue.url, ReceiptHandle: byBody.get("a")!.ReceiptHandle }));
    const batch = await client.send(
      new DeleteMessageBatchCommand({ QueueUrl: queue.url, Entries: [{ Id: "c", ReceiptHandle: byBody.get("c")!.ReceiptHandle }, { Id: "bogus", ReceiptHandle: "not-a-handle" }] }),
    );
    expect(batch.Successful).toEqual([{ Id: "c" }]);
    expect(batch.Failed).toEqual([expect.objectContaining({ Id: "bogus", Code: "ReceiptHandleIsInvalid", SenderFault: true })]);
    expect(await counts(queue.url)).toEqual({ visible: 0, inFlight: 2 });

    // The long poll returns when the 1 s visibility timeout ends.
    const again = await receive(queue.url, { WaitTimeSeconds: 5, AttributeNames: ["All"] });
    expect(bodies(again)).toEqual(["b", "d"]);
    expect(again.map((message) => message.Attributes?.ApproximateReceiveCount)).toEqual(["2", "2"]);
    expect(again.map((message) => message.ReceiptHandle)).not.toContain(byBody.get("b")!.ReceiptHandle);

    // The first receive's handle is stale: the call succeeds, the message stays.
    await client.send(new DeleteMessageCommand({ QueueUrl: queue.url, ReceiptHandle: byBody.get("b")!.ReceiptHandle }));
    expect(await counts(queue.url)).toEqual({ visible: 0, inFlight: 2 });
    await client.send(new DeleteMessageBatchCommand({ QueueUrl: queue.url, Entries: again.map((message, i) => ({ Id: `m${i}`, ReceiptHandle: message.ReceiptHandle })) }));
    expect(await counts(queue.url)).toEqual({ visible: 0, inFlight: 0 });
  });

  it("sends a batch with per-entry results, and the SDK accepts every MD5", async () => {
    const queue = await createQueue();
    const result = await client.send(
      new SendMessageBatchCommand({
        QueueUrl: queue.url,
        Entries: [
          { Id: "one", MessageBody: "1", MessageAttributes: { kind: { DataType: "String", StringValue: "order" }, size: { DataType: "Number", StringValue: "3" } } },
          { Id: "two", MessageBody: "2" },
          { Id: "bad", MessageBody: "3", MessageAttributes: { "AWS.reserved": { DataType: "String", StringValue: "x" } } },
        ],
      }),
    );
    expect(result.Successful!.map((entry) => entry.Id).sort()).toEqual(["one", "two"]);
    expect(result.Failed).toEqual([expect.objectContaining({ Id: "bad", SenderFault: true, Code: "InvalidParameterValue" })]);
    const one = result.Successful!.find((entry) => entry.Id === "one")!;
    expect(one.MD5OfMessageAttributes).toBe(md5OfMessageAttributes({ kind: { DataType: "String", StringValue: "order" }, size: { DataType: "Number", StringValue: "3" } }));

    const messages = await receive(queue.url, { MessageAttributeNames: ["All"] });
    expect(bodies(messages)).toEqual(["1", "2"]);
    expect(messages.find((message) => message.Body === "1")!.MessageAttributes).toEqual({ kind: { DataType: "String", StringValue: "order" }, size: { DataType: "Number", StringValue: "3" } });

    await expect(
      client.send(new SendMessageBatchCommand({ QueueUrl: queue.url, Entries: Array.from({ length: 11 }, (_, i) => ({ Id: `e${i}`, MessageBody: "x" })) })),
    ).rejects.toBeInstanceOf(TooManyEntriesInBatchRequest);
  });

  it("computes MD5OfMessageAttributes as the developer guide's algorithm does", () => {
    // Published test vector of the algorithm (npm aws-md5-of-message-attributes README).
    expect(md5OfMessageAttributes({ attribName1: { DataType: "String", StringValue: "attribValue 1" } })).toBe("19e27d4e946b072f3f58da80d94fd778");
    expect(md5OfMessageAttributes({ binaryAttribute: { DataType: "Binary", BinaryValue: Buffer.from("Hello binary world!").toString("base64") } })).toBe("31a92b15d92f8db860eda32aceb656c3");
  });

  it("changes visibility: 0 makes a message visible at once; a message not in flight cannot change", async () => {
    const queue = await createQueue({ VisibilityTimeout: "30" });
    await client.send(new SendMessageCommand({ QueueUrl: queue.url, MessageBody: "again" }));
    const [message] = await receive(queue.url);
    await client.send(new ChangeMessageVisibilityCommand({ QueueUrl: queue.url, ReceiptHandle: message.ReceiptHandle, VisibilityTimeout: 0 }));
    const [redelivered] = await receive(queue.url);
    expect(redelivered.MessageId).toBe(message.MessageId);
    await client.send(new ChangeMessageVisibilityCommand({ QueueUrl: queue.url, ReceiptHandle: redelivered.ReceiptHandle, VisibilityTimeout: 0 }));
    await expect(client.send(new ChangeMessageVisibilityCommand({ QueueUrl: queue.url, ReceiptHandle: redelivered.ReceiptHandle, VisibilityTimeout: 10 }))).rejects.toBeInstanceOf(MessageNotInflight);
  });
});

describe("redrive", () => {
  it("moves a message to the dead-letter queue on the receive after maxReceiveCount receives", async () => {
    const dlq = await createQueue();
    const source = await createQueue({ VisibilityTimeout: "0", RedrivePolicy: JSON.stringify({ deadLetterTargetArn: dlq.arn, maxReceiveCount: 2 }) });
    const { Attributes } = await client.send(new GetQueueAttributesCommand({ QueueUrl: source.url, AttributeNames: ["RedrivePolicy"] }));
    expect(JSON.parse(Attributes!.RedrivePolicy!)).toEqual({ deadLetterTargetArn: dlq.arn, maxReceiveCount: 2 });
    const sent = await client.send(new SendMessageCommand({ QueueUrl: source.url, MessageBody: "poison" }));

    // Visibility 0: each receive leaves the message visible for the next.
    expect((await receive(source.url)).map((message) => message.MessageId)).toEqual([sent.MessageId]);
    expect((await receive(source.url)).map((message) => message.MessageId)).toEqual([sent.MessageId]);
    expect(await receive(source.url)).toEqual([]);

    const [deadLetter] = await receive(dlq.url, { MessageSystemAttributeNames: ["ApproximateReceiveCount"] });
    expect(deadLetter).toMatchObject({ MessageId: sent.MessageId, Body: "poison" });
    expect(deadLetter.Attributes!.ApproximateReceiveCount).toBe("3");
    expect(await counts(source.url)).toEqual({ visible: 0, inFlight: 0 });
  });

  it("refuses a redrive policy whose dead-letter queue does not exist", async () => {
    await expect(createQueue({ RedrivePolicy: JSON.stringify({ deadLetterTargetArn: "arn:aws:sqs:us-east-1:000000000000:missing", maxReceiveCount: 3 }) })).rejects.toMatchObject({
      name: "InvalidAttributeValue",
    });
  });
});

describe("long polling", () => {
  it("returns as soon as a message is sent", async () => {
    const queue = await createQueue();
    const polling = receive(queue.url, { WaitTimeSeconds: 20 });
    await client.send(new SendMessageCommand({ QueueUrl: queue.url, MessageBody: "arrived" }));
    expect(bodies(await polling)).toEqual(["arrived"]);
  });

  it("receives nothing for a client that gave up its long poll", async () => {
    const queue = await createQueue();
    const abandon = new AbortController();
    const abandoned = client.send(new ReceiveMessageCommand({ QueueUrl: queue.url, WaitTimeSeconds: 20 }), { abortSignal: abandon.signal });
    await new Promise((resolve) => setTimeout(resolve, 100));
    abandon.abort();
    await expect(abandoned).rejects.toMatchObject({ name: "AbortError" });
    await new Promise((resolve) => setTimeout(resolve, 50));
    await client.send(new SendMessageCommand({ QueueUrl: queue.url, MessageBody: "for the next poll" }));
    expect(await counts(queue.url)).toEqual({ visible: 1, inFlight: 0 });
    expect(bodies(await receive(queue.url))).toEqual(["for the next poll"]);
  });

  it("returns empty when the wait ends with no message", async () => {
    const queue = await createQueue();
    expect(await receive(queue.url, { WaitTimeSeconds: 1 })).toEqual([]);
  });
});

describe("errors", () => {
  it("raises the SDK's named exceptions", async () => {
    const queue = await createQueue();
    await expect(client.send(new SendMessageCommand({ QueueUrl: `${sqs.endpoint}/000000000000/nope`, MessageBody: "x" }))).rejects.toBeInstanceOf(QueueDoesNotExist);
    await expect(client.send(new DeleteMessageCommand({ QueueUrl: queue.url, ReceiptHandle: "forged" }))).rejects.toBeInstanceOf(ReceiptHandleIsInvalid);
    const tooMany = client.send(new ReceiveMessageCommand({ QueueUrl: queue.url, MaxNumberOfMessages: 11 }));
    await expect(tooMany).rejects.toBeInstanceOf(SQSServiceException);
    await expect(tooMany).rejects.toMatchObject({ name: "InvalidParameterValue", $metadata: { httpStatusCode: 400 } });
  });

  it("names an unsupported action", async () => {
    const { TagQueueCommand } = await import("@aws-sdk/client-sqs");
    const queue = await createQueue();
    const tagging = client.send(new TagQueueCommand({ QueueUrl: queue.url, Tags: { team: "data" } }));
    await expect(tagging).rejects.toBeInstanceOf(UnsupportedOperation);
    await expect(tagging).rejects.toThrow(/TagQueue/);
  });
});

describe("stop", () => {
  it("ends a pending long poll and closes every socket, idle ones included", async () => {
    const server = await startSqsServer();
    const own = new SQSClient({ region: "us-east-1", endpoint: server.endpoint, credentials: { accessKeyId: "a", secretAccessKey: "b" }, maxAttempts: 1 });
    const { QueueUrl } = await own.send(new CreateQueueCommand({ QueueName: "waiting" }));
    const polling = own.send(new ReceiveMessageCommand({ QueueUrl, WaitTimeSeconds: 20 })).then(
      (output) => ({ messages: output.Messages ?? [] }),
      (error: Error) => ({ error }),
    );
    const { port } = new URL(server.endpoint);
    const idle = net.connect(Number(port), "127.0.0.1");
    await once(idle, "connect");
    const idleClosed = once(idle, "close");
    // Let the long poll reach the server before stopping it.
    await new Promise((resolve) => setTimeout(resolve, 100));

    await server.stop();
    expect(await polling).toEqual({ messages: [] });
    await idleClosed;
    await expect(own.send(new GetQueueUrlCommand({ QueueName: "waiting" }))).rejects.toThrow(/ECONNREFUSED/);
    own.destroy();
  });
});
