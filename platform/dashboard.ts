/**
 * The dashboard site's wiring (issue 11): the build's files and the stage's dashboard keys into
 * DashboardSite. Only the primary composition calls it: CloudFront is global, and the DR stack
 * declares no second distribution (see the report / README for why).
 */
import * as pulumi from "@pulumi/pulumi";
import { DashboardSite } from "../components/services/dashboard-site";
import { buildDashboard } from "../scripts/dashboard-build";
import { PlatformContext } from "./context";

export interface DashboardInputs {
  /** Host name of the client API's HTTP API (services-infra), for the `/api/*` behaviour. */
  readonly apiDomainName?: pulumi.Input<string>;
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
    keyDeletionWindowInDays: config.deletionProtection ? 30 : 7,
    protect: config.protectStatefulResources,
    forceDestroy: !config.protectStatefulResources,
  }, context.componentOpts);
  return { dashboardUrl: site.url, dashboardDistributionId: site.distribution.id, dashboardBucketName: site.bucket.name };
}
