/**
 * The aggregator as the image runs it: the esbuild bundle (scripts/service-bundle.ts) in a
 * child process with the contract's environment, against embedded PostgreSQL, s3rver and
 * the local SQS server. The staged objects come from the real Staging function
 * (functions/lake-staging.ts) fed with sample orders cleaned by the real Transformation
 * code, and each message is the S3 event s3rver's PutObject of the manifest produced, as
 * SNS raw delivery puts it in the queue. The expected rows are an independent SQL
 * aggregation of the seeded orders.
 */
import { CreateQueueCommand, GetQueueAttributesCommand, ReceiveMessageCommand, SQSClient, SendMessageCommand } from "@aws-sdk/client-sqs";
import { DeleteObjectCommand, PutObjectCommand, S3Client } from "@aws-sdk/client-s3";
import { ChildProcess, spawn } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { Client } from "pg";
import { cleanKeyFor } from "../functions/lake-layout";
import { jsonLines } from "../functions/lake-objects";
import { stageCleanObject } from "../functions/lake-staging";
import { transformText } from "../functions/lake-transform";
import { s3NotificationMessage } from "../local/event-sources";
import { SampleOrder, orderEvent, sampleOrders } from "../local/sample-data";
import { EMULATOR_CREDENTIALS, EMULATOR_REGION, LocalPostgres, LocalS3, exited, startPostgres, startS3rver } from "../local/servers";
import { LocalSqs, startSqsServer } from "../local/sqs-server";
import { localS3Client, localSqsClient } from "../local/clients";
import { bundleService } from "../scripts/service-bundle";

const TRANSFORMED = "agg-transformed";
const STAGED = "agg-staged";
const MAX_RECEIVES = 3;

let pg: LocalPostgres;
let s3Server: LocalS3;
let sqsServer: LocalSqs;
let s3: S3Client;
let sqs: SQSClient;
let queueUrl: string;
let dlqUrl: string;
let bundleDir: string;
let bundle: string;
const manifestEvents = new Map<string, string>();
/** Every valid order staged so far, by order id: the input of the independent aggregation. */
const seeded = new Map<string, SampleOrder>();

beforeAll(async () => {
  [pg, s3Server, sqsServer] = await Promise.all([startPostgres(), startS3rver([TRANSFORMED, STAGED]), startSqsServer()]);
  s3Server.onEvent((record) => {
    if (record.s3.object.key.startsWith("manifests/") && record.eventName.startsWith("ObjectCreated")) {
      manifestEvents.set(record.s3.object.key, JSON.stringify(s3NotificationMessage(record, "aggregator-manifests", EMULATOR_REGION)));
    }
  });
  s3 = localS3Client(s3Server.endpoint);
  sqs = localSqsClient(sqsServer.endpoint);
  const dlq = await sqs.send(new CreateQueueCommand({ QueueName: "aggregator-dlq" }));
  dlqUrl = dlq.QueueUrl!;
  const dlqArn = (await sqs.send(new GetQueueAttributesCommand({ QueueUrl: dlqUrl, AttributeNames: ["QueueArn"] }))).Attributes!.QueueArn;
  const queue = await sqs.send(
    new CreateQueueCommand({ QueueName: "aggregator", Attributes: { RedrivePolicy: JSON.stringify({ deadLetterTargetArn: dlqArn, maxReceiveCount: MAX_RECEIVES }) } }),
  );
  queueUrl = queue.QueueUrl!;
  bundleDir = fs.mkdtempSync(path.join(os.tmpdir(), "aggregator-bundle-"));
  bundle = (await bundleService("aggregator", bundleDir)).file;
});

afterAll(async () => {
  await Promise.all([pg?.stop(), s3Server?.stop(), sqsServer?.stop()]);
  if (bundleDir) fs.rmSync(bundleDir, { recursive: true, force: true });
});

// ---- Input: staged by the real staging code ----------------------------------------------

let batchCounter = 0;
/** Stages ingest events through Transformation's cleaning and the Staging function; returns the manifest key and the S3 event body. */
async function stage(events: Record<string, unknown>[]): Promise<{ manifestKey: string; body: string; files: string[] }> {
  const rawKey = `api/year=2026/month=12/day=01/hour=10/batch-${++batchCounter}.jsonl`;
  const cleanKey = cleanKeyFor(rawKey);
  const { clean } = transformText(jsonLines(events));
  await s3.send(new PutObjectCommand({ Bucket: TRANSFORMED, Key: cleanKey, Body: Buffer.from(jsonLines(clean)) }));
  const outcome = await stageCleanObject({ s3, stagedBucket: STAGED }, TRANSFORMED, cleanKey);
  const manifestKey = outcome.manifestKey!;
  await until(() => manifestEvents.has(manifestKey));
  return { manifestKey, body: manifestEvents.get(manifestKey)!, files: outcome.objects };
}

