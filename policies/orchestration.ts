/**
 * The batch layer's orchestration: Step Functions state machines (logging, X-Ray tracing,
 * a customer key) and the EventBridge Scheduler schedules that start them.
 */
import * as aws from "@pulumi/aws";
import { validateResourceOfType } from "@pulumi/policy";
import { PlatformResourcePolicy } from "./lib/policy";
import { customerKeyGap, isSet, isTrue, peek } from "./lib/values";

export const stateMachineLogging: PlatformResourcePolicy = {
  name: "sfn-state-machine-logging",
  description:
    "Step Functions state machines log their execution history to CloudWatch Logs: loggingConfiguration with a logDestination (a log group ARN ending in :*) and a level other than OFF (ALL, ERROR or FATAL).",
  enforcementLevel: "mandatory",
  remediationSteps:
    'Set loggingConfiguration: { logDestination: pulumi.interpolate`${logGroup.arn}:*`, level: <stage config: "ALL" in dev, "ERROR" in prod>, includeExecutionData: <true only where inputs carry no secrets> } on the aws.sfn.StateMachine; the log group uses the logs key, and the role needs the logs:*LogDelivery* actions on "*".',
  // Levels and the ":*" suffix: the provider's StateMachineLoggingConfiguration docs and
  // https://docs.aws.amazon.com/step-functions/latest/apireference/API_LoggingConfiguration.html (OFF is the default level)
  validateResource: validateResourceOfType(aws.sfn.StateMachine, (machine, _args, report) => {
    const logging = machine.loggingConfiguration;
    const level = peek(() => logging?.level);
    if (!isSet(level) || level === "OFF") report(`loggingConfiguration.level is ${isSet(level) ? "OFF" : "unset (OFF)"}, so executions leave no log.`);
    const destination = peek(() => logging?.logDestination);
    if (!isSet(destination)) report("loggingConfiguration has no logDestination.");
    else if (typeof destination === "string" && !destination.endsWith(":*")) report(`logDestination ${destination} does not end with ":*" (Step Functions needs the log group's ARN with its stream wildcard).`);
  }),
};

export const stateMachineTracing: PlatformResourcePolicy = {
  name: "sfn-state-machine-tracing",
  description: "Step Functions state machines send X-Ray traces (tracingConfiguration.enabled), so a slow or failing step is visible across the Glue, Lambda and SNS calls it makes.",
  enforcementLevel: "mandatory",
  remediationSteps: 'Set tracingConfiguration: { enabled: true } on the aws.sfn.StateMachine and allow its role xray:PutTraceSegments, xray:PutTelemetryRecords and xray:GetSampling* on "*".',
  validateResource: validateResourceOfType(aws.sfn.StateMachine, (machine, _args, report) => {
    if (!isTrue(peek(() => machine.tracingConfiguration?.enabled))) report("tracingConfiguration.enabled is not true: executions are not traced.");
  }),
};

export const stateMachineCmk: PlatformResourcePolicy = {
  name: "sfn-state-machine-cmk",
  description:
    "Step Functions state machines encrypt their definition and execution history with a customer KMS key (encryptionConfiguration type CUSTOMER_MANAGED_KMS_KEY with kmsKeyId); the default is an AWS-owned key.",
  enforcementLevel: "mandatory",
  remediationSteps:
    'Set encryptionConfiguration: { type: "CUSTOMER_MANAGED_KMS_KEY", kmsKeyId: <data key ARN>, kmsDataKeyReusePeriodSeconds: 300 } on the aws.sfn.StateMachine; its role needs kms:Decrypt and kms:GenerateDataKey on the key (with the encryption context aws:states:stateMachineArn), and an encrypted log destination needs the same for delivery.',
  // https://docs.aws.amazon.com/step-functions/latest/apireference/API_EncryptionConfiguration.html
  validateResource: validateResourceOfType(aws.sfn.StateMachine, (machine, _args, report) => {
    const encryption = machine.encryptionConfiguration;
    const type = peek(() => encryption?.type);
    if (type !== "CUSTOMER_MANAGED_KMS_KEY" && typeof type !== "symbol") {
      report(`encryptionConfiguration.type is ${isSet(type) ? type : "unset (AWS_OWNED_KEY)"}, not CUSTOMER_MANAGED_KMS_KEY.`);
      return;
    }
    const gap = customerKeyGap(peek(() => encryption?.kmsKeyId), "kmsKeyId");
    if (gap) report(`encryptionConfiguration has ${gap}.`);
  }),
};

/**
 * Mandatory, as every other customer-key rule of the pack is (SQS, SNS, log groups, state
 * machines): Scheduler encrypts a schedule's target input with an AWS-owned key unless
 * kmsKeyArn names a customer key, and a schedule's input may carry a backfill's parameters.
 */
export const scheduleCmk: PlatformResourcePolicy = {
  name: "scheduler-schedule-cmk",
  description: "EventBridge Scheduler schedules encrypt their data (the target's input) with a customer KMS key (kmsKeyArn), not the AWS-owned key Scheduler uses by default.",
  enforcementLevel: "mandatory",
  remediationSteps: "Set kmsKeyArn: <data key ARN> on the aws.scheduler.Schedule; the key policy must let scheduler.amazonaws.com use it (kms:Decrypt) for this account.",
  validateResource: validateResourceOfType(aws.scheduler.Schedule, (schedule, _args, report) => {
    const gap = customerKeyGap(peek(() => schedule.kmsKeyArn), "kmsKeyArn");
    if (gap) report(`The schedule has ${gap}.`);
  }),
};

/**
 * Advisory, like the other failure-handling rules (kinesis-consumer-failure-handling,
 * sqs-queue-has-dead-letter-queue). Without a dead-letter queue an invocation that exhausts
 * its retries is dropped; without a stated retry policy Scheduler retries for up to 24 hours
 * (maximums of https://docs.aws.amazon.com/scheduler/latest/APIReference/API_RetryPolicy.html),
 * long after the nightly window.
 */
export const scheduleFailureHandling: PlatformResourcePolicy = {
  name: "scheduler-schedule-failure-handling",
  description: "EventBridge Scheduler schedules keep what they fail to deliver: target.deadLetterConfig names an SQS queue, and target.retryPolicy states maximumRetryAttempts and maximumEventAgeInSeconds instead of the 24-hour default.",
  enforcementLevel: "advisory",
  remediationSteps:
    "Set target: { ..., deadLetterConfig: { arn: <KMS-encrypted SQS queue ARN> }, retryPolicy: { maximumRetryAttempts: 3, maximumEventAgeInSeconds: 3600 } } on the aws.scheduler.Schedule, and let scheduler.amazonaws.com send to the queue (queue policy with aws:SourceArn of the schedule).",
  validateResource: validateResourceOfType(aws.scheduler.Schedule, (schedule, _args, report) => {
    const target = schedule.target;
    if (!isSet(peek(() => target?.deadLetterConfig?.arn))) report("target.deadLetterConfig is not set: an invocation that exhausts its retries is dropped.");
    const retry = target?.retryPolicy;
    if (!isSet(peek(() => retry?.maximumRetryAttempts)) || !isSet(peek(() => retry?.maximumEventAgeInSeconds))) {
      report("target.retryPolicy does not state maximumRetryAttempts and maximumEventAgeInSeconds (the default retries for 24 hours).");
    }
  }),
};

export const orchestrationPolicies: PlatformResourcePolicy[] = [stateMachineLogging, stateMachineTracing, stateMachineCmk, scheduleCmk, scheduleFailureHandling];
