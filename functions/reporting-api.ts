/**
 * The reporting read API behind API Gateway (HTTP API, payload v2): reporting queries
 * read through the Redis cache from Aurora's reporting custom endpoint, so repeated
 * reports neither reach the writer nor the failover readers, and most never reach the
 * database at all. SQL is parameterised; request values never become SQL text.
 */
import { GetSecretValueCommand, SecretsManagerClient } from "@aws-sdk/client-secrets-manager";
import type { APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2 } from "aws-lambda";
import { Pool, PoolConfig } from "pg";
import { CacheAside, CacheSource, createCacheAside, createRedisClient } from "./cache-aside";
import { NamedError, isNamedError, namedError } from "./errors";

export const DAILY_SALES_ROUTE = "GET /reports/{branch}/daily-sales";
/** Answers 200 when the reporting database answers; dr:promote calls it (SigV4-signed) to verify a promoted region. */
export const HEALTH_ROUTE = "GET /health";

/** The reporting schema this API reads (the OLTP model the loader also lands in the warehouse). */
export const DAILY_SALES_SQL =
  "SELECT to_char(date_trunc('day', ordered_at), 'YYYY-MM-DD') AS day, COUNT(*)::int AS orders, SUM(amount)::numeric(14,2)::text AS revenue " +
  "FROM sales.orders WHERE branch_code = $1 AND ordered_at >= $2::date AND ordered_at < $3::date + 1 GROUP BY 1 ORDER BY 1";

/** Longest date range one request may ask for; bigger reports belong in the warehouse. */
export const MAX_REPORT_DAYS = 92;
/** @default range when the request gives none: the last 7 days, today included. */
export const DEFAULT_REPORT_DAYS = 7;

const BRANCH_PATTERN = /^[A-Za-z0-9_-]{1,32}$/;
const DATE_PATTERN = /^\d{4}-\d{2}-\d{2}$/;
const DAY_MS = 86_400_000;

export interface DailySalesRequest {
  readonly branch: string;
  /** First day, YYYY-MM-DD (UTC). */
  readonly from: string;
  /** Last day, YYYY-MM-DD (UTC), included. */
  readonly to: string;
}

export interface DailySalesRow {
  readonly day: string;
  readonly orders: number;
  /** Decimal as text, so no cent is lost to floating point. */
  readonly revenue: string;
}

export interface Queryable {
  query(text: string, values: unknown[]): Promise<{ rows: unknown[] }>;
}

export interface ReportingDependencies {
  readonly db: Queryable;
  readonly cache: CacheAside;
  /** @default 300 */
  readonly ttlSeconds?: number;
  /** @default () => new Date() */
  readonly now?: () => Date;
}

/** A request the API refuses with 400; its message is written for the caller. */
export type BadRequest = NamedError<"BadRequest">;

export function badRequest(message: string): BadRequest {
  return namedError("BadRequest", message, {});
}

export function isBadRequest(error: unknown): error is BadRequest {
  return isNamedError(error, "BadRequest");
}

/** The query parameters a report reads. */
const REPORT_PARAMETERS = ["from", "to"] as const;

function isoDay(date: Date): string {
  return date.toISOString().slice(0, 10);
}

function parseDay(value: string, name: string): Date {
  if (value.length === 0) throw badRequest(`${name} must not be empty; give a date YYYY-MM-DD or leave ${name} out`);
  const parsed = new Date(`${value}T00:00:00Z`);
  if (!DATE_PATTERN.test(value) || Number.isNaN(parsed.getTime()) || isoDay(parsed) !== value) {
    throw badRequest(`${name} must be a date YYYY-MM-DD, got ${JSON.stringify(value)}`);
  }
  return parsed;
}

/**
 * API Gateway (HTTP API, payload 2.0) joins a repeated query parameter's values with
 * commas in queryStringParameters; rawQueryString still shows each occurrence, so a
 * repeated parameter is refused by name rather than as a malformed date.
 */
function refuseRepeatedParameters(rawQueryString: string | undefined): void {
  const query = new URLSearchParams(rawQueryString ?? "");
  for (const name of REPORT_PARAMETERS) {
    const count = query.getAll(name).length;
    if (count > 1) throw badRequest(`${name} is given ${count} times; give it once`);
  }
}

