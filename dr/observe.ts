/**
 * Observers: build the ObservedState snapshot from AWS. Planned mode reads both regions;
 * unplanned mode reads the target region only, so nothing on the critical path waits on a
 * failed region. A failed call is recorded in `errors` (the planner turns it into a
 * blocker when its region is on the critical path), never retried here.
 *
 * Where each metric lives (AWS docs, "Monitoring Aurora global databases", "Monitoring
 * global tables", "S3 replication metrics"): AuroraGlobalDBRPOLag is published for the
 * secondary cluster in its own region (milliseconds); DynamoDB ReplicationLatency in the
 * replica's source region with dimension ReceivingRegion (milliseconds); S3
 * ReplicationLatency (seconds) and OperationsPendingReplication in the source bucket's
 * region, per SourceBucket/DestinationBucket/RuleId.
 */
import { GetMetricDataCommand, MetricDataQuery } from "@aws-sdk/client-cloudwatch";
import { SimulatePrincipalPolicyCommand } from "@aws-sdk/client-iam";
import { GetEventSourceMappingCommand } from "@aws-sdk/client-lambda";
import { DescribeDBClustersCommand, DescribeDBInstancesCommand, DescribeGlobalClustersCommand } from "@aws-sdk/client-rds";
import { DescribeClusterSnapshotsCommand, DescribeClustersCommand } from "@aws-sdk/client-redshift";
import { GetParameterCommand } from "@aws-sdk/client-ssm";
import { GetCallerIdentityCommand } from "@aws-sdk/client-sts";
import { ClientPool } from "./clients";
import { errorName, messageOf } from "./errors";
import { ACCOUNT_TOKEN, PromotionMode, PromotionStacks, StepPermission } from "./model";
import { ObservationError, ObservedAurora, ObservedLag, ObservedMapping, ObservedParameter, ObservedPermission, ObservedState, ObservedWarehouse } from "./state";
import { restoresWarehouse } from "./steps";

export interface ObserveInputs {
  readonly stacks: PromotionStacks;
  readonly mode: PromotionMode;
  readonly clients: ClientPool;
  /** The actions the plan will take, per resource (steps' permissions plus the journal's). */
  readonly permissions: StepPermission[];
  readonly now?: () => Date;
  /** How far back a metric datapoint still counts. @default 15 minutes */
  readonly metricWindowMinutes?: number;
}

/** The region in an ARN (arn:partition:service:region:account:...). */
export const regionOfArn = (arn: string) => arn.split(":")[3] ?? "";
const clusterIdOfArn = (arn: string) => arn.split(":").slice(6).join(":");

/** SimulatePrincipalPolicy takes the role, not the assumed-role session STS reports. */
export function principalArnOf(callerArn: string): string {
  const session = callerArn.match(/^arn:([^:]+):sts::(\d+):assumed-role\/([^/]+)\/.+$/);
  return session ? `arn:${session[1]}:iam::${session[2]}:role/${session[3]}` : callerArn;
}


