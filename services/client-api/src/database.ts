/**
 * The read-only database connection: reporting_reader on Aurora's reporting endpoint.
 * On AWS its password is an IAM authentication token (@aws-sdk/rds-signer), made for every
 * new connection because a token is valid for 15 minutes while a connection lives longer;
 * the task role may `rds-db:connect` as this user only. Every query is bounded twice: the
 * server's statement_timeout and the client's query_timeout, so a stuck query answers 503
 * instead of holding the request.
 * https://docs.aws.amazon.com/AmazonRDS/latest/AuroraUserGuide/UsingWithRDSandAurora.IAMDBAuth.Connecting.NodeJS.html
 */
import type { PoolConfig } from "pg";
import type { ClientApiSettings } from "./settings";

/** The password of each new connection (an IAM token on AWS). */
export type PasswordSource = () => Promise<string>;

export function readerPoolConfig(settings: ClientApiSettings["database"], password: PasswordSource, readCa: () => string): PoolConfig {
  return {
    host: settings.host,
    port: settings.port,
    database: settings.name,
    user: settings.user,
    password,
    // IAM authentication requires TLS; the CA is the RDS global bundle baked into the image.
    ssl: settings.tls ? { rejectUnauthorized: true, ca: readCa() } : false,
    max: 10,
    connectionTimeoutMillis: 3_000,
    idleTimeoutMillis: 60_000,
    statement_timeout: settings.statementTimeoutMs,
    // A little longer than the server's bound, so the server's cancellation normally wins and the connection stays usable.
    query_timeout: settings.statementTimeoutMs + 500,
    application_name: "client-api",
  };
}

/** Errors that mean "the database did not answer in time or at all": a 503, not a 500. */
export function isUnavailable(error: unknown): boolean {
  const code = (error as { code?: unknown })?.code;
  const message = error instanceof Error ? error.message : String(error);
  // 57014 query_canceled (statement_timeout), 57P0x admin shutdown / cannot connect now, 08xxx connection exceptions, 53300 too many connections.
  if (typeof code === "string" && (/^08/.test(code) || /^57P0/.test(code) || code === "57014" || code === "53300")) return true;
  if (typeof code === "string" && /^(ECONNREFUSED|ECONNRESET|ETIMEDOUT|EHOSTUNREACH|ENOTFOUND|EPIPE)$/.test(code)) return true;
  return /Query read timeout|timeout exceeded when trying to connect|Connection terminated|connect ECONNREFUSED/i.test(message);
}