/** Validates the path and query; throws a BadRequest with a message fit for the caller. */
export function parseDailySalesRequest(
  event: Pick<APIGatewayProxyEventV2, "pathParameters" | "queryStringParameters"> & Partial<Pick<APIGatewayProxyEventV2, "rawQueryString">>,
  now: Date,
): DailySalesRequest {
  const branch = event.pathParameters?.branch ?? "";
  if (!BRANCH_PATTERN.test(branch)) throw badRequest("branch must be 1-32 letters, digits, '_' or '-'");
  refuseRepeatedParameters(event.rawQueryString);
  const query = event.queryStringParameters ?? {};
  const to = query.to !== undefined ? parseDay(query.to, "to") : new Date(`${isoDay(now)}T00:00:00Z`);
  const from = query.from !== undefined ? parseDay(query.from, "from") : new Date(to.getTime() - (DEFAULT_REPORT_DAYS - 1) * DAY_MS);
  const days = (to.getTime() - from.getTime()) / DAY_MS + 1;
  if (days < 1) throw badRequest(`from (${isoDay(from)}) must not be after to (${isoDay(to)})`);
  if (days > MAX_REPORT_DAYS) throw badRequest(`at most ${MAX_REPORT_DAYS} days per request, got ${days}`);
  return { branch, from: isoDay(from), to: isoDay(to) };
}

export function dailySalesQuery(request: DailySalesRequest): { text: string; values: string[] } {
  return { text: DAILY_SALES_SQL, values: [request.branch, request.from, request.to] };
}

export function dailySalesCacheKey(request: DailySalesRequest): string {
  return `daily-sales:${request.branch}:${request.from}:${request.to}`;
}

function json(statusCode: number, body: unknown, headers: Record<string, string> = {}): APIGatewayProxyStructuredResultV2 {
  return { statusCode, headers: { "content-type": "application/json", ...headers }, body: JSON.stringify(body) };
}

/** The request, or the 404/400 answer it gets without touching any store. */
export function routeReportRequest(event: APIGatewayProxyEventV2, now: Date): { request: DailySalesRequest } | { health: true } | { response: APIGatewayProxyStructuredResultV2 } {
  if (event.routeKey === HEALTH_ROUTE) return { health: true };
  if (event.routeKey !== DAILY_SALES_ROUTE) return { response: json(404, { message: `no route ${event.routeKey}` }) };
  try {
    return { request: parseDailySalesRequest(event, now) };
  } catch (error) {
    if (isBadRequest(error)) return { response: json(400, { message: error.message }) };
    throw error;
  }
}

export async function handleReportRequest(event: APIGatewayProxyEventV2, deps: ReportingDependencies): Promise<APIGatewayProxyStructuredResultV2> {
  const routed = routeReportRequest(event, (deps.now ?? (() => new Date()))());
  if ("response" in routed) return routed.response;
  if ("health" in routed) return checkHealth(deps.db);
  const { request } = routed;
  let result: { value: DailySalesRow[] | null; source: CacheSource };
  try {
    result = await deps.cache.getOrLoadWithSource(dailySalesCacheKey(request), deps.ttlSeconds ?? 300, async () => {
      const { text, values } = dailySalesQuery(request);
      return (await deps.db.query(text, values)).rows as DailySalesRow[];
    });
  } catch (error) {
    // Details go to the logs; callers learn only that the database failed.
    console.error(JSON.stringify({ message: "daily-sales query failed", error: String(error), request }));
    return json(503, { message: "reporting database unavailable" });
  }
  return json(200, { ...request, days: result.value ?? [] }, { "x-cache": result.source });
}

/**
 * Healthy means the reporting database answers: the cache only ever speeds requests up
 * (they bypass it when Redis is down), so it is not part of the verdict.
 */
export async function checkHealth(db: Queryable): Promise<APIGatewayProxyStructuredResultV2> {
  try {
    await db.query("SELECT 1", []);
    return json(200, { status: "ok", database: "ok" });
  } catch (error) {
    console.error(JSON.stringify({ message: "health check: the reporting database did not answer", error: String(error) }));
    return json(503, { status: "unavailable", database: "unreachable" });
  }
}

// ---- Run-time wiring (used by the Lambda's callback factory) -------------------------

export interface ReportingSettings {
  readonly databaseHost: string;
  readonly databasePort: number;
  readonly databaseName: string;
  /** Secrets Manager secret holding {"username", "password"} (the RDS managed master secret shape). */
  readonly databaseSecretArn: string;
  /** @default true */
  readonly databaseTls?: boolean;
  readonly cacheHost: string;
  readonly cachePort: number;
  /** Secrets Manager secret holding the Redis AUTH token as its string. */
  readonly cacheSecretArn: string;
  /** @default true */
  readonly cacheTls?: boolean;
  readonly cacheNamespace: string;
  readonly cacheSchemaVersion: string;
  readonly ttlSeconds: number;
}

