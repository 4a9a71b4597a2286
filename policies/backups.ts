/**
 * Backups and protection against deletion. Retention minimums and the deletion-protection
 * requirement are policy config, so dev (short retention, teardown allowed) and prod
 * (long retention, protected) share one pack: see config.dev.json and config.prod.json.
 * Lake-bucket versioning is a stack policy in s3.ts.
 */
import * as aws from "@pulumi/aws";
import { ResourceValidationArgs, validateResourceOfType } from "@pulumi/policy";
import { PlatformResourcePolicy } from "./lib/policy";
import { asArray, isSet, isTrue, peek } from "./lib/values";

/** The source documents require at least 2 days of automated backups. */
export const DEFAULT_MIN_BACKUP_RETENTION_DAYS = 2;
/** What AWS applies when backupRetentionPeriod is left out. */
const RDS_DEFAULT_RETENTION_DAYS = 1;

interface RetentionConfig {
  minBackupRetentionDays?: number;
}

function checkRetention(retention: number | undefined, args: ResourceValidationArgs, report: (message: string) => void) {
  const minimum = args.getConfig<RetentionConfig>().minBackupRetentionDays ?? DEFAULT_MIN_BACKUP_RETENTION_DAYS;
  const days = retention ?? RDS_DEFAULT_RETENTION_DAYS;
  if (days < minimum) report(`backupRetentionPeriod is ${days} day(s)${retention === undefined ? " (the AWS default)" : ""}; this stack requires at least ${minimum}.`);
}

export const rdsBackupRetention: PlatformResourcePolicy = {
  name: "rds-backup-retention",
  description: "Aurora clusters and standalone RDS instances keep automated backups for at least minBackupRetentionDays (default 2).",
  enforcementLevel: "mandatory",
  remediationSteps: "Set backupRetentionPeriod (the stage config key backupRetentionDays) to at least the stack's minimum; AWS allows 1-35 days.",
  configSchema: {
    properties: {
      minBackupRetentionDays: { type: "integer", minimum: 1, maximum: 35, default: DEFAULT_MIN_BACKUP_RETENTION_DAYS, description: "Fewest days of automated backups allowed." },
    },
  },
  validateResource: [
    validateResourceOfType(aws.rds.Cluster, (cluster, args, report) => checkRetention(cluster.backupRetentionPeriod, args, report)),
    validateResourceOfType(aws.rds.Instance, (instance, args, report) => {
      if (isSet(peek(() => instance.replicateSourceDb))) args.notApplicable("Read replicas are backed up through their source");
      checkRetention(instance.backupRetentionPeriod, args, report);
    }),
  ],
};

export const dynamodbPointInTimeRecovery: PlatformResourcePolicy = {
  name: "dynamodb-point-in-time-recovery",
  description: "DynamoDB tables and their global-table replicas have point-in-time recovery enabled.",
  enforcementLevel: "mandatory",
  remediationSteps: "Set pointInTimeRecovery: { enabled: true } on the table (stage config key pointInTimeRecovery) and on each entry of replicas.",
  validateResource: validateResourceOfType(aws.dynamodb.Table, (table, _args, report) => {
    if (!isTrue(table.pointInTimeRecovery?.enabled)) report("pointInTimeRecovery is not enabled.");
    for (const replica of asArray(table.replicas)) {
      if (!isTrue(replica.pointInTimeRecovery)) report(`The replica in ${replica.regionName} does not enable pointInTimeRecovery.`);
    }
  }),
};

export const redshiftSnapshotRetention: PlatformResourcePolicy = {
  name: "redshift-snapshot-retention",
  description:
    "Provisioned Redshift clusters keep automated snapshots (automatedSnapshotRetentionPeriod > 0). Redshift Serverless takes recovery points automatically (every 30 minutes, kept 24 hours), so namespaces have nothing to configure.",
  enforcementLevel: "mandatory",
  remediationSteps: "Leave automatedSnapshotRetentionPeriod unset (1 day) or set it from the stage config key redshiftSnapshotRetentionDays; never 0.",
  validateResource: validateResourceOfType(aws.redshift.Cluster, (cluster, _args, report) => {
    if (cluster.automatedSnapshotRetentionPeriod === 0) report("automatedSnapshotRetentionPeriod is 0, which turns automated snapshots off.");
  }),
};

export const elasticacheSnapshotRetention: PlatformResourcePolicy = {
  name: "elasticache-snapshot-retention",
  description: "ElastiCache replication groups keep daily snapshots (snapshotRetentionLimit > 0).",
  enforcementLevel: "mandatory",
  remediationSteps: "Set snapshotRetentionLimit (stage config key cacheSnapshotRetentionDays) to 1 or more, with a snapshotWindow outside peak hours.",
  validateResource: validateResourceOfType(aws.elasticache.ReplicationGroup, (group, _args, report) => {
    if ((group.snapshotRetentionLimit ?? 0) <= 0) report(`snapshotRetentionLimit is ${group.snapshotRetentionLimit ?? "unset (0)"}, so no snapshots are kept.`);
  }),
};

