/**
 * Turns the raw config map Pulumi gives the program into a typed StageConfig, or
 * refuses it with every problem at once. Nothing here declares resources, so a bad
 * stack file stops the program before anything reaches the engine.
 */
import * as pulumi from "@pulumi/pulumi";
import { fargateSizeProblem } from "../components/lib/fargate";
import { dailyWindowsOverlap } from "../components/lib/maintenance-windows";
import { MAX_ROUTE_TABLE_BYTES, ingestRouteTable } from "../functions/ingest-front";
import { accountOfArn, homeAccount } from "./accounts";
import { homeRegion } from "./regions";
import {
  DMS_ENGINE_VERSIONS,
  ZERO_ETL_MIN_PROVISIONED_NODES,
  dmsInstanceClassProblem,
  dmsRedshiftSchemaProblem,
  zeroEtlSupportedVersionsText,
  zeroEtlSupportsAuroraVersion,
} from "../components/batch/warehouse-sync-settings";
import { CONFIG_NAMESPACE, STAGE_CONFIG_SCHEMA, StageConfig, StageConfigKey } from "./schema";

export interface ConfigProblem {
  /** Fully qualified key, e.g. "data-platform:azCount". */
  readonly key: string;
  /** The value as written in the stack file, or undefined when missing. */
  readonly value: string | undefined;
  /** What would have been accepted. */
  readonly allowed: string;
}

/** A RunError, so `pulumi up` prints the message without a stack trace. */
export class StageConfigError extends pulumi.RunError {
  constructor(
    readonly stackFile: string,
    readonly problems: readonly ConfigProblem[],
  ) {
    super(formatProblems(stackFile, problems));
    this.name = "StageConfigError";
  }
}

export function formatProblems(stackFile: string, problems: readonly ConfigProblem[]): string {
  const lines = problems.map(
    (p) => `  - ${p.key} = ${p.value === undefined ? "(missing)" : JSON.stringify(p.value)}: allowed ${p.allowed}`,
  );
  const noun = problems.length === 1 ? "problem" : "problems";
  return [`Invalid stage config in ${stackFile} (${problems.length} ${noun}):`, ...lines].join("\n");
}

const qualified = (key: string) => `${CONFIG_NAMESPACE}:${key}`;
const SCHEMA_KEYS = Object.keys(STAGE_CONFIG_SCHEMA) as StageConfigKey[];

function unknownKeyProblems(raw: Readonly<Record<string, string>>): ConfigProblem[] {
  const prefix = `${CONFIG_NAMESPACE}:`;
  return Object.keys(raw)
    .filter((key) => key.startsWith(prefix) && !(SCHEMA_KEYS as string[]).includes(key.slice(prefix.length)))
    .sort()
    .map((key) => ({
      key,
      value: raw[key],
      allowed: `no such key; known keys are listed in Pulumi.yaml (closest: ${closestKey(key.slice(prefix.length))})`,
    }));
}

/** Suggests the schema key nearest by edit distance, to catch typos like "azcount". */
export function closestKey(unknown: string): string {
  let best = SCHEMA_KEYS[0] as string;
  let bestDistance = Number.POSITIVE_INFINITY;
  for (const key of SCHEMA_KEYS) {
    const distance = editDistance(unknown.toLowerCase(), key.toLowerCase());
    if (distance < bestDistance) {
      best = key;
      bestDistance = distance;
    }
  }
  return best;
}

function editDistance(a: string, b: string): number {
  let previous = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const current = [i];
    for (let j = 1; j <= b.length; j++) {
      current[j] = Math.min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (a[i - 1] === b[j - 1] ? 0 : 1));
    }
    previous = current;
  }
  return previous[b.length];
}

type Parsed = Partial<Record<StageConfigKey, unknown>>;

function parseKnownKeys(raw: Readonly<Record<string, string>>): { parsed: Parsed; problems: ConfigProblem[] } {
  const parsed: Parsed = {};
  const problems: ConfigProblem[] = [];
  for (const key of SCHEMA_KEYS) {
    const spec = STAGE_CONFIG_SCHEMA[key];
    const text = raw[qualified(key)];
    if (text === undefined) {
      if (spec.presence === "required") problems.push({ key: qualified(key), value: undefined, allowed: `${spec.rule.allowed} (required)` });
      parsed[key] = spec.default;
      continue;
    }
    const value = spec.rule.parse(text);
    if (value !== undefined) {
      parsed[key] = value;
      continue;
    }
    // A structured value names each bad field ("ingestSources[3].burstLimit"), not the whole list.
    const detailed = spec.rule.problems?.(text) ?? [];
    if (detailed.length === 0) problems.push({ key: qualified(key), value: text, allowed: spec.rule.allowed });
    for (const part of detailed) problems.push({ key: `${qualified(key)}${part.path}`, value: part.value, allowed: part.allowed });
  }
  return { parsed, problems };
}

