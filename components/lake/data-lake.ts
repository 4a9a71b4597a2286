import { S3Client } from "@aws-sdk/client-s3";
import { DATA_PATH_CLIENT_SETTINGS } from "../../functions/data-path-runtime";
import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import type { S3Event } from "aws-lambda";
import {
  CLEAN_PREFIX,
  MANIFEST_PREFIX,
  MANIFEST_SUFFIX,
  LAKE_TRANSFORM_QUARANTINE_PREFIX,
  RAW_API_PREFIX,
  RAW_STREAM_PREFIX,
  STAGED_EVENTS_PREFIX,
} from "../../functions/lake-layout";
import { handleCleanObjectsCreated, stagingSettings } from "../../functions/lake-staging";
import { handleRawObjectsCreated, transformSettings } from "../../functions/lake-transform";
import { createFunctionAlarms, createQuarantineAlarm, createQueueDepthAlarm } from "../lib/alarms";
import { DataPathFunctionSettings, inlineFunctionSettings, validateFunctionSettings } from "../lib/data-path-functions";
import { EVENT_COLUMNS, StreamObjectFormat, eventColumnJsonKeys } from "../lib/event-schema";
import { HardenedBucket, createHardenedBucket } from "../lib/hardened-bucket";
import { Statement, allow, denyInsecureTransport, policyDocument, useDataKey } from "../lib/iam";
import { InlineFunction, InlineFunctionArgs, createInlineFunction } from "../lib/inline-function";
import { DLQ_RETENTION_SECONDS, createEncryptedQueue } from "../lib/queues";

export interface DataLakeArgs {
  /** Customer key for every zone bucket, the failure queue, the events topic and Athena results. */
  dataKeyArn: pulumi.Input<string>;
  functions: DataPathFunctionSettings;
  /** S3 versioning on every lake bucket (replication needs it). @default true */
  versioning?: boolean;
  /** Days before objects move to STANDARD_IA (S3 requires at least 30). @default 30 */
  iaTransitionDays?: number;
  /** Days before objects move to GLACIER; at least iaTransitionDays + 30. @default 90 */
  glacierTransitionDays?: number;
  /** Days a noncurrent version is kept when versioning is on. @default 90 */
  noncurrentVersionExpirationDays?: number;
  /** Days before an incomplete multipart upload is aborted. @default 7 */
  abortIncompleteUploadDays?: number;
  /** Days server access logs are kept; later than glacierTransitionDays. @default 730 */
  accessLogExpirationDays?: number;
  /** Days Athena query results are kept. @default 30 */
  queryResultExpirationDays?: number;
  /** What Firehose writes under `stream/`; Parquet is catalogued as delivered and not transformed. @default "GZIP" */
  streamObjectFormat?: StreamObjectFormat;
  /** Also send the staged bucket's object events to EventBridge (the warehouse loader's rule listens there). @default true */
  stagedEventsToEventBridge?: boolean;
  /** Athena refuses queries scanning more than this. @default 10 GiB */
  bytesScannedCutoffPerQuery?: number;
  /** Let `pulumi destroy` delete buckets that still hold objects. @default false */
  forceDestroy?: boolean;
  /**
   * Whether the buckets' notifications (the Transformation and Staging triggers, the
   * manifest topic, EventBridge) are declared. S3 notifies for replicas too, so a DR
   * standby, whose zones fill by replication, declares none until promoted; its
   * functions and the permissions to invoke them exist either way. @default true
   */
  triggersEnabled?: boolean;
  /** Pulumi `protect` on the buckets, the catalog database and the failure queue. @default true */
  protect?: boolean;
  /** Alarms are created only when this is set. @default undefined */
  alarmTopicArn?: pulumi.Input<string>;
}

export interface LakeBucket {
  /** The zone's short name, also its prefix in the access-log bucket. */
  readonly zone: string;
  readonly bucket: aws.s3.Bucket;
  readonly name: pulumi.Output<string>;
  readonly arn: pulumi.Output<string>;
  /** Present when the bucket is versioned: replication must wait for it. */
  readonly versioning?: aws.s3.BucketVersioning;
}

