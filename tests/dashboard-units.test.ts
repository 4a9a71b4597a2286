/**
 * The dashboard's pure modules under Node: dates and ranges, money and durations, config.json,
 * the API client's error sentences (against a real local HTTP server, through Node's fetch),
 * the PKCE sign-in (Node's WebCrypto, a real local token server), the build's cache key, and
 * the local static server's path guard.
 */
import * as fs from "fs";
import * as http from "http";
import type * as net from "net";
import * as os from "os";
import * as path from "path";
import { webcrypto } from "crypto";
import { ApiError, createApiClient, errorFromResponse } from "../services/dashboard/src/api";
import { authorizeUrl, base64Url, challengeFor, parseTokenResponse, readCallback, readToken, signIn, StorageLike } from "../services/dashboard/src/auth";
import { parseConfig } from "../services/dashboard/src/config";
import { addDays, checkRange, daysBetween, defaultRange, parseDay } from "../services/dashboard/src/dates";
import { formatCents, formatDuration, formatRevenue, formatTimestamp, sumRevenue, toCents } from "../services/dashboard/src/format";
import { buildCacheKey, buildDashboardFrom, contentTypeFor, currentCacheKey, DASHBOARD_SOURCE_DIR, VITE_BUILD_OPTIONS } from "../scripts/dashboard-build";
import { parseDashboardLocalArgs } from "../scripts/dashboard-local";
import { resolveSitePath } from "../local/dashboard-server";
import { centsToDecimal, DASHBOARD_SAMPLE_BRANCHES, sampleDailySales } from "../local/dashboard-sample";

describe("dates", () => {
  it("accepts real calendar days only", () => {
    expect(parseDay("2026-12-02")).toBe(Date.UTC(2026, 11, 2));
    expect(parseDay("2028-02-29")).toBe(Date.UTC(2028, 1, 29));
    for (const bad of ["2026-02-30", "2026-13-01", "2026-1-01", "02/12/2026", "", "2026-12-02T00:00:00Z"]) expect(parseDay(bad)).toBeUndefined();
  });

  it("counts ranges inclusively and moves across month and year ends", () => {
    expect(daysBetween("2026-11-30", "2026-12-02")).toBe(3);
    expect(addDays("2026-12-31", 1)).toBe("2027-01-01");
    expect(addDays("2026-03-01", -1)).toBe("2026-02-28");
    expect(() => addDays("nope", 1)).toThrow('"nope" is not a date');
  });

  it("explains a range the API would refuse, naming the field", () => {
    expect(checkRange("2026-11-30", "2026-12-02")).toEqual({ ok: true, from: "2026-11-30", to: "2026-12-02" });
    expect(checkRange("", "2026-12-02")).toEqual({ ok: false, field: "from", message: "Choose a start date." });
    expect(checkRange("2026-12-02", "2026-11-30")).toEqual({ ok: false, field: "to", message: "The end date 2026-11-30 is before the start date 2026-12-02." });
    expect(checkRange("2026-02-30", "2026-03-02")).toMatchObject({ ok: false, field: "from" });
    // 92 days is the most the API serves (services-contract.md); 93 is refused before any call.
    expect(checkRange("2026-09-01", "2026-12-01")).toMatchObject({ ok: true });
    expect(checkRange("2026-09-01", "2026-12-02")).toEqual({ ok: false, field: "to", message: "The range 2026-09-01 to 2026-12-02 is 93 days; at most 92 days can be shown at once." });
  });

  it("opens a branch on its own last week of data", () => {
    expect(defaultRange({ firstDay: "2026-11-30", lastDay: "2026-12-02" }, "2026-12-20")).toEqual({ from: "2026-11-30", to: "2026-12-02" });
    expect(defaultRange({ firstDay: "2026-01-01", lastDay: "2026-12-02" }, "2026-12-20")).toEqual({ from: "2026-11-26", to: "2026-12-02" });
    expect(defaultRange({ firstDay: null, lastDay: null }, "2026-12-20")).toEqual({ from: "2026-12-14", to: "2026-12-20" });
  });
});

