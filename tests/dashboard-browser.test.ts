/**
 * The dashboard in a real browser (issue 11): the built site (scripts/dashboard-build.ts) served
 * as CloudFront serves it, with the site's CSP (local/dashboard-server.ts), calling the real
 * client API (local/client-api.ts) on embedded PostgreSQL and redis-server, seeded with known
 * numbers. Debian's chromium through playwright-core. It proves that:
 * - the table and both uPlot charts show the seeded numbers (legend values, series, canvases),
 *   and the branch picker, the date range and the pointer change what is shown;
 * - a range the API would refuse gets a sentence beside the picker, before any request;
 * - API errors reach the reader as sentences: the API's own message for an unknown branch,
 *   its message when the database and cache are down, and the site's when the API is gone;
 * - the page runs under the site's CSP (no inline script, nothing from another origin).
 * It saves out/dashboard.png (and, with UPDATE_SCREENSHOTS=1 or when missing, docs/dashboard.png, the README's picture).
 * Its own file: it starts servers and a browser, so it runs in a jest worker of its own.
 */
import * as fs from "fs";
import * as path from "path";
import { Browser, chromium, Page } from "playwright-core";
import { DailyBranchSalesRow } from "../local/client-api";
import { DashboardStack, startDashboardStack } from "../local/dashboard-stack";
import { formatRevenue, sumRevenue } from "../services/dashboard/src/format";

const CHROMIUM = "/usr/bin/chromium";
const ROOT = path.join(__dirname, "..");

const SEEDED: DailyBranchSalesRow[] = [
  { branch: "north", day: "2026-11-30", orders: 12, revenue: "1234.50" },
  { branch: "north", day: "2026-12-01", orders: 31, revenue: "2980.15" },
  { branch: "north", day: "2026-12-02", orders: 7, revenue: "640.05" },
  { branch: "south", day: "2026-12-01", orders: 19, revenue: "1502.40" },
  { branch: "south", day: "2026-12-02", orders: 23, revenue: "1877.00" },
];
const LOAD = { manifestKey: "manifests/2026/12/02/load-0007.json", loadedAt: new Date(), lagSeconds: 95, events: 92 };
const of = (branch: string) => SEEDED.filter((row) => row.branch === branch);

let stack: DashboardStack;
let browser: Browser;
let page: Page;
const pageErrors: string[] = [];

beforeAll(async () => {
  if (!fs.existsSync(CHROMIUM)) throw new Error(`${CHROMIUM} is missing: the browser test needs Debian's chromium (apt-get install chromium; scripts/system-packages.sh installs it)`);
  stack = await startDashboardStack({ rows: SEEDED, load: LOAD, dlqMessages: 2 });
  browser = await chromium.launch({ executablePath: CHROMIUM, args: ["--no-sandbox"] });
  page = await newVisitor();
}, 120_000);

/** A page in a browser context of its own: its own HTTP cache, as a new visitor has. */
async function newVisitor(): Promise<Page> {
  const visitor = await browser.newPage({ viewport: { width: 1200, height: 900 } });
  // A CSP violation or an uncaught exception fails the suite (checked in the last test).
  visitor.on("pageerror", (error) => pageErrors.push(error.message));
  visitor.on("console", (message) => {
    if (message.type() === "error" && /Content Security Policy|Refused to/.test(message.text())) pageErrors.push(message.text());
  });
  return visitor;
}

afterAll(async () => {
  await browser?.close();
  await stack?.stop();
});

/** A fresh load of the page (a goto that changes only the hash would not reload it), then no request pending. */
async function openAndSettle(hash = ""): Promise<void> {
  await page.goto("about:blank");
  await page.goto(`${stack.url}/${hash}`);
  // Locators, not waitForFunction: the site's CSP (no 'unsafe-eval') refuses playwright's evaluated strings.
  await page.locator('body:not([data-state="starting"])').waitFor();
  await page.locator('[aria-busy="true"]').first().waitFor({ state: "detached" });
}

async function tableRows(): Promise<string[][]> {
  const rows = await page.locator("#sales-table tbody tr").all();
  return Promise.all(rows.map((row) => row.locator("th, td").allTextContents()));
}

/** Each chart's legend as [label, value] pairs, Day first. */
async function legend(chart: "orders" | "revenue"): Promise<[string, string][]> {
  const labels = await page.locator(`#${chart}-chart .u-legend .u-series .u-label`).allTextContents();
  const values = await page.locator(`#${chart}-chart .u-legend .u-series .u-value`).allTextContents();
  return labels.map((label, index) => [label, values[index]]);
}

