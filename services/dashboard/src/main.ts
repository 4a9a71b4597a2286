/**
 * The dashboard's entry point: reads /config.json, signs in when `auth` is set, then shows
 * pipeline health and a branch's daily sales (charts + table) for the chosen range. The
 * chosen branch and range live in the address (#branch=…&from=…&to=…), so a view can be
 * bookmarked or shared. All text goes in through textContent: nothing from the API is
 * ever parsed as HTML.
 */
import "uplot/dist/uPlot.min.css";
import "./styles.css";
import { ApiClient, ApiError, Branch, DailySales, PipelineHealth, createApiClient } from "./api";
import { BrowserSide, forgetToken, signIn } from "./auth";
import { SalesCharts, renderCharts } from "./charts";
import { DashboardConfig, parseConfig } from "./config";
import { checkRange, daysBetween, defaultRange, formatDay } from "./dates";
import { formatCount, formatDuration, formatRevenue, formatTimestamp, sumRevenue } from "./format";

function element<T extends HTMLElement>(id: string): T {
  const found = document.getElementById(id);
  if (found === null) throw new Error(`index.html has no #${id}`);
  return found as T;
}

const ui = {
  status: element<HTMLParagraphElement>("status"),
  fatal: element<HTMLDivElement>("fatal"),
  controls: element<HTMLFormElement>("controls"),
  branch: element<HTMLSelectElement>("branch"),
  from: element<HTMLInputElement>("from"),
  to: element<HTMLInputElement>("to"),
  show: element<HTMLButtonElement>("show"),
  rangeError: element<HTMLParagraphElement>("range-error"),
  healthPanel: element<HTMLElement>("health-panel"),
  healthError: element<HTMLDivElement>("health-error"),
  health: element<HTMLDListElement>("health"),
  salesPanel: element<HTMLElement>("sales-panel"),
  salesError: element<HTMLDivElement>("sales-error"),
  ordersChart: element<HTMLDivElement>("orders-chart"),
  revenueChart: element<HTMLDivElement>("revenue-chart"),
  caption: element<HTMLTableCaptionElement>("sales-caption"),
  tableBody: document.querySelector<HTMLTableSectionElement>("#sales-table tbody")!,
  tableFoot: document.querySelector<HTMLTableSectionElement>("#sales-table tfoot")!,
};

/** Whether config.json asked for sign-in (set at start). */
let signedIn = false;

/** A readable sentence for any failure: ApiError messages are written for people already. */
function describe(error: unknown): string {
  if (signedIn && error instanceof ApiError && error.status === 401) return `${error.message} Reload the page to sign in again.`;
  return error instanceof Error ? error.message : String(error);
}

function showMessage(target: HTMLElement, message: string | undefined): void {
  target.textContent = message ?? "";
  target.hidden = message === undefined;
}

function setBusy(panel: HTMLElement, busy: boolean): void {
  panel.setAttribute("aria-busy", String(busy));
}

function cell(tag: "td" | "th", text: string, className?: string): HTMLTableCellElement {
  const td = document.createElement(tag);
  td.textContent = text;
  if (className !== undefined) td.className = className;
  if (tag === "th") td.scope = "row";
  return td;
}

// ---- pipeline health --------------------------------------------------------------------

function renderHealth(health: PipelineHealth): void {
  const entries: [string, string, string?][] = [
    ["Last load", health.lastLoadAt === null ? "No load yet" : formatTimestamp(health.lastLoadAt)],
    ["Lag", health.lagSeconds === null ? "Unknown (no load yet)" : formatDuration(health.lagSeconds)],
    ["Last manifest", health.lastManifest ?? "None"],
    ...health.queues.map((queue): [string, string, string?] => [
      `${queue.name} depth`,
      queue.depth === null ? "Unknown" : queue.depth === 0 ? "0" : `${formatCount(queue.depth)} waiting`,
      queue.depth !== null && queue.depth > 0 ? "warn" : undefined,
    ]),
  ];
  ui.health.replaceChildren(
    ...entries.flatMap(([term, value, flag]) => {
      const dt = document.createElement("dt");
      dt.textContent = term;
      const dd = document.createElement("dd");
      dd.textContent = value;
      if (flag !== undefined) dd.className = flag;
      return [dt, dd];
    }),
  );
}

