/**
 * AWS Backup under the mock engine: the real program for both stacks (and config
 * variations of them), and the DR side's entry point with a stand-in DR context. Coverage
 * is computed from the evaluated graph: every resource of a data-holding type, and every
 * lake zone bucket, must be named by a backup selection.
 */
import * as pulumi from "@pulumi/pulumi";
import { StageConfig, validateStageConfig } from "../config";
import { BACKUP_SERVICE_POLICIES, FRESHNESS_HOURS, RECOVERY_POINT_DESTRUCTIVE_ACTIONS } from "../components/backup/backup-plan";
import { RESTORE_TEST_METRIC_NAMESPACE } from "../components/backup/restore-testing";
import { BACKUP_CAPABILITIES, ProtectedKind, backupRuleProblems, backupRulesFor } from "../components/lib/backup-rules";
import { PlatformContext } from "../platform/context";
import { stageBackups } from "../platform/backups";
import { regionProvider } from "../platform/providers";
import { BACKUP_EXEMPT_TAG, STATEFUL_TYPES, backupSelectionCoverage, providerPinnedToAccount } from "../policies/aws-backup";
import { DEFAULT_LAKE_BUCKET_PATTERN } from "../policies/s3";
import { MOCK_ACCOUNT_ID, PlannedResource, StackEvaluation, ofType } from "../scripts/engine";
import { graphDocument, providerTargets, renderProviderTargets } from "../scripts/plan";
import { RawFinding, runResourcePolicy, runStackPolicy, subjectsOf } from "../scripts/policy-runner";
import { ConfigOverrides, arnOf, evaluate, prodAsDrSide, single, stackConfigWith, stageValue, statementsOf } from "./support/stack";

const T = {
  vault: "aws:backup/vault:Vault",
  lock: "aws:backup/vaultLockConfiguration:VaultLockConfiguration",
  vaultPolicy: "aws:backup/vaultPolicy:VaultPolicy",
  plan: "aws:backup/plan:Plan",
  selection: "aws:backup/selection:Selection",
  restorePlan: "aws:backup/restoreTestingPlan:RestoreTestingPlan",
  restoreSelection: "aws:backup/restoreTestingSelection:RestoreTestingSelection",
  grant: "aws:kms/grant:Grant",
  alarm: "aws:cloudwatch/metricAlarm:MetricAlarm",
  provider: "pulumi:providers:aws",
  bucket: "aws:s3/bucket:Bucket",
  versioning: "aws:s3/bucketVersioning:BucketVersioning",
} as const;

const DR_ACCOUNT = "210987654321";
const PROD_DR_VAULT = `arn:aws:backup:eu-central-1:${MOCK_ACCOUNT_ID}:backup-vault:dp-prod-vault`;

/** Everything in the graph that holds data of its own: data-holding types, and the lake's zone buckets. */
/** Stateful resources of the graph, but those tagged out of backup coverage with a reason (the deduplication claims). */
function statefulInGraph(plan: StackEvaluation): PlannedResource[] {
  const lakeBucket = new RegExp(DEFAULT_LAKE_BUCKET_PATTERN);
  const exempt = (r: PlannedResource) => typeof r.inputs.tags?.[BACKUP_EXEMPT_TAG] === "string";
  return plan.resources.filter((r) => !exempt(r) && ((STATEFUL_TYPES as readonly string[]).includes(r.type) || (r.type === T.bucket && lakeBucket.test(r.name) && !r.name.includes("access-logs"))));
}

const selectedArns = (plan: StackEvaluation) => new Set(ofType(plan, T.selection).flatMap((s) => s.inputs.resources as string[]));
const planOf = (plan: StackEvaluation, kind: ProtectedKind) => single(plan, T.plan, `-backup-${kind}`);
const ruleOf = (plan: StackEvaluation, kind: ProtectedKind, ruleName: string) => (planOf(plan, kind).inputs.rules as any[]).find((rule) => rule.ruleName === ruleName);
const ruleNames = (plan: StackEvaluation, kind: ProtectedKind) => (planOf(plan, kind).inputs.rules as any[]).map((rule) => rule.ruleName);
const dataKeyArn = (plan: StackEvaluation) => arnOf(single(plan, "aws:kms/key:Key", "-keys-data"));