/**
 * Rules that span keys. Each mirrors an apply-time constraint AWS would otherwise
 * report halfway through `pulumi up`, or a requirement of the source documents.
 */
function crossKeyProblems(c: StageConfig, raw: Readonly<Record<string, string>>): ConfigProblem[] {
  const problems: ConfigProblem[] = [];
  const problem = (key: StageConfigKey, allowed: string) => problems.push({ key: qualified(key), value: raw[qualified(key)], allowed });

  // A browser cannot SigV4-sign its requests: the dashboard needs a JWT-authorised client API.
  if (c.dashboardEnabled && c.servicesEnabled && c.clientApiAuth !== "JWT") {
    problem("clientApiAuth", '"JWT" while dashboardEnabled (the dashboard calls the client API from a browser, which cannot sign AWS_IAM requests)');
  }
  // The dashboard's sign-in: a JWT-authorised client API refuses a page without a token.
  const dashboardSignsIn = c.dashboardEnabled && c.servicesEnabled && c.clientApiAuth === "JWT";
  for (const key of ["dashboardAuthorizeUrl", "dashboardTokenUrl"] as const) {
    if (dashboardSignsIn && c[key] === "") problem(key, "an https URL of the issuer's OAuth endpoint (the dashboard signs users in because clientApiAuth is JWT)");
    if (c.clientApiAuth !== "JWT" && c[key] !== "") problem(key, '"" unless clientApiAuth is JWT (a sign-in nobody needs would only confuse the page)');
  }
  if ((c.dashboardDomainName === "") !== (c.dashboardCertificateArn === "")) {
    problem(c.dashboardDomainName === "" ? "dashboardDomainName" : "dashboardCertificateArn", "set together with the other of dashboardDomainName and dashboardCertificateArn (a CloudFront alias needs a certificate that covers it)");
  }
  if (c.drEnabled) {
    if (c.drRegion === "") problem("drRegion", "an AWS region different from primaryRegion (required when drEnabled is true)");
    else if (c.drRegion === c.primaryRegion) problem("drRegion", `a region other than primaryRegion "${c.primaryRegion}"`);
    if (!c.kmsMultiRegion) problem("kmsMultiRegion", "true when drEnabled is true (the DR region uses replica keys)");
    if (!c.lakeVersioning) problem("lakeVersioning", "true when drEnabled is true (S3 replication needs versioning)");
    for (const key of ["auroraInstanceClass", "reportingInstanceClass"] as const) {
      if (c[key].startsWith("db.t")) problem(key, "a non-burstable class (not db.t*) when drEnabled is true (Aurora Global Database members)");
    }
  }
  if (c.stackRole === "dr" && !c.drEnabled) problem("stackRole", '"primary" unless drEnabled is true (a DR stack is the standby of a stage that replicates)');
  const stageRegions = c.drEnabled && c.drRegion !== "" ? [c.primaryRegion, c.drRegion] : [c.primaryRegion];
  if (c.activeRegion !== "" && !stageRegions.includes(c.activeRegion)) {
    problem("activeRegion", `"" or one of the stage's regions (${stageRegions.map((region) => `"${region}"`).join(", ")})`);
  }
  if (c.drEnabled && c.redshiftMode === "serverless") {
    problem("redshiftMode", '"provisioned" when drEnabled is true (the AWS provider has no resource for a Redshift Serverless snapshot copy configuration)');
  }
  if (c.drWarehouseRestore && !c.drEnabled) problem("drWarehouseRestore", "false unless drEnabled is true (there is no second region to restore in)");
  if (c.firehoseFormat === "PARQUET" && c.firehoseBufferMb < 64) {
    problem("firehoseBufferMb", "at least 64 when firehoseFormat is PARQUET (format conversion needs a 64 MB buffer)");
  }
  if (c.lakeGlacierTransitionDays < c.lakeIaTransitionDays + 30) {
    problem("lakeGlacierTransitionDays", `at least lakeIaTransitionDays + 30 (${c.lakeIaTransitionDays + 30}); objects stay 30 days in STANDARD_IA`);
  }
  if (c.cacheMultiAz && c.cacheNodeCount < 2) {
    problem("cacheNodeCount", "at least 2 when cacheMultiAz is true (Multi-AZ needs automatic failover, which needs a replica)");
  }
  if (c.auroraServerlessMinAcu > c.auroraServerlessMaxAcu) {
    problem("auroraServerlessMinAcu", `at most auroraServerlessMaxAcu (${c.auroraServerlessMaxAcu})`);
  }
  if (c.redshiftMultiAz && c.redshiftMode !== "provisioned") {
    problem("redshiftMultiAz", 'false unless redshiftMode is "provisioned" (Serverless has no Multi-AZ setting)');
  }
  if (c.redshiftMode === "serverless" && c.azCount < 3) {
    problem("azCount", 'at least 3 when redshiftMode is "serverless" (a Serverless workgroup needs subnets in three AZs)');
  }
  if (c.redshiftMultiAz && c.redshiftNodeCount < 2) {
    problem("redshiftNodeCount", "at least 2 when redshiftMultiAz is true");
  }
  accountProblems(c, problem);
  backupProblems(c, problem);
  serviceProblems(c, problem);
  ingestProblems(c, problem);
  warehouseSyncProblems(c, problem);
  return problems;
}

