/**
 * AWS Backup restore testing: on a schedule, restore the latest recovery point of each
 * selected resource from the vault, validate what came back (functions/restore-validation.ts,
 * on the restore job's EventBridge event) and report the verdict to AWS Backup and to
 * CloudWatch, whose alarms notify the alarm topic. AWS Backup deletes the restored
 * resources once the validation window closes.
 */
import { BackupClient } from "@aws-sdk/client-backup";
import { CloudWatchClient } from "@aws-sdk/client-cloudwatch";
import { DynamoDBClient } from "@aws-sdk/client-dynamodb";
import { RDSClient } from "@aws-sdk/client-rds";
import { S3Client } from "@aws-sdk/client-s3";
import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import { METRIC_TESTS_FAILED, RESTORE_TEST_PREFIX, RestoreJobStateChangeEvent, ValidationOutcome, handleRestoreJobEvent, restoreValidationSettingsFromEnv } from "../../functions/restore-validation";
import { createFunctionAlarms, createMetricAlarm } from "../lib/alarms";
import { BACKUP_CAPABILITIES, ProtectedResourceGroup } from "../lib/backup-rules";
import { allow } from "../lib/iam";
import { createInlineFunction } from "../lib/inline-function";
import { invokeOnEvents } from "../lib/event-targets";

export interface RestoreTestingArgs {
  /** The vault whose recovery points are restored. */
  vaultArn: pulumi.Input<string>;
  /** Role AWS Backup restores with (the BackupPlan's service role). */
  restoreRoleArn: pulumi.Input<string>;
  /** Resources whose latest points are restored; kinds restore testing does not support are refused. */
  resources: ProtectedResourceGroup[];
  /** AWS cron expression (UTC). */
  scheduleExpression: string;
  /** Hours a restored resource is kept for validation before AWS Backup deletes it (1-168). @default 4 */
  validationWindowHours?: number;
  /** Hours after the scheduled time a test may still start (1-168). @default 8 */
  startWindowHours?: number;
  /** Only points at most this many days old are restored. @default 7 */
  selectionWindowDays?: number;
  /** The key restored resources must be encrypted with; restored tables are put under it too. */
  dataKeyArn: pulumi.Input<string>;
  /**
   * Where a restored Aurora cluster goes: without it restore testing infers the default VPC,
   * which the platform's accounts need not have. @default undefined (inferred)
   */
  auroraPlacement?: { dbSubnetGroupName: pulumi.Input<string>; securityGroupIds: pulumi.Input<string>[] };
  logRetentionDays: number;
  logsKeyArn: pulumi.Input<string>;
  /** @default true */
  tracing?: boolean;
  /** Alarms are created only when this is set. @default undefined */
  alarmTopicArn?: pulumi.Input<string>;
}

/** Namespace of the validator's metrics. */
export const RESTORE_TEST_METRIC_NAMESPACE = "DataPlatform/RestoreTesting";
/** Restore testing plan and selection names: letters, digits and underscores, at most 50. */
export function restoreTestingName(name: string): string {
  return name.replace(/[^A-Za-z0-9_]/g, "_").slice(0, 50);
}

const VALIDATOR_TIMEOUT_SECONDS = 600;

/** Everything AWS would refuse about the arguments, as sentences; empty when restore testing can be built. */
export function restoreTestingProblems(args: RestoreTestingArgs): string[] {
  const problems: string[] = [];
  for (const group of args.resources) {
    if (!BACKUP_CAPABILITIES[group.kind].restoreTesting) problems.push(`resources: AWS Backup restore testing does not support ${BACKUP_CAPABILITIES[group.kind].resourceType}`);
    if (group.arns.length === 0 || group.arns.length > 30) problems.push(`resources: a selection names 1-30 resources, the ${group.kind} group has ${group.arns.length}`);
  }
  for (const [field, value] of [["validationWindowHours", args.validationWindowHours ?? 4], ["startWindowHours", args.startWindowHours ?? 8]] as const) {
    if (value < 1 || value > 168) problems.push(`${field} ${value}: 1-168 hours`);
  }
  if (!/^cron\(.+\)$/.test(args.scheduleExpression)) problems.push(`scheduleExpression "${args.scheduleExpression}": an AWS cron expression`);
  return problems;
}

