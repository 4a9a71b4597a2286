/**
 * A local stand-in for the Redshift Data API that runs the warehouse loader's SQL on a
 * real PostgreSQL, so the shipped loader (functions/warehouse-loader.ts) runs unchanged
 * against `AWS_ENDPOINT_URL_REDSHIFT_DATA`.
 *
 * Protocol: AWS JSON 1.1, as @aws-sdk/client-redshift-data sends it (POST /, header
 * `X-Amz-Target: RedshiftData.<Action>`, content-type application/x-amz-json-1.1;
 * timestamps as epoch seconds; errors as `{ "__type": "<Name>", "Message": … }` with the
 * status the SDK's error schema gives: ValidationException 400, ResourceNotFoundException 404).
 * Actions: BatchExecuteStatement, DescribeStatement (a batch, or one sub-statement `<id>:<n>`),
 * CancelStatement; field names and status values from the Data API reference
 * (https://docs.aws.amazon.com/redshift-data/latest/APIReference/API_DescribeStatement.html).
 *
 * Execution: a batch answers at once with its Id, then runs on its own PostgreSQL session
 * in ONE transaction (BEGIN … COMMIT; ROLLBACK at the first failure), as the Data API runs
 * a batch. Status SUBMITTED → PICKED → STARTED → FINISHED | FAILED | ABORTED; the failing
 * sub-statement carries Redshift-style `ERROR: <message>`, and so does the batch's Error.
 * Sub-statements after a failure or a cancel are ABORTED (never run). CancelStatement cancels
 * the running query (pg_cancel_backend), rolls back and ends ABORTED.
 *
 * Translations (the only statements not sent to PostgreSQL verbatim):
 * - COPY, exactly the form buildLoadStatements emits for a manifest CSV target (the only
 *   kind WAREHOUSE_LOAD_TARGETS holds): `COPY <table> [(<cols>)] FROM 's3://…' IAM_ROLE '…'
 *   REGION '…' MANIFEST FORMAT AS CSV [IGNOREHEADER n] [TIMEFORMAT 'auto'] [GZIP]`. The
 *   manifest and its data files are read through the injected S3 client, a missing
 *   mandatory file fails the statement (as Redshift does), a missing optional one is
 *   skipped, IGNOREHEADER skips n records per file, the CSV is parsed as staging writes
 *   it (RFC 4180; an unquoted empty field is NULL, a quoted one an empty string), and the
 *   rows go in by parameterised multi-row INSERTs. ResultRows is the number of rows loaded.
 *   Any other COPY (no MANIFEST, JSON, PARQUET, other options) FAILS, naming the form.
 * Nothing else needed translating: the loader's CREATE TEMP TABLE … (LIKE …), the
 * ROW_NUMBER deduplication, MERGE and the history INSERT run as-is on PostgreSQL >= 15.
 *
 * What this proves: the loader's statements, in its order, as one transaction, load each
 * staged row once, skip a re-delivery, roll back completely on failure, and the loader
 * reads the Data API's statuses and errors correctly over the wire.
 * What it does not prove: COPY's IAM_ROLE/REGION and S3 access (the role is ignored, the
 * stand-in's own S3 client reads), Redshift's CSV and TIMEFORMAT 'auto' parsing (PostgreSQL's
 * input functions stand in), Redshift's serializable isolation and its conflict errors
 * (PostgreSQL runs READ COMMITTED), Redshift's type system (PostgreSQL's), IAM
 * authentication of the caller (any signature is accepted), the Database parameter
 * (echoed; the configured PostgreSQL database is used), result sets (GetStatementResult
 * is not served), and the batch-level ResultRows (-1 here; the loader does not read it).
 */
import { S3Client } from "@aws-sdk/client-s3";
import { randomUUID } from "crypto";
import * as http from "http";
import type { AddressInfo } from "net";
import { Client } from "pg";
import { gunzipSync } from "zlib";
import { readObjectBytes } from "../functions/lake-objects";
import { parseCsv, parseManifest, parseS3Url } from "../functions/lake-staging";

// The readers of what staging writes live beside its writer (the aggregator reads them too).
export { parseCsv, parseManifest, parseS3Url } from "../functions/lake-staging";
export type { ManifestFile } from "../functions/lake-staging";

