/**
 * dr:promote in planned mode against the simulated two-region AWS (SDK clients stubbed
 * per region over a state model), with the journal table on dynalite.
 */
import { GetItemCommand, PutItemCommand, QueryCommand } from "@aws-sdk/client-dynamodb";
import { unmarshall } from "@aws-sdk/util-dynamodb";
import * as fs from "fs";
import * as path from "path";
import * as yaml from "js-yaml";
import { DR_REGION, PRIMARY_REGION, mutationsOf, promoteSimulated, useSimulatedStage } from "./support/dr";

const stage = useSimulatedStage();

describe("a planned switchover", () => {
  it("completes with the right calls in the right regions, in order", async () => {
    const { result, output } = await promoteSimulated(stage.sim, { ...stage.dirs(), writeConfig: true });
    expect(result.exitCode).toBe(0);
    expect(result.journal!.status).toBe("completed");
    expect(mutationsOf(stage.sim).sort()).toEqual(
      [
        `${DR_REGION} rds:SwitchoverGlobalCluster arn:aws:rds:eu-central-1:123456789012:cluster:dp-prod-dr-oltp`,
        `${DR_REGION} redshift:RestoreFromClusterSnapshot dp-prod-warehouse`,
        `${DR_REGION} lambda:UpdateEventSourceMapping 7d1f2a3b-4c5d-4e6f-8a9b-0c1d2e3f4a02`,
        `${DR_REGION} lambda:UpdateEventSourceMapping 7d1f2a3b-4c5d-4e6f-8a9b-0c1d2e3f4a04`,
        ...["raw", "transformed", "staged"].map((zone) => `${DR_REGION} s3:PutBucketNotificationConfiguration dp-prod-dr-${zone}-123456789012`),
        ...[DR_REGION, PRIMARY_REGION].flatMap((region) => ["ingest-stream", "ingest-api"].map((name) => `${region} ssm:PutParameter /dp/prod/endpoints/${name}`)),
        `${PRIMARY_REGION} lambda:UpdateEventSourceMapping 0b6b8e0e-5c7e-4f3a-9d1e-1a2b3c4d5e01`,
        `${PRIMARY_REGION} lambda:UpdateEventSourceMapping 0b6b8e0e-5c7e-4f3a-9d1e-1a2b3c4d5e03`,
        ...["raw", "transformed", "staged"].map((zone) => `${PRIMARY_REGION} s3:PutBucketNotificationConfiguration dp-prod-${zone}-123456789012`),
      ].sort(),
    );
    // Producers move only after the target's consumers run, and the source's stop only after producers moved.
    const order = mutationsOf(stage.sim);
    const lastIndex = (pattern: RegExp) => order.map((entry, i) => (pattern.test(entry) ? i : -1)).reduce((a, b) => Math.max(a, b));
    const firstIndex = (pattern: RegExp) => order.findIndex((entry) => pattern.test(entry));
    expect(lastIndex(new RegExp(`^${DR_REGION} lambda:Update`))).toBeLessThan(firstIndex(/ssm:PutParameter/));
    expect(lastIndex(/ssm:PutParameter/)).toBeLessThan(firstIndex(new RegExp(`^${PRIMARY_REGION} lambda:Update`)));
    expect(firstIndex(/SwitchoverGlobalCluster/)).toBe(0);

    const state = stage.sim.aws.state;
    expect(state.aurora!.members.find((member) => member.isWriter)!.region).toBe(DR_REGION);
    expect(state.aurora!.failover).toBeUndefined();
    expect(state.mappings.map((mapping) => `${mapping.region}:${mapping.state}`).sort()).toEqual([`${DR_REGION}:Enabled`, `${DR_REGION}:Enabled`, `${PRIMARY_REGION}:Disabled`, `${PRIMARY_REGION}:Disabled`]);
    expect(state.notifications.filter((entry) => entry.region === PRIMARY_REGION).every((entry) => Object.keys(entry.configuration).length === 0)).toBe(true);
    expect(new Set(state.parameters.filter((parameter) => parameter.name.endsWith("ingest-api")).map((parameter) => parameter.value))).toEqual(new Set(["https://f6g7h8i9j0.execute-api.eu-central-1.amazonaws.com"]));
    expect(state.redshift.clusters.find((cluster) => cluster.region === DR_REGION)).toMatchObject({ identifier: "dp-prod-warehouse", status: "available" });

    const report = result.report!;
    expect(report.rto.measuredSeconds).toBeGreaterThan(0);
    expect(report.rto).toMatchObject({ targetSeconds: 7200, met: true });
    expect(report.steps.every((step) => step.status === "succeeded" && step.startedAt && step.endedAt)).toBe(true);
    expect(report.configCommands).toEqual([
      "pulumi config set --stack prod-dr data-platform:activeRegion eu-central-1",
      "pulumi config set --stack prod data-platform:activeRegion eu-central-1",
      expect.stringMatching(/^pulumi config set --stack prod-dr data-platform:warehouseRestoreSnapshot copy:rs:dp-prod-warehouse-/),
    ]);
    expect(output).toContain("Measured RTO:");

    // --write-config edited the stack files in place: comments kept, values set.
    const drFile = fs.readFileSync(path.join(stage.configDir, "Pulumi.prod-dr.yaml"), "utf8");
    expect(drFile).toContain("# Every AWS resource names its provider.");
    const drConfig = (yaml.load(drFile) as { config: Record<string, string> }).config;
    expect(drConfig["data-platform:activeRegion"]).toBe(DR_REGION);
    expect(drConfig["data-platform:warehouseRestoreSnapshot"]).toMatch(/^copy:rs:/);
    expect((yaml.load(fs.readFileSync(path.join(stage.configDir, "Pulumi.prod.yaml"), "utf8")) as { config: Record<string, string> }).config["data-platform:activeRegion"]).toBe(DR_REGION);

    // The report is on disk as JSON and text.
    const runId = result.journal!.runId;
    expect(JSON.parse(fs.readFileSync(path.join(stage.outDir, "dr", "prod-dr", `${runId}.report.json`), "utf8")).status).toBe("completed");
    expect(fs.readFileSync(path.join(stage.outDir, "dr", "prod-dr", `${runId}.report.txt`), "utf8")).toContain("pulumi config set --stack prod data-platform:activeRegion eu-central-1");
  });

  it("journals the run and every step in the target region's table, and releases both locks", async () => {
    const { result } = await promoteSimulated(stage.sim, stage.dirs());
    const runId = result.journal!.runId;
    const client = stage.sim.journalClient(DR_REGION);
    const { Items = [] } = await client.send(new QueryCommand({ TableName: "dp-prod-dr-promotion-journal", KeyConditionExpression: "pk = :pk", ExpressionAttributeValues: { ":pk": { S: `RUN#${runId}` } } }));
    const items = Items.map((item) => unmarshall(item));
    expect(items.find((item) => item.sk === "RUN")).toMatchObject({ status: "completed", mode: "planned", stack: "prod-dr", operator: expect.stringContaining("assumed-role/dr-operator") });
    expect(items.filter((item) => String(item.sk).startsWith("STEP#")).map((item) => item.status)).toEqual(Array(result.plan!.steps.length).fill("succeeded"));
    for (const [region, table] of [[DR_REGION, "dp-prod-dr-promotion-journal"], [PRIMARY_REGION, "dp-prod-promotion-journal"]]) {
      const lock = await stage.sim.journalClient(region).send(new GetItemCommand({ TableName: table, Key: { pk: { S: "LOCK#prod" }, sk: { S: "LOCK" } } }));
      expect(lock.Item).toBeUndefined();
    }
  });

  it("fails back to prod with the same command once prod-dr is active", async () => {
    await promoteSimulated(stage.sim, { ...stage.dirs(), writeConfig: true });
    const before = stage.sim.aws.mutatingCalls().length;
    const { result } = await promoteSimulated(stage.sim, { ...stage.dirs(), stack: "prod", writeConfig: true });
    expect(result.exitCode).toBe(0);
    expect(stage.sim.aws.state.aurora!.members.find((member) => member.isWriter)!.region).toBe(PRIMARY_REGION);
    expect(stage.sim.aws.mutatingCalls().slice(before).some((call) => call.command === "RestoreFromClusterSnapshot")).toBe(false);
    expect(result.report!.configCommands).toEqual(["pulumi config set --stack prod data-platform:activeRegion eu-west-1", "pulumi config set --stack prod-dr data-platform:activeRegion eu-west-1"]);
  });
});

