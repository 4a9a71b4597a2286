/**
 * The batch layer's Glue code (glue/): its Python unittest suite and a py_compile of every
 * script, run from here so `npm test` fails when they do; parity of the Python port with
 * the TypeScript it mirrors (validateIngestEvent, csvDocument, copyManifest) on the same
 * fixtures; and runGlueJobLocally end to end against s3rver (batch-file, then curation).
 * What cannot run here is Spark itself (glue/jobs/*.py are compiled, not run).
 */
import { GetObjectCommand, PutObjectCommand, S3Client } from "@aws-sdk/client-s3";
import { spawnSync } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { IngestEvent, MAX_EVENT_BYTES, validateIngestEvent } from "../functions/ingestion-events";
import { STAGED_COLUMNS, copyManifest, csvDocument, parseCsv, parseManifest, parseS3Url } from "../functions/lake-staging";
import { CleanEventRow, cleanRow } from "../functions/lake-transform";
import { QuarantineStage, quarantinedRecord } from "../functions/quarantine";
import { GLUE_JOB_FAILED_ERROR, GlueJobRunFailed, localGlueTask, runGlueJobLocally } from "../local/glue-jobs";
import { PROJECT_DIR } from "../scripts/engine";
import { LocalS3, listKeys, readText, s3Client, startS3rver } from "./support/aws-emulators";
import { THIRD_PARTY_DIR, recordedChecksums } from "./support/third-party-events";

const GLUE_DIR = path.join(PROJECT_DIR, "glue");
const PYTHON = process.env.PYTHON ?? "python3";
// No __pycache__ in the work tree.
const PYTHON_ENV = { ...process.env, PYTHONDONTWRITEBYTECODE: "1" };

function python(args: string[], input?: string) {
  return spawnSync(PYTHON, args, { cwd: PROJECT_DIR, env: PYTHON_ENV, input, encoding: "utf8", maxBuffer: 64 * 1024 * 1024 });
}

function pythonFiles(directory: string): string[] {
  return fs.readdirSync(directory, { withFileTypes: true }).flatMap((entry) => {
    const full = path.join(directory, entry.name);
    if (entry.isDirectory()) return entry.name === "__pycache__" ? [] : pythonFiles(full);
    return entry.name.endsWith(".py") ? [full] : [];
  });
}

describe("the Glue scripts' Python", () => {
  it("passes its unittest suite (and runs some tests, none skipped)", () => {
    const run = python(["-m", "unittest", "discover", "-v", "-s", "glue/tests", "-t", "glue"]);
    const output = `${run.stdout}${run.stderr}`;
    const ran = /^Ran (\d+) tests? in /m.exec(output);
    const verdict = /^(OK|FAILED)(?: \((.*)\))?$/m.exec(output);
    if (run.status !== 0 || !ran || Number(ran[1]) === 0 || verdict?.[1] !== "OK" || verdict[2] !== undefined) {
      throw new Error(`python unittest (exit ${run.status}, ${ran?.[1] ?? "no"} tests, ${verdict?.[0] ?? "no verdict"}):\n${output}`);
    }
    expect(Number(ran[1])).toBeGreaterThanOrEqual(40);
  });

  it("compiles every .py under glue/, the Spark wiring included", () => {
    const files = pythonFiles(GLUE_DIR);
    expect(files.map((file) => path.relative(GLUE_DIR, file))).toEqual(
      expect.arrayContaining(["jobs/batch_file_job.py", "jobs/curation_job.py", "jobs/lake_replay.py", "jobs/batch_spark.py", "local_job.py", "batch_events/contract.py"]),
    );
    const cache = fs.mkdtempSync(path.join(os.tmpdir(), "pycache-"));
    try {
      const run = spawnSync(PYTHON, ["-m", "py_compile", ...files], { env: { ...process.env, PYTHONPYCACHEPREFIX: cache }, encoding: "utf8" });
      if (run.status !== 0) throw new Error(`py_compile failed:\n${run.stderr}`);
    } finally {
      fs.rmSync(cache, { recursive: true, force: true });
    }
  });

  it("keeps awsglue, pyspark and boto3 out of the batch_events package", () => {
    const importing = pythonFiles(path.join(GLUE_DIR, "batch_events")).filter((file) => /^\s*(from|import)\s+(awsglue|pyspark|boto3)\b/m.test(fs.readFileSync(file, "utf8")));
    expect(importing).toEqual([]);
  });
});

