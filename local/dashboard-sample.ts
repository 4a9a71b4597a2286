/**
 * Sample reporting data for `npm run dashboard:local`: daily orders and revenue for a few
 * branches, shaped like a real chain (busier branches, Saturdays up, Sundays down, a spread
 * around each branch's usual basket). Seeded, so every run shows the same numbers. Pure: the rows go to the database
 * through the client API's local seeding helper (local/client-api.ts, seedReporting).
 */
import type { DailyBranchSalesRow } from "./client-api";
import { mulberry32 } from "./fault-proxy";

/** Each branch's usual orders a day and basket in cents. */
export const DASHBOARD_SAMPLE_BRANCHES: Readonly<Record<string, { orders: number; basketCents: number }>> = {
  north: { orders: 140, basketCents: 2340 },
  south: { orders: 95, basketCents: 2710 },
  east: { orders: 60, basketCents: 3120 },
  west: { orders: 35, basketCents: 1890 },
};

/** Sunday first, as Date.getUTCDay counts. */
const WEEKDAY_FACTOR = [0.7, 0.95, 0.9, 1, 1.05, 1.2, 1.35];
const DAY_MS = 86_400_000;

export function centsToDecimal(cents: number): string {
  return `${Math.floor(cents / 100)}.${String(cents % 100).padStart(2, "0")}`;
}

/** `days` days of sales ending on `lastDay` (inclusive) for every sample branch. */
export function sampleDailySales(lastDay: string, days: number, seed = 11): DailyBranchSalesRow[] {
  const random = mulberry32(seed);
  const end = Date.parse(`${lastDay}T00:00:00Z`);
  if (Number.isNaN(end)) throw new Error(`lastDay must be YYYY-MM-DD, not "${lastDay}"`);
  const rows: DailyBranchSalesRow[] = [];
  for (const [branch, usual] of Object.entries(DASHBOARD_SAMPLE_BRANCHES)) {
    for (let offset = days - 1; offset >= 0; offset--) {
      const time = end - offset * DAY_MS;
      const orders = Math.max(0, Math.round(usual.orders * WEEKDAY_FACTOR[new Date(time).getUTCDay()] * (0.85 + random() * 0.3)));
      // Each order's basket varies by up to ±40 %; the day's revenue is their exact sum in cents.
      let cents = 0;
      for (let order = 0; order < orders; order++) cents += Math.round(usual.basketCents * (0.6 + random() * 0.8));
      rows.push({ branch, day: new Date(time).toISOString().slice(0, 10), orders, revenue: centsToDecimal(cents) });
    }
  }
  return rows;
}