describe("refusals", () => {
  it("refuses a lagging secondary in planned mode, changing nothing; --force overrides", async () => {
    stage.sim.aws.state.metrics.find((metric) => metric.metricName === "AuroraGlobalDBRPOLag" && metric.region === DR_REGION)!.value = 95_000;
    const refused = await promoteSimulated(stage.sim, stage.dirs());
    expect(refused.result.exitCode).toBe(2);
    expect(refused.output).toContain("aurora-lag: Aurora AuroraGlobalDBRPOLag within drRpoStreamSeconds (60s)");
    expect(refused.output).toContain("observed: dp-prod-dr-oltp: 95s (limit 60s)");
    expect(stage.sim.aws.mutatingCalls()).toEqual([]);

    const forced = await promoteSimulated(stage.sim, { ...stage.dirs(), force: true });
    expect(forced.result.exitCode).toBe(0);
    expect(forced.result.report!.forcedPreconditions).toEqual(["aurora-lag: dp-prod-dr-oltp: 95s (limit 60s)"]);
  });

  it("refuses when IAM denies an action, naming it", async () => {
    stage.sim.aws.state.deniedActions.push("lambda:UpdateEventSourceMapping");
    const { result, output } = await promoteSimulated(stage.sim, stage.dirs());
    expect(result.exitCode).toBe(2);
    expect(output).toMatch(/iam: [\s\S]*denied: lambda:UpdateEventSourceMapping on arn:aws:lambda:eu-central-1:123456789012:event-source-mapping:/);
    expect(stage.sim.aws.mutatingCalls()).toEqual([]);
  });

  it("refuses a planned switchover while the source region is down", async () => {
    stage.sim.aws.setRegionDown(PRIMARY_REGION, true);
    const { result, output } = await promoteSimulated(stage.sim, stage.dirs());
    expect(result.exitCode).toBe(2);
    expect(output).toContain("use --mode unplanned");
    expect(stage.sim.aws.mutatingCalls()).toEqual([]);
  });

  it("asks before acting, and a no changes nothing", async () => {
    const { result, output } = await promoteSimulated(stage.sim, { ...stage.dirs(), yes: false }, async () => false);
    expect(result.exitCode).toBe(1);
    expect(output).toContain("Declined: nothing was changed.");
    expect(stage.sim.aws.mutatingCalls()).toEqual([]);
  });

  it("the journal lock refuses a second concurrent run", async () => {
    // Slow operations keep the first run holding the lock while the second arrives.
    stage.sim.aws.state.pollsPerOperation = 25;
    const [first, second] = await Promise.all([promoteSimulated(stage.sim, stage.dirs()), promoteSimulated(stage.sim, stage.dirs())]);
    const codes = [first.result.exitCode, second.result.exitCode].sort();
    expect(codes).toEqual([0, 3]);
    const locked = first.result.exitCode === 3 ? first : second;
    expect(locked.output).toMatch(/Another promotion holds the lock in dp-prod-dr-promotion-journal \(eu-central-1\): run \S+ of prod-dr \(planned\)/);
    expect(stage.sim.aws.mutatingCalls().filter((call) => call.command === "SwitchoverGlobalCluster")).toHaveLength(1);
  });

  it("a lock left by a dead run refuses new runs until --resume or --release-lock", async () => {
    await stage.sim.journalClient(PRIMARY_REGION).send(
      new PutItemCommand({
        TableName: "dp-prod-promotion-journal",
        Item: { pk: { S: "LOCK#prod" }, sk: { S: "LOCK" }, runId: { S: "20261130T080000Z-dead" }, stack: { S: "prod" }, mode: { S: "planned" }, operator: { S: "someone" }, acquiredAt: { S: "2026-11-30T08:00:00Z" } },
      }),
    );
    const { result, output } = await promoteSimulated(stage.sim, stage.dirs());
    expect(result.exitCode).toBe(3);
    expect(output).toContain("run 20261130T080000Z-dead of prod (planned) by someone");
    expect(stage.sim.aws.mutatingCalls()).toEqual([]);
  });
});

