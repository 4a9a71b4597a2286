/**
 * The monthly cost estimate: the pure pricers against hand-computed cases (the arithmetic
 * is in each test), the delta between two plans, and the real dev, prod and prod-dr
 * evaluations as `npm run plan -- --cost` prices them, in the CLI and in the policy pack.
 */
import { execFileSync } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { ASSUMPTIONS, StackAssumptions, forResource } from "../policies/cost/assumptions";
import { CostEstimate, CostResource, GLUE_DPUS_PER_WORKER, NOT_PRICED, PRICERS, capacityAmount, costDelta, dmsIncludedStorageGb, estimateCost, natGatewaysOfVpc } from "../policies/cost/estimate";
import { PRICE_TABLE, PriceTable } from "../policies/cost/price-table";
import { parseCliArgs } from "../scripts/cli";
import { PROJECT_DIR, StackEvaluation } from "../scripts/engine";
import { budgetLine, costSection, estimatePlan, planCostDelta, renderCostDelta } from "../scripts/cost";
import { graphDocument } from "../scripts/plan";
import { checkEvaluation } from "../scripts/policy";
import { evaluateStage } from "../scripts/stage-evaluation";
import { cachedEvaluateStack } from "./support/evaluation-cache";
import { evaluate } from "./support/stack";

/** Round prices, so the expected figures can be worked out by hand. */
const price = (usd: number) => ({ "eu-west-1": { usd, confidence: "confirmed" as const, source: "test" } });
const TEST_PRICES: PriceTable = {
  retrieved: "2026-01-01",
  currency: "USD",
  hoursPerMonth: 730,
  entries: {
    "vpc.nat-gateway.hour": { description: "", unit: "hour", regions: price(0.05) },
    "vpc.nat-gateway.gb": { description: "", unit: "GB", regions: price(0.05) },
    "privatelink.interface-endpoint.az-hour": { description: "", unit: "AZ-hour", regions: price(0.01) },
    "privatelink.interface-endpoint.gb": { description: "", unit: "GB", regions: price(0.01) },
    "kinesis.provisioned.shard-hour": { description: "", unit: "shard-hour", regions: price(0.02) },
    "kinesis.provisioned.put-payload-units": { description: "", unit: "million units", regions: price(0.01) },
    "kinesis.provisioned.extended-retention.shard-hour": { description: "", unit: "shard-hour", regions: price(0.01) },
    "lambda.requests": { description: "", unit: "million requests", regions: price(0.2) },
    "lambda.x86.gb-second": { description: "", unit: "GB-second", regions: price(0.00001) },
    "dynamodb.on-demand.write.million": { description: "", unit: "million WRU", regions: price(1) },
    "dynamodb.on-demand.read.million": { description: "", unit: "million RRU", regions: price(0.2) },
    "dynamodb.storage.gb-month": { description: "", unit: "GB-month", regions: price(0.25) },
    "dynamodb.on-demand.replicated-write.million": { description: "", unit: "million rWRU", regions: { "eu-central-1": { usd: 1.5, confidence: "confirmed", source: "test" } } },
    "redshift.node.ra3.xlplus": { description: "", unit: "node-hour", regions: price(1) },
    "redshift.managed-storage.gb-month": { description: "", unit: "GB-month", regions: price(0.02) },
    "kms.key-month": { description: "", unit: "key-month", regions: price(1) },
    "glue.etl.dpu-hour": { description: "", unit: "DPU-hour", regions: price(0.5) },
    "glue.crawler.dpu-hour": { description: "", unit: "DPU-hour", regions: price(0.4) },
    "emr-serverless.x86.vcpu-hour": { description: "", unit: "vCPU-hour", regions: price(0.05) },
    "emr-serverless.x86.gb-hour": { description: "", unit: "GB-hour", regions: price(0.005) },
    "emr-serverless.arm.vcpu-hour": { description: "", unit: "vCPU-hour", regions: price(0.04) },
    "emr-serverless.arm.gb-hour": { description: "", unit: "GB-hour", regions: price(0.004) },
    "stepfunctions.standard.thousand-transitions": { description: "", unit: "thousand state transitions", regions: price(0.025) },
    "scheduler.invocations.million": { description: "", unit: "million invocations", regions: price(1) },
    "dms.instance.dms.t3.medium": { description: "", unit: "instance-hour", regions: price(0.1) },
    "dms.instance.dms.r5.large": { description: "", unit: "instance-hour", regions: price(0.25) },
    "dms.storage.gb-month": { description: "", unit: "GB-month", regions: price(0.1) },
  },
};

