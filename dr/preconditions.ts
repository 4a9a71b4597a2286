/**
 * Every check a promotion makes before it acts, as pure functions of the two stacks and
 * the observed state, in the spirit of ARC Region switch's plan evaluation. A failed
 * check blocks the plan and is named in the refusal; only replication lag in planned mode
 * may be overridden with --force.
 */
import { activeRegionOf, homeRegion } from "../config";
import { PlanOptions, PlanStep, PreconditionResult, PromotionMode, PromotionStacks } from "./model";
import { ObservedState } from "./state";
import { restoresWarehouse } from "./steps";

interface CheckInputs {
  readonly stacks: PromotionStacks;
  readonly mode: PromotionMode;
  readonly state: ObservedState;
  readonly options: PlanOptions;
  readonly steps: PlanStep[];
}

type Check = (inputs: CheckInputs) => Omit<PreconditionResult, "forced" | "overridable"> & { overridable?: boolean };

const result = (id: string, description: string, passed: boolean, detail: string, overridable = false) => ({ id, description, passed, detail, overridable });

const stackPair: Check = ({ stacks }) => {
  const { target, source } = stacks;
  const problems: string[] = [];
  if (target.topology.partnerStack !== source.topology.stack) problems.push(`${target.name} names partner ${target.topology.partnerStack}, not ${source.topology.stack}`);
  if (source.topology.partnerStack !== target.topology.stack) problems.push(`${source.name} names partner ${source.topology.partnerStack}, not ${target.topology.stack}`);
  if (target.topology.stage !== source.topology.stage) problems.push(`stages differ (${target.topology.stage}, ${source.topology.stage})`);
  if (target.topology.region === source.topology.region) problems.push(`both stacks are in ${target.topology.region}`);
  for (const side of [target, source]) {
    if (homeRegion(side.config) !== side.topology.region) problems.push(`${side.name}'s config deploys to ${homeRegion(side.config)} but its topology is in ${side.topology.region}`);
    if (side.topology.version !== 1) problems.push(`${side.name}'s topology has version ${String(side.topology.version)}, expected 1`);
  }
  return result("stack-pair", "The two stacks are partners of one stage in two regions", problems.length === 0, problems.length ? problems.join("; ") : `${target.name} (${target.topology.region}) ↔ ${source.name} (${source.topology.region})`);
};

const notAlreadyActive: Check = ({ stacks, state }) => {
  const { target } = stacks;
  const configActive = activeRegionOf(target.config) === target.topology.region;
  const writer = state.aurora?.members.find((member) => member.isWriter);
  const writerIsTarget = target.topology.aurora ? writer?.clusterArn === target.topology.aurora.clusterArn : true;
  const done = configActive && writerIsTarget;
  return result(
    "target-not-active",
    `${target.topology.region} is not already the active region`,
    !done,
    done ? `${target.name}'s config already names ${target.topology.region} active and it holds the writer: nothing to promote` : `config active region ${activeRegionOf(target.config)}, Aurora writer ${writer?.region ?? "unknown"}`,
  );
};

const observationErrors: Check = ({ state, mode, stacks }) => {
  const critical = mode === "planned" ? [stacks.target.topology.region, stacks.source.topology.region] : [stacks.target.topology.region];
  const errors = state.errors.filter((error) => critical.includes(error.region));
  const hint = mode === "planned" && errors.some((error) => error.region === stacks.source.topology.region) ? ` (if ${stacks.source.topology.region} is down, use --mode unplanned)` : "";
  return result(
    "observed",
    `Every region on the critical path answered (${critical.join(", ")})`,
    errors.length === 0,
    errors.length ? errors.map((error) => `${error.region} ${error.what}: ${error.message}`).join("; ") + hint : `observed ${state.regionsObserved.join(", ")}`,
  );
};

const auroraGlobalCluster: Check = ({ stacks, state }) => {
  const aurora = stacks.target.topology.aurora!;
  const member = state.aurora?.members.find((candidate) => candidate.clusterArn === aurora.clusterArn);
  const passed = state.aurora !== undefined && member !== undefined;
  return result(
    "aurora-global-cluster",
    `${aurora.clusterIdentifier} is a member of global cluster ${aurora.globalClusterIdentifier}`,
    passed,
    !state.aurora ? `global cluster ${aurora.globalClusterIdentifier} not observed` : member ? `members: ${state.aurora.members.map((m) => `${m.region}${m.isWriter ? " (writer)" : ""}`).join(", ")}` : `${aurora.clusterArn} is not among its members (detached?)`,
  );
};

