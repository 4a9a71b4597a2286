/**
 * Validates what an AWS Backup restore test restored and reports the verdict back to
 * AWS Backup (PutRestoreValidationResult) and to CloudWatch (a metric the alarms watch).
 *
 * It runs on EventBridge "Restore Job State Change" events. Only restore jobs created by
 * this stack's restore testing plan are judged; a manual restore is none of its business.
 * A completed job is marked VALIDATING, its restored resource is checked against the
 * resource it was restored from, and the job is marked SUCCESSFUL, FAILED or TIMED_OUT.
 * A failed or aborted restore job cannot be validated, but still counts as a failed test.
 *
 * What the checks prove, per type (all of it through the control and data planes a
 * Lambda outside the VPC reaches; nothing connects to a restored database):
 *  - Aurora: the restored cluster becomes available, encrypted with the stage data key,
 *    with the engine and version of its source;
 *  - DynamoDB: the restored table becomes ACTIVE under the data key, with its source's key
 *    schema, and can be read (one item sampled);
 *  - S3: the restored bucket holds objects when its source does, and one of them can be
 *    read (which also proves its KMS key can decrypt it).
 *
 * Sources: PutRestoreValidationResult (VALIDATING | SUCCESSFUL | FAILED | TIMED_OUT) and
 * DescribeRestoreJob.CreatedBy.RestoreTestingPlanArn in the AWS Backup API reference;
 * restore testing names restored resources "awsbackup-restore-test-…" (restore-testing-inferred-metadata.html).
 */
import { BackupClient, DescribeRestoreJobCommand, DescribeRestoreJobCommandOutput, PutRestoreValidationResultCommand, RestoreValidationStatus } from "@aws-sdk/client-backup";
import { CloudWatchClient, PutMetricDataCommand } from "@aws-sdk/client-cloudwatch";
import { DescribeTableCommand, DynamoDBClient, ScanCommand, TableDescription } from "@aws-sdk/client-dynamodb";
import { DBCluster, DescribeDBClustersCommand, RDSClient } from "@aws-sdk/client-rds";
import { GetObjectCommand, ListObjectsV2Command, S3Client } from "@aws-sdk/client-s3";
import { Environment, LogLine, logJson, requiredEnv } from "./data-path-runtime";
import { isNamedError, namedError } from "./errors";

/** What restore testing names the resources it creates. */
export const RESTORE_TEST_PREFIX = "awsbackup-restore-test-";
export const METRIC_TESTS_FAILED = "RestoreTestsFailed";
export const METRIC_TESTS_SUCCEEDED = "RestoreTestsSucceeded";

/** The EventBridge event AWS Backup sends when a restore job changes state (only what is read). */
export interface RestoreJobStateChangeEvent {
  readonly source: string;
  readonly "detail-type": string;
  readonly detail: { readonly restoreJobId: string; readonly status?: string };
}

export interface RestoreValidationClients {
  readonly backup: BackupClient;
  readonly rds: RDSClient;
  readonly dynamodb: DynamoDBClient;
  readonly s3: S3Client;
  readonly cloudwatch: CloudWatchClient;
}

export interface RestoreValidationSettings {
  /** Jobs of this restore testing plan are validated; all others are skipped. */
  readonly restoreTestingPlanArn: string;
  /** Dimension of the published metrics, so two stacks in one account stay apart. */
  readonly restoreTestingPlanName: string;
  /** The customer key restored clusters and tables must be encrypted with. */
  readonly dataKeyArn: string;
  readonly metricNamespace: string;
  /** How long a restored resource may take to become usable before the test is TIMED_OUT. */
  readonly maxWaitMs: number;
  /** @default 15000 */
  readonly pollIntervalMs?: number;
  /** @default setTimeout */
  readonly sleep?: (ms: number) => Promise<void>;
  /** @default logJson */
  readonly log?: LogLine;
}

export type ValidationVerdict = "SUCCESSFUL" | "FAILED" | "TIMED_OUT";

