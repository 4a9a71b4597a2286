import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import { QUARANTINE_METRIC } from "../../functions/quarantine";
import type { InlineFunction } from "./inline-function";

export interface MetricAlarmArgs {
  description: string;
  namespace: string;
  metricName: string;
  dimensions: Record<string, pulumi.Input<string>>;
  /** @default "Maximum" */
  statistic?: string;
  threshold: number;
  /** @default "GreaterThanThreshold" */
  comparisonOperator?: string;
  /** @default 300 */
  periodSeconds?: number;
  /** @default 1 */
  evaluationPeriods?: number;
  /** @default "notBreaching" */
  treatMissingData?: string;
}

/**
 * One CloudWatch alarm notifying the platform alarm topic on alarm and on recovery.
 * Components call this only when alarms are enabled for the stage (alarmTopicArn set).
 */
export function createMetricAlarm(name: string, args: MetricAlarmArgs, alarmTopicArn: pulumi.Input<string>, parent: pulumi.Resource): aws.cloudwatch.MetricAlarm {
  return new aws.cloudwatch.MetricAlarm(name, {
    alarmDescription: args.description,
    namespace: args.namespace,
    metricName: args.metricName,
    dimensions: args.dimensions,
    statistic: args.statistic ?? "Maximum",
    threshold: args.threshold,
    comparisonOperator: args.comparisonOperator ?? "GreaterThanThreshold",
    period: args.periodSeconds ?? 300,
    evaluationPeriods: args.evaluationPeriods ?? 1,
    treatMissingData: args.treatMissingData ?? "notBreaching",
    alarmActions: [alarmTopicArn],
    okActions: [alarmTopicArn],
  }, { parent });
}

/** Errors and throttles of one function, each alarming on the first occurrence. */
export function createFunctionAlarms(name: string, fn: InlineFunction, alarmTopicArn: pulumi.Input<string>, parent: pulumi.Resource): void {
  for (const metricName of ["Errors", "Throttles"]) {
    createMetricAlarm(`${name}-${metricName.toLowerCase()}`, {
      description: `${name}: Lambda ${metricName} above zero`,
      namespace: "AWS/Lambda",
      metricName,
      dimensions: { FunctionName: fn.function.name },
      statistic: "Sum",
      threshold: 0,
    }, alarmTopicArn, parent);
  }
}

/** Any message in a dead-letter queue needs a person: alarm on depth above zero. */
export function createQueueDepthAlarm(name: string, queue: aws.sqs.Queue, alarmTopicArn: pulumi.Input<string>, parent: pulumi.Resource): void {
  createMetricAlarm(`${name}-depth`, {
    description: `${name}: messages waiting in a dead-letter queue`,
    namespace: "AWS/SQS",
    metricName: "ApproximateNumberOfMessagesVisible",
    dimensions: { QueueName: queue.name },
    threshold: 0,
  }, alarmTopicArn, parent);
}

/**
 * Records a function quarantined (functions/quarantine.ts prints the metric as EMF):
 * each one is data an operator has to look at and replay, so the first one alarms.
 */
export function createQuarantineAlarm(name: string, fn: InlineFunction, alarmTopicArn: pulumi.Input<string>, parent: pulumi.Resource): void {
  createMetricAlarm(`${name}-quarantined`, {
    description: `${name}: records quarantined (list and replay them with npm run quarantine)`,
    namespace: QUARANTINE_METRIC.namespace,
    metricName: QUARANTINE_METRIC.name,
    dimensions: { FunctionName: fn.function.name },
    statistic: "Sum",
    threshold: 0,
  }, alarmTopicArn, parent);
}
