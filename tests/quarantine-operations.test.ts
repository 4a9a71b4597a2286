/**
 * The operator's side of the quarantine (operations/quarantine.ts and the pure parts of
 * scripts/quarantine.ts) against real local servers: s3rver holds the quarantine,
 * kinesalite and the local SQS server receive replays, dynalite backs the handlers. The
 * quarantine is produced the real way: the stream consumer, the Transformation function
 * and the queue consumer are run on batches that hold poison records, so the entries,
 * keys and digests are the ones the handlers write.
 */
import { DynamoDBClient } from "@aws-sdk/client-dynamodb";
import { KinesisClient, PutRecordsCommand } from "@aws-sdk/client-kinesis";
import { CreateBucketCommand, PutObjectCommand, S3Client } from "@aws-sdk/client-s3";
import { CreateQueueCommand, GetQueueAttributesCommand, ReceiveMessageCommand, SQSClient, SendMessageBatchCommand } from "@aws-sdk/client-sqs";
import { NodeHttpHandler } from "@smithy/node-http-handler";
import type { KinesisStreamEvent, SQSEvent } from "aws-lambda";
import { handleIngestQueueBatch } from "../functions/ingestion-queue-consumer";
import { handleStreamBatch } from "../functions/ingestion-stream-consumer";
import { handleRawObjectsCreated } from "../functions/lake-transform";
import { FaultProxy, connectionReset, startFaultProxy } from "../local/fault-proxy";
import { s3NotificationMessage, sqsEventRecordOf } from "../local/event-sources";
import type { S3rverEventRecord } from "../local/servers";
import { LocalSqs, startSqsServer } from "../local/sqs-server";
import { QuarantineCase, REPLAY_MARK_PREFIX, ReplayDeps, ReplayOutcome, listQuarantine, parseFixes, replayQuarantined } from "../operations/quarantine";
import { parseQuarantineArgs, renderCases, replayDepsFor, targetFromOutputs } from "../scripts/quarantine";
import {
  EMULATOR_CREDENTIALS,
  EMULATOR_REGION,
  LocalS3,
  RunningEmulator,
  createClaimsTable,
  createSpeedLayerTable,
  createStreamAndWait,
  dynamoDbClient,
  kinesisClient,
  kinesisEventOf,
  listKeys,
  readAllRecords,
  readText,
  s3Client,
  startDynalite,
  startKinesalite,
  startS3rver,
} from "./support/aws-emulators";
import { testQuarantine } from "./support/quarantine";

const quiet = () => undefined;
const SPEED_LAYER = "speed-layer";
const CLAIMS = "claims";

function ingestEvent(id: string, overrides: Record<string, unknown> = {}): Record<string, unknown> {
  return { eventId: id, source: "orders-api", entityId: `order-${id}`, eventType: "order.created", occurredAt: "2026-12-01T10:00:00Z", payload: { amount: 12 }, ...overrides };
}

/** The poison a fixture sends, by name; `n` keeps each fixture's payloads (and so its digests and claims) its own. */
function poisonOf(n: number) {
  return {
    notJson: `{not json ${n}`,
    badTime: JSON.stringify(ingestEvent(`bad-time-${n}`, { occurredAt: "yesterday" })),
    noEntity: JSON.stringify(ingestEvent(`no-entity-${n}`, { entityId: "" })),
    queueBody: `{oops ${n}`,
    queueArrayEvent: ingestEvent(`array-bad-${n}`, { eventType: 7 }),
  };
}
type Poison = ReturnType<typeof poisonOf>;
/** The stream's poison goes under partition keys of its own, so a replay's key is traceable to its origin. */
const POISON_PARTITION_KEYS = { notJson: "poison-a", badTime: "poison-b", noEntity: "poison-c" } as const;

/** Everything a fixture produced: its own quarantine (transformed) bucket, and the batches, so a test can hand them to a handler again. */
interface Fixture {
  readonly n: number;
  readonly bucket: string;
  readonly rawBucket: string;
  readonly poison: Poison;
  readonly streamBatch: KinesisStreamEvent;
  readonly queueBatch: SQSEvent;
}

