/**
 * Kinesis → DynamoDB speed layer. Decodes and validates each record, writes the valid
 * ones with BatchWriteItem in chunks of 25, retries UnprocessedItems with bounded
 * exponential backoff and full jitter, and reports what did not land in
 * `batchItemFailures` (the mapping uses ReportBatchItemFailures).
 *
 * Delivery is at least once, so writes are idempotent: an item's key is derived from
 * the event alone (entity, time, event id), and replaying a record writes the same item.
 *
 * Poison records (not JSON, not the event contract, or an item DynamoDB cannot store,
 * such as a number outside its range or an item above 400 KB) are reported as failures,
 * not dropped: Lambda retries from the lowest failed sequence number at most
 * maximumRetryAttempts times (maximumRecordAgeInSeconds bounds it too), then sends the
 * batch's shard and sequence range to the on-failure DLQ and moves on, so one bad record
 * cannot block its shard for ever. The reason is logged with the sequence number, which
 * with the stream's retention is enough to fetch and inspect the record. The valid
 * records around it are written on every attempt, so none of them waits on it: DynamoDB
 * refuses a whole BatchWriteItem for one invalid item, so a refused chunk is written
 * again item by item and only the refused items fail.
 */
import { AttributeValue, BatchWriteItemCommand, BatchWriteItemCommandInput, BatchWriteItemCommandOutput, DynamoDBClient, WriteRequest } from "@aws-sdk/client-dynamodb";
import { marshall } from "@aws-sdk/util-dynamodb";
import type { KinesisStreamBatchResponse, KinesisStreamEvent, KinesisStreamRecord } from "aws-lambda";
import { Environment, LogLine, logJson, positiveIntegerEnv, requiredEnv } from "./data-path-runtime";
import { EventValidation, IngestEvent, parseIngestEvent } from "./ingestion-events";

/** BatchWriteItem takes at most 25 requests. */
export const BATCH_WRITE_LIMIT = 25;
export const TTL_ATTRIBUTE = "expiresAt";
const SECONDS_PER_DAY = 86_400;

export interface RetryPolicy {
  /** Attempts in all, the first included. */
  readonly maxAttempts: number;
  readonly baseDelayMs: number;
  readonly maxDelayMs: number;
}

/** At most about 1.6 s of waiting per chunk of 25 (the 3 s cap is never reached in 6 attempts): well inside any sensible function timeout. */
export const DEFAULT_RETRY_POLICY: RetryPolicy = { maxAttempts: 6, baseDelayMs: 50, maxDelayMs: 3_000 };

export type BatchWriter = (input: BatchWriteItemCommandInput) => Promise<BatchWriteItemCommandOutput>;

export interface StreamConsumerDeps {
  readonly dynamodb: DynamoDBClient;
  readonly tableName: string;
  readonly ttlDays: number;
  /** @default DEFAULT_RETRY_POLICY */
  readonly retry?: RetryPolicy;
  /** Seam for the BatchWriteItem call. @default sends BatchWriteItemCommand through `dynamodb` */
  readonly writeBatch?: BatchWriter;
  /** @default console.log of one JSON line (the function logs in JSON format) */
  readonly log?: LogLine;
  /** @default a real timer */
  readonly sleep?: (ms: number) => Promise<void>;
  /** @default Math.random */
  readonly random?: () => number;
}

export interface StreamConsumerSettings {
  readonly tableName: string;
  readonly ttlDays: number;
}

/** What the deployed function reads from its environment (set by IngestionLayer). */
export function streamConsumerSettings(env: Environment): StreamConsumerSettings {
  return { tableName: requiredEnv(env, "SPEED_LAYER_TABLE"), ttlDays: positiveIntegerEnv(env, "SPEED_LAYER_TTL_DAYS") };
}

export function decodeStreamRecord(record: KinesisStreamRecord): EventValidation {
  return parseIngestEvent(Buffer.from(record.kinesis.data, "base64").toString("utf8"));
}

/** Items are keyed by the event alone, so a replay overwrites rather than duplicates. */
export function speedLayerKey(event: IngestEvent): { pk: string; sk: string } {
  return { pk: `ENTITY#${event.entityId}`, sk: `EVENT#${event.occurredAt}#${event.eventId}` };
}

/** Expiry counts from when the event happened, so a replayed record gets the same TTL. */
export function expiresAt(event: IngestEvent, ttlDays: number): number {
  return Math.floor(Date.parse(event.occurredAt) / 1000) + ttlDays * SECONDS_PER_DAY;
}

export function speedLayerItem(event: IngestEvent, sequenceNumber: string, ttlDays: number): Record<string, AttributeValue> {
  return marshall(
    { ...speedLayerKey(event), ...event, sequenceNumber, [TTL_ATTRIBUTE]: expiresAt(event, ttlDays) },
    { removeUndefinedValues: true, convertEmptyValues: false },
  );
}

export function chunk<T>(items: readonly T[], size: number): T[][] {
  const chunks: T[][] = [];
  for (let i = 0; i < items.length; i += size) chunks.push(items.slice(i, i + size));
  return chunks;
}

/** Full jitter: a uniform wait up to the capped exponential step (attempt counts from 1). */
export function backoffDelayMs(attempt: number, policy: RetryPolicy, random: () => number): number {
  const ceiling = Math.min(policy.maxDelayMs, policy.baseDelayMs * 2 ** (attempt - 1));
  return Math.floor(random() * ceiling);
}

interface PendingItem {
  readonly itemKey: string;
  readonly request: WriteRequest;
  /** Every record that produced this item (duplicates in one batch collapse into one write). */
  readonly sequenceNumbers: string[];
}