/** Each committed stack is evaluated once per file, whichever describe block asks first. */
const committed = new Map<string, Promise<StackEvaluation>>();
function committedStack(stack: string): Promise<StackEvaluation> {
  if (!committed.has(stack)) committed.set(stack, evaluate(stack));
  return committed.get(stack)!;
}

describe.each([
  ["prod", { daily: 35, longTerm: "monthly", longTermDays: 365, continuous: 14, protect: true }],
  ["dev", { daily: 7, longTerm: "weekly", longTermDays: 28, continuous: undefined, protect: false }],
] as const)("%s stack backups", (stack, expected) => {
  let plan: StackEvaluation;
  beforeAll(async () => {
    plan = await committedStack(stack);
  });

  it("evaluates without errors or warnings", () => {
    expect(plan.errors).toEqual([]);
    expect(plan.warnings).toEqual([]);
  });

  it("selects every stateful resource of the graph by ARN, except what the stage leaves out on purpose", () => {
    const stateful = statefulInGraph(plan);
    expect(stateful.length).toBeGreaterThanOrEqual(stack === "prod" ? 6 : 3);
    const uncovered = stateful.filter((r) => !selectedArns(plan).has(arnOf(r)));
    // Dev's lake is unversioned (lakeVersioning false), which AWS Backup cannot back up: exactly those buckets stay out.
    const unversioned = stateful.filter((r) => r.type === T.bucket && !ofType(plan, T.versioning).some((v) => v.inputs.bucket === r.id));
    expect(uncovered.map((r) => r.name).sort()).toEqual(unversioned.map((r) => r.name).sort());
    expect(uncovered.length).toBe(stack === "prod" ? 0 : 3);
  });

  it("encrypts the vault with the stage data key", () => {
    const vault = single(plan, T.vault);
    expect(vault.inputs).toMatchObject({ name: `dp-${stack}-vault`, kmsKeyArn: dataKeyArn(plan), forceDestroy: !expected.protect });
    expect(vault.protect).toBe(expected.protect);
  });

  it("keeps one plan per kind with a selection of exactly that kind's resources", () => {
    for (const selection of ofType(plan, T.selection)) {
      const owner = plan.resources.find((r) => r.type === T.plan && `${r.id}` === selection.inputs.planId)!;
      const kind = owner.name.split("-backup-").pop() as ProtectedKind;
      expect(Object.keys(BACKUP_CAPABILITIES)).toContain(kind);
      const expectedService = { aurora: "rds", dynamodb: "dynamodb", s3: "s3", redshift: "redshift" }[kind];
      expect((selection.inputs.resources as string[]).every((arn) => arn.startsWith(`arn:aws:${expectedService}:`))).toBe(true);
      expect(selection.inputs.iamRoleArn).toBe(arnOf(single(plan, "aws:iam/role:Role", "-backup-service-role")));
    }
  });

  it("runs daily and long-term rules with the configured retention everywhere", () => {
    for (const selection of ofType(plan, T.selection)) {
      const kind = selection.name.replace(`dp-${stack}-backup-`, "").replace("-selection", "") as ProtectedKind;
      expect(ruleOf(plan, kind, "daily")).toMatchObject({ schedule: "cron(0 1 * * ? *)", lifecycle: { deleteAfter: expected.daily }, targetVaultName: `dp-${stack}-vault` });
      expect(ruleOf(plan, kind, expected.longTerm).lifecycle.deleteAfter).toBe(expected.longTermDays);
    }
  });

  it("backs Aurora up continuously (PITR) with the cluster's own retention where the stage asks for it", () => {
    const continuous = ruleOf(plan, "aurora", "continuous");
    if (expected.continuous === undefined) expect(continuous).toBeUndefined();
    else {
      expect(continuous).toMatchObject({ enableContinuousBackup: true, lifecycle: { deleteAfter: expected.continuous } });
      const cluster = single(plan, "aws:rds/cluster:Cluster");
      expect(cluster.inputs.backupRetentionPeriod).toBe(expected.continuous);
      expect(ruleOf(plan, "s3", "continuous")).toMatchObject({ enableContinuousBackup: true });
    }
    // Types without continuous backup never get a continuous rule.
    expect(ruleOf(plan, "dynamodb", "continuous")).toBeUndefined();
    expect(ruleOf(plan, "redshift", "continuous")).toBeUndefined();
  });

  it("uses the service-role managed policies, never *FullAccess, and the data key", () => {
    const attachments = ofType(plan, "aws:iam/rolePolicyAttachment:RolePolicyAttachment").filter((a) => a.name.includes("-backup-service-"));
    expect(attachments.map((a) => a.inputs.policyArn).sort()).toEqual([...BACKUP_SERVICE_POLICIES].sort());
    const inline = statementsOf(single(plan, "aws:iam/rolePolicy:RolePolicy", "-backup-service-policy"));
    expect(inline.every((s) => s.Resource === dataKeyArn(plan))).toBe(true);
  });
});

