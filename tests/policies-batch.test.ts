/**
 * The batch layer's policies (Glue, EMR Serverless, DMS and zero-ETL, Step Functions,
 * Scheduler) against hand-built resources: at least one compliant and one non-compliant
 * fixture each, plus the cases that decide a policy's reach (AWS defaults, engines a rule
 * does not concern, stage config, values unknown during preview). tests/policies.test.ts
 * covers the rest of the pack and counts these policies as covered here.
 */
import { PLATFORM_POLICIES } from "../policies/catalog";
import { BATCH_POLICIES } from "../policies/batch";
import { KEY_ARN, PolicyCases, UNKNOWN_STRING, describePolicyCases, findingsOf, subject } from "./support/policy-fixtures";


const LOGS_KEY_ARN = "arn:aws:kms:eu-west-1:123456789012:key/logs";
const AWS_MANAGED = "arn:aws:kms:eu-west-1:123456789012:alias/aws/dms";
const SECRET_ARN = "arn:aws:secretsmanager:eu-west-1:123456789012:secret:dp-prod-oltp-abc123";
const ROLE_ARN = "arn:aws:iam::123456789012:role/dms-secrets";
const LOG_GROUP_ARN = "arn:aws:logs:eu-west-1:123456789012:log-group:/aws/vendedlogs/states/batch";

const T = {
  securityConfiguration: "aws:glue/securityConfiguration:SecurityConfiguration",
  job: "aws:glue/job:Job",
  crawler: "aws:glue/crawler:Crawler",
  emr: "aws:emrserverless/application:Application",
  replicationInstance: "aws:dms/replicationInstance:ReplicationInstance",
  endpoint: "aws:dms/endpoint:Endpoint",
  task: "aws:dms/replicationTask:ReplicationTask",
  integration: "aws:rds/integration:Integration",
  stateMachine: "aws:sfn/stateMachine:StateMachine",
  schedule: "aws:scheduler/schedule:Schedule",
} as const;

const GOOD_ENCRYPTION = {
  s3Encryption: { s3EncryptionMode: "SSE-KMS", kmsKeyArn: KEY_ARN },
  cloudwatchEncryption: { cloudwatchEncryptionMode: "SSE-KMS", kmsKeyArn: LOGS_KEY_ARN },
  jobBookmarksEncryption: { jobBookmarksEncryptionMode: "CSE-KMS", kmsKeyArn: KEY_ARN },
};
const securityConfiguration = (encryption: Record<string, unknown> = {}) =>
  subject(T.securityConfiguration, { name: "dp-prod-batch", encryptionConfiguration: { ...GOOD_ENCRYPTION, ...encryption } });

const GOOD_JOB = {
  name: "dp-prod-batch-file",
  roleArn: "arn:aws:iam::123456789012:role/glue",
  command: { name: "glueetl", scriptLocation: "s3://scripts/batch_file_job.py", pythonVersion: "3" },
  glueVersion: "5.0",
  securityConfiguration: "dp-prod-batch",
  defaultArguments: { "--enable-continuous-cloudwatch-log": "true", "--job-bookmark-option": "job-bookmark-enable" },
  timeout: 60,
  executionProperty: { maxConcurrentRuns: 1 },
};
const job = (props: Record<string, unknown> = {}) => subject(T.job, { ...GOOD_JOB, ...props });
const crawler = (props: Record<string, unknown> = {}) =>
  subject(T.crawler, { databaseName: "lake", role: "arn:aws:iam::123456789012:role/crawler", s3Targets: [{ path: "s3://transformed/batch/clean/" }], securityConfiguration: "dp-prod-batch", ...props });

const GOOD_MONITORING = {
  s3MonitoringConfiguration: { logUri: "s3://dp-prod-logs/emr-serverless/", encryptionKeyArn: KEY_ARN },
  managedPersistenceMonitoringConfiguration: { enabled: false },
};
const GOOD_EMR = {
  name: "dp-prod-spark",
  releaseLabel: "emr-7.5.0",
  type: "spark",
  monitoringConfiguration: GOOD_MONITORING,
  networkConfiguration: { subnetIds: ["subnet-a", "subnet-b"], securityGroupIds: ["sg-emr"] },
  autoStartConfiguration: { enabled: true },
  autoStopConfiguration: { enabled: true, idleTimeoutMinutes: 15 },
};
const emr = (props: Record<string, unknown> = {}) => subject(T.emr, { ...GOOD_EMR, ...props });
const monitoring = (props: Record<string, unknown>) => emr({ monitoringConfiguration: { ...GOOD_MONITORING, ...props } });

