import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { PROJECT_DIR, PlannedResource, StackEvaluation, secretsOf } from "../scripts/engine";
import { DiagramModel, NODE_KINDS, diagramDot, diagramFile, diagramModel, findFontFile, renderSvg, writeDiagram } from "../scripts/plan-diagram";
import { WITHOUT_VALUE, parseCliArgs } from "../scripts/cli";
import { evaluateStage } from "../scripts/stage-evaluation";
import { cachedEvaluateStack } from "./support/evaluation-cache";
import { evaluate } from "./support/stack";

const COMMITTED_DOT = path.join(PROJECT_DIR, "docs", "architecture-prod.dot");
const REFRESH = "npm run plan -- --stack prod --diagram docs/architecture-prod.svg";

/** A hand-built registration: a custom resource in `region` unless told otherwise. */
function resource(stack: string, type: string, name: string, fields: Partial<PlannedResource> & { region?: string } = {}): PlannedResource {
  const urn = `urn:pulumi:${stack}::data-platform::${type}::${name}`;
  const custom = !type.startsWith("dataplatform:");
  return {
    urn,
    type,
    name,
    custom,
    remote: false,
    protect: false,
    ignoreChanges: [],
    dependencies: [],
    propertyDependencies: {},
    id: custom ? `${name}-id` : "",
    inputs: {},
    state: {},
    ...(custom ? { region: "eu-west-1" } : {}),
    ...fields,
  };
}

const stackOf = (stack: string, resources: PlannedResource[]): StackEvaluation => ({ stack, project: "data-platform", resources, outputs: {}, warnings: [], infos: [], errors: [] });

/** A small ingestion path: stream → mapping → consumer → table, a bucket notifying a function, and the plumbing around them. */
function ingestionGraph(stack = "dev"): PlannedResource[] {
  const component = resource(stack, "dataplatform:ingestion:IngestionLayer", `dp-${stack}-ingestion`);
  const lake = resource(stack, "dataplatform:lake:DataLake", `dp-${stack}-lake`);
  const child = (type: string, name: string, fields: Partial<PlannedResource> = {}, parent = component) => resource(stack, type, `${parent.name}-${name}`, { parent: parent.urn, ...fields });
  const key = child("aws:kms/key:Key", "key", { state: { arn: `arn:aws:kms:eu-west-1:1:key/${stack}-key` } });
  const stream = child("aws:kinesis/stream:Stream", "stream", { state: { arn: `arn:aws:kinesis:eu-west-1:1:stream/dp-${stack}-stream-1`, name: `dp-${stack}-stream-1` }, propertyDependencies: { kmsKeyId: [key.urn] } });
  const table = child("aws:dynamodb/table:Table", "speed-layer", { state: { arn: `arn:aws:dynamodb:eu-west-1:1:table/dp-${stack}-speed-1`, name: `dp-${stack}-speed-1` } });
  const role = child("aws:iam/role:Role", "consumer-role", { state: { arn: `arn:aws:iam::1:role/dp-${stack}-consumer-role` } });
  const consumer = child("aws:lambda/function:Function", "consumer-fn", {
    inputs: { environment: { variables: { SPEED_LAYER_TABLE: `dp-${stack}-speed-1`, DATA_KEY_ARN: `arn:aws:kms:eu-west-1:1:key/${stack}-key` } }, role: role.state.arn },
    state: { arn: `arn:aws:lambda:eu-west-1:1:function:dp-${stack}-consumer`, name: `dp-${stack}-consumer` },
    propertyDependencies: { environment: [table.urn, key.urn], role: [role.urn] },
  });
  const mapping = child("aws:lambda/eventSourceMapping:EventSourceMapping", "mapping", {
    inputs: { eventSourceArn: stream.state.arn, functionName: consumer.state.arn },
    propertyDependencies: { eventSourceArn: [stream.urn], functionName: [consumer.urn] },
  });
  const alarm = child("aws:cloudwatch/metricAlarm:MetricAlarm", "iterator-age", { propertyDependencies: { dimensions: [consumer.urn, stream.urn] } });
  const logs = child("aws:cloudwatch/logGroup:LogGroup", "consumer-logs");
  const bucket = child("aws:s3/bucket:Bucket", "raw", { state: { arn: `arn:aws:s3:::dp-${stack}-raw-1`, bucket: `dp-${stack}-raw-1` } }, lake);
  const versioning = child("aws:s3/bucketVersioning:BucketVersioning", "raw-versioning", { propertyDependencies: { bucket: [bucket.urn] } }, lake);
  const transform = child("aws:lambda/function:Function", "transform-fn", { state: { arn: `arn:aws:lambda:eu-west-1:1:function:dp-${stack}-transform` } }, lake);
  const permission = child("aws:lambda/permission:Permission", "raw-invokes", { propertyDependencies: { function: [transform.urn], sourceArn: [bucket.urn] } }, lake);
  const notification = child("aws:s3/bucketNotification:BucketNotification", "raw-notification", {
    inputs: { bucket: bucket.id, lambdaFunctions: [{ lambdaFunctionArn: transform.state.arn }] },
    // As the engine records it: the notification waits on its bucket's versioning too.
    propertyDependencies: { bucket: [versioning.urn], lambdaFunctions: [transform.urn] },
  }, lake);
  return [component, lake, key, stream, table, role, consumer, mapping, alarm, logs, bucket, versioning, transform, permission, notification];
}

