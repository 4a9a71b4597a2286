/**
 * The batch pipeline: a Standard Step Functions state machine (definition built from typed
 * helpers in workflows/batch-pipeline.ts) that runs the batch-file job, updates the catalog,
 * runs the curation job, loads the warehouse through the existing loader, loads the
 * reporting schema, and announces the run on the lake's fan-out topic; every failure goes
 * to the alarm topic. An EventBridge Scheduler schedule starts it nightly; operators start
 * it on demand for a backfill (README, Run a backfill).
 *
 * The execution role is derived from the same module as the definition
 * (batchPipelinePermissions), so what the machine may do is exactly what it calls.
 */
import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import { BatchPipelineRefs, BatchPipelineSettings, batchPipelineDefinition, batchPipelinePermissions } from "../../workflows/batch-pipeline";
import { batchReportingLoadCallbackFactory } from "../../functions/batch-reporting-load";
import { FunctionVpcPlacement, createInlineFunction, InlineFunction } from "../lib/inline-function";
import { Statement, allow, createScopedRole, listBucketUnder, useDataKey } from "../lib/iam";
import { ExecutionLogLevel, createWorkflowStateMachine } from "../lib/state-machine";
import { createEncryptedQueue, DLQ_RETENTION_SECONDS } from "../lib/queues";
import { BATCH_CURATED_PREFIX, BATCH_MANIFEST_PREFIX } from "./batch-settings";

/** The reporting load's Lambda timeout; the pipeline's task allows a margin on top. */
export const REPORTING_LOAD_TIMEOUT_SECONDS = 300;

export interface ReportingDatabaseRef {
  readonly host: pulumi.Input<string>;
  readonly port: pulumi.Input<number>;
  readonly databaseName: pulumi.Input<string>;
  /** Secrets Manager secret with the credentials the load connects with (read at run time, never put in env). */
  readonly credentialsSecretArn: pulumi.Input<string>;
}

export interface BatchWorkflowArgs {
  readonly batchFileJobName: pulumi.Input<string>;
  readonly curationJobName: pulumi.Input<string>;
  readonly crawlerName: pulumi.Input<string>;
  readonly warehouseLoaderFunctionArn: pulumi.Input<string>;
  readonly stagedBucket: { readonly name: pulumi.Input<string>; readonly arn: pulumi.Input<string> };
  /** The lake's fan-out topic: a completed run is announced there (attribute kind=batch.completed). */
  readonly fanoutTopicArn: pulumi.Input<string>;
  /** Where a failed run is reported (the Catch branch), whether or not alarms are enabled. */
  readonly failureTopicArn: pulumi.Input<string>;
  readonly reportingDatabase: ReportingDatabaseRef;
  readonly vpc: FunctionVpcPlacement;
  readonly dataKeyArn: pulumi.Input<string>;
  readonly logsKeyArn: pulumi.Input<string>;
  readonly logRetentionDays: number;
  /** Step Functions execution log level. */
  readonly logLevel: ExecutionLogLevel;
  /** X-Ray tracing of executions and of the reporting-load function. @default true */
  readonly tracing?: boolean;
  /** Retries, timeouts and crawler polling (the reporting load's timeout is this component's). */
  readonly pipeline: Omit<BatchPipelineSettings, "reportingLoadTimeoutSeconds">;
  /** EventBridge Scheduler expression and time zone of the nightly run. */
  readonly schedule: { readonly expression: string; readonly timezone: string };
  /** Whether the schedule fires (only the active region runs the nightly pipeline). @default true */
  readonly scheduleEnabled?: boolean;
  /** Alarms on failed and timed-out executions go here. @default undefined (no alarms) */
  readonly alarmTopicArn?: pulumi.Input<string>;
}

export class BatchWorkflow extends pulumi.ComponentResource {
  readonly stateMachine: aws.sfn.StateMachine;
  readonly role: aws.iam.Role;
  readonly logGroup: aws.cloudwatch.LogGroup;
  readonly schedule: aws.scheduler.Schedule;
  readonly scheduleDeadLetterQueue: aws.sqs.Queue;
  readonly reportingLoad: InlineFunction;

