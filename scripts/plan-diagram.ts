/**
 * `npm run plan -- --stack prod --diagram [out/plan-prod.svg]`: the architecture picture,
 * drawn from the evaluated resource graph (never by hand), in three pure steps:
 *   graph → model (`diagramModel`: which resources are nodes, which join them as edges),
 *   model → DOT (`diagramDot`, deterministic so a committed copy is stable),
 *   DOT → SVG (`renderSvg`, Graphviz compiled to WebAssembly by @viz-js/viz) and, when a
 *   font file exists on the machine, SVG → PNG (`renderPng`, @resvg/resvg-wasm).
 *
 * The selection is by rule, so a new component shows up without editing this file:
 * - a **node** is a resource of a kind a reader follows data through (NODE_KINDS);
 * - a **connector** (event source mapping, bucket notification, subscription, integration,
 *   replication configuration, ...) becomes a labelled edge between the nodes it joins
 *   (CONNECTORS, or any other resource whose inputs reference two or more nodes);
 * - an **attachment** (versioning, a stage, a cluster instance or endpoint, a backup plan)
 *   stands for the one node it belongs to, so a reference to it is a reference to that node;
 * - IAM, permissions, policies, alarms, logs, networking and parameters are left out
 *   (OUT_OF_PICTURE), and so are the inputs that only wire security or plumbing
 *   (roles, KMS keys, subnets, logging: PLUMBING).
 * Edges come from the engine's recorded property dependencies (the URNs each input came
 * from); values that crossed stacks through a StackReference carry no URN there, so they
 * are matched by the ARN (or, under the same input key, the identifier) they hold.
 */
import * as fs from "fs";
import * as path from "path";
import { WITHOUT_VALUE } from "./cli";
import { PROJECT_DIR, PlannedResource, StackEvaluation } from "./engine";
import { isSecretEnvelope } from "./secrets";

type Shape = "cds" | "box" | "cylinder" | "folder" | "box3d" | "hexagon" | "component" | "note" | "octagon" | "tab";

interface NodeKind {
  /** Second line of the node's label. */
  readonly kind: string;
  readonly shape: Shape;
  readonly fill: string;
}

const STREAM = "#fde9d9";
const COMPUTE = "#fff2cc";
const STORE = "#dae8fc";
const MESSAGING = "#e1d5e7";
const EDGE_OF_PLATFORM = "#d5e8d4";
const SECURITY = "#f5f5f5";

/** The resource kinds a reader follows data through, by type token. */
export const NODE_KINDS: Readonly<Record<string, NodeKind>> = {
  "aws:kinesis/stream:Stream": { kind: "Kinesis stream", shape: "cds", fill: STREAM },
  "aws:kinesis/firehoseDeliveryStream:FirehoseDeliveryStream": { kind: "Firehose", shape: "cds", fill: STREAM },
  "aws:lambda/function:Function": { kind: "Lambda", shape: "box", fill: COMPUTE },
  "aws:sfn/stateMachine:StateMachine": { kind: "Step Functions", shape: "box", fill: COMPUTE },
  "aws:scheduler/schedule:Schedule": { kind: "Scheduler schedule", shape: "note", fill: EDGE_OF_PLATFORM },
  "aws:glue/job:Job": { kind: "Glue job", shape: "box", fill: COMPUTE },
  "aws:glue/crawler:Crawler": { kind: "Glue crawler", shape: "box", fill: COMPUTE },
  "aws:emrserverless/application:Application": { kind: "EMR Serverless", shape: "box", fill: COMPUTE },
  "aws:dms/replicationInstance:ReplicationInstance": { kind: "DMS replication instance", shape: "box", fill: COMPUTE },
  "aws:dms/replicationTask:ReplicationTask": { kind: "DMS CDC task", shape: "cds", fill: STREAM },
  "aws:dms/endpoint:Endpoint": { kind: "DMS endpoint", shape: "component", fill: COMPUTE },
  "aws:dynamodb/table:Table": { kind: "DynamoDB table", shape: "cylinder", fill: STORE },
  "aws:s3/bucket:Bucket": { kind: "S3 bucket", shape: "folder", fill: STORE },
  "aws:rds/cluster:Cluster": { kind: "Aurora cluster", shape: "cylinder", fill: STORE },
  "aws:rds/globalCluster:GlobalCluster": { kind: "Aurora Global Database", shape: "tab", fill: STORE },
  "aws:redshift/cluster:Cluster": { kind: "Redshift", shape: "cylinder", fill: STORE },
  "aws:redshiftserverless/workgroup:Workgroup": { kind: "Redshift Serverless", shape: "cylinder", fill: STORE },
  "aws:redshift/snapshotCopyGrant:SnapshotCopyGrant": { kind: "snapshot copy grant", shape: "note", fill: STORE },
  "aws:elasticache/replicationGroup:ReplicationGroup": { kind: "ElastiCache Redis", shape: "cylinder", fill: STORE },
  "aws:glue/catalogDatabase:CatalogDatabase": { kind: "Glue catalog", shape: "note", fill: STORE },
  "aws:athena/workgroup:Workgroup": { kind: "Athena workgroup", shape: "component", fill: COMPUTE },
  "aws:backup/vault:Vault": { kind: "Backup vault", shape: "cylinder", fill: SECURITY },
  "aws:sqs/queue:Queue": { kind: "SQS queue", shape: "box3d", fill: MESSAGING },
  "aws:sns/topic:Topic": { kind: "SNS topic", shape: "hexagon", fill: MESSAGING },
  "aws:apigatewayv2/api:Api": { kind: "HTTP API", shape: "component", fill: EDGE_OF_PLATFORM },
  "aws:lb/loadBalancer:LoadBalancer": { kind: "load balancer", shape: "component", fill: EDGE_OF_PLATFORM },
  "aws:cloudfront/distribution:Distribution": { kind: "CloudFront", shape: "component", fill: EDGE_OF_PLATFORM },
  "aws:ecs/service:Service": { kind: "ECS service", shape: "box", fill: COMPUTE },
  "aws:kms/key:Key": { kind: "KMS key", shape: "octagon", fill: SECURITY },
  "aws:kms/replicaKey:ReplicaKey": { kind: "KMS replica key", shape: "octagon", fill: SECURITY },
};

