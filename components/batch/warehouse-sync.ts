/**
 * OLTP -> warehouse sync, one of two ways (chosen by the stage's warehouseSync key):
 * - "zero-etl": an Aurora zero-ETL integration (aws.rds.Integration) into the Redshift
 *   namespace, encrypted with its own customer key, filtered to the configured tables, and
 *   authorised by a resource policy on the namespace that names exactly this source.
 * - "dms": an AWS DMS replication instance in the isolated subnets running a
 *   full-load-and-CDC task, with endpoints that read their credentials from Secrets Manager.
 * The stores must be prepared for either (components/batch/warehouse-sync-settings.ts):
 * logical replication on the Aurora cluster, case-sensitive identifiers on the warehouse.
 */
import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import { createHardenedBucket } from "../lib/hardened-bucket";
import { Statement, allow, createScopedRole, policyDocument } from "../lib/iam";
import { generateToken } from "../lib/secrets";
import {
  DMS_ACCOUNT_ROLES,
  INTEGRATION_CONTEXT_KEY,
  DmsLogSeverity,
  WarehouseSyncMode,
  dmsInstanceClassProblem,
  dmsRedshiftSchemaProblem,
  dmsTableMappings,
  dmsTaskLogGroupName,
  dmsTaskSettings,
  zeroEtlDataFilter,
  zeroEtlKeyPolicy,
  zeroEtlResourcePolicy,
} from "./warehouse-sync-settings";

/** The Aurora PostgreSQL cluster the sync reads. */
export interface SyncSourceArgs {
  clusterArn: pulumi.Input<string>;
  /** Writer endpoint (DMS connects to it; CDC needs the writer). */
  endpoint: pulumi.Input<string>;
  port: pulumi.Input<number>;
  /** The database the tables live in. */
  databaseName: string;
}

/** The Redshift warehouse the sync writes. */
export interface SyncTargetArgs {
  mode: "provisioned" | "serverless";
  /** The namespace ARN: the cluster's clusterNamespaceArn, or the Serverless namespace's arn. */
  namespaceArn: pulumi.Input<string>;
  /** Host name of the cluster or workgroup endpoint (DMS connects to it). */
  endpoint: pulumi.Input<string>;
  /** @default 5439 */
  port?: number;
  /** The database DMS loads into. */
  databaseName: string;
}

/** Where DMS runs and what it may reach (components/foundation/network.ts). */
export interface DmsArgs {
  /** The stack's region: the Secrets Manager access role trusts DMS's regional principal there. */
  region: string;
  vpcId: pulumi.Input<string>;
  /** The isolated (database) subnets, at least 2 AZs. */
  subnetIds: pulumi.Input<pulumi.Input<string>[]>;
  /** The database tier's group: it gets an ingress rule from the replication instance's own group. */
  databaseSecurityGroupId: pulumi.Input<string>;
  /** The warehouse tier's group: likewise. */
  warehouseSecurityGroupId: pulumi.Input<string>;
  /** The interface endpoints' group (Secrets Manager and KMS are reached through them). */
  endpointsSecurityGroupId: pulumi.Input<string>;
  /** The S3 gateway endpoint's prefix list (the Redshift target stages its files in S3). */
  s3PrefixListId: pulumi.Input<string>;
  /** @default "dms.t3.medium" */
  instanceClass?: string;
  /** @default "3.5.4" */
  engineVersion?: string;
  /** @default false */
  multiAz?: boolean;
  /** @default 50 */
  allocatedStorageGb?: number;
  /**
   * Create the account-wide roles DMS requires by exact name, dms-vpc-role and
   * dms-cloudwatch-logs-role. They exist once per account, and IAM refuses a second role of
   * the same name, so exactly one stack per account may set this (or the account's bootstrap
   * creates them, or they are imported). When false they must already exist.
   * https://docs.aws.amazon.com/dms/latest/userguide/security-iam.html#CHAP_Security.APIRole
   * @default false
   */
  createAccountRoles?: boolean;
  /** Start the task when it is created; leave off until the DMS database users exist. @default false */
  startReplicationTask?: boolean;
  /** Bump to send new generated passwords to the endpoint secrets. @default 1 */
  credentialsVersion?: number;
  /** @default "LOGGER_SEVERITY_DEFAULT" */
  logSeverity?: DmsLogSeverity;
  /** @default "sun:05:30-sun:06:30" (after the database's maintenance window) */
  preferredMaintenanceWindow?: string;
}

