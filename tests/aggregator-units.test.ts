/** The aggregator's pure parts: message parsing, the staged CSV, order facts and their aggregation inputs, settings. */
import { csvDocument } from "../functions/lake-staging";
import { cleanRow } from "../functions/lake-transform";
import { parseMessage } from "../services/aggregator/src/messages";
import { isTransientError } from "../services/aggregator/src/retry";
import { retryDelaySeconds } from "../services/aggregator/src/poller";
import { aggregatorSettings, databaseCredentials, poolConfig } from "../services/aggregator/src/settings";
import { exactAmount, manifestFacts, newestEventAt, readStagedCsv, touchedDays } from "../services/aggregator/src/staged-rows";
import { s3NotificationFor } from "./support/third-party-events";

const STAGED = "staged-bucket";
const s3Event = (key: string, eventName = "ObjectCreated:Put") => {
  const event = s3NotificationFor("powertools-lambda-typescript/packages/parser/tests/events/s3/base.json", STAGED, key, 10);
  event.Records[0].eventName = eventName;
  return JSON.stringify(event);
};

describe("parseMessage", () => {
  it("reads a raw-delivery S3 event and an SNS envelope alike, decoding the key", () => {
    const body = s3Event("manifests/batch 1-abc.manifest");
    expect(parseMessage(body, STAGED)).toEqual({ manifests: [{ bucket: STAGED, key: "manifests/batch 1-abc.manifest" }], ignored: [] });
    expect(parseMessage(JSON.stringify({ Type: "Notification", Message: body }), STAGED)).toEqual(parseMessage(body, STAGED));
  });

  it("ignores s3:TestEvent, objects that are not manifests, removals and other buckets, with reasons", () => {
    expect(parseMessage(JSON.stringify({ Service: "Amazon S3", Event: "s3:TestEvent" }), STAGED).ignoredMessage).toMatch(/s3:TestEvent/);
    expect(parseMessage(s3Event("events/event_date=2026-12-01/x.csv"), STAGED).ignored[0].reason).toMatch(/not a COPY manifest/);
    expect(parseMessage(s3Event("manifests/x.manifest", "ObjectRemoved:Delete"), STAGED).ignored[0].reason).toMatch(/ObjectRemoved:Delete/);
    expect(parseMessage(s3Event("manifests/x.manifest"), "other").ignored[0].reason).toMatch(/not the staged bucket other/);
  });

  it.each([
    ["{not json", /message body is not JSON/],
    ["[1]", /not a JSON object/],
    [JSON.stringify({ Type: "SubscriptionConfirmation" }), /not a Notification/],
    [JSON.stringify({ hello: 1 }), /no Records list/],
    [JSON.stringify({ Records: [{}] }), /record 1 of the S3 event has no eventName/],
  ])("refuses %s as a BadMessage", (body, reason) => {
    expect(() => parseMessage(body, STAGED)).toThrow(expect.objectContaining({ name: "BadMessage", message: expect.stringMatching(reason) }));
  });
});

const row = (eventId: string, payload: Record<string, unknown>, eventType = "order.created", occurredAt = "2026-12-01T23:30:00.000Z") =>
  cleanRow({ eventId, source: "orders-api", entityId: eventId, eventType, occurredAt, payload });

