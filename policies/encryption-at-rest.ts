/**
 * Encryption at rest with customer-managed KMS keys, one policy per service so that a
 * waiver or a stack config entry can address exactly one of them. S3 buckets are checked
 * by a stack policy in s3.ts, because @pulumi/aws v7 configures bucket encryption on a
 * separate resource.
 */
import * as aws from "@pulumi/aws";
import { validateResourceOfType } from "@pulumi/policy";
import { PlatformResourcePolicy } from "./lib/policy";
import { asArray, isFalse, isSet, isTrue, peek } from "./lib/values";

export const kinesisStreamEncryption: PlatformResourcePolicy = {
  name: "kinesis-stream-kms-encryption",
  description: "Kinesis data streams encrypt records at rest with a KMS key.",
  enforcementLevel: "mandatory",
  remediationSteps: 'Set encryptionType: "KMS" and kmsKeyId to the platform data key (keys.dataKeyArn) on the aws.kinesis.Stream.',
  validateResource: validateResourceOfType(aws.kinesis.Stream, (stream, _args, report) => {
    if (stream.encryptionType !== "KMS") report(`encryptionType is ${stream.encryptionType ?? "unset (NONE)"}, not KMS.`);
    else if (!isSet(peek(() => stream.kmsKeyId))) report("encryptionType is KMS but no kmsKeyId is given.");
  }),
};

export const dynamodbTableEncryption: PlatformResourcePolicy = {
  name: "dynamodb-table-cmk-encryption",
  description: "DynamoDB tables (and every global-table replica) use server-side encryption with a customer-managed KMS key.",
  enforcementLevel: "mandatory",
  remediationSteps: "Set serverSideEncryption: { enabled: true, kmsKeyArn: <data key> } on the table, and kmsKeyArn (a key in the replica's region) on each entry of replicas.",
  validateResource: validateResourceOfType(aws.dynamodb.Table, (table, _args, report) => {
    const sse = table.serverSideEncryption;
    if (!isTrue(sse?.enabled)) report("serverSideEncryption is not enabled, so the table uses an AWS-owned key.");
    else if (!isSet(peek(() => sse?.kmsKeyArn))) report("serverSideEncryption is enabled without kmsKeyArn, so the table uses the AWS-managed key, not a customer key.");
    for (const replica of asArray(table.replicas)) {
      if (!isSet(peek(() => replica.kmsKeyArn))) report(`The replica in ${replica.regionName} has no kmsKeyArn.`);
    }
  }),
};

export const rdsStorageEncryption: PlatformResourcePolicy = {
  name: "rds-storage-encrypted",
  description: "Aurora clusters, global clusters and standalone RDS instances encrypt their storage.",
  enforcementLevel: "mandatory",
  remediationSteps: "Set storageEncrypted: true and kmsKeyId (the data key, or its replica in the DR region) on the cluster or instance. Encryption cannot be turned on in place: restore a snapshot into an encrypted cluster.",
  validateResource: [
    validateResourceOfType(aws.rds.Cluster, (cluster, _args, report) => {
      if (!isTrue(cluster.storageEncrypted)) report("storageEncrypted is not true (provisioned Aurora clusters default to unencrypted).");
    }),
    validateResourceOfType(aws.rds.GlobalCluster, (global, args, report) => {
      // A global cluster created from an existing cluster inherits that cluster's encryption.
      if (isSet(peek(() => global.sourceDbClusterIdentifier))) args.notApplicable("Inherits encryption from its source cluster");
      if (!isTrue(global.storageEncrypted)) report("storageEncrypted is not true on the global cluster.");
    }),
    validateResourceOfType(aws.rds.Instance, (instance, args, report) => {
      if (isSet(peek(() => instance.replicateSourceDb))) args.notApplicable("A read replica inherits encryption from its source");
      if (!isTrue(instance.storageEncrypted)) report("storageEncrypted is not true.");
    }),
  ],
};

