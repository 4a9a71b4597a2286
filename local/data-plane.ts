/**
 * The dev pipeline on this machine: the servers the tests use, the stream, tables,
 * buckets, queues and schemas the dev stack declares (sizes and limits from
 * Pulumi.dev.yaml), and the shipped handlers, each serialised as CallbackFunction ships
 * it and run in a warm Lambda-like environment (local/function-host.ts), fed by the
 * pollers and notifications AWS would run (local/event-sources.ts):
 *
 *   producer → kinesalite ─┬→ stream consumer → dynalite (speed layer)
 *                          └→ Firehose (dedup transformation) → s3rver raw stream/
 *   producer → SQS server → queue consumer → s3rver raw api/
 *   raw → Transformation → transformed clean/ (+ quarantine/) → Staging → staged CSV + manifest
 *   manifest → warehouse loader → Redshift Data stand-in → PostgreSQL "warehouse"
 *   reporting API → Redis (cache-aside) → PostgreSQL "oltp" (Aurora's stand-in)
 *
 * With `faults`, each AWS server the handlers call sits behind a fault proxy
 * (local/fault-proxy.ts), so tests inject throttling, resets and stalls on the wire.
 *
 * Not the same as AWS: the reporting API runs as its module with TLS off (the shipped one
 * insists on TLS to Aurora and ElastiCache, which the local servers do not serve), the
 * warehouse is PostgreSQL behind a Data API stand-in, and Firehose buffers by record
 * count rather than MB.
 */
import { DynamoDBClient } from "@aws-sdk/client-dynamodb";
import { KinesisClient } from "@aws-sdk/client-kinesis";
import { S3Client } from "@aws-sdk/client-s3";
import { CreateQueueCommand, GetQueueAttributesCommand, SQSClient, SendMessageCommand } from "@aws-sdk/client-sqs";
import type { APIGatewayProxyEventV2, S3Event } from "aws-lambda";
import { StageConfig, validateStageConfig } from "../config";
import { queueConsumerFactory, streamConsumerFactory, streamDeduplicationFactory, claimTtlDays, staleClaimMs } from "../components/ingestion/ingestion-layer";
import { stagingFunctionFactory, transformFunctionFactory } from "../components/lake/data-lake";
import { loaderCallbackFactory } from "../components/stores/analytics-warehouse";
import { CLEAN_PREFIX, MANIFEST_PREFIX, MANIFEST_SUFFIX, RAW_API_PREFIX, RAW_STREAM_ERROR_PREFIX, RAW_STREAM_PREFIX, hourPartition } from "../functions/lake-layout";
import { DAILY_SALES_ROUTE, DailySalesRow, createReportingHandler } from "../functions/reporting-api";
import { WAREHOUSE_LOAD_TARGETS } from "../platform/stores";
import { readStackConfig } from "../scripts/engine";
import { Invocable, ShippedFunction, hostShippedFunction } from "./function-host";
import { FaultProxy, startFaultProxy } from "./fault-proxy";
import { RunningSource, forwardS3Notifications, startFirehoseDelivery, startKinesisMapping, startSqsMapping } from "./event-sources";
import { startRedshiftDataServer } from "./redshift-data-server";
import { EMULATOR_CREDENTIALS, EMULATOR_REGION, LocalPostgres, LocalRedis, LocalS3, RunningEmulator, startDynalite, startKinesalite, startPostgres, startRedis, startS3rver } from "./servers";
import { createStreamAndWait, createTableAndWait } from "./aws-setup";
import { localDynamoDbClient, localKinesisClient, localS3Client, localSqsClient } from "./clients";
import { LocalSqs, startSqsServer } from "./sqs-server";

export interface DataPlaneNames {
  readonly stream: string;
  readonly speedLayerTable: string;
  readonly claimsTable: string;
  readonly rawBucket: string;
  readonly transformedBucket: string;
  readonly stagedBucket: string;
  readonly ingestQueue: string;
  readonly ingestDlq: string;
  readonly streamDlq: string;
  readonly warehouseDatabase: string;
  readonly oltpDatabase: string;
}

