/**
 * The OLTP -> warehouse sync: the pure builders (zero-ETL data filter and resource policy,
 * DMS table mappings and task settings), the config rules that mirror zero-ETL's and DMS's
 * apply-time constraints, and WarehouseSync under the mock engine on both paths, wired to
 * the real OltpDatabase and AnalyticsWarehouse (through platform/stores.ts's arg mapping)
 * so the parameters each path needs are asserted on the stores' parameter groups.
 */
import { StageConfigError, validateStageConfig } from "../config";
import { warehouseSyncProblems } from "../config/validate";
import { WarehouseSync, WarehouseSyncArgs, warehouseSyncArgsProblems } from "../components/batch/warehouse-sync";
import {
  DMS_CLUSTER_PARAMETERS,
  ZERO_ETL_CLUSTER_PARAMETERS,
  dmsInstanceClassProblem,
  dmsTableMappings,
  dmsTaskSettings,
  syncClusterParameters,
  zeroEtlDataFilter,
  zeroEtlKeyPolicy,
  zeroEtlResourcePolicy,
  zeroEtlSupportsAuroraVersion,
} from "../components/batch/warehouse-sync-settings";
import { AnalyticsWarehouse } from "../components/stores/analytics-warehouse";
import { OltpDatabase, oltpDatabaseProblems } from "../components/stores/oltp-database";
import { StoreFoundations, analyticsWarehouseArgs, oltpDatabaseArgs } from "../platform/stores";
import { MOCK_ACCOUNT_ID, PlannedResource, StackEvaluation, ofType, readStackConfig } from "../scripts/engine";
import { STAND_IN, evaluateWithFoundations, standInSubnets } from "./support/local-databases";
import { runPolicies } from "../scripts/policy-runner";
import { ConfigOverrides, policyOf, single, stackConfigWith } from "./support/stack";

const REGION = "eu-west-1";
const NETWORK = { vpcId: "vpc-stand-in", endpoints: "sg-endpoints", s3PrefixList: "pl-s3" };

/** The stores as platform/stores.ts builds them from config, and the sync as the lead wires it. */
function evaluateSync(stack: string, overrides: ConfigOverrides = {}): Promise<StackEvaluation> {
  return evaluateWithFoundations(stack, overrides, (f: StoreFoundations, opts) => {
    const c = f.config;
    const oltp = new OltpDatabase(`${f.prefix}-oltp`, oltpDatabaseArgs(f), opts);
    const warehouse = new AnalyticsWarehouse(`${f.prefix}-warehouse`, analyticsWarehouseArgs(f, STAND_IN.stagedBucket), opts);
    if (c.warehouseSync === "none") return {};
    const args: WarehouseSyncArgs = {
      mode: c.warehouseSync,
      tables: c.warehouseSyncTables,
      source: { clusterArn: oltp.clusterArn, endpoint: oltp.endpoint, port: oltp.port, databaseName: "platform" },
      target: { mode: c.redshiftMode, namespaceArn: warehouse.namespaceArn!, endpoint: warehouse.endpoint, port: warehouse.port, databaseName: warehouse.databaseName },
      kmsKeyArn: f.dataKeyArn,
      logsKeyArn: f.logsKeyArn,
      logRetentionDays: c.logRetentionDays,
      dms: c.warehouseSync !== "dms" ? undefined : {
        region: c.primaryRegion,
        vpcId: NETWORK.vpcId,
        subnetIds: f.isolatedSubnetIds,
        databaseSecurityGroupId: f.securityGroupIds.database,
        warehouseSecurityGroupId: f.securityGroupIds.warehouse,
        endpointsSecurityGroupId: NETWORK.endpoints,
        s3PrefixListId: NETWORK.s3PrefixList,
        instanceClass: c.dmsInstanceClass,
        engineVersion: c.dmsEngineVersion,
        multiAz: c.dmsMultiAz,
        allocatedStorageGb: c.dmsAllocatedStorageGb,
        createAccountRoles: c.dmsCreateAccountRoles,
      },
    };
    new WarehouseSync(`${f.prefix}-sync`, args, opts);
    return {};
  });
}

const accepts = (stack: string, overrides: ConfigOverrides) => validateStageConfig(stackConfigWith(stack, overrides), `Pulumi.${stack}.yaml`);

