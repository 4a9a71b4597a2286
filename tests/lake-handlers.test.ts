/**
 * The lake handlers (Transformation and Staging) as plain functions against a real local
 * S3 (s3rver), plus their factories serialised and run the way CallbackFunction ships them.
 */
import { PutObjectCommand, S3Client } from "@aws-sdk/client-s3";
import type { S3Event } from "aws-lambda";
import { gzipSync } from "zlib";
import { stagingFunctionFactory, transformFunctionFactory } from "../components/lake/data-lake";
import { cleanKeyFor, decodeS3EventKey, manifestKeyFor, quarantineKeyFor, rawApiObjectKey, stagedKeyFor } from "../functions/lake-layout";
import { csvField, handleCleanObjectsCreated, parseCleanRows } from "../functions/lake-staging";
import { handleRawObjectsCreated, splitRows, transformText } from "../functions/lake-transform";
import { EMULATOR_REGION, RunningEmulator, expectShipsAsFactory, invokeShipped, listKeys, readText, s3Client, startS3rver } from "./support/aws-emulators";
import { s3NotificationFor } from "./support/third-party-events";

const RAW = "lake-raw";
const TRANSFORMED = "lake-transformed";
const STAGED = "lake-staged";
const quiet = () => undefined;

function ingestEvent(id: string, overrides: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    eventId: id,
    source: "billing",
    entityId: `invoice-${id}`,
    eventType: "invoice.paid",
    occurredAt: "2026-07-01T23:30:00Z",
    payload: { note: 'says "hi", then leaves', total: 12.5 },
    ...overrides,
  };
}

const jsonl = (values: unknown[]) => values.map((value) => (typeof value === "string" ? value : JSON.stringify(value))).join("\n") + "\n";

/** S3 notifications URL-encode the key (spaces as "+"), keeping the slashes. */
function encodeS3Key(key: string): string {
  return encodeURIComponent(key).replace(/%2F/g, "/").replace(/%20/g, "+");
}

function s3Event(bucket: string, ...keys: string[]): S3Event {
  return {
    Records: keys.map((key, index) => ({
      eventVersion: "2.1",
      eventSource: "aws:s3",
      awsRegion: EMULATOR_REGION,
      eventTime: "2026-07-02T00:00:00.000Z",
      eventName: "ObjectCreated:Put",
      userIdentity: { principalId: "AWS:TEST" },
      requestParameters: { sourceIPAddress: "127.0.0.1" },
      responseElements: { "x-amz-request-id": "req", "x-amz-id-2": "id2" },
      s3: {
        s3SchemaVersion: "1.0",
        configurationId: "lake",
        bucket: { name: bucket, ownerIdentity: { principalId: "TEST" }, arn: `arn:aws:s3:::${bucket}` },
        object: { key: encodeS3Key(key), size: 1, eTag: "etag", sequencer: String(index) },
      },
    })),
  };
}

describe("row splitting", () => {
  it("reads JSON lines, Firehose's back-to-back records, and braces inside strings", () => {
    expect(splitRows('{"a":1}\n\n{"b":"}{"}{"c":[{"d":2}]}\r\n')).toEqual(['{"a":1}', '{"b":"}{"}', '{"c":[{"d":2}]}']);
  });

  it("cuts a bad record out as a row of its own, so its parse error is its reason and its neighbours still count", () => {
    expect(splitRows('{"a":1} trailing')).toEqual(['{"a":1}', "trailing"]);
    expect(splitRows('{"a":1}oops{"b":2}')).toEqual(['{"a":1}', "oops", '{"b":2}']);
    // An array stays one row (the contract refuses it whole); an object left open at the end is the last row.
    expect(splitRows('[{"a":1}]{"b":2}{"c":')).toEqual(['[{"a":1}]', '{"b":2}', '{"c":']);
    const rows = transformText(`${JSON.stringify(ingestEvent("kept-1"))}not json${JSON.stringify(ingestEvent("kept-2"))}{"eventId":`);
    expect(rows.clean.map((row) => row.event_id)).toEqual(["kept-1", "kept-2"]);
    expect(rows.quarantined).toEqual([
      { row: 2, reason: expect.stringMatching(/^not JSON/), raw: "not json" },
      { row: 4, reason: expect.stringMatching(/^not JSON/), raw: '{"eventId":' },
    ]);
  });
});

describe("CSV for Redshift COPY", () => {
  it("quotes every field and doubles inner quotes", () => {
    expect(csvField('a "b", c')).toBe('"a ""b"", c"');
  });
});

