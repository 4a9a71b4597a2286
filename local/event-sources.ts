/**
 * What Lambda's pollers, Firehose and S3 do with the platform's functions, on the local
 * servers (kinesalite, s3rver, the SQS server). Every source takes an `Invocable`
 * (local/function-host.ts: a hosted shipped function, or any stub with that shape) and
 * the SDK client of its server, and exposes `stats`, `idle()` and `stop()`.
 *
 * Exports:
 *   startKinesisMapping(options: KinesisMappingOptions): Promise<RunningSource<KinesisMappingStats>>
 *   startSqsMapping(options: SqsMappingOptions): RunningSource<SqsMappingStats>
 *   startFirehoseDelivery(options: FirehoseDeliveryOptions): Promise<FirehoseDelivery>   (adds flush())
 *   forwardS3Notifications(s3: { onEvent }, rules: S3NotificationRule[], options?): RunningSource<S3ForwardingStats>
 *   pure helpers: kinesisEventOf, judgeStreamBatch, nextBatchStep, kinesisBatchInfo,
 *   sqsEventRecordOf, judgeQueueBatch, firehoseObjectKey, s3EventKey, s3NotificationMessage, matchesRule
 *
 * `idle()` resolves once the source has caught up with its server as it stood when idle()
 * was called and nothing is in flight. A record that keeps failing with unlimited retries
 * (maximumRetryAttempts -1) keeps its shard busy, as on AWS, so idle() then waits.
 */
import {
  DeleteMessageBatchCommand,
  Message,
  MessageAttributeValue,
  ReceiveMessageCommand,
  SQSClient,
} from "@aws-sdk/client-sqs";
import { GetRecordsCommand, GetShardIteratorCommand, KinesisClient, ListShardsCommand, ShardIteratorType, _Record } from "@aws-sdk/client-kinesis";
import { PutObjectCommand, S3Client } from "@aws-sdk/client-s3";
import type {
  FirehoseTransformationEvent,
  FirehoseTransformationEventRecord,
  KinesisStreamEvent,
  S3Event,
  S3EventRecord,
  SQSMessageAttributes,
  SQSRecord,
} from "aws-lambda";
import { randomUUID } from "crypto";
import { gzipSync } from "zlib";
import type { RuntimeErrorResponse } from "./lambda-runtime";
import type { Invocable, InvocationOutcome } from "./function-host";
import type { S3rverEventRecord } from "./servers";

export interface RunningSource<S> {
  readonly stats: Readonly<S>;
  /** Resolves once everything on the server when it was called has been handled and nothing is in flight. */
  idle(): Promise<void>;
  /** Stops polling and waits for the invocation in flight, if any. */
  stop(): Promise<void>;
}

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/** The region and account of an ARN, for the ARNs a local source makes up for itself. */
function arnParts(arn: string): { region: string; account: string } {
  const [, , , region = "us-east-1", account = "000000000000"] = arn.split(":");
  return { region, account };
}

/** An invocation that could not happen at all (e.g. the function was stopped) fails like one that ran and threw. */
async function invokeSafely(fn: Invocable, event: unknown): Promise<InvocationOutcome> {
  try {
    return await fn.invoke(event);
  } catch (error) {
    return { ok: false, requestId: randomUUID(), error: { errorType: "Local.InvokeFailed", errorMessage: String((error as Error)?.message ?? error), trace: [] } };
  }
}

const functionArnOf = (fn: Invocable, sourceArn: string) => {
  const { region, account } = arnParts(sourceArn);
  return `arn:aws:lambda:${region}:${account}:function:${fn.name}`;
};

/**
 * Promises that resolve once a source is idle; `check()` re-evaluates them after every
 * step of the source. Each waiter knows the poll generation it was created in, so
 * "caught up" means a poll that started after idle() was called found nothing new.
 */
class IdleWaiters {
  generation = 0;
  private waiters: { since: number; resolve: () => void }[] = [];
  constructor(private readonly isIdleSince: (generation: number) => boolean) {}
  wait(): Promise<void> {
    return new Promise((resolve) => {
      this.waiters.push({ since: ++this.generation, resolve });
      this.check();
    });
  }
  check(): void {
    this.waiters = this.waiters.filter((waiter) => (this.isIdleSince(waiter.since) ? (waiter.resolve(), false) : true));
  }
  releaseAll(): void {
    this.waiters.forEach((waiter) => waiter.resolve());
    this.waiters = [];
  }
}

// ---- Kinesis event source mapping -------------------------------------------------------

export interface KinesisMappingOptions {
  readonly kinesis: KinesisClient;
  readonly streamName: string;
  readonly streamArn: string;
  readonly fn: Invocable;
  /** Records per invocation at most (Lambda: 1–10000). */
  readonly batchSize: number;
  /** MaximumBatchingWindowInSeconds: wait this long for a full batch. @default 0 */
  readonly batchWindowSeconds?: number;
  readonly startingPosition: "TRIM_HORIZON" | "LATEST";
  /** Retries of a failed batch before it goes to onFailure; -1 retries until the record expires. */
  readonly maximumRetryAttempts: number;
  readonly bisectBatchOnFunctionError: boolean;
  /** FunctionResponseTypes ["ReportBatchItemFailures"]: without it a response's batchItemFailures are ignored. */
  readonly reportBatchItemFailures: boolean;
  /** The on-failure destination: receives what Lambda sends it (KinesisOnFailureRecord). @default drops it */
  readonly onFailure?: (record: KinesisOnFailureRecord) => void | Promise<void>;
  /** Lambda polls each shard about once a second. @default 1000 */
  readonly pollIntervalMs?: number;
  /** @default arn:aws:lambda:<stream's region>:<stream's account>:function:<fn.name> */
  readonly functionArn?: string;
}

export interface KinesisMappingStats {
  invocations: number;
  /** Records checkpointed as processed (not counting those sent to onFailure). */
  recordsDelivered: number;
  /** Invocations of a batch (or its remainder) that had failed before; bisected halves are not retries. */
  retries: number;
  bisections: number;
  batchesSentToOnFailure: number;
  pollErrors: number;
}

