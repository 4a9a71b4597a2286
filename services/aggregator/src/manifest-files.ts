/**
 * Reads a COPY manifest and the staged objects it names, with COPY's semantics
 * (functions/lake-staging.ts parses both): a mandatory file that cannot be read fails the
 * manifest (staging marks every file mandatory), an optional one is skipped. Only objects
 * in the staged bucket are read: a manifest naming another bucket is refused by name.
 * Each read is bounded by the client's DATA_PATH_CLIENT_SETTINGS timeouts; `signal` only
 * stops reading further files once the shutdown deadline has passed.
 */
import { S3Client } from "@aws-sdk/client-s3";
import { readObjectText } from "../../../functions/lake-objects";
import { parseManifest, parseS3Url } from "../../../functions/lake-staging";
import { StagedRow, readStagedCsv } from "./staged-rows";
import { aborted } from "./store";

export interface StagedFile {
  readonly file: string;
  readonly rows: StagedRow[];
}

export interface ManifestFiles {
  readonly files: StagedFile[];
  /** Optional files that could not be read, as COPY skips them. */
  readonly skipped: string[];
}

export async function readManifestFiles(s3: S3Client, stagedBucket: string, manifestKey: string, signal?: AbortSignal): Promise<ManifestFiles> {
  const manifestUrl = `s3://${stagedBucket}/${manifestKey}`;
  const entries = parseManifest(await readObjectText(s3, stagedBucket, manifestKey), manifestUrl);
  const files: StagedFile[] = [];
  const skipped: string[] = [];
  for (const entry of entries) {
    if (signal?.aborted) throw aborted();
    const { bucket, key } = parseS3Url(entry.url);
    if (bucket !== stagedBucket) throw new Error(`${manifestUrl} names ${entry.url}, outside the staged bucket ${stagedBucket}`);
    let text: string;
    try {
      text = await readObjectText(s3, bucket, key);
    } catch (error) {
      if (entry.mandatory || signal?.aborted) {
        throw Object.assign(error as Error, { message: `mandatory file ${entry.url} of ${manifestUrl} cannot be read: ${(error as Error).name}: ${(error as Error).message}` });
      }
      skipped.push(entry.url);
      continue;
    }
    files.push({ file: entry.url, rows: readStagedCsv(text, entry.url) });
  }
  return { files, skipped };
}
