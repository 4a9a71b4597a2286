/**
 * The claim Region switch cannot make: after dr:promote, the config changes it writes
 * make both stacks declare exactly what the promotion did, so the next `pulumi up`
 * changes nothing. The real stacks are evaluated offline (their drTopology is what
 * dr:promote acts on), promoted in the simulated two-region AWS with --write-config,
 * evaluated again from the rewritten stack files, and compared with the simulated AWS.
 */
import * as fs from "fs";
import * as path from "path";
import { RestoreFromClusterSnapshotCommandInput } from "@aws-sdk/client-redshift";
import { Simulation, startSimulation } from "../dr/simulation/harness";
import { toNotificationConfiguration } from "../dr/actions";
import { StackTopology, TOPOLOGY_OUTPUT } from "../dr/topology";
import { PROJECT_DIR, StackEvaluation, readStackConfig } from "../scripts/engine";
import { evaluateStage } from "../scripts/stage-evaluation";
import { cachedEvaluateStack } from "./support/evaluation-cache";
import { promoteSimulated, tempDirectory } from "./support/dr";
import { single } from "./support/stack";

const DR = "eu-central-1";

async function evaluateBoth(configDir: string): Promise<{ prod: StackEvaluation; standby: StackEvaluation }> {
  const stage = await evaluateStage("prod", { config: readStackConfig("prod", configDir), partnerConfig: readStackConfig("prod-dr", configDir), evaluate: cachedEvaluateStack });
  return { prod: stage.evaluation, standby: stage.partner as StackEvaluation };
}

const topologyOf = (plan: StackEvaluation) => plan.outputs[TOPOLOGY_OUTPUT] as StackTopology;

let sim: Simulation;
let before: { prod: StackEvaluation; standby: StackEvaluation };
let after: { prod: StackEvaluation; standby: StackEvaluation };
let status: string | undefined;
beforeAll(async () => {
  const configDir = tempDirectory("dr-converge-");
  for (const file of ["Pulumi.yaml", "Pulumi.prod.yaml", "Pulumi.prod-dr.yaml"]) fs.copyFileSync(path.join(PROJECT_DIR, file), path.join(configDir, file));
  before = await evaluateBoth(configDir);
  sim = await startSimulation({ topologies: { primary: topologyOf(before.prod), dr: topologyOf(before.standby) } });
  const run = await promoteSimulated(sim, { configDir, outDir: tempDirectory("dr-converge-out-"), stack: "prod-dr", mode: "planned", writeConfig: true });
  status = run.result.journal?.status;
  after = await evaluateBoth(configDir);
}, 240_000);
afterAll(async () => sim?.stop());

describe("a planned promotion of the real stacks, then their next update", () => {
  it("completes, and rewrites both stack files to the new active region", () => {
    expect(status).toBe("completed");
    for (const plan of [after.prod, after.standby]) expect(topologyOf(plan).activeRegion).toBe(DR);
  });

  it("leaves each region's mappings as the stacks now declare them", () => {
    for (const topology of [topologyOf(after.prod), topologyOf(after.standby)]) {
      for (const consumer of topology.consumers) {
        const mapping = sim.aws.state.mappings.find((m) => m.region === topology.region && m.uuid === consumer.eventSourceMappingUuid);
        expect([topology.region, consumer.name, mapping?.state]).toEqual([topology.region, consumer.name, consumer.enabled ? "Enabled" : "Disabled"]);
      }
    }
  });

  it("leaves every endpoint parameter, in both regions, at the value the stacks now declare", () => {
    for (const topology of [topologyOf(after.prod), topologyOf(after.standby)]) {
      for (const parameter of topology.endpointParameters) {
        const stored = sim.aws.state.parameters.find((p) => p.region === topology.region && p.name === parameter.name);
        expect([topology.region, parameter.name, stored?.value]).toEqual([topology.region, parameter.name, parameter.declaredValue]);
      }
    }
  });

  it("leaves the lake notifications the promoted stack declares, and none where it declares none", () => {
    const standbyTopology = topologyOf(after.standby);
    for (const trigger of standbyTopology.lakeTriggers) {
      const stored = sim.aws.state.notifications.find((n) => n.region === DR && n.bucket === trigger.bucket)?.configuration as Record<string, { Id?: string }[]>;
      const withoutIds = Object.fromEntries(Object.entries(stored).map(([kind, entries]) => [kind, Array.isArray(entries) ? entries.map(({ Id: _id, ...entry }) => entry) : entries]));
      expect(withoutIds).toEqual(toNotificationConfiguration(trigger));
    }
    expect(after.standby.resources.filter((r) => r.type === "aws:s3/bucketNotification:BucketNotification")).toHaveLength(3);
    expect(after.prod.resources.filter((r) => r.type === "aws:s3/bucketNotification:BucketNotification")).toEqual([]);
    for (const stored of sim.aws.state.notifications.filter((n) => n.region !== DR)) expect(Object.values(stored.configuration).flat()).toEqual([]);
  });

  it("adopts the restored warehouse with the settings it was restored with", () => {
    const restore = sim.aws.calls.find((call) => call.command === "RestoreFromClusterSnapshot")?.input as unknown as RestoreFromClusterSnapshotCommandInput;
    const cluster = single(after.standby, "aws:redshift/cluster:Cluster");
    expect(cluster.importId).toBe(restore.ClusterIdentifier);
    expect(cluster.inputs).toMatchObject({
      snapshotIdentifier: restore.SnapshotIdentifier,
      clusterSubnetGroupName: restore.ClusterSubnetGroupName,
      clusterParameterGroupName: restore.ClusterParameterGroupName,
      kmsKeyId: restore.KmsKeyId,
      vpcSecurityGroupIds: restore.VpcSecurityGroupIds,
      iamRoles: restore.IamRoles,
      nodeType: restore.NodeType,
      numberOfNodes: restore.NumberOfNodes,
    });
    expect(sim.aws.state.redshift.clusters.find((c) => c.region === DR && c.identifier === restore.ClusterIdentifier)?.status).toBe("available");
  });

  it("keeps what replication links and the Aurora members declare consistent with the new writer", () => {
    for (const rule of topologyOf(after.standby).lakeReplication) expect(rule.enabled).toBe(true);
    for (const rule of topologyOf(after.prod).lakeReplication) expect(rule.enabled).toBe(false);
    const writer = sim.aws.state.aurora?.members.find((member) => member.isWriter);
    expect(writer?.region).toBe(DR);
    expect(writer?.clusterArn).toBe(topologyOf(after.standby).aurora?.clusterArn);
  });
});