/** KinesisBatchInfo of an on-failure record (https://docs.aws.amazon.com/lambda/latest/dg/kinesis-on-failure-destination.html). */
export interface KinesisBatchInfo {
  readonly shardId: string;
  readonly startSequenceNumber: string;
  readonly endSequenceNumber: string;
  readonly approximateArrivalOfFirstRecord: string;
  readonly approximateArrivalOfLastRecord: string;
  readonly batchSize: number;
  readonly streamArn: string;
}

/**
 * The invocation record Lambda sends an on-failure destination for a stream batch: the
 * batch's shard and sequence range, not its data (the example in
 * https://docs.aws.amazon.com/lambda/latest/dg/kinesis-on-failure-destination.html).
 */
export interface KinesisOnFailureRecord {
  readonly requestContext: { requestId: string; functionArn: string; condition: "RetryAttemptsExhausted"; approximateInvokeCount: number };
  readonly responseContext: { statusCode: number; executedVersion: string; functionError?: string };
  readonly version: "1.0";
  readonly timestamp: string;
  readonly KinesisBatchInfo: KinesisBatchInfo;
}

export interface ShardRecord {
  readonly shardId: string;
  readonly record: _Record;
}

const INVOKE_IDENTITY_ARN = "arn:aws:iam::123456789012:role/test";

/** The event Lambda's Kinesis poller builds: records in sequence order, eventID shardId:sequenceNumber, data base64. */
export function kinesisEventOf(records: readonly ShardRecord[], streamArn: string, invokeIdentityArn = INVOKE_IDENTITY_ARN): KinesisStreamEvent {
  const { region } = arnParts(streamArn);
  return {
    Records: records.map(({ shardId, record }) => ({
      awsRegion: region,
      eventID: `${shardId}:${record.SequenceNumber}`,
      eventName: "aws:kinesis:record",
      eventSource: "aws:kinesis",
      eventSourceARN: streamArn,
      eventVersion: "1.0",
      invokeIdentityArn,
      kinesis: {
        kinesisSchemaVersion: "1.0",
        partitionKey: record.PartitionKey!,
        sequenceNumber: record.SequenceNumber!,
        data: Buffer.from(record.Data!).toString("base64"),
        approximateArrivalTimestamp: (record.ApproximateArrivalTimestamp ?? new Date()).getTime() / 1000,
      },
    })),
  };
}

export type BatchVerdict = { readonly kind: "succeeded" } | { readonly kind: "partial"; readonly firstFailedIndex: number } | { readonly kind: "failed" };

/**
 * How Lambda reads a stream function's answer
 * (https://docs.aws.amazon.com/lambda/latest/dg/services-kinesis-batchfailurereporting.html):
 * an error fails the batch; with ReportBatchItemFailures, a null/empty response or list is
 * a success, a list of sequence numbers checkpoints before the lowest of them, and an
 * itemIdentifier that is empty, null or not in the batch fails the whole batch.
 */
export function judgeStreamBatch(outcome: InvocationOutcome, sequenceNumbers: readonly string[], reportBatchItemFailures: boolean): BatchVerdict {
  if (!outcome.ok) return { kind: "failed" };
  if (!reportBatchItemFailures) return { kind: "succeeded" };
  const failures = (outcome.result as { batchItemFailures?: unknown } | null | undefined)?.batchItemFailures;
  if (failures === undefined || failures === null) return { kind: "succeeded" };
  if (!Array.isArray(failures)) return { kind: "failed" };
  if (failures.length === 0) return { kind: "succeeded" };
  const indexes = failures.map((failure) => sequenceNumbers.indexOf((failure as { itemIdentifier?: unknown } | null)?.itemIdentifier as string));
  if (indexes.some((index) => index < 0)) return { kind: "failed" };
  return { kind: "partial", firstFailedIndex: Math.min(...indexes) };
}

/** A batch still to be invoked: the first `size` unprocessed records of its shard, and how often it was retried. */
export interface BatchPlan {
  readonly size: number;
  readonly attempts: number;
}

export interface BatchStep {
  /** Records from the front that are done (the checkpoint moves past them). */
  readonly delivered: number;
  /** The records after those that go to onFailure, retries exhausted. */
  readonly discarded: number;
  /** Batches to invoke next, in order, covering the records that follow. */
  readonly retry: BatchPlan[];
}

/**
 * Lambda's stream retry rules, as a pure step. A partial failure checkpoints before the
 * lowest failed record and retries the rest of the batch (with bisect on, "the batch is
 * split at the returned sequence number and Lambda retries only the remaining records",
 * services-kinesis-batchfailurereporting.html). A failed invocation with
 * BisectBatchOnFunctionError splits the batch in two, which "does not count towards the
 * retry quota" (kinesis-on-failure-destination.html); a batch of one, or any batch
 * without bisect, is retried. Past MaximumRetryAttempts retries (-1: no limit) the
 * records go to the on-failure destination and the shard moves on.
 */
export function nextBatchStep(verdict: BatchVerdict, plan: BatchPlan, rules: { maximumRetryAttempts: number; bisectBatchOnFunctionError: boolean }): BatchStep {
  const mayRetry = rules.maximumRetryAttempts < 0 || plan.attempts < rules.maximumRetryAttempts;
  const retryOrDiscard = (delivered: number): BatchStep => {
    const remaining = plan.size - delivered;
    return mayRetry ? { delivered, discarded: 0, retry: [{ size: remaining, attempts: plan.attempts + 1 }] } : { delivered, discarded: remaining, retry: [] };
  };
  switch (verdict.kind) {
    case "succeeded":
      return { delivered: plan.size, discarded: 0, retry: [] };
    case "partial":
      return retryOrDiscard(verdict.firstFailedIndex);
    case "failed": {
      if (rules.bisectBatchOnFunctionError && plan.size > 1) {
        const firstHalf = Math.ceil(plan.size / 2);
        return { delivered: 0, discarded: 0, retry: [{ size: firstHalf, attempts: plan.attempts }, { size: plan.size - firstHalf, attempts: plan.attempts }] };
      }
      return retryOrDiscard(0);
    }
  }
}

