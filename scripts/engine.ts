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
import { SourceLocation, declarationSiteCapturer } from "./declaration-sites";
import { mockCall, mockResourceOutputs, MOCK_ACCOUNT_ID } from "./mock-outputs";
import { SECRET_MASK, SECRET_SIGNATURE, SECRET_SIGNATURE_KEY, maskSecrets, redactText, secretPlaintexts } from "./secrets";

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
  /** Inputs as the engine receives them, with every secret as "[secret]" (the plaintexts stay out of the evaluation). */
  readonly inputs: Record<string, any>;
  /** Inputs plus the outputs the mocks computed, secrets masked likewise. */
  readonly state: Record<string, any>;
  /** Where the program constructs it: the first frame of the constructor's stack inside this repository (outside node_modules). */
  readonly source?: SourceLocation;
}

export interface StackEvaluation {
  readonly stack: string;
  readonly project: string;
  readonly resources: PlannedResource[];
  /** The stack's outputs; a secret output reads "[secret]", as `pulumi stack output` prints it. */
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

/**
 * What an evaluation's secrets were, kept beside the evaluation rather than in it: the
 * evaluation itself (inputs, state, outputs, messages) holds every secret as "[secret]",
 * so neither an output file nor a policy can print one.
 */
export interface EvaluationSecrets {
  /**
   * Plaintexts that exist only as secrets: the values of secret envelopes (and the strings
   * inside a JSON one, such as a password in {"username","password"}), less those the
   * evaluation also holds in clear. The provider marks some inputs secret whatever they hold
   * (an SSM parameter's value, here a stream ARN or a region name that other resources show
   * in clear); those reveal nothing. Free text (an error thrown later) is redacted with these.
   */
  readonly plaintexts: string[];
  /** By URN, the inputs of each resource that had a secret input, as the engine received them (secret envelopes included). */
  readonly inputs: Record<string, Record<string, unknown>>;
}

const secretsBeside = new WeakMap<StackEvaluation, EvaluationSecrets>();

export function secretsOf(evaluation: StackEvaluation): EvaluationSecrets {
  return secretsBeside.get(evaluation) ?? { plaintexts: [], inputs: {} };
}

/** Re-attaches the secrets to an evaluation read back from JSON (the test evaluation cache). */
export function rememberSecrets(evaluation: StackEvaluation, secrets: EvaluationSecrets): StackEvaluation {
  secretsBeside.set(evaluation, secrets);
  return evaluation;
}

/** A JSON object or array held as a string (a secret built with JSON.stringify) adds its string leaves. */
function withJsonLeaves(plaintexts: Iterable<string>): Set<string> {
  const all = new Set<string>();
  for (const plaintext of plaintexts) {
    all.add(plaintext);
    if (!/^\s*[[{]/.test(plaintext)) continue;
    try {
      stringLeaves(JSON.parse(plaintext), all);
    } catch {
      // Not JSON after all: the string itself is the secret.
    }
  }
  return all;
}

function stringLeaves(value: unknown, found: Set<string> = new Set()): Set<string> {
  if (typeof value === "string") found.add(value);
  else if (Array.isArray(value)) for (const inner of value) stringLeaves(inner, found);
  else if (typeof value === "object" && value !== null) for (const inner of Object.values(value)) stringLeaves(inner, found);
  return found;
}

/** The plaintexts that appear nowhere in the (masked) evaluation in clear. */
function confidentialPlaintexts(plaintexts: Iterable<string>, evaluation: Omit<StackEvaluation, "warnings" | "infos" | "errors">): string[] {
  const inClear = stringLeaves([evaluation.outputs, evaluation.resources.map((r) => [r.inputs, r.state])]);
  return [...withJsonLeaves(plaintexts)].filter((plaintext) => plaintext !== "" && !inClear.has(plaintext));
}

/** Runs one stack's program under mocks and returns its full resource graph. */
export async function evaluateStack(stack: string, options: EvaluateOptions = {}): Promise<StackEvaluation> {
  memoiseCodePaths();
  const mappedStackTrace = Error.prepareStackTrace;
  Error.prepareStackTrace = unmappedStackTrace;
  const plaintexts = new Set<string>();
  try {
    return await evaluateWithMocks(stack, options, plaintexts, mappedStackTrace);
  } catch (error) {
    // The program's message may quote a secret it was given; it leaves the engine redacted.
    // Nothing tells yet which plaintexts are also held in clear, so every one is redacted.
    if (error instanceof Error && plaintexts.size > 0) error.message = redactText(error.message, withJsonLeaves(plaintexts));
    throw error;
  } finally {
    Error.prepareStackTrace = mappedStackTrace;
  }
}

/** The program's output names whose value the SDK tracks as secret (a secret nested in an output makes the whole output secret). */
async function secretOutputNames(outputs: Record<string, unknown>): Promise<Set<string>> {
  const names = new Set<string>();
  for (const [name, value] of Object.entries(outputs)) if (await pulumi.isSecret(pulumi.output(value))) names.add(name);
  return names;
}

/** Resolved outputs with each secret one read as SECRET_MASK, as `pulumi stack output` prints it; its plaintext joins `plaintexts`. */
function maskOutputs(outputs: Record<string, unknown>, secretNames: ReadonlySet<string>, plaintexts: Set<string>): Record<string, unknown> {
  return Object.fromEntries(
    Object.entries(outputs).map(([name, value]) => {
      if (!secretNames.has(name)) return [name, maskSecrets(value)];
      secretPlaintexts({ [SECRET_SIGNATURE_KEY]: SECRET_SIGNATURE, value }, plaintexts);
      return [name, SECRET_MASK];
    }),
  );
}

async function evaluateWithMocks(stack: string, options: EvaluateOptions, plaintexts: Set<string>, mapStackTrace: typeof Error.prepareStackTrace): Promise<StackEvaluation> {
  const project = readProjectName();
  const config = options.config ?? readStackConfig(stack);
  const recorded = new Map<string, { inputs: any; state: any }>();
  const secretInputs = new Map<string, Record<string, unknown>>();
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
        // Masked at the source: what is recorded (and so every output, and every policy) sees "[secret]".
        const key = `${args.type}::${args.name}`;
        const secretsHere = secretPlaintexts(result.state, secretPlaintexts(args.inputs));
        if (secretsHere.size > 0) {
          secretsHere.forEach((plaintext) => plaintexts.add(plaintext));
          secretInputs.set(key, args.inputs);
        }
        recorded.set(key, { inputs: maskSecrets(args.inputs), state: maskSecrets(result.state) });
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
  const declaredAt = declarationSiteCapturer(PROJECT_DIR, mapStackTrace, [__filename]);
  const sources = new Map<string, SourceLocation>();
  let outputs: Record<string, unknown> = {};
  try {
    // A program error is caught inside the stack's init: left to reject there, it would also
    // reject the Stack resource's registration and crash the process unhandled.
    let programError: unknown;
    let secretNames = new Set<string>();
    const stackOutputs = await pulumi.runtime.runInPulumiStack(async () => {
      // A stack transformation runs synchronously in every Resource constructor below the
      // stack, so the stack it sees still holds the program's `new …(` (DESIGN.md: transformations
      // need runInPulumiStack). It only looks; it changes nothing.
      pulumi.runtime.registerStackTransformation(({ resource, type, name }) => {
        const site = declaredAt(resource);
        if (site) sources.set(`${type}::${name}`, site);
        return undefined;
      });
      try {
        const programOutputs = (await (options.program ?? defaultProgram)()) ?? {};
        secretNames = await secretOutputNames(programOutputs);
        return programOutputs;
      } catch (error) {
        programError = error;
        return {};
      }
    });
    await settings.waitForRPCs();
    if (programError !== undefined) throw programError;
    outputs = maskOutputs((stackOutputs ?? {}) as Record<string, unknown>, secretNames, plaintexts);
  } finally {
    output.restore();
  }

  const resources: PlannedResource[] = [...captured.entries()]
    .filter(([, r]) => r.type !== "pulumi:pulumi:Stack")
    .map(([urn, r]) => {
      const key = `${r.type}::${r.name}`;
      const registered = recorded.get(key) ?? { inputs: {}, state: {} };
      const source = sources.get(key);
      return { urn, ...r, region: r.custom ? regionOf(r.provider) : undefined, inputs: registered.inputs, state: registered.state, ...(source ? { source } : {}) };
    });
  const confidential = confidentialPlaintexts(plaintexts, { stack, project, resources, outputs });
  const redacted = (lines: string[]) => lines.map((line) => redactText(line, confidential));
  const evaluation = {
    stack,
    project,
    resources,
    outputs,
    warnings: redacted(output.warnings),
    infos: redacted(output.infos),
    errors: redacted(output.errors.filter((line) => line.startsWith("error:"))),
  };
  const inputs = Object.fromEntries(resources.filter((r) => secretInputs.has(`${r.type}::${r.name}`)).map((r) => [r.urn, secretInputs.get(`${r.type}::${r.name}`)!]));
  return rememberSecrets(evaluation, { plaintexts: confidential, inputs });
}

/** Resources of one type token, e.g. "aws:s3/bucket:Bucket". */
export function ofType(evaluation: StackEvaluation, type: string): PlannedResource[] {
  return evaluation.resources.filter((r) => r.type === type);
}

/** Direct children of a resource. */
export function childrenOf(evaluation: StackEvaluation, parent: PlannedResource): PlannedResource[] {
  return evaluation.resources.filter((r) => r.parent === parent.urn);
}
