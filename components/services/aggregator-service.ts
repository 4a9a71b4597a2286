import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import { createQueueDepthAlarm } from "../lib/alarms";
import {
  awsApiEgress,
  createFargateService,
  createFargateTask,
  createScalableTarget,
  createServiceSecurityGroup,
  ecsScalingResourceId,
  FargateServicePlacement,
  fargateSizeProblem,
  placedTaskArgs,
  ScalingBounds,
  scalingBoundsProblem,
  ServiceDatabase,
} from "../lib/fargate";
import { allow, useDataKey } from "../lib/iam";
import { DLQ_RETENTION_SECONDS, createEncryptedQueue } from "../lib/queues";

export const AGGREGATOR_HEALTH_PORT = 8080;

/** The Aurora writer the aggregator upserts into, and the master secret ECS injects as DB_SECRET. */
export interface AggregatorDatabase extends ServiceDatabase {
  /** Secret whose JSON is {"username","password"} (RDS-managed, generated, or the DR replica). */
  secretArn: pulumi.Input<string>;
}

export interface AggregatorScaling extends ScalingBounds {
  /** Visible messages per running task that target tracking holds. */
  backlogPerTask: number;
  /** Minutes the queue must be empty (nothing visible or in flight) before a scale to zero. @default 15 */
  idleMinutesBeforeZero?: number;
}

export interface AggregatorServiceArgs extends FargateServicePlacement {
  /** The lake's SNS topic announcing new staged manifests. */
  lakeEventsTopicArn: pulumi.Input<string>;
  stagedBucket: { name: pulumi.Input<string>; arn: pulumi.Input<string> };
  database: AggregatorDatabase;
  scaling: AggregatorScaling;
  /** Seconds a received manifest stays invisible to other tasks; the service extends it while it works. @default 300 */
  visibilityTimeoutSeconds?: number;
  /** Receives before a manifest moves to the DLQ. @default 5 */
  maxReceiveCount?: number;
  /** Seconds between SIGTERM and SIGKILL to finish or release the current manifest (Fargate allows 120). @default 120 */
  stopTimeoutSeconds?: number;
  /** @default true */
  protect?: boolean;
  /** Alarms are created only when this is set. @default undefined */
  alarmTopicArn?: pulumi.Input<string>;
}

/** Everything ECS, SQS or Application Auto Scaling would refuse about these arguments, as sentences. */
export function aggregatorServiceProblems(args: Pick<AggregatorServiceArgs, "scaling" | "cpu" | "memoryMb" | "visibilityTimeoutSeconds" | "stopTimeoutSeconds">): string[] {
  const problems: string[] = [];
  const size = fargateSizeProblem(args.cpu ?? 512, args.memoryMb ?? 1024);
  if (size) problems.push(size);
  const bounds = scalingBoundsProblem(args.scaling);
  if (bounds) problems.push(bounds);
  if (!(args.scaling.backlogPerTask > 0)) problems.push(`backlogPerTask must be above 0, got ${args.scaling.backlogPerTask}`);
  const visibility = args.visibilityTimeoutSeconds ?? 300;
  const stop = args.stopTimeoutSeconds ?? 120;
  if (stop < 2 || stop > 120) problems.push(`stopTimeoutSeconds must be 2-120 (Fargate), got ${stop}`);
  // A task stopping mid-manifest must release it before another task could receive it again.
  if (visibility <= stop) problems.push(`visibilityTimeoutSeconds (${visibility}) must exceed stopTimeoutSeconds (${stop})`);
  return problems;
}

/**
 * The metric math target tracking holds at `backlogPerTask`: the queue's visible messages
 * divided by the service's running tasks (Container Insights), as the Application Auto
 * Scaling guide's "SQS queue backlog per task" example computes it
 * (https://docs.aws.amazon.com/autoscaling/application/userguide/application-auto-scaling-target-tracking-metric-math.html).
 */
