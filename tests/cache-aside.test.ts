/**
 * Cache-aside against a real redis-server (with requirepass, as ElastiCache AUTH).
 * TLS is not exercised end to end: the local server runs without certificates, so
 * TLS is covered as client options only.
 */
import * as net from "net";
import { Redis } from "ioredis";
import {
  CacheAside,
  createCacheAside,
  createRedisClient,
  decodeEntry,
  encodeEntry,
  jitteredTtlSeconds,
  redisOptions,
} from "../functions/cache-aside";
import { LocalRedis, freePort, startRedis } from "./support/local-databases";

/** A loader that counts its calls and answers after `gate` resolves (immediately by default). */
function countingLoader<T>(value: T, gate: Promise<void> = Promise.resolve()) {
  const loader = async () => {
    loader.calls += 1;
    await gate;
    return value;
  };
  loader.calls = 0;
  return loader;
}

function deferred() {
  let resolve!: () => void;
  const promise = new Promise<void>((r) => (resolve = r));
  return { promise, resolve };
}

describe("pure helpers", () => {
  it("cuts at most the jitter fraction off a TTL and never exceeds it", () => {
    expect(jitteredTtlSeconds(100, 0.2, () => 0)).toBe(100);
    expect(jitteredTtlSeconds(100, 0.2, () => 0.999999)).toBe(81);
    expect(jitteredTtlSeconds(1, 0.5, () => 0.99)).toBe(1);
    expect(() => jitteredTtlSeconds(0, 0.1)).toThrow(/>= 1/);
    expect(() => jitteredTtlSeconds(10, 1)).toThrow(/\[0, 1\)/);
  });

  it("tells a cached nothing from a missing or unreadable entry", () => {
    expect(decodeEntry(encodeEntry({ a: 1 }))).toEqual({ value: { a: 1 } });
    expect(decodeEntry(encodeEntry(null))).toEqual({ value: null });
    expect(decodeEntry(encodeEntry(undefined))).toEqual({ value: null });
    expect(decodeEntry(encodeEntry(0))).toEqual({ value: 0 });
    expect(decodeEntry("not json")).toBeUndefined();
    expect(decodeEntry("42")).toBeUndefined();
  });

  it("builds TLS, AUTH and bounded, queue-free client options", () => {
    const options = redisOptions({ host: "master.cache.example", port: 6379, password: "token" });
    expect(options.tls).toEqual({ servername: "master.cache.example" });
    expect(options).toMatchObject({ password: "token", enableOfflineQueue: false, maxRetriesPerRequest: 0, commandTimeout: 250, lazyConnect: true });
    expect(redisOptions({ host: "h", port: 1, tls: false }).tls).toBeUndefined();
  });
});

