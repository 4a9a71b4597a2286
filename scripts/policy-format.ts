/**
 * Renders a PolicyReport for people (text, grouped by severity), for scripts (JSON) and
 * for code-scanning UIs (SARIF 2.1.0 as GitHub code scanning accepts it: one rule per
 * policy, one result per finding at the resource's declaration (file and line) with its URN
 * as the logical location, fingerprints from rule and URN, security-severity on security
 * rules; waived findings become suppressed notes).
 */
import { createHash } from "crypto";
import { severityOf } from "../policies/severity";
import { SourceLocation, lineText } from "./declaration-sites";
import { PROJECT_DIR } from "./engine";
import { FindingStatus, PolicyFinding, PolicyInfo, PolicyReport } from "./policy-runner";

const HEADINGS: Record<FindingStatus, string> = {
  mandatory: "MANDATORY violations (block the deployment)",
  advisory: "ADVISORY findings",
  waived: "WAIVED findings (reported, not enforced)",
};

function findingLines(finding: PolicyFinding): string[] {
  const where = finding.urn ? `${finding.resourceName ?? finding.urn} (${finding.resourceType ?? "resource"})` : "the stack";
  return [
    `  [${finding.policy}] ${where}`,
    ...(finding.urn ? [`      urn: ${finding.urn}`] : []),
    `      ${finding.message}`,
    ...(finding.status === "waived" ? [] : [`      fix: ${finding.remediation}`]),
  ];
}

export function formatText(report: PolicyReport, sources: { config?: string; waivers?: string } = {}): string {
  const active = report.policies.filter((p) => p.level !== "disabled").length;
  const lines = [
    `Policy check: stack ${report.stack}, pack ${report.pack} (${active} of ${report.policies.length} policies enabled${sources.config ? `, config ${sources.config}` : ""}${sources.waivers ? `, waivers ${sources.waivers}` : ""})`,
  ];
  for (const status of ["mandatory", "advisory", "waived"] as FindingStatus[]) {
    const findings = report.findings.filter((f) => f.status === status);
    lines.push("", `${HEADINGS[status]}: ${findings.length}`);
    for (const finding of findings) lines.push(...findingLines(finding));
  }
  const { mandatory, advisory, waived } = report.counts;
  lines.push("", report.passed ? `PASSED: no mandatory violations (${advisory} advisory, ${waived} waived).` : `FAILED: ${mandatory} mandatory violation(s), ${advisory} advisory, ${waived} waived.`);
  return lines.join("\n");
}

export function formatJson(report: PolicyReport): string {
  return JSON.stringify(report, null, 2);
}

/** GitHub accepts only these levels on a rule (docs.github.com, "SARIF support for code scanning"); a disabled rule is also `enabled: false`. */
const SARIF_LEVEL: Record<"mandatory" | "advisory" | "disabled", "error" | "warning" | "note"> = { mandatory: "error", advisory: "warning", disabled: "note" };
const RESULT_LEVEL: Record<FindingStatus, "error" | "warning" | "note"> = { mandatory: "error", advisory: "warning", waived: "note" };
const PROBLEM_SEVERITY: Record<"mandatory" | "advisory", "error" | "warning"> = { mandatory: "error", advisory: "warning" };

/** Every artifact uri is relative to the repository root, which GitHub resolves itself (the checkout). */
export const SOURCE_ROOT = "%SRCROOT%";

function stackUrn(report: PolicyReport): string {
  return `urn:pulumi:${report.stack}::${report.project}::pulumi:pulumi:Stack::${report.project}-${report.stack}`;
}

function ruleOf(policy: PolicyInfo) {
  const { category, securitySeverity } = severityOf(policy.name);
  return {
    id: policy.name,
    name: policy.name,
    shortDescription: { text: policy.description },
    fullDescription: { text: policy.description },
    help: { text: policy.remediation },
    defaultConfiguration: { level: SARIF_LEVEL[policy.level], enabled: policy.level !== "disabled" },
    properties: {
      // GitHub lists a rule's results as security alerts when its tags hold "security" and it has a security-severity.
      tags: [category, "aws", "infrastructure-as-code"],
      precision: "very-high",
      ...(securitySeverity !== undefined ? { "security-severity": securitySeverity.toFixed(1) } : { "problem.severity": PROBLEM_SEVERITY[policy.declaredLevel] }),
      enforcementLevel: policy.level,
      declaredEnforcementLevel: policy.declaredLevel,
      kind: policy.kind,
    },
  };
}

/** The region of a declaration: from its `new` to the end of its line (GitHub asks for all four bounds). */
function regionOf(location: SourceLocation, projectDir: string) {
  const text = lineText(projectDir, location);
  return { startLine: location.line, startColumn: location.column, endLine: location.line, endColumn: text !== undefined && text.length >= location.column ? text.length + 1 : location.column + 1 };
}

