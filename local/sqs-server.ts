/**
 * A local SQS server speaking the AWS JSON 1.0 protocol, for the local data plane and the
 * end-to-end tests: the subset of SQS the pipeline uses, standard queues only.
 *
 *   const sqs = await startSqsServer();            // http://127.0.0.1:<port>
 *   new SQSClient({ region: "us-east-1", endpoint: sqs.endpoint, credentials });
 *   await sqs.stop();                              // ends long polls, closes every socket
 *
 * Requests are POSTs with `X-Amz-Target: AmazonSQS.<Action>` and a JSON body, on any path
 * (the SDK posts to the QueueUrl). Queue URLs are `http://<host>:<port>/<accountId>/<name>`,
 * ARNs `arn:aws:sqs:<region>:<accountId>:<name>`.
 *
 * Actions: CreateQueue, GetQueueUrl, GetQueueAttributes, SetQueueAttributes, ListQueues,
 * DeleteQueue, PurgeQueue, SendMessage, SendMessageBatch, ReceiveMessage, DeleteMessage,
 * DeleteMessageBatch, ChangeMessageVisibility. Anything else answers UnsupportedOperation
 * naming the action. Not modelled: FIFO queues, tags, permissions, KMS (KmsMasterKeyId is
 * echoed only), PurgeQueue's 60-second rate limit, message move tasks, real authentication.
 *
 * Why not sqslite or ElasticMQ: sqslite speaks only the query protocol, which SDK v3 no
 * longer sends, and issues one receipt handle per receive; ElasticMQ needs a JVM.
 */
import * as http from "http";
import type { AddressInfo } from "net";
import { randomUUID } from "crypto";
import {
  MessageAttributes,
  SystemAttributeName,
  messageAttributesProblem,
  messageSize,
  requestedSystemAttributes,
  selectMessageAttributes,
} from "./sqs-messages";
import {
  COMPUTED_ATTRIBUTES,
  Queue,
  SqsError,
  SqsErrorType,
  StoredMessage,
  changeVisibility,
  countMessages,
  deleteMessage,
  dropExpiredMessages,
  integerAttribute,
  isKnownAttributeName,
  newMessage,
  newQueue,
  nextVisibleAt,
  normaliseQueueAttributes,
  receiveMessages,
  sameAttributes,
  validateQueueName,
} from "./sqs-queues";

export interface LocalSqs {
  /** e.g. "http://127.0.0.1:41234" */
  readonly endpoint: string;
  stop(): Promise<void>;
}

export interface SqsServerOptions {
  /** Interface to listen on and host of the queue URLs. @default "127.0.0.1" */
  host?: string;
  /** @default "000000000000" */
  accountId?: string;
  /** @default "us-east-1" */
  region?: string;
}

/**
 * How each error travels: the query-compatible code in `x-amzn-query-error` (which the SDK
 * reads first, so it must match the model's awsQueryError trait) and the HTTP status, both
 * as @aws-sdk/client-sqs 3.1169 models them. The JSON error answer is documented at
 * https://docs.aws.amazon.com/AWSSimpleQueueService/latest/SQSDeveloperGuide/sqs-json-api-responses.html
 */
const ERROR_WIRE: Readonly<Record<SqsErrorType, { queryCode: string; status: number }>> = {
  QueueDoesNotExist: { queryCode: "AWS.SimpleQueueService.NonExistentQueue", status: 400 },
  QueueNameExists: { queryCode: "QueueAlreadyExists", status: 400 },
  ReceiptHandleIsInvalid: { queryCode: "ReceiptHandleIsInvalid", status: 404 },
  MessageNotInflight: { queryCode: "AWS.SimpleQueueService.MessageNotInflight", status: 400 },
  InvalidParameterValue: { queryCode: "InvalidParameterValue", status: 400 },
  MissingParameter: { queryCode: "MissingParameter", status: 400 },
  InvalidAttributeName: { queryCode: "InvalidAttributeName", status: 400 },
  InvalidAttributeValue: { queryCode: "InvalidAttributeValue", status: 400 },
  EmptyBatchRequest: { queryCode: "AWS.SimpleQueueService.EmptyBatchRequest", status: 400 },
  TooManyEntriesInBatchRequest: { queryCode: "AWS.SimpleQueueService.TooManyEntriesInBatchRequest", status: 400 },
  BatchEntryIdsNotDistinct: { queryCode: "AWS.SimpleQueueService.BatchEntryIdsNotDistinct", status: 400 },
  InvalidBatchEntryId: { queryCode: "AWS.SimpleQueueService.InvalidBatchEntryId", status: 400 },
  BatchRequestTooLong: { queryCode: "AWS.SimpleQueueService.BatchRequestTooLong", status: 400 },
  UnsupportedOperation: { queryCode: "AWS.SimpleQueueService.UnsupportedOperation", status: 400 },
  InvalidAction: { queryCode: "InvalidAction", status: 400 },
};

