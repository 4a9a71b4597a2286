/**
 * Where the client API's two credentials come from, each read when needed, never cached
 * beyond one use: the database password (an IAM authentication token per new connection on
 * AWS, a file locally) and the Redis AUTH token (the Secrets Manager secret on AWS, re-read
 * by the cache after an auth failure, so a rotation needs no restart; a file locally).
 * Clients are injected, so the tests drive the Secrets Manager path at the client level.
 * https://docs.aws.amazon.com/AmazonRDS/latest/AuroraUserGuide/UsingWithRDSandAurora.IAMDBAuth.Connecting.NodeJS.html
 */
import { GetSecretValueCommand, SecretsManagerClient } from "@aws-sdk/client-secrets-manager";
import * as fs from "fs";
import type { TokenSource } from "./cache";
import type { PasswordSource } from "./database";
import type { ClientApiSettings } from "./settings";

const readTrimmed = async (file: string) => (await fs.promises.readFile(file, "utf8")).trim();

/** Makes an IAM authentication token (the rds-signer Signer's getAuthToken). */
export type AuthTokenSigner = { getAuthToken(): Promise<string> };

export function passwordSource(auth: ClientApiSettings["database"]["auth"], signer: () => AuthTokenSigner): PasswordSource {
  if (auth.kind === "password-file") return () => readTrimmed(auth.file);
  const made = signer();
  return () => made.getAuthToken();
}

/** The secret's value: the token itself, or JSON with a `token`/`password` field (ElastiCache rotation templates store either). */
export function tokenOfSecret(secretString: string | undefined): string {
  if (secretString === undefined || secretString === "") throw new Error("the Redis AUTH secret has no string value");
  if (!secretString.trimStart().startsWith("{")) return secretString;
  const parsed = JSON.parse(secretString) as Record<string, unknown>;
  const token = parsed.token ?? parsed.password;
  if (typeof token !== "string" || token === "") throw new Error('the Redis AUTH secret is JSON without a "token" or "password" string');
  return token;
}

export function redisTokenSource(auth: ClientApiSettings["redis"]["auth"], secrets: () => SecretsManagerClient): TokenSource {
  if (auth.kind === "file") return () => readTrimmed(auth.file);
  if (auth.kind === "none") return async () => undefined;
  const client = secrets();
  return async () => tokenOfSecret((await client.send(new GetSecretValueCommand({ SecretId: auth.secretArn }))).SecretString);
}
