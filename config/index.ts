import * as pulumi from "@pulumi/pulumi";
import { StageConfig } from "./schema";
import { validateStageConfig } from "./validate";

export * from "./schema";
export { IngestSourceConfig, MAX_INGEST_SOURCES } from "./ingest-sources";
export * from "./regions";
export * from "./accounts";
export { ConfigProblem, StageConfigError, formatProblems, validateStageConfig } from "./validate";

/** The stack file Pulumi read the current stack's config from. */
export function currentStackFile(): string {
  return `Pulumi.${pulumi.getStack()}.yaml`;
}

/** Reads and validates the current stack's config; throws StageConfigError before any resource exists. */
export function loadStageConfig(): StageConfig {
  return validateStageConfig(pulumi.runtime.allConfig(), currentStackFile());
}
