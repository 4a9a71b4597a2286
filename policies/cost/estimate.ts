/**
 * The monthly cost estimate of a stack, as pure functions of its resources (type, name,
 * parent, region, inputs: what out/plan-<stack>.json records and what a stack policy sees),
 * a price table and the stack's assumptions. No Pulumi, no I/O: the CrossGuard pack runs it
 * (policies/cost-budget.ts) and so does `npm run plan -- --cost` (scripts/cost.ts).
 *
 * Every line is quantity × unit price, so a reader can check it. A pricer per resource type
 * (PRICERS) turns inputs and assumptions into quantities of price-table keys; the table
 * supplies the price for the resource's region. A missing price is reported, never guessed.
 */
import { ByName, StackAssumptions, forResource } from "./assumptions";
import { PRICE_TABLE, PriceConfidence, PriceTable, priceOf } from "./price-table";

/** A resource as the estimator reads it: a plan JSON resource, or a stack policy's resource. */
export interface CostResource {
  readonly urn: string;
  readonly type: string;
  readonly name: string;
  /** URN of the parent (a component, or the stack). */
  readonly parent?: string;
  /** Region of the resource's provider; components have none. */
  readonly region?: string;
  readonly inputs: Record<string, unknown>;
}

/** What a pricer asks for: `quantity` units of the price-table entry `priceKey`. */
export interface Quantity {
  readonly item: string;
  readonly quantity: number;
  readonly priceKey: string;
  /** Where the quantity came from (inputs and assumptions), printed beside the line. */
  readonly basis: string;
  /** Priced in another region than the resource's (a table or secret replica). */
  readonly region?: string;
}

export interface CostLine extends Quantity {
  readonly component: string;
  readonly resource: string;
  readonly type: string;
  readonly region: string;
  readonly unit: string;
  readonly unitPriceUsd: number;
  readonly monthlyUsd: number;
  readonly confidence: PriceConfidence;
}

export interface Unpriced {
  readonly component: string;
  readonly resource: string;
  readonly type: string;
  readonly reason: string;
}

export interface ComponentCost {
  readonly component: string;
  readonly monthlyUsd: number;
}

export interface StackBudget {
  readonly name: string;
  readonly urn: string;
  readonly limitUsd: number;
}

export interface CostEstimate {
  readonly stack: string;
  readonly pricesRetrieved: string;
  readonly lines: CostLine[];
  /** Per top-level component, in the order they first appear. */
  readonly components: ComponentCost[];
  readonly totalUsd: number;
  readonly unpriced: Unpriced[];
  readonly budgets: StackBudget[];
}

export interface PricingContext {
  readonly assumptions: StackAssumptions;
  readonly hoursPerMonth: number;
  /** Every resource of the stack (for pricers that split a shared assumption). */
  readonly resources: readonly CostResource[];
}

/** A pricer's answer: the quantities to price, or why the resource cannot be priced. */
export type Pricing = Quantity[] | { readonly unpriced: string };
export type Pricer = (resource: CostResource, context: PricingContext) => Pricing;

const GIB_PER_KB = 1 / (1024 * 1024);
const MILLION = 1_000_000;

const num = (value: unknown, fallback: number): number => {
  const parsed = typeof value === "string" ? Number(value) : value;
  return typeof parsed === "number" && Number.isFinite(parsed) ? parsed : fallback;
};
const str = (value: unknown): string | undefined => (typeof value === "string" && value !== "" ? value : undefined);
const list = (value: unknown): unknown[] => (Array.isArray(value) ? value : []);
const record = (value: unknown): Record<string, unknown> => (typeof value === "object" && value !== null && !Array.isArray(value) ? (value as Record<string, unknown>) : {});

/** Figures for a resource from one assumption group, and the words that say which. */
function assumed<T>(group: ByName<T>, resource: CostResource, label: string): { value: T; basis: string } {
  const { key, value } = forResource(group, resource.name);
  return { value, basis: `assumptions.${label}${key === "default" ? ".default" : `["${key}"]`}` };
}

function hours(context: PricingContext, count: number, what: string): { quantity: number; basis: string } {
  return { quantity: count * context.hoursPerMonth, basis: `${count} ${what} × ${context.hoursPerMonth} h` };
}

// ---- Network ---------------------------------------------------------------------------

const NAT_GATEWAY = "aws:ec2/natGateway:NatGateway";
const AWSX_VPC = "awsx:ec2:Vpc";

/** NAT gateways an awsx Vpc creates: its strategy over its AZs (awsx defaults: OnePerAz, 3 AZs). */
export function natGatewaysOfVpc(inputs: Record<string, unknown>): number {
  const strategy = str(record(inputs.natGateways).strategy) ?? "OnePerAz";
  const azs = num(inputs.numberOfAvailabilityZones, list(inputs.availabilityZoneNames).length || 3);
  if (strategy === "None") return 0;
  return strategy === "Single" ? 1 : azs;
}

