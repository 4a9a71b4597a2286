/**
 * `npm run bench`: measures the two hot paths against the same local servers the tests
 * use, and writes the figures to out/bench.json. Machines here are noisy, so each figure
 * is the median of several rounds and the verdicts are ratios measured in the same run.
 *
 * 1. Speed layer: the stream consumer's BatchWriteItem chunks of 25 vs one PutItem per
 *    record (what a naive consumer does), on dynalite.
 * 2. Reporting reads: cache-aside hits on redis-server vs running the report query on
 *    PostgreSQL every time; and how many loads 50 concurrent misses cost (single-flight).
 */
import { PutItemCommand } from "@aws-sdk/client-dynamodb";
import { S3Client } from "@aws-sdk/client-s3";
import type { KinesisStreamEvent } from "aws-lambda";
import * as fs from "fs";
import Redis from "ioredis";
import * as path from "path";
import { createCacheAside } from "../functions/cache-aside";
import { handleStreamBatch, speedLayerItem } from "../functions/ingestion-stream-consumer";
import { validateIngestEvent } from "../functions/ingestion-events";
import { createTableAndWait, dynamoDbClient, startDynalite } from "../tests/support/aws-emulators";
import { startPostgres, startRedis } from "../tests/support/local-databases";
import { PROJECT_DIR } from "./engine";

/** Every benchmark record is valid, so nothing is quarantined; a write here would fail loudly on the unreachable endpoint. */
const NO_POISON_EXPECTED = { s3: new S3Client({ region: "us-east-1", endpoint: "http://127.0.0.1:9" }), bucket: "no-quarantine-in-the-benchmark", functionName: "bench", functionVersion: "bench:$LATEST" };

const ROUNDS = 5;
const RECORDS_PER_BATCH = 500;
const CACHE_READS = 2_000;
const REPORT_ROWS = 200_000;
const CONCURRENT_MISSES = 50;

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[middle] : (sorted[middle - 1] + sorted[middle]) / 2;
}

async function timeMs(work: () => Promise<unknown>): Promise<number> {
  const started = process.hrtime.bigint();
  await work();
  return Number(process.hrtime.bigint() - started) / 1e6;
}

function ingestEvent(round: number, index: number) {
  return {
    eventId: `bench-${round}-${index}`,
    source: "bench",
    entityId: `entity-${index % 50}`,
    eventType: "order.created",
    occurredAt: new Date(Date.UTC(2026, 10, 21, 12, 0, index % 60)).toISOString(),
    payload: { amount: index, currency: "EUR" },
  };
}

function kinesisBatch(round: number): KinesisStreamEvent {
  return {
    Records: Array.from({ length: RECORDS_PER_BATCH }, (_, index) => ({
      eventID: `shardId-000000000000:${round}-${index}`,
      eventName: "aws:kinesis:record",
      eventVersion: "1.0",
      eventSource: "aws:kinesis",
      eventSourceARN: "arn:aws:kinesis:us-east-1:123456789012:stream/bench",
      awsRegion: "us-east-1",
      invokeIdentityArn: "arn:aws:iam::123456789012:role/bench",
      kinesis: {
        kinesisSchemaVersion: "1.0",
        partitionKey: `pk-${index}`,
        sequenceNumber: String(10n ** 20n + BigInt(round * RECORDS_PER_BATCH + index)),
        approximateArrivalTimestamp: 0,
        data: Buffer.from(JSON.stringify(ingestEvent(round, index))).toString("base64"),
      },
    })),
  };
}

