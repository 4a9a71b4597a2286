/**
 * What the monthly estimate assumes about traffic and volumes, per stack. The resources say
 * what exists (instance classes, node counts, shards, memory); these figures say how much
 * flows through it. They are planning figures, stated so a reader can disagree with one and
 * see what it moves: `npm run plan -- --stack prod --cost` prints them with the result.
 *
 * Per-resource figures are keyed by the end of the resource's logical name (the part after
 * `dp-<stage>-`, e.g. "ingestion-speed-layer"); `default` covers a resource no key matches.
 */

/** Figures per resource, matched by the end of its logical name; `default` for the rest. */
export type ByName<T> = { readonly default: T } & Readonly<Record<string, T>>;

export interface StreamTraffic {
  readonly recordsPerMonth: number;
  readonly recordSizeKb: number;
  /** Readers of every record (on-demand streams bill data out per reader). */
  readonly consumers: number;
}

export interface FirehoseTraffic {
  readonly recordsPerMonth: number;
  readonly recordSizeKb: number;
}

export interface FunctionTraffic {
  readonly invocationsPerMonth: number;
  readonly averageDurationMs: number;
}

export interface TableTraffic {
  /** Write request units (items up to 1 KB: one per write). */
  readonly writesPerMonth: number;
  /** Read request units (a strongly consistent read up to 4 KB: one). */
  readonly readsPerMonth: number;
  readonly storageGb: number;
}

export interface BucketVolume {
  readonly standardGb: number;
  readonly standardIaGb: number;
  readonly glacierGb: number;
}

export interface DatabaseVolume {
  readonly storageGb: number;
  readonly ioMillionsPerMonth: number;
}

export interface WarehouseUsage {
  /** Hours a provisioned cluster runs (730: never paused), or a Serverless workgroup is active. */
  readonly runningHoursPerMonth: number;
  readonly managedStorageGb: number;
}

export interface GlueJobRuns {
  readonly runsPerMonth: number;
  readonly averageMinutesPerRun: number;
}

export interface CrawlerRuns {
  readonly crawlsPerMonth: number;
  /** DPUs a crawl uses (Glue chooses them; the crawler's run metrics show them). */
  readonly dpus: number;
  readonly averageMinutesPerCrawl: number;
}

export interface SparkUsage {
  /** Hours a month the application runs jobs (a replay of the lake, a large backfill). */
  readonly hoursPerMonth: number;
  /** vCPUs and memory in use on average while it runs, across its workers (maximumCapacity caps them). */
  readonly averageVcpu: number;
  readonly averageMemoryGb: number;
}

export interface WorkflowExecutions {
  readonly executionsPerMonth: number;
  /** States entered per execution, retries and polling loops included. */
  readonly transitionsPerExecution: number;
}

export interface ScheduleInvocations {
  readonly invocationsPerMonth: number;
}

export interface StackAssumptions {
  readonly summary: string;
  /** Data through the VPC's NAT gateways, all of them together. */
  readonly natGatewayGbPerMonth: number;
  /** Data through the interface endpoints, all of them together. */
  readonly interfaceEndpointGbPerMonth: number;
  readonly streams: ByName<StreamTraffic>;
  readonly firehoses: ByName<FirehoseTraffic>;
  readonly functions: ByName<FunctionTraffic>;
  readonly tables: ByName<TableTraffic>;
  readonly buckets: ByName<BucketVolume>;
  readonly databases: ByName<DatabaseVolume>;
  readonly warehouses: ByName<WarehouseUsage>;
  /** Batch layer: runs of the Glue jobs, keyed by the job's name suffix ("batch-file", "curation"). */
  readonly glueJobs: ByName<GlueJobRuns>;
  readonly crawlers: ByName<CrawlerRuns>;
  readonly sparkApplications: ByName<SparkUsage>;
  readonly stateMachines: ByName<WorkflowExecutions>;
  readonly schedules: ByName<ScheduleInvocations>;
}

