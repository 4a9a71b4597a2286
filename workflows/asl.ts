/**
 * Small typed builders for Amazon States Language (JSONPath query language,
 * https://states-language.net/spec.html): the state types this platform's workflows use,
 * the service-integration ARNs, and `stateMachine`, which refuses a definition whose
 * StartAt, Next, Default or Catch target names no state. Every builder returns a plain
 * object: a component JSON-stringifies the definition inside an `apply`.
 */

export type JsonValue = null | boolean | number | string | JsonValue[] | { [key: string]: JsonValue };
export type JsonObject = { [key: string]: JsonValue };

// ---- integration ARNs ------------------------------------------------------------------

/**
 * An optimised integration: `arn:aws:states:::<service>:<action>[.sync]`
 * (https://docs.aws.amazon.com/step-functions/latest/dg/connect-to-resource.html; the
 * ".sync" form waits for the job to finish, "Run a Job"). The partition stays `aws` in
 * every partition's definitions, as the AWS examples write it.
 */
export function optimisedIntegration(service: string, action: string, pattern: "request-response" | "sync" = "request-response"): string {
  return `arn:aws:states:::${service}:${action}${pattern === "sync" ? ".sync" : ""}`;
}

/**
 * An AWS SDK integration: `arn:aws:states:::aws-sdk:<service>:<apiAction>` with the action
 * in camelCase and parameters in PascalCase
 * (https://docs.aws.amazon.com/step-functions/latest/dg/supported-services-awssdk.html).
 */
export function sdkIntegration(service: string, action: string): string {
  return `arn:aws:states:::aws-sdk:${service}:${action}`;
}

/** https://docs.aws.amazon.com/step-functions/latest/dg/connect-glue.html */
export const GLUE_START_JOB_RUN_SYNC = optimisedIntegration("glue", "startJobRun", "sync");
/** https://docs.aws.amazon.com/step-functions/latest/dg/connect-lambda.html */
export const LAMBDA_INVOKE = optimisedIntegration("lambda", "invoke");
/** https://docs.aws.amazon.com/step-functions/latest/dg/connect-sns.html */
export const SNS_PUBLISH = optimisedIntegration("sns", "publish");
/** https://docs.aws.amazon.com/step-functions/latest/dg/connect-emr-serverless.html */
export const EMR_SERVERLESS_START_JOB_RUN_SYNC = optimisedIntegration("emr-serverless", "startJobRun", "sync");
export const GLUE_START_CRAWLER = sdkIntegration("glue", "startCrawler");
export const GLUE_GET_CRAWLER = sdkIntegration("glue", "getCrawler");
export const S3_HEAD_OBJECT = sdkIntegration("s3", "headObject");

// ---- error names -------------------------------------------------------------------------

/** Matches every error (States.Runtime excepted, which nothing can catch). */
export const ALL_ERRORS = "States.ALL";

/**
 * Integration errors are reported as `<Service>.<ErrorName>` in PascalCase, with an
 * "Exception" suffix even where the service's API reference has none (S3's `SlowDown`
 * is `S3.SlowDownException`):
 * https://docs.aws.amazon.com/step-functions/latest/dg/supported-services-awssdk.html
 */
export function serviceError(service: string, name: string): string {
  return `${service}.${name.endsWith("Exception") ? name : `${name}Exception`}`;
}

/**
 * Lambda's transient service errors and its throttle, as Step Functions' best practice
 * lists them (https://docs.aws.amazon.com/step-functions/latest/dg/bp-lambda-serviceexception.html).
 * Function errors keep the function's own errorType and are not in this list.
 */
export const LAMBDA_TRANSIENT_ERRORS = [
  "Lambda.ClientExecutionTimeoutException",
  "Lambda.ServiceException",
  "Lambda.AWSLambdaException",
  "Lambda.SdkClientException",
  "Lambda.TooManyRequestsException",
];

