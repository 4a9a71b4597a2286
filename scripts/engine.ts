/**
 * Evaluates the real program for a stack under the Pulumi SDK's mock engine and
 * records every registration exactly as the engine would receive it: type, name,
 * parent, provider, protect, dependencies and inputs. Nothing here needs the Pulumi
 * CLI, a provider plugin or AWS credentials.
 */
import * as pulumi from "@pulumi/pulumi";
import * as fs from "fs";
import * as yaml from "js-yaml";
import * as path from "path";
import { mockCall, mockResourceOutputs, MOCK_ACCOUNT_ID } from "./mock-outputs";

export { MOCK_ACCOUNT_ID };

export const PROJECT_DIR = path.resolve(__dirname, "..");

export interface PlannedResource {
  readonly urn: string;
  readonly type: string;
  readonly name: string;
  readonly custom: boolean;
  /** Built by a provider plugin (e.g. awsx): its children are invisible offline. */
  readonly remote: boolean;
  readonly parent?: string;
  /** Provider reference "urn::id" the engine would use for this resource. */
  readonly provider?: string;
  /** Region of the provider the resource is created with (custom resources only). */
  readonly region?: string;
  readonly protect: boolean;
  /** Properties a later update leaves alone (the ignoreChanges option). */
  readonly ignoreChanges: string[];
  /** The physical id the resource adopts instead of being created (the import option), if any. */
  readonly importId?: string;
  readonly dependencies: string[];
  /** Per input property, the URNs its value came from (what lets policies correlate resources during preview). */
  readonly propertyDependencies: Record<string, string[]>;
  /** The physical id the mocks assigned ("" for components). */
  readonly id: string;
  readonly inputs: Record<string, any>;
  /** Inputs plus the outputs the mocks computed. */
  readonly state: Record<string, any>;
}

export interface StackEvaluation {
  readonly stack: string;
  readonly project: string;
  readonly resources: PlannedResource[];
  readonly outputs: Record<string, unknown>;
  /** Warnings the program or SDKs logged (deprecations among them). */
  readonly warnings: string[];
  /** What the program told the operator (pulumi.log.info), as `pulumi up` would show it. */
  readonly infos: string[];
  /** Errors logged while resources resolved (e.g. a throw inside an apply). */
  readonly errors: string[];
}

export interface EvaluateOptions {
  /** Raw config ("namespace:key" to string); defaults to Pulumi.<stack>.yaml. */
  config?: Record<string, string>;
  /** The program; defaults to the one `pulumi up` runs (index.ts). */
  program?: () => Promise<Record<string, unknown> | void> | Record<string, unknown> | void;
  /**
   * What each StackReference reads, by fully qualified stack name. A stack missing here
   * reads as one that exists but has no outputs yet (a stack that was created, never deployed).
   */
  stackReferences?: Record<string, Record<string, unknown>>;
}

/** The organization the DIY backends (`pulumi login --local`, s3://) put every stack in. */
export const DEFAULT_ORGANIZATION = "organization";
export const STACK_REFERENCE_TYPE = "pulumi:pulumi:StackReference";

export function readProjectName(dir = PROJECT_DIR): string {
  const project = yaml.load(fs.readFileSync(path.join(dir, "Pulumi.yaml"), "utf8")) as { name: string };
  return project.name;
}

/**
 * Reads Pulumi.<stack>.yaml into the flat map Pulumi gives a program: keys
 * "namespace:key" (bare keys belong to the project), values as strings, with
 * arrays and objects as JSON, exactly as the CLI passes them.
 */
export function readStackConfig(stack: string, dir = PROJECT_DIR): Record<string, string> {
  const file = path.join(dir, `Pulumi.${stack}.yaml`);
  if (!fs.existsSync(file)) throw new Error(`No stack file ${path.basename(file)} in ${dir}`);
  const document = (yaml.load(fs.readFileSync(file, "utf8")) ?? {}) as { config?: Record<string, unknown> };
  return flattenConfig(document.config ?? {}, readProjectName(dir));
}

