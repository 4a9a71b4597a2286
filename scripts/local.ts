/**
 * `npm run local [-- --events 3000 --poison 30 --keep]`: the dev pipeline on this
 * machine, no AWS account needed (local/data-plane.ts wires it). Pushes sample orders
 * through both ingest paths with a sprinkle of poison records, waits for every stage,
 * and prints a summary: counts per store, what was quarantined and why, the warehouse's
 * rows, and a report answered through the cache (a miss, then a hit). `--keep` leaves the
 * servers up and writes out/local/outputs.json (for `npm run quarantine -- --stack dev
 * --outputs-file out/local/outputs.json list`); Ctrl-C stops every child process and
 * removes the temporary data.
 */
import { localRun } from "./local-run";
import { S3Client } from "@aws-sdk/client-s3";
import { ScanCommand } from "@aws-sdk/client-dynamodb";
import * as fs from "fs";
import { Listr } from "listr2";
import * as path from "path";
import { listObjects } from "../functions/lake-objects";
import { LocalDataPlane, startLocalDataPlane } from "../local/data-plane";
import { insertOrders, putOnStream, sendToQueue } from "../local/producers";
import { SAMPLE_BRANCHES, SampleOrder, orderEvent, poisonSamples, sampleOrders } from "../local/sample-data";
import { requireRedisServer } from "../local/servers";
import { QuarantineCase, listQuarantine } from "../operations/quarantine";
import { PROJECT_DIR } from "./engine";

export interface LocalRunArgs {
  readonly events: number;
  readonly poison: number;
  readonly keep: boolean;
}

export function parseLocalArgs(argv: readonly string[]): LocalRunArgs {
  const args = { events: 3000, poison: 30, keep: false };
  for (let i = 0; i < argv.length; i++) {
    const flag = argv[i];
    if (flag === "--keep") args.keep = true;
    else if (flag === "--events" || flag === "--poison") {
      const value = Number(argv[++i]);
      if (!Number.isInteger(value) || value < 0) throw new Error(`${flag} needs a whole number, not "${argv[i]}"`);
      args[flag === "--events" ? "events" : "poison"] = value;
    } else throw new Error(`Unknown argument "${flag}". Usage: npm run local -- [--events N] [--poison N] [--keep]`);
  }
  return args;
}

/** Events per ingest-queue message, as an API producer batches them. */
export const EVENTS_PER_MESSAGE = 10;

/** Half the orders go through the stream, half through the ingest queue; poison is split the same way. */
export async function produce(plane: LocalDataPlane, orders: readonly SampleOrder[], poison: readonly string[]): Promise<{ stream: number; queue: number; messages: number }> {
  const half = Math.ceil(orders.length / 2);
  const streamPayloads = [...orders.slice(0, half).map((order) => JSON.stringify(orderEvent(order))), ...poison.filter((_, index) => index % 2 === 0)];
  const queueOrders = orders.slice(half);
  const queuePoison = poison.filter((_, index) => index % 2 === 1);
  // API producers batch events, EVENTS_PER_MESSAGE to a message body (a JSON array); each poison record is a message of its own.
  const queueBodies = [
    ...Array.from({ length: Math.ceil(queueOrders.length / EVENTS_PER_MESSAGE) }, (_, i) => JSON.stringify(queueOrders.slice(i * EVENTS_PER_MESSAGE, (i + 1) * EVENTS_PER_MESSAGE).map(orderEvent))),
    ...queuePoison,
  ];
  await putOnStream(plane, streamPayloads);
  await sendToQueue(plane, queueBodies);
  await insertOrders(plane, orders);
  return { stream: streamPayloads.length, queue: queueOrders.length + queuePoison.length, messages: queueBodies.length };
}

const countObjects = async (s3: S3Client, bucket: string, prefix: string) => (await listObjects(s3, bucket, prefix)).length;

export interface LocalSummary {
  readonly produced: { stream: number; queue: number; messages: number; orders: number; poison: number };
  readonly speedLayerItems: number;
  readonly objects: Record<string, number>;
  readonly warehouseRows: number;
  readonly quarantine: QuarantineCase[];
  readonly report: { branch: string; from: string; to: string; first: { cache: string; rows: number }; second: { cache: string; rows: number }; orders: number };
}

