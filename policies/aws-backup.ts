/**
 * AWS Backup and account guards: every stateful resource is in a backup selection, vaults
 * are encrypted with a customer key (and locked where the stack's config asks for it), and
 * every AWS provider is pinned to an account, so credentials for another one fail before
 * anything changes.
 *
 * Stateful means holding data that exists nowhere else: databases, tables, warehouses and
 * the lake's zone buckets. ElastiCache is a cache in front of Aurora (cache-aside): its
 * content is rebuilt on misses, AWS Backup does not support it, and its own snapshots serve
 * warm restarts only, so it is out of scope here (elasticache-snapshot-retention covers them).
 */
import * as aws from "@pulumi/aws";
import { PolicyResource, validateResourceOfType } from "@pulumi/policy";
import { attachedTo, ofTypes } from "./lib/correlate";
import { PlatformResourcePolicy, PlatformStackPolicy } from "./lib/policy";
import { AWS_MANAGED_KEY, PolicyStatement, UNKNOWN, asArray, isSet, jsonValue, peek, statementsOf } from "./lib/values";
import { BUCKET_TYPES, DEFAULT_LAKE_BUCKET_PATTERN, accessLogTargets } from "./s3";

const SELECTION_TYPE = "aws:backup/selection:Selection";
const VAULT_TYPE = "aws:backup/vault:Vault";
const VAULT_LOCK_TYPE = "aws:backup/vaultLockConfiguration:VaultLockConfiguration";

/** Resource types whose every instance holds data of its own (lake buckets are matched by name). */
export const STATEFUL_TYPES = [
  "aws:rds/cluster:Cluster",
  "aws:rds/instance:Instance",
  "aws:dynamodb/table:Table",
  "aws:redshift/cluster:Cluster",
  "aws:redshiftserverless/namespace:Namespace",
] as const;

interface CoverageConfig {
  lakeBucketPattern?: string;
}

/**
 * The tag that takes a resource out of backup coverage, with the reason as its value: for
 * state that is worthless once its short life is over (the ingestion's deduplication
 * claims expire within a day, and restoring old claims would only drop new events).
 */
export const BACKUP_EXEMPT_TAG = "BackupExempt";

const exemptFromBackup = (r: PolicyResource) => {
  const tags = peek(() => r.props.tags);
  return typeof tags === "object" && tags !== null && typeof (tags as Record<string, unknown>)[BACKUP_EXEMPT_TAG] === "string" && String((tags as Record<string, unknown>)[BACKUP_EXEMPT_TAG]).trim() !== "";
};

/** The stack's stateful resources: the types above (read replicas and tagged exemptions excepted) and the lake zone buckets. */
export function statefulResources(resources: PolicyResource[], lakeBucketPattern = DEFAULT_LAKE_BUCKET_PATTERN): PolicyResource[] {
  const pattern = new RegExp(lakeBucketPattern);
  const logTargets = accessLogTargets(resources);
  const replica = (r: PolicyResource) => r.type === "aws:rds/instance:Instance" && isSet(peek(() => r.props.replicateSourceDb));
  const typed = ofTypes(resources, STATEFUL_TYPES).filter((r) => !replica(r) && !exemptFromBackup(r));
  const lakeBuckets = ofTypes(resources, BUCKET_TYPES).filter((b) => pattern.test(b.name) && !logTargets.has(b.urn));
  return [...typed, ...lakeBuckets];
}

/** AWS Backup resource patterns: an ARN, or an ARN with "*" wildcards ("*" alone selects everything). */
export function arnPatternMatches(pattern: string, arn: string): boolean {
  const expression = pattern.split("*").map((part) => part.replace(/[.+?^${}()|[\]\\]/g, "\\$&")).join(".*");
  return new RegExp(`^${expression}$`).test(arn);
}

const knownStrings = (value: unknown): string[] => asArray(value === UNKNOWN ? undefined : (value as string | string[] | undefined)).filter((v): v is string => typeof v === "string");

/** Whether a selection names the resource: through the property dependencies of `resources` (known in preview), or an ARN pattern, minus `notResources`. */
export function selects(selection: PolicyResource, resource: PolicyResource): boolean {
  const arn = peek(() => resource.props.arn);
  const arnKnown = typeof arn === "string";
  const byDependency = (selection.propertyDependencies?.resources ?? []).some((dependency) => dependency.urn === resource.urn);
  const byPattern = arnKnown && knownStrings(peek(() => selection.props.resources)).some((pattern) => arnPatternMatches(pattern, arn));
  const excluded = arnKnown && knownStrings(peek(() => selection.props.notResources)).some((pattern) => arnPatternMatches(pattern, arn));
  return (byDependency || byPattern) && !excluded;
}

