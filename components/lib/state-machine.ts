/**
 * A Standard Step Functions state machine the way every workflow here wants it: an execution
 * role trusted only by this machine of this account, holding the definition's own statements
 * (from the workflow module that builds the definition) plus log delivery and tracing; an
 * encrypted vended-logs group with retention; X-Ray tracing; state encrypted with a customer
 * key; and, where the stage alarms, alarms on failed and timed-out executions.
 */
import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import { createMetricAlarm } from "./alarms";
import { Statement, allow, createScopedRole, useDataKey } from "./iam";

export type ExecutionLogLevel = "ALL" | "ERROR" | "FATAL";

export interface WorkflowStateMachineArgs {
  /** What the machine does, for the role's description. */
  readonly purpose: string;
  /** The definition, as JSON text (built by a workflows/ module inside an apply). */
  readonly definition: pulumi.Input<string>;
  /** Exactly what the definition calls; logging, tracing and the data key are added here. */
  readonly statements: pulumi.Input<Statement | Statement[]>[];
  readonly dataKeyArn: pulumi.Input<string>;
  readonly logsKeyArn: pulumi.Input<string>;
  readonly logRetentionDays: number;
  readonly logLevel: ExecutionLogLevel;
  /** @default true */
  readonly tracing?: boolean;
  /** @default undefined (no alarms) */
  readonly alarmTopicArn?: pulumi.Input<string>;
}

export interface WorkflowStateMachine {
  readonly stateMachine: aws.sfn.StateMachine;
  readonly role: aws.iam.Role;
  readonly logGroup: aws.cloudwatch.LogGroup;
}

/** Declares `${name}-machine` (physical name `name`) and its role, logs and alarms under `parent`. */
export function createWorkflowStateMachine(name: string, args: WorkflowStateMachineArgs, parent: pulumi.Resource): WorkflowStateMachine {
  const identity = aws.getCallerIdentityOutput({}, { parent });
  const region = aws.getRegionOutput({}, { parent });
  const tracing = args.tracing ?? true;

  const logGroup = new aws.cloudwatch.LogGroup(`${name}-logs`, {
    // Step Functions vended logs need the /aws/vendedlogs/ prefix to keep their resource policy small.
    name: `/aws/vendedlogs/states/${name}`,
    retentionInDays: args.logRetentionDays,
    kmsKeyId: args.logsKeyArn,
  }, { parent });

  const stateMachineArn = pulumi.interpolate`arn:aws:states:${region.region}:${identity.accountId}:stateMachine:${name}`;
  const { role, policy } = createScopedRole(`${name}-execution`, {
    service: "states.amazonaws.com",
    trustConditions: pulumi.all([identity.accountId, stateMachineArn]).apply(([account, arn]) => ({
      StringEquals: { "aws:SourceAccount": account },
      ArnLike: { "aws:SourceArn": arn },
    })),
    description: `${name}: ${args.purpose}`,
    statements: [
      ...args.statements,
      useDataKey(args.dataKeyArn),
      // Vended log delivery and X-Ray have no resource-level permissions for these actions.
      allow("DeliverLogs", [
        "logs:CreateLogDelivery", "logs:GetLogDelivery", "logs:UpdateLogDelivery", "logs:DeleteLogDelivery",
        "logs:ListLogDeliveries", "logs:PutResourcePolicy", "logs:DescribeResourcePolicies", "logs:DescribeLogGroups",
      ], "*"),
      ...(tracing ? [allow("WriteTraces", ["xray:PutTraceSegments", "xray:PutTelemetryRecords", "xray:GetSamplingRules", "xray:GetSamplingTargets"], "*")] : []),
    ],
  }, { parent });

  const stateMachine = new aws.sfn.StateMachine(`${name}-machine`, {
    name,
    type: "STANDARD",
    roleArn: role.arn,
    definition: args.definition,
    loggingConfiguration: {
      level: args.logLevel,
      // Execution data (inputs, outputs) only where everything is logged: prod logs errors without payloads.
      includeExecutionData: args.logLevel === "ALL",
      logDestination: pulumi.interpolate`${logGroup.arn}:*`,
    },
    tracingConfiguration: { enabled: tracing },
    encryptionConfiguration: { type: "CUSTOMER_MANAGED_KMS_KEY", kmsKeyId: args.dataKeyArn, kmsDataKeyReusePeriodSeconds: 300 },
  }, { parent, dependsOn: [policy] });

  if (args.alarmTopicArn !== undefined) {
    for (const metricName of ["ExecutionsFailed", "ExecutionsTimedOut"]) {
      createMetricAlarm(`${name}-${metricName.toLowerCase()}`, {
        description: `${name}: an execution ${metricName === "ExecutionsFailed" ? "failed" : "timed out"}`,
        namespace: "AWS/States",
        metricName,
        dimensions: { StateMachineArn: stateMachine.arn },
        statistic: "Sum",
        threshold: 0,
      }, args.alarmTopicArn, parent);
    }
  }
  return { stateMachine, role, logGroup };
}
