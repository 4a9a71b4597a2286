/**
 * Where a stack of a stage lives and which region is active, derived from the config
 * alone: both stacks of a stage (primary and DR) carry the same primaryRegion and
 * drRegion, and stackRole says which of the two is this stack's home.
 */
import { StageConfig } from "./schema";

type RegionKeys = Pick<StageConfig, "stackRole" | "primaryRegion" | "drRegion" | "activeRegion">;

/** The region this stack deploys into. */
export function homeRegion(config: RegionKeys): string {
  return config.stackRole === "dr" ? config.drRegion : config.primaryRegion;
}

/** The other region of the stage: where the partner stack lives ("" without DR). */
export function partnerRegion(config: RegionKeys): string {
  return config.stackRole === "dr" ? config.primaryRegion : config.drRegion;
}

/** The region that takes writes and runs consumers; "" in the config means the primary region. */
export function activeRegionOf(config: RegionKeys): string {
  return config.activeRegion === "" ? config.primaryRegion : config.activeRegion;
}

/** Whether this stack's region is the active one (its consumers and lake triggers run). */
export function isActiveStack(config: RegionKeys): boolean {
  return activeRegionOf(config) === homeRegion(config);
}

/**
 * The partner stack's fully qualified name: the configured one, or the convention
 * "<organization>/<project>/<stage>-dr" for a primary and ".../<stage>" for a DR stack.
 */
export function partnerStackName(config: Pick<StageConfig, "partnerStack" | "stackRole" | "stage">, organization: string, project: string): string {
  if (config.partnerStack !== "") return config.partnerStack;
  const stack = config.stackRole === "dr" ? config.stage : `${config.stage}-dr`;
  return `${organization}/${project}/${stack}`;
}

/** The short name of a stack (its stack file's middle part): the last segment of "organization/project/stack". */
export function shortStackName(stack: string): string {
  return stack.split("/").pop() ?? stack;
}
