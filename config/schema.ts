/**
 * The one typed schema for every difference between stages. Components never look at
 * the stack name: whatever differs between dev and prod is a key here, set in
 * Pulumi.<stack>.yaml under the project namespace and validated before any resource.
 */
import {
  AWS_REGION,
  EMAIL,
  LOG_RETENTION_DAYS,
  ValueRule,
  boolean,
  integerMultipleOf,
  integerOneOf,
  integerRange,
  listOf,
  matching,
  oneOf,
} from "./rules";
import { INGEST_SOURCES_RULE, IngestSourceConfig } from "./ingest-sources";

/** Pulumi namespaces project config keys with the project name from Pulumi.yaml. */
export const CONFIG_NAMESPACE = "data-platform";

/**
 * Every key is either required or has a default: Pulumi's project config demands a
 * value for any declared key without a default, so "unset" is spelled as a value
 * ("" for drRegion) rather than as absence.
 */
export type Presence = "required" | "defaulted";

export interface KeySpec<T, V> {
  readonly rule: ValueRule<T>;
  readonly description: string;
  readonly presence: Presence;
  readonly default?: T;
  /** Phantom: the type the key has in StageConfig (T, or T | undefined when optional). */
  readonly __value?: V;
}

function required<T>(rule: ValueRule<T>, description: string): KeySpec<T, T> {
  return { rule, description, presence: "required" };
}

function defaulted<T>(rule: ValueRule<T>, description: string, value: T): KeySpec<T, T> {
  return { rule, description, presence: "defaulted", default: value };
}

const ACCOUNT_ID = matching(/^$|^\d{12}$/, 'a 12-digit AWS account id, or ""');
const ROLE_ARN = matching(/^$|^arn:aws(-cn|-us-gov)?:iam::\d{12}:role\/([\w+=,.@-]+\/)*[\w+=,.@-]{1,64}$/, 'an IAM role ARN such as "arn:aws:iam::123456789012:role/deploy", or ""');
const DB_INSTANCE_CLASS = matching(/^db\.[a-z0-9]+\.[a-z0-9]+$|^db\.serverless$/, 'an RDS instance class such as "db.r6g.large"');
const CACHE_NODE_TYPE = matching(/^cache\.[a-z0-9]+\.[a-z0-9]+$/, 'an ElastiCache node type such as "cache.r7g.large"');
/** Performance Insights keeps 7 days free, or whole months (31-day units) up to 731 days. */
/** CPU units a Fargate task may have (the memory each allows is checked across keys). */
const FARGATE_CPU_UNITS = [256, 512, 1024, 2048, 4096];
const PERFORMANCE_INSIGHTS_DAYS = [7, ...Array.from({ length: 23 }, (_, i) => 31 * (i + 1)), 731];

