/**
 * SQS ingest queue → raw bucket. Each message body is one event object or a JSON array
 * of them. The valid events of a batch land as one JSON-lines object under `api/`. What
 * cannot succeed on a redelivery goes to the quarantine (functions/quarantine.ts) with its
 * reason and is acknowledged: a body that is not JSON, an empty or oversized array, or a
 * single event off the contract (whole body), and each off-contract event of an array
 * (that event alone; the others land). Only transient failures (claims or S3 after the
 * SDK's retries, or the quarantine write itself) are reported in `batchItemFailures`, so
 * SQS redelivers them and, after maxReceiveCount receives, moves them to the DLQ. A claim
 * DynamoDB keeps refusing fails only the messages holding that event: every event that
 * was claimed lands now, so a throttled claims table slows a batch down without stalling it.
 *
 * Exactly once per event id in the raw zone, however SQS groups redeliveries (one
 * message alone after its visibility timed out, or a batch split differently): before
 * an event is written, its id is claimed in the ingestion layer's claims table for the
 * object about to hold it (functions/event-claims.ts). An id another object already
 * holds is left out when that object contains it; a claim whose object does not contain
 * the event belongs to an attempt that died before writing, and is taken over once it is
 * older than `staleClaimMs` (longer than any attempt can run), while a younger one means
 * a live attempt is writing it now, so the message waits for its redelivery. Downstream
 * zones are derived object by object, so they hold each event once as well.
 *
 * Why claims and not one raw object per message: an object per message would make SQS
 * redelivery harmless with no table at all, but every object costs a PUT and then a
 * Transformation run, a Staging run, a manifest and a warehouse COPY transaction; with
 * batches of 10 that is ten times the downstream invocations and COPY commits. A claim
 * costs one conditional write per event (1 WRU for these small items) and reads only on
 * a redelivery, and it also catches a producer sending one event in two messages.
 */
import { GetObjectCommand, NoSuchKey, S3Client } from "@aws-sdk/client-s3";
import type { SQSBatchResponse, SQSEvent, SQSRecord } from "aws-lambda";
import { Environment, LogLine, logJson, positiveIntegerEnv, requiredEnv } from "./data-path-runtime";
import { Claim, ClaimStore, claimEventsSettled, isUnavailable, takeOverClaim } from "./event-claims";
import { IngestEvent, SOURCE_ATTRIBUTE, validateIngestEvent } from "./ingestion-events";
import { rawApiObjectKey, shortHash } from "./lake-layout";
import { jsonLines, writeObject } from "./lake-objects";
import { QuarantineStore, QuarantinedRecord, SqsOrigin, quarantineBeforeAcknowledging, quarantineObjectKey, quarantinedRecord } from "./quarantine";

/** Producers batch events into messages; more than this in one message is refused rather than half-taken. */
export const MAX_EVENTS_PER_MESSAGE = 500;

/** Claims of the API channel's raw objects (the stream channel claims under "raw-stream"). */
export const RAW_API_CLAIM_SCOPE = "raw-api";

/** One event of an array body refused on its own. */
export interface RejectedEvent {
  readonly index: number;
  readonly reason: string;
  /** The event's JSON. */
  readonly json: string;
}

/** A body refused whole, or its valid events and the ones refused one by one. */
export type MessageParse =
  | { readonly ok: true; readonly events: IngestEvent[]; readonly rejected: RejectedEvent[] }
  | { readonly ok: false; readonly reason: string };

export interface QueueConsumerDeps {
  readonly s3: S3Client;
  readonly rawBucket: string;
  readonly claims: ClaimStore;
  /** A claim older than this belongs to an attempt that has ended (the component sets twice the function timeout). */
  readonly staleClaimMs: number;
  /** Where poison messages and events go (the lake's transformed bucket). */
  readonly quarantine: QuarantineStore;
  /** @default console.log of one JSON line */
  readonly log?: LogLine;
}

export interface QueueConsumerSettings {
  readonly rawBucket: string;
  readonly claimsTable: string;
  readonly claimTtlSeconds: number;
  readonly staleClaimMs: number;
}

export function queueConsumerSettings(env: Environment): QueueConsumerSettings {
  return {
    rawBucket: requiredEnv(env, "RAW_BUCKET"),
    claimsTable: requiredEnv(env, "CLAIMS_TABLE"),
    claimTtlSeconds: positiveIntegerEnv(env, "CLAIM_TTL_SECONDS"),
    staleClaimMs: positiveIntegerEnv(env, "STALE_CLAIM_MS"),
  };
}

