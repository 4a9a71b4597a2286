/**
 * CacheLayer (ElastiCache Redis and the reporting read API) under the mock engine,
 * built from the dev and prod stage configs with stand-in foundations and a stand-in
 * reporting database; the reporting Lambda as shipped; and the exported validators
 * provoking ElastiCache's apply-time rules.
 */
import { CacheLayer, CacheRules, authTokenProblems, cacheLayerProblems, reportingCallbackFactory } from "../components/stores/cache-layer";
import { DAILY_SALES_ROUTE, HEALTH_ROUTE } from "../functions/reporting-api";
import { cacheLayerArgs } from "../platform/stores";
import { MOCK_ACCOUNT_ID, PlannedResource, StackEvaluation, ofType } from "../scripts/engine";
import { STAND_IN, evaluateWithFoundations, standInSubnets } from "./support/local-databases";
import { ShippedInvocationFailed, invokeAsShipped } from "./support/shipped";
import { HTTP_API_V2_EVENTS, HTTP_API_V2_REPEATED_PARAMETER_EVENTS, httpApiRequestFrom, thirdPartyEvent } from "./support/third-party-events";
import { SECRET_MASK } from "../scripts/secrets";
import { policyOf, revealed, single } from "./support/stack";

const DB_SECRET_ARN = `arn:aws:secretsmanager:eu-west-1:${MOCK_ACCOUNT_ID}:secret:rds!cluster-stand-in`;
const REPORTING_DATABASE = { host: "dp-oltp-reporting.cluster-custom-mock.eu-west-1.rds.amazonaws.com", port: 5432, name: "platform", secretArn: DB_SECRET_ARN };
const REDIS = "aws:elasticache/replicationGroup:ReplicationGroup";

/** The stage without the ECS services: the stages that keep the Lambda reporting API (platform/stores.ts). */
function evaluateCache(stack: string, overrides: Record<string, boolean> = { servicesEnabled: false }): Promise<StackEvaluation> {
  return evaluateWithFoundations(stack, overrides, (f, opts) => {
    const cache = new CacheLayer(`${f.prefix}-cache`, cacheLayerArgs(f, REPORTING_DATABASE), opts);
    return { primaryEndpoint: cache.primaryEndpoint, authTokenSecretArn: cache.authTokenSecretArn, reportingApiUrl: cache.reportingApiUrl };
  });
}


