import * as pulumi from "@pulumi/pulumi";
import { FunctionVpcPlacement } from "./inline-function";

/** Settings every data-path Lambda shares (DataLake and IngestionLayer). */
export interface DataPathFunctionSettings {
  logRetentionDays: number;
  logsKeyArn: pulumi.Input<string>;
  /** @default 512 */
  memorySize?: number;
  /** @default 60 */
  timeoutSeconds?: number;
  /** X-Ray active tracing. @default true */
  tracing?: boolean;
  /** Private subnets and the app-tier security group; S3 and DynamoDB are reached through gateway endpoints. @default undefined (outside the VPC) */
  vpc?: FunctionVpcPlacement;
}

export const DATA_PATH_FUNCTION_DEFAULTS = {
  memorySize: 512,
  timeoutSeconds: 60,
} as const;

/** The createInlineFunction fields that come from the shared settings, defaults applied. */
export function inlineFunctionSettings(settings: DataPathFunctionSettings) {
  return {
    memorySize: settings.memorySize ?? DATA_PATH_FUNCTION_DEFAULTS.memorySize,
    timeoutSeconds: settings.timeoutSeconds ?? DATA_PATH_FUNCTION_DEFAULTS.timeoutSeconds,
    tracing: settings.tracing ?? true,
    vpc: settings.vpc,
    logRetentionDays: settings.logRetentionDays,
    logsKeyArn: settings.logsKeyArn,
  };
}

/** Lambda's apply-time limits on the shared settings; an empty list means valid. */
export function validateFunctionSettings(settings: DataPathFunctionSettings): string[] {
  const problems: string[] = [];
  const memory = settings.memorySize ?? DATA_PATH_FUNCTION_DEFAULTS.memorySize;
  const timeout = settings.timeoutSeconds ?? DATA_PATH_FUNCTION_DEFAULTS.timeoutSeconds;
  if (memory < 128 || memory > 10240) problems.push(`memorySize ${memory}: Lambda allows 128-10240 MB`);
  if (timeout < 1 || timeout > 900) problems.push(`timeoutSeconds ${timeout}: Lambda allows 1-900 s`);
  return problems;
}