/** The S3 notification samples published by Powertools (TypeScript) and aws-lambda-go: eventVersion 2.1 and 2.0, plain and encoded keys. */
const S3_NOTIFICATIONS = [
  "powertools-lambda-typescript/packages/parser/tests/events/s3/base.json",
  "powertools-lambda-typescript/packages/parser/tests/events/s3/decoded-key.json",
  "aws-lambda-go/events/testdata/s3-event.json",
];

describe("lake handlers against s3rver", () => {
  let server: RunningEmulator;
  let s3: S3Client;
  let batch = 0;

  beforeAll(async () => {
    server = await startS3rver([RAW, TRANSFORMED, STAGED]);
    s3 = s3Client(server);
  });
  afterAll(async () => {
    s3.destroy();
    await server.stop();
  });

  const put = (bucket: string, key: string, body: string | Uint8Array) => s3.send(new PutObjectCommand({ Bucket: bucket, Key: key, Body: body }));
  const transformDeps = () => ({ s3, transformedBucket: TRANSFORMED, log: quiet, metric: quiet });
  const stagingDeps = () => ({ s3, stagedBucket: STAGED, log: quiet });
  /** A raw api/ key of its own per test, so tests never read each other's output. */
  const freshRawKey = () => rawApiObjectKey([`message-${++batch}`], new Date(Date.UTC(2026, 6, 1, batch % 24)));
  const linesOf = async (bucket: string, key: string) => (await readText(s3, bucket, key)).trim().split("\n").map((line) => JSON.parse(line));

  it("cleans a raw object into snake_case rows in the transformed zone", async () => {
    const rawKey = freshRawKey();
    await put(RAW, rawKey, jsonl([ingestEvent("t1"), ingestEvent("t2", { source: "  Billing  " })]));

    const [outcome] = await handleRawObjectsCreated(s3Event(RAW, rawKey), transformDeps());

    expect(outcome).toMatchObject({ cleanKey: cleanKeyFor(rawKey), cleanRows: 2, quarantinedRows: 0 });
    expect(outcome.cleanKey).toMatch(/^clean\/api\/year=2026\/month=07\/day=01\/hour=\d\d\/batch-[0-9a-f]+\.jsonl$/);
    expect(await linesOf(TRANSFORMED, outcome.cleanKey!)).toEqual([
      { event_id: "t1", source: "billing", entity_id: "invoice-t1", event_type: "invoice.paid", occurred_at: "2026-07-01T23:30:00.000Z", event_date: "2026-07-01", payload: { note: 'says "hi", then leaves', total: 12.5 } },
      expect.objectContaining({ event_id: "t2", source: "billing" }),
    ]);
    expect(await listKeys(s3, TRANSFORMED, quarantineKeyFor(rawKey))).toEqual([]);
  });

  it("drops bad rows to the quarantine prefix with their reasons and keeps the good ones", async () => {
    const rawKey = freshRawKey();
    await put(RAW, rawKey, jsonl([
      ingestEvent("good-1"),
      "{broken",
      ingestEvent("no-entity", { entityId: "" }),
      ingestEvent("good-1"),
      ingestEvent("good-2"),
    ]));

    const [outcome] = await handleRawObjectsCreated(s3Event(RAW, rawKey), transformDeps());

    expect(outcome).toMatchObject({ cleanRows: 2, quarantinedRows: 2, duplicates: 1, quarantineKey: quarantineKeyFor(rawKey) });
    expect((await linesOf(TRANSFORMED, outcome.cleanKey!)).map((row) => row.event_id)).toEqual(["good-1", "good-2"]);
    expect(outcome.quarantineKey).toMatch(/^quarantine\/lake-transform\/api\/year=2026\//);
    expect(await linesOf(TRANSFORMED, outcome.quarantineKey!)).toEqual([
      expect.objectContaining({ stage: "lake-transform", reason: expect.stringMatching(/^not JSON/), payload: expect.objectContaining({ encoding: "utf8", data: "{broken" }), origin: { kind: "s3", bucket: RAW, key: rawKey, row: 2 }, replayTo: "queue" }),
      expect.objectContaining({ reason: "entityId must not be empty", payload: expect.objectContaining({ data: JSON.stringify(ingestEvent("no-entity", { entityId: "" })) }), origin: expect.objectContaining({ row: 3 }) }),
    ]);
  });

  it("reads Firehose GZIP output, records back to back, from the stream/ prefix", async () => {
    const rawKey = "stream/year=2026/month=07/day=01/hour=23/dp-dev-ingestion-firehose-1-2026-07-01-23-59-59-abc.json.gz";
    await put(RAW, rawKey, gzipSync(Buffer.from([ingestEvent("f1"), ingestEvent("f2"), ingestEvent("f3")].map((e) => JSON.stringify(e)).join(""))));

    const [outcome] = await handleRawObjectsCreated(s3Event(RAW, rawKey), transformDeps());

    expect(outcome.cleanKey).toBe("clean/stream/year=2026/month=07/day=01/hour=23/dp-dev-ingestion-firehose-1-2026-07-01-23-59-59-abc.jsonl");
    expect((await linesOf(TRANSFORMED, outcome.cleanKey!)).map((row) => row.event_id)).toEqual(["f1", "f2", "f3"]);
  });

  it("quarantines only the bad records of a Firehose object whose records have no newline between them", async () => {
    const rawKey = "stream/year=2026/month=07/day=01/hour=21/dp-dev-ingestion-firehose-1-2026-07-01-21-00-00-poison.json.gz";
    const records = [JSON.stringify(ingestEvent("p1")), "<not-json/>", JSON.stringify(ingestEvent("p2")), JSON.stringify(ingestEvent("off-contract", { occurredAt: "soon" })), JSON.stringify(ingestEvent("p3"))];
    await put(RAW, rawKey, gzipSync(Buffer.from(records.join(""))));

    const [outcome] = await handleRawObjectsCreated(s3Event(RAW, rawKey), transformDeps());

    expect(outcome).toMatchObject({ cleanRows: 3, quarantinedRows: 2 });
    expect((await linesOf(TRANSFORMED, outcome.cleanKey!)).map((row) => row.event_id)).toEqual(["p1", "p2", "p3"]);
    expect(await linesOf(TRANSFORMED, outcome.quarantineKey!)).toEqual([
      expect.objectContaining({ reason: expect.stringMatching(/^not JSON/), payload: expect.objectContaining({ data: "<not-json/>" }), origin: expect.objectContaining({ key: rawKey, row: 2 }), replayTo: "stream" }),
      expect.objectContaining({ reason: expect.stringContaining("occurredAt"), payload: expect.objectContaining({ data: records[3] }), origin: expect.objectContaining({ row: 4 }), replayTo: "stream" }),
    ]);
  });

  it("leaves Parquet objects as delivered", async () => {
    const rawKey = "stream/year=2026/month=07/day=01/hour=22/part.parquet";
    await put(RAW, rawKey, Buffer.concat([Buffer.from("PAR1"), Buffer.alloc(16), Buffer.from("PAR1")]));

    const [outcome] = await handleRawObjectsCreated(s3Event(RAW, rawKey), transformDeps());

    expect(outcome.skipped).toBeDefined();
    expect(await listKeys(s3, TRANSFORMED, "clean/stream/year=2026/month=07/day=01/hour=22/")).toEqual([]);
  });

  it("decodes the URL-encoded keys of S3 notifications", async () => {
    const rawKey = "api/year=2026/month=07/day=01/hour=05/manual upload+1.jsonl";
    await put(RAW, rawKey, jsonl([ingestEvent("spaced")]));

    const [outcome] = await handleRawObjectsCreated(s3Event(RAW, rawKey), transformDeps());

    expect(decodeS3EventKey(encodeS3Key(rawKey))).toBe(rawKey);
    expect(() => decodeS3EventKey("api/100%.jsonl")).toThrow('Event key "api/100%.jsonl" is not URL-encoded the way S3 encodes keys in events');
    expect(outcome.cleanKey).toBe("clean/api/year=2026/month=07/day=01/hour=05/manual upload+1.jsonl");
  });

  it("throws when the object cannot be read, so the invocation is retried and then recorded as failed", async () => {
    await expect(handleRawObjectsCreated(s3Event(RAW, "api/missing.jsonl"), transformDeps())).rejects.toThrow();
  });

  it("is idempotent: the same notification twice gives the same keys and content", async () => {
    const rawKey = freshRawKey();
    await put(RAW, rawKey, jsonl([ingestEvent("once"), "bad row"]));
    const snapshot = async () => {
      const keys = [...(await listKeys(s3, TRANSFORMED, cleanKeyFor(rawKey))), ...(await listKeys(s3, TRANSFORMED, quarantineKeyFor(rawKey)))];
      return Promise.all(keys.map(async (key) => [key, await readText(s3, TRANSFORMED, key)]));
    };

    await handleRawObjectsCreated(s3Event(RAW, rawKey), transformDeps());
    const first = await snapshot();
    await handleRawObjectsCreated(s3Event(RAW, rawKey), transformDeps());

    expect(first).toHaveLength(2);
    expect(await snapshot()).toEqual(first);
  });

  it("stages clean rows as COPY-ready CSV per event date, then a manifest of exactly those objects", async () => {
    const rawKey = freshRawKey();
    await put(RAW, rawKey, jsonl([ingestEvent("d1"), ingestEvent("d2", { occurredAt: "2026-07-02T00:30:00+02:00" }), ingestEvent("d3", { occurredAt: "2026-07-02T08:00:00Z" })]));
    const [transformed] = await handleRawObjectsCreated(s3Event(RAW, rawKey), transformDeps());

    const [staged] = await handleCleanObjectsCreated(s3Event(TRANSFORMED, transformed.cleanKey!), stagingDeps());

    const cleanKey = transformed.cleanKey!;
    // d2 happened at 22:30 UTC on the 1st, whatever its offset said.
    expect(staged.objects).toEqual([stagedKeyFor(cleanKey, "2026-07-01"), stagedKeyFor(cleanKey, "2026-07-02")]);
    expect(staged.objects[0]).toMatch(/^events\/event_date=2026-07-01\/batch-[0-9a-f]+-[0-9a-f]{16}\.csv$/);
    expect(await readText(s3, STAGED, staged.objects[0])).toBe(
      "event_id,source,entity_id,event_type,occurred_at,payload\n" +
        '"d1","billing","invoice-d1","invoice.paid","2026-07-01T23:30:00.000Z","{""note"":""says \\""hi\\"", then leaves"",""total"":12.5}"\n' +
        '"d2","billing","invoice-d2","invoice.paid","2026-07-01T22:30:00.000Z","{""note"":""says \\""hi\\"", then leaves"",""total"":12.5}"\n',
    );
    expect(staged.manifestKey).toBe(manifestKeyFor(cleanKey));
    const manifest = JSON.parse(await readText(s3, STAGED, staged.manifestKey!));
    const sizes = await Promise.all(staged.objects.map(async (key) => Buffer.byteLength(await readText(s3, STAGED, key))));
    expect(manifest).toEqual({
      entries: staged.objects.map((key, index) => ({ url: `s3://${STAGED}/${key}`, mandatory: true, meta: { content_length: sizes[index] } })),
    });
  });

  it("is idempotent when staging: the same clean object twice gives the same staged keys and content", async () => {
    const cleanKey = `clean/${freshRawKey()}`;
    await put(TRANSFORMED, cleanKey, jsonl(transformText(jsonl([ingestEvent("s1"), ingestEvent("s2")])).clean));
    const expectedKeys = [stagedKeyFor(cleanKey, "2026-07-01"), manifestKeyFor(cleanKey)];
    const contents = () => Promise.all(expectedKeys.map((key) => readText(s3, STAGED, key)));

    const [outcome] = await handleCleanObjectsCreated(s3Event(TRANSFORMED, cleanKey), stagingDeps());
    const keysAfterFirst = await listKeys(s3, STAGED);
    const first = await contents();
    await handleCleanObjectsCreated(s3Event(TRANSFORMED, cleanKey), stagingDeps());

    expect([...outcome.objects, outcome.manifestKey]).toEqual(expectedKeys);
    expect(await listKeys(s3, STAGED)).toEqual(keysAfterFirst);
    expect(await contents()).toEqual(first);
    expect(parseCleanRows(await readText(s3, TRANSFORMED, cleanKey))).toHaveLength(2);
  });

  it("ships both factories as serialisable closures that run from their serialised text", async () => {
    const rawKey = freshRawKey();
    await put(RAW, rawKey, jsonl([ingestEvent("shipped")]));
    const endpoint = { AWS_ENDPOINT_URL_S3: server.endpoint };

    const transformed = (await invokeShipped(transformFunctionFactory, { TRANSFORMED_BUCKET: TRANSFORMED, ...endpoint }, s3Event(RAW, rawKey))) as { cleanKey: string }[];
    const staged = (await invokeShipped(stagingFunctionFactory, { STAGED_BUCKET: STAGED, ...endpoint }, s3Event(TRANSFORMED, transformed[0].cleanKey))) as { objects: string[] }[];

    expect(transformed[0].cleanKey).toBe(cleanKeyFor(rawKey));
    expect(await readText(s3, STAGED, staged[0].objects[0])).toContain('"shipped"');
  });

  describe("on S3 notifications as S3 sends them (third-party samples)", () => {
    let counter = 0;
    // Bytes with a known length: the SDK warns about an empty string body as a stream of unknown length.
    const putText = (bucket: string, key: string, body: string) => put(bucket, key, Buffer.from(body));
    const allKeys = async () => [...(await listKeys(s3, TRANSFORMED)), ...(await listKeys(s3, STAGED))];

    it.each(S3_NOTIFICATIONS)("carries a raw object through Transformation and Staging (%s)", async (fixture) => {
      const rawKey = `api/year=2026/month=08/day=0${(++counter % 9) + 1}/hour=10/sample ${counter}+copy.jsonl`;
      const body = jsonl([ingestEvent(`tp-${counter}`)]);
      await putText(RAW, rawKey, body);

      const [transformed] = await handleRawObjectsCreated(s3NotificationFor(fixture, RAW, rawKey, Buffer.byteLength(body)), transformDeps());
      const cleanBytes = Buffer.byteLength(await readText(s3, TRANSFORMED, transformed.cleanKey!));
      const [staged] = await handleCleanObjectsCreated(s3NotificationFor(fixture, TRANSFORMED, transformed.cleanKey!, cleanBytes), stagingDeps());

      expect(transformed).toMatchObject({ input: rawKey, cleanKey: cleanKeyFor(rawKey), cleanRows: 1 });
      expect(staged).toMatchObject({ input: cleanKeyFor(rawKey), rows: 1, manifestKey: manifestKeyFor(cleanKeyFor(rawKey)) });
      expect(await readText(s3, STAGED, staged.objects[0])).toContain(`"tp-${counter}"`);
    });

    it.each([
      ["the folder marker a console 'Create folder' puts in", "raw", RAW, "api/", "Transformation", /folder marker/],
      ["the folder marker a console 'Create folder' puts in", "transformed", TRANSFORMED, "clean/", "Staging", /folder marker/],
      ["a zero-byte upload in", "raw", RAW, "api/year=2026/month=08/day=20/hour=00/empty.jsonl", "Transformation", /zero-byte/],
      ["a zero-byte upload in", "transformed", TRANSFORMED, "clean/api/year=2026/month=08/day=20/hour=00/empty.jsonl", "Staging", /zero-byte/],
    ] as const)("skips %s the %s zone and writes nothing", async (_what, _zone, bucket, key, handler, reason) => {
      await putText(bucket, key, "");
      const before = await allKeys();
      for (const fixture of S3_NOTIFICATIONS) {
        const event = s3NotificationFor(fixture, bucket, key, 0);
        const [outcome] = handler === "Transformation" ? await handleRawObjectsCreated(event, transformDeps()) : await handleCleanObjectsCreated(event, stagingDeps());
        expect(outcome).toMatchObject({ input: key, skipped: expect.stringMatching(reason) });
      }
      expect(await allKeys()).toEqual(before);
    });

    it("never writes a manifest for a clean object without rows", async () => {
      const cleanKey = "clean/api/year=2026/month=08/day=21/hour=00/blank-lines.jsonl";
      await putText(TRANSFORMED, cleanKey, "\n\n");

      const [outcome] = await handleCleanObjectsCreated(s3NotificationFor(S3_NOTIFICATIONS[0], TRANSFORMED, cleanKey, 2), stagingDeps());

      expect(outcome).toEqual({ input: cleanKey, objects: [], rows: 0, skipped: "the clean object holds no rows" });
      expect(await listKeys(s3, STAGED, manifestKeyFor(cleanKey))).toEqual([]);
    });

    it("runs both factories as shipped on a published notification, skipping a console folder there too", async () => {
      const rawKey = "api/year=2026/month=08/day=22/hour=00/shipped sample.jsonl";
      const body = jsonl([ingestEvent("tp-shipped")]);
      await putText(RAW, rawKey, body);
      const env = { TRANSFORMED_BUCKET: TRANSFORMED, STAGED_BUCKET: STAGED, AWS_ENDPOINT_URL_S3: server.endpoint };

      const [transformed] = (await invokeShipped(transformFunctionFactory, env, s3NotificationFor(S3_NOTIFICATIONS[2], RAW, rawKey, Buffer.byteLength(body)))) as { cleanKey: string }[];
      const [folder] = (await invokeShipped(stagingFunctionFactory, env, s3NotificationFor(S3_NOTIFICATIONS[2], TRANSFORMED, "clean/", 0))) as { skipped: string }[];

      expect(transformed.cleanKey).toBe(cleanKeyFor(rawKey));
      expect(folder.skipped).toMatch(/folder marker/);
    });
  });
});

describe("lake factories", () => {
  it.each([
    ["transformation", transformFunctionFactory],
    ["staging", stagingFunctionFactory],
  ])("the %s factory serialises the way CallbackFunction ships it", async (_name, factory) => {
    await expectShipsAsFactory(factory, /require\("@aws-sdk\/client-s3/);
  });
});
