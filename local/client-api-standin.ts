/**
 * STAND-IN for the client API, until the `client-api` branch's `local/client-api.ts`
 * (`startLocalClientApi`) is merged: the lead swaps `startClientApiWithData` in
 * local/dashboard-stack.ts over to it and deletes this file. It is NOT the service: it answers
 * the read paths of the contract (services-contract.md, Client API HTTP contract) from the
 * reporting tables on real PostgreSQL, with the contract's validation and error shapes, so
 * the dashboard, its browser test and `npm run dashboard:local` run against real HTTP and SQL.
 * No cache, no ETag, no IAM token: those are the service's and its own tests'.
 */
import * as http from "http";
import type * as net from "net";
import { Pool } from "pg";
import type { LocalPostgres } from "./servers";

export interface StandInClientApi {
  /** e.g. "http://127.0.0.1:41234"; the paths are under /api, as everywhere. */
  readonly url: string;
  stop(): Promise<void>;
}

const ISO_DAY = /^\d{4}-\d{2}-\d{2}$/;
const MAX_RANGE_DAYS = 92;
const DAY_MS = 86_400_000;

type Answer = { status: number; body: unknown };
const failure = (status: number, code: string, message: string): Answer => ({ status, body: { error: { code, message } } });

function day(text: string | null, name: string): number | Answer {
  if (text === null) return failure(400, "BadRequest", `${name} is required as YYYY-MM-DD.`);
  const time = Date.parse(`${text}T00:00:00Z`);
  if (!ISO_DAY.test(text) || Number.isNaN(time) || new Date(time).toISOString().slice(0, 10) !== text) return failure(400, "BadRequest", `${name} "${text}" is not a date (YYYY-MM-DD).`);
  return time;
}

async function dailySales(pool: Pool, branch: string, query: URLSearchParams): Promise<Answer> {
  const today = Date.parse(new Date().toISOString().slice(0, 10));
  const from = query.has("from") ? day(query.get("from"), "from") : today - 6 * DAY_MS;
  const to = query.has("to") ? day(query.get("to"), "to") : today;
  if (typeof from !== "number") return from;
  if (typeof to !== "number") return to;
  if (to < from) return failure(400, "BadRequest", "to must not be before from.");
  if ((to - from) / DAY_MS + 1 > MAX_RANGE_DAYS) return failure(400, "BadRequest", `A range may span at most ${MAX_RANGE_DAYS} days.`);
  const limit = Number(query.get("limit") ?? 31);
  if (!Number.isInteger(limit) || limit < 1 || limit > 100) return failure(400, "BadRequest", "limit must be a whole number from 1 to 100.");
  // The cursor is the last day served: opaque to callers, a day here.
  const cursor = query.get("cursor");
  const after = cursor === null ? null : day(cursor, "cursor");
  if (after !== null && typeof after !== "number") return failure(400, "BadRequest", "cursor is not one this API issued.");
  const known = await pool.query("SELECT 1 FROM reporting.daily_branch_sales WHERE branch_code = $1 LIMIT 1", [branch]);
  if (known.rowCount === 0) return failure(404, "NotFound", `No branch "${branch}" has reported sales.`);
  const fromDay = new Date(from).toISOString().slice(0, 10);
  const toDay = new Date(to).toISOString().slice(0, 10);
  const rows = await pool.query<{ day: string; orders: number; revenue: string }>(
    `SELECT sales_day::text AS day, orders, revenue::text AS revenue FROM reporting.daily_branch_sales
     WHERE branch_code = $1 AND sales_day BETWEEN $2 AND $3 AND ($4::date IS NULL OR sales_day > $4::date) ORDER BY sales_day LIMIT $5`,
    [branch, fromDay, toDay, after === null ? null : new Date(after).toISOString().slice(0, 10), limit + 1],
  );
  const days = rows.rows.slice(0, limit);
  return { status: 200, body: { branch, from: fromDay, to: toDay, days, nextCursor: rows.rows.length > limit ? days[days.length - 1].day : null } };
}

async function answer(pool: Pool, method: string, url: URL): Promise<Answer> {
  if (method !== "GET") return failure(405, "MethodNotAllowed", `${method} is not allowed here; use GET.`);
  if (url.pathname === "/api/branches") {
    const result = await pool.query(`SELECT branch_code AS branch, min(sales_day)::text AS "firstDay", max(sales_day)::text AS "lastDay" FROM reporting.daily_branch_sales GROUP BY branch_code ORDER BY branch_code`);
    return { status: 200, body: { branches: result.rows } };
  }
  if (url.pathname === "/api/pipeline/health") {
    const result = await pool.query<{ loaded_at: Date; manifest_key: string; newest_event_at: Date | null }>("SELECT loaded_at, manifest_key, newest_event_at FROM reporting.manifest_loads ORDER BY loaded_at DESC LIMIT 1");
    const last = result.rows[0];
    const lag = last?.newest_event_at ? Math.max(0, Math.round((Date.now() - last.newest_event_at.getTime()) / 1000)) : null;
    return { status: 200, body: { lastLoadAt: last?.loaded_at.toISOString() ?? null, lastManifest: last?.manifest_key ?? null, lagSeconds: lag, queues: [] } };
  }
  const report = /^\/api\/reports\/([^/]+)\/daily-sales$/.exec(url.pathname);
  if (report) return dailySales(pool, decodeURIComponent(report[1]), url.searchParams);
  return failure(404, "NotFound", `There is no ${url.pathname}.`);
}

/** The stand-in on 127.0.0.1, reading `database` on `postgres` (the reporting schema applied). */
export async function startStandInClientApi(postgres: LocalPostgres, database?: string): Promise<StandInClientApi> {
  const pool = new Pool({ ...postgres.config(database), max: 4, connectionTimeoutMillis: 2000, statement_timeout: 3000 });
  // A stopped database errors idle clients; the next query reports it as Unavailable.
  pool.on("error", () => undefined);
  const server = http.createServer((request, response) => {
    const url = new URL(request.url ?? "/", "http://api");
    const reply = ({ status, body }: Answer) => {
      response.writeHead(status, { "content-type": "application/json" });
      response.end(JSON.stringify(body));
    };
    if (url.pathname === "/livez") return void response.end("ok");
    answer(pool, request.method ?? "GET", url).then(reply, () => reply(failure(503, "Unavailable", "The reporting database is not answering; try again in a minute.")));
  });
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(0, "127.0.0.1", resolve);
  });
  let stopped: Promise<void> | undefined;
  return {
    url: `http://127.0.0.1:${(server.address() as net.AddressInfo).port}`,
    stop: () =>
      (stopped ??= (async () => {
        server.closeAllConnections();
        await new Promise<void>((resolve) => server.close(() => resolve()));
        await pool.end().catch(() => undefined);
      })()),
  };
}
