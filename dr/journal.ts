/**
 * The promotion journal: the frozen plan and every step's record, written after every
 * step to a local file (out/dr/<stack>/<run-id>.journal.json) and to the target region's
 * journal table, so that --resume continues from where a run stopped, even from another
 * operator's machine. The table also holds the lock that keeps two operators from
 * promoting one stage at once.
 *
 * Table layout (PAY_PER_REQUEST, key pk (S) + sk (S)):
 *   pk "LOCK#<stage>"   sk "LOCK"                    runId, stack, mode, operator, acquiredAt
 *   pk "RUN#<runId>"    sk "RUN"                     stack, sourceStack, stage, mode, status, operator,
 *                                                    createdAt, updatedAt, startedAt, healthyAt,
 *                                                    measuredRtoSeconds, plan (JSON)
 *   pk "RUN#<runId>"    sk "STEP#<nnn>#<stepId>"     status, attempts, actionTaken, startedAt, endedAt,
 *                                                    detail, error, outputs (JSON)
 * The lock is taken with a conditional PutItem (absent, or already ours) and released with
 * a conditional DeleteItem (only by its run); a crashed run keeps it until --resume
 * finishes that run or an operator releases it with --release-lock <run-id>.
 */
import { ConditionalCheckFailedException, DeleteItemCommand, DynamoDBClient, GetItemCommand, PutItemCommand, QueryCommand } from "@aws-sdk/client-dynamodb";
import { marshall, unmarshall } from "@aws-sdk/util-dynamodb";
import * as fs from "fs";
import * as path from "path";
import { errorName } from "./errors";
import { PromotionMode, PromotionPlan } from "./model";

export type StepStatus = "pending" | "running" | "succeeded" | "failed" | "deferred";
export type RunStatus = "running" | "completed" | "failed" | "awaiting-follow-ups";

export interface StepRecord {
  readonly id: string;
  status: StepStatus;
  attempts: number;
  /** Whether any attempt issued the step's mutating call. */
  actionTaken: boolean;
  startedAt?: string;
  endedAt?: string;
  detail?: string;
  error?: string;
  outputs?: Record<string, string>;
}

export interface Journal {
  readonly version: 1;
  readonly runId: string;
  readonly stack: string;
  readonly sourceStack: string;
  readonly stage: string;
  readonly mode: PromotionMode;
  readonly operator: string;
  readonly createdAt: string;
  status: RunStatus;
  updatedAt: string;
  /** When execution started (after confirmation): the start of the measured RTO. */
  startedAt?: string;
  /** When the health check passed: the end of the measured RTO. */
  healthyAt?: string;
  measuredRtoSeconds?: number;
  readonly plan: PromotionPlan;
  readonly steps: StepRecord[];
}

export function newJournal(plan: PromotionPlan, runId: string, operator: string, now: Date): Journal {
  return {
    version: 1,
    runId,
    stack: plan.targetStack,
    sourceStack: plan.sourceStack,
    stage: plan.stage,
    mode: plan.mode,
    operator,
    createdAt: now.toISOString(),
    status: "running",
    updatedAt: now.toISOString(),
    plan,
    steps: plan.steps.map((step) => ({ id: step.id, status: "pending", attempts: 0, actionTaken: false })),
  };
}

/** A run id that sorts by time: 20261201T100000Z-3f9a. */
export function newRunId(now: Date, random: () => number = Math.random): string {
  const stamp = now.toISOString().replace(/[-:]/g, "").replace(/\.\d+/, "");
  return `${stamp}-${Math.floor(random() * 0x10000).toString(16).padStart(4, "0")}`;
}

// ---- Local file -------------------------------------------------------------------------------

export function runDirectory(outDir: string, stack: string): string {
  return path.join(outDir, "dr", stack);
}

export function journalPath(outDir: string, stack: string, runId: string): string {
  return path.join(runDirectory(outDir, stack), `${runId}.journal.json`);
}

export function writeLocalJournal(outDir: string, journal: Journal): string {
  const file = journalPath(outDir, journal.stack, journal.runId);
  fs.mkdirSync(path.dirname(file), { recursive: true });
  // Write then rename, so a crash mid-write never leaves half a journal.
  const temporary = `${file}.tmp-${process.pid}`;
  fs.writeFileSync(temporary, JSON.stringify(journal, null, 2));
  fs.renameSync(temporary, file);
  return file;
}

export function readLocalJournal(file: string): Journal {
  const journal = JSON.parse(fs.readFileSync(file, "utf8")) as Journal;
  if (journal.version !== 1 || !journal.plan || !Array.isArray(journal.steps)) throw new Error(`${file} is not a promotion journal`);
  return journal;
}

/** The newest local journal of a stack that is not completed, or the one of `runId`. */
export function findLocalJournal(outDir: string, stack: string, runId?: string): Journal | undefined {
  const directory = runDirectory(outDir, stack);
  if (runId) {
    const file = journalPath(outDir, stack, runId);
    return fs.existsSync(file) ? readLocalJournal(file) : undefined;
  }
  if (!fs.existsSync(directory)) return undefined;
  const files = fs.readdirSync(directory).filter((name) => name.endsWith(".journal.json")).sort().reverse();
  for (const name of files) {
    const journal = readLocalJournal(path.join(directory, name));
    if (journal.status !== "completed") return journal;
  }
  return undefined;
}

// ---- The journal table ------------------------------------------------------------------------

export interface LockHolder {
  readonly runId: string;
  readonly stack: string;
  readonly mode: string;
  readonly operator: string;
  readonly acquiredAt: string;
}

