/**
 * The dashboard as CloudFront serves it, on 127.0.0.1: the build's files, a `/config.json`
 * written here (as the stack writes its own object), and `/api/*` passed through to the client
 * API (CloudFront's `/api/*` behaviour), so the page calls its own origin exactly as deployed.
 * The page gets the site's Content-Security-Policy, so a local run or the browser test fails
 * where an inline script or a foreign origin would fail behind CloudFront.
 * No jest here: `npm run dashboard:local` and tests/dashboard-browser.test.ts both use it.
 */
import * as fs from "fs";
import * as http from "http";
import type * as net from "net";
import * as path from "path";
import { contentTypeFor } from "../scripts/dashboard-build";
import { contentSecurityPolicy } from "../components/services/dashboard-site-rules";

const LOOPBACK = "127.0.0.1";

export interface DashboardServerOptions {
  /** The build's directory (DashboardBuild.dir). */
  readonly siteDir: string;
  /** Origin of the client API, e.g. "http://127.0.0.1:41234"; `/api/…` is appended as requested. */
  readonly apiUrl: string;
  /** The body of /config.json. @default { apiBase: "/api", auth: null } */
  readonly config?: unknown;
  /** @default 0 (a free port) */
  readonly port?: number;
}

export interface DashboardServer {
  /** e.g. "http://127.0.0.1:5173" */
  readonly url: string;
  stop(): Promise<void>;
}

/** The site's CSP without sign-in, exactly as CloudFront sends it (uPlot sets inline style attributes). */
export const LOCAL_CONTENT_SECURITY_POLICY = contentSecurityPolicy(undefined);

/** Request headers that belong to this hop only (RFC 9110 §7.6.1), plus host, which names the API's own. */
const HOP_HEADERS = new Set(["host", "connection", "keep-alive", "proxy-connection", "transfer-encoding", "upgrade", "te", "trailer"]);

function errorBody(code: string, message: string): string {
  return JSON.stringify({ error: { code, message } });
}

/** The file a request path names inside siteDir, or undefined when it would leave it. */
export function resolveSitePath(siteDir: string, urlPath: string): string | undefined {
  let decoded: string;
  try {
    decoded = decodeURIComponent(urlPath);
  } catch {
    return undefined;
  }
  const relative = decoded === "/" ? "index.html" : decoded.replace(/^\/+/, "");
  const file = path.resolve(siteDir, relative);
  return file.startsWith(path.resolve(siteDir) + path.sep) ? file : undefined;
}

function proxy(request: http.IncomingMessage, response: http.ServerResponse, apiUrl: string): void {
  const target = new URL(request.url ?? "/", apiUrl);
  const headers: http.OutgoingHttpHeaders = {};
  for (const [name, value] of Object.entries(request.headers)) if (!HOP_HEADERS.has(name)) headers[name] = value;
  const upstream = http.request(target, { method: request.method, headers }, (answer) => {
    response.writeHead(answer.statusCode ?? 502, answer.headers);
    answer.pipe(response);
  });
  upstream.on("error", (error) => {
    // Like CloudFront's 502 when the origin is down, but in the contract's error shape, so the page can say it.
    if (response.headersSent) return void response.destroy(error);
    response.writeHead(502, { "content-type": "application/json" });
    response.end(errorBody("Unavailable", `The client API is not answering (${(error as NodeJS.ErrnoException).code ?? error.message}).`));
  });
  request.pipe(upstream);
}

function serveFile(request: http.IncomingMessage, response: http.ServerResponse, siteDir: string): void {
  if (request.method !== "GET" && request.method !== "HEAD") {
    response.writeHead(405, { allow: "GET, HEAD", "content-type": "text/plain" });
    return void response.end("Method not allowed\n");
  }
  const file = resolveSitePath(siteDir, new URL(request.url ?? "/", "http://site").pathname);
  if (file === undefined || !fs.existsSync(file) || !fs.statSync(file).isFile()) {
    response.writeHead(404, { "content-type": "text/plain" });
    return void response.end("Not found\n");
  }
  const hashed = path.relative(siteDir, file).startsWith(`assets${path.sep}`);
  response.writeHead(200, {
    "content-type": contentTypeFor(file),
    "cache-control": hashed ? "public, max-age=31536000, immutable" : "no-cache",
    "content-security-policy": LOCAL_CONTENT_SECURITY_POLICY,
    "x-content-type-options": "nosniff",
    "referrer-policy": "strict-origin-when-cross-origin",
  });
  if (request.method === "HEAD") return void response.end();
  fs.createReadStream(file).pipe(response);
}

export async function startDashboardServer(options: DashboardServerOptions): Promise<DashboardServer> {
  const config = JSON.stringify(options.config ?? { apiBase: "/api", auth: null });
  const apiOrigin = new URL(options.apiUrl).origin;
  const sockets = new Set<net.Socket>();
  const server = http.createServer((request, response) => {
    const pathname = new URL(request.url ?? "/", "http://site").pathname;
    if (pathname === "/api" || pathname.startsWith("/api/")) return proxy(request, response, apiOrigin);
    if (pathname === "/config.json") {
      response.writeHead(200, { "content-type": "application/json", "cache-control": "no-cache" });
      return void response.end(config);
    }
    serveFile(request, response, options.siteDir);
  });
  server.on("connection", (socket) => {
    sockets.add(socket);
    socket.once("close", () => sockets.delete(socket));
  });
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(options.port ?? 0, LOOPBACK, resolve);
  });
  const { port } = server.address() as net.AddressInfo;
  return {
    url: `http://${LOOPBACK}:${port}`,
    stop: () =>
      new Promise<void>((resolve, reject) => {
        // A browser keeps connections open; close them so the port is free at once.
        for (const socket of sockets) socket.destroy();
        server.close((error) => (error ? reject(error) : resolve()));
      }),
  };
}
