/**
 * EMR Serverless applications (Spark for heavy reprocessing): encryption of every log
 * destination the application configures, a VPC placement, and auto-stop.
 *
 * What @pulumi/aws v7 lets an application encrypt is its monitoring configuration: logs
 * published to S3 (s3MonitoringConfiguration.encryptionKeyArn), to CloudWatch
 * (cloudwatchLoggingConfiguration.encryptionKeyArn) and to managed persistence, which is on
 * unless disabled (managedPersistenceMonitoringConfiguration, "Enables managed logging and
 * defaults to true":
 * https://docs.aws.amazon.com/AWSCloudFormation/latest/UserGuide/aws-properties-emrserverless-application-managedpersistencemonitoringconfiguration.html).
 * The provider exposes no disk-encryption setting, and interactiveConfiguration only
 * switches Studio and Livy endpoints, so neither is checked here.
 */
import * as aws from "@pulumi/aws";
import { validateResourceOfType } from "@pulumi/policy";
import { PlatformResourcePolicy } from "./lib/policy";
import { customerKeyGap, isFalse, isSet, isTrue, peek } from "./lib/values";

export const emrServerlessEncryption: PlatformResourcePolicy = {
  name: "emr-serverless-application-encryption",
  description:
    "EMR Serverless applications publish their logs to S3 (logUri) encrypted with a customer KMS key, encrypt CloudWatch logging (when on) with a customer key, and either switch managed log persistence off or encrypt it with a customer key (it is on by default, under an AWS-owned key).",
  enforcementLevel: "mandatory",
  remediationSteps:
    "Set monitoringConfiguration: { s3MonitoringConfiguration: { logUri: s3://<logs bucket>/emr-serverless/, encryptionKeyArn: <data key> }, managedPersistenceMonitoringConfiguration: { enabled: false } (or { enabled: true, encryptionKeyArn: <data key> }), and, when cloudwatchLoggingConfiguration.enabled, its encryptionKeyArn: <logs key> } on the aws.emrserverless.Application.",
  validateResource: validateResourceOfType(aws.emrserverless.Application, (application, _args, report) => {
    const monitoring = application.monitoringConfiguration;
    const s3 = monitoring?.s3MonitoringConfiguration;
    if (!isSet(peek(() => s3?.logUri))) report("monitoringConfiguration.s3MonitoringConfiguration has no logUri, so job logs are kept only where this stack cannot encrypt or retain them.");
    const s3Gap = customerKeyGap(peek(() => s3?.encryptionKeyArn), "encryptionKeyArn");
    if (s3Gap) report(`S3 log publishing has ${s3Gap}.`);
    const cloudwatch = monitoring?.cloudwatchLoggingConfiguration;
    const cloudwatchGap = customerKeyGap(peek(() => cloudwatch?.encryptionKeyArn), "encryptionKeyArn");
    if (isTrue(peek(() => cloudwatch?.enabled)) && cloudwatchGap) report(`CloudWatch logging is enabled with ${cloudwatchGap}.`);
    const managed = monitoring?.managedPersistenceMonitoringConfiguration;
    const managedGap = customerKeyGap(peek(() => managed?.encryptionKeyArn), "encryptionKeyArn");
    if (!isFalse(peek(() => managed?.enabled)) && managedGap) {
      report(`Managed log persistence is ${managed === undefined ? "on by default" : "enabled"} with ${managedGap}: disable it or give it a customer key.`);
    }
  }),
};

export const emrServerlessInVpc: PlatformResourcePolicy = {
  name: "emr-serverless-application-in-vpc",
  description:
    "EMR Serverless applications run in the platform's VPC: networkConfiguration names private subnets and security groups, so workers reach the data through the VPC endpoints and their egress is the security groups' (without it they run outside the VPC and cannot reach private resources).",
  enforcementLevel: "mandatory",
  remediationSteps: "Set networkConfiguration: { subnetIds: <isolated/private subnet ids>, securityGroupIds: [<egress-only group>] } on the aws.emrserverless.Application (the S3 gateway and the Glue/STS/Logs interface endpoints serve it).",
  validateResource: validateResourceOfType(aws.emrserverless.Application, (application, _args, report) => {
    const network = application.networkConfiguration;
    if (network === undefined) {
      report("The application has no networkConfiguration, so it runs outside the VPC.");
      return;
    }
    const subnets = peek(() => network.subnetIds);
    const groups = peek(() => network.securityGroupIds);
    // Only the lists' lengths are read: their ids may be unknown during preview.
    if (Array.isArray(subnets) ? subnets.length === 0 : !isSet(subnets)) report("networkConfiguration.subnetIds is empty.");
    if (Array.isArray(groups) ? groups.length === 0 : !isSet(groups)) report("networkConfiguration.securityGroupIds is empty.");
  }),
};

/**
 * Advisory: auto-stop is a cost control. It is on by default (after 15 idle minutes,
 * https://docs.aws.amazon.com/emr-serverless/latest/APIReference/API_AutoStopConfig.html),
 * so only turning it off is reported.
 */
export const emrServerlessAutoStop: PlatformResourcePolicy = {
  name: "emr-serverless-application-auto-stop",
  description: "EMR Serverless applications stop when idle (autoStopConfiguration is not disabled), so pre-initialised capacity is not paid for between runs.",
  enforcementLevel: "advisory",
  remediationSteps: "Leave autoStopConfiguration unset or set { enabled: true, idleTimeoutMinutes: 15 } on the aws.emrserverless.Application.",
  validateResource: validateResourceOfType(aws.emrserverless.Application, (application, _args, report) => {
    if (isFalse(peek(() => application.autoStopConfiguration?.enabled))) report("autoStopConfiguration.enabled is false: the application keeps its capacity, and its cost, while idle.");
  }),
};

export const emrServerlessPolicies: PlatformResourcePolicy[] = [emrServerlessEncryption, emrServerlessInVpc, emrServerlessAutoStop];