export function kinesisBatchInfo(shardId: string, records: readonly _Record[], streamArn: string): KinesisBatchInfo {
  const arrival = (record: _Record) => (record.ApproximateArrivalTimestamp ?? new Date()).toISOString();
  const [first, last] = [records[0], records[records.length - 1]];
  return {
    shardId,
    startSequenceNumber: first.SequenceNumber!,
    endSequenceNumber: last.SequenceNumber!,
    approximateArrivalOfFirstRecord: arrival(first),
    approximateArrivalOfLastRecord: arrival(last),
    batchSize: records.length,
    streamArn,
  };
}

interface ShardPoller {
  readonly shardId: string;
  iterator: string | undefined;
  /** Fetched and not yet checkpointed, in sequence order. */
  records: _Record[];
  /** Pending retries and bisected halves, covering a prefix of `records`. */
  plans: BatchPlan[];
  lastFetchedSequence?: string;
  /** The generation of the last poll that found the shard drained, with nothing to deliver. */
  caughtUpGeneration: number;
  bufferingSince?: number;
}

/** A shard iterator where the shard's reading stands: after the last fetched record, else the starting position. */
async function shardIterator(kinesis: KinesisClient, streamName: string, shardId: string, startingPosition: ShardIteratorType, after?: string): Promise<string | undefined> {
  const { ShardIterator } = await kinesis.send(new GetShardIteratorCommand(
    after === undefined
      ? { StreamName: streamName, ShardId: shardId, ShardIteratorType: startingPosition }
      : { StreamName: streamName, ShardId: shardId, ShardIteratorType: "AFTER_SEQUENCE_NUMBER", StartingSequenceNumber: after },
  ));
  return ShardIterator;
}

/** Appends what GetRecords returns to the shard's buffer; false when it found nothing new. */
async function fetchRecords(kinesis: KinesisClient, streamName: string, shard: ShardPoller, startingPosition: ShardIteratorType): Promise<boolean> {
  if (shard.iterator === undefined) return false;
  try {
    const { Records = [], NextShardIterator } = await kinesis.send(new GetRecordsCommand({ ShardIterator: shard.iterator, Limit: 10_000 }));
    shard.iterator = NextShardIterator;
    shard.records.push(...Records);
    if (Records.length > 0) shard.lastFetchedSequence = Records[Records.length - 1].SequenceNumber;
    return Records.length > 0;
  } catch (error) {
    // Iterators expire after 5 minutes: take a new one where the reading stands.
    if ((error as Error).name === "ExpiredIteratorException") {
      shard.iterator = await shardIterator(kinesis, streamName, shard.shardId, startingPosition, shard.lastFetchedSequence);
    }
    throw error;
  }
}

/**
 * One poller per shard (ListShards, GetShardIterator, GetRecords), each delivering one
 * batch at a time in sequence order, as a Kinesis mapping with ParallelizationFactor 1.
 * Not mirrored: resharding (child shards are not followed), ParallelizationFactor above 1,
 * MaximumRecordAgeInSeconds, tumbling windows, filter criteria, the 6 MB payload limit,
 * and Lambda's retry back-off (retries here follow at once).
 */
export async function startKinesisMapping(options: KinesisMappingOptions): Promise<RunningSource<KinesisMappingStats>> {
  const { kinesis, streamName, streamArn, fn } = options;
  const pollIntervalMs = options.pollIntervalMs ?? 1000;
  const windowMs = (options.batchWindowSeconds ?? 0) * 1000;
  const functionArn = options.functionArn ?? functionArnOf(fn, streamArn);
  const stats: KinesisMappingStats = { invocations: 0, recordsDelivered: 0, retries: 0, bisections: 0, batchesSentToOnFailure: 0, pollErrors: 0 };
  let inFlight = 0;
  let stopped = false;

  const { Shards = [] } = await kinesis.send(new ListShardsCommand({ StreamName: streamName }));
  const shards: ShardPoller[] = await Promise.all(Shards.map(async (shard) => ({
    shardId: shard.ShardId!,
    iterator: await shardIterator(kinesis, streamName, shard.ShardId!, options.startingPosition),
    records: [],
    plans: [],
    caughtUpGeneration: -1,
  })));
  const waiters = new IdleWaiters((since) => inFlight === 0 && shards.every((shard) => shard.caughtUpGeneration >= since));

  const sendToOnFailure = async (shard: ShardPoller, records: _Record[], plan: BatchPlan, outcome: InvocationOutcome) => {
    stats.batchesSentToOnFailure++;
    await options.onFailure?.({
      requestContext: { requestId: outcome.requestId, functionArn, condition: "RetryAttemptsExhausted", approximateInvokeCount: plan.attempts + 1 },
      responseContext: { statusCode: 200, executedVersion: "$LATEST", ...(outcome.ok ? {} : { functionError: "Unhandled" }) },
      version: "1.0",
      timestamp: new Date().toISOString(),
      KinesisBatchInfo: kinesisBatchInfo(shard.shardId, records, streamArn),
    });
  };

  const deliverNextBatch = async (shard: ShardPoller) => {
    const plan = shard.plans.shift() ?? { size: Math.min(options.batchSize, shard.records.length), attempts: 0 };
    const batch = shard.records.slice(0, plan.size);
    if (plan.attempts > 0) stats.retries++;
    stats.invocations++;
    inFlight++;
    const outcome = await invokeSafely(fn, kinesisEventOf(batch.map((record) => ({ shardId: shard.shardId, record })), streamArn));
    inFlight--;
    const verdict = judgeStreamBatch(outcome, batch.map((record) => record.SequenceNumber!), options.reportBatchItemFailures);
    const step = nextBatchStep(verdict, plan, options);
    if (step.retry.length === 2) stats.bisections++;
    stats.recordsDelivered += step.delivered;
    if (step.discarded > 0) await sendToOnFailure(shard, batch.slice(step.delivered, step.delivered + step.discarded), plan, outcome);
    shard.records.splice(0, step.delivered + step.discarded);
    shard.plans.unshift(...step.retry);
  };

  const pollShard = async (shard: ShardPoller) => {
    while (!stopped) {
      const generation = waiters.generation;
      try {
        if (shard.records.length < options.batchSize) await fetchRecords(kinesis, streamName, shard, options.startingPosition);
      } catch {
        stats.pollErrors++;
        await sleep(pollIntervalMs);
        continue;
      }
      if (stopped) break;
      if (shard.records.length === 0) {
        shard.caughtUpGeneration = generation;
        shard.bufferingSince = undefined;
        waiters.check();
        await sleep(pollIntervalMs);
        continue;
      }
      shard.bufferingSince ??= Date.now();
      const windowOpen = shard.plans.length === 0 && shard.records.length < options.batchSize && Date.now() - shard.bufferingSince < windowMs;
      if (windowOpen) {
        await sleep(Math.min(pollIntervalMs, windowMs));
        continue;
      }
      await deliverNextBatch(shard);
      if (shard.records.length === 0) shard.bufferingSince = undefined;
    }
  };
  const pollers = shards.map(pollShard);

  return {
    stats,
    idle: () => waiters.wait(),
    async stop() {
      stopped = true;
      await Promise.all(pollers);
      waiters.releaseAll();
    },
  };
}