async function loadHealth(api: ApiClient): Promise<void> {
  setBusy(ui.healthPanel, true);
  try {
    renderHealth(await api.pipelineHealth());
    showMessage(ui.healthError, undefined);
  } catch (error) {
    ui.health.replaceChildren();
    showMessage(ui.healthError, `Pipeline health could not be loaded: ${describe(error)}`);
  } finally {
    setBusy(ui.healthPanel, false);
  }
}

// ---- daily sales ------------------------------------------------------------------------

let charts: SalesCharts | undefined;
let pending: AbortController | undefined;

function clearSales(caption: string): void {
  charts?.destroy();
  charts = undefined;
  ui.tableBody.replaceChildren();
  ui.tableFoot.replaceChildren();
  ui.caption.textContent = caption;
}

function renderSales(sales: DailySales): void {
  clearSales(`${sales.branch}, ${sales.from} to ${sales.to}: ${sales.days.length} of ${daysBetween(sales.from, sales.to)} days with sales`);
  ui.tableBody.replaceChildren(
    ...sales.days.map((day) => {
      const row = document.createElement("tr");
      row.append(cell("th", day.day), cell("td", formatCount(day.orders), "number"), cell("td", formatRevenue(day.revenue), "number"));
      return row;
    }),
  );
  const total = document.createElement("tr");
  total.append(
    cell("th", "Total"),
    cell("td", formatCount(sales.days.reduce((sum, day) => sum + day.orders, 0)), "number"),
    cell("td", sumRevenue(sales.days.map((day) => day.revenue)), "number"),
  );
  ui.tableFoot.replaceChildren(total);
  if (sales.days.length > 0) charts = renderCharts(ui.ordersChart, ui.revenueChart, sales.days);
}

async function loadSales(api: ApiClient, branch: string, from: string, to: string): Promise<void> {
  pending?.abort();
  const controller = new AbortController();
  pending = controller;
  setBusy(ui.salesPanel, true);
  ui.status.textContent = `Loading daily sales for ${branch}, ${from} to ${to}…`;
  try {
    const sales = await api.dailySales(branch, from, to, controller.signal);
    if (controller.signal.aborted) return;
    showMessage(ui.salesError, undefined);
    renderSales(sales);
    ui.status.textContent = `Showing ${branch}, ${from} to ${to}.`;
    document.body.dataset.state = "ready";
  } catch (error) {
    if (controller.signal.aborted) return;
    clearSales(`No data shown for ${branch}, ${from} to ${to}`);
    showMessage(ui.salesError, `Daily sales for ${branch} could not be loaded: ${describe(error)}`);
    ui.status.textContent = "Daily sales could not be loaded.";
    document.body.dataset.state = "error";
  } finally {
    if (pending === controller) {
      pending = undefined;
      setBusy(ui.salesPanel, false);
    }
  }
}

// ---- the address: #branch=…&from=…&to=… ---------------------------------------------------

interface View {
  readonly branch: string;
  readonly from: string;
  readonly to: string;
}

function viewFromHash(): Partial<View> {
  const params = new URLSearchParams(location.hash.slice(1));
  return { branch: params.get("branch") ?? undefined, from: params.get("from") ?? undefined, to: params.get("to") ?? undefined };
}

function writeHash(view: View): void {
  history.replaceState(null, "", `#${new URLSearchParams({ branch: view.branch, from: view.from, to: view.to })}`);
}

function fillBranches(branches: readonly Branch[], selected: string): void {
  const names = branches.map((branch) => branch.branch);
  // A bookmarked branch the API no longer lists stays selectable: the API's answer says why it shows nothing.
  if (!names.includes(selected)) names.push(selected);
  ui.branch.replaceChildren(
    ...names.map((name) => {
      const option = document.createElement("option");
      option.value = name;
      option.textContent = name;
      option.selected = name === selected;
      return option;
    }),
  );
}

// ---- start ------------------------------------------------------------------------------

