/**
 * The Transformation function: fires on new raw objects, parses their rows (JSON lines,
 * or records Firehose concatenated without a delimiter, gzipped or not), validates each
 * against the ingest event contract, cleans the good ones into the lake's snake_case
 * schema and writes them to the transformed zone; refused rows go to the quarantine
 * (functions/quarantine.ts) with their reason, the row as received and its object and row. Output keys derive from the input key only, and the output
 * is a pure function of the input bytes, so a repeated notification rewrites the same
 * objects with the same content.
 */
import { S3Client } from "@aws-sdk/client-s3";
import type { S3Event } from "aws-lambda";
import { Environment, LogLine, logJson, requiredEnv } from "./data-path-runtime";
import { IngestEvent, parseIngestEvent } from "./ingestion-events";
import { RAW_STREAM_PREFIX, cleanKeyFor, quarantineKeyFor } from "./lake-layout";
import { decodeObjectText, forEachCreatedObject, isParquet, jsonLines, readObjectBytes, writeObject } from "./lake-objects";
import { QuarantinedRecord, functionIdentityOf, quarantinedRecord, writeQuarantine } from "./quarantine";

/** A cleaned row: the lake's column names, as the Glue tables and the staging CSV use them. */
export interface CleanEventRow {
  readonly event_id: string;
  readonly source: string;
  readonly entity_id: string;
  readonly event_type: string;
  readonly occurred_at: string;
  /** UTC date of occurred_at, the staged zone's partition. */
  readonly event_date: string;
  readonly payload: Record<string, unknown>;
}

export interface QuarantinedRow {
  /** 1-based position of the row in the object. */
  readonly row: number;
  readonly reason: string;
  /** The row as received. */
  readonly raw: string;
}

export interface TransformedRows {
  readonly clean: CleanEventRow[];
  readonly quarantined: QuarantinedRow[];
  /** Rows dropped because an earlier row in the same object had the same event id (at-least-once producers). */
  readonly duplicates: number;
}

/**
 * Splits text that holds several JSON values back to back ("{…}{…}": Firehose
 * concatenates stream records that carry no newline, so a whole object can be one line).
 * Each balanced object or array is one piece. Anything else (a record that is not JSON,
 * or a bare scalar) is a piece of its own up to the next "{", and an object still open
 * at the end of the text is one last piece: a bad record becomes one quarantined row
 * whose parse error is its reason, and the records around it are still read.
 */
export function splitConcatenatedObjects(text: string): string[] {
  const pieces: string[] = [];
  let i = 0;
  while (i < text.length) {
    if (/\s/.test(text[i])) {
      i++;
      continue;
    }
    const start = i;
    if (text[i] === "{" || text[i] === "[") {
      i = endOfBalanced(text, i);
    } else {
      const next = text.indexOf("{", i);
      i = next === -1 ? text.length : next;
    }
    pieces.push(text.slice(start, i).trim());
  }
  return pieces;
}

/** The index just after the bracket that closes the one at `start` (strings respected), or the text's length. */
function endOfBalanced(text: string, start: number): number {
  let depth = 0;
  let inString = false;
  let escaped = false;
  for (let i = start; i < text.length; i++) {
    const char = text[i];
    if (inString) {
      if (escaped) escaped = false;
      else if (char === "\\") escaped = true;
      else if (char === '"') inString = false;
      continue;
    }
    if (char === '"') inString = true;
    else if (char === "{" || char === "[") depth++;
    else if (char === "}" || char === "]") {
      depth--;
      if (depth === 0) return i + 1;
    }
  }
  return text.length;
}

/** Every row of an object: one per non-blank line, or per object where a line holds several. */
export function splitRows(text: string): string[] {
  return text
    .split(/\r?\n/)
    .filter((line) => line.trim().length > 0)
    .flatMap((line) => splitConcatenatedObjects(line.trim()));
}

export function cleanRow(event: IngestEvent): CleanEventRow {
  return {
    event_id: event.eventId,
    source: event.source,
    entity_id: event.entityId,
    event_type: event.eventType,
    occurred_at: event.occurredAt,
    event_date: event.occurredAt.slice(0, 10),
    payload: event.payload,
  };
}

