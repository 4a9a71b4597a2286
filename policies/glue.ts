/**
 * AWS Glue, the batch layer's ETL engine: security configurations (what encrypts a job's
 * S3 output, its CloudWatch logs and its bookmarks), the jobs that must use one, log
 * continuously and run bounded, and the crawlers that keep the catalog.
 *
 * A security configuration is the only way Glue encrypts what a job or crawler writes: a
 * crawler's CloudWatch Logs, a job's S3 targets, its CloudWatch Logs and its bookmarks
 * (https://docs.aws.amazon.com/glue/latest/dg/encryption-security-configuration.html). Each
 * of the three parts defaults to DISABLED, so each is checked on its own.
 */
import * as aws from "@pulumi/aws";
import { validateResourceOfType } from "@pulumi/policy";
import { PlatformResourcePolicy } from "./lib/policy";
import { Peeked, customerKeyGap, isSet, isTrue, peek } from "./lib/values";

interface EncryptionPart {
  label: string;
  mode: Peeked<unknown>;
  required: string;
  key: Peeked<unknown>;
}

/** What is wrong with one part of a security configuration ("" when it encrypts with a customer key). */
export function encryptionPartGap({ label, mode, required, key }: EncryptionPart): string {
  if (!isSet(mode) || mode === "DISABLED") return `${label} encryption is DISABLED (the default), not ${required}.`;
  if (typeof mode === "string" && mode !== required) return `${label} encryption is ${mode}, not ${required} with a customer key.`;
  const gap = customerKeyGap(key, "kmsKeyArn");
  return gap ? `${label} encryption is ${required} with ${gap}.` : "";
}

export const glueSecurityConfigurationKms: PlatformResourcePolicy = {
  name: "glue-security-configuration-kms",
  description:
    "Glue security configurations encrypt all three things a job or crawler writes with a customer KMS key: S3 output SSE-KMS, CloudWatch logs SSE-KMS and job bookmarks CSE-KMS, each with its kmsKeyArn.",
  enforcementLevel: "mandatory",
  remediationSteps:
    'Set encryptionConfiguration: { s3Encryption: { s3EncryptionMode: "SSE-KMS", kmsKeyArn: <data key> }, cloudwatchEncryption: { cloudwatchEncryptionMode: "SSE-KMS", kmsKeyArn: <logs key> }, jobBookmarksEncryption: { jobBookmarksEncryptionMode: "CSE-KMS", kmsKeyArn: <data key> } } on the aws.glue.SecurityConfiguration; the logs key policy must let logs.<region>.amazonaws.com use it.',
  validateResource: validateResourceOfType(aws.glue.SecurityConfiguration, (configuration, _args, report) => {
    const parts: EncryptionPart[] = [
      { label: "S3", mode: peek(() => configuration.encryptionConfiguration?.s3Encryption?.s3EncryptionMode), required: "SSE-KMS", key: peek(() => configuration.encryptionConfiguration?.s3Encryption?.kmsKeyArn) },
      {
        label: "CloudWatch Logs",
        mode: peek(() => configuration.encryptionConfiguration?.cloudwatchEncryption?.cloudwatchEncryptionMode),
        required: "SSE-KMS",
        key: peek(() => configuration.encryptionConfiguration?.cloudwatchEncryption?.kmsKeyArn),
      },
      {
        label: "Job bookmark",
        mode: peek(() => configuration.encryptionConfiguration?.jobBookmarksEncryption?.jobBookmarksEncryptionMode),
        required: "CSE-KMS",
        key: peek(() => configuration.encryptionConfiguration?.jobBookmarksEncryption?.kmsKeyArn),
      },
    ];
    for (const gap of parts.map(encryptionPartGap)) if (gap) report(gap);
  }),
};

export const glueSecurityConfigurationAttached: PlatformResourcePolicy = {
  name: "glue-security-configuration-attached",
  description: "Every Glue job and crawler names a security configuration, without which Glue writes its S3 output, logs and bookmarks unencrypted by Glue.",
  enforcementLevel: "mandatory",
  remediationSteps: "Set securityConfiguration: <aws.glue.SecurityConfiguration>.name on the aws.glue.Job and the aws.glue.Crawler (one configuration per stage is enough).",
  validateResource: [
    validateResourceOfType(aws.glue.Job, (job, _args, report) => {
      if (!isSet(peek(() => job.securityConfiguration))) report("The job has no securityConfiguration.");
    }),
    validateResourceOfType(aws.glue.Crawler, (crawler, _args, report) => {
      if (!isSet(peek(() => crawler.securityConfiguration))) report("The crawler has no securityConfiguration, so its CloudWatch logs are not encrypted with a customer key.");
    }),
  ],
};

/** The job argument that turns on continuous (real-time) logging to CloudWatch. */
export const CONTINUOUS_LOG_ARGUMENT = "--enable-continuous-cloudwatch-log";

