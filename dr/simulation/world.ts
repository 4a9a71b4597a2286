/**
 * The state model of a simulated two-region AWS: the global cluster and its members,
 * event source mappings, SSM parameters, bucket notifications, CloudWatch datapoints,
 * Redshift snapshots and clusters, RDS cluster snapshots. Operations move through the
 * real status values one poll at a time (FailoverState pending → switching-over or
 * failing-over → cleared with IsWriter flipped; mappings Enabling → Enabled, Disabling →
 * Disabled; restores creating → available; snapshot copies copying → available), and
 * AWS's refusals are modelled where a promotion could hit them (a headless or
 * version-mismatched target, an update to a mapping in transition, a bucket in another
 * region). A region marked down answers every call with a timeout, as a client with
 * throwOnRequestTimeout would. The state is plain JSON, so a demo can keep it across runs.
 */
import { toNotificationConfiguration } from "../actions";
import { StackTopology } from "../topology";
import { FIXTURE_ACCOUNT } from "./fixtures";

export interface SimMember {
  clusterArn: string;
  clusterIdentifier: string;
  region: string;
  isWriter: boolean;
  engineVersion: string;
  status: string;
  instances: { identifier: string; status: string }[];
}

export interface SimState {
  version: 1;
  /** Regions that do not answer. */
  down: string[];
  /** Polls an operation takes from start to done. */
  pollsPerOperation: number;
  aurora?: {
    globalClusterIdentifier: string;
    engineVersion: string;
    members: SimMember[];
    failover?: { status: string; from: string; to: string; allowDataLoss: boolean; polls: number };
    /** Set by an unplanned failover: the old writer, re-added (with a system snapshot) when its region returns. */
    orphanedWriter?: { clusterIdentifier: string; region: string };
  };
  mappings: { region: string; uuid: string; functionName: string; state: string; polls: number }[];
  parameters: { region: string; name: string; value: string; type: string; version: number }[];
  notifications: { region: string; bucket: string; configuration: Record<string, unknown> }[];
  metrics: { region: string; namespace: string; metricName: string; dimensions: Record<string, string>; value: number; at: string }[];
  redshift: {
    snapshots: { region: string; identifier: string; clusterIdentifier: string; createdAt: string; status: string; type: string; sourceRegion?: string }[];
    clusters: { region: string; identifier: string; status: string; polls: number; snapshotIdentifier?: string }[];
  };
  rdsSnapshots: { region: string; identifier: string; clusterIdentifier: string; type: string; status: string; createdAt: string; polls: number }[];
  /** IAM actions SimulatePrincipalPolicy denies. */
  deniedActions: string[];
  /** Mutating commands that apply their effect, then lose the response (a crash mid-call), once each. */
  loseResponseOf: string[];
}

export interface SimCall {
  readonly region: string;
  readonly service: string;
  readonly command: string;
  readonly input: Record<string, unknown>;
  readonly mutating: boolean;
}

/** An AWS-shaped error: the SDK's service exceptions carry the error code as `name`. */
export function awsError(name: string, message: string): Error {
  const error = new Error(message);
  error.name = name;
  return error;
}

/** A bucket's configuration as S3 returns it: the destinations put, each with an Id. */
const storedNotifications = (trigger: StackTopology["lakeTriggers"][number]) => {
  const configuration = toNotificationConfiguration(trigger);
  return {
    ...configuration,
    ...(configuration.LambdaFunctionConfigurations ? { LambdaFunctionConfigurations: configuration.LambdaFunctionConfigurations.map((entry, i) => ({ Id: `lambda-${i}`, ...entry })) } : {}),
    ...(configuration.TopicConfigurations ? { TopicConfigurations: configuration.TopicConfigurations.map((entry, i) => ({ Id: `topic-${i}`, ...entry })) } : {}),
  };
};

/**
 * The world a pair of topologies describes, as deployed and healthy: the primary holds
 * the writer, its mappings and lake triggers run, every parameter names its endpoints,
 * replication lags are small, and the DR region holds copied warehouse snapshots.
 */
