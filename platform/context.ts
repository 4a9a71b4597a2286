/** What every wiring step of a composition gets: the config and the stack's shared foundations. */
import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import { StageConfig } from "../config";
import { Alerting } from "../components/foundation/alerting";
import { Network } from "../components/foundation/network";

/** The stage's customer keys as this stack's region sees them: its own keys, or replicas of the primary's. */
export interface PlatformKeyArns {
  readonly dataKeyArn: pulumi.Output<string>;
  readonly logsKeyArn: pulumi.Output<string>;
}

export interface PlatformContext {
  readonly config: StageConfig;
  /** Stage-qualified name prefix, e.g. "dp-prod". */
  readonly prefix: string;
  /** The region this stack deploys into (primaryRegion, or drRegion for a DR stack). */
  readonly region: string;
  /** The provider every resource of this stack's region uses. */
  readonly homeProvider: aws.Provider;
  /** Options for top-level components: they and their children use the home provider. */
  readonly componentOpts: pulumi.ComponentResourceOptions;
  readonly keys: PlatformKeyArns;
  readonly network: Network;
  readonly alerting: Alerting;
  /** Set only when the stage enables alarms; components create alarms only then. */
  readonly alarmTopicArn?: pulumi.Output<string>;
}