interface DeletionProtectionConfig {
  requireDeletionProtection?: boolean;
  requirePulumiProtect?: boolean;
}

/** What a database kind offers against deletion: a protection flag (named as in its args) and/or a final snapshot. */
interface DeletionSafeguards {
  protection?: { field: string; value: unknown };
  finalSnapshot?: { skip: boolean | undefined; identifier: unknown };
}

/** Mandatory only when the stack's policy config asks for it (prod); not applicable otherwise. */
function checkDeletionSafeguards(args: ResourceValidationArgs, report: (message: string) => void, safeguards: DeletionSafeguards) {
  const config = args.getConfig<DeletionProtectionConfig>();
  if (config.requireDeletionProtection !== true && config.requirePulumiProtect !== true) {
    args.notApplicable("This stack's policy config does not require deletion protection");
  }
  if (config.requireDeletionProtection === true) {
    const { protection, finalSnapshot } = safeguards;
    if (protection && !isTrue(protection.value)) report(`${protection.field} is not true.`);
    // Skipping the final snapshot, or not naming it, loses the data on deletion.
    if (finalSnapshot?.skip === true) report("skipFinalSnapshot is true, so deleting it keeps no final snapshot.");
    else if (finalSnapshot && !isSet(finalSnapshot.identifier)) report("No finalSnapshotIdentifier, which a final snapshot needs.");
  }
  if (config.requirePulumiProtect === true && !args.opts.protect) {
    report("The resource is not `protect`ed, so `pulumi destroy` would delete it (stage config key protectStatefulResources).");
  }
}

export const databaseDeletionProtection: PlatformResourcePolicy = {
  name: "database-deletion-protection",
  description:
    "Where the stack's policy config sets requireDeletionProtection (prod), databases refuse deletion and keep a final snapshot: Aurora/RDS deletionProtection and final snapshots, Aurora global clusters' deletionProtection, Redshift final snapshots, DynamoDB deletionProtectionEnabled; requirePulumiProtect also demands Pulumi `protect` on them and on Redshift Serverless namespaces.",
  enforcementLevel: "mandatory",
  remediationSteps:
    "Pass the stage config keys through: deletionProtection -> deletionProtection (clusters, instances and global clusters) / deletionProtectionEnabled (tables), skipFinalSnapshot: false with a finalSnapshotIdentifier, and protectStatefulResources -> the `protect` resource option.",
  configSchema: {
    properties: {
      requireDeletionProtection: { type: "boolean", default: false, description: "Require deletion protection and final snapshots on databases." },
      requirePulumiProtect: { type: "boolean", default: false, description: "Require the Pulumi `protect` option on databases." },
    },
  },
  validateResource: [
    validateResourceOfType(aws.rds.Cluster, (cluster, args, report) =>
      checkDeletionSafeguards(args, report, {
        protection: { field: "deletionProtection", value: cluster.deletionProtection },
        finalSnapshot: { skip: cluster.skipFinalSnapshot, identifier: peek(() => cluster.finalSnapshotIdentifier) },
      }),
    ),
    validateResourceOfType(aws.rds.Instance, (instance, args, report) =>
      checkDeletionSafeguards(args, report, {
        protection: { field: "deletionProtection", value: instance.deletionProtection },
        finalSnapshot: { skip: instance.skipFinalSnapshot, identifier: peek(() => instance.finalSnapshotIdentifier) },
      }),
    ),
    // A global cluster holds no data of its own, but deleting it detaches the DR region: it has its own flag.
    validateResourceOfType(aws.rds.GlobalCluster, (global, args, report) =>
      checkDeletionSafeguards(args, report, { protection: { field: "deletionProtection", value: global.deletionProtection } }),
    ),
    // Redshift has no deletion-protection flag: the final snapshot and Pulumi `protect` are what there is.
    validateResourceOfType(aws.redshift.Cluster, (cluster, args, report) =>
      checkDeletionSafeguards(args, report, { finalSnapshot: { skip: cluster.skipFinalSnapshot, identifier: peek(() => cluster.finalSnapshotIdentifier) } }),
    ),
    // A Serverless namespace holds the warehouse's data and has neither flag nor final snapshot: only `protect`.
    validateResourceOfType(aws.redshiftserverless.Namespace, (_namespace, args, report) => checkDeletionSafeguards(args, report, {})),
    validateResourceOfType(aws.dynamodb.Table, (table, args, report) =>
      checkDeletionSafeguards(args, report, { protection: { field: "deletionProtectionEnabled", value: table.deletionProtectionEnabled } }),
    ),
  ],
};

export const backupPolicies: PlatformResourcePolicy[] = [
  rdsBackupRetention,
  dynamodbPointInTimeRecovery,
  redshiftSnapshotRetention,
  elasticacheSnapshotRetention,
  databaseDeletionProtection,
];
