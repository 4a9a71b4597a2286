/**
 * What an SQS message of the aggregator's queue announces. The queue is subscribed to the
 * lake's events topic with raw message delivery, so the body is the S3 event notification
 * S3 published to SNS (https://docs.aws.amazon.com/AmazonS3/latest/userguide/notification-content-structure.html);
 * an SNS envelope (`{"Type":"Notification","Message":"<s3 event json>"}`, the body without
 * raw delivery, https://docs.aws.amazon.com/sns/latest/dg/sns-message-and-json-formats.html)
 * is accepted too. S3's `s3:TestEvent` (sent when the notification is saved) and objects
 * that are not COPY manifests are ignored with a reason. A body that is none of these
 * throws a BadMessage: it cannot succeed on a retry, so it is left on the queue and the
 * redrive keeps it in the DLQ for an operator, instead of being deleted unread.
 */
import { namedError } from "../../../functions/errors";
import { MANIFEST_PREFIX, MANIFEST_SUFFIX, decodeS3EventKey } from "../../../functions/lake-layout";

export interface ManifestRef {
  readonly bucket: string;
  readonly key: string;
}

export interface IgnoredObject {
  readonly key: string;
  readonly reason: string;
}

export interface MessageContent {
  readonly manifests: ManifestRef[];
  readonly ignored: IgnoredObject[];
  /** Set when the whole message announces nothing (an s3:TestEvent). */
  readonly ignoredMessage?: string;
}

export const badMessage = (message: string) => namedError("BadMessage", message, {});

function parseJson(text: string, what: string): unknown {
  try {
    return JSON.parse(text);
  } catch (error) {
    throw badMessage(`${what} is not JSON: ${(error as Error).message}`);
  }
}

const isObject = (value: unknown): value is Record<string, unknown> => typeof value === "object" && value !== null && !Array.isArray(value);

/** The S3 event a body carries: the body itself (raw delivery) or the Message of an SNS envelope. */
export function s3EventOf(body: string): Record<string, unknown> {
  const parsed = parseJson(body, "the message body");
  if (!isObject(parsed)) throw badMessage("the message body is not a JSON object");
  if (parsed.Type === undefined) return parsed;
  if (parsed.Type !== "Notification" || typeof parsed.Message !== "string") {
    throw badMessage(`the message body is an SNS message of type ${JSON.stringify(parsed.Type)} without a Message string, not a Notification`);
  }
  const inner = parseJson(parsed.Message, "the SNS notification's Message");
  if (!isObject(inner)) throw badMessage("the SNS notification's Message is not a JSON object");
  return inner;
}

/** Why an object of a record is not a manifest to apply, or undefined when it is one. */
export function notAManifest(eventName: string, stagedBucket: string, bucket: string, key: string): string | undefined {
  if (!eventName.startsWith("ObjectCreated:")) return `the event is ${eventName}, not an object creation`;
  if (bucket !== stagedBucket) return `the object is in bucket ${bucket}, not the staged bucket ${stagedBucket}`;
  if (!key.startsWith(MANIFEST_PREFIX) || !key.endsWith(MANIFEST_SUFFIX)) return `not a COPY manifest (${MANIFEST_PREFIX}…${MANIFEST_SUFFIX})`;
  return undefined;
}

export function parseMessage(body: string, stagedBucket: string): MessageContent {
  const event = s3EventOf(body);
  if (event.Event === "s3:TestEvent") return { manifests: [], ignored: [], ignoredMessage: "an s3:TestEvent (S3 checks the destination when a notification is saved)" };
  if (!Array.isArray(event.Records)) throw badMessage("the S3 event has no Records list");
  const manifests: ManifestRef[] = [];
  const ignored: IgnoredObject[] = [];
  event.Records.forEach((record: unknown, index) => {
    const s3 = isObject(record) && isObject(record.s3) ? record.s3 : undefined;
    const bucket = isObject(s3?.bucket) ? s3.bucket.name : undefined;
    const key = isObject(s3?.object) ? s3.object.key : undefined;
    const eventName = isObject(record) ? record.eventName : undefined;
    if (typeof bucket !== "string" || typeof key !== "string" || typeof eventName !== "string") {
      throw badMessage(`record ${index + 1} of the S3 event has no eventName, s3.bucket.name or s3.object.key`);
    }
    const decodedKey = decodeS3EventKey(key);
    const reason = notAManifest(eventName, stagedBucket, bucket, decodedKey);
    if (reason === undefined) manifests.push({ bucket, key: decodedKey });
    else ignored.push({ key: decodedKey, reason });
  });
  return { manifests, ignored };
}
