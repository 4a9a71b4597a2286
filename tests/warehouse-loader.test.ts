/**
 * The warehouse loader: SQL building and quoting (pure), the load transaction minus
 * COPY against a real PostgreSQL, and Data API polling against a scripted client.
 *
 * What is and is not covered: Redshift has no emulator. PostgreSQL (embedded, >= 15)
 * runs the same staging, deduplication, MERGE and load-history statements, which
 * proves the upsert and the re-delivery skip; COPY itself (S3 access, JSON 'auto'
 * mapping, IAM_ROLE) and Redshift-only behaviour (serializable-isolation conflicts)
 * are checked only as generated text.
 */
import { BatchExecuteStatementCommand, CancelStatementCommand, DescribeStatementCommand, RedshiftDataClient } from "@aws-sdk/client-redshift-data";
import { PutObjectCommand, S3Client } from "@aws-sdk/client-s3";
import type { S3ObjectCreatedNotificationEvent } from "aws-lambda";
import { Client } from "pg";
import {
  DEFAULT_HISTORY_TABLE,
  DataApiClient,
  LoadPlan,
  LoadTarget,
  LoaderClients,
  buildEmptyLoadStatements,
  buildLoadStatements,
  inferFormat,
  loadStagedObject,
  loadTargetProblems,
  quoteIdentifier,
  manifestEntryCount,
  quoteLiteral,
  statementTimeoutError,
  targetFor,
  waitForStatement,
} from "../functions/warehouse-loader";
import { copyManifest } from "../functions/lake-staging";
import { readObjectText } from "../functions/lake-objects";
import { WAREHOUSE_LOAD_TARGETS } from "../platform/stores";
import { EMULATOR_CREDENTIALS, EMULATOR_REGION, RunningEmulator, s3Client, startS3rver } from "./support/aws-emulators";
import { LocalPostgres, startPostgres } from "./support/local-databases";
import { encodeS3NotificationKey, thirdPartyEvent } from "./support/third-party-events";

// eslint-disable-next-line @typescript-eslint/no-require-imports
const { installRedshiftDataStub } = require("./support/redshift-data-stub") as {
  installRedshiftDataStub: (script: { statementId: string; statuses: object[] }) => { restore(): void; commandCalls(command: unknown): { args: [{ input: any }] }[] };
};

const ORDERS: LoadTarget = {
  prefix: "warehouse/sales/orders/",
  schema: "sales",
  table: "orders",
  columns: ["order_id", "branch_code", "amount", "updated_at"],
  keyColumns: ["order_id"],
  orderColumn: "updated_at",
};
const ROLE = "arn:aws:iam::123456789012:role/copy";

function plan(key: string, etag: string, target: LoadTarget = ORDERS): LoadPlan {
  return {
    target,
    object: { bucket: "dp-dev-staged", key, etag, region: "eu-west-1" },
    copyRoleArn: ROLE,
    historyTable: DEFAULT_HISTORY_TABLE,
    loadedAt: new Date("2026-11-02T10:20:30.000Z"),
  };
}

describe("quoting", () => {
  it("quotes identifiers, doubling embedded double quotes", () => {
    expect(quoteIdentifier("orders")).toBe('"orders"');
    expect(quoteIdentifier('x"; DROP TABLE sales.orders; --')).toBe('"x""; DROP TABLE sales.orders; --"');
    expect(quoteIdentifier("Größe")).toBe('"Größe"');
  });

  it("refuses identifiers no quoting makes safe", () => {
    expect(() => quoteIdentifier("")).toThrow(/empty/);
    expect(() => quoteIdentifier("a\u0000b")).toThrow(/control character/);
    expect(() => quoteIdentifier("line\nbreak")).toThrow(/control character/);
    expect(() => quoteIdentifier("x".repeat(128))).toThrow(/127 bytes/);
    expect(quoteIdentifier("x".repeat(127))).toHaveLength(129);
  });

  it("quotes literals, doubling single quotes, and refuses backslashes and control characters", () => {
    expect(quoteLiteral("O'Brien")).toBe("'O''Brien'");
    expect(quoteLiteral("'; DROP TABLE sales.orders; --")).toBe("'''; DROP TABLE sales.orders; --'");
    expect(() => quoteLiteral("a\\'b")).toThrow(/backslash/);
    expect(() => quoteLiteral("a\rb")).toThrow(/control character/);
  });
});