describe("prod: the full form", () => {
  let plan: StackEvaluation;
  beforeAll(async () => {
    plan = await committedStack("prod");
  });

  it("locks the vault in governance mode with the configured retention range", () => {
    const lock = single(plan, T.lock);
    expect(lock.inputs).toMatchObject({ backupVaultName: "dp-prod-vault", minRetentionDays: 2, maxRetentionDays: 3650 });
    expect(lock.inputs.changeableForDays).toBeUndefined();
    expect(lock.protect).toBe(true);
  });

  it("denies deleting recovery points or shortening their lifecycle to everyone (no break-glass role configured)", () => {
    const [deny, ...others] = statementsOf(single(plan, T.vaultPolicy));
    expect(deny).toEqual({ Sid: "OnlyBreakGlassDeletesRecoveryPoints", Effect: "Deny", Principal: { AWS: "*" }, Action: [...RECOVERY_POINT_DESTRUCTIVE_ACTIONS], Resource: "*" });
    expect(others).toEqual([]);
  });

  it("copies daily and long-term points of Aurora, DynamoDB and S3 into the DR region's vault, and none of the warehouse", () => {
    for (const kind of ["aurora", "dynamodb", "s3"] as const) {
      expect(ruleOf(plan, kind, "daily").copyActions).toEqual([{ destinationVaultArn: PROD_DR_VAULT, lifecycle: { deleteAfter: 35 } }]);
      expect(ruleOf(plan, kind, "monthly").copyActions[0].destinationVaultArn).toBe(PROD_DR_VAULT);
    }
    expect(ruleOf(plan, "redshift", "daily").copyActions).toBeUndefined();
    // The DR stack owns its vault: the primary stack's only resources there are its key replicas.
    expect(ofType(plan, T.vault).map((vault) => vault.region)).toEqual(["eu-west-1"]);
    expect([...new Set(plan.resources.filter((r) => r.region === "eu-central-1").map((r) => r.type))].sort()).toEqual(["aws:kms/alias:Alias", "aws:kms/replicaKey:ReplicaKey"]);
  });

  it("keeps EventBridge events on for every bucket AWS Backup protects (its continuous backups rely on them)", () => {
    const protectedBuckets = ofType(plan, T.bucket).filter((b) => selectedArns(plan).has(arnOf(b)));
    expect(protectedBuckets.length).toBe(3);
    for (const bucket of protectedBuckets) {
      const notifications = ofType(plan, "aws:s3/bucketNotification:BucketNotification").filter((n) => n.inputs.bucket === bucket.id);
      expect(notifications.map((n) => n.inputs.eventbridge)).toEqual([true]);
    }
  });

  it("moves long-term DynamoDB points to cold storage, and only DynamoDB's", () => {
    expect(ruleOf(plan, "dynamodb", "monthly").lifecycle).toEqual({ deleteAfter: 365, coldStorageAfter: 90 });
    expect(ruleOf(plan, "aurora", "monthly").lifecycle).toEqual({ deleteAfter: 365 });
  });

  it("meets the 1 h batch RPO: continuous backup for Aurora and S3, hourly warehouse snapshots, DynamoDB's own PITR", () => {
    expect(ruleNames(plan, "aurora")).toEqual(["continuous", "daily", "monthly"]);
    expect(ruleNames(plan, "s3")).toEqual(["continuous", "daily", "monthly"]);
    expect(ruleOf(plan, "redshift", "hourly")).toMatchObject({ schedule: "cron(0 * * * ? *)", lifecycle: { deleteAfter: 2 } });
    expect(single(plan, "aws:dynamodb/table:Table", "-speed-layer").inputs.pointInTimeRecovery).toEqual({ enabled: true });
  });

  it("restore-tests the latest points of Aurora, DynamoDB and S3 from the vault, DynamoDB restored under the data key", () => {
    const restorePlan = single(plan, T.restorePlan);
    expect(restorePlan.inputs).toMatchObject({
      name: "dp_prod_restore_tests",
      scheduleExpression: "cron(0 5 ? * SUN *)",
      recoveryPointSelection: { algorithm: "LATEST_WITHIN_WINDOW", includeVaults: [arnOf(single(plan, T.vault))], recoveryPointTypes: ["CONTINUOUS", "SNAPSHOT"] },
    });
    const selections = ofType(plan, T.restoreSelection);
    expect(selections.map((s) => s.inputs.protectedResourceType).sort()).toEqual(["Aurora", "DynamoDB", "S3"]);
    for (const selection of selections) {
      expect(selection.inputs).toMatchObject({ restoreTestingPlanName: "dp_prod_restore_tests", validationWindowHours: 4 });
      // Exactly what the backup plan of the same kind selects.
      const kind = selection.name.split("-").pop() as ProtectedKind;
      expect(selection.inputs.protectedResourceArns).toEqual(single(plan, T.selection, `-backup-${kind}-selection`).inputs.resources);
    }
    expect(selections.find((s) => s.inputs.protectedResourceType === "DynamoDB")?.inputs.restoreMetadataOverrides).toEqual({ encryptionType: "KMS", kmsMasterKeyArn: dataKeyArn(plan) });
    // A restored cluster lands in the database tier, not in a default VPC the account may not have.
    expect(selections.find((s) => s.inputs.protectedResourceType === "Aurora")?.inputs.restoreMetadataOverrides).toEqual({
      dbSubnetGroupName: single(plan, "aws:rds/subnetGroup:SubnetGroup").state.name,
      vpcSecurityGroupIds: JSON.stringify([single(plan, "aws:ec2/securityGroup:SecurityGroup", "-database-sg").id]),
    });
  });

  it("validates restore jobs on their EventBridge events, with the plan's ARN and the data key", () => {
    const rule = single(plan, "aws:cloudwatch/eventRule:EventRule", "-restore-tests-restore-jobs");
    expect(JSON.parse(rule.inputs.eventPattern)).toEqual({ source: ["aws.backup"], "detail-type": ["Restore Job State Change"], detail: { status: ["COMPLETED", "FAILED", "ABORTED"] } });
    const fn = single(plan, "aws:lambda/function:Function", "-restore-tests-validator-fn");
    expect(fn.inputs.environment.variables).toMatchObject({
      RESTORE_TESTING_PLAN_ARN: arnOf(single(plan, T.restorePlan)),
      RESTORE_TESTING_PLAN_NAME: "dp_prod_restore_tests",
      DATA_KEY_ARN: dataKeyArn(plan),
      METRIC_NAMESPACE: RESTORE_TEST_METRIC_NAMESPACE,
    });
    const target = single(plan, "aws:cloudwatch/eventTarget:EventTarget", "-restore-tests-validator-target");
    expect(target.inputs.arn).toBe(fn.state.arn);
  });

  it("alarms on stale recovery points per kind, failed jobs and failed restore tests", () => {
    const alarms = new Map(ofType(plan, T.alarm).map((a) => [a.name, a]));
    for (const kind of ["aurora", "dynamodb", "s3", "redshift"] as const) {
      expect(alarms.get(`dp-prod-backup-${kind}-freshness`)?.inputs).toMatchObject({
        namespace: "AWS/Backup",
        metricName: "NumberOfBackupJobsCompleted",
        dimensions: { BackupVaultName: "dp-prod-vault", ResourceType: BACKUP_CAPABILITIES[kind].resourceType },
        comparisonOperator: "LessThanThreshold",
        threshold: 1,
        period: 3600,
        evaluationPeriods: FRESHNESS_HOURS,
        treatMissingData: "breaching",
      });
    }
    expect(alarms.get("dp-prod-backup-backup-failures")?.inputs.metricName).toBe("NumberOfBackupJobsFailed");
    expect(alarms.get("dp-prod-backup-copy-failures")?.inputs.metricName).toBe("NumberOfCopyJobsFailed");
    for (const kind of ["aurora", "dynamodb", "s3"]) {
      expect(alarms.get(`dp-prod-restore-tests-${kind}-failed`)?.inputs).toMatchObject({ namespace: RESTORE_TEST_METRIC_NAMESPACE, metricName: "RestoreTestsFailed", threshold: 0 });
    }
  });

  it("pins every provider to the stage's account", () => {
    const providers = ofType(plan, T.provider);
    expect(providers.length).toBeGreaterThanOrEqual(1);
    for (const provider of providers) {
      expect(JSON.parse(provider.inputs.allowedAccountIds)).toEqual([MOCK_ACCOUNT_ID]);
      expect(provider.inputs.assumeRoles).toBeUndefined();
    }
  });
});

