/**
 * The plan's "Batch" section, read from the planned graph (what `pulumi up` would create,
 * not what the config asks for):
 *   - each Glue job with its version, workers, timeout and security configuration;
 *   - the crawler and the datasets whose partitions are projected instead;
 *   - the EMR Serverless application, when there is one;
 *   - the state machine's states in order, with its schedule and logging;
 *   - the OLTP -> warehouse sync path (zero-ETL integration or DMS task).
 */
import { PlannedResource, StackEvaluation, ofType } from "./engine";

const T = {
  job: "aws:glue/job:Job",
  crawler: "aws:glue/crawler:Crawler",
  table: "aws:glue/catalogTable:CatalogTable",
  emr: "aws:emrserverless/application:Application",
  machine: "aws:sfn/stateMachine:StateMachine",
  schedule: "aws:scheduler/schedule:Schedule",
  integration: "aws:rds/integration:Integration",
  dmsInstance: "aws:dms/replicationInstance:ReplicationInstance",
  dmsTask: "aws:dms/replicationTask:ReplicationTask",
} as const;

export function glueJobLines(plan: StackEvaluation): string[] {
  return ofType(plan, T.job).map((job) => {
    const i = job.inputs;
    const bookmarks = i.defaultArguments?.["--job-bookmark-option"] ?? "job-bookmark-disable";
    return `  Glue job ${i.name ?? job.name}: Glue ${i.glueVersion}, ${i.numberOfWorkers} × ${i.workerType}, timeout ${i.timeout} min, ${i.executionProperty?.maxConcurrentRuns ?? "?"} concurrent run, ${bookmarks}, security configuration ${i.securityConfiguration ?? "none"}`;
  });
}

export function catalogLines(plan: StackEvaluation): string[] {
  const crawlers = ofType(plan, T.crawler).map((crawler) => {
    const paths = (crawler.inputs.s3Targets ?? []).map((t: { path: string }) => t.path).join(", ");
    return `  Crawler ${crawler.inputs.name ?? crawler.name}: ${paths} (${crawler.inputs.recrawlPolicy?.recrawlBehavior ?? "CRAWL_EVERYTHING"})`;
  });
  const projected = ofType(plan, T.table)
    .filter((table) => table.inputs.parameters?.["projection.enabled"] === "true" && table.name.includes("batch"))
    .map((table) => `  Table ${table.inputs.name}: partition projection (no crawler)`);
  return [...crawlers, ...projected];
}

export function emrLines(plan: StackEvaluation): string[] {
  return ofType(plan, T.emr).map((app) => {
    const i = app.inputs;
    const idle = i.autoStopConfiguration?.enabled ? `auto-stop after ${i.autoStopConfiguration.idleTimeoutMinutes} min idle` : "no auto-stop";
    return `  EMR Serverless ${i.name ?? app.name}: ${i.type} on ${i.releaseLabel} (${i.architecture ?? "X86_64"}), at most ${i.maximumCapacity?.cpu} / ${i.maximumCapacity?.memory}, ${idle}`;
  });
}

interface DefinitionState {
  Type: string;
  Resource?: string;
  Next?: string;
  Default?: string;
  Choices?: { Next: string }[];
}

type Definition = { StartAt: string; States: Record<string, DefinitionState> };

const successorsOf = (state: DefinitionState): string[] =>
  [state.Next, state.Default, ...(state.Choices ?? []).map((c) => c.Next)].filter((n): n is string => n !== undefined);

/** States from which some path (Next, Default, Choices) reaches a Succeed state: the run's main line, not its failure branch. */
function statesThatCanSucceed(definition: Definition): Set<string> {
  const good = new Set(Object.keys(definition.States).filter((name) => definition.States[name].Type === "Succeed"));
  for (let grew = true; grew; ) {
    grew = false;
    for (const [name, state] of Object.entries(definition.States)) {
      if (!good.has(name) && successorsOf(state).some((next) => good.has(next))) {
        good.add(name);
        grew = true;
      }
    }
  }
  return good;
}

/** The states of a successful run reachable from StartAt, in the order a run meets them (breadth-first). */
export function stateOrder(definition: Definition): string[] {
  const succeeding = statesThatCanSucceed(definition);
  const seen: string[] = [];
  const queue = [definition.StartAt];
  while (queue.length > 0) {
    const name = queue.shift() as string;
    if (seen.includes(name) || !succeeding.has(name)) continue;
    seen.push(name);
    queue.push(...successorsOf(definition.States[name]));
  }
  return seen;
}

function machineLines(plan: StackEvaluation, machine: PlannedResource): string[] {
  const definition = typeof machine.inputs.definition === "string" ? JSON.parse(machine.inputs.definition) : machine.inputs.definition;
  const tasks = stateOrder(definition).filter((name) => definition.States[name].Type === "Task");
  const schedule = ofType(plan, T.schedule).find((s) => s.inputs.target?.arn === machine.state.arn);
  const when = schedule ? `${schedule.inputs.scheduleExpression} ${schedule.inputs.scheduleExpressionTimezone ?? "UTC"} (${schedule.inputs.state ?? "ENABLED"})` : "no schedule";
  const logging = machine.inputs.loggingConfiguration?.level ?? "OFF";
  return [
    `  State machine ${machine.inputs.name ?? machine.name} (${machine.inputs.type}): ${when}; logs ${logging}, tracing ${machine.inputs.tracingConfiguration?.enabled ? "on" : "off"}`,
    `    ${tasks.join(" → ")}`,
  ];
}

export function syncLines(plan: StackEvaluation): string[] {
  const zeroEtl = ofType(plan, T.integration).map((i) => `  OLTP → warehouse: zero-ETL integration ${i.inputs.integrationName ?? i.name} (${i.inputs.dataFilter ?? "all tables"})`);
  const dms = ofType(plan, T.dmsTask).map((task) => {
    const instance = ofType(plan, T.dmsInstance)[0];
    const size = instance ? `${instance.inputs.replicationInstanceClass}${instance.inputs.multiAz ? " Multi-AZ" : ""}, engine ${instance.inputs.engineVersion}` : "?";
    return `  OLTP → warehouse: DMS ${task.inputs.migrationType} task ${task.inputs.replicationTaskId ?? task.name} on ${size}`;
  });
  const lines = [...zeroEtl, ...dms];
  return lines.length > 0 || ofType(plan, T.machine).length === 0 ? lines : ["  OLTP → warehouse: none (warehouseSync none: the batch and streaming loads only)"];
}

/** The whole section's lines (empty when the stack declares no batch layer). */
export function batchSummary(plan: StackEvaluation): string[] {
  return [
    ...glueJobLines(plan),
    ...catalogLines(plan),
    ...emrLines(plan),
    ...ofType(plan, T.machine).flatMap((machine) => machineLines(plan, machine)),
    ...syncLines(plan),
  ];
}
