/**
 * The account-guard and AWS Backup config keys: what validation refuses (each refusal is
 * an account AWS or the providers would reject, or a backup job AWS Backup would fail),
 * the account each region lives in, and the guard each provider gets.
 */
import { CONFIG_NAMESPACE, StageConfig, StageConfigError, accountOfArn, homeAccount, isCrossAccountDr, partnerAccount, validateStageConfig } from "../config";
import { accountGuardOf } from "../platform/providers";
import { ConfigOverrides, prodAsDrSide, stackConfigWith } from "./support/stack";

const PRIMARY = "123456789012";
const DR = "210987654321";
const role = (account: string, name = "pulumi-deploy") => `arn:aws:iam::${account}:role/${name}`;

/** prod's file read as its DR side takes what the DR stack's file sets differently (prodAsDrSide). */
function validate(stack: string, overrides: ConfigOverrides): StageConfig {
  const asDr = overrides.stackRole === "dr" ? prodAsDrSide() : {};
  return validateStageConfig(stackConfigWith(stack, { ...asDr, ...overrides }), `Pulumi.${stack}.yaml`);
}

function refusal(stack: string, overrides: ConfigOverrides): StageConfigError {
  try {
    validate(stack, overrides);
  } catch (error) {
    if (error instanceof StageConfigError) return error;
    throw error;
  }
  throw new Error("expected the config to be refused");
}

describe("account guard keys", () => {
  it.each([
    ["a prod stack without accountId", "prod", { accountId: undefined }, "accountId", "when protectStatefulResources is true"],
    ["an account id that is not 12 digits", "prod", { accountId: "12345" }, "accountId", "a 12-digit AWS account id"],
    ["a malformed role ARN", "prod", { deployRoleArn: "arn:aws:iam::1234:user/deploy" }, "deployRoleArn", "an IAM role ARN"],
    ["a role ARN that is just a name", "prod", { deployRoleArn: "pulumi-deploy" }, "deployRoleArn", "an IAM role ARN"],
    ["a deploy role in another account", "prod", { deployRoleArn: role(DR) }, "deployRoleArn", `a role in account ${PRIMARY}`],
    ["a deploy role without an account to pin", "dev", { deployRoleArn: role(PRIMARY) }, "accountId", "when deployRoleArn is set"],
    ["an external id without a role", "prod", { deployRoleExternalId: "prod-7f3a" }, "deployRoleExternalId", "unless deployRoleArn is set"],
    ["a DR account equal to the primary one", "prod", { drAccountId: PRIMARY }, "drAccountId", "cross-account vault policies, KMS grants and replication ownership naming one account"],
    ["a DR account without DR", "dev", { drAccountId: DR, accountId: PRIMARY }, "drAccountId", "unless drEnabled is true"],
    ["a DR account without a primary account", "prod", { drAccountId: DR, accountId: undefined, protectStatefulResources: false }, "accountId", "when drAccountId is set"],
    ["a DR region in another account while the stage replicates its stores there", "prod", { drAccountId: DR }, "drAccountId", "must all be in the primary's account"],
    ["a break-glass role of another account", "prod", { backupBreakGlassRoleArn: role(DR, "break-glass") }, "backupBreakGlassRoleArn", `a role in account ${PRIMARY}`],
  ])("refuses %s", (_label, stack, overrides, key, allowed) => {
    const error = refusal(stack, overrides as ConfigOverrides);
    expect(error.problems).toContainEqual(expect.objectContaining({ key: `${CONFIG_NAMESPACE}:${key}`, allowed: expect.stringContaining(allowed) }));
  });

  it("accepts a deploy role with an external id, and refuses a DR stack's role in another account than the stack's", () => {
    expect(validate("prod", { deployRoleArn: role(PRIMARY), deployRoleExternalId: "prod-7f3a" }).deployRoleArn).toBe(role(PRIMARY));
    expect(refusal("prod", { stackRole: "dr", drAccountId: DR, deployRoleArn: role(PRIMARY) }).message).toContain(`a role in account ${DR}`);
  });

  it("derives each side's account from the config alone", () => {
    const sameAccount = validate("prod", {});
    expect([homeAccount(sameAccount), partnerAccount(sameAccount), isCrossAccountDr(sameAccount)]).toEqual([PRIMARY, PRIMARY, false]);
    // Set after validation: the stage config refuses drAccountId while the DR stores need one account.
    const primary = { ...validate("prod", {}), drAccountId: DR };
    expect([homeAccount(primary), partnerAccount(primary), isCrossAccountDr(primary)]).toEqual([PRIMARY, DR, true]);
    const drStack = { ...validate("prod", { stackRole: "dr" }), drAccountId: DR };
    expect([homeAccount(drStack), partnerAccount(drStack)]).toEqual([DR, PRIMARY]);
    expect(accountOfArn(role(DR))).toBe(DR);
    expect(accountOfArn("pulumi-deploy")).toBeUndefined();
  });

  it("pins a provider to its region's account and assumes the deploy role only in that account", () => {
    const config = { ...validate("prod", { stackRole: "dr" }), drAccountId: DR, deployRoleArn: role(DR), deployRoleExternalId: "dr-1" };
    expect(accountGuardOf(config, "eu-central-1")).toEqual({ accountId: DR, role: { arn: role(DR), externalId: "dr-1", sessionName: "dp-prod-deploy" } });
    // A provider toward the other account gets no role: the account pin then refuses the wrong credentials.
    expect(accountGuardOf(config, "eu-west-1")).toEqual({ accountId: PRIMARY, role: undefined });
    expect(accountGuardOf(validate("dev", {}), "eu-west-1")).toEqual({ accountId: undefined, role: undefined });
  });
});

