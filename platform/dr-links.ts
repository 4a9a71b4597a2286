/**
 * The cross-region wiring of a stage with DR, for both stack roles. Ownership follows
 * one rule: a stack owns the resources in its own region, plus the replication that is
 * configured on them (the source side). So the primary owns its keys' replicas, its
 * table's replica, its secret's replica and the global cluster (all created through the
 * primary region's APIs), its lake's outbound rules and its warehouse's snapshot copy;
 * the DR stack owns everything else in the DR region: network, buckets, the Aurora
 * secondary, the standby pipeline, the snapshot copy grant and the reverse lake rules.
 */
import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import { StageConfig, activeRegionOf, isActiveStack, partnerRegion, partnerStackName } from "../config";
import { DrControl, ProducerEndpoint } from "../components/dr/dr-control";
import { DrReplication, LakeReplicationArgs, snapshotIntervalForRpo } from "../components/dr/dr-replication";
import { KeyReplicas } from "../components/dr/key-replicas";
import { PlatformKeys, dataKeyPolicy, logsKeyPolicy } from "../components/foundation/keys";
import { LakeBucket } from "../components/lake/data-lake";
import { resolvedObject } from "../components/lib/outputs";
import { TOPOLOGY_OUTPUT } from "../dr/topology";
import { PlatformContext } from "./context";
import { DataPath } from "./data-path";
import { BucketHandoff, EndpointHandoff, HANDOFF_OUTPUT, PrimaryHandoff, REPLICATED_ZONES, ReplicatedZone, StandbyHandoff, inRegion, readHandoff } from "./handoff";
import { ProtectedResourceGroup } from "./backups";
import { regionProvider } from "./providers";
import { Stores } from "./stores";
import { stackTopology } from "./topology";

/** The journal table, for the stack's backup selections. */
export function journalBackup(links: DrLinks | undefined): ProtectedResourceGroup[] {
  return links ? [{ kind: "dynamodb", arns: [links.journalTableArn] }] : [];
}

/** The partner stack's fully qualified name, as this program's StackReference reads it. */
export function partnerOf(config: StageConfig): string {
  return partnerStackName(config, pulumi.getOrganization(), pulumi.getProject());
}

/** Names both regions share, so each side and dr:promote find the other's by region. */
export function drNames(prefix: string) {
  return {
    parameterPrefix: `/${prefix}/dr`,
    journalTable: `${prefix}-dr-promotions`,
    copyGrant: `${prefix}-warehouse-copies`,
  };
}

/** What a primary with DR sets up before its data path: the key replicas, and whatever the DR stack has told it. */
export interface PrimaryDrPreparation {
  readonly partnerName: string;
  readonly keyReplicas: KeyReplicas;
  /** Undefined until the DR stack has been deployed. */
  readonly standby?: StandbyHandoff;
}

export async function preparePrimaryDr(config: StageConfig, prefix: string, keys: PlatformKeys): Promise<PrimaryDrPreparation> {
  const partnerName = partnerOf(config);
  const partnerProvider = regionProvider(`${prefix}-dr`, config, config.drRegion);
  const identity = aws.getCallerIdentityOutput({}, { provider: partnerProvider });
  const keyReplicas = new KeyReplicas(`${prefix}-key-replicas`, {
    provider: partnerProvider,
    aliasPrefix: `${prefix}-keys`,
    deletionWindowInDays: config.deletionProtection ? 30 : 7,
    protect: config.protectStatefulResources,
    keys: [
      { key: "data", primaryKeyArn: keys.dataKeyArn, policy: dataKeyPolicy(identity.accountId), description: `${prefix}: data at rest (replica in ${config.drRegion})` },
      { key: "logs", primaryKeyArn: keys.logsKeyArn, policy: logsKeyPolicy(identity.accountId, config.drRegion), description: `${prefix}: CloudWatch Logs (replica in ${config.drRegion})` },
    ],
  }, { providers: [partnerProvider] });
  const reference = new pulumi.StackReference(`${prefix}-partner`, { name: partnerName });
  const standby = await readHandoff<StandbyHandoff>(reference, partnerName, "dr");
  if (standby === undefined) {
    pulumi.log.info(`DR stack ${partnerName} has not exported ${HANDOFF_OUTPUT} yet: lake replication and warehouse snapshot copies are added by the next update after it is deployed.`);
  }
  return { partnerName, keyReplicas, standby };
}

