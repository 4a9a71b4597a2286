import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import {
  awsApiEgress,
  createFargateService,
  createFargateTask,
  createScalableTarget,
  createServiceSecurityGroup,
  decryptSecretsStatement,
  ecsScalingResourceId,
  FargateServicePlacement,
  fargateSizeProblem,
  HTTPS_PORT,
  LIVENESS_PATH,
  placedTaskArgs,
  ScalingBounds,
  scalingBoundsProblem,
  ServiceDatabase,
  StoreEndpoint,
} from "../lib/fargate";
import { createHardenedBucket } from "../lib/hardened-bucket";
import { allow } from "../lib/iam";

export const CLIENT_API_PORT = 8080;
/** TLS 1.3 with 1.2 as the floor: the ELB guide's recommended policy for HTTPS listeners. */
export const ALB_TLS_POLICY = "ELBSecurityPolicy-TLS13-1-2-2021-06";
/** Every path of the client API contract is under /api; /api/health answers unauthenticated (uptime checks). */
export const CLIENT_API_ROUTES = { proxy: "ANY /api/{proxy+}", health: "GET /api/health" } as const;

export type ClientApiAuthorization =
  | { mode: "JWT"; issuer: string; audiences: string[] }
  | { mode: "AWS_IAM" };

/** The reporting endpoint the API reads as the read-only role, with IAM database authentication. */
export interface ClientApiDatabase extends ServiceDatabase {
  /** The database role the API connects as (services/shared/reporting-schema.ts). */
  user: string;
  /** The cluster's resource id (cluster-…), which the rds-db:connect ARN names. */
  clusterResourceId: pulumi.Input<string>;
}

export interface ClientApiCache extends StoreEndpoint {
  /** The secret holding the AUTH token; the service reads it at run time (and again after an auth failure). */
  authTokenSecretArn: pulumi.Input<string>;
}

/** A queue whose depth /api/pipeline/health reports. */
export interface PipelineQueue {
  name: string;
  url: pulumi.Input<string>;
  arn: pulumi.Input<string>;
}

export interface ClientApiScaling extends ScalingBounds {
  /** ALB requests per target per minute that target tracking holds. */
  requestsPerTarget: number;
  /** Average CPU that a second target tracking policy holds. @default 60 */
  cpuPercent?: number;
}

export interface ClientApiServiceArgs extends FargateServicePlacement {
  database: ClientApiDatabase;
  cache: ClientApiCache;
  /** @default [] */
  pipelineQueues?: PipelineQueue[];
  authorization: ClientApiAuthorization;
  /** ACM certificate for an HTTPS listener, with the name API Gateway verifies on it. @default undefined (HTTP inside the VPC) */
  tls?: { certificateArn: string; serverName: string };
  /** Stage-wide API Gateway throttling. */
  throttle: { rateLimit: number; burstLimit: number };
  scaling: ClientApiScaling;
  /** Seconds the ALB keeps sending a deregistering target its open requests. @default 30 */
  deregistrationDelaySeconds?: number;
  /** Seconds between SIGTERM and SIGKILL for in-flight requests. @default 30 */
  stopTimeoutSeconds?: number;
  /** @default 300 */
  cacheTtlSeconds?: number;
  /** @default 3000 */
  statementTimeoutMs?: number;
  /** Days ALB access logs are kept. @default 90 */
  accessLogExpirationDays?: number;
  /** ALB deletion protection. @default true */
  deletionProtection?: boolean;
  /** Delete the access-log bucket with its objects on `pulumi destroy`. @default false */
  forceDestroy?: boolean;
}

