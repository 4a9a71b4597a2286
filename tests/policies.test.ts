/**
 * Every policy of the pack against hand-built resources: at least one compliant and one
 * non-compliant fixture each, plus the cases that decide a policy's reach (defaults AWS
 * applies, exceptions, config, values unknown during preview).
 */
import { BATCH_POLICIES } from "../policies/batch";
import { PLATFORM_POLICIES } from "../policies/catalog";
import { AWS_BACKUP_POLICY_CASES } from "./support/aws-backup-policy-cases";
import { KEY_ARN, PolicyCases, UNKNOWN_STRING, awsProvider, describePolicyCases, subject, urnOf } from "./support/policy-fixtures";


const DLQ_ARN = "arn:aws:sqs:eu-west-1:123456789012:dlq";
const STREAM_ARN = "arn:aws:kinesis:eu-west-1:123456789012:stream/events";
const T = {
  bucket: "aws:s3/bucket:Bucket",
  sse: "aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration",
  versioning: "aws:s3/bucketVersioning:BucketVersioning",
  logging: "aws:s3/bucketLogging:BucketLogging",
  bucketPolicy: "aws:s3/bucketPolicy:BucketPolicy",
  publicAccessBlock: "aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock",
  rdsCluster: "aws:rds/cluster:Cluster",
  rdsInstance: "aws:rds/instance:Instance",
  clusterParameterGroup: "aws:rds/clusterParameterGroup:ClusterParameterGroup",
  redshiftCluster: "aws:redshift/cluster:Cluster",
  redshiftParameterGroup: "aws:redshift/parameterGroup:ParameterGroup",
  workgroup: "aws:redshiftserverless/workgroup:Workgroup",
  namespace: "aws:redshiftserverless/namespace:Namespace",
  replicationGroup: "aws:elasticache/replicationGroup:ReplicationGroup",
  table: "aws:dynamodb/table:Table",
  queue: "aws:sqs/queue:Queue",
  mapping: "aws:lambda/eventSourceMapping:EventSourceMapping",
  lambda: "aws:lambda/function:Function",
  role: "aws:iam/role:Role",
  alarm: "aws:cloudwatch/metricAlarm:MetricAlarm",
  scalingPolicy: "aws:appautoscaling/policy:Policy",
  loadBalancer: "aws:lb/loadBalancer:LoadBalancer",
  taskDefinition: "aws:ecs/taskDefinition:TaskDefinition",
  ecsService: "aws:ecs/service:Service",
  repository: "aws:ecr/repository:Repository",
} as const;

const bucket = (name: string) => subject(T.bucket, { id: `${name}-id`, bucket: name, arn: `arn:aws:s3:::${name}` }, { name });
const sse = (bucketName: string, sseAlgorithm: string, kmsMasterKeyId?: string) =>
  subject(T.sse, { bucket: `${bucketName}-id`, rules: [{ applyServerSideEncryptionByDefault: { sseAlgorithm, kmsMasterKeyId } }] }, { name: `${bucketName}-sse` });
const logsTo = (source: string, target: string) => subject(T.logging, { bucket: `${source}-id`, targetBucket: `${target}-id`, targetPrefix: "logs/" }, { name: `${source}-logging` });
const versioning = (bucketName: string, status: string) => subject(T.versioning, { bucket: `${bucketName}-id`, versioningConfiguration: { status } }, { name: `${bucketName}-versioning` });
const tlsDeny = (arn: string) => ({ Effect: "Deny", Principal: "*", Action: "s3:*", Resource: [arn, `${arn}/*`], Condition: { Bool: { "aws:SecureTransport": "false" } } });
const bucketPolicy = (bucketName: string, statements: object[]) =>
  subject(T.bucketPolicy, { bucket: `${bucketName}-id`, policy: JSON.stringify({ Version: "2012-10-17", Statement: statements }) }, { name: `${bucketName}-policy` });
const publicAccessBlock = (bucketName: string, flags: Partial<Record<string, boolean>>) => subject(T.publicAccessBlock, { bucket: `${bucketName}-id`, ...flags }, { name: `${bucketName}-pab` });
const ALL_BLOCKED = { blockPublicAcls: true, blockPublicPolicy: true, ignorePublicAcls: true, restrictPublicBuckets: true };
const clusterParameterGroup = (name: string, parameters: object[]) => subject(T.clusterParameterGroup, { id: name, name, family: "aurora-postgresql16", parameters }, { name });
const queue = (name: string, props: Record<string, unknown> = {}) => subject(T.queue, { arn: `arn:aws:sqs:eu-west-1:123456789012:${name}`, kmsMasterKeyId: KEY_ARN, ...props }, { name });
const quarantiner = (name: string, props: Record<string, unknown> = {}) =>
  subject(T.lambda, { name, environment: { variables: { QUARANTINE_BUCKET: "dp-prod-lake-transformed" } }, ...props }, { name });
const quarantineAlarm = (functionName: string) =>
  subject(T.alarm, { namespace: "DataPlatform/Quarantine", metricName: "QuarantinedRecords", statistic: "Sum", threshold: 0, dimensions: { FunctionName: functionName } }, { name: `${functionName}-quarantined` });
const otherAlarm = subject("aws:cloudwatch/metricAlarm:MetricAlarm", { namespace: "AWS/Lambda", metricName: "Errors", dimensions: { FunctionName: "consumer" } }, { name: "consumer-errors" });
const goodMapping = {
  eventSourceArn: STREAM_ARN,
  startingPosition: "LATEST",
  functionResponseTypes: ["ReportBatchItemFailures"],
  bisectBatchOnFunctionError: true,
  maximumRetryAttempts: 3,
  destinationConfig: { onFailure: { destinationArn: DLQ_ARN } },
};
const goodReplicationRule = {
  id: "raw-to-eu-central-1",
  status: "Enabled",
  filter: {},
  deleteMarkerReplication: { status: "Enabled" },
  sourceSelectionCriteria: { sseKmsEncryptedObjects: { status: "Enabled" }, replicaModifications: { status: "Enabled" } },
  destination: {
    bucket: "arn:aws:s3:::dr-raw",
    encryptionConfiguration: { replicaKmsKeyId: "arn:aws:kms:eu-central-1:123456789012:key/mrk-1" },
    metrics: { status: "Enabled", eventThreshold: { minutes: 15 } },
    replicationTime: { status: "Enabled", time: { minutes: 15 } } as object | undefined,
  },
};
const replicationConfig = (rule: object) => subject("aws:s3/bucketReplicationConfig:BucketReplicationConfig", { bucket: "raw", role: "arn:aws:iam::123456789012:role/replication", rules: [rule] });
const PRIMARY_KEY_ARN = "arn:aws:kms:eu-west-1:123456789012:key/mrk-1";
const primaryKey = (props: Record<string, unknown>) => subject("aws:kms/key:Key", { arn: PRIMARY_KEY_ARN, ...props }, { name: "data" });
const replicaKey = (props: Record<string, unknown>) => subject("aws:kms/replicaKey:ReplicaKey", { primaryKeyArn: PRIMARY_KEY_ARN, ...props }, { name: "data-replica", provider: awsProvider("eu-central-1") });
const policyDoc = (statements: object[]) => JSON.stringify({ Version: "2012-10-17", Statement: statements });
/** A trust policy for service principal(s), with conditions when given. */
const trust = (service: string | string[], condition?: object) =>
  policyDoc([{ Effect: "Allow", Principal: { Service: service }, Action: "sts:AssumeRole", ...(condition ? { Condition: condition } : {}) }]);
