/**
 * The HTTP server around handleRequest: one JSON log line per request (method, route
 * template, status, ms, cache source; never the query, tokens or the Authorization header),
 * and a graceful stop: stop accepting, let in-flight requests finish (bounded), close idle
 * keep-alive connections so the ALB moves on, then resolve.
 */
import { randomUUID } from "crypto";
import * as http from "http";
import type { AddressInfo } from "net";
import type { Logger } from "../../shared/log";
import { errorFields } from "../../shared/log";
import { ApiDependencies, handleRequest } from "./app";

export interface RunningServer {
  readonly port: number;
  /** Requests being answered now. */
  inFlight(): number;
  /** Stops accepting, waits up to `graceMs` for in-flight requests, then closes every connection. */
  stop(graceMs: number): Promise<void>;
}

const REQUEST_ID = /^[A-Za-z0-9._:-]{1,128}$/;

/** The caller's request id when it is a sane token (API Gateway and the ALB send one), else a new one. */
export function requestIdOf(headers: http.IncomingHttpHeaders): string {
  const given = headers["x-request-id"] ?? headers["x-amzn-trace-id"];
  const value = Array.isArray(given) ? given[0] : given;
  return value !== undefined && REQUEST_ID.test(value) ? value : randomUUID();
}

export function startServer(host: string, port: number, deps: ApiDependencies, log: Logger): Promise<RunningServer> {
  let active = 0;
  let draining = false;
  let idle: (() => void) | undefined;
  const server = http.createServer((req, res) => {
    const started = process.hrtime.bigint();
    const requestId = requestIdOf(req.headers);
    active += 1;
    // Requests are GETs; a body is read and ignored so the connection stays usable.
    req.resume();
    handleRequest({ method: req.method ?? "GET", url: req.url ?? "/", headers: req.headers, requestId }, deps)
      .catch((error) => {
        log.error("Unhandled request failure", { requestId, ...errorFields(error) });
        return { status: 500, headers: { "content-type": "application/json" }, body: JSON.stringify({ error: { code: "Internal", message: `internal error (request ${requestId})` } }), route: "(error)", cache: undefined };
      })
      .then((response) => {
        // While draining, ask keep-alive callers to reconnect elsewhere.
        res.writeHead(response.status, { ...response.headers, "x-request-id": requestId, ...(draining ? { connection: "close" } : {}) });
        res.end(response.body);
        const ms = Number(process.hrtime.bigint() - started) / 1e6;
        if (response.route !== "GET /livez") log.info("request", { requestId, method: req.method, route: response.route, status: response.status, ms: Math.round(ms * 10) / 10, ...(response.cache ? { cache: response.cache } : {}) });
      })
      .finally(() => {
        active -= 1;
        if (active === 0) idle?.();
      });
  });
  server.keepAliveTimeout = 65_000; // longer than the ALB's 60 s idle timeout, so the ALB closes first
  server.headersTimeout = 66_000;
  return new Promise((resolve, reject) => {
    server.once("error", reject);
    server.listen(port, host, () => {
      resolve({
        port: (server.address() as AddressInfo).port,
        inFlight: () => active,
        async stop(graceMs) {
          draining = true;
          const closed = new Promise<void>((done) => server.close(() => done()));
          server.closeIdleConnections();
          if (active > 0) {
            await Promise.race([new Promise<void>((done) => (idle = done)), new Promise<void>((done) => setTimeout(done, graceMs).unref())]);
          }
          server.closeAllConnections();
          await closed;
        },
      });
    });
  });
}
