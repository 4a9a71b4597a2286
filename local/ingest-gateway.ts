/**
 * A local stand-in for the HTTP ingest API's API Gateway, built from the same
 * `ingestSources` list the stack declares its routes and stage throttles from, so the
 * contract the tests check is the config itself, not a copy of it.
 *
 *   const gateway = await startIngestGateway({ sources, front });   // front: the shipped front (local/function-host.ts)
 *   await fetch(`${gateway.endpoint}/ingest/orders`, { method: "POST", headers: { authorization }, body });
 *   await gateway.stop();
 *
 * What it does, in API Gateway's order for an HTTP API with a Lambda proxy integration:
 * 1. Route: "POST <route>" of a configured source, else 404 `{"message":"Not Found"}`.
 * 2. Payload: more than 10 MB is 413 `{"message":"Request Entity Too Large"}`
 *    (http-api-quotas.html: payload size 10 MB).
 * 3. Throttle: a token bucket per route (capacity burstLimit, refilled at rateLimit per
 *    second, the stage's routeSettings), else 429 `{"message":"Too Many Requests"}`
 *    (https://docs.aws.amazon.com/apigateway/latest/developerguide/http-api-throttling.html).
 * 4. Authorisation, by presence only: an AWS_IAM route needs a SigV4 `Authorization`
 *    header (403 `{"message":"Forbidden"}` otherwise), a JWT route a bearer token (401
 *    `{"message":"Unauthorized"}`).
 * 5. The integration: a payload format 2.0 event to the front; its result is the
 *    response, and a failed invocation is 500 `{"message":"Internal Server Error"}`.
 *
 * Not modelled (API Gateway itself is not running): signature and token verification,
 * scopes, the account-level throttle, throttling across API Gateway's fleet (a real
 * bucket is approximate), custom domains, TLS, and Lambda's 6 MB invocation limit.
 * The clock is injectable so that a test can hold time still and count tokens exactly.
 */
import * as http from "http";
import type { AddressInfo } from "net";
import { randomUUID } from "crypto";
import type { APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2 } from "aws-lambda";
import type { IngestSourceConfig } from "../config/ingest-sources";
import { ingestRouteKey } from "../functions/ingest-front";
import type { Invocable } from "./function-host";

/** HTTP API payloads are at most 10 MB (https://docs.aws.amazon.com/apigateway/latest/developerguide/http-api-quotas.html). */
export const HTTP_API_MAX_PAYLOAD_BYTES = 10 * 1024 * 1024;

export interface IngestGatewayOptions {
  readonly sources: readonly IngestSourceConfig[];
  /** The integration every route targets. */
  readonly front: Invocable;
  /** Milliseconds, for the token buckets. @default Date.now */
  readonly now?: () => number;
  /** @default "127.0.0.1" */
  readonly host?: string;
}

export interface IngestGatewayStats {
  /** Requests answered by the gateway itself, by status. */
  readonly refused: Record<number, number>;
  /** Requests handed to the front. */
  integrations: number;
}

export interface LocalIngestGateway {
  /** e.g. "http://127.0.0.1:41234" */
  readonly endpoint: string;
  readonly stats: IngestGatewayStats;
  stop(): Promise<void>;
}

/** A route's throttle: `burst` tokens at most, `rate` new tokens per second. */
export class TokenBucket {
  private tokens: number;
  private last: number;

  constructor(private readonly rate: number, private readonly burst: number, now: number) {
    this.tokens = burst;
    this.last = now;
  }

  /** Takes a token if one is there; false means throttled. */
  take(now: number): boolean {
    this.tokens = Math.min(this.burst, this.tokens + ((now - this.last) / 1000) * this.rate);
    this.last = now;
    if (this.tokens < 1) return false;
    this.tokens -= 1;
    return true;
  }
}

interface RouteEntry {
  readonly source: IngestSourceConfig;
  readonly bucket: TokenBucket;
}

function gatewayMessage(res: http.ServerResponse, status: number, message: string): void {
  res.writeHead(status, { "content-type": "application/json" });
  res.end(JSON.stringify({ message }));
}

