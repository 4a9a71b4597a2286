/**
 * DashboardSite under the mock engine: the real program for prod (and the component alone with
 * an API origin and a custom certificate), plus the pure builders.
 */
import * as path from "path";
import { DashboardSite, DashboardSiteArgs, validateDashboardSiteArgs } from "../components/services/dashboard-site";
import { API_PATH_PATTERN, MANAGED_POLICY, cacheControlFor, contentSecurityPolicy, siteConfigJson } from "../components/services/dashboard-site-rules";
import { StackEvaluation, evaluateStack, ofType, readStackConfig } from "../scripts/engine";
import { validateStageConfig } from "../config";
import { dashboardAuth } from "../platform/dashboard";
import { buildDashboard } from "../scripts/dashboard-build";
import { evaluate, single, statementsOf } from "./support/stack";

const T = {
  distribution: "aws:cloudfront/distribution:Distribution",
  oac: "aws:cloudfront/originAccessControl:OriginAccessControl",
  headers: "aws:cloudfront/responseHeadersPolicy:ResponseHeadersPolicy",
  policy: "aws:s3/bucketPolicy:BucketPolicy",
  keyPolicy: "aws:kms/keyPolicy:KeyPolicy",
  key: "aws:kms/key:Key",
  object: "aws:s3/bucketObjectv2:BucketObjectv2",
  encryption: "aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration",
  logSource: "aws:cloudwatch/logDeliverySource:LogDeliverySource",
  logDelivery: "aws:cloudwatch/logDelivery:LogDelivery",
} as const;

const AUTH = { issuer: "https://auth.example.com", clientId: "abc", scopes: ["reports/read"], authorizeUrl: "https://auth.example.com/oauth2/authorize", tokenUrl: "https://auth.example.com/oauth2/token" };
const CERT = "arn:aws:acm:us-east-1:123456789012:certificate/0f1e2d3c-4b5a-6978-8a9b-0c1d2e3f4a5b";