const edge = (model: DiagramModel, from: string, to: string) => model.edges.find((e) => e.from === from && e.to === to);
const nodeNames = (model: DiagramModel) => model.nodes.map((n) => n.id);

describe("diagram model from a hand-built graph", () => {
  const model = diagramModel([stackOf("dev", ingestionGraph())]);

  it("draws the resources data passes through, and leaves out IAM, permissions, alarms, logs and attachments", () => {
    expect(nodeNames(model)).toEqual(["dev/dp-dev-ingestion-consumer-fn", "dev/dp-dev-ingestion-key", "dev/dp-dev-ingestion-speed-layer", "dev/dp-dev-ingestion-stream", "dev/dp-dev-lake-raw", "dev/dp-dev-lake-transform-fn"]);
  });

  it("turns connectors into labelled edges between the nodes they join, in the direction data flows", () => {
    expect(edge(model, "dev/dp-dev-ingestion-stream", "dev/dp-dev-ingestion-consumer-fn")).toMatchObject({ label: "event source", directed: true });
    // The notification names the bucket through its versioning, an attachment that stands for the bucket.
    expect(edge(model, "dev/dp-dev-lake-raw", "dev/dp-dev-lake-transform-fn")).toMatchObject({ label: "object created" });
  });

  it("labels a function's edge with the environment variable that names the store, and draws no edge for keys or roles", () => {
    expect(edge(model, "dev/dp-dev-ingestion-consumer-fn", "dev/dp-dev-ingestion-speed-layer")?.label).toBe("speed layer table");
    expect(model.edges.filter((e) => e.to.endsWith("-key") || e.from.endsWith("-key"))).toEqual([]);
    expect(model.edges).toHaveLength(3);
  });

  it("clusters nodes by component inside their region, with short labels", () => {
    expect(model.regions).toEqual([{ region: "eu-west-1", label: "eu-west-1: stack dev" }]);
    expect(model.clusters.map((c) => c.label)).toEqual(["IngestionLayer", "DataLake"]);
    const consumer = model.nodes.find((n) => n.id === "dev/dp-dev-ingestion-consumer-fn");
    expect(consumer).toMatchObject({ label: "consumer", kind: "Lambda", cluster: "eu-west-1/dev/dp-dev-ingestion" });
  });

  it("draws a connector of an unknown type undirected, named by its type, so a new kind still shows", () => {
    const resources = ingestionGraph();
    const [stream, table] = ["-stream", "-speed-layer"].map((suffix) => resources.find((r) => r.name.endsWith(suffix)) as PlannedResource);
    const pipe = resource("dev", "aws:pipes/pipe:Pipe", "dp-dev-pipe", { propertyDependencies: { source: [stream.urn], target: [table.urn] } });
    const withPipe = diagramModel([stackOf("dev", [...resources, pipe])]);
    expect(withPipe.edges).toContainEqual(expect.objectContaining({ from: "dev/dp-dev-ingestion-speed-layer", to: "dev/dp-dev-ingestion-stream", label: "pipe", directed: false }));
  });

  it("writes the same DOT whatever order the resources were registered in", () => {
    const resources = ingestionGraph();
    const shuffled = [...resources].reverse();
    expect(diagramDot(diagramModel([stackOf("dev", shuffled)]))).toBe(diagramDot(model));
  });
});

