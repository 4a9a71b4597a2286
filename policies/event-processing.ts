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
    "Every SQS queue that is not itself a dead-letter queue has a redrive policy. A queue counts as a dead-letter queue when a queue's or SNS subscription's redrivePolicy, an event source mapping's or function's on-failure destination, or a function's or EventBridge target's deadLetterConfig names it.",
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

export const eventProcessingPolicies: (PlatformResourcePolicy | PlatformStackPolicy)[] = [kinesisConsumerFailureHandling, sqsQueueHasDeadLetterQueue];