describe.each([
  ["dev", { nodes: 1, multiAz: false, snapshots: 0, protect: false }],
  ["prod", { nodes: 3, multiAz: true, snapshots: 7, protect: true }],
] as const)("%s CacheLayer", (stack, expected) => {
  let plan: StackEvaluation;
  let redis: PlannedResource;
  beforeAll(async () => {
    plan = await evaluateCache(stack);
    redis = single(plan, REDIS);
  });

  it("evaluates without errors or warnings", () => {
    expect(plan.errors).toEqual([]);
    expect(plan.warnings).toEqual([]);
  });

  it("encrypts at rest with the data key and in transit, and requires a valid AUTH token kept in a KMS secret", () => {
    expect(redis.inputs).toMatchObject({
      engine: "redis",
      engineVersion: "7.1",
      atRestEncryptionEnabled: true,
      kmsKeyId: STAND_IN.dataKeyArn,
      transitEncryptionEnabled: true,
      authTokenWoVersion: 1,
      securityGroupIds: [STAND_IN.securityGroupIds.cache],
    });
    expect(redis.inputs.authToken).toBeUndefined(); // only the write-only input carries it
    // The evaluation holds the token masked; the plaintext the engine received is kept beside it.
    expect(redis.inputs.authTokenWo).toBe(SECRET_MASK);
    const token = revealed(plan, redis, "authTokenWo") as string;
    expect(authTokenProblems(token)).toEqual([]);
    const secret = single(plan, "aws:secretsmanager/secret:Secret", "-auth-token");
    expect(secret.inputs.kmsKeyId).toBe(STAND_IN.dataKeyArn);
    const version = single(plan, "aws:secretsmanager/secretVersion:SecretVersion");
    expect(revealed(plan, version, "secretStringWo")).toBe(token); // the secret and Redis hold the same token
    expect(plan.outputs.authTokenSecretArn).toBe(secret.state.arn);
    // The token is new at every run and both inputs are write-only: the secret may only be written
    // once Redis has taken the token, and the reporting function must wait for the written value.
    expect(version.dependencies).toContain(redis.urn);
    expect(single(plan, "aws:lambda/function:Function", "-reporting-fn").dependencies).toContain(version.urn);
  });

  it(`runs ${expected.nodes} node(s) in the private subnets with ${stack}'s failover, snapshots and protect`, () => {
    expect(redis.inputs).toMatchObject({
      numCacheClusters: expected.nodes,
      multiAzEnabled: expected.multiAz,
      automaticFailoverEnabled: expected.multiAz,
      snapshotRetentionLimit: expected.snapshots,
      maintenanceWindow: "sun:04:30-sun:05:30",
    });
    expect(redis.inputs.snapshotWindow).toBe(expected.snapshots > 0 ? "03:00-04:00" : undefined);
    expect(single(plan, "aws:elasticache/subnetGroup:SubnetGroup").inputs.subnetIds).toEqual(standInSubnets("private", stack === "prod" ? 3 : 2));
    expect(redis.protect).toBe(expected.protect);
    expect(single(plan, "aws:secretsmanager/secret:Secret", "-auth-token").protect).toBe(expected.protect);
  });

  it("delivers slow logs to a KMS-encrypted log group", () => {
    const slowLog = single(plan, "aws:cloudwatch/logGroup:LogGroup", "-slow-log");
    expect(slowLog.inputs).toMatchObject({ name: `/aws/elasticache/dp-${stack}-cache/slow-log`, kmsKeyId: STAND_IN.logsKeyArn });
    expect(redis.inputs.logDeliveryConfigurations).toEqual([{ destination: slowLog.state.name, destinationType: "cloudwatch-logs", logFormat: "json", logType: "slow-log" }]);
  });

  it("serves reports from an in-VPC function reading the cache and the reporting endpoint", () => {
    const fn = single(plan, "aws:lambda/function:Function", "-reporting-fn");
    expect(fn.inputs.vpcConfig).toEqual({ subnetIds: standInSubnets("private", stack === "prod" ? 3 : 2), securityGroupIds: [STAND_IN.securityGroupIds.lambda] });
    expect(fn.inputs.environment.variables).toMatchObject({
      DB_HOST: REPORTING_DATABASE.host,
      DB_PORT: "5432",
      DB_NAME: "platform",
      DB_SECRET_ARN: DB_SECRET_ARN,
      CACHE_HOST: redis.state.primaryEndpointAddress,
      CACHE_PORT: "6379",
      CACHE_SECRET_ARN: plan.outputs.authTokenSecretArn,
      NODE_EXTRA_CA_CERTS: "/var/runtime/ca-cert.pem",
    });
  });

  it("lets the function read exactly the two secrets and decrypt only through Secrets Manager", () => {
    const statements = policyOf(single(plan, "aws:iam/rolePolicy:RolePolicy", "-reporting-policy")).Statement;
    expect(statements.find((s) => s.Sid === "ReadDatabaseAndCacheSecrets")).toEqual({
      Sid: "ReadDatabaseAndCacheSecrets",
      Effect: "Allow",
      Action: "secretsmanager:GetSecretValue",
      Resource: [DB_SECRET_ARN, plan.outputs.authTokenSecretArn],
    });
    expect(statements.find((s) => s.Sid === "DecryptSecretsThroughSecretsManager")).toEqual({
      Sid: "DecryptSecretsThroughSecretsManager",
      Effect: "Allow",
      Action: "kms:Decrypt",
      Resource: STAND_IN.dataKeyArn,
      Condition: { StringEquals: { "kms:ViaService": "secretsmanager.eu-west-1.amazonaws.com" } },
    });
    expect(ofType(plan, "aws:iam/rolePolicyAttachment:RolePolicyAttachment")).toEqual([]);
    expect(JSON.stringify(plan.resources.map((r) => r.inputs))).not.toMatch(/FullAccess/);
  });

  it("exposes GET /reports/{branch}/daily-sales and GET /health over an IAM-authorized, throttled HTTP API with access logs", () => {
    const integration = single(plan, "aws:apigatewayv2/integration:Integration");
    for (const [suffix, routeKey] of [["-daily-sales", DAILY_SALES_ROUTE], ["-health", HEALTH_ROUTE]]) {
      expect(single(plan, "aws:apigatewayv2/route:Route", suffix).inputs).toMatchObject({ routeKey, authorizationType: "AWS_IAM", target: `integrations/dp-${stack}-cache-reporting-integration-id` });
    }
    expect(integration.inputs).toMatchObject({ integrationType: "AWS_PROXY", payloadFormatVersion: "2.0" });
    const stage = single(plan, "aws:apigatewayv2/stage:Stage");
    expect(stage.inputs).toMatchObject({ name: "$default", autoDeploy: true, defaultRouteSettings: { throttlingBurstLimit: 50, throttlingRateLimit: 25 } });
    const accessLogs = single(plan, "aws:cloudwatch/logGroup:LogGroup", "-reporting-access-logs");
    expect(stage.inputs.accessLogSettings.destinationArn).toBe(accessLogs.state.arn);
    expect(accessLogs.inputs.kmsKeyId).toBe(STAND_IN.logsKeyArn);
    const permission = single(plan, "aws:lambda/permission:Permission", "-reporting-invoke");
    expect(permission.inputs).toMatchObject({ principal: "apigateway.amazonaws.com" });
    expect(permission.inputs.sourceArn).toMatch(/\/\*\/GET\/reports\/\*\/daily-sales$/);
    expect(single(plan, "aws:lambda/permission:Permission", "-reporting-health-invoke").inputs.sourceArn).toMatch(/\/\*\/GET\/health$/);
    expect(plan.outputs.reportingApiUrl).toMatch(/^https:\/\/.*execute-api/);
  });

  it(`${stack === "prod" ? "alarms" : "has no alarms"} on engine CPU and memory per node and on API errors`, () => {
    const alarms = ofType(plan, "aws:cloudwatch/metricAlarm:MetricAlarm");
    expect(alarms).toHaveLength(stack === "prod" ? 2 * expected.nodes + 1 : 0);
    if (stack === "prod") {
      expect(alarms.map((a) => a.inputs.dimensions.CacheClusterId).filter(Boolean)).toEqual(expect.arrayContaining(["dp-prod-cache-001", "dp-prod-cache-003"]));
    }
  });
});