describe("dev: the cheap form, from config keys alone", () => {
  let plan: StackEvaluation;
  beforeAll(async () => {
    plan = await committedStack("dev");
  });

  it("has no lock, no copies, no continuous or hourly rules and no restore tests", () => {
    expect(ofType(plan, T.lock)).toEqual([]);
    expect(ofType(plan, T.plan).flatMap((p) => p.inputs.rules as any[]).filter((rule) => rule.copyActions !== undefined)).toEqual([]);
    expect(ofType(plan, T.plan).flatMap((p) => p.inputs.rules as any[]).map((rule) => rule.ruleName)).not.toContain("continuous");
    expect(ofType(plan, T.restorePlan)).toEqual([]);
    expect(ofType(plan, T.alarm).filter((a) => a.name.includes("backup"))).toEqual([]);
  });

  it("leaves its provider unpinned without accountId", () => {
    expect(single(plan, T.provider).inputs.allowedAccountIds).toBeUndefined();
  });

  it("gets a pinned provider, a lock and restore tests when dev's config asks for them (no stack-name branch)", async () => {
    const full = await evaluate("dev", {
      accountId: DR_ACCOUNT,
      backupVaultLock: "compliance",
      restoreTestingEnabled: true,
      lakeVersioning: true,
      backupLakeBuckets: true,
    });
    expect(JSON.parse(single(full, T.provider).inputs.allowedAccountIds)).toEqual([DR_ACCOUNT]);
    expect(single(full, T.lock).inputs).toMatchObject({ changeableForDays: 3, minRetentionDays: 1 });
    expect(ofType(full, T.restoreSelection).map((s) => s.inputs.protectedResourceType).sort()).toEqual(["Aurora", "DynamoDB", "S3"]);
    expect(statefulInGraph(full).filter((r) => !selectedArns(full).has(arnOf(r)))).toEqual([]);
  });
});

