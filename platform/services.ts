/**
 * The ECS services of issue 11: one cluster, an image per service built at deploy time
 * into its own ECR repository, the aggregator (lake events → Aurora's reporting schema)
 * and the client API (API Gateway → VPC link → internal ALB → Fargate). Both stacks of a
 * stage declare them, so the DR side is promotable while the primary is down; the
 * aggregator is a consumer and runs only in the active region (0 tasks on the passive
 * side, the configured bounds once dr:promote makes its region active).
 */
import * as aws from "@pulumi/aws";
import * as path from "path";
import { StageConfig, isActiveStack } from "../config";
import { REPORTING_READER } from "../services/shared/reporting-schema";
import { AggregatorService, AggregatorServiceArgs } from "../components/services/aggregator-service";
import { ClientApiAuthorization, ClientApiService, ClientApiServiceArgs } from "../components/services/client-api-service";
import { ServiceImage } from "../components/services/service-image";
import { ServicesCluster } from "../components/services/services-cluster";
import { ScalingBounds } from "../components/lib/fargate";
import { PlatformContext } from "./context";
import { DataPath } from "./data-path";
import { ReportingEndpoints, Stores } from "./stores";

/** The images' build context: the repository root (the bundles import functions/). */
export const SERVICES_BUILD_CONTEXT = path.resolve(__dirname, "..");

export interface Services {
  readonly cluster: ServicesCluster;
  readonly aggregator: AggregatorService;
  readonly clientApi: ClientApiService;
  readonly outputs: Record<string, unknown>;
}

/** The aggregator consumes events: only the active region runs it (as the data path's consumers). */
export function aggregatorBounds(config: StageConfig): ScalingBounds {
  return isActiveStack(config) ? { minTasks: config.aggregatorMinTasks, maxTasks: config.aggregatorMaxTasks } : { minTasks: 0, maxTasks: 0 };
}

export function clientApiAuthorization(config: StageConfig): ClientApiAuthorization {
  return config.clientApiAuth === "JWT"
    ? { mode: "JWT", issuer: config.clientApiJwtIssuer, audiences: [...config.clientApiJwtAudience] }
    : { mode: "AWS_IAM" };
}

/** `https://abc.execute-api.eu-west-1.amazonaws.com` → its host name (a CloudFront origin takes a name, not a URL). */
export function hostOfUrl(url: string): string {
  return new URL(url).hostname;
}

/**
 * The stores as the rest of the stack sees them once the services exist: the client API
 * serves the reports (the cache layer then declares no Lambda reporting API), and its
 * unauthenticated `GET /api/health` (which queries the reporting endpoint) is what
 * dr:promote verifies a promoted region with.
 */
export function withServiceReporting(stores: Stores, services: Services | undefined): Stores {
  if (!services) return stores;
  const reporting: ReportingEndpoints = { apiUrl: services.clientApi.url, healthUrl: services.clientApi.url.apply((url) => `${url}/health`) };
  return { ...stores, reporting };
}

