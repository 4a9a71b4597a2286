/**
 * Secrets as the mock engine receives them, and how every output prints them.
 * The engine hands a secret input over the wire as an object carrying Pulumi's secret
 * signature (`{"4dabf1…": "1b4706…", value}`), the same envelope the CLI keeps encrypted
 * in state; `pulumi preview` prints such a value as `[secret]`, and so do we.
 */

/** The special-signature key and value Pulumi marks a secret with (sdk/nodejs/runtime/rpc.ts). */
export const SECRET_SIGNATURE_KEY = "4dabf18193072939515e22adb298388d";
export const SECRET_SIGNATURE = "1b47061264138c4ac30d75fd1eb44270";

/** What every output prints instead of a secret value. */
export const SECRET_MASK = "[secret]";

export function isSecretEnvelope(value: unknown): value is { value: unknown } {
  return typeof value === "object" && value !== null && (value as Record<string, unknown>)[SECRET_SIGNATURE_KEY] === SECRET_SIGNATURE;
}

/** A deep copy of `value` with every secret envelope replaced by SECRET_MASK. */
export function maskSecrets<T>(value: T): T {
  if (isSecretEnvelope(value)) return SECRET_MASK as unknown as T;
  if (Array.isArray(value)) return value.map(maskSecrets) as unknown as T;
  if (typeof value === "object" && value !== null) {
    return Object.fromEntries(Object.entries(value).map(([key, inner]) => [key, maskSecrets(inner)])) as T;
  }
  return value;
}

/** Every plaintext held in a secret envelope anywhere inside `value` (strings, and JSON of non-strings). */
export function secretPlaintexts(value: unknown, found: Set<string> = new Set()): Set<string> {
  if (isSecretEnvelope(value)) {
    const plaintext = value.value;
    if (plaintext !== undefined && plaintext !== null && plaintext !== "") found.add(typeof plaintext === "string" ? plaintext : JSON.stringify(plaintext));
    secretPlaintexts(plaintext, found);
  } else if (Array.isArray(value)) {
    for (const inner of value) secretPlaintexts(inner, found);
  } else if (typeof value === "object" && value !== null) {
    for (const inner of Object.values(value)) secretPlaintexts(inner, found);
  }
  return found;
}

/** `text` with every occurrence of a known plaintext replaced by SECRET_MASK (for free text: errors, logs). */
export function redactText(text: string, plaintexts: Iterable<string>): string {
  let redacted = text;
  // Longest first, so a secret that contains another is masked whole.
  for (const plaintext of [...plaintexts].filter((p) => p.length > 0).sort((a, b) => b.length - a.length)) {
    redacted = redacted.split(plaintext).join(SECRET_MASK);
  }
  return redacted;
}