describe("prod config variations", () => {
  it("lets the break-glass role, and only it, delete recovery points, and assumes the deploy role on every provider", async () => {
    const breakGlass = `arn:aws:iam::${MOCK_ACCOUNT_ID}:role/backup-break-glass`;
    const deployRole = `arn:aws:iam::${MOCK_ACCOUNT_ID}:role/pulumi-deploy`;
    const plan = await evaluate("prod", { backupBreakGlassRoleArn: breakGlass, deployRoleArn: deployRole, deployRoleExternalId: "prod-deploy-7f3a" });
    const [deny] = statementsOf(single(plan, T.vaultPolicy));
    expect(deny.Condition).toEqual({ ArnNotEquals: { "aws:PrincipalArn": breakGlass } });
    for (const provider of ofType(plan, T.provider)) {
      expect(JSON.parse(provider.inputs.assumeRoles)).toEqual([{ roleArn: deployRole, externalId: "prod-deploy-7f3a", sessionName: "dp-prod-deploy" }]);
    }
  });

  // The stage config refuses drAccountId today (the DR stores need one account), so the
  // cross-account wiring of the backups is evaluated with a stand-in context.
  describe("with the DR region in another account (drAccountId, backups wiring only)", () => {
    let plan: StackEvaluation;
    beforeAll(async () => {
      plan = await evaluateBackupsIn("primary", {}, PRIMARY_RESOURCES, DR_ACCOUNT);
    });

    it("copies into the DR account's vault, except Aurora, which AWS Backup cannot copy across account and Region at once", () => {
      const target = `arn:aws:backup:eu-central-1:${DR_ACCOUNT}:backup-vault:dp-prod-vault`;
      expect(ruleOf(plan, "dynamodb", "daily").copyActions[0].destinationVaultArn).toBe(target);
      expect(ruleOf(plan, "s3", "daily").copyActions[0].destinationVaultArn).toBe(target);
      expect(ruleOf(plan, "aurora", "daily").copyActions).toBeUndefined();
    });

    it("lets the DR account copy back into this vault and read what it receives (a grant on the data key)", () => {
      const statements = statementsOf(single(plan, T.vaultPolicy));
      expect(statements.find((s) => s.Sid === "PartnerAccountCopiesIn")).toEqual({
        Sid: "PartnerAccountCopiesIn",
        Effect: "Allow",
        Principal: { AWS: [`arn:aws:iam::${DR_ACCOUNT}:root`] },
        Action: "backup:CopyIntoBackupVault",
        Resource: "*",
      });
      const grant = single(plan, T.grant);
      expect(grant.inputs).toMatchObject({ keyId: `arn:aws:kms:eu-west-1:${MOCK_ACCOUNT_ID}:key/mrk-dp-prod-keys-data`, granteePrincipal: `arn:aws:iam::${DR_ACCOUNT}:root` });
      expect(grant.inputs.operations).toEqual(expect.arrayContaining(["Decrypt", "DescribeKey", "CreateGrant"]));
    });

    it("still pins the primary stack's provider to the primary account", () => {
      expect(JSON.parse(single(plan, T.provider).inputs.allowedAccountIds)).toEqual([MOCK_ACCOUNT_ID]);
    });
  });
});

