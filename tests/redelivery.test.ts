/**
 * Exactly one row per event id in every lake zone, under the redeliveries AWS makes:
 * SQS redelivering one message of a landed batch on its own, SQS grouping a redelivered
 * batch differently, an attempt that died between claiming and writing, a producer
 * sending one event twice, and on the stream path the same event under two sequence
 * numbers. The handlers run against dynalite (claims, speed layer), kinesalite (real
 * stream records) and s3rver (the three zones); the zones are then read back whole and
 * every event id counted. SQS and Kinesis events start from the samples Powertools and
 * aws-lambda-go publish.
 */
import { DynamoDBClient } from "@aws-sdk/client-dynamodb";
import { KinesisClient, PutRecordCommand } from "@aws-sdk/client-kinesis";
import { GetObjectCommand, PutObjectCommand, S3Client } from "@aws-sdk/client-s3";
import type { FirehoseTransformationEvent, KinesisStreamEvent, SQSEvent, SQSRecord } from "aws-lambda";
import { gunzipSync, gzipSync } from "zlib";
import { queueConsumerFactory, streamConsumerFactory, streamDeduplicationFactory } from "../components/ingestion/ingestion-layer";
import { ClaimStore } from "../functions/event-claims";
import { handleIngestQueueBatch } from "../functions/ingestion-queue-consumer";
import { handleStreamBatch } from "../functions/ingestion-stream-consumer";
import { handleCleanObjectsCreated } from "../functions/lake-staging";
import { handleRawObjectsCreated, splitRows } from "../functions/lake-transform";
import { dropRepeatedStreamEvents, newlineTerminated } from "../functions/stream-deduplication";
import {
  EMULATOR_REGION,
  RunningEmulator,
  createClaimsTable,
  createStreamAndWait,
  createTableAndWait,
  dynamoDbClient,
  invokeShipped,
  kinesisClient,
  kinesisEventOf,
  listKeys,
  readAllRecords,
  s3Client,
  scanAll,
  startDynalite,
  startKinesalite,
  startS3rver,
} from "./support/aws-emulators";
import { quarantinedIn, quarantinedUnder, testQuarantine } from "./support/quarantine";
import { ShippedInvocationFailed, invokeAsShipped } from "./support/shipped";
import { s3NotificationFor, thirdPartyEvent } from "./support/third-party-events";

const RAW = "zone-raw";
const TRANSFORMED = "zone-transformed";
const STAGED = "zone-staged";
const CLAIMS = "claims";
const SPEED_LAYER = "speed-layer";
const quiet = () => undefined;
const STALE_CLAIM_MS = 120_000;

/** The SQS samples published by Powertools (Python, TypeScript) and aws-lambda-go. */
const SQS_EVENTS = [
  "powertools-lambda-python/tests/events/sqsEvent.json",
  "powertools-lambda-typescript/examples/snippets/batch/samples/sampleSQSEvent.json",
  "powertools-lambda-typescript/packages/parser/tests/events/sqs/base.json",
  "aws-lambda-go/events/testdata/sqs-event.json",
];

/** The Kinesis samples published by Powertools (Python, TypeScript) and aws-lambda-go. */
const KINESIS_EVENTS = [
  "aws-lambda-go/events/testdata/kinesis-event.json",
  "powertools-lambda-python/tests/events/kinesisStreamEventOneRecord.json",
  "powertools-lambda-typescript/examples/snippets/batch/samples/sampleKinesisEvent.json",
  "powertools-lambda-typescript/packages/parser/tests/events/kinesis/stream.json",
];

function ingestEvent(id: string): Record<string, unknown> {
  return { eventId: id, source: "orders-api", entityId: `order-${id}`, eventType: "order.created", occurredAt: "2026-09-01T08:00:00Z", payload: { amount: 7 } };
}

/** A mutable clock shared by the claims store, so a test can let a claim grow stale. */
function testClock(start = Date.parse("2026-09-01T09:00:00Z")) {
  let now = start;
  return { now: () => now, advance: (ms: number) => void (now += ms) };
}