describe("the staged CSV and order facts", () => {
  it("reads what the Staging function writes, quotes, commas and newlines included", () => {
    const text = csvDocument([row("e1", { branch: 'north "1", a\nb', amount: "10.50" })]);
    const [parsed] = readStagedCsv(text, "f.csv");
    expect(parsed).toMatchObject({ event_id: "e1", event_type: "order.created", occurred_at: "2026-12-01T23:30:00.000Z" });
    expect(JSON.parse(parsed.payload!)).toEqual({ branch: 'north "1", a\nb', amount: "10.50" });
  });

  it("refuses a file whose header or width is not staging's, naming it", () => {
    expect(() => readStagedCsv("a,b\n", "f.csv")).toThrow(/f.csv does not start with the staged header/);
    expect(() => readStagedCsv(`${csvDocument([]).trim()}\n"x"\n`, "f.csv")).toThrow(/f.csv record 2 has 1 fields, not 6/);
  });

  it("keeps amounts exact decimal strings and refuses anything else", () => {
    expect(["0.1", "12.50", "999999999999.99", 12.5].map(exactAmount)).toEqual(["0.1", "12.50", "999999999999.99", "12.5"]);
    expect(["12.345", "-1", "1e3", "", "1000000000000", NaN, null].map(exactAmount)).toEqual(Array(7).fill(undefined));
  });

  it("makes one fact per event id, counts other event types and duplicates, and rejects bad orders with reasons", () => {
    const rows = readStagedCsv(
      csvDocument([
        row("e1", { branch: "north", amount: "10.10" }),
        row("e1", { branch: "north", amount: "10.10" }),
        row("e2", { branch: "south", amount: "0.20" }, "order.created", "2026-12-02T00:10:00.000Z"),
        row("s1", { carrier: "x" }, "order.shipped"),
        row("bad1", { amount: "1.00" }),
        row("bad2", { branch: "north", amount: 1.005 }),
      ]),
      "f.csv",
    );
    const result = manifestFacts([{ file: "f.csv", rows }]);
    expect(result.facts).toEqual([
      { eventId: "e1", branch: "north", salesDay: "2026-12-01", amount: "10.10", occurredAt: "2026-12-01T23:30:00.000Z" },
      { eventId: "e2", branch: "south", salesDay: "2026-12-02", amount: "0.20", occurredAt: "2026-12-02T00:10:00.000Z" },
    ]);
    expect(result).toMatchObject({ otherEvents: 1, duplicates: 1 });
    expect(result.rejected).toEqual([
      { file: "f.csv", record: 6, eventId: "bad1", reason: "payload.branch is missing or empty" },
      { file: "f.csv", record: 7, eventId: "bad2", reason: expect.stringMatching(/payload.amount 1.005 is not a non-negative decimal/) },
    ]);
    expect(touchedDays([...result.facts, ...result.facts])).toEqual([{ branch: "north", salesDay: "2026-12-01" }, { branch: "south", salesDay: "2026-12-02" }]);
    expect(newestEventAt(result.facts)).toBe("2026-12-02T00:10:00.000Z");
    expect(newestEventAt([])).toBeNull();
  });
});

describe("settings, retries and backoff", () => {
  const env = { AGGREGATOR_QUEUE_URL: "https://sqs/q", STAGED_BUCKET: "b", DB_HOST: "writer", DB_NAME: "platform", DB_SECRET: '{"username":"u","password":"p"}' };

  it("defaults to TLS verified against the RDS bundle, and reads the secret without echoing it", () => {
    const settings = aggregatorSettings(env);
    expect(settings).toMatchObject({ database: { host: "writer", port: 5432, name: "platform", tls: true }, healthPort: 8080, logLevel: "info" });
    expect(poolConfig(settings, databaseCredentials(env), () => "CA").ssl).toEqual({ rejectUnauthorized: true, ca: "CA" });
    expect(poolConfig(aggregatorSettings({ ...env, DB_TLS: "false" }), databaseCredentials(env), () => "CA").ssl).toBe(false);
    expect(() => databaseCredentials({ DB_SECRET: "secret-text" })).toThrow(expect.objectContaining({ message: expect.not.stringContaining("secret-text") }));
    expect(() => aggregatorSettings({ ...env, DB_TLS: "yes" })).toThrow(/DB_TLS must be "true" or "false"/);
    expect(() => aggregatorSettings({ ...env, STAGED_BUCKET: undefined })).toThrow(/STAGED_BUCKET is not set/);
  });

  it("retries connection losses, failovers and throttling, never a missing object", () => {
    expect([{ code: "57P01" }, { code: "08006" }, { code: "ECONNRESET" }, { name: "SlowDown" }].map((fields) => isTransientError(Object.assign(new Error("x"), fields)))).toEqual([true, true, true, true]);
    expect([{ name: "NoSuchKey", $metadata: { httpStatusCode: 404 } }, { code: "23505" }].map((fields) => isTransientError(Object.assign(new Error("x"), fields)))).toEqual([false, false]);
  });

  it("backs a failed message off with its receive count, up to the cap", () => {
    expect([1, 2, 3, 10].map((count) => retryDelaySeconds(count, 10, 300))).toEqual([10, 20, 40, 300]);
  });
});