describe("cache-aside against redis-server", () => {
  let redis: LocalRedis;
  const clients: Redis[] = [];

  const client = (overrides: { password?: string; port?: number } = {}) => {
    const settings = { host: "127.0.0.1", port: overrides.port ?? redis.port, password: overrides.password ?? redis.password, tls: false };
    // ioredis waits disconnectTimeout (2 s) for sockets that already closed; shortened so jest exits promptly.
    const created = new Redis({ ...redisOptions(settings), disconnectTimeout: 20 });
    created.on("error", () => undefined);
    clients.push(created);
    return created;
  };
  const cache = (redisClient: Redis, schemaVersion: number | string = 1, extra: object = {}): CacheAside =>
    createCacheAside(redisClient, { namespace: "test", schemaVersion, ...extra });

  beforeAll(async () => {
    redis = await startRedis();
  });
  afterAll(async () => {
    for (const created of clients) created.disconnect();
    await redis?.stop();
  });

  it("misses, loads and caches, then hits without calling the loader", async () => {
    const redisClient = createRedisClient({ host: "127.0.0.1", port: redis.port, password: redis.password, tls: false });
    expect(redisClient.status).toBe("wait"); // nothing connects until the first request
    const aside = cache(redisClient);
    const loader = countingLoader({ total: 42 });
    expect(await aside.getOrLoadWithSource("hit-miss", 60, loader)).toEqual({ value: { total: 42 }, source: "miss" });
    expect(await aside.getOrLoadWithSource("hit-miss", 60, loader)).toEqual({ value: { total: 42 }, source: "hit" });
    expect(loader.calls).toBe(1);
    await redisClient.quit();
  });

  it("namespaces keys with the schema version and sets jittered TTLs within bounds", async () => {
    const raw = client();
    const aside = cache(raw, 3, { ttlJitterRatio: 0.2 });
    expect(aside.keyFor("daily:LDN")).toBe("test:v3:daily:LDN");
    const keys = Array.from({ length: 20 }, (_, i) => `ttl-${i}`);
    for (const key of keys) await aside.getOrLoad(key, 1000, async () => key);
    const ttls = await Promise.all(keys.map((key) => raw.ttl(aside.keyFor(key))));
    for (const ttl of ttls) {
      expect(ttl).toBeGreaterThanOrEqual(800 - 1);
      expect(ttl).toBeLessThanOrEqual(1000);
    }
    expect(new Set(ttls).size).toBeGreaterThan(1);
  });

  it("runs one load for concurrent misses on one key (single-flight)", async () => {
    const aside = cache(client());
    const gate = deferred();
    const loader = countingLoader("shared", gate.promise);
    const other = countingLoader("other");
    const requests = Array.from({ length: 25 }, () => aside.getOrLoad("stampede", 60, loader));
    const unrelated = aside.getOrLoad("not-the-stampede", 60, other);
    gate.resolve();
    expect(await Promise.all(requests)).toEqual(Array(25).fill("shared"));
    expect(await unrelated).toBe("other");
    expect(loader.calls).toBe(1);
    expect(other.calls).toBe(1);
    // Once settled, the next expiry-free read is a plain hit.
    expect((await aside.getOrLoadWithSource("stampede", 60, loader)).source).toBe("hit");
  });

  it("does not cache a loader failure and lets the next request retry", async () => {
    const aside = cache(client());
    await expect(aside.getOrLoad("failing", 60, async () => Promise.reject(new Error("database down")))).rejects.toThrow("database down");
    expect(await aside.getOrLoad("failing", 60, async () => "recovered")).toBe("recovered");
  });

  it("caches a missing value briefly as a marker (negative caching)", async () => {
    const raw = client();
    const aside = cache(raw, 1, { negativeTtlSeconds: 5 });
    const loader = countingLoader<string | null>(null);
    expect(await aside.getOrLoadWithSource("absent", 600, loader)).toEqual({ value: null, source: "miss" });
    expect(await aside.getOrLoadWithSource("absent", 600, loader)).toEqual({ value: null, source: "hit" });
    expect(loader.calls).toBe(1);
    const ttl = await raw.ttl(aside.keyFor("absent"));
    expect(ttl).toBeGreaterThan(0);
    expect(ttl).toBeLessThanOrEqual(5);
  });

  it("invalidates everything when the schema version is bumped", async () => {
    const raw = client();
    await cache(raw, 1).getOrLoad("versioned", 60, async () => ({ shape: "old" }));
    const loader = countingLoader({ shape: "new" });
    expect(await cache(raw, 2).getOrLoadWithSource("versioned", 60, loader)).toEqual({ value: { shape: "new" }, source: "miss" });
    expect(loader.calls).toBe(1);
    expect(await cache(raw, 1).getOrLoad("versioned", 60, async () => "unused")).toEqual({ shape: "old" });
  });

  it("requires AUTH: a client without the token is refused, and the cache falls back to the loader", async () => {
    const unauthenticated = new Redis({ host: "127.0.0.1", port: redis.port, lazyConnect: true, maxRetriesPerRequest: 0, enableReadyCheck: false });
    clients.push(unauthenticated);
    unauthenticated.on("error", () => undefined);
    await expect(unauthenticated.get("anything")).rejects.toThrow(/NOAUTH/);

    const wrongToken = client({ password: "wrong-token" });
    const connectionErrors: string[] = [];
    wrongToken.on("error", (error: Error) => connectionErrors.push(error.message));
    const aside = cache(wrongToken);
    expect(await aside.getOrLoadWithSource("auth", 60, async () => "from loader")).toEqual({ value: "from loader", source: "bypass" });
    expect(connectionErrors.join("\n")).toMatch(/WRONGPASS/);
  });

  it("serves from the loader when nothing listens on the port", async () => {
    const aside = cache(client({ port: await freePort() }));
    const loader = countingLoader("loaded");
    expect(await aside.getOrLoadWithSource("nothing-there", 60, loader)).toEqual({ value: "loaded", source: "bypass" });
    expect(await aside.getOrLoadWithSource("nothing-there", 60, loader)).toEqual({ value: "loaded", source: "bypass" });
    expect(loader.calls).toBe(2);
  });

  it("serves from the loader when Redis accepts connections but never answers (bounded wait)", async () => {
    const sockets: net.Socket[] = [];
    const blackhole = net.createServer((socket) => void sockets.push(socket));
    await new Promise<void>((resolve) => blackhole.listen(0, "127.0.0.1", resolve));
    try {
      const port = (blackhole.address() as net.AddressInfo).port;
      const silent = client({ port });
      const aside = cache(silent, 1, { connectWaitMs: 200 });
      expect(await aside.getOrLoadWithSource("silent", 60, async () => "loaded")).toEqual({ value: "loaded", source: "bypass" });
      silent.disconnect();
    } finally {
      for (const socket of sockets) socket.destroy();
      await new Promise((resolve) => blackhole.close(resolve));
    }
  });

  it("keeps answering while Redis is stopped, and uses the cache again once it is back", async () => {
    const raw = client();
    const aside = cache(raw);
    await aside.getOrLoad("outage", 60, async () => "cached before the outage");
    await redis.stop();
    try {
      const loader = countingLoader("from the database");
      expect(await aside.getOrLoadWithSource("outage", 60, loader)).toEqual({ value: "from the database", source: "bypass" });
      expect(await aside.getOrLoadWithSource("another", 60, loader)).toEqual({ value: "from the database", source: "bypass" });
      expect(loader.calls).toBe(2);
    } finally {
      await redis.start();
    }
    // The client reconnects in the background; the restarted server is empty (no persistence).
    await new Promise<void>((resolve) => (raw.status === "ready" ? resolve() : raw.once("ready", () => resolve())));
    expect(await aside.getOrLoadWithSource("outage", 60, async () => "reloaded")).toEqual({ value: "reloaded", source: "miss" });
    expect(await aside.getOrLoadWithSource("outage", 60, async () => "unused")).toEqual({ value: "reloaded", source: "hit" });
  });
});