export const redshiftEncryption: PlatformResourcePolicy = {
  name: "redshift-encrypted-with-cmk",
  description: "Redshift clusters and Redshift Serverless namespaces encrypt data with a customer-managed KMS key.",
  enforcementLevel: "mandatory",
  remediationSteps: "Provisioned: keep encrypted true and set kmsKeyId to the data key. Serverless: set kmsKeyId on the aws.redshiftserverless.Namespace.",
  validateResource: [
    validateResourceOfType(aws.redshift.Cluster, (cluster, _args, report) => {
      // The v7 schema types `encrypted` as a string; AWS defaults it to true.
      if (isFalse(cluster.encrypted)) report("encrypted is false.");
      if (!isSet(peek(() => cluster.kmsKeyId))) report("No kmsKeyId: the cluster would use the AWS-managed Redshift key.");
    }),
    validateResourceOfType(aws.redshiftserverless.Namespace, (namespace, _args, report) => {
      if (!isSet(peek(() => namespace.kmsKeyId))) report("No kmsKeyId: the namespace would use an AWS-owned key.");
    }),
  ],
};

export const elasticacheEncryptionAtRest: PlatformResourcePolicy = {
  name: "elasticache-encrypted-at-rest",
  description: "ElastiCache Redis/Valkey replication groups encrypt at rest; standalone cache clusters, which cannot, are not used.",
  enforcementLevel: "mandatory",
  remediationSteps: "Set atRestEncryptionEnabled: true (and kmsKeyId for a customer key) on the aws.elasticache.ReplicationGroup; replace a standalone aws.elasticache.Cluster with a replication group.",
  validateResource: [
    validateResourceOfType(aws.elasticache.ReplicationGroup, (group, _args, report) => {
      // The provider defaults atRestEncryptionEnabled to false for the redis engine and to true for valkey.
      if (group.engine === "valkey") {
        if (isFalse(group.atRestEncryptionEnabled)) report("atRestEncryptionEnabled is false.");
      } else if (!isTrue(group.atRestEncryptionEnabled)) report("atRestEncryptionEnabled is not true (Redis defaults to false).");
    }),
    validateResourceOfType(aws.elasticache.Cluster, (cluster, args, report) => {
      if (isSet(peek(() => cluster.replicationGroupId))) args.notApplicable("A member of a replication group, which is checked instead");
      report("A standalone cache cluster cannot encrypt at rest; use a replication group.");
    }),
  ],
};

export const sqsQueueEncryption: PlatformResourcePolicy = {
  name: "sqs-queue-kms-encryption",
  description: "SQS queues encrypt messages with a KMS key (SSE-KMS), not SSE-SQS or nothing.",
  enforcementLevel: "mandatory",
  remediationSteps: "Set kmsMasterKeyId to the data key on the aws.sqs.Queue (its key policy must let the producing services use it).",
  validateResource: validateResourceOfType(aws.sqs.Queue, (queue, _args, report) => {
    if (!isSet(peek(() => queue.kmsMasterKeyId))) report("No kmsMasterKeyId.");
  }),
};

export const snsTopicEncryption: PlatformResourcePolicy = {
  name: "sns-topic-kms-encryption",
  description: "SNS topics encrypt messages with a KMS key.",
  enforcementLevel: "mandatory",
  remediationSteps: "Set kmsMasterKeyId to the data key on the aws.sns.Topic (its key policy must let publishers such as CloudWatch use it).",
  validateResource: validateResourceOfType(aws.sns.Topic, (topic, _args, report) => {
    if (!isSet(peek(() => topic.kmsMasterKeyId))) report("No kmsMasterKeyId.");
  }),
};

/** Destination blocks whose S3 (or S3 backup) writes take a kmsKeyArn. */
const FIREHOSE_S3_BLOCKS = [
  ["extendedS3Configuration", "extended S3 destination"],
  ["extendedS3Configuration.s3BackupConfiguration", "S3 backup of the extended S3 destination"],
  ["redshiftConfiguration.s3Configuration", "S3 staging of the Redshift destination"],
  ["redshiftConfiguration.s3BackupConfiguration", "S3 backup of the Redshift destination"],
  ["httpEndpointConfiguration.s3Configuration", "S3 backup of the HTTP endpoint destination"],
  ["elasticsearchConfiguration.s3Configuration", "S3 backup of the Elasticsearch destination"],
  ["opensearchConfiguration.s3Configuration", "S3 backup of the OpenSearch destination"],
  ["opensearchserverlessConfiguration.s3Configuration", "S3 backup of the OpenSearch Serverless destination"],
  ["splunkConfiguration.s3Configuration", "S3 backup of the Splunk destination"],
  ["snowflakeConfiguration.s3Configuration", "S3 backup of the Snowflake destination"],
  ["icebergConfiguration.s3Configuration", "S3 backup of the Iceberg destination"],
] as const;

