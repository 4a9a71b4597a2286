import * as fs from "fs";
import * as path from "path";
import * as yaml from "js-yaml";
import { CONFIG_NAMESPACE, STAGE_CONFIG_SCHEMA, StageConfigError, validateStageConfig } from "../config";
import { closestKey } from "../config/validate";
import { configReferenceMarkdown, projectConfigDeclarations } from "../scripts/config-reference";
import { PROJECT_DIR, readStackConfig } from "../scripts/engine";
import { ConfigOverrides, stackConfigWith } from "./support/stack";

function problemsFor(stack: string, overrides: ConfigOverrides): StageConfigError {
  try {
    validateStageConfig(stackConfigWith(stack, overrides), `Pulumi.${stack}.yaml`);
  } catch (error) {
    if (error instanceof StageConfigError) return error;
    throw error;
  }
  throw new Error("expected the config to be refused");
}

describe("stage config validation", () => {
  it.each([["dev", "dev", "primary"], ["prod", "prod", "primary"], ["prod-dr", "prod", "dr"]])("accepts the committed %s stack file", (stack, stage, role) => {
    const config = validateStageConfig(readStackConfig(stack), `Pulumi.${stack}.yaml`);
    expect(config.stage).toBe(stage);
    expect(config.stackRole).toBe(role);
  });

  it("gives both stacks of a stage the same regions and data settings, and the DR stack its own network", () => {
    const prod = validateStageConfig(readStackConfig("prod"), "Pulumi.prod.yaml");
    const dr = validateStageConfig(readStackConfig("prod-dr"), "Pulumi.prod-dr.yaml");
    for (const key of ["stage", "primaryRegion", "drRegion", "auroraEngineVersion", "lakeVersioning", "firehoseFormat", "kmsMultiRegion", "activeRegion"] as const) {
      expect([key, dr[key]]).toEqual([key, prod[key]]);
    }
    expect(dr.vpcCidr).not.toBe(prod.vpcCidr);
  });

  it("types values and applies schema defaults", () => {
    const dev = validateStageConfig(readStackConfig("dev"), "Pulumi.dev.yaml");
    expect(dev.azCount).toBe(2);
    expect(dev.deletionProtection).toBe(false);
    expect(dev.alarmEmails).toEqual([]);
    expect(dev.consumerBatchSize).toBe(STAGE_CONFIG_SCHEMA.consumerBatchSize.default);
    const prod = validateStageConfig(readStackConfig("prod"), "Pulumi.prod.yaml");
    expect(prod.alarmEmails).toEqual(["data-platform-oncall@example.com"]);
    expect(prod.kinesisShardCount).toBe(4);
  });

  it("lists every offending key with its value, what is allowed, and the stack file", () => {
    const error = problemsFor("prod", { backupRetentionDays: 0, azCount: 1, bogusKey: "x", kinesisRetentionHours: "a week" });
    expect(error.stackFile).toBe("Pulumi.prod.yaml");
    expect(error.problems.map((p) => p.key).sort()).toEqual(
      ["azCount", "backupRetentionDays", "bogusKey", "kinesisRetentionHours"].map((k) => `${CONFIG_NAMESPACE}:${k}`),
    );
    expect(error.message).toContain("Invalid stage config in Pulumi.prod.yaml (4 problems)");
    expect(error.message).toContain(`${CONFIG_NAMESPACE}:backupRetentionDays = "0": allowed an integer from 2 to 35`);
    expect(error.message).toContain(`${CONFIG_NAMESPACE}:azCount = "1": allowed an integer from 2 to 6`);
    expect(error.message).toContain(`${CONFIG_NAMESPACE}:kinesisRetentionHours = "a week": allowed an integer from 24 to 8760`);
    expect(error.message).toMatch(/bogusKey = "x": allowed no such key/);
  });

  it("suggests the closest known key for a typo", () => {
    const error = problemsFor("dev", { azcount: 2 });
    expect(error.message).toContain("closest: azCount");
    expect(closestKey("backupRetention")).toBe("backupRetentionDays");
  });

  it("names a missing required key", () => {
    const error = problemsFor("dev", { owner: undefined });
    expect(error.problems).toEqual([
      expect.objectContaining({ key: `${CONFIG_NAMESPACE}:owner`, value: undefined, allowed: expect.stringContaining("(required)") }),
    ]);
    expect(error.message).toContain("owner = (missing)");
  });

  it.each([
    ["a DR region equal to the primary", { drRegion: "eu-west-1" }, "drRegion", 'a region other than primaryRegion "eu-west-1"'],
    ["DR without a DR region", { drRegion: "" }, "drRegion", "required when drEnabled is true"],
    ["DR without multi-Region keys", { kmsMultiRegion: false }, "kmsMultiRegion", "replica keys"],
    ["DR without lake versioning", { lakeVersioning: false }, "lakeVersioning", "replication needs versioning"],
    ["a burstable class in a global database", { auroraInstanceClass: "db.t4g.medium" }, "auroraInstanceClass", "non-burstable"],
    ["Parquet with a small buffer", { firehoseBufferMb: 32 }, "firehoseBufferMb", "at least 64"],
    ["Glacier before IA has served 30 days", { lakeIaTransitionDays: 130, lakeGlacierTransitionDays: 150 }, "lakeGlacierTransitionDays", "at least lakeIaTransitionDays + 30"],
    ["a Multi-AZ cache of one node", { cacheNodeCount: 1 }, "cacheNodeCount", "automatic failover"],
    ["Serverless ACU bounds reversed", { auroraServerlessMinAcu: 32, auroraServerlessMaxAcu: 8 }, "auroraServerlessMinAcu", "at most auroraServerlessMaxAcu"],
    ["Multi-AZ Redshift Serverless", { redshiftMode: "serverless" }, "redshiftMultiAz", "Serverless has no Multi-AZ"],
    ["Redshift Serverless in two AZs", { redshiftMode: "serverless", redshiftMultiAz: false, azCount: 2 }, "azCount", "three AZs"],
    ["Redshift Serverless with DR", { redshiftMode: "serverless", redshiftMultiAz: false }, "redshiftMode", "no resource for a Redshift Serverless snapshot copy"],
    ["an active region outside the stage", { activeRegion: "us-east-1" }, "activeRegion", '"eu-west-1", "eu-central-1"'],
  ])("refuses %s in prod", (_label, overrides, key, allowed) => {
    const error = problemsFor("prod", overrides as ConfigOverrides);
    expect(error.problems).toContainEqual(expect.objectContaining({ key: `${CONFIG_NAMESPACE}:${key}`, allowed: expect.stringContaining(allowed) }));
  });

  it.each([
    ["a DR stack for a stage without DR", { stackRole: "dr" }, "stackRole", "unless drEnabled is true"],
    ["a warehouse restore without DR", { drWarehouseRestore: true }, "drWarehouseRestore", "no second region"],
    ["the DR region as active without DR", { activeRegion: "eu-central-1" }, "activeRegion", '"eu-west-1"'],
  ])("refuses %s in dev", (_label, overrides, key, allowed) => {
    const error = problemsFor("dev", overrides as ConfigOverrides);
    expect(error.problems).toContainEqual(expect.objectContaining({ key: `${CONFIG_NAMESPACE}:${key}`, allowed: expect.stringContaining(allowed) }));
  });

  it.each([
    ["logRetentionDays", 10, "one of 1, 3, 5, 7, 14"],
    ["alarmEmails", ["not-an-email"], "each an email address"],
    ["primaryRegion", "Europe", "an AWS region name"],
    ["kinesisStreamMode", "on_demand", '"ON_DEMAND", "PROVISIONED"'],
    ["deletionProtection", "yes", "true or false"],
    ["redshiftServerlessBaseRpu", 12, "a multiple of 8"],
    ["lambdaTimeoutSeconds", 901, "from 1 to 900"],
    ["lambdaMemoryMb", 64, "from 128 to 10240"],
  ])("refuses %s = %j", (key, value, allowed) => {
    const error = problemsFor("dev", { [key]: value as ConfigOverrides[string] });
    expect(error.problems).toEqual([expect.objectContaining({ key: `${CONFIG_NAMESPACE}:${key}`, allowed: expect.stringContaining(allowed) })]);
  });

  it("ignores other namespaces (provider and engine settings)", () => {
    expect(() => validateStageConfig(stackConfigWith("dev", { "aws:skipMetadataApiCheck": "true" }), "Pulumi.dev.yaml")).not.toThrow();
  });
});

