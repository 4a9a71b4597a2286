import * as aws from "@pulumi/aws";
import * as awsx from "@pulumi/awsx";
import * as pulumi from "@pulumi/pulumi";
import { createScopedRole } from "../lib/iam";

export type NatGatewayStrategy = "Single" | "OnePerAz";

export interface NetworkArgs {
  /** @default "10.20.0.0/16" */
  cidrBlock?: string;
  /** Availability Zones to span; Aurora and Redshift subnet groups need at least 2. @default 2 */
  azCount?: number;
  /** @default "Single" */
  natGatewayStrategy?: NatGatewayStrategy;
  /** Region the VPC is in; endpoint service names are built from it. */
  region: string;
  /** Interface endpoints so in-VPC Lambdas reach AWS APIs without NAT. @default DEFAULT_INTERFACE_ENDPOINTS */
  interfaceEndpoints?: string[];
  /** Key for the flow-log group. */
  logsKeyArn: pulumi.Input<string>;
  /** @default 30 */
  flowLogRetentionDays?: number;
}

export const DEFAULT_INTERFACE_ENDPOINTS = ["kinesis-streams", "sqs", "secretsmanager", "kms"];
export const GATEWAY_ENDPOINTS = ["s3", "dynamodb"] as const;

/** The ports each tier listens on; only the app (Lambda) tier may reach them. */
export const TIER_PORTS = { database: 5432, cache: 6379, warehouse: 5439 } as const;
const HTTPS = 443;

export interface SubnetMasks {
  public: number;
  private: number;
  isolated: number;
}

/**
 * Subnet sizes relative to the VPC: private subnets (Lambda ENIs, cache) get a
 * sixteenth of the range each, public and database subnets a sixty-fourth, which
 * fits six AZs of all three tiers inside any /16 to /20 VPC.
 */
export function subnetMasks(cidrBlock: string): SubnetMasks {
  const vpcMask = Number(cidrBlock.split("/")[1]);
  return { public: vpcMask + 6, private: vpcMask + 4, isolated: vpcMask + 6 };
}

export interface TierSecurityGroups {
  /** The app tier: Lambda functions and anything else that calls the data stores. */
  lambda: aws.ec2.SecurityGroup;
  database: aws.ec2.SecurityGroup;
  cache: aws.ec2.SecurityGroup;
  warehouse: aws.ec2.SecurityGroup;
  endpoints: aws.ec2.SecurityGroup;
}

/**
 * The VPC: public, private and isolated (database) subnets across the AZs, gateway
 * endpoints for S3 and DynamoDB, interface endpoints for the APIs in-VPC code calls,
 * flow logs, and one security group per tier admitting only what that tier serves.
 */
export class Network extends pulumi.ComponentResource {
  readonly vpcId: pulumi.Output<string>;
  readonly publicSubnetIds: pulumi.Output<string[]>;
  readonly privateSubnetIds: pulumi.Output<string[]>;
  readonly isolatedSubnetIds: pulumi.Output<string[]>;
  readonly securityGroups: TierSecurityGroups;
  readonly securityGroupIds: pulumi.Output<Record<string, string>>;
  readonly gatewayEndpoints: Record<(typeof GATEWAY_ENDPOINTS)[number], aws.ec2.VpcEndpoint>;

  constructor(name: string, args: NetworkArgs, opts?: pulumi.ComponentResourceOptions) {
    super("dataplatform:network:Network", name, {}, opts);
    const cidrBlock = args.cidrBlock ?? "10.20.0.0/16";
    const masks = subnetMasks(cidrBlock);

    const vpc = new awsx.ec2.Vpc(`${name}-vpc`, {
      cidrBlock,
      numberOfAvailabilityZones: args.azCount ?? 2,
      enableDnsHostnames: true,
      enableDnsSupport: true,
      natGateways: { strategy: args.natGatewayStrategy ?? "Single" },
      subnetStrategy: "Auto",
      subnetSpecs: [
        { type: "Public", name: "public", cidrMask: masks.public },
        { type: "Private", name: "private", cidrMask: masks.private },
        { type: "Isolated", name: "database", cidrMask: masks.isolated },
      ],
    }, { parent: this });
    this.vpcId = vpc.vpcId;
    this.publicSubnetIds = vpc.publicSubnetIds;
    this.privateSubnetIds = vpc.privateSubnetIds;
    this.isolatedSubnetIds = vpc.isolatedSubnetIds;

    const routeTableIds = vpc.routeTables.apply((tables) => pulumi.all(tables.map((table) => table.id)));
    this.gatewayEndpoints = {
      s3: this.gatewayEndpoint(name, "s3", args.region, routeTableIds),
      dynamodb: this.gatewayEndpoint(name, "dynamodb", args.region, routeTableIds),
    };

    this.securityGroups = this.tierSecurityGroups(name, cidrBlock);
    for (const service of args.interfaceEndpoints ?? DEFAULT_INTERFACE_ENDPOINTS) {
      new aws.ec2.VpcEndpoint(`${name}-${service}-endpoint`, {
        vpcId: this.vpcId,
        serviceName: `com.amazonaws.${args.region}.${service}`,
        vpcEndpointType: "Interface",
        privateDnsEnabled: true,
        subnetIds: this.privateSubnetIds,
        securityGroupIds: [this.securityGroups.endpoints.id],
      }, { parent: this });
    }
    this.flowLogs(name, args);

    const groups = this.securityGroups;
    this.securityGroupIds = pulumi.all({
      lambda: groups.lambda.id,
      database: groups.database.id,
      cache: groups.cache.id,
      warehouse: groups.warehouse.id,
      endpoints: groups.endpoints.id,
    });
    this.registerOutputs({
      vpcId: this.vpcId,
      publicSubnetIds: this.publicSubnetIds,
      privateSubnetIds: this.privateSubnetIds,
      isolatedSubnetIds: this.isolatedSubnetIds,
      securityGroupIds: this.securityGroupIds,
    });
  }

