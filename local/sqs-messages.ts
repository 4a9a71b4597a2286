/**
 * Pure pieces of the local SQS server (local/sqs-server.ts) that concern one message:
 * the MD5 digests the SDK checks, message attribute validation, and which system and
 * message attributes a receive asks for. No I/O, no clock: the server passes `now`.
 */
import { createHash } from "crypto";

/** A message attribute as the JSON protocol carries it; BinaryValue is base64 on the wire. */
export interface MessageAttributeValue {
  readonly DataType: string;
  readonly StringValue?: string;
  readonly BinaryValue?: string;
}

export type MessageAttributes = Readonly<Record<string, MessageAttributeValue>>;

/** The system attributes this server reports on a received message. */
export const SUPPORTED_SYSTEM_ATTRIBUTES = ["ApproximateReceiveCount", "ApproximateFirstReceiveTimestamp", "SentTimestamp", "SenderId"] as const;
export type SystemAttributeName = (typeof SUPPORTED_SYSTEM_ATTRIBUTES)[number];

export function md5Hex(data: string | Buffer): string {
  return createHash("md5").update(data).digest("hex");
}

function lengthPrefixed(bytes: Buffer): Buffer {
  const length = Buffer.alloc(4);
  length.writeUInt32BE(bytes.length);
  return Buffer.concat([length, bytes]);
}

/** String and Number (and their custom labels, e.g. "Number.float") travel as strings, Binary as bytes. */
function isBinaryType(dataType: string): boolean {
  return dataType.split(".")[0] === "Binary";
}

/**
 * MD5OfMessageAttributes as SQS computes it: attributes sorted by name, each encoded as
 * length-prefixed name, length-prefixed data type, one transport byte (1 string, 2 binary)
 * and the length-prefixed value; the digest is over the concatenation.
 * https://docs.aws.amazon.com/AWSSimpleQueueService/latest/SQSDeveloperGuide/sqs-message-metadata.html#sqs-attributes-md5-message-digest-calculation
 */
export function md5OfMessageAttributes(attributes: MessageAttributes): string {
  const parts = Object.keys(attributes)
    .sort()
    .map((name) => {
      const { DataType, StringValue, BinaryValue } = attributes[name];
      const binary = isBinaryType(DataType);
      const value = binary ? Buffer.from(BinaryValue ?? "", "base64") : Buffer.from(StringValue ?? "", "utf8");
      return Buffer.concat([lengthPrefixed(Buffer.from(name, "utf8")), lengthPrefixed(Buffer.from(DataType, "utf8")), Buffer.from([binary ? 2 : 1]), lengthPrefixed(value)]);
    });
  return md5Hex(Buffer.concat(parts));
}

const ATTRIBUTE_NAME = /^(?!\.)(?!.*\.\.)(?!.*\.$)[A-Za-z0-9_.-]{1,256}$/;

/**
 * Why message attributes are not acceptable, or undefined when they are. The rules are
 * the developer guide's: at most 10, names of A-Za-z0-9 _ - . without leading, trailing
 * or doubled periods and not starting with "AWS." or "Amazon.", a data type, and the
 * value its type asks for.
 * https://docs.aws.amazon.com/AWSSimpleQueueService/latest/SQSDeveloperGuide/sqs-message-metadata.html
 */
export function messageAttributesProblem(attributes: MessageAttributes): string | undefined {
  const names = Object.keys(attributes);
  if (names.length > 10) return `Number of message attributes [${names.length}] exceeds the allowed maximum [10].`;
  for (const name of names) {
    if (!ATTRIBUTE_NAME.test(name) || /^(aws|amazon)\./i.test(name)) return `Message attribute name '${name}' is invalid.`;
    const { DataType, StringValue, BinaryValue } = attributes[name] ?? {};
    if (typeof DataType !== "string" || DataType === "") return `The message attribute '${name}' must contain a non-empty attribute type.`;
    const base = DataType.split(".")[0];
    if (base !== "String" && base !== "Number" && base !== "Binary") return `The type of message attribute '${name}' is invalid: ${DataType}.`;
    const hasValue = isBinaryType(DataType) ? typeof BinaryValue === "string" && BinaryValue !== "" : typeof StringValue === "string" && StringValue !== "";
    if (!hasValue) return `The message attribute '${name}' must contain a non-empty value of type '${DataType}'.`;
  }
  return undefined;
}

/** Bytes a message counts against MaximumMessageSize: body plus every attribute's name, type and value. */
export function messageSize(body: string, attributes: MessageAttributes): number {
  let size = Buffer.byteLength(body, "utf8");
  for (const [name, { DataType, StringValue, BinaryValue }] of Object.entries(attributes)) {
    size += Buffer.byteLength(name) + Buffer.byteLength(DataType);
    size += isBinaryType(DataType) ? Buffer.from(BinaryValue ?? "", "base64").length : Buffer.byteLength(StringValue ?? "");
  }
  return size;
}

/**
 * The system attributes a receive asks for, from the current MessageSystemAttributeNames
 * and the older AttributeNames together; "All" asks for every one.
 * https://docs.aws.amazon.com/AWSSimpleQueueService/latest/APIReference/API_ReceiveMessage.html
 */
export function requestedSystemAttributes(...lists: (readonly string[] | undefined)[]): Set<SystemAttributeName> {
  const names = lists.flatMap((list) => list ?? []);
  if (names.includes("All")) return new Set(SUPPORTED_SYSTEM_ATTRIBUTES);
  return new Set(SUPPORTED_SYSTEM_ATTRIBUTES.filter((name) => names.includes(name)));
}

/** The message attributes a receive asks for: "All" or ".*", exact names, or "prefix.*". */
export function selectMessageAttributes(attributes: MessageAttributes, requested: readonly string[] | undefined): MessageAttributes {
  const wanted = requested ?? [];
  const matches = (name: string) =>
    wanted.some((pattern) => pattern === "All" || pattern === ".*" || pattern === name || (pattern.endsWith(".*") && name.startsWith(pattern.slice(0, -1))));
  return Object.fromEntries(Object.entries(attributes).filter(([name]) => matches(name)));
}