describe("format", () => {
  it("keeps revenue exact in cents", () => {
    expect(toCents("1234.5")).toBe(123450n);
    expect(toCents("-0.07")).toBe(-7n);
    expect(formatRevenue("1234567.8")).toBe("1,234,567.80");
    expect(formatCents(5n)).toBe("0.05");
    // Floats would give 0.30000000000000004 here.
    expect(sumRevenue(["0.10", "0.20"])).toBe("0.30");
    expect(sumRevenue([])).toBe("0.00");
    for (const bad of ["12.345", "1e3", "", "12,50", " 1"]) expect(() => toCents(bad)).toThrow("is not an amount");
  });

  it("writes lags and times as people read them", () => {
    expect(formatDuration(42.4)).toBe("42 s");
    expect(formatDuration(200)).toBe("3 min 20 s");
    expect(formatDuration(7500)).toBe("2 h 5 min");
    expect(formatDuration(3600)).toBe("1 h");
    expect(formatDuration(273_600)).toBe("3 d 4 h");
    expect(formatDuration(-5)).toBe("0 s");
    expect(formatTimestamp("2026-12-02T10:15:00.000Z")).toBe("2026-12-02 10:15:00 UTC");
    expect(formatTimestamp("not a time")).toBe("not a time");
  });
});

describe("config.json", () => {
  const auth = { issuer: "https://auth.example.com", clientId: "abc", scopes: ["reports/read"], authorizeUrl: "https://auth.example.com/oauth2/authorize", tokenUrl: "https://auth.example.com/oauth2/token" };

  it("reads both shapes of the contract", () => {
    expect(parseConfig({ apiBase: "/api", auth: null })).toEqual({ apiBase: "/api", auth: null });
    expect(parseConfig({ apiBase: "/api/", auth })).toEqual({ apiBase: "/api", auth });
  });

  it("names what is wrong", () => {
    expect(() => parseConfig([])).toThrow("config.json must be a JSON object");
    expect(() => parseConfig({ apiBase: "https://api.example.com", auth: null })).toThrow('apiBase must be a path on this site such as "/api", not "https://api.example.com"');
    expect(() => parseConfig({ apiBase: "//evil.example.com", auth: null })).toThrow("apiBase must be a path on this site");
    expect(() => parseConfig({ apiBase: "/api", auth: { ...auth, tokenUrl: "http://auth.example.com/token" } })).toThrow('auth.tokenUrl must be an https URL, not "http://auth.example.com/token"');
    expect(() => parseConfig({ apiBase: "/api", auth: { ...auth, scopes: ["reports read"] } })).toThrow("auth.scopes must be a list of scope names without spaces");
  });
});

