import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import { policyDocument } from "../lib/iam";

export interface PlatformKeysArgs {
  /** Multi-Region keys, so the DR region can hold replicas of them. @default false */
  multiRegion?: boolean;
  /** Days a scheduled key deletion waits (7-30). @default 30 */
  deletionWindowInDays?: number;
  /** Pulumi `protect` on both keys. @default true */
  protect?: boolean;
}

/**
 * The stage's customer-managed KMS keys: `data` for everything at rest (streams, tables,
 * buckets, queues, topics, databases) and `logs` for CloudWatch Logs, whose service
 * principal needs a grant scoped to this account's log groups. Rotation is always on.
 */
export class PlatformKeys extends pulumi.ComponentResource {
  readonly dataKey: aws.kms.Key;
  readonly logsKey: aws.kms.Key;
  readonly dataKeyArn: pulumi.Output<string>;
  readonly logsKeyArn: pulumi.Output<string>;

  constructor(name: string, args: PlatformKeysArgs = {}, opts?: pulumi.ComponentResourceOptions) {
    super("dataplatform:security:PlatformKeys", name, {}, opts);
    const identity = aws.getCallerIdentityOutput({}, { parent: this });
    const region = aws.getRegionOutput({}, { parent: this });

    const keyDefaults = {
      enableKeyRotation: true,
      rotationPeriodInDays: 365,
      multiRegion: args.multiRegion ?? false,
      deletionWindowInDays: args.deletionWindowInDays ?? 30,
    };
    const keyOpts = { parent: this, protect: args.protect ?? true };

    this.dataKey = new aws.kms.Key(`${name}-data`, {
      ...keyDefaults,
      description: `${name}: data at rest`,
      policy: dataKeyPolicy(identity.accountId),
    }, keyOpts);
    new aws.kms.Alias(`${name}-data-alias`, { name: `alias/${name}-data`, targetKeyId: this.dataKey.keyId }, { parent: this });

    this.logsKey = new aws.kms.Key(`${name}-logs`, {
      ...keyDefaults,
      description: `${name}: CloudWatch Logs`,
      policy: logsKeyPolicy(identity.accountId, region.region),
    }, keyOpts);
    new aws.kms.Alias(`${name}-logs-alias`, { name: `alias/${name}-logs`, targetKeyId: this.logsKey.keyId }, { parent: this });

    this.dataKeyArn = this.dataKey.arn;
    this.logsKeyArn = this.logsKey.arn;
    this.registerOutputs({ dataKeyArn: this.dataKeyArn, logsKeyArn: this.logsKeyArn });
  }
}

/**
 * The data key's policy. Replicas of a multi-Region key take their own policy, so the DR
 * region's replica is given the same one.
 */
export function dataKeyPolicy(accountId: pulumi.Input<string>): pulumi.Output<string> {
  return policyDocument([
    rootAdministers(accountId),
    // Alarms, budgets and S3 event notifications publish into encrypted topics and queues.
    cloudWatchOfThisAccountMayUseKey(pulumi.output(accountId)),
    NOTIFICATION_SOURCES_KEY_STATEMENT,
    EVENTBRIDGE_KEY_STATEMENT,
    SNS_KEY_STATEMENT,
  ]);
}

/** The logs key's policy: CloudWatch Logs of `region` may use it for this account's log groups. */
export function logsKeyPolicy(accountId: pulumi.Input<string>, region: pulumi.Input<string>): pulumi.Output<string> {
  return policyDocument([rootAdministers(accountId), logsServiceMayUseKey(pulumi.output(accountId), pulumi.output(region))]);
}

/** Delegates key administration to IAM in this account, as the default key policy does. */
function rootAdministers(accountId: pulumi.Input<string>) {
  return pulumi.interpolate`arn:aws:iam::${accountId}:root`.apply((root) => ({
    Sid: "AccountAdministersKeyThroughIam",
    Effect: "Allow",
    Principal: { AWS: root },
    Action: "kms:*",
    Resource: "*",
  }));
}

/**
 * CloudWatch alarm actions publish into the encrypted alarm topic. The statement has the
 * form the SNS guide gives for AWS event sources of encrypted topics
 * (https://docs.aws.amazon.com/sns/latest/dg/sns-key-management.html#compatibility-with-aws-services),
 * and keeps aws:SourceAccount, which CloudWatch's KMS requests for alarm delivery carry:
 * AWS's Modern Data Architecture Accelerator grants CloudWatch the key under
 * aws:SourceAccount and aws:SourceArn for exactly this delivery
 * (https://aws.github.io/modern-data-architecture-accelerator/typedocs/functions/_aws-mdaa_cloudwatch-constructs.grantCloudWatchAlarmsTopicAccess.html).
 */
