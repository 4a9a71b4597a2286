import * as crypto from "crypto";

const TOKEN_ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";

/**
 * A random alphanumeric secret (passwords, AUTH tokens): no character RDS or
 * ElastiCache refuses. It is generated at every run, but reaches AWS only through
 * write-only (`…Wo`) inputs, which Pulumi re-sends only when their version changes.
 */
export function generateToken(length = 64): string {
  return Array.from({ length }, () => TOKEN_ALPHABET[crypto.randomInt(TOKEN_ALPHABET.length)]).join("");
}
