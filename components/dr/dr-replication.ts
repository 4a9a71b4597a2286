import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import { createMetricAlarm } from "../lib/alarms";
import { Statement, createScopedRole } from "../lib/iam";

/** A lake bucket on either side of a replication rule. */
export interface ReplicatedBucket {
  name: pulumi.Input<string>;
  arn: pulumi.Input<string>;
}

export interface LakeZoneSource {
  zone: string;
  bucket: ReplicatedBucket;
  /** The source bucket's versioning resource: replication needs versioning in place first. */
  versioning?: pulumi.Resource;
}

export interface LakeReplicationArgs {
  /** Zones of this stack's lake to replicate, with their source buckets. */
  sources: LakeZoneSource[];
  /** The partner's bucket for each zone (its versioning is on: the partner stack exports buckets only once built). */
  destinations: Record<string, ReplicatedBucket>;
  /** Key the source objects are encrypted with (SSE-KMS with bucket keys). */
  sourceKeyArn: pulumi.Input<string>;
  /** Key in the partner region for the replicas: its full ARN, since S3 treats multi-Region keys as single-Region ones. */
  destinationKeyArn: pulumi.Input<string>;
  /** Rules run only from the active region; a passive stack declares them Disabled, ready for failback. */
  enabled: boolean;
  /** Replication Time Control (15-minute SLA) on every rule. @default true */
  replicationTimeControl?: boolean;
  /** Alarm when replication lags by more than this (the batch RPO). @default 900 */
  latencyAlarmSeconds?: number;
}

export interface WarehouseCopiesArgs {
  /** The provisioned cluster whose automated snapshots are copied. */
  clusterIdentifier: pulumi.Input<string>;
  /** The snapshot copy grant in the partner region (encrypted clusters need one there). */
  grantName: pulumi.Input<string>;
  /** Days the copies of automated snapshots are kept in the partner region (1-35). */
  retentionDays: number;
  /** Hours between automated snapshots (Redshift allows 1-24): the warehouse's batch RPO. */
  snapshotIntervalHours: number;
}

export interface CopyGrantArgs {
  /** Grant name; the partner's snapshot copy names it. */
  name: string;
  /** This region's key the copies are re-encrypted with. */
  kmsKeyArn: pulumi.Input<string>;
}

export interface DrReplicationArgs {
  /** The other region of the stage: where replicas and copies of this stack's data go. */
  partnerRegion: string;
  /** This stack's region (source of the lake rules, for the KMS ViaService scopes). */
  region: string;
  /** Outbound S3 replication of lake zones into the partner's buckets. @default undefined (none) */
  lake?: LakeReplicationArgs;
  /** Cross-region copies of the warehouse's automated snapshots. @default undefined (none) */
  warehouseCopies?: WarehouseCopiesArgs;
  /** The landing side of the partner's warehouse copies. @default undefined (none) */
  copyGrant?: CopyGrantArgs;
  /** Alarms on failed and late replication are created only when this is set. @default undefined */
  alarmTopicArn?: pulumi.Input<string>;
}

/** One replication rule as declared, for the stack's drTopology. */
export interface DeclaredReplicationRule {
  readonly zone: string;
  readonly ruleId: string;
  readonly sourceBucket: pulumi.Output<string>;
  readonly destinationBucket: pulumi.Output<string>;
  readonly enabled: boolean;
}

/** Whole hours within what Redshift snapshot schedules allow: between once an hour and once a day. */
function scheduleHours(hours: number): number {
  return Math.min(24, Math.max(1, Math.floor(hours)));
}

export function snapshotScheduleDefinition(intervalHours: number): string {
  const hours = scheduleHours(intervalHours);
  return `rate(${hours} hour${hours === 1 ? "" : "s"})`;
}

/** The hours between warehouse snapshots that meet a batch RPO, within what Redshift allows. */
export function snapshotIntervalForRpo(rpoMinutes: number): number {
  return scheduleHours(rpoMinutes / 60);
}

export function replicationRuleId(zone: string, destinationRegion: string): string {
  return `${zone}-to-${destinationRegion}`;
}

/**
 * With S3 Bucket Keys the encryption context is the bucket's ARN; without, the object's.
 * Both are allowed, so the scope holds whichever the bucket uses.
 */
function encryptionContextOf(bucketArns: string[]): string[] {
  return bucketArns.flatMap((arn) => [arn, `${arn}/*`]);
}

/**
 * The replication role's permissions, as AWS documents them for SSE-KMS replication:
 * read the source versions, write replicas (and delete markers and tags) into the
 * destinations, decrypt with the source key only through S3 in the source region and
 * for the source buckets, encrypt with the destination key only through S3 in the
 * destination region and for the destination buckets.
 * https://docs.aws.amazon.com/AmazonS3/latest/userguide/replication-config-for-kms-objects.html
 */