export async function summarise(plane: LocalDataPlane, produced: LocalSummary["produced"]): Promise<LocalSummary> {
  const { s3, dynamodb } = plane.clients;
  const { names } = plane;
  let speedLayerItems = 0;
  let start: Record<string, never> | undefined;
  do {
    const page = await dynamodb.send(new ScanCommand({ TableName: names.speedLayerTable, Select: "COUNT", ExclusiveStartKey: start }));
    speedLayerItems += page.Count ?? 0;
    start = page.LastEvaluatedKey as typeof start;
  } while (start);
  const objects = {
    "raw api/": await countObjects(s3, names.rawBucket, "api/"),
    "raw stream/": await countObjects(s3, names.rawBucket, "stream/"),
    "transformed clean/": await countObjects(s3, names.transformedBucket, "clean/"),
    "transformed quarantine/": await countObjects(s3, names.transformedBucket, "quarantine/"),
    "staged events/": await countObjects(s3, names.stagedBucket, "events/"),
    "staged manifests/": await countObjects(s3, names.stagedBucket, "manifests/"),
  };
  const [{ rows }] = await plane.query<{ rows: number }>("warehouse", "SELECT COUNT(*)::int AS rows FROM lake.events");
  const quarantine = await listQuarantine(s3, names.transformedBucket);
  const branch = SAMPLE_BRANCHES[0];
  const [from, to] = ["2026-11-30", "2026-12-02"];
  const first = await plane.report(branch, from, to);
  const second = await plane.report(branch, from, to);
  return {
    produced,
    speedLayerItems,
    objects,
    warehouseRows: rows,
    quarantine,
    report: {
      branch,
      from,
      to,
      first: { cache: first.cache, rows: first.rows.length },
      second: { cache: second.cache, rows: second.rows.length },
      orders: first.rows.reduce((sum, row) => sum + row.orders, 0),
    },
  };
}

export function renderSummary(summary: LocalSummary): string {
  const lines = [
    `Produced ${summary.produced.orders} orders and ${summary.produced.poison} poison records: ${summary.produced.stream} onto the stream, ${summary.produced.queue} onto the ingest queue.`,
    `  (the queue's in ${summary.produced.messages} messages: up to ${EVENTS_PER_MESSAGE} events each, a poison record alone)`,
    `Speed layer (DynamoDB): ${summary.speedLayerItems} items`,
    ...Object.entries(summary.objects).map(([where, count]) => `S3 ${where.padEnd(24)} ${count} objects`),
    `Warehouse lake.events: ${summary.warehouseRows} rows`,
    `Quarantine: ${summary.quarantine.length} records (${summary.quarantine.filter((quarantineCase) => quarantineCase.stages.length > 1).length} refused by two stages, counted once)`,
  ];
  const byReason = new Map<string, number>();
  for (const quarantineCase of summary.quarantine) {
    // One line per kind of reason: a parse error's position differs from record to record.
    const reason = quarantineCase.reasons[0].replace(/ at position \d+.*$/, "");
    byReason.set(reason, (byReason.get(reason) ?? 0) + 1);
  }
  for (const [reason, count] of [...byReason].sort((a, b) => b[1] - a[1]).slice(0, 8)) lines.push(`  ${String(count).padStart(4)} × ${reason}`);
  const report = summary.report;
  lines.push(
    `Report GET /reports/${report.branch}/daily-sales?from=${report.from}&to=${report.to}: ${report.first.rows} days, ${report.orders} orders`,
    `  first request: cache ${report.first.cache}; second request: cache ${report.second.cache}`,
  );
  return `${lines.join("\n")}\n`;
}

function writeOutputs(plane: LocalDataPlane): string {
  const file = path.join(PROJECT_DIR, "out", "local", "outputs.json");
  fs.mkdirSync(path.dirname(file), { recursive: true });
  fs.writeFileSync(file, `${JSON.stringify({
    region: "us-east-1",
    transformedBucketName: plane.names.transformedBucket,
    ingestStreamName: plane.names.stream,
    ingestQueueUrl: plane.queueUrls.ingest,
    speedLayerTableName: plane.names.speedLayerTable,
    rawBucketName: plane.names.rawBucket,
    stagedBucketName: plane.names.stagedBucket,
    endpoints: { s3: plane.endpoints.s3, kinesis: plane.endpoints.kinesis, sqs: plane.endpoints.sqs, dynamodb: plane.endpoints.dynamodb },
  }, null, 2)}\n`);
  return file;
}