const auroraNoOperation: Check = ({ stacks, state }) => {
  const failover = state.aurora?.failoverState;
  const towardTarget = failover?.toDbClusterArn === stacks.target.topology.aurora!.clusterArn;
  return result(
    "aurora-no-operation",
    "No other switchover or failover is in progress on the global cluster",
    !failover || towardTarget,
    !failover ? "FailoverState: none" : towardTarget ? `a ${failover.status} toward the target is in progress; the step waits for it` : `FailoverState ${failover.status} toward ${failover.toDbClusterArn ?? "?"}`,
  );
};

const auroraEngineParity: Check = ({ stacks, state, mode }) => {
  const aurora = state.aurora;
  if (!aurora) return result("aurora-engine-parity", "Engine major/minor/patch parity of the global cluster's members", false, "global cluster not observed");
  const compared = aurora.members.filter((member) => mode === "planned" || member.region === stacks.target.topology.region);
  const versions = [
    ...(aurora.engineVersion ? [{ who: "global cluster", version: aurora.engineVersion }] : []),
    ...compared.map((member) => ({ who: member.region, version: member.engineVersion })),
  ];
  const missing = versions.filter((entry) => entry.version === undefined).map((entry) => entry.who);
  const distinct = new Set(versions.filter((entry) => entry.version !== undefined).map((entry) => entry.version));
  const passed = missing.length === 0 && distinct.size === 1;
  return result(
    "aurora-engine-parity",
    "Engine major/minor/patch parity of the global cluster's members",
    passed,
    missing.length ? `engine version not observed for ${missing.join(", ")}` : versions.map((entry) => `${entry.who} ${entry.version}`).join(", "),
  );
};

const auroraTargetInstance: Check = ({ stacks, state }) => {
  const aurora = stacks.target.topology.aurora!;
  const member = state.aurora?.members.find((candidate) => candidate.clusterArn === aurora.clusterArn);
  const available = (member?.instances ?? []).filter((instance) => instance.status === "available");
  return result(
    "aurora-target-instance",
    `${aurora.clusterIdentifier} has an available instance (a headless secondary cannot be promoted)`,
    available.length > 0,
    member?.instances === undefined ? "instances not observed" : member.instances.length === 0 ? "headless: no instance" : member.instances.map((instance) => `${instance.identifier} ${instance.status}`).join(", "),
  );
};

function lagCheck(id: string, description: string, store: "aurora" | "s3" | "dynamodb", limitSeconds: number, expected: boolean): Check {
  return ({ state }) => {
    const lags = state.lags.filter((lag) => lag.store === store);
    if (lags.length === 0) return result(id, description, !expected, expected ? "no replication metric was read" : "not measured (no replication configured)", true);
    const over = lags.filter((lag) => lag.seconds === undefined ? expected : lag.seconds > limitSeconds);
    const detail = lags
      .map((lag) => `${lag.resource}: ${lag.seconds === undefined ? "no datapoint" : `${lag.seconds}s`}${lag.pendingOperations !== undefined ? `, ${lag.pendingOperations} operations pending` : ""}`)
      .join("; ");
    return result(id, description, over.length === 0, `${detail} (limit ${limitSeconds}s)`, true);
  };
}

const targetConsumers: Check = ({ stacks, state }) => mappingsExist("target-consumers", stacks.target.topology.region, stacks.target.topology.consumers, state);
const sourceConsumers: Check = ({ stacks, state }) => mappingsExist("source-consumers", stacks.source.topology.region, stacks.source.topology.consumers, state);

function mappingsExist(id: string, region: string, consumers: PromotionStacks["target"]["topology"]["consumers"], state: ObservedState) {
  const missing = consumers.filter((consumer) => {
    const observed = state.mappings.find((mapping) => mapping.uuid === consumer.eventSourceMappingUuid && mapping.region === region);
    return !observed || observed.state === "absent";
  });
  const detail = consumers.length === 0
    ? "the topology declares no consumer"
    : missing.length
      ? `missing in ${region}: ${missing.map((consumer) => `${consumer.name} (${consumer.eventSourceMappingUuid})`).join(", ")}`
      : consumers.map((consumer) => `${consumer.name} ${state.mappings.find((mapping) => mapping.uuid === consumer.eventSourceMappingUuid && mapping.region === region)?.state}`).join(", ");
  return result(id, `The consumers' event source mappings exist in ${region}`, consumers.length > 0 && missing.length === 0, detail);
}

function parametersExist(id: string, region: string, names: string[], state: ObservedState) {
  const missing = names.filter((name) => {
    const observed = state.parameters.find((parameter) => parameter.name === name && parameter.region === region);
    return !observed || observed.value === null;
  });
  return result(id, `The producers' endpoint parameters exist in ${region}`, missing.length === 0, missing.length ? `missing in ${region}: ${missing.join(", ")}` : names.length ? names.join(", ") : "none declared");
}

