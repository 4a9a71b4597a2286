/**
 * Loads one staged S3 object into a Redshift table through the Redshift Data API:
 * COPY into a session temp table, keep one row per key, MERGE (upsert) into the
 * target and record the object in a load-history table, all in ONE transaction
 * (BatchExecuteStatement runs its statements as a single transaction), so a load
 * either lands completely with its history row or not at all.
 *
 * Re-delivery is a no-op: the deduplicated staging set is empty when the history
 * already holds the object's key and ETag, so the MERGE changes nothing and the
 * history insert is skipped. Two concurrent deliveries of one object collide under
 * Redshift's serializable isolation; the loser fails, is retried, and then skips.
 *
 * A manifest that names no files is an empty load unit: it is recorded in the history
 * with no rows and never reaches COPY. Folder markers and zero-byte objects are skipped.
 *
 * The Data API client is injected, so tests script it; everything that decides what
 * SQL runs is a pure function, tested on its own and (except COPY) against PostgreSQL.
 */
import {
  BatchExecuteStatementCommand,
  CancelStatementCommand,
  DescribeStatementCommand,
  DescribeStatementCommandOutput,
} from "@aws-sdk/client-redshift-data";
import type { S3ObjectCreatedNotificationEvent } from "aws-lambda";
import { NamedError, namedError } from "./errors";
import { decodeS3EventKey } from "./lake-layout";
import { nothingToProcess } from "./lake-objects";

export type StagedFormat = "JSON" | "CSV" | "PARQUET";

/** Where objects under one key prefix of the staged bucket are loaded. */
export interface LoadTarget {
  /** Object keys starting with this prefix load into this table, e.g. "warehouse/sales/orders/". */
  readonly prefix: string;
  readonly schema: string;
  readonly table: string;
  /** Every column the staged files carry, in the target's order. */
  readonly columns: readonly string[];
  /** Columns identifying a row; MERGE matches on them. */
  readonly keyColumns: readonly string[];
  /** Among rows of one object sharing a key, the one with the greatest value here wins. @default the key columns (any one row wins) */
  readonly orderColumn?: string;
  /** @default inferred from the object key's extension (.json/.jsonl/.ndjson, .csv, .parquet; optionally .gz); required with manifests */
  readonly format?: StagedFormat;
  /**
   * The claimed objects are COPY manifests naming the data files of one load unit
   * (COPY ... MANIFEST), rather than data files themselves. @default false
   */
  readonly manifest?: boolean;
  /** Data files are gzip-compressed; inferred from a ".gz" key when not a manifest. @default false */
  readonly gzip?: boolean;
  /**
   * Who hands the loader this prefix's objects: the staged bucket's "Object Created" events,
   * or a workflow that invokes the loader itself (the batch pipeline, which must know the
   * load finished before it moves on; an event rule for its prefix would load it twice).
   * @default "event"
   */
  readonly trigger?: "event" | "workflow";
}

export interface TableName {
  readonly schema: string;
  readonly table: string;
}

/** One object the staged bucket reported as created. */
export interface StagedObject {
  readonly bucket: string;
  /** The object's key as S3 stores it (decoded from the event). */
  readonly key: string;
  readonly etag: string;
  readonly region: string;
  /** Bytes, when the event says. */
  readonly size?: number;
}

export interface LoadPlan {
  readonly target: LoadTarget;
  readonly object: StagedObject;
  /** Role the warehouse assumes to read the staged bucket (its default IAM role). */
  readonly copyRoleArn: string;
  readonly historyTable: TableName;
  readonly loadedAt: Date;
}

export type LoadStep = "create-history-schema" | "create-history" | "create-staging" | "copy" | "deduplicate" | "merge" | "record-load";

export interface NamedStatement {
  readonly step: LoadStep;
  readonly sql: string;
}

/** The default load-history table. */
export const DEFAULT_HISTORY_TABLE: TableName = { schema: "etl", table: "load_history" };

// Temp tables live in the batch's own session, so fixed names cannot collide between loads.
const RAW_STAGING_TABLE = "loader_staged_rows";
const STAGING_TABLE = "loader_latest_rows";
const MAX_IDENTIFIER_BYTES = 127;
// eslint-disable-next-line no-control-regex
const CONTROL_CHARACTERS = /[\u0000-\u001f\u007f]/;