/** The dev stack's names: its prefix, then the component and child names the plan gives them. */
export function dataPlaneNames(config: StageConfig): DataPlaneNames {
  const prefix = `${config.namePrefix}-${config.stage}`;
  return {
    stream: `${prefix}-ingestion-stream`,
    speedLayerTable: `${prefix}-ingestion-speed-layer`,
    claimsTable: `${prefix}-ingestion-claims`,
    rawBucket: `${prefix}-lake-raw`,
    transformedBucket: `${prefix}-lake-transformed`,
    stagedBucket: `${prefix}-lake-staged`,
    ingestQueue: `${prefix}-ingestion-ingest`,
    ingestDlq: `${prefix}-ingestion-ingest-dlq`,
    streamDlq: `${prefix}-ingestion-stream-dlq`,
    warehouseDatabase: "warehouse",
    oltpDatabase: "oltp",
  };
}

export type ServiceName = "dynamodb" | "s3" | "kinesis" | "sqs";

export interface DataPlaneOptions {
  /** The stack whose config sizes the pipeline. @default "dev" */
  readonly stack?: string;
  /** Put a fault proxy in front of each AWS server the handlers call. @default false */
  readonly faults?: boolean;
  /** Shards of the local stream (the dev stack's is ON_DEMAND). @default 2 */
  readonly shards?: number;
  /** Function timeout for the hosted handlers. @default the stack's lambdaTimeoutSeconds */
  readonly functionTimeoutSeconds?: number;
  /**
   * The Firehose transformation's timeout, when it should differ: a short functionTimeoutSeconds
   * shortens a failed queue batch's wait for redelivery, and the transformation is not part of
   * that. @default functionTimeoutSeconds
   */
  readonly transformationTimeoutSeconds?: number;
  /** Lines the handlers log. @default discarded */
  readonly onLog?: (functionName: string, line: string) => void;
  /** Called as each piece starts. @default nothing */
  readonly onStep?: (step: string) => void;
  /**
   * Stops a start that is under way: the next step stops what has started and rejects,
   * so a Ctrl-C during startup leaves no server, function environment or temp dir behind.
   * @default never aborted
   */
  readonly signal?: AbortSignal;
}

export interface DataPlaneClients {
  readonly dynamodb: DynamoDBClient;
  readonly s3: S3Client;
  readonly kinesis: KinesisClient;
  readonly sqs: SQSClient;
}

export interface ReportAnswer {
  readonly rows: DailySalesRow[];
  /** Where the answer came from: the cache, the database (filling the cache), or the database alone (Redis down). */
  readonly cache: "hit" | "miss" | "bypass";
}

/** The HTTP API (payload 2.0) event for GET /reports/{branch}/daily-sales. */
export function reportRequest(branch: string, from: string, to: string): APIGatewayProxyEventV2 {
  return {
    version: "2.0",
    routeKey: DAILY_SALES_ROUTE,
    rawPath: `/reports/${branch}/daily-sales`,
    rawQueryString: `from=${from}&to=${to}`,
    headers: {},
    pathParameters: { branch },
    queryStringParameters: { from, to },
    isBase64Encoded: false,
    requestContext: { http: { method: "GET", path: `/reports/${branch}/daily-sales`, protocol: "HTTP/1.1", sourceIp: "127.0.0.1", userAgent: "local" } } as APIGatewayProxyEventV2["requestContext"],
  };
}

export interface LocalDataPlane {
  readonly config: StageConfig;
  readonly names: DataPlaneNames;
  /** Where the servers listen (directly, not through the proxies). */
  readonly endpoints: Record<ServiceName | "redshiftData", string> & { postgres: string; redis: string };
  readonly queueUrls: { ingest: string; ingestDlq: string; streamDlq: string };
  readonly streamArn: string;
  /** Clients straight to the servers, for producers, checks and tests. */
  readonly clients: DataPlaneClients;
  /** The fault proxies, when `faults` was set. */
  readonly proxies?: Record<ServiceName, FaultProxy>;
  readonly functions: Record<string, ShippedFunction>;
  readonly sources: Record<string, RunningSource<object>>;
  readonly postgres: LocalPostgres;
  readonly redis: LocalRedis;
  /** Waits until every source is idle and stays so, and the ingest queue is empty: what a producer's data has fully passed through. @default limit 10 minutes */
  idle(limitMs?: number): Promise<void>;
  /** Daily sales for a branch through the cache, as the reporting API answers it. */
  report(branch: string, from: string, to: string): Promise<ReportAnswer>;
  /** SQL on one of the two databases. */
  query<T = Record<string, unknown>>(database: "warehouse" | "oltp", sql: string, values?: unknown[]): Promise<T[]>;
  stop(): Promise<void>;
}

