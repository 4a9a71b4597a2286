/**
 * The on-demand lake replay: a Standard state machine (workflows/lake-replay.ts) that runs
 * glue/jobs/lake_replay.py on the EMR Serverless application for a date range
 * (`{"from":"YYYY-MM-DD","to":"YYYY-MM-DD"}`), waits for the job run (`.sync`), and
 * announces the result on the lake's fan-out topic (kind=lake.replayed) or the alarm topic.
 * It has no schedule: a replay is an operator's decision (README, Run a backfill).
 */
import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import { LakeReplayRefs, LakeReplaySettings, lakeReplayDefinition, lakeReplayPermissions } from "../../workflows/lake-replay";
import { Statement } from "../lib/iam";
import { ExecutionLogLevel, createWorkflowStateMachine } from "../lib/state-machine";

export interface LakeReplayWorkflowArgs {
  readonly applicationId: pulumi.Input<string>;
  readonly jobRoleArn: pulumi.Input<string>;
  readonly replayScriptUri: pulumi.Input<string>;
  readonly pyFilesUri: pulumi.Input<string>;
  readonly rawBucket: pulumi.Input<string>;
  readonly transformedBucket: pulumi.Input<string>;
  readonly fanoutTopicArn: pulumi.Input<string>;
  readonly failureTopicArn: pulumi.Input<string>;
  readonly dataKeyArn: pulumi.Input<string>;
  readonly logsKeyArn: pulumi.Input<string>;
  readonly logRetentionDays: number;
  readonly logLevel: ExecutionLogLevel;
  /** @default true */
  readonly tracing?: boolean;
  readonly replay: LakeReplaySettings;
  /** @default undefined (no alarms) */
  readonly alarmTopicArn?: pulumi.Input<string>;
}

export class LakeReplayWorkflow extends pulumi.ComponentResource {
  readonly stateMachine: aws.sfn.StateMachine;
  readonly role: aws.iam.Role;

  constructor(name: string, args: LakeReplayWorkflowArgs, opts?: pulumi.ComponentResourceOptions) {
    super("dataplatform:batch:LakeReplayWorkflow", name, {}, opts);
    const identity = aws.getCallerIdentityOutput({}, { parent: this });
    const region = aws.getRegionOutput({}, { parent: this });
    const refInputs: { readonly [K in keyof LakeReplayRefs]: pulumi.Input<string> } = {
      applicationId: args.applicationId,
      jobRoleArn: args.jobRoleArn,
      replayScriptUri: args.replayScriptUri,
      pyFilesUri: args.pyFilesUri,
      rawBucket: args.rawBucket,
      transformedBucket: args.transformedBucket,
      fanoutTopicArn: args.fanoutTopicArn,
      alarmTopicArn: args.failureTopicArn,
      region: region.region,
    };
    const refs: pulumi.Output<LakeReplayRefs> = pulumi.output(refInputs);
    const machine = createWorkflowStateMachine(name, {
      purpose: "the lake replay's execution role (EMR Serverless job runs)",
      definition: refs.apply((resolved) => JSON.stringify(lakeReplayDefinition(resolved, args.replay))),
      statements: [
        pulumi.all([refs, identity.accountId, args.dataKeyArn]).apply(([resolved, accountId, dataKey]) =>
          lakeReplayPermissions(resolved, { accountId, topicKeyArns: [dataKey] }) as Statement[]),
      ],
      dataKeyArn: args.dataKeyArn,
      logsKeyArn: args.logsKeyArn,
      logRetentionDays: args.logRetentionDays,
      logLevel: args.logLevel,
      tracing: args.tracing,
      alarmTopicArn: args.alarmTopicArn,
    }, this);
    this.stateMachine = machine.stateMachine;
    this.role = machine.role;
    this.registerOutputs({ stateMachineArn: this.stateMachine.arn });
  }
}
