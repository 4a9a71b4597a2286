/**
 * The same step model as an ARC Region switch plan (aws.arcregionswitch.Plan args), so
 * console users get the plan dr:promote runs: one "activate" workflow per region, each
 * wave a step (a "Parallel" step when it has more than one), Aurora as ARC's native
 * AuroraGlobalDatabase block (switchoverOnly when graceful, failover when ungraceful),
 * and every other step as a CustomActionLambda of a step-runner function that runs the
 * dr/ action for that step id. Pure, and not declared by any stack yet: that needs the
 * step-runner Lambda and an execution role for ARC (see README, Disaster recovery).
 * Valid values from @pulumi/aws v7 arcregionswitch input types.
 */
import type * as aws from "@pulumi/aws";
import { parallelWaves } from "./graph";
import { PlanStep } from "./model";

type PlanArgs = aws.arcregionswitch.PlanArgs;
type WorkflowStep = aws.types.input.arcregionswitch.PlanWorkflowStep;
type ParallelStep = aws.types.input.arcregionswitch.PlanWorkflowStepParallelConfigStep;

export interface RegionSwitchWorkflow {
  /** The region this workflow activates. */
  readonly targetRegion: string;
  /** The planned-mode steps toward it (buildSteps); follow-ups are left out, ARC has no deferred steps. */
  readonly steps: PlanStep[];
}

export interface RegionSwitchPlanInputs {
  readonly name: string;
  readonly primaryRegion: string;
  readonly regions: [string, string];
  readonly rtoMinutes: number;
  /** The role ARC assumes to run the plan. */
  readonly executionRoleArn: string;
  /** The Lambda that runs one dr/ step by id (its event carries the step id and the plan's region). */
  readonly stepRunnerLambdaArn: string;
  /** When set, a ManualApproval step opens each workflow, as dr:promote asks before acting. */
  readonly approvalRoleArn?: string;
  /** Both members of the Aurora global cluster (ARC's AuroraGlobalDatabase block names them all). */
  readonly auroraClusterArns: string[];
  readonly workflows: RegionSwitchWorkflow[];
}

/** ARC step names: letters, digits and hyphens, unique within the plan. */
export const arcStepName = (id: string) => id.replace(/[^A-Za-z0-9]+/g, "-").replace(/^-|-$/g, "").slice(0, 64);

const minutes = (seconds: number) => Math.max(1, Math.ceil(seconds / 60));

function blockOf(step: PlanStep, targetRegion: string, inputs: RegionSwitchPlanInputs): ParallelStep {
  const common = { name: arcStepName(step.id), description: step.description.slice(0, 255) };
  const action = step.action;
  if (action.type === "aurora-switchover" || action.type === "aurora-failover") {
    return {
      ...common,
      executionBlockType: "AuroraGlobalDatabase",
      globalAuroraConfigs: [
        {
          behavior: "switchoverOnly",
          globalClusterIdentifier: action.globalClusterIdentifier,
          databaseClusterArns: [...inputs.auroraClusterArns],
          timeoutMinutes: minutes(step.timeoutSeconds),
          ungracefuls: [{ ungraceful: "failover" }],
        },
      ],
    };
  }
  return {
    ...common,
    executionBlockType: "CustomActionLambda",
    customActionLambdaConfigs: [
      {
        lambdas: [{ arn: inputs.stepRunnerLambdaArn }],
        regionToRun: step.region === targetRegion ? "activatingRegion" : "deactivatingRegion",
        retryIntervalMinutes: 1,
        timeoutMinutes: minutes(step.timeoutSeconds),
      },
    ],
  };
}

export function regionSwitchPlanArgs(inputs: RegionSwitchPlanInputs): PlanArgs {
  const workflows = inputs.workflows.map((workflow) => {
    const critical = workflow.steps.filter((step) => step.phase === "critical");
    const byId = new Map(critical.map((step) => [step.id, step]));
    const steps: WorkflowStep[] = [];
    if (inputs.approvalRoleArn) {
      steps.push({ name: "approve", description: `Approve activating ${workflow.targetRegion}`, executionBlockType: "ManualApproval", executionApprovalConfigs: [{ approvalRole: inputs.approvalRoleArn, timeoutMinutes: 60 }] });
    }
    parallelWaves(critical).forEach((wave, index) => {
      const blocks = wave.map((id) => blockOf(byId.get(id)!, workflow.targetRegion, inputs));
      steps.push(blocks.length === 1 ? (blocks[0] as WorkflowStep) : { name: `wave-${index + 1}`, description: `${blocks.length} steps in parallel`, executionBlockType: "Parallel", parallelConfigs: [{ steps: blocks }] });
    });
    return { workflowTargetAction: "activate", workflowTargetRegion: workflow.targetRegion, workflowDescription: `Activate ${workflow.targetRegion} (dr:promote step model)`, steps };
  });
  return {
    name: inputs.name,
    executionRole: inputs.executionRoleArn,
    recoveryApproach: "activePassive",
    regions: [...inputs.regions],
    primaryRegion: inputs.primaryRegion,
    recoveryTimeObjectiveMinutes: inputs.rtoMinutes,
    description: "Generated from the dr:promote step model",
    workflows,
  };
}