describe("quarantine operations against s3rver, kinesalite, dynalite and the SQS server", () => {
  let s3Server: LocalS3;
  let kinesisServer: RunningEmulator;
  let dynamoServer: RunningEmulator;
  let sqsServer: LocalSqs;
  let s3: S3Client;
  let kinesis: KinesisClient;
  let db: DynamoDBClient;
  let sqs: SQSClient;
  let counter = 0;
  // s3rver's notifications, so the Transformation function gets the event S3 would send for the raw object.
  const s3Events: S3rverEventRecord[] = [];

  beforeAll(async () => {
    [s3Server, kinesisServer, dynamoServer, sqsServer] = await Promise.all([startS3rver([]), startKinesalite(), startDynalite(), startSqsServer()]);
    s3Server.onEvent((record) => void s3Events.push(record));
    s3 = s3Client(s3Server);
    kinesis = kinesisClient(kinesisServer);
    db = dynamoDbClient(dynamoServer);
    sqs = new SQSClient({ region: EMULATOR_REGION, endpoint: sqsServer.endpoint, credentials: EMULATOR_CREDENTIALS });
    await Promise.all([createSpeedLayerTable(db, SPEED_LAYER), createClaimsTable(db, CLAIMS)]);
  });
  afterAll(async () => {
    for (const client of [s3, kinesis, db, sqs]) client.destroy();
    await Promise.all([s3Server.stop(), kinesisServer.stop(), dynamoServer.stop(), sqsServer.stop()]);
  });

  const streamDeps = (bucket: string) => ({ dynamodb: db, tableName: SPEED_LAYER, ttlDays: 1, log: quiet, quarantine: testQuarantine(s3, bucket, "stream-consumer") });
  const queueDeps = (fixture: Fixture) => ({
    s3,
    rawBucket: fixture.rawBucket,
    claims: { dynamodb: db, tableName: CLAIMS, ttlSeconds: 3600 },
    staleClaimMs: 60_000,
    log: quiet,
    quarantine: testQuarantine(s3, fixture.bucket, "queue-consumer"),
  });

  async function createQueue(name: string): Promise<{ url: string; arn: string }> {
    const { QueueUrl } = await sqs.send(new CreateQueueCommand({ QueueName: name }));
    const { Attributes } = await sqs.send(new GetQueueAttributesCommand({ QueueUrl, AttributeNames: ["QueueArn"] }));
    return { url: QueueUrl!, arn: Attributes!.QueueArn! };
  }

  async function receiveAll(queueUrl: string) {
    const { Messages = [] } = await sqs.send(new ReceiveMessageCommand({ QueueUrl: queueUrl, MaxNumberOfMessages: 10, WaitTimeSeconds: 0, MessageSystemAttributeNames: ["All"] }));
    return Messages;
  }

  /**
   * Runs the three handlers on batches with poison: the stream consumer on a real stream
   * batch, the Transformation function on the raw stream object Firehose would deliver
   * for the same records (so each stream poison record is quarantined twice), and the
   * queue consumer on messages received from the SQS server.
   */
  async function quarantineFixture(): Promise<Fixture> {
    const n = ++counter;
    const bucket = `transformed-${n}`;
    const rawBucket = `raw-${n}`;
    await Promise.all([bucket, rawBucket].map((Bucket) => s3.send(new CreateBucketCommand({ Bucket }))));
    const poison = poisonOf(n);

    const streamName = `source-${n}`;
    const streamArn = await createStreamAndWait(kinesis, streamName, 1);
    const streamRecords = [
      { PartitionKey: "good-1", Data: Buffer.from(JSON.stringify(ingestEvent(`s1-${n}`))) },
      { PartitionKey: POISON_PARTITION_KEYS.notJson, Data: Buffer.from(poison.notJson) },
      { PartitionKey: POISON_PARTITION_KEYS.badTime, Data: Buffer.from(poison.badTime) },
      { PartitionKey: "good-2", Data: Buffer.from(JSON.stringify(ingestEvent(`s2-${n}`))) },
      { PartitionKey: POISON_PARTITION_KEYS.noEntity, Data: Buffer.from(poison.noEntity) },
    ];
    await kinesis.send(new PutRecordsCommand({ StreamName: streamName, Records: streamRecords }));
    const streamBatch = kinesisEventOf(await readAllRecords(kinesis, streamName), streamArn);
    expect((await handleStreamBatch(streamBatch, streamDeps(bucket))).batchItemFailures).toEqual([]);

    // Firehose delivers the same bytes to raw stream/, one record per line (the dedup transformation newline-terminates them).
    const rawKey = `stream/year=2026/month=12/day=01/hour=10/firehose-${n}.json`;
    await s3.send(new PutObjectCommand({ Bucket: rawBucket, Key: rawKey, Body: streamRecords.map(({ Data }) => `${Data.toString("utf8")}\n`).join("") }));
    // s3rver emits the event before it answers the PUT.
    const created = s3Events.find((record) => record.s3.bucket.name === rawBucket && record.s3.object.key === rawKey && record.eventName.startsWith("ObjectCreated"));
    expect(created).toBeDefined();
    await handleRawObjectsCreated(s3NotificationMessage(created!, "lake", EMULATOR_REGION), { s3, transformedBucket: bucket, log: quiet, metric: quiet });

    const queue = await createQueue(`ingest-${n}`);
    const bodies = [JSON.stringify(ingestEvent(`q1-${n}`)), poison.queueBody, JSON.stringify([ingestEvent(`q2-${n}`), poison.queueArrayEvent])];
    await sqs.send(new SendMessageBatchCommand({ QueueUrl: queue.url, Entries: bodies.map((MessageBody, index) => ({ Id: String(index), MessageBody })) }));
    const messages = await receiveAll(queue.url);
    expect(messages).toHaveLength(3);
    const queueBatch: SQSEvent = { Records: messages.map((message) => sqsEventRecordOf(message, queue.arn)) };
    const fixture = { n, bucket, rawBucket, poison, streamBatch, queueBatch };
    expect((await handleIngestQueueBatch(queueBatch, queueDeps(fixture))).batchItemFailures).toEqual([]);
    return fixture;
  }

  /** The case whose (first entry's) payload is exactly `text`. */
  function caseHolding(cases: readonly QuarantineCase[], text: string): QuarantineCase {
    const found = cases.filter((quarantineCase) => quarantineCase.entries[0].record.payload.data === text);
    expect(found).toHaveLength(1);
    return found[0];
  }

  /** A fresh stream and queue to replay into, and the deps that point there. */
  async function replayTargets(fixture: Fixture, kinesisFor: KinesisClient = kinesis): Promise<ReplayDeps & { queueUrl: string }> {
    const streamName = `replay-${fixture.n}`;
    await createStreamAndWait(kinesis, streamName, 1);
    const queue = await createQueue(`replay-${fixture.n}`);
    return { s3, bucket: fixture.bucket, kinesis: kinesisFor, streamName, sqs, queueUrl: queue.url, now: () => new Date("2026-12-02T08:00:00Z") };
  }

  const replayed = async (streamName: string) => (await readAllRecords(kinesis, streamName)).map(({ record }) => ({ partitionKey: record.PartitionKey, data: Buffer.from(record.Data!).toString("utf8") }));
  const marks = async (bucket: string) => (await listKeys(s3, bucket, REPLAY_MARK_PREFIX)).map((key) => key.slice(REPLAY_MARK_PREFIX.length, -".json".length)).sort();

  describe("listing", () => {
    let fixture: Fixture;
    let cases: QuarantineCase[];
    beforeAll(async () => {
      fixture = await quarantineFixture();
      cases = await listQuarantine(s3, fixture.bucket);
    });

    it("gives one case per refused record, a stream record refused by the speed layer and the lake being one case with both stages", () => {
      // 3 stream poison records (each quarantined twice) and 2 refused by the queue consumer.
      expect(cases).toHaveLength(5);
      const { poison } = fixture;
      for (const text of [poison.notJson, poison.badTime, poison.noEntity]) {
        const quarantineCase = caseHolding(cases, text);
        // Entries come in the order their objects were written, which within a second of s3rver's clock is by key.
        expect(quarantineCase.replayTo).toBe("stream");
        expect([...quarantineCase.stages].sort()).toEqual(["lake-transform", "speed-layer"]);
        expect(quarantineCase.entries.map(({ record }) => record.origin.kind).sort()).toEqual(["kinesis", "s3"]);
        expect(new Set(quarantineCase.entries.map(({ record }) => record.id)).size).toBe(2);
      }
      expect(caseHolding(cases, poison.queueBody)).toMatchObject({ replayTo: "queue", stages: ["raw-api"], reasons: [expect.stringMatching(/^body is not JSON/)] });
      expect(caseHolding(cases, JSON.stringify(poison.queueArrayEvent))).toMatchObject({ replayTo: "queue", stages: ["raw-api"], entries: [expect.objectContaining({ record: expect.objectContaining({ origin: expect.objectContaining({ eventIndex: 1 }) }) })] });
      expect(caseHolding(cases, poison.badTime).reasons).toEqual([expect.stringContaining("occurredAt")]);
      expect(cases.every((quarantineCase) => quarantineCase.replayed === undefined)).toBe(true);
    });

    it("does not repeat entries when a batch is handled again, whole or bisected into another quarantine object", async () => {
      const before = await listKeys(s3, fixture.bucket, "quarantine/speed-layer/");
      await handleStreamBatch(fixture.streamBatch, streamDeps(fixture.bucket));
      await handleIngestQueueBatch(fixture.queueBatch, queueDeps(fixture));
      // Lambda's bisection redelivers the later half: its first poison record names a new object holding entries already listed.
      const laterHalf = { Records: fixture.streamBatch.Records.slice(2) };
      await handleStreamBatch(laterHalf, streamDeps(fixture.bucket));
      const after = await listKeys(s3, fixture.bucket, "quarantine/speed-layer/");
      expect(after.length).toBe(before.length + 1);

      const again = await listQuarantine(s3, fixture.bucket);
      expect(again.map(({ id }) => id).sort()).toEqual(cases.map(({ id }) => id).sort());
      expect(again.map(({ entries }) => entries.length).sort()).toEqual([1, 1, 2, 2, 2]);
    });

    it("filters by --stage and --since", async () => {
      const speedLayer = await listQuarantine(s3, fixture.bucket, { stage: "speed-layer" });
      expect(speedLayer).toHaveLength(3);
      expect(speedLayer.every(({ stages }) => stages.length === 1 && stages[0] === "speed-layer")).toBe(true);
      expect(await listQuarantine(s3, fixture.bucket, { stage: "raw-api" })).toHaveLength(2);
      expect(await listQuarantine(s3, fixture.bucket, { stage: "lake-transform" })).toHaveLength(3);

      // s3rver's LastModified has whole seconds: wait past the next one so the cut-off separates the two writes.
      const cutoff = new Date(Math.ceil(Date.now() / 1000) * 1000 + 1000);
      while (Date.now() < cutoff.getTime()) await new Promise((resolve) => setTimeout(resolve, cutoff.getTime() - Date.now() + 5));
      const streamName = `source-${fixture.n}`;
      await kinesis.send(new PutRecordsCommand({ StreamName: streamName, Records: [{ PartitionKey: "late", Data: Buffer.from("late poison") }] }));
      const records = await readAllRecords(kinesis, streamName);
      const laterBatch = kinesisEventOf(records.slice(-1), fixture.streamBatch.Records[0].eventSourceARN);
      await handleStreamBatch(laterBatch, streamDeps(fixture.bucket));

      const since = await listQuarantine(s3, fixture.bucket, { since: cutoff });
      expect(since.map((quarantineCase) => quarantineCase.entries[0].record.payload.data)).toEqual(["late poison"]);
      expect(await listQuarantine(s3, fixture.bucket, { since: new Date(0) })).toHaveLength(6);
      expect(await listQuarantine(s3, fixture.bucket, { since: new Date("2100-01-01T00:00:00Z") })).toEqual([]);
    });

    it("renders each case with its id, target, stages, reason, origin and payload", () => {
      const text = renderCases(cases);
      expect(text.split("\n")[0]).toBe("5 quarantined record(s):");
      const stream = caseHolding(cases, fixture.poison.notJson);
      expect(text).toContain(`- ${stream.id}  → stream  [${stream.stages.join(", ")}]  not replayed`);
      expect(stream.stages).toHaveLength(2);
      expect(text).toContain(`reason:  ${stream.reasons.join(" | ")}`);
      expect(text).toContain(`payload: ${Buffer.byteLength(fixture.poison.notJson)} bytes utf8: ${fixture.poison.notJson}`);
      // A block shows its first entry's origin: the stream position for the speed layer's, the raw object's row for the lake's.
      const lake = stream.entries.find(({ record }) => record.origin.kind === "s3")!.record.origin as { key: string; row: number };
      const kinesisOrigin = stream.entries.find(({ record }) => record.origin.kind === "kinesis")!.record.origin as { shardId: string; sequenceNumber: string };
      expect(text).toContain(stream.entries[0].record.origin.kind === "s3"
        ? `from:    s3://${fixture.rawBucket}/${lake.key} row ${lake.row}`
        : `from:    stream ${kinesisOrigin.shardId} #${kinesisOrigin.sequenceNumber} (partition key poison-a, arrived `);
      const queue = caseHolding(cases, fixture.poison.queueBody);
      const messageId = fixture.queueBatch.Records[1].messageId;
      expect(text).toContain(`- ${queue.id}  → queue  [raw-api]  not replayed`);
      expect(text).toContain(`from:    queue message ${messageId} (sent `);
      expect(text).toContain(`event 1 (sent `);
      expect(renderCases([])).toBe("The quarantine is empty.\n");
    });

    it("renders a stream origin with its shard, sequence number and partition key", async () => {
      const text = renderCases(await listQuarantine(s3, fixture.bucket, { stage: "speed-layer" }));
      const record = fixture.streamBatch.Records[1];
      expect(text).toContain(`from:    stream ${record.eventID.split(":")[0]} #${record.kinesis.sequenceNumber} (partition key poison-a, arrived `);
      expect(text).toContain("[speed-layer]");
    });
  });

  describe("replay into the stream", () => {
    let fixture: Fixture;
    let deps: ReplayDeps;
    let cases: QuarantineCase[];
    beforeAll(async () => {
      fixture = await quarantineFixture();
      deps = await replayTargets(fixture);
      cases = await listQuarantine(s3, fixture.bucket);
    });

    it("skips a payload that would be refused again, naming the reason, and sends nothing on a dry run", async () => {
      const badTime = caseHolding(cases, fixture.poison.badTime);
      expect(await replayQuarantined(deps, { ids: [badTime.id] })).toEqual([{ id: badTime.id, status: "skipped", reason: expect.stringMatching(/^the payload would be quarantined again: occurredAt/) }]);
      const notJson = caseHolding(cases, fixture.poison.notJson);
      expect(await replayQuarantined(deps, { ids: [notJson.id], force: true, dryRun: true })).toEqual([{ id: notJson.id, status: "would-replay", target: "stream", fixed: false }]);
      expect(await replayQuarantined(deps, { ids: ["no-such-id"] })).toEqual([{ id: "no-such-id", status: "skipped", reason: "no quarantine entry has this id" }]);
      expect(await replayed(deps.streamName)).toEqual([]);
      expect(await marks(fixture.bucket)).toEqual([]);
    });

    it("sends the exact bytes under the original partition key, marks every entry of the case, and skips a second replay unless forced", async () => {
      const notJson = caseHolding(cases, fixture.poison.notJson);
      // The lake's entry names the case as well as the speed layer's.
      const lakeEntryId = notJson.entries.find(({ record }) => record.stage === "lake-transform")!.record.id;
      const [outcome] = await replayQuarantined(deps, { ids: [lakeEntryId], force: true });
      expect(outcome).toEqual({ id: lakeEntryId, status: "replayed", target: "stream", receipt: expect.any(String), fixed: false, entries: 2 });
      const records = await readAllRecords(kinesis, deps.streamName);
      expect(records).toHaveLength(1);
      expect(records[0].record.PartitionKey).toBe(POISON_PARTITION_KEYS.notJson);
      expect(Buffer.from(records[0].record.Data!)).toEqual(Buffer.from(fixture.poison.notJson));
      expect(records[0].record.SequenceNumber).toBe((outcome as { receipt: string }).receipt);

      expect(await marks(fixture.bucket)).toEqual(notJson.entries.map(({ record }) => record.id).sort());
      const mark = JSON.parse(await readText(s3, fixture.bucket, `${REPLAY_MARK_PREFIX}${notJson.id}.json`));
      expect(mark).toEqual({ id: notJson.id, replayedAt: "2026-12-02T08:00:00.000Z", target: "stream", receipt: records[0].record.SequenceNumber, fixed: false });
      expect(caseHolding(await listQuarantine(s3, fixture.bucket), fixture.poison.notJson).replayed).toEqual(mark);
      expect(renderCases(await listQuarantine(s3, fixture.bucket))).toContain(`- ${notJson.id}  → stream  [${notJson.stages.join(", ")}]  replayed 2026-12-02T08:00:00.000Z`);

      const [second] = await replayQuarantined(deps, { ids: [notJson.id] });
      expect(second).toEqual({ id: notJson.id, status: "skipped", reason: expect.stringMatching(/^already replayed at 2026-12-02T08:00:00.000Z .*--force sends it again$/) });
      expect(await replayed(deps.streamName)).toHaveLength(1);
      expect((await replayQuarantined(deps, { ids: [notJson.id], force: true }))[0]).toMatchObject({ status: "replayed" });
      expect(await replayed(deps.streamName)).toHaveLength(2);
    });

    it("replays a fix in place of the payload, and validates it first", async () => {
      const badTime = caseHolding(cases, fixture.poison.badTime);
      const noEntity = caseHolding(cases, fixture.poison.noEntity);
      const fixed = ingestEvent(`bad-time-${fixture.n}`, { occurredAt: "2026-12-01T10:00:00Z" });
      const fixes = parseFixes([
        JSON.stringify({ id: badTime.entries[0].record.id, payload: fixed }),
        "",
        JSON.stringify({ id: noEntity.id, payload: { eventId: "still-bad" } }),
      ].join("\n"), "fixes.jsonl");

      const before = await replayed(deps.streamName);
      const outcomes = await replayQuarantined(deps, { ids: [badTime.id, noEntity.id], fixes });
      expect(outcomes).toEqual([
        { id: badTime.id, status: "replayed", target: "stream", receipt: expect.any(String), fixed: true, entries: 2 },
        { id: noEntity.id, status: "skipped", reason: expect.stringMatching(/^the fix would be quarantined again: /) },
      ]);
      expect((await replayed(deps.streamName)).slice(before.length)).toEqual([{ partitionKey: POISON_PARTITION_KEYS.badTime, data: JSON.stringify(fixed) }]);
      expect(JSON.parse(await readText(s3, fixture.bucket, `${REPLAY_MARK_PREFIX}${badTime.id}.json`))).toMatchObject({ fixed: true });
      expect(await marks(fixture.bucket)).not.toContain(noEntity.id);
    });
  });

  it("skips replaying, as it was, a stream record the speed layer refused although it meets the contract", async () => {
    const n = ++counter;
    const bucket = `transformed-${n}`;
    await s3.send(new CreateBucketCommand({ Bucket: bucket }));
    const streamName = `source-${n}`;
    const streamArn = await createStreamAndWait(kinesis, streamName, 1);
    // Valid JSON and a valid event, but DynamoDB's marshalling refuses an integer beyond 2^53 (written as text: a JS number would round it).
    const tooBig = JSON.stringify(ingestEvent(`too-big-${n}`, { payload: { amount: 0 } })).replace('"amount":0', '"amount":12345678901234567890');
    await kinesis.send(new PutRecordsCommand({ StreamName: streamName, Records: [{ PartitionKey: "too-big", Data: Buffer.from(tooBig) }] }));
    await handleStreamBatch(kinesisEventOf(await readAllRecords(kinesis, streamName), streamArn), streamDeps(bucket));
    const [quarantineCase] = await listQuarantine(s3, bucket);
    expect(quarantineCase).toMatchObject({ stages: ["speed-layer"], reasons: [expect.stringContaining("MAX_SAFE_INTEGER")] });

    const deps = { s3, bucket, kinesis, streamName: `replay-${n}`, sqs, queueUrl: "unused" };
    await createStreamAndWait(kinesis, deps.streamName, 1);
    expect(await replayQuarantined(deps, { ids: [quarantineCase.id] })).toEqual([
      { id: quarantineCase.id, status: "skipped", reason: `the payload would be quarantined again: ${quarantineCase.reasons[0]}` },
    ]);
    expect(await replayed(deps.streamName)).toEqual([]);
  });

  describe("replay into the queue", () => {
    it("sends the fixed body to the ingest queue and marks the case", async () => {
      const fixture = await quarantineFixture();
      const deps = await replayTargets(fixture);
      const cases = await listQuarantine(s3, fixture.bucket);
      const body = caseHolding(cases, fixture.poison.queueBody);
      const fixedBody = [ingestEvent(`fixed-body-${fixture.n}`), ingestEvent(`fixed-body-2-${fixture.n}`)];
      const fixes = parseFixes(JSON.stringify({ id: body.id, payload: fixedBody }), "fixes.jsonl");

      const [outcome] = await replayQuarantined(deps, { ids: [body.id], fixes });
      expect(outcome).toMatchObject({ id: body.id, status: "replayed", target: "queue", fixed: true, entries: 1 });
      const messages = await receiveAll(deps.queueUrl);
      expect(messages.map((message) => ({ id: message.MessageId, body: message.Body }))).toEqual([{ id: (outcome as { receipt: string }).receipt, body: JSON.stringify(fixedBody) }]);
      expect(await replayed(deps.streamName)).toEqual([]);
      expect(await marks(fixture.bucket)).toEqual([body.id]);
    });
  });

  describe("resuming a replay that stopped halfway", () => {
    let proxy: FaultProxy;
    let proxied: KinesisClient;
    beforeAll(async () => {
      proxy = await startFaultProxy(kinesisServer.endpoint);
      proxied = new KinesisClient({ region: EMULATOR_REGION, endpoint: proxy.endpoint, credentials: EMULATOR_CREDENTIALS, requestHandler: new NodeHttpHandler(), maxAttempts: 2 });
    });
    afterAll(async () => {
      proxied.destroy();
      await proxy.stop();
    });

    it("leaves the cases sent before the failure marked, and a second run sends only the rest", async () => {
      const fixture = await quarantineFixture();
      const deps = await replayTargets(fixture, proxied);
      const cases = await listQuarantine(s3, fixture.bucket);
      const ids = [fixture.poison.notJson, fixture.poison.badTime, fixture.poison.noEntity].map((text) => caseHolding(cases, text).id);
      // Each record fixed, so the run needs no --force and a rerun skips what was sent.
      const fixes = new Map(ids.map((id, index) => [id, Buffer.from(JSON.stringify(ingestEvent(`resumed-${index}-${fixture.n}`)))]));
      const seen: ReplayOutcome[] = [];
      // After the first record is sent, the stream's connection resets on every request: the run fails on the second id.
      const run = replayQuarantined(deps, { ids, fixes }, (outcome) => {
        seen.push(outcome);
        proxy.setRules([connectionReset(1)]);
      });
      await expect(run).rejects.toThrow();
      expect(seen.map(({ id, status }) => ({ id, status }))).toEqual([{ id: ids[0], status: "replayed" }]);
      expect(await marks(fixture.bucket)).toEqual(caseHolding(cases, fixture.poison.notJson).entries.map(({ record }) => record.id).sort());
      expect(await replayed(deps.streamName)).toHaveLength(1);

      proxy.setRules([]);
      const resumed = await replayQuarantined(deps, { ids, fixes });
      expect(resumed.map(({ id, status }) => ({ id, status }))).toEqual([
        { id: ids[0], status: "skipped" },
        { id: ids[1], status: "replayed" },
        { id: ids[2], status: "replayed" },
      ]);
      expect((await replayed(deps.streamName)).map(({ partitionKey }) => partitionKey)).toEqual(["poison-a", "poison-b", "poison-c"]);
      expect(await marks(fixture.bucket)).toHaveLength(6);
    });
  });
});

