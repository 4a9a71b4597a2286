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
import { EvaluateOptions, StackEvaluation, evaluateStack } from "../../scripts/engine";

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
  if (fs.existsSync(file)) return JSON.parse(fs.readFileSync(file, "utf8")) as StackEvaluation;
  const evaluation = await evaluateStack(stack, options);
  // Write then rename, so a worker never reads a half-written file.
  const partial = `${file}.${process.pid}.partial`;
  fs.writeFileSync(partial, JSON.stringify(evaluation));
  fs.renameSync(partial, file);
  return JSON.parse(fs.readFileSync(file, "utf8")) as StackEvaluation;
}
