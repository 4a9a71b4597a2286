/**
 * The batch layer's engines: the Glue 5 (Spark) batch-file and curation jobs, the crawler
 * that keeps the batch clean dataset's catalog right, a partition-projected table over the
 * curated output, and (optionally) an EMR Serverless Spark application for heavy
 * reprocessing such as a replay of the whole lake.
 *
 * The Python lives in the repo (glue/): its scripts and the shared `batch_events` package
 * are uploaded as S3 objects whose keys carry a content hash, so any change to the code
 * is a new object and a job update, never a silent overwrite of what a running job reads.
 *
 * Catalog, one approach per dataset (README, Batch layer):
 * - `batch/clean/` (transformed zone) has a Glue crawler, recrawling new folders only: the
 *   curation job reads it through Spark, which sees only partitions the catalog holds
 *   (Athena's partition projection is invisible to Spark).
 * - `batch/events/` (staged zone) is a table with partition projection on event_date:
 *   only Athena queries it (COPY reads the files by manifest), so no crawler has to run.
 */
import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import * as path from "path";
import { STAGED_COLUMNS } from "../../functions/lake-staging";
import { stagedEventDateParameters } from "../lake/data-lake";
import { contentHash } from "../lib/content-hash";
import { createHardenedBucket, HardenedBucket } from "../lib/hardened-bucket";
import { Conditions, Statement, allow, createScopedRole, listBucketUnder, useDataKey } from "../lib/iam";
import {
  BATCH_CLEAN_PREFIX,
  BATCH_CURATED_PREFIX,
  BATCH_DROP_PREFIX,
  BATCH_MANIFEST_PREFIX,
  BATCH_QUARANTINE_PREFIX,
  GLUE_VERSION,
  GlueWorkerType,
  glueJobArguments,
} from "./batch-settings";

/** The repository root: the scripts are uploaded from glue/ under it. */
const REPO_ROOT = path.join(__dirname, "..", "..");

export interface LakeBucketRef {
  readonly name: pulumi.Input<string>;
  readonly arn: pulumi.Input<string>;
}

export interface GlueJobSizing {
  readonly workerType: GlueWorkerType;
  /** Workers per run, at least 2. */
  readonly workerCount: number;
  readonly timeoutMinutes: number;
}

export interface EmrServerlessArgs {
  readonly releaseLabel: string;
  readonly maxVcpu: number;
  readonly maxMemoryGb: number;
  readonly idleMinutes: number;
  /** Private subnets (S3 through the gateway endpoint, the APIs through interface endpoints). */
  readonly subnetIds: pulumi.Input<pulumi.Input<string>[]>;
  readonly securityGroupIds: pulumi.Input<pulumi.Input<string>[]>;
}

export interface BatchProcessingArgs {
  readonly raw: LakeBucketRef;
  readonly transformed: LakeBucketRef;
  readonly staged: LakeBucketRef;
  readonly catalogDatabaseName: pulumi.Input<string>;
  readonly dataKeyArn: pulumi.Input<string>;
  readonly logsKeyArn: pulumi.Input<string>;
  readonly logRetentionDays: number;
  readonly glue: GlueJobSizing;
  /** @default undefined (no EMR Serverless application) */
  readonly emrServerless?: EmrServerlessArgs;
  /** Pulumi `protect` on the artifacts bucket. @default false */
  readonly protect?: boolean;
  /** Let `pulumi destroy` empty the artifacts bucket. @default false */
  readonly forceDestroy?: boolean;
}

export interface UploadedScript {
  readonly object: aws.s3.BucketObjectv2;
  readonly url: pulumi.Output<string>;
}

/**
 * A file of the repo, or several zipped (zip entry name → path under the repo root),
 * uploaded under a key that carries the hash of their content.
 */
interface ScriptSource {
  readonly id: string;
  readonly fileName: string;
  readonly file?: string;
  readonly zipEntries?: Readonly<Record<string, string>>;
}