/**
 * Quotes an identifier for Redshift and PostgreSQL alike: wrapped in double quotes,
 * embedded quotes doubled. Names no quoting could make safe are refused.
 */
export function quoteIdentifier(name: string): string {
  if (name.length === 0) throw new Error("Refusing an empty SQL identifier");
  if (CONTROL_CHARACTERS.test(name)) throw new Error(`Refusing SQL identifier ${JSON.stringify(name)}: it contains a control character`);
  if (Buffer.byteLength(name, "utf8") > MAX_IDENTIFIER_BYTES) {
    throw new Error(`Refusing SQL identifier ${JSON.stringify(name)}: longer than ${MAX_IDENTIFIER_BYTES} bytes`);
  }
  return `"${name.replace(/"/g, '""')}"`;
}

/**
 * Quotes a string literal, embedded single quotes doubled. Redshift reads a backslash
 * in a literal as an escape while PostgreSQL (standard_conforming_strings) does not,
 * so a literal holding one has no single safe spelling: it is refused, as are control
 * characters. The Data API's batch call takes no bind parameters, hence literals.
 */
export function quoteLiteral(value: string): string {
  if (value.includes("\\")) throw new Error(`Refusing SQL literal ${JSON.stringify(value)}: it contains a backslash`);
  if (CONTROL_CHARACTERS.test(value)) throw new Error(`Refusing SQL literal ${JSON.stringify(value)}: it contains a control character`);
  return `'${value.replace(/'/g, "''")}'`;
}

export function qualifiedName(name: TableName): string {
  return `${quoteIdentifier(name.schema)}.${quoteIdentifier(name.table)}`;
}

/** A timestamp literal both dialects parse, in UTC. */
export function timestampLiteral(at: Date): string {
  return `CAST(${quoteLiteral(at.toISOString().replace("T", " ").replace("Z", ""))} AS TIMESTAMP)`;
}

export function inferFormat(key: string): StagedFormat | undefined {
  const name = key.toLowerCase().replace(/\.gz$/, "");
  if (/\.(json|jsonl|ndjson)$/.test(name)) return "JSON";
  if (name.endsWith(".csv")) return "CSV";
  if (name.endsWith(".parquet")) return "PARQUET";
  return undefined;
}

/** Everything wrong with a load target, as sentences; empty when it is usable. */
export function loadTargetProblems(target: LoadTarget): string[] {
  const problems: string[] = [];
  const where = `${target.schema}.${target.table}`;
  if (target.prefix.length === 0) problems.push(`${where}: prefix must not be empty (it would claim every staged object)`);
  if (target.columns.length === 0) problems.push(`${where}: columns must not be empty`);
  if (new Set(target.columns).size !== target.columns.length) problems.push(`${where}: columns must be unique`);
  if (target.keyColumns.length === 0) problems.push(`${where}: keyColumns must name at least one column`);
  for (const key of target.keyColumns) {
    if (!target.columns.includes(key)) problems.push(`${where}: key column "${key}" is not one of the columns`);
  }
  if (target.columns.every((column) => target.keyColumns.includes(column))) {
    problems.push(`${where}: at least one column must be outside the key (Redshift MERGE needs a WHEN MATCHED update)`);
  }
  if (target.orderColumn !== undefined && !target.columns.includes(target.orderColumn)) {
    problems.push(`${where}: orderColumn "${target.orderColumn}" is not one of the columns`);
  }
  if (target.manifest && target.format === undefined) problems.push(`${where}: a manifest target needs its data files' format`);
  return problems;
}

/** The target whose prefix claims `key` (the longest prefix wins), if any. */
export function targetFor(key: string, targets: readonly LoadTarget[]): LoadTarget | undefined {
  return targets
    .filter((target) => key.startsWith(target.prefix))
    .sort((a, b) => b.prefix.length - a.prefix.length)[0];
}

