/**
 * An HTTP proxy in front of one local server (dynalite, s3rver, kinesalite, the local SQS
 * server) that injects faults at the network level, so that handlers meet throttling,
 * resets and stalls through their real SDK clients, with no seam in the handler.
 *
 *   const proxy = await startFaultProxy(dynalite.endpoint, { seed: 7 });
 *   proxy.setRules([dynamoDbThrottle(0.2, ["PutItem"])]);
 *   new DynamoDBClient({ endpoint: proxy.endpoint, ... });
 *   proxy.faultCounts();   // { "dynamodb-throttle": 3 }
 *   proxy.requestCount();  // { seen: 23, forwarded: 20 }
 *   proxy.resetCounters();
 *   await proxy.stop();    // releases stalled requests, closes every socket
 *
 * For each request the rules are tried in order: a rule that matches rolls its dice (one
 * draw from the seeded PRNG) and applies its action when the roll is below its
 * probability; the first hit wins. Requests no rule hits are forwarded unchanged: method,
 * path, every header including Host (so SigV4 signatures stay valid), bodies streamed both
 * ways, upstream connections kept alive. The same seed and the same request order give
 * the same faults; concurrent requests arrive in an order the proxy does not control.
 *
 * Actions: `respond` answers instead of forwarding; `reset` destroys the client's
 * connection with a TCP RST (socket.resetAndDestroy), nothing forwarded; `stall` accepts
 * the request and never answers, until the client gives up or the proxy stops.
 */
import * as http from "http";
import type { AddressInfo, Socket } from "net";
import { randomUUID } from "crypto";

export type FaultAction =
  | { kind: "respond"; status: number; headers?: Record<string, string>; body?: string }
  | { kind: "reset" }
  | { kind: "stall" };

export interface ProxiedRequest {
  readonly method: string;
  /** Path and query, as sent. */
  readonly path: string;
  /** Lower-cased names, as node parses them. */
  readonly headers: Readonly<Record<string, string | string[] | undefined>>;
}

export interface FaultRule {
  /** Key of faultCounts(). */
  readonly name: string;
  matches(request: ProxiedRequest): boolean;
  /** Chance from 0 to 1 that a matching request gets the fault. */
  readonly probability: number;
  readonly action: FaultAction;
  /** Stop injecting after this many faults (e.g. 1: only the first matching request that rolls a hit). @default unlimited */
  readonly maxFaults?: number;
}

export interface FaultProxy {
  /** e.g. "http://127.0.0.1:41234" */
  readonly endpoint: string;
  /** Replaces the rules; counters carry on. */
  setRules(rules: readonly FaultRule[]): void;
  /** Faults injected per rule name since the start or the last resetCounters(). */
  faultCounts(): Record<string, number>;
  /** Requests seen, and forwarded to the target, since the start or the last resetCounters(). */
  requestCount(): { seen: number; forwarded: number };
  resetCounters(): void;
  stop(): Promise<void>;
}

export interface FaultProxyOptions {
  /** Seed of the PRNG behind every dice roll. @default 1 */
  seed?: number;
}

/** mulberry32: a tiny, well-distributed 32-bit PRNG, so that a seed fixes the fault pattern. Values in [0, 1). */
export function mulberry32(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** The rule that applies to a request, if any: the first matching rule whose roll hits and which has faults left. */
export function chooseFault(rules: readonly FaultRule[], request: ProxiedRequest, roll: () => number, counts: Readonly<Record<string, number>>): FaultRule | undefined {
  for (const rule of rules) {
    if (rule.maxFaults !== undefined && (counts[rule.name] ?? 0) >= rule.maxFaults) continue;
    if (!rule.matches(request)) continue;
    if (roll() < rule.probability) return rule;
  }
  return undefined;
}

export async function startFaultProxy(target: string, options: FaultProxyOptions = {}): Promise<FaultProxy> {
  const upstream = new URL(target);
  if (upstream.protocol !== "http:") throw new Error(`startFaultProxy: target ${target} must be an http:// URL (the local servers speak plain HTTP).`);
  const roll = mulberry32(options.seed ?? 1);
  const upstreamAgent = new http.Agent({ keepAlive: true });
  const stalled = new Set<http.IncomingMessage>();
  let rules: readonly FaultRule[] = [];
  let counts: Record<string, number> = {};
  let seen = 0;
  let forwarded = 0;
  let stopping: Promise<void> | undefined;

  const server = http.createServer((request, response) => {
    seen++;
    const proxied: ProxiedRequest = { method: request.method ?? "GET", path: request.url ?? "/", headers: request.headers };
    const fault = chooseFault(rules, proxied, roll, counts);
    if (!fault) {
      forwarded++;
      forward(upstream, upstreamAgent, request, response);
      return;
    }
    counts = { ...counts, [fault.name]: (counts[fault.name] ?? 0) + 1 };
    injectFault(fault.action, request, response, stalled);
  });
  // A stall lasts until the client gives up; node's default request timeout must not answer for it.
  server.requestTimeout = 0;
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => resolve());
  });
  const { port } = server.address() as AddressInfo;

  return {
    endpoint: `http://127.0.0.1:${port}`,
    setRules: (next) => {
      rules = [...next];
    },
    faultCounts: () => ({ ...counts }),
    requestCount: () => ({ seen, forwarded }),
    resetCounters: () => {
      counts = {};
      seen = 0;
      forwarded = 0;
    },
    stop: () => {
      stopping ??= stopProxy(server, stalled, upstreamAgent);
      return stopping;
    },
  };
}

