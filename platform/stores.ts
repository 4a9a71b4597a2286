import { DataPath } from "./data-path";
import { PlatformContext } from "./index";

/** The stateful stores: OltpDatabase, AnalyticsWarehouse and CacheLayer (issue 4 fills this in). */
export interface Stores {
  readonly outputs: Record<string, unknown>;
}

export function defineStores(_context: PlatformContext, _dataPath: DataPath): Stores {
  return { outputs: {} };
}
