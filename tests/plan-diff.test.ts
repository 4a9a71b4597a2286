import { execFileSync } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { PROJECT_DIR } from "../scripts/engine";
import { evaluateRef, readPlanDocument, resolveBase, runPlanDiff } from "../scripts/plan-base";
import { PlanDocument, PlanResource, REPLACEMENT_FIELDS, diffExitCode, diffPlans, formatValue, isIgnored, parsePropertyPath, renderPlanDiff } from "../scripts/plan-diff";
import { graphDocument } from "../scripts/plan";
import { SECRET_MASK, SECRET_SIGNATURE, SECRET_SIGNATURE_KEY } from "../scripts/secrets";
import { evaluateStage } from "../scripts/stage-evaluation";
import { cachedEvaluateStack } from "./support/evaluation-cache";
import { evaluate, stackConfigWith } from "./support/stack";

const STACK_URN = "urn:pulumi:prod::data-platform::pulumi:pulumi:Stack";
const urnOf = (type: string, name: string) => `${STACK_URN}$${type}::${name}`;
const BUCKET = "aws:s3/bucket:Bucket";
const CLUSTER = "aws:rds/cluster:Cluster";

function resource(type: string, name: string, inputs: Record<string, unknown>, options: Partial<PlanResource> = {}): PlanResource {
  return { urn: urnOf(type, name), type, name, protect: false, ignoreChanges: [], region: "eu-west-1", inputs, ...options };
}
const plan = (...resources: PlanResource[]): PlanDocument => ({ stack: "prod", resources });
const envelope = (value: unknown) => ({ [SECRET_SIGNATURE_KEY]: SECRET_SIGNATURE, value });
const text = (base: PlanDocument, head: PlanDocument, format: "text" | "markdown" = "text") => renderPlanDiff(diffPlans(base, head), { format, baseLabel: "main", documents: [base, head] });

