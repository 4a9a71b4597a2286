/**
 * What a change changes: the difference between two plan documents (the JSON that
 * `npm run plan` writes, see graphDocument in scripts/plan.ts), as pure functions.
 * Resources are matched by URN. Secrets are masked on both sides before anything is
 * compared or printed: old plan files hold Pulumi's secret envelope in clear, newer
 * ones the string "[secret]", and both read as "[secret]" here.
 */
import { SECRET_MASK, maskSecrets, redactText, secretPlaintexts } from "./secrets";

/** The part of a planned resource the diff reads (a plan JSON's `resources[]`). */
export interface PlanResource {
  readonly urn: string;
  readonly type: string;
  readonly name: string;
  readonly protect?: boolean;
  readonly ignoreChanges?: string[];
  readonly region?: string;
  /** URN of the parent (a component, or the stack). */
  readonly parent?: string;
  readonly inputs: Record<string, unknown>;
}

/** What a plan JSON (out/plan-<stack>.json, graphDocument) holds that the diff and the cost estimate read. */
export interface PlanDocument {
  readonly stack: string;
  readonly resources: PlanResource[];
}

interface ReplacementFacts {
  /** Top-level inputs whose change makes the provider delete and re-create the resource. */
  readonly fields: readonly string[];
  /** Where the fact comes from: the Terraform AWS provider's schema, which @pulumi/aws bridges. */
  readonly source: string;
}

const TF = "github:hashicorp/terraform-provider-aws";

/**
 * Inputs that force a replacement, for the stateful resources this program owns.
 * @pulumi/aws is bridged from the Terraform AWS provider, and a `ForceNew: true`
 * attribute there is a replacement in `pulumi preview`. Each list is read from the
 * provider's schema at the commit named, and holds only what is marked ForceNew there
 * (attributes under `ForceNewIf` conditions are left out: they are not knowable offline).
 * Types not listed here: the diff shows their changes but cannot say whether they replace.
 */
export const REPLACEMENT_FIELDS: Readonly<Record<string, ReplacementFacts>> = {
  // Note: engineVersion is not ForceNew (in-place upgrade); databaseName is, which is why
  // the Aurora members ignore it (shared/DESIGN.md, DR facts).
  "aws:rds/cluster:Cluster": {
    fields: ["availabilityZones", "clusterIdentifier", "clusterIdentifierPrefix", "clusterScalabilityType", "databaseName", "dbSubnetGroupName", "dbSystemId", "engine", "engineMode", "kmsKeyId", "masterUsername", "restoreToPointInTime", "snapshotIdentifier", "sourceRegion", "storageEncrypted"],
    source: `${TF} internal/service/rds/cluster.go @0168cf6844f393420326f1426bf18ed357b56a77`,
  },
  "aws:dynamodb/table:Table": {
    fields: ["hashKey", "localSecondaryIndexes", "name", "rangeKey", "restoreDateTime", "restoreSourceName", "restoreToLatestTime"],
    source: `${TF} internal/service/dynamodb/table.go @01335dd3cd3dff10ace08b5250b7302d4dbb0e04`,
  },
  "aws:s3/bucket:Bucket": {
    fields: ["bucket", "bucketPrefix"],
    source: `${TF} internal/service/s3/bucket.go @0070bcd12c952f14c5434a6f351ef7b6fa791226`,
  },
  "aws:kinesis/stream:Stream": {
    fields: ["name"],
    source: `${TF} internal/service/kinesis/stream.go @03aadd4385481a5bb0e26d7eec2a2d75ea30c9a0`,
  },
  // Neither databaseName nor encrypted is ForceNew on the Redshift cluster.
  "aws:redshift/cluster:Cluster": {
    fields: ["clusterIdentifier", "clusterSubnetGroupName", "masterUsername", "snapshotArn", "snapshotClusterIdentifier", "snapshotIdentifier"],
    source: `${TF} internal/service/redshift/cluster.go @00f12670ac63a71ac6be68742756b2020c4e3821`,
  },
  "aws:elasticache/replicationGroup:ReplicationGroup": {
    fields: ["atRestEncryptionEnabled", "dataTieringEnabled", "globalReplicationGroupId", "kmsKeyId", "networkType", "port", "replicationGroupId", "securityGroupNames", "snapshotArns", "snapshotName", "subnetGroupName"],
    source: `${TF} internal/service/elasticache/replication_group.go @001b6364c1a3b3045e152f655440a6d47eb44a70`,
  },
  "aws:kms/key:Key": {
    fields: ["customKeyStoreId", "customerMasterKeySpec", "keyUsage", "multiRegion", "xksKeyId"],
    source: `${TF} internal/service/kms/key.go @00a35305dc1b297a6fcdecdfbba33f1e63c3da39`,
  },
};

