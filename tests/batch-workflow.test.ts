/**
 * The batch layer's state machine (workflows/batch-pipeline.ts, built from workflows/asl.ts):
 * the helpers' own rules, the definition against asl-validator for dev- and prod-like
 * settings, its least-privilege permissions, and local executions with
 * aws-local-stepfunctions whose task overrides run the REAL handlers against local servers:
 * - headObject against s3rver;
 * - the warehouse load: the real loadStagedObject through the local Redshift Data API
 *   stand-in (local/redshift-data-server.ts, embedded PostgreSQL behind it);
 * - the reporting load: functions/batch-reporting-load.ts against embedded PostgreSQL;
 * - the crawler: a state model at the integration boundary moving through Glue's real
 *   crawler states (READY → RUNNING → STOPPING → READY) and raising Glue's error names;
 * - sns:publish: recorded (topic, message, attributes);
 * - the Glue jobs: the jobs' own Python logic through local/glue-jobs.ts (localGlueTask) on
 *   s3rver: supplier files in the raw drop zone, clean rows, quarantine, staged CSV and the
 *   COPY manifest, written as the Glue jobs write them.
 * Wait and retry pauses are overridden to 0, so nothing sleeps.
 */
import { DeleteObjectCommand, HeadObjectCommand, PutObjectCommand, S3Client } from "@aws-sdk/client-s3";
import { RedshiftDataClient } from "@aws-sdk/client-redshift-data";
import type { S3ObjectCreatedNotificationEvent } from "aws-lambda";
import { StateMachine } from "aws-local-stepfunctions";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import {
  BatchReportingLoadHandler,
  BatchReportingLoadSettings,
  applyBatchManifest,
  batchLoadPoolConfig,
  batchReportingLoadCallbackFactory,
  batchReportingLoadSettingsFromEnv,
  createBatchReportingLoad,
  parseLoadRequest,
} from "../functions/batch-reporting-load";
import { readObjectText } from "../functions/lake-objects";
import { STAGED_COLUMNS, copyManifest, csvDocument } from "../functions/lake-staging";
import type { CleanEventRow } from "../functions/lake-transform";
import { LoadTarget, LoaderSettings, loadStagedObject } from "../functions/warehouse-loader";
import { StartJobRunInput, localGlueTask, runGlueJobLocally } from "../local/glue-jobs";
import { RunningRedshiftDataServer, startRedshiftDataServer } from "../local/redshift-data-server";
import { WAREHOUSE_LOAD_TARGETS } from "../platform/stores";
import { Pool } from "pg";
import {
  GLUE_START_JOB_RUN_SYNC,
  LAMBDA_INVOKE,
  SNS_PUBLISH,
  StateMachineDefinition,
  TaskState,
  catchInto,
  choice,
  fail,
  pass,
  retry,
  serviceError,
  stateMachine,
  succeed,
  task,
  wait,
  when,
} from "../workflows/asl";
import {
  BATCH_COMPLETED_KIND,
  BatchPipelineRefs,
  BatchPipelineSettings,
  PIPELINE_ERRORS,
  STATES,
  batchPipelineDefinition,
  batchPipelinePermissions,
  batchPipelineSettingsProblems,
  executionTimeoutSeconds,
} from "../workflows/batch-pipeline";
import { LAKE_REPLAYED_KIND, LAKE_REPLAY_FAILED_KIND, LakeReplayRefs, LakeReplaySettings, REPLAY_INVALID_INPUT, REPLAY_STATES, lakeReplayDefinition, lakeReplayPermissions } from "../workflows/lake-replay";
import { EMULATOR_CREDENTIALS, EMULATOR_REGION, RunningEmulator, expectShipsAsFactory, listKeys, s3Client, startS3rver } from "./support/aws-emulators";
import { invokeAsShipped } from "./support/shipped";
import { LocalPostgres, startPostgres } from "./support/local-databases";

const { SECRETS_MANAGER_STUB_PATH } = require("./support/secrets-manager-stub") as { SECRETS_MANAGER_STUB_PATH: string };
// asl-validator ships no type declarations.
const aslValidator: (definition: unknown) => { isValid: boolean; errors: unknown[]; errorsText: (separator?: string) => string } = require("asl-validator");

const RAW = "bw-raw";
const TRANSFORMED = "bw-transformed";
const STAGED = "bw-staged";
const ACCOUNT = "123456789012";

const refs: BatchPipelineRefs = {
  batchFileJobName: "dp-dev-batch-file",
  curationJobName: "dp-dev-batch-curation",
  crawlerName: "dp-dev-batch-clean",
  warehouseLoaderFunctionArn: `arn:aws:lambda:${EMULATOR_REGION}:${ACCOUNT}:function:dp-dev-warehouse-loader-fn`,
  reportingLoadFunctionArn: `arn:aws:lambda:${EMULATOR_REGION}:${ACCOUNT}:function:dp-dev-batch-reporting-load-fn`,
  stagedBucket: STAGED,
  fanoutTopicArn: `arn:aws:sns:${EMULATOR_REGION}:${ACCOUNT}:dp-dev-lake-events`,
  alarmTopicArn: `arn:aws:sns:${EMULATOR_REGION}:${ACCOUNT}:dp-dev-alarms`,
  region: EMULATOR_REGION,
};

const devSettings: BatchPipelineSettings = {
  retry: { maxAttempts: 2, intervalSeconds: 5, backoffRate: 2 },
  glueJobTimeoutMinutes: 30,
  crawler: { pollIntervalSeconds: 30, maxPolls: 4 },
  warehouseLoadTimeoutSeconds: 300,
  reportingLoadTimeoutSeconds: 120,
};
const prodSettings: BatchPipelineSettings = {
  retry: { maxAttempts: 4, intervalSeconds: 10, backoffRate: 2, maxDelaySeconds: 300 },
  glueJobTimeoutMinutes: 240,
  glueTimeoutMarginMinutes: 15,
  crawler: { pollIntervalSeconds: 60, maxPolls: 60 },
  warehouseLoadTimeoutSeconds: 900,
  reportingLoadTimeoutSeconds: 300,
  apiCallTimeoutSeconds: 120,
};

const tasksOf = (definition: StateMachineDefinition) =>
  Object.entries(definition.States).filter((entry): entry is [string, TaskState] => entry[1].Type === "Task");

// ---- the helpers ----------------------------------------------------------------------

