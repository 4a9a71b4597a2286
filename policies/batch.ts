/**
 * The batch layer's policies (issue 12) in report order: Glue, EMR Serverless, the OLTP ->
 * warehouse sync paths (DMS, zero-ETL), and the orchestration (Step Functions, Scheduler).
 * tests/policies-batch.test.ts holds their fixtures.
 */
import { emrServerlessPolicies } from "./emr-serverless";
import { gluePolicies } from "./glue";
import { PlatformResourcePolicy } from "./lib/policy";
import { orchestrationPolicies } from "./orchestration";
import { warehouseSyncPolicies } from "./warehouse-sync";

export const BATCH_POLICIES: readonly PlatformResourcePolicy[] = [...gluePolicies, ...emrServerlessPolicies, ...warehouseSyncPolicies, ...orchestrationPolicies];
