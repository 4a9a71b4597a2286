/**
 * Composes the platform for one stage from its validated config. Every stage
 * difference arrives through StageConfig; nothing here looks at the stack name.
 */
import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import { StageConfig } from "../config";
import { Alerting } from "../components/alerting";
import { PlatformKeys } from "../components/keys";
import { Network } from "../components/network";
import { platformTags, stagePrefix } from "../components/lib/naming";
import { defineDataPath } from "./data-path";
import { defineStores } from "./stores";

/** What every component wiring step gets: the config and the shared foundations. */
export interface PlatformContext {
  readonly config: StageConfig;
  /** Stage-qualified name prefix, e.g. "dp-prod". */
  readonly prefix: string;
  readonly primaryProvider: aws.Provider;
  /** Options for top-level components: they and their children use the primary provider. */
  readonly componentOpts: pulumi.ComponentResourceOptions;
  readonly keys: PlatformKeys;
  readonly network: Network;
  readonly alerting: Alerting;
  /** Set only when the stage enables alarms; components create alarms only then. */
  readonly alarmTopicArn?: pulumi.Output<string>;
}

export function definePlatform(config: StageConfig): Record<string, unknown> {
  const prefix = stagePrefix(config);
  const primaryProvider = new aws.Provider(`${prefix}-primary`, {
    region: config.primaryRegion as aws.Region,
    defaultTags: { tags: platformTags(config) },
  });
  const componentOpts: pulumi.ComponentResourceOptions = { providers: [primaryProvider] };

  const keys = new PlatformKeys(`${prefix}-keys`, {
    multiRegion: config.kmsMultiRegion,
    deletionWindowInDays: config.deletionProtection ? 30 : 7,
    protect: config.protectStatefulResources,
  }, componentOpts);
  const network = new Network(`${prefix}-network`, {
    region: config.primaryRegion,
    cidrBlock: config.vpcCidr,
    azCount: config.azCount,
    natGatewayStrategy: config.natGatewayStrategy,
    logsKeyArn: keys.logsKeyArn,
    flowLogRetentionDays: config.logRetentionDays,
  }, componentOpts);
  const alerting = new Alerting(`${prefix}-alerting`, {
    dataKeyArn: keys.dataKeyArn,
    emails: config.alarmEmails,
    monthlyBudgetUsd: config.monthlyBudgetUsd,
    budgetTag: ["Stage", config.stage],
  }, componentOpts);

  const context: PlatformContext = {
    config,
    prefix,
    primaryProvider,
    componentOpts,
    keys,
    network,
    alerting,
    alarmTopicArn: config.alarmsEnabled ? alerting.topicArn : undefined,
  };
  const dataPath = defineDataPath(context);
  const stores = defineStores(context, dataPath);

  return {
    stage: config.stage,
    primaryRegion: config.primaryRegion,
    ...(config.drEnabled ? { drRegion: config.drRegion } : {}),
    vpcId: network.vpcId,
    publicSubnetIds: network.publicSubnetIds,
    privateSubnetIds: network.privateSubnetIds,
    isolatedSubnetIds: network.isolatedSubnetIds,
    securityGroupIds: network.securityGroupIds,
    dataKeyArn: keys.dataKeyArn,
    logsKeyArn: keys.logsKeyArn,
    alarmTopicArn: alerting.topicArn,
    ...dataPath.outputs,
    ...stores.outputs,
  };
}
