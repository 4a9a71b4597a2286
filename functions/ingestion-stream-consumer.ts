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
 * such as a number outside its range or an item above 400 KB) cannot succeed on a retry,
 * so they are not reported as failures: they go to the quarantine (functions/quarantine.ts)
 * with their reason, payload and stream position, and are acknowledged, so one bad record
 * never holds up its shard. Only what may succeed later is reported in
 * `batchItemFailures`: throttling, timeouts and 5xx answers still left after the bounded
 * retries, and the poison records themselves when the quarantine write fails (they come
 * back with the retry; nothing is dropped). DynamoDB refuses a whole BatchWriteItem for
 * one invalid item, so a refused chunk is written again item by item and only the
 * refused items are quarantined.
 */
import { AttributeValue, BatchWriteItemCommand, BatchWriteItemCommandInput, BatchWriteItemCommandOutput, DynamoDBClient, WriteRequest } from "@aws-sdk/client-dynamodb";
import { marshall } from "@aws-sdk/util-dynamodb";
import type { KinesisStreamBatchResponse, KinesisStreamEvent, KinesisStreamRecord } from "aws-lambda";
import { Environment, LogLine, WORST_SDK_CALL_MS, logJson, positiveIntegerEnv, requiredEnv } from "./data-path-runtime";
import { EventValidation, IngestEvent, parseIngestEvent } from "./ingestion-events";
import { KinesisOrigin, QuarantineStore, quarantineBeforeAcknowledging, quarantineObjectKey, quarantinedRecord } from "./quarantine";

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
  /** Where poison records go (the lake's transformed bucket). */
  readonly quarantine: QuarantineStore;
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
  /** Milliseconds the invocation has left (the Lambda context's getRemainingTimeInMillis). @default unbounded */
  readonly remainingMs?: () => number;
}

/**
 * Retries stop this long before the function's timeout, so the invocation returns its
 * failures instead of being killed (a killed invocation fails its whole batch): room for
 * one more stalled BatchWriteItem and the quarantine write, with a second to spare.
 */
export const RETRY_DEADLINE_MARGIN_MS = 2 * WORST_SDK_CALL_MS + 1_000;

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

/** What did not land of a chunk: items to retry later, and items DynamoDB refused, with its reason. */
export interface ChunkOutcome {
  readonly unwritten: Set<string>;
  readonly refused: Map<string, string>;
}

/** How chunks are written: the table, the call, the retry policy and the time the invocation has left. */
export interface ChunkWriting {
  readonly tableName: string;
  readonly writeBatch: BatchWriter;
  readonly policy: RetryPolicy;
  readonly sleep: (ms: number) => Promise<void>;
  readonly random: () => number;
  readonly log: LogLine;
  /** Whether another attempt still fits before the function times out. */
  readonly hasTimeForAnotherAttempt: () => boolean;
}

/**
 * Writes one chunk, resubmitting UnprocessedItems until none are left, the attempts run
 * out or the invocation's time does; what is left is `unwritten`. A thrown error (after
 * the SDK's own retries) fails the whole chunk rather than the invocation, so other
 * chunks still count, except a refused request (ValidationException): that is not
 * retried as it is, but split so each item is written on its own, and the items
 * DynamoDB still refuses are `refused`.
 */
