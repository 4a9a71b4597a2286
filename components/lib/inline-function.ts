/**
 * Builds an inline-callback Lambda the way every component here wants it: its own
 * least-privilege role (never CallbackFunction's default *FullAccess policies), a KMS
 * encrypted log group with retention, JSON logs, optional X-Ray and VPC placement, and
 * an archive holding only the npm packages the handler needs.
 */
import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import * as fs from "fs";
import * as path from "path";
import { Statement, createScopedRole } from "./iam";

/** The Lambda runtime for every function; it ships AWS SDK v3, so SDK clients are never packed. */
export const LAMBDA_RUNTIME = aws.lambda.Runtime.NodeJS22dX;

export interface FunctionVpcPlacement {
  subnetIds: pulumi.Input<pulumi.Input<string>[]>;
  securityGroupIds: pulumi.Input<pulumi.Input<string>[]>;
}

export interface InlineFunctionArgs<E, R> {
  description: string;
  /**
   * Runs once per cold start and returns the handler. Keep it thin: build SDK clients
   * and read names from the environment, then delegate to a module in functions/.
   */
  callbackFactory: aws.lambda.CallbackFactory<E, R>;
  /** Exactly the actions and resources the handler uses. Logging, tracing and VPC rights are added here. */
  statements: pulumi.Input<Statement>[];
  environment?: Record<string, pulumi.Input<string>>;
  /** @default 256 */
  memorySize?: number;
  /** @default 30 */
  timeoutSeconds?: number;
  logRetentionDays: number;
  logsKeyArn: pulumi.Input<string>;
  /** @default true */
  tracing?: boolean;
  vpc?: FunctionVpcPlacement;
  /** npm `dependencies` the handler requires at run time; all others are left out of the archive. @default [] */
  packages?: string[];
  /** @default undefined (unreserved) */
  reservedConcurrency?: number;
}

export interface InlineFunction {
  readonly function: aws.lambda.CallbackFunction<unknown, unknown>;
  readonly role: aws.iam.Role;
  readonly logGroup: aws.cloudwatch.LogGroup;
}

let cachedDependencies: string[] | undefined;

/** The project's npm runtime dependencies; CallbackFunction would pack all of them into every archive. */
export function projectDependencies(): string[] {
  if (cachedDependencies === undefined) {
    const manifest = JSON.parse(fs.readFileSync(path.join(__dirname, "..", "..", "package.json"), "utf8"));
    cachedDependencies = Object.keys(manifest.dependencies ?? {});
  }
  return cachedDependencies;
}

/** Packages to exclude so that the archive holds only `needed` (and what they pull in). */
export function packagesToExclude(needed: readonly string[], dependencies: readonly string[] = projectDependencies()): string[] {
  const unknown = needed.filter((name) => !dependencies.includes(name));
  if (unknown.length > 0) {
    throw new Error(`Handler needs ${unknown.join(", ")}, which package.json does not list in "dependencies"`);
  }
  return dependencies.filter((name) => !name.startsWith("@pulumi/") && !needed.includes(name));
}

function logStatements(logGroupArn: pulumi.Output<string>): pulumi.Output<Statement> {
  return logGroupArn.apply((arn) => ({
    Sid: "WriteOwnLogs",
    Effect: "Allow",
    Action: ["logs:CreateLogStream", "logs:PutLogEvents"],
    Resource: [`${arn}:*`],
  }));
}

// X-Ray and ENI management have no resource-level permissions, so these two are "*" by necessity.
const TRACING_STATEMENT: Statement = {
  Sid: "WriteTraces",
  Effect: "Allow",
  Action: ["xray:PutTraceSegments", "xray:PutTelemetryRecords"],
  Resource: "*",
};
const VPC_ENI_STATEMENT: Statement = {
  Sid: "ManageVpcNetworkInterfaces",
  Effect: "Allow",
  Action: [
    "ec2:CreateNetworkInterface",
    "ec2:DescribeNetworkInterfaces",
    "ec2:DescribeSubnets",
    "ec2:DeleteNetworkInterface",
    "ec2:AssignPrivateIpAddresses",
    "ec2:UnassignPrivateIpAddresses",
  ],
  Resource: "*",
};

export function createInlineFunction<E, R>(name: string, args: InlineFunctionArgs<E, R>, parent: pulumi.Resource): InlineFunction {
  const opts = { parent };
  const tracing = args.tracing ?? true;
  const logGroup = new aws.cloudwatch.LogGroup(`${name}-logs`, {
    name: `/aws/lambda/${name}`,
    retentionInDays: args.logRetentionDays,
    kmsKeyId: args.logsKeyArn,
  }, opts);

  const { role, policy } = createScopedRole(name, {
    // No aws:SourceAccount/aws:SourceArn: Lambda documents none for execution roles (see
    // TRUST_WITHOUT_SOURCE_KEYS in policies/confused-deputy.ts); iam:PassRole keeps the role in this account.
    service: "lambda.amazonaws.com",
    description: `Execution role of ${name}: ${args.description}`,
    statements: [
      logStatements(logGroup.arn),
      ...(tracing ? [TRACING_STATEMENT] : []),
      ...(args.vpc ? [VPC_ENI_STATEMENT] : []),
      ...args.statements,
    ],
  }, opts);

  const fn = new aws.lambda.CallbackFunction<E, R>(`${name}-fn`, {
    description: args.description,
    callbackFactory: args.callbackFactory,
    runtime: LAMBDA_RUNTIME,
    role,
    memorySize: args.memorySize ?? 256,
    timeout: args.timeoutSeconds ?? 30,
    reservedConcurrentExecutions: args.reservedConcurrency,
    environment: args.environment ? { variables: args.environment } : undefined,
    loggingConfig: { logFormat: "JSON", logGroup: logGroup.name },
    tracingConfig: { mode: tracing ? "Active" : "PassThrough" },
    vpcConfig: args.vpc,
    codePathOptions: { extraExcludePackages: packagesToExclude(args.packages ?? []) },
  }, { parent, dependsOn: [policy, logGroup] });

  return { function: fn as aws.lambda.CallbackFunction<unknown, unknown>, role, logGroup };
}