async function main(): Promise<void> {
  const args = parseLocalArgs(process.argv.slice(2));
  requireRedisServer();
  let plane: LocalDataPlane | undefined;
  const lifecycle = localRun<LocalDataPlane>("Stopping the local servers and functions...");

  const orders = sampleOrders(args.events);
  const poison = poisonSamples(args.poison).map((sample) => sample.payload);
  let produced: LocalSummary["produced"] | undefined;
  let summary: LocalSummary | undefined;
  // registerSignalListeners off: listr2's own SIGINT listener exits 127 at once, before shutdown() has stopped anything.
  const run = new Listr([
    {
      title: "Start the servers, the dev stack's resources and the shipped functions",
      task: async (_context, task) => {
        plane = await lifecycle.start((signal) => startLocalDataPlane({ signal, onStep: (step) => (task.output = `starting ${step}`) }));
      },
    },
    {
      title: `Produce ${orders.length} orders and ${poison.length} poison records (stream and ingest queue)`,
      task: async () => {
        const sent = await produce(plane!, orders, poison);
        produced = { ...sent, orders: orders.length, poison: poison.length };
      },
    },
    {
      title: "Wait for every stage: speed layer, Firehose, lake, staging, warehouse",
      task: async (_context, task) => {
        // Live counters on a terminal; a log gets the stage's start and end only.
        const timer = setInterval(() => {
          if (!process.stdout.isTTY) return;
          const stats = plane!.sources;
          task.output = Object.entries(stats).map(([name, source]) => `${name}: ${JSON.stringify(source.stats).replace(/"/g, "").slice(0, 90)}`).join("\n");
        }, 500);
        try {
          await plane!.idle();
        } finally {
          clearInterval(timer);
        }
      },
    },
    { title: "Summarise", task: async () => void (summary = await summarise(plane!, produced!)) },
  ], { renderer: process.stdout.isTTY ? "default" : "simple", rendererOptions: { collapseSubtasks: false }, exitOnError: true, registerSignalListeners: false } as never);
  try {
    await run.run();
  } catch (error) {
    // Stopping fails the running task; the shutdown under way exits with its own code.
    if (lifecycle.stopping) return new Promise<never>(() => undefined);
    // Nothing may outlive a failed run: the servers and function environments go first.
    await plane?.stop();
    throw error;
  }

  process.stdout.write(`\n${renderSummary(summary!)}`);
  if (!args.keep) {
    await lifecycle.shutdown(0);
    return;
  }
  const outputs = writeOutputs(plane!);
  const endpoints = plane!.endpoints;
  process.stdout.write([
    "",
    "The servers stay up (Ctrl-C stops them and removes their data):",
    ...Object.entries(endpoints).map(([service, endpoint]) => `  ${service.padEnd(13)} ${endpoint}`),
    `Outputs for the quarantine tool: ${path.relative(PROJECT_DIR, outputs)}`,
    `  npm run quarantine -- --stack dev --outputs-file ${path.relative(PROJECT_DIR, outputs)} list`,
    "Try (any credentials work):",
    `  AWS_ACCESS_KEY_ID=S3RVER AWS_SECRET_ACCESS_KEY=S3RVER aws --region us-east-1 --endpoint-url ${endpoints.s3} s3 ls s3://${plane!.names.transformedBucket}/quarantine/ --recursive`,
    `  AWS_ACCESS_KEY_ID=x AWS_SECRET_ACCESS_KEY=x aws --region us-east-1 --endpoint-url ${endpoints.dynamodb} dynamodb scan --table-name ${plane!.names.speedLayerTable} --max-items 3`,
    "",
  ].join("\n"));
  await new Promise(() => undefined);
}

if (require.main === module) {
  main().catch(async (error: unknown) => {
    process.stderr.write(`${(error as Error).message}\n`);
    process.exit(1);
  });
}
