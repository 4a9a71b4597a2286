/**
 * What the mock engine answers for each resource and invoke: inputs echoed back plus
 * the computed outputs AWS (or the awsx plugin) would return, with plausible ARNs in
 * the provider's region. Only outputs the program reads need an entry here.
 */
import type * as pulumi from "@pulumi/pulumi";
import { createHash } from "crypto";

export const MOCK_ACCOUNT_ID = "123456789012";

type Outputs = Record<string, unknown>;
type OutputsFor = (args: pulumi.runtime.MockResourceArgs, arn: string, region: string, physicalName: string) => Outputs;

/** "aws:sqs/queue:Queue" -> "sqs"; the ARN service for most types is the module. */
function serviceOf(type: string): string {
  const module = type.split(":")[1]?.split("/")[0] ?? "mock";
  const renames: Record<string, string> = { cloudwatch: "logs", sfn: "states" };
  return renames[module] ?? module;
}

function subnetIds(kind: string, count: number): string[] {
  return Array.from({ length: count }, (_, i) => `subnet-${kind}-${i + 1}`);
}

const OUTPUTS_BY_TYPE: Record<string, OutputsFor> = {
  "awsx:ec2:Vpc": (args) => {
    const azs = Number(args.inputs.numberOfAvailabilityZones ?? 3);
    const publicIds = subnetIds("public", azs);
    const privateIds = subnetIds("private", azs);
    const isolatedIds = subnetIds("isolated", azs);
    return {
      vpcId: `vpc-${args.name}`,
      publicSubnetIds: publicIds,
      privateSubnetIds: privateIds,
      isolatedSubnetIds: isolatedIds,
      // One route table per subnet, as awsx creates them.
      routeTables: [...publicIds, ...privateIds, ...isolatedIds].map((id) => ({ id: `rtb-${id}` })),
    };
  },
  "aws:kms/key:Key": (args, _arn, region) => {
    const keyId = `${args.inputs.multiRegion ? "mrk-" : ""}${args.name}`;
    return { keyId, arn: `arn:aws:kms:${region}:${MOCK_ACCOUNT_ID}:key/${keyId}` };
  },
  // A replica of a multi-Region key has its primary's key id, in its own region.
  "aws:kms/replicaKey:ReplicaKey": (args, _arn, region) => {
    const keyId = String(args.inputs.primaryKeyArn ?? "").split("/").pop() ?? args.name;
    return { keyId, arn: `arn:aws:kms:${region}:${MOCK_ACCOUNT_ID}:key/${keyId}` };
  },
  "aws:lambda/eventSourceMapping:EventSourceMapping": (args) => ({ uuid: `esm-${args.name}` }),
  "aws:ec2/vpcEndpoint:VpcEndpoint": (args) => ({ prefixListId: `pl-${args.name}` }),
  "aws:sqs/queue:Queue": (_args, _arn, region, physical) => ({
    url: `https://sqs.${region}.amazonaws.com/${MOCK_ACCOUNT_ID}/${physical}`,
    arn: `arn:aws:sqs:${region}:${MOCK_ACCOUNT_ID}:${physical}`,
  }),
  "aws:s3/bucket:Bucket": (_args, _arn, region, physical) => ({
    bucket: physical,
    arn: `arn:aws:s3:::${physical}`,
    bucketDomainName: `${physical}.s3.amazonaws.com`,
    bucketRegionalDomainName: `${physical}.s3.${region}.amazonaws.com`,
  }),
  "aws:kinesis/stream:Stream": (_args, _arn, region, physical) => ({ arn: `arn:aws:kinesis:${region}:${MOCK_ACCOUNT_ID}:stream/${physical}` }),
  "aws:dynamodb/table:Table": (_args, _arn, region, physical) => {
    const arn = `arn:aws:dynamodb:${region}:${MOCK_ACCOUNT_ID}:table/${physical}`;
    return { arn, streamArn: `${arn}/stream/2026-01-01T00:00:00.000` };
  },
  "aws:backup/vault:Vault": (_args, _arn, region, physical) => ({ arn: `arn:aws:backup:${region}:${MOCK_ACCOUNT_ID}:backup-vault:${physical}` }),
  "aws:backup/plan:Plan": (args, _arn, region) => ({ arn: `arn:aws:backup:${region}:${MOCK_ACCOUNT_ID}:backup-plan:${args.name}-id` }),
  "aws:backup/restoreTestingPlan:RestoreTestingPlan": (_args, _arn, region, physical) => ({ arn: `arn:aws:backup:${region}:${MOCK_ACCOUNT_ID}:restore-testing-plan:${physical}-mock` }),
  "aws:lambda/function:Function": (_args, _arn, region, physical) => ({
    arn: `arn:aws:lambda:${region}:${MOCK_ACCOUNT_ID}:function:${physical}`,
    invokeArn: `arn:aws:apigateway:${region}:lambda:path/2015-03-31/functions/arn:aws:lambda:${region}:${MOCK_ACCOUNT_ID}:function:${physical}/invocations`,
    qualifiedArn: `arn:aws:lambda:${region}:${MOCK_ACCOUNT_ID}:function:${physical}:1`,
  }),
  "aws:iam/role:Role": (_args, _arn, _region, physical) => ({ arn: `arn:aws:iam::${MOCK_ACCOUNT_ID}:role/${physical}` }),
  "aws:rds/cluster:Cluster": (_args, _arn, region, physical) => ({
    arn: `arn:aws:rds:${region}:${MOCK_ACCOUNT_ID}:cluster:${physical}`,
    endpoint: `${physical}.cluster-mock.${region}.rds.amazonaws.com`,
    readerEndpoint: `${physical}.cluster-ro-mock.${region}.rds.amazonaws.com`,
    clusterIdentifier: physical,
    clusterResourceId: `cluster-${createHash("sha256").update(`${region}/${physical}`).digest("hex").slice(0, 26).toUpperCase()}`,
    port: 5432,
    masterUserSecrets: [{ secretArn: `arn:aws:secretsmanager:${region}:${MOCK_ACCOUNT_ID}:secret:rds!cluster-${physical}`, kmsKeyId: "", secretStatus: "active" }],
  }),
  "aws:rds/clusterEndpoint:ClusterEndpoint": (_args, _arn, region, physical) => ({
    endpoint: `${physical}.cluster-custom-mock.${region}.rds.amazonaws.com`,
  }),
  "aws:elasticache/replicationGroup:ReplicationGroup": (_args, _arn, region, physical) => ({
    primaryEndpointAddress: `master.${physical}.mock.${region}.cache.amazonaws.com`,
    readerEndpointAddress: `replica.${physical}.mock.${region}.cache.amazonaws.com`,
    port: 6379,
  }),
  "aws:redshift/cluster:Cluster": (_args, _arn, region, physical) => ({
    arn: `arn:aws:redshift:${region}:${MOCK_ACCOUNT_ID}:cluster:${physical}`,
    clusterIdentifier: physical,
    endpoint: `${physical}.mock.${region}.redshift.amazonaws.com:5439`,
    dnsName: `${physical}.mock.${region}.redshift.amazonaws.com`,
    clusterNamespaceArn: `arn:aws:redshift:${region}:${MOCK_ACCOUNT_ID}:namespace:${physical}`,
    masterPasswordSecretArn: `arn:aws:secretsmanager:${region}:${MOCK_ACCOUNT_ID}:secret:redshift!${physical}-admin`,
  }),
  "aws:redshiftserverless/workgroup:Workgroup": (_args, _arn, _region, physical) => ({
    workgroupName: physical,
    endpoints: [{ address: `${physical}.mock.redshift-serverless.amazonaws.com`, port: 5439 }],
  }),
  "aws:redshiftserverless/namespace:Namespace": (_args, _arn, region, physical) => ({
    namespaceName: physical,
    namespaceId: `ns-${physical}`,
    adminPasswordSecretArn: `arn:aws:secretsmanager:${region}:${MOCK_ACCOUNT_ID}:secret:redshift!${physical}-admin`,
  }),
  "aws:apigateway/restApi:RestApi": (args) => ({ rootResourceId: `root-${args.name}`, executionArn: `arn:aws:execute-api:mock:${MOCK_ACCOUNT_ID}:${args.name}` }),
  "aws:apigatewayv2/api:Api": (args, _arn, region) => ({
    apiEndpoint: `https://${args.name}.execute-api.${region}.amazonaws.com`,
    executionArn: `arn:aws:execute-api:${region}:${MOCK_ACCOUNT_ID}:${args.name}`,
  }),
  "aws:secretsmanager/secret:Secret": (_args, _arn, region, physical) => ({ arn: `arn:aws:secretsmanager:${region}:${MOCK_ACCOUNT_ID}:secret:${physical}` }),
  "aws:glue/catalogDatabase:CatalogDatabase": (args) => ({ name: args.inputs.name ?? args.name.replace(/-/g, "_") }),
  // The services (ECR, docker-build, ECS, ELB, Application Auto Scaling), with ARNs in the shapes AWS returns.
  "aws:ecr/repository:Repository": (_args, _arn, region, physical) => ({
    arn: `arn:aws:ecr:${region}:${MOCK_ACCOUNT_ID}:repository/${physical}`,
    registryId: MOCK_ACCOUNT_ID,
    repositoryUrl: `${MOCK_ACCOUNT_ID}.dkr.ecr.${region}.amazonaws.com/${physical}`,
  }),
  // The digest a push reports: here a hash of the tags (the content-hash tag), so it changes exactly when they do.
  "docker-build:index:Image": (args) => {
    const tags = ((args.inputs.tags as string[] | undefined) ?? []).map(String);
    const digest = `sha256:${createHash("sha256").update(tags.join(",")).digest("hex")}`;
    const repository = tags[0]?.replace(/:[^:/]+$/, "") ?? args.name;
    return { digest, ref: `${repository}@${digest}`, contextHash: digest.slice(7, 39) };
  },
  "aws:ecs/cluster:Cluster": (_args, _arn, region, physical) => ({ arn: `arn:aws:ecs:${region}:${MOCK_ACCOUNT_ID}:cluster/${physical}` }),
  "aws:ecs/taskDefinition:TaskDefinition": (args, _arn, region) => {
    const family = String(args.inputs.family ?? args.name);
    return { arn: `arn:aws:ecs:${region}:${MOCK_ACCOUNT_ID}:task-definition/${family}:1`, arnWithoutRevision: `arn:aws:ecs:${region}:${MOCK_ACCOUNT_ID}:task-definition/${family}`, revision: 1 };
  },
  "aws:ecs/service:Service": (args, _arn, region, physical) => ({
    arn: `arn:aws:ecs:${region}:${MOCK_ACCOUNT_ID}:service/${String(args.inputs.cluster ?? "").split("/").pop()}/${physical}`,
  }),
  "aws:lb/loadBalancer:LoadBalancer": (_args, _arn, region, physical) => {
    const suffix = `app/${physical}/${createHash("sha256").update(physical).digest("hex").slice(0, 16)}`;
    return {
      arn: `arn:aws:elasticloadbalancing:${region}:${MOCK_ACCOUNT_ID}:loadbalancer/${suffix}`,
      arnSuffix: suffix,
      dnsName: `internal-${physical}-1234567890.${region}.elb.amazonaws.com`,
      zoneId: "Z32O12XQLNTSW2",
    };
  },
  "aws:lb/targetGroup:TargetGroup": (_args, _arn, region, physical) => {
    const suffix = `targetgroup/${physical}/${createHash("sha256").update(physical).digest("hex").slice(0, 16)}`;
    return { arn: `arn:aws:elasticloadbalancing:${region}:${MOCK_ACCOUNT_ID}:${suffix}`, arnSuffix: suffix };
  },
  "aws:lb/listener:Listener": (args) => ({
    arn: `${String(args.inputs.loadBalancerArn ?? "").replace(":loadbalancer/", ":listener/")}/${createHash("sha256").update(args.name).digest("hex").slice(0, 16)}`,
  }),
  "aws:sfn/stateMachine:StateMachine": (_args, _arn, region, physical) => ({ arn: `arn:aws:states:${region}:${MOCK_ACCOUNT_ID}:stateMachine:${physical}` }),
  "aws:emrserverless/application:Application": (args, _arn, region) => ({ arn: `arn:aws:emr-serverless:${region}:${MOCK_ACCOUNT_ID}:/applications/${args.name}-id` }),
  "aws:glue/job:Job": (_args, _arn, region, physical) => ({ arn: `arn:aws:glue:${region}:${MOCK_ACCOUNT_ID}:job/${physical}` }),
  "aws:glue/crawler:Crawler": (_args, _arn, region, physical) => ({ arn: `arn:aws:glue:${region}:${MOCK_ACCOUNT_ID}:crawler/${physical}` }),
  "aws:scheduler/schedule:Schedule": (_args, _arn, region, physical) => ({ arn: `arn:aws:scheduler:${region}:${MOCK_ACCOUNT_ID}:schedule/default/${physical}` }),
  "aws:dms/replicationInstance:ReplicationInstance": (args, _arn, region) => ({ replicationInstanceArn: `arn:aws:dms:${region}:${MOCK_ACCOUNT_ID}:rep:${args.name}` }),
  "aws:dms/endpoint:Endpoint": (args, _arn, region) => ({ endpointArn: `arn:aws:dms:${region}:${MOCK_ACCOUNT_ID}:endpoint:${args.name}` }),
  "aws:dms/replicationTask:ReplicationTask": (args, _arn, region) => ({ replicationTaskArn: `arn:aws:dms:${region}:${MOCK_ACCOUNT_ID}:task:${args.name}` }),
  "aws:apigatewayv2/vpcLink:VpcLink": (args, _arn, region) => ({ arn: `arn:aws:apigateway:${region}::/vpclinks/${args.name}-id` }),
  "aws:appautoscaling/policy:Policy": (args, _arn, region) => ({
    arn: `arn:aws:autoscaling:${region}:${MOCK_ACCOUNT_ID}:scalingPolicy:00000000-0000-0000-0000-000000000000:resource/${args.inputs.resourceId ?? ""}:policyName/${args.name}`,
  }),
};