function natGatewayCount(context: PricingContext): number {
  const real = context.resources.filter((r) => r.type === NAT_GATEWAY).length;
  return real > 0 ? real : context.resources.filter((r) => r.type === AWSX_VPC).reduce((n, vpc) => n + natGatewaysOfVpc(vpc.inputs), 0);
}

function natQuantities(gateways: number, context: PricingContext, basis: string): Quantity[] {
  const total = natGatewayCount(context);
  const share = total > 0 ? (context.assumptions.natGatewayGbPerMonth * gateways) / total : 0;
  const h = hours(context, gateways, "NAT gateway(s)");
  return [
    { item: "NAT gateway-hours", quantity: h.quantity, priceKey: "vpc.nat-gateway.hour", basis: `${h.basis} (${basis})` },
    { item: "NAT data processed (GB)", quantity: share, priceKey: "vpc.nat-gateway.gb", basis: `assumptions.natGatewayGbPerMonth ${context.assumptions.natGatewayGbPerMonth} GB${total > 1 ? ` × ${gateways}/${total} gateways` : ""}` },
  ];
}

/** Offline the awsx Vpc's children are invisible, so its NAT gateways are priced from its inputs; under a real preview the NatGateway resources are priced instead. */
const priceVpc: Pricer = (vpc, context) => {
  if (context.resources.some((r) => r.type === NAT_GATEWAY)) return [];
  const gateways = natGatewaysOfVpc(vpc.inputs);
  if (gateways === 0) return [];
  return natQuantities(gateways, context, `natGateways.strategy ${str(record(vpc.inputs.natGateways).strategy) ?? "OnePerAz (awsx default)"}`);
};

const priceNatGateway: Pricer = (_gateway, context) => natQuantities(1, context, "aws.ec2.NatGateway");

const isInterfaceEndpoint = (r: CostResource) => r.type === "aws:ec2/vpcEndpoint:VpcEndpoint" && r.inputs.vpcEndpointType === "Interface";

const priceVpcEndpoint: Pricer = (endpoint, context) => {
  // Gateway endpoints (S3, DynamoDB) cost nothing.
  if (!isInterfaceEndpoint(endpoint)) return [];
  const azs = Math.max(list(endpoint.inputs.subnetIds).length, 1);
  const endpoints = context.resources.filter(isInterfaceEndpoint).length;
  const h = hours(context, azs, "AZ(s)");
  return [
    { item: "endpoint AZ-hours", quantity: h.quantity, priceKey: "privatelink.interface-endpoint.az-hour", basis: `${h.basis} (subnetIds)` },
    {
      item: "endpoint data processed (GB)",
      quantity: context.assumptions.interfaceEndpointGbPerMonth / endpoints,
      priceKey: "privatelink.interface-endpoint.gb",
      basis: `assumptions.interfaceEndpointGbPerMonth ${context.assumptions.interfaceEndpointGbPerMonth} GB / ${endpoints} endpoints`,
    },
  ];
};

// ---- Streams ---------------------------------------------------------------------------

/** Kinesis retention covered by the 7-day extended tier; longer retention is billed per GB-month (not priced). */
const EXTENDED_RETENTION_LIMIT_HOURS = 168;

const priceStream: Pricer = (stream, context) => {
  const traffic = assumed(context.assumptions.streams, stream, "streams");
  const { recordsPerMonth, recordSizeKb, consumers } = traffic.value;
  const retention = num(stream.inputs.retentionPeriod, 24);
  const mode = str(record(stream.inputs.streamModeDetails).streamMode) ?? "PROVISIONED";
  if (mode === "ON_DEMAND") {
    // Data in is counted with each record rounded up to 1 KB.
    const dataInGb = recordsPerMonth * Math.ceil(recordSizeKb) * GIB_PER_KB;
    const retained = retention > 24 ? ` (retention past 24 h, billed per GB-month, not priced)` : "";
    return [
      { item: "on-demand stream-hours", quantity: context.hoursPerMonth, priceKey: "kinesis.on-demand.stream-hour", basis: `1 stream × ${context.hoursPerMonth} h` },
      { item: "data in (GB)", quantity: dataInGb, priceKey: "kinesis.on-demand.data-in.gb", basis: `${traffic.basis}: ${recordsPerMonth} records × ${Math.ceil(recordSizeKb)} KB${retained}` },
      { item: "data out (GB)", quantity: dataInGb * consumers, priceKey: "kinesis.on-demand.data-out.gb", basis: `data in × ${consumers} consumers` },
    ];
  }
  const shards = num(stream.inputs.shardCount, 1);
  const h = hours(context, shards, "shard(s)");
  // A PUT payload unit is a 25 KB chunk of a record.
  const putUnits = recordsPerMonth * Math.ceil(recordSizeKb / 25);
  const lines: Quantity[] = [
    { item: "shard-hours", quantity: h.quantity, priceKey: "kinesis.provisioned.shard-hour", basis: `${h.basis} (shardCount)` },
    { item: "PUT payload units (million)", quantity: putUnits / MILLION, priceKey: "kinesis.provisioned.put-payload-units", basis: `${traffic.basis}: ${recordsPerMonth} records × ${Math.ceil(recordSizeKb / 25)} unit(s)` },
  ];
  // Retention past 7 days adds long-term storage per GB-month on top of the extended tier, so
  // the shard-hours stay priced and only that addition is left out (a longer retention must never look cheaper).
  const longTerm = retention > EXTENDED_RETENTION_LIMIT_HOURS ? `; the ${retention - EXTENDED_RETENTION_LIMIT_HOURS} h beyond 7 days are billed per GB-month, not priced` : "";
  if (retention > 24) lines.push({ item: "extended retention shard-hours", quantity: h.quantity, priceKey: "kinesis.provisioned.extended-retention.shard-hour", basis: `retentionPeriod ${retention} h > 24 h${longTerm}` });
  return lines;
};