type Report = (key: StageConfigKey, allowed: string) => void;

/**
 * A JWT-authorised source needs the authorizer's issuer and audience, which are stage
 * keys; and the whole route table must fit the front's environment (MAX_ROUTE_TABLE_BYTES of
 * Lambda's 4 KB), checked here so no resource is declared first.
 */
function ingestProblems(c: StageConfig, problem: Report): void {
  const tableBytes = Buffer.byteLength(JSON.stringify(ingestRouteTable(c.ingestSources)));
  if (tableBytes > MAX_ROUTE_TABLE_BYTES) problem("ingestSources", `sources whose route table fits ${MAX_ROUTE_TABLE_BYTES} bytes of the front's environment (this one is ${tableBytes}): shorter names or routes, or fewer sources`);
  const jwtSources = c.ingestSources.filter((source) => source.jwtScope !== undefined).map((source) => source.name);
  if (jwtSources.length === 0) return;
  const users = `ingestSources ${jwtSources.join(", ")} use a jwtScope`;
  if (c.ingestJwtIssuer === "") problem("ingestJwtIssuer", `an https issuer URL (${users})`);
  if (c.ingestJwtAudience.length === 0) problem("ingestJwtAudience", `at least one audience (${users})`);
}

/**
 * The OLTP -> warehouse sync (components/batch/warehouse-sync.ts): what zero-ETL and DMS
 * accept at apply time. The DMS instance keys are checked whatever warehouseSync says, so
 * switching to "dms" never reveals a stale value.
 */
export function warehouseSyncProblems(c: StageConfig, problem: Report): void {
  const dmsClass = dmsInstanceClassProblem(c.dmsInstanceClass);
  if (dmsClass) problem("dmsInstanceClass", `${dmsClass} (https://docs.aws.amazon.com/dms/latest/userguide/CHAP_ReplicationInstance.Types.html)`);
  if (!(DMS_ENGINE_VERSIONS as readonly string[]).includes(c.dmsEngineVersion)) {
    problem("dmsEngineVersion", `one of ${DMS_ENGINE_VERSIONS.map((v) => `"${v}"`).join(", ")} (the releases DMS still creates replication instances with; older ones are past end of life)`);
  }
  if (c.warehouseSync === "none") return;
  if (c.warehouseSyncTables.length === 0) problem("warehouseSyncTables", `at least one "schema.table" or "schema.*" while warehouseSync is "${c.warehouseSync}"`);
  const repeated = c.warehouseSyncTables.filter((entry, index) => c.warehouseSyncTables.indexOf(entry) !== index);
  if (repeated.length > 0) problem("warehouseSyncTables", `each entry once (repeated: ${[...new Set(repeated)].join(", ")})`);
  // A DR stack's Aurora cluster is a read-only Global Database secondary and its warehouse is a
  // standby until dr:promote restores one: nothing there to replicate from or into.
  if (c.stackRole === "dr") problem("warehouseSync", '"none" on a DR stack (its Aurora cluster is a read-only Global Database secondary and it has no warehouse until dr:promote restores one)');
  if (c.warehouseSync === "zero-etl") {
    if (!zeroEtlSupportsAuroraVersion(c.auroraEngineVersion)) {
      problem("auroraEngineVersion", `${zeroEtlSupportedVersionsText()} while warehouseSync is "zero-etl" (the Aurora PostgreSQL versions zero-ETL into Redshift supports)`);
    }
    if (c.redshiftMode === "provisioned" && c.redshiftNodeCount < ZERO_ETL_MIN_PROVISIONED_NODES) {
      problem("redshiftNodeCount", `at least ${ZERO_ETL_MIN_PROVISIONED_NODES} while warehouseSync is "zero-etl" on a provisioned warehouse (a zero-ETL target is RA3 with two nodes or more, or Serverless)`);
    }
  } else {
    for (const entry of c.warehouseSyncTables) {
      const schemaProblem = dmsRedshiftSchemaProblem(entry);
      if (schemaProblem) problem("warehouseSyncTables", `schemas not beginning with "_" while warehouseSync is "dms" (${schemaProblem})`);
    }
  }
}