/** Cold start of the validator: SDK clients and settings from the environment. */
export function restoreValidatorFactory() {
  const settings = restoreValidationSettingsFromEnv(process.env);
  const clients = { backup: new BackupClient({}), rds: new RDSClient({}), dynamodb: new DynamoDBClient({}), s3: new S3Client({}), cloudwatch: new CloudWatchClient({}) };
  return (event: RestoreJobStateChangeEvent) => handleRestoreJobEvent(event, clients, settings);
}

/**
 * What a restore test of a kind restores into: DynamoDB tables under the data key rather
 * than an AWS-owned one, Aurora clusters into the database tier (security groups as a JSON
 * list, as AWS Backup's RDS restore metadata spells them). restore-testing-inferred-metadata.html
 */
export function metadataOverrides(kind: string, args: Pick<RestoreTestingArgs, "dataKeyArn" | "auroraPlacement">): pulumi.Input<Record<string, pulumi.Input<string>>> | undefined {
  if (kind === "dynamodb") return { encryptionType: "KMS", kmsMasterKeyArn: args.dataKeyArn };
  if (kind === "aurora" && args.auroraPlacement !== undefined) {
    const placement = args.auroraPlacement;
    return pulumi.all(placement.securityGroupIds).apply((groups) => ({ dbSubnetGroupName: placement.dbSubnetGroupName, vpcSecurityGroupIds: JSON.stringify(groups) }));
  }
  return undefined;
}

export class RestoreTesting extends pulumi.ComponentResource {
  readonly planName: pulumi.Output<string>;
  readonly planArn: pulumi.Output<string>;
  readonly validatorFunctionName: pulumi.Output<string>;

  constructor(name: string, args: RestoreTestingArgs, opts?: pulumi.ComponentResourceOptions) {
    super("dataplatform:backup:RestoreTesting", name, {}, opts);
    const problems = restoreTestingProblems(args);
    if (problems.length > 0) throw new pulumi.RunError(`${name}: invalid RestoreTesting args:\n  - ${problems.join("\n  - ")}`);

    const plan = new aws.backup.RestoreTestingPlan(`${name}-plan`, {
      name: restoreTestingName(name),
      scheduleExpression: args.scheduleExpression,
      scheduleExpressionTimezone: "Etc/UTC",
      startWindowHours: args.startWindowHours ?? 8,
      recoveryPointSelection: {
        algorithm: "LATEST_WITHIN_WINDOW",
        includeVaults: [args.vaultArn],
        recoveryPointTypes: ["CONTINUOUS", "SNAPSHOT"],
        selectionWindowDays: args.selectionWindowDays ?? 7,
      },
    }, { parent: this });
    this.planName = plan.name;
    this.planArn = plan.arn;

    for (const group of args.resources) {
      const resourceType = BACKUP_CAPABILITIES[group.kind].resourceType;
      new aws.backup.RestoreTestingSelection(`${name}-${group.kind}`, {
        name: restoreTestingName(`${name}-${group.kind}`),
        restoreTestingPlanName: plan.name,
        protectedResourceType: resourceType,
        protectedResourceArns: group.arns,
        iamRoleArn: args.restoreRoleArn,
        validationWindowHours: args.validationWindowHours ?? 4,
        restoreMetadataOverrides: metadataOverrides(group.kind, args),
      }, { parent: this });
    }

    const validator = this.validator(name, args, plan);
    this.validatorFunctionName = validator.function.name;
    if (args.alarmTopicArn !== undefined) {
      createFunctionAlarms(`${name}-validator`, validator, args.alarmTopicArn, this);
      for (const group of args.resources) {
        const resourceType = BACKUP_CAPABILITIES[group.kind].resourceType;
        createMetricAlarm(`${name}-${group.kind}-failed`, {
          description: `${name}: a restore test of ${resourceType} failed, timed out or restored something unusable (see the restore job's validation message)`,
          namespace: RESTORE_TEST_METRIC_NAMESPACE,
          metricName: METRIC_TESTS_FAILED,
          dimensions: { RestoreTestingPlan: plan.name, ResourceType: resourceType },
          statistic: "Sum",
          threshold: 0,
          periodSeconds: 3600,
        }, args.alarmTopicArn, this);
      }
    }

    this.registerOutputs({ planName: this.planName, planArn: this.planArn, validatorFunctionName: this.validatorFunctionName });
  }