/**
 * The ingest queue's visibility timeout here. The stack sets 6x the function timeout (AWS's
 * advice, so retries of a slow batch never overlap); locally that would make a failed
 * batch wait minutes. What must hold is that a redelivery comes after the failed
 * attempt's claims are stale (staleClaimMs, 2x the timeout), or it would only wait again:
 * one second past that keeps it.
 */
export function localVisibilityTimeoutSeconds(functionTimeoutSeconds: number): number {
  return Math.ceil(staleClaimMs(functionTimeoutSeconds) / 1000) + 1;
}

export function clientsFor(endpoints: Record<ServiceName, string>): DataPlaneClients {
  return {
    dynamodb: localDynamoDbClient(endpoints.dynamodb),
    s3: localS3Client(endpoints.s3),
    kinesis: localKinesisClient(endpoints.kinesis),
    sqs: localSqsClient(endpoints.sqs),
  };
}

const WAREHOUSE_SCHEMA = [
  "CREATE SCHEMA IF NOT EXISTS lake",
  "CREATE TABLE IF NOT EXISTS lake.events (event_id TEXT PRIMARY KEY, source TEXT, entity_id TEXT, event_type TEXT, occurred_at TIMESTAMP, payload TEXT)",
];
const OLTP_SCHEMA = [
  "CREATE SCHEMA IF NOT EXISTS sales",
  "CREATE TABLE IF NOT EXISTS sales.orders (order_id TEXT PRIMARY KEY, branch_code TEXT NOT NULL, amount NUMERIC(12,2) NOT NULL, ordered_at TIMESTAMP NOT NULL)",
];

/** S3 → EventBridge "Object Created", the event the warehouse loader's rule delivers. */
export function objectCreatedEventOf(notification: S3Event): unknown {
  const [record] = notification.Records;
  return {
    version: "0",
    id: record.s3.object.sequencer,
    "detail-type": "Object Created",
    source: "aws.s3",
    account: "000000000000",
    time: record.eventTime,
    region: record.awsRegion,
    resources: [`arn:aws:s3:::${record.s3.bucket.name}`],
    detail: {
      version: "0",
      bucket: { name: record.s3.bucket.name },
      object: { key: record.s3.object.key, size: record.s3.object.size, etag: record.s3.object.eTag, sequencer: record.s3.object.sequencer },
      "request-id": "local",
      requester: "local",
      reason: "PutObject",
    },
  };
}

/** A function fed the EventBridge form of an S3 notification. */
function viaEventBridge(fn: ShippedFunction): Invocable {
  return { name: fn.name, invoke: (event) => fn.invoke(objectCreatedEventOf(event as S3Event)) };
}

