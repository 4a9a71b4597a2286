/**
 * S3 stack policies. In @pulumi/aws v7 a bucket's encryption, versioning, bucket policy,
 * public access block and access logging are separate resources that point at the bucket
 * through their `bucket` (or `targetBucket`) property, so each check correlates them with
 * lib/correlate (property dependencies during preview, ids and names afterwards).
 *
 * Server access log buckets: S3 log delivery can only write to buckets encrypted with
 * SSE-S3 (AES256), and so can Elastic Load Balancing's access-log delivery. A bucket is
 * treated as a log bucket when, and only when, the stack itself names it as the
 * `targetBucket` of an aws.s3.BucketLogging or in the `accessLogs` of a load balancer: the exception follows
 * the wiring, so it cannot be claimed by a tag on a data bucket. Such a bucket may use
 * AES256 (it must still be encrypted) and is not a lake bucket for versioning.
 */
import { PolicyResource, StackValidationArgs } from "@pulumi/policy";
import { attachedTo, ofTypes, referencedResources } from "./lib/correlate";
import { PlatformStackPolicy, reportDetailed } from "./lib/policy";
import { PolicyStatement, UNKNOWN, asArray, isTrue, peek, statementsOf } from "./lib/values";

export const BUCKET_TYPES = ["aws:s3/bucket:Bucket", "aws:s3/bucketV2:BucketV2"] as const;
const ENCRYPTION_TYPES = [
  "aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration",
  "aws:s3/bucketServerSideEncryptionConfigurationV2:BucketServerSideEncryptionConfigurationV2",
] as const;
const VERSIONING_TYPES = ["aws:s3/bucketVersioning:BucketVersioning", "aws:s3/bucketVersioningV2:BucketVersioningV2"] as const;
const LOGGING_TYPES = ["aws:s3/bucketLogging:BucketLogging", "aws:s3/bucketLoggingV2:BucketLoggingV2"] as const;
const BUCKET_POLICY_TYPES = ["aws:s3/bucketPolicy:BucketPolicy"] as const;
const PUBLIC_ACCESS_BLOCK_TYPES = ["aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock"] as const;
const ACCOUNT_PUBLIC_ACCESS_BLOCK_TYPE = "aws:s3/accountPublicAccessBlock:AccountPublicAccessBlock";

const KMS_ALGORITHMS = ["aws:kms", "aws:kms:dsse"];
const PUBLIC_ACCESS_FLAGS = ["blockPublicAcls", "blockPublicPolicy", "ignorePublicAcls", "restrictPublicBuckets"] as const;

function bucketsOf(args: StackValidationArgs): PolicyResource[] {
  return ofTypes(args.resources, BUCKET_TYPES);
}

/** Each bucket with its resources of `attachmentTypes`, matched through their `bucket` property. */
function bucketsWith(args: StackValidationArgs, attachmentTypes: readonly string[], buckets = bucketsOf(args)): [PolicyResource, PolicyResource[]][] {
  const attached = attachedTo(buckets, ofTypes(args.resources, attachmentTypes), "bucket");
  return buckets.map((bucket) => [bucket, attached.get(bucket.urn) ?? []]);
}

const LOAD_BALANCER_TYPES = ["aws:lb/loadBalancer:LoadBalancer", "aws:alb/loadBalancer:LoadBalancer"] as const;

/**
 * Buckets some BucketLogging in the stack delivers server access logs to, and buckets a
 * load balancer of the stack delivers its access logs to (`accessLogs.bucket`): ELB, like
 * S3 log delivery, writes only into SSE-S3 buckets
 * (https://docs.aws.amazon.com/elasticloadbalancing/latest/application/enable-access-logging.html).
 */
export function accessLogTargets(resources: PolicyResource[]): Set<string> {
  const buckets = ofTypes(resources, BUCKET_TYPES);
  const targets = [
    ...ofTypes(resources, LOGGING_TYPES).flatMap((logging) => referencedResources(logging, "targetBucket", buckets)),
    ...ofTypes(resources, LOAD_BALANCER_TYPES).flatMap((lb) => referencedResources(lb, "accessLogs", buckets, { referencesIn: (logs) => [logs?.bucket] })),
  ];
  return new Set(targets.map((bucket) => bucket.urn));
}

interface DefaultEncryption {
  sseAlgorithm?: string;
  kmsMasterKeyId?: unknown;
}

