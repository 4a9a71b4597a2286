/**
 * Builders the two ECS services share (components/services/*): Fargate sizes, the
 * container definition, the task and execution roles, the task definition with its
 * log group, the service's security group and the scalable target. Pure functions
 * where nothing is declared, so tests and the config validation use them directly.
 */
import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import { Statement, allow, createScopedRole } from "./iam";
import { LIVENESS_PATH } from "../../services/shared/env";

export type CpuArchitecture = "ARM64" | "X86_64";

/** The container's unprivileged user: `node` (uid 1000) in the node:22 base image the Dockerfiles use. */
export const CONTAINER_USER = "1000:1000";
/** Where the read-only root filesystem may still be written: a task-scoped volume. */
export const SCRATCH_PATH = "/tmp";
/** The liveness path both services answer (the services' HTTP contract). */
export { LIVENESS_PATH };
/** Fargate allows at most 120 s between SIGTERM and SIGKILL. */
export const MAX_STOP_TIMEOUT_SECONDS = 120;

/**
 * Fargate's task sizes: CPU units → the memory (MiB) it allows, from min to max in steps.
 * https://docs.aws.amazon.com/AmazonECS/latest/developerguide/fargate-tasks-services.html#fargate-tasks-size
 */
export const FARGATE_TASK_SIZES: Readonly<Record<number, { min: number; max: number; step: number; extra?: number[] }>> = {
  256: { min: 1024, max: 2048, step: 1024, extra: [512] },
  512: { min: 1024, max: 4096, step: 1024 },
  1024: { min: 2048, max: 8192, step: 1024 },
  2048: { min: 4096, max: 16384, step: 1024 },
  4096: { min: 8192, max: 30720, step: 1024 },
  8192: { min: 16384, max: 61440, step: 4096 },
  16384: { min: 32768, max: 122880, step: 8192 },
};

/** Why Fargate would refuse this CPU/memory pair, or undefined when it runs. */
export function fargateSizeProblem(cpu: number, memoryMb: number): string | undefined {
  const size = FARGATE_TASK_SIZES[cpu];
  if (size === undefined) return `${cpu} CPU units is not a Fargate size (one of ${Object.keys(FARGATE_TASK_SIZES).join(", ")})`;
  const fits = (size.extra ?? []).includes(memoryMb) || (memoryMb >= size.min && memoryMb <= size.max && (memoryMb - size.min) % size.step === 0);
  if (fits) return undefined;
  const extra = size.extra ? `${size.extra.join(", ")} or ` : "";
  return `${memoryMb} MiB does not fit ${cpu} CPU units on Fargate (${extra}${size.min}-${size.max} MiB in steps of ${size.step})`;
}

export interface ContainerSpec {
  name: string;
  /** `repositoryUrl@sha256:…`: a digest, so a task always runs the image that was built. */
  image: pulumi.Input<string>;
  /** The port the container listens on (HTTP liveness, and traffic for the client API). */
  port: number;
  /** Plain settings only: never a secret (the pack's ecs-task-definition-hardened checks). */
  environment: Record<string, pulumi.Input<string>>;
  /** Environment variable → Secrets Manager ARN: ECS puts the value into the container at start. @default {} */
  secrets?: Record<string, pulumi.Input<string>>;
  logGroupName: pulumi.Input<string>;
  region: string;
  /** Seconds between SIGTERM and SIGKILL: the service's graceful shutdown. */
  stopTimeoutSeconds: number;
}

/** The one container of a service's task: non-root, read-only root with /tmp on a volume, awslogs, a liveness check. */
export function containerDefinition(spec: ContainerSpec) {
  const liveness = `fetch('http://127.0.0.1:${spec.port}${LIVENESS_PATH}').then((r) => process.exit(r.ok ? 0 : 1), () => process.exit(1))`;
  return {
    name: spec.name,
    image: spec.image,
    essential: true,
    user: CONTAINER_USER,
    readonlyRootFilesystem: true,
    mountPoints: [{ sourceVolume: "tmp", containerPath: SCRATCH_PATH, readOnly: false }],
    portMappings: [{ containerPort: spec.port, protocol: "tcp" }],
    environment: Object.entries(spec.environment).map(([name, value]) => ({ name, value })),
    secrets: Object.entries(spec.secrets ?? {}).map(([name, valueFrom]) => ({ name, valueFrom })),
    logConfiguration: {
      logDriver: "awslogs",
      options: { "awslogs-group": spec.logGroupName, "awslogs-region": spec.region, "awslogs-stream-prefix": spec.name },
    },
    healthCheck: { command: ["CMD", "node", "-e", liveness], interval: 30, timeout: 5, retries: 3, startPeriod: 30 },
    stopTimeout: Math.min(spec.stopTimeoutSeconds, MAX_STOP_TIMEOUT_SECONDS),
    linuxParameters: { initProcessEnabled: true },
  };
}

