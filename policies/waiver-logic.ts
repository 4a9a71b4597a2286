/**
 * Per-resource waivers, which CrossGuard lacks. A waiver names one policy and one
 * resource (URN or logical name), says why, and expires. A waived finding is still
 * reported, as advisory and marked "waived"; once the waiver expires the finding is
 * reported at its policy's level again and the stale waiver is itself a mandatory
 * violation (policy `waiver-registry`), so an expiry date cannot be ignored quietly.
 *
 * Waivers live in policies/waivers.json so that `pulumi preview --policy-pack policies`
 * and the offline `npm run policy` read the same file.
 *
 * The module is not called waivers.ts because Node resolves "./waivers" to waivers.json first.
 */
import * as fs from "fs";
import * as path from "path";
import { PolicyResource } from "@pulumi/policy";
import { DetailedViolation, PlatformPolicy, PlatformStackPolicy, ReportFinding, isStackPolicy, reportDetailed } from "./lib/policy";
import { isoDay, nameOfUrn, stackOfUrn } from "./lib/values";

export const WAIVERS_FILE = path.join(__dirname, "waivers.json");
export const WAIVER_REGISTRY_POLICY = "waiver-registry";

export interface Waiver {
  /** Policy id, e.g. "s3-bucket-sse-kms". */
  readonly policy: string;
  /** Full URN, or the logical name (which may repeat across stacks: narrow it with `stacks`). */
  readonly resource: string;
  readonly reason: string;
  /** Last day (UTC) the waiver holds, "YYYY-MM-DD"; it has expired from the next day on. */
  readonly expires: string;
  /** Stacks it applies to. @default every stack */
  readonly stacks?: readonly string[];
  readonly approvedBy?: string;
}

export interface WaiverProblem {
  readonly index: number;
  readonly message: string;
}

export interface WaiverBook {
  readonly waivers: readonly Waiver[];
  /** Entries that could not be used (bad shape, unknown policy, bad date), reported by the registry policy. */
  readonly problems: readonly WaiverProblem[];
  /** "YYYY-MM-DD" (UTC) the waivers are judged against. */
  readonly today: string;
}

const ISO_DAY = /^\d{4}-\d{2}-\d{2}$/;

function isValidDay(day: string): boolean {
  return ISO_DAY.test(day) && !Number.isNaN(Date.parse(`${day}T00:00:00Z`)) && isoDay(new Date(`${day}T00:00:00Z`)) === day;
}

/** Why one raw entry cannot be a waiver, or undefined when it can. */
function problemWith(entry: any, knownPolicies: readonly string[]): string | undefined {
  if (typeof entry !== "object" || entry === null) return "is not an object";
  for (const field of ["policy", "resource", "reason", "expires"]) {
    if (typeof entry[field] !== "string" || entry[field].trim() === "") return `needs a non-empty "${field}"`;
  }
  if (!knownPolicies.includes(entry.policy)) return `names unknown policy "${entry.policy}"`;
  if (!isValidDay(entry.expires)) return `has expiry "${entry.expires}", which is not an ISO date (YYYY-MM-DD)`;
  if (entry.stacks !== undefined && !(Array.isArray(entry.stacks) && entry.stacks.every((s: unknown) => typeof s === "string"))) {
    return `has "stacks" that is not a list of stack names`;
  }
  return undefined;
}

/** Parses the waivers document ({ "waivers": [...] }), keeping the usable entries and describing the rest. */
export function parseWaivers(document: unknown, knownPolicies: readonly string[], today: string): WaiverBook {
  const entries = (document as { waivers?: unknown })?.waivers;
  if (!Array.isArray(entries)) {
    return { waivers: [], problems: [{ index: -1, message: 'The waivers file must be an object with a "waivers" list' }], today };
  }
  const waivers: Waiver[] = [];
  const problems: WaiverProblem[] = [];
  entries.forEach((entry, index) => {
    const problem = problemWith(entry, knownPolicies);
    if (problem) problems.push({ index, message: `Waiver #${index + 1} (${entry?.policy ?? "?"} / ${entry?.resource ?? "?"}) ${problem}` });
    else waivers.push(entry as Waiver);
  });
  return { waivers, problems, today };
}

export function loadWaivers(knownPolicies: readonly string[], today: string, file = WAIVERS_FILE): WaiverBook {
  if (!fs.existsSync(file)) return { waivers: [], problems: [], today };
  let document: unknown;
  try {
    document = JSON.parse(fs.readFileSync(file, "utf8"));
  } catch (error) {
    return { waivers: [], problems: [{ index: -1, message: `${path.basename(file)} is not valid JSON: ${(error as Error).message}` }], today };
  }
  return parseWaivers(document, knownPolicies, today);
}

export function isExpired(waiver: Waiver, today: string): boolean {
  // ISO days compare correctly as strings.
  return waiver.expires < today;
}

export function appliesToStack(waiver: Waiver, stack: string | undefined): boolean {
  return waiver.stacks === undefined || (stack !== undefined && waiver.stacks.includes(stack));
}

/** Whether a waiver covers a finding of `policy` on the resource with `urn`. */
export function waiverMatches(waiver: Waiver, policy: string, urn: string): boolean {
  return waiver.policy === policy && appliesToStack(waiver, stackOfUrn(urn)) && (waiver.resource === urn || waiver.resource === nameOfUrn(urn));
}

