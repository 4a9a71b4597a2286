/**
 * The streaming and batch data path: the DataLake first (its raw bucket and catalog are
 * what ingestion writes into), then the IngestionLayer. Stage differences arrive only
 * through config keys mapped to explicit component args here.
 */
import * as pulumi from "@pulumi/pulumi";
import { isActiveStack } from "../config";
import { DataLake } from "../components/lake/data-lake";
import { ExistingTable, IngestionLayer, SpeedLayerReplica } from "../components/ingestion/ingestion-layer";
import { DataPathFunctionSettings } from "../components/lib/data-path-functions";
import { PlatformContext } from "./context";

export interface BucketRef {
  readonly name: pulumi.Output<string>;
  readonly arn: pulumi.Output<string>;
}

export interface DataPath {
  readonly lake: DataLake;
  readonly ingestion: IngestionLayer;
  /** Raw zone: where ingestion lands data. */
  readonly rawBucket: BucketRef;
  /** Staged zone: COPY-ready CSV and manifests for the warehouse loader. */
  readonly stagedBucket: BucketRef;
  /** Announces each new COPY manifest in the staged bucket (S3 event JSON). */
  readonly lakeEventsTopicArn: pulumi.Output<string>;
  readonly glueDatabaseName: pulumi.Output<string>;
  readonly athenaWorkgroupName: pulumi.Output<string>;
  readonly speedLayerTableName: pulumi.Output<string>;
  readonly outputs: Record<string, unknown>;
}

/** How the data path takes part in DR: the table's replicas (primary), or the replica to write to (DR stack). */
export interface DataPathReplication {
  /** @default [] */
  readonly speedLayerReplicas?: SpeedLayerReplica[];
  /** @default undefined (the data path owns its table) */
  readonly existingSpeedLayerTable?: ExistingTable;
}

export function defineDataPath(context: PlatformContext, replication: DataPathReplication = {}): DataPath {
  const { config, keys, network } = context;
  // Consumers and lake triggers run in the active region only: the passive one fills by replication.
  const active = isActiveStack(config);
  const functions: DataPathFunctionSettings = {
    memorySize: config.lambdaMemoryMb,
    timeoutSeconds: config.lambdaTimeoutSeconds,
    tracing: config.tracingEnabled,
    logRetentionDays: config.logRetentionDays,
    logsKeyArn: keys.logsKeyArn,
    // Private subnets reach S3 and DynamoDB through gateway endpoints, the other APIs through interface endpoints.
    vpc: { subnetIds: network.privateSubnetIds, securityGroupIds: [network.securityGroups.lambda.id] },
  };

  const lake = new DataLake(`${context.prefix}-lake`, {
    dataKeyArn: keys.dataKeyArn,
    functions,
    versioning: config.lakeVersioning,
    iaTransitionDays: config.lakeIaTransitionDays,
    glacierTransitionDays: config.lakeGlacierTransitionDays,
    streamObjectFormat: config.firehoseFormat,
    // A stage that may be torn down (no `protect`) may also delete buckets that still hold objects.
    forceDestroy: !config.protectStatefulResources,
    triggersEnabled: active,
    protect: config.protectStatefulResources,
    alarmTopicArn: context.alarmTopicArn,
  }, context.componentOpts);

  const ingestion = new IngestionLayer(`${context.prefix}-ingestion`, {
    dataKeyArn: keys.dataKeyArn,
    rawBucket: { name: lake.raw.name, arn: lake.raw.arn },
    quarantineBucket: { name: lake.transformed.name, arn: lake.transformed.arn },
    functions,
    stream: {
      mode: config.kinesisStreamMode,
      // ON_DEMAND streams take no shard count.
      shardCount: config.kinesisStreamMode === "PROVISIONED" ? config.kinesisShardCount : undefined,
      retentionHours: config.kinesisRetentionHours,
    },
    consumer: {
      batchSize: config.consumerBatchSize,
      batchWindowSeconds: config.consumerBatchWindowSeconds,
      maxRetryAttempts: config.consumerMaxRetryAttempts,
      maxRecordAgeSeconds: config.consumerMaxRecordAgeSeconds,
    },
    speedLayer: {
      ttlDays: config.speedLayerTtlDays,
      pointInTimeRecovery: config.pointInTimeRecovery,
      deletionProtection: config.deletionProtection,
      replicas: replication.speedLayerReplicas,
      replicationLatencyAlarmMs: config.drRpoStreamSeconds * 1000,
      existingTable: replication.existingSpeedLayerTable,
    },
    consumersEnabled: active,
    firehose: {
      format: config.firehoseFormat,
      bufferMb: config.firehoseBufferMb,
      bufferSeconds: config.firehoseBufferSeconds,
      schema: { databaseName: lake.databaseName, tableName: lake.tables.rawStream.name },
    },
    queue: { maxReceiveCount: config.sqsMaxReceiveCount },
    api: {
      sources: config.ingestSources.map((source) => ({ ...source, iamPrincipals: source.iamPrincipals ? [...source.iamPrincipals] : undefined })),
      jwt: config.ingestJwtIssuer === "" ? undefined : { issuer: config.ingestJwtIssuer, audience: [...config.ingestJwtAudience] },
    },
    protect: config.protectStatefulResources,
    alarmTopicArn: context.alarmTopicArn,
  }, context.componentOpts);

  const rawBucket = { name: lake.raw.name, arn: lake.raw.arn };
  const stagedBucket = { name: lake.staged.name, arn: lake.staged.arn };
  return {
    lake,
    ingestion,
    rawBucket,
    stagedBucket,
    lakeEventsTopicArn: lake.eventsTopicArn,
    glueDatabaseName: lake.databaseName,
    athenaWorkgroupName: lake.workgroupName,
    speedLayerTableName: ingestion.speedLayerTableName,
    outputs: {
      rawBucketName: rawBucket.name,
      transformedBucketName: lake.transformed.name,
      stagedBucketName: stagedBucket.name,
      glueDatabaseName: lake.databaseName,
      athenaWorkgroupName: lake.workgroupName,
      lakeEventsTopicArn: lake.eventsTopicArn,
      ingestStreamName: ingestion.stream.name,
      speedLayerTableName: ingestion.speedLayerTableName,
      ingestQueueUrl: ingestion.ingestQueue.url,
      ...(ingestion.apiEndpoint ? { ingestApiEndpoint: ingestion.apiEndpoint } : {}),
      ...(ingestion.producerRoleArns ? { ingestProducerRoleArns: ingestion.producerRoleArns } : {}),
    },
  };
}