describe("load statements", () => {
  it("infers the format from the key", () => {
    expect(inferFormat("a/b.json")).toBe("JSON");
    expect(inferFormat("a/b.ndjson.gz")).toBe("JSON");
    expect(inferFormat("a/B.CSV")).toBe("CSV");
    expect(inferFormat("a/b.parquet")).toBe("PARQUET");
    expect(inferFormat("a/b.txt")).toBeUndefined();
  });

  it("picks the longest matching prefix and ignores unclaimed keys", () => {
    const general = { ...ORDERS, prefix: "warehouse/sales/" };
    expect(targetFor("warehouse/sales/orders/x.json", [general, ORDERS])).toBe(ORDERS);
    expect(targetFor("warehouse/sales/returns/x.json", [general, ORDERS])).toBe(general);
    expect(targetFor("raw/x.json", [general, ORDERS])).toBeUndefined();
  });

  it("refuses targets a MERGE could not serve", () => {
    expect(loadTargetProblems(ORDERS)).toEqual([]);
    const problems = loadTargetProblems({ ...ORDERS, prefix: "", keyColumns: ["id"], orderColumn: "ts", columns: ["id"] });
    expect(problems.join("\n")).toMatch(/prefix must not be empty/);
    expect(problems.join("\n")).toMatch(/outside the key/);
    expect(problems.join("\n")).toMatch(/orderColumn "ts"/);
    expect(loadTargetProblems({ ...ORDERS, keyColumns: ["nope"] })).toEqual([expect.stringMatching(/key column "nope"/)]);
    expect(() => buildLoadStatements(plan("warehouse/sales/orders/a.json", "e", { ...ORDERS, keyColumns: [] }))).toThrow(/Invalid load target/);
  });

  it("builds one transaction: history, staging, COPY, dedupe, MERGE, record", () => {
    const statements = buildLoadStatements(plan("warehouse/sales/orders/2026/11/02/part-1.json.gz", "abc123"));
    expect(statements.map((s) => s.step)).toEqual(["create-history-schema", "create-history", "create-staging", "copy", "deduplicate", "merge", "record-load"]);
    const copy = statements.find((s) => s.step === "copy")!.sql;
    expect(copy).toBe(
      "COPY loader_staged_rows FROM 's3://dp-dev-staged/warehouse/sales/orders/2026/11/02/part-1.json.gz' " +
        `IAM_ROLE '${ROLE}' REGION 'eu-west-1' FORMAT AS JSON 'auto' TIMEFORMAT 'auto' GZIP`,
    );
    const merge = statements.find((s) => s.step === "merge")!.sql;
    expect(merge).toContain('MERGE INTO "sales"."orders" AS tgt USING loader_latest_rows AS src ON tgt."order_id" = src."order_id"');
    expect(merge).toContain('UPDATE SET "branch_code" = src."branch_code", "amount" = src."amount", "updated_at" = src."updated_at"');
    expect(merge).not.toContain('SET "order_id"');
  });

  it("names CSV columns positionally and skips the header", () => {
    const copy = buildLoadStatements(plan("warehouse/sales/orders/a.csv", "e")).find((s) => s.step === "copy")!.sql;
    expect(copy).toContain('COPY loader_staged_rows ("order_id", "branch_code", "amount", "updated_at") FROM');
    expect(copy).toContain("FORMAT AS CSV IGNOREHEADER 1");
    expect(copy).not.toContain("GZIP");
  });

  it("loads a manifest's data files as one unit (COPY ... MANIFEST)", () => {
    const events: LoadTarget = { ...ORDERS, prefix: "manifests/", manifest: true, format: "CSV" };
    const copy = buildLoadStatements(plan("manifests/batch-7.manifest", "e", events)).find((s) => s.step === "copy")!.sql;
    expect(copy).toContain("FROM 's3://dp-dev-staged/manifests/batch-7.manifest' IAM_ROLE");
    expect(copy).toContain(" MANIFEST FORMAT AS CSV IGNOREHEADER 1 TIMEFORMAT 'auto'");
    expect(loadTargetProblems({ ...events, format: undefined })).toEqual([expect.stringMatching(/manifest target needs/)]);
    expect(buildLoadStatements(plan("manifests/b.manifest", "e", { ...events, gzip: true })).find((s) => s.step === "copy")!.sql).toMatch(/ GZIP$/);
  });

  it("keeps hostile keys and names inside their quotes", () => {
    const hostileKey = "warehouse/sales/orders/it's'; DROP TABLE sales.orders; --.json";
    const statements = buildLoadStatements(plan(hostileKey, "e'1", { ...ORDERS, table: 'orders"; DROP TABLE x; --' }));
    const sql = statements.map((s) => s.sql).join("\n");
    expect(sql).toContain("'s3://dp-dev-staged/warehouse/sales/orders/it''s''; DROP TABLE sales.orders; --.json'");
    expect(sql).toContain('"sales"."orders""; DROP TABLE x; --"');
    expect(sql).toContain("etag = 'e''1'");
    expect(() => buildLoadStatements(plan("warehouse/sales/orders/a\\b.json", "e"))).toThrow(/backslash/);
    expect(() => buildLoadStatements(plan("warehouse/sales/orders/a.bin", "e"))).toThrow(/Cannot tell the format/);
  });
});

