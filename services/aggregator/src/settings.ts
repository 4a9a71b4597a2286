/**
 * The aggregator's environment (notes: the services contract), checked at start: a
 * missing or malformed value stops the task with one line naming it (never its value when
 * it is the secret).
 */
import type { PoolConfig } from "pg";
import { Environment, requiredEnv } from "../../../functions/data-path-runtime";
import type { LogLevel } from "../../shared/log";
import { parseLogLevel } from "../../shared/log";
import { flagEnv, integerEnv } from "../../shared/env";
import type { PollerOptions } from "./poller";


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

export function aggregatorSettings(env: Environment): AggregatorSettings {
  return {
    queueUrl: requiredEnv(env, "AGGREGATOR_QUEUE_URL"),
    stagedBucket: requiredEnv(env, "STAGED_BUCKET"),
    database: {
      host: requiredEnv(env, "DB_HOST"),
      port: integerEnv(env, "DB_PORT", 5432, 1, 65535),
      name: requiredEnv(env, "DB_NAME"),
      // Secure by default: only an explicit "false" (local runs) turns TLS off.
      tls: flagEnv(env, "DB_TLS", true),
    },
    logLevel: parseLogLevel(env.LOG_LEVEL),
    healthPort: integerEnv(env, "AGGREGATOR_HEALTH_PORT", 8080, 0, 65535),
    poller: {
      waitTimeSeconds: integerEnv(env, "AGGREGATOR_WAIT_SECONDS", 20, 0, 20),
      visibilitySeconds: integerEnv(env, "AGGREGATOR_VISIBILITY_SECONDS", 60, 5, 43_200),
      retryBaseSeconds: integerEnv(env, "AGGREGATOR_RETRY_BASE_SECONDS", 10, 0, 3_600),
      shutdownMs: integerEnv(env, "AGGREGATOR_SHUTDOWN_SECONDS", 20, 1, 110) * 1000,
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
