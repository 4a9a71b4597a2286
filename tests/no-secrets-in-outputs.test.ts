/**
 * No output holds a secret. Every output `npm run plan` and `npm run policy` write for dev,
 * prod and prod-dr (the plan's text and JSON graph, the policy report as text, JSON and
 * SARIF, on stdout and through --out) is searched for every plaintext the mocks received
 * only inside a secret envelope (the generated Redis AUTH token, the Aurora master
 * password); the stacks' outputs too, which is all `dr:promote` reads of an evaluation.
 * The plaintexts are recorded at the mocks, not taken from the engine, so a secret the
 * engine failed to notice would still be searched for.
 */
import * as pulumi from "@pulumi/pulumi";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import * as engine from "../scripts/engine";
import { PlannedResource, StackEvaluation } from "../scripts/engine";
import { main as planMain } from "../scripts/plan";
import { runPolicyCli } from "../scripts/policy";
import { SECRET_MASK } from "../scripts/secrets";
import { evaluationKey } from "./support/evaluation-cache";
import { MockSecretRecorder, recordMockSecrets } from "./support/mock-secrets";

const STACKS = ["dev", "prod", "prod-dr"] as const;
/** The engine itself, before the spy below stands in for it. */
const evaluateStack = engine.evaluateStack;
const FORMATS = ["text", "json", "sarif"] as const;

/** What a CLI printed while `run` ran. */
async function printed(run: () => Promise<unknown>): Promise<string> {
  const lines: string[] = [];
  const { log, error, warn } = console;
  const keep = (...parts: unknown[]) => lines.push(parts.map(String).join(" "));
  Object.assign(console, { log: keep, error: keep, warn: keep });
  try {
    await run();
  } finally {
    Object.assign(console, { log, error, warn });
  }
  return lines.join("\n");
}

describe("every output of dev, prod and prod-dr", () => {
  const outputs = new Map<string, string>();
  const evaluations: StackEvaluation[] = [];
  let recorder: MockSecretRecorder;
  let directory: string;

  beforeAll(async () => {
    directory = fs.mkdtempSync(path.join(os.tmpdir(), "dp-no-secrets-"));
    recorder = recordMockSecrets();
    // Each evaluation runs once here (the plan and the three policy formats share it), in this
    // process, so the recorder sees its mocks; the shared test cache would hide them.
    const evaluated = new Map<string, Promise<StackEvaluation>>();
    jest.spyOn(engine, "evaluateStack").mockImplementation((stack, options = {}) => {
      const key = evaluationKey(stack, options);
      if (!evaluated.has(key)) {
        evaluated.set(key, evaluateStack(stack, options).then((evaluation) => (evaluations.push(evaluation), evaluation)));
      }
      return evaluated.get(key)!;
    });
    for (const stack of STACKS) {
      const planFile = path.join(directory, `plan-${stack}.json`);
      outputs.set(`plan ${stack} (text)`, await printed(() => planMain(["--stack", stack, "--out", planFile])));
      outputs.set(`plan ${stack} (${path.basename(planFile)})`, fs.readFileSync(planFile, "utf8"));
      for (const format of FORMATS) {
        const result = await runPolicyCli(["--stack", stack, "--format", format]);
        outputs.set(`policy ${stack} --format ${format}`, result.stdout + result.stderr);
      }
      const sarifFile = path.join(directory, `policy-${stack}.sarif`);
      await runPolicyCli(["--stack", stack, "--format", "sarif", "--out", sarifFile]);
      outputs.set(`policy ${stack} (${path.basename(sarifFile)})`, fs.readFileSync(sarifFile, "utf8"));
    }
  }, 600_000);

  afterAll(() => {
    recorder?.restore();
    jest.restoreAllMocks();
    if (directory) fs.rmSync(directory, { recursive: true, force: true });
  });

  it("saw the generated secrets (so the search below is not vacuous)", () => {
    const secrets = recorder.secretOnly();
    expect(secrets).toContainEqual(expect.stringMatching(/^[A-Za-z0-9]{64}$/)); // a Redis AUTH token
    expect(secrets).toContainEqual(expect.stringMatching(/^[A-Za-z0-9]{40}$/)); // prod's Aurora master password
    expect(outputs.size).toBe(STACKS.length * (2 + FORMATS.length + 1));
  });

  it("prints none of them, and prints [secret] where the plan holds one", () => {
    const secrets = recorder.secretOnly();
    const leaks = [...outputs].flatMap(([output, text]) => secrets.filter((secret) => text.includes(secret)).map((secret) => `${output}: ${secret.slice(0, 6)}…`));
    expect(leaks).toEqual([]);
    const redis = (JSON.parse(outputs.get("plan dev (plan-dev.json)")!).resources as PlannedResource[]).find((r) => r.type === "aws:elasticache/replicationGroup:ReplicationGroup")!;
    expect(redis.inputs.authTokenWo).toBe(SECRET_MASK);
  });

  it("leaves none in the stacks' outputs (what dr:promote reads) or in the evaluations policies see", () => {
    const secrets = recorder.secretOnly();
    expect(evaluations.length).toBeGreaterThanOrEqual(STACKS.length);
    const leaks = evaluations.flatMap((evaluation) => {
      const text = JSON.stringify(evaluation);
      return secrets.filter((secret) => text.includes(secret)).map((secret) => `${evaluation.stack}: ${secret.slice(0, 6)}…`);
    });
    expect(leaks).toEqual([]);
  });
});

/** A resource type of no provider: the mocks echo its inputs, which is all these tests need. */
class Thing extends pulumi.CustomResource {
  constructor(name: string, args: pulumi.Inputs) {
    super("test:index:Thing", name, args);
  }
}

describe("secrets outside resource inputs", () => {
  const PLAINTEXT = "sEcReT-value-0123456789-abcdef";

  it("masks a secret stack output as `pulumi stack output` does, and keeps the plain ones", async () => {
    const evaluation = await evaluateStack("dev", { config: {}, program: () => ({ token: pulumi.secret(PLAINTEXT), nested: { plain: "visible" } }) });
    expect(evaluation.outputs).toEqual({ token: SECRET_MASK, nested: { plain: "visible" } });
    expect(JSON.stringify(evaluation)).not.toContain(PLAINTEXT);
    expect(engine.secretsOf(evaluation).plaintexts).toContain(PLAINTEXT);
  });

  it("redacts a plaintext the program's error quotes", async () => {
    const throwing = async () => {
      const thing = new Thing("thing", { token: pulumi.secret(PLAINTEXT) });
      await new Promise((registered) => thing.id.apply(registered)); // the mocks have seen the secret
      throw new Error(`refused ${PLAINTEXT}`);
    };
    await expect(evaluateStack("dev", { config: {}, program: throwing })).rejects.toThrow(/^refused \[secret\]$/);
  });
});
