/**
 * The base of `npm run plan -- --diff BASE`: a plan JSON from another revision, or a git
 * ref evaluated by that revision's own `npm run plan` in a temporary worktree.
 * An existing file is a plan JSON; anything else must name a commit (`git rev-parse
 * --verify <ref>^{commit}`), so `--diff origin/main` and `--diff out/plan-prod.json` both work.
 */
import { execFileSync } from "child_process";
import * as fs from "fs";
import { Listr, ListrLogger, ProcessOutput } from "listr2";
import * as os from "os";
import * as path from "path";
import { PROJECT_DIR } from "./engine";
import { PlanDocument, blockerLine, diffExitCode, diffPlans, renderPlanDiff } from "./plan-diff";

export type BaseSource = { kind: "file"; file: string } | { kind: "ref"; ref: string; commit: string };

function gitCommitOf(ref: string, cwd: string): string | undefined {
  try {
    return execFileSync("git", ["rev-parse", "--verify", "--quiet", `${ref}^{commit}`], { cwd, encoding: "utf8", stdio: ["ignore", "pipe", "ignore"] }).trim();
  } catch {
    return undefined;
  }
}

/** Tells a plan file from a git ref; refuses what is neither. */
export function resolveBase(base: string, cwd = process.cwd()): BaseSource {
  const file = path.resolve(cwd, base);
  if (fs.existsSync(file) && fs.statSync(file).isFile()) return { kind: "file", file };
  const commit = gitCommitOf(base, PROJECT_DIR);
  if (commit) return { kind: "ref", ref: base, commit };
  throw new Error(`--diff ${base}: neither a plan JSON file nor a git ref of this repository (for the base branch in CI, fetch it first: git fetch origin main)`);
}

/** Reads a plan JSON and checks it is one, for the stack asked for. */
export function readPlanDocument(file: string, stack: string): PlanDocument {
  let document: PlanDocument;
  try {
    document = JSON.parse(fs.readFileSync(file, "utf8")) as PlanDocument;
  } catch (error) {
    throw new Error(`--diff ${file}: not a plan JSON (${(error as Error).message})`);
  }
  if (typeof document?.stack !== "string" || !Array.isArray(document.resources)) throw new Error(`--diff ${file}: not a plan JSON (no stack and resources; npm run plan writes out/plan-<stack>.json)`);
  if (document.stack !== stack) throw new Error(`--diff ${file}: the base plan is of stack ${document.stack}, not ${stack}`);
  return document;
}

const progressOptions = () =>
  ({
    renderer: process.stderr.isTTY ? "default" : "simple",
    // Progress goes to stderr, so that stdout holds only the diff (the workflow writes it to the job summary).
    rendererOptions: { logger: new ListrLogger({ processOutput: new ProcessOutput(process.stderr, process.stderr) }) },
    exitOnError: true,
    registerSignalListeners: false,
  }) as never;

/**
 * Evaluates `stack` at `commit` with that revision's own plan command: a detached worktree
 * in a temporary directory, node_modules linked from this checkout, `npm run plan -- --out`,
 * then the worktree removed (also when the evaluation fails).
 */
export async function evaluateRef(source: Extract<BaseSource, { kind: "ref" }>, stack: string): Promise<PlanDocument> {
  const scratch = fs.mkdtempSync(path.join(os.tmpdir(), "plan-base-"));
  const tree = path.join(scratch, "tree");
  const out = path.join(scratch, `plan-${stack}.json`);
  const git = (...args: string[]) => execFileSync("git", args, { cwd: PROJECT_DIR, stdio: ["ignore", "pipe", "pipe"] });
  let document: PlanDocument | undefined;
  const label = `${source.ref} (${source.commit.slice(0, 12)})`;
  try {
    await new Listr(
      [
        { title: `Check out ${label} in a temporary worktree`, task: () => void git("worktree", "add", "--detach", tree, source.commit) },
        { title: "Link node_modules from this checkout", task: () => fs.symlinkSync(fs.realpathSync(path.join(PROJECT_DIR, "node_modules")), path.join(tree, "node_modules"), "dir") },
        {
          title: `Evaluate ${stack} at ${label}`,
          task: () => {
            try {
              execFileSync("npm", ["run", "--silent", "plan", "--", "--stack", stack, "--out", out], { cwd: tree, stdio: ["ignore", "pipe", "pipe"], encoding: "utf8" });
            } catch (error) {
              const failed = error as { stderr?: string; stdout?: string; status?: number };
              const tail = `${failed.stderr ?? ""}${failed.stdout ?? ""}`.trim().split("\n").slice(-15).join("\n");
              throw new Error(`npm run plan -- --stack ${stack} failed at ${label} (exit ${failed.status ?? "?"}):\n${tail}`);
            }
            document = readPlanDocument(out, stack);
          },
        },
      ],
      progressOptions(),
    ).run();
  } finally {
    try {
      if (fs.existsSync(tree)) git("worktree", "remove", "--force", tree);
    } finally {
      // The base plan may hold secrets in clear (revisions before masking): nothing of it stays behind.
      fs.rmSync(scratch, { recursive: true, force: true });
    }
  }
  if (!document) throw new Error(`No plan was written for ${stack} at ${label}`);
  return document;
}

export async function loadBase(base: string, stack: string): Promise<{ document: PlanDocument; label: string }> {
  const source = resolveBase(base);
  if (source.kind === "file") {
    const relative = path.relative(process.cwd(), source.file);
    return { document: readPlanDocument(source.file, stack), label: relative.startsWith("..") ? source.file : relative };
  }
  return { document: await evaluateRef(source, stack), label: `${source.ref} (${source.commit.slice(0, 12)})` };
}

export const DIFF_FORMATS = ["text", "markdown"] as const;
export type DiffFormat = (typeof DIFF_FORMATS)[number];

export interface PlanDiffCommand {
  readonly stack: string;
  /** The --diff argument: a plan JSON file or a git ref. */
  readonly base: string;
  /** This revision's plan document (graphDocument, as written to out/plan-<stack>.json). */
  readonly head: PlanDocument;
  readonly format?: string;
  readonly failOnReplace: boolean;
  /** Sections printed after the resources, computed from both documents (the cost delta). */
  readonly sections?: (base: PlanDocument, head: PlanDocument) => { title: string; lines: string[] }[];
}

/** `--diff`: the rendered diff, one line per protected resource replaced or deleted, and the exit status. */
export async function runPlanDiff(command: PlanDiffCommand): Promise<{ output: string; blockers: string[]; exitCode: number }> {
  const format = (command.format ?? "text") as DiffFormat;
  if (!DIFF_FORMATS.includes(format)) throw new Error(`Unknown --format "${command.format}" for --diff (${DIFF_FORMATS.join(" or ")})`);
  const { document: base, label } = await loadBase(command.base, command.stack);
  const diff = diffPlans(base, command.head);
  const output = renderPlanDiff(diff, { format, baseLabel: label, sections: command.sections?.(base, command.head), documents: [base, command.head] });
  const blockers = command.failOnReplace ? diff.blockers.map((b) => `--fail-on-replace: ${blockerLine(b)}`) : [];
  return { output, blockers, exitCode: diffExitCode(diff, command.failOnReplace) };
}
