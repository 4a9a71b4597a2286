import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";

export interface ServicesClusterArgs {
  /** CloudWatch Container Insights: "enhanced" adds per-container metrics. @default "enabled" */
  containerInsights?: "enabled" | "enhanced";
}

/**
 * The ECS cluster the platform's Fargate services run in, with Container Insights on:
 * the aggregator's backlog-per-task scaling divides by its RunningTaskCount metric.
 */
export class ServicesCluster extends pulumi.ComponentResource {
  readonly cluster: aws.ecs.Cluster;
  readonly arn: pulumi.Output<string>;
  readonly name: pulumi.Output<string>;

  constructor(name: string, args: ServicesClusterArgs = {}, opts?: pulumi.ComponentResourceOptions) {
    super("dataplatform:services:ServicesCluster", name, {}, opts);
    this.cluster = new aws.ecs.Cluster(`${name}-cluster`, {
      name,
      settings: [{ name: "containerInsights", value: args.containerInsights ?? "enabled" }],
    }, { parent: this });
    this.arn = this.cluster.arn;
    this.name = this.cluster.name;
    this.registerOutputs({ arn: this.arn, name: this.name });
  }
}