/** Types that are never nodes, connectors or attachments: access, checks, logs, network, parameters. */
const OUT_OF_PICTURE = /^aws:(iam|ssm|secretsmanager|budgets|ec2|vpc|cloudwatch\/(metricAlarm|logGroup|logStream|dashboard)|kms\/alias|lambda\/permission|backup\/restoreTesting|ecs\/taskDefinition|appautoscaling|glue\/securityConfiguration|dms\/replicationSubnetGroup)|\/\w*[lL]ogging:|Policy:|^pulumi:/;

/** Inputs (or nested keys) that wire security and plumbing, not data: they draw no edge. */
const PLUMBING = /^(accessLogs|role|roleArn|iamRoleArn|iamRoles|defaultIamRoleArn|credentialsArn|executionRoleArn|kms.*|.*KmsKey(Id|Arn)|serverSideEncryption|encryptionConfiguration|vpcConfig|.*SecurityGroupIds|securityGroupIds|subnetIds|.*SubnetGroupName|subnetGroupName|loggingConfig|logDeliveryConfigurations|accessLogSettings|cloudwatchLoggingOptions|.*ParameterGroupName|engineVersion|tags)$/;
/** Environment variables that hand a function a key, a role or a secret, not data. */
const PLUMBING_VARIABLE = /(^|_)(KMS|KEY|ROLE|SECRET)(_|$)/;

type EdgeStyle = "flow" | "support";

interface ConnectorRule {
  /** Inputs naming where the data comes from. */
  readonly from: string[];
  /** Inputs naming where it goes. */
  readonly to: string[];
  readonly label: string | ((connector: PlannedResource) => string);
  readonly style?: EdgeStyle;
}

/** Connector types whose direction their inputs tell (other connectors are drawn undirected). */
export const CONNECTORS: Readonly<Record<string, ConnectorRule[]>> = {
  "aws:lambda/eventSourceMapping:EventSourceMapping": [
    { from: ["eventSourceArn"], to: ["functionName"], label: "event source" },
    { from: ["functionName"], to: ["destinationConfig"], label: "on failure" },
  ],
  "aws:s3/bucketNotification:BucketNotification": [{ from: ["bucket"], to: ["lambdaFunctions", "topics", "queues"], label: "object created" }],
  "aws:s3/bucketReplicationConfig:BucketReplicationConfig": [{ from: ["bucket"], to: ["rules"], label: replicationLabel }],
  "aws:sns/topicSubscription:TopicSubscription": [{ from: ["topic"], to: ["endpoint"], label: (s) => `subscription (${s.inputs.protocol ?? "?"})` }],
  "aws:apigatewayv2/integration:Integration": [{ from: ["apiId"], to: ["integrationUri", "requestParameters"], label: (i) => i.inputs.integrationSubtype ?? (i.inputs.connectionType === "VPC_LINK" ? "VPC link" : "invoke") }],
  "aws:cloudwatch/eventTarget:EventTarget": [
    { from: ["rule"], to: ["arn"], label: "EventBridge rule" },
    { from: ["rule"], to: ["deadLetterConfig"], label: "undelivered" },
  ],
  "aws:lambda/functionEventInvokeConfig:FunctionEventInvokeConfig": [{ from: ["functionName"], to: ["destinationConfig"], label: "on failure" }],
  "aws:redshift/snapshotCopy:SnapshotCopy": [{ from: ["clusterIdentifier"], to: ["snapshotCopyGrantName"], label: "snapshot copies" }],
  "aws:backup/selection:Selection": [{ from: ["resources"], to: ["planId"], label: "backup", style: "support" }],
  "aws:glue/catalogTable:CatalogTable": [{ from: ["databaseName"], to: ["storageDescriptor"], label: "catalog table", style: "support" }],
  "aws:rds/integration:Integration": [{ from: ["sourceArn"], to: ["targetArn"], label: "zero-ETL" }],
};

