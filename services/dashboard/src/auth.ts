/**
 * Sign-in when config.json has `auth`: OAuth 2.0 authorization code grant (RFC 6749 §4.1)
 * with PKCE, S256 (RFC 7636 §4.1–4.2), for a public client: no client secret exists in a
 * static site. The access token lives in sessionStorage (gone with the tab, not shared
 * with other tabs or sent with any request but ours) and goes out as
 * `Authorization: Bearer` (RFC 6750 §2.1).
 * Everything the browser provides (storage, crypto, fetch, the address bar) is injected:
 * the unit tests run the whole flow under Node's WebCrypto against a real local token server.
 */
import type { AuthConfig } from "./config";
import type { FetchLike } from "./api";

export interface StorageLike {
  getItem(key: string): string | null;
  setItem(key: string, value: string): void;
  removeItem(key: string): void;
}

/** The parts of WebCrypto used here; the browser's `crypto` and Node's `webcrypto` both fit. */
export interface CryptoLike {
  getRandomValues(array: Uint8Array<ArrayBuffer>): unknown;
  readonly subtle: { digest(algorithm: "SHA-256", data: Uint8Array<ArrayBuffer>): Promise<ArrayBuffer> };
}

export interface StoredToken {
  readonly accessToken: string;
  /** Epoch milliseconds. */
  readonly expiresAt: number;
}

const TOKEN_KEY = "dashboard.token";
const PENDING_KEY = "dashboard.pendingLogin";
/** A token this close to its expiry is not sent: it could expire on the way. */
const EXPIRY_MARGIN_MS = 30_000;

export function base64Url(bytes: Uint8Array): string {
  let binary = "";
  for (const byte of bytes) binary += String.fromCharCode(byte);
  return btoa(binary).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
}

/** 32 random octets, base64url: 43 characters of the unreserved set (RFC 7636 §4.1). */
export function createVerifier(crypto: CryptoLike): string {
  const bytes = new Uint8Array(32);
  crypto.getRandomValues(bytes);
  return base64Url(bytes);
}

/** code_challenge = BASE64URL(SHA256(ASCII(code_verifier))) (RFC 7636 §4.2). */
export async function challengeFor(verifier: string, crypto: CryptoLike): Promise<string> {
  const ascii = new Uint8Array(verifier.length);
  for (let i = 0; i < verifier.length; i++) ascii[i] = verifier.charCodeAt(i);
  return base64Url(new Uint8Array(await crypto.subtle.digest("SHA-256", ascii)));
}

export function authorizeUrl(auth: AuthConfig, request: { redirectUri: string; state: string; challenge: string }): string {
  const url = new URL(auth.authorizeUrl);
  url.searchParams.set("response_type", "code");
  url.searchParams.set("client_id", auth.clientId);
  url.searchParams.set("redirect_uri", request.redirectUri);
  url.searchParams.set("scope", auth.scopes.join(" "));
  url.searchParams.set("state", request.state);
  url.searchParams.set("code_challenge", request.challenge);
  url.searchParams.set("code_challenge_method", "S256");
  return url.toString();
}

export type Callback = { kind: "none" } | { kind: "code"; code: string } | { kind: "error"; message: string };

/** What the authorization server sent back in the redirect (RFC 6749 §4.1.2, §4.1.2.1). */
export function readCallback(search: string, expectedState: string | undefined): Callback {
  const params = new URLSearchParams(search);
  const code = params.get("code");
  const error = params.get("error");
  if (code === null && error === null) return { kind: "none" };
  // A redirect we did not start (or a forged one) is refused: the state binds it to this tab (RFC 6749 §10.12).
  if (expectedState === undefined || params.get("state") !== expectedState) {
    return { kind: "error", message: "The sign-in answer does not match a sign-in started in this tab. Reload the page to sign in again." };
  }
  if (error !== null) {
    const description = params.get("error_description");
    return { kind: "error", message: `Sign-in failed: ${description ?? error}.` };
  }
  return { kind: "code", code: code! };
}

export function tokenRequestBody(auth: AuthConfig, code: string, verifier: string, redirectUri: string): string {
  return new URLSearchParams({ grant_type: "authorization_code", code, redirect_uri: redirectUri, client_id: auth.clientId, code_verifier: verifier }).toString();
}

