/**
 * The reporting schema's writer. applySchema runs the shared schema text at start inside a
 * transaction holding a transaction-level advisory lock, so tasks starting together apply
 * it one after another (concurrent CREATE … IF NOT EXISTS can still collide on the
 * catalog's unique indexes). applyManifest writes one manifest in ONE transaction:
 *
 * 1. record the manifest in manifest_loads (ON CONFLICT DO NOTHING): a manifest already
 *    recorded was applied before, so nothing else runs and the rows stay exactly as they
 *    are; the same manifest on two tasks at once waits on the first one's row, then skips;
 * 2. lock each touched (branch, day) with a transaction-level advisory lock, in sorted order
 *    (no deadlock between tasks): under READ COMMITTED two manifests recomputing the same
 *    day concurrently would otherwise each miss the other's facts and the last commit win;
 * 3. insert the order facts (ON CONFLICT (event_id) DO NOTHING: an event staged in two
 *    manifests counts once, and its first manifest keeps it);
 * 4. recompute daily_branch_sales for the touched pairs from order_facts, so the totals are
 *    sums of exact numerics in PostgreSQL, never accumulated in the service; a row whose
 *    totals did not change is not rewritten (its updated_at stays).
 *
 * An abort (graceful shutdown past its deadline) cancels the running statement with
 * pg_cancel_backend and rolls back: nothing of a manifest is ever half-applied.
 */
import type { Pool, PoolClient } from "pg";
import { REPORTING_SCHEMA_SQL } from "../../shared/reporting-schema";
import { namedError } from "../../../functions/errors";
import type { OrderFact } from "./staged-rows";
import { newestEventAt, touchedDays } from "./staged-rows";

/** Any fixed 64-bit key, the same in every task: "aggregator schema". */
export const SCHEMA_LOCK_KEY = 7_316_540_912_001n;

export async function applySchema(pool: Pool): Promise<void> {
  const client = await pool.connect();
  try {
    await client.query("BEGIN");
    await client.query("SELECT pg_advisory_xact_lock($1)", [SCHEMA_LOCK_KEY.toString()]);
    await client.query(REPORTING_SCHEMA_SQL);
    await client.query("COMMIT");
  } catch (error) {
    await client.query("ROLLBACK").catch(() => undefined);
    throw error;
  } finally {
    client.release();
  }
}

export interface ManifestLoad {
  readonly manifestKey: string;
  readonly facts: readonly OrderFact[];
}

export interface LoadResult {
  /** False when the manifest was recorded before: nothing was written. */
  readonly applied: boolean;
  /** Facts new to order_facts (an event another manifest carried is not new). */
  readonly newFacts: number;
  readonly days: number;
}

export const aborted = () => namedError("Aborted", "the manifest was abandoned before its commit (shutdown deadline); the transaction is rolled back", {});

const INSERT_LOAD = `
INSERT INTO reporting.manifest_loads (manifest_key, loaded_at, events, newest_event_at)
VALUES ($1, now(), $2, $3)
ON CONFLICT (manifest_key) DO NOTHING
RETURNING manifest_key`;

const INSERT_FACTS = `
INSERT INTO reporting.order_facts (event_id, branch_code, sales_day, amount, occurred_at, manifest_key)
SELECT event_id, branch_code, sales_day, amount, occurred_at, $6
FROM unnest($1::text[], $2::text[], $3::date[], $4::numeric[], $5::timestamptz[])
  AS f(event_id, branch_code, sales_day, amount, occurred_at)
ON CONFLICT (event_id) DO NOTHING`;

const RECOMPUTE_DAYS = `
INSERT INTO reporting.daily_branch_sales AS d (branch_code, sales_day, orders, revenue, updated_at)
SELECT f.branch_code, f.sales_day, count(*)::integer, sum(f.amount), now()
FROM reporting.order_facts f
JOIN unnest($1::text[], $2::date[]) AS t(branch_code, sales_day) USING (branch_code, sales_day)
GROUP BY f.branch_code, f.sales_day
ON CONFLICT (branch_code, sales_day) DO UPDATE
  SET orders = excluded.orders, revenue = excluded.revenue, updated_at = excluded.updated_at
  WHERE (d.orders, d.revenue) IS DISTINCT FROM (excluded.orders, excluded.revenue)`;

/** Runs fn in a transaction on its own client; an abort signal cancels the running statement and rolls back. */
async function inTransaction<T>(pool: Pool, signal: AbortSignal | undefined, fn: (client: PoolClient, check: () => void) => Promise<T>): Promise<T> {
  if (signal?.aborted) throw aborted();
  const client = await pool.connect();
  const backend = (client as unknown as { processID?: number }).processID;
  const cancel = () => void pool.query("SELECT pg_cancel_backend($1)", [backend]).catch(() => undefined);
  signal?.addEventListener("abort", cancel, { once: true });
  const check = () => {
    if (signal?.aborted) throw aborted();
  };
  let broken = false;
  try {
    await client.query("BEGIN");
    const result = await fn(client, check);
    check();
    await client.query("COMMIT");
    return result;
  } catch (error) {
    await client.query("ROLLBACK").catch(() => (broken = true));
    throw signal?.aborted ? aborted() : error;
  } finally {
    signal?.removeEventListener("abort", cancel);
    client.release(broken);
  }
}

export function applyManifest(pool: Pool, load: ManifestLoad, signal?: AbortSignal): Promise<LoadResult> {
  return inTransaction(pool, signal, async (client, check) => {
    const { facts } = load;
    const recorded = await client.query(INSERT_LOAD, [load.manifestKey, facts.length, newestEventAt(facts)]);
    if (recorded.rowCount === 0) return { applied: false, newFacts: 0, days: 0 };
    const days = touchedDays(facts);
    for (const day of days) {
      check();
      await client.query("SELECT pg_advisory_xact_lock(hashtextextended($1, 0))", [`daily_branch_sales|${day.branch}|${day.salesDay}`]);
    }
    check();
    const inserted = await client.query(INSERT_FACTS, [
      facts.map((fact) => fact.eventId),
      facts.map((fact) => fact.branch),
      facts.map((fact) => fact.salesDay),
      facts.map((fact) => fact.amount),
      facts.map((fact) => fact.occurredAt),
      load.manifestKey,
    ]);
    check();
    await client.query(RECOMPUTE_DAYS, [days.map((day) => day.branch), days.map((day) => day.salesDay)]);
    return { applied: true, newFacts: inserted.rowCount ?? 0, days: days.length };
  });
}