describe("the load transaction against PostgreSQL (COPY replaced by an INSERT)", () => {
  let postgres: LocalPostgres;
  beforeAll(async () => {
    postgres = await startPostgres();
    await postgres.withClient((client) =>
      client.query(`
        CREATE SCHEMA sales;
        CREATE TABLE sales.orders (order_id BIGINT PRIMARY KEY, branch_code TEXT NOT NULL, amount NUMERIC(12,2) NOT NULL, updated_at TIMESTAMP NOT NULL);
        INSERT INTO sales.orders VALUES (1, 'LDN', 10.00, '2026-11-01 09:00'), (2, 'LDN', 20.00, '2026-11-01 09:00');`),
    );
  });
  afterAll(async () => {
    await postgres?.stop();
  });

  type Row = [number, string | null, number, string];

  /** Runs the batch as the Data API would: its own session, one transaction; the staged rows stand in for COPY. */
  async function runLoad(loadPlan: LoadPlan, stagedRows: Row[]): Promise<void> {
    await postgres.withClient(async (client: Client) => {
      await client.query("BEGIN");
      try {
        for (const statement of buildLoadStatements(loadPlan)) {
          if (statement.step === "copy") {
            for (const row of stagedRows) await client.query("INSERT INTO loader_staged_rows VALUES ($1, $2, $3, $4)", row);
          } else {
            await client.query(statement.sql);
          }
        }
        await client.query("COMMIT");
      } catch (error) {
        await client.query("ROLLBACK");
        throw error;
      }
    });
  }

  const orders = () =>
    postgres.withClient(async (client) => (await client.query("SELECT order_id::int AS id, branch_code, amount::float AS amount FROM sales.orders ORDER BY 1")).rows);
  const history = () =>
    postgres.withClient(async (client) => (await client.query("SELECT object_key, etag, row_count::int AS row_count FROM etl.load_history ORDER BY loaded_at, object_key")).rows);

  it("upserts the newest row per key and records the object", async () => {
    await runLoad(plan("warehouse/sales/orders/a.json", "etag-a"), [
      [2, "LDN", 25.0, "2026-11-02 08:00"],
      [2, "LDN", 99.0, "2026-11-02 07:00"], // older duplicate of order 2: loses
      [3, "MAN", 30.0, "2026-11-02 08:00"],
    ]);
    expect(await orders()).toEqual([
      { id: 1, branch_code: "LDN", amount: 10 },
      { id: 2, branch_code: "LDN", amount: 25 },
      { id: 3, branch_code: "MAN", amount: 30 },
    ]);
    expect(await history()).toEqual([{ object_key: "warehouse/sales/orders/a.json", etag: "etag-a", row_count: 2 }]);
  });

  it("skips a re-delivered object (same key and ETag) without touching the target", async () => {
    await runLoad(plan("warehouse/sales/orders/a.json", "etag-a"), [[2, "LDN", 1000.0, "2026-11-03 08:00"]]);
    expect((await orders()).find((row) => row.id === 2)).toEqual({ id: 2, branch_code: "LDN", amount: 25 });
    expect(await history()).toHaveLength(1);
  });

  it("loads an overwritten object again (new ETag)", async () => {
    await runLoad(plan("warehouse/sales/orders/a.json", "etag-a2"), [[2, "LDN", 26.0, "2026-11-03 08:00"]]);
    expect((await orders()).find((row) => row.id === 2)).toEqual({ id: 2, branch_code: "LDN", amount: 26 });
    expect((await history()).map((row) => row.etag)).toEqual(["etag-a", "etag-a2"]);
  });

  it("rolls back everything, history included, when a statement fails", async () => {
    await expect(runLoad(plan("warehouse/sales/orders/bad.json", "etag-bad"), [[4, null, 40.0, "2026-11-03 08:00"]])).rejects.toThrow(/null value/);
    expect((await orders()).map((row) => row.id)).toEqual([1, 2, 3]);
    expect((await history()).map((row) => row.etag)).not.toContain("etag-bad");
    // The retry after a fix loads normally.
    await runLoad(plan("warehouse/sales/orders/bad.json", "etag-bad"), [[4, "LDS", 40.0, "2026-11-03 08:00"]]);
    expect((await orders()).map((row) => row.id)).toEqual([1, 2, 3, 4]);
  });

  it("records a hostile object key verbatim and leaves the schema intact", async () => {
    const key = "warehouse/sales/orders/it's'; DROP TABLE sales.orders; --.json";
    await runLoad(plan(key, "e'1"), [[5, "O'Neil", 50.0, "2026-11-03 08:00"]]);
    expect((await orders()).find((row) => row.id === 5)).toEqual({ id: 5, branch_code: "O'Neil", amount: 50 });
    expect((await history()).find((row) => row.etag === "e'1")).toEqual({ object_key: key, etag: "e'1", row_count: 1 });
  });
});

