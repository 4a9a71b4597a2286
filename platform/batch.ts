/**
 * The batch layer of a stack (both roles): the Glue jobs, the crawler and EMR Serverless
 * (BatchProcessing), the Step Functions pipeline with its nightly schedule (BatchWorkflow),
 * and the OLTP -> warehouse sync the stage chose (WarehouseSync). Only the active region's
 * schedule fires: the passive side holds the same pipeline, ready for dr:promote.
 */
import { StageConfig, isActiveStack } from "../config";
import { BatchProcessing, BatchProcessingArgs } from "../components/batch/batch-processing";
import { BatchWorkflow, BatchWorkflowArgs } from "../components/batch/batch-workflow";
import { LakeReplayWorkflow } from "../components/batch/lake-replay-workflow";
import { WarehouseSync } from "../components/batch/warehouse-sync";
import { DEFAULT_LOADER_TIMEOUT_SECONDS } from "../components/stores/analytics-warehouse";
import { DEFAULT_DATABASE_NAME } from "../components/stores/oltp-database";
import { PlatformContext } from "./context";
import { DataPath } from "./data-path";
import { Stores } from "./stores";

export interface BatchLayer {
  readonly processing: BatchProcessing;
  /** Absent while the stack has no warehouse loader (a DR standby before dr:promote restores the warehouse). */
  readonly workflow?: BatchWorkflow;
  /** The on-demand lake replay on EMR Serverless, where the stage enables it. */
  readonly replay?: LakeReplayWorkflow;
  /** The OLTP -> warehouse sync of warehouseSync; never on a DR stack (its cluster is a read-only secondary). */
  readonly sync?: WarehouseSync;
  readonly outputs: Record<string, unknown>;
}

export function batchProcessingArgs(context: PlatformContext, dataPath: DataPath): BatchProcessingArgs {
  const { config, keys, network } = context;
  const lake = dataPath.lake;
  return {
    raw: { name: lake.raw.name, arn: lake.raw.arn },
    transformed: { name: lake.transformed.name, arn: lake.transformed.arn },
    staged: { name: lake.staged.name, arn: lake.staged.arn },
    catalogDatabaseName: dataPath.glueDatabaseName,
    dataKeyArn: keys.dataKeyArn,
    logsKeyArn: keys.logsKeyArn,
    logRetentionDays: config.logRetentionDays,
    glue: { workerType: config.glueWorkerType, workerCount: config.glueWorkerCount, timeoutMinutes: config.glueJobTimeoutMinutes },
    emrServerless: config.emrServerlessEnabled
      ? {
          releaseLabel: config.emrServerlessReleaseLabel,
          maxVcpu: config.emrServerlessMaxVcpu,
          maxMemoryGb: config.emrServerlessMaxMemoryGb,
          idleMinutes: config.emrServerlessIdleMinutes,
          subnetIds: network.privateSubnetIds,
          securityGroupIds: [network.securityGroups.lambda.id],
        }
      : undefined,
    protect: config.protectStatefulResources,
    forceDestroy: !config.protectStatefulResources,
  };
}

/** The pipeline's retry, timeout and polling policy, from the stage config (and the loader's own timeout). */
export function batchPipelineSettings(config: StageConfig, warehouseLoadTimeoutSeconds = DEFAULT_LOADER_TIMEOUT_SECONDS): BatchWorkflowArgs["pipeline"] {
  return {
    retry: { maxAttempts: config.batchRetryAttempts, intervalSeconds: 30, backoffRate: 2, maxDelaySeconds: 600 },
    glueJobTimeoutMinutes: config.glueJobTimeoutMinutes,
    // A crawl of new folders only takes minutes; an hour of polls means it is stuck.
    crawler: { pollIntervalSeconds: 30, maxPolls: 120 },
    warehouseLoadTimeoutSeconds,
  };
}

/** The sync the stage chose, declared where the primary cluster and the warehouse are (the config refuses it on a DR stack). */
export function defineWarehouseSync(context: PlatformContext, stores: Stores): WarehouseSync | undefined {
  const { config: c, prefix, keys, network } = context;
  const namespaceArn = stores.warehouse.namespaceArn;
  if (c.warehouseSync === "none" || namespaceArn === undefined) return undefined;
  return new WarehouseSync(`${prefix}-sync`, {
    mode: c.warehouseSync,
    tables: c.warehouseSyncTables,
    source: { clusterArn: stores.oltp.clusterArn, endpoint: stores.oltp.endpoint, port: stores.oltp.port, databaseName: DEFAULT_DATABASE_NAME },
    target: { mode: c.redshiftMode, namespaceArn, endpoint: stores.warehouse.endpoint, port: stores.warehouse.port, databaseName: stores.warehouse.databaseName },
    kmsKeyArn: keys.dataKeyArn,
    logsKeyArn: keys.logsKeyArn,
    logRetentionDays: c.logRetentionDays,
    dms: c.warehouseSync !== "dms" ? undefined : {
      region: context.region,
      vpcId: network.vpcId,
      subnetIds: network.isolatedSubnetIds,
      databaseSecurityGroupId: network.securityGroups.database.id,
      warehouseSecurityGroupId: network.securityGroups.warehouse.id,
      endpointsSecurityGroupId: network.securityGroups.endpoints.id,
      s3PrefixListId: network.gatewayEndpoints.s3.prefixListId,
      instanceClass: c.dmsInstanceClass,
      engineVersion: c.dmsEngineVersion,
      multiAz: c.dmsMultiAz,
      allocatedStorageGb: c.dmsAllocatedStorageGb,
      createAccountRoles: c.dmsCreateAccountRoles,
    },
  }, context.componentOpts);
}

