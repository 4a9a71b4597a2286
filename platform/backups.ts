/**
 * AWS Backup for either stack of a stage: the vault (with its lock and access policy),
 * one plan per kind of stateful resource, the copy into the other region's vault, and
 * restore testing, all from typed config keys.
 *
 * The side whose region is active backs its resources up and copies them into the
 * partner's vault; the other side keeps a vault that receives those copies. After a
 * promotion (activeRegion changes on both stacks) the roles swap: the DR stack backs up
 * its own resources and copies them back into the primary region's vault. Vaults are
 * named per region, so both sides use one name and address each other by ARN alone:
 * neither stack creates anything in the other's region or needs it to be up.
 */
import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import { StageConfig, isActiveStack, isCrossAccountDr, partnerAccount, partnerRegion } from "../config";
import { BackupPlan, BackupPlanArgs } from "../components/backup/backup-plan";
import { RestoreTesting, RestoreTestingArgs } from "../components/backup/restore-testing";
import { BACKUP_CAPABILITIES, CopyTarget, ProtectedResourceGroup } from "../components/lib/backup-rules";
import { stagePrefix } from "../components/lib/naming";
import { PlatformContext } from "./context";
import { DataPath } from "./data-path";
import { Stores } from "./stores";

export type { ProtectedResourceGroup } from "../components/lib/backup-rules";

export interface StageBackups {
  readonly plan: BackupPlan;
  readonly restoreTesting?: RestoreTesting;
  readonly outputs: Record<string, unknown>;
}

export interface BackupWiringOptions {
  /** Back this stack's resources up and copy them to the partner's vault. @default isActiveStack(config) */
  readonly backUpOwnResources?: boolean;
  /** Where restore tests put a restored Aurora cluster (its subnet group and the database security group). @default undefined (inferred: the default VPC) */
  readonly auroraRestorePlacement?: RestoreTestingArgs["auroraPlacement"];
}

/** The vault's name in both regions of the stage. */
export function backupVaultName(config: Pick<StageConfig, "namePrefix" | "stage">): string {
  return `${stagePrefix(config)}-vault`;
}

/** The partner stack's vault, by the ARN it will have: same name, the other region and account. */
export function partnerVaultArn(context: PlatformContext): pulumi.Output<string> {
  const { config } = context;
  const invokeOpts = { provider: context.homeProvider };
  const partition = aws.getPartitionOutput({}, invokeOpts).partition;
  // Without accountId the partner is in this account (cross-account DR requires accountId).
  const account = partnerAccount(config) !== "" ? pulumi.output(partnerAccount(config)) : aws.getCallerIdentityOutput({}, invokeOpts).accountId;
  return pulumi.interpolate`arn:${partition}:backup:${partnerRegion(config)}:${account}:backup-vault:${backupVaultName(config)}`;
}

/**
 * What a stack protects: its Aurora cluster, its speed-layer table (the DR stack's is the
 * global table's replica), the lake zones (when configured) and the warehouse (once it has one).
 */
export function protectedResources(config: StageConfig, dataPath: DataPath, stores: Stores): ProtectedResourceGroup[] {
  const lake = dataPath.lake;
  const groups: ProtectedResourceGroup[] = [
    { kind: "aurora", arns: [stores.oltp.clusterArn] },
    { kind: "dynamodb", arns: [dataPath.ingestion.speedLayerTableArn] },
    { kind: "s3", arns: config.backupLakeBuckets ? [lake.raw.arn, lake.transformed.arn, lake.staged.arn] : [] },
    { kind: "redshift", arns: stores.warehouse.resourceArn ? [stores.warehouse.resourceArn] : [] },
  ];
  return groups.filter((group) => group.arns.length > 0);
}

