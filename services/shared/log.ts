/**
 * Structured logs: one JSON object per line on stdout (`level`, `msg`, `time`, fields), the
 * shape the services contract asks for and CloudWatch Logs Insights parses without a
 * pattern. Callers never pass secrets; errors are reduced to name, message and code.
 */
export type LogLevel = "debug" | "info" | "warn" | "error";
export type Logger = Readonly<Record<LogLevel, (msg: string, fields?: Record<string, unknown>) => void>>;

const LEVELS: readonly LogLevel[] = ["debug", "info", "warn", "error"];

export function parseLogLevel(value: string | undefined): LogLevel {
  const level = (value ?? "info").toLowerCase();
  if (!(LEVELS as readonly string[]).includes(level)) throw new Error(`LOG_LEVEL must be one of ${LEVELS.join(", ")}, not "${value}"`);
  return level as LogLevel;
}

/** The parts of an error worth a log line; never its whole object (a pg error carries the query's parameters). */
export function errorFields(error: unknown): Record<string, unknown> {
  if (!(error instanceof Error)) return { error: String(error) };
  const code = (error as { code?: unknown }).code;
  return { error: error.message, errorName: error.name, ...(typeof code === "string" ? { errorCode: code } : {}) };
}

export function createLogger(minimum: LogLevel, write: (line: string) => void = (line) => process.stdout.write(line)): Logger {
  const threshold = LEVELS.indexOf(minimum);
  const at = (level: LogLevel) => (msg: string, fields: Record<string, unknown> = {}) => {
    if (LEVELS.indexOf(level) < threshold) return;
    write(`${JSON.stringify({ level, msg, time: new Date().toISOString(), ...fields })}\n`);
  };
  return { debug: at("debug"), info: at("info"), warn: at("warn"), error: at("error") };
}