/** One bucket's notification configuration, as declared (or as it would be, were triggers enabled). */
export interface LakeTrigger {
  readonly bucket: pulumi.Output<string>;
  readonly lambdaFunctions: { functionArn: pulumi.Output<string>; events: string[]; filterPrefix?: string; filterSuffix?: string }[];
  readonly topics: { topicArn: pulumi.Output<string>; events: string[]; filterPrefix?: string; filterSuffix?: string }[];
  readonly eventBridge: boolean;
}

export const LAKE_DEFAULTS = {
  versioning: true,
  iaTransitionDays: 30,
  glacierTransitionDays: 90,
  noncurrentVersionExpirationDays: 90,
  abortIncompleteUploadDays: 7,
  accessLogExpirationDays: 730,
  queryResultExpirationDays: 30,
  streamObjectFormat: "GZIP" as StreamObjectFormat,
  bytesScannedCutoffPerQuery: 10 * 1024 ** 3,
} as const;

/** Failed async invocations (after Lambda's own two retries) wait here for inspection and redrive. */
const ASYNC_RETRY_ATTEMPTS = 2;
const ASYNC_MAX_EVENT_AGE_SECONDS = 6 * 3600;

/** Apply-time rules for the lake's args; an empty list means valid. */
export function validateDataLakeArgs(args: DataLakeArgs): string[] {
  const ia = args.iaTransitionDays ?? LAKE_DEFAULTS.iaTransitionDays;
  const glacier = args.glacierTransitionDays ?? LAKE_DEFAULTS.glacierTransitionDays;
  const accessLogDays = args.accessLogExpirationDays ?? LAKE_DEFAULTS.accessLogExpirationDays;
  const problems: string[] = [];
  if (ia < 30) problems.push(`iaTransitionDays ${ia}: S3 moves objects to STANDARD_IA after 30 days at the earliest`);
  if (glacier < ia + 30) problems.push(`glacierTransitionDays ${glacier}: objects must stay 30 days in STANDARD_IA (at least ${ia + 30})`);
  if (accessLogDays <= glacier) problems.push(`accessLogExpirationDays ${accessLogDays}: must be later than glacierTransitionDays (${glacier})`);
  problems.push(...validateFunctionSettings(args.functions));
  return problems;
}

/** Raw prefixes the Transformation function watches: Parquet stream output needs no parsing, so only JSON channels. */
export function rawPrefixesToTransform(format: StreamObjectFormat): string[] {
  return format === "PARQUET" ? [RAW_API_PREFIX] : [RAW_API_PREFIX, RAW_STREAM_PREFIX];
}

export interface TieringRuleArgs {
  iaTransitionDays: number;
  glacierTransitionDays: number;
  abortIncompleteUploadDays: number;
  /** Set when the bucket is versioned. */
  noncurrentVersionExpirationDays?: number;
  /** Expire current objects after this many days. @default never */
  expirationDays?: number;
}

/** Lake objects cool off: STANDARD_IA, then GLACIER; abandoned uploads and old versions are cleaned up. */
export function tieringRule(args: TieringRuleArgs): aws.types.input.s3.BucketLifecycleConfigurationRule {
  return {
    id: "tier-and-clean-up",
    status: "Enabled",
    filter: {},
    transitions: [
      { days: args.iaTransitionDays, storageClass: "STANDARD_IA" },
      { days: args.glacierTransitionDays, storageClass: "GLACIER" },
    ],
    abortIncompleteMultipartUpload: { daysAfterInitiation: args.abortIncompleteUploadDays },
    ...(args.expirationDays !== undefined ? { expiration: { days: args.expirationDays } } : {}),
    ...(args.noncurrentVersionExpirationDays !== undefined ? { noncurrentVersionExpiration: { noncurrentDays: args.noncurrentVersionExpirationDays } } : {}),
  };
}