const NO_TRAFFIC = { invocationsPerMonth: 0, averageDurationMs: 0 };
const NO_ROWS = { writesPerMonth: 0, readsPerMonth: 0, storageGb: 0 };
const EMPTY_BUCKET = { standardGb: 0, standardIaGb: 0, glacierGb: 0 };
const NO_RUNS = { runsPerMonth: 0, averageMinutesPerRun: 0 };
const NO_SPARK = { hoursPerMonth: 0, averageVcpu: 0, averageMemoryGb: 0 };

/**
 * The batch pipeline runs nightly (30 a month: 730 h / 24 h, rounded down) plus the runs
 * started by hand: prod 2 backfills a month, dev 5 test runs. Each run starts the
 * batch-file job, one crawl and the curation job once.
 */
const NIGHTLY_RUNS = 30;
const PROD_PIPELINE_RUNS = NIGHTLY_RUNS + 2;
const DEV_PIPELINE_RUNS = NIGHTLY_RUNS + 5;

/**
 * States an execution enters: the batch-file job, starting the crawler, about 10 polls of
 * it (wait, getCrawler, choice: 3 each, a 30 s poll over a 5-minute crawl), the curation
 * job, headObject, the two loads, the publish and Succeed: 9 + 30 = 39, plus a margin for
 * retries: 50.
 */
const TRANSITIONS_PER_RUN = 50;

/** A crawl of the clean dataset's new folders: 2 DPUs for about 5 minutes (billed as 10, the minimum). */
const CRAWL = { dpus: 2, averageMinutesPerCrawl: 5 };

/**
 * prod: 200 stream events/s on average (525,600,000 a month = 200 × 3,600 × 730) and
 * 10 API events/s (26,280,000 a month), each about 1 KB.
 */
const PROD_STREAM_RECORDS = 525_600_000;
const PROD_API_EVENTS = 26_280_000;

/** The lake as prod holds it after a year: tiers follow the lifecycle (IA at 30 days, Glacier at 180). */
const PROD_LAKE: Record<string, BucketVolume> = {
  "lake-raw": { standardGb: 2_500, standardIaGb: 12_500, glacierGb: 15_000 },
  "lake-transformed": { standardGb: 2_000, standardIaGb: 10_000, glacierGb: 12_000 },
  "lake-staged": { standardGb: 1_000, standardIaGb: 5_000, glacierGb: 6_000 },
  "lake-query-results": { standardGb: 100, standardIaGb: 0, glacierGb: 0 },
  "lake-access-logs": { standardGb: 200, standardIaGb: 1_000, glacierGb: 2_000 },
};

/** dev: 1 stream event/s (2,628,000 a month) and 0.1 API events/s (262,800 a month). */
const DEV_STREAM_RECORDS = 2_628_000;
const DEV_API_EVENTS = 262_800;