/**
 * Glue's retryable API errors (https://docs.aws.amazon.com/glue/latest/dg/aws-glue-api-exceptions.html):
 * too many concurrent runs (the jobs run with MaxConcurrentRuns 1, so an overlapping run
 * clears), Glue's internal error and its operation timeout. A job run that ends FAILED
 * is not an API error; `.sync` reports it as States.TaskFailed, which is not retried.
 */
export const GLUE_TRANSIENT_ERRORS = ["ConcurrentRunsExceededException", "InternalServiceException", "OperationTimeoutException", "ThrottlingException"].map((name) =>
  serviceError("Glue", name),
);

/** S3's 500/503 errors (https://docs.aws.amazon.com/AmazonS3/latest/API/ErrorResponses.html), named per the rule above. */
export const S3_TRANSIENT_ERRORS = ["InternalError", "SlowDown", "ServiceUnavailable"].map((name) => serviceError("S3", name));

/** SNS Publish's retryable errors (https://docs.aws.amazon.com/sns/latest/api/API_Publish.html): InternalError, Throttled, KMSThrottling. */
export const SNS_TRANSIENT_ERRORS = ["InternalError", "Throttled", "KMSThrottling"].map((name) => serviceError("SNS", name));

// ---- state types -------------------------------------------------------------------------

export interface RetryRule {
  ErrorEquals: string[];
  IntervalSeconds?: number;
  MaxAttempts?: number;
  BackoffRate?: number;
  MaxDelaySeconds?: number;
  JitterStrategy?: "FULL" | "NONE";
}

export interface CatchRule {
  ErrorEquals: string[];
  Next: string;
  /** Where the error output ({Error, Cause}) goes in the state's input. */
  ResultPath?: string | null;
}

type Transition = { Next: string; End?: never } | { End: true; Next?: never };

interface IoFields {
  Comment?: string;
  InputPath?: string | null;
  OutputPath?: string | null;
}

export type TaskState = IoFields &
  Transition & {
    Type: "Task";
    Resource: string;
    Parameters?: JsonObject;
    ResultSelector?: JsonObject;
    ResultPath?: string | null;
    TimeoutSeconds?: number;
    HeartbeatSeconds?: number;
    Retry?: RetryRule[];
    Catch?: CatchRule[];
  };

export type PassState = IoFields &
  Transition & {
    Type: "Pass";
    Parameters?: JsonObject;
    Result?: JsonValue;
    ResultPath?: string | null;
  };

export type WaitState = IoFields & Transition & { Type: "Wait" } & ({ Seconds: number } | { SecondsPath: string } | { Timestamp: string } | { TimestampPath: string });

/** A comparison of one Variable (a JSONPath) against a literal or another path, or a boolean combination. */
export type ChoiceCondition =
  | ({ Variable: string } & { [operator: string]: JsonValue })
  | { And: ChoiceCondition[] }
  | { Or: ChoiceCondition[] }
  | { Not: ChoiceCondition };

export type ChoiceRule = ChoiceCondition & { Next: string };

export interface ChoiceState extends IoFields {
  Type: "Choice";
  Choices: ChoiceRule[];
  Default?: string;
}

export interface SucceedState extends IoFields {
  Type: "Succeed";
}

export interface FailState {
  Type: "Fail";
  Comment?: string;
  Error?: string;
  Cause?: string;
  ErrorPath?: string;
  CausePath?: string;
}

export type State = TaskState | PassState | WaitState | ChoiceState | SucceedState | FailState;

export interface StateMachineDefinition {
  Comment?: string;
  StartAt: string;
  States: Record<string, State>;
  TimeoutSeconds?: number;
  QueryLanguage?: "JSONPath";
}

// ---- builders ----------------------------------------------------------------------------

/** `next` undefined ends the workflow at this state. */
function transition(next: string | undefined): Transition {
  return next === undefined ? { End: true } : { Next: next };
}

function positiveInteger(value: number, what: string): number {
  if (!Number.isInteger(value) || value < 1) throw new Error(`${what} must be a whole number of at least 1, got ${value}`);
  return value;
}

