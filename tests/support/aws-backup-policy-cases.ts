/**
 * Fixtures for the AWS Backup and account-guard policies (policies/aws-backup.ts): at least
 * one compliant and one non-compliant case each, plus the cases that decide their reach
 * (preview-time unknowns, wildcards and exclusions, what is not stateful). tests/policies.test.ts
 * runs them with every other policy's cases.
 */
import { PolicySubject } from "../../scripts/policy-runner";
import { KEY_ARN, UNKNOWN_STRING, subject, urnOf } from "./policy-fixtures";

interface Case {
  label: string;
  resources: PolicySubject[];
  config?: Record<string, unknown>;
}

const T = {
  cluster: "aws:rds/cluster:Cluster",
  instance: "aws:rds/instance:Instance",
  table: "aws:dynamodb/table:Table",
  bucket: "aws:s3/bucket:Bucket",
  redshift: "aws:redshift/cluster:Cluster",
  namespace: "aws:redshiftserverless/namespace:Namespace",
  cache: "aws:elasticache/replicationGroup:ReplicationGroup",
  selection: "aws:backup/selection:Selection",
  vault: "aws:backup/vault:Vault",
  lock: "aws:backup/vaultLockConfiguration:VaultLockConfiguration",
  vaultPolicy: "aws:backup/vaultPolicy:VaultPolicy",
  plan: "aws:backup/plan:Plan",
  provider: "pulumi:providers:aws",
} as const;

const ACCOUNT = "123456789012";
const CLUSTER_ARN = `arn:aws:rds:eu-west-1:${ACCOUNT}:cluster:oltp`;
const TABLE_ARN = `arn:aws:dynamodb:eu-west-1:${ACCOUNT}:table/speed-layer`;
const REDSHIFT_ARN = `arn:aws:redshift:eu-west-1:${ACCOUNT}:cluster:warehouse`;
const NAMESPACE_ARN = `arn:aws:redshift-serverless:eu-west-1:${ACCOUNT}:namespace/warehouse`;

const cluster = () => subject(T.cluster, { arn: CLUSTER_ARN }, { name: "oltp-cluster" });
const table = (arn = TABLE_ARN) => subject(T.table, { arn }, { name: "speed-layer" });
const bucket = (name: string) => subject(T.bucket, { id: name, bucket: name, arn: `arn:aws:s3:::${name}` }, { name });
const warehouse = () => subject(T.redshift, { arn: REDSHIFT_ARN }, { name: "warehouse-cluster" });
const selection = (name: string, props: Record<string, unknown>, propertyDependencies?: Record<string, string[]>) => subject(T.selection, props, { name, propertyDependencies });
const vault = (name = "dp-prod-vault") => subject(T.vault, { id: name, name, arn: `arn:aws:backup:eu-west-1:${ACCOUNT}:backup-vault:${name}`, kmsKeyArn: KEY_ARN }, { name: `${name}-vault` });
const lock = (props: Record<string, unknown>) => subject(T.lock, { backupVaultName: "dp-prod-vault", ...props }, { name: "vault-lock" });
const provider = (props: Record<string, unknown>) => subject(T.provider, { region: "eu-west-1", ...props }, { name: "primary", provider: null });
const LOCK_REQUIRED = { requireVaultLock: true };
const DENY_DELETION = { Effect: "Deny", Principal: { AWS: "*" }, Action: ["backup:DeleteRecoveryPoint", "backup:UpdateRecoveryPointLifecycle"], Resource: "*" };
const vaultPolicy = (statements: object[]) => subject(T.vaultPolicy, { backupVaultName: "dp-prod-vault", policy: JSON.stringify({ Version: "2012-10-17", Statement: statements }) }, { name: "vault-policy" });
const backupPlan = (rules: object[]) => subject(T.plan, { name: "plan", rules }, { name: "plan" });

