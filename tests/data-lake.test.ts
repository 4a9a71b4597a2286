/**
 * DataLake properties in both stages, read from the real program evaluated under the
 * mock engine, plus the component's exported pure rules.
 */
import { DataLakeArgs, catalogName, rawPrefixesToTransform, tieringRule, validateDataLakeArgs } from "../components/lake/data-lake";
import { PlannedResource, StackEvaluation, ofType } from "../scripts/engine";
import { arnOf, childrenOf, denyInsecureTransportStatement, evaluate, single, stageValue, statementsOf } from "./support/stack";

const T = {
  component: "dataplatform:lake:DataLake",
  bucket: "aws:s3/bucket:Bucket",
  ownership: "aws:s3/bucketOwnershipControls:BucketOwnershipControls",
  publicAccess: "aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock",
  encryption: "aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration",
  versioning: "aws:s3/bucketVersioning:BucketVersioning",
  lifecycle: "aws:s3/bucketLifecycleConfiguration:BucketLifecycleConfiguration",
  policy: "aws:s3/bucketPolicy:BucketPolicy",
  logging: "aws:s3/bucketLogging:BucketLogging",
  notification: "aws:s3/bucketNotification:BucketNotification",
  permission: "aws:lambda/permission:Permission",
  invokeConfig: "aws:lambda/functionEventInvokeConfig:FunctionEventInvokeConfig",
  fn: "aws:lambda/function:Function",
  rolePolicy: "aws:iam/rolePolicy:RolePolicy",
  queue: "aws:sqs/queue:Queue",
  topic: "aws:sns/topic:Topic",
  topicPolicy: "aws:sns/topicPolicy:TopicPolicy",
  database: "aws:glue/catalogDatabase:CatalogDatabase",
  table: "aws:glue/catalogTable:CatalogTable",
  workgroup: "aws:athena/workgroup:Workgroup",
  alarm: "aws:cloudwatch/metricAlarm:MetricAlarm",
  key: "aws:kms/key:Key",
} as const;

const ZONES = ["raw", "transformed", "staged", "query-results"] as const;
const ALL_BUCKETS = [...ZONES, "access-logs"] as const;
const stageNumber = (stack: string, key: string, fallback: number) => Number(stageValue(stack, key, fallback));