/** Query results are scratch data: they expire rather than tier. */
export function expiryRule(days: number, abortIncompleteUploadDays: number, versioned: boolean): aws.types.input.s3.BucketLifecycleConfigurationRule {
  return {
    id: "expire-query-results",
    status: "Enabled",
    filter: {},
    expiration: { days },
    abortIncompleteMultipartUpload: { daysAfterInitiation: abortIncompleteUploadDays },
    ...(versioned ? { noncurrentVersionExpiration: { noncurrentDays: 1 } } : {}),
  };
}

/** Glue and Athena names allow lowercase letters, digits and underscores. */
export function catalogName(name: string): string {
  return name.toLowerCase().replace(/[^a-z0-9_]/g, "_");
}

const HOUR_PARTITION_KEYS = ["year", "month", "day", "hour"] as const;
const HOUR_PARTITION_RANGES: Record<(typeof HOUR_PARTITION_KEYS)[number], string> = { year: "2024,2099", month: "1,12", day: "1,31", hour: "0,23" };

/** Athena partition projection for `year=/month=/day=/hour=` paths, so no crawler or MSCK REPAIR is needed. */
export function hourlyPartitionProjection(): Record<string, string> {
  const parameters: Record<string, string> = { "projection.enabled": "true" };
  for (const key of HOUR_PARTITION_KEYS) {
    parameters[`projection.${key}.type`] = "integer";
    parameters[`projection.${key}.range`] = HOUR_PARTITION_RANGES[key];
    if (key !== "year") parameters[`projection.${key}.digits`] = "2";
  }
  return parameters;
}

/**
 * Athena partition projection for `event_date=YYYY-MM-DD/` paths of staged CSV with a header
 * row (the Staging function's and the batch curation job's output); `locationTemplate` ends
 * in `event_date=${event_date}/`.
 */
export function stagedEventDateParameters(locationTemplate: pulumi.Input<string>): Record<string, pulumi.Input<string>> {
  return {
    classification: "csv",
    "skip.header.line.count": "1",
    "projection.enabled": "true",
    "projection.event_date.type": "date",
    "projection.event_date.format": "yyyy-MM-dd",
    "projection.event_date.range": "2024-01-01,NOW",
    "projection.event_date.interval": "1",
    "projection.event_date.interval.unit": "DAYS",
    "storage.location.template": locationTemplate,
  };
}

const JSON_STORAGE = {
  inputFormat: "org.apache.hadoop.mapred.TextInputFormat",
  outputFormat: "org.apache.hadoop.hive.ql.io.HiveIgnoreKeyTextOutputFormat",
  serializationLibrary: "org.openx.data.jsonserde.JsonSerDe",
};
const PARQUET_STORAGE = {
  inputFormat: "org.apache.hadoop.hive.ql.io.parquet.MapredParquetInputFormat",
  outputFormat: "org.apache.hadoop.hive.ql.io.parquet.MapredParquetOutputFormat",
  serializationLibrary: "org.apache.hadoop.hive.ql.io.parquet.serde.ParquetHiveSerDe",
};

export interface CatalogTables {
  readonly rawApi: aws.glue.CatalogTable;
  readonly rawStream: aws.glue.CatalogTable;
  readonly transformed: aws.glue.CatalogTable;
  readonly staged: aws.glue.CatalogTable;
}

/** Cold start of the Transformation function: an S3 client and its bucket from the environment. */
export function transformFunctionFactory() {
  const s3 = new S3Client(DATA_PATH_CLIENT_SETTINGS);
  const settings = transformSettings(process.env);
  return (event: S3Event) => handleRawObjectsCreated(event, { s3, ...settings });
}

/** Cold start of the Staging function: an S3 client and its bucket from the environment. */
export function stagingFunctionFactory() {
  const s3 = new S3Client(DATA_PATH_CLIENT_SETTINGS);
  const settings = stagingSettings(process.env);
  return (event: S3Event) => handleCleanObjectsCreated(event, { s3, ...settings });
}

const objectsUnder = (arn: string, prefixes: readonly string[]) => prefixes.map((prefix) => `${arn}/${prefix}*`);

