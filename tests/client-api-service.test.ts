/**
 * The client API as the image runs it: the esbuild bundle in a child process (local/client-api.ts)
 * answering real HTTP requests, against embedded PostgreSQL with the reporting schema,
 * redis-server and the local SQS server. Covers every route and its error answers, paging,
 * ETags, Redis down and a rotated Redis token, the statement timeout, a database that does
 * not answer, and SIGTERM in the middle of a request.
 */
import { CreateQueueCommand, SendMessageCommand, SQSClient } from "@aws-sdk/client-sqs";
import { Redis } from "ioredis";
import { Client } from "pg";
import { localSqsClient } from "../local/clients";
import { DailyBranchSalesRow, LocalClientApi, seedReporting, startLocalClientApi } from "../local/client-api";
import { LocalPostgres, LocalRedis, freePort, startPostgres, startRedis } from "../local/servers";
import { LocalSqs, startSqsServer } from "../local/sqs-server";

const DAY_MS = 86_400_000;
const STATEMENT_TIMEOUT_MS = 800;

/** 40 days of sales for north (Nov 1 – Dec 10), a few for south, in cents so the sums are exact. */
function salesRows(): DailyBranchSalesRow[] {
  const rows: DailyBranchSalesRow[] = [];
  for (let i = 0; i < 40; i++) {
    const day = new Date(Date.UTC(2026, 10, 1) + i * DAY_MS).toISOString().slice(0, 10);
    rows.push({ branch: "north", day, orders: 10 + i, revenue: ((1000 + i * 137) / 100 + i * 10).toFixed(2) });
  }
  for (const day of ["2026-12-01", "2026-12-02"]) rows.push({ branch: "south", day, orders: 5, revenue: "99.90" });
  return rows;
}

let pg: LocalPostgres;
let redis: LocalRedis;
let sqsServer: LocalSqs;
let sqs: SQSClient;
let api: LocalClientApi;
const seeded = salesRows();
const north = seeded.filter((row) => row.branch === "north");

const get = (path: string, headers: Record<string, string> = {}, base = api.url) => fetch(`${base}${path}`, { headers });
async function json(path: string, headers: Record<string, string> = {}) {
  const response = await get(path, headers);
  // eslint-disable-next-line @typescript-eslint/no-explicit-any -- response bodies are asserted field by field
  return { status: response.status, headers: response.headers, body: (response.status === 304 ? undefined : await response.json()) as any };
}
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

beforeAll(async () => {
  [pg, redis, sqsServer] = await Promise.all([startPostgres(), startRedis(), startSqsServer()]);
  sqs = localSqsClient(sqsServer.endpoint);
  const dlq = (await sqs.send(new CreateQueueCommand({ QueueName: "aggregator-dlq" }))).QueueUrl!;
  const ingestDlq = (await sqs.send(new CreateQueueCommand({ QueueName: "ingest-dlq" }))).QueueUrl!;
  for (const body of ["a", "b"]) await sqs.send(new SendMessageCommand({ QueueUrl: dlq, MessageBody: body }));
  api = await startLocalClientApi({
    postgres: pg,
    redis,
    sqs: { endpoint: sqsServer.endpoint, queues: [{ name: "aggregator-dlq", url: dlq }, { name: "ingest-dlq", url: ingestDlq }] },
    env: { DB_STATEMENT_TIMEOUT_MS: String(STATEMENT_TIMEOUT_MS) },
  });
  await seedReporting(pg, {
    sales: seeded,
    loads: [
      { manifestKey: "manifests/old.json", loadedAt: new Date(Date.now() - 3_600_000), events: 3, newestEventAt: new Date(Date.now() - 3_700_000) },
      { manifestKey: "manifests/new.json", loadedAt: new Date(Date.now() - 30_000), events: 9, newestEventAt: new Date(Date.now() - 120_000) },
    ],
  });
}, 120_000);

afterAll(async () => {
  await api?.stop();
  await Promise.all([pg?.stop(), redis?.stop(), sqsServer?.stop()]);
});

