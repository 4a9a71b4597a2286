/**
 * The client API's pure modules: request parsing and cursors, ETag matching, the error
 * classification behind 503s and token refreshes, and the environment it starts from.
 */
import { etagOf, matchesEtag } from "../services/client-api/src/app";
import { isAuthFailure } from "../services/client-api/src/cache";
import { isUnavailable, readerPoolConfig } from "../services/client-api/src/database";
import { lagSeconds } from "../services/client-api/src/reports";
import { DEFAULT_PAGE_DAYS, encodeCursor, parseDailySalesPage } from "../services/client-api/src/requests";
import { clientApiSettings, parsePipelineQueues } from "../services/client-api/src/settings";

const NOW = new Date("2026-12-02T10:00:00Z");
const query = (text: string) => new URLSearchParams(text);

describe("daily-sales requests", () => {
  it("defaults to the last 7 days and a month-long page", () => {
    expect(parseDailySalesPage("north", query(""), NOW)).toEqual({ branch: "north", from: "2026-11-26", to: "2026-12-02", limit: DEFAULT_PAGE_DAYS });
  });

  it("reads a cursor back only for the query that issued it", () => {
    const first = parseDailySalesPage("north", query("from=2026-11-01&to=2026-11-30&limit=5"), NOW);
    const cursor = encodeCursor(first, "2026-11-05");
    expect(parseDailySalesPage("north", query(`from=2026-11-01&to=2026-11-30&limit=5&cursor=${cursor}`), NOW).after).toBe("2026-11-05");
    expect(() => parseDailySalesPage("south", query(`from=2026-11-01&to=2026-11-30&cursor=${cursor}`), NOW)).toThrow(/another query/);
    expect(() => parseDailySalesPage("north", query("cursor=!!"), NOW)).toThrow(/not one this API issued/);
    const outside = encodeCursor(first, "2026-12-15");
    expect(() => parseDailySalesPage("north", query(`from=2026-11-01&to=2026-11-30&cursor=${outside}`), NOW)).toThrow(/not one this API issued/);
  });

  it.each([["limit=101"], ["limit=1.5"], ["limit=-1"], ["limit="]])("refuses %s", (text) => {
    expect(() => parseDailySalesPage("north", query(text), NOW)).toThrow(/limit must be a whole number from 1 to 100/);
  });
});

describe("ETags", () => {
  it("are strong, stable for the same bytes and different for others", () => {
    expect(etagOf("{}")).toBe(etagOf("{}"));
    expect(etagOf("{}")).not.toBe(etagOf("{ }"));
    expect(etagOf("{}")).toMatch(/^"[^"]+"$/);
  });

  it("match If-None-Match lists, weak forms and *", () => {
    const tag = etagOf("x");
    expect(matchesEtag(`"a", ${tag}`, tag)).toBe(true);
    expect(matchesEtag(`W/${tag}`, tag)).toBe(true);
    expect(matchesEtag("*", tag)).toBe(true);
    expect(matchesEtag('"a"', tag)).toBe(false);
    expect(matchesEtag(undefined, tag)).toBe(false);
  });
});

describe("error classification", () => {
  it("treats timeouts, refused connections and shutdowns as unavailable, not as bugs", () => {
    const coded = (code: string) => Object.assign(new Error("x"), { code });
    for (const code of ["57014", "57P01", "08006", "53300", "ECONNREFUSED"]) expect(isUnavailable(coded(code))).toBe(true);
    expect(isUnavailable(new Error("Query read timeout"))).toBe(true);
    expect(isUnavailable(coded("42P01"))).toBe(false); // undefined table: a bug, a 500
    expect(isUnavailable(new Error("boom"))).toBe(false);
  });

  it("knows Redis's answers to a wrong or missing token", () => {
    expect(isAuthFailure(new Error("WRONGPASS invalid username-password pair or user is disabled."))).toBe(true);
    expect(isAuthFailure(new Error("NOAUTH Authentication required."))).toBe(true);
    expect(isAuthFailure(new Error("Connection is closed."))).toBe(false);
  });
});

