/**
 * The ingest contract, per source of prod's `ingestSources`: requests go through the
 * local stand-in of API Gateway (local/ingest-gateway.ts, routes and token buckets built
 * from the same config list) to the validating front as shipped, onto the local SQS
 * server, and through the queue consumer as shipped into s3rver's raw bucket.
 *
 * For each source: a good event lands carrying its source; an unknown route (404), a bad
 * payload (400 naming the problem), an oversized payload (413) and a throttled caller
 * (429) each get a clear JSON error; afterwards the lake holds the good events only.
 * The gateway's clock is held still, so the tests count tokens instead of timing them.
 */
import { CreateQueueCommand, GetQueueAttributesCommand, SQSClient, SendMessageCommand } from "@aws-sdk/client-sqs";
import { DynamoDBClient } from "@aws-sdk/client-dynamodb";
import { S3Client } from "@aws-sdk/client-s3";
import { ingestFrontFactory, queueConsumerFactory } from "../components/ingestion/ingestion-layer";
import { IngestSourceConfig, validateStageConfig } from "../config";
import { SQS_MAX_MESSAGE_BYTES, ingestRouteTable } from "../functions/ingest-front";
import { RAW_API_PREFIX } from "../functions/lake-layout";
import { localSqsClient } from "../local/clients";
import { startSqsMapping } from "../local/event-sources";
import { ShippedFunction, hostShippedFunction } from "../local/function-host";
import { HTTP_API_MAX_PAYLOAD_BYTES, LocalIngestGateway, startIngestGateway } from "../local/ingest-gateway";
import { LocalSqs, startSqsServer } from "../local/sqs-server";
import { HTTP_API_V2_EVENTS, thirdPartyEvent } from "./support/third-party-events";
import { readStackConfig } from "../scripts/engine";
import {
  EMULATOR_CREDENTIALS,
  EMULATOR_REGION,
  RunningEmulator,
  createClaimsTable,
  dynamoDbClient,
  listKeys,
  readText,
  s3Client,
  startDynalite,
  startS3rver,
} from "./support/aws-emulators";

const SOURCES: readonly IngestSourceConfig[] = validateStageConfig(readStackConfig("prod"), "Pulumi.prod.yaml").ingestSources;
const RAW = "raw";
const QUARANTINE = "transformed";
const CLAIMS = "claims";
const QUEUE = "ingest";

const SIGV4 = "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20261202/eu-west-1/execute-api/aws4_request, SignedHeaders=host;x-amz-date, Signature=0123";
const authorizationFor = (source: IngestSourceConfig) => (source.jwtScope !== undefined ? "Bearer eyJhbGciOiJSUzI1NiJ9.contract.test" : SIGV4);

function eventOf(source: IngestSourceConfig, id: string, overrides: Record<string, unknown> = {}) {
  return {
    eventId: `contract-${source.name}-${id}`,
    source: source.name,
    entityId: `${source.name}-42`,
    eventType: `${source.name}.recorded`,
    occurredAt: "2026-12-02T10:00:00Z",
    schemaVersion: source.schemaVersion,
    payload: { branch: "branch-007" },
    ...overrides,
  };
}

let sqsServer: LocalSqs;
let s3Server: RunningEmulator;
let dynamo: RunningEmulator;
let sqs: SQSClient;
let s3: S3Client;
let db: DynamoDBClient;
let queueUrl: string;
let front: ShippedFunction;
let consumer: ShippedFunction;
let gateway: LocalIngestGateway;
const clock = { now: Date.parse("2026-12-02T10:00:00Z") };

beforeAll(async () => {
  [sqsServer, s3Server, dynamo] = await Promise.all([startSqsServer(), startS3rver([RAW, QUARANTINE]), startDynalite()]);
  sqs = localSqsClient(sqsServer.endpoint);
  s3 = s3Client(s3Server);
  db = dynamoDbClient(dynamo);
  await createClaimsTable(db, CLAIMS);
  ({ QueueUrl: queueUrl } = (await sqs.send(new CreateQueueCommand({ QueueName: QUEUE, Attributes: { VisibilityTimeout: "30" } }))) as { QueueUrl: string });
  const awsEnv = {
    AWS_REGION: EMULATOR_REGION,
    AWS_ACCESS_KEY_ID: EMULATOR_CREDENTIALS.accessKeyId,
    AWS_SECRET_ACCESS_KEY: EMULATOR_CREDENTIALS.secretAccessKey,
    AWS_LAMBDA_FUNCTION_VERSION: "$LATEST",
    AWS_ENDPOINT_URL_SQS: sqsServer.endpoint,
    AWS_ENDPOINT_URL_S3: s3Server.endpoint,
    AWS_ENDPOINT_URL_DYNAMODB: dynamo.endpoint,
  };
  front = await hostShippedFunction("ingest-front", ingestFrontFactory, {
    env: { ...awsEnv, INGEST_QUEUE_URL: queueUrl, INGEST_ROUTES: JSON.stringify(ingestRouteTable(SOURCES)) },
    timeoutSeconds: 29,
  });
  consumer = await hostShippedFunction("queue-consumer", queueConsumerFactory, {
    env: { ...awsEnv, RAW_BUCKET: RAW, CLAIMS_TABLE: CLAIMS, CLAIM_TTL_SECONDS: "3600", STALE_CLAIM_MS: "120000", QUARANTINE_BUCKET: QUARANTINE },
    timeoutSeconds: 60,
  });
  gateway = await startIngestGateway({ sources: SOURCES, front, now: () => clock.now });
});