function copyStatement(plan: LoadPlan, format: StagedFormat, columns: string): string {
  const { object, target } = plan;
  // Without MANIFEST, COPY reads its path as a prefix; since the load is an upsert, a key
  // that prefixes another only re-upserts that object's rows, which its own load writes anyway.
  const source = quoteLiteral(`s3://${object.bucket}/${object.key}`);
  const gzip = target.gzip ?? (!target.manifest && object.key.toLowerCase().endsWith(".gz"));
  const compression = gzip && format !== "PARQUET" ? " GZIP" : "";
  const manifest = target.manifest ? " MANIFEST" : "";
  const formatClause = {
    JSON: ` FORMAT AS JSON 'auto' TIMEFORMAT 'auto'${compression}`,
    CSV: ` FORMAT AS CSV IGNOREHEADER 1 TIMEFORMAT 'auto'${compression}`,
    PARQUET: " FORMAT AS PARQUET",
  }[format];
  // CSV columns are positional, so they are named; JSON 'auto' and Parquet match by name.
  const columnList = format === "CSV" ? ` (${columns})` : "";
  return `COPY ${RAW_STAGING_TABLE}${columnList} FROM ${source} IAM_ROLE ${quoteLiteral(plan.copyRoleArn)} REGION ${quoteLiteral(object.region)}${manifest}${formatClause}`;
}

/** The load-history table, created when missing, and the condition "this object (key and ETag) is already loaded". */
function loadHistory(plan: LoadPlan): { table: string; alreadyLoaded: string; create: NamedStatement[] } {
  const table = qualifiedName(plan.historyTable);
  const { object } = plan;
  return {
    table,
    alreadyLoaded: `SELECT 1 FROM ${table} WHERE object_key = ${quoteLiteral(object.key)} AND etag = ${quoteLiteral(object.etag)}`,
    create: [
      { step: "create-history-schema", sql: `CREATE SCHEMA IF NOT EXISTS ${quoteIdentifier(plan.historyTable.schema)}` },
      {
        step: "create-history",
        sql: `CREATE TABLE IF NOT EXISTS ${table} (object_key VARCHAR(1024) NOT NULL, etag VARCHAR(128) NOT NULL, row_count BIGINT NOT NULL, loaded_at TIMESTAMP NOT NULL, PRIMARY KEY (object_key, etag))`,
      },
    ],
  };
}

/**
 * The statements of one load, in order. Run them as one batch (one transaction).
 * Identifiers and literals are quoted here; nothing from the event is pasted raw.
 */
export function buildLoadStatements(plan: LoadPlan): NamedStatement[] {
  const problems = loadTargetProblems(plan.target);
  if (problems.length > 0) throw new Error(`Invalid load target: ${problems.join("; ")}`);
  const { target, object } = plan;
  const format = target.format ?? inferFormat(object.key);
  if (format === undefined) throw new Error(`Cannot tell the format of s3://${object.bucket}/${object.key}; set the target's format`);

  const targetTable = qualifiedName(target);
  const history = loadHistory(plan);
  const columns = target.columns.map(quoteIdentifier);
  const columnList = columns.join(", ");
  const keys = target.keyColumns.map(quoteIdentifier);
  const order = target.orderColumn !== undefined ? quoteIdentifier(target.orderColumn) : keys.join(", ");
  const updates = target.columns
    .filter((column) => !target.keyColumns.includes(column))
    .map((column) => `${quoteIdentifier(column)} = src.${quoteIdentifier(column)}`);

  return [
    ...history.create,
    { step: "create-staging", sql: `CREATE TEMP TABLE ${RAW_STAGING_TABLE} (LIKE ${targetTable})` },
    { step: "copy", sql: copyStatement(plan, format, columnList) },
    {
      // One row per key (MERGE refuses two source rows for one target row), and none at all on re-delivery.
      step: "deduplicate",
      sql:
        `CREATE TEMP TABLE ${STAGING_TABLE} AS SELECT ${columnList} FROM ` +
        `(SELECT ${columnList}, ROW_NUMBER() OVER (PARTITION BY ${keys.join(", ")} ORDER BY ${order} DESC) AS loader_row_number FROM ${RAW_STAGING_TABLE}) ranked ` +
        `WHERE loader_row_number = 1 AND NOT EXISTS (${history.alreadyLoaded})`,
    },
    {
      step: "merge",
      sql:
        `MERGE INTO ${targetTable} AS tgt USING ${STAGING_TABLE} AS src ON ${keys.map((key) => `tgt.${key} = src.${key}`).join(" AND ")} ` +
        `WHEN MATCHED THEN UPDATE SET ${updates.join(", ")} ` +
        `WHEN NOT MATCHED THEN INSERT (${columnList}) VALUES (${columns.map((column) => `src.${column}`).join(", ")})`,
    },
    {
      step: "record-load",
      sql:
        `INSERT INTO ${history.table} (object_key, etag, row_count, loaded_at) ` +
        `SELECT ${quoteLiteral(object.key)}, ${quoteLiteral(object.etag)}, staged.row_count, ${timestampLiteral(plan.loadedAt)} ` +
        `FROM (SELECT COUNT(*) AS row_count FROM ${STAGING_TABLE}) staged WHERE NOT EXISTS (${history.alreadyLoaded})`,
    },
  ];
}