export const STAGE_CONFIG_SCHEMA = {
  // Identity and tagging
  stage: required(matching(/^[a-z][a-z0-9]{1,9}$/, "2-10 lowercase letters or digits, starting with a letter"), "Stage name; prefixes every physical name and the Stage tag."),
  namePrefix: defaulted(matching(/^[a-z][a-z0-9]{1,5}$/, "2-6 lowercase letters or digits, starting with a letter"), "Short platform prefix placed before the stage in physical names.", "dp"),
  owner: required(matching(/^[A-Za-z0-9 ._@+-]{2,64}$/, "2-64 characters of letters, digits, space or ._@+-"), "Owner tag on every resource (team or on-call alias)."),
  costCentre: required(matching(/^[A-Za-z0-9._-]{2,32}$/, "2-32 characters of letters, digits or ._-"), "CostCentre tag on every resource."),

  // Regions and DR
  primaryRegion: required(AWS_REGION, "Region of the primary deployment."),
  drEnabled: defaulted(boolean(), "Replicate into drRegion: key replicas, S3 replication, a DynamoDB global table, an Aurora Global Database and Redshift snapshot copies; the standby itself is a second stack with stackRole dr.", false),
  drRegion: defaulted(matching(/^$|^[a-z]{2}(-gov)?-[a-z]+-\d$/, 'an AWS region name, or "" for none'), "Second region for DR; required when drEnabled, and different from primaryRegion.", ""),
  stackRole: defaulted(oneOf(["primary", "dr"] as const), "Which side of the stage this stack deploys: the platform in primaryRegion, or its DR standby in drRegion (a second stack such as prod-dr with the same stage).", "primary"),
  activeRegion: defaulted(matching(/^$|^[a-z]{2}(-gov)?-[a-z]+-\d$/, 'primaryRegion, drRegion, or "" for primaryRegion'), "Region that takes the writes and runs the consumers and lake triggers; dr:promote prints the change to make on both stacks after a promotion.", ""),
  partnerStack: defaulted(matching(/^$|^[A-Za-z0-9_.-]+\/[A-Za-z0-9_.-]+\/[A-Za-z0-9_.-]+$/, 'an "organization/project/stack" name, or "" to derive it'), "The other stack of this stage, read through a StackReference; empty derives <organization>/<project>/<stage>-dr for a primary and <organization>/<project>/<stage> for a DR stack.", ""),
  drRpoStreamSeconds: defaulted(integerRange(1, 3600), "Streaming RPO target: the most Aurora and DynamoDB replication lag a planned switchover accepts without --force.", 60),
  drRpoBatchMinutes: defaulted(integerRange(5, 1440), "Batch RPO target: the most S3 replication lag a planned switchover accepts, and the Redshift snapshot interval.", 60),
  drRtoMinutes: defaulted(integerRange(5, 1440), "Recovery time objective: dr:promote reports the measured RTO against it.", 120),
  s3ReplicationTimeControl: defaulted(boolean(), "S3 Replication Time Control (99.99% of objects within 15 minutes) with replication metrics on the lake replication.", true),
  drWarehouseRestore: defaulted(boolean(), "dr:promote restores the warehouse in the promoted region from its latest copied snapshot (provisioned Redshift).", false),
  warehouseSnapshotCopyRetentionDays: defaulted(integerRange(1, 35), "Days copies of the warehouse's automated snapshots are kept in drRegion.", 7),
  warehouseRestoreSnapshot: defaulted(matching(/^$|^[A-Za-z0-9][A-Za-z0-9:-]{0,254}$/, 'a Redshift snapshot identifier, or ""'), "Set from dr:promote's report once it restored the warehouse in this stack's region: the stack then adopts the restored cluster. Empty: no restored warehouse here.", ""),

  // Network
  azCount: defaulted(integerRange(2, 6), "Availability Zones the VPC spans (Aurora subnet groups need at least 2).", 2),
  vpcCidr: defaulted(matching(/^(\d{1,3}\.){3}\d{1,3}\/(1[6-9]|20)$/, "an IPv4 CIDR block from /16 to /20"), "VPC address range.", "10.20.0.0/16"),
  natGatewayStrategy: defaulted(oneOf(["Single", "OnePerAz"] as const), "NAT gateways for the private subnets: one shared, or one per AZ for AZ independence.", "Single"),

  // Keys, protection, logs, observability, cost
  kmsMultiRegion: defaulted(boolean(), "Create multi-Region customer keys so the DR region can hold replicas.", false),
  deletionProtection: defaulted(boolean(), "Deletion protection on databases, tables, streams and the warehouse.", true),
  protectStatefulResources: defaulted(boolean(), "Pulumi `protect` on stateful resources so `pulumi destroy` refuses them.", true),
  logRetentionDays: defaulted(integerOneOf(LOG_RETENTION_DAYS), "CloudWatch Logs retention for every log group.", 30),
  tracingEnabled: defaulted(boolean(), "X-Ray active tracing on Lambda functions.", true),
  alarmsEnabled: defaulted(boolean(), "Create CloudWatch alarms that notify the alarm topic.", true),
  alarmEmails: defaulted(listOf(EMAIL, 10), "Email addresses subscribed to the alarm topic and the budget.", [] as string[]),
  monthlyBudgetUsd: defaulted(integerRange(1, 1_000_000), "Monthly cost budget in USD; alerts at 80% actual and 100% forecast.", 500),

  // Ingestion
  kinesisStreamMode: defaulted(oneOf(["ON_DEMAND", "PROVISIONED"] as const), "Kinesis capacity mode.", "ON_DEMAND"),
  kinesisShardCount: defaulted(integerRange(1, 500), "Shards when kinesisStreamMode is PROVISIONED; not used by ON_DEMAND streams.", 1),
  kinesisRetentionHours: defaulted(integerRange(24, 8760), "Kinesis retention; long enough to replay (Kappa reprocessing).", 168),
  consumerBatchSize: defaulted(integerRange(1, 10000), "Records per Kinesis consumer invocation.", 100),
  consumerBatchWindowSeconds: defaulted(integerRange(0, 300), "Seconds the Kinesis mapping waits to fill a batch.", 5),
  consumerMaxRetryAttempts: defaulted(integerRange(0, 10000), "Retries of a failing Kinesis batch before it goes to the on-failure DLQ.", 3),
  consumerMaxRecordAgeSeconds: defaulted(integerRange(60, 604800), "Oldest record age the Kinesis mapping still processes.", 3600),
  lambdaMemoryMb: defaulted(integerRange(128, 10240), "Memory of the data-path Lambda functions.", 512),
  lambdaTimeoutSeconds: defaulted(integerRange(1, 900), "Timeout of the data-path Lambda functions; SQS visibility is 6x this.", 60),
  sqsMaxReceiveCount: defaulted(integerRange(1, 1000), "Receives before an ingest message moves to the DLQ.", 5),
  firehoseFormat: defaulted(oneOf(["GZIP", "PARQUET"] as const), "Firehose output: GZIP JSON, or Parquet through the Glue schema.", "GZIP"),
  firehoseBufferMb: defaulted(integerRange(1, 128), "Firehose buffer size (Parquet needs at least 64).", 64),
  firehoseBufferSeconds: defaulted(integerRange(0, 900), "Firehose buffer interval.", 300),
  speedLayerTtlDays: defaulted(integerRange(1, 3650), "Days a speed-layer item lives before DynamoDB TTL removes it.", 30),
  pointInTimeRecovery: defaulted(boolean(), "DynamoDB point-in-time recovery.", true),
  ingestSources: defaulted(INGEST_SOURCES_RULE, "The HTTP ingest API's sources: one POST route each with its schema version, per-route throttle and callers (README, Ingest sources). Empty: no ingest API.", [] as IngestSourceConfig[]),
  ingestJwtIssuer: defaulted(matching(/^$|^https:\/\/[^\s]{1,2040}$/, 'an https issuer URL, or ""'), "Issuer of the JWTs of sources with a jwtScope (the HTTP API's JWT authorizer); required when one has.", ""),
  // A JWT authorizer takes at most 50 audiences (https://docs.aws.amazon.com/apigateway/latest/developerguide/http-api-quotas.html).
  ingestJwtAudience: defaulted(listOf(matching(/^[^\s]{1,256}$/, "1-256 non-space characters"), 50), "Audiences (client ids) the JWT authorizer accepts; required when a source has a jwtScope.", [] as string[]),

  // Data lake
  lakeVersioning: defaulted(boolean(), "S3 versioning on the lake buckets (required for replication).", true),
  lakeIaTransitionDays: defaulted(integerRange(30, 3650), "Days before lake objects move to STANDARD_IA (S3 needs at least 30).", 30),
  lakeGlacierTransitionDays: defaulted(integerRange(60, 3650), "Days before lake objects move to GLACIER; later than the IA transition.", 90),

  // OLTP (Aurora PostgreSQL)
  auroraEngineVersion: defaulted(matching(/^\d{2}\.\d{1,2}$/, 'an Aurora PostgreSQL version such as "16.6"'), "Aurora PostgreSQL engine version; the parameter group family follows its major version.", "16.6"),
  auroraInstanceClass: defaulted(DB_INSTANCE_CLASS, "Writer and failover reader instance class.", "db.r6g.large"),
  auroraReaderCount: defaulted(integerRange(0, 14), "Failover readers besides the writer (the reporting reader is extra).", 1),
  reportingInstanceClass: defaulted(DB_INSTANCE_CLASS, "Instance class of the dedicated reporting reader.", "db.r6g.large"),
  auroraServerless: defaulted(boolean(), "Run Aurora instances as Serverless v2 (db.serverless) within the ACU bounds below.", false),
  auroraServerlessMinAcu: defaulted(integerRange(0, 256), "Serverless v2 minimum ACUs (0 lets idle instances pause).", 1),
  auroraServerlessMaxAcu: defaulted(integerRange(1, 256), "Serverless v2 maximum ACUs.", 16),
  backupRetentionDays: defaulted(integerRange(2, 35), "Automated backup retention for Aurora (source documents require at least 2).", 7),
  preferredBackupWindow: defaulted(matching(/^([01]\d|2[0-3]):[0-5]\d-([01]\d|2[0-3]):[0-5]\d$/, 'a UTC window "hh:mm-hh:mm"'), "Daily backup window (UTC).", "03:00-04:00"),
  preferredMaintenanceWindow: defaulted(matching(/^(mon|tue|wed|thu|fri|sat|sun):([01]\d|2[0-3]):[0-5]\d-(mon|tue|wed|thu|fri|sat|sun):([01]\d|2[0-3]):[0-5]\d$/, 'a UTC window "ddd:hh:mm-ddd:hh:mm"'), "Weekly maintenance window (UTC).", "sun:04:30-sun:05:30"),
  skipFinalSnapshot: defaulted(boolean(), "Skip the final snapshot when a database or warehouse is deleted.", false),
  performanceInsightsEnabled: defaulted(boolean(), "Performance Insights on Aurora instances.", true),
  performanceInsightsRetentionDays: defaulted(integerOneOf(PERFORMANCE_INSIGHTS_DAYS), "Performance Insights retention (7, whole 31-day months, or 731).", 7),

  // Warehouse (Redshift)
  redshiftMode: defaulted(oneOf(["provisioned", "serverless"] as const), "Redshift provisioned cluster or Redshift Serverless.", "provisioned"),
  redshiftNodeType: defaulted(matching(/^ra3\.[a-z0-9]+$/, 'an RA3 node type such as "ra3.xlplus"'), "Provisioned node type.", "ra3.xlplus"),
  redshiftNodeCount: defaulted(integerRange(1, 128), "Provisioned node count.", 2),
  redshiftMultiAz: defaulted(boolean(), "Multi-AZ provisioned cluster (RA3 only).", false),
  redshiftSnapshotRetentionDays: defaulted(integerRange(1, 35), "Automated snapshot retention.", 7),
  redshiftServerlessBaseRpu: defaulted(integerMultipleOf(8, 8, 1024), "Serverless base capacity in RPUs.", 8),

  // Cache (ElastiCache Redis)
  cacheNodeType: defaulted(CACHE_NODE_TYPE, "Redis node type.", "cache.r7g.large"),
  cacheNodeCount: defaulted(integerRange(1, 6), "Redis nodes (primary plus replicas).", 2),
  cacheMultiAz: defaulted(boolean(), "Multi-AZ with automatic failover (needs at least 2 nodes).", true),
  cacheSnapshotRetentionDays: defaulted(integerRange(0, 35), "Redis snapshot retention (0 disables snapshots).", 7),
  cacheEngineVersion: defaulted(matching(/^\d+\.\d+$/, 'a Redis version such as "7.1"'), "Redis engine version.", "7.1"),

  // Services (ECS Fargate): the aggregator and the client API behind API Gateway
  servicesEnabled: defaulted(boolean(), "Build and run the ECS services: the images (built at deploy time into ECR, which needs Docker where `pulumi up` runs), the aggregator on the lake's events and the client API behind API Gateway.", false),
  serviceCpuArchitecture: defaulted(oneOf(["ARM64", "X86_64"] as const), "CPU architecture of the service images and Fargate tasks (ARM64: Graviton, about 20% cheaper).", "ARM64"),
  aggregatorMinTasks: defaulted(integerRange(0, 100), "Fewest aggregator tasks; 0 scales to zero when the queue is idle. A passive DR stack runs none whatever this says.", 1),
  aggregatorMaxTasks: defaulted(integerRange(1, 100), "Most aggregator tasks; at least aggregatorMinTasks.", 4),
  aggregatorCpu: defaulted(integerOneOf(FARGATE_CPU_UNITS), "CPU units of an aggregator task (1024 = 1 vCPU).", 512),
  aggregatorMemoryMb: defaulted(integerRange(512, 30720), "Memory of an aggregator task in MiB; Fargate allows only certain sizes per CPU.", 1024),
  aggregatorBacklogPerTask: defaulted(integerRange(1, 100000), "Waiting manifests per running aggregator task that auto-scaling holds.", 10),
  clientApiMinTasks: defaulted(integerRange(1, 100), "Fewest client API tasks (2 or more spreads them across AZs).", 2),
  clientApiMaxTasks: defaulted(integerRange(1, 100), "Most client API tasks; at least clientApiMinTasks.", 6),
  clientApiCpu: defaulted(integerOneOf(FARGATE_CPU_UNITS), "CPU units of a client API task (1024 = 1 vCPU).", 512),
  clientApiMemoryMb: defaulted(integerRange(512, 30720), "Memory of a client API task in MiB; Fargate allows only certain sizes per CPU.", 1024),
  clientApiRequestsPerTarget: defaulted(integerRange(1, 100000), "ALB requests per task per minute that auto-scaling holds (a second policy holds CPU at 60%).", 1000),
  clientApiAuth: defaulted(oneOf(["JWT", "AWS_IAM"] as const), "Who may call the client API through API Gateway: bearer tokens of clientApiJwtIssuer (the dashboard's sign-in), or SigV4-signed IAM callers.", "AWS_IAM"),
  clientApiJwtIssuer: defaulted(matching(/^$|^https:\/\/[^\s]+$/, 'an https issuer URL such as "https://cognito-idp.eu-west-1.amazonaws.com/eu-west-1_AbCdEf123", or ""'), "Issuer whose JWTs the API accepts; required when clientApiAuth is JWT.", ""),
  clientApiJwtAudience: defaulted(listOf(matching(/^[^\s]{1,256}$/, "an audience (client id) without spaces"), 10), "Audiences (client ids) the API accepts in a JWT's aud or client_id; required when clientApiAuth is JWT.", [] as string[]),
  clientApiCertificateArn: defaulted(matching(/^$|^arn:aws[a-z-]*:acm:[a-z0-9-]+:\d{12}:certificate\/[\w-]+$/, 'an ACM certificate ARN, or ""'), "ACM certificate of the internal ALB's HTTPS listener. Empty: the listener is HTTP inside the VPC (API Gateway still serves HTTPS outside).", ""),
  clientApiServerName: defaulted(matching(/^$|^([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}$/, 'a DNS name such as "api.internal.example.com", or ""'), "Name on clientApiCertificateArn that API Gateway verifies when it connects to the ALB; required with the certificate.", ""),
  clientApiThrottleRate: defaulted(integerRange(1, 10000), "Requests per second API Gateway admits to the client API (stage-wide, steady state).", 50),
  clientApiThrottleBurst: defaulted(integerRange(0, 5000), "Burst of requests API Gateway admits to the client API above the rate.", 100),
  // Dashboard site (components/services/dashboard-site.ts)
  dashboardEnabled: defaulted(boolean(), "Serve the branch dashboard: a private KMS-encrypted S3 bucket behind CloudFront with origin access control, security headers and access logs.", false),
  dashboardPriceClass: defaulted(oneOf(["PriceClass_100", "PriceClass_200", "PriceClass_All"] as const), "CloudFront price class of the dashboard: which edge locations serve it (PriceClass_100 is North America and Europe, the cheapest).", "PriceClass_100"),
  dashboardDomainName: defaulted(matching(/^$|^([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}$/, 'a DNS host name such as "dashboard.example.com", or ""'), "Custom host name of the dashboard (a CloudFront alias); needs dashboardCertificateArn. Empty: the distribution's *.cloudfront.net name.", ""),
  dashboardCertificateArn: defaulted(matching(/^$|^arn:aws:acm:us-east-1:\d{12}:certificate\/[0-9a-f-]{36}$/, 'an ACM certificate ARN in us-east-1, or ""'), "ACM certificate (us-east-1, where CloudFront reads them) for dashboardDomainName; the viewer then needs TLS 1.2 or later.", ""),
  dashboardWebAclArn: defaulted(matching(/^$|^arn:aws:wafv2:us-east-1:\d{12}:global\/webacl\/[\w-]+\/[0-9a-f-]{36}$/, 'a WAF v2 web ACL ARN of CLOUDFRONT scope, or ""'), "WAF web ACL in front of the dashboard. Empty: none.", ""),
  dashboardAuthorizeUrl: defaulted(matching(/^$|^https:\/\/[^\s]+$/, 'an https URL such as "https://retail.auth.eu-west-1.amazoncognito.com/oauth2/authorize", or ""'), "OAuth 2.0 authorization endpoint the dashboard signs users in at (code flow with PKCE, client id clientApiJwtAudience[0]); required when the dashboard calls a JWT-authorised client API.", ""),
  dashboardTokenUrl: defaulted(matching(/^$|^https:\/\/[^\s]+$/, 'an https URL such as "https://retail.auth.eu-west-1.amazoncognito.com/oauth2/token", or ""'), "OAuth 2.0 token endpoint the dashboard exchanges its code at; required with dashboardAuthorizeUrl.", ""),
  dashboardScopes: defaulted(listOf(matching(/^[\x21\x23-\x5b\x5d-\x7e]{1,256}$/, "an OAuth scope (no spaces or quotes)"), 20), "Scopes the dashboard asks for at sign-in.", ["openid"] as string[]),
  dashboardLogRetentionDays: defaulted(integerRange(1, 3650), "Days the dashboard's CloudFront access logs are kept.", 90),

  // Batch layer (components/batch/*): Glue ETL, EMR Serverless and the Step Functions pipeline
  batchEnabled: defaulted(boolean(), "Declare the batch layer: the Glue batch-file and curation jobs, the catalog crawler, the Step Functions pipeline that runs them nightly and on demand (then loads the warehouse and the reporting schema), and its schedule.", true),
  batchSchedule: defaulted(matching(/^cron\([^()]+\)$|^rate\(\d+ (minute|minutes|hour|hours|day|days)\)$/, 'an EventBridge Scheduler expression such as "cron(0 2 * * ? *)" or "rate(12 hours)"'), "When the batch pipeline runs, in batchScheduleTimezone.", "cron(0 2 * * ? *)"),
  batchScheduleTimezone: defaulted(matching(/^(UTC|[A-Z][A-Za-z_]+(\/[A-Z][A-Za-z_+-]+){1,2})$/, 'an IANA time zone such as "UTC" or "Europe/London"'), "Time zone of batchSchedule (EventBridge Scheduler follows its daylight saving).", "UTC"),
  glueWorkerType: defaulted(oneOf(["G.1X", "G.2X", "G.4X", "G.8X"] as const), "Worker type of the Glue 5 jobs (G.1X: 4 vCPU, 16 GB; each step doubles).", "G.1X"),
  glueWorkerCount: defaulted(integerRange(2, 299), "Workers per Glue job run (Glue needs at least 2: a driver and an executor).", 2),
  glueJobTimeoutMinutes: defaulted(integerRange(1, 2880), "Minutes a Glue job run may take before Glue stops it (and the pipeline fails it).", 60),
  batchRetryAttempts: defaulted(integerRange(0, 10), "Retries, with exponential backoff, of a pipeline task that fails with a transient error.", 3),
  batchWorkflowLogLevel: defaulted(oneOf(["ALL", "ERROR", "FATAL"] as const), "Step Functions execution log level (ALL logs every state's input and output; OFF is not offered).", "ERROR"),
  emrServerlessEnabled: defaulted(boolean(), "An EMR Serverless Spark application for heavy reprocessing (a replay of the whole lake); it starts on a job run and stops when idle.", false),
  emrServerlessReleaseLabel: defaulted(matching(/^emr-[6-9]\.\d{1,2}\.\d{1,2}$/, 'an EMR release label such as "emr-7.14.0"'), "EMR release of the Serverless application.", "emr-7.14.0"),
  emrServerlessMaxVcpu: defaulted(integerRange(1, 4000), "Most vCPUs the EMR Serverless application may hold across its workers.", 64),
  emrServerlessMaxMemoryGb: defaulted(integerRange(2, 16000), "Most memory (GB) the EMR Serverless application may hold across its workers.", 256),
  emrServerlessReplayTimeoutMinutes: defaulted(integerRange(1, 10080), "Minutes a lake replay's EMR Serverless job run may take (its executionTimeoutMinutes; at most 7 days).", 720),
  emrServerlessIdleMinutes: defaulted(integerRange(1, 10080), "Idle minutes before the EMR Serverless application stops (auto-stop).", 15),

  // OLTP -> warehouse sync (components/batch/warehouse-sync.ts)
  warehouseSync: defaulted(oneOf(["zero-etl", "dms", "none"] as const), "How operational data reaches Redshift: an Aurora zero-ETL integration (Aurora PostgreSQL 16.4+ or 17.4+, a Serverless or 2+ node warehouse), an AWS DMS CDC task, or neither (the batch and streaming loads only). Either sets static logical-replication parameters on Aurora (the writer must reboot); \"none\" on a DR stack.", "none"),
  warehouseSyncTables: defaulted(listOf(matching(/^[a-z_][a-z0-9_]{0,62}\.([a-z_][a-z0-9_]{0,62}|\*)$/, 'a "schema.table" of the OLTP database, or "schema.*"'), 50), "OLTP tables the sync replicates (zero-ETL data filter, DMS selection rules); zero-ETL and DMS CDC need a primary key on each.", ["public.*"] as string[]),
  dmsInstanceClass: defaulted(matching(/^dms\.(t3|c5|c6i|c7i|r5|r6i|r7i)\.[a-z0-9]+$/, 'a DMS replication instance class such as "dms.t3.medium"'), "DMS replication instance class.", "dms.t3.medium"),
  dmsEngineVersion: defaulted(matching(/^3\.\d+\.\d+$/, 'a DMS engine version such as "3.5.4"'), "DMS replication engine version: 3.5.4 or 3.6.1 (older releases are past end of life).", "3.5.4"),
  dmsMultiAz: defaulted(boolean(), "Multi-AZ DMS replication instance (a standby in a second AZ).", false),
  dmsAllocatedStorageGb: defaulted(integerRange(5, 6144), "Storage (GB) of the DMS replication instance, for logs and cached changes.", 50),
  dmsCreateAccountRoles: defaulted(boolean(), "Create the account-wide roles DMS requires by exact name (dms-vpc-role, dms-cloudwatch-logs-role). IAM allows one of each per account, so at most one stack per account sets this; otherwise they must already exist.", false),

  // Accounts, AWS Backup and restore testing
  accountId: defaulted(ACCOUNT_ID, "AWS account of the stage's primary region. Every provider is pinned to its account (allowedAccountIds), so credentials for another account fail before anything changes; required when protectStatefulResources is true.", ""),
  drAccountId: defaulted(ACCOUNT_ID, "Account of drRegion when it is not accountId. Refused while drEnabled: the DR stack's Aurora Global Database member, key replicas and global-table replica must be in accountId (AWS keeps each in one account). The backups' cross-account pieces (destination vault policy, KMS grants) are built for when that changes. Empty: drRegion is in accountId.", ""),
  deployRoleArn: defaulted(ROLE_ARN, "IAM role every provider of this stack assumes (assumeRoles). It must live in the account this stack deploys into (drAccountId for a DR stack, when set). Empty: the ambient credentials.", ""),
  deployRoleExternalId: defaulted(matching(/^$|^[\w+=,.@:/-]{2,1224}$/, 'an STS external id (2-1224 characters of letters, digits or _+=,.@:/-), or ""'), "External id the deploy role's trust policy requires; only with deployRoleArn.", ""),
  backupStartHourUtc: defaulted(integerRange(0, 23), "Hour (UTC) AWS Backup starts the daily, weekly and monthly backups; outside preferredBackupWindow, as AWS Backup advises for RDS.", 1),
  backupDailyRetentionDays: defaulted(integerRange(1, 36500), "Days AWS Backup keeps the daily recovery points.", 35),
  backupLongTermSchedule: defaulted(oneOf(["weekly", "monthly"] as const), "Schedule of the long-term rule: Sunday of each week, or the first of each month.", "monthly"),
  backupLongTermRetentionDays: defaulted(integerRange(1, 36500), "Days AWS Backup keeps the weekly or monthly recovery points.", 365),
  backupColdStorageAfterDays: defaulted(integerRange(0, 36500), "Days before long-term recovery points move to cold storage (types that support it: DynamoDB; AWS Backup ignores it for the others); 0 never. Cold points stay at least 90 days.", 0),
  backupContinuous: defaulted(boolean(), "Continuous backup (point-in-time restore) of Aurora and the lake buckets through AWS Backup, kept backupRetentionDays: for Aurora, AWS Backup then manages the cluster's own automated backups with that same retention.", true),
  backupHourlyRetentionDays: defaulted(integerRange(0, 35), "Days AWS Backup keeps hourly snapshots of the warehouse, which has no continuous backup (the 1 h batch RPO); 0 turns the hourly rule off.", 0),
  backupLakeBuckets: defaulted(boolean(), "Back the raw, transformed and staged buckets up with AWS Backup (it needs lakeVersioning).", true),
  backupCopyToDr: defaulted(boolean(), "Copy the daily and long-term recovery points into the backup vault of drRegion (the DR stack's vault).", false),
  backupCopyRetentionDays: defaulted(integerRange(1, 36500), "Days the copies in the other region's vault are kept.", 35),
  backupVaultLock: defaulted(oneOf(["none", "governance", "compliance"] as const), "Vault Lock on the backup vaults. governance: operators holding backup:DeleteBackupVaultLockConfiguration can still lift it. compliance: IRREVERSIBLE once backupVaultLockChangeableForDays have passed; nobody, AWS and the root user included, can then delete recovery points early or remove the lock.", "none"),
  backupVaultLockMinRetentionDays: defaulted(integerRange(1, 36500), "Shortest retention the locked vaults accept; backup and copy jobs with less fail.", 1),
  backupVaultLockMaxRetentionDays: defaulted(integerRange(1, 36500), "Longest retention the locked vaults accept.", 3650),
  backupVaultLockChangeableForDays: defaulted(integerRange(3, 36500), "Compliance mode only: days the lock can still be changed or removed before it becomes immutable.", 3),
  backupBreakGlassRoleArn: defaulted(ROLE_ARN, "The only role the vault access policy lets delete recovery points or shorten their lifecycle; empty: nobody may.", ""),
  restoreTestingEnabled: defaulted(boolean(), "AWS Backup restore testing: restore the latest recovery points on restoreTestingSchedule and validate what was restored.", false),
  restoreTestingSchedule: defaulted(matching(/^cron\([^()]+\)$/, 'an AWS cron expression such as "cron(0 5 ? * SUN *)"'), "When restore tests run (UTC).", "cron(0 5 ? * SUN *)"),
  restoreTestingValidationHours: defaulted(integerRange(1, 168), "Hours a restored test resource is kept for validation before AWS Backup deletes it.", 4),
};

export type StageConfigSchema = typeof STAGE_CONFIG_SCHEMA;
export type StageConfigKey = keyof StageConfigSchema;

/** The validated stage config: one typed field per schema key. */
export type StageConfig = {
  readonly [K in StageConfigKey]: StageConfigSchema[K] extends KeySpec<unknown, infer V> ? V : never;
};
