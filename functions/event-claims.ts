/**
 * Idempotency records for the raw zone: which writer holds an event id. One DynamoDB
 * item per (scope, event id), written with a conditional PutItem, so two writers can
 * never both hold an id, and removed by DynamoDB TTL once no redelivery can bring that
 * event back (the component sets the TTL from the queue and stream retention).
 *
 * A claim names its owner (the object, or the stream record, that lands the event) and
 * when it was taken. The owner taking its own claim again succeeds, so a retried
 * attempt that lands the same event in the same place goes through. An expired item
 * that TTL has not removed yet counts as absent.
 */
import { AttributeValue, ConditionalCheckFailedException, DynamoDBClient, GetItemCommand, PutItemCommand } from "@aws-sdk/client-dynamodb";

/** Attribute names of a claim item; `expiresAt` is the table's TTL attribute. */
export const CLAIM_ATTRIBUTES = { key: "pk", owner: "owner", claimedAt: "claimedAt", expiresAt: "expiresAt" } as const;

export interface ClaimStore {
  readonly dynamodb: DynamoDBClient;
  readonly tableName: string;
  /** How long a claim is kept. */
  readonly ttlSeconds: number;
  /** @default Date.now */
  readonly now?: () => number;
}

export type Claim =
  | { readonly status: "claimed" }
  /** Another owner holds the id; claimedAt is in milliseconds since the epoch. */
  | { readonly status: "held"; readonly owner: string; readonly claimedAt: number };

export interface ClaimRequest {
  readonly eventId: string;
  readonly owner: string;
}

/** Conditional writes in flight at once per batch: DynamoDB takes them in parallel, and the function's memory stays flat. */
export const CLAIM_CONCURRENCY = 16;

const claimKey = (scope: string, eventId: string) => `${scope}#${eventId}`;

function claimItem(store: ClaimStore, scope: string, eventId: string, owner: string, nowMs: number): Record<string, AttributeValue> {
  return {
    [CLAIM_ATTRIBUTES.key]: { S: claimKey(scope, eventId) },
    [CLAIM_ATTRIBUTES.owner]: { S: owner },
    [CLAIM_ATTRIBUTES.claimedAt]: { N: String(nowMs) },
    [CLAIM_ATTRIBUTES.expiresAt]: { N: String(Math.floor(nowMs / 1000) + store.ttlSeconds) },
  };
}

const isConditionFailure = (error: unknown) => error instanceof ConditionalCheckFailedException || (error as { name?: string } | null)?.name === "ConditionalCheckFailedException";

/** The current holder of an id, read consistently; undefined when no live claim exists. */
async function holderOf(store: ClaimStore, scope: string, eventId: string, nowMs: number): Promise<{ owner: string; claimedAt: number } | undefined> {
  const { Item } = await store.dynamodb.send(new GetItemCommand({
    TableName: store.tableName,
    Key: { [CLAIM_ATTRIBUTES.key]: { S: claimKey(scope, eventId) } },
    ConsistentRead: true,
  }));
  if (Item === undefined || Number(Item[CLAIM_ATTRIBUTES.expiresAt]?.N) < Math.floor(nowMs / 1000)) return undefined;
  return { owner: Item[CLAIM_ATTRIBUTES.owner]?.S ?? "", claimedAt: Number(Item[CLAIM_ATTRIBUTES.claimedAt]?.N) };
}

/** Takes the id for `owner` unless another owner holds a live claim on it. */
export async function claimEvent(store: ClaimStore, scope: string, request: ClaimRequest): Promise<Claim> {
  for (let attempt = 0; attempt < 3; attempt++) {
    const nowMs = (store.now ?? Date.now)();
    try {
      await store.dynamodb.send(new PutItemCommand({
        TableName: store.tableName,
        Item: claimItem(store, scope, request.eventId, request.owner, nowMs),
        ConditionExpression: "attribute_not_exists(#key) OR #owner = :owner OR #expiresAt < :nowSeconds",
        ExpressionAttributeNames: { "#key": CLAIM_ATTRIBUTES.key, "#owner": CLAIM_ATTRIBUTES.owner, "#expiresAt": CLAIM_ATTRIBUTES.expiresAt },
        ExpressionAttributeValues: { ":owner": { S: request.owner }, ":nowSeconds": { N: String(Math.floor(nowMs / 1000)) } },
      }));
      return { status: "claimed" };
    } catch (error) {
      if (!isConditionFailure(error)) throw error;
    }
    const holder = await holderOf(store, scope, request.eventId, nowMs);
    // Gone between the two calls (TTL, or a takeover that moved it): try again.
    if (holder !== undefined) return { status: "held", ...holder };
  }
  throw new Error(`Claim ${claimKey(scope, request.eventId)} kept changing hands; giving up for this attempt`);
}

/**
 * Moves a claim from a holder that can no longer be writing (its attempt has ended) to
 * `owner`. Conditional on the claim being exactly as read, so of two writers taking over
 * the same id, one wins. Returns whether this one did.
 */
export async function takeOverClaim(store: ClaimStore, scope: string, request: ClaimRequest, from: { owner: string; claimedAt: number }): Promise<boolean> {
  try {
    await store.dynamodb.send(new PutItemCommand({
      TableName: store.tableName,
      Item: claimItem(store, scope, request.eventId, request.owner, (store.now ?? Date.now)()),
      ConditionExpression: "#owner = :previousOwner AND #claimedAt = :previousClaimedAt",
      ExpressionAttributeNames: { "#owner": CLAIM_ATTRIBUTES.owner, "#claimedAt": CLAIM_ATTRIBUTES.claimedAt },
      ExpressionAttributeValues: { ":previousOwner": { S: from.owner }, ":previousClaimedAt": { N: String(from.claimedAt) } },
    }));
    return true;
  } catch (error) {
    if (isConditionFailure(error)) return false;
    throw error;
  }
}

/** A claim, or why none could be made (DynamoDB kept failing past the SDK's retries). */
export type UnavailableClaim = { readonly status: "unavailable"; readonly error: string };
export type ClaimOutcome = Claim | UnavailableClaim;

export function isUnavailable(outcome: ClaimOutcome): outcome is UnavailableClaim {
  return outcome.status === "unavailable";
}

/** Claims every request, CLAIM_CONCURRENCY at a time; a request DynamoDB keeps refusing is "unavailable", the others still count. */
export async function claimEventsSettled(store: ClaimStore, scope: string, requests: readonly ClaimRequest[]): Promise<Map<string, ClaimOutcome>> {
  const results = new Map<string, ClaimOutcome>();
  let next = 0;
  const worker = async () => {
    while (next < requests.length) {
      const request = requests[next++];
      try {
        results.set(request.eventId, await claimEvent(store, scope, request));
      } catch (error) {
        results.set(request.eventId, { status: "unavailable", error: (error as Error).message });
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(CLAIM_CONCURRENCY, requests.length) }, worker));
  return results;
}

/** Claims every request; a DynamoDB failure on any of them rejects the whole call. */
export async function claimEvents(store: ClaimStore, scope: string, requests: readonly ClaimRequest[]): Promise<Map<string, Claim>> {
  const outcomes = await claimEventsSettled(store, scope, requests);
  const failed = [...outcomes.values()].find(isUnavailable);
  if (failed) throw new Error(`Claiming failed: ${failed.error}`);
  return outcomes as Map<string, Claim>;
}
