/**
 * The stage's AWS Backup vault and plans in one region. Both stacks of a stage build one
 * (vaults are named per region, so the same name is used on both sides and each addresses
 * the other's vault by a known ARN): the active side backs its resources up and copies
 * them into the other side's vault; a side with nothing to back up is a copy target.
 */
import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import { createMetricAlarm } from "../lib/alarms";
import { BACKUP_CAPABILITIES, BackupRuleSettings, CopyTarget, ProtectedResourceGroup, backupRuleProblems, backupRulesFor } from "../lib/backup-rules";
import { Statement, allow, createScopedRole, policyDocument } from "../lib/iam";

export interface VaultLockArgs {
  /**
   * governance: principals allowed backup:DeleteBackupVaultLockConfiguration can still lift it.
   * compliance: after changeableForDays nobody can remove it or delete a recovery point early.
   */
  mode: "governance" | "compliance";
  minRetentionDays: number;
  maxRetentionDays: number;
  /** Compliance mode only: days the lock stays changeable. @default 3 */
  changeableForDays?: number;
}

export interface BackupPlanArgs {
  /** The vault's name: the same in the partner region, whose vault this one copies into. */
  vaultName: string;
  /** Customer key the vault encrypts recovery points with (this region's data key, or its replica). */
  kmsKeyArn: pulumi.Input<string>;
  /** Vault Lock. @default undefined (no lock) */
  lock?: VaultLockArgs;
  /** The one role the vault access policy lets delete recovery points or change their lifecycle. @default undefined (none may) */
  breakGlassRoleArn?: string;
  /**
   * Accounts of a cross-account partner: their AWS Backup may copy into this vault, and they
   * get a grant on kmsKeyArn so they can read what this side copies to them. @default []
   */
  partnerAccountIds?: string[];
  /** What this side backs up, by kind; empty leaves a vault that only receives copies. @default [] */
  resources?: ProtectedResourceGroup[];
  rules: BackupRuleSettings;
  /** Copy daily and long-term points into the partner region's vault. @default undefined (no copies) */
  copyTo?: CopyTarget;
  /** Let `pulumi destroy` delete a vault that still holds recovery points. @default false */
  forceDestroy?: boolean;
  /** Pulumi `protect` on the vault and its lock. @default true */
  protect?: boolean;
  /** Alarms are created only when this is set. @default undefined */
  alarmTopicArn?: pulumi.Input<string>;
}

/** AWS managed policies of the AWS Backup service role (service-role policies, not *FullAccess): iam-service-roles.html. */
export const BACKUP_SERVICE_POLICIES = [
  "arn:aws:iam::aws:policy/service-role/AWSBackupServiceRolePolicyForBackup",
  "arn:aws:iam::aws:policy/service-role/AWSBackupServiceRolePolicyForRestores",
  "arn:aws:iam::aws:policy/AWSBackupServiceRolePolicyForS3Backup",
  "arn:aws:iam::aws:policy/AWSBackupServiceRolePolicyForS3Restore",
] as const;

/** What deleting or expiring a recovery point early takes; the vault policy refuses both (vault-access-policy.html). */
export const RECOVERY_POINT_DESTRUCTIVE_ACTIONS = ["backup:DeleteRecoveryPoint", "backup:UpdateRecoveryPointLifecycle"] as const;

/** Operations a cross-account partner needs on this side's key to copy and restore what it receives. */
const PARTNER_KEY_OPERATIONS = ["Decrypt", "DescribeKey", "CreateGrant", "ReEncryptFrom", "GenerateDataKeyWithoutPlaintext"];

/** Freshness: alarm when no backup job of a kind completed in the vault for this many hours. */
export const FRESHNESS_HOURS = 26;

/** Everything AWS would refuse about the arguments, as sentences; empty when the vault and plans can be built. */
export function backupPlanProblems(args: BackupPlanArgs): string[] {
  const problems = backupRuleProblems(args.rules);
  if (!/^[a-zA-Z0-9_-]{2,50}$/.test(args.vaultName)) problems.push(`vaultName "${args.vaultName}": 2-50 letters, digits, hyphens or underscores`);
  const lock = args.lock;
  if (lock !== undefined) {
    if (lock.minRetentionDays > lock.maxRetentionDays) problems.push(`lock: minRetentionDays ${lock.minRetentionDays} exceeds maxRetentionDays ${lock.maxRetentionDays}`);
    if (lock.mode === "compliance" && (lock.changeableForDays ?? 3) < 3) problems.push(`lock: changeableForDays ${lock.changeableForDays} is under the 3 days AWS requires`);
  }
  for (const group of args.resources ?? []) {
    if (group.arns.length === 0) problems.push(`resources: the ${group.kind} group names no resource`);
  }
  return problems;
}

