/**
 * AnalyticsWarehouse under the mock engine (dev's single-node cluster, Serverless
 * in a three-AZ dev, a provisioned Multi-AZ cluster as prod configures it), the loader as shipped (serialized
 * closure), and the exported validator provoking Redshift's apply-time rules.
 */
import { AnalyticsWarehouse, AnalyticsWarehouseArgs, SERVERLESS_CONFIG_PARAMETERS, analyticsWarehouseProblems, loaderCallbackFactory } from "../components/stores/analytics-warehouse";
import { loaderSettingsFromEnv } from "../functions/warehouse-loader";
import { WAREHOUSE_LOAD_TARGETS, analyticsWarehouseArgs } from "../platform/stores";
import { PlannedResource, StackEvaluation, ofType } from "../scripts/engine";
import { STAND_IN, evaluateWithFoundations, standInSubnets } from "./support/local-databases";
import { PutObjectCommand, S3Client } from "@aws-sdk/client-s3";
import { copyManifest } from "../functions/lake-staging";
import { EMULATOR_CREDENTIALS, EMULATOR_REGION, RunningEmulator, s3Client, startS3rver } from "./support/aws-emulators";
import { ShippedInvocationFailed, invokeAsShipped } from "./support/shipped";
import { encodeS3NotificationKey, thirdPartyEvent } from "./support/third-party-events";

// eslint-disable-next-line @typescript-eslint/no-require-imports
const { REDSHIFT_DATA_STUB_PATH } = require("./support/redshift-data-stub") as { REDSHIFT_DATA_STUB_PATH: string };
import { ConfigOverrides, policyOf, single } from "./support/stack";

/** Serverless needs subnets in 3 AZs; dev's stack file has 2, so it runs a provisioned node instead. */
const SERVERLESS_IN_THREE_AZS = { azCount: 3, redshiftMode: "serverless" };

function evaluateWarehouse(stack: string, overrides: ConfigOverrides = {}): Promise<StackEvaluation> {
  return evaluateWithFoundations(stack, overrides, (f, opts) => {
    const warehouse = new AnalyticsWarehouse(`${f.prefix}-warehouse`, analyticsWarehouseArgs(f, STAND_IN.stagedBucket), opts);
    return { identifier: warehouse.identifier, endpoint: warehouse.endpoint, copyRoleArn: warehouse.copyRoleArn };
  });
}

const statementsOf = (plan: StackEvaluation, roleSuffix: string) => policyOf(single(plan, "aws:iam/rolePolicy:RolePolicy", `${roleSuffix}-policy`)).Statement;

