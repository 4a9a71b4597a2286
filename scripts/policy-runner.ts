/**
 * Runs the CrossGuard pack over a stack evaluated by the mock engine, the way the
 * Pulumi engine's analyzer host (@pulumi/policy server.js) does:
 *  - resource policies see each resource's inputs, wrapped in unknownCheckingProxy, with
 *    urn, type, name, opts, provider (type, name, urn and inputs), stackTags, getConfig,
 *    notApplicable and isType/asType; a single validateResourceOfType function is skipped
 *    for other types, as the engine's fast path does;
 *  - stack policies run once over every resource's outputs (the mock state plus the id the
 *    mock assigned), with parents, dependencies and property dependencies (which the mock
 *    engine records per registration, as the engine does) resolved to resources.
 * Findings pass through the waivers exactly as in the pack (catalog.packPolicies).
 */
import type { PolicyProviderResource, PolicyResource, PolicyResourceOptions, ResourceValidationArgs, StackValidationArgs } from "@pulumi/policy";
import { PACK_NAME, currentWaivers, packPolicies } from "../policies/catalog";
import { DeclaredLevel, DetailedViolation, PlatformPolicy, isStackPolicy } from "../policies/lib/policy";
import { isUnknownValueError, unknownCheckingProxy } from "../policies/lib/values";
import { WAIVERS_FILE, WAIVER_REGISTRY_POLICY, WaiverBook } from "../policies/waiver-logic";
import * as path from "path";
import { POLICY_CONFIG_KEYS } from "../policies/severity";
import { SourceLocation, switchedOffKeyLocation, stackFileLocation } from "./declaration-sites";
import { PROJECT_DIR, PlannedResource, StackEvaluation } from "./engine";
import { PolicyPackConfig, ResolvedPolicyConfig, resolvePolicyConfig } from "./policy-config";

/** One resource as a policy sees it; `props` are inputs for resource policies and outputs for stack policies. */
export interface PolicySubject {
  readonly urn: string;
  readonly type: string;
  readonly name: string;
  readonly props: Record<string, any>;
  readonly protect?: boolean;
  readonly ignoreChanges?: readonly string[];
  readonly parent?: string;
  readonly provider?: PolicyProviderResource;
  readonly dependencies?: readonly string[];
  readonly propertyDependencies?: Readonly<Record<string, readonly string[]>>;
}

/** What the engine supplies besides the resource: the policy's config and the stack's tags. */
export interface PolicyContext {
  readonly settings: Record<string, unknown>;
  readonly stackTags: ReadonlyMap<string, string>;
}

export type FindingStatus = "mandatory" | "advisory" | "waived";

export interface PolicyFinding {
  readonly policy: string;
  readonly status: FindingStatus;
  readonly message: string;
  readonly urn?: string;
  readonly resourceName?: string;
  readonly resourceType?: string;
  readonly remediation: string;
  readonly waiver?: DetailedViolation["waiver"];
  /**
   * Where a reviewer fixes it: the resource's declaration; for a finding about the stack as a
   * whole, its stack file (at the config key the message names, if any); for the waiver
   * registry, the waivers file.
   */
  readonly location: SourceLocation;
}

export interface PolicyInfo {
  readonly name: string;
  readonly description: string;
  readonly remediation: string;
  readonly declaredLevel: DeclaredLevel;
  /** The level this stack's config runs it at. */
  readonly level: "mandatory" | "advisory" | "disabled";
  readonly kind: "resource" | "stack";
}

export interface PolicyReport {
  readonly stack: string;
  readonly project: string;
  readonly pack: string;
  readonly policies: PolicyInfo[];
  readonly findings: PolicyFinding[];
  readonly counts: Record<FindingStatus, number>;
  readonly passed: boolean;
}

class NotApplicable extends Error {}
const notApplicable = (reason?: string): never => {
  throw new NotApplicable(reason ?? "not applicable");
};

type ResourceClass = { __pulumiType?: string; isInstance?: (o: unknown) => boolean };

function isTypeOf(type: string, resourceClass: ResourceClass): boolean {
  if (typeof resourceClass.__pulumiType === "string") return resourceClass.__pulumiType === type;
  return resourceClass.isInstance?.({ __pulumiType: type }) === true;
}

function optionsOf(subject: PolicySubject): PolicyResourceOptions {
  return {
    protect: subject.protect ?? false,
    ignoreChanges: [...(subject.ignoreChanges ?? [])],
    aliases: [],
    customTimeouts: { createSeconds: 0, updateSeconds: 0, deleteSeconds: 0 },
    additionalSecretOutputs: [],
    ...(subject.parent ? { parent: subject.parent } : {}),
  };
}

function typeChecks(type: string, props: Record<string, any>) {
  return {
    isType: (resourceClass: unknown) => isTypeOf(type, resourceClass as ResourceClass),
    asType: (resourceClass: unknown) => (isTypeOf(type, resourceClass as ResourceClass) ? props : undefined),
  };
}