export async function startLocalDataPlane(options: DataPlaneOptions = {}): Promise<LocalDataPlane> {
  const stack = options.stack ?? "dev";
  const config = validateStageConfig(readStackConfig(stack), `Pulumi.${stack}.yaml`);
  const names = dataPlaneNames(config);
  const unlessAborted = (before: string) => {
    if (options.signal?.aborted) throw new Error(`the local data plane's start was aborted before ${before}`);
  };
  const step = (name: string) => {
    unlessAborted(name);
    options.onStep?.(name);
  };
  const stoppers: (() => Promise<void>)[] = [];
  // Once only: a Ctrl-C and a failing task may both stop the plane, and the second must wait for the first.
  let stopped: Promise<void> | undefined;
  const stopAll = () => (stopped ??= (async () => {
    for (const stop of stoppers.reverse()) await stop().catch(() => undefined);
  })());
  try {
    step("servers");
    const [dynamo, kinesis, s3, sqs, postgres, redis] = await Promise.all([
      startDynalite(),
      startKinesalite(),
      startS3rver([names.rawBucket, names.transformedBucket, names.stagedBucket]),
      startSqsServer(),
      startPostgres(),
      startRedis(),
    ] as const) as [RunningEmulator, RunningEmulator, LocalS3, LocalSqs, LocalPostgres, LocalRedis];
    stoppers.push(dynamo.stop, kinesis.stop, s3.stop, sqs.stop, postgres.stop, redis.stop);
    const direct: Record<ServiceName, string> = { dynamodb: dynamo.endpoint, kinesis: kinesis.endpoint, s3: s3.endpoint, sqs: sqs.endpoint };
    const clients = clientsFor(direct);
    stoppers.push(async () => Object.values(clients).forEach((client) => client.destroy()));

    let proxies: Record<ServiceName, FaultProxy> | undefined;
    if (options.faults) {
      const started = await Promise.all((Object.keys(direct) as ServiceName[]).map(async (service, index) => [service, await startFaultProxy(direct[service], { seed: index + 1 })] as const));
      proxies = Object.fromEntries(started) as Record<ServiceName, FaultProxy>;
      stoppers.push(async () => void (await Promise.all(Object.values(proxies!).map((proxy) => proxy.stop()))));
    }
    const forHandlers = (service: ServiceName) => proxies?.[service].endpoint ?? direct[service];

    step("resources");
    const streamArn = await createStreamAndWait(clients.kinesis, names.stream, options.shards ?? 2);
    await Promise.all([
      createTableAndWait(clients.dynamodb, {
        TableName: names.speedLayerTable,
        BillingMode: "PAY_PER_REQUEST",
        AttributeDefinitions: [{ AttributeName: "pk", AttributeType: "S" }, { AttributeName: "sk", AttributeType: "S" }],
        KeySchema: [{ AttributeName: "pk", KeyType: "HASH" }, { AttributeName: "sk", KeyType: "RANGE" }],
      }),
      createTableAndWait(clients.dynamodb, {
        TableName: names.claimsTable,
        BillingMode: "PAY_PER_REQUEST",
        AttributeDefinitions: [{ AttributeName: "pk", AttributeType: "S" }],
        KeySchema: [{ AttributeName: "pk", KeyType: "HASH" }],
      }),
    ]);
    const timeoutSeconds = options.functionTimeoutSeconds ?? config.lambdaTimeoutSeconds;
    const queueUrl = async (name: string, attributes: Record<string, string>) => (await clients.sqs.send(new CreateQueueCommand({ QueueName: name, Attributes: attributes }))).QueueUrl!;
    const queueArn = async (url: string) => (await clients.sqs.send(new GetQueueAttributesCommand({ QueueUrl: url, AttributeNames: ["QueueArn"] }))).Attributes!.QueueArn!;
    const ingestDlq = await queueUrl(names.ingestDlq, {});
    const streamDlq = await queueUrl(names.streamDlq, {});
    const ingest = await queueUrl(names.ingestQueue, {
      VisibilityTimeout: String(localVisibilityTimeoutSeconds(timeoutSeconds)),
      RedrivePolicy: JSON.stringify({ deadLetterTargetArn: await queueArn(ingestDlq), maxReceiveCount: config.sqsMaxReceiveCount }),
    });
    const ingestArn = await queueArn(ingest);
    await postgres.withClient(async (client) => {
      await client.query(`CREATE DATABASE ${names.warehouseDatabase}`);
      await client.query(`CREATE DATABASE ${names.oltpDatabase}`);
    });
    const run = (database: string, statements: readonly string[]) =>
      postgres.withClient(async (client) => {
        for (const sql of statements) await client.query(sql);
      }, database);
    await run(names.warehouseDatabase, WAREHOUSE_SCHEMA);
    await run(names.oltpDatabase, OLTP_SCHEMA);
    const warehouse = await startRedshiftDataServer({ postgres: { ...postgres, database: names.warehouseDatabase }, s3: clients.s3 });
    stoppers.push(warehouse.stop);

    step("functions");
    const awsEnv = (functionName: string) => ({
      AWS_REGION: EMULATOR_REGION,
      AWS_ACCESS_KEY_ID: EMULATOR_CREDENTIALS.accessKeyId,
      AWS_SECRET_ACCESS_KEY: EMULATOR_CREDENTIALS.secretAccessKey,
      AWS_LAMBDA_FUNCTION_NAME: functionName,
      AWS_LAMBDA_FUNCTION_VERSION: "$LATEST",
      AWS_ENDPOINT_URL_DYNAMODB: forHandlers("dynamodb"),
      AWS_ENDPOINT_URL_S3: forHandlers("s3"),
      AWS_ENDPOINT_URL_KINESIS: forHandlers("kinesis"),
      AWS_ENDPOINT_URL_SQS: forHandlers("sqs"),
      AWS_ENDPOINT_URL_REDSHIFT_DATA: warehouse.endpoint,
    });
    const claimTtlSeconds = String(claimTtlDays(config.kinesisRetentionHours) * 86_400);
    const host = async (role: string, factory: () => unknown, env: Record<string, string>, ownTimeoutSeconds = timeoutSeconds) => {
      const name = `${config.namePrefix}-${config.stage}-${role}`;
      const fn = await hostShippedFunction(name, factory, { env: { ...awsEnv(name), ...env }, timeoutSeconds: ownTimeoutSeconds, onLog: (line) => options.onLog?.(name, line) });
      stoppers.push(fn.stop);
      return fn;
    };
    const functions = {
      streamConsumer: await host("ingestion-stream-consumer", streamConsumerFactory, {
        SPEED_LAYER_TABLE: names.speedLayerTable,
        SPEED_LAYER_TTL_DAYS: String(config.speedLayerTtlDays),
        QUARANTINE_BUCKET: names.transformedBucket,
      }),
      // Firehose's transformation, which no queue's visibility ties to the function timeout.
      streamDedup: await host("ingestion-stream-dedup", streamDeduplicationFactory, { CLAIMS_TABLE: names.claimsTable, CLAIM_TTL_SECONDS: claimTtlSeconds }, options.transformationTimeoutSeconds ?? timeoutSeconds),
      queueConsumer: await host("ingestion-queue-consumer", queueConsumerFactory, {
        RAW_BUCKET: names.rawBucket,
        CLAIMS_TABLE: names.claimsTable,
        CLAIM_TTL_SECONDS: claimTtlSeconds,
        STALE_CLAIM_MS: String(staleClaimMs(timeoutSeconds)),
        QUARANTINE_BUCKET: names.transformedBucket,
      }),
      transform: await host("lake-transform", transformFunctionFactory, { TRANSFORMED_BUCKET: names.transformedBucket }),
      staging: await host("lake-staging", stagingFunctionFactory, { STAGED_BUCKET: names.stagedBucket }),
      loader: await host("warehouse-loader", loaderCallbackFactory, {
        WAREHOUSE_CLUSTER_ID: `${config.namePrefix}-${config.stage}-warehouse`,
        WAREHOUSE_DATABASE: names.warehouseDatabase,
        COPY_ROLE_ARN: "arn:aws:iam::000000000000:role/local-warehouse-copy",
        LOAD_TARGETS: JSON.stringify(WAREHOUSE_LOAD_TARGETS),
        POLL_TIMEOUT_MS: String(timeoutSeconds * 1000 - 5_000),
      }),
    };

    step("triggers");
    const sendToStreamDlq = async (record: unknown) => void (await clients.sqs.send(new SendMessageCommand({ QueueUrl: streamDlq, MessageBody: JSON.stringify(record) })));
    const firehose = await startFirehoseDelivery({
      kinesis: clients.kinesis,
      streamName: names.stream,
      streamArn,
      s3: clients.s3,
      bucket: names.rawBucket,
      prefix: (arrival) => `${RAW_STREAM_PREFIX}${hourPartition(arrival)}`,
      onErrorPrefix: (type, arrival) => `${RAW_STREAM_ERROR_PREFIX}${type}/${hourPartition(arrival)}`,
      transform: functions.streamDedup,
      bufferRecords: 500,
      bufferSeconds: 1,
      fileExtension: ".json.gz",
      startingPosition: "TRIM_HORIZON",
      deliveryStreamName: `${config.namePrefix}-${config.stage}-ingestion-firehose`,
    });
    const sources: Record<string, RunningSource<object>> = {
      stream: await startKinesisMapping({
        kinesis: clients.kinesis,
        streamName: names.stream,
        streamArn,
        fn: functions.streamConsumer,
        batchSize: config.consumerBatchSize,
        startingPosition: "TRIM_HORIZON",
        maximumRetryAttempts: config.consumerMaxRetryAttempts,
        bisectBatchOnFunctionError: true,
        reportBatchItemFailures: true,
        onFailure: sendToStreamDlq,
        pollIntervalMs: 200,
      }),
      firehose,
      queue: startSqsMapping({ sqs: clients.sqs, queueUrl: ingest, queueArn: ingestArn, fn: functions.queueConsumer, batchSize: 10, reportBatchItemFailures: true, waitTimeSeconds: 1 }),
      lake: forwardS3Notifications(s3, [
        { bucket: names.rawBucket, prefix: RAW_API_PREFIX, events: ["s3:ObjectCreated:*"], fn: functions.transform },
        { bucket: names.rawBucket, prefix: RAW_STREAM_PREFIX, events: ["s3:ObjectCreated:*"], fn: functions.transform },
        { bucket: names.transformedBucket, prefix: CLEAN_PREFIX, events: ["s3:ObjectCreated:*"], fn: functions.staging },
        { bucket: names.stagedBucket, prefix: MANIFEST_PREFIX, suffix: MANIFEST_SUFFIX, events: ["s3:ObjectCreated:*"], fn: viaEventBridge(functions.loader) },
      ], { retryDelayMs: 200 }),
    };
    stoppers.push(async () => void (await Promise.all(Object.values(sources).map((source) => source.stop()))));

    step("reporting");
    // The reporting API as its module, with the local servers' credentials and TLS off (see the header).
    const secrets = new Map([
      ["local:oltp-credentials", JSON.stringify({ username: postgres.user, password: postgres.password })],
      ["local:cache-auth-token", redis.password],
    ]);
    const reporting = createReportingHandler({
      databaseHost: postgres.host,
      databasePort: postgres.port,
      databaseName: names.oltpDatabase,
      databaseSecretArn: "local:oltp-credentials",
      databaseTls: false,
      cacheHost: redis.host,
      cachePort: redis.port,
      cacheSecretArn: "local:cache-auth-token",
      cacheTls: false,
      cacheNamespace: "reporting",
      cacheSchemaVersion: "v1",
      ttlSeconds: 300,
    }, async (arn) => secrets.get(arn) ?? "");
    stoppers.push(reporting.close);

    const queueDepth = async () => {
      const { Attributes = {} } = await clients.sqs.send(new GetQueueAttributesCommand({ QueueUrl: ingest, AttributeNames: ["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"] }));
      return Number(Attributes.ApproximateNumberOfMessages ?? 0) + Number(Attributes.ApproximateNumberOfMessagesNotVisible ?? 0);
    };
    const statsOfAll = () => JSON.stringify(Object.values(sources).map((source) => source.stats));
    const idle = async (limitMs = 10 * 60_000) => {
      // Each stage feeds the next, so settle only when one whole pass changes nothing and no
      // message is left on the ingest queue (a failed batch waits out its visibility timeout there).
      const deadline = Date.now() + limitMs;
      while (Date.now() < deadline) {
        const before = statsOfAll();
        await sources.stream.idle();
        await sources.queue.idle();
        await firehose.flush();
        await firehose.idle();
        await sources.lake.idle();
        if ((await queueDepth()) > 0) {
          await new Promise((resolve) => setTimeout(resolve, 250));
          continue;
        }
        if (statsOfAll() === before) return;
      }
      throw new Error(`the local pipeline did not settle within ${limitMs / 1000} s`);
    };

    unlessAborted("it was ready");
    return {
      config,
      names,
      endpoints: { ...direct, redshiftData: warehouse.endpoint, postgres: `postgresql://${postgres.host}:${postgres.port}`, redis: `redis://${redis.host}:${redis.port}` },
      queueUrls: { ingest, ingestDlq, streamDlq },
      streamArn,
      clients,
      proxies,
      functions,
      sources,
      postgres,
      redis,
      idle,
      report: async (branch, from, to) => {
        const response = await reporting.handle(reportRequest(branch, from, to));
        if (response.statusCode !== 200) throw new Error(`the reporting API answered ${response.statusCode}: ${response.body}`);
        return { rows: (JSON.parse(response.body ?? "{}") as { days: DailySalesRow[] }).days, cache: response.headers?.["x-cache"] as ReportAnswer["cache"] };
      },
      query: <T>(database: "warehouse" | "oltp", sql: string, values: unknown[] = []) =>
        postgres.withClient(async (client) => (await client.query(sql, values)).rows as T[], database === "warehouse" ? names.warehouseDatabase : names.oltpDatabase),
      stop: stopAll,
    };
  } catch (error) {
    await stopAll();
    throw error;
  }
}
