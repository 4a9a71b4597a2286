/**
 * The few S3 operations the ingestion and lake handlers share. Objects take the bucket's
 * default encryption (SSE-KMS with a bucket key), so no handler names a key.
 */
import { GetObjectCommand, PutObjectCommand, S3Client } from "@aws-sdk/client-s3";
import type { S3Event } from "aws-lambda";
import { gunzipSync } from "zlib";
import { LogLine } from "./data-path-runtime";
import { decodeS3EventKey } from "./lake-layout";

const GZIP_MAGIC = [0x1f, 0x8b];
const PARQUET_MAGIC = "PAR1";

export function isGzip(bytes: Uint8Array): boolean {
  return bytes.length >= 2 && bytes[0] === GZIP_MAGIC[0] && bytes[1] === GZIP_MAGIC[1];
}

export function isParquet(bytes: Uint8Array): boolean {
  return bytes.length >= 4 && Buffer.from(bytes.subarray(0, 4)).toString("latin1") === PARQUET_MAGIC;
}

export async function readObjectBytes(s3: S3Client, bucket: string, key: string): Promise<Uint8Array> {
  const response = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: key }));
  if (response.Body === undefined) throw new Error(`s3://${bucket}/${key} has no body`);
  return response.Body.transformToByteArray();
}

/** Object text, gunzipped when the bytes are gzip (Firehose GZIP output) whatever the key says. */
export function decodeObjectText(bytes: Uint8Array): string {
  return (isGzip(bytes) ? gunzipSync(bytes) : Buffer.from(bytes)).toString("utf8");
}

export async function writeObject(s3: S3Client, bucket: string, key: string, body: string, contentType: string): Promise<void> {
  await s3.send(new PutObjectCommand({ Bucket: bucket, Key: key, Body: body, ContentType: contentType }));
}

/** JSON lines text: one compact JSON value per line, newline-terminated. */
export function jsonLines(values: readonly unknown[]): string {
  return values.map((value) => `${JSON.stringify(value)}\n`).join("");
}

/**
 * Runs `handle` for each object of an S3 notification, one after another. Errors
 * propagate: the async invocation is retried, then recorded in the lake's failure queue.
 */
export async function forEachCreatedObject<T extends object>(
  event: S3Event,
  handle: (bucket: string, key: string) => Promise<T>,
  message: string,
  log: LogLine,
): Promise<T[]> {
  const outcomes: T[] = [];
  for (const record of event.Records) {
    const outcome = await handle(record.s3.bucket.name, decodeS3EventKey(record.s3.object.key));
    log({ level: "INFO", message, ...outcome });
    outcomes.push(outcome);
  }
  return outcomes;
}