// ---- SQS event source mapping ------------------------------------------------------------

export interface SqsMappingOptions {
  readonly sqs: SQSClient;
  readonly queueUrl: string;
  readonly queueArn: string;
  readonly fn: Invocable;
  /** Messages per invocation at most (Lambda: 1–10000; ReceiveMessage returns at most 10, so larger batches take several receives). */
  readonly batchSize: number;
  readonly reportBatchItemFailures: boolean;
  /** Long polling, as Lambda's SQS poller does. @default 20 */
  readonly waitTimeSeconds?: number;
}

export interface SqsMappingStats {
  invocations: number;
  messagesReceived: number;
  messagesDeleted: number;
  /** Messages left on the queue to come back after their visibility timeout. */
  messagesReturned: number;
  pollErrors: number;
}

/** SQS message attributes as the SDK returns them → as Lambda's SQS event spells them. */
function lambdaMessageAttributes(attributes: Record<string, MessageAttributeValue> = {}): SQSMessageAttributes {
  return Object.fromEntries(Object.entries(attributes).map(([name, value]) => [name, {
    dataType: value.DataType!,
    ...(value.StringValue !== undefined ? { stringValue: value.StringValue } : {}),
    ...(value.BinaryValue !== undefined ? { binaryValue: Buffer.from(value.BinaryValue).toString("base64") } : {}),
    stringListValues: value.StringListValues ?? [],
    binaryListValues: (value.BinaryListValues ?? []).map((binary) => Buffer.from(binary).toString("base64")),
  }]));
}

/** One record of the event Lambda builds from received messages (https://docs.aws.amazon.com/lambda/latest/dg/with-sqs.html, example event). */
export function sqsEventRecordOf(message: Message, queueArn: string): SQSRecord {
  return {
    messageId: message.MessageId!,
    receiptHandle: message.ReceiptHandle!,
    body: message.Body ?? "",
    attributes: message.Attributes as unknown as SQSRecord["attributes"],
    messageAttributes: lambdaMessageAttributes(message.MessageAttributes),
    md5OfBody: message.MD5OfBody!,
    ...(message.MD5OfMessageAttributes !== undefined ? { md5OfMessageAttributes: message.MD5OfMessageAttributes } : {}),
    eventSource: "aws:sqs",
    eventSourceARN: queueArn,
    awsRegion: arnParts(queueArn).region,
  };
}

/**
 * Which received messages an SQS mapping deletes after an invocation
 * (https://docs.aws.amazon.com/lambda/latest/dg/services-sqs-errorhandling.html): none when
 * it failed; with ReportBatchItemFailures all but the listed message ids, and none when an
 * itemIdentifier is empty, null or not a message of the batch (the whole batch failed);
 * all of them when nothing is listed or partial responses are off.
 */
export function judgeQueueBatch(outcome: InvocationOutcome, messageIds: readonly string[], reportBatchItemFailures: boolean): Set<string> {
  if (!outcome.ok) return new Set();
  const failures = reportBatchItemFailures ? (outcome.result as { batchItemFailures?: unknown } | null | undefined)?.batchItemFailures : undefined;
  if (failures === undefined || failures === null) return new Set(messageIds);
  if (!Array.isArray(failures)) return new Set();
  const failed = failures.map((failure) => (failure as { itemIdentifier?: unknown } | null)?.itemIdentifier);
  if (failed.some((id) => typeof id !== "string" || !messageIds.includes(id))) return new Set();
  return new Set(messageIds.filter((id) => !failed.includes(id)));
}

const SQS_RECEIVE_LIMIT = 10;
const SQS_DELETE_LIMIT = 10;

/**
 * Long-polls ReceiveMessage with every system and message attribute, invokes `fn` with the
 * SQS event, deletes the messages that succeeded and leaves the others to reappear after
 * their visibility timeout (and reach the queue's DLQ through its redrive policy, which is
 * the queue's business, not the mapping's). One poller: Lambda scales SQS pollers out, so
 * concurrency is not mirrored, nor the batching window, filter criteria or maximum
 * concurrency. idle() counts only visible messages: a failed one waiting out its
 * visibility timeout does not keep the mapping busy.
 */
