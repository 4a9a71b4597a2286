/**
 * The SQS loop. One message at a time per task (scaling is by tasks, on the backlog), so a
 * shutdown has at most one manifest in hand:
 * - long-poll ReceiveMessage (WaitTimeSeconds up to 20) with this service's own
 *   VisibilityTimeout, and extend it every `heartbeatSeconds` while the manifest is being
 *   applied (ChangeMessageVisibility), so a slow manifest is not handed to a second task;
 * - DeleteMessage only after the commit;
 * - a failure leaves the message on the queue: its visibility is set to a backoff that
 *   grows with ApproximateReceiveCount, the reason is logged on every receive, and after the
 *   queue's maxReceiveCount the redrive policy moves it to the DLQ
 *   (https://docs.aws.amazon.com/AWSSimpleQueueService/latest/SQSDeveloperGuide/sqs-dead-letter-queues.html);
 * - stop(): no new receive (the long poll is aborted), the manifest in hand gets
 *   `shutdownMs` to finish; past that it is aborted (its transaction rolls back) and the
 *   message is released with ChangeMessageVisibility 0, so another task takes it at once.
 *   A message that arrives as the poll is aborted stays invisible until its visibility
 *   timeout ends, then is delivered again: late, never lost.
 */
import {
  ChangeMessageVisibilityCommand,
  DeleteMessageCommand,
  Message,
  ReceiveMessageCommand,
  SQSClient,
} from "@aws-sdk/client-sqs";
import type { Logger } from "../../shared/log";
import { errorFields } from "../../shared/log";
import { withRetries } from "./retry";

export interface PollerOptions {
  /** Long-poll wait per ReceiveMessage, 0–20. @default 20 */
  readonly waitTimeSeconds?: number;
  /** Visibility of a received message, renewed by the heartbeat. @default 60 */
  readonly visibilitySeconds?: number;
  /** @default a third of visibilitySeconds */
  readonly heartbeatSeconds?: number;
  /** Visibility after a failed attempt: base × 2^(receives − 1), at most maxRetryDelaySeconds. @default 10 */
  readonly retryBaseSeconds?: number;
  /** @default 300 */
  readonly maxRetryDelaySeconds?: number;
  /** How long a stop waits for the manifest in hand. @default 20000 (ECS stopTimeout defaults to 30 s) */
  readonly shutdownMs?: number;
  /** The loop is unhealthy when it made no progress (a receive answered, a heartbeat landed) for this long. @default 3 × max(wait, visibility) s */
  readonly livenessMs?: number;
}

export interface PollerDeps {
  readonly sqs: SQSClient;
  readonly queueUrl: string;
  readonly log: Logger;
  /** Applies one message; throws to leave it for redelivery. Must stop soon after `signal` aborts. */
  readonly process: (body: string, signal: AbortSignal) => Promise<unknown>;
  readonly options?: PollerOptions;
}

export interface Poller {
  /** Resolves when the loop has ended after stop(). */
  readonly done: Promise<void>;
  stop(): Promise<void>;
  healthy(): boolean;
}

const sleep = (ms: number, signal: AbortSignal) =>
  new Promise<void>((resolve) => {
    const timer = setTimeout(resolve, ms);
    signal.addEventListener("abort", () => (clearTimeout(timer), resolve()), { once: true });
  });

/** Visibility after the n-th failed receive. */
export function retryDelaySeconds(receiveCount: number, baseSeconds: number, maxSeconds: number): number {
  return Math.min(maxSeconds, baseSeconds * 2 ** Math.max(0, receiveCount - 1));
}