describe("ingest sources", () => {
  const prodSources = () => validateStageConfig(readStackConfig("prod"), "Pulumi.prod.yaml").ingestSources;
  /** Prod's list with entry `index` changed (a field set to undefined is removed). */
  const withEntry = (index: number, change: Record<string, unknown>) =>
    JSON.stringify(prodSources().map((source, i) => (i === index ? JSON.parse(JSON.stringify({ ...source, ...change })) : source)));
  const keyOf = (path: string) => `${CONFIG_NAMESPACE}:ingestSources${path}`;

  it("gives prod 12 sources, dev a few, and the DR stack prod's list", () => {
    const prod = prodSources();
    expect(prod).toHaveLength(12);
    expect(new Set(prod.map((source) => source.name)).size).toBe(12);
    expect(validateStageConfig(readStackConfig("prod-dr"), "Pulumi.prod-dr.yaml").ingestSources).toEqual(prod);
    const dev = validateStageConfig(readStackConfig("dev"), "Pulumi.dev.yaml").ingestSources;
    expect(dev.length).toBeGreaterThanOrEqual(2);
    expect(dev.length).toBeLessThan(prod.length);
    for (const source of [...prod, ...dev]) expect(source.route).toMatch(/^\/ingest\//);
  });

  it("defaults to no sources", () => {
    expect(validateStageConfig(stackConfigWith("dev", { ingestSources: undefined }), "Pulumi.dev.yaml").ingestSources).toEqual([]);
  });

  it.each([
    ["a burst above the account's", 3, { burstLimit: 9000 }, "[3].burstLimit", "9000", "an integer from 1 to 5000"],
    ["a rate written as text", 3, { rateLimit: "100" }, "[3].rateLimit", "100", "an integer from 1 to 10000 (written as an unquoted integer, not text)"],
    ["a route that is not a path", 0, { route: "orders" }, "[0].route", "orders", 'a POST path of 1-4 lowercase segments'],
    ["a name with capitals", 1, { name: "Payments" }, "[1].name", "Payments", "2-31 lowercase letters"],
    ["a missing schema version", 2, { schemaVersion: undefined }, "[2].schemaVersion", undefined, "an integer from 1 to 1000 (required)"],
    ["an unknown field", 4, { burst: 10 }, "[4].burst", "10", "no such field; the fields are name, route"],
    ["a principal that is not an ARN", 0, { iamPrincipals: ["order-service"] }, "[0].iamPrincipals", '["order-service"]', "an IAM role, user or account-root ARN"],
    ["both kinds of caller", 0, { jwtScope: "ingest/orders.write" }, "[0].jwtScope", "ingest/orders.write", "a route is authorised by AWS_IAM or by a JWT, not both"],
    ["no caller at all", 0, { iamPrincipals: undefined }, "[0].iamPrincipals", undefined, "every source names who may call it"],
    ["a name another source has", 5, { name: "orders" }, "[5].name", "orders", "a name no other entry has ([0] has it already)"],
    ["a route another source has", 6, { route: "/ingest/payments" }, "[6].route", "/ingest/payments", "a route no other entry has ([1] has it already)"],
  ])("refuses %s, naming the exact key", (_label, index, change, path, value, allowed) => {
    const error = problemsFor("prod", { ingestSources: withEntry(index, change) });
    expect(error.problems).toEqual([{ key: keyOf(path), value, allowed: expect.stringContaining(allowed) }]);
    expect(error.message).toContain(`${keyOf(path)} = `);
  });

  it("names every bad field of every entry at once", () => {
    const list = JSON.parse(withEntry(3, { burstLimit: 0 }));
    list[7].rateLimit = -1;
    const error = problemsFor("prod", { ingestSources: JSON.stringify(list) });
    expect(error.problems.map((problem) => problem.key)).toEqual([keyOf("[3].burstLimit"), keyOf("[7].rateLimit")]);
  });

  it("refuses more sources than the front's environment can hold, before any resource", () => {
    const many = Array.from({ length: 50 }, (_, i) => ({ ...prodSources()[0], name: `source-with-a-long-name-${i}`, route: `/ingest/source-with-a-long-name-${i}/v1` }));
    expect(problemsFor("prod", { ingestSources: JSON.stringify(many) }).problems).toEqual([
      expect.objectContaining({ key: keyOf(""), allowed: expect.stringMatching(/route table fits 3500 bytes of the front's environment \(this one is \d+\)/) }),
    ]);
  });

  it("refuses a list that is not a list of objects", () => {
    expect(problemsFor("dev", { ingestSources: JSON.stringify({ name: "orders" }) }).problems).toEqual([
      expect.objectContaining({ key: keyOf(""), allowed: "a list of ingest sources" }),
    ]);
    expect(problemsFor("dev", { ingestSources: JSON.stringify(["orders"]) }).problems).toEqual([
      expect.objectContaining({ key: keyOf("[0]"), allowed: expect.stringContaining("an object with the fields name, route") }),
    ]);
  });

  it("refuses a JWT-authorised source when the stage names no issuer or audience", () => {
    const error = problemsFor("prod", { ingestJwtIssuer: "", ingestJwtAudience: [] });
    expect(error.problems).toEqual([
      expect.objectContaining({ key: `${CONFIG_NAMESPACE}:ingestJwtIssuer`, allowed: expect.stringContaining("loyalty, web-clickstream, customer-feedback use a jwtScope") }),
      expect.objectContaining({ key: `${CONFIG_NAMESPACE}:ingestJwtAudience`, allowed: expect.stringContaining("at least one audience") }),
    ]);
    expect(problemsFor("dev", { ingestJwtIssuer: "http://issuer.example.com" }).problems).toEqual([
      expect.objectContaining({ key: `${CONFIG_NAMESPACE}:ingestJwtIssuer`, allowed: 'an https issuer URL, or ""' }),
    ]);
  });
});

describe("config declarations stay in step with the schema", () => {
  const project = yaml.load(fs.readFileSync(path.join(PROJECT_DIR, "Pulumi.yaml"), "utf8")) as { name: string; config: Record<string, unknown> };

  it("uses the schema namespace as the project name", () => {
    expect(project.name).toBe(CONFIG_NAMESPACE);
  });

  it("declares every schema key in Pulumi.yaml with its type, description and default", () => {
    expect(project.config).toEqual(projectConfigDeclarations());
  });

  it("leaves only list-of-record keys undeclared (Pulumi's project config has no object type)", () => {
    const undeclared = Object.keys(STAGE_CONFIG_SCHEMA).filter((key) => !(key in project.config));
    expect(undeclared).toEqual(["ingestSources"]);
  });

  it("documents every key in the README config reference", () => {
    const readme = fs.readFileSync(path.join(PROJECT_DIR, "README.md"), "utf8");
    expect(readme).toContain(configReferenceMarkdown());
  });
});

describe("the services' keys", () => {
  it("needs the dashboard's OAuth endpoints when its client API takes JWTs, and refuses them when it does not", () => {
    const missing = problemsFor("prod", { dashboardAuthorizeUrl: "", dashboardTokenUrl: "" });
    expect(missing.problems.map((p) => p.key)).toEqual(["data-platform:dashboardAuthorizeUrl", "data-platform:dashboardTokenUrl"]);
    expect(missing.message).toMatch(/signs users in because clientApiAuth is JWT/);
    const stray = problemsFor("dev", { dashboardEnabled: false, clientApiAuth: "AWS_IAM", clientApiJwtIssuer: "", clientApiJwtAudience: [], dashboardAuthorizeUrl: "" });
    expect(stray.problems.map((p) => p.key)).toEqual(["data-platform:dashboardTokenUrl"]);
    const unsigned = problemsFor("dev", { clientApiAuth: "AWS_IAM", clientApiJwtIssuer: "", clientApiJwtAudience: [], dashboardAuthorizeUrl: "", dashboardTokenUrl: "" });
    expect(unsigned.message).toMatch(/cannot sign AWS_IAM requests/);
  });

  it("refuses scaling bounds that cannot be met and task sizes Fargate does not run, naming each key", () => {
    const error = problemsFor("dev", { aggregatorMinTasks: 5, aggregatorMaxTasks: 2, clientApiCpu: 256, clientApiMemoryMb: 4096 });
    expect(error.problems.map((p) => p.key).sort()).toEqual(["data-platform:aggregatorMinTasks", "data-platform:clientApiMemoryMb"]);
  });

  it("refuses an ALB certificate of another region", () => {
    const error = problemsFor("prod-dr", { clientApiCertificateArn: "arn:aws:acm:eu-west-1:123456789012:certificate/00000000-0000-0000-0000-000000000000" });
    expect(error.message).toMatch(/a certificate in eu-central-1/);
  });
});
