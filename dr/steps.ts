/**
 * The steps of a promotion, derived from the two stacks' topologies and config alone (a
 * pure function): which calls, in which region, in which order. The observed state only
 * decides whether the plan may run (preconditions.ts) and which snapshot a restore uses.
 *
 * Order, planned mode (both regions answer):
 *   1. Aurora switchover (RPO 0) ‖ warehouse restore (long, so it starts at once)
 *   2. enable the target's mappings ‖ put the target's lake notifications
 *   3. flip the endpoint parameters in both regions (producers move)
 *   4. disable the source's mappings ‖ clear the source's lake notifications: the source
 *      consumers keep draining what producers wrote until the flip
 *   5. health check of the target
 * Unplanned mode runs 1 (as a failover with data loss), 2, 3 (target only) and 5 against
 * the target region, and defers the source-region fencing and the snapshot copy as
 * follow-ups until the source answers (`--resume`).
 */
import { ACCOUNT_TOKEN, PlanStep, PromotionMode, PromotionStacks, StepPermission } from "./model";
import { LakeTriggerTopology } from "./topology";

const MINUTE = 60;

/** Timeouts per step kind; Aurora documents switchovers and failovers in minutes, restores take longer. */
export const STEP_TIMEOUT_SECONDS = {
  aurora: 30 * MINUTE,
  mapping: 10 * MINUTE,
  notifications: 5 * MINUTE,
  parameter: 2 * MINUTE,
  warehouseRestore: 90 * MINUTE,
  health: 10 * MINUTE,
  snapshotCopy: 60 * MINUTE,
} as const;

export const HEALTH_CHECK_STEP = "health-check";
export const AURORA_STEP = "aurora-promote";
export const WAREHOUSE_STEP = "warehouse-restore";

const globalClusterArn = (id: string) => `arn:aws:rds::${ACCOUNT_TOKEN}:global-cluster:${id}`;
const mappingArn = (region: string, uuid: string) => `arn:aws:lambda:${region}:${ACCOUNT_TOKEN}:event-source-mapping:${uuid}`;
const parameterArn = (region: string, name: string) => `arn:aws:ssm:${region}:${ACCOUNT_TOKEN}:parameter${name.startsWith("/") ? name : `/${name}`}`;
const bucketArn = (bucket: string) => `arn:aws:s3:::${bucket}`;
const redshiftClusterArn = (region: string, id: string) => `arn:aws:redshift:${region}:${ACCOUNT_TOKEN}:cluster:${id}`;

const allow = (resource: string, ...actions: string[]): StepPermission[] => actions.map((action) => ({ action, resource }));

/** The empty configuration a passive region's lake bucket holds (S3 fires ObjectCreated for replicas). */
export function passiveNotifications(bucket: string): LakeTriggerTopology {
  return { bucket, lambdaFunctions: [], topics: [], eventBridge: false };
}

/** The manual snapshot the follow-up copies the unplanned-failover system snapshot to. */
export function failoverSnapshotCopyId(clusterIdentifier: string, runId: string): string {
  return `${clusterIdentifier}-unplanned-failover-${runId}`.replace(/[^A-Za-z0-9-]/g, "-").replace(/-+/g, "-").slice(0, 63).replace(/-$/, "");
}

interface StepInputs {
  readonly stacks: PromotionStacks;
  readonly mode: PromotionMode;
  /** The copied snapshot a warehouse restore uses ("" when none was observed). */
  readonly warehouseSnapshot: string;
  readonly runId: string;
}

/** Whether this promotion restores the warehouse in the target region. */
export function restoresWarehouse(stacks: PromotionStacks): boolean {
  const warehouse = stacks.target.topology.warehouse;
  return (
    stacks.target.config.drWarehouseRestore &&
    warehouse !== undefined &&
    warehouse.mode === "provisioned" &&
    warehouse.restoreOnPromotion &&
    warehouse.clusterIdentifier === ""
  );
}