/** The Elastic Load Balancing account that writes access logs in each region opened before August 2022 (the ELB user guide's table). */
const ELB_LOG_ACCOUNTS: Record<string, string> = { "eu-west-1": "156460612806", "eu-central-1": "054676820928", "us-east-1": "127311923021" };

/** Types whose provider id is one of their inputs, as the AWS provider reports it. */
const ID_IS_INPUT: Record<string, (args: pulumi.runtime.MockResourceArgs) => string | undefined> = {
  "aws:rds/globalCluster:GlobalCluster": (args) => args.inputs.globalClusterIdentifier,
};

/**
 * The suffix Pulumi's autonaming adds: random there, a hash of the stack here, so that
 * the same logical name in two stacks (prod and prod-dr) names two resources, as it does
 * in AWS, and a stack's names stay the same from run to run.
 */
export function autonameSuffix(stack: string): string {
  return createHash("sha256").update(stack).digest("hex").slice(0, 7);
}

/** Autonaming as Pulumi does it: the logical name plus a suffix, unless a name was given. */
function physicalNameOf(args: pulumi.runtime.MockResourceArgs, stack: string): string {
  const explicit =
    args.inputs.name ??
    args.inputs.bucket ??
    args.inputs.clusterIdentifier ??
    args.inputs.clusterEndpointIdentifier ??
    args.inputs.replicationGroupId ??
    args.inputs.workgroupName ??
    args.inputs.namespaceName;
  return typeof explicit === "string" ? explicit : `${args.name}-${autonameSuffix(stack)}`;
}

