/**
 * On-demand lake replay on EMR Serverless (Spark), for reprocessing too heavy for the Glue
 * jobs: re-runs the batch-file transformation over the raw lake's supplier files for a date
 * range (glue/jobs/lake_replay.py) into the transformed zone's batch clean dataset, then
 * announces it on the fan-out topic (kind=lake.replayed). Restaging the range is a batch
 * pipeline backfill with the same window afterwards (README: run a backfill).
 *
 * Execution input: `{"from":"YYYY-MM-DD","to":"YYYY-MM-DD"}` (inclusive, by occurred_at;
 * the script validates the dates and refuses a reversed range).
 */
import { EMR_SERVERLESS_START_JOB_RUN_SYNC, JsonObject, StateMachineDefinition, absent, choice, fail, pass, serviceError, stateMachine, succeed, task, when } from "./asl";
import { FAILURE_STATES, WorkflowRetrySettings, backoffRetrier, catchIntoFailure, failureBranch, publishNotice, retryPauseSeconds, retrySettingsProblems } from "./notices";
import { AccountContext, PolicyStatement, topicKeyStatements } from "./permissions";

export const LAKE_REPLAYED_KIND = "lake.replayed";
export const LAKE_REPLAY_FAILED_KIND = "lake.replay.failed";
export const REPLAY_INVALID_INPUT = "LakeReplay.InvalidInput";

export const REPLAY_STATES = {
  checkInput: "Check replay input",
  invalidInput: "Invalid replay input",
  runReplay: "Run lake replay",
  summarise: "Summarise replay",
  announce: "Announce replay",
  succeeded: "Replayed",
  ...FAILURE_STATES,
} as const;

/**
 * EMR Serverless errors as Step Functions names them (`EMRServerless.<Name>`; the API's
 * retryable errors are InternalServerException and ThrottlingException,
 * https://docs.aws.amazon.com/emr-serverless/latest/APIReference/API_StartJobRun.html).
 * A job run that ends FAILED is States.TaskFailed and is not retried.
 */
export const EMR_SERVERLESS_TRANSIENT_ERRORS = ["InternalServerException", "ThrottlingException"].map((name) => serviceError("EMRServerless", name));

export interface LakeReplayRefs {
  readonly applicationId: string;
  /** The job runtime role the Spark job runs as (passed to EMR Serverless). */
  readonly jobRoleArn: string;
  /** s3://… of glue/jobs/lake_replay.py as uploaded by the component. */
  readonly replayScriptUri: string;
  /** s3://… of the zip of batch_events and batch_spark.py (the one the Glue jobs use). */
  readonly pyFilesUri: string;
  readonly rawBucket: string;
  readonly transformedBucket: string;
  readonly fanoutTopicArn: string;
  readonly alarmTopicArn: string;
  readonly region: string;
}

export interface LakeReplaySettings {
  readonly retry: WorkflowRetrySettings;
  /** The job run's own limit (EMR Serverless executionTimeoutMinutes). */
  readonly replayTimeoutMinutes: number;
  /** Added to the job's limit for the task's TimeoutSeconds, so EMR's own timeout names the cause. @default 15 */
  readonly timeoutMarginMinutes?: number;
  /** @default 60 */
  readonly apiCallTimeoutSeconds?: number;
  /** Extra spark-submit parameters (executor sizes from config). @default "" */
  readonly sparkSubmitParameters?: string;
}

export function lakeReplaySettingsProblems(settings: LakeReplaySettings): string[] {
  const problems = retrySettingsProblems(settings.retry);
  const whole = (value: number, name: string, min: number, max: number) => {
    if (!Number.isInteger(value) || value < min || value > max) problems.push(`${name} must be a whole number from ${min} to ${max}, got ${value}`);
  };
  // A job run's executionTimeoutMinutes is at most 7 days (10080 minutes).
  whole(settings.replayTimeoutMinutes, "replayTimeoutMinutes", 1, 10_080);
  whole(settings.timeoutMarginMinutes ?? 15, "timeoutMarginMinutes", 0, 120);
  whole(settings.apiCallTimeoutSeconds ?? 60, "apiCallTimeoutSeconds", 5, 900);
  return problems;
}