function replicationLabel(config: PlannedResource): string {
  const rules: { status?: string; destination?: { replicationTime?: unknown } }[] = config.inputs.rules ?? [];
  const disabled = rules.length > 0 && rules.every((rule) => rule.status === "Disabled");
  return `S3 replication${rules.some((rule) => rule.destination?.replicationTime) ? ", RTC 15 min" : ""}${disabled ? " (disabled)" : ""}`;
}

/** A node's own inputs through which data flows *into* it (drawn dependency → node). */
const INBOUND = new Set(["kinesisSourceConfiguration", "primaryKeyArn", "globalClusterIdentifier"]);

/** Edge labels for a node's own inputs, by the innermost key that held the reference. */
const INPUT_LABELS: Readonly<Record<string, string>> = {
  bucketArn: "delivers",
  parameterValue: "transforms",
  databaseName: "schema",
  tableName: "schema",
  kinesisSourceConfiguration: "reads",
  redrivePolicy: "dead letters",
  deadLetterTargetArn: "dead letters",
  configuration: "query results",
  outputLocation: "query results",
  globalClusterIdentifier: "Global Database member",
  primaryKeyArn: "multi-Region replica",
  notifications: "budget alerts",
  destinationVaultArn: "backup copies",
  origins: "origin",
};

/** State keys that identify any resource: what another resource's input holds to reference it. */
const IDENTITY_KEYS = ["arn", "name", "bucket", "url", "endpoint", "apiEndpoint", "primaryEndpointAddress", "readerEndpoint"];

/** The keys a type names its own identifier under: GlobalCluster → globalClusterIdentifier, SnapshotCopyGrant → snapshotCopyGrantName. */
function ownIdentifierKeys(type: string): string[] {
  const name = typeName(type);
  const camel = name.charAt(0).toLowerCase() + name.slice(1);
  return [`${camel}Identifier`, `${camel}Name`];
}

export interface DiagramNode {
  readonly id: string;
  /** The resource's type token. */
  readonly type: string;
  readonly stack: string;
  readonly region: string;
  /** The component cluster it is drawn in (e.g. "prod/dp-prod-ingestion"). */
  readonly cluster: string;
  readonly label: string;
  readonly kind: string;
  readonly shape: Shape;
  readonly fill: string;
}

export interface DiagramEdge {
  readonly from: string;
  readonly to: string;
  readonly label: string;
  readonly style: EdgeStyle;
  readonly directed: boolean;
  /** Data also flows back, under `backLabel` (a reverse replication rule). */
  readonly backLabel?: string;
}

export interface DiagramCluster {
  readonly id: string;
  readonly label: string;
  readonly region: string;
}

export interface DiagramRegion {
  readonly region: string;
  readonly label: string;
}

export interface DiagramModel {
  readonly title: string;
  readonly regions: DiagramRegion[];
  readonly clusters: DiagramCluster[];
  readonly nodes: DiagramNode[];
  readonly edges: DiagramEdge[];
}

/** A resource and the stack it was evaluated in. */
interface Located {
  readonly stack: string;
  readonly resource: PlannedResource;
}

/** A place in the graph: a real resource, or a replica that AWS creates from one (a global table's). */
interface Target {
  readonly nodeId: string;
  readonly stack: string;
  readonly region: string;
  readonly type: string;
  readonly identities: string[];
}

const typeName = (type: string) => type.split(":").pop() ?? type;

/** An input that wires security or plumbing, by its property and the keys inside it. */
function isPlumbing(property: string, keys: string[]): boolean {
  if (PLUMBING.test(property) || keys.some((key) => PLUMBING.test(key))) return true;
  return property === "environment" && keys.some((key) => PLUMBING_VARIABLE.test(key));
}

const humanise = (key: string) =>
  key
    .replace(/([a-z0-9])([A-Z])/g, "$1 $2")
    .replace(/_/g, " ")
    .toLowerCase();

function identitiesOf(resource: PlannedResource): string[] {
  const values = [...IDENTITY_KEYS, ...ownIdentifierKeys(resource.type)].map((key) => resource.state[key]).filter((v): v is string => typeof v === "string" && v.length >= 6);
  return [...new Set(values)];
}

/** Every string leaf of an input value, with the path of keys that leads to it; a secret is never looked into. */
function leaves(value: unknown, trail: string[] = []): { path: string[]; value: string }[] {
  if (isSecretEnvelope(value)) return [];
  if (typeof value === "string") return [{ path: trail, value }];
  if (Array.isArray(value)) return value.flatMap((item) => leaves(item, trail));
  if (typeof value === "object" && value !== null) return Object.entries(value).flatMap(([key, item]) => leaves(item, [...trail, key]));
  return [];
}

/** A value holds an identifier when it is that identifier, or has it whole inside (an ARN with a qualifier, a URL). */
function holds(leaf: string, identity: string): boolean {
  if (leaf === identity) return true;
  if (identity.length < 8) return false;
  const at = leaf.indexOf(identity);
  // "dp-prod-cache" is not inside "dp-prod-cache-auth-token": the identifier must end at a separator.
  return at >= 0 && !/[A-Za-z0-9_-]/.test(leaf.charAt(at + identity.length));
}

