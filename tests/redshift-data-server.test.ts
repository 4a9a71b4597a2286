/**
 * The local Redshift Data API stand-in (local/redshift-data-server.ts): the REAL loader,
 * in this process and as shipped, loads what the REAL staging function wrote to s3rver,
 * into embedded PostgreSQL, over the Data API's wire protocol. Also its pure parts (COPY
 * parsing, CSV, INSERT chunks) and the API's own errors.
 */
import {
  BatchExecuteStatementCommand,
  CancelStatementCommand,
  DescribeStatementCommand,
  DescribeStatementCommandOutput,
  RedshiftDataClient,
} from "@aws-sdk/client-redshift-data";
import { HeadObjectCommand, PutObjectCommand, S3Client } from "@aws-sdk/client-s3";
import type { S3ObjectCreatedNotificationEvent } from "aws-lambda";
import { gzipSync } from "zlib";
import { loaderCallbackFactory } from "../components/stores/analytics-warehouse";
import { readObjectText } from "../functions/lake-objects";
import { copyManifest, csvDocument, stageCleanObject } from "../functions/lake-staging";
import type { CleanEventRow } from "../functions/lake-transform";
import { LoaderClients, LoaderSettings, loadStagedObject } from "../functions/warehouse-loader";
import { RunningRedshiftDataServer, insertStatements, parseCopy, parseCsv, startRedshiftDataServer } from "../local/redshift-data-server";
import { WAREHOUSE_LOAD_TARGETS } from "../platform/stores";
import { EMULATOR_CREDENTIALS, EMULATOR_REGION, RunningEmulator, invokeShipped, s3Client, startS3rver } from "./support/aws-emulators";
import { LocalPostgres, startPostgres } from "./support/local-databases";

const TRANSFORMED = "dp-local-transformed";
const STAGED = "dp-local-staged";
const ROLE = "arn:aws:iam::123456789012:role/copy";
const COPY_PREFIX = "COPY loader_staged_rows";

