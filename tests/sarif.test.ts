/**
 * The policy check's SARIF as GitHub code scanning takes it, on stacks with findings: dev as
 * it stands (advisory findings, most of them switched off in its stack file) and prod with a
 * rogue bucket (mandatory findings) and a waiver (a waived one). Each is valid against the
 * official SARIF 2.1.0 schema and meets the constraints of docs.github.com, "SARIF support
 * for code scanning" (required properties, repository-relative uris, rules and ruleIndex,
 * fingerprints, security-severity, limits); every location names a file of this repository
 * and a line that holds the declaration.
 */
import * as aws from "@pulumi/aws";
import Ajv from "ajv-draft-04";
import addFormats from "ajv-formats";
import * as fs from "fs";
import * as path from "path";
import { PLATFORM_POLICIES } from "../policies/catalog";
import { POLICY_SEVERITY } from "../policies/severity";
import { WAIVER_REGISTRY_POLICY, WaiverBook } from "../policies/waiver-logic";
import { PROJECT_DIR, StackEvaluation, evaluateStack, readStackConfig } from "../scripts/engine";
import { checkEvaluation } from "../scripts/policy";
import { SOURCE_ROOT, toSarif } from "../scripts/policy-format";
import { evaluate } from "./support/stack";

const SCHEMA = JSON.parse(fs.readFileSync(path.join(__dirname, "fixtures", "sarif", "sarif-schema-2.1.0.json"), "utf8"));
const validateSarif = (() => {
  const ajv = new Ajv({ allErrors: true, strict: false });
  addFormats(ajv);
  return ajv.compile(SCHEMA);
})();

type Sarif = ReturnType<typeof toSarif>;
type Result = Sarif["runs"][number]["results"][number];

const ROGUE_BUCKET = "sarif-rogue-bucket";
const TODAY = "2026-11-21";
const waivers = (book: Partial<WaiverBook> = {}): WaiverBook => ({ waivers: [], problems: [], today: TODAY, ...book });

/** The real program plus a bucket with none of the platform's defaults, declared on the line `new aws.s3.Bucket(` below. */
async function programWithRogueBucket(): Promise<Record<string, unknown>> {
  const program = require(path.join(PROJECT_DIR, "index"));
  const outputs = (await (typeof program === "function" ? program : program.default)()) ?? {};
  const provider = new aws.Provider("sarif-rogue-provider", { region: "eu-west-1" });
  new aws.s3.Bucket(ROGUE_BUCKET, {}, { provider });
  return outputs;
}

const lineAt = (file: string, line: number) => fs.readFileSync(path.join(PROJECT_DIR, file), "utf8").split(/\r?\n/)[line - 1] ?? "";

/** GitHub's constraints on an upload (docs.github.com, "SARIF support for code scanning"); returns what breaks them. */
function githubProblems(sarif: Sarif): string[] {
  const problems: string[] = [];
  const check = (ok: boolean, problem: string) => ok || problems.push(problem);
  check(typeof sarif.$schema === "string" && sarif.$schema.length > 0, "$schema is required");
  check(sarif.version === "2.1.0", "only version 2.1.0 is supported");
  check(sarif.runs.length >= 1 && sarif.runs.length <= 20, "1 to 20 runs per file");
  for (const run of sarif.runs) {
    const rules = run.tool.driver.rules;
    check(run.tool.driver.name.length > 0, "tool.driver.name is required");
    check(rules.length <= 25_000 && run.results.length <= 25_000, "at most 25,000 rules and results per run");
    check(new Set(rules.map((r) => r.id)).size === rules.length, "rule ids are unique");
    for (const rule of rules) {
      check(rule.id.length > 0 && rule.name.length <= 255, `${rule.id}: id required, name ≤ 255 characters`);
      for (const text of [rule.shortDescription.text, rule.fullDescription.text]) check(text.length > 0 && text.length <= 1024, `${rule.id}: descriptions of 1 to 1024 characters`);
      check(rule.help.text.length > 0, `${rule.id}: help.text is required`);
      check(["note", "warning", "error"].includes(rule.defaultConfiguration.level), `${rule.id}: defaultConfiguration.level is note, warning or error`);
      check(rule.properties.tags.length <= 10, `${rule.id}: at most 10 tags are shown (20 allowed)`);
      const score = (rule.properties as { "security-severity"?: string })["security-severity"];
      if (score !== undefined) {
        check(/^\d+(\.\d+)?$/.test(score) && Number(score) > 0 && Number(score) <= 10, `${rule.id}: security-severity is a number in (0, 10] as a string`);
        check(rule.properties.tags.includes("security"), `${rule.id}: a security-severity needs the "security" tag`);
      }
    }
    const hashes = new Set<string>();
    for (const result of run.results) {
      const where = `${result.ruleId} at ${result.locations[0]?.logicalLocations[0]?.fullyQualifiedName}`;
      check(rules[result.ruleIndex!]?.id === result.ruleId, `${where}: ruleIndex points at its rule`);
      check(result.message.text.length > 0, `${where}: message.text is required`);
      check(result.locations.length >= 1 && result.locations.length <= 10, `${where}: 1 to 10 locations`);
      const physical = result.locations[0].physicalLocation;
      const uri = physical?.artifactLocation.uri ?? "";
      check(uri.length > 0, `${where}: physicalLocation.artifactLocation.uri is required`);
      check(!/^[a-z][a-z0-9+.-]*:/i.test(uri) && !uri.startsWith("/") && !uri.split("/").includes("..") && !uri.includes("\\"), `${where}: uri ${uri} is relative to the repository root`);
      check(physical.artifactLocation.uriBaseId === undefined || physical.artifactLocation.uriBaseId in run.originalUriBaseIds, `${where}: uriBaseId is declared in originalUriBaseIds`);
      const { startLine, startColumn, endLine, endColumn } = physical.region;
      check([startLine, startColumn, endLine, endColumn].every((n) => Number.isInteger(n) && n >= 1), `${where}: startLine, startColumn, endLine and endColumn are positive integers`);
      check(endLine > startLine || endColumn > startColumn, `${where}: the region ends after it starts`);
      const hash = result.partialFingerprints.primaryLocationLineHash;
      check(/^[0-9a-f]{16}:\d+$/.test(hash) && !hashes.has(hash), `${where}: primaryLocationLineHash is present and unique`);
      hashes.add(hash);
    }
  }
  return problems;
}

