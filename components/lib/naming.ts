import { StageConfig } from "../../config";

/** Stage-qualified prefix for logical (and so physical) names, e.g. "dp-prod". */
export function stagePrefix(config: Pick<StageConfig, "namePrefix" | "stage">): string {
  return `${config.namePrefix}-${config.stage}`;
}

/** Tags every resource gets through the providers' defaultTags. */
export function platformTags(config: Pick<StageConfig, "namePrefix" | "stage" | "owner" | "costCentre">): Record<string, string> {
  return {
    Project: "aws-data-platform",
    Stage: config.stage,
    Owner: config.owner,
    CostCentre: config.costCentre,
    ManagedBy: "pulumi",
    NamePrefix: stagePrefix(config),
  };
}
