/**
 * `npm run plan -- --stack dev`: evaluates the real program for a stack under the
 * Pulumi SDK's mock engine (no CLI, no credentials) and prints the resource tree,
 * the count per type and the regions; writes the full graph to out/plan-<stack>.json.
 * Exits 1 with the config errors when the stack file is invalid.
 * With `--diff BASE` (a plan JSON or a git ref) it prints what changes against BASE
 * instead of the tree (scripts/plan-diff.ts, scripts/plan-base.ts). No output holds a
 * secret: the engine masks every one as "[secret]" at the source (scripts/engine.ts).
 */
import * as fs from "fs";
import * as path from "path";
import { StageConfigError } from "../config";
import { parseCliArgs } from "./cli";
import { costSection, planCostDelta, renderCostDelta } from "./cost";
import { PROJECT_DIR, PlannedResource, StackEvaluation, ofType } from "./engine";
import { diagramFile, writeDiagram } from "./plan-diagram";
import { PlanDocument } from "./plan-diff";
import { runPlanDiff } from "./plan-base";
import { batchSummary } from "./plan-batch";
import { servicesSummary } from "./plan-services";
import { summarisePolicies } from "./policy";
import { evaluateStage } from "./stage-evaluation";

const USAGE = "Usage: npm run plan -- --stack <dev|prod|prod-dr> [--out <file>] [--diagram [file.svg]] [--cost [--compare <stack,...>]] [--diff <plan.json|git ref> [--format text|markdown] [--fail-on-replace]]";

/** Indented component tree: each resource under its parent, as `pulumi preview` nests them. */
export function renderTree(evaluation: StackEvaluation): string[] {
  const byParent = new Map<string | undefined, PlannedResource[]>();
  const known = new Set(evaluation.resources.map((r) => r.urn));
  for (const resource of evaluation.resources) {
    const parent = resource.parent && known.has(resource.parent) ? resource.parent : undefined;
    byParent.set(parent, [...(byParent.get(parent) ?? []), resource]);
  }
  const lines: string[] = [];
  const walk = (parent: string | undefined, depth: number) => {
    for (const resource of byParent.get(parent) ?? []) {
      const marks = [resource.protect ? "protected" : "", resource.remote ? "remote component" : "", resource.region ?? ""].filter(Boolean);
      lines.push(`${"  ".repeat(depth)}${resource.type}  ${resource.name}${marks.length ? `  (${marks.join(", ")})` : ""}`);
      walk(resource.urn, depth + 1);
    }
  };
  walk(undefined, 0);
  return lines;
}

export function countByType(evaluation: StackEvaluation): [string, number][] {
  const counts = new Map<string, number>();
  for (const resource of evaluation.resources) counts.set(resource.type, (counts.get(resource.type) ?? 0) + 1);
  return [...counts.entries()].sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0]));
}

export function regionsInUse(evaluation: StackEvaluation): Record<string, number> {
  const regions: Record<string, number> = {};
  for (const resource of evaluation.resources) {
    if (resource.region) regions[resource.region] = (regions[resource.region] ?? 0) + 1;
  }
  return regions;
}

export interface ProviderTarget {
  readonly name: string;
  readonly region: string;
  /** The accounts the provider may act in (allowedAccountIds); empty: not pinned. */
  readonly accounts: string[];
  /** The role it assumes first, if any. */
  readonly assumesRole?: string;
}

/** Providers receive object and list config as JSON strings. */
function parsedInput<T>(value: unknown): T | undefined {
  return typeof value === "string" && value !== "" ? (JSON.parse(value) as T) : (value as T | undefined);
}

/** Which account and region each AWS provider targets, as its inputs say. */
export function providerTargets(evaluation: StackEvaluation): ProviderTarget[] {
  return evaluation.resources
    .filter((r) => r.type === "pulumi:providers:aws")
    .map((provider) => {
      const roles = parsedInput<{ roleArn?: string }[]>(provider.inputs.assumeRoles) ?? [];
      return {
        name: provider.name,
        region: String(provider.inputs.region ?? "(ambient)"),
        accounts: parsedInput<string[]>(provider.inputs.allowedAccountIds) ?? [],
        ...(roles[0]?.roleArn ? { assumesRole: roles[0].roleArn } : {}),
      };
    });
}