export const ASSUMPTIONS: Readonly<Record<string, StackAssumptions>> = {
  dev: {
    summary: "dev: 1 stream event/s and 0.1 API event/s of 1 KB; a few GB in the lake; every instance runs all month (pausing the warehouse when idle cuts its line); the batch pipeline 35 runs a month (30 nightly, 5 by hand), no EMR Serverless.",
    natGatewayGbPerMonth: 10,
    interfaceEndpointGbPerMonth: 5,
    streams: { default: { recordsPerMonth: DEV_STREAM_RECORDS, recordSizeKb: 1, consumers: 2 } },
    firehoses: { default: { recordsPerMonth: DEV_STREAM_RECORDS, recordSizeKb: 1 } },
    functions: {
      default: { invocationsPerMonth: 10_000, averageDurationMs: 500 },
      // One per pipeline run (35 a month), applying a day's curated unit.
      "batch-pipeline-reporting-load-fn": { invocationsPerMonth: 35, averageDurationMs: 5_000 },
      "ingestion-stream-consumer-fn": { invocationsPerMonth: 262_800, averageDurationMs: 200 },
      "ingestion-queue-consumer-fn": { invocationsPerMonth: 26_280, averageDurationMs: 200 },
      // One per API request: 0.1 API event/s, one event a request.
      "ingestion-ingest-front-fn": { invocationsPerMonth: 262_800, averageDurationMs: 50 },
      "ingestion-stream-dedup-fn": { invocationsPerMonth: 43_800, averageDurationMs: 200 },
    },
    tables: {
      default: NO_ROWS,
      "ingestion-speed-layer": { writesPerMonth: DEV_STREAM_RECORDS, readsPerMonth: 1_000_000, storageGb: 1 },
      "ingestion-claims": { writesPerMonth: DEV_STREAM_RECORDS + DEV_API_EVENTS, readsPerMonth: 10_000, storageGb: 1 },
    },
    buckets: {
      default: EMPTY_BUCKET,
      "lake-raw": { standardGb: 20, standardIaGb: 0, glacierGb: 0 },
      "lake-transformed": { standardGb: 15, standardIaGb: 0, glacierGb: 0 },
      "lake-staged": { standardGb: 10, standardIaGb: 0, glacierGb: 0 },
      "lake-query-results": { standardGb: 1, standardIaGb: 0, glacierGb: 0 },
      "lake-access-logs": { standardGb: 2, standardIaGb: 0, glacierGb: 0 },
    },
    databases: { default: { storageGb: 10, ioMillionsPerMonth: 10 } },
    warehouses: { default: { runningHoursPerMonth: 730, managedStorageGb: 20 } },
    glueJobs: {
      default: NO_RUNS,
      // A few MB of supplier files a night: Spark's start-up dominates.
      "batch-file": { runsPerMonth: DEV_PIPELINE_RUNS, averageMinutesPerRun: 4 },
      "curation": { runsPerMonth: DEV_PIPELINE_RUNS, averageMinutesPerRun: 3 },
    },
    crawlers: { default: { crawlsPerMonth: DEV_PIPELINE_RUNS, ...CRAWL } },
    // emrServerlessEnabled is false in dev: no application, and no hours if one is declared.
    sparkApplications: { default: NO_SPARK },
    stateMachines: { default: { executionsPerMonth: DEV_PIPELINE_RUNS, transitionsPerExecution: TRANSITIONS_PER_RUN } },
    schedules: { default: { invocationsPerMonth: NIGHTLY_RUNS } },
  },
  prod: {
    summary: "prod: 200 stream events/s and 10 API events/s of 1 KB; a year of lake data tiered by the lifecycle; 500 GB in Aurora, 2 TB in Redshift; everything runs all month; the batch pipeline 32 runs a month (30 nightly, 2 backfills) and one 8-hour lake replay on EMR Serverless.",
    natGatewayGbPerMonth: 300,
    interfaceEndpointGbPerMonth: 1_000,
    streams: { default: { recordsPerMonth: PROD_STREAM_RECORDS, recordSizeKb: 1, consumers: 2 } },
    firehoses: { default: { recordsPerMonth: PROD_STREAM_RECORDS, recordSizeKb: 1 } },
    functions: {
      default: { invocationsPerMonth: 100_000, averageDurationMs: 500 },
      // One per pipeline run (32 a month), applying a day's curated unit.
      "batch-pipeline-reporting-load-fn": { invocationsPerMonth: 32, averageDurationMs: 30_000 },
      // Batches of 500 records (consumerBatchSize): 525,600,000 / 500.
      "ingestion-stream-consumer-fn": { invocationsPerMonth: 1_051_200, averageDurationMs: 400 },
      // Batches of 10 messages: 26,280,000 / 10.
      "ingestion-queue-consumer-fn": { invocationsPerMonth: 2_628_000, averageDurationMs: 200 },
      // One per API request (one event a request, as the queue consumer's figure assumes): validate, one SendMessage.
      "ingestion-ingest-front-fn": { invocationsPerMonth: 26_280_000, averageDurationMs: 50 },
      // One per Firehose processing buffer of 1 MB: about 2,566 GB of records a month.
      "ingestion-stream-dedup-fn": { invocationsPerMonth: 2_628_000, averageDurationMs: 300 },
      // One per raw object: the queue consumer's objects plus Firehose's deliveries.
      "lake-transform-fn": { invocationsPerMonth: 2_640_000, averageDurationMs: 500 },
      "lake-staging-fn": { invocationsPerMonth: 2_640_000, averageDurationMs: 300 },
      "warehouse-loader-fn": { invocationsPerMonth: 100_000, averageDurationMs: 2_000 },
      "cache-reporting-fn": { invocationsPerMonth: 1_000_000, averageDurationMs: 50 },
      "restore-tests-validator-fn": { invocationsPerMonth: 30, averageDurationMs: 60_000 },
    },
    tables: {
      default: NO_ROWS,
      "ingestion-speed-layer": { writesPerMonth: PROD_STREAM_RECORDS, readsPerMonth: 100_000_000, storageGb: 50 },
      // One conditional write per event on either path.
      "ingestion-claims": { writesPerMonth: PROD_STREAM_RECORDS + PROD_API_EVENTS, readsPerMonth: 1_000_000, storageGb: 30 },
    },
    buckets: { default: EMPTY_BUCKET, ...PROD_LAKE },
    databases: { default: { storageGb: 500, ioMillionsPerMonth: 1_000 } },
    warehouses: { default: { runningHoursPerMonth: 730, managedStorageGb: 2_000 } },
    glueJobs: {
      default: NO_RUNS,
      // A night's supplier files (a few GB) validated and written as Parquet; a backfill reads more, so the average is above a nightly run.
      "batch-file": { runsPerMonth: PROD_PIPELINE_RUNS, averageMinutesPerRun: 25 },
      "curation": { runsPerMonth: PROD_PIPELINE_RUNS, averageMinutesPerRun: 15 },
    },
    crawlers: { default: { crawlsPerMonth: PROD_PIPELINE_RUNS, ...CRAWL } },
    // One replay of the lake a month: 8 hours at three quarters of the default cap (64 vCPU, 256 GB).
    sparkApplications: { default: { hoursPerMonth: 8, averageVcpu: 48, averageMemoryGb: 192 } },
    stateMachines: { default: { executionsPerMonth: PROD_PIPELINE_RUNS, transitionsPerExecution: TRANSITIONS_PER_RUN } },
    schedules: { default: { invocationsPerMonth: NIGHTLY_RUNS } },
  },
  "prod-dr": {
    summary: "prod-dr: the passive standby. No traffic (producers write to prod); the lake zones and the Aurora volume are replicas as large as prod's; no warehouse until a promotion restores one; no batch runs.",
    natGatewayGbPerMonth: 20,
    interfaceEndpointGbPerMonth: 10,
    streams: { default: { recordsPerMonth: 0, recordSizeKb: 1, consumers: 2 } },
    firehoses: { default: { recordsPerMonth: 0, recordSizeKb: 1 } },
    functions: { default: NO_TRAFFIC },
    tables: { default: NO_ROWS },
    buckets: { default: EMPTY_BUCKET, "lake-raw": PROD_LAKE["lake-raw"], "lake-transformed": PROD_LAKE["lake-transformed"], "lake-staged": PROD_LAKE["lake-staged"] },
    databases: { default: { storageGb: 500, ioMillionsPerMonth: 0 } },
    warehouses: { default: { runningHoursPerMonth: 730, managedStorageGb: 2_000 } },
    // The standby runs no batch work until a promotion: whatever batch resources it declares stay idle.
    glueJobs: { default: NO_RUNS },
    crawlers: { default: { crawlsPerMonth: 0, ...CRAWL } },
    sparkApplications: { default: NO_SPARK },
    stateMachines: { default: { executionsPerMonth: 0, transitionsPerExecution: TRANSITIONS_PER_RUN } },
    schedules: { default: { invocationsPerMonth: 0 } },
  },
};

/** The figures for the resource whose logical name ends with the longest matching key, else `default`. */
export function forResource<T>(figures: ByName<T>, resourceName: string): { readonly key: string; readonly value: T } {
  const keys = Object.keys(figures)
    .filter((key) => key !== "default" && (resourceName === key || resourceName.endsWith(`-${key}`)))
    .sort((a, b) => b.length - a.length);
  const key = keys[0] ?? "default";
  return { key, value: figures[key] };
}