/** A reference from one resource's input to a node (after resolving attachments). */
interface Reference {
  readonly property: string;
  /** The keys inside the property that held the value ([] when only the property is known). */
  readonly path: string[];
  readonly nodeId: string;
}

/** The nodes, attachments and connectors of a set of evaluations, and the references between them. */
class ResourceGraph {
  private readonly byUrn = new Map<string, Located>();
  private readonly nodeIds = new Map<string, string>();
  private readonly owners = new Map<string, string | null>();
  readonly targets: Target[] = [];

  constructor(readonly evaluations: StackEvaluation[]) {
    for (const evaluation of evaluations) {
      for (const resource of evaluation.resources) this.byUrn.set(this.key(evaluation.stack, resource.urn), { stack: evaluation.stack, resource });
    }
    for (const evaluation of evaluations) {
      for (const resource of evaluation.resources.filter((r) => NODE_KINDS[r.type])) {
        const id = `${evaluation.stack}/${resource.name}`;
        this.nodeIds.set(this.key(evaluation.stack, resource.urn), id);
        this.targets.push({ nodeId: id, stack: evaluation.stack, region: resource.region ?? "", type: resource.type, identities: identitiesOf(resource) });
      }
    }
  }

  private key(stack: string, urn: string) {
    return `${stack}\u0000${urn}`;
  }

  located(stack: string, urn: string): Located | undefined {
    return this.byUrn.get(this.key(stack, urn));
  }

  nodeId(stack: string, urn: string): string | undefined {
    return this.nodeIds.get(this.key(stack, urn));
  }

  addTarget(target: Target) {
    this.targets.push(target);
  }

  /** The node a resource stands for: itself, the one node an attachment belongs to, or none. */
  resolve(stack: string, urn: string, seen = new Set<string>()): string | undefined {
    const id = this.nodeId(stack, urn);
    if (id) return id;
    const key = this.key(stack, urn);
    if (this.owners.has(key)) return this.owners.get(key) ?? undefined;
    const located = this.located(stack, urn);
    if (!located || OUT_OF_PICTURE.test(located.resource.type) || CONNECTORS[located.resource.type] || seen.has(key)) return undefined;
    seen.add(key);
    const owners = new Set(this.sameStackReferences(located, seen).map((r) => r.nodeId));
    const owner = owners.size === 1 ? [...owners][0] : null;
    this.owners.set(key, owner);
    return owner ?? undefined;
  }

  /** References through the engine's recorded property dependencies, narrowed to the keys that held them. */
  sameStackReferences({ stack, resource }: Located, seen = new Set<string>()): Reference[] {
    const references: Reference[] = [];
    for (const [property, urns] of Object.entries(resource.propertyDependencies)) {
      if (PLUMBING.test(property)) continue;
      for (const urn of [...new Set(urns)]) {
        const nodeId = this.resolve(stack, urn, seen);
        const referenced = this.located(stack, urn);
        if (!nodeId || !referenced || nodeId === this.nodeId(stack, resource.urn)) continue;
        const identities = identitiesOf(referenced.resource);
        const paths = leaves(resource.inputs[property])
          .filter((leaf) => identities.some((identity) => holds(leaf.value, identity)))
          .map((leaf) => leaf.path);
        if (paths.length === 0) references.push({ property, path: [], nodeId });
        for (const keys of paths.filter((keys) => !isPlumbing(property, keys))) references.push({ property, path: keys, nodeId });
      }
    }
    // A dependency whose value cannot be found (an endpoint's cluster) adds nothing when the same input names its node elsewhere.
    const located = new Set(references.filter((r) => r.path.length > 0).map((r) => `${r.property}\u0000${r.nodeId}`));
    return references.filter((r) => r.path.length > 0 || !located.has(`${r.property}\u0000${r.nodeId}`));
  }

  /**
   * References to nodes of another stack, which reached this one through a StackReference
   * and so carry no URN: an input holding such a node's ARN, or its identifier under the key
   * its type names it by (`globalClusterIdentifier`), or a plain identifier of a node in this
   * resource's own region. A resource's own identifiers, and nodes of its own type (the same
   * bucket name in both regions), are never references.
   */
  crossStackReferences({ stack, resource }: Located): Reference[] {
    const own = new Set(identitiesOf(resource));
    const references: Reference[] = [];
    for (const [property, value] of Object.entries(resource.inputs)) {
      for (const leaf of leaves(value)) {
        if (isPlumbing(property, leaf.path) || own.has(leaf.value)) continue;
        const key = leaf.path[leaf.path.length - 1] ?? property;
        for (const target of this.targets.filter((t) => t.stack !== stack && t.type !== resource.type)) {
          const matches = target.identities.some(
            (identity) => holds(leaf.value, identity) && (identity.startsWith("arn:") || target.region === resource.region || ownIdentifierKeys(target.type).includes(key)),
          );
          if (matches) references.push({ property, path: leaf.path, nodeId: target.nodeId });
        }
      }
    }
    return references;
  }