describe("ASL helpers (workflows/asl.ts)", () => {
  const anyTask = (next?: string) => task(LAMBDA_INVOKE, next, { timeoutSeconds: 10, retry: [retry(["Lambda.ServiceException"])], catch: [catchInto("Failed", "$.error")] });

  it("refuses a Next, Default or Catch target that names no state, naming the state and the target", () => {
    expect(() => stateMachine("A", { A: pass("B") }, "c", 60)).toThrow('state "A" hands over to "B", which names no state');
    expect(() => stateMachine("A", { A: choice([when({ Variable: "$.x", IsPresent: true }, "Done")], "Nowhere"), Done: succeed() }, "c", 60)).toThrow(
      'state "A" hands over to "Nowhere", which names no state',
    );
    expect(() => stateMachine("A", { A: anyTask("Done"), Done: succeed() }, "c", 60)).toThrow('state "A" hands over to "Failed", which names no state');
    expect(() => stateMachine("Start", { A: succeed() }, "c", 60)).toThrow('StartAt "Start" names no state');
  });

  it("refuses a state nothing reaches", () => {
    expect(() => stateMachine("A", { A: succeed(), Orphan: succeed() }, "c", 60)).toThrow('states not reachable from "A": Orphan');
  });

  it("builds a definition with every target resolved, End on the last task, and the timeout", () => {
    const definition = stateMachine("Call", { Call: anyTask(), Failed: fail("E", "why") }, "comment", 600);
    expect(definition).toEqual({
      Comment: "comment",
      StartAt: "Call",
      TimeoutSeconds: 600,
      States: {
        Call: {
          Type: "Task",
          Resource: "arn:aws:states:::lambda:invoke",
          TimeoutSeconds: 10,
          Retry: [{ ErrorEquals: ["Lambda.ServiceException"], IntervalSeconds: 1, MaxAttempts: 3, BackoffRate: 2, JitterStrategy: "FULL" }],
          Catch: [{ ErrorEquals: ["States.ALL"], Next: "Failed", ResultPath: "$.error" }],
          End: true,
        },
        Failed: { Type: "Fail", Error: "E", Cause: "why" },
      },
    });
    expect(aslValidator(definition).isValid).toBe(true);
  });

  it("checks retrier, task and wait limits", () => {
    expect(() => retry([])).toThrow("a retrier needs at least one error name");
    expect(() => retry(["X"], { intervalSeconds: 0 })).toThrow("IntervalSeconds must be a whole number of at least 1, got 0");
    expect(() => retry(["X"], { maxAttempts: -1 })).toThrow("MaxAttempts must be a whole number of at least 0, got -1");
    expect(() => retry(["X"], { backoffRate: 0.5 })).toThrow("BackoffRate must be at least 1, got 0.5");
    expect(retry(["X"], { maxDelaySeconds: 30, jitter: "NONE" })).toMatchObject({ MaxDelaySeconds: 30, JitterStrategy: "NONE" });
    expect(() => task(LAMBDA_INVOKE, undefined, { timeoutSeconds: 0, retry: [retry(["X"])], catch: [catchInto("F", null)] })).toThrow("TimeoutSeconds must be a whole number of at least 1, got 0");
    expect(() => task(LAMBDA_INVOKE, undefined, { timeoutSeconds: 5, retry: [], catch: [catchInto("F", null)] })).toThrow("needs at least one retrier");
    expect(() => task(LAMBDA_INVOKE, undefined, { timeoutSeconds: 5, retry: [retry(["X"])], catch: [] })).toThrow("needs at least one catcher");
    expect(() => wait(-1, "N")).toThrow("Wait Seconds must be a whole number of at least 0, got -1");
    expect(wait({ path: "$.seconds" }, "N")).toEqual({ Type: "Wait", SecondsPath: "$.seconds", Next: "N" });
    expect(fail({ errorPath: "$.e.Error", causePath: "$.e.Cause" })).toEqual({ Type: "Fail", ErrorPath: "$.e.Error", CausePath: "$.e.Cause" });
  });

  it("names integrations and their errors as Step Functions does", () => {
    expect(GLUE_START_JOB_RUN_SYNC).toBe("arn:aws:states:::glue:startJobRun.sync");
    expect(SNS_PUBLISH).toBe("arn:aws:states:::sns:publish");
    expect(serviceError("S3", "SlowDown")).toBe("S3.SlowDownException");
    expect(serviceError("Glue", "CrawlerRunningException")).toBe("Glue.CrawlerRunningException");
  });
});

// ---- the definition ------------------------------------------------------------------