export function parseIngestMessage(body: string): MessageParse {
  let value: unknown;
  try {
    value = JSON.parse(body);
  } catch (error) {
    return { ok: false, reason: `body is not JSON: ${(error as Error).message}` };
  }
  if (!Array.isArray(value)) {
    const validation = validateIngestEvent(value);
    return validation.ok ? { ok: true, events: [validation.event], rejected: [] } : { ok: false, reason: validation.reason };
  }
  if (value.length === 0) return { ok: false, reason: "body is an empty array" };
  if (value.length > MAX_EVENTS_PER_MESSAGE) return { ok: false, reason: `body holds more than ${MAX_EVENTS_PER_MESSAGE} events` };
  const events: IngestEvent[] = [];
  const rejected: RejectedEvent[] = [];
  for (const [index, candidate] of value.entries()) {
    const validation = validateIngestEvent(candidate);
    if (validation.ok) events.push(validation.event);
    else rejected.push({ index, reason: `event ${index}: ${validation.reason}`, json: JSON.stringify(candidate) });
  }
  return { ok: true, events, rejected };
}

/**
 * A message the HTTP front queued names its route's source in the `source` attribute;
 * an event of another source in it (a producer writing to the queue past the front, or a
 * front bug) is refused whole, since the route it claims to come from did not check it.
 * A message without the attribute is taken as before (sent straight to the queue).
 */
export function checkSourceAttribute(parsed: MessageParse, record: Pick<SQSRecord, "messageAttributes">): MessageParse {
  const attributed = record.messageAttributes?.[SOURCE_ATTRIBUTE]?.stringValue;
  if (!parsed.ok || attributed === undefined) return parsed;
  const mismatch = parsed.events.find((event) => event.source !== attributed);
  if (mismatch === undefined) return parsed;
  return { ok: false, reason: `the source attribute "${attributed}" does not match event ${mismatch.eventId}'s source "${mismatch.source}"` };
}

/** SentTimestamp is fixed when the producer sends, so it partitions a redelivered batch the same way. */
function sentAt(record: SQSRecord): number {
  const millis = Number(record.attributes.SentTimestamp);
  return Number.isFinite(millis) ? millis : 0;
}

interface LandingMessage {
  readonly record: SQSRecord;
  readonly events: IngestEvent[];
}

/** The event ids a raw object holds; empty when it does not exist (an attempt that never wrote it). */
async function eventIdsIn(s3: S3Client, bucket: string, key: string): Promise<Set<string>> {
  try {
    const { Body } = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: key }));
    const text = (await Body?.transformToString()) ?? "";
    return new Set(text.split("\n").filter((line) => line.length > 0).map((line) => (JSON.parse(line) as IngestEvent).eventId));
  } catch (error) {
    if (error instanceof NoSuchKey || (error as { name?: string }).name === "NoSuchKey") return new Set();
    throw error;
  }
}

type Placement = "land" | "landed-elsewhere" | "wait";

/**
 * Where each claimed event goes: into this object (claimed, or taken over from a dead
 * attempt), nowhere (another object holds it), or not yet (a live attempt holds it).
 */
async function placeEvents(deps: QueueConsumerDeps, key: string, claims: Map<string, Claim>): Promise<Map<string, Placement>> {
  const now = (deps.claims.now ?? Date.now)();
  const contents = new Map<string, Promise<Set<string>>>();
  const placements = new Map<string, Placement>();
  for (const [eventId, claim] of claims) {
    if (claim.status === "claimed") {
      placements.set(eventId, "land");
      continue;
    }
    if (!contents.has(claim.owner)) contents.set(claim.owner, eventIdsIn(deps.s3, deps.rawBucket, claim.owner));
    if ((await contents.get(claim.owner)!).has(eventId)) placements.set(eventId, "landed-elsewhere");
    else if (now - claim.claimedAt > deps.staleClaimMs && (await takeOverClaim(deps.claims, RAW_API_CLAIM_SCOPE, { eventId, owner: key }, claim))) placements.set(eventId, "land");
    else placements.set(eventId, "wait");
  }
  return placements;
}

/** The first occurrence of each event id across the batch, in message order. */
function distinctEvents(landing: readonly LandingMessage[]): IngestEvent[] {
  const seen = new Map<string, IngestEvent>();
  for (const { events } of landing) for (const event of events) if (!seen.has(event.eventId)) seen.set(event.eventId, event);
  return [...seen.values()];
}

function sqsOrigin(record: SQSRecord, eventIndex?: number): SqsOrigin {
  return {
    kind: "sqs",
    queueArn: record.eventSourceARN,
    messageId: record.messageId,
    sentAt: new Date(sentAt(record)).toISOString(),
    receiveCount: Number(record.attributes.ApproximateReceiveCount),
    ...(eventIndex === undefined ? {} : { eventIndex }),
  };
}