export function transformText(text: string): TransformedRows {
  const clean: CleanEventRow[] = [];
  const quarantined: QuarantinedRow[] = [];
  const seen = new Set<string>();
  let duplicates = 0;
  splitRows(text).forEach((raw, index) => {
    const validation = parseIngestEvent(raw);
    if (!validation.ok) {
      quarantined.push({ row: index + 1, reason: validation.reason, raw });
    } else if (seen.has(validation.event.eventId)) {
      duplicates++;
    } else {
      seen.add(validation.event.eventId);
      clean.push(cleanRow(validation.event));
    }
  });
  return { clean, quarantined, duplicates };
}

export interface TransformDeps {
  readonly s3: S3Client;
  readonly transformedBucket: string;
  /** Who is writing, for the quarantine records and metric. @default { functionName: "local", functionVersion: "local:$LATEST" } */
  readonly identity?: { functionName: string; functionVersion: string };
  /** @default printMetric (EMF on stdout) */
  readonly metric?: (document: Record<string, unknown>) => void;
  /** @default console.log of one JSON line */
  readonly log?: LogLine;
}

export interface TransformOutcome {
  readonly input: string;
  readonly cleanKey?: string;
  readonly quarantineKey?: string;
  readonly cleanRows: number;
  readonly quarantinedRows: number;
  readonly duplicates: number;
  /** Why the object was left alone, when it was. */
  readonly skipped?: string;
}

export function transformSettings(env: Environment): { transformedBucket: string; identity: { functionName: string; functionVersion: string } } {
  return { transformedBucket: requiredEnv(env, "TRANSFORMED_BUCKET"), identity: functionIdentityOf(env) };
}

/** Rows of a raw object refused by the contract, as quarantine records; a fixed one goes back the way it came in. */
export function lakeQuarantineRecords(bucket: string, key: string, rows: readonly QuarantinedRow[], functionVersion: string): QuarantinedRecord[] {
  const replayTo = key.startsWith(RAW_STREAM_PREFIX) ? "stream" : "queue";
  return rows.map(({ row, reason, raw }) => quarantinedRecord("lake-transform", { kind: "s3", bucket, key, row }, Buffer.from(raw, "utf8"), reason, functionVersion, replayTo));
}

function nothingTransformed(input: string, skipped: string): TransformOutcome {
  return { input, cleanRows: 0, quarantinedRows: 0, duplicates: 0, skipped };
}

export async function transformRawObject(deps: TransformDeps, bucket: string, key: string): Promise<TransformOutcome> {
  const bytes = await readObjectBytes(deps.s3, bucket, key);
  // Parquet from Firehose is already typed and columnar; the stream table catalogues it as it is.
  if (isParquet(bytes)) return nothingTransformed(key, "parquet is catalogued as delivered");

  const rows = transformText(decodeObjectText(bytes));
  const cleanKey = rows.clean.length > 0 ? cleanKeyFor(key) : undefined;
  const quarantineKey = rows.quarantined.length > 0 ? quarantineKeyFor(key) : undefined;
  // Quarantine first: once the clean object exists, staging may run, and the refused rows should already be on record.
  if (quarantineKey) {
    const identity = deps.identity ?? functionIdentityOf({});
    const store = { s3: deps.s3, bucket: deps.transformedBucket, ...identity, metric: deps.metric };
    await writeQuarantine(store, "lake-transform", quarantineKey, lakeQuarantineRecords(bucket, key, rows.quarantined, identity.functionVersion), deps.log ?? logJson);
  }
  if (cleanKey) await writeObject(deps.s3, deps.transformedBucket, cleanKey, jsonLines(rows.clean), "application/x-ndjson");
  return { input: key, cleanKey, quarantineKey, cleanRows: rows.clean.length, quarantinedRows: rows.quarantined.length, duplicates: rows.duplicates };
}

/** Errors propagate: the async invocation is retried, then recorded in the lake's failure queue. */
export function handleRawObjectsCreated(event: S3Event, deps: TransformDeps): Promise<TransformOutcome[]> {
  const handlers = { handle: (bucket: string, key: string) => transformRawObject(deps, bucket, key), skip: nothingTransformed };
  return forEachCreatedObject(event, handlers, "Raw object transformed", deps.log ?? logJson);
}
