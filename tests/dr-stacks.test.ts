/**
 * The two stacks of stage prod under the SDK's mocks, as they converge from empty:
 * prod first (before its DR stack has outputs), prod-dr reading prod's handoff, then prod
 * again reading prod-dr's. What each region holds, who owns every cross-region link, and
 * the properties AWS insists on for each link.
 */
import { unboundServiceTrust } from "../policies/confused-deputy";
import { GLOBAL_MEMBER_IGNORED_FIELDS } from "../components/stores/oltp-database";
import { StackTopology, TOPOLOGY_OUTPUT } from "../dr/topology";
import { HANDOFF_OUTPUT, PrimaryHandoff, StandbyHandoff } from "../platform/handoff";
import { PlannedResource, StackEvaluation, ofType } from "../scripts/engine";
import { crossRegionLinks } from "../scripts/plan";
import { evaluateStage } from "../scripts/stage-evaluation";
import { cachedEvaluateStack } from "./support/evaluation-cache";
import { arnOf, revealed, single, statementsOf } from "./support/stack";

const PRIMARY = "eu-west-1";
const DR = "eu-central-1";
const REPLICATION = "aws:s3/bucketReplicationConfig:BucketReplicationConfig";
const ZONES = ["raw", "transformed", "staged"];

let prod: StackEvaluation;
let standby: StackEvaluation;
beforeAll(async () => {
  const stage = await evaluateStage("prod", { evaluate: cachedEvaluateStack });
  prod = stage.evaluation;
  standby = stage.partner as StackEvaluation;
});

const bucket = (plan: StackEvaluation, zone: string) => single(plan, "aws:s3/bucket:Bucket", `-lake-${zone}`);
const topologyOf = (plan: StackEvaluation) => plan.outputs[TOPOLOGY_OUTPUT] as StackTopology;
const rule = (config: PlannedResource) => config.inputs.rules[0];

describe("both stacks", () => {
  it("evaluate with zero warnings and zero errors", () => {
    for (const plan of [prod, standby]) {
      expect(plan.errors).toEqual([]);
      expect(plan.warnings).toEqual([]);
    }
  });

  it("keep every resource of the DR stack in the DR region, and prod's only its key replicas there", () => {
    expect(new Set(standby.resources.filter((r) => r.custom && r.region).map((r) => r.region))).toEqual(new Set([DR]));
    const prodInDr = prod.resources.filter((r) => r.region === DR).map((r) => r.type).sort();
    expect(prodInDr).toEqual(["aws:kms/alias:Alias", "aws:kms/alias:Alias", "aws:kms/replicaKey:ReplicaKey", "aws:kms/replicaKey:ReplicaKey"]);
  });

  it("tag every provider the same way", () => {
    const providers = [...ofType(prod, "pulumi:providers:aws"), ...ofType(standby, "pulumi:providers:aws")];
    expect(providers.map((p) => p.inputs.region).sort()).toEqual([DR, DR, PRIMARY]);
    const tags = providers.map((p) => JSON.parse(p.inputs.defaultTags).tags);
    for (const t of tags) expect(t).toEqual(tags[0]);
    expect(tags[0]).toMatchObject({ Stage: "prod", NamePrefix: "dp-prod" });
  });

  it("hand each other what the partner needs, through their outputs", () => {
    const primary = prod.outputs[HANDOFF_OUTPUT] as PrimaryHandoff;
    const dr = standby.outputs[HANDOFF_OUTPUT] as StandbyHandoff;
    expect(primary).toMatchObject({ version: 1, role: "primary", region: PRIMARY, aurora: { globalClusterIdentifier: "dp-prod-oltp-global", engineVersion: "16.6", databaseName: "platform" } });
    expect(dr).toMatchObject({ version: 1, role: "dr", region: DR, snapshotCopyGrantName: "dp-prod-warehouse-copies" });
    for (const zone of ZONES) {
      expect(primary.lake[zone as "raw"].arn).toBe(arnOf(bucket(prod, zone)));
      expect(dr.lake[zone as "raw"].arn).toBe(arnOf(bucket(standby, zone)));
    }
  });
});

