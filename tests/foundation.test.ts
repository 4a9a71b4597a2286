import { StageConfigError } from "../config";
import { subnetMasks } from "../components/foundation/network";
import { packagesToExclude } from "../components/lib/inline-function";
import { PlannedResource, StackEvaluation, ofType } from "../scripts/engine";
import { evaluate, policyOf, single } from "./support/stack";

const EXPECTED = {
  dev: { azs: 2, nat: "Single", multiRegion: false, protect: false, deletionWindow: 7, emails: 0 },
  prod: { azs: 3, nat: "OnePerAz", multiRegion: true, protect: true, deletionWindow: 30, emails: 1 },
} as const;

const byName = (plan: StackEvaluation, type: string, name: string) => single(plan, type, name);

describe.each(["dev", "prod"] as const)("%s stack foundation", (stack) => {
  const expected = EXPECTED[stack];
  let plan: StackEvaluation;
  beforeAll(async () => {
    plan = await evaluate(stack);
  });

  it("evaluates with zero warnings (no deprecations) and zero errors", () => {
    expect(plan.errors).toEqual([]);
    expect(plan.warnings).toEqual([]);
  });

  it("puts the stage's tags on the one AWS provider, in the primary region", () => {
    const [provider] = ofType(plan, "pulumi:providers:aws");
    expect(ofType(plan, "pulumi:providers:aws").length).toBeGreaterThanOrEqual(1);
    expect(provider.name).toBe(`dp-${stack}-primary`);
    expect(provider.inputs.region).toBe("eu-west-1");
    expect(JSON.parse(provider.inputs.defaultTags).tags).toEqual({
      Project: "aws-data-platform",
      Stage: stack,
      Owner: "data-platform-team",
      CostCentre: "cc-1234",
      ManagedBy: "pulumi",
      NamePrefix: `dp-${stack}`,
    });
  });

  it("creates every AWS resource through an explicit provider, never the default one", () => {
    const awsResources = plan.resources.filter((r) => r.custom && r.type.startsWith("aws:"));
    expect(awsResources.length).toBeGreaterThan(20);
    const withoutExplicitProvider = awsResources.filter((r) => !r.provider || r.provider.includes("::default"));
    expect(withoutExplicitProvider.map((r) => r.name)).toEqual([]);
  });

  it("names every resource with the stage prefix", () => {
    const unprefixed = plan.resources.filter((r) => !r.name.startsWith(`dp-${stack}-`));
    expect(unprefixed.map((r) => `${r.type} ${r.name}`)).toEqual([]);
  });

  it("spans the configured AZs with public, private and isolated subnets", () => {
    const vpc = byName(plan, "awsx:ec2:Vpc", "-network-vpc");
    expect(vpc.remote).toBe(true);
    expect(vpc.inputs.numberOfAvailabilityZones).toBe(expected.azs);
    expect(vpc.inputs.natGateways).toEqual({ strategy: expected.nat });
    expect(vpc.inputs.subnetSpecs.map((s: { type: string }) => s.type)).toEqual(["Public", "Private", "Isolated"]);
    const outputs = plan.outputs as Record<string, string[]>;
    expect(outputs.privateSubnetIds).toHaveLength(expected.azs);
    expect(outputs.isolatedSubnetIds).toHaveLength(expected.azs);
    expect(outputs.publicSubnetIds).toHaveLength(expected.azs);
  });

  it("adds gateway endpoints for S3 and DynamoDB on every route table", () => {
    for (const service of ["s3", "dynamodb"]) {
      const endpoint = byName(plan, "aws:ec2/vpcEndpoint:VpcEndpoint", `-${service}-endpoint`);
      expect(endpoint.inputs).toMatchObject({ vpcEndpointType: "Gateway", serviceName: `com.amazonaws.eu-west-1.${service}` });
      expect(endpoint.inputs.routeTableIds).toHaveLength(3 * expected.azs);
    }
  });

  it("adds private-DNS interface endpoints for Kinesis, SQS, Secrets Manager and KMS behind the endpoint group", () => {
    const endpointGroup = byName(plan, "aws:ec2/securityGroup:SecurityGroup", "-endpoints-sg");
    for (const service of ["kinesis-streams", "sqs", "secretsmanager", "kms"]) {
      const endpoint = byName(plan, "aws:ec2/vpcEndpoint:VpcEndpoint", `-${service}-endpoint`);
      expect(endpoint.inputs).toMatchObject({ vpcEndpointType: "Interface", privateDnsEnabled: true, serviceName: `com.amazonaws.eu-west-1.${service}` });
      expect(endpoint.inputs.subnetIds).toHaveLength(expected.azs);
      expect(endpoint.inputs.securityGroupIds).toEqual([endpointGroup.state.id ?? `${endpointGroup.name}-id`]);
    }
  });

  it("admits each data tier only from the app tier (the functions, and the services that read it), on its own port", () => {
    const groupIdOf = (suffix: string) => `${byName(plan, "aws:ec2/securityGroup:SecurityGroup", suffix).name}-id`;
    const lambdaGroupId = groupIdOf("-lambda-sg");
    // The aggregator writes Aurora; the client API reads Aurora's reporting endpoint and Redis.
    const services: Record<string, string[]> = { database: [groupIdOf("-aggregator-sg"), groupIdOf("-client-api-sg")], cache: [groupIdOf("-client-api-sg")], warehouse: [] };
    const ingress = ofType(plan, "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule");
    for (const [tier, port] of [["database", 5432], ["cache", 6379], ["warehouse", 5439]] as const) {
      const groupId = `${byName(plan, "aws:ec2/securityGroup:SecurityGroup", `-${tier}-sg`).name}-id`;
      const rules = ingress.filter((rule) => rule.inputs.securityGroupId === groupId);
      const expectedRules = [lambdaGroupId, ...services[tier]].map((source) => [source, port, port]);
      expect(rules.map((rule) => [rule.inputs.referencedSecurityGroupId, rule.inputs.fromPort, rule.inputs.toPort]).sort()).toEqual(expectedRules.sort());
    }
    const openToWorld = [...ingress, ...ofType(plan, "aws:vpc/securityGroupEgressRule:SecurityGroupEgressRule")].filter((rule) => rule.inputs.cidrIpv4 === "0.0.0.0/0");
    expect(openToWorld.map((rule) => rule.name)).toEqual([]);
    for (const group of ofType(plan, "aws:ec2/securityGroup:SecurityGroup")) {
      expect(group.inputs.ingress ?? []).toEqual([]);
      expect(group.inputs.egress ?? []).toEqual([]);
    }
  });

  it("creates data and logs keys with rotation, multi-Region as configured, and protect as configured", () => {
    const keys = ofType(plan, "aws:kms/key:Key").filter((key) => key.parent?.includes("PlatformKeys"));
    expect(keys.map((key) => key.name).sort()).toEqual([`dp-${stack}-keys-data`, `dp-${stack}-keys-logs`]);
    for (const key of keys) {
      expect(key.inputs).toMatchObject({ enableKeyRotation: true, multiRegion: expected.multiRegion, deletionWindowInDays: expected.deletionWindow });
      expect(key.protect).toBe(expected.protect);
    }
    const logsPolicy = policyOf(byName(plan, "aws:kms/key:Key", "-keys-logs"));
    expect(logsPolicy.Statement).toContainEqual(expect.objectContaining({
      Principal: { Service: "logs.eu-west-1.amazonaws.com" },
      Condition: { ArnLike: { "kms:EncryptionContext:aws:logs:arn": "arn:aws:logs:eu-west-1:123456789012:*" } },
    }));
  });

  it("lets the services that publish into encrypted topics and queues use the data key, each under conditions its requests carry", () => {
    const statements = policyOf(byName(plan, "aws:kms/key:Key", "-keys-data")).Statement;
    const forService = (service: string) => statements.filter((statement) => [statement.Principal?.Service ?? []].flat().includes(service));
    const grant = (Sid: string, Service: string | string[], Condition?: object) => ({
      Sid,
      Effect: "Allow",
      Principal: { Service },
      Action: ["kms:GenerateDataKey*", "kms:Decrypt"],
      Resource: "*",
      ...(Condition ? { Condition } : {}),
    });
    // CloudWatch's KMS requests for alarm delivery carry aws:SourceAccount.
    expect(forService("cloudwatch.amazonaws.com")).toEqual([grant("CloudWatchAlarmsOfThisAccountEncrypt", "cloudwatch.amazonaws.com", { StringEquals: { "aws:SourceAccount": "123456789012" } })]);
    // S3 notifications and Budgets alerts: the form their guides document, with the source
    // conditions on the topic policies instead (a condition their KMS requests lack would drop every notification).
    const documentedForm = grant("S3AndBudgetsNotifyEncryptedTopics", ["s3.amazonaws.com", "budgets.amazonaws.com"]);
    expect(forService("s3.amazonaws.com")).toEqual([documentedForm]);
    expect(forService("budgets.amazonaws.com")).toEqual([documentedForm]);
    // EventBridge's KMS requests (target and dead-letter delivery) carry no aws:SourceAccount or
    // aws:SourceArn: a statement conditioned on them would never match and every delivery would fail.
    expect(forService("events.amazonaws.com")).toEqual([grant("EventBridgeDeliversToEncryptedTargets", "events.amazonaws.com")]);
  });

  it("keeps the source conditions for S3 and Budgets on the topics they publish to", () => {
    const alarms = policyOf(byName(plan, "aws:sns/topicPolicy:TopicPolicy", "-alerting-alarms-policy")).Statement;
    expect(alarms.find((statement) => statement.Sid === "AccountServicesPublishAlarms")).toMatchObject({
      Principal: { Service: ["cloudwatch.amazonaws.com", "budgets.amazonaws.com"] },
      Condition: { StringEquals: { "aws:SourceAccount": "123456789012" } },
    });
    const lakeEvents = policyOf(byName(plan, "aws:sns/topicPolicy:TopicPolicy", "-lake-events-policy")).Statement;
    expect(lakeEvents.find((statement) => statement.Sid === "StagedBucketPublishes")).toMatchObject({
      Principal: { Service: "s3.amazonaws.com" },
      Condition: { ArnEquals: { "aws:SourceArn": expect.stringMatching(/^arn:aws:s3:::dp-\w+-lake-staged/) }, StringEquals: { "aws:SourceAccount": "123456789012" } },
    });
  });

  it("lets only this account's flow logs in this region assume the flow-log role", () => {
    const trust = JSON.parse(byName(plan, "aws:iam/role:Role", "-network-flow-logs-role").inputs.assumeRolePolicy);
    expect(trust.Statement).toEqual([{
      Effect: "Allow",
      Principal: { Service: "vpc-flow-logs.amazonaws.com" },
      Action: "sts:AssumeRole",
      Condition: {
        StringEquals: { "aws:SourceAccount": "123456789012" },
        ArnLike: { "aws:SourceArn": "arn:aws:ec2:eu-west-1:123456789012:vpc-flow-log/*" },
      },
    }]);
  });

  it("keeps VPC flow logs in a KMS-encrypted log group", () => {
    const group = byName(plan, "aws:cloudwatch/logGroup:LogGroup", "-network-flow-logs");
    expect(group.inputs.kmsKeyId).toMatch(/^arn:aws:kms:eu-west-1:123456789012:key\//);
    expect(byName(plan, "aws:ec2/flowLog:FlowLog", "-flow-log").inputs.trafficType).toBe("ALL");
  });

  it("sends alarms to an encrypted topic with the configured subscriptions and a budget", () => {
    const topic = byName(plan, "aws:sns/topic:Topic", "-alerting-alarms");
    expect(topic.inputs.kmsMasterKeyId).toMatch(/key\/(mrk-)?dp-/);
    expect(ofType(plan, "aws:sns/topicSubscription:TopicSubscription").filter((s) => s.name.includes("-alarms-email-"))).toHaveLength(expected.emails);
    const budget = byName(plan, "aws:budgets/budget:Budget", "-alerting-budget");
    expect(budget.inputs.costFilters).toEqual([{ name: "TagKeyValue", values: [`user:Stage$${stack}`] }]);
  });

  it("exports what operators and the DR stack need", () => {
    expect(Object.keys(plan.outputs)).toEqual(expect.arrayContaining(["vpcId", "privateSubnetIds", "isolatedSubnetIds", "securityGroupIds", "dataKeyArn", "logsKeyArn", "alarmTopicArn", "primaryRegion"]));
    expect("drRegion" in plan.outputs).toBe(stack === "prod");
  });
});

describe("configuration drives the graph, not the stack name", () => {
  it("builds a 3-AZ, multi-Region-key dev stack when dev's config says so", async () => {
    const plan = await evaluate("dev", { azCount: 3, kmsMultiRegion: true, protectStatefulResources: true, accountId: "210987654321" });
    expect(single(plan, "awsx:ec2:Vpc").inputs.numberOfAvailabilityZones).toBe(3);
    const key = single(plan, "aws:kms/key:Key", "-keys-data");
    expect(key.inputs.multiRegion).toBe(true);
    expect(key.protect).toBe(true);
  });

  it("refuses a broken prod stack file before declaring any resource", async () => {
    const declared: PlannedResource[] = [];
    await expect(
      evaluate("prod", { azCount: 1, backupRetentionDays: 0 }).then((plan) => declared.push(...plan.resources)),
    ).rejects.toThrow(StageConfigError);
    expect(declared).toEqual([]);
  });
});

describe("pure helpers", () => {
  it("sizes subnets so six AZs of three tiers fit any /16 to /20 VPC", () => {
    expect(subnetMasks("10.0.0.0/16")).toEqual({ public: 22, private: 20, isolated: 22 });
    for (const vpcMask of [16, 18, 20]) {
      const masks = subnetMasks(`10.0.0.0/${vpcMask}`);
      const share = (mask: number) => 2 ** (vpcMask - mask);
      expect(6 * (share(masks.public) + share(masks.private) + share(masks.isolated))).toBeLessThanOrEqual(1);
    }
  });

  it("packs only the npm dependencies a handler needs", () => {
    const deps = ["@pulumi/aws", "@pulumi/pulumi", "ioredis", "pg"];
    expect(packagesToExclude([], deps)).toEqual(["ioredis", "pg"]);
    expect(packagesToExclude(["ioredis"], deps)).toEqual(["pg"]);
    expect(() => packagesToExclude(["left-pad"], deps)).toThrow(/left-pad, which package.json does not list/);
  });
});