describe("the quarantine CLI's arguments", () => {
  const USAGE = /Usage: npm run quarantine/;
  it.each([
    ["no command", ["--stack", "dev"], /^Say list or replay/],
    ["two commands", ["--stack", "dev", "list", "replay"], /^Say list or replay/],
    ["an unknown command", ["--stack", "dev", "show"], /^Say list or replay/],
    ["no --stack", ["list"], /^--stack is required/],
    ["--stack without a value", ["list", "--stack"], /^--stack needs a value/],
    ["an unknown --stage", ["--stack", "dev", "list", "--stage", "speed"], /^--stage must be one of speed-layer, raw-api, lake-transform/],
    ["a --since that is not a date", ["--stack", "dev", "list", "--since", "yesterday"], /^--since must be an ISO-8601 date-time, not "yesterday"/],
    ["replay without --ids", ["--stack", "dev", "replay"], /^replay needs --ids/],
    ["an unknown flag", ["--stack", "dev", "list", "--stages", "raw-api"], /^Unknown flag --stages/],
    ["a --format other than text or json", ["--stack", "dev", "list", "--format", "yaml"], /^--format must be text or json, not "yaml"/],
    ["a flag whose value is the next flag", ["--stack", "dev", "replay", "--ids", "--force"], /^--ids needs a value/],
  ])("refuses %s, naming the problem", (_case, argv, message) => {
    expect(() => parseQuarantineArgs(argv)).toThrow(message);
  });

  it("names the usage where the command line's shape is wrong", () => {
    expect(() => parseQuarantineArgs(["list"])).toThrow(USAGE);
  });

  it("reads flags, inline values and switches", () => {
    expect(parseQuarantineArgs(["--stack=prod", "replay", "--ids", "a,b", "--fixes", "f.jsonl", "--dry-run", "--force"])).toEqual({
      command: "replay",
      stack: "prod",
      flags: { stack: "prod", ids: "a,b", fixes: "f.jsonl" },
      switches: new Set(["dry-run", "force"]),
    });
    expect(parseQuarantineArgs(["list", "--stack", "dev", "--stage", "raw-api", "--since", "2026-12-01T00:00:00Z", "--format", "json"]).flags).toEqual({
      stack: "dev", stage: "raw-api", since: "2026-12-01T00:00:00Z", format: "json",
    });
  });

  it("parseFixes names the line that is not JSON or lacks id or payload", () => {
    expect(() => parseFixes(`${JSON.stringify({ id: "a", payload: {} })}\n{nope`, "fixes.jsonl")).toThrow(/^fixes.jsonl line 2 is not JSON/);
    expect(() => parseFixes(JSON.stringify({ payload: {} }), "fixes.jsonl")).toThrow('fixes.jsonl line 1 needs "id" (an entry id) and "payload"');
    expect(() => parseFixes(JSON.stringify({ id: "a" }), "fixes.jsonl")).toThrow('fixes.jsonl line 1 needs "id" (an entry id) and "payload"');
    expect(parseFixes(JSON.stringify({ id: "a", payload: "raw text" }), "f").get("a")).toEqual(Buffer.from("raw text"));
  });
});