describe("diffPlans on hand-built plans", () => {
  it("flags a protected bucket whose name changes as a replacement, and --fail-on-replace refuses it", () => {
    const base = plan(resource(BUCKET, "dp-prod-lake-raw", { bucket: "dp-prod-lake-raw", forceDestroy: false }, { protect: true }));
    const head = plan(resource(BUCKET, "dp-prod-lake-raw", { bucket: "dp-prod-lake-raw-v2", forceDestroy: false }, { protect: true }));
    const diff = diffPlans(base, head);
    expect(diff.changed).toHaveLength(1);
    expect(diff.changed[0]).toMatchObject({ protect: true, replacedBecause: ["bucket"] });
    expect(diff.changed[0].changes).toEqual([{ path: ["bucket"], old: "dp-prod-lake-raw", new: "dp-prod-lake-raw-v2", forcesReplacement: true }]);
    expect(diff.blockers).toEqual([expect.objectContaining({ name: "dp-prod-lake-raw", reason: "replaced (bucket)" })]);
    expect(diffExitCode(diff, true)).toBe(1);
    expect(diffExitCode(diff, false)).toBe(0);
    const printed = text(base, head);
    expect(printed).toContain(`+- ${BUCKET}  dp-prod-lake-raw  (protected)  REPLACE (bucket)`);
    expect(printed).toContain('     bucket: "dp-prod-lake-raw" → "dp-prod-lake-raw-v2"  [forces replacement]');
    expect(printed).toContain(`!! Protected resource would be replaced (bucket): ${BUCKET} dp-prod-lake-raw (${urnOf(BUCKET, "dp-prod-lake-raw")})`);
  });

  it("shows an update in place of a protected resource without refusing it", () => {
    const base = plan(resource(CLUSTER, "dp-prod-oltp-cluster", { backupRetentionPeriod: 14 }, { protect: true }));
    const head = plan(resource(CLUSTER, "dp-prod-oltp-cluster", { backupRetentionPeriod: 21 }, { protect: true }));
    const diff = diffPlans(base, head);
    expect(diff.changed[0]).toMatchObject({ replacedBecause: [], changes: [{ path: ["backupRetentionPeriod"], old: 14, new: 21, forcesReplacement: false }] });
    expect(diff.blockers).toEqual([]);
    expect(text(base, head)).toContain(`~  ${CLUSTER}  dp-prod-oltp-cluster  (protected)\n     backupRetentionPeriod: 14 → 21`);
  });

  it("does not count a field the resource ignores as a change, even one that would force a replacement", () => {
    const ignoreChanges = ["databaseName", "globalClusterIdentifier", 'tags["Cost Centre"]'];
    const base = plan(resource(CLUSTER, "dp-prod-oltp-cluster", { databaseName: "platform", globalClusterIdentifier: "g1", tags: { "Cost Centre": "cc-1", Stage: "prod" } }, { protect: true, ignoreChanges }));
    const head = plan(resource(CLUSTER, "dp-prod-oltp-cluster", { databaseName: "reporting", globalClusterIdentifier: "g2", tags: { "Cost Centre": "cc-2", Stage: "prod" } }, { protect: true, ignoreChanges }));
    const diff = diffPlans(base, head);
    expect(diff.changed[0].changes).toEqual([]);
    expect(diff.changed[0].replacedBecause).toEqual([]);
    expect(diff.changed[0].ignored).toEqual([["databaseName"], ["globalClusterIdentifier"], ["tags", "Cost Centre"]]);
    expect(diff.blockers).toEqual([]);
    const printed = text(base, head);
    expect(printed).toContain("0 to add, 0 to delete, 0 to change (0 replaced)");
    expect(printed).toContain(`${CLUSTER}  dp-prod-oltp-cluster: no change (ignoreChanges: databaseName, globalClusterIdentifier, tags["Cost Centre"])`);
  });

  it("masks secrets on both sides: an old envelope in clear equals the new [secret], and no plaintext is printed", () => {
    const plaintext = "Pl41nt3xtAuthT0kenThatMustNeverBePrinted";
    const base = plan(resource("aws:elasticache/replicationGroup:ReplicationGroup", "dp-prod-cache-redis", { authTokenWo: envelope(plaintext), authTokenWoVersion: 1, nodeType: "cache.r7g.large" }));
    const head = plan(
      resource("aws:elasticache/replicationGroup:ReplicationGroup", "dp-prod-cache-redis", { authTokenWo: SECRET_MASK, authTokenWoVersion: 2, nodeType: "cache.r7g.large" }),
      // A copy of the plaintext that nothing marked as secret.
      resource("aws:ssm/parameter:Parameter", "dp-prod-leak", { value: `redis://:${plaintext}@host` }),
    );
    const diff = diffPlans(base, head);
    expect(diff.changed[0].changes.map((c) => c.path)).toEqual([["authTokenWoVersion"]]);
    for (const format of ["text", "markdown"] as const) {
      const printed = text(base, head, format);
      expect(printed).not.toContain(plaintext);
      expect(printed).toContain(`+ aws:ssm/parameter:Parameter  dp-prod-leak`);
    }
    // A secret whose value changes inside envelopes still reads [secret] on both sides.
    const rotated = plan(resource("aws:elasticache/replicationGroup:ReplicationGroup", "dp-prod-cache-redis", { authTokenWo: envelope("another"), authTokenWoVersion: 1, nodeType: "cache.r7g.large" }));
    expect(diffPlans(base, rotated).changed).toEqual([]);
    const madePlain = plan(resource("aws:elasticache/replicationGroup:ReplicationGroup", "dp-prod-cache-redis", { authTokenWo: "now-plain", authTokenWoVersion: 1, nodeType: "cache.r7g.large" }));
    expect(text(base, madePlain)).toContain('authTokenWo: [secret] → "now-plain"');
  });

  it("lists resources added and removed, and a protected one removed as a blocker", () => {
    const queue = resource("aws:sqs/queue:Queue", "dp-prod-ingest-dlq", { messageRetentionSeconds: 1209600 }, { protect: true });
    const topic = resource("aws:sns/topic:Topic", "dp-prod-fanout", { name: "dp-prod-fanout" });
    const alarm = resource("aws:cloudwatch/metricAlarm:MetricAlarm", "dp-prod-iterator-age", { threshold: 60000 });
    const diff = diffPlans(plan(queue, alarm), plan(alarm, topic));
    expect(diff.added.map((r) => r.name)).toEqual(["dp-prod-fanout"]);
    expect(diff.removed.map((r) => r.name)).toEqual(["dp-prod-ingest-dlq"]);
    expect(diff.changed).toEqual([]);
    expect(diff.blockers).toEqual([expect.objectContaining({ name: "dp-prod-ingest-dlq", reason: "deleted" })]);
    const printed = text(plan(queue, alarm), plan(alarm, topic));
    expect(printed).toContain("+ aws:sns/topic:Topic  dp-prod-fanout");
    expect(printed).toContain("- aws:sqs/queue:Queue  dp-prod-ingest-dlq  (protected)");
  });

  it("reports a rename without an alias as a delete + create of the same resource", () => {
    const before = resource("aws:dynamodb/table:Table", "dp-prod-speed", { name: "dp-prod-speed", hashKey: "pk" }, { protect: true });
    // Moved under a component: the URN changes, the physical name does not.
    const after = { ...resource("aws:dynamodb/table:Table", "dp-prod-speed-layer", { name: "dp-prod-speed", hashKey: "pk" }, { protect: true }), urn: `${STACK_URN}$dataplatform:ingestion:IngestionLayer$aws:dynamodb/table:Table::dp-prod-speed-layer` };
    const diff = diffPlans(plan(before), plan(after));
    expect(diff.added).toEqual([]);
    expect(diff.removed).toEqual([]);
    expect(diff.moved).toEqual([{ from: expect.objectContaining({ urn: before.urn }), to: expect.objectContaining({ urn: after.urn }) }]);
    expect(diff.blockers[0].reason).toBe(`URN changed without an alias (delete + create as ${after.urn})`);
    expect(text(plan(before), plan(after))).toContain("-+ aws:dynamodb/table:Table  dp-prod-speed  (protected): URN changed without an alias, delete + create");
  });

  it("follows nested inputs and JSON documents to the leaf that changed, and shortens long values", () => {
    const policy = (action: string) => JSON.stringify({ Version: "2012-10-17", Statement: [{ Effect: "Allow", Action: action, Resource: "*" }] });
    const long = "x".repeat(200);
    const base = plan(resource("aws:s3/bucketReplicationConfig:BucketReplicationConfig", "dp-prod-lake-raw-replication", { rules: [{ id: "dr", destination: { bucket: "arn:a", storageClass: "STANDARD" } }] }), resource("aws:iam/rolePolicy:RolePolicy", "dp-prod-loader", { policy: policy("s3:GetObject"), description: "short" }));
    const head = plan(resource("aws:s3/bucketReplicationConfig:BucketReplicationConfig", "dp-prod-lake-raw-replication", { rules: [{ id: "dr", destination: { bucket: "arn:b", storageClass: "STANDARD" } }] }), resource("aws:iam/rolePolicy:RolePolicy", "dp-prod-loader", { policy: policy("s3:*"), description: long }));
    const printed = text(base, head);
    expect(printed).toContain('     rules[0].destination.bucket: "arn:a" → "arn:b"');
    expect(printed).toContain('     policy.Statement[0].Action: "s3:GetObject" → "s3:*"');
    expect(printed).toContain(`     description: "short" → "${"x".repeat(78)}…`);
    expect(formatValue(long)).toHaveLength(80);
    expect(formatValue(undefined)).toBe("(none)");
  });

  it("treats a move to another region as a replacement", () => {
    const base = plan(resource("aws:kinesis/stream:Stream", "dp-prod-events", { name: "dp-prod-events" }, { protect: true }));
    const head = plan(resource("aws:kinesis/stream:Stream", "dp-prod-events", { name: "dp-prod-events" }, { protect: true, region: "eu-central-1" }));
    expect(diffPlans(base, head).blockers[0].reason).toBe("replaced (region eu-west-1 → eu-central-1)");
  });

  it("renders Markdown for the job summary", () => {
    const base = plan(resource(BUCKET, "dp-prod-lake-raw", { bucket: "a" }, { protect: true }));
    const head = plan(resource(BUCKET, "dp-prod-lake-raw", { bucket: "b" }, { protect: true }));
    const markdown = renderPlanDiff(diffPlans(base, head), { format: "markdown", baseLabel: "origin/main (abc)", sections: [{ title: "Cost delta", lines: ["| total | +$0 |"] }] });
    expect(markdown.split("\n").slice(0, 3)).toEqual(["### Plan diff for prod: origin/main (abc) → this revision", "", "0 to add, 0 to delete, 1 to change (1 replaced), 0 URN changes (delete + create)"]);
    expect(markdown).toContain("**Protected resources replaced or deleted:**\n- Protected resource would be replaced (bucket)");
    expect(markdown).toContain("```diff\n+- aws:s3/bucket:Bucket  dp-prod-lake-raw");
    expect(markdown).toMatch(/```\n\n#### Cost delta\n\n\| total \| \+\$0 \|$/);
  });

  it("reads Pulumi property paths, wildcards included", () => {
    expect(parsePropertyPath('rules[0].destination["storage class"]')).toEqual(["rules", 0, "destination", "storage class"]);
    expect(isIgnored(["ingress", 3, "cidrBlocks", 0], ["ingress[*].cidrBlocks"])).toBe(true);
    expect(isIgnored(["ingress", 3, "fromPort"], ["ingress[*].cidrBlocks"])).toBe(false);
    expect(isIgnored(["replicas", 0, "regionName"], ["replicas"])).toBe(true);
  });

  it("keeps the replacement table to inputs the resources really have", () => {
    // Every listed field must be spelled as @pulumi/aws spells the input (camelCase), with its source cited.
    for (const [type, facts] of Object.entries(REPLACEMENT_FIELDS)) {
      expect(facts.source).toMatch(/^github:hashicorp\/terraform-provider-aws internal\/service\/\S+\.go @[0-9a-f]{40}$/);
      for (const field of facts.fields) expect({ type, field }).toEqual({ type, field: expect.stringMatching(/^[a-z][A-Za-z]*$/) });
    }
    expect(REPLACEMENT_FIELDS[CLUSTER].fields).toEqual(expect.arrayContaining(["engine", "clusterIdentifier", "databaseName", "storageEncrypted", "kmsKeyId"]));
    expect(REPLACEMENT_FIELDS[CLUSTER].fields).not.toContain("engineVersion");
  });
});

describe("the base of --diff", () => {
  it("tells a plan file from a git ref and refuses what is neither", () => {
    const file = path.join(fs.mkdtempSync(path.join(os.tmpdir(), "plan-diff-")), "plan-prod.json");
    fs.writeFileSync(file, JSON.stringify(plan()));
    expect(resolveBase(file)).toEqual({ kind: "file", file });
    const head = execFileSync("git", ["rev-parse", "HEAD"], { cwd: PROJECT_DIR, encoding: "utf8" }).trim();
    expect(resolveBase("HEAD")).toEqual({ kind: "ref", ref: "HEAD", commit: head });
    expect(() => resolveBase("no-such-branch-or-file")).toThrow("--diff no-such-branch-or-file: neither a plan JSON file nor a git ref");
    expect(() => readPlanDocument(file, "dev")).toThrow("the base plan is of stack prod, not dev");
  });

  it("removes the temporary worktree when the base revision's plan fails", async () => {
    const worktrees = () => execFileSync("git", ["worktree", "list", "--porcelain"], { cwd: PROJECT_DIR, encoding: "utf8" });
    const before = worktrees();
    const scratch = () => fs.readdirSync(os.tmpdir()).filter((entry) => entry.startsWith("plan-base-"));
    const scratchBefore = scratch();
    const head = execFileSync("git", ["rev-parse", "HEAD"], { cwd: PROJECT_DIR, encoding: "utf8" }).trim();
    await expect(evaluateRef({ kind: "ref", ref: "HEAD", commit: head }, "nosuchstack")).rejects.toThrow(/npm run plan -- --stack nosuchstack failed at HEAD \([0-9a-f]{12}\) \(exit 1\):\n[\s\S]*No stack file Pulumi\.nosuchstack\.yaml/);
    expect(worktrees()).toBe(before);
    expect(scratch()).toEqual(scratchBefore);
  });
});

describe("npm run plan -- --diff", () => {
  it("prints the diff as Markdown and exits 1 naming the protected resource that --fail-on-replace refuses", async () => {
    const dev = JSON.parse(JSON.stringify(graphDocument(await evaluate("dev")))) as PlanDocument;
    // The base revision had the raw bucket protected and under another explicit name.
    const base = { ...dev, resources: dev.resources.map((r) => (r.type === BUCKET && r.name === "dp-dev-lake-raw" ? { ...r, protect: true, inputs: { ...r.inputs, bucket: "dp-dev-lake-raw-old" } } : r)) };
    const scratch = fs.mkdtempSync(path.join(os.tmpdir(), "plan-diff-"));
    fs.writeFileSync(path.join(scratch, "base.json"), JSON.stringify(base));
    const args = [require.resolve("ts-node/dist/bin"), "--transpile-only", "scripts/plan.ts", "--stack", "dev", "--diff", path.join(scratch, "base.json"), "--format", "markdown", "--fail-on-replace", "--out", path.join(scratch, "head.json")];
    let result: { status: number; stdout: string; stderr: string };
    try {
      result = { status: 0, stdout: execFileSync(process.execPath, args, { cwd: PROJECT_DIR, encoding: "utf8", stdio: ["ignore", "pipe", "pipe"] }), stderr: "" };
    } catch (error) {
      result = error as typeof result;
    }
    expect(result.status).toBe(1);
    expect(result.stdout).toMatch(/^### Plan diff for dev: \S+base\.json → this revision\n/);
    expect(result.stdout).toContain('+- aws:s3/bucket:Bucket  dp-dev-lake-raw  (protected)  REPLACE (bucket)\n     bucket: "dp-dev-lake-raw-old" → (none)  [forces replacement]');
    expect(result.stderr).toContain(`--fail-on-replace: Protected resource would be replaced (bucket): aws:s3/bucket:Bucket dp-dev-lake-raw (${base.resources.find((r) => r.name === "dp-dev-lake-raw")?.urn})`);
  });
});

describe("diff of two real evaluations", () => {
  it("shows exactly what a changed config value changes in dev, and nothing of the regenerated secrets", async () => {
    const base = JSON.parse(JSON.stringify(graphDocument(await evaluate("dev")))) as PlanDocument;
    const changed = await evaluateStage("dev", { config: stackConfigWith("dev", { kinesisRetentionHours: 48 }), evaluate: cachedEvaluateStack });
    const head = JSON.parse(JSON.stringify(graphDocument(changed.evaluation))) as PlanDocument;
    const diff = diffPlans(base, head);
    expect(diff.added).toEqual([]);
    expect(diff.removed).toEqual([]);
    expect(diff.changed.map((c) => [c.type, c.name, c.changes.map((change) => [change.path.join("."), change.old, change.new])])).toEqual([
      ["aws:kinesis/stream:Stream", "dp-dev-ingestion-stream", [["retentionPeriod", 24, 48]]],
    ]);
    expect(diffExitCode(diff, true)).toBe(0);

    const file = path.join(fs.mkdtempSync(path.join(os.tmpdir(), "plan-diff-")), "plan-dev.json");
    fs.writeFileSync(file, JSON.stringify(base));
    const { output, exitCode } = await runPlanDiff({ stack: "dev", base: file, head, format: "text", failOnReplace: true });
    expect(exitCode).toBe(0);
    expect(output).toContain("~  aws:kinesis/stream:Stream  dp-dev-ingestion-stream\n     retentionPeriod: 24 → 48");
    // Each evaluation generates its own AUTH token; neither may appear.
    const tokens = [base, head].map((document) => document.resources.find((r) => r.type === "aws:elasticache/replicationGroup:ReplicationGroup")?.inputs?.authTokenWo as { value?: string } | string);
    for (const token of tokens) if (typeof token === "object") expect(output).not.toContain(token.value);
  });
});