export function startSqsMapping(options: SqsMappingOptions): RunningSource<SqsMappingStats> {
  const { sqs, queueUrl, queueArn, fn } = options;
  const stats: SqsMappingStats = { invocations: 0, messagesReceived: 0, messagesDeleted: 0, messagesReturned: 0, pollErrors: 0 };
  const abort = new AbortController();
  let caughtUpGeneration = -1;
  let inFlight = false;
  let stopped = false;
  const waiters = new IdleWaiters((since) => !inFlight && caughtUpGeneration >= since);

  const receive = async (max: number): Promise<Message[]> => {
    const { Messages = [] } = await sqs.send(new ReceiveMessageCommand({
      QueueUrl: queueUrl,
      MaxNumberOfMessages: Math.min(SQS_RECEIVE_LIMIT, max),
      WaitTimeSeconds: options.waitTimeSeconds ?? 20,
      MessageSystemAttributeNames: ["All"],
      MessageAttributeNames: ["All"],
    }), { abortSignal: abort.signal });
    return Messages;
  };

  /** Up to batchSize messages: receives until the batch is full or a receive comes back empty. */
  const receiveBatch = async (): Promise<Message[]> => {
    const batch: Message[] = [];
    while (batch.length < options.batchSize) {
      const messages = await receive(options.batchSize - batch.length);
      batch.push(...messages);
      if (messages.length === 0) break;
    }
    return batch;
  };

  const deleteMessages = async (messages: Message[]) => {
    for (let i = 0; i < messages.length; i += SQS_DELETE_LIMIT) {
      const entries = messages.slice(i, i + SQS_DELETE_LIMIT).map((message, index) => ({ Id: String(index), ReceiptHandle: message.ReceiptHandle! }));
      await sqs.send(new DeleteMessageBatchCommand({ QueueUrl: queueUrl, Entries: entries }));
    }
  };

  const poll = async () => {
    while (!stopped) {
      const generation = waiters.generation;
      let batch: Message[];
      try {
        batch = await receiveBatch();
      } catch {
        if (stopped) break;
        stats.pollErrors++;
        await sleep(1000);
        continue;
      }
      if (batch.length === 0) {
        caughtUpGeneration = generation;
        waiters.check();
        // Short polling answers at once: pause so an empty queue is not asked in a tight loop.
        if ((options.waitTimeSeconds ?? 20) === 0) await sleep(100);
        continue;
      }
      inFlight = true;
      stats.messagesReceived += batch.length;
      stats.invocations++;
      const outcome = await invokeSafely(fn, { Records: batch.map((message) => sqsEventRecordOf(message, queueArn)) });
      const succeeded = judgeQueueBatch(outcome, batch.map((message) => message.MessageId!), options.reportBatchItemFailures);
      const toDelete = batch.filter((message) => succeeded.has(message.MessageId!));
      try {
        await deleteMessages(toDelete);
        stats.messagesDeleted += toDelete.length;
      } catch {
        stats.pollErrors++;
      }
      stats.messagesReturned += batch.length - toDelete.length;
      inFlight = false;
    }
  };
  const poller = poll();

  return {
    stats,
    idle: () => waiters.wait(),
    async stop() {
      stopped = true;
      abort.abort();
      await poller;
      waiters.releaseAll();
    },
  };
}

// ---- Firehose delivery (Kinesis source, S3 destination, Lambda transformation) -----------

export interface FirehoseDeliveryOptions {
  readonly kinesis: KinesisClient;
  readonly streamName: string;
  readonly streamArn: string;
  readonly s3: S3Client;
  readonly bucket: string;
  /** The object prefix for a buffer whose oldest record arrived at `arrival`. */
  readonly prefix: (arrival: Date) => string;
  /** The error output prefix: a string gets `<error-output-type>/` appended; a function receives the type. */
  readonly onErrorPrefix: string | ((errorOutputType: "processing-failed", arrival: Date) => string);
  /** The record-transformation function. @default none: records are delivered as they are */
  readonly transform?: Invocable;
  /** Deliver once this many records are buffered (Firehose buffers by MB: a local stand-in). */
  readonly bufferRecords: number;
  /** Deliver once the oldest buffered record has waited this long. */
  readonly bufferSeconds: number;
  /** Firehose retries a failed transformation invocation 3 times by default. @default 3 */
  readonly transformRetries?: number;
  /** @default `${streamName}-firehose` */
  readonly deliveryStreamName?: string;
  /** Appended to object keys (the component sets ".json.gz"). @default ".gz" */
  readonly fileExtension?: string;
  /**
   * Where reading starts. Firehose is understood to start a Kinesis source at LATEST when the
   * delivery stream is created (not confirmed in the docs searched); TRIM_HORIZON replays the stream.
   * @default "LATEST"
   */
  readonly startingPosition?: "TRIM_HORIZON" | "LATEST";
  /** @default 250 */
  readonly pollIntervalMs?: number;
}

export interface FirehoseDeliveryStats {
  recordsRead: number;
  transformInvocations: number;
  recordsOk: number;
  recordsDropped: number;
  recordsProcessingFailed: number;
  objectsWritten: number;
  errorObjectsWritten: number;
  /** Deliveries that failed to write and went back to the buffer. */
  deliveryErrors: number;
  pollErrors: number;
}

export interface FirehoseDelivery extends RunningSource<FirehoseDeliveryStats> {
  /** Delivers whatever is buffered now. */
  flush(): Promise<void>;
}

interface BufferedRecord {
  readonly shardId: string;
  readonly record: _Record;
}

/** `<prefix>DeliveryStreamName-DeliveryStreamVersion-YYYY-MM-DD-HH-MM-SS-RandomString`, Firehose's S3 object name (https://docs.aws.amazon.com/firehose/latest/dev/s3-object-name.html). */
export function firehoseObjectKey(prefix: string, deliveryStreamName: string, written: Date, fileExtension: string, random = randomUUID()): string {
  const stamp = written.toISOString().slice(0, 19).replace(/[T:]/g, "-");
  return `${prefix}${deliveryStreamName}-1-${stamp}-${random}${fileExtension}`;
}

