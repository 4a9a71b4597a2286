/**
 * local/event-sources.ts against real local servers (kinesalite, dynalite, s3rver) with
 * the real shipped handlers: the stream consumer behind a Kinesis mapping, the stream
 * deduplication as Firehose's transformation, the Transformation function behind S3
 * notifications; plus small shipped factories for the error paths (each self-contained,
 * since it is serialised). The SQS mapping is tested against aws-sdk-client-mock with a
 * state model of one queue until the local SQS server lands.
 */
import { DeleteMessageBatchCommand, Message, ReceiveMessageCommand, SQSClient } from "@aws-sdk/client-sqs";
import { KinesisClient, PutRecordsCommand, _Record } from "@aws-sdk/client-kinesis";
import { DynamoDBClient } from "@aws-sdk/client-dynamodb";
import { GetObjectCommand, PutObjectCommand, S3Client } from "@aws-sdk/client-s3";
import type { KinesisStreamEvent, S3Event, SQSEvent } from "aws-lambda";
import { mockClient } from "aws-sdk-client-mock";
import { gunzipSync } from "zlib";
import { streamConsumerFactory, streamDeduplicationFactory } from "../components/ingestion/ingestion-layer";
import { transformFunctionFactory } from "../components/lake/data-lake";
import {
  AsyncOnFailureRecord,
  KinesisOnFailureRecord,
  judgeQueueBatch,
  judgeStreamBatch,
  nextBatchStep,
  startFirehoseDelivery,
  forwardS3Notifications,
  startKinesisMapping,
  startSqsMapping,
} from "../local/event-sources";
import { Invocable, InvocationOutcome, ShippedFunction, hostShippedFunction } from "../local/function-host";
import { EMULATOR_CREDENTIALS, EMULATOR_REGION, LocalS3, RunningEmulator, startDynalite, startKinesalite, startS3rver } from "../local/servers";
import { createClaimsTable, createSpeedLayerTable, createStreamAndWait, dynamoDbClient, kinesisClient, listKeys, readText, s3Client, scanAll } from "./support/aws-emulators";

const ingestEvent = (id: string) =>
  JSON.stringify({ eventId: id, source: "orders-api", entityId: `order-${id}`, eventType: "order.created", occurredAt: "2026-03-04T05:06:07Z", payload: { amount: 1 } });

/** Fails the records whose data starts with "bad": reported (listed highest first) or, with FAILURE_MODE=throw, thrown. */
function failBadRecordsFactory() {
  const mode = process.env.FAILURE_MODE;
  return async (event: KinesisStreamEvent) => {
    const bad = event.Records.filter((record) => Buffer.from(record.kinesis.data, "base64").toString("utf8").startsWith("bad"));
    if (mode === "throw" && bad.length > 0) throw new Error(`${bad.length} bad records`);
    return { batchItemFailures: bad.reverse().map((record) => ({ itemIdentifier: record.kinesis.sequenceNumber })) };
  };
}

function alwaysFailsFactory() {
  return async () => {
    throw new Error("downstream unavailable");
  };
}

/** Fails the SQS messages whose body starts with "bad". */
function failBadMessagesFactory() {
  return async (event: SQSEvent) => ({
    batchItemFailures: event.Records.filter((record) => record.body.startsWith("bad")).map((record) => ({ itemIdentifier: record.messageId })),
  });
}

/** Keeps every event a source sends and every outcome, then passes them on. */
function recorded<E>(fn: Invocable): Invocable & { events: E[]; outcomes: InvocationOutcome[] } {
  const events: E[] = [];
  const outcomes: InvocationOutcome[] = [];
  return {
    name: fn.name,
    events,
    outcomes,
    async invoke(event) {
      events.push(event as E);
      const outcome = await fn.invoke(event);
      outcomes.push(outcome);
      return outcome;
    },
  };
}

const sequencesOf = (event: KinesisStreamEvent) => event.Records.map((record) => record.kinesis.sequenceNumber);