describe("the batch pipeline definition", () => {
  it.each([
    ["dev-like", devSettings],
    ["prod-like", prodSettings],
  ])("passes asl-validator with no errors (%s settings)", (_stage, settings) => {
    const result = aslValidator(batchPipelineDefinition(refs, settings));
    expect(result.errorsText("\n")).toBe("");
    expect(result.isValid).toBe(true);
  });

  it.each([
    ["dev-like", devSettings],
    ["prod-like", prodSettings],
  ])("gives every task a Retry with backoff, a Catch of everything into the failure branch, and a timeout (%s)", (_stage, settings) => {
    const definition = batchPipelineDefinition(refs, settings);
    const tasks = tasksOf(definition);
    expect(tasks.map(([name]) => name).sort()).toEqual(
      [STATES.batchFileJob, STATES.startCrawler, STATES.getCrawler, STATES.curationJob, STATES.headManifest, STATES.warehouseLoad, STATES.reportingLoad, STATES.announce, STATES.notifyFailure].sort(),
    );
    for (const [name, state] of tasks) {
      expect({ name, timeout: state.TimeoutSeconds! > 0 }).toEqual({ name, timeout: true });
      expect(state.Retry!.length).toBeGreaterThan(0);
      for (const rule of state.Retry!) {
        expect(rule).toMatchObject({ MaxAttempts: settings.retry.maxAttempts, IntervalSeconds: settings.retry.intervalSeconds, BackoffRate: settings.retry.backoffRate });
        expect(rule.ErrorEquals).not.toContain("States.ALL");
      }
      const last = state.Catch![state.Catch!.length - 1];
      expect({ name, last }).toEqual({ name, last: { ErrorEquals: ["States.ALL"], Next: name === STATES.notifyFailure ? STATES.failed : STATES.describeFailure, ResultPath: expect.any(String) } });
    }
    // The Glue tasks outlast the jobs' own Timeout, so Glue's timeout names the cause first.
    const glue = definition.States[STATES.batchFileJob] as TaskState;
    expect(glue.TimeoutSeconds).toBe((settings.glueJobTimeoutMinutes + (settings.glueTimeoutMarginMinutes ?? 10)) * 60);
    expect(definition.TimeoutSeconds).toBe(executionTimeoutSeconds(settings));
    expect(definition.TimeoutSeconds!).toBeGreaterThan(2 * glue.TimeoutSeconds!);
  });

  it("retries each integration's own transient errors", () => {
    const definition = batchPipelineDefinition(refs, devSettings);
    const errorsOf = (name: string) => (definition.States[name] as TaskState).Retry!.flatMap((rule) => rule.ErrorEquals);
    expect(errorsOf(STATES.batchFileJob)).toContain("Glue.ConcurrentRunsExceededException");
    expect(errorsOf(STATES.warehouseLoad)).toEqual(expect.arrayContaining(["Lambda.TooManyRequestsException", "Lambda.ServiceException", "Lambda.SdkClientException"]));
    expect(errorsOf(STATES.headManifest)).toContain("S3.SlowDownException");
    expect(errorsOf(STATES.announce)).toContain("SNS.ThrottledException");
    // The crawler already running is not an error to retry but a crawl to wait for.
    expect((definition.States[STATES.startCrawler] as TaskState).Catch![0]).toEqual({ ErrorEquals: ["Glue.CrawlerRunningException"], Next: STATES.resetPolls, ResultPath: "$.crawlerAlreadyRunning" });
  });

  it("refuses bad settings and empty refs, naming each", () => {
    expect(batchPipelineSettingsProblems({ ...devSettings, glueJobTimeoutMinutes: 0, crawler: { pollIntervalSeconds: 1, maxPolls: 0 }, warehouseLoadTimeoutSeconds: 901 })).toEqual([
      "glueJobTimeoutMinutes must be a whole number from 1 to 10080, got 0",
      "crawler.pollIntervalSeconds must be a whole number from 5 to 3600, got 1",
      "crawler.maxPolls must be a whole number from 1 to 1000, got 0",
      "warehouseLoadTimeoutSeconds must be a whole number from 1 to 900, got 901",
    ]);
    expect(() => batchPipelineDefinition({ ...refs, crawlerName: "" }, { ...devSettings, retry: { ...devSettings.retry, backoffRate: 0 } })).toThrow(
      "batch pipeline definition: refs.crawlerName must be a non-empty string; retry.backoffRate must be from 1 to 10, got 0",
    );
  });

  it("grants exactly the actions the tasks call, on the named resources only", () => {
    const statements = batchPipelinePermissions(refs, { accountId: ACCOUNT, topicKeyArns: ["arn:aws:kms:us-east-1:123456789012:key/k"] });
    expect(statements).toEqual([
      {
        Sid: "RunBatchGlueJobs",
        Effect: "Allow",
        Action: ["glue:StartJobRun", "glue:GetJobRun", "glue:GetJobRuns", "glue:BatchStopJobRun"],
        Resource: [`arn:aws:glue:us-east-1:${ACCOUNT}:job/dp-dev-batch-file`, `arn:aws:glue:us-east-1:${ACCOUNT}:job/dp-dev-batch-curation`],
      },
      { Sid: "RunCatalogCrawler", Effect: "Allow", Action: ["glue:StartCrawler", "glue:GetCrawler"], Resource: [`arn:aws:glue:us-east-1:${ACCOUNT}:crawler/dp-dev-batch-clean`] },
      { Sid: "ReadBatchManifests", Effect: "Allow", Action: ["s3:GetObject"], Resource: [`arn:aws:s3:::${STAGED}/batch/manifests/*`] },
      { Sid: "InvokeBatchLoads", Effect: "Allow", Action: ["lambda:InvokeFunction"], Resource: [refs.warehouseLoaderFunctionArn, refs.reportingLoadFunctionArn] },
      { Sid: "PublishBatchNotices", Effect: "Allow", Action: ["sns:Publish"], Resource: [refs.fanoutTopicArn, refs.alarmTopicArn] },
      {
        Sid: "EncryptBatchNotices",
        Effect: "Allow",
        Action: ["kms:GenerateDataKey*", "kms:Decrypt"],
        Resource: ["arn:aws:kms:us-east-1:123456789012:key/k"],
        Condition: { StringEquals: { "kms:ViaService": "sns.us-east-1.amazonaws.com" } },
      },
    ]);
    expect(JSON.stringify(statements)).not.toMatch(/"\*"|:\*"|FullAccess/);
    // Every service the definition integrates with has its statement.
    const services = new Set(tasksOf(batchPipelineDefinition(refs, devSettings)).map(([, state]) => state.Resource.replace("arn:aws:states:::", "").replace("aws-sdk:", "").split(":")[0]));
    const granted = new Set(statements.flatMap((statement) => statement.Action.map((action) => action.split(":")[0])));
    for (const service of services) expect(granted).toContain(service);
    expect(batchPipelinePermissions(refs, { accountId: ACCOUNT, partition: "aws-cn" })[0].Resource[0]).toBe(`arn:aws-cn:glue:us-east-1:${ACCOUNT}:job/dp-dev-batch-file`);
  });
});

// ---- local executions --------------------------------------------------------------

/** An error as Step Functions reports an integration's: `<Service>.<Name>Exception`, with the service's message as the cause. */
function integrationError(service: string, name: string, message: string): Error {
  return Object.assign(new Error(message), { name: serviceError(service, name) });
}

type CrawlerState = "READY" | "RUNNING" | "STOPPING";

/**
 * Glue's crawler as StartCrawler/GetCrawler see it: StartCrawler on a crawler that is not
 * READY fails with CrawlerRunningException; a crawl moves RUNNING → STOPPING → READY over
 * polls and then records LastCrawl.
 */
function crawlerModel(script: { startsRunning?: boolean; runningPolls: number; outcome: "SUCCEEDED" | "FAILED" | "never" }) {
  let state: CrawlerState = script.startsRunning ? "RUNNING" : "READY";
  let polls = 0;
  let lastCrawl: Record<string, string> | undefined;
  const seen: CrawlerState[] = [];
  return {
    seen,
    starts: 0,
    async start(input: { Name: string }) {
      this.starts++;
      if (state !== "READY") throw integrationError("Glue", "CrawlerRunningException", `Crawler with name ${input.Name} has already started`);
      state = "RUNNING";
      polls = 0;
      return {};
    },
    async get(input: { Name: string }) {
      if (state === "RUNNING" && script.outcome !== "never" && polls >= script.runningPolls) state = "STOPPING";
      else if (state === "STOPPING") {
        state = "READY";
        lastCrawl = { Status: script.outcome, LogGroup: "/aws-glue/crawlers", ...(script.outcome === "FAILED" ? { ErrorMessage: "Internal Service Exception" } : {}) };
      }
      polls++;
      seen.push(state);
      return { Crawler: { Name: input.Name, State: state, ...(lastCrawl ? { LastCrawl: lastCrawl } : {}) } };
    },
  };
}

interface GlueRun {
  readonly jobName: string;
  readonly args: Record<string, string>;
}

const order = (id: string, branch: string, amount: string, occurredAt: string): CleanEventRow => ({
  event_id: id,
  source: "batch-supplier",
  entity_id: `order-${id}`,
  event_type: "order.created",
  occurred_at: occurredAt,
  event_date: occurredAt.slice(0, 10),
  payload: { branch, amount },
});

/** An order event as a supplier writes it (the ingest event contract, camelCase). */
const orderEvent = (id: string, branch: string, amount: string, occurredAt: string) => ({
  eventId: id,
  source: "batch-supplier",
  entityId: `order-${id}`,
  eventType: "order.created",
  occurredAt,
  payload: { branch, amount },
});

/** The warehouse loader's targets plus the batch one the lead adds (prefix batch/manifests/, never fired by EventBridge). */
const BATCH_TARGET: LoadTarget = { ...WAREHOUSE_LOAD_TARGETS[0], prefix: "batch/manifests/" };

describe("local executions (aws-local-stepfunctions, real handlers on s3rver and embedded PostgreSQL)", () => {
  let s3Server: RunningEmulator;
  let s3: S3Client;
  let postgres: LocalPostgres;
  let warehouse: RunningRedshiftDataServer;
  let dataApi: RedshiftDataClient;
  let reporting: BatchReportingLoadHandler;
  const secretReads: string[] = [];
  let runCounter = 0;

  const reportingSettings = (): BatchReportingLoadSettings => ({
    stagedBucket: STAGED,
    databaseHost: postgres.host,
    databasePort: postgres.port,
    databaseName: "reporting",
    databaseSecretArn: `arn:aws:secretsmanager:${EMULATOR_REGION}:${ACCOUNT}:secret:reporting-db`,
    databaseTls: false,
  });

  beforeAll(async () => {
    [s3Server, postgres] = await Promise.all([startS3rver([RAW, TRANSFORMED, STAGED]), startPostgres()]);
    s3 = s3Client(s3Server);
    await postgres.withClient(async (client) => {
      await client.query("CREATE DATABASE warehouse");
      await client.query("CREATE DATABASE reporting");
    });
    await postgres.withClient(
      (client) =>
        client.query(`
          CREATE SCHEMA lake;
          CREATE TABLE lake.events (event_id TEXT PRIMARY KEY, source TEXT NOT NULL, entity_id TEXT NOT NULL, event_type TEXT NOT NULL, occurred_at TIMESTAMP NOT NULL, payload TEXT NOT NULL);
          CREATE SCHEMA etl;
          CREATE TABLE etl.load_history (object_key VARCHAR(1024) NOT NULL, etag VARCHAR(128) NOT NULL, row_count BIGINT NOT NULL, loaded_at TIMESTAMP NOT NULL, PRIMARY KEY (object_key, etag));`),
      "warehouse",
    );
    warehouse = await startRedshiftDataServer({ postgres: { ...postgres, database: "warehouse" }, s3 });
    dataApi = new RedshiftDataClient({ region: EMULATOR_REGION, endpoint: warehouse.endpoint, credentials: EMULATOR_CREDENTIALS });
    reporting = createBatchReportingLoad(reportingSettings(), {
      s3,
      readSecret: async (arn) => {
        secretReads.push(arn);
        if (arn !== reportingSettings().databaseSecretArn) throw new Error(`no secret ${arn}`);
        return JSON.stringify({ username: postgres.user, password: postgres.password });
      },
      log: () => undefined,
    });
  });
  afterAll(async () => {
    await reporting?.close();
    dataApi?.destroy();
    await warehouse?.stop();
    s3?.destroy();
    await Promise.all([s3Server?.stop(), postgres?.stop()]);
  });

  const loaderSettings: LoaderSettings = {
    warehouse: { clusterIdentifier: "dp-dev-warehouse" },
    database: "analytics",
    copyRoleArn: `arn:aws:iam::${ACCOUNT}:role/copy`,
    targets: [...WAREHOUSE_LOAD_TARGETS, BATCH_TARGET],
    poll: { timeoutMs: 20_000, initialDelayMs: 20, maxDelayMs: 100 },
  };

  /**
   * The Glue states run the jobs' own Python logic (local/glue-jobs.ts, localGlueTask) on
   * s3rver. Glue merges a job's DefaultArguments under the run's Arguments; the component
   * sets the buckets and catalog database as defaults, so they are merged here the same
   * way. Each run's arguments are recorded as the state machine passed them.
   */
  const JOB_DEFAULT_ARGUMENTS = { "--raw_bucket": RAW, "--transformed_bucket": TRANSFORMED, "--staged_bucket": STAGED, "--catalog_database": "dp_dev_lake" };
  function glueJobs() {
    const runs: GlueRun[] = [];
    const local = localGlueTask(s3, { [refs.batchFileJobName]: "batch-file", [refs.curationJobName]: "curation" });
    return {
      runs,
      run(input: StartJobRunInput) {
        runs.push({ jobName: input.JobName, args: { ...input.Arguments } });
        return local({ JobName: input.JobName, Arguments: { ...JOB_DEFAULT_ARGUMENTS, ...input.Arguments } });
      },
    };
  }

  /** A supplier's JSON-lines file of ingest events in the drop zone. */
  const dropFile = (key: string, events: object[]) => s3.send(new PutObjectCommand({ Bucket: RAW, Key: `batch/${key}`, Body: events.map((event) => JSON.stringify(event)).join("\n") + "\n" }));

  /**
   * Local jobs have no bookmarks (an incremental run reads every file), so each case
   * starts from an empty drop zone and empty clean and staged datasets.
   */
  async function emptyDatasets(): Promise<void> {
    for (const [bucket, prefix] of [[RAW, "batch/"], [TRANSFORMED, "quarantine/"], [TRANSFORMED, "batch/clean/"], [STAGED, "batch/events/"]]) {
      for (const key of await listKeys(s3, bucket, prefix)) await s3.send(new DeleteObjectCommand({ Bucket: bucket, Key: key }));
    }
  }
  beforeEach(() => emptyDatasets());

  interface Published {
    readonly TopicArn: string;
    readonly Message: string;
    readonly Subject?: string;
    readonly MessageAttributes: Record<string, { DataType: string; StringValue: string }>;
  }

  type Handler = (input: any) => Promise<unknown>;

  /** Runs the dev-like definition with every task overridden by a real handler (or `replace`'s); records publishes and task calls. */
  async function execute(input: unknown, glue: ReturnType<typeof glueJobs>, crawler: ReturnType<typeof crawlerModel>, replace: Record<string, Handler> = {}, executionName?: string) {
    const name = executionName ?? `run-${process.pid}-${++runCounter}`;
    const published: Published[] = [];
    const calls: Record<string, number> = {};
    const handlers: Record<string, Handler> = {
      [STATES.batchFileJob]: (i) => glue.run(i),
      [STATES.curationJob]: (i) => glue.run(i),
      [STATES.startCrawler]: (i) => crawler.start(i),
      [STATES.getCrawler]: (i) => crawler.get(i),
      [STATES.headManifest]: async (i: { Bucket: string; Key: string }) => {
        try {
          const { $metadata: _metadata, ...output } = await s3.send(new HeadObjectCommand(i));
          return output;
        } catch (error) {
          throw integrationError("S3", (error as Error).name, `${(error as Error).name}: s3://${i.Bucket}/${i.Key} (HTTP ${(error as { $metadata?: { httpStatusCode?: number } }).$metadata?.httpStatusCode})`);
        }
      },
      [STATES.warehouseLoad]: async (i: { Payload: S3ObjectCreatedNotificationEvent }) => ({
        Payload: await loadStagedObject(i.Payload, loaderSettings, { dataApi, readObject: (bucket, key) => readObjectText(s3, bucket, key) }),
      }),
      [STATES.reportingLoad]: async (i: { Payload: unknown }) => ({ Payload: await reporting.handle(i.Payload) }),
      [STATES.announce]: async (i: Published) => (published.push(i), { MessageId: `m-${published.length}` }),
      [STATES.notifyFailure]: async (i: Published) => (published.push(i), { MessageId: `m-${published.length}` }),
      ...replace,
    };
    const counted = Object.fromEntries(
      Object.entries(handlers).map(([state, handler]) => [state, (i: unknown) => ((calls[state] = (calls[state] ?? 0) + 1), handler(i))]),
    );
    const definition = batchPipelineDefinition(refs, devSettings);
    const taskNames = tasksOf(definition).map(([taskName]) => taskName);
    const machine = new StateMachine(definition as never);
    const execution = machine.run(input as never, {
      overrides: {
        taskResourceLocalHandlers: counted as never,
        waitTimeOverrides: { [STATES.waitCrawler]: 0 },
        retryIntervalOverrides: Object.fromEntries(taskNames.map((taskName) => [taskName, 0])),
      },
      context: { Execution: { Id: `arn:aws:states:${EMULATOR_REGION}:${ACCOUNT}:execution:dp-dev-batch:${name}`, Name: name, Input: input, StartTime: new Date().toISOString() } } as never,
    });
    try {
      return { name, status: "SUCCEEDED" as const, output: (await execution.result) as Record<string, any>, published, calls };
    } catch (error) {
      const cause = (error as { cause?: Error }).cause;
      return { name, status: "FAILED" as const, error: cause?.name, cause: cause?.message, published, calls };
    }
  }

  const warehouseRows = (ids: string[]) =>
    postgres.withClient(async (client) => (await client.query("SELECT event_id, source, occurred_at::text AS occurred_at, payload FROM lake.events WHERE event_id = ANY($1) ORDER BY event_id", [ids])).rows, "warehouse");
  const historyOf = (key: string) =>
    postgres.withClient(async (client) => (await client.query("SELECT etag, row_count::int AS row_count FROM etl.load_history WHERE object_key = $1", [key])).rows, "warehouse");
  const dailySales = (branch: string) =>
    postgres.withClient(
      async (client) =>
        (await client.query("SELECT to_char(sales_day, 'YYYY-MM-DD') AS day, orders, revenue::text AS revenue FROM reporting.daily_branch_sales WHERE branch_code = $1 ORDER BY 1", [branch])).rows,
      "reporting",
    );
  const manifestLoads = (key: string) =>
    postgres.withClient(async (client) => (await client.query("SELECT events FROM reporting.manifest_loads WHERE manifest_key = $1", [key])).rows, "reporting");

  it("runs the nightly pipeline: the supplier's rows land in the warehouse and the reporting schema, and the fan-out notice says batch.completed", async () => {
    await dropFile("supplier-a/2026-11-02/orders.jsonl", [
      orderEvent("n-1", "LDN", "12.50", "2026-11-01T09:00:00Z"),
      orderEvent("n-2", "LDN", "7.25", "2026-11-01T17:30:00Z"),
      { ...orderEvent("n-bad", "LDN", "1.00", "2026-11-01T18:00:00Z"), occurredAt: "yesterday" },
      orderEvent("n-3", "LDN", "3.00", "2026-11-02T08:00:00Z"),
    ]);
    const glue = glueJobs();
    const crawler = crawlerModel({ runningPolls: 2, outcome: "SUCCEEDED" });

    const run = await execute({}, glue, crawler);

    expect(run.status).toBe("SUCCEEDED");
    const manifestKey = `batch/manifests/${run.name}.manifest`;
    // Nightly: empty window, bookmarks on, the execution name as run id; the curation job gets the manifest key.
    expect(glue.runs).toEqual([
      { jobName: refs.batchFileJobName, args: { "--window_from": "", "--window_to": "", "--run_id": run.name, "--job-bookmark-option": "job-bookmark-enable" } },
      { jobName: refs.curationJobName, args: { "--window_from": "", "--window_to": "", "--run_id": run.name, "--job-bookmark-option": "job-bookmark-enable", "--manifest_key": manifestKey } },
    ]);
    expect(run.output!.jobs.batchFile).toEqual({ Id: expect.stringMatching(/^jr_/), JobRunState: "SUCCEEDED" });
    expect(crawler.seen).toEqual(["RUNNING", "RUNNING", "STOPPING", "READY"]);
    // The bad row went to the quarantine, not the lake.
    expect(await listKeys(s3, TRANSFORMED, "quarantine/batch-file/")).toEqual([`quarantine/batch-file/run=${run.name}/supplier-a/2026-11-02/orders.jsonl`]);
    const rows = await warehouseRows(["n-1", "n-2", "n-3", "n-bad"]);
    expect(rows.map((row) => [row.event_id, row.source, row.occurred_at, JSON.parse(row.payload)])).toEqual([
      ["n-1", "batch-supplier", "2026-11-01 09:00:00", { branch: "LDN", amount: "12.50" }],
      ["n-2", "batch-supplier", "2026-11-01 17:30:00", { branch: "LDN", amount: "7.25" }],
      ["n-3", "batch-supplier", "2026-11-02 08:00:00", { branch: "LDN", amount: "3.00" }],
    ]);
    // The ETag reached the loader without S3's quotes: the same value HeadObject reports.
    const head = await s3.send(new HeadObjectCommand({ Bucket: STAGED, Key: manifestKey }));
    expect(await historyOf(manifestKey)).toEqual([{ etag: head.ETag!.replace(/"/g, ""), row_count: 3 }]);
    expect(await dailySales("LDN")).toEqual([
      { day: "2026-11-01", orders: 2, revenue: "19.75" },
      { day: "2026-11-02", orders: 1, revenue: "3.00" },
    ]);
    expect(await manifestLoads(manifestKey)).toEqual([{ events: 3 }]);

    expect(run.published).toHaveLength(1);
    const [notice] = run.published;
    expect(notice.TopicArn).toBe(refs.fanoutTopicArn);
    expect(notice.MessageAttributes).toEqual({ kind: { DataType: "String", StringValue: BATCH_COMPLETED_KIND } });
    expect(JSON.parse(notice.Message)).toMatchObject({
      kind: "batch.completed",
      runId: run.name,
      windowFrom: "",
      windowTo: "",
      manifestKey,
      warehouse: { status: "committed", key: manifestKey, target: "lake.events" },
      reporting: { manifestKey, applied: true, files: 2, rows: 3, orderEvents: 3, newFacts: 3, rejected: 0 },
    });
    expect(secretReads.length).toBeGreaterThan(0);
  });

  it("retries a throttled warehouse load and a Glue ConcurrentRunsExceededException, then succeeds with the rows loaded once", async () => {
    await dropFile("supplier-b/orders.jsonl", [orderEvent("t-1", "MAN", "5.00", "2026-11-03T10:00:00Z")]);
    const glue = glueJobs();
    let glueAttempts = 0;
    let loadAttempts = 0;
    const run = await execute({}, glue, crawlerModel({ runningPolls: 0, outcome: "SUCCEEDED" }), {
      [STATES.batchFileJob]: async (i) => {
        if (++glueAttempts === 1) throw integrationError("Glue", "ConcurrentRunsExceededException", "Concurrent runs exceeded for dp-dev-batch-file");
        return glue.run(i);
      },
      [STATES.warehouseLoad]: async (i: { Payload: S3ObjectCreatedNotificationEvent }) => {
        if (++loadAttempts === 1) throw integrationError("Lambda", "TooManyRequestsException", "Rate Exceeded.");
        return { Payload: await loadStagedObject(i.Payload, loaderSettings, { dataApi, readObject: (bucket, key) => readObjectText(s3, bucket, key) }) };
      },
    });

    expect(run.status).toBe("SUCCEEDED");
    expect(run.calls[STATES.batchFileJob]).toBe(2);
    expect(run.calls[STATES.warehouseLoad]).toBe(2);
    expect(glue.runs.filter((r) => r.jobName === refs.batchFileJobName)).toHaveLength(1);
    expect(await warehouseRows(["t-1"])).toHaveLength(1);
    expect(await dailySales("MAN")).toEqual([{ day: "2026-11-03", orders: 1, revenue: "5.00" }]);
    expect(run.published.map((p) => p.TopicArn)).toEqual([refs.fanoutTopicArn]);
  });

  it("takes the Catch branch when a Glue job run FAILS: publishes the error and cause to the alarm topic and ends FAILED, loading nothing", async () => {
    // Parquet cannot be read by the local job (no Parquet reader here), so its run ends FAILED: a real job failure.
    await s3.send(new PutObjectCommand({ Bucket: RAW, Key: "batch/supplier-c/orders.parquet", Body: Buffer.from("PAR1 not really") }));
    const glue = glueJobs();

    const run = await execute({}, glue, crawlerModel({ runningPolls: 1, outcome: "SUCCEEDED" }));

    expect(run.status).toBe("FAILED");
    expect(run.error).toBe("States.TaskFailed");
    expect(JSON.parse(run.cause!)).toMatchObject({ JobRunState: "FAILED", JobName: refs.batchFileJobName, ErrorMessage: expect.stringContaining("Parquet input cannot be read locally") });
    // A failed job run is not transient: one call, no retry; nothing after it ran.
    expect(run.calls[STATES.batchFileJob]).toBe(1);
    expect(run.calls[STATES.startCrawler]).toBeUndefined();
    expect(run.calls[STATES.warehouseLoad]).toBeUndefined();
    expect(run.published).toHaveLength(1);
    const [alarm] = run.published;
    expect(alarm.TopicArn).toBe(refs.alarmTopicArn);
    expect(alarm.Subject).toBe("Batch pipeline failed");
    expect(alarm.MessageAttributes.kind.StringValue).toBe("batch.failed");
    // aws-local-stepfunctions 3.0 strips every backslash from an intrinsic's result, so the escaped
    // cause inside the notice is not JSON locally; AWS's States.JsonToString escapes it. Read its parts.
    expect(alarm.Message).toContain('"kind":"batch.failed"');
    expect(alarm.Message).toContain(`"execution":"arn:aws:states:${EMULATOR_REGION}:${ACCOUNT}:execution:dp-dev-batch:${run.name}"`);
    expect(alarm.Message).toContain('"error":"States.TaskFailed"');
    expect(alarm.Message).toContain("Parquet input cannot be read locally");
  });

  it("takes the Catch branch on a missing manifest (headObject's S3.NotFoundException), naming the key", async () => {
    await dropFile("supplier-d/orders.jsonl", [orderEvent("f-1", "BRS", "1.00", "2026-11-04T10:00:00Z")]);
    const glue = glueJobs();
    // The curation job's run succeeds but its manifest is gone before the pipeline reads it.
    const run = await execute({}, glue, crawlerModel({ runningPolls: 0, outcome: "SUCCEEDED" }), {
      [STATES.curationJob]: async (i: StartJobRunInput) => {
        const jobRun = await glue.run(i);
        await s3.send(new DeleteObjectCommand({ Bucket: STAGED, Key: i.Arguments!["--manifest_key"] }));
        return jobRun;
      },
    });

    expect(run).toMatchObject({ status: "FAILED", error: "S3.NotFoundException" });
    expect(run.cause).toContain(`s3://${STAGED}/batch/manifests/${run.name}.manifest`);
    expect(run.calls[STATES.headManifest]).toBe(1);
    expect(run.calls[STATES.warehouseLoad]).toBeUndefined();
    expect(JSON.parse(run.published[0].Message)).toEqual({
      kind: "batch.failed",
      execution: `arn:aws:states:${EMULATOR_REGION}:${ACCOUNT}:execution:dp-dev-batch:${run.name}`,
      error: "S3.NotFoundException",
      cause: run.cause,
    });
    expect(await warehouseRows(["f-1"])).toEqual([]);
  });

  it("fails a run whose crawl FAILED, and one whose crawler never settles, with the pipeline's own errors", async () => {
    const failedCrawl = await execute({}, glueJobs(), crawlerModel({ runningPolls: 1, outcome: "FAILED" }));
    expect(failedCrawl).toMatchObject({ status: "FAILED", error: PIPELINE_ERRORS.crawlerFailed });
    expect(failedCrawl.cause).toBe("crawler dp-dev-batch-clean is READY but its last crawl ended FAILED: Internal Service Exception");
    expect(failedCrawl.calls[STATES.curationJob]).toBeUndefined();
    expect(JSON.parse(failedCrawl.published[0].Message)).toMatchObject({ error: PIPELINE_ERRORS.crawlerFailed });

    const stuck = await execute({}, glueJobs(), crawlerModel({ runningPolls: 0, outcome: "never" }));
    expect(stuck).toMatchObject({ status: "FAILED", error: PIPELINE_ERRORS.crawlerTimedOut, cause: `crawler dp-dev-batch-clean still RUNNING after ${devSettings.crawler.maxPolls} polls every 30 s` });
    expect(stuck.calls[STATES.getCrawler]).toBe(devSettings.crawler.maxPolls);
  });

  it("waits for a crawl already under way (CrawlerRunningException is caught, not fatal)", async () => {
    await dropFile("supplier-e/orders.jsonl", [orderEvent("r-1", "EDI", "2.00", "2026-11-05T10:00:00Z")]);
    const crawler = crawlerModel({ startsRunning: true, runningPolls: 1, outcome: "SUCCEEDED" });
    const run = await execute({}, glueJobs(), crawler);
    expect(run.status).toBe("SUCCEEDED");
    expect(crawler.starts).toBe(1);
    expect(run.output!.crawlerAlreadyRunning).toEqual({ Error: "Glue.CrawlerRunningException", Cause: "Crawler with name dp-dev-batch-clean has already started" });
    expect(await dailySales("EDI")).toEqual([{ day: "2026-11-05", orders: 1, revenue: "2.00" }]);
  });

  it("passes a backfill window to both Glue jobs with bookmarks disabled, and only the window's rows are loaded", async () => {
    await dropFile("supplier-f/orders.jsonl", [
      orderEvent("b-before", "CDF", "1.11", "2026-09-30T23:59:59Z"),
      orderEvent("b-1", "CDF", "9.99", "2026-10-02T10:00:00Z"),
      orderEvent("b-after", "CDF", "2.22", "2026-10-04T00:00:00Z"),
    ]);
    const glue = glueJobs();
    const run = await execute({ backfill: { from: "2026-10-01", to: "2026-10-03" } }, glue, crawlerModel({ runningPolls: 0, outcome: "SUCCEEDED" }));
    expect(run.status).toBe("SUCCEEDED");
    expect(glue.runs.map((r) => r.jobName)).toEqual([refs.batchFileJobName, refs.curationJobName]);
    for (const { args } of glue.runs) {
      expect(args).toMatchObject({ "--window_from": "2026-10-01", "--window_to": "2026-10-03", "--job-bookmark-option": "job-bookmark-disable", "--run_id": run.name });
    }
    expect(JSON.parse(run.published[0].Message)).toMatchObject({ windowFrom: "2026-10-01", windowTo: "2026-10-03" });
    expect((await warehouseRows(["b-before", "b-1", "b-after"])).map((row) => row.event_id)).toEqual(["b-1"]);
    expect(await dailySales("CDF")).toEqual([{ day: "2026-10-02", orders: 1, revenue: "9.99" }]);
  });

  it("refuses a backfill without both dates before any job runs", async () => {
    const glue = glueJobs();
    const run = await execute({ backfill: { from: "2026-10-01" } }, glue, crawlerModel({ runningPolls: 0, outcome: "SUCCEEDED" }));
    expect(run).toMatchObject({ status: "FAILED", error: PIPELINE_ERRORS.invalidInput });
    expect(glue.runs).toEqual([]);
  });

  it("refuses an execution name with '+' (its manifest key would be read back with a space) before any job runs", async () => {
    const glue = glueJobs();
    const run = await execute({}, glue, crawlerModel({ runningPolls: 0, outcome: "SUCCEEDED" }), {}, "nightly+1");
    expect(run).toMatchObject({ status: "FAILED", error: PIPELINE_ERRORS.invalidExecutionName });
    expect(glue.runs).toEqual([]);
  });

  describe("the reporting-load handler on its own", () => {
    async function putManifest(key: string, rows: CleanEventRow[]): Promise<void> {
      const dataKey = `batch/events/event_date=2026-11-09/${key.split("/").pop()}-part-00000.csv`;
      const body = csvDocument(rows);
      await s3.send(new PutObjectCommand({ Bucket: STAGED, Key: dataKey, Body: body }));
      await s3.send(new PutObjectCommand({ Bucket: STAGED, Key: key, Body: copyManifest(STAGED, [{ key: dataKey, bytes: Buffer.byteLength(body) }]) }));
    }

    it("is idempotent: a re-run writes nothing and says so", async () => {
      const key = "batch/manifests/rerun.manifest";
      await putManifest(key, [order("i-1", "GLA", "4.00", "2026-11-09T10:00:00.000Z"), { ...order("i-2", "GLA", "1.00", "2026-11-09T11:00:00.000Z"), event_type: "order.shipped" }]);
      const first = await reporting.handle({ bucket: STAGED, manifestKey: key });
      const second = await reporting.handle({ bucket: STAGED, manifestKey: key });
      expect(first).toMatchObject({ applied: true, newFacts: 1, orderEvents: 1, otherEvents: 1, rows: 2 });
      expect(second).toMatchObject({ applied: false, newFacts: 0 });
      expect(await dailySales("GLA")).toEqual([{ day: "2026-11-09", orders: 1, revenue: "4.00" }]);
    });

    it("names a missing manifest, and refuses requests it can never apply", async () => {
      await expect(reporting.handle({ bucket: STAGED, manifestKey: "batch/manifests/absent.manifest" })).rejects.toMatchObject({
        name: "ManifestMissing",
        message: `s3://${STAGED}/batch/manifests/absent.manifest does not exist: the curation job writes it last, so its run did not complete`,
      });
      expect(() => parseLoadRequest({ bucket: "other", manifestKey: "batch/manifests/x.manifest" }, STAGED)).toThrow(`bucket other is not the staged bucket ${STAGED}`);
      expect(() => parseLoadRequest({ bucket: STAGED, manifestKey: "manifests/x.manifest" }, STAGED)).toThrow('manifestKey "manifests/x.manifest" is not a batch manifest');
      expect(() => parseLoadRequest("nope", STAGED)).toThrow(/expected \{"bucket": string, "manifestKey": string\}/);
    });

    it("rolls back a manifest whose data file is missing (nothing of it applied)", async () => {
      const key = "batch/manifests/broken.manifest";
      await s3.send(new PutObjectCommand({ Bucket: STAGED, Key: key, Body: copyManifest(STAGED, [{ key: "batch/events/event_date=2026-11-09/gone.csv", bytes: 10 }]) }));
      const pool = new Pool(postgres.config("reporting"));
      try {
        await expect(applyBatchManifest({ s3, pool, stagedBucket: STAGED, log: () => undefined }, { bucket: STAGED, manifestKey: key })).rejects.toThrow(/mandatory file .*gone\.csv/);
      } finally {
        await pool.end();
      }
      expect(await manifestLoads(key)).toEqual([]);
    });

    it("ships as a callback factory: requires only the runtime's S3 and Secrets Manager clients, pg and Node's zlib (gzipped staged objects), never ioredis; reads the secret by ARN, applies a manifest cold", async () => {
      const key = "batch/manifests/shipped.manifest";
      await putManifest(key, [order("s-1", "YRK", "6.10", "2026-11-09T12:00:00.000Z")]);
      const dir = fs.mkdtempSync(path.join(os.tmpdir(), "batch-load-secrets-"));
      const secretArn = `arn:aws:secretsmanager:${EMULATOR_REGION}:${ACCOUNT}:secret:shipped-db`;
      const stubFile = path.join(dir, "secrets.json");
      fs.writeFileSync(stubFile, JSON.stringify({ [secretArn]: JSON.stringify({ username: postgres.user, password: postgres.password }) }));
      const env = {
        AWS_REGION: EMULATOR_REGION,
        AWS_ACCESS_KEY_ID: EMULATOR_CREDENTIALS.accessKeyId,
        AWS_SECRET_ACCESS_KEY: EMULATOR_CREDENTIALS.secretAccessKey,
        AWS_ENDPOINT_URL_S3: s3Server.endpoint,
        SECRETS_MANAGER_STUB_FILE: stubFile,
        STAGED_BUCKET: STAGED,
        DB_HOST: postgres.host,
        DB_PORT: String(postgres.port),
        DB_NAME: "reporting",
        DB_SECRET_ARN: secretArn,
        DB_TLS: "false",
      };
      try {
        await expectShipsAsFactory(batchReportingLoadCallbackFactory, /client-secrets-manager/);
        const { result, requires } = await invokeAsShipped(batchReportingLoadCallbackFactory, env, { bucket: STAGED, manifestKey: key }, { preload: SECRETS_MANAGER_STUB_PATH });
        expect(requires).toEqual(['require("@aws-sdk/client-s3/dist-cjs/index.js")', 'require("@aws-sdk/client-secrets-manager/dist-cjs/index.js")', 'require("pg")', 'require("zlib")']);
        expect(result).toMatchObject({ manifestKey: key, applied: true, newFacts: 1, orderEvents: 1, rejected: 0 });
        expect(await dailySales("YRK")).toEqual([{ day: "2026-11-09", orders: 1, revenue: "6.10" }]);
        // A secret that does not exist fails the invocation by name (the state machine's Catch publishes it).
        const missing = invokeAsShipped(batchReportingLoadCallbackFactory, { ...env, DB_SECRET_ARN: `${secretArn}-gone` }, { bucket: STAGED, manifestKey: key }, { preload: SECRETS_MANAGER_STUB_PATH });
        await expect(missing).rejects.toMatchObject({ response: { errorType: "ResourceNotFoundException" } });
      } finally {
        fs.rmSync(dir, { recursive: true, force: true });
      }
    });

    it("reads its settings from the environment, naming what is missing, with TLS on unless DB_TLS=false", () => {
      const env = { STAGED_BUCKET: STAGED, DB_HOST: "h", DB_NAME: "reporting", DB_SECRET_ARN: "arn:s" };
      expect(batchReportingLoadSettingsFromEnv(env)).toEqual({ stagedBucket: STAGED, databaseHost: "h", databasePort: 5432, databaseName: "reporting", databaseSecretArn: "arn:s", databaseTls: true });
      expect(() => batchReportingLoadSettingsFromEnv({ ...env, DB_SECRET_ARN: undefined })).toThrow(/DB_SECRET_ARN/);
      expect(() => batchReportingLoadSettingsFromEnv({ ...env, DB_PORT: "x" })).toThrow(/DB_PORT must be a whole number/);
      const config = batchLoadPoolConfig(batchReportingLoadSettingsFromEnv(env), { username: "u", password: "p" });
      expect(config).toMatchObject({ host: "h", port: 5432, database: "reporting", ssl: { rejectUnauthorized: true }, statement_timeout: 120_000, application_name: "batch-reporting-load" });
      expect(batchLoadPoolConfig({ ...batchReportingLoadSettingsFromEnv(env), databaseTls: false }, { username: "u", password: "p" }).ssl).toBe(false);
    });
  });

  it("keeps STAGED_COLUMNS as the loader's batch target columns (the contract the curation job writes)", () => {
    expect(BATCH_TARGET.columns).toEqual([...STAGED_COLUMNS]);
  });
});

// ---- the lake replay (EMR Serverless) ---------------------------------------------------

describe("the lake replay definition (EMR Serverless)", () => {
  const replayRefs: LakeReplayRefs = {
    applicationId: "00fabc123def4567",
    jobRoleArn: `arn:aws:iam::${ACCOUNT}:role/dp-prod-lake-replay-job`,
    replayScriptUri: "s3://dp-prod-artifacts/glue/jobs/lake_replay.py",
    pyFilesUri: "s3://dp-prod-artifacts/glue/batch_events.zip",
    rawBucket: RAW,
    transformedBucket: TRANSFORMED,
    fanoutTopicArn: refs.fanoutTopicArn,
    alarmTopicArn: refs.alarmTopicArn,
    region: EMULATOR_REGION,
  };
  const replaySettings: LakeReplaySettings = { retry: prodSettings.retry, replayTimeoutMinutes: 720, sparkSubmitParameters: "--conf spark.executor.cores=4" };

  it("passes asl-validator, and its tasks all have Retry, Catch and a timeout", () => {
    const definition = lakeReplayDefinition(replayRefs, replaySettings);
    expect(aslValidator(definition).errorsText("\n")).toBe("");
    const tasks = tasksOf(definition);
    expect(tasks.map(([name]) => name).sort()).toEqual([REPLAY_STATES.runReplay, REPLAY_STATES.announce, REPLAY_STATES.notify].sort());
    for (const [, state] of tasks) expect(state.TimeoutSeconds! > 0 && state.Retry!.length > 0 && state.Catch!.length > 0).toBe(true);
    const run = definition.States[REPLAY_STATES.runReplay] as TaskState;
    expect(run.Resource).toBe("arn:aws:states:::emr-serverless:startJobRun.sync");
    expect(run.Retry![0].ErrorEquals).toEqual(["EMRServerless.InternalServerException", "EMRServerless.ThrottlingException"]);
    expect(run.TimeoutSeconds).toBe((720 + 15) * 60);
    expect(run.Parameters).toMatchObject({ ApplicationId: replayRefs.applicationId, ExecutionRoleArn: replayRefs.jobRoleArn, ExecutionTimeoutMinutes: 720 });
    expect(() => lakeReplayDefinition({ ...replayRefs, replayScriptUri: "glue/jobs/lake_replay.py" }, { ...replaySettings, replayTimeoutMinutes: 0 })).toThrow(
      "lake replay definition: replayTimeoutMinutes must be a whole number from 1 to 10080, got 0; refs.replayScriptUri must be an s3:// URI, got glue/jobs/lake_replay.py",
    );
  });

  it("grants the .sync rule, the job runs of this application only, and PassRole of the job role to EMR Serverless only", () => {
    const application = `arn:aws:emr-serverless:${EMULATOR_REGION}:${ACCOUNT}:/applications/${replayRefs.applicationId}`;
    expect(lakeReplayPermissions(replayRefs, { accountId: ACCOUNT })).toEqual([
      { Sid: "StartReplayJobRuns", Effect: "Allow", Action: ["emr-serverless:StartJobRun"], Resource: [application] },
      { Sid: "FollowReplayJobRuns", Effect: "Allow", Action: ["emr-serverless:GetJobRun", "emr-serverless:CancelJobRun"], Resource: [`${application}/jobruns/*`] },
      {
        Sid: "ManageSyncRule",
        Effect: "Allow",
        Action: ["events:PutTargets", "events:PutRule", "events:DescribeRule"],
        Resource: [`arn:aws:events:${EMULATOR_REGION}:${ACCOUNT}:rule/StepFunctionsGetEventsForEMRServerlessJobRule`],
      },
      { Sid: "PassReplayJobRole", Effect: "Allow", Action: ["iam:PassRole"], Resource: [replayRefs.jobRoleArn], Condition: { StringEquals: { "iam:PassedToService": "emr-serverless.amazonaws.com" } } },
      { Sid: "PublishReplayNotices", Effect: "Allow", Action: ["sns:Publish"], Resource: [refs.fanoutTopicArn, refs.alarmTopicArn] },
    ]);
  });

  describe("executed locally: the replay's transformation runs as the batch-file job's own logic (Spark cannot run here)", () => {
    let s3Server: RunningEmulator;
    let s3: S3Client;
    beforeAll(async () => {
      s3Server = await startS3rver([RAW, TRANSFORMED]);
      s3 = s3Client(s3Server);
    });
    afterAll(async () => {
      s3?.destroy();
      await s3Server?.stop();
    });

    /**
     * The EMR Serverless task's override: reads lake_replay.py's arguments from the job
     * driver the state machine built and runs the same batch_events transformation through
     * the local batch-file job, with the replay's range as its window.
     */
    function replayJob(failures: Error[] = []) {
      const starts: Record<string, any>[] = [];
      return {
        starts,
        async run(input: { ApplicationId: string; Name: string; JobDriver: { SparkSubmit: { EntryPointArguments: string[] } } }) {
          starts.push(input);
          const failure = failures.shift();
          if (failure) throw failure;
          const values = input.JobDriver.SparkSubmit.EntryPointArguments;
          const args = Object.fromEntries(values.flatMap((value, i) => (i % 2 === 0 ? [[value, values[i + 1]]] : [])));
          await runGlueJobLocally(s3, "batch-file", {
            "--JOB_NAME": "lake-replay",
            "--raw_bucket": args["--raw_bucket"],
            "--transformed_bucket": args["--transformed_bucket"],
            "--window_from": args["--from"],
            "--window_to": args["--to"],
            "--run_id": args["--run_id"],
          });
          return { ApplicationId: input.ApplicationId, JobRunId: "00fjobrun", State: "SUCCESS" };
        },
      };
    }

    async function replay(input: unknown, job: ReturnType<typeof replayJob>) {
      const name = `replay-${process.pid}-${Math.random().toString(36).slice(2, 8)}`;
      const published: { TopicArn: string; Message: string; MessageAttributes: Record<string, { StringValue: string }> }[] = [];
      const definition = lakeReplayDefinition(replayRefs, replaySettings);
      const execution = new StateMachine(definition as never).run(input as never, {
        overrides: {
          taskResourceLocalHandlers: {
            [REPLAY_STATES.runReplay]: (i: never) => job.run(i),
            [REPLAY_STATES.announce]: async (i: never) => (published.push(i), {}),
            [REPLAY_STATES.notify]: async (i: never) => (published.push(i), {}),
          } as never,
          retryIntervalOverrides: Object.fromEntries(tasksOf(definition).map(([taskName]) => [taskName, 0])),
        },
        context: { Execution: { Id: `arn:aws:states:${EMULATOR_REGION}:${ACCOUNT}:execution:dp-prod-lake-replay:${name}`, Name: name, Input: input, StartTime: new Date().toISOString() } } as never,
      });
      try {
        return { name, status: "SUCCEEDED", output: await execution.result, published };
      } catch (error) {
        const cause = (error as { cause?: Error }).cause;
        return { name, status: "FAILED", error: cause?.name, cause: cause?.message, published };
      }
    }

    it("replays the range into the clean dataset after a throttled start, and announces lake.replayed", async () => {
      await s3.send(
        new PutObjectCommand({
          Bucket: RAW,
          Key: "batch/supplier-r/history.jsonl",
          Body: [orderEvent("h-1", "LDN", "1.00", "2026-01-05T10:00:00Z"), orderEvent("h-out", "LDN", "2.00", "2026-02-01T10:00:00Z")].map((e) => JSON.stringify(e)).join("\n") + "\n",
        }),
      );
      const job = replayJob([integrationError("EMRServerless", "ThrottlingException", "Rate exceeded")]);
      const run = await replay({ from: "2026-01-01", to: "2026-01-31" }, job);

      expect(run.status).toBe("SUCCEEDED");
      expect(job.starts).toHaveLength(2);
      expect(job.starts[0]).toMatchObject({
        ApplicationId: replayRefs.applicationId,
        Name: `lake-replay-${run.name}`,
        ClientToken: run.name,
        JobDriver: {
          SparkSubmit: {
            EntryPoint: replayRefs.replayScriptUri,
            EntryPointArguments: ["--from", "2026-01-01", "--to", "2026-01-31", "--raw_bucket", RAW, "--transformed_bucket", TRANSFORMED, "--run_id", run.name],
            SparkSubmitParameters: `--py-files ${replayRefs.pyFilesUri} --conf spark.executor.cores=4`,
          },
        },
      });
      // Only the range's rows are replayed.
      expect(await listKeys(s3, TRANSFORMED, "batch/clean/")).toEqual([`batch/clean/year=2026/month=01/day=05/${run.name}-part-00000.jsonl`]);
      expect(run.published).toHaveLength(1);
      expect(run.published[0].TopicArn).toBe(refs.fanoutTopicArn);
      expect(run.published[0].MessageAttributes.kind.StringValue).toBe(LAKE_REPLAYED_KIND);
      expect(JSON.parse(run.published[0].Message)).toEqual({ kind: LAKE_REPLAYED_KIND, runId: run.name, from: "2026-01-01", to: "2026-01-31", transformedBucket: TRANSFORMED });
    });

    it("alarms and ends FAILED when the job run fails, and refuses an input without a range", async () => {
      const failed = await replay({ from: "2026-01-01", to: "2026-01-31" }, replayJob([Object.assign(new Error("Job run failed: Spark driver exited"), { name: "States.TaskFailed" })]));
      expect(failed).toMatchObject({ status: "FAILED", error: "States.TaskFailed", cause: "Job run failed: Spark driver exited" });
      expect(failed.published.map((p) => [p.TopicArn, p.MessageAttributes.kind.StringValue])).toEqual([[refs.alarmTopicArn, LAKE_REPLAY_FAILED_KIND]]);

      const job = replayJob();
      const invalid = await replay({ from: "2026-01-01" }, job);
      expect(invalid).toMatchObject({ status: "FAILED", error: REPLAY_INVALID_INPUT });
      expect(job.starts).toEqual([]);
    });
  });
});