/** The definition for these refs and settings; throws naming every bad ref or setting. */
export function lakeReplayDefinition(refs: LakeReplayRefs, settings: LakeReplaySettings): StateMachineDefinition {
  const problems = [
    ...Object.entries(refs)
      .filter(([, value]) => typeof value !== "string" || value.length === 0)
      .map(([name]) => `refs.${name} must be a non-empty string`),
    ...lakeReplaySettingsProblems(settings),
  ];
  for (const name of ["replayScriptUri", "pyFilesUri"] as const) if (refs[name] && !refs[name].startsWith("s3://")) problems.push(`refs.${name} must be an s3:// URI, got ${refs[name]}`);
  if (problems.length > 0) throw new Error(`lake replay definition: ${problems.join("; ")}`);
  const backoff = backoffRetrier(settings.retry);
  const apiCall = settings.apiCallTimeoutSeconds ?? 60;
  const jobSeconds = (settings.replayTimeoutMinutes + (settings.timeoutMarginMinutes ?? 15)) * 60;
  const sparkParameters = [`--py-files ${refs.pyFilesUri}`, settings.sparkSubmitParameters ?? ""].filter((part) => part.length > 0).join(" ");
  const jobDriver: JsonObject = {
    SparkSubmit: {
      EntryPoint: refs.replayScriptUri,
      // lake_replay.py's own argument names (glue/jobs/lake_replay.py).
      "EntryPointArguments.$": `States.Array('--from', $.from, '--to', $.to, '--raw_bucket', '${refs.rawBucket}', '--transformed_bucket', '${refs.transformedBucket}', '--run_id', $$.Execution.Name)`,
      SparkSubmitParameters: sparkParameters,
    },
  };

  const states = {
    [REPLAY_STATES.checkInput]: choice(
      [
        when(absent("$.from"), REPLAY_STATES.invalidInput),
        when(absent("$.to"), REPLAY_STATES.invalidInput),
        when({ And: [{ Variable: "$.from", IsString: true }, { Variable: "$.to", IsString: true }] }, REPLAY_STATES.runReplay),
      ],
      REPLAY_STATES.invalidInput,
    ),
    [REPLAY_STATES.invalidInput]: fail(REPLAY_INVALID_INPUT, 'a replay input is {"from":"YYYY-MM-DD","to":"YYYY-MM-DD"}; both must be strings'),
    // https://docs.aws.amazon.com/step-functions/latest/dg/connect-emr-serverless.html
    [REPLAY_STATES.runReplay]: task(EMR_SERVERLESS_START_JOB_RUN_SYNC, REPLAY_STATES.summarise, {
      parameters: {
        ApplicationId: refs.applicationId,
        ExecutionRoleArn: refs.jobRoleArn,
        "Name.$": "States.Format('lake-replay-{}', $$.Execution.Name)",
        // The execution name makes a retried start idempotent: EMR Serverless returns the run it already started.
        "ClientToken.$": "$$.Execution.Name",
        ExecutionTimeoutMinutes: settings.replayTimeoutMinutes,
        JobDriver: jobDriver,
      },
      // The whole result is kept: its shape (the job run as EMR Serverless reports it) is small, and no field of it is read.
      resultPath: "$.replay",
      timeoutSeconds: jobSeconds,
      retry: [backoff(EMR_SERVERLESS_TRANSIENT_ERRORS)],
      catch: catchIntoFailure(),
    }),
    [REPLAY_STATES.summarise]: pass(REPLAY_STATES.announce, {
      parameters: {
        kind: LAKE_REPLAYED_KIND,
        "runId.$": "$$.Execution.Name",
        "from.$": "$.from",
        "to.$": "$.to",
        transformedBucket: refs.transformedBucket,
      },
      resultPath: "$.summary",
    }),
    [REPLAY_STATES.announce]: publishNotice(REPLAY_STATES.succeeded, {
      topicArn: refs.fanoutTopicArn,
      kind: LAKE_REPLAYED_KIND,
      messagePath: "$.summary",
      timeoutSeconds: apiCall,
      backoff,
      catch: catchIntoFailure(),
    }),
    [REPLAY_STATES.succeeded]: succeed(),
    ...failureBranch({ alarmTopicArn: refs.alarmTopicArn, kind: LAKE_REPLAY_FAILED_KIND, subject: "Lake replay failed", timeoutSeconds: apiCall, backoff }),
  };
  const attempts = settings.retry.maxAttempts + 1;
  const timeout = Math.ceil(attempts * (jobSeconds + 2 * apiCall) + 3 * retryPauseSeconds(settings.retry));
  return stateMachine(REPLAY_STATES.checkInput, states, "Lake replay: the batch-file transformation on EMR Serverless for a date range", timeout);
}

/**
 * The replay execution role's statements. `.sync` for EMR Serverless watches the job run
 * through an EventBridge managed rule, so beside StartJobRun/GetJobRun/CancelJobRun it
 * needs PutTargets/PutRule/DescribeRule on StepFunctionsGetEventsForEMRServerlessJobRule,
 * and iam:PassRole of the job role, to EMR Serverless only
 * (https://docs.aws.amazon.com/step-functions/latest/dg/emr-serverless-iam.html).
 */
export function lakeReplayPermissions(refs: LakeReplayRefs, account: AccountContext): PolicyStatement[] {
  const partition = account.partition ?? "aws";
  const application = `arn:${partition}:emr-serverless:${refs.region}:${account.accountId}:/applications/${refs.applicationId}`;
  const statements: PolicyStatement[] = [
    { Sid: "StartReplayJobRuns", Effect: "Allow", Action: ["emr-serverless:StartJobRun"], Resource: [application] },
    { Sid: "FollowReplayJobRuns", Effect: "Allow", Action: ["emr-serverless:GetJobRun", "emr-serverless:CancelJobRun"], Resource: [`${application}/jobruns/*`] },
    {
      Sid: "ManageSyncRule",
      Effect: "Allow",
      Action: ["events:PutTargets", "events:PutRule", "events:DescribeRule"],
      Resource: [`arn:${partition}:events:${refs.region}:${account.accountId}:rule/StepFunctionsGetEventsForEMRServerlessJobRule`],
    },
    {
      Sid: "PassReplayJobRole",
      Effect: "Allow",
      Action: ["iam:PassRole"],
      Resource: [refs.jobRoleArn],
      Condition: { StringEquals: { "iam:PassedToService": "emr-serverless.amazonaws.com" } },
    },
    { Sid: "PublishReplayNotices", Effect: "Allow", Action: ["sns:Publish"], Resource: [refs.fanoutTopicArn, refs.alarmTopicArn] },
    ...topicKeyStatements("EncryptReplayNotices", refs.region, account),
  ];
  return statements;
}
