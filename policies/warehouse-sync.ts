/**
 * The OLTP -> warehouse sync paths: AWS DMS (replication instance, endpoints, CDC task) and
 * the Aurora zero-ETL integration into Redshift.
 */
import * as aws from "@pulumi/aws";
import { validateResourceOfType } from "@pulumi/policy";
import { PlatformResourcePolicy } from "./lib/policy";
import { customerKeyGap, isSet, isTrue, jsonValue, peek } from "./lib/values";

export const dmsReplicationInstanceCmk: PlatformResourcePolicy = {
  name: "dms-replication-instance-cmk",
  description: "DMS replication instances encrypt their storage and connection parameters with a customer KMS key (kmsKeyArn); without one DMS uses the account's default aws/dms key.",
  enforcementLevel: "mandatory",
  remediationSteps: "Set kmsKeyArn: <data key> on the aws.dms.ReplicationInstance (it cannot be changed after creation: the instance is replaced).",
  validateResource: validateResourceOfType(aws.dms.ReplicationInstance, (instance, _args, report) => {
    const gap = customerKeyGap(peek(() => instance.kmsKeyArn), "kmsKeyArn");
    if (gap) report(`The replication instance has ${gap}, so DMS encrypts it with the aws/dms default key.`);
  }),
};

export const dmsReplicationInstanceNotPublic: PlatformResourcePolicy = {
  name: "dms-replication-instance-not-public",
  description: "DMS replication instances have no public IP address (publiclyAccessible false). The AWS API defaults it to true, so it must be set.",
  enforcementLevel: "mandatory",
  remediationSteps: "Set publiclyAccessible: false and a replicationSubnetGroupId over the isolated subnets on the aws.dms.ReplicationInstance.",
  // CreateReplicationInstance: "PubliclyAccessible ... The default value is true."
  // https://docs.aws.amazon.com/dms/latest/APIReference/API_CreateReplicationInstance.html
  validateResource: validateResourceOfType(aws.dms.ReplicationInstance, (instance, _args, report) => {
    const publiclyAccessible = peek(() => instance.publiclyAccessible);
    if (publiclyAccessible === undefined) report("publiclyAccessible is not set, and DMS defaults it to true: the instance gets a public IP address.");
    else if (isTrue(publiclyAccessible)) report("publiclyAccessible is true: the instance has a public IP address.");
  }),
};

interface MultiAzConfig {
  requireMultiAz?: boolean;
}

export const dmsReplicationInstanceMultiAz: PlatformResourcePolicy = {
  name: "dms-replication-instance-multi-az",
  description: "Where the stack's policy config sets requireMultiAz (prod), DMS replication instances are Multi-AZ, so an AZ outage fails CDC over to the standby instead of stopping it.",
  enforcementLevel: "mandatory",
  remediationSteps: "Set multiAz: true on the aws.dms.ReplicationInstance from the stage config (and no availabilityZone, which Multi-AZ forbids).",
  configSchema: {
    properties: {
      requireMultiAz: { type: "boolean", default: false, description: "Require Multi-AZ DMS replication instances." },
    },
  },
  validateResource: validateResourceOfType(aws.dms.ReplicationInstance, (instance, args, report) => {
    if (args.getConfig<MultiAzConfig>().requireMultiAz !== true) args.notApplicable("This stack's policy config does not require Multi-AZ");
    if (!isTrue(peek(() => instance.multiAz))) report("multiAz is not true: the instance lives in one Availability Zone.");
  }),
};

/**
 * Engines whose connections DMS encrypts with the endpoint's sslMode. S3, DynamoDB, Kinesis,
 * Kafka, Neptune and OpenSearch endpoints go over HTTPS or their own settings, and "an Amazon
 * Redshift endpoint already uses an SSL connection and does not require an SSL connection set
 * up by AWS DMS" (https://docs.aws.amazon.com/dms/latest/userguide/CHAP_Security.SSL.html).
 */