/** The event Firehose sends its record-transformation function (https://docs.aws.amazon.com/firehose/latest/dev/data-transformation.html). */
function firehoseTransformationEvent(records: readonly BufferedRecord[], recordIds: readonly string[], deliveryStreamArn: string, streamArn: string): FirehoseTransformationEvent {
  return {
    invocationId: randomUUID(),
    deliveryStreamArn,
    sourceKinesisStreamArn: streamArn,
    region: arnParts(streamArn).region,
    records: records.map(({ shardId, record }, index): FirehoseTransformationEventRecord => {
      const arrival = (record.ApproximateArrivalTimestamp ?? new Date()).getTime();
      return {
        recordId: recordIds[index],
        approximateArrivalTimestamp: arrival,
        data: Buffer.from(record.Data!).toString("base64"),
        kinesisRecordMetadata: { shardId, partitionKey: record.PartitionKey!, sequenceNumber: record.SequenceNumber!, subsequenceNumber: 0 as unknown as string, approximateArrivalTimestamp: arrival },
      };
    }),
  };
}

type TransformResult = "Ok" | "Dropped" | "ProcessingFailed";
interface RecordVerdict {
  readonly result: TransformResult;
  /** The data to write (Ok) or the error to report (ProcessingFailed). */
  readonly data?: Buffer;
  readonly errorCode?: string;
  readonly errorMessage?: string;
}

/**
 * Per record, what Firehose makes of a transformation response
 * (https://docs.aws.amazon.com/firehose/latest/dev/data-transformation-status-model.html):
 * Ok and Dropped are processed; ProcessingFailed, and a record whose recordId is missing
 * from the response or whose result is not one of the three, are failures.
 */
function judgeTransformation(result: unknown, recordIds: readonly string[]): RecordVerdict[] {
  const returned = new Map<string, { result?: unknown; data?: unknown }>();
  for (const record of (result as { records?: unknown[] } | null)?.records ?? []) {
    const { recordId } = (record ?? {}) as { recordId?: unknown };
    if (typeof recordId === "string") returned.set(recordId, record as { result?: unknown; data?: unknown });
  }
  return recordIds.map((recordId) => {
    const record = returned.get(recordId);
    if (record === undefined) return { result: "ProcessingFailed", errorCode: "Lambda.MissingRecordId", errorMessage: `No record with recordId ${recordId} in the response` };
    if (record.result === "Dropped") return { result: "Dropped" };
    if (record.result === "Ok" && typeof record.data === "string") return { result: "Ok", data: Buffer.from(record.data, "base64") };
    if (record.result === "ProcessingFailed") return { result: "ProcessingFailed", errorCode: "Lambda.ProcessingFailedStatus", errorMessage: "The transformation returned ProcessingFailed for the record" };
    return { result: "ProcessingFailed", errorCode: "Lambda.InvalidResponse", errorMessage: `Result ${JSON.stringify(record.result)} with data of type ${typeof record.data}` };
  });
}

/**
 * Reads the stream as its own consumer (one reader per shard), buffers records until
 * `bufferRecords` or `bufferSeconds`, passes each buffer through the transformation, and
 * writes the Ok records as ONE GZIP object, their data concatenated with no delimiter
 * added (Firehose adds none; https://docs.aws.amazon.com/firehose/latest/dev/basic-deliver.html),
 * under the partition prefix of the buffer's oldest record. A failed invocation is
 * retried `transformRetries` times; then, like ProcessingFailed records, its records go
 * to `<errorPrefix>processing-failed/…` as one JSON line each (attemptsMade,
 * arrivalTimestamp, errorCode, errorMessage, attemptEndingTimestamp, rawData, lambdaArn:
 * https://docs.aws.amazon.com/firehose/latest/dev/data-transformation-failure-handling.html),
 * GZIP-compressed like the data. Not mirrored: buffering by size, the transformation's own
 * buffer (one invocation per delivery buffer here), S3 write retries and the 6 MB
 * invocation limit. The errorCode names other than the documented statuses are this
 * module's own.
 */