describe("the client API's routes", () => {
  it("answers liveness and health with the database and the cache up", async () => {
    expect((await get("/livez")).status).toBe(200);
    expect(await json("/api/health")).toMatchObject({ status: 200, body: { status: "ok", database: "ok", cache: "ok" } });
  });

  it("lists the branches with the days they have", async () => {
    const { status, body } = await json("/api/branches");
    expect(status).toBe(200);
    expect(body).toEqual({ branches: [{ branch: "north", firstDay: "2026-11-01", lastDay: "2026-12-10" }, { branch: "south", firstDay: "2026-12-01", lastDay: "2026-12-02" }] });
  });

  it("serves the seeded days of a range, with a strong ETag, private caching, and 304 for the same bytes", async () => {
    const first = await json("/api/reports/north/daily-sales?from=2026-11-28&to=2026-12-02");
    expect(first.status).toBe(200);
    expect(first.body).toEqual({
      branch: "north",
      from: "2026-11-28",
      to: "2026-12-02",
      days: north.filter((row) => row.day >= "2026-11-28" && row.day <= "2026-12-02").map((row) => ({ day: row.day, orders: row.orders, revenue: row.revenue })),
      nextCursor: null,
    });
    expect(first.headers.get("cache-control")).toBe("private, max-age=60");
    const etag = first.headers.get("etag")!;
    expect(etag).toMatch(/^"[A-Za-z0-9_-]{32}"$/);
    const again = await json("/api/reports/north/daily-sales?from=2026-11-28&to=2026-12-02");
    expect(again.headers.get("x-cache")).toBe("hit");
    expect(again.headers.get("etag")).toBe(etag);
    const notModified = await get("/api/reports/north/daily-sales?from=2026-11-28&to=2026-12-02", { "if-none-match": `W/"other", ${etag}` });
    expect(notModified.status).toBe(304);
    expect(await notModified.text()).toBe("");
    expect(notModified.headers.get("etag")).toBe(etag);
  });

  it("pages through a range: every day exactly once, in order", async () => {
    const days: string[] = [];
    let cursor: string | null = null;
    let pages = 0;
    do {
      const query: string = `from=2026-11-01&to=2026-12-10&limit=7${cursor ? `&cursor=${cursor}` : ""}`;
      const { status, body } = await json(`/api/reports/north/daily-sales?${query}`);
      expect(status).toBe(200);
      expect(body.days.length).toBeLessThanOrEqual(7);
      days.push(...body.days.map((d: { day: string }) => d.day));
      cursor = body.nextCursor;
      pages += 1;
    } while (cursor !== null && pages < 20);
    expect(pages).toBe(6);
    expect(days).toEqual(north.map((row) => row.day));
  });

  it.each([
    ["a date that does not exist", "/api/reports/north/daily-sales?from=2026-02-30", /from must be a date YYYY-MM-DD/],
    ["from after to", "/api/reports/north/daily-sales?from=2026-12-05&to=2026-12-01", /must not be after to/],
    ["more than 92 days", "/api/reports/north/daily-sales?from=2026-01-01&to=2026-12-01", /at most 92 days/],
    ["a limit of 0", "/api/reports/north/daily-sales?limit=0", /limit must be a whole number from 1 to 100/],
    ["a limit that is not a number", "/api/reports/north/daily-sales?limit=ten", /limit must be a whole number/],
    ["a cursor this API never issued", "/api/reports/north/daily-sales?cursor=bm9wZQ", /cursor is not one this API issued/],
    ["a repeated parameter", "/api/reports/north/daily-sales?to=2026-12-01&to=2026-12-02", /to is given 2 times/],
    ["an unknown parameter", "/api/reports/north/daily-sales?branch=south", /unknown query parameter branch/],
    ["a branch with characters outside the pattern", "/api/reports/no%20rth/daily-sales", /branch must be 1-32 letters/],
  ])("refuses %s with a 400 that says what to change", async (_label, path, message) => {
    const { status, body, headers } = await json(path);
    expect(status).toBe(400);
    expect(body.error.code).toBe("BadRequest");
    expect(body.error.message).toMatch(message);
    expect(headers.get("cache-control")).toBe("no-store");
  });

  it("refuses a cursor carried over to another query", async () => {
    const { body } = await json("/api/reports/north/daily-sales?from=2026-11-01&to=2026-12-10&limit=3");
    const other = await json(`/api/reports/north/daily-sales?from=2026-11-02&to=2026-12-10&limit=3&cursor=${body.nextCursor}`);
    expect(other.status).toBe(400);
    expect(other.body.error.message).toMatch(/cursor belongs to another query/);
  });

  it("answers an unknown branch 404, an unknown path 404 and another method 405", async () => {
    const branch = await json("/api/reports/west/daily-sales");
    expect(branch).toMatchObject({ status: 404, body: { error: { code: "NotFound", message: expect.stringMatching(/no branch "west"/) } } });
    expect(await json("/api/reports")).toMatchObject({ status: 404, body: { error: { code: "NotFound" } } });
    const post = await fetch(`${api.url}/api/branches`, { method: "POST", body: "{}" });
    expect(post.status).toBe(405);
    expect(post.headers.get("allow")).toBe("GET");
    expect(((await post.json()) as { error: { code: string } }).error.code).toBe("MethodNotAllowed");
  });

  it("reports the last load, the lag behind the lake and the queue depths", async () => {
    const { status, body } = await json("/api/pipeline/health");
    expect(status).toBe(200);
    expect(body.lastManifest).toBe("manifests/new.json");
    expect(Date.parse(body.lastLoadAt)).toBeGreaterThan(Date.now() - 3_600_000);
    expect(body.lagSeconds).toBeGreaterThanOrEqual(120);
    expect(body.lagSeconds).toBeLessThan(3_600);
    expect(body.queues).toEqual([{ name: "aggregator-dlq", depth: 2 }, { name: "ingest-dlq", depth: 0 }]);
  });

  it("logs one JSON line per request with the route template, never the query or a credential", async () => {
    const lines = api.logs.map((line) => JSON.parse(line) as Record<string, unknown>).filter((entry) => entry.msg === "request");
    expect(lines.length).toBeGreaterThan(10);
    for (const line of lines) expect(Object.keys(line).sort()).toEqual(expect.arrayContaining(["level", "method", "ms", "requestId", "route", "status", "time"]));
    const text = api.logs.join("\n");
    expect(text).not.toContain(redis.password);
    expect(text).not.toContain("from=2026");
    expect(text).not.toMatch(/reader-\d+/);
  });
});