function refusal(stack: string, overrides: ConfigOverrides): StageConfigError {
  let refused: unknown;
  try {
    accepts(stack, overrides);
  } catch (error) {
    refused = error;
  }
  expect(refused).toBeInstanceOf(StageConfigError);
  return refused as StageConfigError;
}

const keysOf = (error: StageConfigError) => error.problems.map((p) => p.key.split(":")[1]);
const parameters = (plan: StackEvaluation) => single(plan, "aws:rds/clusterParameterGroup:ClusterParameterGroup").inputs.parameters as { name: string; value: string; applyMethod: string }[];

describe("pure builders", () => {
  it("builds the zero-ETL data filter as database.schema.table includes, a whole schema as *", () => {
    expect(zeroEtlDataFilter("platform", ["public.*", "sales.orders"])).toBe("include: platform.public.*, include: platform.sales.orders");
    expect(() => zeroEtlDataFilter("platform", [])).toThrow(/at least one table/);
    expect(() => zeroEtlDataFilter("platform", Array.from({ length: 100 }, (_, i) => `s.t${i}`))).toThrow(/at most 99 patterns/);
    expect(() => zeroEtlDataFilter("platform", ["Sales.Orders"])).toThrow(/not a "schema.table"/);
  });

  it("builds one DMS selection rule per entry, with % for a whole schema", () => {
    expect(JSON.parse(dmsTableMappings(["public.*", "sales.orders"]))).toEqual({
      rules: [
        { "rule-type": "selection", "rule-id": "1", "rule-name": "include-public-all", "object-locator": { "schema-name": "public", "table-name": "%" }, "rule-action": "include" },
        { "rule-type": "selection", "rule-id": "2", "rule-name": "include-sales-orders", "object-locator": { "schema-name": "sales", "table-name": "orders" }, "rule-action": "include" },
      ],
    });
    expect(() => dmsTableMappings([])).toThrow(/at least one selection rule/);
  });

  it("turns CloudWatch logging on in the task settings, and batch apply for Redshift CDC", () => {
    const settings = JSON.parse(dmsTaskSettings("LOGGER_SEVERITY_WARNING"));
    expect(settings.Logging.EnableLogging).toBe(true);
    expect(settings.Logging.LogComponents.map((c: { Id: string }) => c.Id)).toEqual(["SOURCE_CAPTURE", "SOURCE_UNLOAD", "TARGET_APPLY", "TARGET_LOAD", "TASK_MANAGER"]);
    expect(new Set(settings.Logging.LogComponents.map((c: { Severity: string }) => c.Severity))).toEqual(new Set(["LOGGER_SEVERITY_WARNING"]));
    expect(settings.TargetMetadata).toEqual({ BatchApplyEnabled: true });
    expect(JSON.parse(dmsTaskSettings()).Logging.LogComponents[0].Severity).toBe("LOGGER_SEVERITY_DEFAULT");
  });

  it("authorises exactly one source on the namespace, and inbound-integration creation to the account", () => {
    const namespace = "arn:aws:redshift:eu-west-1:123456789012:namespace:abc";
    const source = "arn:aws:rds:eu-west-1:123456789012:cluster:dp-prod-oltp";
    expect(zeroEtlResourcePolicy(namespace, source, "123456789012")).toEqual({
      Version: "2012-10-17",
      Statement: [
        { Sid: "AuthorizeInboundIntegrationFromSource", Effect: "Allow", Principal: { Service: "redshift.amazonaws.com" }, Action: "redshift:AuthorizeInboundIntegration", Resource: namespace, Condition: { StringEquals: { "aws:SourceArn": source } } },
        { Sid: "CreateInboundIntegrationFromAccount", Effect: "Allow", Principal: { AWS: "arn:aws:iam::123456789012:root" }, Action: "redshift:CreateInboundIntegration", Resource: namespace },
      ],
    });
  });

  it("lets Redshift take grants on the integration key only for that integration's context and replication's operations", () => {
    const policy = zeroEtlKeyPolicy("123456789012", "dp-prod-sync") as { Statement: object[] };
    expect(policy.Statement).toEqual([
      { Sid: "AccountAdministersKeyThroughIam", Effect: "Allow", Principal: { AWS: "arn:aws:iam::123456789012:root" }, Action: "kms:*", Resource: "*" },
      {
        Sid: "RedshiftGrantsForThisIntegration",
        Effect: "Allow",
        Principal: { Service: "redshift.amazonaws.com" },
        Action: "kms:CreateGrant",
        Resource: "*",
        Condition: {
          StringEquals: { "kms:EncryptionContext:dataplatform:integration": "dp-prod-sync", "aws:SourceAccount": "123456789012" },
          "ForAllValues:StringEquals": { "kms:GrantOperations": ["Decrypt", "GenerateDataKey", "CreateGrant"] },
        },
      },
    ]);
  });

  it("knows which Aurora PostgreSQL versions zero-ETL supports (16.4+, 17.4+)", () => {
    for (const version of ["16.4", "16.6", "16.10", "17.4", "17.5"]) expect([version, zeroEtlSupportsAuroraVersion(version)]).toEqual([version, true]);
    for (const version of ["16.3", "17.2", "15.8", "14.12", "18.1", "sixteen"]) expect([version, zeroEtlSupportsAuroraVersion(version)]).toEqual([version, false]);
  });

  it("knows the DMS instance classes by family and size", () => {
    expect(dmsInstanceClassProblem("dms.t3.medium")).toBeUndefined();
    expect(dmsInstanceClassProblem("dms.r6i.32xlarge")).toBeUndefined();
    expect(dmsInstanceClassProblem("dms.t3.xlarge")).toMatch(/dms\.t3 comes in \(micro, small, medium, large\)/);
    expect(dmsInstanceClassProblem("dms.t2.medium")).toMatch(/families dms\.t3, dms\.c5/);
  });

  it("names the cluster parameters each sync needs, all pending-reboot", () => {
    expect(syncClusterParameters("none")).toEqual([]);
    expect(syncClusterParameters("dms")).toEqual([{ name: "rds.logical_replication", value: "1", applyMethod: "pending-reboot" }]);
    expect(syncClusterParameters("zero-etl").map((p) => `${p.name}=${p.value}`)).toEqual([
      "rds.logical_replication=1",
      "aurora.enhanced_logical_replication=1",
      "aurora.logical_replication_backup=0",
      "aurora.logical_replication_globaldb=0",
    ]);
    expect(new Set(syncClusterParameters("zero-etl").map((p) => p.applyMethod))).toEqual(new Set(["pending-reboot"]));
  });
});