describe("COPY translation (pure)", () => {
  const copyOf = (options: string) => `${COPY_PREFIX} ("a", "b") FROM 's3://bkt/manifests/it''s.manifest' IAM_ROLE '${ROLE}' REGION 'eu-west-1'${options}`;

  it("reads the loader's manifest CSV COPY, with its options", () => {
    expect(parseCopy(copyOf(" MANIFEST FORMAT AS CSV IGNOREHEADER 1 TIMEFORMAT 'auto'"))).toEqual({
      table: "loader_staged_rows",
      columnList: '"a", "b"',
      columnCount: 2,
      bucket: "bkt",
      key: "manifests/it's.manifest",
      ignoreHeader: 1,
      gzip: false,
    });
    expect(parseCopy(copyOf(" MANIFEST FORMAT AS CSV IGNOREHEADER 1 TIMEFORMAT 'auto' GZIP")).gzip).toBe(true);
  });

  it.each([
    ["no MANIFEST (a prefix COPY)", " FORMAT AS CSV IGNOREHEADER 1 TIMEFORMAT 'auto'"],
    ["JSON", " MANIFEST FORMAT AS JSON 'auto' TIMEFORMAT 'auto'"],
    ["PARQUET", " MANIFEST FORMAT AS PARQUET"],
    ["an unknown option", " MANIFEST FORMAT AS CSV DELIMITER '|'"],
  ])("refuses %s, naming the form it translates", (_case, options) => {
    expect(() => parseCopy(copyOf(options))).toThrow(/translates only COPY <table> .* MANIFEST FORMAT AS CSV .*; refused: COPY loader_staged_rows/);
  });

  it("parses RFC 4180 CSV: doubled quotes, commas and newlines inside quotes, NULL for an unquoted empty field", () => {
    expect(parseCsv('"a","b ""q"", c"\n"line\nbreak",\r\n"",x', "f")).toEqual([
      ["a", 'b "q", c'],
      ["line\nbreak", null],
      ["", "x"],
    ]);
    expect(() => parseCsv('"open', "f")).toThrow(/f: a quoted field is not closed/);
    expect(() => parseCsv('"a"b', "f")).toThrow(/f line 1: text after a closing quote/);
  });

  it("chunks INSERTs under PostgreSQL's bind-parameter limit", () => {
    const rows = Array.from({ length: 20_001 }, (_, i) => [String(i), null, "x"]);
    const inserts = insertStatements("t", '"a", "b", "c"', rows);
    expect(inserts).toHaveLength(3);
    expect(inserts.every((insert) => insert.values.length <= 30_000)).toBe(true);
    expect(inserts.flatMap((insert) => insert.values)).toEqual(rows.flat());
    expect(inserts[0].text).toMatch(/^INSERT INTO t \("a", "b", "c"\) VALUES \(\$1, \$2, \$3\), \(\$4, /);
  });
});

describe("the loader against the Redshift Data API stand-in (s3rver, embedded PostgreSQL)", () => {
  let s3Server: RunningEmulator;
  let s3: S3Client;
  let postgres: LocalPostgres;
  let warehouse: RunningRedshiftDataServer;
  let dataApi: RedshiftDataClient;
  let cleanCounter = 0;

  beforeAll(async () => {
    [s3Server, postgres] = await Promise.all([startS3rver([TRANSFORMED, STAGED]), startPostgres()]);
    s3 = s3Client(s3Server);
    // The warehouse table as the loader expects it, and the load history with one extra
    // rule (no "refused" keys) so that a test can make the batch's LAST statement fail.
    await postgres.withClient((client) =>
      client.query(`
        CREATE SCHEMA lake;
        CREATE TABLE lake.events (event_id TEXT PRIMARY KEY, source TEXT NOT NULL, entity_id TEXT NOT NULL, event_type TEXT NOT NULL, occurred_at TIMESTAMP NOT NULL, payload TEXT NOT NULL);
        CREATE SCHEMA etl;
        CREATE TABLE etl.load_history (object_key VARCHAR(1024) NOT NULL, etag VARCHAR(128) NOT NULL, row_count BIGINT NOT NULL, loaded_at TIMESTAMP NOT NULL,
          PRIMARY KEY (object_key, etag), CONSTRAINT no_refused_keys CHECK (object_key NOT LIKE '%refused%'));`),
    );
    warehouse = await startRedshiftDataServer({ postgres, s3 });
    dataApi = new RedshiftDataClient({ region: EMULATOR_REGION, endpoint: warehouse.endpoint, credentials: EMULATOR_CREDENTIALS });
  });
  afterAll(async () => {
    dataApi?.destroy();
    await warehouse?.stop();
    s3?.destroy();
    await Promise.all([s3Server?.stop(), postgres?.stop()]);
  });

  const settings = (): LoaderSettings => ({
    warehouse: { clusterIdentifier: "dp-local-warehouse" },
    database: "analytics",
    copyRoleArn: ROLE,
    targets: WAREHOUSE_LOAD_TARGETS,
    poll: { timeoutMs: 20_000, initialDelayMs: 20, maxDelayMs: 100 },
  });
  const clients = (): LoaderClients => ({ dataApi, readObject: (bucket, key) => readObjectText(s3, bucket, key) });

  const row = (id: string, overrides: Partial<CleanEventRow> = {}): CleanEventRow => ({
    event_id: id,
    source: "orders",
    entity_id: `entity-${id}`,
    event_type: "order.created",
    occurred_at: "2026-11-01T10:00:00.000Z",
    event_date: "2026-11-01",
    payload: { id },
    ...overrides,
  });

  /** Runs the real staging function on a clean object; returns the manifest it wrote. */
  async function stage(name: string, rows: CleanEventRow[]): Promise<string> {
    const cleanKey = `clean/source=orders/${name}-${++cleanCounter}.jsonl`;
    await s3.send(new PutObjectCommand({ Bucket: TRANSFORMED, Key: cleanKey, Body: rows.map((r) => JSON.stringify(r)).join("\n") + "\n" }));
    const outcome = await stageCleanObject({ s3, stagedBucket: STAGED, log: () => undefined }, TRANSFORMED, cleanKey);
    return outcome.manifestKey!;
  }

  /** The EventBridge "Object Created" event S3 sends for a staged object, with its real ETag and size. */
  async function objectCreated(key: string): Promise<S3ObjectCreatedNotificationEvent> {
    const head = await s3.send(new HeadObjectCommand({ Bucket: STAGED, Key: key }));
    return {
      version: "0",
      id: `event-${key}`,
      "detail-type": "Object Created",
      source: "aws.s3",
      account: "123456789012",
      time: "2026-11-02T10:20:30Z",
      region: EMULATOR_REGION,
      resources: [`arn:aws:s3:::${STAGED}`],
      detail: {
        version: "0",
        bucket: { name: STAGED },
        object: { key: encodeURIComponent(key).replace(/%2F/g, "/"), size: head.ContentLength!, etag: head.ETag!.replace(/"/g, ""), sequencer: "1" },
        "request-id": "r",
        requester: "123456789012",
        "source-ip-address": "127.0.0.1",
        reason: "PutObject",
      },
    } as S3ObjectCreatedNotificationEvent;
  }

  const events = (ids: string[]) =>
    postgres.withClient(async (client) =>
      (await client.query("SELECT event_id, entity_id, event_type, occurred_at::text AS occurred_at, payload FROM lake.events WHERE event_id = ANY($1) ORDER BY event_id", [ids])).rows,
    );
  const historyOf = (key: string) =>
    postgres.withClient(async (client) => (await client.query("SELECT row_count::int AS row_count FROM etl.load_history WHERE object_key = $1", [key])).rows);
  const recordOf = (id: string) => warehouse.statements().find((record) => record.id === id)!;

  async function waitFor(id: string, done: (description: DescribeStatementCommandOutput) => boolean): Promise<DescribeStatementCommandOutput> {
    for (;;) {
      const description = await dataApi.send(new DescribeStatementCommand({ Id: id }));
      if (done(description)) return description;
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
  }

  it("loads every staged row exactly once (quotes and newlines intact), and a re-delivery adds nothing", async () => {
    const manifest = await stage("first", [
      row("a-1", { entity_id: 'line one\nline "two"', event_type: "order, created" }),
      row("a-2", { occurred_at: "2026-11-02T08:30:00.000Z", event_date: "2026-11-02" }),
      row("a-3"),
    ]);
    const event = await objectCreated(manifest);

    const outcome = await loadStagedObject(event, settings(), clients());

    expect(outcome).toMatchObject({ status: "committed", key: manifest, target: "lake.events" });
    expect(await events(["a-1", "a-2", "a-3"])).toEqual([
      { event_id: "a-1", entity_id: 'line one\nline "two"', event_type: "order, created", occurred_at: "2026-11-01 10:00:00", payload: '{"id":"a-1"}' },
      { event_id: "a-2", entity_id: "entity-a-2", event_type: "order.created", occurred_at: "2026-11-02 08:30:00", payload: '{"id":"a-2"}' },
      { event_id: "a-3", entity_id: "entity-a-3", event_type: "order.created", occurred_at: "2026-11-01 10:00:00", payload: '{"id":"a-3"}' },
    ]);
    expect(await historyOf(manifest)).toEqual([{ row_count: 3 }]);
    const record = recordOf((outcome as { statementId: string }).statementId);
    expect(record.statusHistory).toEqual(["SUBMITTED", "PICKED", "STARTED", "FINISHED"]);
    const copy = record.subStatements.find((sub) => sub.queryString.startsWith(COPY_PREFIX))!;
    expect(copy).toMatchObject({ id: `${record.id}:4`, status: "FINISHED", resultRows: 3 });

    // The same object delivered again: the load-history skip, through the real batch.
    await expect(loadStagedObject(event, settings(), clients())).resolves.toMatchObject({ status: "committed" });
    expect(await events(["a-1", "a-2", "a-3"])).toHaveLength(3);
    expect(await historyOf(manifest)).toEqual([{ row_count: 3 }]);
    const [, again] = warehouse.statements().filter((r) => r.subStatements.some((sub) => sub.queryString.includes(manifest)));
    expect(again.subStatements.map((sub) => sub.resultRows).slice(3)).toEqual([3, 0, 0, 0]);
  });

  it("rolls back the whole batch when its last statement fails, and the loader reports the step and the error", async () => {
    const manifest = await stage("refused", [row("r-1"), row("r-2")]);

    const failure = loadStagedObject(await objectCreated(manifest), settings(), clients());

    await expect(failure).rejects.toMatchObject({ name: "StatementFailedError", status: "FAILED", failedStep: "record-load", sqlError: expect.stringMatching(/^ERROR: .*no_refused_keys/) });
    // The MERGE ran before the failure; the rollback took its rows away with it.
    expect(await events(["r-1", "r-2"])).toEqual([]);
    expect(await historyOf(manifest)).toEqual([]);
    const record = warehouse.statements().at(-1)!;
    expect(record.status).toBe("FAILED");
    expect(record.error).toMatch(/no_refused_keys/);
    expect(record.subStatements.map((sub) => sub.status)).toEqual(["FINISHED", "FINISHED", "FINISHED", "FINISHED", "FINISHED", "FINISHED", "FAILED"]);
  });

  it("fails COPY on a missing mandatory manifest file, loading none of the unit's files", async () => {
    const present = csvDocument([row("m-1")]);
    await s3.send(new PutObjectCommand({ Bucket: STAGED, Key: "events/event_date=2026-11-01/present.csv", Body: present }));
    const manifest = "manifests/missing-file.manifest";
    await s3.send(
      new PutObjectCommand({
        Bucket: STAGED,
        Key: manifest,
        Body: copyManifest(STAGED, [
          { key: "events/event_date=2026-11-01/present.csv", bytes: Buffer.byteLength(present) },
          { key: "events/event_date=2026-11-01/gone.csv", bytes: 10 },
        ]),
      }),
    );

    await expect(loadStagedObject(await objectCreated(manifest), settings(), clients())).rejects.toMatchObject({
      failedStep: "copy",
      sqlError: expect.stringContaining(`mandatory file s3://${STAGED}/events/event_date=2026-11-01/gone.csv cannot be read`),
    });
    expect(await events(["m-1"])).toEqual([]);
    expect(await historyOf(manifest)).toEqual([]);
  });

  it("gunzips data files when the COPY says GZIP", async () => {
    const body = gzipSync(csvDocument([row("z-1"), row("z-2")]));
    await s3.send(new PutObjectCommand({ Bucket: STAGED, Key: "events/event_date=2026-11-01/zipped.csv.gz", Body: body }));
    const manifest = "manifests/zipped.manifest";
    await s3.send(new PutObjectCommand({ Bucket: STAGED, Key: manifest, Body: copyManifest(STAGED, [{ key: "events/event_date=2026-11-01/zipped.csv.gz", bytes: body.length }]) }));
    const gzipTargets = WAREHOUSE_LOAD_TARGETS.map((target) => ({ ...target, gzip: true }));

    await loadStagedObject(await objectCreated(manifest), { ...settings(), targets: gzipTargets }, clients());

    expect((await events(["z-1", "z-2"])).map((r) => r.event_id)).toEqual(["z-1", "z-2"]);
  });

  it("refuses a COPY form it does not translate with a FAILED status naming it", async () => {
    const { Id } = await dataApi.send(
      new BatchExecuteStatementCommand({
        WorkgroupName: "dp-local",
        Database: "analytics",
        Sqls: ["CREATE TEMP TABLE t (a TEXT)", `COPY t FROM 's3://${STAGED}/x.json' IAM_ROLE '${ROLE}' REGION 'us-east-1' FORMAT AS JSON 'auto'`],
      }),
    );
    const description = await waitFor(Id!, (d) => d.Status === "FAILED");
    expect(description.WorkgroupName).toBe("dp-local");
    expect(description.SubStatements![1]).toMatchObject({ Id: `${Id}:2`, Status: "FAILED", Error: expect.stringMatching(/translates only COPY .*refused: COPY t FROM .*FORMAT AS JSON/) });
    expect(description.Error).toBe(description.SubStatements![1].Error);
  });

  it("cancels a running batch: ABORTED, everything rolled back", async () => {
    const { Id } = await dataApi.send(
      new BatchExecuteStatementCommand({ ClusterIdentifier: "dp-local", Database: "analytics", Sqls: ["CREATE TABLE lake.cancelled_marker (x INT)", "SELECT pg_sleep(60)"] }),
    );
    await waitFor(`${Id}:2`, (d) => d.Status === "STARTED");

    expect((await dataApi.send(new CancelStatementCommand({ Id }))).Status).toBe(true);

    const description = await waitFor(Id!, (d) => d.Status === "ABORTED");
    expect(description.SubStatements!.map((sub) => sub.Status)).toEqual(["FINISHED", "ABORTED"]);
    const marker = await postgres.withClient(async (client) => (await client.query("SELECT to_regclass('lake.cancelled_marker') AS name")).rows[0].name);
    expect(marker).toBeNull();
    await expect(dataApi.send(new CancelStatementCommand({ Id }))).rejects.toMatchObject({ name: "ValidationException", message: expect.stringMatching(/already in ABORTED status/) });
  });

  it("answers with the Data API's errors: unknown statements, malformed ids, bad requests", async () => {
    await expect(dataApi.send(new DescribeStatementCommand({ Id: "00000000-0000-0000-0000-000000000000" }))).rejects.toMatchObject({
      name: "ResourceNotFoundException",
      ResourceId: "00000000-0000-0000-0000-000000000000",
    });
    await expect(dataApi.send(new DescribeStatementCommand({ Id: "not-an-id" }))).rejects.toMatchObject({ name: "ValidationException" });
    await expect(dataApi.send(new BatchExecuteStatementCommand({ Database: "analytics", Sqls: ["SELECT 1"] }))).rejects.toMatchObject({
      name: "ValidationException",
      message: "Exactly one of ClusterIdentifier or WorkgroupName is required",
    });
  });

  it("serves the loader as shipped, configured the way AnalyticsWarehouse configures it", async () => {
    const manifest = await stage("shipped", [row("s-1"), row("s-2")]);
    const env = {
      WAREHOUSE_CLUSTER_ID: "dp-local-warehouse",
      WAREHOUSE_DATABASE: "analytics",
      COPY_ROLE_ARN: ROLE,
      LOAD_TARGETS: JSON.stringify(WAREHOUSE_LOAD_TARGETS),
      POLL_TIMEOUT_MS: "20000",
      AWS_ENDPOINT_URL_REDSHIFT_DATA: warehouse.endpoint,
      AWS_ENDPOINT_URL_S3: s3Server.endpoint,
    };

    const outcome = await invokeShipped(loaderCallbackFactory, env, await objectCreated(manifest));

    expect(outcome).toMatchObject({ status: "committed", key: manifest, target: "lake.events" });
    expect((await events(["s-1", "s-2"])).map((r) => r.event_id)).toEqual(["s-1", "s-2"]);
    expect(await historyOf(manifest)).toEqual([{ row_count: 2 }]);
  });
});
