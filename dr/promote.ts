/**
 * The dr:promote command as a function of its options and injected dependencies: read
 * both stacks (config and topology), observe, plan, then print (--dry-run), refuse, or
 * confirm, journal, execute and report. scripts/dr-promote.ts only parses flags and
 * wires real AWS or the simulation; tests call this directly.
 */
import { DynamoDBClient } from "@aws-sdk/client-dynamodb";
import * as fs from "fs";
import * as path from "path";
import { shortStackName, validateStageConfig } from "../config";
import { readStackConfig } from "../scripts/engine";
import { ActionContext, HttpCheck } from "./actions";
import { ClientPool } from "./clients";
import { writeConfigChanges } from "./config-changes";
import { executePlan } from "./executor";
import { Journal, JournalSinks, JournalTable, LockHeldError, findLocalJournal, newJournal, newRunId, runDirectory } from "./journal";
import { ACCOUNT_TOKEN, PromotionMode, PromotionPlan, PromotionStack, PromotionStacks, StepPermission } from "./model";
import { observeState } from "./observe";
import { buildPromotionPlan } from "./planner";
import { Clock, PollSettings } from "./poll";
import { RunReport, buildRunReport, earnedConfigChanges, renderPlan, renderRefusal, renderRunReport, writeRunReport } from "./report";
import { buildSteps } from "./steps";
import { TopologySource } from "./topology-source";

export interface PromoteOptions {
  readonly stack: string;
  readonly mode: PromotionMode;
  readonly dryRun: boolean;
  readonly yes: boolean;
  /** Continue a run from its journal: true for the newest unfinished one, or a run id. */
  readonly resume: boolean | string;
  readonly force: boolean;
  readonly writeConfig: boolean;
  /** Where Pulumi.<stack>.yaml live. */
  readonly configDir: string;
  /** Where out/dr/<stack>/ goes (the journal, plans, reports). */
  readonly outDir: string;
}

export interface PromoteDependencies {
  readonly topologies: TopologySource;
  readonly clients: ClientPool;
  /** The DynamoDB client for a region's journal table. */
  readonly journalClient: (region: string) => DynamoDBClient;
  readonly clock: Clock;
  readonly poll?: PollSettings;
  readonly httpCheck: HttpCheck;
  /** Asks the operator; only called without --yes. */
  readonly confirm: (question: string) => Promise<boolean>;
  readonly log: (text: string) => void;
  readonly renderer?: "default" | "simple" | "silent";
  readonly newRunId?: () => string;
}

export interface PromoteResult {
  /** 0 done (or a dry run without blockers), 1 failed or declined, 2 refused or blocked, 3 locked. */
  readonly exitCode: number;
  readonly plan?: PromotionPlan;
  readonly journal?: Journal;
  readonly report?: RunReport;
  readonly files: string[];
}

export const EXIT = { ok: 0, failed: 1, blocked: 2, locked: 3 } as const;

function loadStack(name: string, configDir: string, topology: PromotionStack["topology"]): PromotionStack {
  const file = `Pulumi.${name}.yaml`;
  return { name, config: validateStageConfig(readStackConfig(name, configDir), file), topology };
}

/** Reads both stacks: the named one becomes active, its topology's partner hands over. */
export async function loadStacks(stack: string, configDir: string, topologies: TopologySource): Promise<PromotionStacks> {
  const targetTopology = await topologies.load(stack);
  const sourceTopology = await topologies.load(targetTopology.partnerStack);
  return { target: loadStack(stack, configDir, targetTopology), source: loadStack(shortStackName(targetTopology.partnerStack), configDir, sourceTopology) };
}

/** What the journal needs besides the steps: its table in the target region (and the source's lock in planned mode). */
function journalPermissions(stacks: PromotionStacks, mode: PromotionMode): StepPermission[] {
  const tables = mode === "planned" ? [stacks.target.topology, stacks.source.topology] : [stacks.target.topology];
  return tables.flatMap((topology) =>
    ["dynamodb:GetItem", "dynamodb:PutItem", "dynamodb:DeleteItem", "dynamodb:Query"].map((action) => ({ action, resource: `arn:aws:dynamodb:${topology.region}:${ACCOUNT_TOKEN}:table/${topology.promotionJournalTable}` })),
  );
}

/** The promotion journal table a stack's topology names, in its region. */
function journalTableOf(topology: PromotionStack["topology"], journalClient: PromoteDependencies["journalClient"]): JournalTable {
  return new JournalTable(journalClient(topology.region), topology.promotionJournalTable, topology.region);
}

function journalSinks(stacks: PromotionStacks, mode: PromotionMode, outDir: string, journalClient: PromoteDependencies["journalClient"]): JournalSinks {
  const table = journalTableOf(stacks.target.topology, journalClient);
  return { outDir, table, lockTables: mode === "planned" ? [table, journalTableOf(stacks.source.topology, journalClient)] : [table] };
}

function writeFile(file: string, text: string): string {
  fs.mkdirSync(path.dirname(file), { recursive: true });
  fs.writeFileSync(file, text);
  return file;
}

async function findJournal(options: PromoteOptions, stacks: PromotionStacks, deps: PromoteDependencies): Promise<Journal | undefined> {
  const runId = typeof options.resume === "string" ? options.resume : undefined;
  const local = findLocalJournal(options.outDir, options.stack, runId);
  if (local) return local;
  // Another operator's machine started it: the target region's table has the journal too.
  const table = journalTableOf(stacks.target.topology, deps.journalClient);
  const id = runId ?? (await table.holder(stacks.target.topology.stage))?.runId;
  return id ? table.load(id) : undefined;
}