describe("config rules of the sync", () => {
  it("accepts the committed stack files (zero-ETL on prod, whose Global Database primary may be a source; none on dev and the DR stack)", () => {
    const committed = Object.fromEntries(["dev", "prod", "prod-dr"].map((stack) => [stack, validateStageConfig(readStackConfig(stack), `Pulumi.${stack}.yaml`).warehouseSync]));
    expect(committed).toEqual({ dev: "none", prod: "zero-etl", "prod-dr": "none" });
    expect(accepts("prod", { warehouseSync: "zero-etl" }).drEnabled).toBe(true);
    expect(accepts("dev", { warehouseSync: "dms" }).warehouseSync).toBe("dms");
  });

  it("refuses zero-ETL on an Aurora version it does not support, naming the versions it does", () => {
    for (const version of ["15.8", "16.3"]) {
      const error = refusal("prod", { warehouseSync: "zero-etl", auroraEngineVersion: version });
      expect(keysOf(error)).toEqual(["auroraEngineVersion"]);
      expect(error.message).toContain('allowed 16.4 or a later 16.x, 17.4 or a later 17.x while warehouseSync is "zero-etl"');
    }
  });

  it("refuses zero-ETL into a single-node provisioned warehouse (dev's), but not into Serverless", () => {
    const error = refusal("dev", { warehouseSync: "zero-etl" });
    expect(keysOf(error)).toEqual(["redshiftNodeCount"]);
    expect(error.message).toMatch(/redshiftNodeCount = \(missing\)|redshiftNodeCount = "1"/);
    expect(accepts("dev", { warehouseSync: "zero-etl", redshiftNodeCount: 2 }).warehouseSync).toBe("zero-etl");
    expect(accepts("dev", { warehouseSync: "zero-etl", redshiftMode: "serverless", azCount: 3 }).redshiftMode).toBe("serverless");
  });

  it("refuses a sync on a DR stack (a read-only secondary, no warehouse until a restore)", () => {
    for (const mode of ["zero-etl", "dms"]) {
      const error = refusal("prod-dr", { warehouseSync: mode });
      expect(keysOf(error)).toEqual(["warehouseSync"]);
      expect(error.message).toContain('allowed "none" on a DR stack');
    }
  });

  it("refuses a sync with no tables, or the same table twice", () => {
    expect(keysOf(refusal("dev", { warehouseSync: "dms", warehouseSyncTables: [] }))).toEqual(["warehouseSyncTables"]);
    expect(refusal("dev", { warehouseSync: "dms", warehouseSyncTables: ["sales.orders", "sales.orders"] }).message).toContain("each entry once (repeated: sales.orders)");
    expect(accepts("dev", { warehouseSyncTables: [] }).warehouseSyncTables).toEqual([]); // no sync, no tables needed
  });

  it("refuses DMS engine versions past end of life and classes DMS does not offer, whatever warehouseSync says", () => {
    const error = refusal("dev", { dmsEngineVersion: "3.5.3", dmsInstanceClass: "dms.t3.xlarge" });
    expect(keysOf(error).sort()).toEqual(["dmsEngineVersion", "dmsInstanceClass"]);
    expect(error.message).toContain('allowed one of "3.5.4", "3.6.1"');
    expect(accepts("dev", { dmsEngineVersion: "3.6.1", dmsInstanceClass: "dms.r6i.large" }).dmsEngineVersion).toBe("3.6.1");
  });

  it("refuses DMS for schemas whose names begin with an underscore (Redshift targets cannot take them)", () => {
    const error = refusal("dev", { warehouseSync: "dms", warehouseSyncTables: ["_staging.*"] });
    expect(keysOf(error)).toEqual(["warehouseSyncTables"]);
    expect(accepts("dev", { warehouseSync: "zero-etl", redshiftNodeCount: 2, warehouseSyncTables: ["_staging.*"] }).warehouseSync).toBe("zero-etl");
  });

  it("reports through the problem callback it is given, key by key", () => {
    const reported: string[] = [];
    const config = { ...accepts("dev", {}), warehouseSync: "zero-etl", auroraEngineVersion: "15.4", warehouseSyncTables: [] } as const;
    warehouseSyncProblems(config as unknown as Parameters<typeof warehouseSyncProblems>[0], (key) => reported.push(key));
    expect(reported.sort()).toEqual(["auroraEngineVersion", "redshiftNodeCount", "warehouseSyncTables"]);
  });
});

