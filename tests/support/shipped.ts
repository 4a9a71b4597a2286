/**
 * Lambdas as shipped: a callback factory serialised exactly as aws.lambda.CallbackFunction
 * does it, loaded and invoked in a fresh Node process (as a cold start would), with
 * `env` as its whole environment and the project's node_modules standing in for the
 * archive's (the Lambda runtime provides @aws-sdk/* the same way).
 */
import * as pulumi from "@pulumi/pulumi";
import { spawn } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { PROJECT_DIR } from "../../scripts/engine";

// The result goes to a file, not stdout, which the handler's own log lines share.
const INVOKE_SCRIPT = `
const fs = require("fs");
const [event, resultFile] = process.argv.slice(2);
require("./__index.js").handler(JSON.parse(event)).then(
  (result) => fs.writeFileSync(resultFile, JSON.stringify(result === undefined ? null : result)),
  (error) => { console.error(error); process.exit(1); },
);`;

/** Resolves with the handler's result and the modules the shipped text requires; rejects with stderr on failure. */
export async function invokeAsShipped(factory: () => unknown, env: Record<string, string>, event: unknown): Promise<{ result: unknown; requires: string[] }> {
  const { text } = await pulumi.runtime.serializeFunction(factory as (...args: unknown[]) => unknown, { isFactoryFunction: true });
  const requires = [...new Set(text.match(/require\("[^"]+"\)/g) ?? [])].sort();
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "shipped-"));
  const resultFile = path.join(dir, "result.json");
  try {
    fs.writeFileSync(path.join(dir, "__index.js"), text);
    fs.writeFileSync(path.join(dir, "invoke.js"), INVOKE_SCRIPT);
    const child = spawn(process.execPath, [path.join(dir, "invoke.js"), JSON.stringify(event), resultFile], {
      env: { PATH: process.env.PATH ?? "", NODE_PATH: path.join(PROJECT_DIR, "node_modules"), ...env },
      stdio: ["ignore", "ignore", "pipe"],
    });
    let stderr = "";
    child.stderr?.on("data", (chunk) => (stderr += chunk));
    const code = await new Promise<number | null>((resolve) => child.once("exit", resolve));
    if (code !== 0) throw new Error(`shipped handler failed (exit ${code}):\n${stderr}`);
    return { result: JSON.parse(fs.readFileSync(resultFile, "utf8")), requires };
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}
