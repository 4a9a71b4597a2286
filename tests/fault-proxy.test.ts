/**
 * The fault-injection proxy (local/fault-proxy.ts) between real SDK v3 clients and real
 * local servers (dynalite, s3rver): transparent forwarding, AWS-shaped throttling that the
 * SDK's own retries absorb, connection resets and stalls, and seeded determinism.
 */
import { DynamoDBClient, GetItemCommand, PutItemCommand } from "@aws-sdk/client-dynamodb";
import { GetObjectCommand, PutObjectCommand, S3Client } from "@aws-sdk/client-s3";
import { CreateQueueCommand, ReceiveMessageCommand, SendMessageCommand, SQSClient } from "@aws-sdk/client-sqs";
import * as http from "http";
import { startSqsServer } from "../local/sqs-server";
import {
  chooseFault,
  connectionReset,
  connectionStall,
  dynamoDbThrottle,
  FaultProxy,
  FaultRule,
  ProxiedRequest,
  s3SlowDown,
  startFaultProxy,
} from "../local/fault-proxy";
import {
  createClaimsTable,
  EMULATOR_CREDENTIALS,
  EMULATOR_REGION,
  listKeys,
  readText,
  RunningEmulator,
  scanAll,
  startDynalite,
  startS3rver,
} from "./support/aws-emulators";

const BUCKET = "lake-raw";
let dynalite: RunningEmulator;
let s3rver: RunningEmulator;
const proxies: FaultProxy[] = [];

beforeAll(async () => {
  [dynalite, s3rver] = await Promise.all([startDynalite(), startS3rver([BUCKET])]);
});

afterEach(async () => {
  await Promise.all(proxies.splice(0).map((proxy) => proxy.stop()));
});

afterAll(async () => {
  await Promise.all([dynalite.stop(), s3rver.stop()]);
});

async function proxyTo(target: RunningEmulator, seed = 1): Promise<FaultProxy> {
  const proxy = await startFaultProxy(target.endpoint, { seed });
  proxies.push(proxy);
  return proxy;
}

interface ClientSettings {
  maxAttempts?: number;
  /** Ends a call that gets no answer in time. With @smithy/node-http-handler 4.x a requestTimeout alone only logs a warning; throwOnRequestTimeout makes it fail the call. */
  requestTimeout?: number;
}

function dynamoDbVia(proxy: FaultProxy, { maxAttempts = 3, requestTimeout }: ClientSettings = {}): DynamoDBClient {
  return new DynamoDBClient({ region: EMULATOR_REGION, credentials: EMULATOR_CREDENTIALS, endpoint: proxy.endpoint, maxAttempts, ...(requestTimeout ? { requestHandler: { requestTimeout, throwOnRequestTimeout: true } } : {}) });
}

function s3Via(proxy: FaultProxy, { maxAttempts = 3 }: ClientSettings = {}): S3Client {
  return new S3Client({ region: EMULATOR_REGION, credentials: EMULATOR_CREDENTIALS, endpoint: proxy.endpoint, forcePathStyle: true, maxAttempts });
}

let tableCounter = 0;
async function newTable(client: DynamoDBClient): Promise<string> {
  const name = `faults-${++tableCounter}`;
  await createClaimsTable(client, name);
  return name;
}

/** Runs calls one after another, so that the proxy sees them in a fixed order, and sums the SDK's attempts. */
async function sequentially(count: number, call: (index: number) => Promise<{ $metadata: { attempts?: number } }>): Promise<number> {
  let attempts = 0;
  for (let index = 0; index < count; index++) attempts += (await call(index)).$metadata.attempts ?? 1;
  return attempts;
}

describe("forwarding", () => {
  it("passes DynamoDB and S3 traffic through unchanged, signatures included", async () => {
    const dynamoProxy = await proxyTo(dynalite);
    const dynamo = dynamoDbVia(dynamoProxy);
    const table = await newTable(dynamo);
    await dynamo.send(new PutItemCommand({ TableName: table, Item: { pk: { S: "a" }, note: { S: "through the proxy" } } }));
    const { Item } = await dynamo.send(new GetItemCommand({ TableName: table, Key: { pk: { S: "a" } }, ConsistentRead: true }));
    expect(Item).toEqual({ pk: { S: "a" }, note: { S: "through the proxy" } });

    const s3Proxy = await proxyTo(s3rver);
    const s3 = s3Via(s3Proxy);
    // s3rver checks the SigV4 signature, Host header included.
    await s3.send(new PutObjectCommand({ Bucket: BUCKET, Key: "forwarded/one.json", Body: '{"ok":true}', ContentType: "application/json" }));
    expect(await readText(s3, BUCKET, "forwarded/one.json")).toBe('{"ok":true}');
    const { ContentType } = await s3.send(new GetObjectCommand({ Bucket: BUCKET, Key: "forwarded/one.json" }));
    expect(ContentType).toBe("application/json");

    for (const proxy of [dynamoProxy, s3Proxy]) {
      const { seen, forwarded } = proxy.requestCount();
      expect(seen).toBeGreaterThan(0);
      expect(forwarded).toBe(seen);
      expect(proxy.faultCounts()).toEqual({});
    }
    dynamo.destroy();
    s3.destroy();
  });
});