export function renderProviderTargets(targets: ProviderTarget[]): string[] {
  return targets.map((t) => {
    const account = t.accounts.length > 0 ? `account ${t.accounts.join(", ")}` : "account NOT PINNED (any credentials)";
    return `  ${t.name}: region ${t.region}, ${account}${t.assumesRole ? `, assumes ${t.assumesRole}` : ""}`;
  });
}

const ofTypeIn = (evaluation: StackEvaluation | undefined, type: string) => (evaluation ? ofType(evaluation, type) : []);

/**
 * What links this stack to its partner's region, read from both graphs: the Global
 * Database and its members, key replicas, table replicas, lake rules and snapshot copies.
 * Empty for a stage without DR.
 */
export function crossRegionLinks(evaluation: StackEvaluation, partner?: StackEvaluation): string[] {
  const lines: string[] = [];
  const members = [evaluation, partner].flatMap((plan) =>
    ofTypeIn(plan, "aws:rds/cluster:Cluster").filter((c) => c.inputs.globalClusterIdentifier).map((c) => ({ plan, cluster: c })),
  );
  const globalId = members[0]?.cluster.inputs.globalClusterIdentifier;
  if (globalId) {
    const describe = ({ plan, cluster }: (typeof members)[number]) => `${cluster.state.clusterIdentifier ?? cluster.name} in ${cluster.region} (${plan?.stack}, ${ofTypeIn(plan, "aws:rds/clusterInstance:ClusterInstance").length} instances)`;
    lines.push(`  Aurora Global Database ${globalId}: ${members.map(describe).join("; ")}`);
  }
  const replicas = ofTypeIn(evaluation, "aws:kms/replicaKey:ReplicaKey");
  if (replicas.length > 0) lines.push(`  KMS key replicas: ${replicas.map((r) => `${r.name} in ${r.region}`).join(", ")}`);
  for (const table of ofTypeIn(evaluation, "aws:dynamodb/table:Table").filter((t) => (t.inputs.replicas ?? []).length > 0)) {
    lines.push(`  DynamoDB global table ${table.state.name}: replicas in ${table.inputs.replicas.map((r: { regionName: string }) => r.regionName).join(", ")}`);
  }
  for (const config of ofTypeIn(evaluation, "aws:s3/bucketReplicationConfig:BucketReplicationConfig")) {
    for (const rule of config.inputs.rules ?? []) {
      lines.push(`  S3 ${rule.id}: ${config.inputs.bucket} → ${rule.destination?.bucket} (${rule.status}${rule.destination?.replicationTime ? ", RTC 15 min" : ""})`);
    }
  }
  for (const copy of ofTypeIn(evaluation, "aws:redshift/snapshotCopy:SnapshotCopy")) {
    lines.push(`  Redshift snapshot copy: ${copy.inputs.clusterIdentifier} → ${copy.inputs.destinationRegion} under grant ${copy.inputs.snapshotCopyGrantName}, kept ${copy.inputs.retentionPeriod} days`);
  }
  return lines;
}

/** The JSON graph: every resource with its parent, provider, region, protect flag and inputs. */
export function graphDocument(evaluation: StackEvaluation) {
  return {
    stack: evaluation.stack,
    project: evaluation.project,
    resourceCount: evaluation.resources.length,
    regions: regionsInUse(evaluation),
    providers: providerTargets(evaluation),
    countsByType: Object.fromEntries(countByType(evaluation)),
    outputs: evaluation.outputs,
    warnings: evaluation.warnings,
    resources: evaluation.resources,
  };
}