export interface WarehouseSyncArgs {
  mode: WarehouseSyncMode;
  /** "schema.table" or "schema.*" entries of the source database. */
  tables: string[];
  source: SyncSourceArgs;
  target: SyncTargetArgs;
  /** Customer key: the DMS instance, its secrets and its S3 staging (zero-ETL gets a key of its own). */
  kmsKeyArn: pulumi.Input<string>;
  /** Customer key of the DMS task log group. */
  logsKeyArn: pulumi.Input<string>;
  logRetentionDays: number;
  /** Required when mode is "dms". @default undefined */
  dms?: DmsArgs;
}

export const DMS_DEFAULTS = {
  instanceClass: "dms.t3.medium",
  engineVersion: "3.5.4",
  multiAz: false,
  allocatedStorageGb: 50,
  preferredMaintenanceWindow: "sun:05:30-sun:06:30",
} as const;

/** Names of the database users the endpoint secrets are for (an operator creates them with the secrets' passwords). */
export const DMS_SOURCE_USER = "dms_replication";
export const DMS_TARGET_USER = "dms_loader";
const DEFAULT_REDSHIFT_PORT = 5439;

/** Everything AWS would refuse about these arguments, as sentences; empty when the sync can be built. */
export function warehouseSyncArgsProblems(name: string, args: WarehouseSyncArgs): string[] {
  const problems: string[] = [];
  if (!/^[a-z][a-z0-9-]{0,50}$/.test(name) || name.includes("--") || name.endsWith("-")) {
    problems.push(`"${name}" must be a lowercase letter then up to 50 lowercase letters, digits or single hyphens (DMS and RDS identifiers are built from it)`);
  }
  if (args.tables.length === 0) problems.push("tables must name at least one \"schema.table\" or \"schema.*\"");
  try {
    if (args.mode === "zero-etl") zeroEtlDataFilter(args.source.databaseName, args.tables);
    else dmsTableMappings(args.tables);
  } catch (error) {
    if (args.tables.length > 0) problems.push((error as Error).message);
  }
  if (args.mode === "dms") {
    if (args.dms === undefined) problems.push('dms (network placement and instance settings) is required when mode is "dms"');
    const classProblem = dmsInstanceClassProblem(args.dms?.instanceClass ?? DMS_DEFAULTS.instanceClass);
    if (classProblem) problems.push(`instanceClass must be ${classProblem}`);
    for (const entry of args.tables) {
      const schemaProblem = /^[a-z_][a-z0-9_]*\./.test(entry) ? dmsRedshiftSchemaProblem(entry) : undefined;
      if (schemaProblem) problems.push(schemaProblem);
    }
  }
  return problems;
}

export class WarehouseSync extends pulumi.ComponentResource {
  readonly mode: WarehouseSyncMode;
  /** Zero-ETL: the integration's ARN; its identifier names the Redshift database created FROM INTEGRATION. */
  readonly integrationArn?: pulumi.Output<string>;
  readonly integrationKeyArn?: pulumi.Output<string>;
  readonly replicationInstanceArn?: pulumi.Output<string>;
  readonly replicationTaskArn?: pulumi.Output<string>;
  /** The replication instance's own group (the database and warehouse groups admit it). */
  readonly securityGroupId?: pulumi.Output<string>;
  /** Secrets of the DMS database users ({username, password, host, port}); an operator creates the users with these passwords. */
  readonly sourceSecretArn?: pulumi.Output<string>;
  readonly targetSecretArn?: pulumi.Output<string>;
  readonly stagingBucketName?: pulumi.Output<string>;

