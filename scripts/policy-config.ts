/**
 * Per-stack policy config, in the format `pulumi preview --policy-pack-config` reads:
 * { "<policy>": "<level>" | { "enforcementLevel"?: "<level>", ...settings }, "all"?: "<level>" }.
 * The offline runner resolves it as the CLI does: levels override the declared ones,
 * settings are validated against each policy's configSchema and filled with its defaults.
 */
import * as fs from "fs";
import * as path from "path";
import { PolicyConfigSchema } from "@pulumi/policy";
import { PlatformPolicy } from "../policies/lib/policy";
import { PROJECT_DIR } from "./engine";

export type EnforcementLevel = "mandatory" | "advisory" | "remediate" | "disabled";
const LEVELS: readonly string[] = ["mandatory", "advisory", "remediate", "disabled"];

export type PolicyPackConfig = Record<string, unknown>;

export class PolicyConfigError extends Error {
  constructor(readonly problems: string[], source: string) {
    super(`Invalid policy config ${source}:\n${problems.map((p) => `  - ${p}`).join("\n")}`);
    this.name = "PolicyConfigError";
  }
}

export function policyConfigFile(stack: string): string {
  return path.join(PROJECT_DIR, "policies", `config.${stack}.json`);
}

/** The stack's config file, or an empty config (every policy at its declared level and defaults) when there is none. */
export function readPolicyConfig(file: string): PolicyPackConfig {
  if (!fs.existsSync(file)) return {};
  try {
    return JSON.parse(fs.readFileSync(file, "utf8")) as PolicyPackConfig;
  } catch (error) {
    throw new PolicyConfigError([(error as Error).message], path.relative(PROJECT_DIR, file));
  }
}

type JsonSchema = PolicyConfigSchema["properties"][string];

/** Why `value` does not fit `schema`, for the subset of JSON Schema this pack's configSchemas use. */
function schemaProblem(value: unknown, schema: JsonSchema, where: string): string | undefined {
  const types = schema.type === undefined ? [] : Array.isArray(schema.type) ? schema.type : [schema.type];
  const fits = (type: string) =>
    (type === "integer" && Number.isInteger(value)) ||
    (type === "number" && typeof value === "number") ||
    (type === "array" && Array.isArray(value)) ||
    (type === "object" && typeof value === "object" && value !== null && !Array.isArray(value)) ||
    (type === "null" && value === null) ||
    typeof value === type;
  if (types.length > 0 && !types.some(fits)) return `${where} must be ${types.join(" or ")}, not ${JSON.stringify(value)}`;
  if (schema.enum && !schema.enum.some((allowed) => JSON.stringify(allowed) === JSON.stringify(value))) return `${where} must be one of ${JSON.stringify(schema.enum)}`;
  if (typeof value === "number" && schema.minimum !== undefined && value < schema.minimum) return `${where} must be at least ${schema.minimum}`;
  if (typeof value === "number" && schema.maximum !== undefined && value > schema.maximum) return `${where} must be at most ${schema.maximum}`;
  if (typeof value === "string" && schema.pattern !== undefined && !new RegExp(schema.pattern).test(value)) return `${where} must match ${schema.pattern}`;
  if (Array.isArray(value) && schema.items && typeof schema.items === "object" && !Array.isArray(schema.items)) {
    const items = schema.items as JsonSchema;
    return value.map((item, i) => schemaProblem(item, items, `${where}[${i}]`)).find((p) => p !== undefined);
  }
  return undefined;
}

export interface ResolvedPolicyConfig {
  /** The level the engine would run the policy at ("remediate" reports as mandatory). */
  levelOf(policy: PlatformPolicy): EnforcementLevel;
  /** What args.getConfig() returns: schema defaults overlaid with the stack's settings. */
  settingsOf(policy: PlatformPolicy): Record<string, unknown>;
}

function entryOf(raw: unknown): { level?: string; settings: Record<string, unknown> } {
  if (typeof raw === "string") return { level: raw, settings: {} };
  const { enforcementLevel, ...settings } = (raw ?? {}) as Record<string, unknown>;
  return { level: enforcementLevel as string | undefined, settings };
}

function defaultsOf(policy: PlatformPolicy): Record<string, unknown> {
  const properties = policy.configSchema?.properties ?? {};
  return Object.fromEntries(Object.entries(properties).filter(([, schema]) => schema.default !== undefined).map(([key, schema]) => [key, schema.default]));
}

/** Validates the config against the pack and resolves it; throws PolicyConfigError listing every problem. */
export function resolvePolicyConfig(policies: readonly PlatformPolicy[], config: PolicyPackConfig, source = "(inline)"): ResolvedPolicyConfig {
  const problems: string[] = [];
  const byName = new Map(policies.map((p) => [p.name, p]));
  for (const [name, raw] of Object.entries(config)) {
    const { level, settings } = entryOf(raw);
    if (level !== undefined && !LEVELS.includes(level)) problems.push(`${name}: enforcementLevel "${level}" is not one of ${LEVELS.join(", ")}`);
    if (name === "all") continue;
    const policy = byName.get(name);
    if (policy === undefined) {
      problems.push(`${name}: no policy of that name in the pack`);
      continue;
    }
    const schema = policy.configSchema;
    for (const [key, value] of Object.entries(settings)) {
      const property = schema?.properties[key];
      const problem = property === undefined ? `${name}.${key}: not a setting of this policy` : schemaProblem(value, property, `${name}.${key}`);
      if (problem) problems.push(problem);
    }
    for (const key of schema?.required ?? []) if (!(key in settings)) problems.push(`${name}.${key}: required`);
  }
  if (problems.length > 0) throw new PolicyConfigError(problems, source);

  const allLevel = entryOf(config.all).level as EnforcementLevel | undefined;
  return {
    levelOf: (policy) => {
      const level = (entryOf(config[policy.name]).level as EnforcementLevel | undefined) ?? allLevel ?? policy.enforcementLevel;
      return level === "remediate" ? "mandatory" : level;
    },
    settingsOf: (policy) => ({ ...defaultsOf(policy), ...entryOf(config[policy.name]).settings }),
  };
}