afterAll(async () => {
  await gateway?.stop();
  await Promise.all([front?.stop(), consumer?.stop()]);
  sqs?.destroy();
  s3?.destroy();
  db?.destroy();
  await Promise.all([sqsServer?.stop(), s3Server?.stop(), dynamo?.stop()]);
});

interface Answer {
  readonly status: number;
  readonly body: any;
}

async function post(path: string, body: string, authorization?: string, method = "POST"): Promise<Answer> {
  const response = await fetch(`${gateway.endpoint}${path}`, {
    method,
    headers: { "content-type": "application/json", ...(authorization ? { authorization } : {}) },
    ...(method === "GET" ? {} : { body }),
  });
  expect(response.headers.get("content-type")).toMatch(/^application\/json/);
  return { status: response.status, body: await response.json() };
}

const send = (source: IngestSourceConfig, body: unknown) => post(source.route, typeof body === "string" ? body : JSON.stringify(body), authorizationFor(source));

/** Drains a route's bucket with requests that take a token and stop at the authorisation step. */
async function drain(source: IngestSourceConfig, tokens: number): Promise<void> {
  const refusedAs = source.jwtScope !== undefined ? 401 : 403;
  for (let sent = 0; sent < tokens; sent += 100) {
    const answers = await Promise.all(Array.from({ length: Math.min(100, tokens - sent) }, () => post(source.route, "{}")));
    expect(new Set(answers.map((answer) => answer.status))).toEqual(new Set([refusedAs]));
  }
}

it("builds its route table from all 12 of prod's sources", () => {
  expect(SOURCES).toHaveLength(12);
});

describe.each(SOURCES.map((source) => [source.name, source] as const))("source %s", (name, source) => {
  let tokensUsed = 0;
  const counted = async (request: Promise<Answer>) => {
    tokensUsed += 1;
    return request;
  };

  it("queues a good event and answers 202 with its source and schema version", async () => {
    const answer = await counted(send(source, eventOf(source, "good")));
    expect(answer).toEqual({ status: 202, body: expect.objectContaining({ accepted: 1, source: name, schemaVersion: source.schemaVersion, messageId: expect.any(String) }) });
  });

  it("answers 404 for a route no source has, without touching the bucket", async () => {
    expect(await post(`${source.route}-v0`, JSON.stringify(eventOf(source, "lost")), authorizationFor(source))).toEqual({ status: 404, body: { message: "Not Found" } });
    expect(await post(source.route, "", authorizationFor(source), "GET")).toEqual({ status: 404, body: { message: "Not Found" } });
  });

  it.each([
    ["a body that is not JSON", () => "{ not json", "body is not JSON"],
    ["an event off the contract", () => ({ ...eventOf(source, "bad"), entityId: undefined }), "entityId must be a string"],
    ["another source's event", () => eventOf(source, "other", { source: "someone-else" }), `source "someone-else" is not this route's source "${name}"`],
    ["another schema version", () => eventOf(source, "old", { schemaVersion: source.schemaVersion + 1 }), `schemaVersion ${source.schemaVersion + 1} is not the version this route accepts (${source.schemaVersion})`],
    ["one bad event of a list", () => [eventOf(source, "list-0"), { ...eventOf(source, "list-1"), occurredAt: "yesterday" }], "event 1: occurredAt must be an ISO-8601 date-time"],
  ])("refuses %s with 400 naming the problem", async (_label, body, problem) => {
    const answer = await counted(send(source, body()));
    expect(answer.status).toBe(400);
    expect(answer.body).toEqual({ error: { code: "PayloadInvalid", message: expect.stringContaining(problem), source: name, requestId: expect.any(String) } });
  });

  it("refuses a payload larger than one SQS message with 413", async () => {
    const answer = await counted(send(source, eventOf(source, "huge", { payload: { blob: "x".repeat(SQS_MAX_MESSAGE_BYTES) } })));
    expect(answer.status).toBe(413);
    expect(answer.body.error).toEqual(expect.objectContaining({ code: "PayloadTooLarge", message: expect.stringContaining(`at most ${SQS_MAX_MESSAGE_BYTES}`), source: name }));
  });

  it("refuses a caller without credentials for the route's kind of authorisation", async () => {
    const answer = await counted(post(source.route, JSON.stringify(eventOf(source, "anonymous"))));
    expect(answer).toEqual(source.jwtScope !== undefined ? { status: 401, body: { message: "Unauthorized" } } : { status: 403, body: { message: "Forbidden" } });
  });

  it("answers 429 once the caller has spent the route's burst, and takes requests again as the rate refills it", async () => {
    await drain(source, source.burstLimit - tokensUsed);
    expect(await send(source, eventOf(source, "throttled"))).toEqual({ status: 429, body: { message: "Too Many Requests" } });
    // One token's worth of time at the configured rate.
    clock.now += Math.ceil(1000 / source.rateLimit);
    expect((await send(source, "{ still not json")).status).toBe(400);
    expect(await send(source, eventOf(source, "throttled-again"))).toEqual({ status: 429, body: { message: "Too Many Requests" } });
  });
});