const TRAFFIC: StackAssumptions = {
  summary: "test traffic",
  natGatewayGbPerMonth: 100,
  interfaceEndpointGbPerMonth: 50,
  streams: { default: { recordsPerMonth: 2_000_000, recordSizeKb: 30, consumers: 2 } },
  firehoses: { default: { recordsPerMonth: 0, recordSizeKb: 1 } },
  functions: { default: { invocationsPerMonth: 0, averageDurationMs: 0 }, "consumer-fn": { invocationsPerMonth: 3_000_000, averageDurationMs: 250 } },
  tables: { default: { writesPerMonth: 0, readsPerMonth: 0, storageGb: 0 }, "speed-layer": { writesPerMonth: 4_000_000, readsPerMonth: 10_000_000, storageGb: 40 } },
  buckets: { default: { standardGb: 0, standardIaGb: 0, glacierGb: 0 } },
  databases: { default: { storageGb: 0, ioMillionsPerMonth: 0 } },
  warehouses: { default: { runningHoursPerMonth: 200, managedStorageGb: 500 } },
  glueJobs: { default: { runsPerMonth: 0, averageMinutesPerRun: 0 }, "batch-file": { runsPerMonth: 30, averageMinutesPerRun: 12 }, curation: { runsPerMonth: 30, averageMinutesPerRun: 0.5 } },
  crawlers: { default: { crawlsPerMonth: 30, dpus: 2, averageMinutesPerCrawl: 4 }, "long-crawler": { crawlsPerMonth: 4, dpus: 3, averageMinutesPerCrawl: 15 } },
  sparkApplications: { default: { hoursPerMonth: 10, averageVcpu: 80, averageMemoryGb: 200 } },
  stateMachines: { default: { executionsPerMonth: 32, transitionsPerExecution: 50 } },
  schedules: { default: { invocationsPerMonth: 30 } },
};

const STACK_URN = "urn:pulumi:test::data-platform::pulumi:pulumi:Stack::data-platform-test";
const urn = (type: string, name: string) => `urn:pulumi:test::data-platform::${type}::${name}`;
const component = (type: string, name: string): CostResource => ({ urn: urn(type, name), type, name, parent: STACK_URN, inputs: {} });
const NETWORK = component("dataplatform:network:Network", "dp-test-network");
const INGESTION = component("dataplatform:ingestion:IngestionLayer", "dp-test-ingestion");
const resource = (type: string, name: string, inputs: Record<string, unknown>, parent: CostResource = INGESTION, region = "eu-west-1"): CostResource => ({
  urn: urn(type, name),
  type,
  name,
  parent: parent.urn,
  region,
  inputs,
});

const estimate = (resources: CostResource[]) => estimateCost(resources, { stack: "test", assumptions: TRAFFIC, prices: TEST_PRICES });
const line = (e: CostEstimate, resourceName: string, item: RegExp) => {
  const found = e.lines.filter((l) => l.resource === resourceName && item.test(l.item));
  if (found.length !== 1) throw new Error(`expected one line ${item} on ${resourceName}, found ${found.length}`);
  return found[0];
};

