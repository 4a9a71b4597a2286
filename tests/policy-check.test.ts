/**
 * The offline compliance check end to end: the real program under mocks, the whole pack
 * with each stack's policy config and the waivers, the CLI's exit codes and its JSON and
 * SARIF output.
 */
import * as aws from "@pulumi/aws";
import { execFileSync } from "child_process";
import * as path from "path";
import { PLATFORM_POLICIES } from "../policies/catalog";
import { Waiver, WaiverBook } from "../policies/waiver-logic";
import { PROJECT_DIR, StackEvaluation } from "../scripts/engine";
import { EXIT_ERROR, EXIT_MANDATORY_VIOLATIONS, EXIT_PASSED, checkEvaluation, exitCodeOf, renderReport, runPolicyCli, summarisePolicies } from "../scripts/policy";
import { toSarif } from "../scripts/policy-format";
import { PolicyReport } from "../scripts/policy-runner";
import { evaluate } from "./support/stack";

/** The program `pulumi up` runs, required lazily as the engine does (config must be set first). */
async function realProgram(): Promise<Record<string, unknown>> {
  const program = require(path.join(PROJECT_DIR, "index"));
  return (await (typeof program === "function" ? program : program.default)()) ?? {};
}

/** The real program plus resources a careless change might add, on a provider of their own. */
function programWith(addResources: (provider: aws.Provider) => void) {
  return async () => {
    const outputs = await realProgram();
    addResources(new aws.Provider("rogue-provider", { region: "eu-west-1" }));
    return outputs;
  };
}

const ROGUE_BUCKET = "rogue-bucket";
const ROGUE_CLUSTER = "rogue-cluster";
const TODAY = "2026-11-21";
const waiverBook = (waivers: Waiver[]): WaiverBook => ({ waivers, problems: [], today: TODAY });
const onRogue = (report: PolicyReport, name: string) => report.findings.filter((f) => f.resourceName === name);