const priceFirehose: Pricer = (firehose, context) => {
  const traffic = assumed(context.assumptions.firehoses, firehose, "firehoses");
  const { recordsPerMonth, recordSizeKb } = traffic.value;
  // Ingestion is billed with each record rounded up to the next 5 KB.
  const billedKb = Math.ceil(recordSizeKb / 5) * 5;
  const gb = recordsPerMonth * billedKb * GIB_PER_KB;
  const lines: Quantity[] = [{ item: "data ingested (GB)", quantity: gb, priceKey: "firehose.ingest.gb", basis: `${traffic.basis}: ${recordsPerMonth} records × ${billedKb} KB` }];
  const conversion = record(record(firehose.inputs.extendedS3Configuration).dataFormatConversionConfiguration);
  if (conversion.enabled === true) lines.push({ item: "format conversion (GB)", quantity: gb, priceKey: "firehose.format-conversion.gb", basis: "dataFormatConversionConfiguration.enabled" });
  return lines;
};

// ---- Compute ---------------------------------------------------------------------------

const priceFunction: Pricer = (fn, context) => {
  const traffic = assumed(context.assumptions.functions, fn, "functions");
  const { invocationsPerMonth, averageDurationMs } = traffic.value;
  const memoryMb = num(fn.inputs.memorySize, 128);
  const arm = list(fn.inputs.architectures).includes("arm64");
  const gbSeconds = invocationsPerMonth * (averageDurationMs / 1000) * (memoryMb / 1024);
  return [
    { item: "requests (million)", quantity: invocationsPerMonth / MILLION, priceKey: "lambda.requests", basis: `${traffic.basis}: ${invocationsPerMonth} invocations` },
    {
      item: `duration (GB-seconds, ${arm ? "arm64" : "x86_64"})`,
      quantity: gbSeconds,
      priceKey: arm ? "lambda.arm.gb-second" : "lambda.x86.gb-second",
      basis: `${invocationsPerMonth} × ${averageDurationMs} ms × ${memoryMb} MB (memorySize)`,
    },
  ];
};

// ---- Stores ----------------------------------------------------------------------------

const priceTable: Pricer = (table, context) => {
  if ((str(table.inputs.billingMode) ?? "PROVISIONED") !== "PAY_PER_REQUEST") return { unpriced: "provisioned capacity is not in the price table" };
  const traffic = assumed(context.assumptions.tables, table, "tables");
  const { writesPerMonth, readsPerMonth, storageGb } = traffic.value;
  const lines: Quantity[] = [
    { item: "write request units (million)", quantity: writesPerMonth / MILLION, priceKey: "dynamodb.on-demand.write.million", basis: `${traffic.basis}: ${writesPerMonth} WRU` },
    { item: "read request units (million)", quantity: readsPerMonth / MILLION, priceKey: "dynamodb.on-demand.read.million", basis: `${traffic.basis}: ${readsPerMonth} RRU` },
    { item: "storage (GB-month)", quantity: storageGb, priceKey: "dynamodb.storage.gb-month", basis: traffic.basis },
  ];
  // A global table's replica receives every write again, and stores its own copy.
  for (const replica of list(table.inputs.replicas).map(record)) {
    const region = str(replica.regionName);
    if (!region) continue;
    lines.push(
      { item: `replicated writes to ${region} (million rWRU)`, quantity: writesPerMonth / MILLION, priceKey: "dynamodb.on-demand.replicated-write.million", basis: "replicas: every write", region },
      { item: `replica storage in ${region} (GB-month)`, quantity: storageGb, priceKey: "dynamodb.storage.gb-month", basis: "replicas: the same items", region },
    );
  }
  return lines;
};

