/**
 * Builds a stack's `drTopology` output (dr/topology.ts) from the resources it declared,
 * so that dr:promote acts on exactly what the stacks hold.
 */
import * as pulumi from "@pulumi/pulumi";
import { activeRegionOf, partnerRegion } from "../config";
import { DrControl } from "../components/dr/dr-control";
import { DrReplication } from "../components/dr/dr-replication";
import { WarehouseRestoreSettings } from "../components/stores/analytics-warehouse";
import { resolvedObject } from "../components/lib/outputs";
import { StackTopology, WarehouseRestoreTopology } from "../dr/topology";
import { PlatformContext } from "./context";
import { DataPath } from "./data-path";
import { Stores } from "./stores";

export interface TopologyParts {
  readonly dataPath: DataPath;
  readonly stores: Stores;
  readonly replication: DrReplication;
  readonly control: DrControl;
  readonly partnerName: string;
}

/** The restore settings in the names RestoreFromClusterSnapshot takes. */
function restoreTopology(settings: WarehouseRestoreSettings): pulumi.Output<WarehouseRestoreTopology> {
  return resolvedObject<WarehouseRestoreTopology>({
    ClusterIdentifier: settings.clusterIdentifier,
    NodeType: settings.nodeType,
    NumberOfNodes: settings.numberOfNodes,
    MultiAZ: settings.multiAz,
    ClusterSubnetGroupName: settings.clusterSubnetGroupName,
    ClusterParameterGroupName: settings.clusterParameterGroupName,
    VpcSecurityGroupIds: pulumi.output(settings.vpcSecurityGroupIds) as pulumi.Output<string[]>,
    KmsKeyId: settings.kmsKeyId,
    IamRoles: settings.iamRoles,
    DefaultIamRoleArn: settings.defaultIamRoleArn,
    Port: settings.port,
    EnhancedVpcRouting: settings.enhancedVpcRouting,
    PubliclyAccessible: settings.publiclyAccessible,
    ManageMasterPassword: settings.manageMasterPassword,
    MasterPasswordSecretKmsKeyId: settings.masterPasswordSecretKmsKeyId,
    AutomatedSnapshotRetentionPeriod: settings.automatedSnapshotRetentionPeriod,
    PreferredMaintenanceWindow: settings.preferredMaintenanceWindow,
  });
}

export function stackTopology(context: PlatformContext, parts: TopologyParts): pulumi.Output<StackTopology> {
  const { config } = context;
  const { dataPath, stores, replication, control } = parts;
  const { ingestion, lake } = dataPath;
  const { oltp, warehouse } = stores;
  const otherRegion = partnerRegion(config);
  const consumer = (name: string, fn: typeof ingestion.streamConsumer, mapping: typeof ingestion.streamMapping) =>
    ({ name, functionName: fn.function.name, eventSourceMappingUuid: mapping.uuid, enabled: mapping.enabled.apply((enabled) => enabled ?? true) });

  return resolvedObject<StackTopology>({
    version: 1,
    stack: `${pulumi.getOrganization()}/${pulumi.getProject()}/${pulumi.getStack()}`,
    partnerStack: parts.partnerName,
    stage: config.stage,
    role: config.stackRole,
    region: context.region,
    partnerRegion: otherRegion,
    activeRegion: activeRegionOf(config),
    aurora: {
      globalClusterIdentifier: oltp.globalClusterIdentifier as pulumi.Output<string>,
      clusterIdentifier: oltp.clusterIdentifier,
      clusterArn: oltp.clusterArn,
      engineVersion: config.auroraEngineVersion,
      instanceIdentifiers: oltp.instanceIdentifiers,
    },
    consumers: [
      consumer("stream-consumer", ingestion.streamConsumer, ingestion.streamMapping),
      consumer("queue-consumer", ingestion.queueConsumer, ingestion.queueMapping),
    ],
    lakeTriggers: lake.triggers,
    endpointParameters: control.endpointParameters,
    lakeReplication: replication.rules.map((rule) => ({ ...rule, destinationRegion: otherRegion })),
    speedLayerTable: { name: dataPath.speedLayerTableName, replicaRegions: [otherRegion] },
    warehouse: {
      mode: warehouse.mode,
      clusterIdentifier: warehouse.clusterIdentifier ?? pulumi.output(""),
      snapshotCopyRegion: replication.snapshotSchedule ? otherRegion : "",
      restoreClusterIdentifier: `${context.prefix}-warehouse`,
      restoreOnPromotion: config.drWarehouseRestore,
      snapshotCopyGrantName: replication.copyGrantName ?? pulumi.output(""),
      ...(warehouse.restoreSettings ? { restoreSettings: restoreTopology(warehouse.restoreSettings) } : {}),
    },
    promotionJournalTable: control.journalTable.name,
    reportingApiUrl: stores.reporting.healthUrl ?? pulumi.output(""),
    targets: { rpoStreamSeconds: config.drRpoStreamSeconds, rpoBatchMinutes: config.drRpoBatchMinutes, rtoMinutes: config.drRtoMinutes },
  });
}
