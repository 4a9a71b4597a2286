import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import { Statement, denyInsecureTransport, policyDocument } from "./iam";

/** SQS keeps a message 14 days at most: the longest time an operator has to look at a failure. */
export const DLQ_RETENTION_SECONDS = 14 * 24 * 3600;

/** What else a queue's policy allows besides refusing plain transport (a queue has one policy). */
export type QueuePolicyStatements = (queueArn: pulumi.Output<string>) => pulumi.Input<Statement>[];

/** An SQS queue under the data key whose policy refuses anything but TLS (and allows `extraStatements`). */
export function createEncryptedQueue(
  name: string,
  args: Omit<aws.sqs.QueueArgs, "kmsMasterKeyId" | "sqsManagedSseEnabled"> & { dataKeyArn: pulumi.Input<string>; extraStatements?: QueuePolicyStatements },
  opts: pulumi.CustomResourceOptions,
): aws.sqs.Queue {
  const { dataKeyArn, extraStatements, ...queueArgs } = args;
  const queue = new aws.sqs.Queue(name, { ...queueArgs, kmsMasterKeyId: dataKeyArn, kmsDataKeyReusePeriodSeconds: 300 }, opts);
  new aws.sqs.QueuePolicy(`${name}-policy`, {
    queueUrl: queue.url,
    policy: policyDocument([denyInsecureTransport(queue.arn, "sqs:*"), ...(extraStatements?.(queue.arn) ?? [])]),
  }, { parent: opts.parent });
  return queue;
}