// ---- Parity ---------------------------------------------------------------------------

const GOOD = { eventId: "evt-1", source: "orders-api", entityId: "order-42", eventType: "order.created", occurredAt: "2026-01-02T03:04:05Z", payload: { total: 12.5 } };

function withField(field: string, value: unknown): string {
  const event: Record<string, unknown> = { ...GOOD };
  if (value === undefined) delete event[field];
  else event[field] = value;
  return JSON.stringify(event);
}

/** Sizes the payload so the normalised event's JSON is exactly `bytes` long. */
function eventOfSize(bytes: number, filler: string): string {
  const normalised = { ...GOOD, occurredAt: "2026-01-02T03:04:05.000Z" };
  const base = Buffer.byteLength(JSON.stringify({ ...normalised, payload: { blob: "" } }));
  const unit = Buffer.byteLength(JSON.stringify(filler)) - 2;
  const count = Math.floor((bytes - base) / unit);
  const rest = bytes - base - count * unit;
  return JSON.stringify({ ...normalised, payload: { blob: filler.repeat(count) + "x".repeat(rest) } });
}

const TEXT_VALUES: unknown[] = [undefined, null, true, 42, 0, [], {}, ["a"], "", "   ", "\u00a0\ufeff", "\u2028a\u2029", "\u001ca", "a b", "é", "ok", " ok\t", "a\n", "A-Z.z_9:@/x", "ÿ", "İ", "ΣΑΣ", "😀"];
const LONG_VALUES = (max: number) => ["x".repeat(max), "x".repeat(max + 1), `${"x".repeat(max - 1)}😀`, ` ${"x".repeat(max)} `];
const TIMESTAMPS = [
  "2026-01-02T03:04:05Z", "2026-01-02T03:04Z", "2026-01-02T03:04:05.1Z", "2026-01-02T03:04:05.123456789Z", "2026-01-02T03:04:05.1234567890Z",
  "2026-02-30T00:00:00Z", "2024-02-29T00:00:00Z", "2026-13-01T00:00:00Z", "2026-12-32T00:00:00Z", "2026-01-00T00:00:00Z", "2026-00-01T00:00:00Z",
  "2026-01-01T24:00:00Z", "2026-01-01T24:00:00.000Z", "2026-01-01T24:00:00.5Z", "2026-01-01T24:00:01Z", "2026-01-01T23:60:00Z", "2026-01-01T23:59:60Z",
  "2026-01-01T00:00:00+24:00", "2026-01-01T00:00:00+23:59", "2026-01-01T00:00:00+12:60", "2026-01-01T00:00:00-00:00", "2026-01-01T00:00:00.000+05:30",
  "0000-01-01T00:00:00Z", "0000-01-01T00:00:00+01:00", "0000-02-29T12:00Z", "9999-12-31T23:59:59-01:00", "1969-12-31T23:59:59.999Z",
  " 2026-01-02T03:04:05Z\n", "2026-01-02 03:04:05Z", "2026-01-02T03:04:05", "2026-01-02T03:04:05z", "2026-01-02T03:04:05+0100", "2026-01-02",
  "２０２６-01-02T03:04:05Z", "2026-01-02T03:04:05Z\n\n", 1767323045000, null, undefined, ["2026-01-02T03:04:05Z"],
];
const PAYLOADS: unknown[] = [
  undefined, null, {}, [], "text", 0, false,
  { n: [1e21, 1e-7, 0.1, -0, 123456789012345680000, 5e-324, 1.5e300, 100, 1e20] },
  { b: 1, 10: 2, 2: 3, "01": 4, 4294967295: 5, 4294967294: 6, a: { z: 1, 0: 2 } },
  { s: "quote \" backslash \\ newline \n tab \t control \u0001 del \u007f nbsp \u00a0 ls \u2028 emoji 😀 lone \ud800 ok" },
  { nested: [{ deep: [[[]]] }, null, true] },
];