describe.each([
  ["dev", {}],
  ["dev", SERVERLESS_IN_THREE_AZS],
  ["prod", {}],
] as const)("%s AnalyticsWarehouse (common properties)", (stack, overrides) => {
  let plan: StackEvaluation;
  beforeAll(async () => {
    plan = await evaluateWarehouse(stack, overrides);
  });

  it("evaluates without errors or warnings", () => {
    expect(plan.errors).toEqual([]);
    expect(plan.warnings).toEqual([]);
  });

  it("gives COPY a read-only role on the staged bucket and the data key, trusted by Redshift only", () => {
    const role = single(plan, "aws:iam/role:Role", "-copy-role");
    expect(JSON.parse(role.inputs.assumeRolePolicy).Statement).toEqual([{ Effect: "Allow", Principal: { Service: "redshift.amazonaws.com" }, Action: "sts:AssumeRole" }]);
    expect(statementsOf(plan, "-copy")).toEqual([
      { Sid: "ReadStagedObjects", Effect: "Allow", Action: "s3:GetObject", Resource: `${STAND_IN.stagedBucket.arn}/*` },
      { Sid: "ListStagedBucket", Effect: "Allow", Action: ["s3:ListBucket", "s3:GetBucketLocation"], Resource: STAND_IN.stagedBucket.arn },
      { Sid: "DecryptStagedObjects", Effect: "Allow", Action: "kms:Decrypt", Resource: STAND_IN.dataKeyArn },
    ]);
  });

  it("grants nothing broad: no managed policies, no *FullAccess, no wildcard actions", () => {
    expect(ofType(plan, "aws:iam/rolePolicyAttachment:RolePolicyAttachment")).toEqual([]);
    expect(JSON.stringify(plan.resources.map((r) => r.inputs))).not.toMatch(/FullAccess/);
    for (const policy of ofType(plan, "aws:iam/rolePolicy:RolePolicy")) {
      for (const statement of policyOf(policy).Statement) expect([statement.Action].flat().some((action: string) => action.endsWith(":*") || action === "*")).toBe(false);
    }
  });

  it("triggers the loader from EventBridge 'Object Created' events of the staged bucket's manifests, with retries and a dead-letter queue", () => {
    const rule = single(plan, "aws:cloudwatch/eventRule:EventRule");
    expect(JSON.parse(rule.inputs.eventPattern)).toEqual({
      source: ["aws.s3"],
      "detail-type": ["Object Created"],
      detail: { bucket: { name: [STAND_IN.stagedBucket.name] }, object: { key: [{ prefix: "manifests/" }] } },
    });
    const fn = single(plan, "aws:lambda/function:Function", "-loader-fn");
    const dlq = single(plan, "aws:sqs/queue:Queue", "-loader-dlq");
    expect(dlq.inputs.kmsMasterKeyId).toBe(STAND_IN.dataKeyArn);
    const target = single(plan, "aws:cloudwatch/eventTarget:EventTarget");
    expect(target.inputs).toMatchObject({ arn: fn.state.arn, deadLetterConfig: { arn: dlq.state.arn }, retryPolicy: { maximumRetryAttempts: 20 } });
    const permission = single(plan, "aws:lambda/permission:Permission");
    expect(permission.inputs).toMatchObject({ principal: "events.amazonaws.com", sourceArn: rule.state.arn });
    expect(target.dependencies).toContain(permission.urn);
    expect(single(plan, "aws:lambda/functionEventInvokeConfig:FunctionEventInvokeConfig").inputs.destinationConfig).toEqual({ onFailure: { destination: dlq.state.arn } });
    const queuePolicy = policyOf(single(plan, "aws:sqs/queuePolicy:QueuePolicy")).Statement[0];
    expect(queuePolicy).toMatchObject({ Principal: { Service: "events.amazonaws.com" }, Condition: { ArnEquals: { "aws:SourceArn": rule.state.arn } } });
    expect(JSON.parse(fn.inputs.environment.variables.LOAD_TARGETS)).toEqual(WAREHOUSE_LOAD_TARGETS);
    expect(fn.inputs.vpcConfig).toBeUndefined(); // the Data API is a regional AWS endpoint
  });

  it("lets the loader run batches only on this warehouse, as its own IAM identity, and follow only its own statements", () => {
    const statements = statementsOf(plan, "-loader");
    const sids = statements.map((s) => s.Sid);
    expect(sids).toEqual(expect.arrayContaining(["RunLoadBatches", "ConnectAsOwnIamIdentity", "FollowOwnStatements", "SendFailedEvents"]));
    expect(statements.find((s) => s.Sid === "FollowOwnStatements")).toMatchObject({
      Resource: "*",
      Condition: { StringEquals: { "redshift-data:statement-owner-iam-userid": "${aws:userid}" } },
    });
    expect(JSON.stringify(statements)).not.toMatch(/GetSecretValue/); // no admin secret: the loader authenticates as itself
  });

  it("lets the loader read only the manifests it loads (so an empty one never reaches COPY)", () => {
    const read = statementsOf(plan, "-loader").filter((s) => [s.Action].flat().includes("s3:GetObject"));
    expect(read).toEqual([{ Sid: "ReadManifests", Effect: "Allow", Action: "s3:GetObject", Resource: [`${STAND_IN.stagedBucket.arn}/manifests/*`, `${STAND_IN.stagedBucket.arn}/batch/manifests/*`] }]);
  });
});

describe("dev: a single-node provisioned cluster, as dev's stack file configures it", () => {
  it("runs one RA3 node, single-AZ, unprotected", async () => {
    const plan = await evaluateWarehouse("dev");
    const cluster = single(plan, "aws:redshift/cluster:Cluster");
    expect(cluster.inputs).toMatchObject({ nodeType: "ra3.xlplus", clusterType: "single-node", encrypted: "true", publiclyAccessible: false });
    expect(cluster.inputs.multiAz ?? false).toBe(false);
    expect(cluster.protect).toBe(false);
    expect(ofType(plan, "aws:redshiftserverless/workgroup:Workgroup")).toEqual([]);
  });
});

