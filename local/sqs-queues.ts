/**
 * The queue model of the local SQS server (local/sqs-server.ts): queues, their
 * attributes, messages with visibility, receipt handles and redrive. Plain data and
 * functions; the clock is a `now` argument, so nothing here waits or does I/O.
 */
import { randomBytes, randomUUID } from "crypto";
import { MessageAttributes, md5Hex, md5OfMessageAttributes } from "./sqs-messages";

/** An error SQS defines, by the name the SDK raises (see ERROR_WIRE in sqs-server.ts). */
export type SqsErrorType =
  | "QueueDoesNotExist"
  | "QueueNameExists"
  | "ReceiptHandleIsInvalid"
  | "MessageNotInflight"
  | "InvalidParameterValue"
  | "MissingParameter"
  | "InvalidAttributeName"
  | "InvalidAttributeValue"
  | "EmptyBatchRequest"
  | "TooManyEntriesInBatchRequest"
  | "BatchEntryIdsNotDistinct"
  | "InvalidBatchEntryId"
  | "BatchRequestTooLong"
  | "UnsupportedOperation"
  | "InvalidAction";

/** Thrown by the model and the actions; the server turns it into the JSON protocol's error answer. Local code, never shipped. */
export class SqsError extends Error {
  constructor(
    readonly type: SqsErrorType,
    message: string,
  ) {
    super(message);
    this.name = type;
  }
}

export interface StoredMessage {
  readonly messageId: string;
  readonly body: string;
  readonly md5OfBody: string;
  readonly messageAttributes: MessageAttributes;
  readonly md5OfMessageAttributes?: string;
  readonly senderId: string;
  readonly sentAt: number;
  /** Epoch ms from which a receive may take it: after its delay, or when its visibility timeout ends. */
  visibleAt: number;
  receiveCount: number;
  firstReceivedAt?: number;
  /** The handle of the latest receive: only it deletes or changes visibility. */
  currentReceipt?: string;
}

export interface Queue {
  readonly name: string;
  readonly url: string;
  readonly arn: string;
  readonly createdAt: number;
  lastModifiedAt: number;
  /** Settable attributes, defaults filled in, as strings (the wire form). */
  attributes: Record<string, string>;
  /** Insertion order is send order, which receives follow (a standard queue only promises "best effort" order). */
  readonly messages: Map<string, StoredMessage>;
  /** Every receipt handle this queue issued, to the message it was issued for. */
  readonly issuedReceipts: Map<string, string>;
}

export interface RedrivePolicy {
  readonly deadLetterTargetArn: string;
  readonly maxReceiveCount: number;
}

/**
 * Defaults and ranges of the settable attributes, from the CreateQueue reference.
 * MaximumMessageSize defaults to 1 MiB since SQS raised the payload limit in 2025.
 * https://docs.aws.amazon.com/AWSSimpleQueueService/latest/APIReference/API_CreateQueue.html
 */
const INTEGER_ATTRIBUTES: Readonly<Record<string, { min: number; max: number; default?: number }>> = {
  DelaySeconds: { min: 0, max: 900, default: 0 },
  MaximumMessageSize: { min: 1024, max: 1_048_576, default: 1_048_576 },
  MessageRetentionPeriod: { min: 60, max: 1_209_600, default: 345_600 },
  ReceiveMessageWaitTimeSeconds: { min: 0, max: 20, default: 0 },
  VisibilityTimeout: { min: 0, max: 43_200, default: 30 },
  KmsDataKeyReusePeriodSeconds: { min: 60, max: 86_400 },
};
/** Accepted and echoed, not interpreted: this server does not encrypt or authorise. */
const OPAQUE_ATTRIBUTES = new Set(["KmsMasterKeyId", "Policy", "RedriveAllowPolicy", "SqsManagedSseEnabled"]);
const FIFO_ATTRIBUTES = new Set(["FifoQueue", "ContentBasedDeduplication", "DeduplicationScope", "FifoThroughputLimit"]);
/** Read-only attributes GetQueueAttributes computes. */
export const COMPUTED_ATTRIBUTES = [
  "QueueArn",
  "ApproximateNumberOfMessages",
  "ApproximateNumberOfMessagesNotVisible",
  "ApproximateNumberOfMessagesDelayed",
  "CreatedTimestamp",
  "LastModifiedTimestamp",
] as const;

export function isKnownAttributeName(name: string): boolean {
  return name === "All" || name === "RedrivePolicy" || name in INTEGER_ATTRIBUTES || OPAQUE_ATTRIBUTES.has(name) || (COMPUTED_ATTRIBUTES as readonly string[]).includes(name);
}

/** Queue names: 1 to 80 characters of A-Za-z0-9, hyphens and underscores (standard queues). */
export function validateQueueName(name: unknown): string {
  if (typeof name !== "string" || !/^[A-Za-z0-9_-]{1,80}$/.test(name)) {
    throw new SqsError("InvalidParameterValue", `Queue name ${JSON.stringify(name)} is invalid: use 1 to 80 characters of A-Z, a-z, 0-9, '-' and '_' (FIFO queues are not supported here).`);
  }
  return name;
}