  ofTypeIn(stack: string, type: string): Located[] {
    return [...this.byUrn.values()].filter((l) => l.stack === stack && l.resource.type === type);
  }

  referencesOf(located: Located): Reference[] {
    return [...this.sameStackReferences(located), ...this.crossStackReferences(located)];
  }
}

/** The component a resource is drawn in: its nearest ancestor that is a component (not a custom or remote resource). */
function componentOf(byUrn: Map<string, PlannedResource>, resource: PlannedResource): PlannedResource | undefined {
  let parent = resource.parent ? byUrn.get(resource.parent) : undefined;
  while (parent && (parent.custom || parent.remote)) parent = parent.parent ? byUrn.get(parent.parent) : undefined;
  return parent;
}

/** "dp-prod-ingestion-stream-consumer-fn" in "dp-prod-ingestion" → "stream-consumer". */
function shortName(name: string, component?: string): string {
  const withoutComponent = component && name.startsWith(`${component}-`) ? name.slice(component.length + 1) : name;
  return withoutComponent.replace(/-fn$/, "") || name;
}

function edgeLabel(reference: Reference): string {
  if (reference.property === "environment") {
    const variable = reference.path.find((key) => key !== "variables");
    if (variable) return humanise(variable);
  }
  const innermost = [...reference.path].reverse().find((key) => INPUT_LABELS[key]);
  return INPUT_LABELS[innermost ?? reference.property] ?? humanise(reference.path[reference.path.length - 1] ?? reference.property);
}

const connectorLabel = (rule: ConnectorRule, connector: PlannedResource) => (typeof rule.label === "string" ? rule.label : rule.label(connector));

interface Drawn {
  readonly nodes: DiagramNode[];
  readonly clusters: Map<string, DiagramCluster>;
  readonly edges: DiagramEdge[];
}

/** One stack's nodes in their component clusters, with the replicas AWS creates from them. */
function drawNodes(evaluation: StackEvaluation, graph: ResourceGraph, drawn: Drawn): void {
  const byUrn = new Map(evaluation.resources.map((r) => [r.urn, r]));
  for (const resource of evaluation.resources) {
    const kind = NODE_KINDS[resource.type];
    if (!kind) continue;
    const component = componentOf(byUrn, resource);
    const place = (region: string) => {
      const cluster = `${region}/${evaluation.stack}/${component?.name ?? "(stack)"}`;
      drawn.clusters.set(cluster, { id: cluster, region, label: component ? typeName(component.type) : evaluation.stack });
      return { type: resource.type, stack: evaluation.stack, region, cluster, ...kind };
    };
    const id = graph.nodeId(evaluation.stack, resource.urn) as string;
    const region = resource.region ?? "";
    const label = shortName(resource.name, component?.name);
    drawn.nodes.push({ id, label, ...place(region) });
    // A replica AWS creates from this resource's `replicas` (a DynamoDB global table) is drawn in its region.
    for (const { regionName } of (resource.inputs.replicas ?? []) as { regionName?: unknown }[]) {
      if (typeof regionName !== "string") continue;
      const replicaId = `${id}@${regionName}`;
      drawn.nodes.push({ id: replicaId, label: `${label} replica`, ...place(regionName) });
      const identities = identitiesOf(resource).map((identity) => identity.replace(`:${region}:`, `:${regionName}:`));
      graph.addTarget({ nodeId: replicaId, stack: evaluation.stack, region: regionName, type: resource.type, identities });
      drawn.edges.push({ from: id, to: replicaId, label: "global table replica", style: "flow", directed: true });
    }
  }
}

const ECS_SERVICE = "aws:ecs/service:Service";

/**
 * An ECS service's task definition, seen as a function's environment: its containers'
 * variables name what the service reads and writes (queue, bucket, database, cache), so
 * the service draws the edges a Lambda function with the same variables would.
 */
function taskEnvironmentOf(taskDefinition: Located): Located {
  let containers: { environment?: { name?: string; value?: string }[] }[] = [];
  try {
    containers = JSON.parse(String(taskDefinition.resource.inputs.containerDefinitions ?? "[]"));
  } catch {
    // Unknown during a preview of an image not built yet: no edges rather than a broken diagram.
  }
  const variables = Object.fromEntries(containers.flatMap((c) => (c.environment ?? []).map((v) => [v.name ?? "", v.value ?? ""])));
  const resource = taskDefinition.resource;
  return {
    stack: taskDefinition.stack,
    resource: { ...resource, inputs: { environment: { variables } }, propertyDependencies: { environment: resource.propertyDependencies.containerDefinitions ?? [] } },
  };
}

