/**
 * The ingestion handlers as plain functions against real local servers: dynalite for the
 * speed layer, kinesalite for real stream records, s3rver for the raw bucket. The
 * factories are also serialised the way CallbackFunction ships them, and the stream
 * consumer is run from that serialised text.
 */
import { BatchWriteItemCommand, BatchWriteItemCommandInput, DynamoDBClient } from "@aws-sdk/client-dynamodb";
import { KinesisClient, PutRecordsCommand } from "@aws-sdk/client-kinesis";
import { S3Client } from "@aws-sdk/client-s3";
import type { KinesisStreamEvent, SQSEvent, SQSRecord } from "aws-lambda";
import { queueConsumerFactory, streamConsumerFactory } from "../components/ingestion/ingestion-layer";
import { checkSourceAttribute, handleIngestQueueBatch, parseIngestMessage } from "../functions/ingestion-queue-consumer";
import { CreateQueueCommand, ReceiveMessageCommand, SQSClient } from "@aws-sdk/client-sqs";
import type { APIGatewayProxyEventV2 } from "aws-lambda";
import { SQS_MAX_MESSAGE_BYTES, handleIngestRequest, ingestFrontSettings, ingestMessageAttributes, ingestRouteTable, sqsMessageBytes } from "../functions/ingest-front";
import { localSqsClient } from "../local/clients";
import { LocalSqs, startSqsServer } from "../local/sqs-server";
import {
  BatchWriter,
  DEFAULT_RETRY_POLICY,
  RETRY_DEADLINE_MARGIN_MS,
  RetryPolicy,
  backoffDelayMs,
  chunk,
  handleStreamBatch,
  speedLayerKey,
} from "../functions/ingestion-stream-consumer";
import { validateIngestEvent } from "../functions/ingestion-events";
import {
  EMULATOR_REGION,
  RunningEmulator,
  createStreamAndWait,
  dynamoDbClient,
  expectShipsAsFactory,
  invokeShipped,
  createClaimsTable,
  createSpeedLayerTable,
  kinesisClient,
  kinesisEventOf,
  listKeys,
  readAllRecords,
  readText,
  s3Client,
  scanAll,
  startDynalite,
  startKinesalite,
  startS3rver,
} from "./support/aws-emulators";
import { quarantinedUnder, testQuarantine } from "./support/quarantine";

const quiet = () => undefined;
const noSleep = async () => undefined;
const FAST_RETRY: RetryPolicy = { maxAttempts: 4, baseDelayMs: 1, maxDelayMs: 4 };

function ingestEvent(id: string, overrides: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    eventId: id,
    source: "Orders-API",
    entityId: `order-${id}`,
    eventType: "order.created",
    occurredAt: "2026-03-04T05:06:07+01:00",
    payload: { amount: 42, currency: "EUR", lines: [{ sku: "a", qty: 1 }] },
    ...overrides,
  };
}

describe("the ingest event contract", () => {
  it("normalises source case and the timestamp to UTC", () => {
    const result = validateIngestEvent(ingestEvent("e1"));
    expect(result).toEqual({ ok: true, event: expect.objectContaining({ source: "orders-api", occurredAt: "2026-03-04T04:06:07.000Z" }) });
  });

  it.each([
    ["a missing eventId", { eventId: undefined }, "eventId must be a string"],
    ["a timestamp without zone", { occurredAt: "2026-03-04T05:06:07" }, "occurredAt"],
    ["an array payload", { payload: [1] }, "payload must be a JSON object"],
    ["an oversized event", { payload: { blob: "x".repeat(400_000) } }, "larger than"],
  ])("refuses %s with its reason", (_case, overrides, reason) => {
    const result = validateIngestEvent(ingestEvent("e1", overrides));
    expect(result.ok).toBe(false);
    expect(!result.ok && result.reason).toContain(reason);
  });
});

describe("retry helpers", () => {
  it("caps full-jitter backoff at maxDelayMs and grows it exponentially below the cap", () => {
    const policy: RetryPolicy = { maxAttempts: 10, baseDelayMs: 100, maxDelayMs: 1000 };
    expect([1, 2, 3, 4, 5].map((attempt) => backoffDelayMs(attempt, policy, () => 0.999999))).toEqual([99, 199, 399, 799, 999]);
    expect(backoffDelayMs(3, policy, () => 0)).toBe(0);
  });

  it("chunks by the BatchWriteItem limit", () => {
    expect(chunk(Array.from({ length: 53 }, (_, i) => i), 25).map((part) => part.length)).toEqual([25, 25, 3]);
  });
});

