import { SecretsManagerClient } from "@aws-sdk/client-secrets-manager";
import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import type { APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2 } from "aws-lambda";
import { DAILY_SALES_ROUTE, HEALTH_ROUTE, createReportingHandler, reportingSettingsFromEnv, secretsManagerReader } from "../../functions/reporting-api";
import { createMetricAlarm } from "../lib/alarms";
import { allow } from "../lib/iam";
import { createInlineFunction } from "../lib/inline-function";
import { windowsOverlap } from "../lib/maintenance-windows";
import { generateToken } from "../lib/secrets";
import { StorePlacementArgs } from "../lib/store-placement";

export const REDIS_PORT = 6379;

/** The database the reporting API reads: Aurora's reporting custom endpoint and a credentials secret. */
export interface ReportingDatabase {
  host: pulumi.Input<string>;
  port: pulumi.Input<number>;
  name: pulumi.Input<string>;
  /** Secret holding {"username","password"}, encrypted with the data key. */
  secretArn: pulumi.Input<string>;
}

export interface ReportingApiArgs {
  database: ReportingDatabase;
  /** Private subnets for the function (it reaches Aurora, Redis and the Secrets Manager endpoint). */
  subnetIds: pulumi.Input<pulumi.Input<string>[]>;
  /** The app tier's security group. */
  securityGroupIds: pulumi.Input<pulumi.Input<string>[]>;
  /** How long a report is served from the cache. @default 300 */
  reportTtlSeconds?: number;
  /** Bump when the cached report shape changes; old entries are then ignored. @default "1" */
  cacheSchemaVersion?: string;
  /** "AWS_IAM" requires SigV4-signed callers; "NONE" leaves the API open. @default "AWS_IAM" */
  authorization?: "AWS_IAM" | "NONE";
  /** @default 50 */
  throttlingBurstLimit?: number;
  /** Requests per second. @default 25 */
  throttlingRateLimit?: number;
  /** @default 256 */
  memorySize?: number;
  /** @default true */
  tracing?: boolean;
}

/**
 * Placement: `subnetIds` are the private subnets of the replication group (the
 * reporting API's function takes its own, in `reportingApi`); `securityGroupIds` is the
 * cache tier's group; `kmsKeyArn` is the data key for at-rest encryption and the AUTH
 * token secret; `logsKeyArn` encrypts the slow-log and API access-log groups.
 */
export interface CacheLayerArgs extends StorePlacementArgs {
  /** @default "cache.r7g.large" */
  nodeType?: string;
  /** Primary plus replicas. @default 2 */
  nodeCount?: number;
  /** @default true */
  multiAz?: boolean;
  /** @default true when nodeCount >= 2 */
  automaticFailover?: boolean;
  /** TLS in transit; the AUTH token requires it. @default true */
  transitEncryption?: boolean;
  /** 0 disables snapshots. @default 7 */
  snapshotRetentionDays?: number;
  /** Daily, UTC. @default "03:00-04:00" */
  snapshotWindow?: string;
  /** Weekly, UTC. @default "sun:04:30-sun:05:30" */
  maintenanceWindow?: string;
  /** @default "7.1" */
  engineVersion?: string;
  /** Bump to generate a new AUTH token and send it to Redis (ROTATE keeps the old one valid meanwhile) and to the secret. @default 1 */
  authTokenVersion?: number;
  /** @default true */
  protect?: boolean;
  /** The reporting read API in front of the cache. @default undefined (none) */
  reportingApi?: ReportingApiArgs;
  /** Alarms are created only when this is set. @default undefined */
  alarmTopicArn?: pulumi.Input<string>;
}

/** Runs at cold start in the Lambda: builds the Secrets Manager client, reads the environment, delegates. */
export function reportingCallbackFactory() {
  return createReportingHandler(reportingSettingsFromEnv(process.env), secretsManagerReader(new SecretsManagerClient({}))).handle;
}

/** What the apply-time rules look at, with defaults applied. */
export interface CacheRules {
  replicationGroupId: string;
  nodeCount: number;
  multiAz: boolean;
  automaticFailover: boolean;
  transitEncryption: boolean;
  authToken?: string;
  snapshotRetentionDays: number;
  snapshotWindow: string;
  maintenanceWindow: string;
}

