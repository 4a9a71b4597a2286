/**
 * Errors that keep their name, message, stack and fields once Pulumi serialises a
 * handler. The closure serialiser turns `class X extends Error` into a plain function
 * that calls `Error.call(this, message)`: that call returns a new Error and leaves
 * `this` without message or stack, so `instanceof Error` is false and the Lambda
 * runtime reports `errorType "object"`, `errorMessage "[object Object]"`. Errors here
 * are therefore real Error objects with their fields assigned, never subclasses, and
 * callers tell them apart by name. tests/shipped-errors.test.ts fails if a shipped
 * handler's text subclasses Error again.
 */

export type NamedError<N extends string, F extends object = object> = Error & { readonly name: N } & Readonly<F>;

/** A native Error named `name` carrying `fields` as own enumerable properties (the runtime logs them). */
export function namedError<N extends string, F extends object>(name: N, message: string, fields: F): NamedError<N, F> {
  const error = Object.assign(new Error(message), fields, { name });
  // V8 formats the stack on first read, so it starts "<name>: <message>"; this frame is left out of it.
  Error.captureStackTrace?.(error, namedError);
  return error as NamedError<N, F>;
}

export function isNamedError<N extends string>(error: unknown, name: N): error is NamedError<N> {
  return error instanceof Error && error.name === name;
}
