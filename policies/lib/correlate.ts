/**
 * Stack policies correlate resources that AWS splits apart (a bucket and its encryption,
 * versioning, policy and public access block; a cluster and its parameter group; a queue
 * and its dead-letter queue). Two sources of truth, used together:
 *  - the engine's property dependencies: which resources a property was computed from.
 *    They are known even during preview, when ids and ARNs of new resources are not (the
 *    offline runner's mock engine records them too);
 *  - property values (ids, names, ARNs), which are all known after an update and offline,
 *    and cover references no dependency records (a name or ARN written into the program as a literal).
 */
import { PolicyResource } from "@pulumi/policy";
import { UNKNOWN, peek } from "./values";

export interface ReferenceMatch {
  /** Values in `from.props[property]` that name another resource (e.g. an ARN inside JSON). @default the property itself */
  readonly referencesIn?: (value: any) => unknown[];
  /** Values that identify a candidate. @default id, name, bucket, arn and url outputs */
  readonly identifiersOf?: (candidate: PolicyResource) => unknown[];
}

function defaultIdentifiers(candidate: PolicyResource): unknown[] {
  return ["id", "name", "bucket", "arn", "url"].map((key) => peek(() => candidate.props[key]));
}

/** The candidates that `from.props[property]` refers to. */
export function referencedResources(from: PolicyResource, property: string, candidates: PolicyResource[], match: ReferenceMatch = {}): PolicyResource[] {
  const viaDependencies = new Set((from.propertyDependencies?.[property] ?? []).map((r) => r.urn));
  const value = peek(() => from.props[property]);
  // A reference nested inside the value (e.g. destinationConfig.onFailure.destinationArn) may itself be
  // unknown during preview; reading it must not abort the policy, since property dependencies still match.
  const nested = value === UNKNOWN || value === undefined ? [] : peek(() => (match.referencesIn ?? ((v) => [v]))(value));
  const references = nested === UNKNOWN ? [] : nested;
  const wanted = new Set(references.filter((ref) => ref !== UNKNOWN && ref !== undefined && ref !== null && ref !== ""));
  const identifiersOf = match.identifiersOf ?? defaultIdentifiers;
  return candidates.filter((candidate) => viaDependencies.has(candidate.urn) || identifiersOf(candidate).some((id) => wanted.has(id)));
}

/** For each target, the resources (of `kinds`) whose `property` refers to it, e.g. each bucket's versioning resources. */
export function attachedTo(targets: PolicyResource[], attachments: PolicyResource[], property: string, match: ReferenceMatch = {}): Map<string, PolicyResource[]> {
  const byTarget = new Map<string, PolicyResource[]>(targets.map((t) => [t.urn, []]));
  for (const attachment of attachments) {
    for (const target of referencedResources(attachment, property, targets, match)) {
      byTarget.get(target.urn)?.push(attachment);
    }
  }
  return byTarget;
}

export function ofTypes(resources: PolicyResource[], types: readonly string[]): PolicyResource[] {
  return resources.filter((r) => types.includes(r.type));
}
