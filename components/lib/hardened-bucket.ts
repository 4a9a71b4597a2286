/**
 * The platform's bucket hardening, shared by the lake and the dashboard site: owner-enforced
 * (no ACLs), every public-access block on, default encryption (SSE-KMS with a customer key, or
 * SSE-S3 where a log-delivery service cannot write KMS objects), optional versioning, lifecycle
 * rules, and a bucket policy that denies non-TLS requests plus whatever the caller adds.
 */
import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import { Statement, denyInsecureTransport, policyDocument } from "./iam";

export interface HardenedBucketArgs {
  /** Customer KMS key for SSE-KMS; required unless encryption is "SSE_S3". */
  readonly kmsKeyArn?: pulumi.Input<string>;
  /** @default "SSE_KMS" */
  readonly encryption?: "SSE_KMS" | "SSE_S3";
  readonly versioned: boolean;
  readonly rules: aws.types.input.s3.BucketLifecycleConfigurationRule[];
  readonly forceDestroy: boolean;
  readonly protect: boolean;
  /** Statements added after the TLS-only deny; they may reference the bucket's ARN. */
  readonly extraPolicy?: (bucketArn: pulumi.Output<string>) => pulumi.Input<Statement>[];
}

export interface HardenedBucket {
  readonly bucket: aws.s3.Bucket;
  readonly name: pulumi.Output<string>;
  readonly arn: pulumi.Output<string>;
  readonly policy: aws.s3.BucketPolicy;
  readonly publicAccess: aws.s3.BucketPublicAccessBlock;
  /** Present when the bucket is versioned: replication must wait for it. */
  readonly versioning?: aws.s3.BucketVersioning;
}

/** Declares `${prefix}` and its hardening children under `parent`. */
export function createHardenedBucket(prefix: string, args: HardenedBucketArgs, parent: pulumi.Resource): HardenedBucket {
  const opts = { parent };
  const bucket = new aws.s3.Bucket(prefix, { forceDestroy: args.forceDestroy }, { parent, protect: args.protect });
  new aws.s3.BucketOwnershipControls(`${prefix}-ownership`, { bucket: bucket.id, rule: { objectOwnership: "BucketOwnerEnforced" } }, opts);
  const publicAccess = new aws.s3.BucketPublicAccessBlock(`${prefix}-public-access`, {
    bucket: bucket.id,
    blockPublicAcls: true,
    blockPublicPolicy: true,
    ignorePublicAcls: true,
    restrictPublicBuckets: true,
  }, opts);
  new aws.s3.BucketServerSideEncryptionConfiguration(`${prefix}-encryption`, {
    bucket: bucket.id,
    rules: [
      (args.encryption ?? "SSE_KMS") === "SSE_KMS"
        ? { applyServerSideEncryptionByDefault: { sseAlgorithm: "aws:kms", kmsMasterKeyId: args.kmsKeyArn }, bucketKeyEnabled: true }
        : { applyServerSideEncryptionByDefault: { sseAlgorithm: "AES256" } },
    ],
  }, opts);
  const versioning = args.versioned
    ? new aws.s3.BucketVersioning(`${prefix}-versioning`, { bucket: bucket.id, versioningConfiguration: { status: "Enabled" } }, opts)
    : undefined;
  // Lifecycle rules that act on versions need versioning in place first.
  new aws.s3.BucketLifecycleConfiguration(`${prefix}-lifecycle`, { bucket: bucket.id, rules: args.rules }, { parent, dependsOn: versioning ? [versioning] : [] });
  const policy = new aws.s3.BucketPolicy(`${prefix}-policy`, {
    bucket: bucket.id,
    policy: policyDocument([denyInsecureTransport(bucket.arn), ...(args.extraPolicy?.(bucket.arn) ?? [])]),
  }, { parent, dependsOn: [publicAccess] });
  return { bucket, name: bucket.bucket, arn: bucket.arn, policy, publicAccess, versioning };
}
