/**
 * local/function-host.ts: a shipped factory in one warm environment, with Lambda's
 * one-at-a-time invocations, cold-start failures, timeouts and clean shutdown. The
 * factories here are serialised like any shipped handler, so each is self-contained.
 */
import { spawn } from "child_process";
import * as fs from "fs";
import * as path from "path";
import { hostShippedFunction, ShippedFunction } from "../local/function-host";
import { PROJECT_DIR } from "../scripts/engine";

/** Counts its invocations in the environment's memory, and how many ran at once. */
function countingFactory() {
  const environmentId = `${process.pid}-${Date.now()}`;
  let calls = 0;
  let running = 0;
  let mostAtOnce = 0;
  return async (event: { sleepMs?: number; fail?: string }) => {
    calls++;
    running++;
    mostAtOnce = Math.max(mostAtOnce, running);
    console.log(`call ${calls}`);
    try {
      if (event.sleepMs) await new Promise((resolve) => setTimeout(resolve, event.sleepMs));
      if (event.fail) throw new Error(event.fail);
      return { calls, mostAtOnce, environmentId, region: process.env.AWS_REGION, home: process.env.HOME ?? null };
    } finally {
      running--;
    }
  };
}

function brokenColdStartFactory(): (event: unknown) => Promise<unknown> {
  throw new Error("settings: CLAIMS_TABLE is required");
}

/** True while the process exists and is not a zombie waiting to be reaped. */
function isRunning(pid: number): boolean {
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, "utf8");
    return stat.slice(stat.lastIndexOf(")") + 2)[0] !== "Z";
  } catch {
    return false;
  }
}

async function waitUntilGone(pid: number): Promise<boolean> {
  for (let attempt = 0; attempt < 200 && isRunning(pid); attempt++) await new Promise((resolve) => setTimeout(resolve, 50));
  return !isRunning(pid);
}

