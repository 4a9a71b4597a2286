/**
 * The explicit AWS providers. Stack files set `pulumi:disable-default-providers: [aws]`,
 * so every resource names one of these: ambient AWS_REGION settings are never used, and
 * every provider carries the platform's default tags.
 */
import * as aws from "@pulumi/aws";
import { StageConfig } from "../config";
import { platformTags } from "../components/lib/naming";

/** A provider for one region of the stage, tagged like every other. */
export function regionProvider(name: string, config: StageConfig, region: string): aws.Provider {
  return new aws.Provider(name, {
    region: region as aws.Region,
    defaultTags: { tags: platformTags(config) },
  });
}
