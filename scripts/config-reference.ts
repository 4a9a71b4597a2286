/**
 * Renders the stage config schema as Pulumi.yaml declarations and as the README's
 * config reference, so the schema stays the single source of truth. Tests compare
 * both files with this output; `npm run config:reference -- --write` updates them.
 */
import * as fs from "fs";
import * as yaml from "js-yaml";
import * as path from "path";
import { CONFIG_NAMESPACE, STAGE_CONFIG_SCHEMA, StageConfigKey } from "../config";
import { PROJECT_DIR, readStackConfig } from "./engine";

const KEYS = Object.keys(STAGE_CONFIG_SCHEMA) as StageConfigKey[];

export interface ConfigDeclaration {
  type: string;
  description: string;
  default?: unknown;
  items?: { type: string };
}

/** The `config:` block of Pulumi.yaml: every key typed, described, and defaulted unless required. */
export function projectConfigDeclarations(): Record<string, ConfigDeclaration> {
  const declarations: Record<string, ConfigDeclaration> = {};
  for (const key of KEYS) {
    const spec = STAGE_CONFIG_SCHEMA[key];
    // Pulumi's project config has no object type (config/rules.ts, "records"): the schema alone types these keys.
    if (spec.rule.type === "records") continue;
    declarations[key] = {
      type: spec.rule.type,
      description: `${spec.description} Allowed: ${spec.rule.allowed}.`,
      ...(spec.rule.type === "array" ? { items: { type: "string" } } : {}),
      ...(spec.presence === "defaulted" ? { default: spec.default } : {}),
    };
  }
  return declarations;
}

function cell(value: unknown): string {
  if (value === undefined) return "";
  // A list of records would not fit a table cell: name its entries (the stack file holds the rest).
  if (Array.isArray(value) && value.some((entry) => typeof entry === "object" && entry !== null)) {
    return `${value.length} entries: ${value.map((entry) => `\`${(entry as { name?: unknown }).name ?? "?"}\``).join(", ")}`;
  }
  return `\`${typeof value === "string" ? value : JSON.stringify(value)}\``;
}

/** The README table: key, type, default, the value each stack file sets, and what is allowed. */
export function configReferenceMarkdown(stacks = ["dev", "prod", "prod-dr"]): string {
  const perStack = stacks.map((stack) => readStackConfig(stack));
  const header = `| key | type | default | ${stacks.join(" | ")} | allowed and meaning |`;
  const divider = `|${" --- |".repeat(4 + stacks.length)}`;
  const rows = KEYS.map((key) => {
    const spec = STAGE_CONFIG_SCHEMA[key];
    const values = perStack.map((config) => {
      const raw = config[`${CONFIG_NAMESPACE}:${key}`];
      return cell(spec.rule.type === "records" && raw !== undefined ? JSON.parse(raw) : raw);
    });
    const fallback = spec.presence === "required" ? "*required*" : cell(spec.default);
    return `| \`${key}\` | ${spec.rule.type} | ${fallback} | ${values.join(" | ")} | ${spec.rule.allowed}. ${spec.description} |`;
  });
  return [header, divider, ...rows].join("\n");
}

/** Rewrites the generated parts of Pulumi.yaml (its config block) and README.md (the reference table). */
export function writeGeneratedReferences(dir = PROJECT_DIR): void {
  const projectFile = path.join(dir, "Pulumi.yaml");
  const project = fs.readFileSync(projectFile, "utf8");
  const header = project.slice(0, project.indexOf("config:\n"));
  fs.writeFileSync(projectFile, header + yaml.dump({ config: projectConfigDeclarations() }, { lineWidth: 160, quotingType: '"' }));

  const readmeFile = path.join(dir, "README.md");
  const readme = fs.readFileSync(readmeFile, "utf8");
  const start = readme.indexOf("| key | type | default |");
  const end = readme.indexOf("\n\n", start);
  fs.writeFileSync(readmeFile, readme.slice(0, start) + configReferenceMarkdown() + readme.slice(end));
}

if (require.main === module) {
  if (process.argv.includes("--write")) {
    writeGeneratedReferences();
    console.log("Updated the config block of Pulumi.yaml and the config reference in README.md");
  } else {
    console.log(yaml.dump({ config: projectConfigDeclarations() }, { lineWidth: 160, quotingType: '"' }));
    console.log(configReferenceMarkdown());
  }
}