const priceBucket: Pricer = (bucket, context) => {
  const volume = assumed(context.assumptions.buckets, bucket, "buckets");
  const { standardGb, standardIaGb, glacierGb } = volume.value;
  return [
    { item: "S3 Standard (GB-month)", quantity: standardGb, priceKey: "s3.standard.gb-month", basis: volume.basis },
    { item: "S3 Standard-IA (GB-month)", quantity: standardIaGb, priceKey: "s3.standard-ia.gb-month", basis: volume.basis },
    { item: "S3 Glacier Flexible Retrieval (GB-month)", quantity: glacierGb, priceKey: "s3.glacier-flexible.gb-month", basis: volume.basis },
  ].filter((line) => line.quantity > 0);
};

const priceClusterInstance: Pricer = (instance, context) => {
  const instanceClass = str(instance.inputs.instanceClass);
  const engine = str(instance.inputs.engine) ?? "aurora-postgresql";
  if (!instanceClass) return { unpriced: "no instanceClass" };
  const h = hours(context, 1, "instance");
  return [{ item: `${instanceClass} instance-hours`, quantity: h.quantity, priceKey: `${engine}.instance.${instanceClass}`, basis: `${h.basis} (instanceClass)` }];
};

const priceAuroraCluster: Pricer = (cluster, context) => {
  if (str(cluster.inputs.storageType) === "aurora-iopt1") return { unpriced: "Aurora I/O-Optimized storage is not in the price table" };
  const volume = assumed(context.assumptions.databases, cluster, "databases");
  return [
    { item: "storage (GB-month)", quantity: volume.value.storageGb, priceKey: "aurora.storage.gb-month", basis: volume.basis },
    { item: "I/O requests (million)", quantity: volume.value.ioMillionsPerMonth, priceKey: "aurora.io.million", basis: volume.basis },
  ].filter((line) => line.quantity > 0);
};

const priceRedshiftCluster: Pricer = (cluster, context) => {
  const nodeType = str(cluster.inputs.nodeType);
  if (!nodeType) return { unpriced: "no nodeType" };
  const usage = assumed(context.assumptions.warehouses, cluster, "warehouses");
  const nodes = num(cluster.inputs.numberOfNodes, 1);
  // Multi-AZ runs the same nodes in a second AZ, and bills both.
  const copies = cluster.inputs.multiAz === true ? 2 : 1;
  const lines: Quantity[] = [
    {
      item: `${nodeType} node-hours`,
      quantity: nodes * copies * usage.value.runningHoursPerMonth,
      priceKey: `redshift.node.${nodeType}`,
      basis: `${nodes} node(s) (numberOfNodes)${copies === 2 ? " × 2 AZs (multiAz)" : ""} × ${usage.value.runningHoursPerMonth} h (${usage.basis})`,
    },
  ];
  if (nodeType.startsWith("ra3")) lines.push({ item: "managed storage (GB-month)", quantity: usage.value.managedStorageGb, priceKey: "redshift.managed-storage.gb-month", basis: usage.basis });
  return lines;
};

/** Serverless bills RPU-hours while active; the base capacity is the floor (128 RPU unless set). */
const priceServerlessWorkgroup: Pricer = (workgroup, context) => {
  const usage = assumed(context.assumptions.warehouses, workgroup, "warehouses");
  const rpu = num(workgroup.inputs.baseCapacity, 128);
  return [
    { item: "RPU-hours at base capacity", quantity: rpu * usage.value.runningHoursPerMonth, priceKey: "redshift-serverless.rpu-hour", basis: `${rpu} RPU (baseCapacity) × ${usage.value.runningHoursPerMonth} active h (${usage.basis})` },
    { item: "managed storage (GB-month)", quantity: usage.value.managedStorageGb, priceKey: "redshift.managed-storage.gb-month", basis: usage.basis },
  ];
};

const priceReplicationGroup: Pricer = (group, context) => {
  const nodeType = str(group.inputs.nodeType);
  if (!nodeType) return { unpriced: "no nodeType" };
  const shards = num(group.inputs.numNodeGroups, 1);
  const nodes = group.inputs.numCacheClusters !== undefined ? num(group.inputs.numCacheClusters, 1) : shards * (num(group.inputs.replicasPerNodeGroup, 0) + 1);
  const h = hours(context, nodes, "node(s)");
  return [{ item: `${nodeType} node-hours`, quantity: h.quantity, priceKey: `elasticache.node.${nodeType}`, basis: `${h.basis} (numCacheClusters)` }];
};

// ---- Batch ------------------------------------------------------------------------------

