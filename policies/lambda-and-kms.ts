/**
 * Hygiene that keeps running code patched and keys fresh: Lambda runtimes past their
 * AWS deprecation date, and customer KMS keys without automatic rotation.
 */
import * as aws from "@pulumi/aws";
import { validateResourceOfType } from "@pulumi/policy";
import { PlatformResourcePolicy } from "./lib/policy";
import { isTrue, isoDay } from "./lib/values";

/**
 * Deprecation dates (Lambda stops security patches) from the AWS Lambda runtimes page.
 * Dated entries that are still in the future start failing on their own once the date
 * passes; add new runtimes as AWS announces them.
 */
export const LAMBDA_RUNTIME_DEPRECATIONS: Readonly<Record<string, string>> = {
  "nodejs": "2016-10-31",
  "nodejs4.3": "2020-03-05",
  "nodejs4.3-edge": "2019-04-30",
  "nodejs6.10": "2019-08-12",
  "nodejs8.10": "2020-03-06",
  "nodejs10.x": "2021-07-30",
  "nodejs12.x": "2023-03-31",
  "nodejs14.x": "2023-12-04",
  "nodejs16.x": "2024-06-12",
  "nodejs18.x": "2025-09-01",
  "nodejs20.x": "2026-04-30",
  "nodejs22.x": "2027-04-30",
  "nodejs24.x": "2028-04-30",
  "python2.7": "2021-07-15",
  "python3.6": "2022-07-18",
  "python3.7": "2023-12-04",
  "python3.8": "2024-10-14",
  "python3.9": "2025-12-15",
  "python3.10": "2026-06-30",
  "python3.11": "2026-06-30",
  "python3.12": "2028-10-31",
  "python3.13": "2029-06-30",
  "python3.14": "2030-06-30",
};

/** The runtime's deprecation date when it is on or before `today` ("YYYY-MM-DD"). */
export function runtimeDeprecatedOn(runtime: string | undefined, today: string): string | undefined {
  const date = runtime === undefined ? undefined : LAMBDA_RUNTIME_DEPRECATIONS[runtime];
  return date !== undefined && date <= today ? date : undefined;
}

interface RuntimeConfig {
  asOfDate?: string;
}

export const lambdaRuntimeSupported: PlatformResourcePolicy = {
  name: "lambda-runtime-supported",
  description: "Lambda functions do not use a Node.js or Python runtime past its AWS deprecation date.",
  enforcementLevel: "advisory",
  remediationSteps: "Move the function to a supported runtime (components/lib/inline-function.ts sets LAMBDA_RUNTIME for every inline function).",
  configSchema: {
    properties: {
      asOfDate: { type: "string", pattern: "^\\d{4}-\\d{2}-\\d{2}$", description: "Judge deprecation as of this day (YYYY-MM-DD) instead of today, e.g. to see what breaks next quarter." },
    },
  },
  validateResource: validateResourceOfType(aws.lambda.Function, (fn, args, report) => {
    const today = args.getConfig<RuntimeConfig>().asOfDate ?? isoDay(new Date());
    const deprecated = runtimeDeprecatedOn(fn.runtime, today);
    if (deprecated) report(`Runtime ${fn.runtime} was deprecated on ${deprecated}.`);
  }),
};

/** Key specs that AWS can rotate automatically; asymmetric and HMAC keys cannot. */
const ROTATABLE_SPECS = [undefined, "SYMMETRIC_DEFAULT"];

export const kmsKeyRotation: PlatformResourcePolicy = {
  name: "kms-key-rotation",
  description: "Symmetric customer-managed KMS keys rotate automatically.",
  enforcementLevel: "advisory",
  remediationSteps: "Set enableKeyRotation: true (PlatformKeys does, with rotationPeriodInDays 365). Replica keys follow their primary.",
  validateResource: validateResourceOfType(aws.kms.Key, (key, args, report) => {
    if (!ROTATABLE_SPECS.includes(key.customerMasterKeySpec)) args.notApplicable("Asymmetric and HMAC keys cannot rotate automatically");
    if (!isTrue(key.enableKeyRotation)) report("enableKeyRotation is not true.");
  }),
};