const digest = (text: string) => createHash("sha256").update(text).digest("hex");

/**
 * partialFingerprints that survive edits elsewhere in the file and re-runs: a hash of the
 * rule id and the URN (the stack's URN and the message for a finding about the whole stack),
 * with GitHub's ":n" occurrence suffix when a rule reports the same resource more than once.
 * GitHub uses only `primaryLocationLineHash`; computed by the upload action instead, it
 * would hash the declaration's line, which moves with every edit above it.
 */
function fingerprints(report: PolicyReport): string[] {
  const seen = new Map<string, number>();
  return report.findings.map((finding) => {
    const identity = digest([finding.policy, finding.urn ?? `${stackUrn(report)}\n${finding.message}`].join("\n")).slice(0, 16);
    const occurrence = (seen.get(identity) ?? 0) + 1;
    seen.set(identity, occurrence);
    return `${identity}:${occurrence}`;
  });
}

export interface SarifOptions {
  /** @default "0.1.0" */
  readonly toolVersion?: string;
  /** The repository root the locations are relative to. @default the project directory */
  readonly projectDir?: string;
}

export function toSarif(report: PolicyReport, options: SarifOptions = {}) {
  const toolVersion = options.toolVersion ?? "0.1.0";
  const projectDir = options.projectDir ?? PROJECT_DIR;
  const ruleIndex = new Map(report.policies.map((p, i) => [p.name, i]));
  const lineHashes = fingerprints(report);
  return {
    $schema: "https://json.schemastore.org/sarif-2.1.0.json",
    version: "2.1.0",
    runs: [
      {
        tool: { driver: { name: report.pack, version: toolVersion, semanticVersion: toolVersion, rules: report.policies.map(ruleOf) } },
        automationDetails: { id: `policy/${report.stack}/` },
        // No uri: the root is wherever the repository is checked out (SARIF 2.1.0 §3.14.14).
        originalUriBaseIds: { [SOURCE_ROOT]: { description: { text: "The repository root; every artifact uri is relative to it." } } },
        columnKind: "utf16CodeUnits",
        results: report.findings.map((finding, i) => ({
          ruleId: finding.policy,
          ruleIndex: ruleIndex.get(finding.policy),
          level: RESULT_LEVEL[finding.status],
          message: { text: finding.message },
          locations: [
            {
              physicalLocation: { artifactLocation: { uri: finding.location.file, uriBaseId: SOURCE_ROOT }, region: regionOf(finding.location, projectDir) },
              logicalLocations: [
                finding.urn
                  ? { name: finding.resourceName ?? finding.urn, fullyQualifiedName: finding.urn, kind: "resource" }
                  : { name: `${report.project}-${report.stack}`, fullyQualifiedName: stackUrn(report), kind: "module" },
              ],
            },
          ],
          partialFingerprints: { primaryLocationLineHash: lineHashes[i] },
          ...(finding.waiver
            ? { suppressions: [{ kind: "external", status: "accepted", justification: `${finding.waiver.reason} (until ${finding.waiver.expires})` }] }
            : {}),
          properties: { status: finding.status, resourceType: finding.resourceType, remediation: finding.remediation },
        })),
        properties: { stack: report.stack, project: report.project, counts: report.counts },
      },
    ],
  };
}

export function formatSarif(report: PolicyReport): string {
  return JSON.stringify(toSarif(report), null, 2);
}

/** The one-paragraph summary `npm run plan` prints. */
export function summaryParagraph(report: PolicyReport, configSource?: string): string {
  const active = report.policies.filter((p) => p.level !== "disabled");
  const mandatory = active.filter((p) => p.level === "mandatory").length;
  const byPolicy = (status: FindingStatus) => {
    const counts = new Map<string, number>();
    for (const f of report.findings.filter((f) => f.status === status)) counts.set(f.policy, (counts.get(f.policy) ?? 0) + 1);
    return [...counts.entries()].map(([policy, n]) => `${policy} x${n}`).join(", ");
  };
  const { mandatory: failing, advisory, waived } = report.counts;
  const parts = [
    `Policy pack ${report.pack}: ${active.length} policies (${mandatory} mandatory) under ${configSource ?? "declared defaults"}.`,
    failing === 0 ? "No mandatory violations." : `${failing} MANDATORY violation(s): ${byPolicy("mandatory")}.`,
    advisory === 0 ? "No advisory findings." : `${advisory} advisory: ${byPolicy("advisory")}.`,
    waived === 0 ? "" : `${waived} waived: ${byPolicy("waived")}.`,
    `Details: npm run policy -- --stack ${report.stack}.`,
  ];
  return parts.filter(Boolean).join(" ");
}