const JSON_CONTENT_TYPE = "application/x-amz-json-1.0";
const TARGET_PREFIX = "AmazonSQS.";
/** A request body above this is refused before parsing: ten 1 MiB messages plus JSON overhead. */
const MAX_REQUEST_BYTES = 11 * 1024 * 1024;
/** How long stop() waits for answers in flight before it destroys their sockets. */
const STOP_GRACE_MS = 1_000;

type Input = Record<string, unknown>;
type Output = Record<string, unknown>;

interface Server {
  readonly queues: Map<string, Queue>;
  readonly waiters: Set<LongPoll>;
  /** Responses not yet closed, so that stop() lets their answers reach the client before closing sockets. */
  readonly openResponses: Set<http.ServerResponse>;
  readonly accountId: string;
  readonly region: string;
  baseUrl: string;
  stopping: boolean;
}

/** A ReceiveMessage waiting for a message: woken by sends and by a timer, never by polling. */
interface LongPoll {
  readonly queueName: string;
  /** Tries to receive; answers and unregisters when it got messages or its wait ended. */
  wake(): void;
  /** Answers with no messages now (stop, queue deleted). */
  end(): void;
  /** The client went away: unregister, receive nothing for it. */
  cancel(): void;
}

export async function startSqsServer(options: SqsServerOptions = {}): Promise<LocalSqs> {
  const host = options.host ?? "127.0.0.1";
  const state: Server = { queues: new Map(), waiters: new Set(), openResponses: new Set(), accountId: options.accountId ?? "000000000000", region: options.region ?? "us-east-1", baseUrl: "", stopping: false };
  const server = http.createServer((request, response) => void handleRequest(state, request, response));
  // Long polls last up to 20 s; the default request timeouts must not cut them.
  server.requestTimeout = 0;
  server.keepAliveTimeout = 5_000;
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(0, host, () => resolve());
  });
  const { port } = server.address() as AddressInfo;
  state.baseUrl = `http://${host}:${port}`;
  return { endpoint: state.baseUrl, stop: () => stopServer(state, server) };
}

async function stopServer(state: Server, server: http.Server): Promise<void> {
  if (state.stopping) return;
  state.stopping = true;
  const closed = new Promise<void>((resolve) => server.close(() => resolve()));
  for (const waiter of [...state.waiters]) waiter.end();
  // Let the answers in flight (the ended long polls among them) reach their clients, but
  // no longer than a moment: then no socket may keep the server open.
  const answered = Promise.all([...state.openResponses].map((response) => new Promise((resolve) => response.once("close", resolve))));
  await Promise.race([answered, new Promise((resolve) => setTimeout(resolve, STOP_GRACE_MS).unref())]);
  server.closeAllConnections();
  await closed;
}

async function handleRequest(state: Server, request: http.IncomingMessage, response: http.ServerResponse): Promise<void> {
  const requestId = randomUUID();
  state.openResponses.add(response);
  response.once("close", () => state.openResponses.delete(response));
  const answer = (status: number, body: Output, headers: Record<string, string> = {}) => {
    // A client that went away (an abandoned long poll) gets nothing.
    if (response.headersSent || response.destroyed || !response.socket || response.socket.destroyed) return;
    response.writeHead(status, {
      "content-type": JSON_CONTENT_TYPE,
      "x-amzn-requestid": requestId,
      ...(state.stopping ? { connection: "close" } : {}),
      ...headers,
    });
    response.end(JSON.stringify(body));
  };
  try {
    const input = await readJsonBody(request);
    const output = await dispatch(state, request, response, input);
    answer(200, output);
  } catch (error) {
    const fault = error instanceof SqsError ? error : new SqsError("InvalidParameterValue", `Internal error in the local SQS server: ${String(error)}`);
    const wire = ERROR_WIRE[fault.type];
    answer(wire.status, { __type: `com.amazonaws.sqs#${fault.type}`, message: fault.message }, { "x-amzn-query-error": `${wire.queryCode};Sender` });
  }
}