/** Idempotent through the caller: stalled requests are cut, every socket closes, both ways. */
async function stopProxy(server: http.Server, stalled: Set<http.IncomingMessage>, upstreamAgent: http.Agent): Promise<void> {
  const closed = new Promise<void>((resolve) => server.close(() => resolve()));
  for (const request of stalled) request.socket.destroy();
  stalled.clear();
  server.closeAllConnections();
  upstreamAgent.destroy();
  await closed;
}

function injectFault(action: FaultAction, request: http.IncomingMessage, response: http.ServerResponse, stalled: Set<http.IncomingMessage>): void {
  switch (action.kind) {
    case "respond":
      // Read the body first: answering while the client still sends would break its keep-alive connection.
      request.resume();
      request.once("end", () => {
        response.writeHead(action.status, { "x-amzn-requestid": randomUUID(), ...action.headers });
        response.end(action.body ?? "");
      });
      return;
    case "reset":
      (request.socket as Socket & { resetAndDestroy(): void }).resetAndDestroy();
      return;
    case "stall":
      stalled.add(request);
      request.resume();
      request.socket.once("close", () => stalled.delete(request));
      return;
  }
}

/** Streams the request to the target and the answer back, headers untouched. */
function forward(upstream: URL, agent: http.Agent, request: http.IncomingMessage, response: http.ServerResponse): void {
  const outgoing = http.request({
    protocol: upstream.protocol,
    hostname: upstream.hostname,
    port: upstream.port,
    method: request.method,
    path: request.url,
    // The client's Host header goes through as sent: SigV4 signs it.
    headers: request.headers,
    agent,
  });
  outgoing.on("response", (answer) => {
    response.writeHead(answer.statusCode ?? 502, answer.statusMessage, answer.rawHeaders);
    answer.pipe(response);
  });
  outgoing.on("error", (error) => {
    if (!response.headersSent) {
      response.writeHead(502, { "content-type": "text/plain" });
      response.end(`fault proxy: the target failed: ${error.message}`);
    } else {
      response.destroy(error);
    }
  });
  // A client that goes away mid-exchange takes its upstream request with it.
  response.on("close", () => {
    if (!response.writableFinished) outgoing.destroy();
  });
  request.pipe(outgoing);
}

// ---- presets, each in the service's own wire format ----

/** Any request; the default matcher of the connection presets. */
export const anyRequest = (): boolean => true;

function headerValue(request: ProxiedRequest, name: string): string | undefined {
  const value = request.headers[name];
  return Array.isArray(value) ? value[0] : value;
}

/**
 * DynamoDB throttling: 400 with ProvisionedThroughputExceededException in the JSON 1.0
 * error shape, on requests whose X-Amz-Target is DynamoDB_20120810.<Op> (every operation,
 * or the listed ones). The SDK retries it as a throttling error.
 * https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/Programming.Errors.html
 */
export function dynamoDbThrottle(probability: number, operations?: readonly string[]): FaultRule {
  return {
    name: "dynamodb-throttle",
    probability,
    matches: (request) => {
      const target = headerValue(request, "x-amz-target");
      if (target === undefined || !target.startsWith("DynamoDB_20120810.")) return false;
      return operations === undefined || operations.includes(target.slice("DynamoDB_20120810.".length));
    },
    action: {
      kind: "respond",
      status: 400,
      headers: { "content-type": "application/x-amz-json-1.0" },
      body: JSON.stringify({
        __type: "com.amazonaws.dynamodb.v20120810#ProvisionedThroughputExceededException",
        message: "The level of configured provisioned throughput for the table was exceeded. Consider increasing your provisioning level with the UpdateTable API.",
      }),
    },
  };
}

/** A path-style object path, "/bucket/key…" (the local clients use forcePathStyle). */
function isPathStyleObjectPath(path: string): boolean {
  const [bucket, ...key] = path.split("?")[0].split("/").slice(1);
  return bucket !== undefined && bucket !== "" && key.join("/") !== "";
}

/**
 * S3 SlowDown: 503 with S3's XML error body, on PUT object requests. The SDK retries
 * SlowDown as a throttling error.
 * https://docs.aws.amazon.com/AmazonS3/latest/API/ErrorResponses.html (SlowDown: 503, "Please reduce your request rate.")
 */
export function s3SlowDown(probability: number): FaultRule {
  return {
    name: "s3-slow-down",
    probability,
    matches: (request) => request.method === "PUT" && isPathStyleObjectPath(request.path),
    action: {
      kind: "respond",
      status: 503,
      headers: { "content-type": "application/xml" },
      body: `<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>SlowDown</Code><Message>Please reduce your request rate.</Message><RequestId>${"0".repeat(16)}</RequestId><HostId>fault-proxy</HostId></Error>`,
    },
  };
}

/** The client's connection is reset mid-request; the SDK sees ECONNRESET. */
export function connectionReset(probability: number, matches: FaultRule["matches"] = anyRequest): FaultRule {
  return { name: "connection-reset", probability, matches, action: { kind: "reset" } };
}

/** The request is accepted and never answered; the client's own timeout must end it. */
export function connectionStall(probability: number, matches: FaultRule["matches"] = anyRequest): FaultRule {
  return { name: "connection-stall", probability, matches, action: { kind: "stall" } };
}
