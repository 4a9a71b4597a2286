/**
 * The primary composition: the whole platform in primaryRegion and, with DR, its
 * replication into drRegion (platform/dr-links.ts). Every stage difference arrives
 * through StageConfig; nothing here looks at the stack name.
 */
import { StageConfig } from "../config";
import { PlatformKeys } from "../components/foundation/keys";
import { stagePrefix } from "../components/lib/naming";
import { defineBackups } from "./backups";
import { defineBatch } from "./batch";
import { defineDashboardSite } from "./dashboard";
import { defineDataPath } from "./data-path";
import { journalBackup, linkPrimary, preparePrimaryDr } from "./dr-links";
import { defineFoundations, platformOutputs } from "./foundations";
import { regionProvider } from "./providers";
import { defineServices, hostOfUrl, withServiceReporting } from "./services";
import { defineStores } from "./stores";

export async function definePrimary(config: StageConfig): Promise<Record<string, unknown>> {
  const prefix = stagePrefix(config);
  const homeProvider = regionProvider(`${prefix}-primary`, config, config.primaryRegion);
  const keys = new PlatformKeys(`${prefix}-keys`, {
    multiRegion: config.kmsMultiRegion,
    deletionWindowInDays: config.deletionProtection ? 30 : 7,
    protect: config.protectStatefulResources,
  }, { providers: [homeProvider] });
  // The key replicas come first: the table's and the secret's replicas are encrypted with them.
  const dr = config.drEnabled ? await preparePrimaryDr(config, prefix, keys) : undefined;

  const context = defineFoundations({
    config,
    prefix,
    region: config.primaryRegion,
    homeProvider,
    keys,
    budget: { monthlyUsd: config.monthlyBudgetUsd, tag: ["Stage", config.stage] },
  });
  const drReplica = dr && [{ region: config.drRegion, kmsKeyArn: dr.keyReplicas.arns.data }];
  const dataPath = defineDataPath(context, { speedLayerReplicas: drReplica });
  const ownStores = defineStores(context, dataPath, { credentialsReplicas: drReplica });
  const services = config.servicesEnabled ? defineServices(context, dataPath, ownStores) : undefined;
  const stores = withServiceReporting(ownStores, services);
  const batch = config.batchEnabled ? defineBatch(context, dataPath, stores) : undefined;

  const links = dr && linkPrimary(context, dataPath, stores, dr);
  return {
    ...platformOutputs(context, dataPath, stores),
    ...services?.outputs,
    ...batch?.outputs,
    ...defineBackups(context, dataPath, stores, journalBackup(links)).outputs,
    ...links?.outputs,
    // The dashboard calls its own origin: CloudFront's `/api/*` behaviour forwards to the client API's HTTP API.
    ...(await defineDashboardSite(context, { apiDomainName: services?.clientApi.apiEndpoint.apply(hostOfUrl) })),
  };
}