function readJsonBody(request: http.IncomingMessage): Promise<Input> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    request.on("data", (chunk: Buffer) => {
      size += chunk.length;
      if (size <= MAX_REQUEST_BYTES) chunks.push(chunk);
    });
    request.on("error", reject);
    request.on("end", () => {
      if (size > MAX_REQUEST_BYTES) return reject(new SqsError("InvalidParameterValue", `Request body of ${size} bytes is too large.`));
      const text = Buffer.concat(chunks).toString("utf8");
      if (text.trim() === "") return resolve({});
      try {
        const parsed: unknown = JSON.parse(text);
        if (parsed === null || typeof parsed !== "object" || Array.isArray(parsed)) throw new Error("not an object");
        resolve(parsed as Input);
      } catch {
        reject(new SqsError("InvalidParameterValue", "The request body is not a JSON object; this server speaks only the AWS JSON 1.0 protocol."));
      }
    });
  });
}

type Action = (state: Server, input: Input, context: { request: http.IncomingMessage; response: http.ServerResponse }) => Output | Promise<Output>;

const ACTIONS: Readonly<Record<string, Action>> = {
  CreateQueue: createQueue,
  GetQueueUrl: getQueueUrl,
  GetQueueAttributes: getQueueAttributes,
  SetQueueAttributes: setQueueAttributes,
  ListQueues: listQueues,
  DeleteQueue: deleteQueue,
  PurgeQueue: purgeQueue,
  SendMessage: sendMessage,
  SendMessageBatch: sendMessageBatch,
  ReceiveMessage: receiveMessage,
  DeleteMessage: deleteOne,
  DeleteMessageBatch: deleteMessageBatch,
  ChangeMessageVisibility: changeMessageVisibility,
};

function dispatch(state: Server, request: http.IncomingMessage, response: http.ServerResponse, input: Input): Output | Promise<Output> {
  const target = request.headers["x-amz-target"];
  if (request.method !== "POST" || typeof target !== "string" || !target.startsWith(TARGET_PREFIX)) {
    throw new SqsError("InvalidAction", `Expected a POST with X-Amz-Target: AmazonSQS.<Action> (AWS JSON 1.0 protocol); got ${request.method} with X-Amz-Target ${JSON.stringify(target)}.`);
  }
  const actionName = target.slice(TARGET_PREFIX.length);
  const action = ACTIONS[actionName];
  if (!action) throw new SqsError("UnsupportedOperation", `The local SQS server does not support the action ${actionName}; it supports ${Object.keys(ACTIONS).join(", ")}.`);
  return action(state, input, { request, response });
}

// ---- input helpers ----

function requiredString(input: Input, name: string): string {
  const value = input[name];
  if (typeof value !== "string" || value === "") throw new SqsError("MissingParameter", `The request must contain the parameter ${name}.`);
  return value;
}

/** An optional integer parameter within [min, max]; the SDK sends numbers, older clients strings. */
function optionalInteger(input: Input, name: string, min: number, max: number): number | undefined {
  const raw = input[name];
  if (raw === undefined || raw === null) return undefined;
  const value = Number(raw);
  if (!Number.isInteger(value) || value < min || value > max) {
    throw new SqsError("InvalidParameterValue", `Value ${JSON.stringify(raw)} for parameter ${name} is invalid. Reason: must be an integer from ${min} to ${max}.`);
  }
  return value;
}

function optionalStringList(input: Input, name: string): string[] | undefined {
  const value = input[name];
  if (value === undefined || value === null) return undefined;
  if (!Array.isArray(value) || !value.every((item) => typeof item === "string")) throw new SqsError("InvalidParameterValue", `Parameter ${name} must be a list of strings.`);
  return value;
}

function queueUrlOf(state: Server, name: string): string {
  return `${state.baseUrl}/${state.accountId}/${name}`;
}