describe("diagram model across two stacks", () => {
  /** prod replicates its raw bucket into prod-dr's, whose ARN it read through its StackReference (so no URN recorded). */
  function twoStacks(): StackEvaluation[] {
    const primary = ingestionGraph("prod");
    const standby = ingestionGraph("prod-dr").map((r) => (r.custom ? { ...r, region: "eu-central-1" } : r));
    const drBucket = standby.find((r) => r.name.endsWith("-raw")) as PlannedResource;
    const prodBucket = primary.find((r) => r.name.endsWith("-raw")) as PlannedResource;
    const replication = resource("prod", "aws:s3/bucketReplicationConfig:BucketReplicationConfig", "dp-prod-replication-raw", {
      inputs: { bucket: prodBucket.id, rules: [{ status: "Enabled", destination: { bucket: drBucket.state.arn, replicationTime: { status: "Enabled" } } }] },
      propertyDependencies: { bucket: [prodBucket.urn] },
    });
    const reverse = resource("prod-dr", "aws:s3/bucketReplicationConfig:BucketReplicationConfig", "dp-prod-dr-replication-raw", {
      region: "eu-central-1",
      inputs: { bucket: drBucket.id, rules: [{ status: "Disabled", destination: { bucket: prodBucket.state.arn } }] },
      propertyDependencies: { bucket: [drBucket.urn] },
    });
    // The standby's consumer is named like the primary's table's name in the standby's inputs: never a link by itself.
    return [stackOf("prod", [...primary, replication]), stackOf("prod-dr", [...standby, reverse])];
  }

  it("puts each stack's region in its own outer cluster, the primary first", () => {
    const model = diagramModel(twoStacks());
    expect(model.regions.map((r) => r.label)).toEqual(["eu-west-1: stack prod", "eu-central-1: stack prod-dr"]);
  });

  it("links buckets across stacks by the ARN a rule holds, as one line with both directions", () => {
    const model = diagramModel(twoStacks());
    expect(edge(model, "prod/dp-prod-lake-raw", "prod-dr/dp-prod-dr-lake-raw")).toMatchObject({ label: "S3 replication, RTC 15 min", backLabel: "S3 replication (disabled)" });
    expect(edge(model, "prod-dr/dp-prod-dr-lake-raw", "prod/dp-prod-lake-raw")).toBeUndefined();
    const crossStack = model.edges.filter((e) => e.from.split("/")[0] !== e.to.split("/")[0]);
    expect(crossStack).toHaveLength(1);
  });

  it("keeps every region to the right of the one before it in the DOT", () => {
    const dot = diagramDot(diagramModel(twoStacks()));
    expect(dot).toContain('"prod/dp-prod-lake-raw" -> "region-gap-1" [style=invis];');
    expect(dot).toContain('"region-gap-1" -> "prod-dr/dp-prod-dr-lake-raw" [style=invis];');
    expect(dot).toContain('label="S3 replication, RTC 15 min; back: S3 replication (disabled)", dir=both');
  });
});

describe("--diagram [file]", () => {
  it("is read by the shared parser, with or without a file", () => {
    const diagramFlags = (argv: string[]) => parseCliArgs(argv, "usage", ["fail-on-replace", "cost"], ["diagram"]).flags;
    expect(diagramFlags(["--stack", "prod", "--diagram"])).toEqual({ stack: "prod", diagram: WITHOUT_VALUE });
    expect(diagramFlags(["--diagram", "--stack", "dev"])).toEqual({ stack: "dev", diagram: WITHOUT_VALUE });
    expect(diagramFlags(["--stack", "dev", "--diagram", "x.svg", "--out", "p.json"])).toEqual({ stack: "dev", out: "p.json", diagram: "x.svg" });
    expect(diagramFlags(["--diagram=y.svg", "--stack", "dev"])).toEqual({ stack: "dev", diagram: "y.svg" });
    expect(diagramFlags(["--stack", "dev"])).toEqual({ stack: "dev" });
  });

  it("defaults to out/plan-<stack>.svg", () => {
    expect(diagramFile(WITHOUT_VALUE, "prod")).toBe(path.join(PROJECT_DIR, "out", "plan-prod.svg"));
    expect(diagramFile("pics/a.svg", "prod")).toBe(path.resolve("pics/a.svg"));
  });
});