/**
 * The S3 data lake: raw → transformed → staged zone buckets, an access-log bucket and an
 * Athena results bucket, all private, TLS-only, encrypted and tiered; a Transformation
 * function on new raw objects and a Staging function on new clean objects (failed
 * invocations land in an encrypted failure queue); a Glue database with one table per
 * zone (partition projection, no crawlers); an Athena workgroup that enforces KMS
 * encrypted results; and an encrypted SNS topic announcing every new COPY manifest
 * (fan-out to any subscriber), with the staged bucket's events also on EventBridge,
 * where the warehouse loader listens.
 */
export class DataLake extends pulumi.ComponentResource {
  readonly raw: LakeBucket;
  readonly transformed: LakeBucket;
  readonly staged: LakeBucket;
  readonly accessLogs: LakeBucket;
  readonly queryResults: LakeBucket;
  readonly databaseName: pulumi.Output<string>;
  readonly tables: CatalogTables;
  readonly workgroupName: pulumi.Output<string>;
  /** Announces each new COPY manifest in the staged bucket. */
  readonly eventsTopicArn: pulumi.Output<string>;
  readonly failureQueue: aws.sqs.Queue;
  readonly transformFunction: InlineFunction;
  readonly stagingFunction: InlineFunction;
  /** Every bucket notification of the lake, declared only when triggersEnabled. */
  readonly triggers: LakeTrigger[] = [];

  private readonly lakeName: string;
  private readonly args: DataLakeArgs;