const SCRIPTS: readonly ScriptSource[] = [
  { id: "batch-file-job", file: "glue/jobs/batch_file_job.py", fileName: "batch_file_job.py" },
  { id: "curation-job", file: "glue/jobs/curation_job.py", fileName: "curation_job.py" },
  { id: "lake-replay", file: "glue/jobs/lake_replay.py", fileName: "lake_replay.py" },
  // Glue and EMR import the pure package and the shared Spark steps from this zip (--extra-py-files, --py-files).
  { id: "batch-events", fileName: "batch_events.zip", zipEntries: { batch_events: "glue/batch_events", "batch_spark.py": "glue/jobs/batch_spark.py" } },
];

/** The paths under the repo root a script's upload is built from. */
export const scriptInputs = (script: ScriptSource): string[] => (script.file ? [script.file] : Object.values(script.zipEntries ?? {}));

export class BatchProcessing extends pulumi.ComponentResource {
  readonly artifacts: HardenedBucket;
  readonly scripts: Record<string, UploadedScript>;
  readonly securityConfiguration: aws.glue.SecurityConfiguration;
  readonly jobRole: aws.iam.Role;
  /** The jobs' error and output log groups (Glue 5 real-time logging under the security configuration). */
  readonly logGroups: aws.cloudwatch.LogGroup[];
  readonly batchFileJob: aws.glue.Job;
  readonly curationJob: aws.glue.Job;
  readonly crawler: aws.glue.Crawler;
  readonly curatedTable: aws.glue.CatalogTable;
  readonly emrApplication?: aws.emrserverless.Application;
  /** The role an EMR Serverless job run executes as (StartJobRun's executionRoleArn). */
  readonly emrJobRole?: aws.iam.Role;