export interface ValidationOutcome {
  readonly restoreJobId: string;
  /** SKIPPED: not this plan's job, not finished, or already judged; nothing is reported. */
  readonly status: ValidationVerdict | "SKIPPED";
  readonly resourceType?: string;
  readonly message: string;
}

/** A resource still not ready when the validation window closed (a named Error: it survives serialisation). */
const NOT_READY_IN_TIME = "NotReadyInTime";

/** The settings the component passes through the environment. */
export function restoreValidationSettingsFromEnv(env: Environment): RestoreValidationSettings {
  return {
    restoreTestingPlanArn: requiredEnv(env, "RESTORE_TESTING_PLAN_ARN"),
    restoreTestingPlanName: requiredEnv(env, "RESTORE_TESTING_PLAN_NAME"),
    dataKeyArn: requiredEnv(env, "DATA_KEY_ARN"),
    metricNamespace: requiredEnv(env, "METRIC_NAMESPACE"),
    maxWaitMs: Number(requiredEnv(env, "MAX_WAIT_MS")),
  };
}

interface CheckContext {
  readonly job: DescribeRestoreJobCommandOutput;
  readonly clients: RestoreValidationClients;
  readonly settings: RestoreValidationSettings;
  readonly deadline: number;
}

/** Problems found with the restored resource (empty: it passed) and what was seen. */
interface CheckResult {
  readonly problems: string[];
  readonly observed: string;
}

type Check = (context: CheckContext) => Promise<CheckResult>;

/** The last segment of an ARN: "cluster:name" -> "name", "table/name" -> "name", ":::bucket" -> "bucket". */
export function resourceNameOf(arn: string): string {
  return arn.split(/[:/]/).pop() ?? arn;
}

const defaultSleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/** Reads `describe` until `ready` holds, or throws NotReadyInTime at the deadline. */
async function waitUntilReady<T>(what: string, describe: () => Promise<T>, ready: (value: T) => boolean, context: CheckContext, statusOf: (value: T) => string): Promise<T> {
  const sleep = context.settings.sleep ?? defaultSleep;
  for (;;) {
    const value = await describe();
    if (ready(value)) return value;
    if (Date.now() >= context.deadline) throw namedError(NOT_READY_IN_TIME, `${what} was still ${statusOf(value)} when the validation window closed`, {});
    await sleep(context.settings.pollIntervalMs ?? 15_000);
  }
}

async function describeCluster(rds: RDSClient, arn: string): Promise<DBCluster | undefined> {
  const { DBClusters = [] } = await rds.send(new DescribeDBClustersCommand({ DBClusterIdentifier: arn }));
  return DBClusters[0];
}

/** The source may have been deleted since its backup; then there is nothing to compare with. */
async function describeSource<T>(describe: () => Promise<T>): Promise<T | undefined> {
  try {
    return await describe();
  } catch (error) {
    if ((error as { name?: string }).name?.endsWith("NotFoundFault") || (error as { name?: string }).name?.endsWith("NotFoundException")) return undefined;
    throw error;
  }
}

export function clusterProblems(restored: DBCluster, source: DBCluster | undefined, dataKeyArn: string): string[] {
  const problems: string[] = [];
  if (restored.StorageEncrypted !== true) problems.push("storage is not encrypted");
  else if (restored.KmsKeyId !== dataKeyArn) problems.push(`storage is encrypted with ${restored.KmsKeyId}, not the data key ${dataKeyArn}`);
  if (source !== undefined && (restored.Engine !== source.Engine || restored.EngineVersion !== source.EngineVersion)) {
    problems.push(`engine ${restored.Engine} ${restored.EngineVersion} differs from the source's ${source.Engine} ${source.EngineVersion}`);
  }
  return problems;
}