export function parseRedrivePolicy(text: string): RedrivePolicy {
  let parsed: { deadLetterTargetArn?: unknown; maxReceiveCount?: unknown };
  try {
    parsed = JSON.parse(text);
  } catch {
    throw new SqsError("InvalidAttributeValue", `Invalid value for the parameter RedrivePolicy: not JSON: ${text}`);
  }
  const maxReceiveCount = Number(parsed.maxReceiveCount);
  if (typeof parsed.deadLetterTargetArn !== "string" || !/^arn:aws[a-z-]*:sqs:/.test(parsed.deadLetterTargetArn)) {
    throw new SqsError("InvalidAttributeValue", "Invalid value for the parameter RedrivePolicy: deadLetterTargetArn must be an SQS queue ARN.");
  }
  if (!Number.isInteger(maxReceiveCount) || maxReceiveCount < 1 || maxReceiveCount > 1000) {
    throw new SqsError("InvalidAttributeValue", "Invalid value for the parameter RedrivePolicy: maxReceiveCount must be an integer from 1 to 1000.");
  }
  return { deadLetterTargetArn: parsed.deadLetterTargetArn, maxReceiveCount };
}

/**
 * Settable attributes with defaults filled in, every value checked; a dead-letter target
 * must already exist, as SQS requires. `findByArn` resolves it.
 */
export function normaliseQueueAttributes(requested: Record<string, unknown> | undefined, findByArn: (arn: string) => Queue | undefined, base?: Record<string, string>): Record<string, string> {
  const attributes: Record<string, string> = base ? { ...base } : defaultAttributes();
  for (const [name, raw] of Object.entries(requested ?? {})) {
    const value = String(raw);
    if (FIFO_ATTRIBUTES.has(name)) {
      // "false" describes a standard queue, which is what this server makes.
      if (value === "false") continue;
      throw new SqsError("UnsupportedOperation", `Attribute ${name}=${value}: FIFO queues are not supported by this local server.`);
    }
    const range = INTEGER_ATTRIBUTES[name];
    if (range) {
      const number = Number(value);
      if (!/^\d+$/.test(value) || number < range.min || number > range.max) {
        throw new SqsError("InvalidAttributeValue", `Invalid value for the parameter ${name}: ${value} (an integer from ${range.min} to ${range.max}).`);
      }
      attributes[name] = String(number);
    } else if (name === "RedrivePolicy") {
      if (value === "") {
        delete attributes.RedrivePolicy;
        continue;
      }
      const policy = parseRedrivePolicy(value);
      if (!findByArn(policy.deadLetterTargetArn)) {
        throw new SqsError("InvalidAttributeValue", `Invalid value for the parameter RedrivePolicy. Reason: Dead letter target does not exist: ${policy.deadLetterTargetArn}.`);
      }
      attributes[name] = JSON.stringify(policy);
    } else if (OPAQUE_ATTRIBUTES.has(name)) {
      attributes[name] = value;
    } else {
      throw new SqsError("InvalidAttributeName", `Unknown or read-only attribute ${name}.`);
    }
  }
  return attributes;
}

function defaultAttributes(): Record<string, string> {
  return Object.fromEntries(Object.entries(INTEGER_ATTRIBUTES).flatMap(([name, range]) => (range.default === undefined ? [] : [[name, String(range.default)]])));
}

/** CreateQueue is idempotent only when every attribute equals the existing queue's. */
export function sameAttributes(a: Record<string, string>, b: Record<string, string>): boolean {
  const names = new Set([...Object.keys(a), ...Object.keys(b)]);
  return [...names].every((name) => a[name] === b[name]);
}

export function newQueue(name: string, url: string, arn: string, attributes: Record<string, string>, now: number): Queue {
  return { name, url, arn, createdAt: now, lastModifiedAt: now, attributes, messages: new Map(), issuedReceipts: new Map() };
}

export function integerAttribute(queue: Queue, name: string): number {
  return Number(queue.attributes[name]);
}

export function redrivePolicyOf(queue: Queue): RedrivePolicy | undefined {
  const text = queue.attributes.RedrivePolicy;
  return text === undefined ? undefined : parseRedrivePolicy(text);
}

export function newMessage(body: string, messageAttributes: MessageAttributes, senderId: string, delaySeconds: number, now: number): StoredMessage {
  const hasAttributes = Object.keys(messageAttributes).length > 0;
  return {
    messageId: randomUUID(),
    body,
    md5OfBody: md5Hex(body),
    messageAttributes,
    md5OfMessageAttributes: hasAttributes ? md5OfMessageAttributes(messageAttributes) : undefined,
    senderId,
    sentAt: now,
    visibleAt: now + delaySeconds * 1000,
    receiveCount: 0,
  };
}

/** SQS deletes messages older than the queue's MessageRetentionPeriod. */
export function dropExpiredMessages(queue: Queue, now: number): void {
  const retentionMs = integerAttribute(queue, "MessageRetentionPeriod") * 1000;
  for (const [id, message] of queue.messages) {
    if (message.sentAt + retentionMs <= now) queue.messages.delete(id);
  }
}