export function initialWorld(primary: StackTopology, dr: StackTopology, now: Date): SimState {
  const at = new Date(now.getTime() - 60_000).toISOString();
  const hoursAgo = (hours: number) => new Date(now.getTime() - hours * 3_600_000).toISOString();
  const sides = [primary, dr];
  return {
    version: 1,
    down: [],
    pollsPerOperation: 3,
    ...(primary.aurora && dr.aurora
      ? {
          aurora: {
            globalClusterIdentifier: primary.aurora.globalClusterIdentifier,
            engineVersion: primary.aurora.engineVersion,
            members: sides.map((side) => ({
              clusterArn: side.aurora!.clusterArn,
              clusterIdentifier: side.aurora!.clusterIdentifier,
              region: side.region,
              isWriter: side === primary,
              engineVersion: side.aurora!.engineVersion,
              status: "available",
              instances: side.aurora!.instanceIdentifiers.map((identifier) => ({ identifier, status: "available" })),
            })),
          },
        }
      : {}),
    mappings: sides.flatMap((side) => side.consumers.map((consumer) => ({ region: side.region, uuid: consumer.eventSourceMappingUuid, functionName: consumer.functionName, state: side === primary ? "Enabled" : "Disabled", polls: 0 }))),
    parameters: sides.flatMap((side) => primary.endpointParameters.map((parameter) => ({ region: side.region, name: parameter.name, value: parameter.valueWhenActive, type: "String", version: 1 }))),
    notifications: sides.flatMap((side) =>
      side.lakeTriggers.map((trigger) => ({ region: side.region, bucket: trigger.bucket, configuration: side === primary ? storedNotifications(trigger) : {} })),
    ),
    metrics: [
      ...(dr.aurora ? [{ region: dr.region, namespace: "AWS/RDS", metricName: "AuroraGlobalDBRPOLag", dimensions: { DBClusterIdentifier: dr.aurora.clusterIdentifier }, value: 850, at }] : []),
      ...(primary.aurora ? [{ region: primary.region, namespace: "AWS/RDS", metricName: "AuroraGlobalDBRPOLag", dimensions: { DBClusterIdentifier: primary.aurora.clusterIdentifier }, value: 900, at }] : []),
      ...sides.flatMap((side) =>
        side.lakeReplication.flatMap((rule) => [
          { region: side.region, namespace: "AWS/S3", metricName: "ReplicationLatency", dimensions: { SourceBucket: rule.sourceBucket, DestinationBucket: rule.destinationBucket, RuleId: rule.ruleId }, value: 42, at },
          { region: side.region, namespace: "AWS/S3", metricName: "OperationsPendingReplication", dimensions: { SourceBucket: rule.sourceBucket, DestinationBucket: rule.destinationBucket, RuleId: rule.ruleId }, value: 12, at },
        ]),
      ),
      ...sides.flatMap((side) => side.speedLayerTable.replicaRegions.map((receiving) => ({ region: side.region, namespace: "AWS/DynamoDB", metricName: "ReplicationLatency", dimensions: { TableName: side.speedLayerTable.name, ReceivingRegion: receiving }, value: 740, at }))),
    ],
    redshift: {
      snapshots: dr.warehouse
        ? [2.5, 1.5, 0.5].map((hours) => ({
            region: dr.region,
            identifier: `copy:rs:${dr.warehouse!.restoreClusterIdentifier}-${hoursAgo(hours).slice(0, 16).replace(/[:T]/g, "-")}`,
            clusterIdentifier: dr.warehouse!.restoreClusterIdentifier,
            createdAt: hoursAgo(hours),
            status: "available",
            type: "automated",
            sourceRegion: primary.region,
          }))
        : [],
      clusters: primary.warehouse?.clusterIdentifier ? [{ region: primary.region, identifier: primary.warehouse.clusterIdentifier, status: "available", polls: 0 }] : [],
    },
    rdsSnapshots: [],
    deniedActions: [],
    loseResponseOf: [],
  };
}

const MUTATING = /^(Switchover|Failover|Update|Put|Restore|Copy|Create|Delete)/;

/** Applies calls to a SimState and records them. Every handler is keyed by "service:Command". */
export class SimulatedAws {
  readonly calls: SimCall[] = [];

  constructor(readonly state: SimState) {}

  /** Marks a region as answering no more (or again, which also lets Aurora re-add its old writer). */
  setRegionDown(region: string, down: boolean): void {
    this.state.down = down ? [...new Set([...this.state.down, region])] : this.state.down.filter((candidate) => candidate !== region);
    if (!down) this.rejoin(region);
  }

  mutatingCalls(): SimCall[] {
    return this.calls.filter((call) => call.mutating);
  }

