/**
 * Number formatting for the table and the health panel. Revenue arrives as a decimal
 * string ("1234.50", numeric(14,2) in PostgreSQL) and is shown and summed exactly, in
 * integer cents: a binary float would turn a branch's quarter into "…0.0000001".
 * Pure: no DOM, so the unit tests run it under Node.
 */

const DECIMAL = /^(-?)(\d+)(?:\.(\d{1,2}))?$/;
const grouping = new Intl.NumberFormat("en-US", { maximumFractionDigits: 0 });

export function formatCount(value: number): string {
  return grouping.format(value);
}

/** "1234.5" → 123450n; throws on anything that is not a decimal with at most two places. */
export function toCents(decimal: string): bigint {
  const match = DECIMAL.exec(decimal);
  if (!match) throw new Error(`"${decimal}" is not an amount (digits with at most two decimals)`);
  const [, sign, whole, fraction = ""] = match;
  const cents = BigInt(whole) * 100n + BigInt(fraction.padEnd(2, "0"));
  return sign === "-" ? -cents : cents;
}

/** 123450n → "1,234.50": grouped, always two decimals, no rounding. */
export function formatCents(cents: bigint): string {
  const negative = cents < 0n;
  const absolute = negative ? -cents : cents;
  const whole = (absolute / 100n).toString().replace(/\B(?=(\d{3})+(?!\d))/g, ",");
  const fraction = (absolute % 100n).toString().padStart(2, "0");
  return `${negative ? "-" : ""}${whole}.${fraction}`;
}

export function formatRevenue(decimal: string): string {
  return formatCents(toCents(decimal));
}

export function sumRevenue(decimals: readonly string[]): string {
  return formatCents(decimals.reduce((sum, decimal) => sum + toCents(decimal), 0n));
}

/** A lag as people read it: "42 s", "3 min 20 s", "2 h 5 min", "3 d 4 h". */
export function formatDuration(seconds: number): string {
  const whole = Math.max(0, Math.round(seconds));
  if (whole < 60) return `${whole} s`;
  const units: [number, string][] = [[86_400, "d"], [3_600, "h"], [60, "min"], [1, "s"]];
  const start = units.findIndex(([size]) => whole >= size);
  const [big, bigName] = units[start];
  const [small, smallName] = units[start + 1];
  const rest = Math.floor((whole % big) / small);
  return rest > 0 ? `${Math.floor(whole / big)} ${bigName} ${rest} ${smallName}` : `${Math.floor(whole / big)} ${bigName}`;
}

/** "2026-12-02T10:15:00.000Z" → "2026-12-02 10:15:00 UTC" (one zone for every reader). */
export function formatTimestamp(iso: string): string {
  const time = Date.parse(iso);
  return Number.isNaN(time) ? iso : `${new Date(time).toISOString().slice(0, 19).replace("T", " ")} UTC`;
}