/** The endpoints producers look up, with this region's values, and the partner's when known. */
function producerEndpoints(dataPath: DataPath, stores: Stores, partner?: EndpointHandoff): ProducerEndpoint[] {
  const own: Record<string, pulumi.Input<string> | undefined> = {
    "ingest-stream-arn": dataPath.ingestion.stream.arn,
    "ingest-stream-name": dataPath.ingestion.stream.name,
    "ingest-queue-url": dataPath.ingestion.ingestQueue.url,
    "ingest-api-url": dataPath.ingestion.apiEndpoint,
    "reporting-api-url": stores.reporting.apiUrl,
  };
  return Object.entries(own)
    .filter((entry): entry is [string, pulumi.Input<string>] => entry[1] !== undefined)
    .map(([key, value]) => ({ key, own: value, partner: partner?.[key] }));
}

function endpointHandoff(endpoints: ProducerEndpoint[]): pulumi.Output<EndpointHandoff> {
  return resolvedObject<EndpointHandoff>(Object.fromEntries(endpoints.map((endpoint) => [endpoint.key, endpoint.own])));
}

function lakeZones(dataPath: DataPath): Record<ReplicatedZone, LakeBucket> {
  const { lake } = dataPath;
  return { raw: lake.raw, transformed: lake.transformed, staged: lake.staged };
}

function lakeHandoff(dataPath: DataPath): pulumi.Output<Record<ReplicatedZone, BucketHandoff>> {
  const bucket = (zone: LakeBucket) => ({ name: zone.name, arn: zone.arn });
  const { raw, transformed, staged } = lakeZones(dataPath);
  return resolvedObject<Record<ReplicatedZone, BucketHandoff>>({ raw: bucket(raw), transformed: bucket(transformed), staged: bucket(staged) });
}

/**
 * This stack's outbound lake rules into the partner's buckets, encrypted there with
 * `destinationKeyArn`: the same on both sides, except where they point.
 */
function lakeReplication(context: PlatformContext, dataPath: DataPath, destinations: Record<ReplicatedZone, BucketHandoff>, destinationKeyArn: pulumi.Input<string>): LakeReplicationArgs {
  const { config } = context;
  const zones = lakeZones(dataPath);
  return {
    sources: REPLICATED_ZONES.map((zone) => ({ zone, bucket: zones[zone], versioning: zones[zone].versioning })),
    destinations,
    sourceKeyArn: context.keys.dataKeyArn,
    destinationKeyArn,
    enabled: isActiveStack(config),
    replicationTimeControl: config.s3ReplicationTimeControl,
    latencyAlarmSeconds: config.drRpoBatchMinutes * 60,
  };
}

function drControl(context: PlatformContext, endpoints: ProducerEndpoint[]): DrControl {
  const { config, prefix } = context;
  const names = drNames(prefix);
  return new DrControl(`${prefix}-dr-control`, {
    parameterPrefix: names.parameterPrefix,
    journalTableName: names.journalTable,
    active: isActiveStack(config),
    activeRegion: activeRegionOf(config),
    region: context.region,
    endpoints,
    dataKeyArn: context.keys.dataKeyArn,
    pointInTimeRecovery: config.pointInTimeRecovery,
    deletionProtection: config.deletionProtection,
    protect: config.protectStatefulResources,
  }, context.componentOpts);
}

/** What a stack's cross-region wiring exports, and the stateful resource it adds (backed up like the others). */
export interface DrLinks {
  readonly outputs: Record<string, unknown>;
  readonly journalTableArn: pulumi.Output<string>;
}

