import { PlatformContext } from "./index";

/** The streaming and batch data path: IngestionLayer and DataLake (issue 3 fills this in). */
export interface DataPath {
  readonly outputs: Record<string, unknown>;
}

export function defineDataPath(_context: PlatformContext): DataPath {
  return { outputs: {} };
}
