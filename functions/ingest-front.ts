/**
 * The validating front of the HTTP ingest API: API Gateway routes each source's POST
 * route here (AWS_PROXY, payload format 2.0), and this module decides, before anything
 * reaches the ingest queue, whether the request is one the lake will take:
 *
 * - the route is a configured source (404 otherwise: API Gateway already answers 404 for
 *   an unrouted path; this covers a route the function's table does not know);
 * - the body fits one SQS message with its attributes (413);
 * - it is JSON, one event or a list of at most MAX_EVENTS_PER_MESSAGE, every event on the
 *   contract of functions/ingestion-events.ts, with this route's `source` and, when the
 *   event names one, this route's `schemaVersion` (400, naming the first problem);
 * - then one SendMessage of the body as it came, with the source and schema version as
 *   SQS message attributes (202). A failed send is a 503 the caller may retry.
 *
 * All or nothing: a request with one bad event is refused whole, so nothing of it is
 * queued and the caller can fix and resend it. Why a front at all: HTTP APIs have no
 * request validation (https://docs.aws.amazon.com/apigateway/latest/developerguide/http-api-vs-rest.html),
 * and the direct SQS-SendMessage integration answers 200 to any body, so a bad payload
 * would only be quarantined later, out of the caller's sight.
 *
 * Limits (checked 2026-12):
 * - SQS messages, attributes included, are at most 1 MiB (1,048,576 bytes) since SQS raised
 *   the limit from 256 KiB in 2025 (https://aws.amazon.com/blogs/compute/more-room-to-build-serverless-services-now-support-payloads-up-to-1-mb).
 * - HTTP API payloads are at most 10 MB, not adjustable (https://docs.aws.amazon.com/apigateway/latest/developerguide/http-api-quotas.html);
 *   synchronous Lambda invocations at most 6 MB (https://docs.aws.amazon.com/lambda/latest/dg/gettingstarted-limits.html).
 *   Bodies above 6 MB are refused by API Gateway or Lambda before this code runs.
 */
import { SQSClient, SendMessageCommand } from "@aws-sdk/client-sqs";
import type { APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2 } from "aws-lambda";
import { Environment, LogLine, logJson, requiredEnv } from "./data-path-runtime";
import { SCHEMA_VERSION_ATTRIBUTE, SOURCE_ATTRIBUTE, validateIngestEvent } from "./ingestion-events";
import { MAX_EVENTS_PER_MESSAGE } from "./ingestion-queue-consumer";

/** The largest SQS message, body and attributes together. */
export const SQS_MAX_MESSAGE_BYTES = 1_048_576;

/** What the front knows of a route: the source it belongs to and the schema version it accepts. */
export interface IngestRoute {
  readonly source: string;
  readonly schemaVersion: number;
}

/** Routes by HTTP API route key ("POST /ingest/orders"). */
export type IngestRouteTable = Readonly<Record<string, IngestRoute>>;

/** A source as the route table needs it (config/ingest-sources.ts has the whole entry). */
export interface RoutedSource {
  readonly name: string;
  readonly route: string;
  readonly schemaVersion: number;
}

/** The HTTP API route key of a source: every ingest route takes POST. */
export function ingestRouteKey(source: Pick<RoutedSource, "route">): string {
  return `POST ${source.route}`;
}

/**
 * What the route table (INGEST_ROUTES) may take of the front's environment: Lambda allows
 * 4 KB of variables in all (https://docs.aws.amazon.com/lambda/latest/dg/gettingstarted-limits.html),
 * and the queue URL and runtime settings need the rest.
 */
export const MAX_ROUTE_TABLE_BYTES = 3_500;

/** The route table from a list of sources: the same list the API's routes are declared from. */
export function ingestRouteTable(sources: readonly RoutedSource[]): IngestRouteTable {
  return Object.fromEntries(sources.map((source) => [ingestRouteKey(source), { source: source.name, schemaVersion: source.schemaVersion }]));
}

export interface IngestFrontDeps {
  readonly sqs: SQSClient;
  readonly queueUrl: string;
  readonly routes: IngestRouteTable;
  /** @default console.log of one JSON line */
  readonly log?: LogLine;
}

export interface IngestFrontSettings {
  readonly queueUrl: string;
  readonly routes: IngestRouteTable;
}

/** INGEST_QUEUE_URL and INGEST_ROUTES (the route table as JSON) from the function's environment. */
export function ingestFrontSettings(env: Environment): IngestFrontSettings {
  const text = requiredEnv(env, "INGEST_ROUTES");
  let routes: unknown;
  try {
    routes = JSON.parse(text);
  } catch {
    throw new Error(`INGEST_ROUTES must be the route table as JSON, not ${JSON.stringify(text.slice(0, 40))}`);
  }
  if (typeof routes !== "object" || routes === null || Array.isArray(routes)) throw new Error("INGEST_ROUTES must be a JSON object of route keys");
  return { queueUrl: requiredEnv(env, "INGEST_QUEUE_URL"), routes: routes as IngestRouteTable };
}

export type IngestErrorCode = "UnknownSource" | "PayloadInvalid" | "PayloadTooLarge" | "BufferUnavailable";