  constructor(name: string, args: BatchProcessingArgs, opts?: pulumi.ComponentResourceOptions) {
    super("dataplatform:batch:BatchProcessing", name, {}, opts);
    const identity = aws.getCallerIdentityOutput({}, { parent: this });
    const partition = aws.getPartitionOutput({}, { parent: this });
    const region = aws.getRegionOutput({}, { parent: this });

    this.artifacts = createHardenedBucket(`${name}-artifacts`, {
      kmsKeyArn: args.dataKeyArn,
      versioned: true,
      // Old script versions, Spark's temp files and EMR logs are not worth keeping long.
      rules: [
        { id: "expire-temporary", status: "Enabled", filter: { prefix: "tmp/" }, expiration: { days: 7 } },
        { id: "expire-logs", status: "Enabled", filter: { prefix: "logs/" }, expiration: { days: Math.max(args.logRetentionDays, 1) } },
        { id: "expire-old-versions", status: "Enabled", filter: {}, noncurrentVersionExpiration: { noncurrentDays: 30 } },
      ],
      forceDestroy: args.forceDestroy ?? false,
      protect: args.protect ?? false,
    }, this);
    this.scripts = Object.fromEntries(SCRIPTS.map((script) => [script.id, this.upload(name, script, args.dataKeyArn)]));

    this.securityConfiguration = new aws.glue.SecurityConfiguration(`${name}-security`, {
      name: `${name}-security`,
      encryptionConfiguration: {
        s3Encryption: { s3EncryptionMode: "SSE-KMS", kmsKeyArn: args.dataKeyArn },
        cloudwatchEncryption: { cloudwatchEncryptionMode: "SSE-KMS", kmsKeyArn: args.logsKeyArn },
        jobBookmarksEncryption: { jobBookmarksEncryptionMode: "CSE-KMS", kmsKeyArn: args.dataKeyArn },
      },
    }, { parent: this });
    const bucketArns = pulumi.all([args.raw.arn, args.transformed.arn, args.staged.arn, this.artifacts.arn]);
    const catalogArns = pulumi.all([partition.partition, region.region, identity.accountId, args.catalogDatabaseName]).apply(([p, r, account, database]) => [
      `arn:${p}:glue:${r}:${account}:catalog`,
      `arn:${p}:glue:${r}:${account}:database/${database}`,
      `arn:${p}:glue:${r}:${account}:table/${database}/*`,
    ]);
    const glueLogGroups = pulumi.interpolate`arn:${partition.partition}:logs:${region.region}:${identity.accountId}:log-group:/aws-glue/*`;
    const { role: jobRole, policy: jobPolicy } = createScopedRole(`${name}-glue`, {
      service: "glue.amazonaws.com",
      trustConditions: sameAccount(identity.accountId),
      description: `${name}: the Glue batch-file and curation jobs`,
      statements: [
        bucketArns.apply(([raw, transformed, staged, artifacts]) => jobS3Statements({ raw, transformed, staged, artifacts })),
        allow("ReadCatalog", ["glue:GetDatabase", "glue:GetTable", "glue:GetTables", "glue:GetPartition", "glue:GetPartitions", "glue:BatchGetPartition"], catalogArns),
        useDataKey(args.dataKeyArn),
        ...glueLogStatements(args.logsKeyArn, glueLogGroups),
        allow("PublishJobMetrics", "cloudwatch:PutMetricData", "*"),
      ],
    }, { parent: this });
    this.jobRole = jobRole;
    this.logGroups = this.jobLogGroups(name, args, jobRole);

    const common = {
      roleArn: jobRole.arn,
      glueVersion: GLUE_VERSION,
      workerType: args.glue.workerType,
      numberOfWorkers: args.glue.workerCount,
      timeout: args.glue.timeoutMinutes,
      // One run at a time: bookmarks and the curated output assume runs do not overlap.
      executionProperty: { maxConcurrentRuns: 1 },
      // The pipeline retries with backoff; a Glue-level retry would rerun behind its back.
      maxRetries: 0,
      securityConfiguration: this.securityConfiguration.name,
    };
    const jobArguments = (script: string) => glueJobArguments({
      raw: args.raw.name,
      transformed: args.transformed.name,
      staged: args.staged.name,
      catalogDatabase: args.catalogDatabaseName,
      tempDir: pulumi.interpolate`s3://${this.artifacts.name}/tmp/${script}/`,
      extraPyFiles: this.scripts["batch-events"].url,
      logGroupPrefix: jobLogPrefix(name),
    });
    // The log groups exist first, so Glue writes into groups with retention and the logs key.
    const jobOpts = { parent: this, dependsOn: [jobPolicy, ...this.logGroups] };
    this.batchFileJob = new aws.glue.Job(`${name}-batch-file`, {
      ...common,
      name: `${name}-batch-file`,
      description: `Validates the files under raw ${BATCH_DROP_PREFIX} and writes clean Parquet to transformed ${BATCH_CLEAN_PREFIX} (bad rows to ${BATCH_QUARANTINE_PREFIX} with their reason)`,
      command: { name: "glueetl", pythonVersion: "3", scriptLocation: this.scripts["batch-file-job"].url },
      defaultArguments: jobArguments("batch-file"),
    }, jobOpts);
    this.curationJob = new aws.glue.Job(`${name}-curation`, {
      ...common,
      name: `${name}-curation`,
      description: `Builds the COPY-ready CSV under staged ${BATCH_CURATED_PREFIX} and its manifest under ${BATCH_MANIFEST_PREFIX}`,
      command: { name: "glueetl", pythonVersion: "3", scriptLocation: this.scripts["curation-job"].url },
      defaultArguments: jobArguments("curation"),
    }, jobOpts);

    this.crawler = this.cleanDatasetCrawler(name, args, catalogArns, identity.accountId, glueLogGroups);
    this.curatedTable = this.curatedEventsTable(name, args);
    if (args.emrServerless !== undefined) {
      const emr = this.emrServerless(name, args, args.emrServerless, bucketArns, identity.accountId);
      this.emrApplication = emr.application;
      this.emrJobRole = emr.jobRole;
    }

    this.registerOutputs({
      batchFileJobName: this.batchFileJob.name,
      curationJobName: this.curationJob.name,
      crawlerName: this.crawler.name,
      artifactsBucket: this.artifacts.name,
      emrApplicationId: this.emrApplication?.id,
    });
  }

  /**
   * With a security configuration that encrypts CloudWatch Logs, Glue 5 writes to
   * `<prefix>/<security configuration>-role/<job role>/error|output`
   * (https://docs.aws.amazon.com/glue/latest/dg/monitor-continuous-logging.html); declaring them gives them retention and the logs key.
   */
  private jobLogGroups(name: string, args: BatchProcessingArgs, role: aws.iam.Role): aws.cloudwatch.LogGroup[] {
    return ["error", "output"].map((stream) => new aws.cloudwatch.LogGroup(`${name}-logs-${stream}`, {
      name: pulumi.interpolate`${jobLogPrefix(name)}/${this.securityConfiguration.name}-role/${role.name}/${stream}`,
      retentionInDays: args.logRetentionDays,
      kmsKeyId: args.logsKeyArn,
    }, { parent: this }));
  }

