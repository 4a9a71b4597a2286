/**
 * Value rules for stage config keys. Each rule parses the raw string Pulumi hands the
 * program (numbers and booleans arrive as text, arrays as JSON) and says in words what
 * it allows, so an error can name the allowed range without a second source of truth.
 */

export type ConfigType = "string" | "integer" | "boolean" | "array";

export interface ValueRule<T> {
  /** The type declared for the key in Pulumi.yaml. */
  readonly type: ConfigType;
  /** What the rule accepts, in words, for error messages and the README. */
  readonly allowed: string;
  /** Returns the parsed value, or undefined when the raw text is not allowed. */
  parse(raw: string): T | undefined;
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
