/**
 * The raw zone's idempotency records against dynalite: conditional writes, the holder
 * read back, the TTL attribute DynamoDB expires items by (and expiry honoured before
 * DynamoDB gets round to deleting), and takeovers that only one writer can win.
 */
import { DynamoDBClient, GetItemCommand } from "@aws-sdk/client-dynamodb";
import { CLAIM_ATTRIBUTES, ClaimStore, claimEvent, claimEvents, takeOverClaim } from "../functions/event-claims";
import { RunningEmulator, createClaimsTable, dynamoDbClient, startDynalite } from "./support/aws-emulators";

describe("event claims on dynalite", () => {
  let dynamo: RunningEmulator;
  let db: DynamoDBClient;
  let now = Date.parse("2026-10-01T00:00:00Z");
  const store = (ttlSeconds = 600): ClaimStore => ({ dynamodb: db, tableName: "claims", ttlSeconds, now: () => now });

  beforeAll(async () => {
    dynamo = await startDynalite();
    db = dynamoDbClient(dynamo);
    await createClaimsTable(db, "claims");
  });
  afterAll(async () => {
    db.destroy();
    await dynamo.stop();
  });

  it("gives an id to its first owner, again to that owner, and tells anyone else who holds it since when", async () => {
    expect(await claimEvent(store(), "raw-api", { eventId: "a", owner: "object-1" })).toEqual({ status: "claimed" });
    const claimedAt = now;
    now += 1000;
    expect(await claimEvent(store(), "raw-api", { eventId: "a", owner: "object-1" })).toEqual({ status: "claimed" });
    expect(await claimEvent(store(), "raw-api", { eventId: "a", owner: "object-2" })).toEqual({ status: "held", owner: "object-1", claimedAt: claimedAt + 1000 });
    // Scopes are apart: the stream channel's claim on the same id is its own.
    expect(await claimEvent(store(), "raw-stream", { eventId: "a", owner: "shard/1/0" })).toEqual({ status: "claimed" });
  });

  it("writes the TTL attribute DynamoDB expires the item by", async () => {
    await claimEvent(store(3600), "raw-api", { eventId: "ttl", owner: "object-1" });
    const { Item } = await db.send(new GetItemCommand({ TableName: "claims", Key: { [CLAIM_ATTRIBUTES.key]: { S: "raw-api#ttl" } }, ConsistentRead: true }));
    expect(Item).toMatchObject({ [CLAIM_ATTRIBUTES.expiresAt]: { N: String(Math.floor(now / 1000) + 3600) }, [CLAIM_ATTRIBUTES.owner]: { S: "object-1" } });
  });

  it("treats an expired claim as gone, though DynamoDB deletes expired items only later", async () => {
    await claimEvent(store(60), "raw-api", { eventId: "old", owner: "object-1" });
    now += 61_000;
    expect(await claimEvent(store(60), "raw-api", { eventId: "old", owner: "object-2" })).toEqual({ status: "claimed" });
  });

  it("lets exactly one of two writers take over a claim", async () => {
    await claimEvent(store(), "raw-api", { eventId: "dead", owner: "object-1" });
    const held = await claimEvent(store(), "raw-api", { eventId: "dead", owner: "object-2" });
    if (held.status !== "held") throw new Error("expected the claim to be held");
    const outcomes = await Promise.all(["object-2", "object-3"].map((owner) => takeOverClaim(store(), "raw-api", { eventId: "dead", owner }, held)));
    const winner = outcomes[0] ? "object-2" : "object-3";
    expect([...outcomes].sort()).toEqual([false, true]);
    expect(await claimEvent(store(), "raw-api", { eventId: "dead", owner: "object-4" })).toMatchObject({ status: "held", owner: winner });
  });

  it("claims many ids at once, each exactly once", async () => {
    const requests = Array.from({ length: 40 }, (_, i) => ({ eventId: `bulk-${i}`, owner: i < 20 ? "object-a" : "object-b" }));
    await claimEvents(store(), "raw-api", requests.slice(0, 20));
    const results = await claimEvents(store(), "raw-api", requests.map((request) => ({ ...request, owner: "object-c" })));
    expect([...results.values()].filter((claim) => claim.status === "held")).toHaveLength(20);
    expect([...results.values()].filter((claim) => claim.status === "claimed")).toHaveLength(20);
  });
});
