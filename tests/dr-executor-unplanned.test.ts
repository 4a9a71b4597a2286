/**
 * dr:promote in unplanned mode, and crash-then-resume, against the simulated two-region
 * AWS with the journal table on dynalite.
 */
import * as fs from "fs";
import * as path from "path";
import { DR_REGION, PRIMARY_REGION, mutationsOf, promoteSimulated, useSimulatedStage } from "./support/dr";

const stage = useSimulatedStage();
const callsTo = (region: string) => stage.sim.aws.calls.filter((call) => call.region === region);

describe("an unplanned failover while the primary region is down", () => {
  beforeEach(() => stage.sim.aws.setRegionDown(PRIMARY_REGION, true));

  it("fails over with data loss allowed and makes no call to the primary region", async () => {
    const { result } = await promoteSimulated(stage.sim, { ...stage.dirs(), mode: "unplanned" });
    expect(result.exitCode).toBe(0);
    expect(result.journal!.status).toBe("awaiting-follow-ups");
    expect(callsTo(PRIMARY_REGION)).toEqual([]);
    const failover = stage.sim.aws.calls.find((call) => call.command === "FailoverGlobalCluster")!;
    expect(failover).toMatchObject({ region: DR_REGION, input: { GlobalClusterIdentifier: "dp-prod-oltp-global", TargetDbClusterIdentifier: "arn:aws:rds:eu-central-1:123456789012:cluster:dp-prod-dr-oltp", AllowDataLoss: true } });
    expect(stage.sim.aws.calls.some((call) => call.command === "SwitchoverGlobalCluster")).toBe(false);
    expect(stage.sim.aws.state.aurora!.members.map((member) => `${member.region}:${member.isWriter}`)).toEqual([`${DR_REGION}:true`]);

    const report = result.report!;
    expect(report.rto.measuredSeconds).toBeGreaterThan(0);
    expect(report.rpo.find((estimate) => estimate.store === "aurora")).toMatchObject({ seconds: 0.85 });
    expect(report.steps.filter((step) => step.phase === "follow-up").map((step) => step.status)).toEqual(Array(8).fill("deferred"));
    expect(report.configCommands[0]).toBe("pulumi config set --stack prod-dr data-platform:activeRegion eu-central-1");
  });

  it("--dry-run calls only the target region and changes nothing", async () => {
    const { result, output } = await promoteSimulated(stage.sim, { ...stage.dirs(), mode: "unplanned", dryRun: true });
    expect(result.exitCode).toBe(0);
    expect(callsTo(PRIMARY_REGION)).toEqual([]);
    expect(stage.sim.aws.mutatingCalls()).toEqual([]);
    expect(output).toContain("Follow-ups (deferred until eu-west-1 answers; run with --resume)");
    expect(output).toContain("aurora     0.85 s");
  });

  it("--resume keeps follow-ups deferred while the old region does not answer, then runs them once it does", async () => {
    const first = await promoteSimulated(stage.sim, { ...stage.dirs(), mode: "unplanned" });
    const runId = first.result.journal!.runId;

    const stillDown = await promoteSimulated(stage.sim, { ...stage.dirs(), resume: true });
    expect(stillDown.result.journal!.status).toBe("awaiting-follow-ups");
    expect(callsTo(PRIMARY_REGION).every((call) => !call.mutating)).toBe(true);
    expect(stillDown.result.report!.steps.find((step) => step.id === "disable-mapping:eu-west-1:stream-consumer")!.result).toMatch(/TimeoutError/);

    // The old region returns: Aurora re-adds its cluster as a secondary and takes the failover snapshot.
    stage.sim.aws.setRegionDown(PRIMARY_REGION, false);
    const before = stage.sim.aws.mutatingCalls().length;
    const resumed = await promoteSimulated(stage.sim, { ...stage.dirs(), resume: runId });
    expect(resumed.result.exitCode).toBe(0);
    expect(resumed.result.journal!.status).toBe("completed");
    expect(mutationsOf(stage.sim).slice(before).sort()).toEqual(
      [
        `${PRIMARY_REGION} lambda:UpdateEventSourceMapping 0b6b8e0e-5c7e-4f3a-9d1e-1a2b3c4d5e01`,
        `${PRIMARY_REGION} lambda:UpdateEventSourceMapping 0b6b8e0e-5c7e-4f3a-9d1e-1a2b3c4d5e03`,
        ...["raw", "transformed", "staged"].map((zone) => `${PRIMARY_REGION} s3:PutBucketNotificationConfiguration dp-prod-${zone}-123456789012`),
        `${PRIMARY_REGION} ssm:PutParameter /dp/prod/endpoints/ingest-stream`,
        `${PRIMARY_REGION} ssm:PutParameter /dp/prod/endpoints/ingest-api`,
        `${PRIMARY_REGION} rds:CopyDBClusterSnapshot dp-prod-oltp-unplanned-failover-${runId}`,
      ].sort(),
    );
    const copy = stage.sim.aws.calls.find((call) => call.command === "CopyDBClusterSnapshot")!;
    expect(copy.input.SourceDBClusterSnapshotIdentifier).toMatch(/^rds:unplanned-global-failover-dp-prod-oltp-/);
    expect(stage.sim.aws.state.rdsSnapshots.find((snapshot) => snapshot.type === "manual")).toMatchObject({ status: "available", region: PRIMARY_REGION });
    expect(stage.sim.aws.state.mappings.filter((mapping) => mapping.region === PRIMARY_REGION).map((mapping) => mapping.state)).toEqual(["Disabled", "Disabled"]);
    // The failover itself was not repeated.
    expect(stage.sim.aws.calls.filter((call) => call.command === "FailoverGlobalCluster")).toHaveLength(1);
  });
});