describe("diagram of the real dev stack", () => {
  let model: DiagramModel;
  beforeAll(async () => {
    model = diagramModel([await evaluate("dev")]);
  });

  it("follows both ingest paths, the lake and the warehouse load", () => {
    const flows: [string, string, string][] = [
      ["dp-dev-ingestion-api", "dp-dev-ingestion-ingest-front-fn", "invoke"],
      ["dp-dev-ingestion-ingest-front-fn", "dp-dev-ingestion-ingest", "ingest queue url"],
      ["dp-dev-ingestion-ingest", "dp-dev-ingestion-queue-consumer-fn", "event source"],
      ["dp-dev-ingestion-queue-consumer-fn", "dp-dev-lake-raw", "raw bucket"],
      ["dp-dev-ingestion-stream", "dp-dev-ingestion-stream-consumer-fn", "event source"],
      ["dp-dev-ingestion-stream-consumer-fn", "dp-dev-ingestion-speed-layer", "speed layer table"],
      ["dp-dev-ingestion-stream", "dp-dev-ingestion-firehose", "reads"],
      ["dp-dev-ingestion-firehose", "dp-dev-lake-raw", "delivers"],
      ["dp-dev-lake-raw", "dp-dev-lake-transform-fn", "object created"],
      ["dp-dev-lake-transform-fn", "dp-dev-lake-transformed", "transformed bucket"],
      ["dp-dev-lake-transformed", "dp-dev-lake-staging-fn", "object created"],
      ["dp-dev-lake-staged", "dp-dev-warehouse-loader-fn", "EventBridge rule"],
      ["dp-dev-warehouse-loader-fn", "dp-dev-warehouse-cluster", "warehouse cluster id"],
      ["dp-dev-lake-events", "dp-dev-aggregator-queue", "subscription (sqs)"],
    ];
    for (const [from, to, label] of flows) expect({ from, to, label: edge(model, `dev/${from}`, `dev/${to}`)?.label }).toEqual({ from, to, label });
  });

  it("has no IAM, alarm, log, permission or parameter node, and every edge joins two drawn nodes", () => {
    const types = new Set(model.nodes.map((n) => n.type));
    expect([...types].filter((t) => /^aws:(iam|ssm)|metricAlarm|logGroup|lambda\/permission|Policy:/.test(t))).toEqual([]);
    expect([...types].filter((t) => !NODE_KINDS[t])).toEqual([]);
    const ids = new Set(nodeNames(model));
    expect(model.edges.filter((e) => !ids.has(e.from) || !ids.has(e.to))).toEqual([]);
  });

  it("renders to SVG with Graphviz in WebAssembly, and to PNG only with a font, saying why not otherwise", async () => {
    const directory = fs.mkdtempSync(path.join(os.tmpdir(), "diagram-"));
    const svg = await renderSvg(diagramDot(model));
    expect(svg).toMatch(/^<\?xml[\s\S]*<svg/);
    expect(svg).toContain(">speed&#45;layer</text>");
    const without = await writeDiagram([await evaluate("dev")], path.join(directory, "dev.svg"), [path.join(directory, "no-such-font.ttf")]);
    expect(without).toEqual({ svgFile: path.join(directory, "dev.svg"), dotFile: path.join(directory, "dev.dot"), pngSkipped: expect.stringContaining("apt-get install fonts-dejavu-core") });
    expect(fs.readFileSync(without.dotFile, "utf8")).toBe(diagramDot(model));
    expect(fs.existsSync(path.join(directory, "dev.png"))).toBe(false);
  });

  it("draws its PNG with the machine's font, when it has one", async () => {
    const font = findFontFile();
    const directory = fs.mkdtempSync(path.join(os.tmpdir(), "diagram-"));
    const written = await writeDiagram([stackOf("dev", ingestionGraph())], path.join(directory, "small.svg"));
    if (font === undefined) {
      expect(written.pngSkipped).toMatch(/no font file found/);
    } else {
      expect(fs.readFileSync(written.pngFile as string).subarray(1, 4).toString()).toBe("PNG");
    }
  });
});