/**
 * Account guards: a protected stage names its account, and every account or role the
 * config names must be one the providers can actually end up in (allowedAccountIds
 * rejects the credentials of any other account).
 */
function accountProblems(c: StageConfig, problem: Report): void {
  if (c.protectStatefulResources && c.accountId === "") {
    problem("accountId", "a 12-digit account id when protectStatefulResources is true (a protected stage pins its providers to its account)");
  }
  if (c.drAccountId !== "") {
    if (!c.drEnabled) problem("drAccountId", '"" unless drEnabled is true (there is no DR region to put in another account)');
    // The DR stack's stores are replicas AWS keeps in one account only.
    else problem("drAccountId", '"" (drRegion in accountId): an Aurora Global Database, multi-Region key replicas and DynamoDB global-table replicas, which this stage replicates into drRegion, must all be in the primary\'s account');
    if (c.accountId === "") problem("accountId", "a 12-digit account id when drAccountId is set (the copies cross from one named account to the other)");
    else if (c.drAccountId === c.accountId) {
      problem("drAccountId", `"" when drRegion is in accountId ${c.accountId}: cross-account vault policies, KMS grants and replication ownership naming one account are refused or meaningless`);
    }
  }
  const home = homeAccount(c);
  if (c.deployRoleArn !== "") {
    if (home === "") problem("accountId", "a 12-digit account id when deployRoleArn is set (the providers are pinned to the role's account)");
    else if (accountOfArn(c.deployRoleArn) !== home) problem("deployRoleArn", `a role in account ${home}, the account this stack deploys into (allowedAccountIds would refuse the assumed role's credentials)`);
  }
  if (c.deployRoleExternalId !== "" && c.deployRoleArn === "") problem("deployRoleExternalId", '"" unless deployRoleArn is set (the external id goes with the role assumption)');
  if (c.backupBreakGlassRoleArn !== "" && home !== "" && accountOfArn(c.backupBreakGlassRoleArn) !== home) {
    problem("backupBreakGlassRoleArn", `a role in account ${home}, which owns this stack's backup vault`);
  }
}

/**
 * The ECS services: scaling bounds that can be met, task sizes Fargate runs, and an
 * authoriser or listener with everything it needs. Checked whether or not
 * servicesEnabled is on, so turning it on never reveals a stale value.
 */
function serviceProblems(c: StageConfig, problem: Report): void {
  for (const service of ["aggregator", "clientApi"] as const) {
    const min = c[`${service}MinTasks`];
    const max = c[`${service}MaxTasks`];
    if (min > max) problem(`${service}MinTasks`, `at most ${service}MaxTasks (${max})`);
    const size = fargateSizeProblem(c[`${service}Cpu`], c[`${service}MemoryMb`]);
    if (size) problem(`${service}MemoryMb`, `a size Fargate runs with ${service}Cpu ${c[`${service}Cpu`]}: ${size}`);
  }
  if (c.clientApiAuth === "JWT") {
    if (c.clientApiJwtIssuer === "") problem("clientApiJwtIssuer", "an https issuer URL when clientApiAuth is JWT (the authoriser validates tokens against it)");
    if (c.clientApiJwtAudience.length === 0) problem("clientApiJwtAudience", "at least one audience when clientApiAuth is JWT (API Gateway refuses a JWT authoriser without one)");
  } else {
    if (c.clientApiJwtIssuer !== "") problem("clientApiJwtIssuer", '"" unless clientApiAuth is JWT (an issuer nobody checks would look like protection)');
    if (c.clientApiJwtAudience.length > 0) problem("clientApiJwtAudience", '[] unless clientApiAuth is JWT');
  }
  if ((c.clientApiCertificateArn === "") !== (c.clientApiServerName === "")) {
    problem(c.clientApiCertificateArn === "" ? "clientApiCertificateArn" : "clientApiServerName", "set together with the other: an HTTPS listener needs its certificate and the name API Gateway verifies on it");
  }
  if (c.clientApiCertificateArn !== "" && c.clientApiCertificateArn.split(":")[3] !== homeRegion(c)) {
    problem("clientApiCertificateArn", `a certificate in ${homeRegion(c)}, this stack's region (an ALB uses certificates of its own region)`);
  }
}

