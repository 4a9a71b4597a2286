/**
 * Cache-aside over ElastiCache Redis with ioredis, built so that the cache can only
 * ever make a request faster, never fail it:
 * - every Redis command is bounded (commandTimeout) and nothing queues while the
 *   client is disconnected (no offline queue), so a dead or slow Redis costs at most
 *   one bounded wait before the request goes to the loader;
 * - concurrent misses for one key in a process share one load (single-flight), which
 *   keeps a cold or expired hot key from stampeding the database;
 * - TTLs are shortened by a random fraction, so keys written together expire apart;
 * - a loader that finds nothing is remembered briefly as a marker (negative caching);
 * - keys carry a namespace and a schema version: bumping the version orphans every
 *   old entry at once (they age out through their TTLs).
 */
import { Redis, RedisOptions } from "ioredis";

export interface RedisConnectionSettings {
  readonly host: string;
  readonly port: number;
  /** The AUTH token; ElastiCache accepts it only over TLS. */
  readonly password?: string;
  /** TLS to the server; ElastiCache with transit encryption needs it. @default true */
  readonly tls?: boolean;
  /** Bound on each command; past it the request skips the cache. @default 250 */
  readonly commandTimeoutMs?: number;
  /** Bound on establishing a connection. @default 1000 */
  readonly connectTimeoutMs?: number;
  /** Called with connection errors, which ioredis would otherwise print as unhandled. @default ignore them */
  readonly onError?: (error: Error) => void;
}

/** ioredis options for a cache that must never hold a request hostage. */
export function redisOptions(settings: RedisConnectionSettings): RedisOptions {
  return {
    host: settings.host,
    port: settings.port,
    password: settings.password,
    // ElastiCache presents an Amazon-issued certificate that Node's default CAs verify.
    tls: (settings.tls ?? true) ? { servername: settings.host } : undefined,
    connectTimeout: settings.connectTimeoutMs ?? 1000,
    commandTimeout: settings.commandTimeoutMs ?? 250,
    // Fail fast while disconnected rather than queue commands whose answers would come too late.
    enableOfflineQueue: false,
    maxRetriesPerRequest: 0,
    // Connect on first use, so that building the client (at cold start) never blocks or throws.
    lazyConnect: true,
    // Keep reconnecting in the background, backing off to one attempt every 2 s.
    retryStrategy: (attempt: number) => Math.min(attempt * 100, 2000),
  };
}

export function createRedisClient(settings: RedisConnectionSettings): Redis {
  const client = new Redis(redisOptions(settings));
  client.on("error", settings.onError ?? (() => undefined));
  return client;
}

export interface CacheAsideOptions {
  /** First part of every key, e.g. "reporting". */
  readonly namespace: string;
  /** Second part of every key; bump it whenever the cached shape changes. */
  readonly schemaVersion: number | string;
  /** Up to this fraction of each TTL is cut at random. @default 0.1 */
  readonly ttlJitterRatio?: number;
  /** TTL of the marker stored when the loader finds nothing. @default 30 */
  readonly negativeTtlSeconds?: number;
  /** How long a request waits for a client that is still connecting. @default 500 */
  readonly connectWaitMs?: number;
  /** @default Math.random */
  readonly random?: () => number;
  /** Told about every Redis failure the cache absorbed. @default ignore them */
  readonly onCacheError?: (error: unknown, operation: "connect" | "get" | "set") => void;
}

/** Where a value came from: Redis, the loader with the result cached, or the loader with Redis unusable. */
export type CacheSource = "hit" | "miss" | "bypass";

export interface CacheResult<T> {
  readonly value: T | null;
  readonly source: CacheSource;
}

export type Loader<T> = () => Promise<T | null | undefined>;

export interface CacheAside {
  /** The Redis key for `key`: "<namespace>:v<schemaVersion>:<key>". */
  keyFor(key: string): string;
  getOrLoad<T>(key: string, ttlSeconds: number, loader: Loader<T>): Promise<T | null>;
  getOrLoadWithSource<T>(key: string, ttlSeconds: number, loader: Loader<T>): Promise<CacheResult<T>>;
}

/** A TTL in [ttl × (1 − ratio), ttl], never below 1 s: the caller's TTL stays the staleness bound. */
export function jitteredTtlSeconds(ttlSeconds: number, ratio: number, random: () => number = Math.random): number {
  if (!Number.isInteger(ttlSeconds) || ttlSeconds < 1) throw new Error(`TTL must be a whole number of seconds >= 1, got ${ttlSeconds}`);
  if (!(ratio >= 0 && ratio < 1)) throw new Error(`TTL jitter ratio must be in [0, 1), got ${ratio}`);
  return Math.max(1, Math.ceil(ttlSeconds * (1 - ratio * random())));
}