describe("diagram of prod with its DR stack", () => {
  let model: DiagramModel;
  let dot: string;
  let stacks: StackEvaluation[];
  beforeAll(async () => {
    const { evaluation, partner } = await evaluateStage("prod", { evaluate: cachedEvaluateStack });
    stacks = [evaluation, partner as StackEvaluation];
    model = diagramModel(stacks);
    dot = diagramDot(model);
  });

  it("draws both regions side by side, each with its components", () => {
    expect(model.regions.map((r) => r.label)).toEqual(["eu-west-1: stack prod", "eu-central-1: stack prod-dr"]);
    const inDr = model.clusters.filter((c) => c.region === "eu-central-1").map((c) => c.label);
    expect(inDr).toEqual(expect.arrayContaining(["IngestionLayer", "DataLake", "KeyReplicas (prod)", "IngestionLayer (prod)"]));
  });

  it("draws every link between the regions", () => {
    for (const zone of ["raw", "transformed", "staged"]) {
      expect(edge(model, `prod/dp-prod-lake-${zone}`, `prod-dr/dp-prod-lake-${zone}`)).toMatchObject({ label: "S3 replication, RTC 15 min", backLabel: "S3 replication, RTC 15 min (disabled)" });
    }
    expect(edge(model, "prod/dp-prod-oltp-global", "prod-dr/dp-prod-oltp-cluster")?.label).toBe("Global Database member");
    expect(edge(model, "prod/dp-prod-ingestion-speed-layer", "prod/dp-prod-ingestion-speed-layer@eu-central-1")?.label).toBe("global table replica");
    expect(edge(model, "prod-dr/dp-prod-ingestion-stream-consumer-fn", "prod/dp-prod-ingestion-speed-layer@eu-central-1")?.label).toBe("speed layer table");
    expect(edge(model, "prod/dp-prod-warehouse-cluster", "prod-dr/dp-prod-dr-replication-copy-grant")?.label).toBe("snapshot copies");
    expect(edge(model, "prod/dp-prod-backup-vault", "prod-dr/dp-prod-backup-vault")?.label).toBe("backup copies");
    expect(edge(model, "prod/dp-prod-keys-data", "prod/dp-prod-key-replicas-data")?.label).toBe("multi-Region replica");
  });

  it("links a resource to its namesake in the other region only where data is copied", () => {
    const namesakes = model.edges.filter((e) => e.from.split("/")[1] === e.to.split("/")[1]).map((e) => `${e.from.split("/")[1]}: ${e.label}`);
    expect(namesakes.sort()).toEqual(["dp-prod-backup-vault: backup copies", ...["raw", "staged", "transformed"].map((zone) => `dp-prod-lake-${zone}: S3 replication, RTC 15 min`)]);
  });

  it("holds no secret the program declared", async () => {
    // The plaintexts the engine saw only as secrets (the generated Redis AUTH token among them), kept beside the evaluation.
    const plaintexts = stacks.flatMap((stack) => secretsOf(stack).plaintexts);
    expect(plaintexts.length).toBeGreaterThanOrEqual(2);
    const svg = await renderSvg(dot);
    expect(plaintexts.filter((plaintext) => dot.includes(plaintext) || svg.includes(plaintext))).toEqual([]);
  });

  it("matches the committed docs/architecture-prod.dot, and the committed SVG is its rendering", async () => {
    const committed = fs.existsSync(COMMITTED_DOT) ? fs.readFileSync(COMMITTED_DOT, "utf8") : "(missing)";
    if (committed !== dot) throw new Error(`docs/architecture-prod.dot is not the diagram of the current program. Refresh it (and the SVG beside it) with:\n  ${REFRESH}`);
    const svg = fs.readFileSync(COMMITTED_DOT.replace(/\.dot$/, ".svg"), "utf8");
    if (svg !== (await renderSvg(committed))) throw new Error(`docs/architecture-prod.svg is not the rendering of docs/architecture-prod.dot. Refresh both with:\n  ${REFRESH}`);
  });
});