/** Default-encryption rules from the bucket's configuration resources and the deprecated inline block. */
function defaultEncryptionOf(bucket: PolicyResource, configurations: PolicyResource[]): DefaultEncryption[] {
  const inline = bucket.props.serverSideEncryptionConfiguration;
  const rules = [...configurations.flatMap((c) => asArray(c.props.rules)), ...asArray(inline?.rule), ...asArray(inline?.rules)];
  return rules
    .map((rule: any) => rule?.applyServerSideEncryptionByDefault)
    .filter((byDefault: any) => byDefault !== undefined && byDefault !== null)
    .map((byDefault: any) => ({ sseAlgorithm: byDefault.sseAlgorithm, kmsMasterKeyId: peek(() => byDefault.kmsMasterKeyId) }));
}

function usesCustomerKey(rule: DefaultEncryption): boolean {
  return KMS_ALGORITHMS.includes(rule.sseAlgorithm ?? "") && rule.kmsMasterKeyId !== undefined && rule.kmsMasterKeyId !== "";
}

export const s3BucketEncryption: PlatformStackPolicy = {
  name: "s3-bucket-sse-kms",
  description:
    "Every S3 bucket has default encryption SSE-KMS with a customer key (an aws.s3.BucketServerSideEncryptionConfiguration). Access log buckets, which S3 server access logging and ELB access logs can only write with SSE-S3, may use AES256: a bucket named as a BucketLogging targetBucket or in a load balancer's accessLogs.",
  enforcementLevel: "mandatory",
  remediationSteps:
    'Add an aws.s3.BucketServerSideEncryptionConfiguration with bucket: <bucket>.id and rules: [{ applyServerSideEncryptionByDefault: { sseAlgorithm: "aws:kms", kmsMasterKeyId: <data key> }, bucketKeyEnabled: true }]. A bucket that only receives access logs keeps sseAlgorithm "AES256" and must be the targetBucket of an aws.s3.BucketLogging or the accessLogs.bucket of an aws.lb.LoadBalancer.',
  validateStack: (args, report) => {
    const logTargets = accessLogTargets(args.resources);
    for (const [bucket, configurations] of bucketsWith(args, ENCRYPTION_TYPES)) {
      const rules = defaultEncryptionOf(bucket, configurations);
      if (rules.length === 0) {
        report(`Bucket ${bucket.name} has no server-side encryption configuration.`, bucket.urn);
      } else if (logTargets.has(bucket.urn)) {
        if (!rules.some((rule) => usesCustomerKey(rule) || rule.sseAlgorithm === "AES256")) {
          report(`Access log bucket ${bucket.name} must use SSE-S3 (AES256); it uses ${rules.map((r) => r.sseAlgorithm).join(", ")}.`, bucket.urn);
        }
      } else if (!rules.some(usesCustomerKey)) {
        report(`Bucket ${bucket.name} uses ${rules.map((r) => r.sseAlgorithm ?? "no algorithm").join(", ")} without a customer KMS key; only access log buckets may use AES256.`, bucket.urn);
      }
    }
  },
};

const principalIsEveryone = (principal: unknown) => principal === "*" || asArray((principal as { AWS?: string | string[] })?.AWS).includes("*");
const coversAllS3Actions = (action: PolicyStatement["Action"]) => asArray(action).some((a) => a === "s3:*" || a === "*");

/** A statement denying every S3 action to everyone when the request is not over TLS. */
export function deniesInsecureTransport(statement: PolicyStatement): boolean {
  const secureTransport = statement.Condition?.Bool?.["aws:SecureTransport"];
  return (
    statement.Effect === "Deny" &&
    principalIsEveryone(statement.Principal) &&
    coversAllS3Actions(statement.Action) &&
    asArray(secureTransport as string | string[]).some((value) => String(value) === "false")
  );
}