export type StatementStatus = "SUBMITTED" | "PICKED" | "STARTED" | "FINISHED" | "FAILED" | "ABORTED";

export interface SubStatementRecord {
  readonly id: string;
  readonly queryString: string;
  status: StatementStatus;
  error?: string;
  resultRows: number;
  hasResultSet: boolean;
  createdAt: Date;
  updatedAt: Date;
  /** Nanoseconds, -1 until it ends. */
  durationNs: number;
}

export interface StatementRecord {
  readonly id: string;
  readonly warehouse: { readonly ClusterIdentifier: string } | { readonly WorkgroupName: string };
  readonly database: string;
  readonly statementName?: string;
  status: StatementStatus;
  /** Every status the batch took, in order: what a poller may see at most. */
  readonly statusHistory: StatementStatus[];
  error?: string;
  readonly createdAt: Date;
  updatedAt: Date;
  durationNs: number;
  readonly subStatements: SubStatementRecord[];
}

export interface PostgresTarget {
  readonly host: string;
  readonly port: number;
  readonly user: string;
  readonly password: string;
  readonly database: string;
}

export interface RedshiftDataServerOptions {
  readonly postgres: PostgresTarget;
  /** Reads COPY manifests and their data files. */
  readonly s3: S3Client;
  readonly log?: (line: string) => void;
}

export interface RunningRedshiftDataServer {
  /** e.g. "http://127.0.0.1:41234": the value for AWS_ENDPOINT_URL_REDSHIFT_DATA. */
  readonly endpoint: string;
  /** Copies of every statement received, oldest first. */
  statements(): StatementRecord[];
  /** Cancels running batches, waits for their rollback, and closes the server. */
  stop(): Promise<void>;
}

// ---- protocol ------------------------------------------------------------------------

/** An API error as the SDK's AWS JSON 1.1 deserializer reads it. */
export interface ApiError {
  readonly type: "ValidationException" | "ResourceNotFoundException" | "UnknownOperationException" | "SerializationException";
  readonly status: number;
  readonly message: string;
  readonly resourceId?: string;
}

const validation = (message: string): ApiError => ({ type: "ValidationException", status: 400, message });
const notFound = (id: string): ApiError => ({ type: "ResourceNotFoundException", status: 404, message: `Query does not exist: ${id}`, resourceId: id });
const isApiError = (value: unknown): value is ApiError => typeof value === "object" && value !== null && "type" in value && "status" in value;

export function errorBody(error: ApiError): Record<string, unknown> {
  return { __type: error.type, Message: error.message, ...(error.resourceId ? { ResourceId: error.resourceId } : {}) };
}

/** The action named by `X-Amz-Target: RedshiftData.<Action>`, or undefined. */
export function actionOf(target: string | string[] | undefined): string | undefined {
  const match = typeof target === "string" ? /^RedshiftData\.(\w+)$/.exec(target) : null;
  return match?.[1];
}

const epochSeconds = (at: Date) => at.getTime() / 1000;

// Statement ids are UUIDs, sub-statements suffixed ":<n>" (the reference's Id pattern).
const STATEMENT_ID = /^([a-z0-9]{8}(?:-[a-z0-9]{4}){3}-[a-z0-9]{12})(?::(\d+))?$/;

export interface BatchRequest {
  readonly warehouse: StatementRecord["warehouse"];
  readonly database: string;
  readonly sqls: string[];
  readonly statementName?: string;
}

/** Checks a BatchExecuteStatement body; DbUser and SecretArn are accepted and ignored. */
export function parseBatchRequest(body: Record<string, unknown>): BatchRequest {
  const { ClusterIdentifier, WorkgroupName, Database, Sqls, StatementName } = body;
  if ((ClusterIdentifier === undefined) === (WorkgroupName === undefined)) {
    throw validation("Exactly one of ClusterIdentifier or WorkgroupName is required");
  }
  if (typeof Database !== "string" || Database.length === 0) throw validation("Database is required");
  // The reference allows 1 to 40 statements per batch.
  if (!Array.isArray(Sqls) || Sqls.length === 0 || Sqls.length > 40 || !Sqls.every((sql) => typeof sql === "string" && sql.length > 0)) {
    throw validation("Sqls must hold 1 to 40 non-empty SQL strings");
  }
  const warehouse = typeof ClusterIdentifier === "string" ? { ClusterIdentifier } : { WorkgroupName: String(WorkgroupName) };
  return { warehouse, database: Database, sqls: Sqls as string[], statementName: typeof StatementName === "string" ? StatementName : undefined };
}

