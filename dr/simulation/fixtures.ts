/**
 * A realistic pair of stacks for the tests and the offline demo: prod in eu-west-1
 * (primary, active) and prod-dr in eu-central-1 (its standby), with the names, ARNs and
 * values the stacks would export as drTopology, and their stage config as raw
 * `data-platform:*` maps (validated like a stack file).
 */
import { CONFIG_NAMESPACE, StageConfig, validateStageConfig } from "../../config";
import { StackTopology } from "../topology";

export const FIXTURE_ACCOUNT = "123456789012";
export const FIXTURE_ORGANIZATION = "acme";
export const PRIMARY_REGION = "eu-west-1";
export const DR_REGION = "eu-central-1";

const arn = (service: string, region: string, resource: string) => `arn:aws:${service}:${region}:${FIXTURE_ACCOUNT}:${resource}`;
const stackName = (stack: string) => `${FIXTURE_ORGANIZATION}/data-platform/${stack}`;

/** The raw config of the fixture stacks, as Pulumi passes it (namespace:key → string). */
export function fixtureRawConfig(stack: "prod" | "prod-dr", overrides: Record<string, string> = {}): Record<string, string> {
  const values: Record<string, string> = {
    stage: "prod",
    owner: "data-platform-team",
    costCentre: "cc-1234",
    primaryRegion: PRIMARY_REGION,
    drEnabled: "true",
    drRegion: DR_REGION,
    kmsMultiRegion: "true",
    lakeVersioning: "true",
    auroraInstanceClass: "db.r6g.xlarge",
    redshiftMode: "provisioned",
    kinesisRetentionHours: "168",
    // A protected stage pins its providers to its account.
    accountId: FIXTURE_ACCOUNT,
    ...(stack === "prod-dr" ? { stackRole: "dr", drWarehouseRestore: "true" } : {}),
    ...overrides,
  };
  return Object.fromEntries(Object.entries(values).map(([key, value]) => [`${CONFIG_NAMESPACE}:${key}`, value]));
}

export function fixtureConfig(stack: "prod" | "prod-dr", overrides: Record<string, string> = {}): StageConfig {
  return validateStageConfig(fixtureRawConfig(stack, overrides), `Pulumi.${stack}.yaml`);
}

/** The stack file text of a fixture stack, with comments, for --write-config demos and tests. */
export function fixtureStackFile(stack: "prod" | "prod-dr"): string {
  const raw = fixtureRawConfig(stack);
  return [
    `# ${stack}: fixture stack of the dr:promote simulation (${stack === "prod" ? "primary in eu-west-1" : "DR standby in eu-central-1"}).`,
    "config:",
    "  # Every AWS resource names its provider.",
    "  pulumi:disable-default-providers:",
    "    - aws",
    ...Object.entries(raw).map(([key, value]) => `  ${key}: ${/^[A-Za-z0-9._/-]+$/.test(value) && !/^\d/.test(value) ? value : JSON.stringify(value)}`),
    "",
  ].join("\n");
}

interface SideNames {
  readonly stack: "prod" | "prod-dr";
  readonly region: string;
  readonly partnerRegion: string;
  readonly role: "primary" | "dr";
  readonly prefix: string;
  readonly apiId: string;
}

const PROD: SideNames = { stack: "prod", region: PRIMARY_REGION, partnerRegion: DR_REGION, role: "primary", prefix: "dp-prod", apiId: "a1b2c3d4e5" };
const PROD_DR: SideNames = { stack: "prod-dr", region: DR_REGION, partnerRegion: PRIMARY_REGION, role: "dr", prefix: "dp-prod-dr", apiId: "f6g7h8i9j0" };

/** The endpoints producers read, as each region's stack would publish them when active. */
const endpointValues = (side: SideNames) => ({
  stream: arn("kinesis", side.region, `stream/${side.prefix}-ingest`),
  ingestApi: `https://${side.apiId}.execute-api.${side.region}.amazonaws.com`,
});