/** The edges of an ECS service beyond its own inputs: what its task definition names, and the load balancer that sends it traffic. */
function ecsServiceEdges(graph: ResourceGraph, service: Located, self: string): DiagramEdge[] {
  const { stack, resource } = service;
  const edges: DiagramEdge[] = [];
  for (const urn of resource.propertyDependencies.taskDefinition ?? []) {
    const task = graph.located(stack, urn);
    if (!task) continue;
    for (const reference of graph.sameStackReferences(taskEnvironmentOf(task))) {
      edges.push({ from: self, to: reference.nodeId, label: edgeLabel(reference), style: "flow", directed: true });
    }
  }
  // Target group → listener → load balancer: the listener that forwards to the service's target group.
  const groups = new Set(((resource.inputs.loadBalancers ?? []) as { targetGroupArn?: string }[]).map((lb) => lb.targetGroupArn));
  for (const { resource: listener } of graph.ofTypeIn(stack, "aws:lb/listener:Listener")) {
    if (!((listener.inputs.defaultActions ?? []) as { targetGroupArn?: string }[]).some((a) => groups.has(a.targetGroupArn))) continue;
    for (const urn of listener.propertyDependencies.loadBalancerArn ?? []) {
      const balancer = graph.nodeId(stack, urn);
      if (balancer) edges.push({ from: balancer, to: self, label: `${listener.inputs.protocol ?? "?"} :${listener.inputs.port ?? "?"}`, style: "flow", directed: true });
    }
  }
  return edges;
}

/** The edges one resource draws: a node's to what its inputs name, a connector's between the nodes it joins. */
function edgesFrom(graph: ResourceGraph, located: Located): DiagramEdge[] {
  const { stack, resource } = located;
  const self = graph.nodeId(stack, resource.urn);
  if (self) {
    const own = graph.referencesOf(located).map((reference): DiagramEdge => {
      const inbound = INBOUND.has(reference.property);
      return { from: inbound ? reference.nodeId : self, to: inbound ? self : reference.nodeId, label: edgeLabel(reference), style: "flow", directed: true };
    });
    return resource.type === ECS_SERVICE ? [...own, ...ecsServiceEdges(graph, located, self)] : own;
  }
  const rules = CONNECTORS[resource.type];
  if (rules) {
    const references = graph.referencesOf(located);
    const at = (properties: string[]) => [...new Set(references.filter((r) => properties.includes(r.property)).map((r) => r.nodeId))];
    return rules.flatMap((rule) =>
      at(rule.from).flatMap((from) =>
        at(rule.to)
          .filter((to) => to !== from)
          .map((to) => ({ from, to, label: connectorLabel(rule, resource), style: rule.style ?? "flow", directed: true })),
      ),
    );
  }
  const sameStack = [...new Set(graph.sameStackReferences(located).map((r) => r.nodeId))].sort();
  if (sameStack.length >= 2) {
    // A connector this file does not know: drawn undirected between the first two nodes it joins, named by its type.
    return [{ from: sameStack[0], to: sameStack[1], label: humanise(typeName(resource.type)), style: "flow", directed: false }];
  }
  // An attachment's references into the other stack are its owner's (a backup plan's copies into the partner's vault).
  const [owner] = sameStack;
  return owner ? graph.crossStackReferences(located).map((reference) => ({ from: owner, to: reference.nodeId, label: edgeLabel(reference), style: "flow", directed: true })) : [];
}

/** Regions in the order of the stacks that live in them (the one asked for first), each named by its stacks. */
function regionsOf(evaluations: StackEvaluation[], nodes: DiagramNode[]): { regions: DiagramRegion[]; stacksByRegion: Map<string, string[]> } {
  const stacksByRegion = new Map<string, string[]>();
  for (const evaluation of evaluations) {
    const home = mostCommon(evaluation.resources.filter((r) => r.region).map((r) => r.region as string)) ?? "";
    stacksByRegion.set(home, [...(stacksByRegion.get(home) ?? []), evaluation.stack]);
  }
  const order = [...new Set([...stacksByRegion.keys(), ...nodes.map((n) => n.region).sort()])];
  const regions = order
    .filter((region) => nodes.some((n) => n.region === region))
    .map((region) => ({ region, label: `${region || "(no region)"}${stacksByRegion.has(region) ? `: stack ${stacksByRegion.get(region)!.join(", ")}` : ""}` }));
  return { regions, stacksByRegion };
}

/** Nodes, clusters and labelled edges of one or more evaluations (a stack and its DR partner). */
export function diagramModel(evaluations: StackEvaluation[]): DiagramModel {
  const graph = new ResourceGraph(evaluations);
  const drawn: Drawn = { nodes: [], clusters: new Map(), edges: [] };
  for (const evaluation of evaluations) drawNodes(evaluation, graph, drawn);
  for (const evaluation of evaluations) {
    for (const resource of evaluation.resources.filter((r) => !OUT_OF_PICTURE.test(r.type))) drawn.edges.push(...edgesFrom(graph, { stack: evaluation.stack, resource }));
  }
  const { regions, stacksByRegion } = regionsOf(evaluations, drawn.nodes);
  // A component drawn in a region whose stack is another is marked with the stack that owns it.
  const clusters = [...drawn.clusters.values()].map((c) => {
    const stack = c.id.split("/")[1];
    return (stacksByRegion.get(c.region) ?? []).includes(stack) ? c : { ...c, label: `${c.label} (${stack})` };
  });
  return {
    title: `${evaluations.map((e) => e.stack).join(" + ")}: npm run plan -- --stack ${evaluations[0]?.stack} --diagram`,
    regions,
    clusters: clusters.sort((a, b) => a.id.localeCompare(b.id)),
    nodes: drawn.nodes.sort((a, b) => a.id.localeCompare(b.id)),
    edges: mergeEdges(drawn.edges),
  };
}