export class LockHeldError extends Error {
  constructor(readonly table: string, readonly region: string, readonly holder: LockHolder | undefined) {
    super(
      holder
        ? `Another promotion holds the lock in ${table} (${region}): run ${holder.runId} of ${holder.stack} (${holder.mode}) by ${holder.operator} since ${holder.acquiredAt}. Resume it with --resume ${holder.runId}, or release it with --release-lock ${holder.runId} once you are sure it is dead.`
        : `Another promotion holds the lock in ${table} (${region}).`,
    );
    this.name = "LockHeldError";
  }
}

const lockKey = (stage: string) => ({ pk: `LOCK#${stage}`, sk: "LOCK" });
const runKey = (runId: string) => ({ pk: `RUN#${runId}`, sk: "RUN" });
const stepKey = (runId: string, index: number, stepId: string) => ({ pk: `RUN#${runId}`, sk: `STEP#${String(index).padStart(3, "0")}#${stepId}` });

/** One region's journal table. */
export class JournalTable {
  constructor(
    private readonly client: DynamoDBClient,
    readonly tableName: string,
    readonly region: string,
  ) {}

  async holder(stage: string): Promise<LockHolder | undefined> {
    const { Item } = await this.client.send(new GetItemCommand({ TableName: this.tableName, Key: marshall(lockKey(stage)), ConsistentRead: true }));
    return Item ? (unmarshall(Item) as LockHolder) : undefined;
  }

  /** Takes the stage's lock for `runId`, or confirms it already holds it; throws LockHeldError otherwise. */
  async acquireLock(stage: string, holder: LockHolder): Promise<void> {
    try {
      await this.client.send(
        new PutItemCommand({
          TableName: this.tableName,
          Item: marshall({ ...lockKey(stage), ...holder }),
          ConditionExpression: "attribute_not_exists(pk) OR runId = :runId",
          ExpressionAttributeValues: marshall({ ":runId": holder.runId }),
        }),
      );
    } catch (error) {
      if (error instanceof ConditionalCheckFailedException || errorName(error) === "ConditionalCheckFailedException") {
        throw new LockHeldError(this.tableName, this.region, await this.holder(stage));
      }
      throw error;
    }
  }

  /** Releases the lock if `runId` holds it; returns whether it did. */
  async releaseLock(stage: string, runId: string): Promise<boolean> {
    try {
      await this.client.send(
        new DeleteItemCommand({ TableName: this.tableName, Key: marshall(lockKey(stage)), ConditionExpression: "runId = :runId", ExpressionAttributeValues: marshall({ ":runId": runId }) }),
      );
      return true;
    } catch (error) {
      if (errorName(error) === "ConditionalCheckFailedException") return false;
      throw error;
    }
  }

  async saveRun(journal: Journal): Promise<void> {
    const { plan, steps, ...run } = journal;
    void steps;
    await this.client.send(new PutItemCommand({ TableName: this.tableName, Item: marshall({ ...runKey(journal.runId), ...run, plan: JSON.stringify(plan) }, { removeUndefinedValues: true }) }));
  }

  async saveStep(journal: Journal, stepId: string): Promise<void> {
    const index = journal.steps.findIndex((record) => record.id === stepId);
    const { outputs, ...record } = journal.steps[index];
    await this.client.send(
      new PutItemCommand({
        TableName: this.tableName,
        Item: marshall({ ...stepKey(journal.runId, index, stepId), ...record, ...(outputs ? { outputs: JSON.stringify(outputs) } : {}) }, { removeUndefinedValues: true }),
      }),
    );
  }

  /** Reads a run back (for --resume on a machine without the local journal). */
  async load(runId: string): Promise<Journal | undefined> {
    const items: Record<string, unknown>[] = [];
    let start: Record<string, any> | undefined;
    do {
      const page = await this.client.send(
        new QueryCommand({ TableName: this.tableName, KeyConditionExpression: "pk = :pk", ExpressionAttributeValues: marshall({ ":pk": `RUN#${runId}` }), ConsistentRead: true, ExclusiveStartKey: start }),
      );
      items.push(...(page.Items ?? []).map((item) => unmarshall(item)));
      start = page.LastEvaluatedKey;
    } while (start);
    const run = items.find((item) => item.sk === "RUN");
    if (!run) return undefined;
    const plan = JSON.parse(run.plan as string) as PromotionPlan;
    const stored = new Map(items.filter((item) => String(item.sk).startsWith("STEP#")).map((item) => [String(item.id), item]));
    const steps = plan.steps.map((step): StepRecord => {
      const item = stored.get(step.id);
      if (!item) return { id: step.id, status: "pending", attempts: 0, actionTaken: false };
      const { pk, sk, outputs, ...record } = item;
      void pk;
      void sk;
      return { ...(record as unknown as StepRecord), ...(outputs ? { outputs: JSON.parse(String(outputs)) } : {}) };
    });
    const { pk, sk, plan: _plan, ...fields } = run;
    void pk;
    void sk;
    void _plan;
    return { ...(fields as unknown as Journal), plan, steps };
  }
}

/**
 * Where a run's journal goes: the local file always, the target region's table for the
 * run and its steps, and the lock in every table of `lockTables` (the target's, plus the
 * source's in planned mode, so a failback cannot start while a promotion runs).
 */
export interface JournalSinks {
  readonly outDir: string;
  readonly table?: JournalTable;
  readonly lockTables: JournalTable[];
}

export async function persist(sinks: JournalSinks, journal: Journal, stepId?: string): Promise<void> {
  journal.updatedAt = new Date().toISOString();
  writeLocalJournal(sinks.outDir, journal);
  if (sinks.table) {
    if (stepId) await sinks.table.saveStep(journal, stepId);
    await sinks.table.saveRun(journal);
  }
}