/**
 * One side's backups with a stand-in context (stageBackups, as the compositions call it).
 * `drAccountId` is set after validation: the stage config refuses it while the DR stores
 * (Aurora Global Database, key replicas, global tables) need one account.
 */
function evaluateBackupsIn(role: "primary" | "dr", overrides: ConfigOverrides, resources: (config: StageConfig) => Parameters<typeof stageBackups>[1], drAccountId = "") {
  // prod's file as the DR side takes what the DR stack's file sets differently.
  const asRole = { stackRole: role, ...(role === "dr" ? prodAsDrSide() : {}), ...overrides };
  const raw = stackConfigWith("prod", asRole);
  return evaluate("prod", asRole, {
    program: async () => {
      const config: StageConfig = { ...validateStageConfig(raw, `Pulumi.prod${role === "dr" ? "-dr" : ""}.yaml`), drAccountId };
      const region = role === "dr" ? config.drRegion : config.primaryRegion;
      const homeProvider = regionProvider(`dp-prod-${role}`, config, region);
      const context = {
        config,
        prefix: "dp-prod",
        region,
        homeProvider,
        componentOpts: { providers: [homeProvider] },
        keys: {
          dataKeyArn: pulumi.output(`arn:aws:kms:${region}:${MOCK_ACCOUNT_ID}:key/mrk-dp-prod-keys-data`),
          logsKeyArn: pulumi.output(`arn:aws:kms:${region}:${MOCK_ACCOUNT_ID}:key/dp-prod-logs`),
        },
        alarmTopicArn: pulumi.output(`arn:aws:sns:${region}:${MOCK_ACCOUNT_ID}:dp-prod-alarms`),
      } as unknown as PlatformContext;
      return stageBackups(context, resources(config)).outputs;
    },
  });
}