function mostCommon(values: string[]): string | undefined {
  const counts = new Map<string, number>();
  for (const value of values) counts.set(value, (counts.get(value) ?? 0) + 1);
  return [...counts.entries()].sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0]))[0]?.[0];
}

/**
 * One edge per pair and style, its labels joined (two inputs naming the same table draw one
 * line), and one line for both directions of a pair (replication rules each way).
 */
function mergeEdges(edges: DiagramEdge[]): DiagramEdge[] {
  const merged = new Map<string, DiagramEdge & { labels: Set<string> }>();
  const keyOf = (from: string, to: string, style: string) => `${from}\u0000${to}\u0000${style}`;
  for (const edge of edges) {
    const existing = merged.get(keyOf(edge.from, edge.to, edge.style));
    if (existing) existing.labels.add(edge.label);
    else merged.set(keyOf(edge.from, edge.to, edge.style), { ...edge, labels: new Set([edge.label]) });
  }
  const joined = new Map([...merged].map(([key, { labels, ...edge }]) => [key, { ...edge, label: [...labels].sort().join(", ") }]));
  // The pair's first edge in the order the model was built keeps the direction: the primary's.
  for (const [key, edge] of joined) {
    const back = joined.get(keyOf(edge.to, edge.from, edge.style));
    if (!back || back.backLabel !== undefined || !edge.directed || !back.directed) continue;
    joined.set(key, { ...edge, backLabel: back.label });
    joined.delete(keyOf(edge.to, edge.from, edge.style));
  }
  return [...joined.values()].sort((a, b) => a.from.localeCompare(b.from) || a.to.localeCompare(b.to) || a.style.localeCompare(b.style));
}

const quote = (text: string) => `"${text.replace(/\\/g, "\\\\").replace(/"/g, '\\"').replace(/\n/g, "\\n")}"`;
const FONT = "Helvetica";

/** The model as Graphviz DOT: regions as outer clusters, components inside, left to right, sorted. */
export function diagramDot(model: DiagramModel): string {
  const nodeRegion = new Map(model.nodes.map((n) => [n.id, n.region]));
  const lines = [
    "digraph platform {",
    `  graph [rankdir=LR, newrank=true, nodesep=0.15, ranksep=0.4, fontname=${quote(FONT)}, fontsize=14, labelloc=t, label=${quote(model.title)}];`,
    `  node [fontname=${quote(FONT)}, fontsize=10, style=filled, penwidth=0.8, margin="0.14,0.05"];`,
    `  edge [fontname=${quote(FONT)}, fontsize=8, color="#555555", fontcolor="#333333", arrowsize=0.6];`,
  ];
  for (const region of model.regions) {
    lines.push(`  subgraph ${quote(`cluster_${region.region}`)} {`, `    label=${quote(region.label)}; style="rounded"; color="#7f7f7f"; penwidth=1.5; fontsize=13;`);
    for (const cluster of model.clusters.filter((c) => c.region === region.region)) {
      lines.push(`    subgraph ${quote(`cluster_${cluster.id}`)} {`, `      label=${quote(cluster.label)}; style="rounded,filled"; fillcolor="#fafafa"; color="#bbbbbb"; fontsize=11;`);
      for (const node of model.nodes.filter((n) => n.cluster === cluster.id)) {
        const rounded = node.shape === "box" ? ', style="rounded,filled"' : "";
        // "stream" over "Kinesis stream" says nothing twice.
        const label = node.kind.toLowerCase().includes(node.label.toLowerCase()) ? node.kind : `${node.label}\n${node.kind}`;
        lines.push(`      ${quote(node.id)} [label=${quote(label)}, shape=${node.shape}, fillcolor=${quote(node.fill)}${rounded}];`);
      }
      lines.push("    }");
    }
    lines.push("  }");
  }
  lines.push(...regionsSideBySide(model));
  const regionIndex = new Map(model.regions.map((r, i) => [r.region, i]));
  const order = (id: string) => regionIndex.get(nodeRegion.get(id) ?? "") ?? 0;
  for (const edge of model.edges) {
    const label = edge.backLabel === undefined ? edge.label : edge.backLabel === edge.label ? `${edge.label} (both ways)` : `${edge.label}; back: ${edge.backLabel}`;
    const attributes = [`label=${quote(label)}`];
    if (!edge.directed) attributes.push("dir=none");
    if (edge.backLabel !== undefined) attributes.push("dir=both");
    if (edge.style === "support") attributes.push('style=dashed, color="#999999", fontcolor="#777777"');
    if (order(edge.from) !== order(edge.to)) attributes.push('color="#1f5fbf", fontcolor="#1f5fbf", penwidth=1.6');
    // An edge back into an earlier region (a reverse rule) does not pull that region to the right.
    if (order(edge.from) > order(edge.to)) attributes.push("constraint=false");
    lines.push(`  ${quote(edge.from)} -> ${quote(edge.to)} [${attributes.join(", ")}];`);
  }
  lines.push("}");
  return `${lines.join("\n")}\n`;
}

