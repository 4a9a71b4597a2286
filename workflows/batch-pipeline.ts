/**
 * The batch layer's state machine (README, Batch layer), built from workflows/asl.ts:
 *
 *   plan the run (nightly incremental, or a backfill window from the input)
 *   → batch-file Glue job (.sync) → start the crawler of the clean dataset (tolerating one
 *   already running) and poll it until READY → curation Glue job (.sync) → headObject of
 *   the manifest the curation job wrote last → warehouse load (the existing loader, with a
 *   synthetic EventBridge "Object Created" event) → reporting-database load → fan-out
 *   notice (kind=batch.completed) → Succeed.
 *
 * Every task retries its integration's transient errors with backoff, has a timeout, and
 * catches everything into the failure branch: publish the error and cause to the alarm
 * topic, then Fail with that same error and cause.
 *
 * Execution input: `{}` (nightly) or `{"backfill":{"from":"YYYY-MM-DD","to":"YYYY-MM-DD"}}`.
 */
import {
  GLUE_GET_CRAWLER,
  GLUE_START_CRAWLER,
  GLUE_START_JOB_RUN_SYNC,
  GLUE_TRANSIENT_ERRORS,
  JsonObject,
  LAMBDA_INVOKE,
  LAMBDA_TRANSIENT_ERRORS,
  S3_HEAD_OBJECT,
  S3_TRANSIENT_ERRORS,
  State,
  StateMachineDefinition,
  absent,
  catchInto,
  choice,
  fail,
  pass,
  serviceError,
  stateMachine,
  succeed,
  task,
  wait,
  when,
} from "./asl";
import {
  FAILURE_PATH,
  FAILURE_STATES,
  WorkflowRetrySettings,
  backoffRetrier,
  catchIntoFailure,
  failureBranch,
  publishNotice,
  retrySettingsProblems,
  retryPauseSeconds,
} from "./notices";
import { AccountContext, PolicyStatement, topicKeyStatements } from "./permissions";
import { BATCH_MANIFEST_PREFIX } from "../functions/lake-layout";
export { BATCH_MANIFEST_PREFIX };

export type { AccountContext, PolicyStatement } from "./permissions";

/** Where the curation job writes the run's COPY manifest; the execution name makes it unique per run. */
export const BATCH_COMPLETED_KIND = "batch.completed";
export const BATCH_FAILED_KIND = "batch.failed";
/** Glue's job-bookmark option values (https://docs.aws.amazon.com/glue/latest/dg/aws-glue-programming-etl-connect-bookmarks.html). */
export const BOOKMARK_ENABLED = "job-bookmark-enable";
export const BOOKMARK_DISABLED = "job-bookmark-disable";

/** Error names this definition raises itself (from Pass/Fail states), so alarms and tests can tell them apart. */
export const PIPELINE_ERRORS = {
  invalidInput: "BatchPipeline.InvalidInput",
  invalidExecutionName: "BatchPipeline.InvalidExecutionName",
  crawlerFailed: "BatchPipeline.CrawlerFailed",
  crawlerTimedOut: "BatchPipeline.CrawlerTimedOut",
} as const;

/** The state names, exported so that tests and the lead's alarms refer to them by constant. */
export const STATES = {
  planRun: "Plan run",
  nightly: "Nightly window",
  backfill: "Backfill window",
  invalidInput: "Invalid input",
  invalidName: "Invalid execution name",
  batchFileJob: "Run batch-file job",
  startCrawler: "Start catalog crawler",
  resetPolls: "Reset crawler polls",
  waitCrawler: "Wait for crawler",
  getCrawler: "Get crawler state",
  countPoll: "Count crawler poll",
  crawlerDone: "Crawler finished?",
  lastCrawl: "Last crawl succeeded?",
  crawlerFailed: "Crawler failed",
  crawlerFailedSilently: "Crawler failed without a message",
  crawlerNeverCrawled: "Crawler never crawled",
  crawlerTimedOut: "Crawler timed out",
  curationJob: "Run curation job",
  headManifest: "Read manifest metadata",
  warehouseLoad: "Load warehouse",
  reportingLoad: "Load reporting database",
  summarise: "Summarise run",
  announce: "Announce completion",
  succeeded: "Succeeded",
  describeFailure: FAILURE_STATES.describe,
  notifyFailure: FAILURE_STATES.notify,
  failed: FAILURE_STATES.failed,
} as const;

