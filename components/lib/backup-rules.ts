/**
 * What AWS Backup can do for each kind of stateful resource the platform keeps, and the
 * backup rules that follow from it. One plan per kind: a plan's rules apply to every
 * resource its selections name, and the kinds differ in what they support (continuous
 * backup, cold storage, copies), so rules that one kind would fail or ignore stay out of
 * the others' plans.
 *
 * Sources (AWS Backup developer guide):
 *  - continuous backup and PITR for Aurora and S3, 1-35 days; for Aurora, AWS Backup manages
 *    the cluster's automated backups: point-in-time-recovery.html, point-in-time-recovery-retention-period.html
 *  - cold storage is honoured only by the types that support it (here DynamoDB with advanced
 *    backup) and "ignored for other resource types"; cold points stay 90 days: API_Lifecycle.html
 *  - copies of continuous backups become snapshots; for RDS and Aurora one copy action can
 *    cross a Region or an account, not both: recov-point-create-a-copy.html
 *  - restore testing supports Aurora, DynamoDB and S3 (not Redshift): API_RestoreTestingSelectionForCreate.html
 *  - AWS Backup supports Redshift provisioned clusters and Serverless namespaces (snapshots,
 *    as often as hourly); it documents no copy for them, and the warehouse's DR copies are
 *    Redshift's own cross-Region snapshot copy: redshift/latest/mgmt/managing-aws-backup.html
 */
import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";

export type ProtectedKind = "aurora" | "dynamodb" | "s3" | "redshift";

/** How a kind meets the 1 h batch RPO between daily snapshots. */
export type RpoMechanism = "continuous" | "hourly-snapshots" | "native-pitr";

export interface BackupCapabilities {
  /** AWS Backup's name for the type (the ResourceType metric dimension and restore testing's protectedResourceType). */
  readonly resourceType: "Aurora" | "DynamoDB" | "S3" | "Redshift";
  readonly rpo: RpoMechanism;
  readonly coldStorage: boolean;
  readonly copyAcrossRegions: boolean;
  /** One copy action into another account's vault in another Region. */
  readonly copyAcrossAccountsAndRegions: boolean;
  readonly restoreTesting: boolean;
}

export const BACKUP_CAPABILITIES: Readonly<Record<ProtectedKind, BackupCapabilities>> = {
  aurora: { resourceType: "Aurora", rpo: "continuous", coldStorage: false, copyAcrossRegions: true, copyAcrossAccountsAndRegions: false, restoreTesting: true },
  // The table's own PITR (1 s granularity, 35 days) meets the RPO; AWS Backup adds locked, copied, long-term points.
  dynamodb: { resourceType: "DynamoDB", rpo: "native-pitr", coldStorage: true, copyAcrossRegions: true, copyAcrossAccountsAndRegions: true, restoreTesting: true },
  s3: { resourceType: "S3", rpo: "continuous", coldStorage: false, copyAcrossRegions: true, copyAcrossAccountsAndRegions: true, restoreTesting: true },
  redshift: { resourceType: "Redshift", rpo: "hourly-snapshots", coldStorage: false, copyAcrossRegions: false, copyAcrossAccountsAndRegions: false, restoreTesting: false },
};

/** The resources of one kind a stack backs up, by ARN. */
export interface ProtectedResourceGroup {
  readonly kind: ProtectedKind;
  readonly arns: pulumi.Input<string>[];
}

export interface BackupRuleSettings {
  /** Hour (UTC) the daily and long-term rules start. @default 1 */
  startHourUtc?: number;
  dailyRetentionDays: number;
  longTermSchedule: "weekly" | "monthly";
  longTermRetentionDays: number;
  /** Days before long-term points move to cold storage, where the kind supports it; 0 never. @default 0 */
  coldStorageAfterDays?: number;
  /** Retention (1-35 days) of continuous backups for kinds that support them. @default undefined (no continuous rule) */
  continuousRetentionDays?: number;
  /** Retention of hourly snapshots for kinds whose RPO relies on them; 0 none. @default 0 */
  hourlyRetentionDays?: number;
}

/** Where the daily and long-term points are copied: the other region's vault. */
export interface CopyTarget {
  vaultArn: pulumi.Input<string>;
  /** Days the copies of daily points are kept; long-term copies keep the long-term retention. */
  dailyRetentionDays: number;
  /** The target vault belongs to another account. */
  crossAccount: boolean;
}

/** AWS Backup's shortest start window; the completion window must exceed it. */
const START_WINDOW_MINUTES = 60;

