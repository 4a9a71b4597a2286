/**
 * The Staging function: fires on new clean objects in the transformed zone and writes
 * them to the staged zone ready for Redshift COPY: CSV with a header row, one object per
 * event date under `events/event_date=YYYY-MM-DD/`, then a COPY manifest naming exactly
 * those objects. The manifest is written last, so its notification means "this load
 * unit is complete"; a clean object without rows (or a zero-byte one) stages nothing,
 * so no manifest ever names no files. Keys derive from the input key and content from the input bytes,
 * so a repeated notification rewrites the same objects.
 *
 * Load with: COPY events FROM 's3://<staged>/manifests/<x>.manifest' IAM_ROLE …
 *            MANIFEST CSV IGNOREHEADER 1 TIMEFORMAT 'auto';
 */
import { S3Client } from "@aws-sdk/client-s3";
import type { S3Event } from "aws-lambda";
import { Environment, LogLine, logJson, requiredEnv } from "./data-path-runtime";
import { manifestKeyFor, stagedKeyFor } from "./lake-layout";
import { decodeObjectText, forEachCreatedObject, readObjectBytes, writeObject } from "./lake-objects";
import type { CleanEventRow } from "./lake-transform";

/** Column order of the staged CSV and of the warehouse table it loads into. */
export const STAGED_COLUMNS = ["event_id", "source", "entity_id", "event_type", "occurred_at", "payload"] as const;

/** RFC 4180 quoting, which Redshift's COPY … CSV reads: quote every field, double inner quotes. */
export function csvField(value: string): string {
  return `"${value.replace(/"/g, '""')}"`;
}

export function csvLine(row: CleanEventRow): string {
  const values: Record<(typeof STAGED_COLUMNS)[number], string> = {
    event_id: row.event_id,
    source: row.source,
    entity_id: row.entity_id,
    event_type: row.event_type,
    occurred_at: row.occurred_at,
    payload: JSON.stringify(row.payload),
  };
  return `${STAGED_COLUMNS.map((column) => csvField(values[column])).join(",")}\n`;
}

export function csvDocument(rows: readonly CleanEventRow[]): string {
  return `${STAGED_COLUMNS.join(",")}\n${rows.map(csvLine).join("")}`;
}

/** Rows grouped by event date, dates in ascending order, rows in input order. */
export function groupByEventDate(rows: readonly CleanEventRow[]): [string, CleanEventRow[]][] {
  const groups = new Map<string, CleanEventRow[]>();
  for (const row of rows) groups.set(row.event_date, [...(groups.get(row.event_date) ?? []), row]);
  return [...groups.entries()].sort(([a], [b]) => a.localeCompare(b));
}

export interface ManifestEntry {
  readonly key: string;
  readonly bytes: number;
}