export interface RetryOptions {
  /** @default 1 */
  intervalSeconds?: number;
  /** @default 3 */
  maxAttempts?: number;
  /** @default 2 */
  backoffRate?: number;
  /** @default none (no cap) */
  maxDelaySeconds?: number;
  /** @default "FULL": concurrent retries spread out instead of arriving together */
  jitter?: "FULL" | "NONE";
}

/** A retrier; its limits are checked here (ASL: IntervalSeconds ≥ 1, MaxAttempts ≥ 0, BackoffRate ≥ 1, MaxDelaySeconds ≥ 1). */
export function retry(errors: readonly string[], options: RetryOptions = {}): RetryRule {
  if (errors.length === 0) throw new Error("a retrier needs at least one error name");
  const interval = positiveInteger(options.intervalSeconds ?? 1, "IntervalSeconds");
  const attempts = options.maxAttempts ?? 3;
  if (!Number.isInteger(attempts) || attempts < 0) throw new Error(`MaxAttempts must be a whole number of at least 0, got ${attempts}`);
  const backoff = options.backoffRate ?? 2;
  if (!(backoff >= 1)) throw new Error(`BackoffRate must be at least 1, got ${backoff}`);
  const rule: RetryRule = { ErrorEquals: [...errors], IntervalSeconds: interval, MaxAttempts: attempts, BackoffRate: backoff, JitterStrategy: options.jitter ?? "FULL" };
  if (options.maxDelaySeconds !== undefined) rule.MaxDelaySeconds = positiveInteger(options.maxDelaySeconds, "MaxDelaySeconds");
  return rule;
}

/** A catcher of `errors` (@default every error) into `next`, keeping the input with the error output at `resultPath`. */
export function catchInto(next: string, resultPath: string | null, errors: readonly string[] = [ALL_ERRORS]): CatchRule {
  return { ErrorEquals: [...errors], Next: next, ResultPath: resultPath };
}

export interface TaskOptions {
  parameters?: JsonObject;
  resultSelector?: JsonObject;
  /** @default "$" (the result replaces the input) */
  resultPath?: string | null;
  timeoutSeconds: number;
  retry: RetryRule[];
  catch: CatchRule[];
  comment?: string;
}

/**
 * A Task. TimeoutSeconds, a Retry and a Catch are required: a task without them hangs on a
 * lost job (Step Functions' default task timeout is the execution's) or fails the whole
 * execution without the failure branch.
 */
export function task(resource: string, next: string | undefined, options: TaskOptions): TaskState {
  if (options.retry.length === 0) throw new Error(`task ${resource} needs at least one retrier`);
  if (options.catch.length === 0) throw new Error(`task ${resource} needs at least one catcher`);
  const state: TaskState = {
    Type: "Task",
    Resource: resource,
    ...(options.comment !== undefined ? { Comment: options.comment } : {}),
    ...(options.parameters !== undefined ? { Parameters: options.parameters } : {}),
    ...(options.resultSelector !== undefined ? { ResultSelector: options.resultSelector } : {}),
    ...(options.resultPath !== undefined ? { ResultPath: options.resultPath } : {}),
    TimeoutSeconds: positiveInteger(options.timeoutSeconds, "TimeoutSeconds"),
    Retry: options.retry,
    Catch: options.catch,
    ...transition(next),
  };
  return state;
}

export interface PassOptions {
  parameters?: JsonObject;
  result?: JsonValue;
  resultPath?: string | null;
  comment?: string;
}

export function pass(next: string | undefined, options: PassOptions = {}): PassState {
  return {
    Type: "Pass",
    ...(options.comment !== undefined ? { Comment: options.comment } : {}),
    ...(options.parameters !== undefined ? { Parameters: options.parameters } : {}),
    ...(options.result !== undefined ? { Result: options.result } : {}),
    ...(options.resultPath !== undefined ? { ResultPath: options.resultPath } : {}),
    ...transition(next),
  };
}

