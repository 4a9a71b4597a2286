/**
 * CloudFront distributions: HTTPS to the viewer on every behaviour, S3 origins only through
 * Origin Access Control (no legacy OAI, no public website endpoint), security headers,
 * access logging, and TLS 1.2+ whenever a custom certificate is configured.
 */
import * as aws from "@pulumi/aws";
import { validateResourceOfType } from "@pulumi/policy";
import { PlatformResourcePolicy, PlatformStackPolicy } from "./lib/policy";

const DISTRIBUTION = "aws:cloudfront/distribution:Distribution";
const LOG_DELIVERY_SOURCE = "aws:cloudwatch/logDeliverySource:LogDeliverySource";

type Behaviour = { viewerProtocolPolicy?: string; responseHeadersPolicyId?: string; pathPattern?: string };
const behavioursOf = (d: aws.cloudfront.DistributionArgs): Behaviour[] =>
  [d.defaultCacheBehavior as Behaviour | undefined, ...((d.orderedCacheBehaviors ?? []) as Behaviour[])].filter((b): b is Behaviour => b !== undefined);
const label = (b: Behaviour) => b.pathPattern ?? "the default behaviour";

export const cloudfrontHttpsOnly: PlatformResourcePolicy = {
  name: "cloudfront-https-only",
  description: "Every CloudFront cache behaviour redirects HTTP to HTTPS or refuses it (no allow-all).",
  enforcementLevel: "mandatory",
  remediationSteps: 'Set viewerProtocolPolicy to "redirect-to-https" or "https-only" on every behaviour (components/services/dashboard-site.ts does).',
  validateResource: validateResourceOfType(aws.cloudfront.Distribution, (d, _args, report) => {
    for (const b of behavioursOf(d)) if (b.viewerProtocolPolicy === "allow-all") report(`${label(b)} allows plain HTTP (viewerProtocolPolicy allow-all).`);
  }),
};

export const cloudfrontS3OriginAccessControl: PlatformResourcePolicy = {
  name: "cloudfront-s3-origin-access-control",
  description: "CloudFront reaches S3 origins only through Origin Access Control: no legacy origin access identity and no public S3 website endpoint.",
  enforcementLevel: "mandatory",
  remediationSteps: "Use an aws.cloudfront.OriginAccessControl (sigv4, always) on the bucket's regional domain name, with a bucket policy for cloudfront.amazonaws.com scoped by AWS:SourceArn.",
  validateResource: validateResourceOfType(aws.cloudfront.Distribution, (d, _args, report) => {
    for (const origin of (d.origins ?? []) as { originId?: string; domainName?: string; originAccessControlId?: string; s3OriginConfig?: { originAccessIdentity?: string } }[]) {
      const domain = String(origin.domainName ?? "");
      if (/\.s3-website[.-]/.test(domain)) report(`Origin ${origin.originId} is a public S3 website endpoint; use the bucket's REST endpoint with OAC.`);
      else if (origin.s3OriginConfig?.originAccessIdentity) report(`Origin ${origin.originId} uses a legacy origin access identity; use Origin Access Control.`);
      else if (/\.s3[.-]/.test(domain) && !origin.originAccessControlId) report(`S3 origin ${origin.originId} has no Origin Access Control.`);
    }
  }),
};

export const cloudfrontSecurityHeaders: PlatformResourcePolicy = {
  name: "cloudfront-security-headers",
  description: "Every CloudFront cache behaviour attaches a response headers policy (HSTS, CSP, nosniff, framing).",
  enforcementLevel: "mandatory",
  remediationSteps: "Attach an aws.cloudfront.ResponseHeadersPolicy with securityHeadersConfig to every behaviour.",
  validateResource: validateResourceOfType(aws.cloudfront.Distribution, (d, _args, report) => {
    for (const b of behavioursOf(d)) if (!b.responseHeadersPolicyId) report(`${label(b)} has no response headers policy.`);
  }),
};

export const cloudfrontViewerTls12: PlatformResourcePolicy = {
  name: "cloudfront-viewer-tls12",
  description: "A CloudFront distribution with a custom certificate requires TLS 1.2 or later from viewers (the default *.cloudfront.net certificate's protocols are fixed by CloudFront).",
  enforcementLevel: "mandatory",
  remediationSteps: 'Set viewerCertificate.minimumProtocolVersion to "TLSv1.2_2021" or later with sslSupportMethod "sni-only".',
  validateResource: validateResourceOfType(aws.cloudfront.Distribution, (d, args, report) => {
    const cert = (d.viewerCertificate ?? {}) as { acmCertificateArn?: string; iamCertificateId?: string; minimumProtocolVersion?: string };
    if (!cert.acmCertificateArn && !cert.iamCertificateId) args.notApplicable("Default CloudFront certificate");
    if (!/^TLSv1\.[23]_\d{4}$/.test(cert.minimumProtocolVersion ?? "")) report(`minimumProtocolVersion ${cert.minimumProtocolVersion ?? "(unset)"} allows TLS below 1.2.`);
  }),
};

/** Logging is either legacy S3 logging on the distribution or a v2 delivery source naming it. */
export const cloudfrontAccessLogging: PlatformStackPolicy = {
  name: "cloudfront-access-logging",
  description: "Every CloudFront distribution has access logging: standard logging v2 (a CloudWatch Logs delivery source of type ACCESS_LOGS) or legacy loggingConfig.",
  enforcementLevel: "mandatory",
  remediationSteps: "Declare an aws.cloudwatch.LogDeliverySource (logType ACCESS_LOGS, resourceArn = the distribution's ARN) with a delivery to the log bucket.",
  validateStack: (args, report) => {
    const sources = args.resources.filter((r) => r.type === LOG_DELIVERY_SOURCE && r.props.logType === "ACCESS_LOGS");
    for (const d of args.resources.filter((r) => r.type === DISTRIBUTION)) {
      const legacy = Boolean(d.props.loggingConfig?.bucket);
      const v2 = sources.some((s) => (d.props.arn !== undefined && s.props.resourceArn === d.props.arn) || (s.propertyDependencies?.resourceArn ?? []).some((dep) => dep.urn === d.urn));
      if (!legacy && !v2) report(`Distribution ${d.name} has no access logging.`, d.urn);
    }
  },
};

export const cloudfrontPolicies: PlatformPolicy[] = [cloudfrontHttpsOnly, cloudfrontS3OriginAccessControl, cloudfrontSecurityHeaders, cloudfrontViewerTls12, cloudfrontAccessLogging];
type PlatformPolicy = PlatformResourcePolicy | PlatformStackPolicy;