/** Everything Fargate, ELB or API Gateway would refuse about these arguments, as sentences. */
export function clientApiServiceProblems(args: Pick<ClientApiServiceArgs, "scaling" | "cpu" | "memoryMb" | "authorization" | "tls" | "throttle" | "deregistrationDelaySeconds">): string[] {
  const problems: string[] = [];
  const size = fargateSizeProblem(args.cpu ?? 512, args.memoryMb ?? 1024);
  if (size) problems.push(size);
  const bounds = scalingBoundsProblem(args.scaling);
  if (bounds) problems.push(bounds);
  if (!(args.scaling.requestsPerTarget > 0)) problems.push(`requestsPerTarget must be above 0, got ${args.scaling.requestsPerTarget}`);
  if (args.authorization.mode === "JWT") {
    if (!/^https:\/\/\S+$/.test(args.authorization.issuer)) problems.push(`the JWT issuer must be an https URL, got "${args.authorization.issuer}"`);
    if (args.authorization.audiences.length === 0) problems.push("a JWT authorizer needs at least one audience");
  }
  if (args.tls && !/^arn:aws[a-z-]*:acm:[a-z0-9-]+:\d{12}:certificate\/[\w-]+$/.test(args.tls.certificateArn)) problems.push(`"${args.tls.certificateArn}" is not an ACM certificate ARN`);
  if (args.throttle.burstLimit < 0 || args.throttle.rateLimit <= 0) problems.push("throttling needs a rate above 0 and a burst of at least 0");
  const delay = args.deregistrationDelaySeconds ?? 30;
  if (!Number.isInteger(delay) || delay < 0 || delay > 3600) problems.push(`deregistrationDelaySeconds must be 0-3600, got ${delay}`);
  return problems;
}

/** The one database user the API may connect as, in IAM's rds-db:connect form. */
export function rdsConnectArn(region: string, accountId: pulumi.Input<string>, clusterResourceId: pulumi.Input<string>, user: string): pulumi.Output<string> {
  return pulumi.interpolate`arn:aws:rds-db:${region}:${accountId}:dbuser:${clusterResourceId}/${user}`;
}

/**
 * The bucket policy ALB access-log delivery needs: in regions opened before August 2022
 * (eu-west-1, eu-central-1 among them) the regional Elastic Load Balancing account writes
 * the logs, under the prefix and this account's id only.
 * https://docs.aws.amazon.com/elasticloadbalancing/latest/application/enable-access-logging.html
 */
function albLogDelivery(bucketArn: pulumi.Output<string>, elbAccountArn: pulumi.Input<string>, accountId: pulumi.Input<string>, prefix: string) {
  return pulumi.all([bucketArn, elbAccountArn, accountId]).apply(([arn, elb, account]) => ({
    Sid: "ElbDeliversAccessLogs",
    Effect: "Allow",
    Principal: { AWS: elb },
    Action: "s3:PutObject",
    Resource: `${arn}/${prefix}/AWSLogs/${account}/*`,
  }));
}

/**
 * The client API: a Fargate service behind an internal ALB in the private subnets,
 * reached only through API Gateway (HTTP API → VPC link → the ALB's listener), with
 * authorisation (JWT or IAM) and throttling at API Gateway, access logs on both. The
 * tasks connect to Aurora's reporting endpoint as the read-only role with IAM database
 * authentication, and to Redis with a token they read at run time.
 */
export class ClientApiService extends pulumi.ComponentResource {
  readonly service: aws.ecs.Service;
  readonly taskDefinition: aws.ecs.TaskDefinition;
  readonly loadBalancer: aws.lb.LoadBalancer;
  readonly listener: aws.lb.Listener;
  readonly targetGroup: aws.lb.TargetGroup;
  readonly api: aws.apigatewayv2.Api;
  readonly vpcLink: aws.apigatewayv2.VpcLink;
  readonly scalableTarget: aws.appautoscaling.Target;
  readonly securityGroups: { service: aws.ec2.SecurityGroup; loadBalancer: aws.ec2.SecurityGroup; vpcLink: aws.ec2.SecurityGroup };
  /** https://<api>.execute-api.<region>.amazonaws.com: the origin a CloudFront /api/* behaviour forwards to. */
  readonly apiEndpoint: pulumi.Output<string>;
  readonly apiId: pulumi.Output<string>;
  /** The API's base URL, `${apiEndpoint}/api`. */
  readonly url: pulumi.Output<string>;
  readonly loadBalancerDnsName: pulumi.Output<string>;
  readonly accessLogBucketName: pulumi.Output<string>;