function fixtureTexts(): string[] {
  const texts: string[] = [JSON.stringify(GOOD), "[]", "null", "42", '"event"', "true", "{}"];
  for (const field of ["eventId", "source", "entityId", "eventType"]) {
    const max = { eventId: 128, source: 64, entityId: 256, eventType: 64 }[field]!;
    for (const value of [...TEXT_VALUES, ...LONG_VALUES(max), "ORDERS-API", "-orders", "orders_api.v2"]) texts.push(withField(field, value));
  }
  for (const value of TIMESTAMPS) texts.push(withField("occurredAt", value));
  for (const value of PAYLOADS) texts.push(withField("payload", value));
  // Numbers JSON.parse reads as doubles, duplicate keys (the last wins, at the first's place).
  texts.push(JSON.stringify(GOOD).replace('"total":12.5', '"total":12345678901234567890,"big":1e400,"exp":1E+2'));
  texts.push('{"eventId":"a","eventId":"b","source":"s","entityId":"e","eventType":"t","occurredAt":"2026-01-02T03:04:05Z","payload":{"x":1,"x":2}}');
  for (const filler of ["x", "é", "😀", "\n", "\ud800"]) texts.push(eventOfSize(MAX_EVENT_BYTES, filler), eventOfSize(MAX_EVENT_BYTES + 1, filler));
  // Events others publish (S3, SQS, API Gateway…): objects, but not ingest events.
  for (const { file } of recordedChecksums().slice(0, 8)) texts.push(fs.readFileSync(path.join(THIRD_PARTY_DIR, file), "utf8"));
  return texts;
}

type Verdict = { ok: true; event: string } | { ok: false; reason: string } | { ok: false; notJson: string };

function tsVerdict(text: string): Verdict {
  const validation = validateIngestEvent(JSON.parse(text));
  return validation.ok ? { ok: true, event: JSON.stringify(validation.event) } : { ok: false, reason: validation.reason };
}

describe("parity of the Python port with the TypeScript it mirrors", () => {
  const texts = fixtureTexts();
  const manifests: [string, number][][] = [
    [],
    [["batch/events/event_date=2026-01-02/run-1-part-00000.csv", 131]],
    [["batch/events/event_date=2026-01-01/run-1-part-00000.csv", 0], ["batch/events/event_date=2026-01-02/ké y \"q\".csv", 123456789]],
  ];
  let python_: { verdicts: Verdict[]; csv: string; manifests: string[] };

  beforeAll(() => {
    const run = python([path.join("glue", "tests", "parity.py")], JSON.stringify({ events: texts, bucket: "staged-bucket", manifests }));
    if (run.status !== 0) throw new Error(`parity.py failed:\n${run.stderr}`);
    python_ = JSON.parse(run.stdout);
  });

  it("gives the same verdict, reason and normalised event for every fixture", () => {
    expect(texts.length).toBeGreaterThan(150);
    const differences = texts
      .map((text, index) => ({ text: text.slice(0, 160), typescript: tsVerdict(text), python: python_.verdicts[index] }))
      .filter(({ typescript, python }) => JSON.stringify(typescript) !== JSON.stringify(python));
    expect(differences).toEqual([]);
    // The fixtures exercise both sides of the contract.
    const good = python_.verdicts.filter((verdict) => verdict.ok).length;
    expect(good).toBeGreaterThan(20);
    expect(texts.length - good).toBeGreaterThan(60);
  });

  it("stages the same CSV document for the good events' clean rows", () => {
    const rows: CleanEventRow[] = texts.flatMap((text) => {
      const validation = validateIngestEvent(JSON.parse(text));
      return validation.ok ? [cleanRow(validation.event)] : [];
    });
    expect(python_.csv).toBe(csvDocument(rows));
    expect(parseCsv(python_.csv, "python csv")[0]).toEqual([...STAGED_COLUMNS]);
  });

  it("writes the same COPY manifest text", () => {
    expect(python_.manifests).toEqual(manifests.map((entries) => copyManifest("staged-bucket", entries.map(([key, bytes]) => ({ key, bytes })))));
  });
});

// ---- runGlueJobLocally against s3rver -------------------------------------------------

const RAW = "batch-raw";
const LAKE = "batch-lake";
const STAGED = "batch-staged";

