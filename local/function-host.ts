/**
 * A warm Lambda execution environment for a shipped handler. The factory is serialised
 * exactly as aws.lambda.CallbackFunction ships it (local/lambda-runtime.ts shippedText)
 * and runs in ONE long-lived child Node process, as Lambda reuses an environment: the
 * factory's cold start runs once, then every invocation reuses what it built.
 *
 * Exports:
 *   hostShippedFunction(name, factory, { env, timeoutSeconds, onLog? }): Promise<ShippedFunction>
 *   ShippedFunction { name, invoke(event): Promise<InvocationOutcome>, stop(), pid,
 *                     invocations, coldStarts, timeouts }
 *   InvocationOutcome = { ok: true, result, requestId } | { ok: false, error: RuntimeErrorResponse, requestId }
 *   Invocable: what the event sources (local/event-sources.ts) need of a function.
 *   lambdaTimeoutError(requestId, timeoutSeconds)
 *
 * Lambda semantics mirrored:
 * - One invocation at a time per environment (an environment never runs two events
 *   concurrently; https://docs.aws.amazon.com/lambda/latest/dg/lambda-concurrency.html):
 *   further invocations queue.
 * - `env` is the whole environment, plus PATH and NODE_PATH=<project>/node_modules, which
 *   stands in for the archive's node_modules and the runtime's AWS SDK v3.
 * - A failed invocation reports what the Node.js runtime reports (errorType, errorMessage,
 *   trace; local/lambda-runtime.ts). A cold start that throws fails the invocation with
 *   that error, and the environment is discarded, so the next invocation initialises
 *   again, as Lambda does after an init error.
 * - Timeout: past `timeoutSeconds` the environment is killed and the invocation fails with
 *   errorType "Sandbox.Timedout" and "RequestId: <id> Error: Task timed out after N.00
 *   seconds", what Lambda reports for a timed-out invocation (Lambda troubleshooting
 *   guide, https://docs.aws.amazon.com/lambda/latest/dg/troubleshooting-invocation.html,
 *   "Sandbox.Timedout"; https://docs.aws.amazon.com/lambda/latest/dg/configuration-timeout.html).
 *   The next invocation starts a fresh environment (a cold start).
 * Not mirrored: the separate 10 s init limit (here the cold start runs inside the first
 * invocation's timeout), memory limits, payload size limits (6 MB), the runtime's log
 * line prefix (timestamp, request id, level) and REPORT lines, and concurrency across
 * several environments (one host is one environment).
 *
 * Log lines the handler prints (stdout and stderr) go to `onLog`, one line each; they
 * may reach it slightly after the invocation settles. No child outlives `stop()`, and the
 * child exits by itself when its IPC channel closes (the parent died).
 */
import { ChildProcess, fork } from "child_process";
import { randomUUID } from "crypto";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { createInterface } from "readline";
import { PROJECT_DIR } from "../scripts/engine";
import { RUNTIME_ERROR_RESPONSE_JS, RuntimeErrorResponse, shippedText } from "./lambda-runtime";
import { exited } from "./servers";

export type InvocationOutcome =
  | { readonly ok: true; readonly result: unknown; readonly requestId: string }
  | { readonly ok: false; readonly error: RuntimeErrorResponse; readonly requestId: string };

/** What an event source needs of a function: ShippedFunction is one, a test stub can be another. */
export interface Invocable {
  readonly name: string;
  invoke(event: unknown): Promise<InvocationOutcome>;
}

export interface ShippedFunction extends Invocable {
  /** The environment's process id while one is running. */
  readonly pid: number | undefined;
  readonly invocations: number;
  /** Initialisations attempted (the factory run in a new environment), failed ones included. */
  readonly coldStarts: number;
  readonly timeouts: number;
  /** Kills the environment (waiting for it to exit) and removes the shipped text. */
  stop(): Promise<void>;
}

export interface HostOptions {
  /** The function's whole environment (AWS_REGION, credentials, endpoints, its settings). */
  readonly env: Record<string, string>;
  /** The function's configured timeout. */
  readonly timeoutSeconds: number;
  /** Receives each line the handler prints. @default discards them */
  readonly onLog?: (line: string) => void;
}

/** The error Lambda reports when an invocation runs past the function's timeout. */
export function lambdaTimeoutError(requestId: string, timeoutSeconds: number): RuntimeErrorResponse {
  return { errorType: "Sandbox.Timedout", errorMessage: `RequestId: ${requestId} Error: Task timed out after ${timeoutSeconds.toFixed(2)} seconds`, trace: [] };
}

/**
 * The environment: loads the shipped module on the first event (the cold start), then
 * answers each event over IPC. An init error is reported and the process exits, so the
 * host starts a new one for the next event.
 */