const evaluateStandby = (overrides: ConfigOverrides, resources: (config: StageConfig) => Parameters<typeof stageBackups>[1], drAccountId = "") =>
  evaluateBackupsIn("dr", overrides, resources, drAccountId);

const PRIMARY_RESOURCES = () => [
  { kind: "aurora" as const, arns: [`arn:aws:rds:eu-west-1:${MOCK_ACCOUNT_ID}:cluster:dp-prod-oltp`] },
  { kind: "dynamodb" as const, arns: [`arn:aws:dynamodb:eu-west-1:${MOCK_ACCOUNT_ID}:table/dp-prod-speed-layer`] },
  { kind: "s3" as const, arns: ["arn:aws:s3:::dp-prod-lake-raw"] },
];

const DR_RESOURCES = () => [
  { kind: "dynamodb" as const, arns: [`arn:aws:dynamodb:eu-central-1:${MOCK_ACCOUNT_ID}:table/dp-prod-speed-layer`] },
  { kind: "s3" as const, arns: ["arn:aws:s3:::dp-prod-lake-raw-replica"] },
];

describe("the DR stack's side (stageBackups in a DR context)", () => {
  it("while passive, keeps only the locked copy-target vault under the DR region's key", async () => {
    const plan = await evaluateStandby({}, DR_RESOURCES);
    expect(plan.errors).toEqual([]);
    const vault = single(plan, T.vault);
    expect(vault.region).toBe("eu-central-1");
    expect(vault.inputs).toMatchObject({ name: "dp-prod-vault", kmsKeyArn: `arn:aws:kms:eu-central-1:${MOCK_ACCOUNT_ID}:key/mrk-dp-prod-keys-data` });
    expect(arnOf(vault)).toBe(PROD_DR_VAULT);
    expect(single(plan, T.lock).inputs).toMatchObject({ minRetentionDays: 2, maxRetentionDays: 3650 });
    expect(ofType(plan, T.plan)).toEqual([]);
    expect(ofType(plan, T.restorePlan)).toEqual([]);
  });

  it("once its region is active, backs up its own resources and copies them back to the primary region's vault", async () => {
    const plan = await evaluateStandby({ activeRegion: "eu-central-1" }, DR_RESOURCES);
    expect(ofType(plan, T.selection).flatMap((s) => s.inputs.resources).sort()).toEqual(DR_RESOURCES().flatMap((g) => g.arns).sort());
    expect(ruleOf(plan, "dynamodb", "daily").copyActions[0].destinationVaultArn).toBe(`arn:aws:backup:eu-west-1:${MOCK_ACCOUNT_ID}:backup-vault:dp-prod-vault`);
    expect(ofType(plan, T.restoreSelection).map((s) => s.inputs.protectedResourceType).sort()).toEqual(["DynamoDB", "S3"]);
  });

  it("in a DR account, pins its provider to it and lets the primary account copy in", async () => {
    const plan = await evaluateStandby({}, DR_RESOURCES, DR_ACCOUNT);
    expect(JSON.parse(single(plan, T.provider).inputs.allowedAccountIds)).toEqual([DR_ACCOUNT]);
    const copiesIn = statementsOf(single(plan, T.vaultPolicy)).find((s) => s.Sid === "PartnerAccountCopiesIn");
    expect(copiesIn.Principal).toEqual({ AWS: [`arn:aws:iam::${MOCK_ACCOUNT_ID}:root`] });
    expect(single(plan, T.grant).inputs.granteePrincipal).toBe(`arn:aws:iam::${MOCK_ACCOUNT_ID}:root`);
  });
});

