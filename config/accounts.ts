/**
 * Which AWS account each region of a stage lives in, derived from the config alone:
 * both stacks of a stage carry the same accountId and drAccountId, and stackRole
 * (through homeRegion) says which of the two is this stack's.
 */
import { homeRegion, partnerRegion } from "./regions";
import { StageConfig } from "./schema";

type AccountKeys = Pick<StageConfig, "stackRole" | "primaryRegion" | "drRegion" | "activeRegion" | "accountId" | "drAccountId">;

/** The account of drRegion: drAccountId, or accountId when DR stays in one account ("" when neither is set). */
export function drAccount(config: Pick<StageConfig, "accountId" | "drAccountId">): string {
  return config.drAccountId !== "" ? config.drAccountId : config.accountId;
}

/** The account a region of the stage lives in ("" when the config does not say). */
export function accountOfRegion(config: AccountKeys, region: string): string {
  return region === config.drRegion && config.drRegion !== "" ? drAccount(config) : config.accountId;
}

/** The account this stack deploys into. */
export function homeAccount(config: AccountKeys): string {
  return accountOfRegion(config, homeRegion(config));
}

/** The account of the other stack of the stage. */
export function partnerAccount(config: AccountKeys): string {
  return accountOfRegion(config, partnerRegion(config));
}

/** Whether the two regions of the stage live in different accounts. */
export function isCrossAccountDr(config: Pick<StageConfig, "accountId" | "drAccountId">): boolean {
  return config.drAccountId !== "" && config.drAccountId !== config.accountId;
}

/** "arn:aws:iam::123456789012:role/x" -> "123456789012" (undefined for anything else). */
export function accountOfArn(arn: string): string | undefined {
  return /^arn:[a-z-]+:[a-z0-9-]+:[a-z0-9-]*:(\d{12}):/.exec(arn)?.[1];
}
