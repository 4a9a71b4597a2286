/**
 * Lambdas as shipped: a callback factory serialised exactly as aws.lambda.CallbackFunction
 * does it, loaded and invoked in a fresh Node process (as a cold start would), with
 * `env` as its whole environment and the project's node_modules standing in for the
 * archive's (the Lambda runtime provides @aws-sdk/* the same way).
 *
 * A failed invocation is reported with the runtime's rule (local/lambda-runtime.ts):
 * errorType, errorMessage and trace.
 */
import { spawn } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { RUNTIME_ERROR_RESPONSE_JS, shippedText } from "../../local/lambda-runtime";
import type { RuntimeErrorResponse } from "../../local/lambda-runtime";
import { PROJECT_DIR } from "../../scripts/engine";

export { shippedText };
export type { RuntimeErrorResponse };

// The result goes to a file, not stdout, which the handler's own log lines share.
const INVOKE_SCRIPT = `
const fs = require("fs");
const util = require("util");
const [event, resultFile] = process.argv.slice(2);
${RUNTIME_ERROR_RESPONSE_JS}
const settle = (outcome) => fs.writeFileSync(resultFile, JSON.stringify(outcome));
Promise.resolve()
  .then(() => require("./__index.js").handler(JSON.parse(event)))
  .then(
    (result) => settle({ ok: true, result: result === undefined ? null : result }),
    (error) => settle({ ok: false, error: runtimeErrorResponse(error) }),
  );`;

/** A shipped handler rejected (or its cold start threw): `response` is what the runtime reported. */
export class ShippedInvocationFailed extends Error {
  constructor(
    readonly response: RuntimeErrorResponse,
    readonly stderr: string,
  ) {
    super(`shipped handler failed with ${response.errorType}: ${response.errorMessage}`);
    this.name = "ShippedInvocationFailed";
  }
}

export interface InvokeOptions {
  /** A module (absolute path) the process requires before the handler, e.g. a client-level SDK stub. @default none */
  readonly preload?: string;
}

/**
 * Resolves with the handler's result and the modules the shipped text requires; rejects
 * with ShippedInvocationFailed when the handler fails, and with stderr when the process
 * itself dies.
 */
export async function invokeAsShipped(
  factory: () => unknown,
  env: Record<string, string>,
  event: unknown,
  options: InvokeOptions = {},
): Promise<{ result: unknown; requires: string[] }> {
  const text = await shippedText(factory);
  const requires = [...new Set(text.match(/require\("[^"]+"\)/g) ?? [])].sort();
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "shipped-"));
  const resultFile = path.join(dir, "result.json");
  try {
    fs.writeFileSync(path.join(dir, "__index.js"), text);
    fs.writeFileSync(path.join(dir, "invoke.js"), INVOKE_SCRIPT);
    const preload = options.preload ? ["--require", options.preload] : [];
    const child = spawn(process.execPath, [...preload, path.join(dir, "invoke.js"), JSON.stringify(event), resultFile], {
      env: { PATH: process.env.PATH ?? "", NODE_PATH: path.join(PROJECT_DIR, "node_modules"), ...env },
      stdio: ["ignore", "ignore", "pipe"],
    });
    let stderr = "";
    child.stderr?.on("data", (chunk) => (stderr += chunk));
    const code = await new Promise<number | null>((resolve) => child.once("exit", resolve));
    if (code !== 0 || !fs.existsSync(resultFile)) throw new Error(`shipped handler process died (exit ${code}):\n${stderr}`);
    const outcome = JSON.parse(fs.readFileSync(resultFile, "utf8")) as { ok: true; result: unknown } | { ok: false; error: RuntimeErrorResponse };
    if (!outcome.ok) throw new ShippedInvocationFailed(outcome.error, stderr);
    return { result: outcome.result, requires };
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}
