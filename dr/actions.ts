/**
 * What each step does against AWS. Every action reads the current state first and acts
 * only when the state is not already the one wanted, so a step that ran (or half ran)
 * before a crash is never repeated on --resume: it finds its effect and only verifies.
 */
import { CopyDBClusterSnapshotCommand, DescribeDBClusterSnapshotsCommand, DescribeGlobalClustersCommand, FailoverGlobalClusterCommand, GlobalCluster, SwitchoverGlobalClusterCommand } from "@aws-sdk/client-rds";
import { GetEventSourceMappingCommand, UpdateEventSourceMappingCommand } from "@aws-sdk/client-lambda";
import { GetBucketNotificationConfigurationCommand, NotificationConfiguration, PutBucketNotificationConfigurationCommand } from "@aws-sdk/client-s3";
import { GetParameterCommand, PutParameterCommand } from "@aws-sdk/client-ssm";
import { DescribeClustersCommand, RestoreFromClusterSnapshotCommand } from "@aws-sdk/client-redshift";
import { ClientPool, RegionalClients } from "./clients";
import { errorName } from "./errors";
import { PlanStep, StepAction } from "./model";
import { Clock, PollSettings, pollUntil } from "./poll";
import { LakeTriggerTopology } from "./topology";

/** GET a URL and return its HTTP status (injected: the simulation and tests answer locally). */
export type HttpCheck = (url: string) => Promise<number>;

export interface ActionContext {
  readonly clients: ClientPool;
  readonly clock: Clock;
  readonly poll?: PollSettings;
  readonly httpCheck: HttpCheck;
}

export interface ActionOutcome {
  /** "pending": the step cannot act yet (a follow-up waiting for AWS to produce something). */
  readonly status: "succeeded" | "pending";
  /** Whether this attempt issued the step's mutating call. */
  readonly actionTaken: boolean;
  readonly detail: string;
  readonly outputs?: Record<string, string>;
}

type Handler<T extends StepAction["type"]> = (action: Extract<StepAction, { type: T }>, step: PlanStep, clients: RegionalClients, context: ActionContext) => Promise<ActionOutcome>;

const wait = (step: PlanStep, context: ActionContext, what: string, check: () => Promise<{ done: boolean; observed: string }>) =>
  pollUntil(what, check, step.timeoutSeconds * 1000, context.clock, context.poll);
/** Polls `read` until it returns `want`, within the step's timeout; resolves to the last value read. */
const waitForValue = (step: PlanStep, context: ActionContext, what: string, read: () => Promise<string>, want: string) =>
  wait(step, context, what, async () => {
    const current = await read();
    return { done: current === want, observed: current };
  });

// ---- Aurora -----------------------------------------------------------------------------------

async function describeGlobal(clients: RegionalClients, id: string): Promise<GlobalCluster> {
  const global = (await clients.rds.send(new DescribeGlobalClustersCommand({ GlobalClusterIdentifier: id }))).GlobalClusters?.[0];
  if (!global) throw new Error(`Global cluster ${id} not found in ${clients.region}`);
  return global;
}

/** The global cluster settled with `writerArn` as its writer: no FailoverState, and IsWriter on that member. */
export function writerSettled(global: GlobalCluster, writerArn: string): boolean {
  const member = global.GlobalClusterMembers?.find((candidate) => candidate.DBClusterArn === writerArn);
  return !global.FailoverState?.Status && member?.IsWriter === true;
}

const describeRoles = (global: GlobalCluster) =>
  `${global.FailoverState?.Status ? `FailoverState ${global.FailoverState.Status}; ` : ""}writer ${global.GlobalClusterMembers?.find((member) => member.IsWriter)?.DBClusterArn ?? "none"}`;

const promoteAurora: Handler<"aurora-switchover" | "aurora-failover"> = async (action, step, clients, context) => {
  const { globalClusterIdentifier: id, targetClusterArn: target } = action;
  let global = await describeGlobal(clients, id);
  if (writerSettled(global, target)) return { status: "succeeded", actionTaken: false, detail: `already the writer: ${describeRoles(global)}` };
  let actionTaken = false;
  const inProgress = global.FailoverState?.Status;
  if (inProgress && global.FailoverState?.ToDbClusterArn !== target) {
    throw new Error(`Global cluster ${id} has a ${inProgress} toward ${global.FailoverState?.ToDbClusterArn} in progress; refusing to start another`);
  }
  if (!inProgress) {
    if (action.type === "aurora-switchover") {
      await clients.rds.send(new SwitchoverGlobalClusterCommand({ GlobalClusterIdentifier: id, TargetDbClusterIdentifier: target }));
    } else {
      await clients.rds.send(new FailoverGlobalClusterCommand({ GlobalClusterIdentifier: id, TargetDbClusterIdentifier: target, AllowDataLoss: true }));
    }
    actionTaken = true;
  }
  const observed = await wait(step, context, `${id} to settle with ${target} as writer`, async () => {
    global = await describeGlobal(clients, id);
    return { done: writerSettled(global, target), observed: describeRoles(global) };
  });
  return { status: "succeeded", actionTaken, detail: `${actionTaken ? (action.type === "aurora-switchover" ? "switched over" : "failed over") : "joined the operation in progress"}; ${observed}` };
};

