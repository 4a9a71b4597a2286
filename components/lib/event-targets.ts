import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import type { InlineFunction } from "./inline-function";

export interface EventTargetArgs {
  rule: aws.cloudwatch.EventRule;
  fn: InlineFunction;
  /** How long and how often EventBridge retries a delivery the function did not accept. */
  retry: { maximumEventAgeInSeconds: number; maximumRetryAttempts: number };
  /** Where EventBridge puts events it gave up on. @default undefined (dropped after the retries) */
  deadLetterArn?: pulumi.Input<string>;
}

/**
 * `fn` as the target of `rule`: EventBridge may invoke it for this rule only, and the
 * target waits for that permission (EventBridge checks it when the target is put).
 * Resources are `${name}-invoke` and `${name}-target`.
 */
export function invokeOnEvents(name: string, args: EventTargetArgs, parent: pulumi.Resource): aws.cloudwatch.EventTarget {
  const permission = new aws.lambda.Permission(`${name}-invoke`, {
    action: "lambda:InvokeFunction",
    function: args.fn.function.name,
    principal: "events.amazonaws.com",
    sourceArn: args.rule.arn,
  }, { parent });
  return new aws.cloudwatch.EventTarget(`${name}-target`, {
    rule: args.rule.name,
    arn: args.fn.function.arn,
    retryPolicy: args.retry,
    ...(args.deadLetterArn !== undefined ? { deadLetterConfig: { arn: args.deadLetterArn } } : {}),
  }, { parent, dependsOn: [permission] });
}
