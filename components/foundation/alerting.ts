import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import { denyInsecureTransport, policyDocument } from "../lib/iam";

export interface AlertingArgs {
  /** Key encrypting the alarm topic; its policy must let CloudWatch and Budgets use it. */
  dataKeyArn: pulumi.Input<string>;
  /** Addresses subscribed to the topic and to budget alerts. @default [] */
  emails?: string[];
  /**
   * A monthly cost budget for resources carrying `tag` (a cost allocation tag such as
   * ["Stage", "prod"]). A stage has one budget, in its primary stack: the tag covers
   * both regions. @default undefined (no budget)
   */
  budget?: { monthlyUsd: number; tag: [string, string] };
}

/** Percent of the budget at which each alert fires: early on actual spend, at the limit on forecast. */
export const BUDGET_ALERTS = [
  { notificationType: "ACTUAL", threshold: 80 },
  { notificationType: "FORECASTED", threshold: 100 },
] as const;

/**
 * Where operators hear about trouble: an encrypted SNS topic every alarm of the
 * platform targets, email subscriptions to it, and a monthly cost budget.
 */
export class Alerting extends pulumi.ComponentResource {
  readonly topic: aws.sns.Topic;
  readonly topicArn: pulumi.Output<string>;

  constructor(name: string, args: AlertingArgs, opts?: pulumi.ComponentResourceOptions) {
    super("dataplatform:operations:Alerting", name, {}, opts);
    const identity = aws.getCallerIdentityOutput({}, { parent: this });

    this.topic = new aws.sns.Topic(`${name}-alarms`, {
      kmsMasterKeyId: args.dataKeyArn,
      displayName: `${name} alarms`,
    }, { parent: this });
    this.topicArn = this.topic.arn;

    new aws.sns.TopicPolicy(`${name}-alarms-policy`, {
      arn: this.topic.arn,
      policy: policyDocument([
        pulumi.all([this.topic.arn, identity.accountId]).apply(([arn, account]) => ({
          Sid: "AccountServicesPublishAlarms",
          Effect: "Allow",
          Principal: { Service: ["cloudwatch.amazonaws.com", "budgets.amazonaws.com"] },
          Action: "sns:Publish",
          Resource: arn,
          Condition: { StringEquals: { "aws:SourceAccount": account } },
        })),
        denyInsecureTransport(this.topic.arn, "sns:Publish"),
      ]),
    }, { parent: this });

    const emails = args.emails ?? [];
    emails.forEach((email, index) => {
      new aws.sns.TopicSubscription(`${name}-alarms-email-${index}`, {
        topic: this.topic.arn,
        protocol: "email",
        endpoint: email,
      }, { parent: this });
    });

    if (args.budget !== undefined) this.budget(name, args.budget, emails);

    this.registerOutputs({ topicArn: this.topicArn });
  }

  private budget(name: string, budget: { monthlyUsd: number; tag: [string, string] }, emails: string[]): void {
    const [tagKey, tagValue] = budget.tag;
    new aws.budgets.Budget(`${name}-budget`, {
      budgetType: "COST",
      limitAmount: budget.monthlyUsd.toFixed(2),
      limitUnit: "USD",
      timeUnit: "MONTHLY",
      costFilters: [{ name: "TagKeyValue", values: [`user:${tagKey}$${tagValue}`] }],
      notifications: BUDGET_ALERTS.map((alert) => ({
        comparisonOperator: "GREATER_THAN",
        threshold: alert.threshold,
        thresholdType: "PERCENTAGE",
        notificationType: alert.notificationType,
        subscriberSnsTopicArns: [this.topic.arn],
        subscriberEmailAddresses: emails,
      })),
    }, { parent: this });
  }
}