// ---- Lambda event source mappings -------------------------------------------------------------

const STABLE_MAPPING_STATES = new Set(["Enabled", "Disabled"]);

const setMappingState: Handler<"mapping-state"> = async (action, step, clients, context) => {
  const want = action.enabled ? "Enabled" : "Disabled";
  const wantTransition = action.enabled ? "Enabling" : "Disabling";
  const read = async () => (await clients.lambda.send(new GetEventSourceMappingCommand({ UUID: action.uuid }))).State ?? "unknown";
  let state = await read();
  if (state === want) return { status: "succeeded", actionTaken: false, detail: `already ${want}` };
  let actionTaken = false;
  if (state !== wantTransition) {
    if (!STABLE_MAPPING_STATES.has(state)) {
      // Lambda refuses updates while a mapping is changing (ResourceInUseException): let it settle first.
      state = await wait(step, context, `mapping ${action.uuid} to settle`, async () => {
        const current = await read();
        return { done: STABLE_MAPPING_STATES.has(current), observed: current };
      });
    }
    if (state !== want) {
      await clients.lambda.send(new UpdateEventSourceMappingCommand({ UUID: action.uuid, Enabled: action.enabled }));
      actionTaken = true;
    }
  }
  const observed = await waitForValue(step, context, `mapping ${action.uuid} to be ${want}`, read, want);
  return { status: "succeeded", actionTaken, detail: `${action.functionName}: ${observed}` };
};

// ---- S3 lake notifications --------------------------------------------------------------------

/** The S3 NotificationConfiguration a LakeTriggerTopology declares. */
export function toNotificationConfiguration(trigger: LakeTriggerTopology): NotificationConfiguration {
  const filter = (prefix?: string, suffix?: string) => {
    const rules = [...(prefix ? [{ Name: "prefix" as const, Value: prefix }] : []), ...(suffix ? [{ Name: "suffix" as const, Value: suffix }] : [])];
    return rules.length ? { Filter: { Key: { FilterRules: rules } } } : {};
  };
  return {
    ...(trigger.lambdaFunctions.length
      ? { LambdaFunctionConfigurations: trigger.lambdaFunctions.map((fn) => ({ LambdaFunctionArn: fn.functionArn, Events: [...fn.events] as NonNullable<NotificationConfiguration["LambdaFunctionConfigurations"]>[number]["Events"], ...filter(fn.filterPrefix, fn.filterSuffix) })) }
      : {}),
    ...(trigger.topics.length
      ? { TopicConfigurations: trigger.topics.map((topic) => ({ TopicArn: topic.topicArn, Events: [...topic.events] as NonNullable<NotificationConfiguration["TopicConfigurations"]>[number]["Events"], ...filter(topic.filterPrefix, topic.filterSuffix) })) }
      : {}),
    ...(trigger.eventBridge ? { EventBridgeConfiguration: {} } : {}),
  };
}

/** A comparable form: destinations, sorted events and filter rules; ids and ordering ignored. */
export function notificationFingerprint(configuration: NotificationConfiguration): string {
  const rules = (filter?: { Key?: { FilterRules?: { Name?: string; Value?: string }[] } }) =>
    (filter?.Key?.FilterRules ?? []).map((rule) => `${(rule.Name ?? "").toLowerCase()}=${rule.Value ?? ""}`).sort().join("&");
  const lambdas = (configuration.LambdaFunctionConfigurations ?? []).map((c) => `lambda:${c.LambdaFunctionArn}:${[...(c.Events ?? [])].sort().join(",")}:${rules(c.Filter)}`);
  const topics = (configuration.TopicConfigurations ?? []).map((c) => `topic:${c.TopicArn}:${[...(c.Events ?? [])].sort().join(",")}:${rules(c.Filter)}`);
  const queues = (configuration.QueueConfigurations ?? []).map((c) => `queue:${c.QueueArn}:${[...(c.Events ?? [])].sort().join(",")}:${rules(c.Filter)}`);
  return JSON.stringify([...lambdas, ...topics, ...queues].sort().concat(configuration.EventBridgeConfiguration ? ["eventbridge"] : []));
}

