/**
 * The README's two commands on a fresh machine: the system packages the suites need are
 * provisioned (or named in one line before any test starts), and everything runs on the
 * Node major the Lambdas are deployed on. The shell scripts run for real; only the system
 * commands they call (apt-get, sudo, id) are replaced, on PATH, by recorders.
 */
import { spawnSync } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { LAMBDA_RUNTIME } from "../components/lib/inline-function";
import { PROJECT_DIR } from "../scripts/engine";

const SYSTEM_PACKAGES = path.join(PROJECT_DIR, "scripts", "system-packages.sh");
const WITH_NODE22 = path.join(PROJECT_DIR, "scripts", "with-node22.sh");

/** A PATH of only the given commands (scripts), plus the shell basics the script uses. */
function sandboxPath(commands: Record<string, string>): { dir: string; path: string; log: string } {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "toolchain-"));
  const bin = path.join(dir, "bin");
  fs.mkdirSync(bin);
  const log = path.join(dir, "calls.log");
  for (const basic of ["sh", "bash", "uname", "dirname"]) {
    const found = spawnSync("sh", ["-c", `command -v ${basic}`], { encoding: "utf8" }).stdout.trim();
    if (found) fs.symlinkSync(found, path.join(bin, basic));
  }
  for (const [name, body] of Object.entries(commands)) {
    fs.writeFileSync(path.join(bin, name), `#!/bin/sh\necho "${name} $*" >> "${log}"\n${body}\n`, { mode: 0o755 });
  }
  return { dir, path: bin, log };
}

function run(script: string, sandbox: { path: string }) {
  const bash = spawnSync("sh", ["-c", "command -v bash"], { encoding: "utf8" }).stdout.trim();
  return spawnSync(bash, [script], { encoding: "utf8", env: { PATH: sandbox.path, HOME: os.tmpdir() } });
}

const calls = (log: string) => (fs.existsSync(log) ? fs.readFileSync(log, "utf8").trim().split("\n") : []);

describe("scripts/system-packages.sh (run by npm test before anything else)", () => {
  it("does nothing when redis-server, chromium and python3 are on PATH", () => {
    const sandbox = sandboxPath({ "redis-server": "exit 0", chromium: "exit 0", python3: "exit 0", "apt-get": "exit 0" });
    const result = run(SYSTEM_PACKAGES, sandbox);
    expect(result.status).toBe(0);
    expect(result.stderr).toBe("");
    expect(calls(sandbox.log)).toEqual([]);
  });

  it("installs the missing packages with apt-get when it runs as root", () => {
    const sandbox = sandboxPath({ id: "echo 0", "apt-get": "exit 0" });
    const result = run(SYSTEM_PACKAGES, sandbox);
    expect(result.status).toBe(0);
    expect(calls(sandbox.log).filter((line) => line.startsWith("apt-get"))).toEqual(["apt-get update -qq", "apt-get install -y -qq redis-server chromium python3"]);
    expect(result.stderr).toMatch(/Installing redis-server chromium python3 with apt-get/);
  });

  it("installs only what is missing", () => {
    const sandbox = sandboxPath({ id: "echo 0", "redis-server": "exit 0", python3: "exit 0", "apt-get": "exit 0" });
    const result = run(SYSTEM_PACKAGES, sandbox);
    expect(result.status).toBe(0);
    expect(calls(sandbox.log).filter((line) => line.startsWith("apt-get"))).toEqual(["apt-get update -qq", "apt-get install -y -qq chromium"]);
  });

  it("installs it with passwordless sudo when it is not root", () => {
    const sandbox = sandboxPath({ id: "echo 1000", sudo: 'shift; [ "$1" = true ] && exit 0; exec "$@"', "apt-get": "exit 0" });
    const result = run(SYSTEM_PACKAGES, sandbox);
    expect(result.status).toBe(0);
    expect(calls(sandbox.log)).toContain("apt-get install -y -qq redis-server chromium python3");
  });

  it("stops with one line naming the exact command when it cannot install", () => {
    const sandbox = sandboxPath({ id: "echo 1000", sudo: "exit 1", "apt-get": "exit 0" });
    const result = run(SYSTEM_PACKAGES, sandbox);
    expect(result.status).toBe(1);
    expect(result.stderr.trim().split("\n")).toEqual(["The tests need redis-server chromium python3; run: sudo apt-get install -y redis-server chromium python3"]);
    expect(calls(sandbox.log).filter((line) => line.startsWith("apt-get"))).toEqual([]);
  });
});

describe("Node versions", () => {
  const packageJson = JSON.parse(fs.readFileSync(path.join(PROJECT_DIR, "package.json"), "utf8"));
  const pinned = /NODE22_VERSION=(\d+)\.(\d+)\.(\d+)/.exec(fs.readFileSync(WITH_NODE22, "utf8"));

  it("tests on the major the Lambdas are deployed on, which engines declares", () => {
    const runtimeMajor = /^nodejs(\d+)\.x$/.exec(String(LAMBDA_RUNTIME))?.[1];
    expect(pinned?.[1]).toBe(runtimeMajor);
    expect(packageJson.engines.node).toBe(`>=${runtimeMajor}`);
    // This suite runs under `npm test`, which runs jest on that Node.
    expect(process.versions.node.split(".")[0]).toBe(runtimeMajor);
  });

  it("keeps engines no lower than what @pulumi/pulumi declares", () => {
    const floor = (range: string) => Number(/>=\s*(\d+)/.exec(range)?.[1]);
    const sdk = JSON.parse(fs.readFileSync(require.resolve("@pulumi/pulumi/package.json"), "utf8"));
    expect(floor(packageJson.engines.node)).toBeGreaterThanOrEqual(floor(sdk.engines.node));
  });

  it("runs every TypeScript npm script through scripts/with-node22.sh", () => {
    const scripts = Object.entries(packageJson.scripts as Record<string, string>).filter(([, command]) => /ts-node|tsc/.test(command));
    expect(scripts.length).toBeGreaterThan(5);
    for (const [name, command] of scripts) expect([name, command.startsWith("bash scripts/with-node22.sh ")]).toEqual([name, true]);
  });

  it("passes a Node that is already 22 or later straight through", () => {
    const result = spawnSync("bash", [WITH_NODE22, "node", "-p", "process.execPath"], { encoding: "utf8" });
    expect(result.status).toBe(0);
    expect(result.stdout.trim()).toBe(process.execPath);
  });
});
