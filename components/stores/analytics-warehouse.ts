/**
 * OLTP -> warehouse path: S3 staging, not Aurora zero-ETL. Zero-ETL (aws.rds.Integration)
 * would need static logical-replication parameters and WAL retention on the OLTP writer,
 * case-sensitive identifiers on the warehouse, a resource policy on the namespace, a
 * per-database `CREATE DATABASE ... FROM INTEGRATION` step, and it constrains the
 * Global Database the DR design uses. Instead OLTP extracts land in the staged bucket
 * (e.g. Aurora's aws_s3.query_export_to_s3, or the lake's Staging Lambda) under a load
 * target's prefix, and this component's loader upserts them like any staged data.
 */
import { RedshiftDataClient } from "@aws-sdk/client-redshift-data";
import { S3Client } from "@aws-sdk/client-s3";
import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import type { S3ObjectCreatedNotificationEvent } from "aws-lambda";
import { readObjectText } from "../../functions/lake-objects";
import { LoadOutcome, LoadTarget, loadStagedObject, loadTargetProblems, loaderSettingsFromEnv } from "../../functions/warehouse-loader";
import { createMetricAlarm } from "../lib/alarms";
import { allow, createScopedRole, denyInsecureTransport, policyDocument } from "../lib/iam";
import { createInlineFunction } from "../lib/inline-function";
import { DLQ_RETENTION_SECONDS } from "../lib/queues";
import { StorePlacementArgs } from "../lib/store-placement";
import { invokeOnEvents } from "../lib/event-targets";

export type WarehouseMode = "provisioned" | "serverless";

export interface StagedBucketRef {
  name: pulumi.Input<string>;
  arn: pulumi.Input<string>;
}

/** The loader's Lambda timeout when WarehouseLoaderArgs.timeoutSeconds is unset. */
export const DEFAULT_LOADER_TIMEOUT_SECONDS = 300;

export interface WarehouseLoaderArgs {
  /** Tables staged objects load into, each claiming a key prefix of the staged bucket. */
  targets: LoadTarget[];
  /** Function timeout; the Data API poll gives up 15 s before it. @default 300 */
  timeoutSeconds?: number;
  /** @default 256 */
  memorySize?: number;
  /** @default true */
  tracing?: boolean;
}

/**
 * Placement: `subnetIds` are the isolated subnets (a subnet group for a cluster,
 * subnetIds for a workgroup); `securityGroupIds` is the warehouse tier's group;
 * `kmsKeyArn` is the data key for storage, the admin secret and the loader's
 * dead-letter queue; `logsKeyArn` encrypts the audit and Lambda log groups.
 */
export interface AnalyticsWarehouseArgs extends StorePlacementArgs {
  mode: WarehouseMode;
  /** How many distinct AZs the subnets span: Serverless needs 3, Multi-AZ 2. */
  availabilityZoneCount: number;
  /** Provisioned only. @default "ra3.xlplus" */
  nodeType?: string;
  /** Provisioned only. @default 2 */
  nodeCount?: number;
  /** Provisioned RA3 only. @default false */
  multiAz?: boolean;
  /** Serverless only, RPUs in steps of 8. @default 8 */
  baseRpu?: number;
  /** Serverless only. @default undefined (no cap) */
  maxRpu?: number;
  /** @default "analytics" */
  databaseName?: string;
  /** @default "warehouse_admin" */
  adminUsername?: string;
  /** Automated snapshot retention of a provisioned cluster, 1-35 days. Serverless keeps recovery points 24 h (AWS fixed). @default 7 */
  snapshotRetentionDays?: number;
  /** @default false */
  skipFinalSnapshot?: boolean;
  /** @default "sun:04:30-sun:05:30" */
  preferredMaintenanceWindow?: string;
  /** Pulumi `protect` on the cluster or namespace and workgroup. @default true */
  protect?: boolean;
  /**
   * How a provisioned cluster comes to exist. "create": this stack creates it. "standby":
   * not yet (a DR standby keeps the subnet group, parameter group, COPY role and log
   * groups a restore needs, and describes the restore in `restoreSettings`).
   * "adopt-restored": dr:promote restored it from `snapshotIdentifier` with exactly those
   * settings, and this stack adopts it (Pulumi `import`). @default { kind: "create" }
   */
  cluster?: WarehouseClusterSource;
  /** The lake's staged bucket: the COPY role may read it. */
  stagedBucket: StagedBucketRef;
  /**
   * enable_case_sensitive_identifier on (the parameter group of a provisioned cluster, which
   * then needs a reboot; the workgroup of Serverless): what a zero-ETL integration target needs.
   * https://docs.aws.amazon.com/AmazonRDS/latest/AuroraUserGuide/zero-etl.setting-up.html
   * @default false
   */
  caseSensitiveIdentifiers?: boolean;
  /** The staged-object loader. @default undefined (none) */
  loader?: WarehouseLoaderArgs;
  /** Alarms are created only when this is set. @default undefined */
  alarmTopicArn?: pulumi.Input<string>;
}

