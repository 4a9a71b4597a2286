import { DynamoDBClient } from "@aws-sdk/client-dynamodb";
import { S3Client } from "@aws-sdk/client-s3";
import { SQSClient } from "@aws-sdk/client-sqs";
import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import type { APIGatewayProxyEventV2, Context, FirehoseTransformationEvent, KinesisStreamEvent, SQSEvent } from "aws-lambda";
import { DATA_PATH_CLIENT_SETTINGS } from "../../functions/data-path-runtime";
import { CLAIM_ATTRIBUTES } from "../../functions/event-claims";
import { MAX_ROUTE_TABLE_BYTES, handleIngestRequest, ingestFrontSettings, ingestRouteKey, ingestRouteTable } from "../../functions/ingest-front";
import { RAW_API_CLAIM_SCOPE, handleIngestQueueBatch, queueConsumerSettings } from "../../functions/ingestion-queue-consumer";
import { TTL_ATTRIBUTE, handleStreamBatch, streamConsumerSettings } from "../../functions/ingestion-stream-consumer";
import { FIREHOSE_HOUR_PARTITION, QUARANTINE_PREFIX, RAW_API_PREFIX, RAW_STREAM_ERROR_PREFIX, RAW_STREAM_PREFIX } from "../../functions/lake-layout";
import { QuarantineStage, quarantineStoreSettings } from "../../functions/quarantine";
import { RAW_STREAM_CLAIM_SCOPE, dropRepeatedStreamEvents, streamDeduplicationSettings } from "../../functions/stream-deduplication";
import { createFunctionAlarms, createMetricAlarm, createQuarantineAlarm, createQueueDepthAlarm } from "../lib/alarms";
import { DATA_PATH_FUNCTION_DEFAULTS, DataPathFunctionSettings, inlineFunctionSettings, validateFunctionSettings } from "../lib/data-path-functions";
import { StreamObjectFormat, eventColumnJsonKeys } from "../lib/event-schema";
import { Statement, allow, createScopedRole, policyDocument, useDataKey } from "../lib/iam";
import { InlineFunction, InlineFunctionArgs, createInlineFunction } from "../lib/inline-function";
import { DLQ_RETENTION_SECONDS, createEncryptedQueue } from "../lib/queues";

export type StreamMode = "ON_DEMAND" | "PROVISIONED";
export type StartingPosition = "TRIM_HORIZON" | "LATEST";

export interface StreamArgs {
  /** @default "ON_DEMAND" */
  mode?: StreamMode;
  /** Shards of a PROVISIONED stream; must be unset for ON_DEMAND. @default 1 when PROVISIONED */
  shardCount?: number;
  /** 24-8760 h; long enough to replay (Kappa reprocessing). @default 168 */
  retentionHours?: number;
}

export interface StreamConsumerArgs {
  /** Records per invocation (1-10000). @default 100 */
  batchSize?: number;
  /** Seconds the mapping waits to fill a batch (0-300). @default 5 */
  batchWindowSeconds?: number;
  /** Retries of a failing batch before its range goes to the on-failure DLQ (-1 is forever: refused). @default 3 */
  maxRetryAttempts?: number;
  /** Oldest record the mapping still processes (60-604800 s). @default 3600 */
  maxRecordAgeSeconds?: number;
  /** Where a new mapping starts reading; TRIM_HORIZON processes everything still retained. @default "TRIM_HORIZON" */
  startingPosition?: StartingPosition;
  /** Concurrent batches per shard (1-10); ordering per partition key holds either way. @default 1 */
  parallelizationFactor?: number;
  /** Alarm when the consumer falls this far behind the stream tip. @default 300 */
  iteratorAgeAlarmSeconds?: number;
}

/** A replica of the speed-layer table in another region (a DynamoDB global table, version 2019.11.21). */
export interface SpeedLayerReplica {
  region: string;
  /** The replica's customer key in that region (the replica of the multi-Region data key). */
  kmsKeyArn: pulumi.Input<string>;
}

/** A speed-layer table this layer writes to but does not own, e.g. the DR region's replica of a global table. */
export interface ExistingTable {
  name: pulumi.Input<string>;
  arn: pulumi.Input<string>;
}

export interface SpeedLayerArgs {
  /** Days an item lives after its event happened, before DynamoDB TTL removes it. @default 30 */
  ttlDays?: number;
  /** On the table and each replica. @default true */
  pointInTimeRecovery?: boolean;
  /** On the table and each replica. @default true */
  deletionProtection?: boolean;
  /** Replicas in other regions; the table is then a global table. @default [] */
  replicas?: SpeedLayerReplica[];
  /** Write to this table instead of creating one (then `replicas` must be empty). @default undefined */
  existingTable?: ExistingTable;
  /** Alarm when a replica trails the table by more than this (the streaming RPO). @default 60000 */
  replicationLatencyAlarmMs?: number;
}

export interface FirehoseArgs {
  /** GZIP JSON, or Parquet through the Glue schema in `schema`. @default "GZIP" */
  format?: StreamObjectFormat;
  /** 1-128 MB; Parquet needs at least 64. @default 64 */
  bufferMb?: number;
  /** 0-900 s. @default 300 */
  bufferSeconds?: number;
  /** The Glue table Firehose converts records to; required for PARQUET. @default undefined */
  schema?: { databaseName: pulumi.Input<string>; tableName: pulumi.Input<string> };
}

export interface IngestQueueArgs {
  /** Receives before a message moves to the DLQ. @default 5 */
  maxReceiveCount?: number;
  /** Messages per invocation (1-10000; above 10 needs a batch window). @default 10 */
  batchSize?: number;
  /** @default 0 */
  batchWindowSeconds?: number;
}

/**
 * The claims table that keeps the raw zone exactly-once per event id (one conditional
 * write per event; see functions/event-claims.ts).
 */
export interface IdempotencyArgs {
  /** Days a claim is kept; longer than any redelivery can come back. @default the longer of the queue's and the stream's retention, plus one day */
  ttlDays?: number;
  /** @default speedLayer.pointInTimeRecovery */
  pointInTimeRecovery?: boolean;
  /** @default speedLayer.deletionProtection */
  deletionProtection?: boolean;
}

/** One source of the ingest API (config/ingest-sources.ts documents the fields). */
export interface IngestSourceArgs {
  name: string;
  /** The POST path, e.g. "/ingest/orders". */
  route: string;
  schemaVersion: number;
  rateLimit: number;
  burstLimit: number;
  /** Principals that may assume the source's producer role (AWS_IAM); exclusive with jwtScope. @default undefined */
  iamPrincipals?: readonly string[];
  /** The scope a JWT must carry (JWT authorizer); exclusive with iamPrincipals. @default undefined */
  jwtScope?: string;
}

export interface IngestJwtArgs {
  /** The token issuer, an https URL. */
  issuer: string;
  /** Accepted audiences (client ids), 1-50. */
  audience: string[];
}

