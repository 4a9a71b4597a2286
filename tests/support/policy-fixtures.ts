/**
 * Hand-built policy inputs: a resource described by type and props becomes the args the
 * engine would pass (through the same builders the offline runner uses), so each policy
 * can be tested without a stack evaluation or a PolicyPack (whose constructor starts a
 * gRPC server).
 */
import type { PolicyProviderResource } from "@pulumi/policy";
import { PlatformPolicy } from "../../policies/lib/policy";
import { PolicySubject, RawFinding, runResourcePolicy, runStackPolicy } from "../../scripts/policy-runner";

export const TEST_STACK = "test";
export const KEY_ARN = "arn:aws:kms:eu-west-1:123456789012:key/data";
/** @pulumi/policy's sentinel for a string the engine only learns after the update (preview). */
export const UNKNOWN_STRING = "04da6b54-80e4-46f7-96ec-b56ff0331ba9";

export function urnOf(type: string, name: string, stack = TEST_STACK): string {
  return `urn:pulumi:${stack}::data-platform::${type}::${name}`;
}

export function awsProvider(region = "eu-west-1", tags: Record<string, string> | null = { Owner: "team", CostCentre: "cc-1", Stage: "test" }): PolicyProviderResource {
  const name = `provider-${region}`;
  return {
    type: "pulumi:providers:aws",
    name,
    urn: urnOf("pulumi:providers:aws", name),
    // Providers get object config as JSON strings, as the engine records them.
    props: { region, ...(tags ? { defaultTags: JSON.stringify({ tags }) } : {}) },
  };
}

export interface SubjectOptions {
  name?: string;
  protect?: boolean;
  ignoreChanges?: string[];
  parent?: string;
  provider?: PolicyProviderResource | null;
  dependencies?: string[];
  propertyDependencies?: Record<string, string[]>;
  stack?: string;
}

/** A resource as a policy sees it; the name defaults to the last part of the type. */
export function subject(type: string, props: Record<string, unknown>, options: SubjectOptions = {}): PolicySubject {
  const name = options.name ?? type.split(":").pop()!.toLowerCase();
  return {
    urn: urnOf(type, name, options.stack),
    type,
    name,
    props,
    protect: options.protect ?? false,
    ignoreChanges: options.ignoreChanges,
    parent: options.parent,
    provider: options.provider === null ? undefined : (options.provider ?? awsProvider()),
    dependencies: options.dependencies ?? [],
    propertyDependencies: options.propertyDependencies,
  };
}

const context = (config: Record<string, unknown>) => ({ settings: config, stackTags: new Map([["pulumi:project", "data-platform"]]) });

/** Findings of a resource policy on one resource (none when it does not apply). */
export async function resourceFindings(policy: PlatformPolicy, resource: PolicySubject, config: Record<string, unknown> = {}): Promise<RawFinding[]> {
  const findings: RawFinding[] = [];
  await runResourcePolicy(policy, resource, context(config), (f) => findings.push(f));
  return findings;
}

/** Findings of a stack policy over a set of resources (their props stand for outputs). */
export async function stackFindings(policy: PlatformPolicy, resources: PolicySubject[], config: Record<string, unknown> = {}): Promise<RawFinding[]> {
  const findings: RawFinding[] = [];
  await runStackPolicy(policy, resources, context(config), (f) => findings.push(f));
  return findings;
}

/** Findings of either kind of policy: resource policies run on each resource in turn. */
export async function findingsOf(policy: PlatformPolicy, resources: PolicySubject[], config: Record<string, unknown> = {}): Promise<RawFinding[]> {
  if ("validateStack" in policy) return stackFindings(policy, resources, config);
  const perResource = await Promise.all(resources.map((r) => resourceFindings(policy, r, config)));
  return perResource.flat();
}

/** A set of resources one policy is run over, with its stack config. */
export interface PolicyCase {
  label: string;
  resources: PolicySubject[];
  config?: Record<string, unknown>;
}
/** A case the policy must flag, with what its messages must say. */
export interface ViolatingPolicyCase extends PolicyCase {
  expect: RegExp;
}
export interface PolicyCases {
  compliant: PolicyCase[];
  violating: ViolatingPolicyCase[];
}

/**
 * One describe block per policy: every compliant case has no finding; every violating case
 * has findings that say what `expect` matches and name only the resources of the case.
 */
export function describePolicyCases(policies: readonly PlatformPolicy[], cases: Readonly<Record<string, PolicyCases>>): void {
  describe.each(policies.map((policy) => [policy.name, policy] as const))("%s", (name, policy) => {
    const own = cases[name] ?? { compliant: [], violating: [] };

    it.each(own.compliant.map((c) => [c.label, c] as const))("passes: %s", async (_label, c) => {
      expect((await findingsOf(policy, c.resources, c.config)).map((f) => f.message)).toEqual([]);
    });

    it.each(own.violating.map((c) => [c.label, c] as const))("flags: %s", async (_label, c) => {
      const findings = await findingsOf(policy, c.resources, c.config);
      expect(findings.length).toBeGreaterThan(0);
      expect(findings.map((f) => f.message).join("\n")).toMatch(c.expect);
      // Findings name the resource they are about.
      expect(findings.every((f) => c.resources.some((res) => res.urn === f.urn))).toBe(true);
    });
  });
}
