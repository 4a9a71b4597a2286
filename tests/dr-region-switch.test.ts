/** The step model as ARC Region switch plan args (optional console view of the same plan). */
import { regionSwitchPlanArgs } from "../dr/region-switch";
import { buildSteps } from "../dr/steps";
import { DR_REGION, PRIMARY_REGION, fixtureStacks } from "./support/dr";

const workflowOf = (target: "prod" | "prod-dr") => {
  const stacks = fixtureStacks(target);
  return { targetRegion: stacks.target.topology.region, steps: buildSteps({ stacks, mode: "planned", warehouseSnapshot: "", runId: "arc" }) };
};

const args = regionSwitchPlanArgs({
  name: "dp-prod-region-switch",
  primaryRegion: PRIMARY_REGION,
  regions: [PRIMARY_REGION, DR_REGION],
  rtoMinutes: 120,
  executionRoleArn: "arn:aws:iam::123456789012:role/dp-prod-region-switch",
  stepRunnerLambdaArn: "arn:aws:lambda:eu-central-1:123456789012:function:dp-prod-dr-promotion-step",
  approvalRoleArn: "arn:aws:iam::123456789012:role/dp-prod-approver",
  auroraClusterArns: ["arn:aws:rds:eu-west-1:123456789012:cluster:dp-prod-oltp", "arn:aws:rds:eu-central-1:123456789012:cluster:dp-prod-dr-oltp"],
  workflows: [workflowOf("prod-dr"), workflowOf("prod")],
}) as any;

describe("ARC Region switch plan args", () => {
  it("declares an active/passive plan over both regions with the RTO", () => {
    expect(args).toMatchObject({ recoveryApproach: "activePassive", regions: [PRIMARY_REGION, DR_REGION], primaryRegion: PRIMARY_REGION, recoveryTimeObjectiveMinutes: 120 });
    expect(args.workflows.map((workflow: any) => `${workflow.workflowTargetAction} ${workflow.workflowTargetRegion}`)).toEqual([`activate ${DR_REGION}`, `activate ${PRIMARY_REGION}`]);
  });

  it("turns waves into steps: approval, Aurora (switchover, failover when ungraceful), then Parallel blocks", () => {
    const steps = args.workflows[0].steps;
    expect(steps.map((step: any) => step.executionBlockType)).toEqual(["ManualApproval", "Parallel", "Parallel", "Parallel", "Parallel", "CustomActionLambda"]);
    const first = steps[1].parallelConfigs[0].steps;
    expect(first[0]).toMatchObject({ name: "aurora-promote", executionBlockType: "AuroraGlobalDatabase", globalAuroraConfigs: [{ behavior: "switchoverOnly", globalClusterIdentifier: "dp-prod-oltp-global", ungracefuls: [{ ungraceful: "failover" }], timeoutMinutes: 30 }] });
    expect(first[1]).toMatchObject({ name: "warehouse-restore", executionBlockType: "CustomActionLambda" });
  });

  it("runs target steps in the activating region and source steps in the deactivating one", () => {
    const regionsToRun = (wave: number) => args.workflows[0].steps[wave].parallelConfigs[0].steps.map((step: any) => step.customActionLambdaConfigs[0].regionToRun);
    expect(new Set(regionsToRun(2))).toEqual(new Set(["activatingRegion"]));
    expect(new Set(regionsToRun(4))).toEqual(new Set(["deactivatingRegion"]));
  });

  it("names every step uniquely with ARC's characters", () => {
    const names = args.workflows[0].steps.flatMap((step: any) => [step.name, ...(step.parallelConfigs?.[0].steps.map((inner: any) => inner.name) ?? [])]);
    expect(new Set(names).size).toBe(names.length);
    for (const name of names) expect(name).toMatch(/^[A-Za-z0-9-]{1,64}$/);
  });
});