/** Waits a fixed number of seconds (≥ 0), or the seconds at a JSONPath of the input. */
export function wait(seconds: number | { path: string }, next: string): WaitState {
  if (typeof seconds === "number") {
    if (!Number.isInteger(seconds) || seconds < 0) throw new Error(`Wait Seconds must be a whole number of at least 0, got ${seconds}`);
    return { Type: "Wait", Seconds: seconds, Next: next };
  }
  return { Type: "Wait", SecondsPath: seconds.path, Next: next };
}

/**
 * "path is absent", as Not(IsPresent: true): the same in ASL as IsPresent: false, which
 * aws-local-stepfunctions 3.0 never matches (its IsPresent returns `IsPresent && present`).
 */
export function absent(path: string): ChoiceCondition {
  return { Not: { Variable: path, IsPresent: true } };
}

export function when(condition: ChoiceCondition, next: string): ChoiceRule {
  return { ...condition, Next: next } as ChoiceRule;
}

/** Rules are evaluated in order and the first match wins, so a rule may rely on an earlier IsPresent. */
export function choice(rules: ChoiceRule[], defaultNext?: string, comment?: string): ChoiceState {
  if (rules.length === 0) throw new Error("a Choice state needs at least one rule");
  return { Type: "Choice", ...(comment !== undefined ? { Comment: comment } : {}), Choices: rules, ...(defaultNext !== undefined ? { Default: defaultNext } : {}) };
}

export function succeed(comment?: string): SucceedState {
  return { Type: "Succeed", ...(comment !== undefined ? { Comment: comment } : {}) };
}

/** A Fail state with a fixed error and cause, or (paths) the ones found in its input. */
export function fail(error: string | { errorPath: string; causePath: string }, cause?: string): FailState {
  if (typeof error === "string") return { Type: "Fail", Error: error, ...(cause !== undefined ? { Cause: cause } : {}) };
  return { Type: "Fail", ErrorPath: error.errorPath, CausePath: error.causePath };
}

/** Every state name a state can hand over to. */
export function targetsOf(state: State): string[] {
  const targets: string[] = [];
  if ("Next" in state && typeof state.Next === "string") targets.push(state.Next);
  if (state.Type === "Choice") {
    targets.push(...state.Choices.map((rule) => rule.Next));
    if (state.Default !== undefined) targets.push(state.Default);
  }
  if (state.Type === "Task") targets.push(...(state.Catch ?? []).map((rule) => rule.Next));
  return targets;
}

/**
 * The whole definition. Throws when StartAt or any Next, Default or Catch target names
 * no state (naming the state and the missing target), and when a state can be reached
 * by nothing (a dead state is a refactoring left half-done).
 */
export function stateMachine(startAt: string, states: Record<string, State>, comment: string, timeoutSeconds: number): StateMachineDefinition {
  const names = new Set(Object.keys(states));
  if (!names.has(startAt)) throw new Error(`StartAt "${startAt}" names no state (states: ${[...names].join(", ")})`);
  for (const [name, state] of Object.entries(states)) {
    if (name.length === 0 || name.length > 80) throw new Error(`state name "${name}" must be 1-80 characters`);
    for (const target of targetsOf(state)) {
      if (!names.has(target)) throw new Error(`state "${name}" hands over to "${target}", which names no state`);
    }
  }
  const reached = new Set<string>([startAt]);
  const queue = [startAt];
  while (queue.length > 0) {
    for (const target of targetsOf(states[queue.shift() as string])) {
      if (!reached.has(target)) {
        reached.add(target);
        queue.push(target);
      }
    }
  }
  const unreachable = [...names].filter((name) => !reached.has(name));
  if (unreachable.length > 0) throw new Error(`states not reachable from "${startAt}": ${unreachable.join(", ")}`);
  return { Comment: comment, StartAt: startAt, TimeoutSeconds: positiveInteger(timeoutSeconds, "the state machine's TimeoutSeconds"), States: states };
}