/** One segment of a property path: an object key or an array index. */
export type PathSegment = string | number;

export interface InputChange {
  readonly path: PathSegment[];
  /** Masked values; undefined where the input is absent on that side. */
  readonly old: unknown;
  readonly new: unknown;
  readonly forcesReplacement: boolean;
}

export interface ResourceRef {
  readonly urn: string;
  readonly type: string;
  readonly name: string;
  readonly protect: boolean;
}

export interface ChangedResource extends ResourceRef {
  readonly changes: InputChange[];
  /** Paths that differ but that the resource's ignoreChanges leaves alone. */
  readonly ignored: PathSegment[][];
  /** Why it would be replaced (empty: an update in place, or not knowable). */
  readonly replacedBecause: string[];
}

/** A resource whose URN changed without an alias: Pulumi deletes the old one and creates the new. */
export interface MovedResource {
  readonly from: ResourceRef;
  readonly to: ResourceRef;
}

export interface Blocker extends ResourceRef {
  readonly reason: string;
}

export interface PlanDiff {
  readonly stack: string;
  readonly added: ResourceRef[];
  readonly removed: ResourceRef[];
  readonly moved: MovedResource[];
  readonly changed: ChangedResource[];
  /** Protected resources the change would replace or delete: what --fail-on-replace refuses. */
  readonly blockers: Blocker[];
}

const refOf = (r: Pick<PlanResource, "urn" | "type" | "name" | "protect">): ResourceRef => ({ urn: r.urn, type: r.type, name: r.name, protect: r.protect === true });

const isPlainObject = (value: unknown): value is Record<string, unknown> => typeof value === "object" && value !== null && !Array.isArray(value);

/** Inputs that providers receive as JSON text (policies, container definitions) are compared as the documents they hold. */
function parsedJson(value: unknown): unknown {
  if (typeof value !== "string" || !/^\s*[[{]/.test(value)) return value;
  try {
    return JSON.parse(value);
  } catch {
    return value;
  }
}

/** Every leaf where `before` and `after` differ, as a path and the two values. */
export function valueDifferences(before: unknown, after: unknown, path: PathSegment[] = []): { path: PathSegment[]; old: unknown; new: unknown }[] {
  const [a, b] = [parsedJson(before), parsedJson(after)];
  if (Array.isArray(a) && Array.isArray(b)) {
    return Array.from({ length: Math.max(a.length, b.length) }, (_, i) => valueDifferences(a[i], b[i], [...path, i])).flat();
  }
  if (isPlainObject(a) && isPlainObject(b)) {
    const keys = [...new Set([...Object.keys(a), ...Object.keys(b)])].sort();
    return keys.flatMap((key) => valueDifferences(a[key], b[key], [...path, key]));
  }
  return JSON.stringify(a) === JSON.stringify(b) ? [] : [{ path, old: before, new: after }];
}

/**
 * A Pulumi property path (`tags`, `rules[0].destination`, `tags["Cost Centre"]`, `ingress[*].cidr`)
 * as segments; `*` matches any key or index.
 */
export function parsePropertyPath(path: string): PathSegment[] {
  const segments: PathSegment[] = [];
  const pattern = /([^.[\]]+)|\[(\d+|\*)\]|\["((?:[^"\\]|\\.)*)"\]/g;
  for (const match of path.matchAll(pattern)) {
    if (match[1] !== undefined) segments.push(match[1]);
    else if (match[2] !== undefined) segments.push(match[2] === "*" ? "*" : Number(match[2]));
    else segments.push(JSON.parse(`"${match[3]}"`) as string);
  }
  return segments;
}

/** Whether an ignoreChanges entry covers `path` (the entry is a prefix of it). */
export function isIgnored(path: PathSegment[], ignoreChanges: readonly string[]): boolean {
  return ignoreChanges.some((entry) => {
    const segments = parsePropertyPath(entry);
    return segments.length <= path.length && segments.every((segment, i) => segment === "*" || segment === path[i]);
  });
}