async function readConfig(): Promise<DashboardConfig> {
  let response: Response;
  try {
    response = await fetch("/config.json", { headers: { accept: "application/json" }, cache: "no-cache" });
  } catch (error) {
    throw new Error(`The dashboard's settings (/config.json) could not be fetched (${describe(error)}). Check the connection and reload.`);
  }
  if (!response.ok) throw new Error(`The dashboard's settings (/config.json) answered HTTP ${response.status}; the site is not deployed completely.`);
  try {
    return parseConfig(await response.json());
  } catch (error) {
    throw new Error(`The dashboard's settings are wrong: ${describe(error)}`);
  }
}

function browserSide(): BrowserSide {
  return {
    storage: sessionStorage,
    crypto,
    fetch: (url, init) => fetch(url, init),
    redirectUri: location.origin + location.pathname,
    search: location.search,
    navigate: (url) => location.assign(url),
    clearCallback: () => history.replaceState(null, "", location.pathname + location.hash),
    now: () => Date.now(),
  };
}

/** The token to send, or undefined (no auth configured); undefined also while redirecting to sign in. */
async function obtainToken(config: DashboardConfig): Promise<{ token: string | undefined; redirecting: boolean }> {
  if (config.auth === null) return { token: undefined, redirecting: false };
  const result = await signIn(config.auth, browserSide());
  return result.kind === "token" ? { token: result.token, redirecting: false } : { token: undefined, redirecting: true };
}

async function start(): Promise<void> {
  const config = await readConfig();
  const { token, redirecting } = await obtainToken(config);
  if (redirecting) {
    ui.status.textContent = "Signing in…";
    return;
  }
  signedIn = config.auth !== null;
  const api = createApiClient({
    apiBase: config.apiBase,
    token: () => token,
    fetch: async (url, init) => {
      const response = await fetch(url, init);
      // A refused token is dropped, so the next load signs in again instead of sending it again.
      if (response.status === 401 && config.auth !== null) forgetToken(sessionStorage);
      return response;
    },
  });

  const health = loadHealth(api);
  let branches: Branch[];
  ui.status.textContent = "Loading branches…";
  try {
    branches = await api.branches();
  } catch (error) {
    throw new Error(`The list of branches could not be loaded: ${describe(error)}`);
  }
  if (branches.length === 0) {
    await health;
    ui.status.textContent = "No branch has reported sales yet.";
    clearSales("No branches yet");
    document.body.dataset.state = "ready";
    return;
  }

  const today = formatDay(Date.now());
  const wanted = viewFromHash();
  const branchName = wanted.branch ?? branches[0].branch;
  const known = branches.find((branch) => branch.branch === branchName);
  const fallback = defaultRange(known ?? { firstDay: null, lastDay: null }, today);
  const initial: View = { branch: branchName, from: wanted.from ?? fallback.from, to: wanted.to ?? fallback.to };
  fillBranches(branches, initial.branch);
  ui.from.value = initial.from;
  ui.to.value = initial.to;
  ui.controls.hidden = false;

  const show = async (view: View) => {
    const range = checkRange(view.from, view.to);
    ui.from.removeAttribute("aria-invalid");
    ui.to.removeAttribute("aria-invalid");
    if (!range.ok) {
      showMessage(ui.rangeError, range.message);
      (range.field === "from" ? ui.from : ui.to).setAttribute("aria-invalid", "true");
      document.body.dataset.state = "ready";
      return;
    }
    showMessage(ui.rangeError, undefined);
    writeHash(view);
    await loadSales(api, view.branch, view.from, view.to);
  };

  ui.branch.addEventListener("change", () => {
    // A new branch starts on its own last week of data, the way the page opened.
    const branch = branches.find((candidate) => candidate.branch === ui.branch.value);
    if (branch !== undefined) {
      const range = defaultRange(branch, today);
      ui.from.value = range.from;
      ui.to.value = range.to;
    }
    void show({ branch: ui.branch.value, from: ui.from.value, to: ui.to.value });
  });
  ui.controls.addEventListener("submit", (event) => {
    event.preventDefault();
    void show({ branch: ui.branch.value, from: ui.from.value, to: ui.to.value });
    void loadHealth(api);
  });

  await Promise.all([health, show(initial)]);
}

start().catch((error: unknown) => {
  showMessage(ui.fatal, describe(error));
  ui.status.textContent = "The dashboard could not start.";
  document.body.dataset.state = "error";
});