export const backupSelectionCoverage: PlatformStackPolicy = {
  name: "backup-stateful-resources-selected",
  description:
    "Every stateful resource (Aurora/RDS clusters and instances, DynamoDB tables, Redshift clusters and Serverless namespaces, the lake's raw, transformed and staged buckets) is named by an AWS Backup selection, by ARN or ARN pattern. ElastiCache is a rebuildable cache and out of scope; a resource tagged BackupExempt (its value the reason) holds short-lived state nobody restores.",
  enforcementLevel: "mandatory",
  remediationSteps:
    "Add the resource's ARN to the backup selection of its kind (platform/backups.ts builds them from the components with protectedResources, for either stack role). Lake buckets need lakeVersioning and backupLakeBuckets.",
  configSchema: {
    properties: {
      lakeBucketPattern: { type: "string", default: DEFAULT_LAKE_BUCKET_PATTERN, description: "Regular expression over a bucket's logical name that marks it as a lake bucket." },
    },
  },
  validateStack: (args, report) => {
    const stateful = statefulResources(args.resources, args.getConfig<CoverageConfig>().lakeBucketPattern);
    if (stateful.length === 0) args.notApplicable("No stateful resources in this stack");
    const selections = ofTypes(args.resources, [SELECTION_TYPE]);
    for (const resource of stateful) {
      if (!selections.some((selection) => selects(selection, resource))) {
        report(`${resource.type.split(":").pop()} ${resource.name} is in no AWS Backup selection, so no backup plan protects it.`, resource.urn);
      }
    }
  },
};

export const backupVaultCustomerKey: PlatformResourcePolicy = {
  name: "backup-vault-customer-key",
  description: "AWS Backup vaults encrypt recovery points with a customer-managed KMS key (kmsKeyArn), not the AWS managed aws/backup key.",
  enforcementLevel: "mandatory",
  remediationSteps: "Set kmsKeyArn on the aws.backup.Vault to the stage data key (context.keys.dataKeyArn; in the DR region, its replica).",
  validateResource: validateResourceOfType(aws.backup.Vault, (vault, _args, report) => {
    const key = peek(() => vault.kmsKeyArn);
    if (!isSet(key)) report("The vault has no kmsKeyArn, so AWS Backup encrypts it with the AWS managed key.");
    else if (typeof key === "string" && AWS_MANAGED_KEY.test(key)) report(`The vault uses the AWS managed key ${key}.`);
  }),
};

interface VaultLockConfig {
  requireVaultLock?: boolean;
  requireComplianceMode?: boolean;
}

export const backupVaultLocked: PlatformStackPolicy = {
  name: "backup-vault-locked",
  description:
    "Where the stack's policy config sets requireVaultLock (prod), every AWS Backup vault has a Vault Lock (aws.backup.VaultLockConfiguration) with a retention range; requireComplianceMode also demands compliance mode (changeableForDays set).",
  enforcementLevel: "mandatory",
  remediationSteps:
    'Set the stage config key backupVaultLock to "governance" (or "compliance", which becomes irreversible after backupVaultLockChangeableForDays), with backupVaultLockMinRetentionDays and backupVaultLockMaxRetentionDays.',
  configSchema: {
    properties: {
      requireVaultLock: { type: "boolean", default: false, description: "Require a Vault Lock on every backup vault." },
      requireComplianceMode: { type: "boolean", default: false, description: "Require the lock in compliance mode." },
    },
  },
  validateStack: (args, report) => {
    const config = args.getConfig<VaultLockConfig>();
    if (config.requireVaultLock !== true) args.notApplicable("This stack's policy config does not require Vault Lock");
    const vaults = ofTypes(args.resources, [VAULT_TYPE]);
    const locks = attachedTo(vaults, ofTypes(args.resources, [VAULT_LOCK_TYPE]), "backupVaultName");
    for (const vault of vaults) {
      const own = locks.get(vault.urn) ?? [];
      if (own.length === 0) report(`Backup vault ${vault.name} has no Vault Lock, so recovery points can be deleted before their retention ends.`, vault.urn);
      else if (!own.some((lock) => isSet(peek(() => lock.props.minRetentionDays)) && isSet(peek(() => lock.props.maxRetentionDays)))) {
        report(`The Vault Lock of ${vault.name} sets no minRetentionDays and maxRetentionDays.`, vault.urn);
      } else if (config.requireComplianceMode === true && !own.some((lock) => isSet(peek(() => lock.props.changeableForDays)))) {
        report(`The Vault Lock of ${vault.name} is in governance mode; this stack requires compliance mode.`, vault.urn);
      }
    }
  },
};

const VAULT_POLICY_TYPE = "aws:backup/vaultPolicy:VaultPolicy";
const DESTRUCTIVE_ACTIONS = ["backup:DeleteRecoveryPoint", "backup:UpdateRecoveryPointLifecycle"];

