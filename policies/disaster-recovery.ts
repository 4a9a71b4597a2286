/**
 * The controls cross-region replication needs: S3 replication rules AWS accepts and that
 * replicate what the lake holds, Aurora Global Database members an update can never
 * detach, Aurora clusters that can take over (never headless), Redshift snapshot copies
 * re-encrypted with a customer key, KMS replicas whose primary rotates, and SSM
 * parameters that never hold a secret in plain text.
 */
import * as aws from "@pulumi/aws";
import { validateResourceOfType } from "@pulumi/policy";
import { attachedTo, ofTypes, referencedResources } from "./lib/correlate";
import { PlatformResourcePolicy, PlatformStackPolicy } from "./lib/policy";
import { UNKNOWN, asArray, isSet, isTrue, peek } from "./lib/values";

interface ReplicationConfig {
  requireReplicationTimeControl?: boolean;
}

const enabled = (value: { status?: unknown } | undefined) => value?.status === "Enabled";

/** A full KMS key ARN ("arn:aws:kms:<region>:<account>:key/<id>"): S3 treats multi-Region keys as single-Region ones, so nothing shorter will do. */
export function isKeyArn(value: unknown): boolean {
  return value === UNKNOWN || (typeof value === "string" && /^arn:aws[a-z-]*:kms:[a-z0-9-]+:\d{12}:key\/[A-Za-z0-9-]+$/.test(value));
}

export const s3ReplicationRules: PlatformResourcePolicy = {
  name: "s3-replication-rules",
  description:
    "S3 replication rules replicate SSE-KMS objects into the destination region's key (by its full ARN), replicate delete markers, sync replica modifications for two-way failback, publish replication metrics, and use Replication Time Control where the stack requires it (prod).",
  enforcementLevel: "mandatory",
  remediationSteps:
    'On each rule of the aws.s3.BucketReplicationConfig: sourceSelectionCriteria { sseKmsEncryptedObjects and replicaModifications: { status: "Enabled" } }, deleteMarkerReplication { status: "Enabled" }, destination.encryptionConfiguration.replicaKmsKeyId = the full ARN of the key in the destination region, destination.metrics enabled, and destination.replicationTime { status: "Enabled", time: { minutes: 15 } } (config key s3ReplicationTimeControl). components/dr/dr-replication.ts builds such rules.',
  configSchema: {
    properties: {
      requireReplicationTimeControl: { type: "boolean", default: false, description: "Require S3 Replication Time Control (15-minute SLA) on every rule." },
    },
  },
  validateResource: validateResourceOfType(aws.s3.BucketReplicationConfig, (config, args, report) => {
    const requireRtc = args.getConfig<ReplicationConfig>().requireReplicationTimeControl === true;
    for (const rule of asArray(config.rules)) {
      const id = rule.id ?? "(unnamed)";
      if (!enabled(rule.sourceSelectionCriteria?.sseKmsEncryptedObjects)) report(`Rule ${id} does not select SSE-KMS objects, so none of the lake's objects replicate.`);
      else if (!isKeyArn(peek(() => rule.destination?.encryptionConfiguration?.replicaKmsKeyId))) {
        report(`Rule ${id} has no replicaKmsKeyId in full key-ARN form for the destination region.`);
      }
      if (rule.filter !== undefined && !enabled(rule.deleteMarkerReplication)) report(`Rule ${id} has a filter but does not replicate delete markers.`);
      if (!enabled(rule.sourceSelectionCriteria?.replicaModifications)) report(`Rule ${id} does not sync replica modifications, which two-way replication for failback needs.`);
      if (!enabled(rule.destination?.metrics)) report(`Rule ${id} publishes no replication metrics, so its lag cannot be measured.`);
      if (requireRtc && !enabled(rule.destination?.replicationTime)) report(`Rule ${id} has no Replication Time Control, which this stack requires.`);
    }
  }),
};

/** What a switchover, a failover or a global upgrade changes on a member: a later update must leave them alone. */
export const GLOBAL_MEMBERSHIP_FIELDS = ["replicationSourceIdentifier", "globalClusterIdentifier", "engineVersion"];

export const auroraGlobalMemberIgnoresMembership: PlatformResourcePolicy = {
  name: "aurora-global-member-ignore-changes",
  description:
    "Aurora clusters that are members of a Global Database ignore changes to replicationSourceIdentifier, globalClusterIdentifier and engineVersion, so that an update after a switchover or failover never detaches or replaces a member.",
  enforcementLevel: "mandatory",
  remediationSteps:
    "Add ignoreChanges: [\"replicationSourceIdentifier\", \"globalClusterIdentifier\", \"engineVersion\", ...] to the member's resource options (GLOBAL_MEMBER_IGNORED_FIELDS in components/stores/oltp-database.ts); upgrade through the aws.rds.GlobalCluster.",
  validateResource: validateResourceOfType(aws.rds.Cluster, (cluster, args, report) => {
    if (!isSet(peek(() => cluster.globalClusterIdentifier))) args.notApplicable("Not a Global Database member");
    const missing = GLOBAL_MEMBERSHIP_FIELDS.filter((field) => !args.opts.ignoreChanges.includes(field));
    if (missing.length > 0) report(`The member does not ignore changes to ${missing.join(", ")}; an update after a switchover would try to undo it.`);
  }),
};

const CLUSTER_INSTANCE_TYPE = "aws:rds/clusterInstance:ClusterInstance";