describe("the reporting function as shipped", () => {
  const env = {
    DB_HOST: "127.0.0.1",
    DB_PORT: "1",
    DB_NAME: "platform",
    DB_SECRET_ARN: DB_SECRET_ARN,
    CACHE_HOST: "127.0.0.1",
    CACHE_PORT: "1",
    CACHE_SECRET_ARN: "arn:cache",
    CACHE_NAMESPACE: "reporting",
    CACHE_SCHEMA_VERSION: "1",
    REPORT_TTL_SECONDS: "300",
  };

  const body = (result: unknown) => JSON.parse((result as { body: string }).body);
  const dailySales = (fixture: string, branch: string, query: [string, string][]) =>
    httpApiRequestFrom(fixture, DAILY_SALES_ROUTE, `/reports/${branch}/daily-sales`, { branch }, query);

  it("requires only pg, ioredis and the Secrets Manager client, and answers bad requests before connecting anywhere", async () => {
    const badBranch = { routeKey: DAILY_SALES_ROUTE, pathParameters: { branch: "x'; DROP TABLE sales.orders; --" } };
    const { result, requires } = await invokeAsShipped(reportingCallbackFactory, env, badBranch);
    expect(requires).toEqual(['require("@aws-sdk/client-secrets-manager/dist-cjs/index.js")', 'require("ioredis/built/index.js")', 'require("pg")']);
    expect(result).toMatchObject({ statusCode: 400, headers: { "content-type": "application/json" } });
    expect(body(result)).toEqual({ message: "branch must be 1-32 letters, digits, '_' or '-'" });
  });

  it.each(HTTP_API_V2_REPEATED_PARAMETER_EVENTS)("tells the caller a repeated query parameter is refused (%s)", async (fixture) => {
    const { result } = await invokeAsShipped(reportingCallbackFactory, env, dailySales(fixture, "LDN", [["from", "2026-11-01"], ["from", "2026-11-02"], ["parameter2", "value"]]));
    expect(result).toMatchObject({ statusCode: 400 });
    expect(body(result)).toEqual({ message: "from is given 2 times; give it once" });
  });

  it.each([
    ["an empty value", "LDN", [["from", ""]], "from must not be empty; give a date YYYY-MM-DD or leave from out"],
    ["an impossible date", "LDN", [["to", "2026-02-30"]], 'to must be a date YYYY-MM-DD, got "2026-02-30"'],
    ["a reversed range", "LDN", [["from", "2026-11-03"], ["to", "2026-11-02"]], "from (2026-11-03) must not be after to (2026-11-02)"],
    ["a range that is too long", "LDN", [["from", "2026-01-01"], ["to", "2026-11-02"]], "at most 92 days per request, got 306"],
    ["a bad branch name", "LDN!", [], "branch must be 1-32 letters, digits, '_' or '-'"],
  ] as [string, string, [string, string][], string][])("answers %s with 400 and the reason", async (_case, branch, query, message) => {
    const { result } = await invokeAsShipped(reportingCallbackFactory, env, dailySales(HTTP_API_V2_EVENTS[0], branch, query));
    expect(result).toMatchObject({ statusCode: 400 });
    expect(body(result)).toEqual({ message });
  });

  it.each(HTTP_API_V2_EVENTS)("answers a published request for a route it does not serve with 404 and the route (%s)", async (fixture) => {
    const event = thirdPartyEvent(fixture);
    const { result } = await invokeAsShipped(reportingCallbackFactory, env, event);
    expect(result).toMatchObject({ statusCode: 404 });
    expect(body(result)).toEqual({ message: `no route ${event.routeKey}` });
  });

  it("fails its cold start with the runtime's report naming every missing setting", async () => {
    const failure = invokeAsShipped(reportingCallbackFactory, { DB_HOST: "h" }, dailySales(HTTP_API_V2_EVENTS[0], "LDN", []));
    await expect(failure).rejects.toBeInstanceOf(ShippedInvocationFailed);
    await expect(failure).rejects.toMatchObject({
      response: { errorType: "Error", errorMessage: expect.stringMatching(/^Missing environment: DB_PORT, DB_NAME, DB_SECRET_ARN/) },
    });
  });
});