describe("Redshift Serverless (dev with three AZs)", () => {
  let plan: StackEvaluation;
  let namespace: PlannedResource;
  let workgroup: PlannedResource;
  beforeAll(async () => {
    plan = await evaluateWarehouse("dev", SERVERLESS_IN_THREE_AZS);
    namespace = single(plan, "aws:redshiftserverless/namespace:Namespace");
    workgroup = single(plan, "aws:redshiftserverless/workgroup:Workgroup");
  });

  it("encrypts the namespace with the data key, manages the admin password and exports audit logs", () => {
    const copyRole = single(plan, "aws:iam/role:Role", "-copy-role");
    expect(namespace.inputs).toMatchObject({
      kmsKeyId: STAND_IN.dataKeyArn,
      manageAdminPassword: true,
      adminPasswordSecretKmsKeyId: STAND_IN.dataKeyArn,
      logExports: ["connectionlog", "userlog", "useractivitylog"],
      iamRoles: [copyRole.state.arn],
      defaultIamRoleArn: copyRole.state.arn,
    });
    expect(namespace.inputs.adminUserPassword).toBeUndefined();
    expect(ofType(plan, "aws:redshift/cluster:Cluster")).toEqual([]);
  });

  it("keeps the workgroup private, TLS-only and routed through the VPC, in the isolated subnets", () => {
    expect(workgroup.inputs).toMatchObject({
      publiclyAccessible: false,
      enhancedVpcRouting: true,
      baseCapacity: 8,
      subnetIds: standInSubnets("isolated", 3),
      securityGroupIds: [STAND_IN.securityGroupIds.warehouse],
    });
    expect(workgroup.inputs.configParameters).toContainEqual({ parameterKey: "require_ssl", parameterValue: "true" });
    expect(workgroup.inputs.configParameters).toHaveLength(Object.keys(SERVERLESS_CONFIG_PARAMETERS).length);
  });

  it("is not protected in dev, and has no alarms", () => {
    expect(namespace.protect).toBe(false);
    expect(workgroup.protect).toBe(false);
    expect(ofType(plan, "aws:cloudwatch/metricAlarm:MetricAlarm")).toEqual([]);
  });

  it("is refused in two AZs before any resource: a Serverless workgroup needs subnets in three", async () => {
    await expect(evaluateWarehouse("dev", { redshiftMode: "serverless" })).rejects.toThrow(/azCount = "2": allowed at least 3 when redshiftMode is "serverless"/);
  });
});