describe("throttling the SDK retries through", () => {
  it("DynamoDB at 20%: every PutItem succeeds, each throttle is one extra attempt, every item is stored once", async () => {
    const proxy = await proxyTo(dynalite, 2026);
    const dynamo = dynamoDbVia(proxy, { maxAttempts: 10 });
    const table = await newTable(dynamo);
    proxy.setRules([dynamoDbThrottle(0.2, ["PutItem"])]);
    proxy.resetCounters();

    const items = 20;
    const attempts = await sequentially(items, (i) => dynamo.send(new PutItemCommand({ TableName: table, Item: { pk: { S: `item-${i}` } } })));

    const throttles = proxy.faultCounts()["dynamodb-throttle"];
    expect(throttles).toBeGreaterThan(0);
    expect(attempts - items).toBe(throttles);
    expect(proxy.requestCount()).toEqual({ seen: attempts, forwarded: items });
    const stored = (await scanAll(dynamo, table)).map((item) => item.pk);
    expect(stored.sort()).toEqual(Array.from({ length: items }, (_, i) => `item-${i}`).sort());
    dynamo.destroy();
  });

  it("S3 SlowDown at 10%: every PUT lands and the counts match", async () => {
    const proxy = await proxyTo(s3rver, 11);
    const s3 = s3Via(proxy, { maxAttempts: 10 });
    proxy.setRules([s3SlowDown(0.1)]);

    const objects = 25;
    const attempts = await sequentially(objects, (i) => s3.send(new PutObjectCommand({ Bucket: BUCKET, Key: `slow/${i}.txt`, Body: `object ${i}` })));

    const slowDowns = proxy.faultCounts()["s3-slow-down"];
    expect(slowDowns).toBeGreaterThan(0);
    expect(attempts - objects).toBe(slowDowns);
    expect(await listKeys(s3, BUCKET, "slow/")).toEqual(Array.from({ length: objects }, (_, i) => `slow/${i}.txt`).sort());
    expect(proxy.faultCounts()).toEqual({ "s3-slow-down": slowDowns });
    s3.destroy();
  });

  it("the throttle answers are the services' own error shapes", async () => {
    const proxy = await proxyTo(dynalite);
    proxy.setRules([dynamoDbThrottle(1)]);
    const dynamo = dynamoDbVia(proxy, { maxAttempts: 1 });
    await expect(dynamo.send(new GetItemCommand({ TableName: "any", Key: { pk: { S: "a" } } }))).rejects.toMatchObject({
      name: "ProvisionedThroughputExceededException",
      $metadata: { httpStatusCode: 400 },
    });
    dynamo.destroy();

    const s3ProxyAll = await proxyTo(s3rver);
    s3ProxyAll.setRules([s3SlowDown(1)]);
    const s3 = s3Via(s3ProxyAll, { maxAttempts: 1 });
    await expect(s3.send(new PutObjectCommand({ Bucket: BUCKET, Key: "never.txt", Body: "x" }))).rejects.toMatchObject({ name: "SlowDown", $metadata: { httpStatusCode: 503 } });
    // A GET is not a PUT object: it goes through.
    await expect(s3.send(new GetObjectCommand({ Bucket: BUCKET, Key: "never.txt" }))).rejects.toMatchObject({ name: "NoSuchKey" });
    s3.destroy();
  });
});

