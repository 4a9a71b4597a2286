/**
 * Containers: the ECS services' task definitions and services, and the ECR repositories
 * their images live in. A task definition's containers arrive as one JSON document
 * (`containerDefinitions`); during a preview it embeds the image digest of a build that
 * has not run yet, so the document is unknown then and each policy says it will check
 * again on the update, when the engine analyses the stack with the real values.
 */
import * as aws from "@pulumi/aws";
import { validateResourceOfType } from "@pulumi/policy";
import { SECRET_NAME } from "./disaster-recovery";
import { PlatformResourcePolicy } from "./lib/policy";
import { UNKNOWN, asArray, isTrue, jsonValue, peek } from "./lib/values";

interface ContainerDefinition {
  name?: string;
  user?: string;
  readonlyRootFilesystem?: boolean;
  logConfiguration?: { logDriver?: string; options?: Record<string, string> };
  environment?: { name?: string; value?: string }[];
  secrets?: { name?: string; valueFrom?: string }[];
}

type Report = (message: string) => void;

/** The containers of a task definition, or undefined (after an advisory note) while the document is unknown. */
function containersOf(definitions: () => unknown, report: Report, notApplicable: (reason: string) => void): ContainerDefinition[] {
  const document = peek(definitions);
  if (document === UNKNOWN) notApplicable("containerDefinitions (with the image digest of a build not run yet) is unknown during preview; checked again on update");
  const parsed = jsonValue<ContainerDefinition[]>(document);
  if (!Array.isArray(parsed)) {
    report("containerDefinitions is not a JSON list of containers.");
    return [];
  }
  return parsed;
}

const label = (container: ContainerDefinition) => `Container ${container.name ?? "(unnamed)"}`;

/** Root by name or uid, with or without a group. */
export function runsAsRoot(user: string | undefined): boolean {
  if (user === undefined || user.trim() === "") return true;
  const [who] = user.split(":");
  return who === "root" || who === "0";
}

/** Values that are credentials whatever their variable is called. */
const SECRET_VALUE = /^(AKIA|ASIA)[A-Z0-9]{16}$|-----BEGIN [A-Z ]*PRIVATE KEY-----|^xox[abp]-|^gh[pousr]_[A-Za-z0-9]{30,}/;

/** A plain environment variable that looks like a secret: by its name (unless it names where the secret is: …_ARN, …_NAME, …_ID) or by its value. */
export function looksLikePlainSecret(name: string, value: string | undefined): boolean {
  const pointer = /_(ARN|NAME|ID|PATH|FILE|URL)$/i.test(name) || (value ?? "").startsWith("arn:");
  return (SECRET_NAME.test(name) && !pointer) || SECRET_VALUE.test(value ?? "");
}

/** A task-definition check run on each of its containers (or skipped while the document is unknown). */
function eachContainer(check: (container: ContainerDefinition, report: Report) => void) {
  return validateResourceOfType(aws.ecs.TaskDefinition, (task, args, report) => {
    for (const container of containersOf(() => task.containerDefinitions, report, args.notApplicable)) check(container, report);
  });
}

export const ecsTaskNonRoot: PlatformResourcePolicy = {
  name: "ecs-task-non-root-user",
  description: "Every container of an ECS task definition names a non-root `user` (a container without one runs as its image's user, root unless the image says otherwise).",
  enforcementLevel: "mandatory",
  remediationSteps: 'Set user: "1000:1000" (the node image\'s `node` user; components/lib/fargate.ts CONTAINER_USER) in the container definition, and USER node in the Dockerfile.',
  validateResource: eachContainer((container, report) => {
    if (runsAsRoot(container.user)) report(`${label(container)} runs as ${container.user ? `"${container.user}"` : "its image's user (no user set)"}, not a non-root user.`);
  }),
};

export const ecsTaskReadOnlyRoot: PlatformResourcePolicy = {
  name: "ecs-task-read-only-root-filesystem",
  description: "Every container of an ECS task definition has a read-only root filesystem (scratch space comes from a task volume such as /tmp), so a compromised process cannot rewrite the image's files.",
  enforcementLevel: "mandatory",
  remediationSteps: 'Set readonlyRootFilesystem: true and mount a task volume where the process writes (volumes: [{ name: "tmp" }], mountPoints: [{ sourceVolume: "tmp", containerPath: "/tmp" }]). A container that cannot run so gets a waiver naming why.',
  validateResource: eachContainer((container, report) => {
    if (!isTrue(container.readonlyRootFilesystem)) report(`${label(container)} has a writable root filesystem (readonlyRootFilesystem is not true).`);
  }),
};