/** AWS Backup checks its role's permissions when a selection is saved: depend on all of them. */
interface ServiceRole {
  readonly role: aws.iam.Role;
  readonly permissions: pulumi.Resource[];
}

export class BackupPlan extends pulumi.ComponentResource {
  readonly vault: aws.backup.Vault;
  readonly vaultName: pulumi.Output<string>;
  readonly vaultArn: pulumi.Output<string>;
  /** The role AWS Backup backs up and restores with (restore testing uses it too). */
  readonly serviceRoleArn: pulumi.Output<string>;
  readonly plans: aws.backup.Plan[];

  constructor(name: string, args: BackupPlanArgs, opts?: pulumi.ComponentResourceOptions) {
    super("dataplatform:backup:BackupPlan", name, {}, opts);
    const problems = backupPlanProblems(args);
    if (problems.length > 0) throw new pulumi.RunError(`${name}: invalid BackupPlan args:\n  - ${problems.join("\n  - ")}`);
    const protect = args.protect ?? true;
    const partition = aws.getPartitionOutput({}, { parent: this }).partition;

    this.vault = new aws.backup.Vault(`${name}-vault`, {
      name: args.vaultName,
      kmsKeyArn: args.kmsKeyArn,
      forceDestroy: args.forceDestroy ?? false,
    }, { parent: this, protect });
    this.vaultName = this.vault.name;
    this.vaultArn = this.vault.arn;
    if (args.lock !== undefined) this.lockVault(name, args.lock, protect);
    new aws.backup.VaultPolicy(`${name}-vault-policy`, {
      backupVaultName: this.vault.name,
      policy: policyDocument(vaultPolicyStatements(partition, args.breakGlassRoleArn, args.partnerAccountIds ?? [])),
    }, { parent: this });
    for (const account of args.partnerAccountIds ?? []) {
      new aws.kms.Grant(`${name}-partner-${account}`, {
        name: `${name}-partner-${account}`,
        keyId: args.kmsKeyArn,
        granteePrincipal: pulumi.interpolate`arn:${partition}:iam::${account}:root`,
        operations: PARTNER_KEY_OPERATIONS,
      }, { parent: this });
    }

    const service = this.serviceRole(name, args.kmsKeyArn);
    this.serviceRoleArn = service.role.arn;
    this.plans = (args.resources ?? []).map((group) => this.planFor(name, group, args, service));
    if (args.alarmTopicArn !== undefined && this.plans.length > 0) this.alarms(name, args, args.alarmTopicArn);

    this.registerOutputs({ vaultName: this.vaultName, vaultArn: this.vaultArn, serviceRoleArn: this.serviceRoleArn, planIds: this.plans.map((plan) => plan.id) });
  }

  private lockVault(name: string, lock: VaultLockArgs, protect: boolean): void {
    new aws.backup.VaultLockConfiguration(`${name}-vault-lock`, {
      backupVaultName: this.vault.name,
      minRetentionDays: lock.minRetentionDays,
      maxRetentionDays: lock.maxRetentionDays,
      // The provider creates a compliance-mode lock exactly when changeableForDays is set.
      changeableForDays: lock.mode === "compliance" ? (lock.changeableForDays ?? 3) : undefined,
    }, { parent: this, protect });
  }