export const SSL_MODE_ENGINES: readonly string[] = ["aurora", "aurora-postgresql", "aurora-serverless", "mariadb", "mysql", "postgres", "oracle", "sqlserver", "babelfish", "mongodb", "docdb", "db2", "db2-zos", "sybase"];

const ENCRYPTING_SSL_MODES = ["require", "verify-ca", "verify-full"];

export const dmsEndpointSsl: PlatformResourcePolicy = {
  name: "dms-endpoint-ssl",
  description: "DMS endpoints of database engines encrypt the connection: sslMode require, verify-ca or verify-full (the default is none). Redshift, S3 and the other API-based engines encrypt by themselves and are not applicable.",
  enforcementLevel: "mandatory",
  remediationSteps: 'Set sslMode: "verify-full" (with certificateArn: the RDS CA bundle imported as an aws.dms.Certificate) or at least "require" on the aws.dms.Endpoint; the database side already forces TLS (rds.force_ssl).',
  validateResource: validateResourceOfType(aws.dms.Endpoint, (endpoint, args, report) => {
    const engine = peek(() => endpoint.engineName);
    if (typeof engine === "string" && !SSL_MODE_ENGINES.includes(engine)) args.notApplicable(`${engine} endpoints do not take an sslMode`);
    const mode = peek(() => endpoint.sslMode);
    if (!isSet(mode)) report("sslMode is not set, so DMS connects without TLS (none).");
    else if (typeof mode === "string" && !ENCRYPTING_SSL_MODES.includes(mode)) report(`sslMode is ${mode}, not require, verify-ca or verify-full.`);
    if ((mode === "verify-ca" || mode === "verify-full") && !isSet(peek(() => endpoint.certificateArn))) report(`sslMode ${mode} needs a certificateArn to verify the server against.`);
  }),
};

/** Engines whose endpoint can read its connection details from Secrets Manager (the provider's secretsManagerArn). */
export const SECRETS_MANAGER_ENGINES: readonly string[] = ["aurora", "aurora-postgresql", "mariadb", "mongodb", "mysql", "oracle", "postgres", "redshift", "sqlserver"];

export const dmsEndpointSecretsManager: PlatformResourcePolicy = {
  name: "dms-endpoint-secrets-manager",
  description: "DMS endpoints take their credentials from Secrets Manager (secretsManagerArn with secretsManagerAccessRoleArn) and never carry a password, which would sit in the Pulumi state and the DMS API in plain text.",
  enforcementLevel: "mandatory",
  remediationSteps:
    "Set secretsManagerArn: <the database's credentials secret> and secretsManagerAccessRoleArn: <a role dms.<region>.amazonaws.com assumes, allowed secretsmanager:GetSecretValue on that secret and kms:Decrypt on its key>, and drop password (and username, serverName, port: the secret holds them).",
  validateResource: validateResourceOfType(aws.dms.Endpoint, (endpoint, _args, report) => {
    if (isSet(peek(() => endpoint.password))) report("The endpoint carries a password: credentials belong in Secrets Manager.");
    const engine = peek(() => endpoint.engineName);
    if (typeof engine === "string" && !SECRETS_MANAGER_ENGINES.includes(engine)) return;
    if (!isSet(peek(() => endpoint.secretsManagerArn))) report("The endpoint has no secretsManagerArn.");
    else if (!isSet(peek(() => endpoint.secretsManagerAccessRoleArn))) report("secretsManagerArn is set without secretsManagerAccessRoleArn, the role DMS reads the secret with.");
  }),
};

interface TaskSettings {
  Logging?: { EnableLogging?: unknown; LogComponents?: { Id?: string; Severity?: string }[] };
}

