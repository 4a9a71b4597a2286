/**
 * SDK clients for the local servers: their region, the credentials s3rver checks (the
 * others accept any), path-style S3 addressing, and HTTP/1.1 for Kinesis, whose client
 * would otherwise try HTTP/2, which kinesalite does not speak.
 */
import { DynamoDBClient } from "@aws-sdk/client-dynamodb";
import { KinesisClient } from "@aws-sdk/client-kinesis";
import { S3Client } from "@aws-sdk/client-s3";
import { SQSClient } from "@aws-sdk/client-sqs";
import { NodeHttpHandler } from "@smithy/node-http-handler";
import { EMULATOR_CREDENTIALS, EMULATOR_REGION } from "./servers";

const localConfig = (endpoint: string, region: string) => ({ region, endpoint, credentials: EMULATOR_CREDENTIALS });

export const localDynamoDbClient = (endpoint: string, region = EMULATOR_REGION) => new DynamoDBClient(localConfig(endpoint, region));
export const localS3Client = (endpoint: string, region = EMULATOR_REGION) => new S3Client({ ...localConfig(endpoint, region), forcePathStyle: true });
export const localKinesisClient = (endpoint: string, region = EMULATOR_REGION) => new KinesisClient({ ...localConfig(endpoint, region), requestHandler: new NodeHttpHandler() });
export const localSqsClient = (endpoint: string, region = EMULATOR_REGION) => new SQSClient(localConfig(endpoint, region));