/** A Redshift COPY manifest; `mandatory` makes COPY fail rather than load a partial unit. */
export function copyManifest(bucket: string, entries: readonly ManifestEntry[]): string {
  return `${JSON.stringify(
    { entries: entries.map((entry) => ({ url: `s3://${bucket}/${entry.key}`, mandatory: true, meta: { content_length: entry.bytes } })) },
    null,
    2,
  )}\n`;
}

export function parseCleanRows(text: string): CleanEventRow[] {
  return text
    .split("\n")
    .filter((line) => line.length > 0)
    .map((line) => JSON.parse(line) as CleanEventRow);
}

export interface StagingDeps {
  readonly s3: S3Client;
  readonly stagedBucket: string;
  /** @default console.log of one JSON line */
  readonly log?: LogLine;
}

export interface StagingOutcome {
  readonly input: string;
  readonly objects: string[];
  /** Unset when the clean object held no rows: no load unit, so no manifest. */
  readonly manifestKey?: string;
  readonly rows: number;
  /** Why nothing was staged, when nothing was. */
  readonly skipped?: string;
}

export function stagingSettings(env: Environment): { stagedBucket: string } {
  return { stagedBucket: requiredEnv(env, "STAGED_BUCKET") };
}

function nothingStaged(input: string, skipped: string): StagingOutcome {
  return { input, objects: [], rows: 0, skipped };
}

export async function stageCleanObject(deps: StagingDeps, bucket: string, key: string): Promise<StagingOutcome> {
  // A clean object is this pipeline's own output: a row that does not parse is a bug, so it throws.
  const rows = parseCleanRows(decodeObjectText(await readObjectBytes(deps.s3, bucket, key)));
  // A manifest naming no files stops Redshift's COPY, so an object without rows stages nothing.
  if (rows.length === 0) return nothingStaged(key, "the clean object holds no rows");
  const entries: ManifestEntry[] = [];
  for (const [eventDate, dateRows] of groupByEventDate(rows)) {
    const stagedKey = stagedKeyFor(key, eventDate);
    const body = csvDocument(dateRows);
    await writeObject(deps.s3, deps.stagedBucket, stagedKey, body, "text/csv");
    entries.push({ key: stagedKey, bytes: Buffer.byteLength(body) });
  }
  const manifestKey = manifestKeyFor(key);
  await writeObject(deps.s3, deps.stagedBucket, manifestKey, copyManifest(deps.stagedBucket, entries), "application/json");
  return { input: key, objects: entries.map((entry) => entry.key), manifestKey, rows: rows.length };
}

/** Errors propagate: the async invocation is retried, then recorded in the lake's failure queue. */
export function handleCleanObjectsCreated(event: S3Event, deps: StagingDeps): Promise<StagingOutcome[]> {
  const handlers = { handle: (bucket: string, key: string) => stageCleanObject(deps, bucket, key), skip: nothingStaged };
  return forEachCreatedObject(event, handlers, "Clean object staged", deps.log ?? logJson);
}

// ---- Reading what staging writes (the local COPY stand-in and the aggregator) ----------

export function parseS3Url(url: string): { bucket: string; key: string } {
  const match = /^s3:\/\/([^/]+)\/(.+)$/.exec(url);
  if (!match) throw new Error(`not an s3://bucket/key URL: ${url}`);
  return { bucket: match[1], key: match[2] };
}

export interface ManifestFile {
  readonly url: string;
  readonly mandatory: boolean;
}

/** The files of a COPY manifest (`{"entries":[{"url","mandatory"}]}`); mandatory defaults to false, as in Redshift. */
export function parseManifest(text: string, where: string): ManifestFile[] {
  let entries: unknown;
  try {
    entries = (JSON.parse(text) as { entries?: unknown }).entries;
  } catch (error) {
    throw new Error(`${where} is not a valid manifest: ${(error as Error).message}`);
  }
  if (!Array.isArray(entries)) throw new Error(`${where} is not a valid manifest: no "entries" list`);
  return entries.map((entry: { url?: unknown; mandatory?: unknown }, index) => {
    if (typeof entry?.url !== "string") throw new Error(`${where} entry ${index + 1} has no url`);
    return { url: entry.url, mandatory: entry.mandatory === true };
  });
}

/**
 * RFC 4180 records: quoted fields may hold commas, doubled quotes and newlines; rows end
 * with "\n" (or "\r\n"), the last one optionally. An unquoted empty field is null.
 */
export function parseCsv(text: string, where: string): (string | null)[][] {
  const rows: (string | null)[][] = [];
  let row: (string | null)[] = [];
  let field = "";
  let quoted = false;
  let inQuotes = false;
  let line = 1;
  const endField = () => {
    row.push(quoted || field.length > 0 ? field : null);
    field = "";
    quoted = false;
  };
  for (let i = 0; i < text.length; i++) {
    const char = text[i];
    if (inQuotes) {
      if (char === '"' && text[i + 1] === '"') {
        field += '"';
        i++;
      } else if (char === '"') {
        inQuotes = false;
        const next = text[i + 1];
        if (next !== undefined && next !== "," && next !== "\n" && next !== "\r") throw new Error(`${where} line ${line}: text after a closing quote`);
      } else {
        if (char === "\n") line++;
        field += char;
      }
    } else if (char === '"') {
      if (field.length > 0 || quoted) throw new Error(`${where} line ${line}: a quote inside an unquoted field`);
      inQuotes = quoted = true;
    } else if (char === ",") {
      endField();
    } else if (char === "\n" || (char === "\r" && text[i + 1] === "\n")) {
      if (char === "\r") i++;
      endField();
      rows.push(row);
      row = [];
      line++;
    } else {
      field += char;
    }
  }
  if (inQuotes) throw new Error(`${where}: a quoted field is not closed`);
  if (field.length > 0 || quoted || row.length > 0) {
    endField();
    rows.push(row);
  }
  return rows;
}