/** The hour-long AWS Backup start window beginning at `hour`, as a daily window "hh:00-hh:00". */
function backupStartWindow(hour: number): string {
  const clock = (h: number) => `${String(h % 24).padStart(2, "0")}:00`;
  return `${clock(hour)}-${clock(hour + 1)}`;
}

/**
 * AWS Backup rules: what the service would refuse (cold storage shorter than 90 days,
 * unversioned buckets, copies without a second region) and jobs a locked vault would fail.
 */
function backupProblems(c: StageConfig, problem: Report): void {
  if (c.backupLakeBuckets && !c.lakeVersioning) problem("backupLakeBuckets", "false unless lakeVersioning is true (AWS Backup backs up versioned buckets only)");
  if (c.backupCopyToDr && !c.drEnabled) problem("backupCopyToDr", "false unless drEnabled is true (the copies go to drRegion)");
  if (c.backupColdStorageAfterDays > 0 && c.backupLongTermRetentionDays < c.backupColdStorageAfterDays + 90) {
    problem("backupLongTermRetentionDays", `at least backupColdStorageAfterDays + 90 (${c.backupColdStorageAfterDays + 90}); cold recovery points are kept 90 days at least`);
  }
  if (dailyWindowsOverlap(backupStartWindow(c.backupStartHourUtc), c.preferredBackupWindow)) {
    problem("backupStartHourUtc", `an hour outside preferredBackupWindow ${c.preferredBackupWindow} (AWS Backup jobs for RDS conflict with its automated backups)`);
  }
  if (c.backupVaultLockMinRetentionDays > c.backupVaultLockMaxRetentionDays) {
    problem("backupVaultLockMinRetentionDays", `at most backupVaultLockMaxRetentionDays (${c.backupVaultLockMaxRetentionDays})`);
  } else if (c.backupVaultLock !== "none") {
    const min = c.backupVaultLockMinRetentionDays;
    const max = c.backupVaultLockMaxRetentionDays;
    const retentions: [StageConfigKey, number, boolean][] = [
      ["backupDailyRetentionDays", c.backupDailyRetentionDays, true],
      ["backupLongTermRetentionDays", c.backupLongTermRetentionDays, true],
      ["backupHourlyRetentionDays", c.backupHourlyRetentionDays, c.backupHourlyRetentionDays > 0],
      ["backupRetentionDays", c.backupRetentionDays, c.backupContinuous],
      ["backupCopyRetentionDays", c.backupCopyRetentionDays, c.backupCopyToDr],
    ];
    for (const [key, days, inUse] of retentions) {
      if (inUse && (days < min || days > max)) problem(key, `from ${min} to ${max} days while backupVaultLock is "${c.backupVaultLock}" (the locked vault fails jobs outside its retention range)`);
    }
  }
}

/**
 * Validates the raw config (keys "namespace:key", values as Pulumi passes them).
 * Throws StageConfigError naming every bad key, its value and what is allowed.
 */
export function validateStageConfig(raw: Readonly<Record<string, string>>, stackFile: string): StageConfig {
  const { parsed, problems } = parseKnownKeys(raw);
  problems.push(...unknownKeyProblems(raw));
  // Cross-key rules only make sense once every key they read has parsed.
  if (problems.length === 0) problems.push(...crossKeyProblems(parsed as StageConfig, raw));
  if (problems.length > 0) throw new StageConfigError(stackFile, problems);
  return Object.freeze(parsed) as StageConfig;
}