export interface IngestApiArgs {
  /** Whether the HTTP ingest API exists; it needs at least one source either way. @default true */
  enabled?: boolean;
  /** One POST route each, validated by the front and queued with the source's attributes. @default [] (no API) */
  sources?: IngestSourceArgs[];
  /** Required when a source has a jwtScope. @default undefined */
  jwt?: IngestJwtArgs;
  /** Requests per second of a route without its own settings. @default 10 */
  defaultRateLimit?: number;
  /** @default 20 */
  defaultBurstLimit?: number;
}

export interface IngestionLayerArgs {
  /** Customer key for the stream, table, queues, Firehose output and API access. */
  dataKeyArn: pulumi.Input<string>;
  /** The lake's raw bucket: Firehose writes under `stream/`, the queue consumer under `api/`. */
  rawBucket: { name: pulumi.Input<string>; arn: pulumi.Input<string> };
  /** The lake's transformed bucket: the consumers quarantine poison records under `quarantine/<stage>/` (functions/quarantine.ts). */
  quarantineBucket: { name: pulumi.Input<string>; arn: pulumi.Input<string> };
  functions: DataPathFunctionSettings;
  /** @default {} (every field at its default) */
  stream?: StreamArgs;
  /** @default {} */
  consumer?: StreamConsumerArgs;
  /** @default {} */
  speedLayer?: SpeedLayerArgs;
  /** @default {} */
  firehose?: FirehoseArgs;
  /** @default {} */
  queue?: IngestQueueArgs;
  /** @default {} (enabled) */
  api?: IngestApiArgs;
  /**
   * Whether the consumers' event source mappings run. A DR standby declares them
   * disabled until its region is promoted. @default true
   */
  consumersEnabled?: boolean;
  /** @default {} (every field at its default) */
  idempotency?: IdempotencyArgs;
  /** Pulumi `protect` on the stream, the table and the queues. @default true */
  protect?: boolean;
  /** Alarms are created only when this is set. @default undefined */
  alarmTopicArn?: pulumi.Input<string>;
}

export const INGESTION_DEFAULTS = {
  streamMode: "ON_DEMAND" as StreamMode,
  shardCount: 1,
  retentionHours: 168,
  batchSize: 100,
  batchWindowSeconds: 5,
  maxRetryAttempts: 3,
  maxRecordAgeSeconds: 3600,
  startingPosition: "TRIM_HORIZON" as StartingPosition,
  parallelizationFactor: 1,
  iteratorAgeAlarmSeconds: 300,
  ttlDays: 30,
  firehoseFormat: "GZIP" as StreamObjectFormat,
  firehoseBufferMb: 64,
  firehoseBufferSeconds: 300,
  maxReceiveCount: 5,
  queueBatchSize: 10,
  queueBatchWindowSeconds: 0,
  apiDefaultRateLimit: 10,
  apiDefaultBurstLimit: 20,
} as const;

/** The longest an HTTP API waits for its integration. */
export const HTTP_API_INTEGRATION_TIMEOUT_SECONDS = 30;

/**
 * The ingest API's access log line (HTTP API variables:
 * https://docs.aws.amazon.com/apigateway/latest/developerguide/http-api-logging-variables.html).
 * The route key names the source (the config maps one to one); the front's own log line
 * carries `source` with the same request id. Errors come from three places: API Gateway
 * itself (throttled, unrouted, unauthorised), the authorizer, and the integration.
 */
export const INGEST_ACCESS_LOG_FORMAT = {
  requestId: "$context.requestId",
  time: "$context.requestTimeEpoch",
  sourceIp: "$context.identity.sourceIp",
  caller: "$context.identity.caller",
  userArn: "$context.identity.userArn",
  jwtSubject: "$context.authorizer.claims.sub",
  routeKey: "$context.routeKey",
  status: "$context.status",
  responseLength: "$context.responseLength",
  error: "$context.error.message",
  errorType: "$context.error.responseType",
  authorizerError: "$context.authorizer.error",
  integrationStatus: "$context.integration.status",
  integrationError: "$context.integrationErrorMessage",
} as const;

/** The ARN execute-api:Invoke takes for one POST route of the $default stage. */
export function routeArn(executionArn: pulumi.Input<string>, route: string): pulumi.Output<string> {
  return pulumi.interpolate`${executionArn}/$default/POST${route}`;
}

/** The longest Firehose waits for a record-transformation Lambda. */
export const FIREHOSE_TRANSFORMATION_MAX_SECONDS = 300;

/** How long the ingest queue keeps a message: the longest an SQS redelivery can come after the first delivery. */
export const INGEST_QUEUE_RETENTION_SECONDS = 4 * 24 * 3600;

/**
 * Days a raw-zone claim is kept: past the queue's retention and the stream's, no
 * redelivery of its event can arrive, and one more day covers a late one.
 */
export function claimTtlDays(streamRetentionHours: number): number {
  return Math.ceil(Math.max(INGEST_QUEUE_RETENTION_SECONDS / 86_400, streamRetentionHours / 24)) + 1;
}

/**
 * A claim older than this was taken by an attempt that has ended: SQS redelivers a
 * message only after the visibility timeout (6x the function timeout), and no attempt
 * outlives its function timeout, so twice that leaves a margin for a request in flight.
 */
export function staleClaimMs(functionTimeoutSeconds: number): number {
  return 2 * functionTimeoutSeconds * 1000;
}

/** AWS's advice for SQS event sources: visibility 6x the function timeout, so retries of a slow batch do not overlap. */
export const VISIBILITY_TIMEOUT_FACTOR = 6;
const MAX_VISIBILITY_TIMEOUT_SECONDS = 43_200;

export function queueVisibilityTimeoutSeconds(functionTimeoutSeconds: number): number {
  return VISIBILITY_TIMEOUT_FACTOR * functionTimeoutSeconds;
}

function outside(value: number, min: number, max: number): boolean {
  return !Number.isInteger(value) || value < min || value > max;
}