export async function writeChunkWithRetry(requests: readonly WriteRequest[], writing: ChunkWriting): Promise<ChunkOutcome> {
  const { tableName, policy, log } = writing;
  let pending = [...requests];
  for (let attempt = 1; pending.length > 0 && attempt <= policy.maxAttempts; attempt++) {
    if (attempt > 1) {
      if (!writing.hasTimeForAnotherAttempt()) break;
      await writing.sleep(backoffDelayMs(attempt - 1, policy, writing.random));
    }
    try {
      const output = await writing.writeBatch({ RequestItems: { [tableName]: pending } });
      pending = output.UnprocessedItems?.[tableName] ?? [];
    } catch (error) {
      log({ level: "ERROR", message: "BatchWriteItem failed", attempt, items: pending.length, error: (error as Error).message });
      if (!isRefusedRequest(error)) continue;
      if (pending.length === 1) return { unwritten: new Set(), refused: new Map([[itemKeyOf(pending[0].PutRequest?.Item), `DynamoDB refused the item: ${(error as Error).message}`]]) };
      const outcome: ChunkOutcome = { unwritten: new Set(), refused: new Map() };
      for (const request of pending) {
        const single = await writeChunkWithRetry([request], writing);
        single.unwritten.forEach((itemKey) => outcome.unwritten.add(itemKey));
        single.refused.forEach((reason, itemKey) => outcome.refused.set(itemKey, reason));
      }
      return outcome;
    }
  }
  return { unwritten: new Set(pending.map((request) => itemKeyOf(request.PutRequest?.Item))), refused: new Map() };
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

/** A record refused for good, with why. */
interface PoisonRecord {
  readonly record: KinesisStreamRecord;
  readonly reason: string;
}

/** Where a record sits on the stream, as the quarantine records it. */
function kinesisOriginOf(record: KinesisStreamRecord): KinesisOrigin {
  return {
    kind: "kinesis",
    streamArn: record.eventSourceARN,
    shardId: record.eventID.split(":")[0],
    sequenceNumber: record.kinesis.sequenceNumber,
    partitionKey: record.kinesis.partitionKey,
    arrivedAt: new Date(record.kinesis.approximateArrivalTimestamp * 1000).toISOString(),
  };
}

/**
 * One quarantine object per invocation, named by its first poison record's position:
 * a retried batch that holds the same records rewrites the same object.
 */
async function quarantinePoison(poison: readonly PoisonRecord[], deps: StreamConsumerDeps, log: LogLine): Promise<boolean> {
  if (poison.length === 0) return true;
  const records = poison.map(({ record, reason }) =>
    quarantinedRecord("speed-layer", kinesisOriginOf(record), Buffer.from(record.kinesis.data, "base64"), reason, deps.quarantine.functionVersion, "stream"));
  const first = kinesisOriginOf(poison[0].record);
  const key = quarantineObjectKey("speed-layer", new Date(first.arrivedAt), `${first.shardId}-${first.sequenceNumber}`);
  return quarantineBeforeAcknowledging(deps.quarantine, "speed-layer", key, records, log);
}

export async function handleStreamBatch(event: KinesisStreamEvent, deps: StreamConsumerDeps): Promise<KinesisStreamBatchResponse> {
  const log = deps.log ?? logJson;
  const policy = deps.retry ?? DEFAULT_RETRY_POLICY;
  const writeBatch = deps.writeBatch ?? ((input) => deps.dynamodb.send(new BatchWriteItemCommand(input)));
  const sleep = deps.sleep ?? ((ms) => new Promise<void>((resolve) => setTimeout(resolve, ms)));
  const random = deps.random ?? Math.random;
  const remainingMs = deps.remainingMs ?? (() => Number.POSITIVE_INFINITY);
  const writing: ChunkWriting = { tableName: deps.tableName, writeBatch, policy, sleep, random, log, hasTimeForAnotherAttempt: () => remainingMs() > RETRY_DEADLINE_MARGIN_MS };

  const bySequenceNumber = new Map(event.Records.map((record) => [record.kinesis.sequenceNumber, record]));
  const failed = new Set<string>();
  const poison: PoisonRecord[] = [];
  const refuse = (sequenceNumber: string, reason: string) => poison.push({ record: bySequenceNumber.get(sequenceNumber)!, reason });
  const valid: { event: IngestEvent; sequenceNumber: string }[] = [];
  for (const record of event.Records) {
    const decoded = decodeStreamRecord(record);
    if (decoded.ok) valid.push({ event: decoded.event, sequenceNumber: record.kinesis.sequenceNumber });
    else poison.push({ record, reason: decoded.reason });
  }

  const pending = pendingItems(valid, deps.ttlDays, refuse);
  // Chunks go one after another: parallel chunks would only make throttling (and so UnprocessedItems) likelier.
  for (const items of chunk(pending, BATCH_WRITE_LIMIT)) {
    const { unwritten, refused } = await writeChunkWithRetry(items.map((item) => item.request), writing);
    for (const item of items) {
      const reason = refused.get(item.itemKey);
      if (reason !== undefined) item.sequenceNumbers.forEach((sequenceNumber) => refuse(sequenceNumber, reason));
      if (!unwritten.has(item.itemKey)) continue;
      item.sequenceNumbers.forEach((sequenceNumber) => failed.add(sequenceNumber));
      log({ level: "ERROR", message: "Item not written after retries", sequenceNumbers: item.sequenceNumbers });
    }
  }
  poison.sort((a, b) => compareSequenceNumbers(a.record.kinesis.sequenceNumber, b.record.kinesis.sequenceNumber));
  if (!(await quarantinePoison(poison, deps, log))) poison.forEach(({ record }) => failed.add(record.kinesis.sequenceNumber));

  const batchItemFailures = event.Records
    .map((record) => record.kinesis.sequenceNumber)
    .filter((sequenceNumber) => failed.has(sequenceNumber))
    .map((itemIdentifier) => ({ itemIdentifier }));
  log({ level: "INFO", message: "Stream batch processed", records: event.Records.length, quarantined: poison.length, failed: batchItemFailures.length });
  return { batchItemFailures };
}

/** Kinesis sequence numbers are decimal strings of up to 128 bits: compare by length, then text. */
export function compareSequenceNumbers(a: string, b: string): number {
  return a.length - b.length || (a < b ? -1 : a > b ? 1 : 0);
}