function proxiedProvider(provider: PolicyProviderResource | undefined) {
  return provider ? { provider: { ...provider, props: unknownCheckingProxy({ ...provider.props }) } } : {};
}

/** What resource and stack policies both see of a resource: identity, proxied props, options, provider, isType/asType. */
function resourceView(subject: PolicySubject) {
  const props = unknownCheckingProxy({ ...subject.props });
  return {
    type: subject.type,
    props,
    urn: subject.urn,
    name: subject.name,
    opts: optionsOf(subject),
    ...proxiedProvider(subject.provider),
    ...typeChecks(subject.type, props),
  };
}

/** The args the engine passes to validateResource. */
export function resourceValidationArgs(subject: PolicySubject, context: PolicyContext): ResourceValidationArgs {
  return {
    ...resourceView(subject),
    stackTags: context.stackTags,
    getConfig: <T extends object>() => ({ ...context.settings }) as T,
    notApplicable,
  } as ResourceValidationArgs;
}

/** The args the engine passes to validateStack: every resource, linked to its parent and dependencies. */
export function stackValidationArgs(subjects: readonly PolicySubject[], context: PolicyContext): StackValidationArgs {
  const resources = subjects.map((subject) => ({ ...resourceView(subject), dependencies: [], propertyDependencies: {} }) as unknown as PolicyResource);
  const byUrn = new Map(resources.map((r) => [r.urn, r]));
  const resolve = (urns: readonly string[] = []) => urns.map((urn) => byUrn.get(urn)).filter((r): r is PolicyResource => r !== undefined);
  subjects.forEach((subject, i) => {
    const resource = resources[i];
    const parent = subject.parent ? byUrn.get(subject.parent) : undefined;
    if (parent) resource.parent = parent;
    resource.dependencies = resolve(subject.dependencies);
    resource.propertyDependencies = Object.fromEntries(Object.entries(subject.propertyDependencies ?? {}).map(([key, urns]) => [key, resolve(urns)]));
  });
  return { resources, stackTags: context.stackTags, getConfig: <T extends object>() => ({ ...context.settings }) as T, notApplicable };
}

/** A finding as reported, before it is attributed to a resource and a severity. */
export type RawFinding = DetailedViolation;

type Collect = (finding: RawFinding) => void;

/** reportViolation as the engine implements it; for a resource policy the resource's URN wins over any URN passed. */
function collector(collect: Collect, resourceUrn?: string) {
  return (violation: string | DetailedViolation, urn?: string) =>
    collect(typeof violation === "string" ? { message: violation, urn: resourceUrn ?? urn } : { ...violation, urn: resourceUrn ?? violation.urn ?? urn });
}

/** Runs `validate`, treating notApplicable as no finding and unknown values as the engine's "can't run during preview" advisory. */
async function guarded(policy: PlatformPolicy, subjectName: string, collect: Collect, validate: () => unknown, urn?: string): Promise<void> {
  try {
    await validate();
  } catch (error) {
    if (error instanceof NotApplicable) return;
    if (isUnknownValueError(error)) {
      collect({ message: `can't run policy '${policy.name}' during preview: ${(error as Error).message}`, urn, enforcementLevel: "advisory" });
      return;
    }
    throw new Error(`Error validating ${subjectName} with policy '${policy.name}': ${(error as Error).message}`, { cause: error });
  }
}

export async function runResourcePolicy(policy: PlatformPolicy, subject: PolicySubject, context: PolicyContext, collect: Collect): Promise<void> {
  if (isStackPolicy(policy) || policy.validateResource === undefined) return;
  const validations = Array.isArray(policy.validateResource) ? policy.validateResource : [policy.validateResource];
  const onlyType = validations.length === 1 ? (validations[0] as { __pulumiType?: string }).__pulumiType : undefined;
  if (onlyType !== undefined && onlyType !== subject.type) return;
  const report = collector(collect, subject.urn);
  for (const validate of validations) {
    // The engine builds fresh args (and proxies) for every validation function.
    await guarded(policy, subject.urn, collect, () => validate(resourceValidationArgs(subject, context), report), subject.urn);
  }
}

export async function runStackPolicy(policy: PlatformPolicy, subjects: readonly PolicySubject[], context: PolicyContext, collect: Collect): Promise<void> {
  if (!isStackPolicy(policy)) return;
  const onlyType = (policy.validateStack as { __pulumiType?: string }).__pulumiType;
  if (onlyType !== undefined && !subjects.some((s) => s.type === onlyType)) return;
  await guarded(policy, "the stack", collect, () => policy.validateStack(stackValidationArgs(subjects, context), collector(collect)));
}

/** Provider references are "<provider urn>::<provider id>". */
function providerUrnOf(reference: string): string {
  return reference.slice(0, reference.lastIndexOf("::"));
}