  private upload(name: string, script: ScriptSource, kmsKeyId: pulumi.Input<string>): UploadedScript {
    const hash = contentHash(REPO_ROOT, scriptInputs(script)).slice(0, 16);
    const key = `scripts/${hash}/${script.fileName}`;
    const fromRepo = (relative: string) => path.join(REPO_ROOT, relative);
    const source = script.file
      ? new pulumi.asset.FileAsset(fromRepo(script.file))
      : new pulumi.asset.AssetArchive(Object.fromEntries(Object.entries(script.zipEntries ?? {}).map(([entry, relative]) => [
          entry,
          relative.endsWith(".py") ? new pulumi.asset.FileAsset(fromRepo(relative)) : new pulumi.asset.FileArchive(fromRepo(relative)),
        ])));
    const object = new aws.s3.BucketObjectv2(`${name}-script-${script.id}`, {
      bucket: this.artifacts.bucket.id,
      key,
      source,
      serverSideEncryption: "aws:kms",
      kmsKeyId,
      bucketKeyEnabled: true,
      metadata: { sha256: hash },
    }, { parent: this });
    return { object, url: pulumi.interpolate`s3://${this.artifacts.name}/${key}` };
  }

  private cleanDatasetCrawler(
    name: string,
    args: BatchProcessingArgs,
    catalogArns: pulumi.Output<string[]>,
    accountId: pulumi.Output<string>,
    glueLogGroups: pulumi.Output<string>,
  ): aws.glue.Crawler {
    const { role, policy } = createScopedRole(`${name}-crawler`, {
      service: "glue.amazonaws.com",
      trustConditions: sameAccount(accountId),
      description: `${name}: the crawler of the batch clean dataset`,
      statements: [
        pulumi.output(args.transformed.arn).apply((arn) => ({ Sid: "ReadCleanBatch", Effect: "Allow", Action: "s3:GetObject", Resource: `${arn}/${BATCH_CLEAN_PREFIX}*` })),
        pulumi.output(args.transformed.arn).apply((arn) => listBucketUnder("ListCleanBatch", arn, [BATCH_CLEAN_PREFIX])),
        allow("MaintainCatalog", ["glue:GetDatabase", "glue:GetTable", "glue:GetTables", "glue:CreateTable", "glue:UpdateTable", "glue:GetPartition", "glue:GetPartitions", "glue:BatchCreatePartition", "glue:BatchGetPartition", "glue:UpdatePartition", "glue:BatchUpdatePartition"], catalogArns),
        useDataKey(args.dataKeyArn),
        ...glueLogStatements(args.logsKeyArn, glueLogGroups),
      ],
    }, { parent: this });
    return new aws.glue.Crawler(`${name}-clean-crawler`, {
      name: `${name}-clean-crawler`,
      description: `Keeps the catalog of transformed ${BATCH_CLEAN_PREFIX} current (new partitions) for the curation job and Athena`,
      databaseName: args.catalogDatabaseName,
      role: role.arn,
      tablePrefix: "batch_",
      s3Targets: [{ path: pulumi.interpolate`s3://${args.transformed.name}/${BATCH_CLEAN_PREFIX}` }],
      // Only new folders (partitions) are crawled; that mode requires LOG for both behaviours.
      recrawlPolicy: { recrawlBehavior: "CRAWL_NEW_FOLDERS_ONLY" },
      schemaChangePolicy: { updateBehavior: "LOG", deleteBehavior: "LOG" },
      securityConfiguration: this.securityConfiguration.name,
      // The pipeline starts the crawler after each batch-file run; it has no schedule of its own.
      configuration: JSON.stringify({ Version: 1.0, Grouping: { TableGroupingPolicy: "CombineCompatibleSchemas" } }),
    }, { parent: this, dependsOn: [policy] });
  }

