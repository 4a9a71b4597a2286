/**
 * buildPromotionPlan: a pure function of both stacks (config and topology), the observed
 * state, the mode and the options. It returns the ordered steps with their parallel
 * waves, every precondition with its outcome, the blockers, the config changes both
 * stacks need afterwards and the estimated RPO per store. Nothing here calls AWS.
 */
import { configChangesFor } from "./config-changes";
import { parallelWaves, wavesOf } from "./graph";
import { PlanOptions, PromotionMode, PromotionPlan, PromotionStacks } from "./model";
import { checkPreconditions, latestWarehouseSnapshot } from "./preconditions";
import { estimateRpo } from "./rpo";
import { ObservedState } from "./state";
import { buildSteps, restoresWarehouse } from "./steps";

export interface BuildPlanOptions extends PlanOptions {
  /** Names run-scoped artefacts (the manual snapshot copy); "plan" when only planning. */
  readonly runId?: string;
}

export function buildPromotionPlan(stacks: PromotionStacks, state: ObservedState, mode: PromotionMode, options: BuildPlanOptions): PromotionPlan {
  if (state.mode !== mode) throw new Error(`The observed state was taken for ${state.mode} mode, not ${mode}: unplanned observations skip the source region`);
  const snapshot = restoresWarehouse(stacks) && !state.warehouse?.restoredCluster
    ? latestWarehouseSnapshot(state, stacks.target.topology.warehouse!.restoreClusterIdentifier)?.identifier ?? ""
    : stacks.target.config.warehouseRestoreSnapshot;
  const steps = buildSteps({ stacks, mode, warehouseSnapshot: snapshot, runId: options.runId ?? "plan" });
  const preconditions = checkPreconditions({ stacks, mode, state, options, steps });
  const waves = parallelWaves(steps);
  const phaseOf = new Map(steps.map((step) => [step.id, step.phase]));
  return {
    version: 1,
    mode,
    stage: stacks.target.topology.stage,
    targetStack: stacks.target.name,
    sourceStack: stacks.source.name,
    targetRegion: stacks.target.topology.region,
    sourceRegion: stacks.source.topology.region,
    force: options.force,
    observedAt: state.observedAt,
    steps,
    groups: wavesOf(waves, (id) => phaseOf.get(id) === "critical"),
    followUpGroups: wavesOf(waves, (id) => phaseOf.get(id) === "follow-up"),
    preconditions,
    blockers: preconditions.filter((check) => !check.passed && !check.forced),
    configChanges: configChangesFor(stacks, snapshot),
    rpo: estimateRpo(stacks, state, mode),
    rtoTargetMinutes: stacks.target.config.drRtoMinutes,
  };
}
