/**
 * What the platform's workflows publish: a notice on an SNS topic (JSON message, a `kind`
 * String attribute that subscriptions filter on), and the failure branch every task's
 * Catch leads into: describe the error, publish it to the alarm topic, end in Fail with
 * the original error and cause. Shared by workflows/batch-pipeline.ts and lake-replay.ts.
 */
import { CatchRule, JsonObject, RetryRule, SNS_PUBLISH, SNS_TRANSIENT_ERRORS, State, TaskState, catchInto, fail, pass, retry, task } from "./asl";

/** Where each task puts the error output ({Error, Cause}) of a caught failure; the failure branch reads it. */
export const FAILURE_PATH = "$.failure";

/** The failure branch's state names. */
export const FAILURE_STATES = {
  describe: "Describe failure",
  notify: "Notify failure",
  failed: "Failed",
} as const;

/** The catcher every task ends with: everything into the failure branch. */
export const catchIntoFailure = (): CatchRule[] => [catchInto(FAILURE_STATES.describe, FAILURE_PATH)];

export interface NoticeOptions {
  readonly topicArn: string;
  /** The `kind` message attribute (String). */
  readonly kind: string;
  /** JSONPath of the object published as the message (JSON text). */
  readonly messagePath: string;
  /** SNS subjects are ASCII, at most 100 characters. @default none */
  readonly subject?: string;
  readonly timeoutSeconds: number;
  readonly backoff: (errors: readonly string[]) => RetryRule;
  readonly catch: CatchRule[];
}

/** sns:publish of the object at messagePath (https://docs.aws.amazon.com/step-functions/latest/dg/connect-sns.html); the result is dropped. */
export function publishNotice(next: string, options: NoticeOptions): TaskState {
  const parameters: JsonObject = {
    TopicArn: options.topicArn,
    ...(options.subject !== undefined ? { Subject: options.subject } : {}),
    "Message.$": `States.JsonToString(${options.messagePath})`,
    MessageAttributes: { kind: { DataType: "String", StringValue: options.kind } },
  };
  return task(SNS_PUBLISH, next, {
    parameters,
    resultPath: null,
    timeoutSeconds: options.timeoutSeconds,
    retry: [options.backoff(SNS_TRANSIENT_ERRORS)],
    catch: options.catch,
  });
}

/**
 * The three failure states. The alarm notice carries the kind, the execution's ARN, and
 * the caught error and cause. An alarm that cannot be sent still ends the run FAILED
 * with the original error (the failed-executions alarm fires either way).
 */
export function failureBranch(options: { alarmTopicArn: string; kind: string; subject: string; timeoutSeconds: number; backoff: (errors: readonly string[]) => RetryRule }): Record<string, State> {
  return {
    [FAILURE_STATES.describe]: pass(FAILURE_STATES.notify, {
      parameters: { kind: options.kind, "execution.$": "$$.Execution.Id", "error.$": `${FAILURE_PATH}.Error`, "cause.$": `${FAILURE_PATH}.Cause` },
      resultPath: "$.failureNotice",
    }),
    [FAILURE_STATES.notify]: publishNotice(FAILURE_STATES.failed, {
      topicArn: options.alarmTopicArn,
      kind: options.kind,
      subject: options.subject,
      messagePath: "$.failureNotice",
      timeoutSeconds: options.timeoutSeconds,
      backoff: options.backoff,
      catch: [catchInto(FAILURE_STATES.failed, "$.notifyFailureError")],
    }),
    [FAILURE_STATES.failed]: fail({ errorPath: `${FAILURE_PATH}.Error`, causePath: `${FAILURE_PATH}.Cause` }),
  };
}

/** Retry settings shared by a workflow's tasks. */
export interface WorkflowRetrySettings {
  /** Retries after the first attempt. */
  readonly maxAttempts: number;
  readonly intervalSeconds: number;
  readonly backoffRate: number;
  /** @default none (no cap) */
  readonly maxDelaySeconds?: number;
}

/** Everything wrong with retry settings, in words (ASL's own limits are tighter than nothing, these are the platform's). */
export function retrySettingsProblems(settings: WorkflowRetrySettings, prefix = "retry"): string[] {
  const problems: string[] = [];
  const whole = (value: number, name: string, min: number, max: number) => {
    if (!Number.isInteger(value) || value < min || value > max) problems.push(`${prefix}.${name} must be a whole number from ${min} to ${max}, got ${value}`);
  };
  whole(settings.maxAttempts, "maxAttempts", 0, 10);
  whole(settings.intervalSeconds, "intervalSeconds", 1, 3600);
  if (!(settings.backoffRate >= 1 && settings.backoffRate <= 10)) problems.push(`${prefix}.backoffRate must be from 1 to 10, got ${settings.backoffRate}`);
  if (settings.maxDelaySeconds !== undefined) whole(settings.maxDelaySeconds, "maxDelaySeconds", 1, 31_622_400);
  return problems;
}

/** The retrier of `errors` with the workflow's backoff. */
export function backoffRetrier(settings: WorkflowRetrySettings): (errors: readonly string[]) => RetryRule {
  return (errors) =>
    retry(errors, { intervalSeconds: settings.intervalSeconds, maxAttempts: settings.maxAttempts, backoffRate: settings.backoffRate, maxDelaySeconds: settings.maxDelaySeconds });
}

/** The longest total pause one retrier can add (every retry at its backoff, capped). */
export function retryPauseSeconds(settings: WorkflowRetrySettings): number {
  let pauses = 0;
  for (let i = 0; i < settings.maxAttempts; i++) pauses += Math.min(settings.intervalSeconds * settings.backoffRate ** i, settings.maxDelaySeconds ?? Infinity);
  return pauses;
}
