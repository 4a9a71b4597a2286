/**
 * The client API as the dashboard calls it (services-contract.md, Client API HTTP contract),
 * always on its own origin under `apiBase`. Every failure becomes an ApiError whose message
 * a person can read: the API's own `error.message`, API Gateway's `{"message": …}` (its 401,
 * 429 and 503 answers have that shape, not the contract's), or a sentence about the status
 * or the network. `fetch` is injected, so the unit tests run this under Node against a real
 * local HTTP server.
 */

export interface Branch {
  readonly branch: string;
  readonly firstDay: string | null;
  readonly lastDay: string | null;
}

export interface SalesDay {
  readonly day: string;
  readonly orders: number;
  /** Exact decimal, e.g. "1234.50". */
  readonly revenue: string;
}

export interface DailySales {
  readonly branch: string;
  readonly from: string;
  readonly to: string;
  readonly days: readonly SalesDay[];
}

export interface PipelineHealth {
  readonly lastLoadAt: string | null;
  readonly lastManifest: string | null;
  readonly lagSeconds: number | null;
  readonly queues: readonly { name: string; depth: number | null }[];
}

/** What the dashboard needs of fetch's Response; the browser's and Node's both fit. */
export interface ResponseLike {
  readonly status: number;
  readonly ok: boolean;
  text(): Promise<string>;
}
export type FetchLike = (url: string, init: { headers: Record<string, string>; signal?: AbortSignal }) => Promise<ResponseLike>;

export class ApiError extends Error {
  constructor(
    message: string,
    /** HTTP status; 0 when no answer arrived. */
    readonly status: number,
    /** The contract's error code, or "Network", "Unauthorized", "Unexpected". */
    readonly code: string,
  ) {
    super(message);
    this.name = "ApiError";
  }
}

/** The sentence for a failed answer, from whichever error shape the body has. */
export function errorFromResponse(status: number, body: string): ApiError {
  let parsed: unknown;
  try {
    parsed = JSON.parse(body);
  } catch {
    parsed = undefined;
  }
  const record = (typeof parsed === "object" && parsed !== null ? parsed : {}) as { error?: { code?: unknown; message?: unknown }; message?: unknown };
  if (typeof record.error?.message === "string" && record.error.message !== "") {
    return new ApiError(record.error.message, status, typeof record.error.code === "string" ? record.error.code : "Unexpected");
  }
  const code = status === 401 || status === 403 ? "Unauthorized" : "Unexpected";
  if (typeof record.message === "string" && record.message !== "") {
    return new ApiError(`The API gateway answered "${record.message}" (HTTP ${status}).`, status, code);
  }
  return new ApiError(`The API answered HTTP ${status} without an error message.`, status, code);
}

export interface ApiClientOptions {
  readonly apiBase: string;
  readonly fetch: FetchLike;
  /** The bearer token to send, or undefined (no auth configured). */
  readonly token: () => string | undefined;
}

export interface ApiClient {
  branches(signal?: AbortSignal): Promise<Branch[]>;
  dailySales(branch: string, from: string, to: string, signal?: AbortSignal): Promise<DailySales>;
  pipelineHealth(signal?: AbortSignal): Promise<PipelineHealth>;
}

/** Days per page the dashboard asks for: the contract's largest `limit`. */
export const PAGE_LIMIT = 100;
/** 92 days at most in a range, 100 a page: more pages than this is an API bug, not data. */
const MAX_PAGES = 5;

function expect(condition: boolean, what: string): void {
  if (!condition) throw new ApiError(`The API answered with an unexpected body (${what}).`, 200, "Unexpected");
}

export function createApiClient(options: ApiClientOptions): ApiClient {
  async function getJson(path: string, signal?: AbortSignal): Promise<unknown> {
    const token = options.token();
    const headers: Record<string, string> = { accept: "application/json" };
    if (token !== undefined) headers.authorization = `Bearer ${token}`;
    let response: ResponseLike;
    let body: string;
    try {
      response = await options.fetch(`${options.apiBase}${path}`, { headers, signal });
      body = await response.text();
    } catch (error) {
      if (signal?.aborted) throw error;
      throw new ApiError(`The API could not be reached (${(error as Error).message}). Check the connection and try again.`, 0, "Network");
    }
    if (!response.ok) throw errorFromResponse(response.status, body);
    try {
      return JSON.parse(body);
    } catch {
      throw new ApiError(`The API answered HTTP ${response.status} with a body that is not JSON.`, response.status, "Unexpected");
    }
  }

  return {
    async branches(signal) {
      const body = (await getJson("/branches", signal)) as { branches?: unknown };
      expect(Array.isArray(body.branches), "no branches list");
      return body.branches as Branch[];
    },
    async dailySales(branch, from, to, signal) {
      const days: SalesDay[] = [];
      let cursor: string | null = null;
      for (let page = 0; page < MAX_PAGES; page++) {
        const query = new URLSearchParams({ from, to, limit: String(PAGE_LIMIT) });
        if (cursor !== null) query.set("cursor", cursor);
        const body = (await getJson(`/reports/${encodeURIComponent(branch)}/daily-sales?${query}`, signal)) as { days?: unknown; nextCursor?: unknown };
        expect(Array.isArray(body.days), "no days list");
        days.push(...(body.days as SalesDay[]));
        cursor = typeof body.nextCursor === "string" ? body.nextCursor : null;
        if (cursor === null) return { branch, from, to, days };
      }
      throw new ApiError(`The API kept paging past ${MAX_PAGES * PAGE_LIMIT} days for ${from} to ${to}.`, 200, "Unexpected");
    },
    async pipelineHealth(signal) {
      const body = (await getJson("/pipeline/health", signal)) as Partial<PipelineHealth>;
      expect(Array.isArray(body.queues), "no queues list");
      return { lastLoadAt: body.lastLoadAt ?? null, lastManifest: body.lastManifest ?? null, lagSeconds: body.lagSeconds ?? null, queues: body.queues! };
    },
  };
}
