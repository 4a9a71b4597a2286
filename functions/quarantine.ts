/**
 * The quarantine: where every data-path handler puts a record that cannot succeed on a
 * retry (not JSON, off the event contract, or an item DynamoDB refuses), with its reason,
 * the payload exactly as received and where it came from, so that an operator can list
 * it, fix it and replay it (`npm run quarantine`), and the rest of its batch lands now.
 *
 * Where it lives: the lake's transformed bucket, under `quarantine/<stage>/`, one JSON
 * line per record. Chosen over an SQS dead-letter queue because
 * - the lake path already quarantined there, so one place holds every path's rejects;
 * - S3 keeps them as long as the lake's lifecycle says (SQS at most 14 days) and holds a
 *   record of any size with its origin beside it (an SQS message has a size cap, and a
 *   binary payload grows by a third in base64);
 * - listing does not consume: a DLQ must be received (and its visibility juggled) to be
 *   read, and two operators listing at once would hide records from each other;
 * - the bucket is already SSE-KMS with the data key, TLS-only, versioned in prod,
 *   replicated to the DR region and covered by the pack's S3 rules.
 * A quarantine object is written before the records it holds are acknowledged; if that
 * write fails, the records are reported as failed and come back, so nothing is dropped.
 *
 * Each write also prints one CloudWatch embedded-metric-format line (QuarantinedRecords,
 * by function), which the component alarms on. EMF lines go to stdout directly: with the
 * JSON log format, console.log would wrap the line in a "message" field and CloudWatch
 * would not extract the metric
 * (https://docs.aws.amazon.com/AmazonCloudWatch/latest/monitoring/CloudWatch_Embedded_Metric_Format_Lambda.html).
 */
import { S3Client } from "@aws-sdk/client-s3";
import { createHash } from "crypto";
import { Environment, LogLine, requiredEnv } from "./data-path-runtime";
import { QUARANTINE_PREFIX, hourPartition, shortHash } from "./lake-layout";
import { jsonLines, writeObject } from "./lake-objects";

/** Which handler refused the record. */
export type QuarantineStage = "speed-layer" | "raw-api" | "lake-transform" | "batch-file";
export const QUARANTINE_STAGES: readonly QuarantineStage[] = ["speed-layer", "raw-api", "lake-transform", "batch-file"];

/** Where a fixed record is sent again: the stream for streamed records, the ingest queue for API ones. */
export type ReplayTarget = "stream" | "queue";

export interface KinesisOrigin {
  readonly kind: "kinesis";
  readonly streamArn: string;
  readonly shardId: string;
  readonly sequenceNumber: string;
  readonly partitionKey: string;
  /** The record's approximate arrival time on the stream, ISO-8601. */
  readonly arrivedAt: string;
}

export interface SqsOrigin {
  readonly kind: "sqs";
  readonly queueArn: string;
  readonly messageId: string;
  /** SentTimestamp, ISO-8601. */
  readonly sentAt: string;
  readonly receiveCount: number;
  /** The event's position in a message that held an array of events; absent when the whole body was refused. */
  readonly eventIndex?: number;
}

export interface S3Origin {
  readonly kind: "s3";
  readonly bucket: string;
  readonly key: string;
  /** 1-based row of the object. */
  readonly row: number;
}

export type QuarantineOrigin = KinesisOrigin | SqsOrigin | S3Origin;

export interface QuarantinePayload {
  /** utf8 when the bytes are valid UTF-8 text, base64 otherwise, so the exact bytes can be replayed. */
  readonly encoding: "utf8" | "base64";
  readonly data: string;
  readonly bytes: number;
  readonly sha256: string;
}

export interface QuarantinedRecord {
  readonly version: 1;
  /** Stable for the record at its origin, so a retried write gives the same id and listings can collapse repeats. */
  readonly id: string;
  readonly stage: QuarantineStage;
  readonly reason: string;
  readonly payload: QuarantinePayload;
  readonly origin: QuarantineOrigin;
  /** "<function name>:<version>" of the handler that refused it. */
  readonly functionVersion: string;
  readonly replayTo: ReplayTarget;
}

export const QUARANTINE_METRIC = { namespace: "DataPlatform/Quarantine", name: "QuarantinedRecords" } as const;

/** The payload as recorded: text when the bytes round-trip through UTF-8 unchanged, base64 when they do not. */
export function quarantinePayload(bytes: Uint8Array): QuarantinePayload {
  const buffer = Buffer.from(bytes);
  const text = buffer.toString("utf8");
  const isText = Buffer.from(text, "utf8").equals(buffer);
  return {
    encoding: isText ? "utf8" : "base64",
    data: isText ? text : buffer.toString("base64"),
    bytes: buffer.length,
    sha256: createHash("sha256").update(buffer).digest("hex"),
  };
}

