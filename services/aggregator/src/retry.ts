/**
 * Bounded retries of transient failures: a dropped or refused database connection, a
 * failover (the writer restarting, 57P01), a serialization failure or deadlock, and S3
 * throttling or 5xx that outlasted the SDK's own retries. Anything else (a missing object,
 * a bad manifest, a constraint violation) fails at once: a retry cannot change it, and the
 * message goes back to the queue with its reason.
 */
const TRANSIENT_PG_CODES = new Set(["40001", "40P01", "53300", "57P01", "57P02", "57P03", "55P03"]);
const TRANSIENT_NODE_CODES = new Set(["ECONNRESET", "ECONNREFUSED", "ETIMEDOUT", "EPIPE", "EHOSTUNREACH", "ENOTFOUND", "EAI_AGAIN"]);
const TRANSIENT_AWS_NAMES = new Set(["SlowDown", "InternalError", "ServiceUnavailable", "RequestTimeout", "RequestTimeoutException", "ThrottlingException", "TimeoutError"]);

export function isTransientError(error: unknown): boolean {
  if (!(error instanceof Error)) return false;
  const { code, $metadata, $retryable } = error as { code?: unknown; $metadata?: { httpStatusCode?: number }; $retryable?: unknown };
  if (typeof code === "string" && (TRANSIENT_PG_CODES.has(code) || code.startsWith("08") || TRANSIENT_NODE_CODES.has(code))) return true;
  if (TRANSIENT_AWS_NAMES.has(error.name) || $retryable !== undefined) return true;
  if (($metadata?.httpStatusCode ?? 0) >= 500) return true;
  // pg reports a connection lost mid-query without a code.
  return /Connection terminated|connection timeout|Client has encountered a connection error/i.test(error.message);
}

export interface RetryOptions {
  /** @default 4 */
  readonly attempts?: number;
  /** First backoff; doubled per attempt. @default 200 */
  readonly baseDelayMs?: number;
  readonly onRetry?: (error: unknown, attempt: number) => void;
  /** Stops retrying (the shutdown deadline passed). */
  readonly signal?: AbortSignal;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

export async function withRetries<T>(fn: () => Promise<T>, options: RetryOptions = {}): Promise<T> {
  const attempts = options.attempts ?? 4;
  for (let attempt = 1; ; attempt++) {
    try {
      return await fn();
    } catch (error) {
      if (attempt >= attempts || !isTransientError(error) || options.signal?.aborted) throw error;
      options.onRetry?.(error, attempt);
      await sleep((options.baseDelayMs ?? 200) * 2 ** (attempt - 1));
    }
  }
}