export type WarehouseClusterSource = { kind: "create" } | { kind: "standby" } | { kind: "adopt-restored"; snapshotIdentifier: string };

/**
 * What RestoreFromClusterSnapshot must be given so that the restored cluster is the one
 * this component declares when it adopts it: the same names, network, keys and roles.
 */
export interface WarehouseRestoreSettings {
  readonly clusterIdentifier: string;
  readonly nodeType: string;
  readonly numberOfNodes: number;
  readonly multiAz: boolean;
  readonly clusterSubnetGroupName: pulumi.Output<string>;
  readonly clusterParameterGroupName: pulumi.Output<string>;
  readonly vpcSecurityGroupIds: pulumi.Input<pulumi.Input<string>[]>;
  readonly kmsKeyId: pulumi.Input<string>;
  readonly iamRoles: pulumi.Output<string>[];
  readonly defaultIamRoleArn: pulumi.Output<string>;
  readonly port: number;
  readonly enhancedVpcRouting: true;
  readonly publiclyAccessible: false;
  readonly manageMasterPassword: true;
  readonly masterPasswordSecretKmsKeyId: pulumi.Input<string>;
  readonly automatedSnapshotRetentionPeriod: number;
  readonly preferredMaintenanceWindow: string;
}

export const REDSHIFT_PORT = 5439;
export const AUDIT_LOG_TYPES = ["connectionlog", "userlog", "useractivitylog"];

/**
 * Serverless workgroup settings. AWS returns every parameter on read, so all of them are
 * declared (at AWS's defaults unless noted), which keeps refresh from showing a diff.
 */
export const SERVERLESS_CONFIG_PARAMETERS: Record<string, string> = {
  require_ssl: "true", // TLS only (the point of declaring these)
  enable_user_activity_logging: "true", // feeds useractivitylog
  use_fips_ssl: "false",
  auto_mv: "true",
  datestyle: "ISO, MDY",
  enable_case_sensitive_identifier: "false",
  query_group: "default",
  search_path: "$user, public",
  max_query_execution_time: "14400",
};

const CASE_SENSITIVE_IDENTIFIER = "enable_case_sensitive_identifier";

/** The workgroup's settings, with case-sensitive identifiers when a zero-ETL integration targets it. */
export function serverlessConfigParameters(caseSensitiveIdentifiers: boolean): Record<string, string> {
  return { ...SERVERLESS_CONFIG_PARAMETERS, [CASE_SENSITIVE_IDENTIFIER]: String(caseSensitiveIdentifiers) };
}