const putNotifications: Handler<"lake-notifications"> = async (action, step, clients, context) => {
  const desired = toNotificationConfiguration(action.configuration);
  const want = notificationFingerprint(desired);
  const read = async () => notificationFingerprint(await clients.s3.send(new GetBucketNotificationConfigurationCommand({ Bucket: action.bucket })));
  if ((await read()) === want) return { status: "succeeded", actionTaken: false, detail: "already in place" };
  await clients.s3.send(new PutBucketNotificationConfigurationCommand({ Bucket: action.bucket, NotificationConfiguration: desired }));
  await waitForValue(step, context, `notifications of ${action.bucket}`, read, want);
  return { status: "succeeded", actionTaken: true, detail: `${(desired.LambdaFunctionConfigurations ?? []).length} Lambda, ${(desired.TopicConfigurations ?? []).length} SNS destinations` };
};

// ---- SSM endpoint parameters ------------------------------------------------------------------

const putParameter: Handler<"endpoint-parameter"> = async (action, step, clients, context) => {
  const read = async () => (await clients.ssm.send(new GetParameterCommand({ Name: action.name }))).Parameter;
  const current = await read();
  if (current?.Value === action.value) return { status: "succeeded", actionTaken: false, detail: `already ${action.value}` };
  await clients.ssm.send(new PutParameterCommand({ Name: action.name, Value: action.value, Overwrite: true, Type: current?.Type ?? "String" }));
  await waitForValue(step, context, `${action.name} = ${action.value}`, async () => (await read())?.Value ?? "(absent)", action.value);
  return { status: "succeeded", actionTaken: true, detail: `${current?.Value ?? "(absent)"} → ${action.value}` };
};

// ---- Redshift restore -------------------------------------------------------------------------

async function clusterStatus(clients: RegionalClients, identifier: string): Promise<string | undefined> {
  try {
    return (await clients.redshift.send(new DescribeClustersCommand({ ClusterIdentifier: identifier }))).Clusters?.[0]?.ClusterStatus ?? "unknown";
  } catch (error) {
    if (errorName(error) === "ClusterNotFoundFault") return undefined;
    throw error;
  }
}

const restoreWarehouse: Handler<"warehouse-restore"> = async (action, step, clients, context) => {
  const existing = await clusterStatus(clients, action.clusterIdentifier);
  let actionTaken = false;
  if (existing === undefined) {
    if (action.snapshotIdentifier === "") throw new Error(`No copied snapshot to restore ${action.clusterIdentifier} from in ${clients.region}`);
    await clients.redshift.send(
      // Exactly what the standby stack declared: it adopts this cluster once its config names the snapshot.
      new RestoreFromClusterSnapshotCommand({
        PubliclyAccessible: false,
        ...action.settings,
        ClusterIdentifier: action.clusterIdentifier,
        SnapshotIdentifier: action.snapshotIdentifier,
      }),
    );
    actionTaken = true;
  } else if (existing === "available") {
    return { status: "succeeded", actionTaken: false, detail: `${action.clusterIdentifier} already available`, outputs: { snapshotIdentifier: action.snapshotIdentifier } };
  }
  const observed = await waitForValue(step, context, `${action.clusterIdentifier} to be available`, async () => (await clusterStatus(clients, action.clusterIdentifier)) ?? "absent", "available");
  return { status: "succeeded", actionTaken, detail: `${action.clusterIdentifier} ${observed} from ${action.snapshotIdentifier}`, outputs: { snapshotIdentifier: action.snapshotIdentifier } };
};

// ---- Health -----------------------------------------------------------------------------------

