import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";

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
