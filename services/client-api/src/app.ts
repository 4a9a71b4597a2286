/**
 * The client API's routes (the HTTP contract in the services notes), as a function from a
 * request to a response with every store injected, so the same code runs under the HTTP
 * server, in unit tests and in the local run. Errors are JSON
 * `{"error":{"code","message"}}`: 400 for what the caller can fix, 404 for an unknown path or
 * branch, 405 for another method, 503 when the database does not answer, 500 otherwise
 * (the message then names only the request id; the details go to the log).
 */
import { createHash } from "crypto";
import { isBadRequest } from "../../../functions/reporting-api";
import type { Logger } from "../../shared/log";
import { errorFields } from "../../shared/log";
import type { RotatingCache } from "./cache";
import { isUnavailable } from "./database";
import { Queryable, dailySalesPage, lagSeconds, lastLoad, listBranches } from "./reports";
import { parseDailySalesPage } from "./requests";

export const LIVENESS_PATH = "/livez";
/** Reports may be cached by the caller's browser for a minute, never by a shared cache (they are per user). */
export const REPORT_CACHE_CONTROL = "private, max-age=60";

export interface ApiRequest {
  readonly method: string;
  /** Path and query, as the request line has it ("/api/branches?x=1"). */
  readonly url: string;
  readonly headers: Readonly<Record<string, string | string[] | undefined>>;
  readonly requestId: string;
}

export interface ApiResponse {
  readonly status: number;
  readonly headers: Record<string, string>;
  readonly body: string;
  /** Where a report came from (hit, miss, bypass), for the log and the X-Cache header. */
  readonly cache?: string;
  /** The route template, for the log (never the raw path, which carries the branch). */
  readonly route: string;
}

export interface QueueDepthReader {
  (queueUrl: string): Promise<number>;
}

export interface ApiDependencies {
  readonly db: Queryable;
  readonly cache: RotatingCache;
  readonly queueDepth: QueueDepthReader;
  readonly pipelineQueues: readonly { name: string; url: string }[];
  readonly cacheTtlSeconds: number;
  readonly log: Logger;
  /** @default () => new Date() */
  readonly now?: () => Date;
}

type ErrorCode = "BadRequest" | "NotFound" | "MethodNotAllowed" | "Unavailable" | "Internal";
const STATUS: Record<ErrorCode, number> = { BadRequest: 400, NotFound: 404, MethodNotAllowed: 405, Unavailable: 503, Internal: 500 };

const JSON_TYPE = { "content-type": "application/json; charset=utf-8" };

function errorResponse(code: ErrorCode, message: string, route: string, headers: Record<string, string> = {}): ApiResponse {
  return { status: STATUS[code], headers: { ...JSON_TYPE, "cache-control": "no-store", ...headers }, body: JSON.stringify({ error: { code, message } }), route };
}

/** A strong validator of the exact bytes sent. */
export function etagOf(body: string): string {
  return `"${createHash("sha256").update(body).digest("base64url").slice(0, 32)}"`;
}