describe("the cache around the database", () => {
  it("answers from the database while Redis is down, and uses Redis again once it is back", async () => {
    await redis.stop();
    try {
      const down = await json("/api/reports/south/daily-sales?from=2026-12-01&to=2026-12-02");
      expect(down.status).toBe(200);
      expect(down.headers.get("x-cache")).toBe("bypass");
      expect(down.body.days).toEqual([{ day: "2026-12-01", orders: 5, revenue: "99.90" }, { day: "2026-12-02", orders: 5, revenue: "99.90" }]);
      expect((await json("/api/health")).body).toEqual({ status: "ok", database: "ok", cache: "degraded" });
    } finally {
      await redis.start();
    }
    let source: string | null = null;
    for (let attempt = 0; attempt < 40 && source !== "hit"; attempt++) {
      await sleep(250);
      source = (await get("/api/reports/south/daily-sales?from=2026-12-01&to=2026-12-02")).headers.get("x-cache");
    }
    expect(source).toBe("hit");
  });

  it("picks up a rotated AUTH token without a restart, degrading to the database meanwhile", async () => {
    const rotated = `rotated-${Date.now()}`;
    const admin = new Redis({ host: redis.host, port: redis.port, password: redis.password, lazyConnect: true });
    await admin.connect();
    try {
      // What a rotation looks like to a running task: the secret changes, Redis takes only the
      // new token, and the task's connection has to authenticate again (here: it is killed).
      api.rotateRedisToken(rotated);
      await admin.config("SET", "requirepass", rotated);
      await admin.client("KILL", "TYPE", "normal", "SKIPME", "yes");
    } finally {
      admin.disconnect();
    }
    const sources: (string | null)[] = [];
    for (let attempt = 0; attempt < 60 && sources[sources.length - 1] !== "hit"; attempt++) {
      const response = await get("/api/branches");
      expect(response.status).toBe(200);
      sources.push(response.headers.get("x-cache"));
      await sleep(250);
    }
    expect(sources[sources.length - 1]).toBe("hit");
    expect(sources.every((s) => s === "hit" || s === "miss" || s === "bypass")).toBe(true);
    expect(api.logs.some((line) => line.includes("Redis AUTH token changed; reconnected"))).toBe(true);
    expect(api.logs.join("\n")).not.toContain(rotated);
  }, 60_000);
});