function queueArnOf(state: Server, name: string): string {
  return `arn:aws:sqs:${state.region}:${state.accountId}:${name}`;
}

function findByArn(state: Server): (arn: string) => Queue | undefined {
  return (arn) => [...state.queues.values()].find((queue) => queue.arn === arn);
}

function queueNotFound(): SqsError {
  return new SqsError("QueueDoesNotExist", "The specified queue does not exist.");
}

/** The queue a QueueUrl names: the last path segment, under this server's account. Host and port do not matter (a proxy may sit in front). */
function queueOf(state: Server, input: Input): Queue {
  const queueUrl = requiredString(input, "QueueUrl");
  let segments: string[];
  try {
    segments = new URL(queueUrl).pathname.split("/").filter((segment) => segment !== "");
  } catch {
    throw new SqsError("InvalidAction", `The QueueUrl ${queueUrl} is not a URL.`);
  }
  const [account, name] = segments.slice(-2);
  const queue = account === state.accountId && name !== undefined ? state.queues.get(name) : undefined;
  if (!queue) throw queueNotFound();
  return queue;
}

/** The caller's access key id, from the SigV4 Authorization header, stands in for the IAM user id SQS reports as SenderId. */
function senderIdOf(state: Server, request: http.IncomingMessage): string {
  const match = /Credential=([^/,\s]+)/.exec(request.headers.authorization ?? "");
  return match?.[1] ?? state.accountId;
}

/** Wakes the long polls of a queue, after anything that can make a message visible. */
function notifyQueue(state: Server, queueName: string): void {
  for (const waiter of [...state.waiters]) if (waiter.queueName === queueName) waiter.wake();
}

// ---- queue actions ----

function createQueue(state: Server, input: Input): Output {
  const name = validateQueueName(input.QueueName);
  const attributes = normaliseQueueAttributes(input.Attributes as Record<string, unknown> | undefined, findByArn(state));
  const existing = state.queues.get(name);
  if (existing) {
    // https://docs.aws.amazon.com/AWSSimpleQueueService/latest/APIReference/API_CreateQueue.html: same name and
    // attributes return the existing URL; different attribute values are an error.
    if (!sameAttributes(existing.attributes, attributes)) throw new SqsError("QueueNameExists", `A queue already exists with the same name ${name} and different attributes.`);
    return { QueueUrl: existing.url };
  }
  const queue = newQueue(name, queueUrlOf(state, name), queueArnOf(state, name), attributes, Date.now());
  state.queues.set(name, queue);
  return { QueueUrl: queue.url };
}

function getQueueUrl(state: Server, input: Input): Output {
  const name = requiredString(input, "QueueName");
  const owner = input.QueueOwnerAWSAccountId;
  const queue = owner === undefined || owner === state.accountId ? state.queues.get(name) : undefined;
  if (!queue) throw queueNotFound();
  return { QueueUrl: queue.url };
}

function getQueueAttributes(state: Server, input: Input): Output {
  const queue = queueOf(state, input);
  const requested = optionalStringList(input, "AttributeNames") ?? [];
  const unknown = requested.find((name) => !isKnownAttributeName(name));
  if (unknown !== undefined) throw new SqsError("InvalidAttributeName", `Unknown Attribute ${unknown}.`);
  const all = queueAttributesNow(state, queue);
  const wanted = requested.includes("All") ? Object.keys(all) : requested;
  const selected = Object.fromEntries(wanted.filter((name) => all[name] !== undefined).map((name) => [name, all[name]]));
  return Object.keys(selected).length > 0 ? { Attributes: selected } : {};
}

function queueAttributesNow(state: Server, queue: Queue): Record<string, string> {
  const now = Date.now();
  dropExpiredMessages(queue, now);
  const counts = countMessages(queue, now);
  const computed: Record<(typeof COMPUTED_ATTRIBUTES)[number], string> = {
    QueueArn: queue.arn,
    ApproximateNumberOfMessages: String(counts.visible),
    ApproximateNumberOfMessagesNotVisible: String(counts.inFlight),
    ApproximateNumberOfMessagesDelayed: String(counts.delayed),
    CreatedTimestamp: String(Math.floor(queue.createdAt / 1000)),
    LastModifiedTimestamp: String(Math.floor(queue.lastModifiedAt / 1000)),
  };
  return { ...queue.attributes, ...computed };
}

