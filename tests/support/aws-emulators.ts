/**
 * Real local AWS-compatible servers for handler tests, each on 127.0.0.1 with an
 * ephemeral port: dynalite (DynamoDB), kinesalite (Kinesis) and s3rver (S3), started by
 * local/servers.ts (re-exported here). Start them in beforeAll and stop them in
 * afterAll; nothing is shared between test files. Also here: SDK clients for them,
 * waits for CREATING → ACTIVE, `invokeShipped`, which runs a Lambda factory from the
 * exact text CallbackFunction would ship, and `expectShipsAsFactory`, which checks that
 * text's shape.
 */
import { DynamoDBClient, ScanCommand } from "@aws-sdk/client-dynamodb";
import {
  GetRecordsCommand,
  GetShardIteratorCommand,
  KinesisClient,
  ListShardsCommand,
  _Record,
} from "@aws-sdk/client-kinesis";
import { GetObjectCommand, ListObjectsV2Command, S3Client } from "@aws-sdk/client-s3";
import { unmarshall } from "@aws-sdk/util-dynamodb";
import * as pulumi from "@pulumi/pulumi";
import { EMULATOR_CREDENTIALS, EMULATOR_REGION, RunningEmulator } from "../../local/servers";
import { invokeAsShipped } from "./shipped";
import { localDynamoDbClient, localKinesisClient, localS3Client } from "../../local/clients";
import { createTableAndWait } from "../../local/aws-setup";

export { EMULATOR_CREDENTIALS, EMULATOR_REGION, startDynalite, startKinesalite, startS3rver } from "../../local/servers";
export type { LocalS3, RunningEmulator } from "../../local/servers";
export { kinesisEventOf } from "../../local/event-sources";
export { createStreamAndWait, createTableAndWait } from "../../local/aws-setup";

export function dynamoDbClient(emulator: RunningEmulator): DynamoDBClient {
  return localDynamoDbClient(emulator.endpoint);
}

export function s3Client(emulator: RunningEmulator): S3Client {
  return localS3Client(emulator.endpoint);
}

export function kinesisClient(emulator: RunningEmulator): KinesisClient {
  return localKinesisClient(emulator.endpoint);
}

/** Every record of every shard, from the start of the stream, in shard then sequence order. */
export async function readAllRecords(client: KinesisClient, streamName: string): Promise<{ shardId: string; record: _Record }[]> {
  const { Shards = [] } = await client.send(new ListShardsCommand({ StreamName: streamName }));
  const all: { shardId: string; record: _Record }[] = [];
  for (const shard of Shards) {
    const shardId = shard.ShardId!;
    const { ShardIterator } = await client.send(new GetShardIteratorCommand({ StreamName: streamName, ShardId: shardId, ShardIteratorType: "TRIM_HORIZON" }));
    const { Records = [] } = await client.send(new GetRecordsCommand({ ShardIterator }));
    all.push(...Records.map((record) => ({ shardId, record })));
  }
  return all;
}

/** Every item of a table, unmarshalled and sorted by key, for whole-table comparisons. */
export async function scanAll(client: DynamoDBClient, tableName: string): Promise<Record<string, unknown>[]> {
  const { Items = [] } = await client.send(new ScanCommand({ TableName: tableName, ConsistentRead: true }));
  return Items.map((item) => unmarshall(item)).sort((a, b) => `${a.pk}|${a.sk}`.localeCompare(`${b.pk}|${b.sk}`));
}

/** Keys under a prefix, sorted. */
export async function listKeys(client: S3Client, bucket: string, prefix = ""): Promise<string[]> {
  const { Contents = [] } = await client.send(new ListObjectsV2Command({ Bucket: bucket, Prefix: prefix }));
  return Contents.map((object) => object.Key!).sort();
}

export async function readText(client: S3Client, bucket: string, key: string): Promise<string> {
  const { Body } = await client.send(new GetObjectCommand({ Bucket: bucket, Key: key }));
  return Body!.transformToString();
}

/**
 * Serialises a factory the way CallbackFunction ships it and checks what Lambda loads:
 * a `handler` export, no secrets captured, and the SDK clients matched by `sdkRequire`
 * required from the runtime as modules, never serialised by value.
 */
export async function expectShipsAsFactory(factory: () => unknown, sdkRequire: RegExp): Promise<void> {
  const serialized = await pulumi.runtime.serializeFunction(factory, { isFactoryFunction: true });
  expect(serialized.exportName).toBe("handler");
  expect(serialized.containsSecrets).toBe(false);
  expect(serialized.text).toMatch(sdkRequire);
}

/** Invokes a factory as shipped (tests/support/shipped.ts) with the emulators' region and credentials. */
export async function invokeShipped(factory: () => unknown, env: Record<string, string>, event: unknown): Promise<unknown> {
  const emulatorEnv = { AWS_REGION: EMULATOR_REGION, AWS_ACCESS_KEY_ID: EMULATOR_CREDENTIALS.accessKeyId, AWS_SECRET_ACCESS_KEY: EMULATOR_CREDENTIALS.secretAccessKey };
  return (await invokeAsShipped(factory, { ...emulatorEnv, ...env }, event)).result;
}

/** A claims table shaped like IngestionLayer's (string key "pk"; TTL is not enforced by dynalite, expiry is checked by the code). */
export function createClaimsTable(client: DynamoDBClient, tableName: string): Promise<void> {
  return createTableAndWait(client, {
    TableName: tableName,
    BillingMode: "PAY_PER_REQUEST",
    AttributeDefinitions: [{ AttributeName: "pk", AttributeType: "S" }],
    KeySchema: [{ AttributeName: "pk", KeyType: "HASH" }],
  });
}

/** A speed-layer table shaped like IngestionLayer's (string keys "pk" and "sk"). */
export function createSpeedLayerTable(client: DynamoDBClient, tableName: string): Promise<void> {
  return createTableAndWait(client, {
    TableName: tableName,
    BillingMode: "PAY_PER_REQUEST",
    AttributeDefinitions: [{ AttributeName: "pk", AttributeType: "S" }, { AttributeName: "sk", AttributeType: "S" }],
    KeySchema: [{ AttributeName: "pk", KeyType: "HASH" }, { AttributeName: "sk", KeyType: "RANGE" }],
  });
}