describe("stream consumer against dynalite, kinesalite and s3rver", () => {
  const QUARANTINE = "transformed-bucket";
  let dynamo: RunningEmulator;
  let kinesis: RunningEmulator;
  let s3Server: RunningEmulator;
  let db: DynamoDBClient;
  let streams: KinesisClient;
  let s3: S3Client;
  let tableCounter = 0;

  beforeAll(async () => {
    [dynamo, kinesis, s3Server] = await Promise.all([startDynalite(), startKinesalite(), startS3rver([QUARANTINE])]);
    db = dynamoDbClient(dynamo);
    streams = kinesisClient(kinesis);
    s3 = s3Client(s3Server);
  });
  afterAll(async () => {
    db.destroy();
    streams.destroy();
    s3.destroy();
    await Promise.all([dynamo.stop(), kinesis.stop(), s3Server.stop()]);
  });

  /** A fresh speed-layer table shaped like the component's (pk/sk strings). */
  async function freshTable(): Promise<string> {
    const tableName = `speed-layer-${++tableCounter}`;
    await createSpeedLayerTable(db, tableName);
    return tableName;
  }

  /** Puts raw payloads on a fresh kinesalite stream and returns the event Lambda would deliver for them. */
  async function streamBatch(payloads: (string | Record<string, unknown>)[]): Promise<KinesisStreamEvent> {
    const streamName = `ingest-${++tableCounter}`;
    const streamArn = await createStreamAndWait(streams, streamName, 1);
    await streams.send(new PutRecordsCommand({
      StreamName: streamName,
      Records: payloads.map((payload, index) => ({
        PartitionKey: `pk-${index}`,
        Data: Buffer.from(typeof payload === "string" ? payload : JSON.stringify(payload)),
      })),
    }));
    const records = await readAllRecords(streams, streamName);
    expect(records).toHaveLength(payloads.length);
    return kinesisEventOf(records, streamArn);
  }

  const metrics: Record<string, unknown>[] = [];
  const deps = (tableName: string, extra: Partial<Parameters<typeof handleStreamBatch>[1]> = {}) =>
    ({ dynamodb: db, tableName, ttlDays: 30, retry: FAST_RETRY, log: quiet, quarantine: testQuarantine(s3, QUARANTINE, "stream-consumer", metrics), ...extra });
  /** The quarantine records of a batch (its stream is its own, so its shard's records are only its). */
  const quarantinedFrom = async (batch: KinesisStreamEvent) =>
    (await quarantinedUnder(s3, QUARANTINE, "quarantine/speed-layer/")).filter((record) => record.origin.kind === "kinesis" && record.origin.streamArn === batch.Records[0].eventSourceARN);

  it("writes every valid record as one keyed item with a TTL", async () => {
    const tableName = await freshTable();
    const batch = await streamBatch([ingestEvent("e1"), ingestEvent("e2"), ingestEvent("e3", { entityId: "order-e1" })]);

    const response = await handleStreamBatch(batch, deps(tableName));

    expect(response.batchItemFailures).toEqual([]);
    const items = await scanAll(db, tableName);
    expect(items).toHaveLength(3);
    const first = items.find((item) => item.eventId === "e1")!;
    expect(first).toMatchObject({
      pk: "ENTITY#order-e1",
      sk: "EVENT#2026-03-04T04:06:07.000Z#e1",
      source: "orders-api",
      payload: { amount: 42, currency: "EUR", lines: [{ sku: "a", qty: 1 }] },
      sequenceNumber: batch.Records[0].kinesis.sequenceNumber,
      expiresAt: Date.parse("2026-03-04T04:06:07Z") / 1000 + 30 * 86_400,
    });
    // Two events of the same entity share the partition key, so one Query reads an entity's history.
    expect(items.filter((item) => item.pk === "ENTITY#order-e1")).toHaveLength(2);
  });

  it("quarantines poison records with their reason, payload and stream position, acknowledges them, and lands the rest", async () => {
    const tableName = await freshTable();
    const batch = await streamBatch([
      ingestEvent("good-1"),
      "{not json",
      ingestEvent("bad-time", { occurredAt: "yesterday" }),
      ingestEvent("good-2"),
      JSON.stringify([ingestEvent("in-an-array")]),
    ]);
    metrics.length = 0;

    const response = await handleStreamBatch(batch, deps(tableName));

    // Nothing is retried for a record that cannot succeed.
    expect(response.batchItemFailures).toEqual([]);
    expect((await scanAll(db, tableName)).map((item) => item.eventId).sort()).toEqual(["good-1", "good-2"]);
    const record = (index: number) => batch.Records[index];
    const quarantined = await quarantinedFrom(batch);
    expect(quarantined.map(({ reason }) => reason)).toEqual([expect.stringMatching(/^not JSON/), expect.stringContaining("occurredAt"), "event must be a JSON object"]);
    expect(quarantined[0]).toEqual({
      version: 1,
      id: expect.stringMatching(/^[0-9a-f]{32}$/),
      stage: "speed-layer",
      reason: expect.any(String),
      payload: { encoding: "utf8", data: "{not json", bytes: 9, sha256: expect.stringMatching(/^[0-9a-f]{64}$/) },
      origin: {
        kind: "kinesis",
        streamArn: record(1).eventSourceARN,
        shardId: "shardId-000000000000",
        sequenceNumber: record(1).kinesis.sequenceNumber,
        partitionKey: "pk-1",
        arrivedAt: new Date(record(1).kinesis.approximateArrivalTimestamp * 1000).toISOString(),
      },
      functionVersion: "stream-consumer:$LATEST",
      replayTo: "stream",
    });
    expect(Buffer.from(quarantined[1].payload.data)).toEqual(Buffer.from(record(2).kinesis.data, "base64"));
    expect(metrics).toEqual([expect.objectContaining({ FunctionName: "stream-consumer", QuarantinedRecords: 3, _aws: expect.objectContaining({ CloudWatchMetrics: [expect.objectContaining({ Namespace: "DataPlatform/Quarantine" })] }) })]);
  });

  it("keeps the exact bytes of a payload that is not UTF-8, in base64", async () => {
    const tableName = await freshTable();
    const binary = Buffer.from([0xff, 0xfe, 0x00, 0x7b]);
    const batch = await streamBatch([ingestEvent("text")]);
    const poisoned: KinesisStreamEvent = { Records: [...batch.Records, { ...batch.Records[0], kinesis: { ...batch.Records[0].kinesis, sequenceNumber: `${batch.Records[0].kinesis.sequenceNumber}9`, data: binary.toString("base64") } }] };

    const response = await handleStreamBatch(poisoned, deps(tableName));

    expect(response.batchItemFailures).toEqual([]);
    const [quarantined] = await quarantinedFrom(batch);
    expect(quarantined.payload).toMatchObject({ encoding: "base64", data: binary.toString("base64"), bytes: 4 });
  });

  it("reports the poison records as failed when the quarantine cannot be written, so nothing is dropped", async () => {
    const tableName = await freshTable();
    const batch = await streamBatch([ingestEvent("lands"), "poison", ingestEvent("lands-too")]);

    const response = await handleStreamBatch(batch, deps(tableName, { quarantine: testQuarantine(s3, "bucket-that-does-not-exist", "stream-consumer") }));

    expect(response.batchItemFailures).toEqual([{ itemIdentifier: batch.Records[1].kinesis.sequenceNumber }]);
    expect((await scanAll(db, tableName)).map((item) => item.eventId).sort()).toEqual(["lands", "lands-too"]);
  });

  it("is idempotent: replaying the same batch leaves the same table", async () => {
    const tableName = await freshTable();
    const batch = await streamBatch([ingestEvent("r1"), ingestEvent("r2"), ingestEvent("r3")]);

    await handleStreamBatch(batch, deps(tableName));
    const afterFirst = await scanAll(db, tableName);
    const replay = await handleStreamBatch(batch, deps(tableName));

    expect(replay.batchItemFailures).toEqual([]);
    expect(await scanAll(db, tableName)).toEqual(afterFirst);
  });

  it("collapses a producer's duplicate of the same event into one write", async () => {
    const tableName = await freshTable();
    const batch = await streamBatch([ingestEvent("dup"), ingestEvent("other"), ingestEvent("dup")]);

    const response = await handleStreamBatch(batch, deps(tableName));

    expect(response.batchItemFailures).toEqual([]);
    const items = await scanAll(db, tableName);
    expect(items.map((item) => item.eventId).sort()).toEqual(["dup", "other"]);
    // The later record of the shard wins.
    expect(items.find((item) => item.eventId === "dup")!.sequenceNumber).toBe(batch.Records[2].kinesis.sequenceNumber);
  });

  it("writes more than 25 records in chunks", async () => {
    const tableName = await freshTable();
    const batch = await streamBatch(Array.from({ length: 60 }, (_, i) => ingestEvent(`bulk-${i}`)));
    const calls: number[] = [];
    const counting: BatchWriter = (input) => {
      calls.push(Object.values(input.RequestItems!)[0].length);
      return db.send(new BatchWriteItemCommand(input));
    };

    const response = await handleStreamBatch(batch, deps(tableName, { writeBatch: counting }));

    expect(response.batchItemFailures).toEqual([]);
    expect(calls).toEqual([25, 25, 10]);
    expect(await scanAll(db, tableName)).toHaveLength(60);
  });

  // dynalite never throttles, so it never returns UnprocessedItems. These tests wrap the
  // real client: the wrapper writes part of each request through dynalite and hands the
  // rest back as UnprocessedItems, exactly as DynamoDB does under throttling.
  function throttlingWriter(shouldDefer: (input: BatchWriteItemCommandInput, call: number) => (request: unknown, index: number) => boolean) {
    let call = 0;
    const writer: BatchWriter & { calls: () => number } = Object.assign(
      async (input: BatchWriteItemCommandInput) => {
        call++;
        const [tableName, requests] = Object.entries(input.RequestItems!)[0];
        const defer = shouldDefer(input, call);
        const deferred = requests.filter((request, index) => defer(request, index));
        const now = requests.filter((request, index) => !defer(request, index));
        if (now.length > 0) await db.send(new BatchWriteItemCommand({ RequestItems: { [tableName]: now } }));
        return { UnprocessedItems: deferred.length > 0 ? { [tableName]: deferred } : {}, $metadata: {} };
      },
      { calls: () => call },
    );
    return writer;
  }

  it("retries UnprocessedItems with backoff until they land", async () => {
    const tableName = await freshTable();
    const batch = await streamBatch(Array.from({ length: 6 }, (_, i) => ingestEvent(`slow-${i}`)));
    // First call: every other item comes back unprocessed; later calls write everything.
    const writer = throttlingWriter((_input, call) => (_request, index) => call === 1 && index % 2 === 1);
    const waits: number[] = [];

    const response = await handleStreamBatch(batch, deps(tableName, { writeBatch: writer, sleep: async (ms) => void waits.push(ms) }));

    expect(response.batchItemFailures).toEqual([]);
    expect(writer.calls()).toBe(2);
    expect(waits).toHaveLength(1);
    expect(waits[0]).toBeLessThanOrEqual(FAST_RETRY.baseDelayMs);
    expect(await scanAll(db, tableName)).toHaveLength(6);
  });

  it("gives up after the bounded attempts and reports only the records whose items never landed", async () => {
    const tableName = await freshTable();
    const batch = await streamBatch([ingestEvent("ok-1"), ingestEvent("stuck"), ingestEvent("ok-2"), ingestEvent("stuck")]);
    const stuckKey = speedLayerKey(validateOk(ingestEvent("stuck"))).pk;
    const writer = throttlingWriter(() => (request) => (request as { PutRequest: { Item: { pk: { S: string } } } }).PutRequest.Item.pk.S === stuckKey);

    const response = await handleStreamBatch(batch, deps(tableName, { writeBatch: writer, sleep: noSleep }));

    expect(writer.calls()).toBe(FAST_RETRY.maxAttempts);
    // Both records of the stuck event are reported; the mapping retries from the lowest.
    expect(response.batchItemFailures).toEqual([
      { itemIdentifier: batch.Records[1].kinesis.sequenceNumber },
      { itemIdentifier: batch.Records[3].kinesis.sequenceNumber },
    ]);
    expect((await scanAll(db, tableName)).map((item) => item.eventId).sort()).toEqual(["ok-1", "ok-2"]);
  });

  it("isolates an item DynamoDB refuses: only its record is quarantined, the rest of its chunk lands", async () => {
    const tableName = await freshTable();
    // DynamoDB (and dynalite) refuse a number below 1E-130 with a ValidationException that rejects the whole BatchWriteItem.
    const batch = await streamBatch([ingestEvent("fine-a"), ingestEvent("underflow", { payload: { tiny: 1e-200 } }), ingestEvent("fine-b")]);
    const sizes: number[] = [];
    const counting: BatchWriter = (input) => {
      sizes.push(Object.values(input.RequestItems!)[0].length);
      return db.send(new BatchWriteItemCommand(input));
    };

    const response = await handleStreamBatch(batch, deps(tableName, { writeBatch: counting, sleep: noSleep }));

    expect(response.batchItemFailures).toEqual([]);
    expect((await scanAll(db, tableName)).map((item) => item.eventId).sort()).toEqual(["fine-a", "fine-b"]);
    // The refused chunk is written again item by item, and the refused item is not retried as it is.
    expect(sizes).toEqual([3, 1, 1, 1]);
    expect(await quarantinedFrom(batch)).toEqual([expect.objectContaining({ reason: expect.stringMatching(/^DynamoDB refused the item: /), origin: expect.objectContaining({ sequenceNumber: batch.Records[1].kinesis.sequenceNumber }) })]);
  });

  it("quarantines a record whose item cannot be built (an integer beyond 2^53) and still writes the rest of the batch", async () => {
    const tableName = await freshTable();
    const batch = await streamBatch([ingestEvent("before"), `{"eventId":"huge","source":"orders","entityId":"o-1","eventType":"t","occurredAt":"2026-03-04T05:06:07Z","payload":{"orderNumber":123456789012345678901}}`, ingestEvent("after")]);

    const response = await handleStreamBatch(batch, deps(tableName));

    expect(response.batchItemFailures).toEqual([]);
    expect((await scanAll(db, tableName)).map((item) => item.eventId).sort()).toEqual(["after", "before"]);
    expect(await quarantinedFrom(batch)).toEqual([expect.objectContaining({ reason: expect.stringContaining("MAX_SAFE_INTEGER"), origin: expect.objectContaining({ sequenceNumber: batch.Records[1].kinesis.sequenceNumber }) })]);
  });

  it("stops retrying before the function's timeout and reports what is left", async () => {
    const tableName = await freshTable();
    const batch = await streamBatch([ingestEvent("late-1"), ingestEvent("late-2")]);
    const writer = throttlingWriter(() => () => true);

    const response = await handleStreamBatch(batch, deps(tableName, { writeBatch: writer, sleep: noSleep, remainingMs: () => RETRY_DEADLINE_MARGIN_MS }));

    expect(writer.calls()).toBe(1);
    expect(response.batchItemFailures.map((failure) => failure.itemIdentifier)).toEqual(batch.Records.map((record) => record.kinesis.sequenceNumber));
  });

  it("reports the whole chunk, without throwing, when DynamoDB refuses the request", async () => {
    const batch = await streamBatch([ingestEvent("x1"), ingestEvent("x2")]);

    // A table that does not exist: dynalite answers ResourceNotFoundException.
    const response = await handleStreamBatch(batch, deps("no-such-table", { sleep: noSleep }));

    expect(response.batchItemFailures.map((failure) => failure.itemIdentifier)).toEqual(batch.Records.map((record) => record.kinesis.sequenceNumber));
  });

  it("ships as a serialisable factory that runs from its serialised text", async () => {
    const tableName = await freshTable();
    const batch = await streamBatch([ingestEvent("shipped-1"), "poison"]);
    const response = await invokeShipped(streamConsumerFactory, {
      SPEED_LAYER_TABLE: tableName,
      SPEED_LAYER_TTL_DAYS: "7",
      QUARANTINE_BUCKET: QUARANTINE,
      AWS_LAMBDA_FUNCTION_NAME: "dp-dev-ingestion-stream-consumer",
      AWS_LAMBDA_FUNCTION_VERSION: "12",
      AWS_ENDPOINT_URL_DYNAMODB: dynamo.endpoint,
      AWS_ENDPOINT_URL_S3: s3Server.endpoint,
    }, batch);

    expect(response).toEqual({ batchItemFailures: [] });
    expect(await quarantinedFrom(batch)).toEqual([expect.objectContaining({ payload: expect.objectContaining({ data: "poison" }), functionVersion: "dp-dev-ingestion-stream-consumer:12" })]);
    expect(await scanAll(db, tableName)).toEqual([expect.objectContaining({ eventId: "shipped-1", expiresAt: Date.parse("2026-03-04T04:06:07Z") / 1000 + 7 * 86_400 })]);
  });
});

