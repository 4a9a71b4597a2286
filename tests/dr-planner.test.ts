/** The pure step planner: both modes, every precondition failure, parallel waves and the config changes. */
import { pulumiConfigCommand } from "../dr/config-changes";
import { parallelWaves } from "../dr/graph";
import { PlanStep } from "../dr/model";
import { buildPromotionPlan } from "../dr/planner";
import { renderPlan, renderRefusal } from "../dr/report";
import { DR_REGION, PRIMARY_REGION, fixtureStacks, healthyState } from "./support/dr";

const plan = (stacks = fixtureStacks(), state = healthyState(stacks, "planned"), force = false) => buildPromotionPlan(stacks, state, state.mode, { force, runId: "run-1" });
const blockerIds = (result: ReturnType<typeof plan>) => result.blockers.map((check) => check.id);

describe("planned switchover to prod-dr", () => {
  const result = plan();

  it("has no blocker when the stage is healthy", () => {
    expect(result.blockers).toEqual([]);
    expect(result.preconditions.every((check) => check.passed)).toBe(true);
    expect(result.preconditions.map((check) => check.id)).toEqual([
      "stack-pair", "target-not-active", "observed", "aurora-global-cluster", "aurora-no-operation", "aurora-engine-parity", "aurora-target-instance",
      "aurora-lag", "s3-lag", "dynamodb-lag", "target-consumers", "target-parameters", "source-consumers", "source-parameters", "warehouse-snapshot", "iam",
    ]);
  });

  it("orders the steps in waves: database and restore, target consumers and triggers, endpoints, source hand-over, health", () => {
    const ids = (wave: string[]) => wave.map((id) => id.replace(/:[^:]+:/, ":R:").replace(/:R:.*/, ""));
    expect(result.groups.map(ids)).toEqual([
      ["aurora-promote", "warehouse-restore"],
      ["enable-mapping", "enable-mapping", "put-notifications", "put-notifications", "put-notifications"],
      ["endpoint", "endpoint", "endpoint", "endpoint"],
      ["disable-mapping", "disable-mapping", "clear-notifications", "clear-notifications", "clear-notifications"],
      ["health-check"],
    ]);
    expect(result.followUpGroups).toEqual([]);
    const regionOf = (id: string) => result.steps.find((step) => step.id === id)!.region;
    expect(result.groups[1].map(regionOf)).toEqual(Array(5).fill(DR_REGION));
    expect(new Set(result.groups[2].map(regionOf))).toEqual(new Set([DR_REGION, PRIMARY_REGION]));
    expect(result.groups[3].map(regionOf)).toEqual(Array(5).fill(PRIMARY_REGION));
  });

  it("gives every step preconditions, an action, a verification, a rollback note and a timeout", () => {
    for (const step of result.steps) {
      expect(step.description).not.toBe("");
      expect(step.verification).not.toBe("");
      expect(step.rollback).not.toBe("");
      expect(step.timeoutSeconds).toBeGreaterThan(0);
      expect(step.permissions.length).toBeGreaterThan(0);
      for (const id of step.preconditions) expect(result.preconditions.map((check) => check.id)).toContain(id);
    }
    const aurora = result.steps.find((step) => step.id === "aurora-promote")!;
    expect(aurora.action).toEqual({ type: "aurora-switchover", globalClusterIdentifier: "dp-prod-oltp-global", targetClusterArn: "arn:aws:rds:eu-central-1:123456789012:cluster:dp-prod-dr-oltp" });
    expect(aurora.preconditions).toEqual(expect.arrayContaining(["aurora-engine-parity", "aurora-target-instance", "aurora-lag"]));
  });

  it("restores the warehouse from the newest available copied snapshot", () => {
    const restore = result.steps.find((step) => step.id === "warehouse-restore")!;
    expect(restore.action).toMatchObject({ type: "warehouse-restore", clusterIdentifier: "dp-prod-warehouse", snapshotIdentifier: "copy:rs:dp-prod-warehouse-1", settings: expect.objectContaining({ ClusterSubnetGroupName: "dp-prod-warehouse-subnets-3f2a1b", PubliclyAccessible: false }) });
  });

  it("prints the config changes both stacks need, the snapshot tied to the restore", () => {
    expect(result.configChanges.map(pulumiConfigCommand)).toEqual([
      "pulumi config set --stack prod-dr data-platform:activeRegion eu-central-1",
      "pulumi config set --stack prod data-platform:activeRegion eu-central-1",
      "pulumi config set --stack prod-dr data-platform:warehouseRestoreSnapshot copy:rs:dp-prod-warehouse-1",
    ]);
    expect(result.configChanges[2].afterStep).toBe("warehouse-restore");
  });

  it("estimates RPO 0 for the switchover and the warehouse's snapshot age", () => {
    expect(result.rpo.find((estimate) => estimate.store === "aurora")).toMatchObject({ seconds: 0, targetSeconds: 60 });
    expect(result.rpo.find((estimate) => estimate.store === "warehouse")).toMatchObject({ seconds: 5400, targetSeconds: 3600 });
  });

  it("renders the plan with its waves, blockers and config changes", () => {
    const text = renderPlan(result);
    expect(text).toContain("wave 1 (2 steps in parallel)");
    expect(text).toContain("pulumi config set --stack prod data-platform:activeRegion eu-central-1");
    expect(text).toContain("No blocker: the plan can run.");
  });
});

