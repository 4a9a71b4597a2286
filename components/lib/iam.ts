import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";

/** One IAM policy statement, as JSON. */
export type Statement = object;

/** Trust policy letting one AWS service assume a role. */
export function serviceAssumeRolePolicy(service: string): string {
  return JSON.stringify({
    Version: "2012-10-17",
    Statement: [{ Effect: "Allow", Principal: { Service: service }, Action: "sts:AssumeRole" }],
  });
}

/** Serialises statements (which may hold outputs) into a policy document. */
export function policyDocument(statements: pulumi.Input<Statement>[]): pulumi.Output<string> {
  return pulumi.all(statements).apply((resolved) => JSON.stringify({ Version: "2012-10-17", Statement: resolved }));
}

/** A bucket policy statement refusing any request not made over TLS. */
export function denyInsecureTransport(bucketArn: pulumi.Input<string>): pulumi.Output<Statement> {
  return pulumi.output(bucketArn).apply((arn) => ({
    Sid: "DenyInsecureTransport",
    Effect: "Deny",
    Principal: "*",
    Action: "s3:*",
    Resource: [arn, `${arn}/*`],
    Condition: { Bool: { "aws:SecureTransport": "false" } },
  }));
}

export interface ScopedRoleArgs {
  /** Service principal allowed to assume the role, e.g. "lambda.amazonaws.com". */
  service: string;
  /** Every permission the role holds; keep each to the actions and ARNs actually used. */
  statements: pulumi.Input<Statement>[];
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
    assumeRolePolicy: serviceAssumeRolePolicy(args.service),
  }, opts);
  const policy = new aws.iam.RolePolicy(`${name}-policy`, { role: role.id, policy: policyDocument(args.statements) }, opts);
  return { role, policy };
}