/** The API's own answer for a path, to compare with what the page shows. */
async function apiErrorMessage(apiPath: string): Promise<string> {
  const response = await fetch(`${stack.apiUrl}${apiPath}`);
  const body = (await response.json()) as { error: { message: string } };
  return body.error.message;
}

describe("the dashboard against the client API", () => {
  it("opens on the first branch's days and shows the seeded numbers in the table", async () => {
    await openAndSettle();
    expect(await page.locator("body").getAttribute("data-state")).toBe("ready");
    expect(await page.locator("#branch option").allTextContents()).toEqual(["north", "south"]);
    // The branch's own data range (its last week of data), not the API's default of the last 7 days before today.
    expect(new URL(page.url()).hash).toBe("#branch=north&from=2026-11-30&to=2026-12-02");
    expect(await tableRows()).toEqual(of("north").map((row) => [row.day, String(row.orders), formatRevenue(row.revenue)]));
    expect(await page.locator("#sales-table tfoot tr").innerText()).toBe(`Total\t50\t${sumRevenue(of("north").map((row) => row.revenue))}`);
    expect(await page.locator("#sales-caption").innerText()).toBe("north, 2026-11-30 to 2026-12-02: 3 of 3 days with sales");
    expect(await page.locator("#status").innerText()).toBe("Showing north, 2026-11-30 to 2026-12-02.");
  });

  it("draws both charts with one series each and the latest day in the legend", async () => {
    expect(await page.locator("#orders-chart canvas").count()).toBe(1);
    expect(await page.locator("#revenue-chart canvas").count()).toBe(1);
    expect(await page.locator("#orders-chart .u-title").innerText()).toBe("Orders per day");
    expect(await legend("orders")).toEqual([["Day", "2026-12-02"], ["Orders", "7"]]);
    expect(await legend("revenue")).toEqual([["Day", "2026-12-02"], ["Revenue", "640.05"]]);
    // The canvas has been painted: some pixels in the plot area are not blank.
    // A canvas, typed loosely: the test compiles without the DOM's types.
    const painted = await page.locator("#orders-chart canvas").evaluate((canvas: any) => {
      const { data } = canvas.getContext("2d").getImageData(0, 0, canvas.width, canvas.height) as { data: Uint8ClampedArray };
      let inked = 0;
      for (let i = 3; i < data.length; i += 4) if (data[i] !== 0) inked++;
      return inked;
    });
    expect(painted).toBeGreaterThan(1000);
    fs.mkdirSync(path.join(ROOT, "out"), { recursive: true });
    await page.screenshot({ path: path.join(ROOT, "out", "dashboard.png"), fullPage: true });
    // The README's copy is refreshed on request only (its load time differs every run, and a test run should leave the checkout clean).
    const docsCopy = path.join(ROOT, "docs", "dashboard.png");
    if (process.env.UPDATE_SCREENSHOTS === "1" || !fs.existsSync(docsCopy)) fs.copyFileSync(path.join(ROOT, "out", "dashboard.png"), docsCopy);
  });

  it("shows the day under the pointer in the legend", async () => {
    // Three days span the x scale from half a day before the first to half a day after the last: the first bar's centre is at 1/6.
    const plot = (await page.locator("#orders-chart .u-over").boundingBox())!;
    await page.mouse.move(plot.x + plot.width / 6, plot.y + plot.height / 2);
    expect(await legend("orders")).toEqual([["Day", "2026-11-30"], ["Orders", "12"]]);
    await page.mouse.move(0, 0);
    expect(await legend("orders")).toEqual([["Day", "2026-12-02"], ["Orders", "7"]]);
  });

  it("switches branch with the picker and narrows the range with the dates", async () => {
    await page.selectOption("#branch", "south");
    await page.locator("#sales-caption", { hasText: /^south/ }).waitFor();
    expect(await tableRows()).toEqual(of("south").map((row) => [row.day, String(row.orders), formatRevenue(row.revenue)]));
    expect(await legend("revenue")).toEqual([["Day", "2026-12-02"], ["Revenue", "1,877.00"]]);
    await page.fill("#from", "2026-12-02");
    await page.click("#show");
    await page.locator("#sales-caption", { hasText: "south, 2026-12-02 to 2026-12-02: 1 of 1 days with sales" }).waitFor();
    expect(await tableRows()).toEqual([["2026-12-02", "23", "1,877.00"]]);
  });

  it("shows pipeline health: the last load, its lag, the DLQ's depth", async () => {
    const health = await page.locator("#health dt, #health dd").allTextContents();
    expect(health.slice(0, 6)).toEqual(["Last load", expect.stringMatching(/^\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2} UTC$/), "Lag", expect.stringMatching(/^\d+ min \d+ s$/), "Last manifest", LOAD.manifestKey]);
    // Lag is now − the load's newest event, so it has grown since the seeding by the time that passed since.
    const [, minutes, seconds] = /^(\d+) min (\d+) s$/.exec(health[3])!.map(Number);
    expect(minutes * 60 + seconds).toBeGreaterThanOrEqual(LOAD.lagSeconds);
    expect(minutes * 60 + seconds).toBeLessThanOrEqual(LOAD.lagSeconds + Math.ceil((Date.now() - LOAD.loadedAt.getTime()) / 1000) + 1);
    // The aggregator's DLQ holds the 2 seeded messages (sqs:GetQueueAttributes through the client API), flagged.
    expect(health.slice(6)).toEqual(["aggregator-dlq depth", "2 waiting"]);
    expect(await page.locator("#health dd.warn").allTextContents()).toEqual(["2 waiting"]);
  });

  it("explains a range the API would refuse before asking it", async () => {
    const requests: string[] = [];
    page.on("request", (request) => requests.push(request.url()));
    await page.fill("#from", "2026-12-02");
    await page.fill("#to", "2026-11-30");
    await page.click("#show");
    await expect(page.locator("#range-error").innerText()).resolves.toBe("The end date 2026-11-30 is before the start date 2026-12-02.");
    expect(await page.locator("#to").getAttribute("aria-invalid")).toBe("true");
    expect(await page.locator("#range-error").getAttribute("role")).toBe("alert");
    expect(requests.filter((url) => url.includes("/daily-sales"))).toEqual([]);
    page.removeAllListeners("request");
    // Corrected, the sentence and the mark go, and the range is shown.
    await page.fill("#from", "2026-12-01");
    await page.fill("#to", "2026-12-02");
    await page.click("#show");
    await page.locator("#sales-caption", { hasText: "south, 2026-12-01 to 2026-12-02: 2 of 2 days with sales" }).waitFor();
    expect(await page.locator("#range-error").isHidden()).toBe(true);
    expect(await page.locator("#to").getAttribute("aria-invalid")).toBeNull();
  });

  it("shows the API's own message for a branch it does not know", async () => {
    const expected = await apiErrorMessage("/api/reports/atlantis/daily-sales?from=2026-11-30&to=2026-12-02");
    await openAndSettle("#branch=atlantis&from=2026-11-30&to=2026-12-02");
    const error = page.locator("#sales-error");
    expect(await error.isVisible()).toBe(true);
    expect(await error.getAttribute("role")).toBe("alert");
    expect(await error.innerText()).toBe(`Daily sales for atlantis could not be loaded: ${expected}`);
    expect(await tableRows()).toEqual([]);
    expect(await page.locator("body").getAttribute("data-state")).toBe("error");
  });

  it("says what is wrong when the database and cache are down, then when the API is gone", async () => {
    await stack.stopDataStores();
    const expected = { branches: await apiErrorMessage("/api/branches"), health: await apiErrorMessage("/api/pipeline/health") };
    // A new visitor: the earlier page's HTTP cache still holds the branches and reports (Cache-Control: private, max-age=60), and would show them.
    page = await newVisitor();
    await openAndSettle();
    expect(await page.locator("#fatal").innerText()).toBe(`The list of branches could not be loaded: ${expected.branches}`);
    expect(await page.locator("#health-error").innerText()).toBe(`Pipeline health could not be loaded: ${expected.health}`);

    await stack.stopApi();
    await openAndSettle();
    expect(await page.locator("#fatal").innerText()).toMatch(/^The list of branches could not be loaded: The client API is not answering \(ECONNREFUSED\)\.$/);
    await page.screenshot({ path: path.join(ROOT, "out", "dashboard-error.png"), fullPage: true });
  });

  it("ran without a script error or a CSP violation", () => {
    expect(pageErrors).toEqual([]);
  });
});
