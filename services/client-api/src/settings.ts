/**
 * The client API's environment (the services contract), checked at start. On AWS the
 * database password is an IAM authentication token made per connection and the Redis AUTH
 * token is read from Secrets Manager; locally (tests, `npm run dashboard:local`) both come
 * from files, so no credential is ever a plain environment variable.
 */
import type { Environment } from "../../../functions/data-path-runtime";
import { requiredEnv } from "../../../functions/data-path-runtime";
import { flagEnv, integerEnv } from "../../shared/env";
import type { LogLevel } from "../../shared/log";
import { parseLogLevel } from "../../shared/log";

export interface PipelineQueueSetting {
  readonly name: string;
  readonly url: string;
}

/** Where a credential comes from: IAM auth tokens / Secrets Manager on AWS, a file locally. */
export type DatabaseAuth = { readonly kind: "iam"; readonly region: string } | { readonly kind: "password-file"; readonly file: string };
export type RedisAuth = { readonly kind: "secret"; readonly secretArn: string } | { readonly kind: "file"; readonly file: string } | { readonly kind: "none" };

export interface ClientApiSettings {
  /** Interface to listen on: all of them in a task (the ALB reaches the task's ENI), loopback locally. */
  readonly host: string;
  readonly port: number;
  readonly database: {
    readonly host: string;
    readonly port: number;
    readonly name: string;
    readonly user: string;
    readonly tls: boolean;
    readonly statementTimeoutMs: number;
    readonly auth: DatabaseAuth;
  };
  readonly redis: { readonly host: string; readonly port: number; readonly tls: boolean; readonly auth: RedisAuth };
  readonly pipelineQueues: readonly PipelineQueueSetting[];
  readonly cacheTtlSeconds: number;
  readonly logLevel: LogLevel;
  /** How long SIGTERM waits for in-flight requests before closing anyway. */
  readonly shutdownMs: number;
}

export function parsePipelineQueues(raw: string | undefined): PipelineQueueSetting[] {
  if (raw === undefined || raw.trim() === "") return [];
  let parsed: unknown;
  try {
    parsed = JSON.parse(raw);
  } catch {
    throw new Error('PIPELINE_QUEUES must be JSON: [{"name":"aggregator-dlq","url":"https://sqs…"}]');
  }
  if (!Array.isArray(parsed)) throw new Error("PIPELINE_QUEUES must be a JSON list of {name, url}");
  return parsed.map((entry, index) => {
    const { name, url } = (entry ?? {}) as Record<string, unknown>;
    if (typeof name !== "string" || name === "" || typeof url !== "string" || !/^https?:\/\//.test(url)) {
      throw new Error(`PIPELINE_QUEUES[${index}] needs a non-empty "name" and an http(s) "url"`);
    }
    return { name, url };
  });
}

function databaseAuth(env: Environment): DatabaseAuth {
  const kind = env.DB_AUTH ?? "iam";
  if (kind === "iam") return { kind, region: requiredEnv(env, "AWS_REGION") };
  if (kind === "password-file") return { kind, file: requiredEnv(env, "DB_PASSWORD_FILE") };
  throw new Error(`DB_AUTH must be "iam" or "password-file", not "${kind}"`);
}

function redisAuth(env: Environment): RedisAuth {
  if (env.REDIS_AUTH_SECRET_ARN) return { kind: "secret", secretArn: env.REDIS_AUTH_SECRET_ARN };
  if (env.REDIS_AUTH_TOKEN_FILE) return { kind: "file", file: env.REDIS_AUTH_TOKEN_FILE };
  return { kind: "none" };
}

export function clientApiSettings(env: Environment): ClientApiSettings {
  return {
    host: env.HOST ?? "0.0.0.0",
    port: integerEnv(env, "PORT", 8080, 0, 65535),
    database: {
      host: requiredEnv(env, "DB_HOST"),
      port: integerEnv(env, "DB_PORT", 5432, 1, 65535),
      name: requiredEnv(env, "DB_NAME"),
      user: requiredEnv(env, "DB_USER"),
      // Secure by default: only an explicit "false" (local runs) turns TLS off.
      tls: flagEnv(env, "DB_TLS", true),
      statementTimeoutMs: integerEnv(env, "DB_STATEMENT_TIMEOUT_MS", 3000, 100, 60_000),
      auth: databaseAuth(env),
    },
    redis: {
      host: requiredEnv(env, "REDIS_HOST"),
      port: integerEnv(env, "REDIS_PORT", 6379, 1, 65535),
      tls: flagEnv(env, "REDIS_TLS", true),
      auth: redisAuth(env),
    },
    pipelineQueues: parsePipelineQueues(env.PIPELINE_QUEUES),
    cacheTtlSeconds: integerEnv(env, "CACHE_TTL_SECONDS", 300, 1, 86_400),
    logLevel: parseLogLevel(env.LOG_LEVEL),
    shutdownMs: integerEnv(env, "CLIENT_API_SHUTDOWN_SECONDS", 25, 1, 110) * 1000,
  };
}