/**
 * An empty load unit (a manifest naming no files) recorded as loaded with no rows, with
 * no COPY: Redshift's COPY stops on a manifest that names no files, and a unit that
 * failed on every retry would only fill the dead-letter queue. The history row makes the
 * no-op visible next to real loads, and a re-delivery records nothing twice.
 */
export function buildEmptyLoadStatements(plan: LoadPlan): NamedStatement[] {
  const history = loadHistory(plan);
  const { object } = plan;
  return [
    ...history.create,
    {
      step: "record-load",
      sql:
        `INSERT INTO ${history.table} (object_key, etag, row_count, loaded_at) ` +
        `SELECT ${quoteLiteral(object.key)}, ${quoteLiteral(object.etag)}, 0, ${timestampLiteral(plan.loadedAt)} WHERE NOT EXISTS (${history.alreadyLoaded})`,
    },
  ];
}

/** How many files a COPY manifest names; anything else is refused with the reason. */
export function manifestEntryCount(text: string, where: string): number {
  let manifest: unknown;
  try {
    manifest = JSON.parse(text);
  } catch (error) {
    throw new Error(`${where} is not a COPY manifest: ${(error as Error).message}`);
  }
  const entries = (manifest as { entries?: unknown } | null)?.entries;
  if (!Array.isArray(entries)) throw new Error(`${where} is not a COPY manifest: it has no "entries" list`);
  return entries.length;
}

/**
 * The object an EventBridge "Object Created" event names, its key decoded.
 *
 * Is `detail.object.key` URL-encoded, as S3 notification keys are? S3's EventBridge
 * event reference does not say (https://docs.aws.amazon.com/AmazonS3/latest/userguide/ev-events.html
 * shows only "example-key"). AWS's own event libraries decode it exactly as they decode
 * notification keys, form-style ("+" is a space): Powertools for AWS Lambda (Python),
 * S3EventBridgeNotificationObject.key returns unquote_plus(key)
 * (aws-powertools/powertools-lambda-python, aws_lambda_powertools/utilities/data_classes/s3_event.py),
 * and OpenSearch Data Prepper's S3EventBridgeNotification.Object.getUrlDecodedKey() URL-decodes it
 * (opensearch-project/data-prepper, data-prepper-plugins/s3-source, S3EventBridgeNotification.java).
 * So the loader decodes it with the lake's decodeS3EventKey; tests/warehouse-loader.test.ts
 * sends keys with a space, a "+", a "%" and a non-ASCII character through it.
 */
export function stagedObjectOf(event: S3ObjectCreatedNotificationEvent): StagedObject {
  const { bucket, object } = event.detail ?? ({} as S3ObjectCreatedNotificationEvent["detail"]);
  if (!bucket?.name || !object?.key || !object?.etag) {
    throw new Error(`Not an S3 "Object Created" event with bucket, key and etag: ${JSON.stringify(event).slice(0, 500)}`);
  }
  return { bucket: bucket.name, key: decodeS3EventKey(object.key), etag: object.etag, region: event.region, size: object.size };
}

// ---- Redshift Data API ----------------------------------------------------------

/** The slice of RedshiftDataClient the loader uses. */
export interface DataApiClient {
  send(command: BatchExecuteStatementCommand | DescribeStatementCommand | CancelStatementCommand): Promise<unknown>;
}

/** A provisioned cluster or a Serverless workgroup; the Data API authenticates the caller's IAM identity. */
export type WarehouseTarget = { readonly clusterIdentifier: string } | { readonly workgroupName: string };