  constructor(name: string, args: DataLakeArgs, opts?: pulumi.ComponentResourceOptions) {
    super("dataplatform:lake:DataLake", name, {}, opts);
    const problems = validateDataLakeArgs(args);
    if (problems.length > 0) throw new pulumi.RunError(`${name}: invalid DataLake args:\n  - ${problems.join("\n  - ")}`);
    this.lakeName = name;
    this.args = args;
    const identity = aws.getCallerIdentityOutput({}, { parent: this });
    const versioned = args.versioning ?? LAKE_DEFAULTS.versioning;
    const streamFormat = args.streamObjectFormat ?? LAKE_DEFAULTS.streamObjectFormat;
    const tiering: TieringRuleArgs = {
      iaTransitionDays: args.iaTransitionDays ?? LAKE_DEFAULTS.iaTransitionDays,
      glacierTransitionDays: args.glacierTransitionDays ?? LAKE_DEFAULTS.glacierTransitionDays,
      abortIncompleteUploadDays: args.abortIncompleteUploadDays ?? LAKE_DEFAULTS.abortIncompleteUploadDays,
      noncurrentVersionExpirationDays: versioned ? (args.noncurrentVersionExpirationDays ?? LAKE_DEFAULTS.noncurrentVersionExpirationDays) : undefined,
    };

    this.raw = this.lakeBucket("raw", [tieringRule(tiering)]);
    this.transformed = this.lakeBucket("transformed", [tieringRule(tiering)]);
    this.staged = this.lakeBucket("staged", [tieringRule(tiering)]);
    this.queryResults = this.lakeBucket("query-results", [
      expiryRule(args.queryResultExpirationDays ?? LAKE_DEFAULTS.queryResultExpirationDays, tiering.abortIncompleteUploadDays, versioned),
    ]);
    const zones = [this.raw, this.transformed, this.staged, this.queryResults];
    // S3 server access logging writes only into SSE-S3 buckets, so this one bucket is not under the data key.
    const accessLogs = this.lakeBucket(
      "access-logs",
      [tieringRule({ ...tiering, expirationDays: args.accessLogExpirationDays ?? LAKE_DEFAULTS.accessLogExpirationDays })],
      { encryption: "SSE_S3", extraPolicy: (logBucketArn) => [logDeliveryStatement(logBucketArn, zones, identity.accountId)] },
    );
    this.accessLogs = accessLogs;
    this.enableAccessLogging(zones, accessLogs);

    this.failureQueue = createEncryptedQueue(`${name}-failures`, {
      dataKeyArn: args.dataKeyArn,
      messageRetentionSeconds: DLQ_RETENTION_SECONDS,
    }, { parent: this, protect: args.protect ?? true });

    this.transformFunction = this.lakeFunction("transform", {
      description: "Transformation: cleans new raw objects into the transformed zone, quarantining bad rows",
      callbackFactory: transformFunctionFactory,
      environment: { TRANSFORMED_BUCKET: this.transformed.name },
      statements: [
        // Only the prefixes its notification fires for: Parquet stream output is never read.
        s3Statement("ReadRawObjects", "s3:GetObject", this.raw.arn, rawPrefixesToTransform(streamFormat)),
        s3Statement("WriteTransformedObjects", "s3:PutObject", this.transformed.arn, [CLEAN_PREFIX, LAKE_TRANSFORM_QUARANTINE_PREFIX]),
      ],
    });
    this.stagingFunction = this.lakeFunction("staging", {
      description: "Staging: turns clean objects into Redshift COPY-ready CSV and manifests",
      callbackFactory: stagingFunctionFactory,
      environment: { STAGED_BUCKET: this.staged.name },
      statements: [
        s3Statement("ReadCleanObjects", "s3:GetObject", this.transformed.arn, [CLEAN_PREFIX]),
        s3Statement("WriteStagedObjects", "s3:PutObject", this.staged.arn, [STAGED_EVENTS_PREFIX, MANIFEST_PREFIX]),
      ],
    });
    this.invokeOnNewObjects("raw", this.raw, this.transformFunction, rawPrefixesToTransform(streamFormat), identity.accountId);
    this.invokeOnNewObjects("transformed", this.transformed, this.stagingFunction, [CLEAN_PREFIX], identity.accountId);
    this.eventsTopicArn = this.announceManifests(identity.accountId);

    const database = new aws.glue.CatalogDatabase(`${name}-catalog`, {
      name: catalogName(name),
      description: `${name}: raw, transformed and staged zones`,
    }, { parent: this, protect: args.protect ?? true });
    this.databaseName = database.name;
    this.tables = this.catalogTables(database.name, streamFormat);
    this.workgroupName = this.athenaWorkgroup().name;

    if (args.alarmTopicArn !== undefined) {
      createQueueDepthAlarm(`${name}-failures`, this.failureQueue, args.alarmTopicArn, this);
      createFunctionAlarms(`${name}-transform`, this.transformFunction, args.alarmTopicArn, this);
      createQuarantineAlarm(`${name}-transform`, this.transformFunction, args.alarmTopicArn, this);
      createFunctionAlarms(`${name}-staging`, this.stagingFunction, args.alarmTopicArn, this);
    }

    this.registerOutputs({
      rawBucketName: this.raw.name,
      transformedBucketName: this.transformed.name,
      stagedBucketName: this.staged.name,
      accessLogBucketName: this.accessLogs.name,
      queryResultsBucketName: this.queryResults.name,
      databaseName: this.databaseName,
      workgroupName: this.workgroupName,
      eventsTopicArn: this.eventsTopicArn,
      failureQueueUrl: this.failureQueue.url,
    });
  }

  /** A private, TLS-only, encrypted, owner-enforced bucket with lifecycle rules (and versioning when configured). */
  private lakeBucket(
    zone: string,
    rules: aws.types.input.s3.BucketLifecycleConfigurationRule[],
    options: { encryption?: "SSE_KMS" | "SSE_S3"; extraPolicy?: (bucketArn: pulumi.Output<string>) => pulumi.Input<Statement>[] } = {},
  ): HardenedLakeBucket {
    const args = this.args;
    const hardened = createHardenedBucket(`${this.lakeName}-${zone}`, {
      kmsKeyArn: args.dataKeyArn,
      encryption: options.encryption,
      versioned: args.versioning ?? LAKE_DEFAULTS.versioning,
      rules,
      forceDestroy: args.forceDestroy ?? false,
      protect: args.protect ?? true,
      extraPolicy: options.extraPolicy,
    }, this);
    return { zone, ...hardened };
  }

