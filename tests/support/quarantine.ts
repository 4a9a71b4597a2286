/** Reading the quarantine back in tests: every record under a prefix of a bucket, in key then line order. */
import { S3Client } from "@aws-sdk/client-s3";
import type { QuarantinedRecord } from "../../functions/quarantine";
import { listKeys, readText } from "./aws-emulators";

export async function quarantinedUnder(s3: S3Client, bucket: string, prefix: string): Promise<QuarantinedRecord[]> {
  const records: QuarantinedRecord[] = [];
  for (const key of await listKeys(s3, bucket, prefix)) {
    const lines = (await readText(s3, bucket, key)).split("\n").filter((line) => line.length > 0);
    records.push(...lines.map((line) => JSON.parse(line) as QuarantinedRecord));
  }
  return records;
}

/** A quarantine store for handler tests that collects the metric documents instead of printing them. */
export function testQuarantine(s3: S3Client, bucket: string, functionName: string, metrics: Record<string, unknown>[] = []) {
  return { s3, bucket, functionName, functionVersion: `${functionName}:$LATEST`, metric: (document: Record<string, unknown>) => void metrics.push(document) };
}

/** The records of the quarantine objects a handler's log says it wrote ("Records quarantined" lines). */
export async function quarantinedIn(s3: S3Client, bucket: string, logged: readonly Record<string, unknown>[]): Promise<QuarantinedRecord[]> {
  const keys = logged.filter((entry) => entry.message === "Records quarantined").map((entry) => String(entry.key));
  const records: QuarantinedRecord[] = [];
  for (const key of keys) records.push(...(await quarantinedUnder(s3, bucket, key)));
  return records;
}