/** Everything Redshift would refuse at apply time, as sentences; empty when the warehouse can be built. */
export function analyticsWarehouseProblems(name: string, args: AnalyticsWarehouseArgs): string[] {
  const problems: string[] = [];
  if (!/^[a-z][a-z0-9-]{0,62}$/.test(name) || name.includes("--") || name.endsWith("-")) {
    problems.push(`"${name}" is not a valid Redshift identifier (lowercase letter, then up to 62 lowercase letters, digits or single hyphens)`);
  }
  for (const [label, value] of [["databaseName", args.databaseName ?? "analytics"], ["adminUsername", args.adminUsername ?? "warehouse_admin"]]) {
    if (!/^[a-z][a-z0-9_]{0,62}$/.test(value)) problems.push(`${label} "${value}" must be a lowercase letter followed by up to 62 lowercase letters, digits or underscores`);
  }
  if (args.mode === "serverless") {
    if (args.availabilityZoneCount < 3) {
      problems.push(`Redshift Serverless needs subnets in at least 3 AZs, got ${args.availabilityZoneCount} (raise azCount or use a provisioned cluster)`);
    }
    const base = args.baseRpu ?? 8;
    if (!Number.isInteger(base) || base < 8 || base > 1024 || base % 8 !== 0) problems.push(`baseRpu must be 8-1024 in steps of 8, got ${base}`);
    if (args.maxRpu !== undefined && args.maxRpu < base) problems.push(`maxRpu (${args.maxRpu}) must be at least baseRpu (${base})`);
    if (args.multiAz) problems.push("multiAz applies to provisioned RA3 clusters only; Redshift Serverless has no Multi-AZ setting");
  } else {
    const nodeType = args.nodeType ?? "ra3.xlplus";
    const nodeCount = args.nodeCount ?? 2;
    if (!Number.isInteger(nodeCount) || nodeCount < 1 || nodeCount > 128) problems.push(`nodeCount must be 1-128, got ${nodeCount}`);
    if (args.multiAz) {
      if (!nodeType.startsWith("ra3.")) problems.push(`multiAz needs an RA3 node type, got ${nodeType}`);
      if (nodeCount < 2) problems.push(`multiAz needs at least 2 nodes, got ${nodeCount}`);
      if (args.availabilityZoneCount < 2) problems.push(`multiAz needs subnets in at least 2 AZs, got ${args.availabilityZoneCount}`);
    }
    const retention = args.snapshotRetentionDays ?? 7;
    if (!Number.isInteger(retention) || retention < 1 || retention > 35) problems.push(`snapshotRetentionDays must be 1-35, got ${retention}`);
  }
  if (args.mode === "serverless" && (args.cluster ?? { kind: "create" }).kind !== "create") {
    problems.push(`cluster "${args.cluster?.kind}" applies to provisioned clusters only (a standby restores from copied cluster snapshots)`);
  }
  for (const target of args.loader?.targets ?? []) problems.push(...loadTargetProblems(target));
  const timeout = args.loader?.timeoutSeconds ?? DEFAULT_LOADER_TIMEOUT_SECONDS;
  if (args.loader !== undefined && (timeout < 30 || timeout > 900)) problems.push(`loader timeoutSeconds must be 30-900, got ${timeout}`);
  return problems;
}

/** Runs at cold start in the Lambda: reads the environment, builds the Data API and S3 clients, delegates. */
export function loaderCallbackFactory() {
  const settings = loaderSettingsFromEnv(process.env);
  const s3 = new S3Client({});
  const clients = { dataApi: new RedshiftDataClient({}), readObject: (bucket: string, key: string) => readObjectText(s3, bucket, key) };
  return (event: S3ObjectCreatedNotificationEvent) => loadStagedObject(event, settings, clients);
}

/** The staged objects under the prefixes of the manifest targets (what the loader reads itself). */
export function manifestObjects(stagedBucketArn: string, targets: readonly LoadTarget[]): string[] {
  return targets.filter((target) => target.manifest === true).map((target) => `${stagedBucketArn}/${target.prefix}*`);
}

interface WarehouseEndpoint {
  /** Data API address: cluster identifier or workgroup name. */
  dataApiTarget: { WAREHOUSE_CLUSTER_ID: pulumi.Output<string> } | { WAREHOUSE_WORKGROUP: pulumi.Output<string> };
  /** What the loader's redshift-data and credential statements are scoped to. */
  statements: pulumi.Output<object>[];
  address: pulumi.Output<string>;
  identifier: pulumi.Output<string>;
  /** The cluster's or namespace's ARN: what AWS Backup selects. */
  resourceArn: pulumi.Output<string>;
  /** The Redshift namespace ARN (a zero-ETL integration's target and resource-policy resource). */
  namespaceArn: pulumi.Output<string>;
  adminSecretArn: pulumi.Output<string | undefined>;
}

/**
 * Redshift for analytics: a provisioned RA3 cluster or Serverless, either way KMS
 * encrypted, private, TLS-only, with enhanced VPC routing, audit logs in CloudWatch,
 * a Secrets Manager admin password, a read-only COPY role on the staged bucket as its
 * default IAM role, and a loader that upserts staged objects as they arrive.
 */