export function dailySchedule(hour: number): string {
  return `cron(0 ${hour} * * ? *)`;
}

export function longTermSchedule(schedule: "weekly" | "monthly", hour: number): string {
  return schedule === "weekly" ? `cron(0 ${hour} ? * SUN *)` : `cron(0 ${hour} 1 * ? *)`;
}

export const HOURLY_SCHEDULE = "cron(0 * * * ? *)";

/** Whether the daily and long-term points of a kind can go to `copy`. */
export function copiesTo(kind: ProtectedKind, copy: CopyTarget | undefined): copy is CopyTarget {
  const capabilities = BACKUP_CAPABILITIES[kind];
  if (copy === undefined || !capabilities.copyAcrossRegions) return false;
  return !copy.crossAccount || capabilities.copyAcrossAccountsAndRegions;
}

type PlanRule = aws.types.input.backup.PlanRule;

/** The rules of one kind's plan: continuous or hourly where its RPO needs them, then daily and long-term (copied where it can be). */
export function backupRulesFor(kind: ProtectedKind, settings: BackupRuleSettings, vaultName: pulumi.Input<string>, copy?: CopyTarget): PlanRule[] {
  const capabilities = BACKUP_CAPABILITIES[kind];
  const hour = settings.startHourUtc ?? 1;
  const cold = capabilities.coldStorage && (settings.coldStorageAfterDays ?? 0) > 0 ? settings.coldStorageAfterDays : undefined;
  const copied = copiesTo(kind, copy);
  const base = { targetVaultName: vaultName, startWindow: START_WINDOW_MINUTES };
  const rules: PlanRule[] = [];

  if (capabilities.rpo === "continuous" && settings.continuousRetentionDays !== undefined) {
    // A continuous rule still has a schedule: AWS Backup uses it to maintain the one continuous recovery point.
    rules.push({ ...base, ruleName: "continuous", enableContinuousBackup: true, schedule: dailySchedule(hour), completionWindow: 1440, lifecycle: { deleteAfter: settings.continuousRetentionDays } });
  }
  if (capabilities.rpo === "hourly-snapshots" && (settings.hourlyRetentionDays ?? 0) > 0) {
    rules.push({ ...base, ruleName: "hourly", schedule: HOURLY_SCHEDULE, completionWindow: 120, lifecycle: { deleteAfter: settings.hourlyRetentionDays } });
  }
  rules.push({
    ...base,
    ruleName: "daily",
    schedule: dailySchedule(hour),
    completionWindow: 1440,
    lifecycle: { deleteAfter: settings.dailyRetentionDays },
    copyActions: copied ? [{ destinationVaultArn: copy.vaultArn, lifecycle: { deleteAfter: copy.dailyRetentionDays } }] : undefined,
  });
  const longTermLifecycle = { deleteAfter: settings.longTermRetentionDays, ...(cold !== undefined ? { coldStorageAfter: cold } : {}) };
  rules.push({
    ...base,
    ruleName: settings.longTermSchedule,
    schedule: longTermSchedule(settings.longTermSchedule, hour),
    completionWindow: 2880,
    lifecycle: longTermLifecycle,
    copyActions: copied ? [{ destinationVaultArn: copy.vaultArn, lifecycle: longTermLifecycle }] : undefined,
  });
  return rules;
}

/** Apply-time rules for the settings; an empty list means valid. */
export function backupRuleProblems(settings: BackupRuleSettings): string[] {
  const problems: string[] = [];
  const hour = settings.startHourUtc ?? 1;
  if (!Number.isInteger(hour) || hour < 0 || hour > 23) problems.push(`startHourUtc ${hour}: an hour from 0 to 23`);
  const continuous = settings.continuousRetentionDays;
  if (continuous !== undefined && (continuous < 1 || continuous > 35)) problems.push(`continuousRetentionDays ${continuous}: continuous backups are kept 1-35 days`);
  const cold = settings.coldStorageAfterDays ?? 0;
  if (cold > 0 && settings.longTermRetentionDays < cold + 90) {
    problems.push(`longTermRetentionDays ${settings.longTermRetentionDays}: cold recovery points stay 90 days, so at least ${cold + 90}`);
  }
  for (const [field, days] of [["dailyRetentionDays", settings.dailyRetentionDays], ["longTermRetentionDays", settings.longTermRetentionDays]] as const) {
    if (!Number.isInteger(days) || days < 1) problems.push(`${field} ${days}: at least one day`);
  }
  return problems;
}
