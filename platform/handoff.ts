/**
 * What the two stacks of a stage tell each other. Each exports a `drHandoff` output
 * and reads its partner's through a StackReference, that is from the Pulumi backend,
 * never from the partner's region: the DR stack deploys and promotes while the primary
 * region is down (the backend must not live there; README, Disaster recovery).
 *
 * The primary's handoff is complete after its first `pulumi up`; the DR stack refuses
 * to deploy without it. The DR stack's handoff appears after its own first `pulumi up`;
 * until then the primary simply declares no replication links into it.
 */
import * as pulumi from "@pulumi/pulumi";

export const HANDOFF_OUTPUT = "drHandoff";

/** The lake zones replicated between the regions. */
export const REPLICATED_ZONES = ["raw", "transformed", "staged"] as const;
export type ReplicatedZone = (typeof REPLICATED_ZONES)[number];

export interface BucketHandoff {
  readonly name: string;
  readonly arn: string;
}

/** Endpoint parameters producers read (DrControl), by key, with this region's value. */
export type EndpointHandoff = Record<string, string>;

export interface PrimaryHandoff {
  readonly version: 1;
  readonly role: "primary";
  readonly region: string;
  /** The primary's data key, and the replicas of its multi-Region keys in the DR region. */
  readonly keys: { readonly dataKeyArn: string; readonly dataKeyReplicaArn: string; readonly logsKeyReplicaArn: string };
  readonly aurora: {
    readonly globalClusterIdentifier: string;
    readonly engineVersion: string;
    /** The master-credentials secret's replica in the DR region (same name and suffix, other region). */
    readonly credentialsSecretReplicaArn: string;
    readonly databaseName: string;
  };
  /** The speed-layer global table: the DR region's replica has the same name. */
  readonly speedLayerTableName: string;
  readonly lake: Record<ReplicatedZone, BucketHandoff>;
  readonly endpoints: EndpointHandoff;
}

export interface StandbyHandoff {
  readonly version: 1;
  readonly role: "dr";
  readonly region: string;
  readonly lake: Record<ReplicatedZone, BucketHandoff>;
  /** The grant the primary's warehouse snapshot copies land under. */
  readonly snapshotCopyGrantName: string;
  readonly endpoints: EndpointHandoff;
}

export type Handoff = PrimaryHandoff | StandbyHandoff;

/** Why a handoff read from the backend is not one this program can use; undefined when it is. */
export function handoffProblem(value: unknown, role: Handoff["role"]): string | undefined {
  if (typeof value !== "object" || value === null) return `is not an object`;
  const handoff = value as Partial<Handoff>;
  if (handoff.version !== 1) return `has version ${JSON.stringify(handoff.version)}, this program reads version 1`;
  if (handoff.role !== role) return `comes from a ${JSON.stringify(handoff.role)} stack, expected a ${role} stack`;
  for (const zone of REPLICATED_ZONES) if (typeof handoff.lake?.[zone]?.arn !== "string") return `has no lake bucket for zone ${zone}`;
  return undefined;
}

/**
 * The partner stack's handoff, or undefined when the partner exists but has no outputs
 * yet (created, never deployed). A handoff of the wrong shape stops the program.
 */
export async function readHandoff<T extends Handoff>(reference: pulumi.StackReference, partnerName: string, role: T["role"]): Promise<T | undefined> {
  const details = await reference.getOutputDetails(HANDOFF_OUTPUT);
  const value = details.value ?? details.secretValue;
  if (value === undefined) return undefined;
  const problem = handoffProblem(value, role);
  if (problem !== undefined) throw new pulumi.RunError(`The ${HANDOFF_OUTPUT} output of stack ${partnerName} ${problem}`);
  return value as T;
}

/** "arn:aws:secretsmanager:eu-west-1:…" → the same ARN in `region`: a secret's replicas keep its name and suffix, a multi-Region key's its id. */
export function inRegion(arn: string, region: string): string {
  const parts = arn.split(":");
  parts[3] = region;
  return parts.join(":");
}
