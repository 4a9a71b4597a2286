/**
 * Lambdas as shipped: a callback factory serialised exactly as aws.lambda.CallbackFunction
 * does it, loaded and invoked in a fresh Node process (as a cold start would), with
 * `env` as its whole environment and the project's node_modules standing in for the
 * archive's (the Lambda runtime provides @aws-sdk/* the same way).
 *
 * A failed invocation is reported the way the Node.js Lambda runtime reports it to the
 * Runtime API, and so to callers, destinations and dead-letter queues: errorType,
 * errorMessage and trace. The rule mirrors toRapidResponse and _isError in
 * aws/aws-lambda-nodejs-runtime-interface-client, src/Errors.js (commit da5777a8963928cac4f6f93d88d6928262f6bd2a):
 * a native Error, or any object whose name, message and stack are non-empty strings,
 * reports its name, message and stack lines (DEL characters escaped as %7F); anything
 * else reports `typeof` and its string form with an empty trace. That second branch is
 * how a serialised `class X extends Error` used to surface: "object", "[object Object]".
 */
import * as pulumi from "@pulumi/pulumi";
import { spawn } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { PROJECT_DIR } from "../../scripts/engine";

/** What the runtime posts to /invocation/{id}/error for a rejected handler. */
export interface RuntimeErrorResponse {
  readonly errorType: string;
  readonly errorMessage: string;
  readonly trace: string[];
}

// The result goes to a file, not stdout, which the handler's own log lines share.
const INVOKE_SCRIPT = `
const fs = require("fs");
const util = require("util");
const [event, resultFile] = process.argv.slice(2);
const escapeDel = (text) => String(text).split("\\x7F").join("%7F");
const isErrorLike = (value) => Boolean(value) && [value.name, value.message, value.stack].every((part) => typeof part === "string" && part.length > 0);
function runtimeErrorResponse(error) {
  try {
    if (util.types.isNativeError(error) || isErrorLike(error)) {
      return { errorType: escapeDel(error.name), errorMessage: escapeDel(error.message), trace: escapeDel(error.stack).split("\\n") };
    }
    return { errorType: typeof error, errorMessage: String(error), trace: [] };
  } catch {
    return { errorType: "handled", errorMessage: "callback called with Error argument, but there was a problem while retrieving one or more of its message, name, and stack", trace: [] };
  }
}
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

/** The exact text CallbackFunction ships for a factory. */
export async function shippedText(factory: () => unknown): Promise<string> {
  return (await pulumi.runtime.serializeFunction(factory as (...args: unknown[]) => unknown, { isFactoryFunction: true })).text;
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