/** Reads the body up to `limit` bytes; undefined when it is longer. */
function readBody(req: http.IncomingMessage, limit: number): Promise<Buffer | undefined> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    let over = false;
    req.on("data", (chunk: Buffer) => {
      size += chunk.length;
      if (size > limit) over = true;
      else chunks.push(chunk);
    });
    req.on("end", () => resolve(over ? undefined : Buffer.concat(chunks)));
    req.on("error", reject);
  });
}

function authorised(source: IngestSourceConfig, header: string | undefined): boolean {
  if (source.jwtScope !== undefined) return /^Bearer \S+$/.test(header ?? "");
  return (header ?? "").startsWith("AWS4-HMAC-SHA256 ");
}

function proxyEvent(req: http.IncomingMessage, routeKey: string, path: string, body: Buffer): APIGatewayProxyEventV2 {
  const headers = Object.fromEntries(Object.entries(req.headers).map(([name, value]) => [name, Array.isArray(value) ? value.join(",") : (value ?? "")]));
  const now = new Date();
  return {
    version: "2.0",
    routeKey,
    rawPath: path,
    rawQueryString: "",
    headers,
    body: body.toString("utf8"),
    isBase64Encoded: false,
    requestContext: {
      accountId: "000000000000",
      apiId: "local",
      domainName: req.headers.host ?? "localhost",
      domainPrefix: "local",
      http: { method: req.method ?? "POST", path, protocol: `HTTP/${req.httpVersion}`, sourceIp: req.socket.remoteAddress ?? "127.0.0.1", userAgent: req.headers["user-agent"] ?? "" },
      requestId: randomUUID(),
      routeKey,
      stage: "$default",
      time: now.toISOString(),
      timeEpoch: now.getTime(),
    },
  };
}

export async function startIngestGateway(options: IngestGatewayOptions): Promise<LocalIngestGateway> {
  const now = options.now ?? Date.now;
  const routes = new Map<string, RouteEntry>(
    options.sources.map((source) => [ingestRouteKey(source), { source, bucket: new TokenBucket(source.rateLimit, source.burstLimit, now()) }]),
  );
  const stats: IngestGatewayStats = { refused: {}, integrations: 0 };
  const refuse = (res: http.ServerResponse, status: number, message: string) => {
    stats.refused[status] = (stats.refused[status] ?? 0) + 1;
    gatewayMessage(res, status, message);
  };

  const server = http.createServer((req, res) => {
    const path = (req.url ?? "/").split("?")[0];
    const routeKey = `${req.method} ${path}`;
    const entry = routes.get(routeKey);
    void (async () => {
      const body = await readBody(req, HTTP_API_MAX_PAYLOAD_BYTES);
      if (entry === undefined) return refuse(res, 404, "Not Found");
      if (body === undefined) return refuse(res, 413, "Request Entity Too Large");
      if (!entry.bucket.take(now())) return refuse(res, 429, "Too Many Requests");
      if (!authorised(entry.source, req.headers.authorization)) {
        return entry.source.jwtScope !== undefined ? refuse(res, 401, "Unauthorized") : refuse(res, 403, "Forbidden");
      }
      stats.integrations += 1;
      const outcome = await options.front.invoke(proxyEvent(req, routeKey, path, body));
      if (!outcome.ok) return refuse(res, 500, "Internal Server Error");
      const result = outcome.result as APIGatewayProxyStructuredResultV2;
      res.writeHead(result.statusCode ?? 200, { "content-type": "application/json", ...(result.headers as Record<string, string> | undefined) });
      res.end(result.body ?? "");
    })().catch(() => refuse(res, 500, "Internal Server Error"));
  });
  await new Promise<void>((resolve) => server.listen(0, options.host ?? "127.0.0.1", resolve));
  const { address, port } = server.address() as AddressInfo;
  return {
    endpoint: `http://${address}:${port}`,
    stats,
    stop: () => new Promise<void>((resolve, reject) => {
      server.closeAllConnections();
      server.close((error) => (error ? reject(error) : resolve()));
    }),
  };
}
