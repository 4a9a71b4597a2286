import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";

/** One IAM policy statement, as JSON. */
export type Statement = object;

/** IAM condition block: operator → condition key → value(s). */
export type Conditions = Record<string, Record<string, string | string[]>>;

/**
 * Trust policy letting one AWS service assume a role, optionally only when the request
 * carries `conditions`: the confused-deputy keys (aws:SourceAccount, aws:SourceArn, or
 * the sts:ExternalId some services document instead) where the service supports them.
 */
export function serviceAssumeRolePolicy(service: string, conditions?: Conditions): string {
  return JSON.stringify({
    Version: "2012-10-17",
    Statement: [{ Effect: "Allow", Principal: { Service: service }, Action: "sts:AssumeRole", ...(conditions ? { Condition: conditions } : {}) }],
  });
}

/** Serialises statements (which may hold outputs, one statement or a list each) into a policy document. */
export function policyDocument(statements: pulumi.Input<Statement | Statement[]>[]): pulumi.Output<string> {
  return pulumi.all(statements).apply((resolved) => JSON.stringify({ Version: "2012-10-17", Statement: resolved.flat() }));
}

/** What a TLS-only resource policy refuses: everything on an S3 bucket and its objects, or one action on a queue or topic. */
export type InsecureTransportAction = "s3:*" | "sqs:*" | "sns:Publish";

/**
 * A resource-policy statement refusing any request not made over TLS. With the default
 * "s3:*" it is the bucket form (the bucket and every object in it); with "sqs:*" or
 * "sns:Publish" it covers that one queue or topic.
 */
export function denyInsecureTransport(resourceArn: pulumi.Input<string>, action: InsecureTransportAction = "s3:*"): pulumi.Output<Statement> {
  return pulumi.output(resourceArn).apply((arn) => ({
    Sid: "DenyInsecureTransport",
    Effect: "Deny",
    Principal: "*",
    Action: action,
    Resource: action === "s3:*" ? [arn, `${arn}/*`] : arn,
    Condition: { Bool: { "aws:SecureTransport": "false" } },
  }));
}

/** One Allow statement; `resource` may still be an output (an ARN, or a list of them). */
export function allow(sid: string, actions: string | string[], resource: pulumi.Input<string | string[]>): pulumi.Output<Statement> {
  return pulumi.output(resource).apply((Resource) => ({ Sid: sid, Effect: "Allow", Action: actions, Resource }));
}

/** s3:ListBucket on a bucket, limited to keys under `prefixes` (the s3:prefix condition). */
export function listBucketUnder(sid: string, bucketArn: string, prefixes: readonly string[]): Statement {
  return { Sid: sid, Effect: "Allow", Action: "s3:ListBucket", Resource: bucketArn, Condition: { StringLike: { "s3:prefix": prefixes.map((prefix) => `${prefix}*`) } } };
}

/** KMS rights a principal needs to read and write data under the stage data key. */
export function useDataKey(dataKeyArn: pulumi.Input<string>): pulumi.Output<Statement> {
  return allow("UseDataKey", ["kms:Decrypt", "kms:GenerateDataKey"], dataKeyArn);
}

export interface ScopedRoleArgs {
  /** Service principal allowed to assume the role, e.g. "lambda.amazonaws.com". */
  service: string;
  /**
   * Conditions the service's AssumeRole request must meet (see serviceAssumeRolePolicy).
   * Leave unset only for services that document none; policies/confused-deputy.ts lists them.
   * @default undefined (no conditions)
   */
  trustConditions?: pulumi.Input<Conditions>;
  /** Every permission the role holds; keep each to the actions and ARNs actually used. */
  statements: pulumi.Input<Statement | Statement[]>[];
  description: string;
}

export interface ScopedRole {
  readonly role: aws.iam.Role;
  /** Depend on this, not just the role, when AWS checks the role's permissions at create time. */
  readonly policy: aws.iam.RolePolicy;
}

/** A role holding one inline policy and no managed policies: what it can do is all in `statements`. */
export function createScopedRole(name: string, args: ScopedRoleArgs, opts: pulumi.CustomResourceOptions): ScopedRole {
  const role = new aws.iam.Role(`${name}-role`, {
    description: args.description,
    assumeRolePolicy: args.trustConditions === undefined
      ? serviceAssumeRolePolicy(args.service)
      : pulumi.output(args.trustConditions).apply((conditions) => serviceAssumeRolePolicy(args.service, conditions as Conditions)),
  }, opts);
  const policy = new aws.iam.RolePolicy(`${name}-policy`, { role: role.id, policy: policyDocument(args.statements) }, opts);
  return { role, policy };
}
