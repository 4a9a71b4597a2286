/**
 * The dashboard site's wiring (issue 11): the build's files and the stage's dashboard keys into
 * DashboardSite. Only the primary composition calls it: CloudFront is global, and the DR stack
 * declares no second distribution (see the report / README for why).
 */
import * as pulumi from "@pulumi/pulumi";
import { DashboardSite } from "../components/services/dashboard-site";
import type { DashboardAuth } from "../components/services/dashboard-site-rules";
import { StageConfig } from "../config";
import { buildDashboard } from "../scripts/dashboard-build";
import { PlatformContext } from "./context";

export interface DashboardInputs {
  /** Host name of the client API's HTTP API (services-infra), for the `/api/*` behaviour. */
  readonly apiDomainName?: pulumi.Input<string>;
}

/** The sign-in the page performs: the client API's JWT issuer, its first audience as the OAuth client. */
export function dashboardAuth(config: StageConfig): DashboardAuth | undefined {
  if (!(config.servicesEnabled && config.clientApiAuth === "JWT")) return undefined;
  return {
    issuer: config.clientApiJwtIssuer,
    clientId: config.clientApiJwtAudience[0],
    scopes: [...config.dashboardScopes],
    authorizeUrl: config.dashboardAuthorizeUrl,
    tokenUrl: config.dashboardTokenUrl,
  };
}

/** The site and its outputs, or nothing when dashboardEnabled is false. */
export async function defineDashboardSite(context: PlatformContext, inputs: DashboardInputs = {}): Promise<Record<string, unknown>> {
  const { config } = context;
  if (!config.dashboardEnabled) return {};
  const site = new DashboardSite(`${context.prefix}-dashboard`, {
    build: await buildDashboard(),
    apiDomainName: inputs.apiDomainName,
    priceClass: config.dashboardPriceClass,
    domainName: config.dashboardDomainName === "" ? undefined : config.dashboardDomainName,
    certificateArn: config.dashboardCertificateArn === "" ? undefined : config.dashboardCertificateArn,
    webAclArn: config.dashboardWebAclArn === "" ? undefined : config.dashboardWebAclArn,
    logRetentionDays: config.dashboardLogRetentionDays,
    auth: dashboardAuth(config),
    keyDeletionWindowInDays: config.deletionProtection ? 30 : 7,
    protect: config.protectStatefulResources,
    forceDestroy: !config.protectStatefulResources,
  }, context.componentOpts);
  return { dashboardUrl: site.url, dashboardDistributionId: site.distribution.id, dashboardBucketName: site.bucket.name };
}