describe("keys", () => {
  it("replicates both multi-Region keys into the DR region from prod, with their own policy and the same alias", () => {
    for (const key of ["data", "logs"]) {
      const primaryKey = single(prod, "aws:kms/key:Key", `-keys-${key}`);
      const replica = single(prod, "aws:kms/replicaKey:ReplicaKey", `-key-replicas-${key}`);
      expect(primaryKey.inputs.multiRegion).toBe(true);
      expect(replica.inputs.primaryKeyArn).toBe(arnOf(primaryKey));
      expect(replica.region).toBe(DR);
      expect(replica.protect).toBe(true);
      // A replica of a multi-Region key shares its key id; S3 needs its full ARN in the DR region.
      expect(arnOf(replica)).toBe(arnOf(primaryKey).replace(PRIMARY, DR));
      expect(single(prod, "aws:kms/alias:Alias", `-key-replicas-${key}-alias`).inputs.name).toBe(`alias/dp-prod-keys-${key}`);
    }
    const logsReplica = single(prod, "aws:kms/replicaKey:ReplicaKey", "-key-replicas-logs");
    const logsStatement = JSON.parse(logsReplica.inputs.policy).Statement.find((s: { Sid: string }) => s.Sid === "CloudWatchLogsOfThisAccount");
    expect(logsStatement.Principal).toEqual({ Service: `logs.${DR}.amazonaws.com` });
  });

  it("encrypts everything in the DR region with the replicas", () => {
    const dataReplica = arnOf(single(prod, "aws:kms/replicaKey:ReplicaKey", "-key-replicas-data"));
    const logsReplica = arnOf(single(prod, "aws:kms/replicaKey:ReplicaKey", "-key-replicas-logs"));
    expect(ofType(standby, "aws:kms/key:Key")).toEqual([]);
    expect(single(standby, "aws:rds/cluster:Cluster").inputs.kmsKeyId).toBe(dataReplica);
    for (const group of ofType(standby, "aws:cloudwatch/logGroup:LogGroup")) expect(group.inputs.kmsKeyId).toBe(logsReplica);
    const encryption = single(standby, "aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration", "-lake-raw-encryption");
    expect(encryption.inputs.rules[0].applyServerSideEncryptionByDefault.kmsMasterKeyId).toBe(dataReplica);
  });
});

describe("Aurora Global Database", () => {
  it("joins a secondary with instances in the DR region by the global cluster's known identifier", () => {
    const secondary = single(standby, "aws:rds/cluster:Cluster");
    expect(secondary.inputs).toMatchObject({ globalClusterIdentifier: "dp-prod-oltp-global", engine: "aurora-postgresql", engineVersion: "16.6", storageEncrypted: true });
    // A secondary replicates the primary's databases and credentials: it sets none of its own.
    for (const field of ["masterUsername", "databaseName", "masterPasswordWo", "manageMasterUserPassword"]) expect(secondary.inputs[field]).toBeUndefined();
    const instances = ofType(standby, "aws:rds/clusterInstance:ClusterInstance");
    expect(instances.length).toBeGreaterThanOrEqual(1); // a headless secondary cannot be switched or failed over to
    for (const instance of instances) expect(instance.inputs.instanceClass).not.toMatch(/^db\.t/);
    const parameters = single(standby, "aws:rds/clusterParameterGroup:ClusterParameterGroup").inputs.parameters;
    expect(parameters).toContainEqual(expect.objectContaining({ name: "rds.force_ssl", value: "1" }));
    expect(ofType(standby, "aws:rds/globalCluster:GlobalCluster")).toEqual([]);
  });

  it("leaves the membership fields of both members to RDS, so an update after a switchover never detaches one", () => {
    for (const plan of [prod, standby]) {
      const cluster = single(plan, "aws:rds/cluster:Cluster");
      expect([...cluster.ignoreChanges].sort()).toEqual([...GLOBAL_MEMBER_IGNORED_FIELDS].sort());
      expect(cluster.protect).toBe(true);
      expect(cluster.inputs.deletionProtection).toBe(true);
    }
  });

  it("replicates the generated master credentials into the DR region, where the DR aggregator reads them, and points the DR client API at its own reporting endpoint", () => {
    const secret = single(prod, "aws:secretsmanager/secret:Secret", "-master-credentials");
    const dataReplica = arnOf(single(prod, "aws:kms/replicaKey:ReplicaKey", "-key-replicas-data"));
    expect(secret.inputs.replicas).toEqual([{ region: DR, kmsKeyId: dataReplica }]);
    const containers = (suffix: string) => JSON.parse(single(standby, "aws:ecs/taskDefinition:TaskDefinition", suffix).inputs.containerDefinitions as string);
    const [aggregator] = containers("-aggregator-task");
    expect(aggregator.secrets).toEqual([{ name: "DB_SECRET", valueFrom: arnOf(secret).replace(PRIMARY, DR) }]);
    const [clientApi] = containers("-client-api-task");
    const env = Object.fromEntries(clientApi.environment.map((v: { name: string; value: string }) => [v.name, v.value]));
    expect(env.DB_NAME).toBe("platform");
    expect(env.DB_HOST).toBe(single(standby, "aws:rds/clusterEndpoint:ClusterEndpoint").state.endpoint);
    // The client API took over the reports: no Lambda reporting API beside it.
    expect(standby.resources.filter((r) => r.name.endsWith("-cache-reporting-fn"))).toEqual([]);
  });
});