async function finish(journal: Journal, options: PromoteOptions, deps: PromoteDependencies, files: string[]): Promise<PromoteResult> {
  const written = options.writeConfig ? writeConfigChanges(earnedConfigChanges(journal), options.configDir) : [];
  const report = buildRunReport(journal, written);
  const text = renderRunReport(report);
  const paths = writeRunReport(options.outDir, report, text);
  deps.log(text);
  if (journal.status === "awaiting-follow-ups") deps.log(`Follow-ups wait for ${journal.plan.sourceRegion}: run again with --resume ${journal.runId} once it answers.\n`);
  const exitCode = journal.status === "failed" ? EXIT.failed : EXIT.ok;
  return { exitCode, plan: journal.plan, journal, report, files: [...files, paths.json, paths.text, ...written] };
}

export async function promote(options: PromoteOptions, deps: PromoteDependencies): Promise<PromoteResult> {
  const stacks = await loadStacks(options.stack, options.configDir, deps.topologies);
  const files = [writeFile(path.join(runDirectory(options.outDir, options.stack), "last-topology.json"), JSON.stringify({ [stacks.target.name]: stacks.target.topology, [stacks.source.name]: stacks.source.topology }, null, 2))];
  const context: ActionContext = { clients: deps.clients, clock: deps.clock, httpCheck: deps.httpCheck, ...(deps.poll ? { poll: deps.poll } : {}) };

  if (options.resume !== false) {
    const journal = await findJournal(options, stacks, deps);
    if (!journal) {
      deps.log(`No unfinished promotion of ${options.stack} to resume${typeof options.resume === "string" ? ` with run id ${options.resume}` : ""}.\n`);
      return { exitCode: EXIT.failed, files };
    }
    if (journal.status === "completed") {
      deps.log(`Run ${journal.runId} already completed.\n`);
      return { exitCode: EXIT.ok, journal, plan: journal.plan, files };
    }
    deps.log(`Resuming run ${journal.runId} (${journal.mode}, ${journal.status}).\n`);
    return runJournal(journal, stacks, options, deps, context, files, true);
  }

  const runId = deps.newRunId?.() ?? newRunId(new Date(deps.clock.now()));
  const draft = buildSteps({ stacks, mode: options.mode, warehouseSnapshot: "", runId });
  const state = await observeState({
    stacks,
    mode: options.mode,
    clients: deps.clients,
    permissions: [...draft.flatMap((step) => step.permissions), ...journalPermissions(stacks, options.mode)],
    now: () => new Date(deps.clock.now()),
  });
  const plan = buildPromotionPlan(stacks, state, options.mode, { force: options.force, runId });
  const directory = runDirectory(options.outDir, options.stack);
  files.push(writeFile(path.join(directory, `${runId}.plan.json`), JSON.stringify({ plan, state }, null, 2)));

  if (options.dryRun) {
    const text = renderPlan(plan);
    files.push(writeFile(path.join(directory, `${runId}.plan.txt`), text));
    deps.log(text);
    return { exitCode: plan.blockers.length ? EXIT.blocked : EXIT.ok, plan, files };
  }
  if (plan.blockers.length) {
    deps.log(renderRefusal(plan));
    return { exitCode: EXIT.blocked, plan, files };
  }
  if (!options.yes) {
    deps.log(renderPlan(plan));
    const accepted = await deps.confirm(`Promote ${stacks.target.name} (${plan.targetRegion}) in ${options.mode} mode now? [y/N] `);
    if (!accepted) {
      deps.log("Declined: nothing was changed.\n");
      return { exitCode: EXIT.failed, plan, files };
    }
  }
  const journal = newJournal(plan, runId, state.caller?.arn ?? "unknown", new Date(deps.clock.now()));
  return runJournal(journal, stacks, options, deps, context, files, false);
}

async function runJournal(journal: Journal, stacks: PromotionStacks, options: PromoteOptions, deps: PromoteDependencies, context: ActionContext, files: string[], runFollowUps: boolean): Promise<PromoteResult> {
  const sinks = journalSinks(stacks, journal.mode, options.outDir, deps.journalClient);
  try {
    const finished = await executePlan({ journal, sinks, context, runFollowUps, renderer: deps.renderer ?? "default" });
    return finish(finished, options, deps, files);
  } catch (error) {
    if (error instanceof LockHeldError) {
      deps.log(`${error.message}\n`);
      return { exitCode: EXIT.locked, plan: journal.plan, files };
    }
    throw error;
  }
}

/** --release-lock <run-id>: removes a dead run's lock from the tables this stack's promotions use. */
export async function releaseLock(options: Pick<PromoteOptions, "stack" | "configDir">, runId: string, deps: Pick<PromoteDependencies, "topologies" | "journalClient" | "log">): Promise<number> {
  const stacks = await loadStacks(options.stack, options.configDir, deps.topologies);
  let released = 0;
  for (const topology of [stacks.target.topology, stacks.source.topology]) {
    const table = journalTableOf(topology, deps.journalClient);
    try {
      if (await table.releaseLock(topology.stage, runId)) {
        released += 1;
        deps.log(`Released the lock of run ${runId} in ${topology.promotionJournalTable} (${topology.region}).\n`);
      }
    } catch (error) {
      deps.log(`Could not reach ${topology.promotionJournalTable} in ${topology.region}: ${(error as Error).message}\n`);
    }
  }
  if (released === 0) deps.log(`Run ${runId} held no lock.\n`);
  return released > 0 ? EXIT.ok : EXIT.failed;
}
