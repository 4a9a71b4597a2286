/** Argument handling shared by the offline CLIs (plan, policy). */
export interface CliArgs {
  stack: string;
  flags: Record<string, string>;
}

/** Parses `--stack dev --format json` style arguments; `--stack` is required. Flags named in `switches` take no value (they read "true"). */
export function parseCliArgs(argv: string[], usage: string, switches: readonly string[] = []): CliArgs {
  const flags: Record<string, string> = {};
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    if (!arg.startsWith("--")) throw new Error(`Unexpected argument "${arg}". ${usage}`);
    const [name, inline] = arg.slice(2).split("=", 2);
    if (switches.includes(name) && inline === undefined) {
      flags[name] = "true";
      continue;
    }
    const value = inline ?? argv[++i];
    if (value === undefined) throw new Error(`--${name} needs a value. ${usage}`);
    flags[name] = value;
  }
  const stack = flags.stack;
  if (!stack) throw new Error(`--stack is required. ${usage}`);
  return { stack, flags };
}
