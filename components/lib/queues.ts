import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import { denyInsecureTransport, policyDocument } from "./iam";

/** SQS keeps a message 14 days at most: the longest time an operator has to look at a failure. */
export const DLQ_RETENTION_SECONDS = 14 * 24 * 3600;

/** An SQS queue under the data key whose policy refuses anything but TLS. */
export function createEncryptedQueue(
  name: string,
  args: Omit<aws.sqs.QueueArgs, "kmsMasterKeyId" | "sqsManagedSseEnabled"> & { dataKeyArn: pulumi.Input<string> },
  opts: pulumi.CustomResourceOptions,
): aws.sqs.Queue {
  const { dataKeyArn, ...queueArgs } = args;
  const queue = new aws.sqs.Queue(name, { ...queueArgs, kmsMasterKeyId: dataKeyArn, kmsDataKeyReusePeriodSeconds: 300 }, opts);
  new aws.sqs.QueuePolicy(`${name}-policy`, {
    queueUrl: queue.url,
    policy: policyDocument([denyInsecureTransport(queue.arn, "sqs:*")]),
  }, { parent: opts.parent });
  return queue;
}