function describeSub(sub: SubStatementRecord): Record<string, unknown> {
  return {
    Id: sub.id,
    Status: sub.status,
    QueryString: sub.queryString,
    ...(sub.error !== undefined ? { Error: sub.error } : {}),
    ResultRows: sub.resultRows,
    ResultSize: -1,
    HasResultSet: sub.hasResultSet,
    Duration: sub.durationNs,
    CreatedAt: epochSeconds(sub.createdAt),
    UpdatedAt: epochSeconds(sub.updatedAt),
  };
}

/** DescribeStatement's answer for a batch, or for one of its sub-statements. */
export function describeStatement(record: StatementRecord, subIndex?: number): Record<string, unknown> {
  const common = { ...record.warehouse, Database: record.database };
  if (subIndex !== undefined) {
    const sub = record.subStatements[subIndex - 1];
    if (sub === undefined) throw notFound(`${record.id}:${subIndex}`);
    return { ...common, ...describeSub(sub) };
  }
  return {
    ...common,
    Id: record.id,
    Status: record.status,
    ...(record.error !== undefined ? { Error: record.error } : {}),
    QueryString: record.subStatements.map((sub) => sub.queryString).join(";\n"),
    HasResultSet: record.subStatements.some((sub) => sub.hasResultSet),
    ResultRows: -1,
    ResultSize: -1,
    Duration: record.durationNs,
    CreatedAt: epochSeconds(record.createdAt),
    UpdatedAt: epochSeconds(record.updatedAt),
    IsBatchStatement: true,
    SubStatements: record.subStatements.map(describeSub),
  };
}

// ---- COPY translation --------------------------------------------------------------------

export interface CopyCommand {
  /** The table as written in the COPY (already SQL text: quoted identifiers stay quoted). */
  readonly table: string;
  /** The column list as written, or undefined for all columns in table order. */
  readonly columnList?: string;
  readonly columnCount?: number;
  readonly bucket: string;
  readonly key: string;
  readonly ignoreHeader: number;
  readonly gzip: boolean;
}

const IDENTIFIER = String.raw`(?:"(?:[^"]|"")*"|[A-Za-z_][A-Za-z0-9_$]*)`;
const LITERAL = String.raw`'((?:[^']|'')*)'`;
const SUPPORTED_COPY = new RegExp(
  String.raw`^COPY\s+(${IDENTIFIER}(?:\.${IDENTIFIER})?)\s*(?:\(([^)]*)\))?\s+FROM\s+${LITERAL}\s+IAM_ROLE\s+${LITERAL}\s+REGION\s+${LITERAL}` +
    String.raw`\s+MANIFEST\s+FORMAT\s+AS\s+CSV(?:\s+IGNOREHEADER\s+(\d+))?(?:\s+TIMEFORMAT\s+'auto')?(\s+GZIP)?\s*;?\s*$`,
  "is",
);
const SUPPORTED_COPY_FORM = "COPY <table> [(<columns>)] FROM 's3://…' IAM_ROLE '…' REGION '…' MANIFEST FORMAT AS CSV [IGNOREHEADER n] [TIMEFORMAT 'auto'] [GZIP]";

export const isCopy = (sql: string) => /^\s*COPY\s/i.test(sql);

/** The COPY the stand-in can translate; any other form is refused by name. */
export function parseCopy(sql: string): CopyCommand {
  const match = SUPPORTED_COPY.exec(sql.trim());
  if (!match) throw new Error(`the local Redshift stand-in translates only ${SUPPORTED_COPY_FORM}; refused: ${sql}`);
  const [, table, columns, source, , , ignoreHeader, gzip] = match;
  const columnNames = columns === undefined ? undefined : (columns.match(new RegExp(IDENTIFIER, "g")) ?? []);
  return {
    table,
    columnList: columns?.trim(),
    columnCount: columnNames?.length,
    ...parseS3Url(source.replace(/''/g, "'")),
    ignoreHeader: Number(ignoreHeader ?? 0),
    gzip: gzip !== undefined,
  };
}

