/**
 * What an operator does with the quarantine (functions/quarantine.ts): list what was
 * refused and why, then replay records, as they were or fixed, into the stream or the
 * ingest queue they came from. Clients and names are injected, so the same code runs
 * against a deployed stack (scripts/quarantine.ts) and the local data plane.
 *
 * A record refused on the stream is usually refused twice, by the speed layer and by the
 * lake's Transformation function (Firehose carries it to the raw zone unchanged). Both
 * entries hold the same bytes, so the listing groups entries by replay target and
 * payload digest into one case, and replaying a case sends the record once and marks
 * every entry of it. Marks live beside the quarantine (`quarantine-replayed/<id>.json`),
 * so a replay that stopped halfway is resumed by running it again: marked entries are
 * skipped unless --force. Replays are safe to repeat anyway: the speed layer's items and
 * the raw zone's claims are keyed by event id.
 */
import { S3Client } from "@aws-sdk/client-s3";
import { KinesisClient, PutRecordCommand } from "@aws-sdk/client-kinesis";
import { SQSClient, SendMessageCommand } from "@aws-sdk/client-sqs";
import { IngestEvent, parseIngestEvent } from "../functions/ingestion-events";
import { speedLayerItem } from "../functions/ingestion-stream-consumer";
import { parseIngestMessage } from "../functions/ingestion-queue-consumer";
import { QUARANTINE_PREFIX } from "../functions/lake-layout";
import { listObjects, readObjectText, writeObject } from "../functions/lake-objects";
import { QuarantineStage, QuarantinedRecord, ReplayTarget, payloadBytes } from "../functions/quarantine";

export const REPLAY_MARK_PREFIX = "quarantine-replayed/";

export interface ReplayMark {
  readonly id: string;
  readonly replayedAt: string;
  readonly target: ReplayTarget;
  /** The stream sequence number or queue message id the replay got. */
  readonly receipt: string;
  readonly fixed: boolean;
}

export interface QuarantinedEntry {
  readonly record: QuarantinedRecord;
  /** The quarantine object holding it. */
  readonly key: string;
  readonly quarantinedAt?: Date;
}

/** Entries that hold the same bytes for the same target: one refused record, as each stage saw it. */
export interface QuarantineCase {
  /** The smallest of its entries' ids; any entry's id names the case for replay. */
  readonly id: string;
  readonly entries: QuarantinedEntry[];
  readonly replayTo: ReplayTarget;
  readonly reasons: string[];
  readonly stages: QuarantineStage[];
  readonly firstQuarantinedAt?: Date;
  /** Set when every entry of the case has been replayed. */
  readonly replayed?: ReplayMark;
}

export interface ListOptions {
  /** Only this stage's entries. @default every stage */
  readonly stage?: QuarantineStage;
  /** Only objects written at or after this instant. @default everything */
  readonly since?: Date;
}

export function parseQuarantineObject(text: string, key: string): QuarantinedRecord[] {
  return text
    .split("\n")
    .filter((line) => line.trim().length > 0)
    .map((line, index) => {
      const value = JSON.parse(line) as QuarantinedRecord;
      if (value.version !== 1 || typeof value.id !== "string") throw new Error(`${key} line ${index + 1} is not a quarantine record (version 1 with an id)`);
      return value;
    });
}

async function replayMarks(s3: S3Client, bucket: string): Promise<Map<string, ReplayMark>> {
  const marks = new Map<string, ReplayMark>();
  for (const { key } of await listObjects(s3, bucket, REPLAY_MARK_PREFIX)) {
    const mark = JSON.parse(await readObjectText(s3, bucket, key)) as ReplayMark;
    marks.set(mark.id, mark);
  }
  return marks;
}

/** Every entry, once per id (a retried write repeats entries), in the order the objects were written. */
export async function listQuarantinedEntries(s3: S3Client, bucket: string, options: ListOptions = {}): Promise<QuarantinedEntry[]> {
  const prefix = `${QUARANTINE_PREFIX}${options.stage ? `${options.stage}/` : ""}`;
  const objects = (await listObjects(s3, bucket, prefix)).filter(({ lastModified }) => options.since === undefined || (lastModified !== undefined && lastModified >= options.since));
  objects.sort((a, b) => (a.lastModified?.getTime() ?? 0) - (b.lastModified?.getTime() ?? 0) || a.key.localeCompare(b.key));
  const seen = new Map<string, QuarantinedEntry>();
  for (const { key, lastModified } of objects) {
    for (const record of parseQuarantineObject(await readObjectText(s3, bucket, key), key)) {
      if (!seen.has(record.id)) seen.set(record.id, { record, key, quarantinedAt: lastModified });
    }
  }
  return [...seen.values()];
}