  /** Each zone logs under its own prefix, once the log bucket's policy admits the logging service. */
  private enableAccessLogging(zones: LakeBucket[], logBucket: HardenedLakeBucket): void {
    for (const zone of zones) {
      new aws.s3.BucketLogging(`${this.lakeName}-${zone.zone}-access-logging`, {
        bucket: zone.bucket.id,
        targetBucket: logBucket.bucket.id,
        targetPrefix: `${zone.zone}/`,
      }, { parent: this, dependsOn: [logBucket.policy] });
    }
  }

  private lakeFunction(
    role: string,
    spec: Pick<InlineFunctionArgs<S3Event, unknown>, "description" | "callbackFactory" | "environment" | "statements">,
  ): InlineFunction {
    return createInlineFunction(`${this.lakeName}-${role}`, {
      ...inlineFunctionSettings(this.args.functions),
      ...spec,
      statements: [
        ...spec.statements,
        useDataKey(this.args.dataKeyArn),
        allow("RecordFailedInvocations", "sqs:SendMessage", this.failureQueue.arn),
      ],
    }, this);
  }

  /**
   * S3 invokes `fn` for new objects under `prefixes`. The permission must exist before the
   * notification (S3 test-invokes the target when the notification is saved), and failed
   * async invocations go to the failure queue after Lambda's own retries.
   */
  private invokeOnNewObjects(zone: string, bucket: LakeBucket, fn: InlineFunction, prefixes: string[], accountId: pulumi.Output<string>): void {
    const permission = new aws.lambda.Permission(`${this.lakeName}-${zone}-invokes`, {
      action: "lambda:InvokeFunction",
      function: fn.function.name,
      principal: "s3.amazonaws.com",
      sourceArn: bucket.arn,
      sourceAccount: accountId,
    }, { parent: this });
    new aws.lambda.FunctionEventInvokeConfig(`${this.lakeName}-${zone}-async`, {
      functionName: fn.function.name,
      maximumRetryAttempts: ASYNC_RETRY_ATTEMPTS,
      maximumEventAgeInSeconds: ASYNC_MAX_EVENT_AGE_SECONDS,
      destinationConfig: { onFailure: { destination: this.failureQueue.arn } },
    }, { parent: this });
    this.notify(zone, bucket, {
      bucket: bucket.name,
      lambdaFunctions: prefixes.map((filterPrefix) => ({ functionArn: fn.function.arn, events: ["s3:ObjectCreated:*"], filterPrefix })),
      topics: [],
      // AWS Backup's continuous backups of S3 rely on the bucket's EventBridge events (s3-backups.html).
      eventBridge: true,
    }, [permission]);
  }

  /**
   * Records a bucket's notification configuration (the stack's drTopology describes it
   * either way) and declares it when triggers are enabled.
   */
  private notify(id: string, bucket: LakeBucket, trigger: LakeTrigger, dependsOn: pulumi.Resource[]): void {
    this.triggers.push(trigger);
    if (!(this.args.triggersEnabled ?? true)) return;
    new aws.s3.BucketNotification(`${this.lakeName}-${id}-notification`, {
      bucket: bucket.bucket.id,
      eventbridge: trigger.eventBridge,
      ...(trigger.lambdaFunctions.length > 0
        ? { lambdaFunctions: trigger.lambdaFunctions.map(({ functionArn, ...filter }) => ({ lambdaFunctionArn: functionArn, ...filter })) }
        : {}),
      ...(trigger.topics.length > 0 ? { topics: trigger.topics } : {}),
    }, { parent: this, dependsOn });
  }