// PostgreSQL allows 65535 bind parameters per statement; stay well under it.
const MAX_PARAMETERS = 30_000;

/** Parameterised multi-row INSERTs for `rows`, each under the bind-parameter limit. */
export function insertStatements(table: string, columnList: string | undefined, rows: readonly (string | null)[][]): { text: string; values: (string | null)[] }[] {
  if (rows.length === 0) return [];
  const width = rows[0].length;
  const perChunk = Math.max(1, Math.floor(MAX_PARAMETERS / width));
  const target = columnList === undefined ? table : `${table} (${columnList})`;
  const chunks: { text: string; values: (string | null)[] }[] = [];
  for (let start = 0; start < rows.length; start += perChunk) {
    const chunk = rows.slice(start, start + perChunk);
    const tuples = chunk.map((_, r) => `(${Array.from({ length: width }, (__, c) => `$${r * width + c + 1}`).join(", ")})`);
    chunks.push({ text: `INSERT INTO ${target} VALUES ${tuples.join(", ")}`, values: chunk.flat() });
  }
  return chunks;
}

/** Redshift's COPY refuses a row whose field count does not match the columns. */
function checkWidths(rows: readonly (string | null)[][], expected: number | undefined, where: string, firstLine: number): void {
  const width = expected ?? rows[0]?.length;
  rows.forEach((row, index) => {
    if (row.length !== width) throw new Error(`${where} record ${firstLine + index}: ${row.length} fields where ${width} columns are loaded`);
  });
}

// ---- execution ---------------------------------------------------------------------------

interface Execution {
  cancelRequested: boolean;
  backendPid?: number;
  /** Settles when the batch has ended (committed or rolled back). */
  done: Promise<void>;
}

const redshiftError = (error: unknown) => `ERROR: ${(error as Error).message ?? String(error)}`;

function setStatus(record: StatementRecord, status: StatementStatus): void {
  record.status = status;
  record.statusHistory.push(status);
  record.updatedAt = new Date();
}

function endSub(sub: SubStatementRecord, status: StatementStatus, startedNs: bigint, error?: string): void {
  sub.status = status;
  sub.error = error;
  sub.updatedAt = new Date();
  sub.durationNs = Number(process.hrtime.bigint() - startedNs);
}

/** Reads a manifest's files and loads their rows into the COPY's table; returns the row count. */
async function runCopy(sql: string, client: Client, s3: S3Client, cancelled: () => boolean): Promise<number> {
  const copy = parseCopy(sql);
  const manifestUrl = `s3://${copy.bucket}/${copy.key}`;
  const manifestBytes = await readObjectBytes(s3, copy.bucket, copy.key).catch((error: Error) => {
    throw new Error(`S3ServiceException: the manifest ${manifestUrl} cannot be read: ${error.name}: ${error.message}`);
  });
  let loaded = 0;
  for (const file of parseManifest(Buffer.from(manifestBytes).toString("utf8"), manifestUrl)) {
    const { bucket, key } = parseS3Url(file.url);
    const bytes = await readObjectBytes(s3, bucket, key).catch((error: Error) => {
      if (!file.mandatory) return undefined;
      throw new Error(`Manifest file is invalid: mandatory file ${file.url} cannot be read: ${error.name}: ${error.message}`);
    });
    if (bytes === undefined) continue;
    const text = (copy.gzip ? gunzipSync(bytes) : Buffer.from(bytes)).toString("utf8");
    const rows = parseCsv(text, file.url).slice(copy.ignoreHeader);
    checkWidths(rows, copy.columnCount, file.url, copy.ignoreHeader + 1);
    for (const insert of insertStatements(copy.table, copy.columnList, rows)) {
      if (cancelled()) return loaded;
      await client.query(insert.text, insert.values);
    }
    loaded += rows.length;
  }
  return loaded;
}