/** DPUs per worker of each Glue worker type (https://docs.aws.amazon.com/glue/latest/dg/worker-types.html). */
export const GLUE_DPUS_PER_WORKER: Readonly<Record<string, number>> = { "G.1X": 1, "G.2X": 2, "G.4X": 4, "G.8X": 8 };

/** Glue 2.0 and later bill a job run per second with a 1-minute minimum; a crawl bills at least 10 minutes. */
const GLUE_JOB_MINIMUM_MINUTES = 1;
const GLUE_CRAWL_MINIMUM_MINUTES = 10;

const priceGlueJob: Pricer = (job, context) => {
  if (str(record(job.inputs.command).name) === "pythonshell") return { unpriced: "Python shell jobs (maxCapacity DPUs) are not in the price table" };
  if (str(job.inputs.executionClass) === "FLEX") return { unpriced: "the Flex execution class has its own DPU-hour price, not in the price table" };
  const workerType = str(job.inputs.workerType);
  const dpusPerWorker = workerType ? GLUE_DPUS_PER_WORKER[workerType] : undefined;
  if (!workerType || dpusPerWorker === undefined) return { unpriced: `worker type ${workerType ?? "(none)"} has no DPU figure here` };
  const workers = num(job.inputs.numberOfWorkers, 0);
  if (workers <= 0) return { unpriced: "no numberOfWorkers" };
  const runs = assumed(context.assumptions.glueJobs, job, "glueJobs");
  const { runsPerMonth, averageMinutesPerRun } = runs.value;
  const billedMinutes = Math.max(averageMinutesPerRun, GLUE_JOB_MINIMUM_MINUTES);
  const dpus = dpusPerWorker * workers;
  return [
    {
      item: "job DPU-hours",
      quantity: (dpus * runsPerMonth * billedMinutes) / 60,
      priceKey: "glue.etl.dpu-hour",
      basis: `${workers} × ${workerType} (${dpusPerWorker} DPU) = ${dpus} DPU × ${runsPerMonth} runs × ${billedMinutes} min (${runs.basis}; 1-minute minimum a run)`,
    },
  ];
};

const priceCrawler: Pricer = (crawler, context) => {
  const crawls = assumed(context.assumptions.crawlers, crawler, "crawlers");
  const { crawlsPerMonth, dpus, averageMinutesPerCrawl } = crawls.value;
  const billedMinutes = Math.max(averageMinutesPerCrawl, GLUE_CRAWL_MINIMUM_MINUTES);
  const minimum = billedMinutes > averageMinutesPerCrawl ? ` (${averageMinutesPerCrawl} min billed as the 10-minute minimum)` : "";
  return [
    {
      item: "crawler DPU-hours",
      quantity: (dpus * crawlsPerMonth * billedMinutes) / 60,
      priceKey: "glue.crawler.dpu-hour",
      basis: `${dpus} DPU × ${crawlsPerMonth} crawls × ${billedMinutes} min${minimum} (${crawls.basis})`,
    },
  ];
};

/** "64 vCPU" → 64, "256 GB" → 256, "512 MB" → 0.5 (in the unit the price is per); undefined when absent or unreadable. */
export function capacityAmount(value: unknown, unit: "vCPU" | "GB"): number | undefined {
  const match = /^\s*(\d+(?:\.\d+)?)\s*(vcpu|gb|mb)?\s*$/i.exec(typeof value === "string" ? value : "");
  if (!match) return undefined;
  const amount = Number(match[1]);
  const given = (match[2] ?? unit).toUpperCase();
  if (unit === "GB" && given === "MB") return amount / 1024;
  return given === unit.toUpperCase() ? amount : undefined;
}

/** Serverless bills the vCPU and memory its workers hold while jobs run; maximumCapacity is the most it may hold at once. */
const priceSparkApplication: Pricer = (application, context) => {
  const usage = assumed(context.assumptions.sparkApplications, application, "sparkApplications");
  const { hoursPerMonth, averageVcpu, averageMemoryGb } = usage.value;
  const maximum = record(application.inputs.maximumCapacity);
  const bounded = (average: number, cap: number | undefined, unit: string) =>
    cap !== undefined && average > cap ? { amount: cap, note: `${average} ${unit} capped at maximumCapacity ${cap}` } : { amount: average, note: `${average} ${unit}${cap === undefined ? " (no maximumCapacity)" : ` (maximumCapacity ${cap})`}` };
  const vcpu = bounded(averageVcpu, capacityAmount(maximum.cpu, "vCPU"), "vCPU");
  const memory = bounded(averageMemoryGb, capacityAmount(maximum.memory, "GB"), "GB");
  const arm = str(application.inputs.architecture) === "ARM64";
  const family = arm ? "arm" : "x86";
  const label = arm ? "ARM64" : "x86_64";
  return [
    { item: `vCPU-hours (${label})`, quantity: vcpu.amount * hoursPerMonth, priceKey: `emr-serverless.${family}.vcpu-hour`, basis: `${vcpu.note} × ${hoursPerMonth} h (${usage.basis})` },
    { item: `memory GB-hours (${label})`, quantity: memory.amount * hoursPerMonth, priceKey: `emr-serverless.${family}.gb-hour`, basis: `${memory.note} × ${hoursPerMonth} h; ephemeral storage past the free 20 GB a worker not priced` },
  ];
};