export async function observeState(inputs: ObserveInputs): Promise<ObservedState> {
  const { stacks, mode, clients } = inputs;
  const now = inputs.now ?? (() => new Date());
  const T = stacks.target.topology.region;
  const S = stacks.source.topology.region;
  const regions = mode === "planned" ? [T, S] : [T];
  const errors: ObservationError[] = [];
  const attempt = async <R>(region: string, what: string, read: () => Promise<R>): Promise<R | undefined> => {
    try {
      return await read();
    } catch (error) {
      errors.push({ region, what, message: messageOf(error) });
      return undefined;
    }
  };
  const observedAt = now();
  const windowMs = (inputs.metricWindowMinutes ?? 15) * 60_000;

  const caller = await attempt(T, "sts:GetCallerIdentity", async () => {
    const identity = await clients.forRegion(T).sts.send(new GetCallerIdentityCommand({}));
    return { arn: identity.Arn ?? "", account: identity.Account ?? "" };
  });

  const [aurora, lags, mappings, parameters, warehouse, permissions] = await Promise.all([
    observeAurora(),
    observeLags(),
    observeMappings(),
    observeParameters(),
    observeWarehouse(),
    observePermissions(),
  ]);
  return {
    observedAt: observedAt.toISOString(),
    mode,
    regionsObserved: regions,
    ...(caller ? { caller } : {}),
    ...(aurora ? { aurora } : {}),
    lags,
    mappings,
    parameters,
    ...(warehouse ? { warehouse } : {}),
    permissions,
    errors,
  };

  async function observeAurora(): Promise<ObservedAurora | undefined> {
    const topology = stacks.target.topology.aurora;
    if (!topology) return undefined;
    const described = await attempt(T, "rds:DescribeGlobalClusters", () =>
      clients.forRegion(T).rds.send(new DescribeGlobalClustersCommand({ GlobalClusterIdentifier: topology.globalClusterIdentifier })),
    );
    const global = described?.GlobalClusters?.[0];
    if (!global) return undefined;
    const members = await Promise.all(
      (global.GlobalClusterMembers ?? []).map(async (member) => {
        const clusterArn = member.DBClusterArn ?? "";
        const region = regionOfArn(clusterArn);
        const base = { clusterArn, region, isWriter: member.IsWriter === true };
        if (!regions.includes(region)) return base;
        const rds = clients.forRegion(region).rds;
        const cluster = await attempt(region, `rds:DescribeDBClusters ${clusterIdOfArn(clusterArn)}`, async () => (await rds.send(new DescribeDBClustersCommand({ DBClusterIdentifier: clusterArn }))).DBClusters?.[0]);
        const instances = clusterArn === topology.clusterArn
          ? await attempt(region, `rds:DescribeDBInstances ${clusterIdOfArn(clusterArn)}`, async () =>
              ((await rds.send(new DescribeDBInstancesCommand({ Filters: [{ Name: "db-cluster-id", Values: [clusterArn] }] }))).DBInstances ?? []).map((instance) => ({
                identifier: instance.DBInstanceIdentifier ?? "",
                status: instance.DBInstanceStatus ?? "",
              })),
            )
          : undefined;
        return {
          ...base,
          ...(cluster?.EngineVersion ? { engineVersion: cluster.EngineVersion } : {}),
          ...(cluster?.Status ? { status: cluster.Status } : {}),
          ...(instances ? { instances } : {}),
        };
      }),
    );
    const failover = global.FailoverState;
    return {
      globalClusterIdentifier: global.GlobalClusterIdentifier ?? topology.globalClusterIdentifier,
      ...(global.EngineVersion ? { engineVersion: global.EngineVersion } : {}),
      ...(global.Status ? { status: global.Status } : {}),
      ...(failover?.Status
        ? {
            failoverState: {
              status: failover.Status,
              ...(failover.FromDbClusterArn ? { fromDbClusterArn: failover.FromDbClusterArn } : {}),
              ...(failover.ToDbClusterArn ? { toDbClusterArn: failover.ToDbClusterArn } : {}),
              ...(failover.IsDataLossAllowed !== undefined ? { isDataLossAllowed: failover.IsDataLossAllowed } : {}),
            },
          }
        : {}),
      members,
    };
  }

  async function observeLags(): Promise<ObservedLag[]> {
    interface Wanted { lag: Omit<ObservedLag, "seconds" | "at" | "pendingOperations">; query: MetricDataQuery; toSeconds: number; pending?: MetricDataQuery }
    const wanted: Wanted[] = [];
    const metric = (id: string, namespace: string, name: string, dimensions: Record<string, string>, stat = "Maximum"): MetricDataQuery => ({
      Id: id,
      MetricStat: { Metric: { Namespace: namespace, MetricName: name, Dimensions: Object.entries(dimensions).map(([Name, Value]) => ({ Name, Value })) }, Period: 60, Stat: stat },
      ReturnData: true,
    });
    const target = stacks.target.topology;
    const source = stacks.source.topology;
    if (target.aurora) {
      wanted.push({
        lag: { store: "aurora", resource: target.aurora.clusterIdentifier, metric: "AuroraGlobalDBRPOLag", region: T },
        query: metric(`aurora${wanted.length}`, "AWS/RDS", "AuroraGlobalDBRPOLag", { DBClusterIdentifier: target.aurora.clusterIdentifier }),
        toSeconds: 1 / 1000,
      });
    }
    if (mode === "planned") {
      for (const rule of source.lakeReplication.filter((candidate) => candidate.enabled && candidate.destinationRegion === T)) {
        const dimensions = { SourceBucket: rule.sourceBucket, DestinationBucket: rule.destinationBucket, RuleId: rule.ruleId };
        wanted.push({
          lag: { store: "s3", resource: `${rule.sourceBucket}→${rule.destinationBucket} (${rule.ruleId})`, metric: "ReplicationLatency", region: S },
          query: metric(`s3lag${wanted.length}`, "AWS/S3", "ReplicationLatency", dimensions),
          pending: metric(`s3ops${wanted.length}`, "AWS/S3", "OperationsPendingReplication", dimensions),
          toSeconds: 1,
        });
      }
      if (source.speedLayerTable.replicaRegions.includes(T)) {
        wanted.push({
          lag: { store: "dynamodb", resource: `${source.speedLayerTable.name} → ${T}`, metric: "ReplicationLatency", region: S },
          query: metric(`ddb${wanted.length}`, "AWS/DynamoDB", "ReplicationLatency", { TableName: source.speedLayerTable.name, ReceivingRegion: T }),
          toSeconds: 1 / 1000,
        });
      }
    }
    const byRegion = new Map<string, Wanted[]>();
    for (const entry of wanted) byRegion.set(entry.lag.region, [...(byRegion.get(entry.lag.region) ?? []), entry]);
    const results: ObservedLag[] = [];
    await Promise.all(
      [...byRegion.entries()].map(async ([region, entries]) => {
        const queries = entries.flatMap((entry) => (entry.pending ? [entry.query, entry.pending] : [entry.query]));
        const data = await attempt(region, "cloudwatch:GetMetricData", () =>
          clients.forRegion(region).cloudwatch.send(
            new GetMetricDataCommand({ MetricDataQueries: queries, StartTime: new Date(observedAt.getTime() - windowMs), EndTime: observedAt, ScanBy: "TimestampDescending" }),
          ),
        );
        for (const entry of entries) {
          const latest = (id: string) => {
            const series = data?.MetricDataResults?.find((candidate) => candidate.Id === id);
            return series?.Values?.length ? { value: series.Values[0], at: series.Timestamps?.[0] } : undefined;
          };
          const value = data ? latest(entry.query.Id!) : undefined;
          const pending = entry.pending && data ? latest(entry.pending.Id!) : undefined;
          results.push({
            ...entry.lag,
            ...(value ? { seconds: Math.round(value.value * entry.toSeconds * 1000) / 1000, ...(value.at ? { at: new Date(value.at).toISOString() } : {}) } : {}),
            ...(pending ? { pendingOperations: pending.value } : {}),
          });
        }
      }),
    );
    return results;
  }

  async function observeMappings(): Promise<ObservedMapping[]> {
    const sides = mode === "planned" ? [stacks.target.topology, stacks.source.topology] : [stacks.target.topology];
    const reads = sides.flatMap((topology) =>
      topology.consumers.map(async (consumer): Promise<ObservedMapping | undefined> => {
        const base = { region: topology.region, consumer: consumer.name, functionName: consumer.functionName, uuid: consumer.eventSourceMappingUuid };
        try {
          const mapping = await clients.forRegion(topology.region).lambda.send(new GetEventSourceMappingCommand({ UUID: consumer.eventSourceMappingUuid }));
          return { ...base, state: mapping.State ?? "unknown" };
        } catch (error) {
          if (errorName(error) === "ResourceNotFoundException") return { ...base, state: "absent" };
          errors.push({ region: topology.region, what: `lambda:GetEventSourceMapping ${consumer.eventSourceMappingUuid}`, message: messageOf(error) });
          return undefined;
        }
      }),
    );
    return (await Promise.all(reads)).filter((mapping): mapping is ObservedMapping => mapping !== undefined);
  }

  async function observeParameters(): Promise<ObservedParameter[]> {
    const sides = mode === "planned" ? [stacks.target.topology, stacks.source.topology] : [stacks.target.topology];
    const reads = sides.flatMap((topology) =>
      topology.endpointParameters.map(async (parameter): Promise<ObservedParameter | undefined> => {
        try {
          const read = await clients.forRegion(topology.region).ssm.send(new GetParameterCommand({ Name: parameter.name }));
          return { region: topology.region, name: parameter.name, value: read.Parameter?.Value ?? null };
        } catch (error) {
          if (errorName(error) === "ParameterNotFound") return { region: topology.region, name: parameter.name, value: null };
          errors.push({ region: topology.region, what: `ssm:GetParameter ${parameter.name}`, message: messageOf(error) });
          return undefined;
        }
      }),
    );
    return (await Promise.all(reads)).filter((parameter): parameter is ObservedParameter => parameter !== undefined);
  }

  async function observeWarehouse(): Promise<ObservedWarehouse | undefined> {
    if (!restoresWarehouse(stacks)) return undefined;
    const identifier = stacks.target.topology.warehouse!.restoreClusterIdentifier;
    const redshift = clients.forRegion(T).redshift;
    const snapshots = await attempt(T, "redshift:DescribeClusterSnapshots", async () =>
      ((await redshift.send(new DescribeClusterSnapshotsCommand({ ClusterIdentifier: identifier }))).Snapshots ?? []).map((snapshot) => ({
        identifier: snapshot.SnapshotIdentifier ?? "",
        clusterIdentifier: snapshot.ClusterIdentifier ?? identifier,
        createdAt: snapshot.SnapshotCreateTime ? new Date(snapshot.SnapshotCreateTime).toISOString() : "",
        status: snapshot.Status ?? "",
        snapshotType: snapshot.SnapshotType ?? "",
        ...(snapshot.SourceRegion ? { sourceRegion: snapshot.SourceRegion } : {}),
      })),
    );
    let restoredCluster: ObservedWarehouse["restoredCluster"];
    try {
      const cluster = (await redshift.send(new DescribeClustersCommand({ ClusterIdentifier: identifier }))).Clusters?.[0];
      if (cluster) restoredCluster = { identifier, status: cluster.ClusterStatus ?? "" };
    } catch (error) {
      if (errorName(error) !== "ClusterNotFoundFault") errors.push({ region: T, what: `redshift:DescribeClusters ${identifier}`, message: messageOf(error) });
    }
    return { region: T, snapshots: snapshots ?? [], ...(restoredCluster ? { restoredCluster } : {}) };
  }

  async function observePermissions(): Promise<ObservedPermission[]> {
    if (!caller) return [];
    const principal = principalArnOf(caller.arn);
    const byResource = new Map<string, Set<string>>();
    for (const permission of inputs.permissions) {
      const resource = permission.resource.split(ACCOUNT_TOKEN).join(caller.account);
      byResource.set(resource, (byResource.get(resource) ?? new Set()).add(permission.action));
    }
    const results = await Promise.all(
      [...byResource.entries()].map(async ([resource, actions]) => {
        const simulated = await attempt(T, `iam:SimulatePrincipalPolicy ${resource}`, () =>
          clients.forRegion(T).iam.send(new SimulatePrincipalPolicyCommand({ PolicySourceArn: principal, ActionNames: [...actions], ResourceArns: [resource] })),
        );
        return (simulated?.EvaluationResults ?? []).map((evaluation) => ({
          action: evaluation.EvalActionName ?? "",
          resource,
          region: regionOfArn(resource) || T,
          allowed: evaluation.EvalDecision === "allowed",
          decision: evaluation.EvalDecision ?? "unknown",
        }));
      }),
    );
    return results.flat();
  }
}