function setQueueAttributes(state: Server, input: Input): Output {
  const queue = queueOf(state, input);
  queue.attributes = normaliseQueueAttributes(input.Attributes as Record<string, unknown> | undefined, findByArn(state), queue.attributes);
  queue.lastModifiedAt = Date.now();
  notifyQueue(state, queue.name);
  return {};
}

function listQueues(state: Server, input: Input): Output {
  const prefix = typeof input.QueueNamePrefix === "string" ? input.QueueNamePrefix : "";
  const maxResults = optionalInteger(input, "MaxResults", 1, 1000);
  const start = typeof input.NextToken === "string" ? Number(Buffer.from(input.NextToken, "base64url").toString()) || 0 : 0;
  const urls = [...state.queues.values()].filter((queue) => queue.name.startsWith(prefix)).map((queue) => queue.url).sort();
  const page = maxResults === undefined ? urls.slice(start) : urls.slice(start, start + maxResults);
  const next = maxResults !== undefined && start + maxResults < urls.length ? Buffer.from(String(start + maxResults)).toString("base64url") : undefined;
  return { ...(page.length > 0 ? { QueueUrls: page } : {}), ...(next ? { NextToken: next } : {}) };
}

function deleteQueue(state: Server, input: Input): Output {
  const queue = queueOf(state, input);
  state.queues.delete(queue.name);
  for (const waiter of [...state.waiters]) if (waiter.queueName === queue.name) waiter.end();
  return {};
}

function purgeQueue(state: Server, input: Input): Output {
  const queue = queueOf(state, input);
  queue.messages.clear();
  queue.issuedReceipts.clear();
  return {};
}

// ---- sending ----

interface SendInput {
  readonly body: string;
  readonly attributes: MessageAttributes;
  readonly delaySeconds: number;
}

/** A send's parameters, checked as SendMessage checks them; the thrown error is the entry's failure in a batch. */
function parseSend(queue: Queue, input: Input): SendInput {
  const body = input.MessageBody;
  if (typeof body !== "string" || body === "") throw new SqsError("MissingParameter", "The request must contain the parameter MessageBody.");
  const attributes = (input.MessageAttributes ?? {}) as MessageAttributes;
  const problem = messageAttributesProblem(attributes);
  if (problem) throw new SqsError("InvalidParameterValue", problem);
  const limit = integerAttribute(queue, "MaximumMessageSize");
  const size = messageSize(body, attributes);
  if (size > limit) throw new SqsError("InvalidParameterValue", `One or more parameters are invalid. Reason: Message must be shorter than ${limit} bytes (this one has ${size}).`);
  const delaySeconds = optionalInteger(input, "DelaySeconds", 0, 900) ?? integerAttribute(queue, "DelaySeconds");
  return { body, attributes, delaySeconds };
}

function enqueue(queue: Queue, send: SendInput, senderId: string): StoredMessage {
  const message = newMessage(send.body, send.attributes, senderId, send.delaySeconds, Date.now());
  queue.messages.set(message.messageId, message);
  return message;
}

function sendResult(message: StoredMessage): Output {
  return {
    MessageId: message.messageId,
    MD5OfMessageBody: message.md5OfBody,
    ...(message.md5OfMessageAttributes ? { MD5OfMessageAttributes: message.md5OfMessageAttributes } : {}),
  };
}

function sendMessage(state: Server, input: Input, { request }: { request: http.IncomingMessage }): Output {
  const queue = queueOf(state, input);
  const message = enqueue(queue, parseSend(queue, input), senderIdOf(state, request));
  notifyQueue(state, queue.name);
  return sendResult(message);
}

/**
 * Checks a batch as a whole, as the batch actions do: 1 to 10 entries, distinct Ids of up
 * to 80 alphanumerics, hyphens and underscores.
 * https://docs.aws.amazon.com/AWSSimpleQueueService/latest/APIReference/API_SendMessageBatch.html
 */