/** A successful token response (RFC 6749 §5.1), or an error naming what is wrong (§5.2). */
export function parseTokenResponse(status: number, body: string, now: number): StoredToken {
  let parsed: Record<string, unknown>;
  try {
    parsed = JSON.parse(body) as Record<string, unknown>;
  } catch {
    throw new Error(`The sign-in server answered HTTP ${status} with a body that is not JSON.`);
  }
  if (status !== 200) {
    const reason = typeof parsed.error_description === "string" ? parsed.error_description : typeof parsed.error === "string" ? parsed.error : `HTTP ${status}`;
    throw new Error(`The sign-in server refused the code: ${reason}.`);
  }
  if (typeof parsed.access_token !== "string" || parsed.access_token === "") throw new Error("The sign-in server answered without an access_token.");
  if (typeof parsed.token_type !== "string" || parsed.token_type.toLowerCase() !== "bearer") {
    throw new Error(`The sign-in server answered a token of type ${JSON.stringify(parsed.token_type)}, not Bearer.`);
  }
  // expires_in is RECOMMENDED, not required; without it, an hour (Cognito's default access token lifetime).
  const expiresIn = typeof parsed.expires_in === "number" && parsed.expires_in > 0 ? parsed.expires_in : 3600;
  return { accessToken: parsed.access_token, expiresAt: now + expiresIn * 1000 };
}

export function readToken(storage: StorageLike, now: number): string | undefined {
  const stored = storage.getItem(TOKEN_KEY);
  if (stored === null) return undefined;
  try {
    const token = JSON.parse(stored) as StoredToken;
    if (typeof token.accessToken === "string" && typeof token.expiresAt === "number" && token.expiresAt - EXPIRY_MARGIN_MS > now) return token.accessToken;
  } catch {
    // Unreadable: dropped below, as an expired one is.
  }
  storage.removeItem(TOKEN_KEY);
  return undefined;
}

export interface BrowserSide {
  readonly storage: StorageLike;
  readonly crypto: CryptoLike;
  readonly fetch: (url: string, init: { method: "POST"; headers: Record<string, string>; body: string }) => ReturnType<FetchLike>;
  /** location.origin + location.pathname: where the authorization server sends the code back. */
  readonly redirectUri: string;
  /** location.search */
  readonly search: string;
  /** Leaves the page for the authorization server. */
  navigate(url: string): void;
  /** Drops ?code=…&state=… from the address bar (history.replaceState), so a reload does not replay it. */
  clearCallback(): void;
  now(): number;
}

export type SignIn = { kind: "token"; token: string } | { kind: "redirecting" };

/** Sends the browser to the authorization server, remembering the verifier and state for the way back. */
export async function beginSignIn(auth: AuthConfig, side: BrowserSide): Promise<SignIn> {
  const verifier = createVerifier(side.crypto);
  const state = createVerifier(side.crypto);
  side.storage.setItem(PENDING_KEY, JSON.stringify({ verifier, state }));
  side.navigate(authorizeUrl(auth, { redirectUri: side.redirectUri, state, challenge: await challengeFor(verifier, side.crypto) }));
  return { kind: "redirecting" };
}

/**
 * A token to call the API with: the one kept for this tab, or the one the authorization
 * server's redirect brought back (exchanged here), or, with neither, a redirect to sign in.
 * A refused sign-in throws with a readable message and does not loop back to the server.
 */
export async function signIn(auth: AuthConfig, side: BrowserSide): Promise<SignIn> {
  const pendingText = side.storage.getItem(PENDING_KEY);
  const pending = pendingText === null ? undefined : (JSON.parse(pendingText) as { verifier: string; state: string });
  const callback = readCallback(side.search, pending?.state);
  if (callback.kind !== "none") {
    side.storage.removeItem(PENDING_KEY);
    side.clearCallback();
    if (callback.kind === "error") throw new Error(callback.message);
    const response = await side.fetch(auth.tokenUrl, {
      method: "POST",
      headers: { "content-type": "application/x-www-form-urlencoded", accept: "application/json" },
      body: tokenRequestBody(auth, callback.code, pending!.verifier, side.redirectUri),
    });
    const token = parseTokenResponse(response.status, await response.text(), side.now());
    side.storage.setItem(TOKEN_KEY, JSON.stringify(token));
    return { kind: "token", token: token.accessToken };
  }
  const kept = readToken(side.storage, side.now());
  return kept !== undefined ? { kind: "token", token: kept } : beginSignIn(auth, side);
}

/** After a 401: the kept token is no good any more. */
export function forgetToken(storage: StorageLike): void {
  storage.removeItem(TOKEN_KEY);
}