/** The API's sources: distinct names and routes, one kind of caller each, and a JWT authorizer for JWT sources. */
export function validateIngestSources(api: IngestApiArgs): string[] {
  const problems: string[] = [];
  const sources = api.sources ?? [];
  const seen = { name: new Set<string>(), route: new Set<string>() };
  for (const source of sources) {
    for (const field of ["name", "route"] as const) {
      if (seen[field].has(source[field])) problems.push(`api.sources ${source.name}: ${field} ${source[field]} is used by another source`);
      seen[field].add(source[field]);
    }
    if ((source.iamPrincipals ?? []).length > 0 === (source.jwtScope !== undefined)) problems.push(`api.sources ${source.name}: exactly one of iamPrincipals and jwtScope`);
    if (outside(source.rateLimit, 1, 10_000) || outside(source.burstLimit, 1, 5_000)) problems.push(`api.sources ${source.name}: rateLimit 1-10000 and burstLimit 1-5000`);
  }
  // The front reads its route table from one environment variable; Lambda allows 4 KB of them in all
  // (https://docs.aws.amazon.com/lambda/latest/dg/gettingstarted-limits.html), the queue URL and runtime settings included.
  const tableBytes = Buffer.byteLength(JSON.stringify(ingestRouteTable(sources)));
  if (tableBytes > MAX_ROUTE_TABLE_BYTES) problems.push(`api.sources: the route table is ${tableBytes} bytes of the front's environment; at most ${MAX_ROUTE_TABLE_BYTES} (shorter routes or names, or fewer sources)`);
  if (sources.some((source) => source.jwtScope !== undefined) && (api.jwt === undefined || api.jwt.issuer === "" || api.jwt.audience.length === 0)) {
    problems.push("api.jwt: a source has a jwtScope, so the JWT authorizer needs an issuer and at least one audience");
  }
  return problems;
}

/** Apply-time rules for the ingestion args; an empty list means valid. */
export function validateIngestionLayerArgs(args: IngestionLayerArgs): string[] {
  const problems: string[] = [];
  const stream = args.stream ?? {};
  const consumer = args.consumer ?? {};
  const firehose = args.firehose ?? {};
  const queue = args.queue ?? {};
  const mode = stream.mode ?? INGESTION_DEFAULTS.streamMode;
  const retention = stream.retentionHours ?? INGESTION_DEFAULTS.retentionHours;
  if (outside(retention, 24, 8760)) problems.push(`stream.retentionHours ${retention}: Kinesis allows 24-8760`);
  if (mode === "ON_DEMAND" && stream.shardCount !== undefined) problems.push("stream.shardCount: ON_DEMAND streams take no shard count");
  if (mode === "PROVISIONED" && outside(stream.shardCount ?? INGESTION_DEFAULTS.shardCount, 1, 10_000)) problems.push(`stream.shardCount ${stream.shardCount}: at least 1`);

  const batchSize = consumer.batchSize ?? INGESTION_DEFAULTS.batchSize;
  const recordAge = consumer.maxRecordAgeSeconds ?? INGESTION_DEFAULTS.maxRecordAgeSeconds;
  const retries = consumer.maxRetryAttempts ?? INGESTION_DEFAULTS.maxRetryAttempts;
  if (outside(batchSize, 1, 10_000)) problems.push(`consumer.batchSize ${batchSize}: Kinesis mappings allow 1-10000`);
  if (outside(consumer.batchWindowSeconds ?? INGESTION_DEFAULTS.batchWindowSeconds, 0, 300)) problems.push("consumer.batchWindowSeconds: 0-300");
  // Unbounded retries or record age would let one poison record block its shard until it expires.
  if (outside(retries, 0, 10_000)) problems.push(`consumer.maxRetryAttempts ${retries}: a bounded 0-10000`);
  if (outside(recordAge, 60, 604_800)) problems.push(`consumer.maxRecordAgeSeconds ${recordAge}: a bounded 60-604800`);
  if (outside(consumer.parallelizationFactor ?? INGESTION_DEFAULTS.parallelizationFactor, 1, 10)) problems.push("consumer.parallelizationFactor: 1-10");

  const format = firehose.format ?? INGESTION_DEFAULTS.firehoseFormat;
  const bufferMb = firehose.bufferMb ?? INGESTION_DEFAULTS.firehoseBufferMb;
  if (outside(bufferMb, 1, 128)) problems.push(`firehose.bufferMb ${bufferMb}: 1-128`);
  if (outside(firehose.bufferSeconds ?? INGESTION_DEFAULTS.firehoseBufferSeconds, 0, 900)) problems.push("firehose.bufferSeconds: 0-900");
  if (format === "PARQUET" && bufferMb < 64) problems.push(`firehose.bufferMb ${bufferMb}: Parquet conversion needs at least 64`);
  if (format === "PARQUET" && firehose.schema === undefined) problems.push("firehose.schema: PARQUET conversion needs the Glue table it converts to");

  const queueBatch = queue.batchSize ?? INGESTION_DEFAULTS.queueBatchSize;
  const queueWindow = queue.batchWindowSeconds ?? INGESTION_DEFAULTS.queueBatchWindowSeconds;
  if (outside(queueBatch, 1, 10_000)) problems.push(`queue.batchSize ${queueBatch}: SQS mappings allow 1-10000`);
  if (queueBatch > 10 && queueWindow < 1) problems.push(`queue.batchSize ${queueBatch}: more than 10 needs queue.batchWindowSeconds of at least 1`);
  if (outside(queue.maxReceiveCount ?? INGESTION_DEFAULTS.maxReceiveCount, 1, 1000)) problems.push("queue.maxReceiveCount: 1-1000");

  const speedLayer = args.speedLayer ?? {};
  if (speedLayer.existingTable !== undefined && (speedLayer.replicas ?? []).length > 0) {
    problems.push("speedLayer.replicas: an existing table's replicas belong to whoever owns the table");
  }
  problems.push(...validateIngestSources(args.api ?? {}));
  problems.push(...validateFunctionSettings(args.functions));
  const visibility = queueVisibilityTimeoutSeconds(args.functions.timeoutSeconds ?? DATA_PATH_FUNCTION_DEFAULTS.timeoutSeconds);
  if (visibility > MAX_VISIBILITY_TIMEOUT_SECONDS) problems.push(`functions.timeoutSeconds: 6x it (${visibility}) exceeds SQS's 43200 s visibility limit`);
  return problems;
}

/** The Firehose S3 prefixes: hourly partitions under `stream/`, failures by error type under `stream-errors/`. */
export function firehosePrefixes(): { prefix: string; errorOutputPrefix: string } {
  return {
    prefix: `${RAW_STREAM_PREFIX}${FIREHOSE_HOUR_PARTITION}`,
    errorOutputPrefix: `${RAW_STREAM_ERROR_PREFIX}!{firehose:error-output-type}/${FIREHOSE_HOUR_PARTITION}`,
  };
}

/** Cold start of the stream consumer: DynamoDB and S3 clients, the table and the quarantine from the environment. */
export function streamConsumerFactory() {
  const dynamodb = new DynamoDBClient(DATA_PATH_CLIENT_SETTINGS);
  const settings = streamConsumerSettings(process.env);
  const quarantine = { s3: new S3Client(DATA_PATH_CLIENT_SETTINGS), ...quarantineStoreSettings(process.env) };
  return (event: KinesisStreamEvent, context?: Context) =>
    handleStreamBatch(event, { dynamodb, ...settings, quarantine, remainingMs: context ? () => context.getRemainingTimeInMillis() : undefined });
}

