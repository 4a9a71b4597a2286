/**
 * What the Node.js Lambda runtime does with a shipped handler, shared by the test
 * helpers (tests/support/shipped.ts) and the warm host (local/function-host.ts).
 *
 * Exports: RuntimeErrorResponse, RUNTIME_ERROR_RESPONSE_JS, shippedText(factory).
 *
 * A failed invocation is reported the way the runtime reports it to the Runtime API, and
 * so to callers, destinations and dead-letter queues: errorType, errorMessage and trace.
 * The rule mirrors toRapidResponse and _isError in
 * aws/aws-lambda-nodejs-runtime-interface-client, src/Errors.js (commit da5777a8963928cac4f6f93d88d6928262f6bd2a):
 * a native Error, or any object whose name, message and stack are non-empty strings,
 * reports its name, message and stack lines (DEL characters escaped as %7F); anything
 * else reports `typeof` and its string form with an empty trace. That second branch is
 * how a serialised `class X extends Error` used to surface: "object", "[object Object]".
 */
import * as pulumi from "@pulumi/pulumi";

/** What the runtime posts to /invocation/{id}/error for a rejected handler. */
export interface RuntimeErrorResponse {
  readonly errorType: string;
  readonly errorMessage: string;
  readonly trace: string[];
}

/**
 * The rule as plain JavaScript defining `runtimeErrorResponse(error)`, for the child
 * processes that run shipped text (they run no TypeScript). It needs `util` in scope.
 */
export const RUNTIME_ERROR_RESPONSE_JS = `
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
}`;

/** The exact text aws.lambda.CallbackFunction ships for a factory: requiring it runs the factory (the cold start). */
export async function shippedText(factory: () => unknown): Promise<string> {
  return (await pulumi.runtime.serializeFunction(factory as (...args: unknown[]) => unknown, { isFactoryFunction: true })).text;
}
