/**
 * Environment parsing shared by the services: a missing or malformed value stops the task
 * at start with one line naming the variable (never echoing a secret's value).
 */
import type { Environment } from "../../functions/data-path-runtime";

/** The RDS global CA bundle each service image bakes in (https://docs.aws.amazon.com/AmazonRDS/latest/AuroraUserGuide/UsingWithRDS.SSL.html). */
export const RDS_CA_BUNDLE_PATH = "/etc/ssl/rds-global-bundle.pem";

export function integerEnv(env: Environment, name: string, fallback: number, min: number, max: number): number {
  const raw = env[name];
  if (raw === undefined || raw === "") return fallback;
  const value = Number(raw);
  if (!Number.isInteger(value) || value < min || value > max) throw new Error(`${name} must be a whole number from ${min} to ${max}, not "${raw}"`);
  return value;
}

export function flagEnv(env: Environment, name: string, fallback: boolean): boolean {
  const raw = env[name];
  if (raw === undefined || raw === "") return fallback;
  if (raw !== "true" && raw !== "false") throw new Error(`${name} must be "true" or "false", not "${raw}"`);
  return raw === "true";
}