describe("the OLTP database's own check of the sync parameters", () => {
  it("refuses zero-ETL's logical-replication parameters with applyMethod immediate (AWS applies them at the writer's reboot)", () => {
    const args = { availabilityZoneCount: 2, subnetIds: [], securityGroupIds: [], kmsKeyArn: "key", logsKeyArn: "key", logRetentionDays: 7 };
    const immediate = ZERO_ETL_CLUSTER_PARAMETERS.map((p) => ({ ...p, applyMethod: "immediate" as const }));
    expect(oltpDatabaseProblems("dp-dev-oltp", { ...args, extraClusterParameters: immediate })).toEqual(
      ZERO_ETL_CLUSTER_PARAMETERS.map((p) => `${p.name} is a static parameter: its applyMethod must be "pending-reboot"`),
    );
    expect(oltpDatabaseProblems("dp-dev-oltp", { ...args, extraClusterParameters: [...ZERO_ETL_CLUSTER_PARAMETERS] })).toEqual([]);
  });
});

describe("the component's own argument checks", () => {
  const base: WarehouseSyncArgs = {
    mode: "dms",
    tables: ["public.*"],
    source: { clusterArn: "arn", endpoint: "host", port: 5432, databaseName: "platform" },
    target: { mode: "provisioned", namespaceArn: "arn", endpoint: "host", databaseName: "analytics" },
    kmsKeyArn: "key",
    logsKeyArn: "key",
    logRetentionDays: 7,
  };
  it("needs the DMS placement for DMS, a valid name and at least one table", () => {
    expect(warehouseSyncArgsProblems("dp-dev-sync", base)).toEqual(['dms (network placement and instance settings) is required when mode is "dms"']);
    expect(warehouseSyncArgsProblems("Bad--Name", { ...base, mode: "zero-etl" })).toEqual([expect.stringMatching(/"Bad--Name" must be a lowercase letter/)]);
    expect(warehouseSyncArgsProblems("dp-dev-sync", { ...base, mode: "zero-etl", tables: [] })).toEqual(['tables must name at least one "schema.table" or "schema.*"']);
  });
});