export interface PollOptions {
  /** Give up (and cancel the statement) after this long; keep it below the function timeout. */
  readonly timeoutMs: number;
  /** @default 250 */
  readonly initialDelayMs?: number;
  /** @default 2000 */
  readonly maxDelayMs?: number;
  /** @default Date.now */
  readonly now?: () => number;
  /** @default a real timer */
  readonly sleep?: (ms: number) => Promise<void>;
}

/** A batch that Redshift reports FAILED or ABORTED: which statement, which step, and Redshift's own message. */
export type StatementFailedError = NamedError<
  "StatementFailedError",
  { readonly statementId: string; readonly status: string; readonly failedStep: string | undefined; readonly sqlError: string }
>;

/** A batch still running when the poll timeout ran out (it has been cancelled). */
export type StatementTimeoutError = NamedError<"StatementTimeoutError", { readonly statementId: string; readonly lastStatus: string }>;

export function statementFailedError(statementId: string, status: string, failedStep: string | undefined, sqlError: string): StatementFailedError {
  const where = failedStep ? ` at step "${failedStep}"` : "";
  return namedError("StatementFailedError", `Redshift statement ${statementId} ${status.toLowerCase()}${where}: ${sqlError}`, { statementId, status, failedStep, sqlError });
}

export function statementTimeoutError(statementId: string, lastStatus: string): StatementTimeoutError {
  return namedError("StatementTimeoutError", `Redshift statement ${statementId} still ${lastStatus} when the poll timeout ran out; it was cancelled`, { statementId, lastStatus });
}

const realSleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/** Names the failing sub-statement of a batch: sub-statement ids are "<batch id>:<1-based index>". */
function failedStepOf(description: DescribeStatementCommandOutput, stepNames: readonly string[]): { step?: string; error?: string } {
  const failed = (description.SubStatements ?? []).find((sub) => sub.Status === "FAILED" || sub.Error);
  if (failed === undefined) return {};
  const index = Number(failed.Id?.split(":").pop()) - 1;
  return { step: stepNames[index] ?? failed.Id, error: failed.Error };
}

/**
 * Polls DescribeStatement with exponential backoff until the statement finishes.
 * Throws a StatementFailedError (with the statement id, the failing step and Redshift's
 * message) on FAILED/ABORTED, and a StatementTimeoutError after cancelling it when the
 * timeout runs out.
 */
export async function waitForStatement(
  client: DataApiClient,
  statementId: string,
  options: PollOptions,
  stepNames: readonly string[] = [],
): Promise<DescribeStatementCommandOutput> {
  const now = options.now ?? Date.now;
  const sleep = options.sleep ?? realSleep;
  const deadline = now() + options.timeoutMs;
  let delay = options.initialDelayMs ?? 250;
  for (;;) {
    const description = (await client.send(new DescribeStatementCommand({ Id: statementId }))) as DescribeStatementCommandOutput;
    const status = description.Status ?? "UNKNOWN";
    if (status === "FINISHED") return description;
    if (status === "FAILED" || status === "ABORTED") {
      const failed = failedStepOf(description, stepNames);
      throw statementFailedError(statementId, status, failed.step, failed.error ?? description.Error ?? "no error message");
    }
    if (now() + delay > deadline) {
      // A cancelled batch rolls back as one transaction, so the retry starts clean.
      await client.send(new CancelStatementCommand({ Id: statementId })).catch(() => undefined);
      throw statementTimeoutError(statementId, status);
    }
    await sleep(delay);
    delay = Math.min(delay * 2, options.maxDelayMs ?? 2000);
  }
}

export interface LoaderSettings {
  readonly warehouse: WarehouseTarget;
  readonly database: string;
  readonly copyRoleArn: string;
  readonly targets: readonly LoadTarget[];
  /** @default DEFAULT_HISTORY_TABLE */
  readonly historyTable?: TableName;
  readonly poll: PollOptions;
  /** @default () => new Date() */
  readonly clock?: () => Date;
}

/**
 * "committed" covers re-deliveries too: their transaction commits without changing
 * anything. "empty" is a load unit that named no files, recorded as a no-op; "skipped"
 * is an object that is no load unit at all (a folder marker or a zero-byte object).
 */
export type LoadOutcome =
  | { readonly status: "ignored" | "skipped"; readonly key: string; readonly reason: string }
  | { readonly status: "committed" | "empty"; readonly key: string; readonly statementId: string; readonly target: string };