describe("the stream rules as pure steps", () => {
  const ok = (result: unknown): InvocationOutcome => ({ ok: true, result, requestId: "r" });
  it.each([
    ["a null response", ok(null), { kind: "succeeded" }],
    ["an empty list", ok({ batchItemFailures: [] }), { kind: "succeeded" }],
    ["failures, lowest wins", ok({ batchItemFailures: [{ itemIdentifier: "3" }, { itemIdentifier: "2" }] }), { kind: "partial", firstFailedIndex: 1 }],
    ["an identifier not in the batch", ok({ batchItemFailures: [{ itemIdentifier: "9" }] }), { kind: "failed" }],
    ["an empty identifier", ok({ batchItemFailures: [{ itemIdentifier: "" }] }), { kind: "failed" }],
    ["an error", { ok: false, error: { errorType: "Error", errorMessage: "x", trace: [] }, requestId: "r" } as InvocationOutcome, { kind: "failed" }],
  ])("judges %s", (_case, outcome, verdict) => {
    expect(judgeStreamBatch(outcome, ["1", "2", "3"], true)).toEqual(verdict);
  });

  it("ignores reported failures without ReportBatchItemFailures, and bisects without spending a retry", () => {
    expect(judgeStreamBatch(ok({ batchItemFailures: [{ itemIdentifier: "2" }] }), ["1", "2"], false)).toEqual({ kind: "succeeded" });
    const rules = { maximumRetryAttempts: 1, bisectBatchOnFunctionError: true };
    expect(nextBatchStep({ kind: "failed" }, { size: 5, attempts: 0 }, rules)).toEqual({ delivered: 0, discarded: 0, retry: [{ size: 3, attempts: 0 }, { size: 2, attempts: 0 }] });
    expect(nextBatchStep({ kind: "failed" }, { size: 1, attempts: 1 }, rules)).toEqual({ delivered: 0, discarded: 1, retry: [] });
    expect(nextBatchStep({ kind: "partial", firstFailedIndex: 2 }, { size: 5, attempts: 0 }, { ...rules, maximumRetryAttempts: -1 })).toEqual({ delivered: 2, discarded: 0, retry: [{ size: 3, attempts: 1 }] });
  });

  it("deletes from a queue only what succeeded", () => {
    const failed: InvocationOutcome = { ok: false, error: { errorType: "Error", errorMessage: "x", trace: [] }, requestId: "r" };
    expect([...judgeQueueBatch(ok({ batchItemFailures: [{ itemIdentifier: "b" }] }), ["a", "b"], true)]).toEqual(["a"]);
    expect([...judgeQueueBatch(ok({ batchItemFailures: [{ itemIdentifier: "zz" }] }), ["a", "b"], true)]).toEqual([]);
    expect([...judgeQueueBatch(failed, ["a", "b"], true)]).toEqual([]);
    expect([...judgeQueueBatch(ok(undefined), ["a", "b"], true)]).toEqual(["a", "b"]);
  });
});