describe("a crash mid-way, then --resume", () => {
  it("completes without repeating a side effect", async () => {
    // The switchover and one mapping update take effect, but their responses are lost.
    stage.sim.aws.state.loseResponseOf.push("SwitchoverGlobalCluster");
    const crashed = await promoteSimulated(stage.sim, stage.dirs());
    expect(crashed.result.exitCode).toBe(1);
    expect(crashed.result.journal!.status).toBe("failed");
    const aurora = crashed.result.journal!.steps.find((record) => record.id === "aurora-promote")!;
    expect(aurora).toMatchObject({ status: "failed", actionTaken: false });
    expect(aurora.error).toMatch(/response to SwitchoverGlobalCluster .* was lost/);
    // Nothing that depends on the database ran; the independent restore did.
    expect(crashed.result.journal!.steps.find((record) => record.id === "enable-mapping:eu-central-1:stream-consumer")!.status).toBe("pending");
    expect(crashed.result.journal!.steps.find((record) => record.id === "warehouse-restore")!.status).toBe("succeeded");

    stage.sim.aws.state.loseResponseOf.push("UpdateEventSourceMapping");
    const second = await promoteSimulated(stage.sim, { ...stage.dirs(), resume: true });
    expect(second.result.journal!.status).toBe("failed");

    const done = await promoteSimulated(stage.sim, { ...stage.dirs(), resume: true });
    expect(done.result.exitCode).toBe(0);
    expect(done.result.journal!.status).toBe("completed");
    // Every side effect happened exactly once across the three processes.
    const mutations = mutationsOf(stage.sim);
    expect(new Set(mutations).size).toBe(mutations.length);
    expect(mutations).toHaveLength(16);
    const record = done.result.journal!.steps.find((step) => step.id === "aurora-promote")!;
    expect(record).toMatchObject({ status: "succeeded", attempts: 2 });
    expect(record.detail).toMatch(/^joined the operation in progress|^already the writer/);
  });

  it("resumes from the target region's table when the local journal is gone", async () => {
    stage.sim.aws.state.loseResponseOf.push("PutParameter");
    const crashed = await promoteSimulated(stage.sim, stage.dirs());
    expect(crashed.result.journal!.status).toBe("failed");
    fs.rmSync(path.join(stage.outDir, "dr"), { recursive: true, force: true });

    const resumed = await promoteSimulated(stage.sim, { ...stage.dirs(), resume: true });
    expect(resumed.output).toContain(`Resuming run ${crashed.result.journal!.runId}`);
    expect(resumed.result.journal!.status).toBe("completed");
    const mutations = mutationsOf(stage.sim);
    expect(new Set(mutations).size).toBe(mutations.length);
  });
});
