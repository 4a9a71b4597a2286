/**
 * The few S3 operations the ingestion and lake handlers share. Objects take the bucket's
 * default encryption (SSE-KMS with a bucket key), so no handler names a key.
 */
import { GetObjectCommand, ListObjectsV2Command, PutObjectCommand, S3Client } from "@aws-sdk/client-s3";
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

/** An object's text (gunzipped when gzip): what the loader reads a COPY manifest with. */
export async function readObjectText(s3: S3Client, bucket: string, key: string): Promise<string> {
  return decodeObjectText(await readObjectBytes(s3, bucket, key));
}

export async function writeObject(s3: S3Client, bucket: string, key: string, body: string, contentType: string): Promise<void> {
  await s3.send(new PutObjectCommand({ Bucket: bucket, Key: key, Body: body, ContentType: contentType }));
}

/** Every object under a prefix, all pages of ListObjectsV2, in S3's (key) order. */
export async function listObjects(s3: S3Client, bucket: string, prefix: string): Promise<{ key: string; lastModified?: Date }[]> {
  const objects: { key: string; lastModified?: Date }[] = [];
  let token: string | undefined;
  do {
    const page = await s3.send(new ListObjectsV2Command({ Bucket: bucket, Prefix: prefix, ContinuationToken: token }));
    for (const object of page.Contents ?? []) objects.push({ key: object.Key!, lastModified: object.LastModified });
    token = page.IsTruncated ? page.NextContinuationToken : undefined;
  } while (token !== undefined);
  return objects;
}

/** JSON lines text: one compact JSON value per line, newline-terminated. */
export function jsonLines(values: readonly unknown[]): string {
  return values.map((value) => `${JSON.stringify(value)}\n`).join("");
}

/**
 * Why an object holds no data to process, if it does not: creating a "folder" in the S3
 * console puts a zero-byte object whose key ends with "/", and it fires ObjectCreated:Put
 * like any upload; an empty upload is zero bytes too. Neither is a load unit.
 */
export function nothingToProcess(key: string, size: number | undefined): string | undefined {
  if (key.endsWith("/")) return 'a folder marker (key ends with "/")';
  if (size === 0) return "a zero-byte object";
  return undefined;
}

/**
 * Runs `handle` for each object of an S3 notification, one after another, except folder
 * markers and zero-byte objects, which are logged and skipped. Errors propagate: the
 * async invocation is retried, then recorded in the lake's failure queue.
 */
export async function forEachCreatedObject<T extends object>(
  event: S3Event,
  handlers: { handle: (bucket: string, key: string) => Promise<T>; skip: (key: string, reason: string) => T },
  message: string,
  log: LogLine,
): Promise<T[]> {
  const outcomes: T[] = [];
  for (const record of event.Records) {
    const key = decodeS3EventKey(record.s3.object.key);
    const skipped = nothingToProcess(key, record.s3.object.size);
    const outcome = skipped !== undefined ? handlers.skip(key, `${skipped}: nothing to process`) : await handlers.handle(record.s3.bucket.name, key);
    log({ level: "INFO", message: skipped !== undefined ? "Object skipped" : message, ...outcome });
    outcomes.push(outcome);
  }
  return outcomes;
}