  constructor(name: string, args: ClientApiServiceArgs, opts?: pulumi.ComponentResourceOptions) {
    super("dataplatform:services:ClientApiService", name, {}, opts);
    const problems = clientApiServiceProblems(args);
    if (problems.length > 0) throw new Error(`ClientApiService ${name} has invalid arguments:\n  - ${problems.join("\n  - ")}`);
    const listenerPort = args.tls ? HTTPS_PORT : 80;

    const serviceGroup = createServiceSecurityGroup(name, args.vpcId, `${name}: the client API tasks; admits its ALB only`, [
      { description: "Aurora reporting endpoint", port: 5432, toSecurityGroupId: args.database.securityGroupId },
      { description: "Redis", port: 6379, toSecurityGroupId: args.cache.securityGroupId },
      ...awsApiEgress(args.endpoints),
    ], { parent: this });
    const albGroup = createServiceSecurityGroup(`${name}-alb`, args.vpcId, `${name}: the internal ALB; admits the VPC link only`, [
      { description: "Client API tasks", port: CLIENT_API_PORT, toSecurityGroupId: serviceGroup.id },
    ], { parent: this });
    const vpcLinkGroup = createServiceSecurityGroup(`${name}-vpc-link`, args.vpcId, `${name}: API Gateway's VPC link; admits nothing`, [
      { description: "Internal ALB listener", port: listenerPort, toSecurityGroupId: albGroup.id },
    ], { parent: this });
    this.securityGroups = { service: serviceGroup, loadBalancer: albGroup, vpcLink: vpcLinkGroup };

    const accessLogs = this.accessLogBucket(name, args);
    this.accessLogBucketName = accessLogs.bucket.bucket;
    this.loadBalancer = new aws.lb.LoadBalancer(`${name}-alb`, {
      internal: true,
      loadBalancerType: "application",
      subnets: args.subnetIds,
      securityGroups: [albGroup.id],
      dropInvalidHeaderFields: true,
      enableDeletionProtection: args.deletionProtection ?? true,
      idleTimeout: 60,
      accessLogs: { bucket: accessLogs.bucket.bucket, prefix: "alb", enabled: true },
    }, { parent: this, dependsOn: [accessLogs.policy] });
    this.targetGroup = new aws.lb.TargetGroup(`${name}-targets`, {
      targetType: "ip",
      vpcId: args.vpcId,
      port: CLIENT_API_PORT,
      protocol: "HTTP",
      deregistrationDelay: args.deregistrationDelaySeconds ?? 30,
      healthCheck: { path: LIVENESS_PATH, protocol: "HTTP", matcher: "200", interval: 15, timeout: 5, healthyThreshold: 2, unhealthyThreshold: 3 },
    }, { parent: this });
    // TLS ends at the ALB: the tasks serve plain HTTP on 8080 and admit only the ALB's group.
    this.listener = new aws.lb.Listener(`${name}-listener`, {
      loadBalancerArn: this.loadBalancer.arn,
      port: listenerPort,
      ...(args.tls ? { protocol: "HTTPS", sslPolicy: ALB_TLS_POLICY, certificateArn: args.tls.certificateArn } : { protocol: "HTTP" }),
      defaultActions: [{ type: "forward", targetGroupArn: this.targetGroup.arn }],
    }, { parent: this });

    const task = createFargateTask(name, {
      container: {
        name: "client-api",
        image: args.image.ref,
        port: CLIENT_API_PORT,
        environment: {
          PORT: String(CLIENT_API_PORT),
          DB_HOST: args.database.host,
          DB_PORT: pulumi.output(args.database.port).apply(String),
          DB_NAME: args.database.name,
          DB_USER: args.database.user,
          DB_TLS: "true",
          DB_STATEMENT_TIMEOUT_MS: String(args.statementTimeoutMs ?? 3000),
          REDIS_HOST: args.cache.host,
          REDIS_PORT: pulumi.output(args.cache.port).apply(String),
          REDIS_TLS: "true",
          REDIS_AUTH_SECRET_ARN: args.cache.authTokenSecretArn,
          PIPELINE_QUEUES: pulumi.jsonStringify((args.pipelineQueues ?? []).map((queue) => ({ name: queue.name, url: queue.url }))),
          CACHE_TTL_SECONDS: String(args.cacheTtlSeconds ?? 300),
          AWS_REGION: args.region,
          LOG_LEVEL: args.logLevel ?? "info",
        },
        stopTimeoutSeconds: args.stopTimeoutSeconds ?? 30,
      },
      ...placedTaskArgs(args),
      taskStatements: [
        allow("ConnectAsReportingReader", "rds-db:connect", rdsConnectArn(args.region, args.accountId, args.database.clusterResourceId, args.database.user)),
        allow("ReadCacheToken", "secretsmanager:GetSecretValue", args.cache.authTokenSecretArn),
        decryptSecretsStatement(args.dataKeyArn, args.region),
        ...((args.pipelineQueues ?? []).length > 0
          ? [allow("ReadPipelineQueueDepths", "sqs:GetQueueAttributes", pulumi.all((args.pipelineQueues ?? []).map((queue) => queue.arn)))]
          : []),
      ],
    }, { parent: this });
    this.taskDefinition = task.taskDefinition;

    this.service = createFargateService(name, {
      clusterArn: args.cluster.arn,
      task,
      subnetIds: args.subnetIds,
      securityGroupId: serviceGroup.id,
      desiredCount: args.scaling.minTasks,
      loadBalancers: [{ targetGroupArn: this.targetGroup.arn, containerName: "client-api", containerPort: CLIENT_API_PORT }],
      healthCheckGracePeriodSeconds: 30,
      dependsOn: [this.listener],
    }, { parent: this });
    this.scalableTarget = createScalableTarget(name, ecsScalingResourceId(args.cluster.name, this.service.name), args.scaling, { parent: this });
    if (args.scaling.maxTasks > 0) this.scalingPolicies(name, args.scaling);

    const { api, vpcLink } = this.httpApi(name, args, vpcLinkGroup);
    this.api = api;
    this.vpcLink = vpcLink;
    this.apiId = api.id;
    this.apiEndpoint = api.apiEndpoint;
    this.url = pulumi.interpolate`${api.apiEndpoint}/api`;
    this.loadBalancerDnsName = this.loadBalancer.dnsName;
    this.registerOutputs({ apiId: this.apiId, apiEndpoint: this.apiEndpoint, url: this.url, loadBalancerDnsName: this.loadBalancerDnsName, serviceName: this.service.name });
  }

