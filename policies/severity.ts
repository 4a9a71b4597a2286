/**
 * How code scanning should rank each policy's findings, next to the catalog so that a new
 * policy is classified when it is added (tests/sarif.test.ts fails on a policy without an
 * entry). GitHub treats a rule as a security rule when its `properties.tags` include
 * "security" and it has a `security-severity` (a score above 0.0 up to 10.0: over 9.0
 * critical, 7.0–8.9 high, 4.0–6.9 medium, 0.1–3.9 low); other rules rank by
 * `problem.severity` (docs.github.com, "SARIF support for code scanning", reportingDescriptor object).
 *
 * The scores follow what an attacker gains when the rule fails, not the stack's enforcement
 * level (which varies per stack and is in each result's `level`):
 *  - critical (9.1+): the resource is open to anyone (public buckets and databases, admin wildcards);
 *  - high (7.0–8.9): a credential or the data is exposed to someone who should not have it
 *    (no AUTH, plaintext transport, unencrypted storage, plaintext secrets, confused deputy, *FullAccess);
 *  - medium (4.0–6.9): a defence in depth is missing (customer-key encryption where AWS
 *    already encrypts, backups an intruder could delete, key rotation, an unpinned account,
 *    an unsupported runtime).
 * Reliability (backups, DR, failure handling) and governance (tags, regions, waivers) are not
 * security rules; they keep GitHub's ordinary severity from the result's level.
 */

export type PolicyCategory = "security" | "reliability" | "governance";

export interface PolicySeverity {
  readonly category: PolicyCategory;
  /** Only for security rules: GitHub's security-severity score. */
  readonly securitySeverity?: number;
}

const security = (securitySeverity: number): PolicySeverity => ({ category: "security", securitySeverity });
const RELIABILITY: PolicySeverity = { category: "reliability" };
const GOVERNANCE: PolicySeverity = { category: "governance" };

export const POLICY_SEVERITY: Readonly<Record<string, PolicySeverity>> = {
  // Open to anyone.
  "s3-bucket-public-access-block": security(9.1),
  "databases-not-publicly-accessible": security(9.1),
  "iam-no-wildcard-admin-statements": security(9.1),
  // Credentials or data exposed.
  "elasticache-transit-encryption-and-auth": security(8.1),
  "ssm-parameters-no-plain-secrets": security(8.1),
  "iam-no-full-access-managed-policies": security(7.5),
  "iam-service-role-confused-deputy": security(7.5),
  "service-resource-policy-confused-deputy": security(7.5),
  "s3-bucket-tls-only": security(7.4),
  "cloudfront-https-only": security(7.4),
  "cloudfront-s3-origin-access-control": security(7.0),
  "cloudfront-viewer-tls12": security(5.5),
  "cloudfront-security-headers": security(4.5),
  "cloudfront-access-logging": security(4.0),
  "apigateway-stage-throttling": security(5.3),
  "apigateway-stage-access-logging": security(4.0),
  "rds-force-ssl": security(7.4),
  "redshift-require-ssl": security(7.4),
  "rds-storage-encrypted": security(7.0),
  "ecs-task-no-plain-secrets": security(8.1),
  "ecs-service-no-public-ip": security(7.5),
  "elasticache-encrypted-at-rest": security(7.0),
  // A defence in depth missing.
  "s3-bucket-sse-kms": security(5.5),
  "kinesis-stream-kms-encryption": security(5.5),
  "dynamodb-table-cmk-encryption": security(5.0),
  "redshift-encrypted-with-cmk": security(5.5),
  "sqs-queue-kms-encryption": security(5.0),
  "sns-topic-kms-encryption": security(5.0),
  "firehose-kms-encryption": security(5.0),
  "athena-workgroup-results-kms": security(5.0),
  "cloudwatch-log-group-kms": security(4.5),
  "backup-vault-customer-key": security(5.0),
  "backup-vault-denies-deletion": security(6.5),
  "backup-vault-locked": security(6.0),
  "provider-pinned-to-account": security(5.0),
  "kms-key-rotation": security(4.0),
  "lambda-runtime-supported": security(4.0),
  "ecs-task-non-root-user": security(6.0),
  "ecs-task-read-only-root-filesystem": security(5.0),
  "ecr-repository-scan-on-push": security(5.0),
  "ecr-repository-immutable-tags": security(4.5),
  "ecs-task-logging-configured": security(4.0),
  // The batch layer.
  "dms-replication-instance-not-public": security(9.1),
  "dms-endpoint-secrets-manager": security(8.1),
  "dms-endpoint-ssl": security(7.4),
  "emr-serverless-application-in-vpc": security(6.0),
  "glue-security-configuration-kms": security(5.5),
  "glue-security-configuration-attached": security(5.5),
  "emr-serverless-application-encryption": security(5.0),
  "dms-replication-instance-cmk": security(5.0),
  "rds-integration-cmk": security(5.0),
  "sfn-state-machine-cmk": security(5.0),
  "scheduler-schedule-cmk": security(4.0),
  "glue-job-continuous-logging": security(4.0),
  "sfn-state-machine-logging": security(4.0),
  "dms-replication-task-logging": security(4.0),
  "glue-job-version-current": security(4.0),
  // Reliability: backups, disaster recovery, failure handling.
  "rds-backup-retention": RELIABILITY,
  "dynamodb-point-in-time-recovery": RELIABILITY,
  "redshift-snapshot-retention": RELIABILITY,
  "elasticache-snapshot-retention": RELIABILITY,
  "database-deletion-protection": RELIABILITY,
  "s3-lake-bucket-versioning": RELIABILITY,
  "backup-stateful-resources-selected": RELIABILITY,
  "backup-plan-retention": RELIABILITY,
  "s3-replication-rules": RELIABILITY,
  "aurora-global-member-ignore-changes": RELIABILITY,
  "aurora-cluster-has-instances": RELIABILITY,
  "redshift-cross-region-snapshot-copy": RELIABILITY,
  "kms-replica-key-of-rotating-key": RELIABILITY,
  "kinesis-consumer-failure-handling": RELIABILITY,
  "sqs-queue-has-dead-letter-queue": RELIABILITY,
  "quarantine-alarmed": RELIABILITY,
  "glue-job-run-limits": RELIABILITY,
  "dms-replication-instance-multi-az": RELIABILITY,
  "sfn-state-machine-tracing": RELIABILITY,
  "scheduler-schedule-failure-handling": RELIABILITY,
  // Governance.
  "required-tags": GOVERNANCE,
  "allowed-regions": GOVERNANCE,
  "monthly-cost-within-budget": GOVERNANCE,
  "emr-serverless-application-auto-stop": GOVERNANCE,
  "waiver-registry": GOVERNANCE,
};

/** A policy's classification; a policy missing from the table is governance until it is classified. */
export function severityOf(policy: string): PolicySeverity {
  return POLICY_SEVERITY[policy] ?? GOVERNANCE;
}

/**
 * The stage config keys (config/schema.ts) that switch a policy's subject off. When the
 * stack file sets one to `false` or `0` (dev's `pointInTimeRecovery: false`), the finding is
 * that line's doing, so code scanning annotates the stack file there rather than the
 * resource's declaration.
 */
export const POLICY_CONFIG_KEYS: Readonly<Record<string, readonly string[]>> = {
  "dynamodb-point-in-time-recovery": ["pointInTimeRecovery"],
  "s3-lake-bucket-versioning": ["lakeVersioning"],
  "elasticache-snapshot-retention": ["cacheSnapshotRetentionDays"],
  "database-deletion-protection": ["deletionProtection"],
};