  constructor(name: string, args: BatchWorkflowArgs, opts?: pulumi.ComponentResourceOptions) {
    super("dataplatform:batch:BatchWorkflow", name, {}, opts);
    const identity = aws.getCallerIdentityOutput({}, { parent: this });
    const region = aws.getRegionOutput({}, { parent: this });
    const tracing = args.tracing ?? true;

    this.reportingLoad = createInlineFunction(`${name}-reporting-load`, {
      description: "Applies a batch run's COPY manifest to the reporting schema (the aggregator's upsert)",
      callbackFactory: batchReportingLoadCallbackFactory,
      statements: [
        pulumi.output(args.stagedBucket.arn).apply((arn): Statement => ({ Sid: "ReadBatchUnits", Effect: "Allow", Action: "s3:GetObject", Resource: [`${arn}/${BATCH_MANIFEST_PREFIX}*`, `${arn}/${BATCH_CURATED_PREFIX}*`] })),
        // With ListBucket a missing manifest is a 404 (ManifestMissing, named), not an opaque 403.
        pulumi.output(args.stagedBucket.arn).apply((arn) => listBucketUnder("ListBatchManifests", arn, [BATCH_MANIFEST_PREFIX])),
        allow("ReadDatabaseCredentials", "secretsmanager:GetSecretValue", args.reportingDatabase.credentialsSecretArn),
        useDataKey(args.dataKeyArn),
      ],
      environment: {
        STAGED_BUCKET: args.stagedBucket.name,
        DB_HOST: args.reportingDatabase.host,
        DB_PORT: pulumi.output(args.reportingDatabase.port).apply(String),
        DB_NAME: args.reportingDatabase.databaseName,
        DB_SECRET_ARN: args.reportingDatabase.credentialsSecretArn,
        // The Lambda runtime's CA bundle holds the RDS CAs: TLS to Aurora is verified.
        NODE_EXTRA_CA_CERTS: "/var/runtime/ca-cert.pem",
      },
      memorySize: 512,
      timeoutSeconds: REPORTING_LOAD_TIMEOUT_SECONDS,
      logRetentionDays: args.logRetentionDays,
      logsKeyArn: args.logsKeyArn,
      tracing,
      vpc: args.vpc,
      packages: ["pg"],
    }, this);

    const refInputs: { readonly [K in keyof BatchPipelineRefs]: pulumi.Input<string> } = {
      batchFileJobName: args.batchFileJobName,
      curationJobName: args.curationJobName,
      crawlerName: args.crawlerName,
      warehouseLoaderFunctionArn: args.warehouseLoaderFunctionArn,
      reportingLoadFunctionArn: this.reportingLoad.function.arn,
      stagedBucket: args.stagedBucket.name,
      fanoutTopicArn: args.fanoutTopicArn,
      alarmTopicArn: args.failureTopicArn,
      region: region.region,
    };
    const refs: pulumi.Output<BatchPipelineRefs> = pulumi.output(refInputs);
    const pipeline: BatchPipelineSettings = { ...args.pipeline, reportingLoadTimeoutSeconds: REPORTING_LOAD_TIMEOUT_SECONDS };

    const machine = createWorkflowStateMachine(name, {
      purpose: "the batch pipeline's execution role",
      definition: refs.apply((resolved) => JSON.stringify(batchPipelineDefinition(resolved, pipeline))),
      statements: [
        pulumi.all([refs, identity.accountId, args.dataKeyArn]).apply(([resolved, accountId, dataKey]) =>
          batchPipelinePermissions(resolved, { accountId, topicKeyArns: [dataKey] }) as Statement[]),
      ],
      dataKeyArn: args.dataKeyArn,
      logsKeyArn: args.logsKeyArn,
      logRetentionDays: args.logRetentionDays,
      logLevel: args.logLevel,
      tracing,
      alarmTopicArn: args.alarmTopicArn,
    }, this);
    this.stateMachine = machine.stateMachine;
    this.role = machine.role;
    this.logGroup = machine.logGroup;

    this.scheduleDeadLetterQueue = createEncryptedQueue(`${name}-schedule-dlq`, {
      dataKeyArn: args.dataKeyArn,
      messageRetentionSeconds: DLQ_RETENTION_SECONDS,
    }, { parent: this });
    const { role: schedulerRole, policy: schedulerPolicy } = createScopedRole(`${name}-scheduler`, {
      service: "scheduler.amazonaws.com",
      // Scheduler's aws:SourceArn is the schedule group's ARN, not the schedule's (https://docs.aws.amazon.com/scheduler/latest/UserGuide/cross-service-confused-deputy-prevention.html).
      trustConditions: pulumi.all([identity.accountId, region.region]).apply(([account, r]) => ({
        StringEquals: { "aws:SourceAccount": account },
        ArnEquals: { "aws:SourceArn": `arn:aws:scheduler:${r}:${account}:schedule-group/default` },
      })),
      description: `${name}: EventBridge Scheduler starting the nightly run`,
      statements: [
        allow("StartNightlyRun", "states:StartExecution", this.stateMachine.arn),
        allow("DeadLetter", "sqs:SendMessage", this.scheduleDeadLetterQueue.arn),
        useDataKey(args.dataKeyArn),
      ],
    }, { parent: this });
    this.schedule = new aws.scheduler.Schedule(`${name}-nightly`, {
      name: `${name}-nightly`,
      description: "Starts the batch pipeline's incremental run (job bookmarks pick up new files)",
      scheduleExpression: args.schedule.expression,
      scheduleExpressionTimezone: args.schedule.timezone,
      flexibleTimeWindow: { mode: "OFF" },
      state: (args.scheduleEnabled ?? true) ? "ENABLED" : "DISABLED",
      kmsKeyArn: args.dataKeyArn,
      target: {
        arn: this.stateMachine.arn,
        roleArn: schedulerRole.arn,
        input: JSON.stringify({}),
        retryPolicy: { maximumRetryAttempts: 3, maximumEventAgeInSeconds: 3600 },
        deadLetterConfig: { arn: this.scheduleDeadLetterQueue.arn },
      },
    }, { parent: this, dependsOn: [schedulerPolicy] });

    this.registerOutputs({
      stateMachineArn: this.stateMachine.arn,
      scheduleName: this.schedule.name,
      reportingLoadFunctionName: this.reportingLoad.function.name,
    });
  }
}