/** ElastiCache AUTH tokens: 16-128 printable ASCII characters, none of space, @, " or /. */
export function authTokenProblems(token: string): string[] {
  const problems: string[] = [];
  if (token.length < 16 || token.length > 128) problems.push(`the AUTH token must be 16-128 characters long, got ${token.length}`);
  const refused = [...new Set(token.match(/[^\x21-\x7e]|[@"/]/g) ?? [])];
  if (refused.length > 0) problems.push(`the AUTH token must be printable ASCII without space, @, " or /; it contains ${refused.map((c) => JSON.stringify(c)).join(", ")}`);
  return problems;
}

/** Everything ElastiCache would refuse at apply time, as sentences; empty when the group can be built. */
export function cacheLayerProblems(rules: CacheRules): string[] {
  const problems: string[] = [];
  const id = rules.replicationGroupId;
  if (!/^[a-z][a-z0-9-]{0,39}$/.test(id) || id.includes("--") || id.endsWith("-")) {
    problems.push(`replication group id "${id}" must be 1-40 lowercase letters, digits or single hyphens, starting with a letter`);
  }
  if (!Number.isInteger(rules.nodeCount) || rules.nodeCount < 1 || rules.nodeCount > 6) problems.push(`nodeCount must be 1-6, got ${rules.nodeCount}`);
  if (rules.authToken !== undefined) {
    if (!rules.transitEncryption) problems.push("an AUTH token requires transit encryption: set transitEncryption to true");
    problems.push(...authTokenProblems(rules.authToken));
  }
  if (rules.multiAz && !rules.automaticFailover) problems.push("multiAz requires automaticFailover");
  if (rules.automaticFailover && rules.nodeCount < 2) problems.push(`automaticFailover requires at least 2 nodes (a replica to fail over to), got ${rules.nodeCount}`);
  if (!Number.isInteger(rules.snapshotRetentionDays) || rules.snapshotRetentionDays < 0 || rules.snapshotRetentionDays > 35) {
    problems.push(`snapshotRetentionDays must be 0-35, got ${rules.snapshotRetentionDays}`);
  }
  if (rules.snapshotRetentionDays > 0 && windowsOverlap(rules.snapshotWindow, rules.maintenanceWindow)) {
    problems.push(`snapshotWindow ${rules.snapshotWindow} overlaps maintenanceWindow ${rules.maintenanceWindow}`);
  }
  return problems;
}

/**
 * ElastiCache Redis in front of repeated reporting queries: encrypted at rest with
 * the data key and in transit, AUTH from a generated token kept in Secrets Manager,
 * Multi-AZ with automatic failover when configured, slow logs to a KMS-encrypted log
 * group, plus (optionally) the reporting read API that reads through it.
 */
export class CacheLayer extends pulumi.ComponentResource {
  readonly replicationGroup: aws.elasticache.ReplicationGroup;
  readonly primaryEndpoint: pulumi.Output<string>;
  readonly readerEndpoint: pulumi.Output<string>;
  readonly port: number;
  /** Secret whose string is the AUTH token. */
  readonly authTokenSecretArn: pulumi.Output<string>;
  /** Base URL of the reporting API, when it is built. */
  readonly reportingApiUrl?: pulumi.Output<string>;
  /** Its health route (GET, IAM-authorised): 200 when the reporting database answers. */
  readonly reportingHealthUrl?: pulumi.Output<string>;
  readonly reportingFunctionName?: pulumi.Output<string>;

  constructor(name: string, args: CacheLayerArgs, opts?: pulumi.ComponentResourceOptions) {
    super("dataplatform:stores:CacheLayer", name, {}, opts);
    const nodeCount = args.nodeCount ?? 2;
    const version = args.authTokenVersion ?? 1;
    const authToken = generateToken(64);
    const rules: CacheRules = {
      replicationGroupId: name,
      nodeCount,
      multiAz: args.multiAz ?? true,
      automaticFailover: args.automaticFailover ?? nodeCount >= 2,
      transitEncryption: args.transitEncryption ?? true,
      authToken,
      snapshotRetentionDays: args.snapshotRetentionDays ?? 7,
      snapshotWindow: args.snapshotWindow ?? "03:00-04:00",
      maintenanceWindow: args.maintenanceWindow ?? "sun:04:30-sun:05:30",
    };
    const problems = cacheLayerProblems(rules);
    if (problems.length > 0) throw new Error(`CacheLayer ${name} has invalid arguments:\n  - ${problems.join("\n  - ")}`);
    const protect = args.protect ?? true;

    const secret = new aws.secretsmanager.Secret(`${name}-auth-token`, {
      description: `${name}: Redis AUTH token`,
      kmsKeyId: args.kmsKeyArn,
    }, { parent: this, protect });

    const subnetGroup = new aws.elasticache.SubnetGroup(`${name}-subnets`, {
      description: `${name}: private subnets`,
      subnetIds: args.subnetIds,
    }, { parent: this });
    const slowLog = new aws.cloudwatch.LogGroup(`${name}-slow-log`, {
      name: `/aws/elasticache/${name}/slow-log`,
      retentionInDays: args.logRetentionDays,
      kmsKeyId: args.logsKeyArn,
    }, { parent: this });

    this.replicationGroup = new aws.elasticache.ReplicationGroup(`${name}-redis`, {
      replicationGroupId: name,
      description: `${name}: cache-aside for reporting queries`,
      engine: "redis",
      engineVersion: args.engineVersion ?? "7.1",
      nodeType: args.nodeType ?? "cache.r7g.large",
      numCacheClusters: nodeCount,
      port: REDIS_PORT,
      automaticFailoverEnabled: rules.automaticFailover,
      multiAzEnabled: rules.multiAz,
      atRestEncryptionEnabled: true,
      kmsKeyId: args.kmsKeyArn,
      transitEncryptionEnabled: rules.transitEncryption,
      authTokenWo: pulumi.secret(authToken),
      authTokenWoVersion: version,
      authTokenUpdateStrategy: "ROTATE",
      subnetGroupName: subnetGroup.name,
      securityGroupIds: args.securityGroupIds,
      snapshotRetentionLimit: rules.snapshotRetentionDays,
      snapshotWindow: rules.snapshotRetentionDays > 0 ? rules.snapshotWindow : undefined,
      maintenanceWindow: rules.maintenanceWindow,
      autoMinorVersionUpgrade: true,
      logDeliveryConfigurations: [{ destination: slowLog.name, destinationType: "cloudwatch-logs", logFormat: "json", logType: "slow-log" }],
    }, { parent: this, protect });
    // Write-only inputs: the token generated at this run reaches AWS only when `version` changes
    // (or when the group is created). The secret is written only once Redis has accepted the
    // token; written alongside a create or update that then failed, it would keep a token Redis
    // never got, and the next run (same version) would send Redis another.
    const secretValue = new aws.secretsmanager.SecretVersion(`${name}-auth-token-value`, {
      secretId: secret.id,
      secretStringWo: pulumi.secret(authToken),
      secretStringWoVersion: version,
    }, { parent: this, dependsOn: [this.replicationGroup] });

    this.primaryEndpoint = this.replicationGroup.primaryEndpointAddress;
    this.readerEndpoint = this.replicationGroup.readerEndpointAddress;
    this.port = REDIS_PORT;
    // Readers of the ARN (the reporting API) wait for the token, not just the empty secret.
    this.authTokenSecretArn = pulumi.all([secret.arn, secretValue.id]).apply(([arn]) => arn);

    if (args.reportingApi !== undefined) {
      const api = this.reportingApi(name, args, args.reportingApi);
      this.reportingApiUrl = api.url;
      this.reportingHealthUrl = api.healthUrl;
      this.reportingFunctionName = api.functionName;
    }
    if (args.alarmTopicArn !== undefined) this.alarms(name, nodeCount, args.alarmTopicArn);

    this.registerOutputs({
      primaryEndpoint: this.primaryEndpoint,
      readerEndpoint: this.readerEndpoint,
      authTokenSecretArn: this.authTokenSecretArn,
      reportingApiUrl: this.reportingApiUrl,
    });
  }

  /** HTTP API -> in-VPC Lambda reading through the cache from the reporting endpoint. */
  private reportingApi(name: string, args: CacheLayerArgs, api: ReportingApiArgs) {
    const region = aws.getRegionOutput({}, { parent: this });
    const secretArns = [api.database.secretArn, this.authTokenSecretArn];
    const fn = createInlineFunction<APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2>(`${name}-reporting`, {
      description: "Reporting read API: daily sales through the Redis cache from the Aurora reporting endpoint",
      callbackFactory: reportingCallbackFactory,
      statements: [
        allow("ReadDatabaseAndCacheSecrets", "secretsmanager:GetSecretValue", pulumi.all(secretArns)),
        pulumi.all([args.kmsKeyArn, region.region]).apply(([key, regionName]) => ({
          Sid: "DecryptSecretsThroughSecretsManager",
          Effect: "Allow",
          Action: "kms:Decrypt",
          Resource: key,
          Condition: { StringEquals: { "kms:ViaService": `secretsmanager.${regionName}.amazonaws.com` } },
        })),
      ],
      environment: {
        DB_HOST: api.database.host,
        DB_PORT: pulumi.output(api.database.port).apply(String),
        DB_NAME: api.database.name,
        DB_SECRET_ARN: api.database.secretArn,
        CACHE_HOST: this.primaryEndpoint,
        CACHE_PORT: String(REDIS_PORT),
        CACHE_SECRET_ARN: this.authTokenSecretArn,
        CACHE_NAMESPACE: "reporting",
        CACHE_SCHEMA_VERSION: api.cacheSchemaVersion ?? "1",
        REPORT_TTL_SECONDS: String(api.reportTtlSeconds ?? 300),
        // Node 20+ Lambda runtimes no longer trust the RDS CAs by default; this bundle holds them.
        NODE_EXTRA_CA_CERTS: "/var/runtime/ca-cert.pem",
      },
      memorySize: api.memorySize ?? 256,
      timeoutSeconds: 15,
      logRetentionDays: args.logRetentionDays,
      logsKeyArn: args.logsKeyArn,
      tracing: api.tracing ?? true,
      vpc: { subnetIds: api.subnetIds, securityGroupIds: api.securityGroupIds },
      packages: ["pg", "ioredis"],
    }, this);

    const httpApi = new aws.apigatewayv2.Api(`${name}-reporting-api`, {
      protocolType: "HTTP",
      description: `${name}: reporting read API`,
    }, { parent: this });
    const integration = new aws.apigatewayv2.Integration(`${name}-reporting-integration`, {
      apiId: httpApi.id,
      integrationType: "AWS_PROXY",
      integrationUri: fn.function.arn,
      payloadFormatVersion: "2.0",
      timeoutMilliseconds: 15_000,
    }, { parent: this });
    for (const [suffix, routeKey] of [["daily-sales", DAILY_SALES_ROUTE], ["health", HEALTH_ROUTE]]) {
      new aws.apigatewayv2.Route(`${name}-reporting-${suffix}`, {
        apiId: httpApi.id,
        routeKey,
        target: pulumi.interpolate`integrations/${integration.id}`,
        authorizationType: api.authorization ?? "AWS_IAM",
      }, { parent: this });
    }
    const accessLogs = new aws.cloudwatch.LogGroup(`${name}-reporting-access-logs`, {
      retentionInDays: args.logRetentionDays,
      kmsKeyId: args.logsKeyArn,
    }, { parent: this });
    new aws.apigatewayv2.Stage(`${name}-reporting-stage`, {
      apiId: httpApi.id,
      name: "$default",
      autoDeploy: true,
      accessLogSettings: {
        destinationArn: accessLogs.arn,
        format: JSON.stringify({
          requestId: "$context.requestId",
          caller: "$context.identity.caller",
          routeKey: "$context.routeKey",
          status: "$context.status",
          latencyMs: "$context.responseLatency",
          integrationError: "$context.integrationErrorMessage",
        }),
      },
      defaultRouteSettings: {
        throttlingBurstLimit: api.throttlingBurstLimit ?? 50,
        throttlingRateLimit: api.throttlingRateLimit ?? 25,
        detailedMetricsEnabled: true,
      },
    }, { parent: this });
    new aws.lambda.Permission(`${name}-reporting-invoke`, {
      action: "lambda:InvokeFunction",
      function: fn.function.name,
      principal: "apigateway.amazonaws.com",
      sourceArn: pulumi.interpolate`${httpApi.executionArn}/*/GET/reports/*/daily-sales`,
    }, { parent: this });
    new aws.lambda.Permission(`${name}-reporting-health-invoke`, {
      action: "lambda:InvokeFunction",
      function: fn.function.name,
      principal: "apigateway.amazonaws.com",
      sourceArn: pulumi.interpolate`${httpApi.executionArn}/*/GET/health`,
    }, { parent: this });
    return { url: httpApi.apiEndpoint, healthUrl: pulumi.interpolate`${httpApi.apiEndpoint}/health`, functionName: fn.function.name };
  }

  private alarms(name: string, nodeCount: number, topicArn: pulumi.Input<string>) {
    // ElastiCache reports per node; nodes of a replication group are named "<group>-001", "-002", ...
    for (let node = 1; node <= nodeCount; node++) {
      const nodeId = `${name}-${String(node).padStart(3, "0")}`;
      createMetricAlarm(`${nodeId}-engine-cpu`, {
        description: `${nodeId}: Redis engine CPU above 80% for 15 minutes`,
        namespace: "AWS/ElastiCache",
        metricName: "EngineCPUUtilization",
        dimensions: { CacheClusterId: nodeId },
        statistic: "Average",
        threshold: 80,
        evaluationPeriods: 3,
      }, topicArn, this);
      createMetricAlarm(`${nodeId}-memory`, {
        description: `${nodeId}: Redis memory above 85% (evictions follow)`,
        namespace: "AWS/ElastiCache",
        metricName: "DatabaseMemoryUsagePercentage",
        dimensions: { CacheClusterId: nodeId },
        statistic: "Maximum",
        threshold: 85,
        evaluationPeriods: 2,
      }, topicArn, this);
    }
    if (this.reportingFunctionName !== undefined) {
      createMetricAlarm(`${name}-reporting-errors`, {
        description: `${name}: the reporting API function failed`,
        namespace: "AWS/Lambda",
        metricName: "Errors",
        dimensions: { FunctionName: this.reportingFunctionName },
        statistic: "Sum",
        threshold: 0,
      }, topicArn, this);
    }
  }
}
