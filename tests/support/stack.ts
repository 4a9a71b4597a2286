import { CONFIG_NAMESPACE, partnerStackName, validateStageConfig } from "../../config";
import { DEFAULT_ORGANIZATION, EvaluateOptions, PlannedResource, StackEvaluation, readProjectName, readStackConfig, secretsOf } from "../../scripts/engine";
import { isSecretEnvelope } from "../../scripts/secrets";
import { cachedEvaluateStack } from "./evaluation-cache";

export type ConfigOverrides = Record<string, string | number | boolean | string[] | undefined>;

/** A stack file's config with some project keys changed (undefined removes a key). */
export function stackConfigWith(stack: string, overrides: ConfigOverrides = {}): Record<string, string> {
  const config = readStackConfig(stack);
  for (const [key, value] of Object.entries(overrides)) {
    const qualified = key.includes(":") ? key : `${CONFIG_NAMESPACE}:${key}`;
    if (value === undefined) delete config[qualified];
    else config[qualified] = typeof value === "string" ? value : JSON.stringify(value);
  }
  return config;
}

/**
 * What prod's file needs to be read as its DR side: the DR stack's ALB certificate (one of
 * the DR region's) and no OLTP -> warehouse sync (a DR stack refuses one), as
 * Pulumi.prod-dr.yaml has them.
 */
export function prodAsDrSide(): ConfigOverrides {
  return {
    clientApiCertificateArn: stageValue("prod-dr", "clientApiCertificateArn", ""),
    warehouseSync: stageValue("prod-dr", "warehouseSync", "none"),
  };
}

/** Evaluates the real program for a stack (optionally with config overrides) under mocks. */
export function evaluate(stack: string, overrides: ConfigOverrides = {}, options: Omit<EvaluateOptions, "config"> = {}): Promise<StackEvaluation> {
  return cachedEvaluateStack(stack, { ...options, config: stackConfigWith(stack, overrides) });
}

/**
 * Evaluates a stack whose StackReference reads `partnerOutputs` as its partner's outputs
 * (omit them for a partner that exists but was never deployed).
 */
export function evaluateWithPartner(stack: string, partnerOutputs: Record<string, unknown> | undefined, overrides: ConfigOverrides = {}): Promise<StackEvaluation> {
  const config = stackConfigWith(stack, overrides);
  const partner = partnerStackName(validateStageConfig(config, `Pulumi.${stack}.yaml`), DEFAULT_ORGANIZATION, readProjectName());
  return cachedEvaluateStack(stack, { config, stackReferences: partnerOutputs ? { [partner]: partnerOutputs } : {} });
}

/** The single resource of a type whose logical name ends with `suffix`; fails loudly otherwise. */
export function single(evaluation: StackEvaluation, type: string, suffix = ""): PlannedResource {
  const matches = evaluation.resources.filter((r) => r.type === type && r.name.endsWith(suffix));
  if (matches.length !== 1) {
    throw new Error(`Expected one ${type} named *${suffix}, found ${matches.length}: ${matches.map((m) => m.name).join(", ")}`);
  }
  return matches[0];
}

/** Parses a JSON policy input (IAM, key or bucket policy). */
export function policyOf(resource: PlannedResource, field = "policy"): { Statement: any[] } {
  const raw = resource.inputs[field];
  return typeof raw === "string" ? JSON.parse(raw) : raw;
}

/** A planned resource's ARN, as the mock engine returns it. */
export const arnOf = (resource: PlannedResource): string => resource.state.arn as string;

/** The statements of a JSON policy input. */
export const statementsOf = (resource: PlannedResource, field = "policy"): any[] => policyOf(resource, field).Statement;

/** A stack file's raw value for a project config key, or `fallback` (the schema default) when the file does not set it. */
export function stageValue(stack: string, key: string, fallback: string | number): string {
  return readStackConfig(stack)[`${CONFIG_NAMESPACE}:${key}`] ?? String(fallback);
}

/** The resources parented directly under the one component of this type whose name ends with `name`. */
export function childrenOf(evaluation: StackEvaluation, componentType: string, name: string): PlannedResource[] {
  const component = single(evaluation, componentType, name);
  return evaluation.resources.filter((r) => r.parent === component.urn);
}

/**
 * The statement a TLS-only resource policy must hold, written out here so tests check
 * the components against it: S3 covers the bucket and its objects, SQS and SNS the one
 * queue or topic.
 */
export function denyInsecureTransportStatement(action: "s3:*" | "sqs:*" | "sns:Publish", resource: string | string[]) {
  return {
    Sid: "DenyInsecureTransport",
    Effect: "Deny",
    Principal: "*",
    Action: action,
    Resource: resource,
    Condition: { Bool: { "aws:SecureTransport": "false" } },
  };
}

/**
 * The plain value of an input the SDK passed as a secret (e.g. an SSM parameter's value,
 * which the evaluation holds as "[secret]"), read from the secrets kept beside the
 * evaluation; other inputs as the evaluation holds them.
 */
export function revealed(evaluation: StackEvaluation, resource: PlannedResource, field: string): unknown {
  const received = secretsOf(evaluation).inputs[resource.urn];
  if (received === undefined || !(field in received)) return resource.inputs[field];
  const value = received[field];
  return isSecretEnvelope(value) ? value.value : value;
}