/** Cold start of the queue consumer: S3 and DynamoDB clients, the raw bucket, the claims table and the quarantine from the environment. */
export function queueConsumerFactory() {
  const s3 = new S3Client(DATA_PATH_CLIENT_SETTINGS);
  const settings = queueConsumerSettings(process.env);
  const claims = { dynamodb: new DynamoDBClient(DATA_PATH_CLIENT_SETTINGS), tableName: settings.claimsTable, ttlSeconds: settings.claimTtlSeconds };
  const quarantine = { s3, ...quarantineStoreSettings(process.env) };
  return (event: SQSEvent) => handleIngestQueueBatch(event, { s3, rawBucket: settings.rawBucket, claims, staleClaimMs: settings.staleClaimMs, quarantine });
}

/** Cold start of the ingest API's front: an SQS client, the queue URL and the route table from the environment. */
export function ingestFrontFactory() {
  const sqs = new SQSClient(DATA_PATH_CLIENT_SETTINGS);
  const settings = ingestFrontSettings(process.env);
  return (event: APIGatewayProxyEventV2) => handleIngestRequest(event, { sqs, ...settings });
}

/** Cold start of Firehose's record transformation: a DynamoDB client and the claims table from the environment. */
export function streamDeduplicationFactory() {
  const settings = streamDeduplicationSettings(process.env);
  const claims = { dynamodb: new DynamoDBClient(DATA_PATH_CLIENT_SETTINGS), tableName: settings.claimsTable, ttlSeconds: settings.claimTtlSeconds };
  return (event: FirehoseTransformationEvent) => dropRepeatedStreamEvents(event, { claims });
}

/** Conditional writes and reads of one scope's claims only (the key begins with the scope). */
function useClaims(sid: string, tableArn: pulumi.Output<string>, scope: string): pulumi.Output<Statement> {
  return tableArn.apply((Resource) => ({
    Sid: sid,
    Effect: "Allow",
    Action: ["dynamodb:PutItem", "dynamodb:GetItem"],
    Resource,
    Condition: { "ForAllValues:StringLike": { "dynamodb:LeadingKeys": [`${scope}#*`] } },
  }));
}

/** A consumer function and the event source mapping that feeds it. */
interface IngestApi {
  readonly endpoint: pulumi.Output<string>;
  readonly producerRoleArns: Record<string, pulumi.Output<string>>;
  readonly front: InlineFunction;
}

interface ConsumerWiring {
  readonly consumer: InlineFunction;
  readonly mapping: aws.lambda.EventSourceMapping;
}

const KINESIS_READ_ACTIONS = ["kinesis:DescribeStream", "kinesis:DescribeStreamSummary", "kinesis:GetRecords", "kinesis:GetShardIterator", "kinesis:ListShards"];

/**
 * Firehose's use of the data key, scoped as the Firehose access-control guide shows it
 * (https://docs.aws.amazon.com/firehose/latest/dev/controlling-access.html): through S3
 * only, for the raw bucket's Firehose prefixes, and through Kinesis only, to read this
 * stream. The raw bucket encrypts with an S3 Bucket Key, which makes the bucket ARN the
 * encryption context instead of the object's
 * (https://docs.aws.amazon.com/AmazonS3/latest/userguide/bucket-key.html), so both forms are allowed.
 */
function firehoseDataKeyStatements(
  dataKeyArn: pulumi.Input<string>,
  rawBucketArn: pulumi.Output<string>,
  streamArn: pulumi.Output<string>,
  region: pulumi.Output<string>,
): pulumi.Output<Statement>[] {
  return [
    pulumi.all([dataKeyArn, rawBucketArn, region]).apply(([key, bucket, regionName]) => ({
      Sid: "EncryptRawStreamObjects",
      Effect: "Allow",
      Action: ["kms:Decrypt", "kms:GenerateDataKey"],
      Resource: key,
      Condition: {
        StringEquals: { "kms:ViaService": `s3.${regionName}.amazonaws.com` },
        StringLike: { "kms:EncryptionContext:aws:s3:arn": [bucket, `${bucket}/${RAW_STREAM_PREFIX}*`, `${bucket}/${RAW_STREAM_ERROR_PREFIX}*`] },
      },
    })),
    pulumi.all([dataKeyArn, streamArn, region]).apply(([key, stream, regionName]) => ({
      Sid: "DecryptIngestStream",
      Effect: "Allow",
      Action: "kms:Decrypt",
      Resource: key,
      Condition: {
        StringEquals: { "kms:ViaService": `kinesis.${regionName}.amazonaws.com` },
        StringLike: { "kms:EncryptionContext:aws:kinesis:arn": stream },
      },
    })),
  ];
}

/**
 * The ingestion layer. Real time: a KMS-encrypted Kinesis stream → a consumer Lambda
 * writing the DynamoDB speed layer (partial batch failures, bisect, bounded retries,
 * on-failure DLQ), and Firehose → the lake's raw bucket in hourly partitions. API
 * producers: an IAM-authorised HTTP endpoint → an encrypted SQS buffer (with DLQ) → a
 * consumer Lambda landing batches in the raw bucket. Alarms when a topic is given.
 */
export class IngestionLayer extends pulumi.ComponentResource {
  readonly stream: aws.kinesis.Stream;
  /** The table this layer created; undefined when it writes to an existing one. */
  readonly speedLayerTable?: aws.dynamodb.Table;
  readonly speedLayerTableName: pulumi.Output<string>;
  readonly speedLayerTableArn: pulumi.Output<string>;
  readonly streamMapping: aws.lambda.EventSourceMapping;
  readonly queueMapping: aws.lambda.EventSourceMapping;
  readonly streamConsumer: InlineFunction;
  readonly streamDlq: aws.sqs.Queue;
  readonly deliveryStream: aws.kinesis.FirehoseDeliveryStream;
  readonly ingestQueue: aws.sqs.Queue;
  readonly ingestDlq: aws.sqs.Queue;
  readonly queueConsumer: InlineFunction;
  /** Which raw object, or stream record, holds each event id: the raw zone's idempotency records. */
  readonly claimsTable: aws.dynamodb.Table;
  /** Firehose's record transformation: drops a stream event already taken under another sequence number. */
  readonly streamDeduplication: InlineFunction;
  /** HTTPS endpoint taking `POST /events` (SigV4-signed); undefined when the API is disabled. */
  readonly apiEndpoint?: pulumi.Output<string>;
  /** The role each IAM-authorised source's producers assume, by source name. */
  readonly producerRoleArns?: Record<string, pulumi.Output<string>>;
  /** The validating front of the ingest API. */
  readonly ingestFront?: InlineFunction;

  private readonly layerName: string;
  private readonly args: IngestionLayerArgs;

