/**
 * Where resources may live and how they are labelled.
 *
 * Tags: the platform tags resources through the AWS provider's `defaultTags`
 * (Owner, CostCentre, Stage, ...) rather than on each resource, so a resource's own
 * `tags` are usually empty and the check must look at what AWS will actually apply:
 *   provider defaultTags  <  resource tagsAll  <  resource tags   (later wins).
 * The engine passes the resource's provider (with its inputs) to every resource policy
 * as `args.provider`, both under `pulumi preview` and in the offline runner, so the
 * provider's defaultTags are the primary source; `tagsAll` (which the AWS provider
 * computes from defaultTags on taggable resources) covers providers whose config the
 * pack cannot see. Only types in TAGGED_RESOURCE_TYPES are checked: the AWS provider
 * ignores defaultTags on types without tags, so demanding tags there would be noise.
 */
import { PolicyProviderResource, ResourceValidationArgs } from "@pulumi/policy";
import { PlatformResourcePolicy } from "./lib/policy";
import { UNKNOWN, jsonValue, peek } from "./lib/values";

/** The cost-bearing and stateful types this platform creates, all of which accept tags. Extend it with new kinds. */
export const TAGGED_RESOURCE_TYPES: readonly string[] = [
  "aws:athena/workgroup:Workgroup",
  "aws:backup/plan:Plan",
  "aws:backup/restoreTestingPlan:RestoreTestingPlan",
  "aws:backup/vault:Vault",
  "aws:cloudwatch/logGroup:LogGroup",
  "aws:cloudwatch/metricAlarm:MetricAlarm",
  "aws:dms/endpoint:Endpoint",
  "aws:dms/replicationInstance:ReplicationInstance",
  "aws:dms/replicationSubnetGroup:ReplicationSubnetGroup",
  "aws:dms/replicationTask:ReplicationTask",
  "aws:dynamodb/table:Table",
  "aws:ec2/flowLog:FlowLog",
  "aws:ec2/securityGroup:SecurityGroup",
  "aws:ec2/vpcEndpoint:VpcEndpoint",
  "aws:elasticache/replicationGroup:ReplicationGroup",
  "aws:emrserverless/application:Application",
  "aws:glue/catalogDatabase:CatalogDatabase",
  "aws:glue/crawler:Crawler",
  "aws:glue/job:Job",
  "aws:iam/role:Role",
  "aws:kinesis/firehoseDeliveryStream:FirehoseDeliveryStream",
  "aws:kinesis/stream:Stream",
  "aws:kms/key:Key",
  "aws:kms/replicaKey:ReplicaKey",
  "aws:lambda/function:Function",
  "aws:rds/cluster:Cluster",
  "aws:rds/clusterInstance:ClusterInstance",
  "aws:rds/globalCluster:GlobalCluster",
  "aws:rds/instance:Instance",
  "aws:rds/integration:Integration",
  "aws:redshift/cluster:Cluster",
  "aws:redshift/snapshotCopyGrant:SnapshotCopyGrant",
  "aws:redshift/snapshotSchedule:SnapshotSchedule",
  "aws:redshiftserverless/namespace:Namespace",
  "aws:redshiftserverless/workgroup:Workgroup",
  "aws:s3/bucket:Bucket",
  "aws:s3/bucketV2:BucketV2",
  "aws:scheduler/scheduleGroup:ScheduleGroup",
  "aws:secretsmanager/secret:Secret",
  "aws:sfn/stateMachine:StateMachine",
  "aws:sns/topic:Topic",
  "aws:sqs/queue:Queue",
  "aws:ssm/parameter:Parameter",
];

export const DEFAULT_REQUIRED_TAGS = ["Owner", "CostCentre", "Stage"];

type Tags = Record<string, unknown>;

function providerDefaultTags(provider: PolicyProviderResource | undefined): Tags {
  if (provider === undefined) return {};
  const defaultTags = peek(() => provider.props.defaultTags);
  if (defaultTags === UNKNOWN) return {};
  return jsonValue<{ tags?: Tags }>(defaultTags)?.tags ?? {};
}

function knownTags(read: () => unknown): Tags {
  const tags = peek(read);
  return tags === UNKNOWN ? {} : (jsonValue<Tags>(tags) ?? {});
}

