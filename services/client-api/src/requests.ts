/**
 * Request parsing for the client API, pure: what a caller asked for, or a BadRequest whose
 * message says what to change. Date ranges follow the Lambda reporting API's rules
 * (functions/reporting-api.ts: YYYY-MM-DD, from ≤ to, at most 92 days, the last 7 by default).
 */
import { DailySalesRequest, badRequest, parseDailySalesRequest } from "../../../functions/reporting-api";

/** @default page size: a month of days. */
export const DEFAULT_PAGE_DAYS = 31;
export const MAX_PAGE_DAYS = 100;

export interface DailySalesPageRequest extends DailySalesRequest {
  readonly limit: number;
  /** Days strictly after this one (the last day of the previous page), or none for the first page. */
  readonly after?: string;
}

interface CursorBody {
  readonly b: string;
  readonly f: string;
  readonly t: string;
  readonly a: string;
}

/** The opaque cursor of the page after `lastDay`: bound to the query it came from. */
export function encodeCursor(request: DailySalesRequest, lastDay: string): string {
  const body: CursorBody = { b: request.branch, f: request.from, t: request.to, a: lastDay };
  return Buffer.from(JSON.stringify(body)).toString("base64url");
}

function decodeCursor(cursor: string, request: DailySalesRequest): string {
  let body: Partial<CursorBody>;
  try {
    if (!/^[A-Za-z0-9_-]{1,512}$/.test(cursor)) throw new Error("not base64url");
    body = JSON.parse(Buffer.from(cursor, "base64url").toString("utf8")) as Partial<CursorBody>;
  } catch {
    throw badRequest("cursor is not one this API issued; use the nextCursor of the previous page, or leave cursor out for the first page");
  }
  if (body.b !== request.branch || body.f !== request.from || body.t !== request.to) {
    throw badRequest("cursor belongs to another query (branch, from or to changed); leave cursor out to start again");
  }
  if (typeof body.a !== "string" || !/^\d{4}-\d{2}-\d{2}$/.test(body.a) || body.a < request.from || body.a > request.to) {
    throw badRequest("cursor is not one this API issued; use the nextCursor of the previous page, or leave cursor out for the first page");
  }
  return body.a;
}

function single(query: URLSearchParams, name: string): string | undefined {
  const values = query.getAll(name);
  if (values.length > 1) throw badRequest(`${name} is given ${values.length} times; give it once`);
  return values[0];
}

function parseLimit(raw: string | undefined): number {
  if (raw === undefined) return DEFAULT_PAGE_DAYS;
  const value = Number(raw);
  if (!/^\d+$/.test(raw) || !Number.isInteger(value) || value < 1 || value > MAX_PAGE_DAYS) {
    throw badRequest(`limit must be a whole number from 1 to ${MAX_PAGE_DAYS}, got ${JSON.stringify(raw)}`);
  }
  return value;
}

/** `GET /api/reports/{branch}/daily-sales?from&to&limit&cursor`, validated. */
export function parseDailySalesPage(branch: string, query: URLSearchParams, now: Date): DailySalesPageRequest {
  const known = new Set(["from", "to", "limit", "cursor"]);
  const unknown = [...new Set([...query.keys()].filter((key) => !known.has(key)))];
  if (unknown.length > 0) throw badRequest(`unknown query parameter${unknown.length > 1 ? "s" : ""} ${unknown.join(", ")}; this report takes from, to, limit and cursor`);
  const from = single(query, "from");
  const to = single(query, "to");
  const range = parseDailySalesRequest(
    { pathParameters: { branch }, queryStringParameters: { ...(from !== undefined ? { from } : {}), ...(to !== undefined ? { to } : {}) } },
    now,
  );
  const limit = parseLimit(single(query, "limit"));
  const cursor = single(query, "cursor");
  return { ...range, limit, ...(cursor !== undefined ? { after: decodeCursor(cursor, range) } : {}) };
}
