/**
 * The explicit AWS providers. Stack files set `pulumi:disable-default-providers: [aws]`,
 * so every resource names one of these: ambient AWS_REGION settings are never used, and
 * every provider carries the platform's default tags. Each is also pinned to the account
 * its region lives in (allowedAccountIds), so credentials for the wrong account fail
 * before anything changes, and assumes the stage's deploy role when one is configured.
 */
import * as aws from "@pulumi/aws";
import { StageConfig, accountOfArn, accountOfRegion } from "../config";
import { platformTags, stagePrefix } from "../components/lib/naming";

export interface DeployRole {
  readonly arn: string;
  readonly externalId?: string;
  readonly sessionName: string;
}

/** Which account a provider may act in, and through which role. */
export interface AccountGuard {
  /** The only account the provider's credentials may belong to; undefined leaves it unpinned. */
  readonly accountId?: string;
  /** Assumed before any call; its account must be accountId. */
  readonly role?: DeployRole;
}

/**
 * The guard for a provider in `region`: pinned to that region's account (accountId, or
 * drAccountId for drRegion), assuming deployRoleArn when the role lives in that account.
 * The deploy role belongs to this stack's account, so a provider for the other account of
 * a cross-account stage gets no role: it fails on the account pin unless the ambient
 * credentials already are that account's.
 */
export function accountGuardOf(config: StageConfig, region: string): AccountGuard {
  const accountId = accountOfRegion(config, region);
  const roleApplies = config.deployRoleArn !== "" && accountOfArn(config.deployRoleArn) === accountId;
  return {
    accountId: accountId === "" ? undefined : accountId,
    role: roleApplies
      ? {
          arn: config.deployRoleArn,
          externalId: config.deployRoleExternalId === "" ? undefined : config.deployRoleExternalId,
          sessionName: `${stagePrefix(config)}-deploy`,
        }
      : undefined,
  };
}

/** A provider for one region of the stage, tagged like every other and held to `guard`. */
export function regionProvider(name: string, config: StageConfig, region: string, guard: AccountGuard = accountGuardOf(config, region)): aws.Provider {
  return new aws.Provider(name, {
    region: region as aws.Region,
    defaultTags: { tags: platformTags(config) },
    allowedAccountIds: guard.accountId === undefined ? undefined : [guard.accountId],
    assumeRoles: guard.role === undefined ? undefined : [{ roleArn: guard.role.arn, externalId: guard.role.externalId, sessionName: guard.role.sessionName }],
  });
}
