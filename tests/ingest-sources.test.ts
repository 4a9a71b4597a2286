/**
 * The HTTP ingest API of both stages, read from the real program under the mock engine:
 * one route per configured source, its throttle, its authorisation, the front that
 * queues with the source's message attributes, and the access log. Expected values come
 * from the validated stack files, so the tests assert config → resources, not numbers.
 */
import { INGESTION_DEFAULTS, INGEST_ACCESS_LOG_FORMAT, validateIngestSources } from "../components/ingestion/ingestion-layer";
import { IngestSourceConfig, validateStageConfig } from "../config";
import { ingestRouteKey, ingestRouteTable } from "../functions/ingest-front";
import { StackEvaluation, ofType, readStackConfig } from "../scripts/engine";
import { arnOf, evaluate, policyOf, single, statementsOf } from "./support/stack";

const T = {
  api: "aws:apigatewayv2/api:Api",
  route: "aws:apigatewayv2/route:Route",
  integration: "aws:apigatewayv2/integration:Integration",
  authorizer: "aws:apigatewayv2/authorizer:Authorizer",
  stage: "aws:apigatewayv2/stage:Stage",
  fn: "aws:lambda/function:Function",
  permission: "aws:lambda/permission:Permission",
  role: "aws:iam/role:Role",
  rolePolicy: "aws:iam/rolePolicy:RolePolicy",
  logGroup: "aws:cloudwatch/logGroup:LogGroup",
  queue: "aws:sqs/queue:Queue",
  key: "aws:kms/key:Key",
} as const;