describe.each([
  ["prod", {}],
  ["dev", { redshiftMode: "serverless", azCount: 3 }],
] as const)("zero-ETL (%s %j)", (stack, overrides) => {
  let plan: StackEvaluation;
  let integration: PlannedResource;
  let namespaceArn: string;
  const serverless = "redshiftMode" in overrides;
  beforeAll(async () => {
    plan = await evaluateSync(stack, { ...overrides, warehouseSync: "zero-etl", warehouseSyncTables: ["public.*", "sales.orders"] });
    integration = single(plan, "aws:rds/integration:Integration");
    namespaceArn = serverless
      ? single(plan, "aws:redshiftserverless/namespace:Namespace").state.arn
      : single(plan, "aws:redshift/cluster:Cluster").state.clusterNamespaceArn;
  });

  it("evaluates without errors or warnings (no deprecations)", () => {
    expect(plan.errors).toEqual([]);
    expect(plan.warnings).toEqual([]);
  });

  it("integrates the Aurora cluster into the warehouse's namespace with its own customer key and the configured tables", () => {
    const cluster = single(plan, "aws:rds/cluster:Cluster");
    const key = single(plan, "aws:kms/key:Key", "-integration-key");
    expect(namespaceArn).toEqual(expect.any(String));
    expect(integration.inputs).toMatchObject({
      integrationName: `dp-${stack}-sync`,
      sourceArn: cluster.state.arn,
      targetArn: namespaceArn,
      kmsKeyId: key.state.arn,
      additionalEncryptionContext: { "dataplatform:integration": `dp-${stack}-sync` },
      dataFilter: "include: platform.public.*, include: platform.sales.orders",
    });
    expect(key.inputs.enableKeyRotation).toBe(true);
  });

  it("gives the integration key the policy zeroEtlKeyPolicy builds for this integration", () => {
    expect(JSON.parse(single(plan, "aws:kms/key:Key", "-integration-key").inputs.policy)).toEqual(zeroEtlKeyPolicy(MOCK_ACCOUNT_ID, `dp-${stack}-sync`));
  });

  it("puts a resource policy on the namespace that authorises exactly this source, and is in place before the integration", () => {
    const policy = single(plan, "aws:redshift/resourcePolicy:ResourcePolicy");
    const cluster = single(plan, "aws:rds/cluster:Cluster");
    expect(policy.inputs.resourceArn).toBe(namespaceArn);
    expect(JSON.parse(policy.inputs.policy)).toEqual(zeroEtlResourcePolicy(namespaceArn, cluster.state.arn, MOCK_ACCOUNT_ID));
    expect(integration.dependencies).toContain(policy.urn);
  });

  it("sets zero-ETL's logical-replication parameters on Aurora's cluster parameter group, pending a reboot", () => {
    expect(parameters(plan)).toEqual([{ name: "rds.force_ssl", value: "1", applyMethod: "pending-reboot" }, ...ZERO_ETL_CLUSTER_PARAMETERS]);
  });

  it("makes the warehouse compare identifiers case-sensitively", () => {
    if (serverless) {
      const workgroup = single(plan, "aws:redshiftserverless/workgroup:Workgroup");
      expect(workgroup.inputs.configParameters).toContainEqual({ parameterKey: "enable_case_sensitive_identifier", parameterValue: "true" });
      expect(workgroup.inputs.configParameters.filter((p: { parameterKey: string }) => p.parameterKey === "enable_case_sensitive_identifier")).toHaveLength(1);
    } else {
      expect(single(plan, "aws:redshift/parameterGroup:ParameterGroup").inputs.parameters).toContainEqual({ name: "enable_case_sensitive_identifier", value: "true" });
    }
  });

  it("declares nothing of DMS", () => {
    expect(plan.resources.filter((r) => r.type.startsWith("aws:dms/"))).toEqual([]);
  });
});