export function replicationStatements(input: {
  sourceArns: string[];
  destinationArns: string[];
  sourceKeyArn: string;
  destinationKeyArn: string;
  sourceRegion: string;
  destinationRegion: string;
}): Statement[] {
  return [
    { Sid: "ReadReplicationConfiguration", Effect: "Allow", Action: ["s3:GetReplicationConfiguration", "s3:ListBucket"], Resource: input.sourceArns },
    {
      Sid: "ReadSourceVersions",
      Effect: "Allow",
      Action: ["s3:GetObjectVersionForReplication", "s3:GetObjectVersionAcl", "s3:GetObjectVersionTagging"],
      Resource: input.sourceArns.map((arn) => `${arn}/*`),
    },
    {
      Sid: "WriteReplicas",
      Effect: "Allow",
      Action: ["s3:ReplicateObject", "s3:ReplicateDelete", "s3:ReplicateTags"],
      Resource: input.destinationArns.map((arn) => `${arn}/*`),
    },
    {
      Sid: "DecryptSourceObjects",
      Effect: "Allow",
      Action: "kms:Decrypt",
      Resource: input.sourceKeyArn,
      Condition: {
        StringEquals: { "kms:ViaService": `s3.${input.sourceRegion}.amazonaws.com` },
        StringLike: { "kms:EncryptionContext:aws:s3:arn": encryptionContextOf(input.sourceArns) },
      },
    },
    {
      Sid: "EncryptReplicas",
      Effect: "Allow",
      Action: ["kms:Encrypt", "kms:GenerateDataKey"],
      Resource: input.destinationKeyArn,
      Condition: {
        StringEquals: { "kms:ViaService": `s3.${input.destinationRegion}.amazonaws.com` },
        StringLike: { "kms:EncryptionContext:aws:s3:arn": encryptionContextOf(input.destinationArns) },
      },
    },
  ];
}

/**
 * What one stack of a stage contributes to cross-region replication, once the partner
 * stack exists: the primary stack replicates its lake zones into the DR stack's buckets
 * and copies its warehouse snapshots there; the DR stack holds the snapshot copy grant
 * and the reverse lake rules, Disabled until its region is active (ready for failback).
 * Every lake rule runs from the active region only. (Key replicas come first, in
 * KeyReplicas: the table, secret and cluster replicas need them.)
 */
export class DrReplication extends pulumi.ComponentResource {
  readonly rules: DeclaredReplicationRule[] = [];
  readonly copyGrantName?: pulumi.Output<string>;
  readonly snapshotSchedule?: aws.redshift.SnapshotSchedule;

  private readonly replicationName: string;

  constructor(name: string, args: DrReplicationArgs, opts?: pulumi.ComponentResourceOptions) {
    super("dataplatform:dr:DrReplication", name, {}, opts);
    this.replicationName = name;
    if (args.lake !== undefined) this.replicateLake(args, args.lake);
    if (args.warehouseCopies !== undefined) this.snapshotSchedule = this.copyWarehouseSnapshots(args.partnerRegion, args.warehouseCopies);
    if (args.copyGrant !== undefined) {
      const grant = new aws.redshift.SnapshotCopyGrant(`${name}-copy-grant`, {
        snapshotCopyGrantName: args.copyGrant.name,
        kmsKeyId: args.copyGrant.kmsKeyArn,
      }, { parent: this });
      this.copyGrantName = grant.snapshotCopyGrantName;
    }
    this.registerOutputs({
      rules: this.rules.map((rule) => ({ zone: rule.zone, ruleId: rule.ruleId, enabled: rule.enabled })),
      copyGrantName: this.copyGrantName,
    });
  }

