/**
 * The shape every policy of this pack has. CrossGuard's own `Policy` leaves the
 * enforcement level and remediation optional; here both are required so that the
 * offline report, SARIF rules and `pulumi preview` all say what to do about a finding.
 */
import { ResourceValidationPolicy, StackValidationPolicy } from "@pulumi/policy";

/** Levels a policy of this pack is declared with; stack config may still raise, lower or disable them. */
export type DeclaredLevel = "mandatory" | "advisory";

interface PolicyMetadata {
  /** Stable id: waivers, stack config and SARIF rule ids all refer to it. */
  readonly name: string;
  readonly description: string;
  readonly enforcementLevel: DeclaredLevel;
  /** What to change in the program (or in waivers.json) to clear a finding. */
  readonly remediationSteps: string;
}

export type PlatformResourcePolicy = ResourceValidationPolicy & PolicyMetadata;
export type PlatformStackPolicy = StackValidationPolicy & PolicyMetadata;
export type PlatformPolicy = PlatformResourcePolicy | PlatformStackPolicy;

export function isStackPolicy(policy: PlatformPolicy): policy is PlatformStackPolicy {
  return typeof (policy as PlatformStackPolicy).validateStack === "function";
}

/**
 * A finding reported with CrossGuard's object form of reportViolation (the engine reads
 * `message`, `urn` and `enforcementLevel` from it). The pack uses it to lower one finding's
 * level, e.g. for a waived violation; `waiver` is ignored by the engine and read by the
 * offline runner.
 */
export interface DetailedViolation {
  readonly message: string;
  readonly urn?: string;
  readonly enforcementLevel?: DeclaredLevel;
  readonly waiver?: { readonly reason: string; readonly expires: string; readonly approvedBy?: string };
}

/** reportViolation as the engine implements it: a message, or a DetailedViolation. */
export type ReportFinding = (violation: string | DetailedViolation, urn?: string) => void;

/** CrossGuard's typed ReportViolation only admits strings; the engine (1.21 server.js) also takes objects. */
export function reportDetailed(report: (message: string, urn?: string) => void, violation: DetailedViolation): void {
  (report as unknown as ReportFinding)(violation);
}