export async function startFirehoseDelivery(options: FirehoseDeliveryOptions): Promise<FirehoseDelivery> {
  const { kinesis, streamName, streamArn, s3, bucket } = options;
  const { region, account } = arnParts(streamArn);
  const deliveryStreamName = options.deliveryStreamName ?? `${streamName}-firehose`;
  const deliveryStreamArn = `arn:aws:firehose:${region}:${account}:deliverystream/${deliveryStreamName}`;
  const fileExtension = options.fileExtension ?? ".gz";
  const pollIntervalMs = options.pollIntervalMs ?? 250;
  const startingPosition = options.startingPosition ?? "LATEST";
  const transformArn = options.transform ? `${functionArnOf(options.transform, streamArn)}:$LATEST` : undefined;
  const stats: FirehoseDeliveryStats = { recordsRead: 0, transformInvocations: 0, recordsOk: 0, recordsDropped: 0, recordsProcessingFailed: 0, objectsWritten: 0, errorObjectsWritten: 0, deliveryErrors: 0, pollErrors: 0 };
  let buffer: BufferedRecord[] = [];
  let bufferStartedAt: number | undefined;
  let delivering: Promise<void> = Promise.resolve();
  let deliveriesInFlight = 0;
  let stopped = false;

  const { Shards = [] } = await kinesis.send(new ListShardsCommand({ StreamName: streamName }));
  const shards: ShardPoller[] = await Promise.all(Shards.map(async (shard) => ({
    shardId: shard.ShardId!,
    iterator: await shardIterator(kinesis, streamName, shard.ShardId!, startingPosition),
    records: [],
    plans: [],
    caughtUpGeneration: -1,
  })));
  const waiters = new IdleWaiters((since) => deliveriesInFlight === 0 && buffer.length === 0 && shards.every((shard) => shard.caughtUpGeneration >= since));

  const errorPrefix = (arrival: Date) =>
    typeof options.onErrorPrefix === "string" ? `${options.onErrorPrefix}processing-failed/` : options.onErrorPrefix("processing-failed", arrival);

  const put = (key: string, lines: Buffer[]) =>
    s3.send(new PutObjectCommand({ Bucket: bucket, Key: key, Body: gzipSync(Buffer.concat(lines)), ContentEncoding: "gzip" }));

  const transformed = async (records: BufferedRecord[]): Promise<{ verdicts: RecordVerdict[]; attemptsMade: number }> => {
    const recordIds = records.map(({ shardId, record }) => `${shardId}-${record.SequenceNumber}`);
    if (!options.transform) return { verdicts: records.map(({ record }) => ({ result: "Ok", data: Buffer.from(record.Data!) })), attemptsMade: 0 };
    const attempts = 1 + (options.transformRetries ?? 3);
    let lastError: RuntimeErrorResponse | undefined;
    for (let attempt = 1; attempt <= attempts; attempt++) {
      stats.transformInvocations++;
      const outcome = await invokeSafely(options.transform, firehoseTransformationEvent(records, recordIds, deliveryStreamArn, streamArn));
      if (outcome.ok) return { verdicts: judgeTransformation(outcome.result, recordIds), attemptsMade: attempt };
      lastError = outcome.error;
    }
    const failed: RecordVerdict = { result: "ProcessingFailed", errorCode: "Lambda.FunctionError", errorMessage: `${lastError?.errorType}: ${lastError?.errorMessage}` };
    return { verdicts: records.map(() => failed), attemptsMade: attempts };
  };

  const deliver = async (records: BufferedRecord[]) => {
    const arrivalOf = ({ record }: BufferedRecord) => record.ApproximateArrivalTimestamp ?? new Date();
    const oldest = new Date(Math.min(...records.map((record) => arrivalOf(record).getTime())));
    const { verdicts, attemptsMade } = await transformed(records);
    const ok = verdicts.flatMap((verdict) => (verdict.result === "Ok" ? [verdict.data!] : []));
    const failedLines = verdicts.flatMap((verdict, index) => verdict.result !== "ProcessingFailed" ? [] : [Buffer.from(`${JSON.stringify({
      attemptsMade,
      arrivalTimestamp: arrivalOf(records[index]).getTime(),
      errorCode: verdict.errorCode,
      errorMessage: verdict.errorMessage,
      attemptEndingTimestamp: Date.now(),
      rawData: Buffer.from(records[index].record.Data!).toString("base64"),
      lambdaArn: transformArn,
    })}\n`)]);
    stats.recordsOk += ok.length;
    stats.recordsDropped += verdicts.filter((verdict) => verdict.result === "Dropped").length;
    stats.recordsProcessingFailed += failedLines.length;
    if (ok.length > 0) {
      await put(firehoseObjectKey(options.prefix(oldest), deliveryStreamName, new Date(), fileExtension), ok);
      stats.objectsWritten++;
    }
    if (failedLines.length > 0) {
      await put(firehoseObjectKey(errorPrefix(oldest), deliveryStreamName, new Date(), fileExtension), failedLines);
      stats.errorObjectsWritten++;
    }
  };

  /** Hands the buffer to the (serial) delivery chain; resolves when it is written. */
  const flush = (): Promise<void> => {
    if (buffer.length === 0) return delivering;
    const records = buffer;
    buffer = [];
    deliveriesInFlight++;
    // A failed write loses nothing: the records go back to the front of the buffer for the next delivery
    // (Firehose retries S3 writes for up to 24 hours; here the transformation runs again too).
    const requeue = () => {
      stats.deliveryErrors++;
      buffer.unshift(...records);
      bufferStartedAt ??= Date.now();
    };
    delivering = delivering.then(() => deliver(records)).catch(requeue).finally(() => {
      deliveriesInFlight--;
      waiters.check();
    });
    return delivering;
  };

  const readShard = async (shard: ShardPoller) => {
    while (!stopped) {
      const generation = waiters.generation;
      let found: boolean;
      try {
        found = await fetchRecords(kinesis, streamName, shard, startingPosition);
      } catch {
        stats.pollErrors++;
        await sleep(pollIntervalMs);
        continue;
      }
      const fetched = shard.records.splice(0);
      stats.recordsRead += fetched.length;
      if (fetched.length > 0) bufferStartedAt ??= Date.now();
      buffer.push(...fetched.map((record) => ({ shardId: shard.shardId, record })));
      if (buffer.length >= options.bufferRecords || (bufferStartedAt !== undefined && Date.now() - bufferStartedAt >= options.bufferSeconds * 1000)) {
        bufferStartedAt = undefined;
        void flush();
      }
      if (!found) {
        shard.caughtUpGeneration = generation;
        waiters.check();
        await sleep(pollIntervalMs);
      }
    }
  };
  const readers = shards.map(readShard);

  return {
    stats,
    flush: () => {
      bufferStartedAt = undefined;
      return flush();
    },
    idle: () => waiters.wait(),
    async stop() {
      stopped = true;
      await Promise.all(readers);
      await delivering;
      waiters.releaseAll();
    },
  };
}

// ---- S3 event notifications → Lambda (asynchronous invocation) ---------------------------

export type S3EventType = "ObjectCreated:*" | "ObjectCreated:Put" | "ObjectCreated:Post" | "ObjectCreated:Copy" | "ObjectRemoved:*" | "ObjectRemoved:Delete";

export interface S3NotificationRule {
  readonly bucket: string;
  readonly prefix?: string;
  readonly suffix?: string;
  /** As a bucket notification lists them, with or without the "s3:" prefix. */
  readonly events: readonly (S3EventType | `s3:${S3EventType}`)[];
  readonly fn: Invocable;
  /** @default `${fn.name}-notification` */
  readonly id?: string;
}

/**
 * The record Lambda sends an asynchronous invocation's on-failure destination
 * (https://docs.aws.amazon.com/lambda/latest/dg/invocation-async-retain-records.html).
 */
export interface AsyncOnFailureRecord {
  readonly version: "1.0";
  readonly timestamp: string;
  readonly requestContext: { requestId: string; functionArn: string; condition: "RetriesExhausted"; approximateInvokeCount: number };
  readonly requestPayload: S3Event;
  readonly responseContext: { statusCode: number; executedVersion: string; functionError: "Unhandled" };
  readonly responsePayload: RuntimeErrorResponse;
}