  constructor(name: string, args: WarehouseSyncArgs, opts?: pulumi.ComponentResourceOptions) {
    super("dataplatform:batch:WarehouseSync", name, {}, opts);
    const problems = warehouseSyncArgsProblems(name, args);
    if (problems.length > 0) throw new Error(`WarehouseSync ${name} has invalid arguments:\n  - ${problems.join("\n  - ")}`);
    this.mode = args.mode;

    if (args.mode === "zero-etl") {
      const zeroEtl = this.zeroEtl(name, args);
      this.integrationArn = zeroEtl.integrationArn;
      this.integrationKeyArn = zeroEtl.keyArn;
    } else {
      const dms = this.dms(name, args, args.dms as DmsArgs);
      this.replicationInstanceArn = dms.instanceArn;
      this.replicationTaskArn = dms.taskArn;
      this.securityGroupId = dms.securityGroupId;
      this.sourceSecretArn = dms.sourceSecretArn;
      this.targetSecretArn = dms.targetSecretArn;
      this.stagingBucketName = dms.stagingBucketName;
    }

    this.registerOutputs({
      mode: this.mode,
      integrationArn: this.integrationArn,
      replicationInstanceArn: this.replicationInstanceArn,
      replicationTaskArn: this.replicationTaskArn,
      sourceSecretArn: this.sourceSecretArn,
      targetSecretArn: this.targetSecretArn,
    });
  }

  /**
   * The integration, its key and the namespace's resource policy. The Aurora writer must have
   * rebooted with the zero-ETL cluster parameters before RDS accepts the integration, and a
   * destination database must then be created in Redshift FROM INTEGRATION (a SQL step).
   * https://docs.aws.amazon.com/AmazonRDS/latest/AuroraUserGuide/zero-etl.creating.html
   */
  private zeroEtl(name: string, args: WarehouseSyncArgs) {
    const identity = aws.getCallerIdentityOutput({}, { parent: this });
    // A key of its own: Redshift needs kms:CreateGrant in the key policy (zeroEtlKeyPolicy).
    const key = new aws.kms.Key(`${name}-integration-key`, {
      description: `${name}: encrypts the zero-ETL integration's replicated data`,
      enableKeyRotation: true,
      deletionWindowInDays: 30,
      policy: identity.accountId.apply((account) => JSON.stringify(zeroEtlKeyPolicy(account, name))),
    }, { parent: this });

    const policy = new aws.redshift.ResourcePolicy(`${name}-target-policy`, {
      resourceArn: args.target.namespaceArn,
      policy: pulumi.all([args.target.namespaceArn, args.source.clusterArn, identity.accountId])
        .apply(([namespaceArn, sourceArn, account]) => JSON.stringify(zeroEtlResourcePolicy(namespaceArn, sourceArn, account))),
    }, { parent: this });

    const integration = new aws.rds.Integration(`${name}-integration`, {
      integrationName: name,
      sourceArn: args.source.clusterArn,
      targetArn: args.target.namespaceArn,
      kmsKeyId: key.arn,
      additionalEncryptionContext: { [INTEGRATION_CONTEXT_KEY]: name },
      dataFilter: zeroEtlDataFilter(args.source.databaseName, args.tables),
    }, { parent: this, dependsOn: [policy] });
    return { integrationArn: integration.arn, keyArn: key.arn };
  }

