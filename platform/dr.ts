/**
 * The DR composition: the standby of a stage in drRegion, deployable while the primary
 * region is down. It reads the primary stack's handoff from the Pulumi backend, never
 * from the primary region, and builds on it: the replica keys, the Aurora secondary
 * that joins the global cluster, the speed-layer table's replica, the lake buckets the
 * primary replicates into, a standby pipeline whose consumers and lake triggers stay off
 * until promotion, a cold cache in front of the secondary, and a warehouse shell that
 * dr:promote restores into (adopted here once warehouseRestoreSnapshot names it).
 */
import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import { StageConfig } from "../config";
import { stagePrefix } from "../components/lib/naming";
import { WarehouseClusterSource } from "../components/stores/analytics-warehouse";
import { defineBackups } from "./backups";
import { defineBatch } from "./batch";
import { defineDataPath } from "./data-path";
import { journalBackup, linkStandby, readPrimaryHandoff } from "./dr-links";
import { defineFoundations, platformOutputs } from "./foundations";
import { regionProvider } from "./providers";
import { defineServices, withServiceReporting } from "./services";
import { defineStores } from "./stores";

/** A standby holds no warehouse until dr:promote restores one; then the stack adopts it. */
export function standbyWarehouse(config: Pick<StageConfig, "warehouseRestoreSnapshot">): WarehouseClusterSource {
  return config.warehouseRestoreSnapshot === "" ? { kind: "standby" } : { kind: "adopt-restored", snapshotIdentifier: config.warehouseRestoreSnapshot };
}

export async function defineDrStandby(config: StageConfig): Promise<Record<string, unknown>> {
  const prefix = stagePrefix(config);
  const { partnerName, primary } = await readPrimaryHandoff(config, prefix);
  const homeProvider = regionProvider(`${prefix}-dr`, config, config.drRegion);
  const identity = aws.getCallerIdentityOutput({}, { provider: homeProvider });

  const context = defineFoundations({
    config,
    prefix,
    region: config.drRegion,
    homeProvider,
    keys: { dataKeyArn: pulumi.output(primary.keys.dataKeyReplicaArn), logsKeyArn: pulumi.output(primary.keys.logsKeyReplicaArn) },
  });
  const dataPath = defineDataPath(context, {
    // The global table's replica in this region: the primary stack owns it, this stack writes to it once promoted.
    existingSpeedLayerTable: {
      name: primary.speedLayerTableName,
      arn: pulumi.interpolate`arn:aws:dynamodb:${config.drRegion}:${identity.accountId}:table/${primary.speedLayerTableName}`,
    },
  });
  const ownStores = defineStores(context, dataPath, {
    replicatedCredentials: { secretArn: primary.aurora.credentialsSecretReplicaArn, databaseName: primary.aurora.databaseName },
    warehouseCluster: standbyWarehouse(config),
  });
  // The standby declares the services too, so it can serve once promoted; its aggregator runs no task while passive.
  const services = config.servicesEnabled ? defineServices(context, dataPath, ownStores) : undefined;
  const stores = withServiceReporting(ownStores, services);
  const batch = config.batchEnabled ? defineBatch(context, dataPath, stores) : undefined;

  const links = linkStandby(context, dataPath, stores, partnerName, primary);
  return {
    ...platformOutputs(context, dataPath, stores),
    ...services?.outputs,
    ...batch?.outputs,
    ...defineBackups(context, dataPath, stores, journalBackup(links)).outputs,
    ...links.outputs,
  };
}
