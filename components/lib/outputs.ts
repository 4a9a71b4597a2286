import * as pulumi from "@pulumi/pulumi";

type DefinedDeepInput<T> = [T] extends [readonly (infer E)[]]
  ? pulumi.Input<readonly DeepInput<E>[]>
  : [T] extends [object]
    ? pulumi.Input<{ [K in keyof T]: DeepInput<T[K]> }>
    : pulumi.Input<T>;

/** A plain value shape whose every member may still be an input (an output or a promise). */
export type DeepInput<T> = undefined extends T ? DefinedDeepInput<NonNullable<T>> | undefined : DefinedDeepInput<T>;

/**
 * One output of a whole object of inputs, typed as the plain object it resolves to.
 * (pulumi.all widens an object literal to a record; this keeps the shape checked.)
 */
export function resolvedObject<T>(value: DeepInput<T>): pulumi.Output<T> {
  return pulumi.output(value as pulumi.Input<unknown>) as pulumi.Output<T>;
}