describe("unplanned failover to prod-dr", () => {
  const stacks = fixtureStacks();
  const state = healthyState(stacks, "unplanned");
  const result = buildPromotionPlan(stacks, state, "unplanned", { force: false, runId: "run-1" });

  it("keeps the source region off the critical path", () => {
    const critical = result.steps.filter((step) => step.phase === "critical");
    expect(critical.every((step) => step.region === DR_REGION)).toBe(true);
    expect(critical.find((step) => step.id === "aurora-promote")!.action).toMatchObject({ type: "aurora-failover" });
    expect(result.preconditions.map((check) => check.id)).not.toEqual(expect.arrayContaining(["aurora-lag"]));
    expect(result.preconditions.map((check) => check.id)).not.toContain("source-consumers");
    expect(result.blockers).toEqual([]);
  });

  it("defers fencing and the snapshot copy as follow-ups in the source region", () => {
    const followUps = result.steps.filter((step) => step.phase === "follow-up");
    expect(followUps.every((step) => step.region === PRIMARY_REGION && step.dependsOn.includes("health-check"))).toBe(true);
    expect(followUps.map((step) => step.action.type).sort()).toEqual(["copy-failover-snapshot", "endpoint-parameter", "endpoint-parameter", "lake-notifications", "lake-notifications", "lake-notifications", "mapping-state", "mapping-state"]);
    expect(followUps.find((step) => step.action.type === "copy-failover-snapshot")!.action).toEqual({ type: "copy-failover-snapshot", clusterIdentifier: "dp-prod-oltp", targetSnapshotIdentifier: "dp-prod-oltp-unplanned-failover-run-1" });
    expect(result.followUpGroups).toHaveLength(1);
  });

  it("reports the data-loss window from the last observed lag", () => {
    expect(result.rpo.find((estimate) => estimate.store === "aurora")).toMatchObject({ seconds: 0.85 });
    expect(result.rpo.find((estimate) => estimate.store === "dynamodb")!.seconds).toBeUndefined();
    expect(result.rpo.find((estimate) => estimate.store === "s3")).toMatchObject({ seconds: 900 });
  });

  it("ignores errors from the source region, which it never calls", () => {
    const withErrors = { ...state, errors: [{ region: PRIMARY_REGION, what: "x", message: "timeout" }] };
    expect(buildPromotionPlan(stacks, withErrors, "unplanned", { force: false }).blockers).toEqual([]);
  });

  it("refuses a state observed for the other mode", () => {
    expect(() => buildPromotionPlan(stacks, healthyState(stacks, "planned"), "unplanned", { force: false })).toThrow(/observed state was taken for planned mode/);
  });
});

