/**
 * The cache-aside library (functions/cache-aside.ts) around a Redis AUTH token that can
 * rotate. The token is read at run time (Secrets Manager on AWS, a file locally), never at
 * build time. When Redis refuses it (WRONGPASS/NOAUTH: the token was rotated and this task's
 * connection re-authenticated with the old one), the token is read again and a new client
 * replaces the old one, so a rotation is picked up without a restart. Until then, and
 * whenever the token cannot be read or Redis is down, requests go straight to the database
 * (source "bypass"): the cache can only ever make a request faster, never fail it.
 */
import type { Redis } from "ioredis";
import { CacheAside, CacheAsideOptions, CacheResult, Loader, RedisConnectionSettings, createCacheAside, createRedisClient, redisUsable } from "../../../functions/cache-aside";
import type { Logger } from "../../shared/log";
import { errorFields } from "../../shared/log";

/** The current AUTH token; undefined when the server needs none (never on ElastiCache). */
export type TokenSource = () => Promise<string | undefined>;

export interface RotatingCacheOptions {
  readonly connection: Omit<RedisConnectionSettings, "password" | "onError">;
  readonly token: TokenSource;
  readonly cache: CacheAsideOptions;
  readonly log: Logger;
  /** Least time between two token reads after a failure, so a broken secret is not hammered. @default 5000 */
  readonly retryMs?: number;
  /** @default Date.now */
  readonly now?: () => number;
}

export interface RotatingCache {
  getOrLoad<T>(key: string, ttlSeconds: number, loader: Loader<T>): Promise<CacheResult<T>>;
  /** "ok" when Redis answers a PING with the current token, "degraded" otherwise. */
  check(): Promise<"ok" | "degraded">;
  close(): Promise<void>;
}

/** Redis's answers to a wrong or missing AUTH token (Redis 6+ and older servers). */
export function isAuthFailure(error: unknown): boolean {
  const message = error instanceof Error ? error.message : String(error);
  return /WRONGPASS|NOAUTH|invalid password|invalid username-password/i.test(message);
}

/** How long a health check waits for a client that is still connecting. */
const CONNECT_WAIT_MS = 500;

interface Connected {
  readonly token: string | undefined;
  readonly redis: Redis;
  readonly cache: CacheAside;
}

export function createRotatingCache(options: RotatingCacheOptions): RotatingCache {
  const retryMs = options.retryMs ?? 5000;
  const now = options.now ?? Date.now;
  let current: Connected | undefined;
  let pending: Promise<Connected | undefined> | undefined;
  let staleToken = false;
  let lastAttempt = -Infinity;
  let closed = false;

  const markStale = (error: unknown) => {
    if (!isAuthFailure(error) || staleToken) return;
    staleToken = true;
    options.log.warn("Redis refused the AUTH token; reading it again", errorFields(error));
  };

  const connect = (token: string | undefined): Connected => {
    const redis = createRedisClient({ ...options.connection, password: token, onError: markStale });
    redis.connect().catch(markStale);
    const cache = createCacheAside(redis, {
      ...options.cache,
      onCacheError: (error, operation) => {
        markStale(error);
        options.cache.onCacheError?.(error, operation);
      },
    });
    return { token, redis, cache };
  };

  /** Reads the token and (re)connects when there is no client or its token was refused; bounded by retryMs. */
  const refresh = async (): Promise<Connected | undefined> => {
    lastAttempt = now();
    let token: string | undefined;
    try {
      token = await options.token();
    } catch (error) {
      options.log.warn("Redis AUTH token unreadable; serving from the database", errorFields(error));
      return current;
    }
    if (current && current.token === token) return current; // not rotated yet where we read it: keep trying later
    const previous = current;
    current = connect(token);
    staleToken = false;
    previous?.redis.disconnect();
    if (previous) options.log.info("Redis AUTH token changed; reconnected");
    return current;
  };

  const ready = async (): Promise<Connected | undefined> => {
    if (closed) return undefined;
    const due = now() - lastAttempt >= retryMs;
    if ((current === undefined || staleToken) && due) pending ??= refresh().finally(() => (pending = undefined));
    if (pending) await pending;
    return staleToken ? undefined : current;
  };

  return {
    async getOrLoad(key, ttlSeconds, loader) {
      const connected = await ready();
      if (!connected) return { value: (await loader()) ?? null, source: "bypass" };
      return connected.cache.getOrLoadWithSource(key, ttlSeconds, loader);
    },
    async check() {
      const connected = await ready();
      if (!connected || !(await redisUsable(connected.redis, CONNECT_WAIT_MS, markStale))) return "degraded";
      try {
        return (await connected.redis.ping()) === "PONG" ? "ok" : "degraded";
      } catch (error) {
        markStale(error);
        return "degraded";
      }
    },
    async close() {
      closed = true;
      await pending;
      const open = current;
      current = undefined;
      await open?.redis.quit().catch(() => open.redis.disconnect());
    },
  };
}
