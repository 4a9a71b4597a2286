/**
 * DashboardSite: the dashboard as a static site. A private, KMS-encrypted bucket (its own key,
 * readable only by this distribution), the build's files and config.json as objects, and a
 * CloudFront distribution with Origin Access Control, HTTPS only, security headers, standard
 * logging v2 into a log bucket, and optionally `/api/*` to the client API's HTTP API.
 */
import * as path from "path";
import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import { HardenedBucket, createHardenedBucket } from "../lib/hardened-bucket";
import {
  API_ORIGIN_ID,
  DashboardAuth,
  MANAGED_POLICY,
  PERMISSIONS_POLICY,
  REVALIDATE_CACHE_CONTROL,
  S3_ORIGIN_ID,
  SiteFile,
  apiCacheBehavior,
  apiOrigin,
  cacheControlFor,
  cloudFrontReadStatements,
  customErrorResponses,
  logDeliveryStatement,
  securityHeaders,
  siteConfigJson,
  siteKeyPolicy,
  validateApiDomain,
  validateSiteFiles,
} from "./dashboard-site-rules";

/** CloudFront's control plane, its log delivery sources and its certificates live in us-east-1. */
export const CLOUDFRONT_REGION = "us-east-1";

export interface DashboardSiteArgs {
  /** The build's directory and file list (scripts/dashboard-build.ts's DashboardBuild). */
  readonly build: { readonly dir: string; readonly files: readonly SiteFile[] };
  /** OAuth settings written into config.json. @default undefined (no auth: `"auth": null`) */
  readonly auth?: DashboardAuth;
  /** Host name of the client API's HTTP API; adds the `/api/*` behaviour. @default undefined (no API behaviour) */
  readonly apiDomainName?: pulumi.Input<string>;
  /** @default "PriceClass_100" */
  readonly priceClass?: "PriceClass_100" | "PriceClass_200" | "PriceClass_All";
  /** Custom host name; needs certificateArn. @default undefined (the *.cloudfront.net name) */
  readonly domainName?: string;
  /** ACM certificate in us-east-1 for domainName. @default undefined */
  readonly certificateArn?: string;
  /** WAF v2 web ACL (CLOUDFRONT scope) ARN. @default undefined (no WAF) */
  readonly webAclArn?: string;
  /** Days the access logs are kept. @default 90 */
  readonly logRetentionDays?: number;
  /** @default 7 */
  readonly keyDeletionWindowInDays?: number;
  /** @default true */
  readonly protect?: boolean;
  /** @default false */
  readonly forceDestroy?: boolean;
}

export const DASHBOARD_SITE_DEFAULTS = {
  priceClass: "PriceClass_100",
  logRetentionDays: 90,
  keyDeletionWindowInDays: 7,
  /** Only with a custom certificate: the default *.cloudfront.net one is fixed at TLSv1 by CloudFront. */
  minimumProtocolVersion: "TLSv1.2_2021",
} as const;

/** The cross-key rules of the args, one sentence per problem. */
export function validateDashboardSiteArgs(args: Pick<DashboardSiteArgs, "build" | "domainName" | "certificateArn"> & { apiDomainName?: unknown }): string[] {
  const problems = validateSiteFiles(args.build.files);
  if ((args.domainName === undefined) !== (args.certificateArn === undefined)) problems.push("domainName and certificateArn go together");
  if (args.certificateArn !== undefined && !args.certificateArn.includes(`:acm:${CLOUDFRONT_REGION}:`)) {
    problems.push(`certificateArn must be an ACM certificate in ${CLOUDFRONT_REGION} (CloudFront reads certificates only there)`);
  }
  if (typeof args.apiDomainName === "string") problems.push(...validateApiDomain(args.apiDomainName));
  return problems;
}

export class DashboardSite extends pulumi.ComponentResource {
  readonly bucket: HardenedBucket;
  readonly logBucket: HardenedBucket;
  readonly key: aws.kms.Key;
  readonly distribution: aws.cloudfront.Distribution;
  readonly url: pulumi.Output<string>;

