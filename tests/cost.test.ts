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
import { CostEstimate, CostResource, costDelta, estimateCost, natGatewaysOfVpc } from "../policies/cost/estimate";
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
