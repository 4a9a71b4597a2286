import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";

/** One endpoint producers look up instead of hard-coding a region's. */
export interface ProducerEndpoint {
  /** Parameter name under `${parameterPrefix}/endpoints/`, e.g. "ingest-stream-arn". */
  key: string;
  /** This region's endpoint. */
  own: pulumi.Input<string>;
  /** The partner region's, when known (the partner stack has exported it). @default undefined */
  partner?: pulumi.Input<string>;
}

export interface DrControlArgs {
  /** Prefix of every parameter, e.g. "/dp-prod/dr"; the same in both regions. */
  parameterPrefix: string;
  /** Whether this stack's region is the active one. */
  active: boolean;
  /** The active region's name, published for producers and tools. */
  activeRegion: string;
  /** This stack's region. */
  region: string;
  endpoints: ProducerEndpoint[];
  /** Customer key of the promotion journal table. */
  dataKeyArn: pulumi.Input<string>;
  /** Physical name of the journal table: the same in both regions, so `dr:promote` finds it by region. */
  journalTableName: string;
  /** @default true */
  pointInTimeRecovery?: boolean;
  /** @default true */
  deletionProtection?: boolean;
  /** Pulumi `protect` on the journal table. @default true */
  protect?: boolean;
}

/** Attribute the journal's items expire by (epoch seconds). */
export const JOURNAL_TTL_ATTRIBUTE = "expiresAt";

/**
 * The value a region's copy of an endpoint parameter holds: the active region's
 * endpoint. A passive stack that does not know its partner's yet keeps its own.
 */
export function endpointValue(endpoint: ProducerEndpoint, active: boolean): pulumi.Input<string> {
  return active || endpoint.partner === undefined ? endpoint.own : endpoint.partner;
}

/**
 * What a region needs to take over the stage: SSM parameters through which producers
 * find the active region's endpoints (the same names and values in both regions, so a
 * producer that can reach either region finds the active one), the active region's
 * name, and the DynamoDB table where promotions into this region keep their journal
 * and their lock. `dr:promote` flips the parameters; the config change it prints makes
 * the stacks declare the same values, so the next `pulumi up` changes nothing.
 */
export class DrControl extends pulumi.ComponentResource {
  /** Parameter name → the value it holds when this region is active. */
  readonly endpointParameters: { name: string; valueWhenActive: pulumi.Input<string>; declaredValue: pulumi.Input<string> }[] = [];
  readonly activeRegionParameterName: string;
  readonly journalTable: aws.dynamodb.Table;

  constructor(name: string, args: DrControlArgs, opts?: pulumi.ComponentResourceOptions) {
    super("dataplatform:dr:DrControl", name, {}, opts);
    for (const endpoint of args.endpoints) {
      const parameterName = `${args.parameterPrefix}/endpoints/${endpoint.key}`;
      const declaredValue = endpointValue(endpoint, args.active);
      new aws.ssm.Parameter(`${name}-${endpoint.key}`, {
        name: parameterName,
        description: `${endpoint.key} of the active region; producers read it rather than a region's own endpoint`,
        type: "String",
        tier: "Standard",
        value: declaredValue,
      }, { parent: this });
      this.endpointParameters.push({ name: parameterName, valueWhenActive: endpoint.own, declaredValue });
    }
    this.activeRegionParameterName = `${args.parameterPrefix}/active-region`;
    // Flipped by dr:promote like the endpoints: the region's own name is its value when active.
    this.endpointParameters.push({ name: this.activeRegionParameterName, valueWhenActive: args.region, declaredValue: args.activeRegion });
    new aws.ssm.Parameter(`${name}-active-region`, {
      name: this.activeRegionParameterName,
      description: "The region that takes writes and runs the consumers",
      type: "String",
      tier: "Standard",
      value: args.activeRegion,
    }, { parent: this });

    this.journalTable = new aws.dynamodb.Table(`${name}-promotions`, {
      name: args.journalTableName,
      billingMode: "PAY_PER_REQUEST",
      hashKey: "pk",
      rangeKey: "sk",
      attributes: [{ name: "pk", type: "S" }, { name: "sk", type: "S" }],
      serverSideEncryption: { enabled: true, kmsKeyArn: args.dataKeyArn },
      pointInTimeRecovery: { enabled: args.pointInTimeRecovery ?? true },
      deletionProtectionEnabled: args.deletionProtection ?? true,
      ttl: { attributeName: JOURNAL_TTL_ATTRIBUTE, enabled: true },
    }, { parent: this, protect: args.protect ?? true });

    this.registerOutputs({
      endpointParameterNames: this.endpointParameters.map((parameter) => parameter.name),
      activeRegionParameterName: this.activeRegionParameterName,
      journalTableName: this.journalTable.name,
    });
  }
}
