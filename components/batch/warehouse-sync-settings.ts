/**
 * Pure builders and facts of the OLTP -> warehouse sync (components/batch/warehouse-sync.ts):
 * the zero-ETL data filter, the Redshift resource policy that authorises the integration,
 * the DMS table mappings and task settings, the parameters each path needs on the stores,
 * and the engine versions and instance classes AWS accepts. No resources are declared here,
 * so config validation (config/validate.ts) and the component share one source.
 */

export type WarehouseSyncMode = "zero-etl" | "dms";

/** One entry of warehouseSyncTables: "schema.table", or "schema.*" for every table of the schema. */
export interface SyncTable {
  readonly schema: string;
  /** "*" for every table of the schema. */
  readonly table: string;
}

export interface ParameterSetting {
  readonly name: string;
  readonly value: string;
  readonly applyMethod: "pending-reboot";
}

const SYNC_TABLE = /^([a-z_][a-z0-9_]{0,62})\.([a-z_][a-z0-9_]{0,62}|\*)$/;

/** "sales.orders" -> { schema: "sales", table: "orders" }; throws on anything else. */
export function parseSyncTable(entry: string): SyncTable {
  const match = SYNC_TABLE.exec(entry);
  if (match === null) throw new Error(`"${entry}" is not a "schema.table" or "schema.*" of the OLTP database`);
  return { schema: match[1], table: match[2] };
}

// ---------------------------------------------------------------------------------------
// Zero-ETL (aws.rds.Integration)
// ---------------------------------------------------------------------------------------

/**
 * The DB cluster parameters an Aurora PostgreSQL zero-ETL source needs. All four are set
 * with "pending-reboot", as AWS's own setup example does; the writer must reboot before
 * the integration can be created.
 * https://docs.aws.amazon.com/AmazonRDS/latest/AuroraUserGuide/zero-etl.setting-up.html
 * Switching aurora.enhanced_logical_replication on or off invalidates every logical
 * replication slot on the writer (a DMS CDC task's included).
 */
export const ZERO_ETL_CLUSTER_PARAMETERS: readonly ParameterSetting[] = [
  { name: "rds.logical_replication", value: "1", applyMethod: "pending-reboot" },
  { name: "aurora.enhanced_logical_replication", value: "1", applyMethod: "pending-reboot" },
  { name: "aurora.logical_replication_backup", value: "0", applyMethod: "pending-reboot" },
  { name: "aurora.logical_replication_globaldb", value: "0", applyMethod: "pending-reboot" },
];

/**
 * DMS CDC from Aurora PostgreSQL needs logical replication on the DB cluster (a static
 * parameter: reboot). synchronous_commit stays at its default ON, as DMS asks.
 * https://docs.aws.amazon.com/dms/latest/userguide/CHAP_Source.PostgreSQL.html#CHAP_Source.PostgreSQL.RDSPostgreSQL.CDC
 */
export const DMS_CLUSTER_PARAMETERS: readonly ParameterSetting[] = [
  { name: "rds.logical_replication", value: "1", applyMethod: "pending-reboot" },
];

/** The Aurora cluster parameters the chosen sync needs (none without a sync). */
export function syncClusterParameters(mode: WarehouseSyncMode | "none"): ParameterSetting[] {
  if (mode === "zero-etl") return [...ZERO_ETL_CLUSTER_PARAMETERS];
  if (mode === "dms") return [...DMS_CLUSTER_PARAMETERS];
  return [];
}

/**
 * A zero-ETL target must treat identifiers case-sensitively: a provisioned cluster through
 * its parameter group (then a reboot), Serverless through the workgroup's config parameter.
 * https://docs.aws.amazon.com/AmazonRDS/latest/AuroraUserGuide/zero-etl.setting-up.html
 */
export const CASE_SENSITIVE_IDENTIFIER_PARAMETER = "enable_case_sensitive_identifier";

/** Whether the warehouse must be case-sensitive for this sync (zero-ETL only). */
export const syncNeedsCaseSensitiveWarehouse = (mode: WarehouseSyncMode | "none"): boolean => mode === "zero-etl";

/**
 * Aurora PostgreSQL versions zero-ETL into Redshift supports, as the lowest minor per major:
 * 16.4 and later 16.x, 17.4 and later 17.x; no 15 or earlier.
 * https://docs.aws.amazon.com/AmazonRDS/latest/AuroraUserGuide/Concepts.Aurora_Fea_Regions_DB-eng.Feature.Zero-ETL.html
 */
export const ZERO_ETL_MIN_MINOR_BY_MAJOR: Readonly<Record<number, number>> = { 16: 4, 17: 4 };

export function zeroEtlSupportsAuroraVersion(engineVersion: string): boolean {
  const match = /^(\d+)\.(\d+)/.exec(engineVersion);
  if (match === null) return false;
  const lowest = ZERO_ETL_MIN_MINOR_BY_MAJOR[Number(match[1])];
  return lowest !== undefined && Number(match[2]) >= lowest;
}

export const zeroEtlSupportedVersionsText = (): string =>
  Object.entries(ZERO_ETL_MIN_MINOR_BY_MAJOR).map(([major, minor]) => `${major}.${minor} or a later ${major}.x`).join(", ");