// Values are wrapped so that a cached "nothing" is distinguishable from a missing key.
type Envelope = { readonly v: unknown } | { readonly nil: true };

export function encodeEntry(value: unknown): string {
  return JSON.stringify(value === null || value === undefined ? { nil: true } : { v: value });
}

/** The cached value (null for a negative marker), or undefined when the entry is unreadable. */
export function decodeEntry(raw: string): { value: unknown } | undefined {
  try {
    const entry = JSON.parse(raw) as Envelope;
    if (entry !== null && typeof entry === "object") {
      if ("nil" in entry) return { value: null };
      if ("v" in entry) return { value: entry.v };
    }
  } catch {
    // An unreadable entry is treated as a miss and overwritten.
  }
  return undefined;
}

type ClientStatus = Redis["status"];
const STILL_CONNECTING: readonly ClientStatus[] = ["wait", "connecting", "connect"];

/**
 * True when Redis can take a command now; waits (at most `waitMs`) only for a client that is
 * still connecting, and fails fast for one that is reconnecting or closed.
 */
export async function redisUsable(redis: Redis, waitMs: number, onConnectError: (error: unknown) => void = () => undefined): Promise<boolean> {
  if (redis.status === "ready") return true;
  if (!STILL_CONNECTING.includes(redis.status)) return false; // reconnecting or closed: fail fast
  if (redis.status === "wait") redis.connect().catch(onConnectError);
  // Declared before use throughout: Pulumi's closure serializer cannot follow a const used ahead of its declaration.
  return new Promise<boolean>((resolve) => {
    let timer: ReturnType<typeof setTimeout> | undefined;
    let onReady: () => void = () => undefined;
    let onClose: () => void = () => undefined;
    const finish = (ready: boolean) => {
      clearTimeout(timer);
      redis.off("ready", onReady);
      redis.off("close", onClose);
      resolve(ready);
    };
    onReady = () => finish(true);
    onClose = () => finish(false);
    timer = setTimeout(() => finish(false), waitMs);
    redis.once("ready", onReady);
    redis.once("close", onClose);
  });
}

export function createCacheAside(redis: Redis, options: CacheAsideOptions): CacheAside {
  const jitter = options.ttlJitterRatio ?? 0.1;
  const negativeTtl = options.negativeTtlSeconds ?? 30;
  const connectWaitMs = options.connectWaitMs ?? 500;
  const random = options.random ?? Math.random;
  const reportError = options.onCacheError ?? (() => undefined);
  const inFlight = new Map<string, Promise<CacheResult<unknown>>>();

  const keyFor = (key: string) => `${options.namespace}:v${options.schemaVersion}:${key}`;

  const usable = () => redisUsable(redis, connectWaitMs, (error) => reportError(error, "connect"));


  async function lookup<T>(redisKey: string, ttlSeconds: number, loader: Loader<T>): Promise<CacheResult<T>> {
    let cacheUp = await usable();
    if (cacheUp) {
      try {
        const raw = await redis.get(redisKey);
        const cached = raw === null ? undefined : decodeEntry(raw);
        if (cached !== undefined) return { value: cached.value as T | null, source: "hit" };
      } catch (error) {
        reportError(error, "get");
        cacheUp = false;
      }
    }
    const value = (await loader()) ?? null;
    if (cacheUp) {
      const ttl = value === null ? negativeTtl : ttlSeconds;
      try {
        // Awaited (it is bounded) because a Lambda may freeze before a detached write completes.
        await redis.set(redisKey, encodeEntry(value), "EX", jitteredTtlSeconds(ttl, jitter, random));
      } catch (error) {
        reportError(error, "set");
      }
    }
    return { value, source: cacheUp ? "miss" : "bypass" };
  }

  function getOrLoadWithSource<T>(key: string, ttlSeconds: number, loader: Loader<T>): Promise<CacheResult<T>> {
    jitteredTtlSeconds(ttlSeconds, jitter); // refuses a bad TTL before any work
    const redisKey = keyFor(key);
    const pending = inFlight.get(redisKey);
    if (pending !== undefined) return pending as Promise<CacheResult<T>>;
    const started = lookup(redisKey, ttlSeconds, loader).finally(() => inFlight.delete(redisKey));
    inFlight.set(redisKey, started);
    return started;
  }

  return {
    keyFor,
    getOrLoadWithSource,
    getOrLoad: async (key, ttlSeconds, loader) => (await getOrLoadWithSource(key, ttlSeconds, loader)).value,
  };
}