async function runSub(sub: SubStatementRecord, client: Client, s3: S3Client, cancelled: () => boolean): Promise<void> {
  if (isCopy(sub.queryString)) {
    sub.resultRows = await runCopy(sub.queryString, client, s3, cancelled);
    return;
  }
  const result = await client.query(sub.queryString);
  sub.hasResultSet = (result.fields ?? []).length > 0;
  sub.resultRows = result.rowCount ?? -1;
}

/** Runs a batch in one transaction on its own session; never throws (failures become statuses). */
async function runBatch(record: StatementRecord, execution: Execution, options: RedshiftDataServerOptions): Promise<void> {
  const log = options.log ?? (() => undefined);
  const batchStarted = process.hrtime.bigint();
  setStatus(record, "PICKED");
  const client = new Client({ ...options.postgres });
  let outcome: StatementStatus = "FINISHED";
  try {
    await client.connect();
    execution.backendPid = (await client.query<{ pid: number }>("SELECT pg_backend_pid() AS pid")).rows[0].pid;
    await client.query("BEGIN");
    setStatus(record, "STARTED");
    for (const sub of record.subStatements) {
      if (execution.cancelRequested) {
        outcome = "ABORTED";
        break;
      }
      const started = process.hrtime.bigint();
      sub.status = "STARTED";
      sub.updatedAt = new Date();
      try {
        await runSub(sub, client, options.s3, () => execution.cancelRequested);
        endSub(sub, execution.cancelRequested ? "ABORTED" : "FINISHED", started);
      } catch (error) {
        const aborted = execution.cancelRequested;
        endSub(sub, aborted ? "ABORTED" : "FAILED", started, aborted ? undefined : redshiftError(error));
        outcome = aborted ? "ABORTED" : "FAILED";
        record.error = sub.error;
        break;
      }
      if (execution.cancelRequested) outcome = "ABORTED";
      if (outcome !== "FINISHED") break;
    }
    await client.query(outcome === "FINISHED" ? "COMMIT" : "ROLLBACK");
  } catch (error) {
    // Connection or COMMIT failures end the batch as Redshift would report them.
    outcome = execution.cancelRequested ? "ABORTED" : "FAILED";
    record.error ??= redshiftError(error);
    await client.query("ROLLBACK").catch(() => undefined);
  } finally {
    await client.end().catch(() => undefined);
  }
  for (const sub of record.subStatements) {
    if (sub.status === "SUBMITTED" || sub.status === "STARTED") endSub(sub, "ABORTED", batchStarted);
  }
  record.durationNs = Number(process.hrtime.bigint() - batchStarted);
  setStatus(record, outcome);
  log(`redshift-data ${record.id} ${outcome}${record.error ? `: ${record.error}` : ""}`);
}

/** Cancels the query a batch's session is running, from a second session. */
async function cancelBackend(postgres: PostgresTarget, pid: number): Promise<void> {
  const client = new Client({ ...postgres });
  await client.connect();
  try {
    await client.query("SELECT pg_cancel_backend($1)", [pid]);
  } finally {
    await client.end();
  }
}

function newRecord(request: BatchRequest): StatementRecord {
  const id = randomUUID();
  const now = new Date();
  return {
    id,
    warehouse: request.warehouse,
    database: request.database,
    statementName: request.statementName,
    status: "SUBMITTED",
    statusHistory: ["SUBMITTED"],
    createdAt: now,
    updatedAt: now,
    durationNs: -1,
    subStatements: request.sqls.map((sql, index) => ({
      id: `${id}:${index + 1}`,
      queryString: sql,
      status: "SUBMITTED",
      resultRows: -1,
      hasResultSet: false,
      createdAt: now,
      updatedAt: now,
      durationNs: -1,
    })),
  };
}

const copyRecord = (record: StatementRecord): StatementRecord => ({
  ...record,
  statusHistory: [...record.statusHistory],
  subStatements: record.subStatements.map((sub) => ({ ...sub })),
});

const isRunning = (status: StatementStatus) => status === "SUBMITTED" || status === "PICKED" || status === "STARTED";

function readBody(request: http.IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    request.on("data", (chunk: Buffer) => chunks.push(chunk));
    request.on("end", () => resolve(Buffer.concat(chunks).toString("utf8")));
    request.on("error", reject);
  });
}

