/**
 * IngestionLayer properties in both stages, read from the real program evaluated under
 * the mock engine. Expected stage values come from the stack files, so the tests assert
 * the config → args → resource mapping rather than repeat numbers.
 */
import {
  INGEST_QUEUE_RETENTION_SECONDS,
  IngestionLayerArgs,
  VISIBILITY_TIMEOUT_FACTOR,
  claimTtlDays,
  firehosePrefixes,
  staleClaimMs,
  validateIngestionLayerArgs,
} from "../components/ingestion/ingestion-layer";
import { BACKUP_SERVICE_POLICIES } from "../components/backup/backup-plan";
import { PlannedResource, StackEvaluation, ofType } from "../scripts/engine";
import { arnOf, childrenOf, denyInsecureTransportStatement, evaluate, single, stageValue, statementsOf } from "./support/stack";

const T = {
  component: "dataplatform:ingestion:IngestionLayer",
  stream: "aws:kinesis/stream:Stream",
  table: "aws:dynamodb/table:Table",
  queue: "aws:sqs/queue:Queue",
  queuePolicy: "aws:sqs/queuePolicy:QueuePolicy",
  fn: "aws:lambda/function:Function",
  mapping: "aws:lambda/eventSourceMapping:EventSourceMapping",
  firehose: "aws:kinesis/firehoseDeliveryStream:FirehoseDeliveryStream",
  rolePolicy: "aws:iam/rolePolicy:RolePolicy",
  role: "aws:iam/role:Role",
  logGroup: "aws:cloudwatch/logGroup:LogGroup",
  alarm: "aws:cloudwatch/metricAlarm:MetricAlarm",
  route: "aws:apigatewayv2/route:Route",
  integration: "aws:apigatewayv2/integration:Integration",
  stage: "aws:apigatewayv2/stage:Stage",
  key: "aws:kms/key:Key",
  topic: "aws:sns/topic:Topic",
} as const;

const bySid = (resource: PlannedResource, sid: string) => statementsOf(resource).find((statement) => statement.Sid === sid);