export interface S3ForwardingOptions {
  /** Lambda retries a failed asynchronous invocation twice by default (0–2). @default 2 */
  readonly maximumRetryAttempts?: number;
  /** Lambda waits 1 minute, then 2, between retries; locally the wait is short. @default 1000 */
  readonly retryDelayMs?: number;
  /** The function's on-failure destination. @default drops the record */
  readonly onFailure?: (record: AsyncOnFailureRecord) => void | Promise<void>;
  /** @default "us-east-1" (s3rver's) */
  readonly region?: string;
}

export interface S3ForwardingStats {
  notifications: number;
  invocations: number;
  retries: number;
  sentToOnFailure: number;
}

/**
 * A key as S3 writes it into an event notification: URL-encoded with spaces as "+"
 * ("red flower.jpg" becomes "red+flower.jpg",
 * https://docs.aws.amazon.com/AmazonS3/latest/userguide/notification-content-structure.html),
 * "/" kept. encodeURIComponent leaves !'()* alone, which S3 may encode: not verified.
 */
export function s3EventKey(key: string): string {
  return key.split("/").map((segment) => encodeURIComponent(segment).replace(/%20/g, "+")).join("/");
}

export function matchesRule(rule: S3NotificationRule, bucket: string, key: string, eventName: string): boolean {
  const wanted = rule.events.map((event) => event.replace(/^s3:/, ""));
  const eventMatches = wanted.some((event) => event === eventName || (event.endsWith(":*") && eventName.startsWith(event.slice(0, -1))));
  return rule.bucket === bucket && eventMatches && key.startsWith(rule.prefix ?? "") && key.endsWith(rule.suffix ?? "");
}

let sequencerCounter = 0;
/** S3's sequencer is a hex string that orders events of one key; a clock plus a counter keeps that locally. */
const nextSequencer = () => `${Date.now().toString(16)}${(sequencerCounter++ % 0x1000000).toString(16).padStart(6, "0")}`.toUpperCase();

/** The message S3 sends a function for one s3rver event record (notification-content-structure.html, eventVersion 2.1). */
export function s3NotificationMessage(record: S3rverEventRecord, configurationId: string, region: string): S3Event {
  const { object, bucket } = record.s3;
  const message: S3EventRecord = {
    eventVersion: "2.1",
    eventSource: "aws:s3",
    awsRegion: region,
    eventTime: record.eventTime,
    eventName: record.eventName,
    userIdentity: record.userIdentity,
    requestParameters: record.requestParameters,
    responseElements: record.responseElements,
    s3: {
      s3SchemaVersion: "1.0",
      configurationId,
      bucket: { name: bucket.name, ownerIdentity: bucket.ownerIdentity, arn: `arn:aws:s3:::${bucket.name}` },
      object: {
        key: s3EventKey(object.key),
        size: object.size ?? 0,
        eTag: object.eTag ?? "",
        sequencer: nextSequencer(),
      },
    },
  };
  // S3 omits size and eTag from delete events.
  if (record.eventName.startsWith("ObjectRemoved")) {
    delete (message.s3.object as Partial<S3EventRecord["s3"]["object"]>).size;
    delete (message.s3.object as Partial<S3EventRecord["s3"]["object"]>).eTag;
  }
  return { Records: [message] };
}

/**
 * Turns s3rver's events into the notifications a bucket's configuration sends, filtered by
 * prefix and suffix, and invokes each rule's function asynchronously: S3 → Lambda is an
 * asynchronous invocation (https://docs.aws.amazon.com/lambda/latest/dg/with-s3.html), so
 * a failed one is retried `maximumRetryAttempts` times and then handed to `onFailure`
 * (https://docs.aws.amazon.com/lambda/latest/dg/invocation-async-error-handling.html).
 * Not mirrored: overlapping rules (S3 refuses them; here each matching rule fires), the
 * 1 and 2 minute retry delays, maximum event age, and Lambda's async concurrency (each
 * function's invocations run one at a time, in the environment's queue).
 */
export function forwardS3Notifications(s3: { onEvent(listener: (record: S3rverEventRecord) => void): void }, rules: readonly S3NotificationRule[], options: S3ForwardingOptions = {}): RunningSource<S3ForwardingStats> {
  const maximumRetryAttempts = options.maximumRetryAttempts ?? 2;
  const region = options.region ?? "us-east-1";
  const stats: S3ForwardingStats = { notifications: 0, invocations: 0, retries: 0, sentToOnFailure: 0 };
  let pending = 0;
  let stopped = false;
  const waiters = new IdleWaiters(() => pending === 0);

  const invokeAsync = async (rule: S3NotificationRule, event: S3Event) => {
    let outcome: InvocationOutcome | undefined;
    for (let attempt = 0; attempt <= maximumRetryAttempts && !stopped; attempt++) {
      if (attempt > 0) {
        stats.retries++;
        await sleep(options.retryDelayMs ?? 1000);
      }
      stats.invocations++;
      outcome = await invokeSafely(rule.fn, event);
      if (outcome.ok) return;
    }
    if (outcome === undefined || outcome.ok) return;
    stats.sentToOnFailure++;
    await options.onFailure?.({
      version: "1.0",
      timestamp: new Date().toISOString(),
      requestContext: { requestId: outcome.requestId, functionArn: `arn:aws:lambda:${region}:000000000000:function:${rule.fn.name}`, condition: "RetriesExhausted", approximateInvokeCount: maximumRetryAttempts + 1 },
      requestPayload: event,
      responseContext: { statusCode: 200, executedVersion: "$LATEST", functionError: "Unhandled" },
      responsePayload: outcome.error,
    });
  };

  s3.onEvent((record) => {
    if (stopped) return;
    for (const rule of rules) {
      if (!matchesRule(rule, record.s3.bucket.name, record.s3.object.key, record.eventName)) continue;
      stats.notifications++;
      pending++;
      void invokeAsync(rule, s3NotificationMessage(record, rule.id ?? `${rule.fn.name}-notification`, region))
        .catch(() => undefined)
        .finally(() => {
          pending--;
          waiters.check();
        });
    }
  });

  return {
    stats,
    idle: () => waiters.wait(),
    async stop() {
      stopped = true;
      await waiters.wait();
    },
  };
}
