/**
 * Cross-service confused deputy (https://docs.aws.amazon.com/IAM/latest/UserGuide/confused-deputy.html):
 * a service principal allowed to assume a role of ours, or to write into a resource of
 * ours, must be limited to requests made on behalf of this account's resources, with
 * aws:SourceAccount or aws:SourceArn, or with the key the service documents instead.
 *
 * Not every service sends those keys when it assumes a role (AWS publishes no list), and
 * a condition the request does not carry breaks the service silently. So the few
 * services whose trust policies cannot use them are named here with the reason, and
 * KMS key policies are out of scope: their statements for S3 notifications, Budgets and
 * EventBridge follow the unconditioned forms those services document (see
 * components/foundation/keys.ts).
 */
import * as aws from "@pulumi/aws";
import { validateResourceOfType } from "@pulumi/policy";
import { PlatformResourcePolicy } from "./lib/policy";
import { PolicyStatement, UNKNOWN, asArray, isSet, peek, statementsOf } from "./lib/values";

/** The global keys that bind a service's request to the account or resource it acts for. */
export const SOURCE_KEYS = ["aws:SourceAccount", "aws:SourceArn", "aws:SourceOrgID", "aws:SourceOrgPaths"];

/** Services that document sts:ExternalId as their trust-policy narrowing instead. */
export const EXTERNAL_ID_SERVICES: Readonly<Record<string, string>> = {
  // https://docs.aws.amazon.com/firehose/latest/dev/controlling-access.html ("Allow Firehose to assume an IAM role")
  "firehose.amazonaws.com": "Firehose passes this account's id as sts:ExternalId when it assumes the role",
};

/** Services whose trust policies this pack does not require the keys of, and why. */
export const TRUST_WITHOUT_SOURCE_KEYS: Readonly<Record<string, string>> = {
  "lambda.amazonaws.com":
    "Lambda documents execution-role trust without source keys (https://docs.aws.amazon.com/lambda/latest/dg/lambda-intro-execution-role.html) and does not document sending aws:SourceAccount or aws:SourceArn when it assumes the role; a role reaches a function only through iam:PassRole by a principal of the function's own account",
  "apigateway.amazonaws.com":
    "API Gateway's AWS-service integrations take a credentials role (https://docs.aws.amazon.com/apigateway/latest/developerguide/http-api-develop-integrations-aws-services.html) and API Gateway documents no source keys for assuming it; the role reaches an API only through iam:PassRole by a principal of the API's own account",
  "backup.amazonaws.com":
    "AWS Backup's own default service role (AWSBackupDefaultServiceRole) trusts backup.amazonaws.com without source keys, and its confused-deputy guidance (https://docs.aws.amazon.com/aws-backup/latest/devguide/cross-service-confused-deputy-prevention.html) covers resource policies, not the keys it sends when assuming a plan's role; the role reaches a plan only through iam:PassRole by a principal of the plan's own account",
  "s3.amazonaws.com":
    "S3 Replication's role trust in the S3 User Guide (https://docs.aws.amazon.com/AmazonS3/latest/userguide/setting-repl-config-perm-overview.html) names only the principal, and S3 documents no source keys for assuming it, so a condition on them could stop replication; the role reaches a bucket's replication configuration only through iam:PassRole by a principal of the bucket's own account",
  "redshift.amazonaws.com":
    "Redshift documents narrowing a cluster role with sts:ExternalId set to database-user ARNs (https://docs.aws.amazon.com/redshift/latest/mgmt/authorizing-redshift-service-database-users.html), not the source keys; the role reaches a cluster only through iam:PassRole by a principal of the cluster's own account",
};

const isAssumeRole = (statement: PolicyStatement) => asArray(statement.Action).some((action) => ["sts:AssumeRole", "sts:*", "*"].includes(action));

function servicePrincipals(statement: PolicyStatement): string[] {
  const principal = statement.Principal as { Service?: string | string[] } | string | undefined;
  return typeof principal === "object" && principal !== null ? asArray(principal.Service) : [];
}

/** The condition keys a statement tests, lower-cased (IAM compares condition keys case-insensitively). */
function conditionKeys(statement: PolicyStatement): Set<string> {
  return new Set(Object.values(statement.Condition ?? {}).flatMap((block) => Object.keys(block ?? {})).map((key) => key.toLowerCase()));
}

const testsAnyOf = (statement: PolicyStatement, keys: readonly string[]) => keys.some((key) => conditionKeys(statement).has(key.toLowerCase()));

