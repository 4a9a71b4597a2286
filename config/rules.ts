/**
 * Value rules for stage config keys. Each rule parses the raw string Pulumi hands the
 * program (numbers and booleans arrive as text, arrays as JSON) and says in words what
 * it allows, so an error can name the allowed range without a second source of truth.
 */

/**
 * "records" is a list of objects (e.g. ingestSources). Pulumi's project config declares
 * only string, integer, boolean and arrays of those (the `simpleConfigType` of
 * sdk/go/common/workspace/project.json), so such keys stay out of Pulumi.yaml and are
 * typed here alone.
 */
export type ConfigType = "string" | "integer" | "boolean" | "array" | "records";

/** One bad part of a structured value: `path` is relative to the key, e.g. "[3].burstLimit". */
export interface ValueProblem {
  readonly path: string;
  /** The offending part as written (JSON text for non-strings), or undefined when missing. */
  readonly value: string | undefined;
  readonly allowed: string;
}

export interface ValueRule<T> {
  /** The type declared for the key in Pulumi.yaml. */
  readonly type: ConfigType;
  /** What the rule accepts, in words, for error messages and the README. */
  readonly allowed: string;
  /** Returns the parsed value, or undefined when the raw text is not allowed. */
  parse(raw: string): T | undefined;
  /** Structured rules only: every bad part of a refused value, so the error names the exact field. */
  problems?(raw: string): ValueProblem[];
}

const INTEGER_TEXT = /^-?\d+$/;

export function integerRange(min: number, max: number): ValueRule<number> {
  return {
    type: "integer",
    allowed: `an integer from ${min} to ${max}`,
    parse(raw) {
      if (!INTEGER_TEXT.test(raw.trim())) return undefined;
      const value = Number(raw);
      return value >= min && value <= max ? value : undefined;
    },
  };
}

export function integerMultipleOf(step: number, min: number, max: number): ValueRule<number> {
  const range = integerRange(min, max);
  return {
    type: "integer",
    allowed: `a multiple of ${step} from ${min} to ${max}`,
    parse(raw) {
      const value = range.parse(raw);
      return value !== undefined && value % step === 0 ? value : undefined;
    },
  };
}

export function integerOneOf(values: readonly number[]): ValueRule<number> {
  return {
    type: "integer",
    allowed: `one of ${values.join(", ")}`,
    parse(raw) {
      if (!INTEGER_TEXT.test(raw.trim())) return undefined;
      const value = Number(raw);
      return values.includes(value) ? value : undefined;
    },
  };
}

export function boolean(): ValueRule<boolean> {
  return {
    type: "boolean",
    allowed: "true or false",
    parse(raw) {
      if (raw === "true") return true;
      if (raw === "false") return false;
      return undefined;
    },
  };
}

export function oneOf<T extends string>(values: readonly T[]): ValueRule<T> {
  return {
    type: "string",
    allowed: `one of ${values.map((v) => `"${v}"`).join(", ")}`,
    parse(raw) {
      return (values as readonly string[]).includes(raw) ? (raw as T) : undefined;
    },
  };
}

export function matching(pattern: RegExp, description: string): ValueRule<string> {
  return {
    type: "string",
    allowed: description,
    parse(raw) {
      return pattern.test(raw) ? raw : undefined;
    },
  };
}

export function listOf(item: ValueRule<string>, maxItems: number): ValueRule<string[]> {
  return {
    type: "array",
    allowed: `a list of at most ${maxItems} items, each ${item.allowed}`,
    parse(raw) {
      let parsed: unknown;
      try {
        parsed = JSON.parse(raw);
      } catch {
        return undefined;
      }
      if (!Array.isArray(parsed) || parsed.length > maxItems) return undefined;
      const items = parsed.map((entry) => (typeof entry === "string" ? item.parse(entry) : undefined));
      return items.every((entry): entry is string => entry !== undefined) ? items : undefined;
    },
  };
}

export const AWS_REGION = matching(/^[a-z]{2}(-gov)?-[a-z]+-\d$/, 'an AWS region name such as "eu-west-1"');
export const EMAIL = matching(/^[^@\s]+@[^@\s]+\.[^@\s]+$/, "an email address");

/** Retention periods CloudWatch Logs accepts; anything else fails at apply time. */
export const LOG_RETENTION_DAYS = [
  1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653,
] as const;

/** A field of a record in a `recordsOf` list: the rule its value must pass, and whether it may be left out. */
export interface FieldSpec {
  readonly rule: ValueRule<unknown>;
  readonly optional?: boolean;
}

/** What one record must satisfy beyond its fields (e.g. exactly one of two fields): [field, allowed] pairs. */
export type RecordCheck<R> = (record: R) => [field: string, allowed: string][];