it("refuses a body above API Gateway's 10 MB at the gateway, before the front", async () => {
  const [source] = SOURCES;
  clock.now += 60_000;
  const integrations = gateway.stats.integrations;
  expect(await post(source.route, "x".repeat(HTTP_API_MAX_PAYLOAD_BYTES + 1), authorizationFor(source))).toEqual({ status: 413, body: { message: "Request Entity Too Large" } });
  expect(gateway.stats.integrations).toBe(integrations);
});

async function consumeQueue(): Promise<void> {
  const mapping = startSqsMapping({ sqs, queueUrl, queueArn: `arn:aws:sqs:us-east-1:000000000000:${QUEUE}`, fn: consumer, batchSize: 10, reportBatchItemFailures: true, waitTimeSeconds: 1 });
  await mapping.idle();
  await mapping.stop();
}

async function rawEvents(): Promise<{ eventId: string; source: string }[]> {
  const keys = await listKeys(s3, RAW, RAW_API_PREFIX);
  const texts = await Promise.all(keys.map((key) => readText(s3, RAW, key)));
  return texts.flatMap((text) => text.split("\n").filter((line) => line.length > 0).map((line) => JSON.parse(line)));
}

it("lands exactly the good events in the raw bucket, each once with its source, and nothing else anywhere", async () => {
  await consumeQueue();
  const landed = await rawEvents();
  expect(landed.map((event) => [event.eventId, event.source]).sort()).toEqual(SOURCES.map((source) => [`contract-${source.name}-good`, source.name]).sort());
  expect(await listKeys(s3, QUARANTINE)).toEqual([]);
  const { Attributes } = await sqs.send(new GetQueueAttributesCommand({ QueueUrl: queueUrl, AttributeNames: ["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"] }));
  expect(Attributes).toEqual({ ApproximateNumberOfMessages: "0", ApproximateNumberOfMessagesNotVisible: "0" });
});

it("quarantines a message whose source attribute does not match its events, with the reason, and lands none of it", async () => {
  const [orders, payments] = SOURCES;
  const before = await rawEvents();
  await sqs.send(new SendMessageCommand({
    QueueUrl: queueUrl,
    MessageBody: JSON.stringify(eventOf(payments, "smuggled")),
    MessageAttributes: { source: { DataType: "String", StringValue: orders.name }, schemaVersion: { DataType: "Number", StringValue: String(orders.schemaVersion) } },
  }));
  await consumeQueue();
  expect(await rawEvents()).toEqual(before);
  const [key] = await listKeys(s3, QUARANTINE);
  expect(await readText(s3, QUARANTINE, key)).toContain(`the source attribute \\"${orders.name}\\" does not match event contract-${payments.name}-smuggled's source \\"${payments.name}\\"`);
});

describe("the shipped front on HTTP API v2 events as AWS sends them (third-party samples)", () => {
  const [orders] = SOURCES;
  const onRoute = (fixture: string, body: string) => ({ ...thirdPartyEvent(fixture), routeKey: `POST ${orders.route}`, rawPath: orders.route, body, isBase64Encoded: false });
  const answerOf = (outcome: Awaited<ReturnType<ShippedFunction["invoke"]>>) => {
    if (!outcome.ok) throw new Error(`the front failed: ${JSON.stringify(outcome.error)}`);
    const result = outcome.result as { statusCode: number; body: string };
    return { status: result.statusCode, body: JSON.parse(result.body) };
  };

  it.each(HTTP_API_V2_EVENTS)("%s: queues a good event (202) and names the problem of a bad one (400)", async (fixture) => {
    const id = `sample-${HTTP_API_V2_EVENTS.indexOf(fixture)}`;
    const good = answerOf(await front.invoke(onRoute(fixture, JSON.stringify(eventOf(orders, id)))));
    expect(good).toEqual({ status: 202, body: expect.objectContaining({ accepted: 1, source: orders.name, schemaVersion: orders.schemaVersion }) });
    const bad = answerOf(await front.invoke(onRoute(fixture, JSON.stringify({ ...eventOf(orders, `${id}-bad`), occurredAt: "yesterday" }))));
    expect(bad).toEqual({ status: 400, body: { error: { code: "PayloadInvalid", message: expect.stringContaining("occurredAt must be an ISO-8601 date-time"), source: orders.name, requestId: expect.any(String) } } });
  });

  it("lands the samples' good events and none of their bad ones", async () => {
    await consumeQueue();
    const landed = (await rawEvents()).map((event) => event.eventId).filter((eventId) => eventId.includes("-sample-"));
    expect(landed.sort()).toEqual(HTTP_API_V2_EVENTS.map((_fixture, i) => `contract-${orders.name}-sample-${i}`).sort());
  });
});