  /** AWS Backup's role: the service-role managed policies plus the data key, which IAM must grant for a customer key. */
  private serviceRole(name: string, kmsKeyArn: pulumi.Input<string>): ServiceRole {
    const { role, policy } = createScopedRole(`${name}-service`, {
      service: "backup.amazonaws.com",
      description: `${name}: AWS Backup backs up, copies and restores the stage's resources`,
      statements: [
        allow("UseDataKey", ["kms:Decrypt", "kms:GenerateDataKey", "kms:DescribeKey"], kmsKeyArn),
        pulumi.output(kmsKeyArn).apply((arn) => ({
          Sid: "GrantDataKeyToAwsResources",
          Effect: "Allow",
          Action: "kms:CreateGrant",
          Resource: arn,
          Condition: { Bool: { "kms:GrantIsForAWSResource": "true" } },
        })),
      ],
    }, { parent: this });
    const attachments = BACKUP_SERVICE_POLICIES.map((policyArn) => {
      const managed = policyArn.split("/").pop() as string;
      return new aws.iam.RolePolicyAttachment(`${name}-service-${managed}`, { role: role.name, policyArn }, { parent: this });
    });
    return { role, permissions: [policy, ...attachments] };
  }

  /** One plan per kind, its rules following what AWS Backup supports for it, and one selection of exactly its ARNs. */
  private planFor(name: string, group: ProtectedResourceGroup, args: BackupPlanArgs, service: ServiceRole): aws.backup.Plan {
    const planName = `${name}-${group.kind}`;
    const plan = new aws.backup.Plan(planName, {
      name: planName,
      rules: backupRulesFor(group.kind, args.rules, this.vault.name, args.copyTo),
    }, { parent: this });
    new aws.backup.Selection(`${planName}-selection`, {
      name: planName,
      planId: plan.id,
      iamRoleArn: service.role.arn,
      resources: group.arns,
    }, { parent: this, dependsOn: service.permissions });
    return plan;
  }

  /** Freshness per kind (CloudWatch AWS/Backup metrics by vault and resource type: cloudwatch.html), and any failed job. */
  private alarms(name: string, args: BackupPlanArgs, topicArn: pulumi.Input<string>): void {
    for (const group of args.resources ?? []) {
      const resourceType = BACKUP_CAPABILITIES[group.kind].resourceType;
      createMetricAlarm(`${name}-${group.kind}-freshness`, {
        description: `${name}: no ${resourceType} backup completed in ${FRESHNESS_HOURS} hours (recovery points are getting stale)`,
        namespace: "AWS/Backup",
        metricName: "NumberOfBackupJobsCompleted",
        dimensions: { BackupVaultName: this.vault.name, ResourceType: resourceType },
        statistic: "Sum",
        threshold: 1,
        comparisonOperator: "LessThanThreshold",
        periodSeconds: 3600,
        evaluationPeriods: FRESHNESS_HOURS,
        // No data means no completed job: that is the stale case, not an unknown one.
        treatMissingData: "breaching",
      }, topicArn, this);
    }
    const failures = [["backup", "NumberOfBackupJobsFailed"], ...(args.copyTo ? [["copy", "NumberOfCopyJobsFailed"]] : [])];
    for (const [job, metricName] of failures) {
      createMetricAlarm(`${name}-${job}-failures`, {
        description: `${name}: an AWS Backup ${job} job failed`,
        namespace: "AWS/Backup",
        metricName,
        dimensions: { BackupVaultName: this.vault.name },
        statistic: "Sum",
        threshold: 0,
        periodSeconds: 3600,
      }, topicArn, this);
    }
  }
}

/**
 * The vault access policy: nobody but the break-glass role may delete a recovery point or
 * shorten its lifecycle (Vault Lock adds the retention floor on top), and a cross-account
 * partner's AWS Backup may copy in.
 */
export function vaultPolicyStatements(partition: pulumi.Input<string>, breakGlassRoleArn: string | undefined, partnerAccountIds: readonly string[]): pulumi.Input<Statement>[] {
  const deny: Statement = {
    Sid: "OnlyBreakGlassDeletesRecoveryPoints",
    Effect: "Deny",
    Principal: { AWS: "*" },
    Action: [...RECOVERY_POINT_DESTRUCTIVE_ACTIONS],
    Resource: "*",
    ...(breakGlassRoleArn ? { Condition: { ArnNotEquals: { "aws:PrincipalArn": breakGlassRoleArn } } } : {}),
  };
  const copies = partnerAccountIds.length === 0 ? [] : [pulumi.output(partition).apply((p) => ({
    Sid: "PartnerAccountCopiesIn",
    Effect: "Allow",
    Principal: { AWS: partnerAccountIds.map((account) => `arn:${p}:iam::${account}:root`) },
    Action: "backup:CopyIntoBackupVault",
    Resource: "*",
  }))];
  return [deny, ...copies];
}