export class AnalyticsWarehouse extends pulumi.ComponentResource {
  readonly mode: WarehouseMode;
  /** Cluster identifier or workgroup name. */
  readonly identifier: pulumi.Output<string>;
  /** The cluster's or namespace's ARN (what AWS Backup selects); undefined while a standby has no cluster. */
  readonly resourceArn?: pulumi.Output<string>;
  /** The Redshift namespace ARN (the cluster's clusterNamespaceArn, or the Serverless namespace's); undefined while a standby has no cluster. */
  readonly namespaceArn?: pulumi.Output<string>;
  readonly endpoint: pulumi.Output<string>;
  readonly port: number;
  readonly databaseName: string;
  readonly adminSecretArn: pulumi.Output<string | undefined>;
  readonly copyRoleArn: pulumi.Output<string>;
  readonly loaderFunctionName?: pulumi.Output<string>;
  /** What invokes the loader directly (the batch pipeline) calls this ARN, and may wait this long. */
  readonly loaderFunctionArn?: pulumi.Output<string>;
  readonly loaderTimeoutSeconds?: number;
  /** The loader connects as database user "IAMR:<this role name>", which needs grants on the target tables. */
  readonly loaderRoleName?: pulumi.Output<string>;
  readonly loaderDeadLetterQueueUrl?: pulumi.Output<string>;
  /** The provisioned cluster's identifier in this region ("" while a standby has none). */
  readonly clusterIdentifier?: pulumi.Output<string>;
  /** Set on a standby: how dr:promote must restore the cluster for this component to adopt it. */
  readonly restoreSettings?: WarehouseRestoreSettings;

  constructor(name: string, args: AnalyticsWarehouseArgs, opts?: pulumi.ComponentResourceOptions) {
    super("dataplatform:stores:AnalyticsWarehouse", name, {}, opts);
    const problems = analyticsWarehouseProblems(name, args);
    if (problems.length > 0) throw new Error(`AnalyticsWarehouse ${name} has invalid arguments:\n  - ${problems.join("\n  - ")}`);
    this.mode = args.mode;
    this.port = REDSHIFT_PORT;
    this.databaseName = args.databaseName ?? "analytics";

    const copyRole = createScopedRole(`${name}-copy`, {
      // No source keys: Redshift documents sts:ExternalId on database-user ARNs instead (see
      // TRUST_WITHOUT_SOURCE_KEYS in policies/confused-deputy.ts); iam:PassRole keeps the role on this account's clusters.
      service: "redshift.amazonaws.com",
      description: `${name}: COPY from the staged bucket (read-only)`,
      statements: [
        allow("ReadStagedObjects", "s3:GetObject", pulumi.interpolate`${args.stagedBucket.arn}/*`),
        allow("ListStagedBucket", ["s3:ListBucket", "s3:GetBucketLocation"], args.stagedBucket.arn),
        allow("DecryptStagedObjects", "kms:Decrypt", args.kmsKeyArn),
      ],
    }, { parent: this });
    this.copyRoleArn = copyRole.role.arn;

    const provisioned = args.mode === "serverless" ? undefined : this.provisioned(name, args, copyRole);
    const endpoint = args.mode === "serverless" ? this.serverless(name, args, copyRole) : provisioned?.endpoint;
    this.restoreSettings = provisioned?.restoreSettings;
    this.clusterIdentifier = provisioned ? (endpoint?.identifier ?? pulumi.output("")) : undefined;
    this.identifier = endpoint?.identifier ?? pulumi.output("");
    this.resourceArn = endpoint?.resourceArn;
    this.namespaceArn = endpoint?.namespaceArn;
    this.endpoint = endpoint?.address ?? pulumi.output("");
    this.adminSecretArn = endpoint?.adminSecretArn ?? pulumi.output(undefined);

    if (args.loader !== undefined && endpoint !== undefined) {
      const loader = this.loader(name, args, args.loader, endpoint);
      this.loaderFunctionName = loader.functionName;
      this.loaderFunctionArn = loader.functionArn;
      this.loaderTimeoutSeconds = loader.timeoutSeconds;
      this.loaderRoleName = loader.roleName;
      this.loaderDeadLetterQueueUrl = loader.deadLetterQueueUrl;
      if (args.alarmTopicArn !== undefined) this.loaderAlarms(name, args.alarmTopicArn, loader);
    }

    this.registerOutputs({
      identifier: this.identifier,
      endpoint: this.endpoint,
      adminSecretArn: this.adminSecretArn,
      copyRoleArn: this.copyRoleArn,
      loaderFunctionName: this.loaderFunctionName,
      namespaceArn: this.namespaceArn,
    });
  }