/** The tags AWS will apply to the resource: provider defaults, then tagsAll, then the resource's own tags. */
export function effectiveTags(args: Pick<ResourceValidationArgs, "props" | "provider">): Tags {
  return { ...providerDefaultTags(args.provider), ...knownTags(() => args.props.tagsAll), ...knownTags(() => args.props.tags) };
}

const hasValue = (value: unknown) => typeof value === "string" && value.trim() !== "";

interface RequiredTagsConfig {
  requiredTags?: string[];
}

export const requiredTags: PlatformResourcePolicy = {
  name: "required-tags",
  description: "Taggable resources carry the ownership and cost tags (default Owner, CostCentre, Stage), counting the provider's defaultTags.",
  enforcementLevel: "advisory",
  remediationSteps:
    "Create the resource with one of the platform's providers (their defaultTags come from platformTags in components/lib/naming.ts), or give it the missing tags explicitly.",
  configSchema: {
    properties: {
      requiredTags: { type: "array", items: { type: "string" }, default: DEFAULT_REQUIRED_TAGS, description: "Tag keys every taggable resource must have, with a non-empty value." },
    },
  },
  validateResource: (args, report) => {
    if (!TAGGED_RESOURCE_TYPES.includes(args.type)) args.notApplicable("Not a tagged resource type");
    const tags = effectiveTags(args);
    const missing = (args.getConfig<RequiredTagsConfig>().requiredTags ?? DEFAULT_REQUIRED_TAGS).filter((key) => !hasValue(tags[key]));
    if (missing.length > 0) report(`Missing tag(s) ${missing.join(", ")} (after the provider's defaultTags).`);
  },
};

/** The region a resource is created in: its own v7 `region` input, else its provider's. */
export function regionOf(args: Pick<ResourceValidationArgs, "type" | "props" | "provider">): string | undefined {
  const own = peek(() => args.props.region);
  if (typeof own === "string" && own !== "") return own;
  if (args.type === "pulumi:providers:aws") return undefined;
  const fromProvider = args.provider ? peek(() => args.provider?.props.region) : undefined;
  return typeof fromProvider === "string" && fromProvider !== "" ? fromProvider : undefined;
}

/**
 * CloudFront is global and its standard logging v2 delivery source must be created in us-east-1
 * (https://docs.aws.amazon.com/AmazonCloudFront/latest/DeveloperGuide/standard-logging.html);
 * these resources hold only delivery settings, the logs land in the stack's own region.
 */
const CLOUDFRONT_CONTROL_PLANE_REGION = "us-east-1";
const CLOUDFRONT_LOG_DELIVERY_TYPES = [
  "aws:cloudwatch/logDeliverySource:LogDeliverySource",
  "aws:cloudwatch/logDeliveryDestination:LogDeliveryDestination",
  "aws:cloudwatch/logDelivery:LogDelivery",
];

interface AllowedRegionsConfig {
  allowedRegions?: string[];
}

export const allowedRegions: PlatformResourcePolicy = {
  name: "allowed-regions",
  description: "AWS providers and resources are only in the stack's allowed regions (allowedRegions; empty means unrestricted), which keeps data where it may reside.",
  enforcementLevel: "mandatory",
  remediationSteps: "Use the primary or DR provider from platform/index.ts, or add the region to allowedRegions in policies/config.<stack>.json once data residency allows it.",
  configSchema: {
    properties: {
      allowedRegions: { type: "array", items: { type: "string" }, default: [], description: "Regions providers and resources may use; empty allows any." },
    },
  },
  validateResource: (args, report) => {
    const allowed = args.getConfig<AllowedRegionsConfig>().allowedRegions ?? [];
    if (allowed.length === 0) args.notApplicable("No allowedRegions configured");
    if (args.type !== "pulumi:providers:aws" && !args.type.startsWith("aws:")) args.notApplicable("Not an AWS resource");
    const region = regionOf(args);
    if (region === CLOUDFRONT_CONTROL_PLANE_REGION && CLOUDFRONT_LOG_DELIVERY_TYPES.includes(args.type)) args.notApplicable("CloudFront log delivery lives in us-east-1");
    if (region !== undefined && !allowed.includes(region)) report(`Region ${region} is not among the allowed regions ${allowed.join(", ")}.`);
  },
};

export const governancePolicies: PlatformResourcePolicy[] = [allowedRegions, requiredTags];