describe("the quarantine CLI's target", () => {
  const outputs = { transformedBucketName: "t", ingestStreamName: "s", ingestQueueUrl: "https://sqs/q" };

  it.each(["transformedBucketName", "ingestStreamName", "ingestQueueUrl"])("names a missing %s output", (missing) => {
    const partial: Record<string, unknown> = { ...outputs, [missing]: undefined };
    expect(() => targetFromOutputs(partial, "eu-west-1", "outputs.json")).toThrow(`outputs.json has no "${missing}" output`);
    expect(() => targetFromOutputs({ ...outputs, [missing]: "" }, "eu-west-1", "outputs.json")).toThrow(`outputs.json has no "${missing}" output`);
  });

  it("takes the stack's region unless the outputs name one, and the local endpoints when present", () => {
    expect(targetFromOutputs(outputs, "eu-west-1", "o")).toEqual({ region: "eu-west-1", transformedBucketName: "t", ingestStreamName: "s", ingestQueueUrl: "https://sqs/q", endpoints: undefined });
    const local = targetFromOutputs({ ...outputs, region: "us-east-1", endpoints: { s3: "http://127.0.0.1:1" } }, "eu-west-1", "o");
    expect(local).toMatchObject({ region: "us-east-1", endpoints: { s3: "http://127.0.0.1:1" } });
  });

  it("gives local endpoints the local servers' credentials and HTTP/1.1 for Kinesis, and real AWS its own chain", async () => {
    const local = replayDepsFor(targetFromOutputs({ ...outputs, endpoints: { s3: "http://127.0.0.1:1", kinesis: "http://127.0.0.1:2", sqs: "http://127.0.0.1:3" } }, "us-east-1", "o"));
    expect(await local.s3.config.credentials()).toMatchObject(EMULATOR_CREDENTIALS);
    expect(await local.kinesis.config.credentials()).toMatchObject(EMULATOR_CREDENTIALS);
    expect(local.kinesis.config.requestHandler).toBeInstanceOf(NodeHttpHandler);
    expect(local.s3.config.forcePathStyle).toBe(true);
    const aws = replayDepsFor(targetFromOutputs(outputs, "eu-west-1", "o"));
    expect(aws.s3.config.forcePathStyle).toBe(false);
    expect(await aws.s3.config.region()).toBe("eu-west-1");
    for (const deps of [local, aws]) for (const client of [deps.s3, deps.kinesis, deps.sqs]) client.destroy();
  });
});