const checkAurora: Check = async (context) => {
  const arn = context.job.CreatedResourceArn as string;
  const rds = context.clients.rds;
  const restored = await waitUntilReady(`cluster ${resourceNameOf(arn)}`, () => describeCluster(rds, arn), (c) => c?.Status === "available", context, (c) => c?.Status ?? "missing");
  const source = context.job.SourceResourceArn ? await describeSource(() => describeCluster(rds, context.job.SourceResourceArn as string)) : undefined;
  return {
    problems: clusterProblems(restored as DBCluster, source, context.settings.dataKeyArn),
    observed: `cluster ${restored?.DBClusterIdentifier} ${restored?.Status}, ${restored?.Engine} ${restored?.EngineVersion}`,
  };
};

const keySchemaText = (table: TableDescription | undefined) => (table?.KeySchema ?? []).map((key) => `${key.AttributeName} ${key.KeyType}`).join(", ");

export function tableProblems(restored: TableDescription, source: TableDescription | undefined, dataKeyArn: string): string[] {
  const problems: string[] = [];
  const sse = restored.SSEDescription;
  if (sse?.Status !== "ENABLED" || sse.SSEType !== "KMS") problems.push("the table is not encrypted with a customer key (SSE KMS)");
  else if (sse.KMSMasterKeyArn !== dataKeyArn) problems.push(`the table is encrypted with ${sse.KMSMasterKeyArn}, not the data key ${dataKeyArn}`);
  if (source !== undefined && keySchemaText(restored) !== keySchemaText(source)) {
    problems.push(`key schema (${keySchemaText(restored)}) differs from the source's (${keySchemaText(source)})`);
  }
  return problems;
}

const checkDynamoDb: Check = async (context) => {
  const dynamodb = context.clients.dynamodb;
  const tableName = resourceNameOf(context.job.CreatedResourceArn as string);
  const describe = async (name: string) => (await dynamodb.send(new DescribeTableCommand({ TableName: name }))).Table;
  const restored = await waitUntilReady(`table ${tableName}`, () => describe(tableName), (t) => t?.TableStatus === "ACTIVE", context, (t) => t?.TableStatus ?? "missing");
  const source = context.job.SourceResourceArn ? await describeSource(() => describe(resourceNameOf(context.job.SourceResourceArn as string))) : undefined;
  // Reading an item proves the restored data decrypts, not just that the table exists.
  const { Count = 0 } = await dynamodb.send(new ScanCommand({ TableName: tableName, Limit: 1, ConsistentRead: true }));
  return { problems: tableProblems(restored as TableDescription, source, context.settings.dataKeyArn), observed: `table ${tableName} ACTIVE, ${Count} item(s) sampled` };
};

const checkS3: Check = async (context) => {
  const s3 = context.clients.s3;
  const bucket = resourceNameOf(context.job.CreatedResourceArn as string);
  const firstKey = async (name: string) => (await s3.send(new ListObjectsV2Command({ Bucket: name, MaxKeys: 1 }))).Contents?.[0]?.Key;
  const restoredKey = await firstKey(bucket);
  const sourceKey = context.job.SourceResourceArn ? await describeSource(() => firstKey(resourceNameOf(context.job.SourceResourceArn as string))) : undefined;
  if (restoredKey === undefined) {
    return { problems: sourceKey === undefined ? [] : [`bucket ${bucket} is empty although its source holds objects`], observed: `bucket ${bucket} empty` };
  }
  const object = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: restoredKey, Range: "bytes=0-0" }));
  await object.Body?.transformToByteArray();
  return { problems: [], observed: `bucket ${bucket} readable (${restoredKey})` };
};

/** The restore testing types this validator knows; others fail rather than pass unexamined. */
export const CHECKS: Readonly<Record<string, Check>> = { Aurora: checkAurora, DynamoDB: checkDynamoDb, S3: checkS3 };

/** AWS Backup keeps validation messages short; long error texts are cut, not refused. */
function shortMessage(text: string): string {
  return text.length <= 1000 ? text : `${text.slice(0, 997)}...`;
}