function blockAt(root: any, dottedPath: string): any {
  return dottedPath.split(".").reduce((value, key) => (value === undefined || value === null ? undefined : value[key]), root);
}

export const firehoseEncryption: PlatformResourcePolicy = {
  name: "firehose-kms-encryption",
  description: "Firehose streams encrypt buffered data (Direct PUT sources) and write S3 objects with a KMS key.",
  enforcementLevel: "mandatory",
  remediationSteps:
    "Give every S3 destination block a kmsKeyArn. For Direct PUT streams also set serverSideEncryption: { enabled: true, keyType: \"CUSTOMER_MANAGED_CMK\", keyArn }; streams reading a Kinesis stream inherit that stream's encryption.",
  validateResource: validateResourceOfType(aws.kinesis.FirehoseDeliveryStream, (stream, _args, report) => {
    const readsFromStream = isSet(peek(() => stream.kinesisSourceConfiguration)) || isSet(peek(() => stream.mskSourceConfiguration));
    if (!readsFromStream) {
      const sse = stream.serverSideEncryption;
      if (!isTrue(sse?.enabled)) report("Direct PUT stream without serverSideEncryption.enabled.");
      else if (sse?.keyType !== "CUSTOMER_MANAGED_CMK" || !isSet(peek(() => sse?.keyArn))) report('serverSideEncryption should use keyType "CUSTOMER_MANAGED_CMK" with a keyArn.');
    }
    for (const [blockPath, label] of FIREHOSE_S3_BLOCKS) {
      const block = blockAt(stream, blockPath);
      if (block !== undefined && block !== null && !isSet(peek(() => block.kmsKeyArn))) report(`The ${label} has no kmsKeyArn.`);
    }
  }),
};

export const athenaResultsEncryption: PlatformResourcePolicy = {
  name: "athena-workgroup-results-kms",
  description: "Athena workgroups encrypt query results with KMS (SSE_KMS or CSE_KMS) and enforce that setting on clients.",
  enforcementLevel: "mandatory",
  remediationSteps:
    'Set configuration.resultConfiguration.encryptionConfiguration = { encryptionOption: "SSE_KMS", kmsKeyArn: <data key> } and configuration.enforceWorkgroupConfiguration = true.',
  validateResource: validateResourceOfType(aws.athena.Workgroup, (workgroup, _args, report) => {
    const encryption = workgroup.configuration?.resultConfiguration?.encryptionConfiguration;
    if (!["SSE_KMS", "CSE_KMS"].includes(encryption?.encryptionOption ?? "")) {
      report(`Query results are encrypted with ${encryption?.encryptionOption ?? "nothing"}, not SSE_KMS.`);
    } else if (!isSet(peek(() => encryption?.kmsKeyArn))) {
      report(`${encryption?.encryptionOption} without a kmsKeyArn.`);
    }
    // Without enforcement a client may override the result location and its encryption.
    if (workgroup.configuration?.enforceWorkgroupConfiguration === false) report("enforceWorkgroupConfiguration is false, so clients may write unencrypted results.");
  }),
};

export const logGroupEncryption: PlatformResourcePolicy = {
  name: "cloudwatch-log-group-kms",
  description: "CloudWatch log groups encrypt their events with a KMS key.",
  enforcementLevel: "mandatory",
  remediationSteps: "Set kmsKeyId to the platform logs key (keys.logsKeyArn) on the aws.cloudwatch.LogGroup; createInlineFunction already does this for Lambda logs.",
  validateResource: validateResourceOfType(aws.cloudwatch.LogGroup, (group, _args, report) => {
    if (!isSet(peek(() => group.kmsKeyId))) report("No kmsKeyId.");
  }),
};

export const encryptionAtRestPolicies: PlatformResourcePolicy[] = [
  kinesisStreamEncryption,
  dynamodbTableEncryption,
  rdsStorageEncryption,
  redshiftEncryption,
  elasticacheEncryptionAtRest,
  sqsQueueEncryption,
  snsTopicEncryption,
  firehoseEncryption,
  athenaResultsEncryption,
  logGroupEncryption,
];