/** Severities below LOGGER_SEVERITY_DEFAULT drop the messages a failed task is diagnosed from. */
const QUIET_SEVERITIES = ["LOGGER_SEVERITY_ERROR", "LOGGER_SEVERITY_WARNING", "LOGGER_SEVERITY_INFO"];
const KEY_COMPONENTS = ["SOURCE_CAPTURE", "SOURCE_UNLOAD", "TARGET_APPLY", "TARGET_LOAD"];

export const dmsReplicationTaskLogging: PlatformResourcePolicy = {
  name: "dms-replication-task-logging",
  description:
    'DMS replication tasks log to CloudWatch: replicationTaskSettings has "Logging": { "EnableLogging": true }, and the source and target components (SOURCE_CAPTURE, SOURCE_UNLOAD, TARGET_APPLY, TARGET_LOAD) log at LOGGER_SEVERITY_DEFAULT or more.',
  enforcementLevel: "mandatory",
  remediationSteps:
    'Pass replicationTaskSettings: JSON.stringify({ Logging: { EnableLogging: true, LogComponents: [...] } }) on the aws.dms.ReplicationTask; DMS writes to the log group dms-tasks-<replication instance id>, which the stack creates first with its KMS key and retention.',
  // Logging task settings: https://docs.aws.amazon.com/dms/latest/userguide/CHAP_Tasks.CustomizingTasks.TaskSettings.Logging.html;
  // the component floor follows AWS Config's dms-replication-task-sourcedb-logging / -targetdb-logging rules.
  validateResource: validateResourceOfType(aws.dms.ReplicationTask, (task, args, report) => {
    const document = peek(() => task.replicationTaskSettings);
    if (!isSet(document)) {
      report("The task has no replicationTaskSettings, so CloudWatch logging is off.");
      return;
    }
    if (typeof document !== "string") args.notApplicable("replicationTaskSettings is unknown during preview; checked again on update");
    const settings = jsonValue<TaskSettings>(document);
    if (settings === undefined || typeof settings !== "object") {
      report("replicationTaskSettings is not a JSON object.");
      return;
    }
    if (!isTrue(settings.Logging?.EnableLogging)) report("replicationTaskSettings does not set Logging.EnableLogging to true.");
    for (const component of settings.Logging?.LogComponents ?? []) {
      if (component.Id && KEY_COMPONENTS.includes(component.Id) && component.Severity && QUIET_SEVERITIES.includes(component.Severity)) {
        report(`Log component ${component.Id} logs at ${component.Severity}, below LOGGER_SEVERITY_DEFAULT.`);
      }
    }
  }),
};

export const rdsIntegrationCmk: PlatformResourcePolicy = {
  name: "rds-integration-cmk",
  description: "Aurora zero-ETL integrations into Redshift encrypt the replicated data with a customer KMS key (kmsKeyId); without one RDS uses an AWS-owned key.",
  enforcementLevel: "mandatory",
  remediationSteps:
    "Set kmsKeyId: <data key ARN> on the aws.rds.Integration (with the key policy statement for Redshift that https://docs.aws.amazon.com/AmazonRDS/latest/AuroraUserGuide/zero-etl.creating.html describes); additionalEncryptionContext may bind the key to the integration.",
  // RDS CreateIntegration KMSKeyId: "If you don't specify an encryption key, RDS uses a default AWS owned key."
  // https://docs.aws.amazon.com/AmazonRDS/latest/APIReference/API_CreateIntegration.html
  validateResource: validateResourceOfType(aws.rds.Integration, (integration, _args, report) => {
    const gap = customerKeyGap(peek(() => integration.kmsKeyId), "kmsKeyId");
    if (gap) report(`The integration has ${gap}, so it is encrypted with an AWS-owned key.`);
  }),
};

export const warehouseSyncPolicies: PlatformResourcePolicy[] = [
  dmsReplicationInstanceCmk,
  dmsReplicationInstanceNotPublic,
  dmsReplicationInstanceMultiAz,
  dmsEndpointSsl,
  dmsEndpointSecretsManager,
  dmsReplicationTaskLogging,
  rdsIntegrationCmk,
];