describe("the database's bounds", () => {
  it("answers 503 within the statement timeout when a query is stuck, and serves again after", async () => {
    const locker = new Client(pg.config());
    await locker.connect();
    try {
      await locker.query("BEGIN");
      await locker.query("LOCK TABLE reporting.daily_branch_sales IN ACCESS EXCLUSIVE MODE");
      const stuck = await json("/api/reports/north/daily-sales?from=2026-11-03&to=2026-11-04");
      expect(stuck.status).toBe(503);
      expect(stuck.body.error).toEqual({ code: "Unavailable", message: "the reporting database did not answer in time; try again shortly" });
      expect(stuck.headers.get("retry-after")).toBe("5");
    } finally {
      await locker.query("ROLLBACK");
      await locker.end();
    }
    expect((await json("/api/reports/north/daily-sales?from=2026-11-03&to=2026-11-04")).status).toBe(200);
  });

  it("answers health and reports 503 when the database does not answer at all", async () => {
    const unreachable = await startLocalClientApi({ postgres: pg, redis: { ...redis, password: "unused" }, env: { DB_PORT: String(await freePort()) } });
    try {
      expect((await get("/api/health", {}, unreachable.url)).status).toBe(503);
      expect(await (await get("/api/health", {}, unreachable.url)).json()).toMatchObject({ status: "unavailable", database: "unavailable" });
      const report = await get("/api/reports/north/daily-sales", {}, unreachable.url);
      expect(report.status).toBe(503);
      expect(((await report.json()) as { error: { code: string } }).error.code).toBe("Unavailable");
    } finally {
      expect(await unreachable.stop()).toBe(0);
    }
  });
});

describe("SIGTERM", () => {
  it("finishes the request in flight, refuses new connections, and exits 0", async () => {
    const stopping = await startLocalClientApi({ postgres: pg, redis: { ...redis, password: "unused" }, env: { DB_STATEMENT_TIMEOUT_MS: "10000" } });
    const locker = new Client(pg.config());
    await locker.connect();
    try {
      await locker.query("BEGIN");
      await locker.query("LOCK TABLE reporting.manifest_loads IN ACCESS EXCLUSIVE MODE");
      const inFlight = get("/api/pipeline/health", {}, stopping.url);
      // Until the request shows up as blocked in pg_stat_activity, the signal could arrive first.
      for (let i = 0; i < 100; i++) {
        const { rows } = await locker.query("SELECT count(*)::int AS n FROM pg_stat_activity WHERE application_name = 'client-api' AND wait_event_type = 'Lock'");
        if (rows[0].n > 0) break;
        await sleep(50);
      }
      const exited = stopping.stop("SIGTERM");
      await sleep(300);
      await expect(fetch(`${stopping.url}/livez`)).rejects.toThrow();
      await locker.query("ROLLBACK");
      const response = await inFlight;
      expect(response.status).toBe(200);
      expect(((await response.json()) as { lastManifest: string }).lastManifest).toBe("manifests/new.json");
      expect(await exited).toBe(0);
      expect(stopping.logs.some((line) => line.includes('"msg":"Stopping"') && line.includes('"inFlight":1'))).toBe(true);
    } finally {
      await locker.end().catch(() => undefined);
      await stopping.stop();
    }
  }, 60_000);
});