/** The BackupPlan arguments the stage config asks for. */
export function backupPlanArgs(context: PlatformContext, resources: ProtectedResourceGroup[], copyTo: CopyTarget | undefined): BackupPlanArgs {
  const c = context.config;
  return {
    vaultName: backupVaultName(c),
    kmsKeyArn: context.keys.dataKeyArn,
    lock: c.backupVaultLock === "none"
      ? undefined
      : { mode: c.backupVaultLock, minRetentionDays: c.backupVaultLockMinRetentionDays, maxRetentionDays: c.backupVaultLockMaxRetentionDays, changeableForDays: c.backupVaultLockChangeableForDays },
    breakGlassRoleArn: c.backupBreakGlassRoleArn === "" ? undefined : c.backupBreakGlassRoleArn,
    partnerAccountIds: isCrossAccountDr(c) ? [partnerAccount(c)] : [],
    resources,
    rules: {
      startHourUtc: c.backupStartHourUtc,
      dailyRetentionDays: c.backupDailyRetentionDays,
      longTermSchedule: c.backupLongTermSchedule,
      longTermRetentionDays: c.backupLongTermRetentionDays,
      coldStorageAfterDays: c.backupColdStorageAfterDays,
      // For Aurora the continuous backup is the cluster's automated backup: one retention for both.
      continuousRetentionDays: c.backupContinuous ? c.backupRetentionDays : undefined,
      hourlyRetentionDays: c.backupHourlyRetentionDays,
    },
    copyTo,
    // A stage that may be torn down may also delete a vault that still holds recovery points.
    forceDestroy: !c.protectStatefulResources,
    protect: c.protectStatefulResources,
    alarmTopicArn: context.alarmTopicArn,
  };
}

function restoreTestingArgs(context: PlatformContext, plan: BackupPlan, resources: ProtectedResourceGroup[], options: BackupWiringOptions): RestoreTestingArgs {
  const c = context.config;
  return {
    vaultArn: plan.vaultArn,
    restoreRoleArn: plan.serviceRoleArn,
    resources: resources.filter((group) => BACKUP_CAPABILITIES[group.kind].restoreTesting),
    scheduleExpression: c.restoreTestingSchedule,
    validationWindowHours: c.restoreTestingValidationHours,
    dataKeyArn: context.keys.dataKeyArn,
    auroraPlacement: options.auroraRestorePlacement,
    logRetentionDays: c.logRetentionDays,
    logsKeyArn: context.keys.logsKeyArn,
    tracing: c.tracingEnabled,
    alarmTopicArn: context.alarmTopicArn,
  };
}

/**
 * Backups of one stack: `resources` are its stateful resources by kind. While the stack
 * is passive its vault (with its lock and access policy, and the cross-account pieces when
 * drAccountId is set) only receives the partner's copies; once its region is active it
 * backs `resources` up and copies them into the partner's vault.
 */
export function stageBackups(context: PlatformContext, resources: ProtectedResourceGroup[], options: BackupWiringOptions = {}): StageBackups {
  const c = context.config;
  const backsUp = options.backUpOwnResources ?? isActiveStack(c);
  const own = backsUp ? resources.filter((group) => group.arns.length > 0) : [];
  const copyTo = backsUp && c.backupCopyToDr
    ? { vaultArn: partnerVaultArn(context), dailyRetentionDays: c.backupCopyRetentionDays, crossAccount: isCrossAccountDr(c) }
    : undefined;
  const plan = new BackupPlan(`${context.prefix}-backup`, backupPlanArgs(context, own, copyTo), context.componentOpts);
  const testable = own.filter((group) => BACKUP_CAPABILITIES[group.kind].restoreTesting);
  const restoreTesting = c.restoreTestingEnabled && testable.length > 0
    ? new RestoreTesting(`${context.prefix}-restore-tests`, restoreTestingArgs(context, plan, testable, options), context.componentOpts)
    : undefined;
  return {
    plan,
    restoreTesting,
    outputs: {
      backupVaultName: plan.vaultName,
      backupVaultArn: plan.vaultArn,
      ...(restoreTesting ? { restoreTestingPlanName: restoreTesting.planName } : {}),
    },
  };
}

/** Groups of the same kind merged into one (a plan and a selection per kind). */
export function mergedByKind(groups: ProtectedResourceGroup[]): ProtectedResourceGroup[] {
  const byKind = new Map<ProtectedResourceGroup["kind"], pulumi.Input<string>[]>();
  for (const group of groups) byKind.set(group.kind, [...(byKind.get(group.kind) ?? []), ...group.arns]);
  return [...byKind.entries()].map(([kind, arns]) => ({ kind, arns }));
}

/**
 * A composition's backups, either role: one call in platform/primary.ts and platform/dr.ts.
 * `also` adds stateful resources outside the data path and the stores (the DR journal table).
 */
export function defineBackups(context: PlatformContext, dataPath: DataPath, stores: Stores, also: ProtectedResourceGroup[] = []): StageBackups {
  return stageBackups(context, mergedByKind([...protectedResources(context.config, dataPath, stores), ...also]), {
    auroraRestorePlacement: { dbSubnetGroupName: stores.oltp.subnetGroupName, securityGroupIds: [context.network.securityGroups.database.id] },
  });
}