/** If-None-Match matches (weak comparison, as RFC 9110 asks for this header). */
export function matchesEtag(ifNoneMatch: string | string[] | undefined, etag: string): boolean {
  if (ifNoneMatch === undefined) return false;
  const tags = (Array.isArray(ifNoneMatch) ? ifNoneMatch.join(",") : ifNoneMatch).split(",").map((tag) => tag.trim().replace(/^W\//, ""));
  return tags.includes("*") || tags.includes(etag);
}

/** A report: JSON with ETag and Cache-Control, or 304 when the caller already holds these bytes. */
function report(request: ApiRequest, route: string, value: unknown, cache?: string): ApiResponse {
  const body = JSON.stringify(value);
  const etag = etagOf(body);
  const headers = { ...JSON_TYPE, etag, "cache-control": REPORT_CACHE_CONTROL, ...(cache ? { "x-cache": cache } : {}) };
  if (matchesEtag(request.headers["if-none-match"], etag)) return { status: 304, headers, body: "", cache, route };
  return { status: 200, headers, body, cache, route };
}

const DAILY_SALES_PATH = /^\/api\/reports\/([^/]+)\/daily-sales$/;

type Handler = (request: ApiRequest, query: URLSearchParams, deps: ApiDependencies, match: RegExpMatchArray) => Promise<ApiResponse>;

interface Route {
  readonly template: string;
  readonly pattern: RegExp;
  readonly handler: Handler;
}

const health: Handler = async (_request, _query, deps) => {
  const [database, cache] = await Promise.all([
    deps.db.query("SELECT 1").then(() => "ok" as const, (error) => {
      deps.log.warn("Health: the database did not answer", errorFields(error));
      return "unavailable" as const;
    }),
    deps.cache.check(),
  ]);
  const status = database === "ok" ? "ok" : "unavailable";
  return { status: status === "ok" ? 200 : 503, headers: { ...JSON_TYPE, "cache-control": "no-store" }, body: JSON.stringify({ status, database, cache }), route: "GET /api/health" };
};

const branches: Handler = async (request, query, deps) => {
  if ([...query.keys()].length > 0) return errorResponse("BadRequest", "branches takes no query parameters", "GET /api/branches");
  const { value, source } = await deps.cache.getOrLoad("branches", deps.cacheTtlSeconds, () => listBranches(deps.db));
  return report(request, "GET /api/branches", { branches: value ?? [] }, source);
};

const dailySales: Handler = async (request, query, deps, match) => {
  const route = "GET /api/reports/{branch}/daily-sales";
  let branch: string;
  try {
    branch = decodeURIComponent(match[1]);
  } catch {
    return errorResponse("BadRequest", "branch is not a valid URL path segment", route);
  }
  const page = parseDailySalesPage(branch, query, (deps.now ?? (() => new Date()))());
  const key = `daily-sales:${page.branch}:${page.from}:${page.to}:${page.limit}:${page.after ?? ""}`;
  const { value, source } = await deps.cache.getOrLoad(key, deps.cacheTtlSeconds, () => dailySalesPage(deps.db, page));
  if (value === null) return errorResponse("NotFound", `no branch "${page.branch}" has any sales; GET /api/branches lists the branches`, route, { "x-cache": source });
  return report(request, route, value, source);
};

const pipelineHealth: Handler = async (_request, _query, deps) => {
  const now = (deps.now ?? (() => new Date()))();
  const load = await lastLoad(deps.db);
  const queues = await Promise.all(
    deps.pipelineQueues.map(async (queue) => {
      try {
        return { name: queue.name, depth: await deps.queueDepth(queue.url) };
      } catch (error) {
        deps.log.warn("Pipeline health: queue depth unreadable", { queue: queue.name, ...errorFields(error) });
        return { name: queue.name, depth: null };
      }
    }),
  );
  const body = { lastLoadAt: load.lastLoadAt, lastManifest: load.lastManifest, lagSeconds: lagSeconds(load, now), queues };
  return { status: 200, headers: { ...JSON_TYPE, "cache-control": "no-store" }, body: JSON.stringify(body), route: "GET /api/pipeline/health" };
};

const ROUTES: readonly Route[] = [
  { template: "GET /api/health", pattern: /^\/api\/health$/, handler: health },
  { template: "GET /api/branches", pattern: /^\/api\/branches$/, handler: branches },
  { template: "GET /api/reports/{branch}/daily-sales", pattern: DAILY_SALES_PATH, handler: dailySales },
  { template: "GET /api/pipeline/health", pattern: /^\/api\/pipeline\/health$/, handler: pipelineHealth },
];

export async function handleRequest(request: ApiRequest, deps: ApiDependencies): Promise<ApiResponse> {
  const url = new URL(request.url, "http://client-api.invalid");
  if (url.pathname === LIVENESS_PATH) return { status: 200, headers: { "content-type": "text/plain", "cache-control": "no-store" }, body: "ok", route: "GET /livez" };
  const route = ROUTES.map((r) => ({ r, match: url.pathname.match(r.pattern) })).find((candidate) => candidate.match !== null);
  if (!route) return errorResponse("NotFound", `no route ${url.pathname}; the API serves /api/health, /api/branches, /api/reports/{branch}/daily-sales and /api/pipeline/health`, "(unknown)");
  if (request.method !== "GET") return errorResponse("MethodNotAllowed", `${route.r.template.slice(4)} answers GET only, not ${request.method}`, route.r.template, { allow: "GET" });
  try {
    return await route.r.handler(request, url.searchParams, deps, route.match as RegExpMatchArray);
  } catch (error) {
    if (isBadRequest(error)) return errorResponse("BadRequest", (error as Error).message, route.r.template);
    if (isUnavailable(error)) {
      deps.log.warn("The database did not answer", { requestId: request.requestId, route: route.r.template, ...errorFields(error) });
      return errorResponse("Unavailable", "the reporting database did not answer in time; try again shortly", route.r.template, { "retry-after": "5" });
    }
    deps.log.error("Request failed", { requestId: request.requestId, route: route.r.template, ...errorFields(error) });
    return errorResponse("Internal", `internal error (request ${request.requestId}); it has been logged`, route.r.template);
  }
}