const GOOD_INSTANCE = { replicationInstanceId: "dp-prod-sync", replicationInstanceClass: "dms.t3.medium", kmsKeyArn: KEY_ARN, publiclyAccessible: false, multiAz: true, replicationSubnetGroupId: "isolated" };
const instance = (props: Record<string, unknown> = {}) => subject(T.replicationInstance, { ...GOOD_INSTANCE, ...props });

const GOOD_SOURCE = { endpointId: "oltp", endpointType: "source", engineName: "aurora-postgresql", databaseName: "app", sslMode: "require", secretsManagerArn: SECRET_ARN, secretsManagerAccessRoleArn: ROLE_ARN };
const endpoint = (props: Record<string, unknown> = {}) => subject(T.endpoint, { ...GOOD_SOURCE, ...props });
const redshiftTarget = (props: Record<string, unknown> = {}) =>
  endpoint({ endpointId: "warehouse", endpointType: "target", engineName: "redshift", sslMode: undefined, ...props });

const taskSettings = (logging: unknown) => JSON.stringify({ TargetMetadata: { SupportLobs: true }, Logging: logging });
const GOOD_LOGGING = { EnableLogging: true, LogComponents: [{ Id: "SOURCE_CAPTURE", Severity: "LOGGER_SEVERITY_DEFAULT" }, { Id: "TARGET_APPLY", Severity: "LOGGER_SEVERITY_DEBUG" }] };
const task = (props: Record<string, unknown> = {}) =>
  subject(T.task, {
    replicationTaskId: "oltp-cdc",
    migrationType: "full-load-and-cdc",
    replicationInstanceArn: "arn:aws:dms:eu-west-1:123456789012:rep:sync",
    sourceEndpointArn: "arn:aws:dms:eu-west-1:123456789012:endpoint:oltp",
    targetEndpointArn: "arn:aws:dms:eu-west-1:123456789012:endpoint:warehouse",
    tableMappings: JSON.stringify({ rules: [] }),
    replicationTaskSettings: taskSettings(GOOD_LOGGING),
    ...props,
  });

const integration = (props: Record<string, unknown> = {}) =>
  subject(T.integration, { integrationName: "oltp-to-warehouse", sourceArn: "arn:aws:rds:eu-west-1:123456789012:cluster:oltp", targetArn: "arn:aws:redshift-serverless:eu-west-1:123456789012:namespace/abc", kmsKeyId: KEY_ARN, ...props });

const GOOD_MACHINE = {
  name: "dp-prod-batch",
  type: "STANDARD",
  roleArn: "arn:aws:iam::123456789012:role/states",
  definition: JSON.stringify({ StartAt: "Done", States: { Done: { Type: "Succeed" } } }),
  loggingConfiguration: { logDestination: `${LOG_GROUP_ARN}:*`, level: "ERROR", includeExecutionData: false },
  tracingConfiguration: { enabled: true },
  encryptionConfiguration: { type: "CUSTOMER_MANAGED_KMS_KEY", kmsKeyId: KEY_ARN, kmsDataKeyReusePeriodSeconds: 300 },
};
const machine = (props: Record<string, unknown> = {}) => subject(T.stateMachine, { ...GOOD_MACHINE, ...props });

const GOOD_TARGET = {
  arn: "arn:aws:states:eu-west-1:123456789012:stateMachine:dp-prod-batch",
  roleArn: "arn:aws:iam::123456789012:role/scheduler",
  input: "{}",
  deadLetterConfig: { arn: "arn:aws:sqs:eu-west-1:123456789012:batch-schedule-dlq" },
  retryPolicy: { maximumRetryAttempts: 3, maximumEventAgeInSeconds: 3600 },
};
const schedule = (props: Record<string, unknown> = {}, target: Record<string, unknown> = {}) =>
  subject(T.schedule, { name: "dp-prod-batch-nightly", scheduleExpression: "cron(0 2 * * ? *)", flexibleTimeWindow: { mode: "OFF" }, kmsKeyArn: KEY_ARN, target: { ...GOOD_TARGET, ...target }, ...props });