  handle(service: string, command: string, region: string, input: Record<string, unknown>): unknown {
    const name = command.replace(/Command$/, "");
    const mutating = MUTATING.test(name);
    this.calls.push({ region, service, command: name, input, mutating });
    if (this.state.down.includes(region)) throw awsError("TimeoutError", `Connection to ${service}.${region}.amazonaws.com timed out (simulated outage of ${region})`);
    const handler = this.handlers[`${service}:${name}`];
    if (!handler) throw awsError("NotSimulated", `${service}:${name} is not part of the simulation`);
    const result = handler(region, input);
    const lose = this.state.loseResponseOf.indexOf(name);
    if (mutating && lose >= 0) {
      this.state.loseResponseOf.splice(lose, 1);
      throw awsError("TimeoutError", `The response to ${name} in ${region} was lost (simulated crash after the call took effect)`);
    }
    return result;
  }

  private get aurora() {
    const aurora = this.state.aurora;
    if (!aurora) throw awsError("GlobalClusterNotFoundFault", "No global cluster in this simulation");
    return aurora;
  }

  private advanceAurora(): void {
    const aurora = this.state.aurora;
    const failover = aurora?.failover;
    if (!aurora || !failover) return;
    failover.polls += 1;
    if (failover.polls >= 1 && failover.status === "pending") failover.status = failover.allowDataLoss ? "failing-over" : "switching-over";
    if (failover.polls < this.state.pollsPerOperation) return;
    for (const member of aurora.members) member.isWriter = member.clusterArn === failover.to;
    if (failover.allowDataLoss) {
      const old = aurora.members.find((member) => member.clusterArn === failover.from);
      if (old && this.state.down.includes(old.region)) {
        // The old writer's region is gone: Aurora detaches it and re-adds it when the region returns.
        aurora.orphanedWriter = { clusterIdentifier: old.clusterIdentifier, region: old.region };
        aurora.members = aurora.members.filter((member) => member !== old);
      }
    }
    delete aurora.failover;
  }

  private rejoin(region: string): void {
    const orphan = this.state.aurora?.orphanedWriter;
    if (!orphan || orphan.region !== region) return;
    const now = new Date();
    const stamp = now.toISOString().slice(0, 16).replace(/[:T]/g, "-");
    this.state.rdsSnapshots.push({ region, identifier: `rds:unplanned-global-failover-${orphan.clusterIdentifier}-${stamp}`, clusterIdentifier: orphan.clusterIdentifier, type: "automated", status: "available", createdAt: now.toISOString(), polls: 0 });
    this.state.aurora!.members.push({
      clusterArn: `arn:aws:rds:${region}:${FIXTURE_ACCOUNT}:cluster:${orphan.clusterIdentifier}`,
      clusterIdentifier: orphan.clusterIdentifier,
      region,
      isWriter: false,
      engineVersion: this.state.aurora!.engineVersion,
      status: "available",
      instances: [{ identifier: `${orphan.clusterIdentifier}-writer`, status: "available" }],
    });
    delete this.state.aurora!.orphanedWriter;
  }

  private globalClusterView() {
    const aurora = this.aurora;
    return {
      GlobalClusterIdentifier: aurora.globalClusterIdentifier,
      GlobalClusterArn: `arn:aws:rds::${FIXTURE_ACCOUNT}:global-cluster:${aurora.globalClusterIdentifier}`,
      Engine: "aurora-postgresql",
      EngineVersion: aurora.engineVersion,
      Status: "available",
      GlobalClusterMembers: aurora.members.map((member) => ({ DBClusterArn: member.clusterArn, IsWriter: member.isWriter, Readers: [] })),
      ...(aurora.failover ? { FailoverState: { Status: aurora.failover.status, FromDbClusterArn: aurora.failover.from, ToDbClusterArn: aurora.failover.to, IsDataLossAllowed: aurora.failover.allowDataLoss } } : {}),
    };
  }