  private gatewayEndpoint(name: string, service: string, region: string, routeTableIds: pulumi.Input<string[]>) {
    return new aws.ec2.VpcEndpoint(`${name}-${service}-endpoint`, {
      vpcId: this.vpcId,
      serviceName: `com.amazonaws.${region}.${service}`,
      vpcEndpointType: "Gateway",
      routeTableIds,
    }, { parent: this });
  }

  /** Groups start with no rules (the provider drops AWS's default allow-all egress); each rule below is one needed path. */
  private tierSecurityGroups(name: string, cidrBlock: string): TierSecurityGroups {
    const group = (tier: string, description: string) =>
      new aws.ec2.SecurityGroup(`${name}-${tier}-sg`, { vpcId: this.vpcId, description }, { parent: this });
    const groups: TierSecurityGroups = {
      lambda: group("lambda", "App tier: Lambda functions calling data stores and AWS APIs"),
      database: group("database", "Aurora PostgreSQL: admits the app tier only"),
      cache: group("cache", "ElastiCache Redis: admits the app tier only"),
      warehouse: group("warehouse", "Redshift: admits the app tier only"),
      endpoints: group("endpoints", "Interface VPC endpoints: HTTPS from inside the VPC"),
    };

    for (const [tier, port] of Object.entries(TIER_PORTS) as [keyof typeof TIER_PORTS, number][]) {
      new aws.vpc.SecurityGroupIngressRule(`${name}-${tier}-from-lambda`, {
        securityGroupId: groups[tier].id,
        referencedSecurityGroupId: groups.lambda.id,
        ipProtocol: "tcp", fromPort: port, toPort: port,
        description: `App tier to ${tier}`,
      }, { parent: this });
      new aws.vpc.SecurityGroupEgressRule(`${name}-lambda-to-${tier}`, {
        securityGroupId: groups.lambda.id,
        referencedSecurityGroupId: groups[tier].id,
        ipProtocol: "tcp", fromPort: port, toPort: port,
        description: `App tier to ${tier}`,
      }, { parent: this });
    }

    // Interface endpoints answer HTTPS from anything in the VPC, so tools and future tiers need no new rule.
    new aws.vpc.SecurityGroupIngressRule(`${name}-endpoints-from-vpc`, {
      securityGroupId: groups.endpoints.id,
      cidrIpv4: cidrBlock,
      ipProtocol: "tcp", fromPort: HTTPS, toPort: HTTPS,
      description: "HTTPS to AWS APIs from inside the VPC",
    }, { parent: this });
    new aws.vpc.SecurityGroupEgressRule(`${name}-lambda-to-endpoints`, {
      securityGroupId: groups.lambda.id,
      referencedSecurityGroupId: groups.endpoints.id,
      ipProtocol: "tcp", fromPort: HTTPS, toPort: HTTPS,
      description: "App tier to interface endpoints",
    }, { parent: this });

    // S3 and DynamoDB are reached through gateway endpoints, addressed by their prefix lists.
    const gatewayEgress: [keyof TierSecurityGroups, (typeof GATEWAY_ENDPOINTS)[number]][] = [
      ["lambda", "s3"],
      ["lambda", "dynamodb"],
      ["warehouse", "s3"], // enhanced VPC routing sends COPY/UNLOAD through the S3 endpoint
    ];
    for (const [tier, service] of gatewayEgress) {
      new aws.vpc.SecurityGroupEgressRule(`${name}-${tier}-to-${service}`, {
        securityGroupId: groups[tier].id,
        prefixListId: this.gatewayEndpoints[service].prefixListId,
        ipProtocol: "tcp", fromPort: HTTPS, toPort: HTTPS,
        description: `${tier} to ${service} through the gateway endpoint`,
      }, { parent: this });
    }
    return groups;
  }

  private flowLogs(name: string, args: NetworkArgs) {
    const logGroup = new aws.cloudwatch.LogGroup(`${name}-flow-logs`, {
      retentionInDays: args.flowLogRetentionDays ?? 30,
      kmsKeyId: args.logsKeyArn,
    }, { parent: this });
    const identity = aws.getCallerIdentityOutput({}, { parent: this });
    const { role, policy } = createScopedRole(`${name}-flow-logs`, {
      service: "vpc-flow-logs.amazonaws.com",
      // Confused-deputy keys, as the VPC user guide's flow-log role shows them: only flow logs
      // of this account and region may use the role. The flow log's own id is not known until
      // it exists, and it needs the role first, hence vpc-flow-log/*.
      // https://docs.aws.amazon.com/vpc/latest/userguide/flow-logs-iam-role.html
      trustConditions: identity.accountId.apply((account) => ({
        StringEquals: { "aws:SourceAccount": account },
        ArnLike: { "aws:SourceArn": `arn:aws:ec2:${args.region}:${account}:vpc-flow-log/*` },
      })),
      description: `Delivers ${name} VPC flow logs to its log group`,
      statements: [
        logGroup.arn.apply((arn) => ({
          Effect: "Allow",
          Action: ["logs:CreateLogStream", "logs:PutLogEvents", "logs:DescribeLogStreams"],
          Resource: [arn, `${arn}:*`],
        })),
      ],
    }, { parent: this });
    new aws.ec2.FlowLog(`${name}-flow-log`, {
      vpcId: this.vpcId,
      trafficType: "ALL",
      logDestinationType: "cloud-watch-logs",
      logDestination: logGroup.arn,
      iamRoleArn: role.arn,
      maxAggregationInterval: 60,
    }, { parent: this, dependsOn: [policy] });
  }
}