export function flattenConfig(config: Record<string, unknown>, project: string): Record<string, string> {
  const flat: Record<string, string> = {};
  for (const [key, value] of Object.entries(config)) {
    const qualified = key.includes(":") ? key : `${project}:${key}`;
    flat[qualified] = typeof value === "string" ? value : JSON.stringify(value);
  }
  return flat;
}

function defaultProgram() {
  // Required lazily so that config is in place before the program module loads.
  const program = require(path.join(PROJECT_DIR, "index"));
  return (typeof program === "function" ? program : program.default)();
}

interface CapturedRegistration {
  type: string;
  name: string;
  custom: boolean;
  remote: boolean;
  parent?: string;
  provider?: string;
  protect: boolean;
  ignoreChanges: string[];
  importId?: string;
  dependencies: string[];
  propertyDependencies: Record<string, string[]>;
  id: string;
}

function propertyDependenciesOf(req: any): Record<string, string[]> {
  const dependencies: Record<string, string[]> = {};
  req.getPropertydependenciesMap().forEach((entry: any, key: string) => {
    dependencies[key] = entry.getUrnsList();
  });
  return dependencies;
}

/** Wraps the mock monitor so every RegisterResource request is recorded with its options. */
function captureRegistrations(): Map<string, CapturedRegistration> {
  const settings = require("@pulumi/pulumi/runtime/settings");
  const monitor = settings.getMonitor();
  const captured = new Map<string, CapturedRegistration>();
  const register = monitor.registerResource.bind(monitor);
  monitor.registerResource = (req: any, callback: (err: any, resp: any) => void) =>
    register(req, (err: any, resp: any) => {
      if (!err && resp) {
        captured.set(resp.getUrn(), {
          type: req.getType(),
          name: req.getName(),
          custom: req.getCustom(),
          remote: req.getRemote(),
          parent: req.getParent() || undefined,
          provider: req.getProvider() || undefined,
          protect: req.getProtect() === true,
          ignoreChanges: req.getIgnorechangesList(),
          importId: req.getImportid() || undefined,
          dependencies: req.getDependenciesList(),
          propertyDependencies: propertyDependenciesOf(req),
          id: resp.getId(),
        });
      }
      callback(err, resp);
    });
  return captured;
}

const SDK_INFO_PREFIX = "info: [runtime] ";

/** Collects the diagnostics the SDK prints to the console when no engine is attached. */
function captureConsole(): { warnings: string[]; errors: string[]; infos: string[]; restore(): void } {
  const warnings: string[] = [];
  const errors: string[] = [];
  const infos: string[] = [];
  const { warn, error, log } = console;
  console.warn = (...parts: unknown[]) => warnings.push(parts.map(String).join(" "));
  console.error = (...parts: unknown[]) => errors.push(parts.map(String).join(" "));
  console.log = (...parts: unknown[]) => {
    const line = parts.map(String).join(" ");
    if (line.startsWith(SDK_INFO_PREFIX)) infos.push(line.slice(SDK_INFO_PREFIX.length));
    else log(...parts);
  };
  return { warnings, errors, infos, restore: () => Object.assign(console, { warn, error, log }) };
}

/**
 * V8's own stack format, without source maps. The SDK captures a stack trace for every
 * promise it creates (runtime/debuggable.js), and under ts-node or jest each capture is
 * mapped through source-map-support: that mapping was a third to a half of an offline
 * evaluation. Errors keep their name, message and frames (compiled positions).
 */
function unmappedStackTrace(error: Error, frames: NodeJS.CallSite[]): string {
  return [`${error.name}: ${error.message}`, ...frames.map((frame) => `    at ${frame}`)].join("\n");
}

let codePathsMemoised = false;

/**
 * CallbackFunction computes each archive's package folders by walking node_modules with
 * npm's arborist: the same walk, with the same answer, for every function of every
 * evaluation (a third of an evaluation's time). Within one process node_modules does not
 * change, so the answer is computed once per set of options.
 */