/**
 * A provisioned zero-ETL target is an encrypted RA3 cluster of at least two nodes
 * (Serverless is the other target). https://docs.aws.amazon.com/AmazonRDS/latest/AuroraUserGuide/zero-etl.setting-up.html
 */
export const ZERO_ETL_MIN_PROVISIONED_NODES = 2;

/** The data filter accepts at most 99 patterns of at most 256 characters each. */
export const ZERO_ETL_MAX_FILTER_PATTERNS = 99;
const ZERO_ETL_MAX_PATTERN_LENGTH = 256;

/**
 * The integration's data filter: one `include: database.schema.table` per entry ("*" for
 * a whole schema). A PostgreSQL source must have a filter naming at least one database;
 * once one is given everything else is excluded.
 * https://docs.aws.amazon.com/AmazonRDS/latest/AuroraUserGuide/zero-etl.filtering.html
 */
export function zeroEtlDataFilter(databaseName: string, tables: readonly string[]): string {
  if (tables.length === 0) throw new Error("a zero-ETL data filter needs at least one table (PostgreSQL sources must name a database)");
  if (tables.length > ZERO_ETL_MAX_FILTER_PATTERNS) throw new Error(`a zero-ETL data filter takes at most ${ZERO_ETL_MAX_FILTER_PATTERNS} patterns, got ${tables.length}`);
  return tables
    .map(parseSyncTable)
    .map(({ schema, table }) => {
      const pattern = `${databaseName}.${schema}.${table}`;
      if (pattern.length > ZERO_ETL_MAX_PATTERN_LENGTH) throw new Error(`the zero-ETL filter pattern "${pattern}" is longer than ${ZERO_ETL_MAX_PATTERN_LENGTH} characters`);
      return `include: ${pattern}`;
    })
    .join(", ");
}

/**
 * The Redshift resource policy on the target namespace: Redshift may authorise an inbound
 * integration from exactly this Aurora cluster, and principals of this account may create
 * inbound integrations into it. (The statements of AWS's put_resource_policy example.)
 * https://docs.aws.amazon.com/AmazonRDS/latest/AuroraUserGuide/zero-etl.setting-up.html
 */
export function zeroEtlResourcePolicy(namespaceArn: string, sourceClusterArn: string, accountId: string): object {
  return {
    Version: "2012-10-17",
    Statement: [
      {
        Sid: "AuthorizeInboundIntegrationFromSource",
        Effect: "Allow",
        Principal: { Service: "redshift.amazonaws.com" },
        Action: "redshift:AuthorizeInboundIntegration",
        Resource: namespaceArn,
        Condition: { StringEquals: { "aws:SourceArn": sourceClusterArn } },
      },
      {
        Sid: "CreateInboundIntegrationFromAccount",
        Effect: "Allow",
        Principal: { AWS: `arn:aws:iam::${accountId}:root` },
        Action: "redshift:CreateInboundIntegration",
        Resource: namespaceArn,
      },
    ],
  };
}

/** The key of the encryption context (the integration's additionalEncryptionContext) the zero-ETL key's grants are limited to. */
export const INTEGRATION_CONTEXT_KEY = "dataplatform:integration";

/**
 * The zero-ETL integration key's policy: the account administers it through IAM, and
 * Redshift may create grants only for this integration's encryption context and only for
 * the operations replication uses (Decrypt, GenerateDataKey, CreateGrant), as AWS's sample
 * key policy for integrations limits them.
 * https://docs.aws.amazon.com/AmazonRDS/latest/AuroraUserGuide/zero-etl.creating.html#zero-etl.create-encrypt
 */
export function zeroEtlKeyPolicy(accountId: string, integrationName: string): object {
  return {
    Version: "2012-10-17",
    Statement: [
      { Sid: "AccountAdministersKeyThroughIam", Effect: "Allow", Principal: { AWS: `arn:aws:iam::${accountId}:root` }, Action: "kms:*", Resource: "*" },
      {
        Sid: "RedshiftGrantsForThisIntegration",
        Effect: "Allow",
        Principal: { Service: "redshift.amazonaws.com" },
        Action: "kms:CreateGrant",
        Resource: "*",
        Condition: {
          StringEquals: { [`kms:EncryptionContext:${INTEGRATION_CONTEXT_KEY}`]: integrationName, "aws:SourceAccount": accountId },
          "ForAllValues:StringEquals": { "kms:GrantOperations": ["Decrypt", "GenerateDataKey", "CreateGrant"] },
        },
      },
    ],
  };
}

// ---------------------------------------------------------------------------------------
// AWS DMS
// ---------------------------------------------------------------------------------------

/**
 * Engine versions a new replication instance can still be created with, from the DMS
 * release notes: 3.5.4 (no new instances after 2027-01-31, end of life 2027-03-31) and
 * 3.6.1 (the announced next default; no end date yet). 3.5.3 and 3.6.0 reached end of life
 * in 2026, 3.5.2 and older before. Add a release here once its notes are read.
 * https://docs.aws.amazon.com/dms/latest/userguide/CHAP_ReleaseNotes.html
 */