describe.each(["dev", "prod"])("IngestionLayer in %s", (stack) => {
  let plan: StackEvaluation;
  const prefix = `dp-${stack}-ingestion`;
  const prod = stack === "prod";
  const get = (type: string, suffix: string) => single(plan, type, `${prefix}${suffix}`);
  const transformedBucket = () => single(plan, "aws:s3/bucket:Bucket", `dp-${stack}-lake-transformed`);

  beforeAll(async () => {
    plan = await evaluate(stack);
  });

  it("evaluates without errors or warnings (no deprecations)", () => {
    expect(plan.errors).toEqual([]);
    expect(plan.warnings).toEqual([]);
  });

  it("names every child after the component and parents it under the component", () => {
    const children = childrenOf(plan, T.component, prefix);
    expect(children.length).toBeGreaterThan(20);
    for (const child of children) expect(child.name.startsWith(`${prefix}-`)).toBe(true);
    expect(plan.resources.filter((r) => r.name.startsWith(`${prefix}-`) && r.custom).every((r) => r.parent !== undefined && r.parent !== "")).toBe(true);
  });

  it("encrypts the stream with the data key and sizes it from config", () => {
    const stream = get(T.stream, "-stream");
    const dataKey = arnOf(single(plan, T.key, "-keys-data"));
    expect(stream.inputs).toMatchObject({ encryptionType: "KMS", kmsKeyId: dataKey, retentionPeriod: Number(stageValue(stack, "kinesisRetentionHours", 168)) });
    expect(stream.inputs.streamModeDetails.streamMode).toBe(stageValue(stack, "kinesisStreamMode", "ON_DEMAND"));
    if (stream.inputs.streamModeDetails.streamMode === "ON_DEMAND") expect(stream.inputs.shardCount).toBeUndefined();
    else expect(stream.inputs.shardCount).toBe(Number(stageValue(stack, "kinesisShardCount", 1)));
    if (prod) expect(stream.inputs.retentionPeriod).toBeGreaterThanOrEqual(168);
  });

  it("keeps the speed layer on demand, encrypted, TTL'd and streamed, with stage PITR and deletion protection", () => {
    const table = get(T.table, "-speed-layer");
    expect(table.inputs).toMatchObject({
      billingMode: "PAY_PER_REQUEST",
      serverSideEncryption: { enabled: true, kmsKeyArn: arnOf(single(plan, T.key, "-keys-data")) },
      pointInTimeRecovery: { enabled: prod },
      deletionProtectionEnabled: prod,
      ttl: { attributeName: "expiresAt", enabled: true },
      streamEnabled: true,
      streamViewType: "NEW_AND_OLD_IMAGES",
    });
    expect(table.inputs.readCapacity).toBeUndefined();
    expect(table.inputs.writeCapacity).toBeUndefined();
  });

  it("keeps the raw zone's claims in an on-demand, encrypted table that TTL empties after the longest redelivery window", () => {
    const table = get(T.table, "-claims");
    expect(table.inputs).toMatchObject({
      billingMode: "PAY_PER_REQUEST",
      hashKey: "pk",
      attributes: [{ name: "pk", type: "S" }],
      serverSideEncryption: { enabled: true, kmsKeyArn: arnOf(single(plan, T.key, "-keys-data")) },
      pointInTimeRecovery: { enabled: prod },
      deletionProtectionEnabled: prod,
      ttl: { attributeName: "expiresAt", enabled: true },
    });
    const retentionHours = Number(stageValue(stack, "kinesisRetentionHours", 168));
    const ttlSeconds = String(claimTtlDays(retentionHours) * 86_400);
    expect(claimTtlDays(retentionHours) * 86_400).toBeGreaterThan(Math.max(INGEST_QUEUE_RETENTION_SECONDS, retentionHours * 3600));
    for (const fn of [get(T.fn, "-queue-consumer-fn"), get(T.fn, "-stream-dedup-fn")]) {
      expect(fn.inputs.environment.variables).toMatchObject({ CLAIMS_TABLE: table.state.name, CLAIM_TTL_SECONDS: ttlSeconds });
    }
    const consumer = get(T.fn, "-queue-consumer-fn");
    expect(consumer.inputs.environment.variables.STALE_CLAIM_MS).toBe(String(staleClaimMs(consumer.inputs.timeout)));
    // A claim is stale well before SQS can redeliver its message.
    expect(staleClaimMs(consumer.inputs.timeout)).toBeLessThan(get(T.queue, "-ingest").inputs.visibilityTimeoutSeconds * 1000);
  });

  it("lets each writer claim only its own channel's event ids", () => {
    const claims = arnOf(get(T.table, "-claims"));
    expect(bySid(get(T.rolePolicy, "-queue-consumer-policy"), "ClaimApiEvents")).toEqual({
      Sid: "ClaimApiEvents",
      Effect: "Allow",
      Action: ["dynamodb:PutItem", "dynamodb:GetItem"],
      Resource: claims,
      Condition: { "ForAllValues:StringLike": { "dynamodb:LeadingKeys": ["raw-api#*"] } },
    });
    const dedup = statementsOf(get(T.rolePolicy, "-stream-dedup-policy"));
    expect(dedup.find((statement) => statement.Sid === "ClaimStreamEvents")).toMatchObject({ Resource: claims, Condition: { "ForAllValues:StringLike": { "dynamodb:LeadingKeys": ["raw-stream#*"] } } });
    expect(dedup.map((statement) => statement.Sid).sort()).toEqual(["ClaimStreamEvents", "ManageVpcNetworkInterfaces", "UseDataKey", "WriteOwnLogs", "WriteTraces"]);
  });

  it("protects the stateful resources in prod only", () => {
    const stateful = [get(T.stream, "-stream"), get(T.table, "-speed-layer"), get(T.table, "-claims"), get(T.queue, "-ingest"), get(T.queue, "-ingest-dlq"), get(T.queue, "-stream-dlq")];
    for (const resource of stateful) expect({ name: resource.name, protect: resource.protect }).toEqual({ name: resource.name, protect: prod });
  });

  it("maps the stream with partial batch failures, bisect, bounded retries and an on-failure DLQ", () => {
    const mapping = get(T.mapping, "-stream-mapping");
    expect(mapping.inputs).toMatchObject({
      eventSourceArn: arnOf(get(T.stream, "-stream")),
      functionName: arnOf(get(T.fn, "-stream-consumer-fn")),
      functionResponseTypes: ["ReportBatchItemFailures"],
      bisectBatchOnFunctionError: true,
      startingPosition: "TRIM_HORIZON",
      batchSize: Number(stageValue(stack, "consumerBatchSize", 100)),
      maximumBatchingWindowInSeconds: Number(stageValue(stack, "consumerBatchWindowSeconds", 5)),
      maximumRetryAttempts: Number(stageValue(stack, "consumerMaxRetryAttempts", 3)),
      maximumRecordAgeInSeconds: Number(stageValue(stack, "consumerMaxRecordAgeSeconds", 3600)),
      destinationConfig: { onFailure: { destinationArn: arnOf(get(T.queue, "-stream-dlq")) } },
    });
    expect(mapping.inputs.maximumRetryAttempts).toBeGreaterThanOrEqual(0);
  });

  it("gives the stream consumer exactly the rights it uses", () => {
    const statements = statementsOf(get(T.rolePolicy, "-stream-consumer-policy"));
    const byId = Object.fromEntries(statements.map((statement) => [statement.Sid, statement]));
    expect(byId.ReadStream).toEqual({
      Sid: "ReadStream",
      Effect: "Allow",
      Action: ["kinesis:DescribeStream", "kinesis:DescribeStreamSummary", "kinesis:GetRecords", "kinesis:GetShardIterator", "kinesis:ListShards"],
      Resource: arnOf(get(T.stream, "-stream")),
    });
    expect(byId.WriteSpeedLayer).toMatchObject({ Action: "dynamodb:BatchWriteItem", Resource: arnOf(get(T.table, "-speed-layer")) });
    expect(byId.SendFailedBatchesToDlq).toMatchObject({ Action: "sqs:SendMessage", Resource: arnOf(get(T.queue, "-stream-dlq")) });
    expect(byId.UseDataKey).toMatchObject({ Action: ["kms:Decrypt", "kms:GenerateDataKey"], Resource: arnOf(single(plan, T.key, "-keys-data")) });
    expect(byId.QuarantinePoisonRecords).toEqual({ Sid: "QuarantinePoisonRecords", Effect: "Allow", Action: "s3:PutObject", Resource: `${arnOf(transformedBucket())}/quarantine/speed-layer/*` });
    expect(Object.keys(byId).sort()).toEqual(["ManageVpcNetworkInterfaces", "QuarantinePoisonRecords", "ReadStream", "SendFailedBatchesToDlq", "UseDataKey", "WriteOwnLogs", "WriteSpeedLayer", "WriteTraces"]);
  });

  it("keeps the quarantine encrypted with the data key and, where the stage alarms, alarmed on every function that writes it", () => {
    const bucket = transformedBucket();
    const writers = ofType(plan, T.fn).filter((fn) => fn.inputs.environment?.variables?.QUARANTINE_BUCKET !== undefined);
    expect(writers.map((fn) => fn.name).sort()).toEqual([`${prefix}-queue-consumer-fn`, `${prefix}-stream-consumer-fn`]);
    const encryption = single(plan, "aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration", `dp-${stack}-lake-transformed-encryption`);
    expect([bucket.id, bucket.state.bucket]).toContain(encryption.inputs.bucket);
    expect(encryption.inputs.rules).toEqual([expect.objectContaining({ applyServerSideEncryptionByDefault: { sseAlgorithm: "aws:kms", kmsMasterKeyId: arnOf(single(plan, T.key, "-keys-data")) } })]);
    const alarmed = ofType(plan, T.alarm).filter((alarm) => alarm.inputs.namespace === "DataPlatform/Quarantine" && alarm.inputs.metricName === "QuarantinedRecords");
    const lakeTransform = single(plan, T.fn, `dp-${stack}-lake-transform-fn`);
    const expected = prod ? [...writers, lakeTransform].map((fn) => fn.state.name).sort() : [];
    expect(alarmed.map((alarm) => alarm.inputs.dimensions.FunctionName).sort()).toEqual(expected);
    for (const alarm of alarmed) expect(alarm.inputs).toMatchObject({ statistic: "Sum", threshold: 0, comparisonOperator: "GreaterThanThreshold", alarmActions: [plan.outputs.alarmTopicArn] });
    for (const fn of writers) expect(fn.inputs.environment.variables.QUARANTINE_BUCKET).toBe(bucket.state.bucket);
  });

  it("encrypts every queue with the data key and refuses non-TLS access to each", () => {
    const dataKey = arnOf(single(plan, T.key, "-keys-data"));
    const queues = ofType(plan, T.queue).filter((queue) => queue.name.startsWith(prefix));
    expect(queues.map((queue) => queue.name).sort()).toEqual([`${prefix}-ingest`, `${prefix}-ingest-dlq`, `${prefix}-stream-dlq`]);
    for (const queue of queues) {
      expect(queue.inputs.kmsMasterKeyId).toBe(dataKey);
      const policy = single(plan, T.queuePolicy, `${queue.name}-policy`);
      expect(statementsOf(policy)).toContainEqual(denyInsecureTransportStatement("sqs:*", arnOf(queue)));
    }
  });

  it("sets the ingest queue's visibility to 6x the consumer timeout and redrives after maxReceiveCount", () => {
    const queue = get(T.queue, "-ingest");
    const consumer = get(T.fn, "-queue-consumer-fn");
    expect(queue.inputs.visibilityTimeoutSeconds).toBe(VISIBILITY_TIMEOUT_FACTOR * consumer.inputs.timeout);
    expect(queue.inputs.visibilityTimeoutSeconds).toBeGreaterThanOrEqual(6 * consumer.inputs.timeout);
    expect(JSON.parse(queue.inputs.redrivePolicy)).toEqual({
      deadLetterTargetArn: arnOf(get(T.queue, "-ingest-dlq")),
      maxReceiveCount: Number(stageValue(stack, "sqsMaxReceiveCount", 5)),
    });
  });

  it("maps the queue with partial batch failures and no starting position", () => {
    const mapping = get(T.mapping, "-queue-mapping");
    expect(mapping.inputs).toMatchObject({ eventSourceArn: arnOf(get(T.queue, "-ingest")), functionResponseTypes: ["ReportBatchItemFailures"] });
    expect(mapping.inputs.startingPosition).toBeUndefined();
    expect(mapping.inputs.batchSize).toBeLessThanOrEqual(10);
  });

  it("lets the queue consumer write, and read back, only the raw api/ prefix", () => {
    const access = bySid(get(T.rolePolicy, "-queue-consumer-policy"), "ReadAndWriteRawApiObjects");
    expect(access).toMatchObject({ Action: ["s3:PutObject", "s3:GetObject"], Resource: expect.stringMatching(/^arn:aws:s3:::dp-\w+-lake-raw-\w+\/api\/\*$/) });
  });

  it("runs the consumers with stage memory and tracing, inside the private subnets", () => {
    for (const suffix of ["-stream-consumer-fn", "-queue-consumer-fn", "-stream-dedup-fn"]) {
      const fn = get(T.fn, suffix);
      expect(fn.inputs.memorySize).toBe(Number(stageValue(stack, "lambdaMemoryMb", 512)));
      expect(fn.inputs.tracingConfig).toEqual({ mode: "Active" });
      expect(fn.inputs.vpcConfig.subnetIds).toEqual(plan.outputs.privateSubnetIds);
    }
  });

  it("delivers the stream to the raw bucket in hourly partitions with KMS and an error prefix", () => {
    const firehose = get(T.firehose, "-firehose");
    const s3 = firehose.inputs.extendedS3Configuration;
    expect(firehose.inputs.kinesisSourceConfiguration.kinesisStreamArn).toBe(arnOf(get(T.stream, "-stream")));
    expect(s3.prefix).toBe("stream/year=!{timestamp:yyyy}/month=!{timestamp:MM}/day=!{timestamp:dd}/hour=!{timestamp:HH}/");
    expect(s3.prefix).toBe(firehosePrefixes().prefix);
    expect(s3.errorOutputPrefix).toContain("!{firehose:error-output-type}");
    expect(s3.kmsKeyArn).toBe(arnOf(single(plan, T.key, "-keys-data")));
    expect(s3.bucketArn).toBe(plan.resources.find((r) => r.name === `dp-${stack}-lake-raw` && r.type === "aws:s3/bucket:Bucket")!.state.arn);
    expect(s3.bufferingSize).toBe(Number(stageValue(stack, "firehoseBufferMb", 64)));
    const logGroup = get(T.logGroup, "-firehose-logs");
    expect(s3.cloudwatchLoggingOptions).toEqual({ enabled: true, logGroupName: logGroup.inputs.name, logStreamName: "S3Delivery" });
    expect(logGroup.inputs.kmsKeyId).toBe(arnOf(single(plan, T.key, "-keys-logs")));
  });

  it("writes the stage's Firehose format: GZIP JSON, or Parquet through the Glue table with a 64 MB+ buffer", () => {
    const s3 = get(T.firehose, "-firehose").inputs.extendedS3Configuration;
    const glue = bySid(get(T.rolePolicy, "-firehose-policy"), "ReadConversionSchema");
    if (stageValue(stack, "firehoseFormat", "GZIP") === "PARQUET") {
      expect(s3.compressionFormat).toBe("UNCOMPRESSED");
      expect(s3.bufferingSize).toBeGreaterThanOrEqual(64);
      expect(s3.dataFormatConversionConfiguration).toMatchObject({
        enabled: true,
        outputFormatConfiguration: { serializer: { parquetSerDe: { compression: "SNAPPY" } } },
        schemaConfiguration: { databaseName: `dp_${stack}_lake`, tableName: "raw_stream_events", roleArn: arnOf(get(T.role, "-firehose-role")) },
      });
      expect(glue.Resource).toContain(`arn:aws:glue:eu-west-1:123456789012:table/dp_${stack}_lake/raw_stream_events`);
    } else {
      expect(s3.compressionFormat).toBe("GZIP");
      expect(s3.dataFormatConversionConfiguration).toBeUndefined();
      expect(glue).toBeUndefined();
    }
  });

  it("scopes the Firehose role to the stream, the stream prefixes of the raw bucket and the data key", () => {
    const statements = statementsOf(get(T.rolePolicy, "-firehose-policy"));
    const writes = statements.find((statement) => statement.Sid === "WriteRawStreamObjects");
    expect(writes.Resource).toEqual([expect.stringMatching(/\/stream\/\*$/), expect.stringMatching(/\/stream-errors\/\*$/)]);
    expect(statements.find((statement) => statement.Sid === "ReadStream").Resource).toBe(arnOf(get(T.stream, "-stream")));
    for (const statement of statements) expect(statement.Resource).not.toEqual("*");
  });

  it("lets Firehose use the data key only through S3 for the raw bucket's stream prefixes and through Kinesis for this stream", () => {
    const statements = statementsOf(get(T.rolePolicy, "-firehose-policy"));
    const dataKey = arnOf(single(plan, T.key, "-keys-data"));
    const raw = plan.resources.find((r) => r.name === `dp-${stack}-lake-raw` && r.type === "aws:s3/bucket:Bucket")!.state.arn;
    const keyStatements = statements.filter((statement) => [statement.Action].flat().some((action: string) => action.startsWith("kms:")));
    expect(keyStatements).toEqual([
      {
        Sid: "EncryptRawStreamObjects",
        Effect: "Allow",
        Action: ["kms:Decrypt", "kms:GenerateDataKey"],
        Resource: dataKey,
        Condition: {
          StringEquals: { "kms:ViaService": "s3.eu-west-1.amazonaws.com" },
          StringLike: { "kms:EncryptionContext:aws:s3:arn": [raw, `${raw}/stream/*`, `${raw}/stream-errors/*`] },
        },
      },
      {
        Sid: "DecryptIngestStream",
        Effect: "Allow",
        Action: "kms:Decrypt",
        Resource: dataKey,
        Condition: {
          StringEquals: { "kms:ViaService": "kinesis.eu-west-1.amazonaws.com" },
          StringLike: { "kms:EncryptionContext:aws:kinesis:arn": arnOf(get(T.stream, "-stream")) },
        },
      },
    ]);
  });

  it("lets only this account's Firehose assume the Firehose role (sts:ExternalId is the account id)", () => {
    expect(JSON.parse(get(T.role, "-firehose-role").inputs.assumeRolePolicy).Statement).toEqual([{
      Effect: "Allow",
      Principal: { Service: "firehose.amazonaws.com" },
      Action: "sts:AssumeRole",
      Condition: { StringEquals: { "sts:ExternalId": "123456789012" } },
    }]);
  });

  it("passes every stream buffer through the deduplication function before Firehose writes it", () => {
    const dedup = get(T.fn, "-stream-dedup-fn");
    expect(get(T.firehose, "-firehose").inputs.extendedS3Configuration.processingConfiguration).toEqual({
      enabled: true,
      processors: [{
        type: "Lambda",
        parameters: [
          { parameterName: "LambdaArn", parameterValue: `${dedup.state.arn}:$LATEST` },
          { parameterName: "BufferSizeInMBs", parameterValue: "1" },
          { parameterName: "BufferIntervalInSeconds", parameterValue: "60" },
        ],
      }],
    });
    expect(bySid(get(T.rolePolicy, "-firehose-policy"), "TransformRecords")).toEqual({
      Sid: "TransformRecords",
      Effect: "Allow",
      Action: ["lambda:InvokeFunction", "lambda:GetFunctionConfiguration"],
      Resource: [dedup.state.arn, `${dedup.state.arn}:*`],
    });
  });

  it("encrypts every log group of the layer with the logs key", () => {
    const logsKey = arnOf(single(plan, T.key, "-keys-logs"));
    const groups = ofType(plan, T.logGroup).filter((group) => group.name.startsWith(prefix));
    // Stream consumer, queue consumer, dedup and ingest front functions, Firehose, API access logs.
    expect(groups).toHaveLength(6);
    for (const group of groups) expect(group.inputs.kmsKeyId).toBe(logsKey);
  });

  it("alarms on iterator age, both DLQs, errors and throttles only when the stage enables alarms", () => {
    const alarms = ofType(plan, T.alarm).filter((alarm) => alarm.name.startsWith(prefix));
    if (!prod) {
      expect(alarms).toEqual([]);
      return;
    }
    const topicArn = plan.outputs.alarmTopicArn;
    expect(alarms.map((alarm) => alarm.name.slice(prefix.length + 1)).sort()).toEqual([
      "ingest-dlq-depth",
      "ingest-front-errors",
      "ingest-front-throttles",
      "iterator-age",
      "queue-consumer-errors",
      "queue-consumer-quarantined",
      "queue-consumer-throttles",
      // The global table's replica in the DR region (the streaming RPO).
      "speed-layer-replication-eu-central-1",
      "stream-consumer-errors",
      "stream-consumer-quarantined",
      "stream-consumer-throttles",
      "stream-dedup-errors",
      "stream-dedup-throttles",
      "stream-dlq-depth",
    ]);
    for (const alarm of alarms) expect(alarm.inputs.alarmActions).toEqual([topicArn]);
    expect(get(T.alarm, "-speed-layer-replication-eu-central-1").inputs).toMatchObject({
      namespace: "AWS/DynamoDB",
      metricName: "ReplicationLatency",
      threshold: 60_000,
      dimensions: { TableName: get(T.table, "-speed-layer").state.name, ReceivingRegion: "eu-central-1" },
    });
    expect(get(T.alarm, "-iterator-age").inputs).toMatchObject({
      namespace: "AWS/Lambda",
      metricName: "IteratorAge",
      dimensions: { FunctionName: get(T.fn, "-stream-consumer-fn").state.name },
    });
    expect(get(T.alarm, "-stream-dlq-depth").inputs).toMatchObject({ metricName: "ApproximateNumberOfMessagesVisible", threshold: 0, dimensions: { QueueName: get(T.queue, "-stream-dlq").state.name } });
  });

  it("holds no IAM policy anywhere in the graph that grants Action \"*\" or uses a *FullAccess policy", () => {
    expect(JSON.stringify(plan.resources.map((r) => r.inputs))).not.toMatch(/FullAccess/);
    const policyFields = ["policy", "assumeRolePolicy", "inlinePolicies"];
    for (const resource of plan.resources) {
      for (const field of policyFields.filter((name) => typeof resource.inputs[name] === "string")) {
        for (const statement of JSON.parse(resource.inputs[field]).Statement ?? []) {
          const actions = [statement.Action ?? []].flat();
          expect({ resource: resource.name, wildcard: statement.Effect === "Allow" && actions.includes("*") }).toEqual({ resource: resource.name, wildcard: false });
        }
      }
    }
    // The one role with managed policies is AWS Backup's service role, holding AWS's service-role policies for it.
    const backupRole = plan.resources.find((r) => r.type === "aws:iam/role:Role" && r.name.endsWith("-backup-service-role"));
    const isBackupServicePolicy = (a: PlannedResource) => a.inputs.role === backupRole?.state.name && (BACKUP_SERVICE_POLICIES as readonly string[]).includes(a.inputs.policyArn);
    expect(ofType(plan, "aws:iam/rolePolicyAttachment:RolePolicyAttachment").filter((a) => !isBackupServicePolicy(a))).toEqual([]);
  });
});

