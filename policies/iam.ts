/**
 * Least privilege: no broad AWS-managed `*FullAccess` (or AdministratorAccess) policies,
 * and no statement that allows every action on every resource. CallbackFunction's default
 * role is the usual way such policies sneak in (see DESIGN.md).
 */
import * as aws from "@pulumi/aws";
import { validateResourceOfType } from "@pulumi/policy";
import { PlatformResourcePolicy } from "./lib/policy";
import { PolicyStatement, asArray, statementsOf } from "./lib/values";

/** AWS-managed policies granting a whole service (or everything). */
export function isBroadManagedPolicy(arn: unknown): boolean {
  return typeof arn === "string" && /^arn:aws[a-z-]*:iam::aws:policy\/(.+\/)?([^/]*FullAccess[^/]*|AdministratorAccess)$/.test(arn);
}

function reportBroad(arns: unknown[], report: (message: string) => void) {
  for (const arn of arns.filter(isBroadManagedPolicy)) report(`Attaches ${arn}, which grants far more than any component needs.`);
}

export const iamNoFullAccess: PlatformResourcePolicy = {
  name: "iam-no-full-access-managed-policies",
  description: "No role, user or group gets an AWS-managed *FullAccess or AdministratorAccess policy.",
  enforcementLevel: "advisory",
  remediationSteps:
    "Replace the attachment with an inline policy listing the actions and ARNs the code uses (createScopedRole in components/lib/iam.ts); for CallbackFunction pass `role` or `policies`.",
  validateResource: [
    validateResourceOfType(aws.iam.Role, (role, _args, report) => reportBroad(asArray(role.managedPolicyArns), report)),
    validateResourceOfType(aws.iam.RolePolicyAttachment, (attachment, _args, report) => reportBroad([attachment.policyArn], report)),
    validateResourceOfType(aws.iam.RolePolicyAttachmentsExclusive, (attachments, _args, report) => reportBroad(asArray(attachments.policyArns), report)),
    validateResourceOfType(aws.iam.PolicyAttachment, (attachment, _args, report) => reportBroad([attachment.policyArn], report)),
    validateResourceOfType(aws.iam.UserPolicyAttachment, (attachment, _args, report) => reportBroad([attachment.policyArn], report)),
    validateResourceOfType(aws.iam.GroupPolicyAttachment, (attachment, _args, report) => reportBroad([attachment.policyArn], report)),
  ],
};

const WILDCARD_ACTIONS = ["*", "*:*"];

/** Allow of every action on every resource: administrator access in one statement. */
export function allowsEverything(statement: PolicyStatement): boolean {
  return (
    statement.Effect === "Allow" &&
    asArray(statement.Action).some((action) => WILDCARD_ACTIONS.includes(action)) &&
    asArray(statement.Resource).includes("*")
  );
}

function reportWildcards(document: unknown, where: string, report: (message: string) => void) {
  for (const statement of statementsOf(document).filter(allowsEverything)) {
    report(`${where} allows Action "*" on Resource "*"${statement.Sid ? ` (statement ${statement.Sid})` : ""}.`);
  }
}

export const iamNoWildcardAdmin: PlatformResourcePolicy = {
  name: "iam-no-wildcard-admin-statements",
  description: 'No IAM policy statement allows Action "*" (or "*:*") on Resource "*".',
  enforcementLevel: "advisory",
  remediationSteps: "List the actions the code calls and the ARNs it touches; keep \"*\" resources only for actions without resource-level permissions (X-Ray, ENI management).",
  validateResource: [
    validateResourceOfType(aws.iam.RolePolicy, (policy, _args, report) => reportWildcards(policy.policy, "The inline role policy", report)),
    validateResourceOfType(aws.iam.Policy, (policy, _args, report) => reportWildcards(policy.policy, "The managed policy", report)),
    validateResourceOfType(aws.iam.UserPolicy, (policy, _args, report) => reportWildcards(policy.policy, "The inline user policy", report)),
    validateResourceOfType(aws.iam.GroupPolicy, (policy, _args, report) => reportWildcards(policy.policy, "The inline group policy", report)),
    validateResourceOfType(aws.iam.Role, (role, _args, report) => {
      for (const inline of asArray(role.inlinePolicies)) reportWildcards(inline.policy, `Inline policy ${inline.name ?? ""}`.trim(), report);
    }),
  ],
};

export const iamPolicies: PlatformResourcePolicy[] = [iamNoFullAccess, iamNoWildcardAdmin];