export type Disposition =
  | { readonly kind: "open" }
  | { readonly kind: "waived"; readonly waiver: Waiver }
  | { readonly kind: "waiver-expired"; readonly waiver: Waiver };

/** What becomes of a finding: still open, waived, or open again because its waiver expired. */
export function dispositionOf(policy: string, urn: string | undefined, book: WaiverBook): Disposition {
  // A finding about the stack as a whole names no resource, so nothing can waive it.
  if (urn === undefined) return { kind: "open" };
  const matching = book.waivers.filter((w) => waiverMatches(w, policy, urn));
  const active = matching.find((w) => !isExpired(w, book.today));
  if (active) return { kind: "waived", waiver: active };
  const expired = [...matching].sort((a, b) => b.expires.localeCompare(a.expires))[0];
  return expired ? { kind: "waiver-expired", waiver: expired } : { kind: "open" };
}

/** The message and level a finding is reported with once waivers are applied. */
export function applyWaivers(policy: string, message: string, urn: string | undefined, book: WaiverBook): DetailedViolation {
  const disposition = dispositionOf(policy, urn, book);
  switch (disposition.kind) {
    case "open":
      return { message, urn };
    case "waived": {
      const { reason, expires, approvedBy } = disposition.waiver;
      return {
        message: `[waived until ${expires}${approvedBy ? `, approved by ${approvedBy}` : ""}: ${reason}] ${message}`,
        urn,
        enforcementLevel: "advisory",
        waiver: { reason, expires, approvedBy },
      };
    }
    case "waiver-expired":
      return {
        message: `${message} (its waiver expired on ${disposition.waiver.expires}: renew it in policies/waivers.json or fix the resource)`,
        urn,
      };
  }
}

/** Wraps a validation's reportViolation so every finding passes through applyWaivers. */
function waivingReporter(policy: string, book: WaiverBook, report: (message: string, urn?: string) => void, resourceUrn?: string) {
  return (message: string, urn?: string) => {
    const violation = applyWaivers(policy, message, urn ?? resourceUrn, book);
    // Untouched findings keep the engine's usual string form (it prefixes the policy description).
    if (violation.enforcementLevel === undefined && violation.waiver === undefined) report(violation.message, urn);
    else reportDetailed(report, violation);
  };
}

/** Keeps the engine's fast type filter: validateResourceOfType tags its function with the Pulumi type. */
function keepTypeTag<F extends Function>(wrapped: F, original: Function): F {
  const pulumiType = (original as { __pulumiType?: string }).__pulumiType;
  if (pulumiType) Object.assign(wrapped, { __pulumiType: pulumiType });
  return wrapped;
}

/** The same policy, with its findings filtered through the waivers. */
export function withWaivers<P extends PlatformPolicy>(policy: P, book: WaiverBook): P {
  if (isStackPolicy(policy)) {
    const validateStack = policy.validateStack;
    const wrapped: PlatformStackPolicy["validateStack"] = (args, report) => validateStack(args, waivingReporter(policy.name, book, report));
    return { ...policy, validateStack: keepTypeTag(wrapped, validateStack) };
  }
  const validations = policy.validateResource;
  if (validations === undefined) return policy;
  const wrap = (validate: Exclude<typeof validations, unknown[]>) =>
    keepTypeTag<typeof validate>((args, report) => validate(args, waivingReporter(policy.name, book, report, args.urn)), validate);
  return { ...policy, validateResource: Array.isArray(validations) ? validations.map(wrap) : wrap(validations) };
}

function stackOf(resources: PolicyResource[]): string | undefined {
  return resources.map((r) => stackOfUrn(r.urn)).find((s) => s !== undefined);
}

/**
 * Keeps waivers.json honest for the stack under analysis: unusable entries and expired
 * waivers are mandatory violations; a waiver scoped to this stack whose resource is not
 * in it is reported as advisory (the resource was renamed or removed).
 */
export function waiverRegistryPolicy(book: WaiverBook): PlatformStackPolicy {
  return {
    name: WAIVER_REGISTRY_POLICY,
    description: "Every waiver in policies/waivers.json is well-formed, names a policy of this pack and has not expired.",
    enforcementLevel: "mandatory",
    remediationSteps:
      "Fix or remove the entry in policies/waivers.json. For an expired waiver, either fix the resource and delete the waiver, or agree a new expiry date and record why.",
    validateStack: (args, reportViolation) => {
      const report = reportViolation as unknown as ReportFinding;
      const stack = stackOf(args.resources);
      for (const problem of book.problems) report(problem.message);
      const applicable = book.waivers.filter((w) => appliesToStack(w, stack));
      for (const waiver of applicable.filter((w) => isExpired(w, book.today))) {
        report(`Waiver for ${waiver.policy} on ${waiver.resource} expired on ${waiver.expires} (reason given: ${waiver.reason})`);
      }
      const present = (w: Waiver) => args.resources.some((r) => r.urn === w.resource || r.name === w.resource);
      for (const waiver of applicable.filter((w) => w.stacks !== undefined && !present(w))) {
        report({
          message: `Waiver for ${waiver.policy} names ${waiver.resource}, which is not in stack ${stack}; remove the waiver or correct its resource`,
          enforcementLevel: "advisory",
        });
      }
    },
  };
}