function batchEntries(input: Input): Input[] {
  const entries = input.Entries;
  if (!Array.isArray(entries) || entries.length === 0) throw new SqsError("EmptyBatchRequest", "There should be at least one entry in the request.");
  if (entries.length > 10) throw new SqsError("TooManyEntriesInBatchRequest", `Maximum number of entries per request are 10. You have sent ${entries.length}.`);
  const ids = entries.map((entry: Input) => entry?.Id);
  const badId = ids.find((id) => typeof id !== "string" || !/^[A-Za-z0-9_-]{1,80}$/.test(id));
  if (badId !== undefined) throw new SqsError("InvalidBatchEntryId", `A batch entry id can only contain alphanumeric characters, hyphens and underscores, up to 80: ${JSON.stringify(badId)}.`);
  if (new Set(ids).size !== ids.length) throw new SqsError("BatchEntryIdsNotDistinct", "Two or more batch entries in the request have the same Id.");
  return entries as Input[];
}

/** Runs each entry, reporting each as Successful or Failed, never failing the whole call for one entry. */
function eachEntry(entries: Input[], run: (entry: Input) => Output): Output {
  const Successful: Output[] = [];
  const Failed: Output[] = [];
  for (const entry of entries) {
    try {
      Successful.push({ Id: entry.Id, ...run(entry) });
    } catch (error) {
      if (!(error instanceof SqsError)) throw error;
      Failed.push({ Id: entry.Id, SenderFault: true, Code: error.type, Message: error.message });
    }
  }
  return { Successful, Failed };
}

function sendMessageBatch(state: Server, input: Input, { request }: { request: http.IncomingMessage }): Output {
  const queue = queueOf(state, input);
  const entries = batchEntries(input);
  const limit = integerAttribute(queue, "MaximumMessageSize");
  const total = entries.reduce((sum, entry) => sum + messageSize(String(entry.MessageBody ?? ""), (entry.MessageAttributes ?? {}) as MessageAttributes), 0);
  if (total > limit) throw new SqsError("BatchRequestTooLong", `Batch requests cannot be longer than ${limit} bytes; this one has ${total}.`);
  const senderId = senderIdOf(state, request);
  const result = eachEntry(entries, (entry) => sendResult(enqueue(queue, parseSend(queue, entry), senderId)));
  notifyQueue(state, queue.name);
  return result;
}

// ---- receiving ----

interface ReceiveRequest {
  readonly queue: Queue;
  readonly max: number;
  readonly visibilityTimeout: number;
  readonly waitSeconds: number;
  readonly systemAttributes: Set<SystemAttributeName>;
  readonly messageAttributeNames: string[] | undefined;
}

function parseReceive(state: Server, input: Input): ReceiveRequest {
  const queue = queueOf(state, input);
  return {
    queue,
    // https://docs.aws.amazon.com/AWSSimpleQueueService/latest/APIReference/API_ReceiveMessage.html: 1 to 10, default 1;
    // WaitTimeSeconds 0 to 20, the queue's ReceiveMessageWaitTimeSeconds when absent.
    max: optionalInteger(input, "MaxNumberOfMessages", 1, 10) ?? 1,
    visibilityTimeout: optionalInteger(input, "VisibilityTimeout", 0, 43_200) ?? integerAttribute(queue, "VisibilityTimeout"),
    waitSeconds: optionalInteger(input, "WaitTimeSeconds", 0, 20) ?? integerAttribute(queue, "ReceiveMessageWaitTimeSeconds"),
    systemAttributes: requestedSystemAttributes(optionalStringList(input, "MessageSystemAttributeNames"), optionalStringList(input, "AttributeNames")),
    messageAttributeNames: optionalStringList(input, "MessageAttributeNames"),
  };
}

function systemAttributesOf(message: StoredMessage, wanted: Set<SystemAttributeName>): Record<string, string> {
  const all: Record<SystemAttributeName, string> = {
    ApproximateReceiveCount: String(message.receiveCount),
    ApproximateFirstReceiveTimestamp: String(message.firstReceivedAt ?? ""),
    SentTimestamp: String(message.sentAt),
    SenderId: message.senderId,
  };
  return Object.fromEntries([...wanted].map((name) => [name, all[name]]));
}

/**
 * A received message on the wire. MD5OfMessageAttributes is the digest of the attributes
 * as sent, the value SendMessage answered (not verified against AWS for a partial
 * MessageAttributeNames selection; the SDK checks only MD5OfBody on receive).
 */