describe("DynamoDB global table", () => {
  it("gives the speed-layer table a replica in the DR region through its replicas block alone", () => {
    const table = single(prod, "aws:dynamodb/table:Table", "-speed-layer");
    const dataReplica = arnOf(single(prod, "aws:kms/replicaKey:ReplicaKey", "-key-replicas-data"));
    expect(table.inputs.streamViewType).toBe("NEW_AND_OLD_IMAGES");
    expect(table.inputs.replicas).toEqual([{ regionName: DR, kmsKeyArn: dataReplica, pointInTimeRecovery: true, deletionProtectionEnabled: true, propagateTags: true }]);
    expect([...ofType(prod, "aws:dynamodb/tableReplica:TableReplica"), ...ofType(standby, "aws:dynamodb/tableReplica:TableReplica")]).toEqual([]);
  });

  it("has the DR consumer write to the replica, which the DR stack does not declare", () => {
    const table = single(prod, "aws:dynamodb/table:Table", "-speed-layer");
    // Its own tables are the promotion journal and the region's deduplication claims; the speed layer is the replica.
    expect(ofType(standby, "aws:dynamodb/table:Table").map((t) => t.name).sort()).toEqual(["dp-prod-dr-control-promotions", "dp-prod-ingestion-claims"]);
    const consumer = single(standby, "aws:lambda/function:Function", "-ingestion-stream-consumer-fn");
    expect(consumer.inputs.environment.variables.SPEED_LAYER_TABLE).toBe(table.state.name);
    const policy = statementsOf(single(standby, "aws:iam/rolePolicy:RolePolicy", "-ingestion-stream-consumer-policy"));
    expect(policy.find((s) => s.Sid === "WriteSpeedLayer").Resource).toBe(`arn:aws:dynamodb:${DR}:123456789012:table/${table.state.name}`);
  });
});