describe("backup rules", () => {
  const settings = { dailyRetentionDays: 35, longTermSchedule: "weekly" as const, longTermRetentionDays: 180, coldStorageAfterDays: 60, continuousRetentionDays: 14, hourlyRetentionDays: 2 };

  it("follow each kind's capabilities", () => {
    const names = (kind: ProtectedKind) => backupRulesFor(kind, settings, "vault").map((rule) => rule.ruleName);
    expect(names("aurora")).toEqual(["continuous", "daily", "weekly"]);
    expect(names("s3")).toEqual(["continuous", "daily", "weekly"]);
    expect(names("dynamodb")).toEqual(["daily", "weekly"]);
    expect(names("redshift")).toEqual(["hourly", "daily", "weekly"]);
    expect(backupRulesFor("dynamodb", settings, "vault")[1].schedule).toBe("cron(0 1 ? * SUN *)");
  });

  it("refuse what AWS Backup would", () => {
    expect(backupRuleProblems(settings)).toEqual([]);
    expect(backupRuleProblems({ ...settings, continuousRetentionDays: 36 })).toEqual([expect.stringMatching(/1-35 days/)]);
    expect(backupRuleProblems({ ...settings, coldStorageAfterDays: 100 })).toEqual([expect.stringMatching(/at least 190/)]);
    expect(backupRuleProblems({ ...settings, startHourUtc: 24 })).toEqual([expect.stringMatching(/0 to 23/)]);
  });
});

describe("the policy pack and the plan on the evaluated graph", () => {
  const context = (settings: Record<string, unknown> = {}) => ({ settings, stackTags: new Map([["pulumi:project", "data-platform"]]) });

  it("finds a stateful resource whose selection is gone", async () => {
    const plan = await committedStack("prod");
    const withoutTableSelection = subjectsOf(plan, "outputs").filter((s) => !s.name.endsWith("-backup-dynamodb-selection"));
    const findings: RawFinding[] = [];
    await runStackPolicy(backupSelectionCoverage, withoutTableSelection, context(), (f) => findings.push(f));
    // Both tables of the stack: the speed layer and the DR promotion journal.
    expect(findings.map((f) => f.message)).toEqual([
      expect.stringMatching(/^Table dp-prod-dr-control-promotions is in no AWS Backup selection/),
      expect.stringMatching(/^Table dp-prod-ingestion-speed-layer is in no AWS Backup selection/),
    ]);
    const complete: RawFinding[] = [];
    await runStackPolicy(backupSelectionCoverage, subjectsOf(plan, "outputs"), context(), (f) => complete.push(f));
    expect(complete).toEqual([]);
  });

  it("finds dev's unpinned provider, and no unpinned provider in prod", async () => {
    const findingsFor = async (plan: StackEvaluation) => {
      const findings: RawFinding[] = [];
      for (const subject of subjectsOf(plan, "inputs").filter((s) => s.type === T.provider)) await runResourcePolicy(providerPinnedToAccount, subject, context(), (f) => findings.push(f));
      return findings.map((f) => f.message);
    };
    expect(await findingsFor(await committedStack("dev"))).toEqual(["Provider dp-dev-primary is not pinned to an account (no allowedAccountIds)."]);
    expect(await findingsFor(await committedStack("prod"))).toEqual([]);
  });

  it("prints the account and region each provider targets", async () => {
    expect(renderProviderTargets(providerTargets(await committedStack("prod")))).toEqual([
      `  dp-prod-primary: region eu-west-1, account ${MOCK_ACCOUNT_ID}`,
      `  dp-prod-dr: region eu-central-1, account ${MOCK_ACCOUNT_ID}`,
    ]);
    expect(renderProviderTargets(providerTargets(await committedStack("dev")))).toEqual(["  dp-dev-primary: region eu-west-1, account NOT PINNED (any credentials)"]);
    expect(graphDocument(await committedStack("prod")).providers).toEqual([
      { name: "dp-prod-primary", region: "eu-west-1", accounts: [MOCK_ACCOUNT_ID] },
      { name: "dp-prod-dr", region: "eu-central-1", accounts: [MOCK_ACCOUNT_ID] },
    ]);
  });
});