/** The replay's state machine, beside the EMR Serverless application it runs on. */
export function defineLakeReplay(context: PlatformContext, dataPath: DataPath, processing: BatchProcessing): LakeReplayWorkflow | undefined {
  const { config, prefix, keys } = context;
  if (processing.emrApplication === undefined || processing.emrJobRole === undefined) return undefined;
  return new LakeReplayWorkflow(`${prefix}-batch-replay`, {
    applicationId: processing.emrApplication.id,
    jobRoleArn: processing.emrJobRole.arn,
    replayScriptUri: processing.scripts["lake-replay"].url,
    pyFilesUri: processing.scripts["batch-events"].url,
    rawBucket: dataPath.rawBucket.name,
    transformedBucket: dataPath.lake.transformed.name,
    fanoutTopicArn: dataPath.lakeEventsTopicArn,
    failureTopicArn: context.alerting.topicArn,
    dataKeyArn: keys.dataKeyArn,
    logsKeyArn: keys.logsKeyArn,
    logRetentionDays: config.logRetentionDays,
    logLevel: config.batchWorkflowLogLevel,
    tracing: config.tracingEnabled,
    replay: { retry: batchPipelineSettings(config).retry, replayTimeoutMinutes: config.emrServerlessReplayTimeoutMinutes },
    alarmTopicArn: context.alarmTopicArn,
  }, context.componentOpts);
}

export function defineBatch(context: PlatformContext, dataPath: DataPath, stores: Stores): BatchLayer {
  const { config, prefix, keys, network } = context;
  const processing = new BatchProcessing(`${prefix}-batch`, batchProcessingArgs(context, dataPath), context.componentOpts);
  const sync = defineWarehouseSync(context, stores);
  const replay = defineLakeReplay(context, dataPath, processing);
  const loaderArn = stores.warehouse.loaderFunctionArn;
  const outputs: Record<string, unknown> = {
    batchFileJobName: processing.batchFileJob.name,
    batchCurationJobName: processing.curationJob.name,
    batchCrawlerName: processing.crawler.name,
    ...(processing.emrApplication ? { emrServerlessApplicationId: processing.emrApplication.id, emrServerlessJobRoleArn: processing.emrJobRole?.arn } : {}),
    ...(replay ? { lakeReplayStateMachineArn: replay.stateMachine.arn } : {}),
    ...(sync?.integrationArn ? { zeroEtlIntegrationArn: sync.integrationArn } : {}),
    ...(sync?.replicationTaskArn ? { dmsReplicationTaskArn: sync.replicationTaskArn } : {}),
  };
  if (loaderArn === undefined) return { processing, replay, sync, outputs };

  const workflow = new BatchWorkflow(`${prefix}-batch-pipeline`, {
    batchFileJobName: processing.batchFileJob.name,
    curationJobName: processing.curationJob.name,
    crawlerName: processing.crawler.name,
    warehouseLoaderFunctionArn: loaderArn,
    stagedBucket: dataPath.stagedBucket,
    fanoutTopicArn: dataPath.lakeEventsTopicArn,
    failureTopicArn: context.alerting.topicArn,
    reportingDatabase: {
      // The load writes: the cluster's writer endpoint, with the credentials the aggregator uses.
      host: stores.oltp.endpoint,
      port: stores.oltp.port,
      databaseName: stores.reportingDatabase.name,
      credentialsSecretArn: stores.reportingDatabase.secretArn,
    },
    vpc: { subnetIds: network.privateSubnetIds, securityGroupIds: [network.securityGroups.lambda.id] },
    dataKeyArn: keys.dataKeyArn,
    logsKeyArn: keys.logsKeyArn,
    logRetentionDays: config.logRetentionDays,
    logLevel: config.batchWorkflowLogLevel,
    tracing: config.tracingEnabled,
    pipeline: batchPipelineSettings(config, stores.warehouse.loaderTimeoutSeconds),
    schedule: { expression: config.batchSchedule, timezone: config.batchScheduleTimezone },
    scheduleEnabled: isActiveStack(config),
    alarmTopicArn: context.alarmTopicArn,
  }, context.componentOpts);
  return {
    processing,
    workflow,
    replay,
    sync,
    outputs: { ...outputs, batchStateMachineArn: workflow.stateMachine.arn, batchScheduleName: workflow.schedule.name },
  };
}
