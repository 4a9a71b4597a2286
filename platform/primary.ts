/**
 * The primary composition: the whole platform in primaryRegion. Every stage difference
 * arrives through StageConfig; nothing here looks at the stack name.
 */
import { StageConfig } from "../config";
import { Alerting } from "../components/foundation/alerting";
import { PlatformKeys } from "../components/foundation/keys";
import { Network } from "../components/foundation/network";
import { stagePrefix } from "../components/lib/naming";
import { defineBackups } from "./backups";
import { PlatformContext } from "./context";
import { defineDataPath } from "./data-path";
import { regionProvider } from "./providers";
import { defineStores } from "./stores";

export async function definePrimary(config: StageConfig): Promise<Record<string, unknown>> {
  const prefix = stagePrefix(config);
  const homeProvider = regionProvider(`${prefix}-primary`, config, config.primaryRegion);
  const componentOpts = { providers: [homeProvider] };

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
    region: config.primaryRegion,
    homeProvider,
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
    stackRole: config.stackRole,
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
    ...defineBackups(context, dataPath, stores).outputs,
  };
}