describe("prod: provisioned Multi-AZ cluster", () => {
  let plan: StackEvaluation;
  let cluster: PlannedResource;
  beforeAll(async () => {
    plan = await evaluateWarehouse("prod");
    cluster = single(plan, "aws:redshift/cluster:Cluster");
  });

  it("is an encrypted, private, Multi-AZ RA3 cluster with enhanced VPC routing and a managed admin password", () => {
    expect(cluster.inputs).toMatchObject({
      clusterIdentifier: "dp-prod-warehouse",
      nodeType: "ra3.xlplus",
      clusterType: "multi-node",
      numberOfNodes: 2,
      multiAz: true,
      encrypted: "true",
      kmsKeyId: STAND_IN.dataKeyArn,
      publiclyAccessible: false,
      enhancedVpcRouting: true,
      manageMasterPassword: true,
      masterPasswordSecretKmsKeyId: STAND_IN.dataKeyArn,
      vpcSecurityGroupIds: [STAND_IN.securityGroupIds.warehouse],
    });
    expect(cluster.inputs.masterPassword).toBeUndefined();
    expect(single(plan, "aws:redshift/subnetGroup:SubnetGroup").inputs.subnetIds).toEqual(standInSubnets("isolated", 3));
  });

  it("requires TLS and logs user activity through its parameter group", () => {
    const params = single(plan, "aws:redshift/parameterGroup:ParameterGroup");
    expect(params.inputs.family).toBe("redshift-2.0");
    expect(params.inputs.parameters).toEqual(expect.arrayContaining([{ name: "require_ssl", value: "true" }, { name: "enable_user_activity_logging", value: "true" }]));
    expect(cluster.inputs.clusterParameterGroupName).toBe(params.state.name);
  });

  it("sends audit logs to KMS-encrypted CloudWatch log groups that exist first", () => {
    const logging = single(plan, "aws:redshift/logging:Logging");
    expect(logging.inputs).toMatchObject({ logDestinationType: "cloudwatch", logExports: ["connectionlog", "userlog", "useractivitylog"] });
    for (const logType of ["connectionlog", "userlog", "useractivitylog"]) {
      const group = single(plan, "aws:cloudwatch/logGroup:LogGroup", `-${logType}`);
      expect(group.inputs).toMatchObject({ name: `/aws/redshift/cluster/dp-prod-warehouse/${logType}`, kmsKeyId: STAND_IN.logsKeyArn, retentionInDays: 365 });
      expect(logging.dependencies).toContain(group.urn);
    }
  });

  it("keeps 14 days of snapshots, takes a final snapshot, is protected and uses the COPY role by default", () => {
    const copyRole = single(plan, "aws:iam/role:Role", "-copy-role");
    expect(cluster.inputs).toMatchObject({
      automatedSnapshotRetentionPeriod: 14,
      skipFinalSnapshot: false,
      finalSnapshotIdentifier: "dp-prod-warehouse-final",
      iamRoles: [copyRole.state.arn],
      defaultIamRoleArn: copyRole.state.arn,
    });
    expect(cluster.protect).toBe(true);
  });

  it("alarms on loader failures and dead letters", () => {
    const alarms = ofType(plan, "aws:cloudwatch/metricAlarm:MetricAlarm");
    expect(alarms.map((a) => a.inputs.metricName).sort()).toEqual(["ApproximateNumberOfMessagesVisible", "Errors"]);
    for (const alarm of alarms) expect(alarm.inputs.alarmActions).toEqual([STAND_IN.alarmTopicArn]);
  });

  it("addresses the cluster (not a workgroup) from the loader", () => {
    const variables = single(plan, "aws:lambda/function:Function", "-loader-fn").inputs.environment.variables;
    expect(variables).toMatchObject({ WAREHOUSE_CLUSTER_ID: "dp-prod-warehouse", WAREHOUSE_DATABASE: "analytics", POLL_TIMEOUT_MS: "285000" });
    expect(variables.WAREHOUSE_WORKGROUP).toBeUndefined();
    const connect = statementsOf(plan, "-loader").find((s) => s.Sid === "ConnectAsOwnIamIdentity");
    expect(connect).toEqual({ Sid: "ConnectAsOwnIamIdentity", Effect: "Allow", Action: "redshift:GetClusterCredentialsWithIAM", Resource: "arn:aws:redshift:eu-west-1:123456789012:dbname:dp-prod-warehouse/analytics" });
  });
});

