/**
 * The reports, read from the `reporting` schema the aggregator writes
 * (services/shared/reporting-schema.ts). SQL is parameterised; request values never become
 * SQL text. Every function takes an injected Queryable (a pg Pool in the service).
 */
import type { DailySalesPageRequest } from "./requests";
import { encodeCursor } from "./requests";

export interface Queryable {
  query<R = Record<string, unknown>>(text: string, values?: unknown[]): Promise<{ rows: R[] }>;
}

export interface Branch {
  readonly branch: string;
  readonly firstDay: string;
  readonly lastDay: string;
}

export interface DaySales {
  readonly day: string;
  readonly orders: number;
  /** Decimal text (numeric(14,2)), so no cent is lost to floating point. */
  readonly revenue: string;
}

export interface DailySalesPage {
  readonly branch: string;
  readonly from: string;
  readonly to: string;
  readonly days: DaySales[];
  readonly nextCursor: string | null;
}

export interface LastLoad {
  readonly lastLoadAt: string | null;
  readonly lastManifest: string | null;
  readonly newestEventAt: string | null;
}

export const BRANCHES_SQL =
  "SELECT branch_code AS branch, to_char(min(sales_day), 'YYYY-MM-DD') AS first_day, to_char(max(sales_day), 'YYYY-MM-DD') AS last_day " +
  "FROM reporting.daily_branch_sales GROUP BY branch_code ORDER BY branch_code";

export const BRANCH_EXISTS_SQL = "SELECT 1 FROM reporting.daily_branch_sales WHERE branch_code = $1 LIMIT 1";

/** One row more than the page asks for tells whether another page follows. */
export const DAILY_SALES_PAGE_SQL =
  "SELECT to_char(sales_day, 'YYYY-MM-DD') AS day, orders, revenue::text AS revenue FROM reporting.daily_branch_sales " +
  "WHERE branch_code = $1 AND sales_day >= $2::date AND sales_day <= $3::date AND ($4::date IS NULL OR sales_day > $4::date) " +
  "ORDER BY sales_day LIMIT $5";

export const LAST_LOAD_SQL =
  "SELECT manifest_key, loaded_at, newest_event_at FROM reporting.manifest_loads ORDER BY loaded_at DESC, manifest_key DESC LIMIT 1";

export async function listBranches(db: Queryable): Promise<Branch[]> {
  const { rows } = await db.query<{ branch: string; first_day: string; last_day: string }>(BRANCHES_SQL);
  return rows.map((row) => ({ branch: row.branch, firstDay: row.first_day, lastDay: row.last_day }));
}

export async function branchExists(db: Queryable, branch: string): Promise<boolean> {
  return (await db.query(BRANCH_EXISTS_SQL, [branch])).rows.length > 0;
}

/** One page of a branch's days; null when the branch has no sales at all (a 404, not an empty report). */
export async function dailySalesPage(db: Queryable, request: DailySalesPageRequest): Promise<DailySalesPage | null> {
  const { rows } = await db.query<{ day: string; orders: number; revenue: string }>(DAILY_SALES_PAGE_SQL, [
    request.branch,
    request.from,
    request.to,
    request.after ?? null,
    request.limit + 1,
  ]);
  if (rows.length === 0 && !(await branchExists(db, request.branch))) return null;
  const days = rows.slice(0, request.limit).map((row) => ({ day: row.day, orders: Number(row.orders), revenue: row.revenue }));
  const nextCursor = rows.length > request.limit ? encodeCursor(request, days[days.length - 1].day) : null;
  return { branch: request.branch, from: request.from, to: request.to, days, nextCursor };
}

export async function lastLoad(db: Queryable): Promise<LastLoad> {
  const { rows } = await db.query<{ manifest_key: string; loaded_at: Date; newest_event_at: Date | null }>(LAST_LOAD_SQL);
  const row = rows[0];
  return {
    lastLoadAt: row ? new Date(row.loaded_at).toISOString() : null,
    lastManifest: row?.manifest_key ?? null,
    newestEventAt: row?.newest_event_at ? new Date(row.newest_event_at).toISOString() : null,
  };
}

/** Seconds from the newest event of the last load to now: how far the reports trail the lake. */
export function lagSeconds(load: LastLoad, now: Date): number | null {
  if (load.newestEventAt === null) return null;
  return Math.max(0, Math.round((now.getTime() - Date.parse(load.newestEventAt)) / 1000));
}