  /**
   * ALB access logs: ELB delivers them only to buckets encrypted with SSE-S3 (no KMS), so
   * this bucket is the one not under the data key. It holds request metadata, never
   * bodies; it is private, TLS-only and expires its objects. The policy pack accepts
   * AES256 here because a load balancer in the stack names the bucket in `accessLogs`.
   * https://docs.aws.amazon.com/elasticloadbalancing/latest/application/enable-access-logging.html
   */
  private accessLogBucket(name: string, args: ClientApiServiceArgs) {
    const elb = aws.elb.getServiceAccountOutput({}, { parent: this });
    const logs = createHardenedBucket(`${name}-alb-logs`, {
      encryption: "SSE_S3",
      versioned: false,
      rules: [{ id: "expire-access-logs", status: "Enabled", filter: {}, expiration: { days: args.accessLogExpirationDays ?? 90 }, abortIncompleteMultipartUpload: { daysAfterInitiation: 7 } }],
      forceDestroy: args.forceDestroy ?? false,
      protect: false,
      extraPolicy: (bucketArn) => [albLogDelivery(bucketArn, elb.arn, args.accountId, "alb")],
    }, this);
    return { bucket: logs.bucket, policy: logs.policy };
  }

  /** Requests per target keeps latency flat; CPU catches expensive reports. Either scales out, both must agree to scale in. */
  private scalingPolicies(name: string, scaling: ClientApiScaling) {
    const target = this.scalableTarget;
    const policyTarget = { resourceId: target.resourceId, scalableDimension: target.scalableDimension, serviceNamespace: target.serviceNamespace };
    new aws.appautoscaling.Policy(`${name}-requests-tracking`, {
      ...policyTarget,
      policyType: "TargetTrackingScaling",
      targetTrackingScalingPolicyConfiguration: {
        targetValue: scaling.requestsPerTarget,
        scaleOutCooldown: 60,
        scaleInCooldown: 300,
        predefinedMetricSpecification: {
          predefinedMetricType: "ALBRequestCountPerTarget",
          resourceLabel: pulumi.interpolate`${this.loadBalancer.arnSuffix}/${this.targetGroup.arnSuffix}`,
        },
      },
    }, { parent: this });
    new aws.appautoscaling.Policy(`${name}-cpu-tracking`, {
      ...policyTarget,
      policyType: "TargetTrackingScaling",
      targetTrackingScalingPolicyConfiguration: {
        targetValue: scaling.cpuPercent ?? 60,
        scaleOutCooldown: 60,
        scaleInCooldown: 300,
        predefinedMetricSpecification: { predefinedMetricType: "ECSServiceAverageCPUUtilization" },
      },
    }, { parent: this });
  }