  private curatedEventsTable(name: string, args: BatchProcessingArgs): aws.glue.CatalogTable {
    return new aws.glue.CatalogTable(`${name}-curated-table`, {
      name: "batch_curated_events",
      databaseName: args.catalogDatabaseName,
      tableType: "EXTERNAL_TABLE",
      parameters: stagedEventDateParameters(pulumi.interpolate`s3://${args.staged.name}/${BATCH_CURATED_PREFIX}event_date=\${event_date}/`),
      partitionKeys: [{ name: "event_date", type: "string" }],
      storageDescriptor: {
        location: pulumi.interpolate`s3://${args.staged.name}/${BATCH_CURATED_PREFIX}`,
        inputFormat: "org.apache.hadoop.mapred.TextInputFormat",
        outputFormat: "org.apache.hadoop.hive.ql.io.HiveIgnoreKeyTextOutputFormat",
        serDeInfo: { serializationLibrary: "org.apache.hadoop.hive.serde2.OpenCSVSerde", parameters: { separatorChar: ",", quoteChar: '"', escapeChar: "\\" } },
        columns: STAGED_COLUMNS.map((column) => ({ name: column, type: "string" })),
      },
    }, { parent: this });
  }

  private emrServerless(
    name: string,
    args: BatchProcessingArgs,
    emr: EmrServerlessArgs,
    bucketArns: pulumi.Output<string[]>,
    accountId: pulumi.Output<string>,
  ): { application: aws.emrserverless.Application; jobRole: aws.iam.Role } {
    const logGroup = new aws.cloudwatch.LogGroup(`${name}-emr-logs`, {
      name: `/aws/emr-serverless/${name}`,
      retentionInDays: args.logRetentionDays,
      kmsKeyId: args.logsKeyArn,
    }, { parent: this });
    const application = new aws.emrserverless.Application(`${name}-emr`, {
      name: `${name}-replay`,
      releaseLabel: emr.releaseLabel,
      type: "spark",
      architecture: "ARM64",
      autoStartConfiguration: { enabled: true },
      autoStopConfiguration: { enabled: true, idleTimeoutMinutes: emr.idleMinutes },
      maximumCapacity: { cpu: `${emr.maxVcpu} vCPU`, memory: `${emr.maxMemoryGb} GB` },
      networkConfiguration: { subnetIds: emr.subnetIds, securityGroupIds: emr.securityGroupIds },
      monitoringConfiguration: {
        s3MonitoringConfiguration: { logUri: pulumi.interpolate`s3://${this.artifacts.name}/logs/emr/`, encryptionKeyArn: args.dataKeyArn },
        cloudwatchLoggingConfiguration: { enabled: true, logGroupName: logGroup.name, encryptionKeyArn: args.logsKeyArn },
        // The Spark UI's persisted logs (on by default) under the data key too.
        managedPersistenceMonitoringConfiguration: { enabled: true, encryptionKeyArn: args.dataKeyArn },
      },
    }, { parent: this });
    const { role } = createScopedRole(`${name}-emr-job`, {
      service: "emr-serverless.amazonaws.com",
      trustConditions: pulumi.all([accountId, application.arn]).apply(([account, arn]) => ({
        StringEquals: { "aws:SourceAccount": account },
        ArnLike: { "aws:SourceArn": arn },
      })),
      description: `${name}: EMR Serverless job runs (the lake replay)`,
      statements: [
        bucketArns.apply(([raw, transformed, staged, artifacts]) => replayS3Statements({ raw, transformed, staged, artifacts })),
        useDataKey(args.dataKeyArn),
        allow("EncryptLogs", ["kms:Decrypt", "kms:GenerateDataKey", "kms:Encrypt"], args.logsKeyArn),
        allow("WriteJobLogs", ["logs:CreateLogStream", "logs:PutLogEvents", "logs:DescribeLogStreams"], pulumi.interpolate`${logGroup.arn}:*`),
      ],
    }, { parent: this });
    return { application, jobRole: role };
  }
}

/**
 * What a Glue job or crawler needs to write its logs under a security configuration that
 * encrypts CloudWatch Logs: Glue associates the logs key with the groups it writes
 * (logs:AssociateKmsKey) and encrypts with it.
 */
function glueLogStatements(logsKeyArn: pulumi.Input<string>, glueLogGroups: pulumi.Input<string>): pulumi.Output<Statement>[] {
  return [
    allow("EncryptLogs", ["kms:Decrypt", "kms:GenerateDataKey", "kms:Encrypt"], logsKeyArn),
    allow("WriteGlueLogs", ["logs:CreateLogGroup", "logs:CreateLogStream", "logs:PutLogEvents", "logs:AssociateKmsKey"], glueLogGroups),
  ];
}