  private provisioned(name: string, args: AnalyticsWarehouseArgs, copyRole: { role: aws.iam.Role; policy: aws.iam.RolePolicy }): { endpoint?: WarehouseEndpoint; restoreSettings?: WarehouseRestoreSettings } {
    const protect = args.protect ?? true;
    const skipFinalSnapshot = args.skipFinalSnapshot ?? false;
    const nodeCount = args.nodeCount ?? 2;
    const subnetGroup = new aws.redshift.SubnetGroup(`${name}-subnets`, {
      description: `${name}: isolated subnets`,
      subnetIds: args.subnetIds,
    }, { parent: this });
    const parameterGroup = new aws.redshift.ParameterGroup(`${name}-params`, {
      family: "redshift-2.0",
      description: `${name}: TLS only, user activity logged`,
      parameters: [
        { name: "require_ssl", value: "true" },
        { name: "enable_user_activity_logging", value: "true" },
        ...((args.caseSensitiveIdentifiers ?? false) ? [{ name: CASE_SENSITIVE_IDENTIFIER, value: "true" }] : []),
      ],
    }, { parent: this });
    // Redshift writes audit logs to these groups; created first so they are KMS-encrypted and expire.
    const auditLogGroups = AUDIT_LOG_TYPES.map((logType) => new aws.cloudwatch.LogGroup(`${name}-${logType}`, {
      name: `/aws/redshift/cluster/${name}/${logType}`,
      retentionInDays: args.logRetentionDays,
      kmsKeyId: args.logsKeyArn,
    }, { parent: this }));

    const source = args.cluster ?? { kind: "create" };
    const restoreSettings: WarehouseRestoreSettings = {
      clusterIdentifier: name,
      nodeType: args.nodeType ?? "ra3.xlplus",
      numberOfNodes: nodeCount,
      multiAz: args.multiAz ?? false,
      clusterSubnetGroupName: subnetGroup.name,
      clusterParameterGroupName: parameterGroup.name,
      vpcSecurityGroupIds: args.securityGroupIds,
      kmsKeyId: args.kmsKeyArn,
      iamRoles: [copyRole.role.arn],
      defaultIamRoleArn: copyRole.role.arn,
      port: REDSHIFT_PORT,
      enhancedVpcRouting: true,
      publiclyAccessible: false,
      manageMasterPassword: true,
      masterPasswordSecretKmsKeyId: args.kmsKeyArn,
      automatedSnapshotRetentionPeriod: args.snapshotRetentionDays ?? 7,
      preferredMaintenanceWindow: args.preferredMaintenanceWindow ?? "sun:04:30-sun:05:30",
    };
    if (source.kind === "standby") return { restoreSettings };
    const adopted = source.kind === "adopt-restored";

    // The restore settings use the Cluster's own argument names, so a restored cluster and a created one match.
    const cluster = new aws.redshift.Cluster(`${name}-cluster`, {
      ...restoreSettings,
      // Adopting: the cluster dr:promote restored with restoreSettings; Pulumi imports it rather than creating one.
      snapshotIdentifier: adopted ? source.snapshotIdentifier : undefined,
      clusterType: nodeCount > 1 ? "multi-node" : "single-node",
      databaseName: this.databaseName,
      masterUsername: args.adminUsername ?? "warehouse_admin",
      encrypted: "true",
      skipFinalSnapshot,
      finalSnapshotIdentifier: skipFinalSnapshot ? undefined : `${name}-final`,
    }, {
      parent: this,
      protect,
      dependsOn: [copyRole.policy],
      ...(adopted
        ? {
            import: name,
            // Inputs a restore takes but a read of the cluster does not return; they must not block the import.
            ignoreChanges: ["snapshotIdentifier", "finalSnapshotIdentifier", "skipFinalSnapshot", "masterPasswordSecretKmsKeyId"],
          }
        : {}),
    });
    new aws.redshift.Logging(`${name}-audit-logging`, {
      clusterIdentifier: cluster.clusterIdentifier,
      logDestinationType: "cloudwatch",
      logExports: AUDIT_LOG_TYPES,
    }, { parent: this, dependsOn: auditLogGroups });

    const identity = aws.getCallerIdentityOutput({}, { parent: this });
    const region = aws.getRegionOutput({}, { parent: this });
    return {
      endpoint: {
        dataApiTarget: { WAREHOUSE_CLUSTER_ID: cluster.clusterIdentifier },
        statements: [
          allow("RunLoadBatches", "redshift-data:BatchExecuteStatement", cluster.arn),
          pulumi.all([region.region, identity.accountId, cluster.clusterIdentifier]).apply(([regionName, account, id]) => ({
            Sid: "ConnectAsOwnIamIdentity",
            Effect: "Allow",
            Action: "redshift:GetClusterCredentialsWithIAM",
            Resource: `arn:aws:redshift:${regionName}:${account}:dbname:${id}/${this.databaseName}`,
          })),
        ],
        address: cluster.dnsName,
        identifier: cluster.clusterIdentifier,
        resourceArn: cluster.arn,
        namespaceArn: cluster.clusterNamespaceArn,
        adminSecretArn: cluster.masterPasswordSecretArn,
      },
    };
  }

