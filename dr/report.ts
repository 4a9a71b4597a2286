/**
 * The report of a run (and the printout of a dry run): every step with its start, end
 * and result, the measured RTO against drRtoMinutes, the estimated RPO per store, and
 * the exact `pulumi config set` commands both stacks need. Written as JSON and text under
 * out/dr/<stack>/.
 */
import * as fs from "fs";
import * as path from "path";
import { pulumiConfigCommand } from "./config-changes";
import { Journal, runDirectory } from "./journal";
import { ConfigChange, PromotionPlan } from "./model";

export interface StepReport {
  readonly id: string;
  readonly title: string;
  readonly region: string;
  readonly phase: string;
  readonly status: string;
  readonly attempts: number;
  readonly actionTaken: boolean;
  readonly startedAt?: string;
  readonly endedAt?: string;
  readonly durationSeconds?: number;
  readonly result?: string;
}

export interface RunReport {
  readonly runId: string;
  readonly stack: string;
  readonly sourceStack: string;
  readonly mode: string;
  readonly status: string;
  readonly operator: string;
  readonly targetRegion: string;
  readonly sourceRegion: string;
  readonly startedAt?: string;
  readonly healthyAt?: string;
  readonly rto: { readonly measuredSeconds?: number; readonly targetSeconds: number; readonly met?: boolean };
  readonly rpo: PromotionPlan["rpo"];
  readonly steps: StepReport[];
  readonly forcedPreconditions: string[];
  /** Only the changes whose producing step succeeded. */
  readonly configChanges: ConfigChange[];
  readonly configCommands: string[];
  readonly configWritten: string[];
}

const seconds = (from?: string, to?: string) => (from && to ? Math.round((Date.parse(to) - Date.parse(from)) / 1000) : undefined);

/** The config changes a run has earned: those tied to a step need that step to have succeeded. */
export function earnedConfigChanges(journal: Journal): ConfigChange[] {
  const succeeded = new Set(journal.steps.filter((record) => record.status === "succeeded").map((record) => record.id));
  const healthy = journal.healthyAt !== undefined;
  return journal.plan.configChanges.filter((change) => healthy && (!change.afterStep || succeeded.has(change.afterStep)));
}

export function buildRunReport(journal: Journal, configWritten: string[] = []): RunReport {
  const plan = journal.plan;
  const changes = earnedConfigChanges(journal);
  const targetSeconds = plan.rtoTargetMinutes * 60;
  return {
    runId: journal.runId,
    stack: journal.stack,
    sourceStack: journal.sourceStack,
    mode: journal.mode,
    status: journal.status,
    operator: journal.operator,
    targetRegion: plan.targetRegion,
    sourceRegion: plan.sourceRegion,
    ...(journal.startedAt ? { startedAt: journal.startedAt } : {}),
    ...(journal.healthyAt ? { healthyAt: journal.healthyAt } : {}),
    rto: {
      ...(journal.measuredRtoSeconds !== undefined ? { measuredSeconds: journal.measuredRtoSeconds, met: journal.measuredRtoSeconds <= targetSeconds } : {}),
      targetSeconds,
    },
    rpo: plan.rpo,
    steps: plan.steps.map((step) => {
      const record = journal.steps.find((candidate) => candidate.id === step.id)!;
      const duration = seconds(record.startedAt, record.endedAt);
      return {
        id: step.id,
        title: step.title,
        region: step.region,
        phase: step.phase,
        status: record.status,
        attempts: record.attempts,
        actionTaken: record.actionTaken,
        ...(record.startedAt ? { startedAt: record.startedAt } : {}),
        ...(record.endedAt ? { endedAt: record.endedAt } : {}),
        ...(duration !== undefined ? { durationSeconds: duration } : {}),
        ...(record.error || record.detail ? { result: record.error ?? record.detail } : {}),
      };
    }),
    forcedPreconditions: plan.preconditions.filter((check) => check.forced).map((check) => `${check.id}: ${check.detail}`),
    configChanges: changes,
    configCommands: changes.map(pulumiConfigCommand),
    configWritten,
  };
}

const formatDuration = (total?: number) => {
  if (total === undefined) return "n/a";
  const minutes = Math.floor(total / 60);
  return minutes ? `${minutes} min ${total % 60} s` : `${total} s`;
};

const rpoLines = (rpo: PromotionPlan["rpo"]) =>
  rpo.map((estimate) => `  ${estimate.store.padEnd(10)} ${estimate.seconds === undefined ? "unknown" : `${estimate.seconds} s`} (target ${estimate.targetSeconds} s): ${estimate.basis}`);

