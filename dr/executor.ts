/**
 * Runs a journaled plan: takes the lock, starts every step as soon as the steps it
 * depends on succeeded (so a long warehouse restore never holds back the consumers),
 * journals each step's start and end, and shows progress with listr2. A failed step
 * leaves its dependents pending and the run resumable; independent steps still finish.
 *
 * Unplanned runs leave the follow-ups (fencing the old region, keeping its failover
 * snapshot) deferred: they call the source region, so they run only on --resume
 * (runFollowUps), and stay deferred while that region does not answer.
 */
import { Listr, ListrRendererValue } from "listr2";
import { ActionContext, runStepAction } from "./actions";
import { messageOf } from "./errors";
import { Journal, JournalSinks, LockHolder, StepRecord, persist } from "./journal";
import { PlanStep } from "./model";
import { HEALTH_CHECK_STEP } from "./steps";

export interface ExecuteOptions {
  readonly journal: Journal;
  readonly sinks: JournalSinks;
  readonly context: ActionContext;
  /** Run the follow-up steps too (--resume). */
  readonly runFollowUps: boolean;
  /** listr2 renderer: "default" on a terminal, "simple" in logs, "silent" in tests. @default "default" */
  readonly renderer?: ListrRendererValue;
}

export class JournalWriteError extends Error {
  constructor(readonly cause: unknown) {
    super(`Could not write the promotion journal, so the run stopped: ${(cause as Error)?.message ?? String(cause)}`);
    this.name = "JournalWriteError";
  }
}


export function lockHolderOf(journal: Journal): LockHolder {
  return { runId: journal.runId, stack: journal.stack, mode: journal.mode, operator: journal.operator, acquiredAt: journal.createdAt };
}

/** Runs what the journal has not finished; returns the journal as it ends. */
export async function executePlan(options: ExecuteOptions): Promise<Journal> {
  const { journal, sinks, context } = options;
  const iso = () => new Date(context.clock.now()).toISOString();
  const stepById = new Map(journal.plan.steps.map((step) => [step.id, step]));
  const recordOf = (id: string) => journal.steps.find((record) => record.id === id)!;

  for (const table of sinks.lockTables) await table.acquireLock(journal.stage, lockHolderOf(journal));

  // One journal write at a time, in order; the first failure stops the run.
  let writes: Promise<void> = Promise.resolve();
  let writeFailure: JournalWriteError | undefined;
  const save = (stepId?: string) => {
    writes = writes.then(async () => {
      if (writeFailure) return;
      try {
        await persist(sinks, journal, stepId);
      } catch (error) {
        writeFailure = new JournalWriteError(error);
      }
    });
    return writes.then(() => {
      if (writeFailure) throw writeFailure;
    });
  };

  journal.status = "running";
  journal.startedAt ??= iso();
  await save();

  const runnable = journal.plan.steps.filter((step) => step.phase === "critical" || options.runFollowUps);
  const done = new Map<string, Promise<boolean>>();
  const finished = (id: string): Promise<boolean> => {
    const record = recordOf(id);
    if (record.status === "succeeded") return Promise.resolve(true);
    return done.get(id) ?? Promise.resolve(false);
  };

  const runStep = async (step: PlanStep, record: StepRecord, report: (text: string) => void): Promise<boolean> => {
    record.status = "running";
    record.attempts += 1;
    record.startedAt = iso();
    delete record.error;
    delete record.endedAt;
    await save(step.id);
    try {
      const outcome = await runStepAction(step, context);
      record.actionTaken = record.actionTaken || outcome.actionTaken;
      record.detail = outcome.detail;
      if (outcome.outputs) record.outputs = outcome.outputs;
      record.status = outcome.status === "pending" ? "deferred" : "succeeded";
    } catch (error) {
      record.error = messageOf(error);
      record.status = step.phase === "follow-up" ? "deferred" : "failed";
    }
    record.endedAt = iso();
    if (step.id === HEALTH_CHECK_STEP && record.status === "succeeded") {
      journal.healthyAt = record.endedAt;
      journal.measuredRtoSeconds = Math.round((Date.parse(journal.healthyAt) - Date.parse(journal.startedAt!)) / 1000);
    }
    report(record.error ?? record.detail ?? record.status);
    await save(step.id);
    return record.status === "succeeded";
  };

  const tasks = runnable.map((step) => {
    const record = recordOf(step.id);
    let resolve!: (ok: boolean) => void;
    done.set(step.id, new Promise<boolean>((r) => (resolve = r)));
    return {
      title: step.title,
      task: async (_: unknown, task: { output: string; title: string; skip: (message: string) => void }) => {
        try {
          if (record.status === "succeeded") {
            task.skip(`${step.title}: done in an earlier attempt`);
            resolve(true);
            return;
          }
          const dependencies = step.dependsOn.filter((id) => stepById.has(id));
          if (dependencies.length) task.output = `waiting for ${dependencies.join(", ")}`;
          const ready = await Promise.all(dependencies.map(finished));
          if (writeFailure || ready.some((ok) => !ok)) {
            task.skip(`${step.title}: blocked by ${dependencies.filter((_, i) => !ready[i]).join(", ") || "the journal"}`);
            resolve(false);
            return;
          }
          task.output = step.description;
          const ok = await runStep(step, record, (text) => (task.output = text));
          resolve(ok);
          if (!ok && record.status === "failed") throw new Error(record.error ?? "failed");
          if (!ok) task.skip(`${step.title}: deferred (${record.error ?? record.detail})`);
        } catch (error) {
          resolve(false);
          throw error;
        }
      },
    };
  });

  await new Listr(tasks, { concurrent: true, exitOnError: false, renderer: options.renderer ?? "default", rendererOptions: { collapseErrors: false } } as never).run();
  await writes.catch(() => undefined);
  if (writeFailure) throw writeFailure;

  const critical = journal.plan.steps.filter((step) => step.phase === "critical").map((step) => recordOf(step.id));
  const followUps = journal.plan.steps.filter((step) => step.phase === "follow-up").map((step) => recordOf(step.id));
  if (critical.some((record) => record.status !== "succeeded")) journal.status = "failed";
  else if (followUps.some((record) => record.status !== "succeeded")) {
    journal.status = "awaiting-follow-ups";
    for (const record of followUps) if (record.status === "pending") record.status = "deferred";
  } else journal.status = "completed";
  await save();
  if (journal.status === "completed") for (const table of sinks.lockTables) await table.releaseLock(journal.stage, journal.runId);
  return journal;
}