/**
 * No Redshift Data API server can run locally, so this is the one place a scripted
 * client stands in: it returns the responses a test lists and records every command.
 */
function scriptedDataApi(descriptions: object[]): DataApiClient & { commands: unknown[] } {
  const commands: unknown[] = [];
  let next = 0;
  return {
    commands,
    async send(command) {
      commands.push(command);
      if (command instanceof BatchExecuteStatementCommand) return { Id: "stmt-1" };
      if (command instanceof DescribeStatementCommand) return descriptions[Math.min(next++, descriptions.length - 1)];
      if (command instanceof CancelStatementCommand) return { Status: true };
      throw new Error(`unscripted command ${(command as object).constructor.name}`);
    },
  };
}

/** A clock that only moves when the poller sleeps, so the timeout is reached without waiting. */
function fakeClock() {
  let now = 0;
  return { now: () => now, sleep: async (ms: number) => void (now += ms) };
}

function objectCreated(key: string): S3ObjectCreatedNotificationEvent {
  return {
    version: "0",
    id: "event-1",
    "detail-type": "Object Created",
    source: "aws.s3",
    account: "123456789012",
    time: "2026-11-02T10:20:30Z",
    region: "eu-west-1",
    resources: ["arn:aws:s3:::dp-dev-staged"],
    detail: {
      version: "0",
      bucket: { name: "dp-dev-staged" },
      object: { key, size: 10, etag: "etag-1", "version-id": "v1", sequencer: "1" },
      "request-id": "r",
      requester: "123456789012",
      "source-ip-address": "1.2.3.4",
      reason: "PutObject",
    },
  };
}

/** Loader clients over a scripted Data API; no test here reads an object unless it says so. */
function loaderClients(dataApi: DataApiClient, readObject: LoaderClients["readObject"] = unreadable): LoaderClients {
  return { dataApi, readObject };
}

async function unreadable(bucket: string, key: string): Promise<string> {
  throw new Error(`unexpected read of s3://${bucket}/${key}`);
}