describe("every precondition failure blocks the plan, named", () => {
  type Case = [string, (state: ReturnType<typeof healthyState>) => void, string[]?];
  const stateCases: Case[] = [
    ["observed", (s) => s.errors.push({ region: PRIMARY_REGION, what: "lambda:GetEventSourceMapping", message: "TimeoutError" })],
    // A detached target is not a member, so it has no instance the global cluster could promote either.
    ["aurora-global-cluster", (s) => (s.aurora!.members = s.aurora!.members.filter((member) => member.region !== DR_REGION)), ["aurora-target-instance"]],
    ["aurora-no-operation", (s) => (s.aurora!.failoverState = { status: "switching-over", toDbClusterArn: "arn:aws:rds:us-east-1:123456789012:cluster:other" })],
    ["aurora-engine-parity", (s) => (s.aurora!.members[0].engineVersion = "16.4")],
    ["aurora-target-instance", (s) => (s.aurora!.members.find((member) => member.region === DR_REGION)!.instances = [])],
    ["aurora-lag", (s) => (s.lags[0].seconds = 120)],
    ["s3-lag", (s) => (s.lags.find((lag) => lag.store === "s3")!.seconds = 4000)],
    ["dynamodb-lag", (s) => (delete s.lags.find((lag) => lag.store === "dynamodb")!.seconds)],
    ["target-consumers", (s) => (s.mappings.find((mapping) => mapping.region === DR_REGION)!.state = "absent")],
    ["source-consumers", (s) => (s.mappings = s.mappings.filter((mapping) => mapping.region !== PRIMARY_REGION))],
    ["target-parameters", (s) => (s.parameters.find((parameter) => parameter.region === DR_REGION)!.value = null)],
    ["source-parameters", (s) => (s.parameters = s.parameters.filter((parameter) => parameter.region !== PRIMARY_REGION))],
    ["warehouse-snapshot", (s) => (s.warehouse!.snapshots = s.warehouse!.snapshots.map((snapshot) => ({ ...snapshot, status: "copying" })))],
    ["iam", (s) => s.permissions.push({ action: "rds:SwitchoverGlobalCluster", resource: "arn:aws:rds::123456789012:global-cluster:dp-prod-oltp-global", region: "", allowed: false, decision: "explicitDeny" })],
    ["iam", (s) => delete s.caller],
  ];

  it.each(stateCases)("%s", (id, mutate, alsoFailing = []) => {
    const stacks = fixtureStacks();
    const state = healthyState(stacks, "planned");
    mutate(state);
    const result = plan(stacks, state);
    expect(blockerIds(result)).toEqual([id, ...alsoFailing]);
    expect(renderRefusal(result)).toContain(`- ${id}: `);
  });

  it("names the unplanned mode when the source region does not answer", () => {
    const stacks = fixtureStacks();
    const state = healthyState(stacks, "planned");
    state.errors.push({ region: PRIMARY_REGION, what: "rds:DescribeDBClusters", message: "TimeoutError: timed out" });
    expect(plan(stacks, state).blockers[0].detail).toMatch(/use --mode unplanned/);
  });

  it("stack-pair: the stacks must name each other as partners", () => {
    const stacks = fixtureStacks("prod-dr", { topology: (t) => (t["prod-dr"].partnerStack = "acme/data-platform/staging") });
    expect(blockerIds(plan(stacks))).toEqual(["stack-pair"]);
  });

  it("target-not-active: nothing to promote when the target already is active and writer", () => {
    const stacks = fixtureStacks("prod-dr", { drConfig: { activeRegion: DR_REGION } });
    const state = healthyState(stacks, "planned");
    for (const member of state.aurora!.members) member.isWriter = member.region === DR_REGION;
    expect(blockerIds(plan(stacks, state))).toEqual(["target-not-active"]);
  });

  it("--force overrides replication lag and only that", () => {
    const stacks = fixtureStacks();
    const state = healthyState(stacks, "planned");
    state.lags[0].seconds = 120;
    state.aurora!.members[0].engineVersion = "16.4";
    const forced = plan(stacks, state, true);
    expect(forced.preconditions.find((check) => check.id === "aurora-lag")).toMatchObject({ passed: false, forced: true, overridable: true });
    expect(blockerIds(forced)).toEqual(["aurora-engine-parity"]);
  });

  it("an in-progress switchover toward the target does not block: the step joins it", () => {
    const stacks = fixtureStacks();
    const state = healthyState(stacks, "planned");
    state.aurora!.failoverState = { status: "switching-over", toDbClusterArn: stacks.target.topology.aurora!.clusterArn };
    expect(plan(stacks, state).blockers).toEqual([]);
  });
});

describe("failback and config changes", () => {
  it("fails back to prod with the same command and no warehouse restore", () => {
    const stacks = fixtureStacks("prod", { prodConfig: { activeRegion: DR_REGION }, drConfig: { activeRegion: DR_REGION, warehouseRestoreSnapshot: "copy:rs:dp-prod-warehouse-1" } });
    const state = healthyState(stacks, "planned");
    for (const member of state.aurora!.members) member.isWriter = member.region === DR_REGION;
    const result = plan(stacks, state);
    expect(result.blockers).toEqual([]);
    expect(result.steps.map((step) => step.id)).not.toContain("warehouse-restore");
    expect(result.steps.find((step) => step.id === "aurora-promote")!.region).toBe(PRIMARY_REGION);
    expect(result.configChanges.map(pulumiConfigCommand)).toEqual([
      "pulumi config set --stack prod data-platform:activeRegion eu-west-1",
      "pulumi config set --stack prod-dr data-platform:activeRegion eu-west-1",
    ]);
  });

  it("asks for no change a stack already has", () => {
    const stacks = fixtureStacks("prod-dr", { drConfig: { activeRegion: DR_REGION } });
    expect(plan(stacks).configChanges.map((change) => `${change.stack} ${change.key}`)).toEqual(["prod activeRegion", "prod-dr warehouseRestoreSnapshot"]);
  });
});

describe("parallel waves", () => {
  const step = (id: string, dependsOn: string[] = []) => ({ id, dependsOn }) as unknown as PlanStep;

  it("puts steps without ordering between them in one wave", () => {
    expect(parallelWaves([step("a"), step("b"), step("c", ["a"]), step("d", ["a", "b"]), step("e", ["c", "d"])])).toEqual([["a", "b"], ["c", "d"], ["e"]]);
  });

  it("refuses cycles, unknown dependencies and duplicate ids", () => {
    expect(() => parallelWaves([step("a", ["b"]), step("b", ["a"])])).toThrow(/cycle/);
    expect(() => parallelWaves([step("a", ["z"])])).toThrow(/unknown step z/);
    expect(() => parallelWaves([step("a"), step("a")])).toThrow(/Duplicate/);
  });
});
