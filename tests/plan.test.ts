import { execFileSync } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { PROJECT_DIR, StackEvaluation } from "../scripts/engine";
import { countByType, graphDocument, regionsInUse, renderTree } from "../scripts/plan";
import { evaluate } from "./support/stack";

/** Runs the plan CLI as users do; returns its exit status and output. */
function runPlan(args: string[]): { status: number; stdout: string; stderr: string } {
  try {
    const stdout = execFileSync(process.execPath, [require.resolve("ts-node/dist/bin"), "--transpile-only", "scripts/plan.ts", ...args], {
      cwd: PROJECT_DIR,
      encoding: "utf8",
      stdio: ["ignore", "pipe", "pipe"],
    });
    return { status: 0, stdout, stderr: "" };
  } catch (error) {
    const failed = error as { status: number; stdout: string; stderr: string };
    return { status: failed.status, stdout: failed.stdout, stderr: failed.stderr };
  }
}

describe("offline plan rendering", () => {
  let plan: StackEvaluation;
  beforeAll(async () => {
    plan = await evaluate("prod");
  });

  it("nests every component's children under it", () => {
    const tree = renderTree(plan);
    expect(tree).toHaveLength(plan.resources.length);
    const networkLine = tree.findIndex((line) => line.startsWith("dataplatform:network:Network  dp-prod-network"));
    expect(networkLine).toBeGreaterThanOrEqual(0);
    expect(tree[networkLine + 1]).toMatch(/^ {2}\S/);
    expect(tree).toContainEqual(expect.stringMatching(/^ {2}aws:kms\/key:Key {2}dp-prod-keys-data {2}\(protected, eu-west-1\)$/));
    expect(tree).toContainEqual(expect.stringMatching(/^ {2}awsx:ec2:Vpc {2}dp-prod-network-vpc {2}\(remote component\)$/));
  });

  it("counts resources per type and per region", () => {
    const counts = Object.fromEntries(countByType(plan));
    expect(counts["dataplatform:network:Network"]).toBe(1);
    expect(Object.values(counts).reduce((a, b) => a + b, 0)).toBe(plan.resources.length);
    const regions = regionsInUse(plan);
    // The primary region, and the DR region where prod's key replicas live.
    expect(Object.keys(regions).sort()).toEqual(["eu-central-1", "eu-west-1"]);
    expect(regions["eu-west-1"] + regions["eu-central-1"]).toBe(plan.resources.filter((r) => r.custom && r.region).length);
  });

  it("records which resource each input came from, as the engine receives it", () => {
    const encryption = plan.resources.find((r) => r.type === "aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration" && r.name === "dp-prod-lake-raw-encryption");
    const bucket = plan.resources.find((r) => r.type === "aws:s3/bucket:Bucket" && r.name === "dp-prod-lake-raw");
    expect(encryption?.propertyDependencies.bucket).toEqual([bucket?.urn]);
    expect(encryption?.dependencies).toContain(bucket?.urn);
    expect(encryption?.inputs.bucket).toBe(bucket?.id);
  });

  it("documents the whole graph as JSON", () => {
    const document = JSON.parse(JSON.stringify(graphDocument(plan)));
    expect(document).toMatchObject({ stack: "prod", project: "data-platform", resourceCount: plan.resources.length });
    expect(document.resources[0]).toEqual(expect.objectContaining({ urn: expect.any(String), type: expect.any(String), inputs: expect.any(Object) }));
  });
});

describe("npm run plan", () => {
  it("prints the tree, writes the graph (and with --diagram the picture) and exits 0 for a valid stack", () => {
    const outFile = path.join(fs.mkdtempSync(path.join(os.tmpdir(), "plan-")), "plan.json");
    const diagramFile = path.join(path.dirname(outFile), "architecture.svg");
    const result = runPlan(["--stack", "dev", "--out", outFile, "--diagram", diagramFile]);
    expect(result.status).toBe(0);
    expect(result.stdout).toMatch(/^Stack dev: \d+ resources/);
    expect(result.stdout).toContain("Resources per type:");
    expect(result.stdout).toContain("eu-west-1:");
    expect(result.stdout).toContain("No mandatory violations");
    expect(JSON.parse(fs.readFileSync(outFile, "utf8")).stack).toBe("dev");
    expect(result.stdout).toContain(`Architecture diagram written to ${diagramFile}, ${diagramFile.replace(/svg$/, "dot")}`);
    expect(fs.readFileSync(diagramFile, "utf8")).toContain("<svg");
  });

  it("exits 1 with every config error for a broken stack file", () => {
    const stackFile = path.join(PROJECT_DIR, "Pulumi.brokenplan.yaml");
    const prod = fs.readFileSync(path.join(PROJECT_DIR, "Pulumi.prod.yaml"), "utf8");
    fs.writeFileSync(stackFile, prod.replace("data-platform:azCount: 3", "data-platform:azCount: 1").replace("data-platform:backupRetentionDays: 14", "data-platform:backupRetentionDays: 0"));
    try {
      const result = runPlan(["--stack", "brokenplan"]);
      expect(result.status).toBe(1);
      expect(result.stderr).toContain("Invalid stage config in Pulumi.brokenplan.yaml (2 problems)");
      expect(result.stderr).toContain('data-platform:azCount = "1"');
      expect(result.stderr).toContain('data-platform:backupRetentionDays = "0"');
      expect(result.stdout).not.toContain("Resources per type");
    } finally {
      fs.rmSync(stackFile);
    }
  });

  it("refuses a missing --stack", () => {
    const result = runPlan([]);
    expect(result.status).toBe(1);
    expect(result.stderr).toContain("--stack is required");
  });
});
