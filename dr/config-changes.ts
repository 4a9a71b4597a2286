/**
 * The config both stacks need after a promotion, so that the next `pulumi up` on each
 * converges on the new topology instead of fighting it (consumers, lake triggers,
 * endpoint values and replication directions all follow activeRegion), and the same
 * changes applied to Pulumi.<stack>.yaml by editing lines, comments kept.
 */
import * as fs from "fs";
import * as path from "path";
import { CONFIG_NAMESPACE } from "../config";
import { ConfigChange, PromotionStacks } from "./model";
import { WAREHOUSE_STEP, restoresWarehouse } from "./steps";

export function configChangesFor(stacks: PromotionStacks, warehouseSnapshot: string): ConfigChange[] {
  const region = stacks.target.topology.region;
  const changes: ConfigChange[] = [stacks.target, stacks.source]
    .filter((side) => side.config.activeRegion !== region)
    .map((side) => ({
      stack: side.name,
      key: "activeRegion",
      value: region,
      current: side.config.activeRegion,
      reason: `${region} is now active: ${side === stacks.target ? "this stack declares its consumers enabled, its lake triggers and its endpoint values" : "this stack turns passive (mappings disabled, no lake triggers)"}`,
    }));
  if (restoresWarehouse(stacks) && warehouseSnapshot !== "" && stacks.target.config.warehouseRestoreSnapshot !== warehouseSnapshot) {
    changes.push({
      stack: stacks.target.name,
      key: "warehouseRestoreSnapshot",
      value: warehouseSnapshot,
      current: stacks.target.config.warehouseRestoreSnapshot,
      reason: `the warehouse was restored from ${warehouseSnapshot}; the stack adopts the restored cluster instead of creating one`,
      afterStep: WAREHOUSE_STEP,
    });
  }
  return changes;
}

const shellQuote = (value: string) => (/^[A-Za-z0-9._:/@=-]+$/.test(value) ? value : `'${value.replace(/'/g, `'\\''`)}'`);

export function pulumiConfigCommand(change: ConfigChange): string {
  return `pulumi config set --stack ${change.stack} ${CONFIG_NAMESPACE}:${change.key} ${shellQuote(change.value)}`;
}

/**
 * Sets `namespace:key: value` in a stack file's top-level `config:` block: the key's
 * line is replaced in place (its trailing comment kept), or a new line is added at the
 * end of the block; every other line, comment and blank line stays as it was.
 */
export function setConfigLine(document: string, key: string, value: string): string {
  const qualified = `${CONFIG_NAMESPACE}:${key}`;
  const lines = document.split("\n");
  const configLine = lines.findIndex((line) => /^config:\s*(#.*)?$/.test(line));
  if (configLine < 0) throw new Error(`The stack file has no top-level "config:" block to set ${qualified} in`);
  let end = lines.length;
  let lastInBlock = configLine;
  let keyIndent: string | undefined;
  for (let i = configLine + 1; i < lines.length; i++) {
    const line = lines[i];
    if (line.trim() === "" || line.startsWith("#")) continue;
    if (!/^\s/.test(line)) {
      end = i;
      break;
    }
    lastInBlock = i;
    if (keyIndent === undefined && !/^\s+(-|#)/.test(line)) keyIndent = line.match(/^\s+/)![0];
  }
  const indent = keyIndent ?? "  ";
  const keyPattern = new RegExp(`^(\\s+)${qualified.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")}:(\\s.*|)$`);
  for (let i = configLine + 1; i < end; i++) {
    const match = lines[i].match(keyPattern);
    if (!match) continue;
    const comment = lines[i].match(/\s#\s.*$/)?.[0] ?? "";
    lines[i] = `${match[1]}${qualified}: ${yamlScalar(value)}${comment}`;
    return lines.join("\n");
  }
  // A new key goes right after the block's last indented line, before blank lines and top-level comments.
  lines.splice(lastInBlock + 1, 0, `${indent}${qualified}: ${yamlScalar(value)}`);
  return lines.join("\n");
}

/** A YAML scalar that reads back as the same string ("" and region names included). */
function yamlScalar(value: string): string {
  if (value === "") return '""';
  return /^[A-Za-z0-9][A-Za-z0-9._/-]*$/.test(value) && !/^(true|false|null|yes|no|on|off|~)$/i.test(value) && !/^[0-9.]+$/.test(value) ? value : JSON.stringify(value);
}

/** Applies the changes to Pulumi.<stack>.yaml files in `directory`; returns the files written. */
export function writeConfigChanges(changes: readonly ConfigChange[], directory: string): string[] {
  const written = new Set<string>();
  for (const change of changes) {
    const file = path.join(directory, `Pulumi.${change.stack}.yaml`);
    if (!fs.existsSync(file)) throw new Error(`Cannot apply ${pulumiConfigCommand(change)}: no stack file ${file}`);
    fs.writeFileSync(file, setConfigLine(fs.readFileSync(file, "utf8"), change.key, change.value));
    written.add(file);
  }
  return [...written];
}
