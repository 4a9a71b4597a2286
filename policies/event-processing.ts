/**
 * Failure handling on the streaming and queueing paths: a poison record must neither
 * block a Kinesis shard forever nor vanish, and a message that keeps failing must land
 * in a dead-letter queue.
 */
import * as aws from "@pulumi/aws";
import { PolicyResource, validateResourceOfType } from "@pulumi/policy";
import { ReferenceMatch, ofTypes, referencedResources } from "./lib/correlate";
import { PlatformResourcePolicy, PlatformStackPolicy } from "./lib/policy";
import { UNKNOWN, asArray, isSet, isTrue, jsonValue, peek } from "./lib/values";

/** Stream sources: Kinesis (and DynamoDB streams, which behave the same). Unknown ARNs fall back to startingPosition, which only stream sources take. */
function isStreamSource(mapping: { eventSourceArn?: string; startingPosition?: string; topics?: unknown }): boolean {
  const arn = peek(() => mapping.eventSourceArn);
  if (typeof arn === "string") return /^arn:aws[a-z-]*:(kinesis|dynamodb):/.test(arn);
  return isSet(mapping.startingPosition) && !isSet(peek(() => mapping.topics));
}

export const kinesisConsumerFailureHandling: PlatformResourcePolicy = {
  name: "kinesis-consumer-failure-handling",
  description:
    "Kinesis (and DynamoDB stream) event source mappings report partial batch failures, bisect failing batches, retry a bounded number of times and send what still fails to an on-failure destination.",
  enforcementLevel: "advisory",
  remediationSteps:
    'Set functionResponseTypes: ["ReportBatchItemFailures"] (and return batchItemFailures from the handler), bisectBatchOnFunctionError: true, maximumRetryAttempts (stage config consumerMaxRetryAttempts) and destinationConfig: { onFailure: { destinationArn: <DLQ arn> } }.',
  validateResource: validateResourceOfType(aws.lambda.EventSourceMapping, (mapping, args, report) => {
    if (!isStreamSource(mapping)) args.notApplicable("Not a stream event source");
    if (!asArray(mapping.functionResponseTypes).includes("ReportBatchItemFailures")) report('functionResponseTypes lacks "ReportBatchItemFailures": one bad record fails the whole batch.');
    if (!isTrue(mapping.bisectBatchOnFunctionError)) report("bisectBatchOnFunctionError is not true.");
    if (mapping.maximumRetryAttempts === undefined || mapping.maximumRetryAttempts < 0) {
      report("maximumRetryAttempts is unlimited (-1 or unset): a poison record blocks its shard until it expires.");
    }
    if (!isSet(peek(() => mapping.destinationConfig?.onFailure?.destinationArn))) report("No destinationConfig.onFailure: records that exhaust their retries are dropped.");
  }),
};

const QUEUE_TYPE = "aws:sqs/queue:Queue";
const arnOf = (queue: PolicyResource) => [peek(() => queue.props.arn)];

/** Where each kind of resource names a dead-letter or on-failure destination. */
const DEAD_LETTER_REFERENCES: { types: string[]; property: string; referencesIn: ReferenceMatch["referencesIn"] }[] = [
  { types: [QUEUE_TYPE, "aws:sqs/redrivePolicy:RedrivePolicy"], property: "redrivePolicy", referencesIn: (v) => [jsonValue<{ deadLetterTargetArn?: string }>(v)?.deadLetterTargetArn] },
  { types: ["aws:lambda/eventSourceMapping:EventSourceMapping"], property: "destinationConfig", referencesIn: (v) => [v?.onFailure?.destinationArn] },
  { types: ["aws:lambda/functionEventInvokeConfig:FunctionEventInvokeConfig"], property: "destinationConfig", referencesIn: (v) => [v?.onFailure?.destination] },
  { types: ["aws:lambda/function:Function"], property: "deadLetterConfig", referencesIn: (v) => [v?.targetArn] },
  { types: ["aws:cloudwatch/eventTarget:EventTarget"], property: "deadLetterConfig", referencesIn: (v) => [v?.arn] },
  { types: ["aws:scheduler/schedule:Schedule"], property: "target", referencesIn: (v) => [v?.deadLetterConfig?.arn] },
  { types: ["aws:sns/topicSubscription:TopicSubscription"], property: "redrivePolicy", referencesIn: (v) => [jsonValue<{ deadLetterTargetArn?: string }>(v)?.deadLetterTargetArn] },
];

/** Queues that are some resource's dead-letter queue or on-failure destination. */
export function deadLetterQueues(resources: PolicyResource[]): Set<string> {
  const queues = ofTypes(resources, [QUEUE_TYPE]);
  const urns = DEAD_LETTER_REFERENCES.flatMap(({ types, property, referencesIn }) =>
    ofTypes(resources, types).flatMap((source) => referencedResources(source, property, queues, { referencesIn, identifiersOf: arnOf })),
  );
  return new Set(urns.map((queue) => queue.urn));
}

/** Queues given a redrive policy by a separate aws.sqs.RedrivePolicy resource. */
function queuesWithRedriveResource(resources: PolicyResource[]): Set<string> {
  const queues = ofTypes(resources, [QUEUE_TYPE]);
  const redrives = ofTypes(resources, ["aws:sqs/redrivePolicy:RedrivePolicy"]);
  return new Set(redrives.flatMap((redrive) => referencedResources(redrive, "queueUrl", queues)).map((queue) => queue.urn));
}

