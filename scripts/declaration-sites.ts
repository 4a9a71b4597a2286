/**
 * Where each resource is declared in this repository: the file, line and column of the
 * `new …(` that constructed it, as a reviewer would look it up (and as GitHub code
 * scanning annotates it). The engine captures one stack per resource, in a stack
 * transformation (which runs synchronously inside the Resource constructor), and maps
 * only the one frame it keeps through the source maps, so the capture stays cheap.
 */
import * as fs from "fs";
import * as path from "path";

/** A position in a repository file; `file` is relative to the repository root, with "/" separators. */
export interface SourceLocation {
  readonly file: string;
  /** 1-based. */
  readonly line: number;
  /** 1-based. */
  readonly column: number;
}

type PrepareStackTrace = NonNullable<ErrorConstructor["prepareStackTrace"]>;

/** Deep enough for a constructor chain (Resource → CustomResource → provider class → component → caller). */
const CAPTURE_DEPTH = 30;
const THIS_MODULE = __filename.replace(/\.js$/, ".ts");

/** The current stack as V8 call sites, neither formatted nor mapped. */
function callSites(): NodeJS.CallSite[] {
  const { prepareStackTrace, stackTraceLimit } = Error;
  Error.prepareStackTrace = (_error, frames) => frames;
  Error.stackTraceLimit = CAPTURE_DEPTH;
  try {
    const holder: { stack?: unknown } = {};
    Error.captureStackTrace(holder, callSites);
    return holder.stack as NodeJS.CallSite[];
  } finally {
    Error.prepareStackTrace = prepareStackTrace;
    Error.stackTraceLimit = stackTraceLimit;
  }
}

/** Names of the classes in an object's prototype chain: their constructors' frames are the resource's own, not its declaration. */
function classChain(resource: object): Set<string> {
  const names = new Set<string>();
  for (let proto = Object.getPrototypeOf(resource); proto && proto !== Object.prototype; proto = Object.getPrototypeOf(proto)) {
    names.add(proto.constructor?.name);
  }
  return names;
}

const MAPPED_FRAME = /:(\d+):(\d+)\)?$/;

/**
 * Captures declaration sites inside `projectDir`. `mapStackTrace` is the
 * Error.prepareStackTrace that maps compiled positions to TypeScript ones (ts-node's or
 * jest's source-map support); without one (compiled JavaScript) positions are used as V8 reports them.
 * `skipFiles` are the capturing modules themselves (the engine).
 */
export function declarationSiteCapturer(projectDir: string, mapStackTrace: PrepareStackTrace | undefined, skipFiles: readonly string[] = []) {
  const root = path.resolve(projectDir) + path.sep;
  const skipped = new Set([THIS_MODULE, ...skipFiles.map((file) => file.replace(/\.js$/, ".ts"))]);
  const inRepository = (file: string | null | undefined): file is string =>
    !!file && file.startsWith(root) && !file.includes(`${path.sep}node_modules${path.sep}`) && !skipped.has(file.replace(/\.js$/, ".ts"));

  const position = (frame: NodeJS.CallSite): { line: number; column: number } => {
    const compiled = { line: frame.getLineNumber() ?? 1, column: frame.getColumnNumber() ?? 1 };
    if (mapStackTrace === undefined) return compiled;
    const mapped = String(mapStackTrace(new Error(""), [frame])).trim().split("\n").pop() ?? "";
    const match = MAPPED_FRAME.exec(mapped);
    return match ? { line: Number(match[1]), column: Number(match[2]) } : compiled;
  };

  /** The site of the resource being constructed now (call from inside its constructor); undefined if no frame is in the repository. */
  return (resource: object): SourceLocation | undefined => {
    const ownClasses = classChain(resource);
    const frame = callSites().find((site) => inRepository(site.getFileName()) && !(site.isConstructor() && ownClasses.has(site.getFunctionName() ?? "")));
    if (!frame) return undefined;
    return { file: path.relative(root, frame.getFileName()!).split(path.sep).join("/"), ...position(frame) };
  };
}

const fileLines = new Map<string, string[] | undefined>();

/** The text of a line of a repository file (memoised per file); undefined when the file or line does not exist. */
export function lineText(projectDir: string, location: Pick<SourceLocation, "file" | "line">): string | undefined {
  const file = path.join(projectDir, location.file);
  if (!fileLines.has(file)) fileLines.set(file, fs.existsSync(file) ? fs.readFileSync(file, "utf8").split(/\r?\n/) : undefined);
  return fileLines.get(file)?.[location.line - 1];
}

function stackFileLines(projectDir: string, file: string): string[] {
  const full = path.join(projectDir, file);
  return fs.existsSync(full) ? fs.readFileSync(full, "utf8").split(/\r?\n/) : [];
}

/** The config key a stack file line sets ("  data-platform:lakeVersioning: false" sets lakeVersioning). */
const configKeyOf = (line: string) => /^\s+(?:[\w-]+:)?([A-Za-z][\w-]*):/.exec(line)?.[1];

const SWITCHED_OFF = /:\s*(false|0)\s*(#.*)?$/;

/** The line of the stack file that switches one of `keys` off (`false` or `0`); undefined when it switches none off. */
export function switchedOffKeyLocation(projectDir: string, stack: string, keys: readonly string[]): SourceLocation | undefined {
  const file = `Pulumi.${stack}.yaml`;
  const lines = stackFileLines(projectDir, file);
  const index = lines.findIndex((line) => keys.includes(configKeyOf(line) ?? "") && SWITCHED_OFF.test(line));
  return index >= 0 ? { file, line: index + 1, column: lines[index].search(/\S/) + 1 } : undefined;
}

/**
 * The location of a stack file, at the line of the first config key that `message` names
 * (findings about the stack as a whole are usually about its config), or at its first line.
 */
export function stackFileLocation(projectDir: string, stack: string, message = ""): SourceLocation {
  const file = `Pulumi.${stack}.yaml`;
  const index = stackFileLines(projectDir, file).findIndex((line) => {
    const key = configKeyOf(line);
    // camelCase keys only (backupRetentionDays): a bare word such as "stage" would match prose.
    return key !== undefined && /[a-z][A-Z]/.test(key) && new RegExp(`\\b${key}\\b`).test(message);
  });
  return { file, line: index + 1 || 1, column: 1 };
}