export interface RecordsOptions<R> {
  readonly maxItems: number;
  /** Fields no two records may share (names, routes). @default [] */
  readonly unique?: readonly (keyof R & string)[];
  /** @default no extra checks */
  readonly check?: RecordCheck<R>;
}

const asText = (value: unknown): string | undefined => (value === undefined ? undefined : typeof value === "string" ? value : JSON.stringify(value));

/** Whether a decoded JSON value has the JSON type a scalar or list rule parses from. */
function jsonTypeMatches(rule: ValueRule<unknown>, value: unknown): boolean {
  if (rule.type === "integer") return typeof value === "number";
  if (rule.type === "boolean") return typeof value === "boolean";
  if (rule.type === "array") return Array.isArray(value);
  return typeof value === "string";
}

function fieldProblems<R>(record: unknown, index: number, fields: Readonly<Record<keyof R & string, FieldSpec>>, check: RecordCheck<R> | undefined): ValueProblem[] {
  const at = (field: string) => `[${index}].${field}`;
  if (typeof record !== "object" || record === null || Array.isArray(record)) {
    return [{ path: `[${index}]`, value: asText(record), allowed: `an object with the fields ${Object.keys(fields).join(", ")}` }];
  }
  const entries = record as Record<string, unknown>;
  const problems: ValueProblem[] = Object.keys(entries)
    .filter((field) => !(field in fields))
    .map((field) => ({ path: at(field), value: asText(entries[field]), allowed: `no such field; the fields are ${Object.keys(fields).join(", ")}` }));
  for (const [field, spec] of Object.entries(fields) as [string, FieldSpec][]) {
    const value = entries[field];
    if (value === undefined) {
      if (!spec.optional) problems.push({ path: at(field), value: undefined, allowed: `${spec.rule.allowed} (required)` });
      continue;
    }
    if (!jsonTypeMatches(spec.rule, value)) {
      const written = typeof value === "string" ? "text" : Array.isArray(value) ? "a list" : typeof value;
      problems.push({ path: at(field), value: asText(value), allowed: `${spec.rule.allowed} (written as ${spec.rule.type === "array" ? "a list" : `an unquoted ${spec.rule.type}`}, not ${written})` });
    } else if (spec.rule.parse(asText(value)!) === undefined) problems.push({ path: at(field), value: asText(value), allowed: spec.rule.allowed });
  }
  if (problems.length === 0 && check) {
    for (const [field, allowed] of check(entries as R)) problems.push({ path: at(field), value: asText(entries[field]), allowed });
  }
  return problems;
}

function duplicateProblems(records: readonly Record<string, unknown>[], unique: readonly string[]): ValueProblem[] {
  const problems: ValueProblem[] = [];
  for (const field of unique) {
    const firstIndex = new Map<string, number>();
    records.forEach((record, index) => {
      const value = asText(record[field]);
      if (value === undefined) return;
      const first = firstIndex.get(value);
      if (first === undefined) firstIndex.set(value, index);
      else problems.push({ path: `[${index}].${field}`, value, allowed: `a ${field} no other entry has ([${first}] has it already)` });
    });
  }
  return problems;
}

/**
 * A list of records (objects with typed fields), written as YAML objects in the stack
 * file and handed over as JSON text. A refused value is explained field by field:
 * `problems` names each bad path ("[3].burstLimit") with what it should be.
 */
export function recordsOf<R>(noun: string, fields: Readonly<Record<keyof R & string, FieldSpec>>, options: RecordsOptions<R>): ValueRule<R[]> {
  const problemsOf = (raw: string): ValueProblem[] => {
    let parsed: unknown;
    try {
      parsed = JSON.parse(raw);
    } catch {
      return [{ path: "", value: raw, allowed: `a list of ${noun}` }];
    }
    if (!Array.isArray(parsed)) return [{ path: "", value: raw, allowed: `a list of ${noun}` }];
    if (parsed.length > options.maxItems) return [{ path: "", value: `${parsed.length} entries`, allowed: `at most ${options.maxItems} ${noun}` }];
    const problems = parsed.flatMap((record, index) => fieldProblems(record, index, fields, options.check));
    if (problems.length > 0) return problems;
    return duplicateProblems(parsed as Record<string, unknown>[], options.unique ?? []);
  };
  return {
    type: "records",
    allowed: `a list of at most ${options.maxItems} ${noun}, each with ${Object.entries(fields as Record<string, FieldSpec>).map(([field, spec]) => `${field}${spec.optional ? " (optional)" : ""}`).join(", ")}`,
    parse(raw) {
      return problemsOf(raw).length === 0 ? (JSON.parse(raw) as R[]) : undefined;
    },
    problems: problemsOf,
  };
}
