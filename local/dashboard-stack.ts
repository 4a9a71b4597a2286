/**
 * The client API and the dashboard on this machine, as `npm run dashboard:local` and the
 * browser test run them: the dashboard's build, the client API (local/client-api.ts, on
 * embedded PostgreSQL and redis-server with the reporting schema), the given reporting rows,
 * and the static site with its `/api/*` pass-through (local/dashboard-server.ts).
 * No jest here. Whatever started is stopped again if a later step fails or the start is aborted.
 */
import { buildDashboard, DashboardBuild } from "../scripts/dashboard-build";
import { REPORTING_SCHEMA_SQL } from "../services/shared/reporting-schema";
import { startStandInClientApi } from "./client-api-standin";
import { DailySalesRow, seedReporting } from "./dashboard-sample";
import { DashboardServer, startDashboardServer } from "./dashboard-server";
import { startPostgres, startRedis } from "./servers";

export interface DashboardStackOptions {
  readonly rows: readonly DailySalesRow[];
  /** The manifest load pipeline health shows. @default none: health shows "No load yet" */
  readonly load?: { manifestKey: string; loadedAt: Date; lagSeconds: number; events: number };
  /** Port of the dashboard. @default a free port */
  readonly port?: number;
  readonly onStep?: (step: string) => void;
  /** Aborting stops the start at its next step; what started is stopped. @default never aborted */
  readonly signal?: AbortSignal;
}

export interface DashboardStack {
  /** The dashboard, e.g. "http://127.0.0.1:5173" */
  readonly url: string;
  /** The client API itself (the dashboard proxies `/api/*` to it). */
  readonly apiUrl: string;
  readonly build: DashboardBuild;
  readonly site: DashboardServer;
  /** Stops the client API's database and cache: what an outage looks like to the page. */
  stopDataStores(): Promise<void>;
  /** Stops the client API only (the site answers 502 for /api/*). */
  stopApi(): Promise<void>;
  /** Stops everything; safe to call twice. */
  stop(): Promise<void>;
}

export async function startDashboardStack(options: DashboardStackOptions): Promise<DashboardStack> {
  const stoppers: (() => Promise<void>)[] = [];
  let stopped: Promise<void> | undefined;
  // Once only: a Ctrl-C and a failing step may both stop the stack, and the second must wait for the first.
  const stopAll = () => (stopped ??= (async () => {
    for (const stop of stoppers.reverse()) await stop().catch(() => undefined);
  })());
  const step = (name: string) => {
    if (options.signal?.aborted) throw new Error(`the dashboard's local start was aborted before ${name}`);
    options.onStep?.(name);
  };
  try {
    step("building the dashboard (vite; cached when the sources did not change)");
    const build = await buildDashboard();
    step("starting PostgreSQL, redis-server and the client API");
    const api = await startClientApiWithData(options, (stop) => stoppers.push(stop));
    step("serving the dashboard");
    const site = await startDashboardServer({ siteDir: build.dir, apiUrl: api.url, port: options.port });
    stoppers.push(site.stop);
    return { url: site.url, apiUrl: api.url, build, site, stopDataStores: api.stopDataStores, stopApi: api.stopApi, stop: stopAll };
  } catch (error) {
    await stopAll();
    throw error;
  }
}

interface RunningClientApi {
  readonly url: string;
  stopDataStores(): Promise<void>;
  stopApi(): Promise<void>;
  stop(): Promise<void>;
}

/**
 * PostgreSQL with the reporting schema and the rows, redis-server, and the client API on them.
 * THE ONE PLACE TO SWAP at the merge of `client-api`: its startLocalClientApi replaces the
 * stand-in (local/client-api-standin.ts), which the client-api branch had not committed by
 * the dashboard's deadline.
 */
async function startClientApiWithData(options: DashboardStackOptions, onStopper: (stop: () => Promise<void>) => void): Promise<RunningClientApi> {
  // One after the other, each stopper registered at once: a failed second start leaves no first behind. Both stops may run twice.
  const postgres = await startPostgres();
  onStopper(postgres.stop);
  const redis = await startRedis();
  onStopper(redis.stop);
  const stopDataStores = async () => void (await Promise.all([postgres.stop(), redis.stop()]));
  await postgres.withClient(async (client) => {
    await client.query(REPORTING_SCHEMA_SQL);
    await seedReporting(client, options.rows, options.load);
  });
  const api = await startStandInClientApi(postgres);
  onStopper(api.stop);
  return { url: api.url, stopDataStores, stopApi: api.stop, stop: async () => { await api.stop(); await stopDataStores(); } };
}