  constructor(name: string, args: IngestionLayerArgs, opts?: pulumi.ComponentResourceOptions) {
    super("dataplatform:ingestion:IngestionLayer", name, {}, opts);
    const problems = validateIngestionLayerArgs(args);
    if (problems.length > 0) throw new pulumi.RunError(`${name}: invalid IngestionLayer args:\n  - ${problems.join("\n  - ")}`);
    this.layerName = name;
    this.args = args;
    const stateful = { parent: this, protect: args.protect ?? true };

    const stream = args.stream ?? {};
    const mode = stream.mode ?? INGESTION_DEFAULTS.streamMode;
    this.stream = new aws.kinesis.Stream(`${name}-stream`, {
      encryptionType: "KMS",
      kmsKeyId: args.dataKeyArn,
      retentionPeriod: this.streamRetentionHours,
      streamModeDetails: { streamMode: mode },
      shardCount: mode === "PROVISIONED" ? (stream.shardCount ?? INGESTION_DEFAULTS.shardCount) : undefined,
    }, stateful);

    const speedLayer = args.speedLayer ?? {};
    this.speedLayerTable = speedLayer.existingTable ? undefined : this.createSpeedLayerTable(name, speedLayer, stateful);
    const table = speedLayer.existingTable ?? (this.speedLayerTable as aws.dynamodb.Table);
    this.speedLayerTableName = pulumi.output(table.name);
    this.speedLayerTableArn = pulumi.output(table.arn);

    this.claimsTable = this.claims(stateful);
    this.streamDlq = createEncryptedQueue(`${name}-stream-dlq`, { dataKeyArn: args.dataKeyArn, messageRetentionSeconds: DLQ_RETENTION_SECONDS }, stateful);
    ({ consumer: this.streamConsumer, mapping: this.streamMapping } = this.consumeStream(speedLayer.ttlDays ?? INGESTION_DEFAULTS.ttlDays));
    this.streamDeduplication = this.deduplicateStream();
    this.deliveryStream = this.deliverToLake();

    const queue = args.queue ?? {};
    this.ingestDlq = createEncryptedQueue(`${name}-ingest-dlq`, { dataKeyArn: args.dataKeyArn, messageRetentionSeconds: DLQ_RETENTION_SECONDS }, stateful);
    this.ingestQueue = createEncryptedQueue(`${name}-ingest`, {
      dataKeyArn: args.dataKeyArn,
      visibilityTimeoutSeconds: queueVisibilityTimeoutSeconds(this.functionTimeoutSeconds),
      messageRetentionSeconds: INGEST_QUEUE_RETENTION_SECONDS,
      receiveWaitTimeSeconds: 20,
      redrivePolicy: pulumi.jsonStringify({
        deadLetterTargetArn: this.ingestDlq.arn,
        maxReceiveCount: queue.maxReceiveCount ?? INGESTION_DEFAULTS.maxReceiveCount,
      }),
    }, stateful);
    ({ consumer: this.queueConsumer, mapping: this.queueMapping } = this.consumeQueue(queue));
    const sources = args.api?.sources ?? [];
    if ((args.api?.enabled ?? true) && sources.length > 0) {
      const api = this.ingestApi(args.api ?? {}, sources);
      this.apiEndpoint = api.endpoint;
      this.producerRoleArns = api.producerRoleArns;
      this.ingestFront = api.front;
    }

    if (args.alarmTopicArn !== undefined) this.alarms(args.alarmTopicArn);

    this.registerOutputs({
      streamName: this.stream.name,
      streamArn: this.stream.arn,
      speedLayerTableName: this.speedLayerTableName,
      claimsTableName: this.claimsTable.name,
      deliveryStreamName: this.deliveryStream.name,
      ingestQueueUrl: this.ingestQueue.url,
      ingestDlqUrl: this.ingestDlq.url,
      streamDlqUrl: this.streamDlq.url,
      apiEndpoint: this.apiEndpoint,
      producerRoleArns: this.producerRoleArns,
    });
  }

  /** The speed-layer table, with its replicas when the stage replicates into other regions. */
  private createSpeedLayerTable(name: string, speedLayer: SpeedLayerArgs, stateful: pulumi.CustomResourceOptions): aws.dynamodb.Table {
    const pointInTimeRecovery = speedLayer.pointInTimeRecovery ?? true;
    const deletionProtection = speedLayer.deletionProtection ?? true;
    return new aws.dynamodb.Table(`${name}-speed-layer`, {
      billingMode: "PAY_PER_REQUEST",
      hashKey: "pk",
      rangeKey: "sk",
      attributes: [{ name: "pk", type: "S" }, { name: "sk", type: "S" }],
      serverSideEncryption: { enabled: true, kmsKeyArn: this.args.dataKeyArn },
      pointInTimeRecovery: { enabled: pointInTimeRecovery },
      deletionProtectionEnabled: deletionProtection,
      ttl: { attributeName: TTL_ATTRIBUTE, enabled: true },
      // NEW_AND_OLD_IMAGES: what DynamoDB global tables (DR) and change consumers need.
      streamEnabled: true,
      streamViewType: "NEW_AND_OLD_IMAGES",
      // The replicas block, never aws.dynamodb.TableReplica as well: the two would fight over the table's replicas.
      replicas: (speedLayer.replicas ?? []).map((replica) => ({
        regionName: replica.region,
        kmsKeyArn: replica.kmsKeyArn,
        pointInTimeRecovery,
        deletionProtectionEnabled: deletionProtection,
        propagateTags: true,
      })),
    }, stateful);
  }

  /**
   * The claims table: one item per (channel, event id), keyed "<scope>#<event id>",
   * removed by TTL once no redelivery can bring the event back. Encrypted and backed up
   * like the speed layer.
   */
  private claims(stateful: pulumi.CustomResourceOptions): aws.dynamodb.Table {
    const idempotency = this.args.idempotency ?? {};
    const speedLayer = this.args.speedLayer ?? {};
    return new aws.dynamodb.Table(`${this.layerName}-claims`, {
      billingMode: "PAY_PER_REQUEST",
      hashKey: CLAIM_ATTRIBUTES.key,
      attributes: [{ name: CLAIM_ATTRIBUTES.key, type: "S" }],
      serverSideEncryption: { enabled: true, kmsKeyArn: this.args.dataKeyArn },
      pointInTimeRecovery: { enabled: idempotency.pointInTimeRecovery ?? speedLayer.pointInTimeRecovery ?? true },
      deletionProtectionEnabled: idempotency.deletionProtection ?? speedLayer.deletionProtection ?? true,
      ttl: { attributeName: CLAIM_ATTRIBUTES.expiresAt, enabled: true },
      // Claims live a day or so; a restored copy could only make new events look like repeats.
      tags: { BackupExempt: "transient deduplication claims that expire within days" },
    }, stateful);
  }

  private claimTtlSeconds(): string {
    return String((this.args.idempotency?.ttlDays ?? claimTtlDays(this.streamRetentionHours)) * 86_400);
  }

  private get streamRetentionHours(): number {
    return this.args.stream?.retentionHours ?? INGESTION_DEFAULTS.retentionHours;
  }