  constructor(name: string, args: DashboardSiteArgs, opts?: pulumi.ComponentResourceOptions) {
    super("dataplatform:services:DashboardSite", name, {}, opts);
    const problems = validateDashboardSiteArgs(args);
    if (problems.length > 0) throw new pulumi.RunError(`${name}: invalid DashboardSite args:\n  - ${problems.join("\n  - ")}`);
    const protect = args.protect ?? true;
    const forceDestroy = args.forceDestroy ?? false;
    const identity = aws.getCallerIdentityOutput({}, { parent: this });
    const partition = aws.getPartitionOutput({}, { parent: this });

    // Its own key, not the platform's data key: the CloudFront service principal gets Decrypt on
    // this key only, so a mistake in a site can never expose lake data.
    this.key = new aws.kms.Key(`${name}-key`, {
      description: `${name}: the dashboard site's objects (CloudFront decrypts through OAC)`,
      enableKeyRotation: true,
      deletionWindowInDays: args.keyDeletionWindowInDays ?? DASHBOARD_SITE_DEFAULTS.keyDeletionWindowInDays,
    }, { parent: this, protect });

    // The bucket policy names the distribution, which needs the bucket first: the ARN arrives
    // through a deferred Output (resolved to the distribution's own Output, so unknowns in
    // preview and the dependency both carry over).
    let resolveDistributionArn!: (arn: pulumi.Output<string>) => void;
    const distributionArn = pulumi.output(new Promise<pulumi.Output<string>>((resolve) => { resolveDistributionArn = resolve; })).apply((arn) => arn);
    const noncurrentDays = 30;
    this.bucket = createHardenedBucket(`${name}-bucket`, {
      kmsKeyArn: this.key.arn,
      versioned: true,
      rules: [{ id: "expire-old-builds", status: "Enabled", filter: {}, noncurrentVersionExpiration: { noncurrentDays }, abortIncompleteMultipartUpload: { daysAfterInitiation: 1 } }],
      forceDestroy,
      protect,
      extraPolicy: (bucketArn) => [0, 1].map((i) => pulumi.all([bucketArn, distributionArn]).apply(([b, d]) => cloudFrontReadStatements(b, d)[i])),
    }, this);

    const logRetention = args.logRetentionDays ?? DASHBOARD_SITE_DEFAULTS.logRetentionDays;
    // Vended log delivery writes SSE-KMS objects when the key policy admits it (siteKeyPolicy),
    // so the logs, which hold viewer IPs, stay under the customer key too.
    this.logBucket = createHardenedBucket(`${name}-logs`, {
      kmsKeyArn: this.key.arn,
      versioned: false,
      rules: [{ id: "expire-logs", status: "Enabled", filter: {}, expiration: { days: logRetention }, abortIncompleteMultipartUpload: { daysAfterInitiation: 1 } }],
      forceDestroy,
      protect,
      extraPolicy: (logBucketArn) => [
        pulumi.all([logBucketArn, identity.accountId]).apply(([b, account]) =>
          logDeliveryStatement(b, account, `arn:aws:logs:${CLOUDFRONT_REGION}:${account}:delivery-source:*`)),
      ],
    }, this);

    const oac = new aws.cloudfront.OriginAccessControl(`${name}-oac`, {
      name: `${name}-oac`,
      description: `${name}: signs every request to the site bucket`,
      originAccessControlOriginType: "s3",
      signingBehavior: "always",
      signingProtocol: "sigv4",
    }, { parent: this });

    const headers = new aws.cloudfront.ResponseHeadersPolicy(`${name}-headers`, {
      name: `${name}-security-headers`,
      comment: `${name}: HSTS, CSP, nosniff, DENY framing, referrer and permissions policies`,
      securityHeadersConfig: securityHeaders(args.auth),
      customHeadersConfig: { items: [{ header: "Permissions-Policy", value: PERMISSIONS_POLICY, override: true }] },
    }, { parent: this });

    const objects = this.siteObjects(name, args);
    const certificate = args.certificateArn === undefined
      ? { cloudfrontDefaultCertificate: true }
      : { acmCertificateArn: args.certificateArn, sslSupportMethod: "sni-only", minimumProtocolVersion: DASHBOARD_SITE_DEFAULTS.minimumProtocolVersion };

    this.distribution = new aws.cloudfront.Distribution(`${name}-cdn`, {
      enabled: true,
      comment: `${name}: the dashboard`,
      httpVersion: "http2and3",
      isIpv6Enabled: true,
      priceClass: args.priceClass ?? DASHBOARD_SITE_DEFAULTS.priceClass,
      defaultRootObject: "index.html",
      aliases: args.domainName === undefined ? [] : [args.domainName],
      webAclId: args.webAclArn,
      origins: [
        { originId: S3_ORIGIN_ID, domainName: this.bucket.bucket.bucketRegionalDomainName, originAccessControlId: oac.id },
        ...(args.apiDomainName === undefined ? [] : [pulumi.output(args.apiDomainName).apply(apiOrigin)]),
      ],
      defaultCacheBehavior: {
        targetOriginId: S3_ORIGIN_ID,
        viewerProtocolPolicy: "redirect-to-https",
        allowedMethods: ["GET", "HEAD"],
        cachedMethods: ["GET", "HEAD"],
        cachePolicyId: MANAGED_POLICY.cachingOptimized,
        responseHeadersPolicyId: headers.id,
        compress: true,
      },
      orderedCacheBehaviors: args.apiDomainName === undefined ? [] : [headers.id.apply(apiCacheBehavior)],
      customErrorResponses: customErrorResponses(),
      restrictions: { geoRestriction: { restrictionType: "none" } },
      viewerCertificate: certificate,
    }, { parent: this, dependsOn: objects });
    resolveDistributionArn(this.distribution.arn);

    new aws.kms.KeyPolicy(`${name}-key-policy`, {
      keyId: this.key.id,
      policy: pulumi.all([identity.accountId, partition.partition, this.distribution.arn]).apply(([account, p, d]) => JSON.stringify(siteKeyPolicy(account, p, d))),
    }, { parent: this });

    this.standardLogging(name);
    this.url = args.domainName === undefined ? pulumi.interpolate`https://${this.distribution.domainName}` : pulumi.output(`https://${args.domainName}`);
    this.registerOutputs({
      url: this.url,
      distributionId: this.distribution.id,
      bucketName: this.bucket.name,
      logBucketName: this.logBucket.name,
      apiOrigin: args.apiDomainName === undefined ? undefined : API_ORIGIN_ID,
    });
  }