export function startPoller(deps: PollerDeps): Poller {
  const options = deps.options ?? {};
  const waitTimeSeconds = options.waitTimeSeconds ?? 20;
  const visibilitySeconds = options.visibilitySeconds ?? 60;
  const heartbeatMs = (options.heartbeatSeconds ?? visibilitySeconds / 3) * 1000;
  const retryBaseSeconds = options.retryBaseSeconds ?? 10;
  const maxRetryDelaySeconds = options.maxRetryDelaySeconds ?? 300;
  const shutdownMs = options.shutdownMs ?? 20_000;
  const livenessMs = options.livenessMs ?? 3_000 * Math.max(waitTimeSeconds, visibilitySeconds);
  const { sqs, queueUrl, log } = deps;

  const stopping = new AbortController();
  let lastProgress = Date.now();
  const progress = () => void (lastProgress = Date.now());
  let onStopWhileWorking: (() => void) | undefined;

  const setVisibility = (message: Message, seconds: number) =>
    sqs.send(new ChangeMessageVisibilityCommand({ QueueUrl: queueUrl, ReceiptHandle: message.ReceiptHandle, VisibilityTimeout: seconds }));

  const release = async (message: Message, why: string) => {
    try {
      await withRetries(() => setVisibility(message, 0), { attempts: 3 });
      log.warn("Message released for another task", { messageId: message.MessageId, why });
    } catch (error) {
      log.error("Message could not be released; it returns when its visibility timeout ends", { messageId: message.MessageId, why, ...errorFields(error) });
    }
  };

  async function handle(message: Message): Promise<void> {
    const messageId = message.MessageId;
    const receiveCount = Number(message.Attributes?.ApproximateReceiveCount ?? 1);
    const work = new AbortController();
    let deadline: NodeJS.Timeout | undefined;
    const startDeadline = () => {
      log.info("Stopping: finishing the manifest in hand", { messageId, deadlineMs: shutdownMs });
      deadline = setTimeout(() => work.abort(), shutdownMs);
    };
    onStopWhileWorking = startDeadline;
    const heartbeat = setInterval(() => {
      setVisibility(message, visibilitySeconds).then(progress, (error) =>
        log.warn("Heartbeat failed: the message may be delivered again (applying twice is harmless)", { messageId, ...errorFields(error) }),
      );
    }, heartbeatMs);
    let failure: unknown;
    let succeeded = false;
    try {
      await deps.process(message.Body ?? "", work.signal);
      succeeded = true;
    } catch (error) {
      failure = error;
    } finally {
      clearInterval(heartbeat);
      clearTimeout(deadline);
      onStopWhileWorking = undefined;
      progress();
    }
    if (succeeded) {
      try {
        await withRetries(() => sqs.send(new DeleteMessageCommand({ QueueUrl: queueUrl, ReceiptHandle: message.ReceiptHandle })));
        log.info("Message done and deleted", { messageId });
      } catch (error) {
        log.error("Message applied but not deleted: it will be delivered again and skipped as already applied", { messageId, ...errorFields(error) });
      }
    } else if (work.signal.aborted) {
      await release(message, `the shutdown deadline (${shutdownMs} ms) passed before the manifest committed; nothing of it was written`);
    } else {
      const retryInSeconds = retryDelaySeconds(receiveCount, retryBaseSeconds, maxRetryDelaySeconds);
      log.error("Message failed: it stays on the queue and is delivered again; after the queue's maxReceiveCount the redrive moves it to the dead-letter queue", {
        messageId,
        receiveCount,
        retryInSeconds,
        ...errorFields(failure),
      });
      await setVisibility(message, retryInSeconds).catch((error) =>
        log.warn("Could not shorten the failed message's visibility; it returns when its visibility timeout ends", { messageId, ...errorFields(error) }),
      );
    }
  }

  async function loop(): Promise<void> {
    while (!stopping.signal.aborted) {
      let messages: Message[];
      try {
        const answer = await sqs.send(
          new ReceiveMessageCommand({
            QueueUrl: queueUrl,
            MaxNumberOfMessages: 1,
            WaitTimeSeconds: waitTimeSeconds,
            VisibilityTimeout: visibilitySeconds,
            MessageSystemAttributeNames: ["ApproximateReceiveCount"],
          }),
          { abortSignal: stopping.signal },
        );
        messages = answer.Messages ?? [];
        progress();
      } catch (error) {
        if (stopping.signal.aborted) break;
        log.error("ReceiveMessage failed; polling again shortly", errorFields(error));
        await sleep(1_000, stopping.signal);
        continue;
      }
      for (const message of messages) {
        if (stopping.signal.aborted) await release(message, "received as the service was stopping");
        else await handle(message);
      }
    }
  }

  const done = loop();
  return {
    done,
    async stop() {
      if (!stopping.signal.aborted) {
        stopping.abort();
        onStopWhileWorking?.();
      }
      await done;
    },
    healthy: () => Date.now() - lastProgress < livenessMs,
  };
}