/** Decrypt under the data key only when Secrets Manager asks on the role's behalf. */
export function decryptSecretsStatement(dataKeyArn: pulumi.Input<string>, region: string): pulumi.Output<Statement> {
  return pulumi.output(dataKeyArn).apply((arn) => ({
    Sid: "DecryptSecretsThroughSecretsManager",
    Effect: "Allow",
    Action: "kms:Decrypt",
    Resource: arn,
    Condition: { StringEquals: { "kms:ViaService": `secretsmanager.${region}.amazonaws.com` } },
  }));
}

/** ecs-tasks may assume the role only for tasks of this account and region (the ECS developer guide's task-role trust). */
function taskTrust(region: string, accountId: pulumi.Input<string>) {
  return pulumi.output(accountId).apply((account) => ({
    StringEquals: { "aws:SourceAccount": account },
    ArnLike: { "aws:SourceArn": `arn:aws:ecs:${region}:${account}:*` },
  }));
}

export interface FargateTaskArgs {
  /** Container name and the task family's suffix. */
  container: Omit<ContainerSpec, "logGroupName" | "region">;
  cpu: number;
  memoryMb: number;
  cpuArchitecture: CpuArchitecture;
  region: string;
  accountId: pulumi.Input<string>;
  /** ECR repository the execution role may pull from (only that one). */
  repositoryArn: pulumi.Input<string>;
  /** Everything the application calls AWS for. */
  taskStatements: pulumi.Input<Statement | Statement[]>[];
  /** The secrets `container.secrets` names, with the key they are encrypted under. @default none */
  executionSecrets?: { arns: pulumi.Input<string>[]; dataKeyArn: pulumi.Input<string> };
  logsKeyArn: pulumi.Input<string>;
  logRetentionDays: number;
}

export interface FargateTask {
  readonly taskDefinition: aws.ecs.TaskDefinition;
  readonly taskRole: aws.iam.Role;
  readonly executionRole: aws.iam.Role;
  readonly logGroup: aws.cloudwatch.LogGroup;
  /** Wait on these before starting tasks: the roles' policies must exist when ECS pulls and starts. */
  readonly policies: aws.iam.RolePolicy[];
}

/**
 * The task definition of one service with its log group (KMS, retention), its task role
 * (`taskStatements` only) and its execution role (pull from its own repository, write its
 * own log group, read the secrets it injects).
 */
export function createFargateTask(name: string, args: FargateTaskArgs, opts: pulumi.CustomResourceOptions): FargateTask {
  const logGroup = new aws.cloudwatch.LogGroup(`${name}-logs`, {
    retentionInDays: args.logRetentionDays,
    kmsKeyId: args.logsKeyArn,
  }, opts);
  const trustConditions = taskTrust(args.region, args.accountId);
  const task = createScopedRole(`${name}-task`, {
    service: "ecs-tasks.amazonaws.com",
    trustConditions,
    description: `${name}: what the application itself calls AWS for`,
    statements: args.taskStatements,
  }, opts);
  const secrets = args.executionSecrets;
  const execution = createScopedRole(`${name}-execution`, {
    service: "ecs-tasks.amazonaws.com",
    trustConditions,
    description: `${name}: ECS pulls the image, writes the logs and injects the secrets`,
    statements: [
      // GetAuthorizationToken has no resource-level permissions; the pull itself is on the one repository.
      allow("EcrLogin", "ecr:GetAuthorizationToken", "*"),
      allow("PullOwnImage", ["ecr:BatchGetImage", "ecr:GetDownloadUrlForLayer", "ecr:BatchCheckLayerAvailability"], args.repositoryArn),
      logGroup.arn.apply((arn) => ({ Sid: "WriteOwnLogs", Effect: "Allow", Action: ["logs:CreateLogStream", "logs:PutLogEvents"], Resource: `${arn}:*` })),
      ...(secrets
        ? [allow("ReadInjectedSecrets", "secretsmanager:GetSecretValue", pulumi.all(secrets.arns)), decryptSecretsStatement(secrets.dataKeyArn, args.region)]
        : []),
    ],
  }, opts);

  const container = containerDefinition({ ...args.container, logGroupName: logGroup.name, region: args.region });
  const taskDefinition = new aws.ecs.TaskDefinition(`${name}-task`, {
    family: name,
    requiresCompatibilities: ["FARGATE"],
    networkMode: "awsvpc",
    cpu: String(args.cpu),
    memory: String(args.memoryMb),
    runtimePlatform: { operatingSystemFamily: "LINUX", cpuArchitecture: args.cpuArchitecture },
    taskRoleArn: task.role.arn,
    executionRoleArn: execution.role.arn,
    volumes: [{ name: "tmp" }],
    containerDefinitions: pulumi.jsonStringify([container]),
  }, opts);
  return { taskDefinition, taskRole: task.role, executionRole: execution.role, logGroup, policies: [task.policy, execution.policy] };
}

