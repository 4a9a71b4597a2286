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
}

const NO_TRAFFIC = { invocationsPerMonth: 0, averageDurationMs: 0 };
const NO_ROWS = { writesPerMonth: 0, readsPerMonth: 0, storageGb: 0 };
const EMPTY_BUCKET = { standardGb: 0, standardIaGb: 0, glacierGb: 0 };

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
    summary: "dev: 1 stream event/s and 0.1 API event/s of 1 KB; a few GB in the lake; every instance runs all month (pausing the warehouse when idle cuts its line).",
    natGatewayGbPerMonth: 10,
    interfaceEndpointGbPerMonth: 5,
    streams: { default: { recordsPerMonth: DEV_STREAM_RECORDS, recordSizeKb: 1, consumers: 2 } },
    firehoses: { default: { recordsPerMonth: DEV_STREAM_RECORDS, recordSizeKb: 1 } },
    functions: {
      default: { invocationsPerMonth: 10_000, averageDurationMs: 500 },
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
  },
  prod: {
    summary: "prod: 200 stream events/s and 10 API events/s of 1 KB; a year of lake data tiered by the lifecycle; 500 GB in Aurora, 2 TB in Redshift; everything runs all month.",
    natGatewayGbPerMonth: 300,
    interfaceEndpointGbPerMonth: 1_000,
    streams: { default: { recordsPerMonth: PROD_STREAM_RECORDS, recordSizeKb: 1, consumers: 2 } },
    firehoses: { default: { recordsPerMonth: PROD_STREAM_RECORDS, recordSizeKb: 1 } },
    functions: {
      default: { invocationsPerMonth: 100_000, averageDurationMs: 500 },
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
  },
  "prod-dr": {
    summary: "prod-dr: the passive standby. No traffic (producers write to prod); the lake zones and the Aurora volume are replicas as large as prod's; no warehouse until a promotion restores one.",
    natGatewayGbPerMonth: 20,
    interfaceEndpointGbPerMonth: 10,
    streams: { default: { recordsPerMonth: 0, recordSizeKb: 1, consumers: 2 } },
    firehoses: { default: { recordsPerMonth: 0, recordSizeKb: 1 } },
    functions: { default: NO_TRAFFIC },
    tables: { default: NO_ROWS },
    buckets: { default: EMPTY_BUCKET, "lake-raw": PROD_LAKE["lake-raw"], "lake-transformed": PROD_LAKE["lake-transformed"], "lake-staged": PROD_LAKE["lake-staged"] },
    databases: { default: { storageGb: 500, ioMillionsPerMonth: 0 } },
    warehouses: { default: { runningHoursPerMonth: 730, managedStorageGb: 2_000 } },
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