/** What a batch holds for the quarantine, and the messages it came from. */
interface PoisonMessage {
  readonly record: SQSRecord;
  readonly quarantined: QuarantinedRecord[];
}

function poisonOf(record: SQSRecord, parsed: MessageParse, functionVersion: string): PoisonMessage | undefined {
  const entry = (origin: SqsOrigin, text: string, reason: string) => quarantinedRecord("raw-api", origin, Buffer.from(text, "utf8"), reason, functionVersion, "queue");
  if (!parsed.ok) return { record, quarantined: [entry(sqsOrigin(record), record.body, parsed.reason)] };
  if (parsed.rejected.length === 0) return undefined;
  return { record, quarantined: parsed.rejected.map((rejected) => entry(sqsOrigin(record, rejected.index), rejected.json, rejected.reason)) };
}

/** One quarantine object per invocation, named by its messages: a redelivered batch rewrites the same object. */
async function quarantineMessages(poison: readonly PoisonMessage[], deps: QueueConsumerDeps, log: LogLine): Promise<boolean> {
  if (poison.length === 0) return true;
  const records = poison.flatMap(({ quarantined }) => quarantined);
  const name = `batch-${shortHash(poison.map(({ record }) => record.messageId).sort().join("\n"))}`;
  const key = quarantineObjectKey("raw-api", new Date(Math.min(...poison.map(({ record }) => sentAt(record)))), name);
  return quarantineBeforeAcknowledging(deps.quarantine, "raw-api", key, records, log);
}

export async function handleIngestQueueBatch(event: SQSEvent, deps: QueueConsumerDeps): Promise<SQSBatchResponse> {
  const log = deps.log ?? logJson;
  const poison: PoisonMessage[] = [];
  const landing: LandingMessage[] = [];
  for (const record of event.Records) {
    const parsed = checkSourceAttribute(parseIngestMessage(record.body), record);
    const refused = poisonOf(record, parsed, deps.quarantine.functionVersion);
    if (refused) poison.push(refused);
    if (parsed.ok && parsed.events.length > 0) landing.push({ record, events: parsed.events });
  }
  const unquarantined = (await quarantineMessages(poison, deps, log)) ? [] : poison.map(({ record }) => record);
  const failed = (records: readonly SQSRecord[]): SQSBatchResponse => ({
    batchItemFailures: [...new Set([...unquarantined, ...records])].map((record) => ({ itemIdentifier: record.messageId })),
  });
  if (landing.length === 0) return failed([]);

  const key = rawApiObjectKey(
    landing.map(({ record }) => record.messageId),
    new Date(Math.min(...landing.map(({ record }) => sentAt(record)))),
  );
  const events = distinctEvents(landing);
  let placements: Map<string, Placement>;
  try {
    const outcomes = await claimEventsSettled(deps.claims, RAW_API_CLAIM_SCOPE, events.map(({ eventId }) => ({ eventId, owner: key })));
    const claims = new Map([...outcomes].filter((entry): entry is [string, Claim] => !isUnavailable(entry[1])));
    placements = await placeEvents(deps, key, claims);
    // An event DynamoDB would not claim (throttled past the SDK's retries) waits for its message's redelivery; the rest land now.
    for (const [eventId, outcome] of outcomes) if (isUnavailable(outcome)) placements.set(eventId, "wait");
  } catch (error) {
    log({ level: "ERROR", message: "Claiming the batch's events failed; SQS will redeliver it", key, error: (error as Error).message });
    return failed(landing.map(({ record }) => record));
  }

  const waiting = landing.filter(({ events: messageEvents }) => messageEvents.some(({ eventId }) => placements.get(eventId) === "wait"));
  const toLand = events.filter(({ eventId }) => placements.get(eventId) === "land");
  if (toLand.length > 0) {
    try {
      await writeObject(deps.s3, deps.rawBucket, key, jsonLines(toLand), "application/x-ndjson");
    } catch (error) {
      log({ level: "ERROR", message: "Writing the raw object failed", key, error: (error as Error).message });
      return failed(landing.map(({ record }) => record));
    }
  }
  log({
    level: "INFO",
    message: "Ingest batch landed",
    key,
    messages: landing.length,
    events: toLand.length,
    quarantined: poison.reduce((sum, { quarantined }) => sum + quarantined.length, 0),
    alreadyLanded: [...placements.values()].filter((placement) => placement === "landed-elsewhere").length,
    waitingForRedelivery: waiting.map(({ record }) => record.messageId),
  });
  return failed(waiting.map(({ record }) => record));
}