/** Paths out of a service's security group: each one rule, to a group or a prefix list. */
export interface EgressPath {
  description: string;
  port: number;
  /** The group at the other end; it gets the matching ingress rule. */
  toSecurityGroupId?: pulumi.Input<string>;
  /** A gateway endpoint's prefix list (S3 for ECR layers and the lake). */
  toPrefixListId?: pulumi.Input<string>;
  /** Add the matching ingress rule on toSecurityGroupId. @default true */
  admitAtTarget?: boolean;
}

/** A security group admitting nothing unless told, with exactly the egress paths given (and the ingress on their targets). */
export function createServiceSecurityGroup(name: string, vpcId: pulumi.Input<string>, description: string, egress: EgressPath[], opts: pulumi.CustomResourceOptions): aws.ec2.SecurityGroup {
  const group = new aws.ec2.SecurityGroup(`${name}-sg`, { vpcId, description }, opts);
  for (const path of egress) {
    const slug = path.description.toLowerCase().replace(/[^a-z0-9]+/g, "-").replace(/^-|-$/g, "");
    new aws.vpc.SecurityGroupEgressRule(`${name}-to-${slug}`, {
      securityGroupId: group.id,
      ...(path.toSecurityGroupId !== undefined ? { referencedSecurityGroupId: path.toSecurityGroupId } : { prefixListId: path.toPrefixListId }),
      ipProtocol: "tcp", fromPort: path.port, toPort: path.port,
      description: path.description,
    }, opts);
    if (path.toSecurityGroupId !== undefined && (path.admitAtTarget ?? true)) {
      new aws.vpc.SecurityGroupIngressRule(`${name}-into-${slug}`, {
        securityGroupId: path.toSecurityGroupId,
        referencedSecurityGroupId: group.id,
        ipProtocol: "tcp", fromPort: path.port, toPort: path.port,
        description: `${name}: ${path.description}`,
      }, opts);
    }
  }
  return group;
}

/** What every Fargate service component of the platform is given: where it runs, its image, keys, logs and task size. */
export interface FargateServicePlacement {
  cluster: { arn: pulumi.Input<string>; name: pulumi.Input<string> };
  /** The pushed image (`repositoryUrl@digest`) and its repository, the only one the execution role may pull from. */
  image: { ref: pulumi.Input<string>; repositoryArn: pulumi.Input<string> };
  vpcId: pulumi.Input<string>;
  /** Private subnets (NAT and the interface endpoints). */
  subnetIds: pulumi.Input<pulumi.Input<string>[]>;
  /** The interface endpoints' group (SQS, Secrets Manager, KMS, ECR, Logs) and the S3 gateway endpoint's prefix list. */
  endpoints: { securityGroupId: pulumi.Input<string>; s3PrefixListId: pulumi.Input<string> };
  dataKeyArn: pulumi.Input<string>;
  logsKeyArn: pulumi.Input<string>;
  logRetentionDays: number;
  region: string;
  accountId: pulumi.Input<string>;
  /** @default 512 */
  cpu?: number;
  /** @default 1024 */
  memoryMb?: number;
  /** @default "ARM64" */
  cpuArchitecture?: CpuArchitecture;
  /** @default "info" */
  logLevel?: string;
}

/** How a service reaches a data store: its endpoint, and the group whose ingress admits it. */
export interface StoreEndpoint {
  host: pulumi.Input<string>;
  port: pulumi.Input<number>;
  securityGroupId: pulumi.Input<string>;
}

/** A database a service connects to. */
export interface ServiceDatabase extends StoreEndpoint {
  name: pulumi.Input<string>;
}

export const HTTPS_PORT = 443;