  /** The data-path functions' timeout: the queue's visibility and the stale-claim age follow it. */
  private get functionTimeoutSeconds(): number {
    return this.args.functions.timeoutSeconds ?? DATA_PATH_FUNCTION_DEFAULTS.timeoutSeconds;
  }

  /** A consumer Lambda with the shared data-path settings; its statements are followed by use of the data key. */
  private consumerFunction<E, R>(
    role: string,
    spec: Pick<InlineFunctionArgs<E, R>, "description" | "callbackFactory" | "environment" | "statements" | "timeoutSeconds">,
  ): InlineFunction {
    return createInlineFunction(`${this.layerName}-${role}`, {
      ...inlineFunctionSettings(this.args.functions),
      ...spec,
      statements: [...spec.statements, useDataKey(this.args.dataKeyArn)],
    }, this);
  }

  /** Stream → consumer → speed layer, with partial batch failures, bisect, bounded retries and an on-failure DLQ. */
  private consumeStream(ttlDays: number): ConsumerWiring {
    const consumer = this.args.consumer ?? {};
    const fn = this.consumerFunction("stream-consumer", {
      description: "Writes stream records to the DynamoDB speed layer",
      callbackFactory: streamConsumerFactory,
      environment: { SPEED_LAYER_TABLE: this.speedLayerTableName, SPEED_LAYER_TTL_DAYS: String(ttlDays), QUARANTINE_BUCKET: this.args.quarantineBucket.name },
      statements: [
        allow("ReadStream", KINESIS_READ_ACTIONS, this.stream.arn),
        allow("WriteSpeedLayer", "dynamodb:BatchWriteItem", this.speedLayerTableArn),
        allow("SendFailedBatchesToDlq", "sqs:SendMessage", this.streamDlq.arn),
        this.quarantineStatement("speed-layer"),
      ],
    });
    const mapping = new aws.lambda.EventSourceMapping(`${this.layerName}-stream-mapping`, {
      enabled: this.args.consumersEnabled ?? true,
      eventSourceArn: this.stream.arn,
      functionName: fn.function.arn,
      startingPosition: consumer.startingPosition ?? INGESTION_DEFAULTS.startingPosition,
      batchSize: consumer.batchSize ?? INGESTION_DEFAULTS.batchSize,
      maximumBatchingWindowInSeconds: consumer.batchWindowSeconds ?? INGESTION_DEFAULTS.batchWindowSeconds,
      parallelizationFactor: consumer.parallelizationFactor ?? INGESTION_DEFAULTS.parallelizationFactor,
      functionResponseTypes: ["ReportBatchItemFailures"],
      bisectBatchOnFunctionError: true,
      maximumRetryAttempts: consumer.maxRetryAttempts ?? INGESTION_DEFAULTS.maxRetryAttempts,
      maximumRecordAgeInSeconds: consumer.maxRecordAgeSeconds ?? INGESTION_DEFAULTS.maxRecordAgeSeconds,
      destinationConfig: { onFailure: { destinationArn: this.streamDlq.arn } },
    }, { parent: this });
    return { consumer: fn, mapping };
  }

  /** Firehose: stream → raw bucket in hourly partitions, GZIP JSON or Parquet, logging to a KMS log group. */
  private deliverToLake(): aws.kinesis.FirehoseDeliveryStream {
    const name = `${this.layerName}-firehose`;
    const firehose = this.args.firehose ?? {};
    const format = firehose.format ?? INGESTION_DEFAULTS.firehoseFormat;
    const schema = format === "PARQUET" ? firehose.schema : undefined;
    const logGroup = new aws.cloudwatch.LogGroup(`${name}-logs`, {
      name: `/aws/kinesisfirehose/${name}`,
      retentionInDays: this.args.functions.logRetentionDays,
      kmsKeyId: this.args.functions.logsKeyArn,
    }, { parent: this });
    const logStream = new aws.cloudwatch.LogStream(`${name}-delivery-log`, { logGroupName: logGroup.name, name: "S3Delivery" }, { parent: this });

    const rawArn = pulumi.output(this.args.rawBucket.arn);
    const identity = aws.getCallerIdentityOutput({}, { parent: this });
    const region = aws.getRegionOutput({}, { parent: this });
    const dedupArn = this.streamDeduplication.function.arn;
    const { role, policy } = createScopedRole(name, {
      service: "firehose.amazonaws.com",
      // Firehose assumes its role with this account's id as the external id; requiring it keeps
      // another account's delivery stream from using the role (the Firehose access-control guide,
      // "Allow Firehose to assume an IAM role": https://docs.aws.amazon.com/firehose/latest/dev/controlling-access.html).
      trustConditions: identity.accountId.apply((account) => ({ StringEquals: { "sts:ExternalId": account } })),
      description: `${name}: reads the ingest stream and writes the raw bucket`,
      statements: [
        allow("ReadStream", ["kinesis:DescribeStream", "kinesis:GetShardIterator", "kinesis:GetRecords", "kinesis:ListShards"], this.stream.arn),
        allow("LocateRawBucket", ["s3:GetBucketLocation", "s3:ListBucket", "s3:ListBucketMultipartUploads"], rawArn),
        allow("WriteRawStreamObjects", ["s3:PutObject", "s3:GetObject", "s3:AbortMultipartUpload"], rawArn.apply((arn) => [`${arn}/${RAW_STREAM_PREFIX}*`, `${arn}/${RAW_STREAM_ERROR_PREFIX}*`])),
        ...firehoseDataKeyStatements(this.args.dataKeyArn, rawArn, this.stream.arn, region.region),
        allow("TransformRecords", ["lambda:InvokeFunction", "lambda:GetFunctionConfiguration"], dedupArn.apply((arn) => [arn, `${arn}:*`])),
        allow("WriteDeliveryLogs", "logs:PutLogEvents", logGroup.arn.apply((arn) => `${arn}:*`)),
        ...(schema
          ? [allow("ReadConversionSchema", ["glue:GetTable", "glue:GetTableVersion", "glue:GetTableVersions"],
              pulumi.all([region.region, identity.accountId, schema.databaseName, schema.tableName]).apply(([regionName, account, database, table]) => [
                `arn:aws:glue:${regionName}:${account}:catalog`,
                `arn:aws:glue:${regionName}:${account}:database/${database}`,
                `arn:aws:glue:${regionName}:${account}:table/${database}/${table}`,
              ]))]
          : []),
      ],
    }, { parent: this });

    const { prefix, errorOutputPrefix } = firehosePrefixes();
    return new aws.kinesis.FirehoseDeliveryStream(name, {
      destination: "extended_s3",
      kinesisSourceConfiguration: { kinesisStreamArn: this.stream.arn, roleArn: role.arn },
      extendedS3Configuration: {
        roleArn: role.arn,
        bucketArn: rawArn,
        prefix,
        errorOutputPrefix,
        bufferingSize: firehose.bufferMb ?? INGESTION_DEFAULTS.firehoseBufferMb,
        bufferingInterval: firehose.bufferSeconds ?? INGESTION_DEFAULTS.firehoseBufferSeconds,
        kmsKeyArn: this.args.dataKeyArn,
        // Parquet compresses inside the file (Snappy); S3-level compression must then be off.
        compressionFormat: schema ? "UNCOMPRESSED" : "GZIP",
        fileExtension: schema ? ".parquet" : ".json.gz",
        cloudwatchLoggingOptions: { enabled: true, logGroupName: logGroup.name, logStreamName: logStream.name },
        // Every buffer of stream records passes the deduplication function before it is written.
        processingConfiguration: {
          enabled: true,
          processors: [{
            type: "Lambda",
            parameters: [
              { parameterName: "LambdaArn", parameterValue: pulumi.interpolate`${dedupArn}:$LATEST` },
              { parameterName: "BufferSizeInMBs", parameterValue: "1" },
              { parameterName: "BufferIntervalInSeconds", parameterValue: "60" },
            ],
          }],
        },
        dataFormatConversionConfiguration: schema
          ? {
              enabled: true,
              inputFormatConfiguration: { deserializer: { openXJsonSerDe: { columnToJsonKeyMappings: eventColumnJsonKeys() } } },
              outputFormatConfiguration: { serializer: { parquetSerDe: { compression: "SNAPPY" } } },
              schemaConfiguration: { databaseName: schema.databaseName, tableName: schema.tableName, roleArn: role.arn },
            }
          : undefined,
      },
    }, { parent: this, dependsOn: [policy] });
  }