describe.each(["dev", "prod"])("%s stack as it stands", (stack) => {
  let evaluation: StackEvaluation;
  let report: PolicyReport;
  beforeAll(async () => {
    evaluation = await evaluate(stack);
    report = await checkEvaluation(evaluation, { waivers: waiverBook([]) });
  });

  it("has no mandatory violations under its policy config", () => {
    expect(report.findings.filter((f) => f.status === "mandatory")).toEqual([]);
    expect(report.passed).toBe(true);
    expect(exitCodeOf(report)).toBe(EXIT_PASSED);
  });

  it("runs every policy of the pack plus the waiver registry", () => {
    expect(report.policies.map((p) => p.name)).toEqual([...PLATFORM_POLICIES.map((p) => p.name), "waiver-registry"]);
    expect(report.findings.filter((f) => /can't run policy/.test(f.message))).toEqual([]);
  });

  it("binds every service principal it trusts or admits to this account, where the service supports it", () => {
    const confusedDeputy = report.findings.filter((f) => f.policy.includes("confused-deputy"));
    expect(confusedDeputy.map((f) => `${f.resourceName}: ${f.message}`)).toEqual([]);
  });

  it("prints a one-paragraph summary for the plan", async () => {
    const summary = await summarisePolicies(evaluation, stack);
    expect(summary).toMatch(/^Policy pack aws-data-platform: \d+ policies \(\d+ mandatory\) under policies\/config\.\w+\.json\. No mandatory violations\./);
    expect(summary).not.toContain("\n");
  });
});

describe("a stack with non-compliant resources injected", () => {
  let evaluation: StackEvaluation;
  beforeAll(async () => {
    evaluation = await evaluate("prod", {}, {
      program: programWith((provider) => {
        new aws.s3.Bucket(ROGUE_BUCKET, {}, { provider });
        new aws.rds.Cluster(ROGUE_CLUSTER, {
          engine: "aurora-postgresql",
          storageEncrypted: true,
          backupRetentionPeriod: 1,
          masterUsername: "app",
          manageMasterUserPassword: true,
          skipFinalSnapshot: true,
        }, { provider });
      }),
    });
  });

  it("fails the check and names the offending resources", async () => {
    const report = await checkEvaluation(evaluation, { waivers: waiverBook([]) });
    expect(report.passed).toBe(false);
    expect(exitCodeOf(report)).toBe(EXIT_MANDATORY_VIOLATIONS);
    const mandatory = (name: string) => onRogue(report, name).filter((f) => f.status === "mandatory").map((f) => f.policy);
    expect(mandatory(ROGUE_BUCKET)).toEqual(expect.arrayContaining(["s3-bucket-sse-kms", "s3-bucket-tls-only"]));
    expect(mandatory(ROGUE_CLUSTER)).toEqual(expect.arrayContaining(["rds-backup-retention", "rds-force-ssl", "database-deletion-protection"]));
    const retention = onRogue(report, ROGUE_CLUSTER).find((f) => f.policy === "rds-backup-retention")!;
    expect(retention.message).toMatch(/is 1 day\(s\); this stack requires at least 7/);
    expect(retention.urn).toMatch(/rds\/cluster:Cluster::rogue-cluster$/);
    // The rogue provider has no defaultTags, which the advisory tag policy notices.
    expect(onRogue(report, ROGUE_BUCKET).filter((f) => f.status === "advisory").map((f) => f.policy)).toContain("required-tags");
  });

  it("reports a waived finding as waived, and an expired waiver as a mandatory violation", async () => {
    const bucketWaiver = { policy: "s3-bucket-sse-kms", resource: ROGUE_BUCKET, reason: "Vendor drop zone, encrypted by the vendor", stacks: ["prod"] };
    const waived = await checkEvaluation(evaluation, { waivers: waiverBook([{ ...bucketWaiver, expires: "2026-12-31" }]) });
    expect(onRogue(waived, ROGUE_BUCKET).find((f) => f.policy === "s3-bucket-sse-kms")).toMatchObject({ status: "waived", waiver: { expires: "2026-12-31" } });

    const expired = await checkEvaluation(evaluation, { waivers: waiverBook([{ ...bucketWaiver, expires: "2026-11-01" }]) });
    expect(onRogue(expired, ROGUE_BUCKET).find((f) => f.policy === "s3-bucket-sse-kms")?.status).toBe("mandatory");
    expect(expired.findings.find((f) => f.policy === "waiver-registry")).toMatchObject({ status: "mandatory", message: expect.stringMatching(/expired on 2026-11-01/) });
  });

  it("prints the text report grouped by severity, with URNs and remediation", async () => {
    const text = renderReport(await checkEvaluation(evaluation, { waivers: waiverBook([]) }), "text");
    expect(text).toMatch(/^Policy check: stack prod, pack aws-data-platform \(\d+ of \d+ policies enabled, config policies\/config\.prod\.json, waivers policies\/waivers\.json\)/);
    expect(text.indexOf("MANDATORY violations")).toBeLessThan(text.indexOf("ADVISORY findings"));
    expect(text).toMatch(/\[s3-bucket-sse-kms\] rogue-bucket \(aws:s3\/bucket:Bucket\)\n\s+urn: urn:pulumi:prod::data-platform::\S*aws:s3\/bucket:Bucket::rogue-bucket\n/);
    expect(text).toMatch(/fix: Add an aws\.s3\.BucketServerSideEncryptionConfiguration/);
    expect(text).toMatch(/^FAILED: \d+ mandatory violation/m);
  });

  it("renders SARIF 2.1.0 with one rule per policy and URN locations", async () => {
    const report = await checkEvaluation(evaluation, { waivers: waiverBook([{ policy: "s3-bucket-tls-only", resource: ROGUE_BUCKET, reason: "r", expires: "2027-01-01" }]) });
    const sarif = toSarif(report);
    expect(sarif.version).toBe("2.1.0");
    const [run] = sarif.runs;
    expect(run.tool.driver.rules.map((rule) => rule.id)).toEqual(report.policies.map((p) => p.name));
    expect(run.tool.driver.rules.find((rule) => rule.id === "s3-bucket-sse-kms")).toMatchObject({ defaultConfiguration: { level: "error" }, help: { text: expect.stringContaining("BucketServerSideEncryptionConfiguration") } });
    const result = run.results.find((r) => r.ruleId === "rds-backup-retention")!;
    expect(result).toMatchObject({ level: "error", message: { text: expect.stringContaining("at least 7") } });
    expect(result.locations[0].logicalLocations[0]).toEqual({ name: ROGUE_CLUSTER, fullyQualifiedName: expect.stringMatching(/::rogue-cluster$/), kind: "resource" });
    expect(run.tool.driver.rules[result.ruleIndex!].id).toBe("rds-backup-retention");
    expect(run.results.find((r) => r.ruleId === "required-tags")?.level).toBe("warning");
    expect(run.results.find((r) => r.ruleId === "s3-bucket-tls-only")).toMatchObject({ level: "note", suppressions: [{ kind: "external", status: "accepted" }] });
  });
});

describe("npm run policy", () => {
  it("exits 1 and prints SARIF naming the offender when a mandatory policy fails", async () => {
    const result = await runPolicyCli(["--stack", "dev", "--format", "sarif"], { program: programWith((provider) => new aws.s3.Bucket(ROGUE_BUCKET, {}, { provider })) });
    expect(result.exitCode).toBe(EXIT_MANDATORY_VIOLATIONS);
    const [run] = JSON.parse(result.stdout).runs;
    expect(run.tool.driver.name).toBe("aws-data-platform");
    const errors = run.results.filter((r: { level: string }) => r.level === "error");
    expect(errors.map((r: { ruleId: string }) => r.ruleId)).toEqual(expect.arrayContaining(["s3-bucket-sse-kms", "s3-bucket-tls-only"]));
    expect(errors.every((r: any) => r.locations[0].logicalLocations[0].fullyQualifiedName.endsWith("::rogue-bucket"))).toBe(true);
  });

  it("exits 2 on bad arguments", async () => {
    expect((await runPolicyCli(["--format", "json"])).exitCode).toBe(EXIT_ERROR);
    expect((await runPolicyCli(["--stack", "dev", "--format", "xml"])).stderr).toMatch(/Unknown --format "xml"/);
  });

  it("runs as a script and prints the JSON report", () => {
    const tsNode = path.join(PROJECT_DIR, "node_modules", ".bin", "ts-node");
    const stdout = execFileSync(tsNode, ["--transpile-only", "scripts/policy.ts", "--stack", "dev", "--format", "json"], { cwd: PROJECT_DIR, encoding: "utf8" });
    const report = JSON.parse(stdout);
    expect(report).toMatchObject({ stack: "dev", pack: "aws-data-platform", passed: true, counts: { mandatory: 0 } });
  });
});