export const auroraClusterHasInstances: PlatformStackPolicy = {
  name: "aurora-cluster-has-instances",
  description: "Every Aurora cluster has at least one instance in the stack: a headless cluster serves nothing, and a headless Global Database secondary cannot be switched or failed over to.",
  enforcementLevel: "mandatory",
  remediationSteps: "Declare at least one aws.rds.ClusterInstance whose clusterIdentifier is the cluster (OltpDatabase always creates a writer and the reporting reader).",
  validateStack: (args, report) => {
    const clusters = ofTypes(args.resources, ["aws:rds/cluster:Cluster"]);
    const instances = attachedTo(clusters, ofTypes(args.resources, [CLUSTER_INSTANCE_TYPE]), "clusterIdentifier", {
      identifiersOf: (cluster) => ["id", "clusterIdentifier"].map((key) => peek(() => cluster.props[key])),
    });
    for (const cluster of clusters) {
      if ((instances.get(cluster.urn) ?? []).length === 0) report(`Cluster ${cluster.name} has no instance in this stack.`, cluster.urn);
    }
  },
};

export const redshiftSnapshotCopies: PlatformResourcePolicy = {
  name: "redshift-cross-region-snapshot-copy",
  description:
    "Cross-region copies of Redshift snapshots are kept at least a day and, for encrypted clusters, name a snapshot copy grant; the grant in the destination region re-encrypts the copies with a customer key.",
  enforcementLevel: "mandatory",
  remediationSteps:
    "Give the aws.redshift.SnapshotCopy a retentionPeriod of 1-35 days (config key warehouseSnapshotCopyRetentionDays) and the snapshotCopyGrantName of an aws.redshift.SnapshotCopyGrant in the destination region whose kmsKeyId is that region's data key (replica).",
  validateResource: [
    validateResourceOfType(aws.redshift.SnapshotCopy, (copy, _args, report) => {
      const retention = copy.retentionPeriod ?? 7;
      if (retention < 1) report(`retentionPeriod is ${retention}: copied snapshots would not be kept.`);
      if (!isSet(peek(() => copy.snapshotCopyGrantName))) report("No snapshotCopyGrantName: copies of an encrypted cluster's snapshots need a grant in the destination region.");
    }),
    validateResourceOfType(aws.redshift.SnapshotCopyGrant, (grant, _args, report) => {
      if (!isSet(peek(() => grant.kmsKeyId))) report("No kmsKeyId: copies would be encrypted with the AWS-managed Redshift key, not a customer key.");
    }),
  ],
};

const KEY_TYPE = "aws:kms/key:Key";

export const kmsReplicaOfRotatingKey: PlatformStackPolicy = {
  name: "kms-replica-key-of-rotating-key",
  description: "KMS replica keys are enabled and replicate a multi-Region primary key of this stack that rotates (replicas share their primary's key material and rotation).",
  enforcementLevel: "mandatory",
  remediationSteps: "Create the aws.kms.ReplicaKey from a primary aws.kms.Key with multiRegion: true and enableKeyRotation: true in the same stack, and leave the replica enabled.",
  validateStack: (args, report) => {
    const keys = ofTypes(args.resources, [KEY_TYPE]);
    for (const replica of ofTypes(args.resources, ["aws:kms/replicaKey:ReplicaKey"])) {
      if (replica.props.enabled === false) report(`Replica key ${replica.name} is disabled.`, replica.urn);
      const [primary] = referencedResources(replica, "primaryKeyArn", keys);
      if (primary === undefined) {
        report(`Replica key ${replica.name} does not replicate a key of this stack, so its rotation cannot be checked.`, replica.urn);
        continue;
      }
      if (!isTrue(primary.props.multiRegion)) report(`Replica key ${replica.name} replicates ${primary.name}, which is not multi-Region.`, replica.urn);
      if (!isTrue(primary.props.enableKeyRotation)) report(`Replica key ${replica.name} replicates ${primary.name}, which does not rotate.`, replica.urn);
    }
  },
};

/** Parameter names that announce a secret. */
export const SECRET_NAME = /(password|passwd|secret|token|credential|private[-_]?key|api[-_]?key)/i;

export const ssmParametersNoPlainSecrets: PlatformResourcePolicy = {
  name: "ssm-parameters-no-plain-secrets",
  description: "SSM parameters whose name announces a secret are SecureString under a customer key; SecureString parameters always name their key.",
  enforcementLevel: "mandatory",
  remediationSteps: 'Keep secrets in Secrets Manager (as the platform does), or make the parameter type "SecureString" with keyId set to the data key. Endpoint parameters (DrControl) hold no secrets and stay String.',
  validateResource: validateResourceOfType(aws.ssm.Parameter, (parameter, _args, report) => {
    const name = peek(() => parameter.name);
    const secure = parameter.type === "SecureString";
    if (!secure && typeof name === "string" && SECRET_NAME.test(name)) report(`Parameter ${name} looks like a secret but is a plain ${parameter.type}.`);
    if (secure && !isSet(peek(() => parameter.keyId))) report("A SecureString without keyId is encrypted with the AWS-managed key, not a customer key.");
  }),
};

export const disasterRecoveryPolicies: (PlatformResourcePolicy | PlatformStackPolicy)[] = [
  s3ReplicationRules,
  auroraGlobalMemberIgnoresMembership,
  auroraClusterHasInstances,
  redshiftSnapshotCopies,
  kmsReplicaOfRotatingKey,
  ssmParametersNoPlainSecrets,
];