describe("Data API submission and polling (scripted client)", () => {
  const settings = (clock = fakeClock()) => ({
    warehouse: { workgroupName: "dp-dev-warehouse" },
    database: "analytics",
    copyRoleArn: ROLE,
    targets: [ORDERS],
    poll: { timeoutMs: 10_000, ...clock },
    clock: () => new Date("2026-11-02T10:20:30Z"),
  });

  it("submits one batch to the workgroup and waits until it finishes", async () => {
    const client = scriptedDataApi([{ Status: "SUBMITTED" }, { Status: "STARTED" }, { Status: "FINISHED" }]);
    const outcome = await loadStagedObject(objectCreated("warehouse/sales/orders/a.json"), settings(), loaderClients(client));
    expect(outcome).toEqual({ status: "committed", key: "warehouse/sales/orders/a.json", statementId: "stmt-1", target: "sales.orders" });
    const batch = client.commands[0] as BatchExecuteStatementCommand;
    expect(batch.input).toMatchObject({ WorkgroupName: "dp-dev-warehouse", Database: "analytics" });
    expect(batch.input).not.toHaveProperty("SecretArn");
    expect(batch.input.Sqls).toHaveLength(7);
    expect(client.commands.filter((c) => c instanceof DescribeStatementCommand)).toHaveLength(3);
  });

  it("addresses a provisioned cluster by identifier", async () => {
    const client = scriptedDataApi([{ Status: "FINISHED" }]);
    await loadStagedObject(objectCreated("warehouse/sales/orders/a.json"), { ...settings(), warehouse: { clusterIdentifier: "dp-prod-warehouse" } }, loaderClients(client));
    expect((client.commands[0] as BatchExecuteStatementCommand).input).toMatchObject({ ClusterIdentifier: "dp-prod-warehouse" });
    expect((client.commands[0] as BatchExecuteStatementCommand).input).not.toHaveProperty("WorkgroupName");
  });

  it("surfaces the SQL error with the statement id and the failing step", async () => {
    const client = scriptedDataApi([
      {
        Status: "FAILED",
        Error: "batch failed",
        SubStatements: [
          { Id: "stmt-1:1", Status: "FINISHED" },
          { Id: "stmt-1:2", Status: "FINISHED" },
          { Id: "stmt-1:3", Status: "FINISHED" },
          { Id: "stmt-1:4", Status: "FAILED", Error: "ERROR: S3ServiceException: Access Denied" },
        ],
      },
    ]);
    const failure = loadStagedObject(objectCreated("warehouse/sales/orders/a.json"), settings(), loaderClients(client));
    await expect(failure).rejects.toBeInstanceOf(Error);
    await expect(failure).rejects.toMatchObject({
      name: "StatementFailedError",
      message: 'Redshift statement stmt-1 failed at step "copy": ERROR: S3ServiceException: Access Denied',
      statementId: "stmt-1",
      status: "FAILED",
      failedStep: "copy",
      sqlError: "ERROR: S3ServiceException: Access Denied",
    });
  });

  it("gives up after the timeout, cancels the statement and says which one", async () => {
    const client = scriptedDataApi([{ Status: "STARTED" }]);
    const clock = fakeClock();
    await expect(waitForStatement(client, "stmt-9", { timeoutMs: 5_000, ...clock })).rejects.toMatchObject({
      name: "StatementTimeoutError",
      message: statementTimeoutError("stmt-9", "STARTED").message,
      statementId: "stmt-9",
      lastStatus: "STARTED",
    });
    const cancel = client.commands.find((c) => c instanceof CancelStatementCommand) as CancelStatementCommand;
    expect(cancel.input).toEqual({ Id: "stmt-9" });
    expect(clock.now()).toBeLessThanOrEqual(5_000);
  });

  it("ignores objects no target claims without calling the Data API", async () => {
    const client = scriptedDataApi([]);
    const outcome = await loadStagedObject(objectCreated("raw/ingest/a.json"), settings(), loaderClients(client));
    expect(outcome.status).toBe("ignored");
    expect(client.commands).toEqual([]);
  });

  it("refuses an event that is not an S3 Object Created event", async () => {
    const client = scriptedDataApi([]);
    await expect(loadStagedObject({ region: "eu-west-1", detail: {} } as unknown as S3ObjectCreatedNotificationEvent, settings(), loaderClients(client))).rejects.toThrow(/Not an S3 "Object Created" event/);
  });
});

/** The EventBridge "Object Created" samples published by Powertools (TypeScript and Python). */
const EVENTBRIDGE_OBJECT_CREATED = [
  "powertools-lambda-typescript/packages/parser/tests/events/s3/eventbridge-object-created.json",
  "powertools-lambda-python/tests/events/s3EventBridgeNotificationObjectCreatedEvent.json",
];