const BATCH_CASES: Record<string, PolicyCases> = {
  "glue-security-configuration-kms": {
    compliant: [
      { label: "S3 and CloudWatch SSE-KMS, bookmarks CSE-KMS, each with a key", resources: [securityConfiguration()] },
      { label: "keys created in the same update (unknown during preview)", resources: [securityConfiguration({ s3Encryption: { s3EncryptionMode: "SSE-KMS", kmsKeyArn: UNKNOWN_STRING } })] },
    ],
    violating: [
      { label: "S3 left DISABLED", resources: [securityConfiguration({ s3Encryption: { s3EncryptionMode: "DISABLED" } })], expect: /S3 encryption is DISABLED \(the default\), not SSE-KMS/ },
      { label: "S3 with SSE-S3", resources: [securityConfiguration({ s3Encryption: { s3EncryptionMode: "SSE-S3" } })], expect: /S3 encryption is SSE-S3, not SSE-KMS/ },
      { label: "CloudWatch SSE-KMS without a key", resources: [securityConfiguration({ cloudwatchEncryption: { cloudwatchEncryptionMode: "SSE-KMS" } })], expect: /CloudWatch Logs encryption is SSE-KMS with no kmsKeyArn/ },
      { label: "bookmarks not encrypted", resources: [securityConfiguration({ jobBookmarksEncryption: {} })], expect: /Job bookmark encryption is DISABLED \(the default\), not CSE-KMS/ },
      {
        label: "an AWS managed key",
        resources: [securityConfiguration({ s3Encryption: { s3EncryptionMode: "SSE-KMS", kmsKeyArn: "arn:aws:kms:eu-west-1:123456789012:alias/aws/s3" } })],
        expect: /S3 encryption is SSE-KMS with kmsKeyArn is the AWS managed key .*alias\/aws\/s3/,
      },
    ],
  },
  "glue-security-configuration-attached": {
    compliant: [
      { label: "a job and a crawler with the configuration", resources: [job(), crawler()] },
      { label: "a configuration created in the same update", resources: [job({ securityConfiguration: UNKNOWN_STRING })] },
    ],
    violating: [
      { label: "a job without one", resources: [job({ securityConfiguration: undefined })], expect: /The job has no securityConfiguration/ },
      { label: "a crawler without one", resources: [crawler({ securityConfiguration: undefined })], expect: /The crawler has no securityConfiguration/ },
    ],
  },
  "glue-job-continuous-logging": {
    compliant: [
      { label: "continuous logging on", resources: [job()] },
      { label: "arguments unknown during preview", resources: [job({ defaultArguments: { "--enable-continuous-cloudwatch-log": UNKNOWN_STRING } })] },
    ],
    violating: [
      { label: "no default arguments", resources: [job({ defaultArguments: undefined })], expect: /defaultArguments has no --enable-continuous-cloudwatch-log/ },
      { label: "switched off", resources: [job({ defaultArguments: { "--enable-continuous-cloudwatch-log": "false" } })], expect: /sets --enable-continuous-cloudwatch-log to "false", not "true"/ },
    ],
  },
  "glue-job-run-limits": {
    compliant: [
      { label: "a timeout and one run at a time", resources: [job()] },
      { label: "a streaming job without a timeout", resources: [job({ command: { name: "gluestreaming", scriptLocation: "s3://s/x.py" }, timeout: undefined })] },
    ],
    violating: [
      { label: "no timeout", resources: [job({ timeout: undefined })], expect: /no timeout, so a hung run keeps its workers for 48 hours/ },
      { label: "a zero timeout", resources: [job({ timeout: 0 })], expect: /timeout is 0/ },
      { label: "no executionProperty", resources: [job({ executionProperty: undefined })], expect: /maxConcurrentRuns is not set/ },
      { label: "zero concurrent runs", resources: [job({ executionProperty: { maxConcurrentRuns: 0 } })], expect: /maxConcurrentRuns is 0; it must be at least 1/ },
    ],
  },
  "glue-job-version-current": {
    compliant: [
      { label: "Glue 5.0", resources: [job()] },
      { label: "Glue 4.0 at the default minimum", resources: [job({ glueVersion: "4.0" })] },
    ],
    violating: [
      { label: "Glue 3.0", resources: [job({ glueVersion: "3.0" })], expect: /glueVersion is 3.0; this stack requires 4.0 or later/ },
      { label: "no version", resources: [job({ glueVersion: undefined })], expect: /sets no glueVersion/ },
      { label: "below a configured minimum", resources: [job({ glueVersion: "4.0" })], config: { minimumGlueVersion: "5.0" }, expect: /requires 5.0 or later/ },
    ],
  },
  "emr-serverless-application-encryption": {
    compliant: [
      { label: "encrypted S3 logs, managed persistence off", resources: [emr()] },
      { label: "managed persistence and CloudWatch with customer keys", resources: [monitoring({ managedPersistenceMonitoringConfiguration: { enabled: true, encryptionKeyArn: KEY_ARN }, cloudwatchLoggingConfiguration: { enabled: true, encryptionKeyArn: LOGS_KEY_ARN } })] },
      { label: "CloudWatch logging off needs no key", resources: [monitoring({ cloudwatchLoggingConfiguration: { enabled: false } })] },
    ],
    violating: [
      { label: "no monitoring configuration", resources: [emr({ monitoringConfiguration: undefined })], expect: /has no logUri[\s\S]*S3 log publishing has no encryptionKeyArn[\s\S]*on by default/ },
      { label: "S3 logs without a key", resources: [monitoring({ s3MonitoringConfiguration: { logUri: "s3://logs/emr/" } })], expect: /S3 log publishing has no encryptionKeyArn/ },
      { label: "CloudWatch logging without a key", resources: [monitoring({ cloudwatchLoggingConfiguration: { enabled: true } })], expect: /CloudWatch logging is enabled with no encryptionKeyArn/ },
      { label: "managed persistence left on by default", resources: [monitoring({ managedPersistenceMonitoringConfiguration: undefined })], expect: /Managed log persistence is on by default with no encryptionKeyArn/ },
    ],
  },
  "emr-serverless-application-in-vpc": {
    compliant: [
      { label: "private subnets and a security group", resources: [emr()] },
      { label: "ids unknown during preview", resources: [emr({ networkConfiguration: { subnetIds: [UNKNOWN_STRING], securityGroupIds: [UNKNOWN_STRING] } })] },
    ],
    violating: [
      { label: "no network configuration", resources: [emr({ networkConfiguration: undefined })], expect: /no networkConfiguration, so it runs outside the VPC/ },
      { label: "subnets without security groups", resources: [emr({ networkConfiguration: { subnetIds: ["subnet-a"], securityGroupIds: [] } })], expect: /securityGroupIds is empty/ },
    ],
  },
  "emr-serverless-application-auto-stop": {
    compliant: [
      { label: "auto-stop on", resources: [emr()] },
      { label: "AWS's default (on, 15 idle minutes)", resources: [emr({ autoStopConfiguration: undefined })] },
    ],
    violating: [{ label: "auto-stop off", resources: [emr({ autoStopConfiguration: { enabled: false } })], expect: /autoStopConfiguration.enabled is false/ }],
  },
  "dms-replication-instance-cmk": {
    compliant: [{ label: "a customer key", resources: [instance()] }],
    violating: [
      { label: "no key", resources: [instance({ kmsKeyArn: undefined })], expect: /has no kmsKeyArn, so DMS encrypts it with the aws\/dms default key/ },
      { label: "the aws/dms key", resources: [instance({ kmsKeyArn: AWS_MANAGED })], expect: /the AWS managed key/ },
    ],
  },
  "dms-replication-instance-not-public": {
    compliant: [{ label: "private", resources: [instance()] }],
    violating: [
      { label: "left to the API default", resources: [instance({ publiclyAccessible: undefined })], expect: /publiclyAccessible is not set, and DMS defaults it to true/ },
      { label: "public", resources: [instance({ publiclyAccessible: true })], expect: /publiclyAccessible is true/ },
    ],
  },
  "dms-replication-instance-multi-az": {
    compliant: [
      { label: "Multi-AZ where required", resources: [instance()], config: { requireMultiAz: true } },
      { label: "single-AZ where not required (dev)", resources: [instance({ multiAz: false })] },
    ],
    violating: [
      { label: "single-AZ in prod", resources: [instance({ multiAz: false })], config: { requireMultiAz: true }, expect: /multiAz is not true/ },
      { label: "unset in prod", resources: [instance({ multiAz: undefined })], config: { requireMultiAz: true }, expect: /one Availability Zone/ },
    ],
  },
  "dms-endpoint-ssl": {
    compliant: [
      { label: "require", resources: [endpoint()] },
      { label: "verify-full with the CA certificate", resources: [endpoint({ sslMode: "verify-full", certificateArn: "arn:aws:dms:eu-west-1:123456789012:cert:rds-ca" })] },
      { label: "a Redshift target (always TLS)", resources: [redshiftTarget()] },
      { label: "an S3 target", resources: [endpoint({ engineName: "s3", sslMode: undefined, secretsManagerArn: undefined })] },
    ],
    violating: [
      { label: "no sslMode", resources: [endpoint({ sslMode: undefined })], expect: /sslMode is not set, so DMS connects without TLS/ },
      { label: "none", resources: [endpoint({ sslMode: "none" })], expect: /sslMode is none, not require, verify-ca or verify-full/ },
      { label: "verify-ca without a certificate", resources: [endpoint({ sslMode: "verify-ca" })], expect: /needs a certificateArn/ },
    ],
  },
  "dms-endpoint-secrets-manager": {
    compliant: [
      { label: "the source from Secrets Manager", resources: [endpoint()] },
      { label: "the Redshift target from Secrets Manager", resources: [redshiftTarget()] },
      { label: "an S3 target (role-based, no credentials)", resources: [endpoint({ engineName: "s3", secretsManagerArn: undefined, secretsManagerAccessRoleArn: undefined })] },
    ],
    violating: [
      { label: "a password", resources: [endpoint({ secretsManagerArn: undefined, secretsManagerAccessRoleArn: undefined, username: "app", password: "hunter2" })], expect: /carries a password[\s\S]*no secretsManagerArn/ },
      { label: "a secret without the role to read it", resources: [endpoint({ secretsManagerAccessRoleArn: undefined })], expect: /without secretsManagerAccessRoleArn/ },
      { label: "a password on an engine without Secrets Manager support", resources: [endpoint({ engineName: "db2", password: "hunter2", secretsManagerArn: undefined })], expect: /carries a password/ },
    ],
  },
  "dms-replication-task-logging": {
    compliant: [
      { label: "logging on, key components at default or more", resources: [task()] },
      { label: "logging on without component overrides", resources: [task({ replicationTaskSettings: taskSettings({ EnableLogging: true }) })] },
    ],
    violating: [
      { label: "no task settings", resources: [task({ replicationTaskSettings: undefined })], expect: /no replicationTaskSettings, so CloudWatch logging is off/ },
      { label: "logging off", resources: [task({ replicationTaskSettings: taskSettings({ EnableLogging: false }) })], expect: /does not set Logging.EnableLogging to true/ },
      { label: "no Logging section", resources: [task({ replicationTaskSettings: JSON.stringify({ TargetMetadata: {} }) })], expect: /does not set Logging.EnableLogging/ },
      {
        label: "target apply logged at errors only",
        resources: [task({ replicationTaskSettings: taskSettings({ EnableLogging: true, LogComponents: [{ Id: "TARGET_APPLY", Severity: "LOGGER_SEVERITY_ERROR" }] }) })],
        expect: /TARGET_APPLY logs at LOGGER_SEVERITY_ERROR, below LOGGER_SEVERITY_DEFAULT/,
      },
      { label: "settings that are not JSON", resources: [task({ replicationTaskSettings: "{not json" })], expect: /not a JSON object/ },
    ],
  },
  "rds-integration-cmk": {
    compliant: [
      { label: "a customer key", resources: [integration()] },
      { label: "a key created in the same update", resources: [integration({ kmsKeyId: UNKNOWN_STRING })] },
    ],
    violating: [{ label: "no key", resources: [integration({ kmsKeyId: undefined })], expect: /has no kmsKeyId, so it is encrypted with an AWS-owned key/ }],
  },
  "sfn-state-machine-logging": {
    compliant: [
      { label: "ERROR level to a log group", resources: [machine()] },
      { label: "a log group created in the same update", resources: [machine({ loggingConfiguration: { logDestination: UNKNOWN_STRING, level: "ALL" } })] },
    ],
    violating: [
      { label: "no logging configuration", resources: [machine({ loggingConfiguration: undefined })], expect: /level is unset \(OFF\)[\s\S]*no logDestination/ },
      { label: "level OFF", resources: [machine({ loggingConfiguration: { logDestination: `${LOG_GROUP_ARN}:*`, level: "OFF" } })], expect: /level is OFF/ },
      { label: "the group ARN without :*", resources: [machine({ loggingConfiguration: { logDestination: LOG_GROUP_ARN, level: "ALL" } })], expect: /does not end with ":\*"/ },
    ],
  },
  "sfn-state-machine-tracing": {
    compliant: [{ label: "X-Ray on", resources: [machine()] }],
    violating: [
      { label: "no tracing configuration", resources: [machine({ tracingConfiguration: undefined })], expect: /tracingConfiguration.enabled is not true/ },
      { label: "tracing off", resources: [machine({ tracingConfiguration: { enabled: false } })], expect: /not traced/ },
    ],
  },
  "sfn-state-machine-cmk": {
    compliant: [
      { label: "a customer key", resources: [machine()] },
      { label: "a key created in the same update", resources: [machine({ encryptionConfiguration: { type: "CUSTOMER_MANAGED_KMS_KEY", kmsKeyId: UNKNOWN_STRING } })] },
    ],
    violating: [
      { label: "the default", resources: [machine({ encryptionConfiguration: undefined })], expect: /type is unset \(AWS_OWNED_KEY\), not CUSTOMER_MANAGED_KMS_KEY/ },
      { label: "AWS_OWNED_KEY", resources: [machine({ encryptionConfiguration: { type: "AWS_OWNED_KEY" } })], expect: /type is AWS_OWNED_KEY/ },
      { label: "customer-managed without a key", resources: [machine({ encryptionConfiguration: { type: "CUSTOMER_MANAGED_KMS_KEY" } })], expect: /encryptionConfiguration has no kmsKeyId/ },
    ],
  },
  "scheduler-schedule-cmk": {
    compliant: [{ label: "a customer key", resources: [schedule()] }],
    violating: [
      { label: "no key", resources: [schedule({ kmsKeyArn: undefined })], expect: /The schedule has no kmsKeyArn/ },
      { label: "an AWS managed alias", resources: [schedule({ kmsKeyArn: "arn:aws:kms:eu-west-1:123456789012:alias/aws/events" })], expect: /the AWS managed key/ },
    ],
  },
  "scheduler-schedule-failure-handling": {
    compliant: [
      { label: "a DLQ and a stated retry policy", resources: [schedule()] },
      { label: "a DLQ created in the same update", resources: [schedule({}, { deadLetterConfig: { arn: UNKNOWN_STRING } })] },
    ],
    violating: [
      { label: "no DLQ", resources: [schedule({}, { deadLetterConfig: undefined })], expect: /deadLetterConfig is not set/ },
      { label: "the default retry policy", resources: [schedule({}, { retryPolicy: undefined })], expect: /retryPolicy does not state maximumRetryAttempts and maximumEventAgeInSeconds/ },
      { label: "a retry policy without an age", resources: [schedule({}, { retryPolicy: { maximumRetryAttempts: 3 } })], expect: /the default retries for 24 hours/ },
    ],
  },
};

describe("batch policy fixtures", () => {
  it("cover every batch policy, and every batch policy is in the catalog", () => {
    const names = BATCH_POLICIES.map((p) => p.name).sort();
    expect(Object.keys(BATCH_CASES).sort()).toEqual(names);
    expect(PLATFORM_POLICIES.map((p) => p.name)).toEqual(expect.arrayContaining(names));
  });
});

describePolicyCases(BATCH_POLICIES, BATCH_CASES);

describe("a batch stack that sets what the rules ask for", () => {
  it("passes every batch policy on all its resources", async () => {
    const stack = [securityConfiguration(), job(), crawler(), emr(), instance(), endpoint(), redshiftTarget(), task(), integration(), machine(), schedule()];
    const findings = (await Promise.all(BATCH_POLICIES.map((policy) => findingsOf(policy, stack, { requireMultiAz: true })))).flat();
    expect(findings.map((f) => f.message)).toEqual([]);
  });
});