/** What the loader talks to: the Data API, and S3 to read a manifest before it is loaded. */
export interface LoaderClients {
  readonly dataApi: DataApiClient;
  /** The text of an object of the staged bucket. */
  readonly readObject: (bucket: string, key: string) => Promise<string>;
}

async function runBatch(settings: LoaderSettings, client: DataApiClient, target: LoadTarget, statements: NamedStatement[]): Promise<string> {
  const submitted = (await client.send(
    new BatchExecuteStatementCommand({
      ...("workgroupName" in settings.warehouse
        ? { WorkgroupName: settings.warehouse.workgroupName }
        : { ClusterIdentifier: settings.warehouse.clusterIdentifier }),
      Database: settings.database,
      Sqls: statements.map((statement) => statement.sql),
      // Statement names show up in the console and in STL/SYS views; keep them traceable to the object.
      StatementName: `load ${target.schema}.${target.table}`.slice(0, 500),
    }),
  )) as { Id?: string };
  if (!submitted.Id) throw new Error("BatchExecuteStatement returned no statement id");
  await waitForStatement(client, submitted.Id, settings.poll, statements.map((statement) => statement.step));
  return submitted.Id;
}

/**
 * Handles one "Object Created" event: loads the object into the table its prefix
 * maps to, ignores it when no target claims it, and skips folder markers and zero-byte
 * objects. Throws on any failure, so that Lambda's retries and the failure destination
 * see it.
 */
export async function loadStagedObject(event: S3ObjectCreatedNotificationEvent, settings: LoaderSettings, clients: LoaderClients): Promise<LoadOutcome> {
  const object = stagedObjectOf(event);
  const nothing = nothingToProcess(object.key, object.size);
  if (nothing !== undefined) return { status: "skipped", key: object.key, reason: `${nothing}: not a load unit` };
  const target = targetFor(object.key, settings.targets);
  if (target === undefined) return { status: "ignored", key: object.key, reason: "no load target claims this prefix" };

  const plan: LoadPlan = {
    target,
    object,
    copyRoleArn: settings.copyRoleArn,
    historyTable: settings.historyTable ?? DEFAULT_HISTORY_TABLE,
    loadedAt: (settings.clock ?? (() => new Date()))(),
  };
  const where = `s3://${object.bucket}/${object.key}`;
  const empty = target.manifest === true && manifestEntryCount(await clients.readObject(object.bucket, object.key), where) === 0;
  const statementId = await runBatch(settings, clients.dataApi, target, empty ? buildEmptyLoadStatements(plan) : buildLoadStatements(plan));
  return { status: empty ? "empty" : "committed", key: object.key, statementId, target: `${target.schema}.${target.table}` };
}

/** Reads the settings the component puts in the function's environment; names every missing one. */
export function loaderSettingsFromEnv(env: Readonly<Record<string, string | undefined>>): LoaderSettings {
  const missing = ["WAREHOUSE_DATABASE", "COPY_ROLE_ARN", "LOAD_TARGETS", "POLL_TIMEOUT_MS"].filter((name) => !env[name]);
  if (!env.WAREHOUSE_WORKGROUP && !env.WAREHOUSE_CLUSTER_ID) missing.push("WAREHOUSE_WORKGROUP or WAREHOUSE_CLUSTER_ID");
  if (missing.length > 0) throw new Error(`Missing environment: ${missing.join(", ")}`);
  const targets = JSON.parse(env.LOAD_TARGETS as string) as LoadTarget[];
  const problems = targets.flatMap(loadTargetProblems);
  if (problems.length > 0) throw new Error(`Invalid LOAD_TARGETS: ${problems.join("; ")}`);
  const [historySchema, historyTable] = (env.HISTORY_TABLE ?? "").split(".");
  return {
    warehouse: env.WAREHOUSE_WORKGROUP ? { workgroupName: env.WAREHOUSE_WORKGROUP } : { clusterIdentifier: env.WAREHOUSE_CLUSTER_ID as string },
    database: env.WAREHOUSE_DATABASE as string,
    copyRoleArn: env.COPY_ROLE_ARN as string,
    targets,
    historyTable: historySchema && historyTable ? { schema: historySchema, table: historyTable } : DEFAULT_HISTORY_TABLE,
    poll: { timeoutMs: Number(env.POLL_TIMEOUT_MS) },
  };
}