export function defineServices(context: PlatformContext, dataPath: DataPath, stores: Stores): Services {
  const { config, network, keys, prefix, region } = context;
  const opts = context.componentOpts;
  const identity = aws.getCallerIdentityOutput({}, { provider: context.homeProvider });
  const placement = {
    vpcId: network.vpcId,
    subnetIds: network.privateSubnetIds,
    endpoints: { securityGroupId: network.securityGroups.endpoints.id, s3PrefixListId: network.gatewayEndpoints.s3.prefixListId },
    dataKeyArn: keys.dataKeyArn,
    logsKeyArn: keys.logsKeyArn,
    logRetentionDays: config.logRetentionDays,
    region,
    accountId: identity.accountId,
    cpuArchitecture: config.serviceCpuArchitecture,
  };
  const image = (service: string) => new ServiceImage(`${prefix}-${service}`, {
    service,
    contextDir: SERVICES_BUILD_CONTEXT,
    kmsKeyArn: keys.dataKeyArn,
    cpuArchitecture: config.serviceCpuArchitecture,
    forceDelete: !config.protectStatefulResources,
    protect: config.protectStatefulResources,
  }, opts);
  const cluster = new ServicesCluster(`${prefix}-services`, {}, opts);
  const clusterRef = { arn: cluster.arn, name: cluster.name };
  const aggregatorImage = image("aggregator");
  const clientApiImage = image("client-api");
  const database = stores.reportingDatabase;

  const aggregatorArgs: AggregatorServiceArgs = {
    ...placement,
    cluster: clusterRef,
    image: { ref: aggregatorImage.imageRef, repositoryArn: aggregatorImage.repositoryArn },
    lakeEventsTopicArn: dataPath.lakeEventsTopicArn,
    stagedBucket: dataPath.stagedBucket,
    database: {
      host: stores.oltp.endpoint,
      port: stores.oltp.port,
      name: database.name,
      secretArn: database.secretArn,
      securityGroupId: network.securityGroups.database.id,
    },
    scaling: { ...aggregatorBounds(config), backlogPerTask: config.aggregatorBacklogPerTask },
    cpu: config.aggregatorCpu,
    memoryMb: config.aggregatorMemoryMb,
    maxReceiveCount: config.sqsMaxReceiveCount,
    protect: config.protectStatefulResources,
    alarmTopicArn: context.alarmTopicArn,
  };
  const aggregator = new AggregatorService(`${prefix}-aggregator`, aggregatorArgs, opts);

  const clientApiArgs: ClientApiServiceArgs = {
    ...placement,
    cluster: clusterRef,
    image: { ref: clientApiImage.imageRef, repositoryArn: clientApiImage.repositoryArn },
    database: {
      host: database.host,
      port: database.port,
      name: database.name,
      user: REPORTING_READER,
      clusterResourceId: stores.oltp.clusterResourceId,
      securityGroupId: network.securityGroups.database.id,
    },
    cache: {
      host: stores.cache.primaryEndpoint,
      port: stores.cache.port,
      authTokenSecretArn: stores.cache.authTokenSecretArn,
      securityGroupId: network.securityGroups.cache.id,
    },
    pipelineQueues: [
      { name: "aggregator-dlq", url: aggregator.deadLetterQueue.url, arn: aggregator.deadLetterQueue.arn },
      { name: "ingest-dlq", url: dataPath.ingestion.ingestDlq.url, arn: dataPath.ingestion.ingestDlq.arn },
    ],
    authorization: clientApiAuthorization(config),
    tls: config.clientApiCertificateArn === "" ? undefined : { certificateArn: config.clientApiCertificateArn, serverName: config.clientApiServerName },
    throttle: { rateLimit: config.clientApiThrottleRate, burstLimit: config.clientApiThrottleBurst },
    scaling: { minTasks: config.clientApiMinTasks, maxTasks: config.clientApiMaxTasks, requestsPerTarget: config.clientApiRequestsPerTarget },
    cpu: config.clientApiCpu,
    memoryMb: config.clientApiMemoryMb,
    deletionProtection: config.deletionProtection,
    forceDestroy: !config.protectStatefulResources,
  };
  const clientApi = new ClientApiService(`${prefix}-client-api`, clientApiArgs, opts);

  return {
    cluster,
    aggregator,
    clientApi,
    outputs: {
      servicesClusterName: cluster.name,
      aggregatorQueueUrl: aggregator.queueUrl,
      aggregatorDeadLetterQueueUrl: aggregator.deadLetterQueueUrl,
      aggregatorImage: aggregatorImage.imageRef,
      clientApiImage: clientApiImage.imageRef,
      // For the dashboard's CloudFront /api/* behaviour: the HTTP API is its origin.
      clientApiUrl: clientApi.url,
      clientApiEndpoint: clientApi.apiEndpoint,
      clientApiHttpApiId: clientApi.apiId,
      clientApiAlbDnsName: clientApi.loadBalancerDnsName,
    },
  };
}