/** What the definition names; all plain strings (the component resolves its outputs first). */
export interface BatchPipelineRefs {
  readonly batchFileJobName: string;
  readonly curationJobName: string;
  readonly crawlerName: string;
  readonly warehouseLoaderFunctionArn: string;
  readonly reportingLoadFunctionArn: string;
  readonly stagedBucket: string;
  readonly fanoutTopicArn: string;
  readonly alarmTopicArn: string;
  readonly region: string;
}

export type BatchPipelineRetrySettings = WorkflowRetrySettings;

export interface BatchPipelineSettings {
  readonly retry: BatchPipelineRetrySettings;
  /** The Glue jobs' own Timeout (minutes, from config). */
  readonly glueJobTimeoutMinutes: number;
  /** Added to the job timeout for the task's TimeoutSeconds, so Glue's own timeout fires first and names the cause. @default 10 */
  readonly glueTimeoutMarginMinutes?: number;
  readonly crawler: {
    readonly pollIntervalSeconds: number;
    /** Polls before the run fails as BatchPipeline.CrawlerTimedOut. */
    readonly maxPolls: number;
  };
  /** The warehouse loader function's timeout (seconds); the task adds a margin of 60 s. */
  readonly warehouseLoadTimeoutSeconds: number;
  /** The reporting-load function's timeout (seconds); the task adds a margin of 60 s. */
  readonly reportingLoadTimeoutSeconds: number;
  /** Timeout of the short API calls (startCrawler, getCrawler, headObject, publish). @default 60 */
  readonly apiCallTimeoutSeconds?: number;
}

/** Lambda invocations get this much beyond the function's own timeout (cold start, queueing). */
const LAMBDA_MARGIN_SECONDS = 60;

/** Everything wrong with the settings, in words (empty when they are usable). */
export function batchPipelineSettingsProblems(settings: BatchPipelineSettings): string[] {
  const problems: string[] = [];
  const whole = (value: number, name: string, min: number, max = Number.MAX_SAFE_INTEGER) => {
    if (!Number.isInteger(value) || value < min || value > max) problems.push(`${name} must be a whole number from ${min} to ${max}, got ${value}`);
  };
  problems.push(...retrySettingsProblems(settings.retry));
  // Glue job Timeout is 1-10080 minutes (https://docs.aws.amazon.com/glue/latest/webapi/API_Job.html).
  whole(settings.glueJobTimeoutMinutes, "glueJobTimeoutMinutes", 1, 10_080);
  whole(settings.glueTimeoutMarginMinutes ?? 10, "glueTimeoutMarginMinutes", 0, 120);
  whole(settings.crawler.pollIntervalSeconds, "crawler.pollIntervalSeconds", 5, 3600);
  whole(settings.crawler.maxPolls, "crawler.maxPolls", 1, 1000);
  // Lambda's timeout is at most 900 s.
  whole(settings.warehouseLoadTimeoutSeconds, "warehouseLoadTimeoutSeconds", 1, 900);
  whole(settings.reportingLoadTimeoutSeconds, "reportingLoadTimeoutSeconds", 1, 900);
  whole(settings.apiCallTimeoutSeconds ?? 60, "apiCallTimeoutSeconds", 5, 900);
  return problems;
}

const refsProblems = (refs: BatchPipelineRefs): string[] =>
  Object.entries(refs)
    .filter(([, value]) => typeof value !== "string" || value.length === 0)
    .map(([name]) => `refs.${name} must be a non-empty string`);

/** Seconds of every task's timeout, in order; the execution timeout is derived from them. */
export function taskTimeouts(settings: BatchPipelineSettings): { glueJob: number; apiCall: number; warehouseLoad: number; reportingLoad: number; crawlerPolling: number } {
  return {
    glueJob: (settings.glueJobTimeoutMinutes + (settings.glueTimeoutMarginMinutes ?? 10)) * 60,
    apiCall: settings.apiCallTimeoutSeconds ?? 60,
    warehouseLoad: settings.warehouseLoadTimeoutSeconds + LAMBDA_MARGIN_SECONDS,
    reportingLoad: settings.reportingLoadTimeoutSeconds + LAMBDA_MARGIN_SECONDS,
    crawlerPolling: settings.crawler.maxPolls * settings.crawler.pollIntervalSeconds,
  };
}