describe("settings", () => {
  const base = { DB_HOST: "db", DB_NAME: "platform", DB_USER: "reporting_reader", REDIS_HOST: "cache", AWS_REGION: "eu-west-1" };

  it("defaults to IAM database auth, TLS everywhere and the contract's timeouts", () => {
    const settings = clientApiSettings(base);
    expect(settings.database).toMatchObject({ port: 5432, tls: true, statementTimeoutMs: 3000, auth: { kind: "iam", region: "eu-west-1" } });
    expect(settings.redis).toMatchObject({ port: 6379, tls: true, auth: { kind: "none" } });
    expect(settings.cacheTtlSeconds).toBe(300);
    expect(clientApiSettings({ ...base, REDIS_AUTH_SECRET_ARN: "arn:aws:secretsmanager:eu-west-1:1:secret:t" }).redis.auth).toEqual({ kind: "secret", secretArn: "arn:aws:secretsmanager:eu-west-1:1:secret:t" });
  });

  it("names the variable that is missing or malformed", () => {
    expect(() => clientApiSettings({ ...base, DB_HOST: undefined })).toThrow("DB_HOST is not set");
    expect(() => clientApiSettings({ ...base, DB_STATEMENT_TIMEOUT_MS: "5s" })).toThrow(/DB_STATEMENT_TIMEOUT_MS must be a whole number/);
    expect(() => clientApiSettings({ ...base, DB_AUTH: "plain" })).toThrow(/DB_AUTH must be "iam" or "password-file"/);
    expect(() => parsePipelineQueues("{")).toThrow(/PIPELINE_QUEUES must be JSON/);
    expect(() => parsePipelineQueues('[{"name":"dlq"}]')).toThrow(/PIPELINE_QUEUES\[0\] needs/);
  });

  it("makes a password per connection and bounds each query on both sides", async () => {
    const config = readerPoolConfig(clientApiSettings(base).database, async () => "token-1", () => "CA");
    expect(config.ssl).toEqual({ rejectUnauthorized: true, ca: "CA" });
    expect(await (config.password as () => Promise<string>)()).toBe("token-1");
    expect(config.statement_timeout).toBe(3000);
    expect(config.query_timeout).toBeGreaterThan(3000);
  });
});

describe("lag", () => {
  it("is the age of the newest event of the last load, or null before any", () => {
    expect(lagSeconds({ lastLoadAt: null, lastManifest: null, newestEventAt: null }, NOW)).toBeNull();
    expect(lagSeconds({ lastLoadAt: "x", lastManifest: "m", newestEventAt: "2026-12-02T09:58:00Z" }, NOW)).toBe(120);
  });
});

describe("credential sources", () => {
  it("reads the Redis token from Secrets Manager on every call, raw or as JSON", async () => {
    const { mockClient } = await import("aws-sdk-client-mock");
    const { GetSecretValueCommand, SecretsManagerClient } = await import("@aws-sdk/client-secrets-manager");
    const { redisTokenSource, tokenOfSecret } = await import("../services/client-api/src/credentials");
    const client = new SecretsManagerClient({ region: "eu-west-1" });
    const secrets = mockClient(client);
    secrets.on(GetSecretValueCommand, { SecretId: "arn:token" }).resolvesOnce({ SecretString: "first" }).resolvesOnce({ SecretString: '{"token":"rotated"}' });
    const read = redisTokenSource({ kind: "secret", secretArn: "arn:token" }, () => client);
    expect(await read()).toBe("first");
    expect(await read()).toBe("rotated"); // a rotation is seen by the next read, no restart
    expect(secrets.commandCalls(GetSecretValueCommand)).toHaveLength(2);
    expect(() => tokenOfSecret("")).toThrow(/no string value/);
    expect(() => tokenOfSecret('{"user":"x"}')).toThrow(/without a "token" or "password"/);
  });

  it("makes a new IAM token for each connection", async () => {
    const { passwordSource } = await import("../services/client-api/src/credentials");
    let made = 0;
    const source = passwordSource({ kind: "iam", region: "eu-west-1" }, () => ({ getAuthToken: async () => `token-${++made}` }));
    expect([await source(), await source()]).toEqual(["token-1", "token-2"]);
  });
});
