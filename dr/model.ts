/**
 * The step model of a promotion: what the planner produces, what the executor runs and
 * journals, and what the report and the ARC Region switch plan are generated from. Plain
 * JSON throughout, so a plan can be printed, journaled and resumed as it was decided.
 */
import { StageConfig } from "../config";
import { LakeTriggerTopology, StackTopology, WarehouseRestoreTopology } from "./topology";

export type PromotionMode = "planned" | "unplanned";

/** One stack of the stage as the promotion sees it. */
export interface PromotionStack {
  /** The short stack name of Pulumi.<name>.yaml and `--stack`, e.g. "prod-dr". */
  readonly name: string;
  readonly config: StageConfig;
  readonly topology: StackTopology;
}

/** The stack whose region becomes active (target) and the one that hands over (source). */
export interface PromotionStacks {
  readonly target: PromotionStack;
  readonly source: PromotionStack;
}

export interface PlanOptions {
  /** Accept replication lag beyond the RPO targets in planned mode (and only that). */
  readonly force: boolean;
}

/** On the critical path (counts toward the RTO) or deferred until the source region answers. */
export type StepPhase = "critical" | "follow-up";

/** What a step does, with every identifier it needs: the executor never looks anything up by convention. */
export type StepAction =
  | { readonly type: "aurora-switchover"; readonly globalClusterIdentifier: string; readonly targetClusterArn: string }
  | { readonly type: "aurora-failover"; readonly globalClusterIdentifier: string; readonly targetClusterArn: string }
  | { readonly type: "mapping-state"; readonly consumer: string; readonly functionName: string; readonly uuid: string; readonly enabled: boolean }
  | { readonly type: "lake-notifications"; readonly bucket: string; readonly configuration: LakeTriggerTopology }
  | { readonly type: "endpoint-parameter"; readonly name: string; readonly value: string }
  | {
      readonly type: "warehouse-restore";
      readonly clusterIdentifier: string;
      readonly snapshotIdentifier: string;
      /** What the standby stack declared for the restore, so that it can adopt the restored cluster. */
      readonly settings?: WarehouseRestoreTopology;
    }
  | {
      readonly type: "health-check";
      readonly globalClusterIdentifier?: string;
      readonly writerClusterArn?: string;
      readonly mappings: { readonly functionName: string; readonly uuid: string }[];
      readonly parameters: { readonly name: string; readonly value: string }[];
      readonly warehouseClusterIdentifier?: string;
      readonly reportingApiUrl?: string;
    }
  | {
      readonly type: "copy-failover-snapshot";
      readonly clusterIdentifier: string;
      readonly targetSnapshotIdentifier: string;
    };

export type StepType = StepAction["type"];

export interface PlanStep {
  /** Stable id, unique in the plan, e.g. "enable-mapping:eu-central-1:stream-consumer". */
  readonly id: string;
  readonly title: string;
  /** The one region this step calls. */
  readonly region: string;
  readonly phase: StepPhase;
  /** Steps that must have succeeded first; steps with no ordering between them run in parallel. */
  readonly dependsOn: string[];
  /** Ids of the preconditions (see PreconditionResult) this step relies on. */
  readonly preconditions: string[];
  /** What the step does, in words. */
  readonly description: string;
  readonly verification: string;
  readonly rollback: string;
  readonly timeoutSeconds: number;
  /**
   * The IAM actions the step calls and on what (checked with SimulatePrincipalPolicy
   * beforehand); "{account}" in a resource stands for the caller's account.
   */
  readonly permissions: StepPermission[];
  readonly action: StepAction;
}

export interface PreconditionResult {
  readonly id: string;
  readonly description: string;
  readonly passed: boolean;
  /** What was observed, in words: why it passed or failed. */
  readonly detail: string;
  /** True when --force may override a failure (replication lag only). */
  readonly overridable: boolean;
  /** Failed, but overridden by --force. */
  readonly forced: boolean;
}

/** A change a stack's config needs so that its next `pulumi up` converges on the new topology. */
export interface ConfigChange {
  readonly stack: string;
  readonly key: string;
  readonly value: string;
  /** The value the stack file holds now ("" when unset). */
  readonly current: string;
  readonly reason: string;
  /** When the change applies: always, or only once the step that produces its value succeeded. */
  readonly afterStep?: string;
}

export type StoreName = "aurora" | "dynamodb" | "s3" | "stream" | "warehouse";

/** How much data a store may lose (or have lost) in this promotion. */
export interface RpoEstimate {
  readonly store: StoreName;
  /** Seconds of writes at risk; undefined when it cannot be observed from the regions this run may call. */
  readonly seconds?: number;
  readonly targetSeconds: number;
  readonly basis: string;
}

export interface PromotionPlan {
  readonly version: 1;
  readonly mode: PromotionMode;
  readonly stage: string;
  readonly targetStack: string;
  readonly sourceStack: string;
  readonly targetRegion: string;
  readonly sourceRegion: string;
  readonly force: boolean;
  readonly observedAt: string;
  readonly steps: PlanStep[];
  /** Critical-path steps in waves: every step of a wave can run in parallel once the waves before it are done. */
  readonly groups: string[][];
  /** Follow-up steps in waves (deferred in unplanned mode until the source region answers). */
  readonly followUpGroups: string[][];
  readonly preconditions: PreconditionResult[];
  /** The failed, non-overridden preconditions: the plan is refused while any remains. */
  readonly blockers: PreconditionResult[];
  readonly configChanges: ConfigChange[];
  readonly rpo: RpoEstimate[];
  readonly rtoTargetMinutes: number;
}

export interface StepPermission {
  readonly action: string;
  readonly resource: string;
}

/** The token in a StepPermission resource that the observers replace with the caller's account. */
export const ACCOUNT_TOKEN = "{account}";