  /** HTTP API → VPC link → the ALB listener, with the authoriser, stage throttling and encrypted access logs. */
  private httpApi(name: string, args: ClientApiServiceArgs, vpcLinkGroup: aws.ec2.SecurityGroup) {
    const opts = { parent: this };
    const api = new aws.apigatewayv2.Api(`${name}-api`, {
      protocolType: "HTTP",
      description: `${name}: the client API (reports and pipeline health) for the dashboard`,
    }, opts);
    const vpcLink = new aws.apigatewayv2.VpcLink(`${name}-vpc-link`, {
      name: `${name}-vpc-link`,
      subnetIds: args.subnetIds,
      securityGroupIds: [vpcLinkGroup.id],
    }, opts);
    const integration = new aws.apigatewayv2.Integration(`${name}-integration`, {
      apiId: api.id,
      integrationType: "HTTP_PROXY",
      integrationMethod: "ANY",
      integrationUri: this.listener.arn,
      connectionType: "VPC_LINK",
      connectionId: vpcLink.id,
      payloadFormatVersion: "1.0",
      timeoutMilliseconds: 10_000,
      ...(args.tls ? { tlsConfig: { serverNameToVerify: args.tls.serverName } } : {}),
    }, opts);

    const auth = args.authorization;
    const authorizer = auth.mode === "JWT"
      ? new aws.apigatewayv2.Authorizer(`${name}-jwt`, {
          apiId: api.id,
          name: `${name}-jwt`,
          authorizerType: "JWT",
          identitySources: ["$request.header.Authorization"],
          jwtConfiguration: { issuer: auth.issuer, audiences: auth.audiences },
        }, opts)
      : undefined;
    const route = (id: string, routeKey: string, protectedRoute: boolean) =>
      new aws.apigatewayv2.Route(`${name}-${id}-route`, {
        apiId: api.id,
        routeKey,
        target: pulumi.interpolate`integrations/${integration.id}`,
        ...(protectedRoute
          ? authorizer
            ? { authorizationType: "JWT", authorizerId: authorizer.id }
            : { authorizationType: "AWS_IAM" }
          : { authorizationType: "NONE" }),
      }, opts);
    const routes = [route("proxy", CLIENT_API_ROUTES.proxy, true), route("health", CLIENT_API_ROUTES.health, false)];

    const accessLogs = new aws.cloudwatch.LogGroup(`${name}-api-access-logs`, {
      retentionInDays: args.logRetentionDays,
      kmsKeyId: args.logsKeyArn,
    }, opts);
    new aws.apigatewayv2.Stage(`${name}-stage`, {
      apiId: api.id,
      name: "$default",
      autoDeploy: true,
      defaultRouteSettings: {
        throttlingRateLimit: args.throttle.rateLimit,
        throttlingBurstLimit: args.throttle.burstLimit,
        detailedMetricsEnabled: true,
      },
      // The unauthenticated health route gets a small share of the stage's budget.
      routeSettings: [{
        routeKey: CLIENT_API_ROUTES.health,
        throttlingRateLimit: Math.min(5, args.throttle.rateLimit),
        throttlingBurstLimit: Math.min(10, args.throttle.burstLimit),
      }],
      accessLogSettings: {
        destinationArn: accessLogs.arn,
        format: JSON.stringify({
          requestId: "$context.requestId",
          ip: "$context.identity.sourceIp",
          requestTime: "$context.requestTime",
          routeKey: "$context.routeKey",
          status: "$context.status",
          latencyMs: "$context.responseLatency",
          integrationStatus: "$context.integrationStatus",
          integrationError: "$context.integrationErrorMessage",
          authorizerError: "$context.authorizer.error",
        }),
      },
    }, { parent: this, dependsOn: routes });
    return { api, vpcLink };
  }
}