export function formatPath(path: PathSegment[]): string {
  return path
    .map((segment, i) => (typeof segment === "number" ? `[${segment}]` : /^[A-Za-z_$][\w$]*$/.test(segment) ? `${i === 0 ? "" : "."}${segment}` : `[${JSON.stringify(segment)}]`))
    .join("");
}

const MAX_VALUE_LENGTH = 80;

/** A value as one short line: JSON, cut to MAX_VALUE_LENGTH characters; an absent value as "(none)". */
export function formatValue(value: unknown, maxLength = MAX_VALUE_LENGTH): string {
  if (value === undefined) return "(none)";
  const text = value === SECRET_MASK ? SECRET_MASK : JSON.stringify(value);
  return text.length > maxLength ? `${text.slice(0, maxLength - 1)}…` : text;
}

/** The physical name a resource of a stateful kind carries, so a rename can be told from an unrelated add and remove. */
function physicalName(resource: PlanResource): string | undefined {
  const inputs = resource.inputs ?? {};
  const name = inputs.bucket ?? inputs.clusterIdentifier ?? inputs.replicationGroupId ?? inputs.globalClusterIdentifier ?? inputs.name;
  return typeof name === "string" ? name : undefined;
}

function changedResource(before: PlanResource, after: PlanResource): ChangedResource | undefined {
  // Pulumi applies the ignoreChanges of the program being deployed: the head's.
  const ignoreChanges = after.ignoreChanges ?? [];
  const facts = REPLACEMENT_FIELDS[after.type];
  const differences = valueDifferences(maskSecrets(before.inputs ?? {}), maskSecrets(after.inputs ?? {}));
  const ignored = differences.filter((d) => isIgnored(d.path, ignoreChanges)).map((d) => d.path);
  const changes = differences
    .filter((d) => !isIgnored(d.path, ignoreChanges))
    .map((d) => ({ ...d, forcesReplacement: facts?.fields.includes(String(d.path[0])) ?? false }));
  const regionMoved = before.region !== after.region;
  if (changes.length === 0 && !regionMoved) return ignored.length > 0 ? { ...refOf(after), protect: before.protect === true || after.protect === true, changes, ignored, replacedBecause: [] } : undefined;
  const replacedBecause = [
    ...new Set(changes.filter((c) => c.forcesReplacement).map((c) => String(c.path[0]))),
    ...(regionMoved ? [`region ${before.region ?? "(none)"} → ${after.region ?? "(none)"}`] : []),
  ];
  return { ...refOf(after), protect: before.protect === true || after.protect === true, changes, ignored, replacedBecause };
}

/** Pairs removed and added resources of one type that are the same thing under a new URN (same logical or physical name). */
function pairMoves(removed: PlanResource[], added: PlanResource[]): { moved: MovedResource[]; removed: PlanResource[]; added: PlanResource[] } {
  const moved: MovedResource[] = [];
  const remainingAdded = [...added];
  const remainingRemoved: PlanResource[] = [];
  for (const old of removed) {
    const index = remainingAdded.findIndex((candidate) => candidate.type === old.type && (candidate.name === old.name || (physicalName(old) !== undefined && physicalName(candidate) === physicalName(old))));
    if (index < 0) {
      remainingRemoved.push(old);
      continue;
    }
    moved.push({ from: refOf(old), to: refOf(remainingAdded[index]) });
    remainingAdded.splice(index, 1);
  }
  return { moved, removed: remainingRemoved, added: remainingAdded };
}

export function diffPlans(base: PlanDocument, head: PlanDocument): PlanDiff {
  const baseByUrn = new Map(base.resources.map((r) => [r.urn, r]));
  const headByUrn = new Map(head.resources.map((r) => [r.urn, r]));
  const pairs = pairMoves(
    base.resources.filter((r) => !headByUrn.has(r.urn)),
    head.resources.filter((r) => !baseByUrn.has(r.urn)),
  );
  const changed = head.resources.flatMap((after) => {
    const before = baseByUrn.get(after.urn);
    const change = before ? changedResource(before, after) : undefined;
    return change ? [change] : [];
  });
  const blockers: Blocker[] = [
    ...changed.filter((c) => c.protect && c.replacedBecause.length > 0).map((c) => ({ ...refOf(c), reason: `replaced (${c.replacedBecause.join(", ")})` })),
    ...pairs.moved.filter((m) => m.from.protect).map((m) => ({ ...m.from, reason: `URN changed without an alias (delete + create as ${m.to.urn})` })),
    ...pairs.removed.filter((r) => r.protect === true).map((r) => ({ ...refOf(r), reason: "deleted" })),
  ];
  return { stack: head.stack, added: pairs.added.map(refOf), removed: pairs.removed.map(refOf), moved: pairs.moved, changed, blockers };
}