describe("each lake zone holds one row per event id under redelivery", () => {
  let s3Server: RunningEmulator;
  let dynamo: RunningEmulator;
  let kinesis: RunningEmulator;
  let s3: S3Client;
  let db: DynamoDBClient;
  let streams: KinesisClient;
  let clock: ReturnType<typeof testClock>;
  let claims: ClaimStore;
  let run = 0;

  beforeAll(async () => {
    [s3Server, dynamo, kinesis] = await Promise.all([startS3rver([RAW, TRANSFORMED, STAGED]), startDynalite(), startKinesalite()]);
    s3 = s3Client(s3Server);
    db = dynamoDbClient(dynamo);
    streams = kinesisClient(kinesis);
    await createClaimsTable(db, CLAIMS);
    await createTableAndWait(db, {
      TableName: SPEED_LAYER,
      BillingMode: "PAY_PER_REQUEST",
      AttributeDefinitions: [{ AttributeName: "pk", AttributeType: "S" }, { AttributeName: "sk", AttributeType: "S" }],
      KeySchema: [{ AttributeName: "pk", KeyType: "HASH" }, { AttributeName: "sk", KeyType: "RANGE" }],
    });
  });
  afterAll(async () => {
    s3.destroy();
    db.destroy();
    streams.destroy();
    await Promise.all([s3Server.stop(), dynamo.stop(), kinesis.stop()]);
  });
  beforeEach(() => {
    run++;
    clock = testClock();
    claims = { dynamodb: db, tableName: CLAIMS, ttlSeconds: 3600, now: clock.now };
  });

  // ---- reading the zones back ---------------------------------------------------------

  const text = async (bucket: string, key: string) => {
    const { Body } = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: key }));
    const bytes = await Body!.transformToByteArray();
    return (bytes[0] === 0x1f && bytes[1] === 0x8b ? gunzipSync(bytes) : Buffer.from(bytes)).toString("utf8");
  };
  const countIds = (ids: string[]) => ids.reduce((counts, id) => counts.set(id, (counts.get(id) ?? 0) + 1), new Map<string, number>());
  /** Rows per event id in each zone, for the ids a test used (its own prefix keeps tests apart). */
  async function rowsPerZone(idPrefix: string) {
    const ids = async (bucket: string, prefix: string, idsOf: (body: string) => string[]) =>
      (await Promise.all((await listKeys(s3, bucket, prefix)).map(async (key) => idsOf(await text(bucket, key))))).flat().filter((id) => id.startsWith(idPrefix));
    const fromJson = (field: string) => (body: string) => splitRows(body).map((row) => JSON.parse(row)[field] as string);
    const fromCsv = (body: string) => body.split("\n").slice(1).filter(Boolean).map((line) => JSON.parse(line.slice(0, line.indexOf('",') + 1)) as string);
    return {
      raw: countIds([...(await ids(RAW, "api/", fromJson("eventId"))), ...(await ids(RAW, "stream/", fromJson("eventId")))]),
      transformed: countIds(await ids(TRANSFORMED, "clean/", fromJson("event_id"))),
      staged: countIds(await ids(STAGED, "events/", fromCsv)),
    };
  }
  const onceEach = (ids: string[]) => new Map(ids.map((id) => [id, 1]));

  /** What the lake does with every raw object a test produced: Transformation, then Staging, on their notifications. */
  async function runLakeOn(rawPrefix: string) {
    for (const rawKey of await listKeys(s3, RAW, rawPrefix)) {
      const size = Buffer.byteLength(await text(RAW, rawKey));
      const [transformed] = await handleRawObjectsCreated(s3NotificationFor(KINESIS_S3_FIXTURE, RAW, rawKey, size), { s3, transformedBucket: TRANSFORMED, log: quiet, metric: quiet });
      if (transformed.cleanKey === undefined) continue;
      await handleCleanObjectsCreated(s3NotificationFor(KINESIS_S3_FIXTURE, TRANSFORMED, transformed.cleanKey, 1), { s3, stagedBucket: STAGED, log: quiet });
    }
  }
  const KINESIS_S3_FIXTURE = "powertools-lambda-typescript/packages/parser/tests/events/s3/base.json";

  // ---- the API path -------------------------------------------------------------------

  /** Messages built on a published SQS sample: ids, bodies and attributes ours, the record shape as published. */
  function sqsBatch(messages: { id: string; events: string[]; receiveCount?: number }[], fixture = SQS_EVENTS[0]): SQSEvent {
    const template = thirdPartyEvent<SQSEvent>(fixture).Records[0];
    const sent = Date.parse("2026-09-01T08:30:00Z") + run * 3_600_000;
    return {
      Records: messages.map(({ id, events, receiveCount }, index): SQSRecord => ({
        ...template,
        messageId: `run${run}-${id}`,
        receiptHandle: `${template.receiptHandle}-${id}-${receiveCount ?? 1}`,
        body: JSON.stringify(events.map((eventId) => ingestEvent(`run${run}-${eventId}`))),
        attributes: { ...template.attributes, ApproximateReceiveCount: String(receiveCount ?? 1), SentTimestamp: String(sent + index) },
      })),
    };
  }
  const consumer = (rawBucket = RAW) => ({ s3, rawBucket, claims, staleClaimMs: STALE_CLAIM_MS, log: quiet, quarantine: testQuarantine(s3, TRANSFORMED, "queue-consumer") });
  const ids = (...names: string[]) => names.map((name) => `run${run}-${name}`);
  const apiPrefix = () => `api/year=2026/month=09/day=01/hour=${String(8 + run).padStart(2, "0")}/`;

  it("keeps one row per event when SQS redelivers one message of a landed batch on its own (receive count 2)", async () => {
    expect(await handleIngestQueueBatch(sqsBatch([{ id: "m1", events: ["e1"] }, { id: "m2", events: ["e2"] }]), consumer())).toEqual({ batchItemFailures: [] });
    const afterFirst = await listKeys(s3, RAW, apiPrefix());

    const redelivery = await handleIngestQueueBatch(sqsBatch([{ id: "m1", events: ["e1"], receiveCount: 2 }]), consumer());
    await runLakeOn(apiPrefix());

    expect(redelivery).toEqual({ batchItemFailures: [] });
    expect(await listKeys(s3, RAW, apiPrefix())).toEqual(afterFirst);
    const zones = await rowsPerZone(`run${run}-`);
    expect(zones).toEqual({ raw: onceEach(ids("e1", "e2")), transformed: onceEach(ids("e1", "e2")), staged: onceEach(ids("e1", "e2")) });
  });

  it("keeps one row per event when a redelivered batch is split differently", async () => {
    await handleIngestQueueBatch(sqsBatch([{ id: "m1", events: ["e1"] }, { id: "m2", events: ["e2", "e3"] }, { id: "m3", events: ["e4"] }]), consumer());

    const first = await handleIngestQueueBatch(sqsBatch([{ id: "m2", events: ["e2", "e3"], receiveCount: 2 }, { id: "m4", events: ["e5"] }]), consumer());
    const second = await handleIngestQueueBatch(sqsBatch([{ id: "m3", events: ["e4"], receiveCount: 2 }, { id: "m1", events: ["e1"], receiveCount: 2 }]), consumer());
    await runLakeOn(apiPrefix());

    expect([first, second]).toEqual([{ batchItemFailures: [] }, { batchItemFailures: [] }]);
    const all = ids("e1", "e2", "e3", "e4", "e5");
    expect(await rowsPerZone(`run${run}-`)).toEqual({ raw: onceEach(all), transformed: onceEach(all), staged: onceEach(all) });
  });

  it("keeps one row per event when a producer sends the same event in two messages", async () => {
    await handleIngestQueueBatch(sqsBatch([{ id: "m1", events: ["e1", "e2"] }]), consumer());
    const resend = await handleIngestQueueBatch(sqsBatch([{ id: "m9", events: ["e2", "e3"] }, { id: "m8", events: ["e3"] }]), consumer());
    await runLakeOn(apiPrefix());

    expect(resend).toEqual({ batchItemFailures: [] });
    const all = ids("e1", "e2", "e3");
    expect(await rowsPerZone(`run${run}-`)).toEqual({ raw: onceEach(all), transformed: onceEach(all), staged: onceEach(all) });
  });

  it("lands the events of an attempt that died between claiming and writing, once, after its claims grow stale", async () => {
    const died = await handleIngestQueueBatch(sqsBatch([{ id: "m1", events: ["e1"] }, { id: "m2", events: ["e2"] }]), consumer("bucket-that-is-not-there"));
    expect(died.batchItemFailures).toHaveLength(2);

    // Redelivered while the claims are young: a live attempt could still be writing, so the message waits.
    const early = await handleIngestQueueBatch(sqsBatch([{ id: "m1", events: ["e1"], receiveCount: 2 }]), consumer());
    expect(early).toEqual({ batchItemFailures: [{ itemIdentifier: `run${run}-m1` }] });
    expect(await listKeys(s3, RAW, apiPrefix())).toEqual([]);

    clock.advance(STALE_CLAIM_MS + 1);
    const late = await handleIngestQueueBatch(sqsBatch([{ id: "m1", events: ["e1"], receiveCount: 3 }, { id: "m2", events: ["e2"], receiveCount: 2 }]), consumer());
    await runLakeOn(apiPrefix());

    expect(late).toEqual({ batchItemFailures: [] });
    const all = ids("e1", "e2");
    expect(await rowsPerZone(`run${run}-`)).toEqual({ raw: onceEach(all), transformed: onceEach(all), staged: onceEach(all) });
  });

  it("reports every landing message and writes nothing when the claims table cannot be used", async () => {
    const batch = sqsBatch([{ id: "m1", events: ["e1"] }, { id: "m2", events: ["e2"] }]);
    const response = await handleIngestQueueBatch(batch, { ...consumer(), claims: { ...claims, tableName: "no-such-table" } });

    expect(response.batchItemFailures.map((failure) => failure.itemIdentifier)).toEqual(batch.Records.map((record) => record.messageId));
    expect(await listKeys(s3, RAW, apiPrefix())).toEqual([]);
  });

  it.each(SQS_EVENTS)("quarantines the published sample's messages, which are not ingest events, and acknowledges them (%s)", async (fixture) => {
    const published = thirdPartyEvent<SQSEvent>(fixture);
    const logged: Record<string, unknown>[] = [];
    const response = await handleIngestQueueBatch(published, { ...consumer(), log: (entry) => logged.push(entry) });
    expect(response.batchItemFailures).toEqual([]);
    const quarantined = await quarantinedIn(s3, TRANSFORMED, logged);
    expect(quarantined.map((record) => (record.origin as { messageId: string }).messageId)).toEqual(published.Records.map((record) => record.messageId));
    expect(quarantined.map((record) => record.payload.data)).toEqual(published.Records.map((record) => record.body));
  });

  it.each(SQS_EVENTS)("lands the published sample's messages once their bodies are ingest events, and a redelivery adds nothing (%s)", async (fixture) => {
    const batch = sqsBatch([{ id: "m1", events: ["e1"] }, { id: "m2", events: ["e2"] }], fixture);
    expect(await handleIngestQueueBatch(batch, consumer())).toEqual({ batchItemFailures: [] });
    expect(await handleIngestQueueBatch({ Records: [batch.Records[1]] }, consumer())).toEqual({ batchItemFailures: [] });
    expect((await rowsPerZone(`run${run}-`)).raw).toEqual(onceEach(ids("e1", "e2")));
  });

  /** What a shipped consumer quarantined from one event: its entries, told apart by the function name it ran as. */
  const quarantinedBy = async (functionName: string, stage: string) =>
    (await quarantinedUnder(s3, TRANSFORMED, `quarantine/${stage}/`)).filter((record) => record.functionVersion === `${functionName}:7`);
  const shippedEnv = (functionName: string) => ({
    QUARANTINE_BUCKET: TRANSFORMED,
    AWS_LAMBDA_FUNCTION_NAME: functionName,
    AWS_LAMBDA_FUNCTION_VERSION: "7",
    AWS_ENDPOINT_URL_S3: s3Server.endpoint,
    AWS_ENDPOINT_URL_DYNAMODB: dynamo.endpoint,
  });

  it("as shipped, quarantines the published SQS sample's bodies with the reasons an operator reads, and acknowledges them", async () => {
    const published = thirdPartyEvent<SQSEvent>(SQS_EVENTS[0]);
    const functionName = `shipped-queue-consumer-${run}`;
    const env = { RAW_BUCKET: RAW, CLAIMS_TABLE: CLAIMS, CLAIM_TTL_SECONDS: "3600", STALE_CLAIM_MS: String(STALE_CLAIM_MS), ...shippedEnv(functionName) };

    expect(await invokeShipped(queueConsumerFactory, env, published)).toEqual({ batchItemFailures: [] });

    const quarantined = await quarantinedBy(functionName, "raw-api");
    expect(quarantined.map(({ payload, reason }) => [payload.data, reason])).toEqual([
      ["Test message.", `body is not JSON: Unexpected token 'T', "Test message." is not valid JSON`],
      ['{"message": "foo1"}', "eventId must be a string"],
    ]);
  });

  it("as shipped, quarantines the published Kinesis sample's records with the reasons an operator reads, and acknowledges them", async () => {
    const published = thirdPartyEvent<KinesisStreamEvent>(KINESIS_EVENTS[2]);
    const functionName = `shipped-stream-consumer-${run}`;
    const env = { SPEED_LAYER_TABLE: SPEED_LAYER, SPEED_LAYER_TTL_DAYS: "30", ...shippedEnv(functionName) };

    expect(await invokeShipped(streamConsumerFactory, env, published)).toEqual({ batchItemFailures: [] });

    const quarantined = await quarantinedBy(functionName, "speed-layer");
    expect(quarantined.map(({ payload, reason }) => [payload.data, reason])).toEqual([
      ['{"Message": "success"}', "eventId must be a string"],
      ["success", `not JSON: Unexpected token 's', "success" is not valid JSON`],
    ]);
  });

  it("runs as shipped: a single-message redelivery adds no raw object", async () => {
    const env = {
      RAW_BUCKET: RAW,
      CLAIMS_TABLE: CLAIMS,
      CLAIM_TTL_SECONDS: "3600",
      STALE_CLAIM_MS: String(STALE_CLAIM_MS),
      QUARANTINE_BUCKET: TRANSFORMED,
      AWS_ENDPOINT_URL_S3: s3Server.endpoint,
      AWS_ENDPOINT_URL_DYNAMODB: dynamo.endpoint,
    };
    const batch = sqsBatch([{ id: "m1", events: ["e1"] }, { id: "m2", events: ["e2"] }], SQS_EVENTS[3]);
    expect(await invokeShipped(queueConsumerFactory, env, batch)).toEqual({ batchItemFailures: [] });
    const afterFirst = await listKeys(s3, RAW, apiPrefix());

    expect(await invokeShipped(queueConsumerFactory, env, sqsBatch([{ id: "m2", events: ["e2"], receiveCount: 2 }], SQS_EVENTS[3]))).toEqual({ batchItemFailures: [] });

    expect(await listKeys(s3, RAW, apiPrefix())).toEqual(afterFirst);
    expect((await rowsPerZone(`run${run}-`)).raw).toEqual(onceEach(ids("e1", "e2")));
  });

  // ---- the stream path ----------------------------------------------------------------

  /** Puts each payload on a fresh stream, one PutRecord each (a producer retry is a second put), and reads them back. */
  async function streamRecords(payloads: Record<string, unknown>[]) {
    const streamName = `ingest-${run}-${Math.random().toString(36).slice(2, 8)}`;
    const streamArn = await createStreamAndWait(streams, streamName, 1);
    for (const payload of payloads) await streams.send(new PutRecordCommand({ StreamName: streamName, PartitionKey: String(payload.entityId), Data: Buffer.from(JSON.stringify(payload)) }));
    return { records: await readAllRecords(streams, streamName), streamArn };
  }

  /** The event Firehose hands its transformation Lambda for these stream records. */
  function firehoseEventOf(records: Awaited<ReturnType<typeof streamRecords>>["records"], streamArn: string, invocation: string): FirehoseTransformationEvent {
    return {
      invocationId: invocation,
      deliveryStreamArn: "arn:aws:firehose:us-east-1:123456789012:deliverystream/ingest-firehose",
      sourceKinesisStreamArn: streamArn,
      region: EMULATOR_REGION,
      records: records.map(({ shardId, record }) => ({
        recordId: `${invocation}-${record.SequenceNumber}`,
        approximateArrivalTimestamp: record.ApproximateArrivalTimestamp!.getTime(),
        data: Buffer.from(record.Data!).toString("base64"),
        kinesisRecordMetadata: {
          shardId,
          partitionKey: record.PartitionKey!,
          approximateArrivalTimestamp: record.ApproximateArrivalTimestamp!.getTime(),
          sequenceNumber: record.SequenceNumber!,
          subsequenceNumber: "0",
        },
      })),
    };
  }

  /** What Firehose writes for the records its transformation kept: their data back to back, gzipped, under stream/. */
  async function deliverToRaw(result: Awaited<ReturnType<typeof dropRepeatedStreamEvents>>, name: string): Promise<void> {
    const kept = result.records.filter((record) => record.result === "Ok").map((record) => Buffer.from(record.data!, "base64"));
    const key = `stream/year=2026/month=09/day=02/hour=${String(run % 24).padStart(2, "0")}/ingest-firehose-${name}.json.gz`;
    await s3.send(new PutObjectCommand({ Bucket: RAW, Key: key, Body: gzipSync(Buffer.concat(kept)) }));
  }
  const streamPrefix = () => `stream/year=2026/month=09/day=02/hour=${String(run % 24).padStart(2, "0")}/`;

  it("keeps one speed-layer item for the same event under two sequence numbers, in one batch or two", async () => {
    const event = ingestEvent(`run${run}-s1`);
    const { records, streamArn } = await streamRecords([event, event]);
    expect(new Set(records.map(({ record }) => record.SequenceNumber)).size).toBe(2);
    const deps = { dynamodb: db, tableName: SPEED_LAYER, ttlDays: 30, log: quiet, quarantine: testQuarantine(s3, TRANSFORMED, "stream-consumer") };

    await handleStreamBatch(kinesisEventOf(records, streamArn), deps);
    await handleStreamBatch(kinesisEventOf([records[1]], streamArn), deps);
    await handleStreamBatch(kinesisEventOf([records[0]], streamArn), deps);

    expect((await scanAll(db, SPEED_LAYER)).filter((item) => item.eventId === event.eventId)).toHaveLength(1);
  });

  it("keeps one row per event in the raw, transformed and staged zones for the same event under two sequence numbers", async () => {
    const [s1, s2, s3Event] = ["s1", "s2", "s3"].map((name) => ingestEvent(`run${run}-${name}`));
    const { records, streamArn } = await streamRecords([s1, s2, s1, s3Event, s2]);

    // Firehose buffers them in two invocations, and retries the first (its result went unseen).
    const first = await dropRepeatedStreamEvents(firehoseEventOf(records.slice(0, 3), streamArn, "inv-1"), { claims, log: quiet });
    const retried = await dropRepeatedStreamEvents(firehoseEventOf(records.slice(0, 3), streamArn, "inv-1"), { claims, log: quiet });
    const second = await dropRepeatedStreamEvents(firehoseEventOf(records.slice(3), streamArn, "inv-2"), { claims, log: quiet });

    expect(first.records.map((record) => record.result)).toEqual(["Ok", "Ok", "Dropped"]);
    expect(retried.records.map((record) => record.result)).toEqual(["Ok", "Ok", "Dropped"]);
    expect(second.records.map((record) => record.result)).toEqual(["Ok", "Dropped"]);
    expect(first.records.map((record) => record.recordId)).toEqual(firehoseEventOf(records.slice(0, 3), streamArn, "inv-1").records.map((record) => record.recordId));

    await deliverToRaw(first, "1");
    await deliverToRaw(second, "2");
    await runLakeOn(streamPrefix());
    const all = ids("s1", "s2", "s3");
    expect(await rowsPerZone(`run${run}-`)).toEqual({ raw: onceEach(all), transformed: onceEach(all), staged: onceEach(all) });
  });

  it("passes records that are not ingest events through, one per line, for the Transformation function to quarantine", async () => {
    const published = thirdPartyEvent<KinesisStreamEvent>(KINESIS_EVENTS[3]);
    const firehose: FirehoseTransformationEvent = {
      invocationId: "inv-text",
      deliveryStreamArn: "arn:aws:firehose:us-east-1:123456789012:deliverystream/ingest-firehose",
      region: EMULATOR_REGION,
      records: published.Records.map((record) => ({
        recordId: record.eventID,
        approximateArrivalTimestamp: record.kinesis.approximateArrivalTimestamp * 1000,
        data: record.kinesis.data,
        kinesisRecordMetadata: { shardId: record.eventID.split(":")[0], partitionKey: record.kinesis.partitionKey, approximateArrivalTimestamp: record.kinesis.approximateArrivalTimestamp * 1000, sequenceNumber: record.kinesis.sequenceNumber, subsequenceNumber: "0" },
      })),
    };
    const result = await dropRepeatedStreamEvents(firehose, { claims, log: quiet });
    const asLine = (data: string) => Buffer.concat([Buffer.from(data, "base64"), Buffer.from("\n")]).toString("base64");
    expect(result.records).toEqual(firehose.records.map((record) => ({ recordId: record.recordId, result: "Ok", data: asLine(record.data) })));
    expect(newlineTerminated(asLine("e30="))).toBe(asLine("e30="));
  });

  it("keeps the records, unclaimed, when the claims table cannot be used, rather than fail the buffer out of the lake", async () => {
    const { records, streamArn } = await streamRecords([ingestEvent(`run${run}-x`), ingestEvent(`run${run}-y`)]);
    const logged: Record<string, unknown>[] = [];
    const result = await dropRepeatedStreamEvents(firehoseEventOf(records, streamArn, "inv-x"), { claims: { ...claims, tableName: "no-such-table" }, log: (entry) => logged.push(entry) });
    expect(result.records.map((record) => record.result)).toEqual(["Ok", "Ok"]);
    expect(logged).toContainEqual(expect.objectContaining({ level: "WARN", unclaimed: 2, error: "Requested resource not found" }));
  });

  it("deduplicates as shipped", async () => {
    const event = ingestEvent(`run${run}-shipped`);
    const { records, streamArn } = await streamRecords([event, event]);
    const env = { CLAIMS_TABLE: CLAIMS, CLAIM_TTL_SECONDS: "3600", AWS_ENDPOINT_URL_DYNAMODB: dynamo.endpoint };
    const result = (await invokeShipped(streamDeduplicationFactory, env, firehoseEventOf(records, streamArn, "inv-shipped"))) as { records: { result: string }[] };
    expect(result.records.map((record) => record.result)).toEqual(["Ok", "Dropped"]);
  });

  it.each(KINESIS_EVENTS)("quarantines each record of the published Kinesis sample, which is not an ingest event, with its stream position (%s)", async (fixture) => {
    const published = thirdPartyEvent<KinesisStreamEvent>(fixture);
    const metrics: Record<string, unknown>[] = [];
    const logged: Record<string, unknown>[] = [];
    const quarantine = testQuarantine(s3, TRANSFORMED, "stream-consumer", metrics);
    const response = await handleStreamBatch(published, { dynamodb: db, tableName: SPEED_LAYER, ttlDays: 30, log: (entry) => logged.push(entry), quarantine });
    expect(response.batchItemFailures).toEqual([]);
    const quarantined = await quarantinedIn(s3, TRANSFORMED, logged);
    expect(quarantined.map((record) => (record.origin as { sequenceNumber: string }).sequenceNumber)).toEqual(published.Records.map((record) => record.kinesis.sequenceNumber));
    expect(quarantined.map((record) => record.payload.data)).toEqual(published.Records.map((record) => Buffer.from(record.kinesis.data, "base64").toString("utf8")));
    expect(metrics).toEqual([expect.objectContaining({ QuarantinedRecords: published.Records.length })]);
  });

  it.each(KINESIS_EVENTS)("writes one speed-layer item per event once the published sample's data is ingest events (%s)", async (fixture) => {
    const published = thirdPartyEvent<KinesisStreamEvent>(fixture);
    // Records with the same published data carry the same event: aws-lambda-go's two records are identical.
    const eventFor = new Map<string, Record<string, unknown>>();
    for (const record of published.Records) {
      if (!eventFor.has(record.kinesis.data)) eventFor.set(record.kinesis.data, ingestEvent(`run${run}-k${eventFor.size}`));
      record.kinesis.data = Buffer.from(JSON.stringify(eventFor.get(record.kinesis.data))).toString("base64");
    }
    const response = await handleStreamBatch(published, { dynamodb: db, tableName: SPEED_LAYER, ttlDays: 30, log: quiet, quarantine: testQuarantine(s3, TRANSFORMED, "stream-consumer") });
    expect(response).toEqual({ batchItemFailures: [] });
    const items = (await scanAll(db, SPEED_LAYER)).filter((item) => String(item.eventId).startsWith(`run${run}-`));
    expect(items.map((item) => item.eventId).sort()).toEqual([...eventFor.values()].map((event) => event.eventId).sort());
  });
});

