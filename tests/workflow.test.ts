import Ajv from "ajv";
import addFormats from "ajv-formats";
import * as fs from "fs";
import * as yaml from "js-yaml";
import * as path from "path";
import { PROJECT_DIR } from "../scripts/engine";

const WORKFLOW_FILE = path.join(PROJECT_DIR, ".github", "workflows", "plan.yml");
const SCHEMA_FILE = path.join(PROJECT_DIR, ".github", "schemas", "github-workflow.json");
const STACKS = ["dev", "prod", "prod-dr"];

type Step = { name?: string; uses?: string; run?: string; if?: string; id?: string; with?: Record<string, unknown>; env?: Record<string, string> };
type Job = { if?: string; needs?: string | string[]; permissions?: Record<string, string>; strategy?: { matrix: { stack: string[] } }; steps: Step[]; env?: Record<string, string> };
type Workflow = { on: Record<string, unknown>; permissions: Record<string, string>; jobs: Record<string, Job> };

const workflow = yaml.load(fs.readFileSync(WORKFLOW_FILE, "utf8")) as Workflow;

function validator() {
  const schema = JSON.parse(fs.readFileSync(SCHEMA_FILE, "utf8"));
  // The schema is draft-07, ajv 8's default draft; strict: false for SchemaStore's non-standard keywords.
  expect(schema.$schema).toBe("http://json-schema.org/draft-07/schema#");
  const ajv = new Ajv({ strict: false, allErrors: true });
  addFormats(ajv);
  return ajv.compile(schema);
}

const stepRunning = (job: Job, pattern: RegExp) => job.steps.find((s) => s.run !== undefined && pattern.test(s.run));

describe(".github/workflows/plan.yml", () => {
  const validate = validator();

  it("is a valid workflow under SchemaStore's GitHub workflow schema", () => {
    const valid = validate(workflow);
    expect(validate.errors ?? []).toEqual([]);
    expect(valid).toBe(true);
  });

  it("would be refused by the schema if it were broken (the check can fail)", () => {
    const broken = structuredClone(workflow) as unknown as { jobs: Record<string, Record<string, unknown>> };
    delete broken.jobs.plan["runs-on"];
    (broken.jobs.test as { permissions?: unknown }).permissions = { "security-events": "writ" };
    expect(validate(broken)).toBe(false);
  });

  it("runs on pull requests, read-only by default, pinned to major versions on Node 22", () => {
    expect(workflow.on).toHaveProperty("pull_request");
    expect(workflow.permissions).toEqual({ contents: "read" });
    for (const job of Object.values(workflow.jobs)) {
      for (const step of job.steps.filter((s) => s.uses)) expect(step.uses).toMatch(/^[\w.-]+\/[\w./-]+@v\d+$/);
      for (const setup of job.steps.filter((s) => s.uses?.startsWith("actions/setup-node@"))) expect(setup.with?.["node-version"]).toBe(22);
    }
  });

  it("runs the README's test command", () => {
    expect(stepRunning(workflow.jobs.test, /npm ci && npm test/)).toBeDefined();
  });

  it("plans, diffs against the base branch and checks the policies for every stack", () => {
    const plan = workflow.jobs.plan;
    expect(plan.strategy?.matrix.stack).toEqual(STACKS);
    expect(plan.steps.find((s) => s.uses?.startsWith("actions/checkout@"))?.with?.["fetch-depth"]).toBe(0);
    expect(stepRunning(plan, /^npm run plan -- --stack "\$STACK"$/)).toBeDefined();
    const diff = stepRunning(plan, /--diff "origin\/\$BASE_REF" --format markdown --fail-on-replace/);
    expect(diff?.run).toContain('git fetch --no-tags origin "$BASE_REF"');
    // The base ref reaches the shell through env, never interpolated into the script.
    expect(plan.env?.BASE_REF).toBe("${{ github.base_ref }}");
    expect(stepRunning(plan, /npm run policy -- --stack "\$STACK" --format sarif --out "out\/policy-\$STACK\.sarif"/)).toBeDefined();
    expect(stepRunning(plan, /--cost/)).toBeDefined();
    expect(stepRunning(plan, /--diagram "out\/plan-\$STACK\.svg"/)).toBeDefined();
  });

  it("uploads each stack's SARIF to code scanning under its own category, with the permission it needs", () => {
    const plan = workflow.jobs.plan;
    expect(plan.permissions?.["security-events"]).toBe("write");
    const upload = plan.steps.find((s) => s.uses?.startsWith("github/codeql-action/upload-sarif@"));
    expect(upload?.with).toEqual({ sarif_file: "out/policy-${{ matrix.stack }}.sarif", category: "policy-${{ matrix.stack }}" });
    // Findings are uploaded even when the diff refused a replacement.
    expect(upload?.if).toContain("!cancelled()");
  });

  it("posts the diff, the cost and a link to the uploaded diagram as the job summary", () => {
    const plan = workflow.jobs.plan;
    const artifact = plan.steps.find((s) => s.uses?.startsWith("actions/upload-artifact@"));
    expect(artifact?.with?.path).toBe("out/plan-${{ matrix.stack }}.svg");
    const summary = stepRunning(plan, /GITHUB_STEP_SUMMARY/);
    expect(summary?.if).toContain("!cancelled()");
    expect(summary?.env?.DIAGRAM_URL).toBe(`\${{ steps.${artifact?.id}.outputs.artifact-url }}`);
    expect(summary?.run).toContain('out/diff-$STACK.md');
    expect(summary?.run).toContain('out/cost-$STACK.txt');
  });

  it("runs a real pulumi preview with the policy pack only when cloud credentials are configured", () => {
    const preview = workflow.jobs.preview;
    expect(preview.if).toBe("${{ vars.AWS_PREVIEW_ROLE_ARN != '' }}");
    expect(preview.permissions?.["id-token"]).toBe("write");
    expect(preview.strategy?.matrix.stack).toEqual(STACKS);
    expect(stepRunning(preview, /^pulumi preview --stack "\$STACK" --policy-pack policies --policy-pack-config "policies\/config\.\$STACK\.json"$/)).toBeDefined();
    expect(preview.steps.some((s) => s.uses?.startsWith("pulumi/actions@"))).toBe(true);
    // No other job reads cloud credentials.
    for (const job of [workflow.jobs.test, workflow.jobs.plan]) expect(JSON.stringify(job)).not.toMatch(/secrets\.|configure-aws-credentials/);
  });
});
