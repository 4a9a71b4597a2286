/**
 * The stateful stores: OltpDatabase (Aurora PostgreSQL), AnalyticsWarehouse (Redshift)
 * and CacheLayer (ElastiCache Redis with the reporting read API). Every stage
 * difference arrives through config keys, mapped here to explicit component args.
 */
import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import { StageConfig } from "../config";
import { AnalyticsWarehouse, AnalyticsWarehouseArgs, StagedBucketRef, WarehouseClusterSource } from "../components/stores/analytics-warehouse";
import { CacheLayer, CacheLayerArgs, ReportingDatabase } from "../components/stores/cache-layer";
import { OltpDatabase, OltpDatabaseArgs } from "../components/stores/oltp-database";
import { StorePlacementArgs } from "../components/lib/store-placement";
import { syncClusterParameters, syncNeedsCaseSensitiveWarehouse } from "../components/batch/warehouse-sync-settings";
import { MANIFEST_PREFIX } from "../functions/lake-layout";
import { STAGED_COLUMNS } from "../functions/lake-staging";
import { LoadTarget } from "../functions/warehouse-loader";
import { BATCH_MANIFEST_PREFIX } from "../components/batch/batch-settings";
import { DataPath } from "./data-path";
import { PlatformContext } from "./context";

export interface Stores {
  readonly oltp: OltpDatabase;
  readonly warehouse: AnalyticsWarehouse;
  readonly cache: CacheLayer;
  /** The reporting endpoint with the credentials and database name this stack's readers use (the replica's on a DR secondary). */
  readonly reportingDatabase: ReportingDatabase;
  /** Where report readers call, and the health route dr:promote verifies a promoted region with. */
  readonly reporting: ReportingEndpoints;
  readonly outputs: Record<string, unknown>;
}

/**
 * The reporting read path's URLs. The client API service (issue 11) serves the reports when
 * servicesEnabled; the Lambda reporting API stays only for stages without the services
 * (no Docker where `pulumi up` runs), so a stage never runs two reporting APIs.
 */
export interface ReportingEndpoints {
  readonly apiUrl?: pulumi.Output<string>;
  readonly healthUrl?: pulumi.Output<string>;
}

/** What the stores need from the platform foundations, as plain outputs (tests pass stand-ins). */
export interface StoreFoundations {
  readonly config: StageConfig;
  readonly prefix: string;
  readonly dataKeyArn: pulumi.Input<string>;
  readonly logsKeyArn: pulumi.Input<string>;
  readonly isolatedSubnetIds: pulumi.Input<string[]>;
  readonly privateSubnetIds: pulumi.Input<string[]>;
  readonly securityGroupIds: { readonly lambda: pulumi.Input<string>; readonly database: pulumi.Input<string>; readonly cache: pulumi.Input<string>; readonly warehouse: pulumi.Input<string> };
  /** The VPC's AZ names in subnet order, for spreading Aurora instances. */
  readonly availabilityZones?: pulumi.Input<string[]>;
  readonly alarmTopicArn?: pulumi.Input<string>;
}

/**
 * Staged load units the warehouse loader upserts: the lake's Staging function writes
 * COPY-ready CSV (header row, STAGED_COLUMNS order) and then a manifest naming the
 * unit's files, so a manifest's arrival means the unit is complete.
 */
export const WAREHOUSE_LOAD_TARGETS: LoadTarget[] = [
  stagedEventsTarget(MANIFEST_PREFIX, "event"),
  // The batch pipeline's curated units (components/batch): same table and format, loaded
  // when the pipeline invokes the loader, never by the bucket's events.
  stagedEventsTarget(BATCH_MANIFEST_PREFIX, "workflow"),
];

/** Manifests of STAGED_COLUMNS CSV under `prefix`, upserted into lake.events by event id (the latest occurrence wins). */
function stagedEventsTarget(prefix: string, trigger: LoadTarget["trigger"]): LoadTarget {
  return {
    prefix,
    schema: "lake",
    table: "events",
    columns: [...STAGED_COLUMNS],
    keyColumns: ["event_id"],
    orderColumn: "occurred_at",
    format: "CSV",
    manifest: true,
    ...(trigger === "workflow" ? { trigger } : {}),
  };
}

export function storeFoundations(context: PlatformContext): StoreFoundations {
  const { config, keys, network } = context;
  // awsx places its subnets in the region's first azCount AZs, in this order.
  const zones = aws.getAvailabilityZonesOutput({}, { provider: context.homeProvider });
  return {
    config,
    prefix: context.prefix,
    dataKeyArn: keys.dataKeyArn,
    logsKeyArn: keys.logsKeyArn,
    isolatedSubnetIds: network.isolatedSubnetIds,
    privateSubnetIds: network.privateSubnetIds,
    securityGroupIds: {
      lambda: network.securityGroups.lambda.id,
      database: network.securityGroups.database.id,
      cache: network.securityGroups.cache.id,
      warehouse: network.securityGroups.warehouse.id,
    },
    availabilityZones: zones.names.apply((names) => names.slice(0, config.azCount)),
    alarmTopicArn: context.alarmTopicArn,
  };
}