/**
 * The execution's TimeoutSeconds: every task at its timeout on every attempt, the longest
 * retry pauses, and the crawler's whole polling budget. A run past it is stuck, not slow.
 */
export function executionTimeoutSeconds(settings: BatchPipelineSettings): number {
  const t = taskTimeouts(settings);
  const attempts = settings.retry.maxAttempts + 1;
  const taskSeconds = 2 * t.glueJob + 6 * t.apiCall + t.warehouseLoad + t.reportingLoad;
  return Math.ceil(taskSeconds * attempts + 8 * retryPauseSeconds(settings.retry) + t.crawlerPolling * (1 + t.apiCall / settings.crawler.pollIntervalSeconds));
}

/**
 * EventBridge's "Object Created" carries the ETag without the quotes S3's HeadObject puts
 * around it. JSONPath intrinsics have no substring, so the quotes go by splitting on '"'.
 * Whether that split keeps empty leading or trailing pieces is not documented
 * (https://docs.aws.amazon.com/step-functions/latest/dg/intrinsic-functions.html#asl-intrsc-func-string-operation
 * shows only inputs without them), so the last of the distinct pieces is taken: "abc" for
 * ["", "abc", ""], ["", "abc"] and ["abc"] alike (ArrayUnique keeps first occurrences).
 */
const DISTINCT_ETAG_PIECES = "States.ArrayUnique(States.StringSplit($.ETag, '\"'))";
export const UNQUOTED_ETAG = `States.ArrayGetItem(${DISTINCT_ETAG_PIECES}, States.MathAdd(States.ArrayLength(${DISTINCT_ETAG_PIECES}), -1))`;



/**
 * Per-run values every later state reads: the window (empty for nightly), the bookmark
 * option, the execution name as run id, and the manifest key derived from it.
 */
function runValues(window: { from: string; to: string } | "from-input", bookmark: string): JsonObject {
  return {
    ...(window === "from-input" ? { "windowFrom.$": "$.backfill.from", "windowTo.$": "$.backfill.to" } : { windowFrom: window.from, windowTo: window.to }),
    bookmark,
    "runId.$": "$$.Execution.Name",
    "manifestKey.$": `States.Format('${BATCH_MANIFEST_PREFIX}{}.manifest', $$.Execution.Name)`,
  };
}

/**
 * The run arguments of a Glue job (components/batch/batch-settings.ts has the defaults; Glue takes them as
 * `--name value`). The buckets and catalog database are the jobs' DefaultArguments, set by
 * the component; a StartJobRun argument overrides a default of the same name.
 */
function glueRunArguments(extra: JsonObject = {}): JsonObject {
  return {
    "--window_from.$": "$.run.windowFrom",
    "--window_to.$": "$.run.windowTo",
    "--run_id.$": "$.run.runId",
    "--job-bookmark-option.$": "$.run.bookmark",
    ...extra,
  };
}

/**
 * The definition for these refs and settings; throws naming every bad ref or setting.
 */
