/**
 * The two stacks of stage prod through the life of a stage: prod deployed before its DR
 * stack, the DR stack refusing to deploy without its primary, and both stacks after a
 * promotion into the DR region, with the warehouse that dr:promote restored there adopted.
 */
import { StackEvaluation, ofType } from "../scripts/engine";
import { StackTopology, TOPOLOGY_OUTPUT } from "../dr/topology";
import { arnOf, evaluateWithPartner, revealed, single } from "./support/stack";

const PRIMARY = "eu-west-1";
const DR = "eu-central-1";
const REPLICATION = "aws:s3/bucketReplicationConfig:BucketReplicationConfig";
const RESTORED = "dp-prod-warehouse-restore-test";

let firstPrimary: StackEvaluation;
let standby: StackEvaluation;
beforeAll(async () => {
  firstPrimary = await evaluateWithPartner("prod", undefined);
  standby = await evaluateWithPartner("prod-dr", firstPrimary.outputs);
});

describe("prod deployed before its DR stack", () => {
  it("already replicates its keys, its table and its secret, which need nothing from the DR stack", () => {
    expect(firstPrimary.errors).toEqual([]);
    expect(ofType(firstPrimary, "aws:kms/replicaKey:ReplicaKey")).toHaveLength(2);
    expect(single(firstPrimary, "aws:dynamodb/table:Table", "-speed-layer").inputs.replicas).toHaveLength(1);
    expect(single(firstPrimary, "aws:secretsmanager/secret:Secret", "-master-credentials").inputs.replicas).toHaveLength(1);
  });

  it("declares no link into DR buckets or grants that do not exist yet", () => {
    expect(ofType(firstPrimary, REPLICATION)).toEqual([]);
    expect(ofType(firstPrimary, "aws:redshift/snapshotCopy:SnapshotCopy")).toEqual([]);
    // Its endpoint parameters hold its own endpoints: it is the active region.
    const parameter = single(firstPrimary, "aws:ssm/parameter:Parameter", "-dr-control-ingest-stream-arn");
    expect(revealed(firstPrimary, parameter, "value")).toBe(single(firstPrimary, "aws:kinesis/stream:Stream").state.arn);
  });
});

describe("the DR stack without its primary", () => {
  it("refuses to deploy before the primary has exported its handoff, saying what to do", async () => {
    await expect(evaluateWithPartner("prod-dr", undefined)).rejects.toThrow(
      /reads the drHandoff output of its primary stack organization\/data-platform\/prod, which has none: deploy the primary first/,
    );
  });

  it("refuses a Global Database member on another engine version than the global cluster's", async () => {
    await expect(evaluateWithPartner("prod-dr", firstPrimary.outputs, { auroraEngineVersion: "16.8" })).rejects.toThrow(
      /auroraEngineVersion is 16\.8 here but 16\.6 in organization\/data-platform\/prod/,
    );
  });

  it("refuses a handoff from a stack that is not a primary", async () => {
    await expect(evaluateWithPartner("prod-dr", standby.outputs)).rejects.toThrow(/comes from a "dr" stack, expected a primary stack/);
  });
});

describe("after a promotion into the DR region", () => {
  let promotedPrimary: StackEvaluation;
  let promotedStandby: StackEvaluation;
  beforeAll(async () => {
    const promoted = { activeRegion: DR };
    promotedPrimary = await evaluateWithPartner("prod", standby.outputs, promoted);
    promotedStandby = await evaluateWithPartner("prod-dr", firstPrimary.outputs, { ...promoted, warehouseRestoreSnapshot: RESTORED });
  });

  it("runs the consumers and lake triggers in the DR region only", () => {
    for (const mapping of ofType(promotedStandby, "aws:lambda/eventSourceMapping:EventSourceMapping")) expect(mapping.inputs.enabled).toBe(true);
    for (const mapping of ofType(promotedPrimary, "aws:lambda/eventSourceMapping:EventSourceMapping")) expect(mapping.inputs.enabled).toBe(false);
    expect(ofType(promotedStandby, "aws:s3/bucketNotification:BucketNotification")).toHaveLength(3);
    expect(ofType(promotedPrimary, "aws:s3/bucketNotification:BucketNotification")).toEqual([]);
  });

  it("replicates from the DR region back to prod, and no longer the other way", () => {
    for (const config of ofType(promotedStandby, REPLICATION)) expect(config.inputs.rules[0].status).toBe("Enabled");
    for (const config of ofType(promotedPrimary, REPLICATION)) expect(config.inputs.rules[0].status).toBe("Disabled");
    expect(ofType(promotedPrimary, REPLICATION)).toHaveLength(3);
  });

  it("points producers at the DR region's endpoints from both regions", () => {
    const drStream = single(promotedStandby, "aws:kinesis/stream:Stream").state.arn;
    for (const plan of [promotedPrimary, promotedStandby]) {
      expect(revealed(plan, single(plan, "aws:ssm/parameter:Parameter", "-dr-control-ingest-stream-arn"), "value")).toBe(drStream);
      expect(revealed(plan, single(plan, "aws:ssm/parameter:Parameter", "-dr-control-active-region"), "value")).toBe(DR);
    }
    expect((promotedStandby.outputs[TOPOLOGY_OUTPUT] as StackTopology).activeRegion).toBe(DR);
  });

  it("adopts the warehouse dr:promote restored, with the loader that keeps it current", () => {
    const cluster = single(promotedStandby, "aws:redshift/cluster:Cluster");
    expect(cluster.importId).toBe("dp-prod-warehouse");
    expect(cluster.inputs).toMatchObject({ clusterIdentifier: "dp-prod-warehouse", snapshotIdentifier: RESTORED, encrypted: "true", publiclyAccessible: false });
    expect(cluster.inputs.kmsKeyId).toBe(arnOf(single(firstPrimary, "aws:kms/replicaKey:ReplicaKey", "-key-replicas-data")));
    expect(cluster.ignoreChanges).toEqual(expect.arrayContaining(["snapshotIdentifier", "finalSnapshotIdentifier", "skipFinalSnapshot"]));
    expect(cluster.protect).toBe(true);
    // The restore settings the standby described are the cluster's own arguments.
    const settings = (standby.outputs[TOPOLOGY_OUTPUT] as StackTopology).warehouse?.restoreSettings;
    expect(cluster.inputs.clusterSubnetGroupName).toBe(settings?.ClusterSubnetGroupName);
    expect(cluster.inputs.numberOfNodes).toBe(settings?.NumberOfNodes);
    expect(single(promotedStandby, "aws:lambda/function:Function", "-warehouse-loader-fn").inputs.environment.variables.WAREHOUSE_CLUSTER_ID).toBe("dp-prod-warehouse");
  });

  it("leaves the promoted stacks' Aurora members alone: membership changes are RDS's", () => {
    for (const plan of [promotedPrimary, promotedStandby]) {
      expect(single(plan, "aws:rds/cluster:Cluster").ignoreChanges).toEqual(expect.arrayContaining(["replicationSourceIdentifier", "globalClusterIdentifier"]));
    }
    expect(single(promotedPrimary, "aws:rds/globalCluster:GlobalCluster").inputs.globalClusterIdentifier).toBe("dp-prod-oltp-global");
    expect(single(promotedStandby, "aws:rds/cluster:Cluster").region).toBe(DR);
    expect(single(promotedPrimary, "aws:rds/cluster:Cluster").region).toBe(PRIMARY);
  });
});