const checkHealth: Handler<"health-check"> = async (action, step, clients, context) => {
  const failures = async (): Promise<string[]> => {
    const problems: string[] = [];
    if (action.globalClusterIdentifier && action.writerClusterArn) {
      const global = await describeGlobal(clients, action.globalClusterIdentifier);
      if (!writerSettled(global, action.writerClusterArn)) problems.push(`aurora: ${describeRoles(global)}`);
    }
    for (const mapping of action.mappings) {
      const state = (await clients.lambda.send(new GetEventSourceMappingCommand({ UUID: mapping.uuid }))).State;
      if (state !== "Enabled") problems.push(`${mapping.functionName} mapping ${state}`);
    }
    for (const parameter of action.parameters) {
      const value = (await clients.ssm.send(new GetParameterCommand({ Name: parameter.name }))).Parameter?.Value;
      if (value !== parameter.value) problems.push(`${parameter.name} = ${value}`);
    }
    if (action.warehouseClusterIdentifier) {
      const status = await clusterStatus(clients, action.warehouseClusterIdentifier);
      if (status !== "available") problems.push(`warehouse ${status ?? "absent"}`);
    }
    if (action.reportingApiUrl) {
      const status = await context.httpCheck(action.reportingApiUrl).catch((error: Error) => `${error.name}: ${error.message}`);
      if (typeof status !== "number" || status < 200 || status >= 300) problems.push(`reporting API ${status}`);
    }
    return problems;
  };
  await wait(step, context, `${clients.region} to be healthy`, async () => {
    const problems = await failures();
    return { done: problems.length === 0, observed: problems.join("; ") || "healthy" };
  });
  const checks = [action.writerClusterArn ? "writer" : "", `${action.mappings.length} mappings`, `${action.parameters.length} parameters`, action.warehouseClusterIdentifier ? "warehouse" : "", action.reportingApiUrl ? "reporting API" : ""].filter(Boolean);
  return { status: "succeeded", actionTaken: false, detail: `healthy: ${checks.join(", ")}` };
};

// ---- Follow-up: keep the unplanned-failover snapshot -------------------------------------------

export const UNPLANNED_FAILOVER_SNAPSHOT_PREFIX = "rds:unplanned-global-failover-";

const copyFailoverSnapshot: Handler<"copy-failover-snapshot"> = async (action, step, clients, context) => {
  const statusOf = async (identifier: string) => {
    try {
      return (await clients.rds.send(new DescribeDBClusterSnapshotsCommand({ DBClusterSnapshotIdentifier: identifier }))).DBClusterSnapshots?.[0]?.Status;
    } catch (error) {
      if (errorName(error) === "DBClusterSnapshotNotFoundFault") return undefined;
      throw error;
    }
  };
  let actionTaken = false;
  let source = "";
  if ((await statusOf(action.targetSnapshotIdentifier)) === undefined) {
    const snapshots = (await clients.rds.send(new DescribeDBClusterSnapshotsCommand({ DBClusterIdentifier: action.clusterIdentifier }))).DBClusterSnapshots ?? [];
    const failoverSnapshot = snapshots
      .filter((snapshot) => snapshot.DBClusterSnapshotIdentifier?.startsWith(UNPLANNED_FAILOVER_SNAPSHOT_PREFIX))
      .sort((a, b) => new Date(b.SnapshotCreateTime ?? 0).getTime() - new Date(a.SnapshotCreateTime ?? 0).getTime())[0];
    if (!failoverSnapshot) return { status: "pending", actionTaken: false, detail: `no ${UNPLANNED_FAILOVER_SNAPSHOT_PREFIX}… snapshot of ${action.clusterIdentifier} yet` };
    if (failoverSnapshot.Status !== "available") return { status: "pending", actionTaken: false, detail: `${failoverSnapshot.DBClusterSnapshotIdentifier} is ${failoverSnapshot.Status}` };
    source = failoverSnapshot.DBClusterSnapshotIdentifier!;
    await clients.rds.send(new CopyDBClusterSnapshotCommand({ SourceDBClusterSnapshotIdentifier: source, TargetDBClusterSnapshotIdentifier: action.targetSnapshotIdentifier, CopyTags: true }));
    actionTaken = true;
  }
  const observed = await waitForValue(step, context, `${action.targetSnapshotIdentifier} to be available`, async () => (await statusOf(action.targetSnapshotIdentifier)) ?? "absent", "available");
  return { status: "succeeded", actionTaken, detail: `${action.targetSnapshotIdentifier} ${observed}${source ? ` (copy of ${source})` : ""}`, outputs: { snapshotIdentifier: action.targetSnapshotIdentifier } };
};

const HANDLERS: { [T in StepAction["type"]]: Handler<T> } = {
  "aurora-switchover": (action, step, clients, context) => promoteAurora(action, step, clients, context),
  "aurora-failover": (action, step, clients, context) => promoteAurora(action, step, clients, context),
  "mapping-state": setMappingState,
  "lake-notifications": putNotifications,
  "endpoint-parameter": putParameter,
  "warehouse-restore": restoreWarehouse,
  "health-check": checkHealth,
  "copy-failover-snapshot": copyFailoverSnapshot,
};

export function runStepAction(step: PlanStep, context: ActionContext): Promise<ActionOutcome> {
  const handler = HANDLERS[step.action.type] as Handler<StepAction["type"]>;
  return handler(step.action, step, context.clients.forRegion(step.region), context);
}