const targetParameters: Check = ({ stacks, state }) => parametersExist("target-parameters", stacks.target.topology.region, stacks.target.topology.endpointParameters.map((p) => p.name), state);
const sourceParameters: Check = ({ stacks, state }) => parametersExist("source-parameters", stacks.source.topology.region, stacks.source.topology.endpointParameters.map((p) => p.name), state);

/** The newest available copied snapshot of the source cluster in the target region. */
export function latestWarehouseSnapshot(state: ObservedState, clusterIdentifier: string) {
  return (state.warehouse?.snapshots ?? [])
    .filter((snapshot) => snapshot.clusterIdentifier === clusterIdentifier && snapshot.status === "available")
    .sort((a, b) => b.createdAt.localeCompare(a.createdAt))[0];
}

const warehouseSnapshot: Check = ({ stacks, state }) => {
  const warehouse = stacks.target.topology.warehouse!;
  if (state.warehouse?.restoredCluster) {
    return result("warehouse-snapshot", `A copied warehouse snapshot exists in ${stacks.target.topology.region}`, true, `cluster ${state.warehouse.restoredCluster.identifier} already exists (${state.warehouse.restoredCluster.status}); the restore is skipped`);
  }
  const latest = latestWarehouseSnapshot(state, warehouse.restoreClusterIdentifier);
  return result(
    "warehouse-snapshot",
    `A copied warehouse snapshot exists in ${stacks.target.topology.region}`,
    latest !== undefined,
    latest ? `${latest.identifier} taken ${latest.createdAt}` : `no available snapshot of ${warehouse.restoreClusterIdentifier} in ${stacks.target.topology.region}`,
  );
};

const callerAllowed: Check = ({ state, steps }) => {
  if (!state.caller) return result("iam", "The caller may perform every action of the plan", false, "caller identity not observed (sts:GetCallerIdentity)");
  const denied = state.permissions.filter((permission) => !permission.allowed);
  const needed = new Set(steps.flatMap((step) => step.permissions.map((permission) => permission.action)));
  const checked = new Set(state.permissions.map((permission) => permission.action));
  const unchecked = [...needed].filter((action) => !checked.has(action));
  const passed = denied.length === 0 && unchecked.length === 0;
  return result(
    "iam",
    "The caller may perform every action of the plan",
    passed,
    denied.length
      ? `${state.caller.arn} is denied: ${denied.map((permission) => `${permission.action} on ${permission.resource} (${permission.decision})`).join("; ")}`
      : unchecked.length
        ? `not simulated: ${unchecked.join(", ")}`
        : `${state.caller.arn}: ${checked.size} actions allowed`,
  );
};

/** Runs every check that applies to this mode and topology, in a stable order. */
export function checkPreconditions(inputs: CheckInputs): PreconditionResult[] {
  const { stacks, mode, options } = inputs;
  const planned = mode === "planned";
  const target = stacks.target;
  const checks: Check[] = [stackPair, notAlreadyActive, observationErrors];
  if (target.topology.aurora) {
    checks.push(auroraGlobalCluster, auroraNoOperation, auroraEngineParity, auroraTargetInstance);
    if (planned) checks.push(lagCheck("aurora-lag", `Aurora AuroraGlobalDBRPOLag within drRpoStreamSeconds (${target.config.drRpoStreamSeconds}s)`, "aurora", target.config.drRpoStreamSeconds, true));
  }
  if (planned) {
    const s3Expected = stacks.source.topology.lakeReplication.some((rule) => rule.enabled && rule.destinationRegion === target.topology.region) && stacks.source.config.s3ReplicationTimeControl;
    checks.push(lagCheck("s3-lag", `S3 ReplicationLatency within drRpoBatchMinutes (${target.config.drRpoBatchMinutes} min)`, "s3", target.config.drRpoBatchMinutes * 60, s3Expected));
    const ddbExpected = stacks.source.topology.speedLayerTable.replicaRegions.includes(target.topology.region);
    checks.push(lagCheck("dynamodb-lag", `DynamoDB ReplicationLatency within drRpoStreamSeconds (${target.config.drRpoStreamSeconds}s)`, "dynamodb", target.config.drRpoStreamSeconds, ddbExpected));
  }
  checks.push(targetConsumers, targetParameters);
  if (planned) checks.push(sourceConsumers, sourceParameters);
  if (restoresWarehouse(stacks)) checks.push(warehouseSnapshot);
  checks.push(callerAllowed);
  return checks.map((check) => {
    const outcome = check(inputs);
    const overridable = outcome.overridable === true && planned;
    return { ...outcome, overridable, forced: !outcome.passed && overridable && options.force };
  });
}
