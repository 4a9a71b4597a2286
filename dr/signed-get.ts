/**
 * The health check's HTTP GET, signed with SigV4 for execute-api: the reporting API is
 * IAM-authorised, so an unsigned request would only ever see 403. Credentials come from
 * the operator's default chain (as the SDK clients' do); the region is the API's own.
 */
import { defaultProvider } from "@aws-sdk/credential-provider-node";
import { SignatureV4 } from "@smithy/signature-v4";
import type { AwsCredentialIdentityProvider, Checksum, SourceData } from "@smithy/types";
import { createHash, createHmac } from "crypto";
import { HttpCheck } from "./actions";

/** SHA-256 (or HMAC-SHA-256 with a secret) from Node's crypto, in the shape SignatureV4 takes. */
class NodeSha256 implements Checksum {
  private readonly hash;

  constructor(secret?: SourceData) {
    this.hash = secret === undefined ? createHash("sha256") : createHmac("sha256", toBuffer(secret));
  }

  update(data: Uint8Array): void {
    this.hash.update(data);
  }

  async digest(): Promise<Uint8Array> {
    return new Uint8Array(this.hash.digest());
  }

  reset(): void {
    throw new Error("NodeSha256 is single-use");
  }
}

function toBuffer(data: SourceData): Buffer {
  if (typeof data === "string") return Buffer.from(data, "utf8");
  if (ArrayBuffer.isView(data)) return Buffer.from(data.buffer, data.byteOffset, data.byteLength);
  return Buffer.from(data as ArrayBuffer);
}

/** "https://abc.execute-api.eu-central-1.amazonaws.com/health" → "eu-central-1". */
export function executeApiRegion(url: URL): string {
  const match = /\.execute-api\.([a-z0-9-]+)\.amazonaws\.com$/.exec(url.hostname);
  if (match === null) throw new Error(`${url.href} is not an API Gateway (execute-api) URL`);
  return match[1];
}

/** The headers of a SigV4-signed GET of `url`. */
export async function signedGetHeaders(url: URL, credentials: AwsCredentialIdentityProvider, now?: Date): Promise<Record<string, string>> {
  const signer = new SignatureV4({ service: "execute-api", region: executeApiRegion(url), credentials, sha256: NodeSha256 });
  const signed = await signer.sign(
    {
      method: "GET",
      protocol: url.protocol,
      hostname: url.hostname,
      path: url.pathname,
      query: Object.fromEntries(url.searchParams),
      headers: { host: url.hostname },
    },
    now ? { signingDate: now } : undefined,
  );
  return signed.headers;
}

/** GET `url` signed for execute-api and return the status; bounded so a dead region cannot hold the check. */
export function signedStatusCheck(credentials: AwsCredentialIdentityProvider = defaultProvider(), timeoutMs = 10_000): HttpCheck {
  return async (text) => {
    const url = new URL(text);
    const headers = await signedGetHeaders(url, credentials);
    return (await fetch(url, { method: "GET", headers, signal: AbortSignal.timeout(timeoutMs) })).status;
  };
}
