/**
 * The promotion's health check signs its GET for execute-api (the reporting API is
 * IAM-authorised). The signature is checked against SigV4 computed here step by step
 * from the specification, with fixed credentials and time.
 */
import { createHash, createHmac } from "crypto";
import { executeApiRegion, signedGetHeaders } from "../dr/signed-get";

const CREDENTIALS = async () => ({ accessKeyId: "AKIDEXAMPLE", secretAccessKey: "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY" });
const NOW = new Date("2026-12-01T10:00:00Z");
const URL_TEXT = "https://a1b2c3.execute-api.eu-central-1.amazonaws.com/health";

const sha256 = (text: string) => createHash("sha256").update(text).digest("hex");
const hmac = (key: Buffer | string, text: string) => createHmac("sha256", key).update(text).digest();

/** SigV4 for a GET without query or body (payload hash sent as x-amz-content-sha256), as the AWS General Reference describes it. */
function expectedSignature(host: string, path: string, amzDate: string, region: string): string {
  const day = amzDate.slice(0, 8);
  const payload = sha256("");
  const canonicalRequest = ["GET", path, "", `host:${host}`, `x-amz-content-sha256:${payload}`, `x-amz-date:${amzDate}`, "", "host;x-amz-content-sha256;x-amz-date", payload].join("\n");
  const scope = `${day}/${region}/execute-api/aws4_request`;
  const stringToSign = ["AWS4-HMAC-SHA256", amzDate, scope, sha256(canonicalRequest)].join("\n");
  const key = ["execute-api", "aws4_request"].reduce((k, part) => hmac(k, part), hmac(hmac("AWS4wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY", day), region));
  return createHmac("sha256", key).update(stringToSign).digest("hex");
}

describe("the signed health check", () => {
  it("signs for execute-api in the API's own region", async () => {
    const url = new URL(URL_TEXT);
    expect(executeApiRegion(url)).toBe("eu-central-1");
    const headers = await signedGetHeaders(url, CREDENTIALS, NOW);
    expect(headers["x-amz-date"]).toBe("20261201T100000Z");
    expect(headers.authorization).toBe(
      `AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20261201/eu-central-1/execute-api/aws4_request, SignedHeaders=host;x-amz-content-sha256;x-amz-date, Signature=${expectedSignature(url.hostname, "/health", "20261201T100000Z", "eu-central-1")}`,
    );
  });

  it("refuses a URL that is not an API Gateway endpoint", () => {
    expect(() => executeApiRegion(new URL("https://example.com/health"))).toThrow(/not an API Gateway \(execute-api\) URL/);
  });
});