describe("DashboardSite in prod", () => {
  let plan: StackEvaluation;
  beforeAll(async () => { plan = await evaluate("prod"); }, 240_000);

  it("fronts the bucket with an always-signing sigv4 OAC and no legacy identity", () => {
    const oac = single(plan, T.oac, "dashboard-oac");
    expect(oac.inputs).toMatchObject({ originAccessControlOriginType: "s3", signingBehavior: "always", signingProtocol: "sigv4" });
    const cdn = single(plan, T.distribution, "dashboard-cdn");
    const [origin] = cdn.inputs.origins;
    expect(origin.originAccessControlId).toBe(oac.id);
    expect(origin.s3OriginConfig).toBeUndefined();
    expect(origin.domainName).not.toMatch(/s3-website/);
  });

  it("lets only CloudFront, for this distribution, read the bucket, and denies plain HTTP", () => {
    const cdn = single(plan, T.distribution, "dashboard-cdn");
    const statements = statementsOf(single(plan, T.policy, "dashboard-bucket-policy"));
    const cloudFront = statements.filter((s) => s.Principal?.Service === "cloudfront.amazonaws.com");
    expect(cloudFront.map((s) => s.Action).sort()).toEqual(["s3:GetObject", "s3:ListBucket"]);
    for (const s of cloudFront) expect(s.Condition.StringEquals["AWS:SourceArn"]).toBe(cdn.state.arn);
    expect(statements.some((s) => s.Effect === "Deny" && s.Condition?.Bool?.["aws:SecureTransport"] === "false")).toBe(true);
  });

  it("encrypts with its own key, which CloudFront may only decrypt, for this distribution", () => {
    const cdn = single(plan, T.distribution, "dashboard-cdn");
    const key = single(plan, T.key, "dashboard-key");
    const encryption = single(plan, T.encryption, "dashboard-bucket-encryption");
    expect(encryption.inputs.rules[0].applyServerSideEncryptionByDefault).toEqual({ sseAlgorithm: "aws:kms", kmsMasterKeyId: key.state.arn });
    const statements = statementsOf(single(plan, T.keyPolicy, "dashboard-key-policy"));
    const decrypt = statements.find((s) => s.Principal?.Service === "cloudfront.amazonaws.com");
    expect(decrypt).toMatchObject({ Action: "kms:Decrypt", Condition: { StringEquals: { "AWS:SourceArn": cdn.state.arn } } });
  });

  it("serves HTTPS only over HTTP/2 and 3 with the security headers on every behaviour", () => {
    const cdn = single(plan, T.distribution, "dashboard-cdn");
    const headers = single(plan, T.headers, "dashboard-headers");
    expect(cdn.inputs).toMatchObject({ httpVersion: "http2and3", defaultRootObject: "index.html", priceClass: "PriceClass_200" });
    expect(cdn.inputs.defaultCacheBehavior).toMatchObject({ viewerProtocolPolicy: "redirect-to-https", responseHeadersPolicyId: headers.id });
    const security = headers.inputs.securityHeadersConfig;
    expect(security.frameOptions.frameOption).toBe("DENY");
    expect(security.contentTypeOptions.override).toBe(true);
    expect(security.strictTransportSecurity.accessControlMaxAgeSec).toBeGreaterThanOrEqual(31536000);
    expect(security.contentSecurityPolicy.contentSecurityPolicy).toMatch(/^default-src 'self'/);
    expect(security.referrerPolicy.referrerPolicy).toBe("strict-origin-when-cross-origin");
    expect(headers.inputs.customHeadersConfig.items[0].header).toBe("Permissions-Policy");
  });

  it("uploads the build with content types and cache lifetimes, plus config.json", async () => {
    const build = await buildDashboard();
    const objects = ofType(plan, T.object).filter((o) => o.name.includes("-dashboard-"));
    expect(objects).toHaveLength(build.files.length + 1);
    for (const file of build.files) {
      const object = objects.find((o) => o.inputs.key === file.path)!;
      expect(object.inputs).toMatchObject({ contentType: file.contentType, cacheControl: cacheControlFor(file.path), serverSideEncryption: "aws:kms" });
    }
    const config = objects.find((o) => o.inputs.key === "config.json")!;
    // prod's client API takes JWTs, so the page signs in at the stage's issuer (platform/dashboard.ts).
    expect(JSON.parse(config.inputs.content)).toEqual({ apiBase: "/api", auth: dashboardAuth(validateStageConfig(readStackConfig("prod"), "Pulumi.prod.yaml")) });
    expect(JSON.parse(config.inputs.content).auth).toMatchObject({ clientId: "dashboard-client-id", tokenUrl: expect.stringMatching(/^https:\/\//) });
    expect(config.inputs.cacheControl).toBe("no-cache");
  });

  it("delivers access logs through CloudFront standard logging v2 in us-east-1", () => {
    const cdn = single(plan, T.distribution, "dashboard-cdn");
    const source = single(plan, T.logSource, "dashboard-log-source");
    expect(source.inputs).toMatchObject({ logType: "ACCESS_LOGS", resourceArn: cdn.state.arn, region: "us-east-1" });
    expect(single(plan, T.logDelivery, "dashboard-log-delivery").inputs.deliverySourceName).toBe(source.inputs.name);
  });

  it("logs no warnings", () => {
    expect(plan.warnings).toEqual([]);
  });
});

describe("DashboardSite with an API origin and a custom certificate", () => {
  let plan: StackEvaluation;
  beforeAll(async () => {
    const build = await buildDashboard();
    const args: DashboardSiteArgs = { build, auth: AUTH, apiDomainName: "abc123.execute-api.eu-west-1.amazonaws.com", domainName: "dash.example.com", certificateArn: CERT, webAclArn: "arn:aws:wafv2:us-east-1:123456789012:global/webacl/site/0f1e2d3c-4b5a-6978-8a9b-0c1d2e3f4a5b" };
    plan = await evaluateStack("dev", { program: () => { new DashboardSite("site", args); } });
  }, 120_000);

  it("routes /api/* to the HTTP API uncached, with every method and the viewer's headers but Host", () => {
    const cdn = single(plan, T.distribution, "site-cdn");
    const api = cdn.inputs.orderedCacheBehaviors.find((b: any) => b.pathPattern === API_PATH_PATTERN);
    expect(api).toMatchObject({ targetOriginId: "client-api", viewerProtocolPolicy: "https-only", cachePolicyId: MANAGED_POLICY.cachingDisabled, originRequestPolicyId: MANAGED_POLICY.allViewerExceptHostHeader });
    expect(api.allowedMethods).toHaveLength(7);
    const origin = cdn.inputs.origins.find((o: any) => o.originId === "client-api");
    expect(origin.customOriginConfig).toMatchObject({ originProtocolPolicy: "https-only", originSslProtocols: ["TLSv1.2"] });
  });

  it("uses the certificate with TLS 1.2+, the alias and the web ACL", () => {
    const cdn = single(plan, T.distribution, "site-cdn");
    expect(cdn.inputs.viewerCertificate).toMatchObject({ acmCertificateArn: CERT, sslSupportMethod: "sni-only", minimumProtocolVersion: "TLSv1.2_2021" });
    expect(cdn.inputs.aliases).toEqual(["dash.example.com"]);
    expect(cdn.inputs.webAclId).toMatch(/^arn:aws:wafv2:us-east-1:/);
  });

  it("writes the auth settings into config.json and lets the CSP reach the token endpoint", () => {
    const config = ofType(plan, T.object).find((o) => o.inputs.key === "config.json")!;
    expect(JSON.parse(config.inputs.content)).toEqual({ apiBase: "/api", auth: AUTH });
    expect(single(plan, T.headers).inputs.securityHeadersConfig.contentSecurityPolicy.contentSecurityPolicy).toContain("connect-src 'self' https://auth.example.com");
  });
});

describe("DashboardSite rules", () => {
  const build = { dir: path.join(__dirname, "fixtures", "dashboard-build"), files: [{ path: "index.html", contentType: "text/html", bytes: 1, sha256: "x" }] };

  it("keeps hashed assets a year and revalidates the entry points", () => {
    expect(cacheControlFor("assets/index-3f9a1c2b.js")).toMatch(/immutable/);
    expect(cacheControlFor("index.html")).toBe("no-cache");
  });

  it("refuses bad builds and half-configured aliases, naming the problem", () => {
    expect(validateDashboardSiteArgs({ build })).toEqual([]);
    expect(validateDashboardSiteArgs({ build: { ...build, files: [] } })).toEqual([expect.stringContaining("no index.html")]);
    expect(validateDashboardSiteArgs({ build: { ...build, files: [...build.files, { path: "../x", contentType: "a", bytes: 1, sha256: "" }] } })).toEqual([expect.stringContaining('"../x"')]);
    expect(validateDashboardSiteArgs({ build, domainName: "d.example.com" })).toEqual(["domainName and certificateArn go together"]);
    expect(validateDashboardSiteArgs({ build, domainName: "d.example.com", certificateArn: CERT.replace("us-east-1", "eu-west-1") })).toEqual([expect.stringContaining("us-east-1")]);
    expect(validateDashboardSiteArgs({ build, apiDomainName: "https://x.example.com/" })).toEqual([expect.stringContaining("bare host name")]);
  });

  it("builds a strict CSP and the contract's config.json", () => {
    expect(contentSecurityPolicy(undefined)).toContain("connect-src 'self';");
    expect(contentSecurityPolicy(undefined)).toContain("frame-ancestors 'none'");
    expect(siteConfigJson(undefined)).toBe('{"apiBase":"/api","auth":null}');
  });
});
