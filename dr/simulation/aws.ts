/**
 * Installs the simulated two-region AWS under the SDK: aws-sdk-client-mock stubs the
 * send() of every client class the promotion uses, and each call is routed by the
 * calling client's own region to the SimulatedAws state model, which records it. The
 * DynamoDB client is left alone: the journal table runs on a real local server.
 */
import { CloudWatchClient, GetMetricDataCommand } from "@aws-sdk/client-cloudwatch";
import { IAMClient, SimulatePrincipalPolicyCommand } from "@aws-sdk/client-iam";
import { GetEventSourceMappingCommand, LambdaClient, UpdateEventSourceMappingCommand } from "@aws-sdk/client-lambda";
import {
  CopyDBClusterSnapshotCommand,
  DescribeDBClusterSnapshotsCommand,
  DescribeDBClustersCommand,
  DescribeDBInstancesCommand,
  DescribeGlobalClustersCommand,
  FailoverGlobalClusterCommand,
  RDSClient,
  SwitchoverGlobalClusterCommand,
} from "@aws-sdk/client-rds";
import { DescribeClusterSnapshotsCommand, DescribeClustersCommand, RedshiftClient, RestoreFromClusterSnapshotCommand } from "@aws-sdk/client-redshift";
import { GetBucketNotificationConfigurationCommand, PutBucketNotificationConfigurationCommand, S3Client } from "@aws-sdk/client-s3";
import { GetParameterCommand, PutParameterCommand, SSMClient } from "@aws-sdk/client-ssm";
import { GetCallerIdentityCommand, STSClient } from "@aws-sdk/client-sts";
import { mockClient } from "aws-sdk-client-mock";
import { SimulatedAws, awsError } from "./world";

type AnyCommand = { name: string; new (input: any): any };

const ROUTES: { service: string; client: any; commands: AnyCommand[] }[] = [
  { service: "sts", client: STSClient, commands: [GetCallerIdentityCommand] },
  { service: "iam", client: IAMClient, commands: [SimulatePrincipalPolicyCommand] },
  {
    service: "rds",
    client: RDSClient,
    commands: [DescribeGlobalClustersCommand, DescribeDBClustersCommand, DescribeDBInstancesCommand, SwitchoverGlobalClusterCommand, FailoverGlobalClusterCommand, DescribeDBClusterSnapshotsCommand, CopyDBClusterSnapshotCommand],
  },
  { service: "lambda", client: LambdaClient, commands: [GetEventSourceMappingCommand, UpdateEventSourceMappingCommand] },
  { service: "ssm", client: SSMClient, commands: [GetParameterCommand, PutParameterCommand] },
  { service: "s3", client: S3Client, commands: [GetBucketNotificationConfigurationCommand, PutBucketNotificationConfigurationCommand] },
  { service: "cloudwatch", client: CloudWatchClient, commands: [GetMetricDataCommand] },
  { service: "redshift", client: RedshiftClient, commands: [DescribeClusterSnapshotsCommand, DescribeClustersCommand, RestoreFromClusterSnapshotCommand] },
];

export interface InstalledSimulation {
  readonly aws: SimulatedAws;
  /** Puts the real send() back on every client class. */
  restore(): void;
}

export function installSimulation(aws: SimulatedAws): InstalledSimulation {
  const mocks = ROUTES.map(({ service, client, commands }) => {
    const mock = mockClient(client);
    mock.callsFake(() => {
      throw awsError("NotSimulated", `${service}: this command is not part of the simulation`);
    });
    for (const command of commands) {
      mock.on(command as never).callsFake(async (input: Record<string, unknown>, getClient: () => unknown) => {
        // Take the client now: getClient() names the most recent caller, and sends interleave.
        const caller = getClient() as { config: { region: () => Promise<string> } };
        const region = await caller.config.region();
        // Deep copy: the SDK may reuse input objects, and results must not alias the state.
        const result = aws.handle(service, command.name, region, JSON.parse(JSON.stringify(input ?? {})));
        return result === undefined ? {} : result;
      });
    }
    return mock;
  });
  return {
    aws,
    restore: () => mocks.forEach((mock) => mock.restore()),
  };
}
