/**
 * The ingest event contract every producer (Kinesis or the HTTP/SQS path) follows, and
 * the one validator the stream consumer, the queue consumer and the lake transformation
 * share, so that "valid" means the same thing on every path.
 *
 * Wire format: one JSON object per event, camelCase keys:
 *   { "eventId": "…", "source": "orders-api", "entityId": "order-42", "eventType": "order.created",
 *     "occurredAt": "2026-01-02T03:04:05Z", "payload": { … } }
 */

/**
 * SQS message attributes of every message the HTTP ingest front queues
 * (functions/ingest-front.ts): the route's source, which the queue consumer checks
 * against each event's `source`, and the schema version the route accepted.
 */
export const SOURCE_ATTRIBUTE = "source";
export const SCHEMA_VERSION_ATTRIBUTE = "schemaVersion";

export interface IngestEvent {
  readonly eventId: string;
  readonly source: string;
  readonly entityId: string;
  readonly eventType: string;
  /** Normalised to ISO-8601 UTC with milliseconds, so equal instants compare equal as strings. */
  readonly occurredAt: string;
  readonly payload: Record<string, unknown>;
}

export type EventValidation = { readonly ok: true; readonly event: IngestEvent } | { readonly ok: false; readonly reason: string };

/**
 * A speed-layer item must stay under DynamoDB's 400 KB; the key attributes and metadata
 * need a little room, so the whole event is held to this much JSON. DynamoDB sizes an
 * item by its attributes, not its JSON (a long list of small numbers takes more room
 * there), so this bound is not a guarantee: the stream consumer reports an item
 * DynamoDB still refuses as a failure of that record alone.
 */
export const MAX_EVENT_BYTES = 350_000;

const IDENTIFIER = /^[A-Za-z0-9._:@/-]+$/;
const SOURCE = /^[a-z0-9][a-z0-9._-]*$/;
// Date.parse accepts many shapes; insist on an ISO-8601 date-time with a zone so no event is read in local time.
const ISO_DATE_TIME = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d{1,9})?)?(Z|[+-]\d{2}:\d{2})$/;

const invalid = (reason: string): EventValidation => ({ ok: false, reason });

function requiredText(value: unknown, field: string, maxLength: number, pattern: RegExp): string | EventValidation {
  if (typeof value !== "string") return invalid(`${field} must be a string`);
  const text = value.trim();
  if (text.length === 0) return invalid(`${field} must not be empty`);
  if (text.length > maxLength) return invalid(`${field} is longer than ${maxLength} characters`);
  if (!pattern.test(text)) return invalid(`${field} has characters outside ${pattern.source}`);
  return text;
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

/** Normalises an ISO-8601 timestamp to UTC, or undefined when it is not one. */
export function normaliseTimestamp(value: unknown): string | undefined {
  if (typeof value !== "string" || !ISO_DATE_TIME.test(value.trim())) return undefined;
  const millis = Date.parse(value.trim());
  return Number.isNaN(millis) ? undefined : new Date(millis).toISOString();
}

/** Checks one decoded value against the contract and returns the normalised event or the reason it is refused. */
export function validateIngestEvent(value: unknown): EventValidation {
  if (!isPlainObject(value)) return invalid("event must be a JSON object");
  const eventId = requiredText(value.eventId, "eventId", 128, IDENTIFIER);
  if (typeof eventId !== "string") return eventId;
  const sourceText = typeof value.source === "string" ? value.source.toLowerCase() : value.source;
  const source = requiredText(sourceText, "source", 64, SOURCE);
  if (typeof source !== "string") return source;
  const entityId = requiredText(value.entityId, "entityId", 256, IDENTIFIER);
  if (typeof entityId !== "string") return entityId;
  const eventType = requiredText(value.eventType, "eventType", 64, IDENTIFIER);
  if (typeof eventType !== "string") return eventType;
  const occurredAt = normaliseTimestamp(value.occurredAt);
  if (occurredAt === undefined) return invalid("occurredAt must be an ISO-8601 date-time with a time zone");
  const payload = value.payload ?? {};
  if (!isPlainObject(payload)) return invalid("payload must be a JSON object when present");

  const event: IngestEvent = { eventId, source, entityId, eventType, occurredAt, payload };
  if (Buffer.byteLength(JSON.stringify(event)) > MAX_EVENT_BYTES) return invalid(`event is larger than ${MAX_EVENT_BYTES} bytes`);
  return { ok: true, event };
}

/** Parses JSON text and validates it; a parse error is a reason like any other. */
export function parseIngestEvent(text: string): EventValidation {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (error) {
    return invalid(`not JSON: ${(error as Error).message}`);
  }
  return validateIngestEvent(value);
}