async function stageOrders(orders: SampleOrder[], extra: Record<string, unknown>[] = []) {
  orders.forEach((order) => seeded.set(order.orderId, order));
  return stage([...orders.map(orderEvent), ...extra]);
}

const send = (body: string) => sqs.send(new SendMessageCommand({ QueueUrl: queueUrl, MessageBody: body }));

async function until(condition: () => boolean | Promise<boolean>, what = "condition"): Promise<void> {
  for (let i = 0; i < 600; i++) {
    if (await condition()) return;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  throw new Error(`timed out waiting for ${what}`);
}

async function queueDepth(url: string): Promise<number> {
  const { Attributes = {} } = await sqs.send(
    new GetQueueAttributesCommand({ QueueUrl: url, AttributeNames: ["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"] }),
  );
  return Number(Attributes.ApproximateNumberOfMessages) + Number(Attributes.ApproximateNumberOfMessagesNotVisible);
}

// ---- The service as a child process --------------------------------------------------------

interface RunningService {
  readonly child: ChildProcess;
  readonly logs: Record<string, any>[];
  waitForLog(predicate: (line: Record<string, any>) => boolean, what: string): Promise<Record<string, any>>;
  stop(): Promise<number | null>;
}

async function startService(extraEnv: Record<string, string> = {}): Promise<RunningService> {
  const env = {
    PATH: process.env.PATH ?? "",
    AGGREGATOR_QUEUE_URL: queueUrl,
    STAGED_BUCKET: STAGED,
    DB_HOST: pg.host,
    DB_PORT: String(pg.port),
    DB_NAME: pg.database,
    DB_SECRET: JSON.stringify({ username: pg.user, password: pg.password }),
    DB_TLS: "false",
    AWS_REGION: EMULATOR_REGION,
    AWS_ACCESS_KEY_ID: EMULATOR_CREDENTIALS.accessKeyId,
    AWS_SECRET_ACCESS_KEY: EMULATOR_CREDENTIALS.secretAccessKey,
    AWS_ENDPOINT_URL_S3: s3Server.endpoint,
    AWS_ENDPOINT_URL_SQS: sqsServer.endpoint,
    LOG_LEVEL: "info",
    AGGREGATOR_HEALTH_PORT: "0",
    AGGREGATOR_WAIT_SECONDS: "1",
    AGGREGATOR_RETRY_BASE_SECONDS: "0",
    ...extraEnv,
  };
  const child = spawn(process.execPath, [bundle], { env, stdio: ["ignore", "pipe", "pipe"] });
  const logs: Record<string, any>[] = [];
  let stderr = "";
  let buffer = "";
  child.stderr!.on("data", (chunk) => (stderr += chunk));
  child.stdout!.on("data", (chunk: Buffer) => {
    buffer += chunk.toString();
    let newline: number;
    while ((newline = buffer.indexOf("\n")) >= 0) {
      const line = buffer.slice(0, newline);
      buffer = buffer.slice(newline + 1);
      logs.push(JSON.parse(line));
    }
  });
  const waitForLog = async (predicate: (line: Record<string, any>) => boolean, what: string) => {
    await until(() => {
      if (child.exitCode !== null) throw new Error(`the service exited (${child.exitCode}) before logging ${what}: ${stderr}\n${JSON.stringify(logs)}`);
      return logs.some(predicate);
    }, what);
    return logs.find(predicate)!;
  };
  await waitForLog((line) => line.msg === "Aggregator started", "its start");
  return {
    child,
    logs,
    waitForLog,
    async stop() {
      if (child.exitCode === null) child.kill("SIGTERM");
      await exited(child);
      return child.exitCode;
    },
  };
}

// ---- Rows ------------------------------------------------------------------------------------

const query = (sql: string, values: unknown[] = []) => pg.withClient(async (client) => (await client.query(sql, values)).rows);

const dailyRows = () => query("SELECT branch_code, sales_day::text AS day, orders, revenue::text AS revenue FROM reporting.daily_branch_sales ORDER BY 1, 2");

/** The expected daily rows: the seeded orders aggregated by PostgreSQL on their own, from the samples, not from the service's tables. */
async function expectedDailyRows() {
  return pg.withClient(async (client) => {
    await client.query("DROP TABLE IF EXISTS seeded_orders; CREATE TEMP TABLE seeded_orders (order_id text, branch text, amount numeric, ordered_at timestamptz)");
    const orders = [...seeded.values()];
    await client.query("INSERT INTO seeded_orders SELECT * FROM unnest($1::text[], $2::text[], $3::numeric[], $4::timestamptz[])", [
      orders.map((o) => o.orderId),
      orders.map((o) => o.branch),
      orders.map((o) => o.amount),
      orders.map((o) => o.orderedAt),
    ]);
    const { rows } = await client.query(
      "SELECT branch AS branch_code, (ordered_at AT TIME ZONE 'UTC')::date::text AS day, count(*)::int AS orders, sum(amount)::numeric(14,2)::text AS revenue FROM seeded_orders GROUP BY 1, 2 ORDER BY 1, 2",
    );
    return rows;
  });
}

const everyTable = async () => ({
  facts: await query("SELECT * FROM reporting.order_facts ORDER BY event_id"),
  daily: await query("SELECT * FROM reporting.daily_branch_sales ORDER BY branch_code, sales_day"),
  loads: await query("SELECT * FROM reporting.manifest_loads ORDER BY manifest_key"),
});

// ---- Scenarios, in order: each builds on the rows of the one before --------------------------

describe("the aggregator bundle against PostgreSQL, s3rver and SQS", () => {
  const ordersA = sampleOrders(240, 11, "agg-a");
  const ordersB = sampleOrders(180, 12, "agg-b");

  it("applies staged manifests into rows equal to an independent aggregation, ignoring what is not a manifest and logging invalid orders", async () => {
    const a = await stageOrders(ordersA);
    const shipped = { eventId: "evt-ship-1", source: "orders-api", entityId: "agg-b-000001", eventType: "order.shipped", occurredAt: "2026-12-01T09:00:00Z", payload: { carrier: "x" } };
    const badAmount = { eventId: "evt-bad-amount", source: "orders-api", entityId: "agg-bad", eventType: "order.created", occurredAt: "2026-12-01T09:00:00Z", payload: { branch: "north", amount: "12.345" } };
    const b = await stageOrders(ordersB, [shipped, badAmount]);
    // The same events staged again in a third manifest, with a few new ones: each counts once.
    const overlap = await stageOrders([...ordersA.slice(0, 30), ...sampleOrders(20, 13, "agg-c")]);
    const csvEvent = JSON.parse(a.body);
    csvEvent.Records[0].s3.object.key = a.files[0];

    await send(a.body);
    await send(JSON.stringify({ Type: "Notification", MessageId: "m-1", TopicArn: "arn:aws:sns:us-east-1:000000000000:lake-events", Message: b.body }));
    await send(overlap.body);
    await send(JSON.stringify({ Service: "Amazon S3", Event: "s3:TestEvent", Time: "2026-12-01T10:00:00.000Z", Bucket: STAGED, RequestId: "r", HostId: "h" }));
    await send(JSON.stringify(csvEvent));
    const service = await startService();
    await until(async () => (await queueDepth(queueUrl)) === 0, "the queue to drain");
    expect(await service.stop()).toBe(0);

    expect(await dailyRows()).toEqual(await expectedDailyRows());
    const loads = await query("SELECT manifest_key, events FROM reporting.manifest_loads ORDER BY 1");
    expect(loads).toEqual([a, b, overlap].map((m) => ({ manifest_key: m.manifestKey, events: m === a ? 240 : m === b ? 180 : 50 })).sort((x, y) => x.manifest_key.localeCompare(y.manifest_key)));
    expect(Number((await query("SELECT count(*) FROM reporting.order_facts"))[0].count)).toBe(seeded.size);
    expect(service.logs).toContainEqual(expect.objectContaining({ level: "warn", msg: "Order row rejected", eventId: "evt-bad-amount", reason: expect.stringMatching(/payload.amount "12.345"/) }));
    expect(service.logs).toContainEqual(expect.objectContaining({ msg: "Message ignored", reason: expect.stringMatching(/s3:TestEvent/) }));
    expect(service.logs).toContainEqual(expect.objectContaining({ msg: "Object ignored", key: a.files[0], reason: expect.stringMatching(/not a COPY manifest/) }));
    expect(service.logs).toContainEqual(expect.objectContaining({ msg: "Manifest applied", manifestKey: b.manifestKey, rejected: 1, otherEvents: 1 }));
    expect(await queueDepth(dlqUrl)).toBe(0);
    expect(JSON.stringify(service.logs)).not.toContain(pg.password);
  });

  it("leaves identical rows when the same manifests are delivered again", async () => {
    const before = await everyTable();
    for (const body of manifestEvents.values()) await send(body);
    const service = await startService();
    await until(async () => (await queueDepth(queueUrl)) === 0, "the queue to drain");
    expect(await service.stop()).toBe(0);

    expect(await everyTable()).toEqual(before);
    expect(service.logs.filter((line) => line.msg === "Manifest already applied, nothing written")).toHaveLength(manifestEvents.size);
  });

  it("sends a manifest naming a missing object back to the queue, then to the DLQ, without partial rows", async () => {
    const before = await everyTable();
    const broken = await stage(sampleOrders(60, 14, "agg-missing").map(orderEvent));
    expect(broken.files.length).toBeGreaterThan(1);
    await s3.send(new DeleteObjectCommand({ Bucket: STAGED, Key: broken.files[broken.files.length - 1] }));
    await send(broken.body);
    const service = await startService();
    await until(async () => (await queueDepth(dlqUrl)) === 1, "the message to reach the DLQ");
    expect(await service.stop()).toBe(0);

    expect(await everyTable()).toEqual(before);
    const failures = service.logs.filter((line) => line.msg.startsWith("Message failed"));
    expect(failures.map((line) => line.receiveCount)).toEqual([1, 2, 3]);
    for (const line of failures) expect(line.error).toContain(`mandatory file s3://${STAGED}/${broken.files[broken.files.length - 1]}`);
    const { Messages = [] } = await sqs.send(new ReceiveMessageCommand({ QueueUrl: dlqUrl, MaxNumberOfMessages: 10 }));
    expect(Messages.map((message) => message.Body)).toEqual([broken.body]);
  });

  describe("SIGTERM mid-work loses nothing", () => {
    let locker: Client;
    /** Holds order_facts locked, so the service's transaction waits inside its apply. */
    async function blockApplies() {
      locker = new Client(pg.config());
      await locker.connect();
      await locker.query("BEGIN; LOCK TABLE reporting.order_facts IN EXCLUSIVE MODE");
    }
    const unblock = async () => {
      await locker.query("ROLLBACK");
      await locker.end();
    };
    const serviceWaitsOnTheLock = async () =>
      Number((await query("SELECT count(*) FROM pg_stat_activity WHERE application_name = 'aggregator' AND wait_event_type = 'Lock'"))[0].count) === 1;

    it("releases the manifest in hand past the deadline, and a restart applies every manifest once", async () => {
      const manifests = [await stageOrders(sampleOrders(50, 21, "agg-t1")), await stageOrders(sampleOrders(50, 22, "agg-t2"))];
      // Started first: its schema statements at start would wait on the lock too.
      const first = await startService({ AGGREGATOR_SHUTDOWN_SECONDS: "1" });
      await blockApplies();
      for (const manifest of manifests) await send(manifest.body);
      await until(serviceWaitsOnTheLock, "the service to wait inside its transaction");
      expect(await first.stop()).toBe(0);
      await unblock();

      expect(first.logs).toContainEqual(expect.objectContaining({ msg: "Message released for another task", why: expect.stringMatching(/shutdown deadline/) }));
      expect(await query("SELECT manifest_key FROM reporting.manifest_loads WHERE manifest_key = ANY($1)", [manifests.map((m) => m.manifestKey)])).toEqual([]);

      const second = await startService();
      await until(async () => (await queueDepth(queueUrl)) === 0, "the queue to drain");
      expect(await second.stop()).toBe(0);
      expect(await dailyRows()).toEqual(await expectedDailyRows());
      expect(await query("SELECT count(*)::int AS n FROM reporting.manifest_loads WHERE manifest_key = ANY($1)", [manifests.map((m) => m.manifestKey)])).toEqual([{ n: 2 }]);
    });

    it("finishes the manifest in hand within the deadline, then stops", async () => {
      const manifest = await stageOrders(sampleOrders(40, 23, "agg-t3"));
      const service = await startService({ AGGREGATOR_SHUTDOWN_SECONDS: "60" });
      await blockApplies();
      await send(manifest.body);
      await until(serviceWaitsOnTheLock, "the service to wait inside its transaction");
      service.child.kill("SIGTERM");
      await service.waitForLog((line) => line.msg === "Stopping: finishing the manifest in hand", "the shutdown to start");
      await unblock();
      expect(await service.stop()).toBe(0);

      const messages = service.logs.map((line) => line.msg);
      expect(messages.indexOf("Message done and deleted")).toBeGreaterThan(messages.indexOf("Stopping"));
      expect(await queueDepth(queueUrl)).toBe(0);
      expect(await dailyRows()).toEqual(await expectedDailyRows());
    });
  });
});
