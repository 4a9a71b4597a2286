/** What every data-path handler shares at run time: structured logs and its settings from the environment. */
export type LogLine = (entry: Record<string, unknown>) => void;
export type Environment = Readonly<Record<string, string | undefined>>;

/** One JSON object per line, as the functions' JSON log format expects. */
export const logJson: LogLine = (entry) => console.log(JSON.stringify(entry));

/** A setting the component always sets; its absence is a deployment bug, so the cold start fails loudly. */
export function requiredEnv(env: Environment, name: string): string {
  const value = env[name];
  if (value === undefined || value === "") throw new Error(`${name} is not set`);
  return value;
}

/** A required setting that must be a whole number of at least 1 (a count, a TTL, a timeout). */
export function positiveIntegerEnv(env: Environment, name: string): number {
  const value = Number(requiredEnv(env, name));
  if (!Number.isInteger(value) || value < 1) throw new Error(`${name} must be a positive integer, not "${env[name]}"`);
  return value;
}

/**
 * SDK client settings for every data-path handler: a connection that stalls fails after
 * these timeouts and is retried by the SDK, instead of hanging until the function's
 * timeout kills the invocation (which fails its whole batch). The request timeout is a
 * socket inactivity timeout, so large objects that keep flowing are not cut. Current
 * smithy handlers only log a request timeout unless throwOnRequestTimeout is set (the
 * NodeHttpHandlerOptions docs; dr/clients.ts does the same).
 */
export const DATA_PATH_CLIENT_SETTINGS = { maxAttempts: 3, requestHandler: { connectionTimeout: 1_000, requestTimeout: 4_000, throwOnRequestTimeout: true } } as const;

/** The longest one SDK call can take with DATA_PATH_CLIENT_SETTINGS when every attempt stalls (backoff aside). */
export const WORST_SDK_CALL_MS =
  DATA_PATH_CLIENT_SETTINGS.maxAttempts * (DATA_PATH_CLIENT_SETTINGS.requestHandler.connectionTimeout + DATA_PATH_CLIENT_SETTINGS.requestHandler.requestTimeout);
