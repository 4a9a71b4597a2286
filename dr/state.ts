/**
 * The observed-state snapshot the planner decides on: what the observers read from AWS
 * (or the simulation) at one moment. A field that was not observed (the source region in
 * unplanned mode, a call that failed) is absent, never guessed; `errors` says why.
 */
import { PromotionMode } from "./model";

export interface ObservedInstance {
  readonly identifier: string;
  readonly status: string;
}

export interface ObservedMember {
  readonly clusterArn: string;
  readonly region: string;
  readonly isWriter: boolean;
  /** From DescribeDBClusters in the member's region; absent when that region was not called. */
  readonly engineVersion?: string;
  readonly status?: string;
  /** The member's instances; absent when not observed. */
  readonly instances?: ObservedInstance[];
}

export interface ObservedFailoverState {
  /** pending | switching-over | failing-over | cancelling */
  readonly status: string;
  readonly fromDbClusterArn?: string;
  readonly toDbClusterArn?: string;
  readonly isDataLossAllowed?: boolean;
}

export interface ObservedAurora {
  readonly globalClusterIdentifier: string;
  readonly engineVersion?: string;
  readonly status?: string;
  /** Absent when no switchover or failover is in progress. */
  readonly failoverState?: ObservedFailoverState;
  readonly members: ObservedMember[];
}

export type LagStore = "aurora" | "s3" | "dynamodb";

/** The latest datapoint of a replication-lag metric (CloudWatch). */
export interface ObservedLag {
  readonly store: LagStore;
  /** What the metric is about: the secondary cluster, "bucket→bucket (rule)", or the table. */
  readonly resource: string;
  readonly metric: string;
  /** The region the metric was read in. */
  readonly region: string;
  /** The latest value in seconds; absent when the metric had no datapoint in the window. */
  readonly seconds?: number;
  /** S3 OperationsPendingReplication, when read. */
  readonly pendingOperations?: number;
  readonly at?: string;
}

export interface ObservedMapping {
  readonly region: string;
  readonly consumer: string;
  readonly functionName: string;
  readonly uuid: string;
  /** Lambda's State (Enabled, Disabled, Enabling, Disabling, Creating, Updating, Deleting) or "absent". */
  readonly state: string;
}

export interface ObservedParameter {
  readonly region: string;
  readonly name: string;
  /** null when the parameter does not exist. */
  readonly value: string | null;
}

export interface ObservedSnapshot {
  readonly identifier: string;
  readonly clusterIdentifier: string;
  readonly createdAt: string;
  readonly status: string;
  readonly snapshotType: string;
  /** Set on copies: where the snapshot was taken. */
  readonly sourceRegion?: string;
}

export interface ObservedWarehouse {
  readonly region: string;
  readonly snapshots: ObservedSnapshot[];
  /** The cluster a restore creates, when it already exists in the target region. */
  readonly restoredCluster?: { readonly identifier: string; readonly status: string };
}

export interface ObservedPermission {
  readonly action: string;
  readonly resource: string;
  readonly region: string;
  readonly allowed: boolean;
  /** IAM's EvalDecision: allowed, explicitDeny, implicitDeny. */
  readonly decision: string;
}

export interface ObservationError {
  readonly region: string;
  readonly what: string;
  readonly message: string;
}

export interface ObservedState {
  readonly observedAt: string;
  /** The mode the observation was made for: unplanned observes the target region only. */
  readonly mode: PromotionMode;
  readonly regionsObserved: string[];
  readonly caller?: { readonly arn: string; readonly account: string };
  readonly aurora?: ObservedAurora;
  readonly lags: ObservedLag[];
  readonly mappings: ObservedMapping[];
  readonly parameters: ObservedParameter[];
  readonly warehouse?: ObservedWarehouse;
  readonly permissions: ObservedPermission[];
  readonly errors: ObservationError[];
}