describe.each(["dev", "prod"])("DataLake in %s", (stack) => {
  let plan: StackEvaluation;
  const prefix = `dp-${stack}-lake`;
  const prod = stack === "prod";
  const get = (type: string, suffix: string) => single(plan, type, `${prefix}${suffix}`);
  const bucket = (zone: string) => get(T.bucket, `-${zone}`);
  const dataKey = () => arnOf(single(plan, T.key, "-keys-data"));

  beforeAll(async () => {
    plan = await evaluate(stack);
  });

  it("evaluates without errors or warnings (no deprecations)", () => {
    expect(plan.errors).toEqual([]);
    expect(plan.warnings).toEqual([]);
  });

  it("parents every child under the component with a name derived from it", () => {
    const children = childrenOf(plan, T.component, prefix);
    expect(children.length).toBeGreaterThan(40);
    for (const child of children) expect(child.name.startsWith(`${prefix}-`)).toBe(true);
  });

  it("blocks all public access and enforces bucket-owner ownership on every bucket", () => {
    for (const zone of ALL_BUCKETS) {
      expect(get(T.publicAccess, `-${zone}-public-access`).inputs).toEqual({
        bucket: bucket(zone).state.id ?? expect.any(String),
        blockPublicAcls: true,
        blockPublicPolicy: true,
        ignorePublicAcls: true,
        restrictPublicBuckets: true,
      });
      expect(get(T.ownership, `-${zone}-ownership`).inputs.rule).toEqual({ objectOwnership: "BucketOwnerEnforced" });
    }
  });

  it("encrypts the zones with SSE-KMS and a bucket key, and the access-log bucket with SSE-S3 (all logging supports)", () => {
    for (const zone of ZONES) {
      expect(get(T.encryption, `-${zone}-encryption`).inputs.rules).toEqual([
        { applyServerSideEncryptionByDefault: { sseAlgorithm: "aws:kms", kmsMasterKeyId: dataKey() }, bucketKeyEnabled: true },
      ]);
    }
    expect(get(T.encryption, "-access-logs-encryption").inputs.rules).toEqual([{ applyServerSideEncryptionByDefault: { sseAlgorithm: "AES256" } }]);
  });

  it("refuses non-TLS requests on every bucket", () => {
    for (const zone of ALL_BUCKETS) {
      const arn = arnOf(bucket(zone));
      expect(statementsOf(get(T.policy, `-${zone}-policy`))).toContainEqual(denyInsecureTransportStatement("s3:*", [arn, `${arn}/*`]));
    }
  });

  it("versions every bucket only when the stage configures it", () => {
    const versioned = ofType(plan, T.versioning).filter((r) => r.name.startsWith(prefix));
    expect(versioned.length).toBe(prod ? ALL_BUCKETS.length : 0);
    for (const resource of versioned) expect(resource.inputs.versioningConfiguration).toEqual({ status: "Enabled" });
  });

  it("tiers zone objects to STANDARD_IA at 30+ days and GLACIER later, and aborts incomplete uploads", () => {
    const ia = stageNumber(stack, "lakeIaTransitionDays", 30);
    const glacier = stageNumber(stack, "lakeGlacierTransitionDays", 90);
    for (const zone of ["raw", "transformed", "staged", "access-logs"]) {
      const [rule] = get(T.lifecycle, `-${zone}-lifecycle`).inputs.rules;
      expect(rule.status).toBe("Enabled");
      expect(rule.transitions).toEqual([{ days: ia, storageClass: "STANDARD_IA" }, { days: glacier, storageClass: "GLACIER" }]);
      expect(rule.transitions[0].days).toBeGreaterThanOrEqual(30);
      expect(rule.transitions[1].days).toBeGreaterThanOrEqual(rule.transitions[0].days + 30);
      expect(rule.abortIncompleteMultipartUpload.daysAfterInitiation).toBeGreaterThan(0);
      expect(rule.noncurrentVersionExpiration !== undefined).toBe(prod);
    }
    expect(get(T.lifecycle, "-query-results-lifecycle").inputs.rules[0]).toMatchObject({ expiration: { days: 30 }, abortIncompleteMultipartUpload: { daysAfterInitiation: 7 } });
    expect(get(T.lifecycle, "-access-logs-lifecycle").inputs.rules[0].expiration.days).toBeGreaterThan(glacier);
  });

  it("logs every zone into the access-log bucket, after its policy admits the logging service", () => {
    const logBucket = bucket("access-logs");
    const logPolicy = get(T.policy, "-access-logs-policy");
    for (const zone of ZONES) {
      const logging = get(T.logging, `-${zone}-access-logging`);
      expect(logging.inputs).toMatchObject({ targetBucket: logBucket.state.id ?? expect.any(String), targetPrefix: `${zone}/` });
      expect(logging.dependencies).toContain(logPolicy.urn);
    }
    const delivery = statementsOf(logPolicy).find((statement) => statement.Sid === "S3ServerAccessLogDelivery");
    expect(delivery).toEqual({
      Sid: "S3ServerAccessLogDelivery",
      Effect: "Allow",
      Principal: { Service: "logging.s3.amazonaws.com" },
      Action: "s3:PutObject",
      Resource: `${arnOf(logBucket)}/*`,
      Condition: { ArnLike: { "aws:SourceArn": ZONES.map((zone) => arnOf(bucket(zone))) }, StringEquals: { "aws:SourceAccount": "123456789012" } },
    });
  });

  it("protects buckets, the catalog and the failure queue in prod, and lets dev tear buckets down", () => {
    for (const zone of ALL_BUCKETS) {
      expect({ zone, protect: bucket(zone).protect, forceDestroy: bucket(zone).inputs.forceDestroy }).toEqual({ zone, protect: prod, forceDestroy: !prod });
    }
    expect(get(T.database, "-catalog").protect).toBe(prod);
    expect(get(T.queue, "-failures").protect).toBe(prod);
  });

  it("invokes the Transformation function on new raw objects, the permission created first", () => {
    const notification = get(T.notification, "-raw-notification");
    const permission = get(T.permission, "-raw-invokes");
    const transform = get(T.fn, "-transform-fn");
    expect(notification.dependencies).toContain(permission.urn);
    expect(permission.inputs).toMatchObject({ action: "lambda:InvokeFunction", principal: "s3.amazonaws.com", sourceArn: arnOf(bucket("raw")), sourceAccount: "123456789012" });
    // Parquet stream output is catalogued as delivered, so only JSON channels are transformed.
    const expectedPrefixes = stageValue(stack, "firehoseFormat", "GZIP") === "PARQUET" ? ["api/"] : ["api/", "stream/"];
    expect(notification.inputs.lambdaFunctions).toEqual(expectedPrefixes.map((filterPrefix) => ({ lambdaFunctionArn: arnOf(transform), events: ["s3:ObjectCreated:*"], filterPrefix })));
  });

  it("invokes the Staging function on new clean objects in the transformed zone, the permission created first", () => {
    const notification = get(T.notification, "-transformed-notification");
    expect(notification.dependencies).toContain(get(T.permission, "-transformed-invokes").urn);
    expect(notification.inputs.lambdaFunctions).toEqual([{ lambdaFunctionArn: arnOf(get(T.fn, "-staging-fn")), events: ["s3:ObjectCreated:*"], filterPrefix: "clean/" }]);
  });

  it("records failed async invocations in an encrypted failure queue", () => {
    const failures = get(T.queue, "-failures");
    expect(failures.inputs.kmsMasterKeyId).toBe(dataKey());
    for (const fn of ["transform", "staging"]) {
      expect(get(T.invokeConfig, `-${fn === "transform" ? "raw" : "transformed"}-async`).inputs).toMatchObject({
        maximumRetryAttempts: 2,
        destinationConfig: { onFailure: { destination: arnOf(failures) } },
      });
    }
  });

  it("scopes the lake functions to their prefixes, the data key and the failure queue", () => {
    const transform = Object.fromEntries(statementsOf(get(T.rolePolicy, "-transform-policy")).map((s) => [s.Sid, s]));
    const raw = arnOf(bucket("raw"));
    const transformed = arnOf(bucket("transformed"));
    // Only what the notification fires for: Parquet stream output is catalogued as delivered and never read.
    const transformedPrefixes = stageValue(stack, "firehoseFormat", "GZIP") === "PARQUET" ? ["api/"] : ["api/", "stream/"];
    expect(transform.ReadRawObjects).toEqual({ Sid: "ReadRawObjects", Effect: "Allow", Action: "s3:GetObject", Resource: transformedPrefixes.map((prefix) => `${raw}/${prefix}*`) });
    expect(transform.WriteTransformedObjects).toMatchObject({ Action: "s3:PutObject", Resource: [`${transformed}/clean/*`, `${transformed}/quarantine/lake-transform/*`] });
    expect(transform.UseDataKey.Resource).toBe(dataKey());
    expect(transform.RecordFailedInvocations).toMatchObject({ Action: "sqs:SendMessage", Resource: arnOf(get(T.queue, "-failures")) });
    const staging = Object.fromEntries(statementsOf(get(T.rolePolicy, "-staging-policy")).map((s) => [s.Sid, s]));
    expect(staging.ReadCleanObjects.Resource).toEqual([`${transformed}/clean/*`]);
    expect(staging.WriteStagedObjects.Resource).toEqual([`${arnOf(bucket("staged"))}/events/*`, `${arnOf(bucket("staged"))}/manifests/*`]);
  });

  it("announces new COPY manifests on an encrypted topic only the staged bucket may publish to, and on EventBridge", () => {
    const topic = get(T.topic, "-events");
    const topicPolicy = get(T.topicPolicy, "-events-policy");
    const notification = get(T.notification, "-staged-notification");
    expect(topic.inputs.kmsMasterKeyId).toBe(dataKey());
    expect(notification.inputs.eventbridge).toBe(true);
    expect(notification.inputs.topics).toEqual([{ topicArn: arnOf(topic), events: ["s3:ObjectCreated:*"], filterPrefix: "manifests/", filterSuffix: ".manifest" }]);
    expect(notification.dependencies).toContain(topicPolicy.urn);
    expect(statementsOf(topicPolicy)[0]).toMatchObject({ Principal: { Service: "s3.amazonaws.com" }, Condition: { ArnEquals: { "aws:SourceArn": arnOf(bucket("staged")) } } });
  });

  it("catalogues one table per zone in one Glue database, with partition projection", () => {
    expect(get(T.database, "-catalog").inputs.name).toBe(`dp_${stack}_lake`);
    const tables: Record<string, PlannedResource> = Object.fromEntries(ofType(plan, T.table).filter((t) => t.name.startsWith(prefix)).map((t) => [t.inputs.name, t]));
    expect(Object.keys(tables).sort()).toEqual(["raw_api_events", "raw_stream_events", "staged_events", "transformed_events"]);
    for (const table of Object.values(tables)) {
      expect(table.inputs.databaseName).toBe(`dp_${stack}_lake`);
      expect(table.inputs.parameters["projection.enabled"]).toBe("true");
      expect(table.inputs.parameters["storage.location.template"]).toMatch(/^s3:\/\/dp-\w+-lake-\w+-[0-9a-f]{7}\/.*\$\{/);
    }
    const parquet = stageValue(stack, "firehoseFormat", "GZIP") === "PARQUET";
    expect(tables.raw_stream_events.inputs.storageDescriptor.serDeInfo.serializationLibrary).toBe(
      parquet ? "org.apache.hadoop.hive.ql.io.parquet.serde.ParquetHiveSerDe" : "org.openx.data.jsonserde.JsonSerDe",
    );
    expect(tables.staged_events.inputs.storageDescriptor.location).toBe(`s3://${bucket("staged").state.bucket}/events/`);
  });

  it("runs Athena in a workgroup that enforces KMS-encrypted results and publishes metrics", () => {
    const workgroup = get(T.workgroup, "-athena");
    expect(workgroup.inputs.configuration).toMatchObject({
      enforceWorkgroupConfiguration: true,
      publishCloudwatchMetricsEnabled: true,
      resultConfiguration: {
        outputLocation: `s3://${bucket("query-results").state.bucket}/results/`,
        encryptionConfiguration: { encryptionOption: "SSE_KMS", kmsKeyArn: dataKey() },
      },
    });
  });

  it("exposes the buckets, catalog and workgroup the rest of the platform needs", () => {
    expect(plan.outputs).toMatchObject({
      rawBucketName: bucket("raw").state.bucket,
      stagedBucketName: bucket("staged").state.bucket,
      glueDatabaseName: `dp_${stack}_lake`,
      athenaWorkgroupName: `${prefix}-analytics`,
      lakeEventsTopicArn: arnOf(get(T.topic, "-events")),
    });
  });

  it("alarms on the failure queue and both functions only when the stage enables alarms", () => {
    const alarms = ofType(plan, T.alarm).filter((alarm) => alarm.name.startsWith(prefix)).map((alarm) => alarm.name.slice(prefix.length + 1)).sort();
    expect(alarms).toEqual(prod ? ["failures-depth", "staging-errors", "staging-throttles", "transform-errors", "transform-quarantined", "transform-throttles"] : []);
  });
});

describe("DataLake stage differences come from config alone", () => {
  it("follows firehoseFormat and alarmsEnabled in dev as in prod", async () => {
    const plan = await evaluate("dev", { firehoseFormat: "PARQUET", firehoseBufferMb: 64, alarmsEnabled: true });
    expect(plan.errors).toEqual([]);
    expect(single(plan, T.notification, "dp-dev-lake-raw-notification").inputs.lambdaFunctions.map((f: { filterPrefix: string }) => f.filterPrefix)).toEqual(["api/"]);
    expect(ofType(plan, T.alarm).filter((alarm) => alarm.name.startsWith("dp-dev-lake"))).toHaveLength(6);
  });
});

describe("DataLake rules", () => {
  const base: DataLakeArgs = { dataKeyArn: "key", functions: { logRetentionDays: 7, logsKeyArn: "logs" } };

  it("accepts the defaults", () => {
    expect(validateDataLakeArgs(base)).toEqual([]);
  });

  it.each<[string, Partial<DataLakeArgs>, RegExp]>([
    ["STANDARD_IA before 30 days", { iaTransitionDays: 10 }, /after 30 days at the earliest/],
    ["GLACIER less than 30 days after STANDARD_IA", { iaTransitionDays: 60, glacierTransitionDays: 80 }, /at least 90/],
    ["access logs expiring before GLACIER", { accessLogExpirationDays: 60 }, /later than glacierTransitionDays/],
    ["Lambda memory below 128 MB", { functions: { logRetentionDays: 7, logsKeyArn: "logs", memorySize: 64 } }, /128-10240/],
  ])("refuses %s", (_case, overrides, problem) => {
    expect(validateDataLakeArgs({ ...base, ...overrides }).join("\n")).toMatch(problem);
  });

  it("transforms the stream prefix only when Firehose writes JSON", () => {
    expect(rawPrefixesToTransform("GZIP")).toEqual(["api/", "stream/"]);
    expect(rawPrefixesToTransform("PARQUET")).toEqual(["api/"]);
  });

  it("builds tiering rules with noncurrent-version expiry only for versioned buckets", () => {
    const rule = tieringRule({ iaTransitionDays: 30, glacierTransitionDays: 90, abortIncompleteUploadDays: 7 });
    expect(rule).not.toHaveProperty("noncurrentVersionExpiration");
    expect(tieringRule({ iaTransitionDays: 30, glacierTransitionDays: 90, abortIncompleteUploadDays: 7, noncurrentVersionExpirationDays: 90 }).noncurrentVersionExpiration).toEqual({ noncurrentDays: 90 });
  });

  it("derives Glue-safe names", () => {
    expect(catalogName("dp-prod-lake")).toBe("dp_prod_lake");
  });
});