export function backlogPerTaskMetrics(queueName: pulumi.Input<string>, clusterName: pulumi.Input<string>, serviceName: pulumi.Input<string>) {
  return [
    {
      id: "visible",
      label: "Messages waiting",
      returnData: false,
      metricStat: { metric: { namespace: "AWS/SQS", metricName: "ApproximateNumberOfMessagesVisible", dimensions: [{ name: "QueueName", value: queueName }] }, stat: "Sum" },
    },
    {
      id: "tasks",
      label: "Running tasks",
      returnData: false,
      metricStat: {
        metric: { namespace: "ECS/ContainerInsights", metricName: "RunningTaskCount", dimensions: [{ name: "ClusterName", value: clusterName }, { name: "ServiceName", value: serviceName }] },
        stat: "Average",
      },
    },
    { id: "backlog", label: "Messages per running task", expression: "visible / tasks", returnData: true },
  ];
}

/**
 * The aggregator: an SQS queue (with DLQ and redrive) subscribed to the lake's events
 * topic with raw delivery, and a Fargate service that reads the staged objects each
 * manifest names and upserts the reporting schema through the Aurora writer. It runs in
 * private subnets behind a group that admits nothing, with a task role limited to its
 * queue, the staged objects and the data key, and an execution role limited to its own
 * repository, log group and database secret. It scales on the backlog per task between
 * the configured bounds, and from and to zero when the minimum is 0.
 */
export class AggregatorService extends pulumi.ComponentResource {
  readonly queue: aws.sqs.Queue;
  readonly deadLetterQueue: aws.sqs.Queue;
  readonly service: aws.ecs.Service;
  readonly taskDefinition: aws.ecs.TaskDefinition;
  readonly securityGroup: aws.ec2.SecurityGroup;
  readonly scalableTarget: aws.appautoscaling.Target;
  readonly queueUrl: pulumi.Output<string>;
  readonly deadLetterQueueUrl: pulumi.Output<string>;
  readonly serviceName: pulumi.Output<string>;

