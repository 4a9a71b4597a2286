/**
 * Reading resource properties the way both callers present them: the engine hands
 * policies plain JSON wrapped in @pulumi/policy's unknown-checking proxy (reading a value
 * that is unknown during preview throws), and provider config arrives as JSON strings.
 */
import * as policySdk from "@pulumi/policy";

interface ProxyExports {
  unknownCheckingProxy<T extends object>(value: T): T;
  UnknownValueError: new (...args: never[]) => Error;
}
// 1.21 exports these at run time, but its published proxy.d.ts strips them as @internal.
const proxyExports = policySdk as unknown as ProxyExports;

/** Wraps props exactly as the engine does before calling a policy. */
export function unknownCheckingProxy<T extends object>(value: T): T {
  return proxyExports.unknownCheckingProxy(value);
}

export function isUnknownValueError(error: unknown): boolean {
  return error instanceof proxyExports.UnknownValueError;
}

/** Stands for a value the engine will only know after the update (preview only). */
export const UNKNOWN: unique symbol = Symbol("unknown during preview");
export type Peeked<T> = T | typeof UNKNOWN;

/** Reads through the proxy, turning "unknown during preview" into UNKNOWN instead of an exception. */
export function peek<T>(read: () => T): Peeked<T> {
  try {
    return read();
  } catch (error) {
    if (isUnknownValueError(error)) return UNKNOWN;
    throw error;
  }
}

/** True when a value is given, or will be (an output unknown during preview still counts as given). */
export function isSet(value: unknown): boolean {
  return value === UNKNOWN || (value !== undefined && value !== null && value !== "");
}

/** Providers receive object config as JSON strings; resources get objects. Accept both. */
export function jsonValue<T>(value: unknown): T | undefined {
  if (value === undefined || value === null || value === "") return undefined;
  if (typeof value !== "string") return value as T;
  try {
    return JSON.parse(value) as T;
  } catch {
    return undefined;
  }
}

export function asArray<T>(value: T | T[] | undefined | null): T[] {
  if (value === undefined || value === null) return [];
  return Array.isArray(value) ? [...value] : [value];
}

/** A boolean that the schema types as string in places (e.g. Redshift `encrypted`). */
export function isFalse(value: unknown): boolean {
  return value === false || value === "false";
}

export function isTrue(value: unknown): boolean {
  return value === true || value === "true";
}

/** "YYYY-MM-DD" of a moment, in UTC. */
export function isoDay(date: Date): string {
  return date.toISOString().slice(0, 10);
}

/** "urn:pulumi:<stack>::<project>::<type>::<name>" -> stack. */
export function stackOfUrn(urn: string): string | undefined {
  return /^urn:pulumi:([^:]+)::/.exec(urn)?.[1];
}

/** The logical name: everything after the last "::". */
export function nameOfUrn(urn: string): string {
  return urn.slice(urn.lastIndexOf("::") + 2);
}

/** An IAM-style policy document (IAM, bucket, queue policies), as string or object. */
export interface PolicyStatement {
  Sid?: string;
  Effect?: string;
  Principal?: unknown;
  Action?: string | string[];
  NotAction?: string | string[];
  Resource?: string | string[];
  Condition?: Record<string, Record<string, unknown>>;
}

export function statementsOf(document: unknown): PolicyStatement[] {
  const parsed = jsonValue<{ Statement?: PolicyStatement | PolicyStatement[] }>(document);
  return asArray(parsed?.Statement);
}

/** An AWS managed key's alias (alias/aws/<service>): not the stage's key, and not shareable across accounts. */
export const AWS_MANAGED_KEY = /alias\/aws\//;

/**
 * What is wrong with a KMS key reference that should name a customer key ("" when nothing):
 * missing, or an AWS managed alias. A key unknown during preview counts as given.
 */
export function customerKeyGap(key: Peeked<unknown>, field: string): string {
  if (!isSet(key)) return `no ${field}`;
  if (typeof key === "string" && AWS_MANAGED_KEY.test(key)) return `${field} is the AWS managed key ${key}, not a customer key`;
  return "";
}