describe("S3 replication", () => {
  it("replicates raw, transformed and staged from prod into the DR stack's buckets, with RTC, delete markers and the replica key", () => {
    const dataReplica = arnOf(single(prod, "aws:kms/replicaKey:ReplicaKey", "-key-replicas-data"));
    for (const zone of ZONES) {
      const config = single(prod, REPLICATION, `-dr-replication-lake-${zone}`);
      expect(config.inputs.bucket).toBe(bucket(prod, zone).state.bucket);
      expect(rule(config)).toMatchObject({
        id: `${zone}-to-${DR}`,
        status: "Enabled",
        filter: {},
        deleteMarkerReplication: { status: "Enabled" },
        sourceSelectionCriteria: { sseKmsEncryptedObjects: { status: "Enabled" }, replicaModifications: { status: "Enabled" } },
        destination: {
          bucket: arnOf(bucket(standby, zone)),
          encryptionConfiguration: { replicaKmsKeyId: dataReplica },
          replicationTime: { status: "Enabled", time: { minutes: 15 } },
          metrics: { status: "Enabled", eventThreshold: { minutes: 15 } },
        },
      });
      // Replication needs the source's versioning first (the destination's exists: the DR stack exported its buckets).
      expect(config.dependencies).toContain(single(prod, "aws:s3/bucketVersioning:BucketVersioning", `-lake-${zone}-versioning`).urn);
      expect(config.dependencies).toContain(single(prod, "aws:iam/rolePolicy:RolePolicy", "-dr-replication-lake-policy").urn);
    }
    expect(ofType(prod, REPLICATION).map((r) => r.name).sort()).toEqual(ZONES.map((zone) => `dp-prod-dr-replication-lake-${zone}`).sort());
  });

  it("scopes the replication role's keys to S3 in each region and to the lake buckets", () => {
    const statements = statementsOf(single(prod, "aws:iam/rolePolicy:RolePolicy", "-dr-replication-lake-policy"));
    const decrypt = statements.find((s) => s.Sid === "DecryptSourceObjects");
    expect(decrypt.Resource).toBe(arnOf(single(prod, "aws:kms/key:Key", "-keys-data")));
    expect(decrypt.Condition.StringEquals["kms:ViaService"]).toBe(`s3.${PRIMARY}.amazonaws.com`);
    expect(decrypt.Condition.StringLike["kms:EncryptionContext:aws:s3:arn"]).toContain(arnOf(bucket(prod, "raw")));
    const encrypt = statements.find((s) => s.Sid === "EncryptReplicas");
    expect(encrypt.Condition.StringEquals["kms:ViaService"]).toBe(`s3.${DR}.amazonaws.com`);
    expect(statements.find((s) => s.Sid === "WriteReplicas").Resource).toEqual(ZONES.map((zone) => `${arnOf(bucket(standby, zone))}/*`));
    expect(statements.flatMap((s) => [s.Action].flat())).not.toContain("s3:*");
  });

  it("lets S3 assume the replication role with the trust the S3 guide documents, which the pack accepts", () => {
    const role = single(prod, "aws:iam/role:Role", "-dr-replication-lake-role");
    const trust = statementsOf(role, "assumeRolePolicy");
    expect(trust).toEqual([expect.objectContaining({ Effect: "Allow", Principal: { Service: "s3.amazonaws.com" }, Action: "sts:AssumeRole" })]);
    expect(trust[0].Condition).toBeUndefined();
    expect(unboundServiceTrust(role.inputs.assumeRolePolicy)).toEqual([]);
  });

  it("holds the reverse rules in the DR stack, Disabled until its region is active, aimed at prod's buckets and key", () => {
    for (const zone of ZONES) {
      const reverse = rule(single(standby, REPLICATION, `-dr-replication-lake-${zone}`));
      expect(reverse).toMatchObject({ id: `${zone}-to-${PRIMARY}`, status: "Disabled", destination: { bucket: arnOf(bucket(prod, zone)) } });
      expect(reverse.destination.encryptionConfiguration.replicaKmsKeyId).toBe(arnOf(single(prod, "aws:kms/key:Key", "-keys-data")));
    }
  });
});

describe("Redshift", () => {
  it("copies prod's automated snapshots to the DR region under the DR stack's grant, hourly for the batch RPO", () => {
    const copy = single(prod, "aws:redshift/snapshotCopy:SnapshotCopy");
    const grant = single(standby, "aws:redshift/snapshotCopyGrant:SnapshotCopyGrant");
    expect(copy.inputs).toMatchObject({ clusterIdentifier: "dp-prod-warehouse", destinationRegion: DR, snapshotCopyGrantName: grant.inputs.snapshotCopyGrantName, retentionPeriod: 7 });
    expect(grant.inputs.kmsKeyId).toBe(arnOf(single(prod, "aws:kms/replicaKey:ReplicaKey", "-key-replicas-data")));
    expect(single(prod, "aws:redshift/snapshotSchedule:SnapshotSchedule").inputs.definitions).toEqual(["rate(1 hour)"]);
    expect(single(prod, "aws:redshift/snapshotScheduleAssociation:SnapshotScheduleAssociation").inputs.clusterIdentifier).toBe("dp-prod-warehouse");
  });

  it("keeps only what a restore needs in the DR region, and describes the restore for dr:promote", () => {
    expect(ofType(standby, "aws:redshift/cluster:Cluster")).toEqual([]);
    const warehouse = topologyOf(standby).warehouse;
    expect(warehouse?.restoreSettings).toMatchObject({
      ClusterIdentifier: "dp-prod-warehouse",
      ClusterSubnetGroupName: single(standby, "aws:redshift/subnetGroup:SubnetGroup").state.name,
      ClusterParameterGroupName: single(standby, "aws:redshift/parameterGroup:ParameterGroup").state.name,
      KmsKeyId: arnOf(single(prod, "aws:kms/replicaKey:ReplicaKey", "-key-replicas-data")),
      EnhancedVpcRouting: true,
      PubliclyAccessible: false,
    });
    expect(warehouse).toMatchObject({ clusterIdentifier: "", restoreOnPromotion: true, snapshotCopyGrantName: "dp-prod-warehouse-copies" });
  });
});

