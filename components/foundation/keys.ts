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
    servicesMayUseKey(pulumi.output(accountId), ["cloudwatch.amazonaws.com", "budgets.amazonaws.com", "s3.amazonaws.com"]),
    EVENTBRIDGE_KEY_STATEMENT,
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

function servicesMayUseKey(accountId: pulumi.Output<string>, services: string[]) {
  return accountId.apply((account) => ({
    Sid: "AwsServicesOfThisAccountEncrypt",
    Effect: "Allow",
    Principal: { Service: services },
    Action: ["kms:GenerateDataKey*", "kms:Decrypt"],
    Resource: "*",
    Condition: { StringEquals: { "aws:SourceAccount": account } },
  }));
}

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
