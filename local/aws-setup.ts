/**
 * Creating resources on the local servers the way a deploy would leave them: tables and
 * streams pass through CREATING before ACTIVE on dynalite and kinesalite too, so each
 * create waits for ACTIVE.
 */
import { CreateTableCommand, CreateTableCommandInput, DescribeTableCommand, DynamoDBClient } from "@aws-sdk/client-dynamodb";
import { CreateStreamCommand, DescribeStreamSummaryCommand, KinesisClient } from "@aws-sdk/client-kinesis";

async function waitUntil(description: string, check: () => Promise<boolean>, attempts = 100): Promise<void> {
  for (let attempt = 0; attempt < attempts; attempt++) {
    if (await check()) return;
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  throw new Error(`Gave up waiting for ${description}`);
}

export async function createTableAndWait(client: DynamoDBClient, input: CreateTableCommandInput): Promise<void> {
  await client.send(new CreateTableCommand(input));
  await waitUntil(`table ${input.TableName} to be ACTIVE`, async () => {
    const { Table } = await client.send(new DescribeTableCommand({ TableName: input.TableName }));
    return Table?.TableStatus === "ACTIVE";
  });
}

/** Creates a stream with `shardCount` shards and returns its ARN once it is ACTIVE. */
export async function createStreamAndWait(client: KinesisClient, streamName: string, shardCount: number): Promise<string> {
  await client.send(new CreateStreamCommand({ StreamName: streamName, ShardCount: shardCount }));
  let streamArn = "";
  await waitUntil(`stream ${streamName} to be ACTIVE`, async () => {
    const { StreamDescriptionSummary } = await client.send(new DescribeStreamSummaryCommand({ StreamName: streamName }));
    streamArn = StreamDescriptionSummary?.StreamARN ?? "";
    return StreamDescriptionSummary?.StreamStatus === "ACTIVE";
  });
  return streamArn;
}
