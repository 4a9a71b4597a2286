/**
 * The contract between the two stacks of a stage and `dr:promote`: every stack with DR
 * exports one `drTopology` output of this shape, built from its own resources. The
 * promotion tool reads both stacks' topologies (`pulumi stack output drTopology --json`,
 * or the offline plan's outputs) and never guesses a name: what it calls, polls, flips
 * and reports is exactly what the stacks declared.
 *
 * Everything here is plain JSON (no Pulumi types), so the tool, its tests and the
 * simulated two-region AWS can share it.
 */

export type StackRole = "primary" | "dr";

/** One Lambda consumer whose event source mapping runs only in the active region. */
export interface ConsumerTopology {
  /** Stable name of the consumer within the platform, e.g. "stream-consumer", "queue-consumer". */
  readonly name: string;
  readonly functionName: string;
  /** The event source mapping's UUID (UpdateEventSourceMapping takes it). */
  readonly eventSourceMappingUuid: string;
  /** Whether the stack declares the mapping enabled (it does in the active region only). */
  readonly enabled: boolean;
}

/** One S3 → Lambda notification of a lake bucket, exactly as the stack declares it when its region is active. */
export interface LambdaTriggerTopology {
  readonly functionArn: string;
  readonly events: string[];
  readonly filterPrefix?: string;
  readonly filterSuffix?: string;
}

/** One S3 → SNS notification of a lake bucket. */
export interface TopicTriggerTopology {
  readonly topicArn: string;
  readonly events: string[];
  readonly filterPrefix?: string;
  readonly filterSuffix?: string;
}

/**
 * A lake bucket's whole notification configuration in the active region. S3 fires
 * ObjectCreated for replicas too, so a passive region declares none (its functions would
 * redo what replication already delivers); promotion puts this configuration, and the
 * promoted stack then declares the same one.
 */
export interface LakeTriggerTopology {
  readonly bucket: string;
  readonly lambdaFunctions: LambdaTriggerTopology[];
  readonly topics: TopicTriggerTopology[];
  readonly eventBridge: boolean;
}

/**
 * An SSM parameter through which producers find an endpoint. It exists in both regions
 * under the same name, and both hold the active region's value.
 */
export interface EndpointParameterTopology {
  readonly name: string;
  /** What the parameter holds when this stack's region is active (this region's endpoint). */
  readonly valueWhenActive: string;
  /** What this stack currently declares. */
  readonly declaredValue: string;
}

/** One outbound S3 replication rule of this stack (source bucket in this region). */
export interface LakeReplicationTopology {
  readonly zone: string;
  readonly sourceBucket: string;
  readonly destinationBucket: string;
  readonly destinationRegion: string;
  readonly ruleId: string;
  /** The rule runs from the active region only; this is what the stack declares now. */
  readonly enabled: boolean;
}

export interface AuroraTopology {
  readonly globalClusterIdentifier: string;
  /** This region's member cluster. */
  readonly clusterIdentifier: string;
  readonly clusterArn: string;
  readonly engineVersion: string;
  /** The member's instances (a secondary without any cannot be switched or failed over to). */
  readonly instanceIdentifiers: string[];
}

export interface WarehouseTopology {
  readonly mode: "provisioned" | "serverless";
  /** Cluster identifier in this region; "" when this region has no warehouse (a DR standby before restore). */
  readonly clusterIdentifier: string;
  /** Where this region's cluster copies its snapshots ("" when it copies none). */
  readonly snapshotCopyRegion: string;
  /** The identifier a restore in this region creates (the same name as the source cluster). */
  readonly restoreClusterIdentifier: string;
  /** dr:promote restores the warehouse here when promoting this region (config drWarehouseRestore). */
  readonly restoreOnPromotion: boolean;
  /** The snapshot copy grant in this region (for restoring encrypted copies), "" when none. */
  readonly snapshotCopyGrantName: string;
  /**
   * What RestoreFromClusterSnapshot must be given in this region so that the stack, once
   * its config names the snapshot (warehouseRestoreSnapshot), adopts the restored cluster
   * as its own: the stack's subnet group, parameter group, security groups, key and roles.
   * Present on a standby that has no cluster yet.
   */
  readonly restoreSettings?: WarehouseRestoreTopology;
}

/** The RestoreFromClusterSnapshot parameters a standby declares (RDS-style names, as the API takes them). */
export interface WarehouseRestoreTopology {
  readonly ClusterIdentifier: string;
  readonly NodeType: string;
  readonly NumberOfNodes: number;
  readonly MultiAZ: boolean;
  readonly ClusterSubnetGroupName: string;
  readonly ClusterParameterGroupName: string;
  readonly VpcSecurityGroupIds: string[];
  readonly KmsKeyId: string;
  readonly IamRoles: string[];
  readonly DefaultIamRoleArn: string;
  readonly Port: number;
  readonly EnhancedVpcRouting: boolean;
  readonly PubliclyAccessible: boolean;
  readonly ManageMasterPassword: boolean;
  readonly MasterPasswordSecretKmsKeyId: string;
  readonly AutomatedSnapshotRetentionPeriod: number;
  readonly PreferredMaintenanceWindow: string;
}

export interface RecoveryTargets {
  readonly rpoStreamSeconds: number;
  readonly rpoBatchMinutes: number;
  readonly rtoMinutes: number;
}

export interface StackTopology {
  /** Schema version of this document. */
  readonly version: 1;
  /** Fully qualified name of this stack and of its partner. */
  readonly stack: string;
  readonly partnerStack: string;
  readonly stage: string;
  readonly role: StackRole;
  /** This stack's region, the partner's, and the active one as this stack's config says. */
  readonly region: string;
  readonly partnerRegion: string;
  readonly activeRegion: string;
  readonly aurora?: AuroraTopology;
  readonly consumers: ConsumerTopology[];
  readonly lakeTriggers: LakeTriggerTopology[];
  readonly endpointParameters: EndpointParameterTopology[];
  readonly lakeReplication: LakeReplicationTopology[];
  readonly speedLayerTable: { readonly name: string; readonly replicaRegions: string[] };
  readonly warehouse?: WarehouseTopology;
  /** DynamoDB table in this region where promotions into this region keep their journal and lock. */
  readonly promotionJournalTable: string;
  /** The health route of this region's reporting API (GET, SigV4-signed: it is IAM-authorised), checked after a promotion ("" when none). */
  readonly reportingApiUrl: string;
  readonly targets: RecoveryTargets;
}

/** The stack output name that carries a StackTopology. */
export const TOPOLOGY_OUTPUT = "drTopology";