function wireMessage(message: StoredMessage, request: ReceiveRequest): Output {
  const attributes = systemAttributesOf(message, request.systemAttributes);
  const messageAttributes = selectMessageAttributes(message.messageAttributes, request.messageAttributeNames);
  return {
    MessageId: message.messageId,
    ReceiptHandle: message.currentReceipt,
    MD5OfBody: message.md5OfBody,
    Body: message.body,
    ...(Object.keys(attributes).length > 0 ? { Attributes: attributes } : {}),
    ...(Object.keys(messageAttributes).length > 0 ? { MessageAttributes: messageAttributes, MD5OfMessageAttributes: message.md5OfMessageAttributes } : {}),
  };
}

/** Receives now; returns undefined when nothing was visible. */
function tryReceive(state: Server, request: ReceiveRequest): Output | undefined {
  const { received, deadLettered } = receiveMessages(request.queue, request.max, request.visibilityTimeout, Date.now(), findByArn(state));
  for (const deadLetterQueue of deadLettered) notifyQueue(state, deadLetterQueue.name);
  return received.length > 0 ? { Messages: received.map((message) => wireMessage(message, request)) } : undefined;
}

/**
 * ReceiveMessage. With WaitTimeSeconds > 0 it is a long poll that "returns as soon as a
 * message is available" or when the wait ends with none; it waits on sends (notifyQueue)
 * and on a timer set to the next moment a hidden message becomes visible.
 * https://docs.aws.amazon.com/AWSSimpleQueueService/latest/SQSDeveloperGuide/sqs-short-and-long-polling.html
 */
function receiveMessage(state: Server, input: Input, { response }: { response: http.ServerResponse }): Output | Promise<Output> {
  const request = parseReceive(state, input);
  const now = tryReceive(state, request);
  if (now || request.waitSeconds === 0 || state.stopping) return now ?? {};
  return new Promise<Output>((resolve) => {
    const deadline = Date.now() + request.waitSeconds * 1000;
    let timer: NodeJS.Timeout | undefined;
    const finish = (output: Output) => {
      if (timer) clearTimeout(timer);
      state.waiters.delete(poll);
      response.off("close", onClientGone);
      resolve(output);
    };
    const armTimer = () => {
      if (timer) clearTimeout(timer);
      const nextVisible = nextVisibleAt(request.queue, Date.now());
      const wakeAt = nextVisible === undefined ? deadline : Math.min(deadline, nextVisible);
      timer = setTimeout(() => poll.wake(), Math.max(0, wakeAt - Date.now()));
    };
    const poll: LongPoll = {
      queueName: request.queue.name,
      wake: () => {
        if (state.queues.get(request.queue.name) !== request.queue) return finish({});
        const received = tryReceive(state, request);
        if (received) return finish(received);
        if (Date.now() >= deadline) return finish({});
        armTimer();
      },
      end: () => finish({}),
      cancel: () => finish({}),
    };
    // A client that gave up must not have messages received (and hidden) on its behalf.
    const onClientGone = () => poll.cancel();
    response.on("close", onClientGone);
    state.waiters.add(poll);
    armTimer();
  });
}

// ---- deleting and visibility ----

function deleteOne(state: Server, input: Input): Output {
  deleteMessage(queueOf(state, input), input.ReceiptHandle);
  return {};
}

/**
 * Deletes exactly the listed messages, each reported on its own.
 * https://docs.aws.amazon.com/AWSSimpleQueueService/latest/APIReference/API_DeleteMessageBatch.html
 */
function deleteMessageBatch(state: Server, input: Input): Output {
  const queue = queueOf(state, input);
  return eachEntry(batchEntries(input), (entry) => {
    deleteMessage(queue, entry.ReceiptHandle);
    return {};
  });
}

function changeMessageVisibility(state: Server, input: Input): Output {
  const queue = queueOf(state, input);
  const timeout = optionalInteger(input, "VisibilityTimeout", 0, 43_200);
  if (timeout === undefined) throw new SqsError("MissingParameter", "The request must contain the parameter VisibilityTimeout.");
  changeVisibility(queue, input.ReceiptHandle, timeout, Date.now());
  notifyQueue(state, queue.name);
  return {};
}