  constructor(name: string, args: AggregatorServiceArgs, opts?: pulumi.ComponentResourceOptions) {
    super("dataplatform:services:AggregatorService", name, {}, opts);
    const problems = aggregatorServiceProblems(args);
    if (problems.length > 0) throw new Error(`AggregatorService ${name} has invalid arguments:\n  - ${problems.join("\n  - ")}`);
    const stateful = { parent: this, protect: args.protect ?? true };
    const stopTimeoutSeconds = args.stopTimeoutSeconds ?? 120;

    this.deadLetterQueue = createEncryptedQueue(`${name}-dlq`, { dataKeyArn: args.dataKeyArn, messageRetentionSeconds: DLQ_RETENTION_SECONDS }, stateful);
    this.queue = createEncryptedQueue(`${name}-queue`, {
      dataKeyArn: args.dataKeyArn,
      visibilityTimeoutSeconds: args.visibilityTimeoutSeconds ?? 300,
      receiveWaitTimeSeconds: 20,
      messageRetentionSeconds: 4 * 24 * 3600,
      redrivePolicy: pulumi.jsonStringify({ deadLetterTargetArn: this.deadLetterQueue.arn, maxReceiveCount: args.maxReceiveCount ?? 5 }),
      // Only the lake's topic may send, and only over TLS (the base policy).
      extraStatements: (queueArn) => [
        pulumi.all([queueArn, args.lakeEventsTopicArn]).apply(([arn, topicArn]) => ({
          Sid: "LakeEventsTopicDelivers",
          Effect: "Allow",
          Principal: { Service: "sns.amazonaws.com" },
          Action: "sqs:SendMessage",
          Resource: arn,
          Condition: { ArnEquals: { "aws:SourceArn": topicArn } },
        })),
      ],
    }, stateful);
    new aws.sqs.RedriveAllowPolicy(`${name}-dlq-redrive-allow`, {
      queueUrl: this.deadLetterQueue.url,
      redriveAllowPolicy: pulumi.jsonStringify({ redrivePermission: "byQueue", sourceQueueArns: [this.queue.arn] }),
    }, { parent: this });
    // Raw delivery: the message body is the S3 event notification itself (the services contract).
    new aws.sns.TopicSubscription(`${name}-subscription`, {
      topic: args.lakeEventsTopicArn,
      protocol: "sqs",
      endpoint: this.queue.arn,
      rawMessageDelivery: true,
      // Only S3's own notifications (they carry no message attributes): the batch pipeline's
      // completion notices on the same topic carry `kind` and are not the aggregator's to apply.
      filterPolicyScope: "MessageAttributes",
      filterPolicy: JSON.stringify({ kind: [{ exists: false }] }),
    }, { parent: this });

    this.securityGroup = createServiceSecurityGroup(name, args.vpcId, `${name}: the aggregator tasks; admits nothing`, [
      { description: "Aurora writer", port: 5432, toSecurityGroupId: args.database.securityGroupId },
      ...awsApiEgress(args.endpoints),
    ], { parent: this });

    const task = createFargateTask(name, {
      container: {
        name: "aggregator",
        image: args.image.ref,
        port: AGGREGATOR_HEALTH_PORT,
        environment: {
          AGGREGATOR_QUEUE_URL: this.queue.url,
          STAGED_BUCKET: args.stagedBucket.name,
          DB_HOST: args.database.host,
          DB_PORT: pulumi.output(args.database.port).apply(String),
          DB_NAME: args.database.name,
          DB_TLS: "true",
          AWS_REGION: args.region,
          LOG_LEVEL: args.logLevel ?? "info",
          AGGREGATOR_HEALTH_PORT: String(AGGREGATOR_HEALTH_PORT),
        },
        secrets: { DB_SECRET: args.database.secretArn },
        stopTimeoutSeconds,
      },
      ...placedTaskArgs(args),
      taskStatements: [
        allow("ConsumeManifests", ["sqs:ReceiveMessage", "sqs:DeleteMessage", "sqs:ChangeMessageVisibility"], this.queue.arn),
        allow("ReadStagedObjects", "s3:GetObject", pulumi.interpolate`${args.stagedBucket.arn}/*`),
        allow("DecryptStagedObjectsAndMessages", "kms:Decrypt", args.dataKeyArn),
      ],
      executionSecrets: { arns: [args.database.secretArn], dataKeyArn: args.dataKeyArn },
    }, { parent: this });
    this.taskDefinition = task.taskDefinition;

    this.service = createFargateService(name, {
      clusterArn: args.cluster.arn,
      task,
      subnetIds: args.subnetIds,
      securityGroupId: this.securityGroup.id,
      desiredCount: args.scaling.minTasks,
    }, { parent: this });
    this.scalableTarget = createScalableTarget(name, ecsScalingResourceId(args.cluster.name, this.service.name), args.scaling, { parent: this });
    if (args.scaling.maxTasks > 0) this.scalingPolicies(name, args);
    if (args.alarmTopicArn !== undefined) createQueueDepthAlarm(`${name}-dlq`, this.deadLetterQueue, args.alarmTopicArn, this);

    this.queueUrl = this.queue.url;
    this.deadLetterQueueUrl = this.deadLetterQueue.url;
    this.serviceName = this.service.name;
    this.registerOutputs({ queueUrl: this.queueUrl, deadLetterQueueUrl: this.deadLetterQueueUrl, serviceName: this.serviceName });
  }