async function report(clients: RestoreValidationClients, restoreJobId: string, status: RestoreValidationStatus, message: string) {
  await clients.backup.send(new PutRestoreValidationResultCommand({ RestoreJobId: restoreJobId, ValidationStatus: status, ValidationStatusMessage: shortMessage(message) }));
}

async function recordMetric(clients: RestoreValidationClients, settings: RestoreValidationSettings, resourceType: string, passed: boolean) {
  const dimensions = [
    { Name: "RestoreTestingPlan", Value: settings.restoreTestingPlanName },
    { Name: "ResourceType", Value: resourceType },
  ];
  await clients.cloudwatch.send(new PutMetricDataCommand({
    Namespace: settings.metricNamespace,
    MetricData: [
      { MetricName: METRIC_TESTS_FAILED, Dimensions: dimensions, Value: passed ? 0 : 1, Unit: "Count" },
      { MetricName: METRIC_TESTS_SUCCEEDED, Dimensions: dimensions, Value: passed ? 1 : 0, Unit: "Count" },
    ],
  }));
}

/** Runs the type's check; anything it throws is a failed validation, reported with the error. */
async function judge(context: CheckContext): Promise<{ verdict: ValidationVerdict; message: string }> {
  const check = CHECKS[context.job.ResourceType ?? ""];
  if (check === undefined) return { verdict: "FAILED", message: `no validation is defined for resource type ${context.job.ResourceType}` };
  try {
    const { problems, observed } = await check(context);
    return problems.length === 0 ? { verdict: "SUCCESSFUL", message: observed } : { verdict: "FAILED", message: `${observed}: ${problems.join("; ")}` };
  } catch (error) {
    if (isNamedError(error, NOT_READY_IN_TIME)) return { verdict: "TIMED_OUT", message: error.message };
    return { verdict: "FAILED", message: `${(error as Error).name}: ${(error as Error).message}` };
  }
}

export async function handleRestoreJobEvent(event: RestoreJobStateChangeEvent, clients: RestoreValidationClients, settings: RestoreValidationSettings): Promise<ValidationOutcome> {
  const log = settings.log ?? logJson;
  const restoreJobId = event.detail.restoreJobId;
  const job = await clients.backup.send(new DescribeRestoreJobCommand({ RestoreJobId: restoreJobId }));
  const resourceType = job.ResourceType ?? "unknown";
  const skip = (message: string): ValidationOutcome => {
    log({ level: "INFO", restoreJobId, resourceType, outcome: "SKIPPED", message });
    return { restoreJobId, status: "SKIPPED", resourceType, message };
  };

  if (job.CreatedBy?.RestoreTestingPlanArn !== settings.restoreTestingPlanArn) return skip("not a restore test of this stack's plan");
  if (job.Status === "FAILED" || job.Status === "ABORTED") {
    await recordMetric(clients, settings, resourceType, false);
    const message = `restore job ${job.Status}: ${job.StatusMessage ?? "no status message"}`;
    log({ level: "ERROR", restoreJobId, resourceType, outcome: "FAILED", message });
    return { restoreJobId, status: "FAILED", resourceType, message };
  }
  if (job.Status !== "COMPLETED") return skip(`restore job is ${job.Status}`);
  // EventBridge may deliver an event twice; a verdict once given stands.
  if (job.ValidationStatus !== undefined && job.ValidationStatus !== "VALIDATING") return skip(`already validated: ${job.ValidationStatus}`);

  await report(clients, restoreJobId, "VALIDATING", `validating ${resourceType} ${job.CreatedResourceArn}`);
  const { verdict, message } = await judge({ job, clients, settings, deadline: Date.now() + settings.maxWaitMs });
  await report(clients, restoreJobId, verdict, message);
  await recordMetric(clients, settings, resourceType, verdict === "SUCCESSFUL");
  log({ level: verdict === "SUCCESSFUL" ? "INFO" : "ERROR", restoreJobId, resourceType, outcome: verdict, message });
  return { restoreJobId, status: verdict, resourceType, message };
}