export function batchPipelineDefinition(refs: BatchPipelineRefs, settings: BatchPipelineSettings): StateMachineDefinition {
  const problems = [...refsProblems(refs), ...batchPipelineSettingsProblems(settings)];
  if (problems.length > 0) throw new Error(`batch pipeline definition: ${problems.join("; ")}`);
  const timeouts = taskTimeouts(settings);
  const backoff = backoffRetrier(settings.retry);
  const toFailure = catchIntoFailure();
  const glueJob = (jobName: string, next: string, extraArguments?: JsonObject) =>
    task(GLUE_START_JOB_RUN_SYNC, next, {
      parameters: { JobName: jobName, Arguments: glueRunArguments(extraArguments) },
      // The .sync result is Glue's JobRun; only its id and final state are kept.
      resultSelector: { "Id.$": "$.Id", "JobRunState.$": "$.JobRunState" },
      resultPath: `$.jobs.${jobName === refs.batchFileJobName ? "batchFile" : "curation"}`,
      timeoutSeconds: timeouts.glueJob,
      retry: [backoff(GLUE_TRANSIENT_ERRORS)],
      catch: toFailure,
    });
  const invoke = (functionArn: string, payload: JsonObject, resultPath: string, timeoutSeconds: number, next: string) =>
    task(LAMBDA_INVOKE, next, {
      parameters: { FunctionName: functionArn, Payload: payload },
      resultSelector: { "Payload.$": "$.Payload" },
      resultPath,
      timeoutSeconds,
      retry: [backoff(LAMBDA_TRANSIENT_ERRORS)],
      catch: toFailure,
    });
  const crawlerState = "$.crawler.Crawler.State";
  const lastCrawlStatus = "$.crawler.Crawler.LastCrawl.Status";

  const states: Record<string, State> = {
    // Rules run in order and the first match wins, so each rule may rely on the IsPresent checks before it (a
    // comparison of an absent path is a States.Runtime error). Absence is tested as Not(IsPresent: true): the same
    // in ASL, and aws-local-stepfunctions 3.0 never matches `IsPresent: false`.
    [STATES.planRun]: choice(
      [
        // The loader form-decodes the manifest key of an "Object Created" event ("+" is a space), so a run whose
        // execution name holds "+" could never be loaded under its own key; refuse it before any job runs.
        when({ Variable: "$$.Execution.Name", StringMatches: "*+*" }, STATES.invalidName),
        when(absent("$.backfill"), STATES.nightly),
        when(absent("$.backfill.from"), STATES.invalidInput),
        when(absent("$.backfill.to"), STATES.invalidInput),
        when({ And: [{ Variable: "$.backfill.from", IsString: true }, { Variable: "$.backfill.to", IsString: true }] }, STATES.backfill),
      ],
      STATES.invalidInput,
      "Nightly when the input has no backfill; a backfill needs from and to (YYYY-MM-DD, checked by the jobs)",
    ),
    [STATES.invalidInput]: fail(PIPELINE_ERRORS.invalidInput, 'a backfill input is {"backfill":{"from":"YYYY-MM-DD","to":"YYYY-MM-DD"}}; from and to must both be strings'),
    [STATES.invalidName]: fail(PIPELINE_ERRORS.invalidExecutionName, 'the execution name becomes the run id and manifest key, and must not contain "+" (the loader reads it as a space)'),
    [STATES.nightly]: pass(STATES.batchFileJob, { parameters: runValues({ from: "", to: "" }, BOOKMARK_ENABLED), resultPath: "$.run" }),
    [STATES.backfill]: pass(STATES.batchFileJob, { parameters: runValues("from-input", BOOKMARK_DISABLED), resultPath: "$.run" }),
    [STATES.batchFileJob]: glueJob(refs.batchFileJobName, STATES.startCrawler),

    [STATES.startCrawler]: task(GLUE_START_CRAWLER, STATES.resetPolls, {
      parameters: { Name: refs.crawlerName },
      resultPath: null,
      timeoutSeconds: timeouts.apiCall,
      retry: [backoff([serviceError("Glue", "OperationTimeout"), serviceError("Glue", "InternalService")])],
      // A crawl already under way (another run's, or a console start) covers this run's new folders only if it started
      // after the job wrote them; polling it to READY and then curating is still correct, as the curation job's window
      // (or bookmark) reads the clean files themselves, and the crawler only adds partitions.
      catch: [catchInto(STATES.resetPolls, "$.crawlerAlreadyRunning", [serviceError("Glue", "CrawlerRunning")]), ...toFailure],
    }),
    [STATES.resetPolls]: pass(STATES.waitCrawler, { result: { count: 0 }, resultPath: "$.crawlerPolls" }),
    [STATES.waitCrawler]: wait(settings.crawler.pollIntervalSeconds, STATES.getCrawler),
    [STATES.getCrawler]: task(GLUE_GET_CRAWLER, STATES.countPoll, {
      parameters: { Name: refs.crawlerName },
      resultSelector: { "Crawler.$": "$.Crawler" },
      resultPath: "$.crawler",
      timeoutSeconds: timeouts.apiCall,
      retry: [backoff([serviceError("Glue", "OperationTimeout"), serviceError("Glue", "InternalService")])],
      catch: toFailure,
    }),
    [STATES.countPoll]: pass(STATES.crawlerDone, { parameters: { "count.$": "States.MathAdd($.crawlerPolls.count, 1)" }, resultPath: "$.crawlerPolls" }),
    // Glue's crawler states: READY | RUNNING | STOPPING (https://docs.aws.amazon.com/glue/latest/webapi/API_Crawler.html).
    [STATES.crawlerDone]: choice(
      [
        when({ Variable: crawlerState, StringEquals: "READY" }, STATES.lastCrawl),
        when({ Variable: "$.crawlerPolls.count", NumericGreaterThanEquals: settings.crawler.maxPolls }, STATES.crawlerTimedOut),
      ],
      STATES.waitCrawler,
    ),
    // LastCrawl.Status: SUCCEEDED | CANCELLED | FAILED (https://docs.aws.amazon.com/glue/latest/webapi/API_LastCrawlInfo.html).
    // The first rule guards the others: a path that is absent would fail the Choice state.
    [STATES.lastCrawl]: choice(
      [
        when(absent(lastCrawlStatus), STATES.crawlerNeverCrawled),
        when({ Variable: lastCrawlStatus, StringEquals: "SUCCEEDED" }, STATES.curationJob),
        when(absent("$.crawler.Crawler.LastCrawl.ErrorMessage"), STATES.crawlerFailedSilently),
      ],
      STATES.crawlerFailed,
    ),
    [STATES.crawlerFailed]: pass(STATES.describeFailure, {
      parameters: {
        Error: PIPELINE_ERRORS.crawlerFailed,
        "Cause.$": `States.Format('crawler ${refs.crawlerName} is READY but its last crawl ended {}: {}', ${lastCrawlStatus}, $.crawler.Crawler.LastCrawl.ErrorMessage)`,
      },
      resultPath: FAILURE_PATH,
    }),
    [STATES.crawlerFailedSilently]: pass(STATES.describeFailure, {
      parameters: { Error: PIPELINE_ERRORS.crawlerFailed, "Cause.$": `States.Format('crawler ${refs.crawlerName} is READY but its last crawl ended {}', ${lastCrawlStatus})` },
      resultPath: FAILURE_PATH,
    }),
    [STATES.crawlerNeverCrawled]: pass(STATES.describeFailure, {
      parameters: { Error: PIPELINE_ERRORS.crawlerFailed, Cause: `crawler ${refs.crawlerName} is READY with no last crawl recorded after this run started it` },
      resultPath: FAILURE_PATH,
    }),
    [STATES.crawlerTimedOut]: pass(STATES.describeFailure, {
      parameters: {
        Error: PIPELINE_ERRORS.crawlerTimedOut,
        "Cause.$": `States.Format('crawler ${refs.crawlerName} still {} after {} polls every ${settings.crawler.pollIntervalSeconds} s', ${crawlerState}, $.crawlerPolls.count)`,
      },
      resultPath: FAILURE_PATH,
    }),

    [STATES.curationJob]: glueJob(refs.curationJobName, STATES.headManifest, { "--manifest_key.$": "$.run.manifestKey" }),
    // The curation job writes the manifest last, so its existence means the load unit is complete; a missing one
    // fails here (S3.NoSuchKeyException / S3.NotFoundException is not retried) with the key in the cause.
    [STATES.headManifest]: task(S3_HEAD_OBJECT, STATES.warehouseLoad, {
      parameters: { Bucket: refs.stagedBucket, "Key.$": "$.run.manifestKey" },
      resultSelector: { "etag.$": UNQUOTED_ETAG, "size.$": "$.ContentLength" },
      resultPath: "$.manifest",
      timeoutSeconds: timeouts.apiCall,
      retry: [backoff(S3_TRANSIENT_ERRORS)],
      catch: toFailure,
    }),
    // The loader's own event: the EventBridge "Object Created" shape stagedObjectOf reads (functions/warehouse-loader.ts).
    [STATES.warehouseLoad]: invoke(
      refs.warehouseLoaderFunctionArn,
      {
        version: "0",
        source: "aws.s3",
        "detail-type": "Object Created",
        region: refs.region,
        detail: { bucket: { name: refs.stagedBucket }, object: { "key.$": "$.run.manifestKey", "etag.$": "$.manifest.etag", "size.$": "$.manifest.size" } },
      },
      "$.warehouseLoad",
      timeouts.warehouseLoad,
      STATES.reportingLoad,
    ),
    [STATES.reportingLoad]: invoke(
      refs.reportingLoadFunctionArn,
      { bucket: refs.stagedBucket, "manifestKey.$": "$.run.manifestKey" },
      "$.reportingLoad",
      timeouts.reportingLoad,
      STATES.summarise,
    ),
    [STATES.summarise]: pass(STATES.announce, {
      parameters: {
        kind: BATCH_COMPLETED_KIND,
        "runId.$": "$.run.runId",
        "windowFrom.$": "$.run.windowFrom",
        "windowTo.$": "$.run.windowTo",
        bucket: refs.stagedBucket,
        "manifestKey.$": "$.run.manifestKey",
        "warehouse.$": "$.warehouseLoad.Payload",
        "reporting.$": "$.reportingLoad.Payload",
      },
      resultPath: "$.summary",
    }),
    // The aggregator's subscription filters on kind {"exists": false}, so only S3's own notifications reach it.
    [STATES.announce]: publishNotice(STATES.succeeded, {
      topicArn: refs.fanoutTopicArn,
      kind: BATCH_COMPLETED_KIND,
      messagePath: "$.summary",
      timeoutSeconds: timeouts.apiCall,
      backoff,
      catch: toFailure,
    }),
    [STATES.succeeded]: succeed(),

    ...failureBranch({ alarmTopicArn: refs.alarmTopicArn, kind: BATCH_FAILED_KIND, subject: "Batch pipeline failed", timeoutSeconds: timeouts.apiCall, backoff }),
  };
  return stateMachine(STATES.planRun, states, "Batch layer: batch-file job, catalog crawl, curation job, warehouse and reporting loads, fan-out notice", executionTimeoutSeconds(settings));
}