describe.each(["dev", "prod"])("the ingest API in %s", (stack) => {
  let plan: StackEvaluation;
  const name = `dp-${stack}-ingestion-api`;
  const config = validateStageConfig(readStackConfig(stack), `Pulumi.${stack}.yaml`);
  const sources: readonly IngestSourceConfig[] = config.ingestSources;
  const get = (type: string, suffix: string) => single(plan, type, `${name}${suffix}`);
  const routeOf = (source: IngestSourceConfig) => get(T.route, `-route-${source.name}`);

  beforeAll(async () => {
    plan = await evaluate(stack);
  });

  it("evaluates without errors or warnings (no deprecations)", () => {
    expect(plan.errors).toEqual([]);
    expect(plan.warnings).toEqual([]);
  });

  it("declares exactly one POST route per configured source, all on the validating front", () => {
    const routes = ofType(plan, T.route).filter((route) => route.name.startsWith(name));
    expect(routes.map((route) => route.inputs.routeKey).sort()).toEqual(sources.map((source) => `POST ${source.route}`).sort());
    const integration = get(T.integration, "-front");
    for (const route of routes) expect(route.inputs.target).toBe(`integrations/${integration.state.id ?? integration.id}`);
    expect(integration.inputs).toMatchObject({
      integrationType: "AWS_PROXY",
      integrationUri: arnOf(single(plan, T.fn, "dp-" + stack + "-ingestion-ingest-front-fn")),
      payloadFormatVersion: "2.0",
      timeoutMilliseconds: 30_000,
    });
  });

  it("throttles each route as its source is configured, and any other route conservatively", () => {
    const stage = get(T.stage, "-default-stage");
    expect(stage.inputs.name).toBe("$default");
    expect(stage.inputs.routeSettings).toEqual(sources.map((source) => ({
      routeKey: ingestRouteKey(source),
      throttlingRateLimit: source.rateLimit,
      throttlingBurstLimit: source.burstLimit,
      detailedMetricsEnabled: true,
    })));
    expect(stage.inputs.defaultRouteSettings).toEqual({ throttlingRateLimit: INGESTION_DEFAULTS.apiDefaultRateLimit, throttlingBurstLimit: INGESTION_DEFAULTS.apiDefaultBurstLimit });
    for (const source of sources) expect(INGESTION_DEFAULTS.apiDefaultRateLimit).toBeLessThanOrEqual(source.rateLimit * 10);
  });

  it("authorises each route as its source says: AWS_IAM, or the JWT authorizer with the source's scope", () => {
    const jwtSources = sources.filter((source) => source.jwtScope !== undefined);
    expect(jwtSources.length).toBeGreaterThan(0);
    const authorizer = get(T.authorizer, "-jwt");
    expect(authorizer.inputs).toMatchObject({
      authorizerType: "JWT",
      identitySources: ["$request.header.Authorization"],
      jwtConfiguration: { issuer: config.ingestJwtIssuer, audiences: config.ingestJwtAudience },
    });
    for (const source of sources) {
      const route = routeOf(source).inputs;
      if (source.jwtScope !== undefined) {
        expect(route).toMatchObject({ authorizationType: "JWT", authorizerId: authorizer.state.id ?? expect.any(String), authorizationScopes: [source.jwtScope] });
      } else {
        expect(route.authorizationType).toBe("AWS_IAM");
        expect(route.authorizerId).toBeUndefined();
      }
    }
  });

  it("gives each IAM source a producer role that its principals alone may assume and that may invoke only its route", () => {
    const api = get(T.api, "");
    const iamSources = sources.filter((source) => source.iamPrincipals !== undefined);
    expect(iamSources.length).toBeGreaterThan(0);
    for (const source of iamSources) {
      const role = get(T.role, `-producer-${source.name}`);
      expect(policyOf(role, "assumeRolePolicy").Statement).toEqual([
        { Sid: "ConfiguredProducers", Effect: "Allow", Principal: { AWS: source.iamPrincipals }, Action: "sts:AssumeRole" },
      ]);
      expect(statementsOf(get(T.rolePolicy, `-producer-${source.name}-policy`))).toEqual([
        { Sid: "InvokeOwnRoute", Effect: "Allow", Action: "execute-api:Invoke", Resource: `${api.state.executionArn}/$default/POST${source.route}` },
      ]);
    }
    const producerRoles = ofType(plan, T.role).filter((role) => role.name.startsWith(`${name}-producer-`));
    expect(producerRoles).toHaveLength(iamSources.length);
    expect(Object.keys(plan.outputs.ingestProducerRoleArns as object).sort()).toEqual(iamSources.map((source) => source.name).sort());
  });

  it("lets the front only send to the ingest queue, with the route table built from the config", () => {
    const fn = single(plan, T.fn, `dp-${stack}-ingestion-ingest-front-fn`);
    const queue = single(plan, T.queue, `dp-${stack}-ingestion-ingest`);
    expect(fn.inputs.environment.variables).toMatchObject({ INGEST_QUEUE_URL: queue.state.url, INGEST_ROUTES: JSON.stringify(ingestRouteTable(sources)) });
    expect(fn.inputs.timeout).toBeLessThan(30);
    const own = statementsOf(single(plan, T.rolePolicy, `dp-${stack}-ingestion-ingest-front-policy`)).filter((statement) => !String(statement.Sid).startsWith("Write"));
    expect(own).toEqual(expect.arrayContaining([
      { Sid: "SendToIngestQueue", Effect: "Allow", Action: "sqs:SendMessage", Resource: arnOf(queue) },
      expect.objectContaining({ Action: ["kms:Decrypt", "kms:GenerateDataKey"], Resource: arnOf(single(plan, T.key, "-keys-data")) }),
    ]));
    expect(own.flatMap((statement) => [statement.Action].flat())).not.toContain("sqs:*");
    const permission = get(T.permission, "-invokes-front");
    expect(permission.inputs).toMatchObject({ principal: "apigateway.amazonaws.com", sourceArn: `${get(T.api, "").state.executionArn}/$default/POST/*` });
  });

  it("logs every request to the KMS-encrypted access log group with the route key and the error fields", () => {
    const stage = get(T.stage, "-default-stage");
    const group = get(T.logGroup, "-access-logs");
    expect(stage.inputs.accessLogSettings.destinationArn).toBe(arnOf(group));
    expect(group.inputs.kmsKeyId).toBe(arnOf(single(plan, "aws:kms/key:Key", "-keys-logs")));
    const format = JSON.parse(stage.inputs.accessLogSettings.format);
    expect(format).toEqual(INGEST_ACCESS_LOG_FORMAT);
    expect(format).toMatchObject({ routeKey: "$context.routeKey", status: "$context.status", error: "$context.error.message", integrationError: "$context.integrationErrorMessage" });
    // HTTP API access log templates are at most 3 KB (http-api-quotas.html).
    expect(Buffer.byteLength(stage.inputs.accessLogSettings.format)).toBeLessThan(3072);
  });

  it("makes the stage wait for the routes its settings name", () => {
    const stage = get(T.stage, "-default-stage");
    const routeUrns = sources.map((source) => routeOf(source).urn);
    expect(stage.dependencies).toEqual(expect.arrayContaining(routeUrns));
  });
});

describe("validateIngestSources", () => {
  const source = { name: "orders", route: "/ingest/orders", schemaVersion: 1, rateLimit: 10, burstLimit: 20, iamPrincipals: ["arn:aws:iam::123456789012:role/x"] };
  it("accepts distinct IAM sources and refuses duplicates, two kinds of caller, and JWT without an authorizer", () => {
    expect(validateIngestSources({ sources: [source, { ...source, name: "payments", route: "/ingest/payments" }] })).toEqual([]);
    expect(validateIngestSources({ sources: [source, { ...source, name: "payments" }] })).toEqual(["api.sources payments: route /ingest/orders is used by another source"]);
    expect(validateIngestSources({ sources: [{ ...source, jwtScope: "s" }] })).toEqual([
      "api.sources orders: exactly one of iamPrincipals and jwtScope",
      "api.jwt: a source has a jwtScope, so the JWT authorizer needs an issuer and at least one audience",
    ]);
    const many = Array.from({ length: 50 }, (_, i) => ({ ...source, name: `source-with-a-long-name-${i}`, route: `/ingest/source-with-a-long-name-${i}/v1` }));
    expect(validateIngestSources({ sources: many })).toEqual([expect.stringMatching(/^api\.sources: the route table is \d+ bytes of the front's environment; at most 3500/)]);
  });
});



