/**
 * SQS ingest queue → raw bucket. Each message body is one event object or a JSON array
 * of them. The valid messages of a batch land as one JSON-lines object under `api/`; a
 * poison message (not JSON, or any event off-contract) is reported in
 * `batchItemFailures`, so SQS redelivers it and, after maxReceiveCount receives, moves it
 * to the DLQ, while the rest of its batch lands now.
 *
 * The object key is derived from the landed messages' ids and send times, so a batch
 * redelivered whole (e.g. after a timeout) overwrites its own object instead of adding a
 * second copy.
 */
import { S3Client } from "@aws-sdk/client-s3";
import type { SQSBatchResponse, SQSEvent, SQSRecord } from "aws-lambda";
import { Environment, LogLine, logJson, requiredEnv } from "./data-path-runtime";
import { IngestEvent, validateIngestEvent } from "./ingestion-events";
import { rawApiObjectKey } from "./lake-layout";
import { jsonLines, writeObject } from "./lake-objects";

/** Producers batch events into messages; more than this in one message is refused rather than half-taken. */
export const MAX_EVENTS_PER_MESSAGE = 500;

export type MessageParse = { readonly ok: true; readonly events: IngestEvent[] } | { readonly ok: false; readonly reason: string };

export interface QueueConsumerDeps {
  readonly s3: S3Client;
  readonly rawBucket: string;
  /** @default console.log of one JSON line */
  readonly log?: LogLine;
}

export function queueConsumerSettings(env: Environment): { rawBucket: string } {
  return { rawBucket: requiredEnv(env, "RAW_BUCKET") };
}

export function parseIngestMessage(body: string): MessageParse {
  let value: unknown;
  try {
    value = JSON.parse(body);
  } catch (error) {
    return { ok: false, reason: `body is not JSON: ${(error as Error).message}` };
  }
  const candidates = Array.isArray(value) ? value : [value];
  if (candidates.length === 0) return { ok: false, reason: "body is an empty array" };
  if (candidates.length > MAX_EVENTS_PER_MESSAGE) return { ok: false, reason: `body holds more than ${MAX_EVENTS_PER_MESSAGE} events` };
  const events: IngestEvent[] = [];
  for (const [index, candidate] of candidates.entries()) {
    const validation = validateIngestEvent(candidate);
    if (!validation.ok) return { ok: false, reason: `event ${index}: ${validation.reason}` };
    events.push(validation.event);
  }
  return { ok: true, events };
}

/** SentTimestamp is fixed when the producer sends, so it partitions a redelivered batch the same way. */
function sentAt(record: SQSRecord): number {
  const millis = Number(record.attributes.SentTimestamp);
  return Number.isFinite(millis) ? millis : 0;
}

export async function handleIngestQueueBatch(event: SQSEvent, deps: QueueConsumerDeps): Promise<SQSBatchResponse> {
  const log = deps.log ?? logJson;
  const poison: SQSRecord[] = [];
  const landing: { record: SQSRecord; events: IngestEvent[] }[] = [];
  for (const record of event.Records) {
    const parsed = parseIngestMessage(record.body);
    if (parsed.ok) {
      landing.push({ record, events: parsed.events });
    } else {
      poison.push(record);
      const receiveCount = record.attributes.ApproximateReceiveCount;
      log({ level: "WARN", message: "Poison ingest message", messageId: record.messageId, receiveCount, reason: parsed.reason });
    }
  }

  let unwritten: SQSRecord[] = [];
  if (landing.length > 0) {
    const key = rawApiObjectKey(
      landing.map(({ record }) => record.messageId),
      new Date(Math.min(...landing.map(({ record }) => sentAt(record)))),
    );
    try {
      await writeObject(deps.s3, deps.rawBucket, key, jsonLines(landing.flatMap(({ events }) => events)), "application/x-ndjson");
      log({ level: "INFO", message: "Ingest batch landed", key, messages: landing.length });
    } catch (error) {
      unwritten = landing.map(({ record }) => record);
      log({ level: "ERROR", message: "Writing the raw object failed", key, error: (error as Error).message });
    }
  }

  return { batchItemFailures: [...poison, ...unwritten].map((record) => ({ itemIdentifier: record.messageId })) };
}