  private serverless(name: string, args: AnalyticsWarehouseArgs, copyRole: { role: aws.iam.Role; policy: aws.iam.RolePolicy }): WarehouseEndpoint {
    const protect = args.protect ?? true;
    const namespace = new aws.redshiftserverless.Namespace(`${name}-namespace`, {
      namespaceName: name,
      dbName: this.databaseName,
      adminUsername: args.adminUsername ?? "warehouse_admin",
      manageAdminPassword: true,
      adminPasswordSecretKmsKeyId: args.kmsKeyArn,
      kmsKeyId: args.kmsKeyArn,
      logExports: AUDIT_LOG_TYPES,
      iamRoles: [copyRole.role.arn],
      defaultIamRoleArn: copyRole.role.arn,
    }, { parent: this, protect, dependsOn: [copyRole.policy] });
    const workgroup = new aws.redshiftserverless.Workgroup(`${name}-workgroup`, {
      workgroupName: name,
      namespaceName: namespace.namespaceName,
      baseCapacity: args.baseRpu ?? 8,
      maxCapacity: args.maxRpu,
      publiclyAccessible: false,
      enhancedVpcRouting: true,
      subnetIds: args.subnetIds,
      securityGroupIds: args.securityGroupIds,
      port: REDSHIFT_PORT,
      configParameters: Object.entries(serverlessConfigParameters(args.caseSensitiveIdentifiers ?? false)).map(([parameterKey, parameterValue]) => ({ parameterKey, parameterValue })),
    }, { parent: this, protect });

    return {
      dataApiTarget: { WAREHOUSE_WORKGROUP: workgroup.workgroupName },
      statements: [
        allow("RunLoadBatches", "redshift-data:BatchExecuteStatement", workgroup.arn),
        allow("ConnectAsOwnIamIdentity", "redshift-serverless:GetCredentials", workgroup.arn),
      ],
      address: workgroup.endpoints.apply((endpoints) => endpoints[0]?.address ?? ""),
      identifier: workgroup.workgroupName,
      resourceArn: namespace.arn,
      namespaceArn: namespace.arn,
      adminSecretArn: namespace.adminPasswordSecretArn,
    };
  }

