/**
 * Every policy of the pack, in report order. policies/index.ts serves this list to the
 * Pulumi engine and scripts/policy.ts runs the same list offline, so the two cannot drift.
 * This module never constructs a PolicyPack (that starts a gRPC server).
 */
import { apiGatewayPolicies } from "./api-gateway";
import { awsBackupPolicies } from "./aws-backup";
import { backupPolicies } from "./backups";
import { BATCH_POLICIES } from "./batch";
import { cloudfrontPolicies } from "./cloudfront";
import { disasterRecoveryPolicies } from "./disaster-recovery";
import { confusedDeputyPolicies } from "./confused-deputy";
import { containerPolicies } from "./containers";
import { monthlyCostWithinBudget } from "./cost-budget";
import { encryptionAtRestPolicies } from "./encryption-at-rest";
import { encryptionInTransitPolicies } from "./encryption-in-transit";
import { eventProcessingPolicies } from "./event-processing";
import { governancePolicies } from "./governance";
import { iamPolicies } from "./iam";
import { kmsKeyRotation, lambdaRuntimeSupported } from "./lambda-and-kms";
import { PlatformPolicy } from "./lib/policy";
import { isoDay } from "./lib/values";
import { databasesNotPublic } from "./public-access";
import { s3Policies } from "./s3";
import { WaiverBook, loadWaivers, waiverRegistryPolicy, withWaivers } from "./waiver-logic";

export const PACK_NAME = "aws-data-platform";

/** The policies themselves, without waivers applied. */
export const PLATFORM_POLICIES: readonly PlatformPolicy[] = [
  ...encryptionAtRestPolicies,
  ...s3Policies,
  ...cloudfrontPolicies,
  ...apiGatewayPolicies,
  ...encryptionInTransitPolicies,
  ...backupPolicies,
  ...disasterRecoveryPolicies,
  databasesNotPublic,
  ...iamPolicies,
  ...confusedDeputyPolicies,
  ...eventProcessingPolicies,
  ...containerPolicies,
  ...BATCH_POLICIES,
  lambdaRuntimeSupported,
  kmsKeyRotation,
  ...governancePolicies,
  ...awsBackupPolicies,
  monthlyCostWithinBudget,
];

/** Ids a waiver may name (the registry policy itself cannot be waived). */
export const WAIVABLE_POLICY_NAMES: readonly string[] = PLATFORM_POLICIES.map((p) => p.name);

/** The pack as served: every policy filtered through the waivers, plus the policy that polices the waivers. */
export function packPolicies(book: WaiverBook): PlatformPolicy[] {
  return [...PLATFORM_POLICIES.map((policy) => withWaivers(policy, book)), waiverRegistryPolicy(book)];
}

/** policies/waivers.json, judged as of `today`. */
export function currentWaivers(today: Date = new Date(), file?: string): WaiverBook {
  return loadWaivers(WAIVABLE_POLICY_NAMES, isoDay(today), file);
}