  private dms(name: string, args: WarehouseSyncArgs, dms: DmsArgs) {
    const accountRoles = (dms.createAccountRoles ?? false) ? this.dmsAccountRoles(name) : undefined;
    const identity = aws.getCallerIdentityOutput({}, { parent: this });

    const subnetGroup = new aws.dms.ReplicationSubnetGroup(`${name}-subnets`, {
      replicationSubnetGroupId: `${name}-subnets`,
      replicationSubnetGroupDescription: `${name}: isolated subnets of the DMS replication instance`,
      subnetIds: dms.subnetIds,
    }, { parent: this, dependsOn: accountRoles ? [accountRoles.vpc] : [] });

    const securityGroup = this.dmsSecurityGroup(name, args, dms);

    // DMS names the task log group itself; created first so it is KMS-encrypted and expires.
    const instanceId = `${name}-instance`;
    const logGroup = new aws.cloudwatch.LogGroup(`${name}-task-logs`, {
      name: dmsTaskLogGroupName(instanceId),
      retentionInDays: args.logRetentionDays,
      kmsKeyId: args.logsKeyArn,
    }, { parent: this });

    const instance = new aws.dms.ReplicationInstance(`${name}-instance`, {
      replicationInstanceId: instanceId,
      replicationInstanceClass: dms.instanceClass ?? DMS_DEFAULTS.instanceClass,
      engineVersion: dms.engineVersion ?? DMS_DEFAULTS.engineVersion,
      multiAz: dms.multiAz ?? DMS_DEFAULTS.multiAz,
      allocatedStorage: dms.allocatedStorageGb ?? DMS_DEFAULTS.allocatedStorageGb,
      kmsKeyArn: args.kmsKeyArn,
      // The API defaults to public: https://docs.aws.amazon.com/dms/latest/APIReference/API_CreateReplicationInstance.html
      publiclyAccessible: false,
      replicationSubnetGroupId: subnetGroup.replicationSubnetGroupId,
      vpcSecurityGroupIds: [securityGroup.id],
      autoMinorVersionUpgrade: true,
      preferredMaintenanceWindow: dms.preferredMaintenanceWindow ?? DMS_DEFAULTS.preferredMaintenanceWindow,
    }, { parent: this, dependsOn: [logGroup, ...(accountRoles ? [accountRoles.logs] : [])] });

    const credentialsVersion = dms.credentialsVersion ?? 1;
    const sourceSecret = this.endpointSecret(`${name}-source-credentials`, args.kmsKeyArn, credentialsVersion, DMS_SOURCE_USER, args.source.endpoint, args.source.port, "Aurora PostgreSQL user DMS reads changes as (rds_replication)");
    const targetSecret = this.endpointSecret(`${name}-target-credentials`, args.kmsKeyArn, credentialsVersion, DMS_TARGET_USER, args.target.endpoint, args.target.port ?? DEFAULT_REDSHIFT_PORT, "Redshift user DMS loads as");

    // DMS reads the secrets through a role trusted by its regional principal.
    // https://docs.aws.amazon.com/dms/latest/userguide/security_iam_secretsmanager.html
    const secretsRole = createScopedRole(`${name}-secrets`, {
      service: `dms.${dms.region}.amazonaws.com`,
      trustConditions: identity.accountId.apply((account) => ({ StringEquals: { "aws:SourceAccount": account } })),
      description: `${name}: DMS reads its endpoints' credentials`,
      statements: [
        allow("ReadEndpointCredentials", "secretsmanager:GetSecretValue", pulumi.all([sourceSecret.arn, targetSecret.arn])),
        allow("DecryptEndpointCredentials", ["kms:Decrypt", "kms:DescribeKey"], args.kmsKeyArn),
      ],
    }, { parent: this });

    const staging = this.redshiftStaging(name, args, identity.accountId);

    const source = new aws.dms.Endpoint(`${name}-source`, {
      endpointId: `${name}-source`,
      endpointType: "source",
      engineName: "aurora-postgresql",
      databaseName: args.source.databaseName,
      secretsManagerArn: sourceSecret.arn,
      secretsManagerAccessRoleArn: secretsRole.role.arn,
      kmsKeyArn: args.kmsKeyArn,
      sslMode: "require",
      postgresSettings: {
        // The heartbeat keeps an idle slot from holding WAL; booleans land as BOOLEAN in Redshift.
        // https://docs.aws.amazon.com/dms/latest/userguide/CHAP_Source.PostgreSQL.html
        heartbeatEnable: true,
        mapBooleanAsBoolean: true,
        pluginName: "test-decoding",
      },
    }, { parent: this, dependsOn: [secretsRole.policy, sourceSecret.value] });

    // DMS stages CSV files in S3 and COPYs them; SSE_KMS must be chosen at creation (it cannot
    // be switched to later). https://docs.aws.amazon.com/dms/latest/userguide/CHAP_Target.Redshift.html
    const target = new aws.dms.Endpoint(`${name}-target`, {
      endpointId: `${name}-target`,
      endpointType: "target",
      engineName: args.target.mode === "serverless" ? "redshift-serverless" : "redshift",
      databaseName: args.target.databaseName,
      secretsManagerArn: targetSecret.arn,
      secretsManagerAccessRoleArn: secretsRole.role.arn,
      kmsKeyArn: args.kmsKeyArn,
      // DMS says a Redshift endpoint already connects over SSL (https://docs.aws.amazon.com/dms/latest/userguide/CHAP_Security.SSL.html);
      // "require" states it, and the warehouse refuses anything else anyway (require_ssl).
      sslMode: "require",
      redshiftSettings: {
        bucketName: staging.bucket.name,
        bucketFolder: "dms",
        encryptionMode: "SSE_KMS",
        serverSideEncryptionKmsKeyId: args.kmsKeyArn,
        serviceAccessRoleArn: staging.roleArn,
      },
    }, { parent: this, dependsOn: [secretsRole.policy, targetSecret.value, staging.policy] });

    const task = new aws.dms.ReplicationTask(`${name}-cdc`, {
      replicationTaskId: `${name}-cdc`,
      migrationType: "full-load-and-cdc",
      replicationInstanceArn: instance.replicationInstanceArn,
      sourceEndpointArn: source.endpointArn,
      targetEndpointArn: target.endpointArn,
      tableMappings: dmsTableMappings(args.tables),
      replicationTaskSettings: dmsTaskSettings(dms.logSeverity ?? "LOGGER_SEVERITY_DEFAULT"),
      startReplicationTask: dms.startReplicationTask ?? false,
    }, { parent: this, dependsOn: [logGroup, instance, source, target] });

    return {
      instanceArn: instance.replicationInstanceArn,
      taskArn: task.replicationTaskArn,
      securityGroupId: securityGroup.id,
      sourceSecretArn: sourceSecret.arn,
      targetSecretArn: targetSecret.arn,
      stagingBucketName: staging.bucket.name,
    };
  }