describe.each([
  ["dev", {}],
  ["prod", { dmsMultiAz: true, dmsInstanceClass: "dms.r6i.large", dmsEngineVersion: "3.6.1" }],
] as const)("DMS (%s %j)", (stack, overrides) => {
  const tables = ["public.*", "sales.orders"];
  let plan: StackEvaluation;
  let instance: PlannedResource;
  let dmsGroup: PlannedResource;
  beforeAll(async () => {
    plan = await evaluateSync(stack, { ...overrides, warehouseSync: "dms", warehouseSyncTables: tables });
    instance = single(plan, "aws:dms/replicationInstance:ReplicationInstance");
    dmsGroup = single(plan, "aws:ec2/securityGroup:SecurityGroup", "-dms-sg");
  });

  it("evaluates without errors or warnings (no deprecations)", () => {
    expect(plan.errors).toEqual([]);
    expect(plan.warnings).toEqual([]);
  });

  it("runs a private, KMS-encrypted replication instance in the isolated subnets, sized by config", () => {
    const azCount = Number(readStackConfig(stack)["data-platform:azCount"]);
    const subnets = single(plan, "aws:dms/replicationSubnetGroup:ReplicationSubnetGroup");
    expect(subnets.inputs.subnetIds).toEqual(standInSubnets("isolated", azCount));
    expect(instance.inputs).toMatchObject({
      replicationInstanceId: `dp-${stack}-sync-instance`,
      replicationInstanceClass: "dmsInstanceClass" in overrides ? overrides.dmsInstanceClass : "dms.t3.medium",
      engineVersion: "dmsEngineVersion" in overrides ? overrides.dmsEngineVersion : "3.5.4",
      multiAz: "dmsMultiAz" in overrides,
      allocatedStorage: 50,
      kmsKeyArn: STAND_IN.dataKeyArn,
      publiclyAccessible: false,
      replicationSubnetGroupId: subnets.inputs.replicationSubnetGroupId,
      vpcSecurityGroupIds: [dmsGroup.id],
    });
  });

  it("admits the instance to Aurora and Redshift through its own group, and lets it reach only those, the endpoints and S3", () => {
    const ingress = ofType(plan, "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule").map((r) => r.inputs);
    expect(ingress).toEqual(expect.arrayContaining([
      expect.objectContaining({ securityGroupId: STAND_IN.securityGroupIds.database, referencedSecurityGroupId: dmsGroup.id, fromPort: 5432, toPort: 5432, ipProtocol: "tcp" }),
      expect.objectContaining({ securityGroupId: STAND_IN.securityGroupIds.warehouse, referencedSecurityGroupId: dmsGroup.id, fromPort: 5439, toPort: 5439, ipProtocol: "tcp" }),
    ]));
    expect(ingress).toHaveLength(2);
    const egress = ofType(plan, "aws:vpc/securityGroupEgressRule:SecurityGroupEgressRule").map((r) => r.inputs);
    expect(egress.map((rule) => [rule.referencedSecurityGroupId ?? rule.prefixListId, rule.fromPort])).toEqual(expect.arrayContaining([
      [STAND_IN.securityGroupIds.database, 5432],
      [STAND_IN.securityGroupIds.warehouse, 5439],
      [NETWORK.endpoints, 443],
      [NETWORK.s3PrefixList, 443],
    ]));
    expect(egress).toHaveLength(4);
    expect(new Set(egress.map((rule) => rule.securityGroupId))).toEqual(new Set([dmsGroup.id]));
  });

  it("gives both endpoints their credentials from Secrets Manager through a least-privilege role, and TLS", () => {
    const source = single(plan, "aws:dms/endpoint:Endpoint", "-sync-source");
    const target = single(plan, "aws:dms/endpoint:Endpoint", "-sync-target");
    const sourceSecret = single(plan, "aws:secretsmanager/secret:Secret", "-source-credentials");
    const targetSecret = single(plan, "aws:secretsmanager/secret:Secret", "-target-credentials");
    const role = single(plan, "aws:iam/role:Role", "-secrets-role");
    expect(source.inputs).toMatchObject({ endpointType: "source", engineName: "aurora-postgresql", databaseName: "platform", secretsManagerArn: sourceSecret.state.arn, secretsManagerAccessRoleArn: role.state.arn, sslMode: "require", kmsKeyArn: STAND_IN.dataKeyArn });
    expect(target.inputs).toMatchObject({ endpointType: "target", engineName: "redshift", databaseName: "analytics", secretsManagerArn: targetSecret.state.arn, secretsManagerAccessRoleArn: role.state.arn, sslMode: "require" });
    for (const endpoint of [source, target]) {
      for (const field of ["password", "username", "serverName", "port"]) expect([field, endpoint.inputs[field]]).toEqual([field, undefined]);
    }
    for (const secret of [sourceSecret, targetSecret]) expect(secret.inputs.kmsKeyId).toBe(STAND_IN.dataKeyArn);
    for (const value of ofType(plan, "aws:secretsmanager/secretVersion:SecretVersion")) {
      expect(value.inputs.secretString).toBeUndefined(); // write-only: never in state
      expect(value.inputs.secretStringWoVersion).toBe(1);
    }
    expect(JSON.parse(role.inputs.assumeRolePolicy).Statement).toEqual([
      { Effect: "Allow", Principal: { Service: `dms.${REGION}.amazonaws.com` }, Action: "sts:AssumeRole", Condition: { StringEquals: { "aws:SourceAccount": MOCK_ACCOUNT_ID } } },
    ]);
    expect(policyOf(single(plan, "aws:iam/rolePolicy:RolePolicy", "-secrets-policy")).Statement).toEqual([
      { Sid: "ReadEndpointCredentials", Effect: "Allow", Action: "secretsmanager:GetSecretValue", Resource: [sourceSecret.state.arn, targetSecret.state.arn] },
      { Sid: "DecryptEndpointCredentials", Effect: "Allow", Action: ["kms:Decrypt", "kms:DescribeKey"], Resource: STAND_IN.dataKeyArn },
    ]);
  });

  it("stages Redshift loads in a KMS-encrypted, unversioned, expiring bucket through a role scoped to it", () => {
    const target = single(plan, "aws:dms/endpoint:Endpoint", "-sync-target");
    const bucket = single(plan, "aws:s3/bucket:Bucket", "-sync-staging");
    const role = single(plan, "aws:iam/role:Role", "-staging-role");
    expect(target.inputs.redshiftSettings).toEqual({ bucketName: bucket.state.bucket, bucketFolder: "dms", encryptionMode: "SSE_KMS", serverSideEncryptionKmsKeyId: STAND_IN.dataKeyArn, serviceAccessRoleArn: role.state.arn });
    expect(single(plan, "aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration", "-sync-staging-encryption").inputs.rules[0].applyServerSideEncryptionByDefault).toEqual({ sseAlgorithm: "aws:kms", kmsMasterKeyId: STAND_IN.dataKeyArn });
    expect(ofType(plan, "aws:s3/bucketVersioning:BucketVersioning")).toEqual([]);
    expect(policyOf(single(plan, "aws:iam/rolePolicy:RolePolicy", "-staging-policy")).Statement.map((s: { Resource: unknown }) => s.Resource)).toEqual([`${bucket.state.arn}/*`, bucket.state.arn, STAND_IN.dataKeyArn]);
    expect(JSON.stringify(plan.resources.map((r) => r.inputs))).not.toMatch(/FullAccess/);
  });

  it("runs a full-load-and-CDC task with the configured tables and CloudWatch logging into an encrypted log group of its own", () => {
    const task = single(plan, "aws:dms/replicationTask:ReplicationTask");
    expect(task.inputs).toMatchObject({
      replicationTaskId: `dp-${stack}-sync-cdc`,
      migrationType: "full-load-and-cdc",
      tableMappings: dmsTableMappings(tables),
      replicationTaskSettings: dmsTaskSettings(),
      startReplicationTask: false,
    });
    // The mock engine computes no DMS ARNs (scripts/mock-outputs.ts has no entry for them), so the wiring is checked through the task's dependencies.
    for (const resource of [instance, single(plan, "aws:dms/endpoint:Endpoint", "-sync-source"), single(plan, "aws:dms/endpoint:Endpoint", "-sync-target")]) {
      expect(task.dependencies).toContain(resource.urn);
    }
    const logGroup = single(plan, "aws:cloudwatch/logGroup:LogGroup", "-sync-task-logs");
    expect(logGroup.inputs).toMatchObject({ name: `dms-tasks-dp-${stack}-sync-instance`, kmsKeyId: STAND_IN.logsKeyArn, retentionInDays: Number(readStackConfig(stack)["data-platform:logRetentionDays"]) });
    expect(instance.dependencies).toContain(logGroup.urn);
  });

  it("sets only logical replication on Aurora and leaves the warehouse case-insensitive", () => {
    expect(parameters(plan)).toEqual([{ name: "rds.force_ssl", value: "1", applyMethod: "pending-reboot" }, ...DMS_CLUSTER_PARAMETERS]);
    expect(single(plan, "aws:redshift/parameterGroup:ParameterGroup").inputs.parameters.map((p: { name: string }) => p.name)).not.toContain("enable_case_sensitive_identifier");
  });

  it("leaves the account-wide DMS roles alone unless asked", () => {
    expect(plan.resources.filter((r) => ["dms-vpc-role", "dms-cloudwatch-logs-role"].includes(r.inputs.name))).toEqual([]);
  });
});