/** The egress every service needs: AWS APIs through the interface endpoints, S3 (image layers, the lake) through the gateway endpoint. */
export function awsApiEgress(endpoints: FargateServicePlacement["endpoints"]): EgressPath[] {
  return [
    { description: "AWS APIs through interface endpoints", port: HTTPS_PORT, toSecurityGroupId: endpoints.securityGroupId, admitAtTarget: false },
    { description: "S3 through the gateway endpoint", port: HTTPS_PORT, toPrefixListId: endpoints.s3PrefixListId },
  ];
}

/** The task arguments a service's placement decides, with the placement's documented defaults. */
export function placedTaskArgs(args: FargateServicePlacement): Pick<FargateTaskArgs, "cpu" | "memoryMb" | "cpuArchitecture" | "region" | "accountId" | "repositoryArn" | "logsKeyArn" | "logRetentionDays"> {
  return {
    cpu: args.cpu ?? 512,
    memoryMb: args.memoryMb ?? 1024,
    cpuArchitecture: args.cpuArchitecture ?? "ARM64",
    region: args.region,
    accountId: args.accountId,
    repositoryArn: args.image.repositoryArn,
    logsKeyArn: args.logsKeyArn,
    logRetentionDays: args.logRetentionDays,
  };
}

export interface ScalingBounds {
  minTasks: number;
  maxTasks: number;
}

/** Why these bounds cannot scale, or undefined. */
export function scalingBoundsProblem(bounds: ScalingBounds): string | undefined {
  if (!Number.isInteger(bounds.minTasks) || bounds.minTasks < 0) return `minTasks must be a whole number of at least 0, got ${bounds.minTasks}`;
  if (!Number.isInteger(bounds.maxTasks) || bounds.maxTasks < bounds.minTasks) return `maxTasks (${bounds.maxTasks}) must be a whole number of at least minTasks (${bounds.minTasks})`;
  return undefined;
}

/** Application Auto Scaling's id of an ECS service's desired count. */
export function ecsScalingResourceId(clusterName: pulumi.Input<string>, serviceName: pulumi.Input<string>): pulumi.Output<string> {
  return pulumi.interpolate`service/${clusterName}/${serviceName}`;
}

export function createScalableTarget(name: string, resourceId: pulumi.Input<string>, bounds: ScalingBounds, opts: pulumi.CustomResourceOptions): aws.appautoscaling.Target {
  return new aws.appautoscaling.Target(`${name}-scaling`, {
    serviceNamespace: "ecs",
    scalableDimension: "ecs:service:DesiredCount",
    resourceId,
    minCapacity: bounds.minTasks,
    maxCapacity: bounds.maxTasks,
  }, opts);
}

export interface FargateServiceArgs {
  clusterArn: pulumi.Input<string>;
  task: FargateTask;
  subnetIds: pulumi.Input<pulumi.Input<string>[]>;
  securityGroupId: pulumi.Input<string>;
  /** The count at creation; auto-scaling owns it afterwards. */
  desiredCount: number;
  loadBalancers?: aws.types.input.ecs.ServiceLoadBalancer[];
  healthCheckGracePeriodSeconds?: number;
  dependsOn?: pulumi.Resource[];
}

/** A Fargate service in private subnets without public IPs, rolled back by the circuit breaker when a deployment fails. */
export function createFargateService(name: string, args: FargateServiceArgs, opts: pulumi.CustomResourceOptions): aws.ecs.Service {
  return new aws.ecs.Service(`${name}-service`, {
    name,
    cluster: args.clusterArn,
    taskDefinition: args.task.taskDefinition.arn,
    launchType: "FARGATE",
    platformVersion: "LATEST",
    desiredCount: args.desiredCount,
    networkConfiguration: { subnets: args.subnetIds, securityGroups: [args.securityGroupId], assignPublicIp: false },
    deploymentCircuitBreaker: { enable: true, rollback: true },
    deploymentMinimumHealthyPercent: 100,
    deploymentMaximumPercent: 200,
    availabilityZoneRebalancing: "ENABLED",
    enableEcsManagedTags: true,
    propagateTags: "SERVICE",
    loadBalancers: args.loadBalancers,
    healthCheckGracePeriodSeconds: args.healthCheckGracePeriodSeconds,
    waitForSteadyState: false,
  }, {
    ...opts,
    dependsOn: [...args.task.policies, ...(args.dependsOn ?? [])],
    // Application Auto Scaling moves the desired count; a later `pulumi up` must not reset it.
    ignoreChanges: ["desiredCount"],
  });
}