  /**
   * The replication instance's own group: out to Aurora, Redshift, the interface endpoints
   * and S3, and admitted by the database and warehouse groups (which admit only named tiers).
   */
  private dmsSecurityGroup(name: string, args: WarehouseSyncArgs, dms: DmsArgs): aws.ec2.SecurityGroup {
    const group = new aws.ec2.SecurityGroup(`${name}-dms-sg`, {
      vpcId: dms.vpcId,
      description: `${name}: DMS replication instance (reads Aurora, writes Redshift)`,
    }, { parent: this });
    const paths: { slug: string; to: pulumi.Input<string>; port: pulumi.Input<number>; ingress: boolean }[] = [
      { slug: "database", to: dms.databaseSecurityGroupId, port: args.source.port, ingress: true },
      { slug: "warehouse", to: dms.warehouseSecurityGroupId, port: args.target.port ?? DEFAULT_REDSHIFT_PORT, ingress: true },
      { slug: "endpoints", to: dms.endpointsSecurityGroupId, port: 443, ingress: false },
    ];
    for (const path of paths) {
      new aws.vpc.SecurityGroupEgressRule(`${name}-dms-to-${path.slug}`, {
        securityGroupId: group.id,
        referencedSecurityGroupId: path.to,
        ipProtocol: "tcp", fromPort: path.port, toPort: path.port,
        description: `DMS to ${path.slug}`,
      }, { parent: this });
      if (path.ingress) {
        new aws.vpc.SecurityGroupIngressRule(`${name}-${path.slug}-from-dms`, {
          securityGroupId: path.to,
          referencedSecurityGroupId: group.id,
          ipProtocol: "tcp", fromPort: path.port, toPort: path.port,
          description: `DMS replication instance to ${path.slug}`,
        }, { parent: this });
      }
    }
    new aws.vpc.SecurityGroupEgressRule(`${name}-dms-to-s3`, {
      securityGroupId: group.id,
      prefixListId: dms.s3PrefixListId,
      ipProtocol: "tcp", fromPort: 443, toPort: 443,
      description: "DMS to S3 (Redshift staging) through the gateway endpoint",
    }, { parent: this });
    return group;
  }