describe("the standby pipeline", () => {
  it("exists in the DR region with its consumers off and no lake triggers, while prod's run", () => {
    for (const mapping of ofType(standby, "aws:lambda/eventSourceMapping:EventSourceMapping")) expect(mapping.inputs.enabled).toBe(false);
    for (const mapping of ofType(prod, "aws:lambda/eventSourceMapping:EventSourceMapping")) expect(mapping.inputs.enabled).toBe(true);
    expect(ofType(standby, "aws:s3/bucketNotification:BucketNotification")).toEqual([]);
    expect(ofType(prod, "aws:s3/bucketNotification:BucketNotification")).toHaveLength(3);
    // The permissions stay, so a promotion only has to put the notifications.
    expect(ofType(standby, "aws:lambda/permission:Permission").filter((p) => p.inputs.principal === "s3.amazonaws.com")).toHaveLength(2);
    expect(single(standby, "aws:kinesis/stream:Stream").inputs.streamModeDetails).toEqual({ streamMode: "ON_DEMAND" });
  });

  it("publishes the active region's endpoints under the same names in both regions", () => {
    const prodStream = single(prod, "aws:kinesis/stream:Stream").state.arn;
    for (const plan of [prod, standby]) {
      const parameter = single(plan, "aws:ssm/parameter:Parameter", "-dr-control-ingest-stream-arn");
      expect(parameter.inputs).toMatchObject({ name: "/dp-prod/dr/endpoints/ingest-stream-arn", type: "String" });
      expect(revealed(plan, parameter, "value")).toBe(prodStream);
      expect(revealed(plan, single(plan, "aws:ssm/parameter:Parameter", "-dr-control-active-region"), "value")).toBe(PRIMARY);
    }
  });

  it("gives the DR region its own cold cache, no budget, and a journal table for promotions", () => {
    expect(single(standby, "aws:elasticache/replicationGroup:ReplicationGroup").region).toBe(DR);
    expect(ofType(standby, "aws:budgets/budget:Budget")).toEqual([]);
    expect(ofType(prod, "aws:budgets/budget:Budget")).toHaveLength(1);
    const journal = single(standby, "aws:dynamodb/table:Table", "-dr-control-promotions");
    expect(journal.inputs).toMatchObject({ name: "dp-prod-dr-promotions", billingMode: "PAY_PER_REQUEST", hashKey: "pk", rangeKey: "sk", pointInTimeRecovery: { enabled: true } });
    expect(journal.inputs.serverSideEncryption.kmsKeyArn).toBe(arnOf(single(prod, "aws:kms/replicaKey:ReplicaKey", "-key-replicas-data")));
  });
});

describe("alarms on the links", () => {
  it("page when lake replication fails or lags past the batch RPO, and when the secondary's recovery point lags past the streaming RPO", () => {
    const alarm = (plan: StackEvaluation, suffix: string) => single(plan, "aws:cloudwatch/metricAlarm:MetricAlarm", suffix);
    for (const zone of ZONES) {
      const failed = alarm(prod, `-dr-replication-lake-${zone}-failed`);
      expect(failed.inputs).toMatchObject({ namespace: "AWS/S3", metricName: "OperationsFailedReplication", threshold: 0 });
      expect(failed.inputs.dimensions).toEqual({ SourceBucket: bucket(prod, zone).state.bucket, DestinationBucket: bucket(standby, zone).state.bucket, RuleId: `${zone}-to-${DR}` });
      expect(alarm(prod, `-dr-replication-lake-${zone}-latency`).inputs).toMatchObject({ metricName: "ReplicationLatency", threshold: 3600 });
    }
    // The passive side's rules are Disabled: they carry nothing to alarm on until promotion.
    expect(ofType(standby, "aws:cloudwatch/metricAlarm:MetricAlarm").filter((a) => a.name.includes("-dr-replication-"))).toEqual([]);
    const lag = alarm(standby, "-oltp-global-rpo-lag");
    expect(lag.inputs).toMatchObject({ namespace: "AWS/RDS", metricName: "AuroraGlobalDBRPOLag", threshold: 60_000, dimensions: { DBClusterIdentifier: "dp-prod-oltp" } });
    expect(lag.region).toBe(DR);
  });
});

