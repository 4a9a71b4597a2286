/**
 * What the end-to-end suites count: each event id in every store of the local data plane
 * (local/data-plane.ts), so "exactly once" is checked per id, not only as a total.
 */
import { ScanCommand } from "@aws-sdk/client-dynamodb";
import { CopyObjectCommand, S3Client } from "@aws-sdk/client-s3";
import { unmarshall } from "@aws-sdk/util-dynamodb";
import { listObjects, readObjectText } from "../../functions/lake-objects";
import { splitRows } from "../../functions/lake-transform";
import { LocalDataPlane } from "../../local/data-plane";

export async function allKeys(s3: S3Client, bucket: string, prefix: string): Promise<string[]> {
  return (await listObjects(s3, bucket, prefix)).map(({ key }) => key).sort();
}

/** How many times each id appears. */
export function tally(ids: readonly string[]): Map<string, number> {
  const counts = new Map<string, number>();
  for (const id of ids) counts.set(id, (counts.get(id) ?? 0) + 1);
  return counts;
}

/** Ids that appear other than exactly once, and ids expected but missing. */
export function notExactlyOnce(counts: ReadonlyMap<string, number>, expected: readonly string[]): { missing: string[]; repeated: string[]; unexpected: string[] } {
  const wanted = new Set(expected);
  return {
    missing: expected.filter((id) => !counts.has(id)),
    repeated: [...counts].filter(([, count]) => count > 1).map(([id]) => id),
    unexpected: [...counts.keys()].filter((id) => !wanted.has(id)),
  };
}

async function idsInObjects(plane: LocalDataPlane, bucket: string, prefix: string, idsOf: (text: string) => string[]): Promise<string[]> {
  const ids: string[] = [];
  for (const key of await allKeys(plane.clients.s3, bucket, prefix)) ids.push(...idsOf(await readObjectText(plane.clients.s3, bucket, key)));
  return ids;
}

/** The field of every row that is JSON; the others are in the quarantine, which the suites check on their own. */
const jsonField = (field: string) => (text: string) =>
  splitRows(text).flatMap((row) => {
    try {
      return [String(JSON.parse(row)[field])];
    } catch {
      return [];
    }
  });
/** Staged CSV: a header, then rows whose first field is the quoted event id. */
const csvEventIds = (text: string) => text.split("\n").slice(1).filter(Boolean).map((line) => JSON.parse(line.slice(0, line.indexOf('",') + 1)) as string);

export interface ZoneCounts {
  readonly speedLayer: Map<string, number>;
  readonly raw: Map<string, number>;
  readonly transformed: Map<string, number>;
  readonly staged: Map<string, number>;
  readonly warehouse: Map<string, number>;
}

/** Each event id's count in the speed layer, every lake zone and the warehouse. */
export async function countsPerZone(plane: LocalDataPlane): Promise<ZoneCounts> {
  const { names } = plane;
  const speedLayerIds: string[] = [];
  let start: Record<string, never> | undefined;
  do {
    const page = await plane.clients.dynamodb.send(new ScanCommand({ TableName: names.speedLayerTable, ExclusiveStartKey: start, ConsistentRead: true }));
    speedLayerIds.push(...(page.Items ?? []).map((item) => String(unmarshall(item).eventId)));
    start = page.LastEvaluatedKey as typeof start;
  } while (start);
  const warehouse = await plane.query<{ event_id: string }>("warehouse", "SELECT event_id FROM lake.events");
  return {
    speedLayer: tally(speedLayerIds),
    raw: tally([...(await idsInObjects(plane, names.rawBucket, "api/", jsonField("eventId"))), ...(await idsInObjects(plane, names.rawBucket, "stream/", jsonField("eventId")))]),
    transformed: tally(await idsInObjects(plane, names.transformedBucket, "clean/", jsonField("event_id"))),
    staged: tally(await idsInObjects(plane, names.stagedBucket, "events/", csvEventIds)),
    warehouse: tally(warehouse.map((row) => row.event_id)),
  };
}

/**
 * Every object under a prefix written again onto itself: S3 sends ObjectCreated:Copy for
 * each, which is how a repeated notification reaches the lake functions.
 */
export async function renotify(plane: LocalDataPlane, bucket: string, prefix: string): Promise<number> {
  const keys = await allKeys(plane.clients.s3, bucket, prefix);
  for (const key of keys) {
    await plane.clients.s3.send(new CopyObjectCommand({ Bucket: bucket, Key: key, CopySource: `${bucket}/${key}`, MetadataDirective: "REPLACE" }));
  }
  return keys.length;
}