describe("pricers, against hand-computed cases", () => {
  it("prices an awsx Vpc's NAT gateways from its strategy, and interface endpoints per AZ", () => {
    const vpc = resource("awsx:ec2:Vpc", "dp-test-network-vpc", { natGateways: { strategy: "OnePerAz" }, numberOfAvailabilityZones: 3 }, NETWORK, undefined);
    const endpointIn = (name: string, azs: number) => resource("aws:ec2/vpcEndpoint:VpcEndpoint", name, { vpcEndpointType: "Interface", subnetIds: Array.from({ length: azs }, (_, i) => `subnet-${i}`) }, NETWORK);
    const gateway = resource("aws:ec2/vpcEndpoint:VpcEndpoint", "dp-test-network-s3-endpoint", { vpcEndpointType: "Gateway" }, NETWORK);
    const e = estimate([NETWORK, vpc, endpointIn("dp-test-network-sqs-endpoint", 3), endpointIn("dp-test-network-kms-endpoint", 2), gateway]);
    // 3 gateways × 730 h × $0.05 = $109.50; 100 GB × $0.05 = $5.00 (priced in the stack's main region).
    expect(line(e, "dp-test-network-vpc", /gateway-hours/)).toMatchObject({ quantity: 2190, unitPriceUsd: 0.05, monthlyUsd: 109.5, region: "eu-west-1" });
    expect(line(e, "dp-test-network-vpc", /data processed/).monthlyUsd).toBeCloseTo(5, 10);
    // sqs: 3 AZs × 730 h × $0.01 = $21.90, plus 50 GB / 2 endpoints × $0.01 = $0.25; kms: 2 × 730 × 0.01 = $14.60 + $0.25.
    expect(line(e, "dp-test-network-sqs-endpoint", /AZ-hours/).monthlyUsd).toBeCloseTo(21.9, 10);
    expect(line(e, "dp-test-network-kms-endpoint", /AZ-hours/).monthlyUsd).toBeCloseTo(14.6, 10);
    expect(line(e, "dp-test-network-kms-endpoint", /data processed/).quantity).toBe(25);
    // Gateway endpoints are free. Total: 109.50 + 5 + 21.90 + 0.25 + 14.60 + 0.25 = $151.50.
    expect(e.lines.filter((l) => l.resource === "dp-test-network-s3-endpoint")).toEqual([]);
    expect(e.totalUsd).toBe(151.5);
    expect(e.components).toEqual([{ component: "Network dp-test-network", monthlyUsd: 151.5 }]);
  });

  it("counts NAT gateways as awsx does: Single is one, OnePerAz one per AZ (3 by default), None none", () => {
    expect(natGatewaysOfVpc({ natGateways: { strategy: "Single" }, numberOfAvailabilityZones: 3 })).toBe(1);
    expect(natGatewaysOfVpc({ natGateways: { strategy: "OnePerAz" }, numberOfAvailabilityZones: 2 })).toBe(2);
    expect(natGatewaysOfVpc({})).toBe(3);
    expect(natGatewaysOfVpc({ natGateways: { strategy: "None" } })).toBe(0);
  });

  it("prices the real NAT gateways of a preview instead of the Vpc's inputs", () => {
    const vpc = resource("awsx:ec2:Vpc", "dp-test-network-vpc", { natGateways: { strategy: "OnePerAz" }, numberOfAvailabilityZones: 3 }, NETWORK, undefined);
    const nat = (i: number) => ({ ...resource("aws:ec2/natGateway:NatGateway", `dp-test-network-vpc-${i}`, {}, NETWORK), parent: vpc.urn });
    const e = estimate([NETWORK, vpc, nat(1), nat(2)]);
    // 2 gateways: each 730 h × $0.05 = $36.50 and half of 100 GB × $0.05 = $2.50.
    expect(e.lines.map((l) => [l.resource, l.monthlyUsd])).toEqual([
      ["dp-test-network-vpc-1", 36.5],
      ["dp-test-network-vpc-1", 2.5],
      ["dp-test-network-vpc-2", 36.5],
      ["dp-test-network-vpc-2", 2.5],
    ]);
    expect(e.components).toEqual([{ component: "Network dp-test-network", monthlyUsd: 78 }]);
  });

  it("keeps a stream retained past 7 days priced, its long-term storage named as not priced", () => {
    const at = (retentionPeriod: number) => estimate([INGESTION, resource("aws:kinesis/stream:Stream", "dp-test-ingestion-stream", { shardCount: 4, streamModeDetails: { streamMode: "PROVISIONED" }, retentionPeriod })]);
    const week = at(168);
    const fortnight = at(336);
    // The same shard-hours, PUT units and extended retention either way: $87.64, as below.
    expect(week.totalUsd).toBe(87.64);
    expect(fortnight.totalUsd).toBe(87.64);
    expect(line(fortnight, "dp-test-ingestion-stream", /extended/).basis).toMatch(/168 h beyond 7 days are billed per GB-month, not priced/);
  });

  it("prices a provisioned stream from shards, PUT payload units and extended retention", () => {
    const stream = resource("aws:kinesis/stream:Stream", "dp-test-ingestion-stream", { shardCount: 4, streamModeDetails: { streamMode: "PROVISIONED" }, retentionPeriod: 168 });
    const e = estimate([INGESTION, stream]);
    // 4 shards × 730 h × $0.02 = $58.40.
    expect(line(e, "dp-test-ingestion-stream", /^shard-hours/).monthlyUsd).toBeCloseTo(58.4, 10);
    // 30 KB records are 2 PUT payload units (25 KB chunks): 2,000,000 × 2 = 4 million × $0.01 = $0.04.
    expect(line(e, "dp-test-ingestion-stream", /PUT payload/)).toMatchObject({ quantity: 4 });
    // 168 h > 24 h: 2,920 extended-retention shard-hours × $0.01 = $29.20. Total 58.40 + 0.04 + 29.20 = $87.64.
    expect(line(e, "dp-test-ingestion-stream", /extended/).monthlyUsd).toBeCloseTo(29.2, 10);
    expect(e.totalUsd).toBe(87.64);
  });

  it("prices a Lambda function from its memorySize and the stated invocations and duration", () => {
    const fn = resource("aws:lambda/function:Function", "dp-test-ingestion-consumer-fn", { memorySize: 512 });
    const e = estimate([INGESTION, fn]);
    // 3,000,000 requests = 3 million × $0.20 = $0.60.
    expect(line(e, fn.name, /requests/).monthlyUsd).toBeCloseTo(0.6, 10);
    // 3,000,000 × 0.25 s × 0.5 GB = 375,000 GB-s × $0.00001 = $3.75.
    expect(line(e, fn.name, /duration/)).toMatchObject({ quantity: 375_000, priceKey: "lambda.x86.gb-second" });
    expect(e.totalUsd).toBe(4.35);
  });

  it("prices an on-demand table and its replica: writes again in the replica's region, storage in both", () => {
    const table = resource("aws:dynamodb/table:Table", "dp-test-ingestion-speed-layer", { billingMode: "PAY_PER_REQUEST", replicas: [{ regionName: "eu-central-1" }] });
    const e = estimate([INGESTION, table]);
    // 4 million WRU × $1 = $4; 10 million RRU × $0.20 = $2; 40 GB × $0.25 = $10.
    // Replica: 4 million rWRU × $1.50 = $6 in eu-central-1; its storage has no eu-central-1 price here, so it is reported unpriced.
    expect(line(e, table.name, /replicated writes/)).toMatchObject({ region: "eu-central-1", monthlyUsd: 6 });
    expect(e.totalUsd).toBe(4 + 2 + 10 + 6);
    expect(e.unpriced).toEqual([expect.objectContaining({ resource: table.name, reason: expect.stringMatching(/no price for dynamodb.storage.gb-month in eu-central-1/) })]);
  });

  it("prices a Multi-AZ Redshift cluster's nodes in both AZs for the stated running hours", () => {
    const warehouse = component("dataplatform:stores:AnalyticsWarehouse", "dp-test-warehouse");
    const cluster = resource("aws:redshift/cluster:Cluster", "dp-test-warehouse-cluster", { nodeType: "ra3.xlplus", numberOfNodes: 2, multiAz: true }, warehouse);
    const e = estimate([warehouse, cluster]);
    // 2 nodes × 2 AZs × 200 h × $1 = $800; 500 GB managed storage × $0.02 = $10.
    expect(line(e, cluster.name, /node-hours/)).toMatchObject({ quantity: 800, monthlyUsd: 800 });
    expect(e.components).toEqual([{ component: "AnalyticsWarehouse dp-test-warehouse", monthlyUsd: 810 }]);
  });

  it("reports what it cannot price instead of guessing", () => {
    const table = resource("aws:dynamodb/table:Table", "dp-test-ingestion-provisioned", { billingMode: "PROVISIONED" });
    const logs = resource("aws:cloudwatch/logGroup:LogGroup", "dp-test-ingestion-logs", {});
    const instance = resource("aws:rds/clusterInstance:ClusterInstance", "dp-test-oltp-writer", { instanceClass: "db.x2g.16xlarge", engine: "aurora-postgresql" });
    const e = estimate([INGESTION, table, logs, instance]);
    expect(e.totalUsd).toBe(0);
    expect(e.unpriced.map((u) => `${u.resource}: ${u.reason}`)).toEqual([
      "dp-test-ingestion-provisioned: provisioned capacity is not in the price table",
      "dp-test-ingestion-logs: log ingestion and storage depend on log volume",
      "dp-test-oltp-writer: no price for aurora-postgresql.instance.db.x2g.16xlarge in eu-west-1 (db.x2g.16xlarge instance-hours: 730)",
    ]);
  });

  it("matches assumptions by the end of the logical name, longest key first", () => {
    const figures = { default: 0, "lake-raw": 1, "dr-lake-raw": 2 };
    expect(forResource(figures, "dp-prod-lake-raw")).toEqual({ key: "lake-raw", value: 1 });
    expect(forResource(figures, "dp-prod-dr-lake-raw")).toEqual({ key: "dr-lake-raw", value: 2 });
    expect(forResource(figures, "dp-prod-lake-rawest")).toEqual({ key: "default", value: 0 });
  });

  it("gives the cost delta of a change per component and in total", () => {
    const key = (name: string) => resource("aws:kms/key:Key", name, {}, NETWORK);
    const fn = resource("aws:lambda/function:Function", "dp-test-ingestion-consumer-fn", { memorySize: 512 });
    const base = estimate([NETWORK, INGESTION, key("dp-test-network-a"), fn]);
    // The head adds a key ($1) and doubles the function's memory: 750,000 GB-s × $0.00001 = $7.50 instead of $3.75.
    const head = estimate([NETWORK, INGESTION, key("dp-test-network-a"), key("dp-test-network-b"), { ...fn, inputs: { memorySize: 1024 } }]);
    expect(costDelta(base, head)).toEqual({
      baseUsd: 1 + 4.35,
      headUsd: 2 + 8.1,
      deltaUsd: 4.75,
      components: [
        { component: "IngestionLayer dp-test-ingestion", baseUsd: 4.35, headUsd: 8.1, deltaUsd: 3.75 },
        { component: "Network dp-test-network", baseUsd: 1, headUsd: 2, deltaUsd: 1 },
      ],
    });
    expect(renderCostDelta(costDelta(base, head))).toEqual([
      "  Monthly cost: $5.35 → $10.10 (+$4.75)",
      "    IngestionLayer dp-test-ingestion: $4.35 → $8.10 (+$3.75)",
      "    Network dp-test-network: $1.00 → $2.00 (+$1.00)",
    ]);
    expect(renderCostDelta(costDelta(head, base))[0]).toBe("  Monthly cost: $10.10 → $5.35 (-$4.75)");
  });
});