export const DMS_ENGINE_VERSIONS = ["3.5.4", "3.6.1"] as const;

/**
 * Replication instance classes per family (availability still varies by Region).
 * https://docs.aws.amazon.com/dms/latest/userguide/CHAP_ReplicationInstance.Types.html
 */
export const DMS_INSTANCE_SIZES: Readonly<Record<string, readonly string[]>> = {
  t3: ["micro", "small", "medium", "large"],
  c5: ["large", "xlarge", "2xlarge", "4xlarge", "9xlarge", "12xlarge", "18xlarge", "24xlarge"],
  c6i: ["large", "xlarge", "2xlarge", "4xlarge", "8xlarge", "12xlarge", "16xlarge", "24xlarge", "32xlarge"],
  c7i: ["large", "xlarge"],
  r5: ["large", "xlarge", "2xlarge", "4xlarge", "8xlarge", "12xlarge", "16xlarge", "24xlarge"],
  r6i: ["large", "xlarge", "2xlarge", "4xlarge", "8xlarge", "12xlarge", "16xlarge", "24xlarge", "32xlarge"],
  r7i: ["large", "xlarge", "2xlarge", "4xlarge", "8xlarge", "12xlarge", "16xlarge", "24xlarge", "48xlarge"],
};

export function dmsInstanceClassProblem(instanceClass: string): string | undefined {
  const match = /^dms\.([a-z0-9]+)\.([a-z0-9]+)$/.exec(instanceClass);
  const sizes = match ? DMS_INSTANCE_SIZES[match[1]] : undefined;
  if (match === null || sizes === undefined) return `a class of the families ${Object.keys(DMS_INSTANCE_SIZES).map((f) => `dms.${f}`).join(", ")}`;
  if (!sizes.includes(match[2])) return `a size dms.${match[1]} comes in (${sizes.join(", ")})`;
  return undefined;
}

/**
 * Selection rules, one per entry ("*" becomes DMS's "%" wildcard). Rules are case-sensitive
 * and a task needs at least one.
 * https://docs.aws.amazon.com/dms/latest/userguide/CHAP_Tasks.CustomizingTasks.TableMapping.SelectionTransformation.Selections.html
 */
export function dmsTableMappings(tables: readonly string[]): string {
  if (tables.length === 0) throw new Error("a DMS task needs at least one selection rule");
  return JSON.stringify({
    rules: tables.map(parseSyncTable).map(({ schema, table }, index) => ({
      "rule-type": "selection",
      "rule-id": String(index + 1),
      "rule-name": `include-${schema}-${table === "*" ? "all" : table}`,
      "object-locator": { "schema-name": schema, "table-name": table === "*" ? "%" : table },
      "rule-action": "include",
    })),
  });
}

export type DmsLogSeverity = "LOGGER_SEVERITY_ERROR" | "LOGGER_SEVERITY_WARNING" | "LOGGER_SEVERITY_DEFAULT" | "LOGGER_SEVERITY_DEBUG";

/** The task's components that log to CloudWatch (DMS's own component ids). */
export const DMS_LOG_COMPONENTS = ["SOURCE_CAPTURE", "SOURCE_UNLOAD", "TARGET_APPLY", "TARGET_LOAD", "TASK_MANAGER"] as const;

/**
 * Task settings: CloudWatch logging on for the components above (DMS writes to the log
 * group dms-tasks-<replication instance id>, which it names itself), and batch apply for
 * CDC into Redshift, as DMS advises for that target.
 * https://docs.aws.amazon.com/dms/latest/userguide/CHAP_Tasks.CustomizingTasks.TaskSettings.Logging.html
 * https://docs.aws.amazon.com/dms/latest/userguide/CHAP_Target.Redshift.html
 */
export function dmsTaskSettings(severity: DmsLogSeverity = "LOGGER_SEVERITY_DEFAULT"): string {
  return JSON.stringify({
    TargetMetadata: { BatchApplyEnabled: true },
    Logging: {
      EnableLogging: true,
      LogComponents: DMS_LOG_COMPONENTS.map((Id) => ({ Id, Severity: severity })),
    },
  });
}

/** The log group DMS writes a replication instance's task logs to (fixed by DMS). */
export const dmsTaskLogGroupName = (replicationInstanceId: string): string => `dms-tasks-${replicationInstanceId}`;

/** Schemas DMS cannot replicate into a Redshift target: names beginning with "_". */
export function dmsRedshiftSchemaProblem(entry: string): string | undefined {
  const { schema } = parseSyncTable(entry);
  return schema.startsWith("_") ? `"${entry}": DMS cannot replicate schemas whose names begin with "_" into Redshift` : undefined;
}

/** The exact names AWS requires for DMS's account-level service roles, with their managed policies. */
export const DMS_ACCOUNT_ROLES = {
  "dms-vpc-role": "arn:aws:iam::aws:policy/service-role/AmazonDMSVPCManagementRole",
  "dms-cloudwatch-logs-role": "arn:aws:iam::aws:policy/service-role/AmazonDMSCloudWatchLogsRole",
} as const;
