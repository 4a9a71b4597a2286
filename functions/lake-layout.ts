/**
 * Where objects live in the lake, and how every output key is derived from its input
 * key. Handlers and components both read these, so a prefix a notification filters on is
 * the prefix a handler writes to. Derivations are pure and deterministic: the same input
 * key always gives the same output keys, which is what makes every lake handler
 * idempotent under at-least-once delivery.
 */
import { createHash } from "crypto";

/** Raw zone: one prefix per ingest channel. */
export const RAW_API_PREFIX = "api/";
export const RAW_STREAM_PREFIX = "stream/";
/** Firehose records it could not deliver or convert; outside the channel prefixes so nothing transforms them. */
export const RAW_STREAM_ERROR_PREFIX = "stream-errors/";

/** Transformed zone: clean rows for staging, and the rows refused with their reasons. */
export const CLEAN_PREFIX = "clean/";
export const QUARANTINE_PREFIX = "quarantine/";
/** The Transformation function's own part of the quarantine (functions/quarantine.ts has the other stages'). */
export const LAKE_TRANSFORM_QUARANTINE_PREFIX = `${QUARANTINE_PREFIX}lake-transform/`;

/** Staged zone: load-ready CSV partitioned by event date, and one Redshift COPY manifest per input object. */
export const STAGED_EVENTS_PREFIX = "events/";
export const MANIFEST_PREFIX = "manifests/";
export const MANIFEST_SUFFIX = ".manifest";

/** Firehose's S3 prefix expression for the hourly partitions (UTC arrival time). */
/** Raw zone: where suppliers drop batch files (CSV, JSON, Parquet) for the batch layer's Glue job. */
export const BATCH_DROP_PREFIX = "batch/";
/** Transformed zone (beside every path's quarantine): the batch-file job's rejected rows, with their reason. */
export const BATCH_QUARANTINE_PREFIX = `${QUARANTINE_PREFIX}batch-file/`;
/** Transformed zone: the batch-file job's clean rows as Parquet, year=/month=/day=. */
export const BATCH_CLEAN_PREFIX = "batch/clean/";
/** Staged zone: the curation job's COPY-ready CSV, event_date=YYYY-MM-DD. */
export const BATCH_CURATED_PREFIX = "batch/events/";
/** Staged zone: one COPY manifest per pipeline run; only the pipeline loads it (no event rule fires for it). */
export const BATCH_MANIFEST_PREFIX = "batch/manifests/";

export const FIREHOSE_HOUR_PARTITION = "year=!{timestamp:yyyy}/month=!{timestamp:MM}/day=!{timestamp:dd}/hour=!{timestamp:HH}/";

const KNOWN_EXTENSIONS = /(\.jsonl|\.json\.gz|\.json|\.gz|\.parquet)$/;

function pad2(value: number): string {
  return String(value).padStart(2, "0");
}

/** The Hive-style hourly partition path for an instant, matching what Firehose writes. */
export function hourPartition(at: Date): string {
  return `year=${at.getUTCFullYear()}/month=${pad2(at.getUTCMonth() + 1)}/day=${pad2(at.getUTCDate())}/hour=${pad2(at.getUTCHours())}/`;
}

export function shortHash(text: string, length = 32): string {
  return createHash("sha256").update(text).digest("hex").slice(0, length);
}

/**
 * Key of the raw object holding one SQS batch: partitioned by the earliest send time and
 * named by the batch's message ids, so a redelivered identical batch overwrites itself.
 */
export function rawApiObjectKey(messageIds: readonly string[], earliestSentAt: Date): string {
  const batchId = shortHash([...messageIds].sort().join("\n"));
  return `${RAW_API_PREFIX}${hourPartition(earliestSentAt)}batch-${batchId}.jsonl`;
}

function withoutExtension(key: string): string {
  return key.replace(KNOWN_EXTENSIONS, "");
}

/** raw `api/year=…/batch-x.jsonl` → transformed `clean/api/year=…/batch-x.jsonl`. */
export function cleanKeyFor(rawKey: string): string {
  return `${CLEAN_PREFIX}${withoutExtension(rawKey)}.jsonl`;
}

/** raw `api/year=…/batch-x.jsonl` → transformed `quarantine/lake-transform/api/year=…/batch-x.jsonl`. */
export function quarantineKeyFor(rawKey: string): string {
  return `${LAKE_TRANSFORM_QUARANTINE_PREFIX}${withoutExtension(rawKey)}.jsonl`;
}

/** A short stable name for an input object: its base name plus a hash of the full key, unique across partitions. */
function objectStem(key: string): string {
  const base = withoutExtension(key).split("/").pop() ?? "object";
  return `${base}-${shortHash(key, 16)}`;
}

/** transformed `clean/…/x.jsonl` + "2026-01-02" → staged `events/event_date=2026-01-02/x-<hash>.csv`. */
export function stagedKeyFor(cleanKey: string, eventDate: string): string {
  return `${STAGED_EVENTS_PREFIX}event_date=${eventDate}/${objectStem(cleanKey)}.csv`;
}

/** transformed `clean/…/x.jsonl` → staged `manifests/x-<hash>.manifest`. */
export function manifestKeyFor(cleanKey: string): string {
  return `${MANIFEST_PREFIX}${objectStem(cleanKey)}${MANIFEST_SUFFIX}`;
}

/** S3 event notifications URL-encode keys and turn spaces into "+"; a key that is not so encoded is refused by name. */
export function decodeS3EventKey(key: string): string {
  try {
    return decodeURIComponent(key.replace(/\+/g, " "));
  } catch (error) {
    throw new Error(`Event key ${JSON.stringify(key)} is not URL-encoded the way S3 encodes keys in events: ${(error as Error).message}`);
  }
}
