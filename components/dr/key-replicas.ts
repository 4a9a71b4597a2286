import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";

/** One multi-Region key of this stack to replicate into the partner region. */
export interface KeyToReplicate {
  /** Short name: the replica is `${name}-${key}`, its alias `alias/${aliasPrefix}-${key}`. */
  key: string;
  primaryKeyArn: pulumi.Input<string>;
  /** The replica's key policy (replicas do not inherit the primary's). */
  policy: pulumi.Input<string>;
  description: string;
}

export interface KeyReplicasArgs {
  /** Provider of the partner region, where the replicas live. */
  provider: aws.Provider;
  keys: KeyToReplicate[];
  /** Alias prefix in the partner region, the same as the primary keys' aliases. */
  aliasPrefix: string;
  /** Days a scheduled deletion of a replica waits (7-30). @default 30 */
  deletionWindowInDays?: number;
  /** Pulumi `protect` on the replicas. @default true */
  protect?: boolean;
}

/**
 * Replicas of the stage's multi-Region keys in the DR region, created from the primary
 * stack (KMS replicates a key from its primary's region). Each replica has the same key
 * id as its primary and carries its own policy (replicas do not inherit one) and the
 * primary's alias, so the DR region finds it by name. The table, secret and Aurora
 * replicas in the DR region are encrypted with these.
 */
export class KeyReplicas extends pulumi.ComponentResource {
  /** ARN of each key's replica, by short key name. */
  readonly arns: Record<string, pulumi.Output<string>> = {};

  constructor(name: string, args: KeyReplicasArgs, opts?: pulumi.ComponentResourceOptions) {
    super("dataplatform:dr:KeyReplicas", name, {}, opts);
    const replicaOpts = { parent: this, provider: args.provider };
    for (const key of args.keys) {
      const replica = new aws.kms.ReplicaKey(`${name}-${key.key}`, {
        primaryKeyArn: key.primaryKeyArn,
        description: key.description,
        policy: key.policy,
        deletionWindowInDays: args.deletionWindowInDays ?? 30,
        enabled: true,
      }, { ...replicaOpts, protect: args.protect ?? true });
      new aws.kms.Alias(`${name}-${key.key}-alias`, {
        name: `alias/${args.aliasPrefix}-${key.key}`,
        targetKeyId: replica.keyId,
      }, replicaOpts);
      this.arns[key.key] = replica.arn;
    }
    this.registerOutputs({ arns: this.arns });
  }
}