/** Groups entries into cases and attaches what was already replayed. */
export function casesOf(entries: readonly QuarantinedEntry[], marks: ReadonlyMap<string, ReplayMark>): QuarantineCase[] {
  const groups = new Map<string, QuarantinedEntry[]>();
  for (const entry of entries) {
    const group = `${entry.record.replayTo}\n${entry.record.payload.sha256}`;
    groups.set(group, [...(groups.get(group) ?? []), entry]);
  }
  return [...groups.values()].map((group) => {
    // The smallest entry id: the same case keeps its id however its objects are ordered (S3 times have one-second steps).
    const id = group.map((entry) => entry.record.id).sort()[0];
    const allMarked = group.every((entry) => marks.has(entry.record.id));
    return {
      id,
      entries: group,
      replayTo: group[0].record.replayTo,
      reasons: [...new Set(group.map((entry) => entry.record.reason))],
      stages: [...new Set(group.map((entry) => entry.record.stage))],
      firstQuarantinedAt: group[0].quarantinedAt,
      replayed: allMarked ? marks.get(id) : undefined,
    };
  });
}

export async function listQuarantine(s3: S3Client, bucket: string, options: ListOptions = {}): Promise<QuarantineCase[]> {
  const [entries, marks] = await Promise.all([listQuarantinedEntries(s3, bucket, options), replayMarks(s3, bucket)]);
  return casesOf(entries, marks);
}

/**
 * Why the speed layer cannot build the event's item (an integer beyond 2^53), the one
 * refusal of a contract-valid event that can be known without DynamoDB; the sequence
 * number and TTL do not affect it. DynamoDB's own refusals (an item over 400 KB) show only on the wire.
 */
function speedLayerRefusal(event: IngestEvent): string | undefined {
  try {
    speedLayerItem(event, "0", 1);
    return undefined;
  } catch (error) {
    return (error as Error).message;
  }
}

/** Why these bytes would be quarantined again at `target`, or undefined when they would land. */
export function wouldBeRefused(bytes: Buffer, target: ReplayTarget): string | undefined {
  const text = bytes.toString("utf8");
  if (target === "stream") {
    const parsed = parseIngestEvent(text);
    if (!parsed.ok) return parsed.reason;
    return speedLayerRefusal(parsed.event);
  }
  const parsed = parseIngestMessage(text);
  if (!parsed.ok) return parsed.reason;
  return parsed.rejected.length > 0 ? parsed.rejected.map((rejected) => rejected.reason).join("; ") : undefined;
}

export interface ReplayDeps {
  readonly s3: S3Client;
  readonly bucket: string;
  readonly kinesis: KinesisClient;
  readonly streamName: string;
  readonly sqs: SQSClient;
  readonly queueUrl: string;
  /** @default () => new Date() */
  readonly now?: () => Date;
}

export interface ReplayRequest {
  /** Entry ids (any entry of a case names the case). */
  readonly ids: readonly string[];
  /** Fixed payloads by entry id; a case without one is replayed as it was. @default none */
  readonly fixes?: ReadonlyMap<string, Buffer>;
  /** Replay cases already marked replayed, and payloads that would be refused again. @default false */
  readonly force?: boolean;
  /** Check and report only. @default false */
  readonly dryRun?: boolean;
}

export type ReplayOutcome =
  | { readonly id: string; readonly status: "replayed"; readonly target: ReplayTarget; readonly receipt: string; readonly fixed: boolean; readonly entries: number }
  | { readonly id: string; readonly status: "would-replay"; readonly target: ReplayTarget; readonly fixed: boolean }
  | { readonly id: string; readonly status: "skipped"; readonly reason: string };

/** The partition key a replayed stream record goes under: the original one, so it keeps its shard's order with its neighbours. */
function partitionKeyFor(quarantineCase: QuarantineCase, bytes: Buffer): string {
  for (const { record } of quarantineCase.entries) if (record.origin.kind === "kinesis") return record.origin.partitionKey;
  const parsed = parseIngestEvent(bytes.toString("utf8"));
  return parsed.ok ? parsed.event.entityId : quarantineCase.id;
}

