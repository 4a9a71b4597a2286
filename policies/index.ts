/**
 * The CrossGuard pack: `pulumi preview --stack prod --policy-pack policies
 * --policy-pack-config policies/config.prod.json`. The only module that constructs the
 * PolicyPack, whose constructor starts the analyzer's gRPC server; everything else
 * (tests, `npm run policy`) imports catalog.ts instead.
 */
import { PolicyPack } from "@pulumi/policy";
import { PACK_NAME, currentWaivers, packPolicies } from "./catalog";

new PolicyPack(PACK_NAME, {
  description: "Encryption at rest and in transit, backups, exposure, IAM, failure handling and governance for the AWS data platform, with per-resource waivers.",
  provider: "aws",
  enforcementLevel: "advisory",
  policies: packPolicies(currentWaivers()),
});
