/**
 * The two uPlot charts: orders per day (bars) and revenue per day (line), x in UTC days.
 * uPlot sets its styles through the CSSOM (element.style), which a CSP without
 * 'unsafe-inline' allows; its stylesheet is imported by main.ts and bundled by Vite.
 */
import uPlot from "uplot";
import type { SalesDay } from "./api";
import { parseDay } from "./dates";
import { formatCents, formatCount, toCents } from "./format";

export interface SalesCharts {
  readonly orders: uPlot;
  readonly revenue: uPlot;
  destroy(): void;
}

const HEIGHT = 220;
const DAY_SECONDS = 86_400;
const utc = (seconds: number) => uPlot.tzDate(new Date(seconds * 1000), "Etc/UTC");
const dayLabel = new Intl.DateTimeFormat("en-GB", { day: "numeric", month: "short", timeZone: "UTC" });

/** uPlot's columns: x as epoch seconds, then orders and revenue (cents → currency units, for plotting only). */
export function chartData(days: readonly SalesDay[]): { x: number[]; orders: number[]; revenue: number[] } {
  return {
    x: days.map((day) => parseDay(day.day)! / 1000),
    orders: days.map((day) => day.orders),
    revenue: days.map((day) => Number(toCents(day.revenue)) / 100),
  };
}

/** With no day under the pointer, the legend shows the latest day's numbers rather than dashes. */
function showLatestDay(chart: uPlot): void {
  const latest = chart.data[0].length - 1;
  if (chart.cursor.idx == null && latest >= 0) chart.setLegend({ idx: latest });
}

function options(title: string, label: string, width: number, value: (v: number) => string, series: Partial<uPlot.Series>): uPlot.Options {
  return {
    title,
    width,
    height: HEIGHT,
    tzDate: utc,
    scales: {
      // Half a day either side, so the first and last bars are whole; ticks on whole days only.
      x: { time: true, range: (_u, min, max) => [min - DAY_SECONDS / 2, max + DAY_SECONDS / 2] },
      // From zero: a bar chart that starts at 5 makes 7 orders look like none.
      y: { range: (_u, _min, max) => [0, max > 0 ? max * 1.1 : 1] },
    },
    axes: [
      { incrs: [1, 2, 7, 14, 28].map((days) => days * DAY_SECONDS), values: (_u, splits) => splits.map((seconds) => dayLabel.format(new Date(seconds * 1000))) },
      { values: (_u, splits) => splits.map(value), size: 70 },
    ],
    series: [
      { label: "Day", value: (_u, seconds) => (seconds == null ? "–" : new Date(seconds * 1000).toISOString().slice(0, 10)) },
      { label, value: (_u, v) => (v == null ? "–" : value(v)), ...series },
    ],
    legend: { live: true },
    hooks: { ready: [showLatestDay], setCursor: [showLatestDay] },
  };
}

function chartWidth(container: HTMLElement): number {
  return Math.max(280, container.clientWidth);
}

export function renderCharts(ordersTarget: HTMLElement, revenueTarget: HTMLElement, days: readonly SalesDay[]): SalesCharts {
  const data = chartData(days);
  const bars = uPlot.paths.bars!({ size: [0.6, 48] });
  const orders = new uPlot(
    options("Orders per day", "Orders", chartWidth(ordersTarget), (v) => formatCount(v), { stroke: "#1f5fa8", fill: "rgba(31, 95, 168, 0.35)", paths: bars, points: { show: false } }),
    [data.x, data.orders],
    ordersTarget,
  );
  const revenue = new uPlot(
    options("Revenue per day", "Revenue", chartWidth(revenueTarget), (v) => formatCents(BigInt(Math.round(v * 100))), { stroke: "#b3541e", width: 2, points: { show: true, size: 6 } }),
    [data.x, data.revenue],
    revenueTarget,
  );
  const resize = new ResizeObserver(() => {
    orders.setSize({ width: chartWidth(ordersTarget), height: HEIGHT });
    revenue.setSize({ width: chartWidth(revenueTarget), height: HEIGHT });
  });
  resize.observe(ordersTarget);
  return {
    orders,
    revenue,
    destroy() {
      resize.disconnect();
      orders.destroy();
      revenue.destroy();
    },
  };
}