/** What each result's location holds: the `new …(` of its resource, or the stack file line that switches its policy off. */
function locationProblems(sarif: Sarif): string[] {
  return sarif.runs[0].results.flatMap((result: Result) => {
    const { artifactLocation, region } = result.locations[0].physicalLocation;
    const file = artifactLocation.uri;
    if (!fs.existsSync(path.join(PROJECT_DIR, file))) return [`${result.ruleId}: ${file} is not a file of the repository`];
    const text = lineAt(file, region.startLine).slice(region.startColumn - 1);
    const isResource = result.locations[0].logicalLocations[0].kind === "resource";
    if (/^Pulumi\.[\w-]+\.yaml$/.test(file)) return /^[\w-]+:[A-Za-z]+:\s*(false|0)\b/.test(text) || !isResource ? [] : [`${result.ruleId}: ${file}:${region.startLine} is not a config key switched off: ${text}`];
    if (result.ruleId === WAIVER_REGISTRY_POLICY) return [];
    return text.startsWith("new ") ? [] : [`${result.ruleId}: ${file}:${region.startLine}:${region.startColumn} does not declare a resource: ${text.trim()}`];
  });
}

describe("SARIF of dev as it stands (advisory findings)", () => {
  let evaluation: StackEvaluation;
  let sarif: Sarif;
  beforeAll(async () => {
    evaluation = await evaluate("dev");
    sarif = toSarif(await checkEvaluation(evaluation, { waivers: waivers() }));
  });

  it("has findings, and is valid SARIF 2.1.0 that GitHub accepts", () => {
    expect(sarif.runs[0].results.length).toBeGreaterThan(0);
    expect(validateSarif(sarif) ? [] : validateSarif.errors).toEqual([]);
    expect(githubProblems(sarif)).toEqual([]);
  });

  it("locates each finding at its resource's declaration, or at the stack file line that switches its policy off", () => {
    expect(locationProblems(sarif)).toEqual([]);
    const results = sarif.runs[0].results;
    const at = (rule: string) => results.filter((r) => r.ruleId === rule).map((r) => `${r.locations[0].physicalLocation.artifactLocation.uri}:${lineAt(r.locations[0].physicalLocation.artifactLocation.uri, r.locations[0].physicalLocation.region.startLine).trim()}`);
    expect(at("dynamodb-point-in-time-recovery")).toEqual(["Pulumi.dev.yaml:data-platform:pointInTimeRecovery: false", "Pulumi.dev.yaml:data-platform:pointInTimeRecovery: false"]);
    expect(at("s3-lake-bucket-versioning")).toEqual(Array(3).fill("Pulumi.dev.yaml:data-platform:lakeVersioning: false"));
    expect(at("provider-pinned-to-account")).toEqual([expect.stringMatching(/^platform\/providers\.ts:.*new aws\.Provider\(/)]);
    for (const result of results) {
      expect(result.locations[0].physicalLocation.artifactLocation.uriBaseId).toBe(SOURCE_ROOT);
      expect(result.locations[0].logicalLocations[0]).toMatchObject({ kind: "resource", fullyQualifiedName: expect.stringMatching(/^urn:pulumi:dev::/) });
    }
  });

  it("records the declaration of every resource, as the TypeScript line of its `new`", () => {
    const misplaced = evaluation.resources.filter((r) => !r.source || !lineAt(r.source.file, r.source.line).slice(r.source.column - 1).startsWith("new "));
    expect(misplaced.map((r) => `${r.type} ${r.name}: ${JSON.stringify(r.source)}`)).toEqual([]);
  });

  it("keeps each result's fingerprint across runs (a fresh evaluation, new generated secrets and all)", async () => {
    const again = toSarif(await checkEvaluation(await evaluateStack("dev", { config: readStackConfig("dev") }), { waivers: waivers() }));
    const fingerprints = (s: Sarif) => s.runs[0].results.map((r) => `${r.ruleId} ${r.partialFingerprints.primaryLocationLineHash}`).sort();
    expect(fingerprints(again)).toEqual(fingerprints(sarif));
  });

  it("classifies every policy of the pack, and marks the security ones for GitHub's security view", () => {
    expect(Object.keys(POLICY_SEVERITY).sort()).toEqual([...PLATFORM_POLICIES.map((p) => p.name), WAIVER_REGISTRY_POLICY].sort());
    const rules = new Map(sarif.runs[0].tool.driver.rules.map((rule) => [rule.id, rule.properties as Record<string, unknown>]));
    expect(rules.get("s3-bucket-public-access-block")).toMatchObject({ tags: expect.arrayContaining(["security"]), "security-severity": "9.1" });
    expect(rules.get("elasticache-transit-encryption-and-auth")).toMatchObject({ tags: expect.arrayContaining(["security"]), "security-severity": "8.1" });
    expect(rules.get("dynamodb-point-in-time-recovery")).toMatchObject({ tags: expect.arrayContaining(["reliability"]), "problem.severity": "error" });
    expect(rules.get("dynamodb-point-in-time-recovery")).not.toHaveProperty("security-severity");
  });
});

describe("SARIF of prod with a rogue bucket and a waiver (mandatory and waived findings)", () => {
  let sarif: Sarif;
  beforeAll(async () => {
    const evaluation = await evaluate("prod", {}, { program: programWithRogueBucket });
    const book = waivers({ waivers: [{ policy: "s3-bucket-tls-only", resource: ROGUE_BUCKET, reason: "Vendor drop zone until INC-123", expires: "2027-01-31" }] });
    sarif = toSarif(await checkEvaluation(evaluation, { waivers: book }));
  });
  const rogue = () => sarif.runs[0].results.filter((r) => r.locations[0].logicalLocations[0].fullyQualifiedName.endsWith(`::${ROGUE_BUCKET}`));

  it("is valid SARIF 2.1.0 that GitHub accepts, every location in the repository", () => {
    expect(validateSarif(sarif) ? [] : validateSarif.errors).toEqual([]);
    expect(githubProblems(sarif)).toEqual([]);
    expect(locationProblems(sarif)).toEqual([]);
  });

  it("reports the mandatory findings as errors at the bucket's `new` in this test file, under security rules", () => {
    const encryption = rogue().find((r) => r.ruleId === "s3-bucket-sse-kms")!;
    expect(encryption.level).toBe("error");
    const { artifactLocation, region } = encryption.locations[0].physicalLocation;
    expect(artifactLocation.uri).toBe("tests/sarif.test.ts");
    expect(lineAt(artifactLocation.uri, region.startLine).slice(region.startColumn - 1)).toMatch(/^new aws\.s3\.Bucket\(ROGUE_BUCKET/);
    const rule = sarif.runs[0].tool.driver.rules[encryption.ruleIndex!];
    expect(rule.properties).toMatchObject({ tags: expect.arrayContaining(["security"]), "security-severity": expect.stringMatching(/^\d\.\d$/) });
  });

  it("keeps the waived finding visible as a suppressed note with the waiver's reason", () => {
    const waived = rogue().find((r) => r.ruleId === "s3-bucket-tls-only")!;
    expect(waived).toMatchObject({ level: "note", properties: { status: "waived" }, suppressions: [{ kind: "external", status: "accepted", justification: expect.stringContaining("Vendor drop zone until INC-123") }] });
    expect(waived.message.text).toMatch(/^\[waived until 2027-01-31: Vendor drop zone until INC-123\]/);
    expect(sarif.runs[0].results.filter((r) => r.suppressions !== undefined)).toHaveLength(1);
  });
});
