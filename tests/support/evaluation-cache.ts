/**
 * Evaluations of the real program, computed once per test run and shared by the jest
 * workers: an evaluation is a pure function of the sources, the stack's config and what
 * its StackReferences read, and within one run only the last two vary, so they are the
 * key. Each reader gets its own copy. Evaluations with a custom program are never cached.
 * Outside jest (no run directory) every call evaluates.
 */
import { createHash } from "crypto";
import * as fs from "fs";
import * as path from "path";
import { EvaluateOptions, EvaluationSecrets, StackEvaluation, evaluateStack, rememberSecrets, secretsOf } from "../../scripts/engine";

function sorted(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(sorted);
  if (typeof value === "object" && value !== null) return Object.fromEntries(Object.entries(value).sort(([a], [b]) => a.localeCompare(b)).map(([k, v]) => [k, sorted(v)]));
  return value;
}

export function evaluationKey(stack: string, options: EvaluateOptions): string {
  return createHash("sha256").update(JSON.stringify(sorted({ stack, config: options.config, stackReferences: options.stackReferences }))).digest("hex").slice(0, 32);
}

/** evaluateStack, shared across the workers of one test run. */
export async function cachedEvaluateStack(stack: string, options: EvaluateOptions = {}): Promise<StackEvaluation> {
  const directory = process.env.DP_EVALUATION_CACHE;
  if (directory === undefined || options.program !== undefined || options.config === undefined) return evaluateStack(stack, options);
  const file = path.join(directory, `${stack}-${evaluationKey(stack, options)}.json`);
  // The secrets live beside the evaluation (never in it), so they get a file of their own, written first.
  const secretsFile = `${file}.secrets`;
  const read = () => rememberSecrets(JSON.parse(fs.readFileSync(file, "utf8")) as StackEvaluation, JSON.parse(fs.readFileSync(secretsFile, "utf8")) as EvaluationSecrets);
  if (fs.existsSync(file)) return read();
  const evaluation = await evaluateStack(stack, options);
  // Write then rename, so a worker never reads a half-written file.
  const publish = (target: string, content: unknown) => {
    const partial = `${target}.${process.pid}.partial`;
    fs.writeFileSync(partial, JSON.stringify(content));
    fs.renameSync(partial, target);
  };
  publish(secretsFile, secretsOf(evaluation));
  publish(file, evaluation);
  return read();
}