/** The bytes a payload recorded. */
export function payloadBytes(payload: QuarantinePayload): Buffer {
  return Buffer.from(payload.data, payload.encoding === "utf8" ? "utf8" : "base64");
}

function originIdentity(origin: QuarantineOrigin): string {
  switch (origin.kind) {
    case "kinesis":
      return `${origin.streamArn}/${origin.shardId}/${origin.sequenceNumber}`;
    case "sqs":
      return `${origin.queueArn}/${origin.messageId}/${origin.eventIndex ?? "body"}`;
    case "s3":
      return `${origin.bucket}/${origin.key}#${origin.row}`;
  }
}

export function quarantinedRecord(
  stage: QuarantineStage,
  origin: QuarantineOrigin,
  bytes: Uint8Array,
  reason: string,
  functionVersion: string,
  replayTo: ReplayTarget,
): QuarantinedRecord {
  return { version: 1, id: shortHash(`${stage}\n${originIdentity(origin)}`), stage, reason, payload: quarantinePayload(bytes), origin, functionVersion, replayTo };
}

/** `quarantine/<stage>/year=…/hour=…/<name>.jsonl`: by stage, then by the hour the records arrived. */
export function quarantineObjectKey(stage: QuarantineStage, arrivedAt: Date, name: string): string {
  return `${QUARANTINE_PREFIX}${stage}/${hourPartition(arrivedAt)}${name}.jsonl`;
}

/** The handler's name and "<name>:<version>", from the variables the Lambda runtime sets. */
export function functionIdentityOf(env: Environment): { functionName: string; functionVersion: string } {
  const functionName = env.AWS_LAMBDA_FUNCTION_NAME ?? "local";
  return { functionName, functionVersion: `${functionName}:${env.AWS_LAMBDA_FUNCTION_VERSION ?? "$LATEST"}` };
}

/** The embedded-metric-format document for `count` records quarantined by one function. */
export function quarantineMetricDocument(functionName: string, stage: QuarantineStage, count: number, at: Date): Record<string, unknown> {
  return {
    _aws: {
      Timestamp: at.getTime(),
      CloudWatchMetrics: [{ Namespace: QUARANTINE_METRIC.namespace, Dimensions: [["FunctionName"]], Metrics: [{ Name: QUARANTINE_METRIC.name, Unit: "Count" }] }],
    },
    FunctionName: functionName,
    Stage: stage,
    [QUARANTINE_METRIC.name]: count,
  };
}

/** Writes EMF straight to stdout (see the module comment for why not console.log). */
export const printMetric = (document: Record<string, unknown>): void => {
  process.stdout.write(`${JSON.stringify(document)}\n`);
};

export interface QuarantineStore {
  readonly s3: S3Client;
  /** The lake's transformed bucket. */
  readonly bucket: string;
  /** The metric's dimension. */
  readonly functionName: string;
  /** "<function name>:<version>" of the handler writing, recorded with each record. */
  readonly functionVersion: string;
  /** @default printMetric */
  readonly metric?: (document: Record<string, unknown>) => void;
}

/** What a handler's cold start reads: the bucket the component sets, and who is writing. */
export function quarantineStoreSettings(env: Environment): { bucket: string; functionName: string; functionVersion: string } {
  return { bucket: requiredEnv(env, "QUARANTINE_BUCKET"), ...functionIdentityOf(env) };
}

/**
 * Writes one quarantine object holding `records` and counts them in the metric. Rejects
 * when the write fails (after the SDK's retries), so the caller keeps the records.
 */
export async function writeQuarantine(store: QuarantineStore, stage: QuarantineStage, key: string, records: readonly QuarantinedRecord[], log: LogLine): Promise<void> {
  await writeObject(store.s3, store.bucket, key, jsonLines(records), "application/x-ndjson");
  (store.metric ?? printMetric)(quarantineMetricDocument(store.functionName, stage, records.length, new Date()));
  log({ level: "WARN", message: "Records quarantined", stage, key, records: records.length, reasons: [...new Set(records.map((record) => record.reason))] });
}

/**
 * For consumers that acknowledge what they quarantine: true once the records are held
 * (or there are none), false when the write failed, so the caller reports the records
 * as failed and their source delivers them again.
 */
export async function quarantineBeforeAcknowledging(
  store: QuarantineStore,
  stage: QuarantineStage,
  key: string,
  records: readonly QuarantinedRecord[],
  log: LogLine,
): Promise<boolean> {
  if (records.length === 0) return true;
  try {
    await writeQuarantine(store, stage, key, records, log);
    return true;
  } catch (error) {
    log({ level: "ERROR", message: "Quarantine write failed; the records are reported as failed", stage, key, records: records.length, error: (error as Error).message });
    return false;
  }
}