/** Where the jobs' real-time logs go (Glue's --custom-logGroup-prefix). */
export const jobLogPrefix = (name: string): string => `/aws-glue/jobs/${name}`;

/** Glue documents aws:SourceAccount for its service role's trust (the confused-deputy guard). */
function sameAccount(accountId: pulumi.Output<string>): pulumi.Output<Conditions> {
  return accountId.apply((account): Conditions => ({ StringEquals: { "aws:SourceAccount": account } }));
}

interface BucketArns {
  readonly raw: string;
  readonly transformed: string;
  readonly staged: string;
  readonly artifacts: string;
}

/** The Glue jobs' S3 rights: read the drop zone, write clean/quarantine/curated output, read scripts, use the temp dir. */
export function jobS3Statements(arns: BucketArns): Statement[] {
  return [
    listBucketUnder("ListDropZone", arns.raw, [BATCH_DROP_PREFIX]),
    { Sid: "ReadDropZone", Effect: "Allow", Action: "s3:GetObject", Resource: `${arns.raw}/${BATCH_DROP_PREFIX}*` },
    listBucketUnder("ListCleanBatch", arns.transformed, [BATCH_CLEAN_PREFIX]),
    { Sid: "WriteQuarantine", Effect: "Allow", Action: "s3:PutObject", Resource: `${arns.transformed}/${BATCH_QUARANTINE_PREFIX}*` },
    { Sid: "ReadWriteCleanBatch", Effect: "Allow", Action: ["s3:GetObject", "s3:PutObject", "s3:DeleteObject"], Resource: `${arns.transformed}/${BATCH_CLEAN_PREFIX}*` },
    listBucketUnder("ListCurated", arns.staged, [BATCH_CURATED_PREFIX, BATCH_MANIFEST_PREFIX]),
    { Sid: "WriteCurated", Effect: "Allow", Action: ["s3:GetObject", "s3:PutObject", "s3:DeleteObject"], Resource: [`${arns.staged}/${BATCH_CURATED_PREFIX}*`, `${arns.staged}/${BATCH_MANIFEST_PREFIX}*`] },
    listBucketUnder("ListArtifacts", arns.artifacts, ["scripts/", "tmp/"]),
    { Sid: "ReadScripts", Effect: "Allow", Action: "s3:GetObject", Resource: `${arns.artifacts}/scripts/*` },
    { Sid: "UseTempDir", Effect: "Allow", Action: ["s3:GetObject", "s3:PutObject", "s3:DeleteObject"], Resource: `${arns.artifacts}/tmp/*` },
  ];
}

/** The replay reads the whole raw zone and rewrites the batch clean dataset; EMR writes its logs to the artifacts bucket. */
export function replayS3Statements(arns: BucketArns): Statement[] {
  return [
    { Sid: "ListRaw", Effect: "Allow", Action: "s3:ListBucket", Resource: arns.raw },
    { Sid: "ReadRaw", Effect: "Allow", Action: "s3:GetObject", Resource: `${arns.raw}/*` },
    // Spark writes both outputs through its file committer, which lists, reads and deletes
    // its _temporary files under each output path (the Glue job writes its quarantine with PutObject).
    listBucketUnder("ListCleanBatchAndQuarantine", arns.transformed, [BATCH_CLEAN_PREFIX, BATCH_QUARANTINE_PREFIX]),
    { Sid: "WriteQuarantine", Effect: "Allow", Action: ["s3:GetObject", "s3:PutObject", "s3:DeleteObject"], Resource: `${arns.transformed}/${BATCH_QUARANTINE_PREFIX}*` },
    { Sid: "WriteCleanBatch", Effect: "Allow", Action: ["s3:GetObject", "s3:PutObject", "s3:DeleteObject"], Resource: `${arns.transformed}/${BATCH_CLEAN_PREFIX}*` },
    { Sid: "ReadScripts", Effect: "Allow", Action: "s3:GetObject", Resource: `${arns.artifacts}/scripts/*` },
    { Sid: "WriteLogs", Effect: "Allow", Action: "s3:PutObject", Resource: `${arns.artifacts}/logs/*` },
  ];
}