function ingest(eventId: string, occurredAt: string, payload: Record<string, unknown> = {}, overrides: Record<string, unknown> = {}) {
  return { eventId, source: "orders-api", entityId: `order-${eventId}`, eventType: "order.created", occurredAt, payload, ...overrides };
}

const csvCell = (value: string) => (/[",\n]/.test(value) ? `"${value.replace(/"/g, '""')}"` : value);
function supplierCsv(rows: (Record<string, unknown> | string)[]): string {
  const header = "eventId,source,entityId,eventType,occurredAt,payload";
  const lines = rows.map((row) =>
    typeof row === "string"
      ? row
      : ["eventId", "source", "entityId", "eventType", "occurredAt"].map((field) => csvCell(String(row[field]))).concat(csvCell(JSON.stringify(row.payload))).join(","),
  );
  return `${header}\n${lines.join("\n")}\n`;
}

const CSV_KEY = "batch/supplier-a/2026-01-02/orders.csv";
const JSONL_KEY = "batch/supplier-b/events.jsonl";
const ARRAY_KEY = "batch/supplier-c/events.json";
const CSV_ROWS = [
  ingest("e1", "2026-01-02T10:00:00Z", { note: 'says "hi", twice\nand a newline' }),
  ingest("e2", "2026-01-02T10:00:00Z", {}, { source: "not a source!" }),
  ingest("e3", "2026-01-02T23:30:00-01:00", { total: 12.5 }),
  "only,three,fields",
];
const JSONL_LINES = [
  JSON.stringify(ingest("e1", "2026-01-02T12:00:00Z", { note: "the later e1 wins" })),
  "",
  "not json at all",
  JSON.stringify(ingest("e4", "2026-01-03T01:00:00.5+00:00", { n: [1, 2] })),
  JSON.stringify(ingest("e5", "2026-01-03T01:00:00")),
];
const ARRAY_EVENTS = [ingest("e6", "2026-01-02T00:00:00Z", { 2: "b", 1: "a" }), 42];

function expectedClean(value: Record<string, unknown>): CleanEventRow {
  const validation = validateIngestEvent(value);
  if (!validation.ok) throw new Error(validation.reason);
  return cleanRow(validation.event as IngestEvent);
}
/** A clean row as the batch dataset holds it: payload as JSON text, no event_date column. */
function batchCleanRow(row: CleanEventRow) {
  const { event_date: _date, payload, ...rest } = row;
  return { ...rest, payload: JSON.stringify(payload) };
}
const jsonLinesOf = (text: string) => text.split("\n").filter((line) => line.length > 0).map((line) => JSON.parse(line));

describe("runGlueJobLocally against s3rver", () => {
  let server: LocalS3;
  let s3: S3Client;
  const baseArgs = { "--raw_bucket": RAW, "--transformed_bucket": LAKE, "--staged_bucket": STAGED, "--catalog_database": "lake_db", "--job-bookmark-option": "job-bookmark-enable" };

  beforeAll(async () => {
    server = await startS3rver([RAW, LAKE, STAGED, "batch-raw-parquet"]);
    s3 = s3Client(server);
    const put = (Bucket: string, Key: string, Body: string | Uint8Array) => s3.send(new PutObjectCommand({ Bucket, Key, Body }));
    await put(RAW, CSV_KEY, supplierCsv(CSV_ROWS));
    await put(RAW, JSONL_KEY, `${JSONL_LINES.join("\n")}\n`);
    await put(RAW, ARRAY_KEY, JSON.stringify(ARRAY_EVENTS));
    await put(RAW, "batch/README.txt", "suppliers: drop CSV or JSON here");
    await put(RAW, "api/year=2026/month=01/day=02/hour=03/batch-x.jsonl", JSON.stringify(ingest("api-1", "2026-01-02T03:00:00Z")));
    await put("batch-raw-parquet", "batch/supplier/rows.parquet", Buffer.from("PAR1 not really"));
  });
  afterAll(() => server?.stop());

  it("batch-file: clean rows by occurred_at date, refused rows quarantined with their reasons, and the .sync JobRun", async () => {
    const args = { ...baseArgs, "--JOB_NAME": "dev-batch-file", "--window_from": "", "--window_to": "", "--run_id": "exec-1" };
    const run = await runGlueJobLocally(s3, "batch-file", args);
    expect(run).toEqual(expect.objectContaining({ JobRunState: "SUCCEEDED", JobName: "dev-batch-file", Attempt: 0, Arguments: args, GlueVersion: "5.0" }));
    expect(run.Id).toMatch(/^jr_[0-9a-f]{64}$/);
    expect(run.CompletedOn).toBeGreaterThanOrEqual(run.StartedOn);

    expect(await listKeys(s3, LAKE, "batch/")).toEqual(["batch/clean/year=2026/month=01/day=02/exec-1-part-00000.jsonl", "batch/clean/year=2026/month=01/day=03/exec-1-part-00000.jsonl"]);
    const day02 = jsonLinesOf(await readText(s3, LAKE, "batch/clean/year=2026/month=01/day=02/exec-1-part-00000.jsonl"));
    // Files in key order, rows in file order: the api/ prefix is not the drop zone.
    expect(day02).toEqual([CSV_ROWS[0], JSONL_LINES[0], ARRAY_EVENTS[0]].map((row) => batchCleanRow(expectedClean(typeof row === "string" ? JSON.parse(row) : (row as Record<string, unknown>)))));
    const day03 = jsonLinesOf(await readText(s3, LAKE, "batch/clean/year=2026/month=01/day=03/exec-1-part-00000.jsonl"));
    expect(day03.map((row) => [row.event_id, row.occurred_at])).toEqual([["e3", "2026-01-03T00:30:00.000Z"], ["e4", "2026-01-03T01:00:00.500Z"]]);

    const quarantineKeys = await listKeys(s3, LAKE, "quarantine/");
    expect(quarantineKeys).toEqual([
      "quarantine/batch-file/run=exec-1/supplier-a/2026-01-02/orders.jsonl",
      "quarantine/batch-file/run=exec-1/supplier-b/events.jsonl",
      "quarantine/batch-file/run=exec-1/supplier-c/events.jsonl",
    ]);
    const records = (await Promise.all(quarantineKeys.map((key) => readText(s3, LAKE, key)))).flatMap(jsonLinesOf);
    expect(records.map((record) => [record.origin.key, record.origin.row, record.reason])).toEqual([
      [CSV_KEY, 3, "source has characters outside ^[a-z0-9][a-z0-9._-]*$"],
      [CSV_KEY, 5, "row has 3 fields, the header has 6"],
      [JSONL_KEY, 3, "not JSON: Expecting value: line 1 column 1 (char 0)"],
      [JSONL_KEY, 5, "occurredAt must be an ISO-8601 date-time with a time zone"],
      [ARRAY_KEY, 2, "event must be a JSON object"],
    ]);
    // The Lambda path's record shape and id, for stage "batch-file".
    const [first] = records;
    const bytes = Buffer.from(first.payload.data, "utf8");
    expect(first).toEqual(quarantinedRecord("batch-file", { kind: "s3", bucket: RAW, key: CSV_KEY, row: 3 }, bytes, first.reason, "dev-batch-file:exec-1", "queue"));
    expect(bytes.toString("utf8")).toBe(supplierCsv([CSV_ROWS[1]]).split("\n")[1]);
  });

  it("curation: one row per event id in COPY-ready CSV, then a manifest the loader's parser accepts", async () => {
    const args = { ...baseArgs, "--JOB_NAME": "dev-curation", "--window_from": "", "--window_to": "", "--run_id": "exec-1", "--manifest_key": "batch/manifests/exec-1.manifest" };
    await expect(runGlueJobLocally(s3, "curation", args)).resolves.toEqual(expect.objectContaining({ JobRunState: "SUCCEEDED", JobName: "dev-curation" }));

    const day02Key = "batch/events/event_date=2026-01-02/exec-1-part-00000.csv";
    const day03Key = "batch/events/event_date=2026-01-03/exec-1-part-00000.csv";
    expect(await listKeys(s3, STAGED)).toEqual([day02Key, day03Key, "batch/manifests/exec-1.manifest"]);
    const latestE1 = expectedClean(JSON.parse(JSONL_LINES[0]));
    expect(await readText(s3, STAGED, day02Key)).toBe(csvDocument([latestE1, expectedClean(ARRAY_EVENTS[0] as Record<string, unknown>)]));
    expect(await readText(s3, STAGED, day03Key)).toBe(csvDocument([expectedClean(CSV_ROWS[2] as Record<string, unknown>), expectedClean(JSON.parse(JSONL_LINES[3]))]));

    const manifestText = await readText(s3, STAGED, "batch/manifests/exec-1.manifest");
    const files = parseManifest(manifestText, "batch manifest");
    expect(files).toEqual([{ url: `s3://${STAGED}/${day02Key}`, mandatory: true }, { url: `s3://${STAGED}/${day03Key}`, mandatory: true }]);
    const entries = await Promise.all(
      files.map(async ({ url }) => {
        const { bucket, key } = parseS3Url(url);
        const { ContentLength } = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: key }));
        return { key, bytes: ContentLength! };
      }),
    );
    expect(manifestText).toBe(copyManifest(STAGED, entries));
  });

  it("a backfill keeps only its window's rows", async () => {
    const args = { ...baseArgs, "--window_from": "2026-01-03", "--window_to": "2026-01-03", "--run_id": "backfill-1", "--job-bookmark-option": "job-bookmark-disable" };
    await runGlueJobLocally(s3, "batch-file", args);
    expect((await listKeys(s3, LAKE, "batch/")).filter((key) => key.includes("backfill-1"))).toEqual(["batch/clean/year=2026/month=01/day=03/backfill-1-part-00000.jsonl"]);
    const curation = { ...args, "--manifest_key": "batch/manifests/backfill-1.manifest", "--window_from": "2026-01-01", "--window_to": "2026-01-01" };
    await runGlueJobLocally(s3, "curation", curation);
    expect(parseManifest(await readText(s3, STAGED, "batch/manifests/backfill-1.manifest"), "empty unit")).toEqual([]);
  });

  it("as a task override: runs the job a Task state's JobName names, with its Arguments", async () => {
    const task = localGlueTask(s3, { "dev-batch-file": "batch-file", "dev-curation": "curation" });
    const Arguments = { ...baseArgs, "--window_from": "", "--window_to": "", "--run_id": "exec-task", "--manifest_key": "batch/manifests/exec-task.manifest" };
    const run = await task({ JobName: "dev-curation", Arguments });
    expect(run).toEqual(expect.objectContaining({ JobRunState: "SUCCEEDED", JobName: "dev-curation", Arguments: { ...Arguments, "--JOB_NAME": "dev-curation" } }));
    expect(await listKeys(s3, STAGED, "batch/manifests/exec-task")).toEqual(["batch/manifests/exec-task.manifest"]);
    await expect(task({ JobName: "prod-other", Arguments })).rejects.toThrow('No local Glue job for "prod-other"');
  });

  it("a failing job rejects as a FAILED JobRun carrying python's stderr, and uploads nothing", async () => {
    const args = { ...baseArgs, "--window_from": "2026-01-05", "--window_to": "2026-01-04", "--run_id": "exec-bad", "--manifest_key": "batch/manifests/exec-bad.manifest" };
    const failure = await runGlueJobLocally(s3, "curation", args).catch((error: unknown) => error);
    expect(failure).toBeInstanceOf(GlueJobRunFailed);
    const { name, jobRun, message } = failure as GlueJobRunFailed;
    expect(name).toBe(GLUE_JOB_FAILED_ERROR);
    expect(jobRun.JobRunState).toBe("FAILED");
    expect(jobRun.ErrorMessage).toContain("--window_from (2026-01-05) is after --window_to (2026-01-04)");
    expect(JSON.parse(message)).toEqual(jobRun);
    expect(await listKeys(s3, STAGED, "batch/manifests/exec-bad")).toEqual([]);

    const parquet = await runGlueJobLocally(s3, "batch-file", { ...baseArgs, "--raw_bucket": "batch-raw-parquet", "--run_id": "exec-parquet" }).catch((error: GlueJobRunFailed) => error.jobRun);
    expect(parquet).toEqual(expect.objectContaining({ JobRunState: "FAILED", ErrorMessage: expect.stringContaining("Parquet input cannot be read locally") }));
    await expect(runGlueJobLocally(s3, "curation", { "--run_id": "x" })).rejects.toThrow("Glue job arguments lack --transformed_bucket");
  });
});
