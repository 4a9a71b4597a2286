/** The DR composition: the standby of a stage in drRegion. */
import * as pulumi from "@pulumi/pulumi";
import { StageConfig } from "../config";

export async function defineDrStandby(config: StageConfig): Promise<Record<string, unknown>> {
  throw new pulumi.RunError(`The DR composition for stage ${config.stage} is under construction`);
}
