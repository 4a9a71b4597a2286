/**
 * The recovery point per store: how much data this promotion may lose, from what was
 * observed. Unplanned mode can read only the target region, so a lag that AWS publishes
 * in the failed region is reported as unknown, with the bound the design gives, never as 0.
 */
import { PromotionMode, PromotionStacks, RpoEstimate } from "./model";
import { ObservedState } from "./state";
import { latestWarehouseSnapshot } from "./preconditions";
import { restoresWarehouse } from "./steps";

/** S3 Replication Time Control replicates 99.99% of objects within 15 minutes (S3 user guide, "Meeting compliance requirements with S3 RTC"). */
export const RTC_BOUND_SECONDS = 15 * 60;

const lagOf = (state: ObservedState, store: "aurora" | "s3" | "dynamodb") => state.lags.filter((lag) => lag.store === store);
const worst = (values: (number | undefined)[]) => {
  const known = values.filter((value): value is number => value !== undefined);
  return known.length ? Math.max(...known) : undefined;
};

export function estimateRpo(stacks: PromotionStacks, state: ObservedState, mode: PromotionMode): RpoEstimate[] {
  const { target, source } = stacks;
  const streamTarget = target.config.drRpoStreamSeconds;
  const batchTarget = target.config.drRpoBatchMinutes * 60;
  const planned = mode === "planned";
  const estimates: RpoEstimate[] = [];

  if (target.topology.aurora) {
    const lag = lagOf(state, "aurora")[0];
    estimates.push(
      planned
        ? { store: "aurora", seconds: 0, targetSeconds: streamTarget, basis: `SwitchoverGlobalCluster synchronises the secondary before swapping roles (observed AuroraGlobalDBRPOLag ${lag?.seconds ?? "n/a"}s)` }
        : lag?.seconds !== undefined
          ? { store: "aurora", seconds: lag.seconds, targetSeconds: streamTarget, basis: `last AuroraGlobalDBRPOLag in ${lag.region} (${lag.at ?? "time unknown"}): commits of the last ${lag.seconds}s before the failure may be lost; the rds:unplanned-global-failover snapshot keeps them` }
          : { store: "aurora", targetSeconds: streamTarget, basis: `AuroraGlobalDBRPOLag had no datapoint in ${target.topology.region}; the loss window is unknown` },
    );
  }

  const ddb = lagOf(state, "dynamodb");
  estimates.push(
    planned
      ? { store: "dynamodb", seconds: 0, targetSeconds: streamTarget, basis: `the global table keeps replicating from the running source (observed ReplicationLatency ${worst(ddb.map((lag) => lag.seconds)) ?? "n/a"}s)` }
      : { store: "dynamodb", targetSeconds: streamTarget, basis: `ReplicationLatency is published in ${source.topology.region}, which is not called; items written in its last seconds arrive when it returns` },
  );

  const s3 = lagOf(state, "s3");
  const pending = s3.reduce((sum, lag) => sum + (lag.pendingOperations ?? 0), 0);
  estimates.push(
    planned
      ? { store: "s3", seconds: 0, targetSeconds: batchTarget, basis: `replication from the running source completes (${pending} operations pending, worst ReplicationLatency ${worst(s3.map((lag) => lag.seconds)) ?? "n/a"}s)` }
      : source.config.s3ReplicationTimeControl
        ? { store: "s3", seconds: RTC_BOUND_SECONDS, targetSeconds: batchTarget, basis: `not observable from ${target.topology.region}; Replication Time Control bounds it at 15 minutes for 99.99% of objects` }
        : { store: "s3", targetSeconds: batchTarget, basis: `not observable from ${target.topology.region}, and without Replication Time Control there is no bound` },
  );

  estimates.push(
    planned
      ? { store: "stream", seconds: 0, targetSeconds: streamTarget, basis: `producers move before the source consumers stop; records that still reach the source stream wait there (${source.config.kinesisRetentionHours} h retention)` }
      : { store: "stream", targetSeconds: streamTarget, basis: `records the source stream had not delivered stay there until ${source.topology.region} returns (${source.config.kinesisRetentionHours} h retention); replay them then` },
  );

  if (restoresWarehouse(stacks)) {
    const snapshot = state.warehouse?.restoredCluster ? undefined : latestWarehouseSnapshot(state, target.topology.warehouse!.restoreClusterIdentifier);
    const age = snapshot ? Math.max(0, Math.round((Date.parse(state.observedAt) - Date.parse(snapshot.createdAt)) / 1000)) : undefined;
    estimates.push(
      snapshot
        ? { store: "warehouse", seconds: age, targetSeconds: batchTarget, basis: `restored from ${snapshot.identifier} taken ${snapshot.createdAt}; loads since then replay from the staged zone` }
        : { store: "warehouse", targetSeconds: batchTarget, basis: "no copied snapshot observed (or the cluster already exists)" },
    );
  }
  return estimates;
}