describe("the Firehose transformation's timeout", () => {
  it("stays within the 5 minutes Firehose waits, whatever the data-path timeout", async () => {
    const plan = await evaluate("dev", { lambdaTimeoutSeconds: 900 });
    expect(single(plan, T.fn, "-stream-dedup-fn").inputs.timeout).toBe(300);
    expect(single(plan, T.fn, "-queue-consumer-fn").inputs.timeout).toBe(900);
  });
});

describe("validateIngestionLayerArgs", () => {
  const base: IngestionLayerArgs = {
    dataKeyArn: "key",
    rawBucket: { name: "raw", arn: "arn:aws:s3:::raw" },
    quarantineBucket: { name: "transformed", arn: "arn:aws:s3:::transformed" },
    functions: { logRetentionDays: 7, logsKeyArn: "logs" },
  };

  it("accepts the defaults", () => {
    expect(validateIngestionLayerArgs(base)).toEqual([]);
  });

  it.each<[string, Partial<IngestionLayerArgs>, RegExp]>([
    ["a shard count on an ON_DEMAND stream", { stream: { shardCount: 2 } }, /ON_DEMAND streams take no shard count/],
    ["retention beyond 8760 h", { stream: { retentionHours: 9000 } }, /24-8760/],
    ["unbounded retries", { consumer: { maxRetryAttempts: -1 } }, /bounded/],
    ["Parquet with a small buffer", { firehose: { format: "PARQUET", bufferMb: 32, schema: { databaseName: "d", tableName: "t" } } }, /at least 64/],
    ["Parquet without a schema table", { firehose: { format: "PARQUET" } }, /needs the Glue table/],
    ["an SQS batch above 10 without a window", { queue: { batchSize: 50 } }, /batchWindowSeconds of at least 1/],
    ["a Lambda timeout above 900 s", { functions: { logRetentionDays: 7, logsKeyArn: "logs", timeoutSeconds: 901 } }, /1-900/],
  ])("refuses %s", (_case, overrides, problem) => {
    expect(validateIngestionLayerArgs({ ...base, ...overrides }).join("\n")).toMatch(problem);
  });
});