describe("AWS Backup keys", () => {
  it.each([
    ["lake buckets in AWS Backup without versioning", "dev", { backupLakeBuckets: true }, "backupLakeBuckets", "versioned buckets only"],
    ["copies without a DR region", "dev", { backupCopyToDr: true }, "backupCopyToDr", "unless drEnabled is true"],
    ["cold storage for less than 90 days", "prod", { backupLongTermRetentionDays: 120 }, "backupLongTermRetentionDays", "at least backupColdStorageAfterDays + 90 (180)"],
    ["a lock minimum above its maximum", "prod", { backupVaultLockMinRetentionDays: 4000 }, "backupVaultLockMinRetentionDays", "at most backupVaultLockMaxRetentionDays (3650)"],
    ["hourly snapshots shorter than the lock's minimum", "prod", { backupHourlyRetentionDays: 1 }, "backupHourlyRetentionDays", 'from 2 to 3650 days while backupVaultLock is "governance"'],
    ["copies kept longer than the lock's maximum", "prod", { backupCopyRetentionDays: 4000 }, "backupCopyRetentionDays", "from 2 to 3650 days"],
    ["continuous backups shorter than a compliance lock's minimum", "prod", { backupVaultLock: "compliance", backupVaultLockMinRetentionDays: 20 }, "backupRetentionDays", 'while backupVaultLock is "compliance"'],
    ["an AWS Backup start hour inside the RDS backup window", "prod", { backupStartHourUtc: 3 }, "backupStartHourUtc", "outside preferredBackupWindow 03:00-04:00"],
    ["a start hour meeting a window that wraps past midnight", "prod", { preferredBackupWindow: "23:30-00:30", backupStartHourUtc: 0 }, "backupStartHourUtc", "outside preferredBackupWindow"],
    ["a restore testing schedule that is not cron", "prod", { restoreTestingSchedule: "weekly" }, "restoreTestingSchedule", "an AWS cron expression"],
  ])("refuses %s", (_label, stack, overrides, key, allowed) => {
    const error = refusal(stack, overrides as ConfigOverrides);
    expect(error.problems).toContainEqual(expect.objectContaining({ key: `${CONFIG_NAMESPACE}:${key}`, allowed: expect.stringContaining(allowed) }));
  });

  it("accepts what a locked vault can hold, and retention it does not govern when unlocked", () => {
    expect(validate("prod", { backupStartHourUtc: 2 }).backupStartHourUtc).toBe(2);
    expect(validate("prod", { backupHourlyRetentionDays: 0 }).backupHourlyRetentionDays).toBe(0);
    expect(validate("dev", { backupDailyRetentionDays: 1 }).backupVaultLock).toBe("none");
  });
});