describe("DMS account roles (dmsCreateAccountRoles)", () => {
  it("creates dms-vpc-role and dms-cloudwatch-logs-role by exact name, before the subnet group and the instance", async () => {
    const plan = await evaluateSync("dev", { warehouseSync: "dms", dmsCreateAccountRoles: true });
    expect(plan.warnings).toEqual([]);
    const roles = ofType(plan, "aws:iam/role:Role").filter((r) => r.inputs.name?.startsWith("dms-"));
    expect(roles.map((r) => r.inputs.name).sort()).toEqual(["dms-cloudwatch-logs-role", "dms-vpc-role"]);
    for (const role of roles) expect(JSON.parse(role.inputs.assumeRolePolicy).Statement[0].Principal).toEqual({ Service: "dms.amazonaws.com" });
    const attachment = (suffix: string) => single(plan, "aws:iam/rolePolicyAttachment:RolePolicyAttachment", suffix);
    expect(attachment("-dms-vpc-role-policy").inputs.policyArn).toBe("arn:aws:iam::aws:policy/service-role/AmazonDMSVPCManagementRole");
    expect(attachment("-dms-cloudwatch-logs-role-policy").inputs.policyArn).toBe("arn:aws:iam::aws:policy/service-role/AmazonDMSCloudWatchLogsRole");
    expect(single(plan, "aws:dms/replicationSubnetGroup:ReplicationSubnetGroup").dependencies).toContain(attachment("-dms-vpc-role-policy").urn);
    expect(single(plan, "aws:dms/replicationInstance:ReplicationInstance").dependencies).toContain(attachment("-dms-cloudwatch-logs-role-policy").urn);
  });
});