function providerOf(resource: PlannedResource, byUrn: Map<string, PlannedResource>): PolicyProviderResource | undefined {
  const provider = resource.provider ? byUrn.get(providerUrnOf(resource.provider)) : undefined;
  return provider && { type: provider.type, name: provider.name, urn: provider.urn, props: provider.inputs };
}

/** Subjects for resource policies (inputs) or stack policies (outputs). */
export function subjectsOf(evaluation: StackEvaluation, view: "inputs" | "outputs"): PolicySubject[] {
  const byUrn = new Map(evaluation.resources.map((r) => [r.urn, r]));
  return evaluation.resources.map((resource) => ({
    urn: resource.urn,
    type: resource.type,
    name: resource.name,
    props: view === "inputs" ? resource.inputs : { id: resource.id, ...resource.state },
    protect: resource.protect,
    ignoreChanges: resource.ignoreChanges,
    parent: resource.parent,
    provider: providerOf(resource, byUrn),
    dependencies: resource.dependencies,
    propertyDependencies: resource.propertyDependencies,
  }));
}

export function stackTagsOf(evaluation: StackEvaluation): ReadonlyMap<string, string> {
  return new Map([
    ["pulumi:project", evaluation.project],
    ["pulumi:runtime", "nodejs"],
  ]);
}

export interface RunOptions {
  /** The stack's policy config (as in policies/config.<stack>.json). @default {} */
  readonly config?: PolicyPackConfig;
  /** Where the config came from, for error messages. */
  readonly configSource?: string;
  /** @default policies/waivers.json as of today */
  readonly waivers?: WaiverBook;
}

function statusOf(level: "mandatory" | "advisory", finding: RawFinding): FindingStatus {
  if (finding.waiver) return "waived";
  return finding.enforcementLevel ?? level;
}

function describe(policy: PlatformPolicy, resolved: ResolvedPolicyConfig): PolicyInfo {
  const level = resolved.levelOf(policy);
  return {
    name: policy.name,
    description: policy.description,
    remediation: policy.remediationSteps,
    declaredLevel: policy.enforcementLevel,
    level: level === "remediate" ? "mandatory" : level,
    kind: isStackPolicy(policy) ? "stack" : "resource",
  };
}

const STATUS_ORDER: FindingStatus[] = ["mandatory", "advisory", "waived"];

function locationOf(policy: string, raw: RawFinding, resource: PlannedResource | undefined, stack: string): SourceLocation {
  const configKey = switchedOffKeyLocation(PROJECT_DIR, stack, POLICY_CONFIG_KEYS[policy] ?? []);
  if (configKey) return configKey;
  if (resource?.source) return resource.source;
  if (policy === WAIVER_REGISTRY_POLICY && raw.urn === undefined) return { file: path.relative(PROJECT_DIR, WAIVERS_FILE).split(path.sep).join("/"), line: 1, column: 1 };
  return stackFileLocation(PROJECT_DIR, stack, raw.message);
}

/** Runs every policy of the pack (with waivers) over the evaluated stack. */
export async function runPolicies(evaluation: StackEvaluation, options: RunOptions = {}): Promise<PolicyReport> {
  const policies = packPolicies(options.waivers ?? currentWaivers());
  const resolved = resolvePolicyConfig(policies, options.config ?? {}, options.configSource);
  const stackTags = stackTagsOf(evaluation);
  const inputs = subjectsOf(evaluation, "inputs");
  const outputs = subjectsOf(evaluation, "outputs");
  const resourceByUrn = new Map(evaluation.resources.map((r) => [r.urn, r]));
  const findings: PolicyFinding[] = [];

  for (const policy of policies) {
    const level = resolved.levelOf(policy);
    if (level === "disabled") continue;
    const context = { settings: resolved.settingsOf(policy), stackTags };
    const collect: Collect = (raw) => {
      const resource = raw.urn ? resourceByUrn.get(raw.urn) : undefined;
      findings.push({
        policy: policy.name,
        status: statusOf(level === "remediate" ? "mandatory" : level, raw),
        message: raw.message,
        urn: raw.urn,
        resourceName: resource?.name,
        resourceType: resource?.type,
        remediation: policy.remediationSteps,
        ...(raw.waiver ? { waiver: raw.waiver } : {}),
        location: locationOf(policy.name, raw, resource, evaluation.stack),
      });
    };
    if (isStackPolicy(policy)) await runStackPolicy(policy, outputs, context, collect);
    else for (const subject of inputs) await runResourcePolicy(policy, subject, context, collect);
  }

  const sorted = STATUS_ORDER.flatMap((status) => findings.filter((f) => f.status === status));
  const counts = Object.fromEntries(STATUS_ORDER.map((status) => [status, findings.filter((f) => f.status === status).length])) as Record<FindingStatus, number>;
  return {
    stack: evaluation.stack,
    project: evaluation.project,
    pack: PACK_NAME,
    policies: policies.map((p) => describe(p, resolved)),
    findings: sorted,
    counts,
    passed: counts.mandatory === 0,
  };
}
