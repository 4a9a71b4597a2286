/**
 * The only composer: one composition per stack role. A primary stack builds the platform
 * in primaryRegion; a DR stack (stackRole dr) builds its standby in drRegion.
 */
import { StageConfig } from "../config";
import { defineDrStandby } from "./dr";
import { definePrimary } from "./primary";

export function definePlatform(config: StageConfig): Promise<Record<string, unknown>> {
  return config.stackRole === "dr" ? defineDrStandby(config) : definePrimary(config);
}