  private startAuroraOperation(region: string, input: Record<string, unknown>, allowDataLoss: boolean) {
    const aurora = this.aurora;
    if (input.GlobalClusterIdentifier !== aurora.globalClusterIdentifier) throw awsError("GlobalClusterNotFoundFault", `GlobalCluster ${String(input.GlobalClusterIdentifier)} not found`);
    if (aurora.failover) throw awsError("InvalidGlobalClusterStateFault", `Global cluster ${aurora.globalClusterIdentifier} has an operation in progress (${aurora.failover.status})`);
    const target = aurora.members.find((member) => member.clusterArn === input.TargetDbClusterIdentifier);
    if (!target) throw awsError("DBClusterNotFoundFault", `${String(input.TargetDbClusterIdentifier)} is not a member of ${aurora.globalClusterIdentifier}`);
    if (target.region !== region) throw awsError("InvalidParameterValue", `Call ${allowDataLoss ? "FailoverGlobalCluster" : "SwitchoverGlobalCluster"} in a region of the global cluster; the target is in ${target.region}`);
    if (target.isWriter) throw awsError("InvalidDBClusterStateFault", `${target.clusterIdentifier} is already the primary cluster`);
    if (!target.instances.some((instance) => instance.status === "available")) throw awsError("InvalidDBClusterStateFault", `${target.clusterIdentifier} has no DB instance (headless secondary)`);
    if (aurora.members.some((member) => member.engineVersion !== target.engineVersion)) throw awsError("InvalidDBClusterStateFault", "Members of the global cluster run different engine versions");
    const writer = aurora.members.find((member) => member.isWriter);
    if (!allowDataLoss && writer && this.state.down.includes(writer.region)) throw awsError("InvalidGlobalClusterStateFault", "The primary cluster is unavailable; a switchover needs it");
    aurora.failover = { status: "pending", from: writer?.clusterArn ?? "", to: target.clusterArn, allowDataLoss, polls: 0 };
    return { GlobalCluster: this.globalClusterView() };
  }

  private advanceMapping(mapping: SimState["mappings"][number]): void {
    if (mapping.state !== "Enabling" && mapping.state !== "Disabling") return;
    mapping.polls += 1;
    if (mapping.polls >= this.state.pollsPerOperation) {
      mapping.state = mapping.state === "Enabling" ? "Enabled" : "Disabled";
      mapping.polls = 0;
    }
  }

  private mapping(region: string, uuid: unknown) {
    const mapping = this.state.mappings.find((candidate) => candidate.uuid === uuid && candidate.region === region);
    if (!mapping) throw awsError("ResourceNotFoundException", `The resource you requested does not exist. (EventSourceMapping ${String(uuid)} in ${region})`);
    return mapping;
  }

  private bucket(region: string, bucket: unknown) {
    const entry = this.state.notifications.find((candidate) => candidate.bucket === bucket);
    if (!entry) throw awsError("NoSuchBucket", `The specified bucket does not exist: ${String(bucket)}`);
    if (entry.region !== region) throw awsError("PermanentRedirect", `The bucket ${String(bucket)} is in ${entry.region}, not ${region}`);
    return entry;
  }

  private parameter(region: string, name: unknown) {
    return this.state.parameters.find((candidate) => candidate.region === region && candidate.name === name);
  }

  private advanceCluster(cluster: SimState["redshift"]["clusters"][number]) {
    if (cluster.status !== "creating") return;
    cluster.polls += 1;
    if (cluster.polls >= this.state.pollsPerOperation) cluster.status = "available";
  }

  private advanceSnapshot(snapshot: SimState["rdsSnapshots"][number]) {
    if (snapshot.status !== "copying") return;
    snapshot.polls += 1;
    if (snapshot.polls >= this.state.pollsPerOperation) snapshot.status = "available";
  }