export const s3BucketTlsOnly: PlatformStackPolicy = {
  name: "s3-bucket-tls-only",
  description: 'Every S3 bucket has a bucket policy that denies all requests made without TLS (Condition Bool aws:SecureTransport = "false").',
  enforcementLevel: "mandatory",
  remediationSteps:
    "Add an aws.s3.BucketPolicy for the bucket whose statements include denyInsecureTransport(bucket.arn) from components/lib/iam.ts (Effect Deny, Principal *, Action s3:*, Resource bucket and bucket/*).",
  validateStack: (args, report) => {
    for (const [bucket, policies] of bucketsWith(args, BUCKET_POLICY_TYPES)) {
      const documents = policies.map((p) => peek(() => p.props.policy));
      if (documents.length === 0) {
        report(`Bucket ${bucket.name} has no bucket policy, so plain-HTTP requests are not refused.`, bucket.urn);
      } else if (documents.includes(UNKNOWN)) {
        // The document embeds ARNs of resources not created yet; `pulumi up` analyses the stack again with them.
        reportDetailed(report, { message: `Bucket ${bucket.name}: the bucket policy is not known during preview; checked again on update.`, urn: bucket.urn, enforcementLevel: "advisory" });
      } else if (!documents.flatMap(statementsOf).some(deniesInsecureTransport)) {
        report(`The bucket policy of ${bucket.name} has no Deny for aws:SecureTransport = false.`, bucket.urn);
      }
    }
  },
};

interface LakeVersioningConfig {
  lakeBucketPattern?: string;
}

/** Logical names of lake buckets: the raw, transformed and staged zones and their DR replicas. */
export const DEFAULT_LAKE_BUCKET_PATTERN = "(^|-)(raw|transformed|staged)(-|$)";

function isVersioned(bucket: PolicyResource, versionings: PolicyResource[]): boolean {
  // The deprecated inline `versioning` block of aws.s3.Bucket still counts, though the program should not use it.
  return isTrue(bucket.props.versioning?.enabled) || versionings.some((v) => v.props.versioningConfiguration?.status === "Enabled");
}

export const s3LakeVersioning: PlatformStackPolicy = {
  name: "s3-lake-bucket-versioning",
  description: "Lake buckets (raw, transformed, staged and their replicas) have versioning enabled, which backups and cross-region replication rely on.",
  enforcementLevel: "mandatory",
  remediationSteps: 'Add an aws.s3.BucketVersioning with bucket: <bucket>.id and versioningConfiguration: { status: "Enabled" } (the stage config key lakeVersioning).',
  configSchema: {
    properties: {
      lakeBucketPattern: {
        type: "string",
        default: DEFAULT_LAKE_BUCKET_PATTERN,
        description: "Regular expression over a bucket's logical name that marks it as a lake bucket.",
      },
    },
  },
  validateStack: (args, report) => {
    const pattern = new RegExp(args.getConfig<LakeVersioningConfig>().lakeBucketPattern ?? DEFAULT_LAKE_BUCKET_PATTERN);
    const logTargets = accessLogTargets(args.resources);
    const lakeBuckets = bucketsOf(args).filter((b) => pattern.test(b.name) && !logTargets.has(b.urn));
    if (lakeBuckets.length === 0) args.notApplicable("No lake buckets in this stack");
    for (const [bucket, versionings] of bucketsWith(args, VERSIONING_TYPES, lakeBuckets)) {
      if (!isVersioned(bucket, versionings)) report(`Lake bucket ${bucket.name} does not have versioning enabled.`, bucket.urn);
    }
  },
};

const blocksEverything = (block: PolicyResource) => PUBLIC_ACCESS_FLAGS.every((flag) => isTrue(block.props[flag]));

export const s3PublicAccessBlock: PlatformStackPolicy = {
  name: "s3-bucket-public-access-block",
  description: "Every S3 bucket has a public access block with all four flags set (or the account-level block does).",
  enforcementLevel: "advisory",
  remediationSteps:
    "Add an aws.s3.BucketPublicAccessBlock with bucket: <bucket>.id and blockPublicAcls, blockPublicPolicy, ignorePublicAcls and restrictPublicBuckets all true.",
  validateStack: (args, report) => {
    const accountBlocks = args.resources.filter((r) => r.type === ACCOUNT_PUBLIC_ACCESS_BLOCK_TYPE);
    if (accountBlocks.some(blocksEverything)) args.notApplicable("The account-level public access block covers every bucket");
    for (const [bucket, own] of bucketsWith(args, PUBLIC_ACCESS_BLOCK_TYPES)) {
      if (own.length === 0) report(`Bucket ${bucket.name} has no public access block.`, bucket.urn);
      else if (!own.some(blocksEverything)) {
        const missing = PUBLIC_ACCESS_FLAGS.filter((flag) => !own.some((block) => isTrue(block.props[flag])));
        report(`The public access block of ${bucket.name} leaves ${missing.join(", ")} off.`, bucket.urn);
      }
    }
  },
};

export const s3Policies: PlatformStackPolicy[] = [s3BucketEncryption, s3BucketTlsOnly, s3LakeVersioning, s3PublicAccessBlock];
