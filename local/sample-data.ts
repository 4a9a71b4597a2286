/**
 * The sample data `npm run local` and the end-to-end suite push through the pipeline:
 * orders across a few branches and days, each one an `order.created` ingest event and
 * a row of Aurora's `sales.orders` (as the ordering application writes both), and a
 * sprinkle of poison records, each with the reason the pipeline should give. Seeded, so
 * a run is repeatable.
 */
import { mulberry32 } from "./fault-proxy";

export interface SampleOrder {
  readonly orderId: string;
  readonly branch: string;
  readonly amount: string;
  readonly orderedAt: string;
}

export interface PoisonSample {
  readonly payload: string;
  /** The start of the reason the pipeline gives. */
  readonly expectedReason: RegExp;
}

export const SAMPLE_BRANCHES = ["north", "south", "east"] as const;
export const SAMPLE_START = Date.parse("2026-11-30T00:00:00Z");

export function sampleOrders(count: number, seed = 7, prefix = "order"): SampleOrder[] {
  const random = mulberry32(seed);
  return Array.from({ length: count }, (_, index) => {
    const day = Math.floor(random() * 3);
    const minute = Math.floor(random() * 24 * 60);
    return {
      orderId: `${prefix}-${String(index).padStart(6, "0")}`,
      branch: SAMPLE_BRANCHES[Math.floor(random() * SAMPLE_BRANCHES.length)],
      amount: (Math.floor(random() * 20_000) / 100 + 1).toFixed(2),
      orderedAt: new Date(SAMPLE_START + day * 86_400_000 + minute * 60_000).toISOString(),
    };
  });
}

/** The ingest event an order's application emits. */
export function orderEvent(order: SampleOrder): Record<string, unknown> {
  return {
    eventId: `evt-${order.orderId}`,
    source: "orders-api",
    entityId: order.orderId,
    eventType: "order.created",
    occurredAt: order.orderedAt,
    payload: { branch: order.branch, amount: order.amount },
  };
}

/** One of each kind of record the pipeline must refuse, cycling. */
export function poisonSamples(count: number): PoisonSample[] {
  const kinds: PoisonSample[] = [
    { payload: "{this is not json", expectedReason: /^not JSON|^body is not JSON/ },
    { payload: JSON.stringify({ eventId: "no-entity", source: "orders-api", entityId: "", eventType: "order.created", occurredAt: "2026-11-30T10:00:00Z" }), expectedReason: /entityId must not be empty/ },
    { payload: JSON.stringify({ eventId: "bad-time", source: "orders-api", entityId: "order-x", eventType: "order.created", occurredAt: "yesterday" }), expectedReason: /occurredAt/ },
  ];
  return Array.from({ length: count }, (_, index) => {
    const kind = kinds[index % kinds.length];
    // Distinct payloads, so each poison record is its own quarantine case.
    return { ...kind, payload: index < kinds.length ? kind.payload : kind.payload.replace(/"eventId":"([^"]+)"/, `"eventId":"$1-${index}"`).replace("{this is not json", `{this is not json ${index}`) };
  });
}
