/**
 * What the mocks see of secrets, recorded independently of the engine's own masking: every
 * resource registration passes through `pulumi.runtime.setMocks`'s newResource, so wrapping
 * it shows each secret envelope's plaintext (and the strings inside a JSON one) and every
 * string that arrived in clear. A plaintext that also arrived in clear (an SSM parameter's
 * value the provider marks secret, holding a region name) reveals nothing; the others must
 * never reach an output.
 */
import * as pulumi from "@pulumi/pulumi";
import { isSecretEnvelope } from "../../scripts/secrets";

export interface MockSecretRecorder {
  /** Plaintexts that arrived only inside secret envelopes. */
  secretOnly(): string[];
  restore(): void;
}

/** Shorter strings are never credentials this program generates or reads (tokens, passwords, keys). */
const MIN_CREDENTIAL_LENGTH = 8;

function walk(value: unknown, inSecret: boolean, secrets: Set<string>, clear: Set<string>): void {
  if (isSecretEnvelope(value)) {
    walk(value.value, true, secrets, clear);
    return;
  }
  if (typeof value === "string") {
    (inSecret ? secrets : clear).add(value);
    if (inSecret && /^\s*[[{]/.test(value)) {
      try {
        walk(JSON.parse(value), true, secrets, clear);
      } catch {
        // Not JSON: the string itself is the secret.
      }
    }
  } else if (typeof value === "object" && value !== null) {
    for (const inner of Object.values(value)) walk(inner, inSecret, secrets, clear);
  } else if (inSecret && value !== undefined && value !== null) {
    secrets.add(String(value));
  }
}

/** Starts recording; every evaluation from now on (until restore) is seen. */
export function recordMockSecrets(): MockSecretRecorder {
  const secrets = new Set<string>();
  const clear = new Set<string>();
  const runtime = pulumi.runtime as { setMocks: typeof pulumi.runtime.setMocks };
  const setMocks = runtime.setMocks;
  runtime.setMocks = (mocks, ...rest) =>
    setMocks(
      {
        newResource(args) {
          walk(args.inputs, false, secrets, clear);
          const result = mocks.newResource(args);
          // The mocks' answers are plain values unless they echo a secret input back.
          walk(result instanceof Promise ? {} : result.state, false, secrets, clear);
          return result;
        },
        call: (args) => mocks.call(args),
      },
      ...rest,
    );
  return {
    // A secret input that is an object makes every string in it secret, short public parts
    // included (the ECR registry's user name "AWS" beside its password); searching output for
    // a three-letter word would only find false leaks, and no credential is that short.
    secretOnly: () => [...secrets].filter((secret) => secret.length >= MIN_CREDENTIAL_LENGTH && !clear.has(secret)),
    restore: () => {
      runtime.setMocks = setMocks;
    },
  };
}