  private replicateLake(args: DrReplicationArgs, lake: LakeReplicationArgs): void {
    const name = `${this.replicationName}-lake`;
    const sources = lake.sources.filter((source) => lake.destinations[source.zone] !== undefined);
    const sourceArns = pulumi.all(sources.map((source) => source.bucket.arn));
    const destinationArns = pulumi.all(sources.map((source) => lake.destinations[source.zone].arn));
    const { role, policy } = createScopedRole(name, {
      service: "s3.amazonaws.com",
      description: `${name}: replicates lake zones into ${args.partnerRegion}`,
      // No source keys on the trust: the S3 guide's replication trust names only the principal,
      // and a key S3 does not send would stop replication (see TRUST_WITHOUT_SOURCE_KEYS).
      statements: [
        pulumi.all([sourceArns, destinationArns, lake.sourceKeyArn, lake.destinationKeyArn]).apply(([source, destination, sourceKey, destinationKey]) =>
          replicationStatements({
            sourceArns: source,
            destinationArns: destination,
            sourceKeyArn: sourceKey,
            destinationKeyArn: destinationKey,
            sourceRegion: args.region,
            destinationRegion: args.partnerRegion,
          })),
      ],
    }, { parent: this });
    const timeControl = lake.replicationTimeControl ?? true;

    for (const source of sources) {
      const destination = lake.destinations[source.zone];
      const ruleId = replicationRuleId(source.zone, args.partnerRegion);
      new aws.s3.BucketReplicationConfig(`${name}-${source.zone}`, {
        bucket: source.bucket.name,
        role: role.arn,
        rules: [{
          id: ruleId,
          status: lake.enabled ? "Enabled" : "Disabled",
          priority: 1,
          // A rule with a filter must say what happens to delete markers: they replicate, so a delete is a delete in both regions.
          filter: {},
          deleteMarkerReplication: { status: "Enabled" },
          sourceSelectionCriteria: {
            sseKmsEncryptedObjects: { status: "Enabled" },
            // Metadata changes made to replicas flow back, which two-way (failback) replication needs.
            replicaModifications: { status: "Enabled" },
          },
          destination: {
            bucket: destination.arn,
            storageClass: "STANDARD",
            encryptionConfiguration: { replicaKmsKeyId: lake.destinationKeyArn },
            // Metrics (ReplicationLatency, OperationsPendingReplication) are what dr:promote reads the lag from.
            metrics: { status: "Enabled", eventThreshold: { minutes: 15 } },
            ...(timeControl ? { replicationTime: { status: "Enabled", time: { minutes: 15 } } } : {}),
          },
        }],
      }, { parent: this, dependsOn: [policy, ...(source.versioning ? [source.versioning] : [])] });
      if (args.alarmTopicArn !== undefined && lake.enabled) this.replicationAlarms(`${name}-${source.zone}`, source, destination, ruleId, lake, args.alarmTopicArn);
      this.rules.push({
        zone: source.zone,
        ruleId,
        sourceBucket: pulumi.output(source.bucket.name),
        destinationBucket: pulumi.output(destination.name),
        enabled: lake.enabled,
      });
    }
  }

  /**
   * S3 does not retry a failed replication (Batch Replication does, on demand), so a
   * failure needs a person; lateness beyond the batch RPO too.
   */
  private replicationAlarms(name: string, source: LakeZoneSource, destination: ReplicatedBucket, ruleId: string, lake: LakeReplicationArgs, topicArn: pulumi.Input<string>): void {
    const dimensions = { SourceBucket: source.bucket.name, DestinationBucket: destination.name, RuleId: ruleId };
    createMetricAlarm(`${name}-failed`, {
      description: `${name}: objects failed to replicate (run S3 Batch Replication for them once the cause is fixed)`,
      namespace: "AWS/S3",
      metricName: "OperationsFailedReplication",
      dimensions,
      statistic: "Sum",
      threshold: 0,
    }, topicArn, this);
    const latency = lake.latencyAlarmSeconds ?? 900;
    createMetricAlarm(`${name}-latency`, {
      description: `${name}: replication lags by more than ${latency} s`,
      namespace: "AWS/S3",
      metricName: "ReplicationLatency",
      dimensions,
      statistic: "Maximum",
      threshold: latency,
      evaluationPeriods: 3,
    }, topicArn, this);
  }

  private copyWarehouseSnapshots(partnerRegion: string, copies: WarehouseCopiesArgs): aws.redshift.SnapshotSchedule {
    const name = `${this.replicationName}-warehouse`;
    new aws.redshift.SnapshotCopy(`${name}-copy`, {
      clusterIdentifier: copies.clusterIdentifier,
      destinationRegion: partnerRegion,
      snapshotCopyGrantName: copies.grantName,
      retentionPeriod: copies.retentionDays,
      manualSnapshotRetentionPeriod: copies.retentionDays,
    }, { parent: this });
    // Automated snapshots every interval (instead of every 8 h or 5 GB), each copied on arrival.
    const schedule = new aws.redshift.SnapshotSchedule(`${name}-schedule`, {
      description: `${name}: automated snapshots every ${copies.snapshotIntervalHours} h (the warehouse's batch RPO)`,
      definitions: [snapshotScheduleDefinition(copies.snapshotIntervalHours)],
    }, { parent: this });
    new aws.redshift.SnapshotScheduleAssociation(`${name}-schedule-association`, {
      clusterIdentifier: copies.clusterIdentifier,
      scheduleIdentifier: schedule.id,
    }, { parent: this });
    return schedule;
  }
}
