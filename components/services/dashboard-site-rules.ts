/**
 * Pure builders for the DashboardSite component: cache-control per file, the config.json the
 * app reads at start, the security headers, the `/api/*` behaviour, and the policy statements
 * that admit only this distribution. No Pulumi resources here; tests call them directly.
 */

/** One file of a dashboard build (scripts/dashboard-build.ts's DashboardBuild.files). */
export interface SiteFile {
  readonly path: string;
  readonly contentType: string;
  readonly bytes: number;
  readonly sha256: string;
}

/** OAuth settings the app needs for authorization code + PKCE (services-contract.md). */
export interface DashboardAuth {
  readonly issuer: string;
  readonly clientId: string;
  readonly scopes: string[];
  readonly authorizeUrl: string;
  readonly tokenUrl: string;
}

/** The files the app must re-read on every visit; everything else is content-hashed by Vite. */
const ALWAYS_REVALIDATE = new Set(["index.html", "config.json"]);
export const IMMUTABLE_CACHE_CONTROL = "public, max-age=31536000, immutable";
export const REVALIDATE_CACHE_CONTROL = "no-cache";

/** Cache-Control for a build file: a year for hashed assets, revalidation for entry points. */
export function cacheControlFor(path: string): string {
  return ALWAYS_REVALIDATE.has(path) ? REVALIDATE_CACHE_CONTROL : IMMUTABLE_CACHE_CONTROL;
}

/** The body of `/config.json`: the API is always the site's own `/api`. */
export function siteConfigJson(auth: DashboardAuth | undefined): string {
  return JSON.stringify({ apiBase: "/api", auth: auth ?? null });
}

/** Object keys must be relative and never escape the bucket root. */
export function validateSiteFiles(files: readonly SiteFile[]): string[] {
  const problems: string[] = [];
  if (!files.some((f) => f.path === "index.html")) problems.push("the build has no index.html (the default root object)");
  for (const file of files) {
    if (file.path.startsWith("/") || file.path.split("/").includes("..")) problems.push(`file path "${file.path}" must be relative, without ".."`);
    if (file.path === "config.json") problems.push("config.json is written from stack inputs and must not be part of the build");
    if (file.contentType === "") problems.push(`file "${file.path}" has no content type`);
  }
  return problems;
}

/**
 * The Content-Security-Policy: only this origin, plus the OAuth token endpoint the app calls
 * with fetch (the authorize URL is a top-level navigation, which CSP does not restrict).
 * uPlot draws on canvas and sets inline style attributes, hence `style-src 'self' 'unsafe-inline'`.
 */
export function contentSecurityPolicy(auth: DashboardAuth | undefined): string {
  const connect = ["'self'", ...(auth ? [new URL(auth.tokenUrl).origin] : [])];
  return [
    "default-src 'self'",
    "script-src 'self'",
    "style-src 'self' 'unsafe-inline'",
    "img-src 'self' data:",
    `connect-src ${connect.join(" ")}`,
    "font-src 'self'",
    "object-src 'none'",
    "base-uri 'self'",
    "form-action 'self'",
    "frame-ancestors 'none'",
  ].join("; ");
}

/** Two years, the HSTS preload list's minimum is one. */
export const HSTS_MAX_AGE_SECONDS = 63072000;

/** The response headers policy's security headers (aws.cloudfront.ResponseHeadersPolicy). */
export function securityHeaders(auth: DashboardAuth | undefined) {
  return {
    strictTransportSecurity: { accessControlMaxAgeSec: HSTS_MAX_AGE_SECONDS, includeSubdomains: true, preload: true, override: true },
    contentSecurityPolicy: { contentSecurityPolicy: contentSecurityPolicy(auth), override: true },
    contentTypeOptions: { override: true },
    frameOptions: { frameOption: "DENY", override: true },
    referrerPolicy: { referrerPolicy: "strict-origin-when-cross-origin", override: true },
  };
}

/** Features the dashboard never uses; sent as a custom header (CloudFront has no field for it). */
export const PERMISSIONS_POLICY = "camera=(), microphone=(), geolocation=(), payment=(), usb=(), interest-cohort=()";

/** CloudFront managed policy IDs (global, fixed by AWS). */
export const MANAGED_POLICY = {
  /** Managed-CachingOptimized */
  cachingOptimized: "658327ea-f89d-4fab-a63d-7e88639e58f6",
  /** Managed-CachingDisabled */
  cachingDisabled: "4135ea2d-6df8-44a3-9df3-4b5a84be39ad",
  /** Managed-AllViewerExceptHostHeader: API Gateway rejects a Host it does not own. */
  allViewerExceptHostHeader: "b689b0a8-53d0-40ab-baf2-68738e2966ac",
} as const;

export const S3_ORIGIN_ID = "site-bucket";
export const API_ORIGIN_ID = "client-api";
export const API_PATH_PATTERN = "/api/*";