  /**
   * The loader runs on EventBridge "Object Created" events of the staged bucket: S3
   * allows one notification configuration per bucket and the lake owns it, while
   * EventBridge rules can be added by any consumer (the bucket must send events to
   * EventBridge). Delivery failures and failed invocations land in one KMS queue.
   */
  private loader(name: string, args: AnalyticsWarehouseArgs, loader: WarehouseLoaderArgs, endpoint: WarehouseEndpoint) {
    const timeoutSeconds = loader.timeoutSeconds ?? DEFAULT_LOADER_TIMEOUT_SECONDS;
    const deadLetters = new aws.sqs.Queue(`${name}-loader-dlq`, {
      kmsMasterKeyId: args.kmsKeyArn,
      messageRetentionSeconds: DLQ_RETENTION_SECONDS,
    }, { parent: this });

    const fn = createInlineFunction<S3ObjectCreatedNotificationEvent, LoadOutcome>(`${name}-loader`, {
      description: "Loads staged S3 objects into Redshift (COPY + MERGE in one transaction) through the Data API",
      callbackFactory: loaderCallbackFactory,
      statements: [
        ...endpoint.statements,
        {
          Sid: "FollowOwnStatements",
          Effect: "Allow",
          Action: ["redshift-data:DescribeStatement", "redshift-data:CancelStatement"],
          Resource: "*",
          Condition: { StringEquals: { "redshift-data:statement-owner-iam-userid": "${aws:userid}" } },
        },
        // A manifest is read before it is loaded, so an empty load unit never reaches COPY.
        allow("ReadManifests", "s3:GetObject", pulumi.output(args.stagedBucket.arn).apply((arn) => manifestObjects(arn, loader.targets))),
        allow("SendFailedEvents", "sqs:SendMessage", deadLetters.arn),
        allow("EncryptFailedEvents", ["kms:GenerateDataKey", "kms:Decrypt"], args.kmsKeyArn),
      ],
      environment: {
        ...endpoint.dataApiTarget,
        WAREHOUSE_DATABASE: this.databaseName,
        COPY_ROLE_ARN: this.copyRoleArn,
        LOAD_TARGETS: JSON.stringify(loader.targets),
        POLL_TIMEOUT_MS: String((timeoutSeconds - 15) * 1000),
      },
      timeoutSeconds,
      memorySize: loader.memorySize ?? 256,
      logRetentionDays: args.logRetentionDays,
      logsKeyArn: args.logsKeyArn,
      tracing: loader.tracing ?? true,
    }, this);

    const rule = new aws.cloudwatch.EventRule(`${name}-loader-trigger`, {
      description: `${name}: new objects under the load targets' prefixes of the staged bucket`,
      eventPattern: pulumi.output(args.stagedBucket.name).apply((bucket) => JSON.stringify({
        source: ["aws.s3"],
        "detail-type": ["Object Created"],
        detail: {
          bucket: { name: [bucket] },
          object: { key: loader.targets.filter((target) => (target.trigger ?? "event") === "event").map((target) => ({ prefix: target.prefix })) },
        },
      })),
    }, { parent: this });
    new aws.sqs.QueuePolicy(`${name}-loader-dlq-policy`, {
      queueUrl: deadLetters.url,
      policy: policyDocument([
        pulumi.all([deadLetters.arn, rule.arn]).apply(([queue, ruleArn]) => ({
          Sid: "EventBridgeDeadLetters",
          Effect: "Allow",
          Principal: { Service: "events.amazonaws.com" },
          Action: "sqs:SendMessage",
          Resource: queue,
          Condition: { ArnEquals: { "aws:SourceArn": ruleArn } },
        })),
        denyInsecureTransport(deadLetters.arn, "sqs:*"),
      ]),
    }, { parent: this });
    invokeOnEvents(`${name}-loader`, { rule, fn, retry: { maximumEventAgeInSeconds: 24 * 3600, maximumRetryAttempts: 20 }, deadLetterArn: deadLetters.arn }, this);
    new aws.lambda.FunctionEventInvokeConfig(`${name}-loader-retries`, {
      functionName: fn.function.name,
      maximumRetryAttempts: 2,
      maximumEventAgeInSeconds: 6 * 3600,
      destinationConfig: { onFailure: { destination: deadLetters.arn } },
    }, { parent: this });

    return {
      functionName: fn.function.name,
      functionArn: fn.function.arn,
      timeoutSeconds,
      roleName: fn.role.name,
      deadLetterQueueUrl: deadLetters.url,
      deadLetterQueueName: deadLetters.name,
    };
  }

  private loaderAlarms(name: string, topicArn: pulumi.Input<string>, loader: { functionName: pulumi.Output<string>; deadLetterQueueName: pulumi.Output<string> }) {
    createMetricAlarm(`${name}-loader-dead-letters`, {
      description: `${name}: staged objects failed to load (see the loader's dead-letter queue)`,
      namespace: "AWS/SQS",
      metricName: "ApproximateNumberOfMessagesVisible",
      dimensions: { QueueName: loader.deadLetterQueueName },
      statistic: "Maximum",
      threshold: 0,
    }, topicArn, this);
    createMetricAlarm(`${name}-loader-errors`, {
      description: `${name}: the loader failed (it retries; persistent failures reach the dead-letter queue)`,
      namespace: "AWS/Lambda",
      metricName: "Errors",
      dimensions: { FunctionName: loader.functionName },
      statistic: "Sum",
      threshold: 0,
      evaluationPeriods: 3,
    }, topicArn, this);
  }
}