const PROD_PROTECTION = { requireDeletionProtection: true, requirePulumiProtect: true };
const protectedCluster = { deletionProtection: true, skipFinalSnapshot: false, finalSnapshotIdentifier: "final" };
const r = subject;
const scalingAlarm = subject("aws:cloudwatch/metricAlarm:MetricAlarm", { alarmActions: ["arn:aws:autoscaling:eu-west-1:123456789012:scalingPolicy:0000:resource/ecs/service/c/s:policyName/scale-from-zero"] }, { name: "scale-alarm" });
/** A task definition whose one container is the hardened shape, with `changes` applied. */
const taskWith = (changes: Record<string, unknown>, containerDefinitions?: unknown) =>
  subject("aws:ecs/taskDefinition:TaskDefinition", {
    family: "svc",
    containerDefinitions: containerDefinitions ?? JSON.stringify([{
      name: "app",
      image: "123456789012.dkr.ecr.eu-west-1.amazonaws.com/app@sha256:abc",
      user: "1000:1000",
      readonlyRootFilesystem: true,
      logConfiguration: { logDriver: "awslogs", options: { "awslogs-group": "/ecs/app", "awslogs-region": "eu-west-1", "awslogs-stream-prefix": "app" } },
      environment: [{ name: "DB_HOST", value: "db" }, { name: "REDIS_AUTH_SECRET_ARN", value: "arn:aws:secretsmanager:eu-west-1:123456789012:secret:token" }],
      secrets: [{ name: "DB_SECRET", valueFrom: "arn:aws:secretsmanager:eu-west-1:123456789012:secret:db" }],
      ...changes,
    }]),
  }, { name: "svc-task" });
const budget = (limitAmount: string) => r("aws:budgets/budget:Budget", { limitAmount, limitUnit: "USD", budgetType: "COST" }, { name: "dp-dev-alerting-budget" });
const warehouseNodes = (numberOfNodes: number) => r(T.redshiftCluster, { nodeType: "ra3.xlplus", numberOfNodes }, { name: "dp-dev-warehouse-cluster" });