/** Reads the settings the component puts in the function's environment; names every missing one. */
export function reportingSettingsFromEnv(env: Readonly<Record<string, string | undefined>>): ReportingSettings {
  const names = ["DB_HOST", "DB_PORT", "DB_NAME", "DB_SECRET_ARN", "CACHE_HOST", "CACHE_PORT", "CACHE_SECRET_ARN", "CACHE_NAMESPACE", "CACHE_SCHEMA_VERSION", "REPORT_TTL_SECONDS"];
  const missing = names.filter((name) => !env[name]);
  if (missing.length > 0) throw new Error(`Missing environment: ${missing.join(", ")}`);
  const value = (name: string) => env[name] as string;
  return {
    databaseHost: value("DB_HOST"),
    databasePort: Number(value("DB_PORT")),
    databaseName: value("DB_NAME"),
    databaseSecretArn: value("DB_SECRET_ARN"),
    cacheHost: value("CACHE_HOST"),
    cachePort: Number(value("CACHE_PORT")),
    cacheSecretArn: value("CACHE_SECRET_ARN"),
    cacheNamespace: value("CACHE_NAMESPACE"),
    cacheSchemaVersion: value("CACHE_SCHEMA_VERSION"),
    ttlSeconds: Number(value("REPORT_TTL_SECONDS")),
  };
}

export type SecretReader = (secretArn: string) => Promise<string>;

export function secretsManagerReader(client: Pick<SecretsManagerClient, "send">): SecretReader {
  return async (secretArn) => {
    const { SecretString } = await client.send(new GetSecretValueCommand({ SecretId: secretArn }));
    if (SecretString === undefined) throw new Error(`Secret ${secretArn} has no string value`);
    return SecretString;
  };
}

export function poolConfig(settings: ReportingSettings, credentials: { username: string; password: string }): PoolConfig {
  return {
    host: settings.databaseHost,
    port: settings.databasePort,
    database: settings.databaseName,
    user: credentials.username,
    password: credentials.password,
    // Verified TLS: the Lambda trusts the RDS CAs through NODE_EXTRA_CA_CERTS (set by the component).
    ssl: (settings.databaseTls ?? true) ? { rejectUnauthorized: true } : false,
    // One request at a time per Lambda instance; a second connection covers a stale first one.
    max: 2,
    connectionTimeoutMillis: 3000,
    idleTimeoutMillis: 60_000,
    statement_timeout: 10_000,
    application_name: "reporting-api",
  };
}

const INVALID_PASSWORD = "28P01";

/**
 * A Queryable over a pool built from the database secret. RDS rotates managed master
 * secrets, so when the server rejects the cached password the secret is read again,
 * the pool rebuilt, and the query retried once.
 */
export function refreshingPool(settings: ReportingSettings, readSecret: SecretReader): Queryable & { end(): Promise<void> } {
  let pool: Promise<Pool> | undefined;
  const connect = async () => {
    const credentials = JSON.parse(await readSecret(settings.databaseSecretArn)) as { username: string; password: string };
    const created = new Pool(poolConfig(settings, credentials));
    created.on("error", () => undefined); // idle-client errors surface on the next query instead
    return created;
  };
  const current = () => (pool ??= connect().catch((error) => {
    pool = undefined;
    throw error;
  }));
  return {
    async query(text, values) {
      try {
        return await (await current()).query(text, values);
      } catch (error) {
        if ((error as { code?: string }).code !== INVALID_PASSWORD) throw error;
        const stale = pool;
        pool = undefined;
        stale?.then((old) => old.end()).catch(() => undefined);
        return (await current()).query(text, values);
      }
    },
    async end() {
      const open = pool;
      pool = undefined;
      if (open) await (await open).end();
    },
  };
}

export interface ReportingHandler {
  readonly handle: (event: APIGatewayProxyEventV2) => Promise<APIGatewayProxyStructuredResultV2>;
  /** Closes the pool and the Redis connection (tests; Lambda simply freezes). */
  readonly close: () => Promise<void>;
}

/** Builds the handler: the pool and the Redis client are created on first use and kept warm. */
export function createReportingHandler(settings: ReportingSettings, readSecret: SecretReader): ReportingHandler {
  let dependencies: Promise<ReportingDependencies & { close(): Promise<void> }> | undefined;
  const connect = async () => {
    const redis = createRedisClient({
      host: settings.cacheHost,
      port: settings.cachePort,
      password: await readSecret(settings.cacheSecretArn),
      tls: settings.cacheTls ?? true,
      onError: (error) => console.warn(JSON.stringify({ message: "redis connection error", error: error.message })),
    });
    const db = refreshingPool(settings, readSecret);
    return {
      db,
      cache: createCacheAside(redis, { namespace: settings.cacheNamespace, schemaVersion: settings.cacheSchemaVersion }),
      ttlSeconds: settings.ttlSeconds,
      close: async () => {
        if (redis.status === "ready") await redis.quit();
        else redis.disconnect();
        await db.end();
      },
    };
  };
  return {
    async handle(event) {
      // Bad requests are answered before any connection is made.
      const routed = routeReportRequest(event, new Date());
      if ("response" in routed) return routed.response;
      dependencies ??= connect().catch((error) => {
        dependencies = undefined;
        throw error;
      });
      return handleReportRequest(event, await dependencies);
    },
    async close() {
      const open = dependencies;
      dependencies = undefined;
      if (open) await (await open).close();
    },
  };
}