export const ecsTaskLogging: PlatformResourcePolicy = {
  name: "ecs-task-logging-configured",
  description: "Every container of an ECS task definition sends its output somewhere: a logConfiguration with a driver (awslogs needs its log group).",
  enforcementLevel: "mandatory",
  remediationSteps: 'Add logConfiguration: { logDriver: "awslogs", options: { "awslogs-group": <KMS-encrypted group with retention>, "awslogs-region": <region>, "awslogs-stream-prefix": <container> } } (createFargateTask in components/lib/fargate.ts does).',
  validateResource: eachContainer((container, report) => {
    const driver = container.logConfiguration?.logDriver;
    if (!driver) report(`${label(container)} has no logConfiguration: its output is lost.`);
    else if (driver === "awslogs" && !container.logConfiguration?.options?.["awslogs-group"]) report(`${label(container)} uses awslogs without an awslogs-group.`);
  }),
};

export const ecsTaskNoPlainSecrets: PlatformResourcePolicy = {
  name: "ecs-task-no-plain-secrets",
  description: "No container of an ECS task definition carries a secret in `environment` (plain text in the task definition, readable by anyone who may describe it); secrets come through `secrets` from Secrets Manager or SSM.",
  enforcementLevel: "mandatory",
  remediationSteps: "Move the value into Secrets Manager and list it under the container's secrets ({ name, valueFrom: <secret ARN> }), with secretsmanager:GetSecretValue on that ARN for the execution role; a variable that only names a secret should end in _ARN.",
  validateResource: eachContainer((container, report) => {
    for (const variable of asArray(container.environment)) {
      if (variable.name && looksLikePlainSecret(variable.name, variable.value)) report(`${label(container)}: environment variable ${variable.name} looks like a secret in plain text.`);
    }
  }),
};

export const ecsServiceNoPublicIp: PlatformResourcePolicy = {
  name: "ecs-service-no-public-ip",
  description: "ECS services run their tasks without public IP addresses (awsvpc networking with assignPublicIp false), in private subnets behind their security groups.",
  enforcementLevel: "mandatory",
  remediationSteps: "Set networkConfiguration: { subnets: <private subnets>, securityGroups: [...], assignPublicIp: false } on the aws.ecs.Service; tasks reach AWS APIs through the VPC endpoints (or NAT).",
  validateResource: validateResourceOfType(aws.ecs.Service, (service, _args, report) => {
    const network = service.networkConfiguration;
    if (network === undefined) report("The service has no networkConfiguration (awsvpc with assignPublicIp false).");
    else if (isTrue(network.assignPublicIp)) report("assignPublicIp is true: every task gets a public IP address.");
  }),
};

export const ecrRepositoryScanOnPush: PlatformResourcePolicy = {
  name: "ecr-repository-scan-on-push",
  description: "ECR repositories scan every pushed image for known vulnerabilities (imageScanningConfiguration.scanOnPush).",
  enforcementLevel: "mandatory",
  remediationSteps: "Set imageScanningConfiguration: { scanOnPush: true } on the aws.ecr.Repository (or enable enhanced scanning for the registry).",
  validateResource: validateResourceOfType(aws.ecr.Repository, (repository, _args, report) => {
    if (!isTrue(repository.imageScanningConfiguration?.scanOnPush)) report("scanOnPush is not true: pushed images are not scanned.");
  }),
};

export const ecrRepositoryImmutableTags: PlatformResourcePolicy = {
  name: "ecr-repository-immutable-tags",
  description: "ECR repositories refuse to move a tag to another image (imageTagMutability IMMUTABLE), so a tag always names the image that was reviewed and scanned.",
  enforcementLevel: "mandatory",
  remediationSteps: 'Set imageTagMutability: "IMMUTABLE" on the aws.ecr.Repository and tag each build with something unique, such as a content hash (components/services/service-image.ts).',
  validateResource: validateResourceOfType(aws.ecr.Repository, (repository, _args, report) => {
    const mutability = repository.imageTagMutability ?? "MUTABLE";
    if (!mutability.startsWith("IMMUTABLE")) report(`imageTagMutability is ${mutability}: a push can move an existing tag to another image.`);
  }),
};

export const containerPolicies: PlatformResourcePolicy[] = [
  ecsServiceNoPublicIp,
  ecsTaskNonRoot,
  ecsTaskReadOnlyRoot,
  ecsTaskLogging,
  ecsTaskNoPlainSecrets,
  ecrRepositoryScanOnPush,
  ecrRepositoryImmutableTags,
];