export const glueJobContinuousLogging: PlatformResourcePolicy = {
  name: "glue-job-continuous-logging",
  description: `Every Glue job sets ${CONTINUOUS_LOG_ARGUMENT} = "true" in defaultArguments, so its driver and executor logs reach CloudWatch while it runs (and a run that is killed leaves its logs).`,
  enforcementLevel: "mandatory",
  remediationSteps: `Add "${CONTINUOUS_LOG_ARGUMENT}": "true" (with "--continuous-log-logGroup": <a KMS-encrypted group with retention>) to the job's defaultArguments.`,
  // Glue 4.0 and earlier log continuously only with this argument; Glue 5.0 logs in real time
  // anyway (https://docs.aws.amazon.com/glue/latest/dg/monitor-continuous-logging-enable.html).
  // The argument stays required on every version, so that a job's logging never depends on
  // which version it runs.
  validateResource: validateResourceOfType(aws.glue.Job, (job, _args, report) => {
    const value = peek(() => job.defaultArguments?.[CONTINUOUS_LOG_ARGUMENT]);
    if (!isSet(value)) report(`defaultArguments has no ${CONTINUOUS_LOG_ARGUMENT}.`);
    else if (typeof value === "string" && !isTrue(value)) report(`defaultArguments sets ${CONTINUOUS_LOG_ARGUMENT} to "${value}", not "true".`);
  }),
};

export const glueJobRunLimits: PlatformResourcePolicy = {
  name: "glue-job-run-limits",
  description:
    "Every Glue job states a timeout in minutes (the default is 48 hours of paid workers for a hung Spark job) and its executionProperty.maxConcurrentRuns, so overlapping runs cannot process the same bookmark twice. Ray jobs take no timeout; streaming jobs run until stopped.",
  enforcementLevel: "mandatory",
  remediationSteps: "Set timeout (minutes, from the stage config) and executionProperty: { maxConcurrentRuns: 1 } on the aws.glue.Job.",
  validateResource: validateResourceOfType(aws.glue.Job, (job, _args, report) => {
    const command = peek(() => job.command?.name);
    // https://docs.aws.amazon.com/glue/latest/dg/aws-glue-api-jobs-job.html (Timeout): glueray jobs reject it, gluestreaming defaults to no limit by design.
    const timed = command !== "glueray" && command !== "gluestreaming";
    const timeout = peek(() => job.timeout);
    if (timed && !isSet(timeout)) report("The job has no timeout, so a hung run keeps its workers for 48 hours (2,880 minutes).");
    else if (timed && typeof timeout === "number" && timeout <= 0) report(`timeout is ${timeout}, which does not bound the run.`);
    const runs = peek(() => job.executionProperty?.maxConcurrentRuns);
    if (!isSet(runs)) report("executionProperty.maxConcurrentRuns is not set.");
    else if (typeof runs === "number" && runs < 1) report(`executionProperty.maxConcurrentRuns is ${runs}; it must be at least 1.`);
  }),
};

export const DEFAULT_MINIMUM_GLUE_VERSION = "4.0";

interface GlueVersionConfig {
  minimumGlueVersion?: string;
}

/** "4.0" -> 4; undefined for anything that is not a version number. */
export function glueVersionNumber(version: unknown): number | undefined {
  if (typeof version !== "string" || !/^\d+(\.\d+)?$/.test(version.trim())) return undefined;
  return Number(version);
}

/**
 * Advisory, like lambda-runtime-supported: an old Glue version is a currency matter (no new
 * fixes once out of support, https://docs.aws.amazon.com/glue/latest/dg/glue-version-support-policy.html),
 * not an exposure, and blocking a deployment on it would hold back unrelated changes.
 */
export const glueJobVersionCurrent: PlatformResourcePolicy = {
  name: "glue-job-version-current",
  description: `Glue jobs run Glue ${DEFAULT_MINIMUM_GLUE_VERSION} or later (minimumGlueVersion), not a version out of or near the end of AWS support; an unset glueVersion leaves the choice to AWS's oldest default.`,
  enforcementLevel: "advisory",
  remediationSteps: 'Set glueVersion: "5.0" on the aws.glue.Job (Spark 3.5, Python 3.11) and run its tests against that version.',
  configSchema: {
    properties: {
      minimumGlueVersion: { type: "string", pattern: "^\\d+\\.\\d+$", default: DEFAULT_MINIMUM_GLUE_VERSION, description: "Oldest Glue version allowed." },
    },
  },
  validateResource: validateResourceOfType(aws.glue.Job, (job, args, report) => {
    const minimum = args.getConfig<GlueVersionConfig>().minimumGlueVersion ?? DEFAULT_MINIMUM_GLUE_VERSION;
    const version = peek(() => job.glueVersion);
    if (!isSet(version)) report(`The job sets no glueVersion; this stack requires ${minimum} or later.`);
    else if (typeof version === "string" && (glueVersionNumber(version) ?? 0) < (glueVersionNumber(minimum) ?? 0)) report(`glueVersion is ${version}; this stack requires ${minimum} or later.`);
  }),
};

export const gluePolicies: PlatformResourcePolicy[] = [
  glueSecurityConfigurationKms,
  glueSecurityConfigurationAttached,
  glueJobContinuousLogging,
  glueJobRunLimits,
  glueJobVersionCurrent,
];
