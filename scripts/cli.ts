/** Argument handling shared by the offline CLIs (plan, policy). */
export interface CliArgs {
  stack: string;
  flags: Record<string, string>;
}

/** What a flag given without a value reads as. */
export const WITHOUT_VALUE = "true";

/**
 * Parses `--stack dev --format json` style arguments; `--stack` is required.
 * `switches` name the flags that take no value (`--fail-on-replace`): they read as WITHOUT_VALUE.
 * `optionalValues` name the flags whose value may be left out (`--diagram [file]`): followed
 * by nothing or by another flag, they read as WITHOUT_VALUE too.
 */
export function parseCliArgs(argv: string[], usage: string, switches: readonly string[] = [], optionalValues: readonly string[] = []): CliArgs {
  const flags: Record<string, string> = {};
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    if (!arg.startsWith("--")) throw new Error(`Unexpected argument "${arg}". ${usage}`);
    const [name, inline] = arg.slice(2).split("=", 2);
    if (optionalValues.includes(name)) {
      const next = argv[i + 1];
      flags[name] = inline !== undefined ? inline || WITHOUT_VALUE : next !== undefined && !next.startsWith("--") ? argv[++i] : WITHOUT_VALUE;
      continue;
    }
    const value = inline ?? (switches.includes(name) ? WITHOUT_VALUE : argv[++i]);
    if (value === undefined) throw new Error(`--${name} needs a value. ${usage}`);
    flags[name] = value;
  }
  const stack = flags.stack;
  if (!stack) throw new Error(`--stack is required. ${usage}`);
  return { stack, flags };
}