const priceStateMachine: Pricer = (machine, context) => {
  if (str(machine.inputs.type) === "EXPRESS") return { unpriced: "Express workflows (requests and GB-seconds) are not in the price table" };
  const executions = assumed(context.assumptions.stateMachines, machine, "stateMachines");
  const { executionsPerMonth, transitionsPerExecution } = executions.value;
  return [
    {
      item: "state transitions (thousand)",
      quantity: (executionsPerMonth * transitionsPerExecution) / 1000,
      priceKey: "stepfunctions.standard.thousand-transitions",
      basis: `${executionsPerMonth} executions × ${transitionsPerExecution} transitions (${executions.basis})`,
    },
  ];
};

const priceSchedule: Pricer = (schedule, context) => {
  const invocations = assumed(context.assumptions.schedules, schedule, "schedules");
  // A disabled schedule invokes nothing.
  const disabled = str(schedule.inputs.state) === "DISABLED";
  const count = disabled ? 0 : invocations.value.invocationsPerMonth;
  return [
    {
      item: "invocations (million)",
      quantity: count / MILLION,
      priceKey: "scheduler.invocations.million",
      basis: disabled ? "state DISABLED" : `${count} invocations (${invocations.basis})`,
    },
  ];
};

/**
 * Storage each DMS replication instance includes: 50 GB for the burstable T2/T3 classes,
 * 100 GB for the others (C4-C7i, R4-R7i). The author's understanding of the DMS pricing
 * page (https://aws.amazon.com/dms/pricing/), whose text was not retrieved: check it there.
 */
export function dmsIncludedStorageGb(instanceClass: string): number {
  return /^dms\.t[23]\./.test(instanceClass) ? 50 : 100;
}

const priceReplicationInstance: Pricer = (instance, context) => {
  const instanceClass = str(instance.inputs.replicationInstanceClass);
  if (!instanceClass) return { unpriced: "no replicationInstanceClass" };
  // Multi-AZ keeps a standby, with its own storage, in a second AZ and bills both.
  const copies = instance.inputs.multiAz === true ? 2 : 1;
  const multiAz = copies === 2 ? " × 2 (multiAz)" : "";
  const h = hours(context, copies, "instance(s)");
  const allocated = num(instance.inputs.allocatedStorage, 50);
  const included = dmsIncludedStorageGb(instanceClass);
  const lines: Quantity[] = [{ item: `${instanceClass} instance-hours`, quantity: h.quantity, priceKey: `dms.instance.${instanceClass}`, basis: `${h.basis} (replicationInstanceClass${multiAz})` }];
  if (allocated > included) {
    lines.push({
      item: "storage beyond the included (GB-month)",
      quantity: (allocated - included) * copies,
      priceKey: "dms.storage.gb-month",
      basis: `allocatedStorage ${allocated} GB − ${included} GB included${multiAz}`,
    });
  }
  return lines;
};

// ---- Keys, secrets, alarms -------------------------------------------------------------

const priceKey: Pricer = () => [{ item: "key-months", quantity: 1, priceKey: "kms.key-month", basis: "1 key" }];

const priceSecret: Pricer = (secret) => [
  { item: "secret-months", quantity: 1, priceKey: "secretsmanager.secret-month", basis: "1 secret" },
  ...list(secret.inputs.replicas)
    .map((replica) => str(record(replica).region))
    .filter((region): region is string => region !== undefined)
    .map((region) => ({ item: `replica in ${region} (secret-months)`, quantity: 1, priceKey: "secretsmanager.secret-month", basis: "replicas", region })),
];

const priceAlarm: Pricer = (alarm) => {
  // An alarm on metric math is billed per metric it reads; periods under 60 s are high resolution.
  const metrics = list(alarm.inputs.metricQueries).filter((query) => record(query).metric !== undefined).length || 1;
  const highResolution = num(alarm.inputs.period, 60) < 60;
  return [
    {
      item: `${highResolution ? "high-resolution" : "standard"} alarm metric-months`,
      quantity: metrics,
      priceKey: highResolution ? "cloudwatch.alarm.high-resolution.metric-month" : "cloudwatch.alarm.standard.metric-month",
      basis: `${metrics} metric(s)`,
    },
  ];
};

