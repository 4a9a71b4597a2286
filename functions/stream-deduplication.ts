/**
 * Firehose record transformation for the stream channel: drops a record whose event id
 * another stream record already claimed, so the raw zone's `stream/` prefix (and, in
 * Parquet mode, the only lake copy of streamed events) holds each event once even when
 * a producer's retry put it on the stream under a second sequence number.
 *
 * A record's claim is owned by its stream position (shard, sequence number and
 * subsequence number), so Firehose retrying an invocation with the same records passes
 * them again. Every record it keeps ends with a newline (see newlineTerminated). Records
 * that are not the event contract pass through otherwise unchanged: the
 * Transformation function quarantines them with their reason (GZIP mode), or Firehose's
 * format conversion refuses them into `stream-errors/` (Parquet mode).
 *
 * A claim DynamoDB keeps refusing (throttling or an outage past the SDK's retries) keeps
 * its record: failing the invocation instead would, after Firehose's retries, send the
 * whole buffer to `stream-errors/processing-failed/`, out of the lake, for one throttled
 * write (the end-to-end fault suite showed exactly that). So exactly once degrades to at
 * least once while the claims table is unavailable, and the record counts in the log's
 * `unclaimed`; the warehouse loader's MERGE still keeps one row per event id.
 *
 * Per record: one conditional write; per Firehose buffer (1 MB or 60 s): one invocation.
 * https://docs.aws.amazon.com/firehose/latest/dev/data-transformation.html (result
 * "Ok" or "Dropped" per recordId, data base64).
 */
import type { FirehoseTransformationEvent, FirehoseTransformationEventRecord, FirehoseTransformationResult } from "aws-lambda";
import { Environment, LogLine, logJson, positiveIntegerEnv, requiredEnv } from "./data-path-runtime";
import { ClaimStore, claimEventsSettled, isUnavailable } from "./event-claims";
import { parseIngestEvent } from "./ingestion-events";

/** Claims of the stream channel's raw objects. */
export const RAW_STREAM_CLAIM_SCOPE = "raw-stream";

export interface StreamDeduplicationDeps {
  readonly claims: ClaimStore;
  /** @default console.log of one JSON line */
  readonly log?: LogLine;
}

export function streamDeduplicationSettings(env: Environment): { claimsTable: string; claimTtlSeconds: number } {
  return { claimsTable: requiredEnv(env, "CLAIMS_TABLE"), claimTtlSeconds: positiveIntegerEnv(env, "CLAIM_TTL_SECONDS") };
}

/** Where a record sits on the stream: the same for every retry of it, different for a producer's second put. */
export function streamPosition(record: FirehoseTransformationEventRecord): string {
  const metadata = record.kinesisRecordMetadata;
  return metadata ? `${metadata.shardId}/${metadata.sequenceNumber}/${metadata.subsequenceNumber ?? "0"}` : `record/${record.recordId}`;
}

/**
 * The record's data with a newline at its end (unless it has one). Firehose concatenates
 * records with no delimiter, so without one a malformed record ("{not json") runs into
 * the records after it, and the Transformation function's splitting would quarantine them
 * with it; one record per line keeps a bad record to its own row. Found by `npm run local`.
 */
export function newlineTerminated(base64Data: string): string {
  const bytes = Buffer.from(base64Data, "base64");
  return bytes.length > 0 && bytes[bytes.length - 1] === 0x0a ? base64Data : Buffer.concat([bytes, Buffer.from("\n")]).toString("base64");
}

export async function dropRepeatedStreamEvents(event: FirehoseTransformationEvent, deps: StreamDeduplicationDeps): Promise<FirehoseTransformationResult> {
  const log = deps.log ?? logJson;
  const eventIds = new Map<string, string>();
  for (const record of event.records) {
    const parsed = parseIngestEvent(Buffer.from(record.data, "base64").toString("utf8"));
    if (parsed.ok) eventIds.set(record.recordId, parsed.event.eventId);
  }
  // One claim per event id; within this batch the first record of an id is its owner.
  const owners = new Map<string, string>();
  for (const record of event.records) {
    const eventId = eventIds.get(record.recordId);
    if (eventId !== undefined && !owners.has(eventId)) owners.set(eventId, streamPosition(record));
  }
  const claims = await claimEventsSettled(deps.claims, RAW_STREAM_CLAIM_SCOPE, [...owners].map(([eventId, owner]) => ({ eventId, owner })));

  let dropped = 0;
  const unclaimed = [...claims.values()].filter(isUnavailable);
  const records = event.records.map((record) => {
    const eventId = eventIds.get(record.recordId);
    const claim = eventId === undefined ? undefined : claims.get(eventId);
    const keep = claim === undefined || isUnavailable(claim) || (claim.status === "claimed" && owners.get(eventId!) === streamPosition(record));
    if (!keep) dropped++;
    return { recordId: record.recordId, result: keep ? ("Ok" as const) : ("Dropped" as const), data: keep ? newlineTerminated(record.data) : record.data };
  });
  if (unclaimed.length > 0) log({ level: "WARN", message: "Claims unavailable; records kept unclaimed", unclaimed: unclaimed.length, error: unclaimed[0].error });
  log({ level: "INFO", message: "Stream records deduplicated", records: records.length, dropped, unclaimed: unclaimed.length, invocationId: event.invocationId });
  return { records };
}