// ---- IAM ---------------------------------------------------------------------------------

/**
 * The execution role's statements for exactly what the definition calls. Glue `.sync`
 * polls GetJobRun (no EventBridge managed rule): Step Functions' generated policy for
 * "Run a Job" is StartJobRun, GetJobRun, GetJobRuns and BatchStopJobRun (the stop on a
 * cancelled execution) (https://docs.aws.amazon.com/step-functions/latest/dg/connect-glue.html).
 * headObject needs s3:GetObject (https://docs.aws.amazon.com/AmazonS3/latest/API/API_HeadObject.html),
 * here on the manifest prefix only. Logging and X-Ray rights are the component's.
 */
export function batchPipelinePermissions(refs: BatchPipelineRefs, account: AccountContext): PolicyStatement[] {
  const partition = account.partition ?? "aws";
  const glueArn = (kind: "job" | "crawler", name: string) => `arn:${partition}:glue:${refs.region}:${account.accountId}:${kind}/${name}`;
  const statements: PolicyStatement[] = [
    {
      Sid: "RunBatchGlueJobs",
      Effect: "Allow",
      Action: ["glue:StartJobRun", "glue:GetJobRun", "glue:GetJobRuns", "glue:BatchStopJobRun"],
      Resource: [glueArn("job", refs.batchFileJobName), glueArn("job", refs.curationJobName)],
    },
    { Sid: "RunCatalogCrawler", Effect: "Allow", Action: ["glue:StartCrawler", "glue:GetCrawler"], Resource: [glueArn("crawler", refs.crawlerName)] },
    { Sid: "ReadBatchManifests", Effect: "Allow", Action: ["s3:GetObject"], Resource: [`arn:${partition}:s3:::${refs.stagedBucket}/${BATCH_MANIFEST_PREFIX}*`] },
    { Sid: "InvokeBatchLoads", Effect: "Allow", Action: ["lambda:InvokeFunction"], Resource: [refs.warehouseLoaderFunctionArn, refs.reportingLoadFunctionArn] },
    { Sid: "PublishBatchNotices", Effect: "Allow", Action: ["sns:Publish"], Resource: [refs.fanoutTopicArn, refs.alarmTopicArn] },
    ...topicKeyStatements("EncryptBatchNotices", refs.region, account),
  ];
  return statements;
}
