/**
 * What both compositions build first in their region: the network and the alerting,
 * around the stage's keys (the primary's own, or their replicas in the DR region).
 */
import * as aws from "@pulumi/aws";
import { StageConfig } from "../config";
import { Alerting, AlertingArgs } from "../components/foundation/alerting";
import { DEFAULT_INTERFACE_ENDPOINTS, Network } from "../components/foundation/network";
import { PlatformContext, PlatformKeyArns } from "./context";
import { DataPath } from "./data-path";
import { Stores } from "./stores";

export interface RegionFoundations {
  readonly config: StageConfig;
  readonly prefix: string;
  readonly region: string;
  readonly homeProvider: aws.Provider;
  readonly keys: PlatformKeyArns;
  /** Only the primary stack holds the stage's budget: its Stage tag covers both regions. */
  readonly budget?: AlertingArgs["budget"];
}

/**
 * Fargate tasks pull images (ECR API and registry) and ship logs (CloudWatch Logs) from the
 * private subnets: with the services, those APIs get interface endpoints like the others,
 * so the tasks' security groups allow HTTPS to the endpoints only, never to the internet.
 */
export function interfaceEndpointsFor(config: Pick<StageConfig, "servicesEnabled">): string[] {
  return config.servicesEnabled ? [...DEFAULT_INTERFACE_ENDPOINTS, "ecr.api", "ecr.dkr", "logs"] : [...DEFAULT_INTERFACE_ENDPOINTS];
}

export function defineFoundations(f: RegionFoundations): PlatformContext {
  const { config, prefix } = f;
  const componentOpts = { providers: [f.homeProvider] };
  const network = new Network(`${prefix}-network`, {
    region: f.region,
    cidrBlock: config.vpcCidr,
    azCount: config.azCount,
    natGatewayStrategy: config.natGatewayStrategy,
    interfaceEndpoints: interfaceEndpointsFor(config),
    logsKeyArn: f.keys.logsKeyArn,
    flowLogRetentionDays: config.logRetentionDays,
  }, componentOpts);
  const alerting = new Alerting(`${prefix}-alerting`, {
    dataKeyArn: f.keys.dataKeyArn,
    emails: config.alarmEmails,
    budget: f.budget,
  }, componentOpts);
  return {
    config,
    prefix,
    region: f.region,
    homeProvider: f.homeProvider,
    componentOpts,
    keys: f.keys,
    network,
    alerting,
    alarmTopicArn: config.alarmsEnabled ? alerting.topicArn : undefined,
  };
}

/** The outputs every stack exports, whatever its role. */
export function platformOutputs(context: PlatformContext, dataPath: DataPath, stores: Stores): Record<string, unknown> {
  const { config, network } = context;
  return {
    stage: config.stage,
    stackRole: config.stackRole,
    region: context.region,
    primaryRegion: config.primaryRegion,
    ...(config.drEnabled ? { drRegion: config.drRegion } : {}),
    vpcId: network.vpcId,
    publicSubnetIds: network.publicSubnetIds,
    privateSubnetIds: network.privateSubnetIds,
    isolatedSubnetIds: network.isolatedSubnetIds,
    securityGroupIds: network.securityGroupIds,
    dataKeyArn: context.keys.dataKeyArn,
    logsKeyArn: context.keys.logsKeyArn,
    alarmTopicArn: context.alerting.topicArn,
    ...dataPath.outputs,
    ...stores.outputs,
  };
}