describe("the loader on EventBridge events as S3 sends them (third-party samples, s3rver, PostgreSQL)", () => {
  const STAGED = "dp-dev-staged";
  const [EVENTS_TARGET] = WAREHOUSE_LOAD_TARGETS;
  let s3Server: RunningEmulator;
  let s3: S3Client;
  let postgres: LocalPostgres;
  let stub: ReturnType<typeof installRedshiftDataStub>;
  let etagCounter = 0;

  beforeAll(async () => {
    [s3Server, postgres] = await Promise.all([startS3rver([STAGED]), startPostgres()]);
    s3 = s3Client(s3Server);
    await postgres.withClient((client) =>
      client.query("CREATE SCHEMA lake; CREATE TABLE lake.events (event_id TEXT PRIMARY KEY, source TEXT, entity_id TEXT, event_type TEXT, occurred_at TIMESTAMP, payload TEXT)"),
    );
  });
  afterAll(async () => {
    s3?.destroy();
    await Promise.all([s3Server?.stop(), postgres?.stop()]);
  });
  beforeEach(() => {
    stub = installRedshiftDataStub({ statementId: "stmt-eb", statuses: [{ Status: "SUBMITTED" }, { Status: "STARTED" }, { Status: "FINISHED" }] });
  });
  afterEach(() => stub.restore());

  const settings = () => ({
    warehouse: { clusterIdentifier: "dp-dev-warehouse" },
    database: "analytics",
    copyRoleArn: ROLE,
    targets: WAREHOUSE_LOAD_TARGETS,
    poll: { timeoutMs: 10_000, ...fakeClock() },
    clock: () => new Date("2026-11-02T10:20:30Z"),
  });
  const clients = (): LoaderClients => ({
    dataApi: new RedshiftDataClient({ region: EMULATOR_REGION, credentials: EMULATOR_CREDENTIALS }),
    readObject: (bucket, key) => readObjectText(s3, bucket, key),
  });
  /** A published sample re-aimed at one staged object; its key encoded the way S3 encodes keys in events. */
  function objectCreatedFrom(fixture: string, key: string, size: number): S3ObjectCreatedNotificationEvent {
    const event = thirdPartyEvent<S3ObjectCreatedNotificationEvent>(fixture);
    event.resources = [`arn:aws:s3:::${STAGED}`];
    event.detail.bucket.name = STAGED;
    event.detail.object.key = encodeS3NotificationKey(key);
    event.detail.object.size = size;
    event.detail.object.etag = `etag-${++etagCounter}`;
    return event;
  }
  const putManifest = async (key: string, entries: { key: string; bytes: number }[]) => {
    const body = copyManifest(STAGED, entries);
    await s3.send(new PutObjectCommand({ Bucket: STAGED, Key: key, Body: body }));
    return Buffer.byteLength(body);
  };
  const submitted = () => stub.commandCalls(BatchExecuteStatementCommand).map((call) => call.args[0].input.Sqls as string[]);

  /** Replays a submitted batch as the Data API would run it, one transaction, with the staged rows standing in for COPY. */
  async function replayOnPostgres(sqls: string[], stagedRows: string[][] = []): Promise<void> {
    await postgres.withClient(async (client) => {
      await client.query("BEGIN");
      for (const sql of sqls) {
        if (sql.startsWith("COPY ")) {
          for (const row of stagedRows) await client.query("INSERT INTO loader_staged_rows VALUES ($1, $2, $3, $4, $5, $6)", row);
        } else {
          await client.query(sql);
        }
      }
      await client.query("COMMIT");
    });
  }
  const historyOf = (key: string) =>
    postgres.withClient(async (client) => (await client.query("SELECT object_key, row_count::int AS row_count FROM etl.load_history WHERE object_key = $1", [key])).rows);

  it.each(EVENTBRIDGE_OBJECT_CREATED)("loads the manifest a published Object Created event names (%s)", async (fixture) => {
    const key = `manifests/${fixture.split("/").pop()!.replace(".json", "")}.manifest`;
    const size = await putManifest(key, [{ key: "events/event_date=2026-11-01/a.csv", bytes: 120 }]);

    const outcome = await loadStagedObject(objectCreatedFrom(fixture, key, size), settings(), clients());

    expect(outcome).toEqual({ status: "committed", key, statementId: "stmt-eb", target: "lake.events" });
    const [sqls] = submitted();
    expect(sqls.find((sql) => sql.startsWith("COPY "))).toContain(`FROM 's3://${STAGED}/${key}' IAM_ROLE '${ROLE}' REGION '${"eu-west-1"}' MANIFEST FORMAT AS CSV`);
    await replayOnPostgres(sqls, [[`e-${etagCounter}`, "orders", "o-1", "order.created", "2026-11-01 10:00:00", "{}"]]);
    expect(await historyOf(key)).toEqual([{ object_key: key, row_count: 1 }]);
  });

  it("decodes the event's key: a space, a '+', a '%' and a non-ASCII character reach COPY and the history as S3 stores them", async () => {
    const key = "manifests/Q3 report+final 100% café.manifest";
    const size = await putManifest(key, [{ key: "events/event_date=2026-11-01/b.csv", bytes: 90 }]);
    const event = objectCreatedFrom(EVENTBRIDGE_OBJECT_CREATED[0], key, size);
    expect(event.detail.object.key).toBe("manifests/Q3+report%2Bfinal+100%25+caf%C3%A9.manifest");

    const outcome = await loadStagedObject(event, settings(), clients());

    expect(outcome).toMatchObject({ status: "committed", key });
    const [sqls] = submitted();
    expect(sqls.find((sql) => sql.startsWith("COPY "))).toContain(`FROM 's3://${STAGED}/manifests/Q3 report+final 100% café.manifest'`);
    await replayOnPostgres(sqls, [["e-decoded", "orders", "o-2", "order.created", "2026-11-01 11:00:00", "{}"]]);
    expect(await historyOf(key)).toEqual([{ object_key: key, row_count: 1 }]);
  });

  it.each([
    ["a folder created in the S3 console", "manifests/", 0, /folder marker/],
    ["a zero-byte upload", "manifests/zero-bytes.manifest", 0, /zero-byte object/],
  ])("skips %s without calling the Data API", async (_case, key, size, reason) => {
    for (const fixture of EVENTBRIDGE_OBJECT_CREATED) {
      const outcome = await loadStagedObject(objectCreatedFrom(fixture, key, size), settings(), clients());
      expect(outcome).toEqual({ status: "skipped", key, reason: expect.stringMatching(reason) });
    }
    expect(submitted()).toEqual([]);
  });

  it("records a manifest that names no files as an empty load, never runs COPY, and records it once", async () => {
    const key = "manifests/no-files.manifest";
    const size = await putManifest(key, []);
    const event = objectCreatedFrom(EVENTBRIDGE_OBJECT_CREATED[1], key, size);

    expect(await loadStagedObject(event, settings(), clients())).toEqual({ status: "empty", key, statementId: "stmt-eb", target: "lake.events" });
    await loadStagedObject(event, settings(), clients());

    const batches = submitted();
    expect(batches).toHaveLength(2);
    for (const sqls of batches) {
      expect(sqls.some((sql) => sql.startsWith("COPY "))).toBe(false);
      await replayOnPostgres(sqls);
    }
    expect(await historyOf(key)).toEqual([{ object_key: key, row_count: 0 }]);
    expect(buildEmptyLoadStatements(plan(key, "e", { ...EVENTS_TARGET })).map((statement) => statement.step)).toEqual(["create-history-schema", "create-history", "record-load"]);
  });

  it("refuses, naming the object, a manifest that is not one", async () => {
    const key = "manifests/not-json.manifest";
    await s3.send(new PutObjectCommand({ Bucket: STAGED, Key: key, Body: "entries: none" }));
    await expect(loadStagedObject(objectCreatedFrom(EVENTBRIDGE_OBJECT_CREATED[0], key, 13), settings(), clients())).rejects.toThrow(
      `s3://${STAGED}/${key} is not a COPY manifest`,
    );
    expect(() => manifestEntryCount('{"files": []}', "m")).toThrow('m is not a COPY manifest: it has no "entries" list');
    expect(submitted()).toEqual([]);
  });

  it("refuses the published non-S3 EventBridge event (an EC2 state change) with what it expected", async () => {
    const ec2 = thirdPartyEvent("powertools-lambda-typescript/packages/parser/tests/events/eventbridge/base.json");
    await expect(loadStagedObject(ec2, settings(), clients())).rejects.toThrow(/Not an S3 "Object Created" event with bucket, key and etag/);
  });
});