  private readonly handlers: Record<string, (region: string, input: Record<string, any>) => unknown> = {
    "sts:GetCallerIdentity": () => ({ Account: FIXTURE_ACCOUNT, Arn: `arn:aws:sts::${FIXTURE_ACCOUNT}:assumed-role/dr-operator/promotion`, UserId: "AROAEXAMPLE:promotion" }),
    "iam:SimulatePrincipalPolicy": (_, input) => ({
      EvaluationResults: (input.ActionNames as string[]).map((action) => ({
        EvalActionName: action,
        EvalResourceName: (input.ResourceArns as string[])[0],
        EvalDecision: this.state.deniedActions.includes(action) ? "implicitDeny" : "allowed",
      })),
    }),
    "rds:DescribeGlobalClusters": (_, input) => {
      this.advanceAurora();
      if (input.GlobalClusterIdentifier !== this.aurora.globalClusterIdentifier) throw awsError("GlobalClusterNotFoundFault", `GlobalCluster ${input.GlobalClusterIdentifier} not found`);
      return { GlobalClusters: [this.globalClusterView()] };
    },
    "rds:DescribeDBClusters": (region, input) => {
      const member = this.state.aurora?.members.find((candidate) => candidate.region === region && (candidate.clusterArn === input.DBClusterIdentifier || candidate.clusterIdentifier === input.DBClusterIdentifier));
      if (!member) throw awsError("DBClusterNotFoundFault", `DBCluster ${input.DBClusterIdentifier} not found`);
      return { DBClusters: [{ DBClusterIdentifier: member.clusterIdentifier, DBClusterArn: member.clusterArn, EngineVersion: member.engineVersion, Status: member.status, Engine: "aurora-postgresql" }] };
    },
    "rds:DescribeDBInstances": (region, input) => {
      const filter = (input.Filters as { Name: string; Values: string[] }[] | undefined)?.find((candidate) => candidate.Name === "db-cluster-id");
      const member = this.state.aurora?.members.find((candidate) => candidate.region === region && filter?.Values.some((value) => value === candidate.clusterArn || value === candidate.clusterIdentifier));
      return { DBInstances: (member?.instances ?? []).map((instance) => ({ DBInstanceIdentifier: instance.identifier, DBInstanceStatus: instance.status, DBClusterIdentifier: member!.clusterIdentifier })) };
    },
    "rds:SwitchoverGlobalCluster": (region, input) => this.startAuroraOperation(region, input, false),
    "rds:FailoverGlobalCluster": (region, input) => {
      if (input.AllowDataLoss !== true && input.Switchover !== true) throw awsError("InvalidParameterCombination", "FailoverGlobalCluster needs AllowDataLoss or Switchover");
      return this.startAuroraOperation(region, input, input.AllowDataLoss === true);
    },
    "rds:DescribeDBClusterSnapshots": (region, input) => {
      const inRegion = this.state.rdsSnapshots.filter((snapshot) => snapshot.region === region);
      inRegion.forEach((snapshot) => this.advanceSnapshot(snapshot));
      const matching = inRegion.filter(
        (snapshot) => (!input.DBClusterSnapshotIdentifier || snapshot.identifier === input.DBClusterSnapshotIdentifier) && (!input.DBClusterIdentifier || snapshot.clusterIdentifier === input.DBClusterIdentifier),
      );
      if (input.DBClusterSnapshotIdentifier && matching.length === 0) throw awsError("DBClusterSnapshotNotFoundFault", `DBClusterSnapshot ${input.DBClusterSnapshotIdentifier} not found`);
      return { DBClusterSnapshots: matching.map((snapshot) => ({ DBClusterSnapshotIdentifier: snapshot.identifier, DBClusterIdentifier: snapshot.clusterIdentifier, SnapshotType: snapshot.type, Status: snapshot.status, SnapshotCreateTime: new Date(snapshot.createdAt) })) };
    },
    "rds:CopyDBClusterSnapshot": (region, input) => {
      const source = this.state.rdsSnapshots.find((snapshot) => snapshot.region === region && snapshot.identifier === input.SourceDBClusterSnapshotIdentifier);
      if (!source) throw awsError("DBClusterSnapshotNotFoundFault", `DBClusterSnapshot ${input.SourceDBClusterSnapshotIdentifier} not found`);
      if (this.state.rdsSnapshots.some((snapshot) => snapshot.region === region && snapshot.identifier === input.TargetDBClusterSnapshotIdentifier)) throw awsError("DBClusterSnapshotAlreadyExistsFault", `${input.TargetDBClusterSnapshotIdentifier} already exists`);
      const copy = { region, identifier: String(input.TargetDBClusterSnapshotIdentifier), clusterIdentifier: source.clusterIdentifier, type: "manual", status: "copying", createdAt: new Date().toISOString(), polls: 0 };
      this.state.rdsSnapshots.push(copy);
      return { DBClusterSnapshot: { DBClusterSnapshotIdentifier: copy.identifier, Status: copy.status } };
    },
    "lambda:GetEventSourceMapping": (region, input) => {
      const mapping = this.mapping(region, input.UUID);
      this.advanceMapping(mapping);
      return { UUID: mapping.uuid, State: mapping.state, FunctionArn: `arn:aws:lambda:${region}:${FIXTURE_ACCOUNT}:function:${mapping.functionName}` };
    },
    "lambda:UpdateEventSourceMapping": (region, input) => {
      const mapping = this.mapping(region, input.UUID);
      if (mapping.state !== "Enabled" && mapping.state !== "Disabled") throw awsError("ResourceInUseException", `Cannot update the event source mapping because it is in use (${mapping.state})`);
      if (input.Enabled !== undefined) {
        const want = input.Enabled ? "Enabled" : "Disabled";
        if (mapping.state !== want) {
          mapping.state = input.Enabled ? "Enabling" : "Disabling";
          mapping.polls = 0;
        }
      }
      return { UUID: mapping.uuid, State: mapping.state };
    },
    "ssm:GetParameter": (region, input) => {
      const parameter = this.parameter(region, input.Name);
      if (!parameter) throw awsError("ParameterNotFound", `Parameter ${input.Name} not found`);
      return { Parameter: { Name: parameter.name, Value: parameter.value, Type: parameter.type, Version: parameter.version } };
    },
    "ssm:PutParameter": (region, input) => {
      const parameter = this.parameter(region, input.Name);
      if (parameter && input.Overwrite !== true) throw awsError("ParameterAlreadyExists", `Parameter ${input.Name} already exists`);
      if (parameter) {
        parameter.value = String(input.Value);
        parameter.version += 1;
        return { Version: parameter.version, Tier: "Standard" };
      }
      this.state.parameters.push({ region, name: String(input.Name), value: String(input.Value), type: String(input.Type ?? "String"), version: 1 });
      return { Version: 1, Tier: "Standard" };
    },
    "s3:GetBucketNotificationConfiguration": (region, input) => this.bucket(region, input.Bucket).configuration,
    "s3:PutBucketNotificationConfiguration": (region, input) => {
      this.bucket(region, input.Bucket).configuration = JSON.parse(JSON.stringify(input.NotificationConfiguration ?? {}));
      return {};
    },
    "cloudwatch:GetMetricData": (region, input) => ({
      MetricDataResults: (input.MetricDataQueries as { Id: string; MetricStat: { Metric: { Namespace: string; MetricName: string; Dimensions: { Name: string; Value: string }[] } } }[]).map((query) => {
        const wanted = query.MetricStat.Metric;
        const point = this.state.metrics.find(
          (metric) =>
            metric.region === region &&
            metric.namespace === wanted.Namespace &&
            metric.metricName === wanted.MetricName &&
            wanted.Dimensions.length === Object.keys(metric.dimensions).length &&
            wanted.Dimensions.every((dimension) => metric.dimensions[dimension.Name] === dimension.Value),
        );
        return { Id: query.Id, StatusCode: "Complete", Values: point ? [point.value] : [], Timestamps: point ? [new Date(point.at)] : [] };
      }),
    }),
    "redshift:DescribeClusterSnapshots": (region, input) => ({
      Snapshots: this.state.redshift.snapshots
        .filter((snapshot) => snapshot.region === region && (!input.ClusterIdentifier || snapshot.clusterIdentifier === input.ClusterIdentifier))
        .map((snapshot) => ({ SnapshotIdentifier: snapshot.identifier, ClusterIdentifier: snapshot.clusterIdentifier, SnapshotCreateTime: new Date(snapshot.createdAt), Status: snapshot.status, SnapshotType: snapshot.type, SourceRegion: snapshot.sourceRegion })),
    }),
    "redshift:DescribeClusters": (region, input) => {
      const cluster = this.state.redshift.clusters.find((candidate) => candidate.region === region && candidate.identifier === input.ClusterIdentifier);
      if (!cluster) throw awsError("ClusterNotFoundFault", `Cluster ${input.ClusterIdentifier} not found.`);
      this.advanceCluster(cluster);
      return { Clusters: [{ ClusterIdentifier: cluster.identifier, ClusterStatus: cluster.status, RestoreStatus: { Status: cluster.status === "available" ? "completed" : "restoring" } }] };
    },
    "redshift:RestoreFromClusterSnapshot": (region, input) => {
      if (this.state.redshift.clusters.some((cluster) => cluster.region === region && cluster.identifier === input.ClusterIdentifier)) throw awsError("ClusterAlreadyExistsFault", `Cluster ${input.ClusterIdentifier} already exists`);
      const snapshot = this.state.redshift.snapshots.find((candidate) => candidate.region === region && candidate.identifier === input.SnapshotIdentifier);
      if (!snapshot || snapshot.status !== "available") throw awsError("ClusterSnapshotNotFoundFault", `Snapshot ${input.SnapshotIdentifier} not found in ${region}`);
      const cluster = { region, identifier: String(input.ClusterIdentifier), status: "creating", polls: 0, snapshotIdentifier: snapshot.identifier };
      this.state.redshift.clusters.push(cluster);
      return { Cluster: { ClusterIdentifier: cluster.identifier, ClusterStatus: cluster.status } };
    },
  };
}
