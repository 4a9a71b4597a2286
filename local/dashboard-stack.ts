/**
 * The client API and the dashboard on this machine, as `npm run dashboard:local` and the
 * browser test run them: the dashboard's build, the client API (local/client-api.ts: its bundle
 * on embedded PostgreSQL with the reporting schema and redis-server, its pipeline queues on the
 * local SQS server), the given reporting rows, and the static site with its `/api/*`
 * pass-through (local/dashboard-server.ts).
 * No jest here. Whatever started is stopped again if a later step fails or the start is aborted.
 */
import { buildDashboard, DashboardBuild } from "../scripts/dashboard-build";
import { CreateQueueCommand, SendMessageCommand } from "@aws-sdk/client-sqs";
import { DailyBranchSalesRow, seedReporting, startLocalClientApi } from "./client-api";
import { localSqsClient } from "./clients";
import { DashboardServer, startDashboardServer } from "./dashboard-server";
import { startPostgres, startRedis } from "./servers";
import { startSqsServer } from "./sqs-server";

export interface DashboardStackOptions {
  readonly rows: readonly DailyBranchSalesRow[];
  /** The manifest load pipeline health shows. @default none: health shows "No load yet" */
  readonly load?: { manifestKey: string; loadedAt: Date; lagSeconds: number; events: number };
  /** Messages waiting in the aggregator's DLQ (pipeline health shows its depth). @default 0 */
  readonly dlqMessages?: number;
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
}

/** The queues pipeline health reports: the aggregator's DLQ, on the local SQS server. */
export const DASHBOARD_DLQ = "aggregator-dlq";

/**
 * PostgreSQL with the reporting schema and the rows, redis-server, a local SQS server with the
 * aggregator's DLQ holding `dlqMessages`, and the client API (its bundle, as the image runs it) on them.
 */
async function startClientApiWithData(options: DashboardStackOptions, onStopper: (stop: () => Promise<void>) => void): Promise<RunningClientApi> {
  // One after the other, each stopper registered at once: a failed later start leaves no earlier one behind. Stops may run twice.
  const postgres = await startPostgres();
  onStopper(postgres.stop);
  const redis = await startRedis();
  onStopper(redis.stop);
  const sqs = await startSqsServer();
  onStopper(sqs.stop);
  const client = localSqsClient(sqs.endpoint);
  onStopper(async () => client.destroy());
  const { QueueUrl } = await client.send(new CreateQueueCommand({ QueueName: DASHBOARD_DLQ }));
  for (let i = 0; i < (options.dlqMessages ?? 0); i++) await client.send(new SendMessageCommand({ QueueUrl, MessageBody: JSON.stringify({ failed: `manifests/sample-${i}.json` }) }));
  const api = await startLocalClientApi({ postgres, redis, sqs: { endpoint: sqs.endpoint, queues: [{ name: DASHBOARD_DLQ, url: QueueUrl! }] } });
  onStopper(async () => void (await api.stop()));
  await seedReporting(postgres, {
    sales: options.rows,
    loads: options.load === undefined ? [] : [{ manifestKey: options.load.manifestKey, loadedAt: options.load.loadedAt, events: options.load.events, newestEventAt: new Date(options.load.loadedAt.getTime() - options.load.lagSeconds * 1000) }],
  });
  return { url: api.url, stopDataStores: async () => void (await Promise.all([postgres.stop(), redis.stop()])), stopApi: async () => void (await api.stop()) };
}
