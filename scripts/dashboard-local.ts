/**
 * `npm run dashboard:local [-- --port 5173 --days 28]`: the client API and the dashboard on
 * this machine, no AWS account needed (local/dashboard-stack.ts wires them): embedded
 * PostgreSQL and redis-server with the reporting schema, `--days` days of sample sales for a
 * few branches ending today (local/dashboard-sample.ts), the client API, the dashboard's
 * build, and a static server for it that passes `/api/*` to the client API and serves a
 * config.json without sign-in. Prints the URL; Ctrl-C stops everything and removes the
 * temporary data.
 */
import { localRun } from "./local-run";
import { Listr } from "listr2";
import { DashboardStack, startDashboardStack } from "../local/dashboard-stack";
import { DASHBOARD_SAMPLE_BRANCHES, sampleDailySales } from "../local/dashboard-sample";
import { requireRedisServer } from "../local/servers";

export interface DashboardLocalArgs {
  /** @default 0 (a free port) */
  readonly port: number;
  /** Days of sample sales, ending today. @default 28 */
  readonly days: number;
}

export function parseDashboardLocalArgs(argv: readonly string[]): DashboardLocalArgs {
  const args = { port: 0, days: 28 };
  for (let i = 0; i < argv.length; i++) {
    const flag = argv[i];
    if (flag !== "--port" && flag !== "--days") throw new Error(`Unknown argument "${flag}". Usage: npm run dashboard:local -- [--port N] [--days N]`);
    const value = Number(argv[++i]);
    if (flag === "--port" && !(Number.isInteger(value) && value >= 0 && value <= 65535)) throw new Error(`--port needs a port number from 0 to 65535, not "${argv[i]}"`);
    if (flag === "--days" && !(Number.isInteger(value) && value >= 1 && value <= 366)) throw new Error(`--days needs a whole number from 1 to 366, not "${argv[i]}"`);
    args[flag === "--port" ? "port" : "days"] = value;
  }
  return args;
}

async function main(): Promise<void> {
  const args = parseDashboardLocalArgs(process.argv.slice(2));
  requireRedisServer();
  let stack: DashboardStack | undefined;
  const lifecycle = localRun<DashboardStack>("Stopping the dashboard, the client API, PostgreSQL and redis-server...");

  const today = new Date().toISOString().slice(0, 10);
  const rows = sampleDailySales(today, args.days);
  const branches = Object.keys(DASHBOARD_SAMPLE_BRANCHES);
  // registerSignalListeners off: listr2's own SIGINT listener exits at once, before shutdown() has stopped anything.
  const run = new Listr(
    [
      {
        title: `Start the client API and the dashboard with ${args.days} days of sales for ${branches.join(", ")}`,
        task: async (_context, task) => {
          stack = await lifecycle.start((signal) => startDashboardStack({
            rows,
            load: { manifestKey: `manifests/${today.replace(/-/g, "/")}/sample-load.json`, loadedAt: new Date(), lagSeconds: 140, events: rows.reduce((sum, row) => sum + row.orders, 0) },
            // A DLQ that is not empty, as operators will meet it: the health panel flags it.
            dlqMessages: 2,
            port: args.port,
            signal,
            onStep: (step) => (task.output = step),
          }));
          task.title = `${task.title}: ${stack.build.files.length} files, ${Math.round(stack.build.files.reduce((sum, file) => sum + file.bytes, 0) / 1024)} KiB`;
        },
      },
    ],
    { renderer: process.stdout.isTTY ? "default" : "simple", rendererOptions: { collapseSubtasks: false }, exitOnError: true, registerSignalListeners: false } as never,
  );
  try {
    await run.run();
  } catch (error) {
    if (lifecycle.stopping) return new Promise<never>(() => undefined);
    await stack?.stop();
    throw error;
  }
  process.stdout.write(
    [
      "",
      `Dashboard:  ${stack!.url}/`,
      `Client API: ${stack!.apiUrl}/api/branches (also through the dashboard: ${stack!.url}/api/branches)`,
      "Ctrl-C stops everything and removes the temporary data.",
      "",
    ].join("\n"),
  );
  await new Promise(() => undefined);
}

if (require.main === module) {
  main().catch((error: unknown) => {
    process.stderr.write(`${(error as Error).message}\n`);
    process.exit(1);
  });
}