/** Exit status of `--diff`: 1 when --fail-on-replace is set and a protected resource would be replaced or deleted. */
export function diffExitCode(diff: PlanDiff, failOnReplace: boolean): number {
  return failOnReplace && diff.blockers.length > 0 ? 1 : 0;
}

export const blockerLine = (b: Blocker) => `Protected resource would be ${b.reason}: ${b.type} ${b.name} (${b.urn})`;

function summaryLine(diff: PlanDiff): string {
  const replacements = diff.changed.filter((c) => c.replacedBecause.length > 0).length;
  const updates = diff.changed.filter((c) => c.changes.length > 0).length;
  return `${diff.added.length} to add, ${diff.removed.length} to delete, ${updates} to change (${replacements} replaced), ${diff.moved.length} URN changes (delete + create)`;
}

function resourceLines(diff: PlanDiff): string[] {
  const mark = (r: ResourceRef) => (r.protect ? "  (protected)" : "");
  const lines: string[] = [];
  for (const r of diff.added) lines.push(`+ ${r.type}  ${r.name}${mark(r)}`);
  for (const r of diff.removed) lines.push(`- ${r.type}  ${r.name}${mark(r)}`);
  for (const m of diff.moved) {
    lines.push(`-+ ${m.from.type}  ${m.from.name}${mark(m.from)}: URN changed without an alias, delete + create`);
    lines.push(`     from ${m.from.urn}`, `     to   ${m.to.urn}`);
  }
  for (const c of diff.changed) {
    const replaced = c.replacedBecause.length > 0;
    if (c.changes.length === 0 && !replaced) {
      lines.push(`  ${c.type}  ${c.name}: no change (ignoreChanges: ${c.ignored.map(formatPath).join(", ")})`);
      continue;
    }
    lines.push(`${replaced ? "+-" : "~ "} ${c.type}  ${c.name}${mark(c)}${replaced ? `  REPLACE (${c.replacedBecause.join(", ")})` : ""}`);
    for (const change of c.changes) {
      lines.push(`     ${formatPath(change.path)}: ${formatValue(change.old)} → ${formatValue(change.new)}${change.forcesReplacement ? "  [forces replacement]" : ""}`);
    }
    if (c.ignored.length > 0) lines.push(`     ignored (ignoreChanges): ${c.ignored.map(formatPath).join(", ")}`);
  }
  return lines;
}

export interface RenderOptions {
  readonly format: "text" | "markdown";
  /** What the base is (a file or a git ref), for the heading. */
  readonly baseLabel: string;
  /** Further sections (title and lines), printed after the resources: the cost delta goes here. */
  readonly sections?: { title: string; lines: string[] }[];
  /** Plain documents, so that a plaintext held in a secret envelope anywhere is redacted from the output. */
  readonly documents?: unknown[];
}

export function renderPlanDiff(diff: PlanDiff, options: RenderOptions): string {
  const heading = `Plan diff for ${diff.stack}: ${options.baseLabel} → this revision`;
  const body = resourceLines(diff);
  const empty = body.length === 0 ? ["No resource changes."] : [];
  const blockers = diff.blockers.map(blockerLine);
  const sections = options.sections ?? [];
  const text =
    options.format === "markdown"
      ? [
          `### ${heading}`,
          "",
          summaryLine(diff),
          ...(blockers.length > 0 ? ["", "**Protected resources replaced or deleted:**", ...blockers.map((b) => `- ${b}`)] : []),
          "",
          "```diff",
          ...body,
          ...empty,
          "```",
          ...sections.flatMap((s) => ["", `#### ${s.title}`, "", ...s.lines]),
        ]
      : [heading, summaryLine(diff), ...blockers.map((b) => `!! ${b}`), "", ...body, ...empty, ...sections.flatMap((s) => ["", `${s.title}:`, ...s.lines])];
  // Defence in depth: masked values never hold a plaintext, but a secret may also sit unmarked in another input.
  const plaintexts = new Set<string>();
  for (const document of options.documents ?? []) secretPlaintexts(document, plaintexts);
  return redactText(text.join("\n"), plaintexts);
}