describe("apply-time rules (exported validators)", () => {
  const base: CacheRules = {
    replicationGroupId: "dp-prod-cache",
    nodeCount: 2,
    multiAz: true,
    automaticFailover: true,
    transitEncryption: true,
    authToken: "a".repeat(64),
    snapshotRetentionDays: 7,
    snapshotWindow: "03:00-04:00",
    maintenanceWindow: "sun:04:30-sun:05:30",
  };
  const problems = (overrides: Partial<CacheRules>) => cacheLayerProblems({ ...base, ...overrides }).join("\n");

  it("accepts a Multi-AZ pair with TLS and AUTH", () => {
    expect(problems({})).toBe("");
    expect(problems({ nodeCount: 1, multiAz: false, automaticFailover: false, snapshotRetentionDays: 0 })).toBe("");
  });

  it("refuses an AUTH token without transit encryption", () => {
    expect(problems({ transitEncryption: false })).toMatch(/an AUTH token requires transit encryption/);
    expect(problems({ transitEncryption: false, authToken: undefined })).toBe("");
  });

  it("refuses Multi-AZ without automatic failover, and automatic failover with one node", () => {
    expect(problems({ automaticFailover: false })).toMatch(/multiAz requires automaticFailover/);
    expect(problems({ nodeCount: 1 })).toMatch(/automaticFailover requires at least 2 nodes.*got 1/);
    expect(problems({ nodeCount: 1, multiAz: false })).toMatch(/automaticFailover requires at least 2 nodes/);
  });

  it("refuses AUTH tokens of the wrong length or with characters ElastiCache rejects", () => {
    expect(authTokenProblems("short")).toEqual([expect.stringMatching(/16-128 characters long, got 5/)]);
    expect(authTokenProblems("x".repeat(129))).toEqual([expect.stringMatching(/got 129/)]);
    expect(authTokenProblems('abcdefgh@ijklmnop"qr/st').join("\n")).toMatch(/contains "@", "\\"", "\/"/);
    expect(authTokenProblems("abcdefgh ijklmnopq").join("\n")).toMatch(/contains " "/);
    expect(authTokenProblems("x".repeat(16))).toEqual([]);
    expect(authTokenProblems("x".repeat(128))).toEqual([]);
  });

  it("refuses bad ids, node counts, snapshot retention and overlapping windows", () => {
    expect(problems({ replicationGroupId: "DP_cache" })).toMatch(/replication group id/);
    expect(problems({ nodeCount: 7 })).toMatch(/nodeCount must be 1-6/);
    expect(problems({ snapshotRetentionDays: 36 })).toMatch(/snapshotRetentionDays must be 0-35/);
    expect(problems({ snapshotWindow: "04:00-05:00" })).toMatch(/overlaps maintenanceWindow/);
  });

  it("stops the component before it declares anything", async () => {
    await expect(
      evaluateWithFoundations("dev", {}, (f, opts) => {
        new CacheLayer("dp-dev-cache", { ...cacheLayerArgs(f, REPORTING_DATABASE), multiAz: true, automaticFailover: false, transitEncryption: false }, opts);
      }),
    ).rejects.toThrow(/CacheLayer dp-dev-cache has invalid arguments:\n {2}- an AUTH token requires transit encryption[^\n]*\n {2}- multiAz requires automaticFailover/);
  });
});

describe("CacheLayer with the ECS services", () => {
  it("declares no Lambda reporting API: the client API service serves the reports", async () => {
    const plan = await evaluateCache("prod", { servicesEnabled: true });
    expect(plan.errors).toEqual([]);
    expect(single(plan, REDIS).inputs.transitEncryptionEnabled).toBe(true);
    expect(plan.resources.filter((r) => /reporting/.test(r.name))).toEqual([]);
    expect(plan.outputs.reportingApiUrl).toBeUndefined();
  });
});