function parseJsonBody(text: string): Record<string, unknown> {
  try {
    const body = JSON.parse(text.length > 0 ? text : "{}") as unknown;
    if (typeof body === "object" && body !== null && !Array.isArray(body)) return body as Record<string, unknown>;
  } catch {
    // falls through to the error below
  }
  throw { type: "SerializationException", status: 400, message: "The request body is not a JSON object" } satisfies ApiError;
}

export async function startRedshiftDataServer(options: RedshiftDataServerOptions): Promise<RunningRedshiftDataServer> {
  const records = new Map<string, StatementRecord>();
  const executions = new Map<string, Execution>();
  const log = options.log ?? (() => undefined);

  const lookup = (id: unknown): { record: StatementRecord; subIndex?: number } => {
    const match = typeof id === "string" ? STATEMENT_ID.exec(id) : null;
    if (!match) throw validation(`Id must be a statement UUID, optionally with ":<n>": ${JSON.stringify(id)}`);
    const record = records.get(match[1]);
    if (record === undefined) throw notFound(String(id));
    return { record, subIndex: match[2] === undefined ? undefined : Number(match[2]) };
  };

  const actions: Record<string, (body: Record<string, unknown>) => Promise<Record<string, unknown>>> = {
    async BatchExecuteStatement(body) {
      const record = newRecord(parseBatchRequest(body));
      records.set(record.id, record);
      const execution: Execution = { cancelRequested: false, done: Promise.resolve() };
      // Answer first, run later: the Data API is asynchronous and the caller polls.
      execution.done = new Promise<void>((resolve) => setImmediate(resolve)).then(() => runBatch(record, execution, options));
      executions.set(record.id, execution);
      log(`redshift-data ${record.id} SUBMITTED (${record.subStatements.length} statements)`);
      return { Id: record.id, ...record.warehouse, Database: record.database, CreatedAt: epochSeconds(record.createdAt), IsBatchStatement: true };
    },
    async DescribeStatement(body) {
      const { record, subIndex } = lookup(body.Id);
      return describeStatement(record, subIndex);
    },
    async CancelStatement(body) {
      const { record } = lookup(body.Id);
      const execution = executions.get(record.id);
      if (!isRunning(record.status) || execution === undefined) {
        throw validation(`Could not cancel a query that is already in ${record.status} status`);
      }
      execution.cancelRequested = true;
      if (execution.backendPid !== undefined) await cancelBackend(options.postgres, execution.backendPid);
      log(`redshift-data ${record.id} cancel requested`);
      return { Status: true };
    },
  };

  const server = http.createServer((request, response) => {
    const reply = (status: number, body: Record<string, unknown>) => {
      response.writeHead(status, { "content-type": "application/x-amz-json-1.1", "x-amzn-requestid": randomUUID() });
      response.end(JSON.stringify(body));
    };
    void (async () => {
      try {
        const action = actionOf(request.headers["x-amz-target"]);
        const handler = action === undefined ? undefined : actions[action];
        if (request.method !== "POST" || handler === undefined) {
          throw { type: "UnknownOperationException", status: 400, message: `Unsupported operation: ${request.method} ${request.headers["x-amz-target"] ?? "(no X-Amz-Target)"}` } satisfies ApiError;
        }
        reply(200, await handler(parseJsonBody(await readBody(request))));
      } catch (error) {
        const apiError: ApiError = isApiError(error) ? error : { type: "ValidationException", status: 400, message: (error as Error).message };
        reply(apiError.status, errorBody(apiError));
      }
    })();
  });
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(0, "127.0.0.1", resolve);
  });
  const { port } = server.address() as AddressInfo;

  return {
    endpoint: `http://127.0.0.1:${port}`,
    statements: () => [...records.values()].map(copyRecord),
    async stop() {
      for (const [id, execution] of executions) {
        const record = records.get(id);
        if (record === undefined || !isRunning(record.status)) continue;
        execution.cancelRequested = true;
        if (execution.backendPid !== undefined) await cancelBackend(options.postgres, execution.backendPid).catch(() => undefined);
      }
      await Promise.all([...executions.values()].map((execution) => execution.done));
      server.closeAllConnections();
      await new Promise<void>((resolve, reject) => server.close((error) => (error ? reject(error) : resolve())));
    },
  };
}