const CDN_ARN = "arn:aws:cloudfront::123456789012:distribution/E2EXAMPLE";
const CERT_ARN = "arn:aws:acm:us-east-1:123456789012:certificate/0f1e2d3c-4b5a-6978-8a9b-0c1d2e3f4a5b";
const API_BEHAVIOUR = { pathPattern: "/api/*", targetOriginId: "api", viewerProtocolPolicy: "https-only", responseHeadersPolicyId: "headers" };
/** A distribution as DashboardSite builds it, with `overrides` applied. */
const cdn = (overrides: Record<string, unknown> = {}) => subject("aws:cloudfront/distribution:Distribution", {
  arn: CDN_ARN,
  origins: [
    { originId: "site", domainName: "b.s3.eu-west-1.amazonaws.com", originAccessControlId: "oac" },
    { originId: "api", domainName: "abc.execute-api.eu-west-1.amazonaws.com", customOriginConfig: { originProtocolPolicy: "https-only" } },
  ],
  defaultCacheBehavior: { targetOriginId: "site", viewerProtocolPolicy: "redirect-to-https", responseHeadersPolicyId: "headers" },
  orderedCacheBehaviors: [API_BEHAVIOUR],
  viewerCertificate: { cloudfrontDefaultCertificate: true },
  ...overrides,
}, { name: "cdn" });
/** An HTTP API stage as the ingest and client APIs declare it, with `overrides` applied. */
const stage = (overrides: Record<string, unknown> = {}) => subject("aws:apigatewayv2/stage:Stage", {
  apiId: "api",
  name: "$default",
  defaultRouteSettings: { throttlingRateLimit: 50, throttlingBurstLimit: 100 },
  routeSettings: [{ routeKey: "POST /orders", throttlingRateLimit: 10, throttlingBurstLimit: 20 }],
  accessLogSettings: { destinationArn: "arn:aws:logs:eu-west-1:123456789012:log-group:api", format: '{"requestId":"$context.requestId"}' },
  ...overrides,
}, { name: "api-stage" });
const CASES: Record<string, PolicyCases> = {
  "cloudfront-https-only": {
    compliant: [{ label: "redirect and https-only behaviours", resources: [cdn()] }],
    violating: [{ label: "an allow-all API behaviour", resources: [cdn({ orderedCacheBehaviors: [{ ...API_BEHAVIOUR, viewerProtocolPolicy: "allow-all" }] })], expect: /\/api\/\* allows plain HTTP/ }],
  },
  "cloudfront-s3-origin-access-control": {
    compliant: [{ label: "an S3 origin with OAC and a custom API origin", resources: [cdn()] }],
    violating: [
      { label: "a legacy origin access identity", resources: [cdn({ origins: [{ originId: "site", domainName: "b.s3.eu-west-1.amazonaws.com", s3OriginConfig: { originAccessIdentity: "origin-access-identity/cloudfront/E1" } }] })], expect: /legacy origin access identity/ },
      { label: "a public website endpoint", resources: [cdn({ origins: [{ originId: "site", domainName: "b.s3-website-eu-west-1.amazonaws.com" }] })], expect: /website endpoint/ },
      { label: "an S3 origin without OAC", resources: [cdn({ origins: [{ originId: "site", domainName: "b.s3.eu-west-1.amazonaws.com" }] })], expect: /no Origin Access Control/ },
    ],
  },
  "cloudfront-security-headers": {
    compliant: [{ label: "headers on every behaviour", resources: [cdn()] }],
    violating: [{ label: "the API behaviour without headers", resources: [cdn({ orderedCacheBehaviors: [{ ...API_BEHAVIOUR, responseHeadersPolicyId: undefined }] })], expect: /\/api\/\* has no response headers policy/ }],
  },
  "cloudfront-viewer-tls12": {
    compliant: [
      { label: "the default certificate", resources: [cdn()] },
      { label: "a custom certificate with TLSv1.2_2021", resources: [cdn({ viewerCertificate: { acmCertificateArn: CERT_ARN, sslSupportMethod: "sni-only", minimumProtocolVersion: "TLSv1.2_2021" } })] },
    ],
    violating: [{ label: "a custom certificate allowing TLS 1.0", resources: [cdn({ viewerCertificate: { acmCertificateArn: CERT_ARN, sslSupportMethod: "sni-only", minimumProtocolVersion: "TLSv1" } })], expect: /allows TLS below 1.2/ }],
  },
  "cloudfront-access-logging": {
    compliant: [
      { label: "standard logging v2", resources: [cdn(), r("aws:cloudwatch/logDeliverySource:LogDeliverySource", { logType: "ACCESS_LOGS", resourceArn: CDN_ARN, region: "us-east-1" })] },
      { label: "legacy S3 logging", resources: [cdn({ loggingConfig: { bucket: "logs.s3.amazonaws.com" } })] },
    ],
    violating: [{ label: "no logging at all", resources: [cdn()], expect: /has no access logging/ }],
  },
  "apigateway-stage-access-logging": {
    compliant: [{ label: "a log group and a JSON format", resources: [stage()] }],
    violating: [
      { label: "no access logs", resources: [stage({ accessLogSettings: undefined })], expect: /has no accessLogSettings/ },
      { label: "a destination without a format", resources: [stage({ accessLogSettings: { destinationArn: "arn:aws:logs:eu-west-1:123456789012:log-group:api" } })], expect: /needs both destinationArn and format/ },
    ],
  },
  "apigateway-stage-throttling": {
    compliant: [{ label: "default and per-route limits", resources: [stage()] }],
    violating: [
      { label: "no default throttle", resources: [stage({ defaultRouteSettings: { detailedMetricsEnabled: true } })], expect: /defaultRouteSettings has no throttlingRateLimit and throttlingBurstLimit/ },
      { label: "a route entry without a burst", resources: [stage({ routeSettings: [{ routeKey: "POST /orders", throttlingRateLimit: 10 }] })], expect: /routeSettings for POST \/orders has no throttlingBurstLimit/ },
    ],
  },
  ...AWS_BACKUP_POLICY_CASES,
  "kinesis-stream-kms-encryption": {
    compliant: [
      { label: "KMS with a key", resources: [r("aws:kinesis/stream:Stream", { encryptionType: "KMS", kmsKeyId: KEY_ARN })] },
      { label: "KMS with a key unknown during preview", resources: [r("aws:kinesis/stream:Stream", { encryptionType: "KMS", kmsKeyId: UNKNOWN_STRING })] },
    ],
    violating: [
      { label: "no encryption", resources: [r("aws:kinesis/stream:Stream", {})], expect: /not KMS/ },
      { label: "KMS without key", resources: [r("aws:kinesis/stream:Stream", { encryptionType: "KMS" })], expect: /no kmsKeyId/ },
    ],
  },
  "dynamodb-table-cmk-encryption": {
    compliant: [{ label: "CMK on table and replica", resources: [r(T.table, { serverSideEncryption: { enabled: true, kmsKeyArn: KEY_ARN }, replicas: [{ regionName: "eu-central-1", kmsKeyArn: KEY_ARN }] })] }],
    violating: [
      { label: "AWS-owned key", resources: [r(T.table, {})], expect: /not enabled/ },
      { label: "AWS-managed key", resources: [r(T.table, { serverSideEncryption: { enabled: true } })], expect: /without kmsKeyArn/ },
      { label: "replica without key", resources: [r(T.table, { serverSideEncryption: { enabled: true, kmsKeyArn: KEY_ARN }, replicas: [{ regionName: "eu-central-1" }] })], expect: /eu-central-1 has no kmsKeyArn/ },
    ],
  },
  "rds-storage-encrypted": {
    compliant: [
      { label: "encrypted cluster", resources: [r(T.rdsCluster, { engine: "aurora-postgresql", storageEncrypted: true, kmsKeyId: KEY_ARN })] },
      { label: "read replica (inherits)", resources: [r(T.rdsInstance, { replicateSourceDb: "source-db" })] },
      { label: "global cluster from a source cluster", resources: [r("aws:rds/globalCluster:GlobalCluster", { globalClusterIdentifier: "g", sourceDbClusterIdentifier: "arn:aws:rds:eu-west-1:123456789012:cluster:c" })] },
    ],
    violating: [
      { label: "cluster left at the default", resources: [r(T.rdsCluster, { engine: "aurora-postgresql" })], expect: /storageEncrypted is not true/ },
      { label: "unencrypted instance", resources: [r(T.rdsInstance, { storageEncrypted: false })], expect: /storageEncrypted is not true/ },
    ],
  },
  "redshift-encrypted-with-cmk": {
    compliant: [
      { label: "cluster with CMK", resources: [r(T.redshiftCluster, { encrypted: "true", kmsKeyId: KEY_ARN })] },
      { label: "namespace with CMK", resources: [r(T.namespace, { namespaceName: "ns", kmsKeyId: KEY_ARN })] },
    ],
    violating: [
      { label: "unencrypted cluster", resources: [r(T.redshiftCluster, { encrypted: "false", kmsKeyId: KEY_ARN })], expect: /encrypted is false/ },
      { label: "cluster on the AWS-managed key", resources: [r(T.redshiftCluster, {})], expect: /No kmsKeyId/ },
      { label: "namespace without key", resources: [r(T.namespace, { namespaceName: "ns" })], expect: /No kmsKeyId/ },
    ],
  },
  "elasticache-encrypted-at-rest": {
    compliant: [
      { label: "encrypted replication group", resources: [r(T.replicationGroup, { atRestEncryptionEnabled: true })] },
      { label: "member of a replication group", resources: [r("aws:elasticache/cluster:Cluster", { replicationGroupId: "rg" })] },
      { label: "Valkey left at its default (encrypted)", resources: [r(T.replicationGroup, { engine: "valkey" })] },
    ],
    violating: [
      { label: "Redis default", resources: [r(T.replicationGroup, {})], expect: /atRestEncryptionEnabled/ },
      { label: "Redis engine named explicitly, left at its default", resources: [r(T.replicationGroup, { engine: "redis" })], expect: /Redis defaults to false/ },
      { label: "Valkey with encryption turned off", resources: [r(T.replicationGroup, { engine: "valkey", atRestEncryptionEnabled: false })], expect: /atRestEncryptionEnabled is false/ },
      { label: "standalone cluster", resources: [r("aws:elasticache/cluster:Cluster", { engine: "redis" })], expect: /standalone/ },
    ],
  },
  "sqs-queue-kms-encryption": {
    compliant: [{ label: "SSE-KMS", resources: [r(T.queue, { kmsMasterKeyId: KEY_ARN })] }],
    violating: [{ label: "SSE-SQS only", resources: [r(T.queue, { sqsManagedSseEnabled: true })], expect: /kmsMasterKeyId/ }],
  },
  "sns-topic-kms-encryption": {
    compliant: [{ label: "SSE-KMS", resources: [r("aws:sns/topic:Topic", { kmsMasterKeyId: KEY_ARN })] }],
    violating: [{ label: "unencrypted", resources: [r("aws:sns/topic:Topic", {})], expect: /kmsMasterKeyId/ }],
  },
  "firehose-kms-encryption": {
    compliant: [
      {
        label: "Direct PUT with CMK and encrypted S3 writes",
        resources: [
          r("aws:kinesis/firehoseDeliveryStream:FirehoseDeliveryStream", {
            destination: "extended_s3",
            serverSideEncryption: { enabled: true, keyType: "CUSTOMER_MANAGED_CMK", keyArn: KEY_ARN },
            extendedS3Configuration: { bucketArn: "arn:aws:s3:::raw", kmsKeyArn: KEY_ARN },
          }),
        ],
      },
      {
        label: "Kinesis source (encrypted by the stream)",
        resources: [
          r("aws:kinesis/firehoseDeliveryStream:FirehoseDeliveryStream", {
            destination: "extended_s3",
            kinesisSourceConfiguration: { kinesisStreamArn: STREAM_ARN, roleArn: "role" },
            extendedS3Configuration: { bucketArn: "arn:aws:s3:::raw", kmsKeyArn: KEY_ARN },
          }),
        ],
      },
    ],
    violating: [
      {
        label: "Direct PUT without SSE, S3 writes without key",
        resources: [r("aws:kinesis/firehoseDeliveryStream:FirehoseDeliveryStream", { destination: "extended_s3", extendedS3Configuration: { bucketArn: "arn:aws:s3:::raw" } })],
        expect: /without serverSideEncryption[\s\S]*extended S3 destination has no kmsKeyArn/,
      },
      ...(
        [
          ["snowflakeConfiguration", "s3Configuration", /Snowflake destination has no kmsKeyArn/],
          ["opensearchserverlessConfiguration", "s3Configuration", /OpenSearch Serverless destination has no kmsKeyArn/],
          ["elasticsearchConfiguration", "s3Configuration", /Elasticsearch destination has no kmsKeyArn/],
          ["redshiftConfiguration", "s3BackupConfiguration", /S3 backup of the Redshift destination has no kmsKeyArn/],
        ] as const
      ).map(([destination, block, expect]) => ({
        label: `${destination}.${block} without a key`,
        resources: [
          r("aws:kinesis/firehoseDeliveryStream:FirehoseDeliveryStream", {
            kinesisSourceConfiguration: { kinesisStreamArn: STREAM_ARN, roleArn: "role" },
            // Every other S3 block is encrypted, so only the named one can be the finding.
            [destination]: { s3Configuration: { bucketArn: "arn:aws:s3:::backup", kmsKeyArn: KEY_ARN }, [block]: { bucketArn: "arn:aws:s3:::backup" } },
          }),
        ],
        expect,
      })),
    ],
  },
  "athena-workgroup-results-kms": {
    compliant: [
      {
        label: "SSE_KMS enforced",
        resources: [r("aws:athena/workgroup:Workgroup", { configuration: { enforceWorkgroupConfiguration: true, resultConfiguration: { encryptionConfiguration: { encryptionOption: "SSE_KMS", kmsKeyArn: KEY_ARN } } } })],
      },
    ],
    violating: [
      { label: "SSE_S3 results", resources: [r("aws:athena/workgroup:Workgroup", { configuration: { resultConfiguration: { encryptionConfiguration: { encryptionOption: "SSE_S3" } } } })], expect: /SSE_S3, not SSE_KMS/ },
      {
        label: "not enforced",
        resources: [r("aws:athena/workgroup:Workgroup", { configuration: { enforceWorkgroupConfiguration: false, resultConfiguration: { encryptionConfiguration: { encryptionOption: "SSE_KMS", kmsKeyArn: KEY_ARN } } } })],
        expect: /enforceWorkgroupConfiguration is false/,
      },
    ],
  },
  "cloudwatch-log-group-kms": {
    compliant: [{ label: "logs key", resources: [r("aws:cloudwatch/logGroup:LogGroup", { kmsKeyId: KEY_ARN, retentionInDays: 7 })] }],
    violating: [{ label: "no key", resources: [r("aws:cloudwatch/logGroup:LogGroup", { retentionInDays: 7 })], expect: /No kmsKeyId/ }],
  },
  "s3-bucket-sse-kms": {
    compliant: [
      { label: "SSE-KMS by a configuration resource", resources: [bucket("raw"), sse("raw", "aws:kms", KEY_ARN)] },
      { label: "access log bucket on SSE-S3", resources: [bucket("raw"), sse("raw", "aws:kms", KEY_ARN), bucket("access-logs"), sse("access-logs", "AES256"), logsTo("raw", "access-logs")] },
      { label: "an ALB access-log bucket on SSE-S3 (ELB delivers to SSE-S3 only)", resources: [bucket("alb-logs"), sse("alb-logs", "AES256"), r(T.loadBalancer, { accessLogs: { bucket: "alb-logs", enabled: true } })] },
      {
        label: "correlated by property dependencies while the bucket id is unknown (preview)",
        resources: [
          bucket("raw"),
          subject(T.sse, { bucket: UNKNOWN_STRING, rules: [{ applyServerSideEncryptionByDefault: { sseAlgorithm: "aws:kms", kmsMasterKeyId: UNKNOWN_STRING } }] }, {
            name: "raw-sse",
            propertyDependencies: { bucket: [urnOf(T.bucket, "raw")] },
          }),
        ],
      },
    ],
    violating: [
      { label: "no encryption configuration", resources: [bucket("raw")], expect: /raw has no server-side encryption/ },
      { label: "SSE-S3 on a data bucket", resources: [bucket("raw"), sse("raw", "AES256")], expect: /only access log buckets may use AES256/ },
      { label: "KMS without a customer key", resources: [bucket("raw"), sse("raw", "aws:kms")], expect: /without a customer KMS key/ },
      { label: "configuration of another bucket", resources: [bucket("raw"), bucket("staged"), sse("staged", "aws:kms", KEY_ARN)], expect: /raw has no server-side encryption/ },
    ],
  },
  "s3-bucket-tls-only": {
    compliant: [{ label: "TLS deny statement", resources: [bucket("raw"), bucketPolicy("raw", [tlsDeny("arn:aws:s3:::raw")])] }],
    violating: [
      { label: "no bucket policy", resources: [bucket("raw")], expect: /raw has no bucket policy/ },
      { label: "policy without the deny", resources: [bucket("raw"), bucketPolicy("raw", [{ Effect: "Allow", Principal: { Service: "logging.s3.amazonaws.com" }, Action: "s3:PutObject", Resource: "arn:aws:s3:::raw/*" }])], expect: /no Deny for aws:SecureTransport/ },
    ],
  },
  "s3-lake-bucket-versioning": {
    compliant: [
      { label: "versioned lake bucket", resources: [bucket("dp-prod-lake-raw"), versioning("dp-prod-lake-raw", "Enabled")] },
      { label: "an unversioned bucket that is not a lake bucket", resources: [bucket("dp-prod-athena-results"), bucket("dp-prod-lake-raw"), versioning("dp-prod-lake-raw", "Enabled")] },
      { label: "an access log bucket named like a zone", resources: [bucket("raw-access-logs"), bucket("dp-lake-staged"), versioning("dp-lake-staged", "Enabled"), logsTo("dp-lake-staged", "raw-access-logs")] },
    ],
    violating: [
      { label: "unversioned raw bucket", resources: [bucket("dp-prod-lake-raw")], expect: /dp-prod-lake-raw does not have versioning/ },
      { label: "suspended versioning on a replica", resources: [bucket("dp-prod-lake-staged-replica"), versioning("dp-prod-lake-staged-replica", "Suspended")], expect: /staged-replica/ },
      { label: "a configured lake pattern", resources: [bucket("dp-prod-curated")], config: { lakeBucketPattern: "curated$" }, expect: /dp-prod-curated/ },
    ],
  },
  "s3-bucket-public-access-block": {
    compliant: [
      { label: "all four flags", resources: [bucket("raw"), publicAccessBlock("raw", ALL_BLOCKED)] },
      { label: "account-level block", resources: [bucket("raw"), subject("aws:s3/accountPublicAccessBlock:AccountPublicAccessBlock", ALL_BLOCKED)] },
    ],
    violating: [
      { label: "no block", resources: [bucket("raw")], expect: /raw has no public access block/ },
      { label: "one flag off", resources: [bucket("raw"), publicAccessBlock("raw", { ...ALL_BLOCKED, restrictPublicBuckets: false })], expect: /leaves restrictPublicBuckets off/ },
    ],
  },
  "rds-force-ssl": {
    compliant: [
      {
        label: "PostgreSQL cluster with rds.force_ssl = 1",
        resources: [r(T.rdsCluster, { engine: "aurora-postgresql", dbClusterParameterGroupName: "pg16" }), clusterParameterGroup("pg16", [{ name: "rds.force_ssl", value: "1", applyMethod: "pending-reboot" }])],
      },
      {
        label: "MySQL cluster with require_secure_transport",
        resources: [r(T.rdsCluster, { engine: "aurora-mysql", dbClusterParameterGroupName: "my8" }), clusterParameterGroup("my8", [{ name: "require_secure_transport", value: "ON" }])],
      },
    ],
    violating: [
      { label: "default parameter group", resources: [r(T.rdsCluster, { engine: "aurora-postgresql" })], expect: /does not use a parameter group/ },
      {
        label: "force_ssl off",
        resources: [r(T.rdsCluster, { engine: "aurora-postgresql", dbClusterParameterGroupName: "pg16" }), clusterParameterGroup("pg16", [{ name: "rds.force_ssl", value: "0" }])],
        expect: /rds.force_ssl is 0/,
      },
    ],
  },
  "redshift-require-ssl": {
    compliant: [
      {
        label: "cluster parameter group and serverless workgroup",
        resources: [
          r(T.redshiftCluster, { clusterParameterGroupName: "wh" }),
          r(T.redshiftParameterGroup, { id: "wh", name: "wh", family: "redshift-1.0", parameters: [{ name: "require_ssl", value: "true" }] }, { name: "wh" }),
          r(T.workgroup, { workgroupName: "wg", namespaceName: "ns", configParameters: [{ parameterKey: "require_ssl", parameterValue: "true" }] }),
        ],
      },
    ],
    violating: [
      { label: "default parameter group", resources: [r(T.redshiftCluster, {})], expect: /default parameter group/ },
      { label: "workgroup without require_ssl", resources: [r(T.workgroup, { workgroupName: "wg", namespaceName: "ns" })], expect: /does not set require_ssl/ },
    ],
  },
  "elasticache-transit-encryption-and-auth": {
    compliant: [
      { label: "TLS and AUTH token", resources: [r(T.replicationGroup, { transitEncryptionEnabled: true, authToken: "a-long-enough-token" })] },
      { label: "TLS and RBAC user group", resources: [r(T.replicationGroup, { transitEncryptionEnabled: true, userGroupIds: ["app-users"] })] },
    ],
    violating: [
      { label: "plain text", resources: [r(T.replicationGroup, { authToken: "a-long-enough-token" })], expect: /transitEncryptionEnabled is not true/ },
      { label: "preferred mode", resources: [r(T.replicationGroup, { transitEncryptionEnabled: true, transitEncryptionMode: "preferred", authToken: "t" })], expect: /preferred/ },
      { label: "no authentication", resources: [r(T.replicationGroup, { transitEncryptionEnabled: true })], expect: /No authToken/ },
    ],
  },
  "rds-backup-retention": {
    compliant: [
      { label: "default minimum of 2", resources: [r(T.rdsCluster, { backupRetentionPeriod: 2 })] },
      { label: "prod minimum of 7", resources: [r(T.rdsCluster, { backupRetentionPeriod: 14 })], config: { minBackupRetentionDays: 7 } },
    ],
    violating: [
      { label: "1 day", resources: [r(T.rdsCluster, { backupRetentionPeriod: 1 })], expect: /is 1 day\(s\); this stack requires at least 2/ },
      { label: "left to the AWS default", resources: [r(T.rdsInstance, {})], expect: /the AWS default/ },
      { label: "below the prod minimum", resources: [r(T.rdsCluster, { backupRetentionPeriod: 2 })], config: { minBackupRetentionDays: 7 }, expect: /at least 7/ },
    ],
  },
  "dynamodb-point-in-time-recovery": {
    compliant: [{ label: "PITR on table and replica", resources: [r(T.table, { pointInTimeRecovery: { enabled: true }, replicas: [{ regionName: "eu-central-1", pointInTimeRecovery: true }] })] }],
    violating: [
      { label: "PITR off", resources: [r(T.table, {})], expect: /pointInTimeRecovery is not enabled/ },
      { label: "replica without PITR", resources: [r(T.table, { pointInTimeRecovery: { enabled: true }, replicas: [{ regionName: "eu-central-1" }] })], expect: /eu-central-1/ },
    ],
  },
  "redshift-snapshot-retention": {
    compliant: [
      { label: "AWS default of 1 day", resources: [r(T.redshiftCluster, {})] },
      { label: "14 days", resources: [r(T.redshiftCluster, { automatedSnapshotRetentionPeriod: 14 })] },
    ],
    violating: [{ label: "snapshots off", resources: [r(T.redshiftCluster, { automatedSnapshotRetentionPeriod: 0 })], expect: /turns automated snapshots off/ }],
  },
  "elasticache-snapshot-retention": {
    compliant: [{ label: "7 days", resources: [r(T.replicationGroup, { snapshotRetentionLimit: 7 })] }],
    violating: [
      { label: "0", resources: [r(T.replicationGroup, { snapshotRetentionLimit: 0 })], expect: /snapshotRetentionLimit is 0/ },
      { label: "unset", resources: [r(T.replicationGroup, {})], expect: /unset/ },
    ],
  },
  "database-deletion-protection": {
    compliant: [
      { label: "protected prod cluster", resources: [r(T.rdsCluster, protectedCluster, { protect: true })], config: PROD_PROTECTION },
      { label: "protected prod table", resources: [r(T.table, { deletionProtectionEnabled: true }, { protect: true })], config: PROD_PROTECTION },
      { label: "dev config requires nothing", resources: [r(T.rdsCluster, { skipFinalSnapshot: true })], config: { requireDeletionProtection: false, requirePulumiProtect: false } },
      { label: "protected prod global cluster", resources: [r("aws:rds/globalCluster:GlobalCluster", { globalClusterIdentifier: "g", deletionProtection: true }, { protect: true })], config: PROD_PROTECTION },
      { label: "protected prod Serverless namespace", resources: [r(T.namespace, { namespaceName: "ns", kmsKeyId: KEY_ARN }, { protect: true })], config: PROD_PROTECTION },
    ],
    violating: [
      { label: "unprotected cluster", resources: [r(T.rdsCluster, { skipFinalSnapshot: true })], config: PROD_PROTECTION, expect: /deletionProtection is not true[\s\S]*skipFinalSnapshot is true[\s\S]*not `protect`ed/ },
      { label: "final snapshot without a name", resources: [r(T.redshiftCluster, {}, { protect: true })], config: PROD_PROTECTION, expect: /No finalSnapshotIdentifier/ },
      { label: "table without deletion protection", resources: [r(T.table, {}, { protect: true })], config: { requireDeletionProtection: true }, expect: /deletionProtectionEnabled/ },
      { label: "global cluster without deletion protection", resources: [r("aws:rds/globalCluster:GlobalCluster", { globalClusterIdentifier: "g" })], config: PROD_PROTECTION, expect: /deletionProtection is not true[\s\S]*not `protect`ed/ },
      { label: "unprotected Serverless namespace", resources: [r(T.namespace, { namespaceName: "ns", kmsKeyId: KEY_ARN })], config: PROD_PROTECTION, expect: /not `protect`ed/ },
    ],
  },
  "databases-not-publicly-accessible": {
    compliant: [
      { label: "private Aurora instance", resources: [r("aws:rds/clusterInstance:ClusterInstance", { publiclyAccessible: false })] },
      { label: "Redshift left at the default", resources: [r(T.redshiftCluster, {})] },
    ],
    violating: [
      { label: "public Aurora instance", resources: [r("aws:rds/clusterInstance:ClusterInstance", { publiclyAccessible: true })], expect: /public address/ },
      { label: "public workgroup", resources: [r(T.workgroup, { publiclyAccessible: true })], expect: /public address/ },
    ],
  },
  "iam-no-full-access-managed-policies": {
    compliant: [
      { label: "customer-managed policy attachment", resources: [r("aws:iam/rolePolicyAttachment:RolePolicyAttachment", { role: "r", policyArn: "arn:aws:iam::123456789012:policy/reader" })] },
      { label: "narrow AWS-managed policy", resources: [r("aws:iam/role:Role", { managedPolicyArns: ["arn:aws:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole"] })] },
    ],
    violating: [
      { label: "CallbackFunction's default", resources: [r("aws:iam/rolePolicyAttachment:RolePolicyAttachment", { role: "r", policyArn: "arn:aws:iam::aws:policy/AWSLambda_FullAccess" })], expect: /AWSLambda_FullAccess/ },
      { label: "administrator on a role", resources: [r("aws:iam/role:Role", { managedPolicyArns: ["arn:aws:iam::aws:policy/AdministratorAccess"] })], expect: /AdministratorAccess/ },
    ],
  },
  "iam-no-wildcard-admin-statements": {
    compliant: [
      { label: "scoped statements and X-Ray on *", resources: [r("aws:iam/rolePolicy:RolePolicy", { role: "r", policy: policyDoc([{ Effect: "Allow", Action: ["xray:PutTraceSegments"], Resource: "*" }, { Effect: "Allow", Action: "s3:GetObject", Resource: "arn:aws:s3:::raw/*" }]) })] },
    ],
    violating: [
      { label: "Action * on Resource *", resources: [r("aws:iam/rolePolicy:RolePolicy", { role: "r", policy: policyDoc([{ Sid: "God", Effect: "Allow", Action: "*", Resource: "*" }]) })], expect: /statement God/ },
      { label: "*:* in a managed policy", resources: [r("aws:iam/policy:Policy", { policy: policyDoc([{ Effect: "Allow", Action: ["*:*"], Resource: ["*"] }]) })], expect: /managed policy allows/ },
      { label: "inline policy on a role", resources: [r("aws:iam/role:Role", { inlinePolicies: [{ name: "all", policy: policyDoc([{ Effect: "Allow", Action: "*", Resource: "*" }]) }] })], expect: /Inline policy all/ },
    ],
  },
  "iam-service-role-confused-deputy": {
    compliant: [
      {
        label: "flow-log role bound to this account's flow logs",
        resources: [r(T.role, { assumeRolePolicy: trust("vpc-flow-logs.amazonaws.com", { StringEquals: { "aws:SourceAccount": "123456789012" }, ArnLike: { "aws:SourceArn": "arn:aws:ec2:eu-west-1:123456789012:vpc-flow-log/*" } }) })],
      },
      { label: "Firehose role bound by the external id Firehose documents", resources: [r(T.role, { assumeRolePolicy: trust("firehose.amazonaws.com", { StringEquals: { "sts:ExternalId": "123456789012" } }) })] },
      { label: "a condition key in another case (IAM keys are case-insensitive)", resources: [r(T.role, { assumeRolePolicy: trust("backup.amazonaws.com", { StringEquals: { "AWS:SourceAccount": "123456789012" } }) })] },
      { label: "Lambda execution role (documented without source keys)", resources: [r(T.role, { assumeRolePolicy: trust("lambda.amazonaws.com") })] },
      { label: "a role for a user, not a service", resources: [r(T.role, { assumeRolePolicy: JSON.stringify({ Version: "2012-10-17", Statement: [{ Effect: "Allow", Principal: { AWS: "arn:aws:iam::123456789012:root" }, Action: "sts:AssumeRole" }] }) })] },
      { label: "a trust policy unknown during preview", resources: [r(T.role, { assumeRolePolicy: UNKNOWN_STRING })] },
    ],
    violating: [
      { label: "flow-log role any account's flow logs could use", resources: [r(T.role, { assumeRolePolicy: trust("vpc-flow-logs.amazonaws.com") })], expect: /lets vpc-flow-logs\.amazonaws\.com assume this role without aws:SourceAccount or aws:SourceArn/ },
      { label: "Firehose role without its external id", resources: [r(T.role, { assumeRolePolicy: trust("firehose.amazonaws.com") })], expect: /or sts:ExternalId \(Firehose passes this account's id/ },
      { label: "sts:ExternalId where the service documents source keys", resources: [r(T.role, { assumeRolePolicy: trust("vpc-flow-logs.amazonaws.com", { StringEquals: { "sts:ExternalId": "x" } }) })], expect: /vpc-flow-logs/ },
      { label: "one service of two left unbound", resources: [r(T.role, { assumeRolePolicy: trust(["lambda.amazonaws.com", "states.amazonaws.com"]) })], expect: /lets states\.amazonaws\.com assume/ },
    ],
  },
  "service-resource-policy-confused-deputy": {
    compliant: [
      { label: "S3 publishing to a topic from one bucket of one account", resources: [r("aws:sns/topicPolicy:TopicPolicy", { arn: "t", policy: policyDoc([{ Effect: "Allow", Principal: { Service: "s3.amazonaws.com" }, Action: "sns:Publish", Resource: "t", Condition: { ArnEquals: { "aws:SourceArn": "arn:aws:s3:::staged" }, StringEquals: { "aws:SourceAccount": "123456789012" } } }]) })] },
      { label: "EventBridge dead letters from one rule", resources: [r("aws:sqs/queuePolicy:QueuePolicy", { queueUrl: "q", policy: policyDoc([{ Effect: "Allow", Principal: { Service: "events.amazonaws.com" }, Action: "sqs:SendMessage", Resource: "q", Condition: { ArnEquals: { "aws:SourceArn": "arn:aws:events:eu-west-1:123456789012:rule/r" } } }]) })] },
      { label: "a TLS-only deny for everyone", resources: [r(T.bucketPolicy, { bucket: "b", policy: policyDoc([tlsDeny("arn:aws:s3:::b")]) })] },
      { label: "S3 invoking a function for one bucket of one account", resources: [r("aws:lambda/permission:Permission", { action: "lambda:InvokeFunction", function: "f", principal: "s3.amazonaws.com", sourceArn: "arn:aws:s3:::raw", sourceAccount: "123456789012" })] },
      { label: "a permission for another account (not a service)", resources: [r("aws:lambda/permission:Permission", { action: "lambda:InvokeFunction", function: "f", principal: "123456789012" })] },
    ],
    violating: [
      { label: "log delivery into a bucket from anywhere", resources: [r(T.bucketPolicy, { bucket: "logs", policy: policyDoc([{ Effect: "Allow", Principal: { Service: "logging.s3.amazonaws.com" }, Action: "s3:PutObject", Resource: "arn:aws:s3:::logs/*" }]) })], expect: /bucket policy admits logging\.s3\.amazonaws\.com without aws:SourceArn/ },
      { label: "CloudWatch and Budgets publishing with no condition", resources: [r("aws:sns/topicPolicy:TopicPolicy", { arn: "t", policy: policyDoc([{ Effect: "Allow", Principal: { Service: ["cloudwatch.amazonaws.com", "budgets.amazonaws.com"] }, Action: "sns:Publish", Resource: "t" }]) })], expect: /topic policy admits cloudwatch\.amazonaws\.com[\s\S]*budgets\.amazonaws\.com/ },
      { label: "SNS sending to a queue from any topic", resources: [r("aws:sqs/queuePolicy:QueuePolicy", { queueUrl: "q", policy: policyDoc([{ Effect: "Allow", Principal: { Service: "sns.amazonaws.com" }, Action: "sqs:SendMessage", Resource: "q" }]) })], expect: /queue policy admits sns\.amazonaws\.com/ },
      { label: "API Gateway invoking a function from any API", resources: [r("aws:lambda/permission:Permission", { action: "lambda:InvokeFunction", function: "f", principal: "apigateway.amazonaws.com" })], expect: /lets apigateway\.amazonaws\.com invoke the function without sourceArn or sourceAccount/ },
    ],
  },
  "kinesis-consumer-failure-handling": {
    compliant: [
      { label: "partial failures, bisect, bounded retries, DLQ", resources: [r(T.mapping, goodMapping)] },
      { label: "an SQS mapping is out of scope", resources: [r(T.mapping, { eventSourceArn: DLQ_ARN, functionName: "f" })] },
      { label: "stream ARN unknown during preview", resources: [r(T.mapping, { ...goodMapping, eventSourceArn: UNKNOWN_STRING })] },
    ],
    violating: [
      { label: "defaults", resources: [r(T.mapping, { eventSourceArn: STREAM_ARN, startingPosition: "LATEST" })], expect: /ReportBatchItemFailures[\s\S]*bisect[\s\S]*unlimited[\s\S]*onFailure/ },
      { label: "stream ARN unknown, detected by startingPosition", resources: [r(T.mapping, { eventSourceArn: UNKNOWN_STRING, startingPosition: "TRIM_HORIZON" })], expect: /onFailure/ },
    ],
  },
  "quarantine-alarmed": {
    compliant: [
      { label: "a quarantining function with its alarm", resources: [quarantiner("consumer"), quarantineAlarm("consumer"), otherAlarm] },
      { label: "a stage with alarms off", resources: [quarantiner("consumer")] },
      { label: "a stage with alarms off whose only alarms drive scaling policies", resources: [quarantiner("consumer"), scalingAlarm] },
      {
        label: "a scaling alarm whose policy ARN is unknown during preview",
        resources: [quarantiner("consumer"), r(T.scalingPolicy, {}, { name: "scale-from-zero" }), r(T.alarm, { alarmActions: [UNKNOWN_STRING] }, { name: "backlog", propertyDependencies: { alarmActions: [urnOf(T.scalingPolicy, "scale-from-zero")] } })],
      },
      { label: "functions that do not quarantine", resources: [r(T.lambda, { name: "loader", environment: { variables: { STAGED_BUCKET: "s" } } }), otherAlarm] },
      {
        label: "an alarm matched by property dependencies during preview",
        resources: [
          quarantiner("consumer-new", { name: UNKNOWN_STRING }),
          r(T.alarm, { namespace: "DataPlatform/Quarantine", metricName: "QuarantinedRecords", dimensions: { FunctionName: UNKNOWN_STRING } }, { propertyDependencies: { dimensions: [urnOf(T.lambda, "consumer-new")] } }),
        ],
      },
    ],
    violating: [
      { label: "a quarantining function in an alarming stack without its alarm", resources: [quarantiner("consumer"), otherAlarm], expect: /Function consumer quarantines records, but no alarm watches its QuarantinedRecords metric/ },
      { label: "an alarm on another function's metric", resources: [quarantiner("consumer"), quarantiner("other"), quarantineAlarm("other")], expect: /Function consumer quarantines records/ },
      { label: "an alarming stage that also scales", resources: [quarantiner("consumer"), scalingAlarm, otherAlarm], expect: /Function consumer quarantines records/ },
    ],
  },
  "sqs-queue-has-dead-letter-queue": {
    compliant: [
      { label: "queue with its DLQ", resources: [queue("ingest", { redrivePolicy: JSON.stringify({ deadLetterTargetArn: DLQ_ARN, maxReceiveCount: 5 }) }), queue("dlq")] },
      { label: "a Kinesis mapping's on-failure queue", resources: [queue("dlq"), r(T.mapping, goodMapping)] },
      {
        label: "a Kinesis mapping's on-failure queue created in the same update (ARNs unknown during preview)",
        resources: [
          queue("dlq-new", { arn: UNKNOWN_STRING }),
          r(T.mapping, { ...goodMapping, destinationConfig: { onFailure: { destinationArn: UNKNOWN_STRING } } }, { propertyDependencies: { destinationConfig: [urnOf(T.queue, "dlq-new")] } }),
        ],
      },
      { label: "an EventBridge target's dead-letter queue", resources: [queue("dlq"), r("aws:cloudwatch/eventTarget:EventTarget", { rule: "rule", arn: "fn", deadLetterConfig: { arn: DLQ_ARN } })] },
      {
        label: "a Scheduler schedule's dead-letter queue",
        resources: [queue("dlq"), r("aws:scheduler/schedule:Schedule", { scheduleExpression: "cron(0 2 * * ? *)", target: { arn: "sm", roleArn: "role", deadLetterConfig: { arn: DLQ_ARN } } })],
      },
      {
        label: "an SNS subscription's dead-letter queue",
        resources: [queue("dlq"), r("aws:sns/topicSubscription:TopicSubscription", { topic: "t", protocol: "lambda", endpoint: "fn", redrivePolicy: JSON.stringify({ deadLetterTargetArn: DLQ_ARN }) })],
      },
      {
        label: "DLQ found by property dependencies during preview",
        resources: [queue("ingest", { redrivePolicy: UNKNOWN_STRING }), queue("dlq-new", { arn: UNKNOWN_STRING })].map((q, i) =>
          i === 0 ? { ...q, propertyDependencies: { redrivePolicy: [urnOf(T.queue, "dlq-new")] } } : q,
        ),
      },
    ],
    violating: [
      { label: "queue without redrive", resources: [queue("ingest")], expect: /ingest has no redrive policy/ },
      {
        label: "a queue another resource's DLQ settings do not name",
        resources: [queue("dlq"), queue("other"), r("aws:cloudwatch/eventTarget:EventTarget", { rule: "rule", arn: "fn", deadLetterConfig: { arn: DLQ_ARN } })],
        expect: /other has no redrive policy/,
      },
    ],
  },
  "lambda-runtime-supported": {
    compliant: [{ label: "nodejs22.x in November 2026", resources: [r(T.lambda, { runtime: "nodejs22.x" })], config: { asOfDate: "2026-11-21" } }],
    violating: [
      { label: "nodejs20.x after 2026-04-30", resources: [r(T.lambda, { runtime: "nodejs20.x" })], config: { asOfDate: "2026-11-21" }, expect: /nodejs20.x was deprecated on 2026-04-30/ },
      { label: "python3.9", resources: [r(T.lambda, { runtime: "python3.9" })], config: { asOfDate: "2026-11-21" }, expect: /python3.9/ },
      { label: "nodejs22.x once its date passes", resources: [r(T.lambda, { runtime: "nodejs22.x" })], config: { asOfDate: "2027-05-01" }, expect: /2027-04-30/ },
    ],
  },
  "kms-key-rotation": {
    compliant: [
      { label: "rotating key", resources: [r("aws:kms/key:Key", { enableKeyRotation: true })] },
      { label: "asymmetric key (cannot rotate)", resources: [r("aws:kms/key:Key", { customerMasterKeySpec: "RSA_2048", keyUsage: "SIGN_VERIFY" })] },
    ],
    violating: [{ label: "rotation off", resources: [r("aws:kms/key:Key", {})], expect: /enableKeyRotation/ }],
  },
  "allowed-regions": {
    compliant: [
      { label: "primary provider's region", resources: [r(T.queue, { kmsMasterKeyId: KEY_ARN })], config: { allowedRegions: ["eu-west-1", "eu-central-1"] } },
      { label: "no restriction configured", resources: [r(T.queue, {}, { provider: awsProvider("us-east-1") })] },
    ],
    violating: [
      { label: "provider in another region", resources: [r(T.queue, {}, { provider: awsProvider("us-east-1") })], config: { allowedRegions: ["eu-west-1"] }, expect: /us-east-1 is not among/ },
      { label: "resource-level region override", resources: [r(T.queue, { region: "ap-south-1" })], config: { allowedRegions: ["eu-west-1"] }, expect: /ap-south-1/ },
      { label: "the provider itself", resources: [r("pulumi:providers:aws", { region: "us-west-2" }, { provider: null })], config: { allowedRegions: ["eu-west-1"] }, expect: /us-west-2/ },
    ],
  },
  "s3-replication-rules": {
    compliant: [
      { label: "a rule as DrReplication builds it", resources: [replicationConfig(goodReplicationRule)], config: { requireReplicationTimeControl: true } },
      { label: "no RTC where the stack does not require it", resources: [replicationConfig({ ...goodReplicationRule, destination: { ...goodReplicationRule.destination, replicationTime: undefined } })] },
      { label: "a replica key unknown during preview", resources: [replicationConfig({ ...goodReplicationRule, destination: { ...goodReplicationRule.destination, encryptionConfiguration: { replicaKmsKeyId: UNKNOWN_STRING } } })] },
    ],
    violating: [
      { label: "SSE-KMS objects not selected", resources: [replicationConfig({ ...goodReplicationRule, sourceSelectionCriteria: { replicaModifications: { status: "Enabled" } } })], expect: /does not select SSE-KMS objects/ },
      { label: "a replica key given by alias", resources: [replicationConfig({ ...goodReplicationRule, destination: { ...goodReplicationRule.destination, encryptionConfiguration: { replicaKmsKeyId: "alias/dp-prod-keys-data" } } })], expect: /full key-ARN form/ },
      { label: "a filter without delete-marker replication", resources: [replicationConfig({ ...goodReplicationRule, deleteMarkerReplication: undefined })], expect: /does not replicate delete markers/ },
      { label: "no replica modification sync", resources: [replicationConfig({ ...goodReplicationRule, sourceSelectionCriteria: { sseKmsEncryptedObjects: { status: "Enabled" } } })], expect: /replica modifications/ },
      { label: "no metrics", resources: [replicationConfig({ ...goodReplicationRule, destination: { ...goodReplicationRule.destination, metrics: undefined } })], expect: /no replication metrics/ },
      { label: "no RTC where prod requires it", resources: [replicationConfig({ ...goodReplicationRule, destination: { ...goodReplicationRule.destination, replicationTime: undefined } })], config: { requireReplicationTimeControl: true }, expect: /Replication Time Control/ },
    ],
  },
  "aurora-global-member-ignore-changes": {
    compliant: [
      { label: "a member ignoring its membership fields", resources: [r(T.rdsCluster, { globalClusterIdentifier: "g" }, { ignoreChanges: ["replicationSourceIdentifier", "globalClusterIdentifier", "engineVersion", "databaseName"] })] },
      { label: "a regional cluster", resources: [r(T.rdsCluster, { engine: "aurora-postgresql" })] },
    ],
    violating: [
      { label: "a member an update would detach", resources: [r(T.rdsCluster, { globalClusterIdentifier: "g" }, { ignoreChanges: ["engineVersion"] })], expect: /replicationSourceIdentifier, globalClusterIdentifier/ },
    ],
  },
  "aurora-cluster-has-instances": {
    compliant: [{ label: "a cluster with an instance", resources: [r(T.rdsCluster, { id: "c1", clusterIdentifier: "c1" }, { name: "c1" }), r("aws:rds/clusterInstance:ClusterInstance", { clusterIdentifier: "c1" }, { name: "c1-writer" })] }],
    violating: [
      { label: "a headless cluster", resources: [r(T.rdsCluster, { id: "c1", clusterIdentifier: "c1" }, { name: "c1" }), r("aws:rds/clusterInstance:ClusterInstance", { clusterIdentifier: "other" }, { name: "other-writer" })], expect: /Cluster c1 has no instance/ },
    ],
  },
  "redshift-cross-region-snapshot-copy": {
    compliant: [
      { label: "a copy under a grant", resources: [r("aws:redshift/snapshotCopy:SnapshotCopy", { clusterIdentifier: "w", destinationRegion: "eu-central-1", snapshotCopyGrantName: "g", retentionPeriod: 7 })] },
      { label: "a grant with a customer key", resources: [r("aws:redshift/snapshotCopyGrant:SnapshotCopyGrant", { snapshotCopyGrantName: "g", kmsKeyId: KEY_ARN })] },
    ],
    violating: [
      { label: "a copy without a grant", resources: [r("aws:redshift/snapshotCopy:SnapshotCopy", { clusterIdentifier: "w", destinationRegion: "eu-central-1" })], expect: /No snapshotCopyGrantName/ },
      { label: "copies kept no time", resources: [r("aws:redshift/snapshotCopy:SnapshotCopy", { clusterIdentifier: "w", destinationRegion: "eu-central-1", snapshotCopyGrantName: "g", retentionPeriod: 0 })], expect: /retentionPeriod is 0/ },
      { label: "a grant on the AWS-managed key", resources: [r("aws:redshift/snapshotCopyGrant:SnapshotCopyGrant", { snapshotCopyGrantName: "g" })], expect: /No kmsKeyId/ },
    ],
  },
  "monthly-cost-within-budget": {
    compliant: [
      { label: "an estimate within the budget", resources: [budget("1000.00"), warehouseNodes(1)], config: { assumptions: "dev" } },
      { label: "a stack without a budget", resources: [warehouseNodes(1)], config: { assumptions: "dev" } },
      { label: "a stack without cost assumptions", resources: [budget("1.00"), warehouseNodes(1)] },
      { label: "a node type unknown during preview (left unpriced)", resources: [budget("1.00"), r(T.redshiftCluster, { nodeType: UNKNOWN_STRING, numberOfNodes: 1 })], config: { assumptions: "dev" } },
    ],
    violating: [
      // One ra3.xlplus node in eu-west-1: 730 h × $1.16 = $846.80, plus 20 GB managed storage × $0.024 = $0.48: $847.28.
      { label: "an estimate above the budget", resources: [budget("300.00"), warehouseNodes(1)], config: { assumptions: "dev" }, expect: /Estimated \$847\.28 a month .* exceeds the budget \$300\.00 by \$547\.28/ },
    ],
  },
  "kms-replica-key-of-rotating-key": {
    compliant: [{ label: "a replica of a rotating multi-Region key", resources: [primaryKey({ multiRegion: true, enableKeyRotation: true }), replicaKey({})] }],
    violating: [
      { label: "a replica of a key that does not rotate", resources: [primaryKey({ multiRegion: true, enableKeyRotation: false }), replicaKey({})], expect: /does not rotate/ },
      { label: "a disabled replica", resources: [primaryKey({ multiRegion: true, enableKeyRotation: true }), replicaKey({ enabled: false })], expect: /is disabled/ },
      { label: "a replica of a key from elsewhere", resources: [replicaKey({})], expect: /does not replicate a key of this stack/ },
    ],
  },
  "ssm-parameters-no-plain-secrets": {
    compliant: [
      { label: "an endpoint parameter", resources: [r("aws:ssm/parameter:Parameter", { name: "/dp-prod/dr/endpoints/ingest-stream-arn", type: "String", value: "arn" })] },
      { label: "a SecureString under a customer key", resources: [r("aws:ssm/parameter:Parameter", { name: "/app/db-password", type: "SecureString", keyId: KEY_ARN })] },
    ],
    violating: [
      { label: "a password in plain text", resources: [r("aws:ssm/parameter:Parameter", { name: "/app/db-password", type: "String" })], expect: /looks like a secret/ },
      { label: "a SecureString on the AWS-managed key", resources: [r("aws:ssm/parameter:Parameter", { name: "/app/token", type: "SecureString" })], expect: /without keyId/ },
    ],
  },
  "ecs-service-no-public-ip": {
    compliant: [{ label: "awsvpc without public IPs", resources: [r(T.ecsService, { networkConfiguration: { subnets: ["subnet-private-1"], securityGroups: ["sg"], assignPublicIp: false } })] }],
    violating: [
      { label: "public IPs on every task", resources: [r(T.ecsService, { networkConfiguration: { subnets: ["subnet-public-1"], assignPublicIp: true } })], expect: /assignPublicIp is true/ },
      { label: "no network configuration", resources: [r(T.ecsService, {})], expect: /no networkConfiguration/ },
    ],
  },
  "ecs-task-non-root-user": {
    compliant: [
      { label: "uid 1000", resources: [taskWith({})] },
      { label: "the document unknown during preview (checked on update)", resources: [taskWith({}, UNKNOWN_STRING)] },
    ],
    violating: [
      { label: "no user (the image's, root by default)", resources: [taskWith({ user: undefined })], expect: /no user set/ },
      { label: "root by uid", resources: [taskWith({ user: "0:0" })], expect: /runs as "0:0"/ },
      { label: "root by name", resources: [taskWith({ user: "root" })], expect: /runs as "root"/ },
    ],
  },
  "ecs-task-read-only-root-filesystem": {
    compliant: [{ label: "read-only root", resources: [taskWith({})] }],
    violating: [{ label: "writable root", resources: [taskWith({ readonlyRootFilesystem: false })], expect: /writable root filesystem/ }],
  },
  "ecs-task-logging-configured": {
    compliant: [{ label: "awslogs to a group", resources: [taskWith({})] }],
    violating: [
      { label: "no log configuration", resources: [taskWith({ logConfiguration: undefined })], expect: /no logConfiguration/ },
      { label: "awslogs without a group", resources: [taskWith({ logConfiguration: { logDriver: "awslogs", options: {} } })], expect: /without an awslogs-group/ },
    ],
  },
  "ecs-task-no-plain-secrets": {
    compliant: [{ label: "secrets through `secrets`, ARNs in the environment", resources: [taskWith({})] }],
    violating: [
      { label: "a password in the environment", resources: [taskWith({ environment: [{ name: "DB_PASSWORD", value: "hunter2hunter2" }] })], expect: /DB_PASSWORD looks like a secret/ },
      { label: "an access key under an innocent name", resources: [taskWith({ environment: [{ name: "SETTING", value: "AKIAABCDEFGHIJKLMNOP" }] })], expect: /SETTING looks like a secret/ },
    ],
  },
  "ecr-repository-scan-on-push": {
    compliant: [{ label: "scan on push", resources: [r(T.repository, { imageScanningConfiguration: { scanOnPush: true }, imageTagMutability: "IMMUTABLE" })] }],
    violating: [{ label: "no scanning", resources: [r(T.repository, { imageTagMutability: "IMMUTABLE" })], expect: /scanOnPush is not true/ }],
  },
  "ecr-repository-immutable-tags": {
    compliant: [{ label: "immutable tags", resources: [r(T.repository, { imageScanningConfiguration: { scanOnPush: true }, imageTagMutability: "IMMUTABLE" })] }],
    violating: [
      { label: "mutable by default", resources: [r(T.repository, { imageScanningConfiguration: { scanOnPush: true } })], expect: /imageTagMutability is MUTABLE/ },
    ],
  },
  "required-tags": {
    compliant: [
      { label: "tags from the provider's defaultTags", resources: [r(T.queue, {})] },
      { label: "own tags without default tags", resources: [r(T.queue, { tags: { Owner: "o", CostCentre: "c", Stage: "s" } }, { provider: awsProvider("eu-west-1", null) })] },
      { label: "tagsAll computed by the provider", resources: [r(T.queue, { tagsAll: { Owner: "o", CostCentre: "c", Stage: "s" } }, { provider: null })] },
      { label: "a type without tags", resources: [r("aws:sqs/queuePolicy:QueuePolicy", {}, { provider: null })] },
    ],
    violating: [
      { label: "provider without defaultTags", resources: [r(T.queue, {}, { provider: awsProvider("eu-west-1", null) })], expect: /Missing tag\(s\) Owner, CostCentre, Stage/ },
      { label: "empty tag value and a configured key", resources: [r(T.queue, { tags: { Owner: " " } })], config: { requiredTags: ["Owner", "DataClass"] }, expect: /Owner, DataClass/ },
    ],
  },
};

describe("policy fixtures", () => {
  it("cover every policy of the pack (the batch layer's in tests/policies-batch.test.ts)", () => {
    const batch = BATCH_POLICIES.map((p) => p.name);
    expect([...Object.keys(CASES), ...batch].sort()).toEqual(PLATFORM_POLICIES.map((p) => p.name).sort());
  });

  it("give every policy a stable id, a level and remediation text", () => {
    for (const policy of PLATFORM_POLICIES) {
      expect(policy.name).toMatch(/^[a-z0-9]+(-[a-z0-9]+)*$/);
      expect(["mandatory", "advisory"]).toContain(policy.enforcementLevel);
      expect(policy.description.length).toBeGreaterThan(20);
      expect(policy.remediationSteps.length).toBeGreaterThan(20);
    }
    expect(new Set(PLATFORM_POLICIES.map((p) => p.name)).size).toBe(PLATFORM_POLICIES.length);
  });
});

const BATCH_NAMES = new Set(BATCH_POLICIES.map((p) => p.name));

describePolicyCases(
  PLATFORM_POLICIES.filter((policy) => !BATCH_NAMES.has(policy.name)),
  CASES,
);