describe("a hosted shipped function", () => {
  const hosts: ShippedFunction[] = [];
  const host = async (factory: () => unknown, timeoutSeconds = 30, onLog?: (line: string) => void) => {
    const fn = await hostShippedFunction("test-fn", factory, { env: { AWS_REGION: "eu-west-1" }, timeoutSeconds, onLog });
    hosts.push(fn);
    return fn;
  };
  afterAll(() => Promise.all(hosts.map((fn) => fn.stop())));

  it("stays warm: one cold start for many invocations, with env as its whole environment and every log line", async () => {
    const lines: string[] = [];
    const fn = await host(countingFactory, 30, (line) => lines.push(line));

    const outcomes = [];
    for (let i = 0; i < 4; i++) outcomes.push(await fn.invoke({}));

    expect(outcomes.map((outcome) => outcome.ok && (outcome.result as { calls: number }).calls)).toEqual([1, 2, 3, 4]);
    expect(new Set(outcomes.map((outcome) => outcome.ok && (outcome.result as { environmentId: string }).environmentId)).size).toBe(1);
    expect(outcomes[0]).toEqual(expect.objectContaining({ ok: true, result: expect.objectContaining({ region: "eu-west-1", home: null }) }));
    expect([fn.invocations, fn.coldStarts, fn.timeouts]).toEqual([4, 1, 0]);
    await fn.invoke({}); // the log lines of earlier invocations have arrived by the time a later one settles
    expect(lines.slice(0, 4)).toEqual(["call 1", "call 2", "call 3", "call 4"]);
  });

  it("runs one invocation at a time, queueing the others", async () => {
    const fn = await host(countingFactory);

    const outcomes = await Promise.all([fn.invoke({ sleepMs: 100 }), fn.invoke({ sleepMs: 100 }), fn.invoke({})]);

    expect(outcomes.map((outcome) => outcome.ok && (outcome.result as { calls: number; mostAtOnce: number }))).toEqual([
      expect.objectContaining({ calls: 1, mostAtOnce: 1 }),
      expect.objectContaining({ calls: 2, mostAtOnce: 1 }),
      expect.objectContaining({ calls: 3, mostAtOnce: 1 }),
    ]);
  });

  it("reports a handler's error as the runtime does and stays warm", async () => {
    const fn = await host(countingFactory);

    const failed = await fn.invoke({ fail: "speed layer refused the batch" });
    const next = await fn.invoke({});

    expect(failed).toEqual({ ok: false, requestId: expect.any(String), error: { errorType: "Error", errorMessage: "speed layer refused the batch", trace: expect.arrayContaining([expect.stringContaining("Error: speed layer refused the batch")]) } });
    expect(next).toEqual(expect.objectContaining({ ok: true, result: expect.objectContaining({ calls: 2 }) }));
    expect(fn.coldStarts).toBe(1);
  });

  it("fails the invocation with a cold start's error, and initialises again for the next one", async () => {
    const fn = await host(brokenColdStartFactory);

    const first = await fn.invoke({});
    const second = await fn.invoke({});

    for (const outcome of [first, second]) {
      expect(outcome).toEqual(expect.objectContaining({ ok: false, error: expect.objectContaining({ errorType: "Error", errorMessage: "settings: CLAIMS_TABLE is required" }) }));
    }
    expect([fn.invocations, fn.coldStarts]).toEqual([2, 2]);
  });

  it("kills an environment that runs past its timeout, reports Sandbox.Timedout, and starts a fresh one", async () => {
    const fn = await host(countingFactory, 1);
    await fn.invoke({});
    const timedOutPid = fn.pid!;

    const timedOut = await fn.invoke({ sleepMs: 30_000 });
    const next = await fn.invoke({});

    expect(timedOut).toEqual({ ok: false, requestId: expect.any(String), error: { errorType: "Sandbox.Timedout", errorMessage: `RequestId: ${timedOut.requestId} Error: Task timed out after 1.00 seconds`, trace: [] } });
    expect(isRunning(timedOutPid)).toBe(false);
    expect(next).toEqual(expect.objectContaining({ ok: true, result: expect.objectContaining({ calls: 1 }) }));
    expect([fn.invocations, fn.coldStarts, fn.timeouts]).toEqual([3, 2, 1]);
  });

  it("leaves no process behind after stop, and refuses further invocations", async () => {
    const fn = await hostShippedFunction("stopped-fn", countingFactory, { env: {}, timeoutSeconds: 30 });
    await fn.invoke({});
    const pid = fn.pid!;
    expect(isRunning(pid)).toBe(true);

    await fn.stop();

    expect(isRunning(pid)).toBe(false);
    await expect(fn.invoke({})).rejects.toThrow("function stopped-fn is stopped");
  });

  it("leaves no process or shipped text behind when its parent dies without stopping it", async () => {
    // A parent that hosts a function, invokes it once, prints the environment's pid and exits. The
    // factory keeps a timer, as an SDK client's keep-alive socket would, so only the closed IPC channel ends it.
    const parentScript = `
      const { hostShippedFunction } = require(${JSON.stringify(path.join(PROJECT_DIR, "local/function-host"))});
      const factory = () => { setInterval(() => undefined, 60000); let calls = 0; return async () => ++calls; };
      hostShippedFunction("orphan-fn", factory, { env: {}, timeoutSeconds: 30 })
        .then(async (fn) => { await fn.invoke({}); console.log("PID " + fn.pid + " DIR " + require("fs").readlinkSync("/proc/" + fn.pid + "/cwd")); process.exit(0); });`;
    const parent = spawn(process.execPath, ["-r", "ts-node/register/transpile-only", "-e", parentScript], { cwd: PROJECT_DIR, stdio: ["ignore", "pipe", "inherit"] });
    let output = "";
    parent.stdout.on("data", (chunk) => (output += chunk));
    await new Promise((resolve) => parent.once("exit", resolve));
    const [, pid, dir] = /PID (\d+) DIR (\S+)/.exec(output) ?? [];

    expect(Number(pid)).toBeGreaterThan(0);
    expect(await waitUntilGone(Number(pid))).toBe(true);
    expect(fs.existsSync(dir)).toBe(false);
  });
});