/** Where a store runs and which keys and log retention it uses: the same shape for all three. */
function placement(f: StoreFoundations, subnetIds: pulumi.Input<string[]>, securityGroupId: pulumi.Input<string>): StorePlacementArgs {
  return {
    subnetIds,
    securityGroupIds: [securityGroupId],
    kmsKeyArn: f.dataKeyArn,
    logsKeyArn: f.logsKeyArn,
    logRetentionDays: f.config.logRetentionDays,
  };
}

/** How the stores take part in DR; every field defaults to "not at all". */
export interface StoreReplication {
  /** Replicas of the generated master credentials (a primary with DR). @default [] */
  readonly credentialsReplicas?: OltpDatabaseArgs["credentialsReplicas"];
  /** What the reporting API reads instead of the cluster's own secret and database name (a DR secondary has neither). @default the cluster's */
  readonly replicatedCredentials?: { readonly secretArn: pulumi.Input<string>; readonly databaseName: pulumi.Input<string> };
  /** @default { kind: "create" } */
  readonly warehouseCluster?: WarehouseClusterSource;
}

/** The global cluster both regions' members join: its identifier is known in advance, so the DR stack needs nothing from the primary region to join it. */
export function globalClusterIdentifier(prefix: string): string {
  return `${prefix}-oltp-global`;
}

export function oltpDatabaseArgs(f: StoreFoundations, replication: StoreReplication = {}): OltpDatabaseArgs {
  const c = f.config;
  const secondary = c.stackRole === "dr";
  return {
    ...placement(f, f.isolatedSubnetIds, f.securityGroupIds.database),
    availabilityZoneCount: c.azCount,
    availabilityZones: f.availabilityZones,
    engineVersion: c.auroraEngineVersion,
    instanceClass: c.auroraServerless ? "db.serverless" : c.auroraInstanceClass,
    reportingInstanceClass: c.auroraServerless ? "db.serverless" : c.reportingInstanceClass,
    readerCount: c.auroraReaderCount,
    serverless: c.auroraServerless ? { minAcu: c.auroraServerlessMinAcu, maxAcu: c.auroraServerlessMaxAcu } : undefined,
    // With DR the cluster is the primary of a Global Database the DR stack's secondary joins by this identifier.
    globalDatabase: c.drEnabled ? { role: secondary ? "secondary" : "primary", globalClusterIdentifier: globalClusterIdentifier(f.prefix) } : undefined,
    credentialsReplicas: replication.credentialsReplicas,
    backupRetentionDays: c.backupRetentionDays,
    preferredBackupWindow: c.preferredBackupWindow,
    preferredMaintenanceWindow: c.preferredMaintenanceWindow,
    skipFinalSnapshot: c.skipFinalSnapshot,
    deletionProtection: c.deletionProtection,
    protect: c.protectStatefulResources,
    performanceInsightsEnabled: c.performanceInsightsEnabled,
    performanceInsightsRetentionDays: c.performanceInsightsRetentionDays,
    // The logical replication the OLTP -> warehouse sync reads (components/batch/warehouse-sync-settings.ts).
    extraClusterParameters: syncClusterParameters(c.warehouseSync),
    alarmTopicArn: f.alarmTopicArn,
    alarmThresholds: { globalRpoLagMs: c.drRpoStreamSeconds * 1000 },
  };
}

export function analyticsWarehouseArgs(f: StoreFoundations, stagedBucket: StagedBucketRef, cluster?: WarehouseClusterSource): AnalyticsWarehouseArgs {
  const c = f.config;
  return {
    ...placement(f, f.isolatedSubnetIds, f.securityGroupIds.warehouse),
    mode: c.redshiftMode,
    availabilityZoneCount: c.azCount,
    nodeType: c.redshiftNodeType,
    nodeCount: c.redshiftNodeCount,
    multiAz: c.redshiftMultiAz,
    baseRpu: c.redshiftServerlessBaseRpu,
    snapshotRetentionDays: c.redshiftSnapshotRetentionDays,
    skipFinalSnapshot: c.skipFinalSnapshot,
    preferredMaintenanceWindow: c.preferredMaintenanceWindow,
    protect: c.protectStatefulResources,
    // A zero-ETL integration's target must compare identifiers case-sensitively.
    caseSensitiveIdentifiers: syncNeedsCaseSensitiveWarehouse(c.warehouseSync),
    cluster,
    stagedBucket,
    loader: { targets: WAREHOUSE_LOAD_TARGETS, tracing: c.tracingEnabled },
    alarmTopicArn: f.alarmTopicArn,
  };
}

