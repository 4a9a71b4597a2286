/**
 * End to end on the local data plane (local/data-plane.ts): the shipped handlers, fed by
 * Lambda's pollers and S3 notifications, on kinesalite, dynalite, s3rver, the local SQS
 * server, PostgreSQL (the warehouse behind the Data API stand-in, and Aurora's stand-in)
 * and redis-server. Every scenario counts each event id in every store.
 */
import { GetRecordsCommand, GetShardIteratorCommand, ListShardsCommand } from "@aws-sdk/client-kinesis";
import { kinesisEventOf } from "../local/event-sources";
import { orderEvent, sampleOrders } from "../local/sample-data";
import { LocalDataPlane, startLocalDataPlane } from "../local/data-plane";
import { listQuarantine } from "../operations/quarantine";
import { ZoneCounts, countsPerZone, notExactlyOnce, renotify } from "./support/e2e";
import { insertOrders, putOnStream, sendToQueue } from "../local/producers";

jest.setTimeout(240_000);

const eventIdsOf = (events: readonly Record<string, unknown>[]) => events.map((event) => String(event.eventId));
const NO_DEVIATION = { missing: [], repeated: [], unexpected: [] };

describe("the pipeline end to end, as shipped, on the local servers", () => {
  let plane: LocalDataPlane;
  const streamEvents = sampleOrders(1000, 11, "stream").map(orderEvent);
  const poisonBatch = sampleOrders(999, 12, "mixed").map(orderEvent);
  const queueEvents = sampleOrders(500, 13, "queue").map(orderEvent);
  const malformed = '{"eventId":"truncated-by-the-producer","source":"orders-api","entityId":"o-1"';
  let afterIngest: ZoneCounts;

  beforeAll(async () => {
    plane = await startLocalDataPlane();
  });
  afterAll(async () => {
    await plane?.stop();
  });

  it("1. ingest: 1,000 records through the stream land once each in the speed layer, and the raw archive holds each once", async () => {
    await putOnStream(plane, streamEvents.map((event) => JSON.stringify(event)));
    await plane.idle();

    afterIngest = await countsPerZone(plane);
    expect(notExactlyOnce(afterIngest.speedLayer, eventIdsOf(streamEvents))).toEqual(NO_DEVIATION);
    expect(notExactlyOnce(afterIngest.raw, eventIdsOf(streamEvents))).toEqual(NO_DEVIATION);
    expect(plane.sources.stream.stats).toMatchObject({ retries: 0, bisections: 0, batchesSentToOnFailure: 0 });
  });

  it("2. poison: 1 malformed record among 1,000 is quarantined with its reason and payload, 999 land, and nothing is retried for it", async () => {
    const before = { ...plane.sources.stream.stats } as Record<string, number>;
    const payloads = poisonBatch.map((event) => JSON.stringify(event));
    payloads.splice(500, 0, malformed);
    await putOnStream(plane, payloads);
    await plane.idle();

    const counts = await countsPerZone(plane);
    const landed = [...eventIdsOf(streamEvents), ...eventIdsOf(poisonBatch)];
    expect(notExactlyOnce(counts.speedLayer, landed)).toEqual(NO_DEVIATION);
    const after = plane.sources.stream.stats as Record<string, number>;
    expect({ retries: after.retries - before.retries, bisections: after.bisections - before.bisections, toDlq: after.batchesSentToOnFailure - before.batchesSentToOnFailure }).toEqual({ retries: 0, bisections: 0, toDlq: 0 });
    const cases = await listQuarantine(plane.clients.s3, plane.names.transformedBucket);
    // The speed layer and the lake's Transformation each refused it: one case, both stages, the exact bytes.
    expect(cases).toHaveLength(1);
    expect(cases[0]).toMatchObject({ replayTo: "stream", stages: expect.arrayContaining(["speed-layer", "lake-transform"]), reasons: [expect.stringMatching(/^not JSON/)] });
    expect(cases[0].entries.map((entry) => entry.record.payload.data)).toEqual([malformed, malformed]);
  });

  it("3. redelivery: the same records again (the producer's retry, and Lambda's redelivery of a batch) add nothing anywhere", async () => {
    const before = await countsPerZone(plane);
    await putOnStream(plane, streamEvents.slice(0, 300).map((event) => JSON.stringify(event)));
    await plane.idle();
    // Lambda hands the speed layer the same batch again.
    const redelivered = await plane.functions.streamConsumer.invoke(await lastStreamBatchOf(plane));
    expect(redelivered).toMatchObject({ ok: true, result: { batchItemFailures: [] } });
    await plane.idle();

    expect(await countsPerZone(plane)).toEqual(before);
  });

  it("6. lake to warehouse: raw → transformed → staged → the loader's SQL on PostgreSQL, and re-running every stage gives the same rows", async () => {
    // API producers batch events: 25 per message, so the 500 land in a couple of raw objects.
    await sendToQueue(plane, Array.from({ length: queueEvents.length / 25 }, (_, i) => JSON.stringify(queueEvents.slice(i * 25, i * 25 + 25))));
    await plane.idle();
    const all = [...eventIdsOf(streamEvents), ...eventIdsOf(poisonBatch), ...eventIdsOf(queueEvents)];
    const first = await countsPerZone(plane);
    for (const zone of ["raw", "transformed", "staged", "warehouse"] as const) expect({ zone, ...notExactlyOnce(first[zone], all) }).toEqual({ zone, ...NO_DEVIATION });

    // Every raw object notified again (copied onto itself: ObjectCreated:Copy): Transformation, Staging and the loader all run once more.
    expect(await renotify(plane, plane.names.rawBucket, "")).toBeGreaterThan(0);
    await plane.idle();
    expect(await countsPerZone(plane)).toEqual(first);
    const [{ loads }] = await plane.query<{ loads: number }>("warehouse", "SELECT COUNT(*)::int AS loads FROM etl.load_history");
    expect(loads).toBeGreaterThan(0);
  });

  it("7. reporting: a miss then a hit through the cache; Redis down answers from the database; Redis back gives hits again", async () => {
    const orders = sampleOrders(300, 14, "report");
    await insertOrders(plane, orders);
    const expected = await plane.query<{ day: string; orders: number }>("oltp", "SELECT to_char(date_trunc('day', ordered_at), 'YYYY-MM-DD') AS day, COUNT(*)::int AS orders FROM sales.orders WHERE branch_code = 'north' GROUP BY 1 ORDER BY 1");
    const ask = async () => {
      const answer = await plane.report("north", "2026-11-30", "2026-12-02");
      return { cache: answer.cache, days: answer.rows.map((row) => ({ day: row.day, orders: row.orders })) };
    };

    expect(await ask()).toEqual({ cache: "miss", days: expected });
    expect(await ask()).toEqual({ cache: "hit", days: expected });
    await plane.redis.stop();
    expect(await ask()).toEqual({ cache: "bypass", days: expected });
    await plane.redis.start();
    // The client reconnects in the background (backing off up to 2 s); until then answers bypass the cache.
    let first = await ask();
    for (let attempt = 0; attempt < 60 && first.cache === "bypass"; attempt++) {
      await new Promise((resolve) => setTimeout(resolve, 100));
      first = await ask();
    }
    // The restarted Redis is empty (no persistence locally): it fills on the first answer.
    expect([first, await ask()]).toEqual([{ cache: "miss", days: expected }, { cache: "hit", days: expected }]);
  });
});

/** The Kinesis event of the first 100 records still on the stream's first shard, as Lambda would deliver it again. */
async function lastStreamBatchOf(plane: LocalDataPlane) {
  const { Shards = [] } = await plane.clients.kinesis.send(new ListShardsCommand({ StreamName: plane.names.stream }));
  const shardId = Shards[0].ShardId!;
  const { ShardIterator } = await plane.clients.kinesis.send(new GetShardIteratorCommand({ StreamName: plane.names.stream, ShardId: shardId, ShardIteratorType: "TRIM_HORIZON" }));
  const { Records = [] } = await plane.clients.kinesis.send(new GetRecordsCommand({ ShardIterator, Limit: 100 }));
  return kinesisEventOf(Records.map((record) => ({ shardId, record })), plane.streamArn);
}
