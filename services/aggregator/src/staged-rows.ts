/**
 * From a staged CSV object to order facts: the CSV is read as the Staging function writes
 * it (functions/lake-staging.ts: a header row of STAGED_COLUMNS, RFC 4180, every field
 * quoted, the payload as JSON), and each `order.created` row becomes one fact keyed by its
 * event id. Rows of other event types are counted, not aggregated. An order row that cannot
 * be a fact (no branch, an amount that is not an exact decimal, a bad timestamp) is
 * rejected with its reason: the lake already quarantined events that break the ingest
 * contract, so these are business-rule failures, logged and counted, never dropped silently.
 *
 * Amounts stay decimal strings from the CSV to PostgreSQL's numeric: no float ever holds one.
 */
import { normaliseTimestamp } from "../../../functions/ingestion-events";
import { STAGED_COLUMNS, parseCsv } from "../../../functions/lake-staging";

export type StagedColumn = (typeof STAGED_COLUMNS)[number];
export type StagedRow = Readonly<Record<StagedColumn, string | null>>;

export const ORDER_CREATED = "order.created";

/** reporting.order_facts.amount is numeric(14,2): at most 12 integer digits and 2 decimals, never negative. */
const EXACT_AMOUNT = /^\d{1,12}(\.\d{1,2})?$/;
const MAX_BRANCH_LENGTH = 100;

export interface OrderFact {
  readonly eventId: string;
  readonly branch: string;
  /** UTC date of occurredAt, YYYY-MM-DD (the staged zone's event_date). */
  readonly salesDay: string;
  /** An exact decimal string, e.g. "12.50". */
  readonly amount: string;
  readonly occurredAt: string;
}

export interface RejectedRow {
  readonly file: string;
  /** 1-based record number in the file, the header being record 1. */
  readonly record: number;
  readonly eventId: string | null;
  readonly reason: string;
}

export interface ManifestFacts {
  /** One per event id, first occurrence wins (staging writes an event id once per object). */
  readonly facts: OrderFact[];
  readonly rejected: RejectedRow[];
  /** Rows whose event type is not order.created: not this aggregation's input. */
  readonly otherEvents: number;
  /** Order rows whose event id an earlier row of the same manifest carried. */
  readonly duplicates: number;
}

/** The rows of one staged CSV object; a header or width that is not staging's throws, naming the file. */
export function readStagedCsv(text: string, file: string): StagedRow[] {
  const [header, ...records] = parseCsv(text, file);
  if (header === undefined || header.join(",") !== STAGED_COLUMNS.join(",")) {
    throw new Error(`${file} does not start with the staged header ${STAGED_COLUMNS.join(",")}: ${JSON.stringify(header ?? null)}`);
  }
  return records.map((values, index) => {
    if (values.length !== STAGED_COLUMNS.length) throw new Error(`${file} record ${index + 2} has ${values.length} fields, not ${STAGED_COLUMNS.length}`);
    return Object.fromEntries(STAGED_COLUMNS.map((column, i) => [column, values[i]])) as StagedRow;
  });
}

/** An exact decimal amount as text, or undefined. A JSON number is accepted when its shortest form is one (12.5 → "12.5"). */
export function exactAmount(value: unknown): string | undefined {
  const text = typeof value === "string" ? value.trim() : typeof value === "number" && Number.isFinite(value) ? String(value) : undefined;
  return text !== undefined && EXACT_AMOUNT.test(text) ? text : undefined;
}

export type OrderVerdict = { readonly ok: true; readonly fact: OrderFact } | { readonly ok: false; readonly reason: string };

/** One order.created row checked against the order payload contract `{branch, amount}`. */
export function orderFactOf(row: StagedRow): OrderVerdict {
  const refuse = (reason: string): OrderVerdict => ({ ok: false, reason });
  if (!row.event_id) return refuse("event_id is empty");
  const occurredAt = normaliseTimestamp(row.occurred_at);
  if (occurredAt === undefined) return refuse(`occurred_at ${JSON.stringify(row.occurred_at)} is not an ISO-8601 date-time with a time zone`);
  let payload: unknown;
  try {
    payload = JSON.parse(row.payload ?? "");
  } catch (error) {
    return refuse(`payload is not JSON: ${(error as Error).message}`);
  }
  if (typeof payload !== "object" || payload === null || Array.isArray(payload)) return refuse("payload is not a JSON object");
  const { branch, amount } = payload as Record<string, unknown>;
  if (typeof branch !== "string" || branch.trim().length === 0) return refuse("payload.branch is missing or empty");
  if (branch.length > MAX_BRANCH_LENGTH) return refuse(`payload.branch is longer than ${MAX_BRANCH_LENGTH} characters`);
  const exact = exactAmount(amount);
  if (exact === undefined) return refuse(`payload.amount ${JSON.stringify(amount ?? null)} is not a non-negative decimal with at most 12 integer digits and 2 decimals`);
  return { ok: true, fact: { eventId: row.event_id, branch, salesDay: occurredAt.slice(0, 10), amount: exact, occurredAt } };
}

/** The order facts of a manifest's files, in file order. */
export function manifestFacts(files: readonly { file: string; rows: readonly StagedRow[] }[]): ManifestFacts {
  const byId = new Map<string, OrderFact>();
  const rejected: RejectedRow[] = [];
  let otherEvents = 0;
  let duplicates = 0;
  for (const { file, rows } of files) {
    rows.forEach((row, index) => {
      if (row.event_type !== ORDER_CREATED) {
        otherEvents++;
        return;
      }
      const verdict = orderFactOf(row);
      if (!verdict.ok) rejected.push({ file, record: index + 2, eventId: row.event_id, reason: verdict.reason });
      else if (byId.has(verdict.fact.eventId)) duplicates++;
      else byId.set(verdict.fact.eventId, verdict.fact);
    });
  }
  return { facts: [...byId.values()], rejected, otherEvents, duplicates };
}

/** The (branch, day) pairs the facts touch, sorted: the daily rows to recompute, in the order their locks are taken. */
export function touchedDays(facts: readonly OrderFact[]): { branch: string; salesDay: string }[] {
  const pairs = new Map<string, { branch: string; salesDay: string }>();
  for (const { branch, salesDay } of facts) pairs.set(JSON.stringify([branch, salesDay]), { branch, salesDay });
  return [...pairs.entries()].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)).map(([, pair]) => pair);
}

/** The newest occurredAt among the facts (ISO strings of one format sort as instants), or null. */
export function newestEventAt(facts: readonly OrderFact[]): string | null {
  return facts.reduce<string | null>((newest, fact) => (newest === null || fact.occurredAt > newest ? fact.occurredAt : newest), null);
}