describe("a setting the component would never set, as shipped", () => {
  const published = thirdPartyEvent<KinesisStreamEvent>(KINESIS_EVENTS[0]);
  const firehose: FirehoseTransformationEvent = {
    invocationId: "inv-cold-start",
    deliveryStreamArn: "arn:aws:firehose:eu-west-1:123456789012:deliverystream/dp-dev-ingestion-firehose",
    region: "eu-west-1",
    records: published.Records.map((record) => ({ recordId: record.eventID, approximateArrivalTimestamp: record.kinesis.approximateArrivalTimestamp * 1000, data: record.kinesis.data })),
  };

  it.each([
    ["stream consumer", streamConsumerFactory, { SPEED_LAYER_TABLE: "speed", SPEED_LAYER_TTL_DAYS: "7.5" }, published, 'SPEED_LAYER_TTL_DAYS must be a positive integer, not "7.5"'],
    ["queue consumer", queueConsumerFactory, { RAW_BUCKET: "raw", CLAIMS_TABLE: "claims", CLAIM_TTL_SECONDS: "3600", STALE_CLAIM_MS: "0" }, thirdPartyEvent<SQSEvent>(SQS_EVENTS[0]), 'STALE_CLAIM_MS must be a positive integer, not "0"'],
    ["stream deduplication", streamDeduplicationFactory, { CLAIMS_TABLE: "claims", CLAIM_TTL_SECONDS: "soon" }, firehose, 'CLAIM_TTL_SECONDS must be a positive integer, not "soon"'],
  ] as const)("fails the %s's cold start with an Error that names the setting and its value", async (_name, factory, env, event, message) => {
    const failure = await invokeAsShipped(factory, env, event).then(() => undefined, (error: unknown) => error);
    expect(failure).toBeInstanceOf(ShippedInvocationFailed);
    expect((failure as ShippedInvocationFailed).response).toMatchObject({ errorType: "Error", errorMessage: message });
  });
});
