/**
 * Data stores stay inside the VPC: no database endpoint is reachable from the internet.
 * (S3 public access blocks are a stack policy in s3.ts.)
 */
import * as aws from "@pulumi/aws";
import { validateResourceOfType } from "@pulumi/policy";
import { PlatformResourcePolicy } from "./lib/policy";
import { isTrue } from "./lib/values";

const PUBLICLY_ACCESSIBLE = "publiclyAccessible is true: the endpoint gets a public address.";

export const databasesNotPublic: PlatformResourcePolicy = {
  name: "databases-not-publicly-accessible",
  description: "Aurora instances, RDS instances, Redshift clusters and Redshift Serverless workgroups are not publicly accessible.",
  enforcementLevel: "advisory",
  remediationSteps: "Leave publiclyAccessible unset or false and place the database in the isolated subnets; reach it through the app-tier security group.",
  validateResource: [
    validateResourceOfType(aws.rds.ClusterInstance, (instance, _args, report) => {
      if (isTrue(instance.publiclyAccessible)) report(PUBLICLY_ACCESSIBLE);
    }),
    validateResourceOfType(aws.rds.Instance, (instance, _args, report) => {
      if (isTrue(instance.publiclyAccessible)) report(PUBLICLY_ACCESSIBLE);
    }),
    validateResourceOfType(aws.redshift.Cluster, (cluster, _args, report) => {
      if (isTrue(cluster.publiclyAccessible)) report(PUBLICLY_ACCESSIBLE);
    }),
    validateResourceOfType(aws.redshiftserverless.Workgroup, (workgroup, _args, report) => {
      if (isTrue(workgroup.publiclyAccessible)) report(PUBLICLY_ACCESSIBLE);
    }),
  ],
};