export function buildSteps({ stacks, mode, warehouseSnapshot, runId }: StepInputs): PlanStep[] {
  const target = stacks.target.topology;
  const source = stacks.source.topology;
  const T = target.region;
  const S = source.region;
  const planned = mode === "planned";
  const steps: PlanStep[] = [];
  const add = (step: PlanStep) => steps.push(step);

  // 1. The database: the only step whose order matters for data (writes move with it).
  const auroraIds: string[] = [];
  if (target.aurora) {
    const aurora = target.aurora;
    auroraIds.push(AURORA_STEP);
    add({
      id: AURORA_STEP,
      title: planned ? `Switch over ${aurora.globalClusterIdentifier} to ${T}` : `Fail over ${aurora.globalClusterIdentifier} to ${T} (data loss allowed)`,
      region: T,
      phase: "critical",
      dependsOn: [],
      preconditions: planned
        ? ["aurora-global-cluster", "aurora-no-operation", "aurora-engine-parity", "aurora-target-instance", "aurora-lag"]
        : ["aurora-global-cluster", "aurora-no-operation", "aurora-engine-parity", "aurora-target-instance"],
      description: planned
        ? `SwitchoverGlobalCluster ${aurora.globalClusterIdentifier} → ${aurora.clusterIdentifier}: Aurora synchronises the secondary, then swaps roles (RPO 0).`
        : `FailoverGlobalCluster ${aurora.globalClusterIdentifier} → ${aurora.clusterIdentifier} with AllowDataLoss, called in ${T} only; writes not yet replicated are lost.`,
      verification: `DescribeGlobalClusters in ${T}: no FailoverState and ${aurora.clusterIdentifier} IsWriter.`,
      rollback: planned
        ? `Switch over back: dr:promote --stack ${stacks.source.name} --mode planned.`
        : `None for the lost writes. Once ${S} rejoins as a secondary, fail back with dr:promote --stack ${stacks.source.name} --mode planned.`,
      timeoutSeconds: STEP_TIMEOUT_SECONDS.aurora,
      permissions: allow(globalClusterArn(aurora.globalClusterIdentifier), planned ? "rds:SwitchoverGlobalCluster" : "rds:FailoverGlobalCluster", "rds:DescribeGlobalClusters"),
      action: planned
        ? { type: "aurora-switchover", globalClusterIdentifier: aurora.globalClusterIdentifier, targetClusterArn: aurora.clusterArn }
        : { type: "aurora-failover", globalClusterIdentifier: aurora.globalClusterIdentifier, targetClusterArn: aurora.clusterArn },
    });
  }

  const restoring = restoresWarehouse(stacks);
  if (restoring) {
    const warehouse = target.warehouse!;
    add({
      id: WAREHOUSE_STEP,
      title: `Restore warehouse ${warehouse.restoreClusterIdentifier} in ${T}`,
      region: T,
      phase: "critical",
      dependsOn: [],
      preconditions: ["warehouse-snapshot"],
      description: `RestoreFromClusterSnapshot ${warehouseSnapshot || "(latest copied snapshot)"} → ${warehouse.restoreClusterIdentifier} in ${T}; loads resume once it is available.`,
      verification: `DescribeClusters ${warehouse.restoreClusterIdentifier} in ${T}: ClusterStatus available.`,
      rollback: `Delete cluster ${warehouse.restoreClusterIdentifier} in ${T} (take a final snapshot if loads already ran there).`,
      timeoutSeconds: STEP_TIMEOUT_SECONDS.warehouseRestore,
      permissions: [
        ...allow(redshiftClusterArn(T, warehouse.restoreClusterIdentifier), "redshift:RestoreFromClusterSnapshot", "redshift:DescribeClusters"),
      ],
      action: {
        type: "warehouse-restore",
        clusterIdentifier: warehouse.restoreClusterIdentifier,
        snapshotIdentifier: warehouseSnapshot,
        ...(warehouse.restoreSettings ? { settings: warehouse.restoreSettings } : {}),
      },
    });
  }

  // 2. The target's consumers and lake triggers, once its database takes writes.
  const mappingStep = (region: string, consumer: (typeof target.consumers)[number], enabled: boolean, phase: PlanStep["phase"], dependsOn: string[]): PlanStep => ({
    id: `${enabled ? "enable" : "disable"}-mapping:${region}:${consumer.name}`,
    title: `${enabled ? "Enable" : "Disable"} ${consumer.name} mapping in ${region}`,
    region,
    phase,
    dependsOn,
    preconditions: [region === T ? "target-consumers" : "source-consumers"],
    description: `UpdateEventSourceMapping ${consumer.eventSourceMappingUuid} (${consumer.functionName}) Enabled=${enabled}.`,
    verification: `GetEventSourceMapping ${consumer.eventSourceMappingUuid} in ${region}: State ${enabled ? "Enabled" : "Disabled"}.`,
    rollback: `UpdateEventSourceMapping ${consumer.eventSourceMappingUuid} Enabled=${!enabled} in ${region}.`,
    timeoutSeconds: STEP_TIMEOUT_SECONDS.mapping,
    permissions: allow(mappingArn(region, consumer.eventSourceMappingUuid), "lambda:UpdateEventSourceMapping", "lambda:GetEventSourceMapping"),
    action: { type: "mapping-state", consumer: consumer.name, functionName: consumer.functionName, uuid: consumer.eventSourceMappingUuid, enabled },
  });
  const notificationStep = (region: string, configuration: LakeTriggerTopology, phase: PlanStep["phase"], dependsOn: string[]): PlanStep => {
    const active = configuration.lambdaFunctions.length + configuration.topics.length > 0 || configuration.eventBridge;
    return {
      id: `${active ? "put" : "clear"}-notifications:${region}:${configuration.bucket}`,
      title: `${active ? "Put" : "Clear"} lake notifications of ${configuration.bucket}`,
      region,
      phase,
      dependsOn,
      preconditions: [],
      description: active
        ? `PutBucketNotificationConfiguration ${configuration.bucket}: ${configuration.lambdaFunctions.length} Lambda, ${configuration.topics.length} SNS${configuration.eventBridge ? ", EventBridge" : ""}, as the promoted stack declares them.`
        : `PutBucketNotificationConfiguration ${configuration.bucket} with no destinations: a passive region must not reprocess replicas.`,
      verification: `GetBucketNotificationConfiguration ${configuration.bucket} equals the configuration put.`,
      rollback: active ? `Put the empty configuration on ${configuration.bucket}.` : `Put the stack's declared configuration back on ${configuration.bucket}.`,
      timeoutSeconds: STEP_TIMEOUT_SECONDS.notifications,
      permissions: allow(bucketArn(configuration.bucket), "s3:PutBucketNotification", "s3:GetBucketNotification"),
      action: { type: "lake-notifications", bucket: configuration.bucket, configuration },
    };
  };
  const parameterStep = (region: string, name: string, value: string, phase: PlanStep["phase"], dependsOn: string[]): PlanStep => ({
    id: `endpoint:${region}:${name}`,
    title: `Point ${name} in ${region} at ${T}`,
    region,
    phase,
    dependsOn,
    preconditions: [region === T ? "target-parameters" : "source-parameters"],
    description: `PutParameter ${name} = ${value} (Overwrite): producers reading it in ${region} move to ${T}.`,
    verification: `GetParameter ${name} in ${region} returns ${value}.`,
    rollback: `PutParameter ${name} back to the source region's endpoint in ${region}.`,
    timeoutSeconds: STEP_TIMEOUT_SECONDS.parameter,
    permissions: allow(parameterArn(region, name), "ssm:PutParameter", "ssm:GetParameter"),
    action: { type: "endpoint-parameter", name, value },
  });

  const enableIds = target.consumers.map((consumer) => {
    const step = mappingStep(T, consumer, true, "critical", auroraIds);
    add(step);
    return step.id;
  });
  const triggerIds = target.lakeTriggers.map((trigger) => {
    const step = notificationStep(T, trigger, "critical", auroraIds);
    add(step);
    return step.id;
  });

  // 3. Producers move: every region's copy of each parameter names the target's endpoint.
  const consumersReady = [...enableIds, ...triggerIds];
  const flipDependsOn = consumersReady.length > 0 ? consumersReady : auroraIds;
  const targetParameterIds = target.endpointParameters.map((parameter) => {
    const step = parameterStep(T, parameter.name, parameter.valueWhenActive, "critical", flipDependsOn);
    add(step);
    return step.id;
  });
  const valueOf = (name: string) => target.endpointParameters.find((parameter) => parameter.name === name)?.valueWhenActive;

  // The source's side of the handover: its copies of the parameters name the target's
  // endpoints, its consumers stop, and its buckets stop triggering.
  const pointSourceParameters = (phase: PlanStep["phase"], dependsOn: string[]): string[] =>
    source.endpointParameters.flatMap((parameter) => {
      const value = valueOf(parameter.name);
      if (value === undefined) return [];
      const step = parameterStep(S, parameter.name, value, phase, dependsOn);
      add(step);
      return [step.id];
    });
  const fenceSource = (phase: PlanStep["phase"], dependsOn: string[]) => {
    for (const consumer of source.consumers) add(mappingStep(S, consumer, false, phase, dependsOn));
    for (const trigger of source.lakeTriggers) add(notificationStep(S, passiveNotifications(trigger.bucket), phase, dependsOn));
  };

  // 4. The source hands over: on the critical path when it answers, as fencing follow-ups when not.
  if (planned) {
    const sourceParameterIds = pointSourceParameters("critical", flipDependsOn);
    fenceSource("critical", [...targetParameterIds, ...sourceParameterIds]);
  }

  // 5. Health: the target takes writes, runs its consumers, and producers are pointed at it.
  // It waits for every critical step, so the measured RTO covers the whole platform.
  const health = steps.filter((step) => step.phase === "critical").map((step) => step.id);
  add({
    id: HEALTH_CHECK_STEP,
    title: `Verify ${T} is healthy and active`,
    region: T,
    phase: "critical",
    dependsOn: health,
    preconditions: [],
    description: `Checks in ${T}: the Aurora writer, every consumer mapping Enabled, every endpoint parameter, the restored warehouse available${target.reportingApiUrl ? `, and GET ${target.reportingApiUrl}` : ""}. The RTO is measured until this passes.`,
    verification: "Every check passes; the report records the measured RTO.",
    rollback: "None: a failing check leaves the run failed and resumable; fix the cause and run --resume.",
    timeoutSeconds: STEP_TIMEOUT_SECONDS.health,
    permissions: [
      ...(target.aurora ? allow(globalClusterArn(target.aurora.globalClusterIdentifier), "rds:DescribeGlobalClusters") : []),
      ...target.consumers.flatMap((consumer) => allow(mappingArn(T, consumer.eventSourceMappingUuid), "lambda:GetEventSourceMapping")),
      ...target.endpointParameters.flatMap((parameter) => allow(parameterArn(T, parameter.name), "ssm:GetParameter")),
    ],
    action: {
      type: "health-check",
      ...(target.aurora ? { globalClusterIdentifier: target.aurora.globalClusterIdentifier, writerClusterArn: target.aurora.clusterArn } : {}),
      mappings: target.consumers.map((consumer) => ({ functionName: consumer.functionName, uuid: consumer.eventSourceMappingUuid })),
      parameters: target.endpointParameters.map((parameter) => ({ name: parameter.name, value: parameter.valueWhenActive })),
      ...(restoring ? { warehouseClusterIdentifier: target.warehouse!.restoreClusterIdentifier } : {}),
      ...(target.reportingApiUrl ? { reportingApiUrl: target.reportingApiUrl } : {}),
    },
  });

  if (!planned) {
    // Fencing once the old region answers: its consumers stop, its buckets stop triggering,
    // and its producers' parameter copies point at the new active region.
    const afterHealth = [HEALTH_CHECK_STEP];
    fenceSource("follow-up", afterHealth);
    pointSourceParameters("follow-up", afterHealth);
    if (source.aurora) {
      const copyId = failoverSnapshotCopyId(source.aurora.clusterIdentifier, runId);
      add({
        id: `copy-failover-snapshot:${S}`,
        title: `Keep the unplanned-failover snapshot of ${source.aurora.clusterIdentifier}`,
        region: S,
        phase: "follow-up",
        dependsOn: afterHealth,
        preconditions: [],
        description: `When ${S} answers, Aurora re-adds ${source.aurora.clusterIdentifier} as a secondary after taking an rds:unplanned-global-failover-… snapshot; CopyDBClusterSnapshot it to ${copyId} before its retention removes it (it holds the writes the failover lost).`,
        verification: `DescribeDBClusterSnapshots ${copyId} in ${S}: Status available.`,
        rollback: `Delete manual snapshot ${copyId} once the lost writes are reconciled.`,
        timeoutSeconds: STEP_TIMEOUT_SECONDS.snapshotCopy,
        permissions: allow(`arn:aws:rds:${S}:${ACCOUNT_TOKEN}:cluster-snapshot:*`, "rds:DescribeDBClusterSnapshots", "rds:CopyDBClusterSnapshot"),
        action: { type: "copy-failover-snapshot", clusterIdentifier: source.aurora.clusterIdentifier, targetSnapshotIdentifier: copyId },
      });
    }
  }
  return steps;
}
