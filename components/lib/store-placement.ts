import * as pulumi from "@pulumi/pulumi";

/**
 * Where a stateful store runs and which keys and log retention it uses: the fields
 * OltpDatabaseArgs, AnalyticsWarehouseArgs and CacheLayerArgs share. Each of those
 * says, in its own doc, which subnet tier and security group it takes and what its
 * keys encrypt.
 */
export interface StorePlacementArgs {
  /** The subnets the store runs in. */
  subnetIds: pulumi.Input<pulumi.Input<string>[]>;
  /** The store tier's security group(s). */
  securityGroupIds: pulumi.Input<pulumi.Input<string>[]>;
  /** Customer key for what the store keeps at rest (its storage and the secrets it creates, among others). */
  kmsKeyArn: pulumi.Input<string>;
  /** Customer key of the store's CloudWatch log groups. */
  logsKeyArn: pulumi.Input<string>;
  /** Days the store's CloudWatch log groups keep events. */
  logRetentionDays: number;
}