export const AWS_BACKUP_POLICY_CASES: Record<string, { compliant: Case[]; violating: (Case & { expect: RegExp })[] }> = {
  "backup-stateful-resources-selected": {
    compliant: [
      {
        label: "cluster, table, lake bucket and warehouse selected by ARN",
        resources: [
          cluster(), table(), bucket("lake-raw"), warehouse(),
          selection("aurora", { resources: [CLUSTER_ARN] }),
          selection("dynamodb", { resources: [TABLE_ARN] }),
          selection("s3", { resources: ["arn:aws:s3:::lake-raw"] }),
          selection("redshift", { resources: [REDSHIFT_ARN] }),
        ],
      },
      {
        label: "ARNs unknown during preview, matched by the selection's property dependencies",
        resources: [table(UNKNOWN_STRING), selection("dynamodb", { resources: [UNKNOWN_STRING] }, { resources: [urnOf(T.table, "speed-layer")] })],
      },
      { label: "an ARN pattern with wildcards", resources: [table(), selection("all-tables", { resources: ["arn:aws:dynamodb:*:*:table/*"] })] },
      { label: "a table of short-lived state tagged BackupExempt with its reason", resources: [subject(T.table, { arn: TABLE_ARN, tags: { BackupExempt: "deduplication claims expire within a day" } }, { name: "claims" })] },
      { label: "a Serverless namespace selected", resources: [subject(T.namespace, { arn: NAMESPACE_ARN }, { name: "warehouse-namespace" }), selection("redshift", { resources: [NAMESPACE_ARN] })] },
      {
        label: "caches, read replicas and non-zone buckets are not stateful",
        resources: [
          subject(T.cache, { arn: "arn:aws:elasticache:eu-west-1:123456789012:replicationgroup:cache" }, { name: "cache" }),
          subject(T.instance, { arn: "arn:aws:rds:eu-west-1:123456789012:db:replica", replicateSourceDb: "primary" }, { name: "replica" }),
          bucket("lake-query-results"),
        ],
      },
    ],
    violating: [
      { label: "a table no selection names", resources: [table(), selection("aurora", { resources: [CLUSTER_ARN] })], expect: /Table speed-layer is in no AWS Backup selection/ },
      { label: "a cluster excluded by notResources", resources: [cluster(), selection("everything", { resources: ["*"], notResources: [CLUSTER_ARN] })], expect: /Cluster oltp-cluster is in no AWS Backup selection/ },
      { label: "a lake zone bucket without a selection", resources: [bucket("lake-staged")], expect: /Bucket lake-staged/ },
      { label: "a custom lake bucket pattern", resources: [bucket("landing-zone")], config: { lakeBucketPattern: "landing" }, expect: /Bucket landing-zone/ },
      { label: "a BackupExempt tag without a reason", resources: [subject(T.table, { arn: TABLE_ARN, tags: { BackupExempt: " " } }, { name: "claims" })], expect: /Table claims is in no AWS Backup selection/ },
    ],
  },
  "backup-vault-customer-key": {
    compliant: [
      { label: "the stage data key", resources: [vault()] },
      { label: "a key unknown during preview", resources: [subject(T.vault, { name: "v", kmsKeyArn: UNKNOWN_STRING })] },
    ],
    violating: [
      { label: "no key (the AWS managed aws/backup key)", resources: [subject(T.vault, { name: "v" })], expect: /no kmsKeyArn/ },
      { label: "the AWS managed key named", resources: [subject(T.vault, { name: "v", kmsKeyArn: "arn:aws:kms:eu-west-1:123456789012:alias/aws/backup" })], expect: /AWS managed key/ },
    ],
  },
  "backup-vault-denies-deletion": {
    compliant: [
      { label: "a Deny of both actions to everyone", resources: [vault(), vaultPolicy([DENY_DELETION])] },
      { label: "a Deny with a break-glass exception", resources: [vault(), vaultPolicy([{ ...DENY_DELETION, Condition: { ArnNotEquals: { "aws:PrincipalArn": "arn:aws:iam::123456789012:role/break-glass" } } }])] },
      { label: "a policy unknown during preview", resources: [vault(), subject(T.vaultPolicy, { backupVaultName: "dp-prod-vault", policy: UNKNOWN_STRING }, { name: "vault-policy" })] },
    ],
    violating: [
      { label: "no access policy", resources: [vault()], expect: /has no access policy/ },
      { label: "a Deny of deletion only", resources: [vault(), vaultPolicy([{ ...DENY_DELETION, Action: "backup:DeleteRecoveryPoint" }])], expect: /does not deny/ },
      { label: "a Deny for one principal only", resources: [vault(), vaultPolicy([{ ...DENY_DELETION, Principal: { AWS: "arn:aws:iam::123456789012:root" } }])], expect: /does not deny/ },
    ],
  },
  "backup-plan-retention": {
    compliant: [
      { label: "rules and copies that expire", resources: [backupPlan([{ ruleName: "daily", lifecycle: { deleteAfter: 35 }, copyActions: [{ destinationVaultArn: "v", lifecycle: { deleteAfter: 35 } }] }])], config: { minRetentionDays: 7 } },
    ],
    violating: [
      { label: "a rule that keeps points forever", resources: [backupPlan([{ ruleName: "daily" }])], expect: /Rule daily keeps recovery points forever/ },
      { label: "a copy that keeps points forever", resources: [backupPlan([{ ruleName: "daily", lifecycle: { deleteAfter: 7 }, copyActions: [{ destinationVaultArn: "v" }] }])], expect: /The copy of rule daily keeps recovery points forever/ },
      { label: "a rule under the stack's minimum", resources: [backupPlan([{ ruleName: "hourly", lifecycle: { deleteAfter: 1 } }])], config: { minRetentionDays: 2 }, expect: /1 day\(s\); this stack requires at least 2/ },
    ],
  },
  "backup-vault-locked": {
    compliant: [
      { label: "a governance lock with a retention range", resources: [vault(), lock({ minRetentionDays: 2, maxRetentionDays: 3650 })], config: LOCK_REQUIRED },
      { label: "compliance mode where required", resources: [vault(), lock({ minRetentionDays: 2, maxRetentionDays: 3650, changeableForDays: 3 })], config: { ...LOCK_REQUIRED, requireComplianceMode: true } },
      { label: "no lock where the stack does not require one (dev)", resources: [vault()] },
    ],
    violating: [
      { label: "a vault without a lock", resources: [vault()], config: LOCK_REQUIRED, expect: /has no Vault Lock/ },
      { label: "a lock for another vault", resources: [vault(), lock({ backupVaultName: "other", minRetentionDays: 2, maxRetentionDays: 30 })], config: LOCK_REQUIRED, expect: /has no Vault Lock/ },
      { label: "a lock without a retention range", resources: [vault(), lock({})], config: LOCK_REQUIRED, expect: /no minRetentionDays and maxRetentionDays/ },
      { label: "governance where compliance is required", resources: [vault(), lock({ minRetentionDays: 2, maxRetentionDays: 30 })], config: { ...LOCK_REQUIRED, requireComplianceMode: true }, expect: /governance mode/ },
    ],
  },
  "provider-pinned-to-account": {
    compliant: [
      { label: "allowedAccountIds as the engine records it (JSON text)", resources: [provider({ allowedAccountIds: JSON.stringify([ACCOUNT]) })] },
      { label: "allowedAccountIds unknown during preview", resources: [provider({ allowedAccountIds: UNKNOWN_STRING })] },
      { label: "resources are not providers", resources: [subject("aws:sqs/queue:Queue", { kmsMasterKeyId: KEY_ARN })] },
    ],
    violating: [
      { label: "a provider without allowedAccountIds", resources: [provider({})], expect: /not pinned to an account/ },
      { label: "only forbiddenAccountIds", resources: [provider({ forbiddenAccountIds: JSON.stringify([ACCOUNT]) })], expect: /not pinned/ },
      { label: "a malformed account id", resources: [provider({ allowedAccountIds: JSON.stringify(["12345"]) })], expect: /12345, which are not 12-digit/ },
    ],
  },
};