export interface QueueCounts {
  readonly visible: number;
  readonly inFlight: number;
  readonly delayed: number;
}

export function countMessages(queue: Queue, now: number): QueueCounts {
  let visible = 0;
  let inFlight = 0;
  let delayed = 0;
  for (const message of queue.messages.values()) {
    if (message.visibleAt <= now) visible++;
    else if (message.receiveCount > 0) inFlight++;
    else delayed++;
  }
  return { visible, inFlight, delayed };
}

/** When the next hidden message becomes visible, or undefined when none is hidden. */
export function nextVisibleAt(queue: Queue, now: number): number | undefined {
  let next: number | undefined;
  for (const message of queue.messages.values()) {
    if (message.visibleAt > now && (next === undefined || message.visibleAt < next)) next = message.visibleAt;
  }
  return next;
}

/**
 * Receives up to `max` visible messages, hiding each for `visibilityTimeoutSeconds` under a
 * fresh receipt handle. A message whose receive count already reached the redrive policy's
 * maxReceiveCount moves to the dead-letter queue instead of being returned, as SQS does
 * when "the ReceiveCount for a message exceeds the maxReceiveCount".
 * https://docs.aws.amazon.com/AWSSimpleQueueService/latest/SQSDeveloperGuide/sqs-dead-letter-queues.html
 * Returns the received messages and the dead-letter queues that gained messages.
 */
export function receiveMessages(
  queue: Queue,
  max: number,
  visibilityTimeoutSeconds: number,
  now: number,
  findByArn: (arn: string) => Queue | undefined,
): { received: StoredMessage[]; deadLettered: Queue[] } {
  dropExpiredMessages(queue, now);
  const policy = redrivePolicyOf(queue);
  const deadLetterQueue = policy ? findByArn(policy.deadLetterTargetArn) : undefined;
  const received: StoredMessage[] = [];
  let movedAny = false;
  for (const message of queue.messages.values()) {
    if (received.length >= max) break;
    if (message.visibleAt > now) continue;
    if (policy && deadLetterQueue && deadLetterQueue !== queue && message.receiveCount >= policy.maxReceiveCount) {
      moveToDeadLetterQueue(queue, deadLetterQueue, message, now);
      movedAny = true;
      continue;
    }
    const receipt = randomBytes(24).toString("base64url");
    message.receiveCount++;
    message.firstReceivedAt ??= now;
    message.visibleAt = now + visibilityTimeoutSeconds * 1000;
    message.currentReceipt = receipt;
    queue.issuedReceipts.set(receipt, message.messageId);
    received.push(message);
  }
  return { received, deadLettered: movedAny && deadLetterQueue ? [deadLetterQueue] : [] };
}

/** The message keeps its id, body, sent time and receive count ("across all queues"), and is visible at once. */
function moveToDeadLetterQueue(source: Queue, target: Queue, message: StoredMessage, now: number): void {
  source.messages.delete(message.messageId);
  target.messages.set(message.messageId, { ...message, visibleAt: now, currentReceipt: undefined });
}

/** The message a handle was issued for; a handle this queue never issued is invalid. */
function messageIdOfReceipt(queue: Queue, receiptHandle: unknown): string {
  const messageId = typeof receiptHandle === "string" ? queue.issuedReceipts.get(receiptHandle) : undefined;
  if (messageId === undefined) throw new SqsError("ReceiptHandleIsInvalid", `The input receipt handle "${String(receiptHandle)}" is not a valid receipt handle.`);
  return messageId;
}

/**
 * Deletes the message of the latest receive. An older handle of the same message, or a
 * handle of a message already deleted, succeeds without deleting, as the reference says:
 * "If you use an old ReceiptHandle, the request will succeed, but the message might not be deleted."
 * https://docs.aws.amazon.com/AWSSimpleQueueService/latest/APIReference/API_DeleteMessage.html
 */
export function deleteMessage(queue: Queue, receiptHandle: unknown): void {
  const messageId = messageIdOfReceipt(queue, receiptHandle);
  const message = queue.messages.get(messageId);
  if (message && message.currentReceipt === receiptHandle) queue.messages.delete(messageId);
}

/**
 * Restarts the visibility timeout of a message in flight from now; 0 makes it visible at
 * once. A message no longer in flight cannot change (MessageNotInflight).
 * https://docs.aws.amazon.com/AWSSimpleQueueService/latest/APIReference/API_ChangeMessageVisibility.html
 */
export function changeVisibility(queue: Queue, receiptHandle: unknown, visibilityTimeoutSeconds: number, now: number): void {
  const messageId = messageIdOfReceipt(queue, receiptHandle);
  const message = queue.messages.get(messageId);
  if (!message || message.currentReceipt !== receiptHandle || message.visibleAt <= now) {
    throw new SqsError("MessageNotInflight", "The message referred to isn't in flight.");
  }
  message.visibleAt = now + visibilityTimeoutSeconds * 1000;
}