/** The priced resource types. A new kind is a price-table entry plus one pricer here. */
export const PRICERS: Readonly<Record<string, Pricer>> = {
  [AWSX_VPC]: priceVpc,
  [NAT_GATEWAY]: priceNatGateway,
  "aws:ec2/vpcEndpoint:VpcEndpoint": priceVpcEndpoint,
  "aws:kinesis/stream:Stream": priceStream,
  "aws:kinesis/firehoseDeliveryStream:FirehoseDeliveryStream": priceFirehose,
  "aws:lambda/function:Function": priceFunction,
  "aws:dynamodb/table:Table": priceTable,
  "aws:s3/bucket:Bucket": priceBucket,
  "aws:s3/bucketV2:BucketV2": priceBucket,
  "aws:rds/cluster:Cluster": priceAuroraCluster,
  "aws:rds/clusterInstance:ClusterInstance": priceClusterInstance,
  "aws:redshift/cluster:Cluster": priceRedshiftCluster,
  "aws:redshiftserverless/workgroup:Workgroup": priceServerlessWorkgroup,
  "aws:elasticache/replicationGroup:ReplicationGroup": priceReplicationGroup,
  "aws:kms/key:Key": priceKey,
  "aws:kms/replicaKey:ReplicaKey": priceKey,
  "aws:secretsmanager/secret:Secret": priceSecret,
  "aws:cloudwatch/metricAlarm:MetricAlarm": priceAlarm,
  "aws:glue/job:Job": priceGlueJob,
  "aws:glue/crawler:Crawler": priceCrawler,
  "aws:emrserverless/application:Application": priceSparkApplication,
  "aws:sfn/stateMachine:StateMachine": priceStateMachine,
  "aws:scheduler/schedule:Schedule": priceSchedule,
  "aws:dms/replicationInstance:ReplicationInstance": priceReplicationInstance,
};

/**
 * Types that cost money but are not priced, with the reason printed in "Not priced".
 *
 * Types that cost nothing by themselves are in neither table, as IAM roles and bucket
 * settings are, so they add no line and no "Not priced" entry. Of the batch layer's kinds:
 * a Glue security configuration; a Glue catalog table (Data Catalog objects bill only past
 * the first million a month, $1 per 100,000, negligible beside the rest); a DMS endpoint,
 * replication task and replication subnet group (DMS bills the replication instance); a
 * Redshift resource policy; and an S3 object (its bytes are in its bucket's volume).
 */
export const NOT_PRICED: Readonly<Record<string, string>> = {
  "aws:cloudwatch/logGroup:LogGroup": "log ingestion and storage depend on log volume",
  "aws:ec2/flowLog:FlowLog": "flow-log delivery is billed as log ingestion",
  "aws:apigatewayv2/api:Api": "HTTP API requests",
  "aws:sqs/queue:Queue": "SQS requests",
  "aws:sns/topic:Topic": "SNS publishes and deliveries",
  "aws:backup/plan:Plan": "AWS Backup storage and cross-region copies",
  "aws:backup/restoreTestingPlan:RestoreTestingPlan": "restore tests run restored resources for a while",
  "aws:s3/bucketReplicationConfig:BucketReplicationConfig": "replication data transfer and RTC per GB",
  "aws:redshift/snapshotCopy:SnapshotCopy": "cross-region snapshot transfer and storage",
  "aws:athena/workgroup:Workgroup": "Athena data scanned",
  "aws:rds/globalCluster:GlobalCluster": "Aurora Global Database replicated write I/Os and transfer",
  "aws:cloudwatch/eventRule:EventRule": "EventBridge events (AWS service events are free)",
  // "Zero-ETL integration is provided at no additional charge"
  // (https://aws.amazon.com/blogs/database/transition-from-aws-dms-to-zero-etl-to-simplify-real-time-data-integration-with-amazon-redshift);
  // what it adds bills on the cluster and the warehouse.
  "aws:rds/integration:Integration":
    "no charge for the integration itself; the extra Aurora I/O of its change data (enhanced logical replication writes whole rows to the WAL) and the warehouse's work applying it bill on those resources, beyond what their assumptions state",
};

/** The top-level component a resource belongs to: its last ancestor that is in the stack. */
export function topLevelComponent(resource: CostResource, byUrn: ReadonlyMap<string, CostResource>): CostResource | undefined {
  let top: CostResource | undefined;
  for (let current = resource.parent ? byUrn.get(resource.parent) : undefined; current; current = current.parent ? byUrn.get(current.parent) : undefined) top = current;
  return top;
}

/** "dataplatform:network:Network" named "dp-prod-network" → "Network dp-prod-network". */
export function componentLabel(component: CostResource | undefined): string {
  return component ? `${component.type.split(":").pop()} ${component.name}` : "(stack)";
}