/**
 * Left to right, Graphviz stacks clusters that share ranks. An invisible node between two
 * regions, after every node of the first and before every node of the second, puts each
 * region's whole flow to the right of the one before it.
 */
function regionsSideBySide(model: DiagramModel): string[] {
  const lines: string[] = [];
  model.regions.slice(1).forEach((region, i) => {
    const gap = quote(`region-gap-${i + 1}`);
    lines.push(`  ${gap} [shape=point, style=invis, width=0, label=""];`);
    for (const node of model.nodes.filter((n) => n.region === model.regions[i].region)) lines.push(`  ${quote(node.id)} -> ${gap} [style=invis];`);
    for (const node of model.nodes.filter((n) => n.region === region.region)) lines.push(`  ${gap} -> ${quote(node.id)} [style=invis];`);
  });
  return lines;
}

/** DOT → SVG with Graphviz in WebAssembly: no system package. */
export async function renderSvg(dot: string): Promise<string> {
  const { instance } = await import("@viz-js/viz");
  const viz = await instance();
  return viz.renderString(dot, { format: "svg" });
}

/**
 * Font files a Debian/Ubuntu machine has when a font package is installed (fonts-dejavu-core,
 * fonts-liberation, fonts-noto-core). The WebAssembly build of resvg has no file system, so
 * it takes fonts only as buffers (`fontBuffers`, its typings' CustomFontsOptions): without
 * one it draws no text at all.
 */
export const FONT_CANDIDATES = [
  "/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf",
  "/usr/share/fonts/truetype/liberation/LiberationSans-Regular.ttf",
  "/usr/share/fonts/truetype/liberation2/LiberationSans-Regular.ttf",
  "/usr/share/fonts/truetype/noto/NotoSans-Regular.ttf",
  "/usr/share/fonts/dejavu/DejaVuSans.ttf",
];

export function findFontFile(candidates: string[] = FONT_CANDIDATES): string | undefined {
  return candidates.find((file) => fs.existsSync(file));
}

let resvgReady: Promise<void> | undefined;

/** SVG → PNG at its natural size (8 pt edge labels come out 11 px high), with text in the given font file. */
export async function renderPng(svg: string, fontFile: string): Promise<Buffer> {
  const resvg = await import("@resvg/resvg-wasm");
  resvgReady ??= resvg.initWasm(fs.readFileSync(require.resolve("@resvg/resvg-wasm/index_bg.wasm")));
  await resvgReady;
  const font = new Uint8Array(fs.readFileSync(fontFile));
  const renderer = new resvg.Resvg(svg, {
    fitTo: { mode: "zoom", value: 1 },
    background: "white",
    font: { fontBuffers: [font], defaultFontFamily: familyOf(fontFile), sansSerifFamily: familyOf(fontFile) },
  });
  return Buffer.from(renderer.render().asPng());
}

/** "DejaVuSans.ttf" → "DejaVu Sans", the family name resvg matches font-family against. */
function familyOf(fontFile: string): string {
  return path
    .basename(fontFile)
    .replace(/(-Regular)?\.(ttf|otf)$/i, "")
    .replace(/([a-z])([A-Z])/g, "$1 $2");
}

export interface WrittenDiagram {
  readonly svgFile: string;
  readonly dotFile: string;
  readonly pngFile?: string;
  /** Why no PNG was written, when none was. */
  readonly pngSkipped?: string;
}

/** Writes the SVG, the DOT beside it and, when one of `fontCandidates` exists, a PNG. */
export async function writeDiagram(evaluations: StackEvaluation[], svgFile: string, fontCandidates: string[] = FONT_CANDIDATES): Promise<WrittenDiagram> {
  const fontFile = findFontFile(fontCandidates);
  const dot = diagramDot(diagramModel(evaluations));
  const svg = await renderSvg(dot);
  fs.mkdirSync(path.dirname(svgFile), { recursive: true });
  const base = svgFile.replace(/\.svg$/i, "");
  const dotFile = `${base}.dot`;
  fs.writeFileSync(svgFile, svg);
  fs.writeFileSync(dotFile, dot);
  if (!fontFile) {
    return { svgFile, dotFile, pngSkipped: `no PNG: no font file found (looked for ${fontCandidates.join(", ") || "none"}); install one, e.g. apt-get install fonts-dejavu-core` };
  }
  const pngFile = `${base}.png`;
  fs.writeFileSync(pngFile, await renderPng(svg, fontFile));
  return { svgFile, dotFile, pngFile };
}

/** Where the diagram goes: the file given, or out/plan-<stack>.svg. */
export function diagramFile(diagram: string, stack: string): string {
  return path.resolve(diagram === WITHOUT_VALUE ? path.join(PROJECT_DIR, "out", `plan-${stack}.svg`) : diagram);
}