  /**
   * New COPY manifests are published to an encrypted topic (S3 may publish only from the
   * staged bucket of this account), and staged object events go to EventBridge as well.
   */
  private announceManifests(accountId: pulumi.Output<string>): pulumi.Output<string> {
    const topic = new aws.sns.Topic(`${this.lakeName}-events`, {
      kmsMasterKeyId: this.args.dataKeyArn,
      displayName: `${this.lakeName}: staged load units ready`,
    }, { parent: this });
    const topicPolicy = new aws.sns.TopicPolicy(`${this.lakeName}-events-policy`, {
      arn: topic.arn,
      policy: policyDocument([
        pulumi.all([topic.arn, this.staged.arn, accountId]).apply(([topicArn, bucketArn, account]) => ({
          Sid: "StagedBucketPublishes",
          Effect: "Allow",
          Principal: { Service: "s3.amazonaws.com" },
          Action: "sns:Publish",
          Resource: topicArn,
          Condition: { ArnEquals: { "aws:SourceArn": bucketArn }, StringEquals: { "aws:SourceAccount": account } },
        })),
        denyInsecureTransport(topic.arn, "sns:Publish"),
      ]),
    }, { parent: this });
    // A bucket has one notification configuration, so every consumer of staged events is wired here.
    this.notify("staged", this.staged, {
      bucket: this.staged.name,
      lambdaFunctions: [],
      topics: [{ topicArn: topic.arn, events: ["s3:ObjectCreated:*"], filterPrefix: MANIFEST_PREFIX, filterSuffix: MANIFEST_SUFFIX }],
      eventBridge: this.args.stagedEventsToEventBridge ?? true,
    }, [topicPolicy]);
    return topic.arn;
  }

  /** One table per zone; partition projection keeps them current without crawlers. */
  private catalogTables(databaseName: pulumi.Output<string>, streamFormat: StreamObjectFormat): CatalogTables {
    const columns = EVENT_COLUMNS.map(({ name, type }) => ({ name, type }));
    const hourKeys = HOUR_PARTITION_KEYS.map((name) => ({ name, type: "string" }));
    const location = (bucket: LakeBucket, path: string) => pulumi.interpolate`s3://${bucket.name}/${path}`;
    const hourTemplate = "year=${year}/month=${month}/day=${day}/hour=${hour}/";
    const table = (id: string, args: Omit<aws.glue.CatalogTableArgs, "databaseName" | "name" | "tableType">) =>
      new aws.glue.CatalogTable(`${this.lakeName}-${id.replace(/_/g, "-")}-table`, { ...args, name: id, databaseName, tableType: "EXTERNAL_TABLE" }, { parent: this });
    const jsonSerDe = { serializationLibrary: JSON_STORAGE.serializationLibrary, parameters: { "ignore.malformed.json": "true", ...prefixed("mapping.", eventColumnJsonKeys()) } };

    const rawTable = (id: string, path: string, format: StreamObjectFormat | "JSON") => {
      const storage = format === "PARQUET" ? PARQUET_STORAGE : JSON_STORAGE;
      return table(id, {
        description: `Raw zone, ${path} (${format === "PARQUET" ? "Parquet" : "JSON lines"})`,
        partitionKeys: hourKeys,
        parameters: {
          EXTERNAL: "TRUE",
          classification: format === "PARQUET" ? "parquet" : "json",
          ...(format === "GZIP" ? { compressionType: "gzip" } : {}),
          ...hourlyPartitionProjectionOf(location(this.raw, `${path}${hourTemplate}`)),
        },
        storageDescriptor: {
          location: location(this.raw, path),
          inputFormat: storage.inputFormat,
          outputFormat: storage.outputFormat,
          compressed: format === "GZIP",
          serDeInfo: format === "PARQUET" ? { serializationLibrary: storage.serializationLibrary } : jsonSerDe,
          columns,
        },
      });
    };

    return {
      rawApi: rawTable("raw_api_events", RAW_API_PREFIX, "JSON"),
      rawStream: rawTable("raw_stream_events", RAW_STREAM_PREFIX, streamFormat),
      transformed: table("transformed_events", {
        description: "Transformed zone: clean events (JSON lines, snake_case), by ingest channel and arrival hour",
        partitionKeys: [{ name: "channel", type: "string" }, ...hourKeys],
        parameters: {
          EXTERNAL: "TRUE",
          classification: "json",
          ...hourlyPartitionProjectionOf(location(this.transformed, `${CLEAN_PREFIX}\${channel}/${hourTemplate}`)),
          "projection.channel.type": "enum",
          "projection.channel.values": "api,stream",
        },
        storageDescriptor: {
          location: location(this.transformed, CLEAN_PREFIX),
          inputFormat: JSON_STORAGE.inputFormat,
          outputFormat: JSON_STORAGE.outputFormat,
          serDeInfo: { serializationLibrary: JSON_STORAGE.serializationLibrary, parameters: { "ignore.malformed.json": "true" } },
          columns: [...columns, { name: "event_date", type: "string" }],
        },
      }),
      staged: table("staged_events", {
        description: "Staged zone: COPY-ready CSV by event date",
        partitionKeys: [{ name: "event_date", type: "string" }],
        parameters: {
          EXTERNAL: "TRUE",
          ...stagedEventDateParameters(location(this.staged, `${STAGED_EVENTS_PREFIX}event_date=\${event_date}/`)),
        },
        storageDescriptor: {
          location: location(this.staged, STAGED_EVENTS_PREFIX),
          inputFormat: JSON_STORAGE.inputFormat,
          outputFormat: JSON_STORAGE.outputFormat,
          serDeInfo: {
            serializationLibrary: "org.apache.hadoop.hive.serde2.OpenCSVSerde",
            parameters: { separatorChar: ",", quoteChar: '"', escapeChar: "\\" },
          },
          columns,
        },
      }),
    };
  }