const STATUS: Record<IngestErrorCode, number> = { UnknownSource: 404, PayloadInvalid: 400, PayloadTooLarge: 413, BufferUnavailable: 503 };

function json(statusCode: number, body: unknown): APIGatewayProxyStructuredResultV2 {
  return { statusCode, headers: { "content-type": "application/json" }, body: JSON.stringify(body) };
}

/** The error body every refusal has: a code to branch on, and a message saying what to fix. */
export function ingestError(code: IngestErrorCode, message: string, context: { source?: string; requestId?: string } = {}): APIGatewayProxyStructuredResultV2 {
  return json(STATUS[code], { error: { code, message, ...context } });
}

/** Bytes SQS counts for a message: the body plus each attribute's name, data type and value. */
export function sqsMessageBytes(body: string, attributes: Readonly<Record<string, { DataType: string; StringValue: string }>>): number {
  return Object.entries(attributes).reduce(
    (sum, [name, value]) => sum + Buffer.byteLength(name) + Buffer.byteLength(value.DataType) + Buffer.byteLength(value.StringValue),
    Buffer.byteLength(body),
  );
}

export function ingestMessageAttributes(route: IngestRoute) {
  return {
    [SOURCE_ATTRIBUTE]: { DataType: "String", StringValue: route.source },
    [SCHEMA_VERSION_ATTRIBUTE]: { DataType: "Number", StringValue: String(route.schemaVersion) },
  };
}

/** The first reason the decoded body is refused for this route, or undefined when every event is acceptable. */
export function payloadProblem(value: unknown, route: IngestRoute): string | undefined {
  const events = Array.isArray(value) ? value : [value];
  const label = (index: number) => (Array.isArray(value) ? `event ${index}: ` : "");
  if (Array.isArray(value) && value.length === 0) return "body is an empty list";
  if (events.length > MAX_EVENTS_PER_MESSAGE) return `body holds ${events.length} events; at most ${MAX_EVENTS_PER_MESSAGE} per request`;
  for (const [index, candidate] of events.entries()) {
    const validation = validateIngestEvent(candidate);
    if (!validation.ok) return `${label(index)}${validation.reason}`;
    if (validation.event.source !== route.source) return `${label(index)}source "${validation.event.source}" is not this route's source "${route.source}"`;
    const version = (candidate as { schemaVersion?: unknown }).schemaVersion;
    if (version !== undefined && version !== route.schemaVersion) {
      return `${label(index)}schemaVersion ${JSON.stringify(version)} is not the version this route accepts (${route.schemaVersion})`;
    }
  }
  return undefined;
}

/** One request of the ingest API: validate, then one SendMessage with the source's attributes. */
export async function handleIngestRequest(event: APIGatewayProxyEventV2, deps: IngestFrontDeps): Promise<APIGatewayProxyStructuredResultV2> {
  const log = deps.log ?? logJson;
  const requestId = event.requestContext?.requestId;
  const route = Object.prototype.hasOwnProperty.call(deps.routes, event.routeKey) ? deps.routes[event.routeKey] : undefined;
  if (route === undefined) return ingestError("UnknownSource", `no ingest source is routed at ${event.routeKey}`, { requestId });
  const context = { source: route.source, requestId };
  const refuse = (code: IngestErrorCode, message: string) => {
    log({ level: "WARN", message: "Ingest request refused", code, reason: message, ...context, routeKey: event.routeKey });
    return ingestError(code, message, context);
  };

  const body = event.isBase64Encoded ? Buffer.from(event.body ?? "", "base64").toString("utf8") : (event.body ?? "");
  const attributes = ingestMessageAttributes(route);
  const bytes = sqsMessageBytes(body, attributes);
  if (bytes > SQS_MAX_MESSAGE_BYTES) return refuse("PayloadTooLarge", `body and attributes are ${bytes} bytes; one ingest request holds at most ${SQS_MAX_MESSAGE_BYTES} (the SQS message limit)`);
  if (body.trim().length === 0) return refuse("PayloadInvalid", "body is empty; send one event object or a list of them");
  let value: unknown;
  try {
    value = JSON.parse(body);
  } catch (error) {
    return refuse("PayloadInvalid", `body is not JSON: ${(error as Error).message}`);
  }
  const problem = payloadProblem(value, route);
  if (problem !== undefined) return refuse("PayloadInvalid", problem);

  const events = Array.isArray(value) ? value.length : 1;
  try {
    const sent = await deps.sqs.send(new SendMessageCommand({ QueueUrl: deps.queueUrl, MessageBody: body, MessageAttributes: attributes }));
    log({ level: "INFO", message: "Ingest request queued", ...context, routeKey: event.routeKey, events, messageId: sent.MessageId });
    return json(202, { accepted: events, source: route.source, schemaVersion: route.schemaVersion, messageId: sent.MessageId, requestId });
  } catch (error) {
    log({ level: "ERROR", message: "Sending to the ingest queue failed", ...context, error: (error as Error).message });
    return ingestError("BufferUnavailable", "the ingest buffer did not take the request; nothing was queued, retry with backoff", context);
  }
}
