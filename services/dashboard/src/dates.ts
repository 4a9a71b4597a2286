/**
 * Date ranges as the client API takes them: calendar days `YYYY-MM-DD` (UTC), `from` ≤ `to`,
 * at most MAX_RANGE_DAYS days counted inclusively. The dashboard checks a range before it
 * calls, so a typo gets a sentence next to the picker instead of a round trip; the API checks
 * again (services-contract.md, daily-sales).
 * Pure: no DOM, so the unit tests run it under Node.
 */

export const MAX_RANGE_DAYS = 92;
const DAY_MS = 86_400_000;
const ISO_DAY = /^(\d{4})-(\d{2})-(\d{2})$/;

/** Milliseconds since the epoch of a valid `YYYY-MM-DD` (UTC midnight), or undefined. */
export function parseDay(text: string): number | undefined {
  const match = ISO_DAY.exec(text);
  if (!match) return undefined;
  const [year, month, day] = match.slice(1).map(Number);
  const time = Date.UTC(year, month - 1, day);
  // Date.UTC rolls 2026-02-30 over to March: a day that does not round-trip does not exist.
  return new Date(time).toISOString().slice(0, 10) === text ? time : undefined;
}

export function formatDay(time: number): string {
  return new Date(time).toISOString().slice(0, 10);
}

export function addDays(day: string, days: number): string {
  const time = parseDay(day);
  if (time === undefined) throw new Error(`"${day}" is not a date (YYYY-MM-DD)`);
  return formatDay(time + days * DAY_MS);
}

/** Days in [from, to], both ends included. */
export function daysBetween(from: string, to: string): number {
  return Math.round(((parseDay(to) ?? NaN) - (parseDay(from) ?? NaN)) / DAY_MS) + 1;
}

export type RangeCheck = { ok: true; from: string; to: string } | { ok: false; field: "from" | "to"; message: string };

export function checkRange(from: string, to: string, maxDays = MAX_RANGE_DAYS): RangeCheck {
  // A date input holds "" while what was typed is not a whole date.
  if (from === "") return { ok: false, field: "from", message: "Choose a start date." };
  if (to === "") return { ok: false, field: "to", message: "Choose an end date." };
  if (parseDay(from) === undefined) return { ok: false, field: "from", message: `The start date "${from}" is not a date; use YYYY-MM-DD.` };
  if (parseDay(to) === undefined) return { ok: false, field: "to", message: `The end date "${to}" is not a date; use YYYY-MM-DD.` };
  if (to < from) return { ok: false, field: "to", message: `The end date ${to} is before the start date ${from}.` };
  const days = daysBetween(from, to);
  if (days > maxDays) return { ok: false, field: "to", message: `The range ${from} to ${to} is ${days} days; at most ${maxDays} days can be shown at once.` };
  return { ok: true, from, to };
}

/**
 * The range shown first for a branch: its last week of data (the API's own default is the
 * last 7 days before today, which is empty for a branch whose data stops earlier).
 */
export function defaultRange(branch: { firstDay: string | null; lastDay: string | null }, today: string): { from: string; to: string } {
  const to = branch.lastDay ?? today;
  const weekBefore = addDays(to, -6);
  const from = branch.firstDay !== null && branch.firstDay > weekBefore ? branch.firstDay : weekBefore;
  return { from, to };
}
