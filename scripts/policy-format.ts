/**
 * Renders a PolicyReport for people (text, grouped by severity), for scripts (JSON) and
 * for code-scanning UIs (SARIF 2.1.0: one rule per policy, one result per finding, the
 * resource URN as a logical location; waived findings become suppressed notes).
 */
import { FindingStatus, PolicyFinding, PolicyReport } from "./policy-runner";

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

const SARIF_LEVEL: Record<"mandatory" | "advisory" | "disabled", "error" | "warning" | "none"> = { mandatory: "error", advisory: "warning", disabled: "none" };
const RESULT_LEVEL: Record<FindingStatus, "error" | "warning" | "note"> = { mandatory: "error", advisory: "warning", waived: "note" };

function stackUrn(report: PolicyReport): string {
  return `urn:pulumi:${report.stack}::${report.project}::pulumi:pulumi:Stack::${report.project}-${report.stack}`;
}

export function toSarif(report: PolicyReport, toolVersion = "0.1.0") {
  const ruleIndex = new Map(report.policies.map((p, i) => [p.name, i]));
  return {
    $schema: "https://json.schemastore.org/sarif-2.1.0.json",
    version: "2.1.0",
    runs: [
      {
        tool: {
          driver: {
            name: report.pack,
            version: toolVersion,
            rules: report.policies.map((policy) => ({
              id: policy.name,
              shortDescription: { text: policy.description },
              fullDescription: { text: policy.description },
              help: { text: policy.remediation },
              defaultConfiguration: { level: SARIF_LEVEL[policy.level], enabled: policy.level !== "disabled" },
              properties: { enforcementLevel: policy.level, declaredEnforcementLevel: policy.declaredLevel, kind: policy.kind },
            })),
          },
        },
        automationDetails: { id: `policy/${report.stack}/` },
        results: report.findings.map((finding) => ({
          ruleId: finding.policy,
          ruleIndex: ruleIndex.get(finding.policy),
          level: RESULT_LEVEL[finding.status],
          message: { text: finding.message },
          locations: [
            {
              logicalLocations: [
                finding.urn
                  ? { name: finding.resourceName ?? finding.urn, fullyQualifiedName: finding.urn, kind: "resource" }
                  : { name: `${report.project}-${report.stack}`, fullyQualifiedName: stackUrn(report), kind: "module" },
              ],
            },
          ],
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