const ENVIRONMENT_SCRIPT = `
const fs = require("fs");
const util = require("util");
${RUNTIME_ERROR_RESPONSE_JS}
let handler;
// The host died without stop(): take the shipped text with us, and go.
process.on("disconnect", () => {
  fs.rmSync(__dirname, { recursive: true, force: true });
  process.exit(0);
});
// The parts of Lambda's context object the handlers use (getRemainingTimeInMillis bounds their retries).
const contextOf = (requestId, deadline) => ({
  awsRequestId: requestId,
  functionName: process.env.AWS_LAMBDA_FUNCTION_NAME,
  functionVersion: process.env.AWS_LAMBDA_FUNCTION_VERSION,
  getRemainingTimeInMillis: () => Math.max(0, deadline - Date.now()),
  callbackWaitsForEmptyEventLoop: true,
});
process.on("message", async ({ requestId, event, deadline }) => {
  if (handler === undefined) {
    process.send({ coldStart: true });
    try {
      handler = require("./__index.js").handler;
    } catch (error) {
      process.send({ requestId, ok: false, error: runtimeErrorResponse(error), initFailed: true }, () => process.exit(1));
      return;
    }
  }
  try {
    const result = await handler(event, contextOf(requestId, deadline));
    process.send({ requestId, ok: true, result: result === undefined ? null : result });
  } catch (error) {
    process.send({ requestId, ok: false, error: runtimeErrorResponse(error) });
  }
});`;

type EnvironmentMessage = { coldStart: true } | ({ requestId: string; initFailed?: boolean } & ({ ok: true; result: unknown } | { ok: false; error: RuntimeErrorResponse }));

export async function hostShippedFunction(name: string, factory: () => unknown, options: HostOptions): Promise<ShippedFunction> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), `function-${name.replace(/[^A-Za-z0-9-]/g, "-")}-`));
  fs.writeFileSync(path.join(dir, "__index.js"), await shippedText(factory));
  fs.writeFileSync(path.join(dir, "environment.js"), ENVIRONMENT_SCRIPT);
  const onLog = options.onLog ?? (() => undefined);
  const counters = { invocations: 0, coldStarts: 0, timeouts: 0 };
  let child: ChildProcess | undefined;
  let queue: Promise<unknown> = Promise.resolve();
  let stopped = false;

  const startEnvironment = (): ChildProcess => {
    const started = fork(path.join(dir, "environment.js"), [], {
      cwd: dir,
      env: { PATH: process.env.PATH ?? "", NODE_PATH: path.join(PROJECT_DIR, "node_modules"), ...options.env },
      stdio: ["ignore", "pipe", "pipe", "ipc"],
      serialization: "json",
    });
    for (const stream of [started.stdout, started.stderr]) createInterface({ input: stream! }).on("line", onLog);
    started.on("message", (message: EnvironmentMessage) => {
      if ("coldStart" in message) counters.coldStarts++;
    });
    started.once("exit", () => {
      if (child === started) child = undefined;
    });
    return started;
  };

  const kill = async (target: ChildProcess) => {
    if (child === target) child = undefined;
    target.kill("SIGKILL");
    await exited(target);
  };

  /** One event through the environment, which it starts if there is none. */
  const runOne = (event: unknown): Promise<InvocationOutcome> => {
    const requestId = randomUUID();
    const environment = child ?? (child = startEnvironment());
    counters.invocations++;
    return new Promise<InvocationOutcome>((resolve) => {
      const settle = (outcome: InvocationOutcome) => {
        clearTimeout(timer);
        environment.off("message", onMessage);
        environment.off("exit", onExit);
        resolve(outcome);
      };
      const onMessage = (message: EnvironmentMessage) => {
        if ("coldStart" in message || message.requestId !== requestId) return;
        if (message.initFailed) void kill(environment);
        settle(message.ok ? { ok: true, result: message.result, requestId } : { ok: false, error: message.error, requestId });
      };
      // A process that dies mid-invocation (process.exit in the handler, a crash) fails it as the runtime would.
      const onExit = (code: number | null, signal: string | null) =>
        settle({ ok: false, requestId, error: { errorType: "Runtime.ExitError", errorMessage: `RequestId: ${requestId} Error: Runtime exited with error: ${signal ? `signal: ${signal}` : `exit status ${code}`}`, trace: [] } });
      const timer = setTimeout(() => {
        counters.timeouts++;
        environment.off("exit", onExit);
        void kill(environment).then(() => settle({ ok: false, requestId, error: lambdaTimeoutError(requestId, options.timeoutSeconds) }));
      }, options.timeoutSeconds * 1000);
      environment.on("message", onMessage);
      environment.once("exit", onExit);
      environment.send({ requestId, event, deadline: Date.now() + options.timeoutSeconds * 1000 });
    });
  };

  return {
    name,
    get pid() {
      return child?.pid;
    },
    get invocations() {
      return counters.invocations;
    },
    get coldStarts() {
      return counters.coldStarts;
    },
    get timeouts() {
      return counters.timeouts;
    },
    invoke(event) {
      if (stopped) return Promise.reject(new Error(`function ${name} is stopped`));
      const outcome = queue.then(() => runOne(event));
      queue = outcome.catch(() => undefined);
      return outcome;
    },
    async stop() {
      stopped = true;
      if (child) await kill(child);
      fs.rmSync(dir, { recursive: true, force: true });
    },
  };
}