  /** Firehose's record transformation: claims each stream event id and drops a record whose id another record holds. */
  private deduplicateStream(): InlineFunction {
    return this.consumerFunction("stream-dedup", {
      description: "Firehose record transformation: drops stream records whose event another record already delivered",
      // Firehose waits at most 5 minutes for a transformation (https://docs.aws.amazon.com/firehose/latest/dev/data-transformation.html).
      timeoutSeconds: Math.min(this.functionTimeoutSeconds, FIREHOSE_TRANSFORMATION_MAX_SECONDS),
      callbackFactory: streamDeduplicationFactory,
      environment: { CLAIMS_TABLE: this.claimsTable.name, CLAIM_TTL_SECONDS: this.claimTtlSeconds() },
      statements: [useClaims("ClaimStreamEvents", this.claimsTable.arn, RAW_STREAM_CLAIM_SCOPE)],
    });
  }

  /** Writing quarantine objects under this consumer's own stage prefix only. */
  private quarantineStatement(stage: QuarantineStage): pulumi.Output<Statement> {
    return allow("QuarantinePoisonRecords", "s3:PutObject", pulumi.output(this.args.quarantineBucket.arn).apply((arn) => `${arn}/${QUARANTINE_PREFIX}${stage}/*`));
  }

  /** Queue → consumer → raw bucket: partial batch failures, no starting position (SQS mappings take none). */
  private consumeQueue(queue: IngestQueueArgs): ConsumerWiring {
    const rawArn = pulumi.output(this.args.rawBucket.arn);
    const fn = this.consumerFunction("queue-consumer", {
      description: "Lands ingest queue batches in the raw bucket, each event once",
      callbackFactory: queueConsumerFactory,
      environment: {
        RAW_BUCKET: this.args.rawBucket.name,
        CLAIMS_TABLE: this.claimsTable.name,
        CLAIM_TTL_SECONDS: this.claimTtlSeconds(),
        STALE_CLAIM_MS: String(staleClaimMs(this.functionTimeoutSeconds)),
        QUARANTINE_BUCKET: this.args.quarantineBucket.name,
      },
      statements: [
        allow("ConsumeIngestQueue", ["sqs:ReceiveMessage", "sqs:DeleteMessage", "sqs:GetQueueAttributes"], this.ingestQueue.arn),
        // Reading is how a redelivery finds out whether another raw object already holds an event.
        allow("ReadAndWriteRawApiObjects", ["s3:PutObject", "s3:GetObject"], rawArn.apply((arn) => `${arn}/${RAW_API_PREFIX}*`)),
        useClaims("ClaimApiEvents", this.claimsTable.arn, RAW_API_CLAIM_SCOPE),
        this.quarantineStatement("raw-api"),
      ],
    });
    const mapping = new aws.lambda.EventSourceMapping(`${this.layerName}-queue-mapping`, {
      enabled: this.args.consumersEnabled ?? true,
      eventSourceArn: this.ingestQueue.arn,
      functionName: fn.function.arn,
      batchSize: queue.batchSize ?? INGESTION_DEFAULTS.queueBatchSize,
      maximumBatchingWindowInSeconds: queue.batchWindowSeconds ?? INGESTION_DEFAULTS.queueBatchWindowSeconds,
      functionResponseTypes: ["ReportBatchItemFailures"],
    }, { parent: this });
    return { consumer: fn, mapping };
  }