describe("no sync", () => {
  it("leaves the stores as they were: only rds.force_ssl, case-insensitive warehouse", async () => {
    const plan = await evaluateSync("dev");
    expect(parameters(plan)).toEqual([{ name: "rds.force_ssl", value: "1", applyMethod: "pending-reboot" }]);
    expect(single(plan, "aws:redshift/parameterGroup:ParameterGroup").inputs.parameters).toEqual([{ name: "require_ssl", value: "true" }, { name: "enable_user_activity_logging", value: "true" }]);
    expect(ofType(plan, "aws:rds/integration:Integration")).toEqual([]);
  });
});

describe("the policy pack over the sync's resources", () => {
  // required-tags is left out: this harness's provider has no defaultTags (the platform's providers set them).
  const findingsOnTheSync = async (stack: string, overrides: ConfigOverrides) => {
    const report = await runPolicies(await evaluateSync(stack, overrides));
    return report.findings
      .filter((finding) => finding.urn?.includes("WarehouseSync") && finding.policy !== "required-tags")
      .map((finding) => `${finding.status} ${finding.policy}: ${finding.resourceName}`);
  };

  it.each([
    ["prod", { warehouseSync: "zero-etl" }],
    ["dev", { warehouseSync: "dms" }],
  ] as const)("finds nothing on %s %j", async (stack, overrides) => {
    expect(await findingsOnTheSync(stack, overrides)).toEqual([]);
  });

  it("advises only on the trust of the two account roles, which follows AWS's documented trust for those exact names", async () => {
    expect(await findingsOnTheSync("dev", { warehouseSync: "dms", dmsCreateAccountRoles: true })).toEqual([
      "advisory iam-service-role-confused-deputy: dp-dev-sync-dms-vpc-role",
      "advisory iam-service-role-confused-deputy: dp-dev-sync-dms-cloudwatch-logs-role",
    ]);
  });
});
