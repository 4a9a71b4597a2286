/** The flags of `npm run dr:promote`, parsed and checked before anything is read or called. */
import { PromotionMode } from "./model";

export const USAGE = `Usage: npm run dr:promote -- --stack <stack> --mode planned|unplanned [options]

  --stack <name>          the stack whose region becomes active (prod-dr to fail over, prod to fail back)
  --mode planned          switchover: both regions answer, no data loss, lag checked against the RPO
  --mode unplanned        failover with data loss, calling the target region only
  --dry-run               check every precondition and print the plan; change nothing
  --yes                   do not ask before acting
  --force                 accept replication lag beyond the RPO targets (planned mode)
  --resume [run-id]       continue the newest unfinished run (or that run) from its journal,
                          including follow-ups deferred until the old region answers
  --write-config          apply the config changes to Pulumi.<stack>.yaml instead of only printing them
  --topology-file <json>  read both stacks' drTopology from a file instead of \`pulumi stack output\`
  --release-lock <run-id> remove the lock a dead run left in the journal tables
  --out <dir>             where dr/<stack>/ (journals, reports) is written (default: out/)
  --config-dir <dir>      where Pulumi.<stack>.yaml are (default: the project directory)
  --simulate              run against the simulated two-region AWS (offline demo); state persists in
                          out/dr/simulation/ across runs
  --simulate-down <region>, --simulate-up <region>, --simulate-reset
                          take a simulated region down or up, or start the simulation afresh`;

export interface PromoteArgs {
  readonly stack: string;
  readonly mode?: PromotionMode;
  readonly dryRun: boolean;
  readonly yes: boolean;
  readonly force: boolean;
  readonly resume: boolean | string;
  readonly writeConfig: boolean;
  readonly topologyFile?: string;
  readonly releaseLock?: string;
  readonly out?: string;
  readonly configDir?: string;
  readonly simulate: boolean;
  readonly simulateDown: string[];
  readonly simulateUp: string[];
  readonly simulateReset: boolean;
}

const BOOLEAN_FLAGS = ["dry-run", "yes", "force", "write-config", "simulate", "simulate-reset"] as const;
const VALUE_FLAGS = ["stack", "mode", "topology-file", "release-lock", "out", "config-dir", "simulate-down", "simulate-up"] as const;

export function parsePromoteArgs(argv: readonly string[]): PromoteArgs {
  const values: Record<string, string[]> = {};
  const booleans = new Set<string>();
  let resume: boolean | string = false;
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    if (!arg.startsWith("--")) throw new Error(`Unexpected argument "${arg}".\n${USAGE}`);
    const [name, inline] = arg.slice(2).split("=", 2);
    if (name === "resume") {
      const next = inline ?? (argv[i + 1] && !argv[i + 1].startsWith("--") ? argv[++i] : undefined);
      resume = next ?? true;
    } else if ((BOOLEAN_FLAGS as readonly string[]).includes(name)) {
      if (inline !== undefined) throw new Error(`--${name} takes no value.\n${USAGE}`);
      booleans.add(name);
    } else if ((VALUE_FLAGS as readonly string[]).includes(name)) {
      const value = inline ?? argv[++i];
      if (value === undefined || value.startsWith("--")) throw new Error(`--${name} needs a value.\n${USAGE}`);
      (values[name] ??= []).push(value);
    } else {
      throw new Error(`Unknown flag --${name}.\n${USAGE}`);
    }
  }
  const stack = values.stack?.[0];
  if (!stack) throw new Error(`--stack is required.\n${USAGE}`);
  const mode = values.mode?.[0];
  if (mode !== undefined && mode !== "planned" && mode !== "unplanned") throw new Error(`--mode must be "planned" or "unplanned", not "${mode}".\n${USAGE}`);
  const releaseLock = values["release-lock"]?.[0];
  if (mode === undefined && resume === false && releaseLock === undefined) throw new Error(`--mode is required (planned or unplanned) unless --resume or --release-lock.\n${USAGE}`);
  if (booleans.has("force") && mode === "unplanned") throw new Error("--force applies to planned mode only: unplanned mode does not check replication lag (it reports the loss window instead).");
  return {
    stack,
    ...(mode ? { mode } : {}),
    dryRun: booleans.has("dry-run"),
    yes: booleans.has("yes"),
    force: booleans.has("force"),
    resume,
    writeConfig: booleans.has("write-config"),
    ...(values["topology-file"] ? { topologyFile: values["topology-file"][0] } : {}),
    ...(releaseLock ? { releaseLock } : {}),
    ...(values.out ? { out: values.out[0] } : {}),
    ...(values["config-dir"] ? { configDir: values["config-dir"][0] } : {}),
    simulate: booleans.has("simulate"),
    simulateDown: values["simulate-down"] ?? [],
    simulateUp: values["simulate-up"] ?? [],
    simulateReset: booleans.has("simulate-reset"),
  };
}