export function renderRunReport(report: RunReport): string {
  const lines = [
    `Promotion ${report.runId}: ${report.stack} (${report.targetRegion}) takes over from ${report.sourceStack} (${report.sourceRegion}), ${report.mode} mode`,
    `Status: ${report.status}; operator ${report.operator}`,
    `Measured RTO: ${formatDuration(report.rto.measuredSeconds)} against ${formatDuration(report.rto.targetSeconds)}${report.rto.met === undefined ? " (the health check has not passed)" : report.rto.met ? " (met)" : " (MISSED)"}`,
    "Estimated RPO per store:",
    ...rpoLines(report.rpo),
    ...(report.forcedPreconditions.length ? ["Forced past (--force):", ...report.forcedPreconditions.map((line) => `  ${line}`)] : []),
    "Steps:",
    ...report.steps.map(
      (step) =>
        `  ${step.status.padEnd(9)} ${step.title} [${step.region}${step.phase === "follow-up" ? ", follow-up" : ""}]${step.startedAt ? ` ${step.startedAt} → ${step.endedAt ?? "…"} (${formatDuration(step.durationSeconds)})` : ""}${step.attempts > 1 ? `, ${step.attempts} attempts` : ""}${step.result ? `\n            ${step.result}` : ""}`,
    ),
    "Config changes for the next `pulumi up` of both stacks:",
    ...(report.configCommands.length ? report.configCommands.map((command) => `  ${command}`) : ["  none yet (they follow a passed health check)"]),
    ...(report.configWritten.length ? [`Written to: ${report.configWritten.join(", ")}`] : []),
  ];
  return lines.join("\n") + "\n";
}

/** The dry-run printout: the ordered plan with its parallel waves, what blocks it and the config changes. */
export function renderPlan(plan: PromotionPlan): string {
  const byId = new Map(plan.steps.map((step) => [step.id, step]));
  const wave = (ids: string[], index: number, label: string) => [
    `  ${label} ${index + 1}${ids.length > 1 ? ` (${ids.length} steps in parallel)` : ""}:`,
    ...ids.flatMap((id) => {
      const step = byId.get(id)!;
      return [
        `    - ${step.title} [${step.region}, timeout ${Math.round(step.timeoutSeconds / 60)} min]`,
        `        action:   ${step.description}`,
        `        verify:   ${step.verification}`,
        `        rollback: ${step.rollback}`,
        ...(step.dependsOn.length ? [`        after:    ${step.dependsOn.join(", ")}`] : []),
      ];
    }),
  ];
  const lines = [
    `Promotion plan (${plan.mode}): ${plan.targetStack} in ${plan.targetRegion} becomes active, ${plan.sourceStack} in ${plan.sourceRegion} hands over`,
    `Observed at ${plan.observedAt}${plan.force ? "; --force accepts replication lag beyond the RPO" : ""}`,
    "Preconditions:",
    ...plan.preconditions.map((check) => `  ${check.passed ? "ok     " : check.forced ? "FORCED " : "BLOCKED"} ${check.id}: ${check.description}\n          ${check.detail}`),
    "Steps (critical path, measured as RTO):",
    ...plan.groups.flatMap((ids, index) => wave(ids, index, "wave")),
    ...(plan.followUpGroups.length ? [`Follow-ups (deferred until ${plan.sourceRegion} answers; run with --resume):`, ...plan.followUpGroups.flatMap((ids, index) => wave(ids, index, "follow-up wave"))] : []),
    "Estimated RPO per store:",
    ...rpoLines(plan.rpo),
    `RTO target: ${plan.rtoTargetMinutes} min`,
    "Config changes both stacks need afterwards:",
    ...(plan.configChanges.length ? plan.configChanges.map((change) => `  ${pulumiConfigCommand(change)}${change.afterStep ? `   # once ${change.afterStep} succeeded` : ""}`) : ["  none"]),
    plan.blockers.length ? `REFUSED: ${plan.blockers.length} precondition${plan.blockers.length === 1 ? "" : "s"} failed: ${plan.blockers.map((check) => check.id).join(", ")}` : "No blocker: the plan can run.",
  ];
  return lines.join("\n") + "\n";
}

/** A refusal that names every failed precondition and what was observed. */
export function renderRefusal(plan: PromotionPlan): string {
  return [
    `Refusing to promote ${plan.targetStack} (${plan.mode}): ${plan.blockers.length} precondition${plan.blockers.length === 1 ? "" : "s"} failed`,
    ...plan.blockers.map((check) => `  - ${check.id}: ${check.description}\n    observed: ${check.detail}${check.overridable ? "\n    (--force accepts this)" : ""}`),
  ].join("\n") + "\n";
}

/** Writes the report as JSON and as text (`rendered`, when the caller already rendered it). */
export function writeRunReport(outDir: string, report: RunReport, rendered: string = renderRunReport(report)): { json: string; text: string } {
  const directory = runDirectory(outDir, report.stack);
  fs.mkdirSync(directory, { recursive: true });
  const json = path.join(directory, `${report.runId}.report.json`);
  const text = path.join(directory, `${report.runId}.report.txt`);
  fs.writeFileSync(json, JSON.stringify(report, null, 2));
  fs.writeFileSync(text, rendered);
  return { json, text };
}