function validateOk(value: Record<string, unknown>) {
  const result = validateIngestEvent(value);
  if (!result.ok) throw new Error(result.reason);
  return result.event;
}

describe("consumer factories", () => {
  it.each([
    ["stream consumer", streamConsumerFactory],
    ["queue consumer", queueConsumerFactory],
  ])("the %s factory serialises the way CallbackFunction ships it", async (_name, factory) => {
    await expectShipsAsFactory(factory, /require\("@aws-sdk\/client-(dynamodb|s3)/);
  });
});

describe("queue consumer against s3rver and dynalite", () => {
  const RAW = "raw-bucket";
  const QUARANTINE = "transformed-bucket";
  const CLAIMS = "claims";
  let s3Server: RunningEmulator;
  let dynamo: RunningEmulator;
  let s3: S3Client;
  let db: DynamoDBClient;
  let prefixCounter = 0;

  beforeAll(async () => {
    [s3Server, dynamo] = await Promise.all([startS3rver([RAW, QUARANTINE]), startDynalite()]);
    s3 = s3Client(s3Server);
    db = dynamoDbClient(dynamo);
    await createClaimsTable(db, CLAIMS);
  });
  afterAll(async () => {
    s3.destroy();
    db.destroy();
    await Promise.all([s3Server.stop(), dynamo.stop()]);
  });

  /** Messages as Lambda's SQS poller delivers them; each test uses its own send hour so keys do not collide. */
  function sqsEvent(bodies: string[], sentAt: Date): SQSEvent {
    const hour = ++prefixCounter;
    const sent = new Date(sentAt.getTime() + hour * 3_600_000);
    return {
      Records: bodies.map((body, index): SQSRecord => ({
        messageId: `m-${hour}-${index}`,
        receiptHandle: `r-${index}`,
        body,
        attributes: {
          ApproximateReceiveCount: "1",
          SentTimestamp: String(sent.getTime() + index),
          SenderId: "AIDA",
          ApproximateFirstReceiveTimestamp: String(sent.getTime() + 1000),
        },
        messageAttributes: {},
        md5OfBody: "",
        eventSource: "aws:sqs",
        eventSourceARN: "arn:aws:sqs:us-east-1:123456789012:ingest",
        awsRegion: EMULATOR_REGION,
      })),
    };
  }

  const START = new Date("2026-05-06T00:00:00Z");
  const deps = (bucket = RAW, quarantineBucket = QUARANTINE) =>
    ({ s3, rawBucket: bucket, claims: { dynamodb: db, tableName: CLAIMS, ttlSeconds: 3600 }, staleClaimMs: 60_000, log: quiet, quarantine: testQuarantine(s3, quarantineBucket, "queue-consumer") });
  const quarantinedFrom = async (event: SQSEvent) => {
    const ids = new Set(event.Records.map((record) => record.messageId));
    return (await quarantinedUnder(s3, QUARANTINE, "quarantine/raw-api/")).filter((record) => record.origin.kind === "sqs" && ids.has(record.origin.messageId));
  };
  const hourPrefix = (event: SQSEvent) => {
    const at = new Date(Number(event.Records[0].attributes.SentTimestamp));
    return `api/year=2026/month=05/day=${String(at.getUTCDate()).padStart(2, "0")}/hour=${String(at.getUTCHours()).padStart(2, "0")}/`;
  };

  it("lands a batch as one JSON-lines object in the raw api/ hour partition", async () => {
    const event = sqsEvent([JSON.stringify(ingestEvent("q1")), JSON.stringify([ingestEvent("q2"), ingestEvent("q3")])], START);

    const response = await handleIngestQueueBatch(event, deps());

    expect(response.batchItemFailures).toEqual([]);
    const keys = await listKeys(s3, RAW, hourPrefix(event));
    expect(keys).toHaveLength(1);
    expect(keys[0]).toMatch(/^api\/year=2026\/month=05\/day=06\/hour=\d\d\/batch-[0-9a-f]{32}\.jsonl$/);
    const lines = (await readText(s3, RAW, keys[0])).trim().split("\n").map((line) => JSON.parse(line));
    expect(lines.map((line) => line.eventId)).toEqual(["q1", "q2", "q3"]);
    expect(lines[0].occurredAt).toBe("2026-03-04T04:06:07.000Z");
  });

  it("quarantines poison messages, and the bad events of an array one by one, and lands the rest", async () => {
    const broken = ingestEvent("broken", { entityId: "" });
    const event = sqsEvent([
      JSON.stringify(ingestEvent("fine-1")),
      "<xml/>",
      JSON.stringify([ingestEvent("fine-in-mixed-message"), broken]),
      "[]",
      JSON.stringify(ingestEvent("fine-2")),
    ], START);

    const response = await handleIngestQueueBatch(event, deps());

    expect(response.batchItemFailures).toEqual([]);
    const [key] = await listKeys(s3, RAW, hourPrefix(event));
    const landed = (await readText(s3, RAW, key)).trim().split("\n").map((line) => JSON.parse(line).eventId);
    expect(landed).toEqual(["fine-1", "fine-in-mixed-message", "fine-2"]);
    const message = (index: number) => event.Records[index];
    expect(await quarantinedFrom(event)).toEqual([
      expect.objectContaining({ stage: "raw-api", reason: expect.stringMatching(/^body is not JSON/), payload: expect.objectContaining({ data: "<xml/>" }), origin: expect.not.objectContaining({ eventIndex: expect.anything() }), replayTo: "queue" }),
      expect.objectContaining({
        reason: "event 1: entityId must not be empty",
        payload: expect.objectContaining({ data: JSON.stringify(broken) }),
        origin: {
          kind: "sqs",
          queueArn: message(2).eventSourceARN,
          messageId: message(2).messageId,
          sentAt: new Date(Number(message(2).attributes.SentTimestamp)).toISOString(),
          receiveCount: 1,
          eventIndex: 1,
        },
      }),
      expect.objectContaining({ reason: "body is an empty array", payload: expect.objectContaining({ data: "[]" }) }),
    ]);
  });

  it("lands every event it could claim and fails only the message whose claim DynamoDB kept refusing", async () => {
    // dynalite never throttles: this client refuses the claim of one event id as DynamoDB does
    // under throttling (after the SDK's own attempts), and sends every other request to dynalite.
    const throttling = dynamoDbClient(dynamo);
    throttling.middlewareStack.add((next) => async (args) => {
      const input = args.input as { Item?: { pk?: { S?: string } } };
      if (input.Item?.pk?.S === "raw-api#throttled") throw Object.assign(new Error("Rate of requests exceeds the allowed throughput."), { name: "ProvisionedThroughputExceededException", $fault: "client" });
      return next(args);
    }, { step: "initialize", name: "throttleOneClaim" });
    const event = sqsEvent([JSON.stringify([ingestEvent("first"), ingestEvent("second")]), JSON.stringify([ingestEvent("throttled"), ingestEvent("beside-it")]), JSON.stringify(ingestEvent("third"))], START);
    const throttledClaims = { ...deps(), claims: { dynamodb: throttling, tableName: CLAIMS, ttlSeconds: 3600 } };

    const response = await handleIngestQueueBatch(event, throttledClaims);

    expect(response.batchItemFailures).toEqual([{ itemIdentifier: event.Records[1].messageId }]);
    const [key] = await listKeys(s3, RAW, hourPrefix(event));
    const landed = (await readText(s3, RAW, key)).trim().split("\n").map((line) => JSON.parse(line).eventId);
    expect(landed).toEqual(["first", "second", "beside-it", "third"]);
    throttling.destroy();
  });

  it("reports the poison messages as failed when the quarantine cannot be written, and still lands the rest", async () => {
    const event = sqsEvent([JSON.stringify(ingestEvent("kept")), "{oops"], START);

    const response = await handleIngestQueueBatch(event, deps(RAW, "bucket-that-does-not-exist"));

    expect(response.batchItemFailures).toEqual([{ itemIdentifier: event.Records[1].messageId }]);
    const [key] = await listKeys(s3, RAW, hourPrefix(event));
    expect(JSON.parse(await readText(s3, RAW, key)).eventId).toBe("kept");
  });

  it("is idempotent: the same batch delivered twice overwrites its own object", async () => {
    const event = sqsEvent([JSON.stringify(ingestEvent("i1")), JSON.stringify(ingestEvent("i2"))], START);

    await handleIngestQueueBatch(event, deps());
    const first = await listKeys(s3, RAW, hourPrefix(event));
    const firstBody = await readText(s3, RAW, first[0]);
    await handleIngestQueueBatch(event, deps());

    expect(await listKeys(s3, RAW, hourPrefix(event))).toEqual(first);
    expect(await readText(s3, RAW, first[0])).toBe(firstBody);
  });

  it("reports every landing message when the raw bucket cannot be written, and quarantines the poison one", async () => {
    const event = sqsEvent([JSON.stringify(ingestEvent("w1")), JSON.stringify(ingestEvent("w2")), "nope"], START);

    const response = await handleIngestQueueBatch(event, deps("bucket-that-does-not-exist"));

    expect(response.batchItemFailures.map((failure) => failure.itemIdentifier)).toEqual([event.Records[0].messageId, event.Records[1].messageId]);
    expect(await quarantinedFrom(event)).toEqual([expect.objectContaining({ payload: expect.objectContaining({ data: "nope" }) })]);
  });

  it("ships as a serialisable factory that runs from its serialised text", async () => {
    const event = sqsEvent([JSON.stringify(ingestEvent("shipped")), "poison"], START);

    // An IP endpoint makes the SDK address buckets path-style, as s3rver needs, with the factory's default client.
    const response = await invokeShipped(queueConsumerFactory, {
      RAW_BUCKET: RAW,
      CLAIMS_TABLE: CLAIMS,
      CLAIM_TTL_SECONDS: "3600",
      STALE_CLAIM_MS: "120000",
      QUARANTINE_BUCKET: QUARANTINE,
      AWS_ENDPOINT_URL_S3: s3Server.endpoint,
      AWS_ENDPOINT_URL_DYNAMODB: dynamo.endpoint,
    }, event);

    expect(response).toEqual({ batchItemFailures: [] });
    expect(await quarantinedFrom(event)).toEqual([expect.objectContaining({ payload: expect.objectContaining({ data: "poison" }), functionVersion: "local:$LATEST" })]);
    const [key] = await listKeys(s3, RAW, hourPrefix(event));
    expect(JSON.parse(await readText(s3, RAW, key)).eventId).toBe("shipped");
  });

  it("parses one event or an array of events per message, and refuses oversized arrays", () => {
    expect(parseIngestMessage(JSON.stringify(ingestEvent("a")))).toMatchObject({ ok: true, events: [expect.objectContaining({ eventId: "a" })], rejected: [] });
    expect(parseIngestMessage(JSON.stringify(Array.from({ length: 501 }, (_, i) => ingestEvent(`n${i}`))))).toMatchObject({ ok: false });
  });
});

// Keep the default policy honest: bounded, and its worst case well inside a Lambda timeout.
it("bounds the default retry policy", () => {
  const worstCaseMs = Array.from({ length: DEFAULT_RETRY_POLICY.maxAttempts - 1 }, (_, i) => backoffDelayMs(i + 1, DEFAULT_RETRY_POLICY, () => 1)).reduce((a, b) => a + b, 0);
  expect(worstCaseMs).toBeLessThan(15_000);
});

describe("the ingest front against the local SQS server", () => {
  const ROUTES = ingestRouteTable([{ name: "orders", route: "/ingest/orders", schemaVersion: 3 }]);
  let server: LocalSqs;
  let sqs: SQSClient;
  let queueUrl: string;
  const logs: Record<string, unknown>[] = [];
  const deps = (url = queueUrl) => ({ sqs, queueUrl: url, routes: ROUTES, log: (entry: Record<string, unknown>) => logs.push(entry) });
  const request = (body: string, extra: Partial<APIGatewayProxyEventV2> = {}) =>
    ({ routeKey: "POST /ingest/orders", body, isBase64Encoded: false, requestContext: { requestId: "req-1" }, ...extra }) as unknown as APIGatewayProxyEventV2;
  const order = (id: string, extra: Record<string, unknown> = {}) =>
    ({ eventId: id, source: "orders", entityId: "order-1", eventType: "order.created", occurredAt: "2026-12-02T10:00:00Z", ...extra });

  beforeAll(async () => {
    server = await startSqsServer();
    sqs = localSqsClient(server.endpoint);
    ({ QueueUrl: queueUrl } = (await sqs.send(new CreateQueueCommand({ QueueName: "front" }))) as { QueueUrl: string });
  });
  afterAll(async () => {
    sqs.destroy();
    await server.stop();
  });

  it("sends the body as it came, with the route's source and schema version as message attributes", async () => {
    const body = JSON.stringify([order("f1"), order("f2", { schemaVersion: 3 })]);
    const response = await handleIngestRequest(request(body), deps());
    expect(response.statusCode).toBe(202);
    expect(JSON.parse(response.body as string)).toMatchObject({ accepted: 2, source: "orders", schemaVersion: 3 });
    const { Messages } = await sqs.send(new ReceiveMessageCommand({ QueueUrl: queueUrl, MessageAttributeNames: ["All"], WaitTimeSeconds: 1 }));
    expect(Messages).toHaveLength(1);
    expect(Messages![0].Body).toBe(body);
    expect(Messages![0].MessageAttributes).toEqual({
      source: { DataType: "String", StringValue: "orders" },
      schemaVersion: { DataType: "Number", StringValue: "3" },
    });
    expect(logs).toContainEqual(expect.objectContaining({ message: "Ingest request queued", source: "orders", events: 2 }));
  });

  it("decodes a base64 body before it checks it", async () => {
    const body = Buffer.from(JSON.stringify(order("b64"))).toString("base64");
    expect((await handleIngestRequest(request(body, { isBase64Encoded: true }), deps())).statusCode).toBe(202);
  });

  it("counts the attributes against the SQS limit: a body that fits alone but not with them is 413", async () => {
    const attributeBytes = sqsMessageBytes("", ingestMessageAttributes(ROUTES["POST /ingest/orders"]));
    expect(attributeBytes).toBeGreaterThan(0);
    const body = " ".repeat(SQS_MAX_MESSAGE_BYTES - attributeBytes + 1);
    expect((await handleIngestRequest(request(body), deps())).statusCode).toBe(413);
    // One byte less fits, and is then refused for what it is (an empty body), not for its size.
    expect((await handleIngestRequest(request(body.slice(1)), deps())).statusCode).toBe(400);
  });

  it("answers 503, queueing nothing, when the queue does not take the message", async () => {
    const response = await handleIngestRequest(request(JSON.stringify(order("lost"))), deps(`${server.endpoint}/000000000000/no-such-queue`));
    expect(response.statusCode).toBe(503);
    expect(JSON.parse(response.body as string).error).toMatchObject({ code: "BufferUnavailable", source: "orders" });
  });

  it("answers 404 for a route its table does not know, and reads its table from the environment", async () => {
    expect((await handleIngestRequest(request("{}", { routeKey: "POST /ingest/refunds" }), deps())).statusCode).toBe(404);
    expect(ingestFrontSettings({ INGEST_QUEUE_URL: "q", INGEST_ROUTES: JSON.stringify(ROUTES) })).toEqual({ queueUrl: "q", routes: ROUTES });
    expect(() => ingestFrontSettings({ INGEST_QUEUE_URL: "q", INGEST_ROUTES: "[" })).toThrow("INGEST_ROUTES must be the route table as JSON");
  });
});

describe("the queue consumer's source cross-check", () => {
  const event = { eventId: "e1", source: "payments", entityId: "p1", eventType: "payment.taken", occurredAt: "2026-12-02T10:00:00Z" };
  const attributed = (source: string) => ({ messageAttributes: { source: { dataType: "String", stringValue: source, stringListValues: [], binaryListValues: [] } } });
  it("keeps a message whose attribute matches, or that has none, and refuses one that does not match", () => {
    const parsed = parseIngestMessage(JSON.stringify(event));
    expect(checkSourceAttribute(parsed, attributed("payments"))).toBe(parsed);
    expect(checkSourceAttribute(parsed, { messageAttributes: {} })).toBe(parsed);
    expect(checkSourceAttribute(parsed, attributed("orders"))).toEqual({ ok: false, reason: 'the source attribute "orders" does not match event e1\'s source "payments"' });
  });
});