const itemKeyOf = (item: Record<string, AttributeValue> | undefined) => `${item?.pk?.S}\u0000${item?.sk?.S}`;

/**
 * DynamoDB's answer when a request breaks its rules (a number out of range, an item above
 * 400 KB, …). Retrying the same request cannot succeed, and in a BatchWriteItem one such
 * item makes DynamoDB refuse every item of the request.
 */
export function isRefusedRequest(error: unknown): boolean {
  return (error as { name?: unknown } | null)?.name === "ValidationException";
}

/**
 * Writes one chunk, resubmitting UnprocessedItems until none are left or the attempts
 * run out. Returns the item keys that never landed. A thrown error (after the SDK's own
 * retries) fails the whole chunk rather than the invocation, so other chunks still count,
 * except a refused request (ValidationException): that is not retried as it is, but split
 * so each item is written on its own and only the items DynamoDB refuses fail.
 */
export async function writeChunkWithRetry(
  requests: readonly WriteRequest[],
  tableName: string,
  writeBatch: BatchWriter,
  policy: RetryPolicy,
  sleep: (ms: number) => Promise<void>,
  random: () => number,
  log: LogLine,
): Promise<Set<string>> {
  let pending = [...requests];
  for (let attempt = 1; pending.length > 0 && attempt <= policy.maxAttempts; attempt++) {
    if (attempt > 1) await sleep(backoffDelayMs(attempt - 1, policy, random));
    try {
      const output = await writeBatch({ RequestItems: { [tableName]: pending } });
      pending = output.UnprocessedItems?.[tableName] ?? [];
    } catch (error) {
      log({ level: "ERROR", message: "BatchWriteItem failed", attempt, items: pending.length, error: (error as Error).message });
      if (isRefusedRequest(error)) {
        if (pending.length === 1) break;
        const unwritten = new Set<string>();
        for (const request of pending) {
          for (const itemKey of await writeChunkWithRetry([request], tableName, writeBatch, policy, sleep, random, log)) unwritten.add(itemKey);
        }
        return unwritten;
      }
    }
  }
  return new Set(pending.map((request) => itemKeyOf(request.PutRequest?.Item)));
}

/**
 * Groups valid records by item key; the last record of a key in shard order wins. A
 * record whose item cannot be built (marshall refuses numbers beyond
 * Number.MAX_SAFE_INTEGER) is a poison record: it goes to `unbuildable`, not the batch.
 */
function pendingItems(
  valid: { event: IngestEvent; sequenceNumber: string }[],
  ttlDays: number,
  unbuildable: (sequenceNumber: string, reason: string) => void,
): PendingItem[] {
  const byKey = new Map<string, PendingItem>();
  for (const { event, sequenceNumber } of valid) {
    let item: Record<string, AttributeValue>;
    try {
      item = speedLayerItem(event, sequenceNumber, ttlDays);
    } catch (error) {
      unbuildable(sequenceNumber, (error as Error).message);
      continue;
    }
    const itemKey = itemKeyOf(item);
    const earlier = byKey.get(itemKey)?.sequenceNumbers ?? [];
    // Re-inserting moves the key to the end, keeping write order close to shard order.
    byKey.delete(itemKey);
    byKey.set(itemKey, { itemKey, request: { PutRequest: { Item: item } }, sequenceNumbers: [...earlier, sequenceNumber] });
  }
  return [...byKey.values()];
}

export async function handleStreamBatch(event: KinesisStreamEvent, deps: StreamConsumerDeps): Promise<KinesisStreamBatchResponse> {
  const log = deps.log ?? logJson;
  const policy = deps.retry ?? DEFAULT_RETRY_POLICY;
  const writeBatch = deps.writeBatch ?? ((input) => deps.dynamodb.send(new BatchWriteItemCommand(input)));
  const sleep = deps.sleep ?? ((ms) => new Promise<void>((resolve) => setTimeout(resolve, ms)));
  const random = deps.random ?? Math.random;

  const failed = new Set<string>();
  const valid: { event: IngestEvent; sequenceNumber: string }[] = [];
  for (const record of event.Records) {
    const sequenceNumber = record.kinesis.sequenceNumber;
    const decoded = decodeStreamRecord(record);
    if (decoded.ok) {
      valid.push({ event: decoded.event, sequenceNumber });
    } else {
      failed.add(sequenceNumber);
      log({ level: "WARN", message: "Invalid stream record", sequenceNumber, partitionKey: record.kinesis.partitionKey, reason: decoded.reason });
    }
  }

  const pending = pendingItems(valid, deps.ttlDays, (sequenceNumber, reason) => {
    failed.add(sequenceNumber);
    log({ level: "WARN", message: "Stream record cannot be stored in the speed layer", sequenceNumber, reason });
  });
  // Chunks go one after another: parallel chunks would only make throttling (and so UnprocessedItems) likelier.
  for (const items of chunk(pending, BATCH_WRITE_LIMIT)) {
    const unwritten = await writeChunkWithRetry(items.map((item) => item.request), deps.tableName, writeBatch, policy, sleep, random, log);
    for (const item of items.filter((candidate) => unwritten.has(candidate.itemKey))) {
      item.sequenceNumbers.forEach((sequenceNumber) => failed.add(sequenceNumber));
      log({ level: "ERROR", message: "Item not written after retries", sequenceNumbers: item.sequenceNumbers });
    }
  }

  const batchItemFailures = event.Records
    .map((record) => record.kinesis.sequenceNumber)
    .filter((sequenceNumber) => failed.has(sequenceNumber))
    .map((itemIdentifier) => ({ itemIdentifier }));
  log({ level: "INFO", message: "Stream batch processed", records: event.Records.length, failed: batchItemFailures.length });
  return { batchItemFailures };
}