  /** Athena with results encrypted under the data key, settings clients cannot override, and a scan cap. */
  private athenaWorkgroup(): aws.athena.Workgroup {
    return new aws.athena.Workgroup(`${this.lakeName}-athena`, {
      name: `${this.lakeName}-analytics`,
      description: `${this.lakeName}: interactive SQL over the lake`,
      state: "ENABLED",
      forceDestroy: this.args.forceDestroy ?? false,
      configuration: {
        enforceWorkgroupConfiguration: true,
        publishCloudwatchMetricsEnabled: true,
        bytesScannedCutoffPerQuery: this.args.bytesScannedCutoffPerQuery ?? LAKE_DEFAULTS.bytesScannedCutoffPerQuery,
        engineVersion: { selectedEngineVersion: "Athena engine version 3" },
        resultConfiguration: {
          outputLocation: pulumi.interpolate`s3://${this.queryResults.name}/results/`,
          encryptionConfiguration: { encryptionOption: "SSE_KMS", kmsKeyArn: this.args.dataKeyArn },
        },
      },
    }, { parent: this });
  }
}

interface HardenedLakeBucket extends LakeBucket, HardenedBucket {}

function prefixed(prefix: string, values: Record<string, string>): Record<string, string> {
  return Object.fromEntries(Object.entries(values).map(([key, value]) => [`${prefix}${key}`, value]));
}

function hourlyPartitionProjectionOf(template: pulumi.Output<string>): Record<string, pulumi.Input<string>> {
  return { ...hourlyPartitionProjection(), "storage.location.template": template };
}

/** One S3 action on the objects under some prefixes of one bucket. */
function s3Statement(sid: string, action: string, bucketArn: pulumi.Output<string>, prefixes: readonly string[]): pulumi.Output<Statement> {
  return allow(sid, action, bucketArn.apply((arn) => objectsUnder(arn, prefixes)));
}

/** The S3 logging service may write into the log bucket, for these source buckets of this account only. */
function logDeliveryStatement(logBucketArn: pulumi.Output<string>, sources: LakeBucket[], accountId: pulumi.Output<string>): pulumi.Output<Statement> {
  return pulumi.all([logBucketArn, pulumi.all(sources.map((source) => source.arn)), accountId]).apply(([arn, sourceArns, account]) => ({
    Sid: "S3ServerAccessLogDelivery",
    Effect: "Allow",
    Principal: { Service: "logging.s3.amazonaws.com" },
    Action: "s3:PutObject",
    Resource: `${arn}/*`,
    Condition: { ArnLike: { "aws:SourceArn": sourceArns }, StringEquals: { "aws:SourceAccount": account } },
  }));
}