describe("the loader as shipped", () => {
  const env = {
    WAREHOUSE_WORKGROUP: "dp-dev-warehouse",
    WAREHOUSE_DATABASE: "analytics",
    COPY_ROLE_ARN: "arn:aws:iam::123456789012:role/copy",
    LOAD_TARGETS: JSON.stringify(WAREHOUSE_LOAD_TARGETS),
    POLL_TIMEOUT_MS: "1000",
  };

  it("reads its settings from the environment and names what is missing", () => {
    expect(loaderSettingsFromEnv(env).warehouse).toEqual({ workgroupName: "dp-dev-warehouse" });
    expect(loaderSettingsFromEnv({ ...env, WAREHOUSE_WORKGROUP: undefined, WAREHOUSE_CLUSTER_ID: "c" }).warehouse).toEqual({ clusterIdentifier: "c" });
    expect(() => loaderSettingsFromEnv({})).toThrow(/Missing environment: WAREHOUSE_DATABASE, COPY_ROLE_ARN, LOAD_TARGETS, POLL_TIMEOUT_MS, WAREHOUSE_WORKGROUP or WAREHOUSE_CLUSTER_ID/);
  });

  it("serializes requiring only the Data API and S3 clients (and Node's zlib for gzipped manifests), loads cold and ignores objects no target claims", async () => {
    const event = { region: "eu-west-1", detail: { bucket: { name: "staged" }, object: { key: "events/x.csv", etag: "e", size: 10 } } };
    const { result, requires } = await invokeAsShipped(loaderCallbackFactory, env, event);
    expect(requires).toEqual(['require("@aws-sdk/client-redshift-data/dist-cjs/index.js")', 'require("@aws-sdk/client-s3/dist-cjs/index.js")', 'require("zlib")']);
    expect(result).toEqual({ status: "ignored", key: "events/x.csv", reason: "no load target claims this prefix" });
  });

  describe("on published EventBridge events, with the staged bucket on s3rver and the Data API stubbed at the client", () => {
    const STAGED = "dp-dev-staged";
    const FIXTURE = "powertools-lambda-python/tests/events/s3EventBridgeNotificationObjectCreatedEvent.json";
    let s3Server: RunningEmulator;
    let s3: S3Client;
    beforeAll(async () => {
      s3Server = await startS3rver([STAGED]);
      s3 = s3Client(s3Server);
    });
    afterAll(async () => {
      s3?.destroy();
      await s3Server?.stop();
    });

    /** The published sample aimed at a manifest of ours, which is put on s3rver first. */
    async function manifestCreated(key: string, files: number): Promise<unknown> {
      const body = copyManifest(STAGED, Array.from({ length: files }, (_, i) => ({ key: `events/event_date=2026-11-01/part-${i}.csv`, bytes: 100 })));
      await s3.send(new PutObjectCommand({ Bucket: STAGED, Key: key, Body: Buffer.from(body) }));
      const event = thirdPartyEvent(FIXTURE);
      event.detail.bucket.name = STAGED;
      event.detail.object.key = encodeS3NotificationKey(key);
      event.detail.object.size = Buffer.byteLength(body);
      return event;
    }
    const shipped = (statuses: object[], pollTimeoutMs = "10000") => ({
      env: {
        ...env,
        POLL_TIMEOUT_MS: pollTimeoutMs,
        AWS_REGION: EMULATOR_REGION,
        AWS_ACCESS_KEY_ID: EMULATOR_CREDENTIALS.accessKeyId,
        AWS_SECRET_ACCESS_KEY: EMULATOR_CREDENTIALS.secretAccessKey,
        AWS_ENDPOINT_URL_S3: s3Server.endpoint,
        REDSHIFT_DATA_STUB: JSON.stringify({ statementId: "stmt-shipped", statuses }),
      },
      options: { preload: REDSHIFT_DATA_STUB_PATH },
    });

    it("loads a manifest and says so", async () => {
      const { env: shippedEnv, options } = shipped([{ Status: "SUBMITTED" }, { Status: "FINISHED" }]);
      const { result } = await invokeAsShipped(loaderCallbackFactory, shippedEnv, await manifestCreated("manifests/shipped ok.manifest", 1), options);
      expect(result).toEqual({ status: "committed", key: "manifests/shipped ok.manifest", statementId: "stmt-shipped", target: "lake.events" });
    });

    it("records a manifest naming no files as an empty load", async () => {
      const { env: shippedEnv, options } = shipped([{ Status: "FINISHED" }]);
      const { result } = await invokeAsShipped(loaderCallbackFactory, shippedEnv, await manifestCreated("manifests/shipped-empty.manifest", 0), options);
      expect(result).toMatchObject({ status: "empty", key: "manifests/shipped-empty.manifest" });
    });

    it("fails a load with the type and message the runtime reports to the dead-letter queue: statement, step and SQL error", async () => {
      const { env: shippedEnv, options } = shipped([
        { Status: "SUBMITTED" },
        { Status: "STARTED" },
        {
          Status: "FAILED",
          Error: "batch failed",
          SubStatements: [{ Id: "stmt-shipped:1", Status: "FINISHED" }, { Id: "stmt-shipped:2", Status: "FINISHED" }, { Id: "stmt-shipped:3", Status: "FINISHED" }, { Id: "stmt-shipped:4", Status: "FAILED", Error: "ERROR: Manifest file is not in correct json format" }],
        },
      ]);
      const failure = invokeAsShipped(loaderCallbackFactory, shippedEnv, await manifestCreated("manifests/shipped-fails.manifest", 1), options);
      await expect(failure).rejects.toBeInstanceOf(ShippedInvocationFailed);
      const { response } = (await failure.catch((error) => error)) as ShippedInvocationFailed;
      expect(response.errorType).toBe("StatementFailedError");
      expect(response.errorMessage).toBe('Redshift statement stmt-shipped failed at step "copy": ERROR: Manifest file is not in correct json format');
      expect(response.trace[0]).toBe(`StatementFailedError: ${response.errorMessage}`);
      expect(response.trace.length).toBeGreaterThan(1);
    });

    it("fails a load that outlives the poll timeout as a StatementTimeoutError naming the statement", async () => {
      const { env: shippedEnv, options } = shipped([{ Status: "STARTED" }], "600");
      const failure = invokeAsShipped(loaderCallbackFactory, shippedEnv, await manifestCreated("manifests/shipped-slow.manifest", 1), options);
      await expect(failure).rejects.toMatchObject({
        response: { errorType: "StatementTimeoutError", errorMessage: "Redshift statement stmt-shipped still STARTED when the poll timeout ran out; it was cancelled" },
      });
    });
  });
});