  /** The build's files and config.json, each with its content type and cache lifetime. */
  private siteObjects(name: string, args: DashboardSiteArgs): aws.s3.BucketObjectv2[] {
    const common = { bucket: this.bucket.bucket.id, serverSideEncryption: "aws:kms", kmsKeyId: this.key.arn, bucketKeyEnabled: true };
    const files = args.build.files.map((file) => new aws.s3.BucketObjectv2(`${name}-file-${file.path}`, {
      ...common,
      key: file.path,
      source: new pulumi.asset.FileAsset(path.join(args.build.dir, file.path)),
      contentType: file.contentType,
      cacheControl: cacheControlFor(file.path),
      // S3 keeps a checksum of what it stored; the hash also makes a content change a diff.
      checksumAlgorithm: "SHA256",
      metadata: { sha256: file.sha256 },
    }, { parent: this }));
    const config = new aws.s3.BucketObjectv2(`${name}-config`, {
      ...common,
      key: "config.json",
      content: siteConfigJson(args.auth),
      contentType: "application/json",
      cacheControl: REVALIDATE_CACHE_CONTROL,
    }, { parent: this });
    return [...files, config];
  }

  /**
   * CloudFront standard logging v2 (CloudWatch Logs vended delivery): no ACLs on the log bucket,
   * which the legacy S3 logging needs and BucketOwnerEnforced forbids. The source lives in
   * us-east-1 with the distribution. https://docs.aws.amazon.com/AmazonCloudFront/latest/DeveloperGuide/standard-logging.html
   */
  private standardLogging(name: string): void {
    const source = new aws.cloudwatch.LogDeliverySource(`${name}-log-source`, {
      region: CLOUDFRONT_REGION,
      name: `${name}-access-logs`,
      logType: "ACCESS_LOGS",
      resourceArn: this.distribution.arn,
    }, { parent: this });
    const destination = new aws.cloudwatch.LogDeliveryDestination(`${name}-log-destination`, {
      region: CLOUDFRONT_REGION,
      name: `${name}-access-logs`,
      outputFormat: "parquet",
      deliveryDestinationConfiguration: { destinationResourceArn: pulumi.interpolate`${this.logBucket.arn}/cloudfront` },
    }, { parent: this });
    new aws.cloudwatch.LogDelivery(`${name}-log-delivery`, {
      region: CLOUDFRONT_REGION,
      deliverySourceName: source.name,
      deliveryDestinationArn: destination.arn,
    }, { parent: this, dependsOn: [this.logBucket.policy] });
  }
}