async function benchSpeedLayer() {
  const dynamo = await startDynalite();
  const client = dynamoDbClient(dynamo);
  try {
    const batched: number[] = [];
    const perItem: number[] = [];
    for (let round = 0; round < ROUNDS; round++) {
      for (const mode of ["batched", "perItem"] as const) {
        const tableName = `bench-${mode}-${round}`;
        await createTableAndWait(client, {
          TableName: tableName,
          BillingMode: "PAY_PER_REQUEST",
          AttributeDefinitions: [{ AttributeName: "pk", AttributeType: "S" }, { AttributeName: "sk", AttributeType: "S" }],
          KeySchema: [{ AttributeName: "pk", KeyType: "HASH" }, { AttributeName: "sk", KeyType: "RANGE" }],
        });
        const event = kinesisBatch(round);
        if (mode === "batched") {
          const ms = await timeMs(async () => {
            const result = await handleStreamBatch(event, { dynamodb: client, tableName, ttlDays: 30, log: () => undefined, quarantine: NO_POISON_EXPECTED });
            if (result.batchItemFailures.length > 0) throw new Error(`bench batch had ${result.batchItemFailures.length} failures`);
          });
          batched.push(ms);
        } else {
          // The same items the consumer writes, one request each, in shard order.
          const items = event.Records.map((record) => {
            const decoded = validateIngestEvent(JSON.parse(Buffer.from(record.kinesis.data, "base64").toString()));
            if (!decoded.ok) throw new Error(decoded.reason);
            return speedLayerItem(decoded.event, record.kinesis.sequenceNumber, 30);
          });
          perItem.push(await timeMs(async () => {
            for (const item of items) await client.send(new PutItemCommand({ TableName: tableName, Item: item }));
          }));
        }
      }
    }
    const batchedMs = median(batched);
    const perItemMs = median(perItem);
    return {
      recordsPerBatch: RECORDS_PER_BATCH,
      rounds: ROUNDS,
      batchWriteMedianMs: round1(batchedMs),
      putItemMedianMs: round1(perItemMs),
      batchWriteRecordsPerSecond: Math.round((RECORDS_PER_BATCH / batchedMs) * 1000),
      putItemRecordsPerSecond: Math.round((RECORDS_PER_BATCH / perItemMs) * 1000),
      speedupBatchOverPutItem: round1(perItemMs / batchedMs),
    };
  } finally {
    client.destroy();
    await dynamo.stop();
  }
}

const REPORT_SQL = `
  SELECT branch, date_trunc('day', sold_at) AS day, count(*) AS sales, sum(amount) AS revenue
  FROM sales WHERE branch = $1 GROUP BY branch, day ORDER BY day`;

async function benchReportingReads() {
  const [postgres, redisServer] = await Promise.all([startPostgres(), startRedis()]);
  const redis = new Redis({ host: redisServer.host, port: redisServer.port, password: redisServer.password, maxRetriesPerRequest: 1 });
  try {
    return await postgres.withClient(async (db) => {
      await db.query("CREATE TABLE sales (branch text, sold_at timestamptz, amount numeric)");
      await db.query(
        `INSERT INTO sales SELECT 'branch-' || (i % 20), timestamptz '2026-11-01' + (i % 720) * interval '1 hour', (i % 97) + 0.5
         FROM generate_series(1, ${REPORT_ROWS}) AS i`,
      );
      await db.query("ANALYZE sales");
      const runReport = async () => (await db.query(REPORT_SQL, ["branch-7"])).rows;
      const cache = createCacheAside(redis, { namespace: "bench", schemaVersion: 1 });
      await cache.getOrLoad("daily-sales:branch-7", 300, runReport); // warm the entry

      const direct: number[] = [];
      const cached: number[] = [];
      const reads = CACHE_READS / ROUNDS;
      for (let round = 0; round < ROUNDS; round++) {
        direct.push(await timeMs(async () => { for (let i = 0; i < reads / 20; i++) await runReport(); }) / (reads / 20));
        cached.push(await timeMs(async () => { for (let i = 0; i < reads; i++) await cache.getOrLoad("daily-sales:branch-7", 300, runReport); }) / reads);
      }

      let loads = 0;
      const cold = createCacheAside(redis, { namespace: "bench-cold", schemaVersion: Date.now() });
      await Promise.all(Array.from({ length: CONCURRENT_MISSES }, () => cold.getOrLoad("daily-sales:branch-3", 300, async () => { loads++; return runReport(); })));

      const directMs = median(direct);
      const cachedMs = median(cached);
      return {
        reportRows: REPORT_ROWS,
        rounds: ROUNDS,
        directQueryMedianMs: round3(directMs),
        cacheHitMedianMs: round3(cachedMs),
        speedupCacheHitOverQuery: round1(directMs / cachedMs),
        concurrentMisses: CONCURRENT_MISSES,
        loaderCallsForConcurrentMisses: loads,
      };
    });
  } finally {
    redis.disconnect();
    await Promise.all([postgres.stop(), redisServer.stop()]);
  }
}

const round1 = (value: number) => Math.round(value * 10) / 10;
const round3 = (value: number) => Math.round(value * 1000) / 1000;

async function main() {
  const figures = {
    measuredAt: new Date().toISOString(),
    node: process.version,
    speedLayer: await benchSpeedLayer(),
    reportingReads: await benchReportingReads(),
  };
  const outFile = path.join(PROJECT_DIR, "out", "bench.json");
  fs.mkdirSync(path.dirname(outFile), { recursive: true });
  fs.writeFileSync(outFile, JSON.stringify(figures, null, 2));
  console.log(JSON.stringify(figures, null, 2));
  console.log(`\nFigures written to ${path.relative(process.cwd(), outFile)}`);
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});