describe("connection faults", () => {
  it("a reset fails the call without retries and is absorbed with them", async () => {
    const proxy = await proxyTo(dynalite);
    const setup = dynamoDbVia(proxy);
    const table = await newTable(setup);
    setup.destroy();
    const resetOnce: FaultRule = { ...connectionReset(1), maxFaults: 1 };

    proxy.setRules([resetOnce]);
    proxy.resetCounters();
    const noRetries = dynamoDbVia(proxy, { maxAttempts: 1 });
    await expect(noRetries.send(new PutItemCommand({ TableName: table, Item: { pk: { S: "lost" } } }))).rejects.toThrow(/ECONNRESET|socket hang up/);
    expect(proxy.faultCounts()).toEqual({ "connection-reset": 1 });
    expect(proxy.requestCount()).toEqual({ seen: 1, forwarded: 0 });
    noRetries.destroy();

    proxy.resetCounters();
    const withRetries = dynamoDbVia(proxy, { maxAttempts: 3 });
    const { $metadata } = await withRetries.send(new PutItemCommand({ TableName: table, Item: { pk: { S: "kept" } } }));
    expect($metadata.attempts).toBe(2);
    expect(proxy.faultCounts()).toEqual({ "connection-reset": 1 });
    expect((await scanAll(withRetries, table)).map((item) => item.pk)).toEqual(["kept"]);
    withRetries.destroy();
  });

  it("a stall ends in the client's request timeout", async () => {
    const proxy = await proxyTo(dynalite);
    proxy.setRules([connectionStall(1)]);
    const dynamo = dynamoDbVia(proxy, { maxAttempts: 1, requestTimeout: 500 });
    await expect(dynamo.send(new GetItemCommand({ TableName: "any", Key: { pk: { S: "a" } } }))).rejects.toMatchObject({ name: "TimeoutError" });
    expect(proxy.faultCounts()).toEqual({ "connection-stall": 1 });
    dynamo.destroy();
  });

  it("stop() releases a stalled request whose client would wait forever", async () => {
    const proxy = await startFaultProxy(dynalite.endpoint);
    proxy.setRules([connectionStall(1)]);
    const waiting = new Promise<string>((resolve, reject) => {
      const request = http.request(proxy.endpoint, { method: "POST" }, (response) => resolve(`answered ${response.statusCode}`));
      request.on("error", (error) => reject(error));
      request.end("{}");
    });
    await new Promise((resolve) => setTimeout(resolve, 100));
    await proxy.stop();
    await expect(waiting).rejects.toThrow(/socket hang up|ECONNRESET/);
  });
});

describe("in front of the local SQS server", () => {
  it("a reset ReceiveMessage never reached the queue, so the SDK's retry gets the message", async () => {
    const sqs = await startSqsServer();
    const proxy = await startFaultProxy(sqs.endpoint);
    proxies.push(proxy);
    const client = new SQSClient({ region: EMULATOR_REGION, credentials: EMULATOR_CREDENTIALS, endpoint: proxy.endpoint, maxAttempts: 2 });
    const { QueueUrl } = await client.send(new CreateQueueCommand({ QueueName: "through-proxy" }));
    await client.send(new SendMessageCommand({ QueueUrl, MessageBody: "once" }));
    const isReceive = (request: ProxiedRequest) => request.headers["x-amz-target"] === "AmazonSQS.ReceiveMessage";
    proxy.setRules([{ ...connectionReset(1, isReceive), maxFaults: 1 }]);

    const { Messages = [], $metadata } = await client.send(new ReceiveMessageCommand({ QueueUrl, WaitTimeSeconds: 1 }));
    expect(Messages.map((message) => message.Body)).toEqual(["once"]);
    expect($metadata.attempts).toBe(2);
    expect(proxy.faultCounts()).toEqual({ "connection-reset": 1 });
    client.destroy();
    await proxy.stop();
    await sqs.stop();
  });
});

describe("determinism", () => {
  /** Which of `count` sequential requests got the fault, through a proxy with this seed. */
  async function faultPattern(seed: number, count: number): Promise<boolean[]> {
    const proxy = await proxyTo(dynalite, seed);
    proxy.setRules([{ name: "teapot", matches: () => true, probability: 0.3, action: { kind: "respond", status: 418 } }]);
    const agent = new http.Agent({ keepAlive: true });
    const pattern: boolean[] = [];
    for (let i = 0; i < count; i++) {
      const status = await new Promise<number>((resolve, reject) => {
        const request = http.request(proxy.endpoint, { method: "POST", agent, headers: { "content-type": "application/x-amz-json-1.0" } }, (response) => {
          response.resume();
          response.on("end", () => resolve(response.statusCode ?? 0));
        });
        request.on("error", reject);
        request.end("{}");
      });
      pattern.push(status === 418);
    }
    agent.destroy();
    expect(pattern.filter(Boolean).length).toBe(proxy.faultCounts().teapot);
    return pattern;
  }

  it("the same seed gives the same fault sequence, another seed another", async () => {
    const first = await faultPattern(99, 40);
    expect(await faultPattern(99, 40)).toEqual(first);
    expect(await faultPattern(100, 40)).not.toEqual(first);
    expect(first).toContain(true);
    expect(first).toContain(false);
  });

  it("rolls only for matching rules, and the first hit wins", () => {
    const request: ProxiedRequest = { method: "PUT", path: "/bucket/key", headers: {} };
    const never: FaultRule = { name: "never-matches", matches: () => false, probability: 1, action: { kind: "reset" } };
    const miss: FaultRule = { name: "misses", matches: () => true, probability: 0.5, action: { kind: "reset" } };
    const hit: FaultRule = { name: "hits", matches: () => true, probability: 0.5, action: { kind: "stall" } };
    const rolls = [0.9, 0.1];
    let drawn = 0;
    const roll = () => rolls[drawn++];
    expect(chooseFault([never, miss, hit], request, roll, {})?.name).toBe("hits");
    expect(drawn).toBe(2);
    expect(chooseFault([{ ...hit, maxFaults: 1 }], request, () => 0, { hits: 1 })).toBeUndefined();
  });
});