  /**
   * A KMS secret in the shape DMS reads ({username, password, host, port}) for a dedicated
   * user: the RDS-managed master secret lacks host and port, and would give DMS the master user.
   * The password reaches AWS only through a write-only input.
   * https://docs.aws.amazon.com/dms/latest/userguide/security_iam_secretsmanager.html
   */
  private endpointSecret(secretName: string, kmsKeyArn: pulumi.Input<string>, version: number, username: string, host: pulumi.Input<string>, port: pulumi.Input<number>, description: string) {
    const secret = new aws.secretsmanager.Secret(secretName, { description, kmsKeyId: kmsKeyArn }, { parent: this });
    const password = generateToken(40);
    const value = new aws.secretsmanager.SecretVersion(`${secretName}-value`, {
      secretId: secret.id,
      secretStringWo: pulumi.secret(pulumi.all([host, port]).apply(([hostName, portNumber]) => JSON.stringify({ username, password, host: hostName, port: portNumber }))),
      secretStringWoVersion: version,
    }, { parent: this });
    return { arn: secret.arn, value };
  }

  /**
   * The S3 bucket DMS stages Redshift loads in (unversioned, as DMS advises, and emptied
   * daily), and the role DMS and Redshift's COPY use on it.
   */
  private redshiftStaging(name: string, args: WarehouseSyncArgs, accountId: pulumi.Output<string>) {
    const bucket = createHardenedBucket(`${name}-staging`, {
      kmsKeyArn: args.kmsKeyArn,
      versioned: false,
      rules: [{ id: "expire-staged-loads", status: "Enabled", filter: {}, expiration: { days: 1 }, abortIncompleteMultipartUpload: { daysAfterInitiation: 1 } }],
      forceDestroy: true,
      protect: false,
    }, this);
    const role = new aws.iam.Role(`${name}-staging-role`, {
      description: `${name}: DMS stages Redshift loads in its bucket and COPY reads them`,
      assumeRolePolicy: accountId.apply((account) => JSON.stringify({
        Version: "2012-10-17",
        Statement: [
          { Effect: "Allow", Principal: { Service: "dms.amazonaws.com" }, Action: "sts:AssumeRole", Condition: { StringEquals: { "aws:SourceAccount": account } } },
          // The trust AmazonDMSRedshiftS3Role's documentation gives: Redshift uses the role for COPY.
          { Effect: "Allow", Principal: { Service: "redshift.amazonaws.com" }, Action: "sts:AssumeRole" },
        ],
      })),
    }, { parent: this });
    const statements: pulumi.Input<Statement>[] = [
      allow("StageLoadFiles", ["s3:PutObject", "s3:GetObject", "s3:DeleteObject"], pulumi.interpolate`${bucket.arn}/*`),
      allow("ListStagingBucket", ["s3:ListBucket", "s3:GetBucketLocation"], bucket.arn),
      allow("EncryptStagedFiles", ["kms:GenerateDataKey", "kms:Decrypt"], args.kmsKeyArn),
    ];
    const policy = new aws.iam.RolePolicy(`${name}-staging-policy`, { role: role.id, policy: policyDocument(statements) }, { parent: this });
    return { bucket, roleArn: role.arn, policy };
  }

  /** The account-level roles DMS looks up by name, with the AWS managed policies AWS names for them. */
  private dmsAccountRoles(name: string) {
    const attachments = Object.entries(DMS_ACCOUNT_ROLES).map(([roleName, policyArn]) => {
      const role = new aws.iam.Role(`${name}-${roleName}`, {
        name: roleName,
        description: `AWS DMS account role (${roleName}), required by this exact name`,
        assumeRolePolicy: JSON.stringify({
          Version: "2012-10-17",
          Statement: [{ Effect: "Allow", Principal: { Service: "dms.amazonaws.com" }, Action: "sts:AssumeRole" }],
        }),
      }, { parent: this });
      return new aws.iam.RolePolicyAttachment(`${name}-${roleName}-policy`, { role: role.name, policyArn }, { parent: this });
    });
    return { vpc: attachments[0], logs: attachments[1] };
  }
}