/** A real HTTP server answering each path with a fixed status and body. */
async function serve(routes: Record<string, { status: number; body: string; type?: string }>, seen: http.IncomingMessage[] = []): Promise<{ url: string; close(): Promise<void> }> {
  const server = http.createServer((request, response) => {
    seen.push(request);
    const route = routes[new URL(request.url!, "http://x").pathname];
    if (route === undefined) {
      response.writeHead(404, { "content-type": "application/json" });
      return void response.end(JSON.stringify({ error: { code: "NotFound", message: `No route ${request.url}` } }));
    }
    response.writeHead(route.status, { "content-type": route.type ?? "application/json" });
    response.end(route.body);
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as net.AddressInfo;
  return { url: `http://127.0.0.1:${port}`, close: () => new Promise((resolve) => server.close(() => resolve())) };
}

describe("API client errors", () => {
  it("turns every error shape into a sentence", () => {
    expect(errorFromResponse(404, JSON.stringify({ error: { code: "NotFound", message: "No branch named atlantis." } }))).toMatchObject({ message: "No branch named atlantis.", status: 404, code: "NotFound" });
    // API Gateway's own answers: {"message": "Unauthorized"}, {"message": "Too Many Requests"}.
    expect(errorFromResponse(401, '{"message":"Unauthorized"}')).toMatchObject({ message: 'The API gateway answered "Unauthorized" (HTTP 401).', code: "Unauthorized" });
    expect(errorFromResponse(429, '{"message":"Too Many Requests"}')).toMatchObject({ message: 'The API gateway answered "Too Many Requests" (HTTP 429).', code: "Unexpected" });
    expect(errorFromResponse(502, "<html>Bad gateway</html>")).toMatchObject({ message: "The API answered HTTP 502 without an error message.", status: 502 });
    expect(errorFromResponse(500, JSON.stringify({ error: { message: "" } })).message).toBe("The API answered HTTP 500 without an error message.");
  });

  it("calls the contract's paths with a bearer token and follows cursors", async () => {
    const seen: http.IncomingMessage[] = [];
    const server = await serve(
      {
        "/api/branches": { status: 200, body: JSON.stringify({ branches: [{ branch: "north", firstDay: "2026-11-30", lastDay: "2026-12-02" }] }) },
        "/api/reports/north%20east/daily-sales": { status: 200, body: "" },
        "/api/pipeline/health": { status: 200, body: JSON.stringify({ lastLoadAt: null, lastManifest: null, lagSeconds: null, queues: [{ name: "aggregator-dlq", depth: 2 }] }) },
      },
      seen,
    );
    try {
      const api = createApiClient({ apiBase: `${server.url}/api`, fetch: (url, init) => fetch(url, init), token: () => "t0k3n" });
      expect(await api.branches()).toEqual([{ branch: "north", firstDay: "2026-11-30", lastDay: "2026-12-02" }]);
      expect(seen[0].headers.authorization).toBe("Bearer t0k3n");
      expect(await api.pipelineHealth()).toEqual({ lastLoadAt: null, lastManifest: null, lagSeconds: null, queues: [{ name: "aggregator-dlq", depth: 2 }] });
      await expect(api.dailySales("north east", "2026-11-30", "2026-12-02")).rejects.toThrow("The API answered HTTP 200 with a body that is not JSON.");
      expect(seen[2].url).toBe("/api/reports/north%20east/daily-sales?from=2026-11-30&to=2026-12-02&limit=100");
    } finally {
      await server.close();
    }
  });

  it("joins the pages of a report", async () => {
    const pages: Record<string, unknown> = {
      "": { days: [{ day: "2026-11-30", orders: 1, revenue: "1.00" }], nextCursor: "p2" },
      p2: { days: [{ day: "2026-12-01", orders: 2, revenue: "2.00" }], nextCursor: null },
    };
    const server = http.createServer((request, response) => {
      const cursor = new URL(request.url!, "http://x").searchParams.get("cursor") ?? "";
      response.writeHead(200, { "content-type": "application/json" });
      response.end(JSON.stringify({ branch: "north", from: "2026-11-30", to: "2026-12-01", ...(pages[cursor] as object) }));
    });
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    try {
      const api = createApiClient({ apiBase: `http://127.0.0.1:${(server.address() as net.AddressInfo).port}/api`, fetch: (url, init) => fetch(url, init), token: () => undefined });
      expect((await api.dailySales("north", "2026-11-30", "2026-12-01")).days.map((day) => day.day)).toEqual(["2026-11-30", "2026-12-01"]);
    } finally {
      await new Promise((resolve) => server.close(resolve));
    }
  });

  it("passes the API's message through and says when nothing answers", async () => {
    const server = await serve({ "/api/branches": { status: 503, body: JSON.stringify({ error: { code: "Unavailable", message: "The reporting database is not answering." } }) } });
    const api = createApiClient({ apiBase: `${server.url}/api`, fetch: (url, init) => fetch(url, init), token: () => undefined });
    try {
      await expect(api.branches()).rejects.toMatchObject({ message: "The reporting database is not answering.", status: 503, code: "Unavailable" });
      await expect(api.dailySales("atlantis", "2026-11-30", "2026-12-02")).rejects.toMatchObject({ status: 404, code: "NotFound" });
    } finally {
      await server.close();
    }
    const error: ApiError = await api.branches().then(() => { throw new Error("answered after close"); }, (e: ApiError) => e);
    expect(error).toMatchObject({ status: 0, code: "Network" });
    expect(error.message).toMatch(/^The API could not be reached \(.+\)\. Check the connection and try again\.$/);
  });
});

class MemoryStorage implements StorageLike {
  readonly items = new Map<string, string>();
  getItem(key: string) { return this.items.get(key) ?? null; }
  setItem(key: string, value: string) { this.items.set(key, value); }
  removeItem(key: string) { this.items.delete(key); }
}

describe("sign-in (authorization code + PKCE)", () => {
  const crypto = webcrypto as unknown as Parameters<typeof challengeFor>[1];

  it("derives the RFC 7636 appendix B challenge", async () => {
    expect(await challengeFor("dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk", crypto)).toBe("E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM");
    expect(base64Url(new Uint8Array([251, 255]))).toBe("-_8");
  });

  it("refuses a redirect it did not start and explains a refused sign-in", () => {
    expect(readCallback("", "s")).toEqual({ kind: "none" });
    expect(readCallback("?code=c&state=other", "s")).toMatchObject({ kind: "error", message: expect.stringContaining("does not match a sign-in started in this tab") });
    expect(readCallback("?error=access_denied&error_description=User+said+no&state=s", "s")).toEqual({ kind: "error", message: "Sign-in failed: User said no." });
    expect(() => parseTokenResponse(400, '{"error":"invalid_grant"}', 0)).toThrow("The sign-in server refused the code: invalid_grant.");
    expect(() => parseTokenResponse(200, '{"access_token":"a","token_type":"mac"}', 0)).toThrow('a token of type "mac", not Bearer');
  });

  it("redirects, exchanges the code with the verifier, and keeps the token for the tab", async () => {
    const auth = { issuer: "https://auth.example.com", clientId: "dash", scopes: ["reports/read"], authorizeUrl: "https://auth.example.com/oauth2/authorize", tokenUrl: "" };
    const bodies: string[] = [];
    const tokenServer = http.createServer((request, response) => {
      let body = "";
      request.on("data", (chunk) => (body += chunk));
      request.on("end", () => {
        bodies.push(body);
        response.writeHead(200, { "content-type": "application/json" });
        response.end(JSON.stringify({ access_token: "at-1", token_type: "Bearer", expires_in: 3600 }));
      });
    });
    await new Promise<void>((resolve) => tokenServer.listen(0, "127.0.0.1", resolve));
    const tokenUrl = `http://127.0.0.1:${(tokenServer.address() as net.AddressInfo).port}/oauth2/token`;
    const storage = new MemoryStorage();
    let navigatedTo = "";
    const side = (search: string) => ({
      storage, crypto, search, redirectUri: "https://dash.example.com/", now: () => 1_000_000,
      fetch: (url: string, init: { method: "POST"; headers: Record<string, string>; body: string }) => fetch(url, init),
      navigate: (url: string) => void (navigatedTo = url), clearCallback: () => undefined,
    });
    try {
      expect(await signIn({ ...auth, tokenUrl }, side(""))).toEqual({ kind: "redirecting" });
      const sent = new URL(navigatedTo);
      expect(sent.searchParams.get("code_challenge_method")).toBe("S256");
      const { verifier, state } = JSON.parse(storage.getItem("dashboard.pendingLogin")!);
      expect(sent.searchParams.get("code_challenge")).toBe(await challengeFor(verifier, crypto));
      expect(authorizeUrl(auth, { redirectUri: "https://dash.example.com/", state, challenge: "c" })).toContain("scope=reports%2Fread");

      expect(await signIn({ ...auth, tokenUrl }, side(`?code=the-code&state=${state}`))).toEqual({ kind: "token", token: "at-1" });
      expect(Object.fromEntries(new URLSearchParams(bodies[0]))).toEqual({ grant_type: "authorization_code", code: "the-code", redirect_uri: "https://dash.example.com/", client_id: "dash", code_verifier: verifier });
      expect(readToken(storage, 1_000_000)).toBe("at-1");
      // Not sent in its last 30 seconds.
      expect(readToken(storage, 1_000_000 + 3_600_000 - 20_000)).toBeUndefined();
    } finally {
      await new Promise((resolve) => tokenServer.close(resolve));
    }
  });
});

describe("dashboard build cache key", () => {
  const sources = [{ path: "index.html", sha256: "a" }, { path: "src/main.ts", sha256: "b" }];
  const versions = { vite: "8.4.0", uplot: "1.6.32" };

  it("depends on sources, versions and recipe, not on their order", () => {
    const key = buildCacheKey({ sources, versions, recipe: VITE_BUILD_OPTIONS });
    expect(key).toMatch(/^[0-9a-f]{24}$/);
    expect(buildCacheKey({ sources: [...sources].reverse(), versions: { uplot: "1.6.32", vite: "8.4.0" }, recipe: VITE_BUILD_OPTIONS })).toBe(key);
    expect(buildCacheKey({ sources: [sources[0], { path: "src/main.ts", sha256: "c" }], versions, recipe: VITE_BUILD_OPTIONS })).not.toBe(key);
    expect(buildCacheKey({ sources: [sources[0], { path: "src/other.ts", sha256: "b" }], versions, recipe: VITE_BUILD_OPTIONS })).not.toBe(key);
    expect(buildCacheKey({ sources, versions: { ...versions, vite: "8.4.1" }, recipe: VITE_BUILD_OPTIONS })).not.toBe(key);
    expect(buildCacheKey({ sources, versions, recipe: { ...VITE_BUILD_OPTIONS, base: "/x/" } })).not.toBe(key);
  });

  it("changes when a source file changes or appears", () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "dashboard-key-"));
    try {
      fs.mkdirSync(path.join(dir, "src"));
      fs.writeFileSync(path.join(dir, "index.html"), "<!doctype html>");
      fs.writeFileSync(path.join(dir, "src", "main.ts"), "console.log(1);");
      const first = currentCacheKey(dir);
      expect(currentCacheKey(dir)).toBe(first);
      fs.writeFileSync(path.join(dir, "src", "main.ts"), "console.log(2);");
      const second = currentCacheKey(dir);
      expect(second).not.toBe(first);
      fs.writeFileSync(path.join(dir, "src", "extra.css"), "");
      expect(currentCacheKey(dir)).not.toBe(second);
      // A stray local build output is not a source.
      const third = currentCacheKey(dir);
      fs.mkdirSync(path.join(dir, "dist"));
      fs.writeFileSync(path.join(dir, "dist", "index.html"), "built");
      expect(currentCacheKey(dir)).toBe(third);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  it("names content types CloudFront must send", () => {
    expect(contentTypeFor("assets/index-abc.js")).toBe("text/javascript; charset=utf-8");
    expect(contentTypeFor("index.html")).toBe("text/html; charset=utf-8");
    expect(contentTypeFor("assets/x.CSS")).toBe("text/css; charset=utf-8");
    expect(contentTypeFor("blob")).toBe("application/octet-stream");
  });
});

describe("the dashboard build", () => {
  let work: string;
  beforeAll(() => {
    // Inside the checkout, so vite resolves uplot from its node_modules as it does for the real sources.
    fs.mkdirSync(path.join(__dirname, "..", ".cache"), { recursive: true });
    work = fs.mkdtempSync(path.join(__dirname, "..", ".cache", "dashboard-test-"));
    fs.cpSync(DASHBOARD_SOURCE_DIR, path.join(work, "src"), { recursive: true });
  });
  afterAll(() => fs.rmSync(work, { recursive: true, force: true }));

  it("builds the site without config.json or inline script, then answers from the cache until a source changes", async () => {
    const sourceDir = path.join(work, "src");
    const cacheDir = path.join(work, "cache");
    const build = await buildDashboardFrom(sourceDir, cacheDir);
    expect(build.dir).toBe(path.join(cacheDir, currentCacheKey(sourceDir), "site"));
    const names = build.files.map((file) => file.path);
    expect(names).toContain("index.html");
    expect(names.some((name) => /^assets\/index-[\w-]+\.js$/.test(name))).toBe(true);
    expect(names.some((name) => /^assets\/index-[\w-]+\.css$/.test(name))).toBe(true);
    expect(names).not.toContain("config.json");
    for (const file of build.files) {
      const bytes = fs.readFileSync(path.join(build.dir, file.path));
      expect(file).toEqual({ path: file.path, contentType: contentTypeFor(file.path), bytes: bytes.length, sha256: require("crypto").createHash("sha256").update(bytes).digest("hex") });
    }
    // CloudFront's CSP is script-src 'self': every script is a file of the build.
    const html = fs.readFileSync(path.join(build.dir, "index.html"), "utf8");
    const scripts = [...html.matchAll(/<script\b([^>]*)>([\s\S]*?)<\/script>/g)];
    expect(scripts.length).toBeGreaterThan(0);
    for (const [, attributes, body] of scripts) {
      expect(body.trim()).toBe("");
      expect(names).toContain(/src="\/([^"]+)"/.exec(attributes)![1]);
    }

    const keyDir = path.dirname(build.dir);
    const inode = fs.statSync(keyDir).ino;
    expect(await buildDashboardFrom(sourceDir, cacheDir)).toEqual(build);
    expect(fs.statSync(keyDir).ino).toBe(inode);
    expect(fs.readdirSync(cacheDir).filter((name) => name.startsWith("tmp-"))).toEqual([]);

    fs.appendFileSync(path.join(sourceDir, "src", "styles.css"), "\n.changed { color: red; }\n");
    const changed = await buildDashboardFrom(sourceDir, cacheDir);
    expect(changed.dir).not.toBe(build.dir);
    expect(changed.files.find((file) => file.path.endsWith(".css"))!.sha256).not.toBe(build.files.find((file) => file.path.endsWith(".css"))!.sha256);
    // The earlier build stays (a branch switch back is cached too).
    expect(fs.existsSync(build.dir)).toBe(true);
  }, 60_000);

  it("names the failure when vite fails", async () => {
    const broken = path.join(work, "broken");
    fs.cpSync(path.join(work, "src"), broken, { recursive: true });
    fs.writeFileSync(path.join(broken, "src", "main.ts"), 'import "./does-not-exist";\n');
    await expect(buildDashboardFrom(broken, path.join(work, "cache"))).rejects.toThrow(/^The dashboard's vite build failed \(exit 1\):[\s\S]*does-not-exist/);
    expect(fs.readdirSync(path.join(work, "cache")).filter((name) => name.startsWith("tmp-"))).toEqual([]);
  }, 60_000);
});

describe("dashboard:local", () => {
  it("seeds the same realistic numbers every run", () => {
    const rows = sampleDailySales("2026-12-02", 28);
    expect(rows).toEqual(sampleDailySales("2026-12-02", 28));
    expect(rows).toHaveLength(28 * Object.keys(DASHBOARD_SAMPLE_BRANCHES).length);
    expect(rows.filter((row) => row.branch === "north").map((row) => row.day).slice(-2)).toEqual(["2026-12-01", "2026-12-02"]);
    for (const row of rows) {
      expect(row.revenue).toMatch(/^\d+\.\d{2}$/);
      const basket = Number(row.revenue) / row.orders;
      const usual = DASHBOARD_SAMPLE_BRANCHES[row.branch].basketCents / 100;
      expect(basket).toBeGreaterThan(usual * 0.6);
      expect(basket).toBeLessThan(usual * 1.4);
    }
    const north = rows.filter((row) => row.branch === "north").reduce((sum, row) => sum + row.orders, 0);
    const west = rows.filter((row) => row.branch === "west").reduce((sum, row) => sum + row.orders, 0);
    expect(north).toBeGreaterThan(west * 2);
    expect(centsToDecimal(123405)).toBe("1234.05");
    expect(() => sampleDailySales("02/12/2026", 1)).toThrow('lastDay must be YYYY-MM-DD, not "02/12/2026"');
  });

  it("takes --port and --days and refuses anything else by name", () => {
    expect(parseDashboardLocalArgs([])).toEqual({ port: 0, days: 28 });
    expect(parseDashboardLocalArgs(["--port", "5173", "--days", "7"])).toEqual({ port: 5173, days: 7 });
    expect(() => parseDashboardLocalArgs(["--days", "0"])).toThrow('--days needs a whole number from 1 to 366, not "0"');
    expect(() => parseDashboardLocalArgs(["--port", "x"])).toThrow('--port needs a port number from 0 to 65535, not "x"');
    expect(() => parseDashboardLocalArgs(["--keep"])).toThrow('Unknown argument "--keep"');
  });
});

describe("local dashboard server paths", () => {
  it("serves only files inside the build", () => {
    expect(resolveSitePath("/site", "/")).toBe(path.resolve("/site/index.html"));
    expect(resolveSitePath("/site", "/assets/index-1.js")).toBe(path.resolve("/site/assets/index-1.js"));
    expect(resolveSitePath("/site", "/../etc/passwd")).toBeUndefined();
    expect(resolveSitePath("/site", "/%2e%2e/etc/passwd")).toBeUndefined();
    expect(resolveSitePath("/site", "/%E0%A4%A")).toBeUndefined();
  });
});