export const sqsQueueHasDeadLetterQueue: PlatformStackPolicy = {
  name: "sqs-queue-has-dead-letter-queue",
  description:
    "Every SQS queue that is not itself a dead-letter queue has a redrive policy. A queue counts as a dead-letter queue when a queue's or SNS subscription's redrivePolicy, an event source mapping's or function's on-failure destination, or a function's, EventBridge target's or Scheduler schedule target's deadLetterConfig names it.",
  enforcementLevel: "advisory",
  remediationSteps: "Create a dead-letter queue and set redrivePolicy: JSON.stringify({ deadLetterTargetArn: dlq.arn, maxReceiveCount }) (stage config sqsMaxReceiveCount) on the queue.",
  validateStack: (args, report) => {
    const deadLetter = deadLetterQueues(args.resources);
    const redrivenElsewhere = queuesWithRedriveResource(args.resources);
    for (const queue of ofTypes(args.resources, [QUEUE_TYPE])) {
      if (deadLetter.has(queue.urn) || redrivenElsewhere.has(queue.urn)) continue;
      const redrive = peek(() => queue.props.redrivePolicy);
      if (redrive !== UNKNOWN && !jsonValue<{ deadLetterTargetArn?: string }>(redrive)?.deadLetterTargetArn) {
        report(`Queue ${queue.name} has no redrive policy: a message that always fails is received forever until it expires.`, queue.urn);
      }
    }
  },
};

const FUNCTION_TYPE = "aws:lambda/function:Function";
const ALARM_TYPE = "aws:cloudwatch/metricAlarm:MetricAlarm";
const SCALING_POLICY_TYPE = "aws:appautoscaling/policy:Policy";
/** The metric functions/quarantine.ts prints (EMF) for every record a function quarantines. */
const QUARANTINE_METRIC = { namespace: "DataPlatform/Quarantine", name: "QuarantinedRecords" };

/** Functions that write the quarantine: the component sets QUARANTINE_BUCKET on each. */
function quarantiningFunctions(resources: PolicyResource[]): PolicyResource[] {
  return ofTypes(resources, [FUNCTION_TYPE]).filter((fn) => isSet(peek(() => fn.props.environment?.variables?.QUARANTINE_BUCKET)));
}

/** An alarm whose every action is an Application Auto Scaling policy: it moves capacity, it does not notify. */
function onlyScales(alarm: PolicyResource): boolean {
  // During preview a new policy's ARN is unknown; the engine still records where the actions came from.
  const sources = alarm.propertyDependencies?.alarmActions ?? [];
  if (sources.length > 0 && sources.every((source) => source.type === SCALING_POLICY_TYPE)) return true;
  const actions = peek(() => alarm.props.alarmActions);
  if (actions === UNKNOWN) return false;
  const list = asArray(actions as unknown[]);
  return list.length > 0 && list.every((action) => {
    const arn = peek(() => action);
    return typeof arn === "string" && arn.startsWith("arn:aws:autoscaling:") && arn.includes(":scalingPolicy:");
  });
}

export const quarantineAlarmed: PlatformStackPolicy = {
  name: "quarantine-alarmed",
  description:
    "In a stack that alarms, every function that quarantines records (QUARANTINE_BUCKET in its environment) has an alarm on its QuarantinedRecords metric, so a refused record always reaches a person. (The quarantine bucket's encryption is s3-bucket-sse-kms's.)",
  enforcementLevel: "mandatory",
  remediationSteps:
    "Call createQuarantineAlarm (components/lib/alarms.ts) for the function where its component creates its other alarms: namespace DataPlatform/Quarantine, metric QuarantinedRecords, dimension FunctionName, Sum > 0.",
  validateStack: (args, report) => {
    const alarms = ofTypes(args.resources, [ALARM_TYPE]);
    // A stage with alarms off (alarmsEnabled: false) has none that notify anyone: nothing to hold this to.
    // Alarms whose only actions are scaling policies (the aggregator's scale from and to zero) tell no person.
    if (!alarms.some((alarm) => !onlyScales(alarm))) return;
    const quarantineAlarms = alarms.filter((alarm) => peek(() => alarm.props.namespace) === QUARANTINE_METRIC.namespace && peek(() => alarm.props.metricName) === QUARANTINE_METRIC.name);
    for (const fn of quarantiningFunctions(args.resources)) {
      const alarmed = quarantineAlarms.some((alarm) =>
        referencedResources(alarm, "dimensions", [fn], { referencesIn: (dimensions) => [dimensions?.FunctionName], identifiersOf: (candidate) => [peek(() => candidate.props.name)] }).length > 0,
      );
      if (!alarmed) report(`Function ${fn.name} quarantines records, but no alarm watches its ${QUARANTINE_METRIC.name} metric: refused records would go unseen.`, fn.urn);
    }
  },
};

export const eventProcessingPolicies: (PlatformResourcePolicy | PlatformStackPolicy)[] = [kinesisConsumerFailureHandling, sqsQueueHasDeadLetterQueue, quarantineAlarmed];