  /**
   * The HTTP ingest API: one POST route per source, each with its own throttle (stage
   * routeSettings) and authorisation (AWS_IAM through the source's producer role, or a
   * JWT with the source's scope), all integrated with the validating front
   * (functions/ingest-front.ts), which queues each accepted body with the source and schema
   * version as SQS message attributes. Access logs go to a KMS-encrypted log group.
   */
  private ingestApi(api: IngestApiArgs, sources: readonly IngestSourceArgs[]): IngestApi {
    const name = `${this.layerName}-api`;
    const front = this.consumerFunction("ingest-front", {
      description: "Validates ingest API requests and queues each accepted body with its source's attributes",
      // API Gateway waits at most 30 s for an integration (https://docs.aws.amazon.com/apigateway/latest/developerguide/http-api-quotas.html).
      timeoutSeconds: Math.min(this.functionTimeoutSeconds, HTTP_API_INTEGRATION_TIMEOUT_SECONDS - 1),
      callbackFactory: ingestFrontFactory,
      environment: { INGEST_QUEUE_URL: this.ingestQueue.url, INGEST_ROUTES: JSON.stringify(ingestRouteTable(sources)) },
      statements: [allow("SendToIngestQueue", "sqs:SendMessage", this.ingestQueue.arn)],
    });
    const httpApi = new aws.apigatewayv2.Api(name, {
      protocolType: "HTTP",
      description: `Ingest endpoint: one POST route per source (${sources.map((source) => source.name).join(", ")}), validated, then queued`,
    }, { parent: this });
    const integration = new aws.apigatewayv2.Integration(`${name}-front`, {
      apiId: httpApi.id,
      integrationType: "AWS_PROXY",
      integrationUri: front.function.arn,
      integrationMethod: "POST",
      payloadFormatVersion: "2.0",
      timeoutMilliseconds: HTTP_API_INTEGRATION_TIMEOUT_SECONDS * 1000,
    }, { parent: this });
    new aws.lambda.Permission(`${name}-invokes-front`, {
      action: "lambda:InvokeFunction",
      function: front.function.name,
      principal: "apigateway.amazonaws.com",
      // Only this API's POST routes on its $default stage may invoke the front.
      sourceArn: pulumi.interpolate`${httpApi.executionArn}/$default/POST/*`,
    }, { parent: this });

    const authorizer = sources.some((source) => source.jwtScope !== undefined) ? this.jwtAuthorizer(name, httpApi, api.jwt) : undefined;
    const producerRoles: Record<string, pulumi.Output<string>> = {};
    const routes = sources.map((source) => {
      const jwt = source.jwtScope !== undefined;
      if (!jwt) producerRoles[source.name] = this.producerRole(name, httpApi, source).arn;
      return new aws.apigatewayv2.Route(`${name}-route-${source.name}`, {
        apiId: httpApi.id,
        routeKey: ingestRouteKey(source),
        target: pulumi.interpolate`integrations/${integration.id}`,
        authorizationType: jwt ? "JWT" : "AWS_IAM",
        ...(jwt ? { authorizerId: authorizer!.id, authorizationScopes: [source.jwtScope!] } : {}),
      }, { parent: this });
    });

    const accessLogs = new aws.cloudwatch.LogGroup(`${name}-access-logs`, {
      name: `/aws/apigateway/${name}`,
      retentionInDays: this.args.functions.logRetentionDays,
      kmsKeyId: this.args.functions.logsKeyArn,
    }, { parent: this });
    new aws.apigatewayv2.Stage(`${name}-default-stage`, {
      apiId: httpApi.id,
      name: "$default",
      autoDeploy: true,
      // Any route without its own settings (none today) gets a deliberately low throttle.
      defaultRouteSettings: {
        throttlingRateLimit: api.defaultRateLimit ?? INGESTION_DEFAULTS.apiDefaultRateLimit,
        throttlingBurstLimit: api.defaultBurstLimit ?? INGESTION_DEFAULTS.apiDefaultBurstLimit,
      },
      routeSettings: sources.map((source) => ({
        routeKey: ingestRouteKey(source),
        throttlingRateLimit: source.rateLimit,
        throttlingBurstLimit: source.burstLimit,
        detailedMetricsEnabled: true,
      })),
      accessLogSettings: { destinationArn: accessLogs.arn, format: JSON.stringify(INGEST_ACCESS_LOG_FORMAT) },
      // routeSettings name route keys, which must exist when the stage is updated.
    }, { parent: this, dependsOn: routes });
    return { endpoint: httpApi.apiEndpoint, producerRoleArns: producerRoles, front };
  }

  /** The JWT authorizer of the sources with a jwtScope: the stage's issuer and audiences, the bearer token of the Authorization header. */
  private jwtAuthorizer(name: string, httpApi: aws.apigatewayv2.Api, jwt: IngestJwtArgs | undefined): aws.apigatewayv2.Authorizer {
    if (jwt === undefined) throw new Error(`${name}: a source has a jwtScope, so api.jwt (issuer and audience) is required`);
    return new aws.apigatewayv2.Authorizer(`${name}-jwt`, {
      apiId: httpApi.id,
      name: `${name}-jwt`,
      authorizerType: "JWT",
      identitySources: ["$request.header.Authorization"],
      jwtConfiguration: { issuer: jwt.issuer, audiences: jwt.audience },
    }, { parent: this });
  }

  /**
   * HTTP APIs have no resource policies (only REST APIs do:
   * https://docs.aws.amazon.com/apigateway/latest/developerguide/http-api-vs-rest.html), so
   * the API itself cannot say who calls which route. Each IAM source gets a role its
   * configured principals may assume, allowed to invoke that one route's ARN and nothing
   * else; producers sign their requests with the role's session.
   */
  private producerRole(name: string, httpApi: aws.apigatewayv2.Api, source: IngestSourceArgs): aws.iam.Role {
    const roleName = `${name}-producer-${source.name}`;
    const role = new aws.iam.Role(roleName, {
      description: `${roleName}: may POST to ${source.route} of the ingest API, and nothing else`,
      assumeRolePolicy: JSON.stringify({
        Version: "2012-10-17",
        Statement: [{ Sid: "ConfiguredProducers", Effect: "Allow", Principal: { AWS: [...(source.iamPrincipals ?? [])] }, Action: "sts:AssumeRole" }],
      }),
    }, { parent: this });
    new aws.iam.RolePolicy(`${roleName}-policy`, {
      role: role.id,
      policy: policyDocument([allow("InvokeOwnRoute", "execute-api:Invoke", routeArn(httpApi.executionArn, source.route))]),
    }, { parent: this });
    return role;
  }

  private alarms(topicArn: pulumi.Input<string>): void {
    const consumer = this.args.consumer ?? {};
    createMetricAlarm(`${this.layerName}-iterator-age`, {
      description: `${this.layerName}: the stream consumer is falling behind the stream`,
      namespace: "AWS/Lambda",
      metricName: "IteratorAge",
      dimensions: { FunctionName: this.streamConsumer.function.name },
      threshold: (consumer.iteratorAgeAlarmSeconds ?? INGESTION_DEFAULTS.iteratorAgeAlarmSeconds) * 1000,
      evaluationPeriods: 3,
    }, topicArn, this);
    createQueueDepthAlarm(`${this.layerName}-stream-dlq`, this.streamDlq, topicArn, this);
    createQueueDepthAlarm(`${this.layerName}-ingest-dlq`, this.ingestDlq, topicArn, this);
    createFunctionAlarms(`${this.layerName}-stream-consumer`, this.streamConsumer, topicArn, this);
    createQuarantineAlarm(`${this.layerName}-stream-consumer`, this.streamConsumer, topicArn, this);
    const speedLayer = this.args.speedLayer ?? {};
    for (const replica of speedLayer.replicas ?? []) {
      const threshold = speedLayer.replicationLatencyAlarmMs ?? 60_000;
      createMetricAlarm(`${this.layerName}-speed-layer-replication-${replica.region}`, {
        description: `${this.layerName}: the speed layer's replica in ${replica.region} trails by more than ${threshold} ms`,
        namespace: "AWS/DynamoDB",
        metricName: "ReplicationLatency",
        dimensions: { TableName: this.speedLayerTableName, ReceivingRegion: replica.region },
        statistic: "Average",
        threshold,
        periodSeconds: 60,
        evaluationPeriods: 5,
      }, topicArn, this);
    }
    createFunctionAlarms(`${this.layerName}-queue-consumer`, this.queueConsumer, topicArn, this);
    createQuarantineAlarm(`${this.layerName}-queue-consumer`, this.queueConsumer, topicArn, this);
    createFunctionAlarms(`${this.layerName}-stream-dedup`, this.streamDeduplication, topicArn, this);
    if (this.ingestFront) createFunctionAlarms(`${this.layerName}-ingest-front`, this.ingestFront, topicArn, this);
  }
}
