/**
 * The aggregator's environment (notes: the services contract), checked at start: a
 * missing or malformed value stops the task with one line naming it (never its value when
 * it is the secret).
 */
import type { PoolConfig } from "pg";
import { Environment, requiredEnv } from "../../../functions/data-path-runtime";
import type { LogLevel } from "./log";
import { parseLogLevel } from "./log";
import type { PollerOptions } from "./poller";

/** The RDS global CA bundle the Dockerfile bakes in (https://docs.aws.amazon.com/AmazonRDS/latest/AuroraUserGuide/UsingWithRDS.SSL.html). */
export const RDS_CA_BUNDLE_PATH = "/etc/ssl/rds-global-bundle.pem";

export interface AggregatorSettings {
  readonly queueUrl: string;
  readonly stagedBucket: string;
  readonly database: { host: string; port: number; name: string; tls: boolean };
  readonly logLevel: LogLevel;
  readonly healthPort: number;
  readonly poller: PollerOptions;
}

export interface DatabaseCredentials {
  readonly username: string;
  readonly password: string;
}

function integer(env: Environment, name: string, fallback: number, min: number, max: number): number {
  const raw = env[name];
  if (raw === undefined || raw === "") return fallback;
  const value = Number(raw);
  if (!Number.isInteger(value) || value < min || value > max) throw new Error(`${name} must be a whole number from ${min} to ${max}, not "${raw}"`);
  return value;
}

function flag(env: Environment, name: string, fallback: boolean): boolean {
  const raw = env[name];
  if (raw === undefined || raw === "") return fallback;
  if (raw !== "true" && raw !== "false") throw new Error(`${name} must be "true" or "false", not "${raw}"`);
  return raw === "true";
}

export function aggregatorSettings(env: Environment): AggregatorSettings {
  return {
    queueUrl: requiredEnv(env, "AGGREGATOR_QUEUE_URL"),
    stagedBucket: requiredEnv(env, "STAGED_BUCKET"),
    database: {
      host: requiredEnv(env, "DB_HOST"),
      port: integer(env, "DB_PORT", 5432, 1, 65535),
      name: requiredEnv(env, "DB_NAME"),
      // Secure by default: only an explicit "false" (local runs) turns TLS off.
      tls: flag(env, "DB_TLS", true),
    },
    logLevel: parseLogLevel(env.LOG_LEVEL),
    healthPort: integer(env, "AGGREGATOR_HEALTH_PORT", 8080, 0, 65535),
    poller: {
      waitTimeSeconds: integer(env, "AGGREGATOR_WAIT_SECONDS", 20, 0, 20),
      visibilitySeconds: integer(env, "AGGREGATOR_VISIBILITY_SECONDS", 60, 5, 43_200),
      retryBaseSeconds: integer(env, "AGGREGATOR_RETRY_BASE_SECONDS", 10, 0, 3_600),
      shutdownMs: integer(env, "AGGREGATOR_SHUTDOWN_SECONDS", 20, 1, 110) * 1000,
    },
  };
}

/** DB_SECRET: the JSON of the Aurora master secret, which ECS injects from Secrets Manager. */
export function databaseCredentials(env: Environment): DatabaseCredentials {
  const raw = requiredEnv(env, "DB_SECRET");
  let parsed: unknown;
  try {
    parsed = JSON.parse(raw);
  } catch {
    throw new Error("DB_SECRET is not JSON (expected the Aurora secret's {\"username\",\"password\"}); its value is not shown");
  }
  const { username, password } = (parsed ?? {}) as Record<string, unknown>;
  if (typeof username !== "string" || username === "" || typeof password !== "string" || password === "") {
    throw new Error("DB_SECRET has no non-empty \"username\" and \"password\" strings; its value is not shown");
  }
  return { username, password };
}

/**
 * pg settings for the writer endpoint. TLS verifies the server against the RDS CA bundle
 * (rejectUnauthorized, with the host name checked by Node's default checkServerIdentity).
 * A statement timeout bounds a stuck statement; the pool has room for the apply and for
 * the pg_cancel_backend an abort sends beside it.
 */
export function poolConfig(settings: AggregatorSettings, credentials: DatabaseCredentials, readCa: () => string): PoolConfig {
  const { host, port, name, tls } = settings.database;
  return {
    host,
    port,
    database: name,
    user: credentials.username,
    password: credentials.password,
    ssl: tls ? { rejectUnauthorized: true, ca: readCa() } : false,
    max: 3,
    connectionTimeoutMillis: 10_000,
    statement_timeout: 120_000,
    application_name: "aggregator",
  };
}