export function mockResourceOutputs(args: pulumi.runtime.MockResourceArgs, region: string, stack: string): { id: string; state: Outputs } {
  const physical = physicalNameOf(args, stack);
  const arn = `arn:aws:${serviceOf(args.type)}:${region}:${MOCK_ACCOUNT_ID}:${physical}`;
  const specific = OUTPUTS_BY_TYPE[args.type]?.(args, arn, region, physical) ?? {};
  const id = args.type.startsWith("pulumi:providers:") ? `provider-${args.name}` : (ID_IS_INPUT[args.type]?.(args) ?? `${args.name}-id`);
  return { id, state: { name: physical, arn, ...args.inputs, ...specific } };
}

export function mockCall(args: pulumi.runtime.MockCallArgs, region: string): Outputs {
  switch (args.token) {
    case "aws:index/getCallerIdentity:getCallerIdentity":
      return { accountId: MOCK_ACCOUNT_ID, arn: `arn:aws:iam::${MOCK_ACCOUNT_ID}:user/mock`, userId: "MOCK", id: MOCK_ACCOUNT_ID };
    case "aws:index/getRegion:getRegion":
      return { region, name: region, id: region, endpoint: `ec2.${region}.amazonaws.com`, description: region };
    case "aws:index/getPartition:getPartition":
      return { partition: "aws", dnsSuffix: "amazonaws.com", id: "aws" };
    case "aws:index/getAvailabilityZones:getAvailabilityZones":
      return { names: ["a", "b", "c", "d", "e", "f"].map((s) => `${region}${s}`), zoneIds: [], id: region };
    case "aws:ecr/getAuthorizationToken:getAuthorizationToken": {
      const password = "mock-ecr-registry-password";
      return {
        authorizationToken: Buffer.from(`AWS:${password}`).toString("base64"),
        userName: "AWS",
        password,
        proxyEndpoint: `https://${MOCK_ACCOUNT_ID}.dkr.ecr.${region}.amazonaws.com`,
        expiresAt: "2026-12-03T00:00:00Z",
        id: region,
      };
    }
    case "aws:elb/getServiceAccount:getServiceAccount": {
      const account = ELB_LOG_ACCOUNTS[region] ?? "127311923021";
      return { arn: `arn:aws:iam::${account}:root`, id: account };
    }
    default:
      return args.inputs;
  }
}