/** The region most resources are in: where a resource without one (a remote component) is priced. */
export function mainRegion(resources: readonly CostResource[]): string | undefined {
  const counts = new Map<string, number>();
  for (const r of resources) if (r.region) counts.set(r.region, (counts.get(r.region) ?? 0) + 1);
  return [...counts.entries()].sort((a, b) => b[1] - a[1])[0]?.[0];
}

export function budgetsOf(resources: readonly CostResource[]): StackBudget[] {
  return resources
    .filter((r) => r.type === "aws:budgets/budget:Budget" && (str(r.inputs.limitUnit) ?? "USD") === "USD")
    .map((r) => ({ name: r.name, urn: r.urn, limitUsd: num(r.inputs.limitAmount, Number.NaN) }))
    .filter((b) => Number.isFinite(b.limitUsd));
}

const cents = (usd: number) => Math.round(usd * 100) / 100;

export interface EstimateOptions {
  readonly stack: string;
  readonly assumptions: StackAssumptions;
  /** @default PRICE_TABLE */
  readonly prices?: PriceTable;
  /** @default PRICERS */
  readonly pricers?: Readonly<Record<string, Pricer>>;
}

export function estimateCost(resources: readonly CostResource[], options: EstimateOptions): CostEstimate {
  const prices = options.prices ?? PRICE_TABLE;
  const pricers = options.pricers ?? PRICERS;
  const byUrn = new Map(resources.map((r) => [r.urn, r]));
  const fallbackRegion = mainRegion(resources);
  const context: PricingContext = { assumptions: options.assumptions, hoursPerMonth: prices.hoursPerMonth, resources };
  const lines: CostLine[] = [];
  const unpriced: Unpriced[] = [];
  for (const resource of resources) {
    const component = componentLabel(topLevelComponent(resource, byUrn));
    const where = { component, resource: resource.name, type: resource.type };
    const pricer = pricers[resource.type];
    if (!pricer) {
      if (NOT_PRICED[resource.type]) unpriced.push({ ...where, reason: NOT_PRICED[resource.type] });
      continue;
    }
    const pricing = pricer(resource, context);
    if (!Array.isArray(pricing)) {
      unpriced.push({ ...where, reason: pricing.unpriced });
      continue;
    }
    for (const quantity of pricing) {
      const region = quantity.region ?? resource.region ?? fallbackRegion ?? "(no region)";
      const price = priceOf(prices, quantity.priceKey, region);
      if (!price) {
        unpriced.push({ ...where, reason: `no price for ${quantity.priceKey} in ${region} (${quantity.item}: ${quantity.quantity})` });
        continue;
      }
      lines.push({ ...quantity, ...where, region, unit: price.unit, unitPriceUsd: price.usd, monthlyUsd: quantity.quantity * price.usd, confidence: price.confidence });
    }
  }
  const components = new Map<string, number>();
  for (const line of lines) components.set(line.component, (components.get(line.component) ?? 0) + line.monthlyUsd);
  return {
    stack: options.stack,
    pricesRetrieved: prices.retrieved,
    lines,
    components: [...components.entries()].map(([component, monthlyUsd]) => ({ component, monthlyUsd: cents(monthlyUsd) })),
    totalUsd: cents(lines.reduce((sum, line) => sum + line.monthlyUsd, 0)),
    unpriced,
    budgets: budgetsOf(resources),
  };
}

export interface ComponentDelta {
  readonly component: string;
  readonly baseUsd: number;
  readonly headUsd: number;
  readonly deltaUsd: number;
}

export interface CostDelta {
  readonly baseUsd: number;
  readonly headUsd: number;
  readonly deltaUsd: number;
  /** Components whose cost changed (added and removed ones included), largest change first. */
  readonly components: ComponentDelta[];
}

/** What a change costs: head minus base, per component and in total (for `--diff BASE`). */
export function costDelta(base: CostEstimate, head: CostEstimate): CostDelta {
  const baseBy = new Map(base.components.map((c) => [c.component, c.monthlyUsd]));
  const headBy = new Map(head.components.map((c) => [c.component, c.monthlyUsd]));
  const names = [...new Set([...baseBy.keys(), ...headBy.keys()])];
  const components = names
    .map((component) => {
      const baseUsd = baseBy.get(component) ?? 0;
      const headUsd = headBy.get(component) ?? 0;
      return { component, baseUsd, headUsd, deltaUsd: cents(headUsd - baseUsd) };
    })
    .filter((c) => c.deltaUsd !== 0)
    .sort((a, b) => Math.abs(b.deltaUsd) - Math.abs(a.deltaUsd) || a.component.localeCompare(b.component));
  return { baseUsd: base.totalUsd, headUsd: head.totalUsd, deltaUsd: cents(head.totalUsd - base.totalUsd), components };
}