describe("the offline plan", () => {
  it("lists the links between the regions, from both graphs", () => {
    const links = crossRegionLinks(prod, standby);
    expect(links[0]).toBe("  Aurora Global Database dp-prod-oltp-global: dp-prod-oltp in eu-west-1 (prod, 4 instances); dp-prod-oltp in eu-central-1 (prod-dr, 2 instances)");
    expect(links).toContainEqual(expect.stringMatching(/^ {2}KMS key replicas: dp-prod-key-replicas-data in eu-central-1, dp-prod-key-replicas-logs in eu-central-1$/));
    expect(links).toContainEqual(expect.stringMatching(/^ {2}DynamoDB global table \S+: replicas in eu-central-1$/));
    expect(links.filter((line) => / {2}S3 \w+-to-eu-central-1: .*\(Enabled, RTC 15 min\)$/.test(line))).toHaveLength(3);
    expect(links).toContainEqual("  Redshift snapshot copy: dp-prod-warehouse → eu-central-1 under grant dp-prod-warehouse-copies, kept 7 days");
  });
});

describe("drTopology", () => {
  it("describes each region exactly as declared, for dr:promote", () => {
    const primary = topologyOf(prod);
    const dr = topologyOf(standby);
    expect(primary).toMatchObject({ version: 1, stack: "organization/data-platform/prod", partnerStack: "organization/data-platform/prod-dr", role: "primary", region: PRIMARY, partnerRegion: DR, activeRegion: PRIMARY });
    expect(dr).toMatchObject({ stack: "organization/data-platform/prod-dr", partnerStack: "organization/data-platform/prod", role: "dr", region: DR, partnerRegion: PRIMARY, activeRegion: PRIMARY });
    expect(dr.aurora).toMatchObject({ globalClusterIdentifier: "dp-prod-oltp-global", clusterIdentifier: "dp-prod-oltp", engineVersion: "16.6" });
    expect(dr.aurora?.instanceIdentifiers.length).toBeGreaterThanOrEqual(1);
    expect(dr.consumers.map((c) => [c.name, c.enabled])).toEqual([["stream-consumer", false], ["queue-consumer", false]]);
    expect(dr.consumers[0].eventSourceMappingUuid).toBe(single(standby, "aws:lambda/eventSourceMapping:EventSourceMapping", "-stream-mapping").state.uuid);
    expect(dr.lakeTriggers.map((t) => t.bucket)).toEqual(["raw", "transformed", "staged"].map((zone) => bucket(standby, zone).state.bucket));
    expect(dr.lakeTriggers[2]).toMatchObject({ eventBridge: true, topics: [{ filterPrefix: "manifests/", filterSuffix: ".manifest" }] });
    expect(primary.lakeReplication.map((r) => [r.zone, r.enabled, r.destinationRegion])).toEqual(ZONES.map((zone) => [zone, true, DR]));
    expect(dr.lakeReplication.map((r) => r.enabled)).toEqual([false, false, false]);
    expect(dr.endpointParameters.find((p) => p.name.endsWith("ingest-stream-arn"))?.valueWhenActive).toBe(single(standby, "aws:kinesis/stream:Stream").state.arn);
    expect(primary.warehouse).toMatchObject({ clusterIdentifier: "dp-prod-warehouse", snapshotCopyRegion: DR });
    expect(dr.promotionJournalTable).toBe("dp-prod-dr-promotions");
    expect(dr.targets).toEqual({ rpoStreamSeconds: 60, rpoBatchMinutes: 60, rtoMinutes: 120 });
  });
});