function memoiseCodePaths(): void {
  if (codePathsMemoised) return;
  codePathsMemoised = true;
  // @pulumi/aws calls it as pulumi.runtime.computeCodePaths, a copy of the closure module's export.
  const codePaths = require("@pulumi/pulumi/runtime");
  const compute = codePaths.computeCodePaths;
  const answers = new Map<string, Promise<unknown>>();
  codePaths.computeCodePaths = (options: unknown, ...rest: unknown[]) => {
    if (typeof options !== "object" || options === null || Array.isArray(options) || rest.length > 0) return compute(options, ...rest);
    const { logResource: _logResource, ...key } = options as Record<string, unknown>;
    const id = JSON.stringify(key);
    if (!answers.has(id)) answers.set(id, compute(options));
    return answers.get(id);
  };
}

/** Runs one stack's program under mocks and returns its full resource graph. */
export async function evaluateStack(stack: string, options: EvaluateOptions = {}): Promise<StackEvaluation> {
  memoiseCodePaths();
  const mappedStackTrace = Error.prepareStackTrace;
  Error.prepareStackTrace = unmappedStackTrace;
  try {
    return await evaluateWithMocks(stack, options);
  } finally {
    Error.prepareStackTrace = mappedStackTrace;
  }
}

async function evaluateWithMocks(stack: string, options: EvaluateOptions): Promise<StackEvaluation> {
  const project = readProjectName();
  const config = options.config ?? readStackConfig(stack);
  const recorded = new Map<string, { inputs: any; state: any }>();
  // Provider references arrive as "urn::id"; ids of mocked providers are unique, so key regions by id.
  const providerRegions = new Map<string, string>();
  const regionOf = (provider?: string) => (provider ? providerRegions.get(provider.split("::").pop()!) : undefined);

  await pulumi.runtime.setMocks(
    {
      newResource(args: pulumi.runtime.MockResourceArgs) {
        if (args.type === STACK_REFERENCE_TYPE) {
          const name = String(args.inputs.name);
          return { id: name, state: { name, outputs: options.stackReferences?.[name] ?? {}, secretOutputNames: [] } };
        }
        const result = mockResourceOutputs(args, regionOf(args.provider) ?? "us-east-1", stack);
        if (args.type === "pulumi:providers:aws") providerRegions.set(result.id, args.inputs.region);
        recorded.set(`${args.type}::${args.name}`, { inputs: args.inputs, state: result.state });
        return result;
      },
      call(args: pulumi.runtime.MockCallArgs) {
        return mockCall(args, regionOf(args.provider) ?? "us-east-1");
      },
    },
    project,
    stack,
    false,
    DEFAULT_ORGANIZATION,
  );
  pulumi.runtime.setAllConfig(config);
  const captured = captureRegistrations();
  const settings = require("@pulumi/pulumi/runtime/settings");

  const output = captureConsole();
  let outputs: Record<string, unknown> = {};
  try {
    // A program error is caught inside the stack's init: left to reject there, it would also
    // reject the Stack resource's registration and crash the process unhandled.
    let programError: unknown;
    const stackOutputs = await pulumi.runtime.runInPulumiStack(async () => {
      try {
        return (await (options.program ?? defaultProgram)()) ?? {};
      } catch (error) {
        programError = error;
        return {};
      }
    });
    await settings.waitForRPCs();
    if (programError !== undefined) throw programError;
    outputs = (stackOutputs ?? {}) as Record<string, unknown>;
  } finally {
    output.restore();
  }

  const resources: PlannedResource[] = [...captured.entries()]
    .filter(([, r]) => r.type !== "pulumi:pulumi:Stack")
    .map(([urn, r]) => {
      const registered = recorded.get(`${r.type}::${r.name}`) ?? { inputs: {}, state: {} };
      return { urn, ...r, region: r.custom ? regionOf(r.provider) : undefined, inputs: registered.inputs, state: registered.state };
    });
  return {
    stack,
    project,
    resources,
    outputs,
    warnings: output.warnings,
    infos: output.infos,
    errors: output.errors.filter((line) => line.startsWith("error:")),
  };
}

/** Resources of one type token, e.g. "aws:s3/bucket:Bucket". */
export function ofType(evaluation: StackEvaluation, type: string): PlannedResource[] {
  return evaluation.resources.filter((r) => r.type === type);
}

/** Direct children of a resource. */
export function childrenOf(evaluation: StackEvaluation, parent: PlannedResource): PlannedResource[] {
  return evaluation.resources.filter((r) => r.parent === parent.urn);
}