function topologyOf(side: SideNames, partner: SideNames): StackTopology {
  const active = side.role === "primary";
  const own = endpointValues(side);
  const activeValues = endpointValues(PROD);
  const bucket = (zone: string, of: SideNames) => `${of.prefix}-${zone}-${FIXTURE_ACCOUNT}`;
  const fn = (name: string) => arn("lambda", side.region, `function:${side.prefix}-${name}`);
  const clusterId = `${side.prefix}-oltp`;
  return {
    version: 1,
    stack: stackName(side.stack),
    partnerStack: stackName(partner.stack),
    stage: "prod",
    role: side.role,
    region: side.region,
    partnerRegion: side.partnerRegion,
    activeRegion: PRIMARY_REGION,
    aurora: {
      globalClusterIdentifier: "dp-prod-oltp-global",
      clusterIdentifier: clusterId,
      clusterArn: arn("rds", side.region, `cluster:${clusterId}`),
      engineVersion: "16.6",
      instanceIdentifiers: active ? [`${clusterId}-writer`, `${clusterId}-reader-1`, `${clusterId}-reporting`] : [`${clusterId}-1`, `${clusterId}-reporting`],
    },
    consumers: [
      { name: "stream-consumer", functionName: `${side.prefix}-stream-consumer`, eventSourceMappingUuid: active ? "0b6b8e0e-5c7e-4f3a-9d1e-1a2b3c4d5e01" : "7d1f2a3b-4c5d-4e6f-8a9b-0c1d2e3f4a02", enabled: active },
      { name: "queue-consumer", functionName: `${side.prefix}-queue-writer`, eventSourceMappingUuid: active ? "0b6b8e0e-5c7e-4f3a-9d1e-1a2b3c4d5e03" : "7d1f2a3b-4c5d-4e6f-8a9b-0c1d2e3f4a04", enabled: active },
    ],
    lakeTriggers: [
      { bucket: bucket("raw", side), lambdaFunctions: [{ functionArn: fn("transformation"), events: ["s3:ObjectCreated:*"], filterPrefix: "year=" }], topics: [], eventBridge: false },
      { bucket: bucket("transformed", side), lambdaFunctions: [{ functionArn: fn("staging"), events: ["s3:ObjectCreated:*"], filterSuffix: ".json" }], topics: [], eventBridge: false },
      { bucket: bucket("staged", side), lambdaFunctions: [], topics: [{ topicArn: arn("sns", side.region, `${side.prefix}-staged-loads`), events: ["s3:ObjectCreated:*"], filterSuffix: ".manifest.json" }], eventBridge: true },
    ],
    endpointParameters: [
      { name: "/dp/prod/endpoints/ingest-stream", valueWhenActive: own.stream, declaredValue: activeValues.stream },
      { name: "/dp/prod/endpoints/ingest-api", valueWhenActive: own.ingestApi, declaredValue: activeValues.ingestApi },
    ],
    lakeReplication: ["raw", "transformed", "staged"].map((zone) => ({
      zone,
      sourceBucket: bucket(zone, side),
      destinationBucket: bucket(zone, partner),
      destinationRegion: partner.region,
      ruleId: `${zone}-to-${partner.region}`,
      enabled: active,
    })),
    speedLayerTable: { name: "dp-prod-speed-layer", replicaRegions: [partner.region] },
    warehouse: active
      ? { mode: "provisioned", clusterIdentifier: "dp-prod-warehouse", snapshotCopyRegion: DR_REGION, restoreClusterIdentifier: "dp-prod-warehouse", restoreOnPromotion: false, snapshotCopyGrantName: "" }
      : {
          mode: "provisioned",
          clusterIdentifier: "",
          snapshotCopyRegion: "",
          restoreClusterIdentifier: "dp-prod-warehouse",
          restoreOnPromotion: true,
          snapshotCopyGrantName: "dp-prod-dr-snapshot-copy",
          restoreSettings: {
            ClusterIdentifier: "dp-prod-warehouse",
            NodeType: "ra3.xlplus",
            NumberOfNodes: 2,
            MultiAZ: true,
            ClusterSubnetGroupName: "dp-prod-warehouse-subnets-3f2a1b",
            ClusterParameterGroupName: "dp-prod-warehouse-params-7c9d0e",
            VpcSecurityGroupIds: ["sg-0d4c3b2a19f8e7d6c"],
            KmsKeyId: arn("kms", side.region, "key/mrk-4e1f0c2b9a8d4e7f8a6b5c4d3e2f1a0b"),
            IamRoles: [`arn:aws:iam::${FIXTURE_ACCOUNT}:role/dp-prod-warehouse-copy-role-5e6f7a`],
            DefaultIamRoleArn: `arn:aws:iam::${FIXTURE_ACCOUNT}:role/dp-prod-warehouse-copy-role-5e6f7a`,
            Port: 5439,
            EnhancedVpcRouting: true,
            PubliclyAccessible: false,
            ManageMasterPassword: true,
            MasterPasswordSecretKmsKeyId: arn("kms", side.region, "key/mrk-4e1f0c2b9a8d4e7f8a6b5c4d3e2f1a0b"),
            AutomatedSnapshotRetentionPeriod: 14,
            PreferredMaintenanceWindow: "sun:04:30-sun:05:30",
          },
        },
    promotionJournalTable: `${side.prefix}-promotion-journal`,
    reportingApiUrl: `https://${side.apiId}.execute-api.${side.region}.amazonaws.com/reports/health`,
    targets: { rpoStreamSeconds: 60, rpoBatchMinutes: 60, rtoMinutes: 120 },
  };
}

export function fixtureTopologies(): { prod: StackTopology; "prod-dr": StackTopology } {
  return { prod: topologyOf(PROD, PROD_DR), "prod-dr": topologyOf(PROD_DR, PROD) };
}