  /** The validator Lambda on every restore job state change, scoped to what restore tests create. */
  private validator(name: string, args: RestoreTestingArgs, plan: aws.backup.RestoreTestingPlan) {
    const identity = aws.getCallerIdentityOutput({}, { parent: this });
    const region = aws.getRegionOutput({}, { parent: this });
    const partition = aws.getPartitionOutput({}, { parent: this }).partition;
    const scope = pulumi.all([partition, region.region, identity.accountId]);
    const arnsOf = (kind: string) => args.resources.filter((group) => group.kind === kind).flatMap((group) => group.arns);
    const sourceBuckets = pulumi.all(arnsOf("s3"));
    const fn = createInlineFunction<RestoreJobStateChangeEvent, ValidationOutcome>(`${name}-validator`, {
      description: "Validates what AWS Backup restore tests restored and reports the verdict",
      callbackFactory: restoreValidatorFactory,
      statements: [
        // Neither action supports resource-level permissions for restore jobs.
        { Sid: "JudgeRestoreJobs", Effect: "Allow", Action: ["backup:DescribeRestoreJob", "backup:PutRestoreValidationResult"], Resource: "*" },
        scope.apply(([p, r, a]) => ({ Sid: "DescribeClusters", Effect: "Allow", Action: "rds:DescribeDBClusters", Resource: `arn:${p}:rds:${r}:${a}:cluster:*` })),
        scope.apply(([p, r, a]) => ({ Sid: "DescribeTables", Effect: "Allow", Action: "dynamodb:DescribeTable", Resource: `arn:${p}:dynamodb:${r}:${a}:table/*` })),
        scope.apply(([p, r, a]) => ({ Sid: "SampleRestoredTables", Effect: "Allow", Action: "dynamodb:Scan", Resource: `arn:${p}:dynamodb:${r}:${a}:table/${RESTORE_TEST_PREFIX}*` })),
        pulumi.all([partition, sourceBuckets]).apply(([p, sources]) => ({
          Sid: "ListRestoredAndSourceBuckets",
          Effect: "Allow",
          Action: "s3:ListBucket",
          Resource: [`arn:${p}:s3:::${RESTORE_TEST_PREFIX}*`, ...sources],
        })),
        partition.apply((p) => ({ Sid: "ReadRestoredObjects", Effect: "Allow", Action: "s3:GetObject", Resource: `arn:${p}:s3:::${RESTORE_TEST_PREFIX}*/*` })),
        allow("DecryptRestoredData", "kms:Decrypt", args.dataKeyArn),
        {
          Sid: "PublishVerdicts",
          Effect: "Allow",
          Action: "cloudwatch:PutMetricData",
          Resource: "*",
          Condition: { StringEquals: { "cloudwatch:namespace": RESTORE_TEST_METRIC_NAMESPACE } },
        },
      ],
      environment: {
        RESTORE_TESTING_PLAN_ARN: plan.arn,
        RESTORE_TESTING_PLAN_NAME: plan.name,
        DATA_KEY_ARN: args.dataKeyArn,
        METRIC_NAMESPACE: RESTORE_TEST_METRIC_NAMESPACE,
        MAX_WAIT_MS: String((VALIDATOR_TIMEOUT_SECONDS - 60) * 1000),
      },
      timeoutSeconds: VALIDATOR_TIMEOUT_SECONDS,
      logRetentionDays: args.logRetentionDays,
      logsKeyArn: args.logsKeyArn,
      tracing: args.tracing ?? true,
    }, this);

    // Restore testing reports through EventBridge (eventbridge.html); failed and aborted jobs count as failed tests.
    const rule = new aws.cloudwatch.EventRule(`${name}-restore-jobs`, {
      description: `${name}: restore jobs that finished, to validate restore tests`,
      eventPattern: JSON.stringify({
        source: ["aws.backup"],
        "detail-type": ["Restore Job State Change"],
        detail: { status: ["COMPLETED", "FAILED", "ABORTED"] },
      }),
    }, { parent: this });
    invokeOnEvents(`${name}-validator`, { rule, fn, retry: { maximumEventAgeInSeconds: 6 * 3600, maximumRetryAttempts: 10 } }, this);
    return fn;
  }
}