async function send(deps: ReplayDeps, quarantineCase: QuarantineCase, bytes: Buffer): Promise<string> {
  if (quarantineCase.replayTo === "stream") {
    const put = await deps.kinesis.send(new PutRecordCommand({ StreamName: deps.streamName, PartitionKey: partitionKeyFor(quarantineCase, bytes), Data: bytes }));
    return put.SequenceNumber ?? "";
  }
  const sent = await deps.sqs.send(new SendMessageCommand({ QueueUrl: deps.queueUrl, MessageBody: bytes.toString("utf8") }));
  return sent.MessageId ?? "";
}

/** Replays the cases the ids name, one after another, marking each entry of a case once its record is sent. */
export async function replayQuarantined(deps: ReplayDeps, request: ReplayRequest, onOutcome: (outcome: ReplayOutcome) => void = () => undefined): Promise<ReplayOutcome[]> {
  const cases = await listQuarantine(deps.s3, deps.bucket);
  const caseOf = new Map(cases.flatMap((quarantineCase) => quarantineCase.entries.map((entry) => [entry.record.id, quarantineCase] as const)));
  const outcomes: ReplayOutcome[] = [];
  const done = new Set<QuarantineCase>();
  const report = (outcome: ReplayOutcome) => {
    outcomes.push(outcome);
    onOutcome(outcome);
  };
  for (const id of request.ids) {
    const quarantineCase = caseOf.get(id);
    if (quarantineCase === undefined) {
      report({ id, status: "skipped", reason: "no quarantine entry has this id" });
      continue;
    }
    if (done.has(quarantineCase)) continue;
    done.add(quarantineCase);
    if (quarantineCase.replayed && !request.force) {
      report({ id, status: "skipped", reason: `already replayed at ${quarantineCase.replayed.replayedAt} (${quarantineCase.replayed.receipt}); --force sends it again` });
      continue;
    }
    const fix = quarantineCase.entries.map((entry) => request.fixes?.get(entry.record.id)).find((bytes) => bytes !== undefined);
    const bytes = fix ?? payloadBytes(quarantineCase.entries[0].record.payload);
    const refusal = wouldBeRefused(bytes, quarantineCase.replayTo);
    if (refusal !== undefined && !request.force) {
      report({ id, status: "skipped", reason: `${fix ? "the fix" : "the payload"} would be quarantined again: ${refusal}` });
      continue;
    }
    if (request.dryRun) {
      report({ id, status: "would-replay", target: quarantineCase.replayTo, fixed: fix !== undefined });
      continue;
    }
    const receipt = await send(deps, quarantineCase, bytes);
    const replayedAt = (deps.now ?? (() => new Date()))().toISOString();
    for (const entry of quarantineCase.entries) {
      const mark: ReplayMark = { id: entry.record.id, replayedAt, target: quarantineCase.replayTo, receipt, fixed: fix !== undefined };
      await writeObject(deps.s3, deps.bucket, `${REPLAY_MARK_PREFIX}${entry.record.id}.json`, JSON.stringify(mark), "application/json");
    }
    report({ id, status: "replayed", target: quarantineCase.replayTo, receipt, fixed: fix !== undefined, entries: quarantineCase.entries.length });
  }
  return outcomes;
}

/** A fixes file: one JSON object per line, `{ "id": "<entry id>", "payload": <the fixed event or message body> }`. */
export function parseFixes(text: string, origin: string): Map<string, Buffer> {
  const fixes = new Map<string, Buffer>();
  text.split("\n").forEach((line, index) => {
    if (line.trim().length === 0) return;
    let value: { id?: unknown; payload?: unknown };
    try {
      value = JSON.parse(line);
    } catch (error) {
      throw new Error(`${origin} line ${index + 1} is not JSON: ${(error as Error).message}`);
    }
    if (typeof value.id !== "string" || value.payload === undefined) throw new Error(`${origin} line ${index + 1} needs "id" (an entry id) and "payload"`);
    fixes.set(value.id, Buffer.from(typeof value.payload === "string" ? value.payload : JSON.stringify(value.payload), "utf8"));
  });
  return fixes;
}