describe("the batch layer's pricers, against the test table's prices", () => {
  const BATCH = component("dataplatform:batch:BatchProcessing", "dp-test-batch");
  const batch = (type: string, name: string, inputs: Record<string, unknown>, region = "eu-west-1") => resource(type, name, inputs, BATCH, region);
  const unit = (key: string) => TEST_PRICES.entries[key].regions["eu-west-1"].usd;
  const JOB = "aws:glue/job:Job";

  it("prices a Glue job's DPU-hours from its worker type and count and the runs its name suffix assumes, with the 1-minute minimum", () => {
    const batchFile = batch(JOB, "dp-test-batch-batch-file", { workerType: "G.2X", numberOfWorkers: 10 });
    const curation = batch(JOB, "dp-test-batch-curation", { workerType: "G.1X", numberOfWorkers: 2 });
    const e = estimate([BATCH, batchFile, curation]);
    // batch-file: 10 workers × 2 DPU × 30 runs × 12 min / 60 = 120 DPU-hours.
    const batchFileDpuHours = (10 * 2 * 30 * 12) / 60;
    expect(line(e, batchFile.name, /DPU-hours/)).toMatchObject({ quantity: batchFileDpuHours, priceKey: "glue.etl.dpu-hour", monthlyUsd: batchFileDpuHours * unit("glue.etl.dpu-hour") });
    // curation: 0.5-minute runs are billed as 1 minute: 2 × 1 DPU × 30 × 1 / 60 = 1 DPU-hour.
    const curationDpuHours = (2 * 1 * 30 * 1) / 60;
    expect(line(e, curation.name, /DPU-hours/)).toMatchObject({ quantity: curationDpuHours, basis: expect.stringMatching(/assumptions\.glueJobs\["curation"\]; 1-minute minimum/) });
    expect(e.components).toEqual([{ component: "BatchProcessing dp-test-batch", monthlyUsd: Math.round((batchFileDpuHours + curationDpuHours) * unit("glue.etl.dpu-hour") * 100) / 100 }]);
  });

  it("counts 1, 2, 4 and 8 DPUs a worker for G.1X to G.8X, and reports the jobs it cannot price", () => {
    const dpuHours = (workerType: string) => line(estimate([BATCH, batch(JOB, "dp-test-batch-batch-file", { workerType, numberOfWorkers: 3 })]), "dp-test-batch-batch-file", /DPU-hours/).quantity;
    for (const [workerType, dpus] of Object.entries({ "G.1X": 1, "G.2X": 2, "G.4X": 4, "G.8X": 8 })) expect({ workerType, quantity: dpuHours(workerType) }).toEqual({ workerType, quantity: (3 * dpus * 30 * 12) / 60 });
    expect(GLUE_DPUS_PER_WORKER).toEqual({ "G.1X": 1, "G.2X": 2, "G.4X": 4, "G.8X": 8 });
    const e = estimate([
      BATCH,
      batch(JOB, "dp-test-batch-odd", { workerType: "Z.2X", numberOfWorkers: 2 }),
      batch(JOB, "dp-test-batch-flex", { workerType: "G.1X", numberOfWorkers: 2, executionClass: "FLEX" }),
      batch(JOB, "dp-test-batch-shell", { command: { name: "pythonshell" }, maxCapacity: 1 }),
    ]);
    expect(e.lines).toEqual([]);
    expect(e.unpriced.map((u) => `${u.resource}: ${u.reason}`)).toEqual([
      "dp-test-batch-odd: worker type Z.2X has no DPU figure here",
      "dp-test-batch-flex: the Flex execution class has its own DPU-hour price, not in the price table",
      "dp-test-batch-shell: Python shell jobs (maxCapacity DPUs) are not in the price table",
    ]);
  });

  it("prices a crawler's DPU-hours per crawl, a short crawl at the 10-minute minimum", () => {
    const short = batch("aws:glue/crawler:Crawler", "dp-test-batch-clean-crawler", {});
    const long = batch("aws:glue/crawler:Crawler", "dp-test-batch-long-crawler", {});
    const e = estimate([BATCH, short, long]);
    // 4-minute crawls bill 10 minutes: 2 DPU × 30 crawls × 10 / 60 = 10 DPU-hours.
    expect(line(e, short.name, /crawler DPU-hours/)).toMatchObject({ quantity: (2 * 30 * 10) / 60, monthlyUsd: ((2 * 30 * 10) / 60) * unit("glue.crawler.dpu-hour") });
    expect(line(e, short.name, /crawler/).basis).toMatch(/4 min billed as the 10-minute minimum/);
    // 15-minute crawls bill as they run: 3 DPU × 4 crawls × 15 / 60 = 3 DPU-hours.
    expect(line(e, long.name, /crawler DPU-hours/)).toMatchObject({ quantity: (3 * 4 * 15) / 60, monthlyUsd: ((3 * 4 * 15) / 60) * unit("glue.crawler.dpu-hour") });
  });

  it("prices EMR Serverless vCPU- and GB-hours at the Graviton prices for ARM64, the average capped at maximumCapacity", () => {
    const arm = batch("aws:emrserverless/application:Application", "dp-test-batch-emr", { architecture: "ARM64", maximumCapacity: { cpu: "64 vCPU", memory: "256 GB" } });
    const e = estimate([BATCH, arm]);
    // 80 vCPU on average is more than the cap: 64 vCPU × 10 h = 640 vCPU-hours; 200 GB (under 256) × 10 h = 2,000 GB-hours.
    expect(line(e, arm.name, /vCPU-hours/)).toMatchObject({ quantity: 64 * 10, priceKey: "emr-serverless.arm.vcpu-hour", monthlyUsd: 64 * 10 * unit("emr-serverless.arm.vcpu-hour") });
    expect(line(e, arm.name, /vCPU-hours/).basis).toMatch(/80 vCPU capped at maximumCapacity 64/);
    expect(line(e, arm.name, /GB-hours/)).toMatchObject({ quantity: 200 * 10, priceKey: "emr-serverless.arm.gb-hour", monthlyUsd: 200 * 10 * unit("emr-serverless.arm.gb-hour") });
    // No architecture is x86_64 (the provider's default), and no maximumCapacity leaves the average as stated.
    const x86 = batch("aws:emrserverless/application:Application", "dp-test-batch-emr-x86", {});
    const plain = estimate([BATCH, x86]);
    expect(line(plain, x86.name, /vCPU-hours/)).toMatchObject({ quantity: 80 * 10, priceKey: "emr-serverless.x86.vcpu-hour" });
    expect(line(plain, x86.name, /GB-hours/)).toMatchObject({ quantity: 200 * 10, priceKey: "emr-serverless.x86.gb-hour" });
  });

  it("reads maximumCapacity strings in the unit the price is per", () => {
    expect(capacityAmount("64 vCPU", "vCPU")).toBe(64);
    expect(capacityAmount("4vcpu", "vCPU")).toBe(4);
    expect(capacityAmount("256 GB", "GB")).toBe(256);
    expect(capacityAmount("512 MB", "GB")).toBe(0.5);
    expect(capacityAmount("16", "GB")).toBe(16);
    expect(capacityAmount("256 GB", "vCPU")).toBeUndefined();
    expect(capacityAmount("lots", "GB")).toBeUndefined();
    expect(capacityAmount(undefined, "GB")).toBeUndefined();
  });

  it("prices a Standard state machine's transitions, and reports an Express one", () => {
    const machine = batch("aws:sfn/stateMachine:StateMachine", "dp-test-batch-workflow-machine", { type: "STANDARD" });
    const express = batch("aws:sfn/stateMachine:StateMachine", "dp-test-batch-express", { type: "EXPRESS" });
    const e = estimate([BATCH, machine, express]);
    // 32 executions × 50 transitions = 1,600 = 1.6 thousand.
    expect(line(e, machine.name, /state transitions/)).toMatchObject({ quantity: (32 * 50) / 1000, monthlyUsd: ((32 * 50) / 1000) * unit("stepfunctions.standard.thousand-transitions") });
    expect(e.unpriced).toEqual([expect.objectContaining({ resource: express.name, reason: "Express workflows (requests and GB-seconds) are not in the price table" })]);
    // No type is Standard (the provider's default).
    expect(line(estimate([BATCH, batch("aws:sfn/stateMachine:StateMachine", "dp-test-batch-untyped", {})]), "dp-test-batch-untyped", /state transitions/).quantity).toBe(1.6);
  });

  it("prices a schedule's invocations, none when it is disabled", () => {
    const nightly = batch("aws:scheduler/schedule:Schedule", "dp-test-batch-workflow-nightly", { scheduleExpression: "cron(0 2 * * ? *)" });
    const off = batch("aws:scheduler/schedule:Schedule", "dp-test-batch-off", { scheduleExpression: "cron(0 2 * * ? *)", state: "DISABLED" });
    const e = estimate([BATCH, nightly, off]);
    expect(line(e, nightly.name, /invocations/)).toMatchObject({ quantity: 30 / 1_000_000, monthlyUsd: (30 / 1_000_000) * unit("scheduler.invocations.million") });
    expect(line(e, off.name, /invocations/)).toMatchObject({ quantity: 0, basis: "state DISABLED" });
  });

  it("prices a DMS replication instance's hours (twice for Multi-AZ) and its storage beyond the included", () => {
    const multiAz = batch("aws:dms/replicationInstance:ReplicationInstance", "dp-test-sync-dms", { replicationInstanceClass: "dms.t3.medium", multiAz: true, allocatedStorage: 80 });
    const single = batch("aws:dms/replicationInstance:ReplicationInstance", "dp-test-sync-dms-r5", { replicationInstanceClass: "dms.r5.large", multiAz: false, allocatedStorage: 100 });
    const e = estimate([BATCH, multiAz, single]);
    const hours = TEST_PRICES.hoursPerMonth;
    // Multi-AZ: 2 × 730 h; T3 includes 50 GB, so 30 GB beyond it, in both AZs: 60 GB-month.
    expect(line(e, multiAz.name, /instance-hours/)).toMatchObject({ quantity: 2 * hours, priceKey: "dms.instance.dms.t3.medium", monthlyUsd: 2 * hours * unit("dms.instance.dms.t3.medium") });
    expect(line(e, multiAz.name, /storage/)).toMatchObject({ quantity: (80 - 50) * 2, monthlyUsd: (80 - 50) * 2 * unit("dms.storage.gb-month") });
    // R5 includes 100 GB: 100 allocated adds no storage line.
    expect(line(e, single.name, /instance-hours/)).toMatchObject({ quantity: hours, monthlyUsd: hours * unit("dms.instance.dms.r5.large") });
    expect(e.lines.filter((l) => l.resource === single.name)).toHaveLength(1);
    expect([dmsIncludedStorageGb("dms.t3.medium"), dmsIncludedStorageGb("dms.c5.large"), dmsIncludedStorageGb("dms.r6i.large")]).toEqual([50, 100, 100]);
    // An instance class without a price is reported, not guessed.
    const unknown = estimate([BATCH, batch("aws:dms/replicationInstance:ReplicationInstance", "dp-test-sync-dms-big", { replicationInstanceClass: "dms.r6i.8xlarge" })]);
    expect(unknown.unpriced.map((u) => u.reason)).toEqual([`no price for dms.instance.dms.r6i.8xlarge in eu-west-1 (dms.r6i.8xlarge instance-hours: ${hours})`]);
  });

  it("names the zero-ETL integration as not priced with its reason, and adds nothing for the kinds that cost nothing by themselves", () => {
    const free = [
      "aws:glue/securityConfiguration:SecurityConfiguration",
      "aws:glue/catalogTable:CatalogTable",
      "aws:dms/endpoint:Endpoint",
      "aws:dms/replicationTask:ReplicationTask",
      "aws:dms/replicationSubnetGroup:ReplicationSubnetGroup",
      "aws:redshift/resourcePolicy:ResourcePolicy",
      "aws:s3/bucketObjectv2:BucketObjectv2",
    ];
    const integration = batch("aws:rds/integration:Integration", "dp-test-sync-zero-etl", {});
    const e = estimate([BATCH, integration, ...free.map((type, i) => batch(type, `dp-test-batch-free-${i}`, {}))]);
    expect(e.lines).toEqual([]);
    expect(e.unpriced).toEqual([{ component: "BatchProcessing dp-test-batch", resource: integration.name, type: "aws:rds/integration:Integration", reason: NOT_PRICED["aws:rds/integration:Integration"] }]);
    expect(NOT_PRICED["aws:rds/integration:Integration"]).toMatch(/^no charge for the integration itself; the extra Aurora I\/O/);
    for (const type of free) expect({ type, priced: type in PRICERS, notPriced: type in NOT_PRICED }).toEqual({ type, priced: false, notPriced: false });
    // The crawler is priced now, so it is no longer among the kinds not priced.
    expect("aws:glue/crawler:Crawler" in NOT_PRICED).toBe(false);
  });

  it("finds a price for every batch line in both regions of the real table, Frankfurt's where it differs", () => {
    const resources = (region: string) => [
      BATCH,
      batch(JOB, `dp-${region}-batch-batch-file`, { workerType: "G.1X", numberOfWorkers: 2 }, region),
      batch("aws:glue/crawler:Crawler", `dp-${region}-batch-clean-crawler`, {}, region),
      batch("aws:emrserverless/application:Application", `dp-${region}-batch-emr`, { architecture: "ARM64", maximumCapacity: { cpu: "64 vCPU", memory: "256 GB" } }, region),
      batch("aws:emrserverless/application:Application", `dp-${region}-batch-emr-x86`, { architecture: "X86_64" }, region),
      batch("aws:sfn/stateMachine:StateMachine", `dp-${region}-batch-machine`, {}, region),
      batch("aws:scheduler/schedule:Schedule", `dp-${region}-batch-nightly`, {}, region),
      ...["dms.t3.medium", "dms.t3.large", "dms.c5.large", "dms.r5.large"].map((replicationInstanceClass) =>
        batch("aws:dms/replicationInstance:ReplicationInstance", `dp-${region}-sync-${replicationInstanceClass}`, { replicationInstanceClass, allocatedStorage: 200 }, region),
      ),
    ];
    for (const region of ["eu-west-1", "eu-central-1"]) {
      const e = estimateCost(resources(region), { stack: "test", assumptions: TRAFFIC });
      expect(e.unpriced).toEqual([]);
      expect(e.lines).toHaveLength(1 + 1 + 2 + 2 + 1 + 1 + 4 * 2);
      for (const l of e.lines) expect(l).toMatchObject({ region, unitPriceUsd: PRICE_TABLE.entries[l.priceKey].regions[region].usd });
    }
    const dmsHour = (region: string) => PRICE_TABLE.entries["dms.instance.dms.t3.medium"].regions[region].usd;
    expect(dmsHour("eu-central-1")).toBeGreaterThan(dmsHour("eu-west-1"));
  });
});

