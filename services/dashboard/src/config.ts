/**
 * `/config.json`, written beside the build by the stack (services-contract.md, Dashboard):
 * `{"apiBase":"/api","auth":null | {"issuer","clientId","scopes","authorizeUrl","tokenUrl"}}`.
 * Checked field by field so a wrong deploy says what is wrong instead of failing later.
 * Pure: no DOM, so the unit tests run it under Node.
 */

export interface AuthConfig {
  readonly issuer: string;
  readonly clientId: string;
  readonly scopes: readonly string[];
  readonly authorizeUrl: string;
  readonly tokenUrl: string;
}

export interface DashboardConfig {
  /** Same-origin path prefix of the client API, e.g. "/api". */
  readonly apiBase: string;
  readonly auth: AuthConfig | null;
}

function isHttpsUrl(value: unknown): value is string {
  if (typeof value !== "string") return false;
  try {
    return new URL(value).protocol === "https:";
  } catch {
    return false;
  }
}

function parseAuth(value: unknown): AuthConfig {
  if (typeof value !== "object" || value === null || Array.isArray(value)) throw new Error("config.json: auth must be null or an object");
  const auth = value as Record<string, unknown>;
  for (const key of ["issuer", "authorizeUrl", "tokenUrl"] as const) {
    if (!isHttpsUrl(auth[key])) throw new Error(`config.json: auth.${key} must be an https URL, not ${JSON.stringify(auth[key])}`);
  }
  if (typeof auth.clientId !== "string" || auth.clientId === "") throw new Error("config.json: auth.clientId must be a non-empty string");
  if (!Array.isArray(auth.scopes) || !auth.scopes.every((scope) => typeof scope === "string" && scope !== "" && !/\s/.test(scope))) {
    throw new Error("config.json: auth.scopes must be a list of scope names without spaces");
  }
  return { issuer: auth.issuer as string, clientId: auth.clientId, scopes: auth.scopes as string[], authorizeUrl: auth.authorizeUrl as string, tokenUrl: auth.tokenUrl as string };
}

export function parseConfig(value: unknown): DashboardConfig {
  if (typeof value !== "object" || value === null || Array.isArray(value)) throw new Error("config.json must be a JSON object");
  const config = value as Record<string, unknown>;
  const apiBase = config.apiBase;
  // Same origin only: CloudFront routes /api/* to the API, and the CSP (default-src 'self') allows nothing else.
  if (typeof apiBase !== "string" || !apiBase.startsWith("/") || apiBase.startsWith("//")) {
    throw new Error(`config.json: apiBase must be a path on this site such as "/api", not ${JSON.stringify(apiBase)}`);
  }
  const auth = config.auth ?? null;
  return { apiBase: apiBase.replace(/\/+$/, ""), auth: auth === null ? null : parseAuth(auth) };
}