function cloudWatchOfThisAccountMayUseKey(accountId: pulumi.Output<string>) {
  return accountId.apply((account) => ({
    Sid: "CloudWatchAlarmsOfThisAccountEncrypt",
    Effect: "Allow",
    Principal: { Service: "cloudwatch.amazonaws.com" },
    Action: ["kms:GenerateDataKey*", "kms:Decrypt"],
    Resource: "*",
    Condition: { StringEquals: { "aws:SourceAccount": account } },
  }));
}

/**
 * S3 event notifications (the staged bucket announces manifests on an encrypted topic)
 * and AWS Budgets alerts (to the encrypted alarm topic), in the form each service
 * documents for the key, without source conditions:
 * - S3: https://docs.aws.amazon.com/AmazonS3/latest/userguide/ways-to-add-notification-config-to-bucket.html
 *   (kms:GenerateDataKey and kms:Decrypt for s3.amazonaws.com);
 * - Budgets: https://docs.aws.amazon.com/cost-management/latest/userguide/budgets-sns-policy.html
 *   ("To enable compatibility between AWS Budgets and encrypted Amazon SNS topics").
 * Neither documents aws:SourceAccount on the KMS request it makes, and a condition the
 * request does not carry would drop every notification without an error anywhere. The
 * source conditions sit where both services document them, on the topic policies
 * (Alerting: aws:SourceAccount; the lake's events topic: aws:SourceArn and aws:SourceAccount),
 * so the key still only serves topics of this account that admit these publishers.
 */
export const NOTIFICATION_SOURCES_KEY_STATEMENT = {
  Sid: "S3AndBudgetsNotifyEncryptedTopics",
  Effect: "Allow",
  Principal: { Service: ["s3.amazonaws.com", "budgets.amazonaws.com"] },
  Action: ["kms:GenerateDataKey*", "kms:Decrypt"],
  Resource: "*",
} as const;

/**
 * EventBridge delivers to encrypted targets and dead-letter queues (the warehouse
 * loader's DLQ is under this key). Its KMS requests carry no aws:SourceAccount or
 * aws:SourceArn, so a statement conditioned on them never matches and every delivery
 * fails; AWS documents the grant without those conditions. The key is still reachable
 * only through queues and topics of this account that are encrypted with it.
 */
export const EVENTBRIDGE_KEY_STATEMENT = {
  Sid: "EventBridgeDeliversToEncryptedTargets",
  Effect: "Allow",
  Principal: { Service: "events.amazonaws.com" },
  Action: ["kms:GenerateDataKey*", "kms:Decrypt"],
  Resource: "*",
} as const;

/**
 * SNS delivers the lake's events into the aggregator's queue, which is encrypted with this
 * key: SNS must generate and decrypt the queue's data keys. The SNS guide's key policy for
 * encrypted queue subscriptions grants sns.amazonaws.com without source conditions
 * (https://docs.aws.amazon.com/sns/latest/dg/sns-enable-encryption-for-topic-sqs-queue-subscriptions.html);
 * the source condition sits on the queue policy (aws:SourceArn = the lake events topic).
 */
export const SNS_KEY_STATEMENT = {
  Sid: "SnsDeliversToEncryptedQueues",
  Effect: "Allow",
  Principal: { Service: "sns.amazonaws.com" },
  Action: ["kms:GenerateDataKey*", "kms:Decrypt"],
  Resource: "*",
} as const;

function logsServiceMayUseKey(accountId: pulumi.Output<string>, region: pulumi.Output<string>) {
  return pulumi.all([accountId, region]).apply(([account, regionName]) => ({
    Sid: "CloudWatchLogsOfThisAccount",
    Effect: "Allow",
    Principal: { Service: `logs.${regionName}.amazonaws.com` },
    Action: ["kms:Encrypt*", "kms:Decrypt*", "kms:ReEncrypt*", "kms:GenerateDataKey*", "kms:Describe*"],
    Resource: "*",
    Condition: { ArnLike: { "kms:EncryptionContext:aws:logs:arn": `arn:aws:logs:${regionName}:${account}:*` } },
  }));
}