describe("the price table", () => {
  it("is dated, and every figure names its source and how far it is confirmed", () => {
    expect(PRICE_TABLE.retrieved).toMatch(/^\d{4}-\d{2}-\d{2}$/);
    for (const [key, entry] of Object.entries(PRICE_TABLE.entries)) {
      expect(Object.keys(entry.regions).sort()).toEqual(["eu-central-1", "eu-west-1"]);
      for (const regional of Object.values(entry.regions)) {
        expect({ key, source: regional.source }).toEqual({ key, source: expect.stringMatching(/^https:\/\//) });
        expect(regional.usd).toBeGreaterThan(0);
        if (regional.confidence !== "confirmed") expect(regional.note ?? "").not.toBe("");
      }
    }
  });
});

describe.each(["dev", "prod"])("the real %s stack, priced", (stack) => {
  let evaluation: StackEvaluation;
  let partner: StackEvaluation | undefined;
  beforeAll(async () => {
    ({ evaluation, partner } = await evaluateStage(stack, { evaluate: cachedEvaluateStack }));
  });

  it("prices every kind that costs money, with a price for every region in use", () => {
    const e = estimatePlan(evaluation);
    const kinds = new Set(e.lines.map((l) => l.type));
    for (const type of ["awsx:ec2:Vpc", "aws:ec2/vpcEndpoint:VpcEndpoint", "aws:kinesis/stream:Stream", "aws:kinesis/firehoseDeliveryStream:FirehoseDeliveryStream", "aws:lambda/function:Function", "aws:dynamodb/table:Table", "aws:s3/bucket:Bucket", "aws:rds/cluster:Cluster", "aws:rds/clusterInstance:ClusterInstance", "aws:redshift/cluster:Cluster", "aws:elasticache/replicationGroup:ReplicationGroup", "aws:kms/key:Key", "aws:secretsmanager/secret:Secret"]) {
      expect({ type, priced: kinds.has(type) }).toEqual({ type, priced: true });
    }
    expect(e.unpriced.filter((u) => u.reason.startsWith("no price"))).toEqual([]);
    // Each line is its quantity × unit price, and the total their sum.
    for (const l of e.lines) expect(l.monthlyUsd).toBeCloseTo(l.quantity * l.unitPriceUsd, 10);
    expect(e.totalUsd).toBeCloseTo(e.lines.reduce((sum, l) => sum + l.monthlyUsd, 0), 2);
    expect(e.components.reduce((sum, c) => sum + c.monthlyUsd, 0)).toBeCloseTo(e.totalUsd, 1);
  });

  it("prices the stack's sizes from its inputs", () => {
    const e = estimatePlan(evaluation);
    const hours = PRICE_TABLE.hoursPerMonth;
    const nat = e.lines.find((l) => l.item === "NAT gateway-hours");
    const warehouse = e.lines.find((l) => l.priceKey === "redshift.node.ra3.xlplus");
    if (stack === "dev") {
      // Single NAT gateway; one ra3.xlplus node, not Multi-AZ: 1 × 730 h × $1.16 = $846.80.
      expect(nat?.quantity).toBe(hours);
      expect(warehouse?.monthlyUsd).toBeCloseTo(846.8, 10);
    } else {
      // One NAT gateway per AZ (3); two nodes in each of 2 AZs: 4 × 730 h × $1.16 = $3,387.20.
      expect(nat?.quantity).toBe(3 * hours);
      expect(warehouse?.monthlyUsd).toBeCloseTo(3387.2, 10);
    }
  });

  it("gives the same estimate from the plan JSON as from the evaluation, and no delta against itself", () => {
    const document = JSON.parse(JSON.stringify(graphDocument(evaluation)));
    expect(estimatePlan(document)).toEqual(estimatePlan(evaluation));
    expect(planCostDelta(document, document)).toEqual({ baseUsd: estimatePlan(evaluation).totalUsd, headUsd: estimatePlan(evaluation).totalUsd, deltaUsd: 0, components: [] });
  });

  it("prints per component, the DR side for a stage with DR, the stage against its budget, the assumptions and what is not priced", () => {
    const text = costSection(evaluation, partner);
    expect(text).toMatch(new RegExp(`Total ${stack}: \\$[\\d,]+\\.\\d\\d a month`));
    expect(text).toContain(`retrieved ${PRICE_TABLE.retrieved}`);
    expect(text).toContain(`  ${stack}: ${ASSUMPTIONS[stack].summary}`);
    expect(text).toContain("Not priced:");
    expect(text).toMatch(/dp-\w+-network-vpc {2}NAT gateway-hours: [\d,]+ hour × \$0\.048 = \$[\d.,]+ {2}\[eu-west-1, secondary\]/);
    if (stack === "prod") {
      expect(partner?.stack).toBe("prod-dr");
      expect(text).toContain("The DR side, prod-dr:");
      expect(text).toMatch(/Total prod-dr: \$[\d,]+\.\d\d a month/);
      expect(text).toMatch(/prod \+ prod-dr: \$[\d,.]+ against the budget \$20,000\.00 \(limitAmount of dp-prod-alerting-budget\): within it/);
    } else {
      expect(text).toMatch(/dev: \$[\d,.]+ against the budget \$300\.00 \(limitAmount of dp-dev-alerting-budget\): EXCEEDS it by/);
    }
  });

  it("warns through the policy pack exactly when the estimate exceeds the budget, with the CLI's figure", async () => {
    const report = await checkEvaluation(evaluation);
    const findings = report.findings.filter((f) => f.policy === "monthly-cost-within-budget");
    const e = estimatePlan(evaluation);
    const budget = e.budgets[0].limitUsd;
    if (e.totalUsd > budget) {
      expect(findings).toHaveLength(1);
      expect(findings[0]).toMatchObject({ status: "advisory", resourceType: "aws:budgets/budget:Budget" });
      expect(findings[0].message).toContain(`Estimated $${e.totalUsd.toFixed(2)} a month`);
    } else {
      expect(findings).toEqual([]);
    }
    // dev's estimate ($1,118.68 at these prices) is above its $300 budget; prod's within $20,000.
    expect(findings.length).toBe(stack === "dev" ? 1 : 0);
  });
});

describe("the DR stack on its own", () => {
  it("is priced with the standby's assumptions, and has no budget of its own", async () => {
    const { evaluation } = await evaluateStage("prod-dr", { evaluate: cachedEvaluateStack });
    const e = estimatePlan(evaluation);
    expect(e.budgets).toEqual([]);
    expect(budgetLine([e])).toBeUndefined();
    // No traffic: the stream's only line is its stream-hours.
    expect(e.lines.filter((l) => l.type === "aws:kinesis/stream:Stream" && l.monthlyUsd > 0).map((l) => l.item)).toEqual(["on-demand stream-hours"]);
    expect(e.lines.every((l) => l.region === "eu-central-1")).toBe(true);
  });

  it("refuses a stack without assumptions, naming the file to add them to", async () => {
    const dev = await evaluate("dev");
    expect(() => estimatePlan({ ...dev, stack: "staging" })).toThrow(/No cost assumptions for stack "staging": add an entry to policies\/cost\/assumptions\.ts/);
  });
});

describe("npm run plan -- --cost", () => {
  it("takes --cost as a switch, before or after other flags", () => {
    expect(parseCliArgs(["--stack", "prod", "--cost", "--compare", "dev"], "usage", ["cost"]).flags).toEqual({ stack: "prod", cost: "true", compare: "dev" });
    expect(parseCliArgs(["--cost", "--stack", "dev"], "usage", ["cost"]).flags).toEqual({ cost: "true", stack: "dev" });
    expect(() => parseCliArgs(["--stack", "dev", "--out"], "usage", ["cost"])).toThrow(/--out needs a value/);
  });

  it("prints the estimate after the plan and still writes the graph", () => {
    const outFile = path.join(fs.mkdtempSync(path.join(os.tmpdir(), "plan-cost-")), "plan.json");
    const stdout = execFileSync(process.execPath, [require.resolve("ts-node/dist/bin"), "--transpile-only", "scripts/plan.ts", "--stack", "dev", "--cost", "--out", outFile], { cwd: PROJECT_DIR, encoding: "utf8" });
    expect(stdout).toMatch(/^Stack dev: \d+ resources/);
    expect(stdout).toContain("Monthly cost estimate (on-demand list prices in USD retrieved 2026-12-02");
    expect(stdout).toMatch(/Total dev: \$[\d,]+\.\d\d a month/);
    expect(stdout).toContain("Not priced:");
    // The estimate of the JSON it wrote is the one it printed.
    const total = estimatePlan(JSON.parse(fs.readFileSync(outFile, "utf8"))).totalUsd;
    expect(stdout).toContain(`Total dev: $${total.toLocaleString("en-US", { minimumFractionDigits: 2 })} a month`);
  });
});