describe("--dry-run", () => {
  it("checks every precondition against the simulated state and makes no mutating call", async () => {
    const { result, output } = await promoteSimulated(stage.sim, { ...stage.dirs(), dryRun: true });
    expect(result.exitCode).toBe(0);
    expect(stage.sim.aws.mutatingCalls()).toEqual([]);
    expect(new Set(stage.sim.aws.calls.map((call) => call.region))).toEqual(new Set([DR_REGION, PRIMARY_REGION]));
    expect(output).toContain("Promotion plan (planned)");
    expect(output).toContain("wave 5:");
    expect(output).toContain("No blocker: the plan can run.");
    expect(fs.readdirSync(path.join(stage.outDir, "dr", "prod-dr")).filter((name) => name.endsWith(".journal.json"))).toEqual([]);
  });

  it("prints what blocks it and exits 2", async () => {
    stage.sim.aws.state.aurora!.members.find((member) => member.region === DR_REGION)!.instances = [];
    const { result, output } = await promoteSimulated(stage.sim, { ...stage.dirs(), dryRun: true });
    expect(result.exitCode).toBe(2);
    expect(output).toContain("BLOCKED aurora-target-instance");
    expect(output).toContain("headless: no instance");
    expect(stage.sim.aws.mutatingCalls()).toEqual([]);
  });
});