export function cacheLayerArgs(f: StoreFoundations, reportingDatabase: ReportingDatabase): CacheLayerArgs {
  const c = f.config;
  return {
    ...placement(f, f.privateSubnetIds, f.securityGroupIds.cache),
    nodeType: c.cacheNodeType,
    nodeCount: c.cacheNodeCount,
    multiAz: c.cacheMultiAz,
    automaticFailover: c.cacheNodeCount >= 2,
    snapshotRetentionDays: c.cacheSnapshotRetentionDays,
    snapshotWindow: c.preferredBackupWindow,
    maintenanceWindow: c.preferredMaintenanceWindow,
    engineVersion: c.cacheEngineVersion,
    protect: c.protectStatefulResources,
    // The client API service takes over the reports when the services run (platform/services.ts).
    reportingApi: c.servicesEnabled ? undefined : {
      database: reportingDatabase,
      subnetIds: f.privateSubnetIds,
      securityGroupIds: [f.securityGroupIds.lambda],
      tracing: c.tracingEnabled,
    },
    alarmTopicArn: f.alarmTopicArn,
  };
}

/**
 * The reporting API reads Aurora's reporting endpoint with the cluster's credentials
 * secret, or (on a DR secondary, which has neither secret nor database name of its own)
 * with the replica of the primary's secret and the primary's database name.
 */
export function reportingDatabaseOf(oltp: OltpDatabase, replicated?: { secretArn: pulumi.Input<string>; databaseName: pulumi.Input<string> }): ReportingDatabase {
  const secretArn = replicated?.secretArn ?? oltp.credentialsSecretArn;
  if (secretArn === undefined) throw new Error("The reporting API needs a database credentials secret: a global secondary reads the replica of the primary's");
  return {
    host: oltp.reportingEndpoint,
    port: oltp.port,
    name: replicated?.databaseName ?? oltp.databaseName.apply((name) => name ?? ""),
    secretArn,
  };
}

export function defineStores(context: PlatformContext, dataPath: DataPath, replication: StoreReplication = {}): Stores {
  const foundations = storeFoundations(context);
  const oltp = new OltpDatabase(`${context.prefix}-oltp`, oltpDatabaseArgs(foundations, replication), context.componentOpts);
  const warehouse = new AnalyticsWarehouse(`${context.prefix}-warehouse`, analyticsWarehouseArgs(foundations, dataPath.stagedBucket, replication.warehouseCluster), context.componentOpts);
  const reportingDatabase = reportingDatabaseOf(oltp, replication.replicatedCredentials);
  const cache = new CacheLayer(`${context.prefix}-cache`, cacheLayerArgs(foundations, reportingDatabase), context.componentOpts);

  return {
    oltp,
    warehouse,
    cache,
    reportingDatabase,
    outputs: {
      oltpClusterIdentifier: oltp.clusterIdentifier,
      oltpEndpoint: oltp.endpoint,
      oltpReaderEndpoint: oltp.readerEndpoint,
      oltpReportingEndpoint: oltp.reportingEndpoint,
      ...(oltp.credentialsSecretArn ? { oltpCredentialsSecretArn: oltp.credentialsSecretArn } : {}),
      ...(oltp.globalClusterIdentifier ? { oltpGlobalClusterIdentifier: oltp.globalClusterIdentifier } : {}),
      warehouseMode: warehouse.mode,
      // A DR standby has no warehouse until dr:promote restores one.
      ...(warehouse.restoreSettings === undefined
        ? {
            warehouseIdentifier: warehouse.identifier,
            warehouseEndpoint: warehouse.endpoint,
            warehouseAdminSecretArn: warehouse.adminSecretArn,
            warehouseCopyRoleArn: warehouse.copyRoleArn,
            warehouseLoaderFunctionName: warehouse.loaderFunctionName,
            warehouseLoaderRoleName: warehouse.loaderRoleName,
            warehouseLoaderDeadLetterQueueUrl: warehouse.loaderDeadLetterQueueUrl,
          }
        : { warehouseCopyRoleArn: warehouse.copyRoleArn }),
      cachePrimaryEndpoint: cache.primaryEndpoint,
      cacheReaderEndpoint: cache.readerEndpoint,
      cacheAuthTokenSecretArn: cache.authTokenSecretArn,
      ...(cache.reportingApiUrl ? { reportingApiUrl: cache.reportingApiUrl } : {}),
    },
    reporting: { apiUrl: cache.reportingApiUrl, healthUrl: cache.reportingHealthUrl },
  };
}