/** The services a trust policy lets assume the role without the narrowing they support. */
export function unboundServiceTrust(document: unknown): string[] {
  return statementsOf(document)
    .filter((statement) => statement.Effect === "Allow" && isAssumeRole(statement))
    .flatMap((statement) => servicePrincipals(statement).filter((service) => {
      if (service in TRUST_WITHOUT_SOURCE_KEYS) return false;
      const accepted = service in EXTERNAL_ID_SERVICES ? [...SOURCE_KEYS, "sts:ExternalId"] : SOURCE_KEYS;
      return !testsAnyOf(statement, accepted);
    }));
}

export const iamServiceRoleConfusedDeputy: PlatformResourcePolicy = {
  name: "iam-service-role-confused-deputy",
  description: "A role that an AWS service assumes is limited to that service acting for this account (aws:SourceAccount / aws:SourceArn, or the key the service documents).",
  enforcementLevel: "advisory",
  remediationSteps:
    "Pass trustConditions to createScopedRole (components/lib/iam.ts) with aws:SourceAccount and aws:SourceArn as the service's guide shows them (e.g. vpc-flow-logs: the account and arn:aws:ec2:<region>:<account>:vpc-flow-log/*; firehose: sts:ExternalId = the account id). A service that cannot use them goes in TRUST_WITHOUT_SOURCE_KEYS (policies/confused-deputy.ts) with the reason.",
  validateResource: validateResourceOfType(aws.iam.Role, (role, args, report) => {
    const document = peek(() => role.assumeRolePolicy);
    // A trust policy built from outputs (the account id) is known only at update time, when the pack runs again.
    if (document === UNKNOWN) return args.notApplicable("the trust policy is not known during preview");
    for (const service of unboundServiceTrust(document)) {
      const hint = EXTERNAL_ID_SERVICES[service] ? ` or sts:ExternalId (${EXTERNAL_ID_SERVICES[service]})` : "";
      report(`The trust policy lets ${service} assume this role without aws:SourceAccount or aws:SourceArn${hint}, so it could act for another account.`);
    }
  }),
};

/** Service principals a resource policy admits without a source key. */
export function unboundServiceGrants(document: unknown): string[] {
  return statementsOf(document)
    .filter((statement) => statement.Effect === "Allow" && !testsAnyOf(statement, SOURCE_KEYS))
    .flatMap(servicePrincipals);
}

function reportGrants(read: () => unknown, where: string, report: (message: string) => void): void {
  const document = peek(read);
  if (document === UNKNOWN) return;
  for (const service of unboundServiceGrants(document)) report(`${where} admits ${service} without aws:SourceArn or aws:SourceAccount, so another account's resources could write through it.`);
}

export const serviceResourceAccessConfusedDeputy: PlatformResourcePolicy = {
  name: "service-resource-policy-confused-deputy",
  description: "Bucket, queue and topic policies and Lambda permissions that admit an AWS service name the source resource or account (aws:SourceArn / aws:SourceAccount).",
  enforcementLevel: "advisory",
  remediationSteps:
    "Add Condition { ArnEquals/ArnLike: { aws:SourceArn: <the bucket, rule, alarm…> }, StringEquals: { aws:SourceAccount: <account> } } to the statement, or sourceArn / sourceAccount to the aws.lambda.Permission (S3 bucket ARNs carry no account, so give both).",
  validateResource: [
    validateResourceOfType(aws.s3.BucketPolicy, (policy, _args, report) => reportGrants(() => policy.policy, "The bucket policy", report)),
    validateResourceOfType(aws.sqs.QueuePolicy, (policy, _args, report) => reportGrants(() => policy.policy, "The queue policy", report)),
    validateResourceOfType(aws.sns.TopicPolicy, (policy, _args, report) => reportGrants(() => policy.policy, "The topic policy", report)),
    validateResourceOfType(aws.lambda.Permission, (permission, _args, report) => {
      const fromService = typeof permission.principal === "string" && permission.principal.endsWith(".amazonaws.com");
      // An ARN or account still unknown during preview will be given; only a missing one is a finding.
      if (fromService && !isSet(peek(() => permission.sourceArn)) && !isSet(peek(() => permission.sourceAccount))) {
        report(`The permission lets ${permission.principal} invoke the function without sourceArn or sourceAccount, so another account's resources could invoke it.`);
      }
    }),
  ],
};

export const confusedDeputyPolicies: PlatformResourcePolicy[] = [iamServiceRoleConfusedDeputy, serviceResourceAccessConfusedDeputy];