  /**
   * Target tracking on backlog per task, plus, when the minimum is 0, two step policies:
   * with no task running the backlog per task is undefined (a division by zero gives no
   * data point), and a target tracking policy does not act on missing data, so one alarm
   * starts the first task when messages wait and none runs, and another returns the
   * service to zero once the queue has been empty (nothing visible or in flight) for a while.
   * https://docs.aws.amazon.com/autoscaling/application/userguide/target-tracking-scaling-policy-overview.html
   * https://docs.aws.amazon.com/autoscaling/application/userguide/application-auto-scaling-step-scaling-policies.html
   */
  private scalingPolicies(name: string, args: AggregatorServiceArgs) {
    const target = this.scalableTarget;
    const policyTarget = { resourceId: target.resourceId, scalableDimension: target.scalableDimension, serviceNamespace: target.serviceNamespace };
    new aws.appautoscaling.Policy(`${name}-backlog-tracking`, {
      ...policyTarget,
      policyType: "TargetTrackingScaling",
      targetTrackingScalingPolicyConfiguration: {
        targetValue: args.scaling.backlogPerTask,
        scaleOutCooldown: 60,
        scaleInCooldown: 300,
        customizedMetricSpecification: { metrics: backlogPerTaskMetrics(this.queue.name, args.cluster.name, this.service.name) },
      },
    }, { parent: this });
    if (args.scaling.minTasks > 0) return;

    const queueMetric = (id: string, metricName: string) => ({
      id,
      returnData: false,
      metric: { namespace: "AWS/SQS", metricName, dimensions: { QueueName: this.queue.name }, period: 60, stat: "Maximum" },
    });
    const fromZero = new aws.appautoscaling.Policy(`${name}-scale-from-zero`, {
      ...policyTarget,
      policyType: "StepScaling",
      stepScalingPolicyConfiguration: {
        adjustmentType: "ChangeInCapacity",
        cooldown: 60,
        metricAggregationType: "Maximum",
        stepAdjustments: [{ metricIntervalLowerBound: "0", scalingAdjustment: 1 }],
      },
    }, { parent: this });
    new aws.cloudwatch.MetricAlarm(`${name}-messages-without-tasks`, {
      alarmDescription: `${name}: manifests wait and no task runs; start one`,
      comparisonOperator: "GreaterThanOrEqualToThreshold",
      threshold: 1,
      evaluationPeriods: 1,
      treatMissingData: "notBreaching",
      metricQueries: [
        queueMetric("visible", "ApproximateNumberOfMessagesVisible"),
        {
          id: "tasks",
          returnData: false,
          metric: {
            namespace: "ECS/ContainerInsights",
            metricName: "RunningTaskCount",
            dimensions: { ClusterName: args.cluster.name, ServiceName: this.service.name },
            period: 60,
            stat: "Average",
          },
        },
        // A service with no task publishes no RunningTaskCount: FILL makes that a 0.
        { id: "waiting", label: "Messages waiting while no task runs", expression: "IF(FILL(tasks, 0) == 0, visible, 0)", returnData: true },
      ],
      alarmActions: [fromZero.arn],
    }, { parent: this });

    const toZero = new aws.appautoscaling.Policy(`${name}-scale-to-zero`, {
      ...policyTarget,
      policyType: "StepScaling",
      stepScalingPolicyConfiguration: {
        adjustmentType: "ExactCapacity",
        cooldown: 300,
        metricAggregationType: "Maximum",
        stepAdjustments: [{ metricIntervalUpperBound: "0", scalingAdjustment: 0 }],
      },
    }, { parent: this });
    new aws.cloudwatch.MetricAlarm(`${name}-queue-idle`, {
      alarmDescription: `${name}: nothing waiting or in flight for ${args.scaling.idleMinutesBeforeZero ?? 15} minutes; stop every task`,
      comparisonOperator: "LessThanOrEqualToThreshold",
      threshold: 0,
      evaluationPeriods: args.scaling.idleMinutesBeforeZero ?? 15,
      treatMissingData: "notBreaching",
      metricQueries: [
        queueMetric("visible", "ApproximateNumberOfMessagesVisible"),
        queueMetric("inflight", "ApproximateNumberOfMessagesNotVisible"),
        { id: "pending", label: "Messages waiting or in flight", expression: "visible + inflight", returnData: true },
      ],
      alarmActions: [toZero.arn],
    }, { parent: this });
  }
}
