/**
 * `npm run policy -- --stack prod [--format text|json|sarif] [--out <file>]`: evaluates
 * the real program for a stack under the mock engine and runs every policy of the
 * CrossGuard pack in policies/ over it, with policies/config.<stack>.json and
 * policies/waivers.json, as `pulumi preview --policy-pack policies` would.
 * Exit codes: 0 no mandatory violation, 1 mandatory violations (expired waivers
 * included), 2 bad arguments, bad config or a program that does not evaluate.
 */
import * as fs from "fs";
import * as path from "path";
import { StageConfigError } from "../config";
import { WAIVERS_FILE } from "../policies/waiver-logic";
import { parseCliArgs } from "./cli";
import { PROJECT_DIR, StackEvaluation } from "./engine";
import { PolicyConfigError, policyConfigFile, readPolicyConfig } from "./policy-config";
import { formatJson, formatSarif, formatText, summaryParagraph } from "./policy-format";
import { PolicyReport, RunOptions, runPolicies } from "./policy-runner";
import { StageEvaluateOptions, evaluateStage } from "./stage-evaluation";

const USAGE = "Usage: npm run policy -- --stack <dev|prod|prod-dr> [--format text|json|sarif] [--out <file>]";
const FORMATS = { text: formatText, json: formatJson, sarif: formatSarif } as const;
type Format = keyof typeof FORMATS;

export const EXIT_PASSED = 0;
export const EXIT_MANDATORY_VIOLATIONS = 1;
export const EXIT_ERROR = 2;

const relative = (file: string) => path.relative(PROJECT_DIR, file);

/** Runs the pack over an already evaluated stack with that stack's policy config file. */
export async function checkEvaluation(evaluation: StackEvaluation, options: Omit<RunOptions, "config" | "configSource"> = {}): Promise<PolicyReport> {
  const file = policyConfigFile(evaluation.stack);
  return runPolicies(evaluation, { ...options, config: readPolicyConfig(file), configSource: relative(file) });
}

/** Evaluates the stack as it converges with its partner (optionally with another program or config) and checks it. */
export async function checkStack(stack: string, evaluate: StageEvaluateOptions = {}, options: Omit<RunOptions, "config" | "configSource"> = {}): Promise<PolicyReport> {
  return checkEvaluation((await evaluateStage(stack, evaluate)).evaluation, options);
}

export function exitCodeOf(report: PolicyReport): number {
  return report.passed ? EXIT_PASSED : EXIT_MANDATORY_VIOLATIONS;
}

export function renderReport(report: PolicyReport, format: Format): string {
  return format === "text" ? formatText(report, { config: relative(policyConfigFile(report.stack)), waivers: relative(WAIVERS_FILE) }) : FORMATS[format](report);
}

/** The paragraph `npm run plan` prints after the regions. */
export async function summarisePolicies(evaluation: StackEvaluation, stack = evaluation.stack): Promise<string> {
  try {
    const report = await checkEvaluation({ ...evaluation, stack });
    return summaryParagraph(report, relative(policyConfigFile(stack)));
  } catch (error) {
    return `Policy pack could not run: ${(error as Error).message}`;
  }
}

export interface CliResult {
  readonly exitCode: number;
  readonly stdout: string;
  readonly stderr: string;
}

/** The whole CLI minus process I/O, so tests can call it directly. */
export async function runPolicyCli(argv: string[], evaluate: StageEvaluateOptions = {}): Promise<CliResult> {
  let stack: string;
  let flags: Record<string, string>;
  try {
    ({ stack, flags } = parseCliArgs(argv, USAGE));
  } catch (error) {
    return { exitCode: EXIT_ERROR, stdout: "", stderr: (error as Error).message };
  }
  const format = (flags.format ?? "text") as Format;
  if (!(format in FORMATS)) return { exitCode: EXIT_ERROR, stdout: "", stderr: `Unknown --format "${flags.format}". ${USAGE}` };

  let report: PolicyReport;
  try {
    report = await checkStack(stack, evaluate);
  } catch (error) {
    if (error instanceof StageConfigError || error instanceof PolicyConfigError) return { exitCode: EXIT_ERROR, stdout: "", stderr: error.message };
    throw error;
  }
  const rendered = renderReport(report, format);
  if (flags.out) {
    const outFile = path.resolve(flags.out);
    fs.mkdirSync(path.dirname(outFile), { recursive: true });
    fs.writeFileSync(outFile, rendered);
    const summary = `${report.passed ? "PASSED" : "FAILED"}: ${report.counts.mandatory} mandatory, ${report.counts.advisory} advisory, ${report.counts.waived} waived; ${format} report written to ${path.relative(process.cwd(), outFile)}`;
    return { exitCode: exitCodeOf(report), stdout: summary, stderr: "" };
  }
  return { exitCode: exitCodeOf(report), stdout: rendered, stderr: "" };
}

if (require.main === module) {
  runPolicyCli(process.argv.slice(2))
    .then(({ exitCode, stdout, stderr }) => {
      if (stdout) process.stdout.write(`${stdout}\n`);
      if (stderr) process.stderr.write(`${stderr}\n`);
      process.exitCode = exitCode;
    })
    .catch((error) => {
      console.error(error instanceof Error ? error.message : error);
      process.exitCode = EXIT_ERROR;
    });
}
