/**
 * End to end with faults on the wire: every AWS server the shipped handlers call sits
 * behind a fault proxy (local/fault-proxy.ts), which answers DynamoDB throttling and S3
 * SlowDown in their wire formats, resets connections and stalls requests. Producers and
 * checks go straight to the servers. Each scenario counts every event id in every store.
 */
import { connectionReset, connectionStall, dynamoDbThrottle, s3SlowDown } from "../local/fault-proxy";
import { orderEvent, sampleOrders } from "../local/sample-data";
import { LocalDataPlane, startLocalDataPlane } from "../local/data-plane";
import { countsPerZone, notExactlyOnce } from "./support/e2e";
import { putOnStream, sendToQueue } from "../local/producers";

jest.setTimeout(240_000);

const NO_DEVIATION = { missing: [], repeated: [], unexpected: [] };
const idsOf = (events: readonly Record<string, unknown>[]) => events.map((event) => String(event.eventId));
const isBatchWrite = (request: { headers: Record<string, string | string[] | undefined> }) => request.headers["x-amz-target"] === "DynamoDB_20120810.BatchWriteItem";
const isObjectPut = (request: { method: string; path: string }) => request.method === "PUT" && request.path.split("?")[0].split("/").length > 2;

describe("the pipeline end to end with network faults between the handlers and the servers", () => {
  let plane: LocalDataPlane;
  /** Every event id sent so far, and those of them sent on the stream (the speed layer's). */
  const delivered: string[] = [];
  const streamed: string[] = [];

  beforeAll(async () => {
    // A short function timeout (a stalled call must end inside it, through the SDK's own request
    // timeout), which also keeps the wait for a failed queue batch's redelivery short.
    // The Firehose transformation keeps the stack's 60 s: 500 claims under 20% throttling, with the
    // SDK's throttling back-off, can take longer than 8 s on a loaded machine (and Firehose waits up to 5 min).
    plane = await startLocalDataPlane({ faults: true, functionTimeoutSeconds: 8, transformationTimeoutSeconds: 60 });
  });
  afterAll(async () => {
    await plane?.stop();
  });

  /** Both ingest paths: half the events on the stream, half on the queue (10 per message). */
  async function ingest(events: Record<string, unknown>[]) {
    const half = events.length / 2;
    await putOnStream(plane, events.slice(0, half).map((event) => JSON.stringify(event)));
    await sendToQueue(plane, Array.from({ length: half / 10 }, (_, i) => JSON.stringify(events.slice(half + i * 10, half + i * 10 + 10))));
    await plane.idle();
    delivered.push(...idsOf(events));
    streamed.push(...idsOf(events.slice(0, half)));
  }

  it("4. throttling: ~20% of DynamoDB calls throttled and ~10% of S3 PUTs slowed down are retried with backoff; nothing is lost and each fault is counted", async () => {
    plane.proxies!.dynamodb.setRules([dynamoDbThrottle(0.2)]);
    plane.proxies!.s3.setRules([s3SlowDown(0.1)]);
    const events = sampleOrders(600, 21, "throttled").map(orderEvent);

    await ingest(events);

    const counts = await countsPerZone(plane);
    expect(notExactlyOnce(counts.speedLayer, streamed)).toEqual(NO_DEVIATION);
    for (const zone of ["raw", "transformed", "staged", "warehouse"] as const) expect({ zone, ...notExactlyOnce(counts[zone], delivered) }).toEqual({ zone, ...NO_DEVIATION });
    const faults = { ...plane.proxies!.dynamodb.faultCounts(), ...plane.proxies!.s3.faultCounts() };
    const requests = { dynamodb: plane.proxies!.dynamodb.requestCount(), s3: plane.proxies!.s3.requestCount() };
    // Every injected fault was a request the proxy answered itself; the handlers' retries made up the difference.
    expect(faults["dynamodb-throttle"]).toBeGreaterThan(0);
    expect(faults["s3-slow-down"]).toBeGreaterThan(0);
    expect(requests.dynamodb.seen - requests.dynamodb.forwarded).toBe(faults["dynamodb-throttle"]);
    expect(requests.s3.seen - requests.s3.forwarded).toBe(faults["s3-slow-down"]);
    expect(Object.values(plane.functions).map((fn) => fn.timeouts)).toEqual(Object.values(plane.functions).map(() => 0));
  });

  it("5. connection faults: resets and stalls mid-request end within the functions' bounds, and every record lands (or is retried), never dropped", async () => {
    for (const proxy of Object.values(plane.proxies!)) proxy.resetCounters();
    plane.proxies!.dynamodb.setRules([{ ...connectionStall(1, isBatchWrite), maxFaults: 1 }, { ...connectionReset(0.3), maxFaults: 20 }]);
    plane.proxies!.s3.setRules([{ ...connectionStall(1, isObjectPut), maxFaults: 1 }, { ...connectionReset(0.3, isObjectPut), maxFaults: 5 }]);
    const events = sampleOrders(300, 22, "reset").map(orderEvent);
    const before = { ...(plane.sources.stream.stats as Record<string, number>) };
    const timeoutsBefore = Object.values(plane.functions).map((fn) => fn.timeouts);

    await ingest(events);

    const counts = await countsPerZone(plane);
    expect(notExactlyOnce(counts.speedLayer, streamed)).toEqual(NO_DEVIATION);
    for (const zone of ["raw", "transformed", "staged", "warehouse"] as const) expect({ zone, ...notExactlyOnce(counts[zone], delivered) }).toEqual({ zone, ...NO_DEVIATION });
    const faults = { dynamodb: plane.proxies!.dynamodb.faultCounts(), s3: plane.proxies!.s3.faultCounts() };
    expect(faults.dynamodb["connection-stall"]).toBe(1);
    expect(faults.s3["connection-stall"]).toBe(1);
    expect((faults.dynamodb["connection-reset"] ?? 0) + (faults.s3["connection-reset"] ?? 0)).toBeGreaterThan(0);
    // The stalls ended through the SDK's request timeout, inside every function's timeout: no invocation was killed.
    expect(Object.values(plane.functions).map((fn) => fn.timeouts)).toEqual(timeoutsBefore);
    // Nothing reached the stream's on-failure queue.
    const after = plane.sources.stream.stats as Record<string, number>;
    expect(after.batchesSentToOnFailure - before.batchesSentToOnFailure).toBe(0);
  });
});