describe("apply-time rules (exported validator)", () => {
  const base: AnalyticsWarehouseArgs = {
    mode: "provisioned",
    subnetIds: ["s1", "s2", "s3"],
    availabilityZoneCount: 3,
    securityGroupIds: ["sg"],
    kmsKeyArn: "key",
    logsKeyArn: "logs",
    logRetentionDays: 7,
    stagedBucket: STAND_IN.stagedBucket,
  };
  const problems = (overrides: Partial<AnalyticsWarehouseArgs>, name = "dp-dev-warehouse") => analyticsWarehouseProblems(name, { ...base, ...overrides }).join("\n");

  it("accepts sound settings in both modes", () => {
    expect(problems({})).toBe("");
    expect(problems({ mode: "serverless", baseRpu: 32, maxRpu: 64 })).toBe("");
    expect(problems({ multiAz: true, nodeCount: 2 })).toBe("");
  });

  it("refuses Serverless with fewer than 3 AZs, Multi-AZ, or RPUs off the 8-step scale", () => {
    expect(problems({ mode: "serverless", availabilityZoneCount: 2 })).toMatch(/at least 3 AZs, got 2/);
    expect(problems({ mode: "serverless", multiAz: true })).toMatch(/no Multi-AZ setting/);
    expect(problems({ mode: "serverless", baseRpu: 12 })).toMatch(/baseRpu must be 8-1024 in steps of 8/);
    expect(problems({ mode: "serverless", baseRpu: 32, maxRpu: 16 })).toMatch(/maxRpu \(16\) must be at least baseRpu \(32\)/);
  });

  it("refuses Multi-AZ without RA3, a second node or a second AZ", () => {
    expect(problems({ multiAz: true, nodeType: "dc2.large" })).toMatch(/needs an RA3 node type/);
    expect(problems({ multiAz: true, nodeCount: 1 })).toMatch(/at least 2 nodes/);
    expect(problems({ multiAz: true, availabilityZoneCount: 1 })).toMatch(/at least 2 AZs/);
  });

  it("refuses snapshot retention outside 1-35, bad names and unusable load targets", () => {
    expect(problems({ snapshotRetentionDays: 0 })).toMatch(/snapshotRetentionDays must be 1-35/);
    expect(problems({ snapshotRetentionDays: 36 })).toMatch(/snapshotRetentionDays must be 1-35/);
    expect(problems({}, "Warehouse_1")).toMatch(/not a valid Redshift identifier/);
    expect(problems({ databaseName: "Analytics" })).toMatch(/databaseName "Analytics"/);
    expect(problems({ loader: { targets: [{ ...WAREHOUSE_LOAD_TARGETS[0], keyColumns: [] }] } })).toMatch(/keyColumns must name at least one column/);
    expect(problems({ loader: { targets: WAREHOUSE_LOAD_TARGETS, timeoutSeconds: 901 } })).toMatch(/timeoutSeconds must be 30-900/);
  });
});