/** The `/api/*` behaviour: every method, nothing cached at the edge, the viewer's headers forwarded. */
export function apiCacheBehavior(responseHeadersPolicyId: string) {
  return {
    pathPattern: API_PATH_PATTERN,
    targetOriginId: API_ORIGIN_ID,
    viewerProtocolPolicy: "https-only",
    allowedMethods: ["GET", "HEAD", "OPTIONS", "PUT", "POST", "PATCH", "DELETE"],
    cachedMethods: ["GET", "HEAD"],
    cachePolicyId: MANAGED_POLICY.cachingDisabled,
    originRequestPolicyId: MANAGED_POLICY.allViewerExceptHostHeader,
    responseHeadersPolicyId,
    compress: true,
  };
}

/** An HTTP API origin: HTTPS only, TLS 1.2 to the origin. */
export function apiOrigin(domainName: string) {
  return {
    originId: API_ORIGIN_ID,
    domainName,
    customOriginConfig: { httpPort: 80, httpsPort: 443, originProtocolPolicy: "https-only", originSslProtocols: ["TLSv1.2"] },
  };
}

/** Rejects an API origin given as a URL instead of a host name. */
export function validateApiDomain(domain: string | undefined): string[] {
  if (domain === undefined) return [];
  return /^[a-z0-9.-]+$/i.test(domain) ? [] : [`apiDomainName "${domain}" must be a bare host name (no scheme, path or port)`];
}

const fromDistribution = (distributionArn: string) => ({ StringEquals: { "AWS:SourceArn": distributionArn } });

/**
 * Bucket policy statement for OAC: only CloudFront, and only on behalf of this distribution.
 * https://docs.aws.amazon.com/AmazonCloudFront/latest/DeveloperGuide/private-content-restricting-access-to-s3.html
 */
export function cloudFrontReadStatements(bucketArn: string, distributionArn: string) {
  const cloudFront = { Effect: "Allow", Principal: { Service: "cloudfront.amazonaws.com" }, Condition: fromDistribution(distributionArn) };
  return [
    { Sid: "AllowCloudFrontOacRead", ...cloudFront, Action: "s3:GetObject", Resource: `${bucketArn}/*` },
    // Without ListBucket S3 answers 403 for a missing key; with it, a truthful 404.
    { Sid: "AllowCloudFrontOacList", ...cloudFront, Action: "s3:ListBucket", Resource: bucketArn },
  ];
}

/**
 * The site key's policy: the account administers it (so IAM policies work), and CloudFront may
 * decrypt for this distribution only: OAC with SSE-KMS needs kms:Decrypt in the key policy
 * (same AWS doc as above, "SSE-KMS" section). Objects are read-only through CloudFront, so no
 * Encrypt/GenerateDataKey for it; log delivery may generate data keys for the log bucket.
 */
export function siteKeyPolicy(accountId: string, partition: string, distributionArn: string) {
  return {
    Version: "2012-10-17",
    Statement: [
      {
        Sid: "AccountAdministers",
        Effect: "Allow",
        Principal: { AWS: `arn:${partition}:iam::${accountId}:root` },
        Action: "kms:*",
        Resource: "*",
      },
      {
        Sid: "AllowCloudFrontOacDecrypt",
        Effect: "Allow",
        Principal: { Service: "cloudfront.amazonaws.com" },
        Action: "kms:Decrypt",
        Resource: "*",
        Condition: fromDistribution(distributionArn),
      },
      {
        // Standard logging v2 encrypts the log objects it writes with this key.
        // https://docs.aws.amazon.com/AmazonCloudWatch/latest/logs/AWS-logs-and-resource-policy.html
        Sid: "AllowLogDeliveryEncrypt",
        Effect: "Allow",
        Principal: { Service: "delivery.logs.amazonaws.com" },
        Action: "kms:GenerateDataKey*",
        Resource: "*",
        Condition: { StringEquals: { "aws:SourceAccount": accountId }, ArnLike: { "aws:SourceArn": `arn:${partition}:logs:us-east-1:${accountId}:delivery-source:*` } },
      },
    ],
  };
}

/** Log bucket statement for CloudFront standard logging v2 (CloudWatch Logs vended delivery). */
export function logDeliveryStatement(logBucketArn: string, accountId: string, deliverySourceArn: string) {
  return {
    Sid: "AllowLogDeliveryWrite",
    Effect: "Allow",
    Principal: { Service: "delivery.logs.amazonaws.com" },
    Action: "s3:PutObject",
    Resource: `${logBucketArn}/*`,
    Condition: { StringEquals: { "aws:SourceAccount": accountId, "s3:x-amz-acl": "bucket-owner-full-control" }, ArnLike: { "aws:SourceArn": deliverySourceArn } },
  };
}

/**
 * Error responses are distribution-wide, so they must not rewrite the `/api/*` errors (JSON
 * bodies, the authorizer's 401/403). CloudFront may list the bucket (cloudFrontReadStatements),
 * so a missing object is S3's 404 instead of 403; these entries only keep errors briefly in the
 * edge cache and replace no body.
 */
export function customErrorResponses() {
  return [
    { errorCode: 403, errorCachingMinTtl: 0 },
    { errorCode: 404, errorCachingMinTtl: 10 },
  ];
}