/** A Deny for every principal covering both actions that delete or expire recovery points early. */
function deniesRecoveryPointDeletion(statement: PolicyStatement): boolean {
  const principal = statement.Principal as { AWS?: string | string[] } | string | undefined;
  const everyone = principal === "*" || asArray(typeof principal === "object" ? principal.AWS : undefined).includes("*");
  const actions = asArray(statement.Action);
  const covers = (action: string) => actions.some((a) => a === action || a === "backup:*" || a === "*");
  return statement.Effect === "Deny" && everyone && DESTRUCTIVE_ACTIONS.every(covers);
}

export const backupVaultDeniesDeletion: PlatformStackPolicy = {
  name: "backup-vault-denies-deletion",
  description:
    "Every AWS Backup vault has an access policy that denies backup:DeleteRecoveryPoint and backup:UpdateRecoveryPointLifecycle to all principals (a condition may exempt one break-glass role).",
  enforcementLevel: "mandatory",
  remediationSteps: "Give the vault an aws.backup.VaultPolicy built by vaultPolicyStatements (components/backup/backup-plan.ts); name the exempt role in the stage config key backupBreakGlassRoleArn.",
  validateStack: (args, report) => {
    const vaults = ofTypes(args.resources, [VAULT_TYPE]);
    if (vaults.length === 0) args.notApplicable("No backup vaults in this stack");
    const policies = attachedTo(vaults, ofTypes(args.resources, [VAULT_POLICY_TYPE]), "backupVaultName");
    for (const vault of vaults) {
      const documents = (policies.get(vault.urn) ?? []).map((policy) => peek(() => policy.props.policy));
      if (documents.length === 0) report(`Backup vault ${vault.name} has no access policy, so any principal with backup rights can delete its recovery points.`, vault.urn);
      else if (!documents.includes(UNKNOWN) && !documents.flatMap(statementsOf).some(deniesRecoveryPointDeletion)) {
        report(`The access policy of ${vault.name} does not deny DeleteRecoveryPoint and UpdateRecoveryPointLifecycle to all principals.`, vault.urn);
      }
    }
  },
};

interface RuleRetentionConfig {
  minRetentionDays?: number;
}

export const backupPlanRulesExpire: PlatformResourcePolicy = {
  name: "backup-plan-retention",
  description:
    "Every rule of an AWS Backup plan, and every copy action, sets lifecycle.deleteAfter, at least minRetentionDays (default 1): recovery points neither live forever by accident nor vanish at once.",
  enforcementLevel: "mandatory",
  remediationSteps: "Set lifecycle.deleteAfter on each rule and copy action (platform/backups.ts maps the backup*RetentionDays stage config keys to them).",
  configSchema: {
    properties: {
      minRetentionDays: { type: "integer", minimum: 1, default: 1, description: "Fewest days a recovery point or copy may be kept." },
    },
  },
  validateResource: validateResourceOfType(aws.backup.Plan, (plan, args, report) => {
    const minimum = args.getConfig<RuleRetentionConfig>().minRetentionDays ?? 1;
    const check = (where: string, deleteAfter: unknown) => {
      if (deleteAfter === undefined || deleteAfter === null) report(`${where} keeps recovery points forever (no lifecycle.deleteAfter).`);
      else if (typeof deleteAfter === "number" && deleteAfter < minimum) report(`${where} keeps recovery points ${deleteAfter} day(s); this stack requires at least ${minimum}.`);
    };
    for (const rule of asArray(plan.rules)) {
      check(`Rule ${rule.ruleName}`, rule.lifecycle?.deleteAfter);
      for (const copy of asArray(rule.copyActions)) check(`The copy of rule ${rule.ruleName}`, copy.lifecycle?.deleteAfter);
    }
  }),
};

const ACCOUNT_ID = /^\d{12}$/;

export const providerPinnedToAccount: PlatformResourcePolicy = {
  name: "provider-pinned-to-account",
  description: "Every AWS provider lists the account(s) it may act in (allowedAccountIds, 12-digit ids), so credentials for another account fail before any change.",
  enforcementLevel: "mandatory",
  remediationSteps: "Create providers with regionProvider (platform/providers.ts) and set the stage config key accountId (and drAccountId for a DR region in another account).",
  validateResource: (args, report) => {
    if (args.type !== "pulumi:providers:aws") args.notApplicable("Not an AWS provider");
    const raw = peek(() => args.props.allowedAccountIds);
    if (raw === UNKNOWN) return;
    const accounts = jsonValue<string[]>(raw) ?? [];
    if (accounts.length === 0) report(`Provider ${args.name} is not pinned to an account (no allowedAccountIds).`);
    const malformed = accounts.filter((account) => !ACCOUNT_ID.test(String(account)));
    if (malformed.length > 0) report(`Provider ${args.name} lists ${malformed.join(", ")}, which are not 12-digit account ids.`);
  },
};

export const awsBackupPolicies = [backupSelectionCoverage, backupPlanRulesExpire, backupVaultCustomerKey, backupVaultDeniesDeletion, backupVaultLocked, providerPinnedToAccount];