/** The primary's cross-region links, once its data path and stores exist. */
export function linkPrimary(context: PlatformContext, dataPath: DataPath, stores: Stores, prep: PrimaryDrPreparation): DrLinks {
  const { config, prefix } = context;
  const { standby } = prep;
  const drRegion = config.drRegion;
  const replication = new DrReplication(`${prefix}-dr-replication`, {
    region: context.region,
    partnerRegion: drRegion,
    lake: standby && lakeReplication(context, dataPath, standby.lake, prep.keyReplicas.arns.data),
    alarmTopicArn: context.alarmTopicArn,
    warehouseCopies: standby && stores.warehouse.clusterIdentifier && {
      clusterIdentifier: stores.warehouse.clusterIdentifier,
      grantName: standby.snapshotCopyGrantName,
      retentionDays: config.warehouseSnapshotCopyRetentionDays,
      snapshotIntervalHours: snapshotIntervalForRpo(config.drRpoBatchMinutes),
    },
  }, context.componentOpts);
  const endpoints = producerEndpoints(dataPath, stores, standby?.endpoints);
  const control = drControl(context, endpoints);
  const credentialsSecretArn = stores.oltp.credentialsSecretArn as pulumi.Output<string>;

  const handoff = resolvedObject<PrimaryHandoff>({
    version: 1,
    role: "primary",
    region: context.region,
    keys: { dataKeyArn: context.keys.dataKeyArn, dataKeyReplicaArn: prep.keyReplicas.arns.data, logsKeyReplicaArn: prep.keyReplicas.arns.logs },
    aurora: {
      globalClusterIdentifier: stores.oltp.globalClusterIdentifier as pulumi.Output<string>,
      engineVersion: config.auroraEngineVersion,
      credentialsSecretReplicaArn: credentialsSecretArn.apply((arn) => inRegion(arn, drRegion)),
      databaseName: stores.oltp.databaseName.apply((name) => name ?? ""),
    },
    speedLayerTableName: dataPath.speedLayerTableName,
    lake: lakeHandoff(dataPath),
    endpoints: endpointHandoff(endpoints),
  });
  return {
    outputs: {
      [HANDOFF_OUTPUT]: handoff,
      [TOPOLOGY_OUTPUT]: stackTopology(context, { dataPath, stores, replication, control, partnerName: prep.partnerName }),
    },
    journalTableArn: control.journalTable.arn,
  };
}

/** The primary's handoff a DR stack cannot deploy without. */
export async function readPrimaryHandoff(config: StageConfig, prefix: string): Promise<{ partnerName: string; primary: PrimaryHandoff }> {
  const partnerName = partnerOf(config);
  const reference = new pulumi.StackReference(`${prefix}-partner`, { name: partnerName });
  const primary = await readHandoff<PrimaryHandoff>(reference, partnerName, "primary");
  if (primary === undefined) {
    throw new pulumi.RunError(
      `This DR stack reads the ${HANDOFF_OUTPUT} output of its primary stack ${partnerName}, which has none: deploy the primary first ` +
        "(README, Disaster recovery → Deploy order), or set partnerStack to the primary's fully qualified name.",
    );
  }
  if (primary.region !== config.primaryRegion) {
    throw new pulumi.RunError(`Stack ${partnerName} is in ${primary.region}, but this stack's primaryRegion is ${config.primaryRegion}: both stacks of a stage must name the same regions.`);
  }
  if (primary.aurora.engineVersion !== config.auroraEngineVersion) {
    throw new pulumi.RunError(
      `auroraEngineVersion is ${config.auroraEngineVersion} here but ${primary.aurora.engineVersion} in ${partnerName}: Global Database members run the global cluster's version (set the same in both stack files).`,
    );
  }
  return { partnerName, primary };
}

/** The DR stack's cross-region links: reverse rules ready for failback, the copy grant, control, handoff and topology. */
export function linkStandby(context: PlatformContext, dataPath: DataPath, stores: Stores, partnerName: string, primary: PrimaryHandoff): DrLinks {
  const { config, prefix } = context;
  const names = drNames(prefix);
  const replication = new DrReplication(`${prefix}-dr-replication`, {
    region: context.region,
    partnerRegion: partnerRegion(config),
    lake: lakeReplication(context, dataPath, primary.lake, primary.keys.dataKeyArn),
    alarmTopicArn: context.alarmTopicArn,
    copyGrant: { name: names.copyGrant, kmsKeyArn: context.keys.dataKeyArn },
  }, context.componentOpts);
  const endpoints = producerEndpoints(dataPath, stores, primary.endpoints);
  const control = drControl(context, endpoints);

  const handoff = resolvedObject<StandbyHandoff>({
    version: 1,
    role: "dr",
    region: context.region,
    lake: lakeHandoff(dataPath),
    snapshotCopyGrantName: replication.copyGrantName as pulumi.Output<string>,
    endpoints: endpointHandoff(endpoints),
  });
  return {
    outputs: {
      [HANDOFF_OUTPUT]: handoff,
      [TOPOLOGY_OUTPUT]: stackTopology(context, { dataPath, stores, replication, control, partnerName }),
    },
    journalTableArn: control.journalTable.arn,
  };
}