describe("event sources on the local servers", () => {
  let dynamo: RunningEmulator;
  let kinesisServer: RunningEmulator;
  let s3Server: LocalS3;
  let db: DynamoDBClient;
  let kinesis: KinesisClient;
  let s3: S3Client;
  let env: Record<string, string>;
  const functions: ShippedFunction[] = [];
  let counter = 0;

  beforeAll(async () => {
    [dynamo, kinesisServer, s3Server] = await Promise.all([startDynalite(), startKinesalite(), startS3rver(["raw", "transformed"])]);
    [db, kinesis, s3] = [dynamoDbClient(dynamo), kinesisClient(kinesisServer), s3Client(s3Server)];
    env = {
      AWS_REGION: EMULATOR_REGION,
      AWS_ACCESS_KEY_ID: EMULATOR_CREDENTIALS.accessKeyId,
      AWS_SECRET_ACCESS_KEY: EMULATOR_CREDENTIALS.secretAccessKey,
      AWS_ENDPOINT_URL_DYNAMODB: dynamo.endpoint,
      AWS_ENDPOINT_URL_S3: s3Server.endpoint,
    };
  });
  afterAll(async () => {
    await Promise.all(functions.map((fn) => fn.stop()));
    [db, kinesis, s3].forEach((client) => client.destroy());
    await Promise.all([dynamo.stop(), kinesisServer.stop(), s3Server.stop()]);
  });

  const host = async (factory: () => unknown, extraEnv: Record<string, string> = {}) => {
    const fn = await hostShippedFunction(`fn-${++counter}`, factory, { env: { ...env, ...extraEnv }, timeoutSeconds: 30 });
    functions.push(fn);
    return fn;
  };

  async function freshStream(shards: number): Promise<{ streamName: string; streamArn: string }> {
    const streamName = `ingest-${++counter}`;
    return { streamName, streamArn: await createStreamAndWait(kinesis, streamName, shards) };
  }

  /** Puts the payloads in order, each under its own partition key; returns the records by shard as the stream holds them. */
  async function put(streamName: string, payloads: string[], partitionKey = (i: number) => `key-${i}`): Promise<Map<string, string[]>> {
    const { Records = [] } = await kinesis.send(new PutRecordsCommand({
      StreamName: streamName,
      Records: payloads.map((payload, i) => ({ Data: Buffer.from(payload), PartitionKey: partitionKey(i) })),
    }));
    const byShard = new Map<string, string[]>();
    Records.forEach((record) => byShard.set(record.ShardId!, [...(byShard.get(record.ShardId!) ?? []), record.SequenceNumber!]));
    return byShard;
  }

  const mappingRules = { batchSize: 10, startingPosition: "TRIM_HORIZON" as const, pollIntervalMs: 50, reportBatchItemFailures: true };

  describe("a Kinesis event source mapping", () => {
    it("delivers every record once, in sequence order per shard, to the shipped stream consumer", async () => {
      const tableName = `speed-layer-${++counter}`;
      await createSpeedLayerTable(db, tableName);
      const { streamName, streamArn } = await freshStream(2);
      const consumer = recorded<KinesisStreamEvent>(await host(streamConsumerFactory, { SPEED_LAYER_TABLE: tableName, SPEED_LAYER_TTL_DAYS: "7", QUARANTINE_BUCKET: "transformed" }));
      const mapping = await startKinesisMapping({ ...mappingRules, kinesis, streamName, streamArn, fn: consumer, batchSize: 7, maximumRetryAttempts: 2, bisectBatchOnFunctionError: true });

      const put1 = await put(streamName, Array.from({ length: 20 }, (_, i) => ingestEvent(`a${i}`)));
      const put2 = await put(streamName, Array.from({ length: 10 }, (_, i) => ingestEvent(`b${i}`)));
      await mapping.idle();
      await mapping.stop();

      expect(put1.size).toBe(2); // both shards hold records
      const delivered = new Map<string, string[]>();
      for (const event of consumer.events) {
        for (const record of event.Records) {
          const shardId = record.eventID.split(":")[0];
          delivered.set(shardId, [...(delivered.get(shardId) ?? []), record.kinesis.sequenceNumber]);
        }
      }
      const expected = new Map([...put1].map(([shardId, sequences]) => [shardId, [...sequences, ...(put2.get(shardId) ?? [])]]));
      expect(delivered).toEqual(expected);
      expect(consumer.events.every((event) => event.Records.length <= 7)).toBe(true);
      expect((await scanAll(db, tableName)).length).toBe(30);
      expect(mapping.stats).toEqual(expect.objectContaining({ recordsDelivered: 30, retries: 0, batchesSentToOnFailure: 0 }));
    });

    it("restarts from the lowest reported failure and, retries exhausted, sends the rest of the batch to onFailure", async () => {
      const { streamName, streamArn } = await freshStream(1);
      const consumer = recorded<KinesisStreamEvent>(await host(failBadRecordsFactory));
      const failures: KinesisOnFailureRecord[] = [];
      const mapping = await startKinesisMapping({ ...mappingRules, kinesis, streamName, streamArn, fn: consumer, maximumRetryAttempts: 2, bisectBatchOnFunctionError: false, onFailure: (record) => void failures.push(record) });

      const [[shardId, [a, bad1, b, bad2, c]]] = [...(await put(streamName, ["a", "bad 1", "b", "bad 2", "c"], () => "one"))];
      await mapping.idle();
      await mapping.stop();

      expect(consumer.events.map(sequencesOf)).toEqual([[a, bad1, b, bad2, c], [bad1, b, bad2, c], [bad1, b, bad2, c]]);
      expect(failures).toEqual([{
        requestContext: { requestId: consumer.outcomes[2].requestId, functionArn: expect.stringMatching(/:function:fn-\d+$/), condition: "RetryAttemptsExhausted", approximateInvokeCount: 3 },
        responseContext: { statusCode: 200, executedVersion: "$LATEST" },
        version: "1.0",
        timestamp: expect.any(String),
        KinesisBatchInfo: {
          shardId, startSequenceNumber: bad1, endSequenceNumber: c, batchSize: 4, streamArn,
          approximateArrivalOfFirstRecord: expect.any(String), approximateArrivalOfLastRecord: expect.any(String),
        },
      }]);
      expect(mapping.stats).toEqual(expect.objectContaining({ invocations: 3, retries: 2, recordsDelivered: 1, batchesSentToOnFailure: 1 }));
    });

    it("bisects a batch whose invocation throws until the bad record is alone, without retrying the good ones", async () => {
      const { streamName, streamArn } = await freshStream(1);
      const consumer = recorded<KinesisStreamEvent>(await host(failBadRecordsFactory, { FAILURE_MODE: "throw" }));
      const failures: KinesisOnFailureRecord[] = [];
      const mapping = await startKinesisMapping({ ...mappingRules, kinesis, streamName, streamArn, fn: consumer, batchSize: 8, maximumRetryAttempts: 1, bisectBatchOnFunctionError: true, onFailure: (record) => void failures.push(record) });

      const [[, sequences]] = [...(await put(streamName, ["a", "b", "c", "bad", "e", "f", "g", "h"], () => "one"))];
      await mapping.idle();
      await mapping.stop();

      expect(consumer.events.map((event) => event.Records.length)).toEqual([8, 4, 2, 2, 1, 1, 1, 4]);
      expect(consumer.outcomes.map((outcome) => outcome.ok)).toEqual([false, false, true, false, true, false, false, true]);
      expect(failures.map((failure) => [failure.KinesisBatchInfo.startSequenceNumber, failure.KinesisBatchInfo.batchSize, failure.responseContext.functionError])).toEqual([[sequences[3], 1, "Unhandled"]]);
      expect(mapping.stats).toEqual(expect.objectContaining({ invocations: 8, recordsDelivered: 7, bisections: 3, retries: 1, batchesSentToOnFailure: 1 }));
    });
  });

  describe("Firehose delivery", () => {
    const hourPartition = (arrival: Date) => `stream/year=${arrival.getUTCFullYear()}/`;
    const gunzipObjects = async (prefix: string) => Promise.all((await listKeys(s3, "raw", prefix)).map(async (key) => {
      const { Body } = await s3.send(new GetObjectCommand({ Bucket: "raw", Key: key }));
      return { key, text: gunzipSync(await Body!.transformToByteArray()).toString("utf8") };
    }));

    it("writes one GZIP object of exactly the records the shipped deduplication keeps, concatenated", async () => {
      const claimsTable = `claims-${++counter}`;
      await createClaimsTable(db, claimsTable);
      const { streamName, streamArn } = await freshStream(1);
      const dedup = await host(streamDeduplicationFactory, { CLAIMS_TABLE: claimsTable, CLAIM_TTL_SECONDS: "3600" });
      const delivery = await startFirehoseDelivery({ kinesis, streamName, streamArn, s3, bucket: "raw", prefix: hourPartition, onErrorPrefix: "stream-errors/", transform: dedup, bufferRecords: 100, bufferSeconds: 1, fileExtension: ".json.gz", deliveryStreamName: "test-firehose", pollIntervalMs: 50 });

      await put(streamName, [ingestEvent("e1"), ingestEvent("e2"), ingestEvent("e1"), "not json"], () => "one");
      await delivery.idle();
      await delivery.stop();

      const objects = await gunzipObjects("stream/");
      expect(objects).toEqual([{ key: expect.stringMatching(/^stream\/year=\d{4}\/test-firehose-1-\d{4}-\d\d-\d\d-\d\d-\d\d-\d\d-[0-9a-f-]{36}\.json\.gz$/), text: `${ingestEvent("e1")}\n${ingestEvent("e2")}\nnot json\n` }]);
      expect(delivery.stats).toEqual(expect.objectContaining({ recordsRead: 4, transformInvocations: 1, recordsOk: 3, recordsDropped: 1, recordsProcessingFailed: 0, objectsWritten: 1, errorObjectsWritten: 0 }));
    });

    it("after its retries, writes a failing transformation's records to processing-failed", async () => {
      const { streamName, streamArn } = await freshStream(1);
      const transform = await host(alwaysFailsFactory);
      const delivery = await startFirehoseDelivery({ kinesis, streamName, streamArn, s3, bucket: "raw", prefix: (arrival) => `${streamName}/${hourPartition(arrival)}`, onErrorPrefix: `${streamName}-errors/`, transform, bufferRecords: 2, bufferSeconds: 60, pollIntervalMs: 50 });

      await put(streamName, ["r1", "r2"], () => "one");
      await delivery.idle();
      await delivery.stop();

      const [errors] = await gunzipObjects(`${streamName}-errors/processing-failed/`);
      const lines = errors.text.trim().split("\n").map((line) => JSON.parse(line));
      expect(lines).toEqual(["r1", "r2"].map((data) => expect.objectContaining({
        attemptsMade: 4, errorCode: "Lambda.FunctionError", errorMessage: "Error: downstream unavailable", rawData: Buffer.from(data).toString("base64"), lambdaArn: expect.stringMatching(/:function:fn-\d+:\$LATEST$/),
      })));
      expect(await listKeys(s3, "raw", `${streamName}/`)).toEqual([]);
      expect(delivery.stats).toEqual(expect.objectContaining({ transformInvocations: 4, recordsProcessingFailed: 2, objectsWritten: 0, errorObjectsWritten: 1 }));
    });
  });

  describe("S3 notifications", () => {
    it("fire the shipped Transformation function for a new object, with the key URL-encoded as S3 sends it", async () => {
      const transform = recorded<S3Event>(await host(transformFunctionFactory, { TRANSFORMED_BUCKET: "transformed" }));
      const forwarding = forwardS3Notifications(s3Server, [{ bucket: "raw", prefix: "api/", events: ["s3:ObjectCreated:*"], fn: transform }]);

      const rawKey = "api/year=2026/month=07/day=01/hour=05/batch ü 1.jsonl";
      await s3.send(new PutObjectCommand({ Bucket: "raw", Key: rawKey, Body: `${ingestEvent("n1")}\n` }));
      await s3.send(new PutObjectCommand({ Bucket: "raw", Key: "elsewhere/batch.jsonl", Body: `${ingestEvent("n2")}\n` }));
      await forwarding.idle();
      await forwarding.stop();

      expect(transform.events).toEqual([{ Records: [expect.objectContaining({
        eventVersion: "2.1", eventSource: "aws:s3", eventName: "ObjectCreated:Put",
        s3: expect.objectContaining({
          bucket: expect.objectContaining({ name: "raw", arn: "arn:aws:s3:::raw" }),
          object: { key: "api/year%3D2026/month%3D07/day%3D01/hour%3D05/batch+%C3%BC+1.jsonl", size: Buffer.byteLength(`${ingestEvent("n1")}\n`), eTag: expect.stringMatching(/^[0-9a-f]{32}$/), sequencer: expect.stringMatching(/^[0-9A-F]+$/) },
        }),
      })] }]);
      expect(transform.outcomes.map((outcome) => outcome.ok)).toEqual([true]);
      expect(await readText(s3, "transformed", "clean/api/year=2026/month=07/day=01/hour=05/batch ü 1.jsonl")).toContain('"event_id":"n1"');
    });

    it("retry a failed asynchronous invocation twice, then hand it to onFailure", async () => {
      const failing = await host(alwaysFailsFactory);
      const failures: AsyncOnFailureRecord[] = [];
      const forwarding = forwardS3Notifications(s3Server, [{ bucket: "raw", prefix: "fail/", events: ["ObjectCreated:*"], fn: failing }], { retryDelayMs: 0, onFailure: (record) => void failures.push(record) });

      await s3.send(new PutObjectCommand({ Bucket: "raw", Key: "fail/x.jsonl", Body: "x" }));
      await forwarding.idle();
      await forwarding.stop();

      expect(failing.invocations).toBe(3);
      expect(failures).toEqual([expect.objectContaining({
        requestContext: expect.objectContaining({ condition: "RetriesExhausted", approximateInvokeCount: 3 }),
        requestPayload: { Records: [expect.objectContaining({ s3: expect.objectContaining({ object: expect.objectContaining({ key: "fail/x.jsonl" }) }) })] },
        responseContext: { statusCode: 200, executedVersion: "$LATEST", functionError: "Unhandled" },
        responsePayload: expect.objectContaining({ errorType: "Error", errorMessage: "downstream unavailable" }),
      })]);
      expect(forwarding.stats).toEqual({ notifications: 1, invocations: 3, retries: 2, sentToOnFailure: 1 });
    });
  });

  describe("an SQS event source mapping (client-level stub: a state model of one queue)", () => {
    interface QueuedMessage { id: string; body: string; receiveCount: number; receipt?: string; invisible: boolean; sentAt: number }

    /** ReceiveMessage hides what it returns (a visibility timeout longer than the test); DeleteMessageBatch takes current receipts only. */
    function stubQueue(sqs: SQSClient, bodies: string[]) {
      const queue: QueuedMessage[] = bodies.map((body, i) => ({ id: `m-${i}`, body, receiveCount: 0, invisible: false, sentAt: 1_700_000_000_000 + i }));
      const mock = mockClient(sqs);
      mock.on(ReceiveMessageCommand).callsFake(async (input) => {
        const visible = queue.filter((message) => !message.invisible).slice(0, input.MaxNumberOfMessages ?? 1);
        if (visible.length === 0) await new Promise((resolve) => setTimeout(resolve, 20)); // a short long poll
        return {
          Messages: visible.map((message): Message => {
            message.invisible = true;
            message.receiveCount++;
            message.receipt = `${message.id}-receipt-${message.receiveCount}`;
            return {
              MessageId: message.id, ReceiptHandle: message.receipt, Body: message.body, MD5OfBody: "md5",
              Attributes: { ApproximateReceiveCount: String(message.receiveCount), SentTimestamp: String(message.sentAt), SenderId: "AIDA", ApproximateFirstReceiveTimestamp: String(message.sentAt + 5) },
              MessageAttributes: { source: { DataType: "String", StringValue: "orders-api" } },
            };
          }),
        };
      });
      mock.on(DeleteMessageBatchCommand).callsFake(async (input) => {
        for (const entry of input.Entries ?? []) {
          const index = queue.findIndex((message) => message.receipt === entry.ReceiptHandle);
          if (index >= 0) queue.splice(index, 1);
        }
        return { Successful: (input.Entries ?? []).map((entry: { Id: string }) => ({ Id: entry.Id })), Failed: [] };
      });
      return { queue, mock };
    }

    it("deletes the messages that succeeded and leaves the failed one to come back", async () => {
      const sqs = new SQSClient({ region: EMULATOR_REGION, credentials: EMULATOR_CREDENTIALS });
      const { queue, mock } = stubQueue(sqs, ["m1", "bad one", "m2"]);
      const consumer = recorded<SQSEvent>(await host(failBadMessagesFactory));
      const queueArn = "arn:aws:sqs:us-east-1:000000000000:ingest";
      const mapping = startSqsMapping({ sqs, queueUrl: "http://127.0.0.1/000000000000/ingest", queueArn, fn: consumer, batchSize: 10, reportBatchItemFailures: true, waitTimeSeconds: 0 });

      await mapping.idle();
      await mapping.stop();
      mock.restore();

      expect(consumer.events).toHaveLength(1);
      expect(consumer.events[0].Records[0]).toEqual({
        messageId: "m-0", receiptHandle: "m-0-receipt-1", body: "m1", md5OfBody: "md5",
        attributes: { ApproximateReceiveCount: "1", SentTimestamp: "1700000000000", SenderId: "AIDA", ApproximateFirstReceiveTimestamp: "1700000000005" },
        messageAttributes: { source: { dataType: "String", stringValue: "orders-api", stringListValues: [], binaryListValues: [] } },
        eventSource: "aws:sqs", eventSourceARN: queueArn, awsRegion: "us-east-1",
      });
      expect(mock.commandCalls(ReceiveMessageCommand)[0].args[0].input).toEqual(expect.objectContaining({ MessageSystemAttributeNames: ["All"], MessageAttributeNames: ["All"], MaxNumberOfMessages: 10 }));
      expect(queue.map((message) => [message.body, message.receiveCount])).toEqual([["bad one", 1]]);
      expect(mapping.stats).toEqual(expect.objectContaining({ invocations: 1, messagesReceived: 3, messagesDeleted: 2, messagesReturned: 1 }));
    });

    it("deletes nothing when the invocation fails", async () => {
      const sqs = new SQSClient({ region: EMULATOR_REGION, credentials: EMULATOR_CREDENTIALS });
      const { queue, mock } = stubQueue(sqs, ["m1", "m2"]);
      const mapping = startSqsMapping({ sqs, queueUrl: "http://127.0.0.1/000000000000/ingest", queueArn: "arn:aws:sqs:us-east-1:000000000000:ingest", fn: await host(alwaysFailsFactory), batchSize: 10, reportBatchItemFailures: true, waitTimeSeconds: 0 });

      await mapping.idle();
      await mapping.stop();
      mock.restore();

      expect(queue.map((message) => message.receiveCount)).toEqual([1, 1]);
      expect(mock.commandCalls(DeleteMessageBatchCommand)).toHaveLength(0);
      expect(mapping.stats).toEqual(expect.objectContaining({ invocations: 1, messagesDeleted: 0, messagesReturned: 2 }));
    });
  });
});