/** The CLI; exported so tests can run it in-process (tests/no-secrets-in-outputs.test.ts). */
export async function main(commandLine: string[] = process.argv.slice(2)) {
  const { stack, flags } = parseCliArgs(commandLine, USAGE, ["fail-on-replace", "cost"], ["diagram"]);
  let evaluation: StackEvaluation;
  let partner: StackEvaluation | undefined;
  try {
    // A stack with DR is shown as it converges with its partner (README, Disaster recovery → Deploy order).
    ({ evaluation, partner } = await evaluateStage(stack));
  } catch (error) {
    if (error instanceof StageConfigError) {
      console.error(error.message);
      process.exit(1);
    }
    throw error;
  }
  const outFile = path.resolve(flags.out ?? path.join(PROJECT_DIR, "out", `plan-${stack}.json`));
  fs.mkdirSync(path.dirname(outFile), { recursive: true });
  fs.writeFileSync(outFile, JSON.stringify(graphDocument(evaluation), null, 2));

  if (flags.diff !== undefined) {
    const { output, blockers, exitCode } = await runPlanDiff({
      stack,
      base: flags.diff,
      head: JSON.parse(fs.readFileSync(outFile, "utf8")) as PlanDocument,
      format: flags.format,
      failOnReplace: flags["fail-on-replace"] === "true",
      // What the change costs: both plans priced by the same estimator (policies/cost/).
      sections: (base, head) => [{ title: "Cost delta", lines: renderCostDelta(planCostDelta(base, head)) }],
    });
    console.log(output);
    for (const line of [...blockers, ...evaluation.errors]) console.error(line);
    process.exitCode = evaluation.errors.length > 0 ? 1 : exitCode;
    return;
  }

  console.log(`Stack ${stack}: ${evaluation.resources.length} resources (offline plan under the Pulumi mock engine)\n`);
  console.log(renderTree(evaluation).join("\n"));
  console.log("\nResources per type:");
  for (const [type, count] of countByType(evaluation)) console.log(`  ${String(count).padStart(4)}  ${type}`);
  const services = servicesSummary(evaluation);
  if (services.length > 0) console.log(`\nServices (the ingest routes, what runs behind each API, and the dashboard):\n${services.join("\n")}`);
  const batch = batchSummary(evaluation);
  if (batch.length > 0) console.log(`\nBatch (the Glue jobs, the catalog, EMR Serverless, the pipeline and the OLTP → warehouse sync):\n${batch.join("\n")}`);
  const links = crossRegionLinks(evaluation, partner);
  if (links.length > 0) console.log(`\nCross-region links (with ${partner?.stack ?? "the partner stack"}, as the deploy order leaves them):\n${links.join("\n")}`);
  console.log("\nRegions:");
  for (const [region, count] of Object.entries(regionsInUse(evaluation))) console.log(`  ${region}: ${count} resources`);
  console.log("\nProviders (the account and region each targets):");
  console.log(renderProviderTargets(providerTargets(evaluation)).join("\n"));
  console.log(`\nPolicies:\n  ${await summarisePolicies(evaluation, stack)}`);
  if (evaluation.infos.length > 0) console.log(`\nNotes:\n${evaluation.infos.map((line) => `  ${line}`).join("\n")}`);
  if (evaluation.warnings.length > 0) console.log(`\nWarnings (${evaluation.warnings.length}):\n${evaluation.warnings.map((w) => `  ${w}`).join("\n")}`);
  if (evaluation.errors.length > 0) {
    console.error(`\nErrors (${evaluation.errors.length}):\n${evaluation.errors.map((e) => `  ${e}`).join("\n")}`);
    process.exit(1);
  }
  if (flags.cost) {
    const compared = await Promise.all((flags.compare?.split(",") ?? []).map(async (other) => (await evaluateStage(other)).evaluation));
    console.log(`\n${costSection(evaluation, partner, compared)}`);
  }
  console.log(`\nFull graph written to ${path.relative(process.cwd(), outFile)}`);
  if (flags.diagram !== undefined) {
    const written = await writeDiagram([evaluation, ...(partner ? [partner] : [])], diagramFile(flags.diagram, stack));
    const files = [written.svgFile, written.dotFile, written.pngFile].filter((f): f is string => f !== undefined);
    const shown = (file: string) => (path.relative(process.cwd(), file).startsWith("..") ? file : path.relative(process.cwd(), file));
    console.log(`Architecture diagram written to ${files.map(shown).join(", ")}${written.pngSkipped ? ` (${written.pngSkipped})` : ""}`);
  }
}

if (require.main === module) {
  main().catch((error) => {
    console.error(error instanceof Error ? error.message : error);
    process.exit(1);
  });
}
