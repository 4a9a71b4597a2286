/** Argument handling shared by the offline CLIs (plan, policy). */
export interface CliArgs {
  stack: string;
  flags: Record<string, string>;
}

/**
 * Parses `--stack dev --format json` style arguments; `--stack` is required.
 * `switches` name the flags that take no value (`--fail-on-replace`): they read as "true".
 */
export function parseCliArgs(argv: string[], usage: string, switches: readonly string[] = []): CliArgs {
  const flags: Record<string, string> = {};
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    if (!arg.startsWith("--")) throw new Error(`Unexpected argument "${arg}". ${usage}`);
    const [name, inline] = arg.slice(2).split("=", 2);
    const value = inline ?? (switches.includes(name) ? "true" : argv[++i]);
    if (value === undefined) throw new Error(`--${name} needs a value. ${usage}`);
    flags[name] = value;
  }
  const stack = flags.stack;
  if (!stack) throw new Error(`--stack is required. ${usage}`);
  return { stack, flags };
}
